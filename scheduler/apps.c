/* apps.c - the federation's apps in the scheduler (see apps.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/names.h"
#include "common/sign.h"
#include "placement.h"
#include "registry.h"

#define APP_HOLDERS_MAX 64

struct asite {
    char name[64];
    json_t *policy;             /* {trust: [{key, name}], allow, sandbox, max_bytes}; NULL */
    json_t *have;               /* {requirement: true | false} from its probes */
    json_t *asked;              /* {requirement: true} probes out */
    json_t *cached;             /* [digest] unpacked there */
};

struct apps {
    struct store *store;
    struct asite *v;
    size_t n, cap;
};

static struct asite *site_of (struct apps *a, const char *name, bool create)
{
    for (size_t i = 0; i < a->n; i++)
        if (!strcmp (a->v[i].name, name))
            return &a->v[i];
    if (!create)
        return NULL;
    if (a->n == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 16;
        struct asite *nv = realloc (a->v, cap * sizeof (*nv));
        if (!nv)
            return NULL;
        a->v = nv;
        a->cap = cap;
    }
    struct asite *s = &a->v[a->n++];
    memset (s, 0, sizeof (*s));
    snprintf (s->name, sizeof (s->name), "%s", name);
    s->have = json_object ();
    s->asked = json_object ();
    s->cached = json_array ();
    return s;
}

struct apps *apps_create (struct store *st, fs_error_t *err)
{
    struct apps *a = calloc (1, sizeof (*a));
    if (!a) {
        errprintf (err, FS_EFAIL, "out of memory");
        return NULL;
    }
    a->store = st;
    if (sign_init (err) < 0) {
        apps_destroy (a);
        return NULL;
    }
    json_t *known = store_site_apps (st, err);
    if (!known) {
        apps_destroy (a);
        return NULL;
    }
    const char *name;
    json_t *p;
    json_object_foreach (known, name, p) {
        struct asite *s = site_of (a, name, true);
        if (s)
            s->policy = json_incref (p);
    }
    json_decref (known);
    return a;
}

void apps_destroy (struct apps *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n; i++) {
        json_decref (a->v[i].policy);
        json_decref (a->v[i].have);
        json_decref (a->v[i].asked);
        json_decref (a->v[i].cached);
    }
    free (a->v);
    free (a);
}

json_t *apps_requirements (struct apps *a)
{
    fs_error_t err;
    json_t *all = store_apps (a->store, NULL, &err), *seen = json_object (), *out = json_array ();
    size_t i, k;
    json_t *app, *r;
    json_array_foreach (all, i, app)
        json_array_foreach (json_object_get (json_object_get (app, "manifest"), "requires"), k, r)
            if (json_is_string (r) && !json_object_get (seen, json_string_value (r))) {
                json_object_set_new (seen, json_string_value (r), json_true ());
                json_array_append (out, r);
            }
    json_decref (seen);
    json_decref (all);
    return out;
}

/* A site's hello "apps", checked enough to be used safely by placement. */
static json_t *policy_of (const json_t *body, fs_error_t *err)
{
    json_t *trust = NULL, *allow = NULL;
    const char *sandbox = "";
    json_int_t max = 0;
    json_error_t je;
    if (json_unpack_ex ((json_t *)body, &je, 0, "{s:o, s:o, s?s, s:I}", "trust", &trust, "allow",
                        &allow, "sandbox", &sandbox, "max_bytes", &max) < 0) {
        errprintf (err, FS_EINVAL, "site.hello: apps: %s", je.text);
        return NULL;
    }
    if (!json_is_array (trust) || !json_is_array (allow) || max <= 0) {
        errprintf (err, FS_EINVAL, "site.hello: apps: trust and allow must be lists, max_bytes "
                   "positive");
        return NULL;
    }
    json_t *t = json_array (), *al = json_array ();
    size_t i;
    json_t *v;
    json_array_foreach (trust, i, v) {
        const char *key = json_string_value (json_object_get (v, "key"));
        const char *name = json_string_value (json_object_get (v, "name"));
        if (sign_key_valid (key))
            json_array_append_new (t, json_pack ("{s:s, s:s}", "key", key, "name", name ? name : ""));
    }
    json_array_foreach (allow, i, v)
        if (json_is_string (v))
            json_array_append (al, v);
    return json_pack ("{s:o, s:o, s:s, s:I}", "trust", t, "allow", al, "sandbox", sandbox,
                      "max_bytes", max);
}

