/* test_slurm.c - the Slurm launcher's pure parts: what squeue, sacct, scontrol,
 * sinfo and sbatch print (recorded from Slurm 22.05), the state mapping and how
 * a job's end is decided, the batch script (run with a stand-in srun: the only
 * place Slurm is mocked) and the sbatch command line, and the command runner. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/unit.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "adapters/launch/launch.h"
#include "adapters/launch/slurm/slurm.h"

static fs_error_t err;

static void test_states (void **state)
{
    static const struct {
        const char *s;
        enum slurm_kind k;
    } cases[] = {
        { "PENDING", SK_PENDING }, { "PD", SK_PENDING }, { "REQUEUED", SK_PENDING },
        { "CONFIGURING", SK_RUNNING }, { "RUNNING", SK_RUNNING }, { "R", SK_RUNNING },
        { "COMPLETING", SK_RUNNING }, { "CG", SK_RUNNING }, { "SUSPENDED", SK_RUNNING },
        { "COMPLETED", SK_COMPLETED }, { "CD", SK_COMPLETED }, { "FAILED", SK_FAILED },
        { "F", SK_FAILED }, { "TIMEOUT", SK_TIMEOUT }, { "TO", SK_TIMEOUT },
        { "DEADLINE", SK_TIMEOUT }, { "OUT_OF_MEMORY", SK_OOM }, { "OOM", SK_OOM },
        { "NODE_FAIL", SK_NODE_FAIL }, { "NF", SK_NODE_FAIL }, { "BOOT_FAIL", SK_NODE_FAIL },
        { "PREEMPTED", SK_PREEMPTED }, { "PR", SK_PREEMPTED }, { "CANCELLED", SK_CANCELLED },
        { "CANCELLED by 0", SK_CANCELLED }, { "CANCELLED+", SK_CANCELLED },
        { "CA", SK_CANCELLED }, { "WEIRD", SK_UNKNOWN }, { "", SK_UNKNOWN },
        { "RUNNINGX", SK_UNKNOWN }, { NULL, SK_UNKNOWN },
    };
    for (size_t i = 0; i < sizeof (cases) / sizeof (cases[0]); i++)
        if (slurm_state_kind (cases[i].s) != cases[i].k)
            fail_msg ("state '%s': kind %d, want %d", cases[i].s ? cases[i].s : "(null)",
                      slurm_state_kind (cases[i].s), cases[i].k);
    assert_false (slurm_kind_ended (SK_PENDING));
    assert_false (slurm_kind_ended (SK_RUNNING));
    assert_false (slurm_kind_ended (SK_UNKNOWN));
    assert_true (slurm_kind_ended (SK_COMPLETED));
    assert_true (slurm_kind_ended (SK_CANCELLED));
    assert_true (slurm_kind_site_failure (SK_NODE_FAIL));
    assert_true (slurm_kind_site_failure (SK_PREEMPTED));
    assert_false (slurm_kind_site_failure (SK_TIMEOUT));
    assert_false (slurm_kind_site_failure (SK_CANCELLED));
    assert_false (slurm_kind_site_failure (SK_FAILED));
    assert_string_equal (slurm_kind_name (SK_NODE_FAIL), "node failure");
    assert_string_equal (slurm_kind_name (SK_OOM), "out of memory");
}

static double local_time (int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
                     .tm_min = mi, .tm_sec = s, .tm_isdst = -1 };
    return (double)mktime (&tm);
}

/* squeue -h -t all -p p1 -o SLURM_SQUEUE_FORMAT, recorded (a name with '|'
 * and a space; an estimate a year ahead; an array and a blank line added). */
