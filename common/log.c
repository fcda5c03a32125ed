#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "clock.h"
#include "log.h"

static char log_ident[64] = "fedsched";
static int log_level = LOG_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void log_init (const char *ident, int level)
{
    snprintf (log_ident, sizeof (log_ident), "%s", ident);
    log_level = level;
}

void log_msg (int level, const char *fmt, ...)
{
    static const char *names[] = { "error", "warn", "info", "debug" };
    if (level > log_level)
        return;
    char ts[40];
    clock_iso (clock_wall (), true, ts, sizeof (ts));
    char line[4096];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (line, sizeof (line), fmt, ap);
    va_end (ap);
    pthread_mutex_lock (&log_lock);
    fprintf (stderr, "%s %s level=%s %s\n", ts, log_ident,
             names[level < 0 ? 0 : level > 3 ? 3 : level], line);
    fflush (stderr);
    pthread_mutex_unlock (&log_lock);
}
