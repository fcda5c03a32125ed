/* sandbox.c - the table of sandboxes, picked by name from site.yaml. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/sandbox/sandbox.h"
#include "adapters/sandbox/sandbox_int.h"

static const struct sandbox *const sandboxes[] = {
    &sandbox_bwrap,
    &sandbox_none,
    NULL,
};

const struct sandbox *sandbox_find (const char *name, fs_error_t *err)
{
    char known[128] = "";
    for (size_t i = 0; sandboxes[i]; i++) {
        if (name && strcmp (sandboxes[i]->name, name) == 0)
            return sandboxes[i];
        size_t n = strlen (known);
        snprintf (known + n, sizeof (known) - n, "%s%s", n ? ", " : "", sandboxes[i]->name);
    }
    errprintf (err, FS_EINVAL, "unknown sandbox '%s' (known: %s)", name ? name : "", known);
    return NULL;
}

const struct sandbox *sandbox_default (void)
{
    fs_error_t err;
    return sandbox_bwrap.probe (&err) == 0 ? &sandbox_bwrap : &sandbox_none;
}

void sandbox_argv_free (char **argv)
{
    for (char **a = argv; a && *a; a++)
        free (*a);
    free (argv);
}

char **sandbox_argv_new (const char *const *items, size_t n, fs_error_t *err)
{
    char **v = calloc (n + 1, sizeof (*v));
    for (size_t i = 0; v && i < n; i++)
        if (!(v[i] = strdup (items[i]))) {
            sandbox_argv_free (v);
            v = NULL;
        }
    if (!v)
        errprintf (err, FS_EFAIL, "out of memory");
    return v;
}
