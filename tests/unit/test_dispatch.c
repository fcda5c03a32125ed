/* test_dispatch.c - the dispatcher: runtime estimates (prior, per command,
 * federation-wide fallback, scaling by input bytes, the walltime cap,
 * weighting, restore), the wait at a busy site, and start / queue / hold with
 * FIFO queues that nobody overtakes, forgetting, closed sites and reused
 * records. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>

#include "scheduler/dispatch.h"

#define NEAR(a, b) assert_true (fabs ((double)(a) - (double)(b)) < 1e-9 * (1 + fabs ((double)(b))))

static void test_estimates (void **state)
{
    struct dispatch *d = dispatch_create ();
    assert_non_null (d);
    /* before any measurement: the prior, capped by the walltime */
    NEAR (dispatch_runtime (d, "regrid", 1e6, 3600), DISPATCH_PRIOR_S);
    NEAR (dispatch_runtime (d, "regrid", 1e6, 20), 20);
    NEAR (dispatch_runtime (d, "regrid", 1e6, 0), DISPATCH_PRIOR_S);   /* 0: no walltime */

    /* one sample: taken as is; at the measured bytes the estimate is the runtime */
    assert_int_equal (dispatch_observe (d, "regrid", 1e6, 10), 0);
    NEAR (dispatch_runtime (d, "regrid", 1e6, 3600), 10);
    /* half fixed, half proportional to the bytes */
    NEAR (dispatch_runtime (d, "regrid", 3e6, 3600), 10 * (1 + 3.0) / 2);
    NEAR (dispatch_runtime (d, "regrid", 0, 3600), 5);
    NEAR (dispatch_runtime (d, "regrid", 1e9, 100), 100);             /* the cap */
    /* another command falls back on the federation-wide average */
    NEAR (dispatch_runtime (d, "anomaly", 2e6, 3600), 10 * (1 + 2.0) / 2);

    /* weighted averages: alpha for each new sample */
    assert_int_equal (dispatch_observe (d, "regrid", 3e6, 20), 0);
    double r = 10 + DISPATCH_ALPHA * (20 - 10), b = 1e6 + DISPATCH_ALPHA * (3e6 - 1e6);
    NEAR (dispatch_runtime (d, "regrid", b, 3600), r);
    NEAR (dispatch_runtime (d, "regrid", 2 * b, 3600), r * 1.5);
    struct dispatch_stats st;
    assert_int_equal (dispatch_stats_of (d, "regrid", &st), 1);
    NEAR (st.runtime_s, r);
    NEAR (st.bytes, b);
    assert_int_equal (st.samples, 2);
    assert_int_equal (dispatch_stats_of (d, "", &st), 1);              /* federation-wide */
    assert_int_equal (st.samples, 2);
    assert_int_equal (dispatch_stats_of (d, "anomaly", &st), 0);

    /* a command measured without input bytes: its runtime, whatever it reads */
    assert_int_equal (dispatch_observe (d, "sh -c true", 0, 2), 0);
    NEAR (dispatch_runtime (d, "sh -c true", 5e9, 3600), 2);
    /* nonsense samples are ignored */
    assert_int_equal (dispatch_observe (d, "bad", 1, -1), 0);
    assert_int_equal (dispatch_observe (d, "bad", 1, NAN), 0);
    assert_int_equal (dispatch_stats_of (d, "bad", &st), 0);
    /* never zero */
    assert_int_equal (dispatch_observe (d, "instant", 0, 0), 0);
    assert_true (dispatch_runtime (d, "instant", 0, 3600) > 0);
    dispatch_destroy (d);

    /* restore: what a restarted scheduler read back from its store */
    d = dispatch_create ();
    struct dispatch_stats kept = { 30, 4e6, 7 }, all = { 12, 1e6, 40 }, bad = { 1, 1, 0 };
    assert_int_equal (dispatch_restore (d, "regrid", &kept), 0);
    assert_int_equal (dispatch_restore (d, "", &all), 0);
    assert_int_equal (dispatch_restore (d, "x", &bad), -1);
    NEAR (dispatch_runtime (d, "regrid", 4e6, 3600), 30);
    NEAR (dispatch_runtime (d, "other", 1e6, 3600), 12);
    assert_int_equal (dispatch_stats_of (d, "regrid", &st), 1);
    assert_int_equal (st.samples, 7);
    dispatch_destroy (d);
    dispatch_destroy (NULL);
}

