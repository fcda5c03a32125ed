/* monitor.c - monitored tasks (see launch.h, "Monitored tasks").
 *
 * Two sides:
 *
 * The worker's.  launch_proc_spawn() with spec->status_path set starts
 *
 *     fedsched-monitor --status FILE [--walltime S] [--grace S] [--stdout F]
 *                      [--stderr F] [--cwd D] [--readonly DIR]... -- PATH ARGV...
 *
 * (and, in front of each rank of a batch job, whose ranks the batch system
 * starts and watches: fedsched-monitor --exec [--readonly DIR]... -- PROG
 * ARGS..., which only makes the directories read-only and execs PROG)
 *
 * as a plain child (in a session of its own) with the task's environment, and
 * returns a handle on it.  poll() reaps that child and reads FILE; a handle
 * adopted from a record ("monitor PID START": the monitor's pid and its start
 * time in clock ticks after boot, so a recycled pid is never taken for it)
 * watches /proc instead, since the monitor is then nobody's child here.  kill()
 * passes SIGTERM on as SIGTERM and SIGKILL as SIGUSR1 (the monitor escalates
 * and cleans up the task's process tree itself).
 *
 * The monitor's (launch_monitor_main).  It makes the read-only directories
 * read-only in a mount namespace of its own, starts the task as a plain child
 * (launch_proc_spawn without status_path, so the task is a session of its own
 * that dies with the monitor), waits for SIGCHLD, SIGTERM or SIGUSR1 with the
 * timer of the walltime and the SIGKILL escalation, and when the task has ended
 * writes its status and exits 0.  Its notes go to the task's stderr file.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "adapters/launch/launch_proc.h"
#include "common/clock.h"

extern char **environ;

#define MONITOR_PROGRAM "fedsched-monitor"
#define ADOPTED_POLL_S 0.2          /* how often an adopted task's monitor is looked up */

struct monitored {
    struct launch_proc *child;      /* the monitor as our child; NULL when adopted */
    long pid;
    unsigned long long start;       /* 0: unknown (it had ended before we looked) */
    char *status_path;
    double next_look;               /* adopted: when to look at /proc again */
    bool done;
    struct launch_status st;
};

/* --- the status file ---------------------------------------------------------- */

int launch_status_write (const char *path, const struct launch_status *st, fs_error_t *err)
{
    char tmp[PATH_MAX + 8];
    if (snprintf (tmp, sizeof (tmp), "%s.tmp", path) >= (int) sizeof (tmp))
        return errprintf (err, FS_EINVAL, "status file path too long: %s", path);
    json_t *o = json_pack ("{s:i, s:i, s:b, s:b, s:f, s:s, s:b, s:b}", "exit_code", st->exit_code,
                           "signal", st->signal, "walltime_exceeded", st->walltime_exceeded,
                           "killed", st->killed, "runtime_s", st->runtime_s, "error", st->error,
                           "site_failure", st->site_failure, "requeue", st->requeue);
    if (!o)
        return errprintf (err, FS_EFAIL, "out of memory writing %s", path);
    int rc = json_dump_file (o, tmp, JSON_COMPACT);
    json_decref (o);
    if (rc < 0 || rename (tmp, path) < 0) {
        int e = errno;
        unlink (tmp);
        return errprintf (err, FS_EFAIL, "cannot write the task's status file %s: %s", path,
                          strerror (e));
    }
    return 0;
}

