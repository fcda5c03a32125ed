/* cftime.c - CF time units and calendars (see cftime.h).
 *
 * Dates become day numbers: the Julian Day Number for the standard,
 * proleptic Gregorian and Julian calendars (Fliegel & Van Flandern's formula
 * one way, Richards' algorithm back), plain counts of fixed-length years for
 * noleap, all_leap and 360_day.  A value adds v * unit seconds to the
 * reference's day and time of day.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cftime.h"

#define JDN_GREGORIAN_START 2299161     /* 1582-10-15, the first Gregorian day */

static const int cum_noleap[13] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365 };
static const int cum_leap[13] = { 0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335, 366 };

static int64_t jdn_gregorian (int64_t y, int m, int d)
{
    int64_t a = (14 - m) / 12, yy = y + 4800 - a, mm = m + 12 * a - 3;
    return d + (153 * mm + 2) / 5 + 365 * yy + yy / 4 - yy / 100 + yy / 400 - 32045;
}

static int64_t jdn_julian (int64_t y, int m, int d)
{
    int64_t a = (14 - m) / 12, yy = y + 4800 - a, mm = m + 12 * a - 3;
    return d + (153 * mm + 2) / 5 + 365 * yy + yy / 4 - 32083;
}

static void jdn_to_date (int64_t j, bool gregorian, int64_t *y, int *m, int *d)
{
    int64_t f = j + 1401;
    if (gregorian)
        f += (((4 * j + 274277) / 146097) * 3) / 4 - 38;
    int64_t e = 4 * f + 3, g = (e % 1461) / 4, h = 5 * g + 2;
    *d = (int)((h % 153) / 5 + 1);
    *m = (int)(((h / 153 + 2) % 12) + 1);
    *y = e / 1461 - 4716 + (12 + 2 - *m) / 12;
}

