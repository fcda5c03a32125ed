/* test_units.c - durations, rates and sizes (common/units.h): what is
 * accepted and its value, and what is refused with which message. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/units.h"

static fs_error_t err;

static void dur_ok (const char *s, double want)
{
    double v = -1;
    if (parse_duration (s, &v, &err) < 0 || fabs (v - want) > 1e-9 * (want > 1 ? want : 1))
        fail_msg ("duration '%s': got %g (%s), want %g", s, v, err.text, want);
}

static void dur_bad (const char *s, const char *needle)
{
    double v;
    memset (&err, 0, sizeof (err));
    if (parse_duration (s, &v, &err) != -1 || err.code != FS_EINVAL || !strstr (err.text, needle))
        fail_msg ("duration '%s': want error '%s', got '%s'", s, needle, err.text);
}

static void test_durations (void **state)
{
    dur_ok ("90", 90);
    dur_ok ("90s", 90);
    dur_ok ("0", 0);
    dur_ok ("10m", 600);
    dur_ok ("10min", 600);
    dur_ok ("2h", 7200);
    dur_ok ("1.5h", 5400);
    dur_ok ("1d", 86400);
    dur_ok ("250ms", 0.25);
    dur_ok ("500us", 0.0005);
    dur_ok (".5s", 0.5);
    dur_ok ("10 m", 600);
    dur_ok ("01:30:00", 5400);
    dur_ok ("100:00:00", 360000);
    dur_ok ("05:30", 330);
    dur_ok ("0:00:01.5", 1.5);
    dur_bad ("-5s", "must not be negative");
    dur_bad ("-1:00", "must not be negative");
    dur_bad ("", "empty");
    dur_bad ("nan", "expected a number with a unit");
    dur_bad ("inf", "expected a number with a unit");
    dur_bad ("5x", "invalid duration '5x'");
    dur_bad ("5 s s", "invalid duration");
    dur_bad ("1e3s", "invalid duration");
    dur_bad ("0x10", "invalid duration");
    dur_bad (" 5s", "invalid duration");
    dur_bad ("5s ", "invalid duration");
    dur_bad ("1:60", "below 60");
    dur_bad ("1:60:00", "below 60");
    dur_bad ("1:2:3:4", "invalid duration");
    dur_bad ("1::3", "invalid duration");
    dur_bad ("1.5:00", "invalid duration");
    dur_bad (":30", "invalid duration");
    dur_bad ("1:", "invalid duration");
    dur_bad ("99999999999d", "too large");
    char huge[400];
    memset (huge, '9', 399);
    huge[399] = '\0';
    dur_bad (huge, "too large");
}

static void rate_ok (const char *s, double want)
{
    double v = -1;
    if (parse_rate (s, &v, &err) < 0 || fabs (v - want) > 1e-9 * want)
        fail_msg ("rate '%s': got %g (%s), want %g", s, v, err.text, want);
}

static void rate_bad (const char *s, const char *needle)
{
    double v;
    memset (&err, 0, sizeof (err));
    if (parse_rate (s, &v, &err) != -1 || err.code != FS_EINVAL || !strstr (err.text, needle))
        fail_msg ("rate '%s': want error '%s', got '%s'", s, needle, err.text);
}

static void test_rates (void **state)
{
    rate_ok ("100MB/s", 1e8);
    rate_ok ("1.5GB/s", 1.5e9);
    rate_ok ("10Gbit/s", 1.25e9);
    rate_ok ("800Mbit/s", 1e8);
    rate_ok ("1GiB/s", 1073741824.0);
    rate_ok ("512KiB/s", 524288.0);
    rate_ok ("10kB/s", 1e4);
    rate_ok ("10KB/s", 1e4);
    rate_ok ("100 MB/s", 1e8);
    rate_ok ("1000B/s", 1000);
    rate_ok ("8bit/s", 1);
    rate_ok ("1Gibit/s", 134217728.0);
    rate_ok ("100Mbps", 12.5e6);
    rate_ok ("1Gbps", 1.25e8);
    rate_ok ("1000", 1000);
    rate_bad ("100MB", "invalid rate '100MB'");
    rate_bad ("-1MB/s", "must not be negative");
    rate_bad ("0MB/s", "must be positive");
    rate_bad ("0", "must be positive");
    rate_bad ("nan", "invalid rate");
    rate_bad ("infGB/s", "invalid rate");
    rate_bad ("10 gbit/s", "invalid rate");
    rate_bad ("10mb/s", "invalid rate");
    rate_bad ("10Gb/s", "invalid rate");
    rate_bad ("fastMB/s", "invalid rate");
    rate_bad ("1MB/h", "invalid rate");
    rate_bad ("/s", "invalid rate");
    rate_bad ("", "empty");
    rate_bad ("99999999999999999999999EB/s", "too large");
}

static void size_ok (const char *s, uint64_t want)
{
    uint64_t v = 0;
    if (parse_size (s, &v, &err) < 0 || v != want)
        fail_msg ("size '%s': got %llu (%s), want %llu", s, (unsigned long long) v, err.text,
                  (unsigned long long) want);
}

static void size_bad (const char *s, const char *needle)
{
    uint64_t v;
    memset (&err, 0, sizeof (err));
    if (parse_size (s, &v, &err) != -1 || err.code != FS_EINVAL || !strstr (err.text, needle))
        fail_msg ("size '%s': want error '%s', got '%s'", s, needle, err.text);
}

static void test_sizes (void **state)
{
    size_ok ("4MiB", 4194304);
    size_ok ("1GB", 1000000000);
    size_ok ("512", 512);
    size_ok ("512B", 512);
    size_ok ("0", 0);
    size_ok ("64KiB", 65536);
    size_ok ("64kB", 64000);
    size_ok ("1.5KiB", 1536);
    size_ok ("2 TiB", 2199023255552ULL);
    size_ok ("1EiB", 1152921504606846976ULL);
    size_ok ("18446744073709551615", UINT64_MAX);
    size_ok ("0.5MB", 500000);
    size_bad ("18446744073709551616", "too large");
    size_bad ("16EiB", "too large");
    size_bad ("99999999999999999999.5", "too large");
    size_bad ("1.5", "whole number of bytes");
    size_bad ("1.5B", "whole number of bytes");
    size_bad ("-1", "must not be negative");
    size_bad ("4mb", "invalid size '4mb'");
    size_bad ("4M", "invalid size");
    size_bad ("4MiB/s", "invalid size");
    size_bad ("nan", "invalid size");
    size_bad ("", "empty");
    size_bad ("1e6", "invalid size");
}

static void test_quote_in_messages (void **state)
{
    uint64_t v;
    /* what the user wrote comes back quoted: control bytes escaped, long text cut */
    assert_int_equal (parse_size ("4\x01MB", &v, &err), -1);
    assert_non_null (strstr (err.text, "invalid size '4\\x01MB'"));
    char long_[300];
    memset (long_, 'x', sizeof (long_) - 1);
    long_[sizeof (long_) - 1] = '\0';
    long_[0] = '1';
    assert_int_equal (parse_size (long_, &v, &err), -1);
    assert_non_null (strstr (err.text, "...'"));
    assert_true (strlen (err.text) < 300);
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_durations),
        cmocka_unit_test (test_rates),
        cmocka_unit_test (test_sizes),
        cmocka_unit_test (test_quote_in_messages),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
