/* model_io.c - MPI + parallel HDF5 plumbing for the example models (see model_io.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "model_io.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>
#include <mpi.h>

struct model {
    const char *name;
    const char *usage;
    int rank;
    int size;
    double t0;
    char err[2048];    /* this rank's pending error text, for model_agree() */
};

struct model_dset {
    struct model *m;
    hid_t file;        /* owned by an input; H5I_INVALID_HID for outputs */
    hid_t dset;
    hid_t space;
    hid_t dxpl;
    int ndims;
    uint64_t dims[MODEL_MAX_DIMS];
    char *text;
};

struct model_file {
    struct model *m;
    hid_t file;
    char *path;
};

/* ---- exits and errors ------------------------------------------------------- */

static _Noreturn void model_exit(struct model *m, int code)
{
    fflush(stdout);
    fflush(stderr);
    /* Close whatever HDF5 still has open while every rank is here (file closes are
     * collective), then leave MPI. */
    H5close();
    MPI_Finalize();
    free(m);
    exit(code);
}

static void model_verr(struct model *m, const char *fmt, va_list ap)
{
    vsnprintf(m->err, sizeof m->err, fmt, ap);
}

static void model_err(struct model *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void model_err(struct model *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    model_verr(m, fmt, ap);
    va_end(ap);
}

/* Every rank says whether its last step went well.  If any did not, the lowest
 * failing rank prints its error and every rank exits with `code`. */
static void model_agree(struct model *m, int ok, int code)
{
    int mine = ok ? m->size : m->rank, first = m->size;
    if (MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD) != MPI_SUCCESS)
        model_abort(m, "MPI_Allreduce failed");
    if (first == m->size)
        return;
    if (m->rank == first)
        fprintf(stderr, "%s: error: %s\n", m->name, m->err);
    model_exit(m, code);
}

_Noreturn void model_usage(struct model *m, const char *fmt, ...)
{
    if (m->rank == 0) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "%s: error: ", m->name);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, "\nusage: %s\n", m->usage);
    }
    model_exit(m, 2);
}

_Noreturn void model_fail(struct model *m, int code, const char *fmt, ...)
{
    if (m->rank == 0) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "%s: error: ", m->name);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
    }
    model_exit(m, code);
}

_Noreturn void model_abort(struct model *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: error: ", m->name);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (rank %d)\n", m->rank);
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
    exit(1); /* not reached */
}

/* The most specific message on the HDF5 error stack (HDF5's own printing is off). */
static herr_t h5_walk_f(unsigned n, const H5E_error2_t *e, void *data)
{
    char *out = data;
    if (n == 0 && e->desc && *e->desc)
        snprintf(out, 256, "%s", e->desc);
    return 0;
}

static const char *h5_reason(char buf[256])
{
    buf[0] = '\0';
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, h5_walk_f, buf);
    if (!buf[0])
        snprintf(buf, 256, "HDF5 error");
    return buf;
}

/* ---- set-up ------------------------------------------------------------------ */

struct model *model_init(int *argc, char ***argv, const char *name,
                         const char *usage, const char *help)
{
    if (MPI_Init(argc, argv) != MPI_SUCCESS) {
        fprintf(stderr, "%s: error: MPI_Init failed\n", name);
        exit(1);
    }
    struct model *m = calloc(1, sizeof *m);
    if (!m) {
        fprintf(stderr, "%s: error: out of memory\n", name);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    m->name = name;
    m->usage = usage;
    MPI_Comm_rank(MPI_COMM_WORLD, &m->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &m->size);
    m->t0 = MPI_Wtime();
    /* Errors are reported by us, with the dataset's name, not as HDF5 traces. */
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);

    for (int i = 1; i < *argc; i++) {
        if (strcmp((*argv)[i], "--") == 0)
            break;
        if (strcmp((*argv)[i], "-h") == 0 || strcmp((*argv)[i], "--help") == 0) {
            if (m->rank == 0) {
                printf("usage: %s\n", usage);
                if (help)
                    printf("\n%s", help);
            }
            model_exit(m, 0);
        }
    }
    return m;
}

