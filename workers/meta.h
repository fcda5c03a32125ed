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

/* Set "meta" on every registration entry {name, file, path, ...} of entries
 * (borrowed, changed in place): the metadata object, or {error: TEXT} when
 * the file can't be read now (the entry is registered all the same). */
void meta_attach (json_t *entries);

#endif
