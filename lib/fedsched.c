/* fedsched.c - libfedsched: errors, options, connecting, requests and the
 * catalog (see fedsched.h). */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/format/format.h"
#include "common/clock.h"
#include "lib_int.h"

struct fs_error {
    int code;
    char *message;
};

FS_PUBLIC const char *fs_version (int *api)
{
    if (api)
        *api = FS_API_VERSION;
    return FS_VERSION;
}

/* --- errors ------------------------------------------------------------ */

int lib_fail (struct fs_error **err, int code, const char *text)
{
    if (!err)
        return -1;
    struct fs_error *e = calloc (1, sizeof (*e));
    if (e) {
        e->code = code ? code : FS_EFAIL;
        e->message = strdup (text && *text ? text : "the request failed (no reason given)");
        if (!e->message) {
            free (e);
            e = NULL;
        }
    }
    *err = e;                   /* NULL when out of memory: the caller sees -1 all the same */
    return -1;
}

int lib_failf (struct fs_error **err, int code, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (buf, sizeof (buf), fmt, ap);
    va_end (ap);
    return lib_fail (err, code, buf);
}

int lib_fail_e (struct fs_error **err, const fs_error_t *e)
{
    return lib_fail (err, e->code, e->text);
}

FS_PUBLIC int fs_error_code (const struct fs_error *e)
{
    return e ? e->code : FS_EFAIL;
}

FS_PUBLIC const char *fs_error_message (const struct fs_error *e)
{
    return e ? e->message : "out of memory";
}

FS_PUBLIC void fs_error_free (struct fs_error *e)
{
    if (!e)
        return;
    free (e->message);
    free (e);
}

FS_PUBLIC void fs_free (void *p)
{
    free (p);
}

char *lib_text (json_t *j, struct fs_error **err)
{
    char *t = j ? json_dumps (j, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER) : NULL;
    json_decref (j);
    if (!t)
        lib_fail (err, FS_EFAIL, "out of memory");
    return t;
}

/* --- options ----------------------------------------------------------- */

FS_PUBLIC struct fs_options *fs_options_new (void)
{
    struct fs_options *o = calloc (1, sizeof (*o));
    if (o)
        o->local_reads = -1;
    return o;
}

FS_PUBLIC void fs_options_free (struct fs_options *o)
{
    free (o);
}

FS_PUBLIC int fs_options_set (struct fs_options *o, const char *name, const char *value,
                              struct fs_error **err)
{
    if (!o || !name || !value)
        return lib_fail (err, FS_EINVAL, "fs_options_set: options, name and value are needed");
    if (!strcmp (name, "scheduler")) {
        if (!*value || strlen (value) >= sizeof (o->scheduler) || !strstr (value, "://"))
            return lib_failf (err, FS_EINVAL, "option scheduler: '%s' is not a URI like "
                              "tcp://HOST:PORT", value);
        snprintf (o->scheduler, sizeof (o->scheduler), "%s", value);
    } else if (!strcmp (name, "keys")) {
        if (strlen (value) >= sizeof (o->keys))
            return lib_fail (err, FS_EINVAL, "option keys: the path is too long");
        snprintf (o->keys, sizeof (o->keys), "%s", value);
    } else if (!strcmp (name, "timeout")) {
        char *end;
        errno = 0;
        double t = strtod (value, &end);
        if (end == value || *end || errno || !isfinite (t) || t <= 0 || t > 1e6)
            return lib_failf (err, FS_EINVAL, "option timeout: '%s' is not a number of seconds "
                              "above 0", value);
        o->timeout = t;
    } else if (!strcmp (name, "local_reads")) {
        if (strcmp (value, "0") && strcmp (value, "1"))
            return lib_failf (err, FS_EINVAL, "option local_reads: '%s' is neither 0 nor 1", value);
        o->local_reads = value[0] == '1';
    } else {
        return lib_failf (err, FS_EINVAL, "unknown option '%s' (scheduler, keys, timeout, "
                          "local_reads)", name);
    }
    return 0;
}

/* --- connecting -------------------------------------------------------- */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void lib_init (void)
{
    format_init ();
}

FS_PUBLIC struct fs_client *fs_connect (const struct fs_options *o, struct fs_error **err)
{
    pthread_once (&init_once, lib_init);
    struct fs_client *c = calloc (1, sizeof (*c));
    if (!c) {
        lib_fail (err, FS_EFAIL, "out of memory");
        return NULL;
    }
    if (o)
        c->opt = *o;
    else
        c->opt.local_reads = -1;
    if (c->opt.scheduler[0])
        c->co.scheduler = c->opt.scheduler;
    if (c->opt.keys[0])
        c->co.keys = c->opt.keys;
    c->co.timeout = c->opt.timeout;
    const char *lr = getenv ("FEDSCHED_LOCAL_READS");
    c->co.local_reads = c->opt.local_reads >= 0 ? c->opt.local_reads == 1 : !lr || strcmp (lr, "0");
    fs_error_t e = { 0 };
    c->c = client_create (&c->co, client_scheduler_uri (&c->co), &e);
    if (!c->c) {
        lib_fail_e (err, &e);
        free (c);
        return NULL;
    }
    return c;
}

