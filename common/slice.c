/* slice.c - slice syntax, NumPy basic slicing, block reductions, wire forms.
 *
 * slice_parse() is a small hand-written scanner over
 *
 *     slice    := NAME | NAME '[' selector (',' selector)* ']'
 *     selector := ws* ( '...' | INT | [INT] ':' [INT] [':' [INT]] ) ws*
 *     INT      := ['+'|'-'] DIGIT+            (fits in int64)
 *
 * It recognises the usual NumPy spellings it does not support (lists,
 * booleans, None/newaxis, floats) so the user is told why, not just where.
 * Columns in messages are 1-based byte offsets into the slice text.
 *
 * slice_resolve() follows NumPy: '...' expands to the dimensions no other
 * selector takes, missing trailing selectors select whole dimensions, an
 * integer must be in [-size, size) and drops its dimension, and a range
 * clamps like Python's slice.indices() (so an empty range is valid).
 * All arithmetic is done so that no int64/uint64 overflow can occur.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "names.h"
#include "slice.h"

/* ---- slice_parse ---- */

struct scan {
    const char *text;
    const char *p;
    fs_error_t *err;
};

__attribute__ ((format (printf, 3, 4)))
static int scan_error (struct scan *s, const char *at, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (msg, sizeof (msg), fmt, ap);
    va_end (ap);
    return errprintf (s->err, FS_EINVAL, "slice '%.300s' at column %zu: %s", s->text,
                      (size_t)(at - s->text) + 1, msg);
}

static void skip_ws (struct scan *s)
{
    while (*s->p == ' ' || *s->p == '\t')
        s->p++;
}

static bool is_word_char (char c)
{
    return isalnum ((unsigned char)c) || c == '_';
}

/* Explain an unexpected character at s->p inside the brackets; EXPECT says
 * what would have been right there. */
static int scan_unexpected (struct scan *s, const char *expect)
{
    const char *p = s->p;
    size_t wlen = 0;
    while (is_word_char (p[wlen]))
        wlen++;

    if (*p == '[' || *p == '(')
        return scan_error (s, p, "fancy indexing (lists or arrays of indices) is not supported: "
                           "use integers, start:stop:step and '...'");
    if ((wlen == 4 && strncmp (p, "None", 4) == 0) || (wlen == 7 && strncmp (p, "newaxis", 7) == 0)
        || (strncmp (p, "np.newaxis", 10) == 0 && !is_word_char (p[10])))
        return scan_error (s, p, "None/newaxis (adding a dimension) is not supported");
    if ((wlen == 4 && strncmp (p, "True", 4) == 0) || (wlen == 5 && strncmp (p, "False", 5) == 0)
        || (wlen == 4 && strncmp (p, "true", 4) == 0)
        || (wlen == 5 && strncmp (p, "false", 5) == 0))
        return scan_error (s, p, "boolean indexing is not supported: use integers, "
                           "start:stop:step and '...'");
    if (*p == ']')
        return scan_error (s, p, "empty selector before ']'");
    if (*p == ',')
        return scan_error (s, p, "empty selector before ','");
    if (*p == '\0')
        return scan_error (s, p, "missing ']' at the end");
    if (isprint ((unsigned char)*p))
        return scan_error (s, p, "unexpected character '%c': expected %s", *p, expect);
    return scan_error (s, p, "unexpected byte 0x%02x: expected %s", (unsigned char)*p, expect);
}

/* Parse an optionally signed integer at s->p into *v.  Returns 1 if one was
 * found, 0 if there is no integer here, -1 on error (overflow, float). */
static int scan_int (struct scan *s, int64_t *v)
{
    const char *start = s->p;
    const char *p = s->p;
    bool neg = false;

    if (*p == '+' || *p == '-') {
        neg = *p == '-';
        p++;
    }
    if (!isdigit ((unsigned char)*p)) {
        if (p != start)
            return scan_error (s, start, "'%c' must be followed by digits", *start);
        return 0;
    }
    /* Accumulate the magnitude; INT64_MIN's magnitude is INT64_MAX + 1. */
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t mag = 0;
    bool overflow = false;
    for (; isdigit ((unsigned char)*p); p++) {
        unsigned d = (unsigned)(*p - '0');
        if (mag > (limit - d) / 10)
            overflow = true;
        else
            mag = mag * 10 + d;
    }
    if (*p == '.' || *p == 'e' || *p == 'E' || *p == 'j' || *p == 'J')
        return scan_error (s, start, "indices must be integers (not floats or complex numbers)");
    if (is_word_char (*p))
        return scan_error (s, start, "malformed integer '%.*s'", (int)(p - start + 1), start);
    if (overflow)
        return scan_error (s, start, "integer %.*s does not fit in 64 bits", (int)(p - start),
                           start);
    if (neg)
        *v = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
    else
        *v = (int64_t)mag;
    s->p = p;
    return 1;
}

