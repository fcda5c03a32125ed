/* worker.c - the site daemon: one event loop over three sockets.
 *
 *   sched  DEALER to the scheduler: hello, heartbeats, catalog registration,
 *          and the scheduler's requests to this site (site.publish).
 *   data   ROUTER where clients and other sites ask for slices.
 *   pull   PULL from the I/O pool: finished work, ready to send.
 *
 * HDF5 work (scans, reads) runs in the I/O pool; the loop only moves messages
 * and keeps the heartbeat going, so a long read never makes the site look dead.
 * While the pool is full the loop stops reading the data socket: requests wait
 * in ZeroMQ's queue, and memory stays bounded.
 */
#include <errno.h>
#include <signal.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "adapters/launch/launch.h"
#include "adapters/topo/topo.h"
#include "common/client.h"
#include "common/config.h"
#include "common/errlist.h"
#include "common/daemon.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/msg.h"
#include "common/zsock.h"
#include "appcache.h"
#include "appstore.h"
#include "dataserver.h"
#include "executor.h"
#include "holdings.h"
#include "iopool.h"
#include "meta.h"
#include "siteops.h"
#include "worker.h"
#include "common/clock.h"

#define IO_URI "inproc://fedsched-io"
#define DATA_MAXMSG (1 << 20)
#define SCHED_MAXMSG (16 << 20)
#define POOL_LIMIT 64
/* Staging threads wait on the network: enough that the inputs of several tasks
 * share a link at once (and a small one is not queued behind large ones). */
#define STAGE_THREADS 8

struct worker {
    struct site_config cfg;
    char curve_key[FS_Z85_KEY + 1];     /* public half of keys/site.key (CURVE) */
    fs_topo_t topo;
    int cores;
    struct holdings *holdings;
    struct appstore *apps;          /* the site's apps: policy, held bundles */
    struct appcache *appcache;      /*   and those unpacked for tasks */
    struct iopool *pool;            /* HDF5 reads for the data plane, scans */
    struct iopool *stage;           /* staging inputs and checking outputs of tasks */
    struct executor *exec;
    struct zsock *sched, *data, *pull;
    bool hello_ok;
    int64_t hello_id;               /* the last hello sent, and what it carried */
    unsigned hello_gen;
    double hello_sent, hb_sent, hb_interval;
    int hb_idle, hb_cores;          /* a batch site's idle and partition cores last sent */
    double last_data;               /* when the data port last had a request */
    double keys_asked;              /* last sites.keys request */
    bool trimmed;                   /* heap given back since then */
    int64_t next_id;
    json_t *ops_sent;               /* the operator keys the scheduler was told of */
};

static volatile sig_atomic_t worker_stop;

static void on_signal (int sig)
{
    (void)sig;
    worker_stop = 1;
}

static void to_sched (struct worker *w, struct zmsg *m)
{
    fs_error_t err;
    if (m && zsock_send (w->sched, &m, &err) < 0)
        log_msg (LOG_WARN, "event=send.fail to=scheduler reason=\"%s\"", err.text);
}

/* The hello carries the site's account of its tasks (executor_hello): the
 * scheduler reconciles its own with it, and takes the results it carries. */
static void send_hello (struct worker *w)
{
    unsigned gen;
    json_t *tasks = executor_hello (w->exec, &gen);
    json_t *body = json_pack ("{s:i, s:s, s:s, s:s, s:i, s:i, s:I, s:i, s:o}", "proto",
                              FS_PROTO_VERSION, "name", w->cfg.name, "region", w->cfg.region,
                              "data_uri", w->cfg.advertise, "cores", w->cores, "numa",
                              w->topo.numa_nodes, "memory", (json_int_t)w->topo.memory, "gpus",
                              w->topo.gpus, "tasks", tasks);
    if (w->curve_key[0])
        json_object_set_new (body, "curve_key", json_string (w->curve_key));
    json_object_set_new (body, "launcher", json_string (w->cfg.launcher));
    json_object_set_new (body, "apps", appstore_hello (w->apps));
    json_t *ops = siteops_operators (&w->cfg);
    if (ops) {
        json_decref (w->ops_sent);
        w->ops_sent = json_incref (ops);
        json_object_set_new (body, "operators", ops);
    }
    w->hello_id = ++w->next_id;
    w->hello_gen = gen;
    to_sched (w, msg_request ("site.hello", w->hello_id, body));
    w->hello_sent = clock_wall ();
}

