/* bundle.c - deterministic tar + zstd bundles on libarchive (see bundle.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "bundle.h"

#define ZSTD_LEVEL "3"
#define IO_BUF (1 << 20)
#define DEFAULT_MAX_ENTRIES 1000000

/* --- paths --------------------------------------------------------------------- */

/* Is the relative path p (no leading '/', no empty, '.' or '..' component)
 * well-formed?  A trailing '/' is allowed when dir_ok. */
static bool rel_ok (const char *p, bool dir_ok)
{
    size_t n = strlen (p);
    if (n == 0 || p[0] == '/' || n >= PATH_MAX)
        return false;
    if (p[n - 1] == '/') {
        if (!dir_ok || n == 1)
            return false;
        n--;
    }
    for (size_t i = 0; i < n;) {
        size_t len = 0;
        while (i + len < n && p[i + len] != '/')
            len++;
        if (len == 0 || (len == 1 && p[i] == '.') || (len == 2 && p[i] == '.' && p[i + 1] == '.'))
            return false;
        i += len + 1;
    }
    return true;
}

/* Does a symlink at rel (relative to the bundle's root) with target stay
 * inside the root, resolved lexically?  Absolute targets never do. */
static bool link_inside (const char *rel, const char *target)
{
    if (!target || !*target || target[0] == '/')
        return false;
    int depth = 0;
    for (const char *c = rel; *c; c++)     /* the link's directory's depth */
        depth += *c == '/';
    for (const char *c = target; *c;) {
        size_t len = strcspn (c, "/");
        if (len == 2 && c[0] == '.' && c[1] == '.') {
            if (--depth < 0)
                return false;
        } else if (len > 0 && !(len == 1 && c[0] == '.')) {
            depth++;
        }
        c += len;
        if (*c == '/')
            c++;
    }
    return true;
}

/* --- packing ------------------------------------------------------------------- */

struct pent {
    char *rel;
    mode_t mode;                /* type and permissions from lstat */
    off_t size;
};

struct walk {
    struct pent *v;
    size_t n, cap;
    fs_error_t *err;
    const char *root;
};

static int walk_add (struct walk *w, const char *rel, const struct stat *st)
{
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 64;
        struct pent *nv = realloc (w->v, cap * sizeof (*nv));
        if (!nv)
            return errprintf (w->err, FS_EFAIL, "out of memory");
        w->v = nv;
        w->cap = cap;
    }
    if (!(w->v[w->n].rel = strdup (rel)))
        return errprintf (w->err, FS_EFAIL, "out of memory");
    w->v[w->n].mode = st->st_mode;
    w->v[w->n].size = st->st_size;
    w->n++;
    return 0;
}

/* Everything under root/rel ("" for the root itself), depth first. */
static int walk_dir (struct walk *w, const char *rel)
{
    char path[PATH_MAX];
    snprintf (path, sizeof (path), "%s%s%s", w->root, *rel ? "/" : "", rel);
    DIR *d = opendir (path);
    if (!d)
        return errprintf (w->err, FS_EFAIL, "%s: cannot read: %s", path, strerror (errno));
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir (d))) {
        if (!strcmp (de->d_name, ".") || !strcmp (de->d_name, ".."))
            continue;
        char sub[PATH_MAX], full[PATH_MAX];
        struct stat st;
        if ((size_t)snprintf (sub, sizeof (sub), "%s%s%s", rel, *rel ? "/" : "", de->d_name)
                >= sizeof (sub) - 1
            || (size_t)snprintf (full, sizeof (full), "%s/%s", w->root, sub) >= sizeof (full)) {
            rc = errprintf (w->err, FS_EINVAL, "%s/%s: path too long", path, de->d_name);
            break;
        }
        if (lstat (full, &st) < 0) {
            rc = errprintf (w->err, FS_EFAIL, "%s: %s", full, strerror (errno));
            break;
        }
        if (S_ISDIR (st.st_mode)) {
            rc = walk_add (w, sub, &st);
            if (rc == 0)
                rc = walk_dir (w, sub);
        } else if (S_ISREG (st.st_mode) || S_ISLNK (st.st_mode)) {
            rc = walk_add (w, sub, &st);
        } else {
            rc = errprintf (w->err, FS_EINVAL, "%s: a %s cannot go into an app bundle (only "
                            "directories, regular files and symlinks)", full,
                            S_ISFIFO (st.st_mode) ? "fifo" : S_ISSOCK (st.st_mode) ? "socket"
                            : "device file");
        }
    }
    closedir (d);
    return rc;
}