static void test_squeue (void **state)
{
    const char *text =
        "1|FAILED|NonZeroExitCode|2026-12-04T17:13:28|1|a|b c\n"
        "3|PENDING|Resources|2027-12-04T17:13:29|2|wrap\n"
        "\n"
        "2|RUNNING|None|2026-12-04T17:13:29|2|wrap\n"
        "7_[1-3]|PENDING|Priority|N/A|1|array\n"
        "4|CANCELLED|Nodes required for job are DOWN, DRAINED or reserved for jobs in higher "
        "priority partitions|2026-12-04T17:13:30|1|wrap\n"
        "9|PENDING|Priority|N/A|16|fedsched.site1.12.t\n";
    struct slurm_job_info *v;
    size_t n;
    assert_int_equal (slurm_parse_squeue (text, &v, &n, &err), 0);
    assert_int_equal (n, 5);
    assert_string_equal (v[0].id, "1");
    assert_string_equal (v[0].state, "FAILED");
    assert_int_equal (v[0].kind, SK_FAILED);
    assert_string_equal (v[0].reason, "NonZeroExitCode");
    assert_string_equal (v[0].name, "a|b c");
    assert_int_equal (v[0].cpus, 1);
    assert_false (v[0].has_exit);
    assert_true (v[0].start == local_time (2026, 12, 4, 17, 13, 28));
    assert_int_equal (v[1].kind, SK_PENDING);
    assert_string_equal (v[1].reason, "Resources");
    assert_true (v[1].start == local_time (2027, 12, 4, 17, 13, 29));
    assert_int_equal (v[2].kind, SK_RUNNING);
    assert_int_equal (v[3].kind, SK_CANCELLED);
    assert_string_equal (v[3].id, "4");
    assert_non_null (strstr (v[3].reason, "DOWN, DRAINED"));
    assert_string_equal (v[4].name, "fedsched.site1.12.t");
    assert_true (v[4].start == 0);
    assert_int_equal (v[4].cpus, 16);
    free (v);

    assert_int_equal (slurm_parse_squeue ("", &v, &n, &err), 0);
    assert_int_equal (n, 0);
    free (v);
    assert_int_equal (slurm_parse_squeue ("12|RUNNING|None\n", &v, &n, &err), -1);
    assert_int_equal (err.code, FS_EFAIL);
    assert_non_null (strstr (err.text, "squeue printed a line without its 6 fields: '12|RUNNING|None'"));
}

/* sacct -X -n -P -j ... -o SLURM_SACCT_FIELDS (as slurmdbd answers). */
static void test_sacct (void **state)
{
    const char *text =
        "101|COMPLETED|0:0|None|2026-12-04T10:00:01|fedsched.s1.3.a\n"
        "101.batch|COMPLETED|0:0||2026-12-04T10:00:01|batch\n"
        "102|CANCELLED by 0|0:15|None|2026-12-04T10:00:02|fedsched.s1.3.b\n"
        "103|NODE_FAIL|1:0|None|2026-12-04T10:00:03|fedsched.s1.3.c\n"
        "104|FAILED|2:0|NonZeroExitCode|Unknown|n\n"
        "105|OUT_OF_MEMORY|0:125|None|2026-12-04T10:00:05|n\n";
    struct slurm_job_info *v;
    size_t n;
    assert_int_equal (slurm_parse_sacct (text, &v, &n, &err), 0);
    assert_int_equal (n, 5);
    assert_string_equal (v[0].id, "101");
    assert_int_equal (v[0].kind, SK_COMPLETED);
    assert_true (v[0].has_exit);
    assert_int_equal (v[0].exit_code, 0);
    assert_string_equal (v[0].name, "fedsched.s1.3.a");
    assert_string_equal (v[1].id, "102");
    assert_string_equal (v[1].state, "CANCELLED");
    assert_int_equal (v[1].kind, SK_CANCELLED);
    assert_int_equal (v[1].exit_signal, 15);
    assert_int_equal (v[2].kind, SK_NODE_FAIL);
    assert_int_equal (v[3].exit_code, 2);
    assert_true (v[3].start == 0);
    assert_int_equal (v[4].kind, SK_OOM);
    free (v);
}

