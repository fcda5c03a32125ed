/* test_placement.c - the placement engine on small constructed federations:
 * costs, policies as hard constraints, ties, pins, site states, links
 * (configured, measured), never-placeable detection, policy inheritance. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

#include "scheduler/placement.h"

#define GB 1e9
#define MB 1e6

static struct placement_candidate cand[64];

/* A site with cores, all free, up. */
static int add (struct placement_fed *f, const char *name, const char *region, int cores)
{
    fs_error_t err;
    int i = placement_fed_add_site (f, name, region, &err);
    if (i < 0)
        fail_msg ("add %s: %s", name, err.text);
    struct placement_site *s = placement_fed_site (f, i);
    s->cores = s->cores_free = cores;
    return i;
}

static void set_link (struct placement_fed *f, int a, int b, double bw, double lat)
{
    fs_error_t err;
    if (placement_links_set (placement_fed_links (f), a, b, bw, lat, &err) < 0)
        fail_msg ("link: %s", err.text);
}

static fs_policy_t pol (const char *s)
{
    fs_policy_t p;
    fs_error_t err;
    if (policy_parse (s, &p, &err) < 0)
        fail_msg ("policy %s: %s", s, err.text);
    return p;
}

static void decide (struct placement_fed *f, const struct placement_task *t,
                    struct placement_result *res)
{
    fs_error_t err;
    if (placement_decide (f, t, cand, 64, res, &err) < 0)
        fail_msg ("decide: %s", err.text);
    assert_int_equal (res->ncandidates, placement_fed_count (f));
}

/* The first replica site should fetch in from, as the worker takes it: -1
 * when the first (the cheapest) is down, so all are. */
static int source (struct placement_fed *f, const struct placement_input *in, int site)
{
    int order[64];
    int n = placement_sources (f, in, site, order, 64);
    if (n == 0 || (order[0] != site && !placement_fed_site_const (f, order[0])->up))
        return -1;
    return order[0];
}

static const char *describe (struct placement_fed *f, const struct placement_task *t, int s)
{
    static char buf[512];
    return placement_candidate_describe (f, t, &cand[s], buf, sizeof (buf));
}

#define assert_contains(hay, needle)                                                  \
    do {                                                                              \
        if (!strstr ((hay), (needle)))                                                \
            fail_msg ("'%s' does not contain '%s'", (hay), (needle));                 \
    } while (0)

/* Data at `store` (too small to run the task); A slow, B fast from there. */
static void test_bandwidth_decides (void **state)
{
    struct placement_fed *f = placement_fed_create (1 * GB, 0.01);
    int store = add (f, "store", "eu", 1);
    int a = add (f, "a", "eu", 64);
    int b = add (f, "b", "eu", 64);
    set_link (f, store, a, 100 * MB, 0.01);
    set_link (f, store, b, 10 * GB, 0.01);
    int rep[] = {store};
    struct placement_input in = {.name = "big", .bytes = (uint64_t)(100 * GB), .replicas = rep,
                                 .nreplicas = 1};
    struct placement_task t = {.ranks = 4, .runtime_s = 60, .ninputs = 1, .inputs = &in};
    struct placement_result res;
    decide (f, &t, &res);
    assert_int_equal (res.status, PLACEMENT_PLACED);
    assert_int_equal (res.site, b);
    assert_int_equal (cand[store].excluded, PLACE_EXCL_CORES);
    assert_contains (describe (f, &t, store), "1 cores < 4 ranks");
    assert_true (fabs (cand[b].cost_s - (10 + 0.01 + 60)) < 1e-9);
    assert_true (fabs (cand[a].cost_s - (1000 + 0.01 + 60)) < 1e-9);
    assert_int_equal (cand[b].bytes_moved, (uint64_t)(100 * GB));
    assert_int_equal (cand[b].bytes_local, 0);
    assert_true (fabs (res.cost_s - cand[b].cost_s) < 1e-12);
    assert_contains (res.reason, "b finishes earliest");
    assert_int_equal (source (f, &in, b), store);

    /* the data's own site, once big enough, wins: nothing to move */
    placement_fed_site (f, store)->cores = placement_fed_site (f, store)->cores_free = 8;
    decide (f, &t, &res);
    assert_int_equal (res.site, store);
    assert_int_equal (cand[store].bytes_local, (uint64_t)(100 * GB));
    assert_true (fabs (res.cost_s - 60) < 1e-12);
    assert_contains (res.reason, "input data is at store (100.0 GB); ");
    assert_contains (res.reason, "moving it elsewhere costs >= 10.0 s more");
    assert_int_equal (source (f, &in, store), store);

    /* ... unless its cores are busy for longer than the move takes */
    placement_fed_site (f, store)->cores_free = 2;
    placement_fed_site (f, store)->wait_s = 30;
    decide (f, &t, &res);
    assert_int_equal (res.site, b);
    assert_true (fabs (cand[store].cost_s - 90) < 1e-9);
    assert_true (fabs (cand[store].wait_s - 30) < 1e-12);
    placement_fed_destroy (f);
}

