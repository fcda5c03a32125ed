/* datapolicy.c - the policy each piece of data stands under (see datapolicy.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "datapolicy.h"

#define DATAPOLICY_FILE "policies.json"

struct record {
    uint64_t dev, ino;
    char *dset;
    char *file;
    char *by;
    char policy[1024];          /* string form */
    double time;
};

struct datapolicy {
    pthread_mutex_t lock;
    char path[PATH_MAX];
    size_t n, cap;
    struct record *r;           /* sorted by (dev, ino, dset) */
    bool dirty;
};

static int rec_cmp (uint64_t dev, uint64_t ino, const char *dset, const struct record *r)
{
    if (dev != r->dev)
        return dev < r->dev ? -1 : 1;
    if (ino != r->ino)
        return ino < r->ino ? -1 : 1;
    return strcmp (dset, r->dset);
}

/* Index of id, or where it would go (*found false). */
static size_t find (const struct datapolicy *d, const struct data_ident *id, bool *found)
{
    size_t lo = 0, hi = d->n;
    *found = false;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = rec_cmp (id->dev, id->ino, id->dset, &d->r[mid]);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static void rec_free (struct record *r)
{
    free (r->dset);
    free (r->file);
    free (r->by);
}

void datapolicy_destroy (struct datapolicy *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++)
        rec_free (&d->r[i]);
    free (d->r);
    pthread_mutex_destroy (&d->lock);
    free (d);
}

/* Insert or replace; takes the strings.  -1 when out of memory. */
static int put (struct datapolicy *d, struct record *nr)
{
    bool found;
    struct data_ident id = { nr->dev, nr->ino, nr->dset };
    size_t i = find (d, &id, &found);
    if (found) {
        rec_free (&d->r[i]);
        d->r[i] = *nr;
        return 0;
    }
    if (d->n == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 64;
        struct record *r = realloc (d->r, cap * sizeof (*r));
        if (!r)
            return -1;
        d->r = r;
        d->cap = cap;
    }
    memmove (&d->r[i + 1], &d->r[i], (d->n - i) * sizeof (*d->r));
    d->r[i] = *nr;
    d->n++;
    return 0;
}

struct datapolicy *datapolicy_open (const char *state_dir, fs_error_t *err)
{
    struct datapolicy *d = calloc (1, sizeof (*d));
    if (!d) {
        errprintf (err, FS_EFAIL, "out of memory");
        return NULL;
    }
    pthread_mutex_init (&d->lock, NULL);
    snprintf (d->path, sizeof (d->path), "%s/%s", state_dir, DATAPOLICY_FILE);
    if (access (d->path, F_OK) < 0 && errno == ENOENT)
        return d;
    json_error_t jerr;
    json_t *doc = json_load_file (d->path, JSON_REJECT_DUPLICATES, &jerr);
    json_t *list = json_object_get (doc, "data");
    if (!doc || !json_is_array (list)) {
        errprintf (err, FS_EFAIL, "%s: %s (the policies this site's data was published with; "
                   "restore it from a backup: without it every policy would fall back to its "
                   "data root's)", d->path, doc ? "no 'data' list" : jerr.text);
        json_decref (doc);
        datapolicy_destroy (d);
        return NULL;
    }
    size_t i;
    json_t *e;
    json_array_foreach (list, i, e) {
        json_int_t dev = json_integer_value (json_object_get (e, "dev"));
        json_int_t ino = json_integer_value (json_object_get (e, "ino"));
        const char *dset = json_string_value (json_object_get (e, "dataset"));
        const char *file = json_string_value (json_object_get (e, "file"));
        const char *pol = json_string_value (json_object_get (e, "policy"));
        const char *by = json_string_value (json_object_get (e, "by"));
        fs_policy_t p;
        fs_error_t perr;
        if (!json_is_integer (json_object_get (e, "dev")) || !json_is_integer (json_object_get (e, "ino"))
            || dev < 0 || ino < 0 || !dset || !pol || policy_parse (pol, &p, &perr) < 0) {
            errprintf (err, FS_EFAIL, "%s: entry %zu is malformed (restore the file from a "
                       "backup)", d->path, i);
            json_decref (doc);
            datapolicy_destroy (d);
            return NULL;
        }
        struct record r = { (uint64_t)dev, (uint64_t)ino, strdup (dset), strdup (file ? file : ""),
                            strdup (by ? by : ""), "",
                            json_real_value (json_object_get (e, "time")) };
        policy_format (&p, r.policy, sizeof (r.policy));
        if (!r.dset || !r.file || !r.by || put (d, &r) < 0) {
            rec_free (&r);
            errprintf (err, FS_EFAIL, "out of memory");
            json_decref (doc);
            datapolicy_destroy (d);
            return NULL;
        }
    }
    json_decref (doc);
    return d;
}

