/* fuzz_util.h - small helpers shared by the libFuzzer harnesses in tests/fuzz/.
 *
 * Each harness is one fuzz_<target>.c with LLVMFuzzerTestOneInput(); the
 * helpers here turn the fuzzer's bytes into the NUL-terminated strings the
 * parsers take, and FUZZ_CHECK() aborts (so libFuzzer saves the input as a
 * crash) when an invariant the product promises does not hold.
 */
#ifndef FS_FUZZ_UTIL_H
#define FS_FUZZ_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* An invariant broke: say which and where, then abort (libFuzzer keeps the input). */
#define FUZZ_CHECK(cond, ...) \
    do { \
        if (!(cond)) { \
            fprintf (stderr, "%s:%d: invariant failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf (stderr, __VA_ARGS__); \
            fputc ('\n', stderr); \
            abort (); \
        } \
    } while (0)

/* A NUL-terminated copy of data[0..size) (embedded NULs stay: C parsers stop
 * at the first one, as they would on a C string).  Caller frees. */
static inline char *fuzz_strndup (const uint8_t *data, size_t size)
{
    char *s = malloc (size + 1);
    if (!s)
        abort ();
    if (size)
        memcpy (s, data, size);
    s[size] = '\0';
    return s;
}

/* Split a NUL-terminated buffer in place at each sep into at most max parts;
 * the last part keeps the rest.  Returns the number of parts (>= 1). */
static inline int fuzz_split (char *s, char sep, char **parts, int max)
{
    int n = 0;
    parts[n++] = s;
    while (n < max) {
        char *p = strchr (parts[n - 1], sep);
        if (!p)
            break;
        *p = '\0';
        parts[n++] = p + 1;
    }
    return n;
}

#endif
