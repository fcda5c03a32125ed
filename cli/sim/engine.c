/* engine.c - the simulator's event engine (see sim.h and docs/sim.md).
 *
 * One struct run (run.h) per sim_run(): the clock, a binary heap of events
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
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/strmap.h"
#include "run.h"
#include "scheduler/dispatch.h"
#include "sim.h"

#define OBSERVE_MIN_BYTES (1u << 20)    /* like workers: measure 1 MiB and more */

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

int run_xfer_start (struct run *r, int64_t entry, int src, int dst, uint64_t bytes)
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

bool run_has_replica (const struct run *r, int64_t d, int site)
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
            if (in->bytes == 0 || run_has_replica (r, in->data, site))
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
                if (run_xfer_start (r, e, src, site, in->bytes) < 0)
                    return -1;
            }
        }
    }
    return r->pending[t] == 0 ? task_run (r, t) : 0;
}

/* The dispatcher's name for task t's command: its `command`, else its name. */
static const char *task_command (const struct run *r, int64_t t, char *buf, size_t n)
{
    const struct stask *tk = &r->s->tasks[t];
    return tk->cmd >= 0 ? r->s->cmds[tk->cmd] : sim_task_name (r->s, t, buf, n);
}

/* The bytes task t reads (moved or local). */
static double task_bytes (const struct run *r, int64_t t)
{
    const struct stask *tk = &r->s->tasks[t];
    double b = 0;
    for (int k = 0; k < tk->nin; k++)
        b += (double)r->s->ins[tk->in_off + k].bytes;
    return b;
}

/* The dispatcher's runtime estimate of task t (the scheduler's, learned from
 * the runtimes of the tasks that ended so far). */
static double task_estimate (const struct run *r, int64_t t)
{
    char buf[PLACEMENT_NAME_MAX];
    return dispatch_runtime (r->disp, task_command (r, t, buf, sizeof (buf)), task_bytes (r, t),
                             r->s->tasks[t].walltime);
}

/* Start the queued tasks of site s that the dispatcher lets go (FIFO). */
static int site_pump (struct run *r, int s)
{
    int64_t t;
    while ((t = dispatch_next (r->disp, s, r->now)) >= 0)
        if (task_stage (r, t) < 0)
            return -1;
    return 0;
}

/* Task t goes to site s: it starts now or queues there, as the dispatcher
 * decides. */
static int site_enqueue (struct run *r, int s, int64_t t)
{
    r->tsite[t] = s;
    switch (dispatch_decide (r->disp, s, t, r->s->tasks[t].ranks, task_estimate (r, t), r->now)) {
    case DISPATCH_START:
        return task_stage (r, t);
    case DISPATCH_QUEUE:
        return 0;
    case DISPATCH_HOLD:
        break;
    }
    return -1;                  /* an open site with cores: only out of memory */
}

/* What placement sees of a site: the dispatcher's view. */
static void fed_update_site (struct run *r, int s)
{
    struct placement_site *ps = placement_fed_site (r->fed, s);
    dispatch_site_view (r->disp, s, r->now, &ps->cores_free, &ps->wait_s);
}

/* The task's inputs as placement sees them, in r->pin. */
void run_build_inputs (struct run *r, int64_t t, struct placement_task *pt)
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
    *pt = (struct placement_task){ .ranks = tk->ranks, .runtime_s = task_estimate (r, t),
                                   .pinned = tk->pin >= 0, .pin_site = tk->pin,
                                   .ninputs = tk->nin, .inputs = r->pin };
}

static int task_end (struct run *r, int64_t t)
{
    struct sim *s = r->s;
    const struct stask *tk = &s->tasks[t];
    int site = r->tsite[t];
    char buf[PLACEMENT_NAME_MAX];
    dispatch_forget (r->disp, t);
    /* what the scheduler measures: the time from running to completed */
    if (dispatch_observe (r->disp, task_command (r, t, buf, sizeof (buf)), task_bytes (r, t),
                          tk->runtime) < 0)
        return -1;
    r->res->tasks_done++;
    r->res->makespan_s = r->now;
    s->last_end[t] = r->now;
    int outpol = 0;
    if (r->central < 0 && tk->nout > 0) {
        struct placement_task pt;
        fs_policy_t p;
        run_build_inputs (r, t, &pt);
        policy_inherit (r->pin, tk->nin, &p);
        if ((outpol = scn_policy_intern (s, &p)) < 0)
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

static void run_free (struct run *r)
{
    if (r->link)
        for (size_t i = 0; i < (size_t)r->n * (size_t)r->n; i++)
            free (r->link[i].heap);
    dispatch_destroy (r->disp);
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
    r->disp = dispatch_create ();
    r->link = calloc (n * n, sizeof (*r->link));
    r->nrep = malloc (nd * sizeof (*r->nrep));
    r->dpol = malloc (nd * sizeof (*r->dpol));
    r->left = malloc (nt * sizeof (*r->left));
    r->pending = calloc (nt, sizeof (*r->pending));
    r->tsite = malloc (nt * sizeof (*r->tsite));
    r->tready = calloc (nt, sizeof (*r->tready));
    r->cand = calloc (n, sizeof (*r->cand));
    r->ceidx = strmap_create (1024);
    r->fed = placement_fed_create (DEF_BW, DEF_LAT);
    r->maxin = 1;
    for (int64_t t = 0; t < s->ntasks; t++)
        if (s->tasks[t].nin > r->maxin)
            r->maxin = s->tasks[t].nin;
    r->pin = calloc ((size_t)r->maxin, sizeof (*r->pin));
    if (!r->disp || !r->link || !r->nrep || !r->dpol || !r->left || !r->pending || !r->tsite
        || !r->tready || !r->cand || !r->ceidx || !r->fed || !r->pin)
        return -1;
    fs_error_t err;
    for (int i = 0; i < s->nsites; i++) {
        if (placement_fed_add_site (r->fed, s->sites[i].name, s->sites[i].region, &err) != i)
            return -1;
        struct placement_site *ps = placement_fed_site (r->fed, i);
        ps->cores = ps->cores_free = s->sites[i].cores;
        if (dispatch_site (r->disp, s->sites[i].name) != i)
            return -1;
        dispatch_site_set (r->disp, i, s->sites[i].cores, true);
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

int sim_run (struct sim *s, const char *strategy, struct sim_result *out, fs_error_t *err)
{
    const struct strategy *st = run_strategy_find (strategy);
    if (!st)
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
    if (st->init_f && st->init_f (&r) < 0)
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

