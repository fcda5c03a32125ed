/* policy.c - data policies (SPEC section 6): the one policy engine (see
 * policy.h for the model).
 *
 * String forms: "raw", "none", "regions=R1,R2", "aggregate=B1xB2..[,min=K]".
 * The aggregate cells are per *dataset* dimension; a reduction's blocks are
 * per *result* dimension (integer indices drop theirs), so the checks below
 * walk both in step.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "names.h"
#include "policy.h"
#include "sbuf.h"

static const char *policy_usage =
    "expected raw, none, regions=R1,R2 or aggregate=B1xB2..[,min=K]";

/* ---- parse and format ------------------------------------------------------ */

static int parse_regions (const char *s, const char *list, fs_policy_t *p, fs_error_t *err)
{
    const char *q = list;
    for (;;) {
        const char *end = strchr (q, ',');
        size_t len = end ? (size_t)(end - q) : strlen (q);
        char region[64];
        if (len == 0)
            return errprintf (err, FS_EINVAL, "policy '%.200s' at column %zu: empty region name",
                              s, (size_t)(q - s) + 1);
        if (len >= sizeof (region))
            return errprintf (err, FS_EINVAL, "policy '%.200s' at column %zu: region name is "
                              "%zu bytes long, at most 63 allowed", s, (size_t)(q - s) + 1, len);
        memcpy (region, q, len);
        region[len] = '\0';
        if (ident_valid ("region", region, err) < 0)
            return errprefix (err, "policy '%.200s'", s);
        bool dup = false;           /* a region listed twice counts once */
        for (int i = 0; i < p->nregions && !dup; i++)
            dup = !strcmp (p->regions[i], region);
        if (!dup && p->nregions == FS_POLICY_MAXREGIONS)
            return errprintf (err, FS_EINVAL, "policy '%.200s': too many regions (at most %d)",
                              s, FS_POLICY_MAXREGIONS);
        if (!dup)
            memcpy (p->regions[p->nregions++], region, len + 1);
        if (!end)
            return 0;
        q = end + 1;
    }
}

/* An unsigned decimal at *q (advanced past it), 1..max; column for messages. */
static int parse_count (const char *s, const char **q, uint64_t max, const char *what,
                        uint64_t *out, fs_error_t *err)
{
    const char *at = *q;
    if (!isdigit ((unsigned char)**q))
        return errprintf (err, FS_EINVAL, "policy '%.200s' at column %zu: expected %s (an "
                          "integer >= 1)", s, (size_t)(at - s) + 1, what);
    uint64_t v = 0;
    for (; isdigit ((unsigned char)**q); (*q)++) {
        unsigned dg = (unsigned)(**q - '0');
        if (v > (max - dg) / 10)
            return errprintf (err, FS_EINVAL, "policy '%.200s' at column %zu: %s is larger "
                              "than %" PRIu64, s, (size_t)(at - s) + 1, what, max);
        v = v * 10 + dg;
    }
    if (v == 0)
        return errprintf (err, FS_EINVAL, "policy '%.200s' at column %zu: %s must be at least 1",
                          s, (size_t)(at - s) + 1, what);
    *out = v;
    return 0;
}

/* B1xB2..[,min=K] */
static int parse_aggregate (const char *s, const char *list, fs_policy_t *p, fs_error_t *err)
{
    const char *q = list;
    for (;;) {
        uint64_t v;
        if (parse_count (s, &q, (uint64_t)INT64_MAX, "a block size", &v, err) < 0)
            return -1;
        if (p->nblock == FS_MAXDIMS)
            return errprintf (err, FS_EINVAL, "policy '%.200s': too many block sizes (at most "
                              "%d)", s, FS_MAXDIMS);
        p->min_block[p->nblock++] = v;
        if (*q == '\0')
            return 0;
        if (*q == ',')
            break;
        if (*q != 'x')
            return errprintf (err, FS_EINVAL, "policy '%.200s' at column %zu: unexpected "
                              "character '%c': block sizes are separated by 'x', e.g. "
                              "aggregate=4x4 (and a threshold follows as ',min=K')", s,
                              (size_t)(q - s) + 1, *q);
        q++;
    }
    q++;
    if (strncmp (q, "min=", 4))
        return errprintf (err, FS_EINVAL, "policy '%.200s' at column %zu: expected 'min=K' "
                          "after the block sizes, e.g. aggregate=4x4,min=5", s,
                          (size_t)(q - s) + 1);
    q += 4;
    if (parse_count (s, &q, FS_POLICY_MIN_MAX, "the threshold min", &p->min, err) < 0)
        return -1;
    if (*q)
        return errprintf (err, FS_EINVAL, "policy '%.200s' at column %zu: unexpected '%c' "
                          "after the threshold", s, (size_t)(q - s) + 1, *q);
    return 0;
}