/* A '.' that is not '...': a float such as '.5', or a typo. */
static int scan_dot (struct scan *s)
{
    if (isdigit ((unsigned char)s->p[1]))
        return scan_error (s, s->p, "indices must be integers (not floats)");
    return scan_error (s, s->p, "expected '...' (three dots)");
}

static int scan_selector (struct scan *s, fs_selector_t *sel, bool *seen_ellipsis)
{
    int64_t v;
    int rc;

    memset (sel, 0, sizeof (*sel));
    skip_ws (s);
    sel->col = (int)(s->p - s->text) + 1;
    if (*s->p == '.') {
        if (strncmp (s->p, "...", 3) != 0)
            return scan_dot (s);
        if (*seen_ellipsis)
            return scan_error (s, s->p, "an index can only have a single ellipsis ('...')");
        *seen_ellipsis = true;
        sel->type = SEL_ELLIPSIS;
        s->p += 3;
        skip_ws (s);
        return 0;
    }
    /* start or bare index */
    if ((rc = scan_int (s, &v)) < 0)
        return -1;
    skip_ws (s);
    if (*s->p != ':') {
        if (rc == 0)
            return scan_unexpected (s, "an integer, start:stop:step or '...'");
        sel->type = SEL_INDEX;
        sel->index = v;
        return 0;
    }
    sel->type = SEL_RANGE;
    if (rc == 1) {
        sel->has_start = true;
        sel->start = v;
    }
    s->p++;     /* first ':' */
    skip_ws (s);
    if ((rc = scan_int (s, &v)) < 0)
        return -1;
    if (rc == 1) {
        sel->has_stop = true;
        sel->stop = v;
    }
    skip_ws (s);
    if (*s->p != ':')
        return 0;
    s->p++;     /* second ':' */
    skip_ws (s);
    const char *at = s->p;
    if ((rc = scan_int (s, &v)) < 0)
        return -1;
    if (rc == 1) {
        if (v <= 0)
            return scan_error (s, at, "step must be positive (got %lld): reversed and "
                               "zero steps are not supported", (long long)v);
        sel->has_step = true;
        sel->step = v;
    }
    skip_ws (s);
    if (*s->p == ':')
        return scan_error (s, s->p, "too many ':' in a selector (at most start:stop:step)");
    return 0;
}

int slice_parse (const char *text, fs_slice_t *out, fs_error_t *err)
{
    struct scan s = { .text = text, .p = text, .err = err };
    fs_slice_t sl;

    if (!text)
        return errprintf (err, FS_EINVAL, "slice is missing");
    memset (&sl, 0, sizeof (sl));

    const char *br = strchr (text, '[');
    size_t nlen = br ? (size_t)(br - text) : strlen (text);
    if (nlen > FS_NAME_MAX)
        return errprintf (err, FS_EINVAL, "slice '%.60s...' at column 1: name is %zu bytes "
                          "long, at most %d allowed", text, nlen, FS_NAME_MAX);
    memcpy (sl.name, text, nlen);
    sl.name[nlen] = '\0';
    if (name_valid (sl.name, err) < 0)
        return errprefix (err, "slice '%.300s' at column 1", text);
    snprintf (sl.text, sizeof (sl.text), "%s", text);
    if (!br) {
        *out = sl;
        return 0;
    }
    sl.bracketed = true;
    s.p = br + 1;

    bool seen_ellipsis = false;
    for (;;) {
        skip_ws (&s);
        if (*s.p == ']' && sl.nsel == 0)
            return scan_error (&s, s.p, "empty selection '[]': write NAME alone for the whole "
                               "dataset");
        if (sl.nsel == FS_MAXDIMS)
            return scan_error (&s, s.p, "too many selectors (at most %d)", FS_MAXDIMS);
        if (scan_selector (&s, &sl.sel[sl.nsel], &seen_ellipsis) < 0)
            return -1;
        sl.nsel++;
        if (*s.p == ',') {
            s.p++;
            continue;
        }
        if (*s.p == ']')
            break;
        return scan_unexpected (&s, "',' or ']' after a selector");
    }
    s.p++;      /* ']' */
    if (*s.p != '\0')
        return scan_error (&s, s.p, "unexpected text after ']'");
    *out = sl;
    return 0;
}

