/* jobs.c - the job manager (see jobs.h).
 *
 * Life of a task: WAITING (on dependencies) -> READY -> PLACED (sent to a
 * site) -> STAGING -> RUNNING -> COMPLETED | FAILED | CANCELLED.  A task whose
 * site is lost goes back to READY with a new attempt number while it has
 * retries left; otherwise it fails, and so does its job (the job's other
 * tasks are killed or cancelled).
 *
 * Placement (SPEC section 5) is scheduler/placement.c; this file builds its
 * inputs from the catalog and the registry, and keeps the decision (with every
 * candidate's cost or reason for exclusion) for status and explain.  Whether a
 * placed task starts now or queues at its site, the runtime estimates and the
 * waits at busy sites are scheduler/dispatch.c's (the simulator's too): a
 * queued task stays READY until it heads its site's queue and its cores are
 * free; a site is never oversubscribed.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "common/checksum.h"
#include "common/dtype.h"
#include "common/log.h"
#include "common/msg.h"
#include "jobs/jobfile.h"
#include "apps.h"
#include "jobs.h"
#include "placement.h"
#include "common/clock.h"
#include "common/sbuf.h"
#include "dispatch.h"

#define NO_EXIT (-1000)
#define KEY_TASK_BITS 20            /* dispatcher keys: job id << 20 | task index */

enum tstate { T_WAITING, T_READY, T_PLACED, T_STAGING, T_RUNNING, T_COMPLETED, T_FAILED,
              T_CANCELLED, T_NSTATES };
static const char *tstate_names[] = { "WAITING", "READY", "PLACED", "STAGING", "RUNNING",
                                      "COMPLETED", "FAILED", "CANCELLED" };
enum jstate { J_PENDING, J_RUNNING, J_COMPLETED, J_FAILED, J_CANCELLED, J_NSTATES };
static const char *jstate_names[] = { "PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED" };

struct jtask {
    char name[JOB_IDENT_MAX];
    enum tstate state;
    char site[64];
    int ranks;
    int exit_code;
    double started, ended;
    int64_t bytes_local, bytes_moved;
    int attempt;
    int failures;               /* site failures so far (against retries) */
    unsigned sent_conn;         /* its site's connection (struct site conn) that carried
                                 * its task.start; 0: unknown (sent before a restart) */
    char error[512];
    json_t *placement;
    json_t *batch;              /* what the site's batch system says of its attempt
                                 * (task.update batch; not stored): NULL */
    int last_status, last_site;     /* the last placement decision, to skip repeats */
    bool dirty;
};

struct job {
    int64_t id;
    char name[JOB_IDENT_MAX];
    char *file, *text;
    enum jstate state;
    double submitted, ended;
    struct job_spec *spec;      /* NULL once ended (see job_slim) */
    size_t ntasks;
    struct jtask *t;
    bool dirty;
    bool slim;                  /* ended and written: text and placements only in the store */
};

/* Ranks of the active (placed, staging, running) tasks at one site, kept by
 * task_set(): the placement model's free cores and `sites` read it. */
struct site_use {
    char site[64];
    int running, cores;
};

struct jobs {
    struct store *store;
    struct registry *reg;
    const struct fed_config *cfg;
    jobs_send_f send;
    void *arg;
    struct job **v;             /* every job, in id order */
    size_t n, cap;
    struct job **act;           /* the jobs not yet ended (or not yet written), in id order */
    size_t nact, capact;
    struct site_use *use;
    size_t nuse, capuse;
    struct dispatch *disp;      /* runtime estimates, waits, site queues */
    char **rt_dirty;            /* commands whose runtime estimate changed (to store) */
    size_t nrt_dirty, caprt_dirty;
    json_t *saved_links;        /* measured rates from the store, put back as sites appear */
    struct placement_fed *fed;
    struct placement_candidate *cand;
    int ncand;
    json_t *view_sites;         /* known sites, for validation */
    double view_time;
    struct deferred {           /* submits of this turn, waiting for the group commit */
        struct job *jb;         /* validated, to store; NULL for the two below */
        void *ctx;
        char *token;            /* its token, or NULL */
        json_t *kept;           /* the answer kept for a token already committed */
        long same;              /* >= 0: the submit this one repeats (same token) */
    } *deferred;
    size_t ndeferred, capdeferred;
    bool changed;
    double last_tick;
    double started;             /* sites get a heartbeat timeout to come back after a restart */
    struct outmsg {             /* messages to sites, sent once what they announce is on disk */
        char site[64];
        struct zmsg *m;
    } *out;
    size_t nout, capout;
    struct tokrec {             /* tokens to keep with the next commit */
        char *token, *op;
        json_t *reply;
    } *toks;
    size_t ntoks, captoks;
    struct apps *apps;          /* the federation's apps (SPEC section 10); NULL: none */
};

static json_t *iso_or_null (double t)
{
    if (t <= 0)
        return json_null ();
    char buf[32];
    return json_string (clock_iso (t, false, buf, sizeof (buf)));
}

static bool tactive (enum tstate s)
{
    return s == T_PLACED || s == T_STAGING || s == T_RUNNING;
}

static bool tfinal (enum tstate s)
{
    return s == T_COMPLETED || s == T_FAILED || s == T_CANCELLED;
}

static bool jfinal (enum jstate s)
{
    return s == J_COMPLETED || s == J_FAILED || s == J_CANCELLED;
}

static int parse_state (const char *s, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (!strcmp (s, names[i]))
            return i;
    return -1;
}

/* --- the federation as the job-file validator sees it ------------------ */

static int fv_lookup (void *ctx, const char *name, struct job_dataset_info *out, fs_error_t *err)
{
    struct jobs *j = ctx;
    fs_error_t e;
    json_t *d = store_lookup (j->store, name, &e);
    if (!d)
        return e.code == FS_ENOTFOUND ? 0 : (*err = e, -1);
    memset (out, 0, sizeof (*out));
    json_t *shape = json_object_get (d, "shape");
    out->ndims = (int)json_array_size (shape);
    for (int i = 0; i < out->ndims && i < FS_MAXDIMS; i++)
        out->shape[i] = (uint64_t)json_integer_value (json_array_get (shape, (size_t)i));
    out->dtype = dtype_parse (json_string_value (json_object_get (d, "dtype")));
    if (policy_parse (json_string_value (json_object_get (d, "policy")), &out->policy, err) < 0) {
        json_decref (d);
        return -1;
    }
    size_t i;
    json_t *r;
    json_array_foreach (json_object_get (d, "replicas"), i, r) {
        if (out->nreplicas >= JOB_MAX_REPLICAS)
            break;
        snprintf (out->replicas[out->nreplicas++], JOB_IDENT_MAX, "%s",
                  json_string_value (json_object_get (r, "site")));
    }
    json_decref (d);
    return 1;
}

static size_t fv_site_count (void *ctx)
{
    struct jobs *j = ctx;
    return json_array_size (j->view_sites);
}

static int fv_site_get (void *ctx, size_t i, struct job_site_info *out, fs_error_t *err)
{
    struct jobs *j = ctx;
    json_t *s = json_array_get (j->view_sites, i);
    if (!s)
        return errprintf (err, FS_EFAIL, "no site %zu", i);
    snprintf (out->name, sizeof (out->name), "%s", json_string_value (json_object_get (s, "name")));
    snprintf (out->region, sizeof (out->region), "%s",
              json_string_value (json_object_get (s, "region")));
    out->cores = (int)json_integer_value (json_object_get (s, "cores"));
    return 0;
}

static void view_refresh (struct jobs *j)
{
    fs_error_t err;
    double now = clock_wall ();
    if (j->view_sites && now - j->view_time < 1.0)
        return;
    j->view_time = now;
    json_t *s = store_sites (j->store, &err);
    if (s) {
        json_decref (j->view_sites);
        j->view_sites = s;
    }
}

static int fv_app_lookup (void *ctx, const char *name, const char *version,
                          struct job_app_info *out, fs_error_t *err)
{
    struct jobs *j = ctx;
    fs_error_t e;
    json_t *meta = j->apps ? apps_get (j->apps, name, version, &e) : NULL;
    if (!meta)
        return !j->apps || e.code == FS_ENOTFOUND ? 0 : (*err = e, -1);
    json_t *man = json_object_get (meta, "manifest");
    const char *k;
    json_t *v;
    out->mpi = json_is_true (json_object_get (man, "mpi"));
    out->nentry = 0;
    json_object_foreach (json_object_get (man, "entry"), k, v)
        if (out->nentry < APP_ENTRY_MAX)
            snprintf (out->entry[out->nentry++], APP_NAME_MAX, "%s", k);
    json_decref (meta);
    return 1;
}

/* May site run the app?  A site whose answer to a probe is still out (or that
 * has not told its policy yet) may yet qualify: only a definite no is one. */
static int fv_app_site (void *ctx, const char *name, const char *version, const char *site,
                        char *why, size_t whysz)
{
    struct jobs *j = ctx;
    fs_error_t e;
    json_t *meta = j->apps ? apps_get (j->apps, name, version, &e) : NULL;
    if (!meta)
        return 1;
    int r = apps_site_may_run (j->apps, site, meta, why, whysz);
    json_decref (meta);
    return r == 1 || !strncmp (why, "has not said yet", 16) || !strncmp (why, "has not told", 12);
}

