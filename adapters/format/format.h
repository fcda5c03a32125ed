/* format.h - the data-format adapter: what a site needs from a file format.
 *
 * v1 has one implementation, hdf5 (adapters/format/hdf5/), the only module that
 * includes hdf5.h.  Use the serial, thread-safe HDF5 build: callers may use it
 * from several threads, but HDF5 runs one call at a time per process, so keep
 * these calls off an event-loop thread.
 */
#ifndef FS_FORMAT_H
#define FS_FORMAT_H

#include <stdbool.h>
#include <jansson.h>
#include <stdint.h>

#include "common/dtype.h"
#include "common/error.h"
#include "common/slice.h"

typedef struct {
    int ndims;
    uint64_t shape[FS_MAXDIMS];
    fs_dtype_t dtype;
    bool chunked;
    uint64_t chunks[FS_MAXDIMS];    /* valid when chunked */
    char filters[64];               /* "", "gzip", "gzip,shuffle", ... */
} fs_dsinfo_t;

/* Called for each dataset found by format_scan.  info is NULL and skip_reason
 * says why when the dataset can't be published (e.g. "element type compound is
 * not supported (v1: int8..int64, uint8..uint64, float32, float64)").
 * Return non-zero to stop the scan. */
typedef int (*format_visit_f) (void *arg, const char *h5path, const fs_dsinfo_t *info,
                               const char *skip_reason);

/* Disable HDF5's own error printing; call once per process before anything else. */
void format_init (void);

/* Is FILE an HDF5 file we can open?  FS_EFAIL with text when not (corrupt,
 * unreadable, not HDF5). */
int format_probe (const char *file, fs_error_t *err);

/* Visit every dataset in FILE (depth first, names sorted), h5path like "/g/d". */
int format_scan (const char *file, format_visit_f cb, void *arg, fs_error_t *err);

/* Info of one dataset. */
int format_info (const char *file, const char *h5path, fs_dsinfo_t *info, fs_error_t *err);

/* Set the string attribute name of dataset h5path in file to value (replacing
 * one of that name), e.g. an output's fedsched_app.  FS_EFAIL on failure. */
int format_attr_set (const char *file, const char *h5path, const char *name, const char *value,
                     fs_error_t *err);

/* What a file says about one of its datasets (docs/protocol.md, "Metadata"), as
 * a new JSON object, or NULL with err when the file or dataset can't be opened:
 *   {filters: [names],
 *    attrs: {NAME: value}, file_attrs: {NAME: value},   (the dataset's, the root's)
 *    attrs_omitted?: N, file_attrs_omitted?: N,          (past META_ATTRS_MAX)
 *    dims: [{size, name?, scale?, units?, first?, last?, attrs?}]}
 * A value is a string, number, boolean, null (an empty attribute) or an array
 * of up to META_ARRAY_MAX of them; NaN and infinities are the strings "nan",
 * "inf", "-inf".  Anything larger or not text (long strings, big arrays,
 * compound, opaque, reference types, bytes that are not UTF-8) is summarised
 * as {summary: "what it is", text?: "the start of it"}: never left out
 * silently.  dims has one entry per dimension; those with an attached HDF5
 * dimension scale (DIMENSION_LIST, as netCDF-4 writes) name it: name (the
 * scale's NAME, else its path's last part), scale (its HDF5 path), units and
 * the scale's other attributes, and its first and last values (absent for a
 * netCDF dimension without a variable).  A dataset that is itself a 1-D scale
 * is its own dimension.  The attributes that implement scales (CLASS, NAME,
 * DIMENSION_LIST, REFERENCE_LIST, _Netcdf4Dimid, _Netcdf4Coordinates) are
 * described by dims and not repeated. */
#define META_ATTRS_MAX 64
#define META_ARRAY_MAX 16
#define META_STRING_MAX 1024
json_t *format_meta (const char *file, const char *h5path, fs_error_t *err);

/* An open dataset for reading.  Caller closes with format_src_close(). */
struct format_src;
struct format_src *format_src_open (const char *file, const char *h5path, fs_error_t *err);
void format_src_close (struct format_src *src);          /* accepts NULL */
const fs_dsinfo_t *format_src_info (const struct format_src *src);   /* borrowed */
/* Read the selection sel (validated against the shape by the caller) into buf,
 * row-major over sel's counts (dropped dims count 1), in the native layout of
 * the dataset's element type.  buf holds sel_nelems(sel) * dtype_size bytes. */
int format_src_read (struct format_src *src, const fs_sel_t *sel, void *buf, fs_error_t *err);

/* When the bytes format_src_read() would put in buf for sel are one run of the
 * file as it is (contiguous storage, no conversion, the selection a single
 * run in row-major order): 1, with *offset and *len the run in the file open
 * as *fd (HDF5's own descriptor: borrowed, valid until format_src_close()).
 * 0 otherwise. */
int format_src_extent (const struct format_src *src, const fs_sel_t *sel, int *fd,
                       uint64_t *offset, uint64_t *len);

/* An output file being written by a client or a stager.  Creates (truncates)
 * FILE with one dataset at DSET_PATH (intermediate groups created) of dtype and
 * shape (rank 0 = scalar dataspace; zero-sized dimensions allowed).
 * Caller closes with format_out_close(). */
struct format_out;
struct format_out *format_out_create (const char *file, const char *dset_path, fs_dtype_t dt,
                                      int rank, const uint64_t *shape, fs_error_t *err);
/* Write the box [off, off+cnt) from buf (row-major, native layout). */
int format_out_write (struct format_out *o, const uint64_t *off, const uint64_t *cnt,
                      const void *buf, fs_error_t *err);
/* Where the dataset's elements lie in the file: they are stored row-major,
 * contiguous and already allocated from *offset on, so a caller may write a
 * box that is a run of the row-major result straight into the file there
 * (pwrite, copy_file_range) instead of format_out_write().  -1 when there is
 * no storage (an empty dataset). */
int format_out_offset (const struct format_out *o, uint64_t *offset);
/* Close; returns -1 with text if the file could not be finished.  Accepts NULL. */
int format_out_close (struct format_out *o, fs_error_t *err);

#endif
