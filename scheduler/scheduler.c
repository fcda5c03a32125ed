/* scheduler.c - the central daemon: one event loop on one ROUTER socket.
 *
 * Clients and site workers connect with DEALER sockets and send requests
 * ("service.method", JSON body).  Each request is dispatched from the static
 * handler table below and gets exactly one reply or error reply.  Requests
 * the scheduler forwards to a site (site.publish) are kept in a pending table
 * until the site answers; the answer is then turned into the client's reply.
 * Nothing here blocks except SQLite commits, which are short and few.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "common/config.h"
#include "common/errlist.h"
#include "common/daemon.h"
#include "common/log.h"
#include "common/msg.h"
#include "common/names.h"
#include "common/zsock.h"
#include "apps.h"
#include "jobs.h"
#include "registry.h"
#include "scheduler.h"
#include "store.h"
#include "common/clock.h"

#define SCHED_MAXMSG (4 << 20)
#define PENDING_MAX 1024
#define PENDING_TIMEOUT 120.0
/* A site answers job.logs from files at once: silence this long means it is
 * gone, though perhaps not declared down yet; well below a client's 10 s. */
#define PENDING_LOGS_TIMEOUT 5.0

struct pending {
    bool used;
    int64_t id;                     /* id of our request to the site */
    char op[FS_OP_MAX];
    int64_t client_id;
    unsigned char rid[256];
    size_t ridlen;
    char site[64];
    char token[FS_TOKEN_MAX + 1];   /* the client's token ("" none): its answer is kept */
    double started;
    double timeout;                 /* seconds the site has to answer */
};

/* A reply that promises something is on disk: sent after the turn's commit. */
struct later {
    unsigned char rid[256];
    size_t ridlen;
    struct zmsg *m;
};

struct sched {
    struct fed_config cfg;
    struct zsock *sock;
    struct store *store;
    struct registry *reg;
    struct jobs *jobs;
    struct apps *apps;
    struct pending pending[PENDING_MAX];
    int64_t next_id;
    struct later *later;
    size_t nlater, caplater;
    double tokens_pruned;
    /* the request being handled */
    unsigned char rid[256];
    size_t ridlen;
    const char *user;               /* its sender's role ("admin", "user"; CURVE only) */
    const char *key;                /* its sender's public key (CURVE only) */
};

static volatile sig_atomic_t sched_stop;

static void on_signal (int sig)
{
    (void)sig;
    sched_stop = 1;
}

static void send_to (struct sched *s, const void *rid, size_t ridlen, struct zmsg *m)
{
    fs_error_t err;
    if (!m)
        return;
    if (msg_route (m, rid, ridlen) < 0 || zsock_send (s->sock, &m, &err) < 0) {
        zmsg_destroy (&m);
        log_msg (LOG_DEBUG, "event=send.fail reason=\"peer gone\"");
    }
}

static void reply (struct sched *s, const struct msg *req, json_t *body)
{
    send_to (s, s->rid, s->ridlen, msg_reply (req->op, req->id, body));
}

/* Reply once this turn's changes are committed (see later_send). */
static void reply_after_commit (struct sched *s, const struct msg *req, json_t *body)
{
    struct zmsg *m = msg_reply (req->op, req->id, body);
    if (!m)
        return;
    if (s->nlater == s->caplater) {
        size_t cap = s->caplater ? s->caplater * 2 : 64;
        struct later *l = realloc (s->later, cap * sizeof (*l));
        if (!l) {
            zmsg_destroy (&m);
            return;                 /* unanswered: the peer asks again */
        }
        s->later = l;
        s->caplater = cap;
    }
    struct later *l = &s->later[s->nlater++];
    memcpy (l->rid, s->rid, s->ridlen);
    l->ridlen = s->ridlen;
    l->m = m;
}

static void later_send (struct sched *s)
{
    if (s->nlater == 0)
        return;
    jobs_commit (s->jobs);
    for (size_t i = 0; i < s->nlater; i++)
        send_to (s, s->later[i].rid, s->later[i].ridlen, s->later[i].m);
    s->nlater = 0;
}

/* The optional "token" of an idempotent request (docs/protocol.md, "Tokens"):
 * NULL when absent; -1 with err when malformed. */
static int msg_token (const struct msg *m, const char **token, fs_error_t *err)
{
    if (msg_get_str (m, "token", false, token, err) < 0)
        return -1;
    if (*token && (!**token || strlen (*token) > FS_TOKEN_MAX
                   || strspn (*token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                      "0123456789._-") != strlen (*token)))
        return errprintf (err, FS_EINVAL, "%s: token must be 1 to %d characters of "
                          "[A-Za-z0-9._-]", m->op, FS_TOKEN_MAX);
    return 0;
}

static void reply_error (struct sched *s, const struct msg *req, const fs_error_t *err)
{
    send_to (s, s->rid, s->ridlen,
             msg_error (req->op, req->id, err->code ? err->code : FS_EFAIL, "%s", err->text));
}

/* --- site services -------------------------------------------------- */

static struct pending *pending_add (struct sched *s, const struct msg *m, const char *site);

/* A site's operator list: an array of z85 public keys. */
static bool site_operators_valid (const json_t *ops)
{
    size_t i;
    json_t *k;
    if (!json_is_array (ops) || json_array_size (ops) > 4096)
        return false;
    json_array_foreach (ops, i, k)
        if (!json_is_string (k) || json_string_length (k) != 40)
            return false;
    return true;
}

/* Publishing and changing policies at a site are its operators' actions: a
 * clear early refusal here (the site checks again, and decides).  Without
 * CURVE there are no roles; a site that did not say who its operators are
 * decides alone. */
static int site_operator_check (struct sched *s, const struct site *site, const struct msg *m,
                                const char *what, bool publish, fs_error_t *err)
{
    size_t i;
    json_t *k;
    if (s->cfg.security != SEC_CURVE || !site->operators)
        return 0;
    json_array_foreach (site->operators, i, k)
        if (s->key && !strcmp (json_string_value (k), s->key))
            return 0;
    /* the site never hears of it: the audit line is written here */
    const char *path = json_string_value (json_object_get (m->body, "path"));
    const char *name = json_string_value (json_object_get (m->body, "name"));
    const char *policy = json_string_value (json_object_get (m->body, "policy"));
    log_msg (LOG_INFO, "event=audit op=%s by=%s site=%s file=\"%s\" name=%s after=%s "
             "result=refused reason=\"not an operator of the site\"", publish ? "publish" : "policy",
             s->key ? s->key : "-", site->name, path ? path : "-", name ? name : "-",
             policy ? policy : "-");
    return errprintf (err, FS_EFAIL, "permission denied: %s at site %s is an action of that "
                      "site's operators (keys in its keys/admin/), and this key is not one of "
                      "them%s", what, site->name, publish ? "; scientists publish through job "
                      "outputs (outputs: {NAME: {publish: NAME}})" : "");
}

