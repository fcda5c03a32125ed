/* holdings.h - the datasets a site holds and serves: found by scanning its data
 * roots, or published on request.  Thread-safe (the I/O threads look entries
 * up while the publisher adds them).  Paths are confined to the data roots:
 * anything that resolves outside them ('..', absolute paths, symlinks out) is
 * refused. */
#ifndef FS_HOLDINGS_H
#define FS_HOLDINGS_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "adapters/format/format.h"
#include "common/config.h"
#include "common/policy.h"

struct holding {
    char name[FS_NAME_MAX + 1];
    char file[PATH_MAX];        /* absolute, inside a data root */
    char path[1024];            /* HDF5 path in the file */
    fs_dsinfo_t info;
    fs_policy_t policy;
    uint64_t dev, ino;          /* the file's identity (stat): the data is (dev, ino, path) */
};

struct holdings;

/* cfg is borrowed and must outlive the holdings.  Loads the policies the
 * site's data was published with (STATE_DIR/policies.json, datapolicy.h):
 * NULL with err (FS_EFAIL) when that table exists but cannot be read. */
struct holdings *holdings_create (const struct site_config *cfg, fs_error_t *err);
void holdings_destroy (struct holdings *h);     /* accepts NULL */

/* Scan every data root, then replay the publications recorded in the state
 * directory and the outputs of earlier tasks.  Every dataset stands under the
 * policy recorded for its data, within the floors of the data roots it is
 * found in; the holdings of one piece of data (links, other names, other
 * roots) all get the meet of theirs.  Appends the registration entry of
 * every holding to datasets, and {path, reason} to skipped (unreadable or
 * corrupt files, unsupported types). */
int holdings_scan (struct holdings *h, json_t *datasets, json_t *skipped, fs_error_t *err);

/* Publish PATH (relative to a data root, or absolute inside one; a file or a
 * directory) with an optional NAME (single file only) and POLICY string
 * (NULL: the policy the data stands under; the floor for new data), as asked
 * by key `by` (NULL or "" without CURVE; for the audit lines).  A publish
 * never loosens: a dataset whose data stands under a policy stricter than
 * POLICY (recorded, a data root's floor, or another name's) is refused, into
 * skipped with the standing policy in the reason; a stricter POLICY tightens
 * every name of the data, whose entries are appended to datasets with the new
 * ones.  Refusals: FS_EFAIL (outside the roots, not found, nothing published
 * from a single file), FS_EINVAL (bad name or policy).  On success the
 * publication and the data's policy are recorded for restarts. */
int holdings_publish (struct holdings *h, const char *path, const char *name, const char *policy,
                      const char *by, json_t *datasets, json_t *skipped, fs_error_t *err);

/* Change the policy of the data behind NAME (every name it has) to POLICY, as
 * asked by key `by`: a tightening always; a loosening only with loosen set,
 * and never below the floor of a data root the data is in.  The registration
 * entries of every name of the data go to datasets; the policy before goes to
 * before.  FS_EFAIL (unknown name, refused), FS_EINVAL (bad policy). */
int holdings_set_policy (struct holdings *h, const char *name, const char *policy, bool loosen,
                         const char *by, json_t *datasets, char *before, size_t beforesz,
                         fs_error_t *err);

/* Add (or replace) one holding, e.g. a task's output; its registration
 * entry is appended to entries when not NULL.  -1 when out of memory. */
int holdings_add (struct holdings *h, const struct holding *e, json_t *entries);

/* One audit line in the site's log (every publish, refusal and policy change):
 * op, who (a key; "-" without one), what (file, HDF5 dataset, name), the
 * policy before and after, result ("ok", "refused") and why (may be NULL).
 * Any string may be NULL or "" ("-"). */
void holdings_audit (const char *op, const char *by, const char *file, const char *dset,
                     const char *name, const char *before, const char *after, const char *result,
                     const char *reason);

/* Copy the holding called name into *out; -1 with FS_EFAIL when unknown. */
int holdings_find (struct holdings *h, const char *name, struct holding *out, fs_error_t *err);

/* Registration entries of every holding (to register again after the
 * scheduler restarted).  New reference. */
json_t *holdings_entries (struct holdings *h);
size_t holdings_count (struct holdings *h);

#endif