/* Small inputs: latency, not bandwidth, decides. */
static void test_latency_small_inputs (void **state)
{
    struct placement_fed *f = placement_fed_create (1 * GB, 0.01);
    int store = add (f, "store", "r", 1);
    int a = add (f, "a", "r", 8);
    int b = add (f, "b", "r", 8);
    set_link (f, store, a, 10 * GB, 0.5);       /* fat but far */
    set_link (f, store, b, 10 * MB, 0.001);     /* thin but near */
    int rep[] = {store};
    struct placement_input in = {.bytes = 1000, .replicas = rep, .nreplicas = 1};
    struct placement_task t = {.ranks = 2, .runtime_s = 1, .ninputs = 1, .inputs = &in};
    struct placement_result res;
    decide (f, &t, &res);
    assert_int_equal (res.site, b);
    assert_true (fabs (cand[b].move_s - (1000 / (10 * MB) + 0.001)) < 1e-12);
    assert_true (fabs (cand[a].move_s - (1000 / (10 * GB) + 0.5)) < 1e-12);
    in.bytes = (uint64_t)(1 * GB);
    decide (f, &t, &res);
    assert_int_equal (res.site, a);
    placement_fed_destroy (f);
}

/* Several replicas: each site fetches from its cheapest up replica. */
static void test_best_replica (void **state)
{
    struct placement_fed *f = placement_fed_create (1 * GB, 0.01);
    int r1 = add (f, "r1", "x", 1);
    int r2 = add (f, "r2", "x", 1);
    int c = add (f, "c", "x", 8);
    set_link (f, r1, c, 1 * GB, 0.01);
    set_link (f, r2, c, 4 * GB, 0.01);
    int rep[] = {r1, r2};
    struct placement_input in = {.bytes = (uint64_t)(8 * GB), .replicas = rep, .nreplicas = 2};
    struct placement_task t = {.ranks = 2, .runtime_s = 0, .ninputs = 1, .inputs = &in};
    struct placement_result res;
    decide (f, &t, &res);
    assert_int_equal (res.site, c);
    assert_true (fabs (res.cost_s - 2.01) < 1e-12);
    assert_int_equal (source (f, &in, c), r2);
    placement_fed_site (f, r2)->drained = true; /* drained sites still serve data */
    decide (f, &t, &res);
    assert_true (fabs (res.cost_s - 2.01) < 1e-12);
    assert_int_equal (cand[r2].excluded, PLACE_EXCL_DRAINED);
    placement_fed_site (f, r2)->up = false;     /* the fast one goes down */
    decide (f, &t, &res);
    assert_true (fabs (res.cost_s - 8.01) < 1e-12);
    assert_int_equal (source (f, &in, c), r1);
    placement_fed_destroy (f);
}

/* The order a site fetches from: its own replica, then the up ones by
 * estimated transfer time (not the order of the input's replicas), then the
 * down ones; the list stops at max. */
static void test_sources_order (void **state)
{
    struct placement_fed *f = placement_fed_create (1 * GB, 0.01);
    int slow = add (f, "a-slow", "x", 1);
    int fast = add (f, "z-fast", "x", 1);
    int mid = add (f, "m-mid", "x", 1);
    int c = add (f, "c", "x", 8);
    set_link (f, slow, c, 1 * MB, 0.01);
    set_link (f, fast, c, 1 * GB, 0.01);
    set_link (f, mid, c, 100 * MB, 0.01);
    int rep[] = {slow, fast, mid, fast, 99};       /* a repeat and an unknown index */
    struct placement_input in = {.bytes = (uint64_t)(10 * MB), .replicas = rep, .nreplicas = 5};
    int o[64];
    assert_int_equal (placement_sources (f, &in, c, o, 64), 3);
    assert_int_equal (o[0], fast);
    assert_int_equal (o[1], mid);
    assert_int_equal (o[2], slow);
    assert_int_equal (placement_sources (f, &in, c, o, 2), 2);
    assert_int_equal (o[0], fast);
    assert_int_equal (o[1], mid);
    /* at a site holding a replica, that one first, even over a faster link */
    assert_int_equal (placement_sources (f, &in, slow, o, 64), 3);
    assert_int_equal (o[0], slow);
    /* down replicas after the up ones, in cost order among themselves */
    placement_fed_site (f, fast)->up = false;
    placement_fed_site (f, slow)->up = false;
    assert_int_equal (placement_sources (f, &in, c, o, 64), 3);
    assert_int_equal (o[0], mid);
    assert_int_equal (o[1], fast);
    assert_int_equal (o[2], slow);
    /* equal estimates keep the input's order */
    placement_fed_site (f, fast)->up = true;
    placement_fed_site (f, slow)->up = true;
    set_link (f, slow, c, 1 * GB, 0.01);
    assert_int_equal (placement_sources (f, &in, c, o, 64), 3);
    assert_int_equal (o[0], slow);
    assert_int_equal (o[1], fast);
    assert_int_equal (placement_sources (f, &in, -1, o, 64), 0);
    placement_fed_destroy (f);
}

