/* launch_mpirun.c - the mpirun launcher (Open MPI 4.1).
 *
 *   mpirun -np RANKS --bind-to core|none --map-by core [--oversubscribe]
 *          [--hostfile FILE] -x FEDSCHED_JOB -x FEDSCHED_TASK -x FEDSCHED_SITE
 *          [-x NAME for each other task environment entry] [WRAPPER...] ARGV...
 *
 * --oversubscribe when the site asks for it or when RANKS exceeds the node's
 * cores; an oversubscribed run binds to nothing (binding more ranks than cores
 * is refused by Open MPI).  -x forwards only variables that are set (mpirun
 * warns about the others); OMPI_* entries are not forwarded with -x because
 * mpirun reads and forwards them itself.  As root the environment gets
 * OMPI_ALLOW_RUN_AS_ROOT=1 and OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1.
 *
 * mpirun's own missing-executable report is long and exits 134; so, when the
 * ranks run on this node (no hostfile), the task's command is looked up on
 * the task's PATH first and a missing one ends the task with 127 like the
 * local launcher.  With a hostfile the lookup is left to mpirun (the command
 * may exist only on the compute nodes).
 *
 * mpirun puts each rank in its own process group, in mpirun's session: the
 * session-wide kill in launch_proc.c reaches them, also after mpirun itself
 * has been SIGKILLed.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapters/launch/launch.h"
#include "adapters/launch/launch_proc.h"

/* Append name (a "K=V" entry's name, or a plain name) to the -x list unless
 * it is already there, unset in envp, or an OMPI_ variable. */
static int add_x (char **xs, size_t *nx, const char *entry, char *const envp[])
{
    size_t len = strcspn (entry, "=");
    if (strncmp (entry, "OMPI_", 5) == 0)
        return 0;
    for (size_t i = 0; i < *nx; i++)
        if (strlen (xs[i]) == len && strncmp (xs[i], entry, len) == 0)
            return 0;
    char *name = strndup (entry, len);
    if (!name)
        return -1;
    if (!launch_env_get (envp, name)) {
        free (name);
        return 0;
    }
    xs[(*nx)++] = name;
    return 0;
}

static struct launch_proc *mpirun_start (const struct launch_spec *spec, fs_error_t *err)
{
    static const char *const root_env[] = { "OMPI_ALLOW_RUN_AS_ROOT=1",
                                            "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1", NULL };
    static const char *const fedsched_vars[] = { "FEDSCHED_JOB", "FEDSCHED_TASK",
                                                 "FEDSCHED_SITE", "FEDSCHED_ATTEMPT", NULL };
    char where[160];
    struct launch_proc *p = NULL;
    char *mpath = NULL, *tpath = NULL, **xs = NULL, **argv = NULL;
    size_t nx = 0;

    if (launch_spec_check (spec, err) < 0)
        return NULL;
    launch_where (spec, where, sizeof (where));
    if (spec->argv[0][0] == '-') {
        errprintf (err, FS_EINVAL, "task command '%s' starts with '-': mpirun would take it "
                   "for an option", spec->argv[0]);
        return NULL;
    }
    int ranks = spec->ranks > 0 ? spec->ranks : 1;
    char **envp = launch_env_merge (geteuid () == 0 ? root_env : NULL, spec->env, err);
    if (!envp)
        return NULL;
    const char *path_env = launch_env_get (envp, "PATH");

    const char *mpirun = spec->mpirun && *spec->mpirun ? spec->mpirun : "mpirun";
    if (!(mpath = launch_resolve (mpirun, path_env, spec->cwd))) {
        p = launch_proc_not_found (spec, "mpirun", mpirun, path_env, err);
        goto done;
    }
    if (!spec->hostfile) {
        if (!(tpath = launch_resolve (spec->argv[0], path_env, spec->cwd))) {
            p = launch_proc_not_found (spec, "command", spec->argv[0], path_env, err);
            goto done;
        }
        if (spec->wrapper && spec->wrapper[0]) {
            char *w = launch_resolve (spec->wrapper[0], path_env, spec->cwd);
            if (!w) {
                p = launch_proc_not_found (spec, "sandbox", spec->wrapper[0], path_env, err);
                goto done;
            }
            free (w);
        }
    }

    size_t nenv = 0, nargv = 0;
    for (const char *const *e = spec->env; e && *e; e++)
        nenv++;
    for (const char *const *a = spec->wrapper; a && *a; a++)
        nargv++;
    for (const char *const *a = spec->argv; *a; a++)
        nargv++;
    if (!(xs = calloc (nenv + 5, sizeof (*xs))))
        goto nomem;
    for (const char *const *v = fedsched_vars; *v; v++)
        if (add_x (xs, &nx, *v, envp) < 0)
            goto nomem;
    for (const char *const *e = spec->env; e && *e; e++)
        if (add_x (xs, &nx, *e, envp) < 0)
            goto nomem;

    long cores = spec->site_cores > 0 ? spec->site_cores : sysconf (_SC_NPROCESSORS_ONLN);
    if (cores < 1)
        cores = 1;
    bool over = spec->oversubscribe || ranks > cores;
    char np[16];
    snprintf (np, sizeof (np), "%d", ranks);

    if (!(argv = calloc (12 + 2 * nx + nargv + 1, sizeof (*argv))))
        goto nomem;
    size_t k = 0;
    argv[k++] = (char *) mpirun;
    argv[k++] = "-np";
    argv[k++] = np;
    argv[k++] = "--bind-to";
    argv[k++] = over ? "none" : "core";
    argv[k++] = "--map-by";
    argv[k++] = "core";
    if (over)
        argv[k++] = "--oversubscribe";
    if (spec->hostfile) {
        argv[k++] = "--hostfile";
        argv[k++] = (char *) spec->hostfile;
    }
    for (size_t i = 0; i < nx; i++) {
        argv[k++] = "-x";
        argv[k++] = xs[i];
    }
    /* Each rank: [WRAPPER...] ARGV (the sandbox runs around each rank). */
    for (const char *const *a = spec->wrapper; a && *a; a++)
        argv[k++] = (char *) *a;
    for (const char *const *a = spec->argv; *a; a++)
        argv[k++] = (char *) *a;
    argv[k] = NULL;
    p = launch_proc_spawn (spec, mpath, argv, envp, err);
    goto done;
nomem:
    errprintf (err, FS_EFAIL, "out of memory starting a task at %s", where);
done:
    for (size_t i = 0; i < nx; i++)
        free (xs[i]);
    free (xs);
    free (argv);
    free (tpath);
    free (mpath);
    free (envp);
    return p;
}

const struct launcher launcher_mpirun = {
    .name = "mpirun",
    .start = mpirun_start,
    .poll = launch_proc_poll,
    .kill = launch_proc_kill,
    .pid = launch_proc_pid,
    .destroy = launch_proc_destroy,
    .record = launch_proc_record,
    .adopt = launch_proc_adopt,
    .release = launch_proc_release,
};
