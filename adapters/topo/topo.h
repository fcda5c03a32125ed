/* topo.h - what a site has: cores, NUMA nodes, memory, GPUs (hwloc behind it,
 * in adapters/topo/hwloc/, the only module that includes hwloc.h). */
#ifndef FS_TOPO_H
#define FS_TOPO_H

#include <stdint.h>

#include "common/error.h"

typedef struct {
    int cores;          /* physical cores */
    int pus;            /* hardware threads */
    int numa_nodes;
    uint64_t memory;    /* bytes */
    int gpus;           /* OS devices of GPU/CoProc kind */
} fs_topo_t;

/* Discover this machine (HWLOC_XMLFILE in the environment is honoured). */
int topo_discover (fs_topo_t *t, fs_error_t *err);

#endif
