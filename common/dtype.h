/* dtype.h - the element types fedsched moves (SPEC section 2). */
#ifndef FS_DTYPE_H
#define FS_DTYPE_H

#include <stddef.h>

typedef enum {
    FS_DT_INVALID = 0,
    FS_DT_INT8, FS_DT_INT16, FS_DT_INT32, FS_DT_INT64,
    FS_DT_UINT8, FS_DT_UINT16, FS_DT_UINT32, FS_DT_UINT64,
    FS_DT_FLOAT32, FS_DT_FLOAT64,
} fs_dtype_t;

/* NumPy-style name ("int8", "float32", ...); "invalid" for FS_DT_INVALID. */
const char *dtype_name (fs_dtype_t t);
/* Inverse of dtype_name; FS_DT_INVALID when unknown. */
fs_dtype_t dtype_parse (const char *name);
/* Size of one element in bytes; 0 for FS_DT_INVALID. */
size_t dtype_size (fs_dtype_t t);

#endif
