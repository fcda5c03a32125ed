/* placement.h - the placement engine (SPEC sections 5 and 6): a model of the
 * federation (sites and the links between them) and the choice of a site for a
 * ready task.  Pure computation: no I/O, no messages, no database.
 *
 * Sites are numbered 0..n-1 in the order they were added; every lookup by
 * index is O(1) and link estimates come from a dense n x n matrix.  The
 * scheduler keeps one struct placement_fed in step with its registry and
 * catalog, and calls placement_decide() for each READY task with a
 * caller-provided array of candidate records (no allocation in that path).
 *
 * Cost of running a task at site s, in seconds (the estimated finish time):
 *
 *     wait(s)                         0 if cores_free >= ranks, else wait_s
 *   + sum over inputs not at s of     bytes / bandwidth(r -> s) + latency(r -> s)
 *                                     for the up replica r that minimises it
 *   + runtime_s
 *
 * A site is a candidate only when it is up, not drained, has at least `ranks`
 * cores, is the pinned site (if the task is pinned) and every input's policy
 * lets the input's bytes go there.  The cheapest candidate wins; costs equal
 * within 1e-9 (relative) go to the site with more free cores, then to the
 * first name in strcmp() order.
 */
#ifndef FS_PLACEMENT_H
#define FS_PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/error.h"
#include "common/policy.h"

#define PLACEMENT_NAME_MAX 64
#define PLACEMENT_REASON_MAX 768
#define PLACEMENT_ALPHA 0.3          /* default EWMA weight of a new measurement */

/* ---- the federation model ---------------------------------------------- */

struct placement_site {
    char name[PLACEMENT_NAME_MAX];      /* read-only */
    char region[PLACEMENT_NAME_MAX];    /* read-only: change with placement_fed_add_site */
    int region_id;                      /* read-only: dense region number */
    /* The caller keeps these up to date (registry heartbeats, queue): */
    bool up;
    bool drained;
    int cores;                          /* total */
    int cores_free;
    double wait_s;                      /* estimated wait for cores when cores_free < ranks */
};

struct placement_fed;
struct placement_links;

/* A federation with no sites yet; links default to bandwidth bytes/s and
 * latency seconds (federation.yaml's links.default: 1e9 and 0.01).  NULL with
 * errno on failure (EINVAL: bandwidth <= 0 or latency < 0). */
struct placement_fed *placement_fed_create (double bandwidth, double latency);
void placement_fed_destroy (struct placement_fed *f);          /* accepts NULL */

/* Add a site (up, not drained, no cores) or, if the name is known, change its
 * region.  Returns its index (stable for the life of f), or -1: FS_EINVAL for
 * an empty or too long name or region, FS_EFAIL when out of memory.  Links to
 * the new site take the default, then any configured pair that names it.
 * Invalidates pointers returned by placement_fed_site(). */
int placement_fed_add_site (struct placement_fed *f, const char *name, const char *region,
                            fs_error_t *err);
/* Index of the site called name, or -1.  O(1) on average (hashed). */
int placement_fed_find (const struct placement_fed *f, const char *name);
int placement_fed_count (const struct placement_fed *f);
/* Borrowed; valid until the next placement_fed_add_site() or _destroy(). */
struct placement_site *placement_fed_site (struct placement_fed *f, int i);
const struct placement_site *placement_fed_site_const (const struct placement_fed *f, int i);
/* Borrowed; valid until placement_fed_destroy(). */
struct placement_links *placement_fed_links (struct placement_fed *f);

/* Take links.default and links.pairs from federation.yaml: the default
 * replaces the current one for every pair that is neither configured nor
 * measured, and each pair (symmetric) applies now if both sites are known,
 * else as soon as placement_fed_add_site() adds the second one.  Pairs that
 * name the same site twice are ignored.  FS_EINVAL (nothing changed) for a
 * bandwidth <= 0 or a latency < 0; FS_EFAIL when out of memory. */
int placement_fed_configure_links (struct placement_fed *f, const struct link_cfg *def,
                                   const struct link_cfg *pairs, int npairs, fs_error_t *err);

/* ---- links -------------------------------------------------------------- */

/* Configure one pair both ways (bandwidth bytes/s > 0, latency s >= 0).  A
 * measured bandwidth, once present, still wins over the configured one. */
int placement_links_set (struct placement_links *l, int a, int b, double bandwidth,
                         double latency, fs_error_t *err);
/* A transfer of bytes from -> to took seconds: fold bytes/seconds into the
 * measured bandwidth of that ordered pair with an exponentially weighted
 * moving average (the first sample is taken as is).  Samples with bytes or
 * seconds not > 0 (or not finite) are ignored.  Latency is not measured. */
void placement_links_observe (struct placement_links *l, int from, int to, double bytes,
                              double seconds);
/* Put back a measurement kept from before (a scheduler restart): the ordered
 * pair's measured bandwidth (> 0) and its sample count.  Ignored for bad
 * indices or values. */
void placement_links_restore (struct placement_links *l, int from, int to, double bandwidth,
                              unsigned samples);
/* Weight of a new sample, 0 < alpha <= 1 (default PLACEMENT_ALPHA); -1 with
 * FS_EINVAL otherwise. */
int placement_links_set_alpha (struct placement_links *l, double alpha, fs_error_t *err);

struct placement_link_info {
    double bandwidth;           /* in use: measured if any, else configured, else default */
    double latency;
    bool configured;            /* a links.pairs entry (or placement_links_set) applies */
    double configured_bandwidth;        /* configured or default */
    double measured_bandwidth;          /* 0: none yet */
    unsigned samples;
};
/* The estimate for the ordered pair from -> to, O(1); zeros for bad indices. */
void placement_links_get (const struct placement_links *l, int from, int to,
                          struct placement_link_info *out);
