/* test_iopool.c - the worker's I/O thread pool (workers/iopool.c): jobs run
 * on pool threads and report through their PUSH sockets to a PULL socket
 * bound by the test; the busy count; destroy with jobs still queued calls
 * each of them exactly once with out == NULL so that it frees its argument. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/zsock.h"
#include "workers/iopool.h"

/* ---- a gate the jobs can wait on ---- */

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static bool gate_open;
static atomic_int waiting;       /* jobs blocked at the gate */

static void gate_reset (void)
{
    pthread_mutex_lock (&gate_lock);
    gate_open = false;
    pthread_mutex_unlock (&gate_lock);
    atomic_store (&waiting, 0);
}

static void gate_release (void)
{
    pthread_mutex_lock (&gate_lock);
    gate_open = true;
    pthread_cond_broadcast (&gate_cond);
    pthread_mutex_unlock (&gate_lock);
}

static void gate_wait (void)
{
    pthread_mutex_lock (&gate_lock);
    atomic_fetch_add (&waiting, 1);
    while (!gate_open)
        pthread_cond_wait (&gate_cond, &gate_lock);
    atomic_fetch_sub (&waiting, 1);
    pthread_mutex_unlock (&gate_lock);
}

static void sleep_ms (long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep (&ts, NULL);
}

/* Wait (up to ~5 s) for cond() to hold. */
static bool eventually (bool (*cond) (void *), void *arg)
{
    for (int i = 0; i < 5000; i++) {
        if (cond (arg))
            return true;
        sleep_ms (1);
    }
    return cond (arg);
}

/* ---- jobs ---- */

struct job_arg {
    int id;
    bool block;                 /* wait at the gate before reporting */
    atomic_int *ran;            /* calls with out != NULL, per job */
    atomic_int *dropped;        /* calls with out == NULL, per job */
    pthread_t *thread;          /* where it ran, when not NULL */
};

static atomic_int total_ran, total_dropped;

static void report_job (void *arg, struct zsock *out)
{
    struct job_arg *a = arg;
    if (!out) {
        atomic_fetch_add (a->dropped, 1);
        atomic_fetch_add (&total_dropped, 1);
        free (a);
        return;
    }
    if (a->block)
        gate_wait ();
    if (a->thread)
        *a->thread = pthread_self ();
    atomic_fetch_add (a->ran, 1);
    atomic_fetch_add (&total_ran, 1);
    struct zmsg *m = zmsg_create ();
    char buf[32];
    snprintf (buf, sizeof (buf), "job %d", a->id);
    zmsg_addstr (m, "result");
    zmsg_addstr (m, buf);
    fs_error_t err;
    if (zsock_send (out, &m, &err) < 0)
        fprintf (stderr, "send: %s\n", err.text);
    free (a);
}

static struct job_arg *job_new (int id, bool block, atomic_int *ran, atomic_int *dropped)
{
    struct job_arg *a = calloc (1, sizeof (*a));
    assert_non_null (a);
    a->id = id;
    a->block = block;
    a->ran = ran;
    a->dropped = dropped;
    return a;
}

static struct zsock *pull_bind (const char *uri)
{
    fs_error_t err;
    struct zsock *pull = zsock_create (ZSOCK_PULL, NULL, &err);
    assert_non_null (pull);
    if (zsock_bind (pull, uri, &err) < 0)
        fail_msg ("bind %s: %s", uri, err.text);
    return pull;
}

/* Receive one report; returns the job id it names, -1 on timeout. */
static int recv_report (struct zsock *pull, long timeout_ms)
{
    bool ready;
    if (zsock_poll (&pull, 1, &ready, timeout_ms) != 1)
        return -1;
    struct zmsg *m = zsock_recv (pull, true);
    assert_non_null (m);
    assert_int_equal (zmsg_size (m), 2);
    size_t len;
    const char *d = zmsg_data (m, 0, &len);
    assert_int_equal (len, 6);
    assert_memory_equal (d, "result", 6);
    d = zmsg_data (m, 1, &len);
    char buf[32];
    assert_true (len < sizeof (buf));
    memcpy (buf, d, len);
    buf[len] = '\0';
    int id = -1;
    assert_int_equal (sscanf (buf, "job %d", &id), 1);
    zmsg_destroy (&m);
    return id;
}

static bool busy_zero (void *p)
{
    return iopool_busy (p) == 0;
}

static bool waiting_is (void *n)
{
    return atomic_load (&waiting) == *(int *)n;
}

