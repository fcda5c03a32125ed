/* launch_slurm.c - the slurm launcher: one batch job per task attempt.
 *
 * start() writes the batch script into the task's directory and hands the job
 * to the site's tracker (slurm_track.c), which runs sbatch on its own thread;
 * poll() reads what the tracker last learnt from Slurm; kill() asks for an
 * scancel (batched with the others); destroy() lets go of the job, cancelling
 * it if it has not ended.  Nothing here waits for Slurm.  The ranks are
 * started by Slurm on the compute nodes (srun --mpi=pmix, or mpirun inside the
 * allocation: site.yaml slurm.mpi); walltime is Slurm's --time.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapters/launch/launch.h"
#include "adapters/launch/launch_proc.h"
#include "adapters/launch/slurm/slurm.h"
#include "common/config.h"

/* One task: what the executor holds as its struct launch_proc. */
struct slurm_task {
    struct slurm_job *job;
    struct launch_status st;
    bool killed;
};

static struct slurm_task *task_of (struct launch_proc *p)
{
    return (struct slurm_task *)(void *)p;
}

static const char *env_value (const char *const *env, const char *name)
{
    size_t len = strlen (name);
    for (const char *const *e = env; e && *e; e++)
        if (!strncmp (*e, name, len) && (*e)[len] == '=')
            return *e + len + 1;
    return NULL;
}

/* The job name: fedsched.SITE.JOB.TASK (what the task's environment says). */
static void job_name (const struct launch_spec *spec, char *buf, size_t size)
{
    const char *job = env_value (spec->env, "FEDSCHED_JOB");
    const char *task = env_value (spec->env, "FEDSCHED_TASK");
    snprintf (buf, size, "fedsched.%s.%s.%s", spec->site ? spec->site : "site", job ? job : "0",
              task ? task : "task");
}

static struct launch_proc *slurm_start (const struct launch_spec *spec, fs_error_t *err)
{
    char where[160], name[SLURM_NAME_MAX], script[PATH_MAX + 32], status[PATH_MAX + 32];
    if (launch_spec_check (spec, err) < 0)
        return NULL;
    launch_where (spec, where, sizeof (where));
    if (!spec->slurm) {
        errprintf (err, FS_EINVAL, "the slurm launcher at %s has no slurm: configuration", where);
        return NULL;
    }
    if (!spec->cwd) {
        errprintf (err, FS_EINVAL, "the slurm launcher at %s needs the task's directory", where);
        return NULL;
    }
    struct slurm_track *t = slurm_track_get (spec->slurm, spec->site, err);
    if (!t)
        return NULL;
    job_name (spec, name, sizeof (name));
    snprintf (script, sizeof (script), "%s/slurm-job.sh", spec->cwd);
    snprintf (status, sizeof (status), "%s/slurm-exit-status", spec->cwd);
    const char *args[FS_SLURM_MAX_ARGS + 1];
    for (int i = 0; i < spec->slurm->nsbatch_args; i++)
        args[i] = spec->slurm->sbatch_args[i];
    args[spec->slurm->nsbatch_args] = NULL;
    struct slurm_submit s = {
        .name = name, .argv = spec->argv, .ranks = spec->ranks, .env = spec->env,
        .cwd = spec->cwd, .stdout_path = spec->stdout_path, .stderr_path = spec->stderr_path,
        .status_path = status, .script_path = script, .walltime_s = spec->walltime_s,
        .site = spec->site, .mpi = spec->slurm->mpi, .partition = spec->slurm->partition,
        .account = spec->slurm->account, .qos = spec->slurm->qos, .sbatch_args = args,
        .as_root = geteuid () == 0,
    };
    struct slurm_task *task = calloc (1, sizeof (*task));
    if (!task) {
        errprintf (err, FS_EFAIL, "out of memory starting a task at %s", where);
        return NULL;
    }
    if (!(task->job = slurm_track_submit (t, &s, err))) {
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

const struct launcher launcher_slurm = {
    .name = "slurm",
    .start = slurm_start,
    .poll = slurm_poll,
    .kill = slurm_kill,
    .pid = slurm_pid,
    .destroy = slurm_destroy,
};
