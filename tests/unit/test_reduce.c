/* test_reduce.c - block reductions against a brute-force reduction.
 *
 * A mock read callback serves selections of an in-memory array (and checks
 * that every read stays inside the array and within the scratch bound);
 * reduce_box results are compared cell by cell with a direct reduction of
 * each block, for random shapes, selections (steps, dropped dimensions),
 * blocks, boxes, every operation, several element types and tiny scratch
 * sizes that force many sub-boxes.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "adapters/reduce/reduce.h"

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static uint64_t rnd (uint64_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return n ? rng_state % n : 0;
}

/* ---- the in-memory dataset and its mock reader ---- */

struct mock {
    int ndims;
    uint64_t shape[FS_MAXDIMS];
    fs_dtype_t t;
    size_t el;
    unsigned char *data;
    size_t scratch_max;
    uint64_t reads, elems_read;
    int fail_at;        /* > 0: the n-th read fails */
};

static int mock_read (void *arg, const fs_sel_t *sub, void *buf, fs_error_t *err)
{
    struct mock *m = arg;
    assert_int_equal (sub->ndims, m->ndims);
    uint64_t n = sel_nelems (sub);
    assert_true (n > 0);
    size_t bound = m->scratch_max > m->el ? m->scratch_max : m->el;
    if (n * m->el > bound)
        fail_msg ("read of %llu bytes exceeds scratch_max %zu", (unsigned long long)(n * m->el),
                  m->scratch_max);
    for (int d = 0; d < sub->ndims; d++) {
        assert_true (sub->step[d] > 0);
        assert_true (sub->start[d] + (sub->count[d] - 1) * sub->step[d] < m->shape[d]);
        if (sub->dropped[d])
            assert_int_equal (sub->count[d], 1);
    }
    m->reads++;
    if (m->fail_at && (int)m->reads == m->fail_at)
        return errprintf (err, FS_EFAIL, "mock read %llu failed", (unsigned long long)m->reads);
    m->elems_read += n;
    uint64_t idx[FS_MAXDIMS] = { 0 };
    unsigned char *out = buf;
    for (uint64_t e = 0; e < n; e++) {
        uint64_t flat = 0;
        for (int d = 0; d < sub->ndims; d++)
            flat = flat * m->shape[d] + sub->start[d] + idx[d] * sub->step[d];
        memcpy (out + e * m->el, m->data + flat * m->el, m->el);
        for (int d = sub->ndims - 1; d >= 0; d--) {
            if (++idx[d] < sub->count[d])
                break;
            idx[d] = 0;
        }
    }
    return 0;
}

/* Random values; extremes for the 64-bit integers (exactness of min/max);
 * some NaN and infinities for floats when nan is set. */
static void fill (struct mock *m, uint64_t n, bool nan)
{
    for (uint64_t i = 0; i < n; i++) {
        unsigned char *p = m->data + i * m->el;
        uint64_t u = rnd (UINT64_MAX);
        switch (m->t) {
        case FS_DT_INT8: *(int8_t *)p = (int8_t)u; break;
        case FS_DT_UINT8: *(uint8_t *)p = (uint8_t)u; break;
        case FS_DT_INT16: *(int16_t *)p = (int16_t)u; break;
        case FS_DT_UINT16: *(uint16_t *)p = (uint16_t)u; break;
        case FS_DT_INT32: *(int32_t *)p = (int32_t)u; break;
        case FS_DT_UINT32: *(uint32_t *)p = (uint32_t)u; break;
        case FS_DT_INT64:
            /* values that differ only below float64's precision */
            *(int64_t *)p = rnd (2) ? INT64_MAX - (int64_t)rnd (5) : INT64_MIN + (int64_t)rnd (5);
            if (rnd (3) == 0)
                *(int64_t *)p = (int64_t)u;
            break;
        case FS_DT_UINT64:
            *(uint64_t *)p = rnd (2) ? UINT64_MAX - rnd (5) : rnd (5);
            if (rnd (3) == 0)
                *(uint64_t *)p = u;
            break;
        case FS_DT_FLOAT32: {
            float f = (float)((double)(int64_t)u / 1e15);
            if (nan && rnd (40) == 0)
                f = NAN;
            else if (nan && rnd (60) == 0)
                f = rnd (2) ? INFINITY : -INFINITY;
            *(float *)p = f;
            break;
        }
        case FS_DT_FLOAT64: {
            double f = (double)(int64_t)u / 1e12;
            if (nan && rnd (40) == 0)
                f = NAN;
            else if (nan && rnd (60) == 0)
                f = rnd (2) ? INFINITY : -INFINITY;
            *(double *)p = f;
            break;
        }
        default: break;
        }
    }
}