static void test_scontrol (void **state)
{
    const char *text =
        "JobId=1 JobName=a|b c UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901759 "
        "Nice=0 Account=(null) QOS=(null) JobState=FAILED Reason=NonZeroExitCode "
        "Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=3:0 "
        "RunTime=00:00:00 TimeLimit=365-00:00:00 TimeMin=N/A SubmitTime=2026-12-04T17:13:28 "
        "EligibleTime=2026-12-04T17:13:28 AccrueTime=2026-12-04T17:13:28 "
        "StartTime=2026-12-04T17:13:28 EndTime=2026-12-04T17:13:28 Deadline=N/A NumNodes=1 "
        "NumCPUs=1 NumTasks=1 CPUs/Task=1 WorkDir=/x StdErr=/x/slurm-1.out\n";
    struct slurm_job_info j;
    assert_int_equal (slurm_parse_scontrol (text, &j, &err), 0);
    assert_string_equal (j.id, "1");
    assert_string_equal (j.name, "a|b c");
    assert_string_equal (j.state, "FAILED");
    assert_int_equal (j.kind, SK_FAILED);
    assert_string_equal (j.reason, "NonZeroExitCode");
    assert_true (j.has_exit);
    assert_int_equal (j.exit_code, 3);
    assert_int_equal (j.exit_signal, 0);
    assert_int_equal (j.cpus, 1);
    assert_true (j.start == local_time (2026, 12, 4, 17, 13, 28));
    assert_int_equal (slurm_parse_scontrol ("slurm_load_jobs error: Invalid job id specified\n",
                                            &j, &err), -1);
    assert_non_null (strstr (err.text, "no JobId or JobState"));
}

static void test_small_outputs (void **state)
{
    char id[SLURM_ID_MAX], name[64];
    int total, idle, code, sig;
    assert_int_equal (slurm_parse_sbatch ("1234\n", id, sizeof (id), &err), 0);
    assert_string_equal (id, "1234");
    assert_int_equal (slurm_parse_sbatch ("77;cluster2\n", id, sizeof (id), &err), 0);
    assert_string_equal (id, "77");
    assert_int_equal (slurm_parse_sbatch ("", id, sizeof (id), &err), -1);
    assert_int_equal (slurm_parse_sbatch ("Submitted batch job 5\n", id, sizeof (id), &err), -1);
    assert_non_null (strstr (err.text, "sbatch printed no job id"));

    const char *sinfo = "p1*|2/6/0/8\nlong|0/64/0/64\ngpu|1/2/1/4\n";
    assert_int_equal (slurm_parse_sinfo (sinfo, NULL, &total, &idle, name, sizeof (name), &err), 0);
    assert_int_equal (total, 8);
    assert_int_equal (idle, 6);
    assert_string_equal (name, "p1");
    assert_int_equal (slurm_parse_sinfo (sinfo, "gpu", &total, &idle, name, sizeof (name), &err), 0);
    assert_int_equal (total, 4);
    assert_string_equal (name, "gpu");
    assert_int_equal (slurm_parse_sinfo (sinfo, "p", &total, &idle, name, sizeof (name), &err), -1);
    assert_non_null (strstr (err.text, "Slurm has no partition 'p'"));
    assert_int_equal (slurm_parse_sinfo ("a|1/1/0/2\n", "", &total, &idle, name, sizeof (name), &err), -1);
    assert_non_null (strstr (err.text, "no default partition"));

    bool acct;
    int age;
    slurm_parse_config ("Configuration data as of 2026-12-04T17:00:00\n"
                        "AccountingStorageHost   = localhost\n"
                        "AccountingStorageType   = accounting_storage/none\n"
                        "MinJobAge               = 300 sec\n", &acct, &age);
    assert_false (acct);
    assert_int_equal (age, 300);
    slurm_parse_config ("AccountingStorageType = accounting_storage/slurmdbd\nMinJobAge = 2 sec\n",
                        &acct, &age);
    assert_true (acct);
    assert_int_equal (age, 2);
    slurm_parse_config ("", &acct, &age);
    assert_false (acct);
    assert_int_equal (age, -1);

    assert_int_equal (slurm_parse_exit ("0:0", &code, &sig), 0);
    assert_int_equal (slurm_parse_exit ("2:9", &code, &sig), 0);
    assert_int_equal (code, 2);
    assert_int_equal (sig, 9);
    assert_int_equal (slurm_parse_exit ("x", &code, &sig), -1);
    assert_int_equal (slurm_parse_exit ("1:", &code, &sig), -1);
    assert_int_equal (slurm_parse_exit ("300:0", &code, &sig), -1);

    assert_true (slurm_parse_time ("N/A") == 0);
    assert_true (slurm_parse_time ("Unknown") == 0);
    assert_true (slurm_parse_time ("2026-12-04") == 0);
    assert_true (slurm_parse_time ("2026-01-02T03:04:05") == local_time (2026, 1, 2, 3, 4, 5));

    assert_int_equal (slurm_time_minutes (0), 0);
    assert_int_equal (slurm_time_minutes (-3), 0);
    assert_int_equal (slurm_time_minutes (1), 1);
    assert_int_equal (slurm_time_minutes (60), 1);
    assert_int_equal (slurm_time_minutes (60.5), 2);
    assert_int_equal (slurm_time_minutes (3600), 60);
}

