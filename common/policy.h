/* policy.h - data policies (SPEC section 6): the one policy engine.
 *
 * A policy says where the bytes of a dataset may go:
 *
 *   raw                         anywhere
 *   regions=R1,R2               raw bytes to sites of those regions only
 *   aggregate=B1xB2..[,min=K]   raw bytes nowhere; the sum or mean over whole
 *                               cells of the dataset's fixed grid of B1 x B2 x ..
 *                               cells (anchored at index 0) anywhere; with min=K
 *                               a block whose sum is below K comes out as NaN
 *   none                        nowhere
 *
 * The site holding a replica (the holder) reads its own data whatever the
 * policy.  A reduction satisfies `aggregate` when it is sum or mean and, along
 * every dataset dimension d, the selection has step 1, starts at a multiple
 * of B[d] and its blocks are whole multiples of B[d] (an integer index is a
 * block of 1: allowed where B[d] is 1).  Such a read is an aggregate read:
 * the threshold applies, whoever reads (the holder too), and what it gives
 * moves and is inherited as raw.
 *
 * Every question about policies is answered here, once: whether a read may
 * be served to a reader and how (policy_read: the serving site), where data
 * may be read (policy_moves_as + policy_site_allows: placement and the
 * job-file validator), what a derived output inherits (policy_meet), and
 * whether one policy is at least as strict as another (publishing never
 * loosens).  No I/O, no state: every function is reentrant.
 */
#ifndef FS_POLICY_H
#define FS_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "slice.h"

#define FS_POLICY_MAXREGIONS 32
#define FS_POLICY_MIN_MAX (1ULL << 53)  /* largest threshold: exact in float64 */

typedef enum { POLICY_RAW = 0, POLICY_REGIONS, POLICY_AGGREGATE, POLICY_NONE } fs_policy_kind_t;

typedef struct {
    fs_policy_kind_t kind;
    int nregions;
    char regions[FS_POLICY_MAXREGIONS][64];
    int nblock;                          /* aggregate: one per dataset dimension */
    uint64_t min_block[FS_MAXDIMS];      /* aggregate: the grid's cell, >= 1 each */
    uint64_t min;                        /* aggregate: suppress sums below it; 0: none */
} fs_policy_t;

/* ---- the policy itself --------------------------------------------------- */

/* "raw", "none", "regions=R1,R2", "aggregate=B1xB2..[,min=K]" -> *out.  FS_EINVAL
 * with what is wrong and at which column. */
int policy_parse (const char *s, fs_policy_t *out, fs_error_t *err);
/* The string form above into buf (canonical: parse(format(p)) == p); returns buf. */
char *policy_format (const fs_policy_t *p, char *buf, size_t n);
/* A policy must fit the dataset it is set on (aggregate: one block per dim). */
int policy_check_rank (const fs_policy_t *p, int ndims, fs_error_t *err);

/* ---- reads --------------------------------------------------------------- */

enum policy_reader_kind {
    POLICY_READER_HOLDER,       /* the site holding the replica read */
    POLICY_READER_SITE,         /* another site (a task's staging): its region */
    POLICY_READER_OUTSIDE,      /* a reader outside every site (fedsched get) */
};

struct policy_reader {
    enum policy_reader_kind kind;
    const char *region;         /* POLICY_READER_SITE; borrowed */
};

/* How a permitted read is served. */
struct policy_grant {
    bool aggregate;             /* an aggregate read: moves as raw, threshold applies */
    uint64_t min;               /* when aggregate: suppress blocks whose sum is below it */
};

/* Does reduction r (NULL: none) over sel satisfy aggregate policy p?  0 if
 * it does; else -1 with FS_EFAIL, the reason, and the nearest aligned read
 * ("nearest aligned read: NAME[0:4, 4:8] --reduce sum:4,4"; name may be NULL,
 * shape, the dataset's, may be NULL: the suggestion is then not trimmed to
 * it).  err may be NULL.  p must be an aggregate policy. */
int policy_aggregate_check (const fs_policy_t *p, const char *name, const uint64_t *shape,
                            const fs_sel_t *sel, const fs_reduce_t *r, fs_error_t *err);

/* True for raw, and for aggregate when policy_aggregate_check() passes. */
bool policy_reduce_satisfies (const fs_policy_t *p, const fs_sel_t *sel, const fs_reduce_t *r);

/* May reader read (sel, r) of dataset name (shape) under policy p?  0 with
 * *grant filled (grant may be NULL), or -1 with FS_EFAIL and why (naming
 * what would be allowed instead).  r may be NULL; name and shape as above. */
int policy_read (const fs_policy_t *p, const struct policy_reader *reader, const char *name,
                 const uint64_t *shape, const fs_sel_t *sel, const fs_reduce_t *r,
                 struct policy_grant *grant, fs_error_t *err);

/* The policy a read's result moves (and is inherited) under: raw when p is an
 * aggregate that the read satisfies (satisfied: policy_reduce_satisfies()),
 * else p itself.  p NULL is raw.  Returns p or a static raw policy. */
const fs_policy_t *policy_moves (const fs_policy_t *p, bool satisfied);

/* May a site of region `region` read data that moves under policy m (from
 * policy_moves())?  holder: the site holds a replica (always yes). */
bool policy_site_allows (const fs_policy_t *m, bool holder, const char *region);

/* May raw bytes under policy m leave their holder at all (raw, regions)? */
bool policy_bytes_leave (const fs_policy_t *m);

/* ---- derived data and publishing ----------------------------------------- */

/* The loosest policy at least as strict as both a and b: what a task's output
 * inherits from two inputs (each as policy_moves() gives it), and the policy
 * of data under several floors.  raw ^ x = x; none ^ x = none; regions
 * intersect (nothing in common: none); aggregates of one rank take the least
 * common multiple of the cells per dimension and the larger threshold;
 * aggregates of different ranks, and regions ^ aggregate (which no policy
 * between them expresses), give none.  out may be a or b. */
void policy_meet (const fs_policy_t *a, const fs_policy_t *b, fs_policy_t *out);

/* Is a at least as strict as b: does b allow every read a allows?  (none is
 * the strictest, raw the loosest; regions by inclusion; aggregate when each
 * of a's cells is a multiple of b's and a's threshold is at least b's.)
 * Equivalent to policy_meet(a, b) == a. */
bool policy_at_least_as_strict (const fs_policy_t *a, const fs_policy_t *b);

bool policy_equal (const fs_policy_t *a, const fs_policy_t *b);

#endif