int model_rank(const struct model *m)
{
    return m->rank;
}

int model_size(const struct model *m)
{
    return m->size;
}

const char *model_name(const struct model *m)
{
    return m->name;
}

/* ---- arguments ------------------------------------------------------------------ */

void model_ref_parse(struct model *m, const char *what, const char *arg,
                     struct model_ref *ref)
{
    const char *sep = NULL;
    for (const char *p = strstr(arg, ":/"); p; p = strstr(p + 1, ":/"))
        sep = p;
    if (!sep)
        model_usage(m, "%s: '%s' is not FILE.h5:/DATASET", what, arg);
    if (sep == arg)
        model_usage(m, "%s: '%s' has no file name before ':/'", what, arg);
    const char *d = sep + 1;
    if (strspn(d, "/") == strlen(d))
        model_usage(m, "%s: '%s' has no dataset name after ':/'", what, arg);
    if (d[strlen(d) - 1] == '/')
        model_usage(m, "%s: '%s': dataset path ends in '/'", what, arg);
    ref->file = strndup(arg, (size_t)(sep - arg));
    ref->dset = strdup(d);
    ref->text = arg;
    if (!ref->file || !ref->dset)
        model_abort(m, "out of memory");
}

void model_ref_clear(struct model_ref *ref)
{
    if (!ref)
        return;
    free(ref->file);
    free(ref->dset);
    ref->file = ref->dset = NULL;
}

long model_parse_count(struct model *m, const char *opt, const char *text)
{
    char *end;
    errno = 0;
    long v = text ? strtol(text, &end, 10) : 0;
    if (!text || !*text || *end || errno || v < 1 || v > INT_MAX)
        model_usage(m, "%s needs a positive integer, got '%s'", opt, text ? text : "");
    return v;
}

long model_args_count_in_out(struct model *m, int argc, char **argv, const char *opt,
                             const char *metavar, const char *pos[2])
{
    size_t optlen = strlen(opt);
    long value = 0;
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, opt) == 0) {
            if (i + 1 >= argc)
                model_usage(m, "%s needs a value", opt);
            value = model_parse_count(m, opt, argv[++i]);
        } else if (strncmp(a, opt, optlen) == 0 && a[optlen] == '=') {
            value = model_parse_count(m, opt, a + optlen + 1);
        } else if (a[0] == '-' && a[1]) {
            model_usage(m, "unknown option '%s'", a);
        } else if (npos < 2) {
            pos[npos++] = a;
        } else {
            model_usage(m, "too many arguments ('%s')", a);
        }
    }
    if (!value)
        model_usage(m, "%s %s is required", opt, metavar);
    if (npos != 2)
        model_usage(m, "expected IN.h5:/DSET and OUT.h5:/DSET");
    return value;
}

double model_parse_real(struct model *m, const char *opt, const char *text)
{
    char *end;
    errno = 0;
    double v = text ? strtod(text, &end) : 0;
    if (!text || !*text || *end || errno || !isfinite(v))
        model_usage(m, "%s needs a number, got '%s'", opt, text ? text : "");
    return v;
}

/* ---- helpers -------------------------------------------------------------------- */

size_t model_count(struct model *m, int ndims, const uint64_t *dims)
{
    size_t n = 1;
    for (int i = 0; i < ndims; i++) {
        if (dims[i] && n > SIZE_MAX / dims[i])
            model_abort(m, "array of %d dimensions too large for memory", ndims);
        n *= (size_t)dims[i];
    }
    return n;
}

double *model_alloc(struct model *m, size_t n)
{
    if (n > SIZE_MAX / sizeof(double))
        model_abort(m, "out of memory (%zu values)", n);
    double *p = malloc((n ? n : 1) * sizeof(double));
    if (!p)
        model_abort(m, "out of memory (%zu values)", n);
    return p;
}