static void test_policy_raw_and_regions (void **state)
{
    struct placement_fed *f = placement_fed_create (1 * GB, 0.01);
    int home = add (f, "home", "cn", 4);        /* holds the data */
    int eu1 = add (f, "eu1", "eu", 64);
    int us1 = add (f, "us1", "us", 64);
    int cn2 = add (f, "cn2", "cn", 64);
    set_link (f, home, us1, 100 * GB, 0);       /* the cheapest by far */
    int rep[] = {home};
    fs_policy_t raw = pol ("raw");
    struct placement_input in = {.name = "rain", .bytes = (uint64_t)(10 * GB), .replicas = rep,
                                 .nreplicas = 1, .policy = &raw};
    struct placement_task t = {.ranks = 8, .runtime_s = 10, .ninputs = 1, .inputs = &in};
    struct placement_result res;
    decide (f, &t, &res);
    assert_int_equal (res.site, us1);
    assert_int_equal (cand[eu1].excluded, PLACE_OK);
    assert_int_equal (cand[cn2].excluded, PLACE_OK);

    fs_policy_t reg = pol ("regions=cn,eu");
    in.policy = &reg;
    decide (f, &t, &res);
    assert_int_equal (res.status, PLACEMENT_PLACED);
    assert_int_equal (cand[us1].excluded, PLACE_EXCL_POLICY);
    assert_int_equal (cand[us1].input, 0);
    assert_contains (describe (f, &t, us1), "input 'rain' (regions=cn,eu) may not go to region us");
    assert_int_equal (cand[eu1].excluded, PLACE_OK);
    assert_int_equal (cand[cn2].excluded, PLACE_OK);
    assert_int_equal (res.site, cn2);   /* eu1 and cn2 tie on cost and cores: by name */

    /* a replica at a site outside the listed regions doesn't exclude that site */
    fs_policy_t eu_only = pol ("regions=eu");
    in.policy = &eu_only;
    placement_fed_site (f, home)->cores = placement_fed_site (f, home)->cores_free = 8;
    decide (f, &t, &res);
    assert_int_equal (cand[home].excluded, PLACE_OK);
    assert_int_equal (cand[cn2].excluded, PLACE_EXCL_POLICY);
    assert_int_equal (res.site, home);

    /* a listed region no site has changes nothing */
    fs_policy_t ghost = pol ("regions=mars,eu");
    in.policy = &ghost;
    decide (f, &t, &res);
    assert_int_equal (cand[eu1].excluded, PLACE_OK);
    assert_int_equal (cand[us1].excluded, PLACE_EXCL_POLICY);
    placement_fed_destroy (f);
}

static void test_policy_none_and_aggregate (void **state)
{
    struct placement_fed *f = placement_fed_create (1 * GB, 0.01);
    int h1 = add (f, "h1", "r", 8);
    int h2 = add (f, "h2", "r", 8);
    int x = add (f, "x", "r", 1024);
    int rep[] = {h1, h2};
    fs_policy_t none = pol ("none");
    struct placement_input in = {.name = "secret", .bytes = 1000, .replicas = rep, .nreplicas = 2,
                                 .policy = &none};
    struct placement_task t = {.ranks = 4, .runtime_s = 5, .ninputs = 1, .inputs = &in};
    struct placement_result res;
    decide (f, &t, &res);
    assert_int_equal (cand[x].excluded, PLACE_EXCL_POLICY);
    assert_contains (describe (f, &t, x), "input 'secret' (none) stays at h1, h2");
    assert_int_equal (cand[h1].excluded, PLACE_OK);
    assert_int_equal (cand[h2].excluded, PLACE_OK);
    assert_int_equal (res.site, h1);
    placement_fed_site (f, h1)->cores_free = 1;
    placement_fed_site (f, h1)->wait_s = 100;
    decide (f, &t, &res);
    assert_int_equal (res.site, h2);

    /* aggregate without a satisfying reduction: like none */
    fs_policy_t agg = pol ("aggregate=4x4");
    in.policy = &agg;
    decide (f, &t, &res);
    assert_int_equal (cand[x].excluded, PLACE_EXCL_POLICY);
    assert_contains (describe (f, &t, x), "(aggregate=4x4, no satisfying reduction) stays at h1, h2");
    assert_int_equal (res.site, h2);
    /* ... with one: anywhere */
    in.reduce_satisfies = true;
    placement_fed_site (f, h2)->cores_free = 1;
    placement_fed_site (f, h2)->wait_s = 100;
    decide (f, &t, &res);
    assert_int_equal (cand[x].excluded, PLACE_OK);
    assert_int_equal (res.site, x);
    /* the flag means nothing for the other policies */
    in.policy = &none;
    decide (f, &t, &res);
    assert_int_equal (cand[x].excluded, PLACE_EXCL_POLICY);
    placement_fed_destroy (f);
}

