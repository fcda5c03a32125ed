/* fuzz_bundle.c - libFuzzer harness for common/bundle.h: unpacking bytes that
 * claim to be a bundle.
 *
 * Input: a tar archive (tests/fuzz/corpus/bundle/: ustar, pax, hostile ones),
 * which the harness compresses with zstd before unpacking it, so the fuzzer
 * works on the archive's headers and contents rather than on compressed
 * bytes it could not get through (libarchive is not instrumented).  With a
 * first byte 0xFF the rest is the bundle file as it is (damaged zstd).
 * Invariants checked:
 *   - bundle_unpack either succeeds or fails with FS_EINVAL / FS_EFAIL and
 *     leaves no destination directory behind;
 *   - nothing is ever written outside the destination (the harness's scratch
 *     directory holds nothing else afterwards);
 *   - what was unpacked is read-only (files without write bits, directories
 *     0555), holds only directories, regular files and symlinks whose targets
 *     stay inside, and at most the bytes the limit allows;
 *   - bundle_read_member of app.yaml succeeds, or fails with a code.
 * The scratch directory is emptied after each input.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "fuzz_util.h"
#include "common/bundle.h"

#define LIMIT (1u << 20)

static char root[PATH_MAX];
static char dest[PATH_MAX + 16];
static uint64_t seen;

static int check_one (const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)f;
    FUZZ_CHECK (!strncmp (p, dest, strlen (dest)), "%s is outside the destination", p);
    if (flag == FTW_D || flag == FTW_DP)
        FUZZ_CHECK ((st->st_mode & 0777) == 0555, "directory %s has mode %o", p, st->st_mode & 0777);
    else if (flag == FTW_F) {
        FUZZ_CHECK (S_ISREG (st->st_mode), "%s is neither a file nor a directory", p);
        FUZZ_CHECK (!(st->st_mode & 0222), "file %s is writable (%o)", p, st->st_mode & 0777);
        seen += (uint64_t)st->st_size;
    } else if (flag == FTW_SL) {
        char t[PATH_MAX], real[PATH_MAX];
        ssize_t n = readlink (p, t, sizeof (t) - 1);
        FUZZ_CHECK (n > 0 && t[0] != '/', "symlink %s is absolute or unreadable", p);
        t[n] = '\0';
        /* Lexically inside (resolving may fail for a dangling link: fine). */
        if (realpath (p, real))
            FUZZ_CHECK (!strncmp (real, dest, strlen (dest)), "symlink %s leads to %s", p, real);
    }
    return 0;
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    fs_error_t err = { 0 };
    if (!root[0]) {
        const char *t = getenv ("TMPDIR");
        char tmpl[PATH_MAX];
        snprintf (tmpl, sizeof (tmpl), "%s/fuzz_bundle.XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp (tmpl) || !realpath (tmpl, root))
            abort ();
    }
    char file[PATH_MAX + 16];
    snprintf (file, sizeof (file), "%s/in.fsb", root);
    snprintf (dest, sizeof (dest), "%s/out", root);
    if (size > 0 && data[0] == 0xFF) {
        int fd = open (file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || (size > 1 && write (fd, data + 1, size - 1) != (ssize_t)(size - 1)))
            abort ();
        close (fd);
    } else {
        /* Test code wraps the fuzzer's tar in zstd; the product reads it only
         * through common/bundle.c. */
        struct archive *a = archive_write_new ();
        struct archive_entry *e = archive_entry_new ();
        archive_write_set_format_raw (a);
        archive_write_add_filter_zstd (a);
        if (archive_write_open_filename (a, file) != ARCHIVE_OK)
            abort ();
        archive_entry_set_filetype (e, AE_IFREG);
        archive_write_header (a, e);
        if (size)
            archive_write_data (a, data, size);
        archive_write_close (a);
        archive_write_free (a);
        archive_entry_free (e);
    }
    struct bundle_limits lim = { .max_bytes = LIMIT, .max_entries = 1000 };
    struct bundle_info info;
    struct stat st;
    if (bundle_unpack (file, dest, &lim, &info, &err) < 0) {
        FUZZ_CHECK (err.code == FS_EINVAL || err.code == FS_EFAIL, "code %d: %s", err.code, err.text);
        FUZZ_CHECK (lstat (dest, &st) < 0, "a failed unpack left %s", dest);
    } else {
        seen = 0;
        nftw (dest, check_one, 16, FTW_PHYS);
        FUZZ_CHECK (seen <= LIMIT && seen == info.bytes, "%llu bytes unpacked, info %llu",
                    (unsigned long long)seen, (unsigned long long)info.bytes);
        fs_error_t e;
        if (bundle_remove_tree (dest, &e) < 0)
            abort ();
    }
    /* Nothing but the input file is left in the scratch directory. */
    DIR *d = opendir (root);
    struct dirent *de;
    while (d && (de = readdir (d)))
        FUZZ_CHECK (!strcmp (de->d_name, ".") || !strcmp (de->d_name, "..")
                    || !strcmp (de->d_name, "in.fsb"), "%s/%s was written outside the "
                    "destination", root, de->d_name);
    if (d)
        closedir (d);
    char *m = NULL;
    size_t len;
    if (bundle_read_member (file, "app.yaml", 4096, &m, &len, &err) == 0)
        free (m);
    else
        FUZZ_CHECK (err.code != 0, "read_member failed without a code");
    unlink (file);
    return 0;
}