int policy_parse (const char *s, fs_policy_t *out, fs_error_t *err)
{
    fs_policy_t p;

    if (!s)
        return errprintf (err, FS_EINVAL, "policy is missing: %s", policy_usage);
    memset (&p, 0, sizeof (p));
    if (strcmp (s, "raw") == 0)
        p.kind = POLICY_RAW;
    else if (strcmp (s, "none") == 0)
        p.kind = POLICY_NONE;
    else if (strncmp (s, "regions=", 8) == 0) {
        p.kind = POLICY_REGIONS;
        if (parse_regions (s, s + 8, &p, err) < 0)
            return -1;
    }
    else if (strncmp (s, "aggregate=", 10) == 0) {
        p.kind = POLICY_AGGREGATE;
        if (parse_aggregate (s, s + 10, &p, err) < 0)
            return -1;
    }
    else if (strcmp (s, "regions") == 0 || strcmp (s, "aggregate") == 0)
        return errprintf (err, FS_EINVAL, "policy '%s' needs a value: %s", s, policy_usage);
    else
        return errprintf (err, FS_EINVAL, "unknown policy '%.200s': %s", s, policy_usage);
    *out = p;
    return 0;
}

char *policy_format (const fs_policy_t *p, char *buf, size_t n)
{
    struct sbuf b;
    sbuf_init (&b, buf, n);
    if (n == 0)
        return buf;
    buf[0] = '\0';
    switch (p->kind) {
    case POLICY_RAW:
        sbuf_printf (&b, "raw");
        break;
    case POLICY_NONE:
        sbuf_printf (&b, "none");
        break;
    case POLICY_REGIONS:
        sbuf_printf (&b, "regions=");
        for (int i = 0; i < p->nregions; i++)
            sbuf_printf (&b, "%s%s", i ? "," : "", p->regions[i]);
        break;
    case POLICY_AGGREGATE:
        sbuf_printf (&b, "aggregate=");
        for (int i = 0; i < p->nblock; i++)
            sbuf_printf (&b, "%s%" PRIu64, i ? "x" : "", p->min_block[i]);
        if (p->min)
            sbuf_printf (&b, ",min=%" PRIu64, p->min);
        break;
    default:
        sbuf_printf (&b, "invalid");
        break;
    }
    return buf;
}

int policy_check_rank (const fs_policy_t *p, int ndims, fs_error_t *err)
{
    char buf[1024];

    if (p->kind != POLICY_AGGREGATE || p->nblock == ndims)
        return 0;
    return errprintf (err, FS_EINVAL, "policy '%s' gives %d block size%s but the dataset has %d "
                      "dimension%s: give one minimum block size per dimension",
                      policy_format (p, buf, sizeof (buf)), p->nblock, p->nblock == 1 ? "" : "s",
                      ndims, ndims == 1 ? "" : "s");
}

/* ---- aggregate reads --------------------------------------------------------- */

/* The nearest read that satisfies aggregate p, as "NAME[a:b, ...] --reduce
 * OP:B1,..": along each dimension the selection starts at the grid line at or
 * before the requested start, with step 1, blocks of the requested extent
 * rounded to a whole number of cells, and as many blocks as cover the
 * requested range (at least one, none past the dataset's end when shape is
 * known); an integer index stays where the cell is 1 wide, else becomes its
 * cell. */
static void nearest_aligned (const fs_policy_t *p, const char *name, const uint64_t *shape,
                             const fs_sel_t *sel, const fs_reduce_t *r, struct sbuf *b)
{
    uint64_t blocks[FS_MAXDIMS];
    int nb = 0, j = 0;
    sbuf_printf (b, "%s[", name ? name : "");
    for (int d = 0; d < sel->ndims && d < p->nblock; d++) {
        uint64_t m = p->min_block[d], s = sel->start[d];
        if (d)
            sbuf_printf (b, ", ");
        if (sel->dropped[d]) {
            if (m == 1)
                sbuf_printf (b, "%" PRIu64, s);
            else {
                sbuf_printf (b, "%" PRIu64 ":%" PRIu64, s / m * m, s / m * m + m);
                blocks[nb++] = m;
            }
            continue;
        }
        uint64_t st = sel->step[d] ? sel->step[d] : 1, c = sel->count[d];
        uint64_t want = r && r->op != RED_NONE && j < r->nblock ? r->block[j] : m;
        j++;
        uint64_t end = c ? s + (c - 1) * st + 1 : s;        /* past the last element read */
        uint64_t a = s / m * m;
        uint64_t ext = want > UINT64_MAX / st ? UINT64_MAX / 2 : want * st;
        uint64_t cell = (ext + m / 2) / m * m;
        if (cell < m)
            cell = m;
        if (shape && shape[d] >= m) {       /* whole cells inside the dataset */
            if (a + m > shape[d])
                a = shape[d] / m * m - m;
            uint64_t room = (shape[d] - a) / m * m;
            if (cell > room)
                cell = room;
        }
        uint64_t n = end > a ? (end - a + cell / 2) / cell : 0;
        if (n < 1)
            n = 1;
        while (shape && n > 1 && a + n * cell > shape[d])
            n--;
        sbuf_printf (b, "%" PRIu64 ":%" PRIu64, a, a + n * cell);
        blocks[nb++] = cell;
    }
    const char *op = r && (r->op == RED_MEAN || r->op == RED_SUM) ? reduce_op_name (r->op) : "sum";
    sbuf_printf (b, "] --reduce %s:", op);
    for (int i = 0; i < nb; i++)
        sbuf_printf (b, "%s%" PRIu64, i ? "," : "", blocks[i]);
}