static int by_rel (const void *a, const void *b)
{
    return strcmp (((const struct pent *)a)->rel, ((const struct pent *)b)->rel);
}

static int ar_fail (struct archive *a, fs_error_t *err, const char *what)
{
    return errprintf (err, FS_EFAIL, "%s: %s", what, archive_error_string (a) ?: "libarchive error");
}

static int pack_file (struct archive *a, const char *full, const struct pent *p, char *buf,
                      fs_error_t *err)
{
    int fd = open (full, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errprintf (err, FS_EFAIL, "%s: cannot open: %s", full, strerror (errno));
    off_t left = p->size;
    int rc = 0;
    while (left > 0 && rc == 0) {
        ssize_t n = read (fd, buf, left < IO_BUF ? (size_t)left : IO_BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            rc = errprintf (err, FS_EFAIL, "%s: %s while packing it", full,
                            n < 0 ? strerror (errno) : "the file shrank");
        else if (archive_write_data (a, buf, (size_t)n) != n)
            rc = ar_fail (a, err, full);
        else
            left -= n;
    }
    char extra;
    if (rc == 0 && read (fd, &extra, 1) == 1)
        rc = errprintf (err, FS_EFAIL, "%s: the file grew while packing it", full);
    close (fd);
    return rc;
}

int bundle_pack (const char *dir, int fd, struct bundle_info *info, fs_error_t *err)
{
    char root[PATH_MAX];
    struct stat rst;
    if (!realpath (dir, root) || stat (root, &rst) < 0)
        return errprintf (err, FS_EINVAL, "%s: %s", dir, strerror (errno));
    if (!S_ISDIR (rst.st_mode))
        return errprintf (err, FS_EINVAL, "%s: not a directory", dir);
    struct walk w = { .err = err, .root = root };
    struct bundle_info in = { 0 };
    struct archive *a = NULL;
    struct archive_entry *e = NULL;
    char *buf = NULL;
    int rc = walk_dir (&w, "");
    if (rc < 0)
        goto done;
    qsort (w.v, w.n, sizeof (*w.v), by_rel);
    if (!(buf = malloc (IO_BUF)) || !(a = archive_write_new ()) || !(e = archive_entry_new ())) {
        rc = errprintf (err, FS_EFAIL, "out of memory");
        goto done;
    }
    if (archive_write_set_format_pax_restricted (a) != ARCHIVE_OK
        || archive_write_add_filter_zstd (a) != ARCHIVE_OK
        || archive_write_set_filter_option (a, "zstd", "compression-level", ZSTD_LEVEL)
               != ARCHIVE_OK
        || archive_write_open_fd (a, fd) != ARCHIVE_OK) {
        rc = ar_fail (a, err, "cannot start a bundle");
        goto done;
    }
    for (size_t i = 0; i < w.n && rc == 0; i++) {
        const struct pent *p = &w.v[i];
        char full[PATH_MAX + 8], target[PATH_MAX];
        snprintf (full, sizeof (full), "%s/%s", root, p->rel);
        archive_entry_clear (e);
        archive_entry_set_pathname (e, p->rel);
        archive_entry_set_mtime (e, 0, 0);
        archive_entry_set_uid (e, 0);
        archive_entry_set_gid (e, 0);
        if (S_ISDIR (p->mode)) {
            archive_entry_set_filetype (e, AE_IFDIR);
            archive_entry_set_perm (e, 0755);
        } else if (S_ISLNK (p->mode)) {
            ssize_t n = readlink (full, target, sizeof (target) - 1);
            if (n < 0) {
                rc = errprintf (err, FS_EFAIL, "%s: %s", full, strerror (errno));
                break;
            }
            target[n] = '\0';
            if (!link_inside (p->rel, target)) {
                rc = errprintf (err, FS_EINVAL, "%s: the symlink points out of the app's "
                                "directory (to '%s'): an app bundle holds only what is inside "
                                "it", full, target);
                break;
            }
            archive_entry_set_filetype (e, AE_IFLNK);
            archive_entry_set_perm (e, 0777);
            archive_entry_set_symlink (e, target);
        } else {
            archive_entry_set_filetype (e, AE_IFREG);
            archive_entry_set_perm (e, p->mode & 0111 ? 0755 : 0644);
            archive_entry_set_size (e, p->size);
            in.bytes += (uint64_t)p->size;
        }
        if (archive_write_header (a, e) != ARCHIVE_OK) {
            rc = ar_fail (a, err, full);
            break;
        }
        if (S_ISREG (p->mode))
            rc = pack_file (a, full, p, buf, err);
        in.entries++;
    }
    if (rc == 0 && archive_write_close (a) != ARCHIVE_OK)
        rc = ar_fail (a, err, "cannot finish the bundle");
done:
    if (a)
        archive_write_free (a);
    archive_entry_free (e);
    free (buf);
    for (size_t i = 0; i < w.n; i++)
        free (w.v[i].rel);
    free (w.v);
    if (rc == 0 && info)
        *info = in;
    return rc;
}

/* --- reading ------------------------------------------------------------------- */

static struct archive *open_read (const char *path, fs_error_t *err)
{
    struct archive *a = archive_read_new ();
    if (!a) {
        errprintf (err, FS_EFAIL, "out of memory");
        return NULL;
    }
    /* Only what a bundle is: tar (ustar/pax) inside zstd. */
    archive_read_support_filter_zstd (a);
    archive_read_support_format_tar (a);
    if (archive_read_open_filename (a, path, 256 << 10) != ARCHIVE_OK) {
        errprintf (err, FS_EINVAL, "%s: not an app bundle: %s", path,
                   archive_error_string (a) ?: "unreadable");
        archive_read_free (a);
        return NULL;
    }
    return a;
}

int bundle_read_member (const char *path, const char *member, size_t max, char **data,
                        size_t *len, fs_error_t *err)
{
    struct archive *a = open_read (path, err);
    struct archive_entry *e;
    int r, rc = errprintf (err, FS_ENOTFOUND, "%s: the bundle holds no %s", path, member);
    if (!a)
        return -1;
    while ((r = archive_read_next_header (a, &e)) == ARCHIVE_OK) {
        if (strcmp (archive_entry_pathname (e) ?: "", member))
            continue;
        if (archive_entry_filetype (e) != AE_IFREG) {
            rc = errprintf (err, FS_EINVAL, "%s: %s in the bundle is not a regular file", path,
                            member);
            break;
        }
        int64_t size = archive_entry_size (e);
        if (size < 0 || (uint64_t)size > max) {
            rc = errprintf (err, FS_EINVAL, "%s: %s in the bundle is larger than %zu bytes", path,
                            member, max);
            break;
        }
        char *buf = malloc ((size_t)size + 1);
        if (!buf) {
            rc = errprintf (err, FS_EFAIL, "out of memory");
            break;
        }
        la_ssize_t n = archive_read_data (a, buf, (size_t)size);
        if (n != (la_ssize_t)size) {
            free (buf);
            rc = errprintf (err, FS_EINVAL, "%s: cannot read %s from the bundle: %s", path,
                            member, archive_error_string (a) ?: "short read");
            break;
        }
        buf[size] = '\0';
        *data = buf;
        *len = (size_t)size;
        rc = 0;
        break;
    }
    if (r != ARCHIVE_OK && r != ARCHIVE_EOF)
        rc = errprintf (err, FS_EINVAL, "%s: damaged bundle: %s", path,
                        archive_error_string (a) ?: "read error");
    archive_read_free (a);
    return rc;
}

/* --- unpacking ----------------------------------------------------------------- */

static int unpack_entries (struct archive *a, struct archive *disk, const char *path,
                           const char *dest, const struct bundle_limits *lim,
                           struct bundle_info *in, fs_error_t *err)
{
    uint64_t max_entries = lim && lim->max_entries ? lim->max_entries : DEFAULT_MAX_ENTRIES;
    uint64_t max_bytes = lim ? lim->max_bytes : 0;
    struct archive_entry *e;
    int r;
    while ((r = archive_read_next_header (a, &e)) == ARCHIVE_OK) {
        const char *name = archive_entry_pathname (e);
        unsigned type = archive_entry_filetype (e);
        char rel[PATH_MAX], full[PATH_MAX * 2];
        if (!name || !rel_ok (name, type == AE_IFDIR))
            return errprintf (err, FS_EINVAL, "%s: entry '%.200s' is not a plain relative path "
                              "inside the bundle: refused", path, name ? name : "");
        snprintf (rel, sizeof (rel), "%s", name);
        size_t rl = strlen (rel);
        if (rl > 1 && rel[rl - 1] == '/')
            rel[rl - 1] = '\0';
        if (archive_entry_hardlink (e))
            return errprintf (err, FS_EINVAL, "%s: entry '%s' is a hard link: refused", path, rel);
        if (++in->entries > max_entries)
            return errprintf (err, FS_EINVAL, "%s: more than %llu entries: refused", path,
                              (unsigned long long)max_entries);
        snprintf (full, sizeof (full), "%s/%s", dest, rel);
        struct stat st;
        if (type != AE_IFDIR && lstat (full, &st) == 0)
            return errprintf (err, FS_EINVAL, "%s: entry '%s' appears twice: refused", path, rel);
        if (type == AE_IFDIR) {
            archive_entry_set_perm (e, 0755);   /* 0555 once complete */
        } else if (type == AE_IFREG) {
            int64_t size = archive_entry_size (e);
            if (size < 0)
                return errprintf (err, FS_EINVAL, "%s: entry '%s' has no size: refused", path, rel);
            in->bytes += (uint64_t)size;
            if (max_bytes && in->bytes > max_bytes)
                return errprintf (err, FS_EINVAL, "%s: unpacks to more than %llu bytes: refused",
                                  path, (unsigned long long)max_bytes);
            archive_entry_set_perm (e, archive_entry_perm (e) & 0111 ? 0555 : 0444);
        } else if (type == AE_IFLNK) {
            if (!link_inside (rel, archive_entry_symlink (e)))
                return errprintf (err, FS_EINVAL, "%s: symlink '%s' points out of the bundle: "
                                  "refused", path, rel);
        } else {
            return errprintf (err, FS_EINVAL, "%s: entry '%s' is neither a directory, a file nor "
                              "a symlink: refused", path, rel);
        }
        archive_entry_set_pathname (e, full);
        archive_entry_set_uid (e, geteuid ());
        archive_entry_set_gid (e, getegid ());
        if (archive_write_header (disk, e) != ARCHIVE_OK)
            return errprintf (err, FS_EINVAL, "%s: cannot unpack '%s': %s", path, rel,
                              archive_error_string (disk) ?: "refused");
        if (type == AE_IFREG) {
            const void *blk;
            size_t len;
            la_int64_t off;
            int rr;
            while ((rr = archive_read_data_block (a, &blk, &len, &off)) == ARCHIVE_OK)
                if (archive_write_data_block (disk, blk, len, off) != ARCHIVE_OK)
                    return errprintf (err, FS_EFAIL, "%s: cannot write '%s': %s", path, rel,
                                      archive_error_string (disk) ?: "write error");
            if (rr != ARCHIVE_EOF)
                return errprintf (err, FS_EINVAL, "%s: damaged bundle at '%s': %s", path, rel,
                                  archive_error_string (a) ?: "read error");
        }
        if (archive_write_finish_entry (disk) != ARCHIVE_OK)
            return errprintf (err, FS_EFAIL, "%s: cannot finish '%s': %s", path, rel,
                              archive_error_string (disk) ?: "write error");
    }
    if (r != ARCHIVE_EOF)
        return errprintf (err, FS_EINVAL, "%s: damaged bundle: %s", path,
                          archive_error_string (a) ?: "read error");
    return 0;
}

static int read_only (const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)f;
    if (flag == FTW_DP)
        return chmod (p, 0555);
    if (flag == FTW_F && (st->st_mode & 0222))
        return chmod (p, st->st_mode & 0555);
    return flag == FTW_DNR || flag == FTW_NS ? -1 : 0;
}

int bundle_unpack (const char *path, const char *dest_in, const struct bundle_limits *lim,
                   struct bundle_info *info, fs_error_t *err)
{
    /* Entries are written at dest/PATH with every component checked for
     * symlinks (ARCHIVE_EXTRACT_SECURE_SYMLINKS): dest itself must be a real
     * path, so none of its own components is one. */
    char parent[PATH_MAX], dest[PATH_MAX];
    const char *slash = strrchr (dest_in, '/');
    snprintf (parent, sizeof (parent), "%.*s", slash ? (int)(slash - dest_in) : 1,
              slash ? (slash == dest_in ? "/" : dest_in) : ".");
    if (!realpath (parent, dest) || strlen (dest) + strlen (slash ? slash : dest_in) + 2 >= PATH_MAX)
        return errprintf (err, FS_EFAIL, "cannot unpack into %s: %s", dest_in, strerror (errno));
    snprintf (dest + strlen (dest), sizeof (dest) - strlen (dest), "/%s", slash ? slash + 1 : dest_in);
    if (mkdir (dest, 0755) < 0)
        return errprintf (err, FS_EFAIL, "cannot create %s: %s", dest_in, strerror (errno));
    struct archive *a = open_read (path, err);
    struct archive *disk = a ? archive_write_disk_new () : NULL;
    struct bundle_info in = { 0 };
    int rc = -1;
    if (a && !disk)
        errprintf (err, FS_EFAIL, "out of memory");
    if (disk) {
        archive_write_disk_set_options (disk, ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_NO_OVERWRITE
                                                  | ARCHIVE_EXTRACT_SECURE_SYMLINKS
                                                  | ARCHIVE_EXTRACT_SECURE_NODOTDOT);
        rc = unpack_entries (a, disk, path, dest, lim, &in, err);
        if (archive_write_close (disk) != ARCHIVE_OK && rc == 0)
            rc = errprintf (err, FS_EFAIL, "%s: cannot finish unpacking: %s", path,
                            archive_error_string (disk) ?: "write error");
        archive_write_free (disk);
    }
    if (a)
        archive_read_free (a);
    /* Read-only once complete, every directory (also those made on the way to
     * a file whose directory the archive did not list) and every file. */
    if (rc == 0 && nftw (dest, read_only, 32, FTW_DEPTH | FTW_PHYS) != 0)
        rc = errprintf (err, FS_EFAIL, "%s: cannot make it read-only: %s", dest, strerror (errno));
    if (rc < 0) {
        fs_error_t e2;
        bundle_remove_tree (dest, &e2);
        return -1;
    }
    if (info)
        *info = in;
    return 0;
}

/* --- trees ---------------------------------------------------------------------- */

static int rm_one (const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)f;
    return flag == FTW_DP ? rmdir (p) : unlink (p);
}

static int open_up (const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)f;
    if (flag == FTW_D && (st->st_mode & 0700) != 0700)
        chmod (p, st->st_mode | 0700);
    return 0;
}

int bundle_remove_tree (const char *dir, fs_error_t *err)
{
    struct stat st;
    if (lstat (dir, &st) < 0)
        return errno == ENOENT ? 0 : errprintf (err, FS_EFAIL, "%s: %s", dir, strerror (errno));
    if (S_ISDIR (st.st_mode))
        nftw (dir, open_up, 32, FTW_PHYS);
    if (nftw (dir, rm_one, 32, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
        return errprintf (err, FS_EFAIL, "cannot remove %s: %s", dir, strerror (errno));
    return 0;
}

static uint64_t tree_total;

static int add_size (const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)p;
    (void)f;
    if (flag == FTW_F && S_ISREG (st->st_mode))
        tree_total += (uint64_t)st->st_size;
    return 0;
}

uint64_t bundle_tree_bytes (const char *dir)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock (&lock);
    tree_total = 0;
    nftw (dir, add_size, 32, FTW_PHYS);
    uint64_t t = tree_total;
    pthread_mutex_unlock (&lock);
    return t;
}
