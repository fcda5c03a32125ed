/* launch_proc.c - one task's process session, shared by every launcher.
 *
 * Spawning.  The parent prepares everything (program path, argv, envp, the
 * output files, a close-on-exec report pipe) before fork(), because the worker
 * has other threads (ZeroMQ, the HDF5 I/O pool) and the child may only make
 * async-signal-safe calls: setsid, reset the signal mask and dispositions
 * (the worker may block or ignore some), dup2 the stdio files, close every
 * other descriptor (ZeroMQ sockets, SQLite...), chdir, execve.  If a step
 * fails the child writes {stage, errno} to the pipe and _exits 125/126/127;
 * EOF on the pipe means execve succeeded.  So start() blocks only until the
 * exec, and the session exists before start() returns (no race with kill).
 *
 * Ending.  poll() looks at the leader with waitid(WNOWAIT): while it is
 * unreaped its pid, which is also the session and group id, can't be reused,
 * so signalling the session (kill(-pgid) plus a /proc scan for the session id)
 * can never hit an unrelated process.  When the leader has ended, stragglers of
 * the session get SIGKILL, and the leader is reaped (and the end reported) once
 * they are gone.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sys/prctl.h>

#include "adapters/launch/launch_proc.h"
#include "common/clock.h"

struct launch_proc {
    struct monitored *mon;      /* a monitored task (monitor.c); the rest is unused */
    pid_t pid;                  /* session leader; -1 when it never ran or once reaped */
    int sid;                    /* the session id for pid(), kept after reaping */
    int errfd;                  /* the task's stderr file, for fedsched's notes; -1 */
    double t0;                  /* CLOCK_MONOTONIC at start */
    double walltime_s, grace_s;
    double kill_at;             /* when poll sends SIGKILL; 0: not armed */
    double leader_end;          /* when poll first saw the leader ended; 0: not yet */
    bool term_sent;             /* kill() or the walltime has signalled the task */
    bool kill_sent;             /* SIGKILL sent */
    int sent_sig;               /* the last signal sent to the task's processes; 0: none */
    bool done;
    struct launch_status st;
};

/* Seconds poll waits for stragglers to die after the leader has ended. */
#define STRAGGLER_WAIT_S 10.0

/* What a child that failed before its exec reports through the pipe. */
enum { STAGE_SETUP = 1, STAGE_CWD, STAGE_EXEC };
struct child_report {
    int stage;
    int err;
};

/* Exit code of a child that failed at stage with errno e (shell and env(1)
 * conventions).  Pure, so the child may call it. */
static int report_code (int stage, int e)
{
    if (stage == STAGE_EXEC)
        return e == ENOENT ? 127 : 126;
    return 125;
}

const char *launch_where (const struct launch_spec *spec, char *buf, size_t size)
{
    if (spec && spec->site && *spec->site)
        snprintf (buf, size, "site %s", spec->site);
    else
        snprintf (buf, size, "this site");
    return buf;
}

char **launch_rank_argv (const struct launch_spec *spec, const char *prog, fs_error_t *err)
{
    size_t nw = 0, na = 0, k = 0;
    for (const char *const *w = spec->wrapper; w && *w; w++)
        nw++;
    for (const char *const *a = spec->argv; *a; a++)
        na++;
    char **v = calloc (nw + na + 1, sizeof (*v));
    if (!v) {
        errprintf (err, FS_EFAIL, "out of memory starting a task");
        return NULL;
    }
    for (size_t i = 0; i < nw; i++)
        v[k++] = (char *) spec->wrapper[i];
    v[k++] = (char *) prog;
    for (size_t i = 1; i < na; i++)
        v[k++] = (char *) spec->argv[i];
    v[k] = NULL;
    return v;
}

int launch_spec_check (const struct launch_spec *spec, fs_error_t *err)
{
    if (!spec || !spec->argv || !spec->argv[0] || !spec->argv[0][0])
        return errprintf (err, FS_EINVAL, "task has no command: argv is empty");
    if (spec->ranks < 0)
        return errprintf (err, FS_EINVAL, "task asks for %d ranks: give 1 or more", spec->ranks);
    if (spec->walltime_s != spec->walltime_s)
        return errprintf (err, FS_EINVAL, "task walltime is not a number");
    for (const char *const *e = spec->env; e && *e; e++) {
        const char *eq = strchr (*e, '=');
        if (!eq || eq == *e)
            return errprintf (err, FS_EINVAL,
                              "task environment entry '%s' is not NAME=VALUE", *e);
    }
    return 0;
}