static void test_start_queue_wait (void **state)
{
    struct dispatch *d = dispatch_create ();
    int a = dispatch_site (d, "a"), b = dispatch_site (d, "b");
    assert_int_equal (a, 0);
    assert_int_equal (b, 1);
    assert_int_equal (dispatch_site (d, "a"), 0);
    dispatch_site_set (d, a, 4, true);
    dispatch_site_set (d, b, 2, true);
    int free_;
    double wait;
    dispatch_site_view (d, a, 0, &free_, &wait);
    assert_int_equal (free_, 4);
    NEAR (wait, 0);

    /* t1 (3 ranks, 100 s) starts at 0; t2 (2 ranks) must queue: 1 core free */
    assert_int_equal (dispatch_decide (d, a, 1, 3, 100, 0), DISPATCH_START);
    dispatch_site_view (d, a, 10, &free_, &wait);
    assert_int_equal (free_, 1);
    NEAR (wait, 3 * 90 / 4.0);                  /* 3 ranks x 90 s left over 4 cores */
    assert_int_equal (dispatch_decide (d, a, 2, 2, 50, 10), DISPATCH_QUEUE);
    /* FIFO: a 1-rank newcomer does not overtake, although 1 core is free */
    dispatch_site_view (d, a, 10, &free_, &wait);
    assert_int_equal (free_, 0);
    NEAR (wait, (3 * 90 + 2 * 50) / 4.0);
    assert_int_equal (dispatch_decide (d, a, 3, 1, 10, 10), DISPATCH_QUEUE);
    assert_true (dispatch_is_queued (d, 3, NULL));
    assert_int_equal (dispatch_site_queued (d, a), 2);
    assert_int_equal (dispatch_site_claimed (d, a), 6);
    assert_int_equal (dispatch_next (d, a, 20), -1);       /* head (2 ranks) does not fit */
    /* no site for now: held, nothing recorded */
    assert_int_equal (dispatch_decide (d, -1, 4, 1, 10, 20), DISPATCH_HOLD);
    assert_false (dispatch_is_queued (d, 4, NULL));

    /* t1 ends: t2 then t3 start in order */
    dispatch_forget (d, 1);
    assert_int_equal (dispatch_next (d, a, 100), 2);
    assert_int_equal (dispatch_next (d, a, 100), 3);
    assert_int_equal (dispatch_next (d, a, 100), -1);
    assert_false (dispatch_is_queued (d, 2, NULL));
    dispatch_site_view (d, a, 100, &free_, &wait);
    assert_int_equal (free_, 1);
    NEAR (wait, (2 * 50 + 1 * 10) / 4.0);
    /* past their estimates the running tasks add no wait (never negative) */
    dispatch_site_view (d, a, 1000, &free_, &wait);
    NEAR (wait, 0);

    /* site b is separate */
    dispatch_site_view (d, b, 100, &free_, &wait);
    assert_int_equal (free_, 2);
    dispatch_destroy (d);
}

