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
 * [{site, file, path}], or NULL with FS_EFAIL "unknown dataset". */
json_t *store_lookup (struct store *s, const char *name, fs_error_t *err);
/* Number of datasets with a replica at site. */
int store_site_datasets (struct store *s, const char *site);

/* Sites known across restarts: {name, region, data_uri, cores, drained, reason}. */
int store_site_save (struct store *s, const char *name, const char *region, const char *data_uri,
                     int cores, fs_error_t *err);
int store_site_drain (struct store *s, const char *name, int drained, const char *reason,
                      fs_error_t *err);
json_t *store_sites (struct store *s, fs_error_t *err);

#endif