/* Forward an operator request to its site, with the requester's key. */
static int forward_to_site (struct sched *s, const struct msg *m, struct site *site,
                            const char *op, const char *token, fs_error_t *err)
{
    struct pending *pd = pending_add (s, m, site->name);
    if (!pd)
        return errprintf (err, FS_EFAIL, "scheduler busy: too many requests in flight; retry");
    snprintf (pd->token, sizeof (pd->token), "%s", token ? token : "");
    json_t *body = json_deep_copy (m->body);
    json_object_del (body, "by");       /* who asks is what CURVE says, nothing else */
    if (s->cfg.security == SEC_CURVE && s->key)
        json_object_set_new (body, "by", json_string (s->key));
    send_to (s, site->rid, site->ridlen, msg_request (op, pd->id, body));
    return 0;
}

static int h_site_hello (struct sched *s, const struct msg *m, fs_error_t *err)
{
    const char *name, *region, *uri, *key = NULL;
    int64_t proto = 0, cores = 0, numa = 0, gpus = 0, memory = 0;
    if (msg_get_int (m, "proto", true, 0, 1000000, &proto, err) < 0)
        return -1;
    if (proto != FS_PROTO_VERSION)
        return errprintf (err, FS_EINVAL, "protocol version %lld is not supported (scheduler "
                          "speaks %d): upgrade the site or the scheduler", (long long)proto,
                          FS_PROTO_VERSION);
    if (msg_get_str (m, "name", true, &name, err) < 0 || msg_get_str (m, "region", true, &region, err) < 0
        || msg_get_str (m, "data_uri", true, &uri, err) < 0
        || msg_get_int (m, "cores", true, 1, 1 << 24, &cores, err) < 0
        || msg_get_int (m, "numa", false, 0, 1 << 20, &numa, err) < 0
        || msg_get_int (m, "gpus", false, 0, 1 << 20, &gpus, err) < 0
        || msg_get_int (m, "memory", false, 0, INT64_MAX, &memory, err) < 0)
        return -1;
    if (ident_valid ("site", name, err) < 0 || ident_valid ("region", region, err) < 0)
        return -1;
    if (strlen (uri) >= FS_URI_MAX || strncmp (uri, "tcp://", 6))
        return errprintf (err, FS_EINVAL, "site.hello: data_uri must be a tcp:// endpoint");
    const char *launcher = NULL;
    if (msg_get_str (m, "curve_key", false, &key, err) < 0
        || msg_get_str (m, "launcher", false, &launcher, err) < 0)
        return -1;
    if (launcher && ident_valid ("launcher", launcher, err) < 0)
        return -1;
    json_t *ops = json_object_get (m->body, "operators");
    if (ops && !site_operators_valid (ops))
        return errprintf (err, FS_EINVAL, "site.hello: 'operators' must be an array of public "
                          "keys (40 z85 characters each)");
    if (s->cfg.security == SEC_CURVE) {
        /* A site speaks for itself only: the key it announces (and serves its
         * data port with) is the key this connection authenticated with. */
        if (!key || !s->key || strcmp (key, s->key))
            return errprintf (err, FS_EFAIL, "site.hello: curve_key is not the key this "
                              "connection authenticated with (site.yaml keys: site.key)");
        struct site *old = registry_get (s->reg, name, false);
        if (old && old->up && old->curve_key[0] && strcmp (old->curve_key, key))
            return errprintf (err, FS_EFAIL, "site.hello: site '%s' is up with another key", name);
    }
    struct site *site = registry_get (s->reg, name, true);
    if (!site)
        return errprintf (err, FS_EFAIL, "out of memory");
    snprintf (site->curve_key, sizeof (site->curve_key), "%s",
              s->cfg.security == SEC_CURVE && key ? key : "");
    bool newconn = site->ridlen != s->ridlen || memcmp (site->rid, s->rid, s->ridlen);
    if (site->up && newconn)
        log_msg (LOG_WARN, "event=site.replaced site=%s reason=\"new connection said hello\"", name);
    if (newconn || !site->conn)
        site->conn++;
    snprintf (site->region, sizeof (site->region), "%s", region);
    snprintf (site->data_uri, sizeof (site->data_uri), "%s", uri);
    site->cores = (int)cores;
    site->cores_free = (int)cores;
    snprintf (site->launcher, sizeof (site->launcher), "%s", launcher ? launcher : "");
    site->queue_known = false;
    site->numa = (int)numa;
    site->gpus = (int)gpus;
    site->memory = (double)memory;
    site->running = 0;
    site->last_heartbeat = clock_wall ();
    site->up = true;
    json_decref (site->operators);
    site->operators = ops ? json_deep_copy (ops) : NULL;
    memcpy (site->rid, s->rid, s->ridlen);
    site->ridlen = s->ridlen;
    if (store_site_save (s->store, name, region, uri, (int)cores, site->curve_key, err) < 0)
        return -1;
    log_msg (LOG_INFO, "event=site.up site=%s region=%s cores=%d data=%s", name, region,
             (int)cores, uri);
    /* Its apps policy; then ask what it provides of the apps' requirements. */
    json_t *probe = apps_site_hello (s->apps, name, json_object_get (m->body, "apps"), err);
    if (!probe)
        return -1;
    if (json_array_size (probe) > 0) {
        apps_site_probing (s->apps, name, probe);
        send_to (s, s->rid, s->ridlen, msg_request ("site.probe", ++s->next_id,
                                                    json_pack ("{s:O}", "requires", probe)));
    }
    json_decref (probe);
    json_t *tasks = json_object_get (m->body, "tasks");
    if (s->jobs && (!tasks || json_is_array (tasks))) {
        json_t *none = json_array ();
        jobs_site_hello (s->jobs, name, tasks ? tasks : none);
        json_decref (none);
    }
    /* After the commit: the results the hello carried are then on disk. */
    reply_after_commit (s, m, json_pack ("{s:f, s:i}", "heartbeat_interval",
                                         s->cfg.heartbeat_interval, "proto", FS_PROTO_VERSION));
    return 0;
}

