/* jobs.c - the job verbs: validate, submit, jobs, status, explain, wait, watch,
 * cancel, logs, links (SPEC section 3; docs/protocol.md, "Jobs").
 *
 * Every verb talks to the scheduler through libfedsched (cli_request, and
 * fs_validate, fs_submit, fs_job_wait, fs_job_cancel): an error text of any
 * length (a job file's errors, one FILE:LINE:COL message per line) is printed
 * whole, one "fedsched: error:" line each; a deadline (wait --timeout) is told
 * apart from an unreachable scheduler ($FEDSCHED_TIMEOUT seconds of silence,
 * exit 75).
 *
 * wait, watch and submit --wait follow a job with fs_job_wait(): it asks for
 * job.status every 0.5 s, backing off to 2 s while nothing changes; each
 * answer is shown in the chosen way (not at all, one plain line per change, or
 * a view redrawn in place on a TTY); it ends when the job does: 0 COMPLETED,
 * 1 FAILED or CANCELLED (naming the failed task on stderr), 124 at the
 * --timeout, or the error code of a failed call (75 unreachable, 1 unknown job).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "common/clock.h"
#include "common/msg.h"
#include "table.h"

/* ------------------------------------------------------------------ */
/* Small helpers */

/* Borrowed string member, or NULL. */
static const char *jstr (const json_t *o, const char *key)
{
    return json_string_value (json_object_get (o, key));
}

/* Integer member as text, "-" when absent or null. */
static const char *jint_text (const json_t *o, const char *key, char *buf, size_t n)
{
    json_t *v = json_object_get (o, key);
    if (json_is_integer (v))
        snprintf (buf, n, "%lld", (long long) json_integer_value (v));
    else if (json_is_real (v))
        snprintf (buf, n, "%g", json_real_value (v));
    else
        snprintf (buf, n, "-");
    return buf;
}

/* Tasks of a status object that are COMPLETED. */
static size_t tasks_done (const json_t *st)
{
    size_t i, n = 0;
    json_t *t;
    json_array_foreach (json_object_get (st, "tasks"), i, t) {
        const char *s = jstr (t, "state");
        if (s && !strcmp (s, "COMPLETED"))
            n++;
    }
    return n;
}

/* "12.3 s": a cost estimate in seconds. */
static char *fmt_cost (double s, char *buf, size_t n)
{
    if (!isfinite (s))
        snprintf (buf, n, "-");
    else if (fabs (s) < 10)
        snprintf (buf, n, "%.2f s", s);
    else if (fabs (s) < 100)
        snprintf (buf, n, "%.1f s", s);
    else
        snprintf (buf, n, "%.0f s", s);
    return buf;
}

/* "JOBID must be a positive integer": 0 with *id set, else 2 (usage printed). */
static int parse_jobid (const struct cli_verb *v, const char *s, int64_t *id)
{
    char *end;
    errno = 0;
    long long n = isdigit ((unsigned char) s[0]) ? strtoll (s, &end, 10) : 0;
    if (!isdigit ((unsigned char) s[0]) || errno || *end || n <= 0)
        return cli_usage_error (v, "JOBID must be a positive integer, not '%s'", s);
    *id = (int64_t) n;
    return 0;
}

/* One request: cli_request without a timeout. */
static json_t *call1 (const struct client_opts *co, const char *op, json_t *body, int *code)
{
    return cli_request (co, op, body, -1, code);
}

/* Parse the options of a verb without options of its own.  True when the verb
 * must stop now (--help, a usage error) with exit code *rc; else positional
 * arguments start at optind. */
static bool plain_opts (int argc, char **argv, const struct cli_verb *v, struct client_opts *co,
                        int *rc)
{
    int ex;
    if (cli_getopt (argc, argv, v, co, &ex) != -1 || ex >= 0) {
        *rc = ex >= 0 ? ex : cli_usage_error (v, "unexpected option");
        return true;
    }
    return false;
}

/* ------------------------------------------------------------------ */
/* Following a job: wait, watch, submit --wait */

enum follow_mode { FOLLOW_QUIET, FOLLOW_LINES, FOLLOW_TTY };

struct view {
    enum follow_mode mode;
    int64_t id;
    json_t *prev;               /* the previous status (LINES), owned */
    int lines;                  /* lines drawn last time (TTY) */
};

static const json_t *find_task (const json_t *st, const char *name)
{
    size_t i;
    json_t *t;
    json_array_foreach (json_object_get (st, "tasks"), i, t) {
        const char *n = jstr (t, "name");
        if (n && name && !strcmp (n, name))
            return t;
    }
    return NULL;
}

static bool same_str (const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp (a, b));
}

