/* test_cftime.c - CF time units and calendars (common/cftime.c): dates checked
 * against Python's datetime (proleptic Gregorian) and by hand for the other
 * calendars; units, reference dates and zones that are not CF are refused. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/cftime.h"

static void expect (const char *units, const char *cal, double v, const char *want)
{
    fs_cftime_t t;
    fs_error_t err = { 0 };
    char buf[64];
    if (cftime_parse (units, cal, &t, &err) < 0)
        fail_msg ("cftime_parse '%s' '%s': %s", units, cal ? cal : "", err.text);
    assert_int_equal (cftime_format (&t, v, buf, sizeof (buf)), 0);
    if (strcmp (buf, want))
        fail_msg ("%g %s (%s): got %s, want %s", v, units, cal ? cal : "standard", buf, want);
}

static void refused (const char *units, const char *cal)
{
    fs_cftime_t t;
    fs_error_t err = { 0 };
    if (cftime_parse (units, cal, &t, &err) == 0)
        fail_msg ("'%s' '%s' was accepted", units, cal ? cal : "");
    assert_int_equal (err.code, FS_EINVAL);
    assert_true (strlen (err.text) > 10);
}

static void test_standard (void **state)
{
    (void)state;
    expect ("days since 1850-01-01", NULL, 0, "1850-01-01");
    expect ("days since 1850-01-01", "standard", 58453, "2010-01-15");
    expect ("days since 1850-01-01", "gregorian", 62074, "2019-12-15");
    expect ("days since 1850-01-01", "", 0.5, "1850-01-01T12:00:00");
    expect ("days since 1850-01-01", NULL, -1, "1849-12-31");
    expect ("days since 1850-01-01 00:00:00", NULL, 54750, "1999-11-26");
    expect ("seconds since 1970-01-01T00:00:00Z", NULL, 1700000000, "2023-11-14T22:13:20");
    expect ("hours since 2000-01-01 06:00", NULL, 18, "2000-01-02");
    expect ("minutes since 2000-01-01", NULL, 90, "2000-01-01T01:30:00");
    expect ("days since 2000-1-1", NULL, 59, "2000-02-29");
    expect ("weeks since 2000-01-01", NULL, 1, "2000-01-08");
    expect ("Days Since 2000-01-01", NULL, 1, "2000-01-02");
    /* The calendar reform: 1582-10-04 (Julian) is followed by 1582-10-15. */
    expect ("days since 1582-10-04", "standard", 1, "1582-10-15");
    expect ("days since 1582-10-15", "standard", -1, "1582-10-04");
    /* A zone moves the reference to UTC. */
    expect ("hours since 2000-01-01 00:00 +06:00", NULL, 0, "1999-12-31T18:00:00");
    expect ("hours since 2000-01-01 00:00 UTC", NULL, 1, "2000-01-01T01:00:00");
}

static void test_other_calendars (void **state)
{
    (void)state;
    expect ("days since 1582-10-15", "proleptic_gregorian", -1, "1582-10-14");
    expect ("days since 2000-02-28", "noleap", 1, "2000-03-01");
    expect ("days since 2000-02-28", "365_day", 365, "2001-02-28");
    expect ("hours since 2000-01-01 00:00:00", "noleap", 24 * 365 + 12, "2001-01-01T12:00:00");
    expect ("hours since 2000-01-01 00:00:00", "noleap", 24 * (365 + 364) + 12, "2001-12-31T12:00:00");
    expect ("days since 2001-02-28", "all_leap", 1, "2001-02-29");
    expect ("days since 2001-01-01", "366_day", 366, "2002-01-01");
    expect ("days since 1850-1-1", "360_day", 360 * 160, "2010-01-01");
    expect ("days since 2000-02-30", "360_day", 1, "2000-03-01");
    expect ("months since 2000-01-01", "360_day", 13, "2001-02-01");
    expect ("years since 2000-01-01", "360_day", 2, "2002-01-01");
    expect ("days since 1900-02-28", "julian", 1, "1900-02-29");
    expect ("days since 1900-02-28", "proleptic_gregorian", 1, "1900-03-01");
    fs_cftime_t t;
    fs_error_t err;
    int y = 0;
    assert_int_equal (cftime_parse ("days since 2010-06-30", "360_day", &t, &err), 0);
    assert_int_equal (cftime_year (&t, 200, &y), 0);
    assert_int_equal (y, 2011);
}

static void test_refused (void **state)
{
    (void)state;
    refused ("K", NULL);
    refused ("days", NULL);
    refused ("days after 2000-01-01", NULL);
    refused ("fortnights since 2000-01-01", NULL);
    refused ("days since", NULL);
    refused ("days since yesterday", NULL);
    refused ("days since 2000-13-01", NULL);
    refused ("days since 2001-02-29", NULL);
    refused ("days since 2000-02-30", "standard");
    refused ("days since 2000-01-01 25:00", NULL);
    refused ("days since 2000-01-01 junk", NULL);
    refused ("days since 2000-01-01", "martian");
    refused ("months since 2000-01-01", NULL);          /* ambiguous outside 360_day */
    refused ("years since 2000-01-01", "noleap");
}

static void test_out_of_range (void **state)
{
    (void)state;
    fs_cftime_t t;
    fs_error_t err;
    char buf[64];
    assert_int_equal (cftime_parse ("days since 2000-01-01", NULL, &t, &err), 0);
    assert_int_equal (cftime_format (&t, NAN, buf, sizeof (buf)), -1);
    assert_int_equal (cftime_format (&t, INFINITY, buf, sizeof (buf)), -1);
    assert_int_equal (cftime_format (&t, 1e12, buf, sizeof (buf)), -1);
    assert_int_equal (cftime_format (&t, 365.0 * 9000, buf, sizeof (buf)), -1);
    assert_int_equal (cftime_format (&t, -365.0 * 2100, buf, sizeof (buf)), -1);
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_standard),
        cmocka_unit_test (test_other_calendars),
        cmocka_unit_test (test_refused),
        cmocka_unit_test (test_out_of_range),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
