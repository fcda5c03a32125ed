/* holdings.c - what a site holds (see holdings.h).
 *
 * A policy belongs to the data, not to a name.  Every holding carries the
 * identity of its data (the file's device and inode, and the HDF5 path), and
 * all holdings of one identity stand under one policy: the meet (common/
 * policy.h) of the policy recorded for that data (datapolicy.h) and the
 * floors of the data roots its paths are in.  A publish never loosens it: a
 * requested policy must be at least as strict as the standing one, else the
 * dataset is refused; a stricter one tightens every name of the data at once.
 * Only holdings_set_policy() with loosen set goes the other way, and never
 * below a floor.  Every publish, refusal and change is one audit line.
 */
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
#include "datapolicy.h"
#include "holdings.h"

#define WALK_MAX_DEPTH 64

struct holdings {
    const struct site_config *cfg;
    struct datapolicy *records;     /* the policy each piece of data was published with */
    pthread_rwlock_t lock;          /* items */
    pthread_mutex_t change;         /* held by whatever changes the items: one scan, publish,
                                     * policy change or new output at a time */
    size_t n, cap;
    struct holding *items;          /* sorted by name */
};

struct holdings *holdings_create (const struct site_config *cfg, fs_error_t *err)
{
    struct holdings *h = calloc (1, sizeof (*h));
    if (!h) {
        errprintf (err, FS_EFAIL, "out of memory");
        return NULL;
    }
    h->cfg = cfg;
    if (!(h->records = datapolicy_open (cfg->state_dir, err))) {
        free (h);
        return NULL;
    }
    pthread_rwlock_init (&h->lock, NULL);
    pthread_mutex_init (&h->change, NULL);
    return h;
}

void holdings_destroy (struct holdings *h)
{
    if (!h)
        return;
    datapolicy_destroy (h->records);
    pthread_rwlock_destroy (&h->lock);
    pthread_mutex_destroy (&h->change);
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

/* Insert or replace by name; the write lock held. */
static int put_locked (struct holdings *h, const struct holding *e)
{
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
            if (!it)
                return -1;
            h->items = it;
            h->cap = cap;
        }
        memmove (&h->items[lo + 1], &h->items[lo], (h->n - lo) * sizeof (*e));
        h->items[lo] = *e;
        h->n++;
    }
    return 0;
}

