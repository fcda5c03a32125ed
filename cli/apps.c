/* apps.c - the app verbs (SPEC section 10): app publish, apps.
 *
 * app publish SITE DIR: read and check DIR/app.yaml, pack DIR into a bundle
 * (an anonymous temporary file), hash and sign it, then
 *   1. app.check at the scheduler: NAME@VERSION is new, or has this very
 *      content; where SITE's data port is, and whether SITE holds it already;
 *   2. app.put pieces to SITE's data port (unless held): a window of pieces
 *      in flight, each with its checksum, the missing ones sent again when the
 *      site goes quiet;
 *   3. app.publish at the scheduler (with a token: asked again until
 *      answered, done once), which has SITE check and keep the bundle and
 *      lists it federation-wide.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "common/bundle.h"
#include "common/checksum.h"
#include "common/clock.h"
#include "common/manifest.h"
#include "common/msg.h"
#include "common/sign.h"
#include "table.h"

#define PUT_PIECE (512u << 10)      /* under the data port's 1 MiB message limit */
#define PUT_WINDOW 8

static const struct option publish_opts[] = {
    { "key", required_argument, NULL, 'k' },
    { "token", required_argument, NULL, 't' },
    { NULL, 0, NULL, 0 },
};

static const struct cli_verb v_app = {
    "app", "publish SITE DIR [--key FILE] [--token T]",
    "Publish the app in DIR (its app.yaml: name, version, entry points, ...): pack DIR\n"
    "into a bundle (tar + zstd, the same bytes for the same content), sign it with the\n"
    "publisher key FILE (else $FEDSCHED_APP_KEY; 'fedsched keygen DIR --sign' makes\n"
    "one), upload it to SITE, which checks and keeps it, and list it federation-wide.\n"
    "Prints NAME@VERSION sha256:HEX.  A NAME@VERSION never changes: publishing it again\n"
    "with other content is refused (exit 1); with the same content it does nothing.\n"
    "  --key FILE       the publisher's signing key (NAME.key)\n"
    "  --token T        the request's token (default: a new one); the same token again\n"
    "                   answers as the first time, without publishing twice",
    "k:t:", publish_opts,
};

static const struct cli_verb v_apps = {
    "apps", "[GLOB] [--json]",
    "List the published apps (all, or those whose names match GLOB): name, version,\n"
    "digest, size, publisher, the sites holding the bundle and the sites that trust\n"
    "its publisher.",
    NULL, NULL,
};

/* One piece: app.put {digest, bytes, offset, xxh3} + its bytes, id = index + 1. */
static int put_piece (struct client *c, const char *digest, const unsigned char *data,
                      uint64_t bytes, uint64_t index, fs_error_t *err)
{
    uint64_t off = index * PUT_PIECE, len = bytes - off < PUT_PIECE ? bytes - off : PUT_PIECE;
    char sum[20];
    snprintf (sum, sizeof (sum), "%016" PRIx64, checksum (data + off, len));
    return client_send_data (c, "app.put", (int64_t)index + 1,
                             json_pack ("{s:s, s:I, s:I, s:s}", "digest", digest, "bytes",
                                        (json_int_t)bytes, "offset", (json_int_t)off, "xxh3", sum),
                             data + off, len, err);
}

/* Send the bundle (mapped at data, bytes long) to the site at uri in pieces,
 * at most PUT_WINDOW in flight (the credit).  When the site goes quiet for
 * half the timeout, a fresh connection and the pieces in flight again.
 * 0, or -1 with err. */
