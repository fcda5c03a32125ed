/* worker.h - the site daemon (SPEC section 1). */
#ifndef FS_WORKER_H
#define FS_WORKER_H

/* fedsched worker -c site.yaml: runs until SIGTERM/SIGINT; returns the exit code. */
int worker_main (int argc, char **argv);

#endif
