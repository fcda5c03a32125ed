/* holdings.c - what a site holds (see holdings.h). */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/dtype.h"
#include "common/log.h"
#include "common/names.h"
#include "holdings.h"

#define WALK_MAX_DEPTH 64

struct holdings {
    const struct site_config *cfg;
    pthread_rwlock_t lock;
    size_t n, cap;
    struct holding *items;      /* sorted by name */
};

struct holdings *holdings_create (const struct site_config *cfg)
{
    struct holdings *h = calloc (1, sizeof (*h));
    if (!h)
        return NULL;
    h->cfg = cfg;
    pthread_rwlock_init (&h->lock, NULL);
    return h;
}

void holdings_destroy (struct holdings *h)
{
    if (!h)
        return;
    pthread_rwlock_destroy (&h->lock);
    free (h->items);
    free (h);
}

static json_t *entry_json (const struct holding *e)
{
    char pol[1024];
    json_t *shape = json_array (), *chunks = json_null ();
    for (int d = 0; d < e->info.ndims; d++)
        json_array_append_new (shape, json_integer ((json_int_t)e->info.shape[d]));
    if (e->info.chunked) {
        chunks = json_array ();
        for (int d = 0; d < e->info.ndims; d++)
            json_array_append_new (chunks, json_integer ((json_int_t)e->info.chunks[d]));
    }
    uint64_t bytes = dtype_size (e->info.dtype);
    for (int d = 0; d < e->info.ndims; d++)
        bytes *= e->info.shape[d];
    return json_pack ("{s:s, s:s, s:s, s:o, s:s, s:o, s:I, s:s}", "name", e->name, "file", e->file,
                      "path", e->path, "shape", shape, "dtype", dtype_name (e->info.dtype), "chunks",
                      chunks, "bytes", (json_int_t)bytes, "policy",
                      policy_format (&e->policy, pol, sizeof (pol)));
}

