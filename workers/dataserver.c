/* dataserver.c - serving slices in pieces (see dataserver.h, docs/protocol.md).
 *
 * Every data.piece request is self-contained (dataset, selection, reduction,
 * piece size, index), so the server keeps no per-transfer state: the client
 * holds a window of requests in flight (its credit), which bounds the memory
 * of both ends, and a broken transfer resumes by asking again for the pieces
 * that never arrived.  Each piece is read by HDF5 straight into the message
 * buffer that ZeroMQ sends, with an XXH3 checksum in its header.
 */
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include "adapters/reduce/reduce.h"
#include "common/checksum.h"
#include "common/dtype.h"
#include "common/log.h"
#include "common/plan.h"
#include "dataserver.h"
#include "fetch.h"
#include "filemap.h"

#define SRC_CACHE 4
#define PIECE_MIN (16 << 10)         /* announced in data.open's piece_min */
#define PIECE_MAX (64 << 20)

/* Open datasets, shared by the I/O threads (HDF5 runs one call at a time
 * anyway, so one handle and one chunk cache per dataset is all that helps);
 * the least recently used is closed first.  src_lock is held from lookup to
 * the end of the read that uses the handle. */
static pthread_mutex_t src_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char file[PATH_MAX];
    char path[1024];
    struct format_src *src;
    struct file_ident id;       /* of the file when opened */
    unsigned long used;
} src_cache[SRC_CACHE];
static unsigned long src_clock;

/* The open dataset of hd, opened again when its file was replaced or changed
 * since (a stale handle would serve the old bytes, or zeros past a new end). */
static struct format_src *src_get (const struct holding *hd, fs_error_t *err)
{
    int victim = 0;
    struct stat st;
    struct file_ident now;
    if (stat (hd->file, &st) < 0) {
        errprintf (err, FS_EFAIL, "%s is gone from the site", hd->name);
        return NULL;
    }
    file_ident_of (&st, &now);
    for (int i = 0; i < SRC_CACHE; i++) {
        if (src_cache[i].src && !strcmp (src_cache[i].file, hd->file)
            && !strcmp (src_cache[i].path, hd->path)) {
            if (file_ident_same (&src_cache[i].id, &now)) {
                src_cache[i].used = ++src_clock;
                return src_cache[i].src;
            }
            format_src_close (src_cache[i].src);
            src_cache[i].src = NULL;
            src_cache[i].used = 0;
        }
        if (src_cache[i].used < src_cache[victim].used)
            victim = i;
    }
    struct format_src *src = format_src_open (hd->file, hd->path, err);
    if (!src)
        return NULL;
    format_src_close (src_cache[victim].src);
    src_cache[victim].src = src;
    src_cache[victim].id = now;
    snprintf (src_cache[victim].file, sizeof (src_cache[victim].file), "%s", hd->file);
    snprintf (src_cache[victim].path, sizeof (src_cache[victim].path), "%s", hd->path);
    src_cache[victim].used = ++src_clock;
    return src;
}

struct transfer {
    struct holding hd;
    fs_sel_t sel;
    fs_reduce_t red;
    fs_dtype_t odt;
    int orank;
    uint64_t oshape[FS_MAXDIMS];
    uint64_t piece_bytes;
    fs_plan_t plan;
    bool same_host;             /* the requester runs on this host (its 'host') */
    bool local;                 /* data.piece: it asks for a local copy */
    struct policy_grant grant;  /* how the policy lets it be read */
    const char *reader;         /* the reading site, NULL: outside every site */
};

/* --- who may claim to read as a site (CURVE) ------------------------------- */
static pthread_mutex_t peers_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t peers_cond = PTHREAD_COND_INITIALIZER;
static json_t *peers;               /* [{name, region, key}] */
static unsigned long peers_gen;     /* bumped by each update */
static atomic_bool peers_want = true;

void dataserver_peers (const json_t *sites)
{
    pthread_mutex_lock (&peers_lock);
    json_decref (peers);
    peers = json_deep_copy (sites);
    peers_gen++;
    pthread_cond_broadcast (&peers_cond);
    pthread_mutex_unlock (&peers_lock);
    atomic_store (&peers_want, false);
}

/* The entry of site name in the table, or NULL (peers_lock held). */
static json_t *peer_find (const char *name)
{
    size_t i;
    json_t *e;
    json_array_foreach (peers, i, e)
        if (!strcmp (json_string_value (json_object_get (e, "name")) ?: "", name))
            return e;
    return NULL;
}

