/* table.h - aligned tables for the listing verbs. */
#ifndef FS_TABLE_H
#define FS_TABLE_H

#include <jansson.h>
#include <stdio.h>

struct table;

/* headers: ncols strings, copied.  Caller frees with table_destroy(). */
struct table *table_create (int ncols, const char *const *headers);
void table_destroy (struct table *t);   /* accepts NULL */
/* Add a row of ncols cells (copied; NULL prints "-"). */
void table_add (struct table *t, const char *const *cells);
/* Add a row from printf-style cells separated by '\t' in one format. */
void table_addf (struct table *t, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
/* Print with columns padded to their widest cell, two spaces apart, headers in
 * capitals; numeric-looking columns right-aligned. */
void table_print (const struct table *t, FILE *f);

/* Human forms: bytes "1.5 GiB", rate "812.3 MB/s", duration "1h02m", "3.2s". */
char *fmt_bytes (double bytes, char *buf, size_t n);
char *fmt_rate (double bytes_per_s, char *buf, size_t n);
char *fmt_duration (double seconds, char *buf, size_t n);
/* A shape (JSON array of sizes) as NumPy prints it: "(24, 45)" -> "(24,45)", "(7,)". */
char *fmt_shape (const json_t *shape, char *buf, size_t n);

#endif