char *model_shape(char *buf, size_t size, int ndims, const uint64_t *dims)
{
    size_t off = 0;
    buf[0] = '\0';
    if (ndims == 0)
        snprintf(buf, size, "scalar");
    for (int i = 0; i < ndims && off < size; i++) {
        int n = snprintf(buf + off, size - off, "%s%llu", i ? "x" : "",
                         (unsigned long long)dims[i]);
        if (n < 0)
            break;
        off += (size_t)n;
    }
    return buf;
}

void model_split(const struct model *m, uint64_t n, uint64_t *first, uint64_t *count)
{
    uint64_t p = (uint64_t)m->size, r = (uint64_t)m->rank;
    uint64_t base = n / p, extra = n % p;
    *first = r * base + (r < extra ? r : extra);
    *count = base + (r < extra ? 1 : 0);
}

void model_sum(struct model *m, double *buf, size_t n)
{
    const size_t step = (size_t)1 << 28;
    for (size_t off = 0; off < n; off += step) {
        int c = (int)(n - off < step ? n - off : step);
        if (MPI_Allreduce(MPI_IN_PLACE, buf + off, c, MPI_DOUBLE, MPI_SUM,
                          MPI_COMM_WORLD) != MPI_SUCCESS)
            model_abort(m, "MPI_Allreduce failed");
    }
}

static hid_t mpio_fapl(struct model *m)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL) < 0)
        model_abort(m, "cannot set up the HDF5 MPI-IO driver");
    return fapl;
}

static hid_t collective_dxpl(struct model *m)
{
    hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
    if (dxpl < 0 || H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE) < 0)
        model_abort(m, "cannot set up collective HDF5 transfers");
    return dxpl;
}

/* 1 if every prefix of the absolute path `path` names a link in file (so the
 * object exists), 0 if one does not, -1 on an HDF5 error (e.g. a prefix that is
 * not a group). */
static int path_exists(hid_t file, const char *path)
{
    size_t len = strlen(path);
    char *buf = malloc(len + 1);
    if (!buf)
        return -1;
    int ret = 1;
    for (size_t i = 1; i <= len && ret == 1; i++) {
        if (i < len && path[i] != '/')
            continue;
        if (path[i - 1] == '/')
            continue; /* "//" or a trailing '/' */
        memcpy(buf, path, i);
        buf[i] = '\0';
        htri_t e = H5Lexists(file, buf, H5P_DEFAULT);
        ret = e < 0 ? -1 : e > 0 ? 1 : 0;
    }
    free(buf);
    return ret;
}

static struct model_dset *dset_new(struct model *m, const char *text)
{
    struct model_dset *d = calloc(1, sizeof *d);
    if (!d || !(d->text = strdup(text)))
        model_abort(m, "out of memory");
    d->m = m;
    d->file = d->dset = d->space = d->dxpl = H5I_INVALID_HID;
    return d;
}

/* ---- inputs ----------------------------------------------------------------------- */

static const char *type_name(hid_t type, char buf[64])
{
    H5T_class_t cls = H5Tget_class(type);
    size_t size = H5Tget_size(type);
    if (cls == H5T_INTEGER)
        snprintf(buf, 64, "%sint%zu", H5Tget_sign(type) == H5T_SGN_NONE ? "u" : "",
                 size * 8);
    else if (cls == H5T_FLOAT)
        snprintf(buf, 64, "float%zu", size * 8);
    else if (cls == H5T_STRING)
        snprintf(buf, 64, "string");
    else if (cls == H5T_COMPOUND)
        snprintf(buf, 64, "compound");
    else
        snprintf(buf, 64, "HDF5 class %d, %zu bytes", (int)cls, size);
    return buf;
}

