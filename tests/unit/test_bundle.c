/* test_bundle.c - app bundles (common/bundle.c): packing is deterministic (the
 * same content gives the same bytes, whatever the files' times, owners, modes
 * beyond the execute bit, or the order they were made in); unpacking gives the
 * content back read-only; what a bundle can't hold is refused when packing;
 * and unpacking refuses archives that are not plain bundles (paths out, hard
 * links, devices, symlinks out, too large, damaged).
 *
 * The hostile archives are written with libarchive directly here (test code
 * crafting input the product must refuse; the product itself reads and writes
 * archives only through common/bundle.c).
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
#include <sys/time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>

#include "tests/unit/unit.h"

#include "common/bundle.h"
#include "common/sign.h"

static char tmpdir[1024];
static int seq;

/* A fresh directory under tmpdir. */
static char *fresh (char *buf, size_t size, const char *what)
{
    snprintf (buf, size, "%s/%s.%d", tmpdir, what, ++seq);
    assert_int_equal (mkdir (buf, 0755), 0);
    return buf;
}

/* The app tree: app.yaml, bin/run (0755), data/a.txt, data/b.txt, link -> bin/run,
 * empty/ (an empty directory).  reverse: made in the opposite order, with other
 * modes (0700 / 0600 instead of 0755 / 0644) and times. */
static void make_app (const char *d, bool reverse)
{
    char p[PATH_MAX];
    if (!reverse) {
        tu_put (tu_path (d, "app.yaml"), "name: t\nversion: 1\nentry: {run: bin/run}\n", 0644);
        mkdir (tu_path (d, "bin"), 0755);
        tu_put (tu_path (d, "bin/run"), "#!/bin/sh\necho run\n", 0755);
        mkdir (tu_path (d, "data"), 0755);
        tu_put (tu_path (d, "data/a.txt"), "alpha\n", 0644);
        tu_put (tu_path (d, "data/b.txt"), "beta\n", 0644);
        assert_int_equal (symlink ("bin/run", tu_path (d, "link")), 0);
        mkdir (tu_path (d, "empty"), 0755);
    } else {
        mkdir (tu_path (d, "empty"), 0700);
        assert_int_equal (symlink ("bin/run", tu_path (d, "link")), 0);
        mkdir (tu_path (d, "data"), 0700);
        tu_put (tu_path (d, "data/b.txt"), "beta\n", 0600);
        tu_put (tu_path (d, "data/a.txt"), "alpha\n", 0600);
        mkdir (tu_path (d, "bin"), 0700);
        tu_put (tu_path (d, "bin/run"), "#!/bin/sh\necho run\n", 0700);
        tu_put (tu_path (d, "app.yaml"), "name: t\nversion: 1\nentry: {run: bin/run}\n", 0600);
        struct timeval tv[2] = { { 1000000, 0 }, { 2000000, 0 } };
        snprintf (p, sizeof (p), "%s", tu_path (d, "data/a.txt"));
        utimes (p, tv);
        utimes (d, tv);
    }
}

/* Pack dir into a file; returns its digest in dig. */
static int pack_to (const char *dir, const char *out, char dig[SIGN_DIGEST_TEXT],
                    struct bundle_info *info, fs_error_t *err)
{
    int fd = open (out, O_RDWR | O_CREAT | O_TRUNC, 0644);
    assert_true (fd >= 0);
    int rc = bundle_pack (dir, fd, info, err);
    close (fd);
    if (rc == 0 && dig) {
        fs_error_t e;
        assert_int_equal (sign_sha256_file (out, dig, NULL, &e), 0);
    }
    return rc;
}

/* The headers of a bundle as bundle.h promises them: paths in bytewise order,
 * times 0, owner and group 0 with no names, normalised modes. */
