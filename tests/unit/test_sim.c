/* test_sim.c - the federation simulator on tiny scenarios whose makespans and
 * WAN bytes are computed by hand: one transfer, tasks waiting for cores, a
 * dependency chain across sites, fair sharing of a link, the site cache, a
 * `none` dataset forcing the site, aggregate data moving only reduced, the
 * centralised baseline's copies, the dispatcher's runtime estimates (a prior,
 * then learned), scenario errors at FILE:LINE:COL, and the generator's
 * determinism. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

#include "cli/sim/sim.h"

static struct sim *load (const char *text)
{
    fs_error_t err = { 0 };
    struct sim *s = sim_load_string ("test.yaml", text, strlen (text), NULL, &err);
    if (!s)
        fail_msg ("load: %s", err.text);
    return s;
}

static struct sim_result run (struct sim *s, const char *strategy)
{
    struct sim_result r;
    fs_error_t err = { 0 };
    if (sim_run (s, strategy, &r, &err) < 0)
        fail_msg ("run %s: %s", strategy, err.text);
    return r;
}

static void near (double got, double want)
{
    if (fabs (got - want) > 1e-6 * (fabs (want) > 1 ? fabs (want) : 1))
        fail_msg ("got %.9f, want %.9f", got, want);
}

/* Two sites 100 MB/s and 10 ms apart. */
#define TWO_SITES                                                                   \
    "sites: [{name: a, cores: 4}, {name: b, cores: 4}]\n"                           \
    "links: {default: {bandwidth: 100MB/s, latency: 10ms}}\n"

/* One task, one transfer: pinned away from its 1 GB input, it waits
 * 1e9 / 1e8 + 0.01 s for it, then runs 10 s. */
static void test_one_transfer (void **state)
{
    (void)state;
    struct sim *s = load (TWO_SITES
                          "datasets: [{name: d, site: a, bytes: 1GB}]\n"
                          "tasks: [{name: t, runtime: 10s, site: b, inputs: [d]}]\n");
    struct sim_result r = run (s, "fedsched");
    near (r.makespan_s, 10 + 0.01 + 10);
    assert_int_equal (r.wan_bytes, 1000000000);
    assert_int_equal (r.transfers, 1);
    assert_int_equal (r.tasks_done, 1);
    assert_string_equal (sim_task_site (s, "t"), "b");
    sim_destroy (s);

    /* unpinned, fedsched runs it where the data is: no transfer */
    s = load (TWO_SITES
              "datasets: [{name: d, site: a, bytes: 1GB}]\n"
              "tasks: [{name: t, runtime: 10s, inputs: [d]}]\n");
    r = run (s, "fedsched");
    near (r.makespan_s, 10);
    assert_int_equal (r.wan_bytes, 0);
    assert_string_equal (sim_task_site (s, "t"), "a");
    sim_destroy (s);
}

/* Two 4-rank tasks on one 4-core site run one after the other; with a second
 * site fedsched sees the wait (10 s) and uses the other one. */
static void test_waiting_for_cores (void **state)
{
    (void)state;
    struct sim *s = load ("sites: [{name: a, cores: 4}]\n"
                          "tasks: [{name: t1, ranks: 4, runtime: 10s},\n"
                          "        {name: t2, ranks: 4, runtime: 10s}]\n");
    struct sim_result r = run (s, "fedsched");
    near (r.makespan_s, 20);
    near (sim_task_end (s, "t1"), 10);
    near (sim_task_end (s, "t2"), 20);
    near (r.mean_wait_s, 5);
    sim_destroy (s);

    s = load (TWO_SITES
              "tasks: [{name: t1, ranks: 4, runtime: 10s},\n"
              "        {name: t2, ranks: 4, runtime: 10s}]\n");
    r = run (s, "fedsched");
    near (r.makespan_s, 10);
    assert_string_equal (sim_task_site (s, "t1"), "a");      /* tie: the name */
    assert_string_equal (sim_task_site (s, "t2"), "b");
    sim_destroy (s);
}

