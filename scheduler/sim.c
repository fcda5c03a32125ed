/* sim.c - the federation simulator (see sim.h and docs/sim.md).
 *
 * Loading.  A scenario is either explicit (sites, links, datasets, tasks) or
 * generated (`generate:`, a seeded random federation and a layered DAG).
 * Either way it ends up as flat arrays: sites, a dense link matrix (the true
 * rates), datasets (given ones first, then one per task output) with their
 * replicas in one pool, tasks with their inputs and outputs in two more, and
 * the DAG as a parent count per task plus the dependents in CSR form.
 *
 * Running.  One struct run per sim_run(): the clock, a binary heap of events
 * (task end, transfer joins its link after the latency, next completion on a
 * link), per-site FIFO queues, per-link fair sharing and a site cache of
 * received inputs.  The operation of the whole thing:
 *
 *   ready -> strategy picks a site -> FIFO queue at the site until its cores
 *   are free (they stay held from here on) -> staging: every input without a
 *   replica or cached copy at the site is fetched from its best replica
 *   (several tasks wanting the same input wait for the one transfer) ->
 *   running for the task's runtime -> end: cores freed, outputs become
 *   replicas at the site, dependents whose parents are all done are ready.
 *
 * Ready tasks are placed after all events of one instant are handled, in
 * the order they became ready, each decision seeing the previous ones.
 *
 * Fair sharing.  The n transfers on an ordered pair each get bandwidth / n.
 * A link keeps a virtual clock V, the bytes any one of its transfers has
 * received since the link was last idle: dV/dt = bandwidth / n.  A transfer
 * that joins at V0 ends when V reaches V0 + bytes, so the link holds its
 * transfers in a min-heap of end marks and has one pending event (its
 * earliest end), rescheduled (with a version stamp; stale events are
 * dropped) whenever a transfer joins or leaves.  O(log n) per change.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/names.h"
#include "common/policy.h"
#include "common/slice.h"
#include "common/strmap.h"
#include "common/ydoc.h"
#include "placement.h"
#include "sim.h"

#define SIM_MAX_SITES 4096
#define SIM_MAX_ITEMS 50000000          /* datasets, tasks, inputs */
#define SIM_FILE_MAX (256u << 20)        /* scenario files up to 256 MiB */
#define OBSERVE_MIN_BYTES (1u << 20)    /* like workers: measure 1 MiB and more */
#define DEF_BW 1e9                      /* federation.yaml's defaults */
#define DEF_LAT 0.01

/* ---- random numbers (splitmix64: fast, seedable, portable) ---------------- */

