/* test_launch.c - the local and mpirun launchers: exit codes, output files,
 * missing commands, walltime, killing whole process trees (also mpirun's
 * ranks), environment and working directory.  The mpirun tests are skipped
 * when mpirun is not on PATH (the read-only one without namespaces), and the
 * program then exits 77 (ctest: skipped). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "adapters/launch/launch.h"

/* A case that cannot run here (no mpirun, no namespaces): counted, so that the
 * program exits 77 (ctest: skipped) rather than passing. */
static int skipped;
#define skip_case() do { skipped++; skip (); } while (0)

static char tmp[256];           /* a fresh directory, resolved with realpath() */
static fs_error_t err;
static const struct launcher *local, *mpi;

static int setup (void **state)
{
    char t[] = "/tmp/test_launch_XXXXXX", real[PATH_MAX];
    if (!mkdtemp (t) || !realpath (t, real) || strlen (real) >= sizeof (tmp))
        return -1;
    strcpy (tmp, real);
    umask (022);
    local = launcher_find ("local", NULL);
    mpi = launcher_find ("mpirun", NULL);
    return local && mpi ? 0 : -1;
}

static int teardown (void **state)
{
    char cmd[PATH_MAX + 16];
    snprintf (cmd, sizeof (cmd), "rm -rf '%s'", tmp);
    return system (cmd) == 0 ? 0 : -1;
}

static int count_lines (const char *path)
{
    char *s = tu_slurp (path);
    int n = 0;
    for (char *c = s; *c; c++)
        n += *c == '\n';
    free (s);
    return n;
}

/* Poll p every 20 ms until it ends or `limit` seconds pass; returns the
 * seconds it took (fails the test on timeout). */
static double wait_end (const struct launcher *l, struct launch_proc *p, struct launch_status *st,
                        double limit)
{
    double t0 = clock_mono ();
    for (;;) {
        int rc = l->poll (p, st, &err);
        assert_int_not_equal (rc, -1);
        if (rc == 1)
            return clock_mono () - t0;
        if (clock_mono () - t0 > limit)
            fail_msg ("task still running after %g s", limit);
        usleep (20000);
    }
}

/* Wait (polling, 20 ms) until path has n lines, the task still running. */
static void wait_lines (const struct launcher *l, struct launch_proc *p, const char *path, int n)
{
    struct launch_status st;
    double t0 = clock_mono ();
    while (count_lines (path) < n) {
        assert_int_equal (l->poll (p, &st, &err), 0);
        if (clock_mono () - t0 > 10)
            fail_msg ("%s: fewer than %d lines after 10 s", path, n);
        usleep (20000);
    }
}

/* Is process pid gone (no such process, or a zombie left to init)? */
static bool gone (long pid)
{
    char fn[64], buf[512];
    snprintf (fn, sizeof (fn), "/proc/%ld/stat", pid);
    FILE *f = fopen (fn, "r");
    if (!f)
        return true;
    size_t n = fread (buf, 1, sizeof (buf) - 1, f);
    fclose (f);
    buf[n] = '\0';
    char *rp = strrchr (buf, ')');
    return rp && (rp[2] == 'Z' || rp[2] == 'X');
}

/* Every pid listed in path (one a line) is gone; returns how many were listed. */
static int assert_all_gone (const char *path)
{
    char *s = tu_slurp (path), *save = NULL;
    int n = 0;
    for (char *tok = strtok_r (s, " \n", &save); tok; tok = strtok_r (NULL, " \n", &save)) {
        long pid = strtol (tok, NULL, 10);
        assert_true (pid > 1);
        if (!gone (pid))
            fail_msg ("process %ld survived", pid);
        n++;
    }
    free (s);
    return n;
}

/* No live process has session id sid. */
static void assert_session_empty (int sid)
{
    DIR *d = opendir ("/proc");
    assert_non_null (d);
    struct dirent *de;
    while ((de = readdir (d))) {
        char *end, fn[300], buf[512];
        long pid = strtol (de->d_name, &end, 10);
        if (*end || pid <= 0)
            continue;
        snprintf (fn, sizeof (fn), "/proc/%ld/stat", pid);
        FILE *f = fopen (fn, "r");
        if (!f)
            continue;
        size_t n = fread (buf, 1, sizeof (buf) - 1, f);
        fclose (f);
        buf[n] = '\0';
        char *rp = strrchr (buf, ')'), state;
        int ppid, pgrp, sess;
        if (rp && sscanf (rp + 1, " %c %d %d %d", &state, &ppid, &pgrp, &sess) == 4
            && sess == sid && state != 'Z')
            fail_msg ("process %ld of the task's session %d survived", pid, sid);
    }
    closedir (d);
}

/* Run argv to its end with the local launcher; returns the status. */
static struct launch_status run_local (const char *const *argv)
{
    struct launch_spec spec = { .argv = argv, .site = "testsite" };
    struct launch_status st;
    struct launch_proc *p = local->start (&spec, &err);
    assert_non_null (p);
    wait_end (local, p, &st, 10);
    local->destroy (p);
    return st;
}

