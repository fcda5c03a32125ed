/* sign.c - SHA-256 digests and Ed25519 signatures on libsodium (see sign.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sodium.h>
#include <sys/mman.h>

#include "sign.h"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc;

static void init_sodium (void)
{
    init_rc = sodium_init () < 0 ? -1 : 0;
}

int sign_init (fs_error_t *err)
{
    pthread_once (&init_once, init_sodium);
    if (init_rc < 0)
        return errprintf (err, FS_EFAIL, "cannot initialise libsodium (no entropy source?)");
    return 0;
}

/* --- digests ------------------------------------------------------------------
 * SHA-256 from OpenSSL's libcrypto, which uses the CPU's SHA extensions where
 * it has them: libsodium's portable SHA-256 runs at a seventh of the speed
 * here (measured: 110-180 MB/s against 0.8-1.2 GB/s), and a site verifies
 * every bundle before its first use (tests/bench/apps). */

static void digest_text (const unsigned char h[32], char out[SIGN_DIGEST_TEXT])
{
    memcpy (out, "sha256:", 7);
    sodium_bin2hex (out + 7, SIGN_DIGEST_TEXT - 7, h, 32);
}

void sign_sha256_buf (const void *data, size_t len, char out[SIGN_DIGEST_TEXT])
{
    unsigned char h[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_Digest (data, len, h, &n, EVP_sha256 (), NULL) != 1 || n != 32)
        memset (h, 0, sizeof (h));      /* only without memory: a digest nothing matches */
    digest_text (h, out);
}

