/* sign.h - digests and signatures of app bundles (SPEC section 10): SHA-256
 * content addresses (OpenSSL's libcrypto: it uses the CPU's SHA extensions)
 * and Ed25519 publisher signatures (libsodium); the only module that includes
 * sodium.h or openssl/.
 *
 * A publisher signs a statement that binds the app's name and version to the
 * bundle's digest, so a signature can't be moved to another app or version:
 *
 *     "fedsched-app-v1 NAME@VERSION sha256:HEX"
 *
 * Text forms (what files, messages and `apps --json` carry):
 *   digest      "sha256:" + 64 lower-case hex digits
 *   public key  "ed25519:" + 64 hex digits
 *   signature   128 hex digits (the 64-byte detached Ed25519 signature)
 *
 * Key files, written by `fedsched keygen DIR --sign --name NAME`:
 *   NAME.pub  one line "ed25519:HEX NAME"                      (mode 0644)
 *   NAME.key  one line "ed25519-secret:HEX128 NAME" (libsodium's 64-byte
 *             secret key: seed and public key)                  (mode 0600)
 * A trust directory is a directory of *.pub files; other files, and .pub files
 * that do not parse, are ignored (and counted, for the operator's log).
 */
#ifndef FS_SIGN_H
#define FS_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define SIGN_DIGEST_TEXT 72         /* "sha256:" + 64 hex + NUL */
#define SIGN_KEY_TEXT 73            /* "ed25519:" + 64 hex + NUL */
#define SIGN_SIG_TEXT 129           /* 128 hex + NUL */
#define SIGN_NAME_MAX 64            /* a key's name: [A-Za-z0-9._-]+, < 64 bytes */

/* Once per process before anything else here (the daemons and the command
 * call it; idempotent and thread-safe).  -1 with err if libsodium can't start. */
int sign_init (fs_error_t *err);

/* SHA-256 of len bytes at data, as "sha256:HEX". */
void sign_sha256_buf (const void *data, size_t len, char out[SIGN_DIGEST_TEXT]);
/* SHA-256 of everything fd reads from its current offset to its end; *bytes
 * (may be NULL) gets how many.  -1 with err (FS_EFAIL) on a read error. */
int sign_sha256_fd (int fd, char out[SIGN_DIGEST_TEXT], uint64_t *bytes, fs_error_t *err);
/* The same for the file at path. */
int sign_sha256_file (const char *path, char out[SIGN_DIGEST_TEXT], uint64_t *bytes,
                      fs_error_t *err);

/* Is s a well-formed digest / public key / signature text? */
bool sign_digest_valid (const char *s);
bool sign_key_valid (const char *s);
bool sign_sig_valid (const char *s);

/* A signing key pair (secret: keep it in memory no longer than needed). */
struct sign_key {
    char pub[SIGN_KEY_TEXT];        /* "ed25519:HEX" */
    char name[SIGN_NAME_MAX];
    unsigned char secret[64];       /* zeroed by sign_key_wipe() */
};

/* Make a new pair named name and write DIR/NAME.key (0600) and DIR/NAME.pub
 * (0644); neither may exist yet (FS_EFAIL: refused to overwrite).  FS_EINVAL
 * for a bad name. */
int sign_keygen (const char *dir, const char *name, fs_error_t *err);
/* Read a NAME.key file.  FS_EFAIL when unreadable, FS_EINVAL when malformed. */
int sign_key_read (const char *path, struct sign_key *key, fs_error_t *err);
void sign_key_wipe (struct sign_key *key);

/* The statement for name@version with digest, into buf (>= 256 bytes). */
void sign_statement (const char *name, const char *version, const char *digest, char *buf,
                     size_t size);
/* Sign the statement of (name, version, digest) with key: sig gets the hex. */
int sign_app (const struct sign_key *key, const char *name, const char *version,
              const char *digest, char sig[SIGN_SIG_TEXT], fs_error_t *err);
/* Does sig verify for (name, version, digest) under the public key pub?
 * 0 yes; -1 with err: FS_EINVAL for malformed texts, FS_EFAIL for a signature
 * that does not verify. */
int sign_verify_app (const char *pub, const char *name, const char *version, const char *digest,
                     const char *sig, fs_error_t *err);

/* --- trust directories -------------------------------------------------------- */

struct sign_trust;

/* Load the *.pub files of dir (the site's apps.trust).  A missing directory is
 * an error (FS_EINVAL); an empty one trusts nobody.  Caller frees with
 * sign_trust_destroy(). */
struct sign_trust *sign_trust_load (const char *dir, fs_error_t *err);
/* A set that trusts nobody (a site without apps.trust). */
struct sign_trust *sign_trust_empty (void);
void sign_trust_destroy (struct sign_trust *t);     /* accepts NULL */
size_t sign_trust_count (const struct sign_trust *t);
/* Key i ("ed25519:HEX") and its name (the .pub's comment, else its file name
 * without .pub); borrowed until sign_trust_destroy(). */
const char *sign_trust_key (const struct sign_trust *t, size_t i);
const char *sign_trust_name (const struct sign_trust *t, size_t i);
/* .pub files that could not be read or parsed (for the log). */
size_t sign_trust_skipped (const struct sign_trust *t);
bool sign_trust_has (const struct sign_trust *t, const char *pub);

/* Read a NAME.pub file: *pub (and name, may be NULL) filled. */
int sign_pub_read (const char *path, char pub[SIGN_KEY_TEXT], char name[SIGN_NAME_MAX],
                   fs_error_t *err);

#endif
