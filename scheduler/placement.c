/* placement.c - the placement engine (see placement.h).
 *
 * Layout for speed: the link matrix keeps, per ordered pair, the two numbers
 * an estimate needs (1/bandwidth and latency) side by side in a dense
 * cap x cap array; what the `links` verb shows (configured and measured
 * bandwidths, samples) sits in a parallel array that placement_decide() never
 * reads.  placement_decide() walks the task input by input, and within an
 * input a replica's matrix row site by site, accumulating into the caller's
 * candidate records, so it touches contiguous memory and allocates nothing.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/sbuf.h"
#include "common/strmap.h"
#include "placement.h"

#define TIE_REL 1e-9

struct link_hot {
    double inv_bw;              /* 1 / bandwidth in use */
    double lat;
};

struct link_meta {
    double conf_bw;             /* configured (or the default) */
    double meas_bw;             /* 0: no measurement */
    unsigned samples;
    bool configured;
};

struct placement_links {
    int n, cap;                 /* matrix stride is cap */
    struct link_hot *hot;
    struct link_meta *meta;
    double def_bw, def_lat;
    double alpha;
};

struct placement_fed {
    int n, cap;
    struct placement_site *sites;
    struct strmap *site_index;  /* name -> index into sites */
    int nregions, regcap;
    char (*regions)[PLACEMENT_NAME_MAX];
    struct strmap *reg_index;   /* name -> index into regions */
    struct placement_links links;
    int npairs;
    struct link_cfg *pairs;     /* configured pairs, applied as sites arrive */
};

/* ---- small helpers ------------------------------------------------------- */

