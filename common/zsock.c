/* zsock.c - ZeroMQ sockets and multipart messages (see zsock.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "keys.h"
#include "zsock.h"

#define ZMSG_MAXFRAMES 16

struct zsock {
    void *sock;
    enum zsock_type type;
    char endpoint[FS_URI_MAX];
};

struct zmsg {
    char user[16];                  /* ZAP user id ("admin", "user"), "" if none */
    char key[FS_Z85_KEY + 1];       /* the sender's CURVE public key, "" if none */
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

/* --- ZAP (RFC 27): who may connect to a CURVE server ------------------
 *
 * One handler thread per process, started with the first CURVE server
 * socket.  Each server socket's ZAP domain names its key directory (an index
 * into zap_dirs); the allow-lists are read at every handshake, so a key added
 * to or removed from authorized/ or admin/ counts from the next connection. */
#define ZAP_MAXDIRS 8
#define ZAP_PROP "X-Curve-Key"

static pthread_mutex_t zap_lock = PTHREAD_MUTEX_INITIALIZER;
static char zap_dirs[ZAP_MAXDIRS][4096];
static int zap_ndirs;
static bool zap_started;

void zsock_shutdown (void)
{
    if (zctx) {
        zmq_ctx_term (zctx);
        zctx = NULL;
        pthread_mutex_lock (&zap_lock);
        zap_started = false;
        zap_ndirs = 0;
        pthread_mutex_unlock (&zap_lock);
    }
}

static void zap_send (void *sock, const char *const *f, const size_t *len, int n)
{
    for (int i = 0; i < n; i++)
        zmq_send (sock, f[i], len[i], i + 1 < n ? ZMQ_SNDMORE : 0);
}

static void zap_answer (void *sock, zmq_msg_t *fr, int nf)
{
    char reqid[256] = "", domain[64] = "", pub[FS_Z85_KEY + 1] = "";
    size_t reqlen = 0;
    const char *role = NULL;
    char dir[4096] = "";
    if (nf >= 2) {
        reqlen = zmq_msg_size (&fr[1]) < sizeof (reqid) ? zmq_msg_size (&fr[1]) : sizeof (reqid);
        memcpy (reqid, zmq_msg_data (&fr[1]), reqlen);
    }
    if (nf >= 7 && zmq_msg_size (&fr[2]) < sizeof (domain)
        && zmq_msg_size (&fr[5]) == 5 && !memcmp (zmq_msg_data (&fr[5]), "CURVE", 5)
        && zmq_msg_size (&fr[6]) == 32) {
        memcpy (domain, zmq_msg_data (&fr[2]), zmq_msg_size (&fr[2]));
        int k = !strncmp (domain, "fedsched:", 9) ? atoi (domain + 9) : -1;
        pthread_mutex_lock (&zap_lock);
        if (k >= 0 && k < zap_ndirs)
            snprintf (dir, sizeof (dir), "%s", zap_dirs[k]);
        pthread_mutex_unlock (&zap_lock);
        zmq_z85_encode (pub, zmq_msg_data (&fr[6]), 32);
        if (dir[0])
            role = keys_role (dir, pub);
    }
    /* Metadata: the client's key as a message property (ZMTP name/value). */
    unsigned char meta[1 + sizeof (ZAP_PROP) + 4 + FS_Z85_KEY];
    size_t mlen = 0;
    if (role) {
        meta[mlen++] = (unsigned char)strlen (ZAP_PROP);
        memcpy (meta + mlen, ZAP_PROP, strlen (ZAP_PROP));
        mlen += strlen (ZAP_PROP);
        meta[mlen++] = 0, meta[mlen++] = 0, meta[mlen++] = 0, meta[mlen++] = FS_Z85_KEY;
        memcpy (meta + mlen, pub, FS_Z85_KEY);
        mlen += FS_Z85_KEY;
    }
    const char *f[6] = { "1.0", reqid, role ? "200" : "400", role ? "OK" : "key not admitted",
                         role ? role : "", (const char *)meta };
    size_t len[6] = { 3, reqlen, 3, strlen (f[3]), strlen (f[4]), mlen };
    zap_send (sock, f, len, 6);
}

static void *zap_thread (void *arg)
{
    void *sock = arg;
    for (;;) {
        zmq_msg_t fr[8];
        int nf = 0, more = 1;
        while (more) {
            zmq_msg_t part;
            zmq_msg_init (&part);
            if (zmq_msg_recv (&part, sock, 0) < 0) {
                zmq_msg_close (&part);
                if (zmq_errno () == EINTR)
                    continue;
                for (int i = 0; i < nf; i++)
                    zmq_msg_close (&fr[i]);
                zmq_close (sock);           /* ETERM: the context is ending */
                return NULL;
            }
            more = zmq_msg_more (&part);
            if (nf < 8) {
                zmq_msg_init (&fr[nf]);
                zmq_msg_move (&fr[nf++], &part);
            }
            zmq_msg_close (&part);
        }
        zap_answer (sock, fr, nf);
        for (int i = 0; i < nf; i++)
            zmq_msg_close (&fr[i]);
    }
}

