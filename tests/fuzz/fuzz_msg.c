/* fuzz_msg.c - libFuzzer harness for common/msg.h: decoding arbitrary frames.
 *
 * Input layout:
 *   byte 0     which frame to decode: b % 4 (may be past the last frame)
 *   the rest   the frames, separated by the byte 0xff (never part of UTF-8
 *              JSON; raw NULs stay inside frames)
 * The frames are put in a struct zmsg with zmsg_create() / zmsg_addmem(),
 * exactly as zsock_recv() would hand them over.
 *
 * Invariants checked:
 *   - a failure is FS_EINVAL with a message, op still a terminated string;
 *     msg_release() frees whatever was decoded (also after a failure);
 *   - a decoded message: op of [a-z0-9._], 1..63 bytes; root and body are
 *     objects, body is root's "body";
 *   - re-encoding it (msg_request / msg_reply / msg_error, and
 *     msg_encode_reply) and decoding again gives the same op, id, kind,
 *     body, error code and error text;
 *   - the body helpers agree with the JSON types;
 *   - msg_route() prefixes one frame; zmsg_pop() gives the frames back.
 * Everything is freed (LeakSanitizer runs after each input).
 */
#include <jansson.h>
#include <stdio.h>

#include "fuzz_util.h"
#include "common/msg.h"
#include "common/zsock.h"

#define SEP 0xff
#define MAXFRAMES 15     /* a struct zmsg holds 16 frames: room for msg_route() */

static void check_op (const char *op)
{
    size_t n = strnlen (op, FS_OP_MAX);
    FUZZ_CHECK (n >= 1 && n < FS_OP_MAX, "op length %zu", n);
    for (size_t i = 0; i < n; i++) {
        char c = op[i];
        FUZZ_CHECK ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_',
                    "op byte 0x%02x", (unsigned char)c);
    }
}

/* Decode frame 0 of z (one frame) and compare it with m. */
static void check_same (struct zmsg *z, const struct msg *m, const char *how)
{
    FUZZ_CHECK (z != NULL, "%s: encoding failed", how);
    struct msg b;
    fs_error_t e = { 0, "" };
    int rc = msg_decode (z, 0, &b, &e);
    FUZZ_CHECK (rc == 0, "%s: re-encoded message does not decode: %s", how, e.text);
    FUZZ_CHECK (strcmp (b.op, m->op) == 0, "%s: op '%s' became '%s'", how, m->op, b.op);
    FUZZ_CHECK (b.id == m->id, "%s: id %lld became %lld", how, (long long)m->id,
                (long long)b.id);
    FUZZ_CHECK (b.is_reply == m->is_reply && b.ok == m->ok, "%s: kind changed", how);
    if (m->is_reply && !m->ok) {
        FUZZ_CHECK (b.errcode == m->errcode, "%s: error code %d became %d", how, m->errcode,
                    b.errcode);
        FUZZ_CHECK (strcmp (b.errtext, m->errtext) == 0, "%s: error text changed:\n  '%.200s'\n"
                    "  '%.200s'", how, m->errtext, b.errtext);
    }
    else
        FUZZ_CHECK (json_equal (b.body, m->body), "%s: body changed", how);
    msg_release (&b);
}

