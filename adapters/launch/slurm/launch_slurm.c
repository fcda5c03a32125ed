/* launch_slurm.c - the slurm launcher: one batch job per task attempt.
 *
 * start() writes the batch script beside the attempt's status file and hands
 * the job to the site's tracker (slurm_track.c), which runs sbatch on its own
 * thread; poll() reads what the tracker last learnt from Slurm; kill() asks
 * for an scancel (batched with the others); release() lets go of the job,
 * which runs on; destroy() lets go of an ended one (cancelling it, should it
 * still run).  Nothing here waits for Slurm, so the launcher has no tick():
 * the tracker polls on its own clock (site.yaml slurm.poll).  The ranks are
 * started by Slurm on the compute nodes (srun --mpi=pmix, or mpirun inside
 * the allocation: slurm.mpi); walltime is Slurm's --time.  Each rank starts
 * as `fedsched-monitor --exec --readonly ROOT... -- [WRAPPER...] PROG ARGS`:
 * the site's data roots read-only for it, as for a local task (the monitor
 * program must be at the same path on the compute nodes as on the worker's
 * node, like the rest of fedsched's installation).
 *
 * Files of attempt N, beside its status file STATUS = exit.N.json (launch.h):
 *   exit.N.slurm.sh   its batch script (written before sbatch runs)
 *   exit.N.slurm-id   its Slurm job id (written when sbatch has answered)
 * record() is "slurm NAME" (the job name; the id is not known yet when the
 * worker journals it).  adopt() takes the id from exit.N.slurm-id, else looks
 * the job up by name; no script means start() never got that far: FS_ENOTFOUND,
 * and the worker launches the attempt anew.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adapters/launch/launch.h"
#include "adapters/launch/launch_proc.h"
#include "adapters/launch/slurm/slurm.h"
#include "common/config.h"

/* One task: what the executor holds as its struct launch_proc. */
struct slurm_task {
    struct slurm_job *job;
    char name[SLURM_NAME_MAX];
    bool killed;
};

static struct slurm_task *task_of (struct launch_proc *p)
{
    return (struct slurm_task *)(void *)p;
}

static const struct slurm_task *ctask_of (const struct launch_proc *p)
{
    return (const struct slurm_task *)(const void *)p;
}

/* The paths and names of spec's attempt (see the header). */
struct attempt_files {
    char status[PATH_MAX], script[PATH_MAX + 16], id[PATH_MAX + 16], name[SLURM_NAME_MAX];
    const char *args[FS_SLURM_MAX_ARGS + 1];
};

static int attempt_of (const struct launch_spec *spec, struct attempt_files *a,
                       struct slurm_submit *s, fs_error_t *err)
{
    char where[160];
    launch_where (spec, where, sizeof (where));
    if (!spec->slurm)
        return errprintf (err, FS_EINVAL, "the slurm launcher at %s has no slurm: configuration",
                          where);
    if (!spec->cwd)
        return errprintf (err, FS_EINVAL, "the slurm launcher at %s needs the task's directory",
                          where);
    if (spec->status_path)
        snprintf (a->status, sizeof (a->status), "%s", spec->status_path);
    else
        snprintf (a->status, sizeof (a->status), "%.4000s/exit.json", spec->cwd);
    size_t base = strlen (a->status);
    if (base > 5 && !strcmp (a->status + base - 5, ".json"))
        base -= 5;
    snprintf (a->script, sizeof (a->script), "%.*s.slurm.sh", (int)base, a->status);
    snprintf (a->id, sizeof (a->id), "%.*s.slurm-id", (int)base, a->status);
    if (spec->name && *spec->name)
        snprintf (a->name, sizeof (a->name), "%s", spec->name);
    else
        snprintf (a->name, sizeof (a->name), "fedsched.%s", spec->site ? spec->site : "task");
    for (int i = 0; i < spec->slurm->nsbatch_args; i++)
        a->args[i] = spec->slurm->sbatch_args[i];
    a->args[spec->slurm->nsbatch_args] = NULL;
    *s = (struct slurm_submit){
        .name = a->name, .argv = spec->argv, .wrapper = spec->wrapper, .ranks = spec->ranks,
        .env = spec->env,
        .cwd = spec->cwd, .stdout_path = spec->stdout_path, .stderr_path = spec->stderr_path,
        .status_path = a->status, .id_path = a->id, .script_path = a->script,
        .walltime_s = spec->walltime_s, .site = spec->site, .mpi = spec->slurm->mpi,
        .partition = spec->slurm->partition, .account = spec->slurm->account,
        .qos = spec->slurm->qos, .sbatch_args = a->args, .as_root = geteuid () == 0,
    };
    return 0;
}

