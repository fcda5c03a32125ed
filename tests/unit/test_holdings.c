/* test_holdings.c - a site's datasets (workers/holdings.c) on their own:
 * scanning data roots, publishing with path confinement, --name and policy
 * rules, and the replay of published.json and outputs.json by a new
 * holdings on the same state directory.
 *
 * Each test builds a fresh tree in its own directory (files written with the
 * HDF5 library directly, as test_format.c does) and a site_config by hand:
 *
 *   root1/  a.h5 (/temp float32 4x5 chunked 2x5, /grid/lat float64 4, /cmp compound)
 *           sub/b.hdf5 (/x int32 3)   bad.h5 (not HDF5)   notes.txt   .hidden.h5
 *           link_in.h5 -> sub/b.hdf5   link_out.h5 -> ../outside/o.h5
 *           dirlink -> ../outside
 *   root2/  (prefix p2, policy regions=eu)  c.h5 (/v uint8 2x2)
 *           d.h5 (/only float32 3, /cmp compound)
 *   root1x/ y.h5      (a sibling whose name starts with "root1")
 *   outside/ o.h5 (/secret float64 2)
 *   state/
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/unit.h"
#include <hdf5.h>
#include <jansson.h>

#include "adapters/format/format.h"
#include "common/config.h"
#include "common/log.h"
#include "workers/holdings.h"

static char tmpdir[1024];

struct fx {
    char base[1100];
    char root1[1200], root2[1200], root1x[1200], outside[1200], state[1200];
    struct site_config cfg;
};

static struct fx fx;

/* base/rel in one of a few rotating buffers */
/* ---- HDF5 files ---- */

struct dspec {
    const char *path;
    hid_t type;             /* 0: a compound type (unsupported) */
    int rank;
    hsize_t dims[4];
    hsize_t chunks[4];      /* chunks[0] == 0: contiguous */
};