static int holdings_put (struct holdings *h, const struct holding *e)
{
    pthread_rwlock_wrlock (&h->lock);
    int rc = put_locked (h, e);
    pthread_rwlock_unlock (&h->lock);
    return rc;
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

/* ---- identity, floors, audit ------------------------------------------------ */

static struct data_ident ident (const struct holding *e)
{
    return (struct data_ident){ e->dev, e->ino, e->path };
}

static int ident_cmp (const struct holding *a, const struct holding *b)
{
    if (a->dev != b->dev)
        return a->dev < b->dev ? -1 : 1;
    if (a->ino != b->ino)
        return a->ino < b->ino ? -1 : 1;
    return strcmp (a->path, b->path);
}

static int index_cmp (const void *x, const void *y, void *arg)
{
    const struct holding *it = arg;
    return ident_cmp (&it[*(const size_t *)x], &it[*(const size_t *)y]);
}

/* The items' indices sorted by identity (the read or write lock held); caller
 * frees.  NULL when out of memory. */
static size_t *ident_index (struct holdings *h)
{
    size_t *idx = malloc ((h->n ? h->n : 1) * sizeof (*idx));
    if (!idx)
        return NULL;
    for (size_t i = 0; i < h->n; i++)
        idx[i] = i;
    qsort_r (idx, h->n, sizeof (*idx), index_cmp, h->items);
    return idx;
}

/* The range [*lo, *hi) of idx whose items have e's identity. */
static void ident_range (const struct holdings *h, const size_t *idx, const struct holding *e,
                         size_t *lo, size_t *hi)
{
    size_t a = 0, b = h->n;
    while (a < b) {
        size_t mid = (a + b) / 2;
        if (ident_cmp (&h->items[idx[mid]], e) < 0)
            a = mid + 1;
        else
            b = mid;
    }
    *lo = a;
    while (a < h->n && ident_cmp (&h->items[idx[a]], e) == 0)
        a++;
    *hi = a;
}

/* The floor of a file: the meet of the policies of the data roots its path
 * and its real path are in (raw outside every root: a task's output). */
static void path_floor (const struct site_config *cfg, const char *path, fs_policy_t *out)
{
    char real[PATH_MAX];
    bool have_real = realpath (path, real) != NULL;
    *out = *policy_moves (NULL, false);
    for (int i = 0; i < cfg->nroots; i++)
        if (path_inside (cfg->roots[i].path, path)
            || (have_real && path_inside (cfg->roots[i].path, real)))
            policy_meet (out, &cfg->roots[i].policy, out);
}

void holdings_audit (const char *op, const char *by, const char *file, const char *dset,
                     const char *name, const char *before, const char *after, const char *result,
                     const char *reason)
{
#define OR_DASH(s) ((s) && *(s) ? (s) : "-")
    log_msg (LOG_INFO, "event=audit op=%s by=%s file=\"%s\" dataset=%s name=%s before=%s after=%s "
             "result=%s%s%s%s", op, OR_DASH (by), OR_DASH (file), OR_DASH (dset), OR_DASH (name),
             OR_DASH (before), OR_DASH (after), result, reason ? " reason=\"" : "",
             reason ? reason : "", reason ? "\"" : "");
#undef OR_DASH
}

static void audit (const char *op, const char *by, const struct holding *e,
                   const fs_policy_t *before, const fs_policy_t *after, const char *result,
                   const char *reason)
{
    char b[1024] = "", a[1024] = "";
    if (before)
        policy_format (before, b, sizeof (b));
    if (after)
        policy_format (after, a, sizeof (a));
    holdings_audit (op, by, e->file, e->path, e->name, b, a, result, reason);
}

/* ---- finding datasets ---------------------------------------------------------- */

/* What a publish found, decided on as a whole (publish_apply). */
struct cand {
    struct holding e;
    fs_policy_t floor;
};

struct batch {
    size_t n, cap;
    struct cand *c;
};

struct file_ctx {
    struct holdings *h;
    const struct data_root *root;
    const char *file;           /* absolute */
    const char *rel;            /* relative to the root */
    const char *name;           /* --name, or NULL */
    int ndatasets;              /* datasets in the file (for --name) */
    struct stat st;             /* of the file (its identity) */
    fs_policy_t floor;
    struct batch *batch;        /* a publish: collect here; NULL: a scan, add at once */
    const fs_policy_t *want;    /* a scan: the policy a recorded publication asked for */
    json_t *skipped;
};

static int count_visit (void *arg, const char *h5path, const fs_dsinfo_t *info, const char *why)
{
    (void)h5path;
    (void)why;
    if (info)
        ((struct file_ctx *)arg)->ndatasets++;
    return 0;
}

/* The policy a scan gives a dataset: its record (or, for a publication made
 * before records were kept, what that asked for, recorded now) within the
 * floor; holdings_scan() then settles each identity's holdings on one. */
static void scan_policy (struct file_ctx *c, const struct holding *e, fs_policy_t *out)
{
    struct data_ident id = ident (e);
    fs_policy_t rec;
    fs_error_t err;
    if (datapolicy_get (c->h->records, &id, &rec) == 1)
        policy_meet (&c->floor, &rec, out);
    else if (c->want) {
        policy_meet (&c->floor, c->want, out);
        if (datapolicy_set (c->h->records, &id, e->file, out, NULL, &err) < 0)
            log_msg (LOG_WARN, "event=policy.record_fail reason=\"%s\"", err.text);
    }
    else
        *out = c->floor;
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
    snprintf (e.file, sizeof (e.file), "%s", c->file);
    snprintf (e.path, sizeof (e.path), "%s", h5path);
    e.info = *info;
    e.dev = (uint64_t)c->st.st_dev;
    e.ino = (uint64_t)c->st.st_ino;
    if (c->batch) {
        struct batch *b = c->batch;
        if (b->n == b->cap) {
            size_t cap = b->cap ? 2 * b->cap : 16;
            struct cand *nc = realloc (b->c, cap * sizeof (*nc));
            if (!nc) {
                skip (c->skipped, where, "out of memory");
                return 1;
            }
            b->c = nc;
            b->cap = cap;
        }
        b->c[b->n].e = e;
        b->c[b->n++].floor = c->floor;
        return 0;
    }
    scan_policy (c, &e, &e.policy);
    if (policy_check_rank (&e.policy, info->ndims, &err) < 0) {
        skip (c->skipped, where, err.text);
        return 0;
    }
    pthread_rwlock_wrlock (&c->h->lock);
    rc = put_locked (c->h, &e);
    pthread_rwlock_unlock (&c->h->lock);
    if (rc < 0) {
        skip (c->skipped, where, "out of memory");
        return 1;
    }
    return 0;
}

static void publish_file (struct file_ctx *proto, const struct data_root *root, const char *file,
                          const char *name)
{
    const char *rel = file + strlen (root->path);
    while (*rel == '/')
        rel++;
    struct file_ctx c = *proto;
    c.root = root;
    c.file = file;
    c.rel = rel;
    c.name = name;
    c.ndatasets = 0;
    fs_error_t err;
    if (stat (file, &c.st) < 0) {
        skip (c.skipped, rel, strerror (errno));
        return;
    }
    path_floor (c.h->cfg, file, &c.floor);
    if ((name && format_scan (file, count_visit, &c, &err) < 0)
        || format_scan (file, file_visit, &c, &err) < 0)
        skip (c.skipped, rel, err.text);
}

static void walk (struct file_ctx *proto, const struct data_root *root, const char *dir, int depth)
{
    if (depth > WALK_MAX_DEPTH) {
        skip (proto->skipped, dir, "directory tree too deep");
        return;
    }
    struct dirent **ents;
    int n = scandir (dir, &ents, NULL, alphasort);
    if (n < 0) {
        skip (proto->skipped, dir, strerror (errno));
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
            walk (proto, root, path, depth + 1);
        } else if (name_is_hdf5_file (nm) && (S_ISREG (st.st_mode) || S_ISLNK (st.st_mode))) {
            /* Symlinked files are served only when they stay inside the root;
             * symlinked directories are never followed. */
            if (!realpath (path, real) || !path_inside (root->path, real)) {
                skip (proto->skipped, path + strlen (root->path) + 1,
                      "symbolic link leads outside the data root");
                goto next;
            }
            if (stat (real, &st) < 0 || !S_ISREG (st.st_mode))
                goto next;
            publish_file (proto, root, path, NULL);
        }
    next:
        free (ents[i]);
    }
    free (ents);
}