static const struct job_fedview *view_of (struct jobs *j, struct job_fedview *v)
{
    view_refresh (j);
    *v = (struct job_fedview){ j, fv_lookup, fv_site_count, fv_site_get, fv_app_lookup,
                               fv_app_site };
    return v;
}

void jobs_set_apps (struct jobs *j, struct apps *apps)
{
    j->apps = apps;
}

/* --- jobs in memory and in the store ------------------------------------ */

static struct job *job_find (struct jobs *j, int64_t id)
{
    /* ids grow with the array: binary search */
    size_t lo = 0, hi = j->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (j->v[mid]->id == id)
            return j->v[mid];
        if (j->v[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static void job_free (struct job *jb)
{
    if (!jb)
        return;
    for (size_t i = 0; i < jb->ntasks; i++) {
        json_decref (jb->t[i].placement);
        json_decref (jb->t[i].batch);
    }
    free (jb->t);
    free (jb->file);
    free (jb->text);
    job_spec_destroy (jb->spec);
    free (jb);
}

static int job_append (struct jobs *j, struct job *jb)
{
    if (j->n == j->cap) {
        size_t cap = j->cap ? j->cap * 2 : 64;
        struct job **v = realloc (j->v, cap * sizeof (*v));
        if (!v)
            return -1;
        j->v = v;
        j->cap = cap;
    }
    j->v[j->n++] = jb;
    if (jfinal (jb->state) && !jb->dirty)
        return 0;
    if (j->nact == j->capact) {
        size_t cap = j->capact ? j->capact * 2 : 64;
        struct job **a = realloc (j->act, cap * sizeof (*a));
        if (!a) {
            j->n--;
            return -1;
        }
        j->act = a;
        j->capact = cap;
    }
    j->act[j->nact++] = jb;
    return 0;
}

/* An ended job, written to the store, keeps in memory only what `jobs` and
 * `status` show at once: its job file, parsed spec and the tasks' placement
 * records (kilobytes each with many sites) are read back from the store when
 * asked for, so a long-lived scheduler does not grow with its history. */
static void job_slim (struct job *jb)
{
    job_spec_destroy (jb->spec);
    jb->spec = NULL;
    free (jb->text);
    jb->text = NULL;
    for (size_t k = 0; k < jb->ntasks; k++) {
        json_decref (jb->t[k].placement);
        jb->t[k].placement = NULL;
    }
    jb->slim = true;
}

/* Drop the ended jobs that are written from the active list (and slim them). */
static void act_compact (struct jobs *j)
{
    size_t o = 0;
    for (size_t i = 0; i < j->nact; i++) {
        if (!jfinal (j->act[i]->state) || j->act[i]->dirty)
            j->act[o++] = j->act[i];
        else
            job_slim (j->act[i]);
    }
    j->nact = o;
}

static struct site_use *use_of (struct jobs *j, const char *site)
{
    for (size_t i = 0; i < j->nuse; i++)
        if (!strcmp (j->use[i].site, site))
            return &j->use[i];
    if (j->nuse == j->capuse) {
        size_t cap = j->capuse ? j->capuse * 2 : 16;
        struct site_use *u = realloc (j->use, cap * sizeof (*u));
        if (!u)
            return NULL;
        j->use = u;
        j->capuse = cap;
    }
    struct site_use *u = &j->use[j->nuse++];
    memset (u, 0, sizeof (*u));
    snprintf (u->site, sizeof (u->site), "%s", site);
    return u;
}

/* Count (sign 1) or uncount (-1) an active task in its site's usage. */
static void use_add (struct jobs *j, const struct jtask *t, int sign)
{
    struct site_use *u = t->site[0] ? use_of (j, t->site) : NULL;
    if (u) {
        u->running += sign;
        u->cores += sign * t->ranks;
    }
}

/* The dispatcher's key of task k of jb. */
static int64_t task_key (const struct job *jb, size_t k)
{
    return (jb->id << KEY_TASK_BITS) | (int64_t)k;
}

/* The command whose runtimes a task's estimate learns from: its argv as
 * written in the job file (placeholders unexpanded), joined by spaces. */
static const char *task_command (const struct job_task *ts, char *buf, size_t n)
{
    struct sbuf b;
    sbuf_init (&b, buf, n);
    for (int i = 0; i < ts->argc; i++)
        sbuf_printf (&b, "%s%s", i ? " " : "", ts->argv[i]);
    return buf;
}

static void task_set (struct jobs *j, struct job *jb, struct jtask *t, enum tstate s)
{
    if (tactive (t->state) != tactive (s))
        use_add (j, t, tactive (s) ? 1 : -1);
    if (s != t->state && !tactive (s))      /* it leaves its site's queue or cores */
        dispatch_forget (j->disp, task_key (jb, (size_t)(t - jb->t)));
    t->state = s;
    t->dirty = true;
    jb->dirty = true;
}

static void task_store (const struct jtask *t, struct store_task *out, char **placement)
{
    *placement = t->placement ? json_dumps (t->placement, JSON_COMPACT) : NULL;
    *out = (struct store_task){ t->name, tstate_names[t->state], t->site, t->ranks,
                                t->exit_code, t->started, t->ended, t->bytes_local,
                                t->bytes_moved, t->attempt, t->error, *placement, t->failures };
}

/* A runtime estimate kept from before (store_runtimes_load). */
static void runtime_restore (void *arg, const char *command, double runtime_s, double bytes,
                             unsigned samples)
{
    struct jobs *j = arg;
    struct dispatch_stats st = { runtime_s, bytes, samples };
    if (dispatch_restore (j->disp, command, &st) < 0)
        log_msg (LOG_WARN, "event=runtime.restore_fail command=\"%s\"", command);
}

/* A completed task's runtime and input bytes go into its command's estimate;
 * written at the next flush.  The runtime is the one the site measured
 * (runtime_s of its COMPLETED report), else the time from its RUNNING to its
 * COMPLETED report, which a run that spans a restart of this scheduler does not
 * give (its reports may have waited for the scheduler to come back). */
static void runtime_learn (struct jobs *j, struct job *jb, const struct jtask *t,
                           double measured)
{
    char cmd[1024];
    if (!jb->spec)
        return;
    /* The site's own figure (its monitor timed the run) when it sent one. */
    double runtime = measured > 0 ? measured : t->ended - t->started;
    if (measured <= 0 && (t->started <= 0 || t->ended < t->started || t->started < j->started))
        return;
    task_command (&jb->spec->tasks[t - jb->t], cmd, sizeof (cmd));
    if (dispatch_observe (j->disp, cmd, (double)(t->bytes_local + t->bytes_moved), runtime) < 0)
        return;
    for (size_t i = 0; i < j->nrt_dirty; i++)
        if (!strcmp (j->rt_dirty[i], cmd))
            return;
    if (j->nrt_dirty == j->caprt_dirty) {
        size_t cap = j->caprt_dirty ? 2 * j->caprt_dirty : 16;
        char **v = realloc (j->rt_dirty, cap * sizeof (*v));
        if (!v)
            return;
        j->rt_dirty = v;
        j->caprt_dirty = cap;
    }
    if ((j->rt_dirty[j->nrt_dirty] = strdup (cmd)))
        j->nrt_dirty++;
}

/* Write the estimates that changed (inside the flush's transaction), and the
 * federation-wide one with them. */
static void runtimes_save (struct jobs *j)
{
    struct dispatch_stats st;
    fs_error_t err;
    for (size_t i = 0; i <= j->nrt_dirty && j->nrt_dirty; i++) {
        const char *c = i < j->nrt_dirty ? j->rt_dirty[i] : "";
        if (dispatch_stats_of (j->disp, c, &st)
            && store_runtime_save (j->store, c, st.runtime_s, st.bytes, st.samples, &err) < 0)
            log_msg (LOG_ERR, "event=store.fail reason=\"%s\"", err.text);
    }
    for (size_t i = 0; i < j->nrt_dirty; i++)
        free (j->rt_dirty[i]);
    j->nrt_dirty = 0;
}

/* Queue m (taken) for site: sent by jobs_flush() after the commit, so that a
 * site never hears of a decision a restarted scheduler would not know. */
static void outbox_push (struct jobs *j, const char *site, struct zmsg *m)
{
    if (!m)
        return;
    if (j->nout == j->capout) {
        size_t cap = j->capout ? j->capout * 2 : 64;
        struct outmsg *o = realloc (j->out, cap * sizeof (*o));
        if (!o) {
            log_msg (LOG_ERR, "event=send.fail to=%s reason=\"out of memory\"", site);
            zmsg_destroy (&m);
            return;
        }
        j->out = o;
        j->capout = cap;
    }
    snprintf (j->out[j->nout].site, sizeof (j->out[j->nout].site), "%s", site);
    j->out[j->nout++].m = m;
}

static void outbox_send (struct jobs *j)
{
    for (size_t i = 0; i < j->nout; i++)
        if (j->send (j->arg, j->out[i].site, j->out[i].m) < 0)
            /* Down since: the task is lost with its site (jobs_tick). */
            log_msg (LOG_WARN, "event=send.fail to=%s reason=\"site down\"", j->out[i].site);
    j->nout = 0;
}

/* Keep the reply given under token with the next commit. */
static void token_keep (struct jobs *j, const char *token, const char *op, const json_t *reply)
{
    if (!token)
        return;
    if (j->ntoks == j->captoks) {
        size_t cap = j->captoks ? j->captoks * 2 : 16;
        struct tokrec *t = realloc (j->toks, cap * sizeof (*t));
        if (!t)
            return;
        j->toks = t;
        j->captoks = cap;
    }
    j->toks[j->ntoks++] = (struct tokrec){ strdup (token), strdup (op), json_deep_copy (reply) };
}

static void tokens_write (struct jobs *j)
{
    fs_error_t err;
    for (size_t i = 0; i < j->ntoks; i++) {
        struct tokrec *t = &j->toks[i];
        if (t->token && t->op && t->reply
            && store_token_put (j->store, t->token, t->op, t->reply, clock_wall (), &err) < 0)
            log_msg (LOG_ERR, "event=store.fail reason=\"%s\"", err.text);
        free (t->token);
        free (t->op);
        json_decref (t->reply);
    }
    j->ntoks = 0;
}

/* Write what changed since the last flush, in one transaction; then send
 * what waited for it. */
static void jobs_flush (struct jobs *j)
{
    bool any = j->ntoks > 0 || j->nrt_dirty > 0;
    for (size_t i = 0; i < j->nact && !any; i++)
        any = j->act[i]->dirty;
    if (!any) {
        act_compact (j);
        outbox_send (j);
        return;
    }
    fs_error_t err;
    if (store_begin (j->store, &err) < 0) {
        log_msg (LOG_ERR, "event=store.fail reason=\"%s\"", err.text);
        return;
    }
    tokens_write (j);
    for (size_t i = 0; i < j->nact; i++) {
        struct job *jb = j->act[i];
        if (!jb->dirty)
            continue;
        store_job_state (j->store, jb->id, jstate_names[jb->state], jb->ended, &err);
        for (size_t k = 0; k < jb->ntasks; k++) {
            if (!jb->t[k].dirty)
                continue;
            struct store_task st;
            char *pl;
            task_store (&jb->t[k], &st, &pl);
            store_task_save (j->store, jb->id, k, &st, &err);
            free (pl);
            jb->t[k].dirty = false;
        }
        jb->dirty = false;
    }
    runtimes_save (j);
    if (store_commit (j->store, &err) < 0)
        log_msg (LOG_ERR, "event=store.fail reason=\"%s\"", err.text);
    act_compact (j);
    outbox_send (j);
}

void jobs_commit (struct jobs *j)
{
    jobs_flush (j);
}

static bool deps_done (const struct job *jb, size_t k)
{
    const struct job_task *ts = &jb->spec->tasks[k];
    for (size_t d = 0; d < ts->ndeps; d++)
        if (jb->t[ts->deps[d].task].state != T_COMPLETED)
            return false;
    return true;
}

static void kill_attempt (struct jobs *j, const char *site, int64_t job, const char *task,
                          int attempt, const char *reason)
{
    outbox_push (j, site, msg_request ("task.kill", 0,
                                       json_pack ("{s:I, s:s, s:i, s:s}", "job", (json_int_t)job,
                                                  "task", task, "attempt", attempt, "reason",
                                                  reason)));
}

static void send_kill (struct jobs *j, struct job *jb, struct jtask *t, const char *reason)
{
    if (!tactive (t->state) || !t->site[0])
        return;
    kill_attempt (j, t->site, jb->id, t->name, t->attempt, reason);
}

/* End a job: its other tasks are killed or cancelled. */
static void job_end (struct jobs *j, struct job *jb, enum jstate s, const char *why)
{
    for (size_t k = 0; k < jb->ntasks; k++) {
        struct jtask *t = &jb->t[k];
        if (tfinal (t->state))
            continue;
        send_kill (j, jb, t, why);
        if (tactive (t->state) || t->state == T_READY || t->state == T_WAITING) {
            t->ended = tactive (t->state) ? clock_wall () : 0;
            task_set (j, jb, t, T_CANCELLED);
        }
    }
    jb->state = s;
    jb->ended = clock_wall ();
    jb->dirty = true;
    j->changed = true;
    log_msg (LOG_INFO, "event=job.end job=%lld state=%s reason=\"%s\"", (long long)jb->id,
             jstate_names[s], why);
}

static void task_fail (struct jobs *j, struct job *jb, struct jtask *t, int exit_code,
                       const char *why)
{
    t->exit_code = exit_code;
    t->ended = clock_wall ();
    snprintf (t->error, sizeof (t->error), "%s", why);
    task_set (j, jb, t, T_FAILED);
    log_msg (LOG_INFO, "event=task.failed job=%lld task=%s site=%s exit=%d reason=\"%s\"",
             (long long)jb->id, t->name, t->site, exit_code, why);
    char msg[600];
    snprintf (msg, sizeof (msg), "task %s failed", t->name);
    job_end (j, jb, J_FAILED, msg);
}

/* Place the task again as a new attempt (the old one is fenced off). */
static void task_requeue (struct jobs *j, struct job *jb, struct jtask *t, const char *event,
                          const char *why)
{
    t->attempt++;
    log_msg (LOG_WARN, "event=%s job=%lld task=%s site=%s attempt=%d reason=\"%s\"", event,
             (long long)jb->id, t->name, t->site, t->attempt, why);
    snprintf (t->error, sizeof (t->error), "attempt %d: %s", t->attempt - 1, why);
    task_set (j, jb, t, T_READY);        /* uncounted at its site first */
    t->site[0] = '\0';
    t->started = 0;
    t->sent_conn = 0;
    j->changed = true;
}

/* The task's site is gone (down, or restarted without it): again elsewhere
 * while retries last. */
static void task_lost (struct jobs *j, struct job *jb, struct jtask *t, const char *why)
{
    int retries = jb->spec ? jb->spec->tasks[t - jb->t].retries : 0;
    if (t->failures < retries) {
        t->failures++;
        task_requeue (j, jb, t, "task.retry", why);
    } else {
        task_fail (j, jb, t, NO_EXIT, why);
    }
}

/* --- placement ------------------------------------------------------------ */

/* Put back the measured link rates kept in the store for every pair whose
 * sites are both in the placement model now (each pair once). */
static void links_restore (struct jobs *j)
{
    size_t i = 0;
    while (i < json_array_size (j->saved_links)) {
        json_t *e = json_array_get (j->saved_links, i);
        int a = placement_fed_find (j->fed, json_string_value (json_object_get (e, "src")));
        int b = placement_fed_find (j->fed, json_string_value (json_object_get (e, "dst")));
        if (a < 0 || b < 0) {
            i++;
            continue;
        }
        placement_links_restore (placement_fed_links (j->fed), a, b,
                                 json_number_value (json_object_get (e, "bandwidth")),
                                 (unsigned)json_integer_value (json_object_get (e, "samples")));
        json_array_remove (j->saved_links, i);
    }
}

/* What placement sees of site i: the dispatcher's free cores for a newcomer
 * (none while tasks queue there) and its estimated wait. */
static void site_view (struct jobs *j, int i)
{
    struct placement_site *ps = placement_fed_site (j->fed, i);
    int di = dispatch_site (j->disp, ps->name);
    dispatch_site_view (j->disp, di, clock_wall (), &ps->cores_free, &ps->wait_s);
}

/* Keep the placement model in step with the registry and the running tasks. */
static void fed_sync (struct jobs *j)
{
    for (size_t i = 0; i < registry_count (j->reg); i++) {
        struct site *s = registry_at (j->reg, i);
        if (!s->region[0])
            continue;
        int k = placement_fed_find (j->fed, s->name);
        if (k < 0) {
            fs_error_t err;
            k = placement_fed_add_site (j->fed, s->name, s->region, &err);
            if (k < 0)
                continue;
            links_restore (j);
        }
        struct placement_site *ps = placement_fed_site (j->fed, k);
        ps->up = s->up;
        ps->drained = s->drained;
        ps->cores = s->cores;
        /* a site that stops taking work drops its queue: placed again */
        int di = dispatch_site (j->disp, s->name);
        dispatch_site_set (j->disp, di, s->cores, s->up && !s->drained);
        /* a batch site: its batch system's cores and wait, and room to queue
         * there up to twice its cores' worth of ranks (docs/protocol.md) */
        dispatch_site_batch (j->disp, di, s->queue_known ? s->queue_idle : -1, s->queue_wait_s,
                             s->queue_known ? 2 * s->cores : 0);
        site_view (j, k);
    }
    if (j->ncand < placement_fed_count (j->fed)) {
        int n = placement_fed_count (j->fed) + 16;
        struct placement_candidate *c = realloc (j->cand, (size_t)n * sizeof (*c));
        if (c) {
            j->cand = c;
            j->ncand = n;
        }
    }
}

struct pin {                        /* one input, ready for placement and task.start */
    struct placement_input in;
    int reps[JOB_MAX_REPLICAS];
    fs_policy_t policy;
    char dataset[FS_NAME_MAX + 1];
    json_t *lookup;                 /* catalog.lookup of the dataset */
    fs_sel_t sel;
    fs_reduce_t red;
};

/* The inputs of task k as the placement engine wants them; -1 with why when
 * an input's dataset is not (or no longer) in the catalog. */
static int inputs_build (struct jobs *j, struct job *jb, size_t k, struct pin *pins, char *why,
                         size_t whysz)
{
    const struct job_task *ts = &jb->spec->tasks[k];
    for (size_t i = 0; i < ts->ninputs; i++) {
        const struct job_input *ji = &ts->inputs[i];
        struct pin *p = &pins[i];
        memset (p, 0, sizeof (*p));
        fs_error_t err;
        if (ji->kind == JOB_IN_DATASET)
            snprintf (p->dataset, sizeof (p->dataset), "%s", ji->slice.name);
        else
            jobfile_output_name (jb->id, ji->from_task, ji->from_output, p->dataset,
                                 sizeof (p->dataset), &err);
        p->lookup = store_lookup (j->store, p->dataset, &err);
        if (!p->lookup) {
            snprintf (why, whysz, "input %s: %.900s", ji->name, err.text);
            return -1;
        }
        json_t *shape = json_object_get (p->lookup, "shape");
        int nd = (int)json_array_size (shape);
        uint64_t sh[FS_MAXDIMS];
        for (int d = 0; d < nd && d < FS_MAXDIMS; d++)
            sh[d] = (uint64_t)json_integer_value (json_array_get (shape, (size_t)d));
        fs_dtype_t dt = dtype_parse (json_string_value (json_object_get (p->lookup, "dtype")));
        policy_parse (json_string_value (json_object_get (p->lookup, "policy")), &p->policy, &err);
        uint64_t bytes;
        if (ji->kind == JOB_IN_DATASET) {
            fs_slice_t sl = ji->slice;
            if (slice_resolve (&sl, nd, sh, &p->sel, &err) < 0) {
                snprintf (why, whysz, "input %s: %.900s", ji->name, err.text);
                return -1;
            }
            p->red = ji->reduce;
            uint64_t os[FS_MAXDIMS];
            int on = p->red.op ? reduce_out_shape (&p->sel, &p->red, os, &err)
                               : sel_out_shape (&p->sel, os);
            bytes = p->red.op == RED_MEAN || p->red.op == RED_SUM ? 8 : dtype_size (dt);
            for (int d = 0; d < on; d++)
                bytes *= os[d];
        } else {
            fs_slice_t whole = { .bracketed = false };
            snprintf (whole.name, sizeof (whole.name), "%s", p->dataset);
            slice_resolve (&whole, nd, sh, &p->sel, &err);
            bytes = (uint64_t)json_integer_value (json_object_get (p->lookup, "bytes"));
        }
        int nr = 0;
        size_t r;
        json_t *rep;
        json_array_foreach (json_object_get (p->lookup, "replicas"), r, rep) {
            int s = placement_fed_find (j->fed, json_string_value (json_object_get (rep, "site")));
            if (s >= 0 && nr < JOB_MAX_REPLICAS)
                p->reps[nr++] = s;
        }
        p->in = (struct placement_input){ ji->name, bytes, p->reps, nr, &p->policy,
                                          p->red.op != RED_NONE
                                              && p->policy.kind == POLICY_AGGREGATE
                                              && policy_reduce_satisfies (&p->policy, &p->sel, &p->red) };
    }
    return 0;
}

static void pins_free (struct pin *pins, size_t n)
{
    for (size_t i = 0; i < n; i++)
        json_decref (pins[i].lookup);
    free (pins);
}

static json_t *placement_json (struct jobs *j, const struct placement_task *pt,
                               const struct placement_result *res)
{
    json_t *cands = json_array ();
    for (int i = 0; i < res->ncandidates; i++) {
        const struct placement_candidate *c = &res->candidates[i];
        char why[512];
        const struct placement_site *ps = placement_fed_site_const (j->fed, c->site);
        json_array_append_new (
            cands, json_pack ("{s:s, s:o, s:o}", "site", ps->name, "cost_s",
                              c->excluded ? json_null () : json_real (c->cost_s), "excluded",
                              c->excluded ? json_string (placement_candidate_describe (
                                                j->fed, pt, c, why, sizeof (why)))
                                          : json_null ()));
    }
    const char *site = res->site >= 0 ? placement_fed_site_const (j->fed, res->site)->name : NULL;
    return json_pack ("{s:o, s:s, s:o, s:o}", "site", site ? json_string (site) : json_null (),
                      "reason", res->reason, "cost_s",
                      res->site >= 0 ? json_real (res->cost_s) : json_null (), "candidates", cands);
}

/* The replicas of input p for task.start, in the order placement costed them
 * for site (placement_sources: the cheapest transfer first), each with the link
 * estimate it used (bandwidth bytes/s, latency s; the site's own replica has
 * none): the site fetches from the first that answers and sizes its transfer
 * to that link (docs/protocol.md).  Replicas at sites placement does not know
 * (yet) come last, in the catalog's order. */
static json_t *replicas_json (struct jobs *j, const struct pin *p, int site)
{
    json_t *a = json_array ();
    int order[JOB_MAX_REPLICAS];
    int n = placement_sources (j->fed, &p->in, site, order, JOB_MAX_REPLICAS);
    const struct placement_links *l = placement_fed_links (j->fed);
    for (int k = 0; k < n; k++) {
        const char *name = placement_fed_site_const (j->fed, order[k])->name;
        struct site *s = registry_get (j->reg, name, false);
        json_t *e = json_pack ("{s:s, s:s, s:s, s:s}", "site", name, "uri", s ? s->data_uri : "",
                               "state", s && s->up ? "up" : "down", "key", s ? s->curve_key : "");
        if (order[k] != site) {
            struct placement_link_info li;
            placement_links_get (l, order[k], site, &li);
            json_object_set_new (e, "bandwidth", json_real (li.bandwidth));
            json_object_set_new (e, "latency", json_real (li.latency));
        }
        json_array_append_new (a, e);
    }
    size_t i;
    json_t *r;
    json_array_foreach (json_object_get (p->lookup, "replicas"), i, r) {
        const char *name = json_string_value (json_object_get (r, "site"));
        if (!name || placement_fed_find (j->fed, name) >= 0)
            continue;
        struct site *s = registry_get (j->reg, name, false);
        json_array_append_new (a, json_pack ("{s:s, s:s, s:s, s:s}", "site", name, "uri",
                                             s ? s->data_uri : "", "state",
                                             s && s->up ? "up" : "down", "key",
                                             s ? s->curve_key : ""));
    }
    return a;
}

static void task_dispatch (struct jobs *j, struct job *jb, size_t k, struct pin *pins,
                           const struct placement_task *pt, int site, const struct app_place *ap)
{
    const struct job_task *ts = &jb->spec->tasks[k];
    struct jtask *t = &jb->t[k];
    const char *sname = placement_fed_site_const (j->fed, site)->name;
    fs_policy_t out_policy;
    struct placement_input *ins = calloc (ts->ninputs + 1, sizeof (*ins));
    for (size_t i = 0; i < ts->ninputs; i++)
        ins[i] = pins[i].in;
    policy_inherit (ins, (int)ts->ninputs, &out_policy);
    free (ins);
    char pol[1024];
    policy_format (&out_policy, pol, sizeof (pol));
    json_t *inputs = json_array (), *outputs = json_array ();
    for (size_t i = 0; i < ts->ninputs; i++)
        json_array_append_new (
            inputs, json_pack ("{s:s, s:s, s:o, s:o, s:O, s:O, s:o}", "name", ts->inputs[i].name,
                               "dataset", pins[i].dataset, "sel", sel_to_json (&pins[i].sel),
                               "reduce", reduce_to_json (&pins[i].red), "version",
                               json_object_get (pins[i].lookup, "version"), "policy",
                               json_object_get (pins[i].lookup, "policy"), "replicas",
                               replicas_json (j, &pins[i], site)));
    for (size_t i = 0; i < ts->noutputs; i++) {
        char name[FS_NAME_MAX + 1];
        fs_error_t err;
        jobfile_output_name (jb->id, ts->name, ts->outputs[i].name, name, sizeof (name), &err);
        json_array_append_new (outputs, json_pack ("{s:s, s:s, s:o, s:s}", "name",
                                                   ts->outputs[i].name, "dataset", name, "publish",
                                                   ts->outputs[i].publish
                                                       ? json_string (ts->outputs[i].publish)
                                                       : json_null (),
                                                   "policy", pol));
    }
    json_t *command = json_array ();
    for (int a = 0; a < ts->argc; a++)
        json_array_append_new (command, json_string (ts->argv[a]));
    json_t *body = json_pack ("{s:I, s:s, s:i, s:i, s:f, s:o, s:o, s:o}", "job",
                              (json_int_t)jb->id, "task", ts->name, "attempt", t->attempt, "ranks",
                              ts->ranks, "walltime", ts->walltime, "command", command, "inputs",
                              inputs, "outputs", outputs);
    if (ap->meta) {
        /* The app it runs, recorded for its provenance (status: app). */
        char ref[APP_REF_MAX + SIGN_DIGEST_TEXT];
        fs_error_t err;
        json_object_set_new (body, "app", apps_start_body (ap, j->fed, site, j->reg));
        if (store_task_app_save (j->store, jb->id, k, apps_ref (ap, ref, sizeof (ref)), &err) < 0)
            log_msg (LOG_ERR, "event=store.fail reason=\"%s\"", err.text);
    }
    snprintf (t->site, sizeof (t->site), "%s", sname);
    struct site *reg = registry_get (j->reg, sname, false);
    t->sent_conn = reg ? reg->conn : 0;
    task_set (j, jb, t, T_PLACED);
    site_view (j, site);
    if (jb->state == J_PENDING) {
        jb->state = J_RUNNING;
        jb->dirty = true;
    }
    (void)pt;
    log_msg (LOG_INFO, "event=task.placed job=%lld task=%s site=%s attempt=%d", (long long)jb->id,
             ts->name, sname, t->attempt);
    outbox_push (j, sname, msg_request ("task.start", 0, body));
}

/* Place task k of jb and start it, queue it or hold it, as the dispatcher
 * decides; or, with queued_site >= 0, start it there (it heads that site's
 * queue and the dispatcher let it go). */
static void task_place (struct jobs *j, struct job *jb, size_t k, int queued_site)
{
    const struct job_task *ts = &jb->spec->tasks[k];
    struct jtask *t = &jb->t[k];
    char why[1024], cmd[1024];
    struct pin *pins = calloc (ts->ninputs + 1, sizeof (*pins));
    struct placement_input *ins = calloc (ts->ninputs + 1, sizeof (*ins));
    if (!pins || !ins) {
        free (pins);
        free (ins);
        return;
    }
    if (inputs_build (j, jb, k, pins, why, sizeof (why)) < 0) {
        task_fail (j, jb, t, NO_EXIT, why);
        pins_free (pins, ts->ninputs);
        free (ins);
        return;
    }
    double bytes = 0;
    for (size_t i = 0; i < ts->ninputs; i++) {
        ins[i] = pins[i].in;
        bytes += (double)ins[i].bytes;
    }
    /* An app: its bundle is one more input, and sites that can't run it are vetoed. */
    struct app_place ap = { 0 };
    fs_error_t err;
    if (ts->app[0] && (!j->apps || apps_place (j->apps, j->fed, ts->app_name, ts->app_version,
                                               &ap, &ins[ts->ninputs], &err) < 0)) {
        snprintf (why, sizeof (why), "app %s: %.800s", ts->app, j->apps ? err.text : "no apps here");
        apps_place_free (&ap);
        task_fail (j, jb, t, NO_EXIT, why);
        pins_free (pins, ts->ninputs);
        free (ins);
        return;
    }
    double est = dispatch_runtime (j->disp, task_command (ts, cmd, sizeof (cmd)), bytes,
                                   ts->walltime);
    struct placement_task pt = { ts->ranks, est, ts->site[0] != '\0',
                                 ts->site[0] ? placement_fed_find (j->fed, ts->site) : -1,
                                 (int)ts->ninputs + (ap.meta != NULL), ins,
                                 ap.meta ? ap.vetoes : NULL };
    struct placement_result res;
    if (queued_site >= 0) {
        task_dispatch (j, jb, k, pins, &pt, queued_site, &ap);
        apps_place_free (&ap);
        free (ins);
        pins_free (pins, ts->ninputs);
        return;
    }
    if ((pt.pinned && pt.pin_site < 0) || placement_fed_count (j->fed) == 0
        || j->ncand < placement_fed_count (j->fed)) {
        /* No site has said hello yet (or not the pinned one): wait for them. */
        apps_place_free (&ap);
        free (ins);
        pins_free (pins, ts->ninputs);
        return;
    }
    if (placement_decide (j->fed, &pt, j->cand, j->ncand, &res, &err) < 0) {
        log_msg (LOG_ERR, "event=placement.fail job=%lld task=%s reason=\"%s\"", (long long)jb->id,
                 ts->name, err.text);
    } else {
        int site = res.status == PLACEMENT_PLACED ? res.site : -1;
        enum dispatch_action act = DISPATCH_HOLD;
        if (site >= 0)
            act = dispatch_decide (j->disp,
                                   dispatch_site (j->disp, placement_fed_site_const (j->fed, site)->name),
                                   task_key (jb, k), ts->ranks, est, clock_wall ());
        bool go = act == DISPATCH_START;
        /* A task that waits keeps its record until the decision changes: no
         * rewrite of every waiting task on every turn of the loop. */
        if (go || !t->placement || (int)res.status != t->last_status || res.site != t->last_site) {
            json_decref (t->placement);
            t->placement = placement_json (j, &pt, &res);
            t->last_status = (int)res.status;
            t->last_site = res.site;
            t->dirty = jb->dirty = true;
        }
        if (res.status == PLACEMENT_NEVER) {
            task_fail (j, jb, t, NO_EXIT, res.reason);
        } else if (go) {
            task_dispatch (j, jb, k, pins, &pt, res.site, &ap);
        } else if (act == DISPATCH_QUEUE) {
            site_view (j, site);
            log_msg (LOG_INFO, "event=task.queued job=%lld task=%s site=%s queued=%lld "
                     "estimate_s=%.3g", (long long)jb->id, ts->name,
                     placement_fed_site_const (j->fed, site)->name,
                     (long long)dispatch_site_queued (j->disp, dispatch_site (j->disp,
                         placement_fed_site_const (j->fed, site)->name)), est);
        }
        /* else: held (no site for now: sites down, replicas unreachable) */
    }
    apps_place_free (&ap);
    free (ins);
    pins_free (pins, ts->ninputs);
}

/* --- the public face --------------------------------------------------------- */

static int load_job (void *arg, int64_t id, const char *name, const char *file, const char *text,
                     const char *state, double submitted, double ended, size_t ntasks,
                     const struct store_task *tasks)
{
    struct jobs *j = arg;
    struct job *jb = calloc (1, sizeof (*jb));
    if (!jb)
        return -1;
    jb->id = id;
    snprintf (jb->name, sizeof (jb->name), "%s", name);
    jb->file = strdup (file);
    jb->text = strdup (text);
    int js = parse_state (state, jstate_names, J_NSTATES);
    jb->state = js < 0 ? J_FAILED : (enum jstate)js;
    jb->submitted = submitted;
    jb->ended = ended;
    jb->ntasks = ntasks;
    jb->t = calloc (ntasks + 1, sizeof (*jb->t));
    for (size_t k = 0; k < ntasks; k++) {
        struct jtask *t = &jb->t[k];
        const struct store_task *s = &tasks[k];
        snprintf (t->name, sizeof (t->name), "%s", s->name);
        int ts = parse_state (s->state, tstate_names, T_NSTATES);
        t->state = ts < 0 ? T_FAILED : (enum tstate)ts;
        snprintf (t->site, sizeof (t->site), "%s", s->site);
        t->ranks = s->ranks;
        t->exit_code = s->exit_code;
        t->started = s->started;
        t->ended = s->ended;
        t->bytes_local = s->bytes_local;
        t->bytes_moved = s->bytes_moved;
        t->attempt = s->attempt;
        /* Before failures were kept, each new attempt followed a site failure. */
        t->failures = s->failures >= 0 ? s->failures : s->attempt;
        snprintf (t->error, sizeof (t->error), "%s", s->error);
        t->placement = s->placement && !jfinal (jb->state) ? json_loads (s->placement, 0, NULL) : NULL;
        t->last_status = -1;
    }
    if (jfinal (jb->state)) {
        free (jb->text);
        jb->text = NULL;
        jb->slim = true;
    }
    if (!jfinal (jb->state)) {
        struct errlist errs = ERRLIST_INIT;
        struct job_fedview v;
        jb->spec = jobfile_load_string (jb->file, jb->text, strlen (jb->text), view_of (j, &v), &errs);
        if (!jb->spec || jb->spec->ntasks != ntasks) {
            char *msg = errlist_join (&errs, "; ");
            log_msg (LOG_ERR, "event=job.reload_fail job=%lld reason=\"%s\"", (long long)id,
                     msg ? msg : "tasks changed");
            free (msg);
            job_spec_destroy (jb->spec);
            jb->spec = NULL;
            jb->state = J_FAILED;
            jb->ended = clock_wall ();
            jb->dirty = true;
        }
        errlist_clear (&errs);
    }
    for (size_t k = 0; k < ntasks && !jfinal (jb->state); k++)
        if (tactive (jb->t[k].state)) {
            struct jtask *t = &jb->t[k];
            char cmd[1024];
            use_add (j, t, 1);
            /* it holds its cores since it started, for the estimate of today */
            dispatch_running (j->disp, dispatch_site (j->disp, t->site), task_key (jb, k),
                              t->ranks, t->started > 0 ? t->started : clock_wall (),
                              dispatch_runtime (j->disp, task_command (&jb->spec->tasks[k], cmd,
                                                                       sizeof (cmd)),
                                                (double)(t->bytes_local + t->bytes_moved),
                                                jb->spec->tasks[k].walltime));
        }
    return job_append (j, jb);
}

struct jobs *jobs_create (struct store *st, struct registry *reg, const struct fed_config *cfg,
                          jobs_send_f send, void *arg, fs_error_t *err)
{
    struct jobs *j = calloc (1, sizeof (*j));
    if (!j) {
        errprintf (err, FS_EFAIL, "out of memory");
        return NULL;
    }
    j->store = st;
    j->reg = reg;
    j->cfg = cfg;
    j->send = send;
    j->arg = arg;
    j->fed = placement_fed_create (cfg->link_default.bandwidth, cfg->link_default.latency);
    j->disp = dispatch_create ();
    if (!j->fed || !j->disp
        || placement_fed_configure_links (j->fed, &cfg->link_default, cfg->links,
                                          cfg->nlinks, err) < 0
        || store_runtimes_load (st, runtime_restore, j, err) < 0
        || store_jobs_load (st, load_job, j, err) < 0
        || !(j->saved_links = store_links (st, err))) {
        jobs_destroy (j);
        return NULL;
    }
    j->changed = true;
    j->started = clock_wall ();
    jobs_flush (j);
    return j;
}

void jobs_destroy (struct jobs *j)
{
    if (!j)
        return;
    for (size_t i = 0; i < j->n; i++)
        job_free (j->v[i]);
    free (j->v);
    free (j->act);
    free (j->use);
    free (j->cand);
    for (size_t i = 0; i < j->ndeferred; i++) {
        job_free (j->deferred[i].jb);
        free (j->deferred[i].token);
        json_decref (j->deferred[i].kept);
    }
    free (j->deferred);
    for (size_t i = 0; i < j->nout; i++)
        zmsg_destroy (&j->out[i].m);
    free (j->out);
    tokens_write (j);           /* the last ones, on their own */
    free (j->toks);
    json_decref (j->view_sites);
    json_decref (j->saved_links);
    placement_fed_destroy (j->fed);
    dispatch_destroy (j->disp);
    for (size_t i = 0; i < j->nrt_dirty; i++)
        free (j->rt_dirty[i]);
    free (j->rt_dirty);
    free (j);
}

static struct job_spec *load_checked (struct jobs *j, const char *file, const char *text,
                                      char **errors, fs_error_t *err)
{
    struct errlist errs = ERRLIST_INIT;
    struct job_fedview v;
    struct job_spec *spec = jobfile_load_string (file, text, strlen (text), view_of (j, &v), &errs);
    *errors = NULL;
    if (!spec) {
        char *msg = errlist_join (&errs, "\n");
        errprintf (err, errs.code ? errs.code : FS_EINVAL, "%s", msg ? msg : "invalid job file");
        *errors = msg;
    }
    errlist_clear (&errs);
    return spec;
}

json_t *jobs_validate (struct jobs *j, const char *file, const char *text, char **errors,
                       fs_error_t *err)
{
    struct job_spec *spec = load_checked (j, file, text, errors, err);
    if (!spec)
        return NULL;
    json_t *r = json_pack ("{s:s, s:I}", "name", spec->name, "tasks", (json_int_t)spec->ntasks);
    job_spec_destroy (spec);
    return r;
}

/* A validated job, not yet stored (id 0). */
static struct job *job_build (struct jobs *j, const char *file, const char *text,
                              char **errors, fs_error_t *err)
{
    struct job_spec *spec = load_checked (j, file, text, errors, err);
    if (!spec)
        return NULL;
    struct job *jb = calloc (1, sizeof (*jb));
    if (!jb || !(jb->t = calloc (spec->ntasks + 1, sizeof (*jb->t)))) {
        free (jb);
        job_spec_destroy (spec);
        errprintf (err, FS_EFAIL, "out of memory");
        return NULL;
    }
    jb->spec = spec;
    jb->ntasks = spec->ntasks;
    snprintf (jb->name, sizeof (jb->name), "%s", spec->name);
    jb->file = strdup (file);
    jb->text = strdup (text);
    jb->submitted = clock_wall ();
    jb->state = J_PENDING;
    for (size_t k = 0; k < spec->ntasks; k++) {
        struct jtask *t = &jb->t[k];
        snprintf (t->name, sizeof (t->name), "%s", spec->tasks[k].name);
        t->ranks = spec->tasks[k].ranks;
        t->exit_code = NO_EXIT;
        t->state = spec->tasks[k].ndeps ? T_WAITING : T_READY;
    }
    return jb;
}

/* Write jb inside the open transaction; its id on success. */
static int64_t job_store (struct jobs *j, struct job *jb, fs_error_t *err)
{
    struct store_task *st = calloc (jb->ntasks + 1, sizeof (*st));
    if (!st)
        return errprintf (err, FS_EFAIL, "out of memory");
    for (size_t k = 0; k < jb->ntasks; k++) {
        char *pl;
        task_store (&jb->t[k], &st[k], &pl);
    }
    int64_t id = store_job_add (j->store, jb->name, jb->file, jb->text, jb->submitted, "PENDING",
                                jb->ntasks, st, err);
    free (st);
    return id;
}

static void job_accepted (struct jobs *j, struct job *jb)
{
    j->changed = true;
    log_msg (LOG_INFO, "event=job.submit job=%lld name=%s tasks=%zu", (long long)jb->id, jb->name,
             jb->ntasks);
}

/* What a submit's token is kept with: the job id, and a digest of the job file
 * so that a token sent again with another file is refused, not answered. */
static json_t *submit_answer (int64_t id, const char *file, const char *text)
{
    char digest[40];
    uint64_t h = checksum (text, strlen (text)) ^ (checksum (file, strlen (file)) * 31);
    snprintf (digest, sizeof (digest), "%016" PRIx64, h);
    return json_pack ("{s:I, s:s}", "id", (json_int_t)id, "digest", digest);
}

int jobs_submit_defer (struct jobs *j, const char *file, const char *text, const char *token,
                       void *ctx, char **errors, fs_error_t *err)
{
    struct deferred d = { .ctx = ctx, .same = -1 };
    *errors = NULL;
    if (token) {
        json_t *kept = NULL;
        int r = store_token_get (j->store, token, "job.submit", &kept, err);
        if (r < 0)
            return -1;
        if (r == 1) {
            json_t *mine = submit_answer (0, file, text);
            bool same = json_equal (json_object_get (kept, "digest"), json_object_get (mine, "digest"));
            json_decref (mine);
            if (!same) {
                json_decref (kept);
                return errprintf (err, FS_EINVAL, "job.submit: token '%s' was given to another "
                                  "job file (job %lld): each submission needs a token of its own",
                                  token, (long long)json_integer_value (json_object_get (kept, "id")));
            }
            d.kept = kept;
        }
        for (size_t i = 0; !d.kept && d.same < 0 && i < j->ndeferred; i++)
            if (j->deferred[i].token && !strcmp (j->deferred[i].token, token) && j->deferred[i].jb)
                d.same = (long)i;
    }
    if (!d.kept && d.same < 0 && !(d.jb = job_build (j, file, text, errors, err)))
        return -1;
    if (j->ndeferred == j->capdeferred) {
        size_t cap = j->capdeferred ? j->capdeferred * 2 : 64;
        struct deferred *nd = realloc (j->deferred, cap * sizeof (*nd));
        if (!nd) {
            job_free (d.jb);
            json_decref (d.kept);
            return errprintf (err, FS_EFAIL, "out of memory");
        }
        j->deferred = nd;
        j->capdeferred = cap;
    }
    d.token = token ? strdup (token) : NULL;
    j->deferred[j->ndeferred++] = d;
    return 0;
}

void jobs_submit_flush (struct jobs *j, jobs_done_f done, void *arg)
{
    if (j->ndeferred == 0)
        return;
    fs_error_t err = { 0 };
    int rc = store_begin (j->store, &err);
    for (size_t i = 0; rc == 0 && i < j->ndeferred; i++) {
        struct deferred *d = &j->deferred[i];
        if (!d->jb)
            continue;
        if ((d->jb->id = job_store (j, d->jb, &err)) < 0)
            rc = -1;
        else if (d->token) {
            json_t *a = submit_answer (d->jb->id, d->jb->file, d->jb->text);
            rc = store_token_put (j->store, d->token, "job.submit", a, clock_wall (), &err);
            json_decref (a);
        }
    }
    if (rc == 0)
        rc = store_commit (j->store, &err);
    else
        store_rollback (j->store);          /* nothing of it is acknowledged */
    for (size_t i = 0; i < j->ndeferred; i++) {
        struct deferred *d = &j->deferred[i];
        struct job *jb = d->jb;
        int64_t id = d->kept ? json_integer_value (json_object_get (d->kept, "id"))
                   : d->same >= 0 && j->deferred[d->same].jb ? j->deferred[d->same].jb->id
                   : jb ? jb->id : -1;
        if (rc == 0 && jb && job_append (j, jb) < 0) {
            errprintf (&err, FS_EFAIL, "out of memory");
            job_free (jb);
            jb = d->jb = NULL;
            id = -1;
        } else if (rc == 0 && jb) {
            job_accepted (j, jb);
        } else if (jb) {
            job_free (jb);
            d->jb = NULL;
            id = -1;
        }
        if ((rc == 0 || d->kept) && id > 0)
            done (arg, d->ctx, json_pack ("{s:I}", "id", (json_int_t)id), NULL);
        else
            done (arg, d->ctx, NULL, &err);
    }
    for (size_t i = 0; i < j->ndeferred; i++) {
        free (j->deferred[i].token);
        json_decref (j->deferred[i].kept);
    }
    j->ndeferred = 0;
}

static size_t tasks_done (const struct job *jb)
{
    size_t n = 0;
    for (size_t k = 0; k < jb->ntasks; k++)
        n += jb->t[k].state == T_COMPLETED;
    return n;
}

json_t *jobs_list (struct jobs *j, bool all)
{
    json_t *a = json_array ();
    struct job **v = all ? j->v : j->act;
    size_t n = all ? j->n : j->nact;
    for (size_t i = 0; i < n; i++) {
        struct job *jb = v[i];
        if (!all && jfinal (jb->state))
            continue;
        json_array_append_new (a, json_pack ("{s:I, s:s, s:s, s:I, s:I, s:o}", "id",
                                             (json_int_t)jb->id, "name", jb->name, "state",
                                             jstate_names[jb->state], "done",
                                             (json_int_t)tasks_done (jb), "total",
                                             (json_int_t)jb->ntasks, "submitted",
                                             iso_or_null (jb->submitted)));
    }
    return json_pack ("{s:o}", "jobs", a);
}

json_t *jobs_status (struct jobs *j, int64_t id, fs_error_t *err)
{
    struct job *jb = job_find (j, id);
    if (!jb) {
        errprintf (err, FS_ENOTFOUND, "unknown job %lld (see 'fedsched jobs --all')", (long long)id);
        return NULL;
    }
    json_t *tasks = json_array ();
    fs_error_t e;
    json_t *apps = store_task_apps (j->store, jb->id, &e);     /* {idx: app it ran} */
    for (size_t k = 0; k < jb->ntasks; k++) {
        struct jtask *t = &jb->t[k];
        json_t *pl = jb->slim ? store_task_placement (j->store, jb->id, k) : json_incref (t->placement);
        char idx[32];
        snprintf (idx, sizeof (idx), "%zu", k);
        json_t *app = json_object_get (apps, idx);
        json_array_append_new (
            tasks, json_pack ("{s:s, s:s, s:o, s:i, s:o, s:o, s:o, s:I, s:I, s:i, s:o, s:o, s:O}",
                              "name", t->name, "state", tstate_names[t->state], "site",
                              t->site[0] ? json_string (t->site) : json_null (), "ranks", t->ranks,
                              "exit_code", t->exit_code == NO_EXIT ? json_null () : json_integer (t->exit_code),
                              "started", iso_or_null (t->started), "ended", iso_or_null (t->ended),
                              "bytes_local", (json_int_t)t->bytes_local, "bytes_moved",
                              (json_int_t)t->bytes_moved, "attempt", t->attempt, "error",
                              t->error[0] ? json_string (t->error) : json_null (), "placement",
                              pl ? pl : json_null (), "batch", t->batch ? t->batch : json_null ()));
        json_object_set_new (json_array_get (tasks, k), "app",
                             app ? json_incref (app) : json_null ());
    }
    json_decref (apps);
    return json_pack ("{s:I, s:s, s:s, s:o, s:o, s:o}", "id", (json_int_t)jb->id, "name", jb->name,
                      "state", jstate_names[jb->state], "submitted", iso_or_null (jb->submitted),
                      "ended", iso_or_null (jb->ended), "tasks", tasks);
}

json_t *jobs_cancel (struct jobs *j, int64_t id, const char *token, fs_error_t *err)
{
    struct job *jb = job_find (j, id);
    if (!jb) {
        errprintf (err, FS_ENOTFOUND, "unknown job %lld", (long long)id);
        return NULL;
    }
    if (jfinal (jb->state)) {
        errprintf (err, FS_EFAIL, "job %lld has already ended (%s)", (long long)id,
                   jstate_names[jb->state]);
        return NULL;
    }
    job_end (j, jb, J_CANCELLED, "cancelled by the user");
    json_t *r = json_pack ("{s:s}", "state", jstate_names[jb->state]);
    token_keep (j, token, "job.cancel", r);
    jobs_flush (j);
    return r;
}

json_t *jobs_links (struct jobs *j)
{
    fed_sync (j);
    json_t *a = json_array ();
    int n = placement_fed_count (j->fed);
    const struct placement_links *l = placement_fed_links (j->fed);
    for (int x = 0; x < n; x++)
        for (int y = 0; y < n; y++) {
            if (x == y)
                continue;
            struct placement_link_info li;
            placement_links_get (l, x, y, &li);
            json_array_append_new (
                a, json_pack ("{s:s, s:s, s:f, s:f, s:f, s:o, s:i}", "from",
                              placement_fed_site_const (j->fed, x)->name, "to",
                              placement_fed_site_const (j->fed, y)->name, "bandwidth",
                              li.bandwidth, "latency", li.latency, "configured_bandwidth",
                              li.configured_bandwidth, "measured_bandwidth",
                              li.samples ? json_real (li.measured_bandwidth) : json_null (),
                              "samples", (int)li.samples));
        }
    return json_pack ("{s:{s:f, s:f}, s:o}", "default", "bandwidth", j->cfg->link_default.bandwidth,
                      "latency", j->cfg->link_default.latency, "links", a);
}

int jobs_logs_site (struct jobs *j, int64_t id, const char *task, char *site, size_t sitesz,
                    json_t **fwd, fs_error_t *err)
{
    struct job *jb = job_find (j, id);
    if (!jb)
        return errprintf (err, FS_ENOTFOUND, "unknown job %lld", (long long)id);
    for (size_t k = 0; k < jb->ntasks; k++) {
        if (strcmp (jb->t[k].name, task))
            continue;
        if (!jb->t[k].site[0])
            return errprintf (err, FS_EFAIL, "task %s of job %lld has not run yet (%s)", task,
                              (long long)id, tstate_names[jb->t[k].state]);
        snprintf (site, sitesz, "%s", jb->t[k].site);
        *fwd = json_pack ("{s:I, s:s}", "job", (json_int_t)id, "task", task);
        return 0;
    }
    return errprintf (err, FS_EFAIL, "job %lld has no task '%s'", (long long)id, task);
}

static struct jtask *task_find (struct jobs *j, int64_t id, const char *name, struct job **jbp)
{
    struct job *jb = job_find (j, id);
    *jbp = jb;
    for (size_t k = 0; jb && name && k < jb->ntasks; k++)
        if (!strcmp (jb->t[k].name, name))
            return &jb->t[k];
    return NULL;
}

static json_t *hello_entry (const json_t *tasks, int64_t job, const char *task, int attempt)
{
    size_t x;
    json_t *e;
    json_array_foreach (tasks, x, e)
        if (json_integer_value (json_object_get (e, "job")) == job
            && !strcmp (json_string_value (json_object_get (e, "task")) ?: "", task)
            && json_integer_value (json_object_get (e, "attempt")) == attempt)
            return e;
    return NULL;
}

/* A site's hello carries its own account of its tasks (SPEC section 8): each
 * attempt it holds, staging, running, or ended with the result the scheduler
 * may not have heard.  The results are taken first; then every task this
 * scheduler believes is at the site is checked against that account.  Only an
 * attempt the site truly does not know is lost: one placed there whose
 * task.start went out on a connection the site has since replaced never
 * reached it, and is placed again without using up a retry; one the site had
 * started and no longer knows (its state directory was lost) is a site
 * failure.  Attempts the site holds that nobody wants any more are killed. */
void jobs_site_hello (struct jobs *j, const char *site, const json_t *tasks)
{
    struct site *reg = registry_get (j->reg, site, false);
    unsigned conn = reg ? reg->conn : 0;
    size_t x;
    json_t *e;
    json_array_foreach (tasks, x, e) {
        json_t *u = json_object_get (e, "update");
        fs_error_t err;
        if (json_is_object (u) && jobs_task_update (j, site, u, &err) < 0)
            log_msg (LOG_WARN, "event=hello.update_fail site=%s reason=\"%s\"", site, err.text);
    }
    for (size_t i = 0; i < j->nact; i++) {
        struct job *jb = j->act[i];
        if (jfinal (jb->state))
            continue;
        for (size_t k = 0; k < jb->ntasks && !jfinal (jb->state); k++) {
            struct jtask *t = &jb->t[k];
            if (!tactive (t->state) || strcmp (t->site, site))
                continue;
            json_t *he = hello_entry (tasks, jb->id, t->name, t->attempt);
            const char *st = he ? json_string_value (json_object_get (he, "state")) : NULL;
            if (!he && t->state == T_PLACED && t->sent_conn == conn)
                continue;           /* its task.start is on its way on this connection */
            if (!he && t->state == T_PLACED)
                task_requeue (j, jb, t, "task.requeue", "its site never received it (the "
                              "connection that carried it was lost)");
            else if (!he)
                task_lost (j, jb, t, "its site restarted without it");
            else if (st && !strcmp (st, "running") && t->state != T_RUNNING) {
                if (t->started <= 0)
                    t->started = clock_wall ();
                task_set (j, jb, t, T_RUNNING);
            } else if (st && !strcmp (st, "staging") && t->state == T_PLACED)
                task_set (j, jb, t, T_STAGING);
        }
    }
    json_array_foreach (tasks, x, e) {
        const char *st = json_string_value (json_object_get (e, "state"));
        if (st && !strcmp (st, "ended"))
            continue;
        struct job *jb;
        int attempt = (int)json_integer_value (json_object_get (e, "attempt"));
        struct jtask *t = task_find (j, json_integer_value (json_object_get (e, "job")),
                                     json_string_value (json_object_get (e, "task")), &jb);
        if (!t || !tactive (t->state) || strcmp (t->site, site) || attempt != t->attempt)
            kill_attempt (j, site, json_integer_value (json_object_get (e, "job")),
                          json_string_value (json_object_get (e, "task")) ?: "", attempt,
                          "nobody wants this attempt any more");
    }
    j->changed = true;
}

void jobs_site_usage (struct jobs *j, const char *site, int *running, int *cores_used)
{
    struct site_use *u = use_of (j, site);
    *running = u ? u->running : 0;
    *cores_used = u ? u->cores : 0;
}

/* A publish name of a task's output must be new (or this very file again):
 * two different results must not become "replicas" of one dataset. */
static void publish_clash (struct jobs *j, const json_t *outs, char *why, size_t whysz)
{
    size_t i;
    json_t *e;
    json_array_foreach (outs, i, e) {
        const char *name = json_string_value (json_object_get (e, "name"));
        const char *file = json_string_value (json_object_get (e, "file"));
        fs_error_t err;
        if (!name || !file || !strncmp (name, "jobs/", 5))
            continue;
        json_t *d = store_lookup (j->store, name, &err);
        if (!d)
            continue;
        size_t k;
        json_t *r;
        json_array_foreach (json_object_get (d, "replicas"), k, r) {
            const char *rf = json_string_value (json_object_get (r, "file"));
            if (rf && strcmp (rf, file)) {
                snprintf (why, whysz, "cannot publish output as '%s': that name already holds "
                          "other data (at site %s); choose another publish name", name,
                          json_string_value (json_object_get (r, "site")));
                json_decref (d);
                return;
            }
        }
        json_decref (d);
    }
}

int jobs_task_update (struct jobs *j, const char *site, const json_t *body, fs_error_t *err)
{
    json_int_t id = 0, attempt = -1;
    const char *task = NULL, *state = NULL;
    json_error_t jerr;
    if (json_unpack_ex ((json_t *)body, &jerr, 0, "{s:I, s:s, s:I, s:s}", "job", &id, "task", &task,
                        "attempt", &attempt, "state", &state) < 0)
        return errprintf (err, FS_EINVAL, "task.update: %s", jerr.text);
    struct job *jb;
    struct jtask *t = task_find (j, id, task, &jb);
    if (!t)
        return errprintf (err, FS_EFAIL, "task.update: unknown task %s of job %lld", task,
                          (long long)id);
    if (attempt != t->attempt || strcmp (t->site, site) || !tactive (t->state)) {
        /* Fenced: an older attempt, or a site this task no longer belongs to.
         * One that still runs there runs for nobody: stop it. */
        log_msg (LOG_INFO, "event=task.fenced job=%lld task=%s site=%s attempt=%lld",
                 (long long)id, task, site, (long long)attempt);
        if (!strcmp (state, "STAGING") || !strcmp (state, "RUNNING"))
            kill_attempt (j, site, id, task, (int)attempt, "a stale attempt");
        return 0;
    }
    int s = parse_state (state, tstate_names, T_NSTATES);
    json_t *v;
    /* A batch site's word on the attempt (docs/protocol.md, task.update batch). */
    if ((v = json_object_get (body, "batch"))) {
        const char *bk;
        json_t *bv;
        if (!json_is_object (v))
            return errprintf (err, FS_EINVAL, "task.update: batch must be an object");
        json_object_foreach (v, bk, bv)
            if (!json_is_string (bv) && !json_is_number (bv))
                return errprintf (err, FS_EINVAL, "task.update: batch.%s must be a string or a "
                                  "number", bk);
        json_decref (t->batch);
        t->batch = json_deep_copy (v);
    } else if (s == T_STAGING) {
        json_decref (t->batch);         /* a new attempt: no word yet */
        t->batch = NULL;
    }
    if ((v = json_object_get (body, "bytes_local")) && json_is_integer (v))
        t->bytes_local = json_integer_value (v);
    if ((v = json_object_get (body, "bytes_moved")) && json_is_integer (v))
        t->bytes_moved = json_integer_value (v);
    size_t i;
    json_t *tr;
    int to = placement_fed_find (j->fed, site);
    json_array_foreach (json_object_get (body, "transfers"), i, tr) {
        int from = placement_fed_find (j->fed, json_string_value (json_object_get (tr, "from")));
        double bytes = json_number_value (json_object_get (tr, "bytes"));
        double secs = json_number_value (json_object_get (tr, "seconds"));
        /* Small transfers measure latency, not bandwidth: only 1 MiB and up count. */
        if (from >= 0 && to >= 0 && from != to && bytes >= (1 << 20) && secs > 0) {
            placement_links_observe (placement_fed_links (j->fed), from, to, bytes, secs);
            struct placement_link_info li;
            placement_links_get (placement_fed_links (j->fed), from, to, &li);
            fs_error_t serr;
            if (li.samples
                && store_link_save (j->store, placement_fed_site_const (j->fed, from)->name,
                                    placement_fed_site_const (j->fed, to)->name,
                                    li.measured_bandwidth, li.samples, &serr) < 0)
                log_msg (LOG_WARN, "event=store.fail reason=\"%s\"", serr.text);
        }
    }
    const char *error = json_string_value (json_object_get (body, "error"));
    switch (s) {
    case T_STAGING:
    case T_RUNNING:
        if (s == T_RUNNING && t->started <= 0)
            t->started = clock_wall ();
        task_set (j, jb, t, (enum tstate)s);
        break;
    case T_COMPLETED: {
        json_t *refused = NULL;
        json_t *outs = json_object_get (body, "outputs");
        char clash[700] = "";
        publish_clash (j, outs, clash, sizeof (clash));
        if (clash[0]) {
            task_fail (j, jb, t, 0, clash);
            break;
        }
        int n = outs ? store_register (j->store, site, outs, &refused, err) : 0;
        if (n < 0 || json_array_size (refused) > 0) {
            char why[600];
            snprintf (why, sizeof (why), "outputs could not be registered: %.500s",
                      n < 0 ? err->text
                            : json_string_value (json_object_get (json_array_get (refused, 0), "reason")));
            json_decref (refused);
            t->exit_code = 0;
            task_fail (j, jb, t, 0, why);
            break;
        }
        json_decref (refused);
        t->exit_code = 0;
        t->ended = clock_wall ();
        runtime_learn (j, jb, t, json_number_value (json_object_get (body, "runtime_s")));
        task_set (j, jb, t, T_COMPLETED);
        log_msg (LOG_INFO, "event=task.completed job=%lld task=%s site=%s", (long long)id, task, site);
        bool all = true;
        for (size_t k = 0; k < jb->ntasks; k++) {
            if (jb->t[k].state == T_WAITING && deps_done (jb, k))
                task_set (j, jb, &jb->t[k], T_READY);
            all = all && jb->t[k].state == T_COMPLETED;
        }
        if (all)
            job_end (j, jb, J_COMPLETED, "every task completed");
        break;
    }
    case T_FAILED: {
        json_t *ec = json_object_get (body, "exit_code");
        bool site_failure = json_is_true (json_object_get (body, "site_failure"));
        if (site_failure && json_is_true (json_object_get (body, "requeue")))
            task_requeue (j, jb, t, "task.requeue", error ? error : "site failure");
        else if (site_failure)
            task_lost (j, jb, t, error ? error : "site failure");
        else
            task_fail (j, jb, t, json_is_integer (ec) ? (int)json_integer_value (ec) : NO_EXIT,
                       error ? error : "the task failed");
        break;
    }
    default:
        return errprintf (err, FS_EINVAL, "task.update: state '%s' is not one a site reports", state);
    }
    j->changed = true;
    return 0;
}

/* Start the queued tasks the dispatcher lets go: at each site, the head of its
 * queue while its ranks are free. */
static void queue_pump (struct jobs *j)
{
    for (int i = 0; i < placement_fed_count (j->fed); i++) {
        int di = dispatch_site (j->disp, placement_fed_site_const (j->fed, i)->name);
        int64_t key;
        while ((key = dispatch_next (j->disp, di, clock_wall ())) >= 0) {
            struct job *jb = job_find (j, key >> KEY_TASK_BITS);
            size_t k = (size_t)(key & ((1 << KEY_TASK_BITS) - 1));
            if (!jb || !jb->spec || k >= jb->ntasks || jb->t[k].state != T_READY) {
                dispatch_forget (j->disp, key);     /* cannot happen: task_set forgets */
                continue;
            }
            task_place (j, jb, k, i);
        }
    }
}

void jobs_tick (struct jobs *j, double now)
{
    if (!j->changed && now - j->last_tick < 0.5)
        return;
    j->changed = false;
    j->last_tick = now;
    fed_sync (j);
    queue_pump (j);
    for (size_t i = 0; i < j->nact; i++) {
        struct job *jb = j->act[i];
        if (jfinal (jb->state) || !jb->spec)
            continue;
        for (size_t o = 0; o < jb->ntasks && !jfinal (jb->state); o++) {
            size_t k = jb->spec->order[o];
            struct jtask *t = &jb->t[k];
            if (tactive (t->state)) {
                struct site *s = registry_get (j->reg, t->site, false);
                bool seen = s && s->last_heartbeat > 0;     /* since this scheduler started */
                bool grace = now - j->started < 2 * j->cfg->heartbeat_timeout;
                if ((seen && !s->up) || (!seen && !grace))
                    task_lost (j, jb, t, "its site went down");
            }
            if (t->state == T_WAITING && deps_done (jb, k))
                task_set (j, jb, t, T_READY);
            if (t->state == T_READY && !dispatch_is_queued (j->disp, task_key (jb, k), NULL))
                task_place (j, jb, k, -1);
        }
    }
    jobs_flush (j);
}
