/* test_ydoc.c - YAML loading with marks, refusals, scalar helpers (the unit
 * parsers themselves: test_units.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ydoc.h"

static fs_error_t err;

static struct ynode *load (const char *text)
{
    memset (&err, 0, sizeof (err));
    return ydoc_load_string ("t.yaml", text, strlen (text), NULL, &err);
}

static struct ynode *load_lim (const char *text, size_t max_bytes, int max_depth)
{
    struct ydoc_limits lim = { max_bytes, max_depth };
    memset (&err, 0, sizeof (err));
    return ydoc_load_string ("t.yaml", text, strlen (text), &lim, &err);
}

/* Loading text fails with FS_EINVAL and a message starting with prefix and
 * containing needle. */
static void expect_reject (const char *text, const char *prefix, const char *needle)
{
    struct ynode *r = load (text);
    if (r || err.code != FS_EINVAL || strncmp (err.text, prefix, strlen (prefix)) != 0
        || !strstr (err.text, needle))
        fail_msg ("for %s: got '%s' (code %d), want '%s ... %s'", text, err.text, err.code,
                  prefix, needle);
    ydoc_free (r);
}

/* ------------------------------------------------------------------ */

static void test_tree_and_marks (void **state)
{
    struct ynode *r = load ("name: demo\n"
                            "list:\n"
                            "  - 1\n"
                            "  - {x: y}\n"
                            "nested:\n"
                            "    k: [a, 'b']\n");
    assert_non_null (r);
    assert_int_equal (r->type, YNODE_MAP);
    assert_int_equal (r->n, 3);
    assert_int_equal (r->line, 1);
    assert_int_equal (r->col, 1);
    assert_string_equal (r->keys[0]->value, "name");
    assert_int_equal (r->keys[0]->line, 1);
    assert_int_equal (r->keys[0]->col, 1);
    struct ynode *n = ynode_get (r, "name");
    assert_non_null (n);
    assert_string_equal (n->value, "demo");
    assert_int_equal (n->line, 1);
    assert_int_equal (n->col, 7);
    struct ynode *l = ynode_get (r, "list");
    assert_int_equal (l->type, YNODE_SEQ);
    assert_int_equal (l->n, 2);
    assert_int_equal (l->line, 3);
    assert_int_equal (l->col, 3);
    assert_int_equal (l->items[0]->line, 3);
    assert_int_equal (l->items[0]->col, 5);
    assert_int_equal (l->items[1]->type, YNODE_MAP);
    assert_int_equal (l->items[1]->col, 5);
    assert_string_equal (ynode_get (l->items[1], "x")->value, "y");
    struct ynode *k = ynode_get (ynode_get (r, "nested"), "k");
    assert_int_equal (k->type, YNODE_SEQ);
    assert_int_equal (k->line, 6);
    assert_int_equal (k->col, 8);
    assert_int_equal (k->items[1]->col, 12);
    assert_true (k->items[1]->quoted);
    assert_null (ynode_get (r, "missing"));
    assert_null (ynode_get (l, "x"));               /* not a map */
    assert_null (ynode_get (NULL, "x"));
    ydoc_free (r);
}

static void test_quoted_vs_plain (void **state)
{
    struct ynode *r = load ("a: 1\nb: \"1\"\nc: '1'\nd: |\n  text\ne: >\n  folded\n"
                            "f: !!str 1\ng: !!int 2\nh:\n");
    assert_non_null (r);
    assert_false (ynode_get (r, "a")->quoted);
    assert_true (ynode_get (r, "b")->quoted);
    assert_true (ynode_get (r, "c")->quoted);
    assert_true (ynode_get (r, "d")->quoted);
    assert_string_equal (ynode_get (r, "d")->value, "text\n");
    assert_true (ynode_get (r, "e")->quoted);
    assert_true (ynode_get (r, "f")->quoted);      /* !!str makes a string */
    assert_false (ynode_get (r, "g")->quoted);
    assert_string_equal (ynode_get (r, "h")->value, "");
    assert_false (ynode_get (r, "h")->quoted);
    ydoc_free (r);
}

static void test_empty_documents (void **state)
{
    const char *empties[] = { "", "# only a comment\n", "---\n", "--- ~\n", "--- null\n", "---\n...\n", NULL };
    for (int i = 0; empties[i]; i++) {
        struct ynode *r = load (empties[i]);
        assert_non_null (r);
        assert_int_equal (r->type, YNODE_MAP);
        assert_int_equal (r->n, 0);
        ydoc_free (r);
    }
    /* A quoted empty string is a scalar, not an empty document. */
    struct ynode *r = load ("''");
    assert_non_null (r);
    assert_int_equal (r->type, YNODE_SCALAR);
    ydoc_free (r);
    r = ydoc_load_string ("t.yaml", NULL, 0, NULL, &err);
    assert_non_null (r);
    ydoc_free (r);
}

