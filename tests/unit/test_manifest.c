/* test_manifest.c - app manifests (common/manifest.c): a full app.yaml, each
 * kind of mistake reported as FILE:LINE:COL at the right place, entry points
 * checked against the app's directory (missing, not executable, absolute,
 * '..', a symlink out), the JSON form and back, and NAME@VERSION.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/unit.h"

#include "common/manifest.h"

static char tmpdir[1024];

static struct app_manifest *load (const char *text, fs_error_t *err)
{
    return manifest_load_string ("app.yaml", text, strlen (text), err);
}

/* Loading text fails with FS_EINVAL and a message starting with want
 * ("app.yaml:LINE:COL: ...") and containing also. */
static void bad (const char *text, const char *want, const char *also)
{
    fs_error_t err = { 0 };
    struct app_manifest *m = load (text, &err);
    if (m)
        fail_msg ("accepted: %s", text);
    if (err.code != FS_EINVAL || strncmp (err.text, want, strlen (want))
        || (also && !strstr (err.text, also)))
        fail_msg ("for:\n%s\nexpected '%s...%s', got %d '%s'", text, want, also ? also : "",
                  err.code, err.text);
}

static void test_full (void **state)
{
    (void)state;
    fs_error_t err;
    struct app_manifest *m = load ("name: heatwave\n"
                                   "version: 1.2.0+build.7\n"
                                   "description: heat index from temperature and humidity\n"
                                   "entry:\n"
                                   "  heat-index: bin/heat-index\n"
                                   "  calibrate: tools/cal.sh\n"
                                   "mpi: true\n"
                                   "requires: [mpirun, libhdf5_openmpi.so.103, python3]\n", &err);
    assert_non_null (m);
    assert_string_equal (m->name, "heatwave");
    assert_string_equal (m->version, "1.2.0+build.7");
    assert_true (m->mpi);
    assert_int_equal (m->nentry, 2);
    assert_string_equal (manifest_entry (m, "calibrate"), "tools/cal.sh");
    assert_null (manifest_entry (m, "nope"));
    assert_int_equal (m->entry[0].line, 5);
    assert_int_equal (m->entry[0].col, 15);
    assert_int_equal (m->nrequires, 3);
    assert_true (manifest_req_is_lib (m->requires[1]));
    assert_false (manifest_req_is_lib (m->requires[0]));
    /* JSON and back. */
    json_t *j = manifest_to_json (m);
    struct app_manifest *m2 = manifest_from_json (j, "test", &err);
    assert_non_null (m2);
    assert_string_equal (m2->version, m->version);
    assert_string_equal (m2->description, m->description);
    assert_int_equal (m2->nentry, 2);
    assert_string_equal (manifest_entry (m2, "heat-index"), "bin/heat-index");
    assert_int_equal (m2->nrequires, 3);
    assert_true (m2->mpi);
    json_object_set_new (json_object_get (j, "entry"), "evil", json_string ("../../bin/sh"));
    assert_null (manifest_from_json (j, "app.publish", &err));
    assert_int_equal (err.code, FS_EINVAL);
    assert_non_null (strstr (err.text, "app.publish"));
    json_decref (j);
    free (m);
    free (m2);
    /* The smallest: mpi defaults to false, no requirements. */
    m = load ("name: a\nversion: '1'\nentry: {run: run}\n", &err);
    assert_non_null (m);
    assert_false (m->mpi);
    assert_int_equal (m->nrequires, 0);
    free (m);
}

static void test_errors (void **state)
{
    (void)state;
    bad ("version: 1\nentry: {a: a}\n", "app.yaml:1:1: name: missing", NULL);
    bad ("name: x\nentry: {a: a}\n", "app.yaml:1:1: version: missing", NULL);
    bad ("name: x\nversion: 1\n", "app.yaml:1:1: entry: missing", NULL);
    bad ("name: x\nversion: 1\nentry: {a: a}\ncolour: red\n", "app.yaml:4:1:", "unknown key");
    bad ("name: 'has space'\nversion: 1\nentry: {a: a}\n", "app.yaml:1:7:", "not allowed");
    bad ("name: x\nversion: 1/2\nentry: {a: a}\n", "app.yaml:2:10:", "not allowed");
    bad ("name: x\nversion: 1\nentry: {a: /bin/sh}\n", "app.yaml:3:12:", "absolute");
    bad ("name: x\nversion: 1\nentry:\n  a: ../../bin/sh\n", "app.yaml:4:6:", "leads out");
    bad ("name: x\nversion: 1\nentry:\n  a: bin/../../x\n", "app.yaml:4:6:", "leads out");
    bad ("name: x\nversion: 1\nentry:\n  a: bin//x\n", "app.yaml:4:6:", "empty");
    bad ("name: x\nversion: 1\nentry: {}\n", "app.yaml:3:8:", "non-empty");
    bad ("name: x\nversion: 1\nentry: [a]\n", "app.yaml:3:8:", "non-empty map");
    bad ("name: x\nversion: 1\nentry: {'a b': a}\n", "app.yaml:3:9:", "not allowed");
    bad ("name: x\nversion: 1\nentry: {a: a}\nmpi: maybe\n", "app.yaml:4:6:", NULL);
    bad ("name: x\nversion: 1\nentry: {a: a}\nrequires: mpirun\n", "app.yaml:4:11:", "list");
    bad ("name: x\nversion: 1\nentry: {a: a}\nrequires: [ok, 'no/slash']\n", "app.yaml:4:16:",
         "not allowed");
    bad ("- just\n- a list\n", "app.yaml:1:1:", "mapping");
    bad ("name: [x\n", "app.yaml:", NULL);
}

