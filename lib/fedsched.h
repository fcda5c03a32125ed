/* fedsched.h - libfedsched, the client side of the fedsched protocol: the
 * catalog (list, search, info), slices of any dataset of the federation read
 * into memory or into a new HDF5 file, and jobs (submit, status, wait,
 * cancel).  The fedsched command is built on it, and so is the Python package.
 *
 * Handles are opaque; each function that can fail takes `struct fs_error
 * **err` (may be NULL) and on failure returns -1 or NULL and sets *err to a new
 * error the caller frees with fs_error_free().  An error has a code -- the
 * fedsched command's exit codes, plus FS_ENOTFOUND for unknown names -- and a
 * message saying what went wrong, where, and what to do.
 *
 * Documents (catalog, search, info, job status) are returned as JSON text in
 * the shapes of the command's --json output (docs/user-guide.md); the caller
 * frees them with fs_free().
 *
 * A client is for one thread at a time; open one per thread to read in
 * parallel.  Connection options default to what the command uses: the
 * scheduler from $FEDSCHED_SCHEDULER (else tcp://127.0.0.1:7700), CURVE keys
 * from $FEDSCHED_KEYS, $FEDSCHED_TIMEOUT seconds of silence (default 10)
 * before a peer counts as unreachable, $FEDSCHED_LOCAL_READS.
 *
 * Link with `pkg-config --cflags --libs fedsched`.
 */
#ifndef FEDSCHED_H
#define FEDSCHED_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FS_API_VERSION 1

/* Error codes: the fedsched command's exit codes (SPEC section 3); a command
 * exits 1 for FS_ENOTFOUND. */
enum {
    FS_OK = 0,
    FS_EFAIL = 1,       /* the operation failed or was refused (policy, permission) */
    FS_EINVAL = 2,      /* invalid input: usage, job file, slice, name */
    FS_ENOTFOUND = 3,   /* no such thing: a dataset, a job */
    FS_EUNREACH = 75,   /* the scheduler or a site is unreachable */
    FS_ETIMEOUT = 124,  /* a timeout expired */
};

/* The library's version ("0.1.0") and *api its FS_API_VERSION (api may be NULL). */
const char *fs_version (int *api);

/* --- errors ---------------------------------------------------------- */

struct fs_error;
int fs_error_code (const struct fs_error *e);
/* The message, borrowed until fs_error_free(). */
const char *fs_error_message (const struct fs_error *e);
void fs_error_free (struct fs_error *e);            /* accepts NULL */

/* Memory the library returned (JSON documents). */
void fs_free (void *p);

/* --- connecting ------------------------------------------------------ */

/* Options of a connection, set by name (strings, checked when set):
 *   scheduler    URI of the scheduler (tcp://HOST:PORT)
 *   keys         directory of CURVE keys (client.key, client.pub, server.pub)
 *   timeout      seconds of silence after which a peer is unreachable (> 0)
 *   local_reads  "1" (default) or "0": copy slices of a site on this host from
 *                its file directly (docs/protocol.md, "Local reads")
 * Unknown names and bad values: FS_EINVAL. */
struct fs_options;
struct fs_options *fs_options_new (void);           /* NULL when out of memory */
int fs_options_set (struct fs_options *o, const char *name, const char *value,
                    struct fs_error **err);
void fs_options_free (struct fs_options *o);        /* accepts NULL */

/* A connection to the scheduler (o may be NULL: defaults; copied).  Nothing
 * is sent yet: an unreachable scheduler shows in the first request (FS_EUNREACH;
 * fs_call (c, "ping", ...) asks whether it answers, and says which federation).
 * Caller closes with fs_close(). */
struct fs_client;
struct fs_client *fs_connect (const struct fs_options *o, struct fs_error **err);
void fs_close (struct fs_client *c);                /* accepts NULL */

/* --- the catalog ----------------------------------------------------- */

/* Datasets whose names match glob (NULL: all) and every condition of where
 * (NULL-terminated "KEY=VALUE" / "KEY~TEXT" strings, or NULL): the catalog
 * --json array. */
char *fs_catalog (struct fs_client *c, const char *glob, const char *const *where,
                  struct fs_error **err);
/* Datasets ranked by relevance to text, at most limit (> 0): the search
 * --json array. */
