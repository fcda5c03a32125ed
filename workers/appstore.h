/* appstore.h - a site's apps (SPEC section 10): its policy for them (site.yaml
 * apps: trust, allow, sandbox, max_bytes), the checks every bundle passes
 * before anything of it is unpacked, the bundles the site holds (those
 * published here, which it serves to other sites), their uploads, and the
 * requirements probe.
 *
 * Layout of STATE_DIR/apps/ (the unpacked cache is workers/appcache.c's):
 *   store/HEX.fsb    a bundle held here (HEX: the digest's 64 hex digits)
 *   store/HEX.json   what is known of it: {name, version, digest, bytes,
 *                    publisher, publisher_name, signature, manifest}
 *   incoming/HEX.part  an upload in progress (app.put), not yet checked
 *
 * A claim is what a message says of a bundle: {name, version, digest, bytes,
 * publisher, signature}.  appstore_verify() checks a file against a claim in
 * this order, cheapest first: size (== bytes, <= max_bytes), publisher in the
 * trust directory, signature over "fedsched-app-v1 NAME@VERSION DIGEST",
 * name allowed, then SHA-256 of the file == digest.  Every refusal is
 * FS_EFAIL with the reason in words (what `explain` and the task's error
 * show).
 *
 * Thread-safe: the I/O pool's threads use it at once.  The policy is fixed
 * at start; the trust directory is read again when it changes (below).
 */
#ifndef FS_APPSTORE_H
#define FS_APPSTORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "adapters/sandbox/sandbox.h"
#include "common/config.h"
#include "common/manifest.h"
#include "common/msg.h"
#include "common/sign.h"

struct appstore;

/* cfg (borrowed, outlives it): loads apps.trust, picks the sandbox, makes the
 * directories.  NULL with err when the trust directory can't be read or the
 * named sandbox can't run here. */
struct appstore *appstore_create (const struct site_config *cfg, fs_error_t *err);
void appstore_destroy (struct appstore *s);     /* accepts NULL */

const struct sandbox *appstore_sandbox (const struct appstore *s);
uint64_t appstore_max_bytes (const struct appstore *s);
/* Does apps.allow let the app called name run here? */
bool appstore_allows (const struct appstore *s, const char *name);
/* Is publisher in the trust directory?  The directory is read again when it
 * changed since (a .pub added, removed or renamed), so revoking a publisher
 * needs no restart; placement learns of it at the worker's next hello. */
bool appstore_trusts (struct appstore *s, const char *publisher);
/* The name a trusted key has here (its .pub file), or "". */
void appstore_publisher_name (struct appstore *s, const char *publisher, char name[SIGN_NAME_MAX]);

/* Check file against c (above).  0, or -1 with err (FS_EFAIL). */
int appstore_verify (struct appstore *s, const char *file, const struct app_claim *c,
                     fs_error_t *err);

/* Paths (buf >= PATH_MAX): the held bundle, the upload, a temporary name for
 * a fetch, all by the digest's hex. */
void appstore_held_path (const struct appstore *s, const char *hex, char *buf, size_t size);
void appstore_incoming_path (const struct appstore *s, const char *hex, char *buf, size_t size);
/* The held bundle of digest ("sha256:HEX"), if this site holds it: 1 with its
 * path in buf, 0 if not (or the digest is malformed). */
int appstore_held (const struct appstore *s, const char *digest, char *buf, size_t size);
/* Keep file (a verified bundle, renamed into the store) as held, with meta
 * (the store/HEX.json object: claim, publisher_name, manifest).  Borrowed. */
int appstore_hold (struct appstore *s, const char *file, const struct app_claim *c,
                   const json_t *meta, fs_error_t *err);
/* The meta object of a held bundle (new reference), or NULL. */
json_t *appstore_held_meta (const struct appstore *s, const char *digest);

/* site.hello's "apps": {trust: [{key, name}], allow: [globs] (empty: all),
 * sandbox, max_bytes, held: [digests]}.  New reference. */
json_t *appstore_hello (struct appstore *s);

/* app.put (an upload piece, docs/protocol.md): the request m and its data
 * frame (data, len).  Writes it into incoming/HEX.part.  The reply body
 * (new reference) or NULL with err. */
json_t *appstore_put (struct appstore *s, const struct msg *m, const void *data, size_t len,
                      fs_error_t *err);

/* site.probe: which of requires (a JSON array of strings) this site provides:
 * {have: [...], lack: [...]}.  Commands are looked up on the worker's PATH (the
 * PATH its tasks get), libraries in the dynamic linker's cache (ldconfig -p)
 * and its default directories.  New reference; NULL with err (FS_EINVAL) for a
 * malformed list. */
json_t *appstore_probe (const json_t *requires, fs_error_t *err);

#endif
