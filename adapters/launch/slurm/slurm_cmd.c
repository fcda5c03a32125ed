/* slurm_cmd.c - run one Slurm command and collect what it prints (see slurm.h).
 *
 * Called on the tracker's thread only: it waits for the command.  The child is
 * made with posix_spawnp (safe in a process with other threads: nothing but
 * the exec runs in the child), stdin from /dev/null, stdout and stderr into
 * pipes read with poll() until both close or the timeout, every descriptor
 * above 2 closed in the child.  A command past its timeout gets SIGKILL and is
 * reaped by its pid (never waitpid(-1): the worker's tasks are reaped by
 * theirs).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "adapters/launch/slurm/slurm.h"
#include "common/clock.h"
#include "common/sbuf.h"

extern char **environ;

/* Append what a pipe gave, up to max bytes in all. */
static void keep (struct sbuf *b, const char *s, size_t n, size_t max)
{
    if (b->len < max)
        sbuf_add (b, s, n < max - b->len ? n : max - b->len);
}

/* The text, never NULL (an empty string when memory ran out). */
static char *take (struct sbuf *b)
{
    char *s = b->failed ? NULL : sbuf_take (b);
    sbuf_free (b);
    return s ? s : strdup ("");
}

void slurm_out_free (struct slurm_out *o)
{
    if (!o)
        return;
    free (o->out);
    free (o->err);
    o->out = o->err = NULL;
}

int slurm_run (char *const argv[], double timeout_s, size_t max_bytes, struct slurm_out *o)
{
    struct sbuf bo = SBUF_INIT, be = SBUF_INIT;
    int po[2] = { -1, -1 }, pe[2] = { -1, -1 };
    posix_spawn_file_actions_t fa;
    bool fa_init = false;
    pid_t pid = -1;
    int rc = -1;
    memset (o, 0, sizeof (*o));
    o->status = -1;
    if (pipe2 (po, O_CLOEXEC) < 0 || pipe2 (pe, O_CLOEXEC) < 0) {
        keep (&be, "cannot make a pipe", 18, max_bytes);
        goto out;
    }
    if (posix_spawn_file_actions_init (&fa) != 0)
        goto out;
    fa_init = true;
    if (posix_spawn_file_actions_addopen (&fa, 0, "/dev/null", O_RDONLY, 0) != 0
        || posix_spawn_file_actions_adddup2 (&fa, po[1], 1) != 0
        || posix_spawn_file_actions_adddup2 (&fa, pe[1], 2) != 0
        || posix_spawn_file_actions_addclosefrom_np (&fa, 3) != 0)
        goto out;
    posix_spawnattr_t at;
    posix_spawnattr_init (&at);
    sigset_t none, dfl;
    sigemptyset (&none);
    sigemptyset (&dfl);
    sigaddset (&dfl, SIGPIPE);
    sigaddset (&dfl, SIGTERM);
    sigaddset (&dfl, SIGINT);
    sigaddset (&dfl, SIGCHLD);
    posix_spawnattr_setsigmask (&at, &none);
    posix_spawnattr_setsigdefault (&at, &dfl);
    posix_spawnattr_setflags (&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    int e = posix_spawnp (&pid, argv[0], &fa, &at, argv, environ);
    posix_spawnattr_destroy (&at);
    if (e != 0) {
        pid = -1;
        const char *m = strerror (e);
        sbuf_printf (&be, "%s: %s", argv[0], m);
        goto out;
    }
    close (po[1]);
    close (pe[1]);
    po[1] = pe[1] = -1;

    double deadline = clock_mono () + timeout_s;
    struct pollfd fds[2] = { { .fd = po[0], .events = POLLIN }, { .fd = pe[0], .events = POLLIN } };
    int open_fds = 2;
    while (open_fds > 0) {
        double left = deadline - clock_mono ();
        if (left <= 0) {
            o->timed_out = true;
            kill (pid, SIGKILL);
            break;
        }
        int n = poll (fds, 2, (int)(left * 1000) + 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char chunk[4096];
            ssize_t r = read (fds[i].fd, chunk, sizeof (chunk));
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                fds[i].fd = -1;
                open_fds--;
                continue;
            }
            keep (i == 0 ? &bo : &be, chunk, (size_t)r, max_bytes);
        }
    }
    /* Both pipes closed (or the time is up): the command ends now, or is made to. */
    int ws = 0;
    for (;;) {
        pid_t w = waitpid (pid, &ws, o->timed_out ? 0 : WNOHANG);
        if (w == pid || (w < 0 && errno != EINTR))
            break;
        if (w == 0 && clock_mono () >= deadline) {
            o->timed_out = true;
            kill (pid, SIGKILL);
        } else if (w == 0) {
            usleep (2000);
        }
    }
    if (o->timed_out) {
        rc = -1;
    } else {
        o->status = WIFEXITED (ws) ? WEXITSTATUS (ws) : 128 + WTERMSIG (ws);
        rc = 0;
    }
out:
    if (fa_init)
        posix_spawn_file_actions_destroy (&fa);
    for (int i = 0; i < 2; i++) {
        if (po[i] >= 0)
            close (po[i]);
        if (pe[i] >= 0)
            close (pe[i]);
    }
    o->out = take (&bo);
    o->err = take (&be);
    return rc;
}
