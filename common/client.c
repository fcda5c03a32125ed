/* client.c - requests from the fedsched command (see client.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <stdint.h>
#include <sys/random.h>
#include <unistd.h>

#include "client.h"
#include "common/clock.h"
#include "common/msg.h"

#define CLIENT_DEFAULT_URI "tcp://127.0.0.1:7700"

struct client {
    struct zsock *sock;
    struct zsock_opts zo;
    char keys[4096];
    char serverkey[64];
    char uri[FS_URI_MAX];
    char site[72];              /* "" for the scheduler, else the site whose data port
                                 * uri is (for messages) */
    bool default_uri;           /* the scheduler at the default address: none was given */
    int64_t next_id;
    double timeout;             /* 0: client_timeout() */
};

static struct {
    bool set;
    fs_security_t security;
    char keys[4096];
    char key_name[32];
} ident;

void client_identity (fs_security_t security, const char *keys, const char *key_name)
{
    ident.set = true;
    ident.security = security;
    snprintf (ident.keys, sizeof (ident.keys), "%s", keys ? keys : "");
    snprintf (ident.key_name, sizeof (ident.key_name), "%s", key_name ? key_name : "client");
}

double client_timeout (void)
{
    const char *s = getenv ("FEDSCHED_TIMEOUT");
    char *end;
    double t = s ? strtod (s, &end) : 10.0;
    if (!s || end == s || t <= 0)
        t = 10.0;
    return t;
}

double client_timeout_of (const struct client *c)
{
    return c && c->timeout > 0 ? c->timeout : client_timeout ();
}

const char *client_scheduler_uri (const struct client_opts *o)
{
    if (o && o->scheduler)
        return o->scheduler;
    const char *e = getenv ("FEDSCHED_SCHEDULER");
    return e && *e ? e : CLIENT_DEFAULT_URI;
}

static int client_open (struct client *c, fs_error_t *err)
{
    c->sock = zsock_create (ZSOCK_DEALER, &c->zo, err);
    if (!c->sock)
        return -1;
    if (zsock_connect (c->sock, c->uri, err) < 0) {
        zsock_destroy (c->sock);
        c->sock = NULL;
        return -1;
    }
    return 0;
}

struct client *client_create (const struct client_opts *o, const char *uri, fs_error_t *err)
{
    struct client *c = calloc (1, sizeof (*c));
    if (!c) {
        errprintf (err, FS_EFAIL, "out of memory");
        return NULL;
    }
    c->zo.security = SEC_NONE;
    if (ident.set) {
        c->zo.security = ident.security;
        snprintf (c->keys, sizeof (c->keys), "%s", ident.keys);
        c->zo.key_name = ident.key_name;
    } else {
        /* A client speaks CURVE when its key directory holds client.key. */
        const char *keys = o && o->keys ? o->keys : getenv ("FEDSCHED_KEYS");
        char path[4200];
        snprintf (path, sizeof (path), "%s/client.key", keys ? keys : "");
        if (keys && *keys && access (path, F_OK) == 0) {
            c->zo.security = SEC_CURVE;
            snprintf (c->keys, sizeof (c->keys), "%s", keys);
            c->zo.key_name = "client";
        }
    }
    c->zo.keys = c->keys;
    if (c->zo.security == SEC_CURVE && o && o->serverkey) {
        if (!o->serverkey[0]) {
            free (c);
            errprintf (err, FS_EUNREACH, "%s: the scheduler knows no CURVE key for this site "
                       "(is the site running with security: curve?)", uri);
            return NULL;
        }
        snprintf (c->serverkey, sizeof (c->serverkey), "%s", o->serverkey);
        c->zo.serverkey = c->serverkey;
    }
    c->zo.maxmsgsize = 256 << 20;
    c->timeout = o && o->timeout > 0 ? o->timeout : 0;
    snprintf (c->uri, sizeof (c->uri), "%s", uri);
    if (o && o->serverkey)
        snprintf (c->site, sizeof (c->site), "%.64s", o->site ? o->site : "?");
    const char *env = getenv ("FEDSCHED_SCHEDULER");
    c->default_uri = !c->site[0] && !(o && o->scheduler) && !(env && *env)
                     && !strcmp (uri, CLIENT_DEFAULT_URI);
    if (client_open (c, err) < 0) {
        free (c);
        return NULL;
    }
    return c;
}

