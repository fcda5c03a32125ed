/* jobs.c - libfedsched: validate, submit, status, wait, cancel (see fedsched.h;
 * docs/protocol.md, "Jobs").
 *
 * A job file is read here (at most JOBFILE_MAX bytes of UTF-8 text, no NUL) and
 * sent whole; the scheduler parses and checks it, and answers problems with
 * every FILE:LINE:COL message, one per line.  fs_job_wait asks for job.status
 * every POLL_MIN seconds, backing off to POLL_MAX while nothing changes.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/msg.h"
#include "lib_int.h"

#define JOBFILE_MAX (1 << 20)
#define POLL_MIN 0.5
#define POLL_MAX 2.0

/* {file, text} of a job file; NULL with FS_EINVAL. */
static json_t *jobfile_body (const char *path, struct fs_error **err)
{
    if (!path || !*path) {
        lib_fail (err, FS_EINVAL, "no job file named");
        return NULL;
    }
    FILE *f = fopen (path, "rb");
    if (!f) {
        lib_failf (err, FS_EINVAL, "cannot read %s: %s", path, strerror (errno));
        return NULL;
    }
    char *buf = malloc (JOBFILE_MAX + 1);
    if (!buf) {
        fclose (f);
        lib_fail (err, FS_EFAIL, "out of memory");
        return NULL;
    }
    size_t n = fread (buf, 1, JOBFILE_MAX + 1, f);
    int e = errno;
    bool bad = ferror (f);
    fclose (f);
    json_t *text = NULL;
    if (bad)
        lib_failf (err, FS_EINVAL, "cannot read %s: %s", path, strerror (e));
    else if (n > JOBFILE_MAX)
        lib_failf (err, FS_EINVAL, "%s: a job file may hold at most 1 MiB", path);
    else if (memchr (buf, '\0', n))
        lib_failf (err, FS_EINVAL, "%s: not a text file (it holds a NUL byte)", path);
    else if (!(text = json_stringn (buf, n)))
        lib_failf (err, FS_EINVAL, "%s: not UTF-8 text", path);
    free (buf);
    json_t *p = text ? json_string (path) : NULL;
    if (text && !p) {
        json_decref (text);
        lib_fail (err, FS_EINVAL, "the job file's name is not UTF-8");
        return NULL;
    }
    return text ? json_pack ("{s:o, s:o}", "file", p, "text", text) : NULL;
}

FS_PUBLIC char *fs_validate (struct fs_client *c, const char *file, struct fs_error **err)
{
    json_t *body = jobfile_body (file, err);
    json_t *r = body ? lib_call (c, "job.validate", body, -1, err) : NULL;
    return r ? lib_text (r, err) : NULL;
}

/* A token given, or a new one; false with FS_EINVAL when malformed. */
static bool token_of (const char *given, char *buf, size_t len, struct fs_error **err)
{
    if (!given) {
        client_token (buf, len);
        return true;
    }
    size_t n = strlen (given);
    if (n < 1 || n > FS_TOKEN_MAX || n >= len || strspn (given, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                         "abcdefghijklmnopqrstuvwxyz0123456789._-") != n) {
        lib_failf (err, FS_EINVAL, "token '%.200s' must be 1 to %d characters of [A-Za-z0-9._-]", given,
                   FS_TOKEN_MAX);
        return false;
    }
    memcpy (buf, given, n + 1);
    return true;
}

FS_PUBLIC int64_t fs_submit (struct fs_client *c, const char *file, const char *token,
                             struct fs_error **err)
{
    char tok[FS_TOKEN_MAX + 1];
    if (!token_of (token, tok, sizeof (tok), err))
        return -1;
    json_t *body = jobfile_body (file, err);
    if (!body)
        return -1;
    json_object_set_new (body, "token", json_string (tok));
    json_t *r = lib_call (c, "job.submit", body, -1, err);
    if (!r)
        return -1;
    json_int_t id = json_integer_value (json_object_get (r, "id"));
    json_decref (r);
    if (id <= 0)
        return lib_fail (err, FS_EFAIL, "the scheduler answered job.submit without a job id");
    return (int64_t)id;
}

FS_PUBLIC char *fs_job_status (struct fs_client *c, int64_t id, struct fs_error **err)
{
    json_t *r = lib_call (c, "job.status", json_pack ("{s:I}", "id", (json_int_t)id), -1, err);
    return r ? lib_text (r, err) : NULL;
}

static bool ended (const char *state)
{
    return state && (!strcmp (state, "COMPLETED") || !strcmp (state, "FAILED")
                     || !strcmp (state, "CANCELLED"));
}

static void sleep_s (double s)
{
    if (s <= 0)
        return;
    struct timespec ts = { (time_t)s, (long)((s - floor (s)) * 1e9) };
    while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* The tasks' states of a status, as one comparable text. */
static char *task_states (const json_t *st)
{
    json_t *a = json_array ();
    size_t i;
    json_t *t;
    json_array_foreach (json_object_get (st, "tasks"), i, t)
        json_array_append (a, json_object_get (t, "state"));
    char *s = json_dumps (a, JSON_COMPACT);
    json_decref (a);
    return s;
}

FS_PUBLIC char *fs_job_wait (struct fs_client *c, int64_t id, double timeout, fs_status_f each,
                             void *arg, struct fs_error **err)
{
    double t0 = clock_mono (), deadline = timeout >= 0 ? t0 + timeout : -1, interval = POLL_MIN;
    char *prev = NULL, state[32] = "PENDING";
    bool first = true;
    for (;;) {
        /* The first call is always answered (or unreachable), even with timeout 0. */
        double left = first || deadline < 0 ? -1 : deadline - clock_mono ();
        struct fs_error *e = NULL;
        json_t *st = lib_call (c, "job.status", json_pack ("{s:I}", "id", (json_int_t)id),
                               first || deadline < 0 ? -1 : (left > 0 ? left : 0), &e);
        first = false;
        if (!st) {
            if (fs_error_code (e) == FS_ETIMEOUT) {
                fs_error_free (e);
                break;
            }
            free (prev);
            if (err)
                *err = e;
            else
                fs_error_free (e);
            return NULL;
        }
        const char *s = json_string_value (json_object_get (st, "state"));
        snprintf (state, sizeof (state), "%s", s ? s : "?");
        if (each) {
            char *txt = json_dumps (st, JSON_COMPACT | JSON_PRESERVE_ORDER);
            if (txt)
                each (arg, txt);
            free (txt);
        }
        if (ended (s)) {
            free (prev);
            return lib_text (st, err);
        }
        char *now_states = task_states (st);
        json_decref (st);
        bool changed = !prev || !now_states || strcmp (prev, now_states);
        free (prev);
        prev = now_states;
        double now = clock_mono ();
        if (deadline >= 0 && now >= deadline)
            break;
        interval = changed ? POLL_MIN : fmin (interval * 1.5, POLL_MAX);
        sleep_s (deadline >= 0 ? fmin (interval, deadline - now) : interval);
    }
    free (prev);
    lib_failf (err, FS_ETIMEOUT, "job %lld is still %s after %g s", (long long)id, state, timeout);
    return NULL;
}

FS_PUBLIC char *fs_job_cancel (struct fs_client *c, int64_t id, const char *token,
                               struct fs_error **err)
{
    char tok[FS_TOKEN_MAX + 1];
    if (!token_of (token, tok, sizeof (tok), err))
        return NULL;
    json_t *r = lib_call (c, "job.cancel", json_pack ("{s:I, s:s}", "id", (json_int_t)id, "token", tok),
                          -1, err);
    return r ? lib_text (r, err) : NULL;
}
