/* test_store.c - the scheduler's SQLite store (scheduler/store.c) on its own:
 * registration with its validation and conflict rules, the catalog and
 * lookups, sites, jobs and tasks, transactions, and durability across a
 * close and reopen.  Every test opens a fresh database in its own directory
 * under one mkdtemp directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/error.h"
#include "common/slice.h"
#include "scheduler/store.h"

static char tmpdir[4096];

/* A fresh database path per test. */
static const char *db_path (void)
{
    static char p[4400];
    static int k;
    char dir[4200];
    snprintf (dir, sizeof (dir), "%s/db%d", tmpdir, ++k);
    assert_int_equal (mkdir (dir, 0700), 0);
    snprintf (p, sizeof (p), "%s/sched.db", dir);
    return p;
}

static struct store *open_fresh (char *path_out, size_t n)
{
    const char *p = db_path ();
    if (path_out)
        snprintf (path_out, n, "%s", p);
    fs_error_t err;
    struct store *s = store_open (p, &err);
    if (!s)
        fail_msg ("store_open: %s", err.text);
    return s;
}

/* One registration entry; shape/chunks are JSON text, chunks may be NULL. */
static json_t *entry (const char *name, const char *shape, const char *dtype, const char *chunks,
                      const char *policy)
{
    json_t *e = json_pack ("{s:s, s:s, s:s, s:o, s:s, s:s}", "name", name, "file",
                           "/data/f.h5", "path", "/d", "shape", json_loads (shape, JSON_DECODE_ANY, NULL),
                           "dtype", dtype, "policy", policy);
    assert_non_null (e);
    if (chunks)
        json_object_set_new (e, "chunks", json_loads (chunks, JSON_DECODE_ANY, NULL));
    return e;
}

static json_t *entry_at (const char *name, const char *shape, const char *dtype,
                         const char *policy, const char *file, const char *path)
{
    json_t *e = entry (name, shape, dtype, NULL, policy);
    json_object_set_new (e, "file", json_string (file));
    json_object_set_new (e, "path", json_string (path));
    return e;
}

/* Register one entry (stolen) at site; returns the count, refusals in *refused. */
static int reg1 (struct store *s, const char *site, json_t *e, json_t **refused)
{
    json_t *a = json_array ();
    json_array_append_new (a, e);
    fs_error_t err;
    int n = store_register (s, site, a, refused, &err);
    json_decref (a);
    return n;
}

/* Register one entry that must be refused with a reason containing want. */
static void expect_refused (struct store *s, const char *site, json_t *e, const char *want_name,
                            const char *want)
{
    json_t *refused = NULL;
    assert_int_equal (reg1 (s, site, e, &refused), 0);
    assert_int_equal (json_array_size (refused), 1);
    json_t *r = json_array_get (refused, 0);
    const char *name = json_string_value (json_object_get (r, "name"));
    const char *reason = json_string_value (json_object_get (r, "reason"));
    assert_non_null (name);
    assert_non_null (reason);
    if (want_name)
        assert_string_equal (name, want_name);
    if (!strstr (reason, want))
        fail_msg ("reason '%s' lacks '%s'", reason, want);
    json_decref (refused);
}

static int64_t jint (json_t *o, const char *key)
{
    json_t *v = json_object_get (o, key);
    assert_true (json_is_integer (v));
    return (int64_t)json_integer_value (v);
}

static const char *jstr (json_t *o, const char *key)
{
    const char *v = json_string_value (json_object_get (o, key));
    assert_non_null (v);
    return v;
}

static void assert_json_text (json_t *v, const char *want)
{
    char *t = json_dumps (v, JSON_COMPACT | JSON_ENCODE_ANY);
    assert_non_null (t);
    assert_string_equal (t, want);
    free (t);
}

/* ---- registration ---- */

static void test_register_valid (void **state)
{
    (void)state;
    struct store *s = open_fresh (NULL, 0);
    json_t *a = json_array (), *refused = NULL;
    json_array_append_new (a, entry ("clim/temp", "[10, 20]", "float32", "[5, 10]", "raw"));
    json_array_append_new (a, entry ("clim/grid/lat", "[10]", "float64", NULL, "regions=eu,us"));
    json_array_append_new (a, entry ("scalar", "[]", "int8", NULL, "none"));
    json_array_append_new (a, entry ("agg", "[8, 8]", "uint16", "null", "aggregate=2x4"));
    fs_error_t err;
    assert_int_equal (store_register (s, "site1", a, &refused, &err), 4);
    assert_int_equal (json_array_size (refused), 0);
    json_decref (refused);
    json_decref (a);

    json_t *c = store_catalog (s, NULL, &err);
    assert_non_null (c);
    assert_int_equal (json_array_size (c), 4);
    /* sorted by name */
    assert_string_equal (jstr (json_array_get (c, 0), "name"), "agg");
    assert_string_equal (jstr (json_array_get (c, 1), "name"), "clim/grid/lat");
    assert_string_equal (jstr (json_array_get (c, 2), "name"), "clim/temp");
    assert_string_equal (jstr (json_array_get (c, 3), "name"), "scalar");

    json_t *t = json_array_get (c, 2);
    assert_json_text (json_object_get (t, "shape"), "[10,20]");
    assert_json_text (json_object_get (t, "chunks"), "[5,10]");
    assert_string_equal (jstr (t, "dtype"), "float32");
    assert_int_equal (jint (t, "bytes"), 10 * 20 * 4);
    assert_string_equal (jstr (t, "policy"), "raw");
    assert_json_text (json_object_get (t, "replicas"), "[{\"site\":\"site1\"}]");
    /* the catalog listing has neither file nor version */
    assert_null (json_object_get (t, "version"));

    json_t *lat = json_array_get (c, 1);
    assert_true (json_is_null (json_object_get (lat, "chunks")));
    assert_int_equal (jint (lat, "bytes"), 80);
    assert_string_equal (jstr (lat, "policy"), "regions=eu,us");

    json_t *sc = json_array_get (c, 3);
    assert_json_text (json_object_get (sc, "shape"), "[]");
    assert_int_equal (jint (sc, "bytes"), 1);      /* a scalar holds one element */
    assert_string_equal (jstr (sc, "policy"), "none");

    json_t *ag = json_array_get (c, 0);
    assert_true (json_is_null (json_object_get (ag, "chunks")));     /* "chunks": null */
    assert_string_equal (jstr (ag, "policy"), "aggregate=2x4");
    assert_int_equal (jint (ag, "bytes"), 128);
    json_decref (c);

    assert_int_equal (store_site_datasets (s, "site1"), 4);
    assert_int_equal (store_site_datasets (s, "site2"), 0);
    store_close (s);
}

