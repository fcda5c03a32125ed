/* sandbox.h - the sandbox adapter: what an app's task runs inside (SPEC
 * section 10).
 *
 * A sandbox is a struct of function pointers picked by name from site.yaml
 * (`apps: {sandbox: NAME}`, sandbox_find), like the launchers:
 *   bwrap  (adapters/sandbox/bwrap/)  bubblewrap: the whole file system
 *          read-only, the task's directory writable, a private /dev and
 *          /proc, no capabilities, no new privileges
 *   none   (adapters/sandbox/none/)   nothing: the task runs as any other
 *
 * A sandbox wraps each rank, not the launcher: wrap() gives an argv prefix
 * that every launcher puts in front of the program it starts for each rank
 * (launch_spec.wrapper), so
 *     mpirun -np N [mpirun options] PREFIX... ENTRY ARGS
 *     PREFIX... ENTRY ARGS                          (the local launcher)
 * and mpirun itself, with its daemons, runs outside.  The unpacked bundle is
 * read-only to the task because the whole file system is.
 */
#ifndef FS_SANDBOX_H
#define FS_SANDBOX_H

#include <stdbool.h>

#include "common/error.h"

struct sandbox_spec {
    const char *workdir;        /* the task's directory: writable, and its cwd */
    int ranks;                  /* > 1: the ranks share the host's process ids (Open
                                 * MPI's shared-memory transport names its segments
                                 * by pid), so no pid namespace of their own */
};

struct sandbox {
    const char *name;
    /* 0 when it can be used on this host; -1 with err saying what is missing. */
    int (*probe) (fs_error_t *err);
    /* The argv prefix for one rank (the program and its arguments follow it),
     * NULL-terminated; caller frees with sandbox_argv_free().  "none" gives an
     * empty one.  NULL with err (FS_EFAIL: out of memory). */
    char **(*wrap) (const struct sandbox_spec *spec, fs_error_t *err);
};

/* The sandbox called name ("bwrap", "none"), or NULL with err listing the
 * known ones.  Borrowed, static. */
const struct sandbox *sandbox_find (const char *name, fs_error_t *err);
/* The default where site.yaml names none: bwrap when its probe succeeds, else
 * none.  Borrowed, static. */
const struct sandbox *sandbox_default (void);
void sandbox_argv_free (char **argv);       /* accepts NULL */

#endif
