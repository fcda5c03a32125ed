/* main.c - the fedsched command: daemons and client verbs (SPEC sections 1, 3). */
#include <stdarg.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/format/format.h"
#include "adapters/launch/launch.h"
#include "cli.h"
#include "common/msg.h"
#include "common/zsock.h"
#include "scheduler/scheduler.h"
#include "workers/worker.h"

static const struct {
    const char *name;
    int (*fn) (int argc, char **argv);
    const char *summary;
} verbs[] = {
    { "scheduler", scheduler_main, "run the federation's scheduler (-c federation.yaml)" },
    { "worker", worker_main, "run a site's worker (-c site.yaml)" },
    { "sites", cmd_sites, "list the sites: region, state, cores, datasets, heartbeat" },
    { "catalog", cmd_catalog, "list the datasets of the federation [GLOB] [--where KEY=VALUE]" },
    { "search", cmd_search, "find datasets by what they are: names, descriptions, attributes" },
    { "info", cmd_info, "all the catalog knows of one dataset: attributes, dimensions, ..." },
    { "publish", cmd_publish, "site operators: publish the datasets of a file or directory" },
    { "policy", cmd_policy, "site operators: change a dataset's policy [--loosen]" },
    { "get", cmd_get, "stream a slice of a dataset into a local HDF5 file" },
    { "validate", cmd_validate, "check a job file against the catalog without submitting it" },
    { "submit", cmd_submit, "submit a job file; prints the job id [--wait]" },
    { "jobs", cmd_jobs, "list the jobs: id, name, state, tasks done/total [--all]" },
    { "status", cmd_status, "one job: its tasks, their states and placements" },
    { "explain", cmd_explain, "why each task of a job runs where it runs, with every site's cost" },
    { "wait", cmd_wait, "wait until a job ends: 0 completed, 1 failed, 124 timeout" },
    { "watch", cmd_watch, "follow a job's progress until it ends" },
    { "cancel", cmd_cancel, "cancel a job and kill its running tasks" },
    { "logs", cmd_logs, "print a task's standard output or error" },
    { "links", cmd_links, "the bandwidth/latency matrix placement uses" },
    { "drain", cmd_drain, "operators: stop placing work on a site" },
    { "resume", cmd_resume, "operators: place work on a drained site again" },
    { "keygen", cmd_keygen, "write a CURVE key pair (--sign: an app publisher's signing pair)" },
    { "app", cmd_app, "app publish SITE DIR: pack, sign and publish an app" },
    { "apps", cmd_apps, "list the published apps: versions, digests, sites, trust [GLOB]" },
    { "sim", cmd_sim, "simulate a federation scenario: fedsched vs centralised, random, greedy" },
    { NULL, NULL, NULL },
};

/* The verb nearest to a mistyped one (optimal string alignment distance: a
 * swap of two neighbours counts as one edit, so 'gte' is one from 'get'), or
 * NULL when none is within a third of its length (at least 1, at most 2). */
static const char *nearest_verb (const char *typo)
{
    size_t n = strlen (typo), max = n / 3 < 1 ? 1 : n / 3 > 2 ? 2 : n / 3, best_d = max + 1;
    const char *best = NULL;
    if (n > 32)
        return NULL;
    for (int k = 0; verbs[k].name; k++) {
        const char *v = verbs[k].name;
        size_t m = strlen (v), d[34][34];
        if (m > 32)
            continue;
        for (size_t i = 0; i <= n; i++)
            d[i][0] = i;
        for (size_t j = 0; j <= m; j++)
            d[0][j] = j;
        for (size_t i = 1; i <= n; i++)
            for (size_t j = 1; j <= m; j++) {
                size_t c = d[i - 1][j - 1] + (typo[i - 1] != v[j - 1]);
                if (d[i - 1][j] + 1 < c)
                    c = d[i - 1][j] + 1;
                if (d[i][j - 1] + 1 < c)
                    c = d[i][j - 1] + 1;
                if (i > 1 && j > 1 && typo[i - 1] == v[j - 2] && typo[i - 2] == v[j - 1]
                    && d[i - 2][j - 2] + 1 < c)
                    c = d[i - 2][j - 2] + 1;
                d[i][j] = c;
            }
        if (d[n][m] < best_d) {
            best_d = d[n][m];
            best = v;
        }
    }
    return best;
}