/* published.json and outputs.json are rewritten whole (read, append, write a
 * temporary file, rename): one writer at a time, whichever I/O thread it is. */
static pthread_mutex_t record_lock = PTHREAD_MUTEX_INITIALIZER;

/* Publications made on request, kept so a restarted worker serves their names
 * again (their policies stand in the data's records). */
static void record_publication (struct holdings *h, const char *real, const char *name)
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

/* ---- publishing -------------------------------------------------------------- */

/* file relative to the data root it is in (file itself when in none). */
static const char *rel_of (const struct site_config *cfg, const char *file)
{
    for (int i = 0; i < cfg->nroots; i++)
        if (path_inside (cfg->roots[i].path, file)) {
            const char *rel = file + strlen (cfg->roots[i].path);
            while (*rel == '/')
                rel++;
            return rel;
        }
    return file;
}

static int cand_cmp (const void *x, const void *y)
{
    return ident_cmp (&((const struct cand *)x)->e, &((const struct cand *)y)->e);
}

/* Decide on everything a publish found, as a whole: for each piece of data,
 * the standing policy is the meet of its record, the floors of every path it
 * was found at now, and the policies of the holdings it already has; a
 * requested policy looser than that is refused (with the standing policy in
 * the reason), else the data stands under the request (or, without one, the
 * standing policy) from now on, under every name.  The records are made
 * durable before anything is served.  Entries to register go to datasets
 * (the new names, and old names of the same data whose policy tightened).
 * Returns how many datasets were published, or -1 (records not written). */
