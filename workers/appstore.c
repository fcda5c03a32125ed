/* appstore.c - a site's apps: policy, checks, held bundles, uploads, probe
 * (see appstore.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "appstore.h"
#include "common/checksum.h"
#include "common/log.h"
#include "common/names.h"

/* Uploads nobody finished are removed when the worker starts after this long. */
#define STALE_UPLOAD_S (24 * 3600)

struct appstore {
    const struct site_config *cfg;
    pthread_mutex_t lock;       /* over trust */
    struct sign_trust *trust;
    struct timespec trust_mtime, trust_ctime;   /* of the directory when loaded */
    const struct sandbox *sandbox;
    char store[PATH_MAX];
    char incoming[PATH_MAX];
};

/* --- the store ------------------------------------------------------------------ */

static void remove_stale (const char *dir)
{
    DIR *d = opendir (dir);
    struct dirent *de;
    time_t now = time (NULL);
    while (d && (de = readdir (d))) {
        struct stat st;
        if (de->d_name[0] != '.' && fstatat (dirfd (d), de->d_name, &st, 0) == 0
            && S_ISREG (st.st_mode) && now - st.st_mtime > STALE_UPLOAD_S
            && unlinkat (dirfd (d), de->d_name, 0) == 0)
            log_msg (LOG_INFO, "event=app.upload_stale file=%s", de->d_name);
    }
    if (d)
        closedir (d);
}

struct appstore *appstore_create (const struct site_config *cfg, fs_error_t *err)
{
    struct appstore *s = calloc (1, sizeof (*s));
    char apps[PATH_MAX];
    if (!s) {
        errprintf (err, FS_EFAIL, "out of memory");
        return NULL;
    }
    s->cfg = cfg;
    pthread_mutex_init (&s->lock, NULL);
    if (sign_init (err) < 0)
        goto fail;
    struct stat tst;
    if (cfg->apps.trust[0] && stat (cfg->apps.trust, &tst) == 0) {
        s->trust_mtime = tst.st_mtim;
        s->trust_ctime = tst.st_ctim;
    }
    s->trust = cfg->apps.trust[0] ? sign_trust_load (cfg->apps.trust, err) : sign_trust_empty ();
    if (!s->trust) {
        errprefix (err, "%s", cfg->path);
        goto fail;
    }
    if (cfg->apps.sandbox[0]) {
        if (!(s->sandbox = sandbox_find (cfg->apps.sandbox, err)) || s->sandbox->probe (err) < 0) {
            errprefix (err, "%s: apps.sandbox", cfg->path);
            goto fail;
        }
    } else {
        s->sandbox = sandbox_default ();
    }
    snprintf (apps, sizeof (apps), "%.3900s/apps", cfg->state_dir);
    snprintf (s->store, sizeof (s->store), "%.3900s/store", apps);
    snprintf (s->incoming, sizeof (s->incoming), "%.3900s/incoming", apps);
    if ((mkdir (apps, 0755) < 0 && errno != EEXIST) || (mkdir (s->store, 0755) < 0 && errno != EEXIST)
        || (mkdir (s->incoming, 0700) < 0 && errno != EEXIST)) {
        errprintf (err, FS_EFAIL, "cannot create %s: %s", apps, strerror (errno));
        goto fail;
    }
    remove_stale (s->incoming);
    log_msg (LOG_INFO, "event=apps.config trust=%s publishers=%zu skipped=%zu allow=%d sandbox=%s "
             "max_bytes=%" PRIu64, cfg->apps.trust[0] ? cfg->apps.trust : "none",
             sign_trust_count (s->trust), sign_trust_skipped (s->trust), cfg->apps.nallow,
             s->sandbox->name, cfg->apps.max_bytes);
    return s;
fail:
    appstore_destroy (s);
    return NULL;
}

void appstore_destroy (struct appstore *s)
{
    if (!s)
        return;
    sign_trust_destroy (s->trust);
    pthread_mutex_destroy (&s->lock);
    free (s);
}

/* The trust directory again when it changed (a .pub added, removed or
 * renamed): revoking a publisher takes effect at the next task, without a
 * restart.  A directory that is gone trusts nobody.  Lock held. */
