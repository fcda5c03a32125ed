/* test_store_meta.c - datasets' metadata in the scheduler's store
 * (scheduler/store_meta.c): kept and replaced by registrations, kept when an
 * entry has none, malformed metadata recorded as its error, catalog --where
 * conditions, search ranking, the info object, and all of it across a reopen. */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/error.h"
#include "scheduler/store.h"

static char tmpdir[4096];

static struct store *open_at (const char *path)
{
    fs_error_t err;
    struct store *s = store_open (path, &err);
    if (!s)
        fail_msg ("store_open: %s", err.text);
    return s;
}

static const char *fresh_path (void)
{
    static char p[4400];
    static int k;
    snprintf (p, sizeof (p), "%s/db%d.sqlite", tmpdir, ++k);
    return p;
}

/* A registration entry with metadata given as JSON text (NULL: none). */
static json_t *entry (const char *name, const char *meta)
{
    json_t *e = json_pack ("{s:s, s:s, s:s, s:[i,i], s:s, s:s}", "name", name, "file", "/d/f.h5",
                           "path", "/v", "shape", 4, 5, "dtype", "float32", "policy", "raw");
    if (meta) {
        json_error_t jerr;
        json_t *m = json_loads (meta, JSON_DECODE_ANY, &jerr);
        if (!m)
            fail_msg ("bad test JSON: %s: %s", jerr.text, meta);
        json_object_set_new (e, "meta", m);
    }
    return e;
}

static void reg (struct store *s, json_t *e)
{
    json_t *a = json_array (), *refused = NULL;
    json_array_append_new (a, e);
    fs_error_t err;
    int n = store_register (s, "site1", a, &refused, &err);
    if (n != 1)
        fail_msg ("store_register: %d %s %s", n, err.text, json_dumps (refused, 0));
    json_decref (refused);
    json_decref (a);
}

static const char *SST =
    "{\"filters\": [\"gzip\"], \"attrs\": {\"units\": \"K\", \"long_name\": \"Sea surface temperature\","
    " \"standard_name\": \"sea_surface_temperature\", \"_FillValue\": -999.0,"
    " \"history\": {\"summary\": \"string of 5000 bytes\", \"text\": \"made by hand\"}},"
    " \"file_attrs\": {\"title\": \"Monthly ocean analysis\", \"institution\": \"Ocean Centre\"},"
    " \"dims\": [{\"size\": 4, \"name\": \"time\", \"units\": \"days since 1850-01-01\","
    " \"first\": \"2010-01-15\", \"last\": \"2013-01-15\", \"first_value\": 58453, \"last_value\": 59549,"
    " \"calendar\": \"standard\", \"frequency\": \"yearly\", \"attrs\": {\"axis\": \"T\"}},"
    " {\"size\": 5, \"name\": \"lat\", \"units\": \"degrees_north\", \"first\": -80.0, \"last\": 80.0}]}";
static const char *AIR =
    "{\"attrs\": {\"units\": \"K\", \"long_name\": \"Air temperature\"}, \"file_attrs\": {\"title\": \"Air\"},"
    " \"dims\": [{\"size\": 4}, {\"size\": 5}]}";
static const char *SALT =
    "{\"attrs\": {\"units\": \"psu\", \"long_name\": \"Sea water salinity\"},"
    " \"file_attrs\": {\"title\": \"Ocean salinity\", \"units\": \"K\"}, \"dims\": []}";

/* Names of a catalog or search array, space separated. */
static char *names (json_t *a)
{
    static char buf[4096];
    size_t used = 0, i;
    json_t *d;
    buf[0] = '\0';
    json_array_foreach (a, i, d)
        used += (size_t)snprintf (buf + used, sizeof (buf) - used, "%s%s", i ? " " : "",
                                  json_string_value (json_object_get (d, "name")));
    json_decref (a);
    return buf;
}

static char *where (struct store *s, const char *glob, const char *c1, const char *c2)
{
    json_t *w = json_array ();
    if (c1)
        json_array_append_new (w, json_string (c1));
    if (c2)
        json_array_append_new (w, json_string (c2));
    fs_error_t err;
    json_t *a = store_catalog_where (s, glob, w, &err);
    json_decref (w);
    if (!a)
        fail_msg ("where %s %s: %s", c1, c2 ? c2 : "", err.text);
    return names (a);
}

