/* meta.c - metadata for registration entries (see meta.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/format/format.h"
#include "common/cftime.h"
#include "common/log.h"
#include "common/msg.h"
#include "common/zsock.h"
#include "meta.h"

#define META_ENTRY_MAX (32u << 10)      /* bytes of metadata per dataset, as JSON */

/* "daily", "monthly", ...: what a regular axis of step seconds is called; NULL
 * when it is none of them. */
static const char *frequency (double step)
{
    static const struct {
        double s;
        const char *name;
    } f[] = {
        { 3600, "hourly" }, { 3 * 3600, "3-hourly" }, { 6 * 3600, "6-hourly" },
        { 86400, "daily" }, { 7 * 86400, "weekly" },
    };
    for (size_t i = 0; i < sizeof (f) / sizeof (f[0]); i++)
        if (fabs (step - f[i].s) <= 0.01 * f[i].s)
            return f[i].name;
    double days = step / 86400;
    if (days >= 28 && days <= 31.5)
        return "monthly";
    if (days >= 89 && days <= 92.5)
        return "seasonal";
    if (days >= 359 && days <= 366.5)
        return "yearly";
    return NULL;
}

/* A dimension with CF time units: first and last as dates (raw values kept as
 * first_value/last_value), its calendar, and the frequency of its steps. */
static void decode_time (json_t *dim)
{
    const char *units = json_string_value (json_object_get (dim, "units"));
    const char *cal = json_string_value (json_object_get (json_object_get (dim, "attrs"), "calendar"));
    json_t *first = json_object_get (dim, "first"), *last = json_object_get (dim, "last");
    fs_cftime_t t;
    fs_error_t err;
    if (!units || !strstr (units, "since") || !json_is_number (first) || !json_is_number (last)
        || cftime_parse (units, cal, &t, &err) < 0)
        return;
    double a = json_number_value (first), b = json_number_value (last);
    char da[32], db[32];
    if (cftime_format (&t, a, da, sizeof (da)) < 0 || cftime_format (&t, b, db, sizeof (db)) < 0)
        return;
    json_object_set (dim, "first_value", first);
    json_object_set (dim, "last_value", last);
    json_object_set_new (dim, "first", json_string (da));
    json_object_set_new (dim, "last", json_string (db));
    json_object_set_new (dim, "calendar", json_string (cal && *cal ? cal : "standard"));
    json_int_t n = json_integer_value (json_object_get (dim, "size"));
    const char *f = n > 1 ? frequency ((b - a) * t.unit_s / (double)(n - 1)) : NULL;
    if (f)
        json_object_set_new (dim, "frequency", json_string (f));
}

/* Bytes of v as compact JSON. */
static size_t json_size (const json_t *v)
{
    char *t = json_dumps (v, JSON_COMPACT | JSON_ENCODE_ANY);
    size_t n = t ? strlen (t) : 0;
    free (t);
    return n;
}

/* Keep one entry's metadata under META_ENTRY_MAX bytes: long texts are cut
 * to their summaries first, then attributes counted out from the last. */
static void meta_bound (json_t *meta)
{
    static const char *const objs[] = { "attrs", "file_attrs" };
    if (json_size (meta) <= META_ENTRY_MAX)
        return;
    for (int k = 0; k < 2; k++) {
        const char *key;
        json_t *v;
        json_object_foreach (json_object_get (meta, objs[k]), key, v) {
            json_t *t = json_object_get (v, "text");
            if (json_is_string (t) && json_string_length (t) > 64)
                json_object_del (v, "text");
            else if (json_is_string (v) && json_string_length (v) > 256) {
                char sm[96];
                snprintf (sm, sizeof (sm), "string of %zu bytes; cut for the catalog",
                          json_string_length (v));
                json_t *o = json_pack ("{s:s, s:s%}", "summary", sm, "text", json_string_value (v),
                                       (size_t)64);
                json_object_set_new (json_object_get (meta, objs[k]), key, o);
            }
        }
    }
    for (int k = 1; k >= 0 && json_size (meta) > META_ENTRY_MAX; k--) {
        json_t *obj = json_object_get (meta, objs[k]);
        char omitted[32];
        snprintf (omitted, sizeof (omitted), "%s_omitted", objs[k]);
        while (json_object_size (obj) > 0 && json_size (meta) > META_ENTRY_MAX) {
            const char *last = NULL, *key;
            json_t *v;
            json_object_foreach (obj, key, v)
                last = key;
            json_object_del (obj, last);
            json_object_set_new (meta, omitted,
                                 json_integer (json_integer_value (json_object_get (meta, omitted)) + 1));
        }
    }
}