/* One plain line per change: "12:03:04 task downscale RUNNING at site2". */
static bool view_lines (struct view *v, json_t *st)
{
    char clk[16];
    bool changed = false;
    clock_local_hms (clock_wall (), clk, sizeof (clk));
    const char *js = jstr (st, "state"), *pjs = v->prev ? jstr (v->prev, "state") : NULL;
    if (!v->prev) {
        printf ("%s job %lld (%s) %s, %zu task%s\n", clk, (long long) v->id,
                jstr (st, "name") ? jstr (st, "name") : "-", js ? js : "?",
                json_array_size (json_object_get (st, "tasks")),
                json_array_size (json_object_get (st, "tasks")) == 1 ? "" : "s");
        changed = true;
    }
    size_t i;
    json_t *t;
    json_array_foreach (json_object_get (st, "tasks"), i, t) {
        const char *name = jstr (t, "name"), *s = jstr (t, "state"), *site = jstr (t, "site");
        const json_t *pt = v->prev ? find_task (v->prev, name) : NULL;
        if (pt && same_str (s, jstr (pt, "state")) && same_str (site, jstr (pt, "site")))
            continue;
        changed = true;
        printf ("%s task %s %s", clk, name ? name : "?", s ? s : "?");
        if (site)
            printf (" at %s", site);
        json_t *ec = json_object_get (t, "exit_code");
        if (s && !strcmp (s, "FAILED") && json_is_integer (ec))
            printf (" (exit code %lld)", (long long) json_integer_value (ec));
        if (s && !strcmp (s, "FAILED") && jstr (t, "error"))
            printf (": %s", jstr (t, "error"));
        putchar ('\n');
    }
    if (v->prev && !same_str (js, pjs)) {
        printf ("%s job %lld %s\n", clk, (long long) v->id, js ? js : "?");
        changed = true;
    }
    fflush (stdout);
    return changed;
}

static void term_size (int *cols, int *rows)
{
    struct winsize ws;
    *cols = 80;
    *rows = 24;
    if (ioctl (STDOUT_FILENO, TIOCGWINSZ, &ws) == 0) {
        if (ws.ws_col >= 20)
            *cols = ws.ws_col;
        if (ws.ws_row >= 5)
            *rows = ws.ws_row;
    }
}

/* Seconds from an ISO start to an ISO end (or now); -1 if unknown. */
static double span (const char *start, const char *end)
{
    double a = clock_iso_parse (start), b = end ? clock_iso_parse (end) : clock_wall ();
    return a >= 0 && b >= a ? b - a : -1;
}

/* The TTY view, redrawn in place (cursor up, clear to the end of the screen):
 *
 *   job 12 flood-risk  RUNNING  [#########---------]  2/5 tasks done  1m02s
 *   TASK       STATE      SITE   RANKS  TIME
 *   downscale  COMPLETED  site2      4   12s
 */
static bool view_tty (struct view *v, json_t *st)
{
    int cols, rows;
    term_size (&cols, &rows);
    json_t *tasks = json_object_get (st, "tasks");
    size_t total = json_array_size (tasks), done = tasks_done (st);
    char *buf = NULL, d[32];
    size_t len = 0;
    FILE *m = open_memstream (&buf, &len);
    if (!m)
        return true;
    int barw = cols / 4 > 30 ? 30 : cols / 4;
    int fill = total ? (int) ((double) barw * (double) done / (double) total) : 0;
    double el = span (jstr (st, "submitted"), jstr (st, "ended"));
    fprintf (m, "job %lld %s  %s  [", (long long) v->id, jstr (st, "name") ? jstr (st, "name") : "",
             jstr (st, "state") ? jstr (st, "state") : "?");
    for (int i = 0; i < barw; i++)
        fputc (i < fill ? '#' : '-', m);
    fprintf (m, "]  %zu/%zu tasks done  %s\n", done, total,
             el >= 0 ? fmt_duration (el, d, sizeof (d)) : "");
    static const char *const hdr[] = { "task", "state", "site", "ranks", "time" };
    struct table *t = table_create (5, hdr);
    size_t i, shown = 0, room = rows > 4 ? (size_t) rows - 3 : 1;
    json_t *task;
    json_array_foreach (tasks, i, task) {
        if (shown == room && total > room)
            break;
        char r[32], tm[32];
        double ts = span (jstr (task, "started"), jstr (task, "ended"));
        const char *cells[5] = { jstr (task, "name"), jstr (task, "state"), jstr (task, "site"),
                                 jint_text (task, "ranks", r, sizeof (r)),
                                 ts >= 0 ? fmt_duration (ts, tm, sizeof (tm)) : NULL };
        table_add (t, cells);
        shown++;
    }
    table_print (t, m);
    table_destroy (t);
    if (shown < total)
        fprintf (m, "... and %zu more task%s\n", total - shown, total - shown == 1 ? "" : "s");
    fclose (m);

    if (v->lines > 0)
        printf ("\033[%dA\r\033[J", v->lines);
    int n = 0;
    for (char *p = buf; *p;) {
        size_t l = strcspn (p, "\n");
        printf ("%.*s\n", (int) (l < (size_t) cols - 1 ? l : (size_t) cols - 1), p);
        n++;
        p += l;
        if (*p == '\n')
            p++;
    }
    v->lines = n;
    fflush (stdout);
    free (buf);
    return true;
}

