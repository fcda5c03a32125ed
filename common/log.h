/* log.h - one line per event, key=value fields, for the daemons.
 * Daemons never printf: everything goes through log_msg().
 */
#ifndef FS_LOG_H
#define FS_LOG_H

enum { LOG_ERR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* ident: the daemon's name in each line (copied). Lines go to stderr. */
void log_init (const char *ident, int level);
void log_msg (int level, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

#endif
