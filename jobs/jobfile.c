/* jobfile.c - job files (SPEC section 4): parse and load.
 *
 * Loading runs in three passes, each of which records every error it finds
 * and goes on, so that the user sees all of them at once:
 *
 *   1. parse: the YAML tree (ydoc) into struct job_spec, checking keys, types,
 *      ranges, names, input values (slice syntax, TASK.OUTPUT references,
 *      reductions) and command placeholders.  What is broken is remembered in
 *      a private struct pstate (per task, per input) so that later passes
 *      skip it instead of piling consequential errors on top.
 *   2. graph: duplicate names, `after` and output references, the
 *      dependency edges, cycles (Tarjan's strongly connected components; one
 *      shortest cycle is reported per component, as a path) and a
 *      topological order (the order in which Tarjan emits the components).
 *   3. federation (when a view is given): datasets, slice bounds,
 *      reductions, pins, cores and the sites the inputs' policies allow.  A
 *      task's output inherits the most restrictive policy of its inputs
 *      (SPEC 6), so a consumer of an output that inherits `none` or
 *      `aggregate` must run where the producer may run, and one that inherits
 *      `regions` within those regions (or where the producer may run).  These
 *      are necessary conditions: a job is only refused when no placement can
 *      ever satisfy them.
 *
 * Errors are sorted by position at the end.  This file holds pass 1 and the
 * driver; pass 2 is in jobfile_graph.c, pass 3 in jobfile_fed.c, and the
 * command placeholders (their tokenizer and jobfile_expand_argv()) in
 * jobfile_argv.c (what they share: jobfile_int.h).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/names.h"
#include "common/ydoc.h"
#include "common/strmap.h"
#include "jobfile_int.h"

/* ------------------------------------------------------------------ */
/* Parse state */

__attribute__ ((format (printf, 3, 4)))
static void perr (struct pstate *ps, const void *at, const char *fmt, ...);

/* at is a struct ynode * or NULL (a position-less error). */
static void perr_mark (struct pstate *ps, struct job_mark m, const char *fmt, va_list ap)
{
    char msg[2048];
    vsnprintf (msg, sizeof (msg), fmt, ap);
    errlist_add (ps->errs, FS_EINVAL, ps->file, m.line, m.col, "%s", msg);
}

static struct job_mark mark_of (const struct ynode *n)
{
    struct job_mark m = { 0, 0 };
    if (n) {
        m.line = n->line;
        m.col = n->col;
    }
    return m;
}

static void perr (struct pstate *ps, const void *at, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    perr_mark (ps, mark_of (at), fmt, ap);
    va_end (ap);
}

__attribute__ ((format (printf, 3, 4)))
void perr_at (struct pstate *ps, struct job_mark m, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    perr_mark (ps, m, fmt, ap);
    va_end (ap);
}

/* An error already formatted "FILE:LINE:COL: ..." by a ydoc helper, at n. */
static void perr_ydoc (struct pstate *ps, const struct ynode *n, const fs_error_t *e)
{
    errlist_push (ps->errs, e->code == FS_EFAIL ? FS_EFAIL : FS_EINVAL, n ? n->line : 0,
               n ? n->col : 0, e->text);
}

static const char *type_name (const struct ynode *n)
{
    switch (n->type) {
    case YNODE_MAP:
        return "a mapping";
    case YNODE_SEQ:
        return "a sequence";
    default:
        return n->quoted ? "a string" : "a scalar";
    }
}

/* A plain empty / ~ / null scalar: "nothing". */
static bool is_null (const struct ynode *n)
{
    return n && n->type == YNODE_SCALAR && !n->quoted
           && (!n->value[0] || !strcmp (n->value, "~") || !strcmp (n->value, "null")
               || !strcmp (n->value, "Null") || !strcmp (n->value, "NULL"));
}

/* Report every key of map not in allowed; returns how many. */
static int check_keys (struct pstate *ps, const struct ynode *map, const char *what,
                       const char *const *allowed)
{
    return ynode_check_keys_all (ps->file, map, what, allowed, ps->errs);
}