struct model_dset *model_dset_open(struct model *m, const struct model_ref *ref)
{
    char why[256], tn[64];
    struct model_dset *d = dset_new(m, ref->text);

    int ok = access(ref->file, R_OK) == 0;
    if (!ok)
        model_err(m, "%s: %s", ref->file, strerror(errno));
    model_agree(m, ok, 1);

    hid_t fapl = mpio_fapl(m);
    d->file = H5Fopen(ref->file, H5F_ACC_RDONLY, fapl);
    ok = d->file >= 0;
    if (!ok) /* before any other HDF5 call, which would clear the error stack */
        model_err(m, "%s: cannot open as an HDF5 file (%s)", ref->file, h5_reason(why));
    H5Pclose(fapl);
    model_agree(m, ok, 1);

    int e = path_exists(d->file, ref->dset);
    if (e != 1)
        model_err(m, "%s: dataset not found", ref->text);
    model_agree(m, e == 1, 1);

    hid_t obj = H5Oopen(d->file, ref->dset, H5P_DEFAULT);
    ok = obj >= 0 && H5Iget_type(obj) == H5I_DATASET;
    if (obj < 0)
        model_err(m, "%s: cannot open (%s)", ref->text, h5_reason(why));
    else if (!ok)
        model_err(m, "%s: is not a dataset (a %s)", ref->text,
                  H5Iget_type(obj) == H5I_GROUP ? "group" : "named type");
    if (!ok && obj >= 0)
        H5Oclose(obj);
    model_agree(m, ok, 1);
    d->dset = obj;

    hid_t type = H5Dget_type(d->dset);
    ok = type >= 0;
    if (ok) {
        H5T_class_t cls = H5Tget_class(type);
        size_t size = H5Tget_size(type);
        ok = (cls == H5T_INTEGER && size >= 1 && size <= 8) ||
             (cls == H5T_FLOAT && (size == 4 || size == 8));
        if (!ok)
            model_err(m, "%s: unsupported element type %s (supported: int8..int64, "
                      "uint8..uint64, float32, float64)", ref->text, type_name(type, tn));
        H5Tclose(type);
    } else {
        model_err(m, "%s: cannot read the element type (%s)", ref->text, h5_reason(why));
    }
    model_agree(m, ok, 1);

    d->space = H5Dget_space(d->dset);
    int nd = d->space >= 0 ? H5Sget_simple_extent_ndims(d->space) : -1;
    ok = nd >= 1 && nd <= MODEL_MAX_DIMS;
    if (nd < 0)
        model_err(m, "%s: cannot read the shape (%s)", ref->text, h5_reason(why));
    else if (nd == 0)
        model_err(m, "%s: is a scalar; the models need at least one dimension", ref->text);
    else if (nd > MODEL_MAX_DIMS)
        model_err(m, "%s: %d dimensions, more than %d", ref->text, nd, MODEL_MAX_DIMS);
    model_agree(m, ok, 1);

    hsize_t dims[MODEL_MAX_DIMS];
    H5Sget_simple_extent_dims(d->space, dims, NULL);
    d->ndims = nd;
    for (int i = 0; i < nd; i++)
        d->dims[i] = dims[i];
    d->dxpl = collective_dxpl(m);
    return d;
}

int model_dset_ndims(const struct model_dset *d)
{
    return d->ndims;
}

const uint64_t *model_dset_dims(const struct model_dset *d)
{
    return d->dims;
}

const char *model_dset_text(const struct model_dset *d)
{
    return d->text;
}

