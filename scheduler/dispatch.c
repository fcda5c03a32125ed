/* dispatch.c - the dispatcher (see dispatch.h).
 *
 * Tasks the dispatcher knows are records in one array (free slots reused),
 * found by key through a string map of the key's bytes.  A record is QUEUED
 * (in its site's FIFO ring) or RUNNING (holding cores).  A ring slot names a
 * record and the record's generation at the time it queued, so a record that
 * left the queue early (forgotten, its site closed) and was reused is
 * skipped, not started twice.  Each site keeps the sums its wait needs:
 * ranks x estimated end over the running tasks, ranks x estimate over the
 * queued ones, so a view is O(1).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/strmap.h"
#include "dispatch.h"

enum rstate { R_FREE, R_QUEUED, R_RUNNING };

struct rec {
    int64_t key;
    enum rstate state;
    uint32_t gen;
    int site;
    int ranks;
    double est, end;            /* end: RUNNING only */
    int64_t next_free;
};

struct slot {
    int64_t rec;
    uint32_t gen;
};

struct dsite {
    int cores;
    bool open;
    int64_t running_ranks;
    double busy_end_cs;         /* sum of ranks x end over RUNNING */
    int64_t queued_ranks;
    double queued_cs;           /* sum of ranks x est over QUEUED */
    int64_t nqueued;            /* live entries in the ring */
    struct slot *q;             /* FIFO ring (live and stale entries) */
    int64_t qhead, qlen, qcap;
};

struct dispatch {
    struct dsite *sites;
    int nsites, capsites;
    struct strmap *site_idx;
    struct rec *recs;
    int64_t nrecs, caprecs, free_head;
    struct strmap *rec_idx;     /* key bytes -> record */
    struct dispatch_stats *cmds;
    int64_t ncmds, capcmds;
    struct strmap *cmd_idx;     /* command -> index into cmds */
    struct dispatch_stats all;  /* the federation-wide average */
};

struct dispatch *dispatch_create (void)
{
    struct dispatch *d = calloc (1, sizeof (*d));
    if (!d)
        return NULL;
    d->free_head = -1;
    if (!(d->site_idx = strmap_create (0)) || !(d->rec_idx = strmap_create (0))
        || !(d->cmd_idx = strmap_create (0))) {
        dispatch_destroy (d);
        return NULL;
    }
    return d;
}

void dispatch_destroy (struct dispatch *d)
{
    if (!d)
        return;
    for (int i = 0; i < d->nsites; i++)
        free (d->sites[i].q);
    free (d->sites);
    free (d->recs);
    free (d->cmds);
    strmap_destroy (d->site_idx);
    strmap_destroy (d->rec_idx);
    strmap_destroy (d->cmd_idx);
    free (d);
}

/* ---- runtimes ------------------------------------------------------------ */

static void fold (struct dispatch_stats *s, double bytes, double runtime_s)
{
    if (s->samples == 0) {
        s->runtime_s = runtime_s;
        s->bytes = bytes;
    } else {
        s->runtime_s += DISPATCH_ALPHA * (runtime_s - s->runtime_s);
        s->bytes += DISPATCH_ALPHA * (bytes - s->bytes);
    }
    if (s->samples < UINT32_MAX)
        s->samples++;
}

/* The stats of command, added empty when new (NULL: out of memory). */
static struct dispatch_stats *cmd_of (struct dispatch *d, const char *command)
{
    int64_t i = strmap_get (d->cmd_idx, command);
    if (i >= 0)
        return &d->cmds[i];
    if (d->ncmds == d->capcmds) {
        int64_t cap = d->capcmds ? 2 * d->capcmds : 16;
        struct dispatch_stats *c = realloc (d->cmds, (size_t)cap * sizeof (*c));
        if (!c)
            return NULL;
        d->cmds = c;
        d->capcmds = cap;
    }
    if (strmap_put (d->cmd_idx, command, d->ncmds) < 0)
        return NULL;
    d->cmds[d->ncmds] = (struct dispatch_stats){ 0 };
    return &d->cmds[d->ncmds++];
}

int dispatch_observe (struct dispatch *d, const char *command, double bytes, double runtime_s)
{
    if (!(runtime_s >= 0) || !isfinite (runtime_s) || !(bytes >= 0) || !isfinite (bytes))
        return 0;
    struct dispatch_stats *s = command[0] ? cmd_of (d, command) : NULL;
    if (command[0] && !s)
        return -1;
    if (s)
        fold (s, bytes, runtime_s);
    fold (&d->all, bytes, runtime_s);
    return 0;
}

int dispatch_restore (struct dispatch *d, const char *command, const struct dispatch_stats *st)
{
    if (!st->samples || !(st->runtime_s >= 0) || !isfinite (st->runtime_s) || !(st->bytes >= 0)
        || !isfinite (st->bytes))
        return -1;
    struct dispatch_stats *s = command[0] ? cmd_of (d, command) : &d->all;
    if (!s)
        return -1;
    *s = *st;
    return 0;
}

