/* test_names.c - logical names, identifiers, dataset naming, globs, dtypes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/dtype.h"
#include "common/names.h"

static void test_name_valid (void **state)
{
    static const char *good[] = {
        "a", "a/b", "site1/conf/grid/g/temp", "A-Z_a.z-09", "...", ".a/..b/b..", "_/-/.x",
    };
    for (size_t i = 0; i < sizeof (good) / sizeof (good[0]); i++) {
        fs_error_t err = { 0 };
        if (name_valid (good[i], &err) < 0)
            fail_msg ("'%s': %s", good[i], err.text);
    }
    static const char *bad[][2] = {
        { "", "name is empty" },
        { "/a", "name '/a' at column 1: a name may not start with '/'" },
        { "a/", "name 'a/' at column 2: a name may not end with '/'" },
        { "a//b", "name 'a//b' at column 3: empty component between two '/'" },
        { "/", "at column 1" },
        { ".", "name '.' at column 1: component '.' is not allowed" },
        { "a/./b", "name 'a/./b' at column 3: component '.' is not allowed" },
        { "a/..", "name 'a/..' at column 3: component '..' is not allowed" },
        { "../a", "at column 1: component '..'" },
        { "a b", "name 'a b' at column 2: a space is not allowed" },
        { "a*b", "at column 2: '*' is not allowed" },
        { "a\\b", "at column 2: '\\' is not allowed" },
        { "a[1]", "at column 2: '[' is not allowed" },
        { "ab\tc", "at column 3: byte 0x09 is not allowed" },
        { "caf\xc3\xa9", "at column 4: byte 0xc3 is not allowed" },
    };
    for (size_t i = 0; i < sizeof (bad) / sizeof (bad[0]); i++) {
        fs_error_t err = { 0 };
        if (name_valid (bad[i][0], &err) == 0)
            fail_msg ("'%s' accepted", bad[i][0]);
        assert_int_equal (err.code, FS_EINVAL);
        if (!strstr (err.text, bad[i][1]))
            fail_msg ("'%s': got '%s', want '%s'", bad[i][0], err.text, bad[i][1]);
    }
    assert_int_equal (name_valid (NULL, NULL), -1);
}

static void test_name_length (void **state)
{
    char name[300];
    fs_error_t err;

    /* 255 bytes: valid, with or without separators */
    memset (name, 'a', 255);
    name[255] = '\0';
    assert_int_equal (name_valid (name, &err), 0);
    for (int i = 1; i < 255; i += 2)
        name[i] = '/';
    assert_int_equal (name_valid (name, &err), 0);
    /* 256 bytes: refused */
    memset (name, 'a', 256);
    name[256] = '\0';
    assert_int_equal (name_valid (name, &err), -1);
    assert_int_equal (err.code, FS_EINVAL);
    assert_non_null (strstr (err.text, "is 256 bytes long: at most 255"));
}

static void test_ident_valid (void **state)
{
    fs_error_t err;
    char id[80];

    assert_int_equal (ident_valid ("site", "site1", &err), 0);
    assert_int_equal (ident_valid ("task", "Task_2-b", &err), 0);
    memset (id, 'x', 63);
    id[63] = '\0';
    assert_int_equal (ident_valid ("site", id, &err), 0);
    id[63] = 'x';
    id[64] = '\0';
    assert_int_equal (ident_valid ("site", id, &err), -1);
    assert_int_equal (err.code, FS_EINVAL);
    assert_non_null (strstr (err.text, "site name"));
    assert_non_null (strstr (err.text, "64 bytes long: at most 63"));
    assert_int_equal (ident_valid ("site", "", &err), -1);
    assert_non_null (strstr (err.text, "site name is empty"));
    assert_int_equal (ident_valid ("task", NULL, &err), -1);
    assert_int_equal (ident_valid ("task", "a.b", &err), -1);
    assert_string_equal (err.text, "task name 'a.b' at column 2: '.' is not allowed "
                         "(use A-Z a-z 0-9 _ -)");
    assert_int_equal (ident_valid ("site", "a/b", &err), -1);
    assert_non_null (strstr (err.text, "at column 2: '/'"));
    assert_int_equal (ident_valid ("site", "a b", &err), -1);
    assert_non_null (strstr (err.text, "a space"));
}