/* How a job that ended exits: 0 COMPLETED, else 1 with the reason on stderr. */
static int ended_code (const json_t *st, int64_t id)
{
    const char *s = jstr (st, "state");
    if (s && !strcmp (s, "COMPLETED"))
        return 0;
    if (s && !strcmp (s, "CANCELLED")) {
        fprintf (stderr, "fedsched: error: job %lld was CANCELLED\n", (long long) id);
        return 1;
    }
    int named = 0;
    size_t i;
    json_t *t;
    json_array_foreach (json_object_get (st, "tasks"), i, t) {
        const char *ts = jstr (t, "state");
        if (!ts || strcmp (ts, "FAILED"))
            continue;
        json_t *ec = json_object_get (t, "exit_code");
        const char *name = jstr (t, "name") ? jstr (t, "name") : "?";
        fprintf (stderr, "fedsched: error: job %lld FAILED: task %s failed", (long long) id, name);
        if (jstr (t, "site"))
            fprintf (stderr, " at %s", jstr (t, "site"));
        if (json_is_integer (ec))
            fprintf (stderr, " with exit code %lld", (long long) json_integer_value (ec));
        /* The site's error says which of the task's logs holds its words. */
        const char *e = jstr (t, "error");
        if (e)
            fprintf (stderr, ": %s", e);
        fputc ('\n', stderr);
        named++;
    }
    if (!named)
        fprintf (stderr, "fedsched: error: job %lld %s\n", (long long) id, s ? s : "FAILED");
    return 1;
}

struct follow {
    struct view v;
    char state[32];             /* the last state seen */
};

/* Each status fs_job_wait polled: shown as the mode says. */
static void follow_each (void *arg, const char *status)
{
    struct follow *f = arg;
    json_t *st = json_loads (status, 0, NULL);
    if (!st)
        return;
    const char *s = jstr (st, "state");
    snprintf (f->state, sizeof (f->state), "%s", s ? s : "?");
    if (f->v.mode == FOLLOW_LINES)
        view_lines (&f->v, st);
    else if (f->v.mode == FOLLOW_TTY)
        view_tty (&f->v, st);
    json_decref (f->v.prev);
    f->v.prev = st;
}

/* Follow job id until it ends or timeout (seconds; < 0: none) expires.
 * Returns the exit code; *final gets the last status when the job ended
 * (caller frees), else NULL. */
static int job_follow (const struct client_opts *co, int64_t id, double timeout,
                       enum follow_mode mode, json_t **final)
{
    int code = 0;
    struct fs_client *c = cli_client (co, &code);
    *final = NULL;
    if (!c)
        return code;
    struct follow f = { .v = { .mode = mode, .id = id }, .state = "PENDING" };
    struct fs_error *e = NULL;
    char *st = fs_job_wait (c, id, timeout, follow_each, &f, &e);
    json_decref (f.v.prev);
    if (!st) {
        if (fs_error_code (e) == FS_ETIMEOUT) {
            fprintf (stderr, "fedsched: error: job %lld is still %s after %g s (--timeout)\n",
                     (long long) id, f.state, timeout);
            fs_error_free (e);
            return FS_ETIMEOUT;
        }
        return cli_fail (e, NULL);
    }
    if (!(*final = cli_doc (st, &code)))
        return code;
    return ended_code (*final, id);
}

/* ------------------------------------------------------------------ */
/* validate, submit */

static const struct cli_verb v_validate = {
    "validate", "JOBFILE [--json]",
    "Check a job file (SPEC section 4) against the federation's catalog and sites\n"
    "without submitting it.  Prints 'JOBFILE: valid (N tasks)', or every problem as\n"
    "'fedsched: error: FILE:LINE:COL: message', one per line, and exits 2.\n"
    "  --json  print the scheduler's answer {name, tasks}",
    NULL, NULL,
};

int cmd_validate (int argc, char **argv)
{
    struct client_opts co = { 0 };
    int code = 0;
    if (plain_opts (argc, argv, &v_validate, &co, &code))
        return code;
    if (argc - optind != 1)
        return cli_usage_error (&v_validate, "validate needs exactly one JOBFILE");
    const char *path = argv[optind];
    struct fs_client *c = cli_client (&co, &code);
    if (!c)
        return code;
    struct fs_error *e = NULL;
    char *txt = fs_validate (c, path, &e);
    if (!txt)
        return cli_fail (e, NULL);
    json_t *r = cli_doc (txt, &code);
    if (!r)
        return code;
    if (co.json) {
        cli_print_json (r);
    } else {
        json_t *t = json_object_get (r, "tasks");
        long long n = json_is_array (t) ? (long long) json_array_size (t)
                                        : (long long) json_integer_value (t);
        printf ("%s: valid (%lld task%s)\n", path, n, n == 1 ? "" : "s");
    }
    json_decref (r);
    return 0;
}

static const struct option submit_opts[] = {
    { "wait", no_argument, NULL, 'w' },
    { "token", required_argument, NULL, 't' },
    { NULL, 0, NULL, 0 },
};

static const struct cli_verb v_submit = {
    "submit", "JOBFILE [--wait] [--json]",
    "Submit a job file (SPEC section 4).  The scheduler answers once the job is on\n"
    "disk; stdout is then the job id alone (an integer).  Problems with the file are\n"
    "printed as 'fedsched: error: FILE:LINE:COL: message', one per line (exit 2), and\n"
    "nothing is queued.\n"
    "  --wait  then wait until the job ends and exit like 'fedsched wait': 0 COMPLETED,\n"
    "          1 FAILED or CANCELLED\n"
    "  --json  print {\"id\": N}, or with --wait the job's final status object\n"
    "  --token T  the submission's token (default: a new one).  A submit that hears no\n"
    "          answer sends the job again with its token until FEDSCHED_TIMEOUT, and\n"
    "          the scheduler makes one job per token: the same token again prints that\n"
    "          job's id instead of submitting twice",
    "wt:", submit_opts,
};

