/* clock.h - time for the daemons and the command. */
#ifndef FS_CLOCK_H
#define FS_CLOCK_H

/* Wall-clock seconds since the epoch (for times shown to people and stored). */
double clock_wall (void);
/* Monotonic seconds (for timeouts and durations). */
double clock_mono (void);

#endif
