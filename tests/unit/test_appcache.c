/* test_appcache.c - a site's apps without the network (workers/appstore.c,
 * workers/appcache.c): uploads in pieces (out of order, damaged, out of
 * bounds), the checks a bundle passes before anything of it is unpacked
 * (size, max_bytes, trust, signature, allow, digest) each refusing on its own,
 * keeping an uploaded bundle (site.app_store) with its manifest from the bundle
 * itself, making it ready for tasks (the entry point, read-only), eight
 * threads asking at once unpacking it once, a revoked publisher, and the
 * eviction's rules (never while being made ready, not when used since).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/unit.h"

#include "common/bundle.h"
#include "common/checksum.h"
#include "common/log.h"
#include "common/sign.h"
#include "workers/appcache.h"
#include "workers/appstore.h"

static char tmpdir[1024];
static struct site_config cfg;
static struct sign_key key;

/* The app in tmpdir/NAME, packed into tmpdir/NAME.fsb; its signed claim. */
static void make_bundle (const char *name, const char *version, struct app_claim *c)
{
    char dir[PATH_MAX - 64], file[PATH_MAX], yaml[256];
    fs_error_t err;
    snprintf (dir, sizeof (dir), "%s", tu_path (tmpdir, name));
    mkdir (dir, 0755);
    snprintf (file, sizeof (file), "%s/bin", dir);
    mkdir (file, 0755);
    snprintf (yaml, sizeof (yaml), "name: %s\nversion: '%s'\nentry: {run: bin/run}\n", name, version);
    snprintf (file, sizeof (file), "%s/app.yaml", dir);
    tu_put (file, yaml, 0644);
    snprintf (file, sizeof (file), "%s/bin/run", dir);
    tu_put (file, "#!/bin/sh\necho run\n", 0755);
    snprintf (file, sizeof (file), "%s.fsb", dir);
    int fd = open (file, O_RDWR | O_CREAT | O_TRUNC, 0644);
    assert_int_equal (bundle_pack (dir, fd, NULL, &err), 0);
    close (fd);
    memset (c, 0, sizeof (*c));
    snprintf (c->name, sizeof (c->name), "%s", name);
    snprintf (c->version, sizeof (c->version), "%s", version);
    assert_int_equal (sign_sha256_file (file, c->digest, &c->bytes, &err), 0);
    snprintf (c->publisher, sizeof (c->publisher), "%s", key.pub);
    assert_int_equal (sign_app (&key, name, version, c->digest, c->signature, &err), 0);
}

/* Upload file for c to s in pieces of 100 bytes, last piece first. */
static void upload (struct appstore *s, const char *file, const struct app_claim *c)
{
    FILE *f = fopen (file, "rb");
    char buf[100];
    fs_error_t err;
    uint64_t n = (c->bytes + 99) / 100;
    for (uint64_t i = n; i-- > 0;) {
        fseek (f, (long)(i * 100), SEEK_SET);
        size_t len = fread (buf, 1, sizeof (buf), f);
        char sum[20];
        snprintf (sum, sizeof (sum), "%016" PRIx64, checksum (buf, len));
        json_t *req = json_pack ("{s:s, s:i, s:{s:s, s:I, s:I, s:s}}", "op", "app.put", "id",
                                 1, "body", "digest", c->digest, "bytes", (json_int_t)c->bytes,
                                 "offset", (json_int_t)(i * 100), "xxh3", sum);
        struct msg m = { .body = json_object_get (req, "body") };
        json_t *r = appstore_put (s, &m, buf, len, &err);
        if (!r)
            fail_msg ("app.put: %s", err.text);
        json_decref (r);
        json_decref (req);
    }
    fclose (f);
}

static json_t *put_once (struct appstore *s, const char *digest, int64_t bytes, int64_t offset,
                         const char *sum, const void *data, size_t len, fs_error_t *err)
{
    json_t *body = json_pack ("{s:s, s:I, s:I, s:s}", "digest", digest, "bytes", (json_int_t)bytes,
                              "offset", (json_int_t)offset, "xxh3", sum);
    struct msg m = { .body = body };
    json_t *r = appstore_put (s, &m, data, len, err);
    json_decref (body);
    return r;
}

