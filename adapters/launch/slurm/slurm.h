/* slurm.h - the Slurm launcher's parts (internal to adapters/launch/slurm/).
 *
 * One batch job per task attempt.  The worker writes a batch script into the
 * task's directory and submits it with `sbatch --parsable`; the script starts
 * the ranks (`srun --mpi=pmix` or `mpirun`, site.yaml slurm.mpi) and, as its
 * last act, writes the job's own exit status into the task's directory
 * (atomically: a temporary file renamed over).  A tracker (slurm_track.c)
 * owns every job of the site: it runs all Slurm commands on a thread of its
 * own, never on the worker's event loop, and asks about all the jobs at once:
 * per poll ONE `squeue` of the site's partition (its own jobs in every state,
 * and the queue ahead of them), ONE `sacct` for those that left squeue where
 * the cluster keeps accounting, and `scontrol show job` for a job that ended
 * without writing its exit status.  A job that left squeue is settled by
 * sacct or its exit-status file, never assumed to have completed.
 *
 * This header holds what is pure (parsing of the commands' output, the state
 * mapping, the script and the sbatch command line: unit-tested with recorded
 * output in tests/unit/test_slurm.c), the command runner, and the tracker.
 */
#ifndef FS_LAUNCH_SLURM_H
#define FS_LAUNCH_SLURM_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

/* --- states -------------------------------------------------------------- */

/* What a Slurm job state means to fedsched.  Slurm's own name is kept beside
 * it (status, explain and --json show both). */
enum slurm_kind {
    SK_UNKNOWN = 0,     /* not listed, or a state this table does not know */
    SK_PENDING,         /* PENDING, REQUEUED, ... (squeue's reason says why) */
    SK_RUNNING,         /* RUNNING, CONFIGURING, COMPLETING, SUSPENDED, ... */
    SK_COMPLETED,       /* COMPLETED: the batch script exited 0 */
    SK_FAILED,          /* FAILED: non-zero exit (the task's own failure) */
    SK_TIMEOUT,         /* TIMEOUT, DEADLINE: its walltime ran out */
    SK_OOM,             /* OUT_OF_MEMORY */
    SK_NODE_FAIL,       /* NODE_FAIL, BOOT_FAIL: the site's failure */
    SK_PREEMPTED,       /* PREEMPTED: the site's failure */
    SK_CANCELLED,       /* CANCELLED (scancel, by fedsched or anyone), REVOKED */
};

/* The kind of a state as squeue (%T, long, or %t, short), sacct ("CANCELLED
 * by 0") or scontrol print it.  Unknown strings give SK_UNKNOWN. */
enum slurm_kind slurm_state_kind (const char *state);
/* The job has ended (its record is final). */
bool slurm_kind_ended (enum slurm_kind k);
/* An end that is the site's fault, not the task's (node failure, preemption):
 * the task is placed again without using up its retries. */
bool slurm_kind_site_failure (enum slurm_kind k);
/* "pending", "running", "completed", "failed", "timeout", "out of memory",
 * "node failure", "preempted", "cancelled", "unknown". */
const char *slurm_kind_name (enum slurm_kind k);

/* --- what Slurm says about a job ----------------------------------------- */

#define SLURM_ID_MAX 32
#define SLURM_NAME_MAX 200

struct slurm_job_info {
    char id[SLURM_ID_MAX];          /* "1234" */
    char name[SLURM_NAME_MAX];      /* the job name (--job-name) */
    char state[32];                 /* Slurm's state name: PENDING, NODE_FAIL, ... */
    char reason[128];               /* Slurm's reason: Priority, Resources, None, ... */
    enum slurm_kind kind;
    double start;                   /* epoch seconds: its start, or the expected start
                                       of a pending job (0: unknown) */
    int cpus;                       /* CPUs asked or allocated; 0: unknown */
    bool has_exit;                  /* exit_code/exit_signal are known (sacct, scontrol) */
    int exit_code;                  /* the batch script's exit status */
    int exit_signal;                /* signal that ended it, 0 if none */
};

/* The squeue format slurm_parse_squeue reads (the name last: it may hold '|'). */
#define SLURM_SQUEUE_FORMAT "%i|%T|%r|%S|%C|%j"
/* sacct -P -o fields slurm_parse_sacct reads (JobName last, as above). */
#define SLURM_SACCT_FIELDS "JobIDRaw,State,ExitCode,Reason,Start,JobName"

/* Parse `squeue -h -o SLURM_SQUEUE_FORMAT` (or sacct -n -P -o SLURM_SACCT_FIELDS)
 * output: *jobs (caller frees with free()) gets *n entries.  Lines that are
 * not a job (sacct's steps "123.batch", blank lines) are skipped; a line that
 * does not have the fields is an error (FS_EFAIL, with the line). */