static struct site *caller_site (struct sched *s, const struct msg *m, fs_error_t *err)
{
    struct site *site = registry_by_rid (s->reg, s->rid, s->ridlen);
    if (!site)
        errprintf (err, FS_EFAIL, "%s: unknown site: say hello first", m->op);
    return site;
}

static int h_site_heartbeat (struct sched *s, const struct msg *m, fs_error_t *err)
{
    struct site *site = caller_site (s, m, err);
    int64_t free_ = 0, running = 0;
    if (!site)
        return -1;
    int64_t cores = 0;
    if (msg_get_int (m, "cores_free", false, 0, 1 << 24, &free_, err) < 0
        || msg_get_int (m, "running", false, 0, 1 << 24, &running, err) < 0
        || msg_get_int (m, "cores", false, 1, 1 << 24, &cores, err) < 0)
        return -1;
    json_t *ops = json_object_get (m->body, "operators");
    if (ops && !site_operators_valid (ops))
        return errprintf (err, FS_EINVAL, "site.heartbeat: 'operators' must be an array of "
                          "public keys (40 z85 characters each)");
    /* A batch site: the cores of its partition once its batch system said,
     * and its queue (docs/protocol.md). */
    json_t *q = json_object_get (m->body, "queue");
    if (q && !json_is_null (q)) {
        json_int_t qp = 0, qr = 0, qi = 0;
        json_t *qw = NULL;
        json_error_t je;
        if (json_unpack_ex (q, &je, JSON_STRICT, "{s:I, s:I, s:I, s?o, s?b}", "pending", &qp,
                            "running", &qr, "cores_idle", &qi, "wait_s", &qw, "reachable", &(int){ 0 }) < 0
            || qp < 0 || qr < 0 || qi < 0 || (qw && !json_is_null (qw) && !json_is_number (qw)))
            return errprintf (err, FS_EINVAL, "site.heartbeat: queue must be {pending, running, "
                              "cores_idle, wait_s (seconds or null), reachable}: %s", je.text);
        site->queue_known = true;
        site->queue_pending = (int)qp;
        site->queue_running = (int)qr;
        site->queue_idle = (int)qi;
        site->queue_wait_s = qw && json_is_number (qw) && json_number_value (qw) >= 0
                                 ? json_number_value (qw) : -1;
    }
    if (cores > 0 && cores != site->cores) {
        log_msg (LOG_INFO, "event=site.cores site=%s cores=%lld was=%d", site->name,
                 (long long)cores, site->cores);
        site->cores = (int)cores;
    }
    if (ops) {
        json_decref (site->operators);
        site->operators = json_deep_copy (ops);
    }
    site->cores_free = (int)(free_ > site->cores ? site->cores : free_);
    site->running = (int)running;
    site->last_heartbeat = clock_wall ();
    apps_site_cached (s->apps, site->name, json_object_get (m->body, "apps"));
    reply (s, m, NULL);
    return 0;
}

static int h_catalog_register (struct sched *s, const struct msg *m, fs_error_t *err)
{
    struct site *site = caller_site (s, m, err);
    if (!site)
        return -1;
    json_t *refused = NULL;
    int n = store_register (s->store, site->name, json_object_get (m->body, "datasets"), &refused, err);
    if (n < 0) {
        json_decref (refused);
        return -1;
    }
    log_msg (LOG_INFO, "event=catalog.register site=%s registered=%d refused=%zu", site->name, n,
             json_array_size (refused));
    reply (s, m, json_pack ("{s:i, s:o}", "registered", n, "refused", refused));
    return 0;
}

/* --- client services ------------------------------------------------ */

/* Sites known from earlier runs are listed as down until they say hello; their
 * drain flags hold from the start. */
static int registry_load_known (struct sched *s, fs_error_t *err)
{
    json_t *known = store_sites (s->store, err);
    if (!known)
        return -1;
    size_t i;
    json_t *k;
    json_array_foreach (known, i, k) {
        struct site *site = registry_get (s->reg, json_string_value (json_object_get (k, "name")), true);
        if (site && !site->up && !site->region[0]) {
            snprintf (site->region, sizeof (site->region), "%s",
                      json_string_value (json_object_get (k, "region")));
            site->cores = (int)json_integer_value (json_object_get (k, "cores"));
            snprintf (site->data_uri, sizeof (site->data_uri), "%s",
                      json_string_value (json_object_get (k, "data_uri")));
            snprintf (site->curve_key, sizeof (site->curve_key), "%s",
                      json_string_value (json_object_get (k, "curve_key")));
        }
        if (site) {
            site->drained = json_is_true (json_object_get (k, "drained"));
            snprintf (site->reason, sizeof (site->reason), "%s",
                      json_string_value (json_object_get (k, "reason")));
        }
    }
    json_decref (known);
    return 0;
}

static int h_sites_list (struct sched *s, const struct msg *m, fs_error_t *err)
{
    size_t i;
    json_t *a = json_array ();
    for (i = 0; i < registry_count (s->reg); i++) {
        struct site *site = registry_at (s->reg, i);
        char hb[32];
        json_t *jhb = json_null ();
        if (site->last_heartbeat > 0) {
            clock_iso (site->last_heartbeat, false, hb, sizeof (hb));
            jhb = json_string (hb);
        }
        const char *state = !site->up ? "down" : site->drained ? "drained" : "up";
        int running = 0, used = 0;
        jobs_site_usage (s->jobs, site->name, &running, &used);
        site->running = running;
        site->cores_free = site->cores - used > 0 ? site->cores - used : 0;
        json_t *queue = json_null ();
        if (site->queue_known)
            queue = json_pack ("{s:i, s:i, s:i, s:o}", "pending", site->queue_pending, "running",
                               site->queue_running, "cores_idle", site->queue_idle, "wait_s",
                               site->queue_wait_s >= 0 ? json_real (site->queue_wait_s)
                                                       : json_null ());
        json_array_append_new (
            a, json_pack ("{s:s, s:s, s:s, s:i, s:i, s:i, s:i, s:o, s:i, s:i, s:I, s:s, s:o, s:o}", "name",
                          site->name, "region", site->region, "state", state, "cores", site->cores,
                          "cores_free", site->up ? site->cores_free : 0, "running",
                          site->up ? site->running : 0, "datasets",
                          store_site_datasets (s->store, site->name), "last_heartbeat", jhb,
                          "numa", site->numa, "gpus", site->gpus, "memory",
                          (json_int_t)site->memory, "reason", site->reason, "launcher",
                          site->launcher[0] ? json_string (site->launcher) : json_null (),
                          "queue", queue));
    }
    reply (s, m, json_pack ("{s:o}", "sites", a));
    return 0;
}

