/* test_policy.c - the policy engine (common/policy.h): string forms, reads by
 * every kind of reader under every policy, aggregate alignment and the nearest
 * aligned read, the meet of every pair of policies (what outputs inherit, and
 * the policy floor), strictness. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/policy.h"

static void test_parse_format (void **state)
{
    static const char *forms[] = {
        "raw", "none", "regions=eu", "regions=eu,us-east,asia_1", "aggregate=4",
        "aggregate=4x4", "aggregate=1x10x100", "aggregate=9223372036854775807",
        "aggregate=4x4,min=5", "aggregate=3,min=9007199254740992",
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
        r[0] = (char)('A' + i / 26);        /* 32 different names */
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
    assert_string_equal (policy_format (&p, small, sizeof (small)), "regions=A");
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
        { "aggregate=0", "at column 11: a block size must be at least 1" },
        { "aggregate=4x0", "at column 13: a block size must be at least 1" },
        { "aggregate=4x", "at column 13: expected a block size" },
        { "aggregate=4,4", "at column 13: expected 'min=K' after the block sizes" },
        { "aggregate=4;4", "at column 12: unexpected character ';'" },
        { "aggregate=4x4,min=", "at column 19: expected the threshold min" },
        { "aggregate=4x4,min=0", "at column 19: the threshold min must be at least 1" },
        { "aggregate=4x4,mn=5", "at column 15: expected 'min=K'" },
        { "aggregate=4x4,", "at column 15: expected 'min=K'" },
        { "aggregate=4x4,min=5x", "at column 20: unexpected 'x' after the threshold" },
        { "aggregate=4x4,min=5,min=6", "unexpected ','" },
        { "aggregate=4,min=9007199254740993", "larger than 9007199254740992" },
        { "aggregate=,min=3", "at column 11: expected a block size" },
        { "aggregate=4X4", "at column 12" },
        { "aggregate=-4", "at column 11" },
        { "aggregate=9223372036854775808", "larger than 9223372036854775807" },
        { "aggregate=99999999999999999999999", "larger than" },
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

static void test_check_rank (void **state)
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
    assert_int_equal (policy_parse ("regions=eu", &p, &err), 0);
    assert_int_equal (policy_check_rank (&p, 0, &err), 0);
}

static void parse (const char *s, fs_policy_t *p)
{
    fs_error_t err;
    if (policy_parse (s, p, &err) < 0)
        fail_msg ("'%s': %s", s, err.text);
}

static void resolve (const char *text, int ndims, const uint64_t *shape, fs_sel_t *sel)
{
    fs_slice_t sl;
    fs_error_t err;
    if (slice_parse (text, &sl, &err) < 0 || slice_resolve (&sl, ndims, shape, sel, &err) < 0)
        fail_msg ("'%s': %s", text, err.text);
}

/* ---- may this reader read this? every policy x reader x read --------------- */

enum { HOLDER, SITE_RA, SITE_RC, OUTSIDE, NREADERS };
static const char *const reader_names[] = { "holder", "site in ra", "site in rc", "outside" };

static const struct policy_reader readers[NREADERS] = {
    { POLICY_READER_HOLDER, NULL },
    { POLICY_READER_SITE, "ra" },
    { POLICY_READER_SITE, "rc" },
    { POLICY_READER_OUTSIDE, NULL },
};

/* Who may read what is not an aggregate read (raw bytes, or a reduction that
 * does not satisfy the policy). */
static const struct {
    const char *policy;
    bool plain[NREADERS];
} policies[] = {
    { "raw", { 1, 1, 1, 1 } },
    { "regions=ra", { 1, 1, 0, 0 } },
    { "regions=rb,rc", { 1, 0, 1, 0 } },
    { "none", { 1, 0, 0, 0 } },
    { "aggregate=4x4", { 1, 0, 0, 0 } },
    { "aggregate=4x4,min=5", { 1, 0, 0, 0 } },
    { "aggregate=1x4", { 1, 0, 0, 0 } },
};

/* Reads of a 12 x 12 dataset (issue 9's grid), and whether each satisfies
 * aggregate=4x4 and aggregate=1x4. */
