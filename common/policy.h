/* policy.h - data policies (SPEC section 6). */
#ifndef FS_POLICY_H
#define FS_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "slice.h"

#define FS_POLICY_MAXREGIONS 32

typedef enum { POLICY_RAW = 0, POLICY_REGIONS, POLICY_AGGREGATE, POLICY_NONE } fs_policy_kind_t;

typedef struct {
    fs_policy_kind_t kind;
    int nregions;
    char regions[FS_POLICY_MAXREGIONS][64];
    int nblock;                          /* aggregate: one per dataset dimension */
    uint64_t min_block[FS_MAXDIMS];
} fs_policy_t;

/* "raw", "none", "regions=R1,R2", "aggregate=B1xB2.." -> *out. FS_EINVAL. */
int policy_parse (const char *s, fs_policy_t *out, fs_error_t *err);
/* The string form above into buf; returns buf. */
char *policy_format (const fs_policy_t *p, char *buf, size_t n);
/* A policy must fit the dataset it is set on (aggregate: one block per dim). */
int policy_check_rank (const fs_policy_t *p, int ndims, fs_error_t *err);

/* Does reduction r over sel satisfy aggregate policy p?  Each block must cover
 * at least min_block[d] elements along every dataset dimension d (a dimension
 * indexed by an integer covers 1). */
bool policy_reduce_satisfies (const fs_policy_t *p, const fs_sel_t *sel, const fs_reduce_t *r);

/* May this read leave the site towards a reader outside every site (fedsched
 * get)?  raw: yes; aggregate: only with a reduction that satisfies it;
 * regions, none: no.  FS_EFAIL with the reason otherwise. r may be NULL. */
int policy_allows_get (const fs_policy_t *p, const fs_sel_t *sel, const fs_reduce_t *r,
                       fs_error_t *err);

/* May this read leave the holding site towards a task at another site
 * (same_site: the reader is the holding site itself, which may read
 * anything)?  raw: yes; regions: only readers in a listed region; none: only
 * the holding site; aggregate: a satisfying reduction, or the holding site.
 * FS_EFAIL with the reason otherwise.  r may be NULL. */
int policy_allows_site (const fs_policy_t *p, bool same_site, const char *reader_region,
                        const fs_sel_t *sel, const fs_reduce_t *r, fs_error_t *err);

/* Order of restriction, for inheritance: raw < regions < aggregate < none. */
int policy_rank (const fs_policy_t *p);

#endif