/* Every site's name, region and public key: the sites' data ports use them to
 * check that a request claiming to read as a site comes from that site's key. */
static int h_sites_keys (struct sched *s, const struct msg *m, fs_error_t *err)
{
    (void)err;
    json_t *a = json_array ();
    for (size_t i = 0; i < registry_count (s->reg); i++) {
        struct site *site = registry_at (s->reg, i);
        json_array_append_new (a, json_pack ("{s:s, s:s, s:s}", "name", site->name, "region",
                                             site->region, "key", site->curve_key));
    }
    reply (s, m, json_pack ("{s:o}", "sites", a));
    return 0;
}

static int h_catalog_list (struct sched *s, const struct msg *m, fs_error_t *err)
{
    const char *glob;
    if (msg_get_str (m, "glob", false, &glob, err) < 0)
        return -1;
    json_t *a = store_catalog_where (s->store, glob, json_object_get (m->body, "where"), err);
    if (!a)
        return -1;
    reply (s, m, json_pack ("{s:o}", "datasets", a));
    return 0;
}

static int h_catalog_search (struct sched *s, const struct msg *m, fs_error_t *err)
{
    const char *text;
    int64_t limit = 20;
    if (msg_get_str (m, "text", true, &text, err) < 0
        || msg_get_int (m, "limit", false, 1, 100000, &limit, err) < 0)
        return -1;
    json_t *a = store_search (s->store, text, (int)limit, err);
    if (!a)
        return -1;
    reply (s, m, json_pack ("{s:o}", "datasets", a));
    return 0;
}

/* The replicas of a catalog object with their sites' states. */
static void replicas_state (struct sched *s, json_t *d)
{
    size_t i;
    json_t *r;
    json_array_foreach (json_object_get (d, "replicas"), i, r) {
        struct site *site = registry_get (s->reg, json_string_value (json_object_get (r, "site")), false);
        json_object_set_new (r, "state", json_string (!site || !site->up ? "down"
                                                      : site->drained ? "drained" : "up"));
    }
}

static int h_catalog_info (struct sched *s, const struct msg *m, fs_error_t *err)
{
    const char *name;
    if (msg_get_str (m, "name", true, &name, err) < 0 || name_valid (name, err) < 0)
        return -1;
    json_t *d = store_info (s->store, name, err);
    if (!d)
        return -1;
    replicas_state (s, d);
    reply (s, m, json_pack ("{s:o}", "dataset", d));
    return 0;
}

static int h_catalog_lookup (struct sched *s, const struct msg *m, fs_error_t *err)
{
    const char *name;
    if (msg_get_str (m, "name", true, &name, err) < 0 || name_valid (name, err) < 0)
        return -1;
    json_t *d = store_lookup (s->store, name, err);
    if (!d)
        return -1;
    /* Each replica with where to reach its site and whether it is up. */
    size_t i;
    json_t *r;
    replicas_state (s, d);
    json_array_foreach (json_object_get (d, "replicas"), i, r) {
        struct site *site = registry_get (s->reg, json_string_value (json_object_get (r, "site")), false);
        json_object_set_new (r, "uri", json_string (site ? site->data_uri : ""));
        json_object_set_new (r, "key", json_string (site ? site->curve_key : ""));
    }
    reply (s, m, json_pack ("{s:o}", "dataset", d));
    return 0;
}

static struct pending *pending_add (struct sched *s, const struct msg *m, const char *site)
{
    for (int i = 0; i < PENDING_MAX; i++) {
        struct pending *p = &s->pending[i];
        if (p->used)
            continue;
        memset (p, 0, sizeof (*p));
        p->used = true;
        p->id = ++s->next_id;
        snprintf (p->op, sizeof (p->op), "%s", m->op);
        p->client_id = m->id;
        memcpy (p->rid, s->rid, s->ridlen);
        p->ridlen = s->ridlen;
        snprintf (p->site, sizeof (p->site), "%s", site);
        p->started = clock_wall ();
        p->timeout = PENDING_TIMEOUT;
        return p;
    }
    return NULL;
}

/* A request carrying a token that was answered before: that answer again
 * (1), or 0 to go on; -1 with err. */
static int token_replay (struct sched *s, const struct msg *m, const char *token, fs_error_t *err)
{
    json_t *kept = NULL;
    int r = token ? store_token_get (s->store, token, m->op, &kept, err) : 0;
    if (r == 1)
        reply (s, m, kept);
    return r;
}

/* A request with token asked again while the site still works on the first
 * copy: the site's answer goes to this copy (true); false when none is in
 * flight. */
static bool pending_rejoin (struct sched *s, const struct msg *m, const char *token)
{
    for (int i = 0; token && i < PENDING_MAX; i++) {
        struct pending *pd = &s->pending[i];
        if (pd->used && !strcmp (pd->token, token) && !strcmp (pd->op, m->op)) {
            memcpy (pd->rid, s->rid, s->ridlen);
            pd->ridlen = s->ridlen;
            pd->client_id = m->id;
            return true;
        }
    }
    return false;
}

static int h_catalog_publish (struct sched *s, const struct msg *m, fs_error_t *err)
{
    const char *sitename, *path, *name, *policy, *token;
    if (msg_get_str (m, "site", true, &sitename, err) < 0 || msg_get_str (m, "path", true, &path, err) < 0
        || msg_get_str (m, "name", false, &name, err) < 0
        || msg_get_str (m, "policy", false, &policy, err) < 0 || msg_token (m, &token, err) < 0)
        return -1;
    int r = token_replay (s, m, token, err);
    if (r != 0)
        return r < 0 ? -1 : 0;
    if (pending_rejoin (s, m, token))
        return 0;
    if (ident_valid ("site", sitename, err) < 0 || (name && name_valid (name, err) < 0))
        return -1;
    fs_policy_t p;
    if (policy && policy_parse (policy, &p, err) < 0)
        return -1;
    struct site *site = registry_get (s->reg, sitename, false);
    if (!site)
        return errprintf (err, FS_EFAIL, "unknown site '%s' (see 'fedsched sites')", sitename);
    if (!site->up)
        return errprintf (err, FS_EFAIL, "site '%s' is down: it can't publish now", sitename);
    if (site_operator_check (s, site, m, "publishing", true, err) < 0)
        return -1;
    return forward_to_site (s, m, site, "site.publish", token, err);
}

