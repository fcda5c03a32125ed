/* test_jobfile.c - job files (SPEC section 4): the model of a valid file, each
 * rejection at its line and column, the DAG, policies and argv expansion,
 * against a mocked federation view. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jobs/jobfile.h"

/* ------------------------------------------------------------------ */
/* A mocked federation: four sites, a few datasets. */

static const struct job_site_info mock_sites[] = {
    { "cma", "cn-north", 32 },
    { "nbs", "cn-north", 16 },
    { "mwr", "cn-south", 64 },
    { "ext", "eu", 8 },
};
#define NSITES (sizeof (mock_sites) / sizeof (mock_sites[0]))

struct mock_ds {
    const char *name;
    int ndims;
    uint64_t shape[3];
    fs_dtype_t dtype;
    const char *policy;
    const char *replica;
};

static const struct mock_ds mock_datasets[] = {
    { "cma/era5/precip", 3, { 100, 400, 500 }, FS_DT_FLOAT32, "raw", "cma" },
    { "nbs/census/pop", 3, { 5, 256, 256 }, FS_DT_INT32, "aggregate=1x4x4", "nbs" },
    { "mwr/basins/mask", 2, { 64, 64 }, FS_DT_UINT8, "regions=cn-south", "mwr" },
    { "priv/a", 1, { 10 }, FS_DT_FLOAT64, "none", "cma" },
    { "priv/b", 1, { 10 }, FS_DT_FLOAT64, "none", "nbs" },
    { "eu/obs", 1, { 10 }, FS_DT_FLOAT64, "regions=eu", "ext" },
};

struct mock {
    int lookups;
    bool fail_lookup;
};

static int mock_lookup (void *ctx, const char *name, struct job_dataset_info *out, fs_error_t *err)
{
    struct mock *m = ctx;
    m->lookups++;
    if (m->fail_lookup)
        return errprintf (err, FS_EFAIL, "catalog is down");
    for (size_t i = 0; i < sizeof (mock_datasets) / sizeof (mock_datasets[0]); i++) {
        const struct mock_ds *d = &mock_datasets[i];
        if (strcmp (d->name, name))
            continue;
        memset (out, 0, sizeof (*out));
        out->ndims = d->ndims;
        memcpy (out->shape, d->shape, sizeof (d->shape));
        out->dtype = d->dtype;
        assert_int_equal (policy_parse (d->policy, &out->policy, NULL), 0);
        out->nreplicas = 1;
        strcpy (out->replicas[0], d->replica);
        return 1;
    }
    return 0;
}

static size_t mock_site_count (void *ctx)
{
    return NSITES;
}

static int mock_site_get (void *ctx, size_t i, struct job_site_info *out, fs_error_t *err)
{
    assert_true (i < NSITES);
    *out = mock_sites[i];
    return 0;
}

/* One published app: heat@1.0 (entry points heat-index and calibrate, not MPI);
 * mpimodel@2 (entry point run, MPI). */
static int mock_app (void *ctx, const char *name, const char *version, struct job_app_info *out,
                     fs_error_t *err)
{
    struct mock *m = ctx;
    if (m->fail_lookup)
        return errprintf (err, FS_EFAIL, "app table is down");
    memset (out, 0, sizeof (*out));
    if (!strcmp (name, "heat") && !strcmp (version, "1.0")) {
        out->nentry = 2;
        strcpy (out->entry[0], "heat-index");
        strcpy (out->entry[1], "calibrate");
        return 1;
    }
    if (!strcmp (name, "mpimodel") && !strcmp (version, "2")) {
        out->mpi = true;
        out->nentry = 1;
        strcpy (out->entry[0], "run");
        return 1;
    }
    return 0;
}

/* Only the sites of region cn-north trust the publisher of mpimodel. */
static int mock_app_site (void *ctx, const char *name, const char *version, const char *site,
                          char *why, size_t whysz)
{
    (void)ctx;
    (void)version;
    if (strcmp (name, "mpimodel") || !strcmp (site, "cma") || !strcmp (site, "nbs"))
        return 1;
    snprintf (why, whysz, "does not trust publisher p of app %s", name);
    return 0;
}

static struct mock mock;
static struct job_fedview view = { &mock, mock_lookup, mock_site_count, mock_site_get, mock_app,
                                   mock_app_site };
static struct errlist errs = ERRLIST_INIT;

static int setup (void **state)
{
    memset (&mock, 0, sizeof (mock));
    return 0;
}

static int teardown (void **state)
{
    errlist_clear (&errs);
    return 0;
}

static struct job_spec *load (const char *text)
{
    return jobfile_load_string ("job.yaml", text, strlen (text), &view, &errs);
}

static void dump_errors (void)
{
    for (size_t i = 0; i < errs.count; i++)
        print_message ("  error: %s\n", errs.list[i].msg);
}

/* Some error is "job.yaml:POS: ..." and contains substr. */
static void assert_error (const char *pos, const char *substr)
{
    char prefix[64];
    snprintf (prefix, sizeof (prefix), "job.yaml:%s: ", pos);
    for (size_t i = 0; i < errs.count; i++)
        if (!strncmp (errs.list[i].msg, prefix, strlen (prefix))
            && strstr (errs.list[i].msg, substr))
            return;
    print_message ("expected an error at %s containing '%s'; got:\n", pos, substr);
    dump_errors ();
    fail ();
}

/* Loading text fails with exactly n errors. */
static void assert_rejected (const char *text, size_t n)
{
    struct job_spec *s = load (text);
    if (s || errs.count != n) {
        print_message ("expected %zu errors, got %zu:\n", n, errs.count);
        dump_errors ();
    }
    assert_null (s);
    assert_int_equal (errs.count, n);
    assert_int_equal (errs.code, FS_EINVAL);
}

/* ------------------------------------------------------------------ */
/* A valid job: SPEC section 4's example (with route's output declared). */

