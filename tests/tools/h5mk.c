/* h5mk - make an HDF5 dataset filled with a deterministic pattern.
 *
 *   h5mk FILE DSET DTYPE DIM1xDIM2x... [--chunks C1xC2x...] [--gzip LEVEL]
 *
 * DTYPE is int8..int64, uint8..uint64, float32 or float64 (stored
 * little-endian); "scalar" as the shape makes a rank-0 dataset.  FILE is
 * created, or opened for writing when it already is an HDF5 file (so several
 * datasets can share one file); intermediate groups of DSET are created.
 *
 * Element i (row-major flat index) is v = (i * 2654435761) mod 2^31, scaled
 * into the type's range:
 *   int8/uint8:    (v mod 256) - 128   /  v mod 256
 *   int16/uint16:  (v mod 65536) - 32768  /  v mod 65536
 *   int32/uint32, int64/uint64:  v
 *   float32/float64:  v / 2^31   (in [0, 1))
 * It is written in boxes of at most 64 MiB (whole chunk rows when chunked),
 * so a dataset of any size is made with little memory.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#define BLOCK_BYTES ((uint64_t)64 << 20)

static const struct {
    const char *name;
    int kind;       /* 0 signed, 1 unsigned, 2 float */
    size_t size;
} types[] = {
    { "int8", 0, 1 }, { "int16", 0, 2 }, { "int32", 0, 4 }, { "int64", 0, 8 },
    { "uint8", 1, 1 }, { "uint16", 1, 2 }, { "uint32", 1, 4 }, { "uint64", 1, 8 },
    { "float32", 2, 4 }, { "float64", 2, 8 },
};

static void usage (void)
{
    fprintf (stderr, "usage: h5mk FILE DSET DTYPE DIM1xDIM2x.. [--chunks C1xC2..] [--gzip LEVEL]\n");
    exit (2);
}

static int parse_dims (const char *s, hsize_t *dims)
{
    int n = 0;
    if (strcmp (s, "scalar") == 0)
        return 0;
    for (;;) {
        char *end;
        errno = 0;
        if (*s < '0' || *s > '9' || n == H5S_MAX_RANK)
            return -1;
        dims[n++] = strtoull (s, &end, 10);
        if (errno)
            return -1;
        if (*end == '\0')
            return n;
        if (*end != 'x')
            return -1;
        s = end + 1;
    }
}

static void fill (int t, uint64_t first, uint64_t n, void *buf)
{
    for (uint64_t k = 0; k < n; k++) {
        uint64_t v = ((first + k) * 2654435761u) & 0x7fffffffu;
        switch (types[t].kind * 16 + (int)types[t].size) {
        case 1: ((int8_t *)buf)[k] = (int8_t)((int)(v % 256) - 128); break;
        case 2: ((int16_t *)buf)[k] = (int16_t)((int)(v % 65536) - 32768); break;
        case 4: ((int32_t *)buf)[k] = (int32_t)v; break;
        case 8: ((int64_t *)buf)[k] = (int64_t)v; break;
        case 17: ((uint8_t *)buf)[k] = (uint8_t)(v % 256); break;
        case 18: ((uint16_t *)buf)[k] = (uint16_t)(v % 65536); break;
        case 20: ((uint32_t *)buf)[k] = (uint32_t)v; break;
        case 24: ((uint64_t *)buf)[k] = v; break;
        case 36: ((float *)buf)[k] = (float)((double)v / 2147483648.0); break;
        case 40: ((double *)buf)[k] = (double)v / 2147483648.0; break;
        }
    }
}

static hid_t mem_type (int t)
{
    static const hid_t *m[] = { &H5T_NATIVE_INT8_g, &H5T_NATIVE_INT16_g, &H5T_NATIVE_INT32_g,
                                &H5T_NATIVE_INT64_g, &H5T_NATIVE_UINT8_g, &H5T_NATIVE_UINT16_g,
                                &H5T_NATIVE_UINT32_g, &H5T_NATIVE_UINT64_g,
                                &H5T_NATIVE_FLOAT_g, &H5T_NATIVE_DOUBLE_g };
    return *m[t];
}

static hid_t file_type (int t)
{
    static const hid_t *f[] = { &H5T_STD_I8LE_g, &H5T_STD_I16LE_g, &H5T_STD_I32LE_g,
                                &H5T_STD_I64LE_g, &H5T_STD_U8LE_g, &H5T_STD_U16LE_g,
                                &H5T_STD_U32LE_g, &H5T_STD_U64LE_g, &H5T_IEEE_F32LE_g,
                                &H5T_IEEE_F64LE_g };
    return *f[t];
}

