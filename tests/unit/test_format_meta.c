/* test_format_meta.c - the metadata the hdf5 format adapter reads
 * (adapters/format/hdf5/hdf5_meta.c, format_meta): attribute values of every
 * kind HDF5 has, summarised when too large or not text, never left out
 * silently; the attribute limit counted; dimension scales attached through
 * DIMENSION_LIST (written here with the plain HDF5 API, as the Dimension
 * Scales specification lays it out); errors for missing files and datasets.
 * Files written by h5py with its dims API are covered by
 * tests/integration/search.sh. */
#include <ftw.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <hdf5.h>
#include <jansson.h>

#include "adapters/format/format.h"

static char tmpdir[4096];
static char file[4200];

static void attr_write (hid_t loc, const char *name, hid_t type, int n, const void *data)
{
    hsize_t dims = (hsize_t)n;
    hid_t sp = n < 0 ? H5Screate (H5S_NULL) : n == 0 ? H5Screate (H5S_SCALAR) : H5Screate_simple (1, &dims, NULL);
    hid_t a = H5Acreate2 (loc, name, type, sp, H5P_DEFAULT, H5P_DEFAULT);
    assert_true (a >= 0);
    if (n >= 0)
        assert_true (H5Awrite (a, type, data) >= 0);
    H5Aclose (a);
    H5Sclose (sp);
}

static hid_t str_type (size_t size, H5T_str_t pad)
{
    hid_t t = H5Tcopy (H5T_C_S1);
    H5Tset_size (t, size);
    H5Tset_strpad (t, pad);
    H5Tset_cset (t, H5T_CSET_UTF8);
    return t;
}

