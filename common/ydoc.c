/* ydoc.c - YAML documents as a tree with line:column marks, on libyaml.
 *
 * The loader consumes libyaml's event stream (yaml_parser_parse) and builds
 * the tree itself, so that every refusal can be made as the offending event
 * arrives, with its mark:
 *
 *   - aliases and anchors (no graph-shaped documents, no "billion laughs");
 *   - tags other than the core ones (!!str, !!int, !!float, !!bool, !!null on
 *     scalars, !!seq on sequences, !!map on mappings) and %TAG directives;
 *   - a second document in the stream;
 *   - mapping keys that are not scalars, and duplicate keys (found with a
 *     string map per open mapping, so a large mapping costs O(n));
 *   - nesting over max_depth (libyaml has no limit of its own: the depth is
 *     counted here as collections open);
 *   - scalars holding a NUL character ("\0" in a double-quoted string), which
 *     could not round-trip through the NUL-terminated value;
 *   - input over max_bytes, refused before libyaml sees it.
 *
 * Collections are attached to their parent when they open, so the partial
 * tree is always reachable from the root and one ydoc_free() cleans up after
 * any error.  libyaml's marks are 0-based; the tree's are 1-based.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "errlist.h"
#include "strmap.h"
#include "units.h"
#include "ydoc.h"

#define YDOC_DEFAULT_MAX_BYTES (1024 * 1024)
#define YDOC_DEFAULT_MAX_DEPTH 32

/* ------------------------------------------------------------------ */
/* Messages */

static int verr_at (fs_error_t *err, const char *file, int line, int col, const char *what,
                    const char *fmt, va_list ap)
{
    char msg[900];
    vsnprintf (msg, sizeof (msg), fmt, ap);
    if (what && *what)
        return errprintf (err, FS_EINVAL, "%s:%d:%d: %s: %s", file, line, col, what, msg);
    return errprintf (err, FS_EINVAL, "%s:%d:%d: %s", file, line, col, msg);
}

static int err_at (fs_error_t *err, const char *file, int line, int col, const char *fmt, ...)
    __attribute__ ((format (printf, 5, 6)));
static int err_at (fs_error_t *err, const char *file, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    verr_at (err, file, line, col, NULL, fmt, ap);
    va_end (ap);
    return -1;
}

/* "FILE:LINE:COL: WHAT: message" at node n (or "FILE: WHAT: message" if n is NULL). */
static int node_err (const char *file, const struct ynode *n, const char *what, fs_error_t *err,
                     const char *fmt, ...) __attribute__ ((format (printf, 5, 6)));
static int node_err (const char *file, const struct ynode *n, const char *what, fs_error_t *err,
                     const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    if (n)
        verr_at (err, file, n->line, n->col, what, fmt, ap);
    else {
        char msg[900];
        vsnprintf (msg, sizeof (msg), fmt, ap);
        if (what && *what)
            errprintf (err, FS_EINVAL, "%s: %s: %s", file, what, msg);
        else
            errprintf (err, FS_EINVAL, "%s: %s", file, msg);
    }
    va_end (ap);
    return -1;
}

/* 1-based line and column (in characters) of byte offset off in text. */
static void offset_to_linecol (const char *text, size_t len, size_t off, int *line, int *col)
{
    int l = 1, c = 1;
    if (off > len)
        off = len;
    for (size_t i = 0; i < off; i++) {
        unsigned char ch = (unsigned char) text[i];
        if (ch == '\n') {
            l++;
            c = 1;
        }
        else if ((ch & 0xc0) != 0x80)
            c++;
    }
    *line = l;
    *col = c;
}

/* ------------------------------------------------------------------ */
/* Tree */

static struct ynode *node_new (ynode_type_t type, const yaml_mark_t *m)
{
    struct ynode *n = calloc (1, sizeof (*n));
    if (!n)
        return NULL;
    n->type = type;
    n->line = (int) (m->line < INT32_MAX ? m->line + 1 : INT32_MAX);
    n->col = (int) (m->column < INT32_MAX ? m->column + 1 : INT32_MAX);
    return n;
}

