/* msg.c - control message encoding and decoding (see msg.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"

/* Make s valid UTF-8 in place: a sequence cut at the end (a truncated copy)
 * is dropped, any other invalid byte becomes '?'.  Error texts pass through
 * several hands and fixed buffers; JSON refuses invalid UTF-8. */
static void utf8_clean (char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        int n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3
                : (*p & 0xf8) == 0xf0 ? 4 : 0;
        int len = 1;
        while (len < n && (p[len] & 0xc0) == 0x80)
            len++;
        if (n > 0 && len == n && !(n == 2 && *p < 0xc2)) {
            p += n;
            continue;
        }
        if (n > 1 && !p[len]) {         /* a character cut at the end */
            *p = '\0';
            return;
        }
        *p++ = '?';
    }
}

static struct zmsg *msg_from_json (json_t *root)
{
    struct zmsg *z = NULL;
    char *s = json_dumps (root, JSON_COMPACT);
    json_decref (root);
    if (!s)
        return NULL;
    z = zmsg_create ();
    if (z && zmsg_addstr (z, s) < 0)
        zmsg_destroy (&z);
    free (s);
    return z;
}

static json_t *msg_header (const char *op, int64_t id)
{
    return json_pack ("{s:s, s:I}", "op", op, "id", (json_int_t)id);
}

struct zmsg *msg_request (const char *op, int64_t id, json_t *body)
{
    json_t *root = msg_header (op, id);
    json_object_set_new (root, "body", body ? body : json_object ());
    return msg_from_json (root);
}

char *msg_encode_reply (const char *op, int64_t id, json_t *body)
{
    json_t *root = msg_header (op, id);
    json_object_set_new (root, "ok", json_true ());
    json_object_set_new (root, "body", body ? body : json_object ());
    char *s = json_dumps (root, JSON_COMPACT);
    json_decref (root);
    return s;
}

struct zmsg *msg_reply (const char *op, int64_t id, json_t *body)
{
    json_t *root = msg_header (op, id);
    json_object_set_new (root, "ok", json_true ());
    json_object_set_new (root, "body", body ? body : json_object ());
    return msg_from_json (root);
}

struct zmsg *msg_error (const char *op, int64_t id, int code, const char *fmt, ...)
{
    char *text = NULL;
    va_list ap;
    va_start (ap, fmt);
    int n = vasprintf (&text, fmt, ap);
    va_end (ap);
    if (n >= 0 && text)
        utf8_clean (text);
    json_t *root = msg_header (op, id);
    json_object_set_new (root, "ok", json_false ());
    json_object_set_new (root, "error", json_pack ("{s:i, s:s}", "code", code > 0 ? code : FS_EFAIL, "text",
                                                   n >= 0 && text ? text : "out of memory"));
    free (text);
    return msg_from_json (root);
}