/* A string scalar into buf; 0, or -1 (reported). */
static int get_string (struct pstate *ps, const struct ynode *n, const char *what, char *buf,
                       size_t bufsz)
{
    fs_error_t e = { 0, "" };
    if (ynode_string (ps->file, n, what, buf, bufsz, &e) < 0) {
        perr_ydoc (ps, n, &e);
        return -1;
    }
    return 0;
}

/* An identifier ([A-Za-z0-9_-]+, at most 63 bytes) into buf. */
static int get_ident (struct pstate *ps, const struct ynode *n, const char *what,
                      const char *kind, char *buf)
{
    if (n->type != YNODE_SCALAR) {
        perr (ps, n, "%s: expected a %s name, found %s", what, kind, type_name (n));
        return -1;
    }
    fs_error_t e = { 0, "" };
    if (ident_valid (kind, n->value, &e) < 0) {
        perr (ps, n, "%s: %s", what, e.text);
        return -1;
    }
    snprintf (buf, JOB_IDENT_MAX, "%s", n->value);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Placeholders in commands (the tokenizer is in jobfile_argv.c) */

/* Names of a task's inputs or outputs, for messages. */
void list_names (const struct job_task *t, bool outputs, char *buf, size_t n)
{
    size_t o = 0, cnt = outputs ? t->noutputs : t->ninputs;
    buf[0] = '\0';
    for (size_t i = 0; i < cnt && o < n; i++) {
        const char *nm = outputs ? t->outputs[i].name : t->inputs[i].name;
        if (!nm[0])
            continue;
        if (o + strlen (nm) + 8 > n) {
            snprintf (buf + o, n - o, ", ...");
            return;
        }
        o += (size_t) snprintf (buf + o, n - o, "%s%s", o ? ", " : "", nm);
    }
    if (!buf[0])
        snprintf (buf, n, "none declared");
}

/* Check the placeholders of every argument.  names_ok: inputs / outputs were
 * readable, so a name they don't declare is an error. */
static void check_command (struct pstate *ps, const struct job_task *t, bool inputs_ok,
                           bool outputs_ok)
{
    struct strmap *ins = names_map (t, false), *outs = names_map (t, true);
    if (!ins || !outs) {
        ps->oom = true;
        goto done;
    }
    for (int i = 0; i < t->argc; i++) {
        const char *arg = t->argv[i], *p = arg;
        struct ph tok;
        char why[600];
        int rc;
        while ((rc = ph_next (arg, &p, &tok, why, sizeof (why))) > 0) {
            if (tok.kind != PH_IN && tok.kind != PH_OUT)
                continue;
            bool out = tok.kind == PH_OUT;
            if (out ? !outputs_ok : !inputs_ok)
                continue;
            if (strmap_getn (out ? outs : ins, tok.s, tok.len) >= 0)
                continue;
            char names[300];
            list_names (t, out, names, sizeof (names));
            perr_at (ps, t->argv_marks[i], "task '%s': command[%d]: placeholder '%.*s' at "
                     "column %zu names no %s of the task (%s: %s)", t->name, i,
                     (int) tok.toklen, tok.at, (size_t) (tok.at - arg) + 1,
                     out ? "output" : "input", out ? "outputs" : "inputs", names);
        }
        if (rc < 0)
            perr_at (ps, t->argv_marks[i], "task '%s': command[%d]: %s", t->name, i, why);
    }
done:
    strmap_destroy (ins);
    strmap_destroy (outs);
}

/* ------------------------------------------------------------------ */
/* Parse: inputs, outputs, tasks */

static const char *const task_keys[] = { "name", "command", "ranks", "walltime", "retries",
                                         "inputs", "outputs", "after", "site", "app", NULL };
static const char *const input_keys[] = { "slice", "reduce", NULL };
static const char *const output_keys[] = { "publish", NULL };
static const char *const top_keys[] = { "version", "name", "tasks", NULL };

/* "IDENT.IDENT" with no '/' or '[': a task output reference. */
static bool is_output_ref (const char *s, size_t *dot)
{
    const char *d = strchr (s, '.');
    if (!d || d == s || !d[1] || strchr (d + 1, '.'))
        return false;
    for (const char *p = s; *p; p++)
        if (p != d && !ident_char (*p))
            return false;
    *dot = (size_t) (d - s);
    return true;
}

static int parse_reduce (struct pstate *ps, const char *what, const struct ynode *n,
                         fs_reduce_t *r)
{
    static const char *const ops[] = { "mean", "sum", "min", "max", NULL };
    static const fs_redop_t opv[] = { RED_MEAN, RED_SUM, RED_MIN, RED_MAX };
    char w[300];
    snprintf (w, sizeof (w), "%s: reduce", what);
    if (n->type != YNODE_MAP) {
        perr (ps, n, "%s: expected a mapping such as {mean: [4, 4]}, found %s", w, type_name (n));
        return -1;
    }
    int bad = check_keys (ps, n, w, ops);
    if (bad)
        return -1;
    if (n->n != 1) {
        perr (ps, n, "%s: give exactly one of mean, sum, min or max (found %zu)", w, n->n);
        return -1;
    }
    const char *op = n->keys[0]->value;
    const struct ynode *b = n->items[0];
    memset (r, 0, sizeof (*r));
    for (int i = 0; ops[i]; i++)
        if (!strcmp (ops[i], op))
            r->op = opv[i];
    snprintf (w, sizeof (w), "%s: reduce: %s", what, op);
    if (b->type != YNODE_SEQ || b->n == 0) {
        perr (ps, b, "%s: expected a sequence of block sizes such as [4, 4] (one per dimension "
              "of the slice), found %s", w, b->type == YNODE_SEQ ? "an empty sequence"
              : type_name (b));
        return -1;
    }
    if (b->n > FS_MAXDIMS) {
        perr (ps, b, "%s: %zu block sizes, at most %d", w, b->n, FS_MAXDIMS);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < b->n; i++) {
        int64_t v;
        fs_error_t e = { 0, "" };
        char wi[340];
        snprintf (wi, sizeof (wi), "%s[%zu]", w, i);
        if (ynode_int (ps->file, b->items[i], wi, 1, INT64_MAX, &v, &e) < 0) {
            perr_ydoc (ps, b->items[i], &e);
            rc = -1;
            continue;
        }
        r->block[i] = (uint64_t) v;
    }
    r->nblock = (int) b->n;
    return rc;
}

/* Parse one input's value into in; returns 0 or -1 (reported). */
static int parse_input (struct pstate *ps, const struct job_task *t, struct job_input *in,
                        const struct ynode *v)
{
    char what[200];
    snprintf (what, sizeof (what), "task '%s': input '%s'", t->name, in->name);
    const struct ynode *sn = v, *rn = NULL;
    int rc = 0;
    if (v->type == YNODE_MAP) {
        if (check_keys (ps, v, what, input_keys))
            rc = -1;
        sn = ynode_get (v, "slice");
        rn = ynode_get (v, "reduce");
        if (!sn) {
            perr (ps, v, "%s: missing 'slice' (the dataset and selection to read)", what);
            return -1;
        }
    }
    else if (v->type != YNODE_SCALAR || is_null (v)) {
        perr (ps, v, "%s: expected a slice such as NAME[0:10, :], a TASK.OUTPUT reference or a "
              "mapping {slice: ..., reduce: ...}, found %s", what,
              v->type == YNODE_SCALAR ? "nothing" : type_name (v));
        return -1;
    }
    if (sn->type != YNODE_SCALAR) {
        perr (ps, sn, "%s: slice: expected a string such as NAME[0:10, :], found %s", what,
              type_name (sn));
        return -1;
    }
    in->text_mark = mark_of (sn);
    size_t dot;
    if (is_output_ref (sn->value, &dot)) {
        in->kind = JOB_IN_OUTPUT;
        if (dot >= JOB_IDENT_MAX || strlen (sn->value) - dot - 1 >= JOB_IDENT_MAX) {
            perr (ps, sn, "%s: '%.100s': task and output names are at most 63 bytes", what,
                  sn->value);
            return -1;
        }
        memcpy (in->from_task, sn->value, dot);
        in->from_task[dot] = '\0';
        snprintf (in->from_output, sizeof (in->from_output), "%s", sn->value + dot + 1);
        if (rn) {
            perr (ps, rn, "%s: reduce applies to catalog datasets only, not to the output "
                  "'%s' of another task (reduce it in that task)", what, sn->value);
            rc = -1;
        }
    }
    else {
        fs_error_t e = { 0, "" };
        in->kind = JOB_IN_DATASET;
        if (!sn->value[0]) {
            perr (ps, sn, "%s: empty slice: give a dataset name, e.g. NAME or NAME[0:10]", what);
            return -1;
        }
        if (slice_parse (sn->value, &in->slice, &e) < 0) {
            perr (ps, sn, "%s: %s", what, e.text);
            return -1;
        }
        if (rn) {
            in->reduce_mark = mark_of (rn);
            if (parse_reduce (ps, what, rn, &in->reduce) < 0)
                rc = -1;
        }
    }
    if (!(in->text = strdup (sn->value)))
        ps->oom = true;
    return rc;
}

/* inputs: NAME -> value.  Returns false when the mapping itself is broken. */
static bool parse_inputs (struct pstate *ps, size_t ti, const struct ynode *n)
{
    struct job_task *t = &ps->spec->tasks[ti];
    if (is_null (n))
        return true;
    if (n->type != YNODE_MAP) {
        perr (ps, n, "task '%s': inputs: expected a mapping of NAME: SLICE, found %s", t->name,
              type_name (n));
        return false;
    }
    if (n->n == 0)
        return true;
    t->inputs = calloc (n->n, sizeof (*t->inputs));
    ps->input_bad[ti] = calloc (n->n, sizeof (bool));
    if (!t->inputs || !ps->input_bad[ti]) {
        ps->oom = true;
        return false;
    }
    t->ninputs = n->n;
    for (size_t i = 0; i < n->n; i++) {
        struct job_input *in = &t->inputs[i];
        char what[120];
        in->mark = mark_of (n->keys[i]);
        snprintf (what, sizeof (what), "task '%s': inputs", t->name);
        if (get_ident (ps, n->keys[i], what, "input", in->name) < 0) {
            ps->input_bad[ti][i] = true;
            continue;
        }
        if (parse_input (ps, t, in, n->items[i]) < 0)
            ps->input_bad[ti][i] = true;
    }
    return true;
}

static bool parse_outputs (struct pstate *ps, struct job_task *t, const struct ynode *n)
{
    if (is_null (n))
        return true;
    if (n->type != YNODE_MAP) {
        perr (ps, n, "task '%s': outputs: expected a mapping of NAME: {} or NAME: {publish: "
              "NAME}, found %s", t->name, type_name (n));
        return false;
    }
    if (n->n == 0)
        return true;
    if (!(t->outputs = calloc (n->n, sizeof (*t->outputs)))) {
        ps->oom = true;
        return false;
    }
    t->noutputs = n->n;
    for (size_t i = 0; i < n->n; i++) {
        struct job_output *o = &t->outputs[i];
        const struct ynode *v = n->items[i];
        char what[200];
        o->mark = mark_of (n->keys[i]);
        snprintf (what, sizeof (what), "task '%s': outputs", t->name);
        if (get_ident (ps, n->keys[i], what, "output", o->name) < 0)
            continue;
        snprintf (what, sizeof (what), "task '%s': output '%s'", t->name, o->name);
        if (is_null (v))
            continue;
        if (v->type != YNODE_MAP) {
            perr (ps, v, "%s: expected {} or {publish: NAME}, found %s", what, type_name (v));
            continue;
        }
        check_keys (ps, v, what, output_keys);
        const struct ynode *p = ynode_get (v, "publish");
        if (!p)
            continue;
        char buf[FS_NAME_MAX + 1];
        char w2[240];
        snprintf (w2, sizeof (w2), "%s: publish", what);
        if (get_string (ps, p, w2, buf, sizeof (buf)) < 0)
            continue;
        fs_error_t e = { 0, "" };
        if (name_valid (buf, &e) < 0) {
            perr (ps, p, "%s: %s", w2, e.text);
            continue;
        }
        o->publish_mark = mark_of (p);
        if (!(o->publish = strdup (buf)))
            ps->oom = true;
    }
    return true;
}

static void parse_after (struct pstate *ps, struct job_task *t, const struct ynode *n)
{
    if (is_null (n))
        return;
    if (n->type != YNODE_SEQ) {
        perr (ps, n, "task '%s': after: expected a sequence of task names such as [a, b], "
              "found %s", t->name, type_name (n));
        return;
    }
    if (n->n == 0)
        return;
    t->after = calloc (n->n, sizeof (*t->after));
    t->after_marks = calloc (n->n, sizeof (*t->after_marks));
    if (!t->after || !t->after_marks) {
        ps->oom = true;
        return;
    }
    char what[120];
    snprintf (what, sizeof (what), "task '%s': after", t->name);
    for (size_t i = 0; i < n->n; i++) {
        if (get_ident (ps, n->items[i], what, "task", t->after[t->nafter]) < 0)
            continue;
        t->after_marks[t->nafter++] = mark_of (n->items[i]);
    }
}

static bool parse_command (struct pstate *ps, struct job_task *t, const struct ynode *tn)
{
    const struct ynode *c = ynode_get (tn, "command");
    if (!c) {
        perr (ps, tn, "task '%s': missing 'command' (the program and its arguments, e.g. "
              "[prog, \"{in.x}\"])", t->name);
        return false;
    }
    t->command_mark = mark_of (c);
    if (c->type != YNODE_SEQ) {
        perr (ps, c, "task '%s': command: expected a sequence (argv, no shell) such as [prog, "
              "--flag, \"{in.x}\"], found %s", t->name, type_name (c));
        return false;
    }
    if (c->n == 0) {
        perr (ps, c, "task '%s': command is empty: give at least the program", t->name);
        return false;
    }
    if (c->n > 65536) {
        perr (ps, c, "task '%s': command has %zu arguments, at most 65536", t->name, c->n);
        return false;
    }
    t->argv = calloc (c->n + 1, sizeof (*t->argv));
    t->argv_marks = calloc (c->n, sizeof (*t->argv_marks));
    if (!t->argv || !t->argv_marks) {
        ps->oom = true;
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < c->n; i++) {
        const struct ynode *a = c->items[i];
        t->argv_marks[i] = mark_of (a);
        if (a->type != YNODE_SCALAR) {
            perr (ps, a, "task '%s': command[%zu]: expected a string, found %s", t->name, i,
                  type_name (a));
            ok = false;
        }
        else if (i == 0 && !a->value[0]) {
            perr (ps, a, "task '%s': command[0]: the program name is empty", t->name);
            ok = false;
        }
        if (!(t->argv[i] = strdup (a->type == YNODE_SCALAR ? a->value : ""))) {
            ps->oom = true;
            return false;
        }
        t->argc++;
    }
    return ok;
}

static void parse_task (struct pstate *ps, size_t ti, const struct ynode *tn)
{
    struct job_task *t = &ps->spec->tasks[ti];
    t->mark = mark_of (tn);
    t->ranks = 1;
    t->walltime = JOB_DEFAULT_WALLTIME;
    t->retries = 0;
    if (tn->type != YNODE_MAP) {
        perr (ps, tn, "tasks[%zu]: expected a mapping (name, command, ...), found %s", ti,
              type_name (tn));
        ps->task_bad[ti] = true;
        return;
    }
    const struct ynode *nn = ynode_get (tn, "name");
    char what[120];
    snprintf (what, sizeof (what), "tasks[%zu]", ti);
    if (!nn) {
        perr (ps, tn, "tasks[%zu]: missing 'name'", ti);
        ps->task_bad[ti] = true;
    }
    else {
        snprintf (what, sizeof (what), "tasks[%zu]: name", ti);
        t->name_mark = mark_of (nn);
        if (get_ident (ps, nn, what, "task", t->name) < 0)
            ps->task_bad[ti] = true;
    }
    if (!t->name[0])
        snprintf (t->name, sizeof (t->name), "#%zu", ti);   /* for messages only */
    snprintf (what, sizeof (what), "task '%s'", t->name);
    check_keys (ps, tn, what, task_keys);

    parse_command (ps, t, tn);

    fs_error_t e = { 0, "" };
    const struct ynode *n;
    int64_t v;
    if ((n = ynode_get (tn, "ranks"))) {
        t->ranks_mark = mark_of (n);
        snprintf (what, sizeof (what), "task '%s': ranks", t->name);
        if (ynode_int (ps->file, n, what, 1, JOB_MAX_RANKS, &v, &e) < 0)
            perr_ydoc (ps, n, &e);
        else
            t->ranks = (int) v;
    }
    if ((n = ynode_get (tn, "walltime"))) {
        double s;
        t->walltime_mark = mark_of (n);
        snprintf (what, sizeof (what), "task '%s': walltime", t->name);
        if (ynode_duration (ps->file, n, what, &s, &e) < 0)
            perr_ydoc (ps, n, &e);
        else if (s <= 0)
            perr (ps, n, "%s: must be more than 0 s", what);
        else
            t->walltime = s;
    }
    if ((n = ynode_get (tn, "retries"))) {
        t->retries_mark = mark_of (n);
        snprintf (what, sizeof (what), "task '%s': retries", t->name);
        if (ynode_int (ps->file, n, what, 0, JOB_MAX_RETRIES, &v, &e) < 0)
            perr_ydoc (ps, n, &e);
        else
            t->retries = (int) v;
    }
    bool inputs_ok = true, outputs_ok = true;
    if ((n = ynode_get (tn, "inputs")))
        inputs_ok = parse_inputs (ps, ti, n);
    if ((n = ynode_get (tn, "outputs")))
        outputs_ok = parse_outputs (ps, t, n);
    /* Duplicate input or output names can't happen: ydoc refuses duplicate keys. */
    if ((n = ynode_get (tn, "after")))
        parse_after (ps, t, n);
    if ((n = ynode_get (tn, "site"))) {
        t->site_mark = mark_of (n);
        snprintf (what, sizeof (what), "task '%s': site", t->name);
        if (get_ident (ps, n, what, "site", t->site) < 0)
            t->site[0] = '\0', t->site_mark = (struct job_mark) { 0, 0 };
    }
    if ((n = ynode_get (tn, "app"))) {
        fs_error_t ea = { 0, "" };
        t->app_mark = mark_of (n);
        snprintf (what, sizeof (what), "task '%s': app", t->name);
        if (get_string (ps, n, what, t->app, sizeof (t->app)) < 0)
            t->app[0] = '\0';
        else if (app_ref_parse (t->app, t->app_name, t->app_version, &ea) < 0) {
            perr (ps, n, "%s: %s", what, ea.text);
            t->app[0] = '\0';
        }
        /* The program is an entry point's name, never a path or a placeholder. */
        if (t->app[0] && t->argc > 0 && app_name_valid (t->argv[0], &ea) < 0)
            perr_at (ps, t->argv_marks[0], "task '%s': command[0] '%s' must name an entry point "
                     "of app %s (its name, not a path)", t->name, t->argv[0], t->app);
    }
    if (t->argv)
        check_command (ps, t, inputs_ok, outputs_ok);
}

/* ------------------------------------------------------------------ */
/* Load */

static void pstate_free (struct pstate *ps)
{
    if (ps->input_bad && ps->spec)
        for (size_t i = 0; i < ps->spec->ntasks; i++)
            free (ps->input_bad[i]);
    free (ps->input_bad);
    free (ps->task_bad);
}

/* The default job name: base name of file without extension, with anything
 * outside [A-Za-z0-9_-] replaced by '_'. */
static void default_name (const char *file, char *buf)
{
    const char *b = strrchr (file, '/');
    b = b ? b + 1 : file;
    size_t len = strlen (b);
    const char *dot = strrchr (b, '.');
    if (dot && dot > b)
        len = (size_t) (dot - b);
    if (len > JOB_IDENT_MAX - 1)
        len = JOB_IDENT_MAX - 1;
    for (size_t i = 0; i < len; i++)
        buf[i] = ident_char (b[i]) ? b[i] : '_';
    buf[len] = '\0';
    if (!len)
        strcpy (buf, "job");
}

static void parse_top (struct pstate *ps, const struct ynode *root)
{
    struct job_spec *s = ps->spec;
    if (root->type != YNODE_MAP) {
        perr (ps, root, "expected a mapping with version, name and tasks, found %s",
              type_name (root));
        return;
    }
    check_keys (ps, root, "job file", top_keys);
    const struct ynode *n = ynode_get (root, "version");
    fs_error_t e = { 0, "" };
    int64_t v;
    struct job_mark top = { root->line ? root->line : 1, root->col ? root->col : 1 };
    if (!n)
        perr_at (ps, top, "missing 'version: 1'");
    else if (ynode_int (ps->file, n, "version", INT64_MIN, INT64_MAX, &v, &e) < 0)
        perr_ydoc (ps, n, &e);
    else if (v != 1)
        perr (ps, n, "version: %" PRId64 " is not supported (this fedsched reads version 1)",
              v);
    else
        s->version = 1;
    if ((n = ynode_get (root, "name"))) {
        s->name_mark = mark_of (n);
        if (get_ident (ps, n, "name", "job", s->name) < 0)
            default_name (ps->file, s->name);
    }
    n = ynode_get (root, "tasks");
    if (!n) {
        perr_at (ps, top, "missing 'tasks' (a sequence of tasks, each with a name and a "
                 "command)");
        return;
    }
    if (n->type != YNODE_SEQ) {
        perr (ps, n, "tasks: expected a sequence of tasks, found %s", type_name (n));
        return;
    }
    if (n->n == 0) {
        perr (ps, n, "tasks: empty: a job needs at least one task");
        return;
    }
    s->tasks = calloc (n->n, sizeof (*s->tasks));
    ps->task_bad = calloc (n->n, sizeof (bool));
    ps->input_bad = calloc (n->n, sizeof (bool *));
    if (!s->tasks || !ps->task_bad || !ps->input_bad) {
        ps->oom = true;
        return;
    }
    s->ntasks = n->n;
    for (size_t i = 0; i < n->n && !ps->oom; i++)
        parse_task (ps, i, n->items[i]);
}

static struct job_spec *load_tree (const char *file, struct ynode *root,
                                   const struct job_fedview *view, struct errlist *errs)
{
    struct errlist local = ERRLIST_INIT;
    if (!errs) {
        struct job_spec *r = load_tree (file, root, view, &local);
        errlist_clear (&local);
        return r;
    }
    struct job_spec *s = calloc (1, sizeof (*s));
    struct pstate ps = { .file = file, .errs = errs, .spec = s };
    if (!s || !(s->file = strdup (file))) {
        free (s);
        errlist_add (errs, FS_EFAIL, file, 0, 0, "out of memory");
        return NULL;
    }
    default_name (file, s->name);
    parse_top (&ps, root);
    if (!ps.oom && s->ntasks)
        graph (&ps);
    if (!ps.oom && s->ntasks && view)
        fed_check (&ps, view);
    if (ps.oom)
        errlist_add (errs, FS_EFAIL, file, 0, 0, "out of memory");
    pstate_free (&ps);
    errlist_sort (errs);
    if (errs->count || errs->omitted) {
        job_spec_destroy (s);
        return NULL;
    }
    return s;
}

struct job_spec *jobfile_load_string (const char *name, const char *text, size_t len,
                                      const struct job_fedview *view, struct errlist *errs)
{
    struct ydoc_limits lim = { JOB_MAX_BYTES, JOB_MAX_DEPTH };
    fs_error_t e = { 0, "" };
    errlist_clear (errs);
    if (!name)
        name = "<job>";
    struct ynode *root = ydoc_load_string (name, text, len, &lim, &e);
    if (!root) {
        errlist_push (errs, e.code == FS_EFAIL ? FS_EFAIL : FS_EINVAL, 0, 0, e.text);
        return NULL;
    }
    struct job_spec *s = load_tree (name, root, view, errs);
    ydoc_free (root);
    return s;
}

struct job_spec *jobfile_load (const char *file, const struct job_fedview *view,
                               struct errlist *errs)
{
    struct ydoc_limits lim = { JOB_MAX_BYTES, JOB_MAX_DEPTH };
    fs_error_t e = { 0, "" };
    errlist_clear (errs);
    struct ynode *root = ydoc_load_file (file, &lim, &e);
    if (!root) {
        errlist_push (errs, e.code == FS_EFAIL ? FS_EFAIL : FS_EINVAL, 0, 0, e.text);
        return NULL;
    }
    struct job_spec *s = load_tree (file, root, view, errs);
    ydoc_free (root);
    return s;
}

int jobfile_check (struct job_spec *spec, const struct job_fedview *view, struct errlist *errs)
{
    struct errlist local = ERRLIST_INIT;
    if (!errs) {
        int r = jobfile_check (spec, view, &local);
        errlist_clear (&local);
        return r;
    }
    struct pstate ps = { .file = spec->file ? spec->file : "<job>", .errs = errs, .spec = spec };
    size_t before = errs->count + errs->omitted;
    ps.task_bad = calloc (spec->ntasks ? spec->ntasks : 1, sizeof (bool));
    ps.input_bad = calloc (spec->ntasks ? spec->ntasks : 1, sizeof (bool *));
    if (!ps.task_bad || !ps.input_bad)
        ps.oom = true;
    else if (view)
        fed_check (&ps, view);
    if (ps.oom)
        errlist_add (errs, FS_EFAIL, ps.file, 0, 0, "out of memory");
    pstate_free (&ps);
    errlist_sort (errs);
    return errs->count + errs->omitted > before ? -1 : 0;
}

void job_spec_destroy (struct job_spec *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->ntasks; i++) {
        struct job_task *t = &s->tasks[i];
        if (t->argv)
            for (int a = 0; a < t->argc; a++)
                free (t->argv[a]);
        free (t->argv);
        free (t->argv_marks);
        for (size_t k = 0; k < t->ninputs; k++)
            free (t->inputs[k].text);
        free (t->inputs);
        for (size_t k = 0; k < t->noutputs; k++)
            free (t->outputs[k].publish);
        free (t->outputs);
        free (t->after);
        free (t->after_marks);
        free (t->deps);
        free (t->allowed);
    }
    free (s->tasks);
    free (s->order);
    free (s->file);
    free (s);
}

/* ------------------------------------------------------------------ */
/* Queries */

long jobfile_task_index (const struct job_spec *spec, const char *name)
{
    for (size_t i = 0; spec && name && i < spec->ntasks; i++)
        if (!strcmp (spec->tasks[i].name, name))
            return (long) i;
    return -1;
}

int jobfile_output_name (int64_t job_id, const char *task, const char *output, char *buf,
                         size_t bufsz, fs_error_t *err)
{
    if (job_id <= 0)
        return errprintf (err, FS_EINVAL, "job id %" PRId64 " is not valid (ids are positive)",
                          job_id);
    if (ident_valid ("task", task, err) < 0 || ident_valid ("output", output, err) < 0)
        return -1;
    int n = snprintf (buf, bufsz, "jobs/%" PRId64 "/%s/%s", job_id, task, output);
    if (n < 0 || (size_t) n >= bufsz)
        return errprintf (err, FS_EINVAL, "output name jobs/%" PRId64 "/%s/%s: buffer too small",
                          job_id, task, output);
    return name_valid (buf, err);
}