static void check_headers (const char *file)
{
    struct archive *a = archive_read_new ();
    struct archive_entry *e;
    archive_read_support_filter_zstd (a);
    archive_read_support_format_tar (a);
    assert_int_equal (archive_read_open_filename (a, file, 65536), ARCHIVE_OK);
    char prev[PATH_MAX] = "";
    int n = 0;
    while (archive_read_next_header (a, &e) == ARCHIVE_OK) {
        char name[PATH_MAX];
        snprintf (name, sizeof (name), "%s", archive_entry_pathname (e));
        size_t len = strlen (name);
        if (len > 1 && name[len - 1] == '/')
            name[len - 1] = '\0';
        if (n++ && strcmp (prev, name) >= 0)
            fail_msg ("entries out of order: '%s' after '%s'", name, prev);
        snprintf (prev, sizeof (prev), "%s", name);
        assert_int_equal (archive_entry_mtime (e), 0);
        assert_int_equal (archive_entry_uid (e), 0);
        assert_int_equal (archive_entry_gid (e), 0);
        const char *un = archive_entry_uname (e), *gn = archive_entry_gname (e);
        assert_true (!un || !*un);
        assert_true (!gn || !*gn);
        mode_t perm = archive_entry_perm (e);
        switch (archive_entry_filetype (e)) {
        case AE_IFDIR: assert_int_equal (perm, 0755); break;
        case AE_IFLNK: assert_int_equal (perm, 0777); break;
        default: assert_true (perm == 0755 || perm == 0644);
        }
    }
    archive_read_free (a);
    assert_int_equal (n, 8);
}

static void test_deterministic (void **state)
{
    (void)state;
    char a[PATH_MAX], b[PATH_MAX], da[SIGN_DIGEST_TEXT], db[SIGN_DIGEST_TEXT], dc[SIGN_DIGEST_TEXT];
    struct bundle_info ia, ib;
    fs_error_t err;
    make_app (fresh (a, sizeof (a), "a"), false);
    make_app (fresh (b, sizeof (b), "b"), true);
    assert_int_equal (pack_to (a, tu_path (tmpdir, "a.fsb"), da, &ia, &err), 0);
    assert_int_equal (pack_to (b, tu_path (tmpdir, "b.fsb"), db, &ib, &err), 0);
    assert_string_equal (da, db);
    check_headers (tu_path (tmpdir, "a.fsb"));
    assert_int_equal (ia.entries, 8);
    assert_int_equal (ia.bytes, ib.bytes);
    /* Packing again gives the same bytes too. */
    assert_int_equal (pack_to (a, tu_path (tmpdir, "a2.fsb"), dc, NULL, &err), 0);
    assert_string_equal (da, dc);
    /* One byte of content changes the digest; so does an execute bit. */
    tu_put (tu_path (b, "data/a.txt"), "alphA\n", 0644);
    assert_int_equal (pack_to (b, tu_path (tmpdir, "b2.fsb"), db, NULL, &err), 0);
    assert_string_not_equal (da, db);
    tu_put (tu_path (b, "data/a.txt"), "alpha\n", 0644);
    chmod (tu_path (b, "data/b.txt"), 0744);
    assert_int_equal (pack_to (b, tu_path (tmpdir, "b3.fsb"), db, NULL, &err), 0);
    assert_string_not_equal (da, db);
}

static void test_unpack (void **state)
{
    (void)state;
    char a[PATH_MAX], dest[PATH_MAX], buf[64], *data = NULL;
    size_t len;
    struct bundle_info info;
    struct stat st;
    fs_error_t err;
    make_app (fresh (a, sizeof (a), "u"), false);
    assert_int_equal (pack_to (a, tu_path (tmpdir, "u.fsb"), NULL, NULL, &err), 0);
    snprintf (dest, sizeof (dest), "%s/unpacked.%d", tmpdir, ++seq);
    assert_int_equal (bundle_unpack (tu_path (tmpdir, "u.fsb"), dest, NULL, &info, &err), 0);
    assert_int_equal (info.entries, 8);
    assert_int_equal (info.bytes, bundle_tree_bytes (dest));
    FILE *f = fopen (tu_path (dest, "data/b.txt"), "r");
    assert_non_null (f);
    assert_non_null (fgets (buf, sizeof (buf), f));
    fclose (f);
    assert_string_equal (buf, "beta\n");
    assert_int_equal (stat (tu_path (dest, "bin/run"), &st), 0);
    assert_int_equal (st.st_mode & 07777, 0555);
    assert_int_equal (stat (tu_path (dest, "data/a.txt"), &st), 0);
    assert_int_equal (st.st_mode & 07777, 0444);
    assert_int_equal (stat (tu_path (dest, "data"), &st), 0);
    assert_int_equal (st.st_mode & 07777, 0555);
    assert_int_equal (stat (dest, &st), 0);
    assert_int_equal (st.st_mode & 07777, 0555);
    assert_int_equal (stat (tu_path (dest, "empty"), &st), 0);
    assert_true (S_ISDIR (st.st_mode));
    ssize_t n = readlink (tu_path (dest, "link"), buf, sizeof (buf) - 1);
    assert_int_equal (n, 7);
    buf[n] = '\0';
    assert_string_equal (buf, "bin/run");
    /* Unpacking again into the same place is refused: dest must be new. */
    assert_int_equal (bundle_unpack (tu_path (tmpdir, "u.fsb"), dest, NULL, NULL, &err), -1);
    /* One member, without unpacking. */
    assert_int_equal (bundle_read_member (tu_path (tmpdir, "u.fsb"), "app.yaml", 4096, &data, &len,
                                          &err), 0);
    assert_int_equal (len, strlen ("name: t\nversion: 1\nentry: {run: bin/run}\n"));
    assert_non_null (strstr (data, "entry: {run: bin/run}"));
    free (data);
    assert_int_equal (bundle_read_member (tu_path (tmpdir, "u.fsb"), "nope.yaml", 4096, &data, &len,
                                          &err), -1);
    assert_int_equal (err.code, FS_ENOTFOUND);
    assert_int_equal (bundle_read_member (tu_path (tmpdir, "u.fsb"), "app.yaml", 8, &data, &len,
                                          &err), -1);
    assert_int_equal (err.code, FS_EINVAL);
    /* The read-only tree goes away whole. */
    assert_int_equal (bundle_remove_tree (dest, &err), 0);
    assert_int_equal (lstat (dest, &st), -1);
}