/* t1 reads d1 at a (5 s) and writes 500 MB there; t2 reads that and d2 (1 GB
 * at b): moving t1's output to b (5.01 s) beats moving d2 to a (10.01 s). */
static void test_chain_across_sites (void **state)
{
    (void)state;
    struct sim *s = load (TWO_SITES
                          "datasets: [{name: d1, site: a, bytes: 1GB},\n"
                          "           {name: d2, site: b, bytes: 1GB}]\n"
                          "tasks:\n"
                          "  - {name: t2, runtime: 5s, inputs: [t1.out, d2]}\n"
                          "  - {name: t1, runtime: 5s, inputs: [d1], outputs: {out: 500MB}}\n");
    struct sim_result r = run (s, "fedsched");
    assert_string_equal (sim_task_site (s, "t1"), "a");
    assert_string_equal (sim_task_site (s, "t2"), "b");
    near (sim_task_end (s, "t1"), 5);
    near (r.makespan_s, 5 + 5.01 + 5);
    assert_int_equal (r.wan_bytes, 500000000);
    sim_destroy (s);
}

/* The fedsched strategy decides with the scheduler's dispatcher: its runtime
 * estimates are learned from the tasks that ended, not the scenario's true
 * runtimes.  Sites a and b of one core; d (80 MB) at a, 80 s away from b.
 * At 0: p (pinned to a, 100 s) starts; q (10 s, reads d) finds a busy.  No
 * runtime measured yet: the prior (60 s) for both, so a costs 60 (wait) + 60
 * and b 80 (move) + 60: q queues at a and ends at 110 (with the true
 * runtimes it would have gone to b: 10 + 100 > 80 + 10). */
static void test_dispatch_prior (void **state)
{
    (void)state;
    struct sim *s = load ("sites: [{name: a, cores: 1}, {name: b, cores: 1}]\n"
                          "links: {default: {bandwidth: 1MB/s, latency: 0s}}\n"
                          "datasets: [{name: d, site: a, bytes: 80MB}]\n"
                          "tasks: [{name: p, command: long, runtime: 100s, site: a},\n"
                          "        {name: q, command: short, runtime: 10s, inputs: [d]}]\n");
    struct sim_result r = run (s, "fedsched");
    assert_string_equal (sim_task_site (s, "q"), "a");
    near (sim_task_end (s, "q"), 110);
    assert_int_equal (r.wan_bytes, 0);
    sim_destroy (s);
}

/* The same once p0 (command long, 100 s) has run: at 100, p (long, est. 100
 * s) starts at a; q's command is new, so the federation-wide average (100
 * s): a costs 100 (wait) + 100, b 80 + 100: q goes to b, ends at 190.  Were
 * nothing learned (the prior), a would cost 60 + 60 and b 80 + 60: a. */
static void test_dispatch_learned (void **state)
{
    (void)state;
    struct sim *s = load ("sites: [{name: a, cores: 1}, {name: b, cores: 1}]\n"
                          "links: {default: {bandwidth: 1MB/s, latency: 0s}}\n"
                          "datasets: [{name: d, site: a, bytes: 80MB}]\n"
                          "tasks: [{name: p0, command: long, runtime: 100s, site: a},\n"
                          "        {name: p, command: long, runtime: 100s, site: a, after: [p0]},\n"
                          "        {name: q, command: short, runtime: 10s, walltime: 1h,\n"
                          "         inputs: [d], after: [p0]}]\n");
    struct sim_result r = run (s, "fedsched");
    assert_string_equal (sim_task_site (s, "q"), "b");
    near (sim_task_end (s, "q"), 100 + 80 + 10);
    assert_int_equal (r.wan_bytes, 80000000);
    /* each run starts from nothing learned: the same again */
    r = run (s, "fedsched");
    assert_string_equal (sim_task_site (s, "q"), "b");
    sim_destroy (s);
}

