/* units.c - durations, sizes and rates as people write them (see units.h). */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "units.h"

/* Durations above this many seconds (about 31 years) are refused. */
#define UNITS_DURATION_MAX 1e9

/* An unsigned decimal number "123", "1.5", ".5", "2." (no sign, no exponent,
 * no hex, no inf/nan).  *v: its value; *iv and *is_int: the exact integer when
 * there is no fractional part and it fits (else *is_int is false).  Returns
 * the end, or NULL if s does not start with a number. */
static const char *scan_number (const char *s, double *v, uint64_t *iv, bool *is_int)
{
    const char *p = s;
    double d = 0;
    uint64_t u = 0;
    bool fits = true, digits = false;
    for (; *p >= '0' && *p <= '9'; p++) {
        digits = true;
        int k = *p - '0';
        d = d * 10 + k;
        if (u > (UINT64_MAX - (uint64_t) k) / 10)
            fits = false;
        else
            u = u * 10 + (uint64_t) k;
    }
    bool frac = false;
    if (*p == '.') {
        p++;
        uint64_t m = 0;
        double scale = 1;
        for (; *p >= '0' && *p <= '9'; p++) {
            digits = true;
            if (m < 100000000000000000ULL) {
                m = m * 10 + (uint64_t) (*p - '0');
                scale *= 10;
            }
            if (*p != '0')
                frac = true;
        }
        d += (double) m / scale;
    }
    if (!digits)
        return NULL;
    *v = d;
    *iv = u;
    *is_int = fits && !frac;
    return p;
}

static const char *skip_spaces (const char *p)
{
    while (*p == ' ')
        p++;
    return p;
}

static int bad_number_start (const char *kind, const char *s, fs_error_t *err, const char *hint)
{
    char q[80];
    errquote (s, q, sizeof (q));
    if (*s == '-')
        return errprintf (err, FS_EINVAL, "invalid %s '%s': must not be negative", kind, q);
    if (!*s)
        return errprintf (err, FS_EINVAL, "invalid %s: empty (%s)", kind, hint);
    return errprintf (err, FS_EINVAL, "invalid %s '%s': %s", kind, q, hint);
}

static const char duration_hint[] =
    "expected a number with a unit (us, ms, s, m, h, d) or HH:MM:SS";

/* "H:MM:SS" or "M:SS", seconds may have a fraction. */
static int parse_clock (const char *s, double *seconds, fs_error_t *err)
{
    double part[3];
    int np = 0;
    const char *p = s;
    char q[80];
    for (;;) {
        uint64_t iv;
        bool is_int;
        if (np == 3)
            goto bad;
        const char *e = scan_number (p, &part[np], &iv, &is_int);
        if (!e)
            goto bad;
        np++;
        if (*e == ':') {
            if (!is_int)            /* only the seconds may have a fraction */
                goto bad;
            p = e + 1;
            continue;
        }
        if (*e != '\0')
            goto bad;
        break;
    }
    if (np < 2)
        goto bad;
    if (part[np - 1] >= 60 || (np == 3 && part[1] >= 60))
        return errprintf (err, FS_EINVAL, "invalid duration '%s': minutes and seconds must be "
                          "below 60 in HH:MM:SS", errquote (s, q, sizeof (q)));
    *seconds = np == 3 ? part[0] * 3600 + part[1] * 60 + part[2] : part[0] * 60 + part[1];
    return 0;
bad:
    return bad_number_start ("duration", s, err, duration_hint);
}

int parse_duration (const char *s, double *seconds, fs_error_t *err)
{
    static const struct { const char *unit; double mult; } units[] = {
        { "", 1 }, { "us", 1e-6 }, { "ms", 1e-3 }, { "s", 1 }, { "sec", 1 }, { "m", 60 },
        { "min", 60 }, { "h", 3600 }, { "d", 86400 },
    };
    char q[80];
    if (!s)
        s = "";
    double v;
    if (strchr (s, ':')) {
        if (parse_clock (s, &v, err) < 0)
            return -1;
    }
    else {
        uint64_t iv;
        bool is_int;
        const char *e = scan_number (s, &v, &iv, &is_int);
        if (!e)
            return bad_number_start ("duration", s, err, duration_hint);
        e = skip_spaces (e);
        size_t i;
        for (i = 0; i < sizeof (units) / sizeof (units[0]); i++)
            if (!strcmp (e, units[i].unit))
                break;
        if (i == sizeof (units) / sizeof (units[0]))
            return errprintf (err, FS_EINVAL, "invalid duration '%s': %s",
                              errquote (s, q, sizeof (q)), duration_hint);
        v *= units[i].mult;
    }
    if (!isfinite (v) || v > UNITS_DURATION_MAX)
        return errprintf (err, FS_EINVAL, "invalid duration '%s': too large (at most %.0f s)",
                          errquote (s, q, sizeof (q)), UNITS_DURATION_MAX);
    *seconds = v;
    return 0;
}

struct unit {
    const char *name;
    uint64_t mult;
};

