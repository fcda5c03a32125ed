/* meta.c - finding data by what it is: search and info (SPEC section 3;
 * docs/user-guide.md, "Finding data"). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "table.h"

static const struct option search_opts[] = {
    { "limit", required_argument, NULL, 'n' },
    { NULL, 0, NULL, 0 },
};

static const struct cli_verb v_search = {
    "search", "TEXT [--limit N] [--json]",
    "Datasets ranked by how well their names, descriptions, attributes (and their\n"
    "files' attributes), dimension names and units, and the years their time axes\n"
    "cover match the words of TEXT.  Words match whole or as the start of a word,\n"
    "and plurals find singulars ('temperatures' finds 'temperature').  Datasets\n"
    "holding more of the words come first.\n"
    "  -n, --limit N  at most N datasets (default 20)\n"
    "  --json         [{name, score, shape, dtype, policy, matched: [fields]}]",
    "n:", search_opts,
};

/* A positive integer option; 0 with *out set, else the usage error's code. */
static int positive (const struct cli_verb *v, const char *opt, const char *s, long *out)
{
    char *end;
    errno = 0;
    long n = strtol (s, &end, 10);
    if (!isdigit ((unsigned char)s[0]) || *end || errno || n < 1 || n > 100000)
        return cli_usage_error (v, "%s needs a positive integer (1..100000), not '%s'", opt, s);
    *out = n;
    return 0;
}

int cmd_search (int argc, char **argv)
{
    struct client_opts co = { 0 };
    long limit = 20;
    int ex, c, code = 0;
    while ((c = cli_getopt (argc, argv, &v_search, &co, &ex)) != -1) {
        if (ex >= 0)
            return ex;
        if (c == 'n' && (code = positive (&v_search, "--limit", optarg, &limit)) != 0)
            return code;
    }
    if (argc - optind < 1)
        return cli_usage_error (&v_search, "search needs TEXT");
    /* Several words unquoted are one TEXT. */
    size_t len = 1;
    for (int i = optind; i < argc; i++)
        len += strlen (argv[i]) + 1;
    char *text = calloc (1, len);
    if (!text)
        return cli_usage_error (&v_search, "out of memory");
    for (int i = optind; i < argc; i++)
        strcat (strcat (text, i > optind ? " " : ""), argv[i]);
    json_t *jt = json_string (text);
    free (text);
    if (!jt)
        return cli_usage_error (&v_search, "TEXT is not UTF-8");
    json_t *r = cli_call (&co, "catalog.search", json_pack ("{s:o, s:i}", "text", jt, "limit", (int)limit),
                          &code);
    if (!r)
        return code;
    json_t *ds = json_object_get (r, "datasets");
    if (co.json) {
        cli_print_json (ds);
    } else if (json_array_size (ds) == 0) {
        fprintf (stderr, "fedsched: no dataset matches\n");
    } else {
        static const char *const hdr[] = { "score", "name", "shape", "dtype", "policy", "matched" };
        struct table *t = table_create (6, hdr);
        size_t i;
        json_t *d;
        json_array_foreach (ds, i, d) {
            char score[32], shape[256], matched[512] = "";
            size_t j, used = 0;
            json_t *m;
            snprintf (score, sizeof (score), "%.2f", json_real_value (json_object_get (d, "score")));
            json_array_foreach (json_object_get (d, "matched"), j, m)
                if (used < sizeof (matched))
                    used += (size_t)snprintf (matched + used, sizeof (matched) - used, "%s%s",
                                              j ? "," : "", json_string_value (m));
            const char *cells[6] = { score, json_string_value (json_object_get (d, "name")),
                                     fmt_shape (json_object_get (d, "shape"), shape, sizeof (shape)),
                                     json_string_value (json_object_get (d, "dtype")),
                                     json_string_value (json_object_get (d, "policy")), matched };
            table_add (t, cells);
        }
        table_print (t, stdout);
        table_destroy (t);
    }
    json_decref (r);
    return 0;
}

static const struct cli_verb v_info = {
    "info", "NAME [--json]",
    "Everything the catalog knows of one dataset: shape, element type, chunks,\n"
    "filters, bytes, policy, replicas, version, its attributes and its file's, and\n"
    "its dimensions (name, size, units, first and last values; dates for CF time\n"
    "axes, with calendar and frequency).\n"
    "  --json  a stable object: {name, shape, dtype, chunks, filters, bytes, policy,\n"
    "          version, replicas: [{site, state}], attrs, file_attrs, dims: [{size,\n"
    "          name, scale, dataset, units, first, last, first_value, last_value,\n"
    "          calendar, frequency, attrs}], attrs_omitted, file_attrs_omitted,\n"
    "          metadata, metadata_error} (see docs/user-guide.md)",
    NULL, NULL,
};