static void test_register_zero_sized (void **state)
{
    (void)state;
    struct store *s = open_fresh (NULL, 0);
    json_t *refused;
    assert_int_equal (reg1 (s, "a", entry ("empty", "[0, 7]", "float64", NULL, "raw"), &refused), 1);
    json_decref (refused);
    fs_error_t err;
    json_t *d = store_lookup (s, "empty", &err);
    assert_non_null (d);
    assert_int_equal (jint (d, "bytes"), 0);
    json_decref (d);
    store_close (s);
}

static void test_register_refusals (void **state)
{
    (void)state;
    struct store *s = open_fresh (NULL, 0);

    /* names */
    expect_refused (s, "a", entry ("a//b", "[1]", "int8", NULL, "raw"), "a//b", "empty component");
    expect_refused (s, "a", entry ("/lead", "[1]", "int8", NULL, "raw"), "/lead", "start with");
    expect_refused (s, "a", entry ("x/../y", "[1]", "int8", NULL, "raw"), "x/../y", "'..'");
    expect_refused (s, "a", entry ("sp ace", "[1]", "int8", NULL, "raw"), "sp ace", "a space");
    expect_refused (s, "a", entry ("", "[1]", "int8", NULL, "raw"), "", "empty");

    /* element types */
    expect_refused (s, "a", entry ("t1", "[1]", "complex64", NULL, "raw"), "t1",
                    "unsupported element type 'complex64'");
    expect_refused (s, "a", entry ("t2", "[1]", "", NULL, "raw"), "t2", "unsupported element type");

    /* shapes */
    expect_refused (s, "a", entry ("s1", "[-1]", "int8", NULL, "raw"), "s1", "non-negative");
    expect_refused (s, "a", entry ("s2", "[\"3\"]", "int8", NULL, "raw"), "s2", "non-negative");
    expect_refused (s, "a", entry ("s3", "[1.5]", "int8", NULL, "raw"), "s3", "non-negative");
    expect_refused (s, "a", entry ("s4", "3", "int8", NULL, "raw"), "s4", "shape must be an array");
    expect_refused (s, "a", entry ("s5", "{\"n\": 3}", "int8", NULL, "raw"), "s5",
                    "shape must be an array");
    {
        char big[512] = "[";
        for (int d = 0; d <= FS_MAXDIMS; d++)
            strcat (big, d ? ",1" : "1");
        strcat (big, "]");
        expect_refused (s, "a", entry ("s6", big, "int8", NULL, "raw"), "s6", "at most");
    }
    expect_refused (s, "a", entry ("s7", "[4294967296, 4294967296]", "int8", NULL, "raw"), "s7",
                    "too large");
    expect_refused (s, "a", entry ("s8", "[1152921504606846976]", "float64", NULL, "raw"), "s8",
                    "too large");

    /* chunks */
    expect_refused (s, "a", entry ("c1", "[4, 4]", "int8", "[2]", "raw"), "c1",
                    "one size per dimension");
    expect_refused (s, "a", entry ("c2", "[4]", "int8", "[2, 2]", "raw"), "c2",
                    "one size per dimension");
    expect_refused (s, "a", entry ("c3", "[4]", "int8", "[0]", "raw"), "c3", "positive");
    expect_refused (s, "a", entry ("c4", "[4]", "int8", "2", "raw"), "c4", "one size per dimension");

    /* policies */
    expect_refused (s, "a", entry ("p1", "[4]", "int8", NULL, "bogus"), "p1", "unknown policy");
    expect_refused (s, "a", entry ("p2", "[4]", "int8", NULL, "regions"), "p2", "needs a value");
    expect_refused (s, "a", entry ("p3", "[4]", "int8", NULL, "aggregate=2x2"), "p3",
                    "gives 2 block sizes but the dataset has 1 dimension");
    expect_refused (s, "a", entry ("p4", "[4, 4, 4]", "int8", NULL, "aggregate=2"), "p4",
                    "gives 1 block size but the dataset has 3 dimensions");

    /* malformed entries */
    json_t *e = entry ("m1", "[4]", "int8", NULL, "raw");
    json_object_del (e, "file");
    expect_refused (s, "a", e, NULL, "malformed dataset entry");
    e = entry ("m2", "[4]", "int8", NULL, "raw");
    json_object_del (e, "policy");
    expect_refused (s, "a", e, NULL, "malformed dataset entry");
    expect_refused (s, "a", json_string ("not an object"), "?", "malformed dataset entry");

    /* nothing of that made it into the catalog */
    fs_error_t err;
    json_t *c = store_catalog (s, NULL, &err);
    assert_int_equal (json_array_size (c), 0);
    json_decref (c);
    assert_int_equal (store_site_datasets (s, "a"), 0);

    /* not an array at all */
    json_t *refused = NULL;
    json_t *obj = json_object ();
    assert_int_equal (store_register (s, "a", obj, &refused, &err), -1);
    assert_int_equal (err.code, FS_EINVAL);
    assert_non_null (refused);
    json_decref (refused);
    json_decref (obj);
    store_close (s);
}

