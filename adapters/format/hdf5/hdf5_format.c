/* hdf5_format.c - the hdf5 data-format adapter (adapters/format/format.h).
 *
 * The only module of the product that includes hdf5.h.  Built against the
 * serial, thread-safe HDF5: the library takes one global lock per call, so
 * several threads may use these functions, one HDF5 call at a time.
 *
 * Errors: HDF5's own error printing is switched off (format_init, and again
 * in every thread that calls us: in a thread-safe build the error stack and
 * its automatic printing are per thread).  Every failure becomes an
 * fs_error_t naming the file and the dataset, with the innermost message of
 * HDF5's error stack (the place where the library first saw the problem).
 *
 * Links: only hard links are followed by format_scan (H5Ovisit2 visits each
 * object once, through hard links).  Opening a dataset by path refuses to
 * traverse external links (a link access list with an external-link callback
 * that says no), so a file under a data root can never make a site read a
 * file outside it.  Soft links inside the file are fine.  Virtual datasets
 * and datasets with external raw storage are skipped for the same reason.
 *
 * Reads: format_src keeps the file, the dataset and a native memory type
 * open.  A read selects one hyperslab (stride NULL when every step is 1, so
 * HDF5 sees plain contiguous runs) and reads into a 1-D memory space of the
 * selection's size: with the file type equal to the native type (the usual
 * little-endian case) HDF5 reads straight into the caller's buffer, with no
 * conversion buffer, and a contiguous read of whole rows runs at the speed
 * of the page cache.  Chunked datasets get a chunk cache sized to hold one
 * band of chunks across the dataset (capped at SRC_CACHE_MAX), so reading a
 * selection in row pieces does not decompress each chunk once per piece.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <hdf5.h>

#include "adapters/format/format.h"
#include "hdf5_int.h"

#define SRC_CACHE_MAX (32u << 20)       /* chunk cache per open dataset, bytes */
#define SRC_CACHE_MIN (1u << 20)        /* HDF5's default */
#define XFER_BUFFER (4u << 20)          /* type-conversion buffer (byte swapping) */

#define SUPPORTED_TYPES "v1: int8..int64, uint8..uint64, float32, float64"

/* ---- errors ---- */

static _Thread_local bool thread_quiet;

/* Per thread: HDF5 keeps the automatic error printing in the thread's stack. */
void h5_quiet (void)
{
    if (!thread_quiet) {
        H5Eset_auto2 (H5E_DEFAULT, NULL, NULL);
        thread_quiet = true;
    }
}

void format_init (void)
{
    H5open ();
    thread_quiet = false;
    h5_quiet ();
}


static herr_t walk_innermost (unsigned n, const H5E_error2_t *e, void *arg)
{
    struct h5_msg *m = arg;
    (void)n;
    if (m->found)
        return 0;
    m->found = true;
    if (e->desc && e->desc[0]) {
        snprintf (m->text, sizeof (m->text), "%s", e->desc);
    } else {
        char min[256] = "";
        if (H5Eget_msg (e->min_num, NULL, min, sizeof (min)) > 0)
            snprintf (m->text, sizeof (m->text), "%s", min);
    }
    return 0;
}

/* The innermost message on this thread's HDF5 error stack (walking upward
 * starts where the error was detected); clears the stack. */
const char *h5_error (struct h5_msg *m)
{
    m->found = false;
    snprintf (m->text, sizeof (m->text), "unknown HDF5 error");
    H5Ewalk2 (H5E_DEFAULT, H5E_WALK_UPWARD, walk_innermost, m);
    H5Eclear2 (H5E_DEFAULT);
    return m->text;
}

/* Fail with "FILE[:DSET]: WHAT: <innermost HDF5 message>". */
int h5_fail (fs_error_t *err, const char *file, const char *dset, const char *what)
{
    struct h5_msg m;
    h5_error (&m);
    return errprintf (err, FS_EFAIL, "%s%s%s: %s: %s", file, dset ? ":" : "", dset ? dset : "",
                      what, m.text);
}

/* ---- links ---- */


static herr_t elink_refuse (const char *parent_file, const char *parent_group,
                            const char *child_file, const char *child_object, unsigned *acc_flags,
                            hid_t fapl, void *arg)
{
    struct elink_guard *g = arg;
    (void)parent_file;
    (void)parent_group;
    (void)acc_flags;
    (void)fapl;
    g->refused = true;
    snprintf (g->target, sizeof (g->target), "%s:%s", child_file, child_object);
    return -1;
}

/* A dataset access list (also a link access list) that refuses external
 * links; cache_bytes > 0 sets the chunk cache. */
hid_t make_dapl (struct elink_guard *g, size_t cache_bytes, size_t cache_slots)
{
    hid_t dapl = H5Pcreate (H5P_DATASET_ACCESS);
    if (dapl < 0)
        return -1;
    if (H5Pset_elink_cb (dapl, elink_refuse, g) < 0)
        goto fail;
    if (cache_bytes > 0 && H5Pset_chunk_cache (dapl, cache_slots, cache_bytes, 1.0) < 0)
        goto fail;
    return dapl;
fail:
    H5Pclose (dapl);
    return -1;
}

/* ---- files ---- */

