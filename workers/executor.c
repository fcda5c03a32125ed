/* executor.c - tasks at a site (see executor.h). */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "adapters/launch/launch.h"
#include "adapters/sandbox/sandbox.h"
#include "appcache.h"
#include "common/checksum.h"
#include "common/clock.h"
#include "common/dtype.h"
#include "common/log.h"
#include "common/names.h"
#include "executor.h"
#include "meta.h"
#include "fetch.h"
#include "jobs/jobfile.h"

#define LOG_TAIL_MAX (256 << 10)

/* X_REPORTED: ended, its final task.update sent and kept (journalled) until
 * the scheduler acknowledges it; X_DONE: forgotten at the next tick. */
enum xphase { X_STAGING, X_RUNNING, X_FINISHING, X_REPORTED, X_DONE };

struct xtask {
    int64_t job;
    char task[JOB_IDENT_MAX];
    int attempt;
    int ranks;
    double walltime;
    enum xphase phase;
    char dir[PATH_MAX];
    json_t *start;              /* the task.start body */
    const char **command;       /* its command (borrowed from start), NULL-terminated */
    json_t *staged;             /* {input: {file, dset}} */
    json_t *transfers;
    int64_t bytes_local, bytes_moved;
    struct launch_proc *proc;
    char rec[LAUNCH_RECORD_MAX];    /* the launcher's record of it ("" before launch) */
    json_t *final;              /* X_REPORTED: the task.update to deliver */
    json_t *batch;              /* what its batch system says of it (launcher batch()),
                                 * in every task.update from then on; NULL */
    int64_t final_id;           /* the request id it was last sent with */
    unsigned hello_gen;         /* the hello that carried it (0: none) */
    bool launched;              /* the launch was journalled (the record may be missing) */
    bool held;                  /* recovered before launch: staged once the scheduler
                                 * has heard our hello (it may kill it first) */
    double stage_started;       /* when its inputs' staging began */
    double runtime_s;           /* how long it ran, as its launcher measured it */
    char app_entry[PATH_MAX + APP_PATH_MAX];   /* an app's task: its entry point, once staged */
    bool killed;
    struct xtask *next;
};

struct executor {
    const struct site_config *cfg;
    int cores;
    int node_cores;
    struct holdings *holdings;
    struct iopool *pool;
    executor_send_f send;
    void *arg;
    const struct launcher *launcher;
    struct xtask *tasks;
    int jfd;                    /* tasks.journal (see journal()) */
    unsigned hello_gen;         /* hellos built so far */
    uint64_t cache_max;         /* bytes (see cache_trim()) */
    double last_trim;
    bool cache_dirty;           /* inputs were staged into the cache since */
    struct appstore *apps;      /* the site's apps (sandbox) and their cache */
    struct appcache *appcache;
};