bool dataserver_peers_wanted (void)
{
    return atomic_load (&peers_want);
}

static int reader_check (const struct data_req *r, const char *rsite, const char *rregion,
                         fs_error_t *err)
{
    if (r->cfg->security != SEC_CURVE)
        return 0;               /* without CURVE nobody is authenticated anyway */
    int rc = 1;
    pthread_mutex_lock (&peers_lock);
    json_t *e = peer_find (rsite);
    if (!e) {
        /* Not known here (yet): the worker has just started, or the site is new.
         * Ask the loop for the scheduler's list and wait for it a little (this
         * is an I/O thread, not the loop). */
        atomic_store (&peers_want, true);
        unsigned long gen = peers_gen;
        struct timespec until;
        clock_gettime (CLOCK_REALTIME, &until);
        until.tv_sec += 3;
        while (peers_gen == gen
               && pthread_cond_timedwait (&peers_cond, &peers_lock, &until) == 0)
            ;
        e = peer_find (rsite);
    }
    if (e) {
        const char *key = json_string_value (json_object_get (e, "key")) ?: "";
        const char *region = json_string_value (json_object_get (e, "region")) ?: "";
        if (!key[0] || strcmp (key, r->key))
            rc = errprintf (err, FS_EFAIL, "permission denied: a request to read as site '%s' "
                            "came from another key", rsite);
        else if (strcmp (region, rregion))
            rc = errprintf (err, FS_EFAIL, "permission denied: site '%s' is in region '%s', not "
                            "'%s'", rsite, region, rregion);
        else
            rc = 0;
    }
    pthread_mutex_unlock (&peers_lock);
    if (rc > 0) {
        atomic_store (&peers_want, true);
        rc = errprintf (err, FS_EUNREACH, "site '%s' is not known at site %s yet; try again",
                        rsite, r->cfg->name);
    }
    return rc;
}

/* Everything a request names, checked: nothing from the peer is trusted. */
static int transfer_prepare (struct data_req *r, struct transfer *t, fs_error_t *err)
{
    const char *name, *host;
    int64_t pb = (int64_t)r->cfg->piece_bytes;
    t->reader = json_string_value (json_object_get (json_object_get (r->m.body, "reader"), "site"));
    if (msg_get_str (&r->m, "name", true, &name, err) < 0
        || msg_get_int (&r->m, "piece_bytes", false, PIECE_MIN, PIECE_MAX, &pb, err) < 0
        || msg_get_str (&r->m, "host", false, &host, err) < 0
        || msg_get_bool (&r->m, "local", false, &t->local, err) < 0)
        return -1;
    char here[FETCH_HOST_MAX];
    t->same_host = host && r->cfg->local_reads && fetch_host_id (here, sizeof (here)) == 0
                   && !strcmp (here, host);
    t->local = t->local && t->same_host;
    if (holdings_find (r->holdings, name, &t->hd, err) < 0)
        return -1;
    json_t *jsel = json_object_get (r->m.body, "sel");
    if (!jsel)
        return errprintf (err, FS_EINVAL, "%s: field 'sel' is required", r->m.op);
    if (sel_from_json (jsel, t->hd.info.ndims, t->hd.info.shape, &t->sel, err) < 0
        || reduce_from_json (json_object_get (r->m.body, "reduce"), &t->red, err) < 0)
        return errprefix (err, "%s", name);
    if (t->red.op != RED_NONE) {
        t->orank = reduce_out_shape (&t->sel, &t->red, t->oshape, err);
        if (t->orank < 0)
            return errprefix (err, "%s", name);
        t->odt = reduce_out_dtype (t->red.op, t->hd.info.dtype);
    } else {
        t->orank = sel_out_shape (&t->sel, t->oshape);
        t->odt = t->hd.info.dtype;
    }
    json_t *reader = json_object_get (r->m.body, "reader");
    const char *rsite = json_string_value (json_object_get (reader, "site"));
    const char *rregion = json_string_value (json_object_get (reader, "region"));
    if (reader && (!rsite || !rregion))
        return errprintf (err, FS_EINVAL, "%s: 'reader' must be {site, region}", r->m.op);
    if (reader && reader_check (r, rsite, rregion, err) < 0)
        return -1;
    /* The site enforces the policy on every read, whatever the scheduler asked. */
    struct policy_reader rd = { !reader ? POLICY_READER_OUTSIDE
                                : !strcmp (rsite, r->cfg->name) ? POLICY_READER_HOLDER
                                : POLICY_READER_SITE, rregion };
    if (policy_read (&t->hd.policy, &rd, name, t->hd.info.shape, &t->sel,
                     t->red.op ? &t->red : NULL, &t->grant, err) < 0)
        return errprefix (err, "%s", name);
    t->piece_bytes = (uint64_t)pb;
    plan_init (&t->plan, t->orank, t->oshape, dtype_size (t->odt), t->piece_bytes);
    return 0;
}

