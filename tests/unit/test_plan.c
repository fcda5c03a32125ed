/* test_plan.c - piece plans: exact tiling, bounded sizes, row-major offsets;
 * plans fitted to a byte range (plan_fit, plan_index_at). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/plan.h"

/* Row-major element offset of index idx in shape. */
static uint64_t flat_of (int n, const uint64_t *shape, const uint64_t *idx)
{
    uint64_t f = 0;
    for (int d = 0; d < n; d++)
        f = f * shape[d] + idx[d];
    return f;
}

/* Check every invariant of the plan of (n, shape, elsize, max_bytes) by brute force. */
static void check_plan (int n, const uint64_t *shape, size_t elsize, size_t max_bytes)
{
    fs_plan_t p;
    plan_init (&p, n, shape, elsize, max_bytes);

    uint64_t total = 1;
    for (int d = 0; d < n; d++)
        total *= shape[d];
    if (n == 0) {
        assert_int_equal (p.npieces, 1);
        assert_int_equal (plan_piece_bytes (&p, 0), elsize);
        assert_int_equal (plan_piece_offset (&p, 0), 0);
        return;
    }
    if (total == 0) {
        assert_int_equal (p.npieces, 0);
        return;
    }

    /* k and rows as specified */
    int k = -1;
    uint64_t inner = 0;
    for (int c = 0; c < n && k < 0; c++) {
        uint64_t in = elsize;
        for (int d = c + 1; d < n; d++)
            in *= shape[d];
        if (in <= max_bytes) {
            k = c;
            inner = in;
        }
    }
    if (k < 0) {
        k = n - 1;
        inner = elsize;
    }
    uint64_t rows = max_bytes / inner;
    rows = rows < 1 ? 1 : rows > shape[k] ? shape[k] : rows;
    assert_int_equal (p.k, k);
    assert_int_equal (p.rows, rows);

    unsigned char *seen = calloc (total, 1);
    assert_non_null (seen);
    uint64_t expect_off = 0;
    for (uint64_t i = 0; i < p.npieces; i++) {
        uint64_t off[FS_MAXDIMS], cnt[FS_MAXDIMS];
        plan_piece (&p, i, off, cnt);
        uint64_t bytes = plan_piece_bytes (&p, i);
        uint64_t nel = 1;
        for (int d = 0; d < n; d++) {
            assert_true (cnt[d] >= 1);
            assert_true (off[d] + cnt[d] <= shape[d]);
            if (d < k)
                assert_int_equal (cnt[d], 1);
            if (d > k) {
                assert_int_equal (off[d], 0);
                assert_int_equal (cnt[d], shape[d]);
            }
            nel *= cnt[d];
        }
        assert_int_equal (bytes, nel * elsize);
        assert_true (bytes <= (max_bytes > elsize ? max_bytes : elsize));
        /* contiguous and in row-major order */
        assert_int_equal (plan_piece_offset (&p, i), expect_off);
        assert_int_equal (flat_of (n, shape, off) * elsize, expect_off);
        expect_off += bytes;
        /* mark every element of the box */
        uint64_t idx[FS_MAXDIMS];
        memcpy (idx, off, sizeof (uint64_t) * (size_t)n);
        for (uint64_t e = 0; e < nel; e++) {
            uint64_t f = flat_of (n, shape, idx);
            assert_int_equal (seen[f], 0);
            seen[f] = 1;
            for (int d = n - 1; d >= 0; d--) {
                if (++idx[d] < off[d] + cnt[d])
                    break;
                idx[d] = off[d];
            }
        }
    }
    assert_int_equal (expect_off, total * elsize);
    for (uint64_t f = 0; f < total; f++)
        assert_int_equal (seen[f], 1);
    free (seen);
}

static void test_brute_force (void **state)
{
    static const size_t elsizes[] = { 1, 2, 8 };
    static const size_t maxes[] = { 0, 1, 3, 7, 8, 16, 24, 40, 64, 100, 1000, 100000 };
    uint64_t shape[4];
    int nplans = 0;

    for (int n = 0; n <= 4; n++) {
        int limit = 1;
        for (int d = 0; d < n; d++)
            limit *= 5;
        for (int code = 0; code < limit; code++) {
            int c = code;
            for (int d = 0; d < n; d++) {
                shape[d] = (uint64_t)(c % 5);     /* 0..4: includes empty dims */
                if (d == n - 1 && shape[d] == 4)
                    shape[d] = 7;
                c /= 5;
            }
            for (size_t e = 0; e < sizeof (elsizes) / sizeof (elsizes[0]); e++)
                for (size_t m = 0; m < sizeof (maxes) / sizeof (maxes[0]); m++) {
                    check_plan (n, shape, elsizes[e], maxes[m]);
                    nplans++;
                }
        }
    }
    assert_true (nplans > 20000);
}