static void test_find (void **state)
{
    assert_string_equal (launcher_find ("local", &err)->name, "local");
    assert_string_equal (launcher_find ("mpirun", &err)->name, "mpirun");
    assert_string_equal (launcher_find ("slurm", &err)->name, "slurm");
    assert_null (launcher_find ("pbs", &err));
    assert_int_equal (err.code, FS_EINVAL);
    assert_string_equal (err.text, "unknown launcher 'pbs' (known: local, mpirun, slurm)");
}

static void test_local_exit_codes (void **state)
{
    struct launch_status st = run_local ((const char *[]) { "true", NULL });
    assert_int_equal (st.exit_code, 0);
    assert_int_equal (st.signal, 0);
    assert_false (st.walltime_exceeded);
    assert_false (st.killed);
    assert_string_equal (st.error, "");

    st = run_local ((const char *[]) { "sh", "-c", "exit 3", NULL });
    assert_int_equal (st.exit_code, 3);

    st = run_local ((const char *[]) { "sh", "-c", "kill -USR1 $$", NULL });
    assert_int_equal (st.signal, SIGUSR1);
    assert_int_equal (st.exit_code, 128 + SIGUSR1);
}

static void test_local_output_files (void **state)
{
    const char *out = tu_path (tmp, "out.txt"), *errf = tu_path (tmp, "err.txt");
    FILE *f = fopen (out, "w");
    fputs ("before\n", f);
    fclose (f);
    const char *argv[] = { "sh", "-c", "echo to-stdout; echo to-stderr >&2", NULL };
    struct launch_spec spec = { .argv = argv, .stdout_path = out, .stderr_path = errf };
    struct launch_status st;
    struct launch_proc *p = local->start (&spec, &err);
    assert_non_null (p);
    assert_true (local->pid (p) > 1);
    wait_end (local, p, &st, 10);
    local->destroy (p);
    assert_int_equal (st.exit_code, 0);
    char *o = tu_slurp (out), *e = tu_slurp (errf);
    assert_string_equal (o, "before\nto-stdout\n");     /* appended */
    assert_string_equal (e, "to-stderr\n");
    free (o);
    free (e);
    struct stat sb;
    assert_int_equal (stat (errf, &sb), 0);
    assert_int_equal (sb.st_mode & 0777, 0644);

    /* An output file that can't be created: nothing starts. */
    spec.stdout_path = tu_path (tmp, "no/such/dir/out.txt");
    assert_null (local->start (&spec, &err));
    assert_int_equal (err.code, FS_EFAIL);
    assert_non_null (strstr (err.text, "cannot open the task's stdout file"));
}

static void test_local_missing_command (void **state)
{
    const char *errf = tu_path (tmp, "missing.err");
    const char *argv[] = { "regridd-not-installed", "--factor", "2", NULL };
    struct launch_spec spec = { .argv = argv, .stderr_path = errf, .site = "X" };
    struct launch_status st;
    struct launch_proc *p = local->start (&spec, &err);
    assert_non_null (p);
    assert_int_equal (local->poll (p, &st, &err), 1);
    local->destroy (p);
    assert_int_equal (st.exit_code, 127);
    assert_non_null (strstr (st.error,
                             "command 'regridd-not-installed' not found on PATH of site X"));
    char *e = tu_slurp (errf);
    assert_non_null (strstr (e, "fedsched: error: command 'regridd-not-installed' not found"));
    free (e);

    /* Found but not executable: 126. */
    const char *script = tu_path (tmp, "noexec.sh");
    FILE *f = fopen (script, "w");
    fputs ("#!/bin/sh\necho hi\n", f);
    fclose (f);
    chmod (script, 0644);
    const char *argv2[] = { script, NULL };
    spec.argv = argv2;
    p = local->start (&spec, &err);
    assert_non_null (p);
    wait_end (local, p, &st, 5);
    local->destroy (p);
    assert_int_equal (st.exit_code, 126);       /* even root needs one x bit */
    assert_non_null (strstr (st.error, "not executable"));

    /* A script whose interpreter is missing fails at exec: still a message. */
    f = fopen (script, "w");
    fputs ("#!/no/such/interpreter\n", f);
    fclose (f);
    chmod (script, 0755);
    p = local->start (&spec, &err);
    assert_non_null (p);
    wait_end (local, p, &st, 5);
    local->destroy (p);
    assert_int_equal (st.exit_code, 127);
    assert_non_null (strstr (st.error, "interpreter"));
}

static void test_local_walltime (void **state)
{
    const char *errf = tu_path (tmp, "walltime.err");
    const char *argv[] = { "sleep", "30", NULL };
    struct launch_spec spec = { .argv = argv, .walltime_s = 0.5, .stderr_path = errf };
    struct launch_status st;
    struct launch_proc *p = local->start (&spec, &err);
    assert_non_null (p);
    double t = wait_end (local, p, &st, 6);
    local->destroy (p);
    assert_true (t >= 0.5);
    assert_true (st.walltime_exceeded);
    assert_false (st.killed);
    assert_int_equal (st.signal, SIGTERM);
    assert_int_equal (st.exit_code, 128 + SIGTERM);
    char *e = tu_slurp (errf);
    assert_non_null (strstr (e, "fedsched: walltime of 0.5 s exceeded"));
    free (e);
}

