/* data.c - the data verbs: sites, catalog, publish, policy (get is in get.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "table.h"

static const struct cli_verb v_sites = {
    "sites", "[--json]",
    "List the sites of the federation: name, region, state (up/down/drained), cores\n"
    "total and free, running tasks, datasets held, last heartbeat, launcher, and for a\n"
    "site on a batch system (launcher: slurm) the jobs pending in its queue.",
    NULL, NULL,
};

int cmd_sites (int argc, char **argv)
{
    struct client_opts co = { 0 };
    int ex, code = 0;
    if (cli_getopt (argc, argv, &v_sites, &co, &ex) != -1 || ex >= 0)
        return ex >= 0 ? ex : cli_usage_error (&v_sites, "unexpected option");
    if (optind < argc)
        return cli_usage_error (&v_sites, "unexpected argument '%s'", argv[optind]);
    json_t *r = cli_call (&co, "sites.list", NULL, &code);
    if (!r)
        return code;
    json_t *sites = json_object_get (r, "sites");
    if (co.json) {
        /* SPEC section 3: exactly these fields, in this order. */
        json_t *out = json_array ();
        size_t i;
        json_t *s;
        json_array_foreach (sites, i, s)
            json_array_append_new (out, json_pack ("{s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O}",
                "name", json_object_get (s, "name"), "region", json_object_get (s, "region"),
                "state", json_object_get (s, "state"), "cores", json_object_get (s, "cores"),
                "cores_free", json_object_get (s, "cores_free"), "running",
                json_object_get (s, "running"), "datasets", json_object_get (s, "datasets"),
                "last_heartbeat", json_object_get (s, "last_heartbeat"),
                "launcher", json_object_get (s, "launcher") ? json_object_get (s, "launcher") : json_null (),
                "queue", json_object_get (s, "queue") ? json_object_get (s, "queue") : json_null ()));
        cli_print_json (out);
        json_decref (out);
    } else {
        static const char *const hdr[] = { "name", "region", "state", "cores", "free",
                                           "running", "datasets", "last heartbeat", "launcher",
                                           "queue" };
        struct table *t = table_create (10, hdr);
        size_t i;
        json_t *s;
        json_array_foreach (sites, i, s) {
            json_t *hb = json_object_get (s, "last_heartbeat");
            json_t *q = json_object_get (s, "queue");
            char queue[64] = "-";
            if (json_is_object (q))
                snprintf (queue, sizeof (queue), "%lld pending",
                          (long long)json_integer_value (json_object_get (q, "pending")));
            const char *launcher = json_string_value (json_object_get (s, "launcher"));
            table_addf (t, "%s\t%s\t%s\t%lld\t%lld\t%lld\t%lld\t%s\t%s\t%s",
                        json_string_value (json_object_get (s, "name")),
                        json_string_value (json_object_get (s, "region")),
                        json_string_value (json_object_get (s, "state")),
                        (long long)json_integer_value (json_object_get (s, "cores")),
                        (long long)json_integer_value (json_object_get (s, "cores_free")),
                        (long long)json_integer_value (json_object_get (s, "running")),
                        (long long)json_integer_value (json_object_get (s, "datasets")),
                        json_is_string (hb) ? json_string_value (hb) : "never",
                        launcher ? launcher : "-", queue);
        }
        table_print (t, stdout);
        table_destroy (t);
    }
    json_decref (r);
    return 0;
}

static const struct option catalog_opts[] = {
    { "where", required_argument, NULL, 'w' },
    { NULL, 0, NULL, 0 },
};

static const struct cli_verb v_catalog = {
    "catalog", "[GLOB] [--where KEY=VALUE]... [--json]",
    "List the federation's datasets (all, or those whose names match GLOB, where '*'\n"
    "also matches '/'): name, shape, element type, chunks, bytes, replicas, policy.\n"
    "  --where KEY=VALUE  only datasets whose KEY equals VALUE (numbers compare as\n"
    "                     numbers: _FillValue=-999 finds -999.0); KEY~TEXT: KEY contains\n"
    "                     TEXT, ignoring case.  Repeatable: all must hold.  KEY is an\n"
    "                     attribute of the dataset (else of its file), attrs.NAME or\n"
    "                     file.NAME for one of them, or dim.NAME.FIELD for a dimension:\n"
    "                     size, units, first, last (dates for CF time axes), calendar,\n"
    "                     frequency, or an attribute of its scale (see 'fedsched info').",
    "w:", catalog_opts,
};