/* ---- tests ---- */

static void test_jobs_report (void **state)
{
    (void)state;
    const char *uri = "inproc://test-iopool-report";
    struct zsock *pull = pull_bind (uri);
    fs_error_t err;
    struct iopool *p = iopool_create (3, uri, &err);
    assert_non_null (p);
    assert_int_equal (iopool_busy (p), 0);

    enum { N = 50 };
    atomic_int ran[N], dropped[N];
    for (int i = 0; i < N; i++) {
        atomic_init (&ran[i], 0);
        atomic_init (&dropped[i], 0);
        assert_int_equal (iopool_submit (p, report_job, job_new (i, false, &ran[i], &dropped[i])), 0);
    }
    bool seen[N] = { false };
    for (int k = 0; k < N; k++) {
        int id = recv_report (pull, 5000);
        assert_true (id >= 0 && id < N);
        assert_false (seen[id]);
        seen[id] = true;
    }
    assert_int_equal (recv_report (pull, 50), -1);     /* nothing more */
    assert_true (eventually (busy_zero, p));
    for (int i = 0; i < N; i++) {
        assert_int_equal (atomic_load (&ran[i]), 1);
        assert_int_equal (atomic_load (&dropped[i]), 0);
    }
    iopool_destroy (p);
    /* nothing was queued: destroy drops nothing */
    for (int i = 0; i < N; i++)
        assert_int_equal (atomic_load (&dropped[i]), 0);
    zsock_destroy (pull);
}

/* Jobs run on several threads at once, none on the caller's. */
static void test_parallel_threads (void **state)
{
    (void)state;
    const char *uri = "inproc://test-iopool-parallel";
    struct zsock *pull = pull_bind (uri);
    fs_error_t err;
    struct iopool *p = iopool_create (3, uri, &err);
    assert_non_null (p);
    gate_reset ();
    atomic_int ran[3], dropped[3];
    pthread_t where[3];
    for (int i = 0; i < 3; i++) {
        atomic_init (&ran[i], 0);
        atomic_init (&dropped[i], 0);
        struct job_arg *a = job_new (i, true, &ran[i], &dropped[i]);
        a->thread = &where[i];
        assert_int_equal (iopool_submit (p, report_job, a), 0);
    }
    /* all three wait at the gate together: three threads */
    int three = 3;
    assert_true (eventually (waiting_is, &three));
    assert_int_equal (iopool_busy (p), 3);
    gate_release ();
    for (int k = 0; k < 3; k++)
        assert_true (recv_report (pull, 5000) >= 0);
    assert_true (eventually (busy_zero, p));
    for (int i = 0; i < 3; i++) {
        assert_false (pthread_equal (where[i], pthread_self ()));
        for (int j = i + 1; j < 3; j++)
            assert_false (pthread_equal (where[i], where[j]));
    }
    iopool_destroy (p);
    zsock_destroy (pull);
}

static void test_busy (void **state)
{
    (void)state;
    const char *uri = "inproc://test-iopool-busy";
    struct zsock *pull = pull_bind (uri);
    fs_error_t err;
    struct iopool *p = iopool_create (2, uri, &err);
    assert_non_null (p);
    gate_reset ();
    enum { N = 7 };
    atomic_int ran[N], dropped[N];
    for (int i = 0; i < N; i++) {
        atomic_init (&ran[i], 0);
        atomic_init (&dropped[i], 0);
        assert_int_equal (iopool_submit (p, report_job, job_new (i, true, &ran[i], &dropped[i])), 0);
    }
    /* two running (at the gate), five queued: all seven busy */
    int two = 2;
    assert_true (eventually (waiting_is, &two));
    assert_int_equal (iopool_busy (p), N);
    sleep_ms (20);
    assert_int_equal (atomic_load (&waiting), 2);      /* no third thread */
    assert_int_equal (iopool_busy (p), N);
    gate_release ();
    for (int k = 0; k < N; k++)
        assert_true (recv_report (pull, 5000) >= 0);
    assert_true (eventually (busy_zero, p));
    /* submitting after a drain counts again */
    assert_int_equal (iopool_submit (p, report_job, job_new (99, false, &ran[0], &dropped[0])), 0);
    assert_int_equal (recv_report (pull, 5000), 99);
    assert_true (eventually (busy_zero, p));
    assert_int_equal (atomic_load (&ran[0]), 2);
    iopool_destroy (p);
    zsock_destroy (pull);
}

