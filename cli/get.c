/* get.c - fedsched get: stream a slice from the best replica into a local
 * HDF5 file (SPEC sections 3 and 7).
 *
 * The slice is checked here first (syntax, then against the catalog's shape),
 * so mistakes cost no transfer.  Then data.open at the replica's site (which
 * enforces the data policy and writes its audit line) and a window of
 * data.piece requests in flight: each answer carries one piece with its
 * checksum and is written straight into the output file at its place, so
 * memory stays at window x piece size.  When the site goes quiet the client
 * reconnects and asks again for the pieces it lacks; the transfer resumes
 * there.  The file is written under a temporary name and renamed at the end.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "adapters/format/format.h"
#include "cli.h"
#include "common/checksum.h"
#include "common/dtype.h"
#include "common/msg.h"
#include "common/names.h"
#include "common/plan.h"
#include "common/slice.h"
#include "progress.h"

#define GET_WINDOW 8
#define GET_PIECE (4u << 20)
#define GET_TRIES 3

static const struct option get_opts[] = {
    { "output", required_argument, NULL, 'o' },
    { "dataset", required_argument, NULL, 'd' },
    { "reduce", required_argument, NULL, 'r' },
    { NULL, 0, NULL, 0 },
};

static const struct cli_verb v_get = {
    "get", "SLICE -o OUT.h5 [--dataset /PATH] [--reduce OP:B1,B2,..]",
    "Stream a slice of a dataset from the best replica into a local HDF5 file.\n"
    "SLICE is NAME or NAME[sel, ...] with NumPy basic slicing: start:stop:step (step > 0),\n"
    "omitted bounds, negative indices, '...', and bare integers, which drop their\n"
    "dimension.  The file holds one dataset with the source's element type and NumPy's\n"
    "result shape.\n"
    "  -o, --output OUT.h5   the file to write (replaced if it exists)\n"
    "  --dataset /PATH       dataset path in OUT.h5 (default: / + the name's last part)\n"
    "  --reduce OP:B1,B2,..  block reduction at the source: OP is mean, sum, min or max\n"
    "                        over blocks of B1 x B2 x .. of the result's dimensions;\n"
    "                        partial blocks at the high edges are dropped; mean and sum\n"
    "                        give float64.\n"
    "Environment: FEDSCHED_TIMEOUT (seconds of silence before giving up, default 10).",
    "o:d:r:", get_opts,
};

static double now_s (void)
{
    struct timeval tv;
    gettimeofday (&tv, NULL);
    return tv.tv_sec + tv.tv_usec / 1e6;
}

struct inflight {
    uint64_t index;
    int tries;
    bool used;
};

struct getx {
    struct client *c;
    json_t *base;               /* name, sel, reduce, piece_bytes */
    fs_plan_t plan;
    struct format_out *out;
    struct inflight win[GET_WINDOW];
    uint64_t next, done, bytes;
    struct progress *bar;
};

static int send_piece (struct getx *g, struct inflight *f, fs_error_t *err)
{
    json_t *body = json_deep_copy (g->base);
    json_object_set_new (body, "index", json_integer ((json_int_t)f->index));
    return client_send (g->c, "data.piece", (int64_t)f->index + 1, body, err);
}

/* Take one answer: check it, write it at its place. 1 when a piece landed. */
static int take_piece (struct getx *g, struct zmsg *z, fs_error_t *err)
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
    char sum[20] = "";
    const char *jsum = json_string_value (json_object_get (m.body, "xxh3"));
    if (jsum)
        snprintf (sum, sizeof (sum), "%s", jsum);
    struct inflight *f = NULL;
    if (json_is_integer (ji))
        for (int i = 0; i < GET_WINDOW; i++)
            if (g->win[i].used && g->win[i].index == (uint64_t)json_integer_value (ji))
                f = &g->win[i];
    msg_release (&m);
    if (!f)                         /* a duplicate after a resend */
        return 0;
    size_t len;
    const void *data = zmsg_data (z, 1, &len);
    char want[20];
    if (data)
        snprintf (want, sizeof (want), "%016" PRIx64, checksum (data, len));
    if (!data || len != plan_piece_bytes (&g->plan, f->index) || strcmp (sum, want)) {
        if (++f->tries > GET_TRIES)
            return errprintf (err, FS_EFAIL, "piece %" PRIu64 " arrived damaged %d times; giving up",
                              f->index, GET_TRIES);
        return send_piece (g, f, err) < 0 ? -1 : 0;
    }
    uint64_t off[FS_MAXDIMS], cnt[FS_MAXDIMS];
    plan_piece (&g->plan, f->index, off, cnt);
    if (format_out_write (g->out, off, cnt, data, err) < 0)
        return -1;
    f->used = false;
    g->done++;
    g->bytes += len;
    progress_update (g->bar, g->bytes);
    return 1;
}

