/* jobfile.c - job files (SPEC section 4): parse, validate, DAG, argv expansion.
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
 * Errors are sorted by position at the end.
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
#include "jobfile.h"

/* ------------------------------------------------------------------ */
/* Errors */

static void errs_push (struct job_errors *e, int code, int line, int col, const char *text)
{
    if (!e)
        return;
    if (e->code == 0 || code == FS_EFAIL)
        e->code = code;
    if (e->count >= JOB_ERRORS_KEPT) {
        e->omitted++;
        return;
    }
    if (e->count % 16 == 0) {
        struct job_error *l = realloc (e->list, (e->count + 16) * sizeof (*l));
        if (!l) {
            e->omitted++;
            e->code = FS_EFAIL;
            return;
        }
        e->list = l;
    }
    char *m = strdup (text);
    if (!m) {
        e->omitted++;
        e->code = FS_EFAIL;
        return;
    }
    e->list[e->count].line = line;
    e->list[e->count].col = col;
    e->list[e->count].msg = m;
    e->count++;
}

__attribute__ ((format (printf, 6, 7)))
static void errs_add (struct job_errors *e, int code, const char *file, int line, int col,
                      const char *fmt, ...)
{
    char msg[1024], full[1400];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (msg, sizeof (msg), fmt, ap);
    va_end (ap);
    if (line > 0)
        snprintf (full, sizeof (full), "%s:%d:%d: %s", file, line, col, msg);
    else
        snprintf (full, sizeof (full), "%s: %s", file, msg);
    errs_push (e, code, line, col, full);
}

/* Stable sort by position (insertion sort: at most JOB_ERRORS_KEPT items). */
static void errs_sort (struct job_errors *e)
{
    for (size_t i = 1; i < e->count; i++) {
        struct job_error x = e->list[i];
        size_t j = i;
        while (j > 0 && (e->list[j - 1].line > x.line
                         || (e->list[j - 1].line == x.line && e->list[j - 1].col > x.col))) {
            e->list[j] = e->list[j - 1];
            j--;
        }
        e->list[j] = x;
    }
}

void job_errors_clear (struct job_errors *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->count; i++)
        free (e->list[i].msg);
    free (e->list);
    memset (e, 0, sizeof (*e));
}

char *job_errors_join (const struct job_errors *e, const char *sep)
{
    if (!sep)
        sep = "\n";
    size_t n = 1, seplen = strlen (sep);
    for (size_t i = 0; e && i < e->count; i++)
        n += strlen (e->list[i].msg) + seplen;
    char tail[64] = "";
    if (e && e->omitted)
        n += (size_t) snprintf (tail, sizeof (tail), "... and %zu more error%s", e->omitted,
                                e->omitted == 1 ? "" : "s");
    char *s = malloc (n), *p = s;
    if (!s)
        return NULL;
    for (size_t i = 0; e && i < e->count; i++) {
        size_t l = strlen (e->list[i].msg);
        memcpy (p, e->list[i].msg, l);
        p += l;
        if (i + 1 < e->count || tail[0]) {
            memcpy (p, sep, seplen);
            p += seplen;
        }
    }
    strcpy (p, tail);
    return s;
}

int job_errors_to_error (const struct job_errors *e, fs_error_t *err)
{
    if (!e || (e->count == 0 && e->omitted == 0))
        return 0;
    int code = e->code ? e->code : FS_EINVAL;
    size_t more = e->count + e->omitted - 1;
    if (e->count == 0)
        return errprintf (err, code, "%zu errors", e->omitted);
    if (more)
        return errprintf (err, code, "%s (and %zu more error%s)", e->list[0].msg, more,
                          more == 1 ? "" : "s");
    return errprintf (err, code, "%s", e->list[0].msg);
}

/* ------------------------------------------------------------------ */
/* A small string -> index map (keys borrowed) */

struct strmap {
    size_t nslots;              /* power of two */
    const char **keys;
    size_t *vals;
};

static uint64_t str_hash (const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char) *s;
        h *= 1099511628211ULL;
    }
    return h;
}

static int strmap_init (struct strmap *m, size_t n)
{
    size_t ns = 16;
    while (ns < 2 * n + 1)
        ns *= 2;
    m->nslots = ns;
    m->keys = calloc (ns, sizeof (*m->keys));
    m->vals = calloc (ns, sizeof (*m->vals));
    if (!m->keys || !m->vals) {
        free (m->keys);
        free (m->vals);
        m->keys = NULL;
        m->vals = NULL;
        return -1;
    }
    return 0;
}

static void strmap_free (struct strmap *m)
{
    free (m->keys);
    free (m->vals);
    m->keys = NULL;
    m->vals = NULL;
}

/* Index of key, or -1. */
static long strmap_get (const struct strmap *m, const char *key)
{
    if (!m->keys)
        return -1;
    for (size_t i = (size_t) str_hash (key) & (m->nslots - 1);; i = (i + 1) & (m->nslots - 1)) {
        if (!m->keys[i])
            return -1;
        if (strcmp (m->keys[i], key) == 0)
            return (long) m->vals[i];
    }
}

/* Insert key -> v unless present; returns the existing index or -1 when
 * inserted.  The map must have been sized for every insertion. */
static long strmap_put (struct strmap *m, const char *key, size_t v)
{
    for (size_t i = (size_t) str_hash (key) & (m->nslots - 1);; i = (i + 1) & (m->nslots - 1)) {
        if (!m->keys[i]) {
            m->keys[i] = key;
            m->vals[i] = v;
            return -1;
        }
        if (strcmp (m->keys[i], key) == 0)
            return (long) m->vals[i];
    }
}

/* ------------------------------------------------------------------ */
/* Parse state */

struct pstate {
    const char *file;
    struct job_errors *errs;
    struct job_spec *spec;
    bool *task_bad;             /* [ntasks]: name or structure broken: skip in later passes */
    bool **input_bad;           /* [ntasks][ninputs]: value broken */
    bool oom;
};

__attribute__ ((format (printf, 3, 4)))
static void perr (struct pstate *ps, const void *at, const char *fmt, ...);