/* Two transfers on one link share it: 1 GB and 3 GB at 100 MB/s, no
 * latency.  Both get 50 MB/s until the first is done (20 s, 1 GB each),
 * then the second takes the link alone for its last 2 GB (20 s). */
static void test_fair_share (void **state)
{
    (void)state;
    struct sim *s = load ("sites: [{name: a, cores: 4}, {name: b, cores: 4}]\n"
                          "links: {default: {bandwidth: 100MB/s, latency: 0s}}\n"
                          "datasets: [{name: d1, site: a, bytes: 1GB},\n"
                          "           {name: d2, site: a, bytes: 3GB}]\n"
                          "tasks: [{name: t1, runtime: 1s, site: b, inputs: [d1]},\n"
                          "        {name: t2, runtime: 1s, site: b, inputs: [d2]}]\n");
    struct sim_result r = run (s, "fedsched");
    near (sim_task_end (s, "t1"), 21);
    near (sim_task_end (s, "t2"), 41);
    assert_int_equal (r.wan_bytes, 4000000000);
    assert_int_equal (r.transfers, 2);
    sim_destroy (s);
}

/* Two tasks at b reading the same input wait for one transfer (the site
 * cache); a third, later one finds it there. */
static void test_cache (void **state)
{
    (void)state;
    struct sim *s = load (TWO_SITES
                          "datasets: [{name: d, site: a, bytes: 1GB}]\n"
                          "tasks: [{name: t1, runtime: 1s, site: b, inputs: [d]},\n"
                          "        {name: t2, runtime: 2s, site: b, inputs: [d]},\n"
                          "        {name: t3, runtime: 1s, site: b, inputs: [d], after: [t2]}]\n");
    struct sim_result r = run (s, "fedsched");
    assert_int_equal (r.transfers, 1);
    assert_int_equal (r.wan_bytes, 1000000000);
    near (sim_task_end (s, "t1"), 10.01 + 1);
    near (sim_task_end (s, "t2"), 10.01 + 2);
    near (r.makespan_s, 10.01 + 2 + 1);
    sim_destroy (s);
}

/* A `none` dataset at a small site: every strategy that respects policies
 * runs the task there, even with a bigger idle site next door. */
static void test_none_forces_site (void **state)
{
    (void)state;
    struct sim *s = load ("sites: [{name: big, cores: 64}, {name: small, cores: 2}]\n"
                          "links: {default: {bandwidth: 10GB/s, latency: 1ms}}\n"
                          "datasets: [{name: secret, site: small, bytes: 1MB, policy: none},\n"
                          "           {name: open, site: big, bytes: 1GB}]\n"
                          "tasks: [{name: t, ranks: 2, runtime: 10s, inputs: [secret, open]}]\n");
    static const char *const strat[] = { "fedsched", "random", "greedy" };
    for (size_t i = 0; i < 3; i++) {
        struct sim_result r = run (s, strat[i]);
        assert_string_equal (sim_task_site (s, "t"), "small");
        assert_int_equal (r.wan_bytes, 1000000000);
        near (r.makespan_s, 0.001 + 0.1 + 10);
    }
    sim_destroy (s);

    /* too many ranks for the only site allowed: unplaceable, and its
     * dependent never becomes ready */
    s = load ("sites: [{name: big, cores: 64}, {name: small, cores: 2}]\n"
              "datasets: [{name: secret, site: small, bytes: 1MB, policy: none}]\n"
              "tasks: [{name: t, ranks: 8, runtime: 10s, inputs: [secret], outputs: {o: 1MB}},\n"
              "        {name: u, runtime: 1s, inputs: [t.o]}]\n");
    struct sim_result r = run (s, "fedsched");
    assert_int_equal (r.tasks_unplaceable, 1);
    assert_int_equal (r.tasks_placed, 0);
    assert_int_equal (r.tasks_done, 0);
    r = run (s, "centralised");    /* which ignores policies */
    assert_int_equal (r.tasks_done, 2);
    sim_destroy (s);
}

