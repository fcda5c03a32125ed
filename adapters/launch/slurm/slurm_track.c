/* slurm_track.c - every batch job of the site, tracked in batches (see slurm.h).
 *
 * One tracker per worker process, with one thread of its own: every Slurm
 * command (sbatch, scancel, squeue, sacct, scontrol, sinfo) runs there, so the
 * worker's event loop never waits for slurmctld.  The loop side only sets
 * flags and reads a snapshot under the tracker's lock; the thread drops the
 * lock while a command runs.  Only the thread frees a job (after the caller
 * released it), so a job it works on outside the lock stays valid.
 *
 * A round of the thread:
 *   1. submissions: sbatch for each new job, one after the other; a failed
 *      sbatch is looked into (see submit_one) before anything is decided;
 *   2. cancels: ONE scancel with every job to cancel;
 *   3. when a poll is due (slurm.poll seconds; sooner after a submission):
 *      ONE squeue of the partition in every state (our jobs, and the queue
 *      ahead of them for placement), then ONE sacct for our jobs that left
 *      squeue where the cluster keeps accounting, then the exit-status files
 *      of jobs still unsettled, and scontrol for a job that FAILED without
 *      writing its status.  sinfo (the partition's CPUs) every 30 s.
 * A command that fails or times out (slurmctld slow, down, restarting) never
 * ends a job: the next poll waits twice as long, up to 30 s, and the jobs keep
 * the state they had.  A job that left squeue is settled by sacct or by its
 * exit-status file; if Slurm has forgotten it and the file never came (it was
 * killed with SIGKILL, or the node died), it ends as a site failure after
 * three polls without it: it is never assumed to have completed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "adapters/launch/launch.h"
#include "adapters/launch/slurm/slurm.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/log.h"

#define CMD_TIMEOUT_S 60.0          /* one Slurm command, at most */
#define CMD_MAX_BYTES (16u << 20)   /* of its output */
#define BACKOFF_MAX_S 30.0
#define SINFO_EVERY_S 10.0
#define CONFIG_EVERY_S 600.0
#define IDLE_POLL_S 10.0            /* no job of ours: queue figures only */
#define MISSING_POLLS 3             /* polls without a trace before a job is lost */
#define STATUS_EVERY_S 0.25         /* running jobs' status files looked at */
#define MIN_POLL_GAP_S 0.5          /* polls brought forward by a status file, at most */

enum sj_phase { SJ_NEW, SJ_SUBMITTING, SJ_IN_SLURM, SJ_DONE };

struct slurm_job {
    struct slurm_job *next;
    struct slurm_track *t;
    /* Set at creation, read-only afterwards. */
    char name[SLURM_NAME_MAX];
    char status_path[PATH_MAX];
    char stderr_path[PATH_MAX];
    char id_path[PATH_MAX];         /* where the Slurm job id is kept ("" : nowhere) */
    char **argv;                    /* sbatch's command line (of its script) */
    bool adopted;                   /* an earlier worker's: see slurm_track_adopt */
    double script_mtime;            /* adopted: when its script was written */
    /* Under t->lock. */
    enum sj_phase phase;
    char id[SLURM_ID_MAX];
    bool by_name;                   /* id unknown: find it by name in the listing */
    bool refused;                   /* sbatch failed with slurmctld answering: unless
                                       the listing shows the name, it refused the job */
    char refusal[600];              /* sbatch's words */
    struct slurm_job_info info;     /* as last listed */
    bool listed;                    /* info is from a listing */
    bool file_seen;                 /* its status file has appeared */
    int missing;                    /* polls that found no trace of it */
    bool cancel_wanted, cancel_sent;
    bool released;
    double ended_at;                /* clock_wall() when it was seen ended */
    double runtime_s;               /* as its script measured it; 0: unknown */
    struct slurm_end end;
};

struct slurm_track {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t thread;
    struct slurm_config cfg;
    char site[64];
    struct slurm_job *jobs;
    bool wake;
    /* Thread state (under lock where the loop side reads it). */
    double next_poll;               /* clock_mono() */
    double next_sinfo, next_config;
    double next_status;             /* clock_mono(): next look at the status files */
    double last_poll;               /* clock_mono() when the last poll began */
    int failures;                   /* consecutive failed polls */
    bool was_busy;                  /* the last poll found jobs of ours in Slurm */
    bool accounting;
    int min_job_age;
    struct slurm_queue q;
};

static pthread_mutex_t track_once = PTHREAD_MUTEX_INITIALIZER;
static struct slurm_track *the_track;

static void *track_main (void *arg);

