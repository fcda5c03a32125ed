/* fuzz_ydoc.c - libFuzzer harness for common/ydoc.h (YAML into a marked tree).
 *
 * Input: a YAML document.  When the first byte is a control character below
 * 0x08 it is not part of the document but picks small limits instead, so the
 * limit paths are reached: max_depth 1 + (b & 3), and max_bytes half the
 * document when b & 4.
 *
 * Invariants checked:
 *   - a failure gives NULL, FS_EINVAL (FS_EFAIL only for out of memory) and a
 *     message that starts with the document's name;
 *   - the tree: 1-based marks, scalars hold NUL-free text, mapping keys are
 *     unique scalars that ynode_get() finds, nesting within max_depth;
 *   - the tree emitted back as flow-style YAML (every scalar double-quoted
 *     and escaped) loads to the same tree;
 *   - the typed accessors (ynode_int, _bool, _string, _duration, _rate,
 *     _size, _check_keys) either succeed or fail with "NAME:LINE:COL: ...".
 * Everything is freed (LeakSanitizer runs after each input).
 */
#include <inttypes.h>
#include <math.h>

#include "fuzz_util.h"
#include "common/ydoc.h"

#define NAME "fuzz.yaml"

static void check_err_prefix (const fs_error_t *e, const char *what)
{
    FUZZ_CHECK (e->code == FS_EINVAL, "%s: code %d (%s)", what, e->code, e->text);
    FUZZ_CHECK (strncmp (e->text, NAME ":", strlen (NAME ":")) == 0,
                "%s: message does not start with the file name: %s", what, e->text);
}

static int cmp_str (const void *a, const void *b)
{
    return strcmp (*(const char *const *)a, *(const char *const *)b);
}

/* Structure, and the accessors on every node. */
static void walk (const struct ynode *n, int depth, int max_depth)
{
    FUZZ_CHECK (n->line >= 1 && n->col >= 1, "mark %d:%d", n->line, n->col);
    fs_error_t e;
    switch (n->type) {
    case YNODE_SCALAR: {
        FUZZ_CHECK (n->value != NULL, "scalar without text");
        FUZZ_CHECK (n->n == 0 && !n->items && !n->keys, "scalar with children");
        int64_t i;
        bool b;
        double d;
        uint64_t u;
        char buf[16];
        memset (&e, 0, sizeof (e));
        if (ynode_int (NAME, n, "i", INT64_MIN, INT64_MAX, &i, &e) < 0)
            check_err_prefix (&e, "ynode_int");
        memset (&e, 0, sizeof (e));
        if (ynode_int (NAME, n, "i", -5, 1000, &i, &e) < 0)
            check_err_prefix (&e, "ynode_int");
        else
            FUZZ_CHECK (i >= -5 && i <= 1000, "ynode_int out of its range: %" PRId64, i);
        memset (&e, 0, sizeof (e));
        if (ynode_bool (NAME, n, "b", &b, &e) < 0)
            check_err_prefix (&e, "ynode_bool");
        memset (&e, 0, sizeof (e));
        if (ynode_string (NAME, n, "s", buf, sizeof (buf), &e) < 0)
            check_err_prefix (&e, "ynode_string");
        else
            FUZZ_CHECK (strcmp (buf, n->value) == 0, "ynode_string copy differs");
        memset (&e, 0, sizeof (e));
        if (ynode_duration (NAME, n, "t", &d, &e) < 0)
            check_err_prefix (&e, "ynode_duration");
        else
            FUZZ_CHECK (isfinite (d) && d >= 0, "duration %g", d);
        memset (&e, 0, sizeof (e));
        if (ynode_rate (NAME, n, "r", &d, &e) < 0)
            check_err_prefix (&e, "ynode_rate");
        else
            FUZZ_CHECK (isfinite (d) && d > 0, "rate %g", d);
        memset (&e, 0, sizeof (e));
        if (ynode_size (NAME, n, "z", &u, &e) < 0)
            check_err_prefix (&e, "ynode_size");
        FUZZ_CHECK (ynode_get (n, "a") == NULL, "ynode_get on a scalar");
        break;
    }
    case YNODE_SEQ:
        FUZZ_CHECK (depth <= max_depth, "depth %d over the limit %d", depth, max_depth);
        FUZZ_CHECK (!n->value && !n->keys && (n->n == 0 || n->items), "sequence shape");
        for (size_t i = 0; i < n->n; i++)
            walk (n->items[i], depth + 1, max_depth);
        break;
    case YNODE_MAP: {
        FUZZ_CHECK (depth <= max_depth, "depth %d over the limit %d", depth, max_depth);
        FUZZ_CHECK (!n->value && (n->n == 0 || (n->items && n->keys)), "mapping shape");
        const char **ks = n->n ? malloc (n->n * sizeof (*ks)) : NULL;
        for (size_t i = 0; i < n->n; i++) {
            FUZZ_CHECK (n->keys[i] && n->keys[i]->type == YNODE_SCALAR, "key %zu not a scalar", i);
            ks[i] = n->keys[i]->value;
            walk (n->keys[i], depth + 1, max_depth);
            FUZZ_CHECK (ynode_get (n, ks[i]) == n->items[i], "ynode_get misses key %zu", i);
            walk (n->items[i], depth + 1, max_depth);
        }
        if (n->n > 1) {
            qsort (ks, n->n, sizeof (*ks), cmp_str);
            for (size_t i = 1; i < n->n; i++)
                FUZZ_CHECK (strcmp (ks[i - 1], ks[i]) != 0, "duplicate key '%s'", ks[i]);
        }
        free (ks);
        static const char *const allowed[] = { "name", "version", "tasks", NULL };
        memset (&e, 0, sizeof (e));
        if (ynode_check_keys (NAME, n, "m", allowed, &e) < 0)
            check_err_prefix (&e, "ynode_check_keys");
        break;
    }
    default:
        FUZZ_CHECK (0, "node type %d", (int)n->type);
    }
    memset (&e, 0, sizeof (e));
    FUZZ_CHECK (ynode_error (NAME, n, &e, "x %d", 1) == -1, "ynode_error");
    check_err_prefix (&e, "ynode_error");
}

