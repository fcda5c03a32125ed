/* hdf5_meta.c - what an HDF5 file says about a dataset: its attributes, the
 * file's root attributes, its dimension scales (format_meta, format.h).
 *
 * Attribute values become JSON: numbers and strings as they are, short arrays
 * as arrays, everything else summarised in words (with the start of a long
 * string kept as text), so a value is never dropped without a trace and no
 * registration entry grows without bound (META_ATTRS_MAX attributes per
 * object, META_ARRAY_MAX elements, META_STRING_MAX bytes of text).
 *
 * Dimension scales are read from the DIMENSION_LIST attribute directly (a
 * variable-length list of object references per dimension, the layout of the
 * HDF5 Dimension Scales specification that netCDF-4 and h5py write), without
 * the high-level H5DS library: the first scale attached to a dimension names it.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hdf5_int.h"

#define META_READ_MAX (8u << 20)        /* bytes read from one attribute for a summary */
#define NC_PHONY "This is a netCDF dimension but not a netCDF variable"

/* Attributes that implement dimension scales: dims describes them. */
static bool structural (const char *name)
{
    static const char *const names[] = { "CLASS", "NAME", "DIMENSION_LIST", "REFERENCE_LIST",
                                         "_Netcdf4Dimid", "_Netcdf4Coordinates", NULL };
    for (int i = 0; names[i]; i++)
        if (!strcmp (names[i], name))
            return true;
    return false;
}

static json_t *summary (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
static json_t *summary (const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (buf, sizeof (buf), fmt, ap);
    va_end (ap);
    return json_pack ("{s:s}", "summary", buf);
}

static json_t *real_value (double v)
{
    if (isnan (v))
        return json_string ("nan");
    if (isinf (v))
        return json_string (v > 0 ? "inf" : "-inf");
    return json_real (v);
}

/* Longest prefix of s[0..n) that is no longer than max bytes and ends on a
 * UTF-8 character boundary. */
static size_t utf8_cut (const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    size_t k = max;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    return k;
}

/* One string value: as it is when short and UTF-8, else summarised. */
static json_t *string_value (const char *s, size_t n)
{
    json_t *j = json_stringn (s, n);
    if (!j)
        return summary ("binary string of %zu bytes (not UTF-8 text)", n);
    if (n <= META_STRING_MAX)
        return j;
    json_decref (j);
    json_t *o = summary ("string of %zu bytes; the first %d kept", n, META_STRING_MAX);
    json_t *t = json_stringn (s, utf8_cut (s, n, META_STRING_MAX));
    json_object_set_new (o, "text", t ? t : json_string (""));
    return o;
}

static const char *class_name (H5T_class_t c)
{
    switch (c) {
    case H5T_COMPOUND: return "compound";
    case H5T_OPAQUE: return "opaque";
    case H5T_REFERENCE: return "reference";
    case H5T_VLEN: return "variable-length sequence";
    case H5T_ARRAY: return "array";
    case H5T_BITFIELD: return "bitfield";
    case H5T_TIME: return "time";
    case H5T_ENUM: return "enum";
    case H5T_STRING: return "string";
    case H5T_INTEGER: return "integer";
    case H5T_FLOAT: return "float";
    default: return "unknown";
    }
}

/* Read the attribute whole into memory of type mem (n elements of size
 * elsize); NULL when it can't be read or is too large. */
static void *attr_read_all (hid_t aid, hid_t mem, size_t n, size_t elsize)
{
    if (n == 0 || elsize == 0 || n > META_READ_MAX / elsize)
        return NULL;
    void *buf = calloc (n, elsize);
    if (buf && H5Aread (aid, mem, buf) < 0) {
        H5Eclear2 (H5E_DEFAULT);
        free (buf);
        return NULL;
    }
    return buf;
}

static json_t *numeric_value (hid_t aid, hid_t ftype, size_t n)
{
    H5T_class_t cls = H5Tget_class (ftype);
    bool is_int = cls == H5T_INTEGER;
    bool is_signed = is_int && H5Tget_sign (ftype) == H5T_SGN_2;
    char tname[32];
    snprintf (tname, sizeof (tname), "%s%zu", !is_int ? "float" : is_signed ? "int" : "uint",
              H5Tget_size (ftype) * 8);
    hid_t mem = !is_int ? H5T_NATIVE_DOUBLE : is_signed ? H5T_NATIVE_INT64 : H5T_NATIVE_UINT64;
    void *buf = attr_read_all (aid, mem, n, 8);
    if (!buf)
        return summary ("%s[%zu]", tname, n);
    json_t *out;
    if (n <= META_ARRAY_MAX) {
        json_t *a = json_array ();
        for (size_t i = 0; i < n; i++) {
            json_t *v;
            if (!is_int)
                v = real_value (((double *)buf)[i]);
            else if (is_signed)
                v = json_integer ((json_int_t)((int64_t *)buf)[i]);
            else {
                uint64_t u = ((uint64_t *)buf)[i];
                v = u <= INT64_MAX ? json_integer ((json_int_t)u) : json_real ((double)u);
            }
            json_array_append_new (a, v);
        }
        out = n == 1 ? json_incref (json_array_get (a, 0)) : json_incref (a);
        json_decref (a);
    } else {
        /* Too many to keep: the type, count and range say what it is. */
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < n; i++) {
            double v = !is_int ? ((double *)buf)[i]
                     : is_signed ? (double)((int64_t *)buf)[i] : (double)((uint64_t *)buf)[i];
            if (v < lo)
                lo = v;
            if (v > hi)
                hi = v;
        }
        out = lo <= hi ? summary ("%s[%zu], min %.10g, max %.10g", tname, n, lo, hi)
                       : summary ("%s[%zu], no finite values", tname, n);
    }
    free (buf);
    return out;
}

