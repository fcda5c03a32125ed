/* store.h - the scheduler's durable state in SQLite: the catalog (datasets and
 * their replicas) and the sites it has known.  The only module that includes
 * sqlite3.h.  WAL mode, synchronous=FULL: what is acknowledged survives. */
#ifndef FS_STORE_H
#define FS_STORE_H

#include <jansson.h>
#include <stdint.h>

#include "common/error.h"

struct store;

/* Open (create) the database at path.  Caller closes with store_close(). */
struct store *store_open (const char *path, fs_error_t *err);
void store_close (struct store *s);     /* accepts NULL */

/* Register the datasets a site holds (array of {name, file, path, shape,
 * dtype, chunks, bytes, policy}), all in one transaction.  Each entry is
 * validated; refused entries are appended to *refused as {name, reason}
 * (caller owns the new array).  Returns the number registered, -1 on error. */
int store_register (struct store *s, const char *site, const json_t *datasets, json_t **refused,
                    fs_error_t *err);

/* The catalog --json objects (SPEC 3) whose names match glob (NULL: all). */
json_t *store_catalog (struct store *s, const char *glob, fs_error_t *err);
/* One dataset's catalog object plus "ndims" and "replicas":
 * [{site, file, path}], or NULL with FS_ENOTFOUND "unknown dataset". */
json_t *store_lookup (struct store *s, const char *name, fs_error_t *err);
/* --- metadata (store_meta.c; docs/protocol.md, "Metadata") ------------
 * What sites send in a registration entry's "meta" is kept per dataset,
 * flattened to keys for --where and indexed (FTS5) for search. */

/* store_catalog's objects for the datasets that also meet every condition
 * of where (NULL or []: all): an array of "KEY=VALUE" (equal; numbers
 * compare as numbers) or "KEY~TEXT" (contains, ignoring ASCII case)
 * strings; KEY is attrs.NAME, file.NAME, dim.NAME.FIELD, or a bare NAME
 * (the dataset's attribute, else the file's).  FS_EINVAL when malformed. */
json_t *store_catalog_where (struct store *s, const char *glob, const json_t *where,
                             fs_error_t *err);
/* The datasets matching the words of text, best first, at most limit:
 * [{name, score, shape, dtype, policy, matched: [fields]}].  FS_EINVAL when
 * text has no words or limit < 1. */
json_t *store_search (struct store *s, const char *text, int limit, fs_error_t *err);
/* The `info --json` object of one dataset (new reference; replicas
 * [{site}], the caller adds their state); FS_ENOTFOUND when unknown. */
json_t *store_info (struct store *s, const char *name, fs_error_t *err);

/* Number of datasets with a replica at site. */
int store_site_datasets (struct store *s, const char *site);

/* Sites known across restarts: {name, region, data_uri, cores, drained, reason,
 * curve_key}. */
int store_site_save (struct store *s, const char *name, const char *region, const char *data_uri,
                     int cores, const char *curve_key, fs_error_t *err);
int store_site_drain (struct store *s, const char *name, int drained, const char *reason,
                      fs_error_t *err);
json_t *store_sites (struct store *s, fs_error_t *err);

/* Measured bandwidth of the ordered pair src -> dst (bytes/s, an EWMA over
 * samples transfers), kept across restarts; store_links() lists them as
 * [{src, dst, bandwidth, samples}]. */
int store_link_save (struct store *s, const char *src, const char *dst, double bandwidth,
                     unsigned samples, fs_error_t *err);
json_t *store_links (struct store *s, fs_error_t *err);

/* What the dispatcher learned of a command's runtimes (scheduler/dispatch.h:
 * the weighted averages of runtime and input bytes over samples completed
 * tasks; command "" is the federation-wide average), kept across restarts;
 * store_runtimes_load() calls fn once per command.  The strings are borrowed
 * for the call. */
int store_runtime_save (struct store *s, const char *command, double runtime_s, double bytes,
                        unsigned samples, fs_error_t *err);
typedef void (*store_runtime_f) (void *arg, const char *command, double runtime_s, double bytes,
                                 unsigned samples);
int store_runtimes_load (struct store *s, store_runtime_f fn, void *arg, fs_error_t *err);


/* --- jobs ------------------------------------------------------------
 * A job row keeps the job file's text, so a restarted scheduler can parse it
 * again; task rows keep everything status shows.  Writes of one event-loop
 * turn are grouped with store_begin()/store_commit(). */

