/* fetch.c - streaming a slice from a site (see fetch.h, docs/protocol.md). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "adapters/format/format.h"
#include "common/checksum.h"
#include "common/dtype.h"
#include "common/log.h"
#include "common/msg.h"
#include "common/plan.h"
#include "fetch.h"
#include "filemap.h"
#include "flow.h"
#include "common/clock.h"

#define FETCH_SLOTS 64              /* requests in flight at most */
#define FETCH_TRIES 3
#define FETCH_MAXPIECE (64u << 20)  /* what a site accepts at most (and the env) */

/* One data.piece request in flight: piece `index` of the plan of max_bytes
 * plan_bytes, covering bytes [off, off + len) of the result. */
struct req {
    bool used;
    int stream;
    uint64_t plan_bytes;
    uint64_t index;
    uint64_t off, len;
    int64_t id;                 /* of the last send: answers to earlier ones are stale */
    int tries;                  /* damaged arrivals */
};

/* Bytes [lo, hi) of the result not asked for yet; both are boundaries of the
 * plan of plan_bytes (always a way to ask for them). */
struct range {
    uint64_t lo, hi, plan_bytes;
};

/* One connection to the site: its own TCP stream. */
struct stream {
    struct client *c;
    uint64_t inflight;          /* bytes asked for on it, not arrived */
    int nreq;
    double quiet;               /* since when it has owed an answer without one */
};

struct fetchx {
    json_t *base;               /* name, sel, reduce, ... (piece_bytes, index per request) */
    const char *uri;            /* the replica's data port */
    int n;                      /* the result: rank, shape, element size */
    uint64_t shape[FS_MAXDIMS];
    size_t elsize;
    fs_plan_t cur;              /* the plan of the last request (of cur_bytes) */
    uint64_t cur_bytes;
    struct range todo[FETCH_SLOTS + 1];     /* by offset; the last one runs to the end */
    int ntodo;
    struct req req[FETCH_SLOTS];
    struct stream st[FLOW_STREAMS_MAX];
    int nstreams;
    /* Flow control (flow.h): fixed by FEDSCHED_PIECE_BYTES/_WINDOW_BYTES, else
     * following the rate, as configured (rate0) and then measured (meter). */
    bool fixed_piece, fixed_window;
    uint64_t floor, window;
    double rate0, rtt;
    struct flow_meter meter;
    struct flow_member *member;     /* its share of the link (flow.h) */
    bool waiting;                   /* refused by the link's window: ask again soon */
    int64_t next_id;
    uint64_t pieces, bytes, total;
    uint64_t min_piece, max_piece;  /* sizes asked for (for the log) */
    uint64_t suppressed;        /* blocks the site suppressed, over the pieces landed */
    int stalls;
    int max_sharing;            /* the most transfers on the link while it ran */
    double t0, t_first;         /* data.open sent; the first piece arrived */
    bool log;                   /* staging: stalls and the summary in the site's log */
    fetch_progress_f progress;
    void *progress_arg;
    /* Local reads: the site's file (lfd, as opened here), the output file and
     * where its dataset's elements start. */
    struct format_out *out;
    bool local;
    int lfd, ofd;
    struct file_ident lid;
    uint64_t obase, local_bytes;
    bool raw;                   /* a bundle (fetch_bundle): the bytes go to ofd as they are */
    unsigned char *mem;         /* into memory instead (fetch_slice_mem): the caller's buffer */
};

/* Read once: a process does not change host, and the site asks on every piece. */
static char host_id[FETCH_HOST_MAX];
static pthread_once_t host_once = PTHREAD_ONCE_INIT;

static void host_id_read (void)
{
    char boot[64] = "";
    FILE *f = fopen ("/proc/sys/kernel/random/boot_id", "r");
    if (!f)
        return;
    bool ok = fgets (boot, sizeof (boot), f) != NULL;
    fclose (f);
    boot[strcspn (boot, "\n")] = '\0';
    struct stat ns;
    if (!ok || !boot[0] || stat ("/proc/self/ns/net", &ns) < 0)
        return;
    int n = snprintf (host_id, sizeof (host_id), "%s/%llu", boot, (unsigned long long)ns.st_ino);
    if (n < 0 || (size_t)n >= sizeof (host_id))
        host_id[0] = '\0';
}

int fetch_host_id (char *buf, size_t len)
{
    pthread_once (&host_once, host_id_read);
    if (!host_id[0] || strlen (host_id) >= len)
        return -1;
    memcpy (buf, host_id, strlen (host_id) + 1);
    return 0;
}

