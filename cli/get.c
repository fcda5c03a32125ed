/* get.c - fedsched get: stream a slice from the best replica into a local
 * HDF5 file (SPEC sections 3 and 7).
 *
 * libfedsched checks the slice first (syntax, then against the catalog's
 * shape: fs_read_open), so mistakes cost no transfer, then reads it into the
 * file (fs_read_to_file).
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
#include "progress.h"

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
                    const char *dsetpath, const char *reducetext)
{
    int code = 0;
    fs_error_t oerr;
    if (check_out_dir (outfile, &oerr) < 0)        /* before anything is fetched */
        return client_fail (&oerr);
    struct fs_client *c = cli_client (co, &code);
    if (!c)
        return code;
    struct fs_error *e = NULL;
    struct fs_read *r = fs_read_open (c, slicetext, reducetext, &e);
    if (!r)
        return cli_fail (e, NULL);
    /* The bar is labelled with the dataset's name: the slice up to its '['. */
    char label[300];
    snprintf (label, sizeof (label), "%.*s", (int)strcspn (slicetext, "["), slicetext);
    struct get_bar bar = { NULL, label };
    fs_read_progress (r, show_progress, &bar);
    int rc = fs_read_to_file (r, outfile, dsetpath, &e);
    progress_finish (bar.bar, rc == 0);
    progress_destroy (bar.bar);
    if (rc < 0) {
        fs_read_close (r);
        return cli_fail (e, NULL);
    }
    json_t *o = cli_doc (fs_read_report (r), &code);
    /* An aggregate policy's threshold: the blocks it turned into NaN. */
    json_int_t below = json_integer_value (json_object_get (o, "suppress_below"));
    if (below > 0) {
        uint64_t blocks = 1;
        for (int d = 0; d < fs_read_ndims (r); d++)
            blocks *= fs_read_shape (r)[d];
        fprintf (stderr, "fedsched: %lld of %" PRIu64 " block%s suppressed (NaN in %s): "
                 "their sums are below %lld, the threshold of the dataset's policy\n",
                 (long long)json_integer_value (json_object_get (o, "suppressed")), blocks,
                 blocks == 1 ? "" : "s", outfile, (long long)below);
    }
    if (co->json) {
        if (o) {
            const char *last = strrchr (label, '/');
            char def[310];
            snprintf (def, sizeof (def), "/%s", last ? last + 1 : label);
            json_object_set_new (o, "output", json_string (outfile));
            json_object_set_new (o, "dataset", json_string (dsetpath ? dsetpath : def));
            json_t *out = json_object ();
            static const char *const keys[] = { "name", "site", "output", "dataset", "bytes",
                                                "local_bytes", "seconds", "suppressed",
                                                "suppress_below", NULL };
            for (int k = 0; keys[k]; k++)
                json_object_set (out, keys[k], json_object_get (o, keys[k]));
            cli_print_json (out);
            json_decref (out);
        }
    }
    json_decref (o);
    fs_read_close (r);
    return code;
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
    return get_run (&co, argv[optind], out, dset, reduce);
}