/* Move fd to 3 or above (the child dup2s onto 0..2 and keeps its report pipe
 * at 3), keeping close-on-exec.  A worker started with a closed stdin would
 * otherwise get 0 from open(). */
static int fd_above2 (int fd)
{
    if (fd < 0 || fd >= 3)
        return fd;
    int nfd = fcntl (fd, F_DUPFD_CLOEXEC, 3);
    int e = errno;
    close (fd);
    errno = e;
    return nfd;
}

static int open_out (const char *path, const char *which, const char *where, fs_error_t *err)
{
    int fd = open (path ? path : "/dev/null", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY,
                   0644);
    if (fd >= 0)
        fd = fd_above2 (fd);
    if (fd < 0)
        return errprintf (err, FS_EFAIL, "cannot open the task's %s file '%s' at %s: %s", which,
                          path ? path : "/dev/null", where, strerror (errno));
    return fd;
}

/* Append "fedsched: MESSAGE\n" to the task's stderr file. */
static void note (struct launch_proc *p, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
static void note (struct launch_proc *p, const char *fmt, ...)
{
    if (p->errfd < 0)
        return;
    char buf[1024];
    int n = snprintf (buf, sizeof (buf), "fedsched: ");
    va_list ap;
    va_start (ap, fmt);
    n += vsnprintf (buf + n, sizeof (buf) - (size_t) n - 1, fmt, ap);
    va_end (ap);
    if (n > (int) sizeof (buf) - 2)
        n = (int) sizeof (buf) - 2;
    buf[n++] = '\n';
    ssize_t w;
    do
        w = write (p->errfd, buf, (size_t) n);
    while (w < 0 && errno == EINTR);
}

static struct launch_proc *proc_new (const struct launch_spec *spec)
{
    struct launch_proc *p = calloc (1, sizeof (*p));
    if (!p)
        return NULL;
    p->pid = -1;
    p->sid = -1;
    p->errfd = -1;
    p->t0 = clock_mono ();
    p->walltime_s = spec->walltime_s > 0 ? spec->walltime_s : 0;
    p->grace_s = spec->grace_s > 0 ? spec->grace_s : LAUNCH_GRACE_S;
    return p;
}

/* Session id and start time (clock ticks after boot) of pid, from
 * /proc/PID/stat; -1 if it is gone. */
static int proc_stat (long pid, int *session, unsigned long long *start, bool *zombie)
{
    char fn[64], buf[1024];
    snprintf (fn, sizeof (fn), "/proc/%ld/stat", pid);
    int fd = open (fn, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read (fd, buf, sizeof (buf) - 1);
    close (fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    char *rp = strrchr (buf, ')');   /* comm may hold spaces and parentheses */
    char state;
    if (!rp || sscanf (rp + 1, " %c %*d %*d %d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
                       &state, session, start) != 3)
        return -1;
    *zombie = state == 'Z' || state == 'X';
    return 0;
}

/* The session id of process pid, or -1.  *zombie is set when it has ended
 * but isn't reaped yet. */
static int proc_session (long pid, bool *zombie)
{
    int sid;
    unsigned long long start;
    return proc_stat (pid, &sid, &start, zombie) == 0 ? sid : -1;
}

unsigned long long launch_start_time (long pid)
{
    int sid;
    unsigned long long start = 0;
    bool zombie;
    return pid > 0 && proc_stat (pid, &sid, &start, &zombie) == 0 && !zombie ? start : 0;
}

/* Send sig to the leader's process group and to every process of session
 * sid.  Returns how many live (non-zombie) processes of the session were
 * signalled. */
/* The most recently allocated pid (the last field of /proc/loadavg), or -1. */
static long last_pid (void)
{
    FILE *f = fopen ("/proc/loadavg", "r");
    long last = -1;
    if (f) {
        if (fscanf (f, "%*s %*s %*s %*s %ld", &last) != 1)
            last = -1;
        fclose (f);
    }
    return last;
}

static int signal_tree (pid_t sid, int sig)
{
    int live = 0;
    kill (-sid, sig);           /* ESRCH once the group is empty: fine */
    /* Every process of the session was created after its leader, so its pid is
     * above the leader's, unless pids wrapped around since: then look at all. */
    long last = last_pid ();
    bool wrapped = last < 0 || last < (long) sid;
    DIR *d = opendir ("/proc");
    if (!d) {
        kill (sid, sig);
        return 1;
    }
    struct dirent *de;
    while ((de = readdir (d))) {
        char *end;
        long pid = strtol (de->d_name, &end, 10);
        if (*end || pid <= 0 || (!wrapped && pid < (long) sid))
            continue;
        bool zombie = false;
        if (proc_session (pid, &zombie) != sid || zombie)
            continue;
        if (kill ((pid_t) pid, sig) == 0)
            live++;
    }
    closedir (d);
    return live;
}

/* The shell's convention: the leader's status, or 128+N when signal N killed
 * it.  A task the launcher signalled (walltime, cancel) ends as 128+N of the
 * last signal sent even when its leader exits instead of dying of it: mpirun
 * catches SIGTERM, passes it to the ranks and exits 1. */
static void finish (struct launch_proc *p, int wstatus)
{
    if (WIFSIGNALED (wstatus)) {
        p->st.signal = WTERMSIG (wstatus);
        p->st.exit_code = 128 + p->st.signal;
    } else if (p->sent_sig > 0) {
        p->st.signal = p->sent_sig;
        p->st.exit_code = 128 + p->sent_sig;
    } else {
        p->st.signal = 0;
        p->st.exit_code = WIFEXITED (wstatus) ? WEXITSTATUS (wstatus) : 1;
    }
    p->st.runtime_s = clock_mono () - p->t0;
    p->done = true;
    p->pid = -1;
}

struct launch_proc *launch_proc_ended (const struct launch_spec *spec, int exit_code,
                                       const char *msg, fs_error_t *err)
{
    char where[160];
    struct launch_proc *p = proc_new (spec);
    if (!p) {
        errprintf (err, FS_EFAIL, "out of memory starting a task at %s",
                   launch_where (spec, where, sizeof (where)));
        return NULL;
    }
    p->errfd = open_out (spec->stderr_path, "stderr", launch_where (spec, where, sizeof (where)),
                         err);
    if (p->errfd < 0) {
        free (p);
        return NULL;
    }
    note (p, "error: %s", msg);
    snprintf (p->st.error, sizeof (p->st.error), "%s", msg);
    p->st.exit_code = exit_code;
    p->done = true;
    return p;
}

struct launch_proc *launch_proc_not_found (const struct launch_spec *spec, const char *what,
                                           const char *name, const char *path_env,
                                           fs_error_t *err)
{
    int e = errno;
    char where[160], msg[512];
    launch_where (spec, where, sizeof (where));
    if (e == ENOMEM) {
        errprintf (err, FS_EFAIL, "out of memory starting a task at %s", where);
        return NULL;
    }
    if (e == EACCES) {
        snprintf (msg, sizeof (msg), "%s '%s' was found at %s but is not executable (permission "
                  "denied)", what, name, where);
        return launch_proc_ended (spec, 126, msg, err);
    }
    if (strchr (name, '/'))
        snprintf (msg, sizeof (msg), "%s '%s' not found at %s%s%s%s", what, name, where,
                  name[0] != '/' && spec->cwd ? " (relative to " : "",
                  name[0] != '/' && spec->cwd ? spec->cwd : "",
                  name[0] != '/' && spec->cwd ? ")" : "");
    else
        snprintf (msg, sizeof (msg), "%s '%s' not found on PATH of %s (PATH=%s): install it "
                  "there or give its absolute path", what, name, where,
                  path_env ? path_env : "unset");
    return launch_proc_ended (spec, 127, msg, err);
}

/* Close every descriptor from lo up. */
static void close_from (int lo, long maxfd)
{
    if (close_range ((unsigned) lo, ~0U, 0) == 0)
        return;
    for (long fd = lo; fd < maxfd; fd++)   /* kernels before 5.9 */
        close ((int) fd);
}

/* In the child: only async-signal-safe calls from here on. */
__attribute__ ((noreturn))
static void child (const char *cwd, const char *path, char *const argv[], char *const envp[],
                   int infd, int outfd, int errfd, int repfd, long maxfd,
                   const struct sigaction *dfl, pid_t parent, const sigset_t *mask)
{
    struct child_report r = { STAGE_SETUP, 0 };

    if (setsid () < 0)
        goto fail;
    /* The monitor's task dies with the monitor (parent > 0), also should the
     * monitor have died before this line: then its parent is another process. */
    if (parent > 0 && (prctl (PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid () != parent))
        goto fail;
    sigprocmask (SIG_SETMASK, mask, NULL);
    for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP)
            sigaction (s, dfl, NULL);   /* EINVAL for libc-reserved ones: fine */
    if (dup2 (infd, 0) < 0 || dup2 (outfd, 1) < 0 || dup2 (errfd, 2) < 0)
        goto fail;
    if (repfd != 3) {
        if (dup2 (repfd, 3) < 0)
            goto fail;
        repfd = 3;
    }
    if (fcntl (repfd, F_SETFD, FD_CLOEXEC) < 0)
        goto fail;
    close_from (4, maxfd);
    r.stage = STAGE_CWD;
    if (cwd && chdir (cwd) < 0)
        goto fail;
    r.stage = STAGE_EXEC;
    execve (path, argv, envp);
fail:
    r.err = errno;
    ssize_t w = write (repfd, &r, sizeof (r));
    (void) w;
    _exit (report_code (r.stage, r.err));
}

/* vfork: the child only makes async-signal-safe calls up to execve or _exit
 * (see child()), so it can borrow the parent's memory instead of copying its
 * page tables (a fork of a large worker costs milliseconds per task).  A frame
 * of its own, so no variable of the caller lives across the vfork. */
__attribute__ ((noinline))
static pid_t spawn_child (const char *cwd, const char *path, char *const argv[],
                          char *const envp[], int infd, int outfd, int errfd, int repfd,
                          long maxfd, const struct sigaction *dfl, pid_t parent,
                          const sigset_t *mask)
{
    pid_t pid = vfork ();
    if (pid == 0)
        child (cwd, path, argv, envp, infd, outfd, errfd, repfd, maxfd, dfl, parent, mask);
    return pid;
}

struct launch_proc *launch_proc_spawn (const struct launch_spec *spec, const char *path,
                                       char *const argv[], char *const envp[], fs_error_t *err)
{
    if (spec->status_path)
        return launch_monitor_spawn (spec, path, argv, envp, err);
    sigset_t none;
    sigemptyset (&none);
    return launch_proc_spawn_masked (spec, path, argv, envp, &none, err);
}

struct launch_proc *launch_proc_spawn_masked (const struct launch_spec *spec, const char *path,
                                              char *const argv[], char *const envp[],
                                              const sigset_t *mask, fs_error_t *err)
{
    char where[160];
    int infd = -1, outfd = -1, pfd[2] = { -1, -1 };
    struct launch_proc *p = proc_new (spec);

    launch_where (spec, where, sizeof (where));
    if (!p) {
        errprintf (err, FS_EFAIL, "out of memory starting a task at %s", where);
        return NULL;
    }
    if ((infd = fd_above2 (open ("/dev/null", O_RDONLY | O_CLOEXEC))) < 0) {
        errprintf (err, FS_EFAIL, "cannot open /dev/null at %s: %s", where, strerror (errno));
        goto fail;
    }
    if ((outfd = open_out (spec->stdout_path, "stdout", where, err)) < 0
        || (p->errfd = open_out (spec->stderr_path, "stderr", where, err)) < 0)
        goto fail;
    if (pipe2 (pfd, O_CLOEXEC) < 0 || (pfd[0] = fd_above2 (pfd[0])) < 0
        || (pfd[1] = fd_above2 (pfd[1])) < 0) {
        errprintf (err, FS_EFAIL, "cannot create a pipe at %s: %s", where, strerror (errno));
        goto fail;
    }
    long maxfd = sysconf (_SC_OPEN_MAX);
    if (maxfd < 0 || maxfd > (1L << 20))
        maxfd = 1L << 20;
    struct sigaction dfl;
    memset (&dfl, 0, sizeof (dfl));
    dfl.sa_handler = SIG_DFL;
    sigemptyset (&dfl.sa_mask);

    p->t0 = clock_mono ();
    pid_t pid = spawn_child (spec->cwd, path, argv, envp, infd, outfd, p->errfd, pfd[1], maxfd,
                             &dfl, spec->die_with_parent ? getpid () : 0, mask);
    if (pid < 0) {
        errprintf (err, FS_EFAIL, "cannot start a task at %s: vfork: %s", where, strerror (errno));
        goto fail;
    }

    close (pfd[1]);
    close (infd);
    close (outfd);
    struct child_report r;
    ssize_t n;
    do
        n = read (pfd[0], &r, sizeof (r));
    while (n < 0 && errno == EINTR);
    close (pfd[0]);
    p->pid = pid;
    p->sid = pid;
    if (n == (ssize_t) sizeof (r)) {
        /* It failed before or at execve and is _exiting: reap it now. */
        int ws = 0;
        while (waitpid (pid, &ws, 0) < 0 && errno == EINTR)
            ;
        finish (p, ws);
        p->sid = -1;
        p->st.runtime_s = 0;
        if (r.stage == STAGE_EXEC && r.err == ENOENT)
            snprintf (p->st.error, sizeof (p->st.error), "cannot execute '%s' at %s: %s (for a "
                      "script: is its #! interpreter installed there?)", path, where,
                      strerror (r.err));
        else if (r.stage == STAGE_EXEC)
            snprintf (p->st.error, sizeof (p->st.error), "cannot execute '%s' at %s: %s", path,
                      where, strerror (r.err));
        else if (r.stage == STAGE_CWD)
            snprintf (p->st.error, sizeof (p->st.error), "cannot enter the task's working "
                      "directory '%s' at %s: %s", spec->cwd, where, strerror (r.err));
        else
            snprintf (p->st.error, sizeof (p->st.error), "cannot set up the task's process at "
                      "%s: %s", where, strerror (r.err));
        note (p, "error: %s", p->st.error);
    }
    return p;
fail:
    if (infd >= 0)
        close (infd);
    if (outfd >= 0)
        close (outfd);
    if (pfd[0] >= 0)
        close (pfd[0]);
    if (pfd[1] >= 0)
        close (pfd[1]);
    launch_proc_destroy (p);
    return NULL;
}

static const char *signame (int sig, char *buf, size_t size)
{
    const char *abbrev = sigabbrev_np (sig);
    if (abbrev)
        snprintf (buf, size, "SIG%s", abbrev);
    else
        snprintf (buf, size, "signal %d", sig);
    return buf;
}

int launch_proc_poll (struct launch_proc *p, struct launch_status *st, fs_error_t *err)
{
    if (p->mon)
        return launch_monitor_poll (p->mon, st, err);
    if (!p->done) {
        siginfo_t si;
        memset (&si, 0, sizeof (si));
        if (waitid (P_PID, (id_t) p->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0) {
            if (errno == EINTR)
                return 0;
            return errprintf (err, FS_EFAIL, "task process %d: waitid: %s (was it reaped "
                              "elsewhere? the worker must not ignore SIGCHLD)", (int) p->pid,
                              strerror (errno));
        }
        if (si.si_pid == p->pid) {
            /* The leader has ended; unreaped, it keeps its pid and so the session
             * id.  SIGKILL the stragglers, and report the end only once they are
             * gone (they die asynchronously), so that a task that has ended holds
             * no core.  One stuck in the kernel (D state) for 10 s is given up on. */
            double t = clock_mono ();
            if (p->leader_end <= 0)
                p->leader_end = t;
            if (signal_tree (p->pid, SIGKILL) > 0) {
                if (t - p->leader_end < STRAGGLER_WAIT_S)
                    return 0;
                note (p, "processes of the task survive SIGKILL for %g s; giving up on them",
                      STRAGGLER_WAIT_S);
            }
            int ws = 0;
            pid_t r;
            while ((r = waitpid (p->pid, &ws, 0)) < 0 && errno == EINTR)
                ;
            if (r < 0)
                return errprintf (err, FS_EFAIL, "task process %d: waitpid: %s", (int) p->pid,
                                  strerror (errno));
            finish (p, ws);
            p->st.runtime_s = p->leader_end - p->t0;
        } else {
            double t = clock_mono ();
            if (p->walltime_s > 0 && !p->term_sent && t - p->t0 >= p->walltime_s) {
                p->st.walltime_exceeded = true;
                p->term_sent = true;
                p->kill_at = t + p->grace_s;
                note (p, "walltime of %g s exceeded: sending SIGTERM to the task's processes, "
                      "SIGKILL in %g s", p->walltime_s, p->grace_s);
                p->sent_sig = SIGTERM;
                signal_tree (p->pid, SIGTERM);
            }
            if (p->kill_at > 0 && !p->kill_sent && t >= p->kill_at) {
                p->kill_sent = true;
                note (p, "task still running %g s after SIGTERM: sending SIGKILL", p->grace_s);
                p->sent_sig = SIGKILL;
                signal_tree (p->pid, SIGKILL);
            }
            return 0;
        }
    }
    if (st)
        *st = p->st;
    return 1;
}

int launch_proc_kill (struct launch_proc *p, int sig, fs_error_t *err)
{
    char name[32];
    if (p->mon)
        return launch_monitor_kill (p->mon, sig, err);
    if (p->done)
        return 0;
    if (sig <= 0 || sig >= NSIG)
        return errprintf (err, FS_EINVAL, "cannot send signal %d to a task: not a signal", sig);
    p->st.killed = true;
    if (sig == SIGKILL) {
        note (p, "task cancelled: sending SIGKILL to the task's processes");
        p->kill_sent = true;
    } else {
        note (p, "task cancelled: sending %s to the task's processes, SIGKILL in %g s",
              signame (sig, name, sizeof (name)), p->grace_s);
        if (p->kill_at <= 0)
            p->kill_at = clock_mono () + p->grace_s;
    }
    p->term_sent = true;
    p->sent_sig = sig;
    signal_tree (p->pid, sig);
    return 0;
}

int launch_proc_pid (const struct launch_proc *p)
{
    return !p ? -1 : p->mon ? launch_monitor_pid (p->mon) : p->sid;
}

struct launch_proc *launch_proc_wrap (struct monitored *mon)
{
    struct launch_proc *p = calloc (1, sizeof (*p));
    if (p)
        p->mon = mon;
    return p;
}

int launch_proc_record (const struct launch_proc *p, char *buf, size_t size)
{
    return p && p->mon ? launch_monitor_record (p->mon, buf, size) : -1;
}

struct launch_proc *launch_proc_adopt (const struct launch_spec *spec, const char *rec,
                                       fs_error_t *err)
{
    struct monitored *mon = launch_monitor_adopt (spec, rec, err);
    struct launch_proc *p = mon ? launch_proc_wrap (mon) : NULL;
    if (mon && !p) {
        launch_monitor_free (mon, false);
        errprintf (err, FS_EFAIL, "out of memory adopting a task");
    }
    return p;
}

/* Free p; kill: a task still running is killed first (a plain child is always). */
static void proc_free (struct launch_proc *p, bool kill_it)
{
    if (!p)
        return;
    if (p->mon) {
        launch_monitor_free (p->mon, kill_it);
        free (p);
        return;
    }
    if (!p->done && p->pid > 0) {
        signal_tree (p->pid, SIGKILL);
        while (waitpid (p->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    if (p->errfd >= 0)
        close (p->errfd);
    free (p);
}

void launch_proc_destroy (struct launch_proc *p)
{
    proc_free (p, true);
}

void launch_proc_release (struct launch_proc *p)
{
    proc_free (p, false);
}

/* Leave a plain child running and unreaped: only its handle goes (the
 * monitor's handle on its own process, when the worker releases the task). */
void launch_proc_forget (struct launch_proc *p)
{
    if (!p)
        return;
    if (p->errfd >= 0)
        close (p->errfd);
    free (p);
}