/* Copy len bytes of in at ioff to out at ooff; 0 when all arrived. */
static int copy_run (int in, uint64_t ioff, int out, uint64_t ooff, uint64_t len)
{
    enum { BUF = 1 << 20 };
    char *buf = NULL;           /* set when copy_file_range refused: read and write */
    int rc = 0;
    while (len > 0 && rc == 0) {
        size_t want = len < (1u << 30) ? (size_t)len : (1u << 30);
        ssize_t n;
        if (!buf) {
            loff_t a = (loff_t)ioff, b = (loff_t)ooff;
            n = copy_file_range (in, &a, out, &b, want, 0);
            if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS
                          || errno == EOPNOTSUPP || errno == EBADF)) {
                if (!(buf = malloc (BUF)))
                    return -1;
                continue;
            }
        } else {
            n = pread (in, buf, want < BUF ? want : BUF, (off_t)ioff);
            if (n > 0 && pwrite (out, buf, (size_t)n, (off_t)ooff) != n)
                n = -1;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)                 /* an error, or the file ends early */
            rc = -1;
        else {
            ioff += (uint64_t)n;
            ooff += (uint64_t)n;
            len -= (uint64_t)n;
        }
    }
    free (buf);
    return rc;
}

/* Read len bytes of in at ioff into dst; 0 when all arrived. */
static int read_run (int in, uint64_t ioff, unsigned char *dst, uint64_t len)
{
    while (len > 0) {
        ssize_t n = pread (in, dst, len < (1u << 30) ? (size_t)len : (1u << 30), (off_t)ioff);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        ioff += (uint64_t)n;
        dst += n;
        len -= (uint64_t)n;
    }
    return 0;
}

struct extent {
    uint64_t offset;
    struct file_ident id;
};

static int extent_parse (const json_t *e, struct extent *x)
{
    json_t *v[5] = { json_object_get (e, "offset"), json_object_get (e, "dev"),
                     json_object_get (e, "ino"), json_object_get (e, "size"),
                     json_object_get (e, "mtime_ns") };
    uint64_t *out[5] = { &x->offset, &x->id.dev, &x->id.ino, &x->id.size, &x->id.mtime_ns };
    for (int i = 0; i < 5; i++) {
        if (!json_is_integer (v[i]) || json_integer_value (v[i]) < 0)
            return -1;
        *out[i] = (uint64_t)json_integer_value (v[i]);
    }
    return 0;
}

/* A piece the site answered with where it lies: copied here, when the file
 * this process opened is the one the site reads.  1 when it landed. */
static int local_copy (struct fetchx *g, const struct req *q, const struct extent *x)
{
    if (!g->local || !file_ident_same (&x->id, &g->lid) || x->offset > x->id.size
        || q->len > x->id.size - x->offset)
        return 0;
    if (g->mem)
        return read_run (g->lfd, x->offset, g->mem + q->off, q->len) == 0;
    return copy_run (g->lfd, x->offset, g->ofd, g->obase + q->off, q->len) == 0;
}

/* --- the plans of the requests ------------------------------------------- */

/* The plan of max_bytes pb (the last one is kept: most requests share it). */
static const fs_plan_t *plan_of (struct fetchx *g, uint64_t pb, fs_plan_t *tmp)
{
    if (pb == g->cur_bytes)
        return &g->cur;
    plan_init (tmp, g->n, g->shape, g->elsize, pb);
    return tmp;
}

/* The transfer's rate as far as it is known: measured, else the estimate it
 * started with (the link's rate, shared). */
static double rate_now (const struct fetchx *g)
{
    return g->meter.rate > 0 ? g->meter.rate : g->rate0;
}

/* The piece size for now: FLOW_PIECE_TIME on one stream. */
static uint64_t piece_target (const struct fetchx *g)
{
    return flow_piece_target (rate_now (g) / g->nstreams, g->floor);
}

/* The plan for the next piece of range r: the current one while it fits the
 * range and its pieces stay within a factor 2 of the target size, else one
 * fitted to the range (plan_fit), else the range's own. */
