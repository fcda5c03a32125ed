/* test_format.c - the hdf5 format adapter against files made with HDF5 itself.
 *
 * Files are created in a fresh mkdtemp directory with the HDF5 library
 * directly (tests may include hdf5.h), then scanned and read through
 * adapters/format/format.h and compared element by element.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/unit.h"
#include <hdf5.h>

#include "adapters/format/format.h"
#include "common/dtype.h"

static char tmpdir[4096];

/* xorshift: deterministic random numbers */
static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd (uint64_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return n ? rng_state % n : 0;
}

/* ---- types ---- */

static const fs_dtype_t all_types[] = {
    FS_DT_INT8, FS_DT_INT16, FS_DT_INT32, FS_DT_INT64, FS_DT_UINT8,
    FS_DT_UINT16, FS_DT_UINT32, FS_DT_UINT64, FS_DT_FLOAT32, FS_DT_FLOAT64,
};
#define NTYPES (sizeof (all_types) / sizeof (all_types[0]))

static hid_t mem_type (fs_dtype_t t)
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

static hid_t disk_type (fs_dtype_t t, bool big)
{
    switch (t) {
    case FS_DT_INT8: return big ? H5T_STD_I8BE : H5T_STD_I8LE;
    case FS_DT_INT16: return big ? H5T_STD_I16BE : H5T_STD_I16LE;
    case FS_DT_INT32: return big ? H5T_STD_I32BE : H5T_STD_I32LE;
    case FS_DT_INT64: return big ? H5T_STD_I64BE : H5T_STD_I64LE;
    case FS_DT_UINT8: return big ? H5T_STD_U8BE : H5T_STD_U8LE;
    case FS_DT_UINT16: return big ? H5T_STD_U16BE : H5T_STD_U16LE;
    case FS_DT_UINT32: return big ? H5T_STD_U32BE : H5T_STD_U32LE;
    case FS_DT_UINT64: return big ? H5T_STD_U64BE : H5T_STD_U64LE;
    case FS_DT_FLOAT32: return big ? H5T_IEEE_F32BE : H5T_IEEE_F32LE;
    case FS_DT_FLOAT64: return big ? H5T_IEEE_F64BE : H5T_IEEE_F64LE;
    default: return -1;
    }
}

/* Element i of the test pattern, in native bytes, exercising the high bits. */
static void pattern (fs_dtype_t t, uint64_t i, void *dst)
{
    uint64_t u = i * 0x9E3779B97F4A7C15ull + 12345;
    switch (t) {
    case FS_DT_INT8: *(int8_t *)dst = (int8_t)u; break;
    case FS_DT_INT16: *(int16_t *)dst = (int16_t)u; break;
    case FS_DT_INT32: *(int32_t *)dst = (int32_t)u; break;
    case FS_DT_INT64: *(int64_t *)dst = (int64_t)u; break;
    case FS_DT_UINT8: *(uint8_t *)dst = (uint8_t)u; break;
    case FS_DT_UINT16: *(uint16_t *)dst = (uint16_t)u; break;
    case FS_DT_UINT32: *(uint32_t *)dst = (uint32_t)u; break;
    case FS_DT_UINT64: *(uint64_t *)dst = u; break;
    case FS_DT_FLOAT32: *(float *)dst = (float)((double)(int32_t)u / 1024.0); break;
    case FS_DT_FLOAT64: *(double *)dst = (double)(int64_t)u / 3.0; break;
    default: break;
    }
}

static void *make_data (fs_dtype_t t, uint64_t n)
{
    size_t el = dtype_size (t);
    unsigned char *p = malloc (n ? n * el : 1);
    assert_non_null (p);
    for (uint64_t i = 0; i < n; i++)
        pattern (t, i, p + i * el);
    return p;
}

/* ---- writing test files with HDF5 directly ---- */

struct dspec {
    const char *path;
    fs_dtype_t t;
    bool big;
    int rank;
    hsize_t dims[4];
    hsize_t chunks[4];      /* chunks[0] == 0: contiguous */
    int gzip;               /* level, -1: none */
    bool shuffle;
};

