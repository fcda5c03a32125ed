/* sandbox_int.h - what the sandboxes share (internal to adapters/sandbox/). */
#ifndef FS_SANDBOX_INT_H
#define FS_SANDBOX_INT_H

#include <stddef.h>

#include "adapters/sandbox/sandbox.h"

extern const struct sandbox sandbox_bwrap;
extern const struct sandbox sandbox_none;

/* A NULL-terminated copy of items[0..n) (sandbox_argv_free), or NULL with err. */
char **sandbox_argv_new (const char *const *items, size_t n, fs_error_t *err);

#endif