/* Estimated seconds to move bytes from -> to (0 when from == to). */
double placement_links_transfer (const struct placement_links *l, int from, int to,
                                 double bytes);

/* ---- a task's requirements ----------------------------------------------- */

struct placement_input {
    const char *name;           /* for messages ("rain"); NULL: "input #k" */
    uint64_t bytes;             /* after slicing and reduction */
    const int *replicas;        /* site indices holding a replica; borrowed */
    int nreplicas;
    const fs_policy_t *policy;  /* the dataset's policy, borrowed; NULL: raw */
    bool reduce_satisfies;      /* its reduction satisfies an aggregate policy:
                                 * the input moves (and is inherited) as raw */
};

struct placement_task {
    int ranks;                  /* < 1 counts as 1 */
    double runtime_s;           /* the runtime estimate (the caller's choice) */
    bool pinned;
    int pin_site;               /* when pinned: the site index */
    int ninputs;
    const struct placement_input *inputs;       /* borrowed */
};

/* ---- the decision -------------------------------------------------------- */

enum placement_excl {
    PLACE_OK = 0,               /* a candidate: cost_s is valid */
    PLACE_EXCL_PIN,             /* not the pinned site */
    PLACE_EXCL_DOWN,
    PLACE_EXCL_DRAINED,
    PLACE_EXCL_CORES,           /* fewer cores than ranks */
    PLACE_EXCL_POLICY,          /* input `input`'s policy keeps its bytes away */
    PLACE_EXCL_REPLICAS_DOWN,   /* every replica of input `input` is at a down site */
    PLACE_EXCL_NO_REPLICA,      /* input `input` has no replica (yet) */
};

struct placement_candidate {
    int site;
    enum placement_excl excluded;
    int input;                  /* the input behind POLICY, REPLICAS_DOWN, NO_REPLICA */
    double cost_s;              /* wait_s + move_s + runtime_s, when not excluded */
    double wait_s, move_s, runtime_s;
    uint64_t bytes_local;       /* input bytes already at the site */
    uint64_t bytes_moved;       /* input bytes that would be moved there */
    double scratch_;            /* used inside placement_decide() */
};

enum placement_status {
    PLACEMENT_PLACED = 0,       /* site is the choice */
    PLACEMENT_WAIT,             /* no site now, but one may later (sites down,
                                 * drained, replicas unreachable) */
    PLACEMENT_NEVER,            /* no site will ever do (placement_never_placeable) */
};

struct placement_result {
    enum placement_status status;
    int site;                   /* -1 unless PLACED */
    double cost_s;
    char reason[PLACEMENT_REASON_MAX];  /* in words, derived from the numbers */
    int ncandidates;            /* one record per site, in site order */
    struct placement_candidate *candidates;     /* the caller's array */
};

/* Choose a site for task t.  cand is caller scratch of at least ncand >=
 * placement_fed_count(f) records; on return res->candidates points into it and
 * holds one record per site.  No allocation.  Returns 0 (whatever the status)
 * or -1 with FS_EINVAL for bad arguments (too small cand, a pin or replica
 * index out of range). */
int placement_decide (const struct placement_fed *f, const struct placement_task *t,
                      struct placement_candidate *cand, int ncand, struct placement_result *res,
                      fs_error_t *err);

/* Where a chosen site should fetch input `in` from, in the order placement
 * costed them: itself if it holds a replica, then the up replicas by estimated
 * transfer time to it (placement_links_transfer: bytes / bandwidth + latency;
 * equal estimates keep the input's order), then the down ones the same way.
 * Writes up to max (and at most 64) site indices into order; returns how many
 * (replica indices out of range and repeats are left out). */
int placement_sources (const struct placement_fed *f, const struct placement_input *in, int site,
                       int *order, int max);

/* Why a candidate was excluded, in words ("down", "8 cores < 16 ranks",
 * "input 'rain' (regions=eu) may not go to region us", ...); "" for PLACE_OK.
 * Returns buf. */
char *placement_candidate_describe (const struct placement_fed *f, const struct placement_task *t,
                                    const struct placement_candidate *c, char *buf, size_t n);
/* A short token per exclusion: "", "pin", "down", "drained", "cores", "policy",
 * "replicas-down", "no-replica". */
const char *placement_excl_name (enum placement_excl e);

/* For validate/submit: true when no site of the federation could ever run t,
 * whatever comes up, drains or frees cores: ranks above every site's cores,
 * the pinned site too small or forbidden, or no site allowed by the inputs'
 * policies (inputs without replicas yet - outputs of other tasks - constrain
 * nothing here).  why (may be NULL) gets the reason.  A federation without
 * sites is never-placeable ("the federation has no sites"). */
bool placement_never_placeable (const struct placement_fed *f, const struct placement_task *t,
                                char *why, size_t n);

/* ---- output policy inheritance ------------------------------------------ */

/* The policy of a task's outputs: the meet of its inputs' policies
 * (policy_meet(): the loosest policy at least as strict as each), where an
 * input whose reduction satisfies aggregate counts as raw (policy_moves()).
 * Several regions lists intersect (nothing in common: none); aggregates of
 * one rank take cells that are whole cells of each grid; regions with an
 * aggregate, or aggregates of different ranks, give none.  No inputs: raw. */
void policy_inherit (const struct placement_input *inputs, int n, fs_policy_t *out);

#endif