int cmd_catalog (int argc, char **argv)
{
    struct client_opts co = { 0 };
    int ex, c, code = 0;
    json_t *where = json_array ();
    while ((c = cli_getopt (argc, argv, &v_catalog, &co, &ex)) != -1) {
        if (ex >= 0) {
            json_decref (where);
            return ex;
        }
        if (c == 'w' && json_array_append_new (where, json_string (optarg)) < 0) {
            json_decref (where);
            return cli_usage_error (&v_catalog, "--where: not UTF-8 text");
        }
    }
    if (argc - optind > 1) {
        json_decref (where);
        return cli_usage_error (&v_catalog, "at most one GLOB");
    }
    json_t *body = json_object ();
    if (optind < argc)
        json_object_set_new (body, "glob", json_string (argv[optind]));
    if (json_array_size (where))
        json_object_set (body, "where", where);
    json_decref (where);
    json_t *r = cli_call (&co, "catalog.list", body, &code);
    if (!r)
        return code;
    json_t *ds = json_object_get (r, "datasets");
    if (co.json) {
        cli_print_json (ds);
    } else {
        static const char *const hdr[] = { "name", "shape", "dtype", "chunks", "bytes",
                                           "replicas", "policy" };
        struct table *t = table_create (7, hdr);
        size_t i;
        json_t *d;
        json_array_foreach (ds, i, d) {
            char shape[256], chunks[256], bytes[32], reps[512] = "";
            size_t j, used = 0;
            json_t *r1;
            json_array_foreach (json_object_get (d, "replicas"), j, r1)
                if (used < sizeof (reps))
                    used += (size_t)snprintf (reps + used, sizeof (reps) - used, "%s%s", j ? "," : "",
                                              json_string_value (json_object_get (r1, "site")));
            const char *cells[7] = {
                json_string_value (json_object_get (d, "name")),
                fmt_shape (json_object_get (d, "shape"), shape, sizeof (shape)),
                json_string_value (json_object_get (d, "dtype")),
                json_is_null (json_object_get (d, "chunks"))
                    ? "contiguous" : fmt_shape (json_object_get (d, "chunks"), chunks, sizeof (chunks)),
                fmt_bytes ((double)json_integer_value (json_object_get (d, "bytes")), bytes, sizeof (bytes)),
                reps,
                json_string_value (json_object_get (d, "policy")),
            };
            table_add (t, cells);
        }
        table_print (t, stdout);
        table_destroy (t);
    }
    json_decref (r);
    return 0;
}

static const struct option publish_opts[] = {
    { "name", required_argument, NULL, 'n' },
    { "policy", required_argument, NULL, 'p' },
    { "token", required_argument, NULL, 't' },
    { NULL, 0, NULL, 0 },
};

static const struct cli_verb v_publish = {
    "publish", "SITE PATH [--name NAME] [--policy POLICY] [--json]",
    "Publish the datasets of an HDF5 file (or of every HDF5 file under a directory)\n"
    "held at SITE.  PATH is relative to one of SITE's data roots, or absolute inside\n"
    "one; anything that resolves outside them is refused.  Each dataset /g/d of\n"
    "ROOT/dir/file.h5 is named PREFIX/dir/file/g/d, where PREFIX is the root's prefix.\n"
    "  --name NAME      name for a single file's dataset (a file with several\n"
    "                   datasets gives NAME/g/d for each)\n"
    "  --policy POLICY  raw, none, regions=R1,R2 or aggregate=B1xB2..[,min=K]\n"
    "                   (default: the policy the data already stands under; its data\n"
    "                   root's at first)\n"
    "  --token T        the request's token (default: a new one); the same token again\n"
    "                   gets the first answer instead of publishing twice\n"
    "Publishing is an action of SITE's operators (with CURVE: keys in its keys/admin/).\n"
    "A policy belongs to the data: publishing the same file again, under any name or\n"
    "path, never loosens it (a looser POLICY is refused; 'fedsched policy --loosen'\n"
    "is the operators' way), and a stricter one tightens every name of the data.",
    "n:p:t:", publish_opts,
};

