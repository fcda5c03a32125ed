/* slurm_parse.c - what Slurm's commands print, read; Slurm's job states mapped
 * (see slurm.h).  Pure: no Slurm is called here. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapters/launch/slurm/slurm.h"

/* --- states -------------------------------------------------------------- */

/* Every state squeue, sacct and scontrol print (Slurm 22.05), long and short. */
static const struct {
    const char *name, *code;
    enum slurm_kind kind;
} states[] = {
    { "PENDING", "PD", SK_PENDING },
    { "REQUEUED", "RQ", SK_PENDING },
    { "REQUEUE_HOLD", "RH", SK_PENDING },
    { "REQUEUE_FED", "RF", SK_PENDING },
    { "RESV_DEL_HOLD", "RD", SK_PENDING },
    { "CONFIGURING", "CF", SK_RUNNING },         /* allocated, nodes booting */
    { "RUNNING", "R", SK_RUNNING },
    { "COMPLETING", "CG", SK_RUNNING },          /* ending: its status comes next */
    { "SIGNALING", "SI", SK_RUNNING },
    { "STAGE_OUT", "SO", SK_RUNNING },
    { "RESIZING", "RS", SK_RUNNING },
    { "SUSPENDED", "S", SK_RUNNING },
    { "STOPPED", "ST", SK_RUNNING },
    { "COMPLETED", "CD", SK_COMPLETED },
    { "FAILED", "F", SK_FAILED },
    { "SPECIAL_EXIT", "SE", SK_FAILED },
    { "TIMEOUT", "TO", SK_TIMEOUT },
    { "DEADLINE", "DL", SK_TIMEOUT },
    { "OUT_OF_MEMORY", "OOM", SK_OOM },
    { "NODE_FAIL", "NF", SK_NODE_FAIL },
    { "BOOT_FAIL", "BF", SK_NODE_FAIL },
    { "PREEMPTED", "PR", SK_PREEMPTED },
    { "CANCELLED", "CA", SK_CANCELLED },
    { "REVOKED", "RV", SK_CANCELLED },
};

enum slurm_kind slurm_state_kind (const char *state)
{
    if (!state)
        return SK_UNKNOWN;
    size_t len = strcspn (state, " +\t\n");      /* "CANCELLED by 0", "CANCELLED+" */
    for (size_t i = 0; i < sizeof (states) / sizeof (states[0]); i++)
        if ((strlen (states[i].name) == len && strncmp (states[i].name, state, len) == 0)
            || (strlen (states[i].code) == len && strncmp (states[i].code, state, len) == 0))
            return states[i].kind;
    return SK_UNKNOWN;
}

bool slurm_kind_ended (enum slurm_kind k)
{
    return k >= SK_COMPLETED;
}

bool slurm_kind_site_failure (enum slurm_kind k)
{
    return k == SK_NODE_FAIL || k == SK_PREEMPTED;
}

const char *slurm_kind_name (enum slurm_kind k)
{
    static const char *const names[] = {
        [SK_UNKNOWN] = "unknown", [SK_PENDING] = "pending", [SK_RUNNING] = "running",
        [SK_COMPLETED] = "completed", [SK_FAILED] = "failed", [SK_TIMEOUT] = "timeout",
        [SK_OOM] = "out of memory", [SK_NODE_FAIL] = "node failure",
        [SK_PREEMPTED] = "preempted", [SK_CANCELLED] = "cancelled",
    };
    return (unsigned)k < sizeof (names) / sizeof (names[0]) ? names[k] : "unknown";
}

