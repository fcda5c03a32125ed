/* daemon.h - what the scheduler and the site worker share at start-up. */
#ifndef FS_DAEMON_H
#define FS_DAEMON_H

/* Parse "-c FILE [-v] [-h]" for the daemon `name` ("scheduler", "worker"),
 * whose usage lines are `usage`.  Returns 0 with *cfgfile and *level set, or
 * the process exit code to return at once (0 after --help, 2 on bad usage). */
int daemon_args (int argc, char **argv, const char *usage, const char **cfgfile, int *level,
                 int *exit_now);

#endif