/* ---- emitting the tree back as YAML ---- */

struct out {
    char *s;
    size_t len, cap;
};

static void put (struct out *o, const char *s, size_t n)
{
    if (o->len + n + 1 > o->cap) {
        size_t nc = o->cap ? o->cap : 256;
        while (o->len + n + 1 > nc)
            nc *= 2;
        char *p = realloc (o->s, nc);
        if (!p)
            abort ();
        o->s = p;
        o->cap = nc;
    }
    memcpy (o->s + o->len, s, n);
    o->len += n;
    o->s[o->len] = '\0';
}

static void puts_ (struct out *o, const char *s)
{
    put (o, s, strlen (s));
}

/* A double-quoted YAML scalar; every byte outside printable ASCII escaped
 * (non-ASCII decoded from UTF-8, which libyaml guarantees, into \UXXXXXXXX). */
static void put_scalar (struct out *o, const char *v)
{
    char esc[16];
    puts_ (o, "\"");
    const unsigned char *p = (const unsigned char *)v;
    while (*p) {
        unsigned c = *p;
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            put (o, (const char *)p, 1);
            p++;
            continue;
        }
        if (c < 0x80) {
            snprintf (esc, sizeof (esc), "\\x%02x", c);
            puts_ (o, esc);
            p++;
            continue;
        }
        int extra = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
        uint32_t cp = c & (0x3f >> extra);
        p++;
        for (int k = 0; k < extra; k++) {
            FUZZ_CHECK ((*p & 0xc0) == 0x80, "scalar is not UTF-8");
            cp = (cp << 6) | (*p & 0x3f);
            p++;
        }
        snprintf (esc, sizeof (esc), "\\U%08" PRIx32, cp);
        puts_ (o, esc);
    }
    puts_ (o, "\"");
}

