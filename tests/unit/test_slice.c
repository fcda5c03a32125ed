/* test_slice.c - slice syntax, NumPy resolution, reductions and wire forms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/slice.h"

struct slice_case {
    const char *text;
    int ndims;
    uint64_t shape[4];
    int ok;
    int nres;
    uint64_t rshape[4];
    size_t voff, nvals;
    const char *error;
};

#include "slice_cases.inc"

#define NCASES (sizeof (slice_cases) / sizeof (slice_cases[0]))

/* Source flat index of every selected element, in row-major result order. */
static size_t sel_flat (const fs_sel_t *sel, const uint64_t *shape, uint64_t *out, size_t max)
{
    uint64_t idx[FS_MAXDIMS] = { 0 };
    uint64_t n = sel_nelems (sel);
    assert_true (n <= max);
    for (uint64_t e = 0; e < n; e++) {
        uint64_t flat = 0;
        for (int d = 0; d < sel->ndims; d++)
            flat = flat * shape[d] + sel->start[d] + idx[d] * sel->step[d];
        out[e] = flat;
        for (int d = sel->ndims - 1; d >= 0; d--) {
            if (++idx[d] < sel->count[d])
                break;
            idx[d] = 0;
        }
    }
    return (size_t)n;
}

static void test_numpy_cases (void **state)
{
    static uint64_t flat[1 << 16];
    int nok = 0, nerr = 0;

    for (size_t i = 0; i < NCASES; i++) {
        const struct slice_case *c = &slice_cases[i];
        fs_slice_t sl;
        fs_sel_t sel;
        fs_error_t err = { 0 };

        if (slice_parse (c->text, &sl, &err) < 0)
            fail_msg ("case %zu '%s': parse failed: %s", i, c->text, err.text);
        int rc = slice_resolve (&sl, c->ndims, c->shape, &sel, &err);
        if (!c->ok) {
            if (rc == 0)
                fail_msg ("case %zu '%s': resolved, NumPy says '%s'", i, c->text, c->error);
            assert_int_equal (err.code, FS_EINVAL);
            if (!strstr (err.text, c->error))
                fail_msg ("case %zu '%s': error '%s', NumPy says '%s'", i, c->text, err.text,
                          c->error);
            nerr++;
            continue;
        }
        if (rc < 0)
            fail_msg ("case %zu '%s': %s", i, c->text, err.text);
        uint64_t rshape[FS_MAXDIMS];
        int nres = sel_out_shape (&sel, rshape);
        assert_int_equal (nres, c->nres);
        for (int d = 0; d < nres; d++)
            if (rshape[d] != c->rshape[d])
                fail_msg ("case %zu '%s': dim %d is %llu, NumPy %llu", i, c->text, d,
                          (unsigned long long)rshape[d], (unsigned long long)c->rshape[d]);
        size_t n = sel_flat (&sel, c->shape, flat, sizeof (flat) / sizeof (flat[0]));
        assert_int_equal (n, c->nvals);
        for (size_t e = 0; e < n; e++)
            if (flat[e] != slice_case_vals[c->voff + e])
                fail_msg ("case %zu '%s': element %zu is %llu, NumPy %u", i, c->text, e,
                          (unsigned long long)flat[e], slice_case_vals[c->voff + e]);
        /* The wire form round-trips and passes validation. */
        json_t *j = sel_to_json (&sel);
        fs_sel_t back;
        if (sel_from_json (j, c->ndims, c->shape, &back, &err) < 0)
            fail_msg ("case %zu '%s': sel_from_json: %s", i, c->text, err.text);
        json_decref (j);
        assert_memory_equal (&back, &sel, sizeof (sel));
        nok++;
    }
    assert_true (nok > 300);
    assert_true (nerr > 50);
}

/* ---- parse ---- */