/* A batch with good and bad entries registers the good ones. */
static void test_register_mixed_batch (void **state)
{
    (void)state;
    struct store *s = open_fresh (NULL, 0);
    json_t *a = json_array (), *refused = NULL;
    json_array_append_new (a, entry ("ok1", "[3]", "int32", NULL, "raw"));
    json_array_append_new (a, entry ("bad name!", "[3]", "int32", NULL, "raw"));
    json_array_append_new (a, entry ("ok2", "[3]", "int32", NULL, "raw"));
    json_array_append_new (a, entry ("bad2", "[3]", "int128", NULL, "raw"));
    fs_error_t err;
    assert_int_equal (store_register (s, "a", a, &refused, &err), 2);
    assert_int_equal (json_array_size (refused), 2);
    assert_string_equal (jstr (json_array_get (refused, 0), "name"), "bad name!");
    assert_string_equal (jstr (json_array_get (refused, 1), "name"), "bad2");
    json_decref (refused);
    json_decref (a);
    json_t *c = store_catalog (s, NULL, &err);
    assert_int_equal (json_array_size (c), 2);
    json_decref (c);
    store_close (s);
}

static void test_conflicts (void **state)
{
    (void)state;
    struct store *s = open_fresh (NULL, 0);
    json_t *refused;
    assert_int_equal (reg1 (s, "a", entry ("x", "[4, 4]", "float32", NULL, "regions=eu"), &refused), 1);
    json_decref (refused);

    /* another shape, another type, another policy: refused at another site */
    expect_refused (s, "b", entry ("x", "[4, 5]", "float32", NULL, "regions=eu"), "x",
                    "already published at site a as a different dataset (float32 [4,4])");
    expect_refused (s, "b", entry ("x", "[4, 4]", "float64", NULL, "regions=eu"), "x",
                    "already published at site a");
    expect_refused (s, "b", entry ("x", "[4, 4]", "float32", NULL, "regions=us"), "x",
                    "replica at site a has policy 'regions=eu'");
    expect_refused (s, "b", entry ("x", "[4, 4]", "float32", NULL, "raw"), "x",
                    "every replica of a dataset must have the same policy");

    fs_error_t err;
    json_t *d = store_lookup (s, "x", &err);
    assert_non_null (d);
    assert_int_equal (json_array_size (json_object_get (d, "replicas")), 1);
    assert_int_equal (jint (d, "version"), 1);
    json_decref (d);
    assert_int_equal (store_site_datasets (s, "b"), 0);

    /* the same dataset: a second replica */
    assert_int_equal (reg1 (s, "b",
                            entry_at ("x", "[4,4]", "float32", "regions=eu", "/b/x.h5", "/g/x"),
                            &refused), 1);
    assert_int_equal (json_array_size (refused), 0);
    json_decref (refused);
    d = store_lookup (s, "x", &err);
    assert_non_null (d);
    assert_int_equal (jint (d, "ndims"), 2);
    assert_int_equal (jint (d, "version"), 1);
    json_t *reps = json_object_get (d, "replicas");
    assert_int_equal (json_array_size (reps), 2);
    assert_string_equal (jstr (json_array_get (reps, 0), "site"), "a");
    assert_string_equal (jstr (json_array_get (reps, 0), "file"), "/data/f.h5");
    assert_string_equal (jstr (json_array_get (reps, 0), "path"), "/d");
    assert_string_equal (jstr (json_array_get (reps, 1), "site"), "b");
    assert_string_equal (jstr (json_array_get (reps, 1), "file"), "/b/x.h5");
    assert_string_equal (jstr (json_array_get (reps, 1), "path"), "/g/x");
    json_decref (d);

    /* with two replicas, neither site may change the shape alone */
    expect_refused (s, "a", entry ("x", "[9]", "float32", NULL, "regions=eu"), "x",
                    "already published at site b");
    store_close (s);
}