int cmd_submit (int argc, char **argv)
{
    struct client_opts co = { 0 };
    bool wait = false;
    const char *token = NULL;
    char tok[40];
    int ex, c, code = 0;
    while ((c = cli_getopt (argc, argv, &v_submit, &co, &ex)) != -1) {
        if (ex >= 0)
            return ex;
        if (c == 'w')
            wait = true;
        else if (c == 't')
            token = optarg;
    }
    if (argc - optind != 1)
        return cli_usage_error (&v_submit, "submit needs exactly one JOBFILE");
    struct fs_client *cl = cli_client (&co, &code);
    if (!cl)
        return code;
    if (!token) {
        client_token (tok, sizeof (tok));
        token = tok;
    }
    struct fs_error *e = NULL;
    int64_t id = fs_submit (cl, argv[optind], token, &e);
    if (id < 0)
        return cli_fail (e, token);
    if (!co.json || !wait) {
        if (co.json)
            printf ("{\"id\": %lld}\n", (long long) id);
        else
            printf ("%lld\n", (long long) id);
        fflush (stdout);
    }
    if (!wait)
        return 0;
    json_t *final = NULL;
    code = job_follow (&co, id, -1, FOLLOW_QUIET, &final);
    if (final && co.json)
        cli_print_json (final);
    json_decref (final);
    return code;
}

/* ------------------------------------------------------------------ */
/* jobs, status, explain */

static const struct option jobs_opts[] = {
    { "all", no_argument, NULL, 'a' },
    { NULL, 0, NULL, 0 },
};

static const struct cli_verb v_jobs = {
    "jobs", "[--all] [--json]",
    "List the jobs that are PENDING or RUNNING: id, name, state, tasks done/total,\n"
    "submission time (ISO 8601 UTC).\n"
    "  --all   also the jobs that ended (COMPLETED, FAILED, CANCELLED)\n"
    "  --json  an array of {id, name, state, tasks_done, tasks_total, submitted}",
    "a", jobs_opts,
};

int cmd_jobs (int argc, char **argv)
{
    struct client_opts co = { 0 };
    bool all = false;
    int ex, c, code = 0;
    while ((c = cli_getopt (argc, argv, &v_jobs, &co, &ex)) != -1) {
        if (ex >= 0)
            return ex;
        if (c == 'a')
            all = true;
    }
    if (optind < argc)
        return cli_usage_error (&v_jobs, "unexpected argument '%s'", argv[optind]);
    json_t *r = call1 (&co, "job.list", json_pack ("{s:b}", "all", all), &code);
    if (!r)
        return code;
    json_t *jobs = json_object_get (r, "jobs");
    size_t i;
    json_t *j;
    if (co.json) {
        json_t *out = json_array ();
        json_array_foreach (jobs, i, j) {
            json_t *o = json_object ();
            static const char *const from[] = { "id", "name", "state", "done", "total", "submitted" };
            static const char *const to[] = { "id", "name", "state", "tasks_done", "tasks_total",
                                              "submitted" };
            for (int k = 0; k < 6; k++) {
                json_t *val = json_object_get (j, from[k]);
                json_object_set_new (o, to[k], val ? json_incref (val) : json_null ());
            }
            json_array_append_new (out, o);
        }
        cli_print_json (out);
        json_decref (out);
    } else {
        static const char *const hdr[] = { "id", "name", "state", "tasks", "submitted" };
        struct table *t = table_create (5, hdr);
        json_array_foreach (jobs, i, j) {
            char id[32], d[32], n[32], tasks[72];
            snprintf (tasks, sizeof (tasks), "%s/%s", jint_text (j, "done", d, sizeof (d)),
                      jint_text (j, "total", n, sizeof (n)));
            const char *cells[5] = { jint_text (j, "id", id, sizeof (id)), jstr (j, "name"),
                                     jstr (j, "state"), tasks, jstr (j, "submitted") };
            table_add (t, cells);
        }
        table_print (t, stdout);
        table_destroy (t);
    }
    json_decref (r);
    return 0;
}

/* The JOBID argument, first of min..max positional ones; 0 or the exit code. */
static int jobid_arg (int argc, char **argv, const struct cli_verb *v, int min, int max,
                      int64_t *id)
{
    int n = argc - optind;
    if (n < min)
        return cli_usage_error (v, "%s needs a JOBID", v->name);
    if (n > max)
        return cli_usage_error (v, "unexpected argument '%s'", argv[optind + max]);
    return parse_jobid (v, argv[optind], id);
}

static json_t *get_status (const struct client_opts *co, int64_t id, int *code)
{
    return call1 (co, "job.status", json_pack ("{s:I}", "id", (json_int_t) id), code);
}

/* A batch site's word on a task (status batch): "Slurm job 12 PENDING
 * (Priority)"; NULL when there is none. */