static const struct {
    const char *slice, *reduce;
    bool sat44, sat14;
} reads[] = {
    { "x", NULL, 0, 0 },                        /* raw */
    { "x[0:4, 0:4]", "min:4,4", 0, 0 },         /* one cell's exact minimum */
    { "x[0:4, 0:4]", "max:4,4", 0, 0 },
    { "x[1:5, 3:7]", "sum:4,4", 0, 0 },         /* a window off the grid */
    { "x[0:8:2, 0:8:2]", "sum:4,4", 0, 0 },     /* scattered cells */
    { "x[0:12, 0:12]", "sum:4,4", 1, 1 },
    { "x[0:12, 4:12]", "mean:8,4", 1, 1 },      /* whole multiples of the cell */
    { "x[:, 0:12]", "sum:2,4", 0, 1 },          /* half a cell */
    { "x[3, 0:8]", "sum:4", 0, 1 },             /* an integer index: a block of 1 */
    { "x[4:8, 0:12]", "sum:4,6", 0, 0 },
    { "x[4:12, 8:]", "sum:4,4", 1, 1 },         /* partial edge blocks trimmed */
    { "x[0:12, 0:12]", "mean:4,12", 1, 1 },
    { "x[0:12, 0:12]", "sum:5,4", 0, 1 },
    { "x[2:10, 0:12]", "mean:4,4", 0, 1 },
    { "x[0:12, 0:12]", "sum:4,4,4", 0, 0 },     /* a block too many */
};

static void test_read_table (void **state)
{
    uint64_t shape[] = { 12, 12 };
    int checked = 0;
    for (size_t pi = 0; pi < sizeof (policies) / sizeof (policies[0]); pi++) {
        fs_policy_t p;
        parse (policies[pi].policy, &p);
        for (size_t ri = 0; ri < sizeof (reads) / sizeof (reads[0]); ri++) {
            fs_sel_t sel;
            fs_reduce_t red = { 0 };
            fs_error_t err;
            resolve (reads[ri].slice, 2, shape, &sel);
            if (reads[ri].reduce && reduce_parse (reads[ri].reduce, &red, &err) < 0)
                fail_msg ("%s: %s", reads[ri].reduce, err.text);
            bool sat = p.kind == POLICY_AGGREGATE
                       && (p.min_block[0] == 4 ? reads[ri].sat44 : reads[ri].sat14);
            for (int k = 0; k < NREADERS; k++) {
                struct policy_grant g = { true, 99 };
                fs_error_t e = { 0, "" };
                int rc = policy_read (&p, &readers[k], "x", shape, &sel,
                                      reads[ri].reduce ? &red : NULL, &g, &e);
                bool want = sat || policies[pi].plain[k];
                if ((rc == 0) != want)
                    fail_msg ("%s, %s%s%s, %s: %s, expected %s (%s)", policies[pi].policy,
                              reads[ri].slice, reads[ri].reduce ? " --reduce " : "",
                              reads[ri].reduce ? reads[ri].reduce : "", reader_names[k],
                              rc == 0 ? "allowed" : "refused", want ? "allowed" : "refused",
                              e.text);
                if (rc == 0) {
                    assert_int_equal (g.aggregate, sat);
                    assert_int_equal (g.min, sat ? p.min : 0);
                } else {
                    assert_int_equal (e.code, FS_EFAIL);
                    assert_true (e.text[0] != '\0');
                    if (p.kind == POLICY_AGGREGATE)
                        assert_non_null (strstr (e.text, "nearest aligned read: x["));
                }
                /* the two halves placement and the validator use agree */
                bool satisfies = policy_reduce_satisfies (&p, &sel, reads[ri].reduce ? &red : NULL);
                assert_int_equal (satisfies, p.kind == POLICY_RAW || sat);
                if (k != OUTSIDE) {
                    const fs_policy_t *m = policy_moves (&p, satisfies);
                    assert_int_equal (policy_site_allows (m, k == HOLDER, readers[k].region),
                                      want);
                }
                checked++;
            }
        }
    }
    assert_int_equal (checked, 7 * 15 * 4);
}

