/* plan.h - splitting a result array into pieces of bounded size (SPEC section 7).
 *
 * The result (rank n, row-major) is split along one dimension k: every piece
 * fixes one index in each dimension before k, takes a range of at most `rows`
 * indices in dimension k, and covers the dimensions after k whole.  Each piece
 * is a box of the result and a contiguous run of its row-major bytes.  Both
 * ends compute the same plan from (shape, element size, max bytes), so a piece
 * is named by its index alone.  k is the outermost dimension whose inner rows
 * fit in max_bytes; if even one element of the innermost dimension ... a
 * single element always fits (pieces are at least one element).
 */
#ifndef FS_PLAN_H
#define FS_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "slice.h"

typedef struct {
    int n;                          /* result rank, 0 for a scalar */
    uint64_t shape[FS_MAXDIMS];
    size_t elsize;
    int k;                          /* split dimension (0 when n == 0) */
    uint64_t rows;                  /* indices of dim k per piece (>= 1) */
    uint64_t per_k;                 /* pieces per outer index: ceil(shape[k]/rows) */
    uint64_t npieces;               /* 0 for an empty result, 1 for a scalar */
} fs_plan_t;

void plan_init (fs_plan_t *p, int n, const uint64_t *shape, size_t elsize, size_t max_bytes);
/* Box of piece i (< npieces): off/cnt get n entries. */
void plan_piece (const fs_plan_t *p, uint64_t i, uint64_t *off, uint64_t *cnt);
/* Bytes of piece i. */
uint64_t plan_piece_bytes (const fs_plan_t *p, uint64_t i);
/* Byte offset of piece i in the row-major result. */
uint64_t plan_piece_offset (const fs_plan_t *p, uint64_t i);
/* The index of the piece that starts at byte offset off (off == the total size
 * gives npieces): 0, or -1 when no piece of p starts there. */
int plan_index_at (const fs_plan_t *p, uint64_t off, uint64_t *index);

/* Another plan for part of a transfer (piece sizes that follow the link):
 * the max_bytes to give plan_init() so that byte offsets lo and hi of the
 * result (hi may be the total size) are piece boundaries, every piece is at
 * most `limit` bytes, max_bytes is at least `floor`, and pieces are as large
 * as that allows.  Its pieces split one dimension k in runs of a power of two
 * indices (or cover the result whole), so a finer plan chosen this way for
 * the same lo and hi tiles each coarser piece exactly.  0 when no plan
 * qualifies.  For a scalar or empty result: floor. */
uint64_t plan_fit (int n, const uint64_t *shape, size_t elsize, uint64_t lo, uint64_t hi,
                   uint64_t limit, uint64_t floor);

#endif
