/* test_flow.c - sizing a transfer to its link (workers/flow.h): pieces, window
 * and streams from rate and round trip, the rate meter, and the fair sharing of
 * one link's window between its transfers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>

#include <cmocka.h>

#include "workers/flow.h"

#define MBIT (1e6 / 8)          /* bytes/s */
#define GBIT (1e9 / 8)
#define KIB 1024u
#define MIB (1024u * 1024u)

/* A piece takes FLOW_PIECE_TIME at the rate: small on slow links, large on fast
 * ones, a power of two within the floor and the cap. */
static void test_piece_target (void **state)
{
    (void)state;
    assert_int_equal (flow_piece_target (1 * MBIT, FLOW_PIECE_MIN), 16 * KIB);   /* 12.5 kB */
    assert_int_equal (flow_piece_target (8 * MBIT, FLOW_PIECE_MIN), 64 * KIB);   /* 100 kB */
    assert_int_equal (flow_piece_target (8 * MBIT, FLOW_PIECE_MIN_OLD), 64 * KIB);
    assert_int_equal (flow_piece_target (1 * MBIT, FLOW_PIECE_MIN_OLD), 64 * KIB);
    assert_int_equal (flow_piece_target (100 * MBIT, FLOW_PIECE_MIN), 1 * MIB); /* 1.25 MB */
    assert_int_equal (flow_piece_target (1000 * MBIT, FLOW_PIECE_MIN), FLOW_PIECE_MAX);
    assert_int_equal (flow_piece_target (100 * GBIT, FLOW_PIECE_MIN), FLOW_PIECE_MAX);
    assert_int_equal (flow_piece_target (0, FLOW_PIECE_MIN), FLOW_PIECE_MAX);    /* unknown */
    assert_int_equal (flow_piece_target (NAN, FLOW_PIECE_MIN), FLOW_PIECE_MAX);
    assert_int_equal (flow_piece_target (1, FLOW_PIECE_MIN), FLOW_PIECE_MIN);
    /* on the wire for at most FLOW_PIECE_TIME above the floor, at least half of it */
    for (double r = 20 * MBIT; r < 300 * MBIT; r *= 1.37) {
        double t = (double)flow_piece_target (r, FLOW_PIECE_MIN) / r;
        assert_true (t <= FLOW_PIECE_TIME && t > FLOW_PIECE_TIME / 2);
    }
}

/* The window covers twice the bandwidth-delay product and two pieces, with a
 * floor of two pieces per stream and a cap. */
static void test_window (void **state)
{
    (void)state;
    /* no round trip: the floor */
    assert_int_equal (flow_window (8 * MBIT, 0, 64 * KIB, 1), 128 * KIB);
    assert_int_equal (flow_window (8 * MBIT, 0, 64 * KIB, 4), 4 * 128 * KIB);
    /* 8 Mbit/s, 200 ms: 2 x 200 kB + 2 pieces */
    assert_int_equal (flow_window (8 * MBIT, 0.2, 64 * KIB, 1), 400000 + 128 * KIB);
    /* 10 Gbit/s, 200 ms: 500 MB, capped */
    assert_int_equal (flow_window (10000 * MBIT, 0.2, 4 * MIB, 8), FLOW_WINDOW_MAX);
    assert_true (flow_window (-1, -1, 64 * KIB, 0) >= 128 * KIB);
}

/* Streams: ceil(bandwidth-delay product / one stream's window), at most
 * FLOW_STREAMS_MAX, divided among the transfers sharing the link. */
static void test_streams (void **state)
{
    (void)state;
    uint64_t w = 2 * MIB;
    assert_int_equal (flow_streams (8 * MBIT, 0.2, w, 1), 1);          /* 200 kB */
    assert_int_equal (flow_streams (100 * MBIT, 0.04, w, 1), 1);       /* 500 kB */
    assert_int_equal (flow_streams (400 * MBIT, 0.1, w, 1), 3);        /* 5 MB */
    assert_int_equal (flow_streams (400 * MBIT, 0.3, w, 1), 8);        /* 15 MB: 7.2 -> 8 */
    assert_int_equal (flow_streams (10000 * MBIT, 0.2, w, 1), FLOW_STREAMS_MAX);
    assert_int_equal (flow_streams (10000 * MBIT, 0.2, w, 3), 3);      /* 8 / 3 -> 3 */
    assert_int_equal (flow_streams (400 * MBIT, 0.1, w, 8), 1);
    assert_int_equal (flow_streams (0, 0.2, w, 1), 1);                 /* unknown */
    assert_int_equal (flow_streams (400 * MBIT, 0, w, 1), 1);
    assert_true (flow_stream_window () >= 64 * KIB);
}

