/* daemon.c - start-up of the daemons (see daemon.h). */
#include <getopt.h>
#include <stdio.h>

#include "daemon.h"
#include "error.h"
#include "log.h"

int daemon_args (int argc, char **argv, const char *usage, const char **cfgfile, int *level,
                 int *exit_now)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    *cfgfile = NULL;
    *level = LOG_INFO;
    optind = 1;
    while ((c = getopt_long (argc, argv, "c:vh", opts, NULL)) != -1) {
        switch (c) {
        case 'c': *cfgfile = optarg; break;
        case 'v': *level = LOG_DEBUG; break;
        case 'h':
            fputs (usage, stdout);
            fputs ("\noptions:", stdout);         /* from the table (shell completion reads it) */
            for (const struct option *o = opts; o->name; o++)
                printf (" --%s%s", o->name, o->has_arg == required_argument ? "=" : "");
            fputs ("\n", stdout);
            *exit_now = 0;
            return -1;
        default: fputs (usage, stderr); *exit_now = FS_EINVAL; return -1;
        }
    }
    if (!*cfgfile || optind < argc) {
        fputs (usage, stderr);
        *exit_now = FS_EINVAL;
        return -1;
    }
    return 0;
}