static void trust_refresh (struct appstore *s)
{
    const char *dir = s->cfg->apps.trust;
    struct stat st;
    if (!dir[0])
        return;
    if (stat (dir, &st) < 0) {
        if (sign_trust_count (s->trust) > 0) {
            sign_trust_destroy (s->trust);
            s->trust = sign_trust_empty ();
            log_msg (LOG_WARN, "event=apps.trust_reload dir=%s publishers=0 reason=\"%s\"", dir,
                     strerror (errno));
        }
        return;
    }
    if (st.st_mtim.tv_sec == s->trust_mtime.tv_sec && st.st_mtim.tv_nsec == s->trust_mtime.tv_nsec
        && st.st_ctim.tv_sec == s->trust_ctime.tv_sec && st.st_ctim.tv_nsec == s->trust_ctime.tv_nsec)
        return;
    fs_error_t err;
    struct sign_trust *t = sign_trust_load (dir, &err);
    if (!t)
        return;
    sign_trust_destroy (s->trust);
    s->trust = t;
    s->trust_mtime = st.st_mtim;
    s->trust_ctime = st.st_ctim;
    log_msg (LOG_INFO, "event=apps.trust_reload dir=%s publishers=%zu skipped=%zu", dir,
             sign_trust_count (t), sign_trust_skipped (t));
}

const struct sandbox *appstore_sandbox (const struct appstore *s)
{
    return s->sandbox;
}

uint64_t appstore_max_bytes (const struct appstore *s)
{
    return s->cfg->apps.max_bytes;
}

bool appstore_allows (const struct appstore *s, const char *name)
{
    if (s->cfg->apps.nallow == 0)
        return true;
    for (int i = 0; i < s->cfg->apps.nallow; i++)
        if (name_glob (s->cfg->apps.allow[i], name))
            return true;
    return false;
}

bool appstore_trusts (struct appstore *s, const char *publisher)
{
    pthread_mutex_lock (&s->lock);
    trust_refresh (s);
    bool yes = sign_trust_has (s->trust, publisher);
    pthread_mutex_unlock (&s->lock);
    return yes;
}

void appstore_publisher_name (struct appstore *s, const char *publisher, char name[SIGN_NAME_MAX])
{
    name[0] = '\0';
    pthread_mutex_lock (&s->lock);
    for (size_t i = 0; i < sign_trust_count (s->trust); i++)
        if (!strcmp (sign_trust_key (s->trust, i), publisher))
            snprintf (name, SIGN_NAME_MAX, "%s", sign_trust_name (s->trust, i));
    pthread_mutex_unlock (&s->lock);
}

int appstore_verify (struct appstore *s, const char *file, const struct app_claim *c,
                     fs_error_t *err)
{
    const char *site = s->cfg->name;
    struct stat st;
    if (stat (file, &st) < 0)
        return errprintf (err, FS_EFAIL, "bundle of %s@%s: %s", c->name, c->version,
                          strerror (errno));
    if (c->bytes > s->cfg->apps.max_bytes || (uint64_t)st.st_size > s->cfg->apps.max_bytes)
        return errprintf (err, FS_EFAIL, "the bundle of %s@%s (%" PRIu64 " bytes) is larger than "
                          "site %s's apps.max_bytes (%" PRIu64 ")", c->name, c->version,
                          (uint64_t)st.st_size > c->bytes ? (uint64_t)st.st_size : c->bytes, site,
                          s->cfg->apps.max_bytes);
    if ((uint64_t)st.st_size != c->bytes)
        return errprintf (err, FS_EFAIL, "the bundle of %s@%s has %lld bytes, not the %" PRIu64
                          " it was published with", c->name, c->version, (long long)st.st_size,
                          c->bytes);
    if (!appstore_trusts (s, c->publisher))
        return errprintf (err, FS_EFAIL, "site %s does not trust the publisher of %s@%s "
                          "(%.24s...): its key is not in apps.trust", site, c->name, c->version,
                          c->publisher);
    if (sign_verify_app (c->publisher, c->name, c->version, c->digest, c->signature, err) < 0) {
        err->code = FS_EFAIL;
        return errprefix (err, "site %s refuses the bundle", site);
    }
    if (!appstore_allows (s, c->name))
        return errprintf (err, FS_EFAIL, "site %s does not allow app %s (apps.allow)", site,
                          c->name);
    char got[SIGN_DIGEST_TEXT];
    if (sign_sha256_file (file, got, NULL, err) < 0)
        return -1;
    if (strcmp (got, c->digest))
        return errprintf (err, FS_EFAIL, "the bundle of %s@%s is damaged or was tampered with: "
                          "its content has digest %s, not %s", c->name, c->version, got, c->digest);
    return 0;
}

void appstore_held_path (const struct appstore *s, const char *hex, char *buf, size_t size)
{
    snprintf (buf, size, "%.3900s/%.64s.fsb", s->store, hex);
}

void appstore_incoming_path (const struct appstore *s, const char *hex, char *buf, size_t size)
{
    snprintf (buf, size, "%.3900s/%.64s.part", s->incoming, hex);
}

