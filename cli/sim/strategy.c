/* strategy.c - the simulator's strategies (see sim.h and docs/sim.md):
 * fedsched (the scheduler's placement_decide() with the live state) and the
 * baselines of the headline comparison: centralised, random, greedy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"
#include "scheduler/dispatch.h"
#include "sim.h"

static int decide (struct run *r, int64_t t, struct placement_result *res)
{
    struct placement_task pt;
    fs_error_t err;
    run_build_inputs (r, t, &pt);
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
        int64_t f = r->s->sites[s].cores - dispatch_site_claimed (r->disp, s);
        if (best < 0 || f > bf
            || (f == bf && strcmp (r->s->sites[s].name, r->s->sites[best].name) < 0)) {
            best = s;
            bf = f;
        }
    }
    return best;
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

/* centralised: pick the site, give it every core, start the copies. */
static int central_init (struct run *r)
{
    struct sim *s = r->s;
    int c = best_connected (s);
    int64_t total = 0;
    for (int i = 0; i < s->nsites; i++) {
        total += s->sites[i].cores;
        dispatch_site_set (r->disp, i, 0, true);
    }
    dispatch_site_set (r->disp, c, (int)(total > INT32_MAX ? INT32_MAX : total), true);
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
        if (!used[d] || s->data[d].bytes == 0 || run_has_replica (r, d, c))
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
        rc = run_xfer_start (r, -1, src, c, s->data[d].bytes);
    }
    free (used);
    return rc;
}

static const struct strategy strategies[] = {
    { "fedsched", "the scheduler's placement_decide() with live cores, queue waits and policies",
      true, false, NULL, choose_fedsched },
    { "centralised", "copy every input dataset whole to the best-connected site (policies "
      "ignored), then run everything there on the federation's total cores",
      false, true, central_init, choose_central },
    { "random", "a uniformly random eligible site (policies respected)", false, false,
      NULL, choose_random },
    { "greedy", "the eligible site with the most unclaimed cores (locality-blind)", false, false,
      NULL, choose_greedy },
    { NULL, NULL, false, false, NULL, NULL },
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

const struct strategy *run_strategy_find (const char *name)
{
    for (const struct strategy *st = strategies; st->name; st++)
        if (!strcmp (st->name, name))
            return st;
    return NULL;
}