static void test_reregister_same_site (void **state)
{
    (void)state;
    struct store *s = open_fresh (NULL, 0);
    json_t *refused;
    fs_error_t err;
    assert_int_equal (reg1 (s, "a", entry_at ("x", "[4]", "int16", "raw", "/f1.h5", "/d1"), &refused), 1);
    json_decref (refused);

    /* new file, path and policy: row updated, version kept */
    assert_int_equal (reg1 (s, "a", entry_at ("x", "[4]", "int16", "none", "/f2.h5", "/d2"), &refused), 1);
    json_decref (refused);
    json_t *d = store_lookup (s, "x", &err);
    assert_non_null (d);
    assert_int_equal (jint (d, "version"), 1);
    assert_string_equal (jstr (d, "policy"), "none");
    json_t *r0 = json_array_get (json_object_get (d, "replicas"), 0);
    assert_int_equal (json_array_size (json_object_get (d, "replicas")), 1);
    assert_string_equal (jstr (r0, "file"), "/f2.h5");
    assert_string_equal (jstr (r0, "path"), "/d2");
    json_decref (d);

    /* same shape and type again: still version 1 */
    assert_int_equal (reg1 (s, "a", entry ("x", "[4]", "int16", "[2]", "none"), &refused), 1);
    json_decref (refused);
    d = store_lookup (s, "x", &err);
    assert_int_equal (jint (d, "version"), 1);
    assert_json_text (json_object_get (d, "chunks"), "[2]");
    json_decref (d);

    /* shape changes: version 2, bytes follow */
    assert_int_equal (reg1 (s, "a", entry ("x", "[4, 3]", "int16", NULL, "none"), &refused), 1);
    json_decref (refused);
    d = store_lookup (s, "x", &err);
    assert_int_equal (jint (d, "version"), 2);
    assert_int_equal (jint (d, "bytes"), 24);
    assert_int_equal (jint (d, "ndims"), 2);
    assert_true (json_is_null (json_object_get (d, "chunks")));
    json_decref (d);

    /* type changes: version 3 */
    assert_int_equal (reg1 (s, "a", entry ("x", "[4, 3]", "float64", NULL, "none"), &refused), 1);
    json_decref (refused);
    d = store_lookup (s, "x", &err);
    assert_int_equal (jint (d, "version"), 3);
    assert_int_equal (jint (d, "bytes"), 96);
    assert_string_equal (jstr (d, "dtype"), "float64");
    json_decref (d);

    /* both in one go: version 4 (incremented once) */
    assert_int_equal (reg1 (s, "a", entry ("x", "[2]", "uint8", NULL, "none"), &refused), 1);
    json_decref (refused);
    d = store_lookup (s, "x", &err);
    assert_int_equal (jint (d, "version"), 4);
    json_decref (d);

    /* the catalog has one row, one replica */
    json_t *c = store_catalog (s, NULL, &err);
    assert_int_equal (json_array_size (c), 1);
    json_decref (c);
    assert_int_equal (store_site_datasets (s, "a"), 1);
    store_close (s);
}

/* ---- catalog and lookup ---- */

static void test_catalog_globs (void **state)
{
    (void)state;
    struct store *s = open_fresh (NULL, 0);
    json_t *a = json_array (), *refused;
    const char *names[] = { "era5/t2m", "era5/u10", "era5/sub/v10", "obs/stations/t2m", "grid" };
    for (size_t i = 0; i < sizeof (names) / sizeof (names[0]); i++)
        json_array_append_new (a, entry (names[i], "[2]", "float32", NULL, "raw"));
    fs_error_t err;
    assert_int_equal (store_register (s, "a", a, &refused, &err), 5);
    json_decref (refused);
    json_decref (a);

    struct {
        const char *glob;
        const char *want;   /* names, comma-separated, sorted */
    } cases[] = {
        { NULL, "era5/sub/v10,era5/t2m,era5/u10,grid,obs/stations/t2m" },
        { "", "era5/sub/v10,era5/t2m,era5/u10,grid,obs/stations/t2m" },
        { "*", "era5/sub/v10,era5/t2m,era5/u10,grid,obs/stations/t2m" },
        { "era5/*", "era5/sub/v10,era5/t2m,era5/u10" },
        { "*t2m", "era5/t2m,obs/stations/t2m" },
        { "era5/?10", "era5/u10" },
        { "grid", "grid" },
        { "nothing*", "" },
        { "era5", "" },
    };
    for (size_t i = 0; i < sizeof (cases) / sizeof (cases[0]); i++) {
        json_t *c = store_catalog (s, cases[i].glob, &err);
        assert_non_null (c);
        char got[512] = "";
        size_t k;
        json_t *d;
        json_array_foreach (c, k, d) {
            if (k)
                strcat (got, ",");
            strcat (got, jstr (d, "name"));
        }
        if (strcmp (got, cases[i].want))
            fail_msg ("glob '%s': got '%s', want '%s'", cases[i].glob ? cases[i].glob : "(null)",
                      got, cases[i].want);
        json_decref (c);
    }
    store_close (s);
}

static void test_lookup_unknown (void **state)
{
    (void)state;
    struct store *s = open_fresh (NULL, 0);
    fs_error_t err = { 0, "" };
    assert_null (store_lookup (s, "no/such", &err));
    assert_int_equal (err.code, FS_ENOTFOUND);
    assert_non_null (strstr (err.text, "unknown dataset 'no/such'"));

    json_t *refused;
    assert_int_equal (reg1 (s, "a", entry ("known", "[1]", "int8", NULL, "raw"), &refused), 1);
    json_decref (refused);
    json_t *d = store_lookup (s, "known", &err);
    assert_non_null (d);
    json_decref (d);
    /* lookups are exact, never globs or prefixes */
    err.code = 0;
    assert_null (store_lookup (s, "know*", &err));
    assert_int_equal (err.code, FS_ENOTFOUND);
    assert_null (store_lookup (s, "know", &err));
    assert_null (store_lookup (s, "known/x", &err));
    assert_non_null (strstr (err.text, "unknown dataset"));
    store_close (s);
}

/* ---- sites ---- */

