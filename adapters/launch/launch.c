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

const struct launcher *launcher_find (const char *name, fs_error_t *err)
{
    char known[256] = "";
    for (size_t i = 0; launchers[i]; i++) {
        if (name && strcmp (launchers[i]->name, name) == 0)
            return launchers[i];
        size_t n = strlen (known);
        snprintf (known + n, sizeof (known) - n, "%s%s", n ? ", " : "", launchers[i]->name);
    }
    errprintf (err, FS_EINVAL, "unknown launcher '%s' (known: %s)", name ? name : "", known);
    return NULL;
}