int launch_status_read (const char *path, struct launch_status *st, fs_error_t *err)
{
    json_error_t je;
    json_t *o = json_load_file (path, JSON_REJECT_DUPLICATES, &je);
    if (!o) {
        if (access (path, F_OK) < 0 && errno == ENOENT)
            return 0;
        return errprintf (err, FS_EINVAL, "%s:%d:%d: task status file: %s", path, je.line,
                          je.column, je.text);
    }
    memset (st, 0, sizeof (*st));
    const char *error = "";
    int wall = 0, killed = 0, site = 0, requeue = 0;
    double runtime = 0;
    int rc = json_unpack_ex (o, &je, 0, "{s:i, s?i, s?b, s?b, s?F, s?s, s?b, s?b}", "exit_code",
                             &st->exit_code, "signal", &st->signal, "walltime_exceeded", &wall,
                             "killed", &killed, "runtime_s", &runtime, "error", &error,
                             "site_failure", &site, "requeue", &requeue);
    if (rc == 0) {
        st->walltime_exceeded = wall;
        st->killed = killed;
        st->runtime_s = runtime;
        st->site_failure = site;
        st->requeue = requeue;
        snprintf (st->error, sizeof (st->error), "%s", error);
    }
    json_decref (o);
    if (rc < 0)
        return errprintf (err, FS_EINVAL, "%s: task status file: %s", path, je.text);
    return 1;
}

/* --- the worker's side --------------------------------------------------------- */

/* The signals a monitor waits for: blocked from its very start (the mask is
 * inherited across exec), so a kill sent before it is ready stays pending. */
static const sigset_t *monitor_signals (void)
{
    static sigset_t set;
    static bool made;
    if (!made) {
        sigemptyset (&set);
        int sigs[] = { SIGCHLD, SIGTERM, SIGUSR1, SIGINT, SIGHUP };
        for (size_t s = 0; s < sizeof (sigs) / sizeof (sigs[0]); s++)
            sigaddset (&set, sigs[s]);
        made = true;
    }
    return &set;
}

/* The monitor program: $FEDSCHED_MONITOR, else fedsched-monitor beside the
 * running executable (also after an upgrade replaced it), else on PATH. */
const char *launch_monitor_program (char *buf, size_t n)
{
    const char *e = getenv ("FEDSCHED_MONITOR");
    if (e && *e)
        return e;
    ssize_t k = readlink ("/proc/self/exe", buf, n - sizeof (MONITOR_PROGRAM) - 1);
    char *slash = k > 0 ? memrchr (buf, '/', (size_t) k) : NULL;
    if (!slash)
        return MONITOR_PROGRAM;
    strcpy (slash + 1, MONITOR_PROGRAM);
    return buf;
}

static struct monitored *mon_new (const char *status_path)
{
    struct monitored *m = calloc (1, sizeof (*m));
    if (m && !(m->status_path = strdup (status_path))) {
        free (m);
        m = NULL;
    }
    return m;
}

struct launch_proc *launch_monitor_spawn (const struct launch_spec *spec, const char *path,
                                          char *const argv[], char *const envp[],
                                          fs_error_t *err)
{
    char prog[PATH_MAX], wall[32], grace[32], where[160];
    size_t nargv = 0, nro = 0;
    for (char *const *a = argv; *a; a++)
        nargv++;
    for (const char *const *r = spec->readonly; r && *r; r++)
        nro++;
    const char **v = calloc (20 + 2 * nro + nargv, sizeof (*v));
    struct monitored *m = mon_new (spec->status_path);
    if (!v || !m) {
        free (v);
        launch_monitor_free (m, false);
        errprintf (err, FS_EFAIL, "out of memory starting a task at %s",
                   launch_where (spec, where, sizeof (where)));
        return NULL;
    }
    size_t k = 0;
    v[k++] = launch_monitor_program (prog, sizeof (prog));
    v[k++] = "--status";
    v[k++] = spec->status_path;
    snprintf (wall, sizeof (wall), "%.17g", spec->walltime_s > 0 ? spec->walltime_s : 0);
    snprintf (grace, sizeof (grace), "%.17g", spec->grace_s > 0 ? spec->grace_s : LAUNCH_GRACE_S);
    v[k++] = "--walltime";
    v[k++] = wall;
    v[k++] = "--grace";
    v[k++] = grace;
    const char *opt[][2] = { { "--stdout", spec->stdout_path }, { "--stderr", spec->stderr_path },
                             { "--cwd", spec->cwd }, { "--site", spec->site } };
    for (size_t i = 0; i < sizeof (opt) / sizeof (opt[0]); i++)
        if (opt[i][1]) {
            v[k++] = opt[i][0];
            v[k++] = opt[i][1];
        }
    for (const char *const *r = spec->readonly; r && *r; r++) {
        v[k++] = "--readonly";
        v[k++] = *r;
    }
    v[k++] = "--";
    v[k++] = path;
    for (size_t i = 0; i < nargv; i++)
        v[k++] = argv[i];
    v[k] = NULL;
    /* The monitor itself: a plain child, no walltime (it keeps the task's). */
    struct launch_spec ms = *spec;
    ms.status_path = NULL;
    ms.readonly = NULL;
    ms.walltime_s = 0;
    ms.argv = v;
    m->child = launch_proc_spawn_masked (&ms, v[0], (char *const *) v, envp, monitor_signals (),
                                         err);
    free (v);
    struct launch_proc *p = m->child ? launch_proc_wrap (m) : NULL;
    if (!p) {
        launch_monitor_free (m, true);
        if (m->child)
            errprintf (err, FS_EFAIL, "out of memory starting a task at %s",
                       launch_where (spec, where, sizeof (where)));
        return NULL;
    }
    m->pid = launch_proc_pid (m->child);
    m->start = m->pid > 0 ? launch_start_time (m->pid) : 0;
    return p;
}

