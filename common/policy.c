/* policy.c - data policies (SPEC section 6).
 *
 * String forms: "raw", "none", "regions=R1,R2", "aggregate=B1xB2..".  The
 * aggregate block sizes are per *dataset* dimension; a reduction's blocks are
 * per *result* dimension (integer indices drop theirs), so the check below
 * walks both in step.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "names.h"
#include "policy.h"

static const char *policy_usage = "expected raw, none, regions=R1,R2 or aggregate=B1xB2..";

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
        if (p->nregions == FS_POLICY_MAXREGIONS)
            return errprintf (err, FS_EINVAL, "policy '%.200s': too many regions (at most %d)",
                              s, FS_POLICY_MAXREGIONS);
        memcpy (p->regions[p->nregions++], region, len + 1);
        if (!end)
            return 0;
        q = end + 1;
    }
}

static int parse_blocks (const char *s, const char *list, fs_policy_t *p, fs_error_t *err)
{
    const char *q = list;
    for (;;) {
        const char *at = q;
        if (!isdigit ((unsigned char)*q))
            return errprintf (err, FS_EINVAL, "policy '%.200s' at column %zu: expected a block "
                              "size (an integer >= 1)", s, (size_t)(at - s) + 1);
        uint64_t v = 0;
        for (; isdigit ((unsigned char)*q); q++) {
            unsigned dg = (unsigned)(*q - '0');
            if (v > ((uint64_t)INT64_MAX - dg) / 10)
                return errprintf (err, FS_EINVAL, "policy '%.200s' at column %zu: block size "
                                  "does not fit in 63 bits", s, (size_t)(at - s) + 1);
            v = v * 10 + dg;
        }
        if (v == 0)
            return errprintf (err, FS_EINVAL, "policy '%.200s' at column %zu: block size must "
                              "be at least 1", s, (size_t)(at - s) + 1);
        if (p->nblock == FS_MAXDIMS)
            return errprintf (err, FS_EINVAL, "policy '%.200s': too many block sizes (at most "
                              "%d)", s, FS_MAXDIMS);
        p->min_block[p->nblock++] = v;
        if (*q == '\0')
            return 0;
        if (*q != 'x')
            return errprintf (err, FS_EINVAL, "policy '%.200s' at column %zu: unexpected "
                              "character '%c': block sizes are separated by 'x', e.g. "
                              "aggregate=4x4", s, (size_t)(q - s) + 1, *q);
        q++;
    }
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
        if (parse_blocks (s, s + 10, &p, err) < 0)
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
    size_t len = 0;

    if (n == 0)
        return buf;
    buf[0] = '\0';
#define APPEND(...) \
    do { \
        if (len < n) { \
            int w_ = snprintf (buf + len, n - len, __VA_ARGS__); \
            len += w_ > 0 ? (size_t)w_ : 0; \
        } \
    } while (0)
    switch (p->kind) {
    case POLICY_RAW:
        APPEND ("raw");
        break;
    case POLICY_NONE:
        APPEND ("none");
        break;
    case POLICY_REGIONS:
        APPEND ("regions=");
        for (int i = 0; i < p->nregions; i++)
            APPEND ("%s%s", i ? "," : "", p->regions[i]);
        break;
    case POLICY_AGGREGATE:
        APPEND ("aggregate=");
        for (int i = 0; i < p->nblock; i++)
            APPEND ("%s%llu", i ? "x" : "", (unsigned long long)p->min_block[i]);
        break;
    default:
        APPEND ("invalid");
        break;
    }
#undef APPEND
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

/* Why reduction r over sel does not satisfy aggregate policy p: 0 if it does,
 * else -1 with FS_EFAIL and text. */