int sign_sha256_fd (int fd, char out[SIGN_DIGEST_TEXT], uint64_t *bytes, fs_error_t *err)
{
    enum { BUF = 1 << 20 };
    EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
    if (!ctx || EVP_DigestInit_ex (ctx, EVP_sha256 (), NULL) != 1) {
        EVP_MD_CTX_free (ctx);
        return errprintf (err, FS_EFAIL, "cannot start a SHA-256 digest");
    }
    uint64_t total = 0;
    int rc = 0;
    struct stat st;
    off_t at = lseek (fd, 0, SEEK_CUR);
    /* A regular file is hashed where it lies (mapped): no copy into a buffer. */
    void *map = MAP_FAILED;
    if (at >= 0 && fstat (fd, &st) == 0 && S_ISREG (st.st_mode) && st.st_size > at)
        map = mmap (NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    if (map != MAP_FAILED) {
        madvise (map, (size_t)st.st_size, MADV_SEQUENTIAL);
        total = (uint64_t)(st.st_size - at);
        if (EVP_DigestUpdate (ctx, (const char *)map + at, total) != 1)
            rc = errprintf (err, FS_EFAIL, "SHA-256 failed");
        munmap (map, (size_t)st.st_size);
        lseek (fd, st.st_size, SEEK_SET);
    } else {
        unsigned char *buf = malloc (BUF);
        if (!buf)
            rc = errprintf (err, FS_EFAIL, "out of memory");
        posix_fadvise (fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        while (rc == 0) {
            ssize_t n = read (fd, buf, BUF);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                rc = errprintf (err, FS_EFAIL, "cannot read: %s", strerror (errno));
            else if (n == 0)
                break;
            else if (EVP_DigestUpdate (ctx, buf, (size_t)n) != 1)
                rc = errprintf (err, FS_EFAIL, "SHA-256 failed");
            else
                total += (uint64_t)n;
        }
        free (buf);
    }
    unsigned char h[EVP_MAX_MD_SIZE];
    unsigned int hn = 0;
    if (rc == 0 && (EVP_DigestFinal_ex (ctx, h, &hn) != 1 || hn != 32))
        rc = errprintf (err, FS_EFAIL, "SHA-256 failed");
    EVP_MD_CTX_free (ctx);
    if (rc < 0)
        return -1;
    digest_text (h, out);
    if (bytes)
        *bytes = total;
    return 0;
}

int sign_sha256_file (const char *path, char out[SIGN_DIGEST_TEXT], uint64_t *bytes,
                      fs_error_t *err)
{
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errprintf (err, FS_EFAIL, "%s: cannot open: %s", path, strerror (errno));
    int rc = sign_sha256_fd (fd, out, bytes, err);
    close (fd);
    return rc < 0 ? errprefix (err, "%s", path) : 0;
}

static bool hex_run (const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isxdigit ((unsigned char)s[i]) || isupper ((unsigned char)s[i]))
            return false;
    return s[n] == '\0';
}

bool sign_digest_valid (const char *s)
{
    return s && !strncmp (s, "sha256:", 7) && strlen (s) == 71 && hex_run (s + 7, 64);
}

bool sign_key_valid (const char *s)
{
    return s && !strncmp (s, "ed25519:", 8) && strlen (s) == 72 && hex_run (s + 8, 64);
}

bool sign_sig_valid (const char *s)
{
    return s && strlen (s) == 128 && hex_run (s, 128);
}

/* --- keys ---------------------------------------------------------------------- */

static bool name_ok (const char *name)
{
    size_t n = name ? strlen (name) : 0;
    if (n == 0 || n >= SIGN_NAME_MAX || name[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum ((unsigned char)name[i]) && !strchr ("._-", name[i]))
            return false;
    return true;
}

/* Write text to path, created exclusively with mode. */
static int write_new (const char *path, const char *text, mode_t mode, fs_error_t *err)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return errprintf (err, FS_EFAIL, "cannot create %s: %s%s", path, strerror (errno),
                          errno == EEXIST ? " (keys are never overwritten: remove it first, or "
                          "choose another --name)" : "");
    size_t n = strlen (text);
    ssize_t w = fchmod (fd, mode) == 0 ? write (fd, text, n) : -1;   /* whatever the umask */
    int e = errno;
    if (close (fd) < 0 || w != (ssize_t)n) {
        unlink (path);
        return errprintf (err, FS_EFAIL, "cannot write %s: %s", path, strerror (e));
    }
    return 0;
}

int sign_keygen (const char *dir, const char *name, fs_error_t *err)
{
    if (sign_init (err) < 0)
        return -1;
    if (!name_ok (name))
        return errprintf (err, FS_EINVAL, "key name '%s': use 1 to 63 characters of "
                          "[A-Za-z0-9._-], not starting with '.'", name ? name : "");
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair (pk, sk);
    char keyp[PATH_MAX], pubp[PATH_MAX];
    snprintf (keyp, sizeof (keyp), "%.3000s/%s.key", dir, name);
    snprintf (pubp, sizeof (pubp), "%.3000s/%s.pub", dir, name);
    char hex[2 * crypto_sign_SECRETKEYBYTES + 1];
    char line[512];
    sodium_bin2hex (hex, sizeof (hex), sk, sizeof (sk));
    snprintf (line, sizeof (line), "ed25519-secret:%s %s\n", hex, name);
    sodium_memzero (sk, sizeof (sk));
    sodium_memzero (hex, sizeof (hex));
    struct stat st;
    if (stat (pubp, &st) == 0) {
        sodium_memzero (line, sizeof (line));
        return errprintf (err, FS_EFAIL, "cannot create %s: it exists (keys are never "
                          "overwritten: remove it first, or choose another --name)", pubp);
    }
    int rc = write_new (keyp, line, 0600, err);
    sodium_memzero (line, sizeof (line));
    if (rc < 0)
        return -1;
    sodium_bin2hex (hex, sizeof (hex), pk, sizeof (pk));
    snprintf (line, sizeof (line), "ed25519:%s %s\n", hex, name);
    if (write_new (pubp, line, 0644, err) < 0) {
        unlink (keyp);
        return -1;
    }
    return 0;
}

/* The first line of path (at most size - 1 bytes, newline dropped). */
static int first_line (const char *path, char *buf, size_t size, fs_error_t *err)
{
    FILE *f = fopen (path, "re");
    if (!f)
        return errprintf (err, FS_EFAIL, "%s: cannot read: %s", path, strerror (errno));
    bool ok = fgets (buf, (int)size, f) != NULL;
    fclose (f);
    if (!ok)
        return errprintf (err, FS_EINVAL, "%s: empty file", path);
    buf[strcspn (buf, "\r\n")] = '\0';
    return 0;
}

/* Split "KIND:HEX NAME" into its hex (want hex digits) and name. */
static int key_fields (const char *path, char *line, const char *kind, size_t want,
                       char **hex, char *name, fs_error_t *err)
{
    size_t kl = strlen (kind);
    char *sp = strchr (line, ' ');
    if (sp)
        *sp = '\0';
    if (strncmp (line, kind, kl) || strlen (line + kl) != want || !hex_run (line + kl, want))
        return errprintf (err, FS_EINVAL, "%s: not a fedsched signing key (expected "
                          "'%sHEX NAME'; make one with 'fedsched keygen DIR --sign')", path, kind);
    *hex = line + kl;
    if (name) {
        const char *n = sp ? sp + 1 : "";
        while (*n == ' ')
            n++;
        snprintf (name, SIGN_NAME_MAX, "%s", name_ok (n) ? n : "");
    }
    return 0;
}

int sign_key_read (const char *path, struct sign_key *key, fs_error_t *err)
{
    char line[512], *hex;
    memset (key, 0, sizeof (*key));
    if (sign_init (err) < 0 || first_line (path, line, sizeof (line), err) < 0)
        return -1;
    if (key_fields (path, line, "ed25519-secret:", 128, &hex, key->name, err) < 0) {
        sodium_memzero (line, sizeof (line));
        return -1;
    }
    size_t n = 0;
    sodium_hex2bin (key->secret, sizeof (key->secret), hex, 128, NULL, &n, NULL);
    sodium_memzero (line, sizeof (line));
    /* The public half must be the one the seed makes (a damaged file would
     * otherwise sign under a key nobody can verify). */
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk2[crypto_sign_SECRETKEYBYTES];
    bool ok = n == sizeof (key->secret) && crypto_sign_seed_keypair (pk, sk2, key->secret) == 0
              && sodium_memcmp (sk2, key->secret, sizeof (sk2)) == 0;
    sodium_memzero (sk2, sizeof (sk2));
    if (!ok) {
        sign_key_wipe (key);
        return errprintf (err, FS_EINVAL, "%s: not a valid Ed25519 secret key", path);
    }
    memcpy (key->pub, "ed25519:", 8);
    sodium_bin2hex (key->pub + 8, sizeof (key->pub) - 8, pk, sizeof (pk));
    if (!key->name[0]) {
        const char *b = strrchr (path, '/');
        snprintf (key->name, sizeof (key->name), "%s", b ? b + 1 : path);
        key->name[strcspn (key->name, ".")] = '\0';
        if (!name_ok (key->name))
            snprintf (key->name, sizeof (key->name), "publisher");
    }
    return 0;
}

void sign_key_wipe (struct sign_key *key)
{
    if (key)
        sodium_memzero (key->secret, sizeof (key->secret));
}

int sign_pub_read (const char *path, char pub[SIGN_KEY_TEXT], char name[SIGN_NAME_MAX],
                   fs_error_t *err)
{
    char line[512], *hex, nm[SIGN_NAME_MAX];
    if (first_line (path, line, sizeof (line), err) < 0
        || key_fields (path, line, "ed25519:", 64, &hex, nm, err) < 0)
        return -1;
    snprintf (pub, SIGN_KEY_TEXT, "ed25519:%s", hex);
    if (name) {
        if (!nm[0]) {
            const char *b = strrchr (path, '/');
            snprintf (nm, sizeof (nm), "%s", b ? b + 1 : path);
            char *dot = strrchr (nm, '.');
            if (dot)
                *dot = '\0';
        }
        snprintf (name, SIGN_NAME_MAX, "%s", nm);
    }
    return 0;
}

/* --- signatures ------------------------------------------------------------------ */

void sign_statement (const char *name, const char *version, const char *digest, char *buf,
                     size_t size)
{
    snprintf (buf, size, "fedsched-app-v1 %s@%s %s", name, version, digest);
}

int sign_app (const struct sign_key *key, const char *name, const char *version,
              const char *digest, char sig[SIGN_SIG_TEXT], fs_error_t *err)
{
    char msg[512];
    unsigned char s[crypto_sign_BYTES];
    if (sign_init (err) < 0)
        return -1;
    if (!sign_digest_valid (digest))
        return errprintf (err, FS_EINVAL, "not a digest: '%s'", digest);
    sign_statement (name, version, digest, msg, sizeof (msg));
    crypto_sign_detached (s, NULL, (const unsigned char *)msg, strlen (msg), key->secret);
    sodium_bin2hex (sig, SIGN_SIG_TEXT, s, sizeof (s));
    return 0;
}

int sign_verify_app (const char *pub, const char *name, const char *version, const char *digest,
                     const char *sig, fs_error_t *err)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], s[crypto_sign_BYTES];
    char msg[512];
    size_t n1 = 0, n2 = 0;
    if (sign_init (err) < 0)
        return -1;
    if (!sign_key_valid (pub))
        return errprintf (err, FS_EINVAL, "not a publisher key: '%.80s'", pub ? pub : "");
    if (!sign_digest_valid (digest))
        return errprintf (err, FS_EINVAL, "not a digest: '%.80s'", digest ? digest : "");
    if (!sign_sig_valid (sig))
        return errprintf (err, FS_EINVAL, "the bundle is not signed (no valid signature)");
    sodium_hex2bin (pk, sizeof (pk), pub + 8, 64, NULL, &n1, NULL);
    sodium_hex2bin (s, sizeof (s), sig, 128, NULL, &n2, NULL);
    sign_statement (name, version, digest, msg, sizeof (msg));
    if (n1 != sizeof (pk) || n2 != sizeof (s)
        || crypto_sign_verify_detached (s, (const unsigned char *)msg, strlen (msg), pk) != 0)
        return errprintf (err, FS_EFAIL, "the signature of %s@%s (%s) does not verify under "
                          "publisher key %.24s...", name, version, digest, pub);
    return 0;
}

