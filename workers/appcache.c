/* appcache.c - apps unpacked for tasks (see appcache.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "appcache.h"
#include "common/bundle.h"
#include "common/clock.h"
#include "common/log.h"
#include "fetch.h"

/* An unpacked bundle may be at most this many times apps.max_bytes. */
#define UNPACK_FACTOR 10
#define INFLIGHT_MAX 64

struct appcache {
    const struct site_config *cfg;
    struct appstore *store;
    char dir[PATH_MAX];
    pthread_mutex_t lock;
    pthread_cond_t done;
    char inflight[INFLIGHT_MAX][65];    /* digests being made ready (hex) */
    atomic_uint seq;
};

static bool is_hex64 (const char *s, size_t len)
{
    if (len != 64)
        return false;
    for (size_t i = 0; i < 64; i++)
        if (!strchr ("0123456789abcdef", s[i]))
            return false;
    return true;
}

struct appcache *appcache_create (const struct site_config *cfg, struct appstore *store,
                                  fs_error_t *err)
{
    struct appcache *c = calloc (1, sizeof (*c));
    if (!c) {
        errprintf (err, FS_EFAIL, "out of memory");
        return NULL;
    }
    c->cfg = cfg;
    c->store = store;
    pthread_mutex_init (&c->lock, NULL);
    pthread_cond_init (&c->done, NULL);
    snprintf (c->dir, sizeof (c->dir), "%.3800s/apps/cache", cfg->state_dir);
    if (mkdir (c->dir, 0755) < 0 && errno != EEXIST) {
        errprintf (err, FS_EFAIL, "cannot create %s: %s", c->dir, strerror (errno));
        appcache_destroy (c);
        return NULL;
    }
    /* What an earlier worker left half done: unpacks and evictions. */
    DIR *d = opendir (c->dir);
    struct dirent *de;
    while (d && (de = readdir (d))) {
        if (strlen (de->d_name) > 64 && is_hex64 (de->d_name, 64)
            && (!strncmp (de->d_name + 64, ".tmp-", 5) || !strncmp (de->d_name + 64, ".evict-", 7))) {
            char p[PATH_MAX + 300];
            fs_error_t e;
            snprintf (p, sizeof (p), "%s/%s", c->dir, de->d_name);
            bundle_remove_tree (p, &e);
        }
    }
    if (d)
        closedir (d);
    return c;
}

void appcache_destroy (struct appcache *c)
{
    if (!c)
        return;
    pthread_mutex_destroy (&c->lock);
    pthread_cond_destroy (&c->done);
    free (c);
}

static void tree_path (const struct appcache *c, const char *hex, char *buf, size_t size)
{
    snprintf (buf, size, "%.3900s/%.64s", c->dir, hex);
}

/* --- install -------------------------------------------------------------------- */

/* The manifest of an unpacked bundle, checked against its claim. */
static struct app_manifest *manifest_of (const char *dir, const struct app_claim *claim,
                                         fs_error_t *err)
{
    char file[PATH_MAX + 16];
    snprintf (file, sizeof (file), "%s/" APP_MANIFEST, dir);
    struct app_manifest *m = manifest_load_file (file, err);
    if (!m)
        return (void)errprefix (err, "the bundle of %s@%s", claim->name, claim->version), NULL;
    if (strcmp (m->name, claim->name) || strcmp (m->version, claim->version)) {
        errprintf (err, FS_EFAIL, "the bundle signed as %s@%s holds app %s@%s", claim->name,
                   claim->version, m->name, m->version);
        free (m);
        return NULL;
    }
    if (manifest_check_dir (m, dir, err) < 0) {
        errprefix (err, "the bundle of %s@%s", claim->name, claim->version);
        free (m);
        return NULL;
    }
    return m;
}