static uint64_t gcd (uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t r = a % b;
        a = b;
        b = r;
    }
    return a;
}

/* The piece size this site proposes at data.open: for a chunked source read
 * without reduction, pieces that span whole chunks along the split dimension,
 * so each compressed chunk is decoded once.  Otherwise the client's size. */
static uint64_t piece_bytes_aligned (const struct transfer *t)
{
    const fs_plan_t *p = &t->plan;
    /* Unfiltered chunks are read in place, any part of them: only compressed
     * chunks, which must be decoded whole, gain from aligned pieces. */
    if (!t->hd.info.chunked || !t->hd.info.filters[0] || t->red.op != RED_NONE || p->n == 0
        || p->npieces <= 1)
        return t->piece_bytes;
    int d = -1;                      /* source dimension of result dimension k */
    for (int i = 0, j = 0; i < t->sel.ndims; i++) {
        if (t->sel.dropped[i])
            continue;
        if (j++ == p->k) {
            d = i;
            break;
        }
    }
    if (d < 0)
        return t->piece_bytes;
    uint64_t rowbytes = p->elsize;
    for (int i = p->k + 1; i < p->n; i++)
        rowbytes *= p->shape[i];
    uint64_t c = t->hd.info.chunks[d], step = t->sel.step[d];
    uint64_t unit = c / gcd (c, step);          /* result rows spanning whole chunks */
    uint64_t rows = t->piece_bytes / rowbytes / unit * unit;
    if (rows == 0)
        rows = unit;
    if (rows > p->shape[p->k])
        rows = p->shape[p->k];
    uint64_t bytes = rows * rowbytes;
    return bytes >= PIECE_MIN && bytes <= PIECE_MAX / 4 ? bytes : t->piece_bytes;
}

static json_t *shape_json (int n, const uint64_t *shape)
{
    json_t *a = json_array ();
    for (int i = 0; i < n; i++)
        json_array_append_new (a, json_integer ((json_int_t)shape[i]));
    return a;
}

static void send_out (struct zsock *out, struct data_req *r, struct zmsg *reply)
{
    struct zmsg *z = zmsg_create ();
    fs_error_t err;
    if (!z || !reply) {
        zmsg_destroy (&z);
        zmsg_destroy (&reply);
        return;
    }
    zmsg_addmem (z, "D", 1);
    zmsg_addmem (z, r->rid, r->ridlen);
    size_t len;
    const void *data = zmsg_data (reply, 0, &len);
    zmsg_addmem (z, data, len);
    zmsg_destroy (&reply);
    zsock_send (out, &z, &err);
}