static json_t *string_attr (hid_t aid, hid_t ftype, size_t n)
{
    htri_t vl = H5Tis_variable_str (ftype);
    hid_t mem = H5Tcopy (H5T_C_S1);
    json_t *out = NULL;
    if (mem < 0)
        return summary ("string attribute that can't be read");
    H5Tset_cset (mem, H5Tget_cset (ftype));
    json_t *a = json_array ();
    size_t total = 0;
    if (vl > 0) {
        H5Tset_size (mem, H5T_VARIABLE);
        char **s = attr_read_all (aid, mem, n, sizeof (char *));
        if (s) {
            for (size_t i = 0; i < n; i++) {
                size_t len = s[i] ? strlen (s[i]) : 0;
                total += len;
                json_array_append_new (a, string_value (s[i] ? s[i] : "", len));
            }
            hid_t space = H5Aget_space (aid);
            H5Dvlen_reclaim (mem, space, H5P_DEFAULT, s);
            H5Sclose (space);
            free (s);
        }
    } else {
        size_t size = H5Tget_size (ftype);
        H5T_str_t pad = H5Tget_strpad (ftype);
        H5Tset_size (mem, size);
        H5Tset_strpad (mem, H5T_STR_NULLPAD);
        char *s = attr_read_all (aid, mem, n, size);
        if (s) {
            for (size_t i = 0; i < n; i++) {
                const char *e = s + i * size;
                size_t len = strnlen (e, size);
                while (pad == H5T_STR_SPACEPAD && len > 0 && e[len - 1] == ' ')
                    len--;
                total += len;
                json_array_append_new (a, string_value (e, len));
            }
            free (s);
        }
    }
    H5Tclose (mem);
    if (json_array_size (a) != n)
        out = summary ("string[%zu] that can't be read", n);
    else if (n == 1)
        out = json_incref (json_array_get (a, 0));
    else if (n <= META_ARRAY_MAX && total <= META_STRING_MAX)
        out = json_incref (a);
    else {
        /* Many strings: how many, and the first ones as text. */
        out = summary ("string[%zu], %zu bytes; the first kept", n, total);
        char buf[META_STRING_MAX + 1];
        size_t used = 0;
        size_t i;
        json_t *v;
        json_array_foreach (a, i, v) {
            const char *t = json_string_value (v);
            if (!t || used >= META_STRING_MAX)
                break;
            used += (size_t)snprintf (buf + used, sizeof (buf) - used, "%s%s", i ? "; " : "", t);
        }
        buf[used < META_STRING_MAX ? used : META_STRING_MAX] = '\0';
        json_t *t = json_stringn (buf, utf8_cut (buf, strlen (buf), META_STRING_MAX));
        json_object_set_new (out, "text", t ? t : json_string (""));
    }
    json_decref (a);
    return out;
}

