/* launch_local.c - the local launcher: fork/exec of the task's argv, no shell.
 *
 * One process: a task asking for more than one rank is refused (FS_EINVAL)
 * rather than run as a single process that an MPI program would take for a
 * singleton run; sites that run MPI tasks use the mpirun launcher.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "adapters/launch/launch.h"
#include "adapters/launch/launch_proc.h"

static struct launch_proc *local_start (const struct launch_spec *spec, fs_error_t *err)
{
    char where[160];
    if (launch_spec_check (spec, err) < 0)
        return NULL;
    if (spec->ranks > 1) {
        errprintf (err, FS_EINVAL, "task asks for %d ranks but %s runs tasks with the local "
                   "launcher (one process): configure the mpirun launcher there, or give the "
                   "task ranks: 1", spec->ranks, launch_where (spec, where, sizeof (where)));
        return NULL;
    }
    char **envp = launch_env_merge (spec->env, NULL, err);
    if (!envp)
        return NULL;
    const char *path_env = launch_env_get (envp, "PATH");
    struct launch_proc *p;
    char *path = launch_resolve (spec->argv[0], path_env, spec->cwd), *wpath = NULL;
    bool wrapped = spec->wrapper && spec->wrapper[0];
    if (!path)
        p = launch_proc_not_found (spec, "command", spec->argv[0], path_env, err);
    else if (!wrapped)
        p = launch_proc_spawn (spec, path, (char *const *) spec->argv, envp, err);
    else if (!(wpath = launch_resolve (spec->wrapper[0], path_env, spec->cwd)))
        p = launch_proc_not_found (spec, "sandbox", spec->wrapper[0], path_env, err);
    else {
        /* The sandbox runs the program: WRAPPER... PATH ARGS. */
        char **argv = launch_rank_argv (spec, path, err);
        p = argv ? launch_proc_spawn (spec, wpath, argv, envp, err) : NULL;
        free (argv);
    }
    free (wpath);
    free (path);
    free (envp);
    return p;
}

const struct launcher launcher_local = {
    .name = "local",
    .start = local_start,
    .poll = launch_proc_poll,
    .kill = launch_proc_kill,
    .pid = launch_proc_pid,
    .destroy = launch_proc_destroy,
    .record = launch_proc_record,
    .adopt = launch_proc_adopt,
    .release = launch_proc_release,
};