static void test_local_kill_tree (void **state)
{
    const char *pids = tu_path (tmp, "tree.pids");
    char script[PATH_MAX + 128];
    snprintf (script, sizeof (script),
              "sleep 100 & echo $! >> '%s'; sleep 100 & echo $! >> '%s'; wait", pids, pids);
    const char *argv[] = { "sh", "-c", script, NULL };
    struct launch_spec spec = { .argv = argv };
    struct launch_status st;
    struct launch_proc *p = local->start (&spec, &err);
    assert_non_null (p);
    int sid = local->pid (p);
    wait_lines (local, p, pids, 2);
    assert_int_equal (local->kill (p, SIGTERM, &err), 0);
    assert_true (wait_end (local, p, &st, 6) < 6);
    local->destroy (p);
    assert_true (st.killed);
    assert_false (st.walltime_exceeded);
    assert_int_equal (st.exit_code, 128 + SIGTERM);
    assert_int_equal (assert_all_gone (pids), 2);
    assert_session_empty (sid);
}

/* A tree that ignores SIGTERM gets SIGKILL after the grace period. */
static void test_local_kill_escalates (void **state)
{
    const char *pids = tu_path (tmp, "stubborn.pids");
    char script[PATH_MAX + 128];
    snprintf (script, sizeof (script), "trap '' TERM; sleep 100 & echo $! >> '%s'; wait", pids);
    const char *argv[] = { "sh", "-c", script, NULL };
    struct launch_spec spec = { .argv = argv, .grace_s = 0.3 };
    struct launch_status st;
    struct launch_proc *p = local->start (&spec, &err);
    assert_non_null (p);
    wait_lines (local, p, pids, 1);
    assert_int_equal (local->kill (p, SIGTERM, &err), 0);
    double t = wait_end (local, p, &st, 5);
    local->destroy (p);
    assert_true (t >= 0.3);
    assert_int_equal (st.signal, SIGKILL);
    assert_int_equal (st.exit_code, 128 + SIGKILL);
    assert_int_equal (assert_all_gone (pids), 1);
}

/* Processes left behind by a task that ends normally are cleared. */
static void test_local_stragglers (void **state)
{
    const char *pids = tu_path (tmp, "straggler.pids");
    char script[PATH_MAX + 64];
    snprintf (script, sizeof (script), "sleep 100 & echo $! > '%s'", pids);
    struct launch_status st = run_local ((const char *[]) { "sh", "-c", script, NULL });
    assert_int_equal (st.exit_code, 0);
    assert_int_equal (assert_all_gone (pids), 1);
}

static void test_local_env_cwd_fds (void **state)
{
    const char *out = tu_path (tmp, "env.out");
    const char *argv[] = { "sh", "-c",
                           "echo \"$FEDSCHED_JOB $FEDSCHED_TASK $FEDSCHED_SITE $HOME\"; pwd; "
                           "cd /proc/self/fd && echo *", NULL };
    const char *env[] = { "FEDSCHED_JOB=42", "FEDSCHED_TASK=downscale", "FEDSCHED_SITE=cma",
                          "HOME=/nowhere", NULL };
    struct launch_spec spec = { .argv = argv, .env = env, .cwd = tmp, .stdout_path = out };
    struct launch_status st;
    int leak = open ("/dev/null", O_RDONLY);    /* not close-on-exec, like a stray socket */
    assert_true (leak > 2);
    struct launch_proc *p = local->start (&spec, &err);
    close (leak);
    assert_non_null (p);
    wait_end (local, p, &st, 10);
    local->destroy (p);
    assert_int_equal (st.exit_code, 0);
    char want[PATH_MAX + 128];
    /* fds of the last line: 0 1 2 and the directory `echo *` reads (3) */
    snprintf (want, sizeof (want), "42 downscale cma /nowhere\n%s\n0 1 2 3\n", tmp);
    char *o = tu_slurp (out);
    assert_string_equal (o, want);
    free (o);

    /* A missing working directory: 125 with a message. */
    spec.cwd = tu_path (tmp, "no-such-dir");
    p = local->start (&spec, &err);
    assert_non_null (p);
    wait_end (local, p, &st, 5);
    local->destroy (p);
    assert_int_equal (st.exit_code, 125);
    assert_non_null (strstr (st.error, "working directory"));
}