/* An enum: its members' names (h5py's bool, FALSE/TRUE, as booleans). */
static json_t *enum_attr (hid_t aid, hid_t ftype, size_t n)
{
    size_t size = H5Tget_size (ftype);
    if (n > META_ARRAY_MAX)
        return summary ("enum[%zu]", n);
    unsigned char *buf = attr_read_all (aid, ftype, n, size);
    if (!buf)
        return summary ("enum[%zu] that can't be read", n);
    json_t *a = json_array ();
    bool is_bool = false;
    if (H5Tget_nmembers (ftype) == 2) {
        char *m0 = H5Tget_member_name (ftype, 0), *m1 = H5Tget_member_name (ftype, 1);
        is_bool = m0 && m1 && !strcmp (m0, "FALSE") && !strcmp (m1, "TRUE");
        H5free_memory (m0);
        H5free_memory (m1);
    }
    for (size_t i = 0; i < n; i++) {
        char name[256];
        if (H5Tenum_nameof (ftype, buf + i * size, name, sizeof (name)) < 0) {
            H5Eclear2 (H5E_DEFAULT);
            snprintf (name, sizeof (name), "?");
        }
        json_array_append_new (a, is_bool ? json_boolean (!strcmp (name, "TRUE")) : json_string (name));
    }
    free (buf);
    json_t *out = n == 1 ? json_incref (json_array_get (a, 0)) : json_incref (a);
    json_decref (a);
    return out;
}

/* The value of the open attribute aid. */
static json_t *attr_value (hid_t aid)
{
    hid_t ftype = H5Aget_type (aid), space = H5Aget_space (aid);
    json_t *v = NULL;
    if (ftype < 0 || space < 0) {
        H5Eclear2 (H5E_DEFAULT);
        v = summary ("attribute whose type or shape can't be read");
        goto done;
    }
    if (H5Sget_simple_extent_type (space) == H5S_NULL) {
        v = json_null ();
        goto done;
    }
    hssize_t np = H5Sget_simple_extent_npoints (space);
    size_t n = np > 0 ? (size_t)np : 0;
    H5T_class_t cls = H5Tget_class (ftype);
    if (n == 0)
        v = json_array ();
    else if (cls == H5T_INTEGER || cls == H5T_FLOAT)
        v = numeric_value (aid, ftype, n);
    else if (cls == H5T_STRING)
        v = string_attr (aid, ftype, n);
    else if (cls == H5T_ENUM)
        v = enum_attr (aid, ftype, n);
    else
        v = summary ("%s attribute, %zu element%s of %zu bytes", class_name (cls), n,
                     n == 1 ? "" : "s", H5Tget_size (ftype));
done:
    if (ftype >= 0)
        H5Tclose (ftype);
    if (space >= 0)
        H5Sclose (space);
    return v ? v : summary ("attribute that can't be read");
}

struct attrs_ctx {
    json_t *obj;
    size_t omitted;
    bool all;                   /* false: leave the scale-implementing ones out */
};

static herr_t attr_visit (hid_t loc, const char *name, const H5A_info_t *ai, void *arg)
{
    struct attrs_ctx *c = arg;
    (void)ai;
    if (!c->all && structural (name))
        return 0;
    if (json_object_size (c->obj) >= META_ATTRS_MAX) {
        c->omitted++;
        return 0;
    }
    hid_t aid = H5Aopen (loc, name, H5P_DEFAULT);
    json_t *v = aid >= 0 ? attr_value (aid) : summary ("attribute that can't be opened");
    if (aid >= 0)
        H5Aclose (aid);
    H5Eclear2 (H5E_DEFAULT);
    json_object_set_new (c->obj, name, v);
    return 0;
}

/* The attributes of object loc: {NAME: value}; *omitted counts those past the limit. */
static json_t *attrs_of (hid_t loc, size_t *omitted)
{
    struct attrs_ctx c = { json_object (), 0, false };
    hsize_t idx = 0;
    if (H5Aiterate2 (loc, H5_INDEX_NAME, H5_ITER_INC, &idx, attr_visit, &c) < 0)
        H5Eclear2 (H5E_DEFAULT);
    *omitted = c.omitted;
    return c.obj;
}