static int stream (struct getx *g, fs_error_t *err)
{
    double timeout = client_timeout ();
    double stall = timeout / 3 < 2.0 ? timeout / 3 : 2.0;
    double last = now_s ();
    while (g->done < g->plan.npieces) {
        for (int i = 0; i < GET_WINDOW && g->next < g->plan.npieces; i++) {
            if (g->win[i].used)
                continue;
            g->win[i] = (struct inflight){ g->next++, 0, true };
            if (send_piece (g, &g->win[i], err) < 0)
                return -1;
        }
        struct zmsg *z = client_recv (g->c, (long)(stall * 1000));
        if (!z) {
            if (now_s () - last >= timeout)
                return errprintf (err, FS_EUNREACH, "the site sent nothing for %g s; %" PRIu64
                                  " of %" PRIu64 " pieces arrived", timeout, g->done, g->plan.npieces);
            /* Resume: a fresh connection, and the missing pieces again. */
            if (client_reconnect (g->c, err) < 0)
                return -1;
            for (int i = 0; i < GET_WINDOW; i++)
                if (g->win[i].used && send_piece (g, &g->win[i], err) < 0)
                    return -1;
            continue;
        }
        last = now_s ();
        int r = take_piece (g, z, err);
        zmsg_destroy (&z);
        if (r < 0)
            return -1;
    }
    return 0;
}

/* data.open at one replica: the result's shape and type, or an error. */
static json_t *open_at (struct getx *g, const struct client_opts *co, const char *uri,
                        fs_error_t *err)
{
    g->c = client_create (co, uri, err);
    if (!g->c)
        return NULL;
    json_t *h = client_call (g->c, "data.open", json_deep_copy (g->base), err);
    if (!h) {
        client_destroy (g->c);
        g->c = NULL;
    }
    return h;
}

