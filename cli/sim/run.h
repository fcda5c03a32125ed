/* run.h - inside the simulator: one run of a scenario under a strategy.
 *
 * engine.c owns the run (events, links, transfers, site queues, the cache);
 * strategy.c holds the strategies, which read the run and call back into the
 * engine through the run_* functions below.  Not for use outside cli/sim/.
 */
#ifndef FS_SIM_RUN_H
#define FS_SIM_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "scenario.h"
#include "scheduler/placement.h"

enum ev_kind { EV_TASK_END, EV_XFER_JOIN, EV_LINK };

struct ev {
    double t;
    uint64_t seq;               /* FIFO among equal times: deterministic */
    int kind;
    uint32_t ver;
    int64_t a;
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

struct run {
    struct sim *s;
    const struct strategy *st;
    int n;                      /* sites */
    double now;
    uint64_t seq, rng;
    struct ev *ev;
    int64_t nev, capev;
    struct dispatch *disp;      /* cores, queues, runtime estimates: the scheduler's */
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
    double *tready;
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

struct strategy {
    const char *name;
    const char *summary;
    bool live_state;            /* placement needs cores_free and wait_s */
    bool central;               /* one site gets every core (init_f picks it) */
    int (*init_f) (struct run *r);                    /* before the first event; may be NULL */
    int (*choose_f) (struct run *r, int64_t t);       /* a site, or -1: none eligible */
};

/* The strategy called name, or NULL. */
const struct strategy *run_strategy_find (const char *name);

/* Engine services for the strategies. */
/* Task t's inputs as placement sees them now (in r->pin), and the task. */
void run_build_inputs (struct run *r, int64_t t, struct placement_task *pt);
/* Has dataset d a replica at site now? */
bool run_has_replica (const struct run *r, int64_t d, int site);
/* Start a transfer of bytes from src to dst for cache entry entry (-1: a
 * centralised copy, counted in r->copies_left).  -1 out of memory. */
int run_xfer_start (struct run *r, int64_t entry, int src, int dst, uint64_t bytes);

#endif