static void test_local_refusals (void **state)
{
    const char *argv[] = { "true", NULL };
    struct launch_spec spec = { .argv = argv, .ranks = 4, .site = "s1" };
    assert_null (local->start (&spec, &err));
    assert_int_equal (err.code, FS_EINVAL);
    assert_non_null (strstr (err.text, "mpirun"));

    const char *none[] = { NULL };
    spec = (struct launch_spec) { .argv = none };
    assert_null (local->start (&spec, &err));
    assert_int_equal (err.code, FS_EINVAL);

    const char *env[] = { "NOEQUALS", NULL };
    spec = (struct launch_spec) { .argv = argv, .env = env };
    assert_null (local->start (&spec, &err));
    assert_int_equal (err.code, FS_EINVAL);
}

/* --- mpirun ---------------------------------------------------------------- */

static bool have_mpirun (void)
{
    char *p = getenv ("PATH") ? strdup (getenv ("PATH")) : NULL, *save = NULL;
    bool found = false;
    for (char *d = p ? strtok_r (p, ":", &save) : NULL; d && !found;
         d = strtok_r (NULL, ":", &save)) {
        char c[PATH_MAX];
        snprintf (c, sizeof (c), "%s/mpirun", d);
        found = access (c, X_OK) == 0;
    }
    free (p);
    return found;
}

/* mpirun's command line, from a fake mpirun that prints its arguments. */
static char *fake_mpirun_args (struct launch_spec *spec)
{
    const char *fake = tu_path (tmp, "fake-mpirun"), *out = tu_path (tmp, "fake.out");
    FILE *f = fopen (fake, "w");
    fputs ("#!/bin/sh\nprintf '%s\\n' \"$*\"\n"
           "echo \"root=${OMPI_ALLOW_RUN_AS_ROOT:-}${OMPI_ALLOW_RUN_AS_ROOT_CONFIRM:-}\"\n", f);
    fclose (f);
    chmod (fake, 0755);
    unlink (out);
    spec->mpirun = fake;
    spec->stdout_path = out;
    struct launch_status st;
    struct launch_proc *p = mpi->start (spec, &err);
    assert_non_null (p);
    wait_end (mpi, p, &st, 10);
    mpi->destroy (p);
    assert_int_equal (st.exit_code, 0);
    return tu_slurp (out);
}

static void test_mpirun_command_line (void **state)
{
    const char *argv[] = { "sh", "-c", "exit 0", NULL };
    const char *env[] = { "FEDSCHED_JOB=7", "FEDSCHED_TASK=t", "FEDSCHED_SITE=s",
                          "OMPI_MCA_btl=self", "OTHER=1", NULL };
    const char *root = geteuid () == 0 ? "root=11\n" : "root=\n";
    char want[512];

    struct launch_spec spec = { .argv = argv, .ranks = 2, .env = env, .site_cores = 2 };
    char *s = fake_mpirun_args (&spec);
    snprintf (want, sizeof (want), "-np 2 --bind-to core --map-by core -x FEDSCHED_JOB "
              "-x FEDSCHED_TASK -x FEDSCHED_SITE -x OTHER sh -c exit 0\n%s", root);
    assert_string_equal (s, want);
    free (s);

    spec = (struct launch_spec) { .argv = argv, .ranks = 3, .site_cores = 2,
                                  .hostfile = "/etc/hosts.mpi" };
    s = fake_mpirun_args (&spec);
    snprintf (want, sizeof (want), "-np 3 --bind-to none --map-by core --oversubscribe "
              "--hostfile /etc/hosts.mpi sh -c exit 0\n%s", root);
    assert_string_equal (s, want);
    free (s);

    spec = (struct launch_spec) { .argv = argv, .site_cores = 8, .oversubscribe = true };
    s = fake_mpirun_args (&spec);
    snprintf (want, sizeof (want), "-np 1 --bind-to none --map-by core --oversubscribe "
              "sh -c exit 0\n%s", root);
    assert_string_equal (s, want);
    free (s);
}

static void test_mpirun_missing (void **state)
{
    const char *argv[] = { "regridd-not-installed", NULL };
    struct launch_spec spec = { .argv = argv, .ranks = 2, .site = "X",
                                .stderr_path = tu_path (tmp, "mpi-missing.err"), .mpirun = "true" };
    struct launch_status st;
    struct launch_proc *p = mpi->start (&spec, &err);
    assert_non_null (p);
    assert_int_equal (mpi->poll (p, &st, &err), 1);
    mpi->destroy (p);
    assert_int_equal (st.exit_code, 127);
    assert_non_null (strstr (st.error,
                             "command 'regridd-not-installed' not found on PATH of site X"));

    spec.argv = (const char *[]) { "true", NULL };
    spec.mpirun = "/opt/no-such-mpi/bin/mpirun";
    p = mpi->start (&spec, &err);
    assert_non_null (p);
    assert_int_equal (mpi->poll (p, &st, &err), 1);
    mpi->destroy (p);
    assert_int_equal (st.exit_code, 127);
    assert_non_null (strstr (st.error, "mpirun '/opt/no-such-mpi/bin/mpirun' not found"));
}