static const char *batch_text (const json_t *task, char *buf, size_t size)
{
    json_t *b = json_object_get (task, "batch");
    if (!json_is_object (b))
        return NULL;
    const char *sys = jstr (b, "system"), *id = jstr (b, "id"), *state = jstr (b, "state");
    const char *reason = jstr (b, "reason");
    snprintf (buf, size, "%s job %s %s%s%s%s", sys && !strcmp (sys, "slurm") ? "Slurm" : sys ? sys : "batch",
              id && *id ? id : "(not yet submitted)", state ? state : "", reason && *reason ? " (" : "",
              reason && *reason ? reason : "", reason && *reason ? ")" : "");
    return buf;
}

static const struct cli_verb v_status = {
    "status", "JOBID [--json]",
    "Show one job: its state, and for each task its state, site, ranks, exit code,\n"
    "start and end times (UTC) and the input bytes it moved between sites.\n"
    "'fedsched explain JOBID' tells why each task runs where it does.\n"
    "  --json  the status object of SPEC section 3: {id, name, state, submitted, ended,\n"
    "          tasks[{name, state, site, ranks, exit_code, started, ended, bytes_local,\n"
    "          bytes_moved, placement{site, reason, cost_s, candidates[{site, cost_s,\n"
    "          excluded}]}, batch{system, id, state, reason, start} or null}]}",
    NULL, NULL,
};

int cmd_status (int argc, char **argv)
{
    struct client_opts co = { 0 };
    int64_t id;
    int code = 0;
    if (plain_opts (argc, argv, &v_status, &co, &code)
        || (code = jobid_arg (argc, argv, &v_status, 1, 1, &id)))
        return code;
    json_t *st = get_status (&co, id, &code);
    if (!st)
        return code;
    if (co.json) {
        cli_print_json (st);
        json_decref (st);
        return 0;
    }
    json_t *tasks = json_object_get (st, "tasks");
    printf ("job %lld (%s): %s, %zu of %zu task%s completed, submitted %s", (long long) id,
            jstr (st, "name") ? jstr (st, "name") : "-", jstr (st, "state") ? jstr (st, "state") : "?",
            tasks_done (st), json_array_size (tasks), json_array_size (tasks) == 1 ? "" : "s",
            jstr (st, "submitted") ? jstr (st, "submitted") : "-");
    if (jstr (st, "ended"))
        printf (", ended %s", jstr (st, "ended"));
    printf ("\n\n");
    static const char *const hdr[] = { "task", "state", "site", "ranks", "exit", "started",
                                       "ended", "moved" };
    struct table *t = table_create (8, hdr);
    size_t i;
    json_t *task;
    json_array_foreach (tasks, i, task) {
        char r[32], e[32], m[32];
        json_t *mv = json_object_get (task, "bytes_moved");
        const char *cells[8] = {
            jstr (task, "name"), jstr (task, "state"), jstr (task, "site"),
            jint_text (task, "ranks", r, sizeof (r)), jint_text (task, "exit_code", e, sizeof (e)),
            jstr (task, "started"), jstr (task, "ended"),
            json_is_number (mv) ? fmt_bytes (json_number_value (mv), m, sizeof (m)) : NULL,
        };
        table_add (t, cells);
    }
    table_print (t, stdout);
    table_destroy (t);
    /* What a batch system says of each task, errors, and re-runs after a site
     * failure, below the table. */
    json_array_foreach (tasks, i, task) {
        char bt[300];
        if (batch_text (task, bt, sizeof (bt)))
            printf ("task %s: %s\n", jstr (task, "name") ? jstr (task, "name") : "?", bt);
    }
    json_array_foreach (tasks, i, task) {
        json_t *at = json_object_get (task, "attempt");
        bool rerun = json_is_integer (at) && json_integer_value (at) > 1;
        if (!jstr (task, "error") && !rerun)
            continue;
        printf ("task %s", jstr (task, "name") ? jstr (task, "name") : "?");
        if (rerun)
            printf (" (attempt %lld)", (long long) json_integer_value (at));
        printf (": %s\n", jstr (task, "error") ? jstr (task, "error") : "re-run after a site failure");
    }
    json_decref (st);
    return 0;
}

static bool cand_excluded (const json_t *c)
{
    json_t *x = json_object_get (c, "excluded");
    return (x && !json_is_null (x) && !json_is_false (x)) || !json_is_number (json_object_get (c, "cost_s"));
}

/* Runnable candidates by cost (then name), then the excluded ones by name. */
static int cand_cmp (const void *pa, const void *pb)
{
    const json_t *a = *(json_t *const *) pa, *b = *(json_t *const *) pb;
    bool xa = cand_excluded (a), xb = cand_excluded (b);
    if (xa != xb)
        return xa ? 1 : -1;
    if (!xa) {
        double ca = json_number_value (json_object_get (a, "cost_s"));
        double cb = json_number_value (json_object_get (b, "cost_s"));
        if (ca != cb)
            return ca < cb ? -1 : 1;
    }
    const char *na = jstr (a, "site"), *nb = jstr (b, "site");
    return strcmp (na ? na : "", nb ? nb : "");
}