static void check_decoded (const struct msg *m)
{
    check_op (m->op);
    FUZZ_CHECK (json_is_object (m->root), "root not an object");
    FUZZ_CHECK (json_is_object (m->body), "body not an object");
    FUZZ_CHECK (json_object_get (m->root, "body") == m->body, "body not root's");
    FUZZ_CHECK (m->is_reply || !m->ok, "a request marked ok");
    FUZZ_CHECK (strnlen (m->errtext, sizeof (m->errtext)) < sizeof (m->errtext), "errtext");

    /* The body helpers, on each of the first keys. */
    const char *key;
    json_t *v;
    int k = 0;
    json_object_foreach (m->body, key, v) {
        if (k++ == 8)
            break;
        const char *s = NULL;
        fs_error_t e = { 0, "" };
        int rc = msg_get_str (m, key, true, &s, &e);
        if (json_is_string (v))
            FUZZ_CHECK (rc == 0 && s == json_string_value (v), "msg_get_str on a string");
        else if (json_is_null (v))
            FUZZ_CHECK (rc == -1 && e.code == FS_EINVAL, "msg_get_str required null");
        else
            FUZZ_CHECK (rc == -1 && e.code == FS_EINVAL && !s, "msg_get_str on a non-string");
        int64_t x = 12345;
        memset (&e, 0, sizeof (e));
        rc = msg_get_int (m, key, false, -1000, 1000, &x, &e);
        if (json_is_integer (v) && json_integer_value (v) >= -1000 && json_integer_value (v) <= 1000)
            FUZZ_CHECK (rc == 0 && x == json_integer_value (v), "msg_get_int in range");
        else if (json_is_null (v))
            FUZZ_CHECK (rc == 0 && x == 12345, "msg_get_int optional null");
        else
            FUZZ_CHECK (rc == -1 && e.code == FS_EINVAL && x == 12345, "msg_get_int refused");
    }

    /* Encode again and compare. */
    struct zmsg *z;
    if (!m->is_reply)
        z = msg_request (m->op, m->id, json_deep_copy (m->body));
    else if (m->ok) {
        z = msg_reply (m->op, m->id, json_deep_copy (m->body));
        char *txt = msg_encode_reply (m->op, m->id, json_deep_copy (m->body));
        size_t len;
        const void *d = z ? zmsg_data (z, 0, &len) : NULL;
        FUZZ_CHECK (txt && d && len == strlen (txt) && memcmp (d, txt, len) == 0,
                    "msg_encode_reply differs from msg_reply");
        free (txt);
    }
    else
        z = msg_error (m->op, m->id, m->errcode, "%s", m->errtext);
    check_same (z, m, m->is_reply ? (m->ok ? "reply" : "error") : "request");
    zmsg_destroy (&z);
    FUZZ_CHECK (z == NULL, "zmsg_destroy did not null the pointer");
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t which = data[0] % 4;
    data++;
    size--;

    struct zmsg *z = zmsg_create ();
    FUZZ_CHECK (z != NULL, "zmsg_create");
    size_t lens[MAXFRAMES];
    size_t nframes = 0, start = 0;
    for (size_t i = 0;; i++) {
        bool last_slot = nframes == MAXFRAMES - 1;  /* the last frame takes the rest */
        if (i == size || (!last_slot && data[i] == SEP)) {
            FUZZ_CHECK (zmsg_addmem (z, data + start, i - start) == 0, "zmsg_addmem");
            lens[nframes++] = i - start;
            if (i == size)
                break;
            start = i + 1;
        }
    }
    FUZZ_CHECK (zmsg_size (z) == nframes, "zmsg_size %zu, added %zu", zmsg_size (z), nframes);

    struct msg m;
    fs_error_t e = { 0, "" };
    int rc = msg_decode (z, which, &m, &e);
    if (rc < 0) {
        FUZZ_CHECK (rc == -1 && e.code == FS_EINVAL && e.text[0], "failure %d: %d %s", rc,
                    e.code, e.text);
        FUZZ_CHECK (strnlen (m.op, FS_OP_MAX) < FS_OP_MAX, "op not terminated");
        FUZZ_CHECK (which < nframes || m.root == NULL, "decoded a missing frame");
    }
    else {
        FUZZ_CHECK (rc == 0 && which < nframes, "rc %d on frame %zu of %zu", rc, which, nframes);
        check_decoded (&m);
    }
    msg_release (&m);
    FUZZ_CHECK (m.root == NULL && m.body == NULL, "msg_release left pointers");
    msg_release (&m);   /* twice is harmless */

    /* Routing prefix, then pop everything back. */
    FUZZ_CHECK (msg_route (z, "rid", 3) == 0, "msg_route");
    FUZZ_CHECK (zmsg_size (z) == nframes + 1, "msg_route size");
    char buf[8];
    FUZZ_CHECK (zmsg_pop (z, buf, sizeof (buf)) == 3 && memcmp (buf, "rid", 3) == 0, "route pop");
    for (size_t i = 0; i < nframes; i++) {
        ssize_t n = zmsg_pop (z, buf, sizeof (buf));
        FUZZ_CHECK (n == (ssize_t)lens[i], "frame %zu popped %zd bytes, had %zu", i, n, lens[i]);
    }
    FUZZ_CHECK (zmsg_size (z) == 0 && zmsg_pop (z, buf, sizeof (buf)) == -1, "pop on empty");
    zmsg_destroy (&z);
    return 0;
}