int policy_aggregate_check (const fs_policy_t *p, const char *name, const uint64_t *shape,
                            const fs_sel_t *sel, const fs_reduce_t *r, fs_error_t *err)
{
    char pol[1024], why[600], near[800];
    struct sbuf w;
    sbuf_init (&w, why, sizeof (why));
    policy_format (p, pol, sizeof (pol));
    why[0] = near[0] = '\0';

    if (p->kind != POLICY_AGGREGATE)
        return errprintf (err, FS_EFAIL, "dataset policy '%s' is not an aggregate policy", pol);
    if (sel->ndims != p->nblock)
        return errprintf (err, FS_EFAIL, "dataset policy '%s' has %d block sizes but the dataset "
                          "has %d dimensions: ask the site operator to fix the policy", pol,
                          p->nblock, sel->ndims);
    int nres = 0;
    for (int d = 0; d < sel->ndims; d++)
        nres += !sel->dropped[d];
    if (!r || r->op == RED_NONE)
        sbuf_printf (&w, "it lets only sums and means over whole cells of its grid leave its site, "
                   "and this read has no reduction");
    else if (r->op != RED_SUM && r->op != RED_MEAN)
        sbuf_printf (&w, "%s discloses single values: only sum and mean satisfy it",
                   reduce_op_name (r->op));
    else if (r->nblock != nres)
        sbuf_printf (&w, "the reduction gives %d block sizes but the selection has %d dimensions "
                   "(integer indices drop theirs)", r->nblock, nres);
    else
        for (int d = 0, j = 0; d < sel->ndims && !w.len; d++) {
            uint64_t m = p->min_block[d];
            if (sel->dropped[d]) {
                if (m > 1)
                    sbuf_printf (&w, "dimension %d is indexed by an integer (a block of 1 element) "
                               "but the grid's cells are %" PRIu64 " wide there", d, m);
                continue;
            }
            uint64_t b = r->block[j++];
            if (sel->step[d] != 1)
                sbuf_printf (&w, "dimension %d is read with step %" PRIu64 ": blocks of scattered "
                           "elements are not cells of the grid (use step 1)", d, sel->step[d]);
            else if (sel->start[d] % m)
                sbuf_printf (&w, "dimension %d starts at %" PRIu64 ", off the grid (its cells "
                           "start at multiples of %" PRIu64 ")", d, sel->start[d], m);
            else if (b % m)
                sbuf_printf (&w, "blocks of %" PRIu64 " along dimension %d are not whole cells of "
                           "%" PRIu64, b, d, m);
        }
    if (!w.len)
        return 0;
    struct sbuf nb;
    sbuf_init (&nb, near, sizeof (near));
    nearest_aligned (p, name, shape, sel, r, &nb);
    return errprintf (err, FS_EFAIL, "dataset policy '%s': %s; nearest aligned read: %s", pol, why,
                      near);
}

bool policy_reduce_satisfies (const fs_policy_t *p, const fs_sel_t *sel, const fs_reduce_t *r)
{
    switch (p->kind) {
    case POLICY_RAW:
        return true;
    case POLICY_AGGREGATE:
        return policy_aggregate_check (p, NULL, NULL, sel, r, NULL) == 0;
    default:
        return false;
    }
}

static bool region_listed (const fs_policy_t *p, const char *region)
{
    for (int i = 0; region && i < p->nregions; i++)
        if (!strcmp (p->regions[i], region))
            return true;
    return false;
}

