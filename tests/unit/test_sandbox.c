/* test_sandbox.c - the sandboxes of apps (adapters/sandbox/): picked by name,
 * and bwrap for real around a task of the local launcher and around each rank
 * of mpirun: the task writes its own directory and nothing else (a sibling
 * directory and /etc are read-only), has no capabilities and no new
 * privileges, and a one-rank task has a pid namespace of its own.  The bwrap
 * tests are skipped where bubblewrap is not installed, the mpirun ones where
 * mpirun is not.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/unit.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "adapters/launch/launch.h"
#include "adapters/sandbox/sandbox.h"

static char tmp[256];
static fs_error_t err;

static int setup (void **state)
{
    (void)state;
    const char *base = getenv ("TMPDIR");
    char t[PATH_MAX], real[PATH_MAX];
    snprintf (t, sizeof (t), "%s/test_sandbox_XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp (t) || !realpath (t, real) || strlen (real) >= sizeof (tmp))
        return -1;
    strcpy (tmp, real);
    umask (022);
    return 0;
}

static int teardown (void **state)
{
    (void)state;
    char cmd[PATH_MAX + 16];
    snprintf (cmd, sizeof (cmd), "rm -rf '%s'", tmp);
    return system (cmd) == 0 ? 0 : -1;
}

static void run (const struct launcher *l, struct launch_spec *spec, struct launch_status *st)
{
    struct launch_proc *p = l->start (spec, &err);
    if (!p)
        fail_msg ("start: %s", err.text);
    struct timespec t0, t;
    clock_gettime (CLOCK_MONOTONIC, &t0);
    for (;;) {
        int rc = l->poll (p, st, &err);
        assert_int_not_equal (rc, -1);
        if (rc == 1)
            break;
        clock_gettime (CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec > 60)
            fail_msg ("task still running after 60 s");
        usleep (20000);
    }
    l->destroy (p);
}

static void test_find (void **state)
{
    (void)state;
    assert_non_null (sandbox_find ("bwrap", &err));
    const struct sandbox *none = sandbox_find ("none", &err);
    assert_non_null (none);
    assert_null (sandbox_find ("docker", &err));
    assert_int_equal (err.code, FS_EINVAL);
    assert_non_null (strstr (err.text, "known: bwrap, none"));
    assert_non_null (sandbox_default ());
    struct sandbox_spec ss = { .workdir = tmp, .ranks = 1 };
    char **v = none->wrap (&ss, &err);
    assert_non_null (v);
    assert_null (v[0]);
    sandbox_argv_free (v);
    const struct sandbox *bw = sandbox_find ("bwrap", &err);
    ss.workdir = "relative/dir";
    assert_null (bw->wrap (&ss, &err));
    assert_int_equal (err.code, FS_EINVAL);
}

/* The checks each rank makes, as a script: prints one line of results. */
static const char probe[] =
    "w=no; touch \"$PWD/mine.$R\" 2>/dev/null && w=yes; "
    "o=no; touch \"$OTHER/theirs.$R\" 2>/dev/null && o=yes; "
    "e=no; touch /etc/fedsched-sandbox-test.$R 2>/dev/null && e=yes; "
    "r=no; [ -r /etc/passwd ] && r=yes; "
    "nnp=$(awk '/^NoNewPrivs/ {print $2}' /proc/self/status); "
    "cap=$(awk '/^CapEff/ {print $2}' /proc/self/status); "
    "pidns=$(readlink /proc/self/ns/pid); "
    "echo \"own=$w other=$o etc=$e read=$r nnp=$nnp cap=$cap pidns=$pidns\"";

static char *host_pidns (char *buf, size_t n)
{
    ssize_t k = readlink ("/proc/self/ns/pid", buf, n - 1);
    assert_true (k > 0);
    buf[k] = '\0';
    return buf;
}

