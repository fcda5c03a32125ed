/* checksum.h - the checksum of each data-plane piece (XXH3, 64 bits). */
#ifndef FS_CHECKSUM_H
#define FS_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

uint64_t checksum (const void *data, size_t len);

#endif