/* fedsched policy SITE NAME POLICY [--loosen]: the site's operators only. */
static int h_catalog_policy (struct sched *s, const struct msg *m, fs_error_t *err)
{
    const char *sitename, *name, *policy;
    bool loosen = false;
    if (msg_get_str (m, "site", true, &sitename, err) < 0 || msg_get_str (m, "name", true, &name, err) < 0
        || msg_get_str (m, "policy", true, &policy, err) < 0
        || msg_get_bool (m, "loosen", false, &loosen, err) < 0)
        return -1;
    fs_policy_t p;
    if (ident_valid ("site", sitename, err) < 0 || name_valid (name, err) < 0
        || policy_parse (policy, &p, err) < 0)
        return -1;
    struct site *site = registry_get (s->reg, sitename, false);
    if (!site)
        return errprintf (err, FS_EFAIL, "unknown site '%s' (see 'fedsched sites')", sitename);
    if (!site->up)
        return errprintf (err, FS_EFAIL, "site '%s' is down: it can't change a policy now",
                          sitename);
    if (site_operator_check (s, site, m, "changing a dataset's policy", false, err) < 0)
        return -1;
    return forward_to_site (s, m, site, "site.policy", NULL, err);
}

/* --- apps (SPEC section 10; docs/protocol.md, "Apps") ------------------------ */

/* site.probe for requires to every up site (a new app's requirements). */
static void probe_all (struct sched *s, json_t *requires)
{
    for (size_t i = 0; json_array_size (requires) > 0 && i < registry_count (s->reg); i++) {
        struct site *site = registry_at (s->reg, i);
        if (!site->up)
            continue;
        apps_site_probing (s->apps, site->name, requires);
        send_to (s, site->rid, site->ridlen, msg_request ("site.probe", ++s->next_id,
                                                          json_pack ("{s:O}", "requires", requires)));
    }
}

/* The site an app request names: known and up. */
static struct site *app_site (struct sched *s, const struct msg *m, fs_error_t *err)
{
    const char *name;
    if (msg_get_str (m, "site", true, &name, err) < 0 || ident_valid ("site", name, err) < 0)
        return NULL;
    struct site *site = registry_get (s->reg, name, false);
    if (!site)
        errprintf (err, FS_EFAIL, "unknown site '%s' (see 'fedsched sites')", name);
    else if (!site->up)
        errprintf (err, FS_EFAIL, "site '%s' is down: it can't take an app now", name);
    return site && site->up ? site : NULL;
}

/* app.check: may NAME@VERSION be published with this digest, and where does
 * its bundle go (the site's data port, its key, whether it holds it already). */
static int h_app_check (struct sched *s, const struct msg *m, fs_error_t *err)
{
    bool held;
    struct site *site = app_site (s, m, err);
    if (!site || apps_precheck (s->apps, m->body, false, site->name, &held, err) < 0)
        return -1;
    reply (s, m, json_pack ("{s:s, s:s, s:s, s:b}", "site", site->name, "uri", site->data_uri,
                            "key", site->curve_key, "held", held));
    return 0;
}

/* app.publish: checked here (signature, immutability), then by the site,
 * which keeps the uploaded bundle (site.app_store); its answer is recorded
 * and given to the client (on_site_reply). */
static int h_app_publish (struct sched *s, const struct msg *m, fs_error_t *err)
{
    const char *token;
    bool held;
    if (msg_token (m, &token, err) < 0)
        return -1;
    int r = token_replay (s, m, token, err);
    if (r != 0)
        return r < 0 ? -1 : 0;
    if (pending_rejoin (s, m, token))
        return 0;
    struct site *site = app_site (s, m, err);
    if (!site || apps_precheck (s->apps, m->body, true, site->name, &held, err) < 0)
        return -1;
    if (held) {
        /* The same content again: nothing to do. */
        json_t *body = json_pack ("{s:O, s:O, s:O, s:O, s:s, s:b}", "name",
                                  json_object_get (m->body, "name"), "version",
                                  json_object_get (m->body, "version"), "digest",
                                  json_object_get (m->body, "digest"), "bytes",
                                  json_object_get (m->body, "bytes"), "site", site->name, "new", 0);
        if (token && store_token_put (s->store, token, m->op, body, clock_wall (), err) < 0)
            log_msg (LOG_ERR, "event=store.fail reason=\"%s\"", err->text);
        reply (s, m, body);
        return 0;
    }
    return forward_to_site (s, m, site, "site.app_store", token, err);
}

static int h_app_list (struct sched *s, const struct msg *m, fs_error_t *err)
{
    const char *glob;
    if (msg_get_str (m, "glob", false, &glob, err) < 0)
        return -1;
    json_t *body = apps_list (s->apps, glob, err);
    if (!body)
        return -1;
    reply (s, m, body);
    return 0;
}

/* The site's answer to app.publish's site.app_store (pd: the client). */
static void app_stored (struct sched *s, struct pending *pd, struct site *site, const struct msg *m)
{
    fs_error_t err;
    bool fresh;
    json_t *body = apps_stored (s->apps, site->name, m->body, &fresh, &err);
    if (!body) {
        send_to (s, pd->rid, pd->ridlen, msg_error (pd->op, pd->client_id, err.code, "%s", err.text));
        return;
    }
    if (pd->token[0] && store_token_put (s->store, pd->token, pd->op, body, clock_wall (), &err) < 0)
        log_msg (LOG_ERR, "event=store.fail reason=\"%s\"", err.text);
    send_to (s, pd->rid, pd->ridlen, msg_reply (pd->op, pd->client_id, body));
    if (fresh) {
        json_t *req = apps_requirements (s->apps);
        probe_all (s, req);
        json_decref (req);
    }
}

