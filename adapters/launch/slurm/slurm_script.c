/* slurm_script.c - one attempt's batch job: its script, its sbatch command line,
 * and the exit status the script leaves behind (see slurm.h).  Pure text work;
 * the files are written and sbatch is run by the tracker. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/launch/slurm/slurm.h"
#include "common/sbuf.h"

/* s as one shell word: '...' with each ' written as '\''. */
static void add_quoted (struct sbuf *t, const char *s)
{
    sbuf_puts (t, "'");
    for (const char *p = s; *p; p++) {
        if (*p == '\'')
            sbuf_puts (t, "'\\''");
        else
            sbuf_add (t, p, 1);
    }
    sbuf_puts (t, "'");
}

/* s as the inside of a JSON string (quotes, backslashes, control characters escaped). */
static void add_json (struct sbuf *t, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char e[2] = { '\\', (char)*p };
            sbuf_add (t, e, 2);
        } else if (*p < 0x20 || *p == 0x7f) {
            sbuf_printf (t, "\\u%04x", *p);
        } else {
            sbuf_add (t, (const char *)p, 1);
        }
    }
}

static bool env_name_ok (const char *e, size_t len)
{
    if (len == 0 || !(isalpha ((unsigned char)e[0]) || e[0] == '_'))
        return false;
    for (size_t i = 1; i < len; i++)
        if (!(isalnum ((unsigned char)e[i]) || e[i] == '_'))
            return false;
    return true;
}

char *slurm_batch_script (const struct slurm_submit *s, fs_error_t *err)
{
    struct sbuf t = SBUF_INIT;
    const char *site = s->site && *s->site ? s->site : "this site";
    int ranks = s->ranks > 0 ? s->ranks : 1;
    bool mpirun = s->mpi && !strcmp (s->mpi, "mpirun");
    if (!s->argv || !s->argv[0] || !s->argv[0][0]) {
        errprintf (err, FS_EINVAL, "task has no command: argv is empty");
        return NULL;
    }
    if (s->argv[0][0] == '-') {
        errprintf (err, FS_EINVAL, "task command '%s' starts with '-': %s would take it for an "
                   "option", s->argv[0], mpirun ? "mpirun" : "srun");
        return NULL;
    }
    for (const char *const *e = s->env; e && *e; e++) {
        const char *eq = strchr (*e, '=');
        if (!eq || !env_name_ok (*e, (size_t)(eq - *e))) {
            errprintf (err, FS_EINVAL, "task environment entry '%s' is not NAME=VALUE with a "
                       "shell variable name", *e);
            return NULL;
        }
    }
    sbuf_puts (&t, "#!/bin/sh\n");
    sbuf_puts (&t, "# The batch job of one fedsched task attempt, written by the site's worker\n"
             "# (launcher: slurm).  It runs the task's ranks, then writes their exit\n"
             "# status beside it, unless Slurm signalled the job (time limit, scancel,\n"
             "# preemption): Slurm's own record tells those.\n");
    sbuf_printf (&t, "# job name: %s\n", s->name ? s->name : "");
    for (const char *const *e = s->env; e && *e; e++) {
        const char *eq = strchr (*e, '=');
        sbuf_puts (&t, "export ");
        sbuf_add (&t, *e, (size_t)(eq - *e) + 1);
        add_quoted (&t, eq + 1);
        sbuf_puts (&t, "\n");
    }
    if (mpirun && s->as_root)
        sbuf_puts (&t, "export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1\n");
    /* The message for a command the compute node lacks, plain (stderr) and as
     * a JSON string's inside (the status file); the job id and node name,
     * known only there, have no characters either needs escaped. */
    char where[160];
    snprintf (where, sizeof (where), " not found on PATH of %s (Slurm job ", site);
    struct sbuf msg = SBUF_INIT, js = SBUF_INIT;
    sbuf_puts (&msg, "command '");
    sbuf_puts (&msg, s->argv[0]);
    sbuf_puts (&msg, "'");
    sbuf_puts (&msg, where);
    add_json (&js, sbuf_str (&msg));
    sbuf_puts (&t, "fs_signalled=\n"
             "trap 'fs_signalled=TERM' TERM\n"
             "trap 'fs_signalled=INT' INT\n"
             "fs_t0=$(date +%s)\n"
             "fs_json=\n"
             "if command -v ");
    add_quoted (&t, s->argv[0]);
    sbuf_puts (&t, " >/dev/null 2>&1; then\n    ");
    if (mpirun)
        sbuf_printf (&t, "mpirun -np %d", ranks);
    else
        sbuf_printf (&t, "srun --mpi=pmix --ntasks=%d --kill-on-bad-exit=1", ranks);
    for (const char *const *a = s->wrapper; a && *a; a++) {
        sbuf_puts (&t, " ");
        add_quoted (&t, *a);
    }
    for (const char *const *a = s->argv; *a; a++) {
        sbuf_puts (&t, " ");
        add_quoted (&t, *a);
    }
    sbuf_puts (&t, "\n    fs_rc=$?\nelse\n    fs_node=$(hostname)\n    printf 'fedsched: %s\\n' ");
    add_quoted (&t, sbuf_str (&msg));
    sbuf_puts (&t, "\"$SLURM_JOB_ID on $fs_node)\" >&2\n    fs_json=");
    add_quoted (&t, sbuf_str (&js));
    sbuf_puts (&t, "\"$SLURM_JOB_ID on $fs_node)\"\n"
             "    fs_rc=127\n"
             "fi\n"
             "fs_rt=$(( $(date +%s) - fs_t0 ))\n"
             "if [ -z \"$fs_signalled\" ]; then\n"
             "    fs_tmp=");
    sbuf_free (&msg);
    sbuf_free (&js);
    add_quoted (&t, s->status_path);
    sbuf_puts (&t, ".tmp.$SLURM_JOB_ID\n"
             "    printf '{\"exit_code\": %d, \"runtime_s\": %d, \"error\": \"%s\"}\\n' "
             "\"$fs_rc\" \"$fs_rt\" \"$fs_json\" >\"$fs_tmp\" &&\n"
             "        mv -f \"$fs_tmp\" ");
    add_quoted (&t, s->status_path);
    sbuf_puts (&t, "\nfi\nexit $fs_rc\n");
    if (t.failed) {
        sbuf_free (&t);
        errprintf (err, FS_EFAIL, "out of memory writing a batch script");
        return NULL;
    }
    return sbuf_take (&t);
}

