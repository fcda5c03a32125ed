/* clock.h - time for the daemons and the command: the one place that reads a
 * clock or writes a time for people (ISO 8601, UTC, as SPEC and the logs
 * show it). */
#ifndef FS_CLOCK_H
#define FS_CLOCK_H

#include <stdbool.h>
#include <stddef.h>

/* Wall-clock seconds since the epoch (for times shown to people and stored). */
double clock_wall (void);
/* Monotonic seconds (for timeouts and durations). */
double clock_mono (void);
/* CPU seconds this process has used (all its threads). */
double clock_cpu (void);

/* t (seconds since the epoch) as ISO 8601 UTC into buf: "2026-11-27T07:21:40Z",
 * or with millis "2026-11-27T07:21:40.123Z"; returns buf ("" when n is too
 * small). */
char *clock_iso (double t, bool millis, char *buf, size_t n);
/* An ISO 8601 UTC time as clock_iso() writes it (a fraction of a second is
 * ignored) as seconds since the epoch; -1 if s is not one. */
double clock_iso_parse (const char *s);
/* t as the local time of day "HH:MM:SS" (for lines a person watches). */
char *clock_local_hms (double t, char *buf, size_t n);

#endif