static void test_sites (void **state)
{
    (void)state;
    struct store *s = open_fresh (NULL, 0);
    fs_error_t err;
    json_t *l = store_sites (s, &err);
    assert_non_null (l);
    assert_int_equal (json_array_size (l), 0);
    json_decref (l);

    assert_int_equal (store_site_save (s, "zeta", "eu", "tcp://z:1", 8, "zkey", &err), 0);
    assert_int_equal (store_site_save (s, "alpha", "us", "tcp://a:1", 4, NULL, &err), 0);
    assert_int_equal (store_site_save (s, "mid", NULL, NULL, 0, NULL, &err), 0);

    l = store_sites (s, &err);
    assert_int_equal (json_array_size (l), 3);
    json_t *a = json_array_get (l, 0), *m = json_array_get (l, 1), *z = json_array_get (l, 2);
    assert_string_equal (jstr (a, "name"), "alpha");
    assert_string_equal (jstr (a, "region"), "us");
    assert_string_equal (jstr (a, "data_uri"), "tcp://a:1");
    assert_int_equal (jint (a, "cores"), 4);
    assert_true (json_is_false (json_object_get (a, "drained")));
    assert_string_equal (jstr (a, "reason"), "");
    assert_string_equal (jstr (m, "name"), "mid");
    assert_string_equal (jstr (m, "region"), "");     /* NULL stored, "" listed */
    assert_string_equal (jstr (m, "data_uri"), "");
    assert_string_equal (jstr (z, "name"), "zeta");
    json_decref (l);

    /* drain, then save again: the save keeps the drain */
    assert_int_equal (store_site_drain (s, "zeta", 1, "disk replacement", &err), 0);
    assert_int_equal (store_site_save (s, "zeta", "eu-west", "tcp://z:2", 16, "zkey2", &err), 0);
    l = store_sites (s, &err);
    z = json_array_get (l, 2);
    assert_string_equal (jstr (z, "name"), "zeta");
    assert_true (json_is_true (json_object_get (z, "drained")));
    assert_string_equal (jstr (z, "reason"), "disk replacement");
    assert_string_equal (jstr (z, "region"), "eu-west");
    assert_string_equal (jstr (z, "data_uri"), "tcp://z:2");
    assert_int_equal (jint (z, "cores"), 16);
    assert_string_equal (jstr (z, "curve_key"), "zkey2");   /* kept for a restart */
    assert_int_equal (json_array_size (l), 3);
    json_decref (l);

    /* undrain */
    assert_int_equal (store_site_drain (s, "zeta", 0, "", &err), 0);
    l = store_sites (s, &err);
    z = json_array_get (l, 2);
    assert_true (json_is_false (json_object_get (z, "drained")));
    assert_string_equal (jstr (z, "reason"), "");
    json_decref (l);

    /* draining a site never saved adds nothing */
    assert_int_equal (store_site_drain (s, "ghost", 1, "x", &err), 0);
    l = store_sites (s, &err);
    assert_int_equal (json_array_size (l), 3);
    json_decref (l);
    store_close (s);
}

/* ---- jobs ---- */

#define MAXT 8
struct loaded_job {
    int64_t id;
    char name[64], file[128], text[256], state[32];
    double submitted, ended;
    size_t ntasks;
    struct {
        char name[64], state[32], site[64], error[128], placement[256];
        bool has_placement;
        int ranks, exit_code, attempt;
        double started, ended;
        int64_t bytes_local, bytes_moved;
    } t[MAXT];
};

struct loaded {
    int n;
    struct loaded_job j[16];
    int stop_after;         /* return 7 from the callback after this many; 0: never */
};

static int load_cb (void *arg, int64_t id, const char *name, const char *file, const char *text,
                    const char *state, double submitted, double ended, size_t ntasks,
                    const struct store_task *tasks)
{
    struct loaded *l = arg;
    assert_true (l->n < 16);
    assert_true (ntasks <= MAXT);
    struct loaded_job *j = &l->j[l->n++];
    j->id = id;
    snprintf (j->name, sizeof (j->name), "%s", name);
    snprintf (j->file, sizeof (j->file), "%s", file);
    snprintf (j->text, sizeof (j->text), "%s", text);
    snprintf (j->state, sizeof (j->state), "%s", state);
    j->submitted = submitted;
    j->ended = ended;
    j->ntasks = ntasks;
    for (size_t i = 0; i < ntasks; i++) {
        const struct store_task *t = &tasks[i];
        snprintf (j->t[i].name, sizeof (j->t[i].name), "%s", t->name);
        snprintf (j->t[i].state, sizeof (j->t[i].state), "%s", t->state);
        snprintf (j->t[i].site, sizeof (j->t[i].site), "%s", t->site);
        snprintf (j->t[i].error, sizeof (j->t[i].error), "%s", t->error);
        j->t[i].has_placement = t->placement != NULL;
        snprintf (j->t[i].placement, sizeof (j->t[i].placement), "%s",
                  t->placement ? t->placement : "");
        j->t[i].ranks = t->ranks;
        j->t[i].exit_code = t->exit_code;
        j->t[i].attempt = t->attempt;
        j->t[i].started = t->started;
        j->t[i].ended = t->ended;
        j->t[i].bytes_local = t->bytes_local;
        j->t[i].bytes_moved = t->bytes_moved;
    }
    return l->stop_after && l->n >= l->stop_after ? 7 : 0;
}

static const struct store_task job1_tasks[] = {
    { .name = "prep", .state = "pending", .site = "", .ranks = 1, .exit_code = -1000,
      .error = "", .placement = NULL },
    { .name = "model", .state = "pending", .site = NULL, .ranks = 4, .exit_code = -1000,
      .error = NULL, .placement = NULL },
    { .name = "post", .state = "pending", .site = "", .ranks = 2, .exit_code = -1000,
      .error = "", .placement = NULL },
};