static void test_examples (void **state)
{
    fs_plan_t p;

    /* scalar */
    plan_init (&p, 0, NULL, 8, 1024);
    assert_int_equal (p.npieces, 1);
    assert_int_equal (p.k, 0);

    /* 100 x 1000 float64 rows, 64 KiB pieces: 8 rows of 8000 bytes each */
    uint64_t s2[] = { 100, 1000 };
    plan_init (&p, 2, s2, 8, 65536);
    assert_int_equal (p.k, 0);
    assert_int_equal (p.rows, 8);
    assert_int_equal (p.per_k, 13);
    assert_int_equal (p.npieces, 13);
    assert_int_equal (plan_piece_bytes (&p, 12), 4 * 8000);
    assert_int_equal (plan_piece_offset (&p, 12), 96 * 8000);

    /* rows that do not fit: split the inner dimension */
    plan_init (&p, 2, s2, 8, 1000);
    assert_int_equal (p.k, 1);
    assert_int_equal (p.rows, 125);
    assert_int_equal (p.per_k, 8);
    assert_int_equal (p.npieces, 800);
    uint64_t off[2], cnt[2];
    plan_piece (&p, 801 - 2, off, cnt);
    assert_int_equal (off[0], 99);
    assert_int_equal (off[1], 875);
    assert_int_equal (cnt[1], 125);

    /* element larger than max_bytes: one element per piece */
    uint64_t s1[] = { 5 };
    plan_init (&p, 1, s1, 8, 4);
    assert_int_equal (p.rows, 1);
    assert_int_equal (p.npieces, 5);

    /* everything fits in one piece */
    uint64_t s3[] = { 2, 3, 4 };
    plan_init (&p, 3, s3, 4, 96);
    assert_int_equal (p.npieces, 1);
    assert_int_equal (plan_piece_bytes (&p, 0), 96);
    plan_init (&p, 3, s3, 4, SIZE_MAX);
    assert_int_equal (p.npieces, 1);
    assert_int_equal (p.rows, 2);

    /* an empty dimension anywhere: no pieces */
    uint64_t s0[] = { 3, 0, 4 };
    plan_init (&p, 3, s0, 4, 1 << 20);
    assert_int_equal (p.npieces, 0);
}

/* Spot checks on huge arrays: neighbours are contiguous, boxes map to offsets,
 * the last piece ends at the total size. */
static void check_huge (int n, const uint64_t *shape, size_t elsize, size_t max_bytes,
                        uint64_t total_bytes)
{
    fs_plan_t p;
    plan_init (&p, n, shape, elsize, max_bytes);
    assert_true (p.npieces > 0);
    uint64_t samples[] = { 0, 1, 2, p.npieces / 3, p.npieces / 2, p.npieces - 2,
                           p.npieces - 1 };
    for (size_t s = 0; s < sizeof (samples) / sizeof (samples[0]); s++) {
        uint64_t i = samples[s];
        if (i >= p.npieces)
            continue;
        uint64_t off[FS_MAXDIMS], cnt[FS_MAXDIMS];
        plan_piece (&p, i, off, cnt);
        uint64_t o = plan_piece_offset (&p, i), b = plan_piece_bytes (&p, i);
        assert_true (b <= (max_bytes > elsize ? max_bytes : elsize));
        assert_true (b >= elsize);
        assert_int_equal (flat_of (n, shape, off) * elsize, o);
        uint64_t nel = 1;
        for (int d = 0; d < n; d++)
            nel *= cnt[d];
        assert_int_equal (nel * elsize, b);
        if (i + 1 < p.npieces)
            assert_int_equal (plan_piece_offset (&p, i + 1), o + b);
        else
            assert_int_equal (o + b, total_bytes);
    }
}

static void test_huge (void **state)
{
    const uint64_t tib = (uint64_t)1 << 40;
    uint64_t a[] = { (uint64_t)1 << 20, (uint64_t)1 << 20 };
    check_huge (2, a, 1, 1 << 20, tib);
    check_huge (2, a, 1, 3 << 20, tib);
    check_huge (2, a, 1, 1000, tib);
    uint64_t b[] = { 1024, 1024, 1024, 1024 };
    check_huge (4, b, 1, 1000, tib);
    check_huge (4, b, 1, 4 << 20, tib);
    check_huge (4, b, 1, SIZE_MAX, tib);
    uint64_t c[] = { (uint64_t)1 << 37 };
    check_huge (1, c, 8, 4 << 20, tib);
    check_huge (1, c, 8, 1, tib);
    check_huge (1, c, 8, SIZE_MAX, tib);
    uint64_t d[] = { 3, 1000003, 366667 };      /* ~8 TiB of float64, odd sizes */
    check_huge (3, d, 8, 1 << 22, (uint64_t)3 * 1000003 * 366667 * 8);
    check_huge (3, d, 8, 999, (uint64_t)3 * 1000003 * 366667 * 8);

    fs_plan_t p;
    plan_init (&p, 4, b, 1, 1000);
    assert_int_equal (p.k, 3);
    assert_int_equal (p.rows, 1000);
    assert_int_equal (p.per_k, 2);
    assert_int_equal (p.npieces, (uint64_t)1 << 31);
}

