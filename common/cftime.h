/* cftime.h - CF-convention time coordinates: "UNIT since REFERENCE" units and
 * the CF calendars, decoded to dates (CF Conventions 1.10, section 4.4).
 *
 * A time value v in units "days since 1850-01-01" with calendar C is the date
 * 1850-01-01 plus v days in calendar C.  Units: days (d, day), hours (h, hr,
 * hour), minutes (min, minute), seconds (s, sec, second), milliseconds (ms),
 * microseconds (us), weeks (week), singular or plural; months and years only
 * in the 360_day calendar (30 and 360 days; elsewhere their length is
 * ambiguous and they are not decoded).  The reference is YYYY-M-D with an
 * optional time ("T" or space, hh:mm[:ss[.f]]) and zone (Z, UTC, +hh[:mm]).
 * Calendars: standard (= gregorian: Julian before 1582-10-15, Gregorian from
 * then on), proleptic_gregorian, julian, noleap (365_day), all_leap (366_day),
 * 360_day; a missing calendar is standard.  Pure arithmetic, no time zone
 * database, no locale.
 */
#ifndef FS_CFTIME_H
#define FS_CFTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

typedef enum {
    CAL_STANDARD, CAL_PROLEPTIC, CAL_JULIAN, CAL_NOLEAP, CAL_ALLLEAP, CAL_360
} fs_calendar_t;

typedef struct {
    fs_calendar_t cal;
    double unit_s;              /* seconds per unit */
    int64_t ref_day;            /* the reference date as a day number of cal */
    double ref_s;               /* its time of day (seconds, zone applied) */
} fs_cftime_t;

/* Parse units and calendar (NULL or "" for standard).  FS_EINVAL with text
 * when they are not a CF time (the caller then leaves the values as numbers). */
int cftime_parse (const char *units, const char *calendar, fs_cftime_t *t, fs_error_t *err);

/* The date of value v: "YYYY-MM-DD" at midnight, else "YYYY-MM-DDThh:mm:ss"
 * (rounded to the second).  -1 when v is not finite or the year leaves
 * 0..9999. */
int cftime_format (const fs_cftime_t *t, double v, char *buf, size_t len);

/* The year of value v (for indexing the years a time axis covers); -1 as above. */
int cftime_year (const fs_cftime_t *t, double v, int *year);

#endif
