/* fuzz_parsers.c - libFuzzer harness for the small string parsers:
 * common/policy.h (policy_parse and the policy checks), common/names.h
 * (name_valid, ident_valid, name_for_dataset, name_glob, name_is_hdf5_file)
 * and common/units.h (parse_duration, parse_rate, parse_size).
 *
 * Input: text split at '\n' into up to four parts.  Every parser runs on
 * every part; then the parts are combined:
 *   policy_parse(p0) checked against slice p1 (resolved on a 3-D shape from
 *   p1's length), reduction p2 and reader region p3;
 *   name_for_dataset(p0, p1, p2); name_glob(p0, p1) when p1 is a valid name.
 *
 * Invariants checked:
 *   - every failure is -1 with FS_EINVAL (FS_EFAIL for the policy refusals)
 *     and a message;
 *   - name_valid / ident_valid agree with an independent predicate written
 *     from names.h's description;
 *   - a parsed policy formats to text that parses to the same policy;
 *     policy_read / policy_reduce_satisfies / policy_site_allows follow
 *     policy.h; a refused aggregate read's nearest aligned read is allowed;
 *     the meet with a second policy (p3) is at least as strict as both;
 *   - durations are finite, 0..1e9 s, and survive "%.9f"; sizes survive
 *     "%llu"; rates are finite, positive, at most 1e21 and survive "%.6f".
 * Everything is freed (LeakSanitizer runs after each input).
 */
#include <math.h>

#include "fuzz_util.h"
#include "common/names.h"
#include "common/policy.h"
#include "common/slice.h"
#include "common/units.h"
#include "common/ydoc.h"

static void check_fail (int rc, const fs_error_t *e, int code, const char *what)
{
    FUZZ_CHECK (rc == -1, "%s returned %d", what, rc);
    FUZZ_CHECK (e->code == code, "%s: code %d, expected %d (%s)", what, e->code, code, e->text);
    FUZZ_CHECK (e->text[0], "%s: empty message", what);
}

/* ---- names, from names.h's description ---- */