#define KI 1024ULL
static const struct unit byte_units[] = {
    { "", 1 }, { "B", 1 },
    { "kB", 1000ULL }, { "KB", 1000ULL }, { "MB", 1000000ULL }, { "GB", 1000000000ULL },
    { "TB", 1000000000000ULL }, { "PB", 1000000000000000ULL }, { "EB", 1000000000000000000ULL },
    { "KiB", KI }, { "MiB", KI * KI }, { "GiB", KI * KI * KI }, { "TiB", KI * KI * KI * KI },
    { "PiB", KI * KI * KI * KI * KI }, { "EiB", KI * KI * KI * KI * KI * KI },
    { NULL, 0 },
};

/* Bit prefixes: "bit" / "bps" follow them. */
static const struct unit bit_prefixes[] = {
    { "", 1 }, { "k", 1000ULL }, { "K", 1000ULL }, { "M", 1000000ULL }, { "G", 1000000000ULL },
    { "T", 1000000000000ULL }, { "P", 1000000000000000ULL },
    { "Ki", KI }, { "Mi", KI * KI }, { "Gi", KI * KI * KI }, { "Ti", KI * KI * KI * KI },
    { NULL, 0 },
};

static const struct unit *find_unit (const struct unit *tab, const char *s, size_t len)
{
    for (const struct unit *u = tab; u->name; u++)
        if (strlen (u->name) == len && strncmp (u->name, s, len) == 0)
            return u;
    return NULL;
}

static const char size_hint[] =
    "expected a number of bytes with an optional unit (B, kB, MB, GB, TB, KiB, MiB, GiB, TiB)";

int parse_size (const char *s, uint64_t *bytes, fs_error_t *err)
{
    char q[80];
    if (!s)
        s = "";
    double v;
    uint64_t iv;
    bool is_int;
    const char *e = scan_number (s, &v, &iv, &is_int);
    if (!e)
        return bad_number_start ("size", s, err, size_hint);
    e = skip_spaces (e);
    const struct unit *u = find_unit (byte_units, e, strlen (e));
    if (!u)
        return errprintf (err, FS_EINVAL, "invalid size '%s': %s", errquote (s, q, sizeof (q)),
                          size_hint);
    uint64_t r;
    if (is_int) {
        if (__builtin_mul_overflow (iv, u->mult, &r))
            goto overflow;
    }
    else {
        double d = v * (double) u->mult;
        if (!isfinite (d) || d >= 18446744073709551616.0)
            goto overflow;
        if (u->mult == 1 && d != floor (d))
            return errprintf (err, FS_EINVAL, "invalid size '%s': not a whole number of bytes",
                              errquote (s, q, sizeof (q)));
        d = floor (d + 0.5);
        if (d >= 18446744073709551616.0)
            goto overflow;
        r = (uint64_t) d;
    }
    *bytes = r;
    return 0;
overflow:
    return errprintf (err, FS_EINVAL, "invalid size '%s': too large (at most 16 EiB)",
                      errquote (s, q, sizeof (q)));
}

static const char rate_hint[] =
    "expected a number with a unit such as 100MB/s, 1.5GB/s, 1GiB/s, 10Gbit/s or 800Mbps";

int parse_rate (const char *s, double *bytes_per_s, fs_error_t *err)
{
    char q[80];
    if (!s)
        s = "";
    double v;
    uint64_t iv;
    bool is_int;
    const char *e = scan_number (s, &v, &iv, &is_int);
    if (!e)
        return bad_number_start ("rate", s, err, rate_hint);
    e = skip_spaces (e);
    size_t len = strlen (e);
    double mult = 0;
    const struct unit *u;
    if (len == 0)
        mult = 1;                                   /* bare number: bytes/s */
    else if (len > 2 && strcmp (e + len - 2, "/s") == 0) {
        size_t ul = len - 2;
        if (ul >= 1 && e[ul - 1] == 'B' && (u = find_unit (byte_units, e, ul)))
            mult = (double) u->mult;
        else if (ul >= 3 && strncmp (e + ul - 3, "bit", 3) == 0
                 && (u = find_unit (bit_prefixes, e, ul - 3)))
            mult = (double) u->mult / 8;
    }
    else if (len >= 3 && strcmp (e + len - 3, "bps") == 0
             && (u = find_unit (bit_prefixes, e, len - 3)))
        mult = (double) u->mult / 8;
    if (mult == 0)
        return errprintf (err, FS_EINVAL, "invalid rate '%s': %s", errquote (s, q, sizeof (q)),
                          rate_hint);
    double r = v * mult;
    if (!isfinite (r) || r > 1e21)
        return errprintf (err, FS_EINVAL, "invalid rate '%s': too large",
                          errquote (s, q, sizeof (q)));
    if (r <= 0)
        return errprintf (err, FS_EINVAL, "invalid rate '%s': must be positive",
                          errquote (s, q, sizeof (q)));
    *bytes_per_s = r;
    return 0;
}