/* Select the box in a copy of the file space, and make the matching memory space. */
static void box_spaces(struct model_dset *d, const uint64_t *start, const uint64_t *count,
                       hid_t *fs, hid_t *ms, size_t *n)
{
    hsize_t st[MODEL_MAX_DIMS], ct[MODEL_MAX_DIMS];
    for (int i = 0; i < d->ndims; i++) {
        if (start[i] > d->dims[i] || count[i] > d->dims[i] - start[i])
            model_abort(d->m, "%s: box outside the dataset (dimension %d)", d->text, i);
        st[i] = start[i];
        ct[i] = count[i];
    }
    *n = model_count(d->m, d->ndims, count);
    *fs = H5Scopy(d->space);
    hsize_t mn = *n ? (hsize_t)*n : 1;
    *ms = H5Screate_simple(1, &mn, NULL);
    if (*fs < 0 || *ms < 0)
        model_abort(d->m, "%s: cannot make a dataspace", d->text);
    herr_t r;
    if (*n)
        r = H5Sselect_hyperslab(*fs, H5S_SELECT_SET, st, NULL, ct, NULL);
    else
        r = H5Sselect_none(*fs) < 0 ? -1 : H5Sselect_none(*ms);
    if (r < 0)
        model_abort(d->m, "%s: cannot select a hyperslab", d->text);
}

/* A dataset with no elements: there is nothing to transfer, and parallel HDF5 1.10
 * refuses even an empty selection on one (its storage has no address).  All ranks
 * see the same shape, so all skip the collective transfer together. */
static int dset_empty(const struct model_dset *d)
{
    for (int i = 0; i < d->ndims; i++)
        if (d->dims[i] == 0)
            return 1;
    return 0;
}

void model_dset_read(struct model_dset *d, const uint64_t *start, const uint64_t *count,
                     double *buf)
{
    hid_t fs, ms;
    size_t n;
    double dummy;
    char why[256];
    if (dset_empty(d))
        return;
    box_spaces(d, start, count, &fs, &ms, &n);
    if (H5Dread(d->dset, H5T_NATIVE_DOUBLE, ms, fs, d->dxpl, n ? buf : &dummy) < 0)
        model_abort(d->m, "%s: read failed (%s)", d->text, h5_reason(why));
    H5Sclose(fs);
    H5Sclose(ms);
}

void model_dset_write(struct model_dset *d, const uint64_t *start,
                      const uint64_t *count, const double *buf)
{
    hid_t fs, ms;
    size_t n;
    double dummy = 0;
    char why[256];
    if (dset_empty(d))
        return;
    box_spaces(d, start, count, &fs, &ms, &n);
    if (H5Dwrite(d->dset, H5T_NATIVE_DOUBLE, ms, fs, d->dxpl, n ? buf : &dummy) < 0)
        model_abort(d->m, "%s: write failed (%s)", d->text, h5_reason(why));
    H5Sclose(fs);
    H5Sclose(ms);
}

void model_dset_close(struct model_dset **dp)
{
    if (!dp || !*dp)
        return;
    struct model_dset *d = *dp;
    char why[256];
    if (d->dxpl >= 0)
        H5Pclose(d->dxpl);
    if (d->space >= 0)
        H5Sclose(d->space);
    if (d->dset >= 0 && H5Dclose(d->dset) < 0)
        model_abort(d->m, "%s: close failed (%s)", d->text, h5_reason(why));
    if (d->file >= 0 && H5Fclose(d->file) < 0)
        model_abort(d->m, "%s: closing the file failed (%s)", d->text, h5_reason(why));
    free(d->text);
    free(d);
    *dp = NULL;
}

/* ---- outputs ---------------------------------------------------------------------- */