static void write_h5 (const char *file, const struct dspec *specs, int n)
{
    hid_t fid = H5Fcreate (file, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true (fid >= 0);
    for (int i = 0; i < n; i++) {
        const struct dspec *s = &specs[i];
        hid_t tid = s->type;
        if (!tid) {
            tid = H5Tcreate (H5T_COMPOUND, 8);
            H5Tinsert (tid, "a", 0, H5T_NATIVE_INT32);
            H5Tinsert (tid, "b", 4, H5T_NATIVE_INT32);
        }
        hid_t sid = H5Screate_simple (s->rank, s->dims, NULL);
        hid_t dcpl = H5Pcreate (H5P_DATASET_CREATE);
        hid_t lcpl = H5Pcreate (H5P_LINK_CREATE);
        H5Pset_create_intermediate_group (lcpl, 1);
        if (s->chunks[0])
            H5Pset_chunk (dcpl, s->rank, s->chunks);
        hid_t did = H5Dcreate2 (fid, s->path, tid, sid, lcpl, dcpl, H5P_DEFAULT);
        assert_true (did >= 0);
        H5Dclose (did);
        H5Pclose (lcpl);
        H5Pclose (dcpl);
        H5Sclose (sid);
        if (!s->type)
            H5Tclose (tid);
    }
    assert_true (H5Fclose (fid) >= 0);
}

static void write_text (const char *file, const char *text)
{
    FILE *f = fopen (file, "w");
    assert_non_null (f);
    fputs (text, f);
    fclose (f);
}

static void mkdir_ok (const char *dir)
{
    if (mkdir (dir, 0700) < 0)
        fail_msg ("mkdir %s failed", dir);
}

static void symlink_ok (const char *target, const char *link)
{
    if (symlink (target, link) < 0)
        fail_msg ("symlink %s -> %s failed", link, target);
}

static int setup (void **state)
{
    (void)state;
    static int k;
    memset (&fx, 0, sizeof (fx));
    snprintf (fx.base, sizeof (fx.base), "%s/t%d", tmpdir, ++k);
    mkdir_ok (fx.base);
    snprintf (fx.root1, sizeof (fx.root1), "%s/root1", fx.base);
    snprintf (fx.root2, sizeof (fx.root2), "%s/root2", fx.base);
    snprintf (fx.root1x, sizeof (fx.root1x), "%s/root1x", fx.base);
    snprintf (fx.outside, sizeof (fx.outside), "%s/outside", fx.base);
    snprintf (fx.state, sizeof (fx.state), "%s/state", fx.base);
    mkdir_ok (fx.root1);
    mkdir_ok (fx.root2);
    mkdir_ok (fx.root1x);
    mkdir_ok (fx.outside);
    mkdir_ok (fx.state);
    mkdir_ok (tu_path (fx.root1, "sub"));

    const struct dspec a[] = {
        { "/temp", H5T_IEEE_F32LE, 2, { 4, 5 }, { 2, 5 } },
        { "/grid/lat", H5T_IEEE_F64LE, 1, { 4 }, { 0 } },
        { "/cmp", 0, 1, { 2 }, { 0 } },
    };
    write_h5 (tu_path (fx.root1, "a.h5"), a, 3);
    const struct dspec b[] = { { "/x", H5T_STD_I32LE, 1, { 3 }, { 0 } } };
    write_h5 (tu_path (fx.root1, "sub/b.hdf5"), b, 1);
    write_text (tu_path (fx.root1, "bad.h5"), "this is not an HDF5 file\n");
    write_text (tu_path (fx.root1, "notes.txt"), "hello\n");
    const struct dspec hid[] = { { "/h", H5T_STD_I8LE, 1, { 1 }, { 0 } } };
    write_h5 (tu_path (fx.root1, ".hidden.h5"), hid, 1);
    symlink_ok ("sub/b.hdf5", tu_path (fx.root1, "link_in.h5"));
    symlink_ok ("../outside/o.h5", tu_path (fx.root1, "link_out.h5"));
    symlink_ok ("../outside", tu_path (fx.root1, "dirlink"));

    const struct dspec c[] = { { "/v", H5T_STD_U8LE, 2, { 2, 2 }, { 0 } } };
    write_h5 (tu_path (fx.root2, "c.h5"), c, 1);
    const struct dspec d[] = {
        { "/only", H5T_IEEE_F32LE, 1, { 3 }, { 0 } },
        { "/cmp", 0, 1, { 2 }, { 0 } },
    };
    write_h5 (tu_path (fx.root2, "d.h5"), d, 2);
    const struct dspec y[] = { { "/y", H5T_STD_I8LE, 1, { 1 }, { 0 } } };
    write_h5 (tu_path (fx.root1x, "y.h5"), y, 1);
    const struct dspec o[] = { { "/secret", H5T_IEEE_F64LE, 1, { 2 }, { 0 } } };
    write_h5 (tu_path (fx.outside, "o.h5"), o, 1);

    struct site_config *cfg = &fx.cfg;
    snprintf (cfg->name, sizeof (cfg->name), "s1");
    snprintf (cfg->region, sizeof (cfg->region), "eu");
    snprintf (cfg->state_dir, sizeof (cfg->state_dir), "%s", fx.state);
    cfg->nroots = 2;
    fs_error_t err;
    assert_non_null (realpath (fx.root1, cfg->roots[0].path));
    assert_int_equal (policy_parse ("raw", &cfg->roots[0].policy, &err), 0);
    assert_non_null (realpath (fx.root2, cfg->roots[1].path));
    snprintf (cfg->roots[1].prefix, sizeof (cfg->roots[1].prefix), "p2");
    assert_int_equal (policy_parse ("regions=eu", &cfg->roots[1].policy, &err), 0);
    return 0;
}

/* ---- helpers on results ---- */

/* Names of the entries in datasets, sorted, comma-separated. */
static const char *names_of (json_t *datasets)
{
    static char buf[4096];
    size_t n = json_array_size (datasets);
    const char **v = calloc (n + 1, sizeof (*v));
    for (size_t i = 0; i < n; i++)
        v[i] = json_string_value (json_object_get (json_array_get (datasets, i), "name"));
    for (size_t i = 1; i < n; i++)          /* insertion sort */
        for (size_t j = i; j > 0 && strcmp (v[j - 1], v[j]) > 0; j--) {
            const char *t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (i)
            strcat (buf, ",");
        strcat (buf, v[i]);
    }
    free (v);
    return buf;
}

static json_t *entry_named (json_t *datasets, const char *name)
{
    size_t i;
    json_t *e, *found = NULL;
    json_array_foreach (datasets, i, e)
        if (!strcmp (json_string_value (json_object_get (e, "name")), name))
            found = e;     /* the last one, as registration keeps the last */
    return found;
}

/* The skipped entry whose path is path; its reason must contain want. */
static void assert_skipped (json_t *skipped, const char *path, const char *want)
{
    size_t i;
    json_t *s;
    json_array_foreach (skipped, i, s) {
        const char *p = json_string_value (json_object_get (s, "path"));
        const char *r = json_string_value (json_object_get (s, "reason"));
        if (p && !strcmp (p, path)) {
            if (!r || !strstr (r, want))
                fail_msg ("skipped %s: reason '%s' lacks '%s'", path, r ? r : "(null)", want);
            return;
        }
    }
    char *t = json_dumps (skipped, JSON_COMPACT);
    fail_msg ("no skipped entry for %s in %s", path, t);
    free (t);
}

static void assert_contains (const char *text, const char *want)
{
    if (!strstr (text, want))
        fail_msg ("'%s' lacks '%s'", text, want);
}

static const char *real_of (const char *p)
{
    static char r[4][PATH_MAX];
    static int k;
    k = (k + 1) % 4;
    assert_non_null (realpath (p, r[k]));
    return r[k];
}

static bool exists (const char *p)
{
    struct stat st;
    return lstat (p, &st) == 0;
}

/* ---- scanning ---- */

static void test_scan (void **state)
{
    (void)state;
    struct holdings *h = holdings_create (&fx.cfg, NULL);
    assert_non_null (h);
    assert_int_equal (holdings_count (h), 0);
    json_t *ds = json_array (), *sk = json_array ();
    fs_error_t err;
    assert_int_equal (holdings_scan (h, ds, sk, &err), 0);

    /* names: [prefix/]relative path without the extension + HDF5 path;
     * hidden files, non-HDF5 names, symlinked directories are not visited */
    assert_string_equal (names_of (ds), "a/grid/lat,a/temp,link_in/x,p2/c/v,p2/d/only,sub/b/x");
    assert_int_equal (holdings_count (h), 6);

    /* skipped: the unsupported datasets, the corrupt file, the link out */
    assert_int_equal (json_array_size (sk), 4);
    assert_skipped (sk, "a.h5:/cmp", "not supported");
    assert_skipped (sk, "d.h5:/cmp", "not supported");
    assert_skipped (sk, "bad.h5", "not an HDF5 file");
    assert_skipped (sk, "link_out.h5", "symbolic link leads outside the data root");

    /* registration entries */
    json_t *t = entry_named (ds, "a/temp");
    assert_non_null (t);
    assert_string_equal (json_string_value (json_object_get (t, "file")),
                         tu_path (fx.cfg.roots[0].path, "a.h5"));
    assert_string_equal (json_string_value (json_object_get (t, "path")), "/temp");
    assert_string_equal (json_string_value (json_object_get (t, "dtype")), "float32");
    assert_string_equal (json_string_value (json_object_get (t, "policy")), "raw");
    char *s = json_dumps (json_object_get (t, "shape"), JSON_COMPACT);
    assert_string_equal (s, "[4,5]");
    free (s);
    s = json_dumps (json_object_get (t, "chunks"), JSON_COMPACT);
    assert_string_equal (s, "[2,5]");
    free (s);
    assert_int_equal (json_integer_value (json_object_get (t, "bytes")), 80);

    json_t *lat = entry_named (ds, "a/grid/lat");
    assert_true (json_is_null (json_object_get (lat, "chunks")));
    assert_int_equal (json_integer_value (json_object_get (lat, "bytes")), 32);
    assert_string_equal (json_string_value (json_object_get (lat, "dtype")), "float64");

    json_t *v = entry_named (ds, "p2/c/v");
    assert_string_equal (json_string_value (json_object_get (v, "policy")), "regions=eu");
    assert_string_equal (json_string_value (json_object_get (v, "dtype")), "uint8");

    /* lookups */
    struct holding e;
    assert_int_equal (holdings_find (h, "a/temp", &e, &err), 0);
    assert_string_equal (e.name, "a/temp");
    assert_string_equal (e.path, "/temp");
    assert_int_equal (e.info.ndims, 2);
    assert_int_equal (e.info.shape[0], 4);
    assert_int_equal (e.info.shape[1], 5);
    assert_int_equal (e.info.dtype, FS_DT_FLOAT32);
    assert_true (e.info.chunked);
    assert_int_equal (e.policy.kind, POLICY_RAW);
    assert_int_equal (holdings_find (h, "p2/c/v", &e, &err), 0);
    assert_string_equal (e.file, tu_path (fx.cfg.roots[1].path, "c.h5"));
    assert_int_equal (e.policy.kind, POLICY_REGIONS);
    assert_int_equal (holdings_find (h, "sub/b/x", &e, &err), 0);
    assert_int_equal (e.info.dtype, FS_DT_INT32);
    /* a symlink staying inside the root is served */
    assert_int_equal (holdings_find (h, "link_in/x", &e, &err), 0);
    assert_int_equal (strncmp (e.file, fx.cfg.roots[0].path, strlen (fx.cfg.roots[0].path)), 0);
    assert_int_equal (e.info.dtype, FS_DT_INT32);
    /* what is outside never is */
    assert_int_equal (holdings_find (h, "link_out/secret", &e, &err), -1);
    assert_int_equal (holdings_find (h, "dirlink/o/secret", &e, &err), -1);
    assert_int_equal (holdings_find (h, ".hidden/h", &e, &err), -1);

    json_t *all = holdings_entries (h);
    assert_int_equal (json_array_size (all), 6);
    assert_string_equal (names_of (all), "a/grid/lat,a/temp,link_in/x,p2/c/v,p2/d/only,sub/b/x");
    json_decref (all);

    /* a second scan finds the same (replacing, not duplicating) */
    json_t *ds2 = json_array (), *sk2 = json_array ();
    assert_int_equal (holdings_scan (h, ds2, sk2, &err), 0);
    assert_int_equal (json_array_size (ds2), 6);
    assert_int_equal (holdings_count (h), 6);
    json_decref (ds2);
    json_decref (sk2);

    /* a scan publishes nothing: no state files */
    assert_false (exists (tu_path (fx.state, "published.json")));
    assert_false (exists (tu_path (fx.state, "outputs.json")));
    json_decref (ds);
    json_decref (sk);
    holdings_destroy (h);
    holdings_destroy (NULL);
}

static void test_find_unknown (void **state)
{
    (void)state;
    struct holdings *h = holdings_create (&fx.cfg, NULL);
    struct holding e;
    fs_error_t err = { 0, "" };
    assert_int_equal (holdings_find (h, "nothing", &e, &err), -1);
    assert_int_equal (err.code, FS_EFAIL);
    assert_contains (err.text, "site s1 holds no dataset 'nothing'");
    json_t *ds = json_array (), *sk = json_array ();
    assert_int_equal (holdings_scan (h, ds, sk, &err), 0);
    err.code = 0;
    assert_int_equal (holdings_find (h, "a/tem", &e, &err), -1);      /* no prefixes */
    assert_int_equal (err.code, FS_EFAIL);
    assert_int_equal (holdings_find (h, "a/temp/x", &e, &err), -1);
    assert_int_equal (holdings_find (h, "a", &e, &err), -1);
    assert_int_equal (holdings_find (h, "zzz", &e, &err), -1);
    assert_int_equal (holdings_find (h, "", &e, &err), -1);
    json_decref (ds);
    json_decref (sk);
    holdings_destroy (h);
}

/* ---- publishing ---- */

static json_t *published_file (void)
{
    return json_load_file (tu_path (fx.state, "published.json"), 0, NULL);
}

static void test_publish_paths (void **state)
{
    (void)state;
    struct holdings *h = holdings_create (&fx.cfg, NULL);
    fs_error_t err;
    json_t *ds = json_array (), *sk = json_array ();

    /* relative to a data root */
    assert_int_equal (holdings_publish (h, "sub/b.hdf5", NULL, NULL, NULL, ds, sk, &err), 0);
    assert_string_equal (names_of (ds), "sub/b/x");
    assert_int_equal (json_array_size (sk), 0);
    assert_int_equal (holdings_count (h), 1);
    json_t *pub = published_file ();
    assert_int_equal (json_array_size (pub), 1);
    assert_string_equal (json_string_value (json_object_get (json_array_get (pub, 0), "path")),
                         real_of (tu_path (fx.root1, "sub/b.hdf5")));
    assert_null (json_object_get (json_array_get (pub, 0), "name"));
    assert_null (json_object_get (json_array_get (pub, 0), "policy"));
    json_decref (pub);

    /* relative, found in the second root: its prefix and policy */
    json_array_clear (ds);
    assert_int_equal (holdings_publish (h, "c.h5", NULL, NULL, NULL, ds, sk, &err), 0);
    assert_string_equal (names_of (ds), "p2/c/v");
    assert_string_equal (json_string_value (json_object_get (json_array_get (ds, 0), "policy")),
                         "regions=eu");

    /* absolute inside a root */
    json_array_clear (ds);
    assert_int_equal (holdings_publish (h, tu_path (fx.root2, "d.h5"), NULL, NULL, NULL, ds, sk, &err), 0);
    assert_string_equal (names_of (ds), "p2/d/only");
    assert_skipped (sk, "d.h5:/cmp", "not supported");

    /* a directory, relative and absolute, and '.' */
    json_array_clear (ds);
    json_array_clear (sk);
    assert_int_equal (holdings_publish (h, "sub", NULL, NULL, NULL, ds, sk, &err), 0);
    assert_string_equal (names_of (ds), "sub/b/x");
    json_array_clear (ds);
    assert_int_equal (holdings_publish (h, fx.root2, NULL, NULL, NULL, ds, sk, &err), 0);
    assert_string_equal (names_of (ds), "p2/c/v,p2/d/only");
    json_array_clear (ds);
    json_array_clear (sk);
    assert_int_equal (holdings_publish (h, ".", NULL, NULL, NULL, ds, sk, &err), 0);
    assert_string_equal (names_of (ds), "a/grid/lat,a/temp,link_in/x,sub/b/x");
    assert_skipped (sk, "link_out.h5", "leads outside");
    assert_skipped (sk, "bad.h5", "not an HDF5 file");

    /* a path with a harmless '..' that stays inside */
    json_array_clear (ds);
    assert_int_equal (holdings_publish (h, "sub/../a.h5", NULL, NULL, NULL, ds, sk, &err), 0);
    assert_string_equal (names_of (ds), "a/grid/lat,a/temp");

    /* a symlink to a file inside the root, published directly: resolved,
     * so named after its target */
    json_array_clear (ds);
    assert_int_equal (holdings_publish (h, "link_in.h5", NULL, NULL, NULL, ds, sk, &err), 0);
    assert_string_equal (names_of (ds), "sub/b/x");

    assert_int_equal (holdings_count (h), 6);
    pub = published_file ();
    assert_int_equal (json_array_size (pub), 8);
    json_decref (pub);
    json_decref (ds);
    json_decref (sk);
    holdings_destroy (h);
}

/* A symlink in one root to a file of another: published as the other root's
 * file (its prefix, its policy), by a relative path as by an absolute one. */
static void test_publish_cross_root (void **state)
{
    (void)state;
    symlink_ok ("../root2/c.h5", tu_path (fx.root1, "cross.h5"));
    struct holdings *h = holdings_create (&fx.cfg, NULL);
    json_t *ds = json_array (), *sk = json_array ();
    fs_error_t err = { 0, "" };
    assert_int_equal (holdings_publish (h, "cross.h5", NULL, NULL, NULL, ds, sk, &err), 0);
    assert_string_equal (names_of (ds), "p2/c/v");
    struct holding hd;
    assert_int_equal (holdings_find (h, "p2/c/v", &hd, &err), 0);
    assert_int_equal (hd.policy.kind, POLICY_REGIONS);
    json_array_clear (ds);
    assert_int_equal (holdings_publish (h, tu_path (fx.root1, "cross.h5"), NULL, NULL, NULL, ds, sk, &err), 0);
    assert_string_equal (names_of (ds), "p2/c/v");
    json_decref (ds);
    json_decref (sk);
    holdings_destroy (h);
    unlink (tu_path (fx.root1, "cross.h5"));
}

static void test_publish_confined (void **state)
{
    (void)state;
    struct holdings *h = holdings_create (&fx.cfg, NULL);
    json_t *ds = json_array (), *sk = json_array ();
    const char *outside_paths[] = {
        "../outside/o.h5",
        "sub/../../outside/o.h5",
        "../outside",
        "..",
        "link_out.h5",                  /* a symlink out */
        "dirlink/o.h5",                 /* through a symlinked directory */
        "dirlink",
        "../root1x/y.h5",               /* a sibling that shares the root's name as a prefix */
        tu_path (fx.root1x, "y.h5"),
        tu_path (fx.outside, "o.h5"),        /* absolute, outside */
        fx.outside,
        fx.base,                        /* the parent of the roots */
        "/etc/passwd",
    };
    for (size_t i = 0; i < sizeof (outside_paths) / sizeof (outside_paths[0]); i++) {
        fs_error_t err = { 0, "" };
        if (holdings_publish (h, outside_paths[i], NULL, NULL, NULL, ds, sk, &err) != -1)
            fail_msg ("'%s' was not refused", outside_paths[i]);
        if (err.code != FS_EFAIL || !strstr (err.text, "outside"))
            fail_msg ("'%s': code %d '%s'", outside_paths[i], err.code, err.text);
        assert_contains (err.text, "site s1");
    }
    /* the same through a --name or a policy */
    fs_error_t err = { 0, "" };
    assert_int_equal (holdings_publish (h, "../outside/o.h5", "stolen", "raw", NULL, ds, sk, &err), -1);
    assert_int_equal (err.code, FS_EFAIL);
    assert_contains (err.text, "outside");

    /* missing paths */
    const char *missing[] = { "nope.h5", "sub/nope.h5", "../nowhere/x.h5",
                              "/nonexistent-fedsched/x.h5" };
    for (size_t i = 0; i < sizeof (missing) / sizeof (missing[0]); i++) {
        err.code = 0;
        assert_int_equal (holdings_publish (h, missing[i], NULL, NULL, NULL, ds, sk, &err), -1);
        assert_int_equal (err.code, FS_EFAIL);
        assert_contains (err.text, "no such file or directory");
    }
    err.code = 0;
    assert_int_equal (holdings_publish (h, "", NULL, NULL, NULL, ds, sk, &err), -1);
    assert_int_equal (err.code, FS_EINVAL);

    /* nothing published, nothing recorded */
    assert_int_equal (json_array_size (ds), 0);
    assert_int_equal (holdings_count (h), 0);
    assert_false (exists (tu_path (fx.state, "published.json")));
    json_decref (ds);
    json_decref (sk);
    holdings_destroy (h);
}

static void test_publish_files (void **state)
{
    (void)state;
    struct holdings *h = holdings_create (&fx.cfg, NULL);
    json_t *ds = json_array (), *sk = json_array ();
    fs_error_t err = { 0, "" };

    /* not an HDF5 name */
    assert_int_equal (holdings_publish (h, "notes.txt", NULL, NULL, NULL, ds, sk, &err), -1);
    assert_int_equal (err.code, FS_EINVAL);
    assert_contains (err.text, "not an HDF5 file name");

    /* a corrupt file: nothing published, with the reason */
    err.code = 0;
    assert_int_equal (holdings_publish (h, "bad.h5", NULL, NULL, NULL, ds, sk, &err), -1);
    assert_int_equal (err.code, FS_EFAIL);
    assert_contains (err.text, "nothing published from 'bad.h5'");
    assert_contains (err.text, "not an HDF5 file");
    assert_skipped (sk, "bad.h5", "not an HDF5 file");

    /* neither file nor directory */
    assert_int_equal (mkfifo (tu_path (fx.root1, "fifo.h5"), 0600), 0);
    err.code = 0;
    assert_int_equal (holdings_publish (h, "fifo.h5", NULL, NULL, NULL, ds, sk, &err), -1);
    assert_int_equal (err.code, FS_EINVAL);
    assert_contains (err.text, "neither a file nor a directory");
    assert_int_equal (json_array_size (ds), 0);
    assert_false (exists (tu_path (fx.state, "published.json")));
    json_decref (ds);
    json_decref (sk);
    holdings_destroy (h);
}

static void test_publish_name (void **state)
{
    (void)state;
    struct holdings *h = holdings_create (&fx.cfg, NULL);
    json_t *ds = json_array (), *sk = json_array ();
    fs_error_t err = { 0, "" };
    struct holding e;

    /* one dataset: the name itself */
    assert_int_equal (holdings_publish (h, "sub/b.hdf5", "mine/x1", NULL, NULL, ds, sk, &err), 0);
    assert_string_equal (names_of (ds), "mine/x1");
    assert_int_equal (holdings_find (h, "mine/x1", &e, &err), 0);
    assert_string_equal (e.path, "/x");
    assert_string_equal (e.file, real_of (tu_path (fx.root1, "sub/b.hdf5")));
    assert_int_equal (holdings_find (h, "sub/b/x", &e, &err), -1);    /* not under its own name */

    /* one supported dataset beside an unsupported one: still a single name */
    json_array_clear (ds);
    json_array_clear (sk);
    assert_int_equal (holdings_publish (h, "d.h5", "solo", NULL, NULL, ds, sk, &err), 0);
    assert_string_equal (names_of (ds), "solo");
    assert_skipped (sk, "d.h5:/cmp", "not supported");
    assert_int_equal (holdings_find (h, "solo", &e, &err), 0);
    assert_string_equal (e.path, "/only");
    assert_int_equal (e.policy.kind, POLICY_REGIONS);       /* root2's policy */

    /* several datasets: name + HDF5 path */
    json_array_clear (ds);
    json_array_clear (sk);
    assert_int_equal (holdings_publish (h, "a.h5", "multi", NULL, NULL, ds, sk, &err), 0);
    assert_string_equal (names_of (ds), "multi/grid/lat,multi/temp");
    assert_skipped (sk, "a.h5:/cmp", "not supported");
    assert_int_equal (holdings_find (h, "multi/temp", &e, &err), 0);
    assert_string_equal (e.path, "/temp");

    /* invalid names */
    const char *bad[] = { "a//b", "/abs", "x/..", "sp ace", "", "trail/" };
    for (size_t i = 0; i < sizeof (bad) / sizeof (bad[0]); i++) {
        err.code = 0;
        assert_int_equal (holdings_publish (h, "sub/b.hdf5", bad[i], NULL, NULL, ds, sk, &err), -1);
        if (err.code != FS_EINVAL)
            fail_msg ("name '%s': code %d '%s'", bad[i], err.code, err.text);
    }

    /* --name on a directory */
    err.code = 0;
    assert_int_equal (holdings_publish (h, "sub", "dirname", NULL, NULL, ds, sk, &err), -1);
    assert_int_equal (err.code, FS_EINVAL);
    assert_contains (err.text, "is a directory");
    err.code = 0;
    assert_int_equal (holdings_publish (h, fx.root2, "dirname", NULL, NULL, ds, sk, &err), -1);
    assert_int_equal (err.code, FS_EINVAL);
    assert_int_equal (holdings_find (h, "dirname", &e, &err), -1);

    /* a name that becomes too long with the HDF5 paths appended */
    char longname[256];
    memset (longname, 'n', 252);
    longname[252] = '\0';
    json_array_clear (ds);
    json_array_clear (sk);
    err.code = 0;
    assert_int_equal (holdings_publish (h, "a.h5", longname, NULL, NULL, ds, sk, &err), -1);
    assert_int_equal (err.code, FS_EFAIL);
    assert_contains (err.text, "nothing published");
    assert_int_equal (json_array_size (ds), 0);
    /* ... but fine for a single dataset */
    assert_int_equal (holdings_publish (h, "sub/b.hdf5", longname, NULL, NULL, ds, sk, &err), 0);
    assert_string_equal (names_of (ds), longname);

    /* the names are recorded */
    json_t *pub = published_file ();
    assert_int_equal (json_array_size (pub), 4);
    assert_string_equal (json_string_value (json_object_get (json_array_get (pub, 0), "name")),
                         "mine/x1");
    assert_string_equal (json_string_value (json_object_get (json_array_get (pub, 2), "name")),
                         "multi");
    json_decref (pub);
    json_decref (ds);
    json_decref (sk);
    holdings_destroy (h);
}

static void test_publish_policy (void **state)
{
    (void)state;
    struct holdings *h = holdings_create (&fx.cfg, NULL);
    json_t *ds = json_array (), *sk = json_array ();
    fs_error_t err = { 0, "" };
    struct holding e;

    /* override on a directory */
    assert_int_equal (holdings_publish (h, "sub", NULL, "none", NULL, ds, sk, &err), 0);
    assert_string_equal (json_string_value (json_object_get (json_array_get (ds, 0), "policy")),
                         "none");
    assert_int_equal (holdings_find (h, "sub/b/x", &e, &err), 0);
    assert_int_equal (e.policy.kind, POLICY_NONE);

    /* the second root's policy is a floor: looser or other regions are refused,
     * stricter ones taken */
    json_array_clear (ds);
    assert_int_equal (holdings_publish (h, "c.h5", NULL, "regions=us,asia", NULL, ds, sk, &err), -1);
    assert_int_equal (err.code, FS_EFAIL);
    assert_contains (err.text, "stands under policy 'regions=eu'");
    assert_contains (err.text, "a publish never loosens a policy ('regions=us,asia' is looser)");
    assert_int_equal (holdings_publish (h, "c.h5", NULL, "raw", NULL, ds, sk, &err), -1);
    json_array_clear (sk);
    assert_int_equal (holdings_publish (h, "c.h5", NULL, "none", NULL, ds, sk, &err), 0);
    assert_string_equal (json_string_value (json_object_get (json_array_get (ds, 0), "policy")),
                         "none");

    /* aggregate: rank checked per dataset */
    json_array_clear (ds);
    json_array_clear (sk);
    assert_int_equal (holdings_publish (h, "a.h5", NULL, "aggregate=2x5", NULL, ds, sk, &err), 0);
    assert_string_equal (names_of (ds), "a/temp");
    assert_string_equal (json_string_value (json_object_get (json_array_get (ds, 0), "policy")),
                         "aggregate=2x5");
    assert_skipped (sk, "a.h5:/grid/lat", "gives 2 block sizes but the dataset has 1 dimension");
    assert_int_equal (holdings_find (h, "a/grid/lat", &e, &err), -1);
    assert_int_equal (holdings_find (h, "a/temp", &e, &err), 0);
    assert_int_equal (e.policy.kind, POLICY_AGGREGATE);
    assert_int_equal (e.policy.nblock, 2);

    /* nothing of the file fits: refused */
    json_array_clear (ds);
    json_array_clear (sk);
    err.code = 0;
    assert_int_equal (holdings_publish (h, "sub/b.hdf5", NULL, "aggregate=2x2", NULL, ds, sk, &err), -1);
    assert_int_equal (err.code, FS_EFAIL);
    assert_contains (err.text, "nothing published");
    assert_contains (err.text, "gives 2 block sizes but the dataset has 1 dimension");

    /* a directory where nothing fits publishes nothing, records nothing */
    json_array_clear (ds);
    json_array_clear (sk);
    assert_int_equal (holdings_publish (h, "sub", NULL, "aggregate=1x1x1", NULL, ds, sk, &err), 0);
    assert_int_equal (json_array_size (ds), 0);
    assert_int_equal (json_array_size (sk), 1);

    /* invalid policies */
    const char *bad[] = { "bogus", "regions", "aggregate", "aggregate=0", "regions=" };
    for (size_t i = 0; i < sizeof (bad) / sizeof (bad[0]); i++) {
        err.code = 0;
        assert_int_equal (holdings_publish (h, "a.h5", NULL, bad[i], NULL, ds, sk, &err), -1);
        if (err.code != FS_EINVAL)
            fail_msg ("policy '%s': code %d '%s'", bad[i], err.code, err.text);
    }

    /* the publications are recorded for their names; their policies with the data */
    json_t *pub = published_file ();
    assert_int_equal (json_array_size (pub), 3);
    assert_null (json_object_get (json_array_get (pub, 0), "policy"));
    json_decref (pub);
    json_t *rec = json_load_file (tu_path (fx.state, "policies.json"), 0, NULL);
    assert_non_null (rec);
    char *text = json_dumps (rec, JSON_COMPACT);
    assert_contains (text, "\"dataset\":\"/x\",\"file\":\"");
    assert_contains (text, "\"policy\":\"aggregate=2x5\"");
    assert_contains (text, "\"policy\":\"none\"");
    free (text);
    json_decref (rec);
    json_decref (ds);
    json_decref (sk);
    holdings_destroy (h);
}

/* ---- replay of published.json ---- */

static void test_published_replay (void **state)
{
    (void)state;
    struct holdings *h = holdings_create (&fx.cfg, NULL);
    json_t *ds = json_array (), *sk = json_array ();
    fs_error_t err = { 0, "" };
    assert_int_equal (holdings_publish (h, "a.h5", "multi", "none", NULL, ds, sk, &err), 0);
    assert_int_equal (holdings_publish (h, "sub", NULL, "regions=us", NULL, ds, sk, &err), 0);
    assert_int_equal (holdings_publish (h, tu_path (fx.root2, "c.h5"), NULL, NULL, NULL, ds, sk, &err), 0);
    assert_int_equal (holdings_publish (h, "sub/b.hdf5", "single", NULL, NULL, ds, sk, &err), 0);
    holdings_destroy (h);
    json_decref (ds);
    json_decref (sk);

    /* a restarted worker: a new holdings on the same state directory */
    h = holdings_create (&fx.cfg, NULL);
    ds = json_array ();
    sk = json_array ();
    assert_int_equal (holdings_scan (h, ds, sk, &err), 0);
    assert_int_equal (holdings_count (h), 9);
    json_t *all = holdings_entries (h);
    assert_string_equal (names_of (all), "a/grid/lat,a/temp,link_in/x,multi/grid/lat,multi/temp,"
                                         "p2/c/v,p2/d/only,single,sub/b/x");
    json_decref (all);
    struct holding e;
    assert_int_equal (holdings_find (h, "multi/temp", &e, &err), 0);
    assert_int_equal (e.policy.kind, POLICY_NONE);
    assert_string_equal (e.path, "/temp");
    /* the override recorded for the directory wins over the root's default */
    assert_int_equal (holdings_find (h, "sub/b/x", &e, &err), 0);
    assert_int_equal (e.policy.kind, POLICY_REGIONS);
    assert_string_equal (e.policy.regions[0], "us");
    assert_string_equal (json_string_value (json_object_get (entry_named (ds, "sub/b/x"), "policy")),
                         "regions=us");
    assert_int_equal (holdings_find (h, "single", &e, &err), 0);
    assert_string_equal (e.path, "/x");
    assert_int_equal (holdings_find (h, "p2/c/v", &e, &err), 0);
    assert_int_equal (e.policy.kind, POLICY_REGIONS);
    assert_string_equal (e.policy.regions[0], "eu");
    json_decref (ds);
    json_decref (sk);
    holdings_destroy (h);

    /* the published file disappears; the directory becomes a link out */
    assert_int_equal (unlink (tu_path (fx.root1, "a.h5")), 0);
    assert_int_equal (rename (tu_path (fx.root1, "sub"), tu_path (fx.base, "sub.moved")), 0);
    symlink_ok ("../outside", tu_path (fx.root1, "sub"));
    h = holdings_create (&fx.cfg, NULL);
    ds = json_array ();
    sk = json_array ();
    assert_int_equal (holdings_scan (h, ds, sk, &err), 0);
    assert_skipped (sk, tu_path (fx.cfg.roots[0].path, "a.h5"), "no longer valid");
    assert_skipped (sk, tu_path (fx.cfg.roots[0].path, "sub"), "no longer valid");
    assert_skipped (sk, tu_path (fx.cfg.roots[0].path, "sub/b.hdf5"), "no longer valid");
    all = holdings_entries (h);
    /* link_in.h5 now dangles and is not served; o.h5 behind sub never is */
    assert_string_equal (names_of (all), "p2/c/v,p2/d/only");
    json_decref (all);
    json_decref (ds);
    json_decref (sk);
    holdings_destroy (h);
}

static void test_published_malformed (void **state)
{
    (void)state;
    fs_error_t err = { 0, "" };
    struct holding e;
    /* not an array: ignored */
    write_text (tu_path (fx.state, "published.json"), "{\"path\": \"x\"}");
    struct holdings *h = holdings_create (&fx.cfg, NULL);
    json_t *ds = json_array (), *sk = json_array ();
    assert_int_equal (holdings_scan (h, ds, sk, &err), 0);
    assert_int_equal (holdings_count (h), 6);
    json_decref (ds);
    json_decref (sk);
    holdings_destroy (h);

    /* not JSON at all: ignored, and a publish starts a new list */
    write_text (tu_path (fx.state, "published.json"), "[{ garbage");
    h = holdings_create (&fx.cfg, NULL);
    ds = json_array ();
    sk = json_array ();
    assert_int_equal (holdings_scan (h, ds, sk, &err), 0);
    assert_int_equal (holdings_count (h), 6);
    assert_int_equal (holdings_publish (h, "sub/b.hdf5", "again", NULL, NULL, ds, sk, &err), 0);
    json_t *pub = published_file ();
    assert_int_equal (json_array_size (pub), 1);
    json_decref (pub);
    json_decref (ds);
    json_decref (sk);
    holdings_destroy (h);

    /* entries with no path, a bad policy, a path outside: skipped */
    static char text[32768];
    snprintf (text, sizeof (text),
              "[{\"name\": \"nopath\"},"
              " {\"path\": \"%s\", \"name\": \"badpol\", \"policy\": \"bogus\"},"
              " {\"path\": \"%s\", \"name\": \"escaped\"},"
              " {\"path\": \"%s\", \"name\": \"good\", \"policy\": \"none\"}]",
              tu_path (fx.cfg.roots[0].path, "sub/b.hdf5"), tu_path (fx.outside, "o.h5"),
              tu_path (fx.cfg.roots[0].path, "sub/b.hdf5"));
    write_text (tu_path (fx.state, "published.json"), text);
    /* a state directory from before policies were recorded per data: the
     * publication's policy becomes the data's record */
    unlink (tu_path (fx.state, "policies.json"));
    h = holdings_create (&fx.cfg, NULL);
    ds = json_array ();
    sk = json_array ();
    assert_int_equal (holdings_scan (h, ds, sk, &err), 0);
    assert_skipped (sk, "?", "no longer valid");
    assert_skipped (sk, tu_path (fx.cfg.roots[0].path, "sub/b.hdf5"), "unknown policy 'bogus'");
    assert_skipped (sk, tu_path (fx.outside, "o.h5"), "no longer valid");
    assert_int_equal (holdings_find (h, "badpol", &e, &err), -1);
    assert_int_equal (holdings_find (h, "escaped", &e, &err), -1);
    assert_int_equal (holdings_find (h, "good", &e, &err), 0);
    assert_int_equal (e.policy.kind, POLICY_NONE);
    /* ... and the data's other name follows it */
    assert_int_equal (holdings_find (h, "sub/b/x", &e, &err), 0);
    assert_int_equal (e.policy.kind, POLICY_NONE);
    assert_int_equal (holdings_count (h), 7);
    json_decref (ds);
    json_decref (sk);
    holdings_destroy (h);
}

/* ---- outputs.json ---- */

static void make_output (const char *file, const char *dset, struct holding *e, const char *name,
                         const char *policy)
{
    const struct dspec r[] = { { dset, H5T_IEEE_F64LE, 2, { 3, 2 }, { 0 } } };
    write_h5 (file, r, 1);
    memset (e, 0, sizeof (*e));
    snprintf (e->name, sizeof (e->name), "%s", name);
    snprintf (e->file, sizeof (e->file), "%s", file);
    snprintf (e->path, sizeof (e->path), "%s", dset);
    fs_error_t err;
    assert_int_equal (format_info (file, dset, &e->info, &err), 0);
    assert_int_equal (policy_parse (policy, &e->policy, &err), 0);
}

static void test_outputs (void **state)
{
    (void)state;
    mkdir_ok (tu_path (fx.state, "out"));
    struct holdings *h = holdings_create (&fx.cfg, NULL);
    fs_error_t err = { 0, "" };
    struct holding e, got;
    make_output (tu_path (fx.state, "out/r1.h5"), "/result", &e, "job1/result", "raw");

    json_t *entries = json_array ();
    assert_int_equal (holdings_add (h, &e, entries), 0);
    assert_int_equal (json_array_size (entries), 1);
    json_t *je = json_array_get (entries, 0);
    assert_string_equal (json_string_value (json_object_get (je, "name")), "job1/result");
    assert_string_equal (json_string_value (json_object_get (je, "file")), e.file);
    assert_string_equal (json_string_value (json_object_get (je, "dtype")), "float64");
    assert_int_equal (json_integer_value (json_object_get (je, "bytes")), 48);
    assert_int_equal (holdings_find (h, "job1/result", &got, &err), 0);
    assert_string_equal (got.file, e.file);
    assert_int_equal (got.info.shape[0], 3);

    /* without entries; and a replacement under the same name */
    struct holding e2;
    make_output (tu_path (fx.state, "out/r2.h5"), "/g/res", &e2, "job2/res", "none");
    assert_int_equal (holdings_add (h, &e2, NULL), 0);
    struct holding e1b = e;
    assert_int_equal (policy_parse ("regions=eu", &e1b.policy, &err), 0);
    assert_int_equal (holdings_add (h, &e1b, entries), 0);
    assert_int_equal (json_array_size (entries), 2);
    assert_int_equal (holdings_count (h), 2);
    assert_int_equal (holdings_find (h, "job1/result", &got, &err), 0);
    assert_int_equal (got.policy.kind, POLICY_REGIONS);

    json_t *outs = json_load_file (tu_path (fx.state, "outputs.json"), 0, NULL);
    assert_true (json_is_array (outs));
    assert_int_equal (json_array_size (outs), 3);
    json_t *o = json_array_get (outs, 1);
    assert_string_equal (json_string_value (json_object_get (o, "name")), "job2/res");
    assert_string_equal (json_string_value (json_object_get (o, "path")), "/g/res");
    assert_string_equal (json_string_value (json_object_get (o, "policy")), "none");
    json_decref (outs);
    json_decref (entries);
    holdings_destroy (h);

    /* replayed by a new holdings: shape read back from the file */
    h = holdings_create (&fx.cfg, NULL);
    json_t *ds = json_array (), *sk = json_array ();
    assert_int_equal (holdings_scan (h, ds, sk, &err), 0);
    assert_int_equal (json_array_size (sk), 4);        /* the tree's own skips only */
    assert_int_equal (holdings_count (h), 8);
    assert_int_equal (holdings_find (h, "job1/result", &got, &err), 0);
    assert_string_equal (got.file, e.file);
    assert_string_equal (got.path, "/result");
    assert_int_equal (got.info.ndims, 2);
    assert_int_equal (got.info.shape[0], 3);
    assert_int_equal (got.info.shape[1], 2);
    assert_int_equal (got.info.dtype, FS_DT_FLOAT64);
    assert_int_equal (got.policy.kind, POLICY_REGIONS);     /* the last record wins */
    assert_int_equal (holdings_find (h, "job2/res", &got, &err), 0);
    assert_int_equal (got.policy.kind, POLICY_NONE);
    assert_string_equal (json_string_value (json_object_get (entry_named (ds, "job2/res"), "dtype")),
                         "float64");
    json_decref (ds);
    json_decref (sk);
    holdings_destroy (h);
}

static void test_outputs_malformed (void **state)
{
    (void)state;
    mkdir_ok (tu_path (fx.state, "out"));
    struct holding e;
    make_output (tu_path (fx.state, "out/ok.h5"), "/d", &e, "ok", "raw");
    static char text[32768];
    snprintf (text, sizeof (text),
              "[{\"name\": \"bad//name\", \"file\": \"%s\", \"path\": \"/d\", \"policy\": \"raw\"},"
              " {\"name\": \"nofile\", \"path\": \"/d\", \"policy\": \"raw\"},"
              " {\"name\": \"badpol\", \"file\": \"%s\", \"path\": \"/d\", \"policy\": \"bogus\"},"
              " 42,"
              " {\"name\": \"gone\", \"file\": \"%s\", \"path\": \"/d\", \"policy\": \"raw\"},"
              " {\"name\": \"wrongpath\", \"file\": \"%s\", \"path\": \"/nope\", \"policy\": \"raw\"},"
              " {\"name\": \"ok\", \"file\": \"%s\", \"path\": \"/d\", \"policy\": \"raw\"}]",
              e.file, e.file, tu_path (fx.state, "out/gone.h5"), e.file, e.file);
    write_text (tu_path (fx.state, "outputs.json"), text);
    struct holdings *h = holdings_create (&fx.cfg, NULL);
    json_t *ds = json_array (), *sk = json_array ();
    fs_error_t err = { 0, "" };
    assert_int_equal (holdings_scan (h, ds, sk, &err), 0);
    /* four malformed, one missing file, one missing dataset, beside the tree's four */
    assert_int_equal (json_array_size (sk), 10);
    assert_skipped (sk, tu_path (fx.state, "outputs.json"), "malformed entry in outputs.json");
    assert_skipped (sk, tu_path (fx.state, "out/gone.h5"), "gone.h5");
    struct holding got;
    assert_int_equal (holdings_find (h, "ok", &got, &err), 0);
    assert_int_equal (holdings_find (h, "gone", &got, &err), -1);
    assert_int_equal (holdings_find (h, "wrongpath", &got, &err), -1);
    assert_int_equal (holdings_find (h, "badpol", &got, &err), -1);
    assert_int_equal (holdings_count (h), 7);
    json_decref (ds);
    json_decref (sk);
    holdings_destroy (h);
}

/* ---- a policy belongs to the data ---- */

static const char *policy_of (struct holdings *h, const char *name)
{
    static char buf[256];
    struct holding e;
    fs_error_t err;
    if (holdings_find (h, name, &e, &err) < 0)
        return "(none)";
    return policy_format (&e.policy, buf, sizeof (buf));
}

/* The same file by another name, a symbolic link, a hard link and a second
 * data root: never looser than the strictest standing policy. */
static void test_policy_follows_data (void **state)
{
    (void)state;
    fs_error_t err = { 0, "" };
    /* a hard link of root1's sub/b.hdf5 in root2, whose floor is regions=eu */
    assert_int_equal (link (tu_path (fx.root1, "sub/b.hdf5"), tu_path (fx.root2, "hard.h5")), 0);
    struct holdings *h = holdings_create (&fx.cfg, &err);
    assert_non_null (h);
    json_t *ds = json_array (), *sk = json_array ();
    assert_int_equal (holdings_scan (h, ds, sk, &err), 0);
    /* one file under two roots: both names under root2's floor */
    assert_string_equal (policy_of (h, "sub/b/x"), "regions=eu");
    assert_string_equal (policy_of (h, "link_in/x"), "regions=eu");
    assert_string_equal (policy_of (h, "p2/hard/x"), "regions=eu");

    /* the operator tightens it under a new name: every name follows */
    json_array_clear (ds);
    assert_int_equal (holdings_publish (h, "sub/b.hdf5", "secret/x", "none", "KEY-OP", ds, sk,
                                        &err), 0);
    assert_string_equal (names_of (ds), "link_in/x,p2/hard/x,secret/x,sub/b/x");
    assert_string_equal (policy_of (h, "sub/b/x"), "none");
    assert_string_equal (policy_of (h, "p2/hard/x"), "none");

    /* nothing comes out looser: another name, the symlink, the hard link */
    static const char *paths[] = { "sub/b.hdf5", "link_in.h5", NULL };
    for (int i = 0; paths[i]; i++) {
        json_array_clear (ds);
        json_array_clear (sk);
        err.code = 0;
        assert_int_equal (holdings_publish (h, paths[i], "leak/x", "raw", "KEY", ds, sk, &err), -1);
        assert_int_equal (err.code, FS_EFAIL);
        assert_contains (err.text, "stands under policy 'none'");
        assert_int_equal (json_array_size (ds), 0);
    }
    json_array_clear (sk);
    assert_int_equal (holdings_publish (h, tu_path (fx.root2, "hard.h5"), "leak/x", "regions=eu", NULL,
                                        ds, sk, &err), -1);
    assert_contains (err.text, "stands under policy 'none'");
    /* a directory publish skips what it may not loosen, and publishes the rest */
    json_array_clear (ds);
    json_array_clear (sk);
    assert_int_equal (holdings_publish (h, ".", NULL, "raw", NULL, ds, sk, &err), 0);
    assert_skipped (sk, "sub/b.hdf5:/x", "stands under policy 'none'");
    assert_skipped (sk, "link_in.h5:/x", "stands under policy 'none'");
    assert_string_equal (policy_of (h, "a/temp"), "raw");
    assert_string_equal (policy_of (h, "sub/b/x"), "none");
    assert_int_equal (holdings_find (h, "leak/x", &(struct holding){ 0 }, &err), -1);
    /* without a policy, a publish takes the standing one */
    json_array_clear (ds);
    json_array_clear (sk);
    assert_int_equal (holdings_publish (h, "link_in.h5", "other/x", NULL, NULL, ds, sk, &err), 0);
    assert_string_equal (policy_of (h, "other/x"), "none");
    /* a stricter one is fine: aggregate is not stricter than none */
    assert_int_equal (holdings_publish (h, "a.h5", NULL, "regions=eu,us", NULL, ds, sk, &err), 0);
    assert_int_equal (holdings_publish (h, "a.h5", "a2", "regions=us", NULL, ds, sk, &err), 0);
    assert_string_equal (policy_of (h, "a/temp"), "regions=us");
    assert_int_equal (holdings_publish (h, "a.h5", "a3", "regions=eu", NULL, ds, sk, &err), -1);
    assert_contains (err.text, "stands under policy 'regions=us'");

    /* a restart: the records stand, a new root floor can only tighten */
    holdings_destroy (h);
    h = holdings_create (&fx.cfg, &err);
    assert_non_null (h);
    json_array_clear (ds);
    json_array_clear (sk);
    assert_int_equal (holdings_scan (h, ds, sk, &err), 0);
    assert_string_equal (policy_of (h, "sub/b/x"), "none");
    assert_string_equal (policy_of (h, "secret/x"), "none");
    assert_string_equal (policy_of (h, "p2/hard/x"), "none");
    assert_string_equal (policy_of (h, "a/temp"), "regions=us");
    assert_string_equal (policy_of (h, "a2/temp"), "regions=us");
    json_decref (ds);
    json_decref (sk);
    holdings_destroy (h);
}

static void test_set_policy (void **state)
{
    (void)state;
    fs_error_t err = { 0, "" };
    char before[256];
    struct holdings *h = holdings_create (&fx.cfg, &err);
    json_t *ds = json_array (), *sk = json_array ();
    assert_int_equal (holdings_scan (h, ds, sk, &err), 0);
    assert_int_equal (holdings_publish (h, "sub/b.hdf5", "secret/x", "none", NULL, ds, sk, &err), 0);

    /* loosening needs loosen, and says so */
    json_array_clear (ds);
    assert_int_equal (holdings_set_policy (h, "secret/x", "raw", false, "KEY", ds, before,
                                           sizeof (before), &err), -1);
    assert_int_equal (err.code, FS_EFAIL);
    assert_contains (err.text, "'raw' is looser than the policy in force, 'none', for secret/x");
    assert_contains (err.text, "add --loosen");
    assert_string_equal (policy_of (h, "sub/b/x"), "none");
    /* with it: every name of the data, at once */
    assert_int_equal (holdings_set_policy (h, "secret/x", "aggregate=3,min=2", true, "KEY", ds,
                                           before, sizeof (before), &err), 0);
    assert_string_equal (before, "none");
    assert_string_equal (names_of (ds), "link_in/x,secret/x,sub/b/x");
    assert_string_equal (policy_of (h, "link_in/x"), "aggregate=3,min=2");
    /* tightening needs nothing */
    json_array_clear (ds);
    assert_int_equal (holdings_set_policy (h, "sub/b/x", "aggregate=6,min=2", false, NULL, ds,
                                           before, sizeof (before), &err), 0);
    assert_string_equal (before, "aggregate=3,min=2");
    /* a policy that does not fit the dataset, a bad one, an unknown name */
    assert_int_equal (holdings_set_policy (h, "sub/b/x", "aggregate=2x2", true, NULL, ds, before,
                                           sizeof (before), &err), -1);
    assert_int_equal (err.code, FS_EINVAL);
    assert_int_equal (holdings_set_policy (h, "sub/b/x", "secret", true, NULL, ds, before,
                                           sizeof (before), &err), -1);
    assert_int_equal (err.code, FS_EINVAL);
    assert_int_equal (holdings_set_policy (h, "nope", "none", true, NULL, ds, before,
                                           sizeof (before), &err), -1);
    assert_int_equal (err.code, FS_EFAIL);
    /* never below a data root's floor: root2's regions=eu */
    assert_int_equal (holdings_set_policy (h, "p2/c/v", "raw", true, NULL, ds, before,
                                           sizeof (before), &err), -1);
    assert_contains (err.text, "looser than 'regions=eu', the floor");
    assert_int_equal (holdings_set_policy (h, "p2/c/v", "none", false, NULL, ds, before,
                                           sizeof (before), &err), 0);
    assert_int_equal (holdings_set_policy (h, "p2/c/v", "regions=eu", true, NULL, ds, before,
                                           sizeof (before), &err), 0);
    /* a loosened policy stands after a restart (the replayed publication does
     * not tighten it again), and a publish is measured against it */
    holdings_destroy (h);
    h = holdings_create (&fx.cfg, &err);
    json_array_clear (ds);
    assert_int_equal (holdings_scan (h, ds, sk, &err), 0);
    assert_string_equal (policy_of (h, "secret/x"), "aggregate=6,min=2");
    assert_string_equal (policy_of (h, "sub/b/x"), "aggregate=6,min=2");
    assert_string_equal (policy_of (h, "p2/c/v"), "regions=eu");
    assert_int_equal (holdings_publish (h, "sub/b.hdf5", "y", "aggregate=3", NULL, ds, sk, &err), -1);
    assert_int_equal (holdings_publish (h, "sub/b.hdf5", "y", "aggregate=12,min=2", NULL, ds, sk,
                                        &err), 0);
    holdings_destroy (h);

    /* a table that cannot be read stops the site (it would loosen everything) */
    write_text (tu_path (fx.state, "policies.json"), "{\"data\": [{\"dev\": 1}]}");
    err.code = 0;
    assert_null (holdings_create (&fx.cfg, &err));
    assert_int_equal (err.code, FS_EFAIL);
    assert_contains (err.text, "policies.json: entry 0 is malformed");
    write_text (tu_path (fx.state, "policies.json"), "not json");
    assert_null (holdings_create (&fx.cfg, &err));
    assert_contains (err.text, "restore it from a backup");
    json_decref (ds);
    json_decref (sk);
}

/* ---- concurrency ---- */

#define NPUB 40

/* Lookups while holdings are added. */

struct reader {
    struct holdings *h;
    int found, missed;
};

static void *reader_main (void *arg)
{
    struct reader *r = arg;
    struct holding e;
    for (int round = 0; round < 200; round++)
        for (int i = 0; i < 50; i++) {
            char name[32];
            snprintf (name, sizeof (name), "out/%03d", i * 4);
            if (holdings_find (r->h, name, &e, NULL) == 0) {
                if (strcmp (e.name, name) || strcmp (e.path, "/result"))
                    r->missed = -1000000;       /* a torn copy */
                r->found++;
            } else {
                r->missed++;
            }
        }
    return NULL;
}

static void test_concurrent (void **state)
{
    (void)state;
    mkdir_ok (tu_path (fx.state, "out"));
    struct holdings *h = holdings_create (&fx.cfg, NULL);
    struct holding e;
    make_output (tu_path (fx.state, "out/r.h5"), "/result", &e, "x", "raw");
    struct reader r = { h, 0, 0 };
    pthread_t t;
    assert_int_equal (pthread_create (&t, NULL, reader_main, &r), 0);
    for (int i = 199; i >= 0; i--) {       /* reverse order: inserts at the front */
        snprintf (e.name, sizeof (e.name), "out/%03d", i);
        assert_int_equal (holdings_add (h, &e, NULL), 0);
    }
    pthread_join (t, NULL);
    assert_true (r.missed >= 0);
    assert_int_equal (holdings_count (h), 200);
    json_t *outs = json_load_file (tu_path (fx.state, "outputs.json"), 0, NULL);
    assert_int_equal (json_array_size (outs), 200);
    json_decref (outs);
    holdings_destroy (h);
}

/* Publications made at the same time by two I/O threads (the worker runs
 * site.publish jobs on its pool of io_threads, default 2) must all be
 * recorded in published.json, so that a restarted worker serves them all.
 * The bug this caught: record_publication() did load-append-write of
 * published.json with no lock, both threads writing the same
 * "published.json.tmp", and lost 14-78 of 80 records. */
struct publisher {
    struct holdings *h;
    const char *file;
    const char *prefix;
    int failures;
};

static void *publisher_main (void *arg)
{
    struct publisher *p = arg;
    for (int i = 0; i < NPUB; i++) {
        char name[64];
        snprintf (name, sizeof (name), "%s%02d", p->prefix, i);
        json_t *ds = json_array (), *sk = json_array ();
        fs_error_t err;
        if (holdings_publish (p->h, p->file, name, NULL, NULL, ds, sk, &err) < 0)
            p->failures++;
        json_decref (ds);
        json_decref (sk);
    }
    return NULL;
}

static void test_concurrent_publish (void **state)
{
    (void)state;
    struct holdings *h = holdings_create (&fx.cfg, NULL);
    struct publisher a = { h, "sub/b.hdf5", "pa", 0 }, b = { h, "c.h5", "pb", 0 };
    pthread_t ta, tb;
    assert_int_equal (pthread_create (&ta, NULL, publisher_main, &a), 0);
    assert_int_equal (pthread_create (&tb, NULL, publisher_main, &b), 0);
    pthread_join (ta, NULL);
    pthread_join (tb, NULL);
    assert_int_equal (a.failures + b.failures, 0);
    assert_int_equal (holdings_count (h), 2 * NPUB);
    holdings_destroy (h);

    json_t *pub = published_file ();
    size_t recorded = json_array_size (pub);
    json_decref (pub);
    h = holdings_create (&fx.cfg, NULL);
    json_t *ds = json_array (), *sk = json_array ();
    fs_error_t err;
    assert_int_equal (holdings_scan (h, ds, sk, &err), 0);
    size_t served = holdings_count (h) - 6;
    json_decref (ds);
    json_decref (sk);
    holdings_destroy (h);
    if (recorded != 2 * NPUB || served != 2 * NPUB)
        fail_msg ("%d publications made, %zu recorded in published.json, %zu served after a "
                  "restart", 2 * NPUB, recorded, served);
}

static int rm_one (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove (path);
}

int main (void)
{
    const char *base = getenv ("TMPDIR");
    char dir[PATH_MAX], real[PATH_MAX];
    snprintf (dir, sizeof (dir), "%s/test_holdings.XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp (dir) || !realpath (dir, real) || strlen (real) >= sizeof (tmpdir)) {
        perror ("mkdtemp");
        return 1;
    }
    memcpy (tmpdir, real, strlen (real) + 1);
    format_init ();
    H5Eset_auto2 (H5E_DEFAULT, NULL, NULL);
    log_init ("test_holdings", LOG_ERR);    /* skip warnings are expected */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup (test_scan, setup),
        cmocka_unit_test_setup (test_find_unknown, setup),
        cmocka_unit_test_setup (test_publish_paths, setup),
        cmocka_unit_test_setup (test_publish_confined, setup),
        cmocka_unit_test_setup (test_publish_cross_root, setup),
        cmocka_unit_test_setup (test_publish_files, setup),
        cmocka_unit_test_setup (test_publish_name, setup),
        cmocka_unit_test_setup (test_publish_policy, setup),
        cmocka_unit_test_setup (test_published_replay, setup),
        cmocka_unit_test_setup (test_published_malformed, setup),
        cmocka_unit_test_setup (test_outputs, setup),
        cmocka_unit_test_setup (test_outputs_malformed, setup),
        cmocka_unit_test_setup (test_policy_follows_data, setup),
        cmocka_unit_test_setup (test_set_policy, setup),
        cmocka_unit_test_setup (test_concurrent, setup),
        cmocka_unit_test_setup (test_concurrent_publish, setup),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    if (nftw (tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
        fprintf (stderr, "could not remove %s\n", tmpdir);
    return rc;
}
