#include <stdio.h>
#include <string.h>

#include "error.h"

int verrprintf (fs_error_t *e, int code, const char *fmt, va_list ap)
{
    if (e) {
        e->code = code;
        vsnprintf (e->text, sizeof (e->text), fmt, ap);
    }
    return -1;
}

int errcode_exit (int code)
{
    return code == FS_OK || code == FS_ENOTFOUND ? FS_EFAIL : code;
}

int errprintf (fs_error_t *e, int code, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    verrprintf (e, code, fmt, ap);
    va_end (ap);
    return -1;
}

/* Copy s into buf in a form safe to print inside quotes: non-printable bytes
 * become \xNN, long strings are cut with "...". */
const char *errquote (const char *s, char *buf, size_t n)
{
    size_t o = 0;
    if (!n)
        return buf;
    for (const unsigned char *p = (const unsigned char *) s; p && *p; p++) {
        if (o + 5 + 4 >= n) {           /* room for "\\xNN" and "..." */
            memcpy (buf + o, "...", 4);
            return buf;
        }
        if (*p == '\'' || *p == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char) *p;
        }
        else if (*p >= 0x20 && *p != 0x7f)
            buf[o++] = (char) *p;
        else
            o += (size_t) snprintf (buf + o, n - o, "\\x%02x", *p);
    }
    buf[o] = '\0';
    return buf;
}

int errprefix (fs_error_t *e, const char *fmt, ...)
{
    if (!e)
        return -1;
    char pre[512];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (pre, sizeof (pre), fmt, ap);
    va_end (ap);
    size_t np = strlen (pre), cap = sizeof (e->text);
    if (np + 2 >= cap)
        return -1;
    size_t nold = strnlen (e->text, cap - 1);
    if (np + 2 + nold >= cap)
        nold = cap - np - 3;
    memmove (e->text + np + 2, e->text, nold);
    e->text[np + 2 + nold] = '\0';
    memcpy (e->text, pre, np);
    e->text[np] = ':';
    e->text[np + 1] = ' ';
    return -1;
}