/* The messages say what is wrong and what would do. */
static void test_read_messages (void **state)
{
    uint64_t shape[] = { 12, 12 };
    static const struct {
        const char *policy, *slice, *reduce;
        int reader;
        const char *want;
    } cases[] = {
        { "aggregate=4x4", "x[0:4, 0:4]", "min:4,4", OUTSIDE,
          "dataset policy 'aggregate=4x4': min discloses single values: only sum and mean "
          "satisfy it; nearest aligned read: x[0:4, 0:4] --reduce sum:4,4" },
        { "aggregate=4x4", "x[0:4, 0:4]", "max:4,4", OUTSIDE, "max discloses single values" },
        { "aggregate=4x4", "x[1:5, 3:7]", "sum:4,4", OUTSIDE,
          "dimension 0 starts at 1, off the grid (its cells start at multiples of 4); nearest "
          "aligned read: x[0:4, 0:8] --reduce sum:4,4" },
        { "aggregate=4x4", "x[0:8:2, 0:8:2]", "sum:4,4", OUTSIDE,
          "dimension 0 is read with step 2: blocks of scattered elements are not cells of the "
          "grid (use step 1); nearest aligned read: x[0:8, 0:8] --reduce sum:8,8" },
        { "aggregate=4x4", "x[3, 0:8]", "mean:4", SITE_RC,
          "dimension 0 is indexed by an integer (a block of 1 element) but the grid's cells "
          "are 4 wide there; nearest aligned read: x[0:4, 0:8] --reduce mean:4,4 (or run a job "
          "at the site)" },
        { "aggregate=4x4", "x[0:12, 0:12]", "sum:4,6", OUTSIDE,
          "blocks of 6 along dimension 1 are not whole cells of 4; nearest aligned read: "
          "x[0:12, 0:8] --reduce sum:4,8" },
        { "aggregate=4x4", "x", NULL, OUTSIDE,
          "it lets only sums and means over whole cells of its grid leave its site, and this "
          "read has no reduction; nearest aligned read: x[0:12, 0:12] --reduce sum:4,4" },
        { "aggregate=4x4,min=5", "x[0:12, 11]", "sum:4", OUTSIDE,
          "dataset policy 'aggregate=4x4,min=5': dimension 1 is indexed by an integer" },
        { "aggregate=4x4", "x[9:12, 0:12]", "sum:4,4", OUTSIDE,         /* trimmed to the shape */
          "nearest aligned read: x[8:12, 0:12] --reduce sum:4,4" },
        { "regions=ra", "x", NULL, SITE_RC,
          "dataset policy 'regions=ra' keeps its raw bytes at sites of those regions, and the "
          "reader is in region 'rc'" },
        { "regions=ra", "x", "sum:4,4", OUTSIDE,
          "dataset policy 'regions=ra' keeps its bytes at sites of those regions: run a job "
          "there instead" },
        { "none", "x[0:4, 0:4]", "sum:4,4", SITE_RA,
          "dataset policy 'none' keeps its bytes at its site: run a job there instead" },
    };
    for (size_t i = 0; i < sizeof (cases) / sizeof (cases[0]); i++) {
        fs_policy_t p;
        fs_sel_t sel;
        fs_reduce_t red = { 0 };
        fs_error_t err = { 0, "" };
        parse (cases[i].policy, &p);
        resolve (cases[i].slice, 2, shape, &sel);
        if (cases[i].reduce)
            assert_int_equal (reduce_parse (cases[i].reduce, &red, &err), 0);
        assert_int_equal (policy_read (&p, &readers[cases[i].reader], "x", shape, &sel,
                                       cases[i].reduce ? &red : NULL, NULL, &err), -1);
        if (!strstr (err.text, cases[i].want))
            fail_msg ("case %zu: got '%s', want '%s'", i, err.text, cases[i].want);
    }
}

/* Every refused aggregate read suggests one that is allowed: offsets, steps,
 * integer indices and every reduction, in 1 to 3 dimensions. */