void ydoc_free (struct ynode *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++) {
        if (n->items)
            ydoc_free (n->items[i]);
        if (n->keys)
            ydoc_free (n->keys[i]);
    }
    free (n->items);
    free (n->keys);
    free (n->value);
    free (n);
}

/* One open collection. */
struct frame {
    struct ynode *node;
    size_t cap;                 /* allocated items (and keys) */
    struct ynode *key;          /* MAP: key waiting for its value (owned) */
    struct strmap *index;       /* MAP: key -> its index (NULL until the first key) */
};

struct loader {
    const char *name;
    fs_error_t *err;
    int max_depth;
    struct ynode *root;
    struct frame *stack;
    int depth;                  /* frames in use */
    int cap;                    /* frames allocated (grows up to max_depth) */
    int ndocs;
};

/* Index of key s in the frame's mapping, or -1. */
static long frame_find (const struct frame *f, const char *s)
{
    return f->index ? (long) strmap_get (f->index, s) : -1;
}

static int frame_index_add (struct frame *f, size_t idx)
{
    if (!f->index && !(f->index = strmap_create (0)))
        return -1;
    return strmap_put (f->index, f->node->keys[idx]->value, (int64_t) idx);
}

static int oom (struct loader *ld)
{
    return errprintf (ld->err, FS_EFAIL, "%s: out of memory", ld->name);
}

/* Give node n (owned) to the innermost open collection, or make it the root. */
static int attach (struct loader *ld, struct ynode *n)
{
    if (ld->depth == 0) {
        ld->root = n;
        return 0;
    }
    struct frame *f = &ld->stack[ld->depth - 1];
    struct ynode *p = f->node;

    if (p->type == YNODE_MAP && !f->key) {
        if (n->type != YNODE_SCALAR) {
            err_at (ld->err, ld->name, n->line, n->col, "mapping keys must be scalars, not %s",
                    n->type == YNODE_MAP ? "mappings" : "sequences");
            ydoc_free (n);
            return -1;
        }
        long dup = frame_find (f, n->value);
        if (dup >= 0) {
            char q[80];
            const struct ynode *first = p->keys[dup];
            err_at (ld->err, ld->name, n->line, n->col,
                    "duplicate key '%s' (first at line %d, column %d)",
                    errquote (n->value, q, sizeof (q)), first->line, first->col);
            ydoc_free (n);
            return -1;
        }
        f->key = n;
        return 0;
    }
    if (p->n == f->cap) {
        size_t nc = f->cap ? f->cap * 2 : 4;
        struct ynode **items = realloc (p->items, nc * sizeof (*items));
        if (!items)
            goto nomem;
        p->items = items;
        if (p->type == YNODE_MAP) {
            struct ynode **keys = realloc (p->keys, nc * sizeof (*keys));
            if (!keys)
                goto nomem;
            p->keys = keys;
        }
        f->cap = nc;
    }
    if (p->type == YNODE_MAP) {
        p->keys[p->n] = f->key;
        f->key = NULL;
        p->items[p->n] = n;
        p->n++;
        if (frame_index_add (f, p->n - 1) < 0)
            return oom (ld);
    }
    else
        p->items[p->n++] = n;
    return 0;
nomem:
    ydoc_free (n);
    return oom (ld);
}

