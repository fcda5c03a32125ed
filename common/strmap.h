/* strmap.h - the string map: keys (C strings, or byte strings of a given
 * length) to int64_t values.
 *
 * What the code base needs of a map is to find an entry of an array by its
 * name (a site, a region, a dataset, a mapping key) or by a small binary key
 * (an interned policy, a cache entry, a task): so the values are int64_t
 * (array indexes, usually).  Open addressing with linear probing at a load of
 * at most 1/2, FNV-1a hashes kept beside the entries (a probe compares keys
 * only on equal hashes), keys copied into one growing arena (no allocation
 * per key).  Removal shifts the entries after it back (no tombstones), and
 * the arena is compacted once removed keys take most of it, so a long-lived
 * map with keys coming and going stays as large as its live keys.
 *
 * A C string key and the byte string of its characters (without the NUL)
 * are the same key.
 */
#ifndef FS_STRMAP_H
#define FS_STRMAP_H

#include <stddef.h>
#include <stdint.h>

struct strmap;

/* An empty map with room for about hint entries before it grows (0: a
 * small default).  NULL when memory runs out.  Caller frees with
 * strmap_destroy(). */
struct strmap *strmap_create (size_t hint);
void strmap_destroy (struct strmap *m);         /* accepts NULL */

/* Set key to value, replacing the value of a key already there.  The key is
 * copied (borrowed only for the call).  0, or -1 when memory runs out (the
 * map is then unchanged). */
int strmap_put (struct strmap *m, const char *key, int64_t value);
int strmap_putn (struct strmap *m, const void *key, size_t len, int64_t value);

/* The value of key, or -1 when it is not in the map (so a map whose values
 * are indexes answers "which index, if any" in one call; a map that must
 * hold negative values tells them apart with strmap_find()). */
int64_t strmap_get (const struct strmap *m, const char *key);
int64_t strmap_getn (const struct strmap *m, const void *key, size_t len);
/* 1 and *value set when key is in the map, else 0. */
int strmap_find (const struct strmap *m, const void *key, size_t len, int64_t *value);

/* Remove key: 1 if it was there, else 0. */
int strmap_remove (struct strmap *m, const void *key, size_t len);

/* The number of keys. */
size_t strmap_count (const struct strmap *m);

#endif
