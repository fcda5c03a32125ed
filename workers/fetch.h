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
 *
 * Local reads (co->local_reads, for `get`): when the site runs on this host and
 * offers its file's path, and this process can open that file itself, the
 * pieces that are plain runs of the file come back as where they lie (offset,
 * and the file's identity) and are copied file to file in the kernel
 * (copy_file_range), one copy instead of three and no checksum pass; any
 * other piece, or all of them once the file is not the one the site reads
 * (replaced, another mount namespace), is streamed as above.
 */
#ifndef FS_FETCH_H
#define FS_FETCH_H

#include <jansson.h>
#include <stdint.h>

#include "common/client.h"
#include "common/slice.h"

struct fetch_result {
    uint64_t bytes;             /* bytes received */
    uint64_t local_bytes;       /*   of which copied from the site's file on this
                                 *   host, not streamed (co->local_reads) */
    double seconds;             /* from data.open to the last piece */
    char site[64];              /* the replica's site */
    /* How it went (flow.h): */
    uint64_t pieces;            /* that arrived */
    uint64_t min_piece, max_piece;  /* sizes asked for */
    uint64_t window;            /* bytes in flight at most, at the end */
    int streams;                /* connections to the site */
    int stalls;                 /* times a stream went quiet and was reconnected */
    uint64_t suppress_below;    /* an aggregate policy's threshold the site applied (0: none) */
    uint64_t suppressed;        /*   and how many blocks it suppressed (NaN) */
};

/* Called after each piece; total is the size of the whole result. */
typedef void (*fetch_progress_f) (void *arg, uint64_t done, uint64_t total);

/* replicas: the "replicas" array of catalog.lookup ([{site, uri, state}]),
 * borrowed; tried in order, skipping sites that are down.  red may be NULL. */
int fetch_slice (const struct client_opts *co, const char *name, const fs_sel_t *sel,
                 const fs_reduce_t *red, const json_t *replicas, const char *out_file,
                 const char *out_dset, fetch_progress_f progress, void *arg,
                 struct fetch_result *res, fs_error_t *err);

/* This host as data.open's 'host' names it: the kernel's boot id and the
 * network namespace, so that sites in namespaces of their own (an emulated
 * WAN) are other hosts.  -1 when it cannot be told. */
#define FETCH_HOST_MAX 96
int fetch_host_id (char *buf, size_t len);

#endif
