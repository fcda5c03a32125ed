/* reduce.c - export reductions: block mean/sum/min/max (SPEC section 6).
 *
 * reduce_box computes the box [off, off+cnt) of the reduced result:
 *
 *   1. reduce_sub() gives the block-aligned source selection of the box (every
 *      output cell's block lies inside it, partial edge blocks already gone);
 *   2. that source selection is split with the piece planner (common/plan.h)
 *      into sub-boxes of at most scratch_max bytes, each read through the
 *      callback into one scratch buffer - memory stays bounded even when one
 *      block is the whole dataset;
 *   3. each element read is folded into its output cell: the cell of source
 *      result index s is s[j] / block[j] along every result dimension j.
 *
 * The innermost dimension is walked in runs that feed one cell, so the inner
 * loop is a plain fold over contiguous elements.  sum and mean accumulate in
 * float64 (mean = sum / elements per block); min and max compare in the
 * element type itself (no float64 round trip, so int64/uint64 stay exact) and
 * let NaN propagate like NumPy's np.min/np.max.  Elements of one cell are
 * folded in row-major order of its block, whatever the piece size.  With a
 * threshold, a sum below it becomes NaN before a mean divides it (so the
 * comparison is exact: no division rounds it).
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/reduce/reduce.h"
#include "common/plan.h"

fs_dtype_t reduce_out_dtype (fs_redop_t op, fs_dtype_t in)
{
    return op == RED_MEAN || op == RED_SUM ? FS_DT_FLOAT64 : in;
}

/* Where the elements of one piece go. */
struct geom {
    int m;                          /* result rank */
    const uint64_t *poff, *pcnt;    /* piece box in the source result space */
    const uint64_t *block;
    uint64_t ostride[FS_MAXDIMS];   /* row-major strides of the output box */
};

/* Calls FOLD(cell, v, len) for every run of len elements at v that all fall
 * into output cell `cell`, in row-major order of the piece. */
#define FOR_RUNS(T, g, buf, FOLD)                                                   \
    do {                                                                            \
        const T *v_ = (const T *)(buf);                                             \
        if ((g)->m == 0) {                                                          \
            FOLD (0, v_, 1);                                                        \
            break;                                                                  \
        }                                                                           \
        int in_ = (g)->m - 1;                                                       \
        uint64_t idx_[FS_MAXDIMS] = { 0 }, rows_ = 1;                               \
        for (int j_ = 0; j_ < in_; j_++)                                            \
            rows_ *= (g)->pcnt[j_];                                                 \
        uint64_t len_ = (g)->pcnt[in_], b_ = (g)->block[in_], s0_ = (g)->poff[in_]; \
        for (uint64_t r_ = 0; r_ < rows_; r_++) {                                   \
            uint64_t base_ = 0;                                                     \
            for (int j_ = 0; j_ < in_; j_++)                                        \
                base_ += ((g)->poff[j_] + idx_[j_]) / (g)->block[j_] * (g)->ostride[j_]; \
            for (uint64_t k_ = 0; k_ < len_;) {                                     \
                uint64_t s_ = s0_ + k_;                                             \
                uint64_t run_ = b_ - s_ % b_;                                       \
                if (run_ > len_ - k_)                                               \
                    run_ = len_ - k_;                                               \
                FOLD (base_ + s_ / b_, v_ + k_, run_);                              \
                k_ += run_;                                                         \
            }                                                                       \
            v_ += len_;                                                             \
            for (int j_ = in_ - 1; j_ >= 0; j_--) {                                 \
                if (++idx_[j_] < (g)->pcnt[j_])                                     \
                    break;                                                          \
                idx_[j_] = 0;                                                       \
            }                                                                       \
        }                                                                           \
    } while (0)

