/* store_int.h - what the parts of the store share (store.c: catalog, sites,
 * jobs, tokens; store_apps.c: apps).  Internal to the store: the rest of the
 * scheduler uses store.h. */
#ifndef FS_STORE_INT_H
#define FS_STORE_INT_H

#include <sqlite3.h>

#include "store.h"

struct store {
    sqlite3 *db;
    sqlite3_stmt *task_st;      /* prepared once: written for every task change */
    sqlite3_stmt *job_st;
};

/* A column's text, "" for NULL (borrowed until the next step). */
static inline const char *col_text (sqlite3_stmt *st, int col)
{
    const char *t = (const char *)sqlite3_column_text (st, col);
    return t ? t : "";
}

/* FS_EFAIL "scheduler database: WHAT: SQLite's message"; returns -1. */
static inline int db_error (struct store *s, fs_error_t *err, const char *what)
{
    return errprintf (err, FS_EFAIL, "scheduler database: %s: %s", what, sqlite3_errmsg (s->db));
}

/* The apps' tables (store_apps.c), made on open. */
int store_apps_init (struct store *s, fs_error_t *err);

#endif
