/* config.c - federation.yaml and site.yaml (docs/operator-guide.md).
 *
 * Both loaders work the same way: the file is read with ydoc (so every node
 * has a line and column), the top-level mapping is checked against the list
 * of known keys (an unknown key is an error at its own position), defaults
 * are filled in, then each key present is converted and range-checked.
 * Every problem is reported, as job files' are: a conversion writes its error
 * ("FILE:LINE:COL: KEY: message", FS_EINVAL) into c->err and returns -1 as
 * usual, and the parser of the enclosing block hands it to cfg_keep(), which
 * moves it into the load's list (struct errlist) and lets the block go on with
 * its next key.  A block parser written the plain way (return -1 at its first
 * error) still works: its error is kept when it returns.  The load fails when
 * the list is not empty; a file that cannot be opened is FS_EFAIL.  Paths are
 * taken relative to the directory of the config file; data roots must exist
 * and are resolved with realpath().
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "errlist.h"
#include "names.h"
#include "policy.h"
#include "ydoc.h"

#define DEFAULT_SCHEDULER_URI "tcp://127.0.0.1:7700"

/* What every conversion needs: the file (for messages), its directory (for
 * relative paths) and where the error goes. */
struct cfg_ctx {
    const char *file;           /* as given by the caller, for messages */
    char dir[PATH_MAX];         /* absolute directory of the file */
    fs_error_t *err;            /* the error of the conversion that failed last */
    struct errlist *errs;       /* every error of the load; NULL: stop at the first */
};

/* The conversion of node at failed (its error is in *c->err): keep the error
 * and go on (0), or -1 when the load stops at its first error (no list). */
static int cfg_keep (struct cfg_ctx *c, const struct ynode *at)
{
    if (!c->errs)
        return -1;
    if (c->err->text[0])
        errlist_push (c->errs, c->err->code ? c->err->code : FS_EINVAL, at ? at->line : 0,
                      at ? at->col : 0, c->err->text);
    c->err->code = 0;
    c->err->text[0] = '\0';
    return 0;
}

/* In a block parser: CFG_KEEP (c, n) after a conversion of n failed. */
#define CFG_KEEP(c, n) do { if (cfg_keep ((c), (n)) < 0) return -1; } while (0)

/* ------------------------------------------------------------------ */
/* Conversions of single values */

static int cfg_missing (struct cfg_ctx *c, const struct ynode *root, const char *what)
{
    return ynode_error (c->file, root, c->err, "%s: required key missing", what);
}

/* A non-empty string that fits buf. */
static int cfg_string (struct cfg_ctx *c, const struct ynode *n, const char *what, char *buf,
                       size_t bufsz)
{
    if (ynode_string (c->file, n, what, buf, bufsz, c->err) < 0)
        return -1;
    if (!buf[0])
        return ynode_error (c->file, n, c->err, "%s: must not be empty", what);
    return 0;
}

/* A site or region name ([A-Za-z0-9_-]+, at most 63 bytes). */
static int cfg_ident (struct cfg_ctx *c, const struct ynode *n, const char *what,
                      const char *kind, char *buf, size_t bufsz)
{
    fs_error_t e;
    char tmp[256];
    if (ynode_string (c->file, n, what, tmp, sizeof (tmp), c->err) < 0)
        return -1;
    if (ident_valid (kind, tmp, &e) < 0)
        return ynode_error (c->file, n, c->err, "%s: %s", what, e.text);
    if (strlen (tmp) >= bufsz)
        return ynode_error (c->file, n, c->err, "%s: too long (at most %zu bytes)", what,
                            bufsz - 1);
    strcpy (buf, tmp);
    return 0;
}

/* A ZeroMQ endpoint: tcp://, ipc:// or inproc://, followed by something. */
static int cfg_uri (struct cfg_ctx *c, const struct ynode *n, const char *what, char *buf)
{
    static const char *const schemes[] = { "tcp://", "ipc://", "inproc://", NULL };
    if (cfg_string (c, n, what, buf, FS_URI_MAX) < 0)
        return -1;
    for (int i = 0; schemes[i]; i++) {
        size_t l = strlen (schemes[i]);
        if (strncmp (buf, schemes[i], l) == 0) {
            if (!buf[l])
                return ynode_error (c->file, n, c->err, "%s: '%s' has no address after the "
                                    "scheme", what, buf);
            for (const char *p = buf; *p; p++)
                if ((unsigned char) *p <= ' ' || *p == 0x7f)
                    return ynode_error (c->file, n, c->err, "%s: spaces and control "
                                        "characters are not allowed in an endpoint", what);
            return 0;
        }
    }
    return ynode_error (c->file, n, c->err, "%s: '%.200s' is not an endpoint: it must start "
                        "with tcp://, ipc:// or inproc:// (e.g. tcp://127.0.0.1:7700)", what, buf);
}

/* dir/rel, or rel itself when absolute. */
static int cfg_join (struct cfg_ctx *c, const struct ynode *n, const char *what, const char *rel,
                     char *out)
{
    int len;
    if (rel[0] == '/')
        len = snprintf (out, PATH_MAX, "%s", rel);
    else
        len = snprintf (out, PATH_MAX, "%s/%s", strcmp (c->dir, "/") ? c->dir : "", rel);
    if (len < 0 || len >= PATH_MAX)
        return ynode_error (c->file, n, c->err, "%s: path too long", what);
    return 0;
}

/* A path (need not exist), made absolute against the file's directory. */
static int cfg_path (struct cfg_ctx *c, const struct ynode *n, const char *what, char *out)
{
    char rel[PATH_MAX];
    if (cfg_string (c, n, what, rel, sizeof (rel)) < 0)
        return -1;
    return cfg_join (c, n, what, rel, out);
}

