/* jobfile_argv.c - job files: command placeholders ({in.NAME}, {out.NAME},
 * {in.NAME.file}, {in.NAME.dset}, {job}, {task}, {site}, {ranks}, "{{" and
 * "}}"): the tokenizer the parser checks commands with, and their expansion
 * into a task's argv at the site that runs it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strmap.h"
#include "common/sbuf.h"
#include "jobfile_int.h"

/* Next token of arg at *p: 1 (token in *t), 0 at the end, -1 with why. */
int ph_next (const char *arg, const char **p, struct ph *t, char *why, size_t whysz)
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

/* A map of a task's input or output names (for tasks with many of them:
 * placeholders and references are looked up through it). */
struct strmap *names_map (const struct job_task *t, bool outputs)
{
    size_t n = outputs ? t->noutputs : t->ninputs;
    struct strmap *m = strmap_create (n);
    for (size_t i = 0; m && i < n; i++) {
        const char *nm = outputs ? t->outputs[i].name : t->inputs[i].name;
        if (nm[0] && strmap_get (m, nm) < 0 && strmap_put (m, nm, (int64_t) i) < 0) {
            strmap_destroy (m);
            m = NULL;
        }
    }
    return m;
}

/* ------------------------------------------------------------------ */
/* Expansion */

void jobfile_argv_free (char **argv)
{
    if (!argv)
        return;
    for (char **a = argv; *a; a++)
        free (*a);
    free (argv);
}

char **jobfile_expand_command (const char *const *cmd, const char *task, const char *site,
                               int ranks, int64_t job_id, job_command_resolve_f resolve,
                               void *arg, int *argc, fs_error_t *err)
{
    int n = 0;
    while (cmd && cmd[n])
        n++;
    char **out = calloc ((size_t) n + 1, sizeof (*out));
    char *file = malloc (4096), *dset = malloc (1024);
    if (!out || !file || !dset) {
        errprintf (err, FS_EFAIL, "out of memory");
        goto fail;
    }
    for (int i = 0; i < n; i++) {
        const char *a = cmd[i], *p = a;
        struct sbuf b = SBUF_INIT;
        struct ph tok;
        char why[600], num[32];
        int rc;
        while ((rc = ph_next (a, &p, &tok, why, sizeof (why))) > 0) {
            int r = 0;
            switch (tok.kind) {
            case PH_TEXT:
                r = sbuf_add (&b, tok.s, tok.len);
                break;
            case PH_JOB:
                snprintf (num, sizeof (num), "%" PRId64, job_id);
                r = sbuf_add (&b, num, strlen (num));
                break;
            case PH_TASK:
                r = sbuf_add (&b, task, strlen (task));
                break;
            case PH_SITE:
                r = sbuf_add (&b, site ? site : "", site ? strlen (site) : 0);
                break;
            case PH_RANKS:
                snprintf (num, sizeof (num), "%d", ranks);
                r = sbuf_add (&b, num, strlen (num));
                break;
            case PH_IN:
            case PH_OUT: {
                bool isout = tok.kind == PH_OUT;
                char name[JOB_IDENT_MAX];
                snprintf (name, sizeof (name), "%.*s", (int) tok.len, tok.s);
                file[0] = dset[0] = '\0';
                if (!resolve || resolve (arg, isout, name, file, 4096, dset, 1024, err) < 0) {
                    if (!resolve)
                        errprintf (err, FS_EINVAL, "task '%s': no resolver for %s '%s'", task,
                                   isout ? "output" : "input", name);
                    sbuf_free (&b);
                    goto fail;
                }
                if (tok.part == PH_FILE)
                    r = sbuf_add (&b, file, strlen (file));
                else if (tok.part == PH_DSET)
                    r = sbuf_add (&b, dset, strlen (dset));
                else
                    r = sbuf_add (&b, file, strlen (file)) || sbuf_add (&b, ":", 1)
                        || sbuf_add (&b, dset, strlen (dset));
                break;
            }
            }
            if (r != 0) {
                sbuf_free (&b);
                goto oom;
            }
        }
        if (rc < 0) {
            errprintf (err, FS_EINVAL, "task '%s': command[%d]: %s", task, i, why);
            sbuf_free (&b);
            goto fail;
        }
        if (!(out[i] = sbuf_take (&b)))
            goto oom;
    }
    free (file);
    free (dset);
    if (argc)
        *argc = n;
    return out;
oom:
    errprintf (err, FS_EFAIL, "out of memory");
fail:
    free (file);
    free (dset);
    jobfile_argv_free (out);
    return NULL;
}

/* jobfile_expand_argv's resolver: the task's own names only, then the caller's. */
struct spec_resolve {
    const struct job_task *t;
    struct strmap *ins, *outs;
    job_resolve_f resolve;
    void *arg;
};

static int spec_resolve (void *arg, bool is_output, const char *name, char *file, size_t filesz,
                         char *dset, size_t dsetsz, fs_error_t *err)
{
    struct spec_resolve *r = arg;
    if (strmap_get (is_output ? r->outs : r->ins, name) < 0)
        return errprintf (err, FS_EINVAL, "task '%s': no %s '%s'", r->t->name,
                          is_output ? "output" : "input", name);
    if (!r->resolve)
        return errprintf (err, FS_EINVAL, "task '%s': no resolver for %s '%s'", r->t->name,
                          is_output ? "output" : "input", name);
    return r->resolve (r->arg, r->t, is_output, name, file, filesz, dset, dsetsz, err);
}

char **jobfile_expand_argv (const struct job_spec *spec, size_t task, const char *site,
                            int ranks, int64_t job_id, job_resolve_f resolve, void *arg,
                            int *argc, fs_error_t *err)
{
    if (!spec || task >= spec->ntasks) {
        errprintf (err, FS_EINVAL, "expand argv: no task %zu in the job", task);
        return NULL;
    }
    struct spec_resolve r = { .t = &spec->tasks[task], .resolve = resolve, .arg = arg };
    char **out = NULL;
    if (!(r.ins = names_map (r.t, false)) || !(r.outs = names_map (r.t, true)))
        errprintf (err, FS_EFAIL, "out of memory");
    else
        out = jobfile_expand_command ((const char *const *) r.t->argv, r.t->name, site, ranks,
                                      job_id, spec_resolve, &r, argc, err);
    strmap_destroy (r.ins);
    strmap_destroy (r.outs);
    return out;
}