/* ---- slice_resolve ---- */

/* Python's slice.indices() bound for step > 0: v (or its default) clamped to [0, len]. */
static uint64_t clamp_bound (bool has, int64_t v, uint64_t dflt, uint64_t len)
{
    if (!has)
        return dflt;
    if (v < 0) {
        uint64_t mag = (uint64_t)(-(v + 1)) + 1;
        return mag > len ? 0 : len - mag;
    }
    return (uint64_t)v > len ? len : (uint64_t)v;
}

static void resolve_range (const fs_selector_t *sel, uint64_t len, fs_sel_t *o, int d)
{
    uint64_t step = sel->has_step ? (uint64_t)sel->step : 1;
    uint64_t start = clamp_bound (sel->has_start, sel->start, 0, len);
    uint64_t stop = clamp_bound (sel->has_stop, sel->stop, len, len);
    o->start[d] = start;
    o->step[d] = step;
    o->count[d] = stop > start ? (stop - start - 1) / step + 1 : 0;
    o->dropped[d] = false;
}

/* The slice as the user wrote it (a slice made in code has only its name). */
static const char *slice_text (const fs_slice_t *sl)
{
    return sl->text[0] ? sl->text : sl->name;
}

int slice_resolve (const fs_slice_t *sl, int ndims, const uint64_t *shape,
                   fs_sel_t *out, fs_error_t *err)
{
    fs_sel_t o;

    if (ndims < 0 || ndims > FS_MAXDIMS)
        return errprintf (err, FS_EINVAL, "slice '%s': dataset has %d dimensions, at most %d "
                          "supported", sl->name, ndims, FS_MAXDIMS);
    int nidx = 0, extra = -1;       /* extra: the first selector past the last dimension */
    for (int i = 0; i < sl->nsel; i++)
        if (sl->sel[i].type != SEL_ELLIPSIS && ++nidx == ndims + 1)
            extra = i;
    if (nidx > ndims)
        return errprintf (err, FS_EINVAL, "slice '%s' at column %d: too many indices for array: "
                          "array is %d-dimensional, but %d were indexed", slice_text (sl),
                          sl->sel[extra].col, ndims, nidx);
    memset (&o, 0, sizeof (o));
    o.ndims = ndims;
    int d = 0;
    for (int i = 0; i < sl->nsel; i++) {
        const fs_selector_t *sel = &sl->sel[i];
        switch (sel->type) {
        case SEL_ELLIPSIS:
            for (int k = 0; k < ndims - nidx; k++, d++)
                resolve_range (sel, shape[d], &o, d);   /* no bounds: whole */
            break;
        case SEL_INDEX: {
            uint64_t len = shape[d];
            uint64_t idx;
            if (sel->index < 0) {
                uint64_t mag = (uint64_t)(-(sel->index + 1)) + 1;
                if (mag > len)
                    goto oob;
                idx = len - mag;
            }
            else {
                if ((uint64_t)sel->index >= len)
                    goto oob;
                idx = (uint64_t)sel->index;
            }
            o.start[d] = idx;
            o.step[d] = 1;
            o.count[d] = 1;
            o.dropped[d] = true;
            d++;
            break;
oob:
            return errprintf (err, FS_EINVAL, "slice '%s' at column %d: index %lld is out of "
                              "bounds for axis %d with size %llu", slice_text (sl), sel->col,
                              (long long)sel->index, d, (unsigned long long)len);
        }
        case SEL_RANGE:
            resolve_range (sel, shape[d], &o, d);
            d++;
            break;
        }
    }
    static const fs_selector_t whole = { .type = SEL_RANGE };
    for (; d < ndims; d++)
        resolve_range (&whole, shape[d], &o, d);
    *out = o;
    return 0;
}

