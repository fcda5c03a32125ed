/* apps.h - the federation's apps as the scheduler sees them (SPEC section 10).
 *
 * The app table lives in the store (store.h, "apps"): one row per
 * NAME@VERSION, recorded when the site it was published at has checked and
 * kept its bundle (site.app_store), with the sites holding it.  Beside it,
 * in memory, what placement needs of every site: its apps policy (site.hello:
 * the publishers it trusts, the apps it allows, its largest bundle, its
 * sandbox; kept in the store across restarts), which of the apps'
 * requirements it provides (site.probe, asked after each hello and for every
 * new requirement), and which bundles it has unpacked (site.heartbeat).
 *
 * A site may run an app when it trusts the app's publisher, allows its name,
 * takes bundles that large and provides every requirement; otherwise
 * apps_site_may_run() says why, in words, for `explain`.  A site whose answer
 * to a probe is still out is not yet eligible ("has not said yet whether it
 * provides R"): the task waits for it rather than fail somewhere.
 */
#ifndef FS_SCHED_APPS_H
#define FS_SCHED_APPS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "common/manifest.h"
#include "store.h"

struct apps;

/* st borrowed (outlives it).  Loads the sites' apps policies kept in st. */
struct apps *apps_create (struct store *st, fs_error_t *err);
void apps_destroy (struct apps *a);             /* accepts NULL */

/* A site said hello with its apps object (NULL: a worker without apps, which
 * runs none): policy kept, held bundles recorded, its probe results
 * forgotten.  Returns the requirements to probe it for now (new reference;
 * an empty array when there are none); the caller sends site.probe and marks
 * them asked with apps_site_probing(). */
json_t *apps_site_hello (struct apps *a, const char *site, const json_t *body, fs_error_t *err);
void apps_site_probing (struct apps *a, const char *site, const json_t *requires);
/* The site's answer to site.probe ({have, lack}). */
void apps_site_probed (struct apps *a, const char *site, const json_t *body);
/* The site's heartbeat: the digests it has unpacked (may be NULL). */
void apps_site_cached (struct apps *a, const char *site, const json_t *digests);
/* Every requirement of every app (new reference). */
json_t *apps_requirements (struct apps *a);

/* May site run the app meta (a store row)?  1 yes; 0 no, or not yet (probe
 * pending), with why ("does not trust its publisher ...").  site unknown to
 * the apps module (never said hello): 0, "has not said hello". */
int apps_site_may_run (struct apps *a, const char *site, const json_t *meta, char *why,
                       size_t whysz);
/* Does site have the bundle of digest (holds it, or has it unpacked)? */
bool apps_site_has (struct apps *a, const char *site, const json_t *meta);

/* The app NAME@VERSION (new reference), or NULL (FS_ENOTFOUND). */
json_t *apps_get (struct apps *a, const char *name, const char *version, fs_error_t *err);

/* --- placement ------------------------------------------------------------------ */

struct placement_fed;
struct placement_input;
struct registry;

/* A task's app for its placement: the bundle as one more input (its bytes,
 * fetched from a holder, already local where it is held or unpacked) and a
 * veto for each site that can't run it. */
struct app_place {
    json_t *meta;               /* the app's store row */
    char label[APP_REF_MAX + 8];    /* "app NAME@VERSION": the input's name */
    int *reps;                  /* site indices with the bundle */
    int nreps;
    const char **vetoes;        /* one per site index of the placement model */
    char (*why)[256];
    int n;
};

/* Fill ap and *in for app name@version over the sites of f.  -1 with err
 * (FS_ENOTFOUND: unknown app).  Free with apps_place_free (also after -1). */
int apps_place (struct apps *a, const struct placement_fed *f, const char *name,
                const char *version, struct app_place *ap, struct placement_input *in,
                fs_error_t *err);
void apps_place_free (struct app_place *ap);
/* task.start's "app" (new reference) for a task placed at site (an index of
 * f): the claim, and the holders as replicas [{site, uri, state, key,
 * bandwidth?, latency?}], nearest first (placement_sources). */
json_t *apps_start_body (const struct app_place *ap, struct placement_fed *f, int site,
                         struct registry *reg);
/* "NAME@VERSION sha256:HEX" of ap's app, into buf. */
const char *apps_ref (const struct app_place *ap, char *buf, size_t size);

/* --- requests ---------------------------------------------------------------- */

/* app.check / app.publish before the site: the claim in body is well formed
 * (a publish's signature verifies too), NAME@VERSION is new or has this very
 * digest.  *held set when site holds this bundle already (a publish is then a
 * no-op).  -1 with err (FS_EINVAL malformed, FS_EFAIL refused). */
int apps_precheck (struct apps *a, const json_t *body, bool publish, const char *site,
                   bool *held, fs_error_t *err);
/* site.app_store's answer from site: recorded (the app, the holder).  The
 * client's reply (new reference) {name, version, digest, bytes, site, new}, or
 * NULL with err (the NAME@VERSION was taken meanwhile: FS_EFAIL).  *fresh set
 * when the app is new to the federation (its requirements may be new). */
json_t *apps_stored (struct apps *a, const char *site, const json_t *reply, bool *fresh,
                     fs_error_t *err);
/* app.list: {apps: [{name, version, digest, bytes, publisher, publisher_name,
 * description, entry: [names], mpi, requires, sites, trusted_by, cached}]}. */
json_t *apps_list (struct apps *a, const char *glob, fs_error_t *err);

#endif