json_t *apps_site_hello (struct apps *a, const char *site, const json_t *body, fs_error_t *err)
{
    struct asite *s = site_of (a, site, true);
    if (!s) {
        errprintf (err, FS_EFAIL, "out of memory");
        return NULL;
    }
    json_t *policy = body ? policy_of (body, err) : json_pack ("{s:[], s:[], s:s, s:I}", "trust",
                                                              "allow", "sandbox", "none",
                                                              "max_bytes", (json_int_t)0);
    if (!policy)
        return NULL;
    json_decref (s->policy);
    s->policy = policy;
    json_object_clear (s->have);
    json_object_clear (s->asked);
    json_array_clear (s->cached);
    if (store_site_apps_save (a->store, site, policy, err) < 0)
        return NULL;
    json_t *held = json_object_get (body, "held");
    json_t *none = json_array ();
    int rc = store_app_held (a->store, site, json_is_array (held) ? held : none, err);
    json_decref (none);
    if (rc < 0)
        return NULL;
    return apps_requirements (a);
}

void apps_site_probing (struct apps *a, const char *site, const json_t *requires)
{
    struct asite *s = site_of (a, site, false);
    size_t i;
    json_t *r;
    json_array_foreach (requires, i, r)
        if (s && json_is_string (r))
            json_object_set_new (s->asked, json_string_value (r), json_true ());
}

void apps_site_probed (struct apps *a, const char *site, const json_t *body)
{
    struct asite *s = site_of (a, site, false);
    if (!s)
        return;
    const char *key[2] = { "have", "lack" };
    for (int k = 0; k < 2; k++) {
        size_t i;
        json_t *r;
        json_array_foreach (json_object_get (body, key[k]), i, r) {
            if (!json_is_string (r))
                continue;
            json_object_set_new (s->have, json_string_value (r), json_boolean (k == 0));
            json_object_del (s->asked, json_string_value (r));
        }
    }
    log_msg (LOG_INFO, "event=apps.probed site=%s have=%zu lack=%zu", site,
             json_array_size (json_object_get (body, "have")),
             json_array_size (json_object_get (body, "lack")));
}

void apps_site_cached (struct apps *a, const char *site, const json_t *digests)
{
    struct asite *s = site_of (a, site, false);
    if (!s || !json_is_array (digests) || json_array_size (digests) > 100000)
        return;
    json_array_clear (s->cached);
    size_t i;
    json_t *d;
    json_array_foreach (digests, i, d)
        if (sign_digest_valid (json_string_value (d)))
            json_array_append (s->cached, d);
}

static bool in_array (const json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach (arr, i, v)
        if (!strcmp (json_string_value (v) ?: "", s))
            return true;
    return false;
}

static const char *publisher_text (const json_t *meta, char *buf, size_t n)
{
    const char *pub = json_string_value (json_object_get (meta, "publisher")) ?: "";
    const char *name = json_string_value (json_object_get (meta, "publisher_name")) ?: "";
    snprintf (buf, n, "%s%s%.20s...%s", name, *name ? " (" : "", pub, *name ? ")" : "");
    return buf;
}