/* Is the monitor still there (adopted: the same process, by its start time)? */
static bool mon_alive (struct monitored *m, fs_error_t *err, int *rc)
{
    *rc = 0;
    if (m->child) {
        struct launch_status cst;
        int r = launch_proc_poll (m->child, &cst, err);
        if (r < 0) {
            *rc = -1;
            return false;
        }
        if (r == 1 && cst.error[0])         /* the monitor itself could not start */
            snprintf (m->st.error, sizeof (m->st.error), "cannot start the task's monitor: %.470s",
                      cst.error);
        return r == 0;
    }
    return m->start > 0 && launch_start_time (m->pid) == m->start;
}

int launch_monitor_poll (struct monitored *m, struct launch_status *st, fs_error_t *err)
{
    if (!m->done) {
        if (!m->child) {
            double now = clock_mono ();
            if (now < m->next_look)
                return 0;
            m->next_look = now + ADOPTED_POLL_S;
        }
        int rc;
        if (mon_alive (m, err, &rc))
            return 0;
        if (rc < 0)
            return -1;
        /* The monitor is gone: its status file says how the task ended. */
        char why[sizeof (m->st.error)];
        snprintf (why, sizeof (why), "%s", m->st.error);
        fs_error_t e;
        int r = launch_status_read (m->status_path, &m->st, &e);
        if (r <= 0) {
            memset (&m->st, 0, sizeof (m->st));
            m->st.exit_code = -1;
            m->st.site_failure = true;
            if (why[0])
                snprintf (m->st.error, sizeof (m->st.error), "%s", why);
            else if (r < 0)
                snprintf (m->st.error, sizeof (m->st.error), "%.500s", e.text);
            else
                snprintf (m->st.error, sizeof (m->st.error), "the task's monitor (pid %ld) "
                          "ended without recording how the task ended (was it killed, or did "
                          "the node restart?)", m->pid);
        }
        m->done = true;
    }
    if (st)
        *st = m->st;
    return 1;
}

int launch_monitor_kill (struct monitored *m, int sig, fs_error_t *err)
{
    if (m->done)
        return 0;
    if (sig <= 0 || sig >= NSIG)
        return errprintf (err, FS_EINVAL, "cannot send signal %d to a task: not a signal", sig);
    int rc;
    if (!mon_alive (m, err, &rc))
        return rc;              /* it has ended: poll reports how */
    if (kill ((pid_t) m->pid, sig == SIGKILL ? SIGUSR1 : SIGTERM) < 0 && errno != ESRCH)
        return errprintf (err, FS_EFAIL, "cannot signal the task's monitor (pid %ld): %s",
                          m->pid, strerror (errno));
    return 0;
}

int launch_monitor_pid (const struct monitored *m)
{
    return (int) m->pid;
}