/* The ZAP domain for a server with key directory dir; starts the handler. */
static int zap_domain (const char *dir, char *domain, size_t n, fs_error_t *err)
{
    pthread_mutex_lock (&zap_lock);
    int k;
    for (k = 0; k < zap_ndirs; k++)
        if (!strcmp (zap_dirs[k], dir))
            break;
    if (k == zap_ndirs) {
        if (k == ZAP_MAXDIRS) {
            pthread_mutex_unlock (&zap_lock);
            return errprintf (err, FS_EFAIL, "too many CURVE key directories in one process");
        }
        snprintf (zap_dirs[k], sizeof (zap_dirs[k]), "%s", dir);
        zap_ndirs++;
    }
    if (!zap_started) {
        void *sock = zmq_socket (ctx_get (), ZMQ_REP);
        int linger = 0;
        pthread_t t;
        if (sock)
            zmq_setsockopt (sock, ZMQ_LINGER, &linger, sizeof (linger));
        if (!sock || zmq_bind (sock, "inproc://zeromq.zap.01") < 0
            || pthread_create (&t, NULL, zap_thread, sock) != 0) {
            if (sock)
                zmq_close (sock);
            pthread_mutex_unlock (&zap_lock);
            return errprintf (err, FS_EFAIL, "cannot start the CURVE authenticator: %s",
                              zmq_strerror (zmq_errno ()));
        }
        pthread_detach (t);
        zap_started = true;
    }
    pthread_mutex_unlock (&zap_lock);
    snprintf (domain, n, "fedsched:%d", k);
    return 0;
}

static int curve_setup (void *sock, const struct zsock_opts *o, fs_error_t *err)
{
    char path[4096], pub[FS_Z85_KEY + 1], sec[FS_Z85_KEY + 1], srv[FS_Z85_KEY + 1];
    if (!o->keys || !o->keys[0])
        return errprintf (err, FS_EINVAL, "security: curve needs a key directory");
    const char *name = o->key_name ? o->key_name : o->server ? "scheduler" : "client";
    snprintf (path, sizeof (path), "%s/%s.key", o->keys, name);
    if (keys_read (path, pub, sec, err) < 0)
        return -1;
    if (o->server) {
        char domain[32];
        int one = 1;
        if (zap_domain (o->keys, domain, sizeof (domain), err) < 0)
            return -1;
        if (zmq_setsockopt (sock, ZMQ_ZAP_DOMAIN, domain, strlen (domain)) < 0
            || zmq_setsockopt (sock, ZMQ_CURVE_SERVER, &one, sizeof (one)) < 0
            || zmq_setsockopt (sock, ZMQ_CURVE_SECRETKEY, sec, FS_Z85_KEY + 1) < 0)
            return errprintf (err, FS_EFAIL, "cannot set up CURVE: %s", zmq_strerror (zmq_errno ()));
        return 0;
    }
    if (o->serverkey) {
        if (strlen (o->serverkey) != FS_Z85_KEY)
            return errprintf (err, FS_EINVAL, "the server's CURVE key is not 40 z85 characters");
        memcpy (srv, o->serverkey, FS_Z85_KEY + 1);
    } else {
        snprintf (path, sizeof (path), "%s/scheduler.pub", o->keys);
        if (keys_read (path, srv, NULL, err) < 0)
            return -1;
    }
    if (zmq_setsockopt (sock, ZMQ_CURVE_SERVERKEY, srv, FS_Z85_KEY + 1) < 0
        || zmq_setsockopt (sock, ZMQ_CURVE_PUBLICKEY, pub, FS_Z85_KEY + 1) < 0
        || zmq_setsockopt (sock, ZMQ_CURVE_SECRETKEY, sec, FS_Z85_KEY + 1) < 0)
        return errprintf (err, FS_EFAIL, "cannot set up CURVE: %s", zmq_strerror (zmq_errno ()));
    return 0;
}

struct zsock *zsock_create (enum zsock_type type, const struct zsock_opts *opts, fs_error_t *err)
{
    static const int types[] = { ZMQ_ROUTER, ZMQ_DEALER, ZMQ_PUSH, ZMQ_PULL };
    struct zsock_opts defaults = { .security = SEC_NONE, .linger_ms = 0 };
    if (!opts)
        opts = &defaults;
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
    if (opts->security == SEC_CURVE && curve_setup (s->sock, opts, err) < 0) {
        zmq_close (s->sock);
        free (s);
        return NULL;
    }
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
        if (!m->user[0]) {  /* a ROUTER's identity frame carries no properties */
            const char *u = zmq_msg_gets (&part, "User-Id");
            const char *k = zmq_msg_gets (&part, ZAP_PROP);
            if (u && *u)
                snprintf (m->user, sizeof (m->user), "%s", u);
            if (k && strlen (k) == FS_Z85_KEY)
                memcpy (m->key, k, FS_Z85_KEY + 1);
        }
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

const char *zmsg_user (const struct zmsg *m)
{
    return m->user[0] ? m->user : NULL;
}

const char *zmsg_key (const struct zmsg *m)
{
    return m->key[0] ? m->key : NULL;
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

int zmsg_addref (struct zmsg *m, void *data, size_t len, zmsg_free_f *ffn, void *hint)
{
    if (m->n >= ZMSG_MAXFRAMES || len == 0)
        return -1;
    if (zmq_msg_init_data (&m->frames[m->n], data, len, ffn, hint) < 0)
        return -1;
    m->n++;
    return 0;
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
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    FILE *f = fd >= 0 ? fdopen (fd, "w") : NULL;
    if (fd >= 0)
        fchmod (fd, 0600);
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

const char *zsock_version (char *buf, size_t size)
{
    int major, minor, patch;
    zmq_version (&major, &minor, &patch);
    snprintf (buf, size, "ZeroMQ %d.%d.%d (CURVE: %s)", major, minor, patch,
              zmq_has ("curve") ? "yes" : "no");
    return buf;
}