int cmd_publish (int argc, char **argv)
{
    struct client_opts co = { 0 };
    const char *name = NULL, *policy = NULL, *token = NULL;
    int ex, c, code = 0;
    char tok[40];
    while ((c = cli_getopt (argc, argv, &v_publish, &co, &ex)) != -1) {
        if (ex >= 0)
            return ex;
        if (c == 'n')
            name = optarg;
        else if (c == 'p')
            policy = optarg;
        else if (c == 't')
            token = optarg;
    }
    if (!token) {
        client_token (tok, sizeof (tok));
        token = tok;
    }
    if (argc - optind != 2)
        return cli_usage_error (&v_publish, "publish needs SITE and PATH");
    json_t *body = json_pack ("{s:s, s:s}", "site", argv[optind], "path", argv[optind + 1]);
    if (name)
        json_object_set_new (body, "name", json_string (name));
    if (policy)
        json_object_set_new (body, "policy", json_string (policy));
    json_object_set_new (body, "token", json_string (token));
    json_t *r = cli_call (&co, "catalog.publish", body, &code);
    if (!r)
        return code;
    json_t *ds = json_object_get (r, "datasets"), *sk = json_object_get (r, "skipped");
    size_t i;
    json_t *v;
    if (co.json) {
        cli_print_json (r);
    } else {
        json_array_foreach (ds, i, v)
            printf ("%s\n", json_string_value (v));
    }
    json_array_foreach (sk, i, v)
        fprintf (stderr, "fedsched: warning: skipped %s: %s\n",
                 json_string_value (json_object_get (v, "path")),
                 json_string_value (json_object_get (v, "reason")));
    int rc = json_array_size (ds) == 0 && json_array_size (sk) > 0 ? 1 : 0;
    if (rc)
        fprintf (stderr, "fedsched: error: nothing was published from %s at %s\n", argv[optind + 1],
                 argv[optind]);
    json_decref (r);
    return rc;
}

static const struct option policy_opts[] = {
    { "loosen", no_argument, NULL, 'l' },
    { NULL, 0, NULL, 0 },
};

static const struct cli_verb v_policy = {
    "policy", "SITE NAME POLICY [--loosen] [--json]",
    "Change the policy of dataset NAME at SITE: a site operator's action (with CURVE,\n"
    "a key in SITE's keys/admin/), written to the site's audit log.  The policy\n"
    "belongs to the data, so every name of the same file and dataset changes with\n"
    "it, and the catalog shows it at once.  POLICY: raw, none, regions=R1,R2 or\n"
    "aggregate=B1xB2..[,min=K].  A stricter policy is always taken; a looser one\n"
    "only with --loosen, and never below the policy its data root sets in site.yaml.\n"
    "  --loosen   allow the new policy to be looser than the one in force",
    "l", policy_opts,
};

int cmd_policy (int argc, char **argv)
{
    struct client_opts co = { 0 };
    bool loosen = false;
    int ex, c, code = 0;
    while ((c = cli_getopt (argc, argv, &v_policy, &co, &ex)) != -1) {
        if (ex >= 0)
            return ex;
        if (c == 'l')
            loosen = true;
    }
    if (argc - optind != 3)
        return cli_usage_error (&v_policy, "policy needs SITE, NAME and POLICY");
    json_t *body = json_pack ("{s:s, s:s, s:s, s:b}", "site", argv[optind], "name",
                              argv[optind + 1], "policy", argv[optind + 2], "loosen", loosen);
    json_t *r = cli_call (&co, "catalog.policy", body, &code);
    if (!r)
        return code;
    json_t *ds = json_object_get (r, "datasets"), *sk = json_object_get (r, "skipped");
    const char *before = json_string_value (json_object_get (r, "before"));
    const char *now = json_string_value (json_object_get (r, "policy"));
    size_t i;
    json_t *v;
    if (co.json)
        cli_print_json (r);
    else
        json_array_foreach (ds, i, v)
            printf ("%s: %s -> %s\n", json_string_value (v), before ? before : "?", now ? now : "?");
    json_array_foreach (sk, i, v)
        fprintf (stderr, "fedsched: warning: the catalog kept %s as it was: %s\n",
                 json_string_value (json_object_get (v, "path")),
                 json_string_value (json_object_get (v, "reason")));
    int rc = json_array_size (sk) > 0 ? 1 : 0;
    json_decref (r);
    return rc;
}
