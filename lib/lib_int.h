/* lib_int.h - what the files of libfedsched share (lib/fedsched.c: errors,
 * options, connecting, requests, the catalog; lib/read.c: slices; lib/jobs.c:
 * jobs).  The protocol itself is common/client.c and workers/fetch.c: this
 * layer turns it into the public API of fedsched.h. */
#ifndef FS_LIB_INT_H
#define FS_LIB_INT_H

#include <jansson.h>

#include "common/client.h"
#include "common/error.h"
#include "lib/fedsched.h"

#define FS_PUBLIC __attribute__ ((visibility ("default")))

struct fs_options {
    char scheduler[1024];
    char keys[4096];
    double timeout;             /* 0: $FEDSCHED_TIMEOUT */
    int local_reads;            /* -1: $FEDSCHED_LOCAL_READS */
};

struct fs_client {
    struct fs_options opt;
    struct client_opts co;      /* pointing into opt */
    struct client *c;           /* the scheduler */
};

/* *err = a new error (when err is not NULL); returns -1. */
int lib_fail (struct fs_error **err, int code, const char *text);
int lib_failf (struct fs_error **err, int code, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
/* From an internal error. */
int lib_fail_e (struct fs_error **err, const fs_error_t *e);

/* Send op with body (stolen, NULL: {}) and wait for the answer: the reply's
 * body (new reference) or NULL with *err, the error reply's text whole
 * (job files' errors run to many lines).  A body with a "token" is sent again
 * while no answer comes.  timeout < 0: none (silence still ends the wait). */
json_t *lib_call (struct fs_client *c, const char *op, json_t *body, double timeout,
                  struct fs_error **err);
/* JSON text for the caller (fs_free), from j (taken); NULL with FS_EFAIL. */
char *lib_text (json_t *j, struct fs_error **err);

#endif
