/* reduce.h - export reductions: block mean/sum/min/max (SPEC section 6).
 *
 * A reduction divides each result dimension of the selection into blocks,
 * drops partial blocks at the high edges, and reduces each block.  mean and
 * sum give float64 (sum accumulated in float64; integers converted exactly
 * where float64 can); min and max keep the element type.
 *
 * reduce_box computes one box of the reduced result, reading its source through
 * a callback in sub-selections of at most scratch_max bytes, so memory stays
 * bounded whatever the block size.  It also suppresses small blocks: with a
 * threshold K, a sum or mean whose block sums to less than K is NaN (the
 * `min` of an aggregate policy, SPEC section 6).
 */
#ifndef FS_REDUCE_H
#define FS_REDUCE_H

#include <stddef.h>
#include <stdint.h>

#include "common/dtype.h"
#include "common/error.h"
#include "common/slice.h"

/* Read selection `sub` (same rank as the dataset) row-major into buf. */
typedef int (*reduce_read_f) (void *arg, const fs_sel_t *sub, void *buf, fs_error_t *err);

/* Element type of the reduced result. */
fs_dtype_t reduce_out_dtype (fs_redop_t op, fs_dtype_t in);

/* Compute the box [off, off+cnt) of the reduced result of (sel, r) into out
 * (row-major over cnt, element type reduce_out_dtype()).  in is the source's
 * element type.  min_sum > 0 (sum and mean only: the threshold of an
 * aggregate policy): every block whose sum is below min_sum comes out as NaN,
 * and *suppressed (may be NULL) is set to how many did. */
int reduce_box (const fs_sel_t *sel, const fs_reduce_t *r, fs_dtype_t in,
                const uint64_t *off, const uint64_t *cnt, void *out,
                size_t scratch_max, reduce_read_f read, void *arg, uint64_t min_sum,
                uint64_t *suppressed, fs_error_t *err);

#endif