static void test_name_for_dataset (void **state)
{
    char out[256];
    fs_error_t err;

    assert_int_equal (name_for_dataset ("site1", "conf/grid.h5", "/g/temp", out, sizeof (out),
                                        &err), 0);
    assert_string_equal (out, "site1/conf/grid/g/temp");
    assert_int_equal (name_for_dataset ("", "conf/grid.h5", "/g/temp", out, sizeof (out), &err),
                      0);
    assert_string_equal (out, "conf/grid/g/temp");
    assert_int_equal (name_for_dataset (NULL, "grid.h5", "/t", out, sizeof (out), &err), 0);
    assert_string_equal (out, "grid/t");
    assert_int_equal (name_for_dataset ("p/q", "a/b/c.hdf5", "/x", out, sizeof (out), &err), 0);
    assert_string_equal (out, "p/q/a/b/c/x");
    assert_int_equal (name_for_dataset ("p", "c.he5", "/x", out, sizeof (out), &err), 0);
    assert_string_equal (out, "p/c/x");
    assert_int_equal (name_for_dataset ("p", "c.nc", "/x", out, sizeof (out), &err), 0);
    assert_string_equal (out, "p/c/x");
    assert_int_equal (name_for_dataset ("p", "c.v2.h5", "x", out, sizeof (out), &err), 0);
    assert_string_equal (out, "p/c.v2/x");
    /* only the extension goes, once */
    assert_int_equal (name_for_dataset ("p", "c.h5.h5", "/x", out, sizeof (out), &err), 0);
    assert_string_equal (out, "p/c.h5/x");

    /* invalid components in the file path or dataset path */
    static const char *bad[][3] = {
        { "site1", "./grid.h5", "/t" },
        { "site1", "../grid.h5", "/t" },
        { "site1", "conf//grid.h5", "/t" },
        { "site1", "my conf/grid.h5", "/t" },
        { "site1", "/abs/grid.h5", "/t" },
        { "site1", "grid.h5", "/g//t" },
        { "site1", "grid.h5", "/g/t/" },
        { "site1", "grid.h5", "/g/t t" },
        { "site/", "grid.h5", "/t" },
        { "/site", "grid.h5", "/t" },
        { "site1", "", "/t" },
    };
    for (size_t i = 0; i < sizeof (bad) / sizeof (bad[0]); i++) {
        err.code = 0;
        if (name_for_dataset (bad[i][0], bad[i][1], bad[i][2], out, sizeof (out), &err) == 0)
            fail_msg ("%s + %s + %s gave '%s'", bad[i][0], bad[i][1], bad[i][2], out);
        assert_int_equal (err.code, FS_EINVAL);
        assert_non_null (strstr (err.text, "in file"));
    }

    /* 255-byte boundary on the composed name */
    char file[300];
    memset (file, 'f', 250);
    strcpy (file + 250, ".h5");                         /* stem 250 bytes */
    assert_int_equal (name_for_dataset ("", file, "/abcd", out, sizeof (out), &err), 0);
    assert_int_equal (strlen (out), 255);
    assert_int_equal (name_for_dataset ("", file, "/abcde", out, sizeof (out), &err), -1);
    assert_int_equal (err.code, FS_EINVAL);
    assert_non_null (strstr (err.text, "256 bytes"));
    /* output buffer too small */
    assert_int_equal (name_for_dataset ("p", "a.h5", "/b", out, 5, &err), -1);
    assert_int_equal (name_for_dataset ("p", "a.h5", "/b", out, 6, &err), 0);
    assert_string_equal (out, "p/a/b");
}

static void test_hdf5_file_and_glob (void **state)
{
    assert_true (name_is_hdf5_file ("a.h5"));
    assert_true (name_is_hdf5_file ("dir/a.hdf5"));
    assert_true (name_is_hdf5_file ("a.he5"));
    assert_true (name_is_hdf5_file ("a.nc"));
    assert_true (name_is_hdf5_file ("A.H5"));
    assert_false (name_is_hdf5_file ("a.h5.bak"));
    assert_false (name_is_hdf5_file ("a.txt"));
    assert_false (name_is_hdf5_file ("h5"));
    assert_false (name_is_hdf5_file (".h5"));
    assert_false (name_is_hdf5_file ("dir/.h5"));
    assert_false (name_is_hdf5_file (NULL));

    assert_true (name_glob ("site1/*", "site1/conf/grid/g/temp"));
    assert_true (name_glob ("*/temp", "site1/conf/grid/g/temp"));
    assert_true (name_glob ("site?/c*", "site2/conf"));
    assert_true (name_glob ("a/[bc]", "a/c"));
    assert_false (name_glob ("site1/*", "site2/x"));
    assert_false (name_glob ("a", "ab"));
    assert_true (name_glob ("*", "a/b/c"));
    assert_false (name_glob (NULL, "a"));
}

static void test_dtype (void **state)
{
    static const struct { fs_dtype_t t; const char *name; size_t size; } all[] = {
        { FS_DT_INT8, "int8", 1 }, { FS_DT_INT16, "int16", 2 }, { FS_DT_INT32, "int32", 4 },
        { FS_DT_INT64, "int64", 8 }, { FS_DT_UINT8, "uint8", 1 }, { FS_DT_UINT16, "uint16", 2 },
        { FS_DT_UINT32, "uint32", 4 }, { FS_DT_UINT64, "uint64", 8 },
        { FS_DT_FLOAT32, "float32", 4 }, { FS_DT_FLOAT64, "float64", 8 },
    };
    for (size_t i = 0; i < sizeof (all) / sizeof (all[0]); i++) {
        assert_string_equal (dtype_name (all[i].t), all[i].name);
        assert_int_equal (dtype_parse (all[i].name), all[i].t);
        assert_int_equal (dtype_size (all[i].t), all[i].size);
    }
    assert_string_equal (dtype_name (FS_DT_INVALID), "invalid");
    assert_int_equal (dtype_size (FS_DT_INVALID), 0);
    assert_int_equal (dtype_parse ("float16"), FS_DT_INVALID);
    assert_int_equal (dtype_parse ("invalid"), FS_DT_INVALID);
    assert_int_equal (dtype_parse (""), FS_DT_INVALID);
    assert_int_equal (dtype_parse (NULL), FS_DT_INVALID);
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_name_valid),
        cmocka_unit_test (test_name_length),
        cmocka_unit_test (test_ident_valid),
        cmocka_unit_test (test_name_for_dataset),
        cmocka_unit_test (test_hdf5_file_and_glob),
        cmocka_unit_test (test_dtype),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