/* A string attribute's value (a fixed or variable-length scalar), or "" . */
static void attr_string (hid_t loc, const char *name, char *buf, size_t len)
{
    buf[0] = '\0';
    if (H5Aexists (loc, name) <= 0) {
        H5Eclear2 (H5E_DEFAULT);
        return;
    }
    hid_t aid = H5Aopen (loc, name, H5P_DEFAULT);
    json_t *v = aid >= 0 ? attr_value (aid) : NULL;
    if (aid >= 0)
        H5Aclose (aid);
    H5Eclear2 (H5E_DEFAULT);
    if (json_is_string (v))
        snprintf (buf, len, "%s", json_string_value (v));
    json_decref (v);
}

/* One value of the 1-D dataset did at index i, as JSON (integers stay integers). */
static json_t *scale_value (hid_t did, hsize_t i, bool is_int)
{
    hid_t fs = H5Dget_space (did), ms = H5Screate (H5S_SCALAR);
    hsize_t one = 1;
    double d = 0;
    int64_t k = 0;
    json_t *v = NULL;
    if (fs >= 0 && ms >= 0 && H5Sselect_hyperslab (fs, H5S_SELECT_SET, &i, NULL, &one, NULL) >= 0
        && H5Dread (did, is_int ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT,
                    is_int ? (void *)&k : (void *)&d) >= 0)
        v = is_int ? json_integer ((json_int_t)k) : real_value (d);
    H5Eclear2 (H5E_DEFAULT);
    if (fs >= 0)
        H5Sclose (fs);
    if (ms >= 0)
        H5Sclose (ms);
    return v;
}

/* Describe scale sid (an open 1-D dataset) into dim. */
static void scale_describe (hid_t sid, json_t *dim)
{
    char path[1024] = "", nm[256];
    if (H5Iget_name (sid, path, sizeof (path)) < 0)
        H5Eclear2 (H5E_DEFAULT);
    attr_string (sid, "NAME", nm, sizeof (nm));
    bool phony = !strncmp (nm, NC_PHONY, strlen (NC_PHONY));
    const char *base = strrchr (path, '/');
    base = base ? base + 1 : path;
    json_object_set_new (dim, "name", json_string (nm[0] && !phony ? nm : base));
    json_object_set_new (dim, "scale", json_string (path));
    size_t omitted;
    json_t *attrs = attrs_of (sid, &omitted);
    json_t *units = json_object_get (attrs, "units");
    if (json_is_string (units))
        json_object_set (dim, "units", units);
    if (json_object_size (attrs))
        json_object_set (dim, "attrs", attrs);
    json_decref (attrs);
    if (phony)
        return;                     /* a netCDF dimension without values */
    hid_t tid = H5Dget_type (sid), space = H5Dget_space (sid);
    H5T_class_t cls = tid >= 0 ? H5Tget_class (tid) : H5T_NO_CLASS;
    hsize_t n = 0;
    if (space >= 0 && H5Sget_simple_extent_ndims (space) == 1)
        H5Sget_simple_extent_dims (space, &n, NULL);
    if ((cls == H5T_INTEGER || cls == H5T_FLOAT) && n > 0) {
        json_t *first = scale_value (sid, 0, cls == H5T_INTEGER);
        json_t *last = scale_value (sid, n - 1, cls == H5T_INTEGER);
        if (first && last) {
            json_object_set_new (dim, "first", first);
            json_object_set_new (dim, "last", last);
        } else {
            json_decref (first);
            json_decref (last);
        }
    }
    if (tid >= 0)
        H5Tclose (tid);
    if (space >= 0)
        H5Sclose (space);
    H5Eclear2 (H5E_DEFAULT);
}