/* Insert or replace by name. */
static int holdings_put (struct holdings *h, const struct holding *e)
{
    pthread_rwlock_wrlock (&h->lock);
    size_t lo = 0, hi = h->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (strcmp (h->items[mid].name, e->name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < h->n && !strcmp (h->items[lo].name, e->name)) {
        h->items[lo] = *e;
    } else {
        if (h->n == h->cap) {
            size_t cap = h->cap ? h->cap * 2 : 64;
            struct holding *it = realloc (h->items, cap * sizeof (*it));
            if (!it) {
                pthread_rwlock_unlock (&h->lock);
                return -1;
            }
            h->items = it;
            h->cap = cap;
        }
        memmove (&h->items[lo + 1], &h->items[lo], (h->n - lo) * sizeof (*e));
        h->items[lo] = *e;
        h->n++;
    }
    pthread_rwlock_unlock (&h->lock);
    return 0;
}

int holdings_find (struct holdings *h, const char *name, struct holding *out, fs_error_t *err)
{
    int rc = -1;
    pthread_rwlock_rdlock (&h->lock);
    size_t lo = 0, hi = h->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp (h->items[mid].name, name);
        if (c == 0) {
            *out = h->items[mid];
            rc = 0;
            break;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    pthread_rwlock_unlock (&h->lock);
    if (rc < 0)
        errprintf (err, FS_EFAIL, "site %s holds no dataset '%s'", h->cfg->name, name);
    return rc;
}

json_t *holdings_entries (struct holdings *h)
{
    json_t *a = json_array ();
    pthread_rwlock_rdlock (&h->lock);
    for (size_t i = 0; i < h->n; i++)
        json_array_append_new (a, entry_json (&h->items[i]));
    pthread_rwlock_unlock (&h->lock);
    return a;
}

size_t holdings_count (struct holdings *h)
{
    pthread_rwlock_rdlock (&h->lock);
    size_t n = h->n;
    pthread_rwlock_unlock (&h->lock);
    return n;
}

static void skip (json_t *skipped, const char *path, const char *reason)
{
    log_msg (LOG_WARN, "event=publish.skip path=\"%s\" reason=\"%s\"", path, reason);
    json_array_append_new (skipped, json_pack ("{s:s, s:s}", "path", path, "reason", reason));
}

/* Is real (a resolved path) root itself or inside it? */
static bool path_inside (const char *root, const char *real)
{
    size_t n = strlen (root);
    return !strncmp (root, real, n) && (real[n] == '/' || real[n] == '\0');
}

struct file_ctx {
    struct holdings *h;
    const struct data_root *root;
    const char *file;           /* absolute */
    const char *rel;            /* relative to the root */
    const char *name;           /* --name, or NULL */
    int ndatasets;              /* datasets in the file (for --name) */
    const fs_policy_t *policy;
    json_t *datasets, *skipped;
};

static int count_visit (void *arg, const char *h5path, const fs_dsinfo_t *info, const char *why)
{
    (void)h5path;
    (void)why;
    if (info)
        ((struct file_ctx *)arg)->ndatasets++;
    return 0;
}

static int file_visit (void *arg, const char *h5path, const fs_dsinfo_t *info, const char *why)
{
    struct file_ctx *c = arg;
    char where[PATH_MAX + 1100];
    snprintf (where, sizeof (where), "%s:%s", c->rel, h5path);
    if (!info) {
        skip (c->skipped, where, why);
        return 0;
    }
    struct holding e;
    memset (&e, 0, sizeof (e));
    fs_error_t err;
    int rc;
    if (c->name && c->ndatasets == 1)
        rc = snprintf (e.name, sizeof (e.name), "%s", c->name) >= (int)sizeof (e.name)
                 ? errprintf (&err, FS_EINVAL, "name too long") : name_valid (e.name, &err);
    else if (c->name)
        rc = snprintf (e.name, sizeof (e.name), "%s%s", c->name, h5path) >= (int)sizeof (e.name)
                 ? errprintf (&err, FS_EINVAL, "name '%s%s' is longer than 255 bytes", c->name, h5path)
                 : name_valid (e.name, &err);
    else
        rc = name_for_dataset (c->root->prefix, c->rel, h5path, e.name, sizeof (e.name), &err);
    if (rc < 0) {
        skip (c->skipped, where, err.text);
        return 0;
    }
    if (policy_check_rank (c->policy, info->ndims, &err) < 0) {
        skip (c->skipped, where, err.text);
        return 0;
    }
    snprintf (e.file, sizeof (e.file), "%s", c->file);
    snprintf (e.path, sizeof (e.path), "%s", h5path);
    e.info = *info;
    e.policy = *c->policy;
    if (holdings_put (c->h, &e) < 0) {
        skip (c->skipped, where, "out of memory");
        return 1;
    }
    json_array_append_new (c->datasets, entry_json (&e));
    return 0;
}

static void publish_file (struct holdings *h, const struct data_root *root, const char *file,
                          const char *name, const fs_policy_t *policy, json_t *datasets,
                          json_t *skipped)
{
    const char *rel = file + strlen (root->path);
    while (*rel == '/')
        rel++;
    struct file_ctx c = { h, root, file, rel, name, 0, policy, datasets, skipped };
    fs_error_t err;
    if ((name && format_scan (file, count_visit, &c, &err) < 0)
        || format_scan (file, file_visit, &c, &err) < 0)
        skip (skipped, rel, err.text);
}

static void walk (struct holdings *h, const struct data_root *root, const char *dir, int depth,
                  const fs_policy_t *policy, json_t *datasets, json_t *skipped)
{
    if (depth > WALK_MAX_DEPTH) {
        skip (skipped, dir, "directory tree too deep");
        return;
    }
    struct dirent **ents;
    int n = scandir (dir, &ents, NULL, alphasort);
    if (n < 0) {
        skip (skipped, dir, strerror (errno));
        return;
    }
    for (int i = 0; i < n; i++) {
        const char *nm = ents[i]->d_name;
        char path[PATH_MAX], real[PATH_MAX];
        struct stat st;
        if (nm[0] == '.' || snprintf (path, sizeof (path), "%s/%s", dir, nm) >= (int)sizeof (path)
            || lstat (path, &st) < 0)
            goto next;
        if (S_ISDIR (st.st_mode)) {
            walk (h, root, path, depth + 1, policy, datasets, skipped);
        } else if (name_is_hdf5_file (nm) && (S_ISREG (st.st_mode) || S_ISLNK (st.st_mode))) {
            /* Symlinked files are served only when they stay inside the root;
             * symlinked directories are never followed. */
            if (!realpath (path, real) || !path_inside (root->path, real)) {
                skip (skipped, path + strlen (root->path) + 1, "symbolic link leads outside the data root");
                goto next;
            }
            if (stat (real, &st) < 0 || !S_ISREG (st.st_mode))
                goto next;
            publish_file (h, root, path, NULL, policy, datasets, skipped);
        }
    next:
        free (ents[i]);
    }
    free (ents);
}

/* published.json and outputs.json are rewritten whole (read, append, write a
 * temporary file, rename): one writer at a time, whichever I/O thread it is. */
static pthread_mutex_t record_lock = PTHREAD_MUTEX_INITIALIZER;

/* Publications made on request, kept so a restarted worker serves them again. */
static void record_publication (struct holdings *h, const char *real, const char *name,
                                const char *policy)
{
    pthread_mutex_lock (&record_lock);
    char file[PATH_MAX + 32];
    snprintf (file, sizeof (file), "%s/published.json", h->cfg->state_dir);
    json_t *a = json_load_file (file, 0, NULL);
    if (!json_is_array (a)) {
        json_decref (a);
        a = json_array ();
    }
    json_t *e = json_pack ("{s:s}", "path", real);
    if (name)
        json_object_set_new (e, "name", json_string (name));
    if (policy)
        json_object_set_new (e, "policy", json_string (policy));
    json_array_append_new (a, e);
    char tmp[PATH_MAX + 40];
    snprintf (tmp, sizeof (tmp), "%s.tmp", file);
    if (json_dump_file (a, tmp, JSON_INDENT (1)) < 0 || rename (tmp, file) < 0)
        log_msg (LOG_WARN, "event=publish.record_fail file=\"%s\" errno=%d", file, errno);
    pthread_mutex_unlock (&record_lock);
    json_decref (a);
}

/* Resolve PATH to a real path inside one of the data roots. */
static const struct data_root *resolve (struct holdings *h, const char *path, char *real,
                                        fs_error_t *err)
{
    const struct site_config *cfg = h->cfg;
    bool outside = false;
    if (!*path) {
        errprintf (err, FS_EINVAL, "empty path");
        return NULL;
    }
    for (int i = 0; i < cfg->nroots; i++) {
        char joined[PATH_MAX * 2];
        if (path[0] == '/')
            snprintf (joined, sizeof (joined), "%s", path);
        else
            snprintf (joined, sizeof (joined), "%s/%s", cfg->roots[i].path, path);
        if (!realpath (joined, real))
            continue;
        /* Where the file really is decides: a link from one root into another
         * publishes the file of that other root (its prefix, its policy),
         * whether the path was given relative or absolute. */
        for (int k = 0; k < cfg->nroots; k++)
            if (path_inside (cfg->roots[k].path, real))
                return &cfg->roots[k];
        outside = true;
    }
    if (outside)
        errprintf (err, FS_EFAIL,
                   "refused: '%s' resolves outside site %s's data roots; only files inside "
                   "them can be published",
                   path, cfg->name);
    else
        errprintf (err, FS_EFAIL, "no such file or directory '%s' under site %s's data roots",
                   path, cfg->name);
    return NULL;
}

int holdings_publish (struct holdings *h, const char *path, const char *name, const char *policy,
                      json_t *datasets, json_t *skipped, fs_error_t *err)
{
    char real[PATH_MAX];
    fs_policy_t pol;
    if (name && name_valid (name, err) < 0)
        return -1;
    if (policy && policy_parse (policy, &pol, err) < 0)
        return -1;
    const struct data_root *root = resolve (h, path, real, err);
    if (!root)
        return -1;
    if (!policy)
        pol = root->policy;
    struct stat st;
    if (stat (real, &st) < 0)
        return errprintf (err, FS_EFAIL, "%s: %s", path, strerror (errno));
    size_t before = json_array_size (datasets);
    if (S_ISDIR (st.st_mode)) {
        if (name)
            return errprintf (err, FS_EINVAL, "--name needs a single file, and '%s' is a directory", path);
        walk (h, root, real, 0, &pol, datasets, skipped);
    } else if (S_ISREG (st.st_mode)) {
        if (!name_is_hdf5_file (real))
            return errprintf (err, FS_EINVAL, "'%s' is not an HDF5 file name (.h5 .hdf5 .he5 .nc)", path);
        publish_file (h, root, real, name, &pol, datasets, skipped);
    } else {
        return errprintf (err, FS_EINVAL, "'%s' is neither a file nor a directory", path);
    }
    if (json_array_size (datasets) == before && json_array_size (skipped) > 0 && S_ISREG (st.st_mode))
        return errprintf (err, FS_EFAIL, "nothing published from '%s': %s", path,
                          json_string_value (json_object_get (json_array_get (skipped, 0), "reason")));
    if (json_array_size (datasets) > before)
        record_publication (h, real, name, policy);
    return 0;
}

static void outputs_replay (struct holdings *h, json_t *datasets, json_t *skipped);

int holdings_scan (struct holdings *h, json_t *datasets, json_t *skipped, fs_error_t *err)
{
    for (int i = 0; i < h->cfg->nroots; i++)
        walk (h, &h->cfg->roots[i], h->cfg->roots[i].path, 0, &h->cfg->roots[i].policy, datasets,
              skipped);
    char file[PATH_MAX + 32];
    snprintf (file, sizeof (file), "%s/published.json", h->cfg->state_dir);
    json_t *a = json_load_file (file, 0, NULL);
    size_t i;
    json_t *e;
    json_array_foreach (a, i, e) {
        const char *path = json_string_value (json_object_get (e, "path"));
        const char *name = json_string_value (json_object_get (e, "name"));
        const char *policy = json_string_value (json_object_get (e, "policy"));
        char real[PATH_MAX];
        fs_policy_t pol;
        fs_error_t perr;
        const struct data_root *root = path ? resolve (h, path, real, &perr) : NULL;
        if (!root || (policy && policy_parse (policy, &pol, &perr) < 0)) {
            skip (skipped, path ? path : "?", root ? perr.text : "recorded publication no longer valid");
            continue;
        }
        struct stat st;
        if (stat (real, &st) == 0 && S_ISREG (st.st_mode))
            publish_file (h, root, real, name, policy ? &pol : &root->policy, datasets, skipped);
        else if (stat (real, &st) == 0 && S_ISDIR (st.st_mode))
            walk (h, root, real, 0, policy ? &pol : &root->policy, datasets, skipped);
    }
    json_decref (a);
    outputs_replay (h, datasets, skipped);
    (void)err;
    return 0;
}

/* Task outputs live in the state directory, outside the data roots: they are
 * listed in outputs.json so that a restarted worker serves them again. */
static void outputs_file (struct holdings *h, char *buf, size_t n)
{
    snprintf (buf, n, "%s/outputs.json", h->cfg->state_dir);
}

int holdings_add (struct holdings *h, const struct holding *e, json_t *entries)
{
    if (holdings_put (h, e) < 0)
        return -1;
    if (entries)
        json_array_append_new (entries, entry_json (e));
    char file[PATH_MAX + 32], tmp[PATH_MAX + 40], pol[1024];
    outputs_file (h, file, sizeof (file));
    snprintf (tmp, sizeof (tmp), "%s.tmp", file);
    pthread_mutex_lock (&record_lock);
    json_t *a = json_load_file (file, 0, NULL);
    if (!json_is_array (a)) {
        json_decref (a);
        a = json_array ();
    }
    json_array_append_new (a, json_pack ("{s:s, s:s, s:s, s:s}", "name", e->name, "file", e->file,
                                         "path", e->path, "policy",
                                         policy_format (&e->policy, pol, sizeof (pol))));
    if (json_dump_file (a, tmp, JSON_COMPACT) < 0 || rename (tmp, file) < 0)
        log_msg (LOG_WARN, "event=outputs.record_fail file=\"%s\" errno=%d", file, errno);
    pthread_mutex_unlock (&record_lock);
    json_decref (a);
    return 0;
}

/* The outputs recorded by earlier runs, served again. */
static void outputs_replay (struct holdings *h, json_t *datasets, json_t *skipped)
{
    char file[PATH_MAX + 32];
    outputs_file (h, file, sizeof (file));
    json_t *a = json_load_file (file, 0, NULL);
    size_t i;
    json_t *o;
    json_array_foreach (a, i, o) {
        struct holding e;
        fs_error_t err;
        memset (&e, 0, sizeof (e));
        const char *name = json_string_value (json_object_get (o, "name"));
        const char *f = json_string_value (json_object_get (o, "file"));
        const char *path = json_string_value (json_object_get (o, "path"));
        const char *pol = json_string_value (json_object_get (o, "policy"));
        if (!name || !f || !path || !pol || name_valid (name, &err) < 0
            || policy_parse (pol, &e.policy, &err) < 0) {
            skip (skipped, file, "malformed entry in outputs.json");
            continue;
        }
        snprintf (e.name, sizeof (e.name), "%s", name);
        snprintf (e.file, sizeof (e.file), "%s", f);
        snprintf (e.path, sizeof (e.path), "%s", path);
        if (format_info (e.file, e.path, &e.info, &err) < 0) {
            skip (skipped, f, err.text);
            continue;
        }
        if (holdings_put (h, &e) == 0)
            json_array_append_new (datasets, entry_json (&e));
    }
    json_decref (a);
}