static bool op_valid (const char *op)
{
    size_t n = strlen (op);
    if (n == 0 || n >= FS_OP_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = op[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_'))
            return false;
    }
    return true;
}

int msg_decode (const struct zmsg *z, size_t frame, struct msg *out, fs_error_t *err)
{
    memset (out, 0, sizeof (*out));
    snprintf (out->op, sizeof (out->op), "error");
    size_t len;
    const void *data = zmsg_data (z, frame, &len);
    if (!data)
        return errprintf (err, FS_EINVAL, "message has no JSON frame");
    json_error_t jerr;
    json_t *root = json_loadb (data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return errprintf (err, FS_EINVAL, "message is not valid JSON: %s at byte %d", jerr.text,
                          jerr.position);
    out->root = root;
    if (!json_is_object (root))
        return errprintf (err, FS_EINVAL, "message must be a JSON object");
    json_t *id = json_object_get (root, "id");
    if (json_is_integer (id))
        out->id = json_integer_value (id);
    json_t *op = json_object_get (root, "op");
    if (!json_is_string (op) || !op_valid (json_string_value (op)))
        return errprintf (err, FS_EINVAL,
                          "message needs \"op\": a string like \"service.method\" of [a-z0-9._]");
    snprintf (out->op, sizeof (out->op), "%s", json_string_value (op));
    if (!json_is_integer (id))
        return errprintf (err, FS_EINVAL, "%s: message needs an integer \"id\"", out->op);
    json_t *ok = json_object_get (root, "ok");
    if (ok) {
        if (!json_is_boolean (ok))
            return errprintf (err, FS_EINVAL, "%s: \"ok\" must be true or false", out->op);
        out->is_reply = true;
        out->ok = json_is_true (ok);
        if (!out->ok) {
            json_t *e = json_object_get (root, "error");
            json_t *code = json_object_get (e, "code");
            json_t *text = json_object_get (e, "text");
            /* A code outside 1..125 (none, 0, negative, huge) is a plain failure,
             * as msg_error() would send it. */
            json_int_t c = json_integer_value (code);
            out->errcode = json_is_integer (code) && c > 0 && c < 126 ? (int)c : FS_EFAIL;
            snprintf (out->errtext, sizeof (out->errtext), "%s",
                      json_is_string (text) ? json_string_value (text) : "unknown error");
            utf8_clean (out->errtext);  /* the copy may have cut a character */
        }
    }
    json_t *body = json_object_get (root, "body");
    if (body && !json_is_object (body))
        return errprintf (err, FS_EINVAL, "%s: \"body\" must be a JSON object", out->op);
    if (!body) {
        body = json_object ();
        json_object_set_new (root, "body", body);
    }
    out->body = body;
    return 0;
}

void msg_release (struct msg *m)
{
    if (m && m->root) {
        json_decref (m->root);
        m->root = NULL;
        m->body = NULL;
    }
}

/* The body's field key: 1 with *v when present (not null); 0 when absent and
 * optional; -1 with err when absent and required, or present with a type other
 * than want (a jansson type test), named by what. */
static int body_field (const struct msg *m, const char *key, bool required, int (*want) (const json_t *),
                       const char *what, json_t **v, fs_error_t *err)
{
    *v = json_object_get (m->body, key);
    if (!*v || json_is_null (*v))
        return required ? errprintf (err, FS_EINVAL, "%s: field '%s' is required", m->op, key) : 0;
    if (!want (*v))
        return errprintf (err, FS_EINVAL, "%s: field '%s' must be %s", m->op, key, what);
    return 1;
}

static int is_string (const json_t *v) { return json_is_string (v); }
static int is_boolean (const json_t *v) { return json_is_boolean (v); }
static int is_integer (const json_t *v) { return json_is_integer (v); }

int msg_get_str (const struct msg *m, const char *key, bool required, const char **out,
                 fs_error_t *err)
{
    json_t *v;
    *out = NULL;
    int rc = body_field (m, key, required, is_string, "a string", &v, err);
    if (rc > 0)
        *out = json_string_value (v);
    return rc < 0 ? -1 : 0;
}

int msg_get_bool (const struct msg *m, const char *key, bool required, bool *out, fs_error_t *err)
{
    json_t *v;
    int rc = body_field (m, key, required, is_boolean, "true or false", &v, err);
    if (rc > 0)
        *out = json_is_true (v);
    return rc < 0 ? -1 : 0;
}

int msg_get_int (const struct msg *m, const char *key, bool required, int64_t min, int64_t max,
                 int64_t *out, fs_error_t *err)
{
    json_t *v;
    int rc = body_field (m, key, required, is_integer, "an integer", &v, err);
    if (rc <= 0)
        return rc;
    int64_t x = json_integer_value (v);
    if (x < min || x > max)
        return errprintf (err, FS_EINVAL, "%s: field '%s' = %lld is outside [%lld, %lld]", m->op,
                          key, (long long)x, (long long)min, (long long)max);
    *out = x;
    return 0;
}

int msg_route (struct zmsg *m, const void *rid, size_t ridlen)
{
    return zmsg_insert (m, 0, rid, ridlen);
}
