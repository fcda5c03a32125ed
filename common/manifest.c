/* manifest.c - app.yaml and NAME@VERSION (see manifest.h). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "manifest.h"
#include "ydoc.h"

static const char *const top_keys[] = { "name", "version", "description", "entry", "mpi",
                                        "requires", NULL };

/* A name of [A-Za-z0-9] then [A-Za-z0-9 extra]*, 1..63 bytes; what for messages. */
static int ident_check (const char *what, const char *s, const char *extra, fs_error_t *err)
{
    size_t n = strlen (s);
    if (n == 0)
        return errprintf (err, FS_EINVAL, "%s is empty", what);
    if (n >= APP_NAME_MAX)
        return errprintf (err, FS_EINVAL, "%s '%.70s...' is longer than %d bytes", what, s,
                          APP_NAME_MAX - 1);
    if (!isalnum ((unsigned char)s[0]))
        return errprintf (err, FS_EINVAL, "%s '%s' must start with a letter or digit", what, s);
    for (size_t i = 0; i < n; i++)
        if (!isalnum ((unsigned char)s[i]) && !strchr (extra, s[i]))
            return errprintf (err, FS_EINVAL, "%s '%s': character %zu ('%c') is not allowed "
                              "(letters, digits and %s)", what, s, i + 1,
                              isprint ((unsigned char)s[i]) ? s[i] : '?', extra);
    return 0;
}

int app_name_valid (const char *s, fs_error_t *err)
{
    return ident_check ("app name", s, "._-", err);
}

int app_version_valid (const char *s, fs_error_t *err)
{
    return ident_check ("app version", s, "._+-", err);
}

static int entry_name_valid (const char *s, fs_error_t *err)
{
    return ident_check ("entry point name", s, "._-", err);
}

static int req_valid (const char *s, fs_error_t *err)
{
    size_t n = strlen (s);
    if (n == 0 || n >= APP_REQ_MAX)
        return errprintf (err, FS_EINVAL, "requirement '%.70s' must be 1 to %d bytes", s,
                          APP_REQ_MAX - 1);
    for (size_t i = 0; i < n; i++)
        if (!isalnum ((unsigned char)s[i]) && !strchr ("._+-", s[i]))
            return errprintf (err, FS_EINVAL, "requirement '%s': character %zu is not allowed "
                              "(a command or library name: letters, digits and ._+-)", s, i + 1);
    if (s[0] == '.' || s[0] == '-')
        return errprintf (err, FS_EINVAL, "requirement '%s' must not start with '%c'", s, s[0]);
    return 0;
}

bool manifest_req_is_lib (const char *r)
{
    return !strncmp (r, "lib", 3) && strstr (r, ".so") != NULL;
}

/* A relative path that stays inside: no leading '/', no empty, '.' or '..'
 * component.  why gets the reason. */
static bool path_inside (const char *p, char *why, size_t whysz)
{
    if (!*p) {
        snprintf (why, whysz, "the path is empty");
        return false;
    }
    if (p[0] == '/') {
        snprintf (why, whysz, "'%s' is absolute: give a path inside the app's directory", p);
        return false;
    }
    for (const char *c = p; *c;) {
        size_t len = strcspn (c, "/");
        if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.')) {
            snprintf (why, whysz, "'%s' %s", p, len == 2 ? "leads out of the app's directory "
                      "('..')" : "has an empty or '.' component");
            return false;
        }
        c += len;
        if (*c == '/')
            c++;
    }
    return true;
}

int app_ref_parse (const char *ref, char *name, char *version, fs_error_t *err)
{
    const char *at = ref ? strchr (ref, '@') : NULL;
    if (!at)
        return errprintf (err, FS_EINVAL, "app '%s': expected NAME@VERSION, e.g. heatwave@1.2.0",
                          ref ? ref : "");
    size_t nl = (size_t)(at - ref);
    if (nl >= APP_NAME_MAX || strlen (at + 1) >= APP_NAME_MAX)
        return errprintf (err, FS_EINVAL, "app '%.100s': name and version are at most %d bytes "
                          "each", ref, APP_NAME_MAX - 1);
    memcpy (name, ref, nl);
    name[nl] = '\0';
    snprintf (version, APP_NAME_MAX, "%s", at + 1);
    if (app_name_valid (name, err) < 0 || app_version_valid (version, err) < 0)
        return errprefix (err, "app '%s'", ref);
    return 0;
}