int appcache_install (struct appcache *c, const char *file, const struct app_claim *claim,
                      struct app_manifest **mp, fs_error_t *err)
{
    char dest[PATH_MAX], tmp[PATH_MAX + 64];
    struct stat st;
    tree_path (c, app_claim_hex (claim), dest, sizeof (dest));
    if (stat (dest, &st) == 0) {
        if (mp && !(*mp = manifest_of (dest, claim, err)))
            return -1;
        return 0;
    }
    snprintf (tmp, sizeof (tmp), "%s.tmp-%d-%u", dest, (int)getpid (), atomic_fetch_add (&c->seq, 1));
    struct bundle_limits lim = { .max_bytes = UNPACK_FACTOR * appstore_max_bytes (c->store) };
    struct bundle_info info;
    if (bundle_unpack (file, tmp, &lim, &info, err) < 0)
        return errprefix (err, "the bundle of %s@%s", claim->name, claim->version);
    struct app_manifest *m = manifest_of (tmp, claim, err);
    fs_error_t e2;
    if (!m) {
        bundle_remove_tree (tmp, &e2);
        return -1;
    }
    char sz[PATH_MAX + 8], line[32];
    snprintf (sz, sizeof (sz), "%s.size", dest);
    snprintf (line, sizeof (line), "%" PRIu64 "\n", info.bytes);
    int fd = open (sz, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
        ssize_t w = write (fd, line, strlen (line));
        (void)w;
        close (fd);
    }
    if (rename (tmp, dest) < 0) {
        int e = errno;
        bundle_remove_tree (tmp, &e2);
        free (m);
        if (e == EEXIST || e == ENOTEMPTY)      /* another made it meanwhile */
            return appcache_install (c, file, claim, mp, err);
        return errprintf (err, FS_EFAIL, "cannot install %s: %s", dest, strerror (e));
    }
    log_msg (LOG_INFO, "event=app.unpacked app=%s@%s digest=%s bytes=%" PRIu64 " entries=%" PRIu64,
             claim->name, claim->version, claim->digest, info.bytes, info.entries);
    if (mp)
        *mp = m;
    else
        free (m);
    return 0;
}

/* --- ensure ---------------------------------------------------------------------- */

/* Claim hex as being made ready: 1 taken, 0 someone else has it (wait), -1
 * full.  lock held. */
static int inflight_take (struct appcache *c, const char *hex)
{
    int freei = -1;
    for (int i = 0; i < INFLIGHT_MAX; i++) {
        if (!strcmp (c->inflight[i], hex))
            return 0;
        if (freei < 0 && !c->inflight[i][0])
            freei = i;
    }
    if (freei < 0)
        return -1;
    snprintf (c->inflight[freei], sizeof (c->inflight[freei]), "%s", hex);
    return 1;
}

static void inflight_drop (struct appcache *c, const char *hex)
{
    pthread_mutex_lock (&c->lock);
    for (int i = 0; i < INFLIGHT_MAX; i++)
        if (!strcmp (c->inflight[i], hex))
            c->inflight[i][0] = '\0';
    pthread_cond_broadcast (&c->done);
    pthread_mutex_unlock (&c->lock);
}

static bool inflight_has (struct appcache *c, const char *hex)
{
    for (int i = 0; i < INFLIGHT_MAX; i++)
        if (!strcmp (c->inflight[i], hex))
            return true;
    return false;
}

/* Fetch and check the bundle of claim from one replica after another until
 * one passes; file is where it lands.  0, or -1 with the reasons. */
