/* launch.c - the table of launchers, picked by name from site.yaml. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "adapters/launch/launch.h"
#include "adapters/launch/launch_proc.h"

static const struct launcher *const launchers[] = {
    &launcher_local,
    &launcher_mpirun,
    &launcher_slurm,
    NULL,
};

const char *launcher_names (char *buf, size_t size)
{
    size_t n = 0;
    if (size)
        buf[0] = '\0';
    for (size_t i = 0; launchers[i] && n < size; i++)
        n += (size_t) snprintf (buf + n, size - n, "%s%s", i ? ", " : "", launchers[i]->name);
    return buf;
}

const struct launcher *launcher_find (const char *name, fs_error_t *err)
{
    char known[256];
    for (size_t i = 0; launchers[i]; i++)
        if (name && strcmp (launchers[i]->name, name) == 0)
            return launchers[i];
    errprintf (err, FS_EINVAL, "unknown launcher '%s' (known: %s)", name ? name : "",
               launcher_names (known, sizeof (known)));
    return NULL;
}