static void do_open (struct data_req *r, struct transfer *t, struct zsock *out)
{
    char pol[512];
    uint64_t pb = piece_bytes_aligned (t);
    if (pb != t->piece_bytes) {
        t->piece_bytes = pb;
        plan_init (&t->plan, t->orank, t->oshape, dtype_size (t->odt), pb);
    }
    uint64_t bytes = dtype_size (t->odt);
    for (int i = 0; i < t->orank; i++)
        bytes *= t->oshape[i];
    /* A requester on this host may copy the runs of the file itself, if it can
     * open the file (the operating system's permissions decide, as they would
     * for h5py): the bytes then cross no socket.  Only raw reads qualify. */
    char real[PATH_MAX];
    bool local = t->same_host && t->red.op == RED_NONE && realpath (t->hd.file, real);
    json_t *jsel = json_object_get (r->m.body, "sel");
    char *seltext = json_dumps (jsel, JSON_COMPACT);
    char *redtext = t->red.op ? json_dumps (json_object_get (r->m.body, "reduce"), JSON_COMPACT) : NULL;
    /* The audit line: one per slice that leaves the site. */
    log_msg (LOG_INFO,
             "event=audit op=get reader=%s dataset=%s policy=%s sel=%s reduce=%s read=%s bytes=%" PRIu64 " pieces=%" PRIu64 "%s",
             t->reader ? t->reader : "client", t->hd.name,
             policy_format (&t->hd.policy, pol, sizeof (pol)), seltext ? seltext : "?",
             redtext ? redtext : "none", t->grant.aggregate ? "aggregate" : "raw", bytes,
             t->plan.npieces, local ? " local=offered" : "");
    free (seltext);
    free (redtext);
    json_t *body = json_pack ("{s:o, s:s, s:I, s:I, s:I, s:i}", "shape", shape_json (t->orank, t->oshape),
                              "dtype", dtype_name (t->odt), "bytes", (json_int_t)bytes, "npieces",
                              (json_int_t)t->plan.npieces, "piece_bytes", (json_int_t)t->piece_bytes,
                              "piece_min", PIECE_MIN);
    if (local)
        json_object_set_new (body, "local", json_pack ("{s:s}", "path", real));
    if (t->grant.aggregate && t->grant.min)     /* pieces say how many blocks they suppressed */
        json_object_set_new (body, "suppress_below", json_integer ((json_int_t)t->grant.min));
    send_out (out, r, msg_reply (r->m.op, r->m.id, body));
}

static int reduce_read (void *arg, const fs_sel_t *sub, void *buf, fs_error_t *err)
{
    return format_src_read (arg, sub, buf, err);
}

/* The answer to a local piece: no bytes, where they lie in which file. */
static void send_extent (struct zsock *out, struct data_req *r, int64_t index, uint64_t nbytes,
                         uint64_t foff, const struct stat *st)
{
    struct file_ident id;
    file_ident_of (st, &id);
    json_t *ext = json_pack ("{s:I, s:I, s:I, s:I, s:I}", "offset", (json_int_t)foff, "dev",
                             (json_int_t)id.dev, "ino", (json_int_t)id.ino, "size",
                             (json_int_t)id.size, "mtime_ns", (json_int_t)id.mtime_ns);
    send_out (out, r, msg_reply (r->m.op, r->m.id, json_pack ("{s:I, s:I, s:o}", "index",
                                 (json_int_t)index, "bytes", (json_int_t)nbytes, "extent", ext)));
}

/* Pieces read into the heap (every piece that is not one run of the file):
 * how many ZeroMQ still holds, and whether the heap has grown since it was last
 * handed back.  glibc keeps freed pieces for the next transfer (the worker
 * hands them back after 5 s of quiet); when pieces start coming from the page
 * cache instead — mapped, and counted in the worker's resident memory — the
 * kept heap is handed back first, so the two never add up. */
static atomic_int heap_inflight;
static atomic_bool heap_dirty;

static void heap_piece_free (void *data, void *hint)
{
    (void)hint;
    free (data);
    atomic_fetch_sub (&heap_inflight, 1);
}

/* A heap buffer of n bytes appended to z as its next frame, or NULL. */
static void *heap_piece (struct zmsg *z, size_t n)
{
    void *buf = malloc (n);
    if (!buf)
        return NULL;
    atomic_fetch_add (&heap_inflight, 1);
    atomic_store (&heap_dirty, true);
    if (zmsg_addref (z, buf, n, heap_piece_free, NULL) < 0) {
        heap_piece_free (buf, NULL);
        return NULL;
    }
    return buf;
}

static void heap_hand_back (void)
{
    if (atomic_load (&heap_dirty) && atomic_load (&heap_inflight) == 0) {
        atomic_store (&heap_dirty, false);
        malloc_trim (0);
    }
}