/* --- YAML -------------------------------------------------------------------- */

static int y_ident (const char *file, const struct ynode *n, const char *what,
                    int (*check) (const char *, fs_error_t *), char *out, fs_error_t *err)
{
    fs_error_t e;
    if (ynode_string (file, n, what, out, APP_NAME_MAX, err) < 0)
        return -1;
    if (check (out, &e) < 0)
        return ynode_error (file, n, err, "%s: %s", what, e.text);
    return 0;
}

static int parse (struct app_manifest *m, const char *file, const struct ynode *root,
                  fs_error_t *err)
{
    const struct ynode *n;
    fs_error_t e;
    if (root->type != YNODE_MAP)
        return ynode_error (file, root, err, "an app manifest is a mapping (name, version, "
                            "entry, ...)");
    if (ynode_check_keys (file, root, NULL, top_keys, err) < 0)
        return -1;
    if (!(n = ynode_get (root, "name")))
        return ynode_error (file, root, err, "name: missing (the app's name, e.g. heatwave)");
    if (y_ident (file, n, "name", app_name_valid, m->name, err) < 0)
        return -1;
    if (!(n = ynode_get (root, "version")))
        return ynode_error (file, root, err, "version: missing (e.g. 1.0.0)");
    if (y_ident (file, n, "version", app_version_valid, m->version, err) < 0)
        return -1;
    if ((n = ynode_get (root, "description"))
        && ynode_string (file, n, "description", m->description, sizeof (m->description), err) < 0)
        return -1;
    if ((n = ynode_get (root, "mpi")) && ynode_bool (file, n, "mpi", &m->mpi, err) < 0)
        return -1;
    if (!(n = ynode_get (root, "entry")))
        return ynode_error (file, root, err, "entry: missing (a map of entry-point names to "
                            "paths inside the app's directory)");
    if (n->type != YNODE_MAP || n->n == 0)
        return ynode_error (file, n, err, "entry: expected a non-empty map of entry-point "
                            "names to paths, e.g. {heat-index: bin/heat-index}");
    if (n->n > APP_ENTRY_MAX)
        return ynode_error (file, n, err, "entry: %zu entry points, at most %d", n->n,
                            APP_ENTRY_MAX);
    for (size_t i = 0; i < n->n; i++) {
        struct app_entry *en = &m->entry[m->nentry];
        char what[APP_NAME_MAX + 16], why[APP_PATH_MAX + 100];
        const struct ynode *k = n->keys[i], *v = n->items[i];
        if (entry_name_valid (k->value, &e) < 0)
            return ynode_error (file, k, err, "entry: %s", e.text);
        snprintf (en->name, sizeof (en->name), "%s", k->value);
        snprintf (what, sizeof (what), "entry.%s", en->name);
        if (ynode_string (file, v, what, en->path, sizeof (en->path), err) < 0)
            return -1;
        if (!path_inside (en->path, why, sizeof (why)))
            return ynode_error (file, v, err, "%s: %s", what, why);
        en->line = v->line;
        en->col = v->col;
        m->nentry++;
    }
    if ((n = ynode_get (root, "requires"))) {
        if (n->type != YNODE_SEQ)
            return ynode_error (file, n, err, "requires: expected a list of commands and "
                                "libraries, e.g. [mpirun, libhdf5_openmpi.so.103]");
        if (n->n > APP_REQUIRES_MAX)
            return ynode_error (file, n, err, "requires: %zu entries, at most %d", n->n,
                                APP_REQUIRES_MAX);
        for (size_t i = 0; i < n->n; i++) {
            char *r = m->requires[m->nrequires];
            if (ynode_string (file, n->items[i], "requires", r, APP_REQ_MAX, err) < 0)
                return -1;
            if (req_valid (r, &e) < 0)
                return ynode_error (file, n->items[i], err, "requires: %s", e.text);
            m->nrequires++;
        }
    }
    return 0;
}

static struct app_manifest *load (const char *name, struct ynode *root, fs_error_t *err)
{
    if (!root)
        return NULL;
    struct app_manifest *m = calloc (1, sizeof (*m));
    if (!m) {
        ydoc_free (root);
        errprintf (err, FS_EFAIL, "out of memory");
        return NULL;
    }
    snprintf (m->file, sizeof (m->file), "%s", name);
    int rc = parse (m, name, root, err);
    ydoc_free (root);
    if (rc < 0) {
        free (m);
        return NULL;
    }
    return m;
}

