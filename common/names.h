/* names.h - dataset logical names and other identifiers (SPEC section 2). */
#ifndef FS_NAMES_H
#define FS_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* A logical name: '/'-separated components of [A-Za-z0-9._-]+, no component
 * '.' or '..', no empty component (so no leading, trailing or double '/'),
 * at most 255 bytes.  FS_EINVAL with the offending character's position. */
int name_valid (const char *name, fs_error_t *err);

/* A site or task name: [A-Za-z0-9_-]+, at most 63 bytes. what: "site", "task". */
int ident_valid (const char *what, const char *s, fs_error_t *err);

/* Logical name of dataset H5PATH ("/g/d") in FILE_REL (path of the file relative
 * to its data root, e.g. "conf/grid.h5") under PREFIX ("site1", may be ""):
 * "site1/conf/grid/g/d".  The extension (.h5 .hdf5 .he5 .nc) is removed.
 * Fails (FS_EINVAL) when the result is not a valid name. */
int name_for_dataset (const char *prefix, const char *file_rel, const char *h5path,
                      char *out, size_t outsz, fs_error_t *err);

/* True if PATH ends in one of the HDF5 extensions above. */
bool name_is_hdf5_file (const char *path);

/* fnmatch-style glob on names ('*' matches within and across '/'). */
bool name_glob (const char *pattern, const char *name);

#endif
