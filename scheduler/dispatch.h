/* dispatch.h - the dispatcher: what a task is expected to take, what a busy
 * site makes a newcomer wait, and whether a placed task starts now, queues at
 * its site or is held.  One module for the scheduler (scheduler/jobs.c) and
 * the simulator (`fedsched sim`, cli/sim/), so the simulator runs the
 * dispatcher that runs.  Pure computation, like placement.c: no I/O, no
 * clock (callers pass `now`, wall-clock or simulated seconds).
 *
 * Runtime estimate of a task running command C (its argv as written, with the
 * placeholders) over b input bytes, with walltime w:
 *
 *     R, B  = exponentially weighted averages (weight DISPATCH_ALPHA for each
 *             new sample, the first taken as is) of the measured runtimes of
 *             C's completed tasks and of their input bytes;
 *     est   = R x (1 + b / B) / 2      when B > 0: half of the time taken as
 *                                      fixed (start-up, launch, outputs), half
 *                                      as growing with the bytes read
 *           = R                        when B = 0;
 *     before C's first measurement, the same over every command's samples
 *     (the federation-wide R and B), and before any at all DISPATCH_PRIOR_S;
 *     at most w (w > 0).
 *
 * Wait at a site for a newcomer: its cores are free for it only when no task
 * queues there (FIFO: nobody overtakes); otherwise it waits
 *
 *     ( sum over the tasks holding cores of ranks x (estimated end - now)
 *     + sum over the queued tasks of ranks x estimate ) / cores.
 *
 * Decision for a task placement put at site s: START when s has `ranks` free
 * cores and nobody queues there (the task holds its cores from now until it
 * is forgotten); QUEUE at s otherwise (it starts, in FIFO order, once it
 * heads s's queue and its ranks are free: dispatch_next()); HOLD when
 * placement found no site for now (nothing recorded; the caller places it
 * again later).  Queued tasks count in s's wait from the moment they queue.
 *
 * Sites and tasks: sites are numbered 0..n-1 in the order they are named
 * (dispatch_site()); tasks are the caller's int64_t keys.
 */
#ifndef FS_DISPATCH_H
#define FS_DISPATCH_H

#include <stdbool.h>
#include <stdint.h>

#define DISPATCH_ALPHA 0.3          /* weight of a new runtime sample */
#define DISPATCH_PRIOR_S 60.0       /* the estimate before any measurement */

struct dispatch;

/* NULL when memory runs out.  Caller frees with dispatch_destroy(). */
struct dispatch *dispatch_create (void);
void dispatch_destroy (struct dispatch *d);     /* accepts NULL */

/* ---- runtimes ------------------------------------------------------------ */

struct dispatch_stats {
    double runtime_s;           /* R: weighted average runtime */
    double bytes;               /* B: weighted average input bytes */
    unsigned samples;
};

/* A task of command (a non-empty string, borrowed for the call) read bytes
 * and ran runtime_s; it counts for command and for the federation-wide
 * average.  Samples that are negative or not finite are ignored.  -1 when
 * memory runs out. */
int dispatch_observe (struct dispatch *d, const char *command, double bytes, double runtime_s);
/* Put back what was learned before (a scheduler restart).  The command ""
 * stands for the federation-wide average (also in dispatch_stats_of()).  -1
 * when memory runs out or st is not sane (no samples, negative or not finite
 * values). */
int dispatch_restore (struct dispatch *d, const char *command, const struct dispatch_stats *st);
/* What is known of command: 1 (out filled) or 0. */
int dispatch_stats_of (const struct dispatch *d, const char *command, struct dispatch_stats *out);
/* The estimate above, in seconds (> 0). */
double dispatch_runtime (const struct dispatch *d, const char *command, double bytes,
                         double walltime_s);

/* ---- sites ---------------------------------------------------------------- */

/* The index of the site called name, added (no cores, taking work) when new;
 * -1 when memory runs out. */
int dispatch_site (struct dispatch *d, const char *name);
/* The site's cores, and whether it takes work now (up and not drained).  A
 * site that stops taking work drops its queue: those tasks are no longer
 * queued (the caller places them again). */
void dispatch_site_set (struct dispatch *d, int site, int cores, bool open);
/* What placement sees of the site for a newcomer at now: *cores_free (0 while
 * tasks queue there) and *wait_s (above). */
void dispatch_site_view (const struct dispatch *d, int site, double now, int *cores_free,
                         double *wait_s);
/* Ranks of the tasks queued or holding cores at the site. */
int64_t dispatch_site_claimed (const struct dispatch *d, int site);
/* Tasks queued at the site. */
int64_t dispatch_site_queued (const struct dispatch *d, int site);

/* ---- tasks ------------------------------------------------------------------ */

enum dispatch_action { DISPATCH_START, DISPATCH_QUEUE, DISPATCH_HOLD };

/* The decision (above) for task key with ranks and runtime estimate est_s,
 * placed at site (-1: placement found none for now), at now; recorded at
 * once (START: holding cores until now + est_s; QUEUE: at the queue's end).
 * A key already known is forgotten first.  HOLD also when memory runs out. */
enum dispatch_action dispatch_decide (struct dispatch *d, int site, int64_t key, int ranks,
                                      double est_s, double now);
/* The next queued task that starts at site now: the queue's head when its
 * ranks are free, recorded as holding cores from now on; -1 when none. */
int64_t dispatch_next (struct dispatch *d, int site, double now);
/* A task found holding cores (a scheduler restart): since start, for est_s.
 * -1 when memory runs out. */
int dispatch_running (struct dispatch *d, int site, int64_t key, int ranks, double start,
                      double est_s);
/* The task left its queue or ended (completed, failed, cancelled, lost): its
 * cores are free again.  Unknown keys are ignored. */
void dispatch_forget (struct dispatch *d, int64_t key);
/* Is the task queued?  *site (may be NULL) gets where. */
bool dispatch_is_queued (const struct dispatch *d, int64_t key, int *site);

#endif
