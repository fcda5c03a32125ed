/* read.c - libfedsched: reading slices (see fedsched.h).
 *
 * fs_read_open checks the slice (syntax, then against the catalog's shape)
 * and the reduction before any byte moves, and keeps the replicas the
 * catalog named; the transfer is workers/fetch.c, into the caller's buffer
 * (fetch_slice_mem) or into a new HDF5 file (fetch_slice).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/dtype.h"
#include "common/names.h"
#include "common/slice.h"
#include "lib_int.h"
#include "workers/fetch.h"

struct fs_read {
    struct fs_client *c;
    char name[FS_NAME_MAX + 1];
    fs_sel_t sel;
    fs_reduce_t red;
    json_t *replicas;
    int ndims;
    uint64_t shape[FS_MAXDIMS];
    fs_dtype_t dtype;
    uint64_t bytes;
    fs_progress_f progress;
    void *progress_arg;
    struct fetch_result res;
    bool done;
};

FS_PUBLIC struct fs_read *fs_read_open (struct fs_client *c, const char *slice, const char *reduce,
                                        struct fs_error **err)
{
    fs_error_t e = { 0 };
    fs_slice_t sl;
    struct fs_read *r = calloc (1, sizeof (*r));
    if (!r) {
        lib_fail (err, FS_EFAIL, "out of memory");
        return NULL;
    }
    r->c = c;
    if (!slice || slice_parse (slice, &sl, &e) < 0 || (reduce && reduce_parse (reduce, &r->red, &e) < 0)) {
        if (!slice)
            errprintf (&e, FS_EINVAL, "no slice given");
        goto fail;
    }
    snprintf (r->name, sizeof (r->name), "%s", sl.name);
    /* The catalog: the shape for the slice, the replicas for the transfer. */
    json_t *l = lib_call (c, "catalog.lookup", json_pack ("{s:s}", "name", sl.name), -1, err);
    if (!l) {
        free (r);
        return NULL;
    }
    json_t *ds = json_object_get (l, "dataset");
    json_t *jshape = json_object_get (ds, "shape");
    uint64_t shape[FS_MAXDIMS];
    int nd = (int)json_array_size (jshape);
    fs_dtype_t sdt = dtype_parse (json_string_value (json_object_get (ds, "dtype")));
    for (int d = 0; d < nd && d < FS_MAXDIMS; d++)
        shape[d] = (uint64_t)json_integer_value (json_array_get (jshape, (size_t)d));
    r->replicas = json_incref (json_object_get (ds, "replicas"));
    json_decref (l);
    if (nd > FS_MAXDIMS || sdt == FS_DT_INVALID) {
        errprintf (&e, FS_EFAIL, "the catalog's entry for '%s' can't be read", sl.name);
        goto fail;
    }
    if (slice_resolve (&sl, nd, shape, &r->sel, &e) < 0) {
        errprefix (&e, "%s", slice);
        goto fail;
    }
    if (r->red.op != RED_NONE) {
        if ((r->ndims = reduce_out_shape (&r->sel, &r->red, r->shape, &e)) < 0) {
            errprefix (&e, "%s", slice);
            goto fail;
        }
        r->dtype = r->red.op == RED_MEAN || r->red.op == RED_SUM ? FS_DT_FLOAT64 : sdt;
    } else {
        r->ndims = sel_out_shape (&r->sel, r->shape);
        r->dtype = sdt;
    }
    r->bytes = dtype_size (r->dtype);
    for (int d = 0; d < r->ndims; d++)
        r->bytes *= r->shape[d];
    return r;
fail:
    lib_fail_e (err, &e);
    fs_read_close (r);
    return NULL;
}

FS_PUBLIC void fs_read_close (struct fs_read *r)
{
    if (!r)
        return;
    json_decref (r->replicas);
    free (r);
}

FS_PUBLIC int fs_read_ndims (const struct fs_read *r)
{
    return r ? r->ndims : -1;
}

FS_PUBLIC const uint64_t *fs_read_shape (const struct fs_read *r)
{
    return r ? r->shape : NULL;
}

FS_PUBLIC const char *fs_read_dtype (const struct fs_read *r)
{
    return r ? dtype_name (r->dtype) : NULL;
}

