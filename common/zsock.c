/* zsock.c - ZeroMQ sockets and multipart messages (see zsock.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "zsock.h"

#define ZMSG_MAXFRAMES 16

struct zsock {
    void *sock;
    enum zsock_type type;
    char endpoint[FS_URI_MAX];
};

struct zmsg {
    size_t n;
    zmq_msg_t frames[ZMSG_MAXFRAMES];
};

static void *zctx;
static pthread_once_t zctx_once = PTHREAD_ONCE_INIT;

static void zctx_init (void)
{
    zctx = zmq_ctx_new ();
    zmq_ctx_set (zctx, ZMQ_IO_THREADS, 1);
    zmq_ctx_set (zctx, ZMQ_BLOCKY, 0);
}

static void *ctx_get (void)
{
    pthread_once (&zctx_once, zctx_init);
    return zctx;
}

void zsock_shutdown (void)
{
    if (zctx) {
        zmq_ctx_term (zctx);
        zctx = NULL;
    }
}

struct zsock *zsock_create (enum zsock_type type, const struct zsock_opts *opts, fs_error_t *err)
{
    static const int types[] = { ZMQ_ROUTER, ZMQ_DEALER, ZMQ_PUSH, ZMQ_PULL };
    struct zsock_opts defaults = { .security = SEC_NONE, .linger_ms = 0 };
    if (!opts)
        opts = &defaults;
    if (opts->security == SEC_CURVE) {
        errprintf (err, FS_EFAIL, "security: curve is not available in this build yet; "
                                  "set 'security: none' in the configuration");
        return NULL;
    }
    struct zsock *s = calloc (1, sizeof (*s));
    if (!s) {
        errprintf (err, FS_EFAIL, "out of memory");
        return NULL;
    }
    s->type = type;
    s->sock = zmq_socket (ctx_get (), types[type]);
    if (!s->sock) {
        errprintf (err, FS_EFAIL, "cannot create socket: %s", zmq_strerror (zmq_errno ()));
        free (s);
        return NULL;
    }
    int linger = opts->linger_ms < 0 ? 0 : opts->linger_ms;
    zmq_setsockopt (s->sock, ZMQ_LINGER, &linger, sizeof (linger));
    if (opts->maxmsgsize > 0)
        zmq_setsockopt (s->sock, ZMQ_MAXMSGSIZE, &opts->maxmsgsize, sizeof (opts->maxmsgsize));
    if (opts->sndhwm > 0)
        zmq_setsockopt (s->sock, ZMQ_SNDHWM, &opts->sndhwm, sizeof (int));
    if (opts->rcvhwm > 0)
        zmq_setsockopt (s->sock, ZMQ_RCVHWM, &opts->rcvhwm, sizeof (int));
    if (type == ZSOCK_ROUTER) {
        int one = 1;        /* a reply to a vanished peer fails loudly instead of vanishing */
        zmq_setsockopt (s->sock, ZMQ_ROUTER_MANDATORY, &one, sizeof (one));
    }
    if (type == ZSOCK_DEALER || type == ZSOCK_ROUTER) {
        int ivl = 100, max = 2000;
        zmq_setsockopt (s->sock, ZMQ_RECONNECT_IVL, &ivl, sizeof (ivl));
        zmq_setsockopt (s->sock, ZMQ_RECONNECT_IVL_MAX, &max, sizeof (max));
    }
    return s;
}

void zsock_destroy (struct zsock *s)
{
    if (!s)
        return;
    zmq_close (s->sock);
    free (s);
}

int zsock_bind (struct zsock *s, const char *uri, fs_error_t *err)
{
    if (zmq_bind (s->sock, uri) < 0)
        return errprintf (err, FS_EFAIL, "cannot listen on %s: %s", uri, zmq_strerror (zmq_errno ()));
    size_t len = sizeof (s->endpoint);
    if (zmq_getsockopt (s->sock, ZMQ_LAST_ENDPOINT, s->endpoint, &len) < 0)
        snprintf (s->endpoint, sizeof (s->endpoint), "%s", uri);
    return 0;
}

int zsock_connect (struct zsock *s, const char *uri, fs_error_t *err)
{
    if (zmq_connect (s->sock, uri) < 0)
        return errprintf (err, FS_EINVAL, "cannot connect to %s: %s", uri, zmq_strerror (zmq_errno ()));
    snprintf (s->endpoint, sizeof (s->endpoint), "%s", uri);
    return 0;
}

const char *zsock_endpoint (struct zsock *s)
{
    return s->endpoint;
}

int zsock_send (struct zsock *s, struct zmsg **mp, fs_error_t *err)
{
    struct zmsg *m = *mp;
    *mp = NULL;
    int rc = 0;
    size_t i;
    for (i = 0; i < m->n; i++) {
        int flags = i + 1 < m->n ? ZMQ_SNDMORE : 0;
        int r;
        do
            r = zmq_msg_send (&m->frames[i], s->sock, flags);
        while (r < 0 && zmq_errno () == EINTR);
        if (r < 0) {
            rc = errprintf (err, FS_EFAIL, "send failed: %s", zmq_strerror (zmq_errno ()));
            break;
        }
    }
    /* Frames that were sent are now empty; close them all. */
    for (size_t j = 0; j < m->n; j++)
        zmq_msg_close (&m->frames[j]);
    free (m);
    return rc;
}

