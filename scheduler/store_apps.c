/* store_apps.c - the apps' tables of the scheduler's database (see store.h,
 * "apps"). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/names.h"
#include "store_int.h"

static const char *schema =
    "CREATE TABLE IF NOT EXISTS apps ("
    "  digest TEXT PRIMARY KEY, name TEXT NOT NULL, version TEXT NOT NULL,"
    "  bytes INTEGER NOT NULL, publisher TEXT NOT NULL, publisher_name TEXT NOT NULL,"
    "  signature TEXT NOT NULL, manifest TEXT NOT NULL, published REAL NOT NULL,"
    "  UNIQUE (name, version));"
    "CREATE TABLE IF NOT EXISTS app_sites ("
    "  digest TEXT NOT NULL, site TEXT NOT NULL, PRIMARY KEY (digest, site));"
    "CREATE TABLE IF NOT EXISTS site_apps ("
    "  site TEXT PRIMARY KEY, policy TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS task_apps ("
    "  job INTEGER NOT NULL, idx INTEGER NOT NULL, app TEXT NOT NULL, PRIMARY KEY (job, idx));";

int store_apps_init (struct store *s, fs_error_t *err)
{
    char *msg = NULL;
    if (sqlite3_exec (s->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
        errprintf (err, FS_EFAIL, "cannot initialise the apps' tables: %s", msg ? msg : "?");
        sqlite3_free (msg);
        return -1;
    }
    return 0;
}

/* Run sql with text binds (NULL-terminated), no rows wanted. */
static int exec_texts (struct store *s, const char *sql, const char *what, fs_error_t *err, ...)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2 (s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_error (s, err, what);
    va_list ap;
    va_start (ap, err);
    const char *v;
    for (int i = 1; (v = va_arg (ap, const char *)); i++)
        sqlite3_bind_text (st, i, v, -1, SQLITE_TRANSIENT);
    va_end (ap);
    int rc = sqlite3_step (st) == SQLITE_DONE ? 0 : db_error (s, err, what);
    sqlite3_finalize (st);
    return rc;
}

#define APP_COLS "digest, name, version, bytes, publisher, publisher_name, signature, manifest, published"

/* The row at st (APP_COLS) with its holders. */
static json_t *app_row (struct store *s, sqlite3_stmt *st)
{
    json_t *manifest = json_loads (col_text (st, 7), 0, NULL);
    json_t *o = json_pack ("{s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:o, s:f}", "name",
                           col_text (st, 1), "version", col_text (st, 2), "digest",
                           col_text (st, 0), "bytes", (json_int_t)sqlite3_column_int64 (st, 3),
                           "publisher", col_text (st, 4), "publisher_name", col_text (st, 5),
                           "signature", col_text (st, 6), "manifest",
                           manifest ? manifest : json_object (), "published",
                           sqlite3_column_double (st, 8));
    json_t *sites = json_array ();
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2 (s->db, "SELECT site FROM app_sites WHERE digest = ? ORDER BY site",
                            -1, &q, NULL) == SQLITE_OK) {
        sqlite3_bind_text (q, 1, col_text (st, 0), -1, SQLITE_TRANSIENT);
        while (sqlite3_step (q) == SQLITE_ROW)
            json_array_append_new (sites, json_string (col_text (q, 0)));
        sqlite3_finalize (q);
    }
    json_object_set_new (o, "sites", sites);
    return o;
}

int store_app_add (struct store *s, const json_t *meta, const char *site, double now,
                   fs_error_t *err)
{
    const char *name, *version, *digest, *publisher, *pname = "", *sig;
    json_int_t bytes;
    json_t *manifest;
    json_error_t je;
    if (json_unpack_ex ((json_t *)meta, &je, 0, "{s:s, s:s, s:s, s:I, s:s, s?s, s:s, s:o}",
                        "name", &name, "version", &version, "digest", &digest, "bytes", &bytes,
                        "publisher", &publisher, "publisher_name", &pname, "signature", &sig,
                        "manifest", &manifest) < 0)
        return errprintf (err, FS_EINVAL, "app record: %s", je.text);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2 (s->db, "SELECT digest FROM apps WHERE name = ? AND version = ?", -1,
                            &st, NULL) != SQLITE_OK)
        return db_error (s, err, "look an app up");
    sqlite3_bind_text (st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text (st, 2, version, -1, SQLITE_STATIC);
    int known = 0;
    if (sqlite3_step (st) == SQLITE_ROW) {
        if (strcmp (col_text (st, 0), digest)) {
            errprintf (err, FS_EFAIL, "%s@%s is already published with other content (%s, not "
                       "%s): a published version never changes; publish a new version", name,
                       version, col_text (st, 0), digest);
            sqlite3_finalize (st);
            return -1;
        }
        known = 1;
    }
    sqlite3_finalize (st);
    char *mtext = json_dumps (manifest, JSON_COMPACT | JSON_SORT_KEYS);
    char b[32], t[64];
    snprintf (b, sizeof (b), "%lld", (long long)bytes);
    snprintf (t, sizeof (t), "%.6f", now);
    int rc = 0;
    if (!known)
        rc = exec_texts (s, "INSERT INTO apps (" APP_COLS ") VALUES (?1, ?2, ?3, CAST(?4 AS INTEGER), "
                         "?5, ?6, ?7, ?8, CAST(?9 AS REAL))", "publish an app", err, digest, name,
                         version, b, publisher, pname, sig, mtext ? mtext : "{}", t, NULL);
    free (mtext);
    if (rc == 0)
        rc = exec_texts (s, "INSERT OR IGNORE INTO app_sites (digest, site) VALUES (?1, ?2)",
                         "record an app's site", err, digest, site, NULL);
    return rc < 0 ? -1 : !known;
}