int apps_site_may_run (struct apps *a, const char *site, const json_t *meta, char *why,
                       size_t whysz)
{
    struct asite *s = site_of (a, site, false);
    const char *name = json_string_value (json_object_get (meta, "name")) ?: "";
    const char *pub = json_string_value (json_object_get (meta, "publisher")) ?: "";
    char pt[160];
    if (!s || !s->policy) {
        snprintf (why, whysz, "has not told its apps policy yet");
        return 0;
    }
    bool trusted = false;
    size_t i;
    json_t *v;
    json_array_foreach (json_object_get (s->policy, "trust"), i, v)
        trusted = trusted || !strcmp (json_string_value (json_object_get (v, "key")) ?: "", pub);
    if (!trusted) {
        snprintf (why, whysz, "does not trust publisher %s of app %s",
                  publisher_text (meta, pt, sizeof (pt)), name);
        return 0;
    }
    json_t *allow = json_object_get (s->policy, "allow");
    bool allowed = json_array_size (allow) == 0;
    json_array_foreach (allow, i, v)
        allowed = allowed || name_glob (json_string_value (v) ?: "", name);
    if (!allowed) {
        snprintf (why, whysz, "does not allow app %s (apps.allow)", name);
        return 0;
    }
    json_int_t bytes = json_integer_value (json_object_get (meta, "bytes"));
    json_int_t max = json_integer_value (json_object_get (s->policy, "max_bytes"));
    if (bytes > max) {
        snprintf (why, whysz, "takes bundles of up to %lld bytes (apps.max_bytes): app %s has "
                  "%lld", (long long)max, name, (long long)bytes);
        return 0;
    }
    json_array_foreach (json_object_get (json_object_get (meta, "manifest"), "requires"), i, v) {
        const char *r = json_string_value (v) ?: "";
        json_t *h = json_object_get (s->have, r);
        if (json_is_false (h)) {
            snprintf (why, whysz, "lacks %s %s, which app %s requires",
                      manifest_req_is_lib (r) ? "library" : "command", r, name);
            return 0;
        }
        if (!h) {
            snprintf (why, whysz, "has not said yet whether it provides %s (app %s requires it)",
                      r, name);
            return 0;
        }
    }
    return 1;
}

bool apps_site_has (struct apps *a, const char *site, const json_t *meta)
{
    struct asite *s = site_of (a, site, false);
    const char *digest = json_string_value (json_object_get (meta, "digest")) ?: "";
    return in_array (json_object_get (meta, "sites"), site)
           || (s && in_array (s->cached, digest));
}

json_t *apps_get (struct apps *a, const char *name, const char *version, fs_error_t *err)
{
    return store_app_get (a->store, name, version, err);
}

/* --- requests ------------------------------------------------------------------ */

int apps_precheck (struct apps *a, const json_t *body, bool publish, const char *site,
                   bool *held, fs_error_t *err)
{
    struct app_claim c;
    const char *op = publish ? "app.publish" : "app.check";
    *held = false;
    if (publish) {
        if (app_claim_from_json (body, op, &c, err) < 0)
            return -1;
        if (sign_verify_app (c.publisher, c.name, c.version, c.digest, c.signature, err) < 0) {
            if (err)
                err->code = FS_EFAIL;
            return errprefix (err, "%s refused", op);
        }
    } else {
        /* Before the upload: what is published under which name, not yet by whom. */
        const char *name, *version, *digest;
        json_int_t bytes;
        json_error_t je;
        memset (&c, 0, sizeof (c));
        if (json_unpack_ex ((json_t *)body, &je, 0, "{s:s, s:s, s:s, s:I}", "name", &name,
                            "version", &version, "digest", &digest, "bytes", &bytes) < 0)
            return errprintf (err, FS_EINVAL, "%s: %s", op, je.text);
        if (app_name_valid (name, err) < 0 || app_version_valid (version, err) < 0)
            return errprefix (err, "%s", op);
        if (!sign_digest_valid (digest) || bytes <= 0)
            return errprintf (err, FS_EINVAL, "%s: digest must be sha256:HEX and bytes positive",
                              op);
        snprintf (c.name, sizeof (c.name), "%s", name);
        snprintf (c.version, sizeof (c.version), "%s", version);
        snprintf (c.digest, sizeof (c.digest), "%s", digest);
    }
    fs_error_t e;
    json_t *known = store_app_get (a->store, c.name, c.version, &e);
    if (!known && e.code != FS_ENOTFOUND) {
        if (err)
            *err = e;
        return -1;
    }
    if (known) {
        const char *d = json_string_value (json_object_get (known, "digest")) ?: "";
        if (strcmp (d, c.digest)) {
            errprintf (err, FS_EFAIL, "%s@%s is already published with other content (%s, not "
                       "%s): a published version never changes; publish it as a new version",
                       c.name, c.version, d, c.digest);
            json_decref (known);
            return -1;
        }
        *held = in_array (json_object_get (known, "sites"), site);
        json_decref (known);
    }
    return 0;
}