static int fetch_checked (struct appcache *c, const struct app_claim *claim, const json_t *reps,
                          const char *file, struct app_ready *out, fs_error_t *err)
{
    struct client_opts co = { .reader_site = c->cfg->name, .reader_region = c->cfg->region };
    char why[900] = "";
    size_t o = 0, i;
    json_t *rep;
    bool reached = false;
    json_array_foreach (reps, i, rep) {
        const char *site = json_string_value (json_object_get (rep, "site")) ?: "?";
        const char *state = json_string_value (json_object_get (rep, "state"));
        if (state && !strcmp (state, "down"))
            continue;
        json_t *one = json_pack ("[O]", rep);
        struct fetch_result res;
        fs_error_t e;
        double t0 = clock_mono ();
        int rc = fetch_bundle (&co, claim->digest, one, file, &res, &e);
        double t1 = clock_mono ();
        json_decref (one);
        if (rc == 0 && appstore_verify (c->store, file, claim, &e) == 0) {
            out->fetched = true;
            snprintf (out->from, sizeof (out->from), "%s", res.site);
            out->bytes = res.bytes;
            out->seconds = res.seconds;
            out->fetch_s = t1 - t0;
            out->verify_s = clock_mono () - t1;
            log_msg (LOG_INFO, "event=app.fetched app=%s@%s digest=%s from=%s bytes=%" PRIu64
                     " seconds=%.3f", claim->name, claim->version, claim->digest, res.site,
                     res.bytes, res.seconds);
            return 0;
        }
        reached = reached || rc == 0 || e.code != FS_EUNREACH;
        unlink (file);
        log_msg (LOG_WARN, "event=app.fetch_refused app=%s@%s from=%s reason=\"%s\"", claim->name,
                 claim->version, site, e.text);
        if (o < sizeof (why))
            o += (size_t)snprintf (why + o, sizeof (why) - o, "%s%s: %s", o ? "; " : "", site,
                                   e.text);
    }
    if (!o)
        return errprintf (err, FS_EUNREACH, "no site holding %s@%s is up", claim->name,
                          claim->version);
    return errprintf (err, reached ? FS_EFAIL : FS_EUNREACH, "cannot get %s@%s: %s", claim->name,
                      claim->version, why);
}

/* What is refused before any byte moves, and again at every use of an
 * unpacked bundle (a publisher revoked since, an app no longer allowed, a
 * claim whose signature does not hold). */
static int precheck (struct appcache *c, const struct app_claim *claim, fs_error_t *err)
{
    const char *site = c->cfg->name;
    if (!appstore_trusts (c->store, claim->publisher))
        return errprintf (err, FS_EFAIL, "site %s does not trust the publisher of %s@%s "
                          "(%.24s...): its key is not in apps.trust", site, claim->name,
                          claim->version, claim->publisher);
    if (!appstore_allows (c->store, claim->name))
        return errprintf (err, FS_EFAIL, "site %s does not allow app %s (apps.allow)", site,
                          claim->name);
    if (claim->bytes > appstore_max_bytes (c->store))
        return errprintf (err, FS_EFAIL, "the bundle of %s@%s (%" PRIu64 " bytes) is larger than "
                          "site %s's apps.max_bytes (%" PRIu64 ")", claim->name, claim->version,
                          claim->bytes, site, appstore_max_bytes (c->store));
    if (sign_verify_app (claim->publisher, claim->name, claim->version, claim->digest,
                         claim->signature, err) < 0) {
        err->code = FS_EFAIL;
        return errprefix (err, "site %s refuses to run %s@%s", site, claim->name, claim->version);
    }
    return 0;
}

