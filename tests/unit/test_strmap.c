/* test_strmap.c - the string map: put, replace, get of absent keys, byte
 * keys with NULs, growth through many keys, and keys copied (not borrowed). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "common/strmap.h"

static void test_put_get (void **state)
{
    struct strmap *m = strmap_create (0);
    assert_non_null (m);
    assert_int_equal (strmap_get (m, "a"), -1);
    assert_int_equal (strmap_put (m, "a", 7), 0);
    assert_int_equal (strmap_put (m, "", 3), 0);         /* the empty key is a key */
    assert_int_equal (strmap_get (m, "a"), 7);
    assert_int_equal (strmap_get (m, ""), 3);
    assert_int_equal (strmap_get (m, "b"), -1);
    assert_int_equal (strmap_get (m, "aa"), -1);
    assert_int_equal (strmap_count (m), 2);
    /* replacing keeps one entry */
    assert_int_equal (strmap_put (m, "a", 9), 0);
    assert_int_equal (strmap_get (m, "a"), 9);
    assert_int_equal (strmap_count (m), 2);
    /* negative values are told apart from absence by strmap_find */
    int64_t v = 0;
    assert_int_equal (strmap_put (m, "neg", -5), 0);
    assert_int_equal (strmap_find (m, "neg", 3, &v), 1);
    assert_int_equal (v, -5);
    assert_int_equal (strmap_find (m, "nope", 4, &v), 0);
    strmap_destroy (m);
    strmap_destroy (NULL);
}

static void test_keys_copied (void **state)
{
    struct strmap *m = strmap_create (4);
    char key[16];
    snprintf (key, sizeof (key), "site1");
    assert_int_equal (strmap_put (m, key, 1), 0);
    snprintf (key, sizeof (key), "site2");              /* the caller's buffer changes */
    assert_int_equal (strmap_get (m, "site1"), 1);
    assert_int_equal (strmap_get (m, "site2"), -1);
    strmap_destroy (m);
}

static void test_byte_keys (void **state)
{
    struct strmap *m = strmap_create (0);
    const char a[] = { 'x', 0, 'y' }, b[] = { 'x', 0, 'z' };
    assert_int_equal (strmap_putn (m, a, sizeof (a), 1), 0);
    assert_int_equal (strmap_putn (m, b, sizeof (b), 2), 0);
    assert_int_equal (strmap_getn (m, a, sizeof (a)), 1);
    assert_int_equal (strmap_getn (m, b, sizeof (b)), 2);
    assert_int_equal (strmap_get (m, "x"), -1);          /* "x" is a shorter key */
    assert_int_equal (strmap_putn (m, "x", 1, 3), 0);
    assert_int_equal (strmap_get (m, "x"), 3);           /* a string and its bytes: one key */
    assert_int_equal (strmap_count (m), 3);
    strmap_destroy (m);
}

static void test_many (void **state)
{
    struct strmap *m = strmap_create (0);
    char key[32];
    for (int i = 0; i < 100000; i++) {
        snprintf (key, sizeof (key), "k%d", i);
        assert_int_equal (strmap_put (m, key, i), 0);
    }
    assert_int_equal (strmap_count (m), 100000);
    for (int i = 0; i < 100000; i++) {
        snprintf (key, sizeof (key), "k%d", i);
        if (strmap_get (m, key) != i)
            fail_msg ("%s: %lld", key, (long long)strmap_get (m, key));
    }
    assert_int_equal (strmap_get (m, "k100000"), -1);
    strmap_destroy (m);
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_put_get),
        cmocka_unit_test (test_keys_copied),
        cmocka_unit_test (test_byte_keys),
        cmocka_unit_test (test_many),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