/* --- trust ---------------------------------------------------------------------- */

struct trusted {
    char pub[SIGN_KEY_TEXT];
    char name[SIGN_NAME_MAX];
};

struct sign_trust {
    struct trusted *v;
    size_t n;
    size_t skipped;
};

struct sign_trust *sign_trust_empty (void)
{
    return calloc (1, sizeof (struct sign_trust));
}

static int by_key (const void *a, const void *b)
{
    return strcmp (((const struct trusted *)a)->pub, ((const struct trusted *)b)->pub);
}

struct sign_trust *sign_trust_load (const char *dir, fs_error_t *err)
{
    DIR *d = opendir (dir);
    if (!d) {
        errprintf (err, FS_EINVAL, "apps.trust: %s: %s (a directory of publishers' .pub keys)",
                   dir, strerror (errno));
        return NULL;
    }
    struct sign_trust *t = sign_trust_empty ();
    size_t cap = 0;
    struct dirent *de;
    while (t && (de = readdir (d))) {
        size_t len = strlen (de->d_name);
        if (len < 5 || strcmp (de->d_name + len - 4, ".pub") || de->d_name[0] == '.')
            continue;
        char path[PATH_MAX];
        struct trusted k;
        fs_error_t e;
        snprintf (path, sizeof (path), "%.3800s/%s", dir, de->d_name);
        if (sign_pub_read (path, k.pub, k.name, &e) < 0) {
            t->skipped++;
            continue;
        }
        if (t->n == cap) {
            cap = cap ? 2 * cap : 8;
            struct trusted *nv = realloc (t->v, cap * sizeof (*nv));
            if (!nv) {
                sign_trust_destroy (t);
                t = NULL;
                break;
            }
            t->v = nv;
        }
        t->v[t->n++] = k;
    }
    closedir (d);
    if (!t) {
        errprintf (err, FS_EFAIL, "out of memory");
        return NULL;
    }
    if (t->n > 1)
        qsort (t->v, t->n, sizeof (*t->v), by_key);
    /* The same key in two files counts once. */
    size_t k = 0;
    for (size_t i = 0; i < t->n; i++)
        if (k == 0 || strcmp (t->v[k - 1].pub, t->v[i].pub))
            t->v[k++] = t->v[i];
    t->n = k;
    return t;
}

void sign_trust_destroy (struct sign_trust *t)
{
    if (!t)
        return;
    free (t->v);
    free (t);
}

size_t sign_trust_count (const struct sign_trust *t)
{
    return t ? t->n : 0;
}

const char *sign_trust_key (const struct sign_trust *t, size_t i)
{
    return t && i < t->n ? t->v[i].pub : NULL;
}

const char *sign_trust_name (const struct sign_trust *t, size_t i)
{
    return t && i < t->n ? t->v[i].name : NULL;
}

size_t sign_trust_skipped (const struct sign_trust *t)
{
    return t ? t->skipped : 0;
}

bool sign_trust_has (const struct sign_trust *t, const char *pub)
{
    if (!t || !pub || t->n == 0)
        return false;
    struct trusted k;
    snprintf (k.pub, sizeof (k.pub), "%s", pub);
    return bsearch (&k, t->v, t->n, sizeof (*t->v), by_key) != NULL;
}