static void test_reject_aliases_anchors (void **state)
{
    expect_reject ("a: 1\nb: *x\n", "t.yaml:2:4: ", "aliases are not allowed");
    expect_reject ("a: &x 1\nb: *x\n", "t.yaml:1:4: ", "anchors are not allowed (&x)");
    expect_reject ("a: &m {b: 1}\n", "t.yaml:1:4: ", "anchors are not allowed");
    expect_reject ("a:\n  - &s [1]\n", "t.yaml:2:5: ", "anchors are not allowed");
    expect_reject ("base: &b {x: 1}\nderived:\n  <<: *b\n", "t.yaml:1:7: ", "anchors");
    /* Billion laughs never gets past the first anchor. */
    expect_reject ("a: &a [\"lol\"]\nb: &b [*a, *a, *a]\n", "t.yaml:1:4: ", "anchors");
}

static void test_reject_tags (void **state)
{
    expect_reject ("a: !foo 1\n", "t.yaml:1:4: ", "tags are not allowed (!foo)");
    expect_reject ("a: !!python/object:os.system x\n", "t.yaml:1:4: ",
                   "tags are not allowed (!!python/object:os.system)");
    expect_reject ("a:\n  b: !<tag:example.com,2000:x> 1\n", "t.yaml:2:6: ", "tags are not allowed");
    expect_reject ("a: !!seq 1\n", "t.yaml:1:4: ", "tag !!seq is not allowed on a scalar");
    expect_reject ("a: !!str [1]\n", "t.yaml:1:4: ", "tag !!str is not allowed on a sequence");
    expect_reject ("a: !!map [x]\n", "t.yaml:1:4: ", "tag !!map is not allowed on a sequence");
    expect_reject ("a: !!set {x}\n", "t.yaml:1:4: ", "tags are not allowed (!!set)");
    expect_reject ("%TAG !e! tag:example.com,2000:\n---\na: 1\n", "t.yaml:1:1: ",
                   "%TAG directives are not allowed");
    /* The core tags pass. */
    struct ynode *r = load ("a: !!int 1\nb: !!map {x: 1}\nc: !!seq [1]\nd: !!null ~\n"
                            "e: !!bool true\nf: !!float 1.5\n");
    assert_non_null (r);
    ydoc_free (r);
}

static void test_reject_multi_doc (void **state)
{
    expect_reject ("a: 1\n---\nb: 2\n", "t.yaml:2:1: ", "only one document");
    expect_reject ("--- 1\n--- 2\n", "t.yaml:2:1: ", "only one document");
    struct ynode *r = load ("---\na: 1\n...\n");    /* one explicit document is fine */
    assert_non_null (r);
    ydoc_free (r);
}

static void test_reject_dup_keys (void **state)
{
    expect_reject ("a: 1\nb: 2\na: 3\n", "t.yaml:3:1: ",
                   "duplicate key 'a' (first at line 1, column 1)");
    expect_reject ("x:\n  k: 1\n  k: 2\n", "t.yaml:3:3: ", "duplicate key 'k'");
    expect_reject ("x: {k: 1, j: 2, k: 3}\n", "t.yaml:1:17: ", "duplicate key 'k'");
    expect_reject ("\"a\": 1\na: 2\n", "t.yaml:2:1: ", "duplicate key 'a'");
    /* Same key in different maps is fine; many keys stay fast (hashed). */
    struct ynode *r = load ("a: {k: 1}\nb: {k: 2}\n");
    assert_non_null (r);
    ydoc_free (r);
    size_t n = 20000, o = 0;
    char *big = malloc (n * 16);
    for (size_t i = 0; i < n; i++)
        o += (size_t) sprintf (big + o, "k%zu: %zu\n", i, i);
    r = load (big);
    assert_non_null (r);
    assert_int_equal (r->n, n);
    assert_string_equal (ynode_get (r, "k19999")->value, "19999");
    ydoc_free (r);
    sprintf (big + o, "k12345: dup\n");
    expect_reject (big, "t.yaml:20001:1: ", "duplicate key 'k12345' (first at line 12346");
    free (big);
}

