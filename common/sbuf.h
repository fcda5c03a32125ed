/* sbuf.h - the string builder: text appended piece by piece, printf-style.
 *
 * Two kinds, one interface:
 *   - fixed, over the caller's array (sbuf_init()): what does not fit is cut
 *     at the end (always NUL-terminated), for messages into a char[N];
 *   - growing, on the heap (struct sbuf b = SBUF_INIT): for text of any
 *     length, taken with sbuf_take() or freed with sbuf_free().
 * A builder that cut text or ran out of memory stays failed: later appends
 * do nothing and return -1, so a sequence of appends needs one check.
 */
#ifndef FS_SBUF_H
#define FS_SBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct sbuf {
    char *buf;                  /* the text (fixed: the caller's array) */
    size_t len, size;           /* text bytes; bytes of buf */
    bool fixed;
    bool failed;                /* text was cut, or memory ran out */
};

#define SBUF_INIT { NULL, 0, 0, false, false }

/* A fixed builder over buf[size] (buf gets "" when size > 0). */
void sbuf_init (struct sbuf *b, char *buf, size_t size);

/* Append; 0, or -1 when the text was cut (fixed) or memory ran out
 * (growing) now or before. */
int sbuf_add (struct sbuf *b, const char *s, size_t n);
int sbuf_puts (struct sbuf *b, const char *s);
int sbuf_printf (struct sbuf *b, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
int sbuf_vprintf (struct sbuf *b, const char *fmt, va_list ap);

/* The text so far (borrowed, valid until the next append or sbuf_free());
 * "" when nothing was appended. */
const char *sbuf_str (const struct sbuf *b);

/* Growing builders: the text, which the caller frees with free(); NULL when
 * memory ran out.  The builder is empty (SBUF_INIT) afterwards. */
char *sbuf_take (struct sbuf *b);
/* Growing builders: free the text (accepts an empty builder); fixed: no-op. */
void sbuf_free (struct sbuf *b);

#endif