static hid_t dset (hid_t fid, const char *name, int rank, const hsize_t *dims, hid_t type)
{
    hid_t sp = H5Screate_simple (rank, dims, NULL);
    hid_t d = H5Dcreate2 (fid, name, type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Sclose (sp);
    assert_true (d >= 0);
    return d;
}

/* /v (3, 4) float32 with every kind of attribute and a scale on dimension 0;
 * /t the scale (days since 2000-01-01, values 10, 20, 30); /many with 70
 * attributes; root attributes title and Conventions. */
static void make_file (void)
{
    snprintf (file, sizeof (file), "%s/m.h5", tmpdir);
    hid_t fid = H5Fcreate (file, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true (fid >= 0);
    hid_t vs = H5Tcopy (H5T_C_S1);
    H5Tset_size (vs, H5T_VARIABLE);
    H5Tset_cset (vs, H5T_CSET_UTF8);
    const char *title = "A test file";
    attr_write (fid, "title", vs, 0, &title);
    hid_t t8 = str_type (8, H5T_STR_NULLPAD);
    attr_write (fid, "Conventions", t8, 0, "CF-1.8\0\0");
    hsize_t d34[2] = { 3, 4 }, d3 = 3;
    hid_t v = dset (fid, "v", 2, d34, H5T_IEEE_F32LE);
    hid_t sp16 = str_type (16, H5T_STR_SPACEPAD);
    attr_write (v, "units", sp16, 0, "K               ");
    const char *ln = "Temp\xc3\xa9rature de l'air";   /* UTF-8 */
    attr_write (v, "long_name", vs, 0, &ln);
    hid_t b8 = str_type (4, H5T_STR_NULLPAD);
    attr_write (v, "raw", b8, 0, "\xff\xfe\x01\x02");
    int32_t three[3] = { 1, -2, 3 };
    attr_write (v, "ints", H5T_NATIVE_INT32, 3, three);
    uint64_t big = UINT64_MAX;
    attr_write (v, "big", H5T_NATIVE_UINT64, 0, &big);
    float fill = NAN;
    attr_write (v, "_FillValue", H5T_NATIVE_FLOAT, 0, &fill);
    double inf[2] = { INFINITY, -INFINITY };
    attr_write (v, "limits", H5T_NATIVE_DOUBLE, 2, inf);
    attr_write (v, "empty", H5T_NATIVE_INT32, -1, NULL);
    double many[100];
    for (int i = 0; i < 100; i++)
        many[i] = i - 50;
    attr_write (v, "series", H5T_NATIVE_DOUBLE, 100, many);
    char *longs = malloc (3000);
    memset (longs, 'x', 2999);
    longs[2999] = '\0';
    attr_write (v, "history", vs, 0, &longs);
    free (longs);
    const char *list[3] = { "a", "b", "c" };
    attr_write (v, "flags", vs, 3, list);
    hid_t et = H5Tenum_create (H5T_NATIVE_INT8);
    int8_t ev = 0;
    H5Tenum_insert (et, "LOW", &ev);
    ev = 1;
    H5Tenum_insert (et, "HIGH", &ev);
    ev = 1;
    attr_write (v, "level", et, 0, &ev);
    hid_t ct = H5Tcreate (H5T_COMPOUND, 8);
    H5Tinsert (ct, "a", 0, H5T_NATIVE_INT32);
    H5Tinsert (ct, "b", 4, H5T_NATIVE_FLOAT);
    char cdata[8] = { 0 };
    attr_write (v, "pair", ct, 0, cdata);
    /* The scale, and DIMENSION_LIST / REFERENCE_LIST as H5DS writes them. */
    hid_t t = dset (fid, "t", 1, &d3, H5T_IEEE_F64LE);
    double tv[3] = { 10, 20, 30 };
    H5Dwrite (t, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, tv);
    hid_t cls = str_type (16, H5T_STR_NULLTERM);
    attr_write (t, "CLASS", cls, 0, "DIMENSION_SCALE");
    hid_t nm = str_type (5, H5T_STR_NULLTERM);
    attr_write (t, "NAME", nm, 0, "time");
    const char *tu = "days since 2000-01-01";
    attr_write (t, "units", vs, 0, &tu);
    hvl_t dl[2];
    hobj_ref_t ref;
    assert_true (H5Rcreate (&ref, fid, "/t", H5R_OBJECT, -1) >= 0);
    dl[0].len = 1;
    dl[0].p = &ref;
    dl[1].len = 0;
    dl[1].p = NULL;
    hid_t vt = H5Tvlen_create (H5T_STD_REF_OBJ);
    attr_write (v, "DIMENSION_LIST", vt, 2, dl);
    H5Tclose (vt);
    hid_t m = dset (fid, "many", 1, &d3, H5T_STD_I32LE);
    for (int i = 0; i < 70; i++) {
        char an[16];
        int32_t x = i;
        snprintf (an, sizeof (an), "a%02d", i);
        attr_write (m, an, H5T_NATIVE_INT32, 0, &x);
    }
    H5Dclose (m);
    H5Tclose (nm);
    H5Tclose (cls);
    H5Dclose (t);
    H5Tclose (ct);
    H5Tclose (et);
    H5Tclose (b8);
    H5Tclose (sp16);
    H5Dclose (v);
    H5Tclose (t8);
    H5Tclose (vs);
    H5Fclose (fid);
}

static const json_t *attr (const json_t *meta, const char *k)
{
    const json_t *v = json_object_get (json_object_get (meta, "attrs"), k);
    if (!v)
        fail_msg ("attribute %s missing: %s", k, json_dumps (json_object_get (meta, "attrs"), 0));
    return v;
}

static const char *summary (const json_t *v)
{
    const char *s = json_string_value (json_object_get (v, "summary"));
    if (!s)
        fail_msg ("not a summary: %s", json_dumps (v, JSON_ENCODE_ANY));
    return s;
}

static void test_values (void **state)
{
    (void)state;
    fs_error_t err;
    json_t *m = format_meta (file, "/v", &err);
    if (!m)
        fail_msg ("format_meta: %s", err.text);
    assert_string_equal (json_string_value (attr (m, "units")), "K");
    assert_string_equal (json_string_value (attr (m, "long_name")), "Temp\xc3\xa9rature de l'air");
    assert_true (strstr (summary (attr (m, "raw")), "not UTF-8"));
    const json_t *ints = attr (m, "ints");
    assert_int_equal (json_array_size (ints), 3);
    assert_int_equal (json_integer_value (json_array_get (ints, 1)), -2);
    assert_true (json_is_real (attr (m, "big")));
    assert_string_equal (json_string_value (attr (m, "_FillValue")), "nan");
    assert_string_equal (json_string_value (json_array_get (attr (m, "limits"), 0)), "inf");
    assert_string_equal (json_string_value (json_array_get (attr (m, "limits"), 1)), "-inf");
    assert_true (json_is_null (attr (m, "empty")));
    assert_string_equal (summary (attr (m, "series")), "float64[100], min -50, max 49");
    const json_t *h = attr (m, "history");
    assert_string_equal (summary (h), "string of 2999 bytes; the first 1024 kept");
    assert_int_equal (strlen (json_string_value (json_object_get (h, "text"))), 1024);
    assert_int_equal (json_array_size (attr (m, "flags")), 3);
    assert_string_equal (json_string_value (attr (m, "level")), "HIGH");
    assert_true (strstr (summary (attr (m, "pair")), "compound attribute"));
    assert_null (json_object_get (json_object_get (m, "attrs"), "DIMENSION_LIST"));
    json_t *fa = json_object_get (m, "file_attrs");
    assert_string_equal (json_string_value (json_object_get (fa, "title")), "A test file");
    assert_string_equal (json_string_value (json_object_get (fa, "Conventions")), "CF-1.8");
    assert_int_equal (json_array_size (json_object_get (m, "filters")), 0);
    /* Dimensions: a scale on the first, none on the second. */
    json_t *dims = json_object_get (m, "dims");
    assert_int_equal (json_array_size (dims), 2);
    json_t *d0 = json_array_get (dims, 0), *d1 = json_array_get (dims, 1);
    assert_string_equal (json_string_value (json_object_get (d0, "name")), "time");
    assert_string_equal (json_string_value (json_object_get (d0, "scale")), "/t");
    assert_string_equal (json_string_value (json_object_get (d0, "units")), "days since 2000-01-01");
    assert_true (json_real_value (json_object_get (d0, "first")) == 10.0);
    assert_true (json_real_value (json_object_get (d0, "last")) == 30.0);
    assert_int_equal (json_integer_value (json_object_get (d0, "size")), 3);
    assert_null (json_object_get (d1, "name"));
    assert_int_equal (json_integer_value (json_object_get (d1, "size")), 4);
    json_decref (m);
    /* The scale is its own dimension. */
    m = format_meta (file, "/t", &err);
    assert_non_null (m);
    d0 = json_array_get (json_object_get (m, "dims"), 0);
    assert_string_equal (json_string_value (json_object_get (d0, "name")), "time");
    assert_null (json_object_get (json_object_get (m, "attrs"), "CLASS"));
    json_decref (m);
}

static void test_limits_and_errors (void **state)
{
    (void)state;
    fs_error_t err;
    json_t *m = format_meta (file, "/many", &err);
    assert_non_null (m);
    assert_int_equal (json_object_size (json_object_get (m, "attrs")), META_ATTRS_MAX);
    assert_int_equal (json_integer_value (json_object_get (m, "attrs_omitted")), 70 - META_ATTRS_MAX);
    json_decref (m);
    err.code = 0;
    assert_null (format_meta (file, "/nosuch", &err));
    assert_int_equal (err.code, FS_EFAIL);
    assert_true (strstr (err.text, "/nosuch"));
    char missing[4300];
    snprintf (missing, sizeof (missing), "%s/none.h5", tmpdir);
    assert_null (format_meta (missing, "/v", &err));
    assert_int_equal (err.code, FS_EFAIL);
}

static int rm_one (const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove (p);
}

static int setup (void **state)
{
    (void)state;
    const char *t = getenv ("TMPDIR");
    snprintf (tmpdir, sizeof (tmpdir), "%s/test_format_meta.XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp (tmpdir))
        return -1;
    format_init ();
    make_file ();
    return 0;
}

static int teardown (void **state)
{
    (void)state;
    return nftw (tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_values),
        cmocka_unit_test (test_limits_and_errors),
    };
    return cmocka_run_group_tests (tests, setup, teardown);
}