static uint64_t plan_for (struct fetchx *g, const struct range *r)
{
    if (g->fixed_piece)
        return r->plan_bytes;
    uint64_t target = piece_target (g);
    uint64_t i;
    if (g->cur_bytes && plan_index_at (&g->cur, r->lo, &i) == 0
        && plan_index_at (&g->cur, r->hi, &i) == 0) {
        uint64_t piece = g->cur.npieces ? plan_piece_bytes (&g->cur, 0) : 0;
        if (piece <= 2 * target && 2 * piece >= target)
            return g->cur_bytes;
    }
    uint64_t pb = plan_fit (g->n, g->shape, g->elsize, r->lo, r->hi, target, g->floor);
    return pb ? pb : r->plan_bytes;
}

/* --- requests ---------------------------------------------------------- */

static int send_req (struct fetchx *g, struct req *q, fs_error_t *err)
{
    json_t *body = json_deep_copy (g->base);
    json_object_set_new (body, "piece_bytes", json_integer ((json_int_t)q->plan_bytes));
    json_object_set_new (body, "index", json_integer ((json_int_t)q->index));
    q->id = ++g->next_id;
    return client_send (g->st[q->stream].c, "data.piece", q->id, body, err);
}

static uint64_t inflight (const struct fetchx *g)
{
    uint64_t b = 0;
    for (int s = 0; s < g->nstreams; s++)
        b += g->st[s].inflight;
    return b;
}

static void range_drop_first (struct fetchx *g)
{
    memmove (&g->todo[0], &g->todo[1], (size_t)(g->ntodo - 1) * sizeof (g->todo[0]));
    g->ntodo--;
}

/* Put back bytes [lo, hi) of plan pb to be asked for again, in offset order. */
static void range_put (struct fetchx *g, uint64_t lo, uint64_t hi, uint64_t pb)
{
    int i = 0;
    while (i < g->ntodo && g->todo[i].lo < lo)
        i++;
    if (g->ntodo >= (int)(sizeof (g->todo) / sizeof (g->todo[0])))
        return;                 /* cannot happen: one per request, and the tail */
    memmove (&g->todo[i + 1], &g->todo[i], (size_t)(g->ntodo - i) * sizeof (g->todo[0]));
    g->todo[i] = (struct range){ lo, hi, pb };
    g->ntodo++;
}

/* Ask for more while the window has room: the parts put back first, then the
 * rest, each piece on the stream with the least in flight. */
static int fill (struct fetchx *g, double now, fs_error_t *err)
{
    flow_report (g->member, g->meter.rate, g->rtt, piece_target (g), g->nstreams);
    int n = flow_link_sharing (g->member);
    if (n > g->max_sharing)
        g->max_sharing = n;
    if (!g->fixed_window && !(g->window = flow_link_window (g->member)))
        g->window = flow_window (rate_now (g), g->rtt, piece_target (g), g->nstreams);
    g->waiting = false;
    while (g->ntodo > 0) {
        uint64_t busy = inflight (g);
        int slot = -1;
        for (int i = 0; i < FETCH_SLOTS && slot < 0; i++)
            if (!g->req[i].used)
                slot = i;
        if (slot < 0 || (busy > 0 && busy >= g->window)) {
            flow_idle (g->member);
            return 0;
        }
        struct range *r = &g->todo[0];
        uint64_t pb = plan_for (g, r), index;
        fs_plan_t tmp;
        const fs_plan_t *p = plan_of (g, pb, &tmp);
        if (plan_index_at (p, r->lo, &index) < 0) {     /* cannot happen: plan_for's rule */
            pb = r->plan_bytes;
            p = plan_of (g, pb, &tmp);
            if (plan_index_at (p, r->lo, &index) < 0)
                return errprintf (err, FS_EFAIL, "internal: no piece starts at byte %" PRIu64, r->lo);
        }
        if (p == &tmp) {
            g->cur = tmp;
            g->cur_bytes = pb;
        }
        uint64_t len = plan_piece_bytes (&g->cur, index);
        if (!g->fixed_window && !flow_take (g->member, len)) {
            g->waiting = true;          /* another transfer's turn */
            return 0;
        }
        int s = 0;
        for (int k = 1; k < g->nstreams; k++)
            if (g->st[k].inflight < g->st[s].inflight)
                s = k;
        struct req *q = &g->req[slot];
        *q = (struct req){ true, s, pb, index, r->lo, len, 0, 0 };
        if (send_req (g, q, err) < 0)
            return -1;
        if (g->st[s].nreq++ == 0)
            g->st[s].quiet = now;
        g->st[s].inflight += len;
        if (len < g->min_piece || !g->min_piece)
            g->min_piece = len;
        if (len > g->max_piece)
            g->max_piece = len;
        r->lo += len;
        if (r->lo >= r->hi)
            range_drop_first (g);
    }
    return 0;
}

