/* bench_placement.c - throughput of placement_decide() on a large synthetic
 * federation, against baselines measured in the same run (STYLE.md rule 13:
 * figures and ratios, not pass/fail).  Run through tests/bench/placement.
 *
 *   bench_placement [--sites N] [--regions N] [--datasets N] [--replicas N]
 *                   [--tasks N] [--runs N] [--seed N] [--examples N]
 *
 * Defaults: 200 sites in 20 regions, 400,000 datasets holding 1,000,000
 * replicas (1-3 each), policies mostly raw, 100,000 ready tasks with 1-4
 * inputs each.  Cases, best of --runs:
 *   engine  placement_decide() over every task, with its candidate records
 *   naive   the same decision written the obvious way (site by site, input by
 *           input, regions compared as strings, links read through
 *           placement_links_get()); its choices are checked against the engine's
 *   floor   the arithmetic alone: for each task and site, bytes x 1/bandwidth
 *           from each input's first replica, and the minimum - no policies,
 *           states, replicas, ties or records
 * Exit 0 when it ran (whatever the figures), 1 if it could not, 2 on usage.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "scheduler/placement.h"

#define NPOLICY_REGIONS 64

struct dataset {
    uint64_t bytes;
    int policy;                 /* index into the policy table */
    int nrep;
    int *rep;                   /* into the replica array */
};

static uint64_t rng_state = 1;