/* Why one task runs where it runs, in words, and the cost at every site. */
static void explain_task (const json_t *t)
{
    const char *name = jstr (t, "name") ? jstr (t, "name") : "?";
    const char *state = jstr (t, "state") ? jstr (t, "state") : "?";
    json_t *p = json_object_get (t, "placement");
    json_t *cands = json_object_get (p, "candidates");
    const char *psite = jstr (p, "site"), *reason = jstr (p, "reason");
    json_t *pcost = json_object_get (p, "cost_s");
    size_t ncand = json_array_size (cands), nexcl = 0, i;
    json_t *c;
    char a[32], b[32];
    json_array_foreach (cands, i, c)
        if (cand_excluded (c))
            nexcl++;

    printf ("task %s: %s", name, state);
    if (jstr (t, "site"))
        printf (" at %s", jstr (t, "site"));
    printf ("\n");
    if (psite) {
        bool running = !strcmp (state, "PLACED") || !strcmp (state, "STAGING")
                       || !strcmp (state, "RUNNING");
        const char *verb = running ? "runs" : !strcmp (state, "COMPLETED") ? "ran"
                         : !strcmp (state, "FAILED") ? "ran (and failed)"
                         : !strcmp (state, "READY") ? "queues for cores" : "was placed";
        printf ("  It %s at %s", verb, psite);
        if (json_is_number (pcost))
            printf (", the earliest estimated finish: %s",
                    fmt_cost (json_number_value (pcost), a, sizeof (a)));
        printf (" (%zu of %zu site%s could run it).\n", ncand - nexcl, ncand, ncand == 1 ? "" : "s");
    } else if (!strcmp (state, "WAITING")) {
        printf ("  It waits for the tasks it depends on; it is placed once they complete.\n");
    } else if (ncand > 0 && nexcl == ncand) {
        printf ("  It cannot run anywhere at the moment: all %zu site%s are excluded (below).\n",
                ncand, ncand == 1 ? "" : "s");
    } else if (!strcmp (state, "CANCELLED")) {
        printf ("  It was cancelled before it was placed.\n");
    } else if (!strcmp (state, "FAILED")) {
        printf ("  It failed before it was placed.\n");
    } else {
        printf ("  It is not placed yet%s.\n",
                ncand ? ": it waits for a site with enough free cores" : "");
    }
    if (reason)
        printf ("  Reason: %s\n", reason);
    char bt[300];
    if (batch_text (t, bt, sizeof (bt)))
        printf ("  Batch: %s\n", bt);
    if (jstr (t, "error"))
        printf ("  Error: %s\n", jstr (t, "error"));
    if (!ncand) {
        if (!json_is_object (p) && strcmp (state, "WAITING"))
            printf ("  No placement decision has been recorded.\n");
        return;
    }

    const json_t **sorted = calloc (ncand, sizeof (*sorted));
    if (!sorted)
        return;
    json_array_foreach (cands, i, c)
        sorted[i] = c;
    qsort (sorted, ncand, sizeof (*sorted), cand_cmp);
    double best = json_is_number (pcost) ? json_number_value (pcost) : NAN;
    if (!isfinite (best) && ncand > nexcl)
        best = json_number_value (json_object_get (sorted[0], "cost_s"));
    static const char *const hdr[] = { "site", "est. cost", "note" };
    struct table *tab = table_create (3, hdr);
    for (i = 0; i < ncand; i++) {
        const json_t *s = sorted[i];
        const char *site = jstr (s, "site");
        char note[1100];
        if (cand_excluded (s)) {
            const char *why = jstr (s, "excluded");
            snprintf (note, sizeof (note), "excluded: %s", why ? why : "cannot run the task");
        } else if (psite && site && !strcmp (site, psite)) {
            snprintf (note, sizeof (note), "chosen");
        } else {
            double d = json_number_value (json_object_get (s, "cost_s")) - best;
            if (isfinite (d) && d > 0)
                snprintf (note, sizeof (note), "%s later", fmt_cost (d, b, sizeof (b)));
            else if (isfinite (d) && psite)
                snprintf (note, sizeof (note), "as soon (lost the tie: fewer free cores or name)");
            else
                note[0] = '\0';
        }
        const char *cells[3] = {
            site, cand_excluded (s) ? "-"
                  : fmt_cost (json_number_value (json_object_get (s, "cost_s")), a, sizeof (a)),
            note,
        };
        table_add (tab, cells);
    }
    free (sorted);
    /* Indent the table under its task. */
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream (&buf, &len);
    if (m) {
        table_print (tab, m);
        fclose (m);
        for (char *q = buf; *q;) {
            size_t l = strcspn (q, "\n");
            printf ("    %.*s\n", (int) l, q);
            q += l;
            if (*q == '\n')
                q++;
        }
        free (buf);
    }
    table_destroy (tab);
}

static const struct cli_verb v_explain = {
    "explain", "JOBID [TASK] [--json]",
    "Tell, in words, why each task of a job (or only TASK) runs where it runs, or why\n"
    "it is still waiting or cannot run anywhere, with the estimated cost (seconds to\n"
    "finish: waiting for cores, moving inputs, running) at every candidate site,\n"
    "cheapest first, then the sites excluded and why (SPEC section 5).\n"
    "  --json  an array of {name, state, site, placement} from the job's status",
    NULL, NULL,
};