static uint64_t rng_next (uint64_t *st)
{
    uint64_t z = (*st += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double rng_unit (uint64_t *st)      /* [0, 1) */
{
    return (double)(rng_next (st) >> 11) * (1.0 / 9007199254740992.0);
}

static int64_t rng_int (uint64_t *st, int64_t lo, int64_t hi)      /* [lo, hi] */
{
    if (hi <= lo)
        return lo;
    return lo + (int64_t)(rng_next (st) % (uint64_t)(hi - lo + 1));
}

static double rng_uniform (uint64_t *st, const double r[2])
{
    return r[0] + (r[1] - r[0]) * rng_unit (st);
}

static double rng_logu (uint64_t *st, const double r[2])      /* log-uniform, r[0] > 0 */
{
    if (r[1] <= r[0])
        return r[0];
    return exp (log (r[0]) + (log (r[1]) - log (r[0])) * rng_unit (st));
}

/* ---- growable arrays ------------------------------------------------------ */

static int grow (void **p, int64_t *cap, int64_t need, size_t size)
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
    double runtime;
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
    int npol, cappol;
    fs_policy_t *pol;
    struct strmap *polidx;      /* canonical policy bytes -> index into pol */
    int *last_site;             /* last run: site per task (-1) */
    double *last_end;
};

/* ---- policies, interned -------------------------------------------------- */

/* A canonical copy: unused parts zeroed so equal policies compare equal. */
static void policy_canon (const fs_policy_t *in, fs_policy_t *out)
{
    memset (out, 0, sizeof (*out));
    out->kind = in->kind;
    if (in->kind == POLICY_REGIONS) {
        out->nregions = in->nregions;
        for (int i = 0; i < in->nregions && i < FS_POLICY_MAXREGIONS; i++)
            snprintf (out->regions[i], sizeof (out->regions[i]), "%s", in->regions[i]);
    } else if (in->kind == POLICY_AGGREGATE) {
        out->nblock = in->nblock;
        for (int d = 0; d < in->nblock && d < FS_MAXDIMS; d++)
            out->min_block[d] = in->min_block[d];
    }
}

/* The index of policy p in the table (added if new), or -1 out of memory. */
static int policy_intern (struct sim *s, const fs_policy_t *p)
{
    fs_policy_t c;
    policy_canon (p, &c);
    if (c.kind == POLICY_RAW)
        return 0;
    int64_t k = strmap_getn (s->polidx, &c, sizeof (c));
    if (k >= 0)
        return (int)k;
    if (s->npol == s->cappol) {
        int cap = 2 * s->cappol;
        fs_policy_t *np = realloc (s->pol, (size_t)cap * sizeof (*np));
        if (!np)
            return -1;
        s->pol = np;
        s->cappol = cap;
    }
    if (strmap_putn (s->polidx, &c, sizeof (c), s->npol) < 0)
        return -1;
    s->pol[s->npol] = c;
    return s->npol++;
}

/* Does a reduction by `reduce` (bytes moved / bytes read) satisfy aggregate
 * policy p?  The simulator has no shapes: a reduce factor stands for a block
 * reduction whose blocks hold `reduce` elements, which satisfies
 * aggregate=B1xB2.. when reduce >= B1 x B2 x ... */
static bool reduce_satisfies (const fs_policy_t *p, double reduce)
{
    if (p->kind != POLICY_AGGREGATE || reduce <= 1)
        return false;
    double need = 1;
    for (int d = 0; d < p->nblock; d++)
        need *= (double)p->min_block[d];
    return reduce >= need;
}

/* ---- loading helpers -------------------------------------------------------- */

struct lctx {
    const char *file;
    fs_error_t *err;
    struct sim *s;
};

static int oom (struct lctx *c)
{
    return errprintf (c->err, FS_EFAIL, "%s: out of memory", c->file);
}

static int want_map (struct lctx *c, const struct ynode *n, const char *what,
                     const char *const *keys)
{
    if (!n || n->type != YNODE_MAP)
        return ynode_error (c->file, n, c->err, "%s: expected a mapping", what);
    return ynode_check_keys (c->file, n, what, keys, c->err);
}

static int want_seq (struct lctx *c, const struct ynode *n, const char *what)
{
    if (!n || n->type != YNODE_SEQ)
        return ynode_error (c->file, n, c->err, "%s: expected a list", what);
    return 0;
}

static int missing (struct lctx *c, const struct ynode *map, const char *what, const char *key)
{
    return ynode_error (c->file, map, c->err, "%s: '%s' is missing", what, key);
}

static int get_number (struct lctx *c, const struct ynode *n, const char *what, double lo,
                       double hi, double *out)
{
    if (!n || n->type != YNODE_SCALAR || n->quoted)
        return ynode_error (c->file, n, c->err, "%s: expected a number", what);
    char *end;
    errno = 0;
    double v = strtod (n->value, &end);
    if (end == n->value || *end || errno || !isfinite (v))
        return ynode_error (c->file, n, c->err, "%s: expected a number, found '%s'", what,
                           n->value);
    if (v < lo || v > hi)
        return ynode_error (c->file, n, c->err, "%s: %g is out of range (%g..%g)", what, v, lo, hi);
    *out = v;
    return 0;
}

enum vkind { V_INT, V_SIZE, V_DURATION, V_RATE, V_NUMBER };

static int get_value (struct lctx *c, const struct ynode *n, const char *what, enum vkind k,
                      double *out)
{
    int64_t i;
    uint64_t u;
    switch (k) {
    case V_INT:
        if (ynode_int (c->file, n, what, 0, INT32_MAX, &i, c->err) < 0)
            return -1;
        *out = (double)i;
        return 0;
    case V_SIZE:
        if (ynode_size (c->file, n, what, &u, c->err) < 0)
            return -1;
        *out = (double)u;
        return 0;
    case V_DURATION:
        return ynode_duration (c->file, n, what, out, c->err);
    case V_RATE:
        return ynode_rate (c->file, n, what, out, c->err);
    case V_NUMBER:
        return get_number (c, n, what, 0, 1e18, out);
    }
    return -1;
}

/* A value or a [low, high] range. */
static int get_range (struct lctx *c, const struct ynode *n, const char *what, enum vkind k,
                      double r[2])
{
    if (n->type == YNODE_SEQ) {
        if (n->n != 2)
            return ynode_error (c->file, n, c->err, "%s: expected a value or [low, high]", what);
        if (get_value (c, n->items[0], what, k, &r[0]) < 0
            || get_value (c, n->items[1], what, k, &r[1]) < 0)
            return -1;
        if (r[1] < r[0])
            return ynode_error (c->file, n, c->err, "%s: high is below low", what);
        return 0;
    }
    if (get_value (c, n, what, k, &r[0]) < 0)
        return -1;
    r[1] = r[0];
    return 0;
}

static int get_ident (struct lctx *c, const struct ynode *n, const char *what, const char *kind,
                      char *buf, size_t size)
{
    fs_error_t e;
    if (ynode_string (c->file, n, what, buf, size, c->err) < 0)
        return -1;
    if (ident_valid (kind, buf, &e) < 0)
        return ynode_error (c->file, n, c->err, "%s: %s", what, e.text);
    return 0;
}

static int find_site (const struct sim *s, const char *name)
{
    for (int i = 0; i < s->nsites; i++)
        if (!strcmp (s->sites[i].name, name))
            return i;
    return -1;
}

static int get_site_ref (struct lctx *c, const struct ynode *n, const char *what, int *out)
{
    char name[PLACEMENT_NAME_MAX];
    if (ynode_string (c->file, n, what, name, sizeof (name), c->err) < 0)
        return -1;
    if ((*out = find_site (c->s, name)) < 0)
        return ynode_error (c->file, n, c->err, "%s: unknown site '%s'", what, name);
    return 0;
}

static int add_site (struct lctx *c, const char *name, const char *region, int cores)
{
    struct sim *s = c->s;
    struct ssite *ns = realloc (s->sites, (size_t)(s->nsites + 1) * sizeof (*ns));
    if (!ns)
        return oom (c);
    s->sites = ns;
    struct ssite *st = &s->sites[s->nsites++];
    snprintf (st->name, sizeof (st->name), "%s", name);
    snprintf (st->region, sizeof (st->region), "%s", region[0] ? region : name);
    st->cores = cores;
    return 0;
}

static int links_alloc (struct lctx *c, double bw, double lat)
{
    struct sim *s = c->s;
    size_t n = (size_t)s->nsites;
    s->bw = malloc (n * n * sizeof (double));
    s->lat = malloc (n * n * sizeof (double));
    if (!s->bw || !s->lat)
        return oom (c);
    for (size_t a = 0; a < n; a++)
        for (size_t b = 0; b < n; b++) {
            s->bw[a * n + b] = a == b ? INFINITY : bw;
            s->lat[a * n + b] = a == b ? 0 : lat;
        }
    return 0;
}

static void link_put (struct sim *s, int a, int b, double bw, double lat)
{
    size_t n = (size_t)s->nsites;
    s->bw[(size_t)a * n + b] = s->bw[(size_t)b * n + a] = bw;
    s->lat[(size_t)a * n + b] = s->lat[(size_t)b * n + a] = lat;
}

static int64_t add_data (struct lctx *c, char *name, uint64_t bytes, int policy, int producer)
{
    struct sim *s = c->s;
    if (s->ndata >= SIM_MAX_ITEMS || GROW (s->data, s->capdata, s->ndata + 1) < 0) {
        free (name);
        oom (c);
        return -1;
    }
    struct sdata *d = &s->data[s->ndata];
    *d = (struct sdata){ .name = name, .bytes = bytes, .policy = policy, .rep_off = s->nreps,
                         .producer = producer };
    /* a task output gets one slot for the replica it will have */
    if (producer >= 0) {
        if (GROW (s->reps, s->capreps, s->nreps + 1) < 0) {
            oom (c);
            return -1;
        }
        s->reps[s->nreps++] = -1;
    }
    return s->ndata++;
}

static int add_replica (struct lctx *c, int64_t d, int site)
{
    struct sim *s = c->s;
    if (GROW (s->reps, s->capreps, s->nreps + 1) < 0)
        return oom (c);
    s->reps[s->nreps++] = site;
    s->data[d].nrep++;
    return 0;
}

static int add_input (struct lctx *c, int64_t data, double fraction, double reduce)
{
    struct sim *s = c->s;
    if (s->nins >= SIM_MAX_ITEMS || GROW (s->ins, s->capins, s->nins + 1) < 0)
        return oom (c);
    double b = (double)s->data[data].bytes * fraction / reduce;
    s->ins[s->nins++] = (struct sinput){ data, (uint64_t)llround (b), reduce };
    return 0;
}

static int add_task (struct lctx *c, char *name, int ranks, double runtime, int pin)
{
    struct sim *s = c->s;
    if (s->ntasks >= SIM_MAX_ITEMS || GROW (s->tasks, s->captasks, s->ntasks + 1) < 0) {
        free (name);
        return oom (c);
    }
    s->tasks[s->ntasks++] = (struct stask){ .name = name, .ranks = ranks, .runtime = runtime,
                                            .pin = pin, .in_off = s->nins, .out_off = s->nouts };
    return 0;
}

/* ---- the DAG ------------------------------------------------------------------ */

struct edge {
    int64_t parent, child;
};

static int edge_cmp (const void *a, const void *b)
{
    const struct edge *x = a, *y = b;
    if (x->parent != y->parent)
        return x->parent < y->parent ? -1 : 1;
    return (x->child > y->child) - (x->child < y->child);
}

/* Build npar and the dependents (CSR) from parent->child edges (duplicates
 * allowed); check there is no cycle.  Takes ownership of e. */
static int dag_build (struct lctx *c, struct edge *e, int64_t ne)
{
    struct sim *s = c->s;
    if (ne > 1)
        qsort (e, (size_t)ne, sizeof (*e), edge_cmp);
    int64_t k = 0;
    for (int64_t i = 0; i < ne; i++)
        if (i == 0 || e[i].parent != e[k - 1].parent || e[i].child != e[k - 1].child)
            e[k++] = e[i];
    ne = k;
    free (s->deps);
    s->deps = malloc ((size_t)(ne ? ne : 1) * sizeof (*s->deps));
    if (!s->deps) {
        free (e);
        return oom (c);
    }
    for (int64_t t = 0; t < s->ntasks; t++) {
        s->tasks[t].npar = 0;
        s->tasks[t].ndep = 0;
        s->tasks[t].dep_off = 0;
    }
    for (int64_t i = 0; i < ne; i++) {
        s->deps[i] = e[i].child;
        s->tasks[e[i].child].npar++;
        if (s->tasks[e[i].parent].ndep++ == 0)
            s->tasks[e[i].parent].dep_off = i;
    }
    free (e);
    /* Kahn: every task must come out */
    int *left = malloc ((size_t)(s->ntasks ? s->ntasks : 1) * sizeof (*left));
    int64_t *queue = malloc ((size_t)(s->ntasks ? s->ntasks : 1) * sizeof (*queue));
    if (!left || !queue) {
        free (left);
        free (queue);
        return oom (c);
    }
    int64_t qh = 0, qt = 0;
    for (int64_t t = 0; t < s->ntasks; t++)
        if ((left[t] = s->tasks[t].npar) == 0)
            queue[qt++] = t;
    while (qh < qt) {
        const struct stask *t = &s->tasks[queue[qh++]];
        for (int i = 0; i < t->ndep; i++)
            if (--left[s->deps[t->dep_off + i]] == 0)
                queue[qt++] = s->deps[t->dep_off + i];
    }
    int rc = 0;
    if (qt < s->ntasks) {
        for (int64_t t = 0; t < s->ntasks; t++)
            if (left[t] > 0) {
                const struct stask *x = &s->tasks[t];
                struct ynode where = { .line = x->line, .col = x->col };
                rc = ynode_error (c->file, &where, c->err, "task '%s' is part of a dependency "
                                  "cycle (through its inputs or 'after')",
                                  x->name ? x->name : "?");
                break;
            }
    }
    free (left);
    free (queue);
    return rc;
}

/* ---- explicit scenarios -------------------------------------------------------- */

static const char *const top_keys[] = { "version", "name", "seed", "sites", "links", "datasets",
                                        "tasks", "generate", NULL };
static const char *const site_keys[] = { "name", "region", "cores", NULL };
static const char *const links_keys[] = { "default", "pairs", NULL };
static const char *const link_default_keys[] = { "bandwidth", "latency", NULL };
static const char *const link_pair_keys[] = { "between", "bandwidth", "latency", NULL };
static const char *const data_keys[] = { "name", "site", "sites", "bytes", "policy", NULL };
static const char *const task_keys[] = { "name", "ranks", "runtime", "inputs", "outputs", "after",
                                         "site", NULL };
static const char *const input_keys[] = { "data", "fraction", "reduce", NULL };

static int parse_sites (struct lctx *c, const struct ynode *n)
{
    if (want_seq (c, n, "sites") < 0)
        return -1;
    if (n->n == 0)
        return ynode_error (c->file, n, c->err, "sites: the federation needs at least one site");
    if (n->n > SIM_MAX_SITES)
        return ynode_error (c->file, n, c->err, "sites: at most %d sites", SIM_MAX_SITES);
    for (size_t i = 0; i < n->n; i++) {
        const struct ynode *m = n->items[i], *v;
        char w[48], name[PLACEMENT_NAME_MAX], region[PLACEMENT_NAME_MAX] = "";
        int64_t cores;
        snprintf (w, sizeof (w), "sites[%zu]", i);
        if (want_map (c, m, w, site_keys) < 0)
            return -1;
        if (!(v = ynode_get (m, "name")))
            return missing (c, m, w, "name");
        if (get_ident (c, v, w, "site", name, sizeof (name)) < 0)
            return -1;
        if (find_site (c->s, name) >= 0)
            return ynode_error (c->file, v, c->err, "%s: site '%s' is listed twice", w, name);
        if ((v = ynode_get (m, "region")) && get_ident (c, v, w, "region", region,
                                                       sizeof (region)) < 0)
            return -1;
        if (!(v = ynode_get (m, "cores")))
            return missing (c, m, w, "cores");
        if (ynode_int (c->file, v, w, 1, 1 << 24, &cores, c->err) < 0)
            return -1;
        if (add_site (c, name, region, (int)cores) < 0)
            return -1;
    }
    return 0;
}

static int parse_link_values (struct lctx *c, const struct ynode *m, const char *what,
                              double *bw, double *lat)
{
    const struct ynode *v;
    char w[96];
    if ((v = ynode_get (m, "bandwidth"))) {
        snprintf (w, sizeof (w), "%s.bandwidth", what);
        if (ynode_rate (c->file, v, w, bw, c->err) < 0)
            return -1;
        if (!(*bw > 0))
            return ynode_error (c->file, v, c->err, "%s: must be > 0", w);
    }
    snprintf (w, sizeof (w), "%s.latency", what);
    if ((v = ynode_get (m, "latency")) && ynode_duration (c->file, v, w, lat, c->err) < 0)
        return -1;
    return 0;
}

static int parse_links (struct lctx *c, const struct ynode *n)
{
    double bw = DEF_BW, lat = DEF_LAT;
    const struct ynode *d, *pairs;
    if (n && want_map (c, n, "links", links_keys) < 0)
        return -1;
    if (n && (d = ynode_get (n, "default"))) {
        if (want_map (c, d, "links.default", link_default_keys) < 0
            || parse_link_values (c, d, "links.default", &bw, &lat) < 0)
            return -1;
    }
    if (links_alloc (c, bw, lat) < 0)
        return -1;
    if (!n || !(pairs = ynode_get (n, "pairs")))
        return 0;
    if (want_seq (c, pairs, "links.pairs") < 0)
        return -1;
    size_t ns = (size_t)c->s->nsites;
    char *seen = calloc (ns * ns, 1);
    if (!seen)
        return oom (c);
    int rc = 0;
    for (size_t i = 0; i < pairs->n && rc == 0; i++) {
        const struct ynode *p = pairs->items[i], *between;
        char w[48];
        int a, b;
        double pbw = bw, plat = lat;
        snprintf (w, sizeof (w), "links.pairs[%zu]", i);
        if (want_map (c, p, w, link_pair_keys) < 0) {
            rc = -1;
            break;
        }
        if (!(between = ynode_get (p, "between")))
            rc = missing (c, p, w, "between");
        else if (between->type != YNODE_SEQ || between->n != 2)
            rc = ynode_error (c->file, between, c->err, "%s.between: expected a list of two site "
                              "names, e.g. [site1, site2]", w);
        else if (get_site_ref (c, between->items[0], w, &a) < 0
                 || get_site_ref (c, between->items[1], w, &b) < 0)
            rc = -1;
        else if (a == b)
            rc = ynode_error (c->file, between, c->err, "%s: a link joins two different sites", w);
        else if (seen[(size_t)a * ns + b])
            rc = ynode_error (c->file, between, c->err, "%s: the link %s-%s is given twice (a pair "
                              "is symmetric)", w, c->s->sites[a].name, c->s->sites[b].name);
        else if (parse_link_values (c, p, w, &pbw, &plat) == 0) {
            seen[(size_t)a * ns + b] = seen[(size_t)b * ns + a] = 1;
            link_put (c->s, a, b, pbw, plat);
        } else
            rc = -1;
    }
    free (seen);
    return rc;
}

static int parse_datasets (struct lctx *c, const struct ynode *n, struct strmap *names)
{
    if (want_seq (c, n, "datasets") < 0)
        return -1;
    for (size_t i = 0; i < n->n; i++) {
        const struct ynode *m = n->items[i], *v, *one, *many;
        char w[48], name[FS_NAME_MAX + 1], pol[512] = "raw";
        uint64_t bytes;
        fs_policy_t p;
        fs_error_t e;
        snprintf (w, sizeof (w), "datasets[%zu]", i);
        if (want_map (c, m, w, data_keys) < 0)
            return -1;
        if (!(v = ynode_get (m, "name")))
            return missing (c, m, w, "name");
        if (ynode_string (c->file, v, w, name, sizeof (name), c->err) < 0)
            return -1;
        if (name_valid (name, &e) < 0)
            return ynode_error (c->file, v, c->err, "%s: %s", w, e.text);
        if (strmap_get (names, name) >= 0)
            return ynode_error (c->file, v, c->err, "%s: dataset '%s' is listed twice", w, name);
        if (!(v = ynode_get (m, "bytes")))
            return missing (c, m, w, "bytes");
        if (ynode_size (c->file, v, w, &bytes, c->err) < 0)
            return -1;
        if ((v = ynode_get (m, "policy"))) {
            if (ynode_string (c->file, v, w, pol, sizeof (pol), c->err) < 0)
                return -1;
        }
        if (policy_parse (pol, &p, &e) < 0)
            return ynode_error (c->file, v, c->err, "%s: %s", w, e.text);
        int pi = policy_intern (c->s, &p);
        if (pi < 0)
            return oom (c);
        one = ynode_get (m, "site");
        many = ynode_get (m, "sites");
        if (!one && !many)
            return missing (c, m, w, "site");
        if (one && many)
            return ynode_error (c->file, many, c->err, "%s: give 'site' or 'sites', not both", w);
        char *dup = strdup (name);
        int64_t d = dup ? add_data (c, dup, bytes, pi, -1) : (oom (c), -1);
        if (d < 0)
            return -1;
        c->s->data[d].line = m->line;
        c->s->data[d].col = m->col;
        if (strmap_put (names, c->s->data[d].name, d) < 0)
            return oom (c);
        if (one) {
            int s;
            if (get_site_ref (c, one, w, &s) < 0 || add_replica (c, d, s) < 0)
                return -1;
        } else {
            if (want_seq (c, many, w) < 0)
                return -1;
            if (many->n == 0)
                return ynode_error (c->file, many, c->err, "%s: 'sites' needs at least one site", w);
            for (size_t k = 0; k < many->n; k++) {
                int s;
                if (get_site_ref (c, many->items[k], w, &s) < 0)
                    return -1;
                for (int r = 0; r < c->s->data[d].nrep; r++)
                    if (c->s->reps[c->s->data[d].rep_off + r] == s)
                        return ynode_error (c->file, many->items[k], c->err,
                                            "%s: site '%s' is listed twice", w,
                                            c->s->sites[s].name);
                if (add_replica (c, d, s) < 0)
                    return -1;
            }
        }
    }
    return 0;
}

/* First pass over the tasks: names, sizes, pins, outputs (so inputs may
 * name the outputs of tasks further down the file). */
static int parse_tasks_1 (struct lctx *c, const struct ynode *n, struct strmap *dnames,
                          struct strmap *tnames)
{
    if (want_seq (c, n, "tasks") < 0)
        return -1;
    int maxcores = 0;
    for (int i = 0; i < c->s->nsites; i++)
        if (c->s->sites[i].cores > maxcores)
            maxcores = c->s->sites[i].cores;
    for (size_t i = 0; i < n->n; i++) {
        const struct ynode *m = n->items[i], *v;
        char w[96], name[PLACEMENT_NAME_MAX];
        int64_t ranks = 1;
        double runtime;
        int pin = -1;
        snprintf (w, sizeof (w), "tasks[%zu]", i);
        if (want_map (c, m, w, task_keys) < 0)
            return -1;
        if (!(v = ynode_get (m, "name")))
            return missing (c, m, w, "name");
        if (get_ident (c, v, w, "task", name, sizeof (name)) < 0)
            return -1;
        if (strmap_get (tnames, name) >= 0)
            return ynode_error (c->file, v, c->err, "%s: task '%s' is listed twice", w, name);
        snprintf (w, sizeof (w), "task %s", name);
        if ((v = ynode_get (m, "ranks")) && ynode_int (c->file, v, w, 1, 1 << 24, &ranks,
                                                      c->err) < 0)
            return -1;
        if (ranks > maxcores)
            return ynode_error (c->file, v, c->err, "%s: %lld ranks, but the largest site has %d "
                                "cores", w, (long long)ranks, maxcores);
        if (!(v = ynode_get (m, "runtime")))
            return missing (c, m, w, "runtime");
        if (ynode_duration (c->file, v, w, &runtime, c->err) < 0)
            return -1;
        if ((v = ynode_get (m, "site"))) {
            if (get_site_ref (c, v, w, &pin) < 0)
                return -1;
            if (c->s->sites[pin].cores < ranks)
                return ynode_error (c->file, v, c->err, "%s: pinned to %s, which has %d cores "
                                    "(fewer than its %lld ranks)", w, c->s->sites[pin].name,
                                    c->s->sites[pin].cores, (long long)ranks);
        }
        char *tn = strdup (name);
        if (!tn || add_task (c, tn, (int)ranks, runtime, pin) < 0)
            return tn ? -1 : oom (c);
        int64_t t = c->s->ntasks - 1;
        c->s->tasks[t].line = m->line;
        c->s->tasks[t].col = m->col;
        if (strmap_put (tnames, c->s->tasks[t].name, t) < 0)
            return oom (c);
        if (!(v = ynode_get (m, "outputs")))
            continue;
        if (v->type != YNODE_MAP)
            return ynode_error (c->file, v, c->err, "%s: outputs: expected a mapping of output "
                                "names to sizes, e.g. {fine: 40GB}", w);
        for (size_t k = 0; k < v->n; k++) {
            char oname[PLACEMENT_NAME_MAX], full[2 * PLACEMENT_NAME_MAX + 2], wo[200];
            uint64_t bytes;
            snprintf (wo, sizeof (wo), "%s: outputs", w);
            if (get_ident (c, v->keys[k], wo, "output", oname, sizeof (oname)) < 0
                || ynode_size (c->file, v->items[k], wo, &bytes, c->err) < 0)
                return -1;
            snprintf (full, sizeof (full), "%s.%s", name, oname);
            if (strmap_get (dnames, full) >= 0)
                return ynode_error (c->file, v->keys[k], c->err, "%s: output '%s' has the name of "
                                    "a dataset", wo, full);
            char *dup = strdup (full);
            int64_t d = dup ? add_data (c, dup, bytes, 0, (int)t) : (oom (c), -1);
            if (d < 0)
                return -1;
            c->s->data[d].line = v->keys[k]->line;
            c->s->data[d].col = v->keys[k]->col;
            if (strmap_put (dnames, c->s->data[d].name, d) < 0)
                return oom (c);
            if (GROW (c->s->outs, c->s->capouts, c->s->nouts + 1) < 0)
                return oom (c);
            c->s->outs[c->s->nouts++] = d;
            c->s->tasks[t].nout++;
        }
    }
    return 0;
}

static int edge_add (struct lctx *c, struct edge **e, int64_t *ne, int64_t *cap, int64_t parent,
                     int64_t child)
{
    if (GROW (*e, *cap, *ne + 1) < 0)
        return oom (c);
    (*e)[(*ne)++] = (struct edge){ parent, child };
    return 0;
}

/* Second pass: inputs and 'after', in file order (inputs of task t land in
 * ins[] contiguously, since the first pass added no inputs). */
static int parse_tasks_2 (struct lctx *c, const struct ynode *n, const struct strmap *dnames,
                          const struct strmap *tnames)
{
    struct sim *s = c->s;
    struct edge *e = NULL;
    int64_t ne = 0, cap = 0;
    for (size_t i = 0; i < n->n; i++) {
        const struct ynode *m = n->items[i], *v;
        struct stask *t = &s->tasks[i];
        char w[96];
        snprintf (w, sizeof (w), "task %s", t->name);
        t->in_off = s->nins;
        if ((v = ynode_get (m, "inputs"))) {
            if (want_seq (c, v, w) < 0)
                goto fail;
            for (size_t k = 0; k < v->n; k++) {
                const struct ynode *it = v->items[k], *dn = it, *x;
                char dname[FS_NAME_MAX + 1], wi[128];
                double fraction = 1, reduce = 1;
                snprintf (wi, sizeof (wi), "%s: inputs[%zu]", w, k);
                if (it->type == YNODE_MAP) {
                    if (want_map (c, it, wi, input_keys) < 0)
                        goto fail;
                    if (!(dn = ynode_get (it, "data"))) {
                        missing (c, it, wi, "data");
                        goto fail;
                    }
                    if ((x = ynode_get (it, "fraction"))
                        && get_number (c, x, wi, 0, 1, &fraction) < 0)
                        goto fail;
                    if (x && !(fraction > 0)) {
                        ynode_error (c->file, x, c->err, "%s: fraction must be > 0", wi);
                        goto fail;
                    }
                    if ((x = ynode_get (it, "reduce")) && get_number (c, x, wi, 1, 1e15,
                                                                      &reduce) < 0)
                        goto fail;
                }
                if (ynode_string (c->file, dn, wi, dname, sizeof (dname), c->err) < 0)
                    goto fail;
                int64_t d = strmap_get (dnames, dname);
                if (d < 0) {
                    const char *dot = strchr (dname, '.');
                    if (dot && strmap_get (tnames, dname) < 0) {
                        char tn[PLACEMENT_NAME_MAX];
                        snprintf (tn, sizeof (tn), "%.*s", (int)(dot - dname), dname);
                        if (strmap_get (tnames, tn) >= 0) {
                            ynode_error (c->file, dn, c->err, "%s: task '%s' has no output '%s'",
                                         wi, tn, dot + 1);
                            goto fail;
                        }
                    }
                    ynode_error (c->file, dn, c->err, "%s: unknown dataset '%s' (neither in "
                                 "'datasets' nor a TASK.OUTPUT)", wi, dname);
                    goto fail;
                }
                if (s->data[d].producer == (int)i) {
                    ynode_error (c->file, dn, c->err, "%s: a task can't read its own output", wi);
                    goto fail;
                }
                if (add_input (c, d, fraction, reduce) < 0)
                    goto fail;
                t = &s->tasks[i];
                t->nin++;
                if (s->data[d].producer >= 0
                    && edge_add (c, &e, &ne, &cap, s->data[d].producer, (int64_t)i) < 0)
                    goto fail;
            }
        }
        if ((v = ynode_get (m, "after"))) {
            if (want_seq (c, v, w) < 0)
                goto fail;
            for (size_t k = 0; k < v->n; k++) {
                char tn[PLACEMENT_NAME_MAX];
                if (ynode_string (c->file, v->items[k], w, tn, sizeof (tn), c->err) < 0)
                    goto fail;
                int64_t p = strmap_get (tnames, tn);
                if (p < 0 || p == (int64_t)i) {
                    ynode_error (c->file, v->items[k], c->err, "%s: after: %s '%s'", w,
                                 p < 0 ? "unknown task" : "a task can't wait for itself", tn);
                    goto fail;
                }
                if (edge_add (c, &e, &ne, &cap, p, (int64_t)i) < 0)
                    goto fail;
            }
        }
    }
    return dag_build (c, e, ne);
fail:
    free (e);
    return -1;
}

static int load_explicit (struct lctx *c, const struct ynode *root)
{
    const struct ynode *sites = ynode_get (root, "sites"), *tasks = ynode_get (root, "tasks");
    const struct ynode *datasets = ynode_get (root, "datasets");
    struct strmap *dn = NULL, *tn = NULL;
    if (!sites)
        return missing (c, root, "scenario", "sites");
    if (parse_sites (c, sites) < 0 || parse_links (c, ynode_get (root, "links")) < 0)
        return -1;
    size_t nd = datasets && datasets->type == YNODE_SEQ ? datasets->n : 0;
    size_t nt = tasks && tasks->type == YNODE_SEQ ? tasks->n : 0;
    size_t nouts = 0;
    for (size_t i = 0; i < nt; i++) {
        const struct ynode *o = ynode_get (tasks->items[i], "outputs");
        nouts += o && o->type == YNODE_MAP ? o->n : 0;
    }
    int rc = -1;
    if (!(dn = strmap_create (nd + nouts)) || !(tn = strmap_create (nt))) {
        oom (c);
        goto out;
    }
    if (datasets && parse_datasets (c, datasets, dn) < 0)
        goto out;
    c->s->nstatic = c->s->ndata;
    if (!tasks) {
        rc = missing (c, root, "scenario", "tasks");
        goto out;
    }
    if (parse_tasks_1 (c, tasks, dn, tn) < 0 || parse_tasks_2 (c, tasks, dn, tn) < 0)
        goto out;
    rc = 0;
out:
    strmap_destroy (dn);
    strmap_destroy (tn);
    return rc;
}

/* ---- generated scenarios ------------------------------------------------------- */

struct gen {
    int64_t sites, regions, datasets, tasks, layers;
    double cores[2], replicas[2], dbytes[2], obytes[2], ranks[2], runtime[2], inputs[2];
    double parents[2], fraction[2];
    double locality;            /* share of a task's datasets taken from one site */
    double p_none, p_regions, p_aggregate;
    double intra_bw, intra_lat, inter_bw[2], inter_lat[2];
};

static const char *const gen_keys[] = {
    "sites", "regions", "datasets", "tasks", "layers", "seed", "cores", "replicas",
    "dataset_bytes", "output_bytes", "ranks", "runtime", "inputs", "parents", "fraction",
    "locality", "policies", "intra_bandwidth", "intra_latency", "inter_bandwidth",
    "inter_latency", NULL
};
static const char *const gen_policy_keys[] = { "none", "regions", "aggregate", NULL };

static int parse_gen (struct lctx *c, const struct ynode *g, struct gen *p)
{
    *p = (struct gen){
        .sites = 200, .regions = 20, .datasets = 400000, .tasks = 100000, .layers = 10,
        .cores = { 64, 2048 }, .replicas = { 1, 3 }, .dbytes = { 100e6, 200e9 },
        .obytes = { 10e6, 20e9 }, .ranks = { 1, 64 }, .runtime = { 300, 7200 },
        .inputs = { 1, 4 }, .parents = { 1, 2 }, .fraction = { 0.05, 1 }, .locality = 0.7,
        .p_none = 0.04, .p_regions = 0.07, .p_aggregate = 0.04,
        .intra_bw = 1.25e9, .intra_lat = 0.002, .inter_bw = { 100e6, 1.25e9 },
        .inter_lat = { 0.02, 0.15 },
    };
    if (want_map (c, g, "generate", gen_keys) < 0)
        return -1;
    static const struct {
        const char *key;
        size_t off;
        int64_t lo, hi;
    } ints[] = {
        { "sites", offsetof (struct gen, sites), 1, SIM_MAX_SITES },
        { "regions", offsetof (struct gen, regions), 1, SIM_MAX_SITES },
        { "datasets", offsetof (struct gen, datasets), 1, SIM_MAX_ITEMS / 4 },
        { "tasks", offsetof (struct gen, tasks), 0, SIM_MAX_ITEMS / 8 },
        { "layers", offsetof (struct gen, layers), 1, 100000 },
    };
    for (size_t i = 0; i < sizeof (ints) / sizeof (ints[0]); i++) {
        const struct ynode *v = ynode_get (g, ints[i].key);
        char w[48];
        snprintf (w, sizeof (w), "generate.%s", ints[i].key);
        if (v && ynode_int (c->file, v, w, ints[i].lo, ints[i].hi,
                            (int64_t *)((char *)p + ints[i].off), c->err) < 0)
            return -1;
    }
    static const struct {
        const char *key;
        size_t off;
        enum vkind kind;
        double lo, hi;
    } ranges[] = {
        { "cores", offsetof (struct gen, cores), V_INT, 1, 1 << 24 },
        { "replicas", offsetof (struct gen, replicas), V_INT, 1, 64 },
        { "dataset_bytes", offsetof (struct gen, dbytes), V_SIZE, 1, 1e18 },
        { "output_bytes", offsetof (struct gen, obytes), V_SIZE, 1, 1e18 },
        { "ranks", offsetof (struct gen, ranks), V_INT, 1, 1 << 24 },
        { "runtime", offsetof (struct gen, runtime), V_DURATION, 1e-3, 1e9 },
        { "inputs", offsetof (struct gen, inputs), V_INT, 0, 64 },
        { "parents", offsetof (struct gen, parents), V_INT, 0, 64 },
        { "fraction", offsetof (struct gen, fraction), V_NUMBER, 1e-9, 1 },
        { "inter_bandwidth", offsetof (struct gen, inter_bw), V_RATE, 1, 1e15 },
        { "inter_latency", offsetof (struct gen, inter_lat), V_DURATION, 0, 1e4 },
    };
    for (size_t i = 0; i < sizeof (ranges) / sizeof (ranges[0]); i++) {
        const struct ynode *v = ynode_get (g, ranges[i].key);
        char w[48];
        double *r = (double *)((char *)p + ranges[i].off);
        snprintf (w, sizeof (w), "generate.%s", ranges[i].key);
        if (!v)
            continue;
        if (get_range (c, v, w, ranges[i].kind, r) < 0)
            return -1;
        if (r[0] < ranges[i].lo || r[1] > ranges[i].hi)
            return ynode_error (c->file, v, c->err, "%s: out of range (%g..%g)", w, ranges[i].lo,
                                ranges[i].hi);
    }
    const struct ynode *v;
    if ((v = ynode_get (g, "locality")) && get_number (c, v, "generate.locality", 0, 1,
                                                       &p->locality) < 0)
        return -1;
    if ((v = ynode_get (g, "intra_bandwidth"))) {
        if (ynode_rate (c->file, v, "generate.intra_bandwidth", &p->intra_bw, c->err) < 0)
            return -1;
        if (!(p->intra_bw > 0))
            return ynode_error (c->file, v, c->err, "generate.intra_bandwidth: must be > 0");
    }
    if ((v = ynode_get (g, "intra_latency"))
        && ynode_duration (c->file, v, "generate.intra_latency", &p->intra_lat, c->err) < 0)
        return -1;
    if ((v = ynode_get (g, "policies"))) {
        if (want_map (c, v, "generate.policies", gen_policy_keys) < 0)
            return -1;
        const struct ynode *x;
        if ((x = ynode_get (v, "none")) && get_number (c, x, "generate.policies.none", 0, 1,
                                                       &p->p_none) < 0)
            return -1;
        if ((x = ynode_get (v, "regions")) && get_number (c, x, "generate.policies.regions", 0, 1,
                                                          &p->p_regions) < 0)
            return -1;
        if ((x = ynode_get (v, "aggregate"))
            && get_number (c, x, "generate.policies.aggregate", 0, 1, &p->p_aggregate) < 0)
            return -1;
        if (p->p_none + p->p_regions + p->p_aggregate > 1)
            return ynode_error (c->file, v, c->err, "generate.policies: the shares add up to "
                                "more than 1");
    }
    return 0;
}

/* The seeded random federation:
 *   sites s001.. in regions r01.. (round robin), cores log-uniform;
 *   links: intra_bandwidth/latency inside a region, and for each pair of
 *   regions one bandwidth and latency drawn from the inter_ ranges;
 *   datasets d0000001..: log-uniform sizes, 1..replicas replicas at
 *   distinct sites chosen in proportion to their cores, policies by share
 *   (regions=<the first replica's region>, aggregate=4x4, none);
 *   tasks in `layers` layers: each reads inputs datasets - a `locality`
 *   share of them from the datasets of one home site (chosen by cores) -
 *   with a fraction, aggregate ones half the time through a satisfying
 *   reduction (16) - plus `parents` outputs of tasks of the previous layer
 *   (whole); one output each, log-uniform size; ranks log-uniform, capped
 *   at the largest site. */
static int generate (struct lctx *c, const struct gen *p)
{
    struct sim *s = c->s;
    uint64_t st = s->seed * 0x9e3779b97f4a7c15ull + 12345;
    int maxcores = 0;
    for (int64_t i = 0; i < p->sites; i++) {
        char name[32], region[32];
        snprintf (name, sizeof (name), "s%03lld", (long long)i + 1);
        snprintf (region, sizeof (region), "r%02lld", (long long)(i % p->regions) + 1);
        int cores = (int)llround (rng_logu (&st, p->cores));
        if (add_site (c, name, region, cores) < 0)
            return -1;
        if (cores > maxcores)
            maxcores = cores;
    }
    int nreg = (int)(p->regions < p->sites ? p->regions : p->sites);
    if (links_alloc (c, p->intra_bw, p->intra_lat) < 0)
        return -1;
    double *rbw = malloc ((size_t)nreg * (size_t)nreg * sizeof (double));
    double *rlat = malloc ((size_t)nreg * (size_t)nreg * sizeof (double));
    if (!rbw || !rlat) {
        free (rbw);
        free (rlat);
        return oom (c);
    }
    for (int a = 0; a < nreg; a++)
        for (int b = a; b < nreg; b++) {
            double bw = a == b ? p->intra_bw : rng_logu (&st, p->inter_bw);
            double lat = a == b ? p->intra_lat : rng_uniform (&st, p->inter_lat);
            rbw[a * nreg + b] = rbw[b * nreg + a] = bw;
            rlat[a * nreg + b] = rlat[b * nreg + a] = lat;
        }
    for (int a = 0; a < s->nsites; a++)
        for (int b = a + 1; b < s->nsites; b++) {
            int ra = a % nreg, rb = b % nreg;
            link_put (s, a, b, rbw[ra * nreg + rb], rlat[ra * nreg + rb]);
        }
    free (rbw);
    free (rlat);

    /* policies: regions=<r> per region, one aggregate, none */
    int pol_region0 = -1, pol_aggr, pol_none;
    fs_policy_t pp;
    fs_error_t e;
    for (int r = 0; r < nreg; r++) {
        char txt[64];
        snprintf (txt, sizeof (txt), "regions=r%02d", r + 1);
        if (policy_parse (txt, &pp, &e) < 0)
            return errprintf (c->err, FS_EFAIL, "%s: %s", c->file, e.text);
        int k = policy_intern (s, &pp);
        if (k < 0)
            return oom (c);
        if (r == 0)
            pol_region0 = k;
    }
    if (policy_parse ("aggregate=4x4", &pp, &e) < 0 || (pol_aggr = policy_intern (s, &pp)) < 0
        || policy_parse ("none", &pp, &e) < 0 || (pol_none = policy_intern (s, &pp)) < 0)
        return oom (c);

    /* datasets, placed in proportion to cores */
    double *cum = malloc ((size_t)s->nsites * sizeof (double));
    int64_t *per_site = calloc ((size_t)s->nsites + 1, sizeof (int64_t));
    if (!cum || !per_site) {
        free (cum);
        free (per_site);
        return oom (c);
    }
    double tot = 0;
    for (int i = 0; i < s->nsites; i++)
        cum[i] = (tot += s->sites[i].cores);
    int rc = -1;
    int64_t *site_data = NULL;
    for (int64_t d = 0; d < p->datasets; d++) {
        uint64_t bytes = (uint64_t)llround (rng_logu (&st, p->dbytes));
        int nrep = (int)rng_int (&st, (int64_t)p->replicas[0], (int64_t)p->replicas[1]);
        if (nrep > s->nsites)
            nrep = s->nsites;
        double u = rng_unit (&st);
        int pol = 0;
        if (add_data (c, NULL, bytes, 0, -1) < 0)
            goto out;
        for (int k = 0; k < nrep; k++) {
            int site;
            bool dup;
            do {
                double x = rng_unit (&st) * tot;
                int lo = 0, hi = s->nsites - 1;
                while (lo < hi) {
                    int mid = (lo + hi) / 2;
                    if (cum[mid] > x)
                        hi = mid;
                    else
                        lo = mid + 1;
                }
                site = lo;
                dup = false;
                for (int r = 0; r < k; r++)
                    dup |= s->reps[s->data[d].rep_off + r] == site;
            } while (dup);
            if (add_replica (c, d, site) < 0)
                goto out;
            per_site[site]++;
        }
        int first = s->reps[s->data[d].rep_off];
        if (u < p->p_none)
            pol = pol_none;
        else if (u < p->p_none + p->p_regions)
            pol = pol_region0 + first % nreg;
        else if (u < p->p_none + p->p_regions + p->p_aggregate)
            pol = pol_aggr;
        s->data[d].policy = pol;
    }
    s->nstatic = s->ndata;
    /* datasets by site (CSR) for local picks */
    int64_t *start = calloc ((size_t)s->nsites + 1, sizeof (int64_t));
    site_data = malloc ((size_t)(s->nreps ? s->nreps : 1) * sizeof (int64_t));
    if (!start || !site_data) {
        free (start);
        oom (c);
        goto out;
    }
    for (int i = 0; i < s->nsites; i++)
        start[i + 1] = start[i] + per_site[i];
    memset (per_site, 0, (size_t)s->nsites * sizeof (int64_t));
    for (int64_t d = 0; d < s->nstatic; d++)
        for (int r = 0; r < s->data[d].nrep; r++) {
            int site = s->reps[s->data[d].rep_off + r];
            site_data[start[site] + per_site[site]++] = d;
        }

    /* tasks, layer by layer */
    struct edge *edges = NULL;
    unsigned char *taint = calloc ((size_t)(p->tasks ? p->tasks : 1), 1);
    if (!taint) {
        free (start);
        oom (c);
        goto out;
    }
    int64_t ne = 0, ecap = 0;
    int64_t layer_start = 0, prev_start = 0, prev_end = 0;
    double rk[2] = { p->ranks[0], p->ranks[1] < maxcores ? p->ranks[1] : maxcores };
    if (rk[0] > rk[1])
        rk[0] = rk[1];
    for (int64_t t = 0; t < p->tasks; t++) {
        int64_t layer = t * p->layers / (p->tasks ? p->tasks : 1);
        if (t > 0 && layer != (t - 1) * p->layers / p->tasks) {
            prev_start = layer_start;
            prev_end = t;
            layer_start = t;
        }
        int ranks = (int)llround (rng_logu (&st, rk));
        double runtime = rng_logu (&st, p->runtime);
        if (add_task (c, NULL, ranks, runtime, -1) < 0)
            break;
        int nin = (int)rng_int (&st, (int64_t)p->inputs[0], (int64_t)p->inputs[1]);
        double x = rng_unit (&st) * tot;
        int home = 0, lo = 0, hi = s->nsites - 1;
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (cum[mid] > x)
                hi = mid;
            else
                lo = mid + 1;
        }
        home = lo;
        struct stask *tk = &s->tasks[t];
        bool bound = false;     /* has an input whose policy binds where it runs */
        for (int k = 0; k < nin; k++) {
            int64_t d = -1;
            double red = 1;
            for (int tries = 0; tries < 8; tries++) {
                if (start[home + 1] > start[home] && rng_unit (&st) < p->locality)
                    d = site_data[rng_int (&st, start[home], start[home + 1] - 1)];
                else
                    d = rng_int (&st, 0, s->nstatic - 1);
                red = s->data[d].policy == pol_aggr && rng_unit (&st) < 0.5 ? 16 : 1;
                if (!bound || (s->data[d].policy == 0 || red > 1))
                    break;
                d = -1;
            }
            if (d < 0)
                continue;
            bool binds = s->data[d].policy != 0 && red == 1;
            double fr = rng_uniform (&st, p->fraction);
            if (add_input (c, d, fr, red) < 0)
                goto edges_out;
            tk = &s->tasks[t];
            tk->nin++;
            bound |= binds;
            taint[t] |= binds;
        }
        int npar = prev_end > prev_start
                       ? (int)rng_int (&st, (int64_t)p->parents[0], (int64_t)p->parents[1]) : 0;
        for (int k = 0; k < npar; k++) {
            /* a parent whose output is bound (it inherits a policy) would bind
             * this task too: prefer free ones, so bindings don't pile up
             * into tasks no site may run */
            int64_t par = rng_int (&st, prev_start, prev_end - 1);
            for (int tries = 0; tries < 8 && taint[par]; tries++)
                par = rng_int (&st, prev_start, prev_end - 1);
            if (taint[par] && bound)
                continue;
            taint[t] |= taint[par];
            bound |= taint[par];
            const struct stask *pt = &s->tasks[par];
            if (pt->nout == 0)
                continue;
            if (add_input (c, s->outs[pt->out_off], 1, 1) < 0
                || edge_add (c, &edges, &ne, &ecap, par, t) < 0)
                goto edges_out;
            tk = &s->tasks[t];
            tk->nin++;
        }
        int64_t od = add_data (c, NULL, (uint64_t)llround (rng_logu (&st, p->obytes)), 0, (int)t);
        if (od < 0 || GROW (s->outs, s->capouts, s->nouts + 1) < 0)
            goto edges_out;
        s->outs[s->nouts++] = od;
        s->tasks[t].nout = 1;
    }
    if (s->ntasks == p->tasks) {
        rc = dag_build (c, edges, ne);
        edges = NULL;
    }
edges_out:
    free (edges);
    free (taint);
    free (start);
out:
    free (site_data);
    free (cum);
    free (per_site);
    return rc;
}