static void test_parse_forms (void **state)
{
    fs_slice_t sl;
    fs_error_t err;

    assert_int_equal (slice_parse ("site1/conf/grid/g/temp", &sl, &err), 0);
    assert_string_equal (sl.name, "site1/conf/grid/g/temp");
    assert_false (sl.bracketed);
    assert_int_equal (sl.nsel, 0);

    assert_int_equal (slice_parse ("a/b[ 1 , -2:, :7 , ::3,..., 1:2:5, -3 : -1 : 2 ,:,::]", &sl,
                                   &err), 0);
    assert_true (sl.bracketed);
    assert_string_equal (sl.name, "a/b");
    assert_int_equal (sl.nsel, 9);
    assert_int_equal (sl.sel[0].type, SEL_INDEX);
    assert_int_equal (sl.sel[0].index, 1);
    assert_int_equal (sl.sel[1].type, SEL_RANGE);
    assert_true (sl.sel[1].has_start && !sl.sel[1].has_stop && !sl.sel[1].has_step);
    assert_int_equal (sl.sel[1].start, -2);
    assert_true (!sl.sel[2].has_start && sl.sel[2].has_stop && !sl.sel[2].has_step);
    assert_int_equal (sl.sel[2].stop, 7);
    assert_true (!sl.sel[3].has_start && !sl.sel[3].has_stop && sl.sel[3].has_step);
    assert_int_equal (sl.sel[3].step, 3);
    assert_int_equal (sl.sel[4].type, SEL_ELLIPSIS);
    assert_int_equal (sl.sel[5].start, 1);
    assert_int_equal (sl.sel[5].stop, 2);
    assert_int_equal (sl.sel[5].step, 5);
    assert_int_equal (sl.sel[6].start, -3);
    assert_int_equal (sl.sel[6].stop, -1);
    assert_int_equal (sl.sel[6].step, 2);
    assert_true (!sl.sel[7].has_start && !sl.sel[7].has_stop && !sl.sel[7].has_step);
    assert_true (!sl.sel[8].has_start && !sl.sel[8].has_stop && !sl.sel[8].has_step);

    assert_int_equal (slice_parse ("x[+3]", &sl, &err), 0);
    assert_int_equal (sl.sel[0].index, 3);
    assert_int_equal (slice_parse ("x[-9223372036854775808:9223372036854775807:9223372036854775807]",
                                   &sl, &err), 0);
    assert_int_equal (sl.sel[0].start, INT64_MIN);
    assert_int_equal (sl.sel[0].stop, INT64_MAX);
    assert_int_equal (sl.sel[0].step, INT64_MAX);
    assert_int_equal (slice_parse ("x[\t1\t]", &sl, &err), 0);

    /* FS_MAXDIMS selectors are fine */
    char buf[256] = "x[";
    for (int i = 0; i < FS_MAXDIMS; i++)
        strcat (buf, i ? ",0" : "0");
    strcat (buf, "]");
    assert_int_equal (slice_parse (buf, &sl, &err), 0);
    assert_int_equal (sl.nsel, FS_MAXDIMS);
}

struct bad_case {
    const char *text;
    const char *msg;        /* exact, or substring if it does not start with "slice" */
};

static const struct bad_case bad_slices[] = {
    { "x[::0]", "slice 'x[::0]' at column 5: step must be positive" },
    { "a/b[1,::0]", "slice 'a/b[1,::0]' at column 9: step must be positive" },
    { "a/b[1,::-1]", "slice 'a/b[1,::-1]' at column 9: step must be positive" },
    { "x[1:5:-2]", "at column 7: step must be positive" },
    { "x[::+0]", "at column 5: step must be positive" },
    { "x[[1,2]]", "at column 3: fancy indexing" },
    { "x[0,[1,2]]", "at column 5: fancy indexing" },
    { "x[(1,2)]", "at column 3: fancy indexing" },
    { "x[None]", "at column 3: None/newaxis" },
    { "x[1,newaxis]", "at column 5: None/newaxis" },
    { "x[np.newaxis]", "at column 3: None/newaxis" },
    { "x[True]", "at column 3: boolean indexing" },
    { "x[:,False]", "at column 5: boolean indexing" },
    { "x[1.5]", "at column 3: indices must be integers" },
    { "x[.5]", "at column 3: indices must be integers" },
    { "x[1e3]", "at column 3: indices must be integers" },
    { "x[1:2.0]", "at column 5: indices must be integers" },
    { "x[...,...]", "at column 7: an index can only have a single ellipsis" },
    { "x[..]", "at column 3: expected '...'" },
    { "x[]", "at column 3: empty selection" },
    { "x[ ]", "at column 4: empty selection" },
    { "x[1,,2]", "at column 5: empty selector before ','" },
    { "x[1,]", "at column 5: empty selector before ']'" },
    { "x[,1]", "at column 3: empty selector before ','" },
    { "x[1]a", "at column 5: unexpected text after ']'" },
    { "x[1] ", "at column 5: unexpected text after ']'" },
    { "x[1][2]", "at column 5: unexpected text after ']'" },
    { "x[1", "at column 4: missing ']'" },
    { "x[1:", "at column 5: missing ']'" },
    { "x[1 2]", "at column 5: unexpected character '2': expected ',' or ']'" },
    { "x[1:2:3:4]", "at column 8: too many ':'" },
    { "x[a]", "at column 3: unexpected character 'a'" },
    { "x[1a]", "at column 3: malformed integer" },
    { "x[0x10]", "at column 3: malformed integer" },
    { "x[-]", "at column 3: '-' must be followed by digits" },
    { "x[--1]", "at column 3: '-' must be followed by digits" },
    { "x[9223372036854775808]", "at column 3: integer 9223372036854775808 does not fit" },
    { "x[-9223372036854775809]", "at column 3: integer -9223372036854775809 does not fit" },
    { "x[:99999999999999999999999]", "at column 4: integer 99999999999999999999999 does not fit" },
    { "x[\x01]", "at column 3: unexpected byte 0x01" },
    { "a//b[1]", "name 'a//b' at column 3" },
    { "[1]", "name is empty" },
    { "/a[1]", "name '/a' at column 1" },
    { "a/../b", "component '..' is not allowed" },
    { "x y[1]", "name 'x y' at column 2: a space" },
    { "", "name is empty" },
};