static int publish_apply (struct holdings *h, struct batch *b, const fs_policy_t *want,
                          const char *by, json_t *datasets, json_t *skipped, fs_error_t *err)
{
    if (b->n)
        qsort (b->c, b->n, sizeof (*b->c), cand_cmp);
    /* h->change is held: nothing else changes the items meanwhile, so the
     * index stays valid from the decision (read lock: the data plane keeps
     * serving) to the update (write lock), and the records are written between. */
    pthread_rwlock_rdlock (&h->lock);
    size_t *idx = ident_index (h);
    fs_policy_t *newp = malloc ((b->n ? b->n : 1) * sizeof (*newp));
    bool *ok = calloc (b->n ? b->n : 1, sizeof (bool));
    int published = 0;
    if (!idx || !newp || !ok) {
        pthread_rwlock_unlock (&h->lock);
        free (idx);
        free (newp);
        free (ok);
        return errprintf (err, FS_EFAIL, "out of memory");
    }
    /* 1. decide, group by group (one group: one piece of data) */
    for (size_t a = 0, z; a < b->n; a = z) {
        const struct holding *e = &b->c[a].e;
        struct data_ident id = ident (e);
        fs_policy_t standing = *policy_moves (NULL, false), rec;
        for (z = a; z < b->n && ident_cmp (&b->c[z].e, e) == 0; z++)
            policy_meet (&standing, &b->c[z].floor, &standing);
        if (datapolicy_get (h->records, &id, &rec) == 1)
            policy_meet (&standing, &rec, &standing);
        size_t lo, hi;
        ident_range (h, idx, e, &lo, &hi);
        for (size_t k = lo; k < hi; k++)
            policy_meet (&standing, &h->items[idx[k]].policy, &standing);
        fs_policy_t np = want ? *want : standing;
        char reason[8800] = "", sp[1024], wp[1024];
        fs_error_t rerr;
        if (policy_check_rank (&np, e->info.ndims, &rerr) < 0)
            snprintf (reason, sizeof (reason), "%s", rerr.text);
        else if (want && !policy_at_least_as_strict (want, &standing))
            snprintf (reason, sizeof (reason), "refused: this data (%s, dataset %s) stands under "
                      "policy '%s', and a publish never loosens a policy ('%s' is looser); "
                      "publish it as '%s' or stricter, or have a site operator loosen it with "
                      "'fedsched policy SITE NAME POLICY --loosen'", e->file, e->path,
                      policy_format (&standing, sp, sizeof (sp)),
                      policy_format (want, wp, sizeof (wp)), sp);
        for (size_t k = a; k < z; k++) {
            newp[k] = np;
            ok[k] = !reason[0];
            if (reason[0]) {
                char where[PATH_MAX + 1100];
                snprintf (where, sizeof (where), "%s:%s", rel_of (h->cfg, b->c[k].e.file),
                          b->c[k].e.path);
                skip (skipped, where, reason);
                audit ("publish", by, &b->c[k].e, &standing, want, "refused", reason);
            }
            else
                audit ("publish", by, &b->c[k].e, &standing, &np, "ok", NULL);
        }
        if (!reason[0] && datapolicy_set (h->records, &id, e->file, &np, by, err) < 0)
            goto fail;
    }
    pthread_rwlock_unlock (&h->lock);
    /* 2. durable before served */
    if (datapolicy_sync (h->records, err) < 0)
        goto fail_unlocked;
    /* 3. older names of the same data follow it, then the new names */
    pthread_rwlock_wrlock (&h->lock);
    for (size_t a = 0; a < b->n; a++) {
        if (!ok[a] || (a > 0 && ident_cmp (&b->c[a - 1].e, &b->c[a].e) == 0))
            continue;
        size_t lo, hi;
        ident_range (h, idx, &b->c[a].e, &lo, &hi);
        for (size_t k = lo; k < hi; k++) {
            struct holding *o = &h->items[idx[k]];
            if (policy_equal (&o->policy, &newp[a]))
                continue;
            audit ("publish.follow", by, o, &o->policy, &newp[a], "ok", NULL);
            o->policy = newp[a];
            json_array_append_new (datasets, entry_json (o));
        }
    }
    for (size_t a = 0; a < b->n; a++) {
        if (!ok[a])
            continue;
        b->c[a].e.policy = newp[a];
        if (put_locked (h, &b->c[a].e) < 0) {
            skip (skipped, b->c[a].e.name, "out of memory");
            continue;
        }
        json_array_append_new (datasets, entry_json (&b->c[a].e));
        published++;
    }
    pthread_rwlock_unlock (&h->lock);
    free (idx);
    free (newp);
    free (ok);
    return published;
fail:
    pthread_rwlock_unlock (&h->lock);
fail_unlocked:
    free (idx);
    free (newp);
    free (ok);
    return -1;
}