/* Aggregate data moves only through a satisfying reduction (1.6 GB / 16),
 * and outputs of its raw reads inherit the policy. */
static void test_aggregate (void **state)
{
    (void)state;
    struct sim *s = load (TWO_SITES
                          "datasets: [{name: parcels, site: a, bytes: 1.6GB, "
                          "policy: aggregate=4x4}]\n"
                          "tasks: [{name: t, runtime: 1s, site: b,\n"
                          "         inputs: [{data: parcels, reduce: 16}]},\n"
                          "        {name: u, runtime: 1s, site: b, inputs: [parcels]}]\n");
    struct sim_result r = run (s, "fedsched");
    assert_int_equal (r.wan_bytes, 100000000);
    assert_int_equal (r.tasks_done, 1);
    assert_int_equal (r.tasks_unplaceable, 1);
    assert_null (sim_task_site (s, "u"));
    near (sim_task_end (s, "t"), 1 + 0.01 + 1);
    sim_destroy (s);
}

/* centralised: a is best connected (2 GB/s in, against 1.1 GB/s for b and
 * c); d1 (2 GB at b) and d2 (1 GB at c, read in part but copied whole) come
 * over in parallel, 2 s; then a has all 6 cores: t1 (4 ranks) 2..12, t2 (4
 * ranks) waits for it, 12..22.  Policies are ignored. */
static void test_centralised (void **state)
{
    (void)state;
    struct sim *s = load ("sites: [{name: c, cores: 2}, {name: b, cores: 2}, {name: a, cores: 2}]\n"
                          "links:\n"
                          "  default: {bandwidth: 100MB/s, latency: 0s}\n"
                          "  pairs:\n"
                          "    - {between: [a, b], bandwidth: 1GB/s}\n"
                          "    - {between: [a, c], bandwidth: 1GB/s}\n"
                          "datasets: [{name: d1, site: b, bytes: 2GB},\n"
                          "           {name: d2, site: c, bytes: 1GB, policy: none},\n"
                          "           {name: d3, site: a, bytes: 5GB},\n"
                          "           {name: unused, site: b, bytes: 9GB}]\n"
                          "tasks: [{name: t1, ranks: 2, runtime: 10s, inputs: [d1, d3]},\n"
                          "        {name: t2, ranks: 2, runtime: 10s, "
                          "inputs: [{data: d2, fraction: 0.1}]}]\n");
    struct sim_result r = run (s, "centralised");
    assert_string_equal (r.central_name, "a");
    near (r.copy_s, 2);
    assert_int_equal (r.copy_bytes, 3000000000);
    assert_int_equal (r.wan_bytes, 3000000000);
    near (r.makespan_s, 12);       /* 2 + 2 ranks each: both fit on 6 cores */
    assert_string_equal (sim_task_site (s, "t2"), "a");
    sim_destroy (s);
}

static void test_centralised_waits (void **state)
{
    (void)state;
    /* a has 6 cores after the copies (2 s): t1 and t2 of 4 ranks can't
     * both run: 2..12, then 12..22 */
    struct sim *s = load ("sites: [{name: c, cores: 4}, {name: b, cores: 1}, {name: a, cores: 1}]\n"
                          "links:\n"
                          "  default: {bandwidth: 100MB/s, latency: 0s}\n"
                          "  pairs:\n"
                          "    - {between: [a, b], bandwidth: 1GB/s}\n"
                          "    - {between: [a, c], bandwidth: 1GB/s}\n"
                          "datasets: [{name: d1, site: b, bytes: 2GB},\n"
                          "           {name: d2, site: c, bytes: 1GB}]\n"
                          "tasks: [{name: t1, ranks: 4, runtime: 10s, inputs: [d1]},\n"
                          "        {name: t2, ranks: 4, runtime: 10s, inputs: [d2]}]\n");
    struct sim_result r = run (s, "centralised");
    assert_string_equal (r.central_name, "a");
    near (r.copy_s, 2);
    near (sim_task_end (s, "t1"), 12);
    near (sim_task_end (s, "t2"), 22);
    near (r.makespan_s, 22);
    assert_int_equal (r.wan_bytes, 3000000000);
    sim_destroy (s);
}