/* ---- load -------------------------------------------------------------------- */

static struct sim *sim_new (void)
{
    struct sim *s = calloc (1, sizeof (*s));
    if (!s)
        return NULL;
    s->cappol = 16;
    s->pol = calloc ((size_t)s->cappol, sizeof (*s->pol));
    s->npol = 1;                /* index 0: raw */
    if (!s->pol || !(s->polidx = strmap_create (s->cappol))) {
        free (s->pol);
        free (s);
        return NULL;
    }
    s->seed = 1;
    return s;
}

static int load_doc (struct lctx *c, const struct ynode *root, const struct sim_opts *o)
{
    struct sim *s = c->s;
    const struct ynode *v, *g;
    int64_t iv;
    if (root->type != YNODE_MAP)
        return ynode_error (c->file, root, c->err, "expected a mapping at the top level");
    if (ynode_check_keys (c->file, root, NULL, top_keys, c->err) < 0)
        return -1;
    if ((v = ynode_get (root, "version")) && (ynode_int (c->file, v, "version", 1, 1, &iv,
                                                        c->err) < 0))
        return -1;
    snprintf (s->name, sizeof (s->name), "scenario");
    if ((v = ynode_get (root, "name")) && get_ident (c, v, "name", "scenario", s->name,
                                                     sizeof (s->name)) < 0)
        return -1;
    if ((v = ynode_get (root, "seed"))) {
        if (ynode_int (c->file, v, "seed", 0, INT64_MAX, &iv, c->err) < 0)
            return -1;
        s->seed = (uint64_t)iv;
    }
    if ((g = ynode_get (root, "generate"))) {
        static const char *const excl[] = { "sites", "links", "datasets", "tasks" };
        for (size_t i = 0; i < 4; i++)
            if ((v = ynode_get (root, excl[i])))
                return ynode_error (c->file, v, c->err, "'%s' can't be given with 'generate' "
                                    "(a generated scenario makes its own)", excl[i]);
        if (g->type == YNODE_MAP && (v = ynode_get (g, "seed"))) {
            if (ynode_int (c->file, v, "generate.seed", 0, INT64_MAX, &iv, c->err) < 0)
                return -1;
            s->seed = (uint64_t)iv;
        }
    }
    if (o && o->seed >= 0)
        s->seed = (uint64_t)o->seed;
    if (!g) {
        if (o && (o->sites >= 0 || o->datasets >= 0 || o->tasks >= 0))
            return errprintf (c->err, FS_EINVAL, "%s: --sites, --datasets and --tasks apply to "
                              "generated scenarios only (with 'generate:')", c->file);
        return load_explicit (c, root);
    }
    struct gen p;
    if (parse_gen (c, g, &p) < 0)
        return -1;
    if (o && o->sites > 0)
        p.sites = o->sites > SIM_MAX_SITES ? SIM_MAX_SITES : o->sites;
    if (o && o->datasets > 0)
        p.datasets = o->datasets;
    if (o && o->tasks >= 0)
        p.tasks = o->tasks;
    s->generated = true;
    return generate (c, &p);
}