int holdings_publish (struct holdings *h, const char *path, const char *name, const char *policy,
                      const char *by, json_t *datasets, json_t *skipped, fs_error_t *err)
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
    struct stat st;
    if (stat (real, &st) < 0)
        return errprintf (err, FS_EFAIL, "%s: %s", path, strerror (errno));
    if (S_ISDIR (st.st_mode) && name)
        return errprintf (err, FS_EINVAL, "--name needs a single file, and '%s' is a directory", path);
    if (!S_ISDIR (st.st_mode) && !S_ISREG (st.st_mode))
        return errprintf (err, FS_EINVAL, "'%s' is neither a file nor a directory", path);
    if (S_ISREG (st.st_mode) && !name_is_hdf5_file (real))
        return errprintf (err, FS_EINVAL, "'%s' is not an HDF5 file name (.h5 .hdf5 .he5 .nc)", path);
    struct batch b = { 0 };
    size_t before = json_array_size (skipped);
    struct file_ctx c = { .h = h, .batch = &b, .skipped = skipped };
    pthread_mutex_lock (&h->change);
    if (S_ISDIR (st.st_mode))
        walk (&c, root, real, 0);
    else
        publish_file (&c, root, real, name);
    size_t refusals = json_array_size (skipped);   /* publish_apply's come after */
    int n = publish_apply (h, &b, policy ? &pol : NULL, by, datasets, skipped, err);
    pthread_mutex_unlock (&h->change);
    free (b.c);
    if (n < 0)
        return -1;
    if (n == 0 && json_array_size (skipped) > before && S_ISREG (st.st_mode))
        return errprintf (err, FS_EFAIL, "nothing published from '%s': %s", path,
                          json_string_value (json_object_get (
                              json_array_get (skipped, json_array_size (skipped) > refusals
                                                       ? refusals : before), "reason")));
    if (n > 0)
        record_publication (h, real, name);
    return 0;
}

/* ---- changing a policy ----------------------------------------------------------- */