struct slurm_track *slurm_track_get (const struct slurm_config *cfg, const char *site,
                                     fs_error_t *err)
{
    pthread_mutex_lock (&track_once);
    struct slurm_track *t = the_track;
    if (!t) {
        t = calloc (1, sizeof (*t));
        if (!t) {
            pthread_mutex_unlock (&track_once);
            errprintf (err, FS_EFAIL, "out of memory starting the Slurm tracker");
            return NULL;
        }
        pthread_mutex_init (&t->lock, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init (&ca);
        pthread_condattr_setclock (&ca, CLOCK_MONOTONIC);
        pthread_cond_init (&t->cond, &ca);
        pthread_condattr_destroy (&ca);
        t->cfg = *cfg;
        if (!(t->cfg.poll > 0))
            t->cfg.poll = 2;
        snprintf (t->site, sizeof (t->site), "%s", site ? site : "");
        t->min_job_age = -1;
        snprintf (t->q.partition, sizeof (t->q.partition), "%s", cfg->partition);
        int e = pthread_create (&t->thread, NULL, track_main, t);
        if (e != 0) {
            pthread_mutex_unlock (&track_once);
            errprintf (err, FS_EFAIL, "cannot start the Slurm tracker's thread: %s", strerror (e));
            free (t);
            return NULL;
        }
        pthread_detach (t->thread);
        the_track = t;
        log_msg (LOG_INFO, "event=slurm.start partition=%s poll_s=%.1f mpi=%s", 
                 cfg->partition[0] ? cfg->partition : "(default)", t->cfg.poll, cfg->mpi);
    }
    pthread_mutex_unlock (&track_once);
    return t;
}

static void wake_locked (struct slurm_track *t)
{
    t->wake = true;
    pthread_cond_signal (&t->cond);
}

void slurm_track_wake (struct slurm_track *t)
{
    pthread_mutex_lock (&t->lock);
    wake_locked (t);
    pthread_mutex_unlock (&t->lock);
}

/* Write the script file (0755), replacing one of the same name. */
static int write_script (const char *path, const char *text, fs_error_t *err)
{
    char tmp[PATH_MAX + 8];
    snprintf (tmp, sizeof (tmp), "%s.new", path);
    int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
    if (fd < 0)
        return errprintf (err, FS_EFAIL, "cannot write the batch script %s: %s", tmp,
                          strerror (errno));
    size_t len = strlen (text), off = 0;
    while (off < len) {
        ssize_t w = write (fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close (fd);
            unlink (tmp);
            return errprintf (err, FS_EFAIL, "cannot write the batch script %s: %s", tmp,
                              strerror (e));
        }
        off += (size_t)w;
    }
    if (close (fd) < 0 || rename (tmp, path) < 0) {
        int e = errno;
        unlink (tmp);
        return errprintf (err, FS_EFAIL, "cannot write the batch script %s: %s", path,
                          strerror (e));
    }
    return 0;
}

static struct slurm_job *job_new (struct slurm_track *t, const struct slurm_submit *s,
                                  fs_error_t *err)
{
    struct slurm_job *j = calloc (1, sizeof (*j));
    if (!j) {
        errprintf (err, FS_EFAIL, "out of memory");
        return NULL;
    }
    j->t = t;
    snprintf (j->name, sizeof (j->name), "%s", s->name ? s->name : "");
    snprintf (j->status_path, sizeof (j->status_path), "%s", s->status_path ? s->status_path : "");
    snprintf (j->stderr_path, sizeof (j->stderr_path), "%s", s->stderr_path ? s->stderr_path : "");
    snprintf (j->id_path, sizeof (j->id_path), "%s", s->id_path ? s->id_path : "");
    if (!(j->argv = slurm_sbatch_argv (s, err))) {
        free (j);
        return NULL;
    }
    return j;
}

static void job_add (struct slurm_track *t, struct slurm_job *j)
{
    pthread_mutex_lock (&t->lock);
    j->next = t->jobs;
    t->jobs = j;
    wake_locked (t);
    pthread_mutex_unlock (&t->lock);
}

struct slurm_job *slurm_track_submit (struct slurm_track *t, const struct slurm_submit *s,
                                      fs_error_t *err)
{
    char *text = slurm_batch_script (s, err);
    if (!text)
        return NULL;
    int rc = write_script (s->script_path, text, err);
    free (text);
    if (rc < 0)
        return NULL;
    unlink (s->status_path);        /* a stale one of the same attempt */
    if (s->id_path)
        unlink (s->id_path);
    struct slurm_job *j = job_new (t, s, err);
    if (!j)
        return NULL;
    j->phase = SJ_NEW;
    job_add (t, j);
    return j;
}

struct slurm_job *slurm_track_adopt (struct slurm_track *t, const struct slurm_submit *s,
                                     const char *id, double script_mtime, fs_error_t *err)
{
    struct slurm_job *j = job_new (t, s, err);
    if (!j)
        return NULL;
    j->phase = SJ_IN_SLURM;
    j->adopted = true;
    j->script_mtime = script_mtime;
    if (id && *id)
        snprintf (j->id, sizeof (j->id), "%s", id);
    else
        j->by_name = true;
    log_msg (LOG_INFO, "event=slurm.adopt site=%s id=%s name=%s", t->site, id && *id ? id : "-",
             j->name);
    job_add (t, j);
    return j;
}

void slurm_job_view (struct slurm_job *j, struct slurm_view *v)
{
    struct slurm_track *t = j->t;
    memset (v, 0, sizeof (*v));
    pthread_mutex_lock (&t->lock);
    snprintf (v->id, sizeof (v->id), "%s", j->id);
    if (j->listed) {
        snprintf (v->state, sizeof (v->state), "%s", j->info.state);
        snprintf (v->reason, sizeof (v->reason), "%s", j->info.reason);
        v->kind = j->info.kind;
        v->start = j->info.start;
    }
    if (j->phase == SJ_DONE) {
        v->ended = true;
        v->end = j->end;
        if (j->runtime_s > 0)
            v->runtime_s = j->runtime_s;
        else if (j->info.start > 0 && j->ended_at > j->info.start)
            v->runtime_s = j->ended_at - j->info.start;
    }
    pthread_mutex_unlock (&t->lock);
}

void slurm_job_cancel (struct slurm_job *j)
{
    struct slurm_track *t = j->t;
    pthread_mutex_lock (&t->lock);
    if (j->phase != SJ_DONE) {
        j->cancel_wanted = true;
        wake_locked (t);
    }
    j->end.killed = true;
    pthread_mutex_unlock (&t->lock);
}

void slurm_job_release (struct slurm_job *j, bool cancel)
{
    if (!j)
        return;
    struct slurm_track *t = j->t;
    pthread_mutex_lock (&t->lock);
    if (cancel && j->phase != SJ_DONE)
        j->cancel_wanted = true;
    j->released = true;
    wake_locked (t);
    pthread_mutex_unlock (&t->lock);
}

void slurm_track_queue (struct slurm_track *t, struct slurm_queue *q)
{
    pthread_mutex_lock (&t->lock);
    *q = t->q;
    pthread_mutex_unlock (&t->lock);
}

/* --- the thread ---------------------------------------------------------- */

/* Run argv with the lock dropped.  0 when it ran and exited 0. */
static int run_unlocked (struct slurm_track *t, char *const argv[], struct slurm_out *o)
{
    pthread_mutex_unlock (&t->lock);
    int rc = slurm_run (argv, CMD_TIMEOUT_S, CMD_MAX_BYTES, o);
    pthread_mutex_lock (&t->lock);
    if (rc == 0 && o->status != 0)
        rc = -1;
    return rc;
}

/* The first line of a command's stderr, for messages. */
static const char *first_line (const char *s, char *buf, size_t size)
{
    size_t len = strcspn (s, "\n");
    if (len >= size)
        len = size - 1;
    memcpy (buf, s, len);
    buf[len] = '\0';
    return buf;
}

static void settle (struct slurm_track *t, struct slurm_job *j, const struct slurm_end *end)
{
    j->phase = SJ_DONE;
    bool killed = j->end.killed || j->cancel_wanted;
    j->end = *end;
    j->end.killed = j->end.killed || killed;
    j->ended_at = clock_wall ();
    log_msg (LOG_INFO, "event=slurm.end site=%s id=%s name=%s state=%s exit=%d site_failure=%d "
             "killed=%d reason=\"%s\"", t->site, j->id[0] ? j->id : "-", j->name,
             j->listed ? j->info.state : "-", j->end.exit_code, j->end.site_failure,
             j->end.killed, j->end.error);
}

/* A job ended before Slurm ran it (sbatch refused it, or cancelled first). */
static void settle_early (struct slurm_track *t, struct slurm_job *j, int code, bool killed,
                          const char *why)
{
    struct slurm_end e = { .exit_code = code, .killed = killed };
    snprintf (e.error, sizeof (e.error), "%s", why);
    settle (t, j, &e);
    if (why[0] && j->stderr_path[0]) {
        FILE *f = fopen (j->stderr_path, "a");
        if (f) {
            fprintf (f, "fedsched: %s\n", why);
            fclose (f);
        }
    }
}

/* The job id beside its status (id_path), for a worker that adopts the job
 * later: written to a temporary file renamed over. */
static void keep_id (struct slurm_job *j)
{
    if (!j->id_path[0])
        return;
    char tmp[PATH_MAX + 8];
    snprintf (tmp, sizeof (tmp), "%.4000s.tmp", j->id_path);
    FILE *f = fopen (tmp, "w");
    if (!f || fprintf (f, "%s\n", j->id) < 0 || fclose (f) != 0 || rename (tmp, j->id_path) < 0) {
        log_msg (LOG_WARN, "event=slurm.keep_id.fail path=%s reason=\"%s\"", j->id_path,
                 strerror (errno));
        unlink (tmp);
    }
}

/* One sbatch.  On failure, `scontrol ping` says whether slurmctld answers: if
 * not, the job may or may not have been queued (the answer was lost), so it
 * is looked up by name when Slurm answers again and submitted again only if
 * absent; if slurmctld answers, the refusal is real unless the listing shows
 * the name after all. */
static void submit_one (struct slurm_track *t, struct slurm_job *j)
{
    struct slurm_out o;
    j->phase = SJ_SUBMITTING;
    int rc = run_unlocked (t, j->argv, &o);
    char id[SLURM_ID_MAX];
    fs_error_t err;
    if (rc == 0 && slurm_parse_sbatch (o.out, id, sizeof (id), &err) == 0) {
        snprintf (j->id, sizeof (j->id), "%s", id);
        j->phase = SJ_IN_SLURM;
        log_msg (LOG_INFO, "event=slurm.submit site=%s id=%s name=%s", t->site, id, j->name);
        slurm_out_free (&o);
        keep_id (j);
        return;
    }
    char line[512];
    const char *why = o.timed_out ? "sbatch did not answer within 60 s"
                      : o.err[0] ? first_line (o.err, line, sizeof (line))
                      : rc == 0 ? err.text : "sbatch failed without a message";
    snprintf (j->refusal, sizeof (j->refusal), "%.590s", why);
    bool timed_out = o.timed_out;
    slurm_out_free (&o);
    bool answers = false;
    if (!timed_out) {
        char *ping[] = { "scontrol", "ping", NULL };
        answers = run_unlocked (t, ping, &o) == 0;
        slurm_out_free (&o);
    }
    j->phase = SJ_IN_SLURM;
    j->by_name = true;
    j->refused = answers;
    t->next_poll = 0;               /* look it up at once */
    log_msg (LOG_WARN, "event=slurm.submit.fail site=%s name=%s controller=%s reason=\"%s\"",
             t->site, j->name, answers ? "up" : "unreachable", j->refusal);
}

static void submit_all (struct slurm_track *t)
{
    for (;;) {
        struct slurm_job *j;
        for (j = t->jobs; j; j = j->next)
            if (j->phase == SJ_NEW)
                break;
        if (!j)
            return;
        if (j->cancel_wanted || j->released) {
            settle_early (t, j, 143, true, "");
            continue;
        }
        submit_one (t, j);
    }
}

/* ONE scancel for every job to cancel that has an id. */
static void cancel_all (struct slurm_track *t)
{
    size_t n = 0;
    for (struct slurm_job *j = t->jobs; j; j = j->next)
        if (j->cancel_wanted && !j->cancel_sent && j->id[0] && j->phase == SJ_IN_SLURM)
            n++;
    if (n == 0)
        return;
    char **argv = calloc (n + 3, sizeof (*argv));
    struct slurm_job **which = calloc (n, sizeof (*which));
    if (!argv || !which) {
        free (argv);
        free (which);
        return;
    }
    size_t k = 0, m = 0;
    argv[k++] = "scancel";
    for (struct slurm_job *j = t->jobs; j && m < n; j = j->next)
        if (j->cancel_wanted && !j->cancel_sent && j->id[0] && j->phase == SJ_IN_SLURM) {
            argv[k++] = strdup (j->id);
            which[m++] = j;
            j->cancel_sent = true;  /* the thread alone frees jobs: which[] stays valid */
        }
    argv[k] = NULL;
    struct slurm_out o;
    int rc = run_unlocked (t, argv, &o);
    /* scancel exits non-zero when one of them had ended already; only a
     * controller that did not answer calls for another try. */
    if (rc < 0 && o.timed_out) {
        for (size_t i = 0; i < m; i++)
            which[i]->cancel_sent = false;
    }
    log_msg (LOG_INFO, "event=slurm.cancel site=%s jobs=%zu status=%d", t->site, m, o.status);
    slurm_out_free (&o);
    for (size_t i = 1; i < k; i++)
        free (argv[i]);
    free (argv);
    free (which);
    t->next_poll = clock_mono () + 0.5;      /* see them end soon */
}

static void free_released (struct slurm_track *t)
{
    struct slurm_job **pp = &t->jobs;
    while (*pp) {
        struct slurm_job *j = *pp;
        bool cancel_pending = j->cancel_wanted && !j->cancel_sent && j->phase == SJ_IN_SLURM
                              && (j->id[0] || j->by_name);
        if (j->released && j->phase != SJ_SUBMITTING && j->phase != SJ_NEW && !cancel_pending) {
            *pp = j->next;
            slurm_argv_free (j->argv);
            free (j);
            continue;
        }
        pp = &j->next;
    }
}

static void read_config (struct slurm_track *t)
{
    char *argv[] = { "scontrol", "show", "config", NULL };
    struct slurm_out o;
    if (run_unlocked (t, argv, &o) == 0) {
        bool acct;
        int age;
        slurm_parse_config (o.out, &acct, &age);
        if (acct != t->accounting || age != t->min_job_age)
            log_msg (LOG_INFO, "event=slurm.config site=%s accounting=%d min_job_age=%d", t->site,
                     acct, age);
        t->accounting = acct;
        t->min_job_age = age;
        t->next_config = clock_mono () + CONFIG_EVERY_S;
    }
    slurm_out_free (&o);
}

static int read_sinfo (struct slurm_track *t)
{
    char *argv[] = { "sinfo", "-h", "-o", "%P|%C", NULL };
    struct slurm_out o;
    int rc = run_unlocked (t, argv, &o);
    if (rc == 0) {
        fs_error_t err;
        int total, idle;
        char name[128];
        if (slurm_parse_sinfo (o.out, t->cfg.partition, &total, &idle, name, sizeof (name),
                               &err) == 0) {
            t->q.cores_total = total;
            t->q.cores_idle = idle;
            snprintf (t->q.partition, sizeof (t->q.partition), "%s", name);
            t->next_sinfo = clock_mono () + SINFO_EVERY_S;
        } else {
            log_msg (LOG_WARN, "event=slurm.sinfo site=%s reason=\"%s\"", t->site, err.text);
            t->next_sinfo = clock_mono () + SINFO_EVERY_S;
            rc = -1;
        }
    }
    slurm_out_free (&o);
    return rc;
}

static const struct slurm_job_info *find_info (const struct slurm_job_info *v, size_t n,
                                               const struct slurm_job *j)
{
    for (size_t i = 0; i < n; i++)
        if (j->id[0] ? !strcmp (v[i].id, j->id) : !strcmp (v[i].name, j->name))
            return &v[i];
    return NULL;
}

/* The status its script wrote (launch.h's format): 1 read, 0 none yet. */
static int status_file (struct slurm_job *j, struct launch_status *st)
{
    fs_error_t err;
    if (!j->status_path[0])
        return 0;
    int r = launch_status_read (j->status_path, st, &err);
    if (r < 0) {
        log_msg (LOG_WARN, "event=slurm.status.bad name=%s reason=\"%s\"", j->name, err.text);
        return 0;
    }
    return r;
}

/* Decide about a job with what is known; true when it ended. */
static bool decide (struct slurm_track *t, struct slurm_job *j, const struct slurm_job_info *info)
{
    struct launch_status fst;
    bool have = false;
    memset (&fst, 0, sizeof (fst));
    if (!info || info->kind != SK_PENDING)
        have = status_file (j, &fst) == 1;
    struct slurm_end end;
    bool cancelled = j->cancel_wanted || j->end.killed;
    if (!slurm_job_end (info, have, fst.exit_code, fst.error, cancelled, t->site, &end))
        return false;
    if (have && fst.runtime_s > 0)
        j->runtime_s = fst.runtime_s;
    /* FAILED without a status file: Slurm's exit code (scontrol) is better than none. */
    if (info && info->kind == SK_FAILED && !have && !info->has_exit && j->id[0]) {
        char *argv[] = { "scontrol", "-o", "show", "job", j->id, NULL };
        struct slurm_out o;
        struct slurm_job_info sc;
        fs_error_t err;
        t->q.scontrol_calls++;
        if (run_unlocked (t, argv, &o) == 0 && slurm_parse_scontrol (o.out, &sc, &err) == 0
            && sc.has_exit) {
            struct slurm_job_info x = *info;
            x.has_exit = true;
            x.exit_code = sc.exit_code;
            x.exit_signal = sc.exit_signal;
            slurm_job_end (&x, false, 0, "", cancelled, t->site, &end);
        }
        slurm_out_free (&o);
    }
    settle (t, j, &end);
    return true;
}

/* Adopted jobs known by name only that left squeue: ONE sacct by name. */
static void sacct_by_name (struct slurm_track *t)
{
    size_t len = 1;
    for (struct slurm_job *j = t->jobs; j; j = j->next)
        if (j->phase == SJ_IN_SLURM && j->missing && j->by_name && j->adopted)
            len += strlen (j->name) + 1;
    if (len == 1)
        return;
    char *names = calloc (1, len + 16);
    if (!names)
        return;
    strcpy (names, "--name=");
    bool first = true;
    for (struct slurm_job *j = t->jobs; j; j = j->next)
        if (j->phase == SJ_IN_SLURM && j->missing && j->by_name && j->adopted) {
            if (!first)
                strcat (names, ",");
            strcat (names, j->name);
            first = false;
        }
    char *sa[] = { "sacct", "-X", "-n", "-P", names, "-S", "now-7days", "-o", SLURM_SACCT_FIELDS,
                   NULL };
    struct slurm_out so;
    struct slurm_job_info *v = NULL;
    size_t n = 0;
    fs_error_t err;
    t->q.sacct_calls++;
    if (run_unlocked (t, sa, &so) == 0 && slurm_parse_sacct (so.out, &v, &n, &err) == 0) {
        for (struct slurm_job *j = t->jobs; j; j = j->next) {
            if (j->phase != SJ_IN_SLURM || !j->missing || !j->by_name || !j->adopted)
                continue;
            const struct slurm_job_info *info = NULL;
            for (size_t i = 0; i < n; i++)      /* the latest of that name */
                if (!strcmp (v[i].name, j->name))
                    info = &v[i];
            if (info) {
                snprintf (j->id, sizeof (j->id), "%s", info->id);
                j->by_name = false;
                j->info = *info;
                j->listed = true;
                j->missing = 0;
                log_msg (LOG_INFO, "event=slurm.found site=%s id=%s name=%s via=sacct", t->site,
                         j->id, j->name);
                decide (t, j, info);
            }
        }
    }
    slurm_out_free (&so);
    free (v);
    free (names);
}

static void poll_once (struct slurm_track *t)
{
    double now = clock_mono ();
    t->last_poll = now;
    t->q.polls++;
    if (now >= t->next_config)
        read_config (t);
    if (now >= t->next_sinfo || !t->q.partition[0])
        read_sinfo (t);
    bool ours = false;
    for (struct slurm_job *j = t->jobs; j; j = j->next)
        if (j->phase == SJ_IN_SLURM)
            ours = true;

    /* ONE squeue: the partition, every state, everyone's jobs. */
    char part[160];
    snprintf (part, sizeof (part), "--partition=%s", t->q.partition);
    char *argv[] = { "squeue", "-h", "-t", "all", part, "-o", SLURM_SQUEUE_FORMAT, NULL };
    if (!t->q.partition[0])
        argv[4] = "--all";
    struct slurm_out o;
    t->q.squeue_calls++;
    int rc = run_unlocked (t, argv, &o);
    struct slurm_job_info *v = NULL;
    size_t n = 0;
    fs_error_t err;
    if (rc == 0 && slurm_parse_squeue (o.out, &v, &n, &err) < 0) {
        log_msg (LOG_WARN, "event=slurm.squeue.bad site=%s reason=\"%s\"", t->site, err.text);
        rc = -1;
    }
    if (rc < 0) {
        char line[300];
        double wait = t->cfg.poll;
        for (int i = 0; i < t->failures && wait < BACKOFF_MAX_S; i++)
            wait *= 2;
        if (wait > BACKOFF_MAX_S)
            wait = BACKOFF_MAX_S;
        t->failures++;
        t->q.reachable = false;
        log_msg (t->failures == 1 ? LOG_WARN : LOG_DEBUG,
                 "event=slurm.unreachable site=%s failures=%d next_s=%.1f reason=\"%s\"", t->site,
                 t->failures, wait, o.timed_out ? "squeue timed out"
                 : first_line (o.err[0] ? o.err : "squeue failed", line, sizeof (line)));
        t->next_poll = clock_mono () + wait;
        slurm_out_free (&o);
        return;
    }
    slurm_out_free (&o);
    if (t->failures)
        log_msg (LOG_INFO, "event=slurm.reachable site=%s after_failures=%d", t->site, t->failures);
    t->failures = 0;
    t->q.reachable = true;
    t->q.known = t->q.cores_total > 0;

    /* The queue, for placement. */
    int pend = 0, pend_cpus = 0, run = 0;
    double last = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].kind == SK_PENDING) {
            pend++;
            pend_cpus += v[i].cpus;
            if (v[i].start > last)
                last = v[i].start;
        } else if (v[i].kind == SK_RUNNING) {
            run++;
        }
    }
    t->q.pending_jobs = pend;
    t->q.pending_cpus = pend_cpus;
    t->q.running_jobs = run;
    t->q.last_start = last;

    /* A job of ours ended by a node failure or preemption: the partition's
     * cores are read again before that end is published, so the worker tells
     * the scheduler the capacity it lost before it tells it of the end. */
    for (struct slurm_job *j = t->jobs; j; j = j->next) {
        const struct slurm_job_info *info = j->phase == SJ_IN_SLURM ? find_info (v, n, j) : NULL;
        if (info && slurm_kind_site_failure (info->kind)) {
            read_sinfo (t);
            break;
        }
    }

    /* Our jobs, from the listing. */
    size_t ngone = 0;
    for (struct slurm_job *j = t->jobs; j; j = j->next) {
        if (j->phase != SJ_IN_SLURM)
            continue;
        const struct slurm_job_info *info = find_info (v, n, j);
        if (info) {
            if (j->by_name) {
                snprintf (j->id, sizeof (j->id), "%s", info->id);
                j->by_name = j->refused = false;
                log_msg (LOG_INFO, "event=slurm.found site=%s id=%s name=%s", t->site, j->id, j->name);
            }
            j->info = *info;
            j->listed = true;
            j->missing = 0;
            decide (t, j, info);
        } else if (j->by_name && j->refused) {
            char why[800];
            snprintf (why, sizeof (why), "Slurm refused the batch job at site %s: %s", t->site,
                      j->refusal);
            settle_early (t, j, 125, j->cancel_wanted, why);
        } else if (j->by_name && !j->adopted) {
            /* The lost answer was a refusal after all (or never reached slurmctld). */
            j->phase = SJ_NEW;
            j->by_name = false;
            log_msg (LOG_INFO, "event=slurm.resubmit site=%s name=%s", t->site, j->name);
        } else {
            j->missing++;
            ngone++;
        }
    }
    free (v);
    v = NULL;
    n = 0;

    /* ONE sacct for those that left squeue, where the cluster keeps accounting. */
    if (ngone && t->accounting) {
        size_t len = 1;
        for (struct slurm_job *j = t->jobs; j; j = j->next)
            if (j->phase == SJ_IN_SLURM && j->missing && j->id[0])
                len += strlen (j->id) + 1;
        char *ids = calloc (1, len + 8);
        if (ids) {
            for (struct slurm_job *j = t->jobs; j; j = j->next)
                if (j->phase == SJ_IN_SLURM && j->missing && j->id[0]) {
                    if (ids[0])
                        strcat (ids, ",");
                    strcat (ids, j->id);
                }
        }
        if (ids && ids[0]) {
            char *sa[] = { "sacct", "-X", "-n", "-P", "-j", ids, "-o", SLURM_SACCT_FIELDS, NULL };
            struct slurm_out so;
            t->q.sacct_calls++;
            if (run_unlocked (t, sa, &so) == 0 && slurm_parse_sacct (so.out, &v, &n, &err) == 0) {
                for (struct slurm_job *j = t->jobs; j; j = j->next) {
                    if (j->phase != SJ_IN_SLURM || !j->missing)
                        continue;
                    const struct slurm_job_info *info = find_info (v, n, j);
                    if (info) {
                        j->info = *info;
                        j->listed = true;
                        j->missing = 0;
                        decide (t, j, info);
                    }
                }
            } else {
                log_msg (LOG_DEBUG, "event=slurm.sacct.fail site=%s", t->site);
            }
            slurm_out_free (&so);
            free (v);
        }
        free (ids);
    }

    if (t->accounting)
        sacct_by_name (t);

    /* Still without a record: the exit-status file, else lost after a while. */
    for (struct slurm_job *j = t->jobs; j; j = j->next) {
        if (j->phase != SJ_IN_SLURM || !j->missing)
            continue;
        if (decide (t, j, NULL))
            continue;
        if (j->by_name && j->adopted) {
            /* No job of that name in Slurm, no status: was it ever submitted?
             * Slurm lists an ended job for MinJobAge seconds, so a script
             * written more recently than that was not (its worker died before
             * sbatch ran, or sbatch refused it): submitted now, once. */
            double age = clock_wall () - j->script_mtime;
            int mja = t->min_job_age > 0 ? t->min_job_age : 300;
            if (age + 2 * t->cfg.poll + 5 < mja) {
                j->phase = SJ_NEW;
                j->by_name = j->adopted = false;
                log_msg (LOG_INFO, "event=slurm.resubmit site=%s name=%s reason=\"not in Slurm "
                         "(script %.0f s old, MinJobAge %d s)\"", t->site, j->name, age, mja);
            } else {
                struct slurm_end e = { .exit_code = 137, .site_failure = true };
                snprintf (e.error, sizeof (e.error), "the batch job %s cannot be found in Slurm at "
                          "%s and wrote no exit status: whether it ran is unknown", j->name,
                          t->site);
                settle (t, j, &e);
            }
            continue;
        }
        if (j->missing >= MISSING_POLLS) {
            struct slurm_end e = { .exit_code = 137, .site_failure = true };
            snprintf (e.error, sizeof (e.error), "Slurm no longer knows job %s at %s and its batch "
                      "script wrote no exit status (killed, or its node failed)",
                      j->id[0] ? j->id : j->name, t->site);
            settle (t, j, &e);
        }
    }
    bool busy = false;
    for (struct slurm_job *j = t->jobs; j; j = j->next)
        if (j->phase == SJ_IN_SLURM)
            busy = true;
    (void)ours;
    if (t->was_busy && !busy)           /* the last of our jobs has ended */
        log_msg (LOG_INFO, "event=slurm.stats site=%s polls=%d squeue=%d sacct=%d scontrol=%d",
                 t->site, t->q.polls, t->q.squeue_calls, t->q.sacct_calls, t->q.scontrol_calls);
    t->was_busy = busy;
    t->next_poll = clock_mono () + (busy ? t->cfg.poll : IDLE_POLL_S);
}