static void test_parse_errors (void **state)
{
    for (size_t i = 0; i < sizeof (bad_slices) / sizeof (bad_slices[0]); i++) {
        fs_slice_t sl;
        fs_error_t err = { 0 };
        const struct bad_case *c = &bad_slices[i];
        if (slice_parse (c->text, &sl, &err) == 0)
            fail_msg ("'%s' parsed", c->text);
        assert_int_equal (err.code, FS_EINVAL);
        bool match = strncmp (c->msg, "slice", 5) == 0
                     ? strncmp (err.text, c->msg, strlen (c->msg)) == 0
                     : strstr (err.text, c->msg) != NULL;
        if (!match)
            fail_msg ("'%s': got '%s', want '%s'", c->text, err.text, c->msg);
    }

    /* too many selectors */
    char buf[256] = "x[";
    for (int i = 0; i <= FS_MAXDIMS; i++)
        strcat (buf, i ? ",0" : "0");
    strcat (buf, "]");
    fs_slice_t sl;
    fs_error_t err;
    assert_int_equal (slice_parse (buf, &sl, &err), -1);
    assert_non_null (strstr (err.text, "too many selectors"));

    /* a name over 255 bytes */
    char longname[400];
    memset (longname, 'a', 256);
    strcpy (longname + 256, "[1]");
    assert_int_equal (slice_parse (longname, &sl, &err), -1);
    assert_non_null (strstr (err.text, "256 bytes"));
    longname[255] = '\0';
    assert_int_equal (slice_parse (longname, &sl, &err), 0);
}

/* ---- resolve ---- */

static int resolve (const char *text, int ndims, const uint64_t *shape, fs_sel_t *sel,
                    fs_error_t *err)
{
    fs_slice_t sl;
    if (slice_parse (text, &sl, err) < 0)
        fail_msg ("'%s': %s", text, err->text);
    return slice_resolve (&sl, ndims, shape, sel, err);
}

static void test_resolve_errors (void **state)
{
    uint64_t shape[] = { 10, 4 };
    fs_sel_t sel;
    fs_error_t err;

    assert_int_equal (resolve ("x[10]", 2, shape, &sel, &err), -1);
    assert_int_equal (err.code, FS_EINVAL);
    assert_string_equal (err.text, "slice 'x[10]' at column 3: index 10 is out of bounds for "
                         "axis 0 with size 10");
    assert_int_equal (resolve ("x[:,  -5]", 2, shape, &sel, &err), -1);
    assert_string_equal (err.text, "slice 'x[:,  -5]' at column 7: index -5 is out of bounds for "
                         "axis 1 with size 4");
    assert_int_equal (resolve ("x[..., 4]", 2, shape, &sel, &err), -1);
    assert_string_equal (err.text, "slice 'x[..., 4]' at column 8: index 4 is out of bounds for "
                         "axis 1 with size 4");
    assert_int_equal (resolve ("x[-9223372036854775808]", 2, shape, &sel, &err), -1);
    assert_non_null (strstr (err.text, "index -9223372036854775808 is out of bounds for axis 0"));
    assert_int_equal (resolve ("x[9223372036854775807]", 2, shape, &sel, &err), -1);
    assert_int_equal (resolve ("x[1,2,3]", 2, shape, &sel, &err), -1);
    assert_string_equal (err.text, "slice 'x[1,2,3]' at column 7: too many indices for array: "
                         "array is 2-dimensional, but 3 were indexed");
    assert_int_equal (resolve ("x[...,1,2,3]", 2, shape, &sel, &err), -1);
    assert_non_null (strstr (err.text, "' at column 11: too many indices"));
    assert_int_equal (resolve ("x[0]", 0, shape, &sel, &err), -1);
    assert_non_null (strstr (err.text, "array is 0-dimensional, but 1 were indexed"));
    uint64_t zero[] = { 0 };
    assert_int_equal (resolve ("x[0]", 1, zero, &sel, &err), -1);
    assert_non_null (strstr (err.text, "index 0 is out of bounds for axis 0 with size 0"));
    assert_int_equal (resolve ("x[-1]", 1, zero, &sel, &err), -1);
    uint64_t big[FS_MAXDIMS + 1] = { 0 };
    assert_int_equal (resolve ("x", FS_MAXDIMS + 1, big, &sel, &err), -1);
    assert_int_equal (resolve ("x", -1, big, &sel, &err), -1);
}