struct model_file *model_file_create(struct model *m, const char *path)
{
    char why[256];
    struct model_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(path)))
        model_abort(m, "out of memory");
    f->m = m;

    /* Rank 0 decides whether the file is new, so that no rank sees the file another
     * rank has just created.  state: 0 create, 1 open existing, -1 error. */
    int state = 0;
    if (m->rank == 0) {
        if (access(path, F_OK) == 0) {
            state = 1;
            if (access(path, R_OK | W_OK) != 0) {
                state = -1;
                fprintf(stderr, "%s: error: %s: %s\n", m->name, path, strerror(errno));
            }
        } else {
            char *dir = strdup(path);
            char *slash = dir ? strrchr(dir, '/') : NULL;
            const char *dname = !dir ? "." : !slash ? "." : slash == dir ? "/" : dir;
            if (slash && slash != dir)
                *slash = '\0';
            if (access(dname, W_OK | X_OK) != 0) {
                state = -1;
                fprintf(stderr, "%s: error: %s: cannot create: directory %s: %s\n",
                        m->name, path, dname, strerror(errno));
            }
            free(dir);
        }
    }
    MPI_Bcast(&state, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (state < 0)
        model_exit(m, 1);

    hid_t fapl = mpio_fapl(m);
    if (state == 1)
        f->file = H5Fopen(path, H5F_ACC_RDWR, fapl);
    else
        f->file = H5Fcreate(path, H5F_ACC_EXCL, H5P_DEFAULT, fapl);
    int ok = f->file >= 0;
    if (!ok)
        model_err(m, "%s: cannot %s (%s)", path,
                  state == 1 ? "open the existing file for writing" : "create",
                  h5_reason(why));
    H5Pclose(fapl);
    model_agree(m, ok, 1);
    return f;
}

struct model_dset *model_file_dataset(struct model_file *f, const char *dset,
                                      const char *text, int ndims, const uint64_t *dims)
{
    struct model *m = f->m;
    char why[256];
    if (ndims < 1 || ndims > MODEL_MAX_DIMS)
        model_abort(m, "%s: bad output rank %d", text, ndims);
    struct model_dset *d = dset_new(m, text);

    int e = path_exists(f->file, dset);
    if (e == 1)
        model_err(m, "%s: already exists in %s; remove it or name another dataset",
                  text, f->path);
    else if (e < 0)
        model_err(m, "%s: cannot create: a part of the path is not a group", text);
    model_agree(m, e == 0, 1);

    hsize_t hd[MODEL_MAX_DIMS];
    for (int i = 0; i < ndims; i++) {
        hd[i] = dims[i];
        d->dims[i] = dims[i];
    }
    d->ndims = ndims;
    d->space = H5Screate_simple(ndims, hd, NULL);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (d->space < 0 || lcpl < 0 || dcpl < 0 ||
        H5Pset_create_intermediate_group(lcpl, 1) < 0 ||
        H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY) < 0 ||
        H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) < 0)
        model_abort(m, "%s: cannot set up the dataset's properties", text);
    d->dset = H5Dcreate2(f->file, dset, H5T_IEEE_F64LE, d->space, lcpl, dcpl, H5P_DEFAULT);
    int ok = d->dset >= 0;
    if (!ok)
        model_err(m, "%s: cannot create the dataset (%s)", text, h5_reason(why));
    H5Pclose(lcpl);
    H5Pclose(dcpl);
    model_agree(m, ok, 1);
    d->dxpl = collective_dxpl(m);
    return d;
}

void model_file_close(struct model_file **fp)
{
    if (!fp || !*fp)
        return;
    struct model_file *f = *fp;
    char why[256];
    if (f->file >= 0 && H5Fclose(f->file) < 0)
        model_abort(f->m, "%s: closing the file failed (%s)", f->path, h5_reason(why));
    free(f->path);
    free(f);
    *fp = NULL;
}

int model_done(struct model *m, const char *what, int ndims, const uint64_t *dims)
{
    MPI_Barrier(MPI_COMM_WORLD);
    double t = MPI_Wtime() - m->t0;
    if (m->rank == 0) {
        char shape[512];
        printf("%s: wrote %s (shape %s) in %.2f s with %d rank%s\n", m->name, what,
               model_shape(shape, sizeof shape, ndims, dims), t, m->size,
               m->size == 1 ? "" : "s");
    }
    fflush(stdout);
    H5close();
    MPI_Finalize();
    free(m);
    return 0;
}