FS_PUBLIC uint64_t fs_read_bytes (const struct fs_read *r)
{
    return r ? r->bytes : 0;
}

FS_PUBLIC void fs_read_progress (struct fs_read *r, fs_progress_f cb, void *arg)
{
    if (r) {
        r->progress = cb;
        r->progress_arg = arg;
    }
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23          /* Linux 5.14 */
#endif
#define POPULATE_MIN (8u << 20)

/* Make the pages of a large buffer resident and writable in one call each
 * MiB range, before the bytes arrive: a fresh NumPy array is untouched memory,
 * and taking its 4 KiB pages one fault at a time as the pieces land costs
 * more than reading them (on this project's machines, 0.2 to 3 s per GiB
 * against 0.1 s populated).  The pages would become resident anyway, so the
 * peak memory is the same.  Kernels without MADV_POPULATE_WRITE say EINVAL,
 * and the pages are taken as the bytes land. */
static void populate (void *buf, size_t size)
{
    if (size < POPULATE_MIN)
        return;
    long pg = sysconf (_SC_PAGESIZE);
    uintptr_t a = ((uintptr_t)buf + (uintptr_t)pg - 1) & ~((uintptr_t)pg - 1);
    uintptr_t end = ((uintptr_t)buf + size) & ~((uintptr_t)pg - 1);
    if (end > a)
        (void)madvise ((void *)a, end - a, MADV_POPULATE_WRITE);
}

FS_PUBLIC int fs_read_into (struct fs_read *r, void *buf, size_t size, struct fs_error **err)
{
    if (!r)
        return lib_fail (err, FS_EINVAL, "fs_read_into: no read");
    if (size != r->bytes)
        return lib_failf (err, FS_EINVAL, "fs_read_into: the buffer holds %zu bytes, the result "
                          "%llu", size, (unsigned long long)r->bytes);
    if (!buf && size)
        return lib_fail (err, FS_EINVAL, "fs_read_into: no buffer");
    fs_error_t e = { 0 };
    r->done = false;
    populate (buf, size);
    if (fetch_slice_mem (&r->c->co, r->name, &r->sel, &r->red, r->replicas, r->dtype, buf, size,
                         r->progress, r->progress_arg, &r->res, &e) < 0)
        return lib_fail_e (err, &e);
    r->done = true;
    return 0;
}

FS_PUBLIC int fs_read_to_file (struct fs_read *r, const char *file, const char *dset,
                               struct fs_error **err)
{
    if (!r || !file || !*file)
        return lib_fail (err, FS_EINVAL, "fs_read_to_file: a read and a file name are needed");
    fs_error_t e = { 0 };
    char defpath[FS_NAME_MAX + 2];
    if (!dset) {
        const char *last = strrchr (r->name, '/');
        snprintf (defpath, sizeof (defpath), "/%s", last ? last + 1 : r->name);
        dset = defpath;
    } else if (dset[0] != '/' || name_valid (dset + 1, NULL) < 0) {
        return lib_failf (err, FS_EINVAL, "dataset path '%s' must be an absolute HDF5 path like "
                          "/grp/x of [A-Za-z0-9._-] components", dset);
    }
    r->done = false;
    if (fetch_slice (&r->c->co, r->name, &r->sel, &r->red, r->replicas, file, dset, r->progress,
                     r->progress_arg, &r->res, &e) < 0)
        return lib_fail_e (err, &e);
    r->done = true;
    return 0;
}

FS_PUBLIC char *fs_read_report (const struct fs_read *r)
{
    if (!r)
        return NULL;
    return lib_text (json_pack ("{s:s, s:s, s:I, s:I, s:f, s:I, s:o}", "name", r->name, "site",
                                r->res.site, "bytes", (json_int_t)r->res.bytes, "local_bytes",
                                (json_int_t)r->res.local_bytes, "seconds", r->res.seconds,
                                "suppressed", (json_int_t)r->res.suppressed, "suppress_below",
                                r->res.suppress_below ? json_integer ((json_int_t)r->res.suppress_below)
                                                      : json_null ()),
                     NULL);
}