/* Opens the gate some time after destroy was called, so that destroy has
 * already asked the threads to stop when the running job finishes. */
static void *late_release (void *arg)
{
    (void)arg;
    sleep_ms (300);
    gate_release ();
    return NULL;
}

static void test_destroy_queued (void **state)
{
    (void)state;
    const char *uri = "inproc://test-iopool-destroy";
    struct zsock *pull = pull_bind (uri);
    fs_error_t err;
    struct iopool *p = iopool_create (1, uri, &err);
    assert_non_null (p);
    gate_reset ();
    atomic_store (&total_ran, 0);
    atomic_store (&total_dropped, 0);
    enum { N = 6 };
    atomic_int ran[N], dropped[N];
    for (int i = 0; i < N; i++) {
        atomic_init (&ran[i], 0);
        atomic_init (&dropped[i], 0);
        /* job 0 blocks the only thread; 1..5 stay queued */
        assert_int_equal (iopool_submit (p, report_job, job_new (i, i == 0, &ran[i], &dropped[i])), 0);
    }
    int one = 1;
    assert_true (eventually (waiting_is, &one));
    assert_int_equal (iopool_busy (p), N);

    pthread_t rel;
    assert_int_equal (pthread_create (&rel, NULL, late_release, NULL), 0);
    iopool_destroy (p);          /* waits for job 0, then drops 1..5 */
    pthread_join (rel, NULL);

    /* every job called exactly once: the running one with its socket,
     * the queued ones with out == NULL (they freed their args: ASan checks) */
    assert_int_equal (atomic_load (&ran[0]), 1);
    assert_int_equal (atomic_load (&dropped[0]), 0);
    for (int i = 1; i < N; i++) {
        assert_int_equal (atomic_load (&ran[i]), 0);
        assert_int_equal (atomic_load (&dropped[i]), 1);
    }
    assert_int_equal (atomic_load (&total_ran), 1);
    assert_int_equal (atomic_load (&total_dropped), N - 1);
    /* job 0's report was sent before its thread ended */
    assert_int_equal (recv_report (pull, 2000), 0);
    assert_int_equal (recv_report (pull, 50), -1);
    zsock_destroy (pull);
}

/* Destroy with many threads and a long queue: each job exactly once, run or
 * dropped, whatever the interleaving. */
static void test_destroy_exactly_once (void **state)
{
    (void)state;
    const char *uri = "inproc://test-iopool-once";
    struct zsock *pull = pull_bind (uri);
    fs_error_t err;
    struct iopool *p = iopool_create (4, uri, &err);
    assert_non_null (p);
    atomic_store (&total_ran, 0);
    atomic_store (&total_dropped, 0);
    enum { N = 2000 };
    atomic_int *ran = calloc (N, sizeof (*ran)), *dropped = calloc (N, sizeof (*dropped));
    assert_non_null (ran);
    assert_non_null (dropped);
    for (int i = 0; i < N; i++) {
        atomic_init (&ran[i], 0);
        atomic_init (&dropped[i], 0);
        assert_int_equal (iopool_submit (p, report_job, job_new (i, false, &ran[i], &dropped[i])), 0);
    }
    iopool_destroy (p);
    for (int i = 0; i < N; i++)
        assert_int_equal (atomic_load (&ran[i]) + atomic_load (&dropped[i]), 1);
    assert_int_equal (atomic_load (&total_ran) + atomic_load (&total_dropped), N);
    /* one report per job that ran */
    int reports = 0;
    while (recv_report (pull, 100) >= 0)
        reports++;
    assert_int_equal (reports, atomic_load (&total_ran));
    free (ran);
    free (dropped);
    zsock_destroy (pull);
}

static void test_destroy_idle (void **state)
{
    (void)state;
    const char *uri = "inproc://test-iopool-idle";
    struct zsock *pull = pull_bind (uri);
    fs_error_t err;
    struct iopool *p = iopool_create (2, uri, &err);
    assert_non_null (p);
    sleep_ms (10);
    iopool_destroy (p);          /* threads idle in their wait: joined */
    iopool_destroy (NULL);
    zsock_destroy (pull);
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_jobs_report),
        cmocka_unit_test (test_parallel_threads),
        cmocka_unit_test (test_busy),
        cmocka_unit_test (test_destroy_queued),
        cmocka_unit_test (test_destroy_exactly_once),
        cmocka_unit_test (test_destroy_idle),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    zsock_shutdown ();
    return rc;
}