void client_destroy (struct client *c)
{
    if (!c)
        return;
    zsock_destroy (c->sock);
    free (c);
}

int client_reconnect (struct client *c, fs_error_t *err)
{
    zsock_destroy (c->sock);
    c->sock = NULL;
    return client_open (c, err);
}

int client_send (struct client *c, const char *op, int64_t id, json_t *body, fs_error_t *err)
{
    struct zmsg *m = msg_request (op, id, body);
    if (!m)
        return errprintf (err, FS_EFAIL, "cannot encode %s", op);
    return zsock_send (c->sock, &m, err);
}

int client_send_data (struct client *c, const char *op, int64_t id, json_t *body,
                      const void *data, size_t len, fs_error_t *err)
{
    struct zmsg *m = msg_request (op, id, body);
    if (!m || zmsg_addmem (m, data, len) < 0) {
        zmsg_destroy (&m);
        return errprintf (err, FS_EFAIL, "cannot encode %s", op);
    }
    return zsock_send (c->sock, &m, err);
}

struct zmsg *client_recv (struct client *c, long timeout_ms)
{
    bool ready;
    if (zsock_poll (&c->sock, 1, &ready, timeout_ms) <= 0 || !ready)
        return NULL;
    return zsock_recv (c->sock, true);
}

int client_poll (struct client **cs, int n, bool *ready, long timeout_ms)
{
    struct zsock *socks[16];
    if (n < 0 || n > 16)
        return -1;
    for (int i = 0; i < n; i++)
        socks[i] = cs[i] ? cs[i]->sock : NULL;
    return zsock_poll (socks, n, ready, timeout_ms);
}

/* Seconds between copies of an idempotent request that has no answer yet. */
static double resend_interval (double timeout)
{
    double r = timeout / 4;
    return r < 1.0 ? 1.0 : r > 3.0 ? 3.0 : r;
}

/* Nothing came back: say who did not answer, where, and what to check. */
static void client_unreachable (const struct client *c, double timeout, fs_error_t *err)
{
    if (c->site[0]) {
        errprintf (err, FS_EUNREACH, "no answer from site '%s' (its data port %s) for %g s: the "
                   "site may be down or out of reach from here (see 'fedsched sites'; "
                   "FEDSCHED_TIMEOUT sets the wait)", c->site, c->uri, timeout);
        return;
    }
    if (c->default_uri)
        errprintf (err, FS_EUNREACH, "no answer from the scheduler at %s (the default address: "
                   "neither --scheduler nor FEDSCHED_SCHEDULER is set) for %g s: for a local "
                   "federation, run '. DIR/env' first", c->uri, timeout);
    else
        errprintf (err, FS_EUNREACH, "no answer from the scheduler at %s for %g s: is it running "
                   "there? (the address is --scheduler, else FEDSCHED_SCHEDULER, and the keys "
                   "--keys, else FEDSCHED_KEYS: '. DIR/env' sets both for a local federation; "
                   "FEDSCHED_TIMEOUT sets the wait)", c->uri, timeout);
}