static int check_anchor_tag (struct loader *ld, const yaml_event_t *ev, const yaml_char_t *anchor,
                             const yaml_char_t *tag, ynode_type_t type, bool *is_str)
{
    int line = (int) ev->start_mark.line + 1, col = (int) ev->start_mark.column + 1;
    char q[80];
    if (anchor)
        return err_at (ld->err, ld->name, line, col, "anchors are not allowed (&%s)",
                       errquote ((const char *) anchor, q, sizeof (q)));
    if (!tag)
        return 0;
    static const char core[] = "tag:yaml.org,2002:";
    const char *t = (const char *) tag;
    if (strncmp (t, core, sizeof (core) - 1) == 0) {
        const char *k = t + sizeof (core) - 1;
        bool ok, known = !strcmp (k, "str") || !strcmp (k, "int") || !strcmp (k, "float")
                         || !strcmp (k, "bool") || !strcmp (k, "null") || !strcmp (k, "seq")
                         || !strcmp (k, "map");
        switch (type) {
        case YNODE_SCALAR:
            ok = !strcmp (k, "str") || !strcmp (k, "int") || !strcmp (k, "float")
                 || !strcmp (k, "bool") || !strcmp (k, "null");
            if (is_str)
                *is_str = !strcmp (k, "str");
            break;
        case YNODE_SEQ:
            ok = !strcmp (k, "seq");
            break;
        default:
            ok = !strcmp (k, "map");
            break;
        }
        if (ok)
            return 0;
        if (known)
            return err_at (ld->err, ld->name, line, col, "tag !!%s is not allowed on a %s", k,
                           type == YNODE_SCALAR ? "scalar"
                           : type == YNODE_SEQ ? "sequence" : "mapping");
        return err_at (ld->err, ld->name, line, col, "tags are not allowed (!!%s); only !!str, "
                       "!!int, !!float, !!bool, !!null, !!seq and !!map",
                       errquote (k, q, sizeof (q)));
    }
    return err_at (ld->err, ld->name, line, col,
                   "tags are not allowed (%s); only !!str, !!int, !!float, !!bool, !!null, "
                   "!!seq and !!map", errquote (t, q, sizeof (q)));
}

static int on_scalar (struct loader *ld, const yaml_event_t *ev)
{
    const yaml_char_t *anchor = ev->data.scalar.anchor, *tag = ev->data.scalar.tag;
    bool is_str = false;
    if (check_anchor_tag (ld, ev, anchor, tag, YNODE_SCALAR, &is_str) < 0)
        return -1;
    size_t len = ev->data.scalar.length;
    if (memchr (ev->data.scalar.value, '\0', len))
        return err_at (ld->err, ld->name, (int) ev->start_mark.line + 1,
                       (int) ev->start_mark.column + 1, "NUL characters are not allowed in scalars");
    struct ynode *n = node_new (YNODE_SCALAR, &ev->start_mark);
    if (!n || !(n->value = malloc (len + 1))) {
        free (n);
        return oom (ld);
    }
    memcpy (n->value, ev->data.scalar.value, len);
    n->value[len] = '\0';
    n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || is_str;
    return attach (ld, n);
}

static int on_collection_start (struct loader *ld, const yaml_event_t *ev, ynode_type_t type)
{
    const yaml_char_t *anchor, *tag;
    if (type == YNODE_SEQ) {
        anchor = ev->data.sequence_start.anchor;
        tag = ev->data.sequence_start.tag;
    }
    else {
        anchor = ev->data.mapping_start.anchor;
        tag = ev->data.mapping_start.tag;
    }
    if (check_anchor_tag (ld, ev, anchor, tag, type, NULL) < 0)
        return -1;
    if (ld->depth >= ld->max_depth)
        return err_at (ld->err, ld->name, (int) ev->start_mark.line + 1,
                       (int) ev->start_mark.column + 1, "nesting deeper than %d levels",
                       ld->max_depth);
    if (ld->depth == ld->cap) {
        int nc = ld->cap ? ld->cap * 2 : 16;
        if (nc > ld->max_depth)
            nc = ld->max_depth;
        struct frame *st = realloc (ld->stack, (size_t) nc * sizeof (*st));
        if (!st)
            return oom (ld);
        ld->stack = st;
        ld->cap = nc;
    }
    struct ynode *n = node_new (type, &ev->start_mark);
    if (!n)
        return oom (ld);
    if (attach (ld, n) < 0)
        return -1;
    struct frame *f = &ld->stack[ld->depth++];
    memset (f, 0, sizeof (*f));
    f->node = n;
    return 0;
}