static char *search (struct store *s, const char *text, int limit)
{
    fs_error_t err;
    json_t *a = store_search (s, text, limit, &err);
    if (!a)
        fail_msg ("search '%s': %s", text, err.text);
    return names (a);
}

static struct store *corpus (const char *path)
{
    struct store *s = open_at (path);
    reg (s, entry ("ocean/sst", SST));
    reg (s, entry ("atmos/air", AIR));
    reg (s, entry ("ocean/salt", SALT));
    reg (s, entry ("plain/mask", NULL));
    return s;
}

static void test_where (void **state)
{
    (void)state;
    struct store *s = corpus (fresh_path ());
    assert_string_equal (where (s, NULL, "units=K", NULL), "atmos/air ocean/sst");
    /* A bare key is the dataset's attribute when it has one, else the file's. */
    assert_string_equal (where (s, NULL, "title~OCEAN", NULL), "ocean/salt ocean/sst");
    assert_string_equal (where (s, NULL, "file.units=K", NULL), "ocean/salt");
    assert_string_equal (where (s, NULL, "attrs.units=psu", NULL), "ocean/salt");
    assert_string_equal (where (s, NULL, "_FillValue=-999", NULL), "ocean/sst");
    assert_string_equal (where (s, NULL, "_FillValue=-999.0", NULL), "ocean/sst");
    assert_string_equal (where (s, NULL, "_FillValue=-999.5", NULL), "");
    assert_string_equal (where (s, NULL, "dim.time.calendar=standard", NULL), "ocean/sst");
    assert_string_equal (where (s, NULL, "dim.time.axis=T", NULL), "ocean/sst");
    assert_string_equal (where (s, NULL, "dim.lat.first=-80", NULL), "ocean/sst");
    assert_string_equal (where (s, NULL, "dim.0.size=4", NULL), "atmos/air");
    assert_string_equal (where (s, NULL, "dim.time.first~2010", NULL), "ocean/sst");
    assert_string_equal (where (s, NULL, "history~BY HAND", NULL), "ocean/sst");
    assert_string_equal (where (s, NULL, "units=K", "long_name~air"), "atmos/air");
    assert_string_equal (where (s, "ocean/*", "units=K", NULL), "ocean/sst");
    assert_string_equal (where (s, NULL, NULL, NULL), "atmos/air ocean/salt ocean/sst plain/mask");
    static const char *const bad[] = { "units", "=K", "dim.time=1", "dim..units=x", "long_name~",
                                       "a b=c", NULL };
    for (int i = 0; bad[i]; i++) {
        json_t *w = json_pack ("[s]", bad[i]);
        fs_error_t err = { 0 };
        assert_null (store_catalog_where (s, NULL, w, &err));
        assert_int_equal (err.code, FS_EINVAL);
        json_decref (w);
    }
    json_t *w = json_pack ("[i]", 3);
    fs_error_t err = { 0 };
    assert_null (store_catalog_where (s, NULL, w, &err));
    assert_int_equal (err.code, FS_EINVAL);
    json_decref (w);
    store_close (s);
}

static void test_search (void **state)
{
    (void)state;
    struct store *s = corpus (fresh_path ());
    char *r = search (s, "sea surface temperature", 10);
    assert_true (!strncmp (r, "ocean/sst ", 10));
    assert_string_equal (search (s, "air temperature", 1), "atmos/air");
    assert_string_equal (search (s, "salinity", 5), "ocean/salt");
    assert_string_equal (search (s, "temperatures", 5), "ocean/sst atmos/air");
    assert_string_equal (search (s, "2012", 5), "ocean/sst");     /* a year the time axis covers */
    assert_string_equal (search (s, "mask", 5), "plain/mask");    /* names without metadata */
    assert_string_equal (search (s, "salin", 5), "ocean/salt");   /* the start of a word */
    assert_string_equal (search (s, "zzyzx", 5), "");
    fs_error_t err = { 0 };
    json_t *a = store_search (s, "sea surface temperature", 1, &err);
    assert_int_equal (json_array_size (a), 1);
    json_t *d = json_array_get (a, 0);
    assert_true (json_real_value (json_object_get (d, "score")) > 0);
    assert_string_equal (json_string_value (json_object_get (d, "dtype")), "float32");
    json_t *m = json_object_get (d, "matched");
    assert_true (json_array_size (m) >= 2);
    json_decref (a);
    assert_null (store_search (s, "!!! ...", 5, &err));
    assert_int_equal (err.code, FS_EINVAL);
    assert_null (store_search (s, "sst", 0, &err));
    assert_int_equal (err.code, FS_EINVAL);
    store_close (s);
}