/* One set of fold functions per element type. */
#define DEFINE_TYPE(T, SFX, LO, HI)                                          \
    static void sum_##SFX (const struct geom *g, const void *buf, void *out)        \
    {                                                                               \
        double *o = out;                                                            \
        FOR_RUNS (T, g, buf, SUM_FOLD);                                             \
    }                                                                               \
    static void min_##SFX (const struct geom *g, const void *buf, void *out)        \
    {                                                                               \
        T *o = out;                                                                 \
        FOR_RUNS (T, g, buf, MIN_FOLD);                                             \
    }                                                                               \
    static void max_##SFX (const struct geom *g, const void *buf, void *out)        \
    {                                                                               \
        T *o = out;                                                                 \
        FOR_RUNS (T, g, buf, MAX_FOLD);                                             \
    }                                                                               \
    static void init_##SFX (fs_redop_t op, void *out, uint64_t n)                   \
    {                                                                               \
        T *o = out, id = op == RED_MIN ? (HI) : (LO);                               \
        for (uint64_t i = 0; i < n; i++)                                            \
            o[i] = id;                                                              \
    }

#define SUM_FOLD(cell, v, n)                                                        \
    do {                                                                            \
        double a_ = o[cell];                                                        \
        for (uint64_t t_ = 0; t_ < (n); t_++)                                       \
            a_ += (double)(v)[t_];                                                  \
        o[cell] = a_;                                                               \
    } while (0)

/* NaN propagates: a NaN element replaces the accumulator, and nothing
 * replaces a NaN accumulator (every comparison with NaN is false). */
#define MIN_FOLD(cell, v, n)                                                        \
    do {                                                                            \
        __typeof__ (o[0]) a_ = o[cell];                                             \
        for (uint64_t t_ = 0; t_ < (n); t_++)                                       \
            if ((v)[t_] < a_ || (v)[t_] != (v)[t_])                                 \
                a_ = (v)[t_];                                                       \
        o[cell] = a_;                                                               \
    } while (0)

#define MAX_FOLD(cell, v, n)                                                        \
    do {                                                                            \
        __typeof__ (o[0]) a_ = o[cell];                                             \
        for (uint64_t t_ = 0; t_ < (n); t_++)                                       \
            if ((v)[t_] > a_ || (v)[t_] != (v)[t_])                                 \
                a_ = (v)[t_];                                                       \
        o[cell] = a_;                                                               \
    } while (0)

DEFINE_TYPE (int8_t, i8, INT8_MIN, INT8_MAX)
DEFINE_TYPE (int16_t, i16, INT16_MIN, INT16_MAX)
DEFINE_TYPE (int32_t, i32, INT32_MIN, INT32_MAX)
DEFINE_TYPE (int64_t, i64, INT64_MIN, INT64_MAX)
DEFINE_TYPE (uint8_t, u8, 0, UINT8_MAX)
DEFINE_TYPE (uint16_t, u16, 0, UINT16_MAX)
DEFINE_TYPE (uint32_t, u32, 0, UINT32_MAX)
DEFINE_TYPE (uint64_t, u64, 0, UINT64_MAX)
DEFINE_TYPE (float, f32, -INFINITY, INFINITY)
DEFINE_TYPE (double, f64, -INFINITY, INFINITY)

typedef void (*fold_f) (const struct geom *g, const void *buf, void *out);
typedef void (*init_f) (fs_redop_t op, void *out, uint64_t n);

static const struct {
    fs_dtype_t t;
    fold_f sum, min, max;
    init_f init;
} folds[] = {
#define ROW(DT, SFX) { DT, sum_##SFX, min_##SFX, max_##SFX, init_##SFX }
    ROW (FS_DT_INT8, i8), ROW (FS_DT_INT16, i16), ROW (FS_DT_INT32, i32),
    ROW (FS_DT_INT64, i64), ROW (FS_DT_UINT8, u8), ROW (FS_DT_UINT16, u16),
    ROW (FS_DT_UINT32, u32), ROW (FS_DT_UINT64, u64), ROW (FS_DT_FLOAT32, f32),
    ROW (FS_DT_FLOAT64, f64),
#undef ROW
};