static void req_done (struct fetchx *g, struct req *q)
{
    struct stream *st = &g->st[q->stream];
    st->inflight -= q->len;
    st->nreq--;
    q->used = false;
    if (!g->fixed_window)
        flow_give (g->member, q->len);
}

static int piece_landed (struct fetchx *g, struct req *q, double now, uint64_t local)
{
    if (g->pieces++ == 0)
        g->t_first = now;
    g->bytes += q->len;
    g->local_bytes += local;
    flow_meter_add (&g->meter, now, q->len);
    req_done (g, q);
    if (g->progress)
        g->progress (g->progress_arg, g->bytes, g->total);
    return 1;
}

/* Take one answer from stream s: check it, write it at its place.  1 when a
 * piece landed, 0 for a stale or resent one, -1 on an error. */
static int take_piece (struct fetchx *g, int s, struct zmsg *z, double now, fs_error_t *err)
{
    struct msg m;
    if (msg_decode (z, 0, &m, err) < 0) {
        msg_release (&m);
        return errprintf (err, FS_EFAIL, "site sent a malformed message: %s", err->text);
    }
    struct req *q = NULL;
    for (int i = 0; i < FETCH_SLOTS && !q; i++)
        if (g->req[i].used && g->req[i].id == m.id && g->req[i].stream == s)
            q = &g->req[i];
    if (!q || strcmp (m.op, "data.piece")) {      /* an answer to an earlier request */
        msg_release (&m);
        return 0;
    }
    if (!m.ok) {
        errprintf (err, m.errcode ? m.errcode : FS_EFAIL, "%s", m.errtext);
        msg_release (&m);
        return -1;
    }
    json_t *ji = json_object_get (m.body, "index");
    json_t *jext = json_object_get (m.body, "extent");
    struct extent ext;
    bool has_ext = jext && extent_parse (jext, &ext) == 0;
    char sum[20] = "";
    json_int_t nsup = json_integer_value (json_object_get (m.body, "suppressed"));
    const char *jsum = json_string_value (json_object_get (m.body, "xxh3"));
    if (jsum)
        snprintf (sum, sizeof (sum), "%s", jsum);
    bool same = json_is_integer (ji) && (uint64_t)json_integer_value (ji) == q->index;
    msg_release (&m);
    if (jext && same) {
        if (!has_ext || local_copy (g, q, &ext) != 1) {
            /* The file is not ours to copy: every piece from now on is streamed. */
            g->local = false;
            json_object_del (g->base, "local");
            return send_req (g, q, err) < 0 ? -1 : 0;
        }
        return piece_landed (g, q, now, q->len);
    }
    size_t len;
    const void *data = zmsg_data (z, 1, &len);
    char want[20];
    if (data)
        snprintf (want, sizeof (want), "%016" PRIx64, checksum (data, len));
    if (!same || !data || len != q->len || strcmp (sum, want)) {
        if (++q->tries > FETCH_TRIES)
            return errprintf (err, FS_EFAIL, "piece %" PRIu64 " arrived damaged %d times; giving up",
                              q->index, FETCH_TRIES);
        return send_req (g, q, err) < 0 ? -1 : 0;
    }
    uint64_t off[FS_MAXDIMS], cnt[FS_MAXDIMS];
    fs_plan_t tmp;
    plan_piece (plan_of (g, q->plan_bytes, &tmp), q->index, off, cnt);
    if (g->mem) {
        memcpy (g->mem + q->off, data, len);
    } else if (g->raw) {
        if (pwrite (g->ofd, data, len, (off_t)q->off) != (ssize_t)len)
            return errprintf (err, FS_EFAIL, "cannot write a piece: %s", strerror (errno));
    } else if (format_out_write (g->out, off, cnt, data, err) < 0) {
        return -1;
    }
    g->suppressed += nsup > 0 ? (uint64_t)nsup : 0;
    return piece_landed (g, q, now, 0);
}

/* Stream s owes answers and has sent nothing for a while: a fresh connection,
 * and what it owed asked for again (sized anew: a link that delivered nothing
 * in that time is slower than the pieces assumed).  The transfer resumes from
 * the pieces that arrived. */