int dispatch_stats_of (const struct dispatch *d, const char *command, struct dispatch_stats *out)
{
    const struct dispatch_stats *s = &d->all;
    if (command[0]) {
        int64_t i = strmap_get (d->cmd_idx, command);
        s = i >= 0 ? &d->cmds[i] : NULL;
    }
    if (!s || !s->samples)
        return 0;
    *out = *s;
    return 1;
}

double dispatch_runtime (const struct dispatch *d, const char *command, double bytes,
                         double walltime_s)
{
    int64_t i = strmap_get (d->cmd_idx, command);
    const struct dispatch_stats *s = i >= 0 && d->cmds[i].samples ? &d->cmds[i]
                                     : d->all.samples ? &d->all : NULL;
    double est = DISPATCH_PRIOR_S;
    if (s)
        est = s->bytes > 0 ? s->runtime_s * (1 + (bytes > 0 ? bytes : 0) / s->bytes) / 2
                           : s->runtime_s;
    if (walltime_s > 0 && est > walltime_s)
        est = walltime_s;
    return est > 1e-3 ? est : 1e-3;     /* never 0: a task takes some time */
}

/* ---- sites ----------------------------------------------------------------- */

int dispatch_site (struct dispatch *d, const char *name)
{
    int64_t i = strmap_get (d->site_idx, name);
    if (i >= 0)
        return (int)i;
    if (d->nsites == d->capsites) {
        int cap = d->capsites ? 2 * d->capsites : 16;
        struct dsite *s = realloc (d->sites, (size_t)cap * sizeof (*s));
        if (!s)
            return -1;
        d->sites = s;
        d->capsites = cap;
    }
    if (strmap_put (d->site_idx, name, d->nsites) < 0)
        return -1;
    d->sites[d->nsites] = (struct dsite){ .open = true };
    return d->nsites++;
}

static bool good_site (const struct dispatch *d, int site)
{
    return site >= 0 && site < d->nsites;
}

/* ---- task records -------------------------------------------------------------- */

static struct rec *rec_find (const struct dispatch *d, int64_t key)
{
    int64_t i = strmap_getn (d->rec_idx, &key, sizeof (key));
    return i >= 0 ? &d->recs[i] : NULL;
}

static struct rec *rec_new (struct dispatch *d, int64_t key, int site, int ranks, double est)
{
    int64_t i = d->free_head;
    if (i < 0) {
        if (d->nrecs == d->caprecs) {
            int64_t cap = d->caprecs ? 2 * d->caprecs : 64;
            struct rec *r = realloc (d->recs, (size_t)cap * sizeof (*r));
            if (!r)
                return NULL;
            d->recs = r;
            d->caprecs = cap;
        }
        i = d->nrecs;
        d->recs[i] = (struct rec){ .state = R_FREE };
    }
    if (strmap_putn (d->rec_idx, &key, sizeof (key), i) < 0)
        return NULL;
    if (i == d->free_head)
        d->free_head = d->recs[i].next_free;
    else
        d->nrecs++;
    struct rec *r = &d->recs[i];
    uint32_t gen = r->gen + 1;
    *r = (struct rec){ .key = key, .gen = gen, .site = site, .ranks = ranks, .est = est };
    return r;
}

static void rec_free (struct dispatch *d, struct rec *r)
{
    strmap_remove (d->rec_idx, &r->key, sizeof (r->key));
    r->state = R_FREE;
    r->next_free = d->free_head;
    d->free_head = r - d->recs;
}

static void run_add (struct dispatch *d, struct rec *r, double start)
{
    struct dsite *s = &d->sites[r->site];
    r->state = R_RUNNING;
    r->end = start + r->est;
    s->running_ranks += r->ranks;
    s->busy_end_cs += r->ranks * r->end;
}

static void run_remove (struct dispatch *d, struct rec *r)
{
    struct dsite *s = &d->sites[r->site];
    s->running_ranks -= r->ranks;
    s->busy_end_cs -= r->ranks * r->end;
    if (s->running_ranks == 0)
        s->busy_end_cs = 0;     /* no drift */
}

static void queue_remove (struct dispatch *d, struct rec *r)
{
    struct dsite *s = &d->sites[r->site];
    s->nqueued--;
    s->queued_ranks -= r->ranks;
    s->queued_cs -= r->ranks * r->est;
    if (s->nqueued == 0) {
        s->queued_cs = 0;
        s->qlen = 0;            /* only stale entries left */
        s->qhead = 0;
    }
}

