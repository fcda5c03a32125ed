/* test_sbuf.c - the string builder: fixed buffers cut and stay failed,
 * growing ones grow, take and free. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/sbuf.h"

static void test_fixed (void **state)
{
    char buf[8];
    struct sbuf b;
    sbuf_init (&b, buf, sizeof (buf));
    assert_string_equal (sbuf_str (&b), "");
    assert_int_equal (sbuf_printf (&b, "%d-%s", 12, "ab"), 0);
    assert_string_equal (buf, "12-ab");
    assert_int_equal (sbuf_puts (&b, "cd"), 0);
    assert_string_equal (buf, "12-abcd");                /* exactly full: 7 + NUL */
    assert_int_equal (sbuf_puts (&b, "e"), -1);
    assert_string_equal (buf, "12-abcd");
    assert_true (b.failed);
    assert_int_equal (sbuf_puts (&b, ""), -1);           /* stays failed */

    sbuf_init (&b, buf, sizeof (buf));
    assert_int_equal (sbuf_printf (&b, "%s", "0123456789"), -1);
    assert_string_equal (buf, "0123456");                /* cut, NUL-terminated */
    assert_int_equal (b.len, 7);
    sbuf_init (&b, buf, sizeof (buf));
    assert_int_equal (sbuf_add (&b, "abcdefghij", 10), -1);
    assert_string_equal (buf, "abcdefg");
    assert_null (sbuf_take (&b));                        /* not heap text */
    sbuf_free (&b);                                      /* no-op */
    assert_string_equal (buf, "abcdefg");
}

static void test_growing (void **state)
{
    struct sbuf b = SBUF_INIT;
    assert_string_equal (sbuf_str (&b), "");
    for (int i = 0; i < 1000; i++)
        assert_int_equal (sbuf_printf (&b, "%d,", i % 10), 0);
    assert_int_equal (b.len, 2000);
    assert_int_equal (strncmp (sbuf_str (&b), "0,1,2,", 6), 0);
    char *s = sbuf_take (&b);
    assert_non_null (s);
    assert_int_equal (strlen (s), 2000);
    free (s);
    assert_int_equal (b.len, 0);
    /* empty growing builder: take gives "" */
    s = sbuf_take (&b);
    assert_string_equal (s, "");
    free (s);
    assert_int_equal (sbuf_add (&b, "x\0y", 3), 0);
    assert_int_equal (b.len, 3);
    sbuf_free (&b);
    sbuf_free (&b);
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_fixed),
        cmocka_unit_test (test_growing),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