static void test_pack_refuses (void **state)
{
    (void)state;
    char a[PATH_MAX];
    fs_error_t err;
    make_app (fresh (a, sizeof (a), "r1"), false);
    assert_int_equal (symlink ("/etc/passwd", tu_path (a, "abs")), 0);
    assert_int_equal (pack_to (a, tu_path (tmpdir, "r1.fsb"), NULL, NULL, &err), -1);
    assert_int_equal (err.code, FS_EINVAL);
    assert_non_null (strstr (err.text, "points out"));

    make_app (fresh (a, sizeof (a), "r2"), false);
    assert_int_equal (symlink ("../../outside", tu_path (a, "data/up")), 0);
    assert_int_equal (pack_to (a, tu_path (tmpdir, "r2.fsb"), NULL, NULL, &err), -1);
    assert_non_null (strstr (err.text, "points out"));

    make_app (fresh (a, sizeof (a), "r3"), false);
    assert_int_equal (mkfifo (tu_path (a, "data/pipe"), 0644), 0);
    assert_int_equal (pack_to (a, tu_path (tmpdir, "r3.fsb"), NULL, NULL, &err), -1);
    assert_non_null (strstr (err.text, "fifo"));

    /* A symlink that goes up and comes back inside is fine. */
    make_app (fresh (a, sizeof (a), "r4"), false);
    assert_int_equal (symlink ("../bin/run", tu_path (a, "data/run")), 0);
    assert_int_equal (pack_to (a, tu_path (tmpdir, "r4.fsb"), NULL, NULL, &err), 0);
    assert_int_equal (pack_to (tu_path (tmpdir, "nonexistent"), tu_path (tmpdir, "r5.fsb"), NULL, NULL,
                               &err), -1);
}

/* --- hostile archives ----------------------------------------------------------- */

struct craft {
    const char *path;
    unsigned type;
    const char *data;           /* regular: content; symlink: target; hard link: target */
    int64_t size;               /* < 0: strlen (data) */
};

static void write_archive (const char *out, const struct craft *c, size_t n)
{
    struct archive *a = archive_write_new ();
    archive_write_set_format_pax_restricted (a);
    archive_write_add_filter_zstd (a);
    assert_int_equal (archive_write_open_filename (a, out), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new ();
        archive_entry_set_pathname (e, c[i].path);
        if (c[i].type == 0) {           /* a hard link to c[i].data */
            archive_entry_set_filetype (e, AE_IFREG);
            archive_entry_set_hardlink (e, c[i].data);
        } else {
            archive_entry_set_filetype (e, c[i].type);
        }
        archive_entry_set_perm (e, 0644);
        if (c[i].type == AE_IFLNK)
            archive_entry_set_symlink (e, c[i].data);
        if (c[i].type == AE_IFCHR)
            archive_entry_set_rdev (e, 0x0103);
        int64_t size = c[i].type == AE_IFREG ? (c[i].size >= 0 ? c[i].size
                                                : (int64_t)strlen (c[i].data)) : 0;
        archive_entry_set_size (e, size);
        assert_int_equal (archive_write_header (a, e), ARCHIVE_OK);
        if (size > 0) {
            static char zeros[1 << 16];
            for (int64_t left = size; left > 0;) {
                size_t k = left > (int64_t)sizeof (zeros) ? sizeof (zeros) : (size_t)left;
                const void *src = c[i].size >= 0 ? zeros : (const void *)c[i].data;
                assert_int_equal (archive_write_data (a, src, k), (la_ssize_t)k);
                left -= (int64_t)k;
            }
        }
        archive_entry_free (e);
    }
    archive_write_close (a);
    archive_write_free (a);
}