static int stall (struct fetchx *g, int s, double now, fs_error_t *err)
{
    struct stream *st = &g->st[s];
    double quiet = now - st->quiet;
    /* Nothing of st->inflight bytes arrived in `quiet` s: its rate was below
     * that, the transfer's below nstreams times that; size for half of it. */
    double bound = (double)st->inflight / quiet * g->nstreams;
    double r = rate_now (g);
    g->meter.rate = (bound < r ? bound : r) / 2;
    g->meter.since = -1;
    g->meter.bytes = 0;
    g->stalls++;
    if (g->log)
        log_msg (LOG_INFO, "event=fetch.stall name=%s from=%s stream=%d quiet_s=%.1f owed_bytes=%" PRIu64
             " arrived=%" PRIu64 "/%" PRIu64, json_string_value (json_object_get (g->base, "name")),
             g->uri, s, quiet, st->inflight, g->bytes, g->total);
    if (client_reconnect (st->c, err) < 0)
        return -1;
    for (int i = 0; i < FETCH_SLOTS; i++) {
        struct req *q = &g->req[i];
        if (q->used && q->stream == s) {
            range_put (g, q->off, q->off + q->len, q->plan_bytes);
            req_done (g, q);
        }
    }
    return 0;
}

static int stream (struct fetchx *g, fs_error_t *err)
{
    double timeout = client_timeout_of (g->st[0].c);
    /* A stream that owes pieces and sends nothing for half the timeout is
     * reconnected (see stall()); the transfer gives up when no stream has sent
     * anything for the whole timeout.  Pieces take FLOW_PIECE_TIME at the
     * transfer's rate, so a slow link is far from either. */
    double stall_s = timeout / 2 > 1.0 ? timeout / 2 : 1.0;
    double last = clock_mono ();
    struct client *cs[FLOW_STREAMS_MAX];
    while (g->bytes < g->total) {
        double now = clock_mono ();
        if (fill (g, now, err) < 0)
            return -1;
        for (int s = 0; s < g->nstreams; s++)
            cs[s] = g->st[s].c;
        bool ready[FLOW_STREAMS_MAX];
        /* Refused by the link's window: ask again soon, it frees as any
         * transfer's piece arrives. */
        int r = client_poll (cs, g->nstreams, ready, g->waiting ? 5 : 100);
        now = clock_mono ();
        bool owed = false;
        for (int s = 0; s < g->nstreams; s++)
            owed = owed || g->st[s].nreq > 0;
        if (!owed)
            last = now;         /* waiting for its turn is not the site's silence */
        for (int s = 0; r > 0 && s < g->nstreams; s++) {
            struct zmsg *z;
            for (int k = 0; ready[s] && k < 64 && (z = client_recv (g->st[s].c, 0)); k++) {
                last = now;
                g->st[s].quiet = now;
                int rc = take_piece (g, s, z, now, err);
                zmsg_destroy (&z);
                if (rc < 0)
                    return -1;
            }
        }
        if (now - last >= timeout)
            return errprintf (err, FS_EUNREACH, "the site's data port %s sent nothing for %g s; "
                              "%" PRIu64 " of %" PRIu64 " bytes arrived", g->uri ? g->uri : "?",
                              timeout, g->bytes, g->total);
        for (int s = 0; s < g->nstreams; s++)
            if (g->st[s].nreq > 0 && now - g->st[s].quiet >= stall_s && stall (g, s, now, err) < 0)
                return -1;
    }
    return 0;
}

/* data.open at one replica: the result's shape and type, or an error. */
static json_t *open_at (struct fetchx *g, const struct client_opts *co, const char *site,
                        const char *uri, const char *key, fs_error_t *err)
{
    struct client_opts o = { 0 };
    if (co)
        o = *co;
    o.serverkey = key ? key : "";       /* the site's own key, from the scheduler */
    o.site = site;                      /* named in messages */
    g->st[0].c = client_create (&o, uri, err);
    if (!g->st[0].c)
        return NULL;
    json_t *h = client_call (g->st[0].c, "data.open", json_deep_copy (g->base), err);
    if (!h) {
        client_destroy (g->st[0].c);
        g->st[0].c = NULL;
    }
    return h;
}

/* A size from the environment (FEDSCHED_PIECE_BYTES, ..._WINDOW_BYTES), for
 * experiments: 0 when unset or out of lo..hi. */
static uint64_t env_bytes (const char *name, uint64_t lo, uint64_t hi)
{
    const char *e = getenv (name);
    char *end;
    unsigned long long v = e ? strtoull (e, &end, 10) : 0;
    return e && end != e && v >= lo && v <= hi ? (uint64_t)v : 0;
}

/* The link to the replica (bandwidth bytes/s, latency s, from task.start's
 * replicas; 0 unknown), shared with `sharing` transfers: the first estimate of
 * the transfer's rate and round trip, and its streams. */
