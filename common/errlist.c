/* errlist.c - every error of one input (see errlist.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errlist.h"

void errlist_push (struct errlist *e, int code, int line, int col, const char *text)
{
    if (!e)
        return;
    if (e->code == 0 || code == FS_EFAIL)
        e->code = code;
    if (e->count >= ERRLIST_KEPT) {
        e->omitted++;
        return;
    }
    if (e->count % 16 == 0) {
        struct errlist_item *l = realloc (e->list, (e->count + 16) * sizeof (*l));
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

void errlist_add (struct errlist *e, int code, const char *file, int line, int col,
                  const char *fmt, ...)
{
    char msg[2048], full[2400];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (msg, sizeof (msg), fmt, ap);
    va_end (ap);
    if (line > 0)
        snprintf (full, sizeof (full), "%s:%d:%d: %s", file, line, col, msg);
    else
        snprintf (full, sizeof (full), "%s: %s", file, msg);
    errlist_push (e, code, line, col, full);
}

/* Stable sort by position (insertion sort: at most ERRLIST_KEPT items). */
void errlist_sort (struct errlist *e)
{
    if (!e)
        return;
    for (size_t i = 1; i < e->count; i++) {
        struct errlist_item x = e->list[i];
        size_t j = i;
        while (j > 0 && (e->list[j - 1].line > x.line
                         || (e->list[j - 1].line == x.line && e->list[j - 1].col > x.col))) {
            e->list[j] = e->list[j - 1];
            j--;
        }
        e->list[j] = x;
    }
}

void errlist_clear (struct errlist *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->count; i++)
        free (e->list[i].msg);
    free (e->list);
    memset (e, 0, sizeof (*e));
}

char *errlist_join (const struct errlist *e, const char *sep)
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

int errlist_to_error (const struct errlist *e, fs_error_t *err)
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

int errlist_print (const struct errlist *e)
{
    if (!e || (e->count == 0 && e->omitted == 0))
        return 0;
    for (size_t i = 0; i < e->count; i++)
        fprintf (stderr, "fedsched: error: %s\n", e->list[i].msg);
    if (e->omitted)
        fprintf (stderr, "fedsched: error: ... and %zu more error%s\n", e->omitted,
                 e->omitted == 1 ? "" : "s");
    return errcode_exit (e->code ? e->code : FS_EINVAL);
}