/* A site answered a request we forwarded. */
static void on_site_reply (struct sched *s, const struct msg *m)
{
    struct pending *pd = NULL;
    for (int i = 0; i < PENDING_MAX; i++)
        if (s->pending[i].used && s->pending[i].id == m->id) {
            pd = &s->pending[i];
            break;
        }
    struct site *site = registry_by_rid (s->reg, s->rid, s->ridlen);
    if (!strcmp (m->op, "site.probe") && site) {
        if (m->ok)
            apps_site_probed (s->apps, site->name, m->body);
        else
            log_msg (LOG_WARN, "event=apps.probe_fail site=%s reason=\"%s\"", site->name,
                     m->errtext);
        return;
    }
    if (!pd || !site || strcmp (site->name, pd->site)) {
        /* id 0: task.start and task.kill, whose outcome comes as task.update */
        if (m->id != 0 || !m->ok)
            log_msg (m->id ? LOG_WARN : LOG_INFO, "event=reply.unexpected op=%s id=%lld error=\"%s\"",
                     m->op, (long long)m->id, m->ok ? "" : m->errtext);
        return;
    }
    pd->used = false;
    if (!m->ok) {
        send_to (s, pd->rid, pd->ridlen,
                 msg_error (pd->op, pd->client_id, m->errcode, "%s", m->errtext));
        return;
    }
    if (!strcmp (pd->op, "app.publish")) {
        app_stored (s, pd, site, m);
        return;
    }
    if (strcmp (pd->op, "catalog.publish") && strcmp (pd->op, "catalog.policy")) {
        /* passed through as the site said it */
        json_t *b = json_deep_copy (m->body);
        json_object_set_new (b, "site", json_string (site->name));
        send_to (s, pd->rid, pd->ridlen, msg_reply (pd->op, pd->client_id, b));
        return;
    }
    /* site.publish, site.policy: record what the site says, then answer the client. */
    fs_error_t err;
    json_t *refused = NULL;
    json_t *datasets = json_object_get (m->body, "datasets");
    int n = store_register (s->store, site->name, datasets, &refused, &err);
    if (n < 0) {
        json_decref (refused);
        send_to (s, pd->rid, pd->ridlen, msg_error (pd->op, pd->client_id, err.code, "%s", err.text));
        return;
    }
    json_t *names = json_array ();
    json_t *skipped = json_deep_copy (json_object_get (m->body, "skipped"));
    if (!json_is_array (skipped)) {
        json_decref (skipped);
        skipped = json_array ();
    }
    size_t i;
    json_t *d;
    json_array_foreach (datasets, i, d) {
        const char *nm = json_string_value (json_object_get (d, "name"));
        bool bad = false;
        size_t j;
        json_t *r;
        json_array_foreach (refused, j, r)
            if (nm && !strcmp (nm, json_string_value (json_object_get (r, "name"))))
                bad = true;
        if (nm && !bad)
            json_array_append_new (names, json_string (nm));
    }
    json_array_foreach (refused, i, d)
        json_array_append_new (skipped, json_pack ("{s:O, s:O}", "path", json_object_get (d, "name"),
                                                   "reason", json_object_get (d, "reason")));
    json_decref (refused);
    log_msg (LOG_INFO, "event=%s site=%s datasets=%zu skipped=%zu", pd->op, site->name,
             json_array_size (names), json_array_size (skipped));
    json_t *out = json_pack ("{s:o, s:o}", "datasets", names, "skipped", skipped);
    json_object_update_missing (out, m->body);  /* site.policy: policy, before, loosen */
    if (pd->token[0] && store_token_put (s->store, pd->token, pd->op, out, clock_wall (), &err) < 0)
        log_msg (LOG_ERR, "event=store.fail reason=\"%s\"", err.text);
    send_to (s, pd->rid, pd->ridlen, msg_reply (pd->op, pd->client_id, out));
}

static void pending_expire (struct sched *s, double now)
{
    for (int i = 0; i < PENDING_MAX; i++) {
        struct pending *pd = &s->pending[i];
        if (!pd->used)
            continue;
        struct site *site = registry_get (s->reg, pd->site, false);
        bool gone = !site || !site->up;
        if (gone || now - pd->started > pd->timeout) {
            /* Unreachable (75), as when a client hears nothing from a site itself. */
            pd->used = false;
            if (gone)
                send_to (s, pd->rid, pd->ridlen,
                         msg_error (pd->op, pd->client_id, FS_EUNREACH, "site '%s' went down "
                                    "before answering (see 'fedsched sites')", pd->site));
            else
                send_to (s, pd->rid, pd->ridlen,
                         msg_error (pd->op, pd->client_id, FS_EUNREACH, "site '%s' did not answer "
                                    "within %g s: it may be down, though not declared so yet "
                                    "(see 'fedsched sites'); try again later", pd->site,
                                    pd->timeout));
        }
    }
}

static int h_site_drain (struct sched *s, const struct msg *m, fs_error_t *err)
{
    const char *name, *reason;
    if (msg_get_str (m, "site", true, &name, err) < 0 || msg_get_str (m, "reason", false, &reason, err) < 0)
        return -1;
    if (s->cfg.security == SEC_CURVE && (!s->user || strcmp (s->user, "admin")))
        return errprintf (err, FS_EFAIL, "permission denied: operators only (%s needs a key "
                          "listed in the scheduler's keys/admin/)", m->op);
    struct site *site = registry_get (s->reg, name, false);
    if (!site)
        return errprintf (err, FS_EFAIL, "unknown site '%s'", name);
    bool drain = !strcmp (m->op, "site.drain");
    if (store_site_drain (s->store, name, drain, drain && reason ? reason : "", err) < 0)
        return -1;
    site->drained = drain;
    snprintf (site->reason, sizeof (site->reason), "%s", drain && reason ? reason : "");
    log_msg (LOG_INFO, "event=site.%s site=%s reason=\"%s\"", drain ? "drain" : "resume", name,
             site->reason);
    reply (s, m, NULL);
    return 0;
}

/* --- jobs ------------------------------------------------------------- */

static int reply_or_fail (struct sched *s, const struct msg *m, json_t *body)
{
    if (!body)
        return -1;
    reply (s, m, body);
    return 0;
}

/* A refused job file: the error reply carries every error (errors, taken),
 * not only the first kilobyte that fits in err. */
static int reply_job_errors (struct sched *s, const struct msg *m, char *errors,
                             const fs_error_t *err)
{
    if (!errors)
        return -1;
    send_to (s, s->rid, s->ridlen, msg_error (m->op, m->id, err->code, "%s", errors));
    free (errors);
    return 0;
}

static int job_text (const struct msg *m, const char **file, const char **text, fs_error_t *err)
{
    if (msg_get_str (m, "file", true, file, err) < 0 || msg_get_str (m, "text", true, text, err) < 0)
        return -1;
    if (strlen (*text) > (1 << 20))
        return errprintf (err, FS_EINVAL, "%s: the job file is larger than 1 MiB", *file);
    return 0;
}