int main (int argc, char **argv)
{
    const char *pos[4];
    int npos = 0, gzip = -1, nchunk = -1;
    hsize_t dims[H5S_MAX_RANK], chunks[H5S_MAX_RANK];
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--chunks") == 0 && i + 1 < argc) {
            if ((nchunk = parse_dims (argv[++i], chunks)) < 1)
                usage ();
        } else if (strcmp (argv[i], "--gzip") == 0 && i + 1 < argc) {
            gzip = atoi (argv[++i]);
            if (gzip < 0 || gzip > 9)
                usage ();
        } else if (npos < 4) {
            pos[npos++] = argv[i];
        } else {
            usage ();
        }
    }
    if (npos != 4)
        usage ();
    int t = -1;
    for (int i = 0; i < (int)(sizeof (types) / sizeof (types[0])); i++)
        if (strcmp (types[i].name, pos[2]) == 0)
            t = i;
    int rank = parse_dims (pos[3], dims);
    if (t < 0 || rank < 0)
        usage ();
    if (nchunk >= 0 && nchunk != rank) {
        fprintf (stderr, "h5mk: --chunks needs %d dimensions\n", rank);
        return 2;
    }
    if (gzip >= 0 && nchunk < 0) {
        fprintf (stderr, "h5mk: --gzip needs --chunks\n");
        return 2;
    }

    H5Eset_auto2 (H5E_DEFAULT, NULL, NULL);
    hid_t fid = -1;
    if (access (pos[0], F_OK) == 0 && H5Fis_hdf5 (pos[0]) > 0)
        fid = H5Fopen (pos[0], H5F_ACC_RDWR, H5P_DEFAULT);
    else
        fid = H5Fcreate (pos[0], H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (fid < 0) {
        fprintf (stderr, "h5mk: can't create %s\n", pos[0]);
        return 1;
    }
    hid_t sid = rank ? H5Screate_simple (rank, dims, NULL) : H5Screate (H5S_SCALAR);
    hid_t lcpl = H5Pcreate (H5P_LINK_CREATE);
    H5Pset_create_intermediate_group (lcpl, 1);
    hid_t dcpl = H5Pcreate (H5P_DATASET_CREATE);
    H5Pset_alloc_time (dcpl, H5D_ALLOC_TIME_LATE);
    H5Pset_fill_time (dcpl, H5D_FILL_TIME_NEVER);
    if (nchunk > 0) {
        H5Pset_chunk (dcpl, rank, chunks);
        if (gzip >= 0) {
            H5Pset_shuffle (dcpl);
            H5Pset_deflate (dcpl, (unsigned)gzip);
        }
    }
    hid_t did = H5Dcreate2 (fid, pos[1], file_type (t), sid, lcpl, dcpl, H5P_DEFAULT);
    if (did < 0) {
        fprintf (stderr, "h5mk: %s: can't create dataset %s\n", pos[0], pos[1]);
        return 1;
    }

    /* Split like a piece plan: k is the outermost dimension whose inner
     * rows fit in BLOCK_BYTES; a box fixes the indices before k and takes
     * `rows` indices of k (whole chunk rows when chunked). */
    size_t el = types[t].size;
    uint64_t total = 1;
    for (int d = 0; d < rank; d++)
        total *= dims[d];
    int k = rank - 1;
    uint64_t inner = el;
    while (k > 0 && inner * dims[k] <= BLOCK_BYTES) {
        inner *= dims[k];
        k--;
    }
    uint64_t rows = rank ? BLOCK_BYTES / inner : 1;
    if (rows < 1)
        rows = 1;
    if (nchunk > 0 && rows > chunks[k])
        rows -= rows % chunks[k];
    if (rank && rows > dims[k])
        rows = dims[k];
    void *buf = malloc (rank ? rows * inner : el);
    if (!buf) {
        fprintf (stderr, "h5mk: out of memory\n");
        return 1;
    }
    if (rank == 0) {
        fill (t, 0, 1, buf);
        H5Dwrite (did, mem_type (t), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    } else if (total > 0) {
        uint64_t outer = 1, per = inner / el;
        for (int d = 0; d < k; d++)
            outer *= dims[d];
        for (uint64_t o = 0; o < outer; o++) {
            hsize_t off[H5S_MAX_RANK], cnt[H5S_MAX_RANK];
            uint64_t q = o;
            for (int d = k - 1; d >= 0; d--) {
                off[d] = q % dims[d];
                cnt[d] = 1;
                q /= dims[d];
            }
            for (int d = k + 1; d < rank; d++) {
                off[d] = 0;
                cnt[d] = dims[d];
            }
            for (uint64_t r = 0; r < dims[k]; r += rows) {
                off[k] = r;
                cnt[k] = dims[k] - r < rows ? dims[k] - r : rows;
                uint64_t n = cnt[k] * per;
                fill (t, (o * dims[k] + r) * per, n, buf);
                hid_t fsp = H5Scopy (sid);
                H5Sselect_hyperslab (fsp, H5S_SELECT_SET, off, NULL, cnt, NULL);
                hsize_t m = n;
                hid_t msp = H5Screate_simple (1, &m, NULL);
                herr_t rc = H5Dwrite (did, mem_type (t), msp, fsp, H5P_DEFAULT, buf);
                H5Sclose (msp);
                H5Sclose (fsp);
                if (rc < 0) {
                    fprintf (stderr, "h5mk: %s:%s: write failed\n", pos[0], pos[1]);
                    return 1;
                }
            }
        }
    }
    free (buf);
    H5Dclose (did);
    H5Pclose (dcpl);
    H5Pclose (lcpl);
    H5Sclose (sid);
    if (H5Fclose (fid) < 0) {
        fprintf (stderr, "h5mk: %s: can't finish the file\n", pos[0]);
        return 1;
    }
    return 0;
}
