/* zsock.h - every ZeroMQ socket of fedsched is made here.
 *
 * The only module that includes zmq.h.  Security is applied in one place
 * (zsock_create), so CURVE is switched on for every link at once; every
 * socket facing the network gets a maximum message size, so a hostile peer
 * is disconnected instead of exhausting memory.
 *
 * struct zmsg is a multipart message: a list of frames.  Sending takes
 * ownership (the caller's pointer is nulled, as in czmq).
 */
#ifndef FS_ZSOCK_H
#define FS_ZSOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "error.h"

enum zsock_type { ZSOCK_ROUTER, ZSOCK_DEALER, ZSOCK_PUSH, ZSOCK_PULL };

struct zsock_opts {
    fs_security_t security;     /* SEC_NONE or SEC_CURVE */
    const char *keys;           /* key directory for CURVE */
    const char *key_name;       /* own pair: KEYS/NAME.key ("scheduler", "site", "client") */
    bool server;                /* CURVE server side (bind): admits the keys of
                                 * KEYS/authorized/ and KEYS/admin/ (ZAP) */
    const char *serverkey;      /* client side: the server's public key (z85);
                                 * NULL: KEYS/scheduler.pub */
    int64_t maxmsgsize;         /* 0: no limit (inproc only) */
    int linger_ms;              /* -1: default 0 */
    int sndhwm, rcvhwm;         /* 0: ZeroMQ's defaults */
};

struct zsock;
struct zmsg;

/* One process-wide context, created on first use. */
void zsock_shutdown (void);

/* Caller frees with zsock_destroy(). */
struct zsock *zsock_create (enum zsock_type type, const struct zsock_opts *opts, fs_error_t *err);
void zsock_destroy (struct zsock *s);       /* accepts NULL */
int zsock_bind (struct zsock *s, const char *uri, fs_error_t *err);
int zsock_connect (struct zsock *s, const char *uri, fs_error_t *err);
/* The endpoint actually bound (after binding port 0 or "*"); borrowed. */
const char *zsock_endpoint (struct zsock *s);

/* Send all frames of *m; takes ownership and nulls *m, also on error. */
int zsock_send (struct zsock *s, struct zmsg **m, fs_error_t *err);
/* Receive one whole message; NULL on error or when nothing is waiting
 * (nonblocking, errno EAGAIN).  Caller frees with zmsg_destroy(). */
struct zmsg *zsock_recv (struct zsock *s, bool nonblocking);

/* Wait up to timeout_ms (-1 forever) for any of socks[i] to be readable;
 * ready[i] set accordingly.  Returns the number ready, 0 on timeout, -1 on
 * error (EINTR included).  socks[i] may be NULL (never ready). */
int zsock_poll (struct zsock **socks, int n, bool *ready, long timeout_ms);

struct zmsg *zmsg_create (void);
void zmsg_destroy (struct zmsg **m);        /* accepts NULL and *m == NULL */
size_t zmsg_size (const struct zmsg *m);    /* number of frames */
/* Frame i's bytes (borrowed, valid until the message is destroyed). */
const void *zmsg_data (const struct zmsg *m, size_t i, size_t *len);
/* Append a copy of data. */
int zmsg_addmem (struct zmsg *m, const void *data, size_t len);
int zmsg_addstr (struct zmsg *m, const char *s);
/* Append a frame of len bytes and return a pointer to fill before sending:
 * the zero-copy path for bulk data. NULL on allocation failure. */
void *zmsg_addsize (struct zmsg *m, size_t len);
/* Append a frame of len > 0 bytes at data without copying them: ZeroMQ calls
 * ffn(data, hint) when it is done with them (from its own thread).  On failure
 * (-1) ffn is not called and the caller still owns data. */
typedef void zmsg_free_f (void *data, void *hint);
int zmsg_addref (struct zmsg *m, void *data, size_t len, zmsg_free_f *ffn, void *hint);
/* Insert a copy of data before frame i (i <= size). */
int zmsg_insert (struct zmsg *m, size_t i, const void *data, size_t len);
/* Remove frame 0 and copy up to n bytes of it to buf; returns its length, -1 if empty. */
ssize_t zmsg_pop (struct zmsg *m, void *buf, size_t n);

/* Who sent m, as the ZAP handler authenticated it (CURVE only, else NULL):
 * the role "admin" or "user", and the sender's public key (z85). */
const char *zmsg_user (const struct zmsg *m);
const char *zmsg_key (const struct zmsg *m);

/* CURVE keys: write a key pair into DIR (NAME.key secret, NAME.pub public). */
int zsock_keygen (const char *dir, const char *name, fs_error_t *err);
/* "ZeroMQ 4.3.4 (CURVE: yes)": the library in use, into buf; returns buf. */
const char *zsock_version (char *buf, size_t size);

#endif
