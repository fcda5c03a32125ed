/* sim.h - the federation simulator behind `fedsched sim` (docs/sim.md).
 *
 * A discrete-event simulation of a federation described in YAML: a clock,
 * sites with cores and FIFO queues, links whose bandwidth concurrent
 * transfers share fairly, datasets with replicas and policies, and a DAG of
 * tasks.  No processes, no sockets, no files besides the scenario: tasks and
 * transfers are events on a binary heap.  Ready tasks are placed by a
 * strategy; `fedsched` calls the scheduler's own placement_decide() with the
 * live state, the others are the baselines of the headline comparison
 * (centralised, random, greedy).
 *
 * A scenario is loaded once (sim_load_file) and can be run any number of
 * times with any strategy; each run starts from the same initial state and
 * is deterministic for the scenario's seed.
 *
 * The library (cli/sim/, used by the `sim` verb alone): scenario.c (the
 * model, loading), explicit.c (scenario files that list everything; links
 * through common/config.c's parser), generate.c (`generate:`), engine.c (the
 * event engine), strategy.c (the strategies).
 */
#ifndef FS_SIM_H
#define FS_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

struct sim;

/* Command-line overrides of a scenario (-1: keep the file's value).  sites,
 * datasets and tasks apply to generated scenarios only (FS_EINVAL
 * otherwise); seed applies to both (the random strategy's seed, and the
 * generator's). */
struct sim_opts {
    int64_t seed;
    int64_t sites;
    int64_t datasets;
    int64_t tasks;
};
#define SIM_OPTS_NONE { -1, -1, -1, -1 }

/* Load a scenario file: errors are FS_EINVAL "FILE:LINE:COL: message"
 * (FS_EFAIL when it can't be read or memory runs out).  opts may be NULL.
 * Caller frees with sim_destroy(). */
struct sim *sim_load_file (const char *file, const struct sim_opts *opts, fs_error_t *err);
/* The same from memory; name stands for FILE in messages. */
struct sim *sim_load_string (const char *name, const char *text, size_t len,
                             const struct sim_opts *opts, fs_error_t *err);
void sim_destroy (struct sim *s);       /* accepts NULL */

struct sim_info {
    const char *name;           /* borrowed, valid until sim_destroy() */
    bool generated;
    uint64_t seed;
    int sites, regions;
    int64_t cores;              /* the federation's total */
    int64_t datasets;           /* given or generated (task outputs not counted) */
    int64_t tasks;
    int64_t inputs;             /* task inputs, all tasks */
    uint64_t dataset_bytes;     /* sum of the datasets' sizes (one replica each) */
};
void sim_info (const struct sim *s, struct sim_info *out);

/* The strategies, in report order: "fedsched", "centralised", "random",
 * "greedy"; NULL-terminated, static. */
const char *const *sim_strategies (void);
/* A one-line description of a strategy, or NULL for an unknown name. */
const char *sim_strategy_summary (const char *name);

struct sim_result {
    char strategy[16];
    double makespan_s;          /* simulated time when the last task ended */
    uint64_t wan_bytes;         /* bytes that crossed between two different sites */
    uint64_t transfers;         /* transfers between sites */
    int64_t tasks_placed;       /* given a site */
    int64_t tasks_done;
    int64_t tasks_unplaceable;  /* no eligible site (and so their descendants never ran) */
    int64_t decisions;          /* calls to the strategy */
    double decide_s;            /* wall time spent inside them */
    double wall_s;              /* wall time of the whole run */
    double cpu_s;               /* process CPU time of the whole run */
    int central_site;           /* centralised: the chosen site's index; else -1 */
    const char *central_name;   /* centralised: its name (borrowed); else NULL */
    double copy_s;              /* centralised: simulated time of the copy phase */
    uint64_t copy_bytes;        /* centralised: bytes copied before any task ran */
    double mean_wait_s;         /* mean time from ready to running (queue + staging) */
};

/* Run the scenario with one strategy (a name from sim_strategies()).  -1 with
 * FS_EINVAL for an unknown strategy, FS_EFAIL when memory runs out. */
int sim_run (struct sim *s, const char *strategy, struct sim_result *out, fs_error_t *err);

/* The tasks in scenario order: their number, and task i's name into buf
 * (generated tasks are "t<i>"); returns buf. */
int64_t sim_task_count (const struct sim *s);
const char *sim_task_name (const struct sim *s, int64_t i, char *buf, size_t n);
/* Where task i ran in the last sim_run() of s: the site's name (borrowed),
 * or NULL (not placed, no run yet). */
const char *sim_task_site_at (const struct sim *s, int64_t i);
/* The same by task name (NULL also for an unknown task); for tests. */
const char *sim_task_site (const struct sim *s, const char *task);
/* When it ended in the last run (-1: it did not). */
double sim_task_end (const struct sim *s, const char *task);

#endif