/* A job whose status file is worth a look between polls: submitted, and not
 * last seen pending (just submitted, or running). */
static bool watch_status (const struct slurm_job *j)
{
    return j->phase == SJ_IN_SLURM && j->id[0] && j->status_path[0] && !j->file_seen
           && (!j->listed || j->info.kind == SK_RUNNING);
}

/* Between polls: the status files of jobs Slurm last showed running.  A batch
 * script writes its status as its last act, so a new one means a job has just
 * ended: the next poll comes sooner (at most one every MIN_POLL_GAP_S), for
 * Slurm's record settles the job (see slurm_job_end).  A file system look-up
 * per running job, no request to slurmctld: the status files live in the
 * task directories, which the service node sees. */
static void status_round (struct slurm_track *t)
{
    double now = clock_mono ();
    t->next_status = now + STATUS_EVERY_S;
    for (struct slurm_job *j = t->jobs; j; j = j->next)
        if (watch_status (j) && !j->file_seen && access (j->status_path, F_OK) == 0) {
            j->file_seen = true;
            double gap = t->cfg.poll / 4 > MIN_POLL_GAP_S ? t->cfg.poll / 4 : MIN_POLL_GAP_S;
            if (t->next_poll > t->last_poll + gap)
                t->next_poll = t->last_poll + gap > now ? t->last_poll + gap : now;
        }
}