/* Key of a dataset's place: file and HDF5 path. */
static void place_key (const char *file, const char *path, char *buf, size_t len)
{
    snprintf (buf, len, "%s\x1f%s", file ? file : "", path ? path : "");
}

void meta_attach (json_t *entries)
{
    json_t *names = json_object ();         /* place -> catalog name */
    size_t i;
    json_t *e;
    char key[8192];
    json_array_foreach (entries, i, e) {
        place_key (json_string_value (json_object_get (e, "file")),
                   json_string_value (json_object_get (e, "path")), key, sizeof (key));
        json_object_set (names, key, json_object_get (e, "name"));
    }
    json_array_foreach (entries, i, e) {
        const char *file = json_string_value (json_object_get (e, "file"));
        const char *path = json_string_value (json_object_get (e, "path"));
        fs_error_t err = { 0 };
        json_t *meta = file && path ? format_meta (file, path, &err) : NULL;
        if (!meta) {
            log_msg (LOG_WARN, "event=meta.fail dataset=%s reason=\"%s\"",
                     json_string_value (json_object_get (e, "name")), err.text);
            json_object_set_new (e, "meta", json_pack ("{s:s}", "error", err.text));
            continue;
        }
        size_t d;
        json_t *dim;
        json_array_foreach (json_object_get (meta, "dims"), d, dim) {
            const char *scale = json_string_value (json_object_get (dim, "scale"));
            if (scale) {
                place_key (file, scale, key, sizeof (key));
                json_t *n = json_object_get (names, key);
                if (n)
                    json_object_set (dim, "dataset", n);
            }
            decode_time (dim);
        }
        meta_bound (meta);
        json_object_set_new (e, "meta", meta);
    }
    json_decref (names);
}

size_t meta_batch_end (const json_t *entries, size_t start)
{
    size_t n = json_array_size (entries), end = start, bytes = 0;
    while (end < n && end < start + REGISTER_BATCH && (end == start || bytes < REGISTER_BYTES))
        bytes += json_size (json_object_get (json_array_get (entries, end++), "meta"));
    return end;
}

struct zmsg *meta_register_next (const char *site, const json_t *entries, size_t *i,
                                 int64_t id_base)
{
    size_t start = *i, end = meta_batch_end (entries, start);
    if (end == start)
        return NULL;
    json_t *batch = json_array ();
    for (size_t j = start; j < end; j++)
        json_array_append (batch, json_array_get (entries, j));
    *i = end;
    return msg_request ("catalog.register", id_base + (int64_t)start,
                        json_pack ("{s:s, s:o}", "site", site, "datasets", batch));
}

void meta_register (struct zsock *out, const char *site, const json_t *entries, int64_t id_base)
{
    size_t i = 0;
    struct zmsg *m;
    while ((m = meta_register_next (site, entries, &i, id_base)) != NULL) {
        zmsg_insert (m, 0, "S", 1);
        fs_error_t err;
        zsock_send (out, &m, &err);
    }
}

void meta_send_ahead (struct zsock *out, const char *site, json_t *entries, int64_t id_base)
{
    meta_attach (entries);
    meta_register (out, site, entries, id_base);
    size_t i;
    json_t *e;
    json_array_foreach (entries, i, e)
        json_object_del (e, "meta");
}