int slurm_parse_squeue (const char *text, struct slurm_job_info **jobs, size_t *n, fs_error_t *err);
int slurm_parse_sacct (const char *text, struct slurm_job_info **jobs, size_t *n, fs_error_t *err);
/* Parse `scontrol -o show job ID`: JobId, JobName, JobState, Reason, ExitCode,
 * StartTime, NumCPUs.  -1 with *err when JobId or JobState are missing. */
int slurm_parse_scontrol (const char *text, struct slurm_job_info *job, fs_error_t *err);
/* "EXIT:SIGNAL" (sacct, scontrol).  -1 when malformed. */
int slurm_parse_exit (const char *s, int *exit_code, int *signal);
/* Slurm's local time "2026-12-04T16:59:32" as epoch seconds; 0 for "N/A",
 * "Unknown", "None" or anything else. */
double slurm_parse_time (const char *s);
/* `sbatch --parsable` prints "ID" or "ID;CLUSTER": the id into id.  -1 with
 * *err when the output holds no job id. */
int slurm_parse_sbatch (const char *text, char *id, size_t idsz, fs_error_t *err);

/* `sinfo -h -o "%P|%C"`: the CPUs of partition (NULL or "": the default one,
 * marked '*'): total and idle, and the partition's name.  -1 with *err
 * (FS_EFAIL) when it is not listed. */
int slurm_parse_sinfo (const char *text, const char *partition, int *total, int *idle,
                       char *name, size_t namesz, fs_error_t *err);

/* `scontrol show config`: is accounting kept (AccountingStorageType other
 * than accounting_storage/none), and MinJobAge in seconds (-1: not shown). */
void slurm_parse_config (const char *text, bool *accounting, int *min_job_age);

/* How a job ended, in fedsched's terms. */
struct slurm_end {
    int exit_code;                  /* shell convention: status, or 128+signal */
    bool walltime_exceeded;         /* TIMEOUT (or DEADLINE) */
    bool killed;                    /* fedsched cancelled it (task.kill, cancel) */
    bool site_failure;              /* not the task's fault: node failure, preemption,
                                       a job Slurm lost */
    bool requeue;                   /* place it again without using up its retries
                                       (node failure, preemption) */
    char error[512];                /* why, in words; "" for a plain exit status */
};

/* Decide how job id ended from what is known: info, Slurm's record (NULL when
 * Slurm no longer knows the job), the exit status its batch script wrote
 * (have_file, file_code, file_error: "" or the script's message), and whether
 * fedsched cancelled it.  A job Slurm lists is settled only by Slurm's end:
 * its word wins for what the script cannot see (timeout, out of memory, node
 * failure, preemption, cancel), the file gives the exit code of COMPLETED and
 * FAILED.  A job Slurm has forgotten is settled by the file.  Returns false
 * (and leaves *end alone) while the job has not ended as far as these say. */
bool slurm_job_end (const struct slurm_job_info *info, bool have_file, int file_code,
                    const char *file_error, bool cancelled, const char *site,
                    struct slurm_end *end);

/* --- the batch job ------------------------------------------------------- */

/* Walltime in whole minutes for --time: rounded up, at least 1; 0 when
 * walltime_s <= 0 (no --time: the partition's limit). */
int slurm_time_minutes (double walltime_s);

/* What one attempt's batch job needs (all borrowed). */
struct slurm_submit {
    const char *name;               /* job name */
    const char *const *argv;        /* the task's command */
    const char *const *wrapper;     /* NULL, or argv put in front of the command of each
                                       rank (an app's sandbox, launch.h) */
    int ranks;                      /* --ntasks; 0 means 1 */
    const char *const *env;         /* "K=V" exported by the script (NULL-terminated) */
    const char *cwd;                /* --chdir */
    const char *stdout_path;        /* --output (appended to) */
    const char *stderr_path;        /* --error (appended to) */
    const char *status_path;        /* where the script writes its exit status */
    const char *id_path;            /* where the tracker keeps the Slurm job id (for a
                                       later worker); NULL: nowhere */
    const char *script_path;        /* the script file itself */
    double walltime_s;              /* --time, whole minutes rounded up; <= 0: none */
    const char *site;               /* for messages */
    const char *mpi;                /* "srun" or "mpirun" */
    const char *partition, *account, *qos;      /* "" or NULL: not given */
    const char *const *sbatch_args; /* passed through; NULL-terminated, or NULL */
    bool as_root;                   /* let Open MPI's mpirun run as root */
};

/* The batch script's text (caller frees with free()), or NULL with *err
 * (FS_EINVAL: a command starting with '-', a bad env entry).  The script:
 * exports env; checks that the command exists on the compute node's PATH
 * (127 and a message in the task's stderr otherwise); starts the ranks with
 * `srun --mpi=pmix --ntasks=N` or `mpirun -np N`; then, unless Slurm
 * signalled it (time limit, cancel, preemption: Slurm's state tells those),
 * writes its launch_status (launch.h: {exit_code, runtime_s, error}) to
 * status_path.tmp.JOBID and renames it to status_path; and exits with the
 * task's status. */