json_t *apps_stored (struct apps *a, const char *site, const json_t *reply, bool *fresh,
                     fs_error_t *err)
{
    json_t *meta = json_object_get (reply, "app");
    struct app_claim c;
    *fresh = false;
    if (app_claim_from_json (meta, "site.app_store", &c, err) < 0)
        return NULL;
    struct app_manifest *m = manifest_from_json (json_object_get (meta, "manifest"),
                                                 "site.app_store", err);
    if (!m)
        return NULL;
    bool same = !strcmp (m->name, c.name) && !strcmp (m->version, c.version);
    free (m);
    if (!same) {
        errprintf (err, FS_EFAIL, "site %s reported a manifest of another app than %s@%s", site,
                   c.name, c.version);
        return NULL;
    }
    int r = store_app_add (a->store, meta, site, clock_wall (), err);
    if (r < 0)
        return NULL;
    *fresh = r == 1;
    log_msg (LOG_INFO, "event=app.publish app=%s@%s digest=%s site=%s new=%d", c.name, c.version,
             c.digest, site, r);
    return json_pack ("{s:s, s:s, s:s, s:I, s:s, s:b}", "name", c.name, "version", c.version,
                      "digest", c.digest, "bytes", (json_int_t)c.bytes, "site", site, "new",
                      json_is_true (json_object_get (reply, "new")));
}

json_t *apps_list (struct apps *a, const char *glob, fs_error_t *err)
{
    json_t *all = store_apps (a->store, glob, err);
    if (!all)
        return NULL;
    json_t *out = json_array ();
    size_t i;
    json_t *app;
    json_array_foreach (all, i, app) {
        const char *pub = json_string_value (json_object_get (app, "publisher")) ?: "";
        const char *digest = json_string_value (json_object_get (app, "digest")) ?: "";
        json_t *trusted = json_array (), *cached = json_array (), *entry = json_array ();
        for (size_t k = 0; k < a->n; k++) {
            struct asite *s = &a->v[k];
            size_t j;
            json_t *v;
            bool t = false;
            json_array_foreach (json_object_get (s->policy, "trust"), j, v)
                t = t || !strcmp (json_string_value (json_object_get (v, "key")) ?: "", pub);
            if (t)
                json_array_append_new (trusted, json_string (s->name));
            if (in_array (s->cached, digest))
                json_array_append_new (cached, json_string (s->name));
        }
        json_t *man = json_object_get (app, "manifest");
        const char *k;
        json_t *v;
        json_object_foreach (json_object_get (man, "entry"), k, v)
            json_array_append_new (entry, json_string (k));
        json_t *req = json_object_get (man, "requires");
        json_t *desc = json_object_get (man, "description");
        json_array_append_new (out, json_pack (
            "{s:O, s:O, s:O, s:O, s:O, s:O, s:o, s:o, s:s, s:o, s:b, s:o, s:o}",
            "name", json_object_get (app, "name"), "version", json_object_get (app, "version"),
            "digest", json_object_get (app, "digest"), "bytes", json_object_get (app, "bytes"),
            "publisher", json_object_get (app, "publisher"), "sites",
            json_object_get (app, "sites"), "trusted_by", trusted, "cached", cached,
            "publisher_name", json_string_value (json_object_get (app, "publisher_name")) ?: "",
            "description", desc ? json_incref (desc) : json_string (""),
            "mpi", json_is_true (json_object_get (man, "mpi")), "entry", entry, "requires",
            json_is_array (req) ? json_incref (req) : json_array ()));
    }
    json_decref (all);
    return json_pack ("{s:o}", "apps", out);
}

/* --- placement ---------------------------------------------------------------------- */

