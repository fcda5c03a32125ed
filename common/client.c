/* client.c - requests from the fedsched command (see client.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "common/msg.h"

#define CLIENT_DEFAULT_URI "tcp://127.0.0.1:7700"

struct client {
    struct zsock *sock;
    struct zsock_opts zo;
    char keys[4096];
    char serverkey[64];
    char uri[FS_URI_MAX];
    int64_t next_id;
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
    snprintf (c->uri, sizeof (c->uri), "%s", uri);
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

json_t *client_call (struct client *c, const char *op, json_t *body, fs_error_t *err)
{
    int64_t id = ++c->next_id;
    if (client_send (c, op, id, body, err) < 0)
        return NULL;
    double timeout = client_timeout ();
    for (;;) {
        struct zmsg *z = client_recv (c, (long)(timeout * 1000));
        if (!z) {
            errprintf (err, FS_EUNREACH, "no answer from %s for %g s (is it running? check "
                       "--scheduler or FEDSCHED_SCHEDULER; FEDSCHED_TIMEOUT sets the wait)",
                       c->uri, timeout);
            return NULL;
        }
        struct msg m;
        fs_error_t derr;
        int rc = msg_decode (z, 0, &m, &derr);
        zmsg_destroy (&z);
        if (rc < 0 || m.id != id) {      /* a late answer to an earlier request */
            msg_release (&m);
            continue;
        }
        if (!m.ok) {
            errprintf (err, m.errcode ? m.errcode : FS_EFAIL, "%s", m.errtext);
            msg_release (&m);
            return NULL;
        }
        json_t *b = json_incref (m.body);
        msg_release (&m);
        return b;
    }
}

int client_fail (const fs_error_t *err)
{
    fprintf (stderr, "fedsched: error: %s\n", err->text);
    return err->code ? err->code : FS_EFAIL;
}
