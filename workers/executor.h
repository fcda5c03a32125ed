/* executor.h - running tasks at a site (SPEC sections 4, 5, 7).
 *
 * task.start from the scheduler -> STAGING: each input is made local in the
 * stage pool (a local whole dataset is used where it is; anything else is
 * streamed through the data plane into the site cache, keyed by dataset,
 * version, selection and reduction, and reused) -> RUNNING: the command, its
 * placeholders expanded, under the site's launcher -> on exit 0 the outputs
 * are checked, served by this site and registered; otherwise FAILED with the
 * exit code.  Every change goes to the scheduler as task.update.  A task's
 * stdout and stderr stay in the site's state directory for `fedsched logs`.
 */
#ifndef FS_EXECUTOR_H
#define FS_EXECUTOR_H

#include <jansson.h>
#include <stdint.h>

#include "common/config.h"
#include "common/msg.h"
#include "holdings.h"
#include "iopool.h"

struct executor;

/* Send a request (op, body stolen) to the scheduler; returns its id (for
 * executor_acked). */
typedef int64_t (*executor_send_f) (void *arg, const char *op, json_t *body);

/* cfg, holdings and pool (the stage pool, whose results come back to the
 * event loop as frame 'X' + JSON, for executor_result) are borrowed. */
/* cores: what the site announces (site.yaml may raise it to emulate a bigger
 * site); node_cores: what this node really has (MPI runs above it are
 * oversubscribed). */
struct executor *executor_create (const struct site_config *cfg, int cores, int node_cores,
                                  struct holdings *holdings, struct iopool *pool,
                                  executor_send_f send, void *arg);
/* The site's apps (borrowed, outlive ex): what an app's task runs, inside
 * which sandbox.  Set before the first task.start; without them a task that
 * names an app fails. */
struct appstore;
struct appcache;
void executor_set_apps (struct executor *ex, struct appstore *apps, struct appcache *cache);
/* Accepts NULL.  Tasks still running run on (under their monitors): the next
 * worker adopts them from the journal. */
void executor_destroy (struct executor *ex);

int executor_start (struct executor *ex, const struct msg *m, fs_error_t *err);
int executor_kill (struct executor *ex, const json_t *body, fs_error_t *err);
json_t *executor_logs (struct executor *ex, const json_t *body, fs_error_t *err);
/* A stage-pool job finished (the JSON after the 'X' frame). */
void executor_result (struct executor *ex, const char *json, size_t len);
/* Poll running tasks; call often (every few tens of ms). */
void executor_tick (struct executor *ex);
/* The site's account of its tasks for a hello: [{job, task, attempt, state:
 * "staging"|"running"|"ended", update?: the final task.update of an ended
 * one}].  *gen names this hello for executor_hello_ok(). */
json_t *executor_hello (struct executor *ex, unsigned *gen);
/* The scheduler answered hello gen: it has every result that hello carried;
 * tasks recovered before their launch are staged now. */
void executor_hello_ok (struct executor *ex, unsigned gen);
/* The scheduler answered the task.update sent with request id. */
void executor_acked (struct executor *ex, int64_t id);
/* Tasks staging, running or finishing, and the cores they hold. */
int executor_running (struct executor *ex);
int executor_cores_used (struct executor *ex);
/* A batch site's queue as its launcher last saw it (launch.h): 0 with *q, -1
 * when the launcher has no queue (mpirun, local). */
struct launch_queue;
int executor_queue (struct executor *ex, struct launch_queue *q);

#endif