static void check_jobs_after_updates (struct store *s)
{
    struct loaded l = { 0 };
    fs_error_t err;
    assert_int_equal (store_jobs_load (s, load_cb, &l, &err), 0);
    assert_int_equal (l.n, 2);
    struct loaded_job *j = &l.j[0];
    assert_true (j->id > 0);
    assert_true (l.j[1].id > j->id);
    assert_string_equal (j->name, "wf");
    assert_string_equal (j->file, "/jobs/wf.yaml");
    assert_string_equal (j->text, "name: wf\ntasks: []\n");
    assert_string_equal (j->state, "done");
    assert_true (j->submitted == 1000.5);
    assert_true (j->ended == 2000.25);
    assert_int_equal (j->ntasks, 3);
    /* tasks in index order */
    assert_string_equal (j->t[0].name, "prep");
    assert_string_equal (j->t[1].name, "model");
    assert_string_equal (j->t[2].name, "post");

    /* prep: all fields */
    assert_string_equal (j->t[0].state, "done");
    assert_string_equal (j->t[0].site, "s1");
    assert_int_equal (j->t[0].ranks, 1);
    assert_int_equal (j->t[0].exit_code, 0);
    assert_true (j->t[0].started == 1001.0);
    assert_true (j->t[0].ended == 1002.5);
    assert_int_equal (j->t[0].bytes_local, 123456789012LL);
    assert_int_equal (j->t[0].bytes_moved, 42);
    assert_int_equal (j->t[0].attempt, 2);
    assert_string_equal (j->t[0].error, "");
    assert_true (j->t[0].has_placement);
    assert_string_equal (j->t[0].placement, "{\"site\":\"s1\",\"score\":0.5}");

    /* model: failed, still no times, NULL strings stored as "" */
    assert_string_equal (j->t[1].state, "failed");
    assert_string_equal (j->t[1].site, "");
    assert_int_equal (j->t[1].ranks, 4);
    assert_int_equal (j->t[1].exit_code, 3);
    assert_true (j->t[1].started == 0);
    assert_true (j->t[1].ended == 0);
    assert_string_equal (j->t[1].error, "exit code 3");
    assert_false (j->t[1].has_placement);

    /* post: never touched */
    assert_string_equal (j->t[2].state, "pending");
    assert_int_equal (j->t[2].exit_code, -1000);
    assert_true (j->t[2].started == 0 && j->t[2].ended == 0);
    assert_int_equal (j->t[2].bytes_local, 0);
    assert_int_equal (j->t[2].attempt, 0);

    /* second job: no tasks, not ended */
    assert_string_equal (l.j[1].name, "empty");
    assert_int_equal (l.j[1].ntasks, 0);
    assert_true (l.j[1].ended == 0);
    assert_string_equal (l.j[1].state, "queued");
}

static void test_jobs (void **state)
{
    (void)state;
    char path[4400];
    struct store *s = open_fresh (path, sizeof (path));
    fs_error_t err;

    struct loaded l = { 0 };
    assert_int_equal (store_jobs_load (s, load_cb, &l, &err), 0);
    assert_int_equal (l.n, 0);

    int64_t id1 = store_job_insert (s, "wf", "/jobs/wf.yaml", "name: wf\ntasks: []\n", 1000.5,
                                    "queued", 3, job1_tasks, &err);
    assert_true (id1 > 0);
    int64_t id2 = store_job_insert (s, "empty", "/jobs/e.yaml", "x", 1001, "queued", 0, NULL, &err);
    assert_true (id2 > id1);

    /* loaded back before any update */
    memset (&l, 0, sizeof (l));
    assert_int_equal (store_jobs_load (s, load_cb, &l, &err), 0);
    assert_int_equal (l.n, 2);
    assert_true (l.j[0].id == id1 && l.j[1].id == id2);
    assert_int_equal (l.j[0].ntasks, 3);
    assert_string_equal (l.j[0].t[1].name, "model");
    assert_string_equal (l.j[0].t[1].site, "");
    assert_string_equal (l.j[0].t[1].error, "");
    assert_int_equal (l.j[0].t[1].exit_code, -1000);
    assert_true (l.j[0].ended == 0);
    assert_true (l.j[0].t[0].started == 0);

    /* updates */
    struct store_task t = { .name = "prep", .state = "done", .site = "s1", .ranks = 1,
                            .exit_code = 0, .started = 1001.0, .ended = 1002.5,
                            .bytes_local = 123456789012LL, .bytes_moved = 42, .attempt = 2,
                            .error = "", .placement = "{\"site\":\"s1\",\"score\":0.5}" };
    assert_int_equal (store_task_save (s, id1, 0, &t, &err), 0);
    struct store_task t1 = { .name = "model", .state = "failed", .site = NULL, .ranks = 4,
                             .exit_code = 3, .error = "exit code 3" };
    assert_int_equal (store_task_save (s, id1, 1, &t1, &err), 0);
    assert_int_equal (store_job_state (s, id1, "done", 2000.25, &err), 0);
    check_jobs_after_updates (s);

    /* durability: close and reopen */
    store_close (s);
    s = store_open (path, &err);
    assert_non_null (s);
    check_jobs_after_updates (s);
    /* ids keep increasing after a restart */
    int64_t id3 = store_job_insert (s, "later", "/jobs/l.yaml", "y", 1003, "queued", 0, NULL, &err);
    assert_true (id3 > id2);

    /* a callback's non-zero return stops the load and is returned */
    memset (&l, 0, sizeof (l));
    l.stop_after = 1;
    assert_int_equal (store_jobs_load (s, load_cb, &l, &err), 7);
    assert_int_equal (l.n, 1);
    store_close (s);
}

struct many {
    int calls;
    size_t n[2];
    bool ok;
};

static int many_cb (void *arg, int64_t id, const char *name, const char *file, const char *text,
             const char *state, double submitted, double ended, size_t ntasks,
             const struct store_task *tasks)
{
    struct many *m = arg;
    m->n[m->calls++] = ntasks;
    for (size_t i = 0; i < ntasks; i++) {
        char want[32];
        snprintf (want, sizeof (want), "t%03zu", i);
        if (strcmp (tasks[i].name, want) || tasks[i].ranks != (int)i + 1)
            m->ok = false;
    }
    return 0;
}

