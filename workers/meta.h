/* meta.h - what a site tells the catalog about each dataset besides its shape:
 * attributes, the file's attributes, dimensions (docs/protocol.md, "Metadata").
 *
 * The format adapter reads them (format_meta); this module adds what the
 * federation makes of them: CF time axes decoded to dates in their calendar
 * (common/cftime.h), with the raw values kept beside, the frequency of a
 * regular time axis, and for each dimension scale the catalog name it was
 * published under (when it is among the entries, as the datasets of one file
 * are).  Reads files: call it on an I/O thread, never on the event loop.
 */
#ifndef FS_META_H
#define FS_META_H

#include <jansson.h>

struct zmsg;
struct zsock;

#define REGISTER_BATCH 200                  /* entries per catalog.register at most */
#define REGISTER_BYTES (1u << 20)           /*   and about this much metadata */

/* Set "meta" on every registration entry {name, file, path, ...} of entries
 * (borrowed, changed in place): the metadata object, or {error: TEXT} when
 * the file can't be read now (the entry is registered all the same). */
void meta_attach (json_t *entries);

/* The end of the registration batch of entries that starts at start: at most
 * REGISTER_BATCH entries, and no more once their metadata passes
 * REGISTER_BYTES (one entry at least). */
size_t meta_batch_end (const json_t *entries, size_t start);

/* The next batch of entries (borrowed) from *i on, as a catalog.register
 * request for site (id id_base + *i), *i moved past it; NULL when none is left. */
struct zmsg *meta_register_next (const char *site, const json_t *entries, size_t *i,
                                 int64_t id_base);

/* Register entries (borrowed) for site in batches: catalog.register requests
 * (ids from id_base) sent on out, an I/O job's way to the event loop
 * (frames 'S' + the message, forwarded to the scheduler). */
void meta_register (struct zsock *out, const char *site, const json_t *entries, int64_t id_base);

/* A publish's metadata, ahead of its answer: read (meta_attach), registered
 * (meta_register), then taken out of the entries, so the answer that follows
 * stays small and registers them again without it (which keeps it). */
void meta_send_ahead (struct zsock *out, const char *site, json_t *entries, int64_t id_base);

#endif