static void test_reject_non_scalar_keys (void **state)
{
    expect_reject ("? [a, b]\n: 1\n", "t.yaml:1:3: ", "mapping keys must be scalars, not sequences");
    expect_reject ("{[a]: 1}\n", "t.yaml:1:2: ", "mapping keys must be scalars");
    expect_reject ("? {a: 1}\n: 1\n", "t.yaml:1:3: ", "not mappings");
}

static void test_depth_limit (void **state)
{
    /* A depth bomb: 100000 open brackets. */
    size_t n = 100000;
    char *bomb = malloc (n + 1);
    memset (bomb, '[', n);
    bomb[n] = '\0';
    expect_reject (bomb, "t.yaml:1:33: ", "nesting deeper than 32 levels");
    free (bomb);
    /* The same in block style: "- - - - ..." on one line. */
    bomb = malloc (2 * n + 1);
    for (size_t i = 0; i < n; i++)
        memcpy (bomb + 2 * i, "- ", 2);
    bomb[2 * n] = '\0';
    expect_reject (bomb, "t.yaml:1:65: ", "nesting deeper than 32 levels");
    free (bomb);
    /* Exactly 32 levels pass. */
    char ok[80];
    memset (ok, '[', 32);
    memset (ok + 32, ']', 32);
    ok[64] = '\0';
    struct ynode *r = load (ok);
    assert_non_null (r);
    ydoc_free (r);
    /* A custom limit, block style. */
    r = load_lim ("a:\n  b:\n    c:\n      d: 1\n", 0, 3);
    assert_null (r);
    assert_string_equal (err.text, "t.yaml:4:7: nesting deeper than 3 levels");
    r = load_lim ("a:\n  b:\n    c: 1\n", 0, 3);
    assert_non_null (r);
    ydoc_free (r);
    /* A huge limit costs nothing up front (the stack grows with the document). */
    r = load_lim ("[[[1]]]", 0, 2147483647);
    assert_non_null (r);
    ydoc_free (r);
}

static void test_size_limit (void **state)
{
    const char *text = "a: 1\nbb: 2\nccc: 3\n";      /* 18 bytes */
    struct ynode *r = load_lim (text, 16, 0);
    assert_null (r);
    assert_int_equal (err.code, FS_EINVAL);
    assert_string_equal (err.text, "t.yaml:3:6: document is larger than the limit of 16 bytes");
    r = load_lim (text, 18, 0);
    assert_non_null (r);
    ydoc_free (r);

    /* From a file: only max_bytes + 1 bytes are read. */
    char path[] = "/tmp/test_ydoc_XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    assert_int_equal (write (fd, text, strlen (text)), (ssize_t) strlen (text));
    close (fd);
    struct ydoc_limits lim = { 10, 0 };
    r = ydoc_load_file (path, &lim, &err);
    assert_null (r);
    char want[256];
    snprintf (want, sizeof (want), "%s:2:6: document is larger than the limit of 10 bytes", path);
    assert_string_equal (err.text, want);
    /* The default limit is 1 MiB. */
    size_t big = 1024 * 1024 + 1;
    char *s = malloc (big + 1);
    memset (s, '#', big);
    s[big] = '\0';
    expect_reject (s, "t.yaml:1:1048577: ", "larger than the limit of 1048576 bytes");
    free (s);
    r = ydoc_load_file (path, NULL, &err);
    assert_non_null (r);
    assert_string_equal (ynode_get (r, "ccc")->value, "3");
    ydoc_free (r);
    unlink (path);
}

static void test_malformed (void **state)
{
    expect_reject ("a: [1, 2\n", "t.yaml:2:1: ",
                   "did not find expected ',' or ']' (while parsing a flow sequence at line 1, "
                   "column 4)");
    expect_reject ("a: b: c\n", "t.yaml:1:5: ", "mapping values are not allowed");
    expect_reject ("key: \"unterminated\n", "t.yaml:2:1: ", "unexpected end of stream");
    expect_reject ("a:\n  - 1\n - 2\n", "t.yaml:3:2: ", "did not find expected key");
    /* A tab where YAML wants spaces is named as such, where it is. */
    expect_reject ("\t- a\n", "t.yaml:1:1: ", "tabs are not allowed in YAML, use spaces");
    expect_reject ("a:\n  b: 1\n\t  c: 2\n", "t.yaml:3:1: ", "tabs are not allowed in YAML");
    expect_reject ("tasks:\n  -\tname: a\n", "t.yaml:2:4: ", "tabs are not allowed in YAML");
    expect_reject ("x: [1,\n  2]\ny:\n  \xc3\xa9: 1\n \t z: 2\n", "t.yaml:5:2: ",
                   "tabs are not allowed in YAML");
    /* A tab YAML allows (after a key's colon, inside flow) is no error. */
    struct ynode *ok = load ("a:\tb\nc: [1,\t2]\n");
    assert_non_null (ok);
    ydoc_free (ok);
    expect_reject ("a: \xff\n", "t.yaml:1:4: ", "invalid leading UTF-8 octet (byte 0xff)");
    expect_reject ("a: ok\nb: \x01\n", "t.yaml:2:4: ", "control characters are not allowed");
    expect_reject ("a: \"x\\0y\"\n", "t.yaml:1:4: ", "NUL characters are not allowed");
    /* Embedded NUL byte in the input itself. */
    struct ynode *r = ydoc_load_string ("t.yaml", "a: 1\0b", 6, NULL, &err);
    assert_null (r);
    assert_int_equal (err.code, FS_EINVAL);
    assert_non_null (strstr (err.text, "t.yaml:1:5: "));
}

