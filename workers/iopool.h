/* iopool.h - a bounded pool of threads for long work (HDF5 reads, scans), so
 * the worker's event loop never blocks.  Each thread owns a PUSH socket
 * connected to the loop's PULL socket (bound at uri before the pool starts)
 * and reports results there as messages. */
#ifndef FS_IOPOOL_H
#define FS_IOPOOL_H

#include <stddef.h>

#include "common/error.h"
#include "common/zsock.h"

/* Runs in a pool thread.  out: this thread's PUSH socket to the event loop.
 * The job owns arg and frees it.  out is NULL when the pool is destroyed with
 * the job still queued: then the job only frees arg. */
typedef void (*iopool_job_f) (void *arg, struct zsock *out);

struct iopool;

struct iopool *iopool_create (int nthreads, const char *uri, fs_error_t *err);
/* Finish running jobs, drop queued ones (each called with out NULL to free
 * its arg), join threads. */
void iopool_destroy (struct iopool *p);     /* accepts NULL */
int iopool_submit (struct iopool *p, iopool_job_f fn, void *arg);
/* Jobs submitted and not yet finished. */
size_t iopool_busy (struct iopool *p);

#endif
