/* units.h - durations, sizes and rates as people write them, in configuration
 * files (through ydoc.h's ynode_duration/size/rate), scenarios and flags.
 *
 *   durations: "90", "90s", "250ms", "10m", "2h", "1d", "HH:MM:SS", "MM:SS"
 *              -> seconds (at most 1e9 s)
 *   sizes:     "512", "4MiB", "1GB", "1.5 GiB" -> bytes (decimal kB/MB/GB/TB/PB/EB,
 *              binary KiB/MiB/GiB/TiB/PiB/EiB; whole bytes)
 *   rates:     "100MB/s", "1.5GB/s", "1GiB/s", "10Gbit/s", "800Mbps", or a bare
 *              number of bytes/s -> bytes/s (> 0)
 *
 * Numbers are unsigned decimals ("1", "1.5", ".5"): no sign, exponent, hex,
 * inf or nan.  Errors are FS_EINVAL with the value quoted and what is
 * expected ("invalid size '4 MB/s': expected a number of bytes with ...").
 */
#ifndef FS_UNITS_H
#define FS_UNITS_H

#include <stdint.h>

#include "error.h"

int parse_duration (const char *s, double *seconds, fs_error_t *err);
int parse_size (const char *s, uint64_t *bytes, fs_error_t *err);
int parse_rate (const char *s, double *bytes_per_s, fs_error_t *err);

#endif
