/* scenario.c - the simulator's scenarios: the model, its loading helpers,
 * the DAG, loading a file (see sim.h, scenario.h and docs/sim.md).
 *
 * A scenario is either explicit (sites, links, datasets, tasks: explicit.c)
 * or generated (`generate:`, generate.c).  Either way it ends up as the flat
 * arrays of scenario.h.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/names.h"
#include "common/policy.h"
#include "common/slice.h"
#include "common/strmap.h"
#include "common/ydoc.h"
#include "scenario.h"
#include "sim.h"

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
int scn_policy_intern (struct sim *s, const fs_policy_t *p)
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

/* ---- loading helpers -------------------------------------------------------- */

int scn_oom (struct lctx *c)
{
    return errprintf (c->err, FS_EFAIL, "%s: out of memory", c->file);
}

int scn_want_map (struct lctx *c, const struct ynode *n, const char *what,
                  const char *const *keys)
{
    if (!n || n->type != YNODE_MAP)
        return ynode_error (c->file, n, c->err, "%s: expected a mapping", what);
    return ynode_check_keys (c->file, n, what, keys, c->err);
}

int scn_want_seq (struct lctx *c, const struct ynode *n, const char *what)
{
    if (!n || n->type != YNODE_SEQ)
        return ynode_error (c->file, n, c->err, "%s: expected a list", what);
    return 0;
}

int scn_missing (struct lctx *c, const struct ynode *map, const char *what, const char *key)
{
    return ynode_error (c->file, map, c->err, "%s: '%s' is missing", what, key);
}

int scn_get_number (struct lctx *c, const struct ynode *n, const char *what, double lo,
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


static int scn_get_value (struct lctx *c, const struct ynode *n, const char *what, enum vkind k,
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
        return scn_get_number (c, n, what, 0, 1e18, out);
    }
    return -1;
}

/* A value or a [low, high] range. */
int scn_get_range (struct lctx *c, const struct ynode *n, const char *what, enum vkind k,
                   double r[2])
{
    if (n->type == YNODE_SEQ) {
        if (n->n != 2)
            return ynode_error (c->file, n, c->err, "%s: expected a value or [low, high]", what);
        if (scn_get_value (c, n->items[0], what, k, &r[0]) < 0
            || scn_get_value (c, n->items[1], what, k, &r[1]) < 0)
            return -1;
        if (r[1] < r[0])
            return ynode_error (c->file, n, c->err, "%s: high is below low", what);
        return 0;
    }
    if (scn_get_value (c, n, what, k, &r[0]) < 0)
        return -1;
    r[1] = r[0];
    return 0;
}

int scn_get_ident (struct lctx *c, const struct ynode *n, const char *what, const char *kind,
                   char *buf, size_t size)
{
    fs_error_t e;
    if (ynode_string (c->file, n, what, buf, size, c->err) < 0)
        return -1;
    if (ident_valid (kind, buf, &e) < 0)
        return ynode_error (c->file, n, c->err, "%s: %s", what, e.text);
    return 0;
}

int scn_find_site (const struct sim *s, const char *name)
{
    for (int i = 0; i < s->nsites; i++)
        if (!strcmp (s->sites[i].name, name))
            return i;
    return -1;
}

int scn_add_site (struct lctx *c, const char *name, const char *region, int cores)
{
    struct sim *s = c->s;
    struct ssite *ns = realloc (s->sites, (size_t)(s->nsites + 1) * sizeof (*ns));
    if (!ns)
        return scn_oom (c);
    s->sites = ns;
    struct ssite *st = &s->sites[s->nsites++];
    snprintf (st->name, sizeof (st->name), "%s", name);
    snprintf (st->region, sizeof (st->region), "%s", region[0] ? region : name);
    st->cores = cores;
    return 0;
}

int scn_links_alloc (struct lctx *c, double bw, double lat)
{
    struct sim *s = c->s;
    size_t n = (size_t)s->nsites;
    s->bw = malloc (n * n * sizeof (double));
    s->lat = malloc (n * n * sizeof (double));
    if (!s->bw || !s->lat)
        return scn_oom (c);
    for (size_t a = 0; a < n; a++)
        for (size_t b = 0; b < n; b++) {
            s->bw[a * n + b] = a == b ? INFINITY : bw;
            s->lat[a * n + b] = a == b ? 0 : lat;
        }
    return 0;
}

void scn_link_put (struct sim *s, int a, int b, double bw, double lat)
{
    size_t n = (size_t)s->nsites;
    s->bw[(size_t)a * n + b] = s->bw[(size_t)b * n + a] = bw;
    s->lat[(size_t)a * n + b] = s->lat[(size_t)b * n + a] = lat;
}