int launch_monitor_record (const struct monitored *m, char *buf, size_t size)
{
    int n = snprintf (buf, size, "monitor %ld %llu", m->pid, m->start);
    return n > 0 && (size_t) n < size ? 0 : -1;
}

/* The live monitor whose command line names status as its status file: its
 * pid, or 0.  For a worker that died between a launch and its record. */
static long monitor_by_status (const char *status)
{
    DIR *d = opendir ("/proc");
    if (!d)
        return 0;
    size_t want = strlen (status) + 1;
    long found = 0;
    struct dirent *de;
    char buf[8192];
    while (!found && (de = readdir (d))) {
        char *end, fn[64];
        long pid = strtol (de->d_name, &end, 10);
        if (*end || pid <= 1)
            continue;
        snprintf (fn, sizeof (fn), "/proc/%ld/cmdline", pid);
        int fd = open (fn, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t n = read (fd, buf, sizeof (buf));
        close (fd);
        for (ssize_t i = 0; n > 0 && i + 9 + (ssize_t) want <= n; i++)
            if (!memcmp (buf + i, "--status", 9) && !memcmp (buf + i + 9, status, want)) {
                found = pid;
                break;
            }
    }
    closedir (d);
    return found;
}

struct monitored *launch_monitor_adopt (const struct launch_spec *spec, const char *rec,
                                        fs_error_t *err)
{
    long pid;
    unsigned long long start;
    int end = 0;
    if (!spec->status_path)
        return errprintf (err, FS_EINVAL, "adopting a task needs its status file"), NULL;
    if (!rec[0]) {
        /* No record: the worker died right after the launch, or before it. */
        pid = access (spec->status_path, F_OK) == 0 ? 0 : monitor_by_status (spec->status_path);
        start = pid > 0 ? launch_start_time (pid) : 0;
        if (pid == 0 && access (spec->status_path, F_OK) < 0)
            return errprintf (err, FS_ENOTFOUND, "the task was never started"), NULL;
    } else if (sscanf (rec, "monitor %ld %llu%n", &pid, &start, &end) != 2 || rec[end] != '\0'
               || pid <= 1) {
        return errprintf (err, FS_EINVAL, "not a record of a monitored task: '%.200s'", rec),
               NULL;
    }
    struct monitored *m = mon_new (spec->status_path);
    if (!m)
        return errprintf (err, FS_EFAIL, "out of memory adopting a task"), NULL;
    m->pid = pid;
    m->start = start;
    return m;
}

void launch_monitor_free (struct monitored *m, bool kill_it)
{
    if (!m)
        return;
    if (m->child) {
        if (kill_it && !m->done) {
            /* The monitor kills the task's tree, writes the status, exits. */
            kill ((pid_t) m->pid, SIGUSR1);
            double t0 = clock_mono ();
            struct launch_status st;
            while (launch_proc_poll (m->child, &st, NULL) == 0 && clock_mono () - t0 < 15)
                usleep (10000);
            launch_proc_destroy (m->child);
        } else if (m->done) {
            launch_proc_destroy (m->child);
        } else {
            launch_proc_forget (m->child);      /* it runs on, for a later worker */
        }
    } else if (kill_it && !m->done && m->start > 0 && launch_start_time (m->pid) == m->start) {
        kill ((pid_t) m->pid, SIGUSR1);
    }
    free (m->status_path);
    free (m);
}

/* --- the monitor ------------------------------------------------------------------ */

static void say (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
static void say (const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (buf, sizeof (buf), fmt, ap);
    va_end (ap);
    dprintf (2, "fedsched: %s\n", buf);
}

static int write_file (const char *path, const char *text)
{
    int fd = open (path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write (fd, text, strlen (text));
    close (fd);
    return n == (ssize_t) strlen (text) ? 0 : -1;
}

/* The mount flags a read-only remount of dir must keep (in a user namespace
 * the kernel refuses to drop locked ones). */
static unsigned long kept_flags (const char *dir)
{
    struct statvfs sv;
    unsigned long f = 0;
    if (statvfs (dir, &sv) < 0)
        return 0;
    if (sv.f_flag & ST_NOSUID)
        f |= MS_NOSUID;
    if (sv.f_flag & ST_NODEV)
        f |= MS_NODEV;
    if (sv.f_flag & ST_NOEXEC)
        f |= MS_NOEXEC;
    if (sv.f_flag & ST_NOATIME)
        f |= MS_NOATIME;
    if (sv.f_flag & ST_NODIRATIME)
        f |= MS_NODIRATIME;
    if (sv.f_flag & ST_RELATIME)
        f |= MS_RELATIME;
    return f;
}

/* Enter a mount namespace of our own (and a user namespace when not root) in
 * which every directory of dirs is read-only. */
static int readonly_view (const char *const *dirs, int n, fs_error_t *err)
{
    uid_t uid = geteuid ();
    gid_t gid = getegid ();
    if (unshare (CLONE_NEWNS) < 0) {
        if (errno != EPERM)
            return errprintf (err, FS_EFAIL, "cannot make the site's data roots read-only for "
                              "the task: unshare: %s", strerror (errno));
        char map[64];
        if (unshare (CLONE_NEWUSER | CLONE_NEWNS) < 0)
            return errprintf (err, FS_EFAIL, "cannot make the site's data roots read-only for "
                              "the task: unshare: %s (run the worker as root, or allow user "
                              "namespaces: sysctl kernel.unprivileged_userns_clone=1)",
                              strerror (errno));
        snprintf (map, sizeof (map), "%u %u 1\n", (unsigned) uid, (unsigned) uid);
        if (write_file ("/proc/self/setgroups", "deny") < 0
            || write_file ("/proc/self/uid_map", map) < 0)
            return errprintf (err, FS_EFAIL, "cannot map the worker's user into a user "
                              "namespace: %s", strerror (errno));
        snprintf (map, sizeof (map), "%u %u 1\n", (unsigned) gid, (unsigned) gid);
        if (write_file ("/proc/self/gid_map", map) < 0)
            return errprintf (err, FS_EFAIL, "cannot map the worker's group into a user "
                              "namespace: %s", strerror (errno));
    }
    if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return errprintf (err, FS_EFAIL, "cannot make the task's mounts private: %s",
                          strerror (errno));
    for (int i = 0; i < n; i++) {
        unsigned long keep = kept_flags (dirs[i]);
        if (mount (dirs[i], dirs[i], NULL, MS_BIND | MS_REC, NULL) < 0
            || mount (NULL, dirs[i], NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | keep, NULL) < 0)
            return errprintf (err, FS_EFAIL, "cannot make data root %s read-only for the task: "
                              "%s", dirs[i], strerror (errno));
    }
    return 0;
}

static int monitor_usage (void)
{
    fprintf (stderr, "usage: fedsched-monitor --status FILE [--walltime S] [--grace S] "
             "[--stdout F] [--stderr F] [--cwd D] [--site NAME] [--readonly DIR]... -- PATH "
             "ARGV...\n(started by a fedsched worker for each task; see launch.h)\n");
    return 2;
}

/* fedsched-monitor --exec [--readonly DIR]... -- PROG ARGS...: PROG in a
 * mount namespace where every DIR is read-only, by exec (no monitoring: a
 * batch system's rank, whose own daemon watches it).  127 when PROG is not
 * found, 125 when the namespace cannot be made. */
static int monitor_exec (int argc, char **argv)
{
    const char **ro = calloc ((size_t) argc + 1, sizeof (*ro));
    int nro = 0, i;
    if (!ro)
        return 125;
    for (i = 2; i + 1 < argc && !strcmp (argv[i], "--readonly"); i += 2)
        ro[nro++] = argv[i + 1];
    if (i + 1 >= argc || strcmp (argv[i], "--")) {
        free (ro);
        fprintf (stderr, "usage: fedsched-monitor --exec [--readonly DIR]... -- PROG ARGS...\n");
        return 2;
    }
    fs_error_t err = { 0 };
    if (nro > 0 && readonly_view (ro, nro, &err) < 0) {
        say ("error: %s", err.text);
        free (ro);
        return 125;
    }
    free (ro);
    execvp (argv[i + 1], &argv[i + 1]);
    int e = errno;
    say ("error: cannot run %s: %s", argv[i + 1], strerror (e));
    return e == ENOENT ? 127 : 126;
}

int launch_monitor_main (int argc, char **argv)
{
    if (argc > 1 && !strcmp (argv[1], "--exec"))
        return monitor_exec (argc, argv);
    const char *status = NULL, *out = NULL, *errf = NULL, *cwd = NULL, *site = NULL;
    double walltime = 0, grace = 0;
    const char **ro = calloc ((size_t) argc + 1, sizeof (*ro));
    int nro = 0, i;
    if (!ro)
        return 1;
    for (i = 1; i < argc && strcmp (argv[i], "--"); i += 2) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return monitor_usage ();
        if (!strcmp (k, "--status"))
            status = v;
        else if (!strcmp (k, "--walltime"))
            walltime = strtod (v, NULL);
        else if (!strcmp (k, "--grace"))
            grace = strtod (v, NULL);
        else if (!strcmp (k, "--stdout"))
            out = v;
        else if (!strcmp (k, "--stderr"))
            errf = v;
        else if (!strcmp (k, "--cwd"))
            cwd = v;
        else if (!strcmp (k, "--site"))
            site = v;
        else if (!strcmp (k, "--readonly"))
            ro[nro++] = v;
        else
            return monitor_usage ();
    }
    if (!status || i + 2 >= argc + 1 || i + 1 >= argc)
        return monitor_usage ();
    char *path = argv[i + 1];
    char **targv = &argv[i + 2];
    if (!targv[0])
        return monitor_usage ();

    /* Signals arrive through sigtimedwait only (a worker starts us with them
     * blocked already). */
    sigset_t set = *monitor_signals ();
    sigprocmask (SIG_BLOCK, &set, NULL);
    signal (SIGPIPE, SIG_IGN);

    struct launch_status st;
    memset (&st, 0, sizeof (st));
    fs_error_t err = { 0 };
    struct launch_spec spec = { .argv = (const char *const *) targv, .cwd = cwd,
                                .stdout_path = out, .stderr_path = errf,
                                .walltime_s = walltime, .grace_s = grace, .site = site,
                                .die_with_parent = true };
    struct launch_proc *p = NULL;
    if (nro > 0 && readonly_view (ro, nro, &err) < 0) {
        say ("error: %s", err.text);
        st.exit_code = 125;
        snprintf (st.error, sizeof (st.error), "%.500s", err.text);
    } else if (!(p = launch_proc_spawn (&spec, path, targv, environ, &err))) {
        say ("error: %s", err.text);
        st.exit_code = 125;
        snprintf (st.error, sizeof (st.error), "%.500s", err.text);
    }
    double fast_until = 0;
    while (p) {
        int r = launch_proc_poll (p, &st, &err);
        if (r == 1)
            break;
        if (r < 0) {
            say ("error: %s", err.text);
            st.exit_code = -1;
            st.site_failure = true;
            snprintf (st.error, sizeof (st.error), "%.500s", err.text);
            break;
        }
        /* Quick polls while the task's stragglers die, else 4 a second (the
         * walltime and the SIGKILL escalation are checked by poll). */
        bool fast = clock_mono () < fast_until;
        struct timespec ts = { 0, fast ? 20000000L : 250000000L };
        int sig = sigtimedwait (&set, NULL, &ts);
        if (sig == SIGCHLD)
            fast_until = clock_mono () + 12.0;
        else if (sig == SIGUSR1)
            launch_proc_kill (p, SIGKILL, NULL);
        else if (sig > 0)
            launch_proc_kill (p, SIGTERM, NULL);
    }
    launch_proc_destroy (p);
    free (ro);
    if (launch_status_write (status, &st, &err) < 0) {
        say ("error: %s", err.text);
        return 1;
    }
    return 0;
}
