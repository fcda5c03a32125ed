/* msg.h - fedsched's control messages: "service.method" requests with a JSON
 * body, and exactly one reply or error reply each (docs/protocol.md).
 *
 * Encoding builds a struct zmsg whose first frame is the JSON header; binary
 * frames may follow.  Decoding never trusts its input: anything that is not a
 * JSON object with a string "op" and an integer "id" fails with text.
 */
#ifndef FS_MSG_H
#define FS_MSG_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "zsock.h"

#define FS_PROTO_VERSION 1
#define FS_OP_MAX 64
#define FS_TOKEN_MAX 128       /* an idempotent request's token (docs/protocol.md) */

struct msg {
    char op[FS_OP_MAX];
    int64_t id;
    bool is_reply;
    bool ok;                /* reply: true for success */
    int errcode;            /* error reply: code (FS_EFAIL, FS_EINVAL, ...) */
    char errtext[1024];     /* error reply: text */
    json_t *body;           /* borrowed from root; an empty object if absent */
    json_t *root;           /* owned */
};

/* Requests and replies; body is stolen (NULL means {}).  NULL on failure. */
struct zmsg *msg_request (const char *op, int64_t id, json_t *body);
struct zmsg *msg_reply (const char *op, int64_t id, json_t *body);
struct zmsg *msg_error (const char *op, int64_t id, int code, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));
/* The JSON header alone, as text (caller frees), for callers that build frames. */
char *msg_encode_reply (const char *op, int64_t id, json_t *body);

/* Decode frame `frame` of z into *out (release with msg_release()).
 * FS_EINVAL with text when malformed; then out->op/out->id hold whatever could
 * be read (so the error reply can name them). */
int msg_decode (const struct zmsg *z, size_t frame, struct msg *out, fs_error_t *err);
void msg_release (struct msg *m);

/* Body field helpers: FS_EINVAL "OP: field 'NAME' ..." when missing/wrong. */
int msg_get_str (const struct msg *m, const char *key, bool required, const char **out,
                 fs_error_t *err);
int msg_get_int (const struct msg *m, const char *key, bool required, int64_t min, int64_t max,
                 int64_t *out, fs_error_t *err);
int msg_get_bool (const struct msg *m, const char *key, bool required, bool *out, fs_error_t *err);

/* Route a reply back through a ROUTER socket: prefix the routing id. */
int msg_route (struct zmsg *m, const void *rid, size_t ridlen);

#endif