static void check_suggestion (const fs_policy_t *p, int nd, const uint64_t *shape,
                              const char *slice, const char *reduce)
{
    fs_sel_t sel;
    fs_reduce_t red = { 0 };
    fs_error_t err = { 0, "" };
    resolve (slice, nd, shape, &sel);
    if (reduce && reduce_parse (reduce, &red, &err) < 0)
        return;                 /* a reduction that does not fit the selection */
    uint64_t oshape[FS_MAXDIMS];
    if (reduce && reduce_out_shape (&sel, &red, oshape, &err) < 0)
        return;
    if (policy_aggregate_check (p, "x", shape, &sel, reduce ? &red : NULL, &err) == 0)
        return;
    const char *s = strstr (err.text, "nearest aligned read: ");
    if (!s)
        fail_msg ("%s %s: no suggestion in '%s'", slice, reduce ? reduce : "", err.text);
    s += strlen ("nearest aligned read: ");
    char sl[512], rd[256];
    const char *r = strstr (s, " --reduce ");
    assert_non_null (r);
    snprintf (sl, sizeof (sl), "%.*s", (int)(r - s), s);
    snprintf (rd, sizeof (rd), "%s", r + strlen (" --reduce "));
    fs_sel_t sel2;
    fs_reduce_t red2;
    resolve (sl, nd, shape, &sel2);
    if (reduce_parse (rd, &red2, &err) < 0)
        fail_msg ("%s %s: suggested '%s': %s", slice, reduce ? reduce : "", rd, err.text);
    if (policy_aggregate_check (p, "x", shape, &sel2, &red2, &err) < 0)
        fail_msg ("%s %s: suggested %s --reduce %s, refused: %s", slice, reduce ? reduce : "", sl,
                  rd, err.text);
    /* and it reads something: at least one block in every dimension */
    assert_true (reduce_out_shape (&sel2, &red2, oshape, &err) >= 0);
    for (int j = 0; j < red2.nblock; j++)
        if (oshape[j] == 0)
            fail_msg ("%s %s: suggested %s --reduce %s reads nothing", slice,
                      reduce ? reduce : "", sl, rd);
}

static void test_aggregate_suggestions (void **state)
{
    static const char *ops[] = { "sum", "mean", "min", "max" };
    fs_policy_t p;
    uint64_t s1[] = { 13 };
    parse ("aggregate=3", &p);
    int n = 0;
    for (int a = 0; a < 13; a++)
        for (int b = a + 1; b <= 13; b++)
            for (int st = 1; st <= 3; st++)
                for (int blk = 1; blk <= 7; blk++)
                    for (int o = 0; o < 4; o++) {
                        char sl[64], rd[64];
                        snprintf (sl, sizeof (sl), "x[%d:%d:%d]", a, b, st);
                        snprintf (rd, sizeof (rd), "%s:%d", ops[o], blk);
                        check_suggestion (&p, 1, s1, sl, rd);
                        n++;
                    }
    uint64_t s2[] = { 12, 10 };
    parse ("aggregate=4x2,min=3", &p);
    for (int a = 0; a < 12; a++)
        for (int c = 0; c < 10; c += 3)
            for (int blk = 1; blk <= 5; blk++)
                for (int o = 0; o < 4; o++) {
                    char sl[64], rd[64];
                    snprintf (sl, sizeof (sl), "x[%d:, %d:%d]", a, c, c + 6);
                    snprintf (rd, sizeof (rd), "%s:%d,%d", ops[o], blk, blk + 1);
                    check_suggestion (&p, 2, s2, sl, rd);
                    snprintf (sl, sizeof (sl), "x[%d, %d:]", a, c);    /* an integer index */
                    snprintf (rd, sizeof (rd), "%s:%d", ops[o], blk);
                    check_suggestion (&p, 2, s2, sl, rd);
                    check_suggestion (&p, 2, s2, sl, NULL);
                    n += 3;
                }
    uint64_t s3[] = { 10, 9, 20 };
    parse ("aggregate=1x3x5", &p);
    check_suggestion (&p, 3, s3, "x[4, 1:8, ::3]", "mean:2,4");
    check_suggestion (&p, 3, s3, "x[:, :, 7]", "sum:1,3");
    check_suggestion (&p, 3, s3, "x", NULL);
    assert_true (n > 4000);

    /* a dimension indexed by an integer is fine where the cell is 1 wide */
    fs_sel_t sel;
    fs_reduce_t red;
    fs_error_t err;
    resolve ("x[4, 3:9, 5:15]", 3, s3, &sel);
    assert_int_equal (reduce_parse ("sum:3,10", &red, &err), 0);
    assert_int_equal (policy_aggregate_check (&p, "x", s3, &sel, &red, &err), 0);
    /* a policy of another rank than the dataset lets nothing out */
    parse ("aggregate=1x1", &p);
    assert_int_equal (policy_aggregate_check (&p, "x", s3, &sel, &red, &err), -1);
    assert_non_null (strstr (err.text, "ask the site operator to fix the policy"));
}

/* ---- derived data: every pair of policies ---------------------------------- */

static const char *const pols[] = {
    "raw", "none", "regions=a,b", "regions=b,c", "regions=c", "aggregate=4x4",
    "aggregate=2x6,min=3", "aggregate=4", "aggregate=4x4,min=7",
};
#define NPOLS (sizeof (pols) / sizeof (pols[0]))

