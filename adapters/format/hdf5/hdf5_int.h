/* hdf5_int.h - what the files of the hdf5 format adapter share (not for use
 * outside adapters/format/hdf5/): error text from HDF5's stack, files opened
 * read-only, datasets opened without crossing external links. */
#ifndef FS_HDF5_INT_H
#define FS_HDF5_INT_H

#include <stdbool.h>
#include <hdf5.h>

#include "adapters/format/format.h"

struct h5_msg {
    char text[384];
    bool found;
};

/* An external-link callback's record: set when a path tried to leave the file. */
struct elink_guard {
    bool refused;
    char target[512];
};

/* Switch HDF5's error printing off for this thread (call first in every entry point). */
void h5_quiet (void);
/* The innermost message of this thread's HDF5 error stack; clears the stack. */
const char *h5_error (struct h5_msg *m);
/* errprintf "FILE[:DSET]: WHAT: <HDF5's message>" (FS_EFAIL); returns -1. */
int h5_fail (fs_error_t *err, const char *file, const char *dset, const char *what);
/* A dataset (and link) access list refusing external links (records into g);
 * cache_bytes > 0 sets the chunk cache.  Caller closes with H5Pclose. */
hid_t make_dapl (struct elink_guard *g, size_t cache_bytes, size_t cache_slots);
/* FILE opened read-only after checking it is a regular HDF5 file; -1 with err. */
hid_t file_open (const char *file, fs_error_t *err);
/* h5path in fid as a dataset (dapl from make_dapl with g); -1 with err. */
hid_t dset_open (hid_t fid, const char *file, const char *h5path, hid_t dapl,
                 struct elink_guard *g, fs_error_t *err);
/* Describe the open dataset: 0 filled, 1 unsupported (why[]), -1 HDF5 error. */
int dset_describe (hid_t did, fs_dsinfo_t *info, char *why, size_t whylen);

#endif
