/* bundle.h - app bundles: a directory packed into one deterministic file
 * (SPEC section 10), on libarchive (the only module that includes archive.h;
 * libarchive brings zstd).
 *
 * Format: a POSIX pax ("restricted": plain ustar headers, pax records only
 * for what ustar can't hold, e.g. long names) archive compressed with zstd
 * (level 3).  Deterministic: the same directory content gives the same bytes,
 * whoever packs it and whenever (with the same libarchive and zstd): entries
 * sorted by path (bytewise), every mtime 0, owner and group 0 with no names,
 * modes normalised (directories 0755, files 0755 when any execute bit is set
 * else 0644, symlinks 0777), no atime/ctime/xattrs/ACLs.  A bundle holds
 * directories, regular files and symlinks whose targets are relative and stay
 * inside the directory; anything else (devices, fifos, sockets, absolute or
 * escaping symlinks) is refused when packing and when unpacking.  Hard links
 * are packed as separate files.
 *
 * Unpacking trusts nothing in the archive: every path is relative without
 * '..' or empty components, only those three types, no hard links, no entry
 * through a symlink, and the total size and entry count are bounded (a
 * compression bomb stops at the limit).  The result is read-only: files 0555
 * or 0444, directories 0555.
 */
#ifndef FS_BUNDLE_H
#define FS_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct bundle_info {
    uint64_t entries;           /* directories, files and symlinks */
    uint64_t bytes;             /* bytes of regular files (unpacked) */
};

/* Pack directory dir into fd (written from its current offset; the caller
 * hashes and stores it).  FS_EINVAL for content a bundle can't hold (with the
 * path), FS_EFAIL for I/O errors.  *info (may be NULL) is filled. */
int bundle_pack (const char *dir, int fd, struct bundle_info *info, fs_error_t *err);

struct bundle_limits {
    uint64_t max_bytes;         /* unpacked bytes of regular files; 0: no limit */
    uint64_t max_entries;       /* 0: 1000000 */
};

/* Unpack the bundle file at path into dest, which must not exist (it is
 * created, and removed again on failure).  FS_EINVAL for an archive that is
 * not a well-formed bundle or breaks a limit (with the entry's path). */
int bundle_unpack (const char *path, const char *dest, const struct bundle_limits *lim,
                   struct bundle_info *info, fs_error_t *err);

/* Read the regular file member (a path inside the bundle, e.g. "app.yaml") of
 * the bundle at path, at most max bytes, into *data (caller frees; NUL-
 * terminated) and *len.  FS_ENOTFOUND when it is not there. */
int bundle_read_member (const char *path, const char *member, size_t max, char **data,
                        size_t *len, fs_error_t *err);

/* Remove the tree at dir (an unpacked bundle: read-only directories are made
 * writable first).  0, or -1 with err. */
int bundle_remove_tree (const char *dir, fs_error_t *err);

/* Bytes of the regular files under dir (an unpacked bundle's size on disk). */
uint64_t bundle_tree_bytes (const char *dir);

#endif