/* ---- brute force ---- */

static double as_double (fs_dtype_t t, const void *p)
{
    switch (t) {
    case FS_DT_INT8: return *(const int8_t *)p;
    case FS_DT_UINT8: return *(const uint8_t *)p;
    case FS_DT_INT16: return *(const int16_t *)p;
    case FS_DT_UINT16: return *(const uint16_t *)p;
    case FS_DT_INT32: return *(const int32_t *)p;
    case FS_DT_UINT32: return *(const uint32_t *)p;
    case FS_DT_INT64: return (double)*(const int64_t *)p;
    case FS_DT_UINT64: return (double)*(const uint64_t *)p;
    case FS_DT_FLOAT32: return *(const float *)p;
    case FS_DT_FLOAT64: return *(const double *)p;
    default: return 0;
    }
}

/* a < b in the element type itself */
static bool less (fs_dtype_t t, const void *a, const void *b)
{
    switch (t) {
    case FS_DT_INT8: return *(const int8_t *)a < *(const int8_t *)b;
    case FS_DT_UINT8: return *(const uint8_t *)a < *(const uint8_t *)b;
    case FS_DT_INT16: return *(const int16_t *)a < *(const int16_t *)b;
    case FS_DT_UINT16: return *(const uint16_t *)a < *(const uint16_t *)b;
    case FS_DT_INT32: return *(const int32_t *)a < *(const int32_t *)b;
    case FS_DT_UINT32: return *(const uint32_t *)a < *(const uint32_t *)b;
    case FS_DT_INT64: return *(const int64_t *)a < *(const int64_t *)b;
    case FS_DT_UINT64: return *(const uint64_t *)a < *(const uint64_t *)b;
    case FS_DT_FLOAT32: return *(const float *)a < *(const float *)b;
    case FS_DT_FLOAT64: return *(const double *)a < *(const double *)b;
    default: return false;
    }
}

static bool is_nan (fs_dtype_t t, const void *p)
{
    if (t == FS_DT_FLOAT32)
        return isnan (*(const float *)p);
    if (t == FS_DT_FLOAT64)
        return isnan (*(const double *)p);
    return false;
}

/* Reduce cell `cell` (reduced-result coordinates) directly from the data.
 * NumPy semantics: min/max propagate NaN. */
static void brute_cell (const struct mock *m, const fs_sel_t *sel, const fs_reduce_t *r,
                        const uint64_t *cell, void *out)
{
    int rmap[FS_MAXDIMS], nres = 0;
    for (int d = 0; d < sel->ndims; d++)
        if (!sel->dropped[d])
            rmap[nres++] = d;
    uint64_t t[FS_MAXDIMS] = { 0 }, nb = 1;
    for (int j = 0; j < nres; j++)
        nb *= r->block[j];
    double sum = 0;
    unsigned char best[8];
    bool nan = false;
    for (uint64_t e = 0; e < nb; e++) {
        uint64_t src[FS_MAXDIMS];
        for (int d = 0; d < sel->ndims; d++)
            src[d] = sel->start[d];
        for (int j = 0; j < nres; j++)
            src[rmap[j]] = sel->start[rmap[j]]
                         + (cell[j] * r->block[j] + t[j]) * sel->step[rmap[j]];
        uint64_t flat = 0;
        for (int d = 0; d < sel->ndims; d++)
            flat = flat * m->shape[d] + src[d];
        const unsigned char *v = m->data + flat * m->el;
        sum += as_double (m->t, v);
        if (is_nan (m->t, v) && !nan) {
            nan = true;
            memcpy (best, v, m->el);
        }
        if (!nan && (e == 0 || (r->op == RED_MIN ? less (m->t, v, best) : less (m->t, best, v))))
            memcpy (best, v, m->el);
        for (int j = nres - 1; j >= 0; j--) {
            if (++t[j] < r->block[j])
                break;
            t[j] = 0;
        }
    }
    if (r->op == RED_SUM)
        *(double *)out = sum;
    else if (r->op == RED_MEAN)
        *(double *)out = sum / (double)nb;
    else
        memcpy (out, best, m->el);
}