struct store_task {
    const char *name;
    const char *state;
    const char *site;               /* "" when not placed */
    int ranks;
    int exit_code;                  /* -1000: none */
    double started, ended;          /* 0: not yet */
    int64_t bytes_local, bytes_moved;
    int attempt;
    const char *error;              /* "" when none */
    const char *placement;          /* JSON text, or NULL */
    int failures;                   /* site failures counted against retries; -1:
                                     * unknown (a database from before they were kept) */
};

int store_begin (struct store *s, fs_error_t *err);
int store_commit (struct store *s, fs_error_t *err);
void store_rollback (struct store *s);

/* Insert a job and its tasks in one durable transaction; returns the new id
 * (> 0), or -1. */
int64_t store_job_insert (struct store *s, const char *name, const char *file, const char *text,
                          double submitted, const char *state, size_t ntasks,
                          const struct store_task *tasks, fs_error_t *err);
/* The same inside a transaction the caller opened (store_begin). */
int64_t store_job_add (struct store *s, const char *name, const char *file, const char *text,
                       double submitted, const char *state, size_t ntasks,
                       const struct store_task *tasks, fs_error_t *err);
int store_job_state (struct store *s, int64_t id, const char *state, double ended, fs_error_t *err);
int store_task_save (struct store *s, int64_t job, size_t idx, const struct store_task *t,
                     fs_error_t *err);

/* Every job, oldest first: called once per job with its tasks in order.
 * Strings are borrowed for the call. */
typedef int (*store_job_f) (void *arg, int64_t id, const char *name, const char *file,
                            const char *text, const char *state, double submitted, double ended,
                            size_t ntasks, const struct store_task *tasks);
int store_jobs_load (struct store *s, store_job_f cb, void *arg, fs_error_t *err);
/* The placement record of task idx of job, parsed (new reference), or NULL. */
json_t *store_task_placement (struct store *s, int64_t job, size_t idx);

/* --- submission tokens (docs/protocol.md, "Tokens") ---------------------
 * The reply given to a request that carried a token, kept so that the same
 * request sent again (a client that heard no answer) gets the same answer
 * instead of being done twice.  Kept at least 24 h (store_tokens_prune). */

/* 1 with *reply (new reference) when token is known for op; 0 when unknown;
 * -1 with err (FS_EINVAL when the token was given to another op). */
int store_token_get (struct store *s, const char *token, const char *op, json_t **reply,
                     fs_error_t *err);
/* Keep reply for token (inside the caller's transaction, or on its own). */
int store_token_put (struct store *s, const char *token, const char *op, const json_t *reply,
                     double now, fs_error_t *err);
/* Forget tokens created before `before`; the number forgotten, or -1. */
int store_tokens_prune (struct store *s, double before, fs_error_t *err);

/* --- apps (SPEC section 10) ------------------------------------------------
 * One row per NAME@VERSION with what the site that stored its bundle reported
 * (digest, bytes, publisher, signature, manifest), the sites holding the
 * bundle, each site's apps policy from its hello, and the app each task ran.
 * A NAME@VERSION never changes its digest (store_app_add refuses). */

/* Record meta ({name, version, digest, bytes, publisher, publisher_name,
 * signature, manifest}) as held at site, at time now.  1 a new app, 0 known
 * already (site added as a holder); -1 with FS_EFAIL when NAME@VERSION is
 * published with another digest. */
int store_app_add (struct store *s, const json_t *meta, const char *site, double now,
                   fs_error_t *err);
/* NAME@VERSION: its meta with "sites" (holders) and "published" (seconds);
 * new reference, or NULL with FS_ENOTFOUND. */
json_t *store_app_get (struct store *s, const char *name, const char *version, fs_error_t *err);
/* Every app whose name matches glob (NULL: all), by name, then publication. */
json_t *store_apps (struct store *s, const char *glob, fs_error_t *err);
/* Site holds exactly the bundles of digests (a JSON array) now: its holder
 * rows follow (digests the store doesn't know are ignored). */
int store_app_held (struct store *s, const char *site, const json_t *digests, fs_error_t *err);
/* A site's apps policy (its hello's "apps" without "held"), kept across
 * restarts; store_site_apps gives {site: policy} (new reference). */
int store_site_apps_save (struct store *s, const char *site, const json_t *policy,
                          fs_error_t *err);
json_t *store_site_apps (struct store *s, fs_error_t *err);
/* The app task idx of job ran ("NAME@VERSION sha256:HEX"); store_task_apps
 * gives {idx (text): ref} for a job (new reference). */
int store_task_app_save (struct store *s, int64_t job, size_t idx, const char *ref,
                         fs_error_t *err);
json_t *store_task_apps (struct store *s, int64_t job, fs_error_t *err);

#endif