int reduce_box (const fs_sel_t *sel, const fs_reduce_t *r, fs_dtype_t in,
                const uint64_t *off, const uint64_t *cnt, void *out,
                size_t scratch_max, reduce_read_f read, void *arg, uint64_t min_sum,
                uint64_t *suppressed, fs_error_t *err)
{
    if (suppressed)
        *suppressed = 0;
    size_t el = dtype_size (in);
    if (el == 0)
        return errprintf (err, FS_EINVAL, "reduction: invalid element type");

    if (!r || r->op == RED_NONE) {      /* no reduction: the plain slice */
        fs_sel_t sub;
        sel_sub (sel, off, cnt, &sub);
        return sel_nelems (&sub) ? read (arg, &sub, out, err) : 0;
    }
    int fi = -1;
    for (size_t i = 0; i < sizeof (folds) / sizeof (folds[0]); i++)
        if (folds[i].t == in)
            fi = (int)i;
    fold_f fold = r->op == RED_MIN ? folds[fi].min : r->op == RED_MAX ? folds[fi].max
                : r->op == RED_SUM || r->op == RED_MEAN ? folds[fi].sum : NULL;
    if (!fold)
        return errprintf (err, FS_EINVAL, "reduction: unknown operation %d", (int)r->op);

    uint64_t rshape[FS_MAXDIMS];
    int m = reduce_out_shape (sel, r, rshape, err);
    if (m < 0)
        return -1;
    uint64_t ncells = 1;
    for (int j = 0; j < m; j++) {
        if (off[j] > rshape[j] || cnt[j] > rshape[j] - off[j])
            return errprintf (err, FS_EINVAL,
                              "reduction: box [%llu, +%llu) leaves dimension %d of size %llu",
                              (unsigned long long)off[j], (unsigned long long)cnt[j], j,
                              (unsigned long long)rshape[j]);
        ncells *= cnt[j];
    }
    if (ncells == 0)
        return 0;

    struct geom g = { .m = m, .block = r->block };
    uint64_t sshape[FS_MAXDIMS], per_block = 1;
    for (int j = m - 1; j >= 0; j--) {
        g.ostride[j] = j == m - 1 ? 1 : g.ostride[j + 1] * cnt[j + 1];
        sshape[j] = cnt[j] * r->block[j];
        per_block *= r->block[j];
    }
    fs_sel_t src;
    reduce_sub (sel, r, off, cnt, &src);

    fs_plan_t plan;
    plan_init (&plan, m, sshape, el, scratch_max);
    /* Piece 0 is a full one: the largest of the plan. */
    uint64_t maxb = plan.npieces ? plan_piece_bytes (&plan, 0) : el;
    void *buf = malloc (maxb ? (size_t)maxb : 1);
    if (!buf)
        return errprintf (err, FS_EFAIL, "reduction: out of memory for %llu scratch bytes",
                          (unsigned long long)maxb);

    if (r->op == RED_SUM || r->op == RED_MEAN)
        memset (out, 0, (size_t)ncells * sizeof (double));  /* 0.0 is all-zero bits */
    else
        folds[fi].init (r->op, out, ncells);

    int rc = 0;
    uint64_t poff[FS_MAXDIMS], pcnt[FS_MAXDIMS];
    g.poff = poff;
    g.pcnt = pcnt;
    for (uint64_t i = 0; i < plan.npieces; i++) {
        fs_sel_t psel;
        plan_piece (&plan, i, poff, pcnt);
        sel_sub (&src, poff, pcnt, &psel);
        if (read (arg, &psel, buf, err) < 0) {
            rc = -1;
            break;
        }
        fold (&g, buf, out);
    }
    free (buf);
    /* The threshold, on the sum (before a mean divides it): NaN, counted. */
    if (rc == 0 && min_sum > 0 && (r->op == RED_SUM || r->op == RED_MEAN)) {
        double *o = out, k = (double)min_sum;
        uint64_t n = 0;
        for (uint64_t c = 0; c < ncells; c++)
            if (o[c] < k) {
                o[c] = NAN;
                n++;
            }
        if (suppressed)
            *suppressed = n;
    }
    if (rc == 0 && r->op == RED_MEAN) {
        double *o = out, nb = (double)per_block;
        for (uint64_t c = 0; c < ncells; c++)
            o[c] /= nb;
    }
    return rc;
}
