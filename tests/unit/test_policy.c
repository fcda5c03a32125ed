/* test_policy.c - data policies: string forms, rank checks, aggregate satisfaction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/policy.h"

static void test_parse_format (void **state)
{
    static const char *forms[] = {
        "raw", "none", "regions=eu", "regions=eu,us-east,asia_1", "aggregate=4",
        "aggregate=4x4", "aggregate=1x10x100", "aggregate=9223372036854775807",
    };
    for (size_t i = 0; i < sizeof (forms) / sizeof (forms[0]); i++) {
        fs_policy_t p;
        fs_error_t err;
        char buf[256];
        if (policy_parse (forms[i], &p, &err) < 0)
            fail_msg ("'%s': %s", forms[i], err.text);
        assert_string_equal (policy_format (&p, buf, sizeof (buf)), forms[i]);
        fs_policy_t q;
        assert_int_equal (policy_parse (buf, &q, &err), 0);
        assert_memory_equal (&p, &q, sizeof (p));
    }
    fs_policy_t p;
    fs_error_t err;
    assert_int_equal (policy_parse ("regions=eu,us", &p, &err), 0);
    assert_int_equal (p.kind, POLICY_REGIONS);
    assert_int_equal (p.nregions, 2);
    assert_string_equal (p.regions[1], "us");
    assert_int_equal (policy_parse ("aggregate=2x3", &p, &err), 0);
    assert_int_equal (p.kind, POLICY_AGGREGATE);
    assert_int_equal (p.nblock, 2);
    assert_int_equal (p.min_block[0], 2);
    assert_int_equal (p.min_block[1], 3);

    /* 32 regions of 63 bytes fit; formatting truncates safely into a short buffer */
    char s[32 * 64 + 16] = "regions=";
    for (int i = 0; i < FS_POLICY_MAXREGIONS; i++) {
        char r[64];
        memset (r, 'a' + (i % 26), 63);
        r[63] = '\0';
        if (i)
            strcat (s, ",");
        strcat (s, r);
    }
    assert_int_equal (policy_parse (s, &p, &err), 0);
    assert_int_equal (p.nregions, FS_POLICY_MAXREGIONS);
    char out[sizeof (s)];
    assert_string_equal (policy_format (&p, out, sizeof (out)), s);
    char small[10];
    assert_string_equal (policy_format (&p, small, sizeof (small)), "regions=a");
    strcat (s, ",z");
    assert_int_equal (policy_parse (s, &p, &err), -1);
    assert_non_null (strstr (err.text, "too many regions"));
}

static void test_parse_errors (void **state)
{
    static const char *bad[][2] = {
        { "", "unknown policy ''" },
        { "public", "unknown policy 'public': expected raw, none, regions=R1,R2 or aggregate" },
        { "RAW", "unknown policy" },
        { "raw ", "unknown policy" },
        { "regions", "needs a value" },
        { "aggregate", "needs a value" },
        { "regions=", "at column 9: empty region name" },
        { "regions=eu,", "at column 12: empty region name" },
        { "regions=eu,,us", "at column 12: empty region name" },
        { "regions=e.u", "region name 'e.u' at column 2" },
        { "regions=eu, us", "a space" },
        { "aggregate=", "at column 11: expected a block size" },
        { "aggregate=0", "at column 11: block size must be at least 1" },
        { "aggregate=4x0", "at column 13: block size must be at least 1" },
        { "aggregate=4x", "at column 13: expected a block size" },
        { "aggregate=4,4", "at column 12: unexpected character ','" },
        { "aggregate=4X4", "at column 12" },
        { "aggregate=-4", "at column 11" },
        { "aggregate=9223372036854775808", "does not fit" },
        { "aggregate=99999999999999999999999", "does not fit" },
    };
    for (size_t i = 0; i < sizeof (bad) / sizeof (bad[0]); i++) {
        fs_policy_t p;
        fs_error_t err = { 0 };
        if (policy_parse (bad[i][0], &p, &err) == 0)
            fail_msg ("'%s' accepted", bad[i][0]);
        assert_int_equal (err.code, FS_EINVAL);
        if (!strstr (err.text, bad[i][1]))
            fail_msg ("'%s': got '%s', want '%s'", bad[i][0], err.text, bad[i][1]);
    }
    char s[128] = "regions=";
    memset (s + 8, 'r', 64);
    s[72] = '\0';
    fs_policy_t p;
    fs_error_t err;
    assert_int_equal (policy_parse (s, &p, &err), -1);
    assert_non_null (strstr (err.text, "64 bytes long"));
    char b[256] = "aggregate=";
    for (int i = 0; i <= FS_MAXDIMS; i++)
        strcat (b, i ? "x1" : "1");
    assert_int_equal (policy_parse (b, &p, &err), -1);
    assert_non_null (strstr (err.text, "too many block sizes"));
    assert_int_equal (policy_parse (NULL, &p, &err), -1);
}