static const char flood[] =
    "version: 1\n"                                                              /* 1 */
    "name: flood-risk                       # optional\n"                       /* 2 */
    "tasks:\n"                                                                  /* 3 */
    "  - name: downscale\n"                                                     /* 4 */
    "    command: [regrid, --factor, \"2\", \"{in.rain}\", \"{out.fine}\"]\n"   /* 5 */
    "    ranks: 4\n"                                                            /* 6 */
    "    walltime: 10m\n"                                                       /* 7 */
    "    retries: 1\n"                                                          /* 8 */
    "    inputs:\n"                                                             /* 9 */
    "      rain: cma/era5/precip[0:48, 100:228, 300:428]\n"                     /* 10 */
    "      pop:                             # long form\n"                      /* 11 */
    "        slice: nbs/census/pop[0, :, :]\n"                                  /* 12 */
    "        reduce: {mean: [4, 4]}\n"                                          /* 13 */
    "    outputs:\n"                                                            /* 14 */
    "      fine: {}\n"                                                          /* 15 */
    "      risk: {publish: results/flood/risk}\n"                               /* 16 */
    "  - name: route\n"                                                         /* 17 */
    "    command: [route, \"{in.fine}\", \"{in.basins}\", \"{out.flow}\"]\n"    /* 18 */
    "    inputs:\n"                                                             /* 19 */
    "      fine: downscale.fine\n"                                              /* 20 */
    "      basins: mwr/basins/mask\n"                                           /* 21 */
    "    outputs:\n"                                                            /* 22 */
    "      flow: {}\n"                                                          /* 23 */
    "    after: [downscale]\n"                                                  /* 24 */
    "    site: mwr\n";                                                          /* 25 */

static void test_valid_model (void **state)
{
    struct job_spec *s = load (flood);
    if (!s)
        dump_errors ();
    assert_non_null (s);
    assert_int_equal (errs.count, 0);
    assert_int_equal (s->version, 1);
    assert_string_equal (s->name, "flood-risk");
    assert_int_equal (s->name_mark.line, 2);
    assert_int_equal (s->ntasks, 2);

    const struct job_task *d = &s->tasks[0], *r = &s->tasks[1];
    assert_string_equal (d->name, "downscale");
    assert_int_equal (d->mark.line, 4);
    assert_int_equal (d->mark.col, 5);
    assert_int_equal (d->name_mark.col, 11);
    assert_int_equal (d->argc, 5);
    assert_string_equal (d->argv[2], "2");
    assert_string_equal (d->argv[3], "{in.rain}");
    assert_null (d->argv[5]);
    assert_int_equal (d->argv_marks[3].line, 5);
    assert_int_equal (d->argv_marks[3].col, 38);
    assert_int_equal (d->ranks, 4);
    assert_true (d->walltime == 600.0);
    assert_int_equal (d->retries, 1);
    assert_int_equal (d->ninputs, 2);

    const struct job_input *rain = &d->inputs[0], *pop = &d->inputs[1];
    assert_string_equal (rain->name, "rain");
    assert_int_equal (rain->kind, JOB_IN_DATASET);
    assert_string_equal (rain->slice.name, "cma/era5/precip");
    assert_int_equal (rain->text_mark.line, 10);
    assert_int_equal (rain->text_mark.col, 13);
    assert_true (rain->resolved);
    assert_int_equal (rain->sel.ndims, 3);
    assert_int_equal (rain->sel.start[1], 100);
    assert_int_equal (rain->sel.count[0], 48);
    assert_int_equal (rain->sel.count[2], 128);
    assert_int_equal (rain->out_ndims, 3);
    assert_int_equal (rain->dtype, FS_DT_FLOAT32);
    assert_int_equal (rain->reduce.op, RED_NONE);

    assert_int_equal (pop->reduce.op, RED_MEAN);
    assert_int_equal (pop->reduce.nblock, 2);
    assert_int_equal (pop->reduce_mark.line, 13);
    assert_int_equal (pop->reduce_mark.col, 17);
    assert_true (pop->sel.dropped[0]);
    assert_int_equal (pop->out_ndims, 2);
    assert_int_equal (pop->out_shape[0], 64);
    assert_int_equal (pop->out_shape[1], 64);
    assert_int_equal (pop->policy.kind, POLICY_AGGREGATE);

    assert_int_equal (d->noutputs, 2);
    assert_string_equal (d->outputs[0].name, "fine");
    assert_null (d->outputs[0].publish);
    assert_string_equal (d->outputs[1].publish, "results/flood/risk");
    assert_int_equal (d->outputs[1].publish_mark.line, 16);

    /* raw rain, a reduction that satisfies pop's aggregate policy: anywhere. */
    assert_int_equal (d->nallowed, 4);

    assert_string_equal (r->name, "route");
    assert_int_equal (r->inputs[0].kind, JOB_IN_OUTPUT);
    assert_string_equal (r->inputs[0].from_task, "downscale");
    assert_string_equal (r->inputs[0].from_output, "fine");
    assert_int_equal (r->inputs[0].from_task_index, 0);
    assert_int_equal (r->inputs[0].from_output_index, 0);
    assert_false (r->inputs[0].resolved);
    assert_int_equal (r->inputs[1].policy.kind, POLICY_REGIONS);
    assert_int_equal (r->nafter, 1);
    assert_string_equal (r->site, "mwr");
    assert_int_equal (r->site_mark.line, 25);
    assert_int_equal (r->ranks, 1);
    assert_true (r->walltime == 3600.0);
    assert_int_equal (r->retries, 0);
    assert_int_equal (r->ndeps, 1);
    assert_int_equal (r->deps[0].task, 0);
    assert_int_equal (r->nallowed, 1);
    assert_string_equal (r->allowed[0], "mwr");

    assert_int_equal (s->order[0], 0);
    assert_int_equal (s->order[1], 1);
    assert_int_equal (jobfile_task_index (s, "route"), 1);
    assert_int_equal (jobfile_task_index (s, "nope"), -1);

    /* The same checks again on the loaded job. */
    assert_int_equal (jobfile_check (s, &view, &errs), 0);
    assert_int_equal (s->tasks[1].nallowed, 1);
    job_spec_destroy (s);

    /* No view: structure only. */
    s = jobfile_load_string ("dir/flood.yml", flood, strlen (flood), NULL, &errs);
    assert_non_null (s);
    assert_false (s->tasks[0].inputs[0].resolved);
    job_spec_destroy (s);
}

