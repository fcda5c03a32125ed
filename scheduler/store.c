/* store.c - SQLite catalog and site registry (see store.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "common/dtype.h"
#include "common/names.h"
#include "common/policy.h"
#include "common/slice.h"
#include "store.h"
#include "store_int.h"


static const char *schema =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=FULL;"
    "CREATE TABLE IF NOT EXISTS datasets ("
    "  name TEXT PRIMARY KEY, shape TEXT NOT NULL, dtype TEXT NOT NULL, chunks TEXT,"
    "  bytes INTEGER NOT NULL, policy TEXT NOT NULL, version INTEGER NOT NULL DEFAULT 1);"
    "CREATE TABLE IF NOT EXISTS replicas ("
    "  name TEXT NOT NULL, site TEXT NOT NULL, file TEXT NOT NULL, path TEXT NOT NULL,"
    "  PRIMARY KEY (name, site));"
    "CREATE INDEX IF NOT EXISTS replicas_site ON replicas(site);"
    "CREATE TABLE IF NOT EXISTS sites ("
    "  name TEXT PRIMARY KEY, region TEXT, data_uri TEXT, cores INTEGER,"
    "  drained INTEGER NOT NULL DEFAULT 0, reason TEXT, curve_key TEXT);"
    "CREATE TABLE IF NOT EXISTS jobs ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, file TEXT NOT NULL,"
    "  text TEXT NOT NULL, state TEXT NOT NULL, submitted REAL NOT NULL, ended REAL);"
    "CREATE TABLE IF NOT EXISTS tasks ("
    "  job INTEGER NOT NULL, idx INTEGER NOT NULL, name TEXT NOT NULL, state TEXT NOT NULL,"
    "  site TEXT NOT NULL DEFAULT '', ranks INTEGER NOT NULL, exit_code INTEGER NOT NULL,"
    "  started REAL, ended REAL, bytes_local INTEGER NOT NULL DEFAULT 0,"
    "  bytes_moved INTEGER NOT NULL DEFAULT 0, attempt INTEGER NOT NULL DEFAULT 0,"
    "  error TEXT NOT NULL DEFAULT '', placement TEXT, PRIMARY KEY (job, idx));"
    "CREATE TABLE IF NOT EXISTS link_rates ("
    "  src TEXT NOT NULL, dst TEXT NOT NULL, bandwidth REAL NOT NULL,"
    "  samples INTEGER NOT NULL, PRIMARY KEY (src, dst));"
    "CREATE TABLE IF NOT EXISTS runtimes ("
    "  command TEXT PRIMARY KEY, runtime REAL NOT NULL, bytes REAL NOT NULL,"
    "  samples INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS tokens ("
    "  token TEXT PRIMARY KEY, op TEXT NOT NULL, reply TEXT NOT NULL, created REAL NOT NULL);"
    "CREATE INDEX IF NOT EXISTS tokens_created ON tokens(created);";

/* Columns added since the first release: added to older databases on open
 * (the error of one that is there already is expected). */
static const char *const upgrades[] = {
    "ALTER TABLE tasks ADD COLUMN failures INTEGER NOT NULL DEFAULT -1",
    NULL,
};

int db_error (struct store *s, fs_error_t *err, const char *what)
{
    return errprintf (err, FS_EFAIL, "scheduler database: %s: %s", what, sqlite3_errmsg (s->db));
}