hid_t file_open (const char *file, fs_error_t *err)
{
    struct stat st;
    if (stat (file, &st) < 0)
        return errprintf (err, FS_EFAIL, "%s: %s", file, strerror (errno));
    if (!S_ISREG (st.st_mode))
        return errprintf (err, FS_EFAIL, "%s: not a regular file", file);
    htri_t is = H5Fis_hdf5 (file);
    if (is == 0) {
        H5Eclear2 (H5E_DEFAULT);
        return errprintf (err, FS_EFAIL, "%s: not an HDF5 file (no HDF5 signature found)", file);
    }
    if (is < 0)
        return h5_fail (err, file, NULL, "can't open as HDF5");
    hid_t fid = H5Fopen (file, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (fid < 0)
        return h5_fail (err, file, NULL, "can't open HDF5 file (corrupt or truncated?)");
    return fid;
}

int format_probe (const char *file, fs_error_t *err)
{
    h5_quiet ();
    hid_t fid = file_open (file, err);
    if (fid < 0)
        return -1;
    H5O_info_t oi;
    if (H5Oget_info2 (fid, &oi, H5O_INFO_BASIC) < 0) {
        h5_fail (err, file, NULL, "can't read the root group (corrupt file?)");
        H5Fclose (fid);
        return -1;
    }
    if (H5Fclose (fid) < 0)
        return h5_fail (err, file, NULL, "can't close");
    return 0;
}

/* ---- types and dataspaces ---- */

/* Map an HDF5 file type to a dtype; FS_DT_INVALID with why[] filled when
 * the type is not supported. */
static fs_dtype_t type_map (hid_t tid, char *why, size_t whylen)
{
    H5T_class_t cls = H5Tget_class (tid);
    size_t size = H5Tget_size (tid);
    const char *name = NULL;
    char tmp[64];

    switch (cls) {
    case H5T_INTEGER: {
        H5T_sign_t sign = H5Tget_sign (tid);
        bool s = sign == H5T_SGN_2;
        switch (size) {
        case 1: return s ? FS_DT_INT8 : FS_DT_UINT8;
        case 2: return s ? FS_DT_INT16 : FS_DT_UINT16;
        case 4: return s ? FS_DT_INT32 : FS_DT_UINT32;
        case 8: return s ? FS_DT_INT64 : FS_DT_UINT64;
        default:
            snprintf (tmp, sizeof (tmp), "integer of %zu bytes", size);
            name = tmp;
        }
        break;
    }
    case H5T_FLOAT:
        if (size == 4)
            return FS_DT_FLOAT32;
        if (size == 8)
            return FS_DT_FLOAT64;
        snprintf (tmp, sizeof (tmp), "float%zu", size * 8);
        name = tmp;
        break;
    case H5T_STRING: name = H5Tis_variable_str (tid) > 0 ? "string (variable-length)" : "string"; break;
    case H5T_COMPOUND: name = "compound"; break;
    case H5T_ENUM: {
        /* h5py stores numpy bool as an int8 enum {FALSE, TRUE}. */
        int nmemb = H5Tget_nmembers (tid);
        name = "enum";
        if (nmemb == 2 && size == 1) {
            char *m0 = H5Tget_member_name (tid, 0);
            char *m1 = H5Tget_member_name (tid, 1);
            if (m0 && m1 && strcmp (m0, "FALSE") == 0 && strcmp (m1, "TRUE") == 0)
                name = "bool (enum)";
            H5free_memory (m0);
            H5free_memory (m1);
        }
        break;
    }
    case H5T_ARRAY: name = "array"; break;
    case H5T_VLEN: name = "variable-length"; break;
    case H5T_REFERENCE: name = "reference"; break;
    case H5T_OPAQUE: name = "opaque"; break;
    case H5T_BITFIELD: name = "bitfield"; break;
    case H5T_TIME: name = "time"; break;
    default: name = "unknown"; break;
    }
    snprintf (why, whylen, "element type %s is not supported (" SUPPORTED_TYPES ")", name);
    H5Eclear2 (H5E_DEFAULT);
    return FS_DT_INVALID;
}

static hid_t native_type (fs_dtype_t t)
{
    switch (t) {
    case FS_DT_INT8: return H5T_NATIVE_INT8;
    case FS_DT_INT16: return H5T_NATIVE_INT16;
    case FS_DT_INT32: return H5T_NATIVE_INT32;
    case FS_DT_INT64: return H5T_NATIVE_INT64;
    case FS_DT_UINT8: return H5T_NATIVE_UINT8;
    case FS_DT_UINT16: return H5T_NATIVE_UINT16;
    case FS_DT_UINT32: return H5T_NATIVE_UINT32;
    case FS_DT_UINT64: return H5T_NATIVE_UINT64;
    case FS_DT_FLOAT32: return H5T_NATIVE_FLOAT;
    case FS_DT_FLOAT64: return H5T_NATIVE_DOUBLE;
    default: return -1;
    }
}

/* Little-endian standard types for files we write. */
static hid_t file_type (fs_dtype_t t)
{
    switch (t) {
    case FS_DT_INT8: return H5T_STD_I8LE;
    case FS_DT_INT16: return H5T_STD_I16LE;
    case FS_DT_INT32: return H5T_STD_I32LE;
    case FS_DT_INT64: return H5T_STD_I64LE;
    case FS_DT_UINT8: return H5T_STD_U8LE;
    case FS_DT_UINT16: return H5T_STD_U16LE;
    case FS_DT_UINT32: return H5T_STD_U32LE;
    case FS_DT_UINT64: return H5T_STD_U64LE;
    case FS_DT_FLOAT32: return H5T_IEEE_F32LE;
    case FS_DT_FLOAT64: return H5T_IEEE_F64LE;
    default: return -1;
    }
}

static const char *filter_name (H5Z_filter_t id, char *buf, size_t len)
{
    switch (id) {
    case H5Z_FILTER_DEFLATE: return "gzip";
    case H5Z_FILTER_SHUFFLE: return "shuffle";
    case H5Z_FILTER_SZIP: return "szip";
    case H5Z_FILTER_FLETCHER32: return "fletcher32";
    case H5Z_FILTER_NBIT: return "nbit";
    case H5Z_FILTER_SCALEOFFSET: return "scaleoffset";
    default: snprintf (buf, len, "filter%d", (int)id); return buf;
    }
}

/* Describe the open dataset did.  Returns 0 and fills info; 1 with why[]
 * when the dataset is not supported; -1 (HDF5 error on the stack) when its
 * header can't be read. */
int dset_describe (hid_t did, fs_dsinfo_t *info, char *why, size_t whylen)
{
    hid_t tid = -1, sid = -1, dcpl = -1;
    int rc = -1;

    memset (info, 0, sizeof (*info));
    if ((tid = H5Dget_type (did)) < 0 || (sid = H5Dget_space (did)) < 0
        || (dcpl = H5Dget_create_plist (did)) < 0)
        goto done;

    info->dtype = type_map (tid, why, whylen);
    if (info->dtype == FS_DT_INVALID) {
        rc = 1;
        goto done;
    }
    H5S_class_t scls = H5Sget_simple_extent_type (sid);
    if (scls == H5S_NULL) {
        snprintf (why, whylen, "null dataspace (the dataset holds no data)");
        rc = 1;
        goto done;
    }
    if (scls != H5S_SCALAR && scls != H5S_SIMPLE) {
        if (scls == H5S_NO_CLASS)
            goto done;
        snprintf (why, whylen, "unsupported dataspace class %d", (int)scls);
        rc = 1;
        goto done;
    }
    int ndims = H5Sget_simple_extent_ndims (sid);
    if (ndims < 0)
        goto done;
    if (ndims > FS_MAXDIMS) {
        snprintf (why, whylen, "rank %d exceeds the maximum of %d dimensions", ndims, FS_MAXDIMS);
        rc = 1;
        goto done;
    }
    info->ndims = ndims;
    hsize_t dims[FS_MAXDIMS];
    if (ndims > 0 && H5Sget_simple_extent_dims (sid, dims, NULL) < 0)
        goto done;
    for (int d = 0; d < ndims; d++)
        info->shape[d] = dims[d];

    H5D_layout_t layout = H5Pget_layout (dcpl);
    if (layout == H5D_VIRTUAL) {
        snprintf (why, whylen, "virtual dataset (maps data from other files) is not supported");
        rc = 1;
        goto done;
    }
    int next = H5Pget_external_count (dcpl);
    if (next > 0) {
        snprintf (why, whylen, "raw data stored in %d external file(s) is not supported", next);
        rc = 1;
        goto done;
    }
    if (layout == H5D_CHUNKED) {
        hsize_t cd[FS_MAXDIMS];
        int cr = H5Pget_chunk (dcpl, FS_MAXDIMS, cd);
        if (cr < 0)
            goto done;
        info->chunked = true;
        for (int d = 0; d < cr && d < FS_MAXDIMS; d++)
            info->chunks[d] = cd[d];
    }
    int nf = H5Pget_nfilters (dcpl);
    size_t used = 0;
    for (int i = 0; i < nf; i++) {
        unsigned flags, cfg;
        size_t ncd = 0;
        char fname[64], idbuf[32];
        H5Z_filter_t id = H5Pget_filter2 (dcpl, (unsigned)i, &flags, &ncd, NULL, sizeof (fname),
                                          fname, &cfg);
        if (id < 0)
            goto done;
        const char *nm = filter_name (id, idbuf, sizeof (idbuf));
        if (H5Zfilter_avail (id) <= 0) {
            H5Eclear2 (H5E_DEFAULT);
            snprintf (why, whylen, "filter %s (id %d%s%s) is not available in this HDF5 build", nm,
                      (int)id, fname[0] ? ", " : "", fname);
            rc = 1;
            goto done;
        }
        int w = snprintf (info->filters + used, sizeof (info->filters) - used, "%s%s",
                          used ? "," : "", nm);
        if (w < 0 || (size_t)w >= sizeof (info->filters) - used) {
            info->filters[used] = '\0';     /* keep whole names only */
            break;
        }
        used += (size_t)w;
    }
    rc = 0;
done:
    if (dcpl >= 0)
        H5Pclose (dcpl);
    if (sid >= 0)
        H5Sclose (sid);
    if (tid >= 0)
        H5Tclose (tid);
    return rc;
}

/* ---- scan ---- */

struct scan_ctx {
    const char *file;
    format_visit_f cb;
    void *arg;
    hid_t dapl;
    bool stopped;
};

static herr_t scan_visit (hid_t obj, const char *name, const H5O_info_t *oi, void *arg)
{
    struct scan_ctx *c = arg;
    if (oi->type != H5O_TYPE_DATASET)
        return 0;
    char path[4096];
    fs_dsinfo_t info;
    char why[512] = "";
    int rc = 1;
    hid_t did = -1;
    if (snprintf (path, sizeof (path), "/%s", name) >= (int)sizeof (path))
        snprintf (why, sizeof (why), "path longer than %zu bytes", sizeof (path) - 1);
    else
        did = H5Dopen2 (obj, name, c->dapl);
    if (did < 0 && !why[0]) {
        struct h5_msg m;
        snprintf (why, sizeof (why), "can't open dataset: %s", h5_error (&m));
    } else if (did >= 0) {
        rc = dset_describe (did, &info, why, sizeof (why));
        if (rc < 0) {
            struct h5_msg m;
            snprintf (why, sizeof (why), "can't read the dataset's header: %s", h5_error (&m));
        }
        H5Dclose (did);
    }
    H5Eclear2 (H5E_DEFAULT);
    if (c->cb (c->arg, path, rc == 0 ? &info : NULL, rc == 0 ? NULL : why) != 0) {
        c->stopped = true;
        return 1;
    }
    return 0;
}

/* Returns 0 also when the callback stopped the scan. */
int format_scan (const char *file, format_visit_f cb, void *arg, fs_error_t *err)
{
    h5_quiet ();
    struct elink_guard g = { 0 };
    hid_t fid = file_open (file, err);
    if (fid < 0)
        return -1;
    struct scan_ctx c = { file, cb, arg, make_dapl (&g, 0, 0), false };
    int rc = 0;
    if (c.dapl < 0) {
        rc = h5_fail (err, file, NULL, "can't create a property list");
    } else if (H5Ovisit2 (fid, H5_INDEX_NAME, H5_ITER_INC, scan_visit, &c, H5O_INFO_BASIC) < 0
               && !c.stopped) {
        rc = h5_fail (err, file, NULL, "can't list the file's objects (corrupt file?)");
    }
    if (c.dapl >= 0)
        H5Pclose (c.dapl);
    if (H5Fclose (fid) < 0 && rc == 0)
        rc = h5_fail (err, file, NULL, "can't close");
    H5Eclear2 (H5E_DEFAULT);
    return rc;
}

/* ---- opening one dataset ---- */

/* Open h5path in fid as a dataset with dapl (which refuses external links). */
hid_t dset_open (hid_t fid, const char *file, const char *h5path, hid_t dapl,
                        struct elink_guard *g, fs_error_t *err)
{
    H5O_info_t oi;
    if (H5Oget_info_by_name2 (fid, h5path, &oi, H5O_INFO_BASIC, dapl) < 0) {
        if (g->refused) {
            H5Eclear2 (H5E_DEFAULT);
            return errprintf (err, FS_EFAIL,
                              "%s:%s: the path crosses an external link to %s; only data "
                              "inside the file is served", file, h5path, g->target);
        }
        struct h5_msg m;
        h5_error (&m);
        htri_t ex = H5Lexists (fid, h5path, dapl);
        H5L_info_t li;
        if (ex > 0 && H5Lget_info (fid, h5path, &li, dapl) >= 0 && li.type == H5L_TYPE_SOFT) {
            char target[256] = "";
            H5Lget_val (fid, h5path, target, sizeof (target), dapl);
            H5Eclear2 (H5E_DEFAULT);
            return errprintf (err, FS_EFAIL, "%s:%s: soft link to '%s', which does not resolve",
                              file, h5path, target);
        }
        H5Eclear2 (H5E_DEFAULT);
        if (ex <= 0)
            return errprintf (err, FS_EFAIL, "%s:%s: no such dataset in the file", file, h5path);
        return errprintf (err, FS_EFAIL, "%s:%s: can't open: %s", file, h5path, m.text);
    }
    if (oi.type != H5O_TYPE_DATASET)
        return errprintf (err, FS_EFAIL, "%s:%s: is a %s, not a dataset", file, h5path,
                          oi.type == H5O_TYPE_GROUP ? "group"
                          : oi.type == H5O_TYPE_NAMED_DATATYPE ? "named datatype" : "object");
    hid_t did = H5Dopen2 (fid, h5path, dapl);
    if (did < 0)
        return h5_fail (err, file, h5path, "can't open dataset");
    return did;
}

int format_info (const char *file, const char *h5path, fs_dsinfo_t *info, fs_error_t *err)
{
    h5_quiet ();
    struct elink_guard g = { 0 };
    hid_t fid = file_open (file, err);
    if (fid < 0)
        return -1;
    int rc = -1;
    hid_t dapl = make_dapl (&g, 0, 0);
    hid_t did = -1;
    if (dapl < 0) {
        h5_fail (err, file, h5path, "can't create a property list");
        goto done;
    }
    if ((did = dset_open (fid, file, h5path, dapl, &g, err)) < 0)
        goto done;
    char why[512] = "";
    int d = dset_describe (did, info, why, sizeof (why));
    if (d < 0)
        h5_fail (err, file, h5path, "can't read the dataset's header");
    else if (d > 0)
        errprintf (err, FS_EFAIL, "%s:%s: %s", file, h5path, why);
    else
        rc = 0;
done:
    if (did >= 0)
        H5Dclose (did);
    if (dapl >= 0)
        H5Pclose (dapl);
    H5Fclose (fid);
    H5Eclear2 (H5E_DEFAULT);
    return rc;
}

/* ---- reading ---- */

struct format_src {
    hid_t fid, did, mtype, dxpl;
    fs_dsinfo_t info;
    size_t elsize;
    bool raw;                   /* contiguous, allocated, stored as the native type */
    uint64_t raw_offset;        /* then: the file offset of element 0 */
    int raw_fd;                 /* and HDF5's own descriptor of the file (borrowed) */
    char *file, *path;
};

/* A chunk cache holding one band of chunks across the dataset: the chunks
 * that one chunk-row of dimension 0 touches, capped at SRC_CACHE_MAX. */
int format_attr_set (const char *file, const char *h5path, const char *name, const char *value,
                     fs_error_t *err)
{
    h5_quiet ();
    struct stat st;
    if (stat (file, &st) < 0)
        return errprintf (err, FS_EFAIL, "%s: %s", file, strerror (errno));
    if (!S_ISREG (st.st_mode) || H5Fis_hdf5 (file) <= 0) {
        H5Eclear2 (H5E_DEFAULT);
        return errprintf (err, FS_EFAIL, "%s: not an HDF5 file", file);
    }
    hid_t fid = H5Fopen (file, H5F_ACC_RDWR, H5P_DEFAULT);
    if (fid < 0)
        return h5_fail (err, file, NULL, "can't open HDF5 file for writing");
    struct elink_guard g = { 0 };
    int rc = -1;
    hid_t dapl = make_dapl (&g, 0, 0), did = -1, tid = -1, sid = -1, aid = -1;
    if (dapl < 0 || (did = dset_open (fid, file, h5path, dapl, &g, err)) < 0)
        goto done;
    if (H5Aexists (did, name) > 0 && H5Adelete (did, name) < 0) {
        h5_fail (err, file, h5path, "can't replace an attribute");
        goto done;
    }
    /* A variable-length UTF-8 string: h5py reads it as str. */
    if ((tid = H5Tcopy (H5T_C_S1)) < 0 || H5Tset_size (tid, H5T_VARIABLE) < 0
        || H5Tset_cset (tid, H5T_CSET_UTF8) < 0 || (sid = H5Screate (H5S_SCALAR)) < 0
        || (aid = H5Acreate2 (did, name, tid, sid, H5P_DEFAULT, H5P_DEFAULT)) < 0
        || H5Awrite (aid, tid, &value) < 0) {
        h5_fail (err, file, h5path, "can't write an attribute");
        goto done;
    }
    rc = 0;
done:
    if (aid >= 0)
        H5Aclose (aid);
    if (sid >= 0)
        H5Sclose (sid);
    if (tid >= 0)
        H5Tclose (tid);
    if (did >= 0)
        H5Dclose (did);
    if (dapl >= 0)
        H5Pclose (dapl);
    if (H5Fclose (fid) < 0 && rc == 0)
        rc = h5_fail (err, file, NULL, "can't close");
    H5Eclear2 (H5E_DEFAULT);
    return rc;
}

static uint64_t mul_sat (uint64_t a, uint64_t b)
{
    return b && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

static size_t cache_size (const fs_dsinfo_t *info, size_t elsize, size_t *slots)
{
    uint64_t chunk = elsize, band = 1;
    for (int d = 0; d < info->ndims; d++) {
        uint64_t c = info->chunks[d] ? info->chunks[d] : 1;
        chunk = mul_sat (chunk, c);
        if (d > 0 && info->shape[d] > 0)
            band = mul_sat (band, (info->shape[d] - 1) / c + 1);
    }
    uint64_t bytes = mul_sat (chunk, band);
    if (bytes < SRC_CACHE_MIN)
        bytes = SRC_CACHE_MIN;
    if (bytes > SRC_CACHE_MAX)
        bytes = SRC_CACHE_MAX;
    /* HDF5 suggests ~100 slots per chunk that fits, a prime number. */
    uint64_t n = bytes / (chunk ? chunk : 1) * 100 + 1;
    if (n < 521)
        n = 521;
    if (n > 1000003)
        n = 1000003;
    for (;; n++) {          /* next prime */
        bool prime = n % 2 != 0;
        for (uint64_t q = 3; prime && q * q <= n; q += 2)
            prime = n % q != 0;
        if (prime)
            break;
    }
    *slots = (size_t)n;
    return (size_t)bytes;
}

/* Is the dataset one run of bytes in the file, as a native read returns them? */
static void raw_layout (struct format_src *s)
{
    s->raw = false;
    if (s->info.chunked || s->mtype < 0)
        return;
    hid_t dcpl = H5Dget_create_plist (s->did);
    hid_t ftype = H5Dget_type (s->did);
    bool contig = dcpl >= 0 && H5Pget_layout (dcpl) == H5D_CONTIGUOUS && H5Pget_external_count (dcpl) == 0;
    haddr_t off = H5Dget_offset (s->did);
    /* The descriptor HDF5 reads through (the POSIX driver's), so the offset
     * is one of the very file HDF5 opened, even if the path is replaced. */
    hid_t fapl = H5Fget_access_plist (s->fid);
    void *handle = NULL;
    bool sec2 = fapl >= 0 && H5Pget_driver (fapl) == H5FD_SEC2
                && H5Fget_vfd_handle (s->fid, fapl, &handle) >= 0 && handle;
    if (fapl >= 0)
        H5Pclose (fapl);
    if (contig && sec2 && off != HADDR_UNDEF && ftype >= 0 && H5Tequal (ftype, s->mtype) > 0) {
        s->raw = true;
        s->raw_offset = (uint64_t)off;
        s->raw_fd = *(int *)handle;
    }
    if (ftype >= 0)
        H5Tclose (ftype);
    if (dcpl >= 0)
        H5Pclose (dcpl);
    H5Eclear2 (H5E_DEFAULT);
}

struct format_src *format_src_open (const char *file, const char *h5path, fs_error_t *err)
{
    h5_quiet ();
    struct elink_guard g = { 0 };
    struct format_src *s = calloc (1, sizeof (*s));
    if (!s) {
        errprintf (err, FS_EFAIL, "%s:%s: out of memory", file, h5path);
        return NULL;
    }
    s->fid = s->did = s->dxpl = -1;
    s->file = strdup (file);
    s->path = strdup (h5path);
    if (!s->file || !s->path) {
        errprintf (err, FS_EFAIL, "%s:%s: out of memory", file, h5path);
        goto fail;
    }
    if ((s->fid = file_open (file, err)) < 0)
        goto fail;
    hid_t dapl = make_dapl (&g, 0, 0);
    if (dapl < 0) {
        h5_fail (err, file, h5path, "can't create a property list");
        goto fail;
    }
    /* Open once to learn the layout, then reopen with a fitting chunk cache. */
    hid_t did = dset_open (s->fid, file, h5path, dapl, &g, err);
    H5Pclose (dapl);
    if (did < 0)
        goto fail;
    char why[512] = "";
    int d = dset_describe (did, &s->info, why, sizeof (why));
    if (d != 0) {
        if (d < 0)
            h5_fail (err, file, h5path, "can't read the dataset's header");
        else
            errprintf (err, FS_EFAIL, "%s:%s: %s", file, h5path, why);
        H5Dclose (did);
        goto fail;
    }
    s->elsize = dtype_size (s->info.dtype);
    /* Unfiltered chunks are read straight from the file into the caller's
     * buffer when they don't fit the cache, so only filtered (compressed)
     * chunks, which must be decoded whole, get a cache: memory stays small. */
    if (s->info.chunked && s->info.filters[0]) {
        size_t slots, bytes = cache_size (&s->info, s->elsize, &slots);
        H5Dclose (did);
        dapl = make_dapl (&g, bytes, slots);
        if (dapl < 0) {
            h5_fail (err, file, h5path, "can't create a property list");
            goto fail;
        }
        did = H5Dopen2 (s->fid, h5path, dapl);
        H5Pclose (dapl);
        if (did < 0) {
            h5_fail (err, file, h5path, "can't open dataset");
            goto fail;
        }
    }
    s->did = did;
    s->mtype = native_type (s->info.dtype);
    raw_layout (s);
    if ((s->dxpl = H5Pcreate (H5P_DATASET_XFER)) < 0
        || H5Pset_buffer (s->dxpl, XFER_BUFFER, NULL, NULL) < 0) {
        h5_fail (err, file, h5path, "can't create a transfer property list");
        goto fail;
    }
    return s;
fail:
    format_src_close (s);
    H5Eclear2 (H5E_DEFAULT);
    return NULL;
}

void format_src_close (struct format_src *s)
{
    if (!s)
        return;
    h5_quiet ();
    if (s->dxpl >= 0)
        H5Pclose (s->dxpl);
    if (s->did >= 0)
        H5Dclose (s->did);
    if (s->fid >= 0)
        H5Fclose (s->fid);
    H5Eclear2 (H5E_DEFAULT);
    free (s->file);
    free (s->path);
    free (s);
}

int format_src_extent (const struct format_src *s, const fs_sel_t *sel, int *fd, uint64_t *offset,
                       uint64_t *len)
{
    const fs_dsinfo_t *in = &s->info;
    if (!s->raw || sel->ndims != in->ndims || in->ndims == 0)
        return 0;
    /* One run: dimensions before the first with count > 1 have count 1; that
     * one has step 1; every later one is taken whole. */
    int k = 0;
    while (k < in->ndims && sel->count[k] == 1)
        k++;
    uint64_t first = 0, n = 1;
    for (int d = 0; d < in->ndims; d++) {
        uint64_t c = sel->count[d];
        if (c == 0 || sel->start[d] >= in->shape[d] || (c > 1 && sel->step[d] != 1)
            || c > in->shape[d] - sel->start[d])
            return 0;
        if (d > k && (sel->start[d] != 0 || c != in->shape[d]))
            return 0;
        first = first * in->shape[d] + sel->start[d];
        n *= c;
    }
    *fd = s->raw_fd;
    *offset = s->raw_offset + first * s->elsize;
    *len = n * s->elsize;
    return 1;
}

const fs_dsinfo_t *format_src_info (const struct format_src *s)
{
    return &s->info;
}

/* Select the box (start/step/count; dropped dims have count 1) in a copy of
 * the dataset's space.  Returns the space or -1. */
static hid_t select_box (hid_t did, int ndims, const uint64_t *start, const uint64_t *step,
                         const uint64_t *count)
{
    hid_t sid = H5Dget_space (did);
    if (sid < 0)
        return -1;
    hsize_t st[FS_MAXDIMS], sp[FS_MAXDIMS], ct[FS_MAXDIMS];
    bool unit = true;
    for (int d = 0; d < ndims; d++) {
        st[d] = start[d];
        ct[d] = count[d];
        sp[d] = step ? step[d] : 1;
        /* A step is meaningless for a count of 1: keep the fast path. */
        if (sp[d] != 1 && ct[d] > 1)
            unit = false;
        if (ct[d] <= 1)
            sp[d] = 1;
    }
    if (H5Sselect_hyperslab (sid, H5S_SELECT_SET, st, unit ? NULL : sp, ct, NULL) < 0) {
        H5Sclose (sid);
        return -1;
    }
    return sid;
}

int format_src_read (struct format_src *s, const fs_sel_t *sel, void *buf, fs_error_t *err)
{
    h5_quiet ();
    const fs_dsinfo_t *in = &s->info;
    if (sel->ndims != in->ndims)
        return errprintf (err, FS_EINVAL, "%s:%s: selection has %d dimensions, the dataset %d",
                          s->file, s->path, sel->ndims, in->ndims);
    uint64_t n = 1;
    for (int d = 0; d < sel->ndims; d++) {
        uint64_t c = sel->count[d];
        if (c == 0)
            return 0;
        if (sel->step[d] == 0 || sel->start[d] >= in->shape[d]
            || (c - 1) > (in->shape[d] - 1 - sel->start[d]) / sel->step[d])
            return errprintf (err, FS_EINVAL,
                              "%s:%s: selection %llu:+%llu*%llu leaves dimension %d of size %llu",
                              s->file, s->path, (unsigned long long)sel->start[d],
                              (unsigned long long)c, (unsigned long long)sel->step[d], d,
                              (unsigned long long)in->shape[d]);
        n *= c;
    }
    if (in->ndims == 0) {
        if (H5Dread (s->did, s->mtype, H5S_ALL, H5S_ALL, s->dxpl, buf) < 0)
            return h5_fail (err, s->file, s->path, "read failed");
        return 0;
    }
    hid_t fsp = select_box (s->did, sel->ndims, sel->start, sel->step, sel->count);
    if (fsp < 0)
        return h5_fail (err, s->file, s->path, "can't select the slice");
    /* A memory space of the selection's own shape: HDF5 1.10 then moves whole
     * chunks and rows directly; a flat 1-D memory space of the same size
     * sends it down a per-element path some 50 times slower. */
    hsize_t mdims[FS_MAXDIMS];
    for (int d = 0; d < sel->ndims; d++)
        mdims[d] = sel->count[d];
    hid_t msp = H5Screate_simple (sel->ndims, mdims, NULL);
    int rc = 0;
    if (msp < 0)
        rc = h5_fail (err, s->file, s->path, "can't create a memory space");
    else if (H5Dread (s->did, s->mtype, msp, fsp, s->dxpl, buf) < 0)
        rc = h5_fail (err, s->file, s->path, "read failed");
    if (msp >= 0)
        H5Sclose (msp);
    H5Sclose (fsp);
    return rc;
}

/* ---- writing ---- */

struct format_out {
    hid_t fid, did, mtype;
    int rank;
    uint64_t shape[FS_MAXDIMS];
    char *file, *path;
};

/* Layout: always contiguous.  Contiguous datasets have no size limit (only
 * a chunk is limited to 4 GiB), are the fastest to write and to read back in
 * rows, and outputs are whole arrays written once; no compression.  Storage
 * is allocated at creation, at a fixed place format_out_offset() tells, and
 * never pre-filled: every element gets written, by format_out_write() or by
 * the caller straight into the file.  No sieve buffer: it could hold a stale
 * copy of bytes the caller wrote that way and write it back at close. */
struct format_out *format_out_create (const char *file, const char *dset_path, fs_dtype_t dt,
                                      int rank, const uint64_t *shape, fs_error_t *err)
{
    h5_quiet ();
    hid_t ftype = file_type (dt);
    if (ftype < 0) {
        errprintf (err, FS_EINVAL, "%s:%s: invalid element type", file, dset_path);
        return NULL;
    }
    if (rank < 0 || rank > FS_MAXDIMS) {
        errprintf (err, FS_EINVAL, "%s:%s: invalid rank %d", file, dset_path, rank);
        return NULL;
    }
    struct format_out *o = calloc (1, sizeof (*o));
    if (!o || !(o->file = strdup (file)) || !(o->path = strdup (dset_path))) {
        errprintf (err, FS_EFAIL, "%s:%s: out of memory", file, dset_path);
        goto fail_mem;
    }
    o->fid = o->did = -1;
    o->mtype = native_type (dt);
    o->rank = rank;
    hsize_t dims[FS_MAXDIMS];
    for (int d = 0; d < rank; d++)
        dims[d] = o->shape[d] = shape[d];

    hid_t sid = -1, lcpl = -1, dcpl = -1, fapl = H5Pcreate (H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_sieve_buf_size (fapl, 0) < 0
        || (o->fid = H5Fcreate (file, H5F_ACC_TRUNC, H5P_DEFAULT, fapl)) < 0) {
        h5_fail (err, file, NULL, "can't create HDF5 file");
        goto fail;
    }
    sid = rank == 0 ? H5Screate (H5S_SCALAR) : H5Screate_simple (rank, dims, NULL);
    if (sid < 0 || (lcpl = H5Pcreate (H5P_LINK_CREATE)) < 0
        || H5Pset_create_intermediate_group (lcpl, 1) < 0
        || (dcpl = H5Pcreate (H5P_DATASET_CREATE)) < 0
        || H5Pset_layout (dcpl, H5D_CONTIGUOUS) < 0
        || H5Pset_alloc_time (dcpl, H5D_ALLOC_TIME_EARLY) < 0
        || H5Pset_fill_time (dcpl, H5D_FILL_TIME_NEVER) < 0) {
        h5_fail (err, file, dset_path, "can't set up the dataset");
        goto fail;
    }
    if ((o->did = H5Dcreate2 (o->fid, dset_path, ftype, sid, lcpl, dcpl, H5P_DEFAULT)) < 0) {
        h5_fail (err, file, dset_path, "can't create dataset");
        goto fail;
    }
    H5Pclose (fapl);
    H5Pclose (dcpl);
    H5Pclose (lcpl);
    H5Sclose (sid);
    return o;
fail:
    if (fapl >= 0)
        H5Pclose (fapl);
    if (dcpl >= 0)
        H5Pclose (dcpl);
    if (lcpl >= 0)
        H5Pclose (lcpl);
    if (sid >= 0)
        H5Sclose (sid);
    if (o->did >= 0)
        H5Dclose (o->did);
    if (o->fid >= 0)
        H5Fclose (o->fid);
    H5Eclear2 (H5E_DEFAULT);
fail_mem:
    if (o) {
        free (o->file);
        free (o->path);
    }
    free (o);
    return NULL;
}

int format_out_write (struct format_out *o, const uint64_t *off, const uint64_t *cnt,
                      const void *buf, fs_error_t *err)
{
    h5_quiet ();
    uint64_t n = 1;
    for (int d = 0; d < o->rank; d++) {
        if (off[d] > o->shape[d] || cnt[d] > o->shape[d] - off[d])
            return errprintf (err, FS_EINVAL, "%s:%s: box [%llu, +%llu) leaves dimension %d of size %llu",
                              o->file, o->path, (unsigned long long)off[d],
                              (unsigned long long)cnt[d], d, (unsigned long long)o->shape[d]);
        n *= cnt[d];
    }
    if (n == 0)
        return 0;
    if (o->rank == 0) {
        if (H5Dwrite (o->did, o->mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
            return h5_fail (err, o->file, o->path, "write failed");
        return 0;
    }
    hid_t fsp = select_box (o->did, o->rank, off, NULL, cnt);
    if (fsp < 0)
        return h5_fail (err, o->file, o->path, "can't select the box");
    /* A memory space of the selection's own shape: HDF5 1.10 then moves whole
     * chunks and rows directly; a flat 1-D memory space of the same size
     * sends it down a per-element path some 50 times slower. */
    hsize_t mdims[FS_MAXDIMS];
    for (int d = 0; d < o->rank; d++)
        mdims[d] = cnt[d];
    hid_t msp = H5Screate_simple (o->rank, mdims, NULL);
    int rc = 0;
    if (msp < 0)
        rc = h5_fail (err, o->file, o->path, "can't create a memory space");
    else if (H5Dwrite (o->did, o->mtype, msp, fsp, H5P_DEFAULT, buf) < 0)
        rc = h5_fail (err, o->file, o->path, "write failed");
    if (msp >= 0)
        H5Sclose (msp);
    H5Sclose (fsp);
    return rc;
}

int format_out_offset (const struct format_out *o, uint64_t *offset)
{
    h5_quiet ();
    haddr_t a = H5Dget_offset (o->did);
    if (a == HADDR_UNDEF)
        return -1;
    *offset = (uint64_t)a;
    return 0;
}

int format_out_close (struct format_out *o, fs_error_t *err)
{
    if (!o)
        return 0;
    h5_quiet ();
    int rc = 0;
    if (o->did >= 0 && H5Dclose (o->did) < 0)
        rc = h5_fail (err, o->file, o->path, "can't close dataset");
    if (o->fid >= 0 && H5Fclose (o->fid) < 0 && rc == 0)
        rc = h5_fail (err, o->file, NULL, "can't finish the file");
    H5Eclear2 (H5E_DEFAULT);
    free (o->file);
    free (o->path);
    free (o);
    return rc;
}