/* A batch site (launcher: slurm): its partition's cores become the site's
 * (site.yaml cores: still caps them) once the batch system has said, and its
 * queue goes with each heartbeat: {pending, running, cores_idle, wait_s}, the
 * wait being the batch system's latest expected start of the jobs pending
 * ahead (null without an estimate).  NULL for other launchers, or before the
 * batch system has answered. */
static json_t *batch_queue (struct worker *w)
{
    struct launch_queue q;
    if (executor_queue (w->exec, &q) < 0 || !q.known)
        return NULL;
    int cores = w->cfg.cores > 0 && w->cfg.cores < q.cores ? w->cfg.cores : q.cores;
    if (cores > 0 && cores != w->cores) {
        log_msg (LOG_INFO, "event=cores.batch cores=%d partition_cores=%d was=%d", cores, q.cores,
                 w->cores);
        w->cores = cores;
    }
    json_t *wait = json_null ();
    double now = clock_wall ();
    if (q.pending == 0)
        wait = json_real (0);
    else if (q.last_start > now)
        wait = json_real (q.last_start - now < 7 * 86400.0 ? q.last_start - now : 7 * 86400.0);
    return json_pack ("{s:i, s:i, s:i, s:o, s:b, s:i}", "pending", q.pending, "running",
                      q.running, "cores_idle", q.cores_idle, "wait_s", wait, "reachable",
                      q.reachable, "partition_cores", q.cores);
}

static void send_heartbeat (struct worker *w, double now)
{
    w->hb_sent = now;
    int nrun = executor_running (w->exec);
    json_t *queue = batch_queue (w);
    int free_ = w->cores - executor_cores_used (w->exec);
    if (queue) {
        w->hb_idle = (int)json_integer_value (json_object_get (queue, "cores_idle"));
        w->hb_cores = (int)json_integer_value (json_object_get (queue, "partition_cores"));
        json_object_del (queue, "partition_cores");
        if (w->hb_idle < free_)
            free_ = w->hb_idle;
    }
    json_t *hb = json_pack ("{s:s, s:i, s:i, s:i}", "name", w->cfg.name, "cores_free",
                            free_ > 0 ? free_ : 0, "running", nrun, "cores", w->cores);
    if (queue)
        json_object_set_new (hb, "queue", queue);
    json_object_set_new (hb, "apps", appcache_digests (w->appcache));
    json_t *ops = siteops_operators_changed (&w->cfg, &w->ops_sent);
    if (ops)                        /* keys/admin/ changed: the scheduler's early check follows */
        json_object_set_new (hb, "operators", ops);
    to_sched (w, msg_request ("site.heartbeat", ++w->next_id, hb));
}

/* Registration in batches (meta_batch_end), so no message comes near the
 * scheduler's limit. */
static void send_register (struct zsock *out, bool via_pool, struct worker *w, json_t *datasets,
                           int64_t id_base)
{
    if (via_pool) {
        meta_register (out, w->cfg.name, datasets, id_base);
        return;
    }
    size_t i = 0;
    struct zmsg *m;
    while ((m = meta_register_next (w->cfg.name, datasets, &i, id_base)) != NULL)
        to_sched (w, m);
}

/* The executor's way to the scheduler. */
static int64_t exec_send (void *arg, const char *op, json_t *body)
{
    struct worker *w = arg;
    int64_t id = ++w->next_id;
    to_sched (w, msg_request (op, id, body));
    return id;
}

/* --- jobs run in the I/O pool ---------------------------------------- */

struct site_job {
    struct worker *w;
    struct msg m;           /* unused for the start-up scan */
};

static void scan_job (void *arg, struct zsock *out)
{
    struct site_job *j = arg;
    if (!out) {
        free (j);
        return;
    }
    json_t *datasets = json_array (), *skipped = json_array ();
    fs_error_t err;
    holdings_scan (j->w->holdings, datasets, skipped, &err);
    meta_attach (datasets);
    log_msg (LOG_INFO, "event=scan.done datasets=%zu skipped=%zu", json_array_size (datasets),
             json_array_size (skipped));
    send_register (out, true, j->w, datasets, 1000000);
    json_decref (datasets);
    json_decref (skipped);
    free (j);
}

/* site.app_store and site.probe (docs/protocol.md, "Apps"): disk work and
 * digests, in the pool. */
