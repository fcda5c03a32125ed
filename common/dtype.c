/* dtype.c - the element types fedsched moves (SPEC section 2). */
#include <string.h>

#include "dtype.h"

static const struct {
    fs_dtype_t type;
    const char *name;
    size_t size;
} dtypes[] = {
    { FS_DT_INT8, "int8", 1 },
    { FS_DT_INT16, "int16", 2 },
    { FS_DT_INT32, "int32", 4 },
    { FS_DT_INT64, "int64", 8 },
    { FS_DT_UINT8, "uint8", 1 },
    { FS_DT_UINT16, "uint16", 2 },
    { FS_DT_UINT32, "uint32", 4 },
    { FS_DT_UINT64, "uint64", 8 },
    { FS_DT_FLOAT32, "float32", 4 },
    { FS_DT_FLOAT64, "float64", 8 },
};

#define NDTYPES (sizeof (dtypes) / sizeof (dtypes[0]))

const char *dtype_name (fs_dtype_t t)
{
    for (size_t i = 0; i < NDTYPES; i++)
        if (dtypes[i].type == t)
            return dtypes[i].name;
    return "invalid";
}

fs_dtype_t dtype_parse (const char *name)
{
    if (!name)
        return FS_DT_INVALID;
    for (size_t i = 0; i < NDTYPES; i++)
        if (strcmp (dtypes[i].name, name) == 0)
            return dtypes[i].type;
    return FS_DT_INVALID;
}

size_t dtype_size (fs_dtype_t t)
{
    for (size_t i = 0; i < NDTYPES; i++)
        if (dtypes[i].type == t)
            return dtypes[i].size;
    return 0;
}