static void count_regions (struct sim *s)
{
    s->nregions = 0;
    for (int i = 0; i < s->nsites; i++) {
        int j = 0;
        while (j < i && strcmp (s->sites[j].region, s->sites[i].region))
            j++;
        s->nregions += j == i;
    }
}

static struct sim *load_root (const char *file, const struct ynode *root,
                              const struct sim_opts *o, fs_error_t *err)
{
    struct sim *s = sim_new ();
    if (!s) {
        errprintf (err, FS_EFAIL, "%s: out of memory", file);
        return NULL;
    }
    struct lctx c = { file, err, s };
    if (load_doc (&c, root, o) < 0) {
        sim_destroy (s);
        return NULL;
    }
    count_regions (s);
    s->last_site = malloc ((size_t)(s->ntasks ? s->ntasks : 1) * sizeof (int));
    s->last_end = malloc ((size_t)(s->ntasks ? s->ntasks : 1) * sizeof (double));
    if (!s->last_site || !s->last_end) {
        errprintf (err, FS_EFAIL, "%s: out of memory", file);
        sim_destroy (s);
        return NULL;
    }
    for (int64_t t = 0; t < s->ntasks; t++) {
        s->last_site[t] = -1;
        s->last_end[t] = -1;
    }
    return s;
}

struct sim *sim_load_file (const char *file, const struct sim_opts *opts, fs_error_t *err)
{
    struct ydoc_limits lim = { SIM_FILE_MAX, 0 };
    struct ynode *root = ydoc_load_file (file, &lim, err);
    if (!root)
        return NULL;
    struct sim *s = load_root (file, root, opts, err);
    ydoc_free (root);
    return s;
}