json_t *store_app_get (struct store *s, const char *name, const char *version, fs_error_t *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2 (s->db, "SELECT " APP_COLS " FROM apps WHERE name = ? AND version = ?",
                            -1, &st, NULL) != SQLITE_OK) {
        db_error (s, err, "look an app up");
        return NULL;
    }
    sqlite3_bind_text (st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text (st, 2, version, -1, SQLITE_STATIC);
    json_t *o = NULL;
    if (sqlite3_step (st) == SQLITE_ROW)
        o = app_row (s, st);
    else
        errprintf (err, FS_ENOTFOUND, "unknown app %s@%s (see 'fedsched apps')", name, version);
    sqlite3_finalize (st);
    return o;
}

json_t *store_apps (struct store *s, const char *glob, fs_error_t *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2 (s->db, "SELECT " APP_COLS " FROM apps ORDER BY name, published",
                            -1, &st, NULL) != SQLITE_OK) {
        db_error (s, err, "list apps");
        return NULL;
    }
    json_t *a = json_array ();
    while (sqlite3_step (st) == SQLITE_ROW)
        if (!glob || !*glob || name_glob (glob, col_text (st, 1)))
            json_array_append_new (a, app_row (s, st));
    sqlite3_finalize (st);
    return a;
}

int store_app_held (struct store *s, const char *site, const json_t *digests, fs_error_t *err)
{
    if (exec_texts (s, "DELETE FROM app_sites WHERE site = ?1", "forget a site's apps", err, site,
                    NULL) < 0)
        return -1;
    size_t i;
    json_t *d;
    json_array_foreach (digests, i, d) {
        const char *digest = json_string_value (d);
        if (digest && exec_texts (s, "INSERT OR IGNORE INTO app_sites (digest, site) SELECT ?1, ?2 "
                                  "WHERE EXISTS (SELECT 1 FROM apps WHERE digest = ?1)",
                                  "record an app's site", err, digest, site, NULL) < 0)
            return -1;
    }
    return 0;
}

int store_site_apps_save (struct store *s, const char *site, const json_t *policy,
                          fs_error_t *err)
{
    char *text = json_dumps (policy, JSON_COMPACT | JSON_SORT_KEYS);
    int rc = text ? exec_texts (s, "INSERT OR REPLACE INTO site_apps (site, policy) VALUES (?1, ?2)",
                                "keep a site's apps policy", err, site, text, NULL)
                  : errprintf (err, FS_EFAIL, "out of memory");
    free (text);
    return rc;
}

json_t *store_site_apps (struct store *s, fs_error_t *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2 (s->db, "SELECT site, policy FROM site_apps", -1, &st, NULL) != SQLITE_OK) {
        db_error (s, err, "sites' apps policies");
        return NULL;
    }
    json_t *o = json_object ();
    while (sqlite3_step (st) == SQLITE_ROW) {
        json_t *p = json_loads (col_text (st, 1), 0, NULL);
        if (p)
            json_object_set_new (o, col_text (st, 0), p);
    }
    sqlite3_finalize (st);
    return o;
}

int store_task_app_save (struct store *s, int64_t job, size_t idx, const char *ref,
                         fs_error_t *err)
{
    char j[32], k[32];
    snprintf (j, sizeof (j), "%lld", (long long)job);
    snprintf (k, sizeof (k), "%zu", idx);
    return exec_texts (s, "INSERT OR REPLACE INTO task_apps (job, idx, app) VALUES "
                       "(CAST(?1 AS INTEGER), CAST(?2 AS INTEGER), ?3)", "record a task's app",
                       err, j, k, ref, NULL);
}

json_t *store_task_apps (struct store *s, int64_t job, fs_error_t *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2 (s->db, "SELECT idx, app FROM task_apps WHERE job = ?", -1, &st, NULL)
        != SQLITE_OK) {
        db_error (s, err, "tasks' apps");
        return NULL;
    }
    sqlite3_bind_int64 (st, 1, job);
    json_t *o = json_object ();
    while (sqlite3_step (st) == SQLITE_ROW) {
        char k[32];
        snprintf (k, sizeof (k), "%d", sqlite3_column_int (st, 0));
        json_object_set_new (o, k, json_string (col_text (st, 1)));
    }
    sqlite3_finalize (st);
    return o;
}