int appstore_held (const struct appstore *s, const char *digest, char *buf, size_t size)
{
    if (!sign_digest_valid (digest))
        return 0;
    appstore_held_path (s, digest + 7, buf, size);
    return access (buf, R_OK) == 0;
}

static void meta_path (const struct appstore *s, const char *hex, char *buf, size_t size)
{
    snprintf (buf, size, "%.3900s/%.64s.json", s->store, hex);
}

int appstore_hold (struct appstore *s, const char *file, const struct app_claim *c,
                   const json_t *meta, fs_error_t *err)
{
    char held[PATH_MAX], mp[PATH_MAX], tmp[PATH_MAX + 8];
    appstore_held_path (s, app_claim_hex (c), held, sizeof (held));
    meta_path (s, app_claim_hex (c), mp, sizeof (mp));
    snprintf (tmp, sizeof (tmp), "%s.new", mp);
    /* The meta first: a bundle in the store always has its meta. */
    if (json_dump_file (meta, tmp, JSON_COMPACT) < 0 || rename (tmp, mp) < 0)
        return errprintf (err, FS_EFAIL, "cannot write %s: %s", mp, strerror (errno));
    if (strcmp (file, held) && rename (file, held) < 0)
        return errprintf (err, FS_EFAIL, "cannot keep the bundle as %s: %s", held,
                          strerror (errno));
    chmod (held, 0444);
    return 0;
}

json_t *appstore_held_meta (const struct appstore *s, const char *digest)
{
    char mp[PATH_MAX], held[PATH_MAX];
    if (!appstore_held (s, digest, held, sizeof (held)))
        return NULL;
    meta_path (s, digest + 7, mp, sizeof (mp));
    return json_load_file (mp, JSON_REJECT_DUPLICATES, NULL);
}

json_t *appstore_hello (struct appstore *s)
{
    json_t *trust = json_array (), *allow = json_array (), *held = json_array ();
    pthread_mutex_lock (&s->lock);
    trust_refresh (s);
    for (size_t i = 0; i < sign_trust_count (s->trust); i++)
        json_array_append_new (trust, json_pack ("{s:s, s:s}", "key", sign_trust_key (s->trust, i),
                                                 "name", sign_trust_name (s->trust, i)));
    pthread_mutex_unlock (&s->lock);
    for (int i = 0; i < s->cfg->apps.nallow; i++)
        json_array_append_new (allow, json_string (s->cfg->apps.allow[i]));
    DIR *d = opendir (s->store);
    struct dirent *de;
    while (d && (de = readdir (d))) {
        size_t len = strlen (de->d_name);
        char digest[SIGN_DIGEST_TEXT], mp[PATH_MAX];
        if (len != 68 || strcmp (de->d_name + 64, ".fsb"))
            continue;
        snprintf (digest, sizeof (digest), "sha256:%.64s", de->d_name);
        meta_path (s, digest + 7, mp, sizeof (mp));
        if (sign_digest_valid (digest) && access (mp, R_OK) == 0)
            json_array_append_new (held, json_string (digest));
    }
    if (d)
        closedir (d);
    return json_pack ("{s:o, s:o, s:s, s:I, s:o}", "trust", trust, "allow", allow, "sandbox",
                      s->sandbox->name, "max_bytes", (json_int_t)s->cfg->apps.max_bytes, "held",
                      held);
}

/* --- uploads ----------------------------------------------------------------------- */

