/* scheduler.h - the federation's central daemon (SPEC section 1). */
#ifndef FS_SCHEDULER_H
#define FS_SCHEDULER_H

/* fedsched scheduler -c federation.yaml: runs until SIGTERM/SIGINT.
 * Returns the process exit code. */
int scheduler_main (int argc, char **argv);

#endif