/* Steps 3 and 4 of appcache.h for claim (hex taken as in flight). */
static int prepare (struct appcache *c, const struct app_claim *claim, const json_t *app,
                    struct app_ready *out, fs_error_t *err)
{
    char held[PATH_MAX], file[PATH_MAX + 16];
    double t0 = clock_mono (), t1;
    int rc;
    if (appstore_held (c->store, claim->digest, held, sizeof (held))) {
        if (appstore_verify (c->store, held, claim, err) < 0)
            return -1;
        t1 = clock_mono ();
        out->verify_s = t1 - t0;
        rc = appcache_install (c, held, claim, NULL, err);
    } else {
        appstore_incoming_path (c->store, app_claim_hex (claim), file, sizeof (file));
        snprintf (file + strlen (file), sizeof (file) - strlen (file), ".fetched");
        if (fetch_checked (c, claim, json_object_get (app, "replicas"), file, out, err) < 0)
            return -1;
        t1 = clock_mono ();
        rc = appcache_install (c, file, claim, NULL, err);
        unlink (file);
    }
    if (rc < 0)
        return -1;
    out->unpack_s = clock_mono () - t1;
    /* Where a first use goes: the operator's (and tests/bench/apps's) figures. */
    log_msg (LOG_INFO, "event=app.ready app=%s@%s digest=%s fetch_s=%.4f verify_s=%.4f "
             "unpack_s=%.4f total_s=%.4f", claim->name, claim->version, claim->digest,
             out->fetch_s, out->verify_s, out->unpack_s, clock_mono () - t0);
    return 0;
}

int appcache_ensure (struct appcache *c, const json_t *app, const char *entry,
                     struct app_ready *out, fs_error_t *err)
{
    struct app_claim claim;
    memset (out, 0, sizeof (*out));
    if (app_claim_from_json (app, "task.start", &claim, err) < 0 || precheck (c, &claim, err) < 0)
        return -1;
    const char *hex = app_claim_hex (&claim);
    char dir[PATH_MAX];
    tree_path (c, hex, dir, sizeof (dir));
    struct stat st;
    int rc = 0;
    pthread_mutex_lock (&c->lock);
    for (;;) {
        if (stat (dir, &st) == 0) {
            utimensat (AT_FDCWD, dir, NULL, 0);     /* a use: the eviction is LRU */
            break;
        }
        int r = inflight_take (c, hex);
        if (r == 0) {
            pthread_cond_wait (&c->done, &c->lock);
            continue;
        }
        pthread_mutex_unlock (&c->lock);
        if (r < 0)
            return errprintf (err, FS_EFAIL, "site %s is making too many apps ready at once; "
                              "try again", c->cfg->name);
        rc = prepare (c, &claim, app, out, err);
        inflight_drop (c, hex);
        if (rc < 0)
            return -1;
        pthread_mutex_lock (&c->lock);
        utimensat (AT_FDCWD, dir, NULL, 0);
        break;
    }
    pthread_mutex_unlock (&c->lock);
    /* The entry point, from the verified manifest (not from the message). */
    struct app_manifest *m = manifest_of (dir, &claim, err);
    if (!m)
        return -1;
    const char *rel = manifest_entry (m, entry);
    if (!rel) {
        errprintf (err, FS_EINVAL, "'%s' is not an entry point of app %s@%s", entry, claim.name,
                   claim.version);
        free (m);
        return -1;
    }
    snprintf (out->dir, sizeof (out->dir), "%s", dir);
    snprintf (out->entry, sizeof (out->entry), "%s/%s", dir, rel);
    snprintf (out->ref, sizeof (out->ref), "%s@%s %s", claim.name, claim.version, claim.digest);
    out->mpi = m->mpi;
    free (m);
    return 0;
}

/* --- publishing here ---------------------------------------------------------------- */