struct zmsg *zsock_recv (struct zsock *s, bool nonblocking)
{
    struct zmsg *m = zmsg_create ();
    if (!m)
        return NULL;
    int more = 1;
    int flags = nonblocking ? ZMQ_DONTWAIT : 0;
    while (more) {
        zmq_msg_t part;
        zmq_msg_init (&part);
        int r;
        do
            r = zmq_msg_recv (&part, s->sock, flags);
        while (r < 0 && zmq_errno () == EINTR);
        if (r < 0) {
            int e = zmq_errno ();
            zmq_msg_close (&part);
            zmsg_destroy (&m);
            errno = e;
            return NULL;
        }
        flags = 0;          /* the rest of a multipart message is already here */
        more = zmq_msg_more (&part);
        if (m->n < ZMSG_MAXFRAMES) {
            zmq_msg_init (&m->frames[m->n]);
            zmq_msg_move (&m->frames[m->n], &part);
            m->n++;
        }
        /* Frames beyond the limit are drained and dropped; the message is
         * then malformed for every protocol and gets an error reply. */
        zmq_msg_close (&part);
    }
    return m;
}

int zsock_poll (struct zsock **socks, int n, bool *ready, long timeout_ms)
{
    zmq_pollitem_t items[16];
    if (n > 16)
        n = 16;
    for (int i = 0; i < n; i++) {
        items[i].socket = socks[i] ? socks[i]->sock : NULL;
        items[i].fd = -1;
        items[i].events = socks[i] ? ZMQ_POLLIN : 0;
        items[i].revents = 0;
    }
    int r = zmq_poll (items, n, timeout_ms);
    for (int i = 0; i < n; i++)
        ready[i] = r > 0 && (items[i].revents & ZMQ_POLLIN);
    return r;
}

struct zmsg *zmsg_create (void)
{
    return calloc (1, sizeof (struct zmsg));
}

void zmsg_destroy (struct zmsg **mp)
{
    if (!mp || !*mp)
        return;
    for (size_t i = 0; i < (*mp)->n; i++)
        zmq_msg_close (&(*mp)->frames[i]);
    free (*mp);
    *mp = NULL;
}

size_t zmsg_size (const struct zmsg *m)
{
    return m->n;
}

const void *zmsg_data (const struct zmsg *m, size_t i, size_t *len)
{
    if (i >= m->n) {
        if (len)
            *len = 0;
        return NULL;
    }
    zmq_msg_t *f = (zmq_msg_t *)&m->frames[i];
    if (len)
        *len = zmq_msg_size (f);
    return zmq_msg_data (f);
}

void *zmsg_addsize (struct zmsg *m, size_t len)
{
    if (m->n >= ZMSG_MAXFRAMES)
        return NULL;
    if (zmq_msg_init_size (&m->frames[m->n], len) < 0)
        return NULL;
    return zmq_msg_data (&m->frames[m->n++]);
}

int zmsg_addmem (struct zmsg *m, const void *data, size_t len)
{
    void *p = zmsg_addsize (m, len);
    if (!p)
        return -1;
    if (len)
        memcpy (p, data, len);
    return 0;
}

int zmsg_addstr (struct zmsg *m, const char *s)
{
    return zmsg_addmem (m, s, strlen (s));
}

int zmsg_insert (struct zmsg *m, size_t i, const void *data, size_t len)
{
    if (m->n >= ZMSG_MAXFRAMES || i > m->n)
        return -1;
    zmq_msg_t f;
    if (zmq_msg_init_size (&f, len) < 0)
        return -1;
    if (len)
        memcpy (zmq_msg_data (&f), data, len);
    /* zmq_msg_t may be moved bytewise when not yet shared with a socket. */
    memmove (&m->frames[i + 1], &m->frames[i], (m->n - i) * sizeof (zmq_msg_t));
    memcpy (&m->frames[i], &f, sizeof (f));
    m->n++;
    return 0;
}

ssize_t zmsg_pop (struct zmsg *m, void *buf, size_t n)
{
    if (m->n == 0)
        return -1;
    size_t len = zmq_msg_size (&m->frames[0]);
    if (buf)
        memcpy (buf, zmq_msg_data (&m->frames[0]), len < n ? len : n);
    zmq_msg_close (&m->frames[0]);
    memmove (&m->frames[0], &m->frames[1], (m->n - 1) * sizeof (zmq_msg_t));
    m->n--;
    return (ssize_t)len;
}

int zsock_keygen (const char *dir, const char *name, fs_error_t *err)
{
    char pub[41], sec[41];
    if (zmq_curve_keypair (pub, sec) < 0)
        return errprintf (err, FS_EFAIL, "cannot make a CURVE key pair: %s", zmq_strerror (zmq_errno ()));
    char path[4096];
    snprintf (path, sizeof (path), "%s/%s.key", dir, name);
    FILE *f = fopen (path, "w");
    if (!f)
        return errprintf (err, FS_EFAIL, "cannot write %s: %s", path, strerror (errno));
    fprintf (f, "public = \"%s\"\nsecret = \"%s\"\n", pub, sec);
    fclose (f);
    snprintf (path, sizeof (path), "%s/%s.pub", dir, name);
    f = fopen (path, "w");
    if (!f)
        return errprintf (err, FS_EFAIL, "cannot write %s: %s", path, strerror (errno));
    fprintf (f, "public = \"%s\"\n", pub);
    fclose (f);
    return 0;
}