static void test_put (void **state)
{
    (void)state;
    fs_error_t err;
    struct appstore *s = appstore_create (&cfg, &err);
    assert_non_null (s);
    char d[SIGN_DIGEST_TEXT], sum[20];
    sign_sha256_buf ("x", 1, d);
    snprintf (sum, sizeof (sum), "%016" PRIx64, checksum ("hello", 5));
    json_t *r = put_once (s, d, 10, 0, sum, "hello", 5, &err);
    assert_non_null (r);
    json_decref (r);
    assert_null (put_once (s, d, 10, 0, "0000000000000000", "hello", 5, &err));
    assert_int_equal (err.code, FS_EINVAL);
    assert_non_null (strstr (err.text, "damaged"));
    assert_null (put_once (s, d, 10, 8, sum, "hello", 5, &err));        /* past the end */
    assert_non_null (strstr (err.text, "does not fit"));
    assert_null (put_once (s, d, 1 << 30, 0, sum, "hello", 5, &err));   /* over max_bytes */
    assert_int_equal (err.code, FS_EFAIL);
    assert_null (put_once (s, "sha256:xyz", 10, 0, sum, "hello", 5, &err));
    assert_int_equal (err.code, FS_EINVAL);
    appstore_destroy (s);
}

/* Each check refuses on its own, with its reason. */
static void refused (struct appstore *s, const char *file, const struct app_claim *c,
                     const char *want)
{
    fs_error_t err = { 0 };
    if (appstore_verify (s, file, c, &err) == 0 || err.code != FS_EFAIL || !strstr (err.text, want))
        fail_msg ("expected a refusal with '%s', got %d: %s", want, err.code, err.text);
}

static void test_verify (void **state)
{
    (void)state;
    fs_error_t err;
    struct appstore *s = appstore_create (&cfg, &err);
    assert_non_null (s);
    struct app_claim c, x;
    make_bundle ("vapp", "1", &c);
    const char *file = tu_path (tmpdir, "vapp.fsb");
    assert_int_equal (appstore_verify (s, file, &c, &err), 0);
    x = c;
    x.bytes++;
    refused (s, file, &x, "not the");
    x = c;
    x.bytes = cfg.apps.max_bytes + 1;
    refused (s, file, &x, "apps.max_bytes");
    x = c;
    snprintf (x.publisher, sizeof (x.publisher), "ed25519:%064d", 0);
    refused (s, file, &x, "does not trust the publisher");
    x = c;
    x.signature[0] = x.signature[0] == 'a' ? 'b' : 'a';
    refused (s, file, &x, "does not verify");
    x = c;
    snprintf (x.version, sizeof (x.version), "2");     /* signed for 1 */
    refused (s, file, &x, "does not verify");
    struct app_claim d;
    make_bundle ("denied", "1", &d);
    refused (s, tu_path (tmpdir, "denied.fsb"), &d, "does not allow app denied");
    /* One byte of the file changed: the digest. */
    int fd = open (file, O_RDWR);
    char b;
    assert_int_equal (pread (fd, &b, 1, 100), 1);
    b ^= 1;
    assert_int_equal (pwrite (fd, &b, 1, 100), 1);
    close (fd);
    refused (s, file, &c, "damaged or was tampered with");
    appstore_destroy (s);
}

struct ensure_arg {
    struct appcache *c;
    json_t *app;
    int rc;
    char entry[PATH_MAX + APP_PATH_MAX];
};

static void *ensure_thread (void *p)
{
    struct ensure_arg *a = p;
    struct app_ready r;
    fs_error_t err;
    a->rc = appcache_ensure (a->c, a->app, "run", &r, &err);
    snprintf (a->entry, sizeof (a->entry), "%s", r.entry);
    return NULL;
}

static void count_entries (void *arg, const char *digest, uint64_t bytes, double used)
{
    (void)digest;
    (void)used;
    assert_true (bytes > 0);
    (*(int *)arg)++;
}