/* at is a struct ynode * or NULL (a position-less error). */
static void perr_mark (struct pstate *ps, struct job_mark m, const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf (msg, sizeof (msg), fmt, ap);
    errs_add (ps->errs, FS_EINVAL, ps->file, m.line, m.col, "%s", msg);
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
static void perr_at (struct pstate *ps, struct job_mark m, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    perr_mark (ps, m, fmt, ap);
    va_end (ap);
}

/* An error already formatted "FILE:LINE:COL: ..." by a ydoc helper, at n. */
static void perr_ydoc (struct pstate *ps, const struct ynode *n, const fs_error_t *e)
{
    errs_push (ps->errs, e->code == FS_EFAIL ? FS_EFAIL : FS_EINVAL, n ? n->line : 0,
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
    int bad = 0;
    for (size_t i = 0; i < map->n; i++) {
        const char *k = map->keys[i]->value;
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            if (!strcmp (*a, k)) {
                ok = true;
                break;
            }
        if (ok)
            continue;
        char list[400] = "";
        size_t o = 0;
        for (const char *const *a = allowed; *a && o < sizeof (list); a++)
            o += (size_t) snprintf (list + o, sizeof (list) - o, "%s%s", a == allowed ? "" : ", ",
                                    *a);
        perr (ps, map->keys[i], "%s: unknown key '%.100s' (allowed: %s)", what, k, list);
        bad++;
    }
    return bad;
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
/* Placeholders */

typedef enum { PH_TEXT, PH_JOB, PH_TASK, PH_SITE, PH_RANKS, PH_IN, PH_OUT } ph_kind_t;
typedef enum { PH_WHOLE, PH_FILE, PH_DSET } ph_part_t;

struct ph {
    ph_kind_t kind;
    ph_part_t part;             /* PH_IN, PH_OUT */
    const char *s;              /* PH_TEXT: the text; PH_IN/OUT: the name */
    size_t len;
    const char *at;             /* where the token starts in the argument */
    size_t toklen;              /* its length there */
};

static bool ident_char (char c)
{
    return isalnum ((unsigned char) c) || c == '_' || c == '-';
}

/* Next token of arg at *p: 1 (token in *t), 0 at the end, -1 with why. */
static int ph_next (const char *arg, const char **p, struct ph *t, char *why, size_t whysz)
{
    const char *s = *p;
    if (!*s)
        return 0;
    memset (t, 0, sizeof (*t));
    t->at = s;
    if ((s[0] == '{' && s[1] == '{') || (s[0] == '}' && s[1] == '}')) {
        t->kind = PH_TEXT;
        t->s = s;
        t->len = 1;
        t->toklen = 2;
        *p = s + 2;
        return 1;
    }
    if (*s == '}') {
        snprintf (why, whysz, "unbalanced '}' at column %zu (write '}}' for a literal brace)",
                  (size_t) (s - arg) + 1);
        return -1;
    }
    if (*s != '{') {
        size_t n = strcspn (s, "{}");
        t->kind = PH_TEXT;
        t->s = s;
        t->len = t->toklen = n;
        *p = s + n;
        return 1;
    }
    size_t n = strcspn (s + 1, "{}");
    if (s[1 + n] != '}') {
        snprintf (why, whysz, "unbalanced '{' at column %zu (placeholders are {in.NAME}, "
                  "{out.NAME}, ...; write '{{' for a literal brace)", (size_t) (s - arg) + 1);
        return -1;
    }
    const char *in = s + 1;
    t->toklen = n + 2;
    *p = s + n + 2;
    static const struct { const char *name; ph_kind_t kind; } simple[] = {
        { "job", PH_JOB }, { "task", PH_TASK }, { "site", PH_SITE }, { "ranks", PH_RANKS },
    };
    for (size_t i = 0; i < sizeof (simple) / sizeof (simple[0]); i++)
        if (strlen (simple[i].name) == n && !strncmp (in, simple[i].name, n)) {
            t->kind = simple[i].kind;
            return 1;
        }
    size_t pre = 0;
    if (n > 3 && !strncmp (in, "in.", 3)) {
        t->kind = PH_IN;
        pre = 3;
    }
    else if (n > 4 && !strncmp (in, "out.", 4)) {
        t->kind = PH_OUT;
        pre = 4;
    }
    if (pre) {
        const char *nm = in + pre;
        size_t nl = 0;
        while (nl < n - pre && ident_char (nm[nl]))
            nl++;
        const char *rest = nm + nl;
        size_t rl = n - pre - nl;
        t->s = nm;
        t->len = nl;
        if (nl > 0 && nl < JOB_IDENT_MAX) {
            if (rl == 0)
                return 1;
            if (rl == 5 && !strncmp (rest, ".file", 5)) {
                t->part = PH_FILE;
                return 1;
            }
            if (rl == 5 && !strncmp (rest, ".dset", 5)) {
                t->part = PH_DSET;
                return 1;
            }
        }
    }
    snprintf (why, whysz, "unknown placeholder '%.*s' at column %zu (known: {in.NAME}, "
              "{out.NAME}, {in.NAME.file}, {in.NAME.dset}, {out.NAME.file}, {out.NAME.dset}, "
              "{job}, {task}, {site}, {ranks}; write '{{' and '}}' for literal braces)",
              (int) (n + 2 > 80 ? 80 : n + 2), s, (size_t) (s - arg) + 1);
    return -1;
}

/* Names of a task's inputs or outputs, for messages. */
static void list_names (const struct job_task *t, bool outputs, char *buf, size_t n)
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

/* A map of a task's input or output names (for tasks with many of them:
 * placeholders and references are looked up through it). */
static int names_map (const struct job_task *t, bool outputs, struct strmap *m)
{
    size_t n = outputs ? t->noutputs : t->ninputs;
    if (strmap_init (m, n) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *nm = outputs ? t->outputs[i].name : t->inputs[i].name;
        if (nm[0])
            strmap_put (m, nm, i);
    }
    return 0;
}

/* Index of name[0..len) in m, or -1. */
static long names_get (const struct strmap *m, const char *name, size_t len)
{
    char buf[JOB_IDENT_MAX];
    if (len >= sizeof (buf))
        return -1;
    memcpy (buf, name, len);
    buf[len] = '\0';
    return strmap_get (m, buf);
}

/* Check the placeholders of every argument.  names_ok: inputs / outputs were
 * readable, so a name they don't declare is an error. */
static void check_command (struct pstate *ps, const struct job_task *t, bool inputs_ok,
                           bool outputs_ok)
{
    struct strmap ins = { 0 }, outs = { 0 };
    if (names_map (t, false, &ins) < 0 || names_map (t, true, &outs) < 0) {
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
            if (names_get (out ? &outs : &ins, tok.s, tok.len) >= 0)
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
    strmap_free (&ins);
    strmap_free (&outs);
}

/* ------------------------------------------------------------------ */
/* Parse: inputs, outputs, tasks */

static const char *const task_keys[] = { "name", "command", "ranks", "walltime", "retries",
                                         "inputs", "outputs", "after", "site", NULL };
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
    if (t->argv)
        check_command (ps, t, inputs_ok, outputs_ok);
}

/* ------------------------------------------------------------------ */
/* Graph: references, dependencies, cycles, order */

/* Add the edge t -> dep once: seen[dep] == ti + 1 when t already has it. */
static int add_dep (struct job_task *t, size_t ti, size_t *seen, size_t dep, bool via_after,
                    struct job_mark m)
{
    if (seen[dep] == ti + 1)
        return 0;
    seen[dep] = ti + 1;
    if ((t->ndeps & (t->ndeps - 1)) == 0) {     /* 0, 1, 2, 4, ...: grow */
        struct job_dep *d = realloc (t->deps, (t->ndeps ? 2 * t->ndeps : 1) * sizeof (*d));
        if (!d)
            return -1;
        t->deps = d;
    }
    struct job_dep *d = t->deps;
    d[t->ndeps].task = dep;
    d[t->ndeps].via_after = via_after;
    d[t->ndeps].mark = m;
    t->ndeps++;
    return 0;
}

static int dep_cmp (const void *a, const void *b)
{
    const struct job_dep *x = a, *y = b;
    return x->task < y->task ? -1 : x->task > y->task;
}

/* Describe why a depends on b, e.g. "b lists a in after (line 7)". */
static void edge_reason (const struct job_spec *s, size_t a, size_t b, char *buf, size_t n)
{
    const struct job_task *t = &s->tasks[a];
    for (size_t i = 0; i < t->ndeps; i++) {
        const struct job_dep *d = &t->deps[i];
        if (d->task != b)
            continue;
        if (d->via_after)
            snprintf (buf, n, "%s runs after %s (line %d)", t->name, s->tasks[b].name,
                      d->mark.line);
        else
            snprintf (buf, n, "%s reads an output of %s (line %d)", t->name, s->tasks[b].name,
                      d->mark.line);
        return;
    }
    buf[0] = '\0';
}

/* Report one shortest cycle through the first task of the component comp. */
/* parent[] is all SIZE_MAX on entry and on return; queue[] and path[] are
 * scratch, each of ntasks entries. */
static void report_cycle (struct pstate *ps, const long *comp, size_t first, size_t *parent,
                          size_t *queue, size_t *path)
{
    const struct job_spec *s = ps->spec;
    size_t qh = 0, qt = 0, last = SIZE_MAX;
    queue[qt++] = first;
    parent[first] = first;
    while (qh < qt && last == SIZE_MAX) {
        size_t v = queue[qh++];
        for (size_t i = 0; i < s->tasks[v].ndeps; i++) {
            size_t w = s->tasks[v].deps[i].task;
            if (comp[w] != comp[first])
                continue;
            if (w == first) {
                last = v;
                break;
            }
            if (parent[w] == SIZE_MAX) {
                parent[w] = v;
                queue[qt++] = w;
            }
        }
    }
    /* The cycle: first -> ... -> last -> first; parent[] walks it backwards. */
    size_t len = 0;
    if (last != SIZE_MAX)       /* always, in a strongly connected component */
        for (size_t v = last;; v = parent[v]) {
            path[len++] = v;
            if (v == first)
                break;
        }
    for (size_t i = 0; i < qt; i++)
        parent[queue[i]] = SIZE_MAX;
    if (!len)
        return;
    char text[700] = "", why[900] = "";
    size_t po = 0, wo = 0;
    for (size_t k = len; k-- > 0;) {
        size_t v = path[k], next = k ? path[k - 1] : first;
        if (po < sizeof (text))
            po += (size_t) snprintf (text + po, sizeof (text) - po, "%s -> ", s->tasks[v].name);
        char r[300];
        edge_reason (s, v, next, r, sizeof (r));
        if (wo < sizeof (why))
            wo += (size_t) snprintf (why + wo, sizeof (why) - wo, "%s%s", wo ? "; " : "", r);
    }
    if (po < sizeof (text))
        snprintf (text + po, sizeof (text) - po, "%s", s->tasks[first].name);
    perr_at (ps, s->tasks[first].mark, "dependency cycle: %s (%s)", text, why);
}

/* Tarjan's strongly connected components, iteratively.  Reports a cycle for
 * each component that has one; when there is none, fills spec->order.
 * Returns 0, -1 (cycles or OOM). */
static int graph_order (struct pstate *ps)
{
    struct job_spec *s = ps->spec;
    size_t n = s->ntasks;
    long *index = malloc (n * sizeof (long)), *low = malloc (n * sizeof (long));
    long *comp = malloc (n * sizeof (long));
    size_t *stk = malloc (n * sizeof (size_t)), *cs = malloc (n * sizeof (size_t));
    size_t *ci = malloc (n * sizeof (size_t)), *order = malloc (n * sizeof (size_t));
    bool *on = calloc (n, sizeof (bool));
    int rc = -1;
    if (!index || !low || !comp || !stk || !cs || !ci || !order || !on) {
        ps->oom = true;
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        index[i] = comp[i] = -1;
    long idx = 0, ncomp = 0;
    size_t sp = 0, csp = 0, no = 0;
    bool cyclic = false;
    size_t *firsts = NULL, nfirst = 0;
    for (size_t r = 0; r < n; r++) {
        if (index[r] >= 0)
            continue;
        index[r] = low[r] = idx++;
        stk[sp++] = r;
        on[r] = true;
        cs[csp] = r;
        ci[csp++] = 0;
        while (csp) {
            size_t v = cs[csp - 1];
            if (ci[csp - 1] < s->tasks[v].ndeps) {
                size_t w = s->tasks[v].deps[ci[csp - 1]++].task;
                if (index[w] < 0) {
                    index[w] = low[w] = idx++;
                    stk[sp++] = w;
                    on[w] = true;
                    cs[csp] = w;
                    ci[csp++] = 0;
                }
                else if (on[w] && index[w] < low[v])
                    low[v] = index[w];
                continue;
            }
            csp--;
            if (low[v] == index[v]) {
                size_t first = SIZE_MAX, size = 0;
                size_t w;
                do {
                    w = stk[--sp];
                    on[w] = false;
                    comp[w] = ncomp;
                    order[no++] = w;
                    if (w < first)
                        first = w;
                    size++;
                } while (w != v);
                bool self = false;
                for (size_t i = 0; size == 1 && i < s->tasks[v].ndeps; i++)
                    if (s->tasks[v].deps[i].task == v)
                        self = true;
                if (size > 1 || self) {
                    size_t *f = realloc (firsts, (nfirst + 1) * sizeof (*f));
                    if (!f) {
                        ps->oom = true;
                        free (firsts);
                        goto done;
                    }
                    firsts = f;
                    firsts[nfirst++] = first;
                    cyclic = true;
                }
                ncomp++;
            }
            if (csp) {
                size_t u = cs[csp - 1];
                if (low[v] < low[u])
                    low[u] = low[v];
            }
        }
    }
    /* Components come out dependencies first: with no cycle, that is the order. */
    for (size_t i = 0; i < n; i++)
        stk[i] = SIZE_MAX;
    for (size_t i = 0; i < nfirst; i++)
        report_cycle (ps, comp, firsts[i], stk, cs, ci);
    free (firsts);
    if (!cyclic) {
        s->order = order;
        order = NULL;
        rc = 0;
    }
done:
    free (index);
    free (low);
    free (comp);
    free (stk);
    free (cs);
    free (ci);
    free (order);
    free (on);
    return rc;
}

static void graph (struct pstate *ps)
{
    struct job_spec *s = ps->spec;
    struct strmap tasks = { 0 }, pubs = { 0 }, *omaps = NULL;
    size_t npub = 0, *seen = NULL;
    for (size_t i = 0; i < s->ntasks; i++)
        npub += s->tasks[i].noutputs;
    if (strmap_init (&tasks, s->ntasks) < 0 || strmap_init (&pubs, npub) < 0) {
        ps->oom = true;
        goto done;
    }
    for (size_t i = 0; i < s->ntasks; i++) {
        struct job_task *t = &s->tasks[i];
        if (ps->task_bad[i])
            continue;
        long prev = strmap_put (&tasks, t->name, i);
        if (prev >= 0) {
            perr_at (ps, t->name_mark, "duplicate task name '%s' (first at line %d, column %d)",
                     t->name, s->tasks[prev].name_mark.line, s->tasks[prev].name_mark.col);
            ps->task_bad[i] = true;
        }
    }
    /* Publish names: each at most once in the job. */
    {
        /* Remember (task, output) of the first use in two parallel arrays. */
        size_t *ft = malloc ((npub + 1) * sizeof (size_t)), *fo = malloc ((npub + 1) * sizeof (size_t));
        size_t nf = 0;
        if (!ft || !fo) {
            free (ft);
            free (fo);
            ps->oom = true;
            goto done;
        }
        for (size_t i = 0; i < s->ntasks; i++)
            for (size_t k = 0; k < s->tasks[i].noutputs; k++) {
                struct job_output *o = &s->tasks[i].outputs[k];
                if (!o->publish)
                    continue;
                long prev = strmap_put (&pubs, o->publish, nf);
                if (prev < 0) {
                    ft[nf] = i;
                    fo[nf++] = k;
                    continue;
                }
                const struct job_output *po = &s->tasks[ft[prev]].outputs[fo[prev]];
                perr_at (ps, o->publish_mark, "task '%s': output '%s': '%s' is already published "
                         "by task '%s', output '%s' (line %d)", s->tasks[i].name, o->name,
                         o->publish, s->tasks[ft[prev]].name, po->name, po->publish_mark.line);
            }
        free (ft);
        free (fo);
    }
    /* References and dependency edges. */
    seen = calloc (s->ntasks, sizeof (*seen));
    omaps = calloc (s->ntasks, sizeof (*omaps));
    if (!seen || !omaps) {
        ps->oom = true;
        goto done;
    }
    for (size_t i = 0; i < s->ntasks; i++) {
        struct job_task *t = &s->tasks[i];
        if (ps->task_bad[i])
            continue;
        for (size_t k = 0; k < t->nafter; k++) {
            long d = strmap_get (&tasks, t->after[k]);
            if (d < 0) {
                perr_at (ps, t->after_marks[k], "task '%s': after: unknown task '%s'", t->name,
                         t->after[k]);
                continue;
            }
            if (add_dep (t, i, seen, (size_t) d, true, t->after_marks[k]) < 0)
                ps->oom = true;
        }
        for (size_t k = 0; k < t->ninputs; k++) {
            struct job_input *in = &t->inputs[k];
            if (ps->input_bad[i] && ps->input_bad[i][k])
                continue;
            if (in->kind != JOB_IN_OUTPUT)
                continue;
            long d = strmap_get (&tasks, in->from_task);
            if (d < 0) {
                perr_at (ps, in->text_mark, "task '%s': input '%s': '%s' names no task of the "
                         "job (to read a catalog dataset with a '.' in its name, write it with "
                         "brackets: '%s[...]')", t->name, in->name, in->text, in->text);
                ps->input_bad[i][k] = true;
                continue;
            }
            if (!omaps[d].keys && names_map (&s->tasks[d], true, &omaps[d]) < 0) {
                ps->oom = true;
                goto done;
            }
            long o = strmap_get (&omaps[d], in->from_output);
            if (o < 0) {
                char names[300];
                list_names (&s->tasks[d], true, names, sizeof (names));
                perr_at (ps, in->text_mark, "task '%s': input '%s': task '%s' has no output "
                         "'%s' (outputs: %s)", t->name, in->name, in->from_task, in->from_output,
                         names);
                ps->input_bad[i][k] = true;
                continue;
            }
            in->from_task_index = (size_t) d;
            in->from_output_index = (size_t) o;
            if (add_dep (t, i, seen, (size_t) d, false, in->text_mark) < 0)
                ps->oom = true;
        }
        if (t->ndeps > 1)
            qsort (t->deps, t->ndeps, sizeof (*t->deps), dep_cmp);
    }
    if (!ps->oom)
        graph_order (ps);
done:
    strmap_free (&tasks);
    strmap_free (&pubs);
    for (size_t i = 0; omaps && i < s->ntasks; i++)
        strmap_free (&omaps[i]);
    free (omaps);
    free (seen);
}

/* ------------------------------------------------------------------ */
/* Federation checks */

struct fctx {
    struct pstate *ps;
    const struct job_fedview *v;
    size_t nsites;
    struct job_site_info *sites;
    struct strmap sitemap;
    int maxcores;
    size_t maxsite;
    /* per task */
    bool **allowed;             /* [ntasks][nsites], NULL: task not checked (errors) */
    int *inh_rank;              /* inherited output policy rank (policy_rank) */
    bool **inh_sites;           /* regions rank: sites in the inherited regions */
};

static void site_list (const struct fctx *f, const bool *set, bool with_cores, char *buf,
                       size_t n)
{
    size_t o = 0, shown = 0, total = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < f->nsites; i++) {
        if (set && !set[i])
            continue;
        total++;
        if (shown >= 12 || o + 90 > n)
            continue;
        if (with_cores)
            o += (size_t) snprintf (buf + o, n - o, "%s%s (%d cores)", o ? ", " : "",
                                    f->sites[i].name, f->sites[i].cores);
        else
            o += (size_t) snprintf (buf + o, n - o, "%s%s", o ? ", " : "", f->sites[i].name);
        shown++;
    }
    if (total > shown && o + 20 < n)
        snprintf (buf + o, n - o, ", and %zu more", total - shown);
    if (!total)
        snprintf (buf, n, "none");
}

static bool in_regions (const fs_policy_t *p, const char *region)
{
    for (int r = 0; r < p->nregions; r++)
        if (!strcmp (p->regions[r], region))
            return true;
    return false;
}

/* Look up, resolve and reduce one dataset input; 0 or -1 (reported). */
static int check_dataset_input (struct fctx *f, struct job_task *t, struct job_input *in,
                                struct job_dataset_info *di)
{
    struct pstate *ps = f->ps;
    fs_error_t e = { 0, "" };
    int rc = -1;
    int found = f->v->dataset_lookup (f->v->ctx, in->slice.name, di, &e);
    if (found < 0) {
        errs_add (ps->errs, FS_EFAIL, ps->file, in->text_mark.line, in->text_mark.col,
                  "task '%s': input '%s': cannot look up dataset '%s': %s", t->name, in->name,
                  in->slice.name, e.text);
        goto out;
    }
    if (found == 0) {
        perr_at (ps, in->text_mark, "task '%s': input '%s': unknown dataset '%s' (see "
                 "'fedsched catalog')", t->name, in->name, in->slice.name);
        goto out;
    }
    if (di->ndims < 0 || di->ndims > FS_MAXDIMS || di->nreplicas < 0
        || di->nreplicas > JOB_MAX_REPLICAS) {
        errs_add (ps->errs, FS_EFAIL, ps->file, in->text_mark.line, in->text_mark.col,
                  "task '%s': input '%s': the catalog entry of '%s' is invalid", t->name,
                  in->name, in->slice.name);
        goto out;
    }
    if (slice_resolve (&in->slice, di->ndims, di->shape, &in->sel, &e) < 0) {
        char shape[300] = "";
        const char *why = e.text, *q;
        if (!strncmp (why, "slice '", 7) && (q = strstr (why, "': ")))
            why = q + 3;        /* the slice is named below */
        size_t o = 0;
        for (int d = 0; d < di->ndims && o < sizeof (shape); d++)
            o += (size_t) snprintf (shape + o, sizeof (shape) - o, "%s%" PRIu64, d ? " x " : "",
                                    di->shape[d]);
        perr_at (ps, in->text_mark, "task '%s': input '%s': slice '%s': %s (dataset shape %s)",
                 t->name, in->name, in->text, why, di->ndims ? shape : "scalar");
        goto out;
    }
    if (in->reduce.op != RED_NONE) {
        uint64_t sh[FS_MAXDIMS];
        int nres = sel_out_shape (&in->sel, sh);
        if (in->reduce.nblock != nres) {
            perr_at (ps, in->reduce_mark, "task '%s': input '%s': reduce: %s gives %d block "
                     "size%s but the slice '%s' selects %d dimension%s (integer indices drop "
                     "theirs): give one block size per dimension", t->name, in->name,
                     reduce_op_name (in->reduce.op), in->reduce.nblock,
                     in->reduce.nblock == 1 ? "" : "s", in->text, nres, nres == 1 ? "" : "s");
            goto out;
        }
    }
    int r = reduce_out_shape (&in->sel, &in->reduce, in->out_shape, &e);
    if (r < 0) {
        perr_at (ps, in->reduce_mark, "task '%s': input '%s': reduce: %s", t->name, in->name,
                 e.text);
        goto out;
    }
    in->out_ndims = r;
    in->ndims = di->ndims;
    memcpy (in->shape, di->shape, sizeof (in->shape));
    in->dtype = di->dtype;
    in->policy = di->policy;
    in->resolved = true;
    rc = 0;
out:
    return rc;
}

/* Where input in of a task may be read, into set[] (true: allowed); *rank:
 * the policy rank its data gives the task's outputs (a reduction that
 * satisfies aggregate counts as raw); reg[]: when *rank is that of regions,
 * the sites of those regions. */
static void input_sites (struct fctx *f, const struct job_input *in,
                         const struct job_dataset_info *di, bool *set, int *rank, bool *reg)
{
    size_t ns = f->nsites;
    if (in->kind == JOB_IN_OUTPUT) {
        size_t p = in->from_task_index;
        if (!f->allowed[p]) {   /* the producer had errors: no constraint known */
            *rank = 0;
            for (size_t k = 0; k < ns; k++)
                set[k] = true, reg[k] = false;
            return;
        }
        *rank = f->inh_rank[p];
        for (size_t k = 0; k < ns; k++) {
            reg[k] = *rank == 1 && f->inh_sites[p][k];
            set[k] = *rank == 0 || f->allowed[p][k] || reg[k];
        }
        return;
    }
    const fs_policy_t *p = &in->policy;
    bool satisfied = p->kind == POLICY_AGGREGATE && in->reduce.op != RED_NONE
                     && policy_reduce_satisfies (p, &in->sel, &in->reduce);
    *rank = satisfied ? 0 : policy_rank (p);
    for (size_t k = 0; k < ns; k++) {
        reg[k] = p->kind == POLICY_REGIONS && in_regions (p, f->sites[k].region);
        set[k] = p->kind == POLICY_RAW || satisfied || reg[k];
    }
    if (p->kind != POLICY_RAW && !satisfied)
        for (int r = 0; r < di->nreplicas; r++) {
            long k = strmap_get (&f->sitemap, di->replicas[r]);
            if (k >= 0)
                set[k] = true;
        }
}

static const char *policy_why (const struct job_input *in, char *buf, size_t n)
{
    char pol[600];
    policy_format (&in->policy, pol, sizeof (pol));
    if (in->policy.kind == POLICY_AGGREGATE)
        snprintf (buf, n, "policy %s%s", pol, in->reduce.op != RED_NONE
                  ? ", not satisfied by its reduce" : ", read without a reduce");
    else
        snprintf (buf, n, "policy %s", pol);
    return buf;
}

/* Sites, cores and policies for task ti; inputs already resolved. */
static void check_task_sites (struct fctx *f, size_t ti, const bool *inputs_ok,
                              struct job_dataset_info **dis)
{
    struct pstate *ps = f->ps;
    struct job_spec *s = ps->spec;
    struct job_task *t = &s->tasks[ti];
    size_t ns = f->nsites;
    struct job_mark rmark = t->ranks_mark.line ? t->ranks_mark : t->mark;
    bool complete = true;
    long pin = -1;

    free (t->allowed);
    t->allowed = NULL;
    t->nallowed = 0;

    if (ns == 0) {
        perr_at (ps, t->mark, "task '%s': the federation has no sites to run it", t->name);
        return;
    }
    if (t->site[0]) {
        pin = strmap_get (&f->sitemap, t->site);
        if (pin < 0) {
            char names[600];
            site_list (f, NULL, false, names, sizeof (names));
            perr_at (ps, t->site_mark, "task '%s': site: '%s' is not a site of the federation "
                     "(sites: %s)", t->name, t->site, names);
            complete = false;
        }
    }
    if (t->ranks > f->maxcores) {
        perr_at (ps, rmark, "task '%s': ranks: %d ranks, but the largest site has %d cores "
                 "(%s): no site can ever run it", t->name, t->ranks, f->maxcores,
                 f->sites[f->maxsite].name);
        complete = false;
    }
    bool *allowed = malloc (ns * sizeof (bool)), *set = malloc (ns * sizeof (bool));
    bool *reg = calloc (ns, sizeof (bool)), *ireg = malloc (ns * sizeof (bool));
    char why[1024] = "";
    size_t wo = 0;
    int rank = 0;
    if (!allowed || !set || !reg || !ireg) {
        ps->oom = true;
        goto fail;
    }
    for (size_t k = 0; k < ns; k++)
        allowed[k] = true;
    for (size_t i = 0; i < t->ninputs; i++) {
        const struct job_input *in = &t->inputs[i];
        int r = 0;
        if (!inputs_ok[i]) {
            complete = false;
            continue;
        }
        input_sites (f, in, dis[i], set, &r, ireg);
        /* Outputs inherit the most restrictive policy; for regions (several
         * inputs may tie) the union of their regions is what is certain. */
        if (r > rank) {
            rank = r;
            memcpy (reg, ireg, ns * sizeof (bool));
        }
        else if (r == rank && r == 1)
            for (size_t k = 0; k < ns; k++)
                reg[k] = reg[k] || ireg[k];
        bool restricts = false;
        for (size_t k = 0; k < ns; k++)
            if (!set[k]) {
                restricts = true;
                allowed[k] = false;
            }
        if (restricts && wo + 100 < sizeof (why)) {
            char sites[300], pw[700];
            site_list (f, set, false, sites, sizeof (sites));
            if (in->kind == JOB_IN_DATASET)
                wo += (size_t) snprintf (why + wo, sizeof (why) - wo, "%sinput '%s' (%s, %s) "
                                         "only at %s", wo ? "; " : "", in->name, in->slice.name,
                                         policy_why (in, pw, sizeof (pw)), sites);
            else
                wo += (size_t) snprintf (why + wo, sizeof (why) - wo, "%sinput '%s' (output of "
                                         "task '%s', which inherits its inputs' policies) only "
                                         "at %s", wo ? "; " : "", in->name, in->from_task, sites);
        }
    }
    if (pin >= 0) {
        for (size_t k = 0; k < ns; k++)
            if ((long) k != pin)
                allowed[k] = false;
    }
    if (!complete)
        goto fail;
    bool any = false, cores = false;
    for (size_t k = 0; k < ns; k++)
        if (allowed[k]) {
            any = true;
            if (f->sites[k].cores >= t->ranks)
                cores = true;
        }
    if (!any) {
        if (pin >= 0 && wo)
            perr_at (ps, t->mark, "task '%s': no site may run it: pinned to site '%s', but %s",
                     t->name, t->site, why);
        else
            perr_at (ps, t->mark, "task '%s': no site may run it under its inputs' data "
                     "policies: %s", t->name, why);
        goto fail;
    }
    if (!cores) {
        char sites[700];
        site_list (f, allowed, true, sites, sizeof (sites));
        if (pin >= 0)
            perr_at (ps, rmark, "task '%s': ranks: %d ranks, but the pinned site %s has "
                     "fewer cores", t->name, t->ranks, sites);
        else
            perr_at (ps, rmark, "task '%s': ranks: %d ranks, but the sites its inputs' data "
                     "policies allow have fewer cores: %s", t->name, t->ranks, sites);
        goto fail;
    }
    size_t na = 0;
    for (size_t k = 0; k < ns; k++) {
        if (allowed[k] && f->sites[k].cores < t->ranks)
            allowed[k] = false;
        na += allowed[k];
    }
    free (t->allowed);
    t->nallowed = 0;
    if (!(t->allowed = calloc (na, sizeof (*t->allowed)))) {
        ps->oom = true;
        goto fail;
    }
    for (size_t k = 0; k < ns; k++)
        if (allowed[k])
            memcpy (t->allowed[t->nallowed++], f->sites[k].name, JOB_IDENT_MAX);
    f->allowed[ti] = allowed;
    f->inh_rank[ti] = rank;
    f->inh_sites[ti] = reg;
    free (set);
    free (ireg);
    return;
fail:
    free (allowed);
    free (set);
    free (reg);
    free (ireg);
}

static int fed_check (struct pstate *ps, const struct job_fedview *v)
{
    struct job_spec *s = ps->spec;
    struct fctx f = { .ps = ps, .v = v };
    fs_error_t e = { 0, "" };
    size_t before = ps->errs->count + ps->errs->omitted;
    int rc = -1;

    f.nsites = v->site_count ? v->site_count (v->ctx) : 0;
    if (f.nsites > 1000000)
        f.nsites = 1000000;
    f.sites = calloc (f.nsites ? f.nsites : 1, sizeof (*f.sites));
    f.allowed = calloc (s->ntasks ? s->ntasks : 1, sizeof (*f.allowed));
    f.inh_sites = calloc (s->ntasks ? s->ntasks : 1, sizeof (*f.inh_sites));
    f.inh_rank = calloc (s->ntasks ? s->ntasks : 1, sizeof (*f.inh_rank));
    if (!f.sites || !f.allowed || !f.inh_sites || !f.inh_rank
        || strmap_init (&f.sitemap, f.nsites) < 0) {
        ps->oom = true;
        goto done;
    }
    for (size_t i = 0; i < f.nsites; i++) {
        if (v->site_get (v->ctx, i, &f.sites[i], &e) < 0) {
            errs_add (ps->errs, FS_EFAIL, ps->file, 0, 0, "cannot list the federation's sites: %s",
                      e.text);
            goto done;
        }
        f.sites[i].name[JOB_IDENT_MAX - 1] = '\0';
        f.sites[i].region[JOB_IDENT_MAX - 1] = '\0';
        strmap_put (&f.sitemap, f.sites[i].name, i);
        if (i == 0 || f.sites[i].cores > f.maxcores) {
            f.maxcores = f.sites[i].cores;
            f.maxsite = i;
        }
    }
    /* In dependency order when there is one, so producers come first. */
    for (size_t oi = 0; oi < s->ntasks; oi++) {
        size_t ti = s->order ? s->order[oi] : oi;
        struct job_task *t = &s->tasks[ti];
        if (ps->task_bad[ti])
            continue;
        bool *ok = calloc (t->ninputs ? t->ninputs : 1, sizeof (bool));
        struct job_dataset_info **dis = calloc (t->ninputs ? t->ninputs : 1, sizeof (*dis));
        if (!ok || !dis) {
            free (ok);
            free (dis);
            ps->oom = true;
            goto done;
        }
        for (size_t i = 0; i < t->ninputs; i++) {
            struct job_input *in = &t->inputs[i];
            in->resolved = false;
            if (ps->input_bad[ti] && ps->input_bad[ti][i])
                continue;
            if (in->kind == JOB_IN_OUTPUT) {
                ok[i] = true;
                continue;
            }
            if (!(dis[i] = calloc (1, sizeof (**dis)))) {
                ps->oom = true;
                continue;
            }
            if (check_dataset_input (&f, t, in, dis[i]) == 0)
                ok[i] = true;
        }
        if (s->order)           /* without an order, a producer's sites may be unknown */
            check_task_sites (&f, ti, ok, dis);
        else {
            bool all = true;
            for (size_t i = 0; i < t->ninputs; i++)
                if (t->inputs[i].kind == JOB_IN_OUTPUT)
                    ok[i] = false, all = false;
            if (all)
                check_task_sites (&f, ti, ok, dis);
        }
        for (size_t i = 0; i < t->ninputs; i++)
            free (dis[i]);
        free (dis);
        free (ok);
    }
    rc = ps->errs->count + ps->errs->omitted > before ? -1 : 0;
done:
    for (size_t i = 0; i < s->ntasks; i++) {
        if (f.allowed)
            free (f.allowed[i]);
        if (f.inh_sites)
            free (f.inh_sites[i]);
    }
    free (f.allowed);
    free (f.inh_sites);
    free (f.inh_rank);
    free (f.sites);
    strmap_free (&f.sitemap);
    return rc;
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
                                   const struct job_fedview *view, struct job_errors *errs)
{
    struct job_errors local = JOB_ERRORS_INIT;
    if (!errs) {
        struct job_spec *r = load_tree (file, root, view, &local);
        job_errors_clear (&local);
        return r;
    }
    struct job_spec *s = calloc (1, sizeof (*s));
    struct pstate ps = { .file = file, .errs = errs, .spec = s };
    if (!s || !(s->file = strdup (file))) {
        free (s);
        errs_add (errs, FS_EFAIL, file, 0, 0, "out of memory");
        return NULL;
    }
    default_name (file, s->name);
    parse_top (&ps, root);
    if (!ps.oom && s->ntasks)
        graph (&ps);
    if (!ps.oom && s->ntasks && view)
        fed_check (&ps, view);
    if (ps.oom)
        errs_add (errs, FS_EFAIL, file, 0, 0, "out of memory");
    pstate_free (&ps);
    errs_sort (errs);
    if (errs->count || errs->omitted) {
        job_spec_destroy (s);
        return NULL;
    }
    return s;
}

struct job_spec *jobfile_load_string (const char *name, const char *text, size_t len,
                                      const struct job_fedview *view, struct job_errors *errs)
{
    struct ydoc_limits lim = { JOB_MAX_BYTES, JOB_MAX_DEPTH };
    fs_error_t e = { 0, "" };
    job_errors_clear (errs);
    if (!name)
        name = "<job>";
    struct ynode *root = ydoc_load_string (name, text, len, &lim, &e);
    if (!root) {
        errs_push (errs, e.code == FS_EFAIL ? FS_EFAIL : FS_EINVAL, 0, 0, e.text);
        return NULL;
    }
    struct job_spec *s = load_tree (name, root, view, errs);
    ydoc_free (root);
    return s;
}

struct job_spec *jobfile_load (const char *file, const struct job_fedview *view,
                               struct job_errors *errs)
{
    struct ydoc_limits lim = { JOB_MAX_BYTES, JOB_MAX_DEPTH };
    fs_error_t e = { 0, "" };
    job_errors_clear (errs);
    struct ynode *root = ydoc_load_file (file, &lim, &e);
    if (!root) {
        errs_push (errs, e.code == FS_EFAIL ? FS_EFAIL : FS_EINVAL, 0, 0, e.text);
        return NULL;
    }
    struct job_spec *s = load_tree (file, root, view, errs);
    ydoc_free (root);
    return s;
}

int jobfile_check (struct job_spec *spec, const struct job_fedview *view, struct job_errors *errs)
{
    struct job_errors local = JOB_ERRORS_INIT;
    if (!errs) {
        int r = jobfile_check (spec, view, &local);
        job_errors_clear (&local);
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
        errs_add (errs, FS_EFAIL, ps.file, 0, 0, "out of memory");
    pstate_free (&ps);
    errs_sort (errs);
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

/* A growing string. */
struct sbuf {
    char *s;
    size_t len, cap;
};

static int sb_add (struct sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 64;
        while (b->len + n + 1 > nc)
            nc *= 2;
        char *p = realloc (b->s, nc);
        if (!p)
            return -1;
        b->s = p;
        b->cap = nc;
    }
    memcpy (b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
    return 0;
}

void jobfile_argv_free (char **argv)
{
    if (!argv)
        return;
    for (char **a = argv; *a; a++)
        free (*a);
    free (argv);
}

char **jobfile_expand_argv (const struct job_spec *spec, size_t task, const char *site,
                            int ranks, int64_t job_id, job_resolve_f resolve, void *arg,
                            int *argc, fs_error_t *err)
{
    if (!spec || task >= spec->ntasks) {
        errprintf (err, FS_EINVAL, "expand argv: no task %zu in the job", task);
        return NULL;
    }
    const struct job_task *t = &spec->tasks[task];
    char **out = calloc ((size_t) t->argc + 1, sizeof (*out));
    if (!out) {
        errprintf (err, FS_EFAIL, "out of memory");
        return NULL;
    }
    char *file = malloc (4096), *dset = malloc (1024);
    struct strmap ins = { 0 }, outs = { 0 };
    if (!file || !dset || names_map (t, false, &ins) < 0 || names_map (t, true, &outs) < 0) {
        errprintf (err, FS_EFAIL, "out of memory");
        goto fail;
    }
    for (int i = 0; i < t->argc; i++) {
        const char *a = t->argv[i], *p = a;
        struct sbuf b = { 0 };
        struct ph tok;
        char why[600], num[32];
        int rc;
        if (sb_add (&b, "", 0) < 0)
            goto oom;
        while ((rc = ph_next (a, &p, &tok, why, sizeof (why))) > 0) {
            int r = 0;
            switch (tok.kind) {
            case PH_TEXT:
                r = sb_add (&b, tok.s, tok.len);
                break;
            case PH_JOB:
                snprintf (num, sizeof (num), "%" PRId64, job_id);
                r = sb_add (&b, num, strlen (num));
                break;
            case PH_TASK:
                r = sb_add (&b, t->name, strlen (t->name));
                break;
            case PH_SITE:
                r = sb_add (&b, site ? site : "", site ? strlen (site) : 0);
                break;
            case PH_RANKS:
                snprintf (num, sizeof (num), "%d", ranks);
                r = sb_add (&b, num, strlen (num));
                break;
            case PH_IN:
            case PH_OUT: {
                bool isout = tok.kind == PH_OUT;
                char name[JOB_IDENT_MAX];
                snprintf (name, sizeof (name), "%.*s", (int) tok.len, tok.s);
                if (names_get (isout ? &outs : &ins, tok.s, tok.len) < 0) {
                    errprintf (err, FS_EINVAL, "task '%s': command[%d]: no %s '%s'", t->name, i,
                               isout ? "output" : "input", name);
                    free (b.s);
                    goto fail;
                }
                file[0] = dset[0] = '\0';
                if (!resolve || resolve (arg, t, isout, name, file, 4096, dset, 1024, err) < 0) {
                    if (!resolve)
                        errprintf (err, FS_EINVAL, "task '%s': no resolver for %s '%s'", t->name,
                                   isout ? "output" : "input", name);
                    free (b.s);
                    goto fail;
                }
                if (tok.part == PH_FILE)
                    r = sb_add (&b, file, strlen (file));
                else if (tok.part == PH_DSET)
                    r = sb_add (&b, dset, strlen (dset));
                else
                    r = sb_add (&b, file, strlen (file)) || sb_add (&b, ":", 1)
                        || sb_add (&b, dset, strlen (dset));
                break;
            }
            }
            if (r < 0 || r > 0) {
                free (b.s);
                goto oom;
            }
        }
        if (rc < 0) {
            errprintf (err, FS_EINVAL, "task '%s': command[%d]: %s", t->name, i, why);
            free (b.s);
            goto fail;
        }
        out[i] = b.s;
    }
    free (file);
    free (dset);
    strmap_free (&ins);
    strmap_free (&outs);
    if (argc)
        *argc = t->argc;
    return out;
oom:
    errprintf (err, FS_EFAIL, "out of memory");
fail:
    free (file);
    free (dset);
    strmap_free (&ins);
    strmap_free (&outs);
    jobfile_argv_free (out);
    return NULL;
}
