/* generate.c - generated scenarios (`generate:` in a scenario file, see
 * docs/sim.md): a seeded random federation and a layered DAG, built with the
 * loading helpers of scenario.h. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"
#include "sim.h"

struct gen {
    int64_t sites, regions, datasets, tasks, layers, commands;
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
    "inter_latency", "commands", NULL
};
static const char *const gen_policy_keys[] = { "none", "regions", "aggregate", NULL };

static int parse_gen (struct lctx *c, const struct ynode *g, struct gen *p)
{
    *p = (struct gen){
        .sites = 200, .regions = 20, .datasets = 400000, .tasks = 100000, .layers = 10,
        .commands = 20,
        .cores = { 64, 2048 }, .replicas = { 1, 3 }, .dbytes = { 100e6, 200e9 },
        .obytes = { 10e6, 20e9 }, .ranks = { 1, 64 }, .runtime = { 300, 7200 },
        .inputs = { 1, 4 }, .parents = { 1, 2 }, .fraction = { 0.05, 1 }, .locality = 0.7,
        .p_none = 0.04, .p_regions = 0.07, .p_aggregate = 0.04,
        .intra_bw = 1.25e9, .intra_lat = 0.002, .inter_bw = { 100e6, 1.25e9 },
        .inter_lat = { 0.02, 0.15 },
    };
    if (scn_want_map (c, g, "generate", gen_keys) < 0)
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
        { "commands", offsetof (struct gen, commands), 1, 100000 },
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
        if (scn_get_range (c, v, w, ranges[i].kind, r) < 0)
            return -1;
        if (r[0] < ranges[i].lo || r[1] > ranges[i].hi)
            return ynode_error (c->file, v, c->err, "%s: out of range (%g..%g)", w, ranges[i].lo,
                                ranges[i].hi);
    }
    const struct ynode *v;
    if ((v = ynode_get (g, "locality")) && scn_get_number (c, v, "generate.locality", 0, 1,
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
        if (scn_want_map (c, v, "generate.policies", gen_policy_keys) < 0)
            return -1;
        const struct ynode *x;
        if ((x = ynode_get (v, "none")) && scn_get_number (c, x, "generate.policies.none", 0, 1,
                                                       &p->p_none) < 0)
            return -1;
        if ((x = ynode_get (v, "regions")) && scn_get_number (c, x, "generate.policies.regions", 0, 1,
                                                          &p->p_regions) < 0)
            return -1;
        if ((x = ynode_get (v, "aggregate"))
            && scn_get_number (c, x, "generate.policies.aggregate", 0, 1, &p->p_aggregate) < 0)
            return -1;
        if (p->p_none + p->p_regions + p->p_aggregate > 1)
            return ynode_error (c->file, v, c->err, "generate.policies: the shares add up to "
                                "more than 1");
    }
    return 0;
}

/* The site whose share of the cumulative cores cum[0..n) holds x (a site
 * drawn in proportion to its cores for x uniform in [0, total)). */
static int pick_site (const double *cum, int n, double x)
{
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (cum[mid] > x)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
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
        if (scn_add_site (c, name, region, cores) < 0)
            return -1;
        if (cores > maxcores)
            maxcores = cores;
    }
    int nreg = (int)(p->regions < p->sites ? p->regions : p->sites);
    if (scn_links_alloc (c, p->intra_bw, p->intra_lat) < 0)
        return -1;
    double *rbw = malloc ((size_t)nreg * (size_t)nreg * sizeof (double));
    double *rlat = malloc ((size_t)nreg * (size_t)nreg * sizeof (double));
    if (!rbw || !rlat) {
        free (rbw);
        free (rlat);
        return scn_oom (c);
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
            scn_link_put (s, a, b, rbw[ra * nreg + rb], rlat[ra * nreg + rb]);
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
        int k = scn_policy_intern (s, &pp);
        if (k < 0)
            return scn_oom (c);
        if (r == 0)
            pol_region0 = k;
    }
    if (policy_parse ("aggregate=4x4", &pp, &e) < 0 || (pol_aggr = scn_policy_intern (s, &pp)) < 0
        || policy_parse ("none", &pp, &e) < 0 || (pol_none = scn_policy_intern (s, &pp)) < 0)
        return scn_oom (c);

    /* datasets, placed in proportion to cores */
    double *cum = malloc ((size_t)s->nsites * sizeof (double));
    int64_t *per_site = calloc ((size_t)s->nsites + 1, sizeof (int64_t));
    if (!cum || !per_site) {
        free (cum);
        free (per_site);
        return scn_oom (c);
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
        if (scn_add_data (c, NULL, bytes, 0, -1) < 0)
            goto out;
        for (int k = 0; k < nrep; k++) {
            int site;
            bool dup;
            do {
                site = pick_site (cum, s->nsites, rng_unit (&st) * tot);
                dup = false;
                for (int r = 0; r < k; r++)
                    dup |= s->reps[s->data[d].rep_off + r] == site;
            } while (dup);
            if (scn_add_replica (c, d, site) < 0)
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
        scn_oom (c);
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
        scn_oom (c);
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
        if (scn_add_task (c, NULL, ranks, runtime, -1) < 0)
            break;
        /* the command: by index, so the random draws (and the scenario) are
         * those of a generator without commands */
        char cmd[32];
        snprintf (cmd, sizeof (cmd), "app%02lld", (long long)(t % p->commands) + 1);
        if ((s->tasks[t].cmd = scn_command (c, cmd)) < 0)
            goto edges_out;
        int nin = (int)rng_int (&st, (int64_t)p->inputs[0], (int64_t)p->inputs[1]);
        int home = pick_site (cum, s->nsites, rng_unit (&st) * tot);
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
            if (scn_add_input (c, d, fr, red) < 0)
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
            if (scn_add_input (c, s->outs[pt->out_off], 1, 1) < 0
                || scn_edge_add (c, &edges, &ne, &ecap, par, t) < 0)
                goto edges_out;
            tk = &s->tasks[t];
            tk->nin++;
        }
        int64_t od = scn_add_data (c, NULL, (uint64_t)llround (rng_logu (&st, p->obytes)), 0, (int)t);
        if (od < 0 || GROW (s->outs, s->capouts, s->nouts + 1) < 0)
            goto edges_out;
        s->outs[s->nouts++] = od;
        s->tasks[t].nout = 1;
    }
    if (s->ntasks == p->tasks) {
        rc = scn_dag_build (c, edges, ne);
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

int scn_generate (struct lctx *c, const struct ynode *g, const struct sim_opts *o)
{
    struct gen p;
    if (parse_gen (c, g, &p) < 0)
        return -1;
    if (o && o->sites > 0)
        p.sites = o->sites > SIM_MAX_SITES ? SIM_MAX_SITES : o->sites;
    if (o && o->datasets > 0)
        p.datasets = o->datasets;
    if (o && o->tasks >= 0)
        p.tasks = o->tasks;
    c->s->generated = true;
    return generate (c, &p);
}
