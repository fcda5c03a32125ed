/* topo_hwloc.c - topology discovery with hwloc 2.x (the only file that
 * includes hwloc.h).
 *
 * Cores are HWLOC_OBJ_CORE objects; a machine (or a saved XML topology) that
 * reports none falls back to its PUs.  Memory is the root object's
 * total_memory.  GPUs are OS devices of type GPU or CoProc: I/O objects are
 * filtered out by default, so they are turned on before the load.  When
 * HWLOC_XMLFILE is set, hwloc itself loads that file instead of probing the
 * machine (tests use it to emulate a bigger node).
 */
#include <errno.h>
#include <string.h>

#include <hwloc.h>

#include "adapters/topo/topo.h"

static int count_type (hwloc_topology_t topo, hwloc_obj_type_t type)
{
    int n = hwloc_get_nbobjs_by_type (topo, type);
    return n < 0 ? 0 : n;       /* -1: objects at several depths (not for these types) */
}

static int count_gpus (hwloc_topology_t topo)
{
    int n = 0;
    for (hwloc_obj_t o = hwloc_get_next_osdev (topo, NULL); o; o = hwloc_get_next_osdev (topo, o))
        if (o->attr && (o->attr->osdev.type == HWLOC_OBJ_OSDEV_GPU
                        || o->attr->osdev.type == HWLOC_OBJ_OSDEV_COPROC))
            n++;
    return n;
}

int topo_discover (fs_topo_t *t, fs_error_t *err)
{
    hwloc_topology_t topo;
    memset (t, 0, sizeof (*t));
    if (hwloc_topology_init (&topo) < 0)
        return errprintf (err, FS_EFAIL, "hwloc: cannot initialise a topology: %s",
                          strerror (errno));
    /* Keep the I/O objects that matter (GPUs hang below PCI devices). */
    hwloc_topology_set_io_types_filter (topo, HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
    if (hwloc_topology_load (topo) < 0) {
        int e = errno;
        hwloc_topology_destroy (topo);
        return errprintf (err, FS_EFAIL, "hwloc: cannot discover the topology: %s "
                          "(check HWLOC_XMLFILE if it is set)", strerror (e));
    }
    t->pus = count_type (topo, HWLOC_OBJ_PU);
    t->cores = count_type (topo, HWLOC_OBJ_CORE);
    if (t->cores == 0)
        t->cores = t->pus;
    t->numa_nodes = count_type (topo, HWLOC_OBJ_NUMANODE);
    if (t->numa_nodes == 0)
        t->numa_nodes = 1;
    hwloc_obj_t root = hwloc_get_root_obj (topo);
    t->memory = root ? root->total_memory : 0;
    t->gpus = count_gpus (topo);
    hwloc_topology_destroy (topo);
    if (t->cores <= 0)
        return errprintf (err, FS_EFAIL, "hwloc: the topology has no cores or processing "
                          "units; set 'cores:' in site.yaml");
    return 0;
}