static void test_mpirun_ranks (void **state)
{
    if (!have_mpirun ())
        skip_case ();
    const char *out = tu_path (tmp, "ranks.out");
    const char *argv[] = { "sh", "-c", "echo rank $OMPI_COMM_WORLD_RANK $FEDSCHED_JOB", NULL };
    const char *env[] = { "FEDSCHED_JOB=9", "FEDSCHED_TASK=t", "FEDSCHED_SITE=s", NULL };
    struct launch_spec spec = { .argv = argv, .ranks = 2, .env = env, .stdout_path = out,
                                .stderr_path = tu_path (tmp, "ranks.err"), .site_cores = 2 };
    struct launch_status st;
    struct launch_proc *p = mpi->start (&spec, &err);
    assert_non_null (p);
    wait_end (mpi, p, &st, 30);
    mpi->destroy (p);
    assert_int_equal (st.exit_code, 0);
    char *o = tu_slurp (out);
    assert_true (strcmp (o, "rank 0 9\nrank 1 9\n") == 0 || strcmp (o, "rank 1 9\nrank 0 9\n") == 0);
    free (o);

    /* 3 ranks on 2 cores: oversubscribed. */
    unlink (out);
    spec.ranks = 3;
    p = mpi->start (&spec, &err);
    assert_non_null (p);
    wait_end (mpi, p, &st, 30);
    mpi->destroy (p);
    assert_int_equal (st.exit_code, 0);
    assert_int_equal (count_lines (out), 3);
}

/* A wrapper (an app's sandbox) runs around each rank: WRAPPER... PROG ARGS,
 * with the local launcher and with mpirun; a missing one ends the task 127. */
static void test_wrapper (void **state)
{
    const char *out = tu_path (tmp, "wrap.out");
    const char *argv[] = { "sh", "-c", "echo wrapped=$WRAPPED rank=${OMPI_COMM_WORLD_RANK:-none} ${0##*/}", NULL };
    const char *wrapper[] = { "env", "WRAPPED=yes", NULL };
    struct launch_spec spec = { .argv = argv, .stdout_path = out, .stderr_path = tu_path (tmp, "wrap.err"),
                                .site_cores = 2, .wrapper = wrapper };
    struct launch_status st;
    struct launch_proc *p = local->start (&spec, &err);
    assert_non_null (p);
    wait_end (local, p, &st, 10);
    local->destroy (p);
    assert_int_equal (st.exit_code, 0);
    char *o = tu_slurp (out);
    assert_string_equal (o, "wrapped=yes rank=none sh\n");
    free (o);
    /* Without it, the same command sees no WRAPPED. */
    unlink (out);
    spec.wrapper = NULL;
    p = local->start (&spec, &err);
    assert_non_null (p);
    wait_end (local, p, &st, 10);
    local->destroy (p);
    o = tu_slurp (out);
    assert_string_equal (o, "wrapped= rank=none sh\n");
    free (o);
    /* A wrapper that is not there: 127, and the message says so. */
    const char *missing[] = { "no-such-sandbox-xyz", "--", NULL };
    spec.wrapper = missing;
    p = local->start (&spec, &err);
    assert_non_null (p);
    wait_end (local, p, &st, 10);
    local->destroy (p);
    assert_int_equal (st.exit_code, 127);
    assert_non_null (strstr (st.error, "sandbox 'no-such-sandbox-xyz' not found"));
    if (!have_mpirun ())
        skip ();
    /* mpirun: every rank inside the wrapper. */
    unlink (out);
    spec.wrapper = wrapper;
    spec.ranks = 2;
    p = mpi->start (&spec, &err);
    assert_non_null (p);
    wait_end (mpi, p, &st, 30);
    mpi->destroy (p);
    assert_int_equal (st.exit_code, 0);
    o = tu_slurp (out);
    assert_true (strcmp (o, "wrapped=yes rank=0 sh\nwrapped=yes rank=1 sh\n") == 0
                 || strcmp (o, "wrapped=yes rank=1 sh\nwrapped=yes rank=0 sh\n") == 0);
    free (o);
    spec.wrapper = missing;
    p = mpi->start (&spec, &err);
    assert_non_null (p);
    wait_end (mpi, p, &st, 30);
    mpi->destroy (p);
    assert_int_equal (st.exit_code, 127);
}

static void test_mpirun_failing_rank (void **state)
{
    if (!have_mpirun ())
        skip_case ();
    const char *argv[] = { "sh", "-c", "exit $((3 * OMPI_COMM_WORLD_RANK))", NULL };
    struct launch_spec spec = { .argv = argv, .ranks = 2, .site_cores = 2,
                                .stderr_path = tu_path (tmp, "fail.err") };
    struct launch_status st;
    struct launch_proc *p = mpi->start (&spec, &err);
    assert_non_null (p);
    wait_end (mpi, p, &st, 30);
    mpi->destroy (p);
    assert_int_not_equal (st.exit_code, 0);
    assert_string_equal (st.error, "");
}