json_t *appstore_put (struct appstore *s, const struct msg *m, const void *data, size_t len,
                      fs_error_t *err)
{
    const char *digest, *sum;
    int64_t bytes, offset;
    if (msg_get_str (m, "digest", true, &digest, err) < 0
        || msg_get_int (m, "bytes", true, 1, INT64_MAX, &bytes, err) < 0
        || msg_get_int (m, "offset", true, 0, INT64_MAX, &offset, err) < 0
        || msg_get_str (m, "xxh3", true, &sum, err) < 0)
        return NULL;
    if (!sign_digest_valid (digest)) {
        errprintf (err, FS_EINVAL, "app.put: digest '%.80s' is not sha256:HEX", digest);
        return NULL;
    }
    char path[PATH_MAX];
    if (appstore_held (s, digest, path, sizeof (path)))
        return json_pack ("{s:b}", "held", 1);      /* nothing more to send */
    if ((uint64_t)bytes > s->cfg->apps.max_bytes) {
        errprintf (err, FS_EFAIL, "the bundle (%" PRId64 " bytes) is larger than site %s's "
                   "apps.max_bytes (%" PRIu64 ")", bytes, s->cfg->name, s->cfg->apps.max_bytes);
        return NULL;
    }
    if (!data || offset > bytes || (uint64_t)len > (uint64_t)(bytes - offset)) {
        errprintf (err, FS_EINVAL, "app.put: a piece of %zu bytes at %" PRId64 " does not fit a "
                   "bundle of %" PRId64 " bytes", len, offset, bytes);
        return NULL;
    }
    char want[20];
    snprintf (want, sizeof (want), "%016" PRIx64, checksum (data, len));
    if (strcmp (want, sum)) {
        errprintf (err, FS_EINVAL, "app.put: the piece at %" PRId64 " arrived damaged (checksum)",
                   offset);
        return NULL;
    }
    appstore_incoming_path (s, digest + 7, path, sizeof (path));
    int fd = open (path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    struct stat st;
    int rc = fd < 0 ? -1 : 0;
    if (rc == 0 && fstat (fd, &st) == 0 && st.st_size != bytes)
        rc = ftruncate (fd, bytes);
    for (size_t done = 0; rc == 0 && done < len;) {
        ssize_t w = pwrite (fd, (const char *)data + done, len - done, offset + (off_t)done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            rc = -1;
        else
            done += (size_t)w;
    }
    int e = errno;
    if (fd >= 0)
        close (fd);
    if (rc < 0) {
        errprintf (err, FS_EFAIL, "site %s cannot write the upload: %s", s->cfg->name, strerror (e));
        return NULL;
    }
    return json_pack ("{s:I, s:I}", "offset", (json_int_t)offset, "len", (json_int_t)len);
}

/* --- requirements --------------------------------------------------------------------- */

/* Is there an executable regular file name in one of the ':'-separated dirs? */
static bool in_dirs (const char *dirs, const char *name, bool exec)
{
    char buf[PATH_MAX];
    for (const char *p = dirs; p && *p;) {
        size_t len = strcspn (p, ":");
        struct stat st;
        if (len > 0 && len + strlen (name) + 2 < sizeof (buf)) {
            snprintf (buf, sizeof (buf), "%.*s/%s", (int)len, p, name);
            if (stat (buf, &st) == 0 && S_ISREG (st.st_mode) && (!exec || access (buf, X_OK) == 0))
                return true;
        }
        p += len;
        if (*p == ':')
            p++;
    }
    return false;
}

/* The dynamic linker's directories: LD_LIBRARY_PATH, the ld.so.conf.d
 * entries, and the default ones. */
static void lib_dirs (char *buf, size_t size)
{
    const char *llp = getenv ("LD_LIBRARY_PATH");
    size_t o = (size_t)snprintf (buf, size, "%s%s/lib:/usr/lib:/lib64:/usr/lib64:/usr/local/lib",
                                 llp ? llp : "", llp && *llp ? ":" : "");
    DIR *d = opendir ("/etc/ld.so.conf.d");
    struct dirent *de;
    while (d && (de = readdir (d)) && o < size) {
        size_t len = strlen (de->d_name);
        char path[PATH_MAX], line[PATH_MAX];
        if (len < 6 || strcmp (de->d_name + len - 5, ".conf"))
            continue;
        snprintf (path, sizeof (path), "/etc/ld.so.conf.d/%s", de->d_name);
        FILE *f = fopen (path, "re");
        while (f && fgets (line, sizeof (line), f) && o < size) {
            line[strcspn (line, "#\r\n")] = '\0';
            char *l = line + strspn (line, " \t");
            if (l[0] == '/')
                o += (size_t)snprintf (buf + o, size - o, ":%s", l);
        }
        if (f)
            fclose (f);
    }
    if (d)
        closedir (d);
}

json_t *appstore_probe (const json_t *requires, fs_error_t *err)
{
    if (!json_is_array (requires) || json_array_size (requires) > 4096) {
        errprintf (err, FS_EINVAL, "site.probe: 'requires' must be a list of names");
        return NULL;
    }
    enum { LIBS = 16384 };
    char *libs = malloc (LIBS);
    if (!libs) {
        errprintf (err, FS_EFAIL, "out of memory");
        return NULL;
    }
    lib_dirs (libs, LIBS);
    const char *path = getenv ("PATH");
    json_t *have = json_array (), *lack = json_array ();
    size_t i;
    json_t *v;
    json_array_foreach (requires, i, v) {
        const char *r = json_string_value (v);
        if (!r || !*r || strchr (r, '/') || strlen (r) >= APP_REQ_MAX)
            continue;
        bool ok = manifest_req_is_lib (r) ? in_dirs (libs, r, false)
                                          : in_dirs (path ? path : "/usr/bin:/bin", r, true);
        json_array_append_new (ok ? have : lack, json_string (r));
    }
    free (libs);
    return json_pack ("{s:o, s:o}", "have", have, "lack", lack);
}