static void flow_setup (struct fetchx *g, double bw, double lat, int sharing)
{
    g->rate0 = (bw > 0 ? bw : FLOW_RATE_UNKNOWN) / (sharing > 0 ? sharing : 1);
    g->rtt = lat > 0 ? 2 * lat : 0;
    g->nstreams = flow_streams (bw, g->rtt, flow_stream_window (), sharing);
    uint64_t ns = env_bytes ("FEDSCHED_STREAMS", 1, FLOW_STREAMS_MAX);
    if (ns)
        g->nstreams = (int)ns;
    flow_meter_init (&g->meter);
}

/* The transfer that base (stolen: what data.open and data.piece name) asks
 * for: into mem (mem_size bytes of mem_dt, the caller's) when mem_size >= 0,
 * else into out_file: an HDF5 dataset out_dset, or, when out_dset is NULL, the
 * bytes as they are (a bundle). */
static int fetch_into (const struct client_opts *co, json_t *base, const char *name,
                       const json_t *replicas, const char *out_file, const char *out_dset,
                       void *mem, int64_t mem_size, fs_dtype_t mem_dt,
                       fetch_progress_f progress, void *arg, struct fetch_result *res,
                       fs_error_t *err)
{
    struct fetchx g;
    memset (&g, 0, sizeof (g));
    memset (res, 0, sizeof (*res));
    g.lfd = g.ofd = -1;
    g.progress = progress;
    g.progress_arg = arg;
    g.nstreams = 1;
    g.log = co && co->reader_site;
    /* FEDSCHED_PIECE_BYTES: one piece size for the whole transfer, for experiments. */
    uint64_t fixed = env_bytes ("FEDSCHED_PIECE_BYTES", FLOW_PIECE_MIN_OLD, FETCH_MAXPIECE);
    g.base = base;
    char host[FETCH_HOST_MAX];
    if (co && co->local_reads && fetch_host_id (host, sizeof (host)) == 0)
        json_object_set_new (g.base, "host", json_string (host));
    if (co && co->reader_site)
        json_object_set_new (g.base, "reader", json_pack ("{s:s, s:s}", "site", co->reader_site,
                                                         "region", co->reader_region ? co->reader_region : ""));
    double t0 = g.t0 = clock_mono ();
    json_t *h = NULL;
    size_t i;
    json_t *rep;
    int sharing = 0;
    double topen = 0;
    fs_error_t last = { .code = FS_EUNREACH };
    snprintf (last.text, sizeof (last.text), "every site holding '%s' is down", name);
    json_array_foreach (replicas, i, rep) {
        const char *state = json_string_value (json_object_get (rep, "state"));
        const char *uri = json_string_value (json_object_get (rep, "uri"));
        if (!uri || (state && !strcmp (state, "down")))
            continue;
        double bw = json_number_value (json_object_get (rep, "bandwidth"));
        double lat = json_number_value (json_object_get (rep, "latency"));
        g.member = flow_join (uri, bw, lat > 0 ? 2 * lat : 0, &sharing);
        flow_setup (&g, bw, lat, sharing);
        /* The first piece size: the site may propose its own (aligned to its chunks). */
        g.floor = FLOW_PIECE_MIN_OLD;
        json_object_set_new (g.base, "piece_bytes", json_integer ((json_int_t)(
                             fixed ? fixed : flow_piece_target (g.rate0 / g.nstreams, g.floor))));
        double to = clock_mono ();
        h = open_at (&g, co, json_string_value (json_object_get (rep, "site")), uri,
                     json_string_value (json_object_get (rep, "key")), &last);
        if (h) {
            topen = clock_mono () - to;
            g.uri = uri;
            snprintf (res->site, sizeof (res->site), "%s",
                      json_string_value (json_object_get (rep, "site")));
            break;
        }
        flow_leave (g.member);
        g.member = NULL;
        sharing = 0;
        if (last.code != FS_EUNREACH)
            break;
    }
    if (!h) {
        *err = last;
        json_decref (g.base);
        return -1;
    }
    json_t *hs = json_object_get (h, "shape");
    int orank = (int)json_array_size (hs);
    fs_dtype_t odt = dtype_parse (json_string_value (json_object_get (h, "dtype")));
    g.total = (uint64_t)json_integer_value (json_object_get (h, "bytes"));
    /* Sites that take smaller pieces than every site does say so. */
    json_int_t pmin = json_integer_value (json_object_get (h, "piece_min"));
    if (pmin > 0 && pmin < (json_int_t)FLOW_PIECE_MIN_OLD)
        for (g.floor = FLOW_PIECE_MIN; (json_int_t)g.floor < pmin; g.floor *= 2)
            ;
    json_int_t below = json_integer_value (json_object_get (h, "suppress_below"));
    res->suppress_below = below > 0 ? (uint64_t)below : 0;
    json_int_t pb = json_integer_value (json_object_get (h, "piece_bytes"));
    if (pb < (json_int_t)g.floor || pb > (json_int_t)FETCH_MAXPIECE)
        pb = (json_int_t)flow_piece_target (g.rate0 / g.nstreams, g.floor);
    json_object_del (g.base, "piece_bytes");
    /* The round trip, measured: data.open on a new connection takes four
     * (TCP's handshake, ZeroMQ's greeting and handshake, the request) and the
     * site's checks; the configured latency's when that is shorter. */
    double measured = topen / 4 < 1.0 ? topen / 4 : 1.0;
    if (g.rtt <= 0 || measured < g.rtt)
        g.rtt = measured;
    g.fixed_piece = fixed != 0;
    g.fixed_window = (g.window = env_bytes ("FEDSCHED_WINDOW_BYTES", 1, UINT64_MAX)) != 0;
    const char *lpath = json_string_value (json_object_get (json_object_get (h, "local"), "path"));
    if (lpath && co && co->local_reads)
        g.lfd = open (lpath, O_RDONLY | O_NONBLOCK | O_CLOEXEC);   /* never wait on a FIFO */
    g.n = orank;
    for (int d = 0; d < orank && d < FS_MAXDIMS; d++)
        g.shape[d] = (uint64_t)json_integer_value (json_array_get (hs, (size_t)d));
    json_decref (h);
    if (odt == FS_DT_INVALID || orank > FS_MAXDIMS) {
        client_destroy (g.st[0].c);
        json_decref (g.base);
        flow_leave (g.member);
        return errprintf (err, FS_EFAIL, "site %s answered with a result that can't be written",
                          res->site);
    }
    g.elsize = dtype_size (odt);
    plan_init (&g.cur, g.n, g.shape, g.elsize, (size_t)pb);
    g.cur_bytes = (uint64_t)pb;
    if (g.total > 0)
        g.todo[g.ntodo++] = (struct range){ 0, g.total, (uint64_t)pb };
    /* More streams, when the link needs them (never more than pieces). */
    if ((uint64_t)g.nstreams > g.cur.npieces)
        g.nstreams = g.cur.npieces > 0 ? (int)g.cur.npieces : 1;
    int rc = 0;
    for (int s = 1; s < g.nstreams && rc == 0; s++) {
        struct client_opts o = { 0 };
        if (co)
            o = *co;
        o.serverkey = json_string_value (json_object_get (rep, "key")) ?: "";
        o.site = res->site;             /* named in messages */
        if (!(g.st[s].c = client_create (&o, g.uri, err)))
            rc = -1;
    }
    if (rc == 0 && mem_size >= 0 && (g.total != (uint64_t)mem_size || odt != mem_dt))
        rc = errprintf (err, FS_EFAIL, "site %s answered with %" PRIu64 " bytes of %s where %" PRId64
                        " of %s were expected (has the dataset changed?)", res->site, g.total,
                        dtype_name (odt), mem_size, dtype_name (mem_dt));
    char tmp[4096] = "";
    g.mem = mem_size >= 0 ? mem : NULL;
    if (mem_size < 0)
        snprintf (tmp, sizeof (tmp), "%s.part-%d", out_file, (int)getpid ());
    if (rc == 0 && mem_size < 0 && out_dset)
        g.out = format_out_create (tmp, out_dset, odt, orank, g.shape, err);
    else if (rc == 0 && mem_size < 0
             && ((g.ofd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0
                 || ftruncate (g.ofd, (off_t)g.total) < 0))
        errprintf (err, FS_EFAIL, "cannot write %s: %s", tmp, strerror (errno));
    else if (rc == 0 && mem_size < 0)
        g.raw = true;
    /* The site offered its file and this process may read it: copy locally. */
    struct stat lst;
    if ((g.out || (rc == 0 && mem_size >= 0)) && g.lfd >= 0 && fstat (g.lfd, &lst) == 0
        && S_ISREG (lst.st_mode)
        && (mem_size >= 0 || (format_out_offset (g.out, &g.obase) == 0
                              && (g.ofd = open (tmp, O_WRONLY | O_CLOEXEC)) >= 0))) {
        g.local = true;
        file_ident_of (&lst, &g.lid);
        json_object_set_new (g.base, "local", json_true ());
    }
    bool into_mem = rc == 0 && mem_size >= 0;
    rc = -1;
    if (into_mem) {
        if (progress)
            progress (arg, 0, g.total);
        rc = stream (&g, err);
    }
    if (g.out || g.raw) {
        if (progress)
            progress (arg, 0, g.total);
        rc = stream (&g, err);
        if (g.ofd >= 0 && close (g.ofd) < 0 && rc == 0)
            rc = errprintf (err, FS_EFAIL, "cannot write %s", tmp);
        fs_error_t cerr;
        if (format_out_close (g.out, &cerr) < 0 && rc == 0) {
            *err = cerr;
            rc = -1;
        }
        if (rc == 0 && rename (tmp, out_file) < 0)
            rc = errprintf (err, FS_EFAIL, "cannot write %s", out_file);
        if (rc < 0)
            unlink (tmp);
    }
    if (g.lfd >= 0)
        close (g.lfd);
    if (g.ofd >= 0 && !g.out && !g.raw) {      /* the raw file could not be sized */
        close (g.ofd);
        unlink (tmp);
    }
    res->bytes = g.bytes;
    res->local_bytes = g.local_bytes;
    res->suppressed = g.suppressed;
    res->seconds = clock_mono () - t0;
    res->pieces = g.pieces;
    res->streams = g.nstreams;
    res->stalls = g.stalls;
    res->min_piece = g.min_piece;
    res->max_piece = g.max_piece;
    res->window = g.window;
    if (g.log)
        log_msg (LOG_INFO, "event=fetch.done name=%s from=%s bytes=%" PRIu64 " seconds=%.3f pieces=%"
                 PRIu64 " piece_bytes=%" PRIu64 "..%" PRIu64 " streams=%d window=%" PRIu64
                 " stalls=%d sharing=%d rate=%.0f first_s=%.3f%s", name, res->site, g.bytes, res->seconds,
                 g.pieces, g.min_piece, g.max_piece, g.nstreams, g.window, g.stalls,
                 sharing > g.max_sharing ? sharing : g.max_sharing,
                 rate_now (&g), g.pieces ? g.t_first - g.t0 : -1.0, rc == 0 ? "" : " failed=1");
    for (int s = 0; s < g.nstreams; s++)
        client_destroy (g.st[s].c);
    flow_leave (g.member);
    json_decref (g.base);
    return rc;
}

int fetch_slice (const struct client_opts *co, const char *name, const fs_sel_t *sel,
                 const fs_reduce_t *red, const json_t *replicas, const char *out_file,
                 const char *out_dset, fetch_progress_f progress, void *arg,
                 struct fetch_result *res, fs_error_t *err)
{
    fs_reduce_t none = { 0 };
    json_t *base = json_pack ("{s:s, s:o, s:o}", "name", name, "sel", sel_to_json (sel), "reduce",
                              reduce_to_json (red ? red : &none));
    return fetch_into (co, base, name, replicas, out_file, out_dset, NULL, -1, FS_DT_INVALID,
                       progress, arg, res, err);
}

int fetch_slice_mem (const struct client_opts *co, const char *name, const fs_sel_t *sel,
                     const fs_reduce_t *red, const json_t *replicas, fs_dtype_t dtype, void *buf,
                     size_t size, fetch_progress_f progress, void *arg, struct fetch_result *res,
                     fs_error_t *err)
{
    if (size > INT64_MAX)
        return errprintf (err, FS_EINVAL, "a result of %zu bytes is too large", size);
    fs_reduce_t none = { 0 };
    json_t *base = json_pack ("{s:s, s:o, s:o}", "name", name, "sel", sel_to_json (sel), "reduce",
                              reduce_to_json (red ? red : &none));
    return fetch_into (co, base, name, replicas, NULL, NULL, buf, (int64_t)size, dtype, progress,
                       arg, res, err);
}

int fetch_bundle (const struct client_opts *co, const char *digest, const json_t *replicas,
                  const char *out_file, struct fetch_result *res, fs_error_t *err)
{
    json_t *base = json_pack ("{s:s}", "bundle", digest);
    return fetch_into (co, base, digest, replicas, out_file, NULL, NULL, -1, FS_DT_INVALID, NULL,
                       NULL, res, err);
}
