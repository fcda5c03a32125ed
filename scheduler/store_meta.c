/* store_meta.c - datasets' metadata in the catalog: kept whole, flattened to
 * keys for `catalog --where`, and indexed for `search` (see store.h).
 *
 * Three tables beside the catalog's:
 *   meta       name -> the metadata object as the site sent it (info shows it);
 *   meta_kv    (name, key, value, num): the object flattened, one row per
 *              attribute (attrs.K, file.K) and per dimension field
 *              (dim.NAME.size, .units, .first, .last, .calendar, .frequency,
 *              and the scale's attributes); num is the value as a number when
 *              it is one, so `_FillValue=-999` finds -999.0;
 *   meta_text  (id, name, field, text): the words of the dataset's name, of
 *              every text value and of the years a time axis covers, indexed
 *              by meta_fts, an FTS5 table over meta_text (external content,
 *              kept in step by triggers; Porter stemming, so "temperatures"
 *              finds "temperature").
 * Search ranks a dataset by each word of the query: the BM25 scores of the
 * fields that hold the word (whole, or as a prefix at half weight), weighted
 * by the field (field_weight: the name and descriptive attributes most), summed
 * over words, and multiplied by the share of the query's words it holds, so
 * a dataset that has every word comes before one that repeats a single word.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/names.h"
#include "store.h"
#include "store_int.h"

#define WHERE_MAX 16            /* conditions of one catalog --where */
#define TERMS_MAX 32            /* words of one search */
#define TERM_LEN 64
#define YEARS_MAX 500           /* a time axis longer than this indexes its ends only */