static int h_job_validate (struct sched *s, const struct msg *m, fs_error_t *err)
{
    const char *file, *text;
    if (job_text (m, &file, &text, err) < 0)
        return -1;
    char *errors;
    json_t *r = jobs_validate (s->jobs, file, text, &errors, err);
    return r ? reply_or_fail (s, m, r) : reply_job_errors (s, m, errors, err);
}

/* Who to answer once a deferred submit is on disk. */
struct submit_ctx {
    unsigned char rid[256];
    size_t ridlen;
    char op[FS_OP_MAX];
    int64_t id;
};

static int h_job_submit (struct sched *s, const struct msg *m, fs_error_t *err)
{
    const char *file, *text, *token;
    if (job_text (m, &file, &text, err) < 0 || msg_token (m, &token, err) < 0)
        return -1;
    struct submit_ctx *c = calloc (1, sizeof (*c));
    if (!c)
        return errprintf (err, FS_EFAIL, "out of memory");
    memcpy (c->rid, s->rid, s->ridlen);
    c->ridlen = s->ridlen;
    snprintf (c->op, sizeof (c->op), "%s", m->op);
    c->id = m->id;
    char *errors;
    if (jobs_submit_defer (s->jobs, file, text, token, c, &errors, err) < 0) {
        free (c);
        return reply_job_errors (s, m, errors, err);
    }
    return 0;
}

static void submit_done (void *arg, void *ctx, json_t *body, const fs_error_t *err)
{
    struct sched *s = arg;
    struct submit_ctx *c = ctx;
    send_to (s, c->rid, c->ridlen,
             body ? msg_reply (c->op, c->id, body)
                  : msg_error (c->op, c->id, err->code ? err->code : FS_EFAIL, "%s", err->text));
    free (c);
}

static int h_job_list (struct sched *s, const struct msg *m, fs_error_t *err)
{
    json_t *all = json_object_get (m->body, "all");
    if (all && !json_is_boolean (all))
        return errprintf (err, FS_EINVAL, "job.list: field 'all' must be true or false");
    return reply_or_fail (s, m, jobs_list (s->jobs, json_is_true (all)));
}

static int h_job_status (struct sched *s, const struct msg *m, fs_error_t *err)
{
    int64_t id = 0;
    if (msg_get_int (m, "id", true, 1, INT64_MAX, &id, err) < 0)
        return -1;
    return reply_or_fail (s, m, jobs_status (s->jobs, id, err));
}

static int h_job_cancel (struct sched *s, const struct msg *m, fs_error_t *err)
{
    int64_t id = 0;
    const char *token;
    if (msg_get_int (m, "id", true, 1, INT64_MAX, &id, err) < 0 || msg_token (m, &token, err) < 0)
        return -1;
    int r = token_replay (s, m, token, err);
    if (r != 0)
        return r < 0 ? -1 : 0;
    return reply_or_fail (s, m, jobs_cancel (s->jobs, id, token, err));
}

static int h_job_logs (struct sched *s, const struct msg *m, fs_error_t *err)
{
    int64_t id = 0;
    const char *task;
    char sitename[64];
    json_t *fwd = NULL;
    if (msg_get_int (m, "id", true, 1, INT64_MAX, &id, err) < 0
        || msg_get_str (m, "task", true, &task, err) < 0
        || jobs_logs_site (s->jobs, id, task, sitename, sizeof (sitename), &fwd, err) < 0)
        return -1;
    struct site *site = registry_get (s->reg, sitename, false);
    if (!site || !site->up) {
        json_decref (fwd);
        return errprintf (err, FS_EUNREACH, "site '%s', which keeps the logs, is down", sitename);
    }
    struct pending *pd = pending_add (s, m, sitename);
    if (!pd) {
        json_decref (fwd);
        return errprintf (err, FS_EFAIL, "scheduler busy: too many requests in flight; retry");
    }
    pd->timeout = PENDING_LOGS_TIMEOUT;
    send_to (s, site->rid, site->ridlen, msg_request ("task.logs", pd->id, fwd));
    return 0;
}

static int h_links_list (struct sched *s, const struct msg *m, fs_error_t *err)
{
    return reply_or_fail (s, m, jobs_links (s->jobs));
}

/* A site's report on a task.  Reports queued while the scheduler was down
 * arrive before the site has said hello again: they are taken by the site
 * name they carry (attempt numbers still fence stale ones), so a task that
 * finished meanwhile is not run twice. */
static int h_task_update (struct sched *s, const struct msg *m, fs_error_t *err)
{
    struct site *site = registry_by_rid (s->reg, s->rid, s->ridlen);
    const char *name = site ? site->name : NULL;
    if (!name && msg_get_str (m, "site", false, &name, err) < 0)
        return -1;
    if (!name || ident_valid ("site", name, err) < 0)
        return errprintf (err, FS_EFAIL, "%s: unknown site: say hello first", m->op);
    if (!site && s->cfg.security == SEC_CURVE) {
        /* Taken by name: only from the key that site said hello with. */
        struct site *named = registry_get (s->reg, name, false);
        if (named && named->curve_key[0] && (!s->key || strcmp (named->curve_key, s->key)))
            return errprintf (err, FS_EFAIL, "permission denied: %s for site '%s' from another "
                              "key", m->op, name);
    }
    if (jobs_task_update (s->jobs, name, m->body, err) < 0)
        return -1;
    /* The site forgets a result once it has this answer: only once it is on disk. */
    reply_after_commit (s, m, NULL);
    return 0;
}

/* Send to a site by name (the job manager's way out). */
static int send_site (void *arg, const char *name, struct zmsg *m)
{
    struct sched *s = arg;
    struct site *site = registry_get (s->reg, name, false);
    if (!site || !site->up) {
        zmsg_destroy (&m);
        return -1;
    }
    send_to (s, site->rid, site->ridlen, m);
    return 0;
}

static int h_ping (struct sched *s, const struct msg *m, fs_error_t *err)
{
    reply (s, m, json_pack ("{s:i, s:s}", "proto", FS_PROTO_VERSION, "federation", s->cfg.name));
    return 0;
}

typedef int (*handler_f) (struct sched *s, const struct msg *m, fs_error_t *err);