static struct slurm_job_info info (const char *state, const char *exit)
{
    struct slurm_job_info j;
    memset (&j, 0, sizeof (j));
    strcpy (j.id, "42");
    strcpy (j.state, state);
    strcpy (j.reason, "None");
    j.kind = slurm_state_kind (state);
    if (exit)
        j.has_exit = slurm_parse_exit (exit, &j.exit_code, &j.exit_signal) == 0;
    return j;
}

/* Every way a job ends, and which word wins: Slurm's or the script's. */
static void test_job_end (void **state)
{
    struct slurm_end e;
    struct slurm_job_info j = info ("RUNNING", NULL);
    assert_false (slurm_job_end (&j, false, 0, "", false, "s1", &e));
    assert_false (slurm_job_end (NULL, false, 0, "", false, "s1", &e));
    j = info ("PENDING", NULL);
    assert_false (slurm_job_end (&j, false, 0, "", false, "s1", &e));

    /* The script's status settles a job Slurm has forgotten, not one it still
     * shows running (its node may have failed under it: srun exits 0 then). */
    j = info ("COMPLETING", NULL);
    assert_false (slurm_job_end (&j, true, 0, "", false, "s1", &e));
    j = info ("RUNNING", NULL);
    assert_false (slurm_job_end (&j, true, 3, "", false, "s1", &e));
    assert_true (slurm_job_end (NULL, true, 3, "", false, "s1", &e));
    assert_int_equal (e.exit_code, 3);
    assert_false (e.site_failure);
    assert_string_equal (e.error, "");
    assert_true (slurm_job_end (NULL, true, 127, "command 'x' not found on PATH of s1", false,
                                "s1", &e));
    assert_int_equal (e.exit_code, 127);
    assert_string_equal (e.error, "command 'x' not found on PATH of s1");

    j = info ("COMPLETED", NULL);
    assert_true (slurm_job_end (&j, false, 0, "", false, "s1", &e));
    assert_int_equal (e.exit_code, 0);
    assert_string_equal (e.error, "");
    j = info ("FAILED", NULL);
    assert_true (slurm_job_end (&j, true, 5, "", false, "s1", &e));
    assert_int_equal (e.exit_code, 5);
    j = info ("FAILED", "0:9");
    assert_true (slurm_job_end (&j, false, 0, "", false, "s1", &e));
    assert_int_equal (e.exit_code, 137);
    j = info ("FAILED", NULL);
    assert_true (slurm_job_end (&j, false, 0, "", false, "s1", &e));
    assert_int_equal (e.exit_code, 1);

    /* Slurm's word wins for what the script cannot see, even with a status file. */
    j = info ("TIMEOUT", NULL);
    assert_true (slurm_job_end (&j, true, 0, "", false, "s1", &e));
    assert_true (e.walltime_exceeded);
    assert_false (e.site_failure);
    assert_int_equal (e.exit_code, 143);
    assert_string_equal (e.error, "walltime exceeded: Slurm ended job 42 at s1 (TIMEOUT)");
    j = info ("OUT_OF_MEMORY", "0:125");
    assert_true (slurm_job_end (&j, false, 0, "", false, "s1", &e));
    assert_non_null (strstr (e.error, "out of memory"));
    assert_false (e.site_failure);
    j = info ("NODE_FAIL", NULL);
    strcpy (j.reason, "NodeDown");
    assert_true (slurm_job_end (&j, false, 0, "", false, "s1", &e));
    assert_true (e.site_failure);
    assert_true (e.requeue);
    assert_string_equal (e.error, "node failure: Slurm job 42 at s1 ended NODE_FAIL (NodeDown)");
    j = info ("PREEMPTED", NULL);
    assert_true (slurm_job_end (&j, true, 0, "", false, "s1", &e));
    assert_true (e.site_failure);
    assert_true (e.requeue);
    assert_string_equal (e.error, "preempted: Slurm job 42 at s1 ended PREEMPTED");

    j = info ("CANCELLED", "0:15");
    assert_true (slurm_job_end (&j, false, 0, "", true, "s1", &e));
    assert_true (e.killed);
    assert_string_equal (e.error, "");
    assert_int_equal (e.exit_code, 143);
    assert_true (slurm_job_end (&j, false, 0, "", false, "s1", &e));
    assert_false (e.killed);
    assert_non_null (strstr (e.error, "cancelled in Slurm, not by fedsched: job 42"));
}