/* A path that must exist, resolved with realpath(); want_dir: must be a directory. */
static int cfg_existing_path (struct cfg_ctx *c, const struct ynode *n, const char *what,
                              bool want_dir, char *out)
{
    char rel[PATH_MAX], joined[PATH_MAX];
    struct stat st;
    if (cfg_string (c, n, what, rel, sizeof (rel)) < 0 || cfg_join (c, n, what, rel, joined) < 0)
        return -1;
    if (!realpath (joined, out)) {
        if (errno == ENOENT)
            return ynode_error (c->file, n, c->err, "%s: '%s' does not exist%s%s%s", what, rel,
                                rel[0] == '/' ? "" : " (relative paths start at the config "
                                "file's directory: looked for ", rel[0] == '/' ? "" : joined,
                                rel[0] == '/' ? "" : ")");
        return ynode_error (c->file, n, c->err, "%s: '%s' cannot be resolved: %s", what, rel,
                            strerror (errno));
    }
    if (stat (out, &st) < 0)
        return ynode_error (c->file, n, c->err, "%s: '%s': %s", what, rel, strerror (errno));
    if (want_dir && !S_ISDIR (st.st_mode))
        return ynode_error (c->file, n, c->err, "%s: '%s' is not a directory", what, rel);
    if (!want_dir && S_ISDIR (st.st_mode))
        return ynode_error (c->file, n, c->err, "%s: '%s' is a directory, not a file", what, rel);
    return 0;
}

static int cfg_security (struct cfg_ctx *c, const struct ynode *n, const char *what,
                         fs_security_t *out)
{
    char buf[16];
    if (ynode_string (c->file, n, what, buf, sizeof (buf), c->err) == 0) {
        if (!strcmp (buf, "curve")) {
            *out = SEC_CURVE;
            return 0;
        }
        if (!strcmp (buf, "none")) {
            *out = SEC_NONE;
            return 0;
        }
    }
    return ynode_error (c->file, n, c->err, "%s: expected 'curve' or 'none'", what);
}

static int cfg_version (struct cfg_ctx *c, const struct ynode *n)
{
    int64_t v;
    if (ynode_int (c->file, n, "version", INT64_MIN, INT64_MAX, &v, c->err) < 0)
        return -1;
    if (v != 1)
        return ynode_error (c->file, n, c->err, "version: unsupported version %" PRId64
                            " (this fedsched reads version 1)", v);
    return 0;
}

/* A duration strictly above zero. */
static int cfg_positive_duration (struct cfg_ctx *c, const struct ynode *n, const char *what,
                                  double *out)
{
    if (ynode_duration (c->file, n, what, out, c->err) < 0)
        return -1;
    if (*out <= 0)
        return ynode_error (c->file, n, c->err, "%s: must be longer than zero", what);
    return 0;
}

static int cfg_int (struct cfg_ctx *c, const struct ynode *n, const char *what, int64_t min,
                    int64_t max, int *out)
{
    int64_t v;
    if (ynode_int (c->file, n, what, min, max, &v, c->err) < 0)
        return -1;
    *out = (int) v;
    return 0;
}

/* A sequence, or nothing at all ("key:" with no value is an empty list). */
static bool is_null (const struct ynode *n)
{
    return n && n->type == YNODE_SCALAR && !n->quoted
           && (!n->value[0] || !strcmp (n->value, "~") || !strcmp (n->value, "null"));
}

static int cfg_seq (struct cfg_ctx *c, const struct ynode *n, const char *what, size_t *count)
{
    if (is_null (n)) {
        *count = 0;
        return 0;
    }
    if (n->type != YNODE_SEQ)
        return ynode_error (c->file, n, c->err, "%s: expected a list", what);
    *count = n->n;
    return 0;
}

/* A mapping whose keys are all in allowed, or -1 at the first that is not:
 * for mappings whose keys are meant together (a policy). */
static int cfg_map_strict (struct cfg_ctx *c, const struct ynode *n, const char *what,
                           const char *const *allowed)
{
    if (n->type != YNODE_MAP)
        return ynode_error (c->file, n, c->err, "%s: expected a mapping", what);
    return ynode_check_keys (c->file, n, what, allowed, c->err);
}

/* A mapping whose keys are all in allowed.  Collecting (c->errs), each unknown
 * key is an error of its own and the mapping is still read (0); -1 when n is
 * not a mapping. */
static int cfg_map (struct cfg_ctx *c, const struct ynode *n, const char *what,
                    const char *const *allowed)
{
    if (n->type != YNODE_MAP)
        return ynode_error (c->file, n, c->err, "%s: expected a mapping", what);
    if (c->errs) {
        ynode_check_keys_all (c->file, n, what, allowed, c->errs);
        return 0;
    }
    return ynode_check_keys (c->file, n, what, allowed, c->err);
}

