/* launch.h - the launcher adapter: how a site worker runs a task's processes.
 *
 * A launcher is a struct of function pointers picked by name from the site's
 * configuration (launcher_find).  Implementations:
 *   local   (adapters/launch/local/)   fork/exec of the task's argv, one process
 *   mpirun  (adapters/launch/mpirun/)  Open MPI 4.1 mpirun -np RANKS ... argv
 *   slurm   (adapters/launch/slurm/)   one Slurm batch job per task (sbatch)
 *
 * The worker's event loop drives a task with these calls, none of which blocks
 * (start waits only for the fork/exec itself):
 *
 *     struct launch_proc *p = l->start (&spec, &err);   // NULL: not started, err says why
 *     l->record (p, rec, sizeof rec);                    // kept in the worker's journal
 *     ...on a timer, every 20 ms to 1 s (after l->tick (), where a launcher has one):
 *     if (l->poll (p, &st, &err) == 1) { report st; l->destroy (p); }
 *     ...on cancel:
 *     l->kill (p, SIGTERM, &err);                        // poll reports the end later
 *     ...when the worker stops:  l->release (p);          // the task runs on
 *     ...a new worker:           p = l->adopt (&spec, rec, &err);
 *
 * Monitored tasks (spec.status_path set, as the worker always does).  The
 * task runs under a small monitor process of its own, `fedsched-monitor`
 * (adapters/launch/monitor.c; found beside the running executable, or at
 * $FEDSCHED_MONITOR), as Slurm's slurmstepd and HTCondor's starter do: the
 * monitor starts the task, enforces its walltime, passes on kills, and when the
 * task has ended writes its launch_status into status_path (atomically: a
 * temporary file renamed over).  The monitor outlives the worker, so a worker
 * that stops or crashes kills nothing: a new worker adopts the task from the
 * record the old one journalled (the monitor's pid and start time), and poll
 * then reports the task's real end, also when it ended while no worker ran.
 * A monitor that is gone without a status file (killed, node restarted) is
 * reported by poll as ended with error set and site_failure true.  With
 * spec.readonly, the monitor runs the task in a mount namespace of its own in
 * which those directories (the site's data roots) are read-only.
 *
 * Process tree.  Each task runs in its own session (setsid), so its session
 * id is the leader's pid.  kill() signals every process of that session and
 * of the leader's process group: children of children, and mpirun's ranks
 * (Open MPI puts each local rank in its own process group, but they stay in
 * mpirun's session).  A SIGTERM is followed by SIGKILL after the grace period
 * if the leader still runs at a later poll.  When the leader ends (normally or
 * not), poll SIGKILLs whatever is left in its session and reports the end only
 * once those are gone too, so an ended task leaves no stragglers holding cores.  A process that calls setsid()
 * itself (a daemon) escapes; that needs cgroups, which v1 doesn't use.
 *
 * Timing.  Walltime and the SIGKILL escalation are enforced inside poll (the
 * monitor's, for a monitored task), so their precision is the poll period;
 * runtime_s is measured from start to the poll that saw the leader end.
 *
 * Exit codes follow the shell: the leader's exit status, or 128+N when a
 * signal N killed it.  When the task could not be executed, the task still
 * "ends" through poll, with the message in status.error and appended to the
 * task's stderr file ("fedsched: ..."):
 *   127  command not found ("command 'regridd' not found on PATH of site X")
 *   126  found but could not be executed (permission, bad format)
 *   125  the launcher could not set the process up (working directory, ...)
 * A task program may itself exit with these codes; status.error tells them
 * apart (empty when the task really ran).
 *
 * Requirements on the caller: don't set SIGCHLD to SIG_IGN and don't reap
 * with waitpid(-1, ...): the launcher reaps its own children by pid.
 *
 * Errors: functions return NULL or -1 and fill *err (which may be NULL) with
 * errprintf(): FS_EINVAL for a bad spec, FS_EFAIL for a system failure
 * (output file not writable, fork failed).
 */
#ifndef FS_LAUNCH_H
#define FS_LAUNCH_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

struct slurm_config;                /* common/config.h */
struct site_config;

/* Default seconds between SIGTERM and SIGKILL. */
#define LAUNCH_GRACE_S 5.0