static void apps_job (void *arg, struct zsock *out)
{
    struct site_job *j = arg;
    if (!out) {
        msg_release (&j->m);
        free (j);
        return;
    }
    fs_error_t err = { 0 };
    json_t *body = !strcmp (j->m.op, "site.probe")
                       ? appstore_probe (json_object_get (j->m.body, "requires"), &err)
                       : appcache_store (j->w->appcache, j->m.body, &err);
    if (!body)
        log_msg (LOG_INFO, "event=%s.refused reason=\"%s\"", j->m.op, err.text);
    struct zmsg *reply = body ? msg_reply (j->m.op, j->m.id, body)
                              : msg_error (j->m.op, j->m.id, err.code, "%s", err.text);
    zmsg_insert (reply, 0, "S", 1);
    zsock_send (out, &reply, &err);
    msg_release (&j->m);
    free (j);
}

/* An upload piece of a bundle (app.put), in the pool: its own copy of the data. */
struct put_job {
    struct worker *w;
    unsigned char rid[256];
    size_t ridlen;
    struct msg m;
    void *data;
    size_t len;
};

static void put_job (void *arg, struct zsock *out)
{
    struct put_job *j = arg;
    if (out) {
        fs_error_t err = { 0 };
        json_t *body = appstore_put (j->w->apps, &j->m, j->data, j->len, &err);
        struct zmsg *reply = body ? msg_reply (j->m.op, j->m.id, body)
                                  : msg_error (j->m.op, j->m.id, err.code, "%s", err.text);
        if (reply && msg_route (reply, j->rid, j->ridlen) == 0) {
            zmsg_insert (reply, 0, "D", 1);
            zsock_send (out, &reply, &err);
        }
        zmsg_destroy (&reply);
    }
    msg_release (&j->m);
    free (j->data);
    free (j);
}

/* --- the event loop ---------------------------------------------------- */

static void on_sched (struct worker *w, struct zmsg *z)
{
    struct msg m;
    fs_error_t err = { 0 };
    if (msg_decode (z, 0, &m, &err) < 0) {
        log_msg (LOG_WARN, "event=bad_message from=scheduler reason=\"%s\"", err.text);
        msg_release (&m);
        return;
    }
    if (m.is_reply) {
        if (!strcmp (m.op, "task.update")) {
            /* Processed (applied, or fenced as stale): the result is delivered. */
            if (!m.ok)
                log_msg (LOG_WARN, "event=request.error op=%s reason=\"%s\"", m.op, m.errtext);
            executor_acked (w->exec, m.id);
        } else if (!strcmp (m.op, "site.hello")) {
            if (m.ok && m.id == w->hello_id)
                executor_hello_ok (w->exec, w->hello_gen);
            if (m.ok) {
                json_t *iv = json_object_get (m.body, "heartbeat_interval");
                if (json_is_number (iv) && json_number_value (iv) > 0.05)
                    w->hb_interval = json_number_value (iv);
                if (!w->hello_ok)
                    log_msg (LOG_INFO, "event=registered scheduler=%s heartbeat_s=%.2f",
                             w->cfg.scheduler, w->hb_interval);
                w->hello_ok = true;
                w->keys_asked = 0;          /* ask for the sites' keys now */
            } else {
                log_msg (LOG_ERR, "event=hello.refused reason=\"%s\"", m.errtext);
            }
        } else if (!m.ok && strstr (m.errtext, "say hello")) {
            /* The scheduler restarted or declared us down: introduce ourselves again. */
            if (w->hello_ok || clock_wall () - w->hello_sent > 1.0) {
                log_msg (LOG_WARN, "event=rehello reason=\"%s\"", m.errtext);
                w->hello_ok = false;
                send_hello (w);
                json_t *all = holdings_entries (w->holdings);
                send_register (NULL, false, w, all, 2000000);
                json_decref (all);
            }
        } else if (!m.ok) {
            log_msg (LOG_WARN, "event=request.error op=%s reason=\"%s\"", m.op, m.errtext);
        } else if (!strcmp (m.op, "sites.keys")) {
            dataserver_peers (json_object_get (m.body, "sites"));
        } else if (!strcmp (m.op, "catalog.register")) {
            size_t i;
            json_t *r;
            json_array_foreach (json_object_get (m.body, "refused"), i, r)
                log_msg (LOG_WARN, "event=register.refused dataset=%s reason=\"%s\"",
                         json_string_value (json_object_get (r, "name")),
                         json_string_value (json_object_get (r, "reason")));
        }
        msg_release (&m);
        return;
    }
    if (!strcmp (m.op, "task.start") || !strcmp (m.op, "task.kill") || !strcmp (m.op, "task.logs")) {
        json_t *body = NULL;
        int rc = -1;
        if (!strcmp (m.op, "task.start"))
            rc = executor_start (w->exec, &m, &err);
        else if (!strcmp (m.op, "task.kill"))
            rc = executor_kill (w->exec, m.body, &err);
        else
            rc = (body = executor_logs (w->exec, m.body, &err)) ? 0 : -1;
        to_sched (w, rc == 0 ? msg_reply (m.op, m.id, body)
                             : msg_error (m.op, m.id, err.code, "%s", err.text));
        msg_release (&m);
        return;
    }
    if (!strcmp (m.op, "site.app_store") || !strcmp (m.op, "site.probe")) {
        struct site_job *j = calloc (1, sizeof (*j));
        if (j) {
            j->w = w;
            j->m = m;
            iopool_submit (w->pool, apps_job, j);
            return;
        }
        errprintf (&err, FS_EFAIL, "out of memory");
    } else if (!strcmp (m.op, "site.publish") || !strcmp (m.op, "site.policy")) {
        struct siteop *j = calloc (1, sizeof (*j));
        if (j) {
            j->holdings = w->holdings;
            j->cfg = &w->cfg;
            j->m = m;
            iopool_submit (w->pool, siteops_job, j);
            return;
        }
        errprintf (&err, FS_EFAIL, "out of memory");
    } else {
        errprintf (&err, FS_EINVAL, "unknown request '%s'", m.op);
    }
    to_sched (w, msg_error (m.op, m.id, err.code, "%s", err.text));
    msg_release (&m);
}

