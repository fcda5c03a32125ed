/* holdings.h - the datasets a site holds and serves: found by scanning its data
 * roots, or published on request.  Thread-safe (the I/O threads look entries
 * up while the publisher adds them).  Paths are confined to the data roots:
 * anything that resolves outside them ('..', absolute paths, symlinks out) is
 * refused. */
#ifndef FS_HOLDINGS_H
#define FS_HOLDINGS_H

#include <jansson.h>
#include <limits.h>

#include "adapters/format/format.h"
#include "common/config.h"
#include "common/policy.h"

struct holding {
    char name[FS_NAME_MAX + 1];
    char file[PATH_MAX];        /* absolute, inside a data root */
    char path[1024];            /* HDF5 path in the file */
    fs_dsinfo_t info;
    fs_policy_t policy;
};

struct holdings;

/* cfg is borrowed and must outlive the holdings. */
struct holdings *holdings_create (const struct site_config *cfg);
void holdings_destroy (struct holdings *h);     /* accepts NULL */

/* Scan every data root, then replay the publications recorded in the state
 * directory.  Appends registration entries to datasets and {path, reason} to
 * skipped (unreadable or corrupt files, unsupported types). */
int holdings_scan (struct holdings *h, json_t *datasets, json_t *skipped, fs_error_t *err);

/* Publish PATH (relative to a data root, or absolute inside one; a file or a
 * directory) with an optional NAME (single file only) and POLICY string.
 * Refusals: FS_EFAIL (outside the roots, not found), FS_EINVAL (bad name or
 * policy).  On success the publication is recorded for restarts. */
int holdings_publish (struct holdings *h, const char *path, const char *name, const char *policy,
                      json_t *datasets, json_t *skipped, fs_error_t *err);

/* Add (or replace) one holding, e.g. a task's output; its registration
 * entry is appended to entries when not NULL.  -1 when out of memory. */
int holdings_add (struct holdings *h, const struct holding *e, json_t *entries);

/* Copy the holding called name into *out; -1 with FS_EFAIL when unknown. */
int holdings_find (struct holdings *h, const char *name, struct holding *out, fs_error_t *err);

/* Registration entries of every holding (to register again after the
 * scheduler restarted).  New reference. */
json_t *holdings_entries (struct holdings *h);
size_t holdings_count (struct holdings *h);

#endif
