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
#include "common/checksum.h"
#include "common/clock.h"
#include "common/dtype.h"
#include "common/log.h"
#include "common/names.h"
#include "executor.h"
#include "fetch.h"
#include "jobs/jobfile.h"

#define LOG_TAIL_MAX (256 << 10)

enum xphase { X_STAGING, X_RUNNING, X_FINISHING, X_DONE };

struct xtask {
    int64_t job;
    char task[JOB_IDENT_MAX];
    int attempt;
    int ranks;
    double walltime;
    enum xphase phase;
    char dir[PATH_MAX];
    json_t *start;              /* the task.start body */
    struct job_spec *spec;
    size_t tidx;
    json_t *staged;             /* {input: {file, dset}} */
    json_t *transfers;
    int64_t bytes_local, bytes_moved;
    struct launch_proc *proc;
    bool recorded;              /* has a "+" line in running.log (see journal()) */
    int rec_sid;                /* what that line says */
    unsigned long long rec_start;
    double stage_started;       /* when its inputs' staging began */
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
    int jfd;                    /* running.log (see journal()) */
    int nrecorded;              /* tasks with a "+" line and no "-" yet */
    uint64_t cache_max;         /* bytes (see cache_trim()) */
    double last_trim;
    bool cache_dirty;           /* inputs were staged into the cache since */
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

/* --- tasks a crashed worker left running --------------------------------------
 * A task's processes outlive a worker that crashes (after a restart they are
 * nobody's children, and the scheduler runs the task again elsewhere).  So the
 * worker keeps a journal, state_dir/running.log: "+ JOB TASK ATTEMPT SID START"
 * when a task starts (its session id and its leader's start time), "- JOB TASK
 * ATTEMPT" when it ends or is killed.  A worker starting up kills the sessions
 * of the starts without an end, then empties the journal; it is emptied again
 * whenever no task runs.  Appends, not a file per task: creating files is what
 * a busy site does most per task already. */
static void journal (struct executor *ex, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

static void journal (struct executor *ex, const char *fmt, ...)
{
    if (ex->jfd < 0)
        return;
    char line[256];
    va_list ap;
    va_start (ap, fmt);
    int n = vsnprintf (line, sizeof (line), fmt, ap);
    va_end (ap);
    if (n > 0 && (size_t)n < sizeof (line) && write (ex->jfd, line, (size_t)n) != n)
        log_msg (LOG_WARN, "event=journal.fail reason=\"%s\"", strerror (errno));
}

static void task_record (struct executor *ex, struct xtask *t)
{
    int sid = ex->launcher->pid (t->proc);
    unsigned long long start = sid > 0 ? launch_start_time (sid) : 0;
    if (start == 0)
        return;                     /* ended already (or never ran) */
    journal (ex, "+ %lld %s %d %d %llu\n", (long long)t->job, t->task, t->attempt, sid, start);
    t->recorded = true;
    t->rec_sid = sid;
    t->rec_start = start;
    ex->nrecorded++;
}

#define JOURNAL_COMPACT (64 << 10)

/* A site that is never idle never empties its journal: past JOURNAL_COMPACT
 * bytes it is rewritten with the tasks running now (then renamed over). */
static void journal_compact (struct executor *ex)
{
    struct stat st;
    if (ex->jfd < 0 || fstat (ex->jfd, &st) < 0 || st.st_size < JOURNAL_COMPACT)
        return;
    char path[PATH_MAX], tmp[PATH_MAX + 8];
    state_path (ex->cfg, "running.log", path, sizeof (path));
    snprintf (tmp, sizeof (tmp), "%s.new", path);
    int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    int old = ex->jfd;
    ex->jfd = fd;
    for (struct xtask *t = ex->tasks; t; t = t->next)
        if (t->recorded)
            journal (ex, "+ %lld %s %d %d %llu\n", (long long)t->job, t->task, t->attempt,
                     t->rec_sid, t->rec_start);
    if (rename (tmp, path) == 0) {
        close (old);
    } else {                        /* keep the old one */
        close (fd);
        unlink (tmp);
        ex->jfd = old;
    }
}

static void task_unrecord (struct executor *ex, struct xtask *t)
{
    if (!t->recorded)
        return;
    t->recorded = false;
    if (--ex->nrecorded == 0 && ex->jfd >= 0 && ftruncate (ex->jfd, 0) == 0)
        return;                     /* nothing runs: start the journal afresh */
    journal (ex, "- %lld %s %d\n", (long long)t->job, t->task, t->attempt);
    journal_compact (ex);
}

struct leftover {
    long long job;
    char task[JOB_IDENT_MAX + 1];
    int attempt;
    long sid;
    unsigned long long start;
};

/* Kill what the journal of a previous worker says still runs; open it afresh. */
static void kill_leftovers (struct executor *ex)
{
    char path[PATH_MAX];
    state_path (ex->cfg, "running.log", path, sizeof (path));
    FILE *f = fopen (path, "r");
    struct leftover *v = NULL;
    size_t n = 0, cap = 0;
    char line[512];
    while (f && fgets (line, sizeof (line), f)) {
        struct leftover e = { 0 };
        if (sscanf (line, "+ %lld %63s %d %ld %llu", &e.job, e.task, &e.attempt, &e.sid, &e.start) == 5) {
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                struct leftover *nv = realloc (v, cap * sizeof (*v));
                if (!nv)
                    break;
                v = nv;
            }
            v[n++] = e;
        } else if (sscanf (line, "- %lld %63s %d", &e.job, e.task, &e.attempt) == 3) {
            for (size_t i = 0; i < n; i++)
                if (v[i].job == e.job && v[i].attempt == e.attempt && !strcmp (v[i].task, e.task)) {
                    v[i] = v[--n];
                    break;
                }
        }
    }
    if (f)
        fclose (f);
    for (size_t i = 0; i < n; i++) {
        int k = launch_kill_orphans (v[i].sid, v[i].start);
        log_msg (k ? LOG_WARN : LOG_INFO,
                 "event=task.leftover job=%lld task=%s attempt=%d session=%ld killed=%d", v[i].job,
                 v[i].task, v[i].attempt, v[i].sid, k);
    }
    free (v);
    ex->jfd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (ex->jfd < 0)
        log_msg (LOG_WARN, "event=journal.fail path=%s reason=\"%s\"", path, strerror (errno));
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
    kill_leftovers (ex);
    ex->cache_max = cfg->cache_max;
    struct statvfs vfs;
    if (!ex->cache_max && statvfs (cfg->state_dir, &vfs) == 0)
        ex->cache_max = (uint64_t)vfs.f_blocks * vfs.f_frsize / 2;
    log_msg (LOG_INFO, "event=cache.limit bytes=%" PRIu64, ex->cache_max);
    return ex;
}

static void xtask_free (struct executor *ex, struct xtask *t)
{
    if (t->proc)
        ex->launcher->destroy (t->proc);      /* kills what still runs */
    task_unrecord (ex, t);
    json_decref (t->start);
    json_decref (t->staged);
    json_decref (t->transfers);
    job_spec_destroy (t->spec);
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

static void update (struct executor *ex, struct xtask *t, const char *state, json_t *extra)
{
    json_t *body = json_pack ("{s:s, s:I, s:s, s:i, s:s, s:I, s:I}", "site", ex->cfg->name, "job",
                              (json_int_t)t->job, "task", t->task, "attempt", t->attempt, "state",
                              state, "bytes_local", (json_int_t)t->bytes_local, "bytes_moved",
                              (json_int_t)t->bytes_moved);
    if (extra) {
        json_object_update (body, extra);
        json_decref (extra);
    }
    ex->send (ex->arg, "task.update", body);
}

static void task_failed (struct executor *ex, struct xtask *t, int exit_code, bool site_failure,
                         const char *why)
{
    log_msg (LOG_INFO, "event=task.failed job=%lld task=%s attempt=%d exit=%d reason=\"%s\"",
             (long long)t->job, t->task, t->attempt, exit_code, why);
    json_t *extra = json_pack ("{s:s, s:b}", "error", why, "site_failure", site_failure);
    if (exit_code != -1000)
        json_object_set_new (extra, "exit_code", json_integer (exit_code));
    update (ex, t, "FAILED", extra);
    t->phase = X_DONE;
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
};

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
    /* The cache: one file per (dataset, version, selection, reduction). */
    json_t *jkey = json_pack ("{s:s, s:O, s:O, s:O}", "d", dataset, "v",
                              json_object_get (in, "version"), "s", jsel, "r",
                              json_object_get (in, "reduce"));
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
        if (format_info (hd.file, hd.path, &hd.info, err) < 0)
            return errprintf (err, FS_EFAIL, "output %s was not written as %s:%s (%s)", name,
                              hd.file, hd.path, err->text);
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
        free (a);
        return;
    }
    json_t *r = json_pack ("{s:s, s:I, s:s, s:i}", "kind", a->finish ? "finished" : "staged", "job",
                           (json_int_t)a->job, "task", a->task, "attempt", a->attempt);
    int rc = 0;
    if (a->finish) {
        json_t *entries = json_array ();
        rc = finish_outputs (a, entries, &err);
        json_object_set_new (r, "outputs", entries);
    } else {
        json_t *staged = json_object (), *transfers = json_array ();
        int64_t bl = 0, bm = 0;
        size_t i;
        json_t *in;
        json_array_foreach (a->inputs, i, in)
            if ((rc = stage_one (a, in, staged, transfers, &bl, &bm, &err)) < 0)
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
    if (!finish)
        t->stage_started = clock_wall ();
    iopool_submit (ex->pool, stage_job, a);
}

/* --- the event loop's side ----------------------------------------------- */

int executor_start (struct executor *ex, const struct msg *m, fs_error_t *err)
{
    json_int_t job, attempt, ranks;
    const char *task, *file, *text;
    double walltime;
    json_error_t jerr;
    if (json_unpack_ex (m->body, &jerr, 0, "{s:I, s:s, s:I, s:I, s:F, s:{s:s, s:s}}", "job", &job,
                        "task", &task, "attempt", &attempt, "ranks", &ranks, "walltime", &walltime,
                        "jobfile", "file", &file, "text", &text) < 0)
        return errprintf (err, FS_EINVAL, "task.start: %s", jerr.text);
    if (!ex->launcher)
        return errprintf (err, FS_EFAIL, "site %s has no usable launcher '%s'", ex->cfg->name,
                          ex->cfg->launcher);
    if (xfind (ex, job, task, -1)) {
        struct xtask *old = xfind (ex, job, task, -1);
        if (old->phase != X_DONE)
            return errprintf (err, FS_EFAIL, "task %s of job %lld is already here", task, (long long)job);
    }
    struct xtask *t = calloc (1, sizeof (*t));
    if (!t)
        return errprintf (err, FS_EFAIL, "out of memory");
    t->job = job;
    snprintf (t->task, sizeof (t->task), "%s", task);
    t->attempt = (int)attempt;
    t->ranks = (int)ranks;
    t->walltime = walltime;
    t->start = json_incref (m->body);
    t->transfers = json_array ();
    snprintf (t->dir, sizeof (t->dir), "%.3900s/jobs/%lld/%.64s", ex->cfg->state_dir, (long long)job, task);
    t->next = ex->tasks;
    ex->tasks = t;
    struct job_errors errs = JOB_ERRORS_INIT;
    t->spec = jobfile_load_string (file, text, strlen (text), NULL, &errs);
    long idx = t->spec ? jobfile_task_index (t->spec, task) : -1;
    job_errors_clear (&errs);
    if (idx < 0) {
        task_failed (ex, t, -1000, false, "the job file sent with the task does not parse here");
        return 0;
    }
    t->tidx = (size_t)idx;
    if (mkdirs (t->dir) < 0) {
        task_failed (ex, t, -1000, true, "cannot create the task's directory");
        return 0;
    }
    log_msg (LOG_INFO, "event=task.start job=%lld task=%s attempt=%d ranks=%d", (long long)job, task,
             t->attempt, t->ranks);
    update (ex, t, "STAGING", NULL);
    submit_stage (ex, t, false);
    return 0;
}

static int resolve (void *arg, const struct job_task *task, bool is_output, const char *name,
                    char *file, size_t filesz, char *dset, size_t dsetsz, fs_error_t *err)
{
    struct xtask *t = arg;
    (void)task;
    if (is_output) {
        snprintf (file, filesz, "%s/%s.h5", t->dir, name);
        snprintf (dset, dsetsz, "/%s", name);
        return 0;
    }
    json_t *s = json_object_get (t->staged, name);
    if (!s)
        return errprintf (err, FS_EFAIL, "input %s was not staged", name);
    snprintf (file, filesz, "%s", json_string_value (json_object_get (s, "file")));
    snprintf (dset, dsetsz, "%s", json_string_value (json_object_get (s, "dset")));
    return 0;
}

static void task_launch (struct executor *ex, struct xtask *t)
{
    fs_error_t err = { 0 };
    char **argv = jobfile_expand_argv (t->spec, t->tidx, ex->cfg->name, t->ranks, t->job, resolve, t,
                                       NULL, &err);
    if (!argv) {
        task_failed (ex, t, -1000, false, err.text);
        return;
    }
    char ejob[64], etask[128], esite[128], out[PATH_MAX + 16], errf[PATH_MAX + 16];
    snprintf (ejob, sizeof (ejob), "FEDSCHED_JOB=%lld", (long long)t->job);
    snprintf (etask, sizeof (etask), "FEDSCHED_TASK=%s", t->task);
    snprintf (esite, sizeof (esite), "FEDSCHED_SITE=%s", ex->cfg->name);
    snprintf (out, sizeof (out), "%s/stdout", t->dir);
    snprintf (errf, sizeof (errf), "%s/stderr", t->dir);
    const char *env[] = { ejob, etask, esite, NULL };
    struct launch_spec spec = {
        .argv = (const char *const *)argv, .ranks = t->ranks, .env = env, .cwd = t->dir,
        .stdout_path = out, .stderr_path = errf, .walltime_s = t->walltime,
        .site = ex->cfg->name, .hostfile = ex->cfg->hostfile[0] ? ex->cfg->hostfile : NULL,
        .site_cores = ex->node_cores,
    };
    t->proc = ex->launcher->start (&spec, &err);
    jobfile_argv_free (argv);
    if (!t->proc) {
        task_failed (ex, t, -1000, false, err.text);
        return;
    }
    t->phase = X_RUNNING;
    task_record (ex, t);
    log_msg (LOG_INFO, "event=task.running job=%lld task=%s attempt=%d pid=%d", (long long)t->job,
             t->task, t->attempt, ex->launcher->pid (t->proc));
    update (ex, t, "RUNNING", NULL);
}

/* --- the cache of staged inputs ---------------------------------------------
 * Files state_dir/cache/<16 hex>.h5, one per (dataset, version, selection,
 * reduction).  Once they hold more than cache_max bytes, the least recently
 * used go (a hit touches its file) until 90 % of the cap is left, except what
 * a task not yet ended staged, and what may be being staged right now (used
 * since the oldest staging still running began). */
struct centry {
    char name[32];
    uint64_t size;
    double used;
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

static void cache_trim (struct executor *ex)
{
    ex->last_trim = clock_wall ();
    char dir[PATH_MAX];
    state_path (ex->cfg, "cache", dir, sizeof (dir));
    DIR *d = opendir (dir);
    if (!d)
        return;
    struct centry *v = NULL;
    size_t n = 0, cap = 0;
    uint64_t total = 0;
    struct dirent *de;
    while ((de = readdir (d))) {
        size_t len = strlen (de->d_name);
        if (len != 19 || strcmp (de->d_name + 16, ".h5"))
            continue;               /* not an entry (a transfer's .part file, ...) */
        struct stat st;
        if (fstatat (dirfd (d), de->d_name, &st, 0) < 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            struct centry *nv = realloc (v, cap * sizeof (*v));
            if (!nv)
                break;
            v = nv;
        }
        memcpy (v[n].name, de->d_name, len + 1);     /* 19 characters and the NUL */
        v[n].size = (uint64_t)st.st_size;
        v[n].used = mtime_of (&st);
        total += v[n].size;
        n++;
    }
    closedir (d);
    if (total > ex->cache_max) {
        double guard = ex->last_trim;
        for (const struct xtask *t = ex->tasks; t; t = t->next)
            if (t->phase == X_STAGING && t->stage_started < guard)
                guard = t->stage_started;
        guard -= 1.0;               /* file times and this clock may differ a little */
        qsort (v, n, sizeof (*v), by_use);
        uint64_t target = ex->cache_max - ex->cache_max / 10;
        for (size_t i = 0; i < n && total > target; i++) {
            char path[PATH_MAX + 64];
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
            task_failed (ex, t, 0, false, error ? error : "outputs missing");
        } else {
            log_msg (LOG_INFO, "event=task.completed job=%lld task=%s attempt=%d", (long long)t->job,
                     t->task, t->attempt);
            update (ex, t, "COMPLETED",
                    json_pack ("{s:O, s:O, s:i}", "outputs", json_object_get (r, "outputs"),
                               "transfers", t->transfers, "exit_code", 0));
            t->phase = X_DONE;
        }
    }
    json_decref (r);
}

void executor_tick (struct executor *ex)
{
    if (ex->cache_dirty && clock_wall () - ex->last_trim >= 1.0) {
        ex->cache_dirty = false;
        cache_trim (ex);
    }
    struct xtask **pp = &ex->tasks;
    while (*pp) {
        struct xtask *t = *pp;
        if (t->phase == X_RUNNING) {
            struct launch_status st;
            fs_error_t err;
            int r = ex->launcher->poll (t->proc, &st, &err);
            if (r != 0)
                task_unrecord (ex, t);
            if (r < 0) {
                task_failed (ex, t, -1000, true, err.text);
            } else if (r == 1) {
                char why[700];
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
                    else
                        snprintf (why, sizeof (why), "exited with code %d (see 'fedsched logs %lld %s')",
                                  st.exit_code, (long long)t->job, t->task);
                    task_failed (ex, t, st.exit_code, false, why);
                }
            }
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
    if (!t)
        return 0;                   /* already gone: nothing to kill */
    t->killed = true;
    log_msg (LOG_INFO, "event=task.kill job=%lld task=%s attempt=%d reason=\"%s\"", (long long)job,
             task, t->attempt, json_string_value (json_object_get (body, "reason")) ?: "");
    if (t->phase == X_RUNNING && ex->launcher->kill (t->proc, SIGTERM, err) < 0)
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

json_t *executor_tasks (struct executor *ex)
{
    json_t *a = json_array ();
    for (struct xtask *t = ex->tasks; t; t = t->next)
        if (t->phase != X_DONE)
            json_array_append_new (a, json_pack ("{s:I, s:s, s:i}", "job", (json_int_t)t->job,
                                                 "task", t->task, "attempt", t->attempt));
    return a;
}

int executor_cores_used (struct executor *ex)
{
    int n = 0;
    for (struct xtask *t = ex->tasks; t; t = t->next)
        if (t->phase != X_DONE)
            n += t->ranks;
    return n;
}