static bool has_work (struct slurm_track *t)
{
    for (struct slurm_job *j = t->jobs; j; j = j->next) {
        if (j->phase == SJ_NEW)
            return true;
        if (j->cancel_wanted && !j->cancel_sent && j->id[0] && j->phase == SJ_IN_SLURM)
            return true;
        if (j->released && j->phase == SJ_DONE)
            return true;
    }
    return false;
}

static void *track_main (void *arg)
{
    struct slurm_track *t = arg;
    pthread_mutex_lock (&t->lock);
    for (;;) {
        double now = clock_mono ();
        bool running = false;
        for (struct slurm_job *j = t->jobs; j && !running; j = j->next)
            running = watch_status (j);
        if (running && now >= t->next_status)
            status_round (t);
        double wake = running && t->next_status < t->next_poll ? t->next_status : t->next_poll;
        if (!has_work (t) && now < wake) {
            double left = wake - now;
            struct timespec ts;
            clock_gettime (CLOCK_MONOTONIC, &ts);
            ts.tv_sec += (time_t)left;
            ts.tv_nsec += (long)((left - (double)(time_t)left) * 1e9);
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            t->wake = false;
            while (!t->wake && pthread_cond_timedwait (&t->cond, &t->lock, &ts) == 0)
                ;
            continue;
        }
        free_released (t);
        bool submitted = false;
        for (struct slurm_job *j = t->jobs; j; j = j->next)
            if (j->phase == SJ_NEW)
                submitted = true;
        submit_all (t);
        cancel_all (t);
        free_released (t);
        if (submitted && t->next_poll > clock_mono () + 1.0)
            t->next_poll = clock_mono () + 1.0;     /* show the new jobs' states soon */
        if (clock_mono () >= t->next_poll)
            poll_once (t);
    }
    return NULL;
}