int sel_out_shape (const fs_sel_t *sel, uint64_t *shape)
{
    int n = 0;
    for (int d = 0; d < sel->ndims; d++)
        if (!sel->dropped[d])
            shape[n++] = sel->count[d];
    return n;
}

uint64_t sel_nelems (const fs_sel_t *sel)
{
    uint64_t n = 1;
    for (int d = 0; d < sel->ndims; d++) {
        if (sel->count[d] == 0)
            return 0;
    }
    for (int d = 0; d < sel->ndims; d++) {
        if (n > UINT64_MAX / sel->count[d])
            return UINT64_MAX;  /* saturate: cannot happen for a validated selection */
        n *= sel->count[d];
    }
    return n;
}

void sel_sub (const fs_sel_t *sel, const uint64_t *off, const uint64_t *cnt, fs_sel_t *sub)
{
    fs_sel_t o = *sel;
    int j = 0;
    for (int d = 0; d < sel->ndims; d++) {
        if (sel->dropped[d])
            continue;
        o.start[d] = sel->start[d] + off[j] * sel->step[d];
        o.count[d] = cnt[j];
        j++;
    }
    *sub = o;
}

/* ---- reductions ---- */

static const char *redop_names[] = {
    [RED_NONE] = "none", [RED_MEAN] = "mean", [RED_SUM] = "sum", [RED_MIN] = "min",
    [RED_MAX] = "max",
};

const char *reduce_op_name (fs_redop_t op)
{
    if ((int)op < 0 || op > RED_MAX)
        return "invalid";
    return redop_names[op];
}

static fs_redop_t redop_lookup (const char *s, size_t n)
{
    for (int op = RED_MEAN; op <= RED_MAX; op++)
        if (strlen (redop_names[op]) == n && strncmp (redop_names[op], s, n) == 0)
            return (fs_redop_t)op;
    return RED_NONE;
}

int reduce_parse (const char *text, fs_reduce_t *out, fs_error_t *err)
{
    fs_reduce_t r;

    if (!text)
        return errprintf (err, FS_EINVAL, "--reduce is missing its value");
    memset (&r, 0, sizeof (r));
    const char *colon = strchr (text, ':');
    size_t oplen = colon ? (size_t)(colon - text) : strlen (text);
    r.op = redop_lookup (text, oplen);
    if (r.op == RED_NONE)
        return errprintf (err, FS_EINVAL, "--reduce '%.200s': unknown operation '%.*s': use "
                          "mean, sum, min or max", text, (int)(oplen > 40 ? 40 : oplen), text);
    if (!colon)
        return errprintf (err, FS_EINVAL, "--reduce '%.200s': missing block sizes: write "
                          "OP:B1,B2,.. with one block size per dimension of the slice", text);
    const char *p = colon + 1;
    for (;;) {
        while (*p == ' ')
            p++;
        const char *at = p;
        if (!isdigit ((unsigned char)*p))
            return errprintf (err, FS_EINVAL, "--reduce '%.200s' at column %zu: expected a "
                              "block size (an integer >= 1)", text, (size_t)(at - text) + 1);
        uint64_t v = 0;
        for (; isdigit ((unsigned char)*p); p++) {
            unsigned dg = (unsigned)(*p - '0');
            if (v > ((uint64_t)INT64_MAX - dg) / 10)
                return errprintf (err, FS_EINVAL, "--reduce '%.200s' at column %zu: block "
                                  "size does not fit in 63 bits", text, (size_t)(at - text) + 1);
            v = v * 10 + dg;
        }
        if (v == 0)
            return errprintf (err, FS_EINVAL, "--reduce '%.200s' at column %zu: block size "
                              "must be at least 1", text, (size_t)(at - text) + 1);
        if (r.nblock == FS_MAXDIMS)
            return errprintf (err, FS_EINVAL, "--reduce '%.200s': too many block sizes (at most "
                              "%d)", text, FS_MAXDIMS);
        r.block[r.nblock++] = v;
        while (*p == ' ')
            p++;
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == '\0')
            break;
        return errprintf (err, FS_EINVAL, "--reduce '%.200s' at column %zu: unexpected "
                          "character '%c'", text, (size_t)(p - text) + 1, *p);
    }
    *out = r;
    return 0;
}