struct sim *sim_load_string (const char *name, const char *text, size_t len,
                             const struct sim_opts *opts, fs_error_t *err)
{
    struct ydoc_limits lim = { SIM_FILE_MAX, 0 };
    struct ynode *root = ydoc_load_string (name, text, len, &lim, err);
    if (!root)
        return NULL;
    struct sim *s = load_root (name, root, opts, err);
    ydoc_free (root);
    return s;
}

void sim_destroy (struct sim *s)
{
    if (!s)
        return;
    for (int64_t i = 0; i < s->ndata; i++)
        free (s->data[i].name);
    for (int64_t i = 0; i < s->ntasks; i++)
        free (s->tasks[i].name);
    free (s->sites);
    free (s->bw);
    free (s->lat);
    free (s->data);
    free (s->reps);
    free (s->tasks);
    free (s->ins);
    free (s->outs);
    free (s->deps);
    free (s->pol);
    strmap_destroy (s->polidx);
    free (s->last_site);
    free (s->last_end);
    free (s);
}

void sim_info (const struct sim *s, struct sim_info *out)
{
    memset (out, 0, sizeof (*out));
    out->name = s->name;
    out->generated = s->generated;
    out->seed = s->seed;
    out->sites = s->nsites;
    out->regions = s->nregions;
    for (int i = 0; i < s->nsites; i++)
        out->cores += s->sites[i].cores;
    out->datasets = s->nstatic;
    out->tasks = s->ntasks;
    out->inputs = s->nins;
    for (int64_t d = 0; d < s->nstatic; d++)
        out->dataset_bytes += s->data[d].bytes;
}

