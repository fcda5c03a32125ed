/* risk_index - combine a hazard field with an exposure field.
 *
 *   risk_index HAZARD.h5:/DSET EXPOSURE.h5:/DSET OUT.h5:/DSET [--threshold T]
 *
 * Per cell: r = e * max(0, h - T) / (1 + |h|), float64 (T defaults to 0; a NaN
 * hazard gives NaN, like NumPy's maximum).  EXPOSURE has HAZARD's shape, or
 * HAZARD's shape without its first dimension (e.g. hazard time x lat x lon,
 * exposure lat x lon), in which case it applies to every step.  OUT has HAZARD's
 * shape.
 *
 * Ranks split HAZARD's first dimension.
 */
#include "model_io.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "risk_index HAZARD.h5:/DSET EXPOSURE.h5:/DSET OUT.h5:/DSET [--threshold T]";
static const char help[] =
    "r = e * max(0, h - T) / (1 + |h|) per cell (float64; T defaults to 0).\n"
    "EXPOSURE: HAZARD's shape, or HAZARD's shape without its first dimension\n"
    "(broadcast over it).  Run with mpirun -np N.\n";

int main(int argc, char **argv)
{
    struct model *m = model_init(&argc, &argv, "risk_index", usage, help);
    double threshold = 0;
    const char *pos[3];
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--threshold") == 0) {
            if (i + 1 >= argc)
                model_usage(m, "--threshold needs a value");
            threshold = model_parse_real(m, "--threshold", argv[++i]);
        } else if (strncmp(a, "--threshold=", 12) == 0) {
            threshold = model_parse_real(m, "--threshold", a + 12);
        } else if (a[0] == '-' && a[1]) {
            model_usage(m, "unknown option '%s'", a);
        } else if (npos < 3) {
            pos[npos++] = a;
        } else {
            model_usage(m, "too many arguments ('%s')", a);
        }
    }
    if (npos != 3)
        model_usage(m, "expected HAZARD.h5:/DSET EXPOSURE.h5:/DSET OUT.h5:/DSET");
    struct model_ref href, eref, outref;
    model_ref_parse(m, "HAZARD", pos[0], &href);
    model_ref_parse(m, "EXPOSURE", pos[1], &eref);
    model_ref_parse(m, "OUT", pos[2], &outref);

    struct model_dset *haz = model_dset_open(m, &href);
    struct model_dset *expo = model_dset_open(m, &eref);
    int nd = model_dset_ndims(haz), en = model_dset_ndims(expo);
    uint64_t dims[MODEL_MAX_DIMS];
    memcpy(dims, model_dset_dims(haz), (size_t)nd * sizeof *dims);
    const uint64_t *ed = model_dset_dims(expo);
    int same = en == nd && memcmp(ed, dims, (size_t)nd * sizeof *dims) == 0;
    int bcast = en == nd - 1 && memcmp(ed, dims + 1, (size_t)en * sizeof *dims) == 0;
    if (!same && !bcast) {
        char s1[256], s2[256], s3[256];
        model_fail(m, 1, "%s: shape %s does not fit %s of shape %s (need %s or %s)",
                   eref.text, model_shape(s1, sizeof s1, en, ed), href.text,
                   model_shape(s2, sizeof s2, nd, dims), s2,
                   nd > 1 ? model_shape(s3, sizeof s3, nd - 1, dims + 1) : "the same");
    }

    uint64_t first, rows;
    model_split(m, dims[0], &first, &rows);
    uint64_t start[MODEL_MAX_DIMS] = {0}, count[MODEL_MAX_DIMS];
    memcpy(count, dims, (size_t)nd * sizeof *count);
    start[0] = first;
    count[0] = rows;
    size_t n = model_count(m, nd, count);
    size_t plane = model_count(m, nd - 1, dims + 1);
    double *h = model_alloc(m, n);
    model_dset_read(haz, start, count, h);
    model_dset_close(&haz);

    double *e;
    if (same) {
        e = model_alloc(m, n);
        model_dset_read(expo, start, count, e);
    } else {
        /* Broadcast: every rank with rows reads the whole exposure field. */
        uint64_t es[MODEL_MAX_DIMS] = {0}, ec[MODEL_MAX_DIMS];
        memcpy(ec, ed, (size_t)en * sizeof *ec);
        if (!rows)
            ec[0] = 0;
        e = model_alloc(m, rows ? plane : 0);
        model_dset_read(expo, es, ec, e);
    }
    model_dset_close(&expo);

    for (size_t i = 0; i < n; i++) {
        double hv = h[i], ev = same ? e[i] : e[i % plane];
        double d = hv - threshold;
        if (!(d > 0) && !isnan(d))
            d = 0;
        h[i] = ev * d / (1.0 + fabs(hv));
    }
    free(e);

    struct model_file *out = model_file_create(m, outref.file);
    struct model_dset *od = model_file_dataset(out, outref.dset, outref.text, nd, dims);
    model_dset_write(od, start, count, h);
    model_dset_close(&od);
    model_file_close(&out);
    free(h);

    int rc = model_done(m, outref.text, nd, dims);
    model_ref_clear(&href);
    model_ref_clear(&eref);
    model_ref_clear(&outref);
    return rc;
}
