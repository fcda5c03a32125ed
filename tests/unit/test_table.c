/* test_table.c - aligned tables, human-readable numbers, the progress line.
 *
 * The cli/ files are not in a library (they belong to the fedsched
 * executable), so the modules under test are compiled in here. */
#include "../../cli/table.c"
#include "../../cli/progress.c"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Print t into a string (caller frees). */
static char *render (const struct table *t)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream (&buf, &len);
    assert_non_null (f);
    table_print (t, f);
    fclose (f);
    return buf;
}

static void test_alignment (void **state)
{
    const char *h[] = { "name", "cores", "state", "bytes" };
    struct table *t = table_create (4, h);
    assert_non_null (t);
    const char *r1[] = { "cma", "128", "up", "1.5 GiB" };
    const char *r2[] = { "nbs-east", "8", "drained", "12.0 KiB" };
    const char *r3[] = { "x", NULL, "down", "-" };
    table_add (t, r1);
    table_add (t, r2);
    table_add (t, r3);
    char *out = render (t);
    /* Numbers and sizes right-aligned, text left, "-" for a missing cell. */
    const char *want =
        "NAME      CORES  STATE       BYTES\n"
        "cma         128  up        1.5 GiB\n"
        "nbs-east      8  drained  12.0 KiB\n"
        "x             -  down            -\n";
    assert_string_equal (out, want);
    free (out);
    table_destroy (t);
    table_destroy (NULL);
}

static void test_left_when_mixed (void **state)
{
    const char *h[] = { "id", "when" };
    struct table *t = table_create (2, h);
    table_addf (t, "%d\t%s", 7, "2024-05-01 12:00");
    table_addf (t, "%d\t%s", 1234, "yesterday");
    table_addf (t, "%s", "only-one");                 /* missing cells print "-" */
    char *out = render (t);
    assert_string_equal (out,
                         "ID        WHEN\n"
                         "7         2024-05-01 12:00\n"
                         "1234      yesterday\n"
                         "only-one  -\n");
    free (out);
    table_destroy (t);
}

static void test_numeric_forms (void **state)
{
    const char *h[] = { "a", "b" };
    struct table *t = table_create (2, h);
    table_addf (t, "4/8\t97%%");
    table_addf (t, "12/128\t812.3 MB/s");
    table_addf (t, "-3\t3.2s");
    char *out = render (t);
    assert_string_equal (out,
                         "     A           B\n"
                         "   4/8         97%\n"
                         "12/128  812.3 MB/s\n"
                         "    -3        3.2s\n");
    free (out);
    table_destroy (t);
}

static void test_utf8_width_and_tabs (void **state)
{
    const char *h[] = { "unit", "note" };
    struct table *t = table_create (2, h);
    table_addf (t, "%s\t%s", "µs", "micro");
    table_addf (t, "%s\t%s", "ms", "tab\there");       /* the last cell keeps its tabs */
    char *out = render (t);
    assert_string_equal (out,
                         "UNIT  NOTE\n"
                         "µs    micro\n"
                         "ms    tab\there\n");
    free (out);
    table_destroy (t);
}

static void test_empty_table (void **state)
{
    const char *h[] = { "name", "size" };
    struct table *t = table_create (2, h);
    char *out = render (t);
    assert_string_equal (out, "NAME  SIZE\n");
    free (out);
    table_destroy (t);
    assert_null (table_create (0, h));
}

static void test_fmt_bytes (void **state)
{
    char b[32];
    assert_string_equal (fmt_bytes (0, b, sizeof (b)), "0 B");
    assert_string_equal (fmt_bytes (512, b, sizeof (b)), "512 B");
    assert_string_equal (fmt_bytes (1023, b, sizeof (b)), "1023 B");
    assert_string_equal (fmt_bytes (1024, b, sizeof (b)), "1.0 KiB");
    assert_string_equal (fmt_bytes (1536, b, sizeof (b)), "1.5 KiB");
    assert_string_equal (fmt_bytes (1.5 * 1024 * 1024 * 1024, b, sizeof (b)), "1.5 GiB");
    assert_string_equal (fmt_bytes (1024.0 * 1024 - 1, b, sizeof (b)), "1.0 MiB");
    assert_string_equal (fmt_bytes (3.0 * 1024 * 1024 * 1024 * 1024, b, sizeof (b)), "3.0 TiB");
    assert_string_equal (fmt_bytes (-1, b, sizeof (b)), "-");
    assert_string_equal (fmt_bytes (NAN, b, sizeof (b)), "-");
}

