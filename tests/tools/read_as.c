/* read_as - read a slice through the data plane as a site would stage it: the
 * request says "reader: {site, region}", so the serving site applies the policy
 * to that site, exactly as for a task's input (workers/fetch.c, as the worker's
 * staging calls it).  Without CURVE a site takes the claim at its word; this
 * tool lets tests ask the serving site itself, past the scheduler's placement.
 *
 *   read_as SITE REGION SLICE [--reduce OP:B1,..] -o OUT.h5
 *
 * Prints one line of JSON: {"site": serving site, "bytes": N, "suppressed": N,
 * "suppress_below": K or 0}.  Exit codes as fedsched's (1 refused, 2 invalid,
 * 75 unreachable).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/client.h"
#include "common/slice.h"
#include "workers/fetch.h"

static int usage (void)
{
    fprintf (stderr, "usage: read_as SITE REGION SLICE [--reduce OP:B1,..] -o OUT.h5\n");
    return 2;
}

int main (int argc, char **argv)
{
    const char *out = NULL, *reduce = NULL;
    if (argc < 4)
        return usage ();
    for (int i = 4; i < argc; i++) {
        if (!strcmp (argv[i], "-o") && i + 1 < argc)
            out = argv[++i];
        else if (!strcmp (argv[i], "--reduce") && i + 1 < argc)
            reduce = argv[++i];
        else
            return usage ();
    }
    if (!out)
        return usage ();
    struct client_opts co = { .reader_site = argv[1], .reader_region = argv[2] };
    fs_error_t err = { 0 };
    fs_slice_t sl;
    fs_reduce_t red = { 0 };
    if (slice_parse (argv[3], &sl, &err) < 0 || (reduce && reduce_parse (reduce, &red, &err) < 0))
        return client_fail (&err);
    struct client *sc = client_create (&co, client_scheduler_uri (&co), &err);
    json_t *r = sc ? client_call (sc, "catalog.lookup", json_pack ("{s:s}", "name", sl.name), &err)
                   : NULL;
    client_destroy (sc);
    if (!r)
        return client_fail (&err);
    json_t *ds = json_object_get (r, "dataset"), *jshape = json_object_get (ds, "shape");
    uint64_t shape[FS_MAXDIMS];
    int nd = (int)json_array_size (jshape);
    for (int d = 0; d < nd && d < FS_MAXDIMS; d++)
        shape[d] = (uint64_t)json_integer_value (json_array_get (jshape, (size_t)d));
    fs_sel_t sel;
    struct fetch_result res;
    int rc = slice_resolve (&sl, nd, shape, &sel, &err);
    if (rc == 0)
        rc = fetch_slice (&co, sl.name, &sel, &red, json_object_get (ds, "replicas"), out, "/data",
                          NULL, NULL, &res, &err);
    json_decref (r);
    if (rc < 0)
        return client_fail (&err);
    printf ("{\"site\": \"%s\", \"bytes\": %" PRIu64 ", \"suppressed\": %" PRIu64
            ", \"suppress_below\": %" PRIu64 "}\n", res.site, res.bytes, res.suppressed,
            res.suppress_below);
    return 0;
}
