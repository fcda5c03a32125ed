/* table.c - aligned tables and human-readable numbers for the listing verbs.
 *
 * Cells are kept as copied strings; table_print() measures each column
 * (in characters, so UTF-8 text such as "µs" lines up), upper-cases the
 * headers, and right-aligns the columns whose every cell looks like a number
 * ("42", "-3", "1.5 GiB", "4/8", "97%", "812.3 MB/s"; "-" for missing values
 * does not count either way).  The last column is not padded.
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/sbuf.h"
#include "table.h"

struct table {
    int ncols;
    char **headers;
    size_t nrows, cap;
    char ***rows;               /* rows[r][c], owned */
};

static char *xstrdup (const char *s)
{
    char *d = strdup (s ? s : "-");
    if (!d) {
        fputs ("fedsched: error: out of memory\n", stderr);
        abort ();
    }
    return d;
}

struct table *table_create (int ncols, const char *const *headers)
{
    if (ncols <= 0)
        return NULL;
    struct table *t = calloc (1, sizeof (*t));
    if (!t || !(t->headers = calloc ((size_t) ncols, sizeof (char *)))) {
        free (t);
        return NULL;
    }
    t->ncols = ncols;
    for (int c = 0; c < ncols; c++)
        t->headers[c] = xstrdup (headers && headers[c] ? headers[c] : "");
    return t;
}

void table_destroy (struct table *t)
{
    if (!t)
        return;
    for (size_t r = 0; r < t->nrows; r++) {
        for (int c = 0; c < t->ncols; c++)
            free (t->rows[r][c]);
        free (t->rows[r]);
    }
    for (int c = 0; c < t->ncols; c++)
        free (t->headers[c]);
    free (t->headers);
    free (t->rows);
    free (t);
}

/* Append a row; takes ownership of cells (ncols strings). */
static void table_push (struct table *t, char **cells)
{
    if (t->nrows == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 16;
        char ***rows = realloc (t->rows, nc * sizeof (*rows));
        if (!rows) {
            fputs ("fedsched: error: out of memory\n", stderr);
            abort ();
        }
        t->rows = rows;
        t->cap = nc;
    }
    t->rows[t->nrows++] = cells;
}

void table_add (struct table *t, const char *const *cells)
{
    if (!t)
        return;
    char **row = calloc ((size_t) t->ncols, sizeof (char *));
    if (!row) {
        fputs ("fedsched: error: out of memory\n", stderr);
        abort ();
    }
    for (int c = 0; c < t->ncols; c++)
        row[c] = xstrdup (cells ? cells[c] : NULL);
    table_push (t, row);
}

void table_addf (struct table *t, const char *fmt, ...)
{
    if (!t)
        return;
    char *line = NULL;
    va_list ap;
    va_start (ap, fmt);
    int rc = vasprintf (&line, fmt, ap);
    va_end (ap);
    if (rc < 0) {
        fputs ("fedsched: error: out of memory\n", stderr);
        abort ();
    }
    const char **cells = calloc ((size_t) t->ncols, sizeof (char *));
    if (!cells) {
        fputs ("fedsched: error: out of memory\n", stderr);
        abort ();
    }
    /* Split on tabs; the last column takes whatever is left (tabs included). */
    char *p = line;
    for (int c = 0; c < t->ncols && p; c++) {
        cells[c] = p;
        char *tab = c < t->ncols - 1 ? strchr (p, '\t') : NULL;
        if (tab) {
            *tab = '\0';
            p = tab + 1;
        }
        else
            p = NULL;
    }
    table_add (t, cells);
    free (cells);
    free (line);
}

/* Display width: UTF-8 characters, not bytes. */
static size_t text_width (const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char) *s & 0xc0) != 0x80)
            w++;
    return w;
}

/* [+-]?digits[.,:/digits]*%? followed by an optional unit (" GiB", "MB/s", "s"). */
static bool looks_numeric (const char *s)
{
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    if (!isdigit ((unsigned char) *p))
        return false;
    while (isdigit ((unsigned char) *p) || ((*p == '.' || *p == ',' || *p == '/' || *p == ':')
                                            && isdigit ((unsigned char) p[1])))
        p++;
    if (*p == '%')
        p++;
    if (*p == ' ')
        p++;
    while (*p && (isalpha ((unsigned char) *p) || *p == '/' || (unsigned char) *p >= 0x80))
        p++;
    return *p == '\0';
}

static bool is_missing (const char *s)
{
    return !s[0] || !strcmp (s, "-");
}

static void pad (FILE *f, size_t n)
{
    while (n--)
        fputc (' ', f);
}

