/* plan.c - splitting a result array into pieces of bounded size (SPEC section 7).
 *
 * With inner = shape[k+1] * .. * shape[n-1] * elsize (the bytes of one index of
 * dimension k), piece i is outer index o = i / per_k (the row-major index over
 * dimensions 0..k-1) and run r = i % per_k, covering indices
 * [r*rows, min((r+1)*rows, shape[k])) of dimension k.  Its byte offset is
 * o*shape[k]*inner + r*rows*inner.  All sizes stay below the total byte size
 * of the result, which fits in 64 bits for any array a site can hold.
 */
#include <assert.h>
#include <string.h>

#include "plan.h"

/* Bytes of one index of dimension k: product of the dimensions after k times elsize. */
static uint64_t plan_inner (const fs_plan_t *p)
{
    uint64_t inner = p->elsize;
    for (int d = p->k + 1; d < p->n; d++)
        inner *= p->shape[d];
    return inner;
}

void plan_init (fs_plan_t *p, int n, const uint64_t *shape, size_t elsize, size_t max_bytes)
{
    assert (n >= 0 && n <= FS_MAXDIMS);
    memset (p, 0, sizeof (*p));
    p->n = n;
    p->elsize = elsize ? elsize : 1;
    if (n > 0)
        memcpy (p->shape, shape, (size_t)n * sizeof (shape[0]));
    p->k = 0;
    p->rows = 1;
    p->per_k = 1;
    if (n == 0) {
        p->npieces = 1;
        return;
    }
    for (int d = 0; d < n; d++) {
        if (shape[d] == 0) {
            p->per_k = 0;
            p->npieces = 0;
            return;
        }
    }
    /* Walk outwards from the innermost dimension while the rows still fit:
     * k ends as the smallest dimension whose inner rows fit in max_bytes
     * (n-1 when not even one element fits: a piece is at least one element). */
    uint64_t inner = p->elsize;
    int k = n - 1;
    while (k > 0 && inner <= max_bytes / shape[k]) {
        inner *= shape[k];
        k--;
    }
    p->k = k;
    uint64_t rows = max_bytes / inner;
    if (rows < 1)
        rows = 1;
    if (rows > shape[k])
        rows = shape[k];
    p->rows = rows;
    p->per_k = (shape[k] - 1) / rows + 1;
    uint64_t outer = 1;
    for (int d = 0; d < k; d++)
        outer *= shape[d];
    p->npieces = outer * p->per_k;
}

void plan_piece (const fs_plan_t *p, uint64_t i, uint64_t *off, uint64_t *cnt)
{
    if (p->n == 0)
        return;
    uint64_t o = i / p->per_k;
    uint64_t r = i % p->per_k;
    for (int d = p->k - 1; d >= 0; d--) {
        off[d] = o % p->shape[d];
        cnt[d] = 1;
        o /= p->shape[d];
    }
    off[p->k] = r * p->rows;
    uint64_t left = p->shape[p->k] - off[p->k];
    cnt[p->k] = left < p->rows ? left : p->rows;
    for (int d = p->k + 1; d < p->n; d++) {
        off[d] = 0;
        cnt[d] = p->shape[d];
    }
}

uint64_t plan_piece_bytes (const fs_plan_t *p, uint64_t i)
{
    if (p->n == 0)
        return p->elsize;
    uint64_t r = i % p->per_k;
    uint64_t left = p->shape[p->k] - r * p->rows;
    return (left < p->rows ? left : p->rows) * plan_inner (p);
}

uint64_t plan_piece_offset (const fs_plan_t *p, uint64_t i)
{
    if (p->n == 0)
        return 0;
    uint64_t o = i / p->per_k;
    uint64_t r = i % p->per_k;
    uint64_t inner = plan_inner (p);
    return o * p->shape[p->k] * inner + r * p->rows * inner;
}

int plan_index_at (const fs_plan_t *p, uint64_t off, uint64_t *index)
{
    if (p->npieces == 0) {                  /* empty: offset 0 is the end */
        *index = 0;
        return off == 0 ? 0 : -1;
    }
    if (p->n == 0) {                        /* a scalar: one piece of one element */
        *index = off == 0 ? 0 : 1;
        return off == 0 || off == p->elsize ? 0 : -1;
    }
    uint64_t inner = plan_inner (p);
    uint64_t span = p->shape[p->k] * inner;         /* bytes of one outer index */
    uint64_t o = off / span, pos = off % span;
    if (pos % inner || (pos / inner) % p->rows)
        return -1;
    *index = o * p->per_k + pos / inner / p->rows;
    return *index <= p->npieces ? 0 : -1;
}

uint64_t plan_fit (int n, const uint64_t *shape, size_t elsize, uint64_t lo, uint64_t hi,
                   uint64_t limit, uint64_t floor)
{
    if (elsize == 0)
        elsize = 1;
    for (int d = 0; d < n; d++)
        if (shape[d] == 0)
            return floor;
    if (n <= 0)
        return floor;
    uint64_t best = 0;
    /* inner: bytes of one index of dimension k, from the innermost outwards. */
    uint64_t inner = elsize;
    for (int k = n - 1; k >= 0; k--) {
        if (k < n - 1)
            inner *= shape[k + 1];
        if (lo % inner || hi % inner)
            continue;
        uint64_t span = shape[k];
        uint64_t plo = (lo / inner) % span, phi = (hi / inner) % span;
        uint64_t rows = limit / inner;
        if (rows == 0)
            continue;
        /* Runs of a power of two rows, ending where both offsets are boundaries. */
        uint64_t r = 1;
        while (r <= rows / 2)
            r *= 2;
        while (r > 1 && ((plo % r) || (phi % r)))
            r /= 2;
        if (k > 0 && r >= span)
            continue;           /* whole rows of dimension k: that is dimension k-1's plan */
        uint64_t bytes = r * inner;
        if (k == 0 && r >= span)
            bytes = span * inner;
        if (bytes < floor) {
            /* max_bytes = floor gives the same plan when it still makes r rows
             * (r * inner <= floor < (r + 1) * inner), or one piece of it all. */
            if ((k == 0 && r >= span) || floor / inner == r)
                bytes = floor;
            else
                continue;
        }
        if (bytes > best)
            best = bytes;
    }
    return best;
}
