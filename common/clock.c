/* clock.c - see clock.h. */
#include <stdio.h>
#include <time.h>

#include "clock.h"

static double ts_seconds (clockid_t id)
{
    struct timespec ts;
    clock_gettime (id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double clock_wall (void)
{
    return ts_seconds (CLOCK_REALTIME);
}

double clock_mono (void)
{
    return ts_seconds (CLOCK_MONOTONIC);
}

double clock_cpu (void)
{
    return ts_seconds (CLOCK_PROCESS_CPUTIME_ID);
}

char *clock_iso (double t, bool millis, char *buf, size_t n)
{
    time_t sec = (time_t)(t > 0 ? t : 0);     /* no libm: the task monitor links this */
    long ms = (long)((t - (double)sec) * 1000);
    struct tm tm;
    char s[32];
    if (ms > 999)
        ms = 999;
    if (n == 0)
        return buf;
    buf[0] = '\0';
    if (!gmtime_r (&sec, &tm) || !strftime (s, sizeof (s), "%Y-%m-%dT%H:%M:%S", &tm))
        return buf;
    if (millis)
        snprintf (buf, n, "%s.%03ldZ", s, ms);
    else
        snprintf (buf, n, "%sZ", s);
    return buf;
}

double clock_iso_parse (const char *s)
{
    struct tm tm = { 0 };
    const char *end = s ? strptime (s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    if (!end)
        return -1;
    return (double)timegm (&tm);
}

char *clock_local_hms (double t, char *buf, size_t n)
{
    time_t sec = (time_t)t;
    struct tm tm;
    if (n == 0)
        return buf;
    buf[0] = '\0';
    if (localtime_r (&sec, &tm))
        strftime (buf, n, "%H:%M:%S", &tm);
    return buf;
}
