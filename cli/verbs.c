/* verbs.c - what every client verb shares: options, usage, calling the scheduler. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/msg.h"

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

struct fs_client *cli_client (const struct client_opts *co, int *code)
{
    static struct fs_client *c;
    if (c)
        return c;
    struct fs_error *e = NULL;
    struct fs_options *o = fs_options_new ();
    if (!o || (co->scheduler && fs_options_set (o, "scheduler", co->scheduler, &e) < 0)
        || (co->keys && fs_options_set (o, "keys", co->keys, &e) < 0)
        || !(c = fs_connect (o, &e))) {
        fs_options_free (o);
        *code = cli_fail (e, NULL);
        return NULL;
    }
    fs_options_free (o);
    return c;
}

int cli_fail (struct fs_error *e, const char *token)
{
    int code = fs_error_code (e);
    const char *p = fs_error_message (e);
    int printed = 0;
    while (*p) {
        size_t n = strcspn (p, "\n");
        if (n && !(n == 1 && p[0] == '\r')) {
            fprintf (stderr, "fedsched: error: %.*s", (int)n, p);
            if (token && code == FS_EUNREACH && !p[n])
                fprintf (stderr, "; it may have been done all the same: the same command with "
                         "--token %s tells, and does it at most once", token);
            fputc ('\n', stderr);
            printed++;
        }
        p += n;
        if (*p == '\n')
            p++;
    }
    if (!printed)
        fprintf (stderr, "fedsched: error: the request was refused (no reason given)\n");
    fs_error_free (e);
    return code > 0 && code < 126 ? errcode_exit (code) : FS_EFAIL;
}

json_t *cli_doc (char *text, int *code)
{
    json_t *j = text ? json_loads (text, JSON_DECODE_ANY, NULL) : NULL;
    fs_free (text);
    if (!j) {
        fprintf (stderr, "fedsched: error: the library returned a malformed document\n");
        *code = FS_EFAIL;
    }
    return j;
}

json_t *cli_request (const struct client_opts *co, const char *op, json_t *body, double timeout,
                     int *code)
{
    struct fs_client *c = cli_client (co, code);
    char token[FS_TOKEN_MAX + 1] = "";
    const char *t = json_string_value (json_object_get (body, "token"));
    if (t)
        snprintf (token, sizeof (token), "%s", t);
    char *text = body ? json_dumps (body, JSON_COMPACT) : NULL;
    json_decref (body);
    if (!c) {
        free (text);
        return NULL;
    }
    struct fs_error *e = NULL;
    char *r = fs_call (c, op, text, timeout, &e);
    free (text);
    if (!r) {
        if (fs_error_code (e) == FS_ETIMEOUT && timeout >= 0) {
            fs_error_free (e);
            *code = FS_ETIMEOUT;
            return NULL;
        }
        *code = cli_fail (e, token[0] ? token : NULL);
        return NULL;
    }
    return cli_doc (r, code);
}

json_t *cli_call (const struct client_opts *co, const char *op, json_t *body, int *code)
{
    return cli_request (co, op, body, -1, code);
}

void cli_print_json (json_t *j)
{
    json_dumpf (j, stdout, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
    fputc ('\n', stdout);
}