static const char *schema =
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, doc TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS meta_kv (name TEXT NOT NULL, key TEXT NOT NULL,"
    "  value TEXT NOT NULL, num REAL, PRIMARY KEY (name, key)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS meta_text (id INTEGER PRIMARY KEY, name TEXT NOT NULL,"
    "  field TEXT NOT NULL, text TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS meta_text_name ON meta_text(name);"
    "CREATE VIRTUAL TABLE IF NOT EXISTS meta_fts USING fts5(text, content='meta_text',"
    "  content_rowid='id', tokenize='porter unicode61 remove_diacritics 2');"
    "CREATE TRIGGER IF NOT EXISTS meta_text_ai AFTER INSERT ON meta_text BEGIN"
    "  INSERT INTO meta_fts(rowid, text) VALUES (new.id, new.text); END;"
    "CREATE TRIGGER IF NOT EXISTS meta_text_ad AFTER DELETE ON meta_text BEGIN"
    "  INSERT INTO meta_fts(meta_fts, rowid, text) VALUES ('delete', old.id, old.text); END;";

int store_meta_init (struct store *s, fs_error_t *err)
{
    char *msg = NULL;
    if (sqlite3_exec (s->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
        errprintf (err, FS_EFAIL, "cannot create the metadata index (SQLite with FTS5 is "
                   "needed): %s", msg ? msg : "?");
        sqlite3_free (msg);
        return -1;
    }
    return 0;
}

/* --- flattening --------------------------------------------------------- */

/* A value as text (caller frees), and as a number when it is one. */
static char *value_text (const json_t *v, double *num, bool *is_num)
{
    char buf[64];
    *is_num = false;
    if (json_is_string (v))
        return strdup (json_string_value (v));
    if (json_is_integer (v)) {
        *num = (double)json_integer_value (v);
        *is_num = true;
        snprintf (buf, sizeof (buf), "%lld", (long long)json_integer_value (v));
        return strdup (buf);
    }
    if (json_is_real (v)) {
        *num = json_real_value (v);
        *is_num = true;
        snprintf (buf, sizeof (buf), "%.17g", json_real_value (v));
        /* The shortest text that reads back the same, as Python prints it. */
        for (int p = 1; p <= 17; p++) {
            char t[40];
            snprintf (t, sizeof (t), "%.*g", p, json_real_value (v));
            if (strtod (t, NULL) == json_real_value (v)) {
                snprintf (buf, sizeof (buf), "%s%s", t, strpbrk (t, ".eEn") ? "" : ".0");
                break;
            }
        }
        return strdup (buf);
    }
    if (json_is_boolean (v))
        return strdup (json_is_true (v) ? "true" : "false");
    if (json_is_null (v) || !v)
        return strdup ("");
    if (json_is_object (v) && json_is_string (json_object_get (v, "summary"))) {
        const char *sm = json_string_value (json_object_get (v, "summary"));
        const char *tx = json_string_value (json_object_get (v, "text"));
        size_t n = strlen (sm) + (tx ? strlen (tx) : 0) + 3;
        char *out = malloc (n);
        if (out)
            snprintf (out, n, "%s%s%s", sm, tx ? ": " : "", tx ? tx : "");
        return out;
    }
    return json_dumps (v, JSON_COMPACT | JSON_ENCODE_ANY);
}

struct flat {
    struct store *s;
    const char *name;
    sqlite3_stmt *kv, *text;
    int rc;
};

static void put_text (struct flat *f, const char *field, const char *text)
{
    if (f->rc != SQLITE_DONE || !text || !*text)
        return;
    sqlite3_bind_text (f->text, 1, f->name, -1, SQLITE_STATIC);
    sqlite3_bind_text (f->text, 2, field, -1, SQLITE_STATIC);
    sqlite3_bind_text (f->text, 3, text, -1, SQLITE_STATIC);
    f->rc = sqlite3_step (f->text);
    sqlite3_reset (f->text);
}

/* key = v, and its words in the index when it is text (but for the names
 * of a dimension's scale, which are other datasets' business). */
static void put_kv (struct flat *f, const char *key, const json_t *v)
{
    size_t kl = strlen (key);
    bool index_words = !(kl > 8 && !strcmp (key + kl - 8, ".dataset")) && !(kl > 6 && !strcmp (key + kl - 6, ".scale"));
    double num = 0;
    bool is_num;
    char *t = value_text (v, &num, &is_num);
    if (!t || f->rc != SQLITE_DONE) {
        free (t);
        return;
    }
    sqlite3_bind_text (f->kv, 1, f->name, -1, SQLITE_STATIC);
    sqlite3_bind_text (f->kv, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_text (f->kv, 3, t, -1, SQLITE_STATIC);
    if (is_num)
        sqlite3_bind_double (f->kv, 4, num);
    else
        sqlite3_bind_null (f->kv, 4);
    f->rc = sqlite3_step (f->kv);
    sqlite3_reset (f->kv);
    if (index_words && !is_num && !json_is_boolean (v))
        put_text (f, key, t);
    free (t);
}

static void put_attrs (struct flat *f, const char *prefix, const json_t *attrs)
{
    const char *k;
    json_t *v;
    char key[1024];
    json_object_foreach ((json_t *)attrs, k, v) {
        snprintf (key, sizeof (key), "%s%s", prefix, k);
        put_kv (f, key, v);
    }
}

/* The years a decoded time axis covers, as words ("2010 2011 ... 2019"). */
static void put_years (struct flat *f, const char *field, const json_t *dim)
{
    const char *a = json_string_value (json_object_get (dim, "first"));
    const char *b = json_string_value (json_object_get (dim, "last"));
    if (!a || !b || !json_is_string (json_object_get (dim, "calendar")))
        return;
    int y0 = atoi (a), y1 = atoi (b);
    if (y0 > y1) {
        int t = y0;
        y0 = y1;
        y1 = t;
    }
    char buf[YEARS_MAX * 6 + 64];
    size_t used = 0;
    if (y1 - y0 >= YEARS_MAX)
        snprintf (buf, sizeof (buf), "%d %d", y0, y1);
    else
        for (int y = y0; y <= y1; y++)
            used += (size_t)snprintf (buf + used, sizeof (buf) - used, "%s%d", used ? " " : "", y);
    put_text (f, field, buf);
}

static void put_dims (struct flat *f, const json_t *dims)
{
    size_t i;
    json_t *dim;
    json_array_foreach ((json_t *)dims, i, dim) {
        const char *nm = json_string_value (json_object_get (dim, "name"));
        char prefix[600], key[1024];
        if (nm)
            snprintf (prefix, sizeof (prefix), "dim.%.500s.", nm);
        else
            snprintf (prefix, sizeof (prefix), "dim.%zu.", i);
        const char *k;
        json_t *v;
        json_object_foreach (dim, k, v) {
            if (!strcmp (k, "attrs") || !strcmp (k, "name"))
                continue;
            snprintf (key, sizeof (key), "%s%s", prefix, k);
            put_kv (f, key, v);
        }
        /* The scale's attributes, unless a field above has the key already. */
        json_object_foreach (json_object_get (dim, "attrs"), k, v)
            if (!json_object_get (dim, k)) {
                snprintf (key, sizeof (key), "%s%s", prefix, k);
                put_kv (f, key, v);
            }
        if (nm) {
            snprintf (key, sizeof (key), "%sname", prefix);
            put_text (f, key, nm);
        }
        snprintf (key, sizeof (key), "%syears", prefix);
        put_years (f, key, dim);
    }
}

/* Is meta the shape format_meta gives?  NULL when it is, else what is wrong. */
static const char *meta_malformed (const json_t *meta)
{
    if (!json_is_object (meta))
        return "not an object";
    const json_t *a = json_object_get (meta, "attrs"), *fa = json_object_get (meta, "file_attrs");
    const json_t *dims = json_object_get (meta, "dims");
    if ((a && !json_is_object (a)) || (fa && !json_is_object (fa)))
        return "attrs and file_attrs must be objects";
    if (dims && !json_is_array (dims))
        return "dims must be an array";
    size_t i;
    json_t *d;
    json_array_foreach ((json_t *)dims, i, d)
        if (!json_is_object (d) || (json_object_get (d, "name") && !json_is_string (json_object_get (d, "name")))
            || (json_object_get (d, "attrs") && !json_is_object (json_object_get (d, "attrs"))))
            return "each dimension must be an object with a string name";
    const json_t *e = json_object_get (meta, "error");
    if (e && !json_is_string (e))
        return "error must be a string";
    return NULL;
}

static int exec1 (struct store *s, const char *sql, const char *name)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2 (s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text (st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step (st);
    sqlite3_finalize (st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int store_meta_put (struct store *s, const char *name, const json_t *meta, fs_error_t *err)
{
    if (!meta) {
        /* No metadata sent: keep what is known; the name is searchable anyway. */
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2 (s->db, "INSERT INTO meta_text (name, field, text) SELECT ?1, 'name', ?1 "
                                       "WHERE NOT EXISTS (SELECT 1 FROM meta_text WHERE name = ?1 "
                                       "AND field = 'name')", -1, &st, NULL) != SQLITE_OK)
            return db_error (s, err, "metadata");
        sqlite3_bind_text (st, 1, name, -1, SQLITE_STATIC);
        int rc = sqlite3_step (st);
        sqlite3_finalize (st);
        return rc == SQLITE_DONE ? 0 : db_error (s, err, "metadata");
    }
    const char *bad = meta_malformed (meta);
    json_t *kept = NULL;
    if (bad) {
        char why[256];
        snprintf (why, sizeof (why), "the site sent malformed metadata: %s", bad);
        kept = json_pack ("{s:s}", "error", why);
        meta = kept;
    }
    char *doc = json_dumps (meta, JSON_COMPACT);
    struct flat f = { s, name, NULL, NULL, SQLITE_DONE };
    int rc = -1;
    if (!doc || exec1 (s, "DELETE FROM meta_kv WHERE name = ?1", name) < 0
        || exec1 (s, "DELETE FROM meta_text WHERE name = ?1", name) < 0
        || sqlite3_prepare_v2 (s->db, "INSERT OR REPLACE INTO meta_kv (name, key, value, num) "
                                      "VALUES (?1, ?2, ?3, ?4)", -1, &f.kv, NULL) != SQLITE_OK
        || sqlite3_prepare_v2 (s->db, "INSERT INTO meta_text (name, field, text) VALUES (?1, ?2, ?3)",
                               -1, &f.text, NULL) != SQLITE_OK)
        goto done;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2 (s->db, "INSERT OR REPLACE INTO meta (name, doc) VALUES (?1, ?2)", -1, &st,
                            NULL) != SQLITE_OK)
        goto done;
    sqlite3_bind_text (st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text (st, 2, doc, -1, SQLITE_STATIC);
    f.rc = sqlite3_step (st);
    sqlite3_finalize (st);
    put_text (&f, "name", name);
    put_attrs (&f, "attrs.", json_object_get (meta, "attrs"));
    put_attrs (&f, "file.", json_object_get (meta, "file_attrs"));
    put_dims (&f, json_object_get (meta, "dims"));
    rc = f.rc == SQLITE_DONE ? 0 : -1;
done:
    if (rc < 0)
        db_error (s, err, "metadata");
    sqlite3_finalize (f.kv);
    sqlite3_finalize (f.text);
    free (doc);
    json_decref (kept);
    return rc;
}

/* --- catalog --where ---------------------------------------------------- */

struct cond {
    char key[512];              /* as given */
    bool contains;              /* KEY~TEXT */
    const char *value;          /* borrowed from the request */
    bool is_num;
    double num;
};

/* "KEY=VALUE" or "KEY~TEXT" into c; FS_EINVAL saying what is wrong. */
static int cond_parse (const char *text, struct cond *c, fs_error_t *err)
{
    size_t k = strcspn (text, "=~");
    if (!text[k])
        return errprintf (err, FS_EINVAL, "--where '%s': expected KEY=VALUE (equals) or KEY~TEXT "
                          "(contains), e.g. units=K or long_name~temperature", text);
    if (k == 0)
        return errprintf (err, FS_EINVAL, "--where '%s': the KEY before '%c' is empty", text, text[k]);
    if (k >= sizeof (c->key))
        return errprintf (err, FS_EINVAL, "--where: KEY longer than %zu bytes", sizeof (c->key) - 1);
    for (size_t i = 0; i < k; i++)
        if (isspace ((unsigned char)text[i]) || (unsigned char)text[i] < 0x20)
            return errprintf (err, FS_EINVAL, "--where '%s': KEY may not hold spaces", text);
    memcpy (c->key, text, k);
    c->key[k] = '\0';
    if (!strcmp (c->key, "dim") || !strncmp (c->key, "dim.", 4)) {
        const char *dot = strchr (c->key + 4, '.');
        if (strncmp (c->key, "dim.", 4) || !dot || dot == c->key + 4 || !dot[1])
            return errprintf (err, FS_EINVAL, "--where '%s': a dimension key is dim.NAME.FIELD "
                              "(e.g. dim.time.units, dim.lat.first)", text);
    }
    c->contains = text[k] == '~';
    c->value = text + k + 1;
    if (c->contains && !*c->value)
        return errprintf (err, FS_EINVAL, "--where '%s': the TEXT after '~' is empty", text);
    char *end;
    c->num = strtod (c->value, &end);
    c->is_num = !c->contains && *c->value && !*end && !isspace ((unsigned char)*c->value);
    return 0;
}

/* The names of the datasets that meet every condition, as a JSON object used
 * as a set; NULL with err. */
static json_t *where_names (struct store *s, const struct cond *cs, int n, fs_error_t *err)
{
    /* One EXISTS per condition; a bare KEY is the dataset's attribute KEY when
     * it has one, else the file's. */
    char sql[8192];
    size_t used = (size_t)snprintf (sql, sizeof (sql), "SELECT m.name FROM meta m WHERE 1");
    for (int i = 0; i < n && used < sizeof (sql); i++) {
        int p = 4 * i + 1;
        used += (size_t)snprintf (sql + used, sizeof (sql) - used,
            " AND EXISTS (SELECT 1 FROM meta_kv kv WHERE kv.name = m.name AND kv.key = "
            "COALESCE((SELECT key FROM meta_kv WHERE name = m.name AND key = ?%d), ?%d) AND ", p, p + 1);
        if (used < sizeof (sql))
            used += (size_t)(cs[i].contains
                ? snprintf (sql + used, sizeof (sql) - used, "instr(lower(kv.value), lower(?%d)) > 0)", p + 2)
                : snprintf (sql + used, sizeof (sql) - used, "(kv.value = ?%d OR kv.num = ?%d))", p + 2, p + 3));
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2 (s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        db_error (s, err, "catalog --where");
        return NULL;
    }
    char keys[WHERE_MAX][2][600];
    for (int i = 0; i < n; i++) {
        int p = 4 * i + 1;
        bool bare = strncmp (cs[i].key, "attrs.", 6) && strncmp (cs[i].key, "file.", 5)
                    && strncmp (cs[i].key, "dim.", 4);
        snprintf (keys[i][0], sizeof (keys[i][0]), "%s%.511s", bare ? "attrs." : "", cs[i].key);
        snprintf (keys[i][1], sizeof (keys[i][1]), "%s%.511s", bare ? "file." : "", cs[i].key);
        sqlite3_bind_text (st, p, keys[i][0], -1, SQLITE_STATIC);
        sqlite3_bind_text (st, p + 1, keys[i][1], -1, SQLITE_STATIC);
        sqlite3_bind_text (st, p + 2, cs[i].value, -1, SQLITE_STATIC);
        if (cs[i].is_num)
            sqlite3_bind_double (st, p + 3, cs[i].num);
        else
            sqlite3_bind_null (st, p + 3);
    }
    json_t *set = json_object ();
    int rc;
    while ((rc = sqlite3_step (st)) == SQLITE_ROW)
        json_object_set_new (set, (const char *)sqlite3_column_text (st, 0), json_true ());
    sqlite3_finalize (st);
    if (rc != SQLITE_DONE) {
        json_decref (set);
        db_error (s, err, "catalog --where");
        return NULL;
    }
    return set;
}

json_t *store_catalog_where (struct store *s, const char *glob, const json_t *where, fs_error_t *err)
{
    size_t n = json_array_size (where);
    if (where && !json_is_array (where)) {
        errprintf (err, FS_EINVAL, "where must be an array of \"KEY=VALUE\" or \"KEY~TEXT\" strings");
        return NULL;
    }
    if (n > WHERE_MAX) {
        errprintf (err, FS_EINVAL, "at most %d --where conditions", WHERE_MAX);
        return NULL;
    }
    struct cond cs[WHERE_MAX];
    for (size_t i = 0; i < n; i++) {
        const char *t = json_string_value (json_array_get (where, i));
        if (!t) {
            errprintf (err, FS_EINVAL, "where must be an array of \"KEY=VALUE\" or \"KEY~TEXT\" strings");
            return NULL;
        }
        if (cond_parse (t, &cs[i], err) < 0)
            return NULL;
    }
    json_t *all = store_catalog (s, glob, err);
    if (!all || n == 0)
        return all;
    json_t *set = where_names (s, cs, (int)n, err);
    if (!set) {
        json_decref (all);
        return NULL;
    }
    json_t *out = json_array ();
    size_t i;
    json_t *d;
    json_array_foreach (all, i, d)
        if (json_object_get (set, json_string_value (json_object_get (d, "name"))))
            json_array_append (out, d);
    json_decref (set);
    json_decref (all);
    return out;
}

/* --- search ------------------------------------------------------------- */

/* The weight of a field: the dataset's name 3, its descriptive attributes 2,
 * its other attributes and dimensions 1, its file's attributes (which every
 * dataset of the file shares, coordinates too) 0.5, the file's title 1. */
static double field_weight (const char *field)
{
    static const char *const strong[] = { "attrs.long_name", "attrs.standard_name",
                                          "attrs.description", "attrs.title", "attrs.summary",
                                          "attrs.keywords", NULL };
    if (!strcmp (field, "name"))
        return 3.0;
    for (int i = 0; strong[i]; i++)
        if (!strcmp (strong[i], field))
            return 2.0;
    if (!strcmp (field, "file.title"))
        return 1.0;
    if (!strncmp (field, "file.", 5))
        return 0.5;
    return 1.0;
}

/* Split text into lower-case words of letters and digits (bytes of UTF-8
 * sequences count as letters).  Returns the number of words. */
static int words (const char *text, char out[][TERM_LEN])
{
    int n = 0;
    const unsigned char *p = (const unsigned char *)text;
    while (*p && n < TERMS_MAX) {
        while (*p && !(isalnum (*p) || *p >= 0x80))
            p++;
        size_t k = 0;
        while (*p && (isalnum (*p) || *p >= 0x80)) {
            if (k + 1 < TERM_LEN)
                out[n][k++] = (char)tolower (*p);
            p++;
        }
        if (k) {
            out[n][k] = '\0';
            bool dup = false;
            for (int i = 0; i < n; i++)
                dup = dup || !strcmp (out[i], out[n]);
            if (!dup)
                n++;
        }
    }
    return n;
}

struct hit {
    double score;
    unsigned terms;             /* bit i: the query's word i is in it */
    json_t *fields;             /* field -> contribution */
};

static int hit_cmp (const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    double sx = json_real_value (json_object_get (x, "score"));
    double sy = json_real_value (json_object_get (y, "score"));
    if (sx != sy)
        return sx > sy ? -1 : 1;
    return strcmp (json_string_value (json_object_get (x, "name")),
                   json_string_value (json_object_get (y, "name")));
}

/* Rows of the index holding word w (prefix: as the start of a word), added to hits. */
static int search_word (struct store *s, sqlite3_stmt *st, const char *w, bool prefix, int bit,
                        json_t *hits)
{
    char q[TERM_LEN + 8];
    snprintf (q, sizeof (q), "\"%s\"%s", w, prefix ? "*" : "");
    sqlite3_bind_text (st, 1, q, -1, SQLITE_TRANSIENT);
    int rc;
    while ((rc = sqlite3_step (st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text (st, 0);
        const char *field = (const char *)sqlite3_column_text (st, 1);
        double c = -sqlite3_column_double (st, 2) * field_weight (field) * (prefix ? 0.5 : 1.0);
        json_t *h = json_object_get (hits, name);
        if (!h) {
            h = json_pack ("{s:f, s:i, s:{}}", "score", 0.0, "terms", 0, "fields");
            json_object_set_new (hits, name, h);
        }
        json_object_set_new (h, "score", json_real (json_real_value (json_object_get (h, "score")) + c));
        json_object_set_new (h, "terms", json_integer (json_integer_value (json_object_get (h, "terms"))
                                                       | (1 << bit)));
        json_t *fields = json_object_get (h, "fields");
        json_object_set_new (fields, field, json_real (json_real_value (json_object_get (fields, field)) + c));
    }
    sqlite3_reset (st);
    (void)s;
    return rc == SQLITE_DONE ? 0 : -1;
}

static int field_cmp (const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    double cx = json_real_value (json_array_get (x, 1)), cy = json_real_value (json_array_get (y, 1));
    if (cx != cy)
        return cx > cy ? -1 : 1;
    return strcmp (json_string_value (json_array_get (x, 0)), json_string_value (json_array_get (y, 0)));
}

/* The fields of a hit, most contributing first. */
static json_t *matched_fields (json_t *fields)
{
    size_t n = json_object_size (fields), i = 0;
    json_t **pairs = calloc (n ? n : 1, sizeof (*pairs));
    const char *k;
    json_t *v;
    json_object_foreach (fields, k, v)
        pairs[i++] = json_pack ("[s, O]", k, v);
    qsort (pairs, n, sizeof (*pairs), field_cmp);
    json_t *out = json_array ();
    for (i = 0; i < n; i++) {
        json_array_append (out, json_array_get (pairs[i], 0));
        json_decref (pairs[i]);
    }
    free (pairs);
    return out;
}

json_t *store_search (struct store *s, const char *text, int limit, fs_error_t *err)
{
    char w[TERMS_MAX][TERM_LEN];
    int nw = words (text ? text : "", w);
    if (nw == 0) {
        errprintf (err, FS_EINVAL, "search TEXT holds no words to look for (letters or digits)");
        return NULL;
    }
    if (limit < 1) {
        errprintf (err, FS_EINVAL, "--limit must be a positive integer");
        return NULL;
    }
    sqlite3_stmt *st, *ds;
    if (sqlite3_prepare_v2 (s->db, "SELECT t.name, t.field, bm25(meta_fts) FROM meta_fts JOIN "
                                   "meta_text t ON t.id = meta_fts.rowid WHERE meta_fts MATCH ?1",
                            -1, &st, NULL) != SQLITE_OK) {
        db_error (s, err, "search");
        return NULL;
    }
    json_t *hits = json_object ();
    int rc = 0;
    for (int i = 0; i < nw && rc == 0; i++) {
        rc = search_word (s, st, w[i], false, i, hits);
        if (rc == 0 && strlen (w[i]) >= 3)
            rc = search_word (s, st, w[i], true, i, hits);
    }
    sqlite3_finalize (st);
    if (rc < 0 || sqlite3_prepare_v2 (s->db, "SELECT shape, dtype, policy FROM datasets d WHERE name = ?1 "
                                             "AND EXISTS (SELECT 1 FROM replicas r WHERE r.name = d.name)",
                                      -1, &ds, NULL) != SQLITE_OK) {
        json_decref (hits);
        db_error (s, err, "search");
        return NULL;
    }
    json_t *all = json_array ();
    const char *name;
    json_t *h;
    json_object_foreach (hits, name, h) {
        sqlite3_bind_text (ds, 1, name, -1, SQLITE_STATIC);
        if (sqlite3_step (ds) == SQLITE_ROW) {
            unsigned terms = (unsigned)json_integer_value (json_object_get (h, "terms"));
            int have = __builtin_popcount (terms);
            double score = json_real_value (json_object_get (h, "score")) * have / nw;
            const char *shape = (const char *)sqlite3_column_text (ds, 0);
            json_t *jshape = shape ? json_loads (shape, 0, NULL) : NULL;
            json_array_append_new (all, json_pack ("{s:s, s:f, s:o, s:s, s:s, s:o}", "name", name,
                                                   "score", round (score * 1000) / 1000, "shape",
                                                   jshape ? jshape : json_array (), "dtype",
                                                   sqlite3_column_text (ds, 1), "policy",
                                                   sqlite3_column_text (ds, 2), "matched",
                                                   matched_fields (json_object_get (h, "fields"))));
        }
        sqlite3_reset (ds);
    }
    sqlite3_finalize (ds);
    json_decref (hits);
    size_t n = json_array_size (all);
    json_t **v = calloc (n ? n : 1, sizeof (*v));
    for (size_t i = 0; i < n; i++)
        v[i] = json_incref (json_array_get (all, i));
    qsort (v, n, sizeof (*v), hit_cmp);
    json_t *out = json_array ();
    for (size_t i = 0; i < n; i++) {
        if ((int)i < limit)
            json_array_append (out, v[i]);
        json_decref (v[i]);
    }
    free (v);
    json_decref (all);
    return out;
}

/* --- info --------------------------------------------------------------- */

json_t *store_info (struct store *s, const char *name, fs_error_t *err)
{
    json_t *d = store_lookup (s, name, err);
    if (!d)
        return NULL;
    sqlite3_stmt *st;
    json_t *meta = NULL;
    if (sqlite3_prepare_v2 (s->db, "SELECT doc FROM meta WHERE name = ?1", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text (st, 1, name, -1, SQLITE_STATIC);
        if (sqlite3_step (st) == SQLITE_ROW)
            meta = json_loads ((const char *)sqlite3_column_text (st, 0), 0, NULL);
        sqlite3_finalize (st);
    }
    /* The stable object of `info --json`: every key always there. */
    json_t *reps = json_array ();
    size_t i;
    json_t *r;
    json_array_foreach (json_object_get (d, "replicas"), i, r)
        json_array_append_new (reps, json_pack ("{s:O}", "site", json_object_get (r, "site")));
    json_t *attrs = json_object_get (meta, "attrs"), *fattrs = json_object_get (meta, "file_attrs");
    json_t *dims = json_object_get (meta, "dims"), *filters = json_object_get (meta, "filters");
    json_t *merr = json_object_get (meta, "error");
    json_t *info = json_object ();
    static const char *const from_catalog[] = { "name", "shape", "dtype", "chunks", NULL };
    for (int k = 0; from_catalog[k]; k++)
        json_object_set (info, from_catalog[k], json_object_get (d, from_catalog[k]));
    json_object_set_new (info, "filters", json_is_array (filters) ? json_incref (filters) : json_null ());
    json_object_set (info, "bytes", json_object_get (d, "bytes"));
    json_object_set (info, "policy", json_object_get (d, "policy"));
    json_object_set (info, "version", json_object_get (d, "version"));
    json_object_set_new (info, "replicas", reps);
    json_object_set_new (info, "attrs", json_is_object (attrs) ? json_incref (attrs) : json_object ());
    json_object_set_new (info, "file_attrs", json_is_object (fattrs) ? json_incref (fattrs) : json_object ());
    json_object_set_new (info, "dims", json_is_array (dims) ? json_incref (dims) : json_array ());
    json_object_set_new (info, "attrs_omitted", json_integer (json_integer_value (json_object_get (meta, "attrs_omitted"))));
    json_object_set_new (info, "file_attrs_omitted",
                         json_integer (json_integer_value (json_object_get (meta, "file_attrs_omitted"))));
    json_object_set_new (info, "metadata", json_string (json_is_string (merr) ? "error" : meta ? "complete" : "none"));
    json_object_set_new (info, "metadata_error", json_is_string (merr) ? json_incref (merr) : json_null ());
    json_decref (meta);
    json_decref (d);
    return info;
}