/* Every piece boundary of p in [lo, hi], as a bitmap over byte offsets 0..total. */
static void boundaries (const fs_plan_t *p, uint64_t total, unsigned char *mark)
{
    memset (mark, 0, total + 1);
    for (uint64_t i = 0; i < p->npieces; i++)
        mark[plan_piece_offset (p, i)] = 1;
    mark[total] = 1;
}

/* plan_fit, by brute force over small shapes: the plan it names starts and
 * ends pieces at lo and hi, keeps every piece in between within the limit,
 * its max_bytes is at least the floor, plan_index_at finds exactly its
 * boundaries, and a finer fit for the same range tiles every coarser piece. */
static void test_fit (void **state)
{
    static const size_t elsizes[] = { 1, 8 };
    static const uint64_t limits[] = { 1, 4, 8, 16, 24, 64, 100, 512, 4096 };
    uint64_t shape[3];
    unsigned char *mark = malloc (100000), *mark2 = malloc (100000);
    assert_non_null (mark);
    assert_non_null (mark2);
    int checked = 0;
    for (int n = 1; n <= 3; n++) {
        int combos = 1;
        for (int d = 0; d < n; d++)
            combos *= 4;
        for (int code = 0; code < combos; code++) {
            static const uint64_t sizes[] = { 1, 3, 8, 13 };
            int c = code;
            for (int d = 0; d < n; d++) {
                shape[d] = sizes[c % 4];
                c /= 4;
            }
            for (size_t e = 0; e < sizeof (elsizes) / sizeof (elsizes[0]); e++) {
                size_t el = elsizes[e];
                uint64_t total = el;
                for (int d = 0; d < n; d++)
                    total *= shape[d];
                /* ranges: the whole, and every piece pair of a coarse plan */
                fs_plan_t base;
                plan_init (&base, n, shape, el, 24);
                for (uint64_t i = 0; i <= base.npieces; i++) {
                    uint64_t lo = i < base.npieces ? plan_piece_offset (&base, i) : 0;
                    uint64_t hi = i + 1 < base.npieces ? plan_piece_offset (&base, i + 1) : total;
                    uint64_t prev = 0;
                    for (size_t l = sizeof (limits) / sizeof (limits[0]); l-- > 0;) {
                        uint64_t floor = el;
                        uint64_t pb = plan_fit (n, shape, el, lo, hi, limits[l], floor);
                        if (pb == 0) {
                            assert_true (limits[l] < el);
                            continue;
                        }
                        assert_true (pb >= floor);
                        fs_plan_t p;
                        plan_init (&p, n, shape, el, pb);
                        boundaries (&p, total, mark);
                        assert_int_equal (mark[lo], 1);
                        assert_int_equal (mark[hi], 1);
                        for (uint64_t j = 0; j < p.npieces; j++) {
                            uint64_t o = plan_piece_offset (&p, j), b = plan_piece_bytes (&p, j);
                            if (o >= lo && o < hi)
                                assert_true (b <= limits[l] || b == el);
                        }
                        for (uint64_t o = 0; o <= total; o++) {
                            uint64_t idx;
                            int rc = plan_index_at (&p, o, &idx);
                            assert_int_equal (rc == 0, mark[o] == 1);
                            if (rc == 0)
                                assert_int_equal (idx == p.npieces ? total : plan_piece_offset (&p, idx), o);
                        }
                        /* nested in the previous (coarser) fit of this range */
                        if (prev) {
                            fs_plan_t q;
                            plan_init (&q, n, shape, el, prev);
                            boundaries (&q, total, mark2);
                            for (uint64_t o = lo; o <= hi; o++)
                                if (mark2[o])
                                    assert_int_equal (mark[o], 1);
                        }
                        prev = pb;
                        checked++;
                    }
                }
            }
        }
    }
    assert_true (checked > 1000);
    /* the floor: a plan of small pieces asked for with a larger max_bytes */
    uint64_t sh[2] = { 1000, 3000 };            /* rows of 24000 bytes */
    uint64_t pb = plan_fit (2, sh, 8, 0, 1000 * 24000, 65536, 65536);
    fs_plan_t p;
    plan_init (&p, 2, sh, 8, pb);
    assert_int_equal (pb, 65536);
    assert_int_equal (p.k, 0);
    assert_int_equal (p.rows, 2);               /* the power of two: 48000 bytes */
    /* 1-D float64: a power of two of elements */
    uint64_t one[1] = { 1 << 20 };
    assert_int_equal (plan_fit (1, one, 8, 0, 8u << 20, 100000, 16384), 65536);
    assert_int_equal (plan_fit (1, one, 8, 65536, 8u << 20, 1u << 20, 16384), 65536);
    assert_int_equal (plan_fit (1, one, 8, 131072, 8u << 20, 1u << 20, 16384), 131072);
    assert_int_equal (plan_fit (1, one, 8, 1u << 20, 8u << 20, 4u << 20, 16384), 1u << 20);
    free (mark);
    free (mark2);
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_brute_force),
        cmocka_unit_test (test_examples),
        cmocka_unit_test (test_huge),
        cmocka_unit_test (test_fit),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