int cmd_explain (int argc, char **argv)
{
    struct client_opts co = { 0 };
    int64_t id;
    int code = 0;
    if (plain_opts (argc, argv, &v_explain, &co, &code)
        || (code = jobid_arg (argc, argv, &v_explain, 1, 2, &id)))
        return code;
    const char *only = argc - optind == 2 ? argv[optind + 1] : NULL;
    json_t *st = get_status (&co, id, &code);
    if (!st)
        return code;
    if (only && !find_task (st, only)) {
        fprintf (stderr, "fedsched: error: job %lld has no task '%s' (see 'fedsched status %lld')\n",
                 (long long) id, only, (long long) id);
        json_decref (st);
        return FS_EFAIL;
    }
    size_t i, n = 0;
    json_t *t, *out = json_array ();
    json_array_foreach (json_object_get (st, "tasks"), i, t) {
        if (only && !same_str (only, jstr (t, "name")))
            continue;
        if (co.json) {
            json_t *p = json_object_get (t, "placement");
            json_array_append_new (out, json_pack ("{s:O?, s:O?, s:O?, s:O?}", "name",
                                                   json_object_get (t, "name"), "state",
                                                   json_object_get (t, "state"), "site",
                                                   json_object_get (t, "site"), "placement", p));
            continue;
        }
        if (n++)
            printf ("\n");
        explain_task (t);
    }
    if (co.json)
        cli_print_json (out);
    else if (!n)
        printf ("job %lld has no tasks\n", (long long) id);
    json_decref (out);
    json_decref (st);
    return 0;
}

/* ------------------------------------------------------------------ */
/* wait, watch, cancel, logs */

static const struct option wait_opts[] = {
    { "timeout", required_argument, NULL, 't' },
    { NULL, 0, NULL, 0 },
};

static const struct cli_verb v_wait = {
    "wait", "JOBID [--timeout S] [--json]",
    "Wait until a job ends.  Exit 0 when it COMPLETED (printing 'job N: COMPLETED'),\n"
    "1 when it FAILED or was CANCELLED (naming the failed task, its exit code and\n"
    "error on stderr), 124 when S seconds pass first, 75 when the scheduler does not\n"
    "answer for $FEDSCHED_TIMEOUT seconds.\n"
    "  --timeout S  give up after S seconds (a decimal number)\n"
    "  --json       print the job's final status object instead",
    "t:", wait_opts,
};

int cmd_wait (int argc, char **argv)
{
    struct client_opts co = { 0 };
    double timeout = -1;
    int64_t id;
    int ex, c, code = 0;
    while ((c = cli_getopt (argc, argv, &v_wait, &co, &ex)) != -1) {
        if (ex >= 0)
            return ex;
        if (c == 't') {
            char *end;
            errno = 0;
            timeout = strtod (optarg, &end);
            if (errno || end == optarg || *end || !isfinite (timeout) || timeout < 0)
                return cli_usage_error (&v_wait, "--timeout needs a number of seconds >= 0, not '%s'",
                                        optarg);
        }
    }
    if ((code = jobid_arg (argc, argv, &v_wait, 1, 1, &id)))
        return code;
    json_t *final = NULL;
    code = job_follow (&co, id, timeout, FOLLOW_QUIET, &final);
    if (final && co.json)
        cli_print_json (final);
    else if (final && code == 0)
        printf ("job %lld: %s\n", (long long) id, jstr (final, "state"));
    json_decref (final);
    return code;
}

static const struct cli_verb v_watch = {
    "watch", "JOBID",
    "Follow a job until it ends.  On a terminal: a progress bar of the tasks done and\n"
    "each task's state, site, ranks and run time, redrawn in place.  Otherwise one\n"
    "line per change, e.g. '12:03:04 task downscale RUNNING at site2'.  Exits like\n"
    "'fedsched wait': 0 COMPLETED, 1 FAILED or CANCELLED, 75 scheduler unreachable.",
    NULL, NULL,
};

int cmd_watch (int argc, char **argv)
{
    struct client_opts co = { 0 };
    int64_t id;
    int code = 0;
    if (plain_opts (argc, argv, &v_watch, &co, &code)
        || (code = jobid_arg (argc, argv, &v_watch, 1, 1, &id)))
        return code;
    json_t *final = NULL;
    code = job_follow (&co, id, -1, isatty (STDOUT_FILENO) ? FOLLOW_TTY : FOLLOW_LINES, &final);
    json_decref (final);
    return code;
}

static const struct cli_verb v_cancel = {
    "cancel", "JOBID [--json]",
    "Cancel a job: tasks not started never start, running ones are killed at their\n"
    "sites.  Prints 'job N: STATE' with the job's state afterwards.  A job that\n"
    "already ended is left as it is (the scheduler says so; exit 1).\n"
    "  --json  print the scheduler's answer {state}",
    NULL, NULL,
};

int cmd_cancel (int argc, char **argv)
{
    struct client_opts co = { 0 };
    int64_t id;
    int code = 0;
    if (plain_opts (argc, argv, &v_cancel, &co, &code)
        || (code = jobid_arg (argc, argv, &v_cancel, 1, 1, &id)))
        return code;
    struct fs_client *c = cli_client (&co, &code);
    if (!c)
        return code;
    char tok[40];
    client_token (tok, sizeof (tok));
    struct fs_error *e = NULL;
    char *txt = fs_job_cancel (c, id, tok, &e);
    if (!txt)
        return cli_fail (e, tok);
    json_t *r = cli_doc (txt, &code);
    if (!r)
        return code;
    if (co.json)
        cli_print_json (r);
    else
        printf ("job %lld: %s\n", (long long) id, jstr (r, "state") ? jstr (r, "state") : "?");
    json_decref (r);
    return 0;
}

