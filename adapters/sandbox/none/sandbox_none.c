/* sandbox_none.c - no sandbox: the task runs as any other task of the site
 * (its data roots read-only, as always; launch.h). */
#include "adapters/sandbox/sandbox_int.h"

static int none_probe (fs_error_t *err)
{
    (void)err;
    return 0;
}

static char **none_wrap (const struct sandbox_spec *spec, fs_error_t *err)
{
    (void)spec;
    return sandbox_argv_new (NULL, 0, err);
}

const struct sandbox sandbox_none = {
    .name = "none",
    .probe = none_probe,
    .wrap = none_wrap,
};