static void test_defaults_and_file (void **state)
{
    static const char text[] = "version: 1\ntasks:\n  - {name: only, command: [true]}\n";
    const char *tmp = getenv ("TMPDIR");
    char dir[1024], path[PATH_MAX], first[PATH_MAX];
    snprintf (dir, sizeof (dir), "%s/test_jobfile_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null (mkdtemp (dir));
    snprintf (path, sizeof (path), "%s/my flow.v2.yaml", dir);
    snprintf (first, sizeof (first), "%s", path);
    FILE *fp = fopen (path, "w");
    assert_non_null (fp);
    fputs (text, fp);
    fclose (fp);
    struct job_spec *s = jobfile_load (path, &view, &errs);
    assert_non_null (s);
    assert_string_equal (s->name, "my_flow_v2");  /* base name, extension dropped */
    assert_int_equal (s->name_mark.line, 0);
    assert_int_equal (s->tasks[0].nallowed, 4);
    job_spec_destroy (s);

    /* A missing file is not an invalid job file. */
    snprintf (path, sizeof (path), "%s/none.yaml", dir);
    assert_null (jobfile_load (path, &view, &errs));
    assert_int_equal (errs.count, 1);
    assert_int_equal (errs.code, FS_EFAIL);

    /* Oversized file on disk. */
    snprintf (path, sizeof (path), "%s/big.yaml", dir);
    fp = fopen (path, "w");
    assert_non_null (fp);
    fputs (text, fp);
    for (int i = 0; i < 20000; i++)
        fputs ("# padding padding padding padding padding padding padding\n", fp);
    fclose (fp);
    assert_null (jobfile_load (path, &view, &errs));
    assert_int_equal (errs.count, 1);
    assert_non_null (strstr (errs.list[0].msg, "larger than the limit of 1048576 bytes"));
    unlink (path);
    unlink (first);
    assert_int_equal (rmdir (dir), 0);      /* nothing left behind */
}

/* ------------------------------------------------------------------ */
/* Rejections */

static void test_unknown_keys (void **state)
{
    assert_rejected ("version: 1\n"
                     "colour: red\n"                    /* 2:1 */
                     "tasks:\n"
                     "  - name: a\n"
                     "    command: [x]\n"
                     "    cmd: [y]\n"                   /* 6:5 */
                     "    inputs:\n"
                     "      i:\n"
                     "        slice: cma/era5/precip\n"
                     "        reduse: {mean: [1]}\n"    /* 10:9 */
                     "    outputs:\n"
                     "      o: {publsh: r/x}\n",        /* 12:11 */
                     4);
    assert_error ("2:1", "job file: unknown key 'colour' (allowed: version, name, tasks)");
    assert_error ("6:5", "task 'a': unknown key 'cmd'");
    assert_error ("10:9", "task 'a': input 'i': unknown key 'reduse' (allowed: slice, reduce)");
    assert_error ("12:11", "task 'a': output 'o': unknown key 'publsh' (allowed: publish)");
    /* Sorted by position. */
    assert_non_null (strstr (errs.list[0].msg, ":2:1:"));
    assert_non_null (strstr (errs.list[3].msg, ":12:11:"));

    assert_rejected ("version: 1\ntasks:\n  - name: a\n    command: [x]\n"
                     "    inputs: {i: {slice: cma/era5/precip, reduce: {median: [2]}}}\n", 1);
    assert_error ("5:51", "unknown key 'median' (allowed: mean, sum, min, max)");
}

static void test_wrong_types (void **state)
{
    assert_rejected ("version: 1\n"
                     "tasks:\n"
                     "  - name: a\n"
                     "    command: [x]\n"
                     "    ranks: \"four\"\n"    /* 5:12 */
                     "    retries: 101\n"       /* 6:14 */
                     "    walltime: soon\n"     /* 7:15 */
                     "    after: b\n"           /* 8:12 */
                     "    site: [x]\n",         /* 9:11 */
                     5);
    assert_error ("5:12", "task 'a': ranks: expected an integer, found the string \"four\"");
    assert_error ("6:14", "retries: 101 is out of range (0..100)");
    assert_error ("7:15", "task 'a': walltime: invalid duration 'soon'");
    assert_error ("8:12", "after: expected a sequence of task names");
    assert_error ("9:11", "site: expected a site name, found a sequence");

    assert_rejected ("version: 1\ntasks:\n  - name: a\n    command: [x]\n    ranks: four\n"
                     "  - name: b\n    command: \"y --z\"\n    ranks: 0\n"
                     "    inputs: [a]\n    outputs: o\n", 5);
    assert_error ("5:12", "expected an integer, found 'four'");
    assert_error ("7:14", "command: expected a sequence (argv, no shell)");
    assert_error ("8:12", "ranks: 0 is out of range");
    assert_error ("9:13", "inputs: expected a mapping");
    assert_error ("10:14", "outputs: expected a mapping");

    assert_rejected ("tasks: {a: 1}\nname: [x]\nversion: one\n", 3);
    assert_error ("1:8", "tasks: expected a sequence of tasks, found a mapping");
    assert_error ("2:7", "name: expected a job name, found a sequence");
    assert_error ("3:10", "version: expected an integer");

    assert_rejected ("- a\n- b\n", 1);
    assert_error ("1:1", "expected a mapping with version, name and tasks, found a sequence");
    assert_rejected ("version: 1\n", 1);
    assert_error ("1:1", "missing 'tasks'");
    assert_rejected ("version: 1\ntasks: []\n", 1);
    assert_error ("2:8", "a job needs at least one task");
    assert_rejected ("version: 1\ntasks:\n  - [x]\n  - name: b c\n    command: [x]\n", 2);
    assert_error ("3:5", "tasks[0]: expected a mapping");
    assert_error ("4:11", "task name 'b c' at column 2: a space is not allowed");
}

static void test_version (void **state)
{
    assert_rejected ("version: 2\ntasks:\n  - {name: a, command: [x]}\n", 1);
    assert_error ("1:10", "version: 2 is not supported (this fedsched reads version 1)");
    assert_rejected ("tasks:\n  - {name: a, command: [x]}\n", 1);
    assert_error ("1:1", "missing 'version: 1'");
}

static void test_missing_command (void **state)
{
    assert_rejected ("version: 1\n"
                     "tasks:\n"
                     "  - name: a\n"        /* 3:5 */
                     "    ranks: 2\n"
                     "  - name: b\n"
                     "    command: []\n"    /* 6:14 */
                     "  - name: c\n"
                     "    command: [\"\", {x: 1}]\n"    /* 8:15, 8:19 */
                     "  - command: [x]\n",  /* 9:5 */
                     5);
    assert_error ("3:5", "task 'a': missing 'command'");
    assert_error ("6:14", "task 'b': command is empty");
    assert_error ("8:15", "task 'c': command[0]: the program name is empty");
    assert_error ("8:19", "task 'c': command[1]: expected a string, found a mapping");
    assert_error ("9:5", "tasks[3]: missing 'name'");
}

static void test_duplicate_names (void **state)
{
    assert_rejected ("version: 1\n"
                     "tasks:\n"
                     "  - name: a\n"
                     "    command: [x]\n"
                     "    outputs: {o: {publish: res/x}}\n"
                     "  - name: a\n"                        /* 6:11 */
                     "    command: [y]\n"
                     "  - name: b\n"
                     "    command: [y]\n"
                     "    outputs: {p: {publish: res/x}}\n",   /* 10:28 */
                     2);
    assert_error ("6:11", "duplicate task name 'a' (first at line 3, column 11)");
    assert_error ("10:28", "'res/x' is already published by task 'a', output 'o' (line 5)");

    /* Duplicate input names are duplicate YAML keys: ydoc refuses them. */
    assert_rejected ("version: 1\ntasks:\n  - name: a\n    command: [x]\n"
                     "    inputs:\n      i: priv/a\n      i: priv/b\n", 1);
    assert_error ("7:7", "duplicate key 'i' (first at line 6, column 7)");
}

static void test_bad_names (void **state)
{
    assert_rejected ("version: 1\ntasks:\n  - name: a\n    command: [x]\n"
                     "    inputs: {in.x: priv/a, \"\": priv/b}\n"
                     "    outputs: {o/p: {}, q: {publish: /abs}}\n", 4);
    assert_error ("5:14", "input name 'in.x' at column 3: '.' is not allowed");
    assert_error ("5:28", "input name is empty");
    assert_error ("6:15", "output name 'o/p' at column 2: '/' is not allowed");
    assert_error ("6:37", "publish: name '/abs' at column 1");
}

static void test_cycles (void **state)
{
    /* Two tasks through after. */
    assert_rejected ("version: 1\n"
                     "tasks:\n"
                     "  - name: a\n"        /* 3:5 */
                     "    command: [x]\n"
                     "    after: [b]\n"
                     "  - name: b\n"
                     "    command: [y]\n"
                     "    after: [a]\n",
                     1);
    assert_error ("3:5", "dependency cycle: a -> b -> a (a runs after b (line 5); "
                  "b runs after a (line 8))");

    /* Three tasks through outputs. */
    assert_rejected ("version: 1\n"
                     "tasks:\n"
                     "  - name: a\n"        /* 3:5 */
                     "    command: [x]\n"
                     "    inputs: {i: c.o}\n"
                     "    outputs: {o: {}}\n"
                     "  - name: b\n"
                     "    command: [y]\n"
                     "    inputs: {i: a.o}\n"
                     "    outputs: {o: {}}\n"
                     "  - name: c\n"
                     "    command: [z]\n"
                     "    inputs: {i: b.o}\n"
                     "    outputs: {o: {}}\n"
                     "  - name: d\n"        /* not in the cycle, but after it */
                     "    command: [z]\n"
                     "    after: [c]\n",
                     1);
    assert_error ("3:5", "dependency cycle: a -> c -> b -> a (a reads an output of c (line 5); "
                  "c reads an output of b (line 13); b reads an output of a (line 9))");

    /* Self, and two separate cycles. */
    assert_rejected ("version: 1\n"
                     "tasks:\n"
                     "  - {name: a, command: [x], after: [a]}\n"                /* 3:5 */
                     "  - {name: b, command: [x], outputs: {o: {}}, after: [c]}\n"     /* 4:5 */
                     "  - {name: c, command: [x], inputs: {i: b.o}, after: [a]}\n"
                     "  - {name: e, command: [x], after: [b, zz]}\n",           /* 6:40 */
                     3);
    assert_error ("3:5", "dependency cycle: a -> a (a runs after a (line 3))");
    assert_error ("4:5", "dependency cycle: b -> c -> b (b runs after c (line 4); c reads an "
                  "output of b (line 5))");
    assert_error ("6:40", "task 'e': after: unknown task 'zz'");
}

static void test_references (void **state)
{
    assert_rejected ("version: 1\n"
                     "tasks:\n"
                     "  - name: a\n"
                     "    command: [x]\n"
                     "    outputs: {o: {}}\n"
                     "  - name: b\n"
                     "    command: [y]\n"
                     "    inputs:\n"
                     "      i: a.p\n"               /* 9:10 */
                     "      j: z.o\n"               /* 10:10 */
                     "      k: {slice: a.o, reduce: {sum: [2]}}\n"     /* 11:31 */
                     "    after: [nope]\n",         /* 12:13 */
                     4);
    assert_error ("9:10", "task 'b': input 'i': task 'a' has no output 'p' (outputs: o)");
    assert_error ("10:10", "task 'b': input 'j': 'z.o' names no task of the job");
    assert_error ("11:31", "reduce applies to catalog datasets only");
    assert_error ("12:13", "task 'b': after: unknown task 'nope'");
}

static void test_placeholders (void **state)
{
    assert_rejected ("version: 1\n"
                     "tasks:\n"
                     "  - name: a\n"
                     "    command: [x, \"{inn.i}\", \"{in.j}\", \"a{b\", \"c}d\", \"{{ok}}\", "
                     "\"{out.o.dset}\", \"{in.i.size}\"]\n"
                     "    inputs: {i: priv/a}\n",
                     6);
    assert_error ("4:18", "task 'a': command[1]: unknown placeholder '{inn.i}' at column 1");
    assert_error ("4:29", "command[2]: placeholder '{in.j}' at column 1 names no input of the "
                  "task (inputs: i)");
    assert_error ("4:39", "command[3]: unbalanced '{' at column 2");
    assert_error ("4:46", "command[4]: unbalanced '}' at column 2");
    assert_error ("4:63", "placeholder '{out.o.dset}' at column 1 names no output of the task "
                  "(outputs: none declared)");
    assert_error ("4:79", "unknown placeholder '{in.i.size}'");

    /* Every known form is accepted. */
    struct job_spec *s = load ("version: 1\ntasks:\n  - name: a\n"
                               "    command: [\"{job}{task}{site}{ranks}\", \"{in.i}\", "
                               "\"{in.i.file}\", \"{in.i.dset}\", \"{out.o}\", \"{out.o.file}\", "
                               "\"{{}}\", \"x}}{{y\"]\n"
                               "    inputs: {i: priv/a}\n    outputs: {o: {}}\n    site: cma\n");
    if (!s)
        dump_errors ();
    assert_non_null (s);
    job_spec_destroy (s);
}

static void test_datasets_and_slices (void **state)
{
    assert_rejected ("version: 1\n"
                     "tasks:\n"
                     "  - name: a\n"
                     "    command: [x]\n"
                     "    inputs:\n"
                     "      u: cma/era5/nope[0]\n"          /* 6:10 */
                     "      v: cma/era5/precip[100]\n"      /* 7:10 */
                     "      w: cma/era5/precip[0, 0, 0, 0]\n"   /* 8:10 */
                     "      x: cma/era5/precip[::0]\n"      /* 9:10 */
                     "      y: ''\n"                        /* 10:10 */
                     "      z: {reduce: {mean: [2]}}\n",    /* 11:10 */
                     6);
    assert_error ("6:10", "task 'a': input 'u': unknown dataset 'cma/era5/nope'");
    assert_error ("7:10", "input 'v': slice 'cma/era5/precip[100]' at column 17: index 100 is "
                  "out of bounds for axis 0 with size 100 (dataset shape 100 x 400 x 500)");
    assert_error ("8:10", "input 'w': slice 'cma/era5/precip[0, 0, 0, 0]' at column 26: too many "
                  "indices");
    assert_error ("9:10", "input 'x': slice 'cma/era5/precip[::0]' at column 19: step");
    assert_error ("10:10", "input 'y': empty slice");
    assert_error ("11:10", "input 'z': missing 'slice'");

    /* A failing catalog is not the user's fault. */
    mock.fail_lookup = true;
    assert_null (load ("version: 1\ntasks:\n  - {name: a, command: [x], inputs: {i: priv/a}}\n"));
    assert_int_equal (errs.count, 1);
    assert_int_equal (errs.code, FS_EFAIL);
    assert_error ("3:41", "cannot look up dataset 'priv/a': catalog is down");
}

static void test_bad_reduce (void **state)
{
    assert_rejected ("version: 1\n"
                     "tasks:\n"
                     "  - name: a\n"
                     "    command: [x]\n"
                     "    inputs:\n"
                     "      i:\n"
                     "        slice: cma/era5/precip[0, 0:10, 0:10]\n"
                     "        reduce: {mean: [2, 2, 2]}\n"          /* 8:17 */
                     "      j:\n"
                     "        slice: cma/era5/precip\n"
                     "        reduce: {mean: [2, 2, 2], sum: [2, 2, 2]}\n"  /* 11:17 */
                     "      k:\n"
                     "        slice: cma/era5/precip\n"
                     "        reduce: {max: [0, 2, x]}\n"           /* 14:24, 14:30 */
                     "      l:\n"
                     "        slice: cma/era5/precip\n"
                     "        reduce: {min: 4}\n"                   /* 17:23 */
                     "      m:\n"
                     "        slice: cma/era5/precip\n"
                     "        reduce: mean\n",                      /* 20:17 */
                     6);
    assert_error ("8:17", "task 'a': input 'i': reduce: mean gives 3 block sizes but the slice "
                  "'cma/era5/precip[0, 0:10, 0:10]' selects 2 dimensions");
    assert_error ("11:17", "give exactly one of mean, sum, min or max (found 2)");
    assert_error ("14:24", "reduce: max[0]: 0 is out of range (at least 1)");
    assert_error ("14:30", "reduce: max[2]: expected an integer, found 'x'");
    assert_error ("17:23", "reduce: min: expected a sequence of block sizes");
    assert_error ("20:17", "reduce: expected a mapping such as {mean: [4, 4]}");
}

static void test_ranks_above_cores (void **state)
{
    assert_rejected ("version: 1\n"
                     "tasks:\n"
                     "  - name: a\n"
                     "    command: [x]\n"
                     "    ranks: 1000\n"            /* 5:12 */
                     "  - name: b\n"
                     "    command: [x]\n"
                     "    ranks: 20\n"              /* 8:12 */
                     "    site: ext\n"
                     "  - name: c\n"
                     "    command: [x]\n"
                     "    ranks: 20\n"              /* 12:12 */
                     "    inputs: {i: priv/b}\n",
                     3);
    assert_error ("5:12", "task 'a': ranks: 1000 ranks, but the largest site has 64 cores (mwr): "
                  "no site can ever run it");
    assert_error ("8:12", "task 'b': ranks: 20 ranks, but the pinned site ext (8 cores) has fewer "
                  "cores");
    assert_error ("12:12", "task 'c': ranks: 20 ranks, but the sites its inputs' data policies "
                  "allow have fewer cores: nbs (16 cores)");

    /* Allowed sites drop those with too few cores. */
    struct job_spec *s = load ("version: 1\ntasks:\n  - {name: a, command: [x], ranks: 20}\n");
    assert_non_null (s);
    assert_int_equal (s->tasks[0].nallowed, 2);
    assert_string_equal (s->tasks[0].allowed[0], "cma");
    assert_string_equal (s->tasks[0].allowed[1], "mwr");
    job_spec_destroy (s);
}

static void test_policies (void **state)
{
    /* none-data at cma + none-data at nbs. */
    assert_rejected ("version: 1\n"
                     "tasks:\n"
                     "  - name: a\n"                /* 3:5 */
                     "    command: [x]\n"
                     "    inputs:\n"
                     "      p: priv/a\n"
                     "      q: priv/b\n",
                     1);
    assert_error ("3:5", "task 'a': no site may run it under its inputs' data policies: "
                  "input 'p' (priv/a, policy none) only at cma; input 'q' (priv/b, policy none) "
                  "only at nbs");

    /* Regions against none; aggregate without a satisfying reduction; pin. */
    assert_rejected ("version: 1\n"
                     "tasks:\n"
                     "  - name: a\n"                /* 3:5 */
                     "    command: [x]\n"
                     "    inputs: {p: priv/a, q: mwr/basins/mask}\n"
                     "  - name: b\n"                /* 6:5 */
                     "    command: [x]\n"
                     "    inputs:\n"
                     "      p: {slice: nbs/census/pop, reduce: {mean: [1, 2, 2]}}\n"
                     "    site: cma\n"
                     "  - name: c\n"
                     "    command: [x]\n"
                     "    inputs: {p: 'nbs/census/pop[0]', q: eu/obs}\n",   /* 11:5 */
                     3);
    assert_error ("3:5", "input 'q' (mwr/basins/mask, policy regions=cn-south) only at mwr");
    assert_error ("6:5", "task 'b': no site may run it: pinned to site 'cma', but input 'p' "
                  "(nbs/census/pop, dataset policy 'aggregate=1x4x4': blocks of 2 along "
                  "dimension 1 are not whole cells of 4; nearest aligned read: "
                  "nbs/census/pop[0:5, 0:256, 0:256] --reduce mean:1,4,4) only at nbs");
    assert_error ("11:5", "input 'p' (nbs/census/pop, dataset policy 'aggregate=1x4x4': it lets "
                  "only sums and means over whole cells of its grid leave its site, and this "
                  "read has no reduction; nearest aligned read: nbs/census/pop[0, 0:256, 0:256] "
                  "--reduce sum:4,4) only at nbs; input 'q' (eu/obs, policy regions=eu) only at "
                  "ext");

    /* Outputs inherit their inputs' policies: b must run where a may. */
    assert_rejected ("version: 1\n"
                     "tasks:\n"
                     "  - name: a\n"
                     "    command: [x]\n"
                     "    inputs: {p: priv/a}\n"
                     "    outputs: {o: {}}\n"
                     "  - name: b\n"                /* 7:5 */
                     "    command: [x]\n"
                     "    inputs: {o: a.o, q: priv/b}\n",
                     1);
    assert_error ("7:5", "input 'o' (output of task 'a', which inherits its inputs' policies) "
                  "only at cma; input 'q' (priv/b, policy none) only at nbs");

    /* ... and a satisfied reduction counts as raw. */
    struct job_spec *s = load ("version: 1\n"
                               "tasks:\n"
                               "  - name: a\n"
                               "    command: [x]\n"
                               "    inputs: {p: {slice: nbs/census/pop, reduce: {sum: [1, 4, 8]}}}\n"
                               "    outputs: {o: {}}\n"
                               "  - name: b\n"
                               "    command: [x]\n"
                               "    inputs: {o: a.o, q: priv/b}\n");
    if (!s)
        dump_errors ();
    assert_non_null (s);
    assert_int_equal (s->tasks[0].nallowed, 4);
    assert_int_equal (s->tasks[1].nallowed, 1);
    assert_string_equal (s->tasks[1].allowed[0], "nbs");   /* the replica of none-data */
    job_spec_destroy (s);
}

static void test_pin_unknown_site (void **state)
{
    assert_rejected ("version: 1\n"
                     "tasks:\n"
                     "  - name: a\n"
                     "    command: [x]\n"
                     "    site: nowhere\n",     /* 5:11 */
                     1);
    assert_error ("5:11", "task 'a': site: 'nowhere' is not a site of the federation (sites: cma, "
                  "nbs, mwr, ext)");
}

static void test_yaml_refusals (void **state)
{
    assert_rejected ("version: 1\n"
                     "tasks:\n"
                     "  - &t\n"
                     "    name: a\n"
                     "    command: [x]\n"
                     "  - *t\n", 1);
    assert_error ("3:5", "anchors are not allowed (&t)");
    assert_rejected ("version: 1\n"
                     "tasks:\n"
                     "  - name: a\n"
                     "    command: [x]\n"
                     "  - *t\n", 1);
    assert_error ("5:5", "aliases are not allowed (*t)");
    assert_rejected ("version: 1\ntasks: !!binary eA==\n", 1);
    assert_error ("2:8", "tags are not allowed");

    /* Oversized. */
    size_t n = JOB_MAX_BYTES + 1;
    char *big = malloc (n + 1);
    assert_non_null (big);
    memset (big, '#', n);
    big[n] = '\0';
    assert_null (jobfile_load_string ("job.yaml", big, n, &view, &errs));
    free (big);
    assert_int_equal (errs.count, 1);
    assert_non_null (strstr (errs.list[0].msg, "larger than the limit of 1048576 bytes"));

    /* Deeply nested. */
    char deep[200] = "version: 1\nx: ";
    for (int i = 0; i < 40; i++)
        strcat (deep, "[");
    for (int i = 0; i < 40; i++)
        strcat (deep, "]");
    strcat (deep, "\n");
    assert_rejected (deep, 1);
    assert_error ("2:35", "nesting deeper than 32 levels");
}

static void test_multiple_errors (void **state)
{
    assert_rejected ("version: 2\n"                         /* 1:10 */
                     "tasks:\n"
                     "  - name: a\n"
                     "    command: [x, \"{in.q}\"]\n"       /* 4:18 */
                     "    ranks: \"four\"\n"                /* 5:12 */
                     "    inputs: {i: cma/era5/nope}\n"     /* 6:17 */
                     "    colour: red\n"                    /* 7:5 */
                     "  - name: b\n"
                     "    command: [x]\n"
                     "    after: [c]\n"                     /* 10:13 */
                     "    site: nowhere\n",                 /* 11:11 */
                     7);
    static const char *const pos[] = { ":1:10:", ":4:18:", ":5:12:", ":6:17:", ":7:5:",
                                       ":10:13:", ":11:11:" };
    for (size_t i = 0; i < 7; i++)
        assert_non_null (strstr (errs.list[i].msg, pos[i]));
    char *all = errlist_join (&errs, "\n");
    assert_non_null (all);
    assert_non_null (strstr (all, "job.yaml:1:10: version: 2 is not supported"));
    assert_non_null (strstr (all, "\njob.yaml:11:11: task 'b': site: 'nowhere'"));
    free (all);
    fs_error_t e;
    assert_int_equal (errlist_to_error (&errs, &e), -1);
    assert_int_equal (e.code, FS_EINVAL);
    assert_non_null (strstr (e.text, "(and 6 more errors)"));

    /* Many errors: counted past the ones kept. */
    size_t cap = 64 + 700 * 40;
    char *text = malloc (cap), *p = text;
    assert_non_null (text);
    p += sprintf (p, "version: 1\ntasks:\n");
    for (int i = 0; i < 700; i++)
        p += sprintf (p, "  - {name: t%d, ranks: 0}\n", i);
    struct job_spec *s = jobfile_load_string ("job.yaml", text, strlen (text), &view, &errs);
    free (text);
    assert_null (s);
    assert_int_equal (errs.count, ERRLIST_KEPT);
    assert_int_equal (errs.omitted, 1400 - ERRLIST_KEPT);
    all = errlist_join (&errs, "\n");
    assert_non_null (strstr (all, "... and 900 more errors"));
    free (all);
}

/* ------------------------------------------------------------------ */
/* Argv expansion, output names */

static int resolver (void *arg, const struct job_task *task, bool is_output, const char *name,
                     char *file, size_t filesz, char *dset, size_t dsetsz, fs_error_t *err)
{
    int *calls = arg;
    (*calls)++;
    if (!strcmp (name, "broken"))
        return errprintf (err, FS_EFAIL, "input 'broken' is not staged");
    snprintf (file, filesz, "/scratch/%s/%s/%s.h5", task->name, is_output ? "out" : "in", name);
    snprintf (dset, dsetsz, "/%s", name);
    return 0;
}

static void test_expand_argv (void **state)
{
    struct job_spec *s = load (flood);
    assert_non_null (s);
    int calls = 0, argc = 0;
    fs_error_t e;
    char **argv = jobfile_expand_argv (s, 0, "cma", 4, 17, resolver, &calls, &argc, &e);
    assert_non_null (argv);
    assert_int_equal (argc, 5);
    assert_string_equal (argv[0], "regrid");
    assert_string_equal (argv[2], "2");
    assert_string_equal (argv[3], "/scratch/downscale/in/rain.h5:/rain");
    assert_string_equal (argv[4], "/scratch/downscale/out/fine.h5:/fine");
    assert_null (argv[5]);
    assert_int_equal (calls, 2);
    jobfile_argv_free (argv);
    job_spec_destroy (s);

    static const char more[] =
        "version: 1\ntasks:\n  - name: m\n"
        "    command: [\"{job}-{task}@{site}:{ranks}\", \"f={in.x.file}\", \"d={in.x.dset}\", "
        "\"{{literal}}\", \"awk {{print $1}}\", \"{out.y.file}#{out.y.dset}\", \"\"]\n"
        "    inputs: {x: a/b, broken: c/d}\n    outputs: {y: {}}\n"
        "  - {name: n, command: [\"{in.broken}\"], inputs: {broken: c/d}}\n";
    s = jobfile_load_string ("j.yaml", more, strlen (more), NULL, &errs);
    if (!s)
        dump_errors ();
    assert_non_null (s);
    calls = 0;
    argv = jobfile_expand_argv (s, 0, "mwr", 8, 123, resolver, &calls, NULL, &e);
    assert_non_null (argv);
    assert_string_equal (argv[0], "123-m@mwr:8");
    assert_string_equal (argv[1], "f=/scratch/m/in/x.h5");
    assert_string_equal (argv[2], "d=/x");
    assert_string_equal (argv[3], "{literal}");
    assert_string_equal (argv[4], "awk {print $1}");
    assert_string_equal (argv[5], "/scratch/m/out/y.h5#/y");
    assert_string_equal (argv[6], "");
    assert_null (argv[7]);
    assert_int_equal (calls, 4);
    jobfile_argv_free (argv);

    /* The resolver's error comes back. */
    assert_null (jobfile_expand_argv (s, 1, "mwr", 1, 123, resolver, &calls, NULL, &e));
    assert_int_equal (e.code, FS_EFAIL);
    assert_string_equal (e.text, "input 'broken' is not staged");
    assert_null (jobfile_expand_argv (s, 2, "mwr", 1, 123, resolver, &calls, NULL, &e));
    assert_int_equal (e.code, FS_EINVAL);
    job_spec_destroy (s);
}

static int cmd_resolver (void *arg, bool is_output, const char *name, char *file, size_t filesz,
                         char *dset, size_t dsetsz, fs_error_t *err)
{
    (void)arg;
    if (strcmp (name, is_output ? "y" : "x"))
        return errprintf (err, FS_EINVAL, "no %s '%s'", is_output ? "output" : "input", name);
    snprintf (file, filesz, "/s/%s.h5", name);
    snprintf (dset, dsetsz, "/%s", name);
    return 0;
}

/* A site expands a command from task.start alone: no job file. */
static void test_expand_command (void **state)
{
    const char *cmd[] = { "run", "{in.x}", "{out.y.file}", "{task}/{job}/{site}/{ranks}",
                          "{{x}}", NULL };
    int argc = 0;
    fs_error_t e;
    char **argv = jobfile_expand_command (cmd, "t1", "s1", 2, 9, cmd_resolver, NULL, &argc, &e);
    assert_non_null (argv);
    assert_int_equal (argc, 5);
    assert_string_equal (argv[1], "/s/x.h5:/x");
    assert_string_equal (argv[2], "/s/y.h5");
    assert_string_equal (argv[3], "t1/9/s1/2");
    assert_string_equal (argv[4], "{x}");
    assert_null (argv[5]);
    jobfile_argv_free (argv);
    const char *bad[] = { "run", "{in.z}", NULL };
    assert_null (jobfile_expand_command (bad, "t1", "s1", 1, 9, cmd_resolver, NULL, NULL, &e));
    assert_int_equal (e.code, FS_EINVAL);
    assert_string_equal (e.text, "no input 'z'");
    const char *brace[] = { "run", "{oops", NULL };
    assert_null (jobfile_expand_command (brace, "t1", "s1", 1, 9, cmd_resolver, NULL, NULL, &e));
    assert_int_equal (e.code, FS_EINVAL);
}

static void test_output_name (void **state)
{
    char buf[300];
    fs_error_t e;
    assert_int_equal (jobfile_output_name (42, "downscale", "fine", buf, sizeof (buf), &e), 0);
    assert_string_equal (buf, "jobs/42/downscale/fine");
    assert_int_equal (jobfile_output_name (0, "a", "b", buf, sizeof (buf), &e), -1);
    assert_int_equal (e.code, FS_EINVAL);
    assert_int_equal (jobfile_output_name (1, "a/b", "c", buf, sizeof (buf), &e), -1);
    assert_int_equal (jobfile_output_name (1, "a", "c", buf, 8, &e), -1);
}

static void test_large_dag (void **state)
{
    /* A long chain, declared backwards: the order puts dependencies first. */
    enum { N = 3000 };
    size_t cap = 64 + (size_t) N * 80;
    char *text = malloc (cap), *p = text;
    assert_non_null (text);
    p += sprintf (p, "version: 1\ntasks:\n");
    for (int i = N - 1; i >= 0; i--) {
        if (i > 0)
            p += sprintf (p, "  - {name: t%d, command: [x], inputs: {i: t%d.o}, outputs: {o: {}}}\n",
                          i, i - 1);
        else
            p += sprintf (p, "  - {name: t%d, command: [x], outputs: {o: {}}}\n", i);
    }
    struct job_spec *s = jobfile_load_string ("job.yaml", text, strlen (text), &view, &errs);
    free (text);
    if (!s)
        dump_errors ();
    assert_non_null (s);
    for (size_t i = 0; i < N; i++)
        assert_int_equal (s->order[i], N - 1 - i);
    job_spec_destroy (s);
}

/* app: NAME@VERSION - the reference's form, the app published, command[0] one of
 * its entry points (a name, not a path), ranks > 1 only for an MPI app. */
static void test_app (void **state)
{
    struct job_spec *sp = load ("version: 1\n"
                                "tasks:\n"
                                "  - name: t\n"
                                "    app: heat@1.0\n"
                                "    command: [heat-index, '{out.o}']\n"
                                "    outputs: {o: {}}\n"
                                "  - name: m\n"
                                "    app: mpimodel@2\n"
                                "    command: [run]\n"
                                "    ranks: 4\n");
    if (!sp)
        dump_errors ();
    assert_non_null (sp);
    assert_string_equal (sp->tasks[0].app, "heat@1.0");
    assert_string_equal (sp->tasks[0].app_name, "heat");
    assert_string_equal (sp->tasks[0].app_version, "1.0");
    assert_string_equal (sp->tasks[1].app, "mpimodel@2");
    assert_string_equal (sp->tasks[1].argv[0], "run");
    job_spec_destroy (sp);

    assert_null (load ("version: 1\ntasks:\n  - name: t\n    app: heat\n    command: [x]\n"));
    assert_error ("4:10", "NAME@VERSION");
    errlist_clear (&errs);
    assert_null (load ("version: 1\ntasks:\n  - name: t\n    app: [heat@1.0]\n    command: [x]\n"));
    assert_error ("4:10", "app");
    errlist_clear (&errs);
    assert_null (load ("version: 1\ntasks:\n  - name: t\n    app: cold@1.0\n    command: [x]\n"));
    assert_error ("4:10", "unknown app 'cold@1.0'");
    errlist_clear (&errs);
    assert_null (load ("version: 1\ntasks:\n  - name: t\n    app: heat@2.0\n    command: [x]\n"));
    assert_error ("4:10", "unknown app 'heat@2.0'");
    errlist_clear (&errs);
    assert_null (load ("version: 1\ntasks:\n  - name: t\n    app: heat@1.0\n    command: [regrid]\n"));
    assert_error ("5:15", "not an entry point of app heat@1.0 (entry points: heat-index, calibrate)");
    errlist_clear (&errs);
    assert_null (load ("version: 1\ntasks:\n  - name: t\n    app: heat@1.0\n    command: [bin/heat-index]\n"));
    assert_error ("5:15", "must name an entry point");
    errlist_clear (&errs);
    assert_null (load ("version: 1\ntasks:\n  - name: t\n    app: heat@1.0\n"
                       "    command: [heat-index]\n    ranks: 2\n"));
    assert_error ("6:12", "not an MPI app");
    errlist_clear (&errs);
    /* No allowed site can run it: pinned to a site that does not trust it. */
    assert_null (load ("version: 1\ntasks:\n  - name: t\n    app: mpimodel@2\n    command: [run]\n"
                       "    site: mwr\n"));
    assert_error ("4:10", "no site can run app mpimodel@2: site mwr does not trust publisher p");
    errlist_clear (&errs);
    /* Unpinned, some site can. */
    sp = load ("version: 1\ntasks:\n  - name: t\n    app: mpimodel@2\n    command: [run]\n");
    assert_non_null (sp);
    job_spec_destroy (sp);
    /* The app table can't be read: a failure, not the job file's fault. */
    mock.fail_lookup = true;
    assert_null (load ("version: 1\ntasks:\n  - name: t\n    app: heat@1.0\n    command: [heat-index]\n"));
    assert_int_equal (errs.code, FS_EFAIL);
    mock.fail_lookup = false;
    /* Without a view that knows apps, only the form is checked. */
    errlist_clear (&errs);
    const char *plain = "version: 1\ntasks:\n  - name: t\n    app: x@1\n    command: [run]\n";
    sp = jobfile_load_string ("job.yaml", plain, strlen (plain), NULL, &errs);
    assert_non_null (sp);
    job_spec_destroy (sp);
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_valid_model, setup, teardown),
        cmocka_unit_test_setup_teardown (test_defaults_and_file, setup, teardown),
        cmocka_unit_test_setup_teardown (test_unknown_keys, setup, teardown),
        cmocka_unit_test_setup_teardown (test_wrong_types, setup, teardown),
        cmocka_unit_test_setup_teardown (test_version, setup, teardown),
        cmocka_unit_test_setup_teardown (test_missing_command, setup, teardown),
        cmocka_unit_test_setup_teardown (test_duplicate_names, setup, teardown),
        cmocka_unit_test_setup_teardown (test_bad_names, setup, teardown),
        cmocka_unit_test_setup_teardown (test_cycles, setup, teardown),
        cmocka_unit_test_setup_teardown (test_references, setup, teardown),
        cmocka_unit_test_setup_teardown (test_placeholders, setup, teardown),
        cmocka_unit_test_setup_teardown (test_datasets_and_slices, setup, teardown),
        cmocka_unit_test_setup_teardown (test_bad_reduce, setup, teardown),
        cmocka_unit_test_setup_teardown (test_ranks_above_cores, setup, teardown),
        cmocka_unit_test_setup_teardown (test_policies, setup, teardown),
        cmocka_unit_test_setup_teardown (test_pin_unknown_site, setup, teardown),
        cmocka_unit_test_setup_teardown (test_yaml_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown (test_multiple_errors, setup, teardown),
        cmocka_unit_test_setup_teardown (test_expand_argv, setup, teardown),
        cmocka_unit_test (test_expand_command),
        cmocka_unit_test_setup_teardown (test_output_name, setup, teardown),
        cmocka_unit_test_setup_teardown (test_large_dag, setup, teardown),
        cmocka_unit_test_setup_teardown (test_app, setup, teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
