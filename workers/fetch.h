/* fetch.h - stream one slice from a site's data plane into a local HDF5 file
 * (SPEC section 7): used by `fedsched get` and by a site staging a task's
 * inputs.
 *
 * data.open at the first reachable replica (the site checks the policy and
 * writes its audit line), then a window of data.piece requests in flight (the
 * credit): each answer carries one piece with its checksum and is written
 * straight into the output at its place, so memory stays at window x piece
 * size.  When the site goes quiet the fetch reconnects and asks again for the
 * pieces it lacks, so the transfer resumes there; it gives up after
 * client_timeout() seconds of silence (FS_EUNREACH).  The file is written under
 * a temporary name and renamed when complete.
 */
#ifndef FS_FETCH_H
#define FS_FETCH_H

#include <jansson.h>
#include <stdint.h>

#include "common/client.h"
#include "common/slice.h"

struct fetch_result {
    uint64_t bytes;             /* bytes received */
    double seconds;             /* from data.open to the last piece */
    char site[64];              /* the replica's site */
};

/* Called after each piece; total is the size of the whole result. */
typedef void (*fetch_progress_f) (void *arg, uint64_t done, uint64_t total);

/* replicas: the "replicas" array of catalog.lookup ([{site, uri, state}]),
 * borrowed; tried in order, skipping sites that are down.  red may be NULL. */
int fetch_slice (const struct client_opts *co, const char *name, const fs_sel_t *sel,
                 const fs_reduce_t *red, const json_t *replicas, const char *out_file,
                 const char *out_dset, fetch_progress_f progress, void *arg,
                 struct fetch_result *res, fs_error_t *err);

#endif