static bool same_double (double a, double b)
{
    if (isnan (a) || isnan (b))
        return isnan (a) && isnan (b);
    if (a == b)
        return true;
    return fabs (a - b) <= 1e-12 * fmax (fabs (a), fabs (b));
}

/* ---- one random case ---- */

static const fs_dtype_t types[] = {
    FS_DT_INT8, FS_DT_UINT8, FS_DT_INT16, FS_DT_UINT16, FS_DT_INT32, FS_DT_UINT32,
    FS_DT_INT64, FS_DT_UINT64, FS_DT_FLOAT32, FS_DT_FLOAT64,
};
#define NTYPES (sizeof (types) / sizeof (types[0]))

static int run_case (int iter)
{
    struct mock m = { 0 };
    m.ndims = (int)rnd (5);             /* 0..4 */
    m.t = types[rnd (NTYPES)];
    m.el = dtype_size (m.t);
    uint64_t n = 1;
    for (int d = 0; d < m.ndims; d++) {
        m.shape[d] = 1 + rnd (m.ndims > 2 ? 9 : 40);
        n *= m.shape[d];
    }
    m.data = malloc (n * m.el);
    assert_non_null (m.data);
    fill (&m, n, rnd (2));

    fs_sel_t sel = { .ndims = m.ndims };
    int nres = 0;
    for (int d = 0; d < m.ndims; d++) {
        sel.start[d] = rnd (2) ? 0 : rnd (m.shape[d]);
        if (rnd (5) == 0) {
            sel.dropped[d] = true;
            sel.step[d] = 1;
            sel.count[d] = 1;
            continue;
        }
        sel.step[d] = rnd (2) ? 1 : 1 + rnd (3);
        uint64_t max = (m.shape[d] - 1 - sel.start[d]) / sel.step[d] + 1;
        sel.count[d] = rnd (2) == 0 ? max : 1 + rnd (max);
        nres++;
    }
    static const fs_redop_t ops[] = { RED_MEAN, RED_SUM, RED_MIN, RED_MAX };
    fs_reduce_t r = { .op = ops[rnd (4)], .nblock = nres };
    uint64_t cnt_sel[FS_MAXDIMS];
    sel_out_shape (&sel, cnt_sel);
    for (int j = 0; j < nres; j++)
        r.block[j] = rnd (8) == 0 ? 1 + rnd (cnt_sel[j] + 1)     /* may trim everything */
                   : rnd (2) ? 1 + rnd ((cnt_sel[j] + 1) / 2) : 1 + rnd (cnt_sel[j] < 3 ? cnt_sel[j] : 3);

    fs_error_t err = { 0 };
    uint64_t rshape[FS_MAXDIMS];
    assert_int_equal (reduce_out_shape (&sel, &r, rshape, &err), nres);
    uint64_t off[FS_MAXDIMS], cnt[FS_MAXDIMS], ncells = 1;
    for (int j = 0; j < nres; j++) {
        if (rshape[j] == 0 || rnd (20) == 0) {     /* sometimes an empty box */
            off[j] = rnd (rshape[j] + 1);
            cnt[j] = 0;
        } else {
            off[j] = rnd (2) ? 0 : rnd (rshape[j]);
            cnt[j] = rnd (2) ? rshape[j] - off[j] : 1 + rnd (rshape[j] - off[j]);
        }
        if (rnd (3) == 0) {
            off[j] = 0;
            cnt[j] = rshape[j];
        }
        ncells *= cnt[j];
    }
    static const size_t scratch[] = { 1, 3, 8, 17, 64, 100, 256, 1000, 1 << 20 };
    m.scratch_max = scratch[rnd (sizeof (scratch) / sizeof (scratch[0]))];

    fs_dtype_t odt = reduce_out_dtype (r.op, m.t);
    size_t oel = dtype_size (odt);
    unsigned char *out = malloc (ncells * oel + 8);
    memset (out, 0xEE, ncells * oel + 8);
    if (reduce_box (&sel, &r, m.t, off, cnt, out, m.scratch_max, mock_read, &m, 0, NULL, &err) < 0)
        fail_msg ("case %d: reduce_box failed: %s", iter, err.text);
    for (int i = 0; i < 8; i++)
        assert_int_equal (out[ncells * oel + (size_t)i], 0xEE);

    /* every source element of the box read exactly once */
    uint64_t per_cell = 1;
    for (int j = 0; j < nres; j++)
        per_cell *= r.block[j];
    assert_int_equal (m.elems_read, ncells * per_cell);

    uint64_t c[FS_MAXDIMS] = { 0 };
    for (uint64_t k = 0; k < ncells; k++) {
        uint64_t cell[FS_MAXDIMS];
        for (int j = 0; j < nres; j++)
            cell[j] = off[j] + c[j];
        unsigned char want[8];
        brute_cell (&m, &sel, &r, cell, want);
        const unsigned char *got = out + k * oel;
        bool ok = odt == FS_DT_FLOAT64 && (r.op == RED_SUM || r.op == RED_MEAN)
                      ? same_double (*(const double *)got, *(const double *)want)
                  : is_nan (odt, want) ? is_nan (odt, got)
                                       : memcmp (got, want, oel) == 0;
        if (!ok)
            fail_msg ("case %d: %s %s rank %d, cell %llu: got %.17g want %.17g", iter,
                      reduce_op_name (r.op), dtype_name (m.t), m.ndims, (unsigned long long)k,
                      as_double (odt, got), as_double (odt, want));
        for (int j = nres - 1; j >= 0; j--) {
            if (++c[j] < cnt[j])
                break;
            c[j] = 0;
        }
    }
    free (out);
    free (m.data);
    return ncells ? (int)m.reads : -1;
}

