#include <xxhash.h>

#include "checksum.h"

/* From libxxhash's x86 dispatcher (xxh_x86dispatch.h, not included: it
 * clashes with xxhash.h's own declarations): XXH3 on the widest vector unit
 * this CPU has (AVX2, AVX-512), several times the speed of the baseline SSE2
 * build on pieces of megabytes.  Same function, same value. */
XXH64_hash_t XXH3_64bits_dispatch (const void *input, size_t len);

uint64_t checksum (const void *data, size_t len)
{
#if defined(__x86_64__) || defined(__i386__)
    if (len >= 4096)
        return XXH3_64bits_dispatch (data, len);
#endif
    return XXH3_64bits (data, len);
}