void table_print (const struct table *t, FILE *f)
{
    if (!t)
        return;
    size_t *width = calloc ((size_t) t->ncols, sizeof (size_t));
    bool *right = calloc ((size_t) t->ncols, sizeof (bool));
    if (!width || !right) {
        free (width);
        free (right);
        return;
    }
    for (int c = 0; c < t->ncols; c++) {
        bool any = false, all = true;
        width[c] = text_width (t->headers[c]);
        for (size_t r = 0; r < t->nrows; r++) {
            const char *s = t->rows[r][c];
            size_t w = text_width (s);
            if (w > width[c])
                width[c] = w;
            if (is_missing (s))
                continue;
            any = true;
            if (!looks_numeric (s))
                all = false;
        }
        right[c] = any && all;
    }
    for (size_t r = 0; r <= t->nrows; r++) {
        for (int c = 0; c < t->ncols; c++) {
            const char *s = r == 0 ? t->headers[c] : t->rows[r - 1][c];
            size_t w = text_width (s);
            bool last = c == t->ncols - 1;
            if (c > 0)
                fputs ("  ", f);
            if (right[c])
                pad (f, width[c] - w);
            if (r == 0)
                for (const char *p = s; *p; p++)
                    fputc (toupper ((unsigned char) *p), f);
            else
                fputs (s, f);
            if (!right[c] && !last)
                pad (f, width[c] - w);
        }
        fputc ('\n', f);
    }
    free (width);
    free (right);
}

/* ------------------------------------------------------------------ */
/* Human forms */

char *fmt_bytes (double bytes, char *buf, size_t n)
{
    static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    if (!isfinite (bytes) || bytes < 0) {
        snprintf (buf, n, "-");
        return buf;
    }
    if (bytes < 1024) {
        snprintf (buf, n, "%.0f B", bytes);
        return buf;
    }
    int u = -1;
    double v = bytes;
    while (v >= 1024 && u < 5) {
        v /= 1024;
        u++;
    }
    /* 1023.96 KiB would print as "1024.0 KiB": move up one unit instead. */
    if (v >= 1023.95 && u < 5) {
        v /= 1024;
        u++;
    }
    snprintf (buf, n, "%.1f %s", v, units[u]);
    return buf;
}

char *fmt_rate (double bytes_per_s, char *buf, size_t n)
{
    static const char *const units[] = { "kB/s", "MB/s", "GB/s", "TB/s", "PB/s", "EB/s" };
    if (!isfinite (bytes_per_s) || bytes_per_s < 0) {
        snprintf (buf, n, "-");
        return buf;
    }
    if (bytes_per_s < 999.5) {
        snprintf (buf, n, "%.0f B/s", bytes_per_s);
        return buf;
    }
    int u = -1;
    double v = bytes_per_s;
    while (v >= 999.95 && u < 5) {
        v /= 1000;
        u++;
    }
    snprintf (buf, n, "%.1f %s", v, units[u]);
    return buf;
}

char *fmt_duration (double seconds, char *buf, size_t n)
{
    if (!isfinite (seconds) || seconds < 0) {
        snprintf (buf, n, "-");
        return buf;
    }
    if (seconds < 1 && seconds > 0) {
        double ms = seconds * 1000;
        if (ms < 9.95)
            snprintf (buf, n, "%.1fms", ms);
        else if (ms < 999.5)
            snprintf (buf, n, "%.0fms", ms);
        else
            snprintf (buf, n, "1s");
        return buf;
    }
    if (seconds < 59.95) {
        if (seconds == floor (seconds) || seconds >= 9.95)
            snprintf (buf, n, "%.0fs", seconds);
        else
            snprintf (buf, n, "%.1fs", seconds);
        return buf;
    }
    if (seconds > 1e15)
        seconds = 1e15;         /* keeps the conversion below defined */
    unsigned long long s = (unsigned long long) (seconds + 0.5);
    if (s < 3600)
        snprintf (buf, n, "%llum%02llus", s / 60, s % 60);
    else if (s < 86400)
        snprintf (buf, n, "%lluh%02llum", s / 3600, s % 3600 / 60);
    else
        snprintf (buf, n, "%llud%02lluh", s / 86400, s % 86400 / 3600);
    return buf;
}

char *fmt_shape (const json_t *shape, char *buf, size_t n)
{
    struct sbuf b;
    size_t i;
    json_t *v;
    sbuf_init (&b, buf, n);
    if (!json_is_array (shape)) {
        sbuf_puts (&b, "-");
        return buf;
    }
    sbuf_puts (&b, "(");
    json_array_foreach (shape, i, v)
        sbuf_printf (&b, "%s%lld", i ? "," : "", (long long)json_integer_value (v));
    sbuf_puts (&b, json_array_size (shape) == 1 ? ",)" : ")");
    return buf;
}
