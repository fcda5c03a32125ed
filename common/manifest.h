/* manifest.h - an app's manifest, app.yaml (SPEC section 10; docs/user-guide.md,
 * "Apps"), and the NAME@VERSION references of job files.
 *
 *     name: heatwave                 required; [A-Za-z0-9._-]+ starting with a letter
 *                                    or digit, at most 63 bytes
 *     version: 1.2.0                 required; [A-Za-z0-9._+-]+, same limits; a
 *                                    published NAME@VERSION never changes
 *     description: text              optional, at most 1000 bytes
 *     entry:                         required, 1..64 entry points: NAME -> path
 *       heat-index: bin/heat-index   inside the app's directory (relative, no '..',
 *                                    not through a symlink out, executable)
 *     mpi: true                      optional (default false): may run with ranks > 1
 *     requires: [mpirun, libhdf5_openmpi.so.103]
 *                                    optional, at most 64: what a site must provide;
 *                                    "lib*.so*" is a shared library the dynamic
 *                                    linker finds, anything else a command on the
 *                                    PATH of the site's tasks
 *
 * Errors are FS_EINVAL "FILE:LINE:COL: message" (FS_EFAIL when the file can't
 * be read); unknown keys are errors.  The manifest's JSON form, carried by
 * app.publish and site.app_store (docs/protocol.md), is
 * {name, version, description, entry: {NAME: PATH}, mpi, requires: [...]}.
 */
#ifndef FS_MANIFEST_H
#define FS_MANIFEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "sign.h"

#define APP_MANIFEST "app.yaml"
#define APP_NAME_MAX 64             /* names, versions, entry names: 63 bytes + NUL */
#define APP_ENTRY_MAX 64
#define APP_PATH_MAX 1024
#define APP_DESC_MAX 1001
#define APP_REQUIRES_MAX 64
#define APP_REQ_MAX 128
#define APP_REF_MAX (2 * APP_NAME_MAX)  /* "NAME@VERSION" + NUL */

struct app_entry {
    char name[APP_NAME_MAX];
    char path[APP_PATH_MAX];
    int line, col;                  /* of the path, for messages; 0 from JSON */
};

struct app_manifest {
    char file[APP_PATH_MAX];        /* the name used in messages */
    char name[APP_NAME_MAX];
    char version[APP_NAME_MAX];
    char description[APP_DESC_MAX];
    bool mpi;
    int nentry;
    struct app_entry entry[APP_ENTRY_MAX];
    int nrequires;
    char requires[APP_REQUIRES_MAX][APP_REQ_MAX];
};

/* Parse FILE (name: used in messages) / text.  Returns a manifest (caller frees
 * with free()) or NULL with err. */
struct app_manifest *manifest_load_file (const char *file, fs_error_t *err);
struct app_manifest *manifest_load_string (const char *name, const char *text, size_t len,
                                           fs_error_t *err);
/* The entry points against the app's directory dir: each exists there as a
 * regular file that is executable and does not lead out of dir (absolute,
 * '..', a symlink out).  "FILE:LINE:COL: entry NAME: ..." (FS_EINVAL). */
int manifest_check_dir (const struct app_manifest *m, const char *dir, fs_error_t *err);

/* The JSON form (new reference), and back (checked as the YAML is; the
 * message's op names the source in errors: FS_EINVAL).  A NULL from
 * manifest_from_json comes with err; the manifest is freed with free(). */
json_t *manifest_to_json (const struct app_manifest *m);
struct app_manifest *manifest_from_json (const json_t *j, const char *what, fs_error_t *err);

/* The path of entry point name, or NULL. Borrowed. */
const char *manifest_entry (const struct app_manifest *m, const char *name);
/* Is requirement r a shared library (else a command)? */
bool manifest_req_is_lib (const char *r);

/* A claim is what a message says of a bundle (docs/protocol.md, "Apps"):
 * {name, version, digest, bytes, publisher, signature}, each checked for
 * form (not yet whether the signature verifies: sign_verify_app). */
struct app_claim {
    char name[APP_NAME_MAX];
    char version[APP_NAME_MAX];
    char digest[SIGN_DIGEST_TEXT];
    uint64_t bytes;
    char publisher[SIGN_KEY_TEXT];
    char signature[SIGN_SIG_TEXT];
};

/* Fill c from a JSON object with those fields (what: the message, for
 * errors).  FS_EINVAL when a field is missing or malformed (an empty or absent
 * signature included: "not signed"). */
int app_claim_from_json (const json_t *j, const char *what, struct app_claim *c, fs_error_t *err);
json_t *app_claim_to_json (const struct app_claim *c);
/* The hex digits of c->digest (the file names' HEX). */
const char *app_claim_hex (const struct app_claim *c);

/* Names and versions (FS_EINVAL with what is wrong). */
int app_name_valid (const char *s, fs_error_t *err);
int app_version_valid (const char *s, fs_error_t *err);
/* "NAME@VERSION" into name and version (each APP_NAME_MAX). */
int app_ref_parse (const char *ref, char *name, char *version, fs_error_t *err);

#endif