int reduce_out_shape (const fs_sel_t *sel, const fs_reduce_t *r, uint64_t *shape, fs_error_t *err)
{
    uint64_t rshape[FS_MAXDIMS];
    int n = sel_out_shape (sel, rshape);

    if (!r || r->op == RED_NONE) {
        memcpy (shape, rshape, (size_t)n * sizeof (rshape[0]));
        return n;
    }
    if (r->nblock != n)
        return errprintf (err, FS_EINVAL, "--reduce %s gives %d block size%s but the slice "
                          "has %d dimension%s (integer indices drop theirs)",
                          reduce_op_name (r->op), r->nblock, r->nblock == 1 ? "" : "s", n,
                          n == 1 ? "" : "s");
    for (int j = 0; j < n; j++) {
        if (r->block[j] == 0)
            return errprintf (err, FS_EINVAL, "--reduce block size %d is 0: must be at least 1",
                              j + 1);
        shape[j] = rshape[j] / r->block[j];
    }
    return n;
}

void reduce_sub (const fs_sel_t *sel, const fs_reduce_t *r, const uint64_t *off,
                 const uint64_t *cnt, fs_sel_t *sub)
{
    fs_sel_t o = *sel;
    int j = 0;
    for (int d = 0; d < sel->ndims; d++) {
        if (sel->dropped[d])
            continue;
        uint64_t b = r && r->op != RED_NONE ? r->block[j] : 1;
        o.start[d] = sel->start[d] + off[j] * b * sel->step[d];
        o.count[d] = cnt[j] * b;
        j++;
    }
    *sub = o;
}

/* ---- wire forms ---- */

static json_t *u64_array (const uint64_t *v, int n)
{
    json_t *a = json_array ();
    if (!a)
        return NULL;
    for (int i = 0; i < n; i++) {
        /* Values of a valid selection lie inside a dataset; clamp defensively. */
        json_int_t x = v[i] > (uint64_t)INT64_MAX ? (json_int_t)INT64_MAX : (json_int_t)v[i];
        if (json_array_append_new (a, json_integer (x)) < 0) {
            json_decref (a);
            return NULL;
        }
    }
    return a;
}

json_t *sel_to_json (const fs_sel_t *sel)
{
    json_t *drop = json_array ();
    if (!drop)
        return NULL;
    for (int d = 0; d < sel->ndims; d++)
        json_array_append_new (drop, json_boolean (sel->dropped[d]));
    return json_pack ("{s:o?, s:o?, s:o?, s:o}", "start", u64_array (sel->start, sel->ndims),
                      "step", u64_array (sel->step, sel->ndims), "count",
                      u64_array (sel->count, sel->ndims), "drop", drop);
}

/* Read JSON array member KEY of j into v (ndims non-negative integers). */
static int get_u64_array (const json_t *j, const char *key, int ndims, uint64_t *v,
                          fs_error_t *err)
{
    json_t *a = json_object_get (j, key);
    if (!json_is_array (a))
        return errprintf (err, FS_EINVAL, "selection: '%s' must be an array", key);
    if (json_array_size (a) != (size_t)ndims)
        return errprintf (err, FS_EINVAL, "selection: '%s' has %zu entries, the dataset has %d "
                          "dimensions", key, json_array_size (a), ndims);
    for (int d = 0; d < ndims; d++) {
        json_t *x = json_array_get (a, (size_t)d);
        if (!json_is_integer (x) || json_integer_value (x) < 0)
            return errprintf (err, FS_EINVAL, "selection: '%s'[%d] must be a non-negative "
                              "integer", key, d);
        v[d] = (uint64_t)json_integer_value (x);
    }
    return 0;
}

