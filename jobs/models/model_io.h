/* model_io.h - shared plumbing for fedsched's example MPI models.
 *
 * The models (regrid, anomaly, ensemble_mean, risk_index, climatology) are plain
 * MPI programs on parallel HDF5.  This module is the only place that includes
 * mpi.h and hdf5.h: it parses the `FILE.h5:/DSET` arguments that fedsched's
 * `{in.NAME}` / `{out.NAME}` placeholders expand to, opens inputs with the MPI-IO
 * driver, splits rows across ranks, reads and writes boxes of float64 with
 * collective transfers, creates output files and datasets, and reports errors.
 *
 * Error model (what a user of a model sees):
 *   - exit 2: the command line is malformed (checked before any file is opened);
 *     rank 0 prints "NAME: error: ..." and the usage line.
 *   - exit 1: anything after that: a missing file or dataset, an unsupported type,
 *     shapes that do not fit together, an I/O failure.  Exactly one rank prints
 *     "NAME: error: FILE.h5:/DSET: what went wrong".
 * Failures that every rank sees alike (metadata, shapes) end all ranks cleanly with
 * MPI_Finalize.  A failure inside a collective data transfer may be seen by some
 * ranks only; there the failing rank prints its message and calls MPI_Abort, so a
 * model never hangs on an error.
 *
 * Functions whose name ends in a verb that can fail do not return on failure: they
 * end the program as described above.  All functions marked "collective" must be
 * called by every rank in the same order with the same arguments (except the
 * row boxes of reads and writes, which are per rank and may be empty).
 */
#ifndef FEDSCHED_MODEL_IO_H
#define FEDSCHED_MODEL_IO_H

#include <stddef.h>
#include <stdint.h>

#define MODEL_MAX_DIMS 32

/* One running model program: its name, MPI rank and size, start time. */
struct model;

/* A parsed `FILE:/DSET` argument.  Owns file and dset; text is borrowed from argv. */
struct model_ref {
    char *file;
    char *dset;
    const char *text;
};

/* An open dataset, for reading (opened with model_dset_open, owns its file) or
 * writing (made with model_file_dataset).  Shape is fixed once open. */
struct model_dset;

/* An output file open for writing with the MPI-IO driver. */
struct model_file;

/* Initialise MPI and the HDF5 error reporting.  `usage` is the synopsis printed after
 * "usage: " (e.g. "regrid --factor F IN.h5:/DSET OUT.h5:/DSET"), `help` an optional
 * longer text for --help.  Handles -h/--help itself (prints on rank 0, exits 0).
 * Returns the model; never NULL.  Collective. */
struct model *model_init(int *argc, char ***argv, const char *name,
                         const char *usage, const char *help);

int model_rank(const struct model *m);
int model_size(const struct model *m);
const char *model_name(const struct model *m);

/* Usage error: rank 0 prints "NAME: error: MSG" and the usage line, every rank
 * exits 2.  Call it on every rank (argument checks are the same on all ranks). */
_Noreturn void model_usage(struct model *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A failure every rank has found alike (e.g. shapes that do not fit): rank 0 prints
 * "NAME: error: MSG", every rank exits `code`.  Call it on every rank. */
_Noreturn void model_fail(struct model *m, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A failure on this rank alone, where the other ranks may be inside a collective
 * call: print "NAME: error: MSG (rank R)" and MPI_Abort with exit code 1. */
_Noreturn void model_abort(struct model *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Parse `FILE:/DSET` (split at the last ":/"; FILE non-empty; DSET absolute with a
 * name in it).  On a malformed argument: model_usage naming `what` (e.g. "IN").
 * The caller frees the result's strings with model_ref_clear(). */
void model_ref_parse(struct model *m, const char *what, const char *arg,
                     struct model_ref *ref);
void model_ref_clear(struct model_ref *ref);

/* Parse a positive integer / a finite real for option `opt`; model_usage if not. */
long model_parse_count(struct model *m, const char *opt, const char *text);
double model_parse_real(struct model *m, const char *opt, const char *text);

/* The command line "OPT N IN.h5:/DSET OUT.h5:/DSET" (OPT also as OPT=N, in any
 * position): the required positive integer option, and the two references in
 * pos[0], pos[1].  model_usage on any mistake; metavar names N in messages. */
long model_args_count_in_out(struct model *m, int argc, char **argv, const char *opt,
                             const char *metavar, const char *pos[2]);

/* Open the dataset `ref` for reading with the MPI-IO driver.  It must exist, be an
 * integer (8 to 64 bits, signed or not) or float32/float64 dataset with at least
 * one dimension; reads convert to double.  Collective.  Caller closes with
 * model_dset_close(). */
struct model_dset *model_dset_open(struct model *m, const struct model_ref *ref);

int model_dset_ndims(const struct model_dset *d);
const uint64_t *model_dset_dims(const struct model_dset *d); /* borrowed, ndims long */
const char *model_dset_text(const struct model_dset *d);     /* "FILE:/DSET" */

/* Read the box [start, start + count) as doubles into buf (C order, product(count)
 * elements).  A box with a zero count reads nothing but still takes part.
 * Collective. */
void model_dset_read(struct model_dset *d, const uint64_t *start,
                     const uint64_t *count, double *buf);

/* Write the box [start, start + count) from buf (doubles, C order).  Collective. */
void model_dset_write(struct model_dset *d, const uint64_t *start,
                      const uint64_t *count, const double *buf);

/* Close a dataset (and, for an input, its file) and set *dp to NULL.  Accepts
 * NULL and *dp == NULL.  Collective. */
void model_dset_close(struct model_dset **dp);

/* Open the output file `path`: create it if it does not exist, else open it for
 * writing (datasets already in it are kept; creating one of the same name is an
 * error).  Its directory must exist.  Collective.  Close with model_file_close(). */
struct model_file *model_file_create(struct model *m, const char *path);

/* Create the float64 dataset `dset` (absolute path; intermediate groups are made)
 * of the given shape in f.  `text` names it in messages ("OUT.h5:/d").
 * Collective.  Caller closes with model_dset_close(). */
struct model_dset *model_file_dataset(struct model_file *f, const char *dset,
                                      const char *text, int ndims,
                                      const uint64_t *dims);

/* Close the file (after its datasets) and set *fp to NULL; accepts NULL. Collective. */
void model_file_close(struct model_file **fp);

/* This rank's share of n rows: rows [*first, *first + *count), balanced so that
 * counts differ by at most one; ranks beyond n get zero rows. */
void model_split(const struct model *m, uint64_t n, uint64_t *first, uint64_t *count);

/* Element-wise sum of buf over all ranks, result on every rank.  Collective. */
void model_sum(struct model *m, double *buf, size_t n);

/* product(dims[0..ndims)), or model_abort if it overflows size_t. */
size_t model_count(struct model *m, int ndims, const uint64_t *dims);

/* malloc n doubles (at least one); model_abort on failure.  Caller frees. */
double *model_alloc(struct model *m, size_t n);

/* "12x45x90" into buf (size bytes); returns buf. */
char *model_shape(char *buf, size_t size, int ndims, const uint64_t *dims);

/* Success: rank 0 prints "NAME: wrote WHAT (shape S) in T s with N ranks", then
 * every rank finalizes MPI and frees m.  Returns the exit status (0).  Collective. */
int model_done(struct model *m, const char *what, int ndims, const uint64_t *dims);

#endif