static const struct ydoc_limits limits = { 64 << 10, 8 };

struct app_manifest *manifest_load_file (const char *file, fs_error_t *err)
{
    return load (file, ydoc_load_file (file, &limits, err), err);
}

struct app_manifest *manifest_load_string (const char *name, const char *text, size_t len,
                                           fs_error_t *err)
{
    return load (name, ydoc_load_string (name, text, len, &limits, err), err);
}

int manifest_check_dir (const struct app_manifest *m, const char *dir, fs_error_t *err)
{
    char root[PATH_MAX];
    if (!realpath (dir, root))
        return errprintf (err, FS_EINVAL, "%s: %s", dir, strerror (errno));
    size_t rl = strlen (root);
    for (int i = 0; i < m->nentry; i++) {
        const struct app_entry *en = &m->entry[i];
        char path[PATH_MAX + APP_PATH_MAX], real[PATH_MAX];
        struct stat st;
        int line = en->line > 0 ? en->line : 1, col = en->col > 0 ? en->col : 1;
        snprintf (path, sizeof (path), "%s/%s", root, en->path);
        if (!realpath (path, real))
            return errprintf (err, FS_EINVAL, "%s:%d:%d: entry.%s: '%s' %s", m->file, line, col,
                              en->name, en->path, errno == ENOENT ? "does not exist in the "
                              "app's directory" : strerror (errno));
        if (strncmp (real, root, rl) || real[rl] != '/')
            return errprintf (err, FS_EINVAL, "%s:%d:%d: entry.%s: '%s' leads out of the app's "
                              "directory (through a symlink, to %s)", m->file, line, col,
                              en->name, en->path, real);
        if (stat (real, &st) < 0 || !S_ISREG (st.st_mode))
            return errprintf (err, FS_EINVAL, "%s:%d:%d: entry.%s: '%s' is not a regular file",
                              m->file, line, col, en->name, en->path);
        if (!(st.st_mode & 0111))
            return errprintf (err, FS_EINVAL, "%s:%d:%d: entry.%s: '%s' is not executable "
                              "(chmod +x it)", m->file, line, col, en->name, en->path);
    }
    return 0;
}

/* --- JSON ---------------------------------------------------------------------- */

json_t *manifest_to_json (const struct app_manifest *m)
{
    json_t *entry = json_object (), *req = json_array ();
    for (int i = 0; i < m->nentry; i++)
        json_object_set_new (entry, m->entry[i].name, json_string (m->entry[i].path));
    for (int i = 0; i < m->nrequires; i++)
        json_array_append_new (req, json_string (m->requires[i]));
    return json_pack ("{s:s, s:s, s:s, s:o, s:b, s:o}", "name", m->name, "version", m->version,
                      "description", m->description, "entry", entry, "mpi", m->mpi, "requires",
                      req);
}