bool slurm_job_end (const struct slurm_job_info *info, bool have_file, int file_code,
                    const char *file_error, bool cancelled, const char *site,
                    struct slurm_end *end)
{
    const char *where = site && *site ? site : "this site";
    enum slurm_kind k = info ? info->kind : SK_UNKNOWN;
    /* Listed and not ended: not yet, whatever the file says.  A script's
     * status with Slurm still showing the job running is either a moment's lag
     * or a node that failed under it (srun reports "Node failure" and exits 0):
     * Slurm's record decides. */
    if (!slurm_kind_ended (k) && (info || !have_file))
        return false;
    memset (end, 0, sizeof (*end));
    end->killed = cancelled;
    /* Slurm's exit status for the ends the script did not report itself. */
    int sig_code = info && info->has_exit
                       ? (info->exit_signal ? 128 + info->exit_signal : info->exit_code) : 0;
    if (!slurm_kind_ended (k) || (have_file && (k == SK_COMPLETED || k == SK_FAILED))) {
        end->exit_code = file_code;
        snprintf (end->error, sizeof (end->error), "%s", file_error ? file_error : "");
        return true;
    }
    const char *id = info->id, *reason = info->reason;
    bool has_reason = reason[0] && strcmp (reason, "None") && strcmp (reason, "(null)");
    switch (k) {
    case SK_COMPLETED:
        end->exit_code = 0;
        break;
    case SK_FAILED:
        end->exit_code = sig_code ? sig_code : 1;
        break;
    case SK_TIMEOUT:
        end->exit_code = sig_code ? sig_code : 143;
        end->walltime_exceeded = true;
        snprintf (end->error, sizeof (end->error), "walltime exceeded: Slurm ended job %s at %s "
                  "(%s)", id, where, info->state);
        break;
    case SK_OOM:
        end->exit_code = sig_code ? sig_code : 137;
        snprintf (end->error, sizeof (end->error), "out of memory: Slurm ended job %s at %s "
                  "(OUT_OF_MEMORY)", id, where);
        break;
    case SK_NODE_FAIL:
    case SK_PREEMPTED:
        end->exit_code = sig_code ? sig_code : 143;
        end->site_failure = end->requeue = slurm_kind_site_failure (k);
        snprintf (end->error, sizeof (end->error), "%s: Slurm job %s at %s ended %s%s%s%s",
                  k == SK_NODE_FAIL ? "node failure" : "preempted", id, where, info->state,
                  has_reason ? " (" : "", has_reason ? reason : "", has_reason ? ")" : "");
        break;
    case SK_CANCELLED:
        end->exit_code = sig_code ? sig_code : 143;
        if (!cancelled)
            snprintf (end->error, sizeof (end->error), "cancelled in Slurm, not by fedsched: job "
                      "%s at %s ended %s (scancel by an operator?)", id, where, info->state);
        break;
    default:
        end->exit_code = sig_code ? sig_code : 1;
        snprintf (end->error, sizeof (end->error), "Slurm job %s at %s ended %s", id, where,
                  info->state);
        break;
    }
    return true;
}

/* --- fields --------------------------------------------------------------- */

static void copy_field (char *dst, size_t size, const char *src, size_t len)
{
    if (len >= size)
        len = size - 1;
    memcpy (dst, src, len);
    dst[len] = '\0';
}

double slurm_parse_time (const char *s)
{
    struct tm tm;
    memset (&tm, 0, sizeof (tm));
    if (!s)
        return 0;
    const char *end = strptime (s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end || (*end && !isspace ((unsigned char)*end) && *end != '|'))
        return 0;
    tm.tm_isdst = -1;
    time_t t = mktime (&tm);
    return t == (time_t)-1 ? 0 : (double)t;
}

int slurm_parse_exit (const char *s, int *exit_code, int *signal)
{
    char *end;
    if (!s || !isdigit ((unsigned char)*s))
        return -1;
    errno = 0;
    long e = strtol (s, &end, 10);
    if (errno || *end != ':' || e < 0 || e > 255)
        return -1;
    const char *p = end + 1;
    if (!isdigit ((unsigned char)*p))
        return -1;
    long sig = strtol (p, &end, 10);
    if (errno || (*end && !isspace ((unsigned char)*end) && *end != '|') || sig < 0 || sig > 255)
        return -1;
    *exit_code = (int)e;
    *signal = (int)sig;
    return 0;
}

/* Split line (len bytes, no newline) at '|' into at most nf fields, the last
 * taking the rest of the line (a job name may hold '|').  Returns the count. */
static int split (const char *line, size_t len, int nf, const char **f, size_t *fl)
{
    int k = 0;
    const char *p = line, *end = line + len;
    while (k < nf - 1) {
        const char *bar = memchr (p, '|', (size_t)(end - p));
        if (!bar)
            break;
        f[k] = p;
        fl[k] = (size_t)(bar - p);
        k++;
        p = bar + 1;
    }
    f[k] = p;
    fl[k] = (size_t)(end - p);
    return k + 1;
}

static bool all_digits (const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isdigit ((unsigned char)s[i]))
            return false;
    return true;
}