/* Load FILE into a top-level mapping and fill in c (dir) and path (absolute). */
static struct ynode *cfg_open (struct cfg_ctx *c, const char *file, char *path, fs_error_t *err)
{
    c->file = file;
    c->err = err;
    if (!realpath (file, path))
        return errprintf (err, FS_EFAIL, "%s: cannot open: %s", file, strerror (errno)), NULL;
    snprintf (c->dir, sizeof (c->dir), "%s", path);
    char *slash = strrchr (c->dir, '/');
    if (slash == c->dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    struct ynode *root = ydoc_load_file (file, NULL, err);
    if (!root)
        return NULL;
    if (root->type != YNODE_MAP) {
        ynode_error (file, root, err, "expected a mapping of keys at the top level");
        ydoc_free (root);
        return NULL;
    }
    return root;
}

/* The default for a path key: NAME in the config file's directory. */
static void default_beside (struct cfg_ctx *c, const char *name, char *out)
{
    if (snprintf (out, PATH_MAX, "%s/%s", strcmp (c->dir, "/") ? c->dir : "", name) >= PATH_MAX)
        out[0] = '\0';         /* cannot happen: realpath() results are shorter */
}

/* ------------------------------------------------------------------ */
/* federation.yaml */

static const char *const fed_keys[] = {
    "version", "name", "listen", "state", "security", "keys", "heartbeat", "links", "sites", NULL
};
static const char *const fed_heartbeat_keys[] = { "interval", "timeout", NULL };
static const char *const links_keys[] = { "default", "pairs", NULL };
static const char *const link_default_keys[] = { "bandwidth", "latency", NULL };
static const char *const link_pair_keys[] = { "between", "bandwidth", "latency", NULL };

/* bandwidth and latency of a link entry (each optional; unset ones keep *l's). */
static int parse_link_values (struct cfg_ctx *c, const struct ynode *m, const char *what,
                              struct link_cfg *l)
{
    char w[96];
    const struct ynode *n;
    int rc = 0;
    if ((n = ynode_get (m, "bandwidth"))) {
        snprintf (w, sizeof (w), "%s.bandwidth", what);
        if (ynode_rate (c->file, n, w, &l->bandwidth, c->err) < 0) {
            rc = -1;
            CFG_KEEP (c, n);
        }
    }
    if ((n = ynode_get (m, "latency"))) {
        snprintf (w, sizeof (w), "%s.latency", what);
        if (ynode_duration (c->file, n, w, &l->latency, c->err) < 0) {
            rc = -1;
            CFG_KEEP (c, n);
        }
    }
    return c->errs ? 0 : rc;
}

static bool in_list (const struct ynode *seq, size_t upto, const char *s, size_t *where)
{
    for (size_t i = 0; i < upto; i++)
        if (seq->items[i]->type == YNODE_SCALAR && !strcmp (seq->items[i]->value, s)) {
            if (where)
                *where = i;
            return true;
        }
    return false;
}

static int parse_sites (struct cfg_ctx *c, const struct ynode *n)
{
    size_t count;
    if (cfg_seq (c, n, "sites", &count) < 0)
        return -1;
    for (size_t i = 0; i < count; i++) {
        char w[48], name[64];
        size_t first;
        snprintf (w, sizeof (w), "sites[%zu]", i);
        if (cfg_ident (c, n->items[i], w, "site", name, sizeof (name)) < 0) {
            CFG_KEEP (c, n->items[i]);
            continue;
        }
        if (in_list (n, i, name, &first)) {
            ynode_error (c->file, n->items[i], c->err, "%s: site '%s' is listed twice "
                         "(first at line %d)", w, name, n->items[first]->line);
            CFG_KEEP (c, n->items[i]);
        }
    }
    return 0;
}

/* links: (see config_links_parse); with c->errs every bad pair is an error of
 * its own and the others are still read. */
static int links_parse (struct cfg_ctx *c, const struct ynode *n, config_site_known_f known,
                        void *arg, struct link_cfg *def, struct link_cfg **pairs_out, int *npairs)
{
    const struct ynode *d, *pairs;
    struct link_cfg *links = NULL;
    size_t count;
    *pairs_out = NULL;
    *npairs = 0;
    if (cfg_map (c, n, "links", links_keys) < 0)
        return -1;
    if ((d = ynode_get (n, "default"))) {
        if (cfg_map (c, d, "links.default", link_default_keys) < 0)
            CFG_KEEP (c, d);
        else if (parse_link_values (c, d, "links.default", def) < 0)
            return -1;
    }
    if (!(pairs = ynode_get (n, "pairs")))
        return 0;
    if (cfg_seq (c, pairs, "links.pairs", &count) < 0)
        return -1;
    if (count > FS_MAX_LINKS)
        return ynode_error (c->file, pairs, c->err, "links.pairs: %zu pairs, at most %d allowed",
                            count, FS_MAX_LINKS);
    if (count == 0)
        return 0;
    if (!(links = calloc (count, sizeof (*links))))
        return errprintf (c->err, FS_EFAIL, "%s: out of memory", c->file);
    for (size_t i = 0; i < count; i++) {
        const struct ynode *p = pairs->items[i], *between, *at = p;
        struct link_cfg *l = &links[i];
        char w[64], wb[80];
        snprintf (w, sizeof (w), "links.pairs[%zu]", i);
        if (cfg_map (c, p, w, link_pair_keys) < 0)
            goto bad;
        snprintf (wb, sizeof (wb), "%s.between", w);
        if (!(between = ynode_get (p, "between"))) {
            cfg_missing (c, p, wb);
            goto bad;
        }
        at = between;
        if (between->type != YNODE_SEQ || between->n != 2) {
            ynode_error (c->file, between, c->err, "%s: expected a list of two site names, "
                         "e.g. [site1, site2]", wb);
            goto bad;
        }
        if (cfg_ident (c, between->items[0], wb, "site", l->from, sizeof (l->from)) < 0
            || cfg_ident (c, between->items[1], wb, "site", l->to, sizeof (l->to)) < 0)
            goto bad;
        if (!strcmp (l->from, l->to)) {
            ynode_error (c->file, between->items[1], c->err, "%s: a link joins two different "
                         "sites ('%s' twice)", wb, l->from);
            goto bad;
        }
        for (int k = 0; k < 2 && known; k++) {
            const char *s = k ? l->to : l->from;
            if (!known (arg, s)) {
                ynode_error (c->file, between->items[k], c->err, "%s: site '%s' is not in the "
                             "'sites' list", wb, s);
                goto bad;
            }
        }
        for (size_t j = 0; j < i; j++) {
            const struct link_cfg *o = &links[j];
            if ((!strcmp (o->from, l->from) && !strcmp (o->to, l->to))
                || (!strcmp (o->from, l->to) && !strcmp (o->to, l->from))) {
                ynode_error (c->file, between, c->err, "%s: the link %s-%s is already given at "
                             "line %d (a pair is symmetric)", wb, l->from, l->to,
                             pairs->items[j]->line);
                goto bad;
            }
        }
        l->bandwidth = def->bandwidth;
        l->latency = def->latency;
        if (parse_link_values (c, p, w, l) < 0)
            goto fail;
        continue;
bad:
        memset (l, 0, sizeof (*l));     /* not compared with the pairs after it */
        if (cfg_keep (c, at) < 0)
            goto fail;
    }
    *pairs_out = links;
    *npairs = (int)count;
    return 0;
fail:
    free (links);
    return -1;
}

int config_links_parse (const char *file, const struct ynode *n, config_site_known_f known,
                        void *arg, struct link_cfg *def, struct link_cfg **pairs_out,
                        int *npairs, fs_error_t *err)
{
    struct cfg_ctx cc = { .file = file, .err = err };
    return links_parse (&cc, n, known, arg, def, pairs_out, npairs);
}

/* A name of federation.yaml's 'sites' list. */
static bool in_sites (void *arg, const char *name)
{
    return in_list (arg, ((const struct ynode *)arg)->n, name, NULL);
}

static int fed_parse (struct cfg_ctx *c, const struct ynode *root, struct fed_config *cfg)
{
    const struct ynode *n, *sites;
    if (c->errs)
        ynode_check_keys_all (c->file, root, NULL, fed_keys, c->errs);
    else if (ynode_check_keys (c->file, root, NULL, fed_keys, c->err) < 0)
        return -1;
    if ((n = ynode_get (root, "version")) && cfg_version (c, n) < 0)
        CFG_KEEP (c, n);
    if ((n = ynode_get (root, "name"))
        && cfg_ident (c, n, "name", "federation", cfg->name, sizeof (cfg->name)) < 0)
        CFG_KEEP (c, n);
    if ((n = ynode_get (root, "listen")) && cfg_uri (c, n, "listen", cfg->listen) < 0)
        CFG_KEEP (c, n);
    if ((n = ynode_get (root, "state")) && cfg_path (c, n, "state", cfg->state) < 0)
        CFG_KEEP (c, n);
    if ((n = ynode_get (root, "security")) && cfg_security (c, n, "security", &cfg->security) < 0)
        CFG_KEEP (c, n);
    if (n)
        cfg->keys_line = n->line, cfg->keys_col = n->col;
    if ((n = ynode_get (root, "keys")) && cfg_path (c, n, "keys", cfg->keys) < 0)
        CFG_KEEP (c, n);
    if (n)
        cfg->keys_line = n->line, cfg->keys_col = n->col;
    if ((n = ynode_get (root, "heartbeat"))) {
        const struct ynode *iv = NULL, *to = NULL;
        bool ok = true;
        if (cfg_map (c, n, "heartbeat", fed_heartbeat_keys) < 0) {
            CFG_KEEP (c, n);
        } else {
            if ((iv = ynode_get (n, "interval")) && cfg_positive_duration (c, iv,
                    "heartbeat.interval", &cfg->heartbeat_interval) < 0) {
                ok = false;
                CFG_KEEP (c, iv);
            }
            if ((to = ynode_get (n, "timeout")) && cfg_positive_duration (c, to,
                    "heartbeat.timeout", &cfg->heartbeat_timeout) < 0) {
                ok = false;
                CFG_KEEP (c, to);
            }
            if (ok && cfg->heartbeat_timeout <= cfg->heartbeat_interval) {
                ynode_error (c->file, to ? to : iv ? iv : n, c->err, "heartbeat.timeout (%gs) "
                             "must be longer than heartbeat.interval (%gs)",
                             cfg->heartbeat_timeout, cfg->heartbeat_interval);
                CFG_KEEP (c, to ? to : iv ? iv : n);
            }
        }
    }
    if ((sites = ynode_get (root, "sites")) && parse_sites (c, sites) < 0)
        CFG_KEEP (c, sites);
    if (sites && sites->type != YNODE_SEQ)
        sites = NULL;               /* "sites:" with no value: no list to check against */
    if ((n = ynode_get (root, "links"))
        && links_parse (c, n, sites ? in_sites : NULL, (void *)sites, &cfg->link_default,
                        &cfg->links, &cfg->nlinks) < 0)
        CFG_KEEP (c, n);
    return 0;
}

/* Load file with parse (into cfg): every error into errs, or the first into
 * err (errs NULL; the parsers then stop at it). */
typedef int (*cfg_parse_f) (struct cfg_ctx *c, const struct ynode *root, void *cfg);

static int cfg_load (const char *file, char *path, cfg_parse_f parse, void *cfg,
                     void (*defaults) (struct cfg_ctx *c, void *cfg), struct errlist *errs)
{
    struct cfg_ctx c;
    fs_error_t err = { 0, "" };
    memset (&c, 0, sizeof (c));
    struct ynode *root = cfg_open (&c, file, path, &err);
    if (!root) {
        errlist_push (errs, err.code ? err.code : FS_EFAIL, 0, 0, err.text);
        return -1;
    }
    c.errs = errs;
    defaults (&c, cfg);
    size_t before = errs->count + errs->omitted;
    int rc = parse (&c, root, cfg);
    if (rc < 0 || err.text[0])      /* a block that stopped at its first error */
        cfg_keep (&c, root);
    ydoc_free (root);
    errlist_sort (errs);
    return errs->count + errs->omitted > before ? -1 : 0;
}

static void fed_defaults (struct cfg_ctx *c, void *arg)
{
    struct fed_config *cfg = arg;
    strcpy (cfg->name, "fedsched");
    strcpy (cfg->listen, DEFAULT_SCHEDULER_URI);
    default_beside (c, "scheduler.db", cfg->state);
    cfg->security = SEC_CURVE;
    default_beside (c, "keys", cfg->keys);
    cfg->heartbeat_interval = 2;
    cfg->heartbeat_timeout = 10;
    cfg->link_default.bandwidth = 1e9;
    cfg->link_default.latency = 0.010;
}

static int fed_parse_f (struct cfg_ctx *c, const struct ynode *root, void *cfg)
{
    return fed_parse (c, root, cfg);
}

int fed_config_load_all (const char *file, struct fed_config *cfg, struct errlist *errs)
{
    memset (cfg, 0, sizeof (*cfg));
    if (cfg_load (file, cfg->path, fed_parse_f, cfg, fed_defaults, errs) < 0) {
        fed_config_free (cfg);
        return -1;
    }
    return 0;
}

int fed_config_load (const char *file, struct fed_config *cfg, fs_error_t *err)
{
    struct errlist errs = ERRLIST_INIT;
    int rc = fed_config_load_all (file, cfg, &errs);
    errlist_to_error (&errs, err);
    errlist_clear (&errs);
    return rc;
}

void fed_config_free (struct fed_config *cfg)
{
    if (!cfg)
        return;
    free (cfg->links);
    cfg->links = NULL;
    cfg->nlinks = 0;
}

/* ------------------------------------------------------------------ */
/* site.yaml */

static const char *const site_keys[] = {
    "version", "name", "region", "scheduler", "listen", "advertise", "state_dir", "cores",
    "launcher", "hostfile", "security", "keys", "heartbeat", "io_threads", "piece_size",
    "cache_max", "local_reads", "slurm",
    "data_roots", "apps", NULL
};
static const char *const apps_keys[] = { "trust", "allow", "sandbox", "max_bytes", NULL };
static const char *const site_heartbeat_keys[] = { "interval", NULL };
static const char *const root_keys[] = { "path", "prefix", "policy", NULL };
static const char *const policy_keys[] = { "regions", "aggregate", NULL };
static const char *const aggregate_keys[] = { "min_block", "min", NULL };

/* The map form of a policy, written in its string form for policy_parse:
 * {regions: [r1, r2]} -> "regions=r1,r2"; {aggregate: {min_block: [4, 4]}} -> "aggregate=4x4";
 * {aggregate: {min_block: [4, 4], min: 5}} -> "aggregate=4x4,min=5". */
static int policy_map_to_string (struct cfg_ctx *c, const struct ynode *n, const char *what,
                                 char *buf, size_t bufsz)
{
    const struct ynode *v;
    char w[96];
    size_t o = 0;
    if (cfg_map_strict (c, n, what, policy_keys) < 0)
        return -1;
    if (n->n != 1)
        return ynode_error (c->file, n, c->err, "%s: give exactly one of 'regions' or "
                            "'aggregate'", what);
    if ((v = ynode_get (n, "regions"))) {
        snprintf (w, sizeof (w), "%s.regions", what);
        if (v->type != YNODE_SEQ || v->n == 0)
            return ynode_error (c->file, v, c->err, "%s: expected a non-empty list of region "
                                "names, e.g. [cn-north, cn-east]", w);
        if (v->n > FS_POLICY_MAXREGIONS)
            return ynode_error (c->file, v, c->err, "%s: at most %d regions", w,
                                FS_POLICY_MAXREGIONS);
        o = (size_t) snprintf (buf, bufsz, "regions=");
        for (size_t i = 0; i < v->n; i++) {
            char r[64];
            if (cfg_ident (c, v->items[i], w, "region", r, sizeof (r)) < 0)
                return -1;
            o += (size_t) snprintf (buf + o, o < bufsz ? bufsz - o : 0, "%s%s", i ? "," : "", r);
        }
    }
    else {
        const struct ynode *mb;
        v = ynode_get (n, "aggregate");
        snprintf (w, sizeof (w), "%s.aggregate", what);
        if (cfg_map_strict (c, v, w, aggregate_keys) < 0)
            return -1;
        snprintf (w, sizeof (w), "%s.aggregate.min_block", what);
        if (!(mb = ynode_get (v, "min_block")))
            return cfg_missing (c, v, w);
        if (mb->type != YNODE_SEQ || mb->n == 0)
            return ynode_error (c->file, mb, c->err, "%s: expected a non-empty list of block "
                                "sizes, e.g. [4, 4]", w);
        if (mb->n > FS_MAXDIMS)
            return ynode_error (c->file, mb, c->err, "%s: at most %d dimensions", w, FS_MAXDIMS);
        o = (size_t) snprintf (buf, bufsz, "aggregate=");
        for (size_t i = 0; i < mb->n; i++) {
            int64_t b;
            if (ynode_int (c->file, mb->items[i], w, 1, INT64_MAX, &b, c->err) < 0)
                return -1;
            o += (size_t) snprintf (buf + o, o < bufsz ? bufsz - o : 0, "%s%" PRId64,
                                    i ? "x" : "", b);
        }
        const struct ynode *k = ynode_get (v, "min");
        if (k) {
            int64_t t;
            snprintf (w, sizeof (w), "%s.aggregate.min", what);
            if (ynode_int (c->file, k, w, 1, (int64_t)FS_POLICY_MIN_MAX, &t, c->err) < 0)
                return -1;
            o += (size_t) snprintf (buf + o, o < bufsz ? bufsz - o : 0, ",min=%" PRId64, t);
        }
    }
    if (o >= bufsz)
        return ynode_error (c->file, n, c->err, "%s: policy too long", what);
    return 0;
}

static int parse_policy (struct cfg_ctx *c, const struct ynode *n, const char *what,
                         fs_policy_t *out)
{
    char s[4096];
    fs_error_t e;
    if (n->type == YNODE_MAP) {
        if (policy_map_to_string (c, n, what, s, sizeof (s)) < 0)
            return -1;
    }
    else if (ynode_string (c->file, n, what, s, sizeof (s), c->err) < 0)
        return -1;
    if (policy_parse (s, out, &e) < 0)
        return ynode_error (c->file, n, c->err, "%s: %s", what, e.text);
    return 0;
}

static int parse_data_roots (struct cfg_ctx *c, const struct ynode *n, struct site_config *cfg)
{
    size_t count;
    if (cfg_seq (c, n, "data_roots", &count) < 0)
        return -1;
    if (count > FS_MAX_ROOTS)
        return ynode_error (c->file, n, c->err, "data_roots: %zu roots, at most %d allowed",
                            count, FS_MAX_ROOTS);
    for (size_t i = 0; i < count; i++) {
        const struct ynode *m = n->items[i], *v;
        struct data_root *r = &cfg->roots[cfg->nroots];
        char w[48], wk[64];
        bool ok = true;
        memset (r, 0, sizeof (*r));
        snprintf (w, sizeof (w), "data_roots[%zu]", i);
        if (cfg_map (c, m, w, root_keys) < 0) {
            CFG_KEEP (c, m);
            continue;
        }
        snprintf (wk, sizeof (wk), "%s.path", w);
        if (!(v = ynode_get (m, "path"))) {
            cfg_missing (c, m, wk);
            CFG_KEEP (c, m);
            ok = false;
        } else if (cfg_existing_path (c, v, wk, true, r->path) < 0) {
            CFG_KEEP (c, v);
            ok = false;
        } else {
            for (int j = 0; j < cfg->nroots; j++)
                if (!strcmp (cfg->roots[j].path, r->path)) {
                    ynode_error (c->file, v, c->err, "%s: same directory as data_roots[%d] "
                                 "(%s)", wk, j, r->path);
                    CFG_KEEP (c, v);
                    ok = false;
                    break;
                }
        }
        if ((v = ynode_get (m, "prefix"))) {
            fs_error_t e;
            snprintf (wk, sizeof (wk), "%s.prefix", w);
            if (ynode_string (c->file, v, wk, r->prefix, sizeof (r->prefix), c->err) < 0) {
                CFG_KEEP (c, v);
                ok = false;
            } else if (r->prefix[0] && name_valid (r->prefix, &e) < 0) {
                ynode_error (c->file, v, c->err, "%s: %s", wk, e.text);
                CFG_KEEP (c, v);
                ok = false;
            }
        }
        if ((v = ynode_get (m, "policy"))) {
            snprintf (wk, sizeof (wk), "%s.policy", w);
            if (parse_policy (c, v, wk, &r->policy) < 0) {
                CFG_KEEP (c, v);
                ok = false;
            }
        }
        else
            r->policy.kind = POLICY_RAW;
        if (ok)
            cfg->nroots++;
    }
    return 0;
}

/* --- the slurm: block -------------------------------------------------- */

static const char *const slurm_keys[] = { "partition", "account", "qos", "sbatch_args", "mpi",
                                          "poll", NULL };

/* sbatch options fedsched sets itself for every job (launch_slurm.c), so an
 * sbatch_args entry giving them again would fight it; "-X" forms include the
 * value attached ("-n4"), "--x" forms "--x=V". */
static const char *const slurm_own_opts[] = {
    "--ntasks", "-n", "--time", "-t", "--chdir", "-D", "--output", "-o", "--error", "-e",
    "--job-name", "-J", "--parsable", "--wrap", "--partition", "-p", "--account", "-A",
    "--qos", "-q", "--requeue", "--no-requeue", "--array", "-a", "--wait", "-W", "--hold",
    "-H", "--test-only", NULL
};

static const char *slurm_own_option (const char *arg)
{
    for (int i = 0; slurm_own_opts[i]; i++) {
        const char *o = slurm_own_opts[i];
        size_t l = strlen (o);
        if (strncmp (arg, o, l) != 0)
            continue;
        if (arg[l] == '\0' || (o[1] == '-' ? arg[l] == '=' : true))
            return o;
    }
    return NULL;
}

/* A Slurm name (partition, account, QOS): printable, no spaces, commas or
 * quotes, not an option.  Slurm itself says whether it exists. */
static int cfg_slurm_name (struct cfg_ctx *c, const struct ynode *n, const char *what, char *buf,
                           size_t bufsz)
{
    if (cfg_string (c, n, what, buf, bufsz) < 0)
        return -1;
    for (const char *p = buf; *p; p++)
        if ((unsigned char) *p <= ' ' || *p == 0x7f || strchr (",'\"\\$`", *p))
            return ynode_error (c->file, n, c->err, "%s: '%s' is not a Slurm name (no spaces, "
                                "commas, quotes or control characters)", what, buf);
    if (buf[0] == '-')
        return ynode_error (c->file, n, c->err, "%s: '%s' must not start with '-'", what, buf);
    return 0;
}

static int parse_slurm (struct cfg_ctx *c, const struct ynode *n, struct slurm_config *s)
{
    const struct ynode *v;
    if (cfg_map (c, n, "slurm", slurm_keys) < 0)
        return -1;
    if ((v = ynode_get (n, "partition"))
        && cfg_slurm_name (c, v, "slurm.partition", s->partition, sizeof (s->partition)) < 0)
        return -1;
    if ((v = ynode_get (n, "account"))
        && cfg_slurm_name (c, v, "slurm.account", s->account, sizeof (s->account)) < 0)
        return -1;
    if ((v = ynode_get (n, "qos")) && cfg_slurm_name (c, v, "slurm.qos", s->qos, sizeof (s->qos)) < 0)
        return -1;
    if ((v = ynode_get (n, "sbatch_args"))) {
        size_t count;
        if (cfg_seq (c, v, "slurm.sbatch_args", &count) < 0)
            return -1;
        if (count > FS_SLURM_MAX_ARGS)
            return ynode_error (c->file, v, c->err, "slurm.sbatch_args: %zu arguments, at most %d",
                                count, FS_SLURM_MAX_ARGS);
        for (size_t i = 0; i < count; i++) {
            char w[48];
            const struct ynode *a = v->items[i];
            snprintf (w, sizeof (w), "slurm.sbatch_args[%zu]", i);
            if (cfg_string (c, a, w, s->sbatch_args[i], sizeof (s->sbatch_args[i])) < 0)
                return -1;
            for (const char *p = s->sbatch_args[i]; *p; p++)
                if ((unsigned char) *p < ' ' || *p == 0x7f)
                    return ynode_error (c->file, a, c->err, "%s: control characters are not "
                                        "allowed", w);
            const char *own = slurm_own_option (s->sbatch_args[i]);
            if (own)
                return ynode_error (c->file, a, c->err, "%s: '%s': fedsched sets %s itself for "
                                    "every task (partition, account and qos are keys of the "
                                    "slurm: block)", w, s->sbatch_args[i], own);
            s->nsbatch_args++;
        }
    }
    if ((v = ynode_get (n, "mpi"))) {
        if (ynode_string (c->file, v, "slurm.mpi", s->mpi, sizeof (s->mpi), NULL) < 0
            || (strcmp (s->mpi, "srun") && strcmp (s->mpi, "mpirun")))
            return ynode_error (c->file, v, c->err, "slurm.mpi: expected 'srun' or 'mpirun'");
    }
    if ((v = ynode_get (n, "poll"))) {
        if (cfg_positive_duration (c, v, "slurm.poll", &s->poll) < 0)
            return -1;
        if (s->poll < 0.1 || s->poll > 600)
            return ynode_error (c->file, v, c->err, "slurm.poll: %gs is outside 0.1s..600s",
                                s->poll);
    }
    return 0;
}

/* apps: {trust: DIR, allow: [GLOB, ...], sandbox: bwrap|none, max_bytes: SIZE} */
static int parse_apps (struct cfg_ctx *c, const struct ynode *n, struct site_apps *a)
{
    const struct ynode *v;
    if (cfg_map (c, n, "apps", apps_keys) < 0)
        return -1;
    if ((v = ynode_get (n, "trust")) && cfg_existing_path (c, v, "apps.trust", true, a->trust) < 0)
        return -1;
    if ((v = ynode_get (n, "allow"))) {
        size_t count;
        if (cfg_seq (c, v, "apps.allow", &count) < 0)
            return -1;
        if (count > FS_APPS_ALLOW_MAX)
            return ynode_error (c->file, v, c->err, "apps.allow: %zu globs, at most %d", count,
                                FS_APPS_ALLOW_MAX);
        if (count == 0)
            return ynode_error (c->file, v, c->err, "apps.allow: an empty list would allow no "
                                "app: leave allow out to allow every app, or give name globs");
        for (size_t i = 0; i < count; i++) {
            char *g = a->allow[a->nallow];
            if (cfg_string (c, v->items[i], "apps.allow", g, sizeof (a->allow[0])) < 0)
                return -1;
            if (strspn (g, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-*?")
                != strlen (g))
                return ynode_error (c->file, v->items[i], c->err, "apps.allow: '%s' is not a "
                                    "glob of app names (letters, digits, '._-', '*' and '?')", g);
            a->nallow++;
        }
    }
    if ((v = ynode_get (n, "sandbox"))) {
        if (ynode_string (c->file, v, "apps.sandbox", a->sandbox, sizeof (a->sandbox), NULL) < 0
            || (strcmp (a->sandbox, "bwrap") && strcmp (a->sandbox, "none")))
            return ynode_error (c->file, v, c->err, "apps.sandbox: expected 'bwrap' or 'none'");
    }
    if ((v = ynode_get (n, "max_bytes"))) {
        if (ynode_size (c->file, v, "apps.max_bytes", &a->max_bytes, c->err) < 0)
            return -1;
        if (a->max_bytes < 1024)
            return ynode_error (c->file, v, c->err, "apps.max_bytes: %" PRIu64 " bytes is below "
                                "1KiB", a->max_bytes);
    }
    return 0;
}

static int site_parse (struct cfg_ctx *c, const struct ynode *root, struct site_config *cfg)
{
    const struct ynode *n;
    if (c->errs)
        ynode_check_keys_all (c->file, root, NULL, site_keys, c->errs);
    else if (ynode_check_keys (c->file, root, NULL, site_keys, c->err) < 0)
        return -1;
    if ((n = ynode_get (root, "version")) && cfg_version (c, n) < 0)
        CFG_KEEP (c, n);
    if (!(n = ynode_get (root, "name"))) {
        cfg_missing (c, root, "name");
        CFG_KEEP (c, root);
    } else if (cfg_ident (c, n, "name", "site", cfg->name, sizeof (cfg->name)) < 0)
        CFG_KEEP (c, n);
    if ((n = ynode_get (root, "region"))) {
        if (cfg_ident (c, n, "region", "region", cfg->region, sizeof (cfg->region)) < 0)
            CFG_KEEP (c, n);
    }
    else
        strcpy (cfg->region, cfg->name);
    if ((n = ynode_get (root, "scheduler")) && cfg_uri (c, n, "scheduler", cfg->scheduler) < 0)
        CFG_KEEP (c, n);
    if (!(n = ynode_get (root, "listen"))) {
        cfg_missing (c, root, "listen");
        CFG_KEEP (c, root);
    } else if (cfg_uri (c, n, "listen", cfg->listen) < 0)
        CFG_KEEP (c, n);
    if ((n = ynode_get (root, "advertise"))) {
        if (cfg_uri (c, n, "advertise", cfg->advertise) < 0)
            CFG_KEEP (c, n);
    }
    else
        strcpy (cfg->advertise, cfg->listen);
    if ((n = ynode_get (root, "state_dir")) && cfg_path (c, n, "state_dir", cfg->state_dir) < 0)
        CFG_KEEP (c, n);
    if ((n = ynode_get (root, "cores")) && cfg_int (c, n, "cores", 1, 1048576, &cfg->cores) < 0)
        CFG_KEEP (c, n);
    if ((n = ynode_get (root, "launcher"))) {
        if (ynode_string (c->file, n, "launcher", cfg->launcher, sizeof (cfg->launcher), NULL) < 0
            || (strcmp (cfg->launcher, "mpirun") && strcmp (cfg->launcher, "local")
                && strcmp (cfg->launcher, "slurm"))) {
            ynode_error (c->file, n, c->err, "launcher: expected 'mpirun', 'local' or 'slurm'");
            CFG_KEEP (c, n);
        }
    }
    if ((n = ynode_get (root, "slurm"))) {
        if (strcmp (cfg->launcher, "slurm")) {
            ynode_error (c->file, n, c->err, "slurm: this block is for launcher: slurm (the "
                         "launcher is '%s')", cfg->launcher);
            CFG_KEEP (c, n);
        } else if (parse_slurm (c, n, &cfg->slurm) < 0)
            CFG_KEEP (c, n);
    }
    if ((n = ynode_get (root, "hostfile"))
        && cfg_existing_path (c, n, "hostfile", false, cfg->hostfile) < 0)
        CFG_KEEP (c, n);
    if ((n = ynode_get (root, "security")) && cfg_security (c, n, "security", &cfg->security) < 0)
        CFG_KEEP (c, n);
    if (n)
        cfg->keys_line = n->line, cfg->keys_col = n->col;
    if ((n = ynode_get (root, "keys")) && cfg_path (c, n, "keys", cfg->keys) < 0)
        CFG_KEEP (c, n);
    if (n)
        cfg->keys_line = n->line, cfg->keys_col = n->col;
    if ((n = ynode_get (root, "heartbeat"))) {
        const struct ynode *iv;
        if (cfg_map (c, n, "heartbeat", site_heartbeat_keys) < 0)
            CFG_KEEP (c, n);
        else if ((iv = ynode_get (n, "interval"))
                 && cfg_positive_duration (c, iv, "heartbeat.interval",
                                           &cfg->heartbeat_interval) < 0)
            CFG_KEEP (c, iv);
    }
    if ((n = ynode_get (root, "io_threads"))
        && cfg_int (c, n, "io_threads", 1, 64, &cfg->io_threads) < 0)
        CFG_KEEP (c, n);
    if ((n = ynode_get (root, "piece_size"))) {
        if (ynode_size (c->file, n, "piece_size", &cfg->piece_bytes, c->err) < 0)
            CFG_KEEP (c, n);
        else if (cfg->piece_bytes < 64 * 1024 || cfg->piece_bytes > 64 * 1024 * 1024) {
            ynode_error (c->file, n, c->err, "piece_size: %" PRIu64 " bytes is outside "
                         "64KiB..64MiB", cfg->piece_bytes);
            CFG_KEEP (c, n);
        }
    }
    if ((n = ynode_get (root, "cache_max"))) {
        if (ynode_size (c->file, n, "cache_max", &cfg->cache_max, c->err) < 0)
            CFG_KEEP (c, n);
        else if (cfg->cache_max < 1024 * 1024) {
            ynode_error (c->file, n, c->err, "cache_max: %" PRIu64 " bytes is below 1MiB",
                         cfg->cache_max);
            CFG_KEEP (c, n);
        }
    }
    if ((n = ynode_get (root, "local_reads"))
        && ynode_bool (c->file, n, "local_reads", &cfg->local_reads, c->err) < 0)
        CFG_KEEP (c, n);
    if ((n = ynode_get (root, "data_roots")) && parse_data_roots (c, n, cfg) < 0)
        CFG_KEEP (c, n);
    if ((n = ynode_get (root, "apps")) && parse_apps (c, n, &cfg->apps) < 0)
        CFG_KEEP (c, n);
    return 0;
}

static void site_defaults (struct cfg_ctx *c, void *arg)
{
    struct site_config *cfg = arg;
    strcpy (cfg->scheduler, DEFAULT_SCHEDULER_URI);
    default_beside (c, "state", cfg->state_dir);
    strcpy (cfg->launcher, "mpirun");
    cfg->security = SEC_CURVE;
    default_beside (c, "keys", cfg->keys);
    cfg->heartbeat_interval = 2;
    cfg->io_threads = 2;
    cfg->piece_bytes = 4 * 1024 * 1024;
    cfg->local_reads = true;
    strcpy (cfg->slurm.mpi, "srun");
    cfg->slurm.poll = 2;
    cfg->apps.max_bytes = FS_APPS_DEFAULT_MAX_BYTES;
}

static int site_parse_f (struct cfg_ctx *c, const struct ynode *root, void *cfg)
{
    return site_parse (c, root, cfg);
}

int site_config_load_all (const char *file, struct site_config *cfg, struct errlist *errs)
{
    memset (cfg, 0, sizeof (*cfg));
    return cfg_load (file, cfg->path, site_parse_f, cfg, site_defaults, errs);
}

int site_config_load (const char *file, struct site_config *cfg, fs_error_t *err)
{
    struct errlist errs = ERRLIST_INIT;
    int rc = site_config_load_all (file, cfg, &errs);
    errlist_to_error (&errs, err);
    errlist_clear (&errs);
    return rc;
}

/* --- key directories (security: curve) ------------------------------- */

static int keys_problem (const char *file, int line, int col, const char *dir, fs_error_t *err,
                         const char *what)
{
    return errprintf (err, FS_EINVAL, "%s:%d:%d: keys: %s/%s is missing or unreadable (security: "
                      "curve; see 'fedsched keygen' and docs/operator-guide.md, Security)",
                      file, line > 0 ? line : 1, col > 0 ? col : 1, dir, what);
}

static int keys_check (const char *file, int line, int col, fs_security_t sec, const char *dir,
                       const char *const *files, fs_error_t *err)
{
    struct stat st;
    if (sec != SEC_CURVE)
        return 0;
    if (stat (dir, &st) < 0 || !S_ISDIR (st.st_mode))
        return errprintf (err, FS_EINVAL, "%s:%d:%d: keys: %s is not a directory (security: curve "
                          "needs one; see docs/operator-guide.md, Security)", file,
                          line > 0 ? line : 1, col > 0 ? col : 1, dir);
    for (int i = 0; files[i]; i++) {
        char path[PATH_MAX + 64];
        snprintf (path, sizeof (path), "%s/%s", dir, files[i]);
        bool want_dir = files[i][strlen (files[i]) - 1] == '/';
        if (want_dir ? stat (path, &st) < 0 || !S_ISDIR (st.st_mode) : access (path, R_OK) < 0)
            return keys_problem (file, line, col, dir, err, files[i]);
    }
    return 0;
}

int fed_config_check_keys (const struct fed_config *cfg, fs_error_t *err)
{
    static const char *const need[] = { "scheduler.key", "authorized/", NULL };
    return keys_check (cfg->path, cfg->keys_line, cfg->keys_col, cfg->security, cfg->keys, need, err);
}

int site_config_check_keys (const struct site_config *cfg, fs_error_t *err)
{
    static const char *const need[] = { "site.key", "scheduler.pub", "authorized/", NULL };
    return keys_check (cfg->path, cfg->keys_line, cfg->keys_col, cfg->security, cfg->keys, need, err);
}
