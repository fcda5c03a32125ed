/* names.c - dataset logical names and other identifiers (SPEC section 2).
 *
 * Error texts give the offending byte's column (1-based) so a user can find
 * it in a long name: "name 'a//b' at column 3: empty component ...".
 */
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "names.h"
#include "slice.h"

static const char *hdf5_exts[] = { ".h5", ".hdf5", ".he5", ".nc", NULL };

static bool name_char (char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
           || c == '.' || c == '_' || c == '-';
}

static bool ident_char (char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
           || c == '_' || c == '-';
}

/* A printable rendering of byte c for messages. */
static const char *char_show (char c, char *buf, size_t n)
{
    unsigned char u = (unsigned char)c;
    if (u >= 0x21 && u < 0x7f)
        snprintf (buf, n, "'%c'", c);
    else if (c == ' ')
        snprintf (buf, n, "a space");
    else
        snprintf (buf, n, "byte 0x%02x", u);
    return buf;
}

int name_valid (const char *name, fs_error_t *err)
{
    char show[32];

    if (!name || name[0] == '\0')
        return errprintf (err, FS_EINVAL, "name is empty: a dataset name is components "
                          "of [A-Za-z0-9._-] separated by '/'");
    size_t len = strlen (name);
    if (len > FS_NAME_MAX)
        return errprintf (err, FS_EINVAL, "name '%.40s...' is %zu bytes long: at most %d allowed",
                          name, len, FS_NAME_MAX);

    size_t comp = 0;    /* start of the current component */
    for (size_t i = 0; i <= len; i++) {
        char c = name[i];
        if (c == '/' || c == '\0') {
            size_t clen = i - comp;
            if (clen == 0) {
                const char *why = i == 0 ? "a name may not start with '/'"
                                  : c == '\0' ? "a name may not end with '/'"
                                  : "empty component between two '/'";
                return errprintf (err, FS_EINVAL, "name '%s' at column %zu: %s", name,
                                  c == '\0' ? i : i + 1, why);
            }
            if ((clen == 1 && name[comp] == '.')
                || (clen == 2 && name[comp] == '.' && name[comp + 1] == '.'))
                return errprintf (err, FS_EINVAL, "name '%s' at column %zu: component '%.*s' "
                                  "is not allowed", name, comp + 1, (int)clen, name + comp);
            comp = i + 1;
        }
        else if (!name_char (c))
            return errprintf (err, FS_EINVAL, "name '%s' at column %zu: %s is not allowed "
                              "(use A-Z a-z 0-9 . _ - and '/' between components)", name, i + 1,
                              char_show (c, show, sizeof (show)));
    }
    return 0;
}

int ident_valid (const char *what, const char *s, fs_error_t *err)
{
    char show[32];

    if (!what)
        what = "identifier";
    if (!s || s[0] == '\0')
        return errprintf (err, FS_EINVAL, "%s name is empty: use [A-Za-z0-9_-], at most 63 bytes",
                          what);
    size_t len = strlen (s);
    if (len > 63)
        return errprintf (err, FS_EINVAL, "%s name '%.40s...' is %zu bytes long: at most 63 "
                          "allowed", what, s, len);
    for (size_t i = 0; i < len; i++)
        if (!ident_char (s[i]))
            return errprintf (err, FS_EINVAL, "%s name '%s' at column %zu: %s is not allowed "
                              "(use A-Z a-z 0-9 _ -)", what, s, i + 1,
                              char_show (s[i], show, sizeof (show)));
    return 0;
}

/* Length of the HDF5 extension PATH ends with, 0 if none. */
static size_t hdf5_ext_len (const char *path)
{
    size_t len = strlen (path);
    for (int i = 0; hdf5_exts[i]; i++) {
        size_t elen = strlen (hdf5_exts[i]);
        if (len > elen && strcasecmp (path + len - elen, hdf5_exts[i]) == 0
            && path[len - elen - 1] != '/')
            return elen;
    }
    return 0;
}

bool name_is_hdf5_file (const char *path)
{
    return path && hdf5_ext_len (path) > 0;
}

int name_for_dataset (const char *prefix, const char *file_rel, const char *h5path,
                      char *out, size_t outsz, fs_error_t *err)
{
    char buf[FS_NAME_MAX + 1];

    if (!prefix)
        prefix = "";
    if (!file_rel || !h5path || !out)
        return errprintf (err, FS_EINVAL, "name_for_dataset: missing file or dataset path");
    size_t plen = strlen (prefix);
    size_t flen = strlen (file_rel) - hdf5_ext_len (file_rel);
    const char *h = h5path;
    size_t hlen = strlen (h);
    bool hslash = hlen > 0 && h[0] == '/';
    size_t total = (plen ? plen + 1 : 0) + flen + (hslash ? 0 : 1) + hlen;
    if (total > FS_NAME_MAX)
        return errprintf (err, FS_EINVAL, "dataset '%s' in file '%s': its name would be %zu "
                          "bytes long, at most %d allowed: use a shorter prefix or path",
                          h5path, file_rel, total, FS_NAME_MAX);
    snprintf (buf, sizeof (buf), "%s%s%.*s%s%s", prefix, plen ? "/" : "", (int)flen, file_rel,
              hslash ? "" : "/", h);
    if (name_valid (buf, err) < 0)
        return errprefix (err, "dataset '%s' in file '%s'", h5path, file_rel);
    if (total + 1 > outsz)
        return errprintf (err, FS_EINVAL, "dataset '%s' in file '%s': name buffer too small",
                          h5path, file_rel);
    memcpy (out, buf, total + 1);
    return 0;
}

bool name_glob (const char *pattern, const char *name)
{
    if (!pattern || !name)
        return false;
    return fnmatch (pattern, name, 0) == 0;
}