static struct slurm_task *task_new (const char *name, fs_error_t *err)
{
    struct slurm_task *task = calloc (1, sizeof (*task));
    if (!task) {
        errprintf (err, FS_EFAIL, "out of memory");
        return NULL;
    }
    snprintf (task->name, sizeof (task->name), "%s", name);
    return task;
}

/* What goes in front of each rank: the monitor in its exec mode, which makes
 * the site's data roots read-only for the rank (as the monitor of a local task
 * does: the ranks are Slurm's, started by slurmstepd on the compute node), then
 * spec's own wrapper.  NULL-terminated, malloc'd (the strings are borrowed);
 * *wrap NULL when there is nothing to put there. */
static int rank_wrapper (const struct launch_spec *spec, char *monitor, size_t size,
                         const char ***wrap, fs_error_t *err)
{
    size_t nro = 0, nw = 0, k = 0;
    for (const char *const *d = spec->readonly; d && *d; d++)
        nro++;
    for (const char *const *w = spec->wrapper; w && *w; w++)
        nw++;
    *wrap = NULL;
    if (!nro)
        return 0;
    const char **v = calloc (3 + 2 * nro + nw + 1, sizeof (*v));
    if (!v)
        return errprintf (err, FS_EFAIL, "out of memory");
    v[k++] = launch_monitor_program (monitor, size);
    v[k++] = "--exec";
    for (size_t i = 0; i < nro; i++) {
        v[k++] = "--readonly";
        v[k++] = spec->readonly[i];
    }
    v[k++] = "--";
    for (size_t i = 0; i < nw; i++)
        v[k++] = spec->wrapper[i];
    v[k] = NULL;
    *wrap = v;
    return 0;
}

static struct launch_proc *slurm_start (const struct launch_spec *spec, fs_error_t *err)
{
    struct attempt_files a;
    struct slurm_submit s;
    char monitor[PATH_MAX];
    const char **wrap = NULL;
    if (launch_spec_check (spec, err) < 0 || attempt_of (spec, &a, &s, err) < 0
        || rank_wrapper (spec, monitor, sizeof (monitor), &wrap, err) < 0)
        return NULL;
    if (wrap)
        s.wrapper = wrap;
    struct slurm_track *t = slurm_track_get (spec->slurm, spec->site, err);
    struct slurm_task *task = t ? task_new (a.name, err) : NULL;
    if (task && !(task->job = slurm_track_submit (t, &s, err))) {
        free (task);
        task = NULL;
    }
    free (wrap);
    return (struct launch_proc *)(void *)task;
}

static int slurm_record (const struct launch_proc *p, char *buf, size_t size)
{
    const struct slurm_task *task = ctask_of (p);
    int n = snprintf (buf, size, "slurm %s", task->name);
    return n > 0 && (size_t)n < size ? 0 : -1;
}

static struct launch_proc *slurm_adopt (const struct launch_spec *spec, const char *rec,
                                        fs_error_t *err)
{
    struct attempt_files a;
    struct slurm_submit s;
    if (attempt_of (spec, &a, &s, err) < 0)
        return NULL;
    if (rec && *rec) {
        if (strncmp (rec, "slurm ", 6) != 0 || strcmp (rec + 6, a.name) != 0) {
            errprintf (err, FS_EINVAL, "journal record '%.200s' is not the Slurm job %s", rec,
                       a.name);
            return NULL;
        }
    }
    struct stat st;
    if (stat (a.script, &st) < 0) {
        errprintf (err, FS_ENOTFOUND, "no batch script %s: the attempt was never submitted",
                   a.script);
        return NULL;
    }
    char id[SLURM_ID_MAX] = "";
    FILE *f = fopen (a.id, "r");
    if (f) {
        if (!fgets (id, sizeof (id), f))
            id[0] = '\0';
        id[strcspn (id, "\n")] = '\0';
        fclose (f);
    }
    struct slurm_track *t = slurm_track_get (spec->slurm, spec->site, err);
    struct slurm_task *task = t ? task_new (a.name, err) : NULL;
    if (!task)
        return NULL;
    double mtime = (double)st.st_mtim.tv_sec + (double)st.st_mtim.tv_nsec / 1e9;
    if (!(task->job = slurm_track_adopt (t, &s, id, mtime, err))) {
        free (task);
        return NULL;
    }
    return (struct launch_proc *)(void *)task;
}