/* Unpacking the crafted archive fails with FS_EINVAL mentioning want, and
 * leaves nothing at dest. */
static void refused (const struct craft *c, size_t n, const struct bundle_limits *lim,
                     const char *want)
{
    char file[PATH_MAX], dest[PATH_MAX];
    struct stat st;
    fs_error_t err = { 0 };
    snprintf (file, sizeof (file), "%s/hostile.%d.fsb", tmpdir, ++seq);
    snprintf (dest, sizeof (dest), "%s/hostile.%d", tmpdir, seq);
    write_archive (file, c, n);
    assert_int_equal (bundle_unpack (file, dest, lim, NULL, &err), -1);
    if (err.code != FS_EINVAL || !strstr (err.text, want))
        fail_msg ("expected FS_EINVAL with '%s', got %d: %s", want, err.code, err.text);
    assert_int_equal (lstat (dest, &st), -1);
    /* Nothing escaped either. */
    assert_int_equal (lstat (tu_path (tmpdir, "escaped"), &st), -1);
}

static void test_unpack_refuses (void **state)
{
    (void)state;
    const struct craft dotdot[] = { { "ok.txt", AE_IFREG, "x", -1 },
                                    { "../escaped", AE_IFREG, "x", -1 } };
    refused (dotdot, 2, NULL, "not a plain relative path");
    const struct craft inner[] = { { "a/../../escaped", AE_IFREG, "x", -1 } };
    refused (inner, 1, NULL, "not a plain relative path");
    char abs[PATH_MAX];
    snprintf (abs, sizeof (abs), "%s/escaped", tmpdir);
    const struct craft absolute[] = { { abs, AE_IFREG, "x", -1 } };
    refused (absolute, 1, NULL, "not a plain relative path");
    const struct craft hard[] = { { "a.txt", AE_IFREG, "x", -1 }, { "b.txt", 0, "a.txt", 0 } };
    refused (hard, 2, NULL, "hard link");
    const struct craft dev[] = { { "tty", AE_IFCHR, "", 0 } };
    refused (dev, 1, NULL, "neither a directory");
    const struct craft linkout[] = { { "l", AE_IFLNK, "../escaped", 0 } };
    refused (linkout, 1, NULL, "points out");
    const struct craft linkabs[] = { { "l", AE_IFLNK, "/etc", 0 } };
    refused (linkabs, 1, NULL, "points out");
    /* Writing through a symlink that stays inside, to a place inside, works;
     * through one that was made to point at a directory is refused. */
    const struct craft through[] = { { "d", AE_IFDIR, "", 0 }, { "l", AE_IFLNK, "d", 0 },
                                     { "l/x", AE_IFREG, "x", -1 } };
    refused (through, 3, NULL, "cannot unpack 'l/x'");
    const struct craft twice[] = { { "a.txt", AE_IFREG, "x", -1 }, { "a.txt", AE_IFREG, "y", -1 } };
    refused (twice, 2, NULL, "appears twice");
    /* A compression bomb stops at the limit. */
    const struct craft big[] = { { "zeros", AE_IFREG, NULL, 8 << 20 } };
    struct bundle_limits lim = { .max_bytes = 1 << 20 };
    refused (big, 1, &lim, "more than 1048576 bytes");
    struct bundle_limits few = { .max_entries = 2 };
    const struct craft many[] = { { "a", AE_IFREG, "1", -1 }, { "b", AE_IFREG, "2", -1 },
                                  { "c", AE_IFREG, "3", -1 } };
    refused (many, 3, &few, "more than 2 entries");
}

/* A file whose directory the archive does not list: the directory made on the
 * way is read-only too (found by tests/fuzz/fuzz_bundle.c). */