static void test_info_and_updates (void **state)
{
    (void)state;
    const char *path = fresh_path ();
    struct store *s = corpus (path);
    fs_error_t err;
    json_t *i = store_info (s, "ocean/sst", &err);
    assert_non_null (i);
    const char *keys[] = { "name", "shape", "dtype", "chunks", "filters", "bytes", "policy", "version",
                           "replicas", "attrs", "file_attrs", "dims", "attrs_omitted",
                           "file_attrs_omitted", "metadata", "metadata_error", NULL };
    const char *k;
    json_t *v;
    int n = 0;
    json_object_foreach (i, k, v) {
        assert_non_null (keys[n]);
        assert_string_equal (k, keys[n]);
        n++;
    }
    assert_null (keys[n]);
    assert_string_equal (json_string_value (json_object_get (json_object_get (i, "attrs"), "units")), "K");
    assert_string_equal (json_string_value (json_object_get (i, "metadata")), "complete");
    json_decref (i);
    /* A registration without metadata keeps it; one with new metadata replaces it. */
    reg (s, entry ("ocean/sst", NULL));
    assert_string_equal (where (s, NULL, "units=K", NULL), "atmos/air ocean/sst");
    reg (s, entry ("ocean/sst", "{\"attrs\": {\"units\": \"degC\", \"long_name\": \"Skin temperature\"}}"));
    assert_string_equal (where (s, NULL, "units=K", NULL), "atmos/air");
    assert_string_equal (search (s, "sea", 5), "ocean/salt");
    assert_string_equal (search (s, "skin", 5), "ocean/sst");
    /* Malformed metadata is kept as its error; the dataset is registered. */
    reg (s, entry ("bad/one", "{\"attrs\": [1, 2]}"));
    reg (s, entry ("bad/two", "\"text\""));
    reg (s, entry ("bad/three", "{\"dims\": [{\"name\": 3}]}"));
    reg (s, entry ("bad/four", "{\"error\": \"cannot open the file\"}"));
    static const char *const bads[] = { "bad/one", "bad/two", "bad/three", "bad/four", NULL };
    for (int b = 0; bads[b]; b++) {
        i = store_info (s, bads[b], &err);
        assert_non_null (i);
        assert_string_equal (json_string_value (json_object_get (i, "metadata")), "error");
        assert_true (json_is_string (json_object_get (i, "metadata_error")));
        assert_int_equal (json_object_size (json_object_get (i, "attrs")), 0);
        json_decref (i);
    }
    i = store_info (s, "plain/mask", &err);
    assert_string_equal (json_string_value (json_object_get (i, "metadata")), "none");
    assert_true (json_is_null (json_object_get (i, "filters")));
    json_decref (i);
    assert_null (store_info (s, "no/such", &err));
    assert_int_equal (err.code, FS_ENOTFOUND);
    store_close (s);
    /* Across a reopen. */
    s = open_at (path);
    assert_string_equal (search (s, "skin", 5), "ocean/sst");
    assert_string_equal (where (s, NULL, "units=degC", NULL), "ocean/sst");
    store_close (s);
}

static int rm_one (const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove (p);
}

static int setup (void **state)
{
    (void)state;
    const char *t = getenv ("TMPDIR");
    snprintf (tmpdir, sizeof (tmpdir), "%s/test_store_meta.XXXXXX", t && *t ? t : "/tmp");
    return mkdtemp (tmpdir) ? 0 : -1;
}

static int teardown (void **state)
{
    (void)state;
    return nftw (tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_where),
        cmocka_unit_test (test_search),
        cmocka_unit_test (test_info_and_updates),
    };
    return cmocka_run_group_tests (tests, setup, teardown);
}