int sel_from_json (const json_t *j, int ndims, const uint64_t *shape, fs_sel_t *out,
                   fs_error_t *err)
{
    fs_sel_t o;

    if (ndims < 0 || ndims > FS_MAXDIMS)
        return errprintf (err, FS_EINVAL, "selection: dataset rank %d is not supported", ndims);
    if (!json_is_object (j))
        return errprintf (err, FS_EINVAL, "selection must be an object "
                          "{start, step, count, drop}");
    memset (&o, 0, sizeof (o));
    o.ndims = ndims;
    if (get_u64_array (j, "start", ndims, o.start, err) < 0
        || get_u64_array (j, "step", ndims, o.step, err) < 0
        || get_u64_array (j, "count", ndims, o.count, err) < 0)
        return -1;
    json_t *drop = json_object_get (j, "drop");
    if (!json_is_array (drop))
        return errprintf (err, FS_EINVAL, "selection: 'drop' must be an array");
    if (json_array_size (drop) != (size_t)ndims)
        return errprintf (err, FS_EINVAL, "selection: 'drop' has %zu entries, the dataset has %d "
                          "dimensions", json_array_size (drop), ndims);
    for (int d = 0; d < ndims; d++) {
        json_t *x = json_array_get (drop, (size_t)d);
        if (!json_is_boolean (x))
            return errprintf (err, FS_EINVAL, "selection: 'drop'[%d] must be a boolean", d);
        o.dropped[d] = json_is_true (x);
    }
    for (int d = 0; d < ndims; d++) {
        uint64_t len = shape[d];
        if (o.step[d] < 1)
            return errprintf (err, FS_EINVAL, "selection: step %llu along dimension %d must be "
                              "at least 1", (unsigned long long)o.step[d], d);
        if (o.dropped[d] && o.count[d] != 1)
            return errprintf (err, FS_EINVAL, "selection: dimension %d is dropped but its count "
                              "is %llu, not 1", d, (unsigned long long)o.count[d]);
        if (o.count[d] == 0) {
            if (o.start[d] > len)
                return errprintf (err, FS_EINVAL, "selection: start %llu along dimension %d is "
                                  "beyond its size %llu", (unsigned long long)o.start[d], d,
                                  (unsigned long long)len);
            continue;
        }
        /* last = start + (count-1)*step must be < len, computed without overflow */
        if (o.start[d] >= len || (o.count[d] - 1) > (len - 1 - o.start[d]) / o.step[d])
            return errprintf (err, FS_EINVAL, "selection: start %llu, step %llu, count %llu "
                              "along dimension %d go outside its size %llu",
                              (unsigned long long)o.start[d], (unsigned long long)o.step[d],
                              (unsigned long long)o.count[d], d, (unsigned long long)len);
    }
    if (sel_nelems (&o) == UINT64_MAX)
        return errprintf (err, FS_EINVAL, "selection: number of elements does not fit in 64 "
                          "bits");
    *out = o;
    return 0;
}

json_t *reduce_to_json (const fs_reduce_t *r)
{
    if (!r || r->op == RED_NONE)
        return json_null ();
    return json_pack ("{s:s, s:o?}", "op", reduce_op_name (r->op), "block",
                      u64_array (r->block, r->nblock));
}

int reduce_from_json (const json_t *j, fs_reduce_t *out, fs_error_t *err)
{
    fs_reduce_t r;

    memset (&r, 0, sizeof (r));
    if (!j || json_is_null (j)) {
        *out = r;
        return 0;
    }
    if (!json_is_object (j))
        return errprintf (err, FS_EINVAL, "reduce must be null or an object {op, block}");
    json_t *op = json_object_get (j, "op");
    if (!json_is_string (op))
        return errprintf (err, FS_EINVAL, "reduce: 'op' must be a string");
    const char *s = json_string_value (op);
    r.op = redop_lookup (s, strlen (s));
    if (r.op == RED_NONE)
        return errprintf (err, FS_EINVAL, "reduce: unknown operation '%.40s': use mean, sum, "
                          "min or max", s);
    json_t *block = json_object_get (j, "block");
    if (!json_is_array (block))
        return errprintf (err, FS_EINVAL, "reduce: 'block' must be an array");
    size_t n = json_array_size (block);
    if (n < 1 || n > FS_MAXDIMS)
        return errprintf (err, FS_EINVAL, "reduce: 'block' has %zu entries: 1 to %d allowed", n,
                          FS_MAXDIMS);
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_array_get (block, i);
        if (!json_is_integer (x) || json_integer_value (x) < 1)
            return errprintf (err, FS_EINVAL, "reduce: 'block'[%zu] must be an integer >= 1", i);
        r.block[i] = (uint64_t)json_integer_value (x);
    }
    r.nblock = (int)n;
    *out = r;
    return 0;
}
