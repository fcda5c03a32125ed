/* ydoc.h - YAML documents as a tree with line:column marks, on libyaml.
 *
 * The only module that includes yaml.h.  Loads one document into a tree of
 * scalars, sequences and mappings, each node carrying its 1-based line and
 * column, so callers can report "FILE:LINE:COL: message".  Refuses aliases,
 * anchors and tags (other than the plain core ones), several documents,
 * duplicate mapping keys, files over max_bytes and nesting over max_depth.
 */
#ifndef FS_YDOC_H
#define FS_YDOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef enum { YNODE_SCALAR, YNODE_SEQ, YNODE_MAP } ynode_type_t;

struct ynode {
    ynode_type_t type;
    int line, col;              /* 1-based */
    char *value;                /* SCALAR: text (NUL-terminated) */
    bool quoted;                /* SCALAR: was quoted (so "1" is a string) */
    size_t n;                   /* SEQ: items; MAP: pairs */
    struct ynode **items;       /* SEQ: items[n]; MAP: values[n] */
    struct ynode **keys;        /* MAP: keys[n] (scalars) */
};

struct ydoc_limits {
    size_t max_bytes;           /* 0: 1 MiB */
    int max_depth;              /* 0: 32 */
};

/* Load FILE.  Errors are FS_EINVAL "FILE:LINE:COL: message" (FS_EFAIL when the
 * file can't be read).  An empty document gives an empty mapping.  Caller
 * frees with ydoc_free(). */
struct ynode *ydoc_load_file (const char *file, const struct ydoc_limits *lim, fs_error_t *err);
/* Same from memory; name is used in messages in place of FILE. */
struct ynode *ydoc_load_string (const char *name, const char *text, size_t len,
                                const struct ydoc_limits *lim, fs_error_t *err);
void ydoc_free (struct ynode *root);    /* accepts NULL */

/* Map lookup (borrowed; NULL when absent or not a map). */
struct ynode *ynode_get (const struct ynode *map, const char *key);

/* Each helper below reports "FILE:LINE:COL: WHAT: message" at node n, with
 * FS_EINVAL, and returns -1 on error.  file is used in the message. */
int ynode_check_keys (const char *file, const struct ynode *map, const char *what,
                      const char *const *allowed, fs_error_t *err);   /* NULL-terminated */
/* The same for every unknown key at once: each is an error in errs.  Returns
 * how many there are, or -1 (also in errs) when map is not a mapping. */
struct errlist;
int ynode_check_keys_all (const char *file, const struct ynode *map, const char *what,
                          const char *const *allowed, struct errlist *errs);
int ynode_error (const char *file, const struct ynode *n, fs_error_t *err, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));
int ynode_string (const char *file, const struct ynode *n, const char *what, char *buf,
                  size_t bufsz, fs_error_t *err);
int ynode_int (const char *file, const struct ynode *n, const char *what, int64_t min,
               int64_t max, int64_t *out, fs_error_t *err);
int ynode_bool (const char *file, const struct ynode *n, const char *what, bool *out, fs_error_t *err);
/* Durations, rates and sizes: the parsers of units.h on a scalar. */
int ynode_duration (const char *file, const struct ynode *n, const char *what, double *seconds,
                    fs_error_t *err);
int ynode_rate (const char *file, const struct ynode *n, const char *what, double *bytes_per_s,
                fs_error_t *err);
int ynode_size (const char *file, const struct ynode *n, const char *what, uint64_t *bytes,
                fs_error_t *err);

#endif
