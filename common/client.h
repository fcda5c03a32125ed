/* client.h - the command's side of the protocol: requests to the scheduler
 * or a site, with the timeout of SPEC section 1 ($FEDSCHED_TIMEOUT, exit 75). */
#ifndef FS_CLIENT_H
#define FS_CLIENT_H

#include <jansson.h>

#include "common/error.h"
#include "common/zsock.h"

struct client_opts {
    const char *scheduler;      /* --scheduler, else $FEDSCHED_SCHEDULER, else default */
    const char *keys;           /* --keys, else $FEDSCHED_KEYS: CURVE when it holds client.key */
    const char *serverkey;      /* the server's CURVE key (z85) when it is not the
                                 * scheduler's (a site's data port); "" unknown */
    const char *site;           /* with serverkey: the site whose data port it is (for
                                 * messages); NULL: the peer is the scheduler */
    bool json;                  /* --json */
    const char *reader_site;    /* a site reading another site's data: who it is */
    const char *reader_region;  /*   (NULL for a reader outside every site) */
    bool local_reads;           /* get: copy runs of a site's file on this host
                                 * directly (docs/protocol.md, Local reads) */
    double timeout;             /* seconds of silence before a peer is unreachable;
                                 * 0: client_timeout() */
};

struct client;

/* A daemon's own identity for the connections it makes as a client (a site
 * staging inputs from another): used instead of --keys/$FEDSCHED_KEYS. */
void client_identity (fs_security_t security, const char *keys, const char *key_name);

/* Seconds of silence after which a peer counts as unreachable. */
double client_timeout (void);
/* Seconds of silence after which c's peer counts as unreachable: its
 * options' timeout, else client_timeout(). */
double client_timeout_of (const struct client *c);
/* The scheduler URI from opts/environment/default (borrowed). */
const char *client_scheduler_uri (const struct client_opts *o);

/* Connect to uri (the scheduler or a site's data port).  Caller frees with
 * client_destroy(). */
struct client *client_create (const struct client_opts *o, const char *uri, fs_error_t *err);
void client_destroy (struct client *c);     /* accepts NULL */
/* Send a request; return the reply body (new reference), or NULL with err:
 * the error reply's code and text, or FS_EUNREACH when nothing came back within
 * client_timeout().  body is stolen. */
json_t *client_call (struct client *c, const char *op, json_t *body, fs_error_t *err);

/* The whole answer to op: the reply object {op, id, ok, body | error} (new
 * reference; an error reply is an answer too), or NULL with err: FS_EUNREACH
 * after client_timeout() seconds without an answer, FS_ETIMEOUT at deadline (a
 * clock_mono() time; < 0: none).  body is stolen.  resend: the request is
 * idempotent (body holds its "token", docs/protocol.md "Tokens") and goes out
 * again every few seconds while no answer has come, so a scheduler that
 * restarted meanwhile still answers it, and answers each copy alike. */
json_t *client_exchange (struct client *c, const char *op, json_t *body, double deadline,
                         bool resend, fs_error_t *err);
/* The body of an answer (client_exchange's root, borrowed): new reference;
 * or NULL for an error reply, with its code and its whole text (borrowed
 * from root; any length: a job file's errors run to many lines). */
json_t *client_reply_body (const json_t *root, int *code, const char **text);
/* client_call for an idempotent request: body (stolen) gets a new "token"
 * unless it has one, and is sent again while no answer comes (see
 * client_exchange).  On FS_EUNREACH the message names the token. */
json_t *client_call_token (struct client *c, const char *op, json_t *body, fs_error_t *err);
/* A new random token for an idempotent request (32 hex digits; size >= 33). */
void client_token (char *buf, size_t size);

/* Low-level, for streaming: send a request without waiting; receive the next
 * message (NULL on timeout_ms silence).  The socket is reconnectable:
 * client_reconnect() drops queued replies and connects anew. */
int client_send (struct client *c, const char *op, int64_t id, json_t *body, fs_error_t *err);
struct zmsg *client_recv (struct client *c, long timeout_ms);
/* client_send with one binary frame after the JSON (data borrowed; copied). */
int client_send_data (struct client *c, const char *op, int64_t id, json_t *body,
                      const void *data, size_t len, fs_error_t *err);
int client_reconnect (struct client *c, fs_error_t *err);
/* Wait up to timeout_ms for a message on any of cs[0..n-1] (entries may be
 * NULL); ready[i] says which.  The number ready, 0 on timeout, -1 on error. */
int client_poll (struct client **cs, int n, bool *ready, long timeout_ms);

/* Print "fedsched: error: TEXT" on stderr and return the exit code of err. */
int client_fail (const fs_error_t *err);

#endif
