/* test_sign.c - digests and publisher signatures (common/sign.c): SHA-256
 * against the standard's test vectors, key files (made, read, never
 * overwritten, malformed ones refused), signatures that verify only for the
 * same key, name, version and digest, and trust directories.
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

#include "common/sign.h"

static char tmpdir[1024];

static const char *at (const char *rel)
{
    static char p[8][PATH_MAX + 256];
    static int k;
    k = (k + 1) % 8;
    snprintf (p[k], sizeof (p[k]), "%s/%s", tmpdir, rel);
    return p[k];
}

static void put (const char *path, const char *text)
{
    FILE *f = fopen (path, "w");
    assert_non_null (f);
    fputs (text, f);
    fclose (f);
}

static void test_sha256 (void **state)
{
    (void)state;
    char d[SIGN_DIGEST_TEXT];
    fs_error_t err;
    uint64_t n;
    sign_sha256_buf ("abc", 3, d);
    assert_string_equal (d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sign_sha256_buf ("", 0, d);
    assert_string_equal (d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /* A file larger than the read buffer: a million 'a's. */
    FILE *f = fopen (at ("million"), "w");
    for (int i = 0; i < 1000000; i++)
        fputc ('a', f);
    fclose (f);
    assert_int_equal (sign_sha256_file (at ("million"), d, &n, &err), 0);
    assert_int_equal (n, 1000000);
    assert_string_equal (d, "sha256:cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    assert_int_equal (sign_sha256_file (at ("nope"), d, &n, &err), -1);
    assert_true (sign_digest_valid ("sha256:cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
    assert_false (sign_digest_valid ("sha256:CDC76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
    assert_false (sign_digest_valid ("sha256:cdc76e"));
    assert_false (sign_digest_valid ("md5:cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
}

static void test_keys (void **state)
{
    (void)state;
    fs_error_t err;
    struct sign_key k;
    char pub[SIGN_KEY_TEXT], name[SIGN_NAME_MAX];
    struct stat st;
    assert_int_equal (sign_keygen (tmpdir, "alice", &err), 0);
    assert_int_equal (stat (at ("alice.key"), &st), 0);
    assert_int_equal (st.st_mode & 0777, 0600);
    assert_int_equal (sign_key_read (at ("alice.key"), &k, &err), 0);
    assert_string_equal (k.name, "alice");
    assert_true (sign_key_valid (k.pub));
    assert_int_equal (sign_pub_read (at ("alice.pub"), pub, name, &err), 0);
    assert_string_equal (pub, k.pub);
    assert_string_equal (name, "alice");
    sign_key_wipe (&k);
    /* Never overwritten. */
    assert_int_equal (sign_keygen (tmpdir, "alice", &err), -1);
    assert_int_equal (err.code, FS_EFAIL);
    assert_int_equal (sign_keygen (tmpdir, "../evil", &err), -1);
    assert_int_equal (err.code, FS_EINVAL);
    assert_int_equal (sign_keygen (tmpdir, "", &err), -1);
    /* Malformed files. */
    put (at ("bad.key"), "ed25519-secret:1234 bad\n");
    assert_int_equal (sign_key_read (at ("bad.key"), &k, &err), -1);
    assert_int_equal (err.code, FS_EINVAL);
    put (at ("pubaskey.key"), "ed25519:0000000000000000000000000000000000000000000000000000000000000000 x\n");
    assert_int_equal (sign_key_read (at ("pubaskey.key"), &k, &err), -1);
    assert_int_equal (sign_key_read (at ("missing.key"), &k, &err), -1);
    assert_int_equal (err.code, FS_EFAIL);
    /* A secret whose public half does not match what it says is refused. */
    char line[400];
    FILE *f = fopen (at ("alice.key"), "r");
    assert_non_null (fgets (line, sizeof (line), f));
    fclose (f);
    line[15 + 64 + 5] = line[15 + 64 + 5] == '0' ? '1' : '0';   /* in the public half */
    put (at ("tampered.key"), line);
    assert_int_equal (sign_key_read (at ("tampered.key"), &k, &err), -1);
}

static void test_signatures (void **state)
{
    (void)state;
    fs_error_t err;
    struct sign_key a, b;
    char sig[SIGN_SIG_TEXT], d[SIGN_DIGEST_TEXT], d2[SIGN_DIGEST_TEXT];
    assert_int_equal (sign_keygen (tmpdir, "sa", &err), 0);
    assert_int_equal (sign_keygen (tmpdir, "sb", &err), 0);
    assert_int_equal (sign_key_read (at ("sa.key"), &a, &err), 0);
    assert_int_equal (sign_key_read (at ("sb.key"), &b, &err), 0);
    sign_sha256_buf ("bundle", 6, d);
    sign_sha256_buf ("bundlf", 6, d2);
    assert_int_equal (sign_app (&a, "heat", "1.0", d, sig, &err), 0);
    assert_true (sign_sig_valid (sig));
    assert_int_equal (sign_verify_app (a.pub, "heat", "1.0", d, sig, &err), 0);
    /* Another key, name, version or digest: no. */
    assert_int_equal (sign_verify_app (b.pub, "heat", "1.0", d, sig, &err), -1);
    assert_int_equal (err.code, FS_EFAIL);
    assert_int_equal (sign_verify_app (a.pub, "heat2", "1.0", d, sig, &err), -1);
    assert_int_equal (sign_verify_app (a.pub, "heat", "1.1", d, sig, &err), -1);
    assert_int_equal (sign_verify_app (a.pub, "heat", "1.0", d2, sig, &err), -1);
    assert_int_equal (err.code, FS_EFAIL);
    /* One flipped hex digit of the signature. */
    sig[10] = sig[10] == 'a' ? 'b' : 'a';
    assert_int_equal (sign_verify_app (a.pub, "heat", "1.0", d, sig, &err), -1);
    assert_int_equal (err.code, FS_EFAIL);
    /* Unsigned and malformed. */
    assert_int_equal (sign_verify_app (a.pub, "heat", "1.0", d, "", &err), -1);
    assert_int_equal (err.code, FS_EINVAL);
    assert_non_null (strstr (err.text, "not signed"));
    assert_int_equal (sign_verify_app (a.pub, "heat", "1.0", d, NULL, &err), -1);
    assert_int_equal (sign_verify_app ("ed25519:xyz", "heat", "1.0", d, sig, &err), -1);
    assert_int_equal (err.code, FS_EINVAL);
    assert_int_equal (sign_verify_app (a.pub, "heat", "1.0", "sha256:00", sig, &err), -1);
    assert_int_equal (err.code, FS_EINVAL);
    sign_key_wipe (&a);
    sign_key_wipe (&b);
}

static void test_trust (void **state)
{
    (void)state;
    fs_error_t err;
    char pa[SIGN_KEY_TEXT], pb[SIGN_KEY_TEXT];
    assert_int_equal (mkdir (at ("trust"), 0755), 0);
    assert_int_equal (mkdir (at ("keys"), 0700), 0);
    assert_int_equal (sign_keygen (at ("keys"), "ta", &err), 0);
    assert_int_equal (sign_keygen (at ("keys"), "tb", &err), 0);
    assert_int_equal (sign_pub_read (at ("keys/ta.pub"), pa, NULL, &err), 0);
    assert_int_equal (sign_pub_read (at ("keys/tb.pub"), pb, NULL, &err), 0);
    struct sign_trust *t = sign_trust_load (at ("trust"), &err);
    assert_non_null (t);
    assert_int_equal (sign_trust_count (t), 0);
    assert_false (sign_trust_has (t, pa));
    sign_trust_destroy (t);
    char cmd[3 * PATH_MAX];
    snprintf (cmd, sizeof (cmd), "cp %s %s/", at ("keys/ta.pub"), at ("trust"));
    assert_int_equal (system (cmd), 0);
    snprintf (cmd, sizeof (cmd), "cp %s %s/copy.pub", at ("keys/ta.pub"), at ("trust"));
    assert_int_equal (system (cmd), 0);
    put (at ("trust/junk.pub"), "not a key\n");
    put (at ("trust/readme.txt"), "ed25519:whatever\n");
    t = sign_trust_load (at ("trust"), &err);
    assert_non_null (t);
    assert_int_equal (sign_trust_count (t), 1);     /* the same key twice counts once */
    assert_int_equal (sign_trust_skipped (t), 1);
    assert_true (sign_trust_has (t, pa));
    assert_false (sign_trust_has (t, pb));
    assert_string_equal (sign_trust_key (t, 0), pa);
    assert_string_equal (sign_trust_name (t, 0), "ta");
    assert_null (sign_trust_key (t, 1));
    sign_trust_destroy (t);
    assert_null (sign_trust_load (at ("no-such-dir"), &err));
    assert_int_equal (err.code, FS_EINVAL);
    t = sign_trust_empty ();
    assert_int_equal (sign_trust_count (t), 0);
    sign_trust_destroy (t);
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
    fs_error_t err;
    snprintf (dir, sizeof (dir), "%s/test_sign.XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp (dir) || !realpath (dir, real) || strlen (real) >= sizeof (tmpdir)) {
        perror ("mkdtemp");
        return 1;
    }
    memcpy (tmpdir, real, strlen (real) + 1);
    if (sign_init (&err) < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_sha256),
        cmocka_unit_test (test_keys),
        cmocka_unit_test (test_signatures),
        cmocka_unit_test (test_trust),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    if (nftw (tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
        fprintf (stderr, "could not remove %s\n", tmpdir);
    return rc;
}