/* --- the batch script ----------------------------------------------------- */

static char dir[256];

static int setup (void **state)
{
    char t[] = "/tmp/test_slurm_XXXXXX";
    if (!mkdtemp (t))
        return -1;
    snprintf (dir, sizeof (dir), "%s", t);
    return 0;
}

static int teardown (void **state)
{
    char cmd[PATH_MAX + 16];
    snprintf (cmd, sizeof (cmd), "rm -rf '%s'", dir);
    return system (cmd) == 0 ? 0 : -1;
}

static char *slurp (const char *path)
{
    FILE *f = fopen (path, "r");
    if (!f)
        return NULL;
    static char buf[8192];
    size_t n = fread (buf, 1, sizeof (buf) - 1, f);
    buf[n] = '\0';
    fclose (f);
    return buf;
}

/* What the script left in path, read as every launcher's status is (launch.h). */
static int read_status (const char *path, int *code, char *error, size_t errsz, fs_error_t *e)
{
    struct launch_status st;
    int r = launch_status_read (path, &st, e);
    if (r == 1) {
        *code = st.exit_code;
        if (error)
            snprintf (error, errsz, "%s", st.error);
        if (st.runtime_s < 0 || st.runtime_s > 60)
            fail_msg ("status %s: runtime_s %g", path, st.runtime_s);
    }
    return r;
}

/* Run the script at path with a stand-in srun (and mpirun) on PATH that
 * records its arguments and environment, and SLURM_JOB_ID=77. */
static int run_script (const char *script, const char *fake_body)
{
    char bin[300], fake[320], cmd[4 * PATH_MAX];
    snprintf (bin, sizeof (bin), "%s/bin", dir);
    mkdir (bin, 0755);
    char body[4096];
    snprintf (body, sizeof (body), "#!/bin/sh\nprintf '%%s\\n' \"$@\" >'%s/args'\n"
              "echo \"job=$FEDSCHED_JOB quote=$Q root=${OMPI_ALLOW_RUN_AS_ROOT:-}\" >'%s/env'\n%s\n",
              dir, dir, fake_body);
    snprintf (fake, sizeof (fake), "%s/srun", bin);
    tu_put (fake, body, 0755);
    snprintf (fake, sizeof (fake), "%s/mpirun", bin);
    tu_put (fake, body, 0755);
    /* Without the caller's OMPI_ALLOW_RUN_AS_ROOT (tests/run exports it): the
     * script alone must set it, and only for mpirun as root. */
    snprintf (cmd, sizeof (cmd), "cd '%s' && env -u OMPI_ALLOW_RUN_AS_ROOT SLURM_JOB_ID=77 "
              "PATH='%s':/usr/bin:/bin sh '%s' "
              ">'%s/out' 2>'%s/err'", dir, bin, script, dir, dir);
    int ws = system (cmd);
    return WIFEXITED (ws) ? WEXITSTATUS (ws) : -1;
}