/* Two inputs: each policy applies; the sum of their moves counts. */
static void test_two_inputs (void **state)
{
    struct placement_fed *f = placement_fed_create (1 * GB, 0.0);
    int a = add (f, "a", "r", 8);
    int b = add (f, "b", "r", 8);
    int c = add (f, "c", "r", 8);
    int ra[] = {a}, rb[] = {b};
    struct placement_input in[2] = {
        {.name = "x", .bytes = (uint64_t)(3 * GB), .replicas = ra, .nreplicas = 1},
        {.name = "y", .bytes = (uint64_t)(2 * GB), .replicas = rb, .nreplicas = 1},
    };
    struct placement_task t = {.ranks = 1, .runtime_s = 0, .ninputs = 2, .inputs = in};
    struct placement_result res;
    decide (f, &t, &res);
    assert_int_equal (res.site, a);     /* moves 2 GB; b moves 3; c moves 5 */
    assert_true (fabs (cand[a].cost_s - 2) < 1e-12);
    assert_true (fabs (cand[b].cost_s - 3) < 1e-12);
    assert_true (fabs (cand[c].cost_s - 5) < 1e-12);
    assert_int_equal (cand[a].bytes_local, (uint64_t)(3 * GB));
    assert_int_equal (cand[a].bytes_moved, (uint64_t)(2 * GB));
    fs_policy_t none = pol ("none");
    in[1].policy = &none;
    decide (f, &t, &res);
    assert_int_equal (res.site, b);
    assert_int_equal (cand[a].excluded, PLACE_EXCL_POLICY);
    assert_int_equal (cand[a].input, 1);
    assert_int_equal (cand[c].excluded, PLACE_EXCL_POLICY);
    assert_contains (res.reason, "input data is at b (2.0 GB here, 3.0 GB to move); "
                                 "b is the only site that can run it now");
    /* both none, at different sites: never placeable */
    in[0].policy = &none;
    decide (f, &t, &res);
    assert_int_equal (res.status, PLACEMENT_NEVER);
    assert_int_equal (res.site, -1);
    assert_contains (res.reason, "no site is allowed by the policies of all its inputs");
    assert_contains (res.reason, "input 'x' (none) stays at a");
    assert_contains (res.reason, "input 'y' (none) stays at b");
    placement_fed_destroy (f);
}

static void test_ties (void **state)
{
    struct placement_fed *f = placement_fed_create (1 * GB, 0.01);
    int beta = add (f, "beta", "r", 16);        /* added first: index order is not name order */
    int alpha = add (f, "alpha", "r", 16);
    int gamma = add (f, "gamma", "r", 16);
    struct placement_task t = {.ranks = 4, .runtime_s = 100};
    struct placement_result res;
    decide (f, &t, &res);
    assert_int_equal (res.site, alpha);
    assert_contains (res.reason, "alpha comes first by name");
    placement_fed_site (f, gamma)->cores_free = 15;
    placement_fed_site (f, alpha)->cores_free = 8;
    placement_fed_site (f, beta)->cores_free = 16;
    decide (f, &t, &res);
    assert_int_equal (res.site, beta);
    assert_contains (res.reason, "beta has more free cores (16 vs 15)");
    /* within 1e-9 relative is a tie; beyond it the cheaper wins */
    t.runtime_s = 1e6;
    placement_fed_site (f, beta)->wait_s = 1e-4;     /* 1e-10 relative: still a tie */
    placement_fed_site (f, beta)->cores_free = 2;
    placement_fed_site (f, alpha)->cores_free = 3;
    placement_fed_site (f, gamma)->cores_free = 3;
    decide (f, &t, &res);
    assert_int_equal (res.site, alpha);
    placement_fed_site (f, gamma)->cores_free = 2;
    placement_fed_site (f, alpha)->cores_free = 2;
    decide (f, &t, &res);
    assert_int_equal (res.site, alpha);         /* all tie, all 2 free: by name */
    placement_fed_site (f, alpha)->wait_s = 10;
    placement_fed_site (f, alpha)->cores_free = 2;
    decide (f, &t, &res);
    assert_int_equal (res.site, beta);          /* tie with gamma (1e-10), beta < gamma */
    placement_fed_destroy (f);
}

static void test_pins (void **state)
{
    struct placement_fed *f = placement_fed_create (1 * GB, 0.01);
    int a = add (f, "a", "r", 8);
    int b = add (f, "b", "r", 8);
    int tiny = add (f, "tiny", "r", 2);
    int ra[] = {a};
    struct placement_input in = {.name = "d", .bytes = (uint64_t)(10 * GB), .replicas = ra,
                                 .nreplicas = 1};
    struct placement_task t = {.ranks = 4, .runtime_s = 1, .pinned = true, .pin_site = b,
                               .ninputs = 1, .inputs = &in};
    struct placement_result res;
    decide (f, &t, &res);
    assert_int_equal (res.site, b);             /* more expensive than a, but pinned */
    assert_int_equal (cand[a].excluded, PLACE_EXCL_PIN);
    assert_contains (describe (f, &t, a), "not the pinned site (b)");
    /* explain names the sites a pin leaves out (it once ended in an empty "others: ") */
    assert_contains (res.reason, "; others: 2 not the site the task is pinned to (a, tiny)");

    placement_fed_site (f, b)->up = false;
    decide (f, &t, &res);
    assert_int_equal (res.status, PLACEMENT_WAIT);
    assert_int_equal (res.site, -1);
    assert_int_equal (cand[b].excluded, PLACE_EXCL_DOWN);
    assert_contains (res.reason, "pinned to b, which can't run it now: down");
    assert_false (placement_never_placeable (f, &t, NULL, 0));

    char why[512];
    t.pin_site = tiny;
    decide (f, &t, &res);
    assert_int_equal (res.status, PLACEMENT_NEVER);
    assert_contains (res.reason, "pinned to tiny, which has 2 cores; it needs 4 ranks");
    assert_true (placement_never_placeable (f, &t, why, sizeof (why)));
    assert_string_equal (why, res.reason);

    fs_policy_t none = pol ("none");
    in.policy = &none;
    t.pin_site = b;
    placement_fed_site (f, b)->up = true;
    decide (f, &t, &res);
    assert_int_equal (res.status, PLACEMENT_NEVER);
    assert_contains (res.reason, "pinned to b, but input 'd' (none) stays at a");
    assert_int_equal (cand[b].excluded, PLACE_EXCL_POLICY);

    /* a pin out of range is the caller's error */
    fs_error_t err;
    t.pin_site = 99;
    assert_int_equal (placement_decide (f, &t, cand, 64, &res, &err), -1);
    assert_int_equal (err.code, FS_EINVAL);
    placement_fed_destroy (f);
}