static void test_resolve_extremes (void **state)
{
    fs_sel_t sel;
    fs_error_t err;

    /* rank 0 */
    assert_int_equal (resolve ("x", 0, NULL, &sel, &err), 0);
    assert_int_equal (sel.ndims, 0);
    assert_int_equal (sel_nelems (&sel), 1);
    assert_int_equal (resolve ("x[...]", 0, NULL, &sel, &err), 0);
    assert_int_equal (sel_nelems (&sel), 1);
    uint64_t shape[FS_MAXDIMS];
    assert_int_equal (sel_out_shape (&sel, shape), 0);

    /* huge dimension, extreme bounds */
    uint64_t huge[] = { (uint64_t)1 << 62, (uint64_t)1 << 40 };
    assert_int_equal (resolve ("x[-9223372036854775808:9223372036854775807:9223372036854775807, "
                               "-1]", 2, huge, &sel, &err), 0);
    assert_int_equal (sel.start[0], 0);
    assert_int_equal (sel.step[0], INT64_MAX);
    assert_int_equal (sel.count[0], 1);
    assert_int_equal (sel.start[1], ((uint64_t)1 << 40) - 1);
    assert_true (sel.dropped[1]);
    assert_int_equal (resolve ("x[-4611686018427387904, ::3]", 2, huge, &sel, &err), 0);
    assert_int_equal (sel.start[0], 0);
    assert_int_equal (sel.count[1], (((uint64_t)1 << 40) + 2) / 3);
    assert_int_equal (resolve ("x[-4611686018427387905]", 2, huge, &sel, &err), -1);
    assert_int_equal (resolve ("x[-9223372036854775808:-4611686018427387903]", 2, huge, &sel,
                               &err), 0);
    assert_int_equal (sel.start[0], 0);
    assert_int_equal (sel.count[0], 1);
    assert_int_equal (sel_nelems (&sel), (uint64_t)1 << 40);

    /* shape near 2^64 */
    uint64_t max[] = { UINT64_MAX };
    assert_int_equal (resolve ("x[-1]", 1, max, &sel, &err), 0);
    assert_int_equal (sel.start[0], UINT64_MAX - 1);
    assert_int_equal (resolve ("x[-9223372036854775808:]", 1, max, &sel, &err), 0);
    assert_int_equal (sel.start[0], UINT64_MAX - ((uint64_t)1 << 63));
    assert_int_equal (sel.count[0], (uint64_t)1 << 63);
    assert_int_equal (resolve ("x[:]", 1, max, &sel, &err), 0);
    assert_int_equal (sel.count[0], UINT64_MAX);

    /* empty results keep a clamped start and are valid */
    uint64_t s3[] = { 5, 6, 7 };
    assert_int_equal (resolve ("x[4:2, ..., 100:]", 3, s3, &sel, &err), 0);
    assert_int_equal (sel.count[0], 0);
    assert_int_equal (sel.start[0], 4);
    assert_int_equal (sel.count[1], 6);
    assert_int_equal (sel.start[2], 7);
    assert_int_equal (sel.count[2], 0);
    assert_int_equal (sel_nelems (&sel), 0);
}

static void test_ellipsis_and_defaults (void **state)
{
    uint64_t s4[] = { 2, 3, 4, 5 };
    fs_sel_t sel;
    fs_error_t err;
    uint64_t shape[FS_MAXDIMS];

    assert_int_equal (resolve ("x[..., 1]", 4, s4, &sel, &err), 0);
    assert_int_equal (sel_out_shape (&sel, shape), 3);
    assert_true (sel.dropped[3] && !sel.dropped[0]);
    assert_int_equal (shape[0], 2);
    assert_int_equal (shape[2], 4);
    assert_int_equal (resolve ("x[1, ..., 1]", 4, s4, &sel, &err), 0);
    assert_int_equal (sel_out_shape (&sel, shape), 2);
    assert_int_equal (shape[0], 3);
    assert_int_equal (shape[1], 4);
    assert_int_equal (resolve ("x[1, 2, 3, 4, ...]", 4, s4, &sel, &err), 0);   /* empty ... */
    assert_int_equal (sel_out_shape (&sel, shape), 0);
    assert_int_equal (sel_nelems (&sel), 1);
    assert_int_equal (resolve ("x[1]", 4, s4, &sel, &err), 0);
    assert_int_equal (sel_out_shape (&sel, shape), 3);
    assert_int_equal (shape[2], 5);
    assert_int_equal (resolve ("x", 4, s4, &sel, &err), 0);
    assert_int_equal (sel_nelems (&sel), 120);
}