static int upload (const struct client_opts *co, const char *uri, const char *key,
                   const char *digest, const unsigned char *data, uint64_t bytes, fs_error_t *err)
{
    struct client_opts o = *co;
    o.serverkey = key;
    struct client *c = client_create (&o, uri, err);
    if (!c)
        return -1;
    uint64_t npieces = (bytes + PUT_PIECE - 1) / PUT_PIECE, next = 0, nacked = 0;
    int64_t win[PUT_WINDOW];            /* the piece in flight in each slot, -1: free */
    int tries[PUT_WINDOW];
    for (int i = 0; i < PUT_WINDOW; i++)
        win[i] = -1;
    double timeout = client_timeout (), last = clock_mono ();
    double stall = timeout / 2 > 1.0 ? timeout / 2 : 1.0;
    int rc = 0;
    while (rc == 0 && nacked < npieces) {
        for (int i = 0; i < PUT_WINDOW && next < npieces && rc == 0; i++)
            if (win[i] < 0) {
                win[i] = (int64_t)next;
                tries[i] = 0;
                rc = put_piece (c, digest, data, bytes, next++, err);
            }
        if (rc < 0)
            break;
        struct zmsg *z = client_recv (c, (long)(stall * 1000));
        if (!z) {
            if (clock_mono () - last >= timeout) {
                rc = errprintf (err, FS_EUNREACH, "the site at %s took no piece for %g s (%" PRIu64
                                " of %" PRIu64 " arrived)", uri, timeout, nacked, npieces);
                break;
            }
            rc = client_reconnect (c, err);
            for (int i = 0; i < PUT_WINDOW && rc == 0; i++)
                if (win[i] >= 0)
                    rc = put_piece (c, digest, data, bytes, (uint64_t)win[i], err);
            continue;
        }
        struct msg m;
        fs_error_t e;
        int slot = -1;
        if (msg_decode (z, 0, &m, &e) == 0 && m.is_reply) {
            last = clock_mono ();
            for (int i = 0; i < PUT_WINDOW; i++)
                if (win[i] >= 0 && win[i] == m.id - 1)
                    slot = i;
        }
        if (slot < 0) {
            /* a duplicate after a resend, or not for us */
        } else if (m.ok && json_is_true (json_object_get (m.body, "held"))) {
            nacked = npieces;           /* the site has this bundle already */
        } else if (m.ok) {
            win[slot] = -1;
            nacked++;
        } else if (m.errcode == FS_EINVAL && strstr (m.errtext, "damaged") && ++tries[slot] <= 3) {
            rc = put_piece (c, digest, data, bytes, (uint64_t)win[slot], err);
        } else {
            rc = errprintf (err, m.errcode ? m.errcode : FS_EFAIL, "%s", m.errtext);
        }
        msg_release (&m);
        zmsg_destroy (&z);
    }
    client_destroy (c);
    return rc;
}