static void do_piece (struct data_req *r, struct transfer *t, struct zsock *out)
{
    fs_error_t err = { 0 };
    int64_t index;
    if (msg_get_int (&r->m, "index", true, 0, INT64_MAX, &index, &err) < 0)
        goto fail;
    if ((uint64_t)index >= t->plan.npieces) {
        errprintf (&err, FS_EINVAL, "piece %lld does not exist (the transfer has %llu)",
                   (long long)index, (unsigned long long)t->plan.npieces);
        goto fail;
    }
    uint64_t off[FS_MAXDIMS], cnt[FS_MAXDIMS];
    plan_piece (&t->plan, (uint64_t)index, off, cnt);
    uint64_t nbytes = plan_piece_bytes (&t->plan, (uint64_t)index);
    uint64_t suppressed = 0;
    struct zmsg *z = zmsg_create ();
    zmsg_addmem (z, "D", 1);
    zmsg_addmem (z, r->rid, r->ridlen);
    const void *data = NULL;
    struct filemap *fm = NULL;
    int rc = -1;
    pthread_mutex_lock (&src_lock);
    struct format_src *src = src_get (&t->hd, &err);
    if (src && t->red.op == RED_NONE) {
        fs_sel_t sub;
        sel_sub (&t->sel, off, cnt, &sub);
        /* A run of the file as it is: where it lies, for a requester on this
         * host that asked, else served from the page cache in place. */
        int fd;
        uint64_t foff, flen;
        fs_error_t merr;
        bool run = format_src_extent (src, &sub, &fd, &foff, &flen) == 1 && flen == nbytes;
        struct stat st;             /* of the file this handle reads, not of the path */
        if (run && t->local && fstat (fd, &st) == 0) {
            pthread_mutex_unlock (&src_lock);
            zmsg_destroy (&z);
            send_extent (out, r, index, nbytes, foff, &st);
            return;
        }
        if (run)
            heap_hand_back ();
        if (run && (fm = filemap_open (fd, foff, (size_t)flen, &data, &merr)))
            rc = 0;
        else if ((data = heap_piece (z, nbytes)))
            rc = format_src_read (src, &sub, (void *)data, &err);
        else
            errprintf (&err, FS_EFAIL, "out of memory for a piece of %llu bytes", (unsigned long long)nbytes);
    } else if (src) {
        void *buf = heap_piece (z, nbytes);
        data = buf;
        if (buf)
            rc = reduce_box (&t->sel, &t->red, t->hd.info.dtype, off, cnt, buf, t->piece_bytes,
                             reduce_read, src, t->grant.aggregate ? t->grant.min : 0,
                             &suppressed, &err);
        else
            errprintf (&err, FS_EFAIL, "out of memory for a piece of %llu bytes", (unsigned long long)nbytes);
    }
    pthread_mutex_unlock (&src_lock);
    if (rc < 0) {
        zmsg_destroy (&z);
        goto fail;
    }
    char sum[20];
    snprintf (sum, sizeof (sum), "%016" PRIx64, checksum (data, nbytes));
    if (fm && (filemap_damaged (fm) || zmsg_addref (z, (void *)data, nbytes, filemap_release, fm) < 0)) {
        bool damaged = filemap_damaged (fm);
        filemap_release (NULL, fm);
        zmsg_destroy (&z);
        if (damaged)
            errprintf (&err, FS_EFAIL, "the file shrank while piece %lld was read from it", (long long)index);
        else
            errprintf (&err, FS_EFAIL, "cannot queue piece %lld", (long long)index);
        goto fail;
    }
    json_t *hbody = json_pack ("{s:I, s:I, s:s}", "index", (json_int_t)index, "bytes",
                               (json_int_t)nbytes, "xxh3", sum);
    if (t->grant.aggregate && t->grant.min)
        json_object_set_new (hbody, "suppressed", json_integer ((json_int_t)suppressed));
    char *hdr = msg_encode_reply (r->m.op, r->m.id, hbody);
    zmsg_insert (z, 2, hdr, strlen (hdr));
    free (hdr);
    zsock_send (out, &z, &err);
    return;
fail:
    send_out (out, r, msg_error (r->m.op, r->m.id, err.code, "%s: %s", t->hd.name, err.text));
}

void dataserver_job (void *arg, struct zsock *out)
{
    struct data_req *r = arg;
    struct transfer t;
    fs_error_t err = { 0 };
    if (!out) {
        msg_release (&r->m);
        free (r);
        return;
    }
    memset (&t, 0, sizeof (t));
    if (transfer_prepare (r, &t, &err) < 0) {
        if (!strcmp (r->m.op, "data.open"))
            log_msg (LOG_INFO, "event=refused op=%s reader=%s dataset=%s reason=\"%s\"", r->m.op,
                     t.reader ? t.reader : "client", t.hd.name[0] ? t.hd.name : "?", err.text);
        send_out (out, r, msg_error (r->m.op, r->m.id, err.code, "%s", err.text));
    } else if (!strcmp (r->m.op, "data.open")) {
        do_open (r, &t, out);
    } else {
        do_piece (r, &t, out);
    }
    msg_release (&r->m);
    free (r);
}