struct store *store_open (const char *path, fs_error_t *err)
{
    struct store *s = calloc (1, sizeof (*s));
    if (!s) {
        errprintf (err, FS_EFAIL, "out of memory");
        return NULL;
    }
    if (sqlite3_open (path, &s->db) != SQLITE_OK) {
        errprintf (err, FS_EFAIL, "cannot open scheduler database %s: %s", path,
                   s->db ? sqlite3_errmsg (s->db) : "out of memory");
        store_close (s);
        return NULL;
    }
    sqlite3_busy_timeout (s->db, 5000);
    char *msg = NULL;
    if (sqlite3_exec (s->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
        errprintf (err, FS_EFAIL, "cannot initialise scheduler database %s: %s", path, msg);
        sqlite3_free (msg);
        store_close (s);
        return NULL;
    }
    for (int i = 0; upgrades[i]; i++)
        sqlite3_exec (s->db, upgrades[i], NULL, NULL, NULL);
    if (store_apps_init (s, err) < 0 || store_meta_init (s, err) < 0) {
        errprefix (err, "scheduler database %s", path);
        store_close (s);
        return NULL;
    }
    return s;
}

void store_close (struct store *s)
{
    if (!s)
        return;
    sqlite3_finalize (s->task_st);
    sqlite3_finalize (s->job_st);
    sqlite3_close (s->db);
    free (s);
}

/* Validate one registration entry; fills the normalised text columns. */
static int entry_check (const json_t *e, const char **name, char **shape, const char **dtype,
                        char **chunks, int64_t *bytes, char *policy, size_t policysz,
                        const char **file, const char **path, fs_error_t *err)
{
    json_t *jshape, *jchunks = NULL;
    const char *pol;
    json_error_t jerr;
    if (json_unpack_ex ((json_t *)e, &jerr, 0, "{s:s, s:s, s:s, s:o, s:s, s?o, s:s}", "name", name,
                        "file", file, "path", path, "shape", &jshape, "dtype", dtype, "chunks",
                        &jchunks, "policy", &pol) < 0)
        return errprintf (err, FS_EINVAL, "malformed dataset entry: %s", jerr.text);
    if (name_valid (*name, err) < 0)
        return -1;
    fs_dtype_t dt = dtype_parse (*dtype);
    if (dt == FS_DT_INVALID)
        return errprintf (err, FS_EINVAL, "unsupported element type '%s'", *dtype);
    if (!json_is_array (jshape) || json_array_size (jshape) > FS_MAXDIMS)
        return errprintf (err, FS_EINVAL, "shape must be an array of at most %d sizes", FS_MAXDIMS);
    size_t i;
    json_t *v;
    uint64_t n = 1;
    bool overflow = false;
    json_array_foreach (jshape, i, v) {
        if (!json_is_integer (v) || json_integer_value (v) < 0)
            return errprintf (err, FS_EINVAL, "shape entries must be non-negative integers");
        uint64_t d = (uint64_t)json_integer_value (v);
        if (d && n > UINT64_MAX / d)
            overflow = true;
        n *= d;
    }
    if (overflow || n > (uint64_t)INT64_MAX / dtype_size (dt))
        return errprintf (err, FS_EINVAL, "dataset too large");
    if (jchunks && !json_is_null (jchunks)) {
        if (!json_is_array (jchunks) || json_array_size (jchunks) != json_array_size (jshape))
            return errprintf (err, FS_EINVAL, "chunks must have one size per dimension");
        json_array_foreach (jchunks, i, v)
            if (!json_is_integer (v) || json_integer_value (v) < 1)
                return errprintf (err, FS_EINVAL, "chunk sizes must be positive integers");
    }
    fs_policy_t p;
    if (policy_parse (pol, &p, err) < 0 || policy_check_rank (&p, (int)json_array_size (jshape), err) < 0)
        return -1;
    policy_format (&p, policy, policysz);
    *bytes = (int64_t)(n * dtype_size (dt));
    *shape = json_dumps (jshape, JSON_COMPACT);
    *chunks = (jchunks && !json_is_null (jchunks)) ? json_dumps (jchunks, JSON_COMPACT) : NULL;
    return 0;
}

/* Is name already published elsewhere with a different shape, type or policy? */
static int entry_conflict (struct store *s, const char *site, const char *name, const char *shape,
                           const char *dtype, const char *policy, fs_error_t *err)
{
    sqlite3_stmt *st;
    int rc = 0;
    sqlite3_prepare_v2 (s->db,
                        "SELECT d.shape, d.dtype, d.policy, r.site FROM datasets d JOIN replicas r "
                        "ON r.name = d.name WHERE d.name = ?1 AND r.site != ?2 LIMIT 1",
                        -1, &st, NULL);
    sqlite3_bind_text (st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text (st, 2, site, -1, SQLITE_STATIC);
    if (sqlite3_step (st) == SQLITE_ROW) {
        const char *oshape = (const char *)sqlite3_column_text (st, 0);
        const char *odtype = (const char *)sqlite3_column_text (st, 1);
        const char *opolicy = (const char *)sqlite3_column_text (st, 2);
        const char *osite = (const char *)sqlite3_column_text (st, 3);
        if (strcmp (oshape, shape) || strcmp (odtype, dtype))
            rc = errprintf (err, FS_EFAIL,
                            "name is already published at site %s as a different dataset "
                            "(%s %s); choose another name with --name",
                            osite, odtype, oshape);
        else if (strcmp (opolicy, policy))
            rc = errprintf (err, FS_EFAIL,
                            "replica at site %s has policy '%s'; every replica of a dataset must "
                            "have the same policy",
                            osite, opolicy);
    }
    sqlite3_finalize (st);
    return rc;
}

int store_register (struct store *s, const char *site, const json_t *datasets, json_t **refused,
                    fs_error_t *err)
{
    *refused = json_array ();
    if (!json_is_array (datasets))
        return errprintf (err, FS_EINVAL, "datasets must be an array");
    if (sqlite3_exec (s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return db_error (s, err, "begin");
    sqlite3_stmt *ds, *rep;
    sqlite3_prepare_v2 (s->db,
                        "INSERT INTO datasets (name, shape, dtype, chunks, bytes, policy) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(name) DO UPDATE SET "
                        "shape = ?2, dtype = ?3, chunks = ?4, bytes = ?5, policy = ?6, "
                        "version = version + (shape != ?2 OR dtype != ?3)",
                        -1, &ds, NULL);
    sqlite3_prepare_v2 (s->db, "INSERT OR REPLACE INTO replicas (name, site, file, path) "
                               "VALUES (?1, ?2, ?3, ?4)",
                        -1, &rep, NULL);
    int count = 0;
    size_t i;
    json_t *e;
    json_array_foreach (datasets, i, e) {
        const char *name = NULL, *dtype, *file, *path;
        char *shape = NULL, *chunks = NULL, policy[1024];
        int64_t bytes = 0;
        fs_error_t eerr;
        if (entry_check (e, &name, &shape, &dtype, &chunks, &bytes, policy, sizeof (policy), &file,
                         &path, &eerr) < 0
            || entry_conflict (s, site, name, shape, dtype, policy, &eerr) < 0) {
            json_array_append_new (*refused, json_pack ("{s:s, s:s}", "name",
                                                         name ? name : "?", "reason", eerr.text));
            free (shape);
            free (chunks);
            continue;
        }
        sqlite3_bind_text (ds, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_text (ds, 2, shape, -1, SQLITE_STATIC);
        sqlite3_bind_text (ds, 3, dtype, -1, SQLITE_STATIC);
        if (chunks)
            sqlite3_bind_text (ds, 4, chunks, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null (ds, 4);
        sqlite3_bind_int64 (ds, 5, bytes);
        sqlite3_bind_text (ds, 6, policy, -1, SQLITE_STATIC);
        int r1 = sqlite3_step (ds);
        sqlite3_reset (ds);
        sqlite3_bind_text (rep, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_text (rep, 2, site, -1, SQLITE_STATIC);
        sqlite3_bind_text (rep, 3, file, -1, SQLITE_STATIC);
        sqlite3_bind_text (rep, 4, path, -1, SQLITE_STATIC);
        int r2 = sqlite3_step (rep);
        sqlite3_reset (rep);
        free (shape);
        free (chunks);
        if (r1 == SQLITE_DONE && r2 == SQLITE_DONE
            && store_meta_put (s, name, json_object_get (e, "meta"), err) < 0)
            r1 = SQLITE_ERROR;
        if (r1 != SQLITE_DONE || r2 != SQLITE_DONE) {
            sqlite3_finalize (ds);
            sqlite3_finalize (rep);
            db_error (s, err, "register");
            sqlite3_exec (s->db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
        count++;
    }
    sqlite3_finalize (ds);
    sqlite3_finalize (rep);
    if (sqlite3_exec (s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        db_error (s, err, "commit");
        sqlite3_exec (s->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return count;
}

static json_t *json_col (sqlite3_stmt *st, int col)
{
    const char *t = (const char *)sqlite3_column_text (st, col);
    json_t *v = t ? json_loads (t, 0, NULL) : NULL;
    return v ? v : json_null ();
}

static json_t *replicas_of (struct store *s, const char *name, bool full)
{
    json_t *a = json_array ();
    sqlite3_stmt *st;
    sqlite3_prepare_v2 (s->db, "SELECT site, file, path FROM replicas WHERE name = ? ORDER BY site",
                        -1, &st, NULL);
    sqlite3_bind_text (st, 1, name, -1, SQLITE_STATIC);
    while (sqlite3_step (st) == SQLITE_ROW) {
        json_t *r = json_pack ("{s:s}", "site", sqlite3_column_text (st, 0));
        if (full) {
            json_object_set_new (r, "file", json_string ((const char *)sqlite3_column_text (st, 1)));
            json_object_set_new (r, "path", json_string ((const char *)sqlite3_column_text (st, 2)));
        }
        json_array_append_new (a, r);
    }
    sqlite3_finalize (st);
    return a;
}

static json_t *dataset_row (struct store *s, sqlite3_stmt *st, bool full)
{
    const char *name = (const char *)sqlite3_column_text (st, 0);
    json_t *shape = json_col (st, 1);
    json_t *d = json_pack ("{s:s, s:o, s:s, s:o, s:I, s:o, s:s}", "name", name, "shape", shape,
                           "dtype", sqlite3_column_text (st, 2), "chunks", json_col (st, 3),
                           "bytes", (json_int_t)sqlite3_column_int64 (st, 4), "replicas",
                           replicas_of (s, name, full), "policy", sqlite3_column_text (st, 5));
    if (full) {
        json_object_set_new (d, "ndims", json_integer ((json_int_t)json_array_size (shape)));
        json_object_set_new (d, "version", json_integer (sqlite3_column_int64 (st, 6)));
    }
    return d;
}

json_t *store_catalog (struct store *s, const char *glob, fs_error_t *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2 (s->db, "SELECT name, shape, dtype, chunks, bytes, policy, version "
                                   "FROM datasets WHERE EXISTS (SELECT 1 FROM replicas r "
                                   "WHERE r.name = datasets.name) ORDER BY name",
                            -1, &st, NULL) != SQLITE_OK) {
        db_error (s, err, "catalog");
        return NULL;
    }
    json_t *a = json_array ();
    while (sqlite3_step (st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text (st, 0);
        if (glob && *glob && !name_glob (glob, name))
            continue;
        json_array_append_new (a, dataset_row (s, st, false));
    }
    sqlite3_finalize (st);
    return a;
}

json_t *store_lookup (struct store *s, const char *name, fs_error_t *err)
{
    sqlite3_stmt *st;
    sqlite3_prepare_v2 (s->db, "SELECT name, shape, dtype, chunks, bytes, policy, version "
                               "FROM datasets WHERE name = ?",
                        -1, &st, NULL);
    sqlite3_bind_text (st, 1, name, -1, SQLITE_STATIC);
    json_t *d = NULL;
    if (sqlite3_step (st) == SQLITE_ROW)
        d = dataset_row (s, st, true);
    sqlite3_finalize (st);
    if (d && json_array_size (json_object_get (d, "replicas")) == 0) {
        json_decref (d);
        d = NULL;
    }
    if (!d)
        errprintf (err, FS_ENOTFOUND, "unknown dataset '%s' (see 'fedsched catalog')", name);
    return d;
}

int store_site_datasets (struct store *s, const char *site)
{
    sqlite3_stmt *st;
    sqlite3_prepare_v2 (s->db, "SELECT COUNT(*) FROM replicas WHERE site = ?", -1, &st, NULL);
    sqlite3_bind_text (st, 1, site, -1, SQLITE_STATIC);
    int n = sqlite3_step (st) == SQLITE_ROW ? sqlite3_column_int (st, 0) : 0;
    sqlite3_finalize (st);
    return n;
}

int store_site_save (struct store *s, const char *name, const char *region, const char *data_uri,
                     int cores, const char *curve_key, fs_error_t *err)
{
    sqlite3_stmt *st;
    sqlite3_prepare_v2 (s->db,
                        "INSERT INTO sites (name, region, data_uri, cores, curve_key) "
                        "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(name) DO UPDATE SET "
                        "region = ?2, data_uri = ?3, cores = ?4, curve_key = ?5",
                        -1, &st, NULL);
    sqlite3_bind_text (st, 5, curve_key ? curve_key : "", -1, SQLITE_STATIC);
    sqlite3_bind_text (st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text (st, 2, region, -1, SQLITE_STATIC);
    sqlite3_bind_text (st, 3, data_uri, -1, SQLITE_STATIC);
    sqlite3_bind_int (st, 4, cores);
    int rc = sqlite3_step (st) == SQLITE_DONE ? 0 : db_error (s, err, "save site");
    sqlite3_finalize (st);
    return rc;
}

int store_site_drain (struct store *s, const char *name, int drained, const char *reason,
                      fs_error_t *err)
{
    sqlite3_stmt *st;
    sqlite3_prepare_v2 (s->db, "UPDATE sites SET drained = ?2, reason = ?3 WHERE name = ?1", -1,
                        &st, NULL);
    sqlite3_bind_text (st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int (st, 2, drained);
    sqlite3_bind_text (st, 3, reason, -1, SQLITE_STATIC);
    int rc = sqlite3_step (st) == SQLITE_DONE ? 0 : db_error (s, err, "drain site");
    sqlite3_finalize (st);
    return rc;
}

json_t *store_sites (struct store *s, fs_error_t *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2 (s->db, "SELECT name, region, data_uri, cores, drained, reason, "
                                   "curve_key FROM sites ORDER BY name",
                            -1, &st, NULL) != SQLITE_OK) {
        db_error (s, err, "sites");
        return NULL;
    }
    json_t *a = json_array ();
    while (sqlite3_step (st) == SQLITE_ROW) {
        const char *reason = (const char *)sqlite3_column_text (st, 5);
        const char *key = (const char *)sqlite3_column_text (st, 6);
        json_array_append_new (
            a, json_pack ("{s:s, s:s, s:s, s:i, s:b, s:s}", "name", sqlite3_column_text (st, 0),
                          "region", sqlite3_column_text (st, 1) ? (const char *)sqlite3_column_text (st, 1) : "",
                          "data_uri", sqlite3_column_text (st, 2) ? (const char *)sqlite3_column_text (st, 2) : "",
                          "cores", sqlite3_column_int (st, 3), "drained",
                          sqlite3_column_int (st, 4), "reason", reason ? reason : ""));
        json_object_set_new (json_array_get (a, json_array_size (a) - 1), "curve_key",
                             json_string (key ? key : ""));
    }
    sqlite3_finalize (st);
    return a;
}

json_t *store_task_placement (struct store *s, int64_t job, size_t idx)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2 (s->db, "SELECT placement FROM tasks WHERE job = ?1 AND idx = ?2", -1,
                            &st, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_int64 (st, 1, job);
    sqlite3_bind_int64 (st, 2, (sqlite3_int64)idx);
    json_t *r = NULL;
    if (sqlite3_step (st) == SQLITE_ROW && sqlite3_column_type (st, 0) != SQLITE_NULL)
        r = json_loads ((const char *)sqlite3_column_text (st, 0), 0, NULL);
    sqlite3_finalize (st);
    return r;
}

/* --- measured link rates ------------------------------------------------ */

int store_link_save (struct store *s, const char *src, const char *dst, double bandwidth,
                     unsigned samples, fs_error_t *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2 (s->db,
                            "INSERT INTO link_rates (src, dst, bandwidth, samples) VALUES (?1, ?2, ?3, ?4) "
                            "ON CONFLICT(src, dst) DO UPDATE SET bandwidth = ?3, samples = ?4",
                            -1, &st, NULL) != SQLITE_OK)
        return db_error (s, err, "save link rate");
    sqlite3_bind_text (st, 1, src, -1, SQLITE_STATIC);
    sqlite3_bind_text (st, 2, dst, -1, SQLITE_STATIC);
    sqlite3_bind_double (st, 3, bandwidth);
    sqlite3_bind_int64 (st, 4, samples);
    int rc = sqlite3_step (st) == SQLITE_DONE ? 0 : db_error (s, err, "save link rate");
    sqlite3_finalize (st);
    return rc;
}

json_t *store_links (struct store *s, fs_error_t *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2 (s->db, "SELECT src, dst, bandwidth, samples FROM link_rates", -1, &st,
                            NULL) != SQLITE_OK) {
        db_error (s, err, "link rates");
        return NULL;
    }
    json_t *a = json_array ();
    while (sqlite3_step (st) == SQLITE_ROW)
        json_array_append_new (a, json_pack ("{s:s, s:s, s:f, s:I}", "src",
                                             (const char *)sqlite3_column_text (st, 0), "dst",
                                             (const char *)sqlite3_column_text (st, 1), "bandwidth",
                                             sqlite3_column_double (st, 2), "samples",
                                             (json_int_t)sqlite3_column_int64 (st, 3)));
    sqlite3_finalize (st);
    return a;
}

/* --- measured runtimes ---------------------------------------------- */

int store_runtime_save (struct store *s, const char *command, double runtime_s, double bytes,
                        unsigned samples, fs_error_t *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2 (s->db,
                            "INSERT INTO runtimes (command, runtime, bytes, samples) "
                            "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(command) DO UPDATE SET "
                            "runtime = ?2, bytes = ?3, samples = ?4",
                            -1, &st, NULL) != SQLITE_OK)
        return db_error (s, err, "save runtime");
    sqlite3_bind_text (st, 1, command, -1, SQLITE_STATIC);
    sqlite3_bind_double (st, 2, runtime_s);
    sqlite3_bind_double (st, 3, bytes);
    sqlite3_bind_int64 (st, 4, samples);
    int rc = sqlite3_step (st) == SQLITE_DONE ? 0 : db_error (s, err, "save runtime");
    sqlite3_finalize (st);
    return rc;
}

int store_runtimes_load (struct store *s, store_runtime_f fn, void *arg, fs_error_t *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2 (s->db, "SELECT command, runtime, bytes, samples FROM runtimes", -1,
                            &st, NULL) != SQLITE_OK)
        return db_error (s, err, "runtimes");
    while (sqlite3_step (st) == SQLITE_ROW)
        fn (arg, (const char *)sqlite3_column_text (st, 0), sqlite3_column_double (st, 1),
            sqlite3_column_double (st, 2), (unsigned)sqlite3_column_int64 (st, 3));
    sqlite3_finalize (st);
    return 0;
}

/* --- jobs ------------------------------------------------------------ */

int store_begin (struct store *s, fs_error_t *err)
{
    if (sqlite3_exec (s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return db_error (s, err, "begin");
    return 0;
}

int store_commit (struct store *s, fs_error_t *err)
{
    if (sqlite3_exec (s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        db_error (s, err, "commit");
        sqlite3_exec (s->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

void store_rollback (struct store *s)
{
    sqlite3_exec (s->db, "ROLLBACK", NULL, NULL, NULL);
}

static void bind_time (sqlite3_stmt *st, int col, double t)
{
    if (t > 0)
        sqlite3_bind_double (st, col, t);
    else
        sqlite3_bind_null (st, col);
}

static int task_write (struct store *s, int64_t job, size_t idx, const struct store_task *t)
{
    if (!s->task_st
        && sqlite3_prepare_v2 (s->db,
                               "INSERT OR REPLACE INTO tasks (job, idx, name, state, site, ranks, "
                               "exit_code, started, ended, bytes_local, bytes_moved, attempt, error, "
                               "placement, failures) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
                               "?10, ?11, ?12, ?13, ?14, ?15)",
                               -1, &s->task_st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_stmt *st = s->task_st;
    sqlite3_bind_int64 (st, 1, job);
    sqlite3_bind_int64 (st, 2, (sqlite3_int64)idx);
    sqlite3_bind_text (st, 3, t->name, -1, SQLITE_STATIC);
    sqlite3_bind_text (st, 4, t->state, -1, SQLITE_STATIC);
    sqlite3_bind_text (st, 5, t->site ? t->site : "", -1, SQLITE_STATIC);
    sqlite3_bind_int (st, 6, t->ranks);
    sqlite3_bind_int (st, 7, t->exit_code);
    bind_time (st, 8, t->started);
    bind_time (st, 9, t->ended);
    sqlite3_bind_int64 (st, 10, t->bytes_local);
    sqlite3_bind_int64 (st, 11, t->bytes_moved);
    sqlite3_bind_int (st, 12, t->attempt);
    sqlite3_bind_text (st, 13, t->error ? t->error : "", -1, SQLITE_STATIC);
    if (t->placement)
        sqlite3_bind_text (st, 14, t->placement, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null (st, 14);
    sqlite3_bind_int (st, 15, t->failures);
    int rc = sqlite3_step (st) == SQLITE_DONE ? 0 : -1;
    sqlite3_reset (st);
    sqlite3_clear_bindings (st);
    return rc;
}

int64_t store_job_insert (struct store *s, const char *name, const char *file, const char *text,
                          double submitted, const char *state, size_t ntasks,
                          const struct store_task *tasks, fs_error_t *err)
{
    if (store_begin (s, err) < 0)
        return -1;
    int64_t id = store_job_add (s, name, file, text, submitted, state, ntasks, tasks, err);
    if (id < 0) {
        sqlite3_exec (s->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return store_commit (s, err) < 0 ? -1 : id;
}

int64_t store_job_add (struct store *s, const char *name, const char *file, const char *text,
                       double submitted, const char *state, size_t ntasks,
                       const struct store_task *tasks, fs_error_t *err)
{
    sqlite3_stmt *st;
    sqlite3_prepare_v2 (s->db, "INSERT INTO jobs (name, file, text, state, submitted) "
                               "VALUES (?1, ?2, ?3, ?4, ?5)",
                        -1, &st, NULL);
    sqlite3_bind_text (st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text (st, 2, file, -1, SQLITE_STATIC);
    sqlite3_bind_text (st, 3, text, -1, SQLITE_STATIC);
    sqlite3_bind_text (st, 4, state, -1, SQLITE_STATIC);
    sqlite3_bind_double (st, 5, submitted);
    int ok = sqlite3_step (st) == SQLITE_DONE;
    sqlite3_finalize (st);
    int64_t id = sqlite3_last_insert_rowid (s->db);
    for (size_t i = 0; ok && i < ntasks; i++)
        ok = task_write (s, id, i, &tasks[i]) == 0;
    if (!ok)
        return db_error (s, err, "submit");
    return id;
}

int store_job_state (struct store *s, int64_t id, const char *state, double ended, fs_error_t *err)
{
    if (!s->job_st && sqlite3_prepare_v2 (s->db, "UPDATE jobs SET state = ?2, ended = ?3 WHERE id = ?1",
                                          -1, &s->job_st, NULL) != SQLITE_OK)
        return db_error (s, err, "job state");
    sqlite3_stmt *st = s->job_st;
    sqlite3_bind_int64 (st, 1, id);
    sqlite3_bind_text (st, 2, state, -1, SQLITE_STATIC);
    bind_time (st, 3, ended);
    int rc = sqlite3_step (st) == SQLITE_DONE ? 0 : db_error (s, err, "job state");
    sqlite3_reset (st);
    sqlite3_clear_bindings (st);
    return rc;
}

int store_task_save (struct store *s, int64_t job, size_t idx, const struct store_task *t,
                     fs_error_t *err)
{
    return task_write (s, job, idx, t) == 0 ? 0 : db_error (s, err, "task state");
}


int store_jobs_load (struct store *s, store_job_f cb, void *arg, fs_error_t *err)
{
    sqlite3_stmt *jst, *tst;
    if (sqlite3_prepare_v2 (s->db, "SELECT id, name, file, text, state, submitted, ended "
                                   "FROM jobs ORDER BY id",
                            -1, &jst, NULL) != SQLITE_OK)
        return db_error (s, err, "load jobs");
    sqlite3_prepare_v2 (s->db,
                        "SELECT name, state, site, ranks, exit_code, started, ended, "
                        "bytes_local, bytes_moved, attempt, error, placement, failures FROM tasks "
                        "WHERE job = ? ORDER BY idx",
                        -1, &tst, NULL);
    int rc = 0;
    size_t cap = 0;
    struct store_task *tasks = NULL;
    while (rc == 0 && sqlite3_step (jst) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64 (jst, 0);
        sqlite3_bind_int64 (tst, 1, id);
        size_t n = 0;
        while (sqlite3_step (tst) == SQLITE_ROW) {
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                struct store_task *nt = realloc (tasks, cap * sizeof (*nt));
                if (!nt) {
                    rc = errprintf (err, FS_EFAIL, "out of memory");
                    break;
                }
                tasks = nt;
            }
            /* Copies, since the column texts live only until the next step. */
            tasks[n] = (struct store_task){
                .name = strdup (col_text (tst, 0)),
                .state = strdup (col_text (tst, 1)),
                .site = strdup (col_text (tst, 2)),
                .ranks = sqlite3_column_int (tst, 3),
                .exit_code = sqlite3_column_int (tst, 4),
                .started = sqlite3_column_double (tst, 5),
                .ended = sqlite3_column_double (tst, 6),
                .bytes_local = sqlite3_column_int64 (tst, 7),
                .bytes_moved = sqlite3_column_int64 (tst, 8),
                .attempt = sqlite3_column_int (tst, 9),
                .error = strdup (col_text (tst, 10)),
                .placement = sqlite3_column_type (tst, 11) == SQLITE_NULL
                                 ? NULL : strdup (col_text (tst, 11)),
                .failures = sqlite3_column_int (tst, 12),
            };
            n++;
        }
        sqlite3_reset (tst);
        if (rc == 0)
            rc = cb (arg, id, col_text (jst, 1), col_text (jst, 2), col_text (jst, 3),
                     col_text (jst, 4), sqlite3_column_double (jst, 5),
                     sqlite3_column_double (jst, 6), n, tasks);
        for (size_t i = 0; i < n; i++) {
            free ((char *)tasks[i].name);
            free ((char *)tasks[i].state);
            free ((char *)tasks[i].site);
            free ((char *)tasks[i].error);
            free ((char *)tasks[i].placement);
        }
    }
    free (tasks);
    sqlite3_finalize (jst);
    sqlite3_finalize (tst);
    return rc;
}

/* --- submission tokens --------------------------------------------------- */

int store_token_get (struct store *s, const char *token, const char *op, json_t **reply,
                     fs_error_t *err)
{
    sqlite3_stmt *st;
    *reply = NULL;
    if (sqlite3_prepare_v2 (s->db, "SELECT op, reply FROM tokens WHERE token = ?", -1, &st, NULL)
        != SQLITE_OK)
        return db_error (s, err, "look a token up");
    sqlite3_bind_text (st, 1, token, -1, SQLITE_STATIC);
    int rc = 0;
    if (sqlite3_step (st) == SQLITE_ROW) {
        if (strcmp (col_text (st, 0), op))
            rc = errprintf (err, FS_EINVAL, "%s: token '%s' was given to another request (%s): "
                            "each request needs a token of its own", op, token, col_text (st, 0));
        else if (!(*reply = json_loads (col_text (st, 1), 0, NULL)))
            rc = errprintf (err, FS_EFAIL, "scheduler database: the reply kept for token '%s' "
                            "is damaged", token);
        else
            rc = 1;
    }
    sqlite3_finalize (st);
    return rc;
}

int store_token_put (struct store *s, const char *token, const char *op, const json_t *reply,
                     double now, fs_error_t *err)
{
    sqlite3_stmt *st;
    char *text = json_dumps (reply, JSON_COMPACT);
    if (!text)
        return errprintf (err, FS_EFAIL, "out of memory");
    if (sqlite3_prepare_v2 (s->db, "INSERT OR REPLACE INTO tokens (token, op, reply, created) "
                                   "VALUES (?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK) {
        free (text);
        return db_error (s, err, "keep a token");
    }
    sqlite3_bind_text (st, 1, token, -1, SQLITE_STATIC);
    sqlite3_bind_text (st, 2, op, -1, SQLITE_STATIC);
    sqlite3_bind_text (st, 3, text, -1, SQLITE_STATIC);
    sqlite3_bind_double (st, 4, now);
    int rc = sqlite3_step (st) == SQLITE_DONE ? 0 : db_error (s, err, "keep a token");
    sqlite3_finalize (st);
    free (text);
    return rc;
}

int store_tokens_prune (struct store *s, double before, fs_error_t *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2 (s->db, "DELETE FROM tokens WHERE created < ?", -1, &st, NULL)
        != SQLITE_OK)
        return db_error (s, err, "prune tokens");
    sqlite3_bind_double (st, 1, before);
    int rc = sqlite3_step (st) == SQLITE_DONE ? sqlite3_changes (s->db) : db_error (s, err, "prune tokens");
    sqlite3_finalize (st);
    return rc;
}