static void test_file_errors (void **state)
{
    struct ynode *r = ydoc_load_file ("/nonexistent/dir/f.yaml", NULL, &err);
    assert_null (r);
    assert_int_equal (err.code, FS_EFAIL);
    assert_non_null (strstr (err.text, "/nonexistent/dir/f.yaml: cannot open"));
    r = ydoc_load_file ("/", NULL, &err);
    assert_null (r);
    assert_int_equal (err.code, FS_EFAIL);
}

/* ------------------------------------------------------------------ */
/* Helpers */

static void test_check_keys (void **state)
{
    static const char *const allowed[] = { "name", "ranks", NULL };
    struct ynode *r = load ("name: x\nranks: 2\n");
    assert_int_equal (ynode_check_keys ("t.yaml", r, "task", allowed, &err), 0);
    ydoc_free (r);
    r = load ("name: x\n  # comment\nrank: 2\n");
    assert_int_equal (ynode_check_keys ("t.yaml", r, "task", allowed, &err), -1);
    assert_int_equal (err.code, FS_EINVAL);
    assert_string_equal (err.text, "t.yaml:3:1: task: unknown key 'rank' (allowed: name, ranks)");
    assert_int_equal (ynode_check_keys ("t.yaml", r->items[0], "task", allowed, &err), -1);
    assert_string_equal (err.text, "t.yaml:1:7: task: expected a mapping, found a scalar");
    ydoc_free (r);
}

static void test_error_helper (void **state)
{
    struct ynode *r = load ("a:\n  b: 1\n");
    assert_int_equal (ynode_error ("f.yaml", ynode_get (ynode_get (r, "a"), "b"), &err,
                                   "bad %s", "thing"), -1);
    assert_int_equal (err.code, FS_EINVAL);
    assert_string_equal (err.text, "f.yaml:2:6: bad thing");
    ydoc_free (r);
}