static void test_mpirun_kill (void **state)
{
    if (!have_mpirun ())
        skip_case ();
    const char *pids = tu_path (tmp, "ranks.pids");
    char script[PATH_MAX + 64];
    snprintf (script, sizeof (script), "echo $$ >> '%s'; exec sleep 100", pids);
    const char *argv[] = { "sh", "-c", script, NULL };
    struct launch_spec spec = { .argv = argv, .ranks = 2, .site_cores = 2,
                                .stderr_path = tu_path (tmp, "kill.err") };
    struct launch_status st;
    struct launch_proc *p = mpi->start (&spec, &err);
    assert_non_null (p);
    int sid = mpi->pid (p);
    wait_lines (mpi, p, pids, 2);
    assert_int_equal (mpi->kill (p, SIGTERM, &err), 0);
    assert_true (wait_end (mpi, p, &st, 8) < 8);
    mpi->destroy (p);
    assert_true (st.killed);
    assert_int_not_equal (st.exit_code, 0);
    assert_int_equal (assert_all_gone (pids), 2);
    assert_session_empty (sid);

    /* SIGKILL straight away: mpirun can't clean up, the launcher must. */
    unlink (pids);
    p = mpi->start (&spec, &err);
    assert_non_null (p);
    sid = mpi->pid (p);
    wait_lines (mpi, p, pids, 2);
    assert_int_equal (mpi->kill (p, SIGKILL, &err), 0);
    wait_end (mpi, p, &st, 5);
    mpi->destroy (p);
    assert_int_equal (st.exit_code, 128 + SIGKILL);
    assert_int_equal (assert_all_gone (pids), 2);
    assert_session_empty (sid);
}

/* --- monitored tasks (monitor.c) ------------------------------------------------ */

static void test_status_file (void **state)
{
    struct launch_status st = { .exit_code = 3, .signal = 0, .walltime_exceeded = true,
                                .runtime_s = 1.5, .site_failure = true, .requeue = true };
    snprintf (st.error, sizeof (st.error), "why \"quoted\"\n");
    struct launch_status back;
    assert_int_equal (launch_status_read (tu_path (tmp, "none.json"), &back, &err), 0);
    assert_int_equal (launch_status_write (tu_path (tmp, "st.json"), &st, &err), 0);
    assert_int_equal (launch_status_read (tu_path (tmp, "st.json"), &back, &err), 1);
    assert_int_equal (back.exit_code, 3);
    assert_true (back.walltime_exceeded && back.site_failure && back.requeue && !back.killed);
    assert_string_equal (back.error, st.error);
    FILE *f = fopen (tu_path (tmp, "bad.json"), "w");
    fputs ("{\"exit_code\": \"x\"}", f);
    fclose (f);
    assert_int_equal (launch_status_read (tu_path (tmp, "bad.json"), &back, &err), -1);
    assert_int_equal (err.code, FS_EINVAL);
}

/* A monitored spec for argv with status file tmp/NAME.json. */
static struct launch_spec mspec (const char *const *argv, const char *name, char *status, size_t n)
{
    snprintf (status, n, "%s/%s.json", tmp, name);
    unlink (status);
    struct launch_spec spec = { .argv = argv, .site = "testsite", .cwd = tmp,
                                .stderr_path = tu_path (tmp, "mon.err"), .status_path = status };
    return spec;
}

static void test_monitored_exit (void **state)
{
    char status[PATH_MAX];
    const char *argv[] = { "sh", "-c", "exit 9", NULL };
    struct launch_spec spec = mspec (argv, "exit", status, sizeof (status));
    struct launch_status st;
    struct launch_proc *p = local->start (&spec, &err);
    assert_non_null (p);
    wait_end (local, p, &st, 10);
    local->destroy (p);
    assert_int_equal (st.exit_code, 9);
    assert_false (st.site_failure);
    struct launch_status rec;
    assert_int_equal (launch_status_read (status, &rec, &err), 1);
    assert_int_equal (rec.exit_code, 9);
}

/* Released by one worker, adopted by the next: the task runs on, and its own
 * end is reported, also when it ended while nobody watched. */
static void test_monitored_adopt (void **state)
{
    char status[PATH_MAX], rec[LAUNCH_RECORD_MAX], script[PATH_MAX + 64];
    snprintf (script, sizeof (script), "echo $$ > '%s'; while [ ! -e '%s' ]; do sleep 0.05; done; exit 5",
              tu_path (tmp, "adopt.pid"), tu_path (tmp, "adopt.go"));
    const char *argv[] = { "sh", "-c", script, NULL };
    struct launch_spec spec = mspec (argv, "adopt", status, sizeof (status));
    struct launch_status st;
    struct launch_proc *p = local->start (&spec, &err);
    assert_non_null (p);
    wait_lines (local, p, tu_path (tmp, "adopt.pid"), 1);
    assert_int_equal (local->record (p, rec, sizeof (rec)), 0);
    char *text = tu_slurp (tu_path (tmp, "adopt.pid"));
    long task = strtol (text, NULL, 10);
    free (text);
    local->release (p);
    assert_false (gone (task));                     /* released: it runs on */

    p = local->adopt (&spec, rec, &err);
    assert_non_null (p);
    assert_int_equal (local->poll (p, &st, &err), 0);
    fclose (fopen (tu_path (tmp, "adopt.go"), "w"));
    wait_end (local, p, &st, 10);
    assert_int_equal (st.exit_code, 5);
    local->destroy (p);

    /* Ended while nobody watched: adopted from the record, the file tells. */
    p = local->adopt (&spec, rec, &err);
    assert_non_null (p);
    wait_end (local, p, &st, 5);
    assert_int_equal (st.exit_code, 5);
    local->destroy (p);
    /* ... and from no record at all (the worker died before it wrote one). */
    p = local->adopt (&spec, "", &err);
    assert_non_null (p);
    wait_end (local, p, &st, 5);
    assert_int_equal (st.exit_code, 5);
    local->destroy (p);
    unlink (status);
    assert_null (local->adopt (&spec, "", &err));
    assert_int_equal (err.code, FS_ENOTFOUND);
    assert_null (local->adopt (&spec, "monitor x", &err));
    assert_int_equal (err.code, FS_EINVAL);
}

