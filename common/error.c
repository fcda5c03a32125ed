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
    char pre[512], old[sizeof (e->text)];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (pre, sizeof (pre), fmt, ap);
    va_end (ap);
    memcpy (old, e->text, sizeof (old));
    snprintf (e->text, sizeof (e->text), "%s: %s", pre, old);
    return -1;
}