/* ---- a run: events ------------------------------------------------------------- */

enum ev_kind { EV_TASK_END, EV_XFER_JOIN, EV_LINK };

struct ev {
    double t;
    uint64_t seq;               /* FIFO among equal times: deterministic */
    int kind;
    uint32_t ver;
    int64_t a;
};

struct rsite {
    int cores, cores_free;
    int64_t claimed;            /* ranks of tasks placed here and not ended */
    int64_t *q;                 /* FIFO ring of tasks waiting for cores */
    int64_t qhead, qlen, qcap;
    double queued_cs;           /* core-seconds of the queued tasks */
    double busy_end_cs;         /* sum over core holders of ranks x planned end */
    int64_t busy_ranks;
};

struct rlink {
    double bw, lat;
    double v, vt;               /* virtual clock and the time it was last advanced */
    uint32_t ver;
    int64_t *heap;              /* transfers by end mark */
    int64_t n, cap;
};

struct xfer {
    int64_t entry;              /* cache entry, or -1 for a centralised copy */
    int src, dst;
    uint64_t bytes;
    double join;                /* when its bytes started to flow */
    double vend;
};

struct centry {                 /* a site cache entry: (site, dataset, bytes) */
    int site;
    int64_t data;
    uint64_t bytes;
    bool done;
    int64_t waiters;            /* first waiter node, -1 none */
};

struct wnode {
    int64_t task, next;
};

struct strategy;

struct run {
    struct sim *s;
    const struct strategy *st;
    int n;                      /* sites */
    double now;
    uint64_t seq, rng;
    struct ev *ev;
    int64_t nev, capev;
    struct rsite *site;
    struct rlink *link;         /* n x n, row: from */
    struct xfer *x;
    int64_t nx, capx;
    struct centry *ce;
    int64_t nce, capce;
    struct strmap *ceidx;       /* struct ce_key -> index into ce */
    struct wnode *w;
    int64_t nw, capw;
    int *nrep;                  /* per dataset: replicas now */
    int *dpol;                  /* per dataset: policy now */
    int *left;                  /* per task: parents not ended */
    int *pending;               /* per task: inputs being staged */
    int *tsite;
    double *tready, *tend_plan;
    int64_t *ready;
    int64_t nready, capready;
    /* placement */
    struct placement_fed *fed;
    struct placement_candidate *cand;
    struct placement_input *pin;
    int maxin;
    int central;
    int64_t copies_left;
    struct sim_result *res;
    double wait_sum;
    int64_t wait_n;
};

static int ev_less (const struct ev *a, const struct ev *b)
{
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static int ev_push (struct run *r, double t, int kind, int64_t a, uint32_t ver)
{
    if (GROW (r->ev, r->capev, r->nev + 1) < 0)
        return -1;
    struct ev e = { t, r->seq++, kind, ver, a };
    int64_t i = r->nev++;
    while (i > 0) {
        int64_t p = (i - 1) / 2;
        if (!ev_less (&e, &r->ev[p]))
            break;
        r->ev[i] = r->ev[p];
        i = p;
    }
    r->ev[i] = e;
    return 0;
}

static struct ev ev_pop (struct run *r)
{
    struct ev top = r->ev[0], last = r->ev[--r->nev];
    int64_t i = 0, n = r->nev;
    for (;;) {
        int64_t l = 2 * i + 1, m = i;
        const struct ev *best = &last;
        if (l < n && ev_less (&r->ev[l], best)) {
            m = l;
            best = &r->ev[l];
        }
        if (l + 1 < n && ev_less (&r->ev[l + 1], best))
            m = l + 1;
        if (m == i)
            break;
        r->ev[i] = r->ev[m];
        i = m;
    }
    if (n > 0)
        r->ev[i] = last;
    return top;
}

/* ---- a run: links and transfers --------------------------------------------------- */

static void lheap_push (struct run *r, struct rlink *l, int64_t xi)
{
    int64_t i = l->n++;
    double v = r->x[xi].vend;
    while (i > 0) {
        int64_t p = (i - 1) / 2;
        if (r->x[l->heap[p]].vend <= v)
            break;
        l->heap[i] = l->heap[p];
        i = p;
    }
    l->heap[i] = xi;
}

static int64_t lheap_pop (struct run *r, struct rlink *l)
{
    int64_t top = l->heap[0], last = l->heap[--l->n], i = 0, n = l->n;
    double v = r->x[last].vend;
    for (;;) {
        int64_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && r->x[l->heap[c + 1]].vend < r->x[l->heap[c]].vend)
            c++;
        if (v <= r->x[l->heap[c]].vend)
            break;
        l->heap[i] = l->heap[c];
        i = c;
    }
    if (n > 0)
        l->heap[i] = last;
    return top;
}

static void link_advance (struct run *r, struct rlink *l)
{
    if (l->n > 0)
        l->v += (r->now - l->vt) * l->bw / (double)l->n;
    l->vt = r->now;
}

static int link_reschedule (struct run *r, struct rlink *l)
{
    l->ver++;
    if (l->n == 0)
        return 0;
    double left = r->x[l->heap[0]].vend - l->v;
    double t = r->now + (left > 0 ? left : 0) * (double)l->n / l->bw;
    return ev_push (r, t, EV_LINK, l - r->link, l->ver);
}

static int xfer_join (struct run *r, int64_t xi)
{
    struct xfer *x = &r->x[xi];
    struct rlink *l = &r->link[(size_t)x->src * (size_t)r->n + (size_t)x->dst];
    link_advance (r, l);
    x->join = r->now;
    x->vend = l->v + (double)x->bytes;
    if (GROW (l->heap, l->cap, l->n + 1) < 0)
        return -1;
    lheap_push (r, l, xi);
    return link_reschedule (r, l);
}

static int xfer_start (struct run *r, int64_t entry, int src, int dst, uint64_t bytes)
{
    if (GROW (r->x, r->capx, r->nx + 1) < 0)
        return -1;
    int64_t xi = r->nx++;
    r->x[xi] = (struct xfer){ .entry = entry, .src = src, .dst = dst, .bytes = bytes };
    r->res->wan_bytes += bytes;
    r->res->transfers++;
    double lat = r->link[(size_t)src * (size_t)r->n + (size_t)dst].lat;
    if (lat > 0)
        return ev_push (r, r->now + lat, EV_XFER_JOIN, xi, 0);
    return xfer_join (r, xi);
}

/* ---- a run: tasks ------------------------------------------------------------------ */

static int task_run (struct run *r, int64_t t)
{
    r->wait_sum += r->now - r->tready[t];
    r->wait_n++;
    return ev_push (r, r->now + r->s->tasks[t].runtime, EV_TASK_END, t, 0);
}

/* The key of a cache entry: no padding, so its bytes are the key. */
struct ce_key {
    int64_t data;
    uint64_t bytes;
    int64_t site;
};

static int ce_find_or_add (struct run *r, int site, int64_t data, uint64_t bytes, bool *found,
                           int64_t *idx)
{
    struct ce_key key = { data, bytes, site };
    *idx = strmap_getn (r->ceidx, &key, sizeof (key));
    *found = *idx >= 0;
    if (*found)
        return 0;
    if (GROW (r->ce, r->capce, r->nce + 1) < 0
        || strmap_putn (r->ceidx, &key, sizeof (key), r->nce) < 0)
        return -1;
    *idx = r->nce++;
    r->ce[*idx] = (struct centry){ site, data, bytes, false, -1 };
    return 0;
}

static bool has_replica (const struct run *r, int64_t d, int site)
{
    const int *rep = &r->s->reps[r->s->data[d].rep_off];
    for (int i = 0; i < r->nrep[d]; i++)
        if (rep[i] == site)
            return true;
    return false;
}