static void test_random (void **state)
{
    (void)state;
    uint64_t reads = 0, empty = 0;
    for (int i = 0; i < 20000; i++) {
        int k = run_case (i);
        if (k < 0)
            empty++;
        else
            reads += (uint64_t)k;
    }
    printf ("  20000 random cases (%llu with an empty box), %llu sub-box reads\n",
            (unsigned long long)empty, (unsigned long long)reads);
    assert_true (empty < 20000 / 4);
}

/* ---- specific cases ---- */

static void test_out_dtype (void **state)
{
    (void)state;
    assert_int_equal (reduce_out_dtype (RED_MEAN, FS_DT_INT8), FS_DT_FLOAT64);
    assert_int_equal (reduce_out_dtype (RED_SUM, FS_DT_FLOAT32), FS_DT_FLOAT64);
    assert_int_equal (reduce_out_dtype (RED_MIN, FS_DT_UINT64), FS_DT_UINT64);
    assert_int_equal (reduce_out_dtype (RED_MAX, FS_DT_FLOAT32), FS_DT_FLOAT32);
}

/* One block is the whole dataset: memory bounded by scratch_max. */
static void test_one_big_block (void **state)
{
    (void)state;
    struct mock m = { .ndims = 3, .shape = { 50, 60, 70 }, .t = FS_DT_UINT16, .el = 2 };
    uint64_t n = 50 * 60 * 70;
    m.data = malloc (n * 2);
    for (uint64_t i = 0; i < n; i++)
        ((uint16_t *)m.data)[i] = (uint16_t)(i % 1000);
    m.data[2 * 12345] = 0xFF;       /* the max: 1000 < 0x..FF */
    m.data[2 * 12345 + 1] = 0xFF;
    fs_sel_t sel = { .ndims = 3, .step = { 1, 1, 1 }, .count = { 50, 60, 70 } };
    fs_reduce_t r = { .op = RED_MAX, .nblock = 3, .block = { 50, 60, 70 } };
    uint64_t off[3] = { 0 }, cnt[3] = { 1, 1, 1 };
    uint16_t mx = 0;
    fs_error_t err = { 0 };
    m.scratch_max = 4096;
    assert_int_equal (reduce_box (&sel, &r, m.t, off, cnt, &mx, 4096, mock_read, &m, 0, NULL, &err), 0);
    assert_int_equal (mx, 0xFFFF);
    assert_true (m.reads >= n * 2 / 4096);

    r.op = RED_MEAN;
    double mean = 0, want = 0;
    for (uint64_t i = 0; i < n; i++)
        want += ((uint16_t *)m.data)[i];
    want /= (double)n;
    assert_int_equal (reduce_box (&sel, &r, m.t, off, cnt, &mean, 4096, mock_read, &m, 0, NULL, &err), 0);
    assert_true (fabs (mean - want) < 1e-9);
    free (m.data);
}