/* Held by a stager while it takes a cached input (touch, then stat) and by
 * cache_trim() while it decides on a file and removes it. */
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static int mkdirs (const char *path)
{
    char buf[PATH_MAX];
    snprintf (buf, sizeof (buf), "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir (buf, 0755) < 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir (buf, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

/* state_dir/NAME: the worker's journal and cache live there. */
static void state_path (const struct site_config *cfg, const char *name, char *buf, size_t size)
{
    snprintf (buf, size, "%.3900s/%.64s", cfg->state_dir, name);
}

static double mtime_of (const struct stat *st)
{
    return (double)st->st_mtim.tv_sec + (double)st->st_mtim.tv_nsec / 1e9;
}

/* --- the journal ----------------------------------------------------------------
 * A task attempt outlives the worker that started it: it runs under its
 * monitor (launch.h), and its result must reach the scheduler even if the
 * worker or the scheduler restarts meanwhile.  So the worker journals every
 * attempt in state_dir/tasks.journal, one JSON object a line:
 *
 *   {"start": TASK.START BODY}                       accepted
 *   {"run": {job, task, attempt, rec}}              launched; rec: the launcher's record
 *   {"end": {job, task, attempt, update}}           ended; update: the final task.update
 *   {"ack": {job, task, attempt}}                   the scheduler has it: forgotten
 *
 * A worker starting up replays it: an attempt with an end is reported again,
 * one that was launched is adopted from its record (poll then tells how it
 * ended, also while no worker ran), one that was only accepted is staged
 * again once the scheduler has heard the site's hello.  Appends, no fsync: the
 * journal must survive the worker, not the machine (a machine that restarts
 * has lost its tasks anyway).  It is emptied when no attempt is left, and
 * rewritten with the live ones past JOURNAL_COMPACT bytes. */
#define JOURNAL_COMPACT (256 << 10)

static void journal_line (int fd, const char *kind, json_t *o)
{
    json_t *line = json_pack ("{s:o}", kind, o);
    char *text = line ? json_dumps (line, JSON_COMPACT) : NULL;
    json_decref (line);
    if (!text || fd < 0) {
        free (text);
        return;
    }
    size_t n = strlen (text);
    text[n] = '\n';            /* json_dumps left room for the NUL */
    if (write (fd, text, n + 1) != (ssize_t) (n + 1))
        log_msg (LOG_WARN, "event=journal.fail reason=\"%s\"", strerror (errno));
    free (text);
}

static json_t *task_key (const struct xtask *t)
{
    return json_pack ("{s:I, s:s, s:i}", "job", (json_int_t) t->job, "task", t->task, "attempt",
                      t->attempt);
}

/* The lines that bring a reader to t's state, into fd. */
static void journal_task (int fd, const struct xtask *t)
{
    journal_line (fd, "start", json_incref (t->start));
    if (t->launched && !t->rec[0])
        journal_line (fd, "launch", task_key (t));
    if (t->rec[0]) {
        json_t *k = task_key (t);
        json_object_set_new (k, "rec", json_string (t->rec));
        journal_line (fd, "run", k);
    }
    if (t->final) {
        json_t *k = task_key (t);
        json_object_set_new (k, "update", json_incref (t->final));
        journal_line (fd, "end", k);
    }
}

static void journal_compact (struct executor *ex)
{
    struct stat st;
    if (ex->jfd < 0 || fstat (ex->jfd, &st) < 0 || st.st_size < JOURNAL_COMPACT)
        return;
    char path[PATH_MAX], tmp[PATH_MAX + 8];
    state_path (ex->cfg, "tasks.journal", path, sizeof (path));
    snprintf (tmp, sizeof (tmp), "%s.new", path);
    int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    for (struct xtask *t = ex->tasks; t; t = t->next)
        if (t->phase != X_DONE)
            journal_task (fd, t);
    if (rename (tmp, path) == 0) {
        close (ex->jfd);
        ex->jfd = fd;
    } else {                        /* keep the old one */
        close (fd);
        unlink (tmp);
    }
}

/* t is forgotten: the journal says so (or starts afresh when nothing is left). */
static void journal_forget (struct executor *ex, struct xtask *t)
{
    bool any = false;
    for (struct xtask *o = ex->tasks; o && !any; o = o->next)
        any = o != t && o->phase != X_DONE;
    if (!any && ex->jfd >= 0 && ftruncate (ex->jfd, 0) == 0)
        return;
    journal_line (ex->jfd, "ack", task_key (t));
    journal_compact (ex);
}

static struct xtask *xfind (struct executor *ex, int64_t job, const char *task, int attempt);
static struct xtask *xtask_new (struct executor *ex, json_t *start, fs_error_t *err);
static void task_adopt (struct executor *ex, struct xtask *t);
static void xtask_free (struct executor *ex, struct xtask *t);

/* Replay the journal of earlier workers (see above), then keep appending. */
static void journal_replay (struct executor *ex)
{
    char path[PATH_MAX];
    state_path (ex->cfg, "running.log", path, sizeof (path));
    unlink (path);                  /* the journal of fedsched 0.1, whose tasks died with it */
    state_path (ex->cfg, "tasks.journal", path, sizeof (path));
    FILE *f = fopen (path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int lineno = 0;
    while (f && (len = getline (&line, &cap, f)) > 0) {
        lineno++;
        json_error_t je;
        json_t *o = json_loadb (line, (size_t) len, 0, &je);
        const char *kind = NULL;
        json_t *v = NULL;
        if (o && json_object_size (o) == 1) {
            kind = json_object_iter_key (json_object_iter (o));
            v = json_object_get (o, kind);
        }
        json_int_t job = json_integer_value (json_object_get (v, "job"));
        const char *task = json_string_value (json_object_get (v, "task"));
        int attempt = (int) json_integer_value (json_object_get (v, "attempt"));
        struct xtask *t = task ? xfind (ex, job, task, attempt) : NULL;
        fs_error_t err;
        if (!kind || !task) {
            /* A line cut short by a crash mid-write is the only expected one. */
            log_msg (LOG_WARN, "event=journal.bad line=%d file=%s", lineno, path);
        } else if (!strcmp (kind, "start")) {
            if (!t && !xtask_new (ex, json_incref (v), &err))
                log_msg (LOG_WARN, "event=journal.bad line=%d reason=\"%s\"", lineno, err.text);
        } else if (t && !strcmp (kind, "launch")) {
            t->launched = true;
        } else if (t && !strcmp (kind, "run")) {
            snprintf (t->rec, sizeof (t->rec), "%s", json_string_value (json_object_get (v, "rec")) ?: "");
        } else if (t && !strcmp (kind, "end")) {
            json_decref (t->final);
            t->final = json_incref (json_object_get (v, "update"));
        } else if (t && !strcmp (kind, "ack")) {
            t->phase = X_DONE;
        }
        json_decref (o);
    }
    free (line);
    if (f)
        fclose (f);
    /* Drop the forgotten, and bring the others back to where they were. */
    struct xtask **pp = &ex->tasks;
    while (*pp) {
        struct xtask *t = *pp;
        if (t->phase == X_DONE) {
            *pp = t->next;
            xtask_free (ex, t);
            continue;
        }
        if (t->final)
            t->phase = X_REPORTED;
        else if (t->rec[0] || t->launched)
            task_adopt (ex, t);
        else
            t->held = true;
        log_msg (LOG_INFO, "event=task.recovered job=%lld task=%s attempt=%d state=%s",
                 (long long) t->job, t->task, t->attempt,
                 t->phase == X_REPORTED ? "ended" : t->phase == X_RUNNING ? "running" : "staging");
        pp = &t->next;
    }
    ex->jfd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (ex->jfd < 0)
        log_msg (LOG_WARN, "event=journal.fail path=%s reason=\"%s\"", path, strerror (errno));
    for (struct xtask *t = ex->tasks; t; t = t->next)
        journal_task (ex->jfd, t);
}

struct executor *executor_create (const struct site_config *cfg, int cores, int node_cores,
                                  struct holdings *holdings, struct iopool *pool,
                                  executor_send_f send, void *arg)
{
    struct executor *ex = calloc (1, sizeof (*ex));
    if (!ex)
        return NULL;
    fs_error_t err;
    ex->cfg = cfg;
    ex->cores = cores;
    ex->node_cores = node_cores > 0 ? node_cores : cores;
    ex->holdings = holdings;
    ex->pool = pool;
    ex->send = send;
    ex->arg = arg;
    ex->jfd = -1;
    ex->launcher = launcher_find (cfg->launcher[0] ? cfg->launcher : "mpirun", &err);
    if (!ex->launcher)
        log_msg (LOG_ERR, "event=launcher.unknown reason=\"%s\"", err.text);
    journal_replay (ex);
    ex->cache_max = cfg->cache_max;
    struct statvfs vfs;
    if (!ex->cache_max && statvfs (cfg->state_dir, &vfs) == 0)
        ex->cache_max = (uint64_t)vfs.f_blocks * vfs.f_frsize / 2;
    log_msg (LOG_INFO, "event=cache.limit bytes=%" PRIu64, ex->cache_max);
    struct launch_queue q;
    if (ex->launcher && ex->launcher->queue)
        ex->launcher->queue (cfg, &q);          /* a batch launcher starts looking now */
    return ex;
}

int executor_queue (struct executor *ex, struct launch_queue *q)
{
    if (!ex->launcher || !ex->launcher->queue)
        return -1;
    return ex->launcher->queue (ex->cfg, q);
}

void executor_set_apps (struct executor *ex, struct appstore *apps, struct appcache *cache)
{
    ex->apps = apps;
    ex->appcache = cache;
}

static void xtask_free (struct executor *ex, struct xtask *t)
{
    if (t->proc)
        ex->launcher->release (t->proc);      /* a task still running runs on */
    json_decref (t->start);
    free (t->command);
    json_decref (t->final);
    json_decref (t->batch);
    json_decref (t->staged);
    json_decref (t->transfers);
    free (t);
}

void executor_destroy (struct executor *ex)
{
    if (!ex)
        return;
    while (ex->tasks) {
        struct xtask *t = ex->tasks;
        ex->tasks = t->next;
        xtask_free (ex, t);
    }
    if (ex->jfd >= 0)
        close (ex->jfd);
    free (ex);
}

static struct xtask *xfind (struct executor *ex, int64_t job, const char *task, int attempt)
{
    for (struct xtask *t = ex->tasks; t; t = t->next)
        if (t->job == job && !strcmp (t->task, task) && (attempt < 0 || t->attempt == attempt))
            return t;
    return NULL;
}

static json_t *update_body (struct executor *ex, struct xtask *t, const char *state, json_t *extra)
{
    json_t *body = json_pack ("{s:s, s:I, s:s, s:i, s:s, s:I, s:I}", "site", ex->cfg->name, "job",
                              (json_int_t)t->job, "task", t->task, "attempt", t->attempt, "state",
                              state, "bytes_local", (json_int_t)t->bytes_local, "bytes_moved",
                              (json_int_t)t->bytes_moved);
    if (t->batch)
        json_object_set (body, "batch", t->batch);
    if (extra) {
        json_object_update (body, extra);
        json_decref (extra);
    }
    return body;
}

/* A passing state (STAGING, RUNNING): sent once; a hello tells it again. */
static void update (struct executor *ex, struct xtask *t, const char *state, json_t *extra)
{
    ex->send (ex->arg, "task.update", update_body (ex, t, state, extra));
}

/* The task's last word (COMPLETED, FAILED): journalled, and kept until the
 * scheduler acknowledges it (executor_acked, executor_hello_ok). */
static void report_final (struct executor *ex, struct xtask *t, const char *state, json_t *extra)
{
    json_decref (t->final);
    t->final = update_body (ex, t, state, extra);
    json_t *k = task_key (t);
    json_object_set_new (k, "update", json_incref (t->final));
    journal_line (ex->jfd, "end", k);
    t->final_id = ex->send (ex->arg, "task.update", json_incref (t->final));
    t->hello_gen = 0;
    t->phase = X_REPORTED;
}

/* Where a failed task's own words are: " (see 'fedsched logs J T --stderr')"
 * for the stream it wrote to (both when it wrote to both), or a note that it
 * wrote nothing, so that a hint never sends anyone to empty logs. */
static void logs_hint (const struct xtask *t, char *buf, size_t n)
{
    char path[PATH_MAX + 8];
    struct stat st;
    bool out, err;
    snprintf (path, sizeof (path), "%s/stdout", t->dir);
    out = stat (path, &st) == 0 && st.st_size > 0;
    snprintf (path, sizeof (path), "%s/stderr", t->dir);
    err = stat (path, &st) == 0 && st.st_size > 0;
    if (out && err)
        snprintf (buf, n, " (see 'fedsched logs %lld %s' and 'fedsched logs %lld %s "
                  "--stderr')", (long long)t->job, t->task, (long long)t->job, t->task);
    else if (out || err)
        snprintf (buf, n, " (see 'fedsched logs %lld %s%s')", (long long)t->job, t->task,
                  err ? " --stderr" : "");
    else
        snprintf (buf, n, " (it wrote nothing to stdout or stderr)");
}

static void task_failed (struct executor *ex, struct xtask *t, int exit_code, bool site_failure,
                         const char *why)
{
    log_msg (LOG_INFO, "event=task.failed job=%lld task=%s attempt=%d exit=%d reason=\"%s\"",
             (long long)t->job, t->task, t->attempt, exit_code, why);
    json_t *extra = json_pack ("{s:s, s:b}", "error", why, "site_failure", site_failure);
    if (exit_code != -1000)
        json_object_set_new (extra, "exit_code", json_integer (exit_code));
    report_final (ex, t, "FAILED", extra);
}

/* --- staging (in the stage pool) ---------------------------------------- */

struct stage_arg {
    const struct site_config *cfg;
    struct holdings *holdings;
    int64_t job;
    char task[JOB_IDENT_MAX];
    int attempt;
    json_t *inputs;             /* owned copy of task.start's inputs */
    json_t *outputs;            /* owned copy (finish) */
    char dir[PATH_MAX];
    bool finish;                /* register outputs instead of staging inputs */
    struct appcache *appcache;
    json_t *app;                /* owned copy of task.start's app, or NULL */
    char entry[APP_NAME_MAX];   /* the app's entry point the task runs (command[0]) */
    int ranks;
};

/* "NAME@VERSION sha256:HEX" of an app's task.start body, or "" (the value of
 * every output's fedsched_app attribute). */
static const char *app_ref (const json_t *app, char *buf, size_t size)
{
    const char *n = json_string_value (json_object_get (app, "name"));
    const char *v = json_string_value (json_object_get (app, "version"));
    const char *d = json_string_value (json_object_get (app, "digest"));
    snprintf (buf, size, "%s%s%s%s%s", n && v && d ? n : "", n && v && d ? "@" : "",
              n && v && d ? v : "", n && v && d ? " " : "", n && v && d ? d : "");
    return buf;
}

static void push_result (struct zsock *out, json_t *r)
{
    char *s = json_dumps (r, JSON_COMPACT);
    json_decref (r);
    struct zmsg *z = zmsg_create ();
    zmsg_addmem (z, "X", 1);
    zmsg_addstr (z, s);
    free (s);
    fs_error_t err;
    zsock_send (out, &z, &err);
}

/* A whole dataset held here, read as it is: no copy. */
static bool local_whole (struct stage_arg *a, const char *dataset, const fs_sel_t *sel,
                         const fs_reduce_t *red, struct holding *hd)
{
    fs_error_t err;
    if (red->op != RED_NONE || holdings_find (a->holdings, dataset, hd, &err) < 0)
        return false;
    if (sel->ndims != hd->info.ndims)
        return false;
    for (int d = 0; d < sel->ndims; d++)
        if (sel->dropped[d] || sel->start[d] || sel->step[d] != 1 || sel->count[d] != hd->info.shape[d])
            return false;
    return true;
}

static int stage_one (struct stage_arg *a, json_t *in, json_t *staged, json_t *transfers,
                      int64_t *bytes_local, int64_t *bytes_moved, fs_error_t *err)
{
    const char *name = json_string_value (json_object_get (in, "name"));
    const char *dataset = json_string_value (json_object_get (in, "dataset"));
    if (!name || !dataset)
        return errprintf (err, FS_EINVAL, "task.start: input without name or dataset");
    struct holding hd;
    fs_sel_t sel;
    fs_reduce_t red;
    json_t *jsel = json_object_get (in, "sel");
    if (reduce_from_json (json_object_get (in, "reduce"), &red, err) < 0)
        return -1;
    if (holdings_find (a->holdings, dataset, &hd, err) == 0
        && sel_from_json (jsel, hd.info.ndims, hd.info.shape, &sel, err) == 0
        && local_whole (a, dataset, &sel, &red, &hd)) {
        json_object_set_new (staged, name, json_pack ("{s:s, s:s}", "file", hd.file, "dset", hd.path));
        uint64_t b = dtype_size (hd.info.dtype);
        for (int d = 0; d < hd.info.ndims; d++)
            b *= hd.info.shape[d];
        *bytes_local += (int64_t)b;
        return 0;
    }
    /* The cache: one file per (dataset, version, selection, reduction, policy). */
    json_t *jkey = json_pack ("{s:s, s:O, s:O, s:O}", "d", dataset, "v",
                              json_object_get (in, "version"), "s", jsel, "r",
                              json_object_get (in, "reduce"));
    /* And under which policy it was read: a tightened policy (a higher
     * threshold, say) never reuses a read made under the looser one. */
    if (json_is_string (json_object_get (in, "policy")))
        json_object_set (jkey, "p", json_object_get (in, "policy"));
    char *key = json_dumps (jkey, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref (jkey);
    if (!key)
        return errprintf (err, FS_EFAIL, "out of memory");
    char file[PATH_MAX + 64], dir[PATH_MAX + 16];
    state_path (a->cfg, "cache", dir, sizeof (dir));
    snprintf (file, sizeof (file), "%s/%016" PRIx64 ".h5", dir, checksum (key, strlen (key)));
    free (key);
    struct stat st;
    /* A hit counts as a use (the cache evicts the least recently used). */
    pthread_mutex_lock (&cache_lock);
    bool hit = utimensat (AT_FDCWD, file, NULL, 0) == 0 && stat (file, &st) == 0;
    pthread_mutex_unlock (&cache_lock);
    if (hit) {
        json_object_set_new (staged, name, json_pack ("{s:s, s:s}", "file", file, "dset", "/data"));
        *bytes_local += (int64_t)st.st_size;
        log_msg (LOG_INFO, "event=stage.cached job=%lld task=%s input=%s dataset=%s", (long long)a->job,
                 a->task, name, dataset);
        return 0;
    }
    mkdirs (dir);
    /* The selection was resolved by the scheduler against the catalog's shape. */
    json_t *shape = NULL;
    (void)shape;
    fs_sel_t rsel;
    uint64_t big[FS_MAXDIMS];
    int nd = (int)json_array_size (json_object_get (jsel, "count"));
    for (int d = 0; d < nd && d < FS_MAXDIMS; d++)
        big[d] = UINT64_MAX / 2;      /* bounds are checked by the serving site */
    if (sel_from_json (jsel, nd, big, &rsel, err) < 0)
        return -1;
    struct client_opts co = { .reader_site = a->cfg->name, .reader_region = a->cfg->region };
    struct fetch_result res;
    if (fetch_slice (&co, dataset, &rsel, &red, json_object_get (in, "replicas"), file, "/data",
                     NULL, NULL, &res, err) < 0)
        return errprefix (err, "input %s (%s)", name, dataset);
    json_object_set_new (staged, name, json_pack ("{s:s, s:s}", "file", file, "dset", "/data"));
    if (!strcmp (res.site, a->cfg->name)) {
        *bytes_local += (int64_t)res.bytes;
    } else {
        *bytes_moved += (int64_t)res.bytes;
        json_array_append_new (transfers, json_pack ("{s:s, s:I, s:f}", "from", res.site, "bytes",
                                                     (json_int_t)res.bytes, "seconds", res.seconds));
    }
    log_msg (LOG_INFO, "event=stage.fetched job=%lld task=%s input=%s dataset=%s from=%s bytes=%" PRIu64
             " seconds=%.3f suppressed=%" PRIu64, (long long)a->job, a->task, name, dataset, res.site,
             res.bytes, res.seconds, res.suppressed);
    return 0;
}

/* The outputs a task wrote: checked, served here, registration entries. */
static int finish_outputs (struct stage_arg *a, json_t *entries, fs_error_t *err)
{
    size_t i;
    json_t *o;
    json_array_foreach (a->outputs, i, o) {
        const char *name = json_string_value (json_object_get (o, "name"));
        const char *dataset = json_string_value (json_object_get (o, "dataset"));
        const char *publish = json_string_value (json_object_get (o, "publish"));
        const char *policy = json_string_value (json_object_get (o, "policy"));
        struct holding hd;
        memset (&hd, 0, sizeof (hd));
        snprintf (hd.file, sizeof (hd.file), "%.3900s/%.64s.h5", a->dir, name);
        snprintf (hd.path, sizeof (hd.path), "/%s", name);
        char ref[APP_REF_MAX + SIGN_DIGEST_TEXT];
        char why[sizeof (err->text)];       /* err->text is written below */
        if (format_info (hd.file, hd.path, &hd.info, err) < 0) {
            snprintf (why, sizeof (why), "%s", err->text);
            return errprintf (err, FS_EFAIL, "output %s was not written as %s:%s (%s)", name,
                              hd.file, hd.path, why);
        }
        /* Provenance: an app's output names the exact build that wrote it. */
        if (a->app && format_attr_set (hd.file, hd.path, "fedsched_app",
                                       app_ref (a->app, ref, sizeof (ref)), err) < 0) {
            snprintf (why, sizeof (why), "%s", err->text);
            return errprintf (err, FS_EFAIL, "output %s: cannot record its app (%s)", name, why);
        }
        if (policy_parse (policy ? policy : "raw", &hd.policy, err) < 0)
            return -1;
        for (int k = 0; k < 2; k++) {
            const char *n = k == 0 ? dataset : publish;
            if (!n)
                continue;
            snprintf (hd.name, sizeof (hd.name), "%s", n);
            if (holdings_add (a->holdings, &hd, entries) < 0)
                return errprintf (err, FS_EFAIL, "out of memory");
        }
    }
    return 0;
}

static void stage_job (void *arg, struct zsock *out)
{
    struct stage_arg *a = arg;
    fs_error_t err = { 0 };
    if (!out) {
        json_decref (a->inputs);
        json_decref (a->outputs);
        json_decref (a->app);
        free (a);
        return;
    }
    json_t *r = json_pack ("{s:s, s:I, s:s, s:i}", "kind", a->finish ? "finished" : "staged", "job",
                           (json_int_t)a->job, "task", a->task, "attempt", a->attempt);
    int rc = 0;
    if (a->finish) {
        json_t *entries = json_array ();
        rc = finish_outputs (a, entries, &err);
        meta_attach (entries);
        json_object_set_new (r, "outputs", entries);
    } else {
        json_t *staged = json_object (), *transfers = json_array ();
        int64_t bl = 0, bm = 0;
        size_t i;
        json_t *in;
        if (a->app) {
            /* The app first: fetched, checked and unpacked once, shared. */
            struct app_ready ready;
            rc = appcache_ensure (a->appcache, a->app, a->entry, &ready, &err);
            if (rc == 0 && !ready.mpi && a->ranks > 1)
                rc = errprintf (&err, FS_EINVAL, "app %s is not an MPI app (mpi: false in its "
                                "app.yaml) but the task asks for %d ranks", ready.ref, a->ranks);
            if (rc == 0) {
                json_object_set_new (r, "app", json_pack ("{s:s, s:s}", "dir", ready.dir,
                                                          "entry", ready.entry));
                if (ready.fetched) {
                    bm += (int64_t)ready.bytes;
                    json_array_append_new (transfers, json_pack ("{s:s, s:I, s:f}", "from",
                                           ready.from, "bytes", (json_int_t)ready.bytes,
                                           "seconds", ready.seconds));
                }
            }
        }
        json_array_foreach (a->inputs, i, in)
            if (rc == 0 && (rc = stage_one (a, in, staged, transfers, &bl, &bm, &err)) < 0)
                break;
        json_object_set_new (r, "inputs", staged);
        json_object_set_new (r, "transfers", transfers);
        json_object_set_new (r, "bytes_local", json_integer (bl));
        json_object_set_new (r, "bytes_moved", json_integer (bm));
    }
    json_object_set_new (r, "ok", json_boolean (rc == 0));
    if (rc < 0) {
        json_object_set_new (r, "error", json_string (err.text));
        json_object_set_new (r, "unreachable", json_boolean (err.code == FS_EUNREACH));
    }
    push_result (out, r);
    json_decref (a->inputs);
    json_decref (a->outputs);
    json_decref (a->app);
    free (a);
}

static void submit_stage (struct executor *ex, struct xtask *t, bool finish)
{
    struct stage_arg *a = calloc (1, sizeof (*a));
    a->cfg = ex->cfg;
    a->holdings = ex->holdings;
    a->job = t->job;
    snprintf (a->task, sizeof (a->task), "%s", t->task);
    a->attempt = t->attempt;
    a->inputs = json_deep_copy (json_object_get (t->start, "inputs"));
    a->outputs = json_deep_copy (json_object_get (t->start, "outputs"));
    snprintf (a->dir, sizeof (a->dir), "%s", t->dir);
    a->finish = finish;
    a->appcache = ex->appcache;
    a->ranks = t->ranks;
    json_t *app = json_object_get (t->start, "app");
    if (json_is_object (app)) {
        a->app = json_deep_copy (app);
        snprintf (a->entry, sizeof (a->entry), "%s", t->command[0]);
    }
    if (!finish)
        t->stage_started = clock_wall ();
    iopool_submit (ex->pool, stage_job, a);
}

/* --- the event loop's side ----------------------------------------------- */

/* A task attempt from its task.start body (taken), linked into ex's list.
 * NULL with *err when the body lacks what every task has. */
static struct xtask *xtask_new (struct executor *ex, json_t *start, fs_error_t *err)
{
    json_int_t job, attempt, ranks;
    const char *task;
    json_t *command;
    double walltime;
    json_error_t jerr;
    if (json_unpack_ex (start, &jerr, 0, "{s:I, s:s, s:I, s:I, s:F, s:o}", "job", &job,
                        "task", &task, "attempt", &attempt, "ranks", &ranks, "walltime", &walltime,
                        "command", &command) < 0) {
        json_decref (start);
        errprintf (err, FS_EINVAL, "task.start: %s", jerr.text);
        return NULL;
    }
    fs_error_t e2;
    size_t n = json_array_size (command);
    bool strings = n > 0;
    for (size_t i = 0; i < n; i++)
        strings = strings && json_is_string (json_array_get (command, i));
    if (!strings || ident_valid ("task", task, &e2) < 0) {
        json_decref (start);
        errprintf (err, FS_EINVAL, "task.start: %s", strings ? e2.text
                   : "command must be a non-empty array of strings");
        return NULL;
    }
    struct xtask *t = calloc (1, sizeof (*t));
    const char **cmd = calloc (n + 1, sizeof (*cmd));
    if (!t || !cmd) {
        free (t);
        free (cmd);
        json_decref (start);
        errprintf (err, FS_EFAIL, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        cmd[i] = json_string_value (json_array_get (command, i));
    t->command = cmd;
    t->job = job;
    snprintf (t->task, sizeof (t->task), "%s", task);
    t->attempt = (int)attempt;
    t->ranks = (int)ranks;
    t->walltime = walltime;
    t->start = start;
    t->transfers = json_array ();
    snprintf (t->dir, sizeof (t->dir), "%.3900s/jobs/%lld/%.64s", ex->cfg->state_dir, (long long)job, task);
    t->next = ex->tasks;
    ex->tasks = t;
    return t;
}

static void task_stage (struct executor *ex, struct xtask *t)
{
    if (mkdirs (t->dir) < 0) {
        task_failed (ex, t, -1000, true, "cannot create the task's directory");
        return;
    }
    update (ex, t, "STAGING", NULL);
    submit_stage (ex, t, false);
}

int executor_start (struct executor *ex, const struct msg *m, fs_error_t *err)
{
    if (!ex->launcher)
        return errprintf (err, FS_EFAIL, "site %s has no usable launcher '%s'", ex->cfg->name,
                          ex->cfg->launcher);
    json_int_t job = json_integer_value (json_object_get (m->body, "job"));
    const char *task = json_string_value (json_object_get (m->body, "task"));
    int attempt = (int)json_integer_value (json_object_get (m->body, "attempt"));
    struct xtask *old = task ? xfind (ex, job, task, -1) : NULL;
    if (old && old->phase != X_DONE && old->phase != X_REPORTED) {
        if (old->attempt == attempt)
            return 0;               /* this very attempt again: it is here already */
        return errprintf (err, FS_EFAIL, "task %s of job %lld is already here (attempt %d)",
                          task, (long long)job, old->attempt);
    }
    struct xtask *t = xtask_new (ex, json_incref (m->body), err);
    if (!t)
        return -1;
    journal_line (ex->jfd, "start", json_incref (t->start));
    log_msg (LOG_INFO, "event=task.start job=%lld task=%s attempt=%d ranks=%d", (long long)t->job,
             t->task, t->attempt, t->ranks);
    task_stage (ex, t);
    return 0;
}

/* Where the placeholders of t's command point: its staged inputs, and its
 * outputs in its directory; names the task lacks are refused. */
static int resolve (void *arg, bool is_output, const char *name, char *file, size_t filesz,
                    char *dset, size_t dsetsz, fs_error_t *err)
{
    struct xtask *t = arg;
    if (is_output) {
        bool known = false;
        size_t i;
        json_t *o;
        json_array_foreach (json_object_get (t->start, "outputs"), i, o)
            known = known || !strcmp (json_string_value (json_object_get (o, "name")) ?: "", name);
        if (!known)
            return errprintf (err, FS_EINVAL, "task '%s': no output '%s'", t->task, name);
        snprintf (file, filesz, "%s/%s.h5", t->dir, name);
        snprintf (dset, dsetsz, "/%s", name);
        return 0;
    }
    json_t *s = json_object_get (t->staged, name);
    if (!s)
        return errprintf (err, FS_EINVAL, "task '%s': no input '%s'", t->task, name);
    snprintf (file, filesz, "%s", json_string_value (json_object_get (s, "file")));
    snprintf (dset, dsetsz, "%s", json_string_value (json_object_get (s, "dset")));
    return 0;
}

/* Everything of t's launch but its argv, for start and adopt.  The buffers
 * are the caller's (see struct launch_bufs). */
struct launch_bufs {
    char ejob[64], etask[128], esite[128], eattempt[48];
    char out[PATH_MAX + 16], err[PATH_MAX + 16], status[PATH_MAX + 32], name[256];
    char etmp[PATH_MAX + 16];
    const char *env[6];
    const char *ro[FS_MAX_ROOTS + 1];
};

static void launch_spec_of (struct executor *ex, struct xtask *t, struct launch_bufs *b,
                            struct launch_spec *spec)
{
    snprintf (b->ejob, sizeof (b->ejob), "FEDSCHED_JOB=%lld", (long long)t->job);
    snprintf (b->etask, sizeof (b->etask), "FEDSCHED_TASK=%s", t->task);
    snprintf (b->esite, sizeof (b->esite), "FEDSCHED_SITE=%s", ex->cfg->name);
    snprintf (b->eattempt, sizeof (b->eattempt), "FEDSCHED_ATTEMPT=%d", t->attempt);
    snprintf (b->out, sizeof (b->out), "%s/stdout", t->dir);
    snprintf (b->err, sizeof (b->err), "%s/stderr", t->dir);
    snprintf (b->status, sizeof (b->status), "%s/exit.%d.json", t->dir, t->attempt);
    snprintf (b->name, sizeof (b->name), "fedsched.%s.%lld.%s.%d", ex->cfg->name,
              (long long)t->job, t->task, t->attempt);
    b->env[0] = b->ejob;
    b->env[1] = b->etask;
    b->env[2] = b->esite;
    b->env[3] = b->eattempt;
    b->env[4] = NULL;
    if (json_is_object (json_object_get (t->start, "app"))) {
        /* An app's task writes temporary files (and Open MPI its session
         * directory) in its own directory: the rest is read-only to it. */
        snprintf (b->etmp, sizeof (b->etmp), "TMPDIR=%s/tmp", t->dir);
        b->env[4] = b->etmp;
        b->env[5] = NULL;
    }
    int n = 0;
    for (int i = 0; i < ex->cfg->nroots; i++)
        b->ro[n++] = ex->cfg->roots[i].path;
    b->ro[n] = NULL;
    *spec = (struct launch_spec){
        .ranks = t->ranks, .env = b->env, .cwd = t->dir, .stdout_path = b->out,
        .stderr_path = b->err, .walltime_s = t->walltime, .site = ex->cfg->name,
        .hostfile = ex->cfg->hostfile[0] ? ex->cfg->hostfile : NULL,
        .site_cores = ex->node_cores, .status_path = b->status, .name = b->name,
        .readonly = b->ro, .slurm = &ex->cfg->slurm,
    };
}

static void task_launch (struct executor *ex, struct xtask *t)
{
    fs_error_t err = { 0 };
    char **argv = jobfile_expand_command (t->command, t->task, ex->cfg->name, t->ranks, t->job,
                                          resolve, t, NULL, &err);
    if (!argv) {
        task_failed (ex, t, -1000, false, err.text);
        return;
    }
    struct launch_bufs b;
    struct launch_spec spec;
    char **wrap = NULL;
    launch_spec_of (ex, t, &b, &spec);
    if (t->app_entry[0]) {
        /* An app: its entry point, in the site's sandbox (adapters/sandbox/). */
        char *entry = strdup (t->app_entry), tmp[PATH_MAX + 8];
        struct sandbox_spec ss = { .workdir = t->dir, .ranks = t->ranks };
        const struct sandbox *sb = appstore_sandbox (ex->apps);
        snprintf (tmp, sizeof (tmp), "%s/tmp", t->dir);
        if (!entry || (mkdir (tmp, 0755) < 0 && errno != EEXIST) || !(wrap = sb->wrap (&ss, &err))) {
            free (entry);
            jobfile_argv_free (argv);
            task_failed (ex, t, -1000, true, err.text[0] ? err.text : "cannot set the app's "
                         "task up");
            return;
        }
        free (argv[0]);
        argv[0] = entry;
        spec.wrapper = (const char *const *)wrap;
    }
    spec.argv = (const char *const *)argv;
    unlink (b.status);
    /* Journalled before the start: should this worker die right after it, the
     * next one looks for the monitor by its status file (adopt with no record). */
    journal_line (ex->jfd, "launch", task_key (t));
    t->launched = true;
    t->proc = ex->launcher->start (&spec, &err);
    jobfile_argv_free (argv);
    sandbox_argv_free (wrap);
    if (!t->proc) {
        task_failed (ex, t, -1000, false, err.text);
        return;
    }
    t->phase = X_RUNNING;
    if (ex->launcher->record (t->proc, t->rec, sizeof (t->rec)) == 0) {
        json_t *k = task_key (t);
        json_object_set_new (k, "rec", json_string (t->rec));
        journal_line (ex->jfd, "run", k);
    }
    log_msg (LOG_INFO, "event=task.running job=%lld task=%s attempt=%d pid=%d", (long long)t->job,
             t->task, t->attempt, ex->launcher->pid (t->proc));
    update (ex, t, "RUNNING", NULL);
}

/* A task an earlier worker launched (t->rec; "" when it died between the
 * launch and the record): found again, or held to be launched anew when no
 * trace of it is left. */
static void task_adopt (struct executor *ex, struct xtask *t)
{
    struct launch_bufs b;
    struct launch_spec spec;
    fs_error_t err = { 0 };
    launch_spec_of (ex, t, &b, &spec);
    t->proc = ex->launcher ? ex->launcher->adopt (&spec, t->rec, &err) : NULL;
    if (!t->proc) {
        if (err.code == FS_ENOTFOUND) {     /* never started */
            t->rec[0] = '\0';
            t->launched = false;
            t->held = true;
            return;
        }
        log_msg (LOG_WARN, "event=task.adopt_fail job=%lld task=%s attempt=%d reason=\"%s\"",
                 (long long)t->job, t->task, t->attempt, err.text);
        t->phase = X_RUNNING;               /* reported failed at the first tick */
        t->held = false;
        return;
    }
    t->phase = X_RUNNING;
    log_msg (LOG_INFO, "event=task.adopted job=%lld task=%s attempt=%d pid=%d", (long long)t->job,
             t->task, t->attempt, ex->launcher->pid (t->proc));
}

/* --- the cache of staged inputs ---------------------------------------------
 * Files state_dir/cache/<16 hex>.h5, one per (dataset, version, selection,
 * reduction).  Once they hold more than cache_max bytes, the least recently
 * used go (a hit touches its file) until 90 % of the cap is left, except what
 * a task not yet ended staged, and what may be being staged right now (used
 * since the oldest staging still running began). */
struct centry {
    char name[SIGN_DIGEST_TEXT];    /* an input's file name, or an app's digest */
    uint64_t size;
    double used;
    bool app;                       /* an unpacked app (appcache.h) */
};

static int by_use (const void *a, const void *b)
{
    double x = ((const struct centry *)a)->used, y = ((const struct centry *)b)->used;
    return x < y ? -1 : x > y;
}

static bool cache_in_use (const struct executor *ex, const char *path)
{
    for (const struct xtask *t = ex->tasks; t; t = t->next) {
        if (t->phase == X_DONE || !t->staged)
            continue;
        const char *k;
        json_t *v;
        json_object_foreach (t->staged, k, v) {
            const char *f = json_string_value (json_object_get (v, "file"));
            if (f && !strcmp (f, path))
                return true;
        }
    }
    return false;
}

/* Does a task not yet ended run (or stage) the app with digest? */
static bool app_in_use (const struct executor *ex, const char *digest)
{
    for (const struct xtask *t = ex->tasks; t; t = t->next) {
        const char *d = json_string_value (json_object_get (json_object_get (t->start, "app"),
                                                            "digest"));
        if (t->phase != X_DONE && d && !strcmp (d, digest))
            return true;
    }
    return false;
}

struct clist {
    struct centry *v;
    size_t n, cap;
    uint64_t total;
};

static int clist_add (struct clist *l, const char *name, uint64_t size, double used, bool app)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct centry *nv = realloc (l->v, cap * sizeof (*nv));
        if (!nv)
            return -1;
        l->v = nv;
        l->cap = cap;
    }
    snprintf (l->v[l->n].name, sizeof (l->v[l->n].name), "%s", name);
    l->v[l->n].size = size;
    l->v[l->n].used = used;
    l->v[l->n].app = app;
    l->total += size;
    l->n++;
    return 0;
}

static void clist_app (void *arg, const char *digest, uint64_t bytes, double used)
{
    clist_add (arg, digest, bytes, used, true);
}

static void cache_trim (struct executor *ex)
{
    ex->last_trim = clock_wall ();
    char dir[PATH_MAX];
    state_path (ex->cfg, "cache", dir, sizeof (dir));
    struct clist l = { 0 };
    DIR *d = opendir (dir);
    struct dirent *de;
    while (d && (de = readdir (d))) {
        size_t len = strlen (de->d_name);
        if (len != 19 || strcmp (de->d_name + 16, ".h5"))
            continue;               /* not an entry (a transfer's .part file, ...) */
        struct stat st;
        if (fstatat (dirfd (d), de->d_name, &st, 0) < 0)
            continue;
        if (clist_add (&l, de->d_name, (uint64_t)st.st_size, mtime_of (&st), false) < 0)
            break;
    }
    if (d)
        closedir (d);
    /* The unpacked apps are evicted with the inputs. */
    if (ex->appcache)
        appcache_list (ex->appcache, clist_app, &l);
    struct centry *v = l.v;
    size_t n = l.n;
    uint64_t total = l.total;
    if (total > ex->cache_max) {
        double guard = ex->last_trim;
        for (const struct xtask *t = ex->tasks; t; t = t->next)
            if (t->phase == X_STAGING && t->stage_started < guard)
                guard = t->stage_started;
        guard -= 1.0;               /* file times and this clock may differ a little */
        qsort (v, n, sizeof (*v), by_use);
        uint64_t target = ex->cache_max - ex->cache_max / 10;
        for (size_t i = 0; i < n && total > target; i++) {
            char path[PATH_MAX + 80];
            if (v[i].app) {
                if (!app_in_use (ex, v[i].name) && appcache_evict (ex->appcache, v[i].name, guard)) {
                    total -= v[i].size;
                    log_msg (LOG_INFO, "event=cache.evict app=%s bytes=%" PRIu64, v[i].name,
                             v[i].size);
                }
                continue;
            }
            snprintf (path, sizeof (path), "%s/%s", dir, v[i].name);
            if (cache_in_use (ex, path))
                continue;
            pthread_mutex_lock (&cache_lock);
            struct stat st;
            bool gone = false;
            if (stat (path, &st) == 0
                && mtime_of (&st) < guard)
                gone = unlink (path) == 0;
            pthread_mutex_unlock (&cache_lock);
            if (gone) {
                total -= v[i].size;
                log_msg (LOG_INFO, "event=cache.evict file=%s bytes=%" PRIu64, v[i].name, v[i].size);
            }
        }
        if (total > ex->cache_max)
            log_msg (LOG_WARN, "event=cache.full bytes=%" PRIu64 " max=%" PRIu64
                     " reason=\"the rest is in use by tasks\"", total, ex->cache_max);
    }
    free (v);
}

void executor_result (struct executor *ex, const char *json, size_t len)
{
    json_t *r = json_loadb (json, len, 0, NULL);
    if (!r)
        return;
    const char *kind = json_string_value (json_object_get (r, "kind"));
    struct xtask *t = xfind (ex, json_integer_value (json_object_get (r, "job")),
                             json_string_value (json_object_get (r, "task")) ?: "",
                             (int)json_integer_value (json_object_get (r, "attempt")));
    bool ok = json_is_true (json_object_get (r, "ok"));
    const char *error = json_string_value (json_object_get (r, "error"));
    if (!t || !kind || t->phase == X_DONE) {
        json_decref (r);
        return;
    }
    if (!strcmp (kind, "staged")) {
        t->bytes_local = json_integer_value (json_object_get (r, "bytes_local"));
        t->bytes_moved = json_integer_value (json_object_get (r, "bytes_moved"));
        json_decref (t->transfers);
        t->transfers = json_incref (json_object_get (r, "transfers"));
        if (!ok)
            task_failed (ex, t, -1000, json_is_true (json_object_get (r, "unreachable")),
                         error ? error : "staging failed");
        else if (t->killed)
            task_failed (ex, t, -1000, false, "killed before it started");
        else {
            t->staged = json_incref (json_object_get (r, "inputs"));
            const char *entry = json_string_value (json_object_get (json_object_get (r, "app"),
                                                                    "entry"));
            if (entry) {
                snprintf (t->app_entry, sizeof (t->app_entry), "%s", entry);
                ex->cache_dirty = true;
            }
            const char *k;
            json_t *v;
            char dir[PATH_MAX];
            state_path (ex->cfg, "cache/", dir, sizeof (dir));
            json_object_foreach (t->staged, k, v) {
                const char *f = json_string_value (json_object_get (v, "file"));
                if (f && !strncmp (f, dir, strlen (dir)))
                    ex->cache_dirty = true;
            }
            task_launch (ex, t);
        }
    } else if (!strcmp (kind, "finished")) {
        if (!ok) {
            char why[1400], hint[300];
            logs_hint (t, hint, sizeof (hint));
            snprintf (why, sizeof (why), "%s%s", error ? error : "outputs missing", hint);
            task_failed (ex, t, 0, false, why);
        } else {
            log_msg (LOG_INFO, "event=task.completed job=%lld task=%s attempt=%d", (long long)t->job,
                     t->task, t->attempt);
            report_final (ex, t, "COMPLETED",
                          json_pack ("{s:O, s:O, s:i, s:f}", "outputs", json_object_get (r, "outputs"),
                                     "transfers", t->transfers, "exit_code", 0, "runtime_s",
                                     t->runtime_s));
        }
    }
    json_decref (r);
}

/* A batch launcher's word on t (state, reason): kept for its task.updates, and
 * sent at once (RUNNING again) when it changed while the task runs. */
static void batch_refresh (struct executor *ex, struct xtask *t, bool running)
{
    struct launch_batch b;
    if (!ex->launcher->batch || ex->launcher->batch (t->proc, &b) < 0)
        return;
    json_t *o = json_pack ("{s:s, s:s, s:s, s:s}", "system", b.system, "id", b.id, "state", b.state,
                           "reason", b.reason);
    if (o && b.start > 0)
        json_object_set_new (o, "start", json_integer ((json_int_t)b.start));
    if (!o || (t->batch && json_equal (t->batch, o))) {
        json_decref (o);
        return;
    }
    json_decref (t->batch);
    t->batch = o;
    if (running)
        update (ex, t, "RUNNING", NULL);
}

void executor_tick (struct executor *ex)
{
    if (ex->cache_dirty && clock_wall () - ex->last_trim >= 1.0) {
        ex->cache_dirty = false;
        cache_trim (ex);
    }
    if (ex->launcher && ex->launcher->tick)
        ex->launcher->tick ();
    struct xtask **pp = &ex->tasks;
    while (*pp) {
        struct xtask *t = *pp;
        if (t->phase == X_RUNNING && !t->proc) {
            task_failed (ex, t, -1000, true, "the task could not be found again after the "
                         "site's worker restarted (see the worker's log)");
        } else if (t->phase == X_RUNNING) {
            struct launch_status st;
            fs_error_t err;
            int r = ex->launcher->poll (t->proc, &st, &err);
            if (r >= 0)
                batch_refresh (ex, t, r == 0);
            if (r < 0) {
                task_failed (ex, t, -1000, true, err.text);
            } else if (r == 1 && st.site_failure) {
                log_msg (LOG_INFO, "event=task.failed job=%lld task=%s attempt=%d site_failure=1 "
                         "requeue=%d reason=\"%s\"", (long long)t->job, t->task, t->attempt,
                         st.requeue, st.error);
                json_t *extra = json_pack ("{s:s, s:b, s:b}", "error", st.error, "site_failure", 1,
                                           "requeue", st.requeue);
                report_final (ex, t, "FAILED", extra);
            } else if (r == 1) {
                char why[700], hint[300];
                t->runtime_s = st.runtime_s;
                if (st.exit_code == 0 && !st.killed) {
                    t->phase = X_FINISHING;
                    submit_stage (ex, t, true);
                } else {
                    if (st.error[0])
                        snprintf (why, sizeof (why), "%s", st.error);
                    else if (st.walltime_exceeded)
                        snprintf (why, sizeof (why), "walltime of %.0f s exceeded: killed", t->walltime);
                    else if (st.killed)
                        snprintf (why, sizeof (why), "killed (cancelled)");
                    else {
                        logs_hint (t, hint, sizeof (hint));
                        snprintf (why, sizeof (why), "exited with code %d%s", st.exit_code, hint);
                    }
                    task_failed (ex, t, st.exit_code, false, why);
                }
            }
        }
        if (t->phase != X_RUNNING && t->proc) {
            ex->launcher->destroy (t->proc);    /* it has ended */
            t->proc = NULL;
        }
        if (t->phase == X_DONE) {           /* forget it; its logs stay on disk */
            *pp = t->next;
            xtask_free (ex, t);
            continue;
        }
        pp = &t->next;
    }
}

int executor_kill (struct executor *ex, const json_t *body, fs_error_t *err)
{
    json_int_t job = json_integer_value (json_object_get (body, "job"));
    const char *task = json_string_value (json_object_get (body, "task"));
    json_t *ja = json_object_get (body, "attempt");
    struct xtask *t = task ? xfind (ex, job, task, ja ? (int)json_integer_value (ja) : -1) : NULL;
    if (!t || t->phase == X_REPORTED || t->phase == X_DONE)
        return 0;                   /* already ended: nothing to kill */
    t->killed = true;
    log_msg (LOG_INFO, "event=task.kill job=%lld task=%s attempt=%d reason=\"%s\"", (long long)job,
             task, t->attempt, json_string_value (json_object_get (body, "reason")) ?: "");
    if (t->held)
        task_failed (ex, t, -1000, false, "killed before it started");
    else if (t->phase == X_RUNNING && t->proc && ex->launcher->kill (t->proc, SIGTERM, err) < 0)
        return -1;
    return 0;
}

static json_t *tail_file (const char *path, bool *truncated)
{
    FILE *f = fopen (path, "rb");
    if (!f)
        return json_string ("");
    fseek (f, 0, SEEK_END);
    long size = ftell (f);
    long from = size > LOG_TAIL_MAX ? size - LOG_TAIL_MAX : 0;
    *truncated = *truncated || from > 0;
    fseek (f, from, SEEK_SET);
    char *buf = malloc ((size_t)(size - from) + 1);
    size_t n = buf ? fread (buf, 1, (size_t)(size - from), f) : 0;
    fclose (f);
    json_t *s = buf ? json_stringn_nocheck (buf, n) : json_string ("");
    free (buf);
    return s;
}

json_t *executor_logs (struct executor *ex, const json_t *body, fs_error_t *err)
{
    json_int_t job = json_integer_value (json_object_get (body, "job"));
    const char *task = json_string_value (json_object_get (body, "task"));
    fs_error_t e2;
    if (!task || ident_valid ("task", task, &e2) < 0) {
        errprintf (err, FS_EINVAL, "task.logs: a valid task name is required");
        return NULL;
    }
    char dir[PATH_MAX], path[PATH_MAX + 16];
    snprintf (dir, sizeof (dir), "%.3900s/jobs/%lld/%.64s", ex->cfg->state_dir, (long long)job, task);
    struct stat st;
    if (stat (dir, &st) < 0) {
        errprintf (err, FS_EFAIL, "site %s has no logs of task %s of job %lld", ex->cfg->name, task,
                   (long long)job);
        return NULL;
    }
    bool truncated = false;
    snprintf (path, sizeof (path), "%s/stdout", dir);
    json_t *out = tail_file (path, &truncated);
    snprintf (path, sizeof (path), "%s/stderr", dir);
    json_t *errs = tail_file (path, &truncated);
    return json_pack ("{s:o, s:o, s:b}", "stdout", out, "stderr", errs, "truncated", truncated);
}

static const char *phase_name (enum xphase p)
{
    return p == X_REPORTED ? "ended" : p == X_STAGING ? "staging" : "running";
}

json_t *executor_hello (struct executor *ex, unsigned *gen)
{
    *gen = ++ex->hello_gen;
    json_t *a = json_array ();
    for (struct xtask *t = ex->tasks; t; t = t->next) {
        if (t->phase == X_DONE)
            continue;
        json_t *e = task_key (t);
        json_object_set_new (e, "state", json_string (phase_name (t->phase)));
        if (t->phase == X_REPORTED) {
            json_object_set (e, "update", t->final);
            t->hello_gen = *gen;
        }
        json_array_append_new (a, e);
    }
    return a;
}

static void forget (struct executor *ex, struct xtask *t)
{
    journal_forget (ex, t);
    t->phase = X_DONE;
}

void executor_acked (struct executor *ex, int64_t id)
{
    for (struct xtask *t = ex->tasks; t; t = t->next)
        if (t->phase == X_REPORTED && t->final_id == id) {
            forget (ex, t);
            return;
        }
}

void executor_hello_ok (struct executor *ex, unsigned gen)
{
    for (struct xtask *t = ex->tasks; t; t = t->next) {
        if (t->phase == X_REPORTED && t->hello_gen == gen)
            forget (ex, t);
        else if (t->held && t->phase == X_STAGING) {
            t->held = false;
            log_msg (LOG_INFO, "event=task.restage job=%lld task=%s attempt=%d", (long long)t->job,
                     t->task, t->attempt);
            task_stage (ex, t);
        }
    }
}

int executor_running (struct executor *ex)
{
    int n = 0;
    for (struct xtask *t = ex->tasks; t; t = t->next)
        n += t->phase == X_STAGING || t->phase == X_RUNNING || t->phase == X_FINISHING;
    return n;
}

int executor_cores_used (struct executor *ex)
{
    int n = 0;
    for (struct xtask *t = ex->tasks; t; t = t->next)
        if (t->phase == X_STAGING || t->phase == X_RUNNING || t->phase == X_FINISHING)
            n += t->ranks;
    return n;
}