/* The meet of pols[i] and pols[j], i <= j. */
static const struct {
    int i, j;
    const char *meet;
} meets[] = {
    { 0, 0, "raw" }, { 0, 1, "none" }, { 0, 2, "regions=a,b" }, { 0, 3, "regions=b,c" },
    { 0, 4, "regions=c" }, { 0, 5, "aggregate=4x4" }, { 0, 6, "aggregate=2x6,min=3" },
    { 0, 7, "aggregate=4" }, { 0, 8, "aggregate=4x4,min=7" },
    { 1, 1, "none" }, { 1, 2, "none" }, { 1, 3, "none" }, { 1, 4, "none" }, { 1, 5, "none" },
    { 1, 6, "none" }, { 1, 7, "none" }, { 1, 8, "none" },
    { 2, 2, "regions=a,b" }, { 2, 3, "regions=b" }, { 2, 4, "none" }, { 2, 5, "none" },
    { 2, 6, "none" }, { 2, 7, "none" }, { 2, 8, "none" },
    { 3, 3, "regions=b,c" }, { 3, 4, "regions=c" }, { 3, 5, "none" }, { 3, 6, "none" },
    { 3, 7, "none" }, { 3, 8, "none" },
    { 4, 4, "regions=c" }, { 4, 5, "none" }, { 4, 6, "none" }, { 4, 7, "none" },
    { 4, 8, "none" },
    { 5, 5, "aggregate=4x4" }, { 5, 6, "aggregate=4x12,min=3" }, { 5, 7, "none" },
    { 5, 8, "aggregate=4x4,min=7" },
    { 6, 6, "aggregate=2x6,min=3" }, { 6, 7, "none" }, { 6, 8, "aggregate=4x12,min=7" },
    { 7, 7, "aggregate=4" }, { 7, 8, "none" },
    { 8, 8, "aggregate=4x4,min=7" },
};

static void test_meet_table (void **state)
{
    bool seen[NPOLS][NPOLS] = { { false } };
    for (size_t t = 0; t < sizeof (meets) / sizeof (meets[0]); t++) {
        fs_policy_t a, b, want, m1, m2;
        parse (pols[meets[t].i], &a);
        parse (pols[meets[t].j], &b);
        parse (meets[t].meet, &want);
        policy_meet (&a, &b, &m1);
        policy_meet (&b, &a, &m2);
        char g1[256], g2[256];
        if (!policy_equal (&m1, &want) || !policy_equal (&m2, &want))
            fail_msg ("%s ^ %s: %s / %s, want %s", pols[meets[t].i], pols[meets[t].j],
                      policy_format (&m1, g1, sizeof (g1)), policy_format (&m2, g2, sizeof (g2)),
                      meets[t].meet);
        /* the meet is at least as strict as both, and only loosens neither */
        assert_true (policy_at_least_as_strict (&m1, &a));
        assert_true (policy_at_least_as_strict (&m1, &b));
        assert_int_equal (policy_at_least_as_strict (&a, &b), policy_equal (&m1, &a));
        assert_int_equal (policy_at_least_as_strict (&b, &a), policy_equal (&m1, &b));
        seen[meets[t].i][meets[t].j] = true;
    }
    for (size_t i = 0; i < NPOLS; i++)
        for (size_t j = i; j < NPOLS; j++)
            if (!seen[i][j])
                fail_msg ("pair %s, %s missing from the table", pols[i], pols[j]);
    fs_policy_t a, b;
    /* a region listed twice counts once */
    parse ("regions=b,b,a,b", &a);
    char buf0[128];
    assert_string_equal (policy_format (&a, buf0, sizeof (buf0)), "regions=b,a");
    /* in place */
    parse ("regions=x,y,z", &a);
    parse ("regions=z,x", &b);
    policy_meet (&a, &b, &a);
    char buf[128];
    assert_string_equal (policy_format (&a, buf, sizeof (buf)), "regions=x,z");
    /* a cell no grid can have: nowhere */
    parse ("aggregate=4611686018427387903", &a);
    parse ("aggregate=4611686018427387902", &b);
    policy_meet (&a, &b, &a);
    assert_int_equal (a.kind, POLICY_NONE);
}