void slurm_argv_free (char **argv)
{
    if (!argv)
        return;
    for (char **a = argv; *a; a++)
        free (*a);
    free (argv);
}

/* "OPT=VALUE" with each '%' of value doubled when pct (sbatch expands %j,
 * %u... in --output and --error). */
static char *opt (const char *name, const char *value, bool pct)
{
    struct sbuf t = SBUF_INIT;
    sbuf_puts (&t, name);
    sbuf_puts (&t, "=");
    for (const char *p = value; *p; p++)
        sbuf_add (&t, pct && *p == '%' ? "%%" : p, pct && *p == '%' ? 2 : 1);
    if (t.failed) {
        sbuf_free (&t);
        return NULL;
    }
    return sbuf_take (&t);
}

char **slurm_sbatch_argv (const struct slurm_submit *s, fs_error_t *err)
{
    size_t nextra = 0;
    for (const char *const *a = s->sbatch_args; a && *a; a++)
        nextra++;
    char **argv = calloc (20 + nextra, sizeof (*argv));
    if (!argv)
        goto nomem;
    size_t k = 0;
    char num[32];
    argv[k++] = strdup ("sbatch");
    argv[k++] = strdup ("--parsable");
    argv[k++] = opt ("--job-name", s->name ? s->name : "fedsched", false);
    snprintf (num, sizeof (num), "%d", s->ranks > 0 ? s->ranks : 1);
    argv[k++] = opt ("--ntasks", num, false);
    int minutes = slurm_time_minutes (s->walltime_s);
    if (minutes > 0) {
        snprintf (num, sizeof (num), "%d", minutes);
        argv[k++] = opt ("--time", num, false);
    }
    if (s->cwd)
        argv[k++] = opt ("--chdir", s->cwd, false);
    argv[k++] = opt ("--output", s->stdout_path ? s->stdout_path : "/dev/null", true);
    argv[k++] = opt ("--error", s->stderr_path ? s->stderr_path : "/dev/null", true);
    argv[k++] = strdup ("--open-mode=append");
    /* fedsched places a failed attempt again itself: Slurm must not requeue it. */
    argv[k++] = strdup ("--no-requeue");
    if (s->partition && *s->partition)
        argv[k++] = opt ("--partition", s->partition, false);
    if (s->account && *s->account)
        argv[k++] = opt ("--account", s->account, false);
    if (s->qos && *s->qos)
        argv[k++] = opt ("--qos", s->qos, false);
    for (const char *const *a = s->sbatch_args; a && *a; a++)
        argv[k++] = strdup (*a);
    argv[k++] = strdup (s->script_path);
    argv[k] = NULL;
    for (size_t i = 0; i < k; i++)
        if (!argv[i])
            goto nomem;
    return argv;
nomem:
    if (argv) {
        /* entries after a NULL are freed too */
        for (size_t i = 0; i < 20 + nextra; i++)
            free (argv[i]);
        free (argv);
    }
    errprintf (err, FS_EFAIL, "out of memory building the sbatch command");
    return NULL;
}
