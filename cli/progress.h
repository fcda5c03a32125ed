/* progress.h - a progress bar with rate and ETA, drawn on a TTY only. */
#ifndef FS_PROGRESS_H
#define FS_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct progress;

/* Draws on f only if isatty(fileno(f)) (or force); otherwise every call is a
 * no-op.  label is copied.  total may be 0 (unknown).  Redraws at most 10
 * times a second.  Caller frees with progress_destroy(). */
struct progress *progress_create (FILE *f, const char *label, uint64_t total, bool force);
void progress_update (struct progress *p, uint64_t done);
/* Draw the final state and end the line. */
void progress_finish (struct progress *p, bool ok);
void progress_destroy (struct progress *p);     /* accepts NULL */

#endif
