/* jobs.h - the scheduler's job manager (SPEC sections 3-6, 8).
 *
 * Jobs and tasks live in memory and in the store (every change is written in
 * the event-loop turn that made it; a submit is acknowledged only after its
 * commit).  Each turn, jobs_tick() places READY tasks with the placement
 * engine and sends them to their sites; sites report back with task.update.
 * Updates from an older attempt of a task (a site declared lost, a task
 * re-placed) are fenced off by the attempt number.
 */
#ifndef FS_JOBS_H
#define FS_JOBS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/config.h"
#include "common/error.h"
#include "common/zsock.h"
#include "registry.h"
#include "store.h"

struct jobs;

/* Send m to a site (takes m); -1 when the site can't be reached now. */
typedef int (*jobs_send_f) (void *arg, const char *site, struct zmsg *m);

/* Loads every job from the store.  Borrowed: st, reg, cfg. */
struct jobs *jobs_create (struct store *st, struct registry *reg, const struct fed_config *cfg,
                          jobs_send_f send, void *arg, fs_error_t *err);
void jobs_destroy (struct jobs *j);     /* accepts NULL */

/* Client requests: a reply body (new reference) or NULL with err.  A job
 * file refused (validate, submit) also gives every one of its errors, one per
 * line, in *errors (caller frees; err holds only the first kilobyte); else
 * *errors is NULL. */
json_t *jobs_validate (struct jobs *j, const char *file, const char *text, char **errors,
                       fs_error_t *err);
/* Group commit: jobs_submit_defer() validates and queues a submit (FS_EINVAL
 * errors come back at once); jobs_submit_flush() writes every queued job in
 * one durable transaction and then calls done(arg, ctx, body or NULL, err)
 * for each, in order.  ctx is the caller's, handed back. */
typedef void (*jobs_done_f) (void *arg, void *ctx, json_t *body, const fs_error_t *err);
/* token (NULL: none) makes the submit idempotent: a token already committed
 * (or queued in this turn) is answered with its job, not a new one.  A
 * refused job file gives every error in *errors, as jobs_validate(). */
int jobs_submit_defer (struct jobs *j, const char *file, const char *text, const char *token,
                       void *ctx, char **errors, fs_error_t *err);
void jobs_submit_flush (struct jobs *j, jobs_done_f done, void *arg);
json_t *jobs_list (struct jobs *j, bool all);
json_t *jobs_status (struct jobs *j, int64_t id, fs_error_t *err);
/* token (NULL: none): the answer is kept with it (jobs_commit). */
json_t *jobs_cancel (struct jobs *j, int64_t id, const char *token, fs_error_t *err);
json_t *jobs_links (struct jobs *j);
/* Where the logs of (id, task) are: the site, and the body to forward. */
int jobs_logs_site (struct jobs *j, int64_t id, const char *task, char *site, size_t sitesz,
                    json_t **fwd, fs_error_t *err);

/* A site said hello with its account of its tasks ([{job, task, attempt, state,
 * update?}], see executor_hello). */
void jobs_site_hello (struct jobs *j, const char *site, const json_t *tasks);
/* Write what changed (and send what waited for it) now: before answering a
 * request whose answer promises it is on disk (task.update, site.hello). */
void jobs_commit (struct jobs *j);
/* A site's task.update. */
int jobs_task_update (struct jobs *j, const char *site, const json_t *body, fs_error_t *err);
/* Place ready tasks, notice lost sites, write what changed. */
void jobs_tick (struct jobs *j, double now);
/* Running tasks and the cores they hold at a site (for sites --json). */
void jobs_site_usage (struct jobs *j, const char *site, int *running, int *cores_used);

#endif
