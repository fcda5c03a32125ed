/* test_msg.c - control message encoding and decoding, and frames over a real
 * inproc socket pair (common/msg.c, common/zsock.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/msg.h"
#include "common/zsock.h"

static struct zmsg *raw (const char *text)
{
    struct zmsg *z = zmsg_create ();
    zmsg_addmem (z, text, strlen (text));
    return z;
}

static void test_request_roundtrip (void **state)
{
    (void)state;
    struct zmsg *z = msg_request ("catalog.lookup", 42, json_pack ("{s:s}", "name", "a/b"));
    assert_non_null (z);
    assert_int_equal (zmsg_size (z), 1);
    struct msg m;
    fs_error_t err;
    assert_int_equal (msg_decode (z, 0, &m, &err), 0);
    assert_string_equal (m.op, "catalog.lookup");
    assert_int_equal (m.id, 42);
    assert_false (m.is_reply);
    const char *name;
    assert_int_equal (msg_get_str (&m, "name", true, &name, &err), 0);
    assert_string_equal (name, "a/b");
    msg_release (&m);
    zmsg_destroy (&z);
    assert_null (z);
}

static void test_reply_and_error (void **state)
{
    (void)state;
    struct zmsg *z = msg_reply ("sites.list", 7, NULL);
    struct msg m;
    fs_error_t err;
    assert_int_equal (msg_decode (z, 0, &m, &err), 0);
    assert_true (m.is_reply);
    assert_true (m.ok);
    assert_true (json_is_object (m.body));
    msg_release (&m);
    zmsg_destroy (&z);

    z = msg_error ("get", 9, FS_EINVAL, "slice '%s' is bad", "x[::0]");
    assert_int_equal (msg_decode (z, 0, &m, &err), 0);
    assert_true (m.is_reply);
    assert_false (m.ok);
    assert_int_equal (m.errcode, FS_EINVAL);
    assert_string_equal (m.errtext, "slice 'x[::0]' is bad");
    msg_release (&m);
    zmsg_destroy (&z);

    char *s = msg_encode_reply ("data.piece", 3, json_pack ("{s:i}", "index", 2));
    assert_non_null (strstr (s, "\"ok\":true"));
    free (s);
}

static void test_malformed (void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *expect;
    } cases[] = {
        { "not json", "not valid JSON" },
        { "[1,2]", "JSON object" },
        { "{}", "needs \"op\"" },
        { "{\"op\": 5, \"id\": 1}", "needs \"op\"" },
        { "{\"op\": \"Bad Op\", \"id\": 1}", "needs \"op\"" },
        { "{\"op\": \"a.b\"}", "integer \"id\"" },
        { "{\"op\": \"a.b\", \"id\": \"1\"}", "integer \"id\"" },
        { "{\"op\": \"a.b\", \"id\": 1, \"body\": []}", "\"body\" must be" },
        { "{\"op\": \"a.b\", \"id\": 1, \"ok\": 3}", "\"ok\" must be" },
        { "{\"op\": \"a.b\", \"op\": \"c.d\", \"id\": 1}", "not valid JSON" },
        { "", "not valid JSON" },
    };
    for (size_t i = 0; i < sizeof (cases) / sizeof (cases[0]); i++) {
        struct zmsg *z = raw (cases[i].text);
        struct msg m;
        fs_error_t err = { 0 };
        assert_int_equal (msg_decode (z, 0, &m, &err), -1);
        assert_int_equal (err.code, FS_EINVAL);
        if (!strstr (err.text, cases[i].expect))
            fail_msg ("case %zu '%s': got '%s'", i, cases[i].text, err.text);
        msg_release (&m);
        zmsg_destroy (&z);
    }
    /* A missing frame. */
    struct zmsg *z = zmsg_create ();
    struct msg m;
    fs_error_t err;
    assert_int_equal (msg_decode (z, 0, &m, &err), -1);
    msg_release (&m);
    zmsg_destroy (&z);
    /* The id is kept when readable, so the error reply can name it. */
    z = raw ("{\"op\": \"a.b\", \"id\": 12, \"body\": 1}");
    assert_int_equal (msg_decode (z, 0, &m, &err), -1);
    assert_int_equal (m.id, 12);
    assert_string_equal (m.op, "a.b");
    msg_release (&m);
    zmsg_destroy (&z);
}

static void test_field_helpers (void **state)
{
    (void)state;
    struct zmsg *z = raw ("{\"op\":\"x.y\",\"id\":1,\"body\":{\"n\":5,\"s\":\"t\",\"big\":99,\"f\":1.5}}");
    struct msg m;
    fs_error_t err;
    assert_int_equal (msg_decode (z, 0, &m, &err), 0);
    int64_t v = -1;
    const char *s;
    assert_int_equal (msg_get_int (&m, "n", true, 0, 10, &v, &err), 0);
    assert_int_equal (v, 5);
    assert_int_equal (msg_get_int (&m, "big", true, 0, 10, &v, &err), -1);
    assert_non_null (strstr (err.text, "outside"));
    assert_int_equal (msg_get_int (&m, "f", true, 0, 10, &v, &err), -1);
    assert_int_equal (msg_get_int (&m, "missing", true, 0, 10, &v, &err), -1);
    assert_non_null (strstr (err.text, "required"));
    assert_int_equal (msg_get_int (&m, "missing", false, 0, 10, &v, &err), 0);
    assert_int_equal (msg_get_str (&m, "s", true, &s, &err), 0);
    assert_string_equal (s, "t");
    assert_int_equal (msg_get_str (&m, "n", true, &s, &err), -1);
    assert_int_equal (msg_get_str (&m, "none", false, &s, &err), 0);
    assert_null (s);
    msg_release (&m);
    zmsg_destroy (&z);
}