/* An app's vetoes: a vetoed site is excluded with the veto's words, the others
 * compete as usual (the bundle as one more input: local where it is); every
 * site vetoed is a wait, not never (trust and requirements change). */
static void test_app_vetoes (void **state)
{
    struct placement_fed *f = placement_fed_create (1 * GB, 0.01);
    int a = add (f, "a", "r", 8);
    int b = add (f, "b", "r", 8);
    int c = add (f, "c", "r", 8);
    int ra[] = {a}, rb[] = {b};
    struct placement_input ins[2] = {
        {.name = "d", .bytes = (uint64_t)(1 * GB), .replicas = ra, .nreplicas = 1},
        {.name = "app heat@1", .bytes = (uint64_t)(50 * MB), .replicas = rb, .nreplicas = 1},
    };
    const char *vetoes[3] = { "does not trust publisher p of app heat", NULL, NULL };
    struct placement_task t = {.ranks = 1, .runtime_s = 1, .ninputs = 2, .inputs = ins,
                               .vetoes = vetoes};
    struct placement_result res;
    decide (f, &t, &res);
    /* a holds the data but is vetoed; b holds the bundle, c nothing: b wins */
    assert_int_equal (res.status, PLACEMENT_PLACED);
    assert_int_equal (res.site, b);
    assert_int_equal (cand[a].excluded, PLACE_EXCL_APP);
    assert_string_equal (placement_excl_name (cand[a].excluded), "app");
    assert_contains (describe (f, &t, a), "does not trust publisher p of app heat");
    assert_int_equal (cand[b].bytes_local, 50 * MB);
    assert_int_equal (cand[c].bytes_moved, 1 * GB + 50 * MB);
    assert_true (cand[c].cost_s > cand[b].cost_s);
    /* Without the vetoes the data decides. */
    t.vetoes = NULL;
    decide (f, &t, &res);
    assert_int_equal (res.site, a);
    /* Every site vetoed: wait, with the reasons. */
    const char *all[3] = { "lacks command mpirun", "lacks command mpirun", "does not allow app heat" };
    t.vetoes = all;
    decide (f, &t, &res);
    assert_int_equal (res.status, PLACEMENT_WAIT);
    assert_contains (res.reason, "3 unable to run its app (a, b, c)");
    /* A pinned, vetoed site. */
    t.pinned = true;
    t.pin_site = c;
    decide (f, &t, &res);
    assert_int_equal (res.status, PLACEMENT_WAIT);
    assert_contains (res.reason, "pinned to c, which can't run it now: does not allow app heat");
    placement_fed_destroy (f);
}

static void test_site_states (void **state)
{
    struct placement_fed *f = placement_fed_create (1 * GB, 0.01);
    int a = add (f, "a", "r", 8);
    int b = add (f, "b", "r", 8);
    int c = add (f, "c", "r", 8);
    int d = add (f, "d", "r", 2);
    placement_fed_site (f, a)->up = false;
    placement_fed_site (f, b)->drained = true;
    struct placement_task t = {.ranks = 4, .runtime_s = 1};
    struct placement_result res;
    decide (f, &t, &res);
    assert_int_equal (res.site, c);
    assert_int_equal (cand[a].excluded, PLACE_EXCL_DOWN);
    assert_int_equal (cand[b].excluded, PLACE_EXCL_DRAINED);
    assert_int_equal (cand[d].excluded, PLACE_EXCL_CORES);
    assert_string_equal (describe (f, &t, a), "down");
    assert_string_equal (describe (f, &t, b), "drained");
    assert_string_equal (placement_excl_name (cand[d].excluded), "cores");
    assert_string_equal (describe (f, &t, c), "");
    assert_contains (res.reason, "c is the only site that can run it now");
    assert_contains (res.reason, "1 down (a), 1 drained (b), 1 with too few cores (d)");

    /* nothing up: wait, not never */
    placement_fed_site (f, c)->up = false;
    decide (f, &t, &res);
    assert_int_equal (res.status, PLACEMENT_WAIT);
    assert_contains (res.reason, "no site can run it now: 2 down (a, c), 1 drained (b)");
    assert_false (placement_never_placeable (f, &t, NULL, 0));

    /* ranks above every site's cores: never */
    t.ranks = 9;
    decide (f, &t, &res);
    assert_int_equal (res.status, PLACEMENT_NEVER);
    assert_contains (res.reason, "it needs 9 ranks but the largest site, a, has 8 cores");
    placement_fed_destroy (f);
}