static void test_sel_sub (void **state)
{
    uint64_t s3[] = { 20, 5, 30 };
    fs_sel_t sel, sub;
    fs_error_t err;

    assert_int_equal (resolve ("x[2:19:3, 4, 1::2]", 3, s3, &sel, &err), 0);
    uint64_t off[] = { 1, 3 }, cnt[] = { 2, 4 };
    sel_sub (&sel, off, cnt, &sub);
    assert_int_equal (sub.ndims, 3);
    assert_int_equal (sub.start[0], 5);
    assert_int_equal (sub.count[0], 2);
    assert_int_equal (sub.step[0], 3);
    assert_int_equal (sub.start[1], 4);
    assert_true (sub.dropped[1]);
    assert_int_equal (sub.count[1], 1);
    assert_int_equal (sub.start[2], 7);
    assert_int_equal (sub.count[2], 4);
    assert_int_equal (sub.step[2], 2);
}

/* ---- reductions ---- */

static void test_reduce_parse (void **state)
{
    fs_reduce_t r;
    fs_error_t err;

    assert_int_equal (reduce_parse ("mean:4,4", &r, &err), 0);
    assert_int_equal (r.op, RED_MEAN);
    assert_int_equal (r.nblock, 2);
    assert_int_equal (r.block[1], 4);
    assert_int_equal (reduce_parse ("sum:1", &r, &err), 0);
    assert_int_equal (r.op, RED_SUM);
    assert_int_equal (reduce_parse ("min:2, 3", &r, &err), 0);
    assert_int_equal (r.op, RED_MIN);
    assert_int_equal (reduce_parse ("max:9223372036854775807", &r, &err), 0);
    assert_int_equal (r.block[0], INT64_MAX);
    assert_string_equal (reduce_op_name (RED_MAX), "max");
    assert_string_equal (reduce_op_name (RED_NONE), "none");

    static const char *bad[][2] = {
        { "median:2", "unknown operation 'median'" },
        { "mean", "missing block sizes" },
        { "mean:", "at column 6: expected a block size" },
        { "mean:0", "at column 6: block size must be at least 1" },
        { "mean:2,", "at column 8: expected a block size" },
        { "mean:2,,2", "at column 8" },
        { "mean:-2", "at column 6" },
        { "mean:2x2", "at column 7: unexpected character 'x'" },
        { "mean:9223372036854775808", "does not fit" },
        { "mean:1.5", "at column 7" },
        { ":2", "unknown operation ''" },
        { "", "unknown operation" },
    };
    for (size_t i = 0; i < sizeof (bad) / sizeof (bad[0]); i++) {
        err.code = 0;
        if (reduce_parse (bad[i][0], &r, &err) == 0)
            fail_msg ("'%s' parsed", bad[i][0]);
        assert_int_equal (err.code, FS_EINVAL);
        if (!strstr (err.text, bad[i][1]))
            fail_msg ("'%s': got '%s', want '%s'", bad[i][0], err.text, bad[i][1]);
    }
    char buf[256] = "sum:";
    for (int i = 0; i <= FS_MAXDIMS; i++)
        strcat (buf, i ? ",1" : "1");
    assert_int_equal (reduce_parse (buf, &r, &err), -1);
    buf[strlen (buf) - 2] = '\0';
    assert_int_equal (reduce_parse (buf, &r, &err), 0);
    assert_int_equal (r.nblock, FS_MAXDIMS);
}

static void test_reduce_shape (void **state)
{
    uint64_t s3[] = { 100, 7, 50 };
    fs_sel_t sel;
    fs_reduce_t r;
    fs_error_t err;
    uint64_t shape[FS_MAXDIMS];

    assert_int_equal (resolve ("x[1:99:2, 3, :]", 3, s3, &sel, &err), 0);   /* 49 x 50 */
    assert_int_equal (reduce_parse ("mean:4,5", &r, &err), 0);
    assert_int_equal (reduce_out_shape (&sel, &r, shape, &err), 2);
    assert_int_equal (shape[0], 12);
    assert_int_equal (shape[1], 10);
    assert_int_equal (reduce_parse ("max:50,51", &r, &err), 0);
    assert_int_equal (reduce_out_shape (&sel, &r, shape, &err), 2);
    assert_int_equal (shape[0], 0);
    assert_int_equal (shape[1], 0);
    assert_int_equal (reduce_parse ("sum:4", &r, &err), 0);
    assert_int_equal (reduce_out_shape (&sel, &r, shape, &err), -1);
    assert_int_equal (err.code, FS_EINVAL);
    assert_non_null (strstr (err.text, "1 block size but the slice has 2 dimensions"));
    assert_int_equal (reduce_parse ("sum:4,4,4", &r, &err), 0);
    assert_int_equal (reduce_out_shape (&sel, &r, shape, &err), -1);
    /* no reduction: the plain result shape */
    r.op = RED_NONE;
    assert_int_equal (reduce_out_shape (&sel, &r, shape, &err), 2);
    assert_int_equal (shape[0], 49);
    assert_int_equal (reduce_out_shape (&sel, NULL, shape, &err), 2);
}

