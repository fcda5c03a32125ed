/* test_registry.c - the scheduler's site registry (scheduler/registry.c):
 * creation and lookup by name, sorted order, lookup by routing id, and
 * expiry of silent sites. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/log.h"
#include "scheduler/registry.h"

static void set_rid (struct site *s, const char *rid)
{
    s->ridlen = strlen (rid);
    memcpy (s->rid, rid, s->ridlen);
}

static void test_empty (void **state)
{
    (void)state;
    struct registry *r = registry_create ();
    assert_non_null (r);
    assert_int_equal (registry_count (r), 0);
    assert_null (registry_at (r, 0));
    assert_null (registry_get (r, "a", false));
    assert_null (registry_by_rid (r, "x", 1));
    assert_int_equal (registry_expire (r, 1e9, 10), 0);
    registry_destroy (r);
    registry_destroy (NULL);
}

static void test_create_and_get (void **state)
{
    (void)state;
    struct registry *r = registry_create ();
    struct site *b = registry_get (r, "beta", true);
    assert_non_null (b);
    assert_string_equal (b->name, "beta");
    /* a new site starts zeroed: down, not drained, no rid, never heard from */
    assert_false (b->up);
    assert_false (b->drained);
    assert_int_equal (b->ridlen, 0);
    assert_true (b->last_heartbeat == 0);
    assert_int_equal (b->cores, 0);
    assert_string_equal (b->region, "");
    assert_string_equal (b->reason, "");

    b->cores = 8;
    snprintf (b->region, sizeof (b->region), "eu");
    /* found again, the same object, with or without create */
    assert_ptr_equal (registry_get (r, "beta", false), b);
    assert_ptr_equal (registry_get (r, "beta", true), b);
    assert_int_equal (registry_count (r), 1);
    assert_int_equal (registry_get (r, "beta", false)->cores, 8);

    /* lookups are exact */
    assert_null (registry_get (r, "bet", false));
    assert_null (registry_get (r, "beta2", false));
    assert_null (registry_get (r, "BETA", false));
    assert_int_equal (registry_count (r), 1);
    registry_destroy (r);
}

static void test_sorted (void **state)
{
    (void)state;
    struct registry *r = registry_create ();
    const char *names[] = { "mid", "zulu", "alpha", "beta", "Alpha", "m", "mid-2", "a_1" };
    const size_t n = sizeof (names) / sizeof (names[0]);
    struct site *ptrs[8];
    for (size_t i = 0; i < n; i++)
        ptrs[i] = registry_get (r, names[i], true);
    assert_int_equal (registry_count (r), n);
    /* sorted by strcmp whatever the order of creation */
    const char *want[] = { "Alpha", "a_1", "alpha", "beta", "m", "mid", "mid-2", "zulu" };
    for (size_t i = 0; i < n; i++)
        assert_string_equal (registry_at (r, i)->name, want[i]);
    assert_null (registry_at (r, n));
    /* pointers stay valid as others are inserted before them */
    for (size_t i = 0; i < n; i++)
        assert_ptr_equal (registry_get (r, names[i], false), ptrs[i]);
    registry_destroy (r);
}

/* More sites than the first allocation (16), created in reverse order. */
static void test_many (void **state)
{
    (void)state;
    struct registry *r = registry_create ();
    enum { N = 300 };
    for (int i = N - 1; i >= 0; i--) {
        char name[16];
        snprintf (name, sizeof (name), "site%04d", i);
        struct site *s = registry_get (r, name, true);
        assert_non_null (s);
        s->cores = i;
    }
    assert_int_equal (registry_count (r), N);
    for (int i = 0; i < N; i++) {
        struct site *s = registry_at (r, (size_t)i);
        char name[16];
        snprintf (name, sizeof (name), "site%04d", i);
        assert_string_equal (s->name, name);
        assert_int_equal (s->cores, i);
        assert_ptr_equal (registry_get (r, name, false), s);
    }
    registry_destroy (r);
}