static void test_bwrap_local (void **state)
{
    (void)state;
    const struct sandbox *bw = sandbox_find ("bwrap", &err);
    if (bw->probe (&err) < 0)
        skip ();
    char work[PATH_MAX - 64];
    snprintf (work, sizeof (work), "%s", tu_path (tmp, "work"));
    char other[PATH_MAX - 64], envo[PATH_MAX + 8], status[PATH_MAX], ns[128];
    snprintf (other, sizeof (other), "%s", tu_path (tmp, "other"));
    mkdir (work, 0755);
    mkdir (other, 0755);
    snprintf (envo, sizeof (envo), "OTHER=%s", other);
    snprintf (status, sizeof (status), "%s/exit.json", work);
    struct sandbox_spec ss = { .workdir = work, .ranks = 1 };
    char **wrap = bw->wrap (&ss, &err);
    assert_non_null (wrap);
    const char *argv[] = { "sh", "-c", probe, NULL };
    const char *env[] = { envo, "R=0", NULL };
    struct launch_spec spec = { .argv = argv, .env = env, .cwd = work,
                                .stdout_path = tu_path (tmp, "work/out"), .stderr_path = tu_path (tmp, "err"),
                                .status_path = status, .wrapper = (const char *const *)wrap };
    struct launch_status st;
    run (launcher_find ("local", NULL), &spec, &st);
    sandbox_argv_free (wrap);
    assert_int_equal (st.exit_code, 0);
    char *o = tu_slurp (tu_path (tmp, "work/out")), want[512];
    snprintf (want, sizeof (want), "own=yes other=no etc=no read=yes nnp=1 cap=0000000000000000 "
              "pidns=");
    if (strncmp (o, want, strlen (want)))
        fail_msg ("expected '%s...', got '%s' (stderr: %s)", want, o, tu_slurp (tu_path (tmp, "err")));
    /* A pid namespace of its own (one rank). */
    assert_null (strstr (o, host_pidns (ns, sizeof (ns))));
    free (o);
    assert_int_equal (access (tu_path (tmp, "work/mine.0"), F_OK), 0);
    assert_int_equal (access (tu_path (tmp, "other/theirs.0"), F_OK), -1);
    assert_int_equal (access ("/etc/fedsched-sandbox-test.0", F_OK), -1);
}

static bool have_mpirun (void)
{
    return system ("command -v mpirun >/dev/null 2>&1") == 0;
}

static void test_bwrap_mpirun (void **state)
{
    (void)state;
    const struct sandbox *bw = sandbox_find ("bwrap", &err);
    if (bw->probe (&err) < 0 || !have_mpirun ())
        skip ();
    char work[PATH_MAX - 64];
    snprintf (work, sizeof (work), "%s", tu_path (tmp, "mwork"));
    char other[PATH_MAX - 64], envo[PATH_MAX + 8], envt[PATH_MAX + 16], status[PATH_MAX], ns[128];
    char script[sizeof (probe) + 64];
    snprintf (other, sizeof (other), "%s", tu_path (tmp, "mother"));
    mkdir (work, 0755);
    mkdir (other, 0755);
    snprintf (envo, sizeof (envo), "OTHER=%s", other);
    /* Open MPI's session directory goes where TMPDIR says: the task's directory. */
    snprintf (envt, sizeof (envt), "TMPDIR=%s/tmp", work);
    mkdir (tu_path (tmp, "mwork/tmp"), 0755);
    snprintf (status, sizeof (status), "%s/exit.json", work);
    snprintf (script, sizeof (script), "R=$OMPI_COMM_WORLD_RANK; %s", probe);
    struct sandbox_spec ss = { .workdir = work, .ranks = 2 };
    char **wrap = bw->wrap (&ss, &err);
    assert_non_null (wrap);
    const char *argv[] = { "sh", "-c", script, NULL };
    const char *env[] = { envo, envt, NULL };
    struct launch_spec spec = { .argv = argv, .env = env, .cwd = work, .ranks = 2,
                                .site_cores = 2, .stdout_path = tu_path (tmp, "mwork/out"),
                                .stderr_path = tu_path (tmp, "merr"), .status_path = status,
                                .wrapper = (const char *const *)wrap };
    struct launch_status st;
    run (launcher_find ("mpirun", NULL), &spec, &st);
    sandbox_argv_free (wrap);
    if (st.exit_code != 0)
        fail_msg ("exit %d: %s", st.exit_code, tu_slurp (tu_path (tmp, "merr")));
    char *o = tu_slurp (tu_path (tmp, "mwork/out"));
    const char *line = "own=yes other=no etc=no read=yes nnp=1 cap=0000000000000000 pidns=";
    char *second = strchr (o, '\n');
    assert_non_null (second);
    if (strncmp (o, line, strlen (line)) || strncmp (second + 1, line, strlen (line)))
        fail_msg ("expected two lines '%s...', got '%s'", line, o);
    /* Ranks share the host's pids (Open MPI's shared memory needs them). */
    assert_non_null (strstr (o, host_pidns (ns, sizeof (ns))));
    free (o);
    assert_int_equal (access (tu_path (tmp, "mwork/mine.0"), F_OK), 0);
    assert_int_equal (access (tu_path (tmp, "mwork/mine.1"), F_OK), 0);
    assert_int_equal (access (tu_path (tmp, "mother/theirs.0"), F_OK), -1);
    assert_int_equal (access (tu_path (tmp, "mother/theirs.1"), F_OK), -1);
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_find),
        cmocka_unit_test (test_bwrap_local),
        cmocka_unit_test (test_bwrap_mpirun),
    };
    return cmocka_run_group_tests (tests, setup, teardown);
}