/* Brute force: reduce_sub of a reduced box reads exactly the source elements
 * of the blocks of that box, in a block-aligned selection. */
static void test_reduce_sub (void **state)
{
    uint64_t s3[] = { 23, 4, 31 };
    static const char *texts[] = { "x[1:22:2, 2, 3::3]", "x[:, :, :]", "x[-1, 1:, 5:30:4]",
                                   "x[3::5, ..., ::2]" };
    static const char *reds[] = { "mean:2,3", "sum:3,1,4", "min:1,2", "max:2,1,5" };

    for (size_t t = 0; t < 4; t++) {
        fs_sel_t sel, sub;
        fs_reduce_t r;
        fs_error_t err;
        uint64_t rs[FS_MAXDIMS], src[FS_MAXDIMS];
        assert_int_equal (resolve (texts[t], 3, s3, &sel, &err), 0);
        assert_int_equal (reduce_parse (reds[t], &r, &err), 0);
        int n = reduce_out_shape (&sel, &r, rs, &err);
        assert_true (n >= 0);
        sel_out_shape (&sel, src);
        /* every box [off, off+cnt) with small cnt */
        uint64_t off[3] = { 0 }, cnt[3];
        for (uint64_t o0 = 0; o0 < (n > 0 ? rs[0] : 1); o0++)
        for (uint64_t c0 = 1; o0 + c0 <= (n > 0 ? rs[0] : 1) && c0 <= 2; c0++)
        for (uint64_t o1 = 0; o1 < (n > 1 ? rs[1] : 1); o1++)
        for (uint64_t c1 = 1; o1 + c1 <= (n > 1 ? rs[1] : 1) && c1 <= 2; c1++) {
            off[0] = o0; cnt[0] = c0; off[1] = o1; cnt[1] = c1;
            off[2] = 0; cnt[2] = n > 2 ? rs[2] : 0;
            reduce_sub (&sel, &r, off, cnt, &sub);
            /* sub equals sel_sub of the source-result box it should cover */
            uint64_t soff[3], scnt[3];
            for (int j = 0; j < n; j++) {
                soff[j] = off[j] * r.block[j];
                scnt[j] = cnt[j] * r.block[j];
                assert_true (soff[j] + scnt[j] <= src[j]);  /* inside the selection */
            }
            fs_sel_t want;
            sel_sub (&sel, soff, scnt, &want);
            assert_memory_equal (&sub, &want, sizeof (want));
            uint64_t want_n = 1;
            for (int j = 0; j < n; j++)
                want_n *= cnt[j] * r.block[j];
            assert_int_equal (sel_nelems (&sub), want_n);
            /* the box's elements lie inside the dataset */
            json_t *j = sel_to_json (&sub);
            assert_int_equal (sel_from_json (j, 3, s3, &want, &err), 0);
            json_decref (j);
        }
    }
}

/* ---- wire forms ---- */