struct app_manifest *manifest_from_json (const json_t *j, const char *what, fs_error_t *err)
{
    const char *name, *version, *desc = "";
    json_t *entry, *req = NULL;
    int mpi = 0;
    json_error_t je;
    char why[APP_PATH_MAX + 100];
    if (json_unpack_ex ((json_t *)j, &je, 0, "{s:s, s:s, s?s, s:o, s?b, s?o}", "name", &name,
                        "version", &version, "description", &desc, "entry", &entry, "mpi", &mpi,
                        "requires", &req) < 0) {
        errprintf (err, FS_EINVAL, "%s: manifest: %s", what, je.text);
        return NULL;
    }
    struct app_manifest *m = calloc (1, sizeof (*m));
    if (!m) {
        errprintf (err, FS_EFAIL, "out of memory");
        return NULL;
    }
    snprintf (m->file, sizeof (m->file), "%s", what);
    m->mpi = mpi;
    if (app_name_valid (name, err) < 0 || app_version_valid (version, err) < 0)
        goto bad;
    snprintf (m->name, sizeof (m->name), "%s", name);
    snprintf (m->version, sizeof (m->version), "%s", version);
    if (strlen (desc) >= sizeof (m->description)) {
        errprintf (err, FS_EINVAL, "description longer than %d bytes", APP_DESC_MAX - 1);
        goto bad;
    }
    snprintf (m->description, sizeof (m->description), "%s", desc);
    if (!json_is_object (entry) || json_object_size (entry) == 0
        || json_object_size (entry) > APP_ENTRY_MAX) {
        errprintf (err, FS_EINVAL, "entry must map 1 to %d names to paths", APP_ENTRY_MAX);
        goto bad;
    }
    const char *k;
    json_t *v;
    json_object_foreach (entry, k, v) {
        struct app_entry *en = &m->entry[m->nentry];
        const char *p = json_string_value (v);
        if (entry_name_valid (k, err) < 0)
            goto bad;
        if (!p || strlen (p) >= sizeof (en->path) || !path_inside (p, why, sizeof (why))) {
            errprintf (err, FS_EINVAL, "entry.%s: %s", k, p ? why : "expected a path");
            goto bad;
        }
        snprintf (en->name, sizeof (en->name), "%s", k);
        snprintf (en->path, sizeof (en->path), "%s", p);
        m->nentry++;
    }
    if (req && (!json_is_array (req) || json_array_size (req) > APP_REQUIRES_MAX)) {
        errprintf (err, FS_EINVAL, "requires must be a list of at most %d names",
                   APP_REQUIRES_MAX);
        goto bad;
    }
    size_t i;
    json_array_foreach (req, i, v) {
        const char *r = json_string_value (v);
        if (!r) {
            errprintf (err, FS_EINVAL, "requires[%zu] must be a string", i);
            goto bad;
        }
        if (req_valid (r, err) < 0)
            goto bad;
        snprintf (m->requires[m->nrequires++], APP_REQ_MAX, "%s", r);
    }
    return m;
bad:
    errprefix (err, "%s: manifest", what);
    free (m);
    return NULL;
}

const char *manifest_entry (const struct app_manifest *m, const char *name)
{
    for (int i = 0; m && i < m->nentry; i++)
        if (!strcmp (m->entry[i].name, name))
            return m->entry[i].path;
    return NULL;
}

/* --- claims ------------------------------------------------------------------------ */

int app_claim_from_json (const json_t *j, const char *what, struct app_claim *c, fs_error_t *err)
{
    const char *name, *version, *digest, *publisher, *sig = NULL;
    json_int_t bytes;
    json_error_t je;
    memset (c, 0, sizeof (*c));
    if (json_unpack_ex ((json_t *)j, &je, 0, "{s:s, s:s, s:s, s:I, s:s, s?s}", "name", &name,
                        "version", &version, "digest", &digest, "bytes", &bytes, "publisher",
                        &publisher, "signature", &sig) < 0)
        return errprintf (err, FS_EINVAL, "%s: app: %s", what, je.text);
    if (app_name_valid (name, err) < 0 || app_version_valid (version, err) < 0)
        return errprefix (err, "%s", what);
    if (!sign_digest_valid (digest))
        return errprintf (err, FS_EINVAL, "%s: app digest '%.80s' is not sha256:HEX", what, digest);
    if (bytes <= 0)
        return errprintf (err, FS_EINVAL, "%s: app bytes must be positive", what);
    if (!sign_key_valid (publisher))
        return errprintf (err, FS_EINVAL, "%s: publisher '%.80s' is not ed25519:HEX", what,
                          publisher);
    if (!sig || !sign_sig_valid (sig))
        return errprintf (err, FS_EINVAL, "%s: the bundle of %s@%s is not signed (no valid "
                          "signature): unsigned bundles never run", what, name, version);
    snprintf (c->name, sizeof (c->name), "%s", name);
    snprintf (c->version, sizeof (c->version), "%s", version);
    snprintf (c->digest, sizeof (c->digest), "%s", digest);
    c->bytes = (uint64_t)bytes;
    snprintf (c->publisher, sizeof (c->publisher), "%s", publisher);
    snprintf (c->signature, sizeof (c->signature), "%s", sig);
    return 0;
}

json_t *app_claim_to_json (const struct app_claim *c)
{
    return json_pack ("{s:s, s:s, s:s, s:I, s:s, s:s}", "name", c->name, "version", c->version,
                      "digest", c->digest, "bytes", (json_int_t)c->bytes, "publisher",
                      c->publisher, "signature", c->signature);
}

const char *app_claim_hex (const struct app_claim *c)
{
    return c->digest + 7;
}