static const struct option logs_opts[] = {
    { "stdout", no_argument, NULL, 'o' },
    { "stderr", no_argument, NULL, 'e' },
    { NULL, 0, NULL, 0 },
};

static const struct cli_verb v_logs = {
    "logs", "JOBID TASK [--stdout | --stderr] [--json]",
    "Print what a task wrote to its standard output (the default) or standard error,\n"
    "as kept by the site that ran it (its last attempt).  Exit 1 for an unknown job\n"
    "or task.\n"
    "  --stdout  the task's standard output (default)\n"
    "  --stderr  the task's standard error\n"
    "  --json    the scheduler's answer {site, stdout, stderr, truncated}",
    "oe", logs_opts,
};

int cmd_logs (int argc, char **argv)
{
    struct client_opts co = { 0 };
    int64_t id;
    int ex, c, code = 0, which = 0;
    while ((c = cli_getopt (argc, argv, &v_logs, &co, &ex)) != -1) {
        if (ex >= 0)
            return ex;
        if ((c == 'o' || c == 'e') && which && which != c)
            return cli_usage_error (&v_logs, "give --stdout or --stderr, not both");
        if (c == 'o' || c == 'e')
            which = c;
    }
    if (argc - optind != 2)
        return cli_usage_error (&v_logs, "logs needs JOBID and TASK");
    if ((code = parse_jobid (&v_logs, argv[optind], &id)))
        return code;
    const char *task = argv[optind + 1];
    json_t *r = call1 (&co, "job.logs", json_pack ("{s:I, s:s}", "id", (json_int_t) id, "task", task),
                       &code);
    if (!r)
        return code;
    if (co.json) {
        cli_print_json (r);
    } else {
        json_t *s = json_object_get (r, which == 'e' ? "stderr" : "stdout");
        if (json_is_string (s))
            fwrite (json_string_value (s), 1, json_string_length (s), stdout);
        fflush (stdout);
        if (json_is_true (json_object_get (r, "truncated")))
            fprintf (stderr, "fedsched: warning: the logs of task %s were truncated by site %s\n",
                     task, jstr (r, "site") ? jstr (r, "site") : "?");
    }
    json_decref (r);
    return 0;
}

/* ------------------------------------------------------------------ */
/* links */

static const struct cli_verb v_links = {
    "links", "[--json]",
    "Show the network model placement uses: for each pair of sites, the bandwidth in\n"
    "use (configured in federation.yaml, refined by measured transfers), latency,\n"
    "the measured bandwidth and the number of transfers measured; then the default\n"
    "for pairs not listed.\n"
    "  --json  {default: {bandwidth, latency}, links: [{from, to, bandwidth, latency,\n"
    "          configured_bandwidth, measured_bandwidth, samples}]} (bytes/s, seconds)",
    NULL, NULL,
};

int cmd_links (int argc, char **argv)
{
    struct client_opts co = { 0 };
    int code = 0;
    if (plain_opts (argc, argv, &v_links, &co, &code))
        return code;
    if (optind < argc)
        return cli_usage_error (&v_links, "unexpected argument '%s'", argv[optind]);
    json_t *r = call1 (&co, "links.list", NULL, &code);
    if (!r)
        return code;
    if (co.json) {
        cli_print_json (r);
        json_decref (r);
        return 0;
    }
    static const char *const hdr[] = { "from", "to", "bandwidth", "latency", "measured", "samples" };
    struct table *t = table_create (6, hdr);
    size_t i;
    json_t *l;
    json_array_foreach (json_object_get (r, "links"), i, l) {
        char bw[32], lat[32], ms[32], n[32];
        json_t *b = json_object_get (l, "bandwidth"), *la = json_object_get (l, "latency");
        json_t *m = json_object_get (l, "measured_bandwidth");
        const char *cells[6] = {
            jstr (l, "from"), jstr (l, "to"),
            json_is_number (b) ? fmt_rate (json_number_value (b), bw, sizeof (bw)) : NULL,
            json_is_number (la) ? fmt_duration (json_number_value (la), lat, sizeof (lat)) : NULL,
            json_is_number (m) ? fmt_rate (json_number_value (m), ms, sizeof (ms)) : NULL,
            jint_text (l, "samples", n, sizeof (n)),
        };
        table_add (t, cells);
    }
    table_print (t, stdout);
    table_destroy (t);
    json_t *d = json_object_get (r, "default");
    json_t *db = json_object_get (d, "bandwidth"), *dl = json_object_get (d, "latency");
    char bw[32], lat[32];
    printf ("default (pairs not listed): bandwidth %s, latency %s\n",
            json_is_number (db) ? fmt_rate (json_number_value (db), bw, sizeof (bw)) : "-",
            json_is_number (dl) ? fmt_duration (json_number_value (dl), lat, sizeof (lat)) : "-");
    json_decref (r);
    return 0;
}