/* Both listings: one job a line, fields separated by '|'.  sacct adds steps
 * ("123.batch") unless -X; squeue lists array tasks as "123_4": both skipped
 * unless plain digits (fedsched's jobs are plain).  */
static int parse_listing (const char *text, bool sacct, struct slurm_job_info **jobs, size_t *n,
                          fs_error_t *err)
{
    struct slurm_job_info *v = NULL;
    size_t cnt = 0, cap = 0;
    const char *p = text ? text : "";
    while (*p) {
        const char *nl = strchr (p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen (p);
        const char *next = nl ? nl + 1 : p + len;
        while (len && (p[len - 1] == '\r' || p[len - 1] == ' '))
            len--;
        if (len == 0) {
            p = next;
            continue;
        }
        const char *f[6];
        size_t fl[6];
        if (split (p, len, 6, f, fl) != 6) {
            errprintf (err, FS_EFAIL, "%s printed a line without its 6 fields: '%.*s'",
                       sacct ? "sacct" : "squeue", (int)(len > 200 ? 200 : len), p);
            free (v);
            return -1;
        }
        if (!all_digits (f[0], fl[0])) {        /* a step, an array task, a het job part */
            p = next;
            continue;
        }
        if (cnt == cap) {
            cap = cap ? cap * 2 : 16;
            struct slurm_job_info *nv = realloc (v, cap * sizeof (*v));
            if (!nv) {
                free (v);
                errprintf (err, FS_EFAIL, "out of memory reading Slurm's job list");
                return -1;
            }
            v = nv;
        }
        struct slurm_job_info *j = &v[cnt++];
        memset (j, 0, sizeof (*j));
        char buf[64];
        copy_field (j->id, sizeof (j->id), f[0], fl[0]);
        size_t sl = strcspn (f[1], " +|");     /* "CANCELLED by 0" -> CANCELLED */
        copy_field (j->state, sizeof (j->state), f[1], sl < fl[1] ? sl : fl[1]);
        j->kind = slurm_state_kind (j->state);
        if (sacct) {
            /* JobIDRaw|State|ExitCode|Reason|Start|JobName */
            copy_field (buf, sizeof (buf), f[2], fl[2]);
            j->has_exit = slurm_parse_exit (buf, &j->exit_code, &j->exit_signal) == 0;
            copy_field (j->reason, sizeof (j->reason), f[3], fl[3]);
            copy_field (buf, sizeof (buf), f[4], fl[4]);
            j->start = slurm_parse_time (buf);
        } else {
            /* %i|%T|%r|%S|%C|%j */
            copy_field (j->reason, sizeof (j->reason), f[2], fl[2]);
            copy_field (buf, sizeof (buf), f[3], fl[3]);
            j->start = slurm_parse_time (buf);
            copy_field (buf, sizeof (buf), f[4], fl[4]);
            j->cpus = atoi (buf);
        }
        copy_field (j->name, sizeof (j->name), f[5], fl[5]);
        p = next;
    }
    *jobs = v;
    *n = cnt;
    return 0;
}

int slurm_parse_squeue (const char *text, struct slurm_job_info **jobs, size_t *n, fs_error_t *err)
{
    return parse_listing (text, false, jobs, n, err);
}

int slurm_parse_sacct (const char *text, struct slurm_job_info **jobs, size_t *n, fs_error_t *err)
{
    return parse_listing (text, true, jobs, n, err);
}

/* The value of KEY= in scontrol's one-line output: up to the next space, or,
 * for a value that may hold spaces (JobName), up to " UNTIL=". */
static bool kv (const char *text, const char *key, const char *until, char *buf, size_t size)
{
    size_t kl = strlen (key);
    for (const char *p = text; (p = strstr (p, key)); p += kl) {
        if ((p != text && !isspace ((unsigned char)p[-1])) || p[kl] != '=')
            continue;
        const char *v = p + kl + 1, *e = NULL;
        if (until) {
            char pat[64];
            snprintf (pat, sizeof (pat), " %s=", until);
            e = strstr (v, pat);
        }
        if (!e)
            e = v + strcspn (v, " \t\n");
        copy_field (buf, size, v, (size_t)(e - v));
        return true;
    }
    return false;
}

int slurm_parse_scontrol (const char *text, struct slurm_job_info *job, fs_error_t *err)
{
    char buf[128];
    memset (job, 0, sizeof (*job));
    if (!text || !kv (text, "JobId", NULL, job->id, sizeof (job->id))
        || !kv (text, "JobState", NULL, job->state, sizeof (job->state)))
        return errprintf (err, FS_EFAIL, "scontrol printed no JobId or JobState: '%.200s'",
                          text ? text : "");
    job->kind = slurm_state_kind (job->state);
    kv (text, "JobName", "UserId", job->name, sizeof (job->name));
    kv (text, "Reason", NULL, job->reason, sizeof (job->reason));
    if (kv (text, "ExitCode", NULL, buf, sizeof (buf)))
        job->has_exit = slurm_parse_exit (buf, &job->exit_code, &job->exit_signal) == 0;
    if (kv (text, "StartTime", NULL, buf, sizeof (buf)))
        job->start = slurm_parse_time (buf);
    if (kv (text, "NumCPUs", NULL, buf, sizeof (buf)))
        job->cpus = atoi (buf);
    return 0;
}

int slurm_parse_sbatch (const char *text, char *id, size_t idsz, fs_error_t *err)
{
    /* The last non-empty line: "ID" or "ID;CLUSTER". */
    const char *p = text ? text : "", *last = NULL;
    size_t lastlen = 0;
    while (*p) {
        size_t len = strcspn (p, "\n");
        size_t l = len;
        while (l && (p[l - 1] == '\r' || p[l - 1] == ' '))
            l--;
        if (l) {
            last = p;
            lastlen = l;
        }
        p += len + (p[len] == '\n');
    }
    size_t idlen = last ? strcspn (last, ";") : 0;
    if (idlen > lastlen)
        idlen = lastlen;
    if (!last || !all_digits (last, idlen) || idlen >= idsz)
        return errprintf (err, FS_EFAIL, "sbatch printed no job id: '%.200s'", text ? text : "");
    copy_field (id, idsz, last, idlen);
    return 0;
}

int slurm_parse_sinfo (const char *text, const char *partition, int *total, int *idle,
                       char *name, size_t namesz, fs_error_t *err)
{
    const char *p = text ? text : "";
    while (*p) {
        size_t len = strcspn (p, "\n");
        const char *bar = memchr (p, '|', len);
        if (bar) {
            size_t nl = (size_t)(bar - p);
            bool dflt = nl > 0 && p[nl - 1] == '*';
            size_t bare = dflt ? nl - 1 : nl;
            bool match = partition && *partition
                             ? strlen (partition) == bare && !strncmp (p, partition, bare)
                             : dflt;
            int a, i, o, t;
            char cpus[64];
            copy_field (cpus, sizeof (cpus), bar + 1, len - nl - 1);
            if (match && sscanf (cpus, "%d/%d/%d/%d", &a, &i, &o, &t) == 4) {
                *total = t;
                *idle = i;
                if (name)
                    copy_field (name, namesz, p, bare);
                return 0;
            }
        }
        p += len + (p[len] == '\n');
    }
    if (partition && *partition)
        return errprintf (err, FS_EFAIL, "Slurm has no partition '%s' (sinfo lists none of "
                          "that name)", partition);
    return errprintf (err, FS_EFAIL, "Slurm has no default partition (sinfo marks none with "
                      "'*'): set slurm.partition in site.yaml");
}

void slurm_parse_config (const char *text, bool *accounting, int *min_job_age)
{
    *accounting = false;
    *min_job_age = -1;
    const char *p = text ? text : "";
    while (*p) {
        size_t len = strcspn (p, "\n");
        char line[256], key[128], val[128];
        copy_field (line, sizeof (line), p, len);
        if (sscanf (line, " %127[^ =] = %127s", key, val) == 2) {
            if (!strcmp (key, "AccountingStorageType"))
                *accounting = strcmp (val, "accounting_storage/none") != 0;
            else if (!strcmp (key, "MinJobAge"))
                *min_job_age = atoi (val);
        }
        p += len + (p[len] == '\n');
    }
}

int slurm_time_minutes (double walltime_s)
{
    if (!(walltime_s > 0))
        return 0;
    double m = walltime_s / 60.0;
    if (m > 1e7)
        return 10000000;
    int whole = (int)m;
    if ((double)whole < m)
        whole++;
    return whole < 1 ? 1 : whole;
}