static int publish (const struct client_opts *co, const char *site, const char *dir,
                    const char *keyfile, const char *token)
{
    fs_error_t err = { 0 };
    char file[PATH_MAX + 16];
    snprintf (file, sizeof (file), "%s/" APP_MANIFEST, dir);
    struct app_manifest *m = manifest_load_file (file, &err);
    if (!m || manifest_check_dir (m, dir, &err) < 0) {
        free (m);
        return client_fail (&err);
    }
    struct sign_key key;
    if (sign_key_read (keyfile, &key, &err) < 0) {
        free (m);
        err.code = FS_EINVAL;
        return client_fail (&err);
    }
    /* The bundle: an anonymous file in TMPDIR, gone when we exit. */
    const char *tmpdir = getenv ("TMPDIR");
    char tmpl[PATH_MAX];
    snprintf (tmpl, sizeof (tmpl), "%s/fedsched-bundle.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    int fd = mkstemp (tmpl);
    int rc = 1;
    unsigned char *data = MAP_FAILED;
    uint64_t bytes = 0;
    char digest[SIGN_DIGEST_TEXT], sig[SIGN_SIG_TEXT];
    json_t *r = NULL;
    if (fd < 0) {
        errprintf (&err, FS_EFAIL, "cannot create a temporary file in %s: %s",
                   tmpdir && *tmpdir ? tmpdir : "/tmp", strerror (errno));
        goto fail;
    }
    unlink (tmpl);
    if (bundle_pack (dir, fd, NULL, &err) < 0 || lseek (fd, 0, SEEK_SET) < 0
        || sign_sha256_fd (fd, digest, &bytes, &err) < 0
        || sign_app (&key, m->name, m->version, digest, sig, &err) < 0)
        goto fail;
    if (bytes == 0 || (data = mmap (NULL, bytes, PROT_READ, MAP_SHARED, fd, 0)) == MAP_FAILED) {
        errprintf (&err, FS_EFAIL, "cannot read the bundle back: %s", strerror (errno));
        goto fail;
    }
    int code = 0;
    json_t *chk = cli_call (co, "app.check",
                            json_pack ("{s:s, s:s, s:s, s:s, s:I}", "site", site, "name", m->name,
                                       "version", m->version, "digest", digest, "bytes",
                                       (json_int_t)bytes), &code);
    if (!chk) {
        rc = code;
        goto done;
    }
    if (!json_is_true (json_object_get (chk, "held"))
        && upload (co, json_string_value (json_object_get (chk, "uri")) ?: "",
                   json_string_value (json_object_get (chk, "key")) ?: "", digest, data, bytes,
                   &err) < 0) {
        json_decref (chk);
        errprefix (&err, "uploading %s@%s to site %s", m->name, m->version, site);
        goto fail;
    }
    json_decref (chk);
    json_t *body = json_pack ("{s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:o}", "site", site, "name",
                              m->name, "version", m->version, "digest", digest, "bytes",
                              (json_int_t)bytes, "publisher", key.pub, "signature", sig,
                              "manifest", manifest_to_json (m));
    if (token)
        json_object_set_new (body, "token", json_string (token));
    else {
        char tok[FS_TOKEN_MAX + 1];
        client_token (tok, sizeof (tok));
        json_object_set_new (body, "token", json_string (tok));
    }
    if (!(r = cli_call (co, "app.publish", body, &code))) {
        rc = code;
        goto done;
    }
    printf ("%s@%s %s\n", m->name, m->version, digest);
    rc = 0;
    goto done;
fail:
    rc = client_fail (&err);
done:
    json_decref (r);
    if (data != MAP_FAILED)
        munmap (data, bytes);
    if (fd >= 0)
        close (fd);
    sign_key_wipe (&key);
    free (m);
    return rc;
}

int cmd_app (int argc, char **argv)
{
    struct client_opts co = { 0 };
    const char *keyfile = NULL, *token = NULL;
    int ex, c;
    while ((c = cli_getopt (argc, argv, &v_app, &co, &ex)) != -1) {
        if (ex >= 0)
            return ex;
        if (c == 'k')
            keyfile = optarg;
        else if (c == 't')
            token = optarg;
    }
    if (optind >= argc || strcmp (argv[optind], "publish"))
        return cli_usage_error (&v_app, "app needs a subcommand: publish");
    if (argc - optind != 3)
        return cli_usage_error (&v_app, "app publish needs SITE and DIR");
    if (!keyfile)
        keyfile = getenv ("FEDSCHED_APP_KEY");
    if (!keyfile || !*keyfile)
        return cli_usage_error (&v_app, "no signing key: give --key FILE or set FEDSCHED_APP_KEY "
                                "(make one with 'fedsched keygen DIR --sign')");
    if (token && (!*token || strlen (token) > FS_TOKEN_MAX))
        return cli_usage_error (&v_app, "--token: 1 to %d characters", FS_TOKEN_MAX);
    return publish (&co, argv[optind + 1], argv[optind + 2], keyfile, token);
}

/* "name, name, ..." of a JSON array of strings, or "-". */
static const char *list_text (const json_t *a, char *buf, size_t n)
{
    size_t o = 0, i;
    json_t *v;
    buf[0] = '\0';
    json_array_foreach (a, i, v)
        if (o < n)
            o += (size_t)snprintf (buf + o, n - o, "%s%s", i ? "," : "", json_string_value (v) ?: "");
    if (!buf[0])
        snprintf (buf, n, "-");
    return buf;
}

int cmd_apps (int argc, char **argv)
{
    struct client_opts co = { 0 };
    int ex, code = 0;
    if (cli_getopt (argc, argv, &v_apps, &co, &ex) != -1 || ex >= 0)
        return ex >= 0 ? ex : cli_usage_error (&v_apps, "unexpected option");
    if (argc - optind > 1)
        return cli_usage_error (&v_apps, "at most one GLOB");
    json_t *body = json_object ();
    if (optind < argc)
        json_object_set_new (body, "glob", json_string (argv[optind]));
    json_t *r = cli_call (&co, "app.list", body, &code);
    if (!r)
        return code;
    json_t *apps = json_object_get (r, "apps");
    if (co.json) {
        cli_print_json (apps);
    } else {
        static const char *const hdr[] = { "name", "version", "digest", "bytes", "publisher",
                                           "sites", "trusted by" };
        struct table *t = table_create (7, hdr);
        size_t i;
        json_t *a;
        json_array_foreach (apps, i, a) {
            char digest[32], bytes[32], pub[96], sites[512], trusted[512];
            const char *d = json_string_value (json_object_get (a, "digest")) ?: "";
            const char *pk = json_string_value (json_object_get (a, "publisher")) ?: "";
            const char *pn = json_string_value (json_object_get (a, "publisher_name")) ?: "";
            snprintf (digest, sizeof (digest), "%.19s", d);
            snprintf (pub, sizeof (pub), "%s%s%.16s", pn, *pn ? " " : "", pk);
            const char *cells[7] = {
                json_string_value (json_object_get (a, "name")),
                json_string_value (json_object_get (a, "version")),
                digest,
                fmt_bytes ((double)json_integer_value (json_object_get (a, "bytes")), bytes,
                           sizeof (bytes)),
                pub,
                list_text (json_object_get (a, "sites"), sites, sizeof (sites)),
                list_text (json_object_get (a, "trusted_by"), trusted, sizeof (trusted)),
            };
            table_add (t, cells);
        }
        table_print (t, stdout);
        table_destroy (t);
    }
    json_decref (r);
    return 0;
}