int64_t scn_add_data (struct lctx *c, char *name, uint64_t bytes, int policy, int producer)
{
    struct sim *s = c->s;
    if (s->ndata >= SIM_MAX_ITEMS || GROW (s->data, s->capdata, s->ndata + 1) < 0) {
        free (name);
        scn_oom (c);
        return -1;
    }
    struct sdata *d = &s->data[s->ndata];
    *d = (struct sdata){ .name = name, .bytes = bytes, .policy = policy, .rep_off = s->nreps,
                         .producer = producer };
    /* a task output gets one slot for the replica it will have */
    if (producer >= 0) {
        if (GROW (s->reps, s->capreps, s->nreps + 1) < 0) {
            scn_oom (c);
            return -1;
        }
        s->reps[s->nreps++] = -1;
    }
    return s->ndata++;
}

int scn_add_replica (struct lctx *c, int64_t d, int site)
{
    struct sim *s = c->s;
    if (GROW (s->reps, s->capreps, s->nreps + 1) < 0)
        return scn_oom (c);
    s->reps[s->nreps++] = site;
    s->data[d].nrep++;
    return 0;
}

int scn_add_input (struct lctx *c, int64_t data, double fraction, double reduce)
{
    struct sim *s = c->s;
    if (s->nins >= SIM_MAX_ITEMS || GROW (s->ins, s->capins, s->nins + 1) < 0)
        return scn_oom (c);
    double b = (double)s->data[data].bytes * fraction / reduce;
    s->ins[s->nins++] = (struct sinput){ data, (uint64_t)llround (b), reduce };
    return 0;
}

int scn_add_task (struct lctx *c, char *name, int ranks, double runtime, int pin)
{
    struct sim *s = c->s;
    if (s->ntasks >= SIM_MAX_ITEMS || GROW (s->tasks, s->captasks, s->ntasks + 1) < 0) {
        free (name);
        return scn_oom (c);
    }
    s->tasks[s->ntasks++] = (struct stask){ .name = name, .ranks = ranks, .runtime = runtime,
                                            .cmd = -1, .pin = pin, .in_off = s->nins,
                                            .out_off = s->nouts };
    return 0;
}

int scn_command (struct lctx *c, const char *name)
{
    struct sim *s = c->s;
    int64_t k = strmap_get (s->cmdidx, name);
    if (k >= 0)
        return (int)k;
    if (s->ncmds == s->capcmds) {
        int cap = s->capcmds ? 2 * s->capcmds : 16;
        char **v = realloc (s->cmds, (size_t)cap * sizeof (*v));
        if (!v)
            return scn_oom (c);
        s->cmds = v;
        s->capcmds = cap;
    }
    if (!(s->cmds[s->ncmds] = strdup (name)) || strmap_put (s->cmdidx, name, s->ncmds) < 0) {
        free (s->cmds[s->ncmds]);
        return scn_oom (c);
    }
    return s->ncmds++;
}

/* ---- the DAG ------------------------------------------------------------------ */

static int edge_cmp (const void *a, const void *b)
{
    const struct edge *x = a, *y = b;
    if (x->parent != y->parent)
        return x->parent < y->parent ? -1 : 1;
    return (x->child > y->child) - (x->child < y->child);
}

int scn_dag_build (struct lctx *c, struct edge *e, int64_t ne)
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
        return scn_oom (c);
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
        return scn_oom (c);
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

int scn_edge_add (struct lctx *c, struct edge **e, int64_t *ne, int64_t *cap, int64_t parent,
                  int64_t child)
{
    if (GROW (*e, *cap, *ne + 1) < 0)
        return scn_oom (c);
    (*e)[(*ne)++] = (struct edge){ parent, child };
    return 0;
}

/* ---- load -------------------------------------------------------------------- */

static const char *const top_keys[] = { "version", "name", "seed", "sites", "links", "datasets",
                                        "tasks", "generate", NULL };

static struct sim *sim_new (void)
{
    struct sim *s = calloc (1, sizeof (*s));
    if (!s)
        return NULL;
    s->cappol = 16;
    s->pol = calloc ((size_t)s->cappol, sizeof (*s->pol));
    s->npol = 1;                /* index 0: raw */
    if (!s->pol || !(s->polidx = strmap_create (s->cappol)) || !(s->cmdidx = strmap_create (0))) {
        strmap_destroy (s->polidx);
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
    if ((v = ynode_get (root, "name")) && scn_get_ident (c, v, "name", "scenario", s->name,
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
        return scn_load_explicit (c, root);
    }
    return scn_generate (c, g, o);
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
    for (int i = 0; i < s->ncmds; i++)
        free (s->cmds[i]);
    free (s->cmds);
    strmap_destroy (s->cmdidx);
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
