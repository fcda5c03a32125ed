/* launch_proc.h - what every launcher shares: one task's process session.
 *
 * Internal to adapters/launch/: the backends (local, mpirun) build a program
 * path, an argv and an environment, and hand them to launch_proc_spawn(); poll,
 * kill, pid and destroy are the same for all of them.  See launch.h for the
 * behaviour seen by the worker.
 */
#ifndef FS_LAUNCH_PROC_H
#define FS_LAUNCH_PROC_H

#include <signal.h>
#include <stdbool.h>
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

/* launch_proc_spawn of a plain child whose signal mask starts as mask (a
 * monitor starts with the signals it waits for blocked, so none of them can
 * kill it before it is ready). */
struct launch_proc *launch_proc_spawn_masked (const struct launch_spec *spec, const char *path,
                                              char *const argv[], char *const envp[],
                                              const sigset_t *mask, fs_error_t *err);

/* A task that ended before it began: exit_code, message msg appended to the
 * stderr file.  NULL with *err if the stderr file can't be opened. */
struct launch_proc *launch_proc_ended (const struct launch_spec *spec, int exit_code,
                                       const char *msg, fs_error_t *err);

int launch_proc_poll (struct launch_proc *p, struct launch_status *st, fs_error_t *err);
int launch_proc_kill (struct launch_proc *p, int sig, fs_error_t *err);
int launch_proc_pid (const struct launch_proc *p);
void launch_proc_destroy (struct launch_proc *p);
/* The launcher ops record, adopt and release for local and mpirun (monitored
 * tasks; a plain child has no record, and release kills it like destroy). */
int launch_proc_record (const struct launch_proc *p, char *buf, size_t size);
struct launch_proc *launch_proc_adopt (const struct launch_spec *spec, const char *rec,
                                       fs_error_t *err);
void launch_proc_release (struct launch_proc *p);
/* Free the handle of a plain child without killing or reaping it. */
void launch_proc_forget (struct launch_proc *p);

/* --- monitored tasks (monitor.c) ------------------------------------------ */
struct monitored;
/* A handle on mon (taken); NULL when out of memory. */
struct launch_proc *launch_proc_wrap (struct monitored *mon);
/* Start fedsched-monitor, which runs path with argv and envp as spec says
 * (spec->status_path set); the handle wraps it.  NULL with *err when the
 * monitor could not be started. */
struct launch_proc *launch_monitor_spawn (const struct launch_spec *spec, const char *path,
                                          char *const argv[], char *const envp[],
                                          fs_error_t *err);
int launch_monitor_poll (struct monitored *m, struct launch_status *st, fs_error_t *err);
int launch_monitor_kill (struct monitored *m, int sig, fs_error_t *err);
int launch_monitor_pid (const struct monitored *m);
int launch_monitor_record (const struct monitored *m, char *buf, size_t size);
struct monitored *launch_monitor_adopt (const struct launch_spec *spec, const char *rec,
                                        fs_error_t *err);
/* Free m; kill_it: a task still running is killed (through its monitor). */
void launch_monitor_free (struct monitored *m, bool kill_it);

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

/* The argv of one rank: spec->wrapper (if any), then prog (the program's path
 * or name, in place of argv[0]) and spec->argv[1..].  A malloc'd array of
 * borrowed strings (free() it), or NULL with *err when out of memory. */
char **launch_rank_argv (const struct launch_spec *spec, const char *prog, fs_error_t *err);

/* "site NAME" or "this site", for messages. */
const char *launch_where (const struct launch_spec *spec, char *buf, size_t size);

/* The 127/126 task for a program launch_resolve() could not find (errno as it
 * left it); what: "command", "mpirun", ... */
struct launch_proc *launch_proc_not_found (const struct launch_spec *spec, const char *what,
                                           const char *name, const char *path_env,
                                           fs_error_t *err);

#endif
