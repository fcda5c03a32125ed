/* sbuf.c - the string builder (see sbuf.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbuf.h"

void sbuf_init (struct sbuf *b, char *buf, size_t size)
{
    *b = (struct sbuf){ .buf = buf, .size = size, .fixed = true };
    if (size)
        buf[0] = '\0';
    else
        b->failed = true;
}

/* Room for n more bytes and the NUL: 1, or 0 (failed set; fixed: what fits
 * is still to be written by the caller). */
static int room (struct sbuf *b, size_t n)
{
    if (b->len + n + 1 <= b->size)
        return 1;
    if (b->fixed) {
        b->failed = true;
        return 0;
    }
    size_t cap = b->size ? b->size : 64;
    while (cap < b->len + n + 1)
        cap *= 2;
    char *p = realloc (b->buf, cap);
    if (!p) {
        b->failed = true;
        return 0;
    }
    b->buf = p;
    b->size = cap;
    return 1;
}

int sbuf_add (struct sbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return -1;
    if (!room (b, n)) {
        if (b->fixed && b->size > b->len + 1) {
            size_t k = b->size - b->len - 1;
            memcpy (b->buf + b->len, s, k);
            b->len += k;
            b->buf[b->len] = '\0';
        }
        return -1;
    }
    memcpy (b->buf + b->len, s, n);
    b->len += n;
    b->buf[b->len] = '\0';
    return 0;
}

int sbuf_puts (struct sbuf *b, const char *s)
{
    return sbuf_add (b, s, strlen (s));
}

int sbuf_vprintf (struct sbuf *b, const char *fmt, va_list ap)
{
    if (b->failed)
        return -1;
    va_list aq;
    va_copy (aq, ap);
    int k = vsnprintf (b->buf ? b->buf + b->len : NULL, b->buf ? b->size - b->len : 0, fmt, aq);
    va_end (aq);
    if (k < 0) {
        b->failed = true;
        return -1;
    }
    if (b->len + (size_t)k + 1 <= b->size) {
        b->len += (size_t)k;
        return 0;
    }
    if (!room (b, (size_t)k)) {
        if (b->fixed && b->size)
            b->len = b->size - 1;           /* vsnprintf wrote what fits */
        return -1;
    }
    vsnprintf (b->buf + b->len, b->size - b->len, fmt, ap);
    b->len += (size_t)k;
    return 0;
}

int sbuf_printf (struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    int rc = sbuf_vprintf (b, fmt, ap);
    va_end (ap);
    return rc;
}

const char *sbuf_str (const struct sbuf *b)
{
    return b->buf && b->size ? b->buf : "";
}

char *sbuf_take (struct sbuf *b)
{
    char *s = NULL;
    if (!b->fixed) {
        if (!b->failed)
            s = b->buf ? b->buf : strdup ("");
        else
            free (b->buf);
        *b = (struct sbuf)SBUF_INIT;
    }
    return s;
}

void sbuf_free (struct sbuf *b)
{
    if (b->fixed)
        return;
    free (b->buf);
    *b = (struct sbuf)SBUF_INIT;
}