static void write_script (const struct slurm_submit *s)
{
    char *text = slurm_batch_script (s, &err);
    if (!text)
        fail_msg ("slurm_batch_script: %s", err.text);
    tu_put (s->script_path, text, 0755);
    free (text);
}

static void test_script (void **state)
{
    char script[300], status[300], path[PATH_MAX + 16];
    snprintf (script, sizeof (script), "%s/job.sh", dir);
    snprintf (status, sizeof (status), "%s/exit status", dir);
    const char *argv[] = { "true", "it's", "$HOME", "a b", "`x`", NULL };
    const char *env[] = { "FEDSCHED_JOB=12", "Q=it's \"$x\"", NULL };
    struct slurm_submit s = {
        .name = "fedsched.s1.12.t", .argv = argv, .ranks = 2, .env = env, .cwd = dir,
        .status_path = status, .script_path = script, .site = "s1", .mpi = "srun",
    };
    write_script (&s);
    /* srun gets the ranks and the argv, word for word; the status is written. */
    assert_int_equal (run_script (script, "exit 3"), 3);
    snprintf (path, sizeof (path), "%s/args", dir);
    assert_string_equal (slurp (path), "--mpi=pmix\n--ntasks=2\n--kill-on-bad-exit=1\ntrue\nit's\n$HOME\na b\n`x`\n");
    snprintf (path, sizeof (path), "%s/env", dir);
    assert_string_equal (slurp (path), "job=12 quote=it's \"$x\" root=\n");
    int code;
    char error[600];
    assert_int_equal (read_status (status, &code, error, sizeof (error), &err), 1);
    assert_int_equal (code, 3);
    assert_string_equal (error, "");
    snprintf (path, sizeof (path), "%s.tmp.77", status);
    assert_int_equal (access (path, F_OK), -1);     /* renamed over, nothing left */

    /* mpirun inside the allocation, allowed to run as root. */
    s.mpi = "mpirun";
    s.as_root = true;
    write_script (&s);
    assert_int_equal (run_script (script, "exit 0"), 0);
    snprintf (path, sizeof (path), "%s/args", dir);
    assert_string_equal (slurp (path), "-np\n2\ntrue\nit's\n$HOME\na b\n`x`\n");
    snprintf (path, sizeof (path), "%s/env", dir);
    assert_string_equal (slurp (path), "job=12 quote=it's \"$x\" root=1\n");
    assert_int_equal (read_status (status, &code, error, sizeof (error), &err), 1);
    assert_int_equal (code, 0);

    /* A command the compute node does not have: 127, said in stderr and the status. */
    const char *missing[] = { "no-such-model-'x'", NULL };
    s.argv = missing;
    s.mpi = "srun";
    write_script (&s);
    assert_int_equal (run_script (script, "exit 0"), 127);
    assert_int_equal (read_status (status, &code, error, sizeof (error), &err), 1);
    assert_int_equal (code, 127);
    const char *want = "command 'no-such-model-'x'' not found on PATH of s1 (Slurm job 77 on ";
    if (strncmp (error, want, strlen (want)))
        fail_msg ("status error '%s', want '%s...'", error, want);
}

/* The script signalled by Slurm (time limit, scancel) writes no status. */
static void test_script_signalled (void **state)
{
    char script[300], status[300];
    snprintf (script, sizeof (script), "%s/job.sh", dir);
    snprintf (status, sizeof (status), "%s/status", dir);
    const char *argv[] = { "true", NULL };
    struct slurm_submit s = { .name = "n", .argv = argv, .ranks = 1, .cwd = dir,
                              .status_path = status, .script_path = script, .mpi = "srun" };
    write_script (&s);
    assert_int_equal (run_script (script, "kill -TERM $PPID; exit 143"), 143);
    int code;
    assert_int_equal (read_status (status, &code, NULL, 0, &err), 0);
}