/* Scalar results (every dimension dropped), and rank-0 datasets. */
static void test_scalar (void **state)
{
    (void)state;
    int64_t data[6] = { 1, -2, 3, INT64_MIN + 1, 5, INT64_MAX };
    struct mock m = { .ndims = 2, .shape = { 2, 3 }, .t = FS_DT_INT64, .el = 8,
                      .data = (unsigned char *)data, .scratch_max = 8 };
    fs_sel_t sel = { .ndims = 2, .start = { 1, 2 }, .step = { 1, 1 }, .count = { 1, 1 },
                     .dropped = { true, true } };
    fs_reduce_t r = { .op = RED_MIN, .nblock = 0 };
    int64_t v = 0;
    fs_error_t err = { 0 };
    assert_int_equal (reduce_box (&sel, &r, m.t, NULL, NULL, &v, 8, mock_read, &m, 0, NULL, &err), 0);
    assert_true (v == INT64_MAX);
    r.op = RED_SUM;
    double s = 0;
    assert_int_equal (reduce_box (&sel, &r, m.t, NULL, NULL, &s, 8, mock_read, &m, 0, NULL, &err), 0);
    assert_true (s == (double)INT64_MAX);

    struct mock m0 = { .ndims = 0, .t = FS_DT_INT64, .el = 8, .data = (unsigned char *)data,
                       .scratch_max = 1 };
    fs_sel_t s0 = { .ndims = 0 };
    r.op = RED_MAX;
    assert_int_equal (reduce_box (&s0, &r, m0.t, NULL, NULL, &v, 1, mock_read, &m0, 0, NULL, &err), 0);
    assert_true (v == 1);
}

/* 64-bit extremes that float64 can't tell apart. */
static void test_int64_exact (void **state)
{
    (void)state;
    uint64_t data[4] = { UINT64_MAX - 1, UINT64_MAX, UINT64_MAX - 3, UINT64_MAX - 2 };
    struct mock m = { .ndims = 1, .shape = { 4 }, .t = FS_DT_UINT64, .el = 8,
                      .data = (unsigned char *)data, .scratch_max = 16 };
    fs_sel_t sel = { .ndims = 1, .step = { 1 }, .count = { 4 } };
    fs_reduce_t r = { .op = RED_MAX, .nblock = 1, .block = { 2 } };
    uint64_t off = 0, cnt = 2, out[2];
    fs_error_t err = { 0 };
    assert_int_equal (reduce_box (&sel, &r, m.t, &off, &cnt, out, 16, mock_read, &m, 0, NULL, &err), 0);
    assert_true (out[0] == UINT64_MAX && out[1] == UINT64_MAX - 2);
    r.op = RED_MIN;
    assert_int_equal (reduce_box (&sel, &r, m.t, &off, &cnt, out, 16, mock_read, &m, 0, NULL, &err), 0);
    assert_true (out[0] == UINT64_MAX - 1 && out[1] == UINT64_MAX - 3);
}