static bool ref_name_valid (const char *s)
{
    size_t len = strlen (s);
    if (len == 0 || len > FS_NAME_MAX)
        return false;
    size_t comp = 0;
    for (size_t i = 0; i <= len; i++) {
        char c = s[i];
        if (c == '/' || c == '\0') {
            size_t cl = i - comp;
            if (cl == 0 || (cl == 1 && s[comp] == '.')
                || (cl == 2 && s[comp] == '.' && s[comp + 1] == '.'))
                return false;
            comp = i + 1;
        }
        else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                   || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static bool ref_ident_valid (const char *s)
{
    size_t len = strlen (s);
    if (len == 0 || len > 63)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
              || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* ---- policies ---- */

static bool same_policy (const fs_policy_t *a, const fs_policy_t *b)
{
    if (a->kind != b->kind || a->nregions != b->nregions || a->nblock != b->nblock
        || a->min != b->min)
        return false;
    for (int i = 0; i < a->nregions; i++)
        if (strcmp (a->regions[i], b->regions[i]) != 0)
            return false;
    for (int i = 0; i < a->nblock; i++)
        if (a->min_block[i] != b->min_block[i])
            return false;
    return true;
}

/* policy.h's rule for aggregate policies, written again: sum or mean over
 * whole cells of the grid (step 1, start and block multiples of the cell; an
 * integer index only where the cell is 1 wide). */
static bool ref_satisfies (const fs_policy_t *p, const fs_sel_t *sel, const fs_reduce_t *r)
{
    if (p->kind == POLICY_RAW)
        return true;
    if (p->kind != POLICY_AGGREGATE || !r || (r->op != RED_SUM && r->op != RED_MEAN)
        || p->nblock != sel->ndims)
        return false;
    int nres = 0;
    for (int d = 0; d < sel->ndims; d++)
        nres += !sel->dropped[d];
    if (r->nblock != nres)
        return false;
    int j = 0;
    for (int d = 0; d < sel->ndims; d++) {
        uint64_t m = p->min_block[d];
        if (sel->dropped[d]) {
            if (m != 1)
                return false;
            continue;
        }
        if (sel->step[d] != 1 || sel->start[d] % m || r->block[j++] % m)
            return false;
    }
    return true;
}

static void check_policy (const char *text, const char *slice, const char *reduce,
                          const char *region)
{
    fs_policy_t p;
    fs_error_t e = { 0, "" };
    int rc = policy_parse (text, &p, &e);
    if (rc < 0) {
        check_fail (rc, &e, FS_EINVAL, "policy_parse");
        return;
    }
    FUZZ_CHECK (rc == 0, "policy_parse returned %d", rc);
    FUZZ_CHECK (p.kind >= POLICY_RAW && p.kind <= POLICY_NONE, "kind %d", (int)p.kind);
    FUZZ_CHECK (p.nregions >= 0 && p.nregions <= FS_POLICY_MAXREGIONS, "nregions %d", p.nregions);
    FUZZ_CHECK (p.nblock >= 0 && p.nblock <= FS_MAXDIMS, "nblock %d", p.nblock);
    FUZZ_CHECK (p.kind != POLICY_REGIONS || p.nregions >= 1, "regions policy without regions");
    FUZZ_CHECK (p.kind != POLICY_AGGREGATE || p.nblock >= 1, "aggregate policy without blocks");
    for (int i = 0; i < p.nregions; i++)
        FUZZ_CHECK (ref_ident_valid (p.regions[i]), "region '%s'", p.regions[i]);
    for (int i = 0; i < p.nblock; i++)
        FUZZ_CHECK (p.min_block[i] >= 1, "block %d is 0", i);
    FUZZ_CHECK (p.kind == POLICY_AGGREGATE || p.min == 0, "a threshold outside aggregate");
    FUZZ_CHECK (p.min <= FS_POLICY_MIN_MAX, "threshold %llu", (unsigned long long)p.min);

    char buf[4096];
    policy_format (&p, buf, sizeof (buf));
    fs_policy_t again;
    fs_error_t e2 = { 0, "" };
    FUZZ_CHECK (policy_parse (buf, &again, &e2) == 0, "formatted policy '%s' refused: %s", buf,
                e2.text);
    FUZZ_CHECK (same_policy (&p, &again), "policy changed through '%s'", buf);
    FUZZ_CHECK (policy_equal (&p, &again), "policy_equal: '%s' differs from itself", buf);

    /* the meet with a second policy, when region is one: at least as strict as both */
    fs_policy_t q, m;
    if (policy_parse (region, &q, NULL) == 0) {
        policy_meet (&p, &q, &m);
        FUZZ_CHECK (policy_at_least_as_strict (&m, &p) && policy_at_least_as_strict (&m, &q),
                    "meet of '%s' and '%s' looser than one of them", text, region);
        fs_policy_t m2;
        policy_meet (&q, &p, &m2);
        FUZZ_CHECK (policy_equal (&m, &m2), "meet of '%s' and '%s' not commutative", text, region);
        FUZZ_CHECK (policy_at_least_as_strict (&p, &q) == policy_equal (&m, &p),
                    "strictness of '%s' against '%s' disagrees with the meet", text, region);
    }
    policy_meet (&p, &p, &m);
    FUZZ_CHECK (policy_equal (&m, &p), "meet of '%s' with itself changed it", text);
    char small[8];
    policy_format (&p, small, sizeof (small));
    FUZZ_CHECK (strlen (small) < sizeof (small) && strncmp (small, buf, strlen (small)) == 0,
                "policy_format truncation");

    /* against a selection: a 3-D dataset whose shape depends on the slice text */
    size_t sl_len = strlen (slice);
    uint64_t shape[3] = { 1 + sl_len % 7, 2 + sl_len % 5, 16 };
    for (int nd = 0; nd <= 3; nd++) {
        memset (&e, 0, sizeof (e));
        rc = policy_check_rank (&p, nd, &e);
        if (p.kind == POLICY_AGGREGATE && p.nblock != nd)
            check_fail (rc, &e, FS_EINVAL, "policy_check_rank");
        else
            FUZZ_CHECK (rc == 0, "policy_check_rank refused rank %d", nd);
    }
    fs_slice_t sl;
    fs_sel_t sel;
    if (slice_parse (slice, &sl, NULL) < 0 || slice_resolve (&sl, 3, shape, &sel, NULL) < 0)
        return;
    fs_reduce_t r, *rp = NULL;
    if (reduce_parse (reduce, &r, NULL) == 0)
        rp = &r;
    bool want = ref_satisfies (&p, &sel, rp);
    FUZZ_CHECK (policy_reduce_satisfies (&p, &sel, rp) == want, "policy_reduce_satisfies "
                "disagrees (want %d) for '%s' '%s' '%s'", want, text, slice, reduce);

    struct policy_reader out = { POLICY_READER_OUTSIDE, NULL }, holder = { POLICY_READER_HOLDER, NULL };
    struct policy_reader site = { POLICY_READER_SITE, region };
    struct policy_grant g;
    bool aggregate_read = p.kind == POLICY_AGGREGATE && want;

    memset (&e, 0, sizeof (e));
    rc = policy_read (&p, &out, "x", shape, &sel, rp, &g, &e);
    if (want)
        FUZZ_CHECK (rc == 0 && g.aggregate == aggregate_read, "get refused: %s", e.text);
    else
        check_fail (rc, &e, FS_EFAIL, "policy_read (outside)");
    if (rc < 0 && p.kind == POLICY_AGGREGATE && p.nblock == 3) {
        /* the nearest aligned read it names is allowed */
        const char *n = strstr (e.text, "nearest aligned read: ");
        FUZZ_CHECK (n != NULL, "no nearest aligned read in '%s'", e.text);
        char sl2[1024], rd2[512];
        const char *red = n ? strstr (n, " --reduce ") : NULL;
        FUZZ_CHECK (red != NULL, "no reduction in '%s'", e.text);
        n += strlen ("nearest aligned read: ");
        snprintf (sl2, sizeof (sl2), "%.*s", (int)(red - n), n);
        snprintf (rd2, sizeof (rd2), "%s", red + strlen (" --reduce "));
        char *paren = strstr (rd2, " (");
        if (paren)
            *paren = '\0';
        fs_slice_t s2;
        fs_sel_t sel2;
        fs_reduce_t r2;
        FUZZ_CHECK (slice_parse (sl2, &s2, NULL) == 0 && slice_resolve (&s2, 3, shape, &sel2, NULL) == 0
                    && reduce_parse (rd2, &r2, NULL) == 0 && ref_satisfies (&p, &sel2, &r2),
                    "suggested '%s --reduce %s' for '%s' '%s' '%s' is not aligned", sl2, rd2, text,
                    slice, reduce);
    }

    memset (&e, 0, sizeof (e));
    FUZZ_CHECK (policy_read (&p, &holder, "x", shape, &sel, rp, &g, &e) == 0, "holder refused");
    FUZZ_CHECK (g.aggregate == aggregate_read, "holder's grant");
    rc = policy_read (&p, &site, "x", shape, &sel, rp, &g, &e);
    bool site_ok;
    switch (p.kind) {
    case POLICY_RAW:
        site_ok = true;
        break;
    case POLICY_REGIONS:
        site_ok = false;
        for (int i = 0; i < p.nregions; i++)
            site_ok |= strcmp (p.regions[i], region) == 0;
        break;
    case POLICY_AGGREGATE:
        site_ok = want;
        break;
    default:
        site_ok = false;
    }
    if (site_ok)
        FUZZ_CHECK (rc == 0, "policy_read refused a site: %s", e.text);
    else
        check_fail (rc, &e, FS_EFAIL, "policy_read (site)");
    FUZZ_CHECK (policy_site_allows (policy_moves (&p, policy_reduce_satisfies (&p, &sel, rp)), false,
                                    region) == site_ok, "policy_site_allows disagrees with policy_read");
}

/* ---- durations, sizes, rates ---- */

static void check_units (const char *s)
{
    fs_error_t e = { 0, "" };
    char buf[128];

    double d = -1;
    int rc = parse_duration (s, &d, &e);
    if (rc < 0)
        check_fail (rc, &e, FS_EINVAL, "parse_duration");
    else {
        FUZZ_CHECK (isfinite (d) && d >= 0 && d <= 1e9, "duration %g from '%s'", d, s);
        snprintf (buf, sizeof (buf), "%.9f", d);
        double d2 = -1;
        FUZZ_CHECK (parse_duration (buf, &d2, &e) == 0, "duration '%s' refused: %s", buf, e.text);
        FUZZ_CHECK (fabs (d2 - d) <= 1e-8 + 1e-12 * d, "duration %.17g became %.17g", d, d2);
    }

    uint64_t z = 0;
    memset (&e, 0, sizeof (e));
    rc = parse_size (s, &z, &e);
    if (rc < 0)
        check_fail (rc, &e, FS_EINVAL, "parse_size");
    else {
        uint64_t z2 = 0;
        snprintf (buf, sizeof (buf), "%llu", (unsigned long long)z);
        FUZZ_CHECK (parse_size (buf, &z2, &e) == 0 && z2 == z, "size %s did not round-trip", buf);
        snprintf (buf, sizeof (buf), "%llu B", (unsigned long long)z);
        FUZZ_CHECK (parse_size (buf, &z2, &e) == 0 && z2 == z, "size %s did not round-trip", buf);
    }

    double r = -1;
    memset (&e, 0, sizeof (e));
    rc = parse_rate (s, &r, &e);
    if (rc < 0)
        check_fail (rc, &e, FS_EINVAL, "parse_rate");
    else {
        FUZZ_CHECK (isfinite (r) && r > 0 && r <= 1e21, "rate %g from '%s'", r, s);
        if (r >= 1) {
            snprintf (buf, sizeof (buf), "%.6fB/s", r);
            double r2 = -1;
            FUZZ_CHECK (parse_rate (buf, &r2, &e) == 0, "rate '%s' refused: %s", buf, e.text);
            FUZZ_CHECK (fabs (r2 - r) <= 1e-6 + 1e-12 * r, "rate %.17g became %.17g", r, r2);
        }
    }
}

static void check_names (const char *s)
{
    fs_error_t e = { 0, "" };
    int rc = name_valid (s, &e);
    bool want = ref_name_valid (s);
    if (rc < 0) {
        check_fail (rc, &e, FS_EINVAL, "name_valid");
        FUZZ_CHECK (!want, "name_valid refused '%s': %s", s, e.text);
    }
    else {
        FUZZ_CHECK (rc == 0 && want, "name_valid accepted '%s'", s);
        fs_slice_t sl;
        FUZZ_CHECK (slice_parse (s, &sl, &e) == 0 && !sl.bracketed && strcmp (sl.name, s) == 0,
                    "a valid name is not a valid slice: %s", e.text);
    }
    memset (&e, 0, sizeof (e));
    rc = ident_valid ("site", s, &e);
    want = ref_ident_valid (s);
    if (rc < 0) {
        check_fail (rc, &e, FS_EINVAL, "ident_valid");
        FUZZ_CHECK (!want, "ident_valid refused '%s': %s", s, e.text);
    }
    else
        FUZZ_CHECK (rc == 0 && want, "ident_valid accepted '%s'", s);
    (void)name_is_hdf5_file (s);
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup (data, size);
    char *part[4];
    int n = fuzz_split (text, '\n', part, 4);
    for (int i = n; i < 4; i++)
        part[i] = "";

    for (int i = 0; i < n; i++) {
        check_units (part[i]);
        check_names (part[i]);
    }
    check_policy (part[0], part[1], part[2], part[3]);

    /* name_for_dataset: the result, if any, is a valid name */
    char out[FS_NAME_MAX + 1], tiny[8];
    fs_error_t e = { 0, "" };
    int rc = name_for_dataset (part[0], part[1], part[2], out, sizeof (out), &e);
    if (rc < 0)
        check_fail (rc, &e, FS_EINVAL, "name_for_dataset");
    else {
        FUZZ_CHECK (rc == 0 && ref_name_valid (out), "name_for_dataset gave '%s'", out);
        memset (&e, 0, sizeof (e));
        rc = name_for_dataset (part[0], part[1], part[2], tiny, sizeof (tiny), &e);
        FUZZ_CHECK (rc == 0 ? strlen (out) < sizeof (tiny) && strcmp (tiny, out) == 0
                            : strlen (out) >= sizeof (tiny),
                    "name_for_dataset with a small buffer");
    }

    /* globs as the catalog uses them: user pattern, valid names */
    if (ref_name_valid (part[1])) {
        bool g = name_glob (part[0], part[1]);
        if (strcmp (part[0], part[1]) == 0 && !strpbrk (part[0], "*?[\\"))
            FUZZ_CHECK (g, "a literal pattern does not match itself");
        FUZZ_CHECK (name_glob ("*", part[1]), "'*' does not match '%s'", part[1]);
    }

    free (text);
    return 0;
}
