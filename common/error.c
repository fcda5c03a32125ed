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

int errprintf (fs_error_t *e, int code, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    verrprintf (e, code, fmt, ap);
    va_end (ap);
    return -1;
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