int holdings_set_policy (struct holdings *h, const char *name, const char *policy, bool loosen,
                         const char *by, json_t *datasets, char *before, size_t beforesz,
                         fs_error_t *err)
{
    fs_policy_t np, old, floor, prev;
    bool had;
    if (policy_parse (policy, &np, err) < 0)
        return -1;
    pthread_mutex_lock (&h->change);
    /* as in publish_apply: decide under the read lock, write the record, then
     * update under the write lock (h->change keeps the items as they are) */
    pthread_rwlock_rdlock (&h->lock);
    struct holding *hd = NULL;
    for (size_t i = 0; i < h->n && !hd; i++)
        if (!strcmp (h->items[i].name, name))
            hd = &h->items[i];
    int rc = -1;
    char op[1024], fp[1024], pp[1024];
    if (!hd) {
        errprintf (err, FS_EFAIL, "site %s holds no dataset '%s'", h->cfg->name, name);
        goto out;
    }
    struct holding key = *hd;
    struct data_ident id = ident (&key);
    old = hd->policy;
    policy_format (&old, before, beforesz);
    if (policy_check_rank (&np, hd->info.ndims, err) < 0)
        goto out;
    /* the floor: of every data root the data is found in */
    floor = *policy_moves (NULL, false);
    for (size_t i = 0; i < h->n; i++)
        if (ident_cmp (&h->items[i], &key) == 0) {
            fs_policy_t f;
            path_floor (h->cfg, h->items[i].file, &f);
            policy_meet (&floor, &f, &floor);
        }
    policy_format (&old, op, sizeof (op));
    policy_format (&np, pp, sizeof (pp));
    if (!policy_at_least_as_strict (&np, &old) && !loosen) {
        errprintf (err, FS_EFAIL, "refused: '%s' is looser than the policy in force, '%s', for "
                   "%s (%s, dataset %s); loosening is a deliberate operator action: add "
                   "--loosen", pp, op, name, key.file, key.path);
        audit ("policy", by, &key, &old, &np, "refused", err->text);
        goto out;
    }
    if (!policy_at_least_as_strict (&np, &floor)) {
        errprintf (err, FS_EFAIL, "refused: '%s' is looser than '%s', the floor the data roots "
                   "holding '%s' set in site %s's site.yaml; change it there to go lower", pp,
                   policy_format (&floor, fp, sizeof (fp)), name, h->cfg->name);
        audit ("policy", by, &key, &old, &np, "refused", err->text);
        goto out;
    }
    pthread_rwlock_unlock (&h->lock);
    had = datapolicy_get (h->records, &id, &prev) == 1;
    if (datapolicy_set (h->records, &id, key.file, &np, by, err) < 0
        || datapolicy_sync (h->records, err) < 0) {
        fs_error_t e2;      /* memory must not stand looser than the disk */
        if (had)
            datapolicy_set (h->records, &id, key.file, &prev, NULL, &e2);
        else
            datapolicy_set (h->records, &id, key.file, &old, NULL, &e2);
        pthread_mutex_unlock (&h->change);
        return -1;
    }
    pthread_rwlock_wrlock (&h->lock);
    bool loosened = !policy_at_least_as_strict (&np, &old);
    for (size_t i = 0; i < h->n; i++)
        if (ident_cmp (&h->items[i], &key) == 0) {
            audit (loosened ? "policy.loosen" : "policy", by, &h->items[i], &h->items[i].policy,
                   &np, "ok", NULL);
            h->items[i].policy = np;
            json_array_append_new (datasets, entry_json (&h->items[i]));
        }
    rc = 0;
out:
    pthread_rwlock_unlock (&h->lock);
    pthread_mutex_unlock (&h->change);
    return rc;
}

/* ---- the start-up scan ---------------------------------------------------------- */

static void outputs_replay (struct holdings *h, json_t *skipped);