/* Many tasks: more than the loader's first buffer (64). */
static void test_jobs_many_tasks (void **state)
{
    (void)state;
    struct store *s = open_fresh (NULL, 0);
    enum { N = 200 };
    struct store_task *tasks = calloc (N, sizeof (*tasks));
    char (*names)[16] = calloc (N, sizeof (*names));
    for (int i = 0; i < N; i++) {
        snprintf (names[i], sizeof (names[i]), "t%03d", i);
        tasks[i] = (struct store_task){ .name = names[i], .state = "pending", .site = "",
                                        .ranks = i + 1, .exit_code = -1000, .error = "" };
    }
    fs_error_t err;
    int64_t id = store_job_insert (s, "big", "/b.yaml", "t", 1, "queued", N, tasks, &err);
    assert_true (id > 0);
    assert_true (store_job_insert (s, "big2", "/b.yaml", "t", 2, "queued", 70, tasks, &err) > id);

    struct many m = { 0, { 0, 0 }, true };
    assert_int_equal (store_jobs_load (s, many_cb, &m, &err), 0);
    assert_int_equal (m.calls, 2);
    assert_int_equal (m.n[0], N);
    assert_int_equal (m.n[1], 70);
    assert_true (m.ok);
    free (names);
    free (tasks);
    store_close (s);
}

static int count_jobs (struct store *s)
{
    struct loaded l = { 0 };
    fs_error_t err;
    assert_int_equal (store_jobs_load (s, load_cb, &l, &err), 0);
    return l.n;
}

static void test_transactions (void **state)
{
    (void)state;
    char path[4400];
    struct store *s = open_fresh (path, sizeof (path));
    fs_error_t err;

    /* begin + add + rollback leaves nothing */
    assert_int_equal (store_begin (s, &err), 0);
    int64_t id = store_job_add (s, "gone", "/g.yaml", "t", 1, "queued", 3, job1_tasks, &err);
    assert_true (id > 0);
    struct store_task t = { .name = "prep", .state = "running", .site = "s1", .ranks = 1,
                            .exit_code = -1000, .started = 5, .error = "" };
    assert_int_equal (store_task_save (s, id, 0, &t, &err), 0);
    store_rollback (s);
    assert_int_equal (count_jobs (s), 0);

    /* begin + two adds + commit: both there */
    assert_int_equal (store_begin (s, &err), 0);
    int64_t a = store_job_add (s, "a", "/a.yaml", "t", 1, "queued", 1, job1_tasks, &err);
    int64_t b = store_job_add (s, "b", "/b.yaml", "t", 2, "queued", 2, job1_tasks, &err);
    assert_true (a > 0 && b > a);
    assert_int_equal (store_commit (s, &err), 0);
    assert_int_equal (count_jobs (s), 2);

    /* a task update rolled back keeps the old row */
    assert_int_equal (store_begin (s, &err), 0);
    struct store_task upd = { .name = "prep", .state = "done", .site = "s9", .ranks = 1,
                              .exit_code = 0, .error = "" };
    assert_int_equal (store_task_save (s, a, 0, &upd, &err), 0);
    assert_int_equal (store_job_state (s, a, "done", 9, &err), 0);
    store_rollback (s);
    struct loaded l = { 0 };
    assert_int_equal (store_jobs_load (s, load_cb, &l, &err), 0);
    assert_string_equal (l.j[0].state, "queued");
    assert_string_equal (l.j[0].t[0].state, "pending");
    assert_string_equal (l.j[0].t[0].site, "");

    /* a job whose insert fails (a task without a name) leaves nothing behind */
    struct store_task bad[2] = {
        { .name = "ok", .state = "pending", .site = "", .ranks = 1, .exit_code = -1000, .error = "" },
        { .name = NULL, .state = "pending", .site = "", .ranks = 1, .exit_code = -1000, .error = "" },
    };
    err.code = 0;
    assert_int_equal (store_job_insert (s, "bad", "/bad.yaml", "t", 3, "queued", 2, bad, &err), -1);
    assert_int_equal (err.code, FS_EFAIL);
    assert_non_null (strstr (err.text, "scheduler database"));
    assert_int_equal (count_jobs (s), 2);

    /* the store still works afterwards, and a second begin inside one fails */
    assert_true (store_job_insert (s, "c", "/c.yaml", "t", 4, "queued", 0, NULL, &err) > b);
    assert_int_equal (store_begin (s, &err), 0);
    assert_int_equal (store_begin (s, &err), -1);
    assert_int_equal (err.code, FS_EFAIL);
    store_rollback (s);
    assert_int_equal (count_jobs (s), 3);

    /* committed work survives a reopen; the rolled back job does not */
    store_close (s);
    s = store_open (path, &err);
    assert_non_null (s);
    memset (&l, 0, sizeof (l));
    assert_int_equal (store_jobs_load (s, load_cb, &l, &err), 0);
    assert_int_equal (l.n, 3);
    assert_string_equal (l.j[0].name, "a");
    assert_string_equal (l.j[1].name, "b");
    assert_string_equal (l.j[2].name, "c");
    assert_int_equal (l.j[1].ntasks, 2);
    store_close (s);
}

/* ---- durability ---- */

/* What the dispatcher learned of runtimes: saved (and updated) per command,
 * read back after the store is closed and opened again. */
struct rt_seen {
    int n;
    double runtime[4], bytes[4];
    unsigned samples[4];
    char command[4][64];
};

static void rt_collect (void *arg, const char *command, double runtime_s, double bytes,
                        unsigned samples)
{
    struct rt_seen *r = arg;
    assert_true (r->n < 4);
    snprintf (r->command[r->n], sizeof (r->command[0]), "%s", command);
    r->runtime[r->n] = runtime_s;
    r->bytes[r->n] = bytes;
    r->samples[r->n++] = samples;
}

