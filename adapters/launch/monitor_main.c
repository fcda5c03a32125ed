/* monitor_main.c - the fedsched-monitor program: one task under a worker
 * (see adapters/launch/monitor.c).  Kept out of the fedsched executable so
 * that each task costs the exec of a small program, not of the whole tool. */
#include "adapters/launch/launch.h"

int main (int argc, char **argv)
{
    return launch_monitor_main (argc, argv);
}