static void test_check_rank_and_rank (void **state)
{
    fs_policy_t p;
    fs_error_t err;

    assert_int_equal (policy_parse ("aggregate=4x4", &p, &err), 0);
    assert_int_equal (policy_check_rank (&p, 2, &err), 0);
    assert_int_equal (policy_check_rank (&p, 3, &err), -1);
    assert_int_equal (err.code, FS_EINVAL);
    assert_non_null (strstr (err.text, "'aggregate=4x4' gives 2 block sizes but the dataset has "
                             "3 dimensions"));
    assert_int_equal (policy_check_rank (&p, 1, &err), -1);
    assert_int_equal (policy_parse ("raw", &p, &err), 0);
    assert_int_equal (policy_check_rank (&p, 5, &err), 0);
    assert_int_equal (policy_rank (&p), 0);
    assert_int_equal (policy_parse ("regions=eu", &p, &err), 0);
    assert_int_equal (policy_check_rank (&p, 0, &err), 0);
    assert_int_equal (policy_rank (&p), 1);
    assert_int_equal (policy_parse ("aggregate=2", &p, &err), 0);
    assert_int_equal (policy_rank (&p), 2);
    assert_int_equal (policy_parse ("none", &p, &err), 0);
    assert_int_equal (policy_rank (&p), 3);
}

static void resolve (const char *text, int ndims, const uint64_t *shape, fs_sel_t *sel)
{
    fs_slice_t sl;
    fs_error_t err;
    if (slice_parse (text, &sl, &err) < 0 || slice_resolve (&sl, ndims, shape, sel, &err) < 0)
        fail_msg ("'%s': %s", text, err.text);
}