static void on_data (struct worker *w, struct zmsg *z)
{
    struct data_req *r = calloc (1, sizeof (*r));
    fs_error_t err = { 0 };
    if (!r)
        return;
    ssize_t n = zmsg_pop (z, r->rid, sizeof (r->rid));
    if (n <= 0 || (size_t)n > sizeof (r->rid)) {
        free (r);
        return;
    }
    r->ridlen = (size_t)n;
    snprintf (r->key, sizeof (r->key), "%s", zmsg_key (z) ?: "");
    w->last_data = clock_wall ();
    w->trimmed = false;
    r->holdings = w->holdings;
    r->apps = w->apps;
    r->cfg = &w->cfg;
    if (msg_decode (z, 0, &r->m, &err) == 0 && !r->m.is_reply
        && (!strcmp (r->m.op, "data.open") || !strcmp (r->m.op, "data.piece"))) {
        iopool_submit (w->pool, dataserver_job, r);
        return;
    }
    size_t len = 0;
    const void *data = err.text[0] ? NULL : zmsg_data (z, 1, &len);
    struct put_job *pj = NULL;
    if (!err.text[0] && !r->m.is_reply && !strcmp (r->m.op, "app.put")
        && (pj = calloc (1, sizeof (*pj))) && (!len || (pj->data = malloc (len)))) {
        pj->w = w;
        memcpy (pj->rid, r->rid, r->ridlen);
        pj->ridlen = r->ridlen;
        pj->m = r->m;
        if (data && len)
            memcpy (pj->data, data, len);
        pj->len = data ? len : 0;
        free (r);
        iopool_submit (w->pool, put_job, pj);
        return;
    }
    free (pj);
    if (err.text[0] == '\0')
        errprintf (&err, FS_EINVAL, "unknown request '%s' (this is a site's data port)", r->m.op);
    log_msg (LOG_WARN, "event=bad_message from=data reason=\"%s\"", err.text);
    struct zmsg *e = msg_error (r->m.op, r->m.id, err.code, "%s", err.text);
    if (e && msg_route (e, r->rid, r->ridlen) == 0)
        zsock_send (w->data, &e, &err);
    zmsg_destroy (&e);
    msg_release (&r->m);
    free (r);
}

