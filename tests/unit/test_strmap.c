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

/* Removal keeps every other key findable (runs of colliding keys included:
 * a small map, many keys) and the map reusable; the arena is compacted. */
static void test_remove (void **state)
{
    struct strmap *m = strmap_create (0);
    char key[32];
    const int n = 20000;
    for (int i = 0; i < n; i++) {
        snprintf (key, sizeof (key), "task-%d", i);
        assert_int_equal (strmap_put (m, key, i), 0);
    }
    assert_int_equal (strmap_remove (m, "nope", 4), 0);
    /* remove every key but those divisible by 7, checking the rest each 1000 */
    for (int i = 0; i < n; i++) {
        if (i % 7 == 0)
            continue;
        snprintf (key, sizeof (key), "task-%d", i);
        assert_int_equal (strmap_remove (m, key, strlen (key)), 1);
        assert_int_equal (strmap_get (m, key), -1);
        assert_int_equal (strmap_remove (m, key, strlen (key)), 0);
        if (i % 1000 == 1)
            for (int k = 0; k < n; k += 7) {
                snprintf (key, sizeof (key), "task-%d", k);
                if (strmap_get (m, key) != k)
                    fail_msg ("after removing %d: %s is %lld", i, key,
                              (long long)strmap_get (m, key));
            }
    }
    assert_int_equal (strmap_count (m), (n + 6) / 7);
    for (int k = 0; k < n; k++) {
        snprintf (key, sizeof (key), "task-%d", k);
        assert_int_equal (strmap_get (m, key), k % 7 ? -1 : k);
    }
    /* keys come and go many times over: still consistent */
    for (int round = 0; round < 50; round++)
        for (int i = 0; i < 1000; i++) {
            snprintf (key, sizeof (key), "r%d-%d", round, i);
            assert_int_equal (strmap_put (m, key, i), 0);
            if (round > 0) {
                snprintf (key, sizeof (key), "r%d-%d", round - 1, i);
                assert_int_equal (strmap_remove (m, key, strlen (key)), 1);
            }
        }
    assert_int_equal (strmap_count (m), (n + 6) / 7 + 1000);
    assert_int_equal (strmap_get (m, "r49-999"), 999);
    assert_int_equal (strmap_get (m, "r48-999"), -1);
    assert_int_equal (strmap_get (m, "task-14"), 14);
    strmap_destroy (m);
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_put_get),
        cmocka_unit_test (test_keys_copied),
        cmocka_unit_test (test_byte_keys),
        cmocka_unit_test (test_many),
        cmocka_unit_test (test_remove),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