static void test_strictness (void **state)
{
    static const struct {
        const char *a, *b;
        bool stricter;
    } cases[] = {
        { "none", "raw", 1 }, { "raw", "none", 0 }, { "none", "aggregate=4", 1 },
        { "regions=c", "regions=b,c", 1 }, { "regions=b,c", "regions=c", 0 },
        { "regions=c,b", "regions=b,c", 1 }, { "regions=a", "aggregate=2", 0 },
        { "aggregate=2", "regions=a", 0 }, { "aggregate=8x4", "aggregate=4x4", 1 },
        { "aggregate=6x4", "aggregate=4x4", 0 }, { "aggregate=4x4", "aggregate=4x4,min=1", 0 },
        { "aggregate=4x4,min=2", "aggregate=4x4,min=1", 1 }, { "aggregate=4", "aggregate=4x1", 0 },
        { "raw", "raw", 1 }, { "aggregate=4x4", "raw", 1 }, { "regions=a", "raw", 1 },
    };
    for (size_t i = 0; i < sizeof (cases) / sizeof (cases[0]); i++) {
        fs_policy_t a, b;
        parse (cases[i].a, &a);
        parse (cases[i].b, &b);
        if (policy_at_least_as_strict (&a, &b) != cases[i].stricter)
            fail_msg ("%s at least as strict as %s: expected %d", cases[i].a, cases[i].b,
                      cases[i].stricter);
    }
}

/* What a task's outputs inherit from combined inputs: the meet of what each
 * input moves as (an aggregate its reduction satisfies moves as raw). */
static void test_inherit_combined (void **state)
{
    static const struct {
        const char *in[3];
        bool sat[3];
        const char *want;
    } cases[] = {
        { { NULL }, { 0 }, "raw" },
        { { "regions=a,b", "regions=b,c" }, { 0, 0 }, "regions=b" },
        { { "regions=a", "aggregate=4x4" }, { 0, 1 }, "regions=a" },
        { { "regions=a", "aggregate=4x4" }, { 0, 0 }, "none" },
        { { "raw", "aggregate=4x4,min=5" }, { 0, 1 }, "raw" },
        { { "aggregate=4x4", "aggregate=2x2" }, { 0, 0 }, "aggregate=4x4" },
        { { "aggregate=4x4", "aggregate=6x2,min=2" }, { 0, 0 }, "aggregate=12x4,min=2" },
        { { "none", "raw", "regions=a" }, { 0, 0, 0 }, "none" },
        { { "regions=a,b", "raw", "regions=b" }, { 0, 1, 1 }, "regions=b" },
        { { "regions=a", "regions=b" }, { 0, 0 }, "none" },
    };
    for (size_t i = 0; i < sizeof (cases) / sizeof (cases[0]); i++) {
        fs_policy_t out = *policy_moves (NULL, false), p, want;
        for (int k = 0; k < 3 && cases[i].in[k]; k++) {
            parse (cases[i].in[k], &p);
            policy_meet (&out, policy_moves (&p, cases[i].sat[k]), &out);
        }
        parse (cases[i].want, &want);
        char buf[256];
        if (!policy_equal (&out, &want))
            fail_msg ("case %zu: %s, want %s", i, policy_format (&out, buf, sizeof (buf)),
                      cases[i].want);
    }
    /* where data moving under each policy may be read */
    static const struct {
        const char *moves;
        bool leave, ra, rc, holder;
    } where[] = {
        { "raw", 1, 1, 1, 1 },        { "regions=ra", 1, 1, 0, 1 }, { "regions=rb,rc", 1, 0, 1, 1 },
        { "none", 0, 0, 0, 1 },       { "aggregate=4x4", 0, 0, 0, 1 },
    };
    for (size_t i = 0; i < sizeof (where) / sizeof (where[0]); i++) {
        fs_policy_t m;
        parse (where[i].moves, &m);
        assert_int_equal (policy_bytes_leave (&m), where[i].leave);
        assert_int_equal (policy_site_allows (&m, false, "ra"), where[i].ra);
        assert_int_equal (policy_site_allows (&m, false, "rc"), where[i].rc);
        assert_int_equal (policy_site_allows (&m, true, "rc"), where[i].holder);
    }
    assert_true (policy_site_allows (NULL, false, NULL));
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_parse_format),
        cmocka_unit_test (test_parse_errors),
        cmocka_unit_test (test_check_rank),
        cmocka_unit_test (test_read_table),
        cmocka_unit_test (test_read_messages),
        cmocka_unit_test (test_aggregate_suggestions),
        cmocka_unit_test (test_meet_table),
        cmocka_unit_test (test_strictness),
        cmocka_unit_test (test_inherit_combined),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