/* Finished work from the pool: frame 0 says where it goes. */
static void on_pull (struct worker *w, struct zmsg *z)
{
    char dest = 0;
    fs_error_t err;
    if (zmsg_pop (z, &dest, 1) != 1) {
        zmsg_destroy (&z);
        return;
    }
    struct zmsg *m = z;
    if (dest == 'X') {
        size_t len;
        const char *data = zmsg_data (z, 0, &len);
        if (data)
            executor_result (w->exec, data, len);
        zmsg_destroy (&z);
        return;
    }
    if (dest == 'D') {
        if (zsock_send (w->data, &m, &err) < 0)
            log_msg (LOG_DEBUG, "event=send.fail to=client reason=\"%s\"", err.text);
    } else {
        zsock_send (w->sched, &m, &err);
    }
}

static int worker_run (struct worker *w)
{
    double last_tick = 0;
    while (!worker_stop) {
        struct zsock *socks[3] = { w->sched, iopool_busy (w->pool) < POOL_LIMIT ? w->data : NULL,
                                   w->pull };
        bool ready[3];
        /* Running tasks are polled often, so their ends are seen at once. */
        int r = zsock_poll (socks, 3, ready, executor_cores_used (w->exec) > 0 ? 5 : 100);
        if (r < 0 && errno != EINTR) {
            log_msg (LOG_ERR, "event=poll.fail errno=%d", errno);
            return 1;
        }
        struct zmsg *z;
        for (int k = 0; ready[2] && k < 256 && (z = zsock_recv (w->pull, true)); k++) {
            on_pull (w, z);     /* takes z */
        }
        for (int k = 0; ready[0] && k < 64 && (z = zsock_recv (w->sched, true)); k++) {
            on_sched (w, z);
            zmsg_destroy (&z);
        }
        for (int k = 0; ready[1] && k < 64 && iopool_busy (w->pool) < POOL_LIMIT
                        && (z = zsock_recv (w->data, true)); k++) {
            on_data (w, z);
            zmsg_destroy (&z);
        }
        /* A batch site whose capacity changed (its node failed, say): the
         * scheduler hears it before the ends of tasks that came with it, so a
         * task placed again does not go back to the cores that are gone. */
        struct launch_queue bq;
        if (w->hello_ok && executor_queue (w->exec, &bq) == 0 && bq.known
            && (bq.cores_idle != w->hb_idle || bq.cores != w->hb_cores))
            send_heartbeat (w, clock_wall ());
        executor_tick (w->exec);
        double now = clock_wall ();
        if (now - last_tick < 0.05)
            continue;
        last_tick = now;
        if (!w->hello_ok && now - w->hello_sent > 3.0)
            send_hello (w);
        /* The heap keeps freed pieces for the next transfer (see main()):
         * give them back once the data port has been quiet for 5 s. */
        if (!w->trimmed && now - w->last_data > 5.0) {
            malloc_trim (0);
            w->trimmed = true;
        }
        /* With CURVE, the sites' keys (see dataserver_peers): after the hello,
         * when a request named a site not known yet, and every 30 s. */
        if (w->hello_ok && w->cfg.security == SEC_CURVE
            && (now - w->keys_asked >= 30.0 || (dataserver_peers_wanted () && now - w->keys_asked >= 1.0))) {
            w->keys_asked = now;
            to_sched (w, msg_request ("sites.keys", ++w->next_id, NULL));
        }
        if (w->hello_ok && now - w->hb_sent >= w->hb_interval)
            send_heartbeat (w, now);
    }
    return 0;
}

static const char usage_text[] =
    "usage: fedsched worker -c site.yaml [-v]\n"
    "Run a site's worker: resources, data roots, data plane.\n"
    "  -c, --config FILE   site configuration (see docs/operator-guide.md)\n"
    "  -v, --verbose       log debug events\n";