json_t *client_exchange (struct client *c, const char *op, json_t *body, double deadline,
                         bool resend, fs_error_t *err)
{
    int64_t first = c->next_id + 1, id = ++c->next_id;
    json_t *again = resend && body ? json_deep_copy (body) : NULL;
    if (client_send (c, op, id, body, err) < 0) {
        json_decref (again);
        return NULL;
    }
    double timeout = client_timeout_of (c);
    double t0 = clock_mono (), silent_until = t0 + timeout;
    double next_send = again ? t0 + resend_interval (timeout) : -1;
    for (;;) {
        double t = clock_mono ();
        bool by_deadline = deadline >= 0 && deadline < silent_until;
        double end = by_deadline ? deadline : silent_until;
        if (next_send >= 0 && t >= next_send) {
            /* No answer yet (the scheduler may have restarted): the same
             * request again; its token makes every copy answer alike. */
            fs_error_t e2;
            client_send (c, op, id = ++c->next_id, json_deep_copy (again), &e2);
            next_send = t + resend_interval (timeout);
        }
        double until = next_send >= 0 && next_send < end ? next_send : end;
        struct zmsg *z = t < until ? client_recv (c, (long)ceil ((until - t) * 1000)) : NULL;
        if (!z) {
            if (clock_mono () < end)
                continue;       /* interrupted, or time to send again */
            json_decref (again);
            if (by_deadline) {
                errprintf (err, FS_ETIMEOUT, "%s: no answer before the deadline", op);
                return NULL;
            }
            client_unreachable (c, timeout, err);
            return NULL;
        }
        size_t len = 0;
        const void *data = zmsg_data (z, 0, &len);
        json_t *root = data ? json_loadb (data, len, JSON_REJECT_DUPLICATES, NULL) : NULL;
        zmsg_destroy (&z);
        json_t *jid = json_object_get (root, "id");
        if (!json_is_object (root) || !json_is_integer (jid) || json_integer_value (jid) < first
            || json_integer_value (jid) > id) {
            json_decref (root);         /* garbage, or a late answer to an earlier call */
            continue;
        }
        json_decref (again);
        return root;
    }
}

json_t *client_reply_body (const json_t *root, int *code, const char **text)
{
    if (json_is_true (json_object_get (root, "ok"))) {
        json_t *b = json_object_get (root, "body");
        return json_is_object (b) ? json_incref (b) : json_object ();
    }
    json_t *e = json_object_get (root, "error");
    json_int_t c = json_integer_value (json_object_get (e, "code"));
    const char *t = json_string_value (json_object_get (e, "text"));
    *code = c > 0 && c < 126 ? (int)c : FS_EFAIL;
    *text = t && *t ? t : "the request was refused (no reason given)";
    return NULL;
}

/* The body of reply root (taken), or NULL with err from an error reply. */
static json_t *reply_body (json_t *root, fs_error_t *err)
{
    int code;
    const char *text;
    json_t *b = client_reply_body (root, &code, &text);
    if (!b)
        errprintf (err, code, "%s", text);
    json_decref (root);
    return b;
}

json_t *client_call (struct client *c, const char *op, json_t *body, fs_error_t *err)
{
    json_t *root = client_exchange (c, op, body, -1, false, err);
    return root ? reply_body (root, err) : NULL;
}

json_t *client_call_token (struct client *c, const char *op, json_t *body, fs_error_t *err)
{
    char token[FS_TOKEN_MAX + 1];
    const char *given = json_string_value (json_object_get (body, "token"));
    if (given)
        snprintf (token, sizeof (token), "%s", given);
    else {
        client_token (token, sizeof (token));
        json_object_set_new (body, "token", json_string (token));
    }
    json_t *root = client_exchange (c, op, body, -1, true, err);
    if (!root) {
        if (err && err->code == FS_EUNREACH) {
            size_t n = strlen (err->text);
            snprintf (err->text + n, sizeof (err->text) - n, "; it may have been done all the "
                      "same: the same command with --token %s tells, and does it at most once",
                      token);
        }
        return NULL;
    }
    return reply_body (root, err);
}

void client_token (char *buf, size_t size)
{
    unsigned char r[16];
    if (getrandom (r, sizeof (r), 0) != (ssize_t)sizeof (r)) {
        /* No entropy source: time, pid and address make a collision unlikely. */
        uint64_t a = (uint64_t)(clock_wall () * 1e6), b = (uint64_t)getpid () ^ (uint64_t)(uintptr_t)buf;
        memcpy (r, &a, 8);
        memcpy (r + 8, &b, 8);
    }
    size_t n = 0;
    for (size_t i = 0; i < sizeof (r) && n + 2 < size; i++)
        n += (size_t)snprintf (buf + n, size - n, "%02x", r[i]);
}

int client_fail (const fs_error_t *err)
{
    fprintf (stderr, "fedsched: error: %s\n", err->text);
    return errcode_exit (err->code);
}
