/* scenario.h - inside the simulator: the scenario model every part shares.
 *
 * A scenario, explicit or generated, ends up as flat arrays: sites, a dense
 * link matrix (the true rates), datasets (given ones first, then one per task
 * output) with their replicas in one pool, tasks with their inputs and
 * outputs in two more, and the DAG as a parent count per task plus the
 * dependents in CSR form.  scenario.c loads explicit scenarios and owns the
 * struct; generate.c makes generated ones with the same helpers (scn_*);
 * engine.c and strategy.c run them.  Not for use outside cli/sim/.
 */
#ifndef FS_SIM_SCENARIO_H
#define FS_SIM_SCENARIO_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/error.h"
#include "common/policy.h"
#include "common/ydoc.h"
#include "scheduler/placement.h"

#define SIM_MAX_SITES 4096
#define SIM_MAX_ITEMS 50000000          /* datasets, tasks, inputs */
#define SIM_FILE_MAX (256u << 20)        /* scenario files up to 256 MiB */
#define DEF_BW 1e9                      /* federation.yaml's defaults */
#define DEF_LAT 0.01

/* ---- random numbers (splitmix64: fast, seedable, portable) ---------------- */

static inline uint64_t rng_next (uint64_t *st)
{
    uint64_t z = (*st += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline double rng_unit (uint64_t *st)      /* [0, 1) */
{
    return (double)(rng_next (st) >> 11) * (1.0 / 9007199254740992.0);
}

static inline int64_t rng_int (uint64_t *st, int64_t lo, int64_t hi)      /* [lo, hi] */
{
    if (hi <= lo)
        return lo;
    return lo + (int64_t)(rng_next (st) % (uint64_t)(hi - lo + 1));
}

static inline double rng_uniform (uint64_t *st, const double r[2])
{
    return r[0] + (r[1] - r[0]) * rng_unit (st);
}

static inline double rng_logu (uint64_t *st, const double r[2])      /* log-uniform, r[0] > 0 */
{
    if (r[1] <= r[0])
        return r[0];
    return exp (log (r[0]) + (log (r[1]) - log (r[0])) * rng_unit (st));
}

/* ---- growable arrays ------------------------------------------------------ */

static inline int grow (void **p, int64_t *cap, int64_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    int64_t c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    void *q = realloc (*p, (size_t)c * size);
    if (!q)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

#define GROW(arr, cap, need) grow ((void **)&(arr), &(cap), (need), sizeof (*(arr)))

/* ---- the scenario --------------------------------------------------------- */

struct strmap;

struct ssite {
    char name[PLACEMENT_NAME_MAX];
    char region[PLACEMENT_NAME_MAX];
    int cores;
};

struct sdata {
    char *name;                 /* NULL for generated ones */
    uint64_t bytes;
    int policy;                 /* index into the policy table (0: raw) */
    int64_t rep_off;            /* replicas in reps[rep_off ..] */
    int nrep;                   /* given replicas (0 for task outputs) */
    int producer;               /* the task it is an output of, or -1 */
    int line, col;
};

struct sinput {
    int64_t data;
    uint64_t bytes;             /* moved: dataset bytes x fraction / reduce */
    double reduce;              /* 1: none */
};

struct stask {
    char *name;                 /* NULL for generated ones ("t<index>") */
    int ranks;
    double runtime;             /* the truth; the dispatcher learns its estimates */
    int cmd;                    /* index into the commands, -1: the task's own name */
    double walltime;            /* 0: none */
    int pin;                    /* site index or -1 */
    int64_t in_off, out_off, dep_off;
    int nin, nout, ndep;
    int npar;                   /* distinct parent tasks */
    int line, col;
};

struct sim {
    char name[64];
    bool generated;
    uint64_t seed;
    int nsites, nregions;
    struct ssite *sites;
    double *bw, *lat;           /* n x n, the true rates (row: from) */
    int64_t ndata, capdata, nstatic;
    struct sdata *data;
    int64_t nreps, capreps;
    int *reps;
    int64_t ntasks, captasks;
    struct stask *tasks;
    int64_t nins, capins;
    struct sinput *ins;
    int64_t nouts, capouts;
    int64_t *outs;              /* dataset index per output */
    int64_t *deps;              /* dependents, CSR by task */
    int ncmds, capcmds;
    char **cmds;                /* command names (the dispatcher's runtime classes) */
    struct strmap *cmdidx;
    int npol, cappol;
    fs_policy_t *pol;
    struct strmap *polidx;      /* canonical policy bytes -> index into pol */
    int *last_site;             /* last run: site per task (-1) */
    double *last_end;
};

/* ---- loading: what the explicit loader and the generator share ----------- */

/* The file (for messages), where errors go, the scenario being built. */
struct lctx {
    const char *file;
    fs_error_t *err;
    struct sim *s;
};

/* Each returns -1 with FILE:LINE:COL in c->err (FS_EFAIL "out of memory"
 * from scn_oom), or 0 / an index. */
int scn_oom (struct lctx *c);
int scn_want_map (struct lctx *c, const struct ynode *n, const char *what,
                  const char *const *keys);
int scn_want_seq (struct lctx *c, const struct ynode *n, const char *what);
int scn_missing (struct lctx *c, const struct ynode *map, const char *what, const char *key);
/* A site, region, task... name (ident_valid) into buf. */
int scn_get_ident (struct lctx *c, const struct ynode *n, const char *what, const char *kind,
                   char *buf, size_t size);
/* The index of site name, or -1. */
int scn_find_site (const struct sim *s, const char *name);
int scn_get_number (struct lctx *c, const struct ynode *n, const char *what, double lo, double hi,
                    double *out);
enum vkind { V_INT, V_SIZE, V_DURATION, V_RATE, V_NUMBER };
/* A value of kind k, or a [low, high] range of them. */
int scn_get_range (struct lctx *c, const struct ynode *n, const char *what, enum vkind k,
                   double r[2]);
int scn_add_site (struct lctx *c, const char *name, const char *region, int cores);
/* The link matrix, every pair at (bw, lat); then pairs set with scn_link_put. */
int scn_links_alloc (struct lctx *c, double bw, double lat);
void scn_link_put (struct sim *s, int a, int b, double bw, double lat);
/* name: owned by the scenario from here on (also on failure); NULL for
 * generated datasets.  producer: a task index for a task output, else -1. */
int64_t scn_add_data (struct lctx *c, char *name, uint64_t bytes, int policy, int producer);
int scn_add_replica (struct lctx *c, int64_t d, int site);
int scn_add_input (struct lctx *c, int64_t data, double fraction, double reduce);
/* name: as for scn_add_data. */
int scn_add_task (struct lctx *c, char *name, int ranks, double runtime, int pin);
/* The index of command name among the scenario's commands (added when new),
 * or -1 when memory runs out. */
int scn_command (struct lctx *c, const char *name);

struct edge {
    int64_t parent, child;
};
int scn_edge_add (struct lctx *c, struct edge **e, int64_t *ne, int64_t *cap, int64_t parent,
                  int64_t child);
/* npar and the dependents (CSR) from parent->child edges (duplicates
 * allowed); a cycle is an error.  Takes e (also on failure). */
int scn_dag_build (struct lctx *c, struct edge *e, int64_t ne);

/* The index of policy p in the scenario's table (added if new; 0 is raw), or
 * -1 when memory runs out. */
int scn_policy_intern (struct sim *s, const fs_policy_t *p);

/* The explicit loader (explicit.c): sites, links, datasets, tasks of root. */
int scn_load_explicit (struct lctx *c, const struct ynode *root);

/* The generator (generate.c): a `generate:` mapping g, with the command
 * line's overrides o (may be NULL), into c->s. */
struct sim_opts;
int scn_generate (struct lctx *c, const struct ynode *g, const struct sim_opts *o);

#endif