static uint64_t rng (void)
{
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double urand (void)
{
    return (double)(rng () >> 11) * (1.0 / 9007199254740992.0);
}

static int irand (int n)
{
    return (int)(rng () % (uint64_t)n);
}

static void *xcalloc (size_t n, size_t size)
{
    void *p = calloc (n ? n : 1, size);
    if (!p) {
        fprintf (stderr, "bench_placement: out of memory\n");
        exit (1);
    }
    return p;
}

/* ---- the naive decision -------------------------------------------------- */

static bool listed (const fs_policy_t *p, const char *region)
{
    for (int i = 0; i < p->nregions; i++)
        if (!strcmp (p->regions[i], region))
            return true;
    return false;
}

static bool naive_better (const struct placement_site *a, double ca, const struct placement_site *b,
                          double cb)
{
    if (fabs (ca - cb) > 1e-9 * fmax (fabs (ca), fabs (cb)))
        return ca < cb;
    if (a->cores_free != b->cores_free)
        return a->cores_free > b->cores_free;
    return strcmp (a->name, b->name) < 0;
}

/* Returns the chosen site or -1. */
static int naive_decide (struct placement_fed *f, const struct placement_task *t)
{
    const struct placement_links *l = placement_fed_links (f);
    int n = placement_fed_count (f), best = -1;
    int ranks = t->ranks < 1 ? 1 : t->ranks;
    double bestcost = 0;
    for (int s = 0; s < n; s++) {
        const struct placement_site *site = placement_fed_site_const (f, s);
        if ((t->pinned && s != t->pin_site) || !site->up || site->drained || site->cores < ranks)
            continue;
        double move = 0;
        bool ok = true;
        for (int k = 0; k < t->ninputs && ok; k++) {
            const struct placement_input *in = &t->inputs[k];
            bool at = false;
            for (int r = 0; r < in->nreplicas; r++)
                at |= in->replicas[r] == s;
            if (at)
                continue;
            fs_policy_kind_t kind = in->policy ? in->policy->kind : POLICY_RAW;
            if (kind == POLICY_AGGREGATE && in->reduce_satisfies)
                kind = POLICY_RAW;
            if ((kind == POLICY_REGIONS && !listed (in->policy, site->region))
                || kind == POLICY_NONE || kind == POLICY_AGGREGATE) {
                ok = false;
                break;
            }
            double bt = INFINITY;
            for (int r = 0; r < in->nreplicas; r++) {
                if (!placement_fed_site_const (f, in->replicas[r])->up)
                    continue;
                struct placement_link_info li;
                placement_links_get (l, in->replicas[r], s, &li);
                double tt = (double)in->bytes / li.bandwidth + li.latency;
                if (tt < bt)
                    bt = tt;
            }
            if (bt == INFINITY)
                ok = false;
            move += bt;
        }
        if (!ok)
            continue;
        double cost = (site->cores_free >= ranks ? 0 : site->wait_s) + move + t->runtime_s;
        if (best < 0 || naive_better (site, cost, placement_fed_site_const (f, best), bestcost)) {
            best = s;
            bestcost = cost;
        }
    }
    return best;
}

/* ---- main ------------------------------------------------------------------ */

static void usage (void)
{
    fprintf (stderr, "usage: bench_placement [--sites N] [--regions N] [--datasets N] "
                     "[--replicas N] [--tasks N] [--runs N] [--seed N] [--examples N]\n");
    exit (2);
}

int main (int argc, char **argv)
{
    int nsites = 200, nregions = 20, ndatasets = 400000, nreplicas = 1000000, ntasks = 100000;
    int runs = 3, examples = 0;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            usage ();
        long v = strtol (argv[i + 1], NULL, 10);
        if (!strcmp (argv[i], "--sites"))
            nsites = (int)v;
        else if (!strcmp (argv[i], "--regions"))
            nregions = (int)v;
        else if (!strcmp (argv[i], "--datasets"))
            ndatasets = (int)v;
        else if (!strcmp (argv[i], "--replicas"))
            nreplicas = (int)v;
        else if (!strcmp (argv[i], "--tasks"))
            ntasks = (int)v;
        else if (!strcmp (argv[i], "--runs"))
            runs = (int)v;
        else if (!strcmp (argv[i], "--seed"))
            rng_state = (uint64_t)v;
        else if (!strcmp (argv[i], "--examples"))
            examples = (int)v;
        else
            usage ();
        i++;
    }
    if (nsites < 1 || nregions < 1 || ndatasets < 1 || ntasks < 1 || runs < 1
        || nreplicas < ndatasets || nreplicas > 3 * ndatasets || nsites < 3) {
        fprintf (stderr, "bench_placement: need sites >= 3, datasets <= replicas <= 3 x datasets\n");
        return 2;
    }
    double t0 = clock_mono ();

    /* sites and links */
    struct placement_fed *f = placement_fed_create (1e9, 0.02);
    fs_error_t err;
    char (*regions)[16] = xcalloc ((size_t)nregions, sizeof (*regions));
    for (int r = 0; r < nregions; r++)
        snprintf (regions[r], sizeof (regions[r]), "r%02d", r);
    int ndown = 0, ndrained = 0;
    for (int s = 0; s < nsites; s++) {
        char name[32];
        snprintf (name, sizeof (name), "site%03d", s);
        if (placement_fed_add_site (f, name, regions[s % nregions], &err) != s) {
            fprintf (stderr, "bench_placement: %s\n", err.text);
            return 1;
        }
        struct placement_site *site = placement_fed_site (f, s);
        site->cores = 64 << irand (7);          /* 64 .. 4096 */
        site->cores_free = irand (site->cores + 1);
        site->wait_s = 3600 * urand ();
        site->up = s % 50 != 7;                 /* 2% down, 2% drained */
        site->drained = s % 50 == 23;
        ndown += !site->up;
        ndrained += site->drained;
    }
    /* pairs within a region are fast and near; some others slow and far */
    int cap = nsites * 4, npairs = 0;
    struct link_cfg *pairs = xcalloc ((size_t)cap, sizeof (*pairs));
    for (int a = 0; a < nsites && npairs < cap; a++)
        for (int b = a + nregions; b < nsites && npairs < cap; b += nregions) {
            snprintf (pairs[npairs].from, sizeof (pairs[npairs].from), "site%03d", a);
            snprintf (pairs[npairs].to, sizeof (pairs[npairs].to), "site%03d", b);
            pairs[npairs].bandwidth = 1e10;
            pairs[npairs].latency = 0.001;
            npairs++;
        }
    for (int i = 0; i < nsites && npairs < cap; i++) {
        snprintf (pairs[npairs].from, sizeof (pairs[npairs].from), "site%03d", irand (nsites));
        snprintf (pairs[npairs].to, sizeof (pairs[npairs].to), "site%03d", irand (nsites));
        pairs[npairs].bandwidth = 1e8;
        pairs[npairs].latency = 0.1;
        npairs++;
    }
    struct link_cfg def = {.bandwidth = 1e9, .latency = 0.02};
    if (placement_fed_configure_links (f, &def, pairs, npairs, &err) < 0) {
        fprintf (stderr, "bench_placement: %s\n", err.text);
        return 1;
    }
    struct placement_links *links = placement_fed_links (f);
    int nobs = 20 * nsites;
    for (int i = 0; i < nobs; i++)
        placement_links_observe (links, irand (nsites), irand (nsites), 1e9 * urand (),
                                 0.1 + 10 * urand ());

    /* policies: raw 85%, regions 7% (64 lists of 1-3 regions), aggregate 4%, none 4% */
    int npol = 3 + NPOLICY_REGIONS;
    fs_policy_t *pol = xcalloc ((size_t)npol, sizeof (*pol));
    policy_parse ("raw", &pol[0], &err);
    policy_parse ("none", &pol[1], &err);
    policy_parse ("aggregate=4x4", &pol[2], &err);
    for (int i = 0; i < NPOLICY_REGIONS; i++) {
        char s[128] = "regions=";
        int k = 1 + irand (3), first = irand (nregions);
        if (k > nregions)
            k = nregions;
        for (int j = 0; j < k; j++)         /* k distinct regions */
            snprintf (s + strlen (s), sizeof (s) - strlen (s), "%s%s", j ? "," : "",
                      regions[(first + j) % nregions]);
        if (policy_parse (s, &pol[3 + i], &err) < 0) {
            fprintf (stderr, "bench_placement: %s\n", err.text);
            return 1;
        }
    }

    /* the catalog: every dataset 1 replica, then the rest spread (at most 3 each) */
    struct dataset *ds = xcalloc ((size_t)ndatasets, sizeof (*ds));
    int *rep = xcalloc ((size_t)nreplicas, sizeof (*rep));
    int *count = xcalloc ((size_t)ndatasets, sizeof (*count));
    int pcount[4] = {0};
    for (int d = 0; d < ndatasets; d++)
        count[d] = 1;
    for (long extra = (long)nreplicas - ndatasets; extra > 0;) {
        int d = irand (ndatasets);
        if (count[d] < 3) {
            count[d]++;
            extra--;
        }
    }
    for (int d = 0, off = 0; d < ndatasets; d++) {
        ds[d].bytes = (uint64_t)(1e6 * pow (1e5, urand ()));   /* 1 MB .. 100 GB */
        double u = urand ();
        ds[d].policy = u < 0.85 ? 0 : u < 0.92 ? 3 + irand (NPOLICY_REGIONS) : u < 0.96 ? 2 : 1;
        pcount[ds[d].policy >= 3 ? 1 : ds[d].policy == 2 ? 2 : ds[d].policy == 1 ? 3 : 0]++;
        ds[d].nrep = count[d];
        ds[d].rep = rep + off;
        for (int r = 0; r < count[d]; r++) {
            int s, dup;
            do {
                s = irand (nsites);
                dup = 0;
                for (int q = 0; q < r; q++)
                    dup |= ds[d].rep[q] == s;
            } while (dup);
            ds[d].rep[r] = s;
        }
        off += count[d];
    }
    free (count);

    /* the ready tasks */
    struct placement_task *tasks = xcalloc ((size_t)ntasks, sizeof (*tasks));
    struct placement_input *inputs = xcalloc ((size_t)ntasks * 4, sizeof (*inputs));
    long ninputs = 0;
    int npinned = 0;
    static const char *names[] = {"a", "b", "c", "d"};
    for (int i = 0; i < ntasks; i++) {
        struct placement_task *t = &tasks[i];
        t->ranks = 1 << irand (9);              /* 1 .. 256 */
        t->runtime_s = 60 + 3540 * urand ();
        t->pinned = urand () < 0.01;
        t->pin_site = t->pinned ? irand (nsites) : 0;
        npinned += t->pinned;
        t->ninputs = 1 + irand (4);
        t->inputs = &inputs[ninputs];
        for (int k = 0; k < t->ninputs; k++) {
            struct placement_input *in = &inputs[ninputs++];
            const struct dataset *d = &ds[irand (ndatasets)];
            in->name = names[k];
            in->bytes = (uint64_t)((double)d->bytes * (0.01 + 0.99 * urand ()));
            in->replicas = d->rep;
            in->nreplicas = d->nrep;
            in->policy = &pol[d->policy];
            in->reduce_satisfies = d->policy == 2 && urand () < 0.5;
        }
    }
    double tsetup = clock_mono () - t0;

    printf ("placement benchmark: %d sites (%d regions, %d down, %d drained), %d configured pairs, "
            "%d link measurements\n",
            nsites, nregions, ndown, ndrained, npairs, nobs);
    printf ("catalog: %d datasets, %d replicas; policies raw %.1f%%, regions %.1f%%, "
            "aggregate %.1f%%, none %.1f%%\n",
            ndatasets, nreplicas, 100.0 * pcount[0] / ndatasets, 100.0 * pcount[1] / ndatasets,
            100.0 * pcount[2] / ndatasets, 100.0 * pcount[3] / ndatasets);
    printf ("tasks: %d ready, %ld inputs, %d pinned; setup %.2f s\n", ntasks, ninputs, npinned,
            tsetup);

    struct placement_candidate *cand = xcalloc ((size_t)nsites, sizeof (*cand));
    int *chosen = xcalloc ((size_t)ntasks, sizeof (*chosen));
    struct placement_result res;
    long nstatus[3] = {0};
    double best_engine = INFINITY, best_naive = INFINITY, best_floor = INFINITY;
    double sink = 0;

    /* floor: a plain dense 1/bandwidth matrix, the first replica, no rules */
    double *inv = xcalloc ((size_t)nsites * (size_t)nsites, sizeof (*inv));
    for (int a = 0; a < nsites; a++)
        for (int b = 0; b < nsites; b++) {
            struct placement_link_info li;
            placement_links_get (links, a, b, &li);
            inv[(size_t)a * nsites + b] = a == b ? 0 : 1.0 / li.bandwidth;
        }

    for (int run = 0; run < runs; run++) {
        double t1 = clock_mono ();
        for (int i = 0; i < ntasks; i++) {
            if (placement_decide (f, &tasks[i], cand, nsites, &res, &err) < 0) {
                fprintf (stderr, "bench_placement: task %d: %s\n", i, err.text);
                return 1;
            }
            chosen[i] = res.site;
            if (run == 0)
                nstatus[res.status]++;
        }
        double te = clock_mono () - t1;
        if (te < best_engine)
            best_engine = te;

        t1 = clock_mono ();
        long agree = 0;
        for (int i = 0; i < ntasks; i++)
            agree += naive_decide (f, &tasks[i]) == chosen[i];
        double tn = clock_mono () - t1;
        if (tn < best_naive)
            best_naive = tn;
        if (agree != ntasks) {
            printf ("naive and engine disagree on %ld of %d tasks\n", ntasks - agree, ntasks);
            return 1;
        }

        t1 = clock_mono ();
        for (int i = 0; i < ntasks; i++) {
            const struct placement_task *t = &tasks[i];
            double m = INFINITY;
            for (int s = 0; s < nsites; s++) {
                double c = t->runtime_s;
                for (int k = 0; k < t->ninputs; k++)
                    c += (double)t->inputs[k].bytes
                         * inv[(size_t)t->inputs[k].replicas[0] * nsites + s];
                if (c < m)
                    m = c;
            }
            sink += m;
        }
        double tf = clock_mono () - t1;
        if (tf < best_floor)
            best_floor = tf;
    }

    double rate = ntasks / best_engine;
    printf ("\n%-44s %9s %14s %9s\n", "case (best of runs)", "seconds", "placements/s",
            "vs floor");
    printf ("%-44s %9.3f %14.0f %8.2fx\n", "engine: placement_decide + candidate records",
            best_engine, rate, best_engine / best_floor);
    printf ("%-44s %9.3f %14.0f %8.2fx\n", "naive: site-major, strings, accessors", best_naive,
            ntasks / best_naive, best_naive / best_floor);
    printf ("%-44s %9.3f %14.0f %8.2fx\n", "floor: arithmetic only, no rules", best_floor,
            ntasks / best_floor, 1.0);
    printf ("\nengine is %.2fx faster than naive; %.2f us per placement (%d sites each)\n",
            best_naive / best_engine, 1e6 * best_engine / ntasks, nsites);
    printf ("outcomes: placed %ld, wait %ld, never %ld; naive agrees on %d/%d\n",
            nstatus[PLACEMENT_PLACED], nstatus[PLACEMENT_WAIT], nstatus[PLACEMENT_NEVER], ntasks,
            ntasks);
    printf ("target >= 20000 placements/s: %s (%.1fx)\n", rate >= 20000 ? "met" : "NOT met",
            rate / 20000);

    for (int i = 0; i < examples && i < ntasks; i++) {
        const struct placement_task *t = &tasks[irand (ntasks)];
        placement_decide (f, t, cand, nsites, &res, &err);
        printf ("\nexample %d: %d ranks, %d inputs -> %s: %s\n", i + 1, t->ranks, t->ninputs,
                res.site >= 0 ? placement_fed_site (f, res.site)->name : "(none)", res.reason);
        for (int s = 0, shown = 0; s < nsites && shown < 4; s++) {
            char why[512];
            if (cand[s].excluded)
                printf ("    %s excluded: %s\n", placement_fed_site (f, s)->name,
                        placement_candidate_describe (f, t, &cand[s], why, sizeof (why)));
            else
                printf ("    %s %.1f s\n", placement_fed_site (f, s)->name, cand[s].cost_s);
            shown++;
        }
    }
    if (sink < 0)
        printf ("%g\n", sink);

    free (inv);
    free (chosen);
    free (cand);
    free (tasks);
    free (inputs);
    free (ds);
    free (rep);
    free (pol);
    free (pairs);
    free (regions);
    placement_fed_destroy (f);
    return 0;
}