static void test_replicas_down (void **state)
{
    struct placement_fed *f = placement_fed_create (1 * GB, 0.01);
    int a = add (f, "a", "r", 8);
    int b = add (f, "b", "r", 8);
    int c = add (f, "c", "r", 8);
    int rep[] = {a, b};
    struct placement_input in = {.name = "obs", .bytes = 1000, .replicas = rep, .nreplicas = 2};
    struct placement_task t = {.ranks = 1, .runtime_s = 1, .ninputs = 1, .inputs = &in};
    struct placement_result res;
    placement_fed_site (f, a)->up = false;
    decide (f, &t, &res);
    assert_int_equal (res.site, b);
    placement_fed_site (f, b)->up = false;
    decide (f, &t, &res);
    assert_int_equal (res.status, PLACEMENT_WAIT);
    assert_int_equal (cand[a].excluded, PLACE_EXCL_DOWN);
    assert_int_equal (cand[b].excluded, PLACE_EXCL_DOWN);
    assert_int_equal (cand[c].excluded, PLACE_EXCL_REPLICAS_DOWN);
    assert_contains (describe (f, &t, c), "every replica of input 'obs' is at a down site (a, b)");
    assert_contains (res.reason, "every replica of input 'obs' is at a down site (a, b)");
    assert_false (placement_never_placeable (f, &t, NULL, 0));
    assert_int_equal (source (f, &in, c), -1);

    /* an input without any replica (yet) */
    in.nreplicas = 0;
    decide (f, &t, &res);
    assert_int_equal (res.status, PLACEMENT_WAIT);
    assert_int_equal (cand[c].excluded, PLACE_EXCL_NO_REPLICA);
    assert_contains (describe (f, &t, c), "input 'obs' has no replica yet");
    placement_fed_destroy (f);
}

static void test_measured_overrides (void **state)
{
    struct placement_fed *f = placement_fed_create (1 * GB, 0.01);
    int s = add (f, "s", "r", 1);
    int a = add (f, "a", "r", 8);
    int b = add (f, "b", "r", 8);
    struct placement_links *l = placement_fed_links (f);
    set_link (f, s, a, 2 * GB, 0.01);
    set_link (f, s, b, 1 * GB, 0.01);
    struct placement_link_info li;
    placement_links_get (l, a, s, &li);         /* symmetric */
    assert_true (li.configured);
    assert_true (li.bandwidth == 2 * GB);
    assert_true (li.latency == 0.01);
    placement_links_get (l, a, b, &li);
    assert_false (li.configured);
    assert_true (li.bandwidth == 1 * GB);

    int rep[] = {s};
    struct placement_input in = {.bytes = (uint64_t)(10 * GB), .replicas = rep, .nreplicas = 1};
    struct placement_task t = {.ranks = 2, .runtime_s = 1, .ninputs = 1, .inputs = &in};
    struct placement_result res;
    decide (f, &t, &res);
    assert_int_equal (res.site, a);

    /* s -> a measured at 100 MB/s: the measurement replaces the configured 2 GB/s */
    placement_links_observe (l, s, a, 100 * MB, 1.0);
    placement_links_get (l, s, a, &li);
    assert_true (li.bandwidth == 100 * MB);
    assert_true (li.measured_bandwidth == 100 * MB);
    assert_true (li.configured_bandwidth == 2 * GB);
    assert_int_equal (li.samples, 1);
    placement_links_get (l, a, s, &li);         /* ordered: the other way is untouched */
    assert_true (li.bandwidth == 2 * GB);
    decide (f, &t, &res);
    assert_int_equal (res.site, b);
    assert_true (fabs (cand[a].move_s - (100 + 0.01)) < 1e-9);

    /* EWMA, alpha 0.3 */
    placement_links_observe (l, s, a, 200 * MB, 1.0);
    placement_links_get (l, s, a, &li);
    assert_true (fabs (li.bandwidth - (0.3 * 200 * MB + 0.7 * 100 * MB)) < 1e-3);
    assert_int_equal (li.samples, 2);
    /* junk samples are ignored */
    placement_links_observe (l, s, a, 0, 1.0);
    placement_links_observe (l, s, a, 1e6, 0);
    placement_links_observe (l, s, a, NAN, 1);
    placement_links_observe (l, s, a, 1e6, INFINITY);
    placement_links_get (l, s, a, &li);
    assert_int_equal (li.samples, 2);
    /* a later configuration doesn't hide the measurement */
    set_link (f, s, a, 50 * GB, 0.01);
    placement_links_get (l, s, a, &li);
    assert_true (fabs (li.bandwidth - 130 * MB) < 1e-3);

    fs_error_t err;
    assert_int_equal (placement_links_set_alpha (l, 0, &err), -1);
    assert_int_equal (placement_links_set_alpha (l, 1.5, &err), -1);
    assert_int_equal (placement_links_set_alpha (l, 1, &err), 0);
    placement_links_observe (l, s, a, 1 * GB, 1.0);
    placement_links_get (l, s, a, &li);
    assert_true (li.bandwidth == 1 * GB);
    assert_int_equal (placement_links_set (l, s, 7, 1, 1, &err), -1);
    assert_int_equal (placement_links_set (l, s, a, 0, 1, &err), -1);
    assert_int_equal (placement_links_set (l, s, a, 1, -1, &err), -1);
    assert_true (placement_links_transfer (l, s, s, 1e12) == 0);
    placement_fed_destroy (f);
}