static void emit (struct out *o, const struct ynode *n)
{
    switch (n->type) {
    case YNODE_SCALAR:
        put_scalar (o, n->value);
        break;
    case YNODE_SEQ:
        puts_ (o, "[");
        for (size_t i = 0; i < n->n; i++) {
            if (i)
                puts_ (o, ", ");
            emit (o, n->items[i]);
        }
        puts_ (o, "]");
        break;
    case YNODE_MAP:
        puts_ (o, "{");
        for (size_t i = 0; i < n->n; i++) {
            if (i)
                puts_ (o, ", ");
            put_scalar (o, n->keys[i]->value);
            puts_ (o, ": ");
            emit (o, n->items[i]);
        }
        puts_ (o, "}");
        break;
    }
}

static bool same_tree (const struct ynode *a, const struct ynode *b)
{
    if (a->type != b->type || a->n != b->n)
        return false;
    if (a->type == YNODE_SCALAR)
        return strcmp (a->value, b->value) == 0;
    for (size_t i = 0; i < a->n; i++) {
        if (a->type == YNODE_MAP && strcmp (a->keys[i]->value, b->keys[i]->value) != 0)
            return false;
        if (!same_tree (a->items[i], b->items[i]))
            return false;
    }
    return true;
}

/* The longest mapping key in the tree, in bytes. */
static size_t longest_key (const struct ynode *n)
{
    size_t m = 0;
    if (!n)
        return 0;
    for (size_t i = 0; n->type != YNODE_SCALAR && i < n->n; i++) {
        if (n->type == YNODE_MAP && n->keys[i] && n->keys[i]->value) {
            size_t k = strlen (n->keys[i]->value);
            if (k > m)
                m = k;
        }
        size_t c = longest_key (n->items[i]);
        if (c > m)
            m = c;
    }
    return m;
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    struct ydoc_limits lim = { 0, 0 };
    int max_depth = 32;
    if (size > 0 && data[0] < 0x08) {
        max_depth = lim.max_depth = 1 + (data[0] & 3);
        if (data[0] & 4)
            lim.max_bytes = (size - 1) / 2 + 1;
        data++;
        size--;
    }
    /* The text handed over is exactly size bytes (no NUL terminator),
     * so reads past the end show up as heap overflows. */
    char *text = malloc (size ? size : 1);
    if (!text)
        abort ();
    if (size)
        memcpy (text, data, size);

    fs_error_t e = { 0, "" };
    struct ynode *root = ydoc_load_string (NAME, text, size, &lim, &e);
    if (!root) {
        FUZZ_CHECK (e.code == FS_EINVAL || e.code == FS_EFAIL, "code %d: %s", e.code, e.text);
        FUZZ_CHECK (strncmp (e.text, NAME, strlen (NAME)) == 0, "message '%s'", e.text);
        FUZZ_CHECK (lim.max_bytes == 0 || size > lim.max_bytes || e.code != FS_EINVAL
                    || strstr (e.text, "larger than the limit") == NULL,
                    "size limit refused a document within it");
    }
    else {
        FUZZ_CHECK (lim.max_bytes == 0 || size <= lim.max_bytes, "a document over max_bytes "
                    "loaded");
        walk (root, 1, max_depth);

        /* YAML limits an implicit key to 1024 characters: a tree with a longer
         * key (as the emitter writes it, escapes included) can't be written back
         * as flow YAML, so the round trip is only checked for the others. */
        if (longest_key (root) > 250) {
            ydoc_free (root);
            free (text);
            return 0;
        }
        struct out o = { 0 };
        emit (&o, root);
        struct ydoc_limits lim2 = { o.len + 1, max_depth };
        fs_error_t e2 = { 0, "" };
        struct ynode *again = ydoc_load_string (NAME, o.s, o.len, &lim2, &e2);
        FUZZ_CHECK (again != NULL, "the tree emitted back does not load: %s\n%s", e2.text, o.s);
        FUZZ_CHECK (same_tree (root, again), "the tree emitted back loads differently:\n%s", o.s);
        ydoc_free (again);
        free (o.s);
        ydoc_free (root);
    }
    free (text);
    return 0;
}
