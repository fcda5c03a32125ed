/* get.c - fedsched get: stream a slice from the best replica into a local
 * HDF5 file (SPEC sections 3 and 7).
 *
 * The slice is checked here first (syntax, then against the catalog's shape),
 * so mistakes cost no transfer; the transfer itself is workers/fetch.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "common/dtype.h"
#include "common/names.h"
#include "common/slice.h"
#include "progress.h"
#include "workers/fetch.h"

static const struct option get_opts[] = {
    { "output", required_argument, NULL, 'o' },
    { "dataset", required_argument, NULL, 'd' },
    { "reduce", required_argument, NULL, 'r' },
    { NULL, 0, NULL, 0 },
};

static const struct cli_verb v_get = {
    "get", "SLICE -o OUT.h5 [--dataset /PATH] [--reduce OP:B1,B2,..] [--json]",
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
    "                        Data under an aggregate policy is served only as sum or mean\n"
    "                        over whole cells of its grid (its policy: 'fedsched catalog'); with\n"
    "                        a threshold, blocks whose sum is below it come out as NaN and\n"
    "                        their count is printed on stderr.\n"
    "  --json                print what was fetched: name, site, output, dataset, bytes,\n"
    "                        local_bytes (copied from the site's file on this host), seconds,\n"
    "                        suppressed and suppress_below (an aggregate policy's threshold)\n"
    "Environment: FEDSCHED_TIMEOUT (seconds of silence before giving up, default 10);\n"
    "FEDSCHED_LOCAL_READS=0 streams every piece even from a site on this host.",
    "o:d:r:", get_opts,
};

/* The bar appears on the first piece, when the total is known. */
struct get_bar {
    struct progress *bar;
    const char *label;
};

static void show_progress (void *arg, uint64_t done, uint64_t total)
{
    struct get_bar *b = arg;
    if (!b->bar)
        b->bar = progress_create (stderr, b->label, total, false);
    progress_update (b->bar, done);
}

/* OUT's directory must exist and take a new file (the result is written
 * beside OUT, then renamed): said before anything is fetched, in words. */
static int check_out_dir (const char *outfile, fs_error_t *err)
{
    char dir[PATH_MAX];
    const char *slash = strrchr (outfile, '/');
    if (!slash)
        snprintf (dir, sizeof (dir), ".");
    else if (slash == outfile)
        snprintf (dir, sizeof (dir), "/");
    else
        snprintf (dir, sizeof (dir), "%.*s", (int)(slash - outfile), outfile);
    struct stat st;
    if (stat (dir, &st) < 0)
        return errprintf (err, FS_EFAIL, "-o %s: directory %s %s (create it first, or write "
                          "elsewhere)", outfile, dir, errno == ENOENT ? "does not exist"
                          : strerror (errno));
    if (!S_ISDIR (st.st_mode))
        return errprintf (err, FS_EFAIL, "-o %s: %s is not a directory", outfile, dir);
    if (access (dir, W_OK | X_OK) < 0)
        return errprintf (err, FS_EFAIL, "-o %s: cannot create a file in directory %s: %s",
                          outfile, dir, strerror (errno));
    return 0;
}

static int get_run (const struct client_opts *co, const char *slicetext, const char *outfile,
                    const char *dsetpath, const char *reducetext, fs_error_t *err)
{
    fs_slice_t sl;
    fs_reduce_t red = { 0 };
    if (slice_parse (slicetext, &sl, err) < 0 || (reducetext && reduce_parse (reducetext, &red, err) < 0))
        return -1;
    if (check_out_dir (outfile, err) < 0)
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
    uint64_t oshape[FS_MAXDIMS], blocks = 1;
    int orank = 0;
    if (slice_resolve (&sl, ndims, shape, &sel, err) < 0) {
        json_decref (r);
        return -1;                      /* the message names the slice and the column */
    }
    if (red.op != RED_NONE && (orank = reduce_out_shape (&sel, &red, oshape, err)) < 0) {
        json_decref (r);
        return errprefix (err, "%s", slicetext);
    }
    for (int d = 0; d < orank; d++)
        blocks *= oshape[d];
    struct get_bar bar = { NULL, sl.name };
    struct fetch_result res;
    int rc = fetch_slice (co, sl.name, &sel, &red, json_object_get (ds, "replicas"), outfile,
                          dsetpath, show_progress, &bar, &res, err);
    json_decref (r);
    progress_finish (bar.bar, rc == 0);
    progress_destroy (bar.bar);
    /* An aggregate policy's threshold: the blocks it turned into NaN. */
    if (rc == 0 && res.suppress_below)
        fprintf (stderr, "fedsched: %" PRIu64 " of %" PRIu64 " block%s suppressed (NaN in %s): "
                 "their sums are below %" PRIu64 ", the threshold of the dataset's policy\n",
                 res.suppressed, blocks, blocks == 1 ? "" : "s", outfile, res.suppress_below);
    if (rc == 0 && co->json) {
        json_t *o = json_pack ("{s:s, s:s, s:s, s:s, s:I, s:I, s:f, s:I, s:o}", "name", sl.name,
                               "site", res.site, "output", outfile, "dataset", dsetpath, "bytes",
                               (json_int_t)res.bytes, "local_bytes", (json_int_t)res.local_bytes,
                               "seconds", res.seconds, "suppressed", (json_int_t)res.suppressed,
                               "suppress_below", res.suppress_below
                               ? json_integer ((json_int_t)res.suppress_below) : json_null ());
        if (o)
            cli_print_json (o);
        json_decref (o);
    }
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
    const char *lr = getenv ("FEDSCHED_LOCAL_READS");
    co.local_reads = !lr || strcmp (lr, "0");
    fs_error_t err = { 0 };
    if (get_run (&co, argv[optind], out, dset, reduce, &err) < 0)
        return client_fail (&err);
    return 0;
}