static const struct {
    const char *op;
    handler_f fn;
} handlers[] = {
    { "site.hello", h_site_hello },
    { "site.heartbeat", h_site_heartbeat },
    { "catalog.register", h_catalog_register },
    { "sites.list", h_sites_list },
    { "sites.keys", h_sites_keys },
    { "catalog.list", h_catalog_list },
    { "catalog.lookup", h_catalog_lookup },
    { "catalog.search", h_catalog_search },
    { "catalog.info", h_catalog_info },
    { "catalog.publish", h_catalog_publish },
    { "catalog.policy", h_catalog_policy },
    { "site.drain", h_site_drain },
    { "site.resume", h_site_drain },
    { "job.validate", h_job_validate },
    { "job.submit", h_job_submit },
    { "job.list", h_job_list },
    { "job.status", h_job_status },
    { "job.cancel", h_job_cancel },
    { "job.logs", h_job_logs },
    { "links.list", h_links_list },
    { "task.update", h_task_update },
    { "app.check", h_app_check },
    { "app.publish", h_app_publish },
    { "app.list", h_app_list },
    { "ping", h_ping },
    { NULL, NULL },
};

static void dispatch (struct sched *s, struct zmsg *z)
{
    ssize_t n = zmsg_pop (z, s->rid, sizeof (s->rid));
    if (n <= 0 || (size_t)n > sizeof (s->rid))
        return;
    s->ridlen = (size_t)n;
    s->user = zmsg_user (z);
    s->key = zmsg_key (z);
    struct msg m;
    fs_error_t err = { 0 };
    if (msg_decode (z, 0, &m, &err) < 0) {
        log_msg (LOG_WARN, "event=bad_message op=%s reason=\"%s\"", m.op, err.text);
        if (!m.is_reply)
            reply_error (s, &m, &err);
        msg_release (&m);
        return;
    }
    if (m.is_reply) {
        on_site_reply (s, &m);
        msg_release (&m);
        return;
    }
    int i;
    for (i = 0; handlers[i].op; i++)
        if (!strcmp (handlers[i].op, m.op))
            break;
    if (!handlers[i].op)
        errprintf (&err, FS_EINVAL, "unknown request '%s'", m.op);
    if (!handlers[i].op || handlers[i].fn (s, &m, &err) < 0) {
        log_msg (LOG_DEBUG, "event=request.error op=%s reason=\"%s\"", m.op, err.text);
        reply_error (s, &m, &err);
    }
    msg_release (&m);
}

static int sched_run (struct sched *s)
{
    double last_check = 0;
    while (!sched_stop) {
        bool ready;
        int r = zsock_poll (&s->sock, 1, &ready, 250);
        if (r < 0 && errno != EINTR) {
            log_msg (LOG_ERR, "event=poll.fail errno=%d", errno);
            return 1;
        }
        /* Bounded batch per turn so timers still run under load. */
        for (int k = 0; ready && k < 256; k++) {
            struct zmsg *z = zsock_recv (s->sock, true);
            if (!z)
                break;
            dispatch (s, z);
            zmsg_destroy (&z);
        }
        /* Submits of this turn: one commit, then their answers. */
        jobs_submit_flush (s->jobs, submit_done, s);
        double now = clock_wall ();
        if (now - last_check >= 0.25) {
            last_check = now;
            registry_expire (s->reg, now, s->cfg.heartbeat_timeout);
            pending_expire (s, now);
        }
        jobs_tick (s->jobs, now);
        later_send (s);
        if (now - s->tokens_pruned > 3600) {
            /* Tokens are kept at least a day (docs/protocol.md): two. */
            fs_error_t err;
            s->tokens_pruned = now;
            if (store_tokens_prune (s->store, now - 2 * 86400, &err) < 0)
                log_msg (LOG_WARN, "event=store.fail reason=\"%s\"", err.text);
        }
    }
    return 0;
}

static const char usage_text[] =
    "usage: fedsched scheduler -c federation.yaml [-v]\n"
    "Run the federation's scheduler: site registry, catalog, placement.\n"
    "  -c, --config FILE   federation configuration (see docs/operator-guide.md)\n"
    "  -v, --verbose       log debug events\n";

int scheduler_main (int argc, char **argv)
{
    const char *cfgfile;
    int level, code;
    if (daemon_args (argc, argv, usage_text, &cfgfile, &level, &code) < 0)
        return code;
    log_init ("scheduler", level);
    static struct sched s;
    fs_error_t err = { 0 };
    struct errlist errs = ERRLIST_INIT;
    if (fed_config_load_all (cfgfile, &s.cfg, &errs) < 0) {     /* every error of the file */
        int ecode = errlist_print (&errs);
        errlist_clear (&errs);
        return ecode;
    }
    if (fed_config_check_keys (&s.cfg, &err) < 0) {
        fprintf (stderr, "fedsched: error: %s\n", err.text);
        return err.code ? err.code : 1;
    }
    s.store = store_open (s.cfg.state, &err);
    s.reg = registry_create ();
    if (s.store && (registry_load_known (&s, &err) < 0
                    || !(s.apps = apps_create (s.store, &err))
                    || !(s.jobs = jobs_create (s.store, s.reg, &s.cfg, send_site, &s, &err)))) {
        store_close (s.store);
        s.store = NULL;
    }
    if (s.jobs)
        jobs_set_apps (s.jobs, s.apps);
    struct zsock_opts zo = { .security = s.cfg.security, .keys = s.cfg.keys,
                             .key_name = "scheduler", .server = true,
                             .maxmsgsize = SCHED_MAXMSG };
    if (!s.store || !(s.sock = zsock_create (ZSOCK_ROUTER, &zo, &err))
        || zsock_bind (s.sock, s.cfg.listen, &err) < 0) {
        log_msg (LOG_ERR, "event=start.fail reason=\"%s\"", err.text);
        fprintf (stderr, "fedsched: error: %s\n", err.text);
        return 1;
    }
    signal (SIGPIPE, SIG_IGN);
    signal (SIGTERM, on_signal);
    signal (SIGINT, on_signal);
    log_msg (LOG_INFO, "event=start federation=%s listen=%s state=%s security=%s", s.cfg.name,
             zsock_endpoint (s.sock), s.cfg.state, s.cfg.security == SEC_CURVE ? "curve" : "none");
    int rc = sched_run (&s);
    log_msg (LOG_INFO, "event=stop");
    for (size_t i = 0; i < s.nlater; i++)
        zmsg_destroy (&s.later[i].m);
    free (s.later);
    zsock_destroy (s.sock);
    jobs_destroy (s.jobs);
    apps_destroy (s.apps);
    registry_destroy (s.reg);
    store_close (s.store);
    fed_config_free (&s.cfg);
    zsock_shutdown ();
    return rc;
}