/* fedsched --version: the version, the protocol version, and how it was built. */
static void version (void)
{
    char zmq[128], launchers[256];
    zsock_version (zmq, sizeof (zmq));
    launcher_names (launchers, sizeof (launchers));
    printf ("fedsched %s\nprotocol %d\nbuild: %s, sanitizers %s\nlaunchers: %s\n%s\n",
            FS_VERSION, FS_PROTO_VERSION, FS_BUILD_TYPE, FS_BUILD_SANITIZE ? "on" : "off",
            launchers, zmq);
}

static void usage (FILE *f)
{
    fprintf (f, "usage: fedsched [--scheduler URI] [--keys DIR] VERB [ARGS...]\n"
                "       fedsched --version\n\n"
                "fedsched federates scientific data centres: one catalog for every site's\n"
                "HDF5 datasets, slices streamed from the site that holds them, and jobs\n"
                "whose tasks run where their data is, within each dataset's policy.\n\nverbs:\n");
    for (int i = 0; verbs[i].name; i++)
        fprintf (f, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
    fprintf (f, "\n'fedsched VERB --help' describes a verb.  Exit codes: 0 success, 1 failed,\n"
                "2 invalid input, 75 scheduler or site unreachable, 124 timeout.\n");
}

int main (int argc, char **argv)
{
    /* Slice pieces (4 MiB by default, up to 64) are allocated and freed at a
     * high rate by ZeroMQ and the data plane.  glibc would map and unmap each
     * one afresh, and every page of it would fault and be cleared again: keep
     * them in the heap instead (workers give it back when idle).  One arena:
     * the top of a thread's arena is only given back when it exceeds the trim
     * threshold, never by malloc_trim(), so pieces freed there would stay
     * resident for good; the main arena's top is trimmed on demand. */
    mallopt (M_MMAP_THRESHOLD, 32 << 20);
    mallopt (M_TRIM_THRESHOLD, 256 << 20);
    mallopt (M_ARENA_MAX, 1);
    /* Global options before the verb are passed on to the verb. */
    static char *args[512];
    int nargs = 0, i = 1;
    char *pre[8];
    int npre = 0;
    while (i < argc && argv[i][0] == '-' && npre < 6) {
        if (!strcmp (argv[i], "--help") || !strcmp (argv[i], "-h")) {
            usage (stdout);
            return 0;
        }
        if (!strcmp (argv[i], "--version")) {
            version ();
            return 0;
        }
        if ((!strcmp (argv[i], "--scheduler") || !strcmp (argv[i], "--keys")) && i + 1 < argc) {
            pre[npre++] = argv[i++];
            pre[npre++] = argv[i++];
        } else if (!strncmp (argv[i], "--scheduler=", 12) || !strncmp (argv[i], "--keys=", 7)) {
            pre[npre++] = argv[i++];
        } else {
            fprintf (stderr, "fedsched: error: unknown option '%s' before the verb\n", argv[i]);
            usage (stderr);
            return 2;
        }
    }
    if (i >= argc) {
        usage (stderr);
        return 2;
    }
    const char *verb = argv[i];
    if (argc - i + npre >= (int)(sizeof (args) / sizeof (args[0])) - 1) {
        fprintf (stderr, "fedsched: error: too many arguments\n");
        return 2;
    }
    args[nargs++] = argv[i];
    for (int k = 0; k < npre; k++)
        args[nargs++] = pre[k];
    for (int k = i + 1; k < argc; k++)
        args[nargs++] = argv[k];
    args[nargs] = NULL;
    format_init ();
    for (int k = 0; verbs[k].name; k++)
        if (!strcmp (verbs[k].name, verb))
            return verbs[k].fn (nargs, args);
    const char *near = nearest_verb (verb);
    if (near)
        fprintf (stderr, "fedsched: error: unknown verb '%s': did you mean '%s'? (see 'fedsched "
                 "--help')\n", verb, near);
    else
        fprintf (stderr, "fedsched: error: unknown verb '%s' (see 'fedsched --help')\n", verb);
    return 2;
}