/* NaN propagates through min and max (np.min / np.max), also when first. */
static void test_nan (void **state)
{
    (void)state;
    float data[8] = { NAN, 1, 2, 3, 4, NAN, -INFINITY, 7 };
    struct mock m = { .ndims = 1, .shape = { 8 }, .t = FS_DT_FLOAT32, .el = 4,
                      .data = (unsigned char *)data, .scratch_max = 4 };
    fs_sel_t sel = { .ndims = 1, .step = { 1 }, .count = { 8 } };
    fs_reduce_t r = { .op = RED_MIN, .nblock = 1, .block = { 2 } };
    uint64_t off = 0, cnt = 4;
    float out[4];
    fs_error_t err = { 0 };
    assert_int_equal (reduce_box (&sel, &r, m.t, &off, &cnt, out, 4, mock_read, &m, 0, NULL, &err), 0);
    assert_true (isnan (out[0]) && out[1] == 2 && isnan (out[2]) && out[3] == -INFINITY);
    r.op = RED_MAX;
    assert_int_equal (reduce_box (&sel, &r, m.t, &off, &cnt, out, 4, mock_read, &m, 0, NULL, &err), 0);
    assert_true (isnan (out[0]) && out[1] == 3 && isnan (out[2]) && out[3] == 7);
    r.op = RED_MEAN;
    double mean[4];
    assert_int_equal (reduce_box (&sel, &r, m.t, &off, &cnt, mean, 4, mock_read, &m, 0, NULL, &err), 0);
    assert_true (isnan (mean[0]) && mean[1] == 2.5 && isnan (mean[2]) && mean[3] == -INFINITY);
}

/* The threshold of an aggregate policy: sums below it are NaN, counted, for
 * sum and mean alike (the mean's block sum is compared, exactly), whatever
 * the piece size; min and max never suppress. */
static void test_threshold (void **state)
{
    (void)state;
    /* 4 x 6 counts, blocks of 2 x 2: block sums 0+1+6+7 = 14, 2+3+8+9 = 22, ... */
    int32_t data[24];
    for (int i = 0; i < 24; i++)
        data[i] = i;
    data[0] = data[1] = data[6] = 0;          /* block (0,0): sum 7 */
    data[2] = 1, data[3] = 1, data[8] = 1, data[9] = 2;   /* block (0,1): sum exactly 5 */
    struct mock m = { .ndims = 2, .shape = { 4, 6 }, .t = FS_DT_INT32, .el = 4,
                      .data = (unsigned char *)data };
    fs_sel_t sel = { .ndims = 2, .step = { 1, 1 }, .count = { 4, 6 } };
    fs_reduce_t r = { .op = RED_SUM, .nblock = 2, .block = { 2, 2 } };
    uint64_t off[2] = { 0, 0 }, cnt[2] = { 2, 3 }, nsup = 99;
    double out[6];
    fs_error_t err = { 0 };
    for (size_t scratch = 4; scratch <= 96; scratch *= 2) {
        m.scratch_max = scratch;
        assert_int_equal (reduce_box (&sel, &r, m.t, off, cnt, out, scratch, mock_read, &m, 8,
                                      &nsup, &err), 0);
        assert_int_equal (nsup, 2);
        assert_true (isnan (out[0]) && isnan (out[1]));     /* 7 and 5 are below 8 */
        assert_true (out[2] == 4 + 5 + 10 + 11 && out[3] == 12 + 13 + 18 + 19);
    }
    /* the boundary: a sum equal to the threshold stays */
    m.scratch_max = 96;
    assert_int_equal (reduce_box (&sel, &r, m.t, off, cnt, out, 96, mock_read, &m, 5, &nsup,
                                  &err), 0);
    assert_int_equal (nsup, 0);
    assert_true (out[0] == 7 && out[1] == 5);
    assert_int_equal (reduce_box (&sel, &r, m.t, off, cnt, out, 96, mock_read, &m, 6, &nsup,
                                  &err), 0);
    assert_int_equal (nsup, 1);
    assert_true (out[0] == 7 && isnan (out[1]));
    /* mean: on the sum, before the division; 3 blocks of 1 x 3 */
    fs_reduce_t rm = { .op = RED_MEAN, .nblock = 2, .block = { 1, 3 } };
    uint64_t cnt2[2] = { 1, 2 };
    assert_int_equal (reduce_box (&sel, &rm, m.t, off, cnt2, out, 96, mock_read, &m, 2, &nsup,
                                  &err), 0);       /* row 0: 0+0+1 = 1 (NaN), 1+4+5 = 10 */
    assert_int_equal (nsup, 1);
    assert_true (isnan (out[0]) && out[1] == 10.0 / 3);
    /* a box of the result: only its own blocks are counted */
    uint64_t off3[2] = { 1, 1 }, cnt3[2] = { 1, 2 };
    assert_int_equal (reduce_box (&sel, &r, m.t, off3, cnt3, out, 96, mock_read, &m, 1000,
                                  &nsup, &err), 0);
    assert_int_equal (nsup, 2);
    /* min and max are never thresholded (an aggregate policy refuses them) */
    r.op = RED_MIN;
    int32_t mins[6];
    assert_int_equal (reduce_box (&sel, &r, m.t, off, cnt, mins, 96, mock_read, &m, 1000, &nsup,
                                  &err), 0);
    assert_int_equal (nsup, 0);
    assert_int_equal (mins[0], 0);
    /* NaN data is not "below" anything: it stays NaN, not counted */
    double fd[4] = { NAN, 1, 100, 100 };
    struct mock mf = { .ndims = 1, .shape = { 4 }, .t = FS_DT_FLOAT64, .el = 8,
                       .data = (unsigned char *)fd, .scratch_max = 64 };
    fs_sel_t sf = { .ndims = 1, .step = { 1 }, .count = { 4 } };
    fs_reduce_t rf = { .op = RED_SUM, .nblock = 1, .block = { 2 } };
    uint64_t of = 0, cf = 2;
    assert_int_equal (reduce_box (&sf, &rf, mf.t, &of, &cf, out, 64, mock_read, &mf, 5, &nsup,
                                  &err), 0);
    assert_int_equal (nsup, 0);
    assert_true (isnan (out[0]) && out[1] == 200);
}