/* The replica to fetch from: least estimated time (the scheduler's links). */
static int best_source (const struct run *r, int64_t d, int site, uint64_t bytes)
{
    const struct placement_links *l = placement_fed_links (r->fed);
    const int *rep = &r->s->reps[r->s->data[d].rep_off];
    int best = -1;
    double bt = 0;
    for (int i = 0; i < r->nrep[d]; i++) {
        double t = placement_links_transfer (l, rep[i], site, (double)bytes);
        if (best < 0 || t < bt) {
            best = rep[i];
            bt = t;
        }
    }
    return best;
}

/* The task holds its cores: fetch what is not at the site, then run. */
static int task_stage (struct run *r, int64_t t)
{
    const struct stask *tk = &r->s->tasks[t];
    int site = r->tsite[t];
    r->pending[t] = 0;
    if (r->central < 0) {
        for (int k = 0; k < tk->nin; k++) {
            const struct sinput *in = &r->s->ins[tk->in_off + k];
            if (in->bytes == 0 || has_replica (r, in->data, site))
                continue;
            bool found;
            int64_t e;
            if (ce_find_or_add (r, site, in->data, in->bytes, &found, &e) < 0)
                return -1;
            if (found && r->ce[e].done)
                continue;
            if (GROW (r->w, r->capw, r->nw + 1) < 0)
                return -1;
            r->w[r->nw] = (struct wnode){ t, r->ce[e].waiters };
            r->ce[e].waiters = r->nw++;
            r->pending[t]++;
            if (!found) {
                int src = best_source (r, in->data, site, in->bytes);
                if (src < 0)
                    return -1;
                if (xfer_start (r, e, src, site, in->bytes) < 0)
                    return -1;
            }
        }
    }
    return r->pending[t] == 0 ? task_run (r, t) : 0;
}

/* Start queued tasks while the head of the queue fits (FIFO). */
static int site_pump (struct run *r, int s)
{
    struct rsite *rs = &r->site[s];
    while (rs->qlen > 0) {
        int64_t t = rs->q[rs->qhead];
        const struct stask *tk = &r->s->tasks[t];
        if (tk->ranks > rs->cores_free)
            break;
        rs->qhead = (rs->qhead + 1) % rs->qcap;
        rs->qlen--;
        rs->cores_free -= tk->ranks;
        rs->queued_cs -= tk->ranks * tk->runtime;
        r->tend_plan[t] = r->now + tk->runtime;
        rs->busy_end_cs += tk->ranks * r->tend_plan[t];
        rs->busy_ranks += tk->ranks;
        if (task_stage (r, t) < 0)
            return -1;
    }
    if (rs->qlen == 0)
        rs->queued_cs = 0;      /* no drift */
    return 0;
}

static int site_enqueue (struct run *r, int s, int64_t t)
{
    struct rsite *rs = &r->site[s];
    const struct stask *tk = &r->s->tasks[t];
    if (rs->qlen == rs->qcap) {
        int64_t cap = rs->qcap ? 2 * rs->qcap : 16;
        int64_t *q = malloc ((size_t)cap * sizeof (*q));
        if (!q)
            return -1;
        for (int64_t i = 0; i < rs->qlen; i++)
            q[i] = rs->q[(rs->qhead + i) % rs->qcap];
        free (rs->q);
        rs->q = q;
        rs->qcap = cap;
        rs->qhead = 0;
    }
    rs->q[(rs->qhead + rs->qlen) % rs->qcap] = t;
    rs->qlen++;
    rs->queued_cs += tk->ranks * tk->runtime;
    rs->claimed += tk->ranks;
    r->tsite[t] = s;
    return site_pump (r, s);
}

/* What placement sees of a site: cores free for a newcomer (none while
 * others queue: FIFO) and the estimated wait for cores. */
static void fed_update_site (struct run *r, int s)
{
    const struct rsite *rs = &r->site[s];
    struct placement_site *ps = placement_fed_site (r->fed, s);
    double busy = rs->busy_end_cs - r->now * (double)rs->busy_ranks;
    ps->cores_free = rs->qlen > 0 ? 0 : rs->cores_free;
    ps->wait_s = ((busy > 0 ? busy : 0) + rs->queued_cs) / (rs->cores > 0 ? rs->cores : 1);
}

/* The task's inputs as placement sees them, in r->pin. */
static void build_inputs (struct run *r, int64_t t, struct placement_task *pt)
{
    const struct stask *tk = &r->s->tasks[t];
    for (int k = 0; k < tk->nin; k++) {
        const struct sinput *in = &r->s->ins[tk->in_off + k];
        const fs_policy_t *p = &r->s->pol[r->dpol[in->data]];
        r->pin[k] = (struct placement_input){
            .name = r->s->data[in->data].name,
            .bytes = in->bytes,
            .replicas = &r->s->reps[r->s->data[in->data].rep_off],
            .nreplicas = r->nrep[in->data],
            .policy = p,
            .reduce_satisfies = reduce_satisfies (p, in->reduce),
        };
    }
    *pt = (struct placement_task){ .ranks = tk->ranks, .runtime_s = tk->runtime,
                                   .pinned = tk->pin >= 0, .pin_site = tk->pin,
                                   .ninputs = tk->nin, .inputs = r->pin };
}

static int task_end (struct run *r, int64_t t)
{
    struct sim *s = r->s;
    const struct stask *tk = &s->tasks[t];
    int site = r->tsite[t];
    struct rsite *rs = &r->site[site];
    rs->cores_free += tk->ranks;
    rs->busy_ranks -= tk->ranks;
    rs->busy_end_cs -= tk->ranks * r->tend_plan[t];
    if (rs->busy_ranks == 0)
        rs->busy_end_cs = 0;
    rs->claimed -= tk->ranks;
    r->res->tasks_done++;
    r->res->makespan_s = r->now;
    s->last_end[t] = r->now;
    int outpol = 0;
    if (r->central < 0 && tk->nout > 0) {
        struct placement_task pt;
        fs_policy_t p;
        build_inputs (r, t, &pt);
        policy_inherit (r->pin, tk->nin, &p);
        if ((outpol = policy_intern (s, &p)) < 0)
            return -1;
    }
    for (int k = 0; k < tk->nout; k++) {
        int64_t d = s->outs[tk->out_off + k];
        s->reps[s->data[d].rep_off] = site;
        r->nrep[d] = 1;
        r->dpol[d] = outpol;
    }
    for (int i = 0; i < tk->ndep; i++) {
        int64_t c = s->deps[tk->dep_off + i];
        if (--r->left[c] == 0) {
            if (GROW (r->ready, r->capready, r->nready + 1) < 0)
                return -1;
            r->ready[r->nready++] = c;
            r->tready[c] = r->now;
        }
    }
    return site_pump (r, site);
}

static int xfer_done (struct run *r, int64_t xi)
{
    const struct xfer *x = &r->x[xi];
    if (x->bytes >= OBSERVE_MIN_BYTES && r->now > x->join)
        placement_links_observe (placement_fed_links (r->fed), x->src, x->dst, (double)x->bytes,
                                 r->now - x->join);
    if (x->entry < 0) {
        if (--r->copies_left == 0) {
            r->res->copy_s = r->now;
            for (int64_t t = 0; t < r->s->ntasks; t++)
                r->tready[t] = r->now;
        }
        return 0;
    }
    struct centry *e = &r->ce[x->entry];
    e->done = true;
    for (int64_t w = e->waiters; w >= 0; w = r->w[w].next) {
        int64_t t = r->w[w].task;
        if (--r->pending[t] == 0 && task_run (r, t) < 0)
            return -1;
    }
    e->waiters = -1;
    return 0;
}

static int link_event (struct run *r, int64_t li, uint32_t ver)
{
    struct rlink *l = &r->link[li];
    if (ver != l->ver || l->n == 0)
        return 0;
    link_advance (r, l);
    int64_t xi = lheap_pop (r, l);
    l->v = r->x[xi].vend;
    if (xfer_done (r, xi) < 0)
        return -1;
    double eps = 1e-12 * (l->v > 1 ? l->v : 1);
    while (l->n > 0 && r->x[l->heap[0]].vend <= l->v + eps) {
        xi = lheap_pop (r, l);
        if (xfer_done (r, xi) < 0)
            return -1;
    }
    if (l->n == 0)
        l->v = 0;
    return link_reschedule (r, l);
}

/* ---- strategies ------------------------------------------------------------------- */

struct strategy {
    const char *name;
    const char *summary;
    bool live_state;            /* placement needs cores_free and wait_s */
    bool central;
    int (*choose_f) (struct run *r, int64_t t);       /* a site, or -1: none eligible */
};

static int decide (struct run *r, int64_t t, struct placement_result *res)
{
    struct placement_task pt;
    fs_error_t err;
    build_inputs (r, t, &pt);
    if (placement_decide (r->fed, &pt, r->cand, r->n, res, &err) < 0)
        return -1;
    return res->status == PLACEMENT_PLACED ? res->site : -1;
}

static int choose_fedsched (struct run *r, int64_t t)
{
    struct placement_result res;
    return decide (r, t, &res);
}

static int choose_central (struct run *r, int64_t t)
{
    (void)t;
    return r->central;
}

static int choose_random (struct run *r, int64_t t)
{
    struct placement_result res;
    if (decide (r, t, &res) < 0)
        return -1;
    int n = 0;
    for (int s = 0; s < r->n; s++)
        n += r->cand[s].excluded == PLACE_OK;
    int k = (int)(rng_next (&r->rng) % (uint64_t)n);
    for (int s = 0; s < r->n; s++)
        if (r->cand[s].excluded == PLACE_OK && k-- == 0)
            return s;
    return -1;
}

static int choose_greedy (struct run *r, int64_t t)
{
    struct placement_result res;
    if (decide (r, t, &res) < 0)
        return -1;
    int best = -1;
    int64_t bf = 0;
    for (int s = 0; s < r->n; s++) {
        if (r->cand[s].excluded != PLACE_OK)
            continue;
        int64_t f = r->site[s].cores - r->site[s].claimed;
        if (best < 0 || f > bf
            || (f == bf && strcmp (r->s->sites[s].name, r->s->sites[best].name) < 0)) {
            best = s;
            bf = f;
        }
    }
    return best;
}

static const struct strategy strategies[] = {
    { "fedsched", "the scheduler's placement_decide() with live cores, queue waits and policies",
      true, false, choose_fedsched },
    { "centralised", "copy every input dataset whole to the best-connected site (policies "
      "ignored), then run everything there on the federation's total cores",
      false, true, choose_central },
    { "random", "a uniformly random eligible site (policies respected)", false, false,
      choose_random },
    { "greedy", "the eligible site with the most unclaimed cores (locality-blind)", false, false,
      choose_greedy },
    { NULL, NULL, false, false, NULL },
};

const char *const *sim_strategies (void)
{
    static const char *const names[] = { "fedsched", "centralised", "random", "greedy", NULL };
    return names;
}