static void test_runtimes (void **state)
{
    (void)state;
    char path[4400];
    struct store *s = open_fresh (path, sizeof (path));
    fs_error_t err;
    assert_int_equal (store_runtime_save (s, "regrid {in.x} {out.y}", 2.5, 4e6, 1, &err), 0);
    assert_int_equal (store_runtime_save (s, "", 2.5, 4e6, 1, &err), 0);
    assert_int_equal (store_runtime_save (s, "regrid {in.x} {out.y}", 3.5, 5e6, 2, &err), 0);
    store_close (s);
    s = store_open (path, &err);
    assert_non_null (s);
    struct rt_seen r = { 0 };
    assert_int_equal (store_runtimes_load (s, rt_collect, &r, &err), 0);
    assert_int_equal (r.n, 2);
    int k = !strcmp (r.command[0], "") ? 1 : 0;
    assert_string_equal (r.command[k], "regrid {in.x} {out.y}");
    assert_true (r.runtime[k] == 3.5 && r.bytes[k] == 5e6 && r.samples[k] == 2);
    assert_string_equal (r.command[1 - k], "");
    assert_true (r.runtime[1 - k] == 2.5 && r.samples[1 - k] == 1);
    store_close (s);
}

static void test_reopen (void **state)
{
    (void)state;
    char path[4400];
    struct store *s = open_fresh (path, sizeof (path));
    fs_error_t err;
    json_t *a = json_array (), *refused;
    json_array_append_new (a, entry_at ("d/one", "[5, 6]", "uint32", "regions=eu", "/s/one.h5", "/one"));
    json_array_append_new (a, entry ("d/two", "[7]", "int64", "[7]", "raw"));
    assert_int_equal (store_register (s, "s1", a, &refused, &err), 2);
    json_decref (refused);
    json_decref (a);
    assert_int_equal (reg1 (s, "s2", entry_at ("d/one", "[5,6]", "uint32", "regions=eu", "/t/one.h5",
                                               "/x"), &refused), 1);
    json_decref (refused);
    assert_int_equal (reg1 (s, "s1", entry ("d/two", "[8]", "int64", NULL, "raw"), &refused), 1);
    json_decref (refused);
    assert_int_equal (store_site_save (s, "s1", "eu", "tcp://s1:1", 4, NULL, &err), 0);
    assert_int_equal (store_site_save (s, "s2", "us", "tcp://s2:1", 2, NULL, &err), 0);
    assert_int_equal (store_site_drain (s, "s2", 1, "maintenance", &err), 0);
    assert_true (store_job_insert (s, "j", "/j.yaml", "text", 7, "queued", 1, job1_tasks, &err) > 0);
    store_close (s);

    /* opening twice (a second store on the same file) also works */
    s = store_open (path, &err);
    assert_non_null (s);
    json_t *c = store_catalog (s, NULL, &err);
    assert_int_equal (json_array_size (c), 2);
    json_decref (c);
    json_t *d = store_lookup (s, "d/one", &err);
    assert_non_null (d);
    assert_int_equal (json_array_size (json_object_get (d, "replicas")), 2);
    assert_string_equal (jstr (d, "policy"), "regions=eu");
    assert_int_equal (jint (d, "bytes"), 5 * 6 * 4);
    assert_string_equal (jstr (json_array_get (json_object_get (d, "replicas"), 1), "file"),
                         "/t/one.h5");
    json_decref (d);
    d = store_lookup (s, "d/two", &err);
    assert_int_equal (jint (d, "version"), 2);
    assert_json_text (json_object_get (d, "shape"), "[8]");
    json_decref (d);
    assert_int_equal (store_site_datasets (s, "s1"), 2);
    assert_int_equal (store_site_datasets (s, "s2"), 1);
    json_t *l = store_sites (s, &err);
    assert_int_equal (json_array_size (l), 2);
    assert_true (json_is_true (json_object_get (json_array_get (l, 1), "drained")));
    assert_string_equal (jstr (json_array_get (l, 1), "reason"), "maintenance");
    json_decref (l);
    assert_int_equal (count_jobs (s), 1);

    /* the conflict rules hold against rows from before the restart */
    expect_refused (s, "s3", entry ("d/one", "[5, 6]", "uint32", NULL, "raw"), "d/one",
                    "same policy");
    store_close (s);
}

static void test_open_failure (void **state)
{
    (void)state;
    char p[4300];
    snprintf (p, sizeof (p), "%s/no/such/dir/x.db", tmpdir);
    fs_error_t err = { 0, "" };
    assert_null (store_open (p, &err));
    assert_int_equal (err.code, FS_EFAIL);
    assert_non_null (strstr (err.text, p));
    store_close (NULL);
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
    snprintf (tmpdir, sizeof (tmpdir), "%s/test_store.XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp (tmpdir)) {
        perror ("mkdtemp");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_register_valid),
        cmocka_unit_test (test_register_zero_sized),
        cmocka_unit_test (test_register_refusals),
        cmocka_unit_test (test_register_mixed_batch),
        cmocka_unit_test (test_conflicts),
        cmocka_unit_test (test_reregister_same_site),
        cmocka_unit_test (test_catalog_globs),
        cmocka_unit_test (test_lookup_unknown),
        cmocka_unit_test (test_sites),
        cmocka_unit_test (test_jobs),
        cmocka_unit_test (test_jobs_many_tasks),
        cmocka_unit_test (test_transactions),
        cmocka_unit_test (test_runtimes),
        cmocka_unit_test (test_reopen),
        cmocka_unit_test (test_open_failure),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    if (nftw (tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
        fprintf (stderr, "could not remove %s\n", tmpdir);
    return rc;
}
