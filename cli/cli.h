/* cli.h - the verbs of the fedsched command, one function each. */
#ifndef FS_CLI_H
#define FS_CLI_H

#include <getopt.h>
#include <stdbool.h>

#include "common/client.h"

/* Each verb: argv[0] is the verb; returns the exit code (SPEC section 3). */
int cmd_sites (int argc, char **argv);
int cmd_catalog (int argc, char **argv);
int cmd_publish (int argc, char **argv);
int cmd_policy (int argc, char **argv);
int cmd_get (int argc, char **argv);
int cmd_drain (int argc, char **argv);
int cmd_resume (int argc, char **argv);
int cmd_keygen (int argc, char **argv);
/* Finding data by what it is (meta.c). */
int cmd_search (int argc, char **argv);
int cmd_info (int argc, char **argv);
/* The job verbs (jobs.c). */
int cmd_validate (int argc, char **argv);
int cmd_submit (int argc, char **argv);
int cmd_jobs (int argc, char **argv);
int cmd_status (int argc, char **argv);
int cmd_explain (int argc, char **argv);
int cmd_wait (int argc, char **argv);
int cmd_watch (int argc, char **argv);
int cmd_cancel (int argc, char **argv);
int cmd_logs (int argc, char **argv);
int cmd_links (int argc, char **argv);
/* The app verbs (apps.c). */
int cmd_app (int argc, char **argv);
int cmd_apps (int argc, char **argv);
/* The simulator (sim.c): no scheduler needed. */
int cmd_sim (int argc, char **argv);

/* Options every client verb takes: --scheduler URI, --keys DIR, --json, --help.
 * cli_getopt wraps getopt_long with them appended to the verb's own; it
 * handles them (returning 0 to skip) and returns other options as usual.
 * On --help it prints usage and sets *exit_now = 0; on an unknown option it
 * prints usage to stderr and sets *exit_now = 2. */
struct cli_verb {
    const char *name;
    const char *usage;          /* "SLICE -o OUT.h5 [--dataset /PATH] ..." */
    const char *help;           /* what it does, and its own options */
    const char *shortopts;      /* the verb's own */
    const struct option *longopts;  /* the verb's own, NULL-terminated, or NULL */
};
int cli_getopt (int argc, char **argv, const struct cli_verb *v, struct client_opts *co,
                int *exit_now);
void cli_usage (const struct cli_verb *v, FILE *f);
/* A usage error: prints "fedsched: error: MSG" and the usage line; returns 2. */
int cli_usage_error (const struct cli_verb *v, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

/* The command talks to the federation only through libfedsched
 * (lib/fedsched.h): one implementation of the client protocol.
 *
 * The library connection of this command, made on first use from the verb's
 * --scheduler and --keys (else the environment); NULL with the error printed
 * and *code set.  Borrowed: it lives until the process ends. */
struct fs_client *cli_client (const struct client_opts *co, int *code);
/* Print a library error, each line of its message as "fedsched: error: LINE"
 * (a job file's problems run to many), and when a request with token got no
 * answer, how to ask again without doing it twice; free e; return the exit
 * code (1 for FS_ENOTFOUND). */
int cli_fail (struct fs_error *e, const char *token);
/* Send op with body (stolen; NULL for {}) and return the reply's body (new
 * reference), or NULL with the error printed and *code set.  A body with a
 * "token" is idempotent and sent again while no answer comes.  timeout
 * seconds (< 0: none): when it expires first, NULL with *code FS_ETIMEOUT and
 * nothing printed. */
json_t *cli_request (const struct client_opts *co, const char *op, json_t *body, double timeout,
                     int *code);
/* cli_request without a timeout. */
json_t *cli_call (const struct client_opts *co, const char *op, json_t *body, int *code);
/* A JSON document the library returned (freed here), parsed; NULL with the
 * error printed (exit 1) when it is not JSON. */
json_t *cli_doc (char *text, int *code);

/* Print a JSON document on stdout, indented. */
void cli_print_json (json_t *j);

#endif
