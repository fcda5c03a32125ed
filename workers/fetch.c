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
#include "common/msg.h"
#include "common/plan.h"
#include "fetch.h"
#include "filemap.h"
#include "common/clock.h"

#define FETCH_WINDOW 16
#define FETCH_WINDOW_BYTES (64u << 20)   /* FEDSCHED_WINDOW_BYTES overrides */
#define FETCH_PIECE (4u << 20)
#define FETCH_TRIES 3

struct inflight {
    uint64_t index;
    int tries;
    bool used;
};

struct fetchx {
    struct client *c;
    json_t *base;               /* name, sel, reduce, piece_bytes */
    fs_plan_t plan;
    struct format_out *out;
    struct inflight win[FETCH_WINDOW];
    uint64_t next, done, bytes;
    uint64_t total;
    uint64_t suppressed;        /* blocks the site suppressed, over the pieces landed */
    int window;                 /* pieces in flight at most */
    fetch_progress_f progress;
    void *progress_arg;
    /* Local reads: the site's file (lfd, as opened here), the output file and
     * where its dataset's elements start. */
    bool local;
    int lfd, ofd;
    struct file_ident lid;
    uint64_t obase, local_bytes;
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

/* Stop copying locally: every piece from now on is streamed. */
static void local_off (struct fetchx *g)
{
    g->local = false;
    json_object_del (g->base, "local");
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
static int local_copy (struct fetchx *g, uint64_t index, const struct extent *x)
{
    uint64_t len = plan_piece_bytes (&g->plan, index);
    if (!g->local || !file_ident_same (&x->id, &g->lid) || x->offset > x->id.size
        || len > x->id.size - x->offset)
        return 0;
    return copy_run (g->lfd, x->offset, g->ofd, g->obase + plan_piece_offset (&g->plan, index), len)
           == 0;
}

static int send_piece (struct fetchx *g, struct inflight *f, fs_error_t *err)
{
    json_t *body = json_deep_copy (g->base);
    json_object_set_new (body, "index", json_integer ((json_int_t)f->index));
    return client_send (g->c, "data.piece", (int64_t)f->index + 1, body, err);
}

static int piece_landed (struct fetchx *g, struct inflight *f, uint64_t len, uint64_t local)
{
    f->used = false;
    g->done++;
    g->bytes += len;
    g->local_bytes += local;
    if (g->progress)
        g->progress (g->progress_arg, g->bytes, g->total);
    return 1;
}

/* Take one answer: check it, write it at its place. 1 when a piece landed. */
static int take_piece (struct fetchx *g, struct zmsg *z, fs_error_t *err)
{
    struct msg m;
    if (msg_decode (z, 0, &m, err) < 0) {
        msg_release (&m);
        return errprintf (err, FS_EFAIL, "site sent a malformed message: %s", err->text);
    }
    if (strcmp (m.op, "data.piece")) {      /* a late data.open answer */
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
    struct inflight *f = NULL;
    if (json_is_integer (ji))
        for (int i = 0; i < FETCH_WINDOW; i++)
            if (g->win[i].used && g->win[i].index == (uint64_t)json_integer_value (ji))
                f = &g->win[i];
    msg_release (&m);
    if (!f)                         /* a duplicate after a resend */
        return 0;
    if (jext) {
        if (!has_ext || local_copy (g, f->index, &ext) != 1) {
            local_off (g);          /* the file is not ours to copy: stream it */
            return send_piece (g, f, err) < 0 ? -1 : 0;
        }
        uint64_t n = plan_piece_bytes (&g->plan, f->index);
        return piece_landed (g, f, n, n);
    }
    size_t len;
    const void *data = zmsg_data (z, 1, &len);
    char want[20];
    if (data)
        snprintf (want, sizeof (want), "%016" PRIx64, checksum (data, len));
    if (!data || len != plan_piece_bytes (&g->plan, f->index) || strcmp (sum, want)) {
        if (++f->tries > FETCH_TRIES)
            return errprintf (err, FS_EFAIL, "piece %" PRIu64 " arrived damaged %d times; giving up",
                              f->index, FETCH_TRIES);
        return send_piece (g, f, err) < 0 ? -1 : 0;
    }
    uint64_t off[FS_MAXDIMS], cnt[FS_MAXDIMS];
    plan_piece (&g->plan, f->index, off, cnt);
    if (format_out_write (g->out, off, cnt, data, err) < 0)
        return -1;
    g->suppressed += nsup > 0 ? (uint64_t)nsup : 0;
    return piece_landed (g, f, len, 0);
}

static int stream (struct fetchx *g, fs_error_t *err)
{
    double timeout = client_timeout ();
    /* Reconnect (and ask again for the pieces in flight) only after half the
     * timeout without a whole piece: on a slow or shared link a piece may take
     * seconds, and reconnecting while it is on its way throws it away. */
    double stall = timeout / 2 > 1.0 ? timeout / 2 : 1.0;
    double last = clock_wall ();
    while (g->done < g->plan.npieces) {
        for (int i = 0; i < g->window && g->next < g->plan.npieces; i++) {
            if (g->win[i].used)
                continue;
            g->win[i] = (struct inflight){ g->next++, 0, true };
            if (send_piece (g, &g->win[i], err) < 0)
                return -1;
        }
        struct zmsg *z = client_recv (g->c, (long)(stall * 1000));
        if (!z) {
            if (clock_wall () - last >= timeout)
                return errprintf (err, FS_EUNREACH, "the site sent nothing for %g s; %" PRIu64
                                  " of %" PRIu64 " pieces arrived", timeout, g->done, g->plan.npieces);
            /* Resume: a fresh connection, and the missing pieces again. */
            if (client_reconnect (g->c, err) < 0)
                return -1;
            for (int i = 0; i < FETCH_WINDOW; i++)
                if (g->win[i].used && send_piece (g, &g->win[i], err) < 0)
                    return -1;
            continue;
        }
        last = clock_wall ();
        int r = take_piece (g, z, err);
        zmsg_destroy (&z);
        if (r < 0)
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
    g->c = client_create (&o, uri, err);
    if (!g->c)
        return NULL;
    json_t *h = client_call (g->c, "data.open", json_deep_copy (g->base), err);
    if (!h) {
        client_destroy (g->c);
        g->c = NULL;
    }
    return h;
}

int fetch_slice (const struct client_opts *co, const char *name, const fs_sel_t *sel,
                 const fs_reduce_t *red, const json_t *replicas, const char *out_file,
                 const char *out_dset, fetch_progress_f progress, void *arg,
                 struct fetch_result *res, fs_error_t *err)
{
    fs_reduce_t none = { 0 };
    struct fetchx g;
    memset (&g, 0, sizeof (g));
    memset (res, 0, sizeof (*res));
    g.lfd = g.ofd = -1;
    g.progress = progress;
    g.progress_arg = arg;
    /* FEDSCHED_PIECE_BYTES: the piece size asked for (64 KiB..64 MiB), for tuning. */
    const char *pe = getenv ("FEDSCHED_PIECE_BYTES");
    long want = pe ? strtol (pe, NULL, 10) : 0;
    if (want < (64 << 10) || want > (64 << 20))
        want = FETCH_PIECE;
    g.base = json_pack ("{s:s, s:o, s:o, s:i}", "name", name, "sel", sel_to_json (sel), "reduce",
                        reduce_to_json (red ? red : &none), "piece_bytes", (int)want);
    char host[FETCH_HOST_MAX];
    if (co && co->local_reads && fetch_host_id (host, sizeof (host)) == 0)
        json_object_set_new (g.base, "host", json_string (host));
    if (co && co->reader_site)
        json_object_set_new (g.base, "reader", json_pack ("{s:s, s:s}", "site", co->reader_site,
                                                         "region", co->reader_region ? co->reader_region : ""));
    double t0 = clock_wall ();
    json_t *h = NULL;
    size_t i;
    json_t *rep;
    fs_error_t last = { .code = FS_EUNREACH };
    snprintf (last.text, sizeof (last.text), "every site holding '%s' is down", name);
    json_array_foreach (replicas, i, rep) {
        const char *state = json_string_value (json_object_get (rep, "state"));
        const char *uri = json_string_value (json_object_get (rep, "uri"));
        if (!uri || (state && !strcmp (state, "down")))
            continue;
        h = open_at (&g, co, json_string_value (json_object_get (rep, "site")), uri,
                     json_string_value (json_object_get (rep, "key")), &last);
        if (h) {
            snprintf (res->site, sizeof (res->site), "%s",
                      json_string_value (json_object_get (rep, "site")));
            break;
        }
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
    uint64_t oshape[FS_MAXDIMS];
    fs_dtype_t odt = dtype_parse (json_string_value (json_object_get (h, "dtype")));
    g.total = (uint64_t)json_integer_value (json_object_get (h, "bytes"));
    json_int_t below = json_integer_value (json_object_get (h, "suppress_below"));
    res->suppress_below = below > 0 ? (uint64_t)below : 0;
    /* The site may propose its own piece size (aligned to its chunks). */
    json_int_t pb = json_integer_value (json_object_get (h, "piece_bytes"));
    if (pb < (64 << 10) || pb > (64 << 20))
        pb = FETCH_PIECE;
    json_object_set_new (g.base, "piece_bytes", json_integer (pb));
    /* The credit: at most FETCH_WINDOW_BYTES in flight, and 2..FETCH_WINDOW pieces. */
    const char *we = getenv ("FEDSCHED_WINDOW_BYTES");
    long wb = we ? strtol (we, NULL, 10) : 0;
    g.window = (int)((wb > 0 ? (uint64_t)wb : FETCH_WINDOW_BYTES) / (uint64_t)pb);
    if (g.window < 2)
        g.window = 2;
    if (g.window > FETCH_WINDOW)
        g.window = FETCH_WINDOW;
    for (int d = 0; d < orank && d < FS_MAXDIMS; d++)
        oshape[d] = (uint64_t)json_integer_value (json_array_get (hs, (size_t)d));
    const char *lpath = json_string_value (json_object_get (json_object_get (h, "local"), "path"));
    if (lpath && co && co->local_reads)
        g.lfd = open (lpath, O_RDONLY | O_NONBLOCK | O_CLOEXEC);   /* never wait on a FIFO */
    json_decref (h);
    if (odt == FS_DT_INVALID || orank > FS_MAXDIMS) {
        client_destroy (g.c);
        json_decref (g.base);
        return errprintf (err, FS_EFAIL, "site %s answered with a result that can't be written",
                          res->site);
    }
    plan_init (&g.plan, orank, oshape, dtype_size (odt), (size_t)pb);
    char tmp[4096];
    snprintf (tmp, sizeof (tmp), "%s.part-%d", out_file, (int)getpid ());
    g.out = format_out_create (tmp, out_dset, odt, orank, oshape, err);
    /* The site offered its file and this process may read it: copy locally. */
    struct stat lst;
    if (g.out && g.lfd >= 0 && fstat (g.lfd, &lst) == 0 && S_ISREG (lst.st_mode)
        && format_out_offset (g.out, &g.obase) == 0
        && (g.ofd = open (tmp, O_WRONLY | O_CLOEXEC)) >= 0) {
        g.local = true;
        file_ident_of (&lst, &g.lid);
        json_object_set_new (g.base, "local", json_true ());
    }
    int rc = -1;
    if (g.out) {
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
    res->bytes = g.bytes;
    res->local_bytes = g.local_bytes;
    res->suppressed = g.suppressed;
    res->seconds = clock_wall () - t0;
    client_destroy (g.c);
    json_decref (g.base);
    return rc;
}
