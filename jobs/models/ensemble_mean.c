/* ensemble_mean - element-wise mean and spread of an ensemble of fields.
 *
 *   ensemble_mean OUT.h5:/DSET IN1.h5:/DSET [IN2.h5:/DSET ...]
 *
 * The inputs have one shape (any number of dimensions, any supported type).  OUT
 * gets DSET, their mean, and DSET_std beside it, their population standard
 * deviation (divided by N), both float64.
 *
 * Ranks split the first dimension; each rank reads its rows of every member in
 * turn and updates a running mean and sum of squared deviations (Welford), so it
 * holds three blocks of its rows whatever the ensemble's size.
 */
#include "model_io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] = "ensemble_mean OUT.h5:/DSET IN1.h5:/DSET [IN2.h5:/DSET ...]";
static const char help[] =
    "Element-wise mean of N same-shaped inputs into OUT:/DSET and their population\n"
    "standard deviation into OUT:/DSET_std (float64).  Run with mpirun -np N.\n";

int main(int argc, char **argv)
{
    struct model *m = model_init(&argc, &argv, "ensemble_mean", usage, help);
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1])
            model_usage(m, "unknown option '%s'", argv[i]);
        npos++;
    }
    if (npos < 2)
        model_usage(m, "expected OUT.h5:/DSET and at least one input");
    int nin = npos - 1;
    struct model_ref outref;
    struct model_ref *inref = calloc((size_t)nin, sizeof *inref);
    if (!inref)
        model_abort(m, "out of memory");
    model_ref_parse(m, "OUT", argv[1], &outref);
    for (int k = 0; k < nin; k++)
        model_ref_parse(m, "IN", argv[2 + k], &inref[k]);

    /* Check every member before reading any, so a bad one costs nothing. */
    int nd = 0;
    uint64_t dims[MODEL_MAX_DIMS];
    for (int k = 0; k < nin; k++) {
        struct model_dset *in = model_dset_open(m, &inref[k]);
        const uint64_t *d = model_dset_dims(in);
        char s1[256], s2[256];
        if (k == 0) {
            nd = model_dset_ndims(in);
            memcpy(dims, d, (size_t)nd * sizeof *dims);
        } else if (model_dset_ndims(in) != nd ||
                   memcmp(d, dims, (size_t)nd * sizeof *dims) != 0) {
            model_fail(m, 1, "%s: shape %s differs from %s's %s", inref[k].text,
                       model_shape(s1, sizeof s1, model_dset_ndims(in), d),
                       inref[0].text, model_shape(s2, sizeof s2, nd, dims));
        }
        model_dset_close(&in);
    }

    uint64_t first, rows;
    model_split(m, dims[0], &first, &rows);
    uint64_t start[MODEL_MAX_DIMS] = {0}, count[MODEL_MAX_DIMS];
    memcpy(count, dims, (size_t)nd * sizeof *count);
    start[0] = first;
    count[0] = rows;
    size_t n = model_count(m, nd, count);
    double *x = model_alloc(m, n), *mean = model_alloc(m, n), *m2 = model_alloc(m, n);
    memset(mean, 0, n * sizeof *mean);
    memset(m2, 0, n * sizeof *m2);
    for (int k = 0; k < nin; k++) {
        struct model_dset *in = model_dset_open(m, &inref[k]);
        model_dset_read(in, start, count, x);
        model_dset_close(&in);
        double w = 1.0 / (double)(k + 1);
        for (size_t i = 0; i < n; i++) {
            double delta = x[i] - mean[i];
            mean[i] += delta * w;
            m2[i] += delta * (x[i] - mean[i]);
        }
    }
    for (size_t i = 0; i < n; i++)
        m2[i] = sqrt(m2[i] / (double)nin);
    free(x);

    size_t len = strlen(outref.dset);
    char *stdname = malloc(len + 5), *stdtext = malloc(strlen(outref.text) + 5);
    if (!stdname || !stdtext)
        model_abort(m, "out of memory");
    snprintf(stdname, len + 5, "%s_std", outref.dset);
    snprintf(stdtext, strlen(outref.text) + 5, "%s_std", outref.text);

    struct model_file *out = model_file_create(m, outref.file);
    struct model_dset *om = model_file_dataset(out, outref.dset, outref.text, nd, dims);
    struct model_dset *os = model_file_dataset(out, stdname, stdtext, nd, dims);
    model_dset_write(om, start, count, mean);
    model_dset_write(os, start, count, m2);
    model_dset_close(&om);
    model_dset_close(&os);
    model_file_close(&out);
    free(mean);
    free(m2);

    size_t wlen = strlen(outref.text) + strlen(stdtext) + 8;
    char *what = malloc(wlen);
    if (!what)
        model_abort(m, "out of memory");
    snprintf(what, wlen, "%s and %s", outref.text, stdtext);
    int rc = model_done(m, what, nd, dims);
    free(what);
    free(stdname);
    free(stdtext);
    for (int k = 0; k < nin; k++)
        model_ref_clear(&inref[k]);
    free(inref);
    model_ref_clear(&outref);
    return rc;
}