/* What to run.  Everything is borrowed for the duration of start() only. */
struct launch_spec {
    const char *const *argv;        /* NULL-terminated; argv[0] looked up on the PATH of
                                       the task's environment unless it contains '/'
                                       (then relative to cwd).  No shell. */
    int ranks;                      /* MPI ranks; 0 means 1.  local refuses > 1. */
    const char *const *env;         /* NULL or NULL-terminated "K=V" added to (and
                                       overriding) the worker's environment, e.g.
                                       FEDSCHED_JOB=12, FEDSCHED_TASK=t, FEDSCHED_SITE=s */
    const char *cwd;                /* working directory; NULL: the worker's */
    const char *stdout_path;        /* appended to, created 0644 (less umask); NULL: /dev/null */
    const char *stderr_path;        /* same; fedsched's own notes about the task go here too */
    double walltime_s;              /* <= 0: no limit */
    double grace_s;                 /* SIGTERM -> SIGKILL delay; <= 0: LAUNCH_GRACE_S */
    const char *site;               /* site name, for messages; NULL: "this site" */

    /* mpirun only (site configuration); local ignores them. */
    const char *mpirun;             /* path or name of mpirun; NULL: "mpirun" on PATH */
    const char *hostfile;           /* --hostfile FILE; NULL: this node only */
    int site_cores;                 /* cores of the node (topo_discover's cores); <= 0:
                                       sysconf(_SC_NPROCESSORS_ONLN) */
    bool oversubscribe;             /* always --oversubscribe (else only when ranks >
                                       site_cores); oversubscribed runs use --bind-to none */

    /* The task attempt, for monitors and batch systems. */
    const char *status_path;        /* monitored (see above): where its launch_status goes;
                                       NULL: the task is a plain child of the caller */
    const char *name;               /* names federation, job, task and attempt (batch job
                                       names); NULL: none */
    const char *const *readonly;    /* NULL or NULL-terminated directories the task sees
                                       read-only (monitored tasks only) */
    bool die_with_parent;           /* SIGKILL the task's leader when its parent dies (the
                                       monitor sets it for the task it runs) */

    /* slurm only: site.yaml's slurm: block (adapters/launch/slurm/). */
    const struct slurm_config *slurm;
    const char *const *wrapper;     /* NULL, or a NULL-terminated argv every launcher puts
                                       in front of the program it starts for each rank (an
                                       app's sandbox, adapters/sandbox/):
                                       mpirun -np N ... WRAPPER... PROG ARGS, or
                                       WRAPPER... PROG ARGS; wrapper[0] is looked up on
                                       the task's PATH like the command (127 if missing) */
};

/* How a task ended (filled by poll when it returns 1). */
struct launch_status {
    int exit_code;                  /* shell convention: status, or 128+signal */
    int signal;                     /* signal that killed the leader, 0 if it exited */
    bool walltime_exceeded;         /* the launcher killed it for its walltime */
    bool killed;                    /* kill() was called before it ended (cancel) */
    double runtime_s;
    char error[512];                /* why it couldn't run (125/126/127), or why its end
                                       is unknown (monitor lost); "" if it ran */
    bool site_failure;              /* the site failed the task (its monitor or node was
                                       lost, ...): not the task's own failure */
    bool requeue;                   /* with site_failure: run it again elsewhere without
                                       using up its retries (batch preemption, node failure) */
};

/* Write st to path atomically (path.tmp, renamed over path), as one JSON object
 * {exit_code, signal, walltime_exceeded, killed, runtime_s, error, site_failure,
 * requeue}; absent keys read as 0/false/"".  -1 with *err on failure. */
int launch_status_write (const char *path, const struct launch_status *st, fs_error_t *err);
/* 1 with *st filled when path holds a status, 0 when there is no file, -1 with
 * *err when it is malformed. */
int launch_status_read (const char *path, struct launch_status *st, fs_error_t *err);

/* What a batch system says of a task (batch launchers: slurm). */
struct launch_batch {
    char system[16];                /* "slurm" */
    char id[32];                    /* its batch job id; "" before submission answered */
    char state[32];                 /* the batch system's state (PENDING, RUNNING, TIMEOUT,
                                       NODE_FAIL, ...); "SUBMITTING" before it has one */
    char reason[128];               /* why it pends (Priority, Resources, ...) or how it
                                       ended; "" */
    double start;                   /* epoch: started, or expected to start; 0: unknown */
};