/* A metadata value as one line of text. */
static char *value_line (const json_t *v, char *buf, size_t n)
{
    if (json_is_string (v))
        snprintf (buf, n, "%s", json_string_value (v));
    else if (json_is_object (v) && json_object_get (v, "summary")) {
        const char *tx = json_string_value (json_object_get (v, "text"));
        snprintf (buf, n, "<%s>%s%.200s%s", json_string_value (json_object_get (v, "summary")),
                  tx ? " " : "", tx ? tx : "", tx && strlen (tx) > 200 ? "..." : "");
    } else {
        char *t = json_dumps (v, JSON_COMPACT | JSON_ENCODE_ANY);
        snprintf (buf, n, "%s", t ? t : "?");
        free (t);
    }
    for (char *p = buf; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    return buf;
}

static void print_attrs (const char *title, const json_t *attrs, json_int_t omitted)
{
    if (json_object_size (attrs) == 0 && !omitted)
        return;
    printf ("%s:\n", title);
    const char *k;
    json_t *v;
    size_t w = 0;
    json_object_foreach ((json_t *)attrs, k, v)
        if (strlen (k) > w)
            w = strlen (k);
    json_object_foreach ((json_t *)attrs, k, v) {
        char buf[1400];
        printf ("  %-*s  %s\n", (int)w, k, value_line (v, buf, sizeof (buf)));
    }
    if (omitted)
        printf ("  (%lld more not kept in the catalog)\n", (long long)omitted);
}

static void print_info (const json_t *d)
{
    char shape[256], chunks[256], bytes[32], buf[1400];
    printf ("name:      %s\n", json_string_value (json_object_get (d, "name")));
    printf ("shape:     %s\n", fmt_shape (json_object_get (d, "shape"), shape, sizeof (shape)));
    printf ("dtype:     %s\n", json_string_value (json_object_get (d, "dtype")));
    json_t *ch = json_object_get (d, "chunks");
    printf ("chunks:    %s\n", json_is_array (ch) ? fmt_shape (ch, chunks, sizeof (chunks)) : "contiguous");
    json_t *f = json_object_get (d, "filters");
    printf ("filters:   %s\n", json_is_array (f) ? json_array_size (f) ? value_line (f, buf, sizeof (buf))
                                                                         : "none" : "unknown");
    printf ("bytes:     %s (%lld)\n", fmt_bytes ((double)json_integer_value (json_object_get (d, "bytes")),
                                                 bytes, sizeof (bytes)),
            (long long)json_integer_value (json_object_get (d, "bytes")));
    printf ("policy:    %s\n", json_string_value (json_object_get (d, "policy")));
    printf ("version:   %lld\n", (long long)json_integer_value (json_object_get (d, "version")));
    printf ("replicas: ");
    size_t i;
    json_t *r;
    json_array_foreach (json_object_get (d, "replicas"), i, r)
        printf (" %s (%s)", json_string_value (json_object_get (r, "site")),
                json_string_value (json_object_get (r, "state")));
    printf ("\n");
    const char *ms = json_string_value (json_object_get (d, "metadata"));
    if (ms && !strcmp (ms, "none"))
        printf ("metadata:  none (the site that registered it sends none)\n");
    else if (ms && !strcmp (ms, "error"))
        printf ("metadata:  could not be read: %s\n",
                json_string_value (json_object_get (d, "metadata_error")));
    print_attrs ("attributes", json_object_get (d, "attrs"),
                 json_integer_value (json_object_get (d, "attrs_omitted")));
    print_attrs ("file attributes", json_object_get (d, "file_attrs"),
                 json_integer_value (json_object_get (d, "file_attrs_omitted")));
    json_t *dims = json_object_get (d, "dims");
    if (json_array_size (dims) == 0)
        return;
    static const char *const hdr[] = { "dim", "name", "size", "units", "first", "last", "notes" };
    struct table *t = table_create (7, hdr);
    json_t *dim;
    json_array_foreach (dims, i, dim) {
        char idx[24], size[32], first[128], last[128], notes[256] = "";
        const char *cal = json_string_value (json_object_get (dim, "calendar"));
        const char *freq = json_string_value (json_object_get (dim, "frequency"));
        const char *ds = json_string_value (json_object_get (dim, "dataset"));
        snprintf (idx, sizeof (idx), "%zu", i);
        snprintf (size, sizeof (size), "%lld", (long long)json_integer_value (json_object_get (dim, "size")));
        snprintf (notes, sizeof (notes), "%s%s%s%s%s%s", cal ? cal : "", cal && freq ? ", " : "",
                  freq ? freq : "", (cal || freq) && ds ? "; " : "", ds ? "coordinates: " : "",
                  ds ? ds : "");
        json_t *a = json_object_get (dim, "first"), *b = json_object_get (dim, "last");
        const char *cells[7] = { idx, json_string_value (json_object_get (dim, "name")), size,
                                 json_string_value (json_object_get (dim, "units")),
                                 a ? value_line (a, first, sizeof (first)) : NULL,
                                 b ? value_line (b, last, sizeof (last)) : NULL, notes[0] ? notes : NULL };
        table_add (t, cells);
    }
    printf ("dimensions:\n");
    table_print (t, stdout);
    table_destroy (t);
}

int cmd_info (int argc, char **argv)
{
    struct client_opts co = { 0 };
    int ex, code = 0;
    if (cli_getopt (argc, argv, &v_info, &co, &ex) != -1 || ex >= 0)
        return ex >= 0 ? ex : cli_usage_error (&v_info, "unexpected option");
    if (argc - optind != 1)
        return cli_usage_error (&v_info, "info needs exactly one NAME");
    json_t *name = json_string (argv[optind]);
    if (!name)
        return cli_usage_error (&v_info, "NAME is not UTF-8");
    json_t *r = cli_call (&co, "catalog.info", json_pack ("{s:o}", "name", name), &code);
    if (!r)
        return code;
    if (co.json)
        cli_print_json (json_object_get (r, "dataset"));
    else
        print_info (json_object_get (r, "dataset"));
    json_decref (r);
    return 0;
}