static int get_run (const struct client_opts *co, const char *slicetext, const char *outfile,
                    const char *dsetpath, const char *reducetext, fs_error_t *err)
{
    fs_slice_t sl;
    fs_reduce_t red = { 0 };
    if (slice_parse (slicetext, &sl, err) < 0 || (reducetext && reduce_parse (reducetext, &red, err) < 0))
        return -1;
    char defpath[FS_NAME_MAX + 2];
    if (!dsetpath) {
        const char *last = strrchr (sl.name, '/');
        snprintf (defpath, sizeof (defpath), "/%s", last ? last + 1 : sl.name);
        dsetpath = defpath;
    } else if (dsetpath[0] != '/' || name_valid (dsetpath + 1, NULL) < 0) {
        return errprintf (err, FS_EINVAL, "--dataset '%s' must be an absolute HDF5 path like /grp/x "
                          "of [A-Za-z0-9._-] components", dsetpath);
    }
    /* The catalog: shape for the slice, replicas for the transfer. */
    struct client *sc = client_create (co, client_scheduler_uri (co), err);
    json_t *r = sc ? client_call (sc, "catalog.lookup", json_pack ("{s:s}", "name", sl.name), err) : NULL;
    client_destroy (sc);
    if (!r)
        return -1;
    json_t *ds = json_object_get (r, "dataset");
    json_t *jshape = json_object_get (ds, "shape");
    uint64_t shape[FS_MAXDIMS];
    int ndims = (int)json_array_size (jshape);
    for (int d = 0; d < ndims && d < FS_MAXDIMS; d++)
        shape[d] = (uint64_t)json_integer_value (json_array_get (jshape, (size_t)d));
    fs_sel_t sel;
    uint64_t oshape[FS_MAXDIMS];
    if (slice_resolve (&sl, ndims, shape, &sel, err) < 0
        || (red.op != RED_NONE && reduce_out_shape (&sel, &red, oshape, err) < 0)) {
        json_decref (r);
        return errprefix (err, "%s", slicetext);
    }
    struct getx g;
    memset (&g, 0, sizeof (g));
    g.base = json_pack ("{s:s, s:o, s:o, s:i}", "name", sl.name, "sel", sel_to_json (&sel),
                        "reduce", reduce_to_json (&red), "piece_bytes", (int)GET_PIECE);
    /* Replicas at sites that are up, in the catalog's order. */
    json_t *h = NULL;
    size_t i;
    json_t *rep;
    fs_error_t last = { .code = FS_EUNREACH };
    snprintf (last.text, sizeof (last.text), "every site holding '%s' is down", sl.name);
    json_array_foreach (json_object_get (ds, "replicas"), i, rep) {
        if (strcmp (json_string_value (json_object_get (rep, "state")), "down") == 0)
            continue;
        h = open_at (&g, co, json_string_value (json_object_get (rep, "uri")), &last);
        if (h || last.code != FS_EUNREACH)
            break;
    }
    json_decref (r);
    if (!h) {
        *err = last;
        json_decref (g.base);
        return -1;
    }
    json_t *hs = json_object_get (h, "shape");
    int orank = (int)json_array_size (hs);
    fs_dtype_t odt = dtype_parse (json_string_value (json_object_get (h, "dtype")));
    uint64_t total = (uint64_t)json_integer_value (json_object_get (h, "bytes"));
    for (int d = 0; d < orank && d < FS_MAXDIMS; d++)
        oshape[d] = (uint64_t)json_integer_value (json_array_get (hs, (size_t)d));
    json_decref (h);
    if (odt == FS_DT_INVALID || orank > FS_MAXDIMS) {
        client_destroy (g.c);
        json_decref (g.base);
        return errprintf (err, FS_EFAIL, "the site answered with a result this client can't write");
    }
    plan_init (&g.plan, orank, oshape, dtype_size (odt), GET_PIECE);
    char tmp[4096];
    snprintf (tmp, sizeof (tmp), "%s.part-%d", outfile, (int)getpid ());
    g.out = format_out_create (tmp, dsetpath, odt, orank, oshape, err);
    int rc = -1;
    if (g.out) {
        g.bar = progress_create (stderr, sl.name, total, false);
        rc = stream (&g, err);
        progress_finish (g.bar, rc == 0);
        progress_destroy (g.bar);
        fs_error_t cerr;
        if (format_out_close (g.out, &cerr) < 0 && rc == 0) {
            *err = cerr;
            rc = -1;
        }
        if (rc == 0 && rename (tmp, outfile) < 0)
            rc = errprintf (err, FS_EFAIL, "cannot write %s", outfile);
        if (rc < 0)
            unlink (tmp);
    }
    client_destroy (g.c);
    json_decref (g.base);
    return rc;
}

int cmd_get (int argc, char **argv)
{
    struct client_opts co = { 0 };
    const char *out = NULL, *dset = NULL, *reduce = NULL;
    int ex, c;
    while ((c = cli_getopt (argc, argv, &v_get, &co, &ex)) != -1) {
        if (ex >= 0)
            return ex;
        if (c == 'o')
            out = optarg;
        else if (c == 'd')
            dset = optarg;
        else if (c == 'r')
            reduce = optarg;
    }
    if (argc - optind != 1)
        return cli_usage_error (&v_get, "get needs exactly one SLICE");
    if (!out)
        return cli_usage_error (&v_get, "get needs -o OUT.h5");
    fs_error_t err = { 0 };
    if (get_run (&co, argv[optind], out, dset, reduce, &err) < 0)
        return client_fail (&err);
    return 0;
}