static int queue_push (struct dispatch *d, struct rec *r)
{
    struct dsite *s = &d->sites[r->site];
    if (s->qlen == s->qcap) {
        int64_t cap = s->qcap ? 2 * s->qcap : 16;
        struct slot *q = malloc ((size_t)cap * sizeof (*q));
        if (!q)
            return -1;
        for (int64_t i = 0; i < s->qlen; i++)
            q[i] = s->q[(s->qhead + i) % s->qcap];
        free (s->q);
        s->q = q;
        s->qcap = cap;
        s->qhead = 0;
    }
    s->q[(s->qhead + s->qlen) % s->qcap] = (struct slot){ r - d->recs, r->gen };
    s->qlen++;
    r->state = R_QUEUED;
    s->nqueued++;
    s->queued_ranks += r->ranks;
    s->queued_cs += r->ranks * r->est;
    return 0;
}

/* The live record a ring slot names, or NULL when it is stale. */
static struct rec *slot_rec (struct dispatch *d, int site, const struct slot *sl)
{
    struct rec *r = &d->recs[sl->rec];
    return r->state == R_QUEUED && r->gen == sl->gen && r->site == site ? r : NULL;
}

void dispatch_forget (struct dispatch *d, int64_t key)
{
    struct rec *r = rec_find (d, key);
    if (!r)
        return;
    if (r->state == R_RUNNING)
        run_remove (d, r);
    else if (r->state == R_QUEUED)
        queue_remove (d, r);
    rec_free (d, r);
}

void dispatch_site_set (struct dispatch *d, int site, int cores, bool open)
{
    if (!good_site (d, site))
        return;
    struct dsite *s = &d->sites[site];
    s->cores = cores > 0 ? cores : 0;
    s->open = open;
    if (open)
        return;
    while (s->qlen > 0) {
        struct slot sl = s->q[s->qhead];
        s->qhead = (s->qhead + 1) % s->qcap;
        s->qlen--;
        struct rec *r = slot_rec (d, site, &sl);
        if (r) {
            queue_remove (d, r);
            rec_free (d, r);
        }
    }
}

static int cores_free (const struct dsite *s)
{
    int64_t f = s->cores - s->running_ranks;
    return f > 0 ? (int)f : 0;
}

void dispatch_site_view (const struct dispatch *d, int site, double now, int *cores_free_out,
                         double *wait_s)
{
    *cores_free_out = 0;
    *wait_s = 0;
    if (!good_site (d, site))
        return;
    const struct dsite *s = &d->sites[site];
    double busy = s->busy_end_cs - now * (double)s->running_ranks;
    *cores_free_out = s->nqueued > 0 ? 0 : cores_free (s);
    *wait_s = ((busy > 0 ? busy : 0) + s->queued_cs) / (s->cores > 0 ? s->cores : 1);
}

int64_t dispatch_site_claimed (const struct dispatch *d, int site)
{
    return good_site (d, site) ? d->sites[site].running_ranks + d->sites[site].queued_ranks : 0;
}

int64_t dispatch_site_queued (const struct dispatch *d, int site)
{
    return good_site (d, site) ? d->sites[site].nqueued : 0;
}

/* ---- decisions ---------------------------------------------------------------- */

enum dispatch_action dispatch_decide (struct dispatch *d, int site, int64_t key, int ranks,
                                      double est_s, double now)
{
    dispatch_forget (d, key);
    if (!good_site (d, site) || !d->sites[site].open)
        return DISPATCH_HOLD;
    struct dsite *s = &d->sites[site];
    if (ranks < 1)
        ranks = 1;
    struct rec *r = rec_new (d, key, site, ranks, est_s);
    if (!r)
        return DISPATCH_HOLD;
    if (s->nqueued == 0 && cores_free (s) >= ranks) {
        run_add (d, r, now);
        return DISPATCH_START;
    }
    if (queue_push (d, r) < 0) {
        rec_free (d, r);
        return DISPATCH_HOLD;
    }
    return DISPATCH_QUEUE;
}

int64_t dispatch_next (struct dispatch *d, int site, double now)
{
    if (!good_site (d, site))
        return -1;
    struct dsite *s = &d->sites[site];
    while (s->qlen > 0) {
        struct rec *r = slot_rec (d, site, &s->q[s->qhead]);
        if (r && r->ranks > cores_free (s))
            return -1;
        s->qhead = (s->qhead + 1) % s->qcap;
        s->qlen--;
        if (!r)
            continue;           /* stale: left the queue earlier */
        queue_remove (d, r);
        run_add (d, r, now);
        return r->key;
    }
    return -1;
}

int dispatch_running (struct dispatch *d, int site, int64_t key, int ranks, double start,
                      double est_s)
{
    dispatch_forget (d, key);
    if (!good_site (d, site))
        return -1;
    struct rec *r = rec_new (d, key, site, ranks < 1 ? 1 : ranks, est_s);
    if (!r)
        return -1;
    run_add (d, r, start);
    return 0;
}

bool dispatch_is_queued (const struct dispatch *d, int64_t key, int *site)
{
    const struct rec *r = rec_find (d, key);
    if (!r || r->state != R_QUEUED)
        return false;
    if (site)
        *site = r->site;
    return true;
}