static void test_satisfies (void **state)
{
    uint64_t shape[] = { 100, 50, 20 };
    fs_policy_t p;
    fs_sel_t sel;
    fs_reduce_t r;
    fs_error_t err;

    assert_int_equal (policy_parse ("aggregate=4x2x1", &p, &err), 0);
    resolve ("x", 3, shape, &sel);
    assert_int_equal (reduce_parse ("mean:4,2,1", &r, &err), 0);
    assert_true (policy_reduce_satisfies (&p, &sel, &r));
    assert_int_equal (policy_allows_get (&p, &sel, &r, &err), 0);
    assert_int_equal (reduce_parse ("sum:8,5,3", &r, &err), 0);
    assert_true (policy_reduce_satisfies (&p, &sel, &r));
    assert_int_equal (reduce_parse ("mean:3,2,1", &r, &err), 0);
    assert_false (policy_reduce_satisfies (&p, &sel, &r));
    assert_int_equal (policy_allows_get (&p, &sel, &r, &err), -1);
    assert_int_equal (err.code, FS_EFAIL);
    assert_non_null (strstr (err.text, "block 3 along result dimension 0 (dataset dimension 0) "
                             "is too small: dataset policy 'aggregate=4x2x1' needs at least 4"));
    assert_int_equal (reduce_parse ("mean:4,1,1", &r, &err), 0);
    assert_int_equal (policy_allows_get (&p, &sel, &r, &err), -1);
    assert_non_null (strstr (err.text, "dataset dimension 1) is too small"));
    assert_non_null (strstr (err.text, "needs at least 2"));

    /* no reduction, or the wrong number of blocks */
    assert_false (policy_reduce_satisfies (&p, &sel, NULL));
    assert_int_equal (policy_allows_get (&p, &sel, NULL, &err), -1);
    assert_int_equal (err.code, FS_EFAIL);
    assert_non_null (strstr (err.text, "lets only block reductions leave"));
    r.op = RED_NONE;
    assert_false (policy_reduce_satisfies (&p, &sel, &r));
    assert_int_equal (reduce_parse ("mean:4,2", &r, &err), 0);
    assert_false (policy_reduce_satisfies (&p, &sel, &r));
    assert_int_equal (policy_allows_get (&p, &sel, &r, &err), -1);

    /* an integer index covers 1 element: fine where min_block is 1 ... */
    resolve ("x[:, :, 7]", 3, shape, &sel);
    assert_int_equal (reduce_parse ("max:4,2", &r, &err), 0);
    assert_true (policy_reduce_satisfies (&p, &sel, &r));
    assert_int_equal (policy_allows_get (&p, &sel, &r, &err), 0);
    /* ... and refused where it is larger */
    resolve ("x[:, 3]", 3, shape, &sel);
    assert_int_equal (reduce_parse ("max:4,1", &r, &err), 0);
    assert_false (policy_reduce_satisfies (&p, &sel, &r));
    assert_int_equal (policy_allows_get (&p, &sel, &r, &err), -1);
    assert_int_equal (err.code, FS_EFAIL);
    assert_non_null (strstr (err.text, "dataset dimension 1 is indexed by an integer"));
    assert_non_null (strstr (err.text, "needs at least 2"));
    /* a range of length 1 is not an integer index: its block is what --reduce says */
    resolve ("x[:, 3:4]", 3, shape, &sel);
    assert_int_equal (reduce_parse ("max:4,2,1", &r, &err), 0);
    assert_true (policy_reduce_satisfies (&p, &sel, &r));
    /* strided selections: the block covers its number of elements */
    resolve ("x[::10, ::2]", 3, shape, &sel);
    assert_int_equal (reduce_parse ("max:4,2,1", &r, &err), 0);
    assert_true (policy_reduce_satisfies (&p, &sel, &r));

    /* a policy that does not fit the dataset never lets anything out */
    assert_int_equal (policy_parse ("aggregate=1x1", &p, &err), 0);
    resolve ("x", 3, shape, &sel);
    assert_int_equal (reduce_parse ("max:4,4,4", &r, &err), 0);
    assert_false (policy_reduce_satisfies (&p, &sel, &r));
    assert_int_equal (policy_allows_get (&p, &sel, &r, &err), -1);
}

static void test_allows_get (void **state)
{
    uint64_t shape[] = { 10, 10 };
    fs_policy_t p;
    fs_sel_t sel;
    fs_reduce_t r;
    fs_error_t err;

    resolve ("x[2]", 2, shape, &sel);
    assert_int_equal (reduce_parse ("mean:5", &r, &err), 0);
    assert_int_equal (policy_parse ("raw", &p, &err), 0);
    assert_int_equal (policy_allows_get (&p, &sel, NULL, &err), 0);
    assert_int_equal (policy_allows_get (&p, &sel, &r, &err), 0);
    assert_true (policy_reduce_satisfies (&p, &sel, &r));

    assert_int_equal (policy_parse ("none", &p, &err), 0);
    assert_int_equal (policy_allows_get (&p, &sel, NULL, &err), -1);
    assert_int_equal (err.code, FS_EFAIL);
    assert_string_equal (err.text, "dataset policy 'none' keeps its bytes at its site: run a job "
                         "there instead");
    assert_int_equal (policy_allows_get (&p, &sel, &r, &err), -1);
    assert_false (policy_reduce_satisfies (&p, &sel, &r));

    assert_int_equal (policy_parse ("regions=eu,ch", &p, &err), 0);
    assert_int_equal (policy_allows_get (&p, &sel, &r, &err), -1);
    assert_int_equal (err.code, FS_EFAIL);
    assert_non_null (strstr (err.text, "'regions=eu,ch'"));
    assert_non_null (strstr (err.text, "run a job there instead"));
    assert_false (policy_reduce_satisfies (&p, &sel, &r));
    assert_int_equal (policy_allows_get (&p, &sel, NULL, NULL), -1);
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_parse_format),
        cmocka_unit_test (test_parse_errors),
        cmocka_unit_test (test_check_rank_and_rank),
        cmocka_unit_test (test_satisfies),
        cmocka_unit_test (test_allows_get),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