static void test_forget_close_reuse (void **state)
{
    struct dispatch *d = dispatch_create ();
    int s = dispatch_site (d, "s");
    dispatch_site_set (d, s, 1, true);
    assert_int_equal (dispatch_decide (d, s, 10, 1, 5, 0), DISPATCH_START);
    for (int64_t k = 11; k <= 14; k++)
        assert_int_equal (dispatch_decide (d, s, k, 1, 5, 0), DISPATCH_QUEUE);
    /* a queued task leaves from the middle (its job was cancelled) */
    dispatch_forget (d, 12);
    dispatch_forget (d, 999);                                   /* unknown: ignored */
    int where = -1;
    assert_true (dispatch_is_queued (d, 13, &where));
    assert_int_equal (where, s);
    assert_int_equal (dispatch_site_queued (d, s), 3);
    /* its record is reused by a new task, which queues at the end: the old
     * ring slot must not start it out of turn */
    assert_int_equal (dispatch_decide (d, s, 20, 1, 5, 0), DISPATCH_QUEUE);
    dispatch_forget (d, 10);
    int64_t order[4];
    for (int i = 0; i < 4; i++) {
        order[i] = dispatch_next (d, s, 1);
        assert_true (order[i] >= 0);
        dispatch_forget (d, order[i]);
    }
    assert_int_equal (order[0], 11);
    assert_int_equal (order[1], 13);
    assert_int_equal (order[2], 14);
    assert_int_equal (order[3], 20);
    assert_int_equal (dispatch_next (d, s, 1), -1);

    /* deciding a known key again replaces its record (placed anew) */
    assert_int_equal (dispatch_decide (d, s, 30, 1, 5, 2), DISPATCH_START);
    assert_int_equal (dispatch_decide (d, s, 31, 1, 5, 2), DISPATCH_QUEUE);
    assert_int_equal (dispatch_decide (d, s, 31, 1, 5, 2), DISPATCH_QUEUE);
    assert_int_equal (dispatch_site_queued (d, s), 1);

    /* a site that stops taking work drops its queue; decisions for it hold */
    dispatch_site_set (d, s, 1, false);
    assert_false (dispatch_is_queued (d, 31, NULL));
    assert_int_equal (dispatch_site_queued (d, s), 0);
    assert_int_equal (dispatch_decide (d, s, 32, 1, 5, 2), DISPATCH_HOLD);
    assert_int_equal (dispatch_site_claimed (d, s), 1);        /* 30 still holds its core */
    dispatch_site_set (d, s, 1, true);
    assert_int_equal (dispatch_decide (d, s, 32, 1, 5, 2), DISPATCH_QUEUE);
    dispatch_forget (d, 30);
    assert_int_equal (dispatch_next (d, s, 3), 32);

    /* a task found running after a restart holds its cores from its start */
    assert_int_equal (dispatch_running (d, s, 40, 1, 0, 10), 0);   /* replaces nothing */
    dispatch_forget (d, 32);
    int free_;
    double wait;
    dispatch_site_view (d, s, 4, &free_, &wait);
    assert_int_equal (free_, 0);
    NEAR (wait, 6);
    assert_int_equal (dispatch_running (d, 7, 41, 1, 0, 10), -1);  /* no such site */
    dispatch_destroy (d);
}

/* Many tasks through many sites: the sums come back to zero, nothing leaks. */
static void test_churn (void **state)
{
    struct dispatch *d = dispatch_create ();
    for (int i = 0; i < 8; i++) {
        char n[8];
        snprintf (n, sizeof (n), "s%d", i);
        dispatch_site_set (d, dispatch_site (d, n), 3, true);
    }
    int64_t key = 0, started = 0;
    for (int round = 0; round < 2000; round++) {
        int s = round % 8;
        enum dispatch_action a = dispatch_decide (d, s, key++, 1 + round % 3, 1 + round % 5, round);
        started += a == DISPATCH_START;
        if (round >= 6)
            dispatch_forget (d, key - 6);       /* tasks end (or leave) 6 rounds later */
        int64_t k;
        while ((k = dispatch_next (d, (s + 1) % 8, round)) >= 0)
            started++;
    }
    for (int64_t k = 0; k < key; k++)
        dispatch_forget (d, k);
    assert_true (started > 100);
    for (int s = 0; s < 8; s++) {
        int free_;
        double wait;
        dispatch_site_view (d, s, 1e6, &free_, &wait);
        assert_int_equal (free_, 3);
        NEAR (wait, 0);
        assert_int_equal (dispatch_site_claimed (d, s), 0);
        assert_int_equal (dispatch_site_queued (d, s), 0);
    }
    dispatch_destroy (d);
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_estimates),
        cmocka_unit_test (test_start_queue_wait),
        cmocka_unit_test (test_forget_close_reuse),
        cmocka_unit_test (test_churn),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
