/* verbs.c - what every client verb shares: options, usage, calling the scheduler. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { OPT_SCHEDULER = 1000, OPT_KEYS, OPT_JSON, OPT_HELP };

void cli_usage (const struct cli_verb *v, FILE *f)
{
    fprintf (f, "usage: fedsched %s %s\n", v->name, v->usage);
    if (f == stdout)
        fprintf (f, "\n%s\n\ncommon options:\n"
                    "  --scheduler URI  the scheduler (else $FEDSCHED_SCHEDULER, else tcp://127.0.0.1:7700)\n"
                    "  --keys DIR       CURVE keys (else $FEDSCHED_KEYS)\n"
                    "  --json           print a stable JSON document (listing verbs)\n"
                    "  --help           this text\n",
                 v->help);
    if (f == stdout) {
        /* Every long option, from the table getopt uses, '=' after those that
         * take a value (shell completion reads this line). */
        fprintf (f, "\noptions:");
        for (const struct option *o = v->longopts; o && o->name; o++)
            fprintf (f, " --%s%s", o->name, o->has_arg == required_argument ? "=" : "");
        fprintf (f, " --scheduler= --keys= --json --help\n");
    }
}

int cli_usage_error (const struct cli_verb *v, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    fprintf (stderr, "fedsched: error: ");
    vfprintf (stderr, fmt, ap);
    fprintf (stderr, "\n");
    va_end (ap);
    cli_usage (v, stderr);
    return 2;
}

int cli_getopt (int argc, char **argv, const struct cli_verb *v, struct client_opts *co,
                int *exit_now)
{
    static struct option all[32];
    static const struct cli_verb *built;
    static char shortopts[64];
    if (built != v) {
        int n = 0;
        for (const struct option *o = v->longopts; o && o->name && n < 27; o++)
            all[n++] = *o;
        all[n++] = (struct option){ "scheduler", required_argument, NULL, OPT_SCHEDULER };
        all[n++] = (struct option){ "keys", required_argument, NULL, OPT_KEYS };
        all[n++] = (struct option){ "json", no_argument, NULL, OPT_JSON };
        all[n++] = (struct option){ "help", no_argument, NULL, OPT_HELP };
        all[n] = (struct option){ NULL, 0, NULL, 0 };
        snprintf (shortopts, sizeof (shortopts), "%sh", v->shortopts ? v->shortopts : "");
        built = v;
        optind = 1;
        opterr = 0;
    }
    *exit_now = -1;
    for (;;) {
        int c = getopt_long (argc, argv, shortopts, all, NULL);
        switch (c) {
        case OPT_SCHEDULER: co->scheduler = optarg; continue;
        case OPT_KEYS: co->keys = optarg; continue;
        case OPT_JSON: co->json = true; continue;
        case 'h':
        case OPT_HELP:
            cli_usage (v, stdout);
            *exit_now = 0;
            return '?';
        case '?':
        case ':':
            if (optopt && optopt < 256)
                cli_usage_error (v, "option '-%c' %s", optopt,
                                 c == ':' ? "needs a value" : "is unknown or needs a value");
            else
                cli_usage_error (v, "option '%s' is unknown or needs a value", argv[optind - 1]);
            *exit_now = 2;
            return '?';
        default:
            return c;
        }
    }
}

json_t *cli_call (const struct client_opts *co, const char *op, json_t *body, int *code)
{
    fs_error_t err = { 0 };
    struct client *c = client_create (co, client_scheduler_uri (co), &err);
    const char *token = json_string_value (json_object_get (body, "token"));
    json_t *r = !c ? NULL : token ? client_call_token (c, op, body, &err)
                                  : client_call (c, op, body, &err);
    if (!c)
        json_decref (body);
    client_destroy (c);
    if (!r)
        *code = client_fail (&err);
    return r;
}

void cli_print_json (json_t *j)
{
    json_dumpf (j, stdout, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
    fputc ('\n', stdout);
}
