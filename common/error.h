/* error.h - errors a user may read.
 *
 * Functions return 0/-1 (or pointer/NULL) and write what went wrong, where, and
 * what to do into an fs_error_t out-parameter.  The code doubles as the exit
 * code of the fedsched command (SPEC section 3).
 */
#ifndef FS_ERROR_H
#define FS_ERROR_H

#include <stdarg.h>
#include <stddef.h>

/* The codes (FS_EFAIL, FS_EINVAL, FS_ENOTFOUND, FS_EUNREACH, FS_ETIMEOUT) are
 * the public library's (lib/fedsched.h): one list for the product.
 * FS_ENOTFOUND is for callers to test; users see exit code 1 (client_fail). */
#include "lib/fedsched.h"

typedef struct {
    int code;
    char text[1024];
} fs_error_t;

/* The code as an exit code of the fedsched command (SPEC section 3):
 * FS_ENOTFOUND is 1, and so is 0 (an error without a code); the others are
 * themselves.  Error replies carry FS_ENOTFOUND as it is (docs/protocol.md),
 * so that libraries can tell it apart. */
int errcode_exit (int code);

/* Fill *e (which may be NULL) with code and printf-style text; always returns -1. */
int errprintf (fs_error_t *e, int code, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
int verrprintf (fs_error_t *e, int code, const char *fmt, va_list ap);

/* Prepend "PREFIX: " to e->text (e.g. a file name); returns -1. */
int errprefix (fs_error_t *e, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

/* Copy s into buf[n] in a form safe to print inside quotes in a message:
 * non-printable bytes become \xNN, quotes and backslashes are escaped, long
 * strings are cut with "...".  Returns buf. */
const char *errquote (const char *s, char *buf, size_t n);

#endif