json_t *appcache_store (struct appcache *c, const json_t *body, fs_error_t *err)
{
    struct app_claim claim;
    if (app_claim_from_json (body, "site.app_store", &claim, err) < 0)
        return NULL;
    json_t *meta = appstore_held_meta (c->store, claim.digest);
    if (meta) {
        if (!strcmp (json_string_value (json_object_get (meta, "digest")) ?: "", claim.digest))
            return json_pack ("{s:o, s:b}", "app", meta, "new", 0);
        json_decref (meta);
    }
    char file[PATH_MAX];
    appstore_incoming_path (c->store, app_claim_hex (&claim), file, sizeof (file));
    if (access (file, F_OK) < 0) {
        errprintf (err, FS_EFAIL, "site %s has no upload of %s@%s (%s): upload it first "
                   "('fedsched app publish' does)", c->cfg->name, claim.name, claim.version,
                   claim.digest);
        return NULL;
    }
    if (appstore_verify (c->store, file, &claim, err) < 0) {
        unlink (file);              /* a new upload starts afresh */
        return NULL;
    }
    struct app_manifest *m = NULL;
    if (appcache_install (c, file, &claim, &m, err) < 0) {
        unlink (file);
        return NULL;
    }
    char pname[SIGN_NAME_MAX];
    appstore_publisher_name (c->store, claim.publisher, pname);
    meta = app_claim_to_json (&claim);
    json_object_set_new (meta, "publisher_name", json_string (pname));
    json_object_set_new (meta, "manifest", manifest_to_json (m));
    free (m);
    if (appstore_hold (c->store, file, &claim, meta, err) < 0) {
        json_decref (meta);
        return NULL;
    }
    log_msg (LOG_INFO, "event=app.stored app=%s@%s digest=%s bytes=%" PRIu64, claim.name,
             claim.version, claim.digest, claim.bytes);
    return json_pack ("{s:o, s:b}", "app", meta, "new", 1);
}

/* --- eviction --------------------------------------------------------------------- */

void appcache_list (struct appcache *c, appcache_entry_f f, void *arg)
{
    DIR *d = opendir (c->dir);
    struct dirent *de;
    while (d && (de = readdir (d))) {
        struct stat st;
        if (!is_hex64 (de->d_name, strlen (de->d_name))
            || fstatat (dirfd (d), de->d_name, &st, 0) < 0 || !S_ISDIR (st.st_mode))
            continue;
        char sz[PATH_MAX + 300], digest[SIGN_DIGEST_TEXT];
        uint64_t bytes = 0;
        snprintf (sz, sizeof (sz), "%s/%s.size", c->dir, de->d_name);
        FILE *fp = fopen (sz, "re");
        if (!fp || fscanf (fp, "%" SCNu64, &bytes) != 1) {
            snprintf (sz, sizeof (sz), "%s/%s", c->dir, de->d_name);
            bytes = bundle_tree_bytes (sz);
        }
        if (fp)
            fclose (fp);
        snprintf (digest, sizeof (digest), "sha256:%.64s", de->d_name);
        f (arg, digest, bytes, (double)st.st_mtim.tv_sec + (double)st.st_mtim.tv_nsec / 1e9);
    }
    if (d)
        closedir (d);
}

int appcache_evict (struct appcache *c, const char *digest, double guard)
{
    if (!sign_digest_valid (digest))
        return 0;
    const char *hex = digest + 7;
    char dir[PATH_MAX], gone[PATH_MAX + 64], sz[PATH_MAX + 8];
    struct stat st;
    tree_path (c, hex, dir, sizeof (dir));
    pthread_mutex_lock (&c->lock);
    bool ok = !inflight_has (c, hex) && stat (dir, &st) == 0
              && (double)st.st_mtim.tv_sec + (double)st.st_mtim.tv_nsec / 1e9 < guard;
    snprintf (gone, sizeof (gone), "%s.evict-%d-%u", dir, (int)getpid (), atomic_fetch_add (&c->seq, 1));
    ok = ok && rename (dir, gone) == 0;
    pthread_mutex_unlock (&c->lock);
    if (!ok)
        return 0;
    fs_error_t e;
    snprintf (sz, sizeof (sz), "%s.size", dir);
    unlink (sz);
    if (bundle_remove_tree (gone, &e) < 0)
        log_msg (LOG_WARN, "event=app.evict_fail digest=%s reason=\"%s\"", digest, e.text);
    return 1;
}

static void add_digest (void *arg, const char *digest, uint64_t bytes, double used)
{
    (void)bytes;
    (void)used;
    json_array_append_new (arg, json_string (digest));
}

json_t *appcache_digests (struct appcache *c)
{
    json_t *a = json_array ();
    appcache_list (c, add_digest, a);
    return a;
}