/* A running task found by its status file alone (no record). */
static void test_monitored_find (void **state)
{
    char status[PATH_MAX];
    const char *argv[] = { "sleep", "30", NULL };
    struct launch_spec spec = mspec (argv, "find", status, sizeof (status));
    struct launch_status st;
    struct launch_proc *p = local->start (&spec, &err);
    assert_non_null (p);
    int mon = local->pid (p);
    local->release (p);
    usleep (200000);        /* a new worker comes later: the monitor's exec is complete */
    p = local->adopt (&spec, "", &err);
    assert_non_null (p);
    assert_int_equal (local->pid (p), mon);
    assert_int_equal (local->poll (p, &st, &err), 0);
    assert_int_equal (local->kill (p, SIGTERM, &err), 0);
    wait_end (local, p, &st, 10);
    assert_true (st.killed);
    assert_int_equal (st.exit_code, 128 + SIGTERM);
    local->destroy (p);
}

static void test_monitored_walltime_kill (void **state)
{
    char status[PATH_MAX];
    const char *argv[] = { "sleep", "30", NULL };
    struct launch_spec spec = mspec (argv, "wall", status, sizeof (status));
    spec.walltime_s = 0.5;
    struct launch_status st;
    struct launch_proc *p = local->start (&spec, &err);
    assert_non_null (p);
    assert_true (wait_end (local, p, &st, 10) < 5);
    assert_true (st.walltime_exceeded);
    assert_int_equal (st.exit_code, 128 + SIGTERM);
    local->destroy (p);

    /* SIGKILL through the monitor: at once. */
    spec.walltime_s = 0;
    const char *trap[] = { "sh", "-c", "trap '' TERM; sleep 30", NULL };
    spec.argv = trap;
    p = local->start (&spec, &err);
    assert_non_null (p);
    usleep (200000);
    assert_int_equal (local->kill (p, SIGKILL, &err), 0);
    assert_true (wait_end (local, p, &st, 10) < 4);
    assert_true (st.killed);
    local->destroy (p);
}

/* The monitor killed (the node went down): a site failure, not an exit code. */
static void test_monitored_lost (void **state)
{
    char status[PATH_MAX], script[PATH_MAX + 32];
    snprintf (script, sizeof (script), "echo $$ > '%s'; exec sleep 30", tu_path (tmp, "lost.pid"));
    const char *argv[] = { "sh", "-c", script, NULL };
    struct launch_spec spec = mspec (argv, "lost", status, sizeof (status));
    struct launch_status st;
    struct launch_proc *p = local->start (&spec, &err);
    assert_non_null (p);
    wait_lines (local, p, tu_path (tmp, "lost.pid"), 1);
    char *text = tu_slurp (tu_path (tmp, "lost.pid"));
    long task = strtol (text, NULL, 10);
    free (text);
    kill (local->pid (p), SIGKILL);
    wait_end (local, p, &st, 10);
    assert_true (st.site_failure);
    assert_non_null (strstr (st.error, "monitor"));
    local->destroy (p);
    for (int i = 0; i < 100 && !gone (task); i++)
        usleep (20000);
    assert_true (gone (task));                      /* it died with its monitor */
}

/* Directories listed read-only cannot be written by the task. */
static void test_monitored_readonly (void **state)
{
    char status[PATH_MAX], script[PATH_MAX + 64];
    const char *ro = tu_path (tmp, "ro");
    mkdir (ro, 0755);
    snprintf (script, sizeof (script), "touch '%s/x' 2>/dev/null && exit 0; exit 4", ro);
    const char *argv[] = { "sh", "-c", script, NULL };
    const char *dirs[] = { ro, NULL };
    struct launch_spec spec = mspec (argv, "ro", status, sizeof (status));
    spec.readonly = dirs;
    struct launch_status st;
    struct launch_proc *p = local->start (&spec, &err);
    assert_non_null (p);
    wait_end (local, p, &st, 10);
    local->destroy (p);
    if (st.exit_code == 125)
        skip_case ();                                    /* no namespaces here (see st.error) */
    assert_int_equal (st.exit_code, 4);
    assert_int_equal (access (tu_path (tmp, "ro/x"), F_OK), -1);
    /* Without the list the same task writes there. */
    spec.readonly = NULL;
    p = local->start (&spec, &err);
    assert_non_null (p);
    wait_end (local, p, &st, 10);
    local->destroy (p);
    assert_int_equal (st.exit_code, 0);
}