static void test_implicit_dir (void **state)
{
    (void)state;
    char file[PATH_MAX], dest[PATH_MAX];
    struct stat st;
    fs_error_t err;
    const struct craft c[] = { { "d/e/x", AE_IFREG, "x", -1 } };
    snprintf (file, sizeof (file), "%s/implicit.fsb", tmpdir);
    snprintf (dest, sizeof (dest), "%s/implicit", tmpdir);
    write_archive (file, c, 1);
    assert_int_equal (bundle_unpack (file, dest, NULL, NULL, &err), 0);
    assert_int_equal (stat (tu_path (dest, "d"), &st), 0);
    assert_int_equal (st.st_mode & 0777, 0555);
    assert_int_equal (stat (tu_path (dest, "d/e"), &st), 0);
    assert_int_equal (st.st_mode & 0777, 0555);
    assert_int_equal (stat (tu_path (dest, "d/e/x"), &st), 0);
    assert_int_equal (st.st_mode & 0777, 0444);
    assert_int_equal (bundle_remove_tree (dest, &err), 0);
}

static void test_damaged (void **state)
{
    (void)state;
    char a[PATH_MAX], dest[PATH_MAX], before[SIGN_DIGEST_TEXT], after[SIGN_DIGEST_TEXT];
    fs_error_t err;
    struct stat st;
    make_app (fresh (a, sizeof (a), "dmg"), false);
    /* Some incompressible content, so a byte in the middle is file data. */
    int fd = open (tu_path (a, "data/noise"), O_WRONLY | O_CREAT, 0644);
    unsigned x = 12345;
    for (int i = 0; i < 65536; i++) {
        x = x * 1103515245u + 12345u;
        unsigned char c = (unsigned char)(x >> 16);
        assert_int_equal (write (fd, &c, 1), 1);
    }
    close (fd);
    const char *file = tu_path (tmpdir, "dmg.fsb");
    assert_int_equal (pack_to (a, file, before, NULL, &err), 0);
    assert_int_equal (stat (file, &st), 0);
    /* One byte changed in the middle: zstd stores incompressible data as it is,
     * so the archive may still unpack (to other content) - the digest is what
     * tells, and sites check it before unpacking (workers/appcache.c). */
    fd = open (file, O_RDWR);
    unsigned char c;
    assert_int_equal (pread (fd, &c, 1, st.st_size / 2), 1);
    c ^= 0x55;
    assert_int_equal (pwrite (fd, &c, 1, st.st_size / 2), 1);
    assert_int_equal (sign_sha256_file (file, after, NULL, &err), 0);
    assert_string_not_equal (before, after);
    /* Cut short: refused, nothing left behind. */
    assert_int_equal (ftruncate (fd, st.st_size / 2), 0);
    close (fd);
    snprintf (dest, sizeof (dest), "%s/dmg.out", tmpdir);
    assert_int_equal (bundle_unpack (file, dest, NULL, NULL, &err), -1);
    assert_int_equal (err.code, FS_EINVAL);
    assert_int_equal (lstat (dest, &st), -1);
    /* Not a bundle at all. */
    tu_put (tu_path (tmpdir, "plain.fsb"), "hello, I am not a bundle\n", 0644);
    assert_int_equal (bundle_unpack (tu_path (tmpdir, "plain.fsb"), dest, NULL, NULL, &err), -1);
    assert_int_equal (err.code, FS_EINVAL);
    assert_int_equal (lstat (dest, &st), -1);
}

static int rm_one (const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)f;
    if (flag == FTW_DP || flag == FTW_D)
        chmod (p, st->st_mode | 0700);
    return flag == FTW_DP ? rmdir (p) : unlink (p);
}

int main (void)
{
    const char *base = getenv ("TMPDIR");
    char dir[PATH_MAX], real[PATH_MAX];
    snprintf (dir, sizeof (dir), "%s/test_bundle.XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp (dir) || !realpath (dir, real) || strlen (real) >= sizeof (tmpdir)) {
        perror ("mkdtemp");
        return 1;
    }
    memcpy (tmpdir, real, strlen (real) + 1);
    umask (022);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_deterministic),
        cmocka_unit_test (test_unpack),
        cmocka_unit_test (test_pack_refuses),
        cmocka_unit_test (test_unpack_refuses),
        cmocka_unit_test (test_implicit_dir),
        cmocka_unit_test (test_damaged),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    fs_error_t err;
    if (bundle_remove_tree (tmpdir, &err) < 0 && nftw (tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
        fprintf (stderr, "could not remove %s\n", tmpdir);
    return rc;
}
