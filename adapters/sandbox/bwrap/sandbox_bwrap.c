/* sandbox_bwrap.c - bubblewrap (bwrap 0.8) around each rank of an app's task:
 *
 *   bwrap --ro-bind / /            the whole file system, read-only (the bundle too)
 *         --dev /dev --proc /proc  a private /dev and /proc
 *         --bind DIR DIR           the task's directory, writable
 *         --chdir DIR
 *         --cap-drop ALL           no capabilities, even as root (else root inside
 *                                  could remount / read-write)
 *         --die-with-parent        gone when mpirun's daemon or the monitor is
 *         [--unshare-pid]          a pid namespace of its own for one-rank tasks
 *         [--dev-bind /dev/shm /dev/shm]  multi-rank tasks: the host's shared memory,
 *                                  where Open MPI's ranks meet (its shared-memory
 *                                  transport and MPI-IO's semaphores); a private
 *                                  /dev/shm per rank would cut them apart
 *         --                       then the entry point and its arguments
 *
 * bwrap always sets no_new_privs, so nothing inside gains privileges by exec
 * (setuid programs stay unprivileged).  /tmp is the host's, read-only: a task
 * writes temporary files under $TMPDIR, which the site points into the
 * task's directory (Open MPI keeps its session directory there too).  The
 * network is the host's: a task may still stage through the site.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapters/sandbox/sandbox_int.h"

/* bwrap on PATH (or the default path), executable. */
static int bwrap_probe (fs_error_t *err)
{
    const char *path = getenv ("PATH");
    char buf[4096];
    for (const char *p = path && *path ? path : "/usr/local/bin:/usr/bin:/bin"; *p;) {
        size_t len = strcspn (p, ":");
        if (len > 0 && len < sizeof (buf) - 8) {
            memcpy (buf, p, len);
            memcpy (buf + len, "/bwrap", 7);
            if (access (buf, X_OK) == 0)
                return 0;
        }
        p += len;
        if (*p == ':')
            p++;
    }
    return errprintf (err, FS_EFAIL, "the sandbox 'bwrap' needs bubblewrap, which is not on "
                      "PATH (apt-get install bubblewrap), or set apps.sandbox: none");
}

static char **bwrap_wrap (const struct sandbox_spec *spec, fs_error_t *err)
{
    const char *dir = spec->workdir;
    if (!dir || dir[0] != '/')
        return errprintf (err, FS_EINVAL, "bwrap: the task's directory must be absolute"), NULL;
    const char *v[24] = { "bwrap",  "--ro-bind", "/",       "/",      "--dev",  "/dev",
                          "--proc", "/proc",     "--bind",  dir,      dir,      "--chdir",
                          dir,      "--cap-drop", "ALL",    "--die-with-parent" };
    size_t n = 16;
    if (spec->ranks > 1) {
        /* Ranks share the host's pids and shared memory. */
        v[n++] = "--dev-bind";
        v[n++] = "/dev/shm";
        v[n++] = "/dev/shm";
    } else {
        v[n++] = "--unshare-pid";
    }
    v[n++] = "--";
    return sandbox_argv_new (v, n, err);
}

const struct sandbox sandbox_bwrap = {
    .name = "bwrap",
    .probe = bwrap_probe,
    .wrap = bwrap_wrap,
};