static void test_frames (void **state)
{
    (void)state;
    struct zmsg *z = zmsg_create ();
    zmsg_addstr (z, "b");
    char *p = zmsg_addsize (z, 4);
    memcpy (p, "data", 4);
    assert_int_equal (zmsg_insert (z, 0, "a", 1), 0);
    assert_int_equal (zmsg_insert (z, 3, "z", 1), 0);
    assert_int_equal (zmsg_size (z), 4);
    size_t len;
    const char *d = zmsg_data (z, 2, &len);
    assert_int_equal (len, 4);
    assert_memory_equal (d, "data", 4);
    char buf[4];
    assert_int_equal (zmsg_pop (z, buf, sizeof (buf)), 1);
    assert_int_equal (buf[0], 'a');
    assert_int_equal (zmsg_size (z), 3);
    assert_null (zmsg_data (z, 9, &len));
    zmsg_destroy (&z);
}

/* An error text cut mid-character (a fixed buffer) stays valid UTF-8, and an
 * error reply with invalid UTF-8 keeps its code and text (found by fuzzing:
 * tests/fuzz/crashes/msg/error-text-cut-mid-utf8). */
static void test_utf8_error_text (void **state)
{
    (void)state;
    char text[1100];
    memset (text, 'a', 1022);
    strcpy (text + 1022, "\xc3\xa9 tail");       /* 'e' with an acute accent at the cut */
    struct zmsg *z = msg_error ("site.publish", 4, FS_EINVAL, "%s", text);
    struct msg m;
    fs_error_t err;
    assert_int_equal (msg_decode (z, 0, &m, &err), 0);
    assert_int_equal (m.errcode, FS_EINVAL);
    assert_int_equal (strlen (m.errtext), 1022);    /* the partial character is dropped */
    /* Forwarded as it was decoded (what the scheduler does with a site's error). */
    struct zmsg *fwd = msg_error (m.op, m.id, m.errcode, "%s", m.errtext);
    struct msg m2;
    assert_int_equal (msg_decode (fwd, 0, &m2, &err), 0);
    assert_int_equal (m2.errcode, FS_EINVAL);
    assert_string_equal (m2.errtext, m.errtext);
    msg_release (&m);
    msg_release (&m2);
    zmsg_destroy (&z);
    zmsg_destroy (&fwd);
    /* Invalid bytes inside become '?', and the code survives. */
    z = msg_error ("x.y", 1, FS_EINVAL, "bad \xff byte \xc3 here");
    assert_int_equal (msg_decode (z, 0, &m, &err), 0);
    assert_int_equal (m.errcode, FS_EINVAL);
    assert_string_equal (m.errtext, "bad ? byte ? here");
    msg_release (&m);
    zmsg_destroy (&z);
}

static void test_over_sockets (void **state)
{
    (void)state;
    fs_error_t err;
    struct zsock *pull = zsock_create (ZSOCK_PULL, NULL, &err);
    struct zsock *push = zsock_create (ZSOCK_PUSH, NULL, &err);
    assert_int_equal (zsock_bind (pull, "inproc://test-msg", &err), 0);
    assert_int_equal (zsock_connect (push, "inproc://test-msg", &err), 0);
    struct zmsg *z = msg_request ("data.piece", 5, NULL);
    void *big = zmsg_addsize (z, 1 << 20);
    memset (big, 0xab, 1 << 20);
    assert_int_equal (zsock_send (push, &z, &err), 0);
    assert_null (z);
    bool ready;
    assert_int_equal (zsock_poll (&pull, 1, &ready, 2000), 1);
    struct zmsg *r = zsock_recv (pull, true);
    assert_non_null (r);
    assert_int_equal (zmsg_size (r), 2);
    size_t len;
    const unsigned char *d = zmsg_data (r, 1, &len);
    assert_int_equal (len, 1 << 20);
    assert_int_equal (d[len - 1], 0xab);
    struct msg m;
    assert_int_equal (msg_decode (r, 0, &m, &err), 0);
    assert_string_equal (m.op, "data.piece");
    msg_release (&m);
    zmsg_destroy (&r);
    assert_null (zsock_recv (pull, true));   /* nothing more */
    zsock_destroy (push);
    zsock_destroy (pull);
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_request_roundtrip), cmocka_unit_test (test_reply_and_error),
        cmocka_unit_test (test_malformed),         cmocka_unit_test (test_field_helpers),
        cmocka_unit_test (test_frames),            cmocka_unit_test (test_over_sockets),
        cmocka_unit_test (test_utf8_error_text),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
