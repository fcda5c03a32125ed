/* appcache.h - the apps unpacked at a site for its tasks (SPEC section 10).
 *
 * STATE_DIR/apps/cache/HEX/ holds the bundle with digest sha256:HEX unpacked,
 * read-only (files 0555/0444, directories 0555), shared by every task that
 * runs that app here; cache/HEX.size its size in bytes.  A task's staging
 * makes its app ready (appcache_ensure, in the stage pool):
 *
 *   1. unpacked already: used as it is (and its time touched: the eviction
 *      is least-recently-used);
 *   2. being made ready for another task: wait for that (one fetch and one
 *      unpack however many tasks ask at once);
 *   3. else the bundle is taken from this site's store (published here), or
 *      fetched through the data plane (fetch_bundle: pieces, checksums, flow
 *      control, resume) from a replica, into apps/incoming/, where no task
 *      runs; it is checked there (appstore_verify: size, trust, signature,
 *      allow, digest) before anything of it is unpacked; a replica whose
 *      bundle fails the checks is left for the next one;
 *   4. unpacked into cache/HEX.tmp-*, its app.yaml checked (name and version
 *      as signed, entry points inside and executable), then renamed to
 *      cache/HEX in one step.
 *
 * Unpacked bundles survive worker restarts.  They are evicted with the input
 * cache (executor.c, cache_trim): least recently used first, never one a
 * task not yet ended uses, never one being made ready.
 */
#ifndef FS_APPCACHE_H
#define FS_APPCACHE_H

#include <jansson.h>
#include <limits.h>
#include <stdint.h>

#include "appstore.h"
#include "common/config.h"
#include "common/manifest.h"

struct appcache;

/* cfg and store borrowed (they outlive it).  Removes what an earlier worker
 * left half done. */
struct appcache *appcache_create (const struct site_config *cfg, struct appstore *store,
                                  fs_error_t *err);
void appcache_destroy (struct appcache *c);     /* accepts NULL */

/* What a task needs of its app once it is ready. */
struct app_ready {
    char dir[PATH_MAX];         /* the unpacked bundle */
    char entry[PATH_MAX + APP_PATH_MAX];    /* the entry point asked for, absolute */
    char ref[APP_REF_MAX + SIGN_DIGEST_TEXT];   /* "NAME@VERSION sha256:HEX" */
    bool mpi;
    bool fetched;               /* a transfer ran for this call: */
    char from[64];              /*   from this site, */
    uint64_t bytes;             /*   so many bytes, */
    double seconds;             /*   in so long */
    double fetch_s, verify_s, unpack_s;     /* a first use here: its steps (0 otherwise) */
};

/* Make task.start's app (its claim and replicas) ready here and find its
 * entry point entry (the task's command[0]).  Blocks (stage pool).  -1 with
 * err: FS_EFAIL for a refusal (the reason in words), FS_EUNREACH when no
 * replica could be reached, FS_EINVAL when entry is not one of the app's
 * entry points. */
int appcache_ensure (struct appcache *c, const json_t *app, const char *entry,
                     struct app_ready *out, fs_error_t *err);

/* Unpack the verified bundle file for claim into the cache (step 4 above),
 * unless it is there already; *m (may be NULL) gets its manifest (caller
 * frees).  For the publishing site (site.app_store). */
int appcache_install (struct appcache *c, const char *file, const struct app_claim *claim,
                      struct app_manifest **m, fs_error_t *err);

/* site.app_store (docs/protocol.md, "Apps"): keep the bundle uploaded to this
 * site (app.put) for the claim in body as held here, once it passes every
 * check (appstore_verify) and unpacks with a valid app.yaml (so this site's
 * cache has it at once).  The reply body (new reference): {app: META, new}
 * with META the store's record (claim, publisher_name, manifest from the
 * bundle itself); new is false when the site held it already.  NULL with err
 * (FS_EFAIL refused, FS_EINVAL malformed). */
json_t *appcache_store (struct appcache *c, const json_t *body, fs_error_t *err);

/* The unpacked bundles, for the eviction: digest, bytes, last use. */
typedef void (*appcache_entry_f) (void *arg, const char *digest, uint64_t bytes, double used);
void appcache_list (struct appcache *c, appcache_entry_f f, void *arg);
/* Remove digest's unpacked bundle unless it was used at or after guard
 * (wall-clock seconds) or is being made ready.  1 removed, 0 kept. */
int appcache_evict (struct appcache *c, const char *digest, double guard);
/* The digests unpacked here (new reference): for site.heartbeat. */
json_t *appcache_digests (struct appcache *c);

#endif