int apps_place (struct apps *a, const struct placement_fed *f, const char *name,
                const char *version, struct app_place *ap, struct placement_input *in,
                fs_error_t *err)
{
    memset (ap, 0, sizeof (*ap));
    if (!(ap->meta = store_app_get (a->store, name, version, err)))
        return -1;
    int n = placement_fed_count (f);
    ap->n = n;
    ap->reps = calloc ((size_t)n + 1, sizeof (*ap->reps));
    ap->vetoes = calloc ((size_t)n + 1, sizeof (*ap->vetoes));
    ap->why = calloc ((size_t)n + 1, sizeof (*ap->why));
    if (!ap->reps || !ap->vetoes || !ap->why)
        return errprintf (err, FS_EFAIL, "out of memory");
    snprintf (ap->label, sizeof (ap->label), "app %s@%s", name, version);
    for (int i = 0; i < n; i++) {
        const char *site = placement_fed_site_const (f, i)->name;
        if (apps_site_may_run (a, site, ap->meta, ap->why[i], sizeof (ap->why[i])) != 1)
            ap->vetoes[i] = ap->why[i];
        /* Where the bundle is already: held (it serves it) or unpacked (it
         * needs no transfer).  A fetch comes from a holder; the estimate
         * takes the nearest of either. */
        if (apps_site_has (a, site, ap->meta))
            ap->reps[ap->nreps++] = i;
    }
    *in = (struct placement_input){ ap->label,
                                    (uint64_t)json_integer_value (json_object_get (ap->meta, "bytes")),
                                    ap->reps, ap->nreps, NULL, false };
    return 0;
}

void apps_place_free (struct app_place *ap)
{
    json_decref (ap->meta);
    free (ap->reps);
    free (ap->vetoes);
    free (ap->why);
    memset (ap, 0, sizeof (*ap));
}

json_t *apps_start_body (const struct app_place *ap, struct placement_fed *f, int site,
                         struct registry *reg)
{
    /* The holders (the sites that serve the bundle), nearest to site first, each
     * with the link's estimate (the fetch sizes its pieces by it), as for inputs. */
    int held[APP_HOLDERS_MAX], n = 0, order[APP_HOLDERS_MAX];
    size_t i;
    json_t *v;
    json_array_foreach (json_object_get (ap->meta, "sites"), i, v) {
        int k = placement_fed_find (f, json_string_value (v) ?: "");
        if (k >= 0 && n < APP_HOLDERS_MAX)
            held[n++] = k;
    }
    struct placement_input in = { ap->label, (uint64_t)json_integer_value (json_object_get (ap->meta,
                                  "bytes")), held, n, NULL, false };
    int no = placement_sources (f, &in, site, order, APP_HOLDERS_MAX);
    const struct placement_links *l = placement_fed_links (f);
    json_t *reps = json_array ();
    for (int k = 0; k < no; k++) {
        const char *name = placement_fed_site_const (f, order[k])->name;
        struct site *s = registry_get (reg, name, false);
        json_t *e = json_pack ("{s:s, s:s, s:s, s:s}", "site", name, "uri", s ? s->data_uri : "",
                               "state", s && s->up ? "up" : "down", "key", s ? s->curve_key : "");
        if (order[k] != site) {
            struct placement_link_info li;
            placement_links_get (l, order[k], site, &li);
            json_object_set_new (e, "bandwidth", json_real (li.bandwidth));
            json_object_set_new (e, "latency", json_real (li.latency));
        }
        json_array_append_new (reps, e);
    }
    const json_t *m = ap->meta;
    return json_pack ("{s:O, s:O, s:O, s:O, s:O, s:O, s:o}", "name", json_object_get (m, "name"),
                      "version", json_object_get (m, "version"), "digest",
                      json_object_get (m, "digest"), "bytes", json_object_get (m, "bytes"),
                      "publisher", json_object_get (m, "publisher"), "signature",
                      json_object_get (m, "signature"), "replicas", reps);
}

const char *apps_ref (const struct app_place *ap, char *buf, size_t size)
{
    snprintf (buf, size, "%s@%s %s", json_string_value (json_object_get (ap->meta, "name")) ?: "",
              json_string_value (json_object_get (ap->meta, "version")) ?: "",
              json_string_value (json_object_get (ap->meta, "digest")) ?: "");
    return buf;
}
