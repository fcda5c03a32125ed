/* filemap.h - serving byte ranges of a file without copying them.
 *
 * A piece of a contiguous, unconverted dataset is one byte range of its file.
 * filemap_open() maps that range read-only; its bytes are checksummed and handed
 * to ZeroMQ in place, and filemap_release() (ZeroMQ's free callback) unmaps it.
 * That saves the read copy into a buffer and the page faults of a fresh buffer
 * per piece.
 *
 * A mapped file that shrinks under the worker (replaced in place by a writer)
 * would raise SIGBUS on the next access.  A handler catches that for the ranges
 * mapped here: it puts a zero page over the bad page, so the access finishes,
 * and marks the range damaged; filemap_damaged() then says so, and the piece is
 * answered with an error instead (or, if the damage happens while ZeroMQ sends
 * it, the client's checksum check refuses it and asks again).  A SIGBUS at any
 * other address keeps its default action.
 */
#ifndef FS_FILEMAP_H
#define FS_FILEMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

struct filemap;

/* Map len > 0 bytes at offset of the open file fd, which must hold them.
 * *data is the first byte.  NULL with err set (the caller can then read the
 * plain way) when the range is outside the file or no slot is free. */
struct filemap *filemap_open (int fd, uint64_t offset, size_t len, const void **data,
                              fs_error_t *err);

/* True once a page of the range vanished from the file (SIGBUS caught). */
bool filemap_damaged (const struct filemap *fm);

/* Unmap.  Signature of ZeroMQ's zmq_free_fn: (data, hint) with hint the map. */
void filemap_release (void *data, void *hint);

/* A file's identity: the same device, inode, size and modification time (ns)
 * mean the same bytes — how the worker notices a published file changed under
 * an open handle, and how a local read checks that the file its client opened
 * is the one the site reads. */
struct file_ident {
    uint64_t dev, ino, size, mtime_ns;
};
struct stat;
void file_ident_of (const struct stat *st, struct file_ident *id);
bool file_ident_same (const struct file_ident *a, const struct file_ident *b);

#endif