char *fs_search (struct fs_client *c, const char *text, int limit, struct fs_error **err);
/* Everything the catalog knows of one dataset: the info --json object;
 * FS_ENOTFOUND when there is no such dataset. */
char *fs_info (struct fs_client *c, const char *name, struct fs_error **err);

/* --- reading slices -------------------------------------------------- */

/* A read of slice ("NAME" or "NAME[sel, ...]", NumPy basic slicing, SPEC
 * section 2) with an optional block reduction ("OP:B1,B2,..", or NULL).  The
 * slice is checked against the catalog here, so its result's shape and type
 * are known before any byte moves.  Caller closes with fs_read_close(). */
struct fs_read;
struct fs_read *fs_read_open (struct fs_client *c, const char *slice, const char *reduce,
                              struct fs_error **err);
void fs_read_close (struct fs_read *r);             /* accepts NULL */
/* The result: rank, shape (ndims sizes, borrowed), element type ("float32",
 * ...; float64 for mean and sum), size in bytes. */
int fs_read_ndims (const struct fs_read *r);
const uint64_t *fs_read_shape (const struct fs_read *r);
const char *fs_read_dtype (const struct fs_read *r);
uint64_t fs_read_bytes (const struct fs_read *r);
/* Called as the bytes arrive (done of total); NULL: none. */
typedef void (*fs_progress_f) (void *arg, uint64_t done, uint64_t total);
void fs_read_progress (struct fs_read *r, fs_progress_f cb, void *arg);
/* Read the result into buf (size == fs_read_bytes(), row-major, native byte
 * order), from the best replica whose site is up: written there once, piece
 * by piece, with no other copy of the result in memory.  The site checks the
 * dataset's policy (FS_EFAIL when it refuses). */
int fs_read_into (struct fs_read *r, void *buf, size_t size, struct fs_error **err);
/* Read the result into a new HDF5 file (replaced if it exists) as dataset
 * dset (NULL: "/" + the name's last component). */
int fs_read_to_file (struct fs_read *r, const char *file, const char *dset, struct fs_error **err);
/* The last transfer: {name, site, bytes, local_bytes, seconds, suppressed,
 * suppress_below} (JSON): suppressed counts the blocks an aggregate policy's
 * threshold suppress_below (null: none) turned into NaN. */
char *fs_read_report (const struct fs_read *r);

/* --- jobs ------------------------------------------------------------ */

/* Check a job file (SPEC section 4) against the catalog: {name, tasks}; its
 * problems, one FILE:LINE:COL message per line, as FS_EINVAL. */
char *fs_validate (struct fs_client *c, const char *file, struct fs_error **err);
/* Submit a job file; the job's id (> 0).  token (NULL: a new one) makes the
 * request idempotent: it is sent again while no answer comes, and the same
 * token again gets the same job (docs/protocol.md, "Tokens"). */
int64_t fs_submit (struct fs_client *c, const char *file, const char *token, struct fs_error **err);
/* A job's status --json object; FS_ENOTFOUND for an unknown job. */
char *fs_job_status (struct fs_client *c, int64_t id, struct fs_error **err);
/* Wait until the job ends (COMPLETED, FAILED or CANCELLED) or timeout seconds
 * pass (< 0: no limit; FS_ETIMEOUT then): its final status object.  each (may
 * be NULL) sees every status polled, JSON text borrowed for the call. */
typedef void (*fs_status_f) (void *arg, const char *status);
char *fs_job_wait (struct fs_client *c, int64_t id, double timeout, fs_status_f each, void *arg,
                   struct fs_error **err);
/* Cancel a job and kill its running tasks: {state} (its state afterwards). */
char *fs_job_cancel (struct fs_client *c, int64_t id, const char *token, struct fs_error **err);

/* --- any request ----------------------------------------------------- */

/* Send op (docs/protocol.md) with body (a JSON object as text, NULL for {})
 * to the scheduler and return the reply's body as JSON text.  A body with a
 * "token" is idempotent and sent again while no answer comes.  timeout
 * seconds (< 0: none) bound the wait (FS_ETIMEOUT); silence for the
 * connection's timeout is FS_EUNREACH. */
char *fs_call (struct fs_client *c, const char *op, const char *body, double timeout,
               struct fs_error **err);

#ifdef __cplusplus
}
#endif

#endif