static bool leap (fs_calendar_t cal, int64_t y)
{
    switch (cal) {
    case CAL_ALLLEAP: return true;
    case CAL_NOLEAP: case CAL_360: return false;
    case CAL_JULIAN: return y % 4 == 0;
    case CAL_PROLEPTIC: return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    default: return y < 1583 ? y % 4 == 0 : (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    }
}

static int month_days (fs_calendar_t cal, int64_t y, int m)
{
    if (cal == CAL_360)
        return 30;
    static const int len[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return m == 2 && leap (cal, y) ? 29 : len[m - 1];
}

static int64_t day_number (fs_calendar_t cal, int64_t y, int m, int d)
{
    switch (cal) {
    case CAL_PROLEPTIC: return jdn_gregorian (y, m, d);
    case CAL_JULIAN: return jdn_julian (y, m, d);
    case CAL_NOLEAP: return y * 365 + cum_noleap[m - 1] + d - 1;
    case CAL_ALLLEAP: return y * 366 + cum_leap[m - 1] + d - 1;
    case CAL_360: return y * 360 + (m - 1) * 30 + d - 1;
    default: {
        int64_t g = jdn_gregorian (y, m, d);
        return g >= JDN_GREGORIAN_START ? g : jdn_julian (y, m, d);
    }
    }
}

static int64_t floordiv (int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static void date_of (fs_calendar_t cal, int64_t n, int64_t *y, int *m, int *d)
{
    const int *cum = cal == CAL_ALLLEAP ? cum_leap : cum_noleap;
    int64_t ylen = cal == CAL_360 ? 360 : cal == CAL_ALLLEAP ? 366 : 365;
    switch (cal) {
    case CAL_PROLEPTIC: jdn_to_date (n, true, y, m, d); return;
    case CAL_JULIAN: jdn_to_date (n, false, y, m, d); return;
    case CAL_STANDARD: jdn_to_date (n, n >= JDN_GREGORIAN_START, y, m, d); return;
    case CAL_360:
        *y = floordiv (n, 360);
        *m = (int)((n - *y * 360) / 30) + 1;
        *d = (int)((n - *y * 360) % 30) + 1;
        return;
    default: {
        *y = floordiv (n, ylen);
        int doy = (int)(n - *y * ylen), k = 1;
        while (k < 12 && cum[k] <= doy)
            k++;
        *m = k;
        *d = doy - cum[k - 1] + 1;
    }
    }
}

static const struct {
    const char *names[4];
    double seconds;
    bool only360;
} units[] = {
    { { "days", "day", "d", NULL }, 86400, false },
    { { "hours", "hour", "hr", "h" }, 3600, false },
    { { "minutes", "minute", "min", NULL }, 60, false },
    { { "seconds", "second", "sec", "s" }, 1, false },
    { { "milliseconds", "millisecond", "ms", NULL }, 1e-3, false },
    { { "microseconds", "microsecond", "us", NULL }, 1e-6, false },
    { { "weeks", "week", NULL, NULL }, 7 * 86400, false },
    { { "months", "month", NULL, NULL }, 30 * 86400, true },
    { { "years", "year", NULL, NULL }, 360 * 86400, true },
};

static const struct {
    const char *name;
    fs_calendar_t cal;
} calendars[] = {
    { "standard", CAL_STANDARD }, { "gregorian", CAL_STANDARD },
    { "proleptic_gregorian", CAL_PROLEPTIC }, { "julian", CAL_JULIAN },
    { "noleap", CAL_NOLEAP }, { "365_day", CAL_NOLEAP },
    { "all_leap", CAL_ALLLEAP }, { "366_day", CAL_ALLLEAP }, { "360_day", CAL_360 },
};

/* Read an unsigned decimal of 1..maxd digits at *p. */
static bool num (const char **p, int maxd, long *out)
{
    const char *s = *p;
    long v = 0;
    int n = 0;
    while (isdigit ((unsigned char)*s) && n < maxd) {
        v = v * 10 + (*s++ - '0');
        n++;
    }
    if (!n)
        return false;
    *p = s;
    *out = v;
    return true;
}

int cftime_parse (const char *units_text, const char *calendar, fs_cftime_t *t, fs_error_t *err)
{
    memset (t, 0, sizeof (*t));
    t->cal = CAL_STANDARD;
    if (calendar && *calendar) {
        size_t i, n = sizeof (calendars) / sizeof (calendars[0]);
        for (i = 0; i < n && strcasecmp (calendars[i].name, calendar); i++)
            ;
        if (i == n)
            return errprintf (err, FS_EINVAL, "calendar '%s' is not one CF defines", calendar);
        t->cal = calendars[i].cal;
    }
    const char *p = units_text ? units_text : "";
    while (isspace ((unsigned char)*p))
        p++;
    size_t ulen = strcspn (p, " \t");
    int found = -1;
    for (size_t i = 0; i < sizeof (units) / sizeof (units[0]) && found < 0; i++)
        for (int k = 0; k < 4 && units[i].names[k]; k++)
            if (strlen (units[i].names[k]) == ulen && !strncasecmp (units[i].names[k], p, ulen))
                found = (int)i;
    if (found < 0)
        return errprintf (err, FS_EINVAL, "'%s' is not a CF time unit (UNIT since DATE)", units_text);
    if (units[found].only360 && t->cal != CAL_360)
        return errprintf (err, FS_EINVAL, "'%.*s since' is decoded only in the 360_day calendar",
                          (int)ulen, p);
    t->unit_s = units[found].seconds;
    p += ulen;
    while (isspace ((unsigned char)*p))
        p++;
    if (strncasecmp (p, "since", 5) || !isspace ((unsigned char)p[5]))
        return errprintf (err, FS_EINVAL, "'%s' is not a CF time unit (UNIT since DATE)", units_text);
    p += 5;
    while (isspace ((unsigned char)*p))
        p++;
    long y, mo, d, hh = 0, mi = 0, ss = 0;
    double frac = 0, zone = 0;
    if (!num (&p, 4, &y) || *p++ != '-' || !num (&p, 2, &mo) || *p++ != '-' || !num (&p, 2, &d))
        return errprintf (err, FS_EINVAL, "'%s': the reference date is not YYYY-MM-DD", units_text);
    if (mo < 1 || mo > 12 || d < 1 || d > month_days (t->cal, y, (int)mo))
        return errprintf (err, FS_EINVAL, "'%s': no such date in the %s calendar", units_text,
                          calendar && *calendar ? calendar : "standard");
    if ((*p == 'T' || *p == ' ') && isdigit ((unsigned char)p[1])) {
        p++;
        if (!num (&p, 2, &hh) || *p++ != ':' || !num (&p, 2, &mi))
            return errprintf (err, FS_EINVAL, "'%s': the reference time is not hh:mm[:ss]", units_text);
        if (*p == ':') {
            p++;
            if (!num (&p, 2, &ss))
                return errprintf (err, FS_EINVAL, "'%s': the reference time is not hh:mm[:ss]", units_text);
            if (*p == '.') {
                char *end;
                frac = strtod (p, &end);
                p = end;
            }
        }
        if (hh > 24 || mi > 59 || ss > 60)
            return errprintf (err, FS_EINVAL, "'%s': no such time of day", units_text);
    }
    while (isspace ((unsigned char)*p))
        p++;
    if (*p == 'Z' || !strncasecmp (p, "UTC", 3) || !strncasecmp (p, "GMT", 3)) {
        p += *p == 'Z' ? 1 : 3;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1;
        long zh = 0, zm = 0;
        if (!num (&p, 2, &zh))
            return errprintf (err, FS_EINVAL, "'%s': the time zone is not +hh[:mm]", units_text);
        if (*p == ':')
            p++;
        num (&p, 2, &zm);
        zone = sign * (double)(zh * 3600 + zm * 60);
    }
    while (isspace ((unsigned char)*p))
        p++;
    if (*p)
        return errprintf (err, FS_EINVAL, "'%s': unexpected text after the reference date", units_text);
    t->ref_day = day_number (t->cal, y, (int)mo, (int)d);
    t->ref_s = (double)(hh * 3600 + mi * 60 + ss) + frac - zone;
    return 0;
}

/* Day number and second of the day of v; false when out of range. */
static bool split (const fs_cftime_t *t, double v, int64_t *y, int *m, int *d, long *sod)
{
    double total = t->ref_s + v * t->unit_s;
    if (!isfinite (total) || fabs (total) > 86400.0 * 366 * 20000)
        return false;
    double days = floor (total / 86400);
    long s = lround (total - days * 86400);
    if (s >= 86400) {
        s -= 86400;
        days += 1;
    }
    date_of (t->cal, t->ref_day + (int64_t)days, y, m, d);
    *sod = s;
    return *y >= 0 && *y <= 9999;
}

int cftime_format (const fs_cftime_t *t, double v, char *buf, size_t len)
{
    int64_t y;
    int m, d;
    long s;
    if (!split (t, v, &y, &m, &d, &s))
        return -1;
    if (s == 0)
        snprintf (buf, len, "%04d-%02d-%02d", (int)y, m, d);
    else
        snprintf (buf, len, "%04d-%02d-%02dT%02ld:%02ld:%02ld", (int)y, m, d, s / 3600, s / 60 % 60,
                  s % 60);
    return 0;
}

int cftime_year (const fs_cftime_t *t, double v, int *year)
{
    int64_t y;
    int m, d;
    long s;
    if (!split (t, v, &y, &m, &d, &s))
        return -1;
    *year = (int)y;
    return 0;
}