static int aggregate_check (const fs_policy_t *p, const fs_sel_t *sel, const fs_reduce_t *r,
                            fs_error_t *err)
{
    char pol[1024];
    policy_format (p, pol, sizeof (pol));

    if (!r || r->op == RED_NONE)
        return errprintf (err, FS_EFAIL, "dataset policy '%s' lets only block reductions leave "
                          "its site: add --reduce OP:B1,B2,.. (OP mean, sum, min or max) with "
                          "blocks at least as large, or run a job at the site", pol);
    if (sel->ndims != p->nblock)
        return errprintf (err, FS_EFAIL, "dataset policy '%s' has %d block sizes but the dataset "
                          "has %d dimensions: ask the site operator to fix the policy", pol,
                          p->nblock, sel->ndims);
    int nres = 0;
    for (int d = 0; d < sel->ndims; d++)
        nres += !sel->dropped[d];
    if (r->nblock != nres)
        return errprintf (err, FS_EFAIL, "--reduce %s gives %d block sizes but the slice has %d "
                          "dimensions (integer indices drop theirs)", reduce_op_name (r->op),
                          r->nblock, nres);
    int j = 0;
    for (int d = 0; d < sel->ndims; d++) {
        if (sel->dropped[d]) {
            if (p->min_block[d] > 1)
                return errprintf (err, FS_EFAIL, "dataset dimension %d is indexed by an integer, "
                                  "so each block covers 1 element along it, but dataset policy "
                                  "'%s' needs at least %llu: select a range there and reduce "
                                  "it", d, pol, (unsigned long long)p->min_block[d]);
            continue;
        }
        if (r->block[j] < p->min_block[d])
            return errprintf (err, FS_EFAIL, "--reduce block %llu along result dimension %d "
                              "(dataset dimension %d) is too small: dataset policy '%s' needs "
                              "at least %llu", (unsigned long long)r->block[j], j, d, pol,
                              (unsigned long long)p->min_block[d]);
        j++;
    }
    return 0;
}

bool policy_reduce_satisfies (const fs_policy_t *p, const fs_sel_t *sel, const fs_reduce_t *r)
{
    switch (p->kind) {
    case POLICY_RAW:
        return true;
    case POLICY_AGGREGATE:
        return aggregate_check (p, sel, r, NULL) == 0;
    default:
        return false;
    }
}

int policy_allows_get (const fs_policy_t *p, const fs_sel_t *sel, const fs_reduce_t *r,
                       fs_error_t *err)
{
    char pol[1024];

    switch (p->kind) {
    case POLICY_RAW:
        return 0;
    case POLICY_AGGREGATE:
        return aggregate_check (p, sel, r, err);
    case POLICY_REGIONS:
        return errprintf (err, FS_EFAIL, "dataset policy '%s' keeps its bytes at sites of those "
                          "regions: run a job there instead",
                          policy_format (p, pol, sizeof (pol)));
    case POLICY_NONE:
        return errprintf (err, FS_EFAIL, "dataset policy 'none' keeps its bytes at its site: "
                          "run a job there instead");
    }
    return errprintf (err, FS_EFAIL, "dataset policy is invalid: refused");
}

int policy_rank (const fs_policy_t *p)
{
    switch (p->kind) {
    case POLICY_RAW:
        return 0;
    case POLICY_REGIONS:
        return 1;
    case POLICY_AGGREGATE:
        return 2;
    case POLICY_NONE:
        return 3;
    }
    return 3;
}

int policy_allows_site (const fs_policy_t *p, bool same_site, const char *reader_region,
                        const fs_sel_t *sel, const fs_reduce_t *r, fs_error_t *err)
{
    if (same_site || p->kind == POLICY_RAW)
        return 0;
    switch (p->kind) {
    case POLICY_REGIONS:
        for (int i = 0; i < p->nregions; i++)
            if (reader_region && !strcmp (p->regions[i], reader_region))
                return 0;
        return errprintf (err, FS_EFAIL, "dataset policy keeps its raw bytes in its regions; "
                          "region '%s' is not one of them", reader_region ? reader_region : "");
    case POLICY_AGGREGATE:
        if (r && r->op != RED_NONE && policy_reduce_satisfies (p, sel, r))
            return 0;
        return errprintf (err, FS_EFAIL, "dataset policy 'aggregate' lets only large enough "
                          "block reductions leave its site");
    default:
        return errprintf (err, FS_EFAIL, "dataset policy 'none' keeps its bytes at its site");
    }
}