static void test_string_int_bool (void **state)
{
    struct ynode *r = load ("s: hello\nq: \"42\"\ni: 42\nneg: -7\nhex: 0x1F\noct: 0o17\n"
                            "big: 99999999999999999999\nf: 1.5\nt: true\nF: False\n"
                            "yes: yes\nqt: \"true\"\nseq: [1]\n");
    char buf[8];
    int64_t v;
    bool b;
    assert_int_equal (ynode_string ("t.yaml", ynode_get (r, "s"), "s", buf, sizeof (buf), &err), 0);
    assert_string_equal (buf, "hello");
    assert_int_equal (ynode_string ("t.yaml", ynode_get (r, "s"), "s", buf, 5, &err), -1);
    assert_string_equal (err.text, "t.yaml:1:4: s: too long (5 bytes, at most 4)");
    assert_int_equal (ynode_string ("t.yaml", ynode_get (r, "seq"), "seq", buf, 8, &err), -1);
    assert_string_equal (err.text, "t.yaml:13:6: seq: expected a string, found a sequence");
    assert_int_equal (ynode_string ("t.yaml", NULL, "x", buf, 8, &err), -1);

    assert_int_equal (ynode_int ("t.yaml", ynode_get (r, "i"), "i", 0, 100, &v, &err), 0);
    assert_int_equal (v, 42);
    assert_int_equal (ynode_int ("t.yaml", ynode_get (r, "neg"), "neg", -10, 10, &v, &err), 0);
    assert_int_equal (v, -7);
    assert_int_equal (ynode_int ("t.yaml", ynode_get (r, "hex"), "hex", 0, 100, &v, &err), 0);
    assert_int_equal (v, 31);
    assert_int_equal (ynode_int ("t.yaml", ynode_get (r, "oct"), "oct", 0, 100, &v, &err), 0);
    assert_int_equal (v, 15);
    assert_int_equal (ynode_int ("t.yaml", ynode_get (r, "i"), "ranks", 0, 10, &v, &err), -1);
    assert_string_equal (err.text, "t.yaml:3:4: ranks: 42 is out of range (0..10)");
    assert_int_equal (ynode_int ("t.yaml", ynode_get (r, "q"), "q", 0, 100, &v, &err), -1);
    assert_string_equal (err.text, "t.yaml:2:4: q: expected an integer, found the string \"42\"");
    assert_int_equal (ynode_int ("t.yaml", ynode_get (r, "big"), "big", INT64_MIN, INT64_MAX,
                                 &v, &err), -1);
    assert_non_null (strstr (err.text, "t.yaml:7:6: big: 99999999999999999999 is out of range"));
    assert_int_equal (ynode_int ("t.yaml", ynode_get (r, "f"), "f", 0, 100, &v, &err), -1);
    assert_string_equal (err.text, "t.yaml:8:4: f: expected an integer, found '1.5'");

    assert_int_equal (ynode_bool ("t.yaml", ynode_get (r, "t"), "t", &b, &err), 0);
    assert_true (b);
    assert_int_equal (ynode_bool ("t.yaml", ynode_get (r, "F"), "F", &b, &err), 0);
    assert_false (b);
    assert_int_equal (ynode_bool ("t.yaml", ynode_get (r, "yes"), "yes", &b, &err), -1);
    assert_string_equal (err.text, "t.yaml:11:6: yes: expected true or false, found 'yes'");
    assert_int_equal (ynode_bool ("t.yaml", ynode_get (r, "qt"), "qt", &b, &err), -1);
    assert_non_null (strstr (err.text, "t.yaml:12:5: qt: expected true or false, found the string"));
    ydoc_free (r);
}

static void test_node_units (void **state)
{
    struct ynode *r = load ("walltime: 10m\nbad: 10 parsecs\nrate: 1GiB/s\nsize: 4MiB\n"
                            "qd: \"90s\"\nmap: {a: 1}\n");
    double d;
    uint64_t u;
    assert_int_equal (ynode_duration ("t.yaml", ynode_get (r, "walltime"), "walltime", &d, &err), 0);
    assert_true (d == 600);
    assert_int_equal (ynode_duration ("t.yaml", ynode_get (r, "qd"), "qd", &d, &err), 0);
    assert_true (d == 90);
    assert_int_equal (ynode_duration ("t.yaml", ynode_get (r, "bad"), "walltime", &d, &err), -1);
    assert_non_null (strstr (err.text, "t.yaml:2:6: walltime: invalid duration '10 parsecs'"));
    assert_int_equal (ynode_duration ("t.yaml", ynode_get (r, "map"), "walltime", &d, &err), -1);
    assert_string_equal (err.text, "t.yaml:6:6: walltime: expected a duration, found a mapping");
    assert_int_equal (ynode_rate ("t.yaml", ynode_get (r, "rate"), "bw", &d, &err), 0);
    assert_true (d == 1073741824.0);
    assert_int_equal (ynode_rate ("t.yaml", ynode_get (r, "size"), "bw", &d, &err), -1);
    assert_non_null (strstr (err.text, "t.yaml:4:7: bw: invalid rate '4MiB'"));
    assert_int_equal (ynode_size ("t.yaml", ynode_get (r, "size"), "piece", &u, &err), 0);
    assert_int_equal (u, 4 * 1024 * 1024);
    assert_int_equal (ynode_size ("t.yaml", ynode_get (r, "rate"), "piece", &u, &err), -1);
    assert_non_null (strstr (err.text, "t.yaml:3:7: piece: invalid size '1GiB/s'"));
    ydoc_free (r);
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_tree_and_marks),
        cmocka_unit_test (test_quoted_vs_plain),
        cmocka_unit_test (test_empty_documents),
        cmocka_unit_test (test_reject_aliases_anchors),
        cmocka_unit_test (test_reject_tags),
        cmocka_unit_test (test_reject_multi_doc),
        cmocka_unit_test (test_reject_dup_keys),
        cmocka_unit_test (test_reject_non_scalar_keys),
        cmocka_unit_test (test_depth_limit),
        cmocka_unit_test (test_size_limit),
        cmocka_unit_test (test_malformed),
        cmocka_unit_test (test_file_errors),
        cmocka_unit_test (test_check_keys),
        cmocka_unit_test (test_error_helper),
        cmocka_unit_test (test_string_int_bool),
        cmocka_unit_test (test_node_units),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