/* WAN bytes per strategy on a scenario where locality is everything. */
static void test_wan_counts (void **state)
{
    (void)state;
    struct sim *s = load ("sites: [{name: a, cores: 8}, {name: b, cores: 16}]\n"
                          "links: {default: {bandwidth: 1GB/s, latency: 0s}}\n"
                          "datasets: [{name: d, site: a, bytes: 4GB}]\n"
                          "tasks: [{name: t, runtime: 10s, inputs: [{data: d, fraction: 0.25}]}]\n");
    struct sim_result r = run (s, "fedsched");
    assert_int_equal (r.wan_bytes, 0);
    r = run (s, "greedy");         /* b has more cores: moves 1 GB */
    assert_string_equal (sim_task_site (s, "t"), "b");
    assert_int_equal (r.wan_bytes, 1000000000);
    near (r.makespan_s, 11);
    r = run (s, "centralised");    /* a tie on links: more cores, b; the whole 4 GB */
    assert_string_equal (r.central_name, "b");
    assert_int_equal (r.wan_bytes, 4000000000);
    near (r.makespan_s, 14);
    sim_destroy (s);
}

static void expect_error (const char *text, const char *where, const char *what)
{
    fs_error_t err = { 0 };
    struct sim *s = sim_load_string ("bad.yaml", text, strlen (text), NULL, &err);
    if (s)
        fail_msg ("loaded: %s", text);
    assert_int_equal (err.code, FS_EINVAL);
    if (!strstr (err.text, where) || !strstr (err.text, what))
        fail_msg ("error '%s' lacks '%s' or '%s'", err.text, where, what);
}

static void test_errors (void **state)
{
    (void)state;
    expect_error ("sites: [{name: a, cores: 4}]\ntasks: [{name: t, runtime: 1s, colour: red}]\n",
                  "bad.yaml:2:", "unknown key 'colour'");
    expect_error ("sites: [{name: a, cores: 4}]\n"
                  "tasks:\n"
                  "  - {name: t, runtime: 1s, inputs: [nowhere]}\n",
                  "bad.yaml:3:", "unknown dataset 'nowhere'");
    expect_error ("sites: [{name: a, cores: 4}]\n"
                  "tasks:\n"
                  "  - {name: t, runtime: 1s, inputs: [u.x], outputs: {x: 1MB}}\n"
                  "  - {name: u, runtime: 1s, inputs: [t.x], outputs: {x: 1MB}}\n",
                  "bad.yaml:", "dependency cycle");
    expect_error ("sites: [{name: a, cores: 4}]\ntasks: [{name: t, ranks: 8, runtime: 1s}]\n",
                  "bad.yaml:2:", "largest site has 4 cores");
    expect_error ("sites: [{name: a, cores: 4}]\n"
                  "links: {default: {bandwidth: fast}}\ntasks: []\n",
                  "bad.yaml:2:", "bandwidth");
    /* links: read by federation.yaml's parser (common/config.c), same messages */
    expect_error ("sites: [{name: a, cores: 4}, {name: b, cores: 4}]\n"
                  "links:\n  pairs:\n    - {between: [a, c]}\ntasks: []\n",
                  "bad.yaml:4:21:", "links.pairs[0].between: site 'c' is not in the 'sites' list");
    expect_error ("sites: [{name: a, cores: 4}, {name: b, cores: 4}]\n"
                  "links:\n  pairs:\n    - {between: [a, b]}\n    - {between: [b, a]}\n"
                  "tasks: []\n",
                  "bad.yaml:5:17:", "the link b-a is already given at line 4");
    expect_error ("sites: [{name: a, cores: 4}]\n"
                  "datasets: [{name: d, site: b, bytes: 1GB}]\ntasks: []\n",
                  "bad.yaml:2:", "unknown site 'b'");
    expect_error ("sites: [{name: a, cores: 4}]\n"
                  "datasets: [{name: d, site: a, bytes: 1GB, policy: secret}]\ntasks: []\n",
                  "bad.yaml:2:", "");
    expect_error ("generate: {sites: 2, tasks: 10}\nsites: []\n", "bad.yaml:2:",
                  "can't be given with 'generate'");
    expect_error ("generate: {sites: 0}\n", "bad.yaml:1:", "out of range");
    expect_error ("generate: {runtime: [2h, 1h]}\n", "bad.yaml:1:", "high is below low");
    struct sim_result r;
    fs_error_t err = { 0 };
    struct sim *s = load ("sites: [{name: a, cores: 4}]\ntasks: []\n");
    assert_int_equal (sim_run (s, "fastest", &r, &err), -1);
    assert_int_equal (err.code, FS_EINVAL);
    sim_destroy (s);
}