int datapolicy_get (struct datapolicy *d, const struct data_ident *id, fs_policy_t *out)
{
    bool found;
    int rc = 0;
    pthread_mutex_lock (&d->lock);
    size_t i = find (d, id, &found);
    if (found && policy_parse (d->r[i].policy, out, NULL) == 0)
        rc = 1;
    pthread_mutex_unlock (&d->lock);
    return rc;
}

int datapolicy_set (struct datapolicy *d, const struct data_ident *id, const char *file,
                    const fs_policy_t *p, const char *by, fs_error_t *err)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    struct record r = { id->dev, id->ino, strdup (id->dset), strdup (file ? file : ""),
                        strdup (by ? by : ""), "", (double)ts.tv_sec + ts.tv_nsec / 1e9 };
    policy_format (p, r.policy, sizeof (r.policy));
    pthread_mutex_lock (&d->lock);
    int rc = r.dset && r.file && r.by ? put (d, &r) : -1;
    if (rc == 0)
        d->dirty = true;
    pthread_mutex_unlock (&d->lock);
    if (rc < 0) {
        rec_free (&r);
        return errprintf (err, FS_EFAIL, "out of memory");
    }
    return 0;
}

/* fsync a file or directory by path; 0 or -1 with errno. */
static int sync_path (const char *path, int flags)
{
    int fd = open (path, flags | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync (fd);
    close (fd);
    return rc;
}

int datapolicy_sync (struct datapolicy *d, fs_error_t *err)
{
    int rc = 0;
    pthread_mutex_lock (&d->lock);
    if (!d->dirty)
        goto out;
    json_t *list = json_array ();
    for (size_t i = 0; i < d->n; i++) {
        const struct record *r = &d->r[i];
        json_array_append_new (list, json_pack ("{s:I, s:I, s:s, s:s, s:s, s:s, s:f}", "dev",
                                                (json_int_t)r->dev, "ino", (json_int_t)r->ino,
                                                "dataset", r->dset, "file", r->file, "policy",
                                                r->policy, "by", r->by, "time", r->time));
    }
    json_t *doc = json_pack ("{s:i, s:o}", "version", 1, "data", list);
    char tmp[PATH_MAX + 8], dir[PATH_MAX];
    snprintf (tmp, sizeof (tmp), "%s.tmp", d->path);
    snprintf (dir, sizeof (dir), "%s", d->path);
    char *slash = strrchr (dir, '/');
    if (slash)
        *slash = '\0';
    if (!doc || json_dump_file (doc, tmp, JSON_INDENT (1)) < 0 || sync_path (tmp, O_RDONLY) < 0
        || rename (tmp, d->path) < 0 || sync_path (slash ? dir : ".", O_RDONLY | O_DIRECTORY) < 0)
        rc = errprintf (err, FS_EFAIL, "cannot write %s: %s", d->path, strerror (errno));
    else
        d->dirty = false;
    json_decref (doc);
out:
    pthread_mutex_unlock (&d->lock);
    return rc;
}
