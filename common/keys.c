/* keys.c - CURVE key files and allow-lists (see keys.h). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"

static bool z85_key (const char *s)
{
    static const char z85[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                              ".-:+=^!/*?&<>()[]{}@%$#";
    if (strlen (s) != FS_Z85_KEY)
        return false;
    for (const char *p = s; *p; p++)
        if (!strchr (z85, *p))
            return false;
    return true;
}

/* One line 'NAME = "VALUE"'; 1 when it is NAME, with VALUE a z85 key. */
static int key_line (const char *line, const char *name, char out[FS_Z85_KEY + 1])
{
    size_t nl = strlen (name);
    while (*line == ' ' || *line == '\t')
        line++;
    if (strncmp (line, name, nl))
        return 0;
    line += nl;
    while (*line == ' ' || *line == '\t')
        line++;
    if (*line++ != '=')
        return 0;
    while (*line == ' ' || *line == '\t')
        line++;
    if (*line++ != '"')
        return 0;
    const char *end = strchr (line, '"');
    if (!end || end - line != FS_Z85_KEY)
        return -1;
    memcpy (out, line, FS_Z85_KEY);
    out[FS_Z85_KEY] = '\0';
    return z85_key (out) ? 1 : -1;
}

int keys_read (const char *file, char pub[FS_Z85_KEY + 1], char sec[FS_Z85_KEY + 1], fs_error_t *err)
{
    FILE *f = fopen (file, "r");
    if (!f)
        return errprintf (err, FS_EFAIL, "%s: cannot read: %s", file, strerror (errno));
    char line[256];
    bool have_pub = false, have_sec = false, bad = false;
    int n = 0;
    while (fgets (line, sizeof (line), f) && ++n <= 64) {
        int r = key_line (line, "public", pub);
        if (r > 0)
            have_pub = true;
        if (sec && r == 0) {
            r = key_line (line, "secret", sec);
            if (r > 0)
                have_sec = true;
        }
        if (r < 0)
            bad = true;
    }
    fclose (f);
    if (bad || !have_pub || (sec && !have_sec))
        return errprintf (err, FS_EINVAL, "%s: not a CURVE key file (expected %s written by "
                          "'fedsched keygen')", file,
                          sec ? "'public = \"...\"' and 'secret = \"...\"'" : "'public = \"...\"'");
    return 0;
}

bool keys_listed (const char *dir, const char *pub)
{
    DIR *d = opendir (dir);
    if (!d)
        return false;
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir (d))) {
        size_t n = strlen (e->d_name);
        if (n < 5 || e->d_name[0] == '.' || strcmp (e->d_name + n - 4, ".pub"))
            continue;
        char path[4096], k[FS_Z85_KEY + 1];
        fs_error_t err;
        if (snprintf (path, sizeof (path), "%s/%s", dir, e->d_name) >= (int)sizeof (path))
            continue;
        if (keys_read (path, k, NULL, &err) == 0 && !strcmp (k, pub))
            found = true;
    }
    closedir (d);
    return found;
}

static int only_pub (const struct dirent *e)
{
    size_t n = strlen (e->d_name);
    return n >= 5 && e->d_name[0] != '.' && !strcmp (e->d_name + n - 4, ".pub");
}

size_t keys_each (const char *dir, void (*fn) (void *arg, const char *pub), void *arg)
{
    struct dirent **ents;
    int n = scandir (dir, &ents, only_pub, alphasort);
    size_t count = 0;
    for (int i = 0; i < n; i++) {
        char path[4096], k[FS_Z85_KEY + 1];
        fs_error_t err;
        if (snprintf (path, sizeof (path), "%s/%s", dir, ents[i]->d_name) < (int)sizeof (path)
            && keys_read (path, k, NULL, &err) == 0) {
            fn (arg, k);
            count++;
        }
        free (ents[i]);
    }
    if (n >= 0)
        free (ents);
    return count;
}

const char *keys_role (const char *dir, const char *pub)
{
    char sub[4096];
    if (!pub || !z85_key (pub))
        return NULL;
    snprintf (sub, sizeof (sub), "%s/admin", dir);
    if (keys_listed (sub, pub))
        return "admin";
    snprintf (sub, sizeof (sub), "%s/authorized", dir);
    if (keys_listed (sub, pub))
        return "user";
    return NULL;
}