/* A small generated federation: same seed, same results; every task runs
 * under every strategy; fedsched moves less than the others. */
static void test_generated (void **state)
{
    (void)state;
    const char *text = "generate: {sites: 12, regions: 3, datasets: 400, tasks: 300, layers: 5,\n"
                       "           seed: 7}\n";
    struct sim *s1 = load (text), *s2 = load (text);
    struct sim_info in;
    sim_info (s1, &in);
    assert_int_equal (in.sites, 12);
    assert_int_equal (in.regions, 3);
    assert_int_equal (in.datasets, 400);
    assert_int_equal (in.tasks, 300);
    for (const char *const *st = sim_strategies (); *st; st++) {
        struct sim_result a = run (s1, *st), b = run (s2, *st);
        assert_int_equal (a.wan_bytes, b.wan_bytes);
        assert_true (a.makespan_s == b.makespan_s);
        assert_int_equal (a.tasks_placed, 300);
        assert_int_equal (a.tasks_done, 300);
    }
    struct sim_result f = run (s1, "fedsched"), c = run (s1, "centralised");
    struct sim_result g = run (s1, "greedy"), rnd = run (s1, "random");
    assert_true (f.wan_bytes < c.wan_bytes);
    assert_true (f.wan_bytes < g.wan_bytes);
    assert_true (f.wan_bytes < rnd.wan_bytes);
    sim_destroy (s1);
    sim_destroy (s2);

    struct sim_opts o = SIM_OPTS_NONE;
    o.seed = 8;
    o.tasks = 50;
    fs_error_t err = { 0 };
    s1 = sim_load_string ("g.yaml", text, strlen (text), &o, &err);
    assert_non_null (s1);
    sim_info (s1, &in);
    assert_int_equal (in.tasks, 50);
    assert_int_equal (in.seed, 8);
    sim_destroy (s1);
    /* resizing an explicit scenario is refused */
    const char *ex = "sites: [{name: a, cores: 4}]\ntasks: []\n";
    assert_null (sim_load_string ("x.yaml", ex, strlen (ex), &o, &err));
    assert_int_equal (err.code, FS_EINVAL);
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_one_transfer),
        cmocka_unit_test (test_waiting_for_cores),
        cmocka_unit_test (test_chain_across_sites),
        cmocka_unit_test (test_dispatch_prior),
        cmocka_unit_test (test_dispatch_learned),
        cmocka_unit_test (test_fair_share),
        cmocka_unit_test (test_cache),
        cmocka_unit_test (test_none_forces_site),
        cmocka_unit_test (test_aggregate),
        cmocka_unit_test (test_centralised),
        cmocka_unit_test (test_centralised_waits),
        cmocka_unit_test (test_wan_counts),
        cmocka_unit_test (test_errors),
        cmocka_unit_test (test_generated),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
