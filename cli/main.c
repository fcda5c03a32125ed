/* main.c - the fedsched command: daemons and client verbs (SPEC sections 1, 3). */
#include <stdarg.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/format/format.h"
#include "cli.h"
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

static void usage (FILE *f)
{
    fprintf (f, "usage: fedsched [--scheduler URI] [--keys DIR] VERB [ARGS...]\n\n"
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
    fprintf (stderr, "fedsched: error: unknown verb '%s' (see 'fedsched --help')\n", verb);
    return 2;
}