static void test_monitored_mpirun (void **state)
{
    if (!have_mpirun ())
        skip_case ();
    char status[PATH_MAX], rec[LAUNCH_RECORD_MAX], script[PATH_MAX + 64];
    snprintf (script, sizeof (script), "echo $$ >> '%s'; while [ ! -e '%s' ]; do sleep 0.05; done",
              tu_path (tmp, "mranks"), tu_path (tmp, "mgo"));
    const char *argv[] = { "sh", "-c", script, NULL };
    struct launch_spec spec = mspec (argv, "mpi", status, sizeof (status));
    spec.ranks = 2;
    spec.site_cores = 2;
    struct launch_status st;
    struct launch_proc *p = mpi->start (&spec, &err);
    assert_non_null (p);
    wait_lines (mpi, p, tu_path (tmp, "mranks"), 2);
    assert_int_equal (mpi->record (p, rec, sizeof (rec)), 0);
    mpi->release (p);
    p = mpi->adopt (&spec, rec, &err);
    assert_non_null (p);
    fclose (fopen (tu_path (tmp, "mgo"), "w"));
    wait_end (mpi, p, &st, 20);
    mpi->destroy (p);
    assert_int_equal (st.exit_code, 0);
    assert_int_equal (count_lines (tu_path (tmp, "mranks")), 2);
}

/* Past its walltime a task ends as 128+SIGTERM even when its leader catches
 * the signal and exits on its own (as mpirun does, with 1): the docs promise
 * 128+N whatever the launcher. */
static void test_walltime_code_caught (void **state)
{
    char status[PATH_MAX];
    const char *argv[] = { "sh", "-c", "trap 'exit 1' TERM; sleep 30 & wait", NULL };
    struct launch_spec spec = mspec (argv, "caught", status, sizeof (status));
    spec.walltime_s = 0.5;
    struct launch_status st;
    struct launch_proc *p = local->start (&spec, &err);
    assert_non_null (p);
    assert_true (wait_end (local, p, &st, 10) < 8);
    local->destroy (p);
    assert_true (st.walltime_exceeded);
    assert_int_equal (st.exit_code, 128 + SIGTERM);
}

static void test_monitored_mpirun_walltime (void **state)
{
    if (!have_mpirun ())
        skip_case ();
    char status[PATH_MAX];
    const char *argv[] = { "sleep", "100", NULL };
    struct launch_spec spec = mspec (argv, "mpiwall", status, sizeof (status));
    spec.ranks = 2;
    spec.site_cores = 2;
    spec.walltime_s = 1;
    struct launch_status st;
    struct launch_proc *p = mpi->start (&spec, &err);
    assert_non_null (p);
    assert_true (wait_end (mpi, p, &st, 30) < 30);
    mpi->destroy (p);
    assert_true (st.walltime_exceeded);
    assert_int_equal (st.exit_code, 128 + SIGTERM);
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_find),
        cmocka_unit_test (test_local_exit_codes),
        cmocka_unit_test (test_local_output_files),
        cmocka_unit_test (test_local_missing_command),
        cmocka_unit_test (test_local_walltime),
        cmocka_unit_test (test_local_kill_tree),
        cmocka_unit_test (test_local_kill_escalates),
        cmocka_unit_test (test_local_stragglers),
        cmocka_unit_test (test_local_env_cwd_fds),
        cmocka_unit_test (test_local_refusals),
        cmocka_unit_test (test_mpirun_command_line),
        cmocka_unit_test (test_mpirun_missing),
        cmocka_unit_test (test_mpirun_ranks),
        cmocka_unit_test (test_mpirun_failing_rank),
        cmocka_unit_test (test_wrapper),
        cmocka_unit_test (test_mpirun_kill),
        cmocka_unit_test (test_status_file),
        cmocka_unit_test (test_monitored_exit),
        cmocka_unit_test (test_monitored_adopt),
        cmocka_unit_test (test_monitored_find),
        cmocka_unit_test (test_monitored_walltime_kill),
        cmocka_unit_test (test_monitored_lost),
        cmocka_unit_test (test_monitored_readonly),
        cmocka_unit_test (test_monitored_mpirun),
        cmocka_unit_test (test_walltime_code_caught),
        cmocka_unit_test (test_monitored_mpirun_walltime),
    };
    int failed = cmocka_run_group_tests (tests, setup, teardown);
    if (failed == 0 && skipped) {
        fprintf (stderr, "test_launch: %d case(s) could not run here and were skipped\n", skipped);
        return 77;
    }
    return failed;
}
