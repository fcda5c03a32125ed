/* store_int.h - what the files of the store module share (store.c: the
 * catalog, sites, jobs, tokens; store_apps.c: apps; store_meta.c: datasets'
 * metadata and its full-text index).  Not for use outside scheduler/store*.c. */
#ifndef FS_STORE_INT_H
#define FS_STORE_INT_H

#include <jansson.h>
#include <sqlite3.h>

#include "common/error.h"
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

/* errprintf "scheduler database: WHAT: <sqlite's message>" (FS_EFAIL); -1. */
int db_error (struct store *s, fs_error_t *err, const char *what);

/* The apps' tables (store_apps.c), made on open. */
int store_apps_init (struct store *s, fs_error_t *err);

/* Create the metadata tables and the FTS5 index (store_open). */
int store_meta_init (struct store *s, fs_error_t *err);
/* Keep the metadata of dataset name (inside store_register's transaction):
 * meta (borrowed) replaces what was kept; NULL keeps it (an entry from a
 * worker that sends none, or a registration again after a restart).  -1
 * only on a database error; malformed metadata is kept as its error. */
int store_meta_put (struct store *s, const char *name, const json_t *meta, fs_error_t *err);

#endif