static void write_dset (hid_t fid, const struct dspec *s)
{
    uint64_t n = 1;
    for (int d = 0; d < s->rank; d++)
        n *= s->dims[d];
    hid_t sid = s->rank ? H5Screate_simple (s->rank, s->dims, NULL) : H5Screate (H5S_SCALAR);
    hid_t dcpl = H5Pcreate (H5P_DATASET_CREATE);
    hid_t lcpl = H5Pcreate (H5P_LINK_CREATE);
    H5Pset_create_intermediate_group (lcpl, 1);
    if (s->chunks[0]) {
        H5Pset_chunk (dcpl, s->rank, s->chunks);
        if (s->shuffle)
            H5Pset_shuffle (dcpl);
        if (s->gzip >= 0)
            H5Pset_deflate (dcpl, (unsigned)s->gzip);
    }
    hid_t did = H5Dcreate2 (fid, s->path, disk_type (s->t, s->big), sid, lcpl, dcpl, H5P_DEFAULT);
    assert_true (did >= 0);
    void *data = make_data (s->t, n);
    if (n)
        assert_true (H5Dwrite (did, mem_type (s->t), H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    free (data);
    H5Dclose (did);
    H5Pclose (lcpl);
    H5Pclose (dcpl);
    H5Sclose (sid);
}

static void write_file (const char *file, const struct dspec *specs, int n)
{
    hid_t fid = H5Fcreate (file, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true (fid >= 0);
    for (int i = 0; i < n; i++)
        write_dset (fid, &specs[i]);
    H5Fclose (fid);
}

/* ---- checking reads ---- */

static uint64_t nelems (int rank, const hsize_t *dims)
{
    uint64_t n = 1;
    for (int d = 0; d < rank; d++)
        n *= dims[d];
    return n;
}

/* Read sel through src and compare with the pattern element by element. */
static void check_sel (struct format_src *src, const struct dspec *s, const fs_sel_t *sel)
{
    size_t el = dtype_size (s->t);
    uint64_t n = sel_nelems (sel);
    unsigned char *buf = malloc (n * el + 16);
    assert_non_null (buf);
    memset (buf, 0xA5, n * el + 16);
    fs_error_t err = { 0 };
    if (format_src_read (src, sel, buf, &err) < 0)
        fail_msg ("%s: read failed: %s", s->path, err.text);
    uint64_t idx[FS_MAXDIMS] = { 0 };
    unsigned char want[8];
    for (uint64_t e = 0; e < n; e++) {
        uint64_t flat = 0;
        for (int d = 0; d < sel->ndims; d++)
            flat = flat * s->dims[d] + sel->start[d] + idx[d] * sel->step[d];
        pattern (s->t, flat, want);
        if (memcmp (buf + e * el, want, el) != 0)
            fail_msg ("%s (%s%s): element %llu (flat %llu) differs", s->path,
                      dtype_name (s->t), s->big ? " BE" : "", (unsigned long long)e,
                      (unsigned long long)flat);
        for (int d = sel->ndims - 1; d >= 0; d--) {
            if (++idx[d] < sel->count[d])
                break;
            idx[d] = 0;
        }
    }
    for (int i = 0; i < 16; i++)      /* nothing written past the end */
        assert_int_equal (buf[n * el + (size_t)i], 0xA5);
    free (buf);
}

static void whole_sel (int rank, const hsize_t *dims, fs_sel_t *sel)
{
    memset (sel, 0, sizeof (*sel));
    sel->ndims = rank;
    for (int d = 0; d < rank; d++) {
        sel->step[d] = 1;
        sel->count[d] = dims[d];
    }
}

static void random_sel (int rank, const hsize_t *dims, fs_sel_t *sel)
{
    memset (sel, 0, sizeof (*sel));
    sel->ndims = rank;
    for (int d = 0; d < rank; d++) {
        sel->start[d] = rnd (dims[d]);
        if (rnd (5) == 0) {
            sel->dropped[d] = true;
            sel->step[d] = 1;
            sel->count[d] = 1;
            continue;
        }
        sel->step[d] = 1 + rnd (3);
        uint64_t max = (dims[d] - 1 - sel->start[d]) / sel->step[d] + 1;
        sel->count[d] = rnd (4) == 0 ? max : 1 + rnd (max);
    }
}

static void check_dset (const char *file, const struct dspec *s, int nrandom)
{
    fs_error_t err = { 0 };
    struct format_src *src = format_src_open (file, s->path, &err);
    if (!src)
        fail_msg ("%s: open failed: %s", s->path, err.text);
    const fs_dsinfo_t *in = format_src_info (src);
    assert_int_equal (in->ndims, s->rank);
    assert_int_equal (in->dtype, s->t);
    for (int d = 0; d < s->rank; d++)
        assert_int_equal (in->shape[d], s->dims[d]);
    assert_int_equal (in->chunked, s->chunks[0] != 0);
    if (s->chunks[0])
        for (int d = 0; d < s->rank; d++)
            assert_int_equal (in->chunks[d], s->chunks[d]);
    fs_sel_t sel;
    whole_sel (s->rank, s->dims, &sel);
    check_sel (src, s, &sel);
    if (nelems (s->rank, s->dims) > 0)
        for (int i = 0; i < nrandom; i++) {
            random_sel (s->rank, s->dims, &sel);
            check_sel (src, s, &sel);
        }
    format_src_close (src);
}

/* ---- scanning ---- */

struct seen {
    int n;
    char path[64][128];
    fs_dsinfo_t info[64];
    bool ok[64];
    char why[64][512];
    int stop_after;
};

static int record (void *arg, const char *h5path, const fs_dsinfo_t *info, const char *why)
{
    struct seen *s = arg;
    assert_true (s->n < 64);
    snprintf (s->path[s->n], sizeof (s->path[0]), "%s", h5path);
    s->ok[s->n] = info != NULL;
    if (info)
        s->info[s->n] = *info;
    else
        snprintf (s->why[s->n], sizeof (s->why[0]), "%s", why ? why : "(null)");
    s->n++;
    return s->stop_after && s->n >= s->stop_after;
}

static int find_seen (const struct seen *s, const char *path)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp (s->path[i], path) == 0)
            return i;
    return -1;
}

/* ---- tests ---- */

static const hsize_t rank_dims[5][4] = {
    { 0 }, { 13 }, { 7, 9 }, { 4, 5, 6 }, { 3, 4, 2, 5 },
};

/* Every supported type, both byte orders, ranks 0-4, contiguous. */
static void test_types_ranks (void **state)
{
    (void)state;
    for (size_t t = 0; t < NTYPES; t++) {
        for (int big = 0; big <= 1; big++) {
            struct dspec specs[5];
            char names[5][32];
            for (int r = 0; r <= 4; r++) {
                snprintf (names[r], sizeof (names[r]), "/r%d", r);
                specs[r] = (struct dspec){ .path = names[r], .t = all_types[t], .big = big,
                                           .rank = r, .gzip = -1 };
                memcpy (specs[r].dims, rank_dims[r], sizeof (specs[r].dims));
            }
            const char *file = tu_path (tmpdir, "types.h5");
            write_file (file, specs, 5);

            struct seen seen = { 0 };
            fs_error_t err = { 0 };
            assert_int_equal (format_probe (file, &err), 0);
            if (format_scan (file, record, &seen, &err) < 0)
                fail_msg ("scan: %s", err.text);
            assert_int_equal (seen.n, 5);
            for (int r = 0; r <= 4; r++) {
                assert_string_equal (seen.path[r], names[r]);
                assert_true (seen.ok[r]);
                assert_int_equal (seen.info[r].dtype, all_types[t]);
                assert_int_equal (seen.info[r].ndims, r);
                assert_false (seen.info[r].chunked);
                assert_string_equal (seen.info[r].filters, "");
                fs_dsinfo_t info;
                assert_int_equal (format_info (file, names[r], &info, &err), 0);
                assert_int_equal (info.dtype, all_types[t]);
                assert_int_equal (info.ndims, r);
                check_dset (file, &specs[r], 20);
            }
        }
    }
}

/* Chunked layouts, gzip+shuffle, big-endian, chunks not dividing the shape. */
static void test_chunked (void **state)
{
    (void)state;
    struct dspec specs[] = {
        { "/c/f64", FS_DT_FLOAT64, false, 2, { 40, 50 }, { 7, 9 }, 4, true },
        { "/c/i16be", FS_DT_INT16, true, 3, { 10, 11, 12 }, { 3, 4, 5 }, 1, false },
        { "/c/u8", FS_DT_UINT8, false, 1, { 1000 }, { 64 }, -1, false },
        { "/c/f32", FS_DT_FLOAT32, true, 4, { 5, 6, 7, 8 }, { 2, 3, 4, 5 }, -1, true },
        { "/c/u64", FS_DT_UINT64, false, 2, { 33, 17 }, { 33, 17 }, 9, true },
    };
    int n = (int)(sizeof (specs) / sizeof (specs[0]));
    const char *file = tu_path (tmpdir, "chunked.h5");
    write_file (file, specs, n);

    struct seen seen = { 0 };
    fs_error_t err = { 0 };
    assert_int_equal (format_scan (file, record, &seen, &err), 0);
    assert_int_equal (seen.n, n);
    static const char *filters[] = { "shuffle,gzip", "gzip", "", "shuffle", "shuffle,gzip" };
    for (int i = 0; i < n; i++) {
        int k = find_seen (&seen, specs[i].path);
        assert_true (k >= 0);
        assert_true (seen.ok[k]);
        assert_true (seen.info[k].chunked);
        assert_string_equal (seen.info[k].filters, filters[i]);
        for (int d = 0; d < specs[i].rank; d++)
            assert_int_equal (seen.info[k].chunks[d], specs[i].chunks[d]);
        check_dset (file, &specs[i], 60);
    }
}

/* Empty dimensions, zero-element selections. */
static void test_empty (void **state)
{
    (void)state;
    struct dspec specs[] = {
        { "/e0", FS_DT_INT32, false, 2, { 0, 5 }, { 0 }, -1, false },
        { "/e1", FS_DT_FLOAT32, false, 3, { 4, 0, 3 }, { 0 }, -1, false },
        { "/full", FS_DT_INT32, false, 2, { 4, 5 }, { 0 }, -1, false },
    };
    const char *file = tu_path (tmpdir, "empty.h5");
    write_file (file, specs, 3);
    check_dset (file, &specs[0], 0);
    check_dset (file, &specs[1], 0);

    fs_error_t err = { 0 };
    struct format_src *src = format_src_open (file, "/full", &err);
    assert_non_null (src);
    fs_sel_t sel = { .ndims = 2, .start = { 1, 2 }, .step = { 1, 1 }, .count = { 0, 3 } };
    int32_t guard = 77;
    assert_int_equal (format_src_read (src, &sel, &guard, &err), 0);
    assert_int_equal (guard, 77);
    /* a selection leaving the dataset is refused, not read */
    fs_sel_t bad = { .ndims = 2, .start = { 3, 0 }, .step = { 1, 1 }, .count = { 2, 5 } };
    int32_t buf[10];
    assert_int_equal (format_src_read (src, &bad, buf, &err), -1);
    assert_int_equal (err.code, FS_EINVAL);
    assert_non_null (strstr (err.text, "/full"));
    format_src_close (src);
    format_src_close (NULL);
}

static hid_t float16_type (void)
{
    hid_t t = H5Tcopy (H5T_IEEE_F32LE);
    H5Tset_fields (t, 15, 10, 5, 0, 10);
    H5Tset_size (t, 2);
    H5Tset_ebias (t, 15);
    return t;
}

static void make_unsupported (const char *file, const char *other)
{
    hid_t fid = H5Fcreate (file, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true (fid >= 0);
    hsize_t four = 4;
    hid_t sid = H5Screate_simple (1, &four, NULL);
    struct utype {
        const char *name;
        hid_t type;
    } t[16];
    int n = 0;

    hid_t s10 = H5Tcopy (H5T_C_S1);
    H5Tset_size (s10, 10);
    t[n++] = (struct utype){ "/str_fixed", s10 };
    hid_t svl = H5Tcopy (H5T_C_S1);
    H5Tset_size (svl, H5T_VARIABLE);
    t[n++] = (struct utype){ "/str_vlen", svl };
    hid_t cmp = H5Tcreate (H5T_COMPOUND, 12);
    H5Tinsert (cmp, "a", 0, H5T_STD_I32LE);
    H5Tinsert (cmp, "b", 4, H5T_IEEE_F64LE);
    t[n++] = (struct utype){ "/compound", cmp };
    hid_t eb = H5Tenum_create (H5T_STD_I8LE);
    int8_t v0 = 0, v1 = 1;
    H5Tenum_insert (eb, "FALSE", &v0);
    H5Tenum_insert (eb, "TRUE", &v1);
    t[n++] = (struct utype){ "/bool", eb };
    hid_t en = H5Tenum_create (H5T_STD_I32LE);
    int32_t e0 = 0, e1 = 1, e2 = 2;
    H5Tenum_insert (en, "RED", &e0);
    H5Tenum_insert (en, "GREEN", &e1);
    H5Tenum_insert (en, "BLUE", &e2);
    t[n++] = (struct utype){ "/enum", en };
    hsize_t three = 3;
    t[n++] = (struct utype){ "/array", H5Tarray_create2 (H5T_IEEE_F32LE, 1, &three) };
    t[n++] = (struct utype){ "/vlen", H5Tvlen_create (H5T_STD_I32LE) };
    t[n++] = (struct utype){ "/ref", H5Tcopy (H5T_STD_REF_OBJ) };
    hid_t op = H5Tcreate (H5T_OPAQUE, 4);
    H5Tset_tag (op, "blob");
    t[n++] = (struct utype){ "/opaque", op };
    t[n++] = (struct utype){ "/bitfield", H5Tcopy (H5T_STD_B8LE) };
    t[n++] = (struct utype){ "/float16", float16_type () };

    for (int i = 0; i < n; i++) {
        assert_true (t[i].type >= 0);
        hid_t did = H5Dcreate2 (fid, t[i].name, t[i].type, sid, H5P_DEFAULT, H5P_DEFAULT,
                                H5P_DEFAULT);
        assert_true (did >= 0);
        H5Dclose (did);
        H5Tclose (t[i].type);
    }
    H5Sclose (sid);

    /* null dataspace; scalar (supported) */
    sid = H5Screate (H5S_NULL);
    hid_t did = H5Dcreate2 (fid, "/null", H5T_STD_I32LE, sid, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true (did >= 0);
    H5Dclose (did);
    H5Sclose (sid);
    sid = H5Screate (H5S_SCALAR);
    did = H5Dcreate2 (fid, "/scalar", H5T_IEEE_F64BE, sid, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    double pi = 3.25;
    H5Dwrite (did, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &pi);
    H5Dclose (did);
    H5Sclose (sid);

    /* links: a second hard link, a soft link, an external link, a dangling one */
    hid_t g = H5Gcreate2 (fid, "/g", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose (g);
    assert_true (H5Lcreate_hard (fid, "/scalar", fid, "/g/hard_again", H5P_DEFAULT, H5P_DEFAULT) >= 0);
    assert_true (H5Lcreate_soft ("/scalar", fid, "/g/soft", H5P_DEFAULT, H5P_DEFAULT) >= 0);
    assert_true (H5Lcreate_soft ("/nowhere", fid, "/g/dangling", H5P_DEFAULT, H5P_DEFAULT) >= 0);
    assert_true (H5Lcreate_external (other, "/x", fid, "/g/ext", H5P_DEFAULT, H5P_DEFAULT) >= 0);
    assert_true (H5Lcreate_external (other, "/", fid, "/extgroup", H5P_DEFAULT, H5P_DEFAULT) >= 0);
    H5Fclose (fid);
}

static void test_unsupported_and_links (void **state)
{
    (void)state;
    const char *other = tu_path (tmpdir, "other.h5");
    struct dspec x = { "/x", FS_DT_INT32, false, 1, { 8 }, { 0 }, -1, false };
    write_file (other, &x, 1);
    const char *file = tu_path (tmpdir, "unsupported.h5");
    make_unsupported (file, other);

    struct seen seen = { 0 };
    fs_error_t err = { 0 };
    if (format_scan (file, record, &seen, &err) < 0)
        fail_msg ("scan: %s", err.text);
    static const struct {
        const char *path, *why;
    } want[] = {
        { "/array", "element type array is not supported" },
        { "/bitfield", "element type bitfield" },
        { "/bool", "element type bool (enum)" },
        { "/compound", "element type compound is not supported (v1: int8..int64" },
        { "/enum", "element type enum " },
        { "/float16", "element type float16" },
        /* /scalar, first met by its second hard link: each object once */
        { "/g/hard_again", NULL },
        { "/null", "null dataspace" },
        { "/opaque", "element type opaque" },
        { "/ref", "element type reference" },
        { "/str_fixed", "element type string" },
        { "/str_vlen", "element type string" },
        { "/vlen", "element type variable-length" },
    };
    size_t nw = sizeof (want) / sizeof (want[0]);
    for (int i = 0; i < seen.n; i++)
        printf ("  scan: %-12s %s\n", seen.path[i], seen.ok[i] ? "ok" : seen.why[i]);
    /* each object once, sorted, depth first; no link followed out of the file */
    assert_int_equal (seen.n, (int)nw);
    for (size_t i = 0; i < nw; i++) {
        assert_string_equal (seen.path[i], want[i].path);
        if (want[i].why) {
            assert_false (seen.ok[i]);
            if (!strstr (seen.why[i], want[i].why))
                fail_msg ("%s: reason '%s' lacks '%s'", want[i].path, seen.why[i], want[i].why);
        } else {
            assert_true (seen.ok[i]);
            assert_int_equal (seen.info[i].ndims, 0);
            assert_int_equal (seen.info[i].dtype, FS_DT_FLOAT64);
        }
    }

    /* a scalar read (big-endian on disk) */
    struct format_src *src = format_src_open (file, "/scalar", &err);
    assert_non_null (src);
    fs_sel_t sel = { .ndims = 0 };
    double v = 0;
    assert_int_equal (format_src_read (src, &sel, &v, &err), 0);
    assert_true (v == 3.25);
    format_src_close (src);

    /* a soft link inside the file works */
    src = format_src_open (file, "/g/soft", &err);
    assert_non_null (src);
    format_src_close (src);

    /* external links are refused, with a message naming the file and path */
    const char *refused[] = { "/g/ext", "/extgroup/x" };
    for (int i = 0; i < 2; i++) {
        err = (fs_error_t){ 0 };
        assert_null (format_src_open (file, refused[i], &err));
        assert_int_equal (err.code, FS_EFAIL);
        assert_non_null (strstr (err.text, refused[i]));
        assert_non_null (strstr (err.text, "external link"));
        fs_dsinfo_t info;
        assert_int_equal (format_info (file, refused[i], &info, &err), -1);
        assert_non_null (strstr (err.text, "external link"));
    }

    /* unsupported datasets, groups and missing paths can't be opened */
    const char *bad[] = { "/compound", "/g", "/missing", "/g/dangling", "/nope/deeper", "/null" };
    for (size_t i = 0; i < sizeof (bad) / sizeof (bad[0]); i++) {
        err = (fs_error_t){ 0 };
        assert_null (format_src_open (file, bad[i], &err));
        assert_int_equal (err.code, FS_EFAIL);
        if (!strstr (err.text, bad[i]) || !strstr (err.text, "unsupported.h5"))
            fail_msg ("error for %s does not name file and dataset: %s", bad[i], err.text);
        printf ("  open %-14s -> %s\n", bad[i], err.text + strlen (tmpdir));
    }

    /* the callback can stop the scan; that is no error */
    struct seen few = { .stop_after = 2 };
    assert_int_equal (format_scan (file, record, &few, &err), 0);
    assert_int_equal (few.n, 2);
}

static void write_bytes (const char *file, const void *p, size_t n)
{
    FILE *f = fopen (file, "wb");
    assert_non_null (f);
    assert_int_equal (fwrite (p, 1, n, f), n);
    fclose (f);
}

static int never (void *arg, const char *h5path, const fs_dsinfo_t *info, const char *why)
{
    return 0;
}

static void expect_bad (const char *file, const char *what)
{
    fs_error_t err = { 0 };
    assert_int_equal (format_probe (file, &err), -1);
    assert_int_equal (err.code, FS_EFAIL);
    assert_non_null (strstr (err.text, file));
    printf ("  %s: %s\n", what, err.text + strlen (tmpdir));
    err = (fs_error_t){ 0 };
    assert_int_equal (format_scan (file, never, NULL, &err), -1);
    assert_int_equal (err.code, FS_EFAIL);
    assert_true (strlen (err.text) > strlen (file) + 5);
    err = (fs_error_t){ 0 };
    assert_null (format_src_open (file, "/d", &err));
    assert_int_equal (err.code, FS_EFAIL);
}

static void test_corrupt (void **state)
{
    (void)state;
    unsigned char junk[8192];
    for (size_t i = 0; i < sizeof (junk); i++)
        junk[i] = (unsigned char)rnd (256);
    const char *f = tu_path (tmpdir, "junk.h5");
    write_bytes (f, junk, sizeof (junk));
    expect_bad (f, "random bytes");

    expect_bad (tu_path (tmpdir, "does-not-exist.h5"), "missing");
    expect_bad (tmpdir, "directory");
    const char *empty = tu_path (tmpdir, "empty-file.h5");
    write_bytes (empty, "", 0);
    expect_bad (empty, "empty");

    /* a valid file cut short */
    struct dspec d = { "/d", FS_DT_FLOAT64, false, 2, { 100, 100 }, { 0 }, -1, false };
    const char *whole = tu_path (tmpdir, "whole.h5");
    write_file (whole, &d, 1);
    FILE *fp = fopen (whole, "rb");
    assert_non_null (fp);
    static unsigned char bytes[200000];
    size_t n = fread (bytes, 1, sizeof (bytes), fp);
    fclose (fp);
    assert_true (n > 80000);
    const char *cut = tu_path (tmpdir, "truncated.h5");
    write_bytes (cut, bytes, n / 2);
    expect_bad (cut, "truncated");
    const char *cut2 = tu_path (tmpdir, "truncated2.h5");
    write_bytes (cut2, bytes, 1500);
    expect_bad (cut2, "truncated after the header");

    /* signature intact, metadata smashed: must fail cleanly or scan something
     * sane, never crash */
    for (int trial = 0; trial < 20; trial++) {
        unsigned char *b = malloc (n);
        memcpy (b, bytes, n);
        for (int k = 0; k < 16; k++) {
            size_t at = 8 + rnd (2000);
            b[at] = (unsigned char)rnd (256);
        }
        const char *sm = tu_path (tmpdir, "smashed.h5");
        write_bytes (sm, b, n);
        free (b);
        fs_error_t err = { 0 };
        if (format_scan (sm, never, NULL, &err) < 0)
            assert_true (err.code == FS_EFAIL && err.text[0]);
    }
}

/* Output files: every type, ranks 0-3, empty dims, nested groups, boxes. */
static void test_out (void **state)
{
    (void)state;
    for (size_t t = 0; t < NTYPES; t++) {
        for (int r = 0; r <= 3; r++) {
            hsize_t dims[3] = { 6, 5, 4 };
            if (r == 2 && t % 2)
                dims[1] = 0;    /* an empty array */
            uint64_t shape[3] = { dims[0], dims[1], dims[2] };
            uint64_t n = nelems (r, dims);
            size_t el = dtype_size (all_types[t]);
            unsigned char *data = make_data (all_types[t], n);
            const char *file = tu_path (tmpdir, "out.h5");
            fs_error_t err = { 0 };
            struct format_out *o = format_out_create (file, "/a/b/result", all_types[t], r,
                                                      shape, &err);
            if (!o)
                fail_msg ("create: %s", err.text);
            if (r == 0) {
                assert_int_equal (format_out_write (o, NULL, NULL, data, &err), 0);
            } else {
                /* write in boxes along dimension 0: rows of 1, 2, 3 */
                uint64_t row = n / (r ? shape[0] : 1);
                for (uint64_t i = 0, step = 1; i < shape[0]; i += step, step++) {
                    uint64_t off[3] = { i, 0, 0 }, cnt[3] = { step, shape[1], shape[2] };
                    if (i + step > shape[0])
                        cnt[0] = shape[0] - i;
                    if (format_out_write (o, off, cnt, data + i * row * el, &err) < 0)
                        fail_msg ("write: %s", err.text);
                }
            }
            uint64_t off[3] = { 5, 0, 0 }, cnt[3] = { 2, 1, 1 };
            if (r > 0)
                assert_int_equal (format_out_write (o, off, cnt, data, &err), -1);
            assert_int_equal (format_out_close (o, &err), 0);

            /* read back with HDF5 directly */
            hid_t fid = H5Fopen (file, H5F_ACC_RDONLY, H5P_DEFAULT);
            assert_true (fid >= 0);
            hid_t did = H5Dopen2 (fid, "/a/b/result", H5P_DEFAULT);
            assert_true (did >= 0);
            hid_t ft = H5Dget_type (did);
            assert_true (H5Tequal (ft, disk_type (all_types[t], false)) > 0);
            hid_t sid = H5Dget_space (did);
            assert_int_equal (H5Sget_simple_extent_ndims (sid), r);
            assert_int_equal (H5Sget_simple_extent_type (sid), r ? H5S_SIMPLE : H5S_SCALAR);
            hsize_t got[3];
            H5Sget_simple_extent_dims (sid, got, NULL);
            for (int d = 0; d < r; d++)
                assert_int_equal (got[d], dims[d]);
            unsigned char *back = malloc (n * el + 1);
            if (n) {
                assert_true (H5Dread (did, mem_type (all_types[t]), H5S_ALL, H5S_ALL,
                                      H5P_DEFAULT, back) >= 0);
                assert_memory_equal (back, data, n * el);
            }
            free (back);
            H5Sclose (sid);
            H5Tclose (ft);
            H5Dclose (did);
            H5Fclose (fid);

            /* and through the adapter */
            struct dspec s = { "/a/b/result", all_types[t], false, r, { 0 }, { 0 }, -1, false };
            memcpy (s.dims, dims, sizeof (dims));
            check_dset (file, &s, 10);
            free (data);
        }
    }
    /* a file that can't be created */
    fs_error_t err = { 0 };
    uint64_t one = 1;
    assert_null (format_out_create (tu_path (tmpdir, "no/such/dir/x.h5"), "/d", FS_DT_INT8, 1, &one, &err));
    assert_int_equal (err.code, FS_EFAIL);
    assert_non_null (strstr (err.text, "x.h5"));
    format_out_close (NULL, &err);
}

/* Provenance: a string attribute on an output's dataset, read back with HDF5
 * (and replaced when set again); a missing dataset or file is an error. */
static void read_attr (const char *file, const char *dset, const char *name, char *buf, size_t n)
{
    hid_t fid = H5Fopen (file, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true (fid >= 0);
    hid_t aid = H5Aopen_by_name (fid, dset, name, H5P_DEFAULT, H5P_DEFAULT);
    assert_true (aid >= 0);
    hid_t tid = H5Aget_type (aid);
    assert_true (H5Tis_variable_str (tid) > 0);
    assert_int_equal (H5Tget_cset (tid), H5T_CSET_UTF8);
    char *v = NULL;
    assert_true (H5Aread (aid, tid, &v) >= 0);
    snprintf (buf, n, "%s", v);
    H5free_memory (v);
    H5Tclose (tid);
    H5Aclose (aid);
    H5Fclose (fid);
}

static void test_attr (void **state)
{
    (void)state;
    const char *file = tu_path (tmpdir, "attr.h5");
    uint64_t shape[1] = { 3 };
    fs_error_t err = { 0 };
    struct format_out *o = format_out_create (file, "/o", FS_DT_INT32, 1, shape, &err);
    assert_non_null (o);
    assert_int_equal (format_out_close (o, &err), 0);
    char v[256];
    assert_int_equal (format_attr_set (file, "/o", "fedsched_app", "heat@1.0 sha256:abc", &err), 0);
    read_attr (file, "/o", "fedsched_app", v, sizeof (v));
    assert_string_equal (v, "heat@1.0 sha256:abc");
    assert_int_equal (format_attr_set (file, "/o", "fedsched_app", "heat@1.1 sha256:def", &err), 0);
    read_attr (file, "/o", "fedsched_app", v, sizeof (v));
    assert_string_equal (v, "heat@1.1 sha256:def");
    /* The data is untouched and the file still reads as it did. */
    fs_dsinfo_t info;
    assert_int_equal (format_info (file, "/o", &info, &err), 0);
    assert_int_equal (info.ndims, 1);
    assert_int_equal (format_attr_set (file, "/nope", "fedsched_app", "x", &err), -1);
    assert_int_equal (err.code, FS_EFAIL);
    assert_int_equal (format_attr_set (tu_path (tmpdir, "missing.h5"), "/o", "a", "x", &err), -1);
    assert_int_equal (format_attr_set (tu_path (tmpdir, "."), "/o", "a", "x", &err), -1);
}

static void test_large_rows (void **state)
{
    (void)state;
    /* a bigger chunked+gzip dataset read in row pieces, like the data server */
    struct dspec s = { "/big", FS_DT_FLOAT32, false, 2, { 600, 700 }, { 64, 100 }, 1, true };
    const char *file = tu_path (tmpdir, "rows.h5");
    write_file (file, &s, 1);
    fs_error_t err = { 0 };
    struct format_src *src = format_src_open (file, "/big", &err);
    assert_non_null (src);
    for (uint64_t r = 0; r < 600; r += 7) {
        fs_sel_t sel = { .ndims = 2, .start = { r, 0 }, .step = { 1, 1 },
                         .count = { r + 7 > 600 ? 600 - r : 7, 700 } };
        check_sel (src, &s, &sel);
    }
    format_src_close (src);
}

/* format_src_extent: a selection is one run of the file exactly when it says
 * so, and the run's bytes are what format_src_read returns. */
static void extent_case (struct format_src *src, const struct dspec *s, const fs_sel_t *sel,
                         int want)
{
    int fd = -1;
    uint64_t off = 0, len = 0;
    int got = format_src_extent (src, sel, &fd, &off, &len);
    assert_int_equal (got, want);
    if (!got)
        return;
    uint64_t n = 1;
    for (int d = 0; d < sel->ndims; d++)
        n *= sel->count[d];
    size_t el = dtype_size (s->t);
    assert_int_equal (len, n * el);
    unsigned char *a = malloc (len + 1), *b = malloc (len + 1);
    fs_error_t err = { 0 };
    assert_int_equal (format_src_read (src, sel, a, &err), 0);
    assert_int_equal (pread (fd, b, len, (off_t)off), (ssize_t)len);
    assert_memory_equal (a, b, len);
    free (a);
    free (b);
}

static void test_extent (void **state)
{
    (void)state;
    const struct dspec specs[] = {
        { "/c3", FS_DT_FLOAT32, false, 3, { 5, 6, 7 }, { 0 }, -1, false },
        { "/c1", FS_DT_INT16, false, 1, { 100 }, { 0 }, -1, false },
        { "/be", FS_DT_FLOAT64, true, 2, { 4, 5 }, { 0 }, -1, false },
        { "/ch", FS_DT_INT32, false, 2, { 8, 9 }, { 4, 9 }, -1, false },
    };
    const char *file = tu_path (tmpdir, "extent.h5");
    write_file (file, specs, 4);
    fs_error_t err = { 0 };
    struct format_src *c3 = format_src_open (file, "/c3", &err);
    assert_non_null (c3);
    /* whole, row bands, one row, part of one row, one element */
    fs_sel_t all = { .ndims = 3, .start = { 0, 0, 0 }, .step = { 1, 1, 1 }, .count = { 5, 6, 7 } };
    extent_case (c3, &specs[0], &all, 1);
    fs_sel_t band = { .ndims = 3, .start = { 1, 0, 0 }, .step = { 1, 1, 1 }, .count = { 3, 6, 7 } };
    extent_case (c3, &specs[0], &band, 1);
    fs_sel_t rows = { .ndims = 3, .start = { 2, 1, 0 }, .step = { 1, 1, 1 }, .count = { 1, 4, 7 } };
    extent_case (c3, &specs[0], &rows, 1);
    fs_sel_t part = { .ndims = 3, .start = { 4, 5, 2 }, .step = { 1, 1, 1 }, .count = { 1, 1, 4 } };
    extent_case (c3, &specs[0], &part, 1);
    fs_sel_t one = { .ndims = 3, .start = { 4, 5, 6 }, .step = { 9, 9, 9 }, .count = { 1, 1, 1 } };
    extent_case (c3, &specs[0], &one, 1);
    /* not one run: a column, a step, a partial inner row under several outer ones */
    fs_sel_t col = { .ndims = 3, .start = { 0, 0, 3 }, .step = { 1, 1, 1 }, .count = { 5, 6, 1 } };
    extent_case (c3, &specs[0], &col, 0);
    fs_sel_t step = { .ndims = 3, .start = { 0, 0, 0 }, .step = { 2, 1, 1 }, .count = { 3, 6, 7 } };
    extent_case (c3, &specs[0], &step, 0);
    fs_sel_t cut = { .ndims = 3, .start = { 0, 1, 0 }, .step = { 1, 1, 1 }, .count = { 2, 5, 7 } };
    extent_case (c3, &specs[0], &cut, 0);
    fs_sel_t empty = { .ndims = 3, .start = { 0, 0, 0 }, .step = { 1, 1, 1 }, .count = { 0, 6, 7 } };
    extent_case (c3, &specs[0], &empty, 0);
    format_src_close (c3);
    struct format_src *c1 = format_src_open (file, "/c1", &err);
    fs_sel_t mid = { .ndims = 1, .start = { 17 }, .step = { 1 }, .count = { 60 } };
    extent_case (c1, &specs[1], &mid, 1);
    format_src_close (c1);
    /* stored big-endian: a read converts, so no raw run */
    struct format_src *be = format_src_open (file, "/be", &err);
    fs_sel_t beall = { .ndims = 2, .start = { 0, 0 }, .step = { 1, 1 }, .count = { 4, 5 } };
    extent_case (be, &specs[2], &beall, 0);
    format_src_close (be);
    /* chunked: never */
    struct format_src *ch = format_src_open (file, "/ch", &err);
    fs_sel_t chall = { .ndims = 2, .start = { 0, 0 }, .step = { 1, 1 }, .count = { 8, 9 } };
    extent_case (ch, &specs[3], &chall, 0);
    format_src_close (ch);
}

static int rm_one (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove (path);
}

static void rmtree (const char *dir)
{
    if (nftw (dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
        fprintf (stderr, "could not remove %s\n", dir);
}

int main (void)
{
    const char *base = getenv ("TMPDIR");
    snprintf (tmpdir, sizeof (tmpdir), "%s/test_format.XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp (tmpdir)) {
        perror ("mkdtemp");
        return 1;
    }
    format_init ();
    H5Eset_auto2 (H5E_DEFAULT, NULL, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_types_ranks),
        cmocka_unit_test (test_chunked),
        cmocka_unit_test (test_empty),
        cmocka_unit_test (test_unsupported_and_links),
        cmocka_unit_test (test_corrupt),
        cmocka_unit_test (test_out),
        cmocka_unit_test (test_large_rows),
        cmocka_unit_test (test_attr),
        cmocka_unit_test (test_extent),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    rmtree (tmpdir);
    return rc;
}