static void test_errors (void **state)
{
    (void)state;
    int32_t data[10] = { 0 };
    struct mock m = { .ndims = 1, .shape = { 10 }, .t = FS_DT_INT32, .el = 4,
                      .data = (unsigned char *)data, .scratch_max = 8, .fail_at = 2 };
    fs_sel_t sel = { .ndims = 1, .step = { 1 }, .count = { 10 } };
    fs_reduce_t r = { .op = RED_SUM, .nblock = 1, .block = { 3 } };
    uint64_t off = 0, cnt = 3;
    double out[3];
    fs_error_t err = { 0 };
    /* a failing read is passed on */
    assert_int_equal (reduce_box (&sel, &r, m.t, &off, &cnt, out, 8, mock_read, &m, 0, NULL, &err), -1);
    assert_non_null (strstr (err.text, "mock read 2 failed"));
    /* a box outside the reduced shape (3 blocks of 3; the 10th element trimmed) */
    cnt = 4;
    assert_int_equal (reduce_box (&sel, &r, m.t, &off, &cnt, out, 8, mock_read, &m, 0, NULL, &err), -1);
    assert_int_equal (err.code, FS_EINVAL);
    /* block count not matching the result rank */
    r.nblock = 2;
    cnt = 1;
    assert_int_equal (reduce_box (&sel, &r, m.t, &off, &cnt, out, 8, mock_read, &m, 0, NULL, &err), -1);
    assert_int_equal (err.code, FS_EINVAL);
    /* an empty box reads nothing */
    r.nblock = 1;
    cnt = 0;
    m.reads = 0;
    m.fail_at = 0;
    assert_int_equal (reduce_box (&sel, &r, m.t, &off, &cnt, out, 8, mock_read, &m, 0, NULL, &err), 0);
    assert_int_equal (m.reads, 0);
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_out_dtype),
        cmocka_unit_test (test_one_big_block),
        cmocka_unit_test (test_scalar),
        cmocka_unit_test (test_int64_exact),
        cmocka_unit_test (test_nan),
        cmocka_unit_test (test_threshold),
        cmocka_unit_test (test_errors),
        cmocka_unit_test (test_random),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
