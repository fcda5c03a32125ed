/* datapolicy.h - the policy each piece of data a site published stands under,
 * kept with the data rather than with a name (SPEC section 8, issue 14).
 *
 * A piece of data is one HDF5 dataset of one file, and a file is its device
 * and inode: every path to it - a symbolic link, a hard link, a second data
 * root, a bind mount - is the same file.  For each (dev, ino, dataset) the site
 * published, explicitly or by changing its policy, the table keeps the policy
 * it stands under now, who set it and when, and one path to the file (for
 * people).  It lives in STATE_DIR/policies.json, written whole to a temporary
 * file, fsynced and renamed over the old one (then the directory fsynced), so a
 * crash leaves the old table or the new one.  A malformed or unreadable table
 * stops the worker: starting without it would loosen every policy it holds.
 *
 * Thread-safe (one lock); lookups are binary searches.
 */
#ifndef FS_DATAPOLICY_H
#define FS_DATAPOLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "common/policy.h"

struct datapolicy;

/* The identity of one dataset of one file. */
struct data_ident {
    uint64_t dev, ino;
    const char *dset;           /* HDF5 path, borrowed */
};

/* Load STATE_DIR/policies.json (none yet: an empty table).  NULL with err
 * (FS_EFAIL) when it exists but cannot be read or parsed. */
struct datapolicy *datapolicy_open (const char *state_dir, fs_error_t *err);
void datapolicy_destroy (struct datapolicy *d);         /* accepts NULL */

/* The recorded policy of id into *out: 1, or 0 when there is none. */
int datapolicy_get (struct datapolicy *d, const struct data_ident *id, fs_policy_t *out);

/* Record p for id (replacing what was there) in memory; file is a path to the
 * file, by the key that asked ("" or NULL: none).  datapolicy_sync() makes it
 * durable.  -1 with FS_EFAIL when out of memory. */
int datapolicy_set (struct datapolicy *d, const struct data_ident *id, const char *file,
                    const fs_policy_t *p, const char *by, fs_error_t *err);

/* Write the table if it changed since the last sync; 0 or -1 (FS_EFAIL). */
int datapolicy_sync (struct datapolicy *d, fs_error_t *err);

#endif