static int slurm_poll (struct launch_proc *p, struct launch_status *st, fs_error_t *err)
{
    (void)err;
    struct slurm_task *task = task_of (p);
    struct slurm_view v;
    slurm_job_view (task->job, &v);
    if (!v.ended)
        return 0;
    memset (st, 0, sizeof (*st));
    st->exit_code = v.end.exit_code;
    st->signal = v.end.exit_code > 128 ? v.end.exit_code - 128 : 0;
    st->walltime_exceeded = v.end.walltime_exceeded;
    st->killed = v.end.killed || task->killed;
    st->runtime_s = v.runtime_s;
    st->site_failure = v.end.site_failure;
    st->requeue = v.end.requeue;
    snprintf (st->error, sizeof (st->error), "%s", v.end.error);
    return 1;
}

static int slurm_kill (struct launch_proc *p, int sig, fs_error_t *err)
{
    (void)sig;
    (void)err;
    struct slurm_task *task = task_of (p);
    task->killed = true;
    slurm_job_cancel (task->job);
    return 0;
}

static int slurm_pid (const struct launch_proc *p)
{
    (void)p;
    return -1;                      /* the processes run under Slurm, maybe elsewhere */
}

static void slurm_destroy (struct launch_proc *p)
{
    if (!p)
        return;
    struct slurm_task *task = task_of (p);
    slurm_job_release (task->job, true);
    free (task);
}

static void slurm_release (struct launch_proc *p)
{
    if (!p)
        return;
    struct slurm_task *task = task_of (p);
    slurm_job_release (task->job, false);
    free (task);
}

static int slurm_batch (const struct launch_proc *p, struct launch_batch *b)
{
    const struct slurm_task *task = ctask_of (p);
    struct slurm_view v;
    slurm_job_view (task->job, &v);
    memset (b, 0, sizeof (*b));
    snprintf (b->system, sizeof (b->system), "slurm");
    snprintf (b->id, sizeof (b->id), "%s", v.id);
    snprintf (b->state, sizeof (b->state), "%s", v.state[0] ? v.state : v.id[0] ? "" : "SUBMITTING");
    if (v.kind == SK_PENDING || v.ended)
        snprintf (b->reason, sizeof (b->reason), "%s",
                  strcmp (v.reason, "None") && strcmp (v.reason, "(null)") ? v.reason : "");
    b->start = v.start;
    return 0;
}

static int slurm_queue (const struct site_config *cfg, struct launch_queue *q)
{
    memset (q, 0, sizeof (*q));
    fs_error_t err;
    struct slurm_track *t = slurm_track_get (&cfg->slurm, cfg->name, &err);
    if (!t)
        return -1;
    struct slurm_queue sq;
    slurm_track_queue (t, &sq);
    q->known = sq.known;
    q->reachable = sq.reachable;
    q->cores = sq.cores_total;
    q->cores_idle = sq.cores_idle;
    q->pending = sq.pending_jobs;
    q->pending_cores = sq.pending_cpus;
    q->running = sq.running_jobs;
    q->last_start = sq.last_start;
    q->polls = sq.polls;
    q->squeue_calls = sq.squeue_calls;
    q->sacct_calls = sq.sacct_calls;
    return 0;
}

const struct launcher launcher_slurm = {
    .name = "slurm",
    .start = slurm_start,
    .poll = slurm_poll,
    .kill = slurm_kill,
    .pid = slurm_pid,
    .destroy = slurm_destroy,
    .record = slurm_record,
    .adopt = slurm_adopt,
    .release = slurm_release,
    .batch = slurm_batch,
    .queue = slurm_queue,
};