int policy_read (const fs_policy_t *p, const struct policy_reader *reader, const char *name,
                 const uint64_t *shape, const fs_sel_t *sel, const fs_reduce_t *r,
                 struct policy_grant *grant, fs_error_t *err)
{
    struct policy_grant g = { false, 0 };
    char pol[1024];
    fs_error_t why = { 0, "" };
    if (grant)
        *grant = g;
    if (p->kind == POLICY_AGGREGATE && r && r->op != RED_NONE
        && policy_aggregate_check (p, name, shape, sel, r, &why) == 0) {
        g.aggregate = true;
        g.min = p->min;
        if (grant)
            *grant = g;
        return 0;
    }
    if (reader->kind == POLICY_READER_HOLDER || p->kind == POLICY_RAW)
        return 0;
    policy_format (p, pol, sizeof (pol));
    switch (p->kind) {
    case POLICY_REGIONS:
        if (reader->kind == POLICY_READER_SITE && region_listed (p, reader->region))
            return 0;
        if (reader->kind == POLICY_READER_SITE)
            return errprintf (err, FS_EFAIL, "dataset policy '%s' keeps its raw bytes at sites "
                              "of those regions, and the reader is in region '%s'", pol,
                              reader->region ? reader->region : "");
        return errprintf (err, FS_EFAIL, "dataset policy '%s' keeps its bytes at sites of those "
                          "regions: run a job there instead", pol);
    case POLICY_AGGREGATE:
        if (!why.text[0])       /* no reduction: the check above did not run */
            policy_aggregate_check (p, name, shape, sel, r, &why);
        return errprintf (err, FS_EFAIL, "%s (or run a job at the site)", why.text);
    case POLICY_NONE:
    default:
        return errprintf (err, FS_EFAIL, "dataset policy 'none' keeps its bytes at its site: "
                          "run a job there instead");
    }
}

/* ---- where data may be read ------------------------------------------------ */

static const fs_policy_t raw_policy = { .kind = POLICY_RAW };
static const fs_policy_t none_policy = { .kind = POLICY_NONE };

const fs_policy_t *policy_moves (const fs_policy_t *p, bool satisfied)
{
    if (!p || p->kind == POLICY_RAW || (p->kind == POLICY_AGGREGATE && satisfied))
        return &raw_policy;
    return p;
}

bool policy_site_allows (const fs_policy_t *m, bool holder, const char *region)
{
    if (holder || !m || m->kind == POLICY_RAW)
        return true;
    return m->kind == POLICY_REGIONS && region_listed (m, region);
}

bool policy_bytes_leave (const fs_policy_t *m)
{
    return !m || m->kind == POLICY_RAW || m->kind == POLICY_REGIONS;
}

/* ---- derived data and publishing ------------------------------------------- */

static uint64_t gcd (uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

void policy_meet (const fs_policy_t *a, const fs_policy_t *b, fs_policy_t *out)
{
    fs_policy_t r;
    if (a->kind == POLICY_RAW || b->kind == POLICY_NONE) {
        *out = *b;
        return;
    }
    if (b->kind == POLICY_RAW || a->kind == POLICY_NONE) {
        *out = *a;
        return;
    }
    r = none_policy;
    if (a->kind == POLICY_REGIONS && b->kind == POLICY_REGIONS) {
        r.kind = POLICY_REGIONS;
        for (int i = 0; i < a->nregions; i++)
            if (region_listed (b, a->regions[i]))
                memcpy (r.regions[r.nregions++], a->regions[i], sizeof (r.regions[0]));
        if (r.nregions == 0)
            r = none_policy;
    }
    else if (a->kind == POLICY_AGGREGATE && b->kind == POLICY_AGGREGATE
             && a->nblock == b->nblock) {
        r.kind = POLICY_AGGREGATE;
        r.nblock = a->nblock;
        r.min = a->min > b->min ? a->min : b->min;
        for (int d = 0; d < a->nblock; d++) {
            uint64_t x = a->min_block[d], y = b->min_block[d], g = gcd (x, y);
            if (x / g > (uint64_t)INT64_MAX / y) {      /* no cell that large: nowhere */
                r = none_policy;
                break;
            }
            r.min_block[d] = x / g * y;
        }
    }
    *out = r;
}

bool policy_equal (const fs_policy_t *a, const fs_policy_t *b)
{
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case POLICY_REGIONS:        /* as sets */
        for (int i = 0; i < a->nregions; i++)
            if (!region_listed (b, a->regions[i]))
                return false;
        for (int i = 0; i < b->nregions; i++)
            if (!region_listed (a, b->regions[i]))
                return false;
        return true;
    case POLICY_AGGREGATE:
        if (a->nblock != b->nblock || a->min != b->min)
            return false;
        for (int d = 0; d < a->nblock; d++)
            if (a->min_block[d] != b->min_block[d])
                return false;
        return true;
    default:
        return true;
    }
}

bool policy_at_least_as_strict (const fs_policy_t *a, const fs_policy_t *b)
{
    fs_policy_t m;
    policy_meet (a, b, &m);
    return policy_equal (&m, a);
}