const char *sim_strategy_summary (const char *name)
{
    for (const struct strategy *st = strategies; st->name; st++)
        if (!strcmp (st->name, name))
            return st->summary;
    return NULL;
}

/* Place the ready tasks, in the order they became ready. */
static int place_ready (struct run *r)
{
    if (r->nready == 0)
        return 0;
    if (r->st->live_state)
        for (int s = 0; s < r->n; s++)
            fed_update_site (r, s);
    for (int64_t i = 0; i < r->nready; i++) {
        int64_t t = r->ready[i];
        double t0 = clock_mono ();
        int s = r->st->choose_f (r, t);
        r->res->decide_s += clock_mono () - t0;
        r->res->decisions++;
        if (s < 0) {
            r->res->tasks_unplaceable++;
            continue;
        }
        r->res->tasks_placed++;
        r->s->last_site[t] = s;
        if (site_enqueue (r, s, t) < 0)
            return -1;
        if (r->st->live_state)
            fed_update_site (r, s);
    }
    r->nready = 0;
    return 0;
}

/* The site with the highest sum of bandwidth from the others (ties: more
 * cores, then the name). */
static int best_connected (const struct sim *s)
{
    int best = -1;
    double bsum = 0;
    size_t n = (size_t)s->nsites;
    for (int c = 0; c < s->nsites; c++) {
        double sum = 0;
        for (int o = 0; o < s->nsites; o++)
            if (o != c)
                sum += s->bw[(size_t)o * n + (size_t)c];
        if (best < 0 || sum > bsum * (1 + 1e-12)
            || (sum >= bsum * (1 - 1e-12)
                && (s->sites[c].cores > s->sites[best].cores
                    || (s->sites[c].cores == s->sites[best].cores
                        && strcmp (s->sites[c].name, s->sites[best].name) < 0)))) {
            best = c;
            bsum = sum;
        }
    }
    return best;
}

static void run_free (struct run *r)
{
    if (r->site)
        for (int s = 0; s < r->n; s++)
            free (r->site[s].q);
    if (r->link)
        for (size_t i = 0; i < (size_t)r->n * (size_t)r->n; i++)
            free (r->link[i].heap);
    free (r->site);
    free (r->link);
    free (r->ev);
    free (r->x);
    free (r->ce);
    strmap_destroy (r->ceidx);
    free (r->w);
    free (r->nrep);
    free (r->dpol);
    free (r->left);
    free (r->pending);
    free (r->tsite);
    free (r->tready);
    free (r->tend_plan);
    free (r->ready);
    free (r->cand);
    free (r->pin);
    placement_fed_destroy (r->fed);
}

static int run_init (struct run *r, struct sim *s, const struct strategy *st,
                     struct sim_result *res)
{
    size_t n = (size_t)s->nsites, nt = (size_t)(s->ntasks ? s->ntasks : 1);
    size_t nd = (size_t)(s->ndata ? s->ndata : 1);
    memset (r, 0, sizeof (*r));
    r->s = s;
    r->st = st;
    r->n = s->nsites;
    r->res = res;
    r->central = -1;
    r->rng = s->seed ^ 0x5851f42d4c957f2dull;
    r->site = calloc (n, sizeof (*r->site));
    r->link = calloc (n * n, sizeof (*r->link));
    r->nrep = malloc (nd * sizeof (*r->nrep));
    r->dpol = malloc (nd * sizeof (*r->dpol));
    r->left = malloc (nt * sizeof (*r->left));
    r->pending = calloc (nt, sizeof (*r->pending));
    r->tsite = malloc (nt * sizeof (*r->tsite));
    r->tready = calloc (nt, sizeof (*r->tready));
    r->tend_plan = calloc (nt, sizeof (*r->tend_plan));
    r->cand = calloc (n, sizeof (*r->cand));
    r->ceidx = strmap_create (1024);
    r->fed = placement_fed_create (DEF_BW, DEF_LAT);
    r->maxin = 1;
    for (int64_t t = 0; t < s->ntasks; t++)
        if (s->tasks[t].nin > r->maxin)
            r->maxin = s->tasks[t].nin;
    r->pin = calloc ((size_t)r->maxin, sizeof (*r->pin));
    if (!r->site || !r->link || !r->nrep || !r->dpol || !r->left || !r->pending || !r->tsite
        || !r->tready || !r->tend_plan || !r->cand || !r->ceidx || !r->fed || !r->pin)
        return -1;
    fs_error_t err;
    for (int i = 0; i < s->nsites; i++) {
        if (placement_fed_add_site (r->fed, s->sites[i].name, s->sites[i].region, &err) != i)
            return -1;
        struct placement_site *ps = placement_fed_site (r->fed, i);
        ps->cores = ps->cores_free = s->sites[i].cores;
        r->site[i].cores = r->site[i].cores_free = s->sites[i].cores;
    }
    struct placement_links *pl = placement_fed_links (r->fed);
    for (size_t a = 0; a < n; a++)
        for (size_t b = 0; b < n; b++) {
            struct rlink *l = &r->link[a * n + b];
            l->bw = s->bw[a * n + b];
            l->lat = s->lat[a * n + b];
            if (a < b && placement_links_set (pl, (int)a, (int)b, l->bw, l->lat, &err) < 0)
                return -1;
        }
    for (int64_t d = 0; d < s->ndata; d++) {
        r->nrep[d] = s->data[d].producer >= 0 ? 0 : s->data[d].nrep;
        r->dpol[d] = s->data[d].policy;
    }
    for (int64_t t = 0; t < s->ntasks; t++) {
        r->left[t] = s->tasks[t].npar;
        r->tsite[t] = -1;
        s->last_site[t] = -1;
        s->last_end[t] = -1;
    }
    return 0;
}

/* centralised: pick the site, give it every core, start the copies. */
static int central_init (struct run *r)
{
    struct sim *s = r->s;
    int c = best_connected (s);
    int64_t total = 0;
    for (int i = 0; i < s->nsites; i++) {
        total += s->sites[i].cores;
        r->site[i].cores = r->site[i].cores_free = 0;
    }
    r->site[c].cores = r->site[c].cores_free = (int)(total > INT32_MAX ? INT32_MAX : total);
    r->central = c;
    r->res->central_site = c;
    r->res->central_name = s->sites[c].name;
    unsigned char *used = calloc ((size_t)(s->nstatic ? s->nstatic : 1), 1);
    if (!used)
        return -1;
    for (int64_t i = 0; i < s->nins; i++)
        if (s->ins[i].data < s->nstatic)
            used[s->ins[i].data] = 1;
    size_t n = (size_t)s->nsites;
    int rc = 0;
    for (int64_t d = 0; d < s->nstatic && rc == 0; d++) {
        if (!used[d] || s->data[d].bytes == 0 || has_replica (r, d, c))
            continue;
        const int *rep = &s->reps[s->data[d].rep_off];
        int src = -1;
        double bt = 0;
        for (int k = 0; k < s->data[d].nrep; k++) {
            double tt = (double)s->data[d].bytes / s->bw[(size_t)rep[k] * n + (size_t)c]
                        + s->lat[(size_t)rep[k] * n + (size_t)c];
            if (src < 0 || tt < bt) {
                src = rep[k];
                bt = tt;
            }
        }
        r->copies_left++;
        r->res->copy_bytes += s->data[d].bytes;
        rc = xfer_start (r, -1, src, c, s->data[d].bytes);
    }
    free (used);
    return rc;
}

int sim_run (struct sim *s, const char *strategy, struct sim_result *out, fs_error_t *err)
{
    const struct strategy *st = strategies;
    while (st->name && strcmp (st->name, strategy))
        st++;
    if (!st->name)
        return errprintf (err, FS_EINVAL, "unknown strategy '%s' (fedsched, centralised, random, "
                          "greedy)", strategy);
    memset (out, 0, sizeof (*out));
    snprintf (out->strategy, sizeof (out->strategy), "%s", st->name);
    out->central_site = -1;
    double w0 = clock_mono (), c0 = clock_cpu ();
    struct run r;
    int rc = -1;
    if (run_init (&r, s, st, out) < 0)
        goto out;
    if (st->central && central_init (&r) < 0)
        goto out;
    for (int64_t t = 0; t < s->ntasks; t++)
        if (r.left[t] == 0) {
            if (GROW (r.ready, r.capready, r.nready + 1) < 0)
                goto out;
            r.ready[r.nready++] = t;
        }
    /* centralised: the roots wait for the copies (released in xfer_done) */
    int64_t held = r.copies_left > 0 ? r.nready : 0;
    if (held == 0 && place_ready (&r) < 0)
        goto out;
    while (r.nev > 0) {
        struct ev e = ev_pop (&r);
        r.now = e.t;
        int k = 0;
        switch (e.kind) {
        case EV_TASK_END:
            k = task_end (&r, e.a);
            break;
        case EV_XFER_JOIN:
            k = xfer_join (&r, e.a);
            break;
        case EV_LINK:
            k = link_event (&r, e.a, e.ver);
            break;
        }
        if (k < 0)
            goto out;
        if (held && r.copies_left == 0)
            held = 0;
        if (!held && (r.nev == 0 || r.ev[0].t > r.now) && place_ready (&r) < 0)
            goto out;
    }
    if (r.wait_n)
        out->mean_wait_s = r.wait_sum / (double)r.wait_n;
    if (out->tasks_done == 0 && st->central)
        out->makespan_s = out->copy_s;
    rc = 0;
out:
    if (rc < 0)
        errprintf (err, FS_EFAIL, "simulation (%s): out of memory", st->name);
    run_free (&r);
    out->wall_s = clock_mono () - w0;
    out->cpu_s = clock_cpu () - c0;
    return rc;
}

/* ---- after a run -------------------------------------------------------------------- */

int64_t sim_task_count (const struct sim *s)
{
    return s->ntasks;
}

const char *sim_task_name (const struct sim *s, int64_t i, char *buf, size_t n)
{
    if (i < 0 || i >= s->ntasks)
        snprintf (buf, n, "?");
    else if (s->tasks[i].name)
        snprintf (buf, n, "%s", s->tasks[i].name);
    else
        snprintf (buf, n, "t%lld", (long long)i);
    return buf;
}

const char *sim_task_site_at (const struct sim *s, int64_t i)
{
    if (i < 0 || i >= s->ntasks || s->last_site[i] < 0)
        return NULL;
    return s->sites[s->last_site[i]].name;
}

static int64_t task_index (const struct sim *s, const char *name)
{
    for (int64_t t = 0; t < s->ntasks; t++) {
        char buf[PLACEMENT_NAME_MAX];
        if (!strcmp (sim_task_name (s, t, buf, sizeof (buf)), name))
            return t;
    }
    return -1;
}

const char *sim_task_site (const struct sim *s, const char *task)
{
    return sim_task_site_at (s, task_index (s, task));
}

double sim_task_end (const struct sim *s, const char *task)
{
    int64_t t = task_index (s, task);
    return t < 0 ? -1 : s->last_end[t];
}