int worker_main (int argc, char **argv)
{
    const char *cfgfile;
    int level, code;
    if (daemon_args (argc, argv, usage_text, &cfgfile, &level, &code) < 0)
        return code;
    static struct worker w;
    fs_error_t err = { 0 };
    struct errlist errs = ERRLIST_INIT;
    if (site_config_load_all (cfgfile, &w.cfg, &errs) < 0) {     /* every error of the file */
        int ecode = errlist_print (&errs);
        errlist_clear (&errs);
        return ecode;
    }
    if (site_config_check_keys (&w.cfg, &err) < 0) {
        fprintf (stderr, "fedsched: error: %s\n", err.text);
        return err.code ? err.code : 1;
    }
    char ident[80];
    snprintf (ident, sizeof (ident), "worker site=%s", w.cfg.name);
    log_init (ident, level);
    format_init ();
    if (topo_discover (&w.topo, &err) < 0) {
        log_msg (LOG_WARN, "event=topology.fail reason=\"%s\"", err.text);
        w.topo.cores = (int)sysconf (_SC_NPROCESSORS_ONLN);
    }
    w.cores = w.cfg.cores > 0 ? w.cfg.cores : w.topo.cores;
    w.hb_interval = w.cfg.heartbeat_interval > 0 ? w.cfg.heartbeat_interval : 2.0;
    mkdir (w.cfg.state_dir, 0755);
    if (!(w.apps = appstore_create (&w.cfg, &err))
        || !(w.appcache = appcache_create (&w.cfg, w.apps, &err))) {
        log_msg (LOG_ERR, "event=start.fail reason=\"%s\"", err.text);
        fprintf (stderr, "fedsched: error: %s\n", err.text);
        return 1;
    }
    if (!(w.holdings = holdings_create (&w.cfg, &err))) {
        fprintf (stderr, "fedsched: error: %s\n", err.text);
        return err.code ? err.code : 1;
    }
    if (w.cfg.security == SEC_CURVE) {
        char path[PATH_MAX + 16];
        snprintf (path, sizeof (path), "%s/site.key", w.cfg.keys);
        if (keys_read (path, w.curve_key, NULL, &err) < 0) {
            fprintf (stderr, "fedsched: error: %s\n", err.text);
            return 1;
        }
    }
    /* Staging inputs from other sites: as this site, with its own key. */
    client_identity (w.cfg.security, w.cfg.keys, "site");
    struct zsock_opts so = { .security = w.cfg.security, .keys = w.cfg.keys, .key_name = "site",
                             .maxmsgsize = SCHED_MAXMSG };
    struct zsock_opts dopts = { .security = w.cfg.security, .keys = w.cfg.keys, .key_name = "site",
                                .server = true,
                                .maxmsgsize = DATA_MAXMSG };
    if (!w.holdings || !(w.pull = zsock_create (ZSOCK_PULL, NULL, &err))
        || zsock_bind (w.pull, IO_URI, &err) < 0
        || !(w.sched = zsock_create (ZSOCK_DEALER, &so, &err))
        || zsock_connect (w.sched, w.cfg.scheduler, &err) < 0
        || !(w.data = zsock_create (ZSOCK_ROUTER, &dopts, &err))
        || zsock_bind (w.data, w.cfg.listen, &err) < 0
        || !(w.pool = iopool_create (w.cfg.io_threads > 0 ? w.cfg.io_threads : 2, IO_URI, &err))
        || !(w.stage = iopool_create (STAGE_THREADS, IO_URI, &err))
        || !(w.exec = executor_create (&w.cfg, w.cores, w.topo.cores, w.holdings, w.stage, exec_send, &w))) {
        log_msg (LOG_ERR, "event=start.fail reason=\"%s\"", err.text);
        fprintf (stderr, "fedsched: error: %s\n", err.text);
        return 1;
    }
    executor_set_apps (w.exec, w.apps, w.appcache);
    signal (SIGPIPE, SIG_IGN);
    signal (SIGTERM, on_signal);
    signal (SIGINT, on_signal);
    log_msg (LOG_INFO,
             "event=start site=%s region=%s cores=%d discovered_cores=%d pus=%d numa=%d "
             "memory=%llu gpus=%d data=%s scheduler=%s roots=%d",
             w.cfg.name, w.cfg.region, w.cores, w.topo.cores, w.topo.pus, w.topo.numa_nodes,
             (unsigned long long)w.topo.memory, w.topo.gpus, zsock_endpoint (w.data),
             w.cfg.scheduler, w.cfg.nroots);
    send_hello (&w);
    struct site_job *j = calloc (1, sizeof (*j));
    j->w = &w;
    iopool_submit (w.pool, scan_job, j);
    int rc = worker_run (&w);
    log_msg (LOG_INFO, "event=stop");
    executor_destroy (w.exec);
    iopool_destroy (w.stage);
    iopool_destroy (w.pool);
    zsock_destroy (w.data);
    zsock_destroy (w.sched);
    zsock_destroy (w.pull);
    holdings_destroy (w.holdings);
    appcache_destroy (w.appcache);
    appstore_destroy (w.apps);
    zsock_shutdown ();
    return rc;
}
