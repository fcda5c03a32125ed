/* sim.c - `fedsched sim`: run a federation scenario through the simulator
 * (cli/sim/sim.h) with each placement strategy and compare them.  No
 * daemons: the scenario file is the whole input (docs/sim.md). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "cli/sim/sim.h"
#include "table.h"

enum { OPT_STRATEGY = 2000, OPT_SEED, OPT_SITES, OPT_DATASETS, OPT_TASKS, OPT_PLACEMENTS };

static const struct option sim_longopts[] = {
    { "strategy", required_argument, NULL, OPT_STRATEGY },
    { "seed", required_argument, NULL, OPT_SEED },
    { "sites", required_argument, NULL, OPT_SITES },
    { "datasets", required_argument, NULL, OPT_DATASETS },
    { "tasks", required_argument, NULL, OPT_TASKS },
    { "placements", no_argument, NULL, OPT_PLACEMENTS },
    { NULL, 0, NULL, 0 },
};

static const struct cli_verb v_sim = {
    "sim", "SCENARIO.yaml [--strategy S,..] [--seed N] [--sites N] [--datasets N] [--tasks N]\n"
    "                    [--placements] [--json]",
    "Simulate a federation described in SCENARIO.yaml (docs/sim.md): the scheduler's own\n"
    "placement code against a simulated clock, simulated transfers (links shared fairly)\n"
    "and simulated runs - no processes, no scheduler needed.  Prints, per strategy,\n"
    "the makespan, the bytes moved between sites (WAN), the tasks placed and done,\n"
    "and the placement decisions per second.  Strategies:\n"
    "  fedsched     the scheduler's placement (earliest estimated finish, policies as\n"
    "               hard constraints, live free cores and queue waits)\n"
    "  centralised  copy every input dataset whole to the best-connected site\n"
    "               (ignoring policies), then run everything there on all the cores\n"
    "  random       a uniformly random site the policies allow\n"
    "  greedy       the allowed site with the most unclaimed cores (locality-blind)\n"
    "Deterministic for a given seed.  Exit 2 for a bad scenario (FILE:LINE:COL).\n"
    "  --strategy S,..  run only these (default: all four, in that order)\n"
    "  --seed N         the random strategy's seed (and a generated scenario's)\n"
    "  --sites N, --datasets N, --tasks N   resize a generated scenario\n"
    "  --placements     also print where each task ran under each strategy (a table;\n"
    "                   with --json, a 'sites' array per result, in task order)\n"
    "  --json           print {scenario, results[]} as JSON",
    NULL, sim_longopts,
};

static int parse_count (const char *opt, const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll (s, &end, 10);
    if (end == s || *end || errno || v < 0)
        return cli_usage_error (&v_sim, "%s: expected a non-negative integer, got '%s'", opt, s);
    *out = v;
    return 0;
}

static char *fmt_count (int64_t v, char *buf, size_t n)
{
    char raw[32];
    snprintf (raw, sizeof (raw), "%" PRId64, v < 0 ? -v : v);
    size_t len = strlen (raw), o = 0;
    if (v < 0 && o + 1 < n)
        buf[o++] = '-';
    for (size_t i = 0; i < len && o + 1 < n; i++) {
        if (i > 0 && (len - i) % 3 == 0 && o + 2 < n)
            buf[o++] = ',';
        buf[o++] = raw[i];
    }
    buf[o] = '\0';
    return buf;
}

static json_t *result_json (const struct sim_result *r)
{
    json_t *j = json_pack ("{s:s, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:f}",
                           "strategy", r->strategy, "makespan_s", r->makespan_s,
                           "wan_bytes", (json_int_t)r->wan_bytes,
                           "transfers", (json_int_t)r->transfers,
                           "tasks_placed", (json_int_t)r->tasks_placed,
                           "tasks_done", (json_int_t)r->tasks_done,
                           "tasks_unplaceable", (json_int_t)r->tasks_unplaceable,
                           "decisions", (json_int_t)r->decisions,
                           "decisions_per_s", r->decide_s > 0 ? (double)r->decisions / r->decide_s : 0.0,
                           "mean_wait_s", r->mean_wait_s, "wall_s", r->wall_s, "cpu_s", r->cpu_s);
    if (r->central_name) {
        json_object_set_new (j, "central_site", json_string (r->central_name));
        json_object_set_new (j, "copy_s", json_real (r->copy_s));
        json_object_set_new (j, "copy_bytes", json_integer ((json_int_t)r->copy_bytes));
    }
    return j;
}

static void print_table (const struct sim_info *in, const struct sim_result *res, int n)
{
    char b1[32], b2[32], b3[32], b4[32], b5[32];
    printf ("scenario %s%s: %d sites in %d regions, %s cores, %s datasets (%s), %s tasks "
            "(%s inputs), seed %" PRIu64 "\n\n",
            in->name, in->generated ? " (generated)" : "", in->sites, in->regions,
            fmt_count (in->cores, b1, sizeof (b1)), fmt_count (in->datasets, b2, sizeof (b2)),
            fmt_bytes ((double)in->dataset_bytes, b3, sizeof (b3)),
            fmt_count (in->tasks, b4, sizeof (b4)), fmt_count (in->inputs, b5, sizeof (b5)),
            in->seed);
    const struct sim_result *base = NULL;
    for (int i = 0; i < n; i++)
        if (!strcmp (res[i].strategy, "fedsched"))
            base = &res[i];
    static const char *const hdr[] = { "strategy", "makespan_s", "makespan", "vs_fedsched",
                                       "wan_bytes", "wan", "vs_fedsched", "placed", "done",
                                       "unplaceable", "decisions/s", "sim_time" };
    struct table *t = table_create (12, hdr);
    for (int i = 0; i < n; i++) {
        const struct sim_result *r = &res[i];
        char ms[32], mh[32], mx[32], wb[32], wh[32], wx[32], pl[32], dn[32], un[32], ds[32],
            wt[32];
        snprintf (ms, sizeof (ms), "%.0f", r->makespan_s);
        fmt_duration (r->makespan_s, mh, sizeof (mh));
        snprintf (wb, sizeof (wb), "%" PRIu64, r->wan_bytes);
        fmt_bytes ((double)r->wan_bytes, wh, sizeof (wh));
        snprintf (mx, sizeof (mx), "-");
        snprintf (wx, sizeof (wx), "-");
        if (base && base->makespan_s > 0)
            snprintf (mx, sizeof (mx), "%.2fx", r->makespan_s / base->makespan_s);
        if (base && base->wan_bytes > 0)
            snprintf (wx, sizeof (wx), "%.2fx", (double)r->wan_bytes / (double)base->wan_bytes);
        else if (base && r->wan_bytes == 0)
            snprintf (wx, sizeof (wx), "1.00x");
        fmt_count (r->tasks_placed, pl, sizeof (pl));
        fmt_count (r->tasks_done, dn, sizeof (dn));
        fmt_count (r->tasks_unplaceable, un, sizeof (un));
        if (r->decide_s > 0)
            fmt_count ((int64_t)((double)r->decisions / r->decide_s), ds, sizeof (ds));
        else
            snprintf (ds, sizeof (ds), "-");
        snprintf (wt, sizeof (wt), "%.2fs", r->wall_s);
        const char *cells[12] = { r->strategy, ms, mh, mx, wb, wh, wx, pl, dn, un, ds, wt };
        table_add (t, cells);
    }
    table_print (t, stdout);
    table_destroy (t);
    for (int i = 0; i < n; i++)
        if (res[i].central_name) {
            char by[32], d[32];
            printf ("\ncentralised: copied %s whole to %s (the best-connected site) in %s "
                    "before any task ran,\nignoring policies (it models copying everything), "
                    "then ran every task there on all %s cores\n",
                    fmt_bytes ((double)res[i].copy_bytes, by, sizeof (by)), res[i].central_name,
                    fmt_duration (res[i].copy_s, d, sizeof (d)),
                    fmt_count (in->cores, b1, sizeof (b1)));
        }
}

static void print_placements (const struct sim *s, const char *const *run, int nrun,
                              const char **where)
{
    int64_t nt = sim_task_count (s);
    const char *hdr[9] = { "task" };
    for (int i = 0; i < nrun; i++)
        hdr[i + 1] = run[i];
    struct table *t = table_create (nrun + 1, hdr);
    for (int64_t k = 0; k < nt; k++) {
        char name[80];
        const char *cells[9] = { sim_task_name (s, k, name, sizeof (name)) };
        for (int i = 0; i < nrun; i++)
            cells[i + 1] = where[i * nt + k];
        table_add (t, cells);
    }
    printf ("\n");
    table_print (t, stdout);
    table_destroy (t);
}

int cmd_sim (int argc, char **argv)
{
    struct client_opts co = { 0 };
    struct sim_opts so = SIM_OPTS_NONE;
    const char *only = NULL;
    bool placements = false;
    int c, ex;
    while ((c = cli_getopt (argc, argv, &v_sim, &co, &ex)) != -1) {
        if (ex >= 0)
            return ex;
        switch (c) {
        case OPT_STRATEGY: only = optarg; break;
        case OPT_PLACEMENTS: placements = true; break;
        case OPT_SEED:
            if (parse_count ("--seed", optarg, &so.seed) < 0)
                return 2;
            break;
        case OPT_SITES:
            if (parse_count ("--sites", optarg, &so.sites) < 0)
                return 2;
            if (so.sites < 1)
                return cli_usage_error (&v_sim, "--sites: at least 1");
            break;
        case OPT_DATASETS:
            if (parse_count ("--datasets", optarg, &so.datasets) < 0)
                return 2;
            if (so.datasets < 1)
                return cli_usage_error (&v_sim, "--datasets: at least 1");
            break;
        case OPT_TASKS:
            if (parse_count ("--tasks", optarg, &so.tasks) < 0)
                return 2;
            break;
        default: return cli_usage_error (&v_sim, "unexpected option");
        }
    }
    if (argc - optind != 1)
        return cli_usage_error (&v_sim, "sim needs exactly one SCENARIO.yaml");
    const char *const *all = sim_strategies ();
    const char *run[8];
    int nrun = 0;
    if (only) {
        char buf[256];
        snprintf (buf, sizeof (buf), "%s", only);
        for (char *save = NULL, *tok = strtok_r (buf, ",", &save); tok;
             tok = strtok_r (NULL, ",", &save)) {
            int k = 0;
            while (all[k] && strcmp (all[k], tok))
                k++;
            if (!all[k])
                return cli_usage_error (&v_sim, "--strategy: unknown strategy '%s' (fedsched, "
                                        "centralised, random, greedy)", tok);
            bool dup = false;
            for (int i = 0; i < nrun; i++)
                dup |= run[i] == all[k];
            if (!dup && nrun < 8)
                run[nrun++] = all[k];
        }
        if (nrun == 0)
            return cli_usage_error (&v_sim, "--strategy: no strategy given");
    } else {
        for (int k = 0; all[k] && nrun < 8; k++)
            run[nrun++] = all[k];
    }
    fs_error_t err = { 0 };
    struct sim *s = sim_load_file (argv[optind], &so, &err);
    if (!s) {
        fprintf (stderr, "fedsched: error: %s\n", err.text);
        return errcode_exit (err.code);
    }
    struct sim_result res[8];
    int64_t nt = sim_task_count (s);
    const char **where = NULL;          /* where[i * nt + t]: borrowed site names */
    if (placements && !(where = calloc ((size_t)(nrun * nt + 1), sizeof (*where)))) {
        fprintf (stderr, "fedsched: error: out of memory\n");
        sim_destroy (s);
        return 1;
    }
    for (int i = 0; i < nrun; i++) {
        if (sim_run (s, run[i], &res[i], &err) < 0) {
            fprintf (stderr, "fedsched: error: %s\n", err.text);
            free (where);
            sim_destroy (s);
            return errcode_exit (err.code);
        }
        for (int64_t t = 0; where && t < nt; t++)
            where[i * nt + t] = sim_task_site_at (s, t);
    }
    struct sim_info in;
    sim_info (s, &in);
    if (co.json) {
        json_t *results = json_array ();
        for (int i = 0; i < nrun; i++) {
            json_t *rj = result_json (&res[i]);
            if (where) {
                json_t *a = json_array ();
                for (int64_t t = 0; t < nt; t++)
                    json_array_append_new (a, where[i * nt + t] ? json_string (where[i * nt + t])
                                                                : json_null ());
                json_object_set_new (rj, "sites", a);
            }
            json_array_append_new (results, rj);
        }
        json_t *j = json_pack ("{s:{s:s, s:b, s:I, s:i, s:i, s:I, s:I, s:I, s:I, s:I}, s:o}",
                               "scenario", "name", in.name, "generated", in.generated,
                               "seed", (json_int_t)in.seed, "sites", in.sites,
                               "regions", in.regions, "cores", (json_int_t)in.cores,
                               "datasets", (json_int_t)in.datasets,
                               "dataset_bytes", (json_int_t)in.dataset_bytes,
                               "tasks", (json_int_t)in.tasks, "inputs", (json_int_t)in.inputs,
                               "results", results);
        cli_print_json (j);
        json_decref (j);
    } else {
        print_table (&in, res, nrun);
        if (where)
            print_placements (s, run, nrun, where);
    }
    free (where);
    sim_destroy (s);
    return 0;
}