static void test_json_round_trip (void **state)
{
    uint64_t s3[] = { 20, 5, 30 };
    fs_sel_t sel, back;
    fs_error_t err;

    assert_int_equal (resolve ("x[2:19:3, 4, 40:]", 3, s3, &sel, &err), 0);
    json_t *j = sel_to_json (&sel);
    char *s = json_dumps (j, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal (s, "{\"count\":[6,1,0],\"drop\":[false,true,false],"
                            "\"start\":[2,4,30],\"step\":[3,1,1]}");
    free (s);
    assert_int_equal (sel_from_json (j, 3, s3, &back, &err), 0);
    assert_memory_equal (&back, &sel, sizeof (sel));
    json_decref (j);

    fs_reduce_t r, rb;
    assert_int_equal (reduce_parse ("mean:3,5", &r, &err), 0);
    j = reduce_to_json (&r);
    s = json_dumps (j, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal (s, "{\"block\":[3,5],\"op\":\"mean\"}");
    free (s);
    assert_int_equal (reduce_from_json (j, &rb, &err), 0);
    assert_int_equal (rb.op, RED_MEAN);
    assert_int_equal (rb.nblock, 2);
    assert_int_equal (rb.block[1], 5);
    json_decref (j);
    r.op = RED_NONE;
    j = reduce_to_json (&r);
    assert_true (json_is_null (j));
    rb.op = RED_SUM;
    assert_int_equal (reduce_from_json (j, &rb, &err), 0);
    assert_int_equal (rb.op, RED_NONE);
    json_decref (j);
    assert_true (json_is_null (reduce_to_json (NULL)));
    assert_int_equal (reduce_from_json (NULL, &rb, &err), 0);
    assert_int_equal (rb.op, RED_NONE);

    /* rank 0 */
    assert_int_equal (resolve ("x", 0, NULL, &sel, &err), 0);
    j = sel_to_json (&sel);
    assert_int_equal (sel_from_json (j, 0, NULL, &back, &err), 0);
    assert_int_equal (back.ndims, 0);
    json_decref (j);
}

static void test_sel_from_json_hostile (void **state)
{
    uint64_t shape[] = { 10, 4 };
    uint64_t huge[] = { UINT64_MAX, UINT64_MAX, UINT64_MAX };
    static const struct {
        const char *json;
        int ndims;
        const char *msg;
    } bad[] = {
        { "[]", 2, "must be an object" },
        { "null", 2, "must be an object" },
        { "{}", 2, "'start' must be an array" },
        { "{\"start\":[0,0],\"step\":[1,1],\"count\":[1,1]}", 2, "'drop' must be an array" },
        { "{\"start\":[0],\"step\":[1,1],\"count\":[1,1],\"drop\":[false,false]}", 2,
          "'start' has 1 entries" },
        { "{\"start\":[0,0,0],\"step\":[1,1,1],\"count\":[1,1,1],\"drop\":[false,false,false]}",
          2, "'start' has 3 entries" },
        { "{\"start\":[0,0],\"step\":[1,1],\"count\":[1,1],\"drop\":[false]}", 2,
          "'drop' has 1 entries" },
        { "{\"start\":[0,-1],\"step\":[1,1],\"count\":[1,1],\"drop\":[false,false]}", 2,
          "'start'[1] must be a non-negative integer" },
        { "{\"start\":[0,1.0],\"step\":[1,1],\"count\":[1,1],\"drop\":[false,false]}", 2,
          "'start'[1]" },
        { "{\"start\":[0,\"1\"],\"step\":[1,1],\"count\":[1,1],\"drop\":[false,false]}", 2,
          "'start'[1]" },
        { "{\"start\":[0,0],\"step\":[1,null],\"count\":[1,1],\"drop\":[false,false]}", 2,
          "'step'[1]" },
        { "{\"start\":[0,0],\"step\":[1,1],\"count\":[1,true],\"drop\":[false,false]}", 2,
          "'count'[1]" },
        { "{\"start\":[0,0],\"step\":[1,1],\"count\":[1,1],\"drop\":[false,0]}", 2,
          "'drop'[1] must be a boolean" },
        { "{\"start\":[0,0],\"step\":[0,1],\"count\":[1,1],\"drop\":[false,false]}", 2,
          "step 0 along dimension 0" },
        { "{\"start\":[0,0],\"step\":[1,1],\"count\":[1,2],\"drop\":[false,true]}", 2,
          "dimension 1 is dropped but its count is 2" },
        { "{\"start\":[0,0],\"step\":[1,1],\"count\":[1,0],\"drop\":[false,true]}", 2,
          "dimension 1 is dropped" },
        { "{\"start\":[10,0],\"step\":[1,1],\"count\":[1,1],\"drop\":[false,false]}", 2,
          "go outside its size 10" },
        { "{\"start\":[0,0],\"step\":[1,1],\"count\":[11,1],\"drop\":[false,false]}", 2,
          "go outside" },
        { "{\"start\":[1,0],\"step\":[3,1],\"count\":[4,1],\"drop\":[false,false]}", 2,
          "go outside" },
        { "{\"start\":[9,0],\"step\":[9223372036854775807,1],\"count\":[2,1],"
          "\"drop\":[false,false]}", 2, "go outside" },
        { "{\"start\":[0,0],\"step\":[9223372036854775807,1],\"count\":[9223372036854775807,1],"
          "\"drop\":[false,false]}", 2, "go outside" },
        { "{\"start\":[11,0],\"step\":[1,1],\"count\":[0,1],\"drop\":[false,false]}", 2,
          "start 11 along dimension 0 is beyond its size 10" },
        { "{\"start\":[9223372036854775807,0],\"step\":[1,1],\"count\":[1,1],"
          "\"drop\":[true,false]}", 2, "go outside" },
        { "{\"start\":[0,0],\"step\":[1,1],\"count\":[1,1],\"drop\":[false,false]}", 33,
          "rank 33" },
        { "{\"start\":[0,0],\"step\":[1,1],\"count\":[1,1],\"drop\":[false,false]}", -1,
          "rank -1" },
    };
    for (size_t i = 0; i < sizeof (bad) / sizeof (bad[0]); i++) {
        json_error_t jerr;
        json_t *j = json_loads (bad[i].json, JSON_DECODE_ANY, &jerr);
        assert_non_null (j);
        fs_sel_t sel;
        fs_error_t err = { 0 };
        if (sel_from_json (j, bad[i].ndims, shape, &sel, &err) == 0)
            fail_msg ("accepted %s", bad[i].json);
        assert_int_equal (err.code, FS_EINVAL);
        if (!strstr (err.text, bad[i].msg))
            fail_msg ("%s: got '%s', want '%s'", bad[i].json, err.text, bad[i].msg);
        json_decref (j);
    }
    assert_int_equal (sel_from_json (NULL, 2, shape, &(fs_sel_t){ 0 }, NULL), -1);

    /* the element count must fit in 64 bits even when each dimension is valid */
    json_t *j = json_pack ("{s:[I,I,I], s:[I,I,I], s:[I,I,I], s:[b,b,b]}",
                           "start", (json_int_t)0, (json_int_t)0, (json_int_t)0,
                           "step", (json_int_t)1, (json_int_t)1, (json_int_t)1,
                           "count", (json_int_t)INT64_MAX, (json_int_t)INT64_MAX,
                           (json_int_t)INT64_MAX, "drop", 0, 0, 0);
    fs_sel_t sel;
    fs_error_t err;
    assert_int_equal (sel_from_json (j, 3, huge, &sel, &err), -1);
    assert_non_null (strstr (err.text, "does not fit in 64 bits"));
    json_decref (j);

    /* boundary cases that are valid */
    static const char *good[] = {
        "{\"start\":[9,3],\"step\":[1,1],\"count\":[1,1],\"drop\":[true,true]}",
        "{\"start\":[0,0],\"step\":[9,3],\"count\":[2,2],\"drop\":[false,false]}",
        "{\"start\":[10,4],\"step\":[5,1],\"count\":[0,0],\"drop\":[false,false]}",
        "{\"start\":[0,0],\"step\":[1,1],\"count\":[10,4],\"drop\":[false,false],\"x\":1}",
    };
    for (size_t i = 0; i < sizeof (good) / sizeof (good[0]); i++) {
        json_t *g = json_loads (good[i], 0, NULL);
        if (sel_from_json (g, 2, shape, &sel, &err) < 0)
            fail_msg ("%s: %s", good[i], err.text);
        json_decref (g);
    }
}

static void test_reduce_from_json_hostile (void **state)
{
    static const char *bad[][2] = {
        { "[]", "must be null or an object" },
        { "3", "must be null or an object" },
        { "{}", "'op' must be a string" },
        { "{\"op\":\"median\",\"block\":[2]}", "unknown operation 'median'" },
        { "{\"op\":\"none\",\"block\":[2]}", "unknown operation 'none'" },
        { "{\"op\":\"mean\"}", "'block' must be an array" },
        { "{\"op\":\"mean\",\"block\":[]}", "has 0 entries" },
        { "{\"op\":\"mean\",\"block\":[0]}", "'block'[0] must be an integer >= 1" },
        { "{\"op\":\"mean\",\"block\":[2,-1]}", "'block'[1]" },
        { "{\"op\":\"mean\",\"block\":[2.5]}", "'block'[0]" },
        { "{\"op\":\"mean\",\"block\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,"
          "1,1,1,1]}", "has 33 entries" },
    };
    for (size_t i = 0; i < sizeof (bad) / sizeof (bad[0]); i++) {
        json_t *j = json_loads (bad[i][0], JSON_DECODE_ANY, NULL);
        assert_non_null (j);
        fs_reduce_t r;
        fs_error_t err = { 0 };
        if (reduce_from_json (j, &r, &err) == 0)
            fail_msg ("accepted %s", bad[i][0]);
        assert_int_equal (err.code, FS_EINVAL);
        if (!strstr (err.text, bad[i][1]))
            fail_msg ("%s: got '%s', want '%s'", bad[i][0], err.text, bad[i][1]);
        json_decref (j);
    }
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_numpy_cases),
        cmocka_unit_test (test_parse_forms),
        cmocka_unit_test (test_parse_errors),
        cmocka_unit_test (test_resolve_errors),
        cmocka_unit_test (test_resolve_extremes),
        cmocka_unit_test (test_ellipsis_and_defaults),
        cmocka_unit_test (test_sel_sub),
        cmocka_unit_test (test_reduce_parse),
        cmocka_unit_test (test_reduce_shape),
        cmocka_unit_test (test_reduce_sub),
        cmocka_unit_test (test_json_round_trip),
        cmocka_unit_test (test_sel_from_json_hostile),
        cmocka_unit_test (test_reduce_from_json_hostile),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
