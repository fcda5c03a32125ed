/* anomaly - subtract a climatology from a time series of fields.
 *
 *   anomaly IN.h5:/DSET CLIM.h5:/DSET OUT.h5:/DSET
 *
 * IN is (time, lat, lon).  CLIM is (lat, lon), subtracted from every time step, or
 * (period, lat, lon) with period dividing time, where step t uses CLIM[t % period].
 * OUT = IN - CLIM, float64, shape of IN.
 *
 * Ranks split time; each reads its steps of IN and only the climatology periods
 * those steps need.
 */
#include "model_io.h"

#include <stdlib.h>
#include <string.h>

static const char usage[] = "anomaly IN.h5:/DSET CLIM.h5:/DSET OUT.h5:/DSET";
static const char help[] =
    "OUT = IN - CLIM (float64).  IN: time x lat x lon.  CLIM: lat x lon, or\n"
    "period x lat x lon with period dividing time (step t uses CLIM[t % period]).\n"
    "Run with mpirun -np N.\n";

int main(int argc, char **argv)
{
    struct model *m = model_init(&argc, &argv, "anomaly", usage, help);
    const char *pos[3];
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] == '-' && a[1])
            model_usage(m, "unknown option '%s'", a);
        if (npos == 3)
            model_usage(m, "too many arguments ('%s')", a);
        pos[npos++] = a;
    }
    if (npos != 3)
        model_usage(m, "expected IN.h5:/DSET CLIM.h5:/DSET OUT.h5:/DSET");
    struct model_ref inref, climref, outref;
    model_ref_parse(m, "IN", pos[0], &inref);
    model_ref_parse(m, "CLIM", pos[1], &climref);
    model_ref_parse(m, "OUT", pos[2], &outref);

    struct model_dset *in = model_dset_open(m, &inref);
    struct model_dset *clim = model_dset_open(m, &climref);
    char s1[256], s2[256];
    const uint64_t *d = model_dset_dims(in), *c = model_dset_dims(clim);
    int cn = model_dset_ndims(clim);
    if (model_dset_ndims(in) != 3)
        model_fail(m, 1, "%s: shape %s: anomaly needs time x lat x lon", inref.text,
                   model_shape(s1, sizeof s1, model_dset_ndims(in), d));
    int fits = (cn == 2 && c[0] == d[1] && c[1] == d[2]) ||
               (cn == 3 && c[1] == d[1] && c[2] == d[2] && c[0] >= 1 &&
                d[0] % c[0] == 0);
    if (!fits)
        model_fail(m, 1, "%s: shape %s does not fit %s of shape %s (need %llux%llu, or "
                   "PERIODx%llux%llu with PERIOD dividing %llu)",
                   climref.text, model_shape(s2, sizeof s2, cn, c), inref.text,
                   model_shape(s1, sizeof s1, 3, d), (unsigned long long)d[1],
                   (unsigned long long)d[2], (unsigned long long)d[1],
                   (unsigned long long)d[2], (unsigned long long)d[0]);

    uint64_t dims[3] = {d[0], d[1], d[2]};
    uint64_t period = cn == 3 ? c[0] : 1;
    size_t plane = model_count(m, 2, dims + 1);

    uint64_t t0, nt;
    model_split(m, dims[0], &t0, &nt);
    uint64_t start[3] = {t0, 0, 0}, count[3] = {nt, dims[1], dims[2]};
    double *x = model_alloc(m, model_count(m, 3, count));
    model_dset_read(in, start, count, x);
    model_dset_close(&in);

    /* The periods this rank needs: a run [p0, p0 + np) of CLIM's first dimension,
     * all of them when the run would wrap around. */
    uint64_t p0 = 0, np = 0;
    if (nt > 0) {
        p0 = t0 % period;
        np = nt;
        if (p0 + nt > period) {
            p0 = 0;
            np = period;
        }
    }
    if (cn == 2)
        np = nt ? 1 : 0;
    double *cl = model_alloc(m, (size_t)np * plane);
    if (cn == 3) {
        uint64_t cs[3] = {p0, 0, 0}, cc[3] = {np, dims[1], dims[2]};
        model_dset_read(clim, cs, cc, cl);
    } else {
        /* A 2-D climatology: every rank with work reads the whole field. */
        uint64_t cs[2] = {0, 0}, cc[2] = {np ? dims[1] : 0, dims[2]};
        model_dset_read(clim, cs, cc, cl);
    }
    model_dset_close(&clim);

    for (uint64_t t = 0; t < nt; t++) {
        const double *cp = cl + (size_t)((t0 + t) % period - p0) * plane;
        double *xp = x + (size_t)t * plane;
        for (size_t i = 0; i < plane; i++)
            xp[i] -= cp[i];
    }
    free(cl);

    struct model_file *out = model_file_create(m, outref.file);
    struct model_dset *od = model_file_dataset(out, outref.dset, outref.text, 3, dims);
    model_dset_write(od, start, count, x);
    model_dset_close(&od);
    model_file_close(&out);
    free(x);

    int rc = model_done(m, outref.text, 3, dims);
    model_ref_clear(&inref);
    model_ref_clear(&climref);
    model_ref_clear(&outref);
    return rc;
}