static void dir_bad (const char *entry, const char *want)
{
    fs_error_t err = { 0 };
    char text[256];
    snprintf (text, sizeof (text), "name: x\nversion: 1\nentry:\n  run: %s\n", entry);
    struct app_manifest *m = load (text, &err);
    assert_non_null (m);
    assert_int_equal (manifest_check_dir (m, tu_path (tmpdir, "app"), &err), -1);
    if (err.code != FS_EINVAL || strncmp (err.text, "app.yaml:4:8: entry.run:", 24)
        || !strstr (err.text, want))
        fail_msg ("entry %s: expected '%s', got %d '%s'", entry, want, err.code, err.text);
    free (m);
}

static void test_check_dir (void **state)
{
    (void)state;
    fs_error_t err;
    assert_int_equal (mkdir (tu_path (tmpdir, "app"), 0755), 0);
    assert_int_equal (mkdir (tu_path (tmpdir, "app/bin"), 0755), 0);
    tu_put (tu_path (tmpdir, "app/bin/run"), "#!/bin/sh\n", 0755);
    tu_put (tu_path (tmpdir, "app/bin/data"), "x\n", 0644);
    tu_put (tu_path (tmpdir, "outside"), "#!/bin/sh\n", 0755);
    assert_int_equal (symlink ("../../outside", tu_path (tmpdir, "app/bin/out")), 0);
    assert_int_equal (symlink ("run", tu_path (tmpdir, "app/bin/in")), 0);
    struct app_manifest *m = load ("name: x\nversion: 1\nentry: {run: bin/run, in: bin/in}\n", &err);
    assert_non_null (m);
    assert_int_equal (manifest_check_dir (m, tu_path (tmpdir, "app"), &err), 0);
    free (m);
    dir_bad ("bin/none", "does not exist");
    dir_bad ("bin/data", "not executable");
    dir_bad ("bin/out", "leads out");
    dir_bad ("bin", "not a regular file");
}

static void test_ref (void **state)
{
    (void)state;
    char n[APP_NAME_MAX], v[APP_NAME_MAX];
    fs_error_t err;
    assert_int_equal (app_ref_parse ("heatwave@1.2.0", n, v, &err), 0);
    assert_string_equal (n, "heatwave");
    assert_string_equal (v, "1.2.0");
    assert_int_equal (app_ref_parse ("heatwave", n, v, &err), -1);
    assert_int_equal (err.code, FS_EINVAL);
    assert_non_null (strstr (err.text, "NAME@VERSION"));
    assert_int_equal (app_ref_parse ("@1", n, v, &err), -1);
    assert_int_equal (app_ref_parse ("a@", n, v, &err), -1);
    assert_int_equal (app_ref_parse ("a@1@2", n, v, &err), -1);
    assert_int_equal (app_ref_parse ("../x@1", n, v, &err), -1);
}

static int rm_one (const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)f;
    return flag == FTW_DP ? rmdir (p) : unlink (p);
}

int main (void)
{
    const char *base = getenv ("TMPDIR");
    char dir[PATH_MAX], real[PATH_MAX];
    snprintf (dir, sizeof (dir), "%s/test_manifest.XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp (dir) || !realpath (dir, real) || strlen (real) >= sizeof (tmpdir)) {
        perror ("mkdtemp");
        return 1;
    }
    memcpy (tmpdir, real, strlen (real) + 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_full),
        cmocka_unit_test (test_errors),
        cmocka_unit_test (test_check_dir),
        cmocka_unit_test (test_ref),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    if (nftw (tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
        fprintf (stderr, "could not remove %s\n", tmpdir);
    return rc;
}
