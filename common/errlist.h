/* errlist.h - every error of one input, for those that report them all at once
 * (job files, configuration files) instead of stopping at the first.
 *
 * Each error is a message a user reads, "FILE:LINE:COL: message" (or "FILE:
 * message"), with the position it is sorted by.  A list keeps ERRLIST_KEPT
 * messages and counts the rest.  Its code is FS_EINVAL for errors in the input,
 * FS_EFAIL once something else failed (the file could not be read, memory ran
 * out), which then is the code of the whole list.
 */
#ifndef FS_ERRLIST_H
#define FS_ERRLIST_H

#include <stddef.h>

#include "error.h"

#define ERRLIST_KEPT 500            /* messages kept; the rest are only counted */

struct errlist_item {
    int line, col;                  /* 1-based; 0 when not tied to a position */
    char *msg;                      /* the whole message (owned) */
};

/* Initialise with ERRLIST_INIT (or zero it), release with errlist_clear(). */
struct errlist {
    size_t count;                   /* messages in list[] */
    size_t omitted;                 /* more errors found past ERRLIST_KEPT */
    struct errlist_item *list;
    int code;                       /* 0 when count == 0 */
};
#define ERRLIST_INIT { 0, 0, NULL, 0 }

/* Append text (already "FILE:LINE:COL: ...") at line:col to e (may be NULL). */
void errlist_push (struct errlist *e, int code, int line, int col, const char *text);
/* Append "FILE:LINE:COL: message" (or "FILE: message" when line is 0). */
void errlist_add (struct errlist *e, int code, const char *file, int line, int col,
                  const char *fmt, ...) __attribute__ ((format (printf, 6, 7)));
/* Sort by (line, col), stably: the order a reader meets them in the file. */
void errlist_sort (struct errlist *e);
void errlist_clear (struct errlist *e);    /* frees the messages; e reusable */
/* All messages joined with sep (e.g. "\n"), plus "... and N more errors" when
 * some were omitted.  Caller frees with free(); NULL on OOM. */
char *errlist_join (const struct errlist *e, const char *sep);
/* The first message (and a count of the others) into an fs_error_t;
 * returns -1 when there are errors, 0 otherwise. */
int errlist_to_error (const struct errlist *e, fs_error_t *err);
/* Print each message as "fedsched: error: MESSAGE" on stderr (and a line for
 * those omitted); returns the list's code as an exit code (0 when empty). */
int errlist_print (const struct errlist *e);

#endif