/* A batch site's queue, for placement and `fedsched sites`. */
struct launch_queue {
    bool known;                     /* the batch system has answered (cores are valid) */
    bool reachable;                 /* its last answer came */
    int cores;                      /* the partition's cores */
    int cores_idle;
    int pending;                    /* jobs waiting in the partition (everyone's) */
    int pending_cores;
    int running;                    /* jobs running there */
    double last_start;              /* the batch system's latest expected start (epoch) of
                                       the pending jobs; 0: no estimate */
    int polls, squeue_calls, sacct_calls;   /* since the worker started */
};

struct launch_proc;                 /* one task; opaque */

struct launcher {
    const char *name;

    /* Start the task.  Returns a task the caller destroys with destroy(), or NULL
     * with *err filled when nothing was started (bad spec, output files not
     * writable, fork failed).  A command that is not found still returns a task,
     * which poll reports as ended with 127 (see above). */
    struct launch_proc *(*start) (const struct launch_spec *spec, fs_error_t *err);

    /* Non-blocking.  Returns 1 when the task has ended (fills *st; later calls
     * return 1 and the same status), 0 while it runs (enforcing walltime and the
     * SIGKILL escalation), -1 on error (*err: e.g. someone else reaped it). */
    int (*poll) (struct launch_proc *p, struct launch_status *st, fs_error_t *err);

    /* Send sig to every process of the task (see "Process tree").  Unless sig is
     * SIGKILL, SIGKILL follows after grace_s (sent by a later poll).  Marks the
     * status killed.  No-op returning 0 once the task has ended. */
    int (*kill) (struct launch_proc *p, int sig, fs_error_t *err);

    /* The task's session id (= its leader's pid), or -1 if it never ran. */
    int (*pid) (const struct launch_proc *p);

    /* Free the task; accepts NULL.  A task still running is SIGKILLed with its
     * whole tree and reaped (waits only for the kernel to deliver SIGKILL). */
    void (*destroy) (struct launch_proc *p);

    /* A one-line text (no newline, shorter than LAUNCH_RECORD_MAX) from which
     * adopt() finds the task again after the worker restarted: 0, or -1 when the
     * task cannot be adopted (it never ran). */
    int (*record) (const struct launch_proc *p, char *buf, size_t size);

    /* The task an earlier worker started with this spec and journalled as rec.
     * It may have ended meanwhile: poll then reports how.  NULL with *err when
     * rec is malformed. */
    struct launch_proc *(*adopt) (const struct launch_spec *spec, const char *rec,
                                  fs_error_t *err);

    /* Forget the task without killing it (the worker stops; a later one adopts
     * it); accepts NULL.  A plain child is killed as by destroy(). */
    void (*release) (struct launch_proc *p);

    /* Optional (NULL): called once per turn of the worker's loop before the
     * polls, for launchers that look every task up at once (a batch system's
     * queue). */
    void (*tick) (void);

    /* Optional (NULL): what the batch system says of the task now (batch
     * launchers).  Non-blocking; 0 with *b filled. */
    int (*batch) (const struct launch_proc *p, struct launch_batch *b);

    /* Optional (NULL): the site's batch queue as last seen (non-blocking; the
     * first call may start the launcher's tracking for cfg).  0 with *q filled. */
    int (*queue) (const struct site_config *cfg, struct launch_queue *q);
};

#define LAUNCH_RECORD_MAX 256

/* The start time of process pid, in clock ticks after boot (/proc/PID/stat),
 * or 0 if it is gone (a zombie counts as gone). */
unsigned long long launch_start_time (long pid);

/* The monitor's entry point (the fedsched-monitor program, and test programs
 * that run monitored tasks: they call it when argv[1] is "__monitor"). */
int launch_monitor_main (int argc, char **argv);
/* The monitor program's path: $FEDSCHED_MONITOR, else fedsched-monitor beside
 * the running executable, else "fedsched-monitor" (looked up on PATH).  buf
 * (PATH_MAX bytes) may receive it. */
const char *launch_monitor_program (char *buf, size_t n);

/* The launcher called name ("local", "mpirun"), or NULL with *err listing the
 * known ones.  Borrowed, static. */
const struct launcher *launcher_find (const char *name, fs_error_t *err);
/* The launchers' names, "local, mpirun", into buf (size bytes); returns buf. */
const char *launcher_names (char *buf, size_t size);

#endif