static void test_store_and_ensure (void **state)
{
    (void)state;
    fs_error_t err;
    struct appstore *s = appstore_create (&cfg, &err);
    struct appcache *c = appcache_create (&cfg, s, &err);
    assert_non_null (s);
    assert_non_null (c);
    struct app_claim cl;
    make_bundle ("app", "1.0", &cl);
    json_t *body = app_claim_to_json (&cl);
    /* Not uploaded yet. */
    assert_null (appcache_store (c, body, &err));
    assert_non_null (strstr (err.text, "upload it first"));
    upload (s, tu_path (tmpdir, "app.fsb"), &cl);
    json_t *r = appcache_store (c, body, &err);
    if (!r)
        fail_msg ("store: %s", err.text);
    json_t *meta = json_object_get (r, "app");
    assert_true (json_is_true (json_object_get (r, "new")));
    assert_string_equal (json_string_value (json_object_get (meta, "publisher_name")), "tester");
    assert_string_equal (json_string_value (json_object_get (json_object_get (json_object_get (
                             meta, "manifest"), "entry"), "run")), "bin/run");
    json_decref (r);
    char held[PATH_MAX];
    assert_int_equal (appstore_held (s, cl.digest, held, sizeof (held)), 1);
    r = appcache_store (c, body, &err);             /* again: held already */
    assert_false (json_is_true (json_object_get (r, "new")));
    json_decref (r);
    json_t *hello = appstore_hello (s);
    assert_int_equal (json_array_size (json_object_get (hello, "held")), 1);
    assert_int_equal (json_array_size (json_object_get (hello, "trust")), 1);
    json_decref (hello);
    /* The store unpacked it: evict it, then eight threads make it ready at once. */
    assert_int_equal (appcache_evict (c, cl.digest, 1e18), 1);
    pthread_t th[8];
    struct ensure_arg args[8];
    for (int i = 0; i < 8; i++) {
        args[i] = (struct ensure_arg){ c, body, -1, "" };
        pthread_create (&th[i], NULL, ensure_thread, &args[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join (th[i], NULL);
        assert_int_equal (args[i].rc, 0);
        assert_string_equal (args[i].entry, args[0].entry);
    }
    struct stat st;
    assert_int_equal (stat (args[0].entry, &st), 0);
    assert_int_equal (st.st_mode & 0777, 0555);
    int n = 0;
    appcache_list (c, count_entries, &n);
    assert_int_equal (n, 1);
    /* An entry point the app does not have. */
    struct app_ready ready;
    assert_int_equal (appcache_ensure (c, body, "other", &ready, &err), -1);
    assert_int_equal (err.code, FS_EINVAL);
    /* Used just now: not evicted by a trim whose guard is older. */
    assert_int_equal (appcache_evict (c, cl.digest, 1.0), 0);
    /* Revoked: the publisher's key leaves the trust directory. */
    assert_int_equal (rename (tu_path (tmpdir, "trust/tester.pub"), tu_path (tmpdir, "tester.pub.off")), 0);
    assert_int_equal (appcache_ensure (c, body, "run", &ready, &err), -1);
    assert_non_null (strstr (err.text, "does not trust"));
    assert_int_equal (rename (tu_path (tmpdir, "tester.pub.off"), tu_path (tmpdir, "trust/tester.pub")), 0);
    assert_int_equal (appcache_ensure (c, body, "run", &ready, &err), 0);
    /* A claim whose signature does not hold is refused even when unpacked. */
    json_t *forged = json_deep_copy (body);
    json_object_set_new (forged, "signature", json_string ("00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"));
    assert_int_equal (appcache_ensure (c, forged, "run", &ready, &err), -1);
    assert_non_null (strstr (err.text, "does not verify"));
    json_decref (forged);
    json_decref (body);
    appcache_destroy (c);
    appstore_destroy (s);
}

int main (void)
{
    const char *base = getenv ("TMPDIR");
    char dir[PATH_MAX], real[PATH_MAX];
    fs_error_t err;
    snprintf (dir, sizeof (dir), "%s/test_appcache.XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp (dir) || !realpath (dir, real) || strlen (real) >= sizeof (tmpdir)) {
        perror ("mkdtemp");
        return 1;
    }
    memcpy (tmpdir, real, strlen (real) + 1);
    log_init ("test_appcache", LOG_ERR);
    umask (022);
    mkdir (tu_path (tmpdir, "keys"), 0700);
    mkdir (tu_path (tmpdir, "trust"), 0755);
    mkdir (tu_path (tmpdir, "state"), 0755);
    if (sign_keygen (tu_path (tmpdir, "keys"), "tester", &err) < 0 || sign_key_read (tu_path (tmpdir, "keys/tester.key"), &key, &err) < 0) {
        fprintf (stderr, "%s\n", err.text);
        return 1;
    }
    char cmd[3 * PATH_MAX];
    snprintf (cmd, sizeof (cmd), "cp %s %s/", tu_path (tmpdir, "keys/tester.pub"), tu_path (tmpdir, "trust"));
    if (system (cmd) != 0)
        return 1;
    snprintf (cfg.name, sizeof (cfg.name), "s1");
    snprintf (cfg.path, sizeof (cfg.path), "%s", tu_path (tmpdir, "site.yaml"));
    snprintf (cfg.state_dir, sizeof (cfg.state_dir), "%s", tu_path (tmpdir, "state"));
    snprintf (cfg.apps.trust, sizeof (cfg.apps.trust), "%s", tu_path (tmpdir, "trust"));
    snprintf (cfg.apps.sandbox, sizeof (cfg.apps.sandbox), "none");
    cfg.apps.nallow = 3;
    snprintf (cfg.apps.allow[0], sizeof (cfg.apps.allow[0]), "app");
    snprintf (cfg.apps.allow[1], sizeof (cfg.apps.allow[1]), "vapp*");
    snprintf (cfg.apps.allow[2], sizeof (cfg.apps.allow[2]), "nothing?");
    cfg.apps.max_bytes = 1 << 20;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_put),
        cmocka_unit_test (test_verify),
        cmocka_unit_test (test_store_and_ensure),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    sign_key_wipe (&key);
    if (bundle_remove_tree (tmpdir, &err) < 0)
        fprintf (stderr, "could not remove %s\n", tmpdir);
    return rc;
}
