/* keys.h - CURVE key files and allow-lists (docs/operator-guide.md, Security).
 *
 * Key files are the text zsock_keygen() writes:
 *     public = "<40 z85 characters>"
 *     secret = "<40 z85 characters>"     (NAME.key only)
 * An allow-list is a directory of *.pub files.  This module does no ZeroMQ:
 * the ZAP handler of zsock.c asks it who a client key belongs to.
 */
#ifndef FS_KEYS_H
#define FS_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define FS_Z85_KEY 40               /* a 32-byte key in z85 text */

/* Read a key file: pub (and sec when sec is non-NULL, which then must be
 * present) as NUL-terminated z85 text of FS_Z85_KEY characters. */
int keys_read (const char *file, char pub[FS_Z85_KEY + 1], char sec[FS_Z85_KEY + 1], fs_error_t *err);

/* Is pub listed in one of the .pub files of dir?  Unreadable or malformed files list nothing. */
bool keys_listed (const char *dir, const char *pub);

/* Call fn(arg, pub) for the public key of each readable .pub file of dir, in
 * name order; returns how many.  A missing dir lists none. */
size_t keys_each (const char *dir, void (*fn) (void *arg, const char *pub), void *arg);

/* The role of a client key at a server whose key directory is dir:
 * "admin" when listed in dir/admin/, "user" when in dir/authorized/, NULL
 * (refused) otherwise. */
const char *keys_role (const char *dir, const char *pub);

#endif