static void test_by_rid (void **state)
{
    (void)state;
    struct registry *r = registry_create ();
    struct site *a = registry_get (r, "a", true);
    struct site *b = registry_get (r, "b", true);
    struct site *c = registry_get (r, "c", true);
    set_rid (a, "rid-a");
    set_rid (b, "rid-b");
    set_rid (c, "rid-c");
    a->up = b->up = true;
    c->up = false;           /* a down site is never found by its old rid */

    assert_ptr_equal (registry_by_rid (r, "rid-a", 5), a);
    assert_ptr_equal (registry_by_rid (r, "rid-b", 5), b);
    assert_null (registry_by_rid (r, "rid-c", 5));
    assert_null (registry_by_rid (r, "rid-", 4));       /* a prefix is not the rid */
    assert_null (registry_by_rid (r, "rid-a\0", 6));    /* nor a longer one */
    assert_null (registry_by_rid (r, "rid-x", 5));

    /* binary rids with zero bytes */
    const unsigned char bin[5] = { 0, 0x80, 0, 0xff, 1 };
    memcpy (c->rid, bin, sizeof (bin));
    c->ridlen = sizeof (bin);
    c->up = true;
    assert_ptr_equal (registry_by_rid (r, bin, sizeof (bin)), c);
    const unsigned char other[5] = { 0, 0x80, 0, 0xff, 2 };
    assert_null (registry_by_rid (r, other, sizeof (other)));

    /* a reconnect with a new rid replaces the old one */
    set_rid (a, "rid-a2");
    assert_null (registry_by_rid (r, "rid-a", 5));
    assert_ptr_equal (registry_by_rid (r, "rid-a2", 6), a);
    registry_destroy (r);
}

static void test_expire (void **state)
{
    (void)state;
    struct registry *r = registry_create ();
    struct site *fresh = registry_get (r, "fresh", true);
    struct site *silent = registry_get (r, "silent", true);
    struct site *edge = registry_get (r, "edge", true);
    struct site *down = registry_get (r, "down", true);
    struct site *drained = registry_get (r, "drained", true);
    const double now = 10000, timeout = 10;

    fresh->up = true;
    fresh->last_heartbeat = now - 1;
    set_rid (fresh, "f");
    silent->up = true;
    silent->last_heartbeat = now - 10.5;
    set_rid (silent, "s");
    edge->up = true;
    edge->last_heartbeat = now - timeout;       /* exactly the timeout: still up */
    set_rid (edge, "e");
    down->up = false;
    down->last_heartbeat = now - 1000;
    set_rid (down, "d");
    drained->up = true;
    drained->drained = true;
    snprintf (drained->reason, sizeof (drained->reason), "maintenance");
    drained->last_heartbeat = now - 50;
    set_rid (drained, "x");

    assert_int_equal (registry_expire (r, now, timeout), 2);
    assert_true (fresh->up);
    assert_int_equal (fresh->ridlen, 1);
    assert_true (edge->up);
    assert_int_equal (edge->ridlen, 1);
    assert_false (silent->up);
    assert_int_equal (silent->ridlen, 0);
    /* a drained site that goes silent is down too, and stays drained */
    assert_false (drained->up);
    assert_int_equal (drained->ridlen, 0);
    assert_true (drained->drained);
    assert_string_equal (drained->reason, "maintenance");
    /* a site already down is left alone (its rid is not touched) */
    assert_false (down->up);
    assert_int_equal (down->ridlen, 1);
    /* heartbeat times are kept */
    assert_true (silent->last_heartbeat == now - 10.5);

    assert_null (registry_by_rid (r, "s", 1));
    assert_ptr_equal (registry_by_rid (r, "f", 1), fresh);

    /* a second pass at the same time changes nothing */
    assert_int_equal (registry_expire (r, now, timeout), 0);
    /* later, the rest go silent too */
    assert_int_equal (registry_expire (r, now + 20, timeout), 2);
    assert_false (fresh->up);
    assert_false (edge->up);
    assert_int_equal (registry_expire (r, now + 1e6, timeout), 0);

    /* a site up but never heard from (last_heartbeat 0) expires at once */
    struct site *nohb = registry_get (r, "nohb", true);
    nohb->up = true;
    assert_int_equal (registry_expire (r, now, timeout), 1);
    assert_false (nohb->up);
    registry_destroy (r);
}

int main (void)
{
    log_init ("test_registry", LOG_ERR);    /* site.down warnings are expected */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_empty),
        cmocka_unit_test (test_create_and_get),
        cmocka_unit_test (test_sorted),
        cmocka_unit_test (test_many),
        cmocka_unit_test (test_by_rid),
        cmocka_unit_test (test_expire),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