char *slurm_batch_script (const struct slurm_submit *s, fs_error_t *err);

/* The sbatch command line (NULL-terminated; caller frees with
 * slurm_argv_free()), or NULL with *err. */
char **slurm_sbatch_argv (const struct slurm_submit *s, fs_error_t *err);
void slurm_argv_free (char **argv);

/* --- running a command (on the tracker's thread only: it waits) ---------- */

struct slurm_out {
    int status;                     /* exit status; 128+N when killed by signal N;
                                       -1 when it could not be run or timed out */
    bool timed_out;
    char *out;                      /* stdout, NUL-terminated (malloc'd, never NULL
                                       after slurm_run returned) */
    char *err;                      /* stderr, likewise */
};

/* Run argv (argv[0] looked up on PATH) with stdin /dev/null, collect its
 * output (at most max_bytes of each), SIGKILL it after timeout_s.  Returns 0
 * when it ran (o->status tells how it ended), -1 when it could not be started
 * or timed out (*o still filled: free it).  Caller frees with slurm_out_free(). */
int slurm_run (char *const argv[], double timeout_s, size_t max_bytes, struct slurm_out *o);
void slurm_out_free (struct slurm_out *o);

/* --- the tracker: every batch job of the site (slurm_track.c) ------------ */

struct slurm_config;                /* common/config.h */
struct slurm_track;                 /* one per worker process */
struct slurm_job;                   /* one attempt's batch job */

/* The tracker, started on first use with cfg (copied) for site; later calls
 * return the same one.  NULL with *err when its thread cannot start. */
struct slurm_track *slurm_track_get (const struct slurm_config *cfg, const char *site,
                                     fs_error_t *err);

/* Submit an attempt: the batch script is written now (s->script_path), sbatch
 * runs on the tracker's thread.  Returns the job (the caller lets go of it
 * with slurm_job_release), or NULL with *err when the script cannot be
 * written.  Everything in s is copied. */
struct slurm_job *slurm_track_submit (struct slurm_track *t, const struct slurm_submit *s,
                                      fs_error_t *err);

/* Take over a job an earlier worker submitted (s as at its submission; its
 * argv is not needed: the script at s->script_path is already written): by
 * its Slurm id, else ("" or NULL) by its name.  A job that Slurm does not know
 * by that name, whose status is not written either, is submitted now if its
 * script was written (script_mtime, epoch) recently enough that Slurm would
 * still list it had it been submitted (MinJobAge); otherwise it ends as a
 * site failure (whether it ran is unknown): it is never submitted twice. */
struct slurm_job *slurm_track_adopt (struct slurm_track *t, const struct slurm_submit *s,
                                     const char *id, double script_mtime, fs_error_t *err);

/* What the tracker knows of a job now (non-blocking). */
struct slurm_view {
    char id[SLURM_ID_MAX];          /* "" until sbatch answered (or the name was found) */
    char state[32];                 /* Slurm's state ("" before its first listing) */
    char reason[128];               /* Slurm's reason */
    enum slurm_kind kind;
    double start;                   /* epoch: started, or expected to (pending); 0 */
    bool ended;
    struct slurm_end end;           /* when ended */
    double runtime_s;               /* when ended: from its start to its end as seen */
};
void slurm_job_view (struct slurm_job *j, struct slurm_view *v);

/* Cancel it (scancel, batched with the others on the next round); a job not
 * yet submitted is never submitted.  It ends "killed" once Slurm says so. */
void slurm_job_cancel (struct slurm_job *j);

/* Let go of j (it must not be used afterwards); cancel: also scancel it if it
 * has not ended (else it runs on, unwatched). */
void slurm_job_release (struct slurm_job *j, bool cancel);

/* The site's queue as Slurm shows it, for placement. */
struct slurm_queue {
    bool known;                     /* squeue and sinfo have answered at least once */
    bool reachable;                 /* the last squeue answered */
    char partition[128];            /* the partition (the default one when not set) */
    int cores_total;                /* the partition's CPUs (sinfo) */
    int cores_idle;
    int pending_jobs;               /* jobs pending in the partition, everyone's */
    int pending_cpus;
    int running_jobs;
    double last_start;              /* Slurm's latest expected start (epoch) among the
                                       pending jobs; 0: no estimate */
    int squeue_calls, sacct_calls, scontrol_calls, polls;   /* since start */
};
void slurm_track_queue (struct slurm_track *t, struct slurm_queue *q);

/* Wake the tracker now (a poll is due when its interval says; this only
 * shortens a backoff wait, e.g. after the worker sees its tasks). */
void slurm_track_wake (struct slurm_track *t);

#endif