static void test_fmt_rate (void **state)
{
    char b[32];
    assert_string_equal (fmt_rate (0, b, sizeof (b)), "0 B/s");
    assert_string_equal (fmt_rate (999, b, sizeof (b)), "999 B/s");
    assert_string_equal (fmt_rate (1000, b, sizeof (b)), "1.0 kB/s");
    assert_string_equal (fmt_rate (812.3e6, b, sizeof (b)), "812.3 MB/s");
    assert_string_equal (fmt_rate (999.99e6, b, sizeof (b)), "1.0 GB/s");
    assert_string_equal (fmt_rate (1.25e9, b, sizeof (b)), "1.2 GB/s");
    assert_string_equal (fmt_rate (INFINITY, b, sizeof (b)), "-");
}

static void test_fmt_duration (void **state)
{
    char b[32];
    assert_string_equal (fmt_duration (0, b, sizeof (b)), "0s");
    assert_string_equal (fmt_duration (0.0042, b, sizeof (b)), "4.2ms");
    assert_string_equal (fmt_duration (0.25, b, sizeof (b)), "250ms");
    assert_string_equal (fmt_duration (0.9999, b, sizeof (b)), "1s");
    assert_string_equal (fmt_duration (3, b, sizeof (b)), "3s");
    assert_string_equal (fmt_duration (3.2, b, sizeof (b)), "3.2s");
    assert_string_equal (fmt_duration (42.4, b, sizeof (b)), "42s");
    assert_string_equal (fmt_duration (59.97, b, sizeof (b)), "1m00s");
    assert_string_equal (fmt_duration (307, b, sizeof (b)), "5m07s");
    assert_string_equal (fmt_duration (3720, b, sizeof (b)), "1h02m");
    assert_string_equal (fmt_duration (2 * 86400 + 3 * 3600, b, sizeof (b)), "2d03h");
    assert_string_equal (fmt_duration (-1, b, sizeof (b)), "-");
    assert_string_equal (fmt_duration (1e300, b, sizeof (b)), "11574074074d01h");
}

/* The progress line, forced onto a non-TTY stream. */
static void test_progress_line (void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream (&buf, &len);
    assert_null (progress_create (f, "x", 10, false));      /* not a TTY: nothing */
    struct progress *p = progress_create (f, "get era5", 2000, true);
    assert_non_null (p);
    progress_update (p, 840);
    progress_finish (p, true);
    progress_finish (p, true);                              /* once only */
    progress_update (p, 2000);                              /* after finish: ignored */
    progress_destroy (p);
    progress_destroy (NULL);
    progress_update (NULL, 1);
    progress_finish (NULL, true);
    fclose (f);
    /* First draw: bar 42% full; the line ends with a newline after finish. */
    assert_non_null (strstr (buf, "\rget era5 ["));
    assert_non_null (strstr (buf, "]  42%  840 B / 2.0 KiB"));
    char *last = strrchr (buf, '\r');
    assert_non_null (last);
    assert_non_null (strstr (last, "  42%"));
    assert_non_null (strstr (last, "  in "));
    assert_int_equal (buf[len - 1], '\n');
    assert_non_null (strstr (last, "#-"));                  /* the bar shows what is missing */
    free (buf);
}

static void test_progress_unknown_total_and_failure (void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream (&buf, &len);
    struct progress *p = progress_create (f, "stream", 0, true);
    progress_update (p, 3 * 1024 * 1024);
    progress_finish (p, false);
    progress_destroy (p);
    fclose (f);
    assert_non_null (strstr (buf, "\rstream  3.0 MiB"));
    assert_null (strchr (buf, '['));                        /* no bar without a total */
    assert_non_null (strstr (buf, "FAILED\n"));
    free (buf);
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_alignment),
        cmocka_unit_test (test_left_when_mixed),
        cmocka_unit_test (test_numeric_forms),
        cmocka_unit_test (test_utf8_width_and_tabs),
        cmocka_unit_test (test_empty_table),
        cmocka_unit_test (test_fmt_bytes),
        cmocka_unit_test (test_fmt_rate),
        cmocka_unit_test (test_fmt_duration),
        cmocka_unit_test (test_progress_line),
        cmocka_unit_test (test_progress_unknown_total_and_failure),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
