/* regrid - coarsen a field by block means over its last two dimensions.
 *
 *   regrid --factor F IN.h5:/DSET OUT.h5:/DSET
 *
 * IN has shape (..., ny, nx) with at least two dimensions and any supported numeric
 * type.  OUT is float64 of shape (..., ny/F, nx/F): each output cell is the mean of
 * an F x F block; rows and columns that do not fill a whole block at the high edges
 * are dropped (like xarray's coarsen(boundary="trim")).
 *
 * Ranks split the first dimension of OUT: for a 2-D input each rank reads whole
 * bands of F input rows, for 3-D and more each rank reads whole leading slabs.
 */
#include "model_io.h"

#include <stdlib.h>
#include <string.h>

static const char usage[] = "regrid --factor F IN.h5:/DSET OUT.h5:/DSET";
static const char help[] =
    "Block mean over the last two dimensions by F x F (partial blocks trimmed).\n"
    "IN: 2 or more dimensions, int8..uint64, float32 or float64.\n"
    "OUT: float64, shape (..., ny/F, nx/F).  Run with mpirun -np N.\n";

int main(int argc, char **argv)
{
    struct model *m = model_init(&argc, &argv, "regrid", usage, help);
    const char *pos[2];
    long factor = model_args_count_in_out(m, argc, argv, "--factor", "F", pos);
    struct model_ref inref, outref;
    model_ref_parse(m, "IN", pos[0], &inref);
    model_ref_parse(m, "OUT", pos[1], &outref);

    struct model_dset *in = model_dset_open(m, &inref);
    int nd = model_dset_ndims(in);
    const uint64_t *idims = model_dset_dims(in);
    char shape[256];
    if (nd < 2)
        model_fail(m, 1, "%s: shape %s: regrid needs at least 2 dimensions (..., ny, nx)",
                   inref.text, model_shape(shape, sizeof shape, nd, idims));

    const uint64_t f = (uint64_t)factor;
    uint64_t odims[MODEL_MAX_DIMS];
    memcpy(odims, idims, (size_t)nd * sizeof *odims);
    odims[nd - 2] /= f;
    odims[nd - 1] /= f;

    /* This rank's rows of OUT, and the box of IN they come from. */
    uint64_t first, rows;
    model_split(m, odims[0], &first, &rows);
    uint64_t start[MODEL_MAX_DIMS] = {0}, count[MODEL_MAX_DIMS];
    memcpy(count, odims, (size_t)nd * sizeof *count);
    count[nd - 2] *= f;
    count[nd - 1] *= f;
    if (nd == 2) {
        start[0] = first * f;
        count[0] = rows * f;
    } else {
        start[0] = first;
        count[0] = rows;
    }
    double *src = model_alloc(m, model_count(m, nd, count));
    model_dset_read(in, start, count, src);
    model_dset_close(&in);

    /* planes of (ty x tx) trimmed input -> planes of (ty/f x tx/f) output */
    size_t planes = model_count(m, nd - 2, count);
    size_t ty = (size_t)count[nd - 2], tx = (size_t)count[nd - 1];
    size_t oy = ty / f, ox = tx / f;
    double *dst = model_alloc(m, planes * oy * ox);
    const double scale = 1.0 / ((double)f * (double)f);
    for (size_t p = 0; p < planes; p++) {
        const double *plane = src + p * ty * tx;
        for (size_t y = 0; y < oy; y++) {
            double *acc = dst + (p * oy + y) * ox;
            memset(acc, 0, ox * sizeof *acc);
            for (size_t ky = 0; ky < f; ky++) {
                const double *row = plane + (y * f + ky) * tx;
                for (size_t x = 0; x < ox; x++)
                    for (size_t kx = 0; kx < f; kx++)
                        acc[x] += row[x * f + kx];
            }
            for (size_t x = 0; x < ox; x++)
                acc[x] *= scale;
        }
    }
    free(src);

    struct model_file *out = model_file_create(m, outref.file);
    struct model_dset *od = model_file_dataset(out, outref.dset, outref.text, nd, odims);
    uint64_t ostart[MODEL_MAX_DIMS] = {0}, ocount[MODEL_MAX_DIMS];
    memcpy(ocount, odims, (size_t)nd * sizeof *ocount);
    ostart[0] = first;
    ocount[0] = rows;
    model_dset_write(od, ostart, ocount, dst);
    model_dset_close(&od);
    model_file_close(&out);
    free(dst);

    int rc = model_done(m, outref.text, nd, odims);
    model_ref_clear(&inref);
    model_ref_clear(&outref);
    return rc;
}