/* federation.yaml's links: pairs may name sites before they say hello. */
static void test_configured_links (void **state)
{
    struct placement_fed *f = placement_fed_create (1 * GB, 0.01);
    int early = add (f, "early", "r", 1);
    struct link_cfg def = {.bandwidth = 5 * GB, .latency = 0.002};
    struct link_cfg pairs[] = {
        {.from = "early", .to = "late", .bandwidth = 100 * MB, .latency = 0.2},
        {.from = "late", .to = "later", .bandwidth = 7 * GB, .latency = 0.03},
        {.from = "x", .to = "x", .bandwidth = 1, .latency = 1},
    };
    fs_error_t err;
    struct link_cfg bad = {.from = "a", .to = "b", .bandwidth = 0, .latency = 0};
    assert_int_equal (placement_fed_configure_links (f, &def, &bad, 1, &err), -1);
    assert_int_equal (err.code, FS_EINVAL);
    assert_contains (err.text, "links.pairs a-b");
    assert_int_equal (placement_fed_configure_links (f, &def, pairs, 3, &err), 0);
    int late = add (f, "late", "r", 1);
    int other = add (f, "other", "r", 1);
    int later = add (f, "later", "r", 1);
    struct placement_links *l = placement_fed_links (f);
    struct placement_link_info li;
    placement_links_get (l, late, early, &li);
    assert_true (li.configured && li.bandwidth == 100 * MB && li.latency == 0.2);
    placement_links_get (l, later, late, &li);
    assert_true (li.configured && li.bandwidth == 7 * GB && li.latency == 0.03);
    placement_links_get (l, other, early, &li);
    assert_true (!li.configured && li.bandwidth == 5 * GB && li.latency == 0.002);
    assert_true (fabs (placement_links_transfer (l, early, late, 1e8) - 1.2) < 1e-12);

    /* many sites: the matrix grows and keeps what it knew */
    for (int i = 0; i < 40; i++) {
        char nm[16];
        snprintf (nm, sizeof (nm), "s%02d", i);
        add (f, nm, i % 2 ? "odd" : "even", 4);
    }
    placement_links_get (l, late, early, &li);
    assert_true (li.configured && li.bandwidth == 100 * MB);
    assert_int_equal (placement_fed_find (f, "s17"), 4 + 17);
    assert_int_equal (placement_fed_find (f, "nope"), -1);
    assert_string_equal (placement_fed_site (f, 4 + 17)->region, "odd");
    /* re-adding a site changes its region only */
    placement_fed_site (f, early)->cores = 99;
    assert_int_equal (placement_fed_add_site (f, "early", "elsewhere", &err), early);
    assert_string_equal (placement_fed_site (f, early)->region, "elsewhere");
    assert_int_equal (placement_fed_site (f, early)->cores, 99);
    assert_int_equal (placement_fed_add_site (f, "", "r", &err), -1);
    assert_int_equal (err.code, FS_EINVAL);
    placement_fed_destroy (f);
}

static void test_bad_arguments (void **state)
{
    struct placement_fed *f = placement_fed_create (1 * GB, 0.01);
    add (f, "a", "r", 8);
    add (f, "b", "r", 8);
    int rep[] = {5};
    struct placement_input in = {.bytes = 1, .replicas = rep, .nreplicas = 1};
    struct placement_task t = {.ranks = 1, .ninputs = 1, .inputs = &in};
    struct placement_result res;
    fs_error_t err;
    assert_int_equal (placement_decide (f, &t, cand, 1, &res, &err), -1);
    assert_int_equal (placement_decide (f, &t, cand, 64, &res, &err), -1);
    assert_contains (err.text, "replica site 5 out of range");
    assert_null (placement_fed_create (0, 1));
    assert_null (placement_fed_create (1, -1));
    placement_fed_destroy (NULL);
    placement_fed_destroy (f);

    /* a federation of one */
    f = placement_fed_create (1 * GB, 0.01);
    add (f, "solo", "r", 8);
    t.ninputs = 0;
    t.runtime_s = 30;
    decide (f, &t, &res);
    assert_int_equal (res.site, 0);
    assert_string_equal (res.reason, "solo is the only site that can run it now, "
                                     "est. 30.0 s (wait 0 s + move 0 B in 0 s + run 30.0 s)");
    placement_fed_destroy (f);

    /* an empty federation: never */
    f = placement_fed_create (1 * GB, 0.01);
    decide (f, &t, &res);
    assert_int_equal (res.status, PLACEMENT_NEVER);
    assert_string_equal (res.reason, "the federation has no sites");
    placement_fed_destroy (f);
}