static const char *fmt_bytes (double b, char *buf, size_t n)
{
    static const char *unit[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
    int u = 0;
    while (b >= 1000.0 && u < 6) {
        b /= 1000.0;
        u++;
    }
    if (u == 0)
        snprintf (buf, n, "%.0f B", b);
    else
        snprintf (buf, n, "%.1f %s", b, unit[u]);
    return buf;
}

static const char *fmt_secs (double s, char *buf, size_t n)
{
    if (s == 0)
        snprintf (buf, n, "0 s");
    else if (s < 0.01)
        snprintf (buf, n, "%.2f ms", s * 1e3);
    else if (s < 1)
        snprintf (buf, n, "%.0f ms", s * 1e3);
    else if (s < 100)
        snprintf (buf, n, "%.1f s", s);
    else
        snprintf (buf, n, "%.0f s", s);
    return buf;
}

static bool good_bw (double bw)
{
    return isfinite (bw) && bw > 0;
}

static bool good_lat (double lat)
{
    return isfinite (lat) && lat >= 0;
}

/* ---- links --------------------------------------------------------------- */

static void link_refresh (struct placement_links *l, size_t k)
{
    const struct link_meta *m = &l->meta[k];
    l->hot[k].inv_bw = 1.0 / (m->meas_bw > 0 ? m->meas_bw : m->conf_bw);
}

static void link_init (struct placement_links *l, int a, int b)
{
    size_t k = (size_t)a * (size_t)l->cap + (size_t)b;
    l->meta[k] = (struct link_meta){.conf_bw = l->def_bw};
    l->hot[k].lat = a == b ? 0 : l->def_lat;
    l->hot[k].inv_bw = a == b ? 0 : 1.0 / l->def_bw;
}

/* Grow the matrix to stride cap, keeping the n x n entries. */
static int links_grow (struct placement_links *l, int cap)
{
    size_t cells = (size_t)cap * (size_t)cap;
    struct link_hot *hot = malloc (cells * sizeof (*hot));
    struct link_meta *meta = malloc (cells * sizeof (*meta));
    if (!hot || !meta) {
        free (hot);
        free (meta);
        return -1;
    }
    for (int a = 0; a < l->n; a++)
        for (int b = 0; b < l->n; b++) {
            hot[(size_t)a * cap + b] = l->hot[(size_t)a * l->cap + b];
            meta[(size_t)a * cap + b] = l->meta[(size_t)a * l->cap + b];
        }
    free (l->hot);
    free (l->meta);
    l->hot = hot;
    l->meta = meta;
    l->cap = cap;
    return 0;
}

static bool link_index (const struct placement_links *l, int a, int b, size_t *k)
{
    if (a < 0 || b < 0 || a >= l->n || b >= l->n)
        return false;
    *k = (size_t)a * (size_t)l->cap + (size_t)b;
    return true;
}

static void link_configure (struct placement_links *l, int a, int b, double bw, double lat)
{
    size_t k;
    if (a == b || !link_index (l, a, b, &k))
        return;
    for (int dir = 0; dir < 2; dir++) {
        l->meta[k].configured = true;
        l->meta[k].conf_bw = bw;
        l->hot[k].lat = lat;
        link_refresh (l, k);
        k = (size_t)b * (size_t)l->cap + (size_t)a;
    }
}

int placement_links_set (struct placement_links *l, int a, int b, double bandwidth,
                         double latency, fs_error_t *err)
{
    size_t k;
    if (!link_index (l, a, b, &k))
        return errprintf (err, FS_EINVAL, "link %d-%d: no such site", a, b);
    if (!good_bw (bandwidth) || !good_lat (latency))
        return errprintf (err, FS_EINVAL,
                          "link %d-%d: bandwidth must be > 0 and latency >= 0 (got %g B/s, %g s)",
                          a, b, bandwidth, latency);
    link_configure (l, a, b, bandwidth, latency);
    return 0;
}

void placement_links_observe (struct placement_links *l, int from, int to, double bytes,
                              double seconds)
{
    size_t k;
    if (from == to || !link_index (l, from, to, &k))
        return;
    if (!(bytes > 0) || !(seconds > 0) || !isfinite (bytes) || !isfinite (seconds))
        return;
    double rate = bytes / seconds;
    if (!good_bw (rate))
        return;
    struct link_meta *m = &l->meta[k];
    m->meas_bw = m->samples == 0 ? rate : l->alpha * rate + (1.0 - l->alpha) * m->meas_bw;
    m->samples++;
    link_refresh (l, k);
}

void placement_links_restore (struct placement_links *l, int from, int to, double bandwidth,
                              unsigned samples)
{
    size_t k;
    if (from == to || !link_index (l, from, to, &k) || !good_bw (bandwidth) || samples == 0)
        return;
    l->meta[k].meas_bw = bandwidth;
    l->meta[k].samples = samples;
    link_refresh (l, k);
}

int placement_links_set_alpha (struct placement_links *l, double alpha, fs_error_t *err)
{
    if (!(alpha > 0 && alpha <= 1))
        return errprintf (err, FS_EINVAL, "EWMA weight must be in (0, 1], got %g", alpha);
    l->alpha = alpha;
    return 0;
}

void placement_links_get (const struct placement_links *l, int from, int to,
                          struct placement_link_info *out)
{
    size_t k;
    memset (out, 0, sizeof (*out));
    if (!link_index (l, from, to, &k))
        return;
    const struct link_meta *m = &l->meta[k];
    out->bandwidth = from == to ? INFINITY : m->meas_bw > 0 ? m->meas_bw : m->conf_bw;
    out->latency = l->hot[k].lat;
    out->configured = m->configured;
    out->configured_bandwidth = m->conf_bw;
    out->measured_bandwidth = m->meas_bw;
    out->samples = m->samples;
}

double placement_links_transfer (const struct placement_links *l, int from, int to, double bytes)
{
    size_t k;
    if (from == to || !link_index (l, from, to, &k))
        return 0;
    return bytes * l->hot[k].inv_bw + l->hot[k].lat;
}

/* ---- the federation ------------------------------------------------------ */

struct placement_fed *placement_fed_create (double bandwidth, double latency)
{
    if (!good_bw (bandwidth) || !good_lat (latency)) {
        errno = EINVAL;
        return NULL;
    }
    struct placement_fed *f = calloc (1, sizeof (*f));
    if (!f || !(f->site_index = strmap_create (0)) || !(f->reg_index = strmap_create (0))) {
        placement_fed_destroy (f);
        return NULL;
    }
    f->links.def_bw = bandwidth;
    f->links.def_lat = latency;
    f->links.alpha = PLACEMENT_ALPHA;
    return f;
}

void placement_fed_destroy (struct placement_fed *f)
{
    if (!f)
        return;
    free (f->sites);
    strmap_destroy (f->site_index);
    free (f->regions);
    strmap_destroy (f->reg_index);
    free (f->links.hot);
    free (f->links.meta);
    free (f->pairs);
    free (f);
}

int placement_fed_count (const struct placement_fed *f)
{
    return f->n;
}

int placement_fed_find (const struct placement_fed *f, const char *name)
{
    return (int)strmap_get (f->site_index, name);
}

static int region_find (const struct placement_fed *f, const char *name)
{
    return (int)strmap_get (f->reg_index, name);
}

static int region_intern (struct placement_fed *f, const char *name)
{
    int id = region_find (f, name);
    if (id >= 0)
        return id;
    if (f->nregions == f->regcap) {
        int cap = f->regcap ? 2 * f->regcap : 16;
        char (*r)[PLACEMENT_NAME_MAX] = realloc (f->regions, (size_t)cap * sizeof (*r));
        if (!r)
            return -1;
        f->regions = r;
        f->regcap = cap;
    }
    if (strmap_put (f->reg_index, name, f->nregions) < 0)
        return -1;
    id = f->nregions++;
    snprintf (f->regions[id], PLACEMENT_NAME_MAX, "%s", name);
    return id;
}

static int fed_grow (struct placement_fed *f)
{
    int cap = f->cap ? 2 * f->cap : 16;
    struct placement_site *s = realloc (f->sites, (size_t)cap * sizeof (*s));
    if (!s)
        return -1;
    f->sites = s;
    if (links_grow (&f->links, cap) < 0)
        return -1;
    f->cap = cap;
    return 0;
}

int placement_fed_add_site (struct placement_fed *f, const char *name, const char *region,
                            fs_error_t *err)
{
    if (!name || !*name || strlen (name) >= PLACEMENT_NAME_MAX)
        return errprintf (err, FS_EINVAL, "site name '%s' must have 1 to %d bytes",
                          name ? name : "", PLACEMENT_NAME_MAX - 1);
    if (!region || !*region)
        region = name;
    if (strlen (region) >= PLACEMENT_NAME_MAX)
        return errprintf (err, FS_EINVAL, "site %s: region '%s' must have at most %d bytes", name,
                          region, PLACEMENT_NAME_MAX - 1);
    int rid = region_intern (f, region);
    if (rid < 0)
        return errprintf (err, FS_EFAIL, "site %s: out of memory", name);
    int i = placement_fed_find (f, name);
    if (i >= 0) {
        snprintf (f->sites[i].region, PLACEMENT_NAME_MAX, "%s", region);
        f->sites[i].region_id = rid;
        return i;
    }
    if ((f->n == f->cap && fed_grow (f) < 0) || strmap_put (f->site_index, name, f->n) < 0)
        return errprintf (err, FS_EFAIL, "site %s: out of memory", name);
    i = f->n++;
    struct placement_site *s = &f->sites[i];
    memset (s, 0, sizeof (*s));
    snprintf (s->name, sizeof (s->name), "%s", name);
    snprintf (s->region, sizeof (s->region), "%s", region);
    s->region_id = rid;
    s->up = true;
    struct placement_links *l = &f->links;
    l->n = f->n;
    for (int j = 0; j < f->n; j++) {
        link_init (l, i, j);
        link_init (l, j, i);
    }
    for (int p = 0; p < f->npairs; p++) {
        const struct link_cfg *c = &f->pairs[p];
        int other = -1;
        if (!strcmp (c->from, name))
            other = placement_fed_find (f, c->to);
        else if (!strcmp (c->to, name))
            other = placement_fed_find (f, c->from);
        if (other >= 0)
            link_configure (l, i, other, c->bandwidth, c->latency);
    }
    return i;
}

struct placement_site *placement_fed_site (struct placement_fed *f, int i)
{
    return i >= 0 && i < f->n ? &f->sites[i] : NULL;
}

const struct placement_site *placement_fed_site_const (const struct placement_fed *f, int i)
{
    return i >= 0 && i < f->n ? &f->sites[i] : NULL;
}

struct placement_links *placement_fed_links (struct placement_fed *f)
{
    return &f->links;
}

int placement_fed_configure_links (struct placement_fed *f, const struct link_cfg *def,
                                   const struct link_cfg *pairs, int npairs, fs_error_t *err)
{
    if (def && (!good_bw (def->bandwidth) || !good_lat (def->latency)))
        return errprintf (err, FS_EINVAL,
                          "links.default: bandwidth must be > 0 and latency >= 0 (got %g B/s, %g s)",
                          def->bandwidth, def->latency);
    for (int p = 0; p < npairs; p++)
        if (!good_bw (pairs[p].bandwidth) || !good_lat (pairs[p].latency))
            return errprintf (err, FS_EINVAL,
                              "links.pairs %s-%s: bandwidth must be > 0 and latency >= 0 "
                              "(got %g B/s, %g s)",
                              pairs[p].from, pairs[p].to, pairs[p].bandwidth, pairs[p].latency);
    struct link_cfg *copy = NULL;
    if (npairs > 0) {
        copy = malloc ((size_t)(f->npairs + npairs) * sizeof (*copy));
        if (!copy)
            return errprintf (err, FS_EFAIL, "links: out of memory");
        if (f->npairs)
            memcpy (copy, f->pairs, (size_t)f->npairs * sizeof (*copy));
        memcpy (copy + f->npairs, pairs, (size_t)npairs * sizeof (*copy));
        free (f->pairs);
        f->pairs = copy;
        f->npairs += npairs;
    }
    struct placement_links *l = &f->links;
    if (def) {
        l->def_bw = def->bandwidth;
        l->def_lat = def->latency;
        for (int a = 0; a < l->n; a++)
            for (int b = 0; b < l->n; b++) {
                size_t k = (size_t)a * (size_t)l->cap + (size_t)b;
                if (a == b || l->meta[k].configured)
                    continue;
                l->meta[k].conf_bw = def->bandwidth;
                l->hot[k].lat = def->latency;
                link_refresh (l, k);
            }
    }
    for (int p = 0; p < npairs; p++) {
        int a = placement_fed_find (f, pairs[p].from);
        int b = placement_fed_find (f, pairs[p].to);
        if (a >= 0 && b >= 0)
            link_configure (l, a, b, pairs[p].bandwidth, pairs[p].latency);
    }
    return 0;
}

/* ---- policies ------------------------------------------------------------ */

/* The policy an input moves under (common/policy.h decides: an aggregate
 * satisfied by its reduction moves as raw). */
static const fs_policy_t *input_moves (const struct placement_input *in)
{
    return policy_moves (in->policy, in->reduce_satisfies);
}

static fs_policy_kind_t effective_kind (const struct placement_input *in)
{
    return input_moves (in)->kind;
}

static bool has_replica (const struct placement_input *in, int s)
{
    for (int r = 0; r < in->nreplicas; r++)
        if (in->replicas[r] == s)
            return true;
    return false;
}

/* May input in be read at site s, ignoring where replicas are up?  An input
 * without replicas (not produced yet) constrains nothing. */
static bool placement_policy_allows (const struct placement_fed *f, const struct placement_input *in,
                                int s)
{
    return in->nreplicas == 0
           || policy_site_allows (input_moves (in), has_replica (in, s), f->sites[s].region);
}

static const char *input_name (const struct placement_input *in, int k, char *buf, size_t n)
{
    if (in->name)
        snprintf (buf, n, "'%s'", in->name);
    else
        snprintf (buf, n, "#%d", k + 1);
    return buf;
}

/* "site1, site2, and 3 more" from a list of site indices. */
static void sb_sites (struct sbuf *b, const struct placement_fed *f, const int *idx, int n,
                      int max)
{
    for (int i = 0; i < n && i < max; i++)
        sbuf_printf (b, "%s%s", i ? ", " : "", f->sites[idx[i]].name);
    if (n > max)
        sbuf_printf (b, " and %d more", n - max);
}

/* What input in's policy allows, in words: "'rain' (none) stays at site1". */
static void sb_constraint (struct sbuf *b, const struct placement_fed *f,
                           const struct placement_input *in, int k)
{
    char nm[96], pol[256];
    input_name (in, k, nm, sizeof (nm));
    policy_format (in->policy, pol, sizeof (pol));
    fs_policy_kind_t kind = effective_kind (in);
    sbuf_printf (b, "input %s (%s", nm, pol);
    if (kind == POLICY_AGGREGATE)
        sbuf_printf (b, ", no satisfying reduction");
    sbuf_printf (b, ") ");
    if (kind == POLICY_REGIONS)
        sbuf_printf (b, "may only go to region%s %s or stay at ", in->policy->nregions == 1 ? "" : "s",
                   pol + strlen ("regions="));
    else
        sbuf_printf (b, "stays at ");
    sb_sites (b, f, in->replicas, in->nreplicas, 4);
}

/* ---- the decision -------------------------------------------------------- */

static inline bool cost_tie (double a, double b)
{
    double fa = fabs (a), fb = fabs (b);
    return fabs (a - b) <= TIE_REL * (fa > fb ? fa : fb);
}

/* Is candidate a better than b (lower cost; ties: more free cores, name)? */
static inline bool better (const struct placement_fed *f, const struct placement_candidate *a,
                           const struct placement_candidate *b)
{
    if (!cost_tie (a->cost_s, b->cost_s))
        return a->cost_s < b->cost_s;
    const struct placement_site *sa = &f->sites[a->site], *sb = &f->sites[b->site];
    if (sa->cores_free != sb->cores_free)
        return sa->cores_free > sb->cores_free;
    return strcmp (sa->name, sb->name) < 0;
}

const char *placement_excl_name (enum placement_excl e)
{
    switch (e) {
    case PLACE_OK:
        return "";
    case PLACE_EXCL_PIN:
        return "pin";
    case PLACE_EXCL_DOWN:
        return "down";
    case PLACE_EXCL_DRAINED:
        return "drained";
    case PLACE_EXCL_CORES:
        return "cores";
    case PLACE_EXCL_POLICY:
        return "policy";
    case PLACE_EXCL_REPLICAS_DOWN:
        return "replicas-down";
    case PLACE_EXCL_NO_REPLICA:
        return "no-replica";
    case PLACE_EXCL_APP:
        return "app";
    }
    return "?";
}

static void sb_describe (struct sbuf *b, const struct placement_fed *f,
                         const struct placement_task *t, const struct placement_candidate *c)
{
    const struct placement_site *s = &f->sites[c->site];
    const struct placement_input *in =
        c->input >= 0 && c->input < t->ninputs ? &t->inputs[c->input] : NULL;
    char nm[96];
    switch (c->excluded) {
    case PLACE_OK:
        break;
    case PLACE_EXCL_PIN:
        if (t->pin_site >= 0 && t->pin_site < f->n)
            sbuf_printf (b, "not the pinned site (%s)", f->sites[t->pin_site].name);
        else
            sbuf_printf (b, "not the pinned site");
        break;
    case PLACE_EXCL_DOWN:
        sbuf_printf (b, "down");
        break;
    case PLACE_EXCL_DRAINED:
        sbuf_printf (b, "drained");
        break;
    case PLACE_EXCL_CORES:
        sbuf_printf (b, "%d cores < %d ranks", s->cores, t->ranks < 1 ? 1 : t->ranks);
        break;
    case PLACE_EXCL_POLICY:
        if (!in)
            break;
        if (effective_kind (in) == POLICY_REGIONS) {
            char pol[256];
            sbuf_printf (b, "input %s (%s) may not go to region %s", input_name (in, c->input, nm,
                       sizeof (nm)), policy_format (in->policy, pol, sizeof (pol)), s->region);
        } else {
            sb_constraint (b, f, in, c->input);
        }
        break;
    case PLACE_EXCL_REPLICAS_DOWN:
        if (!in)
            break;
        sbuf_printf (b, "every replica of input %s is at a down site (",
                   input_name (in, c->input, nm, sizeof (nm)));
        sb_sites (b, f, in->replicas, in->nreplicas, 4);
        sbuf_printf (b, ")");
        break;
    case PLACE_EXCL_NO_REPLICA:
        if (in)
            sbuf_printf (b, "input %s has no replica yet", input_name (in, c->input, nm, sizeof (nm)));
        break;
    case PLACE_EXCL_APP:
        sbuf_printf (b, "%s", t->vetoes && t->vetoes[c->site] ? t->vetoes[c->site] : "can't run the app");
        break;
    }
}

char *placement_candidate_describe (const struct placement_fed *f, const struct placement_task *t,
                                    const struct placement_candidate *c, char *buf, size_t n)
{
    struct sbuf b;
    sbuf_init (&b, buf, n);
    if (c->site >= 0 && c->site < f->n)
        sb_describe (&b, f, t, c);
    return buf;
}

/* "2 down (site1, site2), 1 drained (site3), ..." over the excluded records. */
static void sb_exclusions (struct sbuf *b, const struct placement_fed *f,
                           const struct placement_task *t, const struct placement_candidate *cand)
{
    static const struct {
        enum placement_excl e;
        const char *what;
    } kinds[] = {
        {PLACE_EXCL_PIN, "not the site the task is pinned to"},
        {PLACE_EXCL_DOWN, "down"},
        {PLACE_EXCL_DRAINED, "drained"},
        {PLACE_EXCL_CORES, "with too few cores"},
        {PLACE_EXCL_POLICY, "refused by input policies"},
        {PLACE_EXCL_REPLICAS_DOWN, "cut off from every replica of an input"},
        {PLACE_EXCL_NO_REPLICA, "waiting for an input without replicas"},
        {PLACE_EXCL_APP, "unable to run its app"},
    };
    bool first = true;
    for (size_t k = 0; k < sizeof (kinds) / sizeof (kinds[0]); k++) {
        int count = 0, shown = 0;
        for (int s = 0; s < f->n; s++)
            count += cand[s].excluded == kinds[k].e;
        if (count == 0)
            continue;
        sbuf_printf (b, "%s%d %s (", first ? "" : ", ", count, kinds[k].what);
        first = false;
        /* the first three by name (the sites' order is the order they said hello) */
        const char *last = NULL;
        while (shown < 3 && shown < count) {
            const char *next = NULL;
            for (int s = 0; s < f->n; s++) {
                const char *nm = f->sites[s].name;
                if (cand[s].excluded == kinds[k].e && (!last || strcmp (nm, last) > 0)
                    && (!next || strcmp (nm, next) < 0))
                    next = nm;
            }
            if (!next)
                break;
            sbuf_printf (b, "%s%s", shown++ ? ", " : "", next);
            last = next;
        }
        if (count > shown)
            sbuf_printf (b, " and %d more", count - shown);
        sbuf_printf (b, ")");
    }
    /* the inputs behind POLICY, REPLICAS_DOWN and NO_REPLICA, said once each */
    for (int k = 0; k < t->ninputs; k++) {
        bool policy = false, other = false;
        for (int s = 0; s < f->n; s++) {
            const struct placement_candidate *c = &cand[s];
            if (c->input != k)
                continue;
            if (c->excluded == PLACE_EXCL_POLICY && !policy) {
                policy = true;
                sbuf_printf (b, "; ");
                sb_constraint (b, f, &t->inputs[k], k);
            } else if ((c->excluded == PLACE_EXCL_REPLICAS_DOWN
                        || c->excluded == PLACE_EXCL_NO_REPLICA) && !other) {
                other = true;
                sbuf_printf (b, "; ");
                sb_describe (b, f, t, c);
            }
        }
    }
}

static void sb_cost (struct sbuf *b, const struct placement_candidate *c)
{
    char s1[32], s2[32], s3[32], s4[32], by[32];
    sbuf_printf (b, "est. %s (wait %s + move %s in %s + run %s)", fmt_secs (c->cost_s, s1, sizeof (s1)),
               fmt_secs (c->wait_s, s2, sizeof (s2)), fmt_bytes ((double)c->bytes_moved, by,
               sizeof (by)), fmt_secs (c->move_s, s3, sizeof (s3)),
               fmt_secs (c->runtime_s, s4, sizeof (s4)));
}

static void explain_choice (const struct placement_fed *f, const struct placement_task *t,
                            const struct placement_candidate *cand, int best, int second,
                            int nactive, char *buf, size_t n)
{
    struct sbuf b;
    sbuf_init (&b, buf, n);
    const struct placement_candidate *c = &cand[best];
    const char *name = f->sites[best].name;
    char by1[32], by2[32], s1[32];
    if (c->bytes_local > 0 && c->bytes_moved == 0)
        sbuf_printf (&b, "input data is at %s (%s); ", name,
                   fmt_bytes ((double)c->bytes_local, by1, sizeof (by1)));
    else if (c->bytes_local > 0)
        sbuf_printf (&b, "input data is at %s (%s here, %s to move); ", name,
                   fmt_bytes ((double)c->bytes_local, by1, sizeof (by1)),
                   fmt_bytes ((double)c->bytes_moved, by2, sizeof (by2)));
    if (second < 0) {
        sbuf_printf (&b, "%s is the only site that can run it now, ", name);
        sb_cost (&b, c);
        if (f->n > 1) {
            sbuf_printf (&b, "; others: ");
            sb_exclusions (&b, f, t, cand);
        }
        return;
    }
    const struct placement_candidate *d = &cand[second];
    const char *dname = f->sites[second].name;
    if (cost_tie (c->cost_s, d->cost_s)) {
        sbuf_printf (&b, "%s and %s tie at %s; ", name, dname, fmt_secs (c->cost_s, s1, sizeof (s1)));
        if (f->sites[best].cores_free != f->sites[second].cores_free)
            sbuf_printf (&b, "%s has more free cores (%d vs %d)", name, f->sites[best].cores_free,
                       f->sites[second].cores_free);
        else
            sbuf_printf (&b, "%s comes first by name", name);
        return;
    }
    double margin = d->cost_s - c->cost_s;
    if (c->bytes_local > 0 && d->bytes_moved > c->bytes_moved)
        sbuf_printf (&b, "moving it elsewhere costs >= %s more; ", fmt_secs (margin, s1, sizeof (s1)));
    sbuf_printf (&b, "%s finishes earliest, ", name);
    sb_cost (&b, c);
    sbuf_printf (&b, "; next best %s is %s later (%d of %d sites eligible)", dname,
               fmt_secs (margin, s1, sizeof (s1)), nactive, f->n);
}

int placement_decide (const struct placement_fed *f, const struct placement_task *t,
                      struct placement_candidate *cand, int ncand, struct placement_result *res,
                      fs_error_t *err)
{
    const int n = f->n;
    if (!cand || ncand < n)
        return errprintf (err, FS_EINVAL, "placement: %d candidate records for %d sites", ncand, n);
    if (t->pinned && (t->pin_site < 0 || t->pin_site >= n))
        return errprintf (err, FS_EINVAL, "placement: pinned site index %d out of range",
                          t->pin_site);
    for (int k = 0; k < t->ninputs; k++)
        for (int r = 0; r < t->inputs[k].nreplicas; r++)
            if (t->inputs[k].replicas[r] < 0 || t->inputs[k].replicas[r] >= n)
                return errprintf (err, FS_EINVAL, "placement: input %d: replica site %d out of range",
                                  k, t->inputs[k].replicas[r]);
    const int ranks = t->ranks < 1 ? 1 : t->ranks;
    res->status = PLACEMENT_WAIT;
    res->site = -1;
    res->cost_s = 0;
    res->reason[0] = '\0';
    res->ncandidates = n;
    res->candidates = cand;

    /* 1. the sites' own state */
    int nactive = 0;
    for (int s = 0; s < n; s++) {
        const struct placement_site *site = &f->sites[s];
        struct placement_candidate *c = &cand[s];
        enum placement_excl e = PLACE_OK;
        if (t->pinned && s != t->pin_site)
            e = PLACE_EXCL_PIN;
        else if (!site->up)
            e = PLACE_EXCL_DOWN;
        else if (site->drained)
            e = PLACE_EXCL_DRAINED;
        else if (site->cores < ranks)
            e = PLACE_EXCL_CORES;
        else if (t->vetoes && t->vetoes[s])
            e = PLACE_EXCL_APP;
        *c = (struct placement_candidate){
            .site = s,
            .excluded = e,
            .input = -1,
            .wait_s = site->cores_free >= ranks ? 0 : site->wait_s,
            .runtime_s = t->runtime_s,
        };
        nactive += e == PLACE_OK;
    }

    /* 2. input by input: transfer times, then the input's policy.  scratch_
     * holds this input's transfer time to the site; -1 marks a replica there. */
    const struct placement_links *l = &f->links;
    for (int k = 0; k < t->ninputs && nactive > 0; k++) {
        const struct placement_input *in = &t->inputs[k];
        const fs_policy_t *moves = input_moves (in);
        const double bytes = (double)in->bytes;
        /* the cheapest up replica for every site (excluded ones too: the
         * loops stay branch-free), then -1 where a replica is at the site;
         * data whose bytes stay where they are (none, aggregate) needs no
         * transfers */
        const bool stays = !policy_bytes_leave (moves);
        int nup = 0;
        for (int r = 0; r < in->nreplicas && !stays; r++) {
            int from = in->replicas[r];
            if (!f->sites[from].up)
                continue;
            const struct link_hot *row = &l->hot[(size_t)from * (size_t)l->cap];
            if (nup++ == 0) {
                for (int s = 0; s < n; s++)
                    cand[s].scratch_ = bytes * row[s].inv_bw + row[s].lat;
            } else {
                for (int s = 0; s < n; s++) {
                    double tt = bytes * row[s].inv_bw + row[s].lat;
                    cand[s].scratch_ = tt < cand[s].scratch_ ? tt : cand[s].scratch_;
                }
            }
        }
        if (nup == 0)
            for (int s = 0; s < n; s++)
                cand[s].scratch_ = INFINITY;
        for (int r = 0; r < in->nreplicas; r++)
            cand[in->replicas[r]].scratch_ = -1;
        if (moves->kind != POLICY_RAW) {     /* raw: every site may read it */
            for (int s = 0; s < n; s++) {
                struct placement_candidate *c = &cand[s];
                if (c->excluded || c->scratch_ < 0)     /* holders read their own data */
                    continue;
                if (!policy_site_allows (moves, false, f->sites[s].region)) {
                    c->excluded = PLACE_EXCL_POLICY;
                    c->input = k;
                    nactive--;
                }
            }
        }
        if (nup == 0) {
            for (int s = 0; s < n; s++) {
                struct placement_candidate *c = &cand[s];
                if (!c->excluded && c->scratch_ >= 0) {
                    c->excluded = in->nreplicas ? PLACE_EXCL_REPLICAS_DOWN : PLACE_EXCL_NO_REPLICA;
                    c->input = k;
                    nactive--;
                }
            }
        }
        for (int s = 0; s < n; s++) {
            struct placement_candidate *c = &cand[s];
            if (c->excluded)
                continue;
            if (c->scratch_ < 0) {
                c->bytes_local += in->bytes;
            } else {
                c->move_s += c->scratch_;
                c->bytes_moved += in->bytes;
            }
        }
    }

    /* 3. the cheapest */
    int best = -1;
    for (int s = 0; s < n; s++) {
        struct placement_candidate *c = &cand[s];
        if (c->excluded)
            continue;
        c->cost_s = c->wait_s + c->move_s + c->runtime_s;
        if (best < 0 || better (f, c, &cand[best]))
            best = s;
    }
    if (best < 0) {
        if (placement_never_placeable (f, t, res->reason, sizeof (res->reason))) {
            res->status = PLACEMENT_NEVER;
            return 0;
        }
        struct sbuf b;
        sbuf_init (&b, res->reason, sizeof (res->reason));
        if (t->pinned) {
            sbuf_printf (&b, "pinned to %s, which can't run it now: ", f->sites[t->pin_site].name);
            sb_describe (&b, f, t, &cand[t->pin_site]);
        } else {
            sbuf_printf (&b, "no site can run it now: ");
            sb_exclusions (&b, f, t, cand);
        }
        return 0;
    }
    int second = -1;
    for (int s = 0; s < n; s++)
        if (s != best && !cand[s].excluded && (second < 0 || better (f, &cand[s], &cand[second])))
            second = s;
    res->status = PLACEMENT_PLACED;
    res->site = best;
    res->cost_s = cand[best].cost_s;
    explain_choice (f, t, cand, best, second, nactive, res->reason, sizeof (res->reason));
    return 0;
}

int placement_sources (const struct placement_fed *f, const struct placement_input *in, int site,
                       int *order, int max)
{
    if (site < 0 || site >= f->n || max <= 0)
        return 0;
    /* Insertion sort by (group: at the site, up, down; estimated transfer
     * time); equal keys keep the replicas' order. */
    int all[64], group[64];
    double cost[64];
    int n = 0;
    for (int r = 0; r < in->nreplicas && n < 64; r++) {
        int from = in->replicas[r];
        if (from < 0 || from >= f->n)
            continue;
        bool dup = false;
        for (int k = 0; k < n; k++)
            dup = dup || all[k] == from;
        if (dup)
            continue;
        int gr = from == site ? 0 : f->sites[from].up ? 1 : 2;
        double c = placement_links_transfer (&f->links, from, site, (double)in->bytes);
        int k = n++;
        while (k > 0 && (group[k - 1] > gr || (group[k - 1] == gr && cost[k - 1] > c))) {
            all[k] = all[k - 1];
            group[k] = group[k - 1];
            cost[k] = cost[k - 1];
            k--;
        }
        all[k] = from;
        group[k] = gr;
        cost[k] = c;
    }
    if (n > max)
        n = max;
    memcpy (order, all, (size_t)n * sizeof (*order));
    return n;
}

/* ---- never placeable ----------------------------------------------------- */

static int first_refusing_input (const struct placement_fed *f, const struct placement_task *t,
                                 int s)
{
    for (int k = 0; k < t->ninputs; k++)
        if (!placement_policy_allows (f, &t->inputs[k], s))
            return k;
    return -1;
}

bool placement_never_placeable (const struct placement_fed *f, const struct placement_task *t,
                                char *why, size_t n)
{
    char dummy[8];
    struct sbuf b;
    if (!why) {
        why = dummy;
        n = sizeof (dummy);
    }
    sbuf_init (&b, why, n);
    const int ranks = t->ranks < 1 ? 1 : t->ranks;
    if (f->n == 0) {
        sbuf_printf (&b, "the federation has no sites");
        return true;
    }
    int big = 0;
    for (int s = 1; s < f->n; s++)
        if (f->sites[s].cores > f->sites[big].cores)
            big = s;
    if (f->sites[big].cores < ranks) {
        sbuf_printf (&b, "it needs %d ranks but the largest site, %s, has %d cores", ranks,
                   f->sites[big].name, f->sites[big].cores);
        return true;
    }
    if (t->pinned) {
        int p = t->pin_site;
        if (p < 0 || p >= f->n) {
            sbuf_printf (&b, "it is pinned to an unknown site");
            return true;
        }
        const struct placement_site *s = &f->sites[p];
        if (s->cores < ranks) {
            sbuf_printf (&b, "it is pinned to %s, which has %d cores; it needs %d ranks", s->name,
                       s->cores, ranks);
            return true;
        }
        int k = first_refusing_input (f, t, p);
        if (k >= 0) {
            sbuf_printf (&b, "it is pinned to %s, but ", s->name);
            if (effective_kind (&t->inputs[k]) == POLICY_REGIONS) {
                char nm[96], pol[256];
                sbuf_printf (&b, "input %s (%s) may not go to region %s",
                           input_name (&t->inputs[k], k, nm, sizeof (nm)),
                           policy_format (t->inputs[k].policy, pol, sizeof (pol)), s->region);
            } else {
                sb_constraint (&b, f, &t->inputs[k], k);
            }
            return true;
        }
        return false;
    }
    int npol = 0, maxcores = 0, allowed[8];
    for (int s = 0; s < f->n; s++) {
        if (first_refusing_input (f, t, s) >= 0)
            continue;
        if (f->sites[s].cores >= ranks)
            return false;
        if (npol < 8)
            allowed[npol] = s;
        npol++;
        if (f->sites[s].cores > maxcores)
            maxcores = f->sites[s].cores;
    }
    if (npol > 0) {
        sbuf_printf (&b, "the only site%s its inputs' policies allow (", npol == 1 ? "" : "s");
        sb_sites (&b, f, allowed, npol < 8 ? npol : 8, 8);
        if (npol > 8)
            sbuf_printf (&b, " and %d more", npol - 8);
        sbuf_printf (&b, ") ha%s at most %d cores; it needs %d ranks", npol == 1 ? "s" : "ve",
                   maxcores, ranks);
        return true;
    }
    sbuf_printf (&b, "no site is allowed by the policies of all its inputs: ");
    bool first = true;
    for (int k = 0; k < t->ninputs; k++) {
        const struct placement_input *in = &t->inputs[k];
        if (effective_kind (in) == POLICY_RAW || in->nreplicas == 0)
            continue;
        sbuf_printf (&b, "%s", first ? "" : "; ");
        first = false;
        sb_constraint (&b, f, in, k);
    }
    return true;
}

/* ---- inheritance --------------------------------------------------------- */

void policy_inherit (const struct placement_input *inputs, int n, fs_policy_t *out)
{
    *out = *policy_moves (NULL, false);
    for (int k = 0; k < n; k++)
        policy_meet (out, input_moves (&inputs[k]), out);
}
