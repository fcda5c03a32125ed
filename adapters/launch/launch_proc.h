/* launch_proc.h - what every launcher shares: one task's process session.
 *
 * Internal to adapters/launch/: the backends (local, mpirun) build a program
 * path, an argv and an environment, and hand them to launch_proc_spawn(); poll,
 * kill, pid and destroy are the same for all of them.  See launch.h for the
 * behaviour seen by the worker.
 */
#ifndef FS_LAUNCH_PROC_H
#define FS_LAUNCH_PROC_H

#include <stddef.h>

#include "adapters/launch/launch.h"

/* The backends, listed by launch.c. */
extern const struct launcher launcher_local;
extern const struct launcher launcher_mpirun;
extern const struct launcher launcher_slurm;

/* Check what every backend needs: argv[0] non-empty, ranks >= 0, env "K=V".
 * -1 with *err (FS_EINVAL) otherwise. */
int launch_spec_check (const struct launch_spec *spec, fs_error_t *err);

/* Spawn path with argv and the full environment envp (all NULL-terminated,
 * borrowed) in a new session, with spec's cwd, output files, walltime and
 * grace.  Returns a task (caller frees with launch_proc_destroy), or NULL with
 * *err when nothing was started.  An exec failure gives a task that has ended
 * (126/127, or 125 for a set-up failure) with the message in its status and
 * stderr file. */
struct launch_proc *launch_proc_spawn (const struct launch_spec *spec, const char *path,
                                       char *const argv[], char *const envp[], fs_error_t *err);

/* A task that ended before it began: exit_code, message msg appended to the
 * stderr file.  NULL with *err if the stderr file can't be opened. */
struct launch_proc *launch_proc_ended (const struct launch_spec *spec, int exit_code,
                                       const char *msg, fs_error_t *err);

int launch_proc_poll (struct launch_proc *p, struct launch_status *st, fs_error_t *err);
int launch_proc_kill (struct launch_proc *p, int sig, fs_error_t *err);
int launch_proc_pid (const struct launch_proc *p);
void launch_proc_destroy (struct launch_proc *p);

/* The worker's environment with extra ("K=V", each list NULL or NULL-terminated,
 * later ones win) applied.  The array is malloc'd (free() it), its strings are
 * borrowed.  NULL with *err (FS_EINVAL) when an entry has no '='. */
char **launch_env_merge (const char *const *extra1, const char *const *extra2, fs_error_t *err);

/* The value of name in envp, or NULL.  Borrowed. */
const char *launch_env_get (char *const envp[], const char *name);

/* Find the program `name` as execve would after chdir(cwd): with a '/', as a
 * path relative to cwd; else on path_env (the task's PATH; NULL: the default
 * path).  Returns a malloc'd path, or NULL with errno ENOENT (not found),
 * EACCES (found but not executable) or ENOMEM. */
char *launch_resolve (const char *name, const char *path_env, const char *cwd);

/* "site NAME" or "this site", for messages. */
const char *launch_where (const struct launch_spec *spec, char *buf, size_t size);

/* The 127/126 task for a program launch_resolve() could not find (errno as it
 * left it); what: "command", "mpirun", ... */
struct launch_proc *launch_proc_not_found (const struct launch_spec *spec, const char *what,
                                           const char *name, const char *path_env,
                                           fs_error_t *err);

#endif