FS_PUBLIC void fs_close (struct fs_client *c)
{
    if (!c)
        return;
    client_destroy (c->c);
    free (c);
}

/* --- requests ---------------------------------------------------------- */

json_t *lib_call (struct fs_client *c, const char *op, json_t *body, double timeout,
                  struct fs_error **err)
{
    if (!c) {
        json_decref (body);
        lib_fail (err, FS_EINVAL, "no connection (fs_connect first)");
        return NULL;
    }
    fs_error_t e = { 0 };
    bool token = json_is_string (json_object_get (body, "token"));
    double deadline = timeout >= 0 ? clock_mono () + timeout : -1;
    json_t *root = client_exchange (c->c, op, body ? body : json_object (), deadline, token, &e);
    if (!root) {
        lib_fail_e (err, &e);
        return NULL;
    }
    int code;
    const char *text;
    json_t *b = client_reply_body (root, &code, &text);
    if (!b)
        lib_fail (err, code, text);
    json_decref (root);
    return b;
}

FS_PUBLIC char *fs_call (struct fs_client *c, const char *op, const char *body, double timeout,
                         struct fs_error **err)
{
    json_t *b = NULL;
    if (!op || !*op) {
        lib_fail (err, FS_EINVAL, "fs_call: no request named");
        return NULL;
    }
    if (body) {
        json_error_t je;
        b = json_loads (body, JSON_REJECT_DUPLICATES, &je);
        if (!json_is_object (b)) {
            json_decref (b);
            lib_failf (err, FS_EINVAL, "fs_call %s: the body is not a JSON object: %s", op,
                       b ? "another JSON value" : je.text);
            return NULL;
        }
    }
    json_t *r = lib_call (c, op, b, timeout, err);
    return r ? lib_text (r, err) : NULL;
}

/* --- the catalog ------------------------------------------------------- */

/* A string member from caller text that must be UTF-8; NULL with FS_EINVAL. */
static json_t *utf8 (const char *what, const char *s, struct fs_error **err)
{
    json_t *j = json_string (s);
    if (!j)
        lib_failf (err, FS_EINVAL, "%s is not UTF-8 text", what);
    return j;
}

FS_PUBLIC char *fs_catalog (struct fs_client *c, const char *glob, const char *const *where,
                            struct fs_error **err)
{
    json_t *body = json_object ();
    if (glob) {
        json_t *g = utf8 ("GLOB", glob, err);
        if (!g) {
            json_decref (body);
            return NULL;
        }
        json_object_set_new (body, "glob", g);
    }
    if (where && where[0]) {
        json_t *w = json_array ();
        for (int i = 0; where[i]; i++) {
            json_t *s = utf8 ("a --where condition", where[i], err);
            if (!s) {
                json_decref (w);
                json_decref (body);
                return NULL;
            }
            json_array_append_new (w, s);
        }
        json_object_set_new (body, "where", w);
    }
    json_t *r = lib_call (c, "catalog.list", body, -1, err);
    if (!r)
        return NULL;
    json_t *d = json_incref (json_object_get (r, "datasets"));
    json_decref (r);
    return lib_text (d ? d : json_array (), err);
}

FS_PUBLIC char *fs_search (struct fs_client *c, const char *text, int limit, struct fs_error **err)
{
    if (limit < 1) {
        lib_fail (err, FS_EINVAL, "the limit must be a positive integer");
        return NULL;
    }
    json_t *t = utf8 ("the search text", text ? text : "", err);
    if (!t)
        return NULL;
    json_t *r = lib_call (c, "catalog.search", json_pack ("{s:o, s:i}", "text", t, "limit", limit), -1,
                          err);
    if (!r)
        return NULL;
    json_t *d = json_incref (json_object_get (r, "datasets"));
    json_decref (r);
    return lib_text (d ? d : json_array (), err);
}

FS_PUBLIC char *fs_info (struct fs_client *c, const char *name, struct fs_error **err)
{
    json_t *n = utf8 ("the dataset's name", name ? name : "", err);
    if (!n)
        return NULL;
    json_t *r = lib_call (c, "catalog.info", json_pack ("{s:o}", "name", n), -1, err);
    if (!r)
        return NULL;
    json_t *d = json_incref (json_object_get (r, "dataset"));
    json_decref (r);
    if (!d) {
        lib_fail (err, FS_EFAIL, "the scheduler answered catalog.info without a dataset");
        return NULL;
    }
    return lib_text (d, err);
}
