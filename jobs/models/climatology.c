/* climatology - mean field for each phase of a period.
 *
 *   climatology --period P IN.h5:/DSET OUT.h5:/DSET
 *
 * IN is (time, ...) with at least two dimensions.  OUT[p] is the mean of IN[t] over
 * the steps t with t % P == p, float64 of shape (P, ...), or (...) when P is 1.
 * P must not exceed the number of steps; time need not be a multiple of P.
 *
 * Ranks split time; each sums its steps into a P x field buffer, the buffers are
 * summed over ranks, and each rank writes its share of the P phases.
 */
#include "model_io.h"

#include <stdlib.h>
#include <string.h>

static const char usage[] = "climatology --period P IN.h5:/DSET OUT.h5:/DSET";
static const char help[] =
    "Mean over time for each index modulo P: OUT is P x ... (or ... when P = 1),\n"
    "float64.  IN: time x ... (2 or more dimensions).  Run with mpirun -np N.\n";

int main(int argc, char **argv)
{
    struct model *m = model_init(&argc, &argv, "climatology", usage, help);
    const char *pos[2];
    long period = model_args_count_in_out(m, argc, argv, "--period", "P", pos);
    struct model_ref inref, outref;
    model_ref_parse(m, "IN", pos[0], &inref);
    model_ref_parse(m, "OUT", pos[1], &outref);

    struct model_dset *in = model_dset_open(m, &inref);
    int nd = model_dset_ndims(in);
    uint64_t dims[MODEL_MAX_DIMS];
    memcpy(dims, model_dset_dims(in), (size_t)nd * sizeof *dims);
    char s[256];
    const uint64_t p = (uint64_t)period;
    if (nd < 2)
        model_fail(m, 1, "%s: shape %s: climatology needs time x ... (2 or more "
                   "dimensions)", inref.text, model_shape(s, sizeof s, nd, dims));
    if (p > dims[0])
        model_fail(m, 1, "%s: --period %llu is longer than the %llu time steps",
                   inref.text, (unsigned long long)p, (unsigned long long)dims[0]);

    size_t plane = model_count(m, nd - 1, dims + 1);
    uint64_t t0, nt;
    model_split(m, dims[0], &t0, &nt);
    uint64_t start[MODEL_MAX_DIMS] = {0}, count[MODEL_MAX_DIMS];
    memcpy(count, dims, (size_t)nd * sizeof *count);
    start[0] = t0;
    count[0] = nt;
    double *x = model_alloc(m, model_count(m, nd, count));
    model_dset_read(in, start, count, x);
    model_dset_close(&in);

    size_t total = model_count(m, 1, &p) * plane;
    if (plane && total / plane != p)
        model_abort(m, "%s: climatology too large for memory", inref.text);
    double *sum = model_alloc(m, total);
    memset(sum, 0, total * sizeof *sum);
    for (uint64_t t = 0; t < nt; t++) {
        double *dst = sum + (size_t)((t0 + t) % p) * plane;
        const double *src = x + (size_t)t * plane;
        for (size_t i = 0; i < plane; i++)
            dst[i] += src[i];
    }
    free(x);
    model_sum(m, sum, total);

    /* Output: phases split over ranks; (P, ...) or (...) for P = 1. */
    uint64_t p0, np;
    model_split(m, p, &p0, &np);
    for (uint64_t k = 0; k < np; k++) {
        uint64_t phase = p0 + k;
        uint64_t steps = (dims[0] - phase + p - 1) / p;
        double *row = sum + (size_t)phase * plane;
        for (size_t i = 0; i < plane; i++)
            row[i] /= (double)steps;
    }
    int ond = p == 1 ? nd - 1 : nd;
    uint64_t odims[MODEL_MAX_DIMS], ostart[MODEL_MAX_DIMS] = {0}, ocount[MODEL_MAX_DIMS];
    if (p == 1) {
        memcpy(odims, dims + 1, (size_t)ond * sizeof *odims);
        memcpy(ocount, odims, (size_t)ond * sizeof *ocount);
        if (np == 0)
            ocount[0] = 0; /* rank 0 writes the single phase */
    } else {
        odims[0] = p;
        memcpy(odims + 1, dims + 1, (size_t)(nd - 1) * sizeof *odims);
        memcpy(ocount, odims, (size_t)ond * sizeof *ocount);
        ostart[0] = p0;
        ocount[0] = np;
    }

    struct model_file *out = model_file_create(m, outref.file);
    struct model_dset *od = model_file_dataset(out, outref.dset, outref.text, ond, odims);
    model_dset_write(od, ostart, ocount, sum + (size_t)p0 * plane);
    model_dset_close(&od);
    model_file_close(&out);
    free(sum);

    int rc = model_done(m, outref.text, ond, odims);
    model_ref_clear(&inref);
    model_ref_clear(&outref);
    return rc;
}