static void test_script_refused (void **state)
{
    const char *dash[] = { "-x", NULL };
    struct slurm_submit s = { .argv = dash, .mpi = "srun", .status_path = "/s", .script_path = "/j" };
    assert_null (slurm_batch_script (&s, &err));
    assert_int_equal (err.code, FS_EINVAL);
    assert_non_null (strstr (err.text, "starts with '-': srun would take it for an option"));
    const char *argv[] = { "true", NULL };
    const char *env[] = { "1BAD=x", NULL };
    s.argv = argv;
    s.env = env;
    assert_null (slurm_batch_script (&s, &err));
    assert_non_null (strstr (err.text, "'1BAD=x' is not NAME=VALUE"));
}

static void test_sbatch_argv (void **state)
{
    const char *extra[] = { "--mem=4G", "--exclusive", NULL };
    const char *argv[] = { "true", NULL };
    struct slurm_submit s = {
        .name = "fedsched.s1.3.t", .argv = argv, .ranks = 4, .cwd = "/st/jobs/3/t",
        .stdout_path = "/st/jobs/3/t/stdout", .stderr_path = "/st/100%/stderr",
        .status_path = "/st/jobs/3/t/status", .script_path = "/st/jobs/3/t/job.sh",
        .walltime_s = 90, .partition = "batch", .account = "", .qos = "high",
        .sbatch_args = extra, .mpi = "srun",
    };
    char **a = slurm_sbatch_argv (&s, &err);
    assert_non_null (a);
    const char *want[] = { "sbatch", "--parsable", "--job-name=fedsched.s1.3.t", "--ntasks=4",
                           "--time=2", "--chdir=/st/jobs/3/t", "--output=/st/jobs/3/t/stdout",
                           "--error=/st/100%%/stderr", "--open-mode=append", "--no-requeue",
                           "--partition=batch", "--qos=high", "--mem=4G", "--exclusive",
                           "/st/jobs/3/t/job.sh", NULL };
    for (int i = 0; want[i] || a[i]; i++) {
        if (!want[i] || !a[i] || strcmp (want[i], a[i]))
            fail_msg ("argv[%d] is '%s', want '%s'", i, a[i] ? a[i] : "(end)",
                      want[i] ? want[i] : "(end)");
    }
    slurm_argv_free (a);
    s.walltime_s = 0;
    s.partition = NULL;
    s.qos = NULL;
    s.sbatch_args = NULL;
    a = slurm_sbatch_argv (&s, &err);
    for (int i = 0; a[i]; i++) {
        assert_null (strstr (a[i], "--time"));
        assert_null (strstr (a[i], "--partition"));
    }
    slurm_argv_free (a);
}

static void test_run (void **state)
{
    struct slurm_out o;
    char *ok[] = { "sh", "-c", "echo out; echo err >&2; exit 4", NULL };
    assert_int_equal (slurm_run (ok, 10, 1 << 20, &o), 0);
    assert_int_equal (o.status, 4);
    assert_false (o.timed_out);
    assert_string_equal (o.out, "out\n");
    assert_string_equal (o.err, "err\n");
    slurm_out_free (&o);
    char *big[] = { "sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x", NULL };
    assert_int_equal (slurm_run (big, 10, 1000, &o), 0);
    assert_int_equal (strlen (o.out), 1000);
    slurm_out_free (&o);
    char *slow[] = { "sleep", "10", NULL };
    time_t t0 = time (NULL);
    assert_int_equal (slurm_run (slow, 0.3, 1 << 20, &o), -1);
    assert_true (o.timed_out);
    assert_true (time (NULL) - t0 < 5);
    slurm_out_free (&o);
    char *none[] = { "no-such-command-here", NULL };
    assert_int_equal (slurm_run (none, 5, 1 << 20, &o), -1);
    assert_non_null (strstr (o.err, "no-such-command-here"));
    slurm_out_free (&o);
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_states),
        cmocka_unit_test (test_squeue),
        cmocka_unit_test (test_sacct),
        cmocka_unit_test (test_scontrol),
        cmocka_unit_test (test_small_outputs),
        cmocka_unit_test (test_job_end),
        cmocka_unit_test_setup_teardown (test_script, setup, teardown),
        cmocka_unit_test_setup_teardown (test_script_signalled, setup, teardown),
        cmocka_unit_test (test_script_refused),
        cmocka_unit_test (test_sbatch_argv),
        cmocka_unit_test (test_run),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