static void frame_release (struct frame *f)
{
    ydoc_free (f->key);
    strmap_destroy (f->index);
    memset (f, 0, sizeof (*f));
}

static void on_collection_end (struct loader *ld)
{
    if (ld->depth > 0)
        frame_release (&ld->stack[--ld->depth]);
}

/* libyaml stops at a tab where YAML wants spaces (indentation, after "- ")
 * with words about tokens.  True when the character at line:*col, or one
 * before it on that line, is a tab; *col is then the column of the first. */
static bool tab_at (const char *text, size_t len, int line, int *col)
{
    size_t i = 0;
    for (int l = 1; l < line && i < len; i++)
        if (text[i] == '\n')
            l++;
    for (int c = 1; i < len && text[i] != '\n' && c <= *col; i++) {
        if (text[i] == '\t') {
            *col = c;
            return true;
        }
        if (((unsigned char) text[i] & 0xc0) != 0x80)
            c++;
    }
    return false;
}

static int parser_error (struct loader *ld, yaml_parser_t *p, const char *text, size_t len)
{
    int line, col;
    const char *problem = p->problem ? p->problem : "invalid YAML";
    switch (p->error) {
    case YAML_MEMORY_ERROR:
        return oom (ld);
    case YAML_READER_ERROR:
        offset_to_linecol (text, len, p->problem_offset, &line, &col);
        if (p->problem_value != -1)
            return err_at (ld->err, ld->name, line, col, "%s (byte 0x%02x)", problem,
                           (unsigned) p->problem_value & 0xff);
        return err_at (ld->err, ld->name, line, col, "%s", problem);
    default:
        line = (int) p->problem_mark.line + 1;
        col = (int) p->problem_mark.column + 1;
        if (tab_at (text, len, line, &col))
            return err_at (ld->err, ld->name, line, col, "tabs are not allowed in YAML, use "
                           "spaces");
        if (p->context)
            return err_at (ld->err, ld->name, line, col, "%s (%s at line %d, column %d)", problem,
                           p->context, (int) p->context_mark.line + 1,
                           (int) p->context_mark.column + 1);
        return err_at (ld->err, ld->name, line, col, "%s", problem);
    }
}

struct ynode *ydoc_load_string (const char *name, const char *text, size_t len,
                                const struct ydoc_limits *lim, fs_error_t *err)
{
    size_t max_bytes = lim && lim->max_bytes ? lim->max_bytes : YDOC_DEFAULT_MAX_BYTES;
    int max_depth = lim && lim->max_depth > 0 ? lim->max_depth : YDOC_DEFAULT_MAX_DEPTH;
    if (!name)
        name = "<string>";
    if (!text && len) {
        errprintf (err, FS_EINVAL, "%s: no text", name);
        return NULL;
    }
    if (len > max_bytes) {
        int line, col;
        offset_to_linecol (text, len, max_bytes, &line, &col);
        err_at (err, name, line, col, "document is larger than the limit of %zu bytes",
                max_bytes);
        return NULL;
    }

    struct loader ld = { .name = name, .err = err, .max_depth = max_depth };
    yaml_parser_t parser;
    if (!yaml_parser_initialize (&parser)) {
        oom (&ld);
        return NULL;
    }
    yaml_parser_set_input_string (&parser, (const unsigned char *) (text ? text : ""), len);
    yaml_parser_set_encoding (&parser, YAML_UTF8_ENCODING);

    int rc = 0;
    bool done = false;
    while (!done && rc == 0) {
        yaml_event_t ev;
        if (!yaml_parser_parse (&parser, &ev)) {
            rc = parser_error (&ld, &parser, text, len);
            break;
        }
        int line = (int) ev.start_mark.line + 1, col = (int) ev.start_mark.column + 1;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++ld.ndocs > 1)
                rc = err_at (err, name, line, col,
                             "only one document is allowed (found a second one)");
            else if (ev.data.document_start.tag_directives.start
                     != ev.data.document_start.tag_directives.end)
                rc = err_at (err, name, line, col, "%%TAG directives are not allowed");
            break;
        case YAML_ALIAS_EVENT: {
            char q[80];
            rc = err_at (err, name, line, col, "aliases are not allowed (*%s)",
                         errquote ((const char *) ev.data.alias.anchor, q, sizeof (q)));
            break;
        }
        case YAML_SCALAR_EVENT:
            rc = on_scalar (&ld, &ev);
            break;
        case YAML_SEQUENCE_START_EVENT:
            rc = on_collection_start (&ld, &ev, YNODE_SEQ);
            break;
        case YAML_MAPPING_START_EVENT:
            rc = on_collection_start (&ld, &ev, YNODE_MAP);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            on_collection_end (&ld);
            break;
        default:        /* stream start, document end */
            break;
        }
        yaml_event_delete (&ev);
    }
    yaml_parser_delete (&parser);
    while (ld.depth > 0)
        frame_release (&ld.stack[--ld.depth]);
    free (ld.stack);
    if (rc < 0) {
        ydoc_free (ld.root);
        return NULL;
    }

    /* An empty document (no document, or "---" alone / a bare null) is an empty mapping. */
    struct ynode *r = ld.root;
    if (r && r->type == YNODE_SCALAR && !r->quoted
        && (!r->value[0] || !strcmp (r->value, "~") || !strcmp (r->value, "null"))) {
        r->type = YNODE_MAP;
        free (r->value);
        r->value = NULL;
    }
    if (!r) {
        yaml_mark_t m = { 0, 0, 0 };
        if (!(r = node_new (YNODE_MAP, &m))) {
            oom (&ld);
            return NULL;
        }
    }
    return r;
}

