/* admin.c - operators' verbs: drain, resume, keygen. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "common/sign.h"

static const struct option drain_opts[] = {
    { "reason", required_argument, NULL, 'r' },
    { NULL, 0, NULL, 0 },
};

static const struct cli_verb v_drain = {
    "drain", "SITE [--reason R]",
    "Stop placing work on SITE (running work finishes; its data stays readable).",
    "r:", drain_opts,
};

static const struct cli_verb v_resume = {
    "resume", "SITE", "Place work on a drained SITE again.", NULL, NULL,
};

static int site_state (int argc, char **argv, const struct cli_verb *v, const char *op)
{
    struct client_opts co = { 0 };
    const char *reason = NULL;
    int ex, c, code = 0;
    while ((c = cli_getopt (argc, argv, v, &co, &ex)) != -1) {
        if (ex >= 0)
            return ex;
        if (c == 'r')
            reason = optarg;
    }
    if (argc - optind != 1)
        return cli_usage_error (v, "%s needs exactly one SITE", v->name);
    json_t *body = json_pack ("{s:s}", "site", argv[optind]);
    if (reason)
        json_object_set_new (body, "reason", json_string (reason));
    json_t *r = cli_call (&co, op, body, &code);
    if (!r)
        return code;
    json_decref (r);
    return 0;
}

int cmd_drain (int argc, char **argv)
{
    return site_state (argc, argv, &v_drain, "site.drain");
}

int cmd_resume (int argc, char **argv)
{
    return site_state (argc, argv, &v_resume, "site.resume");
}

static const struct option keygen_opts[] = {
    { "name", required_argument, NULL, 'n' },
    { "sign", no_argument, NULL, 's' },
    { NULL, 0, NULL, 0 },
};

static const struct cli_verb v_keygen = {
    "keygen", "DIR [--name NAME] [--sign]",
    "Write a CURVE key pair into DIR: NAME.key (secret, mode 0600) and NAME.pub\n"
    "(public).  NAME defaults to 'fedsched'.  The daemons and the client look for\n"
    "scheduler.key, site.key and client.key; the allow-lists are directories of\n"
    ".pub files (docs/operator-guide.md, Security).\n"
    "  --sign   an Ed25519 signing pair for publishing apps instead (NAME defaults to\n"
    "           'publisher'): NAME.key signs ('fedsched app publish --key'), and sites\n"
    "           that put NAME.pub in their apps.trust directory run what it signed.\n"
    "           Existing keys are never overwritten.",
    "n:", keygen_opts,
};

int cmd_keygen (int argc, char **argv)
{
    struct client_opts co = { 0 };
    const char *name = NULL;
    bool sign = false;
    int ex, c;
    while ((c = cli_getopt (argc, argv, &v_keygen, &co, &ex)) != -1) {
        if (ex >= 0)
            return ex;
        if (c == 'n')
            name = optarg;
        else if (c == 's')
            sign = true;
    }
    if (!name)
        name = sign ? "publisher" : "fedsched";
    if (argc - optind != 1)
        return cli_usage_error (&v_keygen, "keygen needs DIR");
    const char *dir = argv[optind];
    fs_error_t err = { 0 };
    if (mkdir (dir, 0700) < 0 && errno != EEXIST) {
        fprintf (stderr, "fedsched: error: cannot create %s: %s\n", dir, strerror (errno));
        return 1;
    }
    mode_t old = umask (077);
    int rc = sign ? sign_keygen (dir, name, &err) : zsock_keygen (dir, name, &err);
    umask (old);
    if (rc < 0)
        return client_fail (&err);
    printf ("%s/%s.key\n%s/%s.pub\n", dir, name, dir, name);
    return 0;
}
