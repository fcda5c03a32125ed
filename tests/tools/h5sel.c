/* h5sel - read one hyperslab of an HDF5 dataset with plain H5Dread.
 *
 *   h5sel FILE DSET START:STOP:STEP,... [--dump OUT.bin] [--repeat N]
 *
 * One START:STOP:STEP triple per dimension (non-negative, STOP exclusive and
 * at most the dimension's size, STEP > 0; "" or "-" for a scalar dataset).
 * Reads the selection into memory in the dataset's native type and prints
 * one line "seconds=S bytes=B" (the best of N reads with --repeat N; the time
 * covers selection and H5Dread).  --dump writes the raw native bytes, row
 * major.  An independent check of the format adapter: it uses hdf5.h only.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hdf5.h>

#include "common/clock.h"

static void usage (void)
{
    fprintf (stderr, "usage: h5sel FILE DSET START:STOP:STEP,... [--dump OUT.bin] [--repeat N]\n");
    exit (2);
}

static int parse_u64 (const char **p, uint64_t *v)
{
    char *end;
    if (**p < '0' || **p > '9')
        return -1;
    errno = 0;
    unsigned long long x = strtoull (*p, &end, 10);
    if (errno)
        return -1;
    *v = x;
    *p = end;
    return 0;
}

/* Parse "a:b:c,a:b:c,..." into start/stop/step; returns the count of triples. */
static int parse_sel (const char *s, uint64_t *start, uint64_t *stop, uint64_t *step, int max)
{
    int n = 0;
    if (!*s || strcmp (s, "-") == 0)
        return 0;
    for (;;) {
        if (n == max || parse_u64 (&s, &start[n]) < 0 || *s++ != ':'
            || parse_u64 (&s, &stop[n]) < 0 || *s++ != ':' || parse_u64 (&s, &step[n]) < 0
            || step[n] == 0)
            return -1;
        n++;
        if (*s == '\0')
            return n;
        if (*s++ != ',')
            return -1;
    }
}

int main (int argc, char **argv)
{
    const char *pos[3], *dump = NULL;
    int npos = 0;
    long repeat = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--dump") == 0 && i + 1 < argc)
            dump = argv[++i];
        else if (strcmp (argv[i], "--repeat") == 0 && i + 1 < argc)
            repeat = strtol (argv[++i], NULL, 10);
        else if (npos < 3)
            pos[npos++] = argv[i];
        else
            usage ();
    }
    if (npos != 3 || repeat < 1)
        usage ();

    hid_t fid = H5Fopen (pos[0], H5F_ACC_RDONLY, H5P_DEFAULT);
    if (fid < 0) {
        fprintf (stderr, "h5sel: can't open %s\n", pos[0]);
        return 1;
    }
    hid_t did = H5Dopen2 (fid, pos[1], H5P_DEFAULT);
    if (did < 0) {
        fprintf (stderr, "h5sel: %s: can't open dataset %s\n", pos[0], pos[1]);
        return 1;
    }
    hid_t ftype = H5Dget_type (did);
    hid_t mtype = H5Tget_native_type (ftype, H5T_DIR_ASCEND);
    size_t el = H5Tget_size (mtype);
    hid_t fsp = H5Dget_space (did);
    int rank = H5Sget_simple_extent_ndims (fsp);
    hsize_t dims[H5S_MAX_RANK];
    H5Sget_simple_extent_dims (fsp, dims, NULL);

    uint64_t start[H5S_MAX_RANK], stop[H5S_MAX_RANK], step[H5S_MAX_RANK];
    int n = parse_sel (pos[2], start, stop, step, H5S_MAX_RANK);
    if (n != rank) {
        fprintf (stderr, "h5sel: selection '%s' must give %d START:STOP:STEP triple(s)\n",
                 pos[2], rank);
        return 2;
    }
    hsize_t st[H5S_MAX_RANK], sp[H5S_MAX_RANK], ct[H5S_MAX_RANK];
    uint64_t nel = 1;
    for (int d = 0; d < rank; d++) {
        if (start[d] > dims[d] || stop[d] > dims[d]) {
            fprintf (stderr, "h5sel: dimension %d: %" PRIu64 ":%" PRIu64 " exceeds size %llu\n",
                     d, start[d], stop[d], (unsigned long long)dims[d]);
            return 2;
        }
        st[d] = start[d];
        sp[d] = step[d];
        ct[d] = stop[d] > start[d] ? (stop[d] - start[d] - 1) / step[d] + 1 : 0;
        nel *= ct[d];
    }
    size_t bytes = (size_t)(nel * el);
    void *buf = malloc (bytes ? bytes : 1);
    if (!buf) {
        fprintf (stderr, "h5sel: out of memory for %zu bytes\n", bytes);
        return 1;
    }
    double best = -1;
    for (long r = 0; r < repeat; r++) {
        double t0 = clock_mono ();
        if (nel > 0) {
            herr_t rc;
            if (rank == 0) {
                rc = H5Dread (did, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
            } else {
                hid_t sel = H5Scopy (fsp);
                H5Sselect_hyperslab (sel, H5S_SELECT_SET, st, sp, ct, NULL);
                hsize_t m = nel;
                hid_t msp = H5Screate_simple (1, &m, NULL);
                rc = H5Dread (did, mtype, msp, sel, H5P_DEFAULT, buf);
                H5Sclose (msp);
                H5Sclose (sel);
            }
            if (rc < 0) {
                fprintf (stderr, "h5sel: %s:%s: read failed\n", pos[0], pos[1]);
                return 1;
            }
        }
        double t = clock_mono () - t0;
        if (best < 0 || t < best)
            best = t;
    }
    printf ("seconds=%.6f bytes=%zu\n", best, bytes);
    if (dump) {
        FILE *f = fopen (dump, "wb");
        if (!f || fwrite (buf, 1, bytes, f) != bytes || fclose (f) != 0) {
            fprintf (stderr, "h5sel: can't write %s: %s\n", dump, strerror (errno));
            return 1;
        }
    }
    free (buf);
    H5Sclose (fsp);
    H5Tclose (mtype);
    H5Tclose (ftype);
    H5Dclose (did);
    H5Fclose (fid);
    return 0;
}