struct ynode *ydoc_load_file (const char *file, const struct ydoc_limits *lim, fs_error_t *err)
{
    size_t max_bytes = lim && lim->max_bytes ? lim->max_bytes : YDOC_DEFAULT_MAX_BYTES;
    FILE *fp = fopen (file, "rb");
    if (!fp) {
        errprintf (err, FS_EFAIL, "%s: cannot open: %s", file, strerror (errno));
        return NULL;
    }
    size_t cap = 0, len = 0;
    char *buf = NULL;
    /* Read at most max_bytes + 1 bytes: enough to know the file is too large. */
    for (;;) {
        if (len == cap) {
            size_t nc = cap ? cap * 2 : 16384;
            if (nc > max_bytes + 1)
                nc = max_bytes + 1;
            if (nc <= cap)
                break;
            char *nb = realloc (buf, nc);
            if (!nb) {
                free (buf);
                fclose (fp);
                errprintf (err, FS_EFAIL, "%s: out of memory", file);
                return NULL;
            }
            buf = nb;
            cap = nc;
        }
        size_t got = fread (buf + len, 1, cap - len, fp);
        len += got;
        if (got == 0) {
            if (ferror (fp)) {
                int e = errno;
                free (buf);
                fclose (fp);
                errprintf (err, FS_EFAIL, "%s: cannot read: %s", file, strerror (e ? e : EIO));
                return NULL;
            }
            break;
        }
    }
    fclose (fp);
    struct ynode *root = ydoc_load_string (file, buf, len, lim, err);
    free (buf);
    return root;
}

/* ------------------------------------------------------------------ */
/* Node helpers */