static void test_never_placeable (void **state)
{
    struct placement_fed *f = placement_fed_create (1 * GB, 0.01);
    int a = add (f, "a", "eu", 4);
    int b = add (f, "b", "eu", 64);
    int c = add (f, "c", "us", 128);
    (void)b;
    char why[512];
    int ra[] = {a}, rc[] = {c};
    fs_policy_t none = pol ("none"), eu = pol ("regions=eu"), asia = pol ("regions=asia");
    fs_policy_t agg = pol ("aggregate=2");
    struct placement_input in[2] = {
        {.name = "p", .bytes = 1, .replicas = ra, .nreplicas = 1, .policy = &none},
        {.name = "q", .bytes = 1, .replicas = rc, .nreplicas = 1, .policy = &eu},
    };
    struct placement_task t = {.ranks = 2, .ninputs = 1, .inputs = in};
    assert_false (placement_never_placeable (f, &t, why, sizeof (why)));
    t.ranks = 8;        /* none keeps p at a, which has 4 cores */
    assert_true (placement_never_placeable (f, &t, why, sizeof (why)));
    assert_contains (why, "the only site its inputs' policies allow (a) has at most 4 cores");
    /* down or drained doesn't matter for "never" */
    t.ranks = 2;
    placement_fed_site (f, a)->up = false;
    placement_fed_site (f, a)->drained = true;
    assert_false (placement_never_placeable (f, &t, why, sizeof (why)));
    /* none at a + regions=eu held at c (us): a is in eu -> fine */
    t.ninputs = 2;
    assert_false (placement_never_placeable (f, &t, why, sizeof (why)));
    /* regions=asia held at c + none at a: no site */
    in[1].policy = &asia;
    assert_true (placement_never_placeable (f, &t, why, sizeof (why)));
    assert_contains (why, "input 'q' (regions=asia) may only go to region asia or stay at c");
    /* aggregate at c + none at a: no site, until the reduction satisfies it */
    in[1].policy = &agg;
    assert_true (placement_never_placeable (f, &t, why, sizeof (why)));
    in[1].reduce_satisfies = true;
    assert_false (placement_never_placeable (f, &t, why, sizeof (why)));
    /* inputs with no replica yet constrain nothing */
    in[1].reduce_satisfies = false;
    in[1].nreplicas = 0;
    assert_false (placement_never_placeable (f, &t, why, sizeof (why)));
    /* ranks above every site's cores */
    t.ranks = 129;
    assert_true (placement_never_placeable (f, &t, why, sizeof (why)));
    assert_contains (why, "it needs 129 ranks but the largest site, c, has 128 cores");
    placement_fed_destroy (f);
}

static void test_inherit (void **state)
{
    fs_policy_t raw = pol ("raw"), none = pol ("none"), agg = pol ("aggregate=2x8");
    fs_policy_t agg2 = pol ("aggregate=4x4"), agg3 = pol ("aggregate=3");
    fs_policy_t r1 = pol ("regions=eu,us,cn"), r2 = pol ("regions=cn,asia,eu");
    fs_policy_t r3 = pol ("regions=africa");
    struct placement_input in[3] = {{0}, {0}, {0}};
    fs_policy_t out;
    char buf[256];

    policy_inherit (in, 0, &out);
    assert_string_equal (policy_format (&out, buf, sizeof (buf)), "raw");
    in[0].policy = &raw;
    policy_inherit (in, 2, &out);       /* in[1] has no policy: raw */
    assert_string_equal (policy_format (&out, buf, sizeof (buf)), "raw");
    in[1].policy = &r1;
    policy_inherit (in, 2, &out);
    assert_string_equal (policy_format (&out, buf, sizeof (buf)), "regions=eu,us,cn");
    in[0].policy = &r2;
    policy_inherit (in, 2, &out);       /* intersection, in the first list's order */
    assert_string_equal (policy_format (&out, buf, sizeof (buf)), "regions=cn,eu");
    in[2].policy = &r3;
    policy_inherit (in, 3, &out);       /* nothing in common: nowhere */
    assert_string_equal (policy_format (&out, buf, sizeof (buf)), "none");
    in[2].policy = &agg;        /* regions and aggregate: no policy between them but none */
    policy_inherit (in, 3, &out);
    assert_string_equal (policy_format (&out, buf, sizeof (buf)), "none");
    /* a satisfied aggregate counts as raw */
    in[2].reduce_satisfies = true;
    policy_inherit (in, 3, &out);
    assert_string_equal (policy_format (&out, buf, sizeof (buf)), "regions=cn,eu");
    in[0].policy = &raw;
    in[1].policy = &raw;
    policy_inherit (in, 3, &out);
    assert_string_equal (policy_format (&out, buf, sizeof (buf)), "raw");
    /* two aggregates: cells that are whole cells of both grids */
    in[2].reduce_satisfies = false;
    in[1].policy = &agg2;
    policy_inherit (in, 3, &out);
    assert_string_equal (policy_format (&out, buf, sizeof (buf)), "aggregate=4x8");
    in[0].policy = &agg3;       /* another rank: no grid fits both */
    policy_inherit (in, 3, &out);
    assert_string_equal (policy_format (&out, buf, sizeof (buf)), "none");
    /* none beats everything */
    in[1].policy = &none;
    policy_inherit (in, 3, &out);
    assert_string_equal (policy_format (&out, buf, sizeof (buf)), "none");
    in[0].policy = &r1;
    in[2].policy = &raw;
    policy_inherit (in, 3, &out);
    assert_string_equal (policy_format (&out, buf, sizeof (buf)), "none");
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_bandwidth_decides),
        cmocka_unit_test (test_latency_small_inputs),
        cmocka_unit_test (test_best_replica),
        cmocka_unit_test (test_sources_order),
        cmocka_unit_test (test_policy_raw_and_regions),
        cmocka_unit_test (test_policy_none_and_aggregate),
        cmocka_unit_test (test_two_inputs),
        cmocka_unit_test (test_ties),
        cmocka_unit_test (test_pins),
        cmocka_unit_test (test_app_vetoes),
        cmocka_unit_test (test_site_states),
        cmocka_unit_test (test_replicas_down),
        cmocka_unit_test (test_measured_overrides),
        cmocka_unit_test (test_configured_links),
        cmocka_unit_test (test_bad_arguments),
        cmocka_unit_test (test_never_placeable),
        cmocka_unit_test (test_inherit),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