/* Every identity's holdings on one policy: the meet of theirs. */
static void settle (struct holdings *h)
{
    pthread_rwlock_wrlock (&h->lock);
    size_t *idx = ident_index (h);
    for (size_t a = 0, z; idx && a < h->n; a = z) {
        const struct holding *e = &h->items[idx[a]];
        fs_policy_t m = e->policy;
        for (z = a + 1; z < h->n && ident_cmp (&h->items[idx[z]], e) == 0; z++)
            policy_meet (&m, &h->items[idx[z]].policy, &m);
        for (size_t k = a; k < z; k++)
            h->items[idx[k]].policy = m;
    }
    pthread_rwlock_unlock (&h->lock);
    free (idx);
}

int holdings_scan (struct holdings *h, json_t *datasets, json_t *skipped, fs_error_t *err)
{
    pthread_mutex_lock (&h->change);
    struct file_ctx c = { .h = h, .skipped = skipped };
    for (int i = 0; i < h->cfg->nroots; i++)
        walk (&c, &h->cfg->roots[i], h->cfg->roots[i].path, 0);
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
        /* a policy here is from before the data's records: taken when it has none */
        c.want = policy ? &pol : NULL;
        struct stat st;
        if (stat (real, &st) == 0 && S_ISREG (st.st_mode))
            publish_file (&c, root, real, name);
        else if (stat (real, &st) == 0 && S_ISDIR (st.st_mode))
            walk (&c, root, real, 0);
        c.want = NULL;
    }
    json_decref (a);
    outputs_replay (h, skipped);
    settle (h);
    fs_error_t serr;
    if (datapolicy_sync (h->records, &serr) < 0)
        log_msg (LOG_WARN, "event=policy.record_fail reason=\"%s\"", serr.text);
    pthread_mutex_unlock (&h->change);
    json_t *all = holdings_entries (h);
    json_array_extend (datasets, all);
    json_decref (all);
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
    struct holding o = *e;
    struct stat st;
    if (stat (o.file, &st) == 0) {
        o.dev = (uint64_t)st.st_dev;
        o.ino = (uint64_t)st.st_ino;
    }
    pthread_mutex_lock (&h->change);       /* every change of the items holds it */
    int rc = holdings_put (h, &o);
    pthread_mutex_unlock (&h->change);
    if (rc < 0)
        return -1;
    audit ("output", NULL, &o, NULL, &o.policy, "ok", NULL);
    if (entries)
        json_array_append_new (entries, entry_json (&o));
    char file[PATH_MAX + 32], tmp[PATH_MAX + 40], pol[1024];
    outputs_file (h, file, sizeof (file));
    snprintf (tmp, sizeof (tmp), "%s.tmp", file);
    pthread_mutex_lock (&record_lock);
    json_t *a = json_load_file (file, 0, NULL);
    if (!json_is_array (a)) {
        json_decref (a);
        a = json_array ();
    }
    json_array_append_new (a, json_pack ("{s:s, s:s, s:s, s:s}", "name", o.name, "file", o.file,
                                         "path", o.path, "policy",
                                         policy_format (&o.policy, pol, sizeof (pol))));
    if (json_dump_file (a, tmp, JSON_COMPACT) < 0 || rename (tmp, file) < 0)
        log_msg (LOG_WARN, "event=outputs.record_fail file=\"%s\" errno=%d", file, errno);
    pthread_mutex_unlock (&record_lock);
    json_decref (a);
    return 0;
}

/* The outputs recorded by earlier runs, served again (under the policy an
 * operator gave the data since, if any). */
static void outputs_replay (struct holdings *h, json_t *skipped)
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
        struct stat st;
        if (format_info (e.file, e.path, &e.info, &err) < 0) {
            skip (skipped, f, err.text);
            continue;
        }
        if (stat (e.file, &st) < 0) {
            skip (skipped, f, strerror (errno));
            continue;
        }
        e.dev = (uint64_t)st.st_dev;
        e.ino = (uint64_t)st.st_ino;
        struct data_ident id = ident (&e);
        datapolicy_get (h->records, &id, &e.policy);
        holdings_put (h, &e);
    }
    json_decref (a);
}