struct ynode *ynode_get (const struct ynode *map, const char *key)
{
    if (!map || map->type != YNODE_MAP || !key)
        return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (map->keys[i]->value && strcmp (map->keys[i]->value, key) == 0)
            return map->items[i];
    return NULL;
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

/* Every key of map not in allowed: each an error into errs (all of them), or
 * the first into err (errs NULL).  Returns how many, or -1 when map is not a
 * mapping (reported likewise). */
static int check_keys (const char *file, const struct ynode *map, const char *what,
                       const char *const *allowed, struct errlist *errs, fs_error_t *err)
{
    fs_error_t e;
    if (!map)
        return 0;
    if (map->type != YNODE_MAP) {
        node_err (file, map, what, &e, "expected a mapping, found %s", type_name (map));
        if (errs)
            errlist_push (errs, e.code, map->line, map->col, e.text);
        else if (err)
            *err = e;
        return -1;
    }
    int bad = 0;
    for (size_t i = 0; i < map->n; i++) {
        const char *k = map->keys[i]->value;
        bool ok = false;
        for (const char *const *a = allowed; a && *a; a++)
            if (strcmp (*a, k) == 0) {
                ok = true;
                break;
            }
        if (ok)
            continue;
        char list[600] = "", q[80];
        size_t o = 0;
        for (const char *const *a = allowed; a && *a && o < sizeof (list); a++)
            o += (size_t) snprintf (list + o, sizeof (list) - o, "%s%s", a == allowed ? "" : ", ",
                                    *a);
        if (!list[0])
            node_err (file, map->keys[i], what, &e, "unknown key '%s' (no keys allowed)",
                      errquote (k, q, sizeof (q)));
        else
            node_err (file, map->keys[i], what, &e, "unknown key '%s' (allowed: %s)",
                      errquote (k, q, sizeof (q)), list);
        bad++;
        if (!errs) {
            if (err)
                *err = e;
            return bad;
        }
        errlist_push (errs, e.code, map->keys[i]->line, map->keys[i]->col, e.text);
    }
    return bad;
}

int ynode_check_keys (const char *file, const struct ynode *map, const char *what,
                      const char *const *allowed, fs_error_t *err)
{
    return check_keys (file, map, what, allowed, NULL, err) != 0 ? -1 : 0;
}

int ynode_check_keys_all (const char *file, const struct ynode *map, const char *what,
                          const char *const *allowed, struct errlist *errs)
{
    return check_keys (file, map, what, allowed, errs, NULL);
}

int ynode_error (const char *file, const struct ynode *n, fs_error_t *err, const char *fmt, ...)
{
    char msg[900];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (msg, sizeof (msg), fmt, ap);
    va_end (ap);
    return node_err (file, n, NULL, err, "%s", msg);
}

static int want_scalar (const char *file, const struct ynode *n, const char *what, const char *kind,
                        fs_error_t *err)
{
    if (!n)
        return node_err (file, NULL, what, err, "missing %s", kind);
    if (n->type != YNODE_SCALAR)
        return node_err (file, n, what, err, "expected %s, found %s", kind, type_name (n));
    return 0;
}

int ynode_string (const char *file, const struct ynode *n, const char *what, char *buf,
                  size_t bufsz, fs_error_t *err)
{
    if (want_scalar (file, n, what, "a string", err) < 0)
        return -1;
    size_t len = strlen (n->value);
    if (len >= bufsz)
        return node_err (file, n, what, err, "too long (%zu bytes, at most %zu)", len,
                         bufsz ? bufsz - 1 : 0);
    memcpy (buf, n->value, len + 1);
    return 0;
}

/* Parse a YAML 1.2 core integer: [-+]?[0-9]+ | 0x[0-9a-fA-F]+ | 0o[0-7]+. */
static int parse_int64 (const char *s, int64_t *out, bool *overflow)
{
    *overflow = false;
    bool neg = false;
    const char *p = s;
    int base = 10;
    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    else if (p[0] == '0' && (p[1] == 'x' || p[1] == 'o')) {
        base = p[1] == 'x' ? 16 : 8;
        p += 2;
    }
    if (!*p)
        return -1;
    uint64_t v = 0;
    for (; *p; p++) {
        int d;
        if (*p >= '0' && *p <= '9')
            d = *p - '0';
        else if (base == 16 && isxdigit ((unsigned char) *p))
            d = tolower ((unsigned char) *p) - 'a' + 10;
        else
            return -1;
        if (d >= base)
            return -1;
        if (v > (UINT64_MAX - (uint64_t) d) / (uint64_t) base)
            *overflow = true;
        else
            v = v * (uint64_t) base + (uint64_t) d;
    }
    if (*overflow)
        return 0;
    if (neg) {
        if (v > (uint64_t) INT64_MAX + 1)
            *overflow = true;
        else
            *out = v == (uint64_t) INT64_MAX + 1 ? INT64_MIN : -(int64_t) v;
    }
    else if (v > (uint64_t) INT64_MAX)
        *overflow = true;
    else
        *out = (int64_t) v;
    return 0;
}

int ynode_int (const char *file, const struct ynode *n, const char *what, int64_t min,
               int64_t max, int64_t *out, fs_error_t *err)
{
    char q[80];
    if (want_scalar (file, n, what, "an integer", err) < 0)
        return -1;
    if (n->quoted)
        return node_err (file, n, what, err, "expected an integer, found the string \"%s\"",
                         errquote (n->value, q, sizeof (q)));
    int64_t v = 0;
    bool overflow;
    if (parse_int64 (n->value, &v, &overflow) < 0)
        return node_err (file, n, what, err, "expected an integer, found '%s'",
                         errquote (n->value, q, sizeof (q)));
    if (overflow || v < min || v > max) {
        errquote (n->value, q, sizeof (q));
        if (max == INT64_MAX && min != INT64_MIN)
            return node_err (file, n, what, err, "%s is out of range (at least %" PRId64 ")", q,
                             min);
        if (min == INT64_MIN && max != INT64_MAX)
            return node_err (file, n, what, err, "%s is out of range (at most %" PRId64 ")", q,
                             max);
        if (min == INT64_MIN)
            return node_err (file, n, what, err, "%s is out of range for a 64-bit integer", q);
        return node_err (file, n, what, err, "%s is out of range (%" PRId64 "..%" PRId64 ")", q,
                         min, max);
    }
    *out = v;
    return 0;
}

int ynode_bool (const char *file, const struct ynode *n, const char *what, bool *out, fs_error_t *err)
{
    char q[80];
    if (want_scalar (file, n, what, "true or false", err) < 0)
        return -1;
    const char *v = n->value;
    if (!n->quoted) {
        if (!strcmp (v, "true") || !strcmp (v, "True") || !strcmp (v, "TRUE")) {
            *out = true;
            return 0;
        }
        if (!strcmp (v, "false") || !strcmp (v, "False") || !strcmp (v, "FALSE")) {
            *out = false;
            return 0;
        }
    }
    return node_err (file, n, what, err, "expected true or false, found %s'%s'",
                     n->quoted ? "the string " : "", errquote (v, q, sizeof (q)));
}

static int ynode_parse (const char *file, const struct ynode *n, const char *what,
                        const char *kind, int (*parse) (const char *, void *, fs_error_t *),
                        void *out, fs_error_t *err)
{
    if (want_scalar (file, n, what, kind, err) < 0)
        return -1;
    fs_error_t e = { 0, "" };
    if (parse (n->value, out, &e) < 0)
        return node_err (file, n, what, err, "%s", e.text);
    return 0;
}

static int parse_duration_v (const char *s, void *out, fs_error_t *err)
{
    return parse_duration (s, out, err);
}
static int parse_rate_v (const char *s, void *out, fs_error_t *err)
{
    return parse_rate (s, out, err);
}
static int parse_size_v (const char *s, void *out, fs_error_t *err)
{
    return parse_size (s, out, err);
}

int ynode_duration (const char *file, const struct ynode *n, const char *what, double *seconds,
                    fs_error_t *err)
{
    return ynode_parse (file, n, what, "a duration", parse_duration_v, seconds, err);
}

int ynode_rate (const char *file, const struct ynode *n, const char *what, double *bytes_per_s,
                fs_error_t *err)
{
    return ynode_parse (file, n, what, "a rate", parse_rate_v, bytes_per_s, err);
}

int ynode_size (const char *file, const struct ynode *n, const char *what, uint64_t *bytes,
                fs_error_t *err)
{
    return ynode_parse (file, n, what, "a size", parse_size_v, bytes, err);
}