static void test_meter (void **state)
{
    (void)state;
    struct flow_meter m;
    flow_meter_init (&m);
    flow_meter_add (&m, 10.0, 1000000);         /* the first arrival starts the clock */
    assert_true (m.rate == 0);
    flow_meter_add (&m, 10.1, 100000);          /* under a sample */
    assert_true (m.rate == 0);
    flow_meter_add (&m, 10.5, 400000);          /* 500 kB in 0.5 s: the first sample whole */
    assert_true (fabs (m.rate - 1e6) < 1);
    for (int i = 1; i <= 20; i++)               /* then 2 MB/s for 5 s */
        flow_meter_add (&m, 10.5 + i * 0.25, 500000);
    assert_true (fabs (m.rate - 2e6) < 0.02 * 2e6);
    /* a burst of 0.25 s at 20 MB/s moves it a fifth of the way, not all of it */
    flow_meter_add (&m, 15.75, 5000000);
    assert_true (m.rate > 4e6 && m.rate < 8e6);
}

/* Transfers on one link: the window is shared, and the next piece goes to the
 * one granted least, so a fast flow cannot take more than its turn. */
static void test_sharing (void **state)
{
    (void)state;
    int n;
    struct flow_member *a = flow_join ("tcp://x:1", 8 * MBIT, 0, &n);
    assert_non_null (a);
    assert_int_equal (n, 1);
    flow_report (a, 0, 0, 64 * KIB, 1);
    assert_int_equal (flow_link_window (a), 128 * KIB);
    assert_true (flow_take (a, 64 * KIB));
    assert_true (flow_take (a, 64 * KIB));
    assert_false (flow_take (a, 64 * KIB));     /* the window is full */
    flow_give (a, 64 * KIB);
    /* b joins level with a (granted 128 KiB), not from zero */
    struct flow_member *b = flow_join ("tcp://x:1", 8 * MBIT, 0, &n);
    assert_int_equal (n, 2);
    assert_int_equal (flow_link_sharing (a), 2);
    flow_report (b, 0, 0, 64 * KIB, 1);
    struct flow_member *other = flow_join ("tcp://y:1", 8 * MBIT, 0, &n);
    assert_int_equal (n, 1);                    /* another link */
    assert_true (flow_take (b, 64 * KIB));      /* b: 192 KiB granted, a: 128 */
    assert_false (flow_take (a, 64 * KIB));     /* full: a waits, and is owed the next */
    flow_give (a, 64 * KIB);                    /* a's piece arrived: room for one */
    assert_false (flow_take (b, 64 * KIB));     /* not b's turn: a waits with less */
    assert_true (flow_take (a, 64 * KIB));      /* a: 192 */
    flow_give (b, 64 * KIB);
    flow_give (a, 64 * KIB);
    /* b fast (its pieces arrive at once), a slow: grants still alternate */
    int ga = 0, gb = 0;
    for (int i = 0; i < 100; i++) {
        if (flow_take (b, 64 * KIB)) {
            gb++;
            flow_give (b, 64 * KIB);
        }
        if (flow_take (a, 64 * KIB))
            ga++;
        if (i % 2)
            flow_give (a, 64 * KIB);
    }
    assert_true (abs (ga - gb) <= 2);
    /* one that stops asking does not hold the others back */
    flow_idle (a);
    flow_give (a, 1u << 30);                    /* all of a's */
    assert_true (flow_take (b, 64 * KIB));
    assert_true (flow_take (b, 64 * KIB));
    flow_give (b, 128 * KIB);
    /* leaving gives back what was in flight; the link goes with the last */
    assert_true (flow_take (a, 64 * KIB));
    flow_leave (a);
    assert_int_equal (flow_link_sharing (b), 1);
    assert_true (flow_take (b, 64 * KIB));
    assert_true (flow_take (b, 64 * KIB));
    flow_leave (b);
    flow_leave (other);
    flow_leave (NULL);
    assert_true (flow_take (NULL, 1));
}

/* The window follows the link's best estimates: the larger of the configured
 * rate and the sum of measured rates, the shortest round trip. */
static void test_link_window (void **state)
{
    (void)state;
    int n;
    struct flow_member *a = flow_join ("tcp://z:1", 8 * MBIT, 0.2, &n);
    struct flow_member *b = flow_join ("tcp://z:1", 8 * MBIT, 0.2, &n);
    flow_report (a, 0, 0.2, 64 * KIB, 1);
    flow_report (b, 0, 0.001, 32 * KIB, 1);
    assert_int_equal (flow_link_window (a), flow_window (8 * MBIT, 0.001, 64 * KIB, 1));
    flow_report (a, 3 * MBIT, 0.2, 64 * KIB, 1);
    flow_report (b, 7 * MBIT, 0.001, 64 * KIB, 2);
    assert_int_equal (flow_link_window (b), flow_window (10 * MBIT, 0.001, 64 * KIB, 2));
    flow_leave (a);
    flow_leave (b);
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_piece_target),
        cmocka_unit_test (test_window),
        cmocka_unit_test (test_streams),
        cmocka_unit_test (test_meter),
        cmocka_unit_test (test_sharing),
        cmocka_unit_test (test_link_window),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