/* dims[d] for each dimension d that has a scale attached (DIMENSION_LIST). */
static void scales_attached (hid_t did, int ndims, json_t *dims)
{
    if (H5Aexists (did, "DIMENSION_LIST") <= 0) {
        H5Eclear2 (H5E_DEFAULT);
        return;
    }
    hid_t aid = H5Aopen (did, "DIMENSION_LIST", H5P_DEFAULT);
    hid_t ftype = aid >= 0 ? H5Aget_type (aid) : -1;
    hid_t space = aid >= 0 ? H5Aget_space (aid) : -1;
    hid_t mem = H5Tvlen_create (H5T_STD_REF_OBJ);
    hssize_t np = space >= 0 ? H5Sget_simple_extent_npoints (space) : -1;
    hvl_t *lists = NULL;
    if (ftype < 0 || mem < 0 || np != ndims || H5Tget_class (ftype) != H5T_VLEN)
        goto done;
    lists = calloc ((size_t)ndims, sizeof (hvl_t));
    if (!lists || H5Aread (aid, mem, lists) < 0) {
        free (lists);
        lists = NULL;
        goto done;
    }
    for (int d = 0; d < ndims; d++) {
        if (lists[d].len < 1 || !lists[d].p)
            continue;
        hobj_ref_t *ref = lists[d].p;
        hid_t sid = H5Rdereference2 (did, H5P_DEFAULT, H5R_OBJECT, &ref[0]);
        if (sid < 0) {
            H5Eclear2 (H5E_DEFAULT);
            continue;
        }
        if (H5Iget_type (sid) == H5I_DATASET)
            scale_describe (sid, json_array_get (dims, (size_t)d));
        H5Oclose (sid);
    }
    H5Dvlen_reclaim (mem, space, H5P_DEFAULT, lists);
    free (lists);
done:
    H5Eclear2 (H5E_DEFAULT);
    if (mem >= 0)
        H5Tclose (mem);
    if (ftype >= 0)
        H5Tclose (ftype);
    if (space >= 0)
        H5Sclose (space);
    if (aid >= 0)
        H5Aclose (aid);
}

json_t *format_meta (const char *file, const char *h5path, fs_error_t *err)
{
    h5_quiet ();
    struct elink_guard g = { 0 };
    hid_t fid = file_open (file, err);
    if (fid < 0)
        return NULL;
    json_t *meta = NULL;
    hid_t dapl = make_dapl (&g, 0, 0), did = -1;
    if (dapl < 0) {
        h5_fail (err, file, h5path, "can't create a property list");
        goto done;
    }
    if ((did = dset_open (fid, file, h5path, dapl, &g, err)) < 0)
        goto done;
    fs_dsinfo_t info;
    char why[512];
    if (dset_describe (did, &info, why, sizeof (why)) != 0) {
        errprintf (err, FS_EFAIL, "%s:%s: %s", file, h5path, why[0] ? why : "can't read its header");
        H5Eclear2 (H5E_DEFAULT);
        goto done;
    }
    meta = json_object ();
    json_t *filters = json_array ();
    for (char *f = info.filters; *f;) {
        size_t k = strcspn (f, ",");
        json_array_append_new (filters, json_stringn (f, k));
        f += k + (f[k] == ',');
    }
    json_object_set_new (meta, "filters", filters);
    size_t omitted;
    json_object_set_new (meta, "attrs", attrs_of (did, &omitted));
    if (omitted)
        json_object_set_new (meta, "attrs_omitted", json_integer ((json_int_t)omitted));
    hid_t root = H5Gopen2 (fid, "/", H5P_DEFAULT);
    json_object_set_new (meta, "file_attrs", root >= 0 ? attrs_of (root, &omitted) : json_object ());
    if (root >= 0 && omitted)
        json_object_set_new (meta, "file_attrs_omitted", json_integer ((json_int_t)omitted));
    if (root >= 0)
        H5Gclose (root);
    json_t *dims = json_array ();
    for (int d = 0; d < info.ndims; d++)
        json_array_append_new (dims, json_pack ("{s:I}", "size", (json_int_t)info.shape[d]));
    json_object_set_new (meta, "dims", dims);
    char cls[64];
    attr_string (did, "CLASS", cls, sizeof (cls));
    if (info.ndims == 1 && !strcmp (cls, "DIMENSION_SCALE"))
        scale_describe (did, json_array_get (dims, 0));
    else
        scales_attached (did, info.ndims, dims);
done:
    H5Eclear2 (H5E_DEFAULT);
    if (did >= 0)
        H5Dclose (did);
    if (dapl >= 0)
        H5Pclose (dapl);
    H5Fclose (fid);
    return meta;
}
