/* jobfile_fed.c - job files, pass 3: the checks against the federation.
 *
 * Datasets, slice bounds, reductions, pins, cores and the sites the inputs'
 * policies allow, through a struct job_fedview.  A task's output inherits the
 * most restrictive policy of its inputs (SPEC 6), so a consumer of an output
 * that inherits `none` or `aggregate` must run where the producer may run,
 * and one that inherits `regions` within those regions (or where the producer
 * may run).  These are necessary conditions: a job is only refused when no
 * placement can ever satisfy them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strmap.h"
#include "jobfile_int.h"

struct fctx {
    struct pstate *ps;
    const struct job_fedview *v;
    size_t nsites;
    struct job_site_info *sites;
    struct strmap *sitemap;     /* site name -> index into sites */
    int maxcores;
    size_t maxsite;
    /* per task */
    bool **allowed;             /* [ntasks][nsites], NULL: task not checked (errors) */
    fs_policy_t *inh;           /* [ntasks]: the policy the task's outputs inherit */
};

static void site_list (const struct fctx *f, const bool *set, bool with_cores, char *buf,
                       size_t n)
{
    size_t o = 0, shown = 0, total = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < f->nsites; i++) {
        if (set && !set[i])
            continue;
        total++;
        if (shown >= 12 || o + 90 > n)
            continue;
        if (with_cores)
            o += (size_t) snprintf (buf + o, n - o, "%s%s (%d cores)", o ? ", " : "",
                                    f->sites[i].name, f->sites[i].cores);
        else
            o += (size_t) snprintf (buf + o, n - o, "%s%s", o ? ", " : "", f->sites[i].name);
        shown++;
    }
    if (total > shown && o + 20 < n)
        snprintf (buf + o, n - o, ", and %zu more", total - shown);
    if (!total)
        snprintf (buf, n, "none");
}

/* Look up, resolve and reduce one dataset input; 0 or -1 (reported). */
static int check_dataset_input (struct fctx *f, struct job_task *t, struct job_input *in,
                                struct job_dataset_info *di)
{
    struct pstate *ps = f->ps;
    fs_error_t e = { 0, "" };
    int rc = -1;
    int found = f->v->dataset_lookup (f->v->ctx, in->slice.name, di, &e);
    if (found < 0) {
        errlist_add (ps->errs, FS_EFAIL, ps->file, in->text_mark.line, in->text_mark.col,
                  "task '%s': input '%s': cannot look up dataset '%s': %s", t->name, in->name,
                  in->slice.name, e.text);
        goto out;
    }
    if (found == 0) {
        perr_at (ps, in->text_mark, "task '%s': input '%s': unknown dataset '%s' (see "
                 "'fedsched catalog')", t->name, in->name, in->slice.name);
        goto out;
    }
    if (di->ndims < 0 || di->ndims > FS_MAXDIMS || di->nreplicas < 0
        || di->nreplicas > JOB_MAX_REPLICAS) {
        errlist_add (ps->errs, FS_EFAIL, ps->file, in->text_mark.line, in->text_mark.col,
                  "task '%s': input '%s': the catalog entry of '%s' is invalid", t->name,
                  in->name, in->slice.name);
        goto out;
    }
    if (slice_resolve (&in->slice, di->ndims, di->shape, &in->sel, &e) < 0) {
        char shape[300] = "";
        size_t o = 0;
        for (int d = 0; d < di->ndims && o < sizeof (shape); d++)
            o += (size_t) snprintf (shape + o, sizeof (shape) - o, "%s%" PRIu64, d ? " x " : "",
                                    di->shape[d]);
        perr_at (ps, in->text_mark, "task '%s': input '%s': %s (dataset shape %s)", t->name,
                 in->name, e.text, di->ndims ? shape : "scalar");
        goto out;
    }
    if (in->reduce.op != RED_NONE) {
        uint64_t sh[FS_MAXDIMS];
        int nres = sel_out_shape (&in->sel, sh);
        if (in->reduce.nblock != nres) {
            perr_at (ps, in->reduce_mark, "task '%s': input '%s': reduce: %s gives %d block "
                     "size%s but the slice '%s' selects %d dimension%s (integer indices drop "
                     "theirs): give one block size per dimension", t->name, in->name,
                     reduce_op_name (in->reduce.op), in->reduce.nblock,
                     in->reduce.nblock == 1 ? "" : "s", in->text, nres, nres == 1 ? "" : "s");
            goto out;
        }
    }
    int r = reduce_out_shape (&in->sel, &in->reduce, in->out_shape, &e);
    if (r < 0) {
        perr_at (ps, in->reduce_mark, "task '%s': input '%s': reduce: %s", t->name, in->name,
                 e.text);
        goto out;
    }
    in->out_ndims = r;
    in->ndims = di->ndims;
    memcpy (in->shape, di->shape, sizeof (in->shape));
    in->dtype = di->dtype;
    in->policy = di->policy;
    in->resolved = true;
    rc = 0;
out:
    return rc;
}

/* Where input in of a task may be read, into set[] (true: allowed), and the
 * policy its data moves under (*moves: what the task's outputs inherit from
 * it), both from the policy engine: a task output is read where its producer
 * may run, or wherever the policy it inherited lets its bytes go. */
static void input_sites (struct fctx *f, const struct job_input *in,
                         const struct job_dataset_info *di, bool *set, fs_policy_t *moves)
{
    size_t ns = f->nsites;
    if (in->kind == JOB_IN_OUTPUT) {
        size_t p = in->from_task_index;
        *moves = *policy_moves (NULL, false);
        if (!f->allowed[p]) {   /* the producer had errors: no constraint known */
            for (size_t k = 0; k < ns; k++)
                set[k] = true;
            return;
        }
        *moves = f->inh[p];
        for (size_t k = 0; k < ns; k++)
            set[k] = policy_site_allows (moves, f->allowed[p][k], f->sites[k].region);
        return;
    }
    bool satisfied = in->reduce.op != RED_NONE
                     && policy_reduce_satisfies (&in->policy, &in->sel, &in->reduce);
    *moves = *policy_moves (&in->policy, satisfied);
    for (size_t k = 0; k < ns; k++)
        set[k] = policy_site_allows (moves, false, f->sites[k].region);
    for (int r = 0; r < di->nreplicas; r++) {
        long k = (long) strmap_get (f->sitemap, di->replicas[r]);
        if (k >= 0)
            set[k] = true;      /* a holder reads its own data */
    }
}

static const char *policy_why (const struct job_input *in, char *buf, size_t n)
{
    char pol[600];
    fs_error_t e = { 0, "" };
    if (in->policy.kind == POLICY_AGGREGATE) {
        policy_aggregate_check (&in->policy, in->slice.name, in->shape, &in->sel,
                                in->reduce.op != RED_NONE ? &in->reduce : NULL, &e);
        snprintf (buf, n, "%s", e.text);
    }
    else
        snprintf (buf, n, "policy %s", policy_format (&in->policy, pol, sizeof (pol)));
    return buf;
}

/* Sites, cores and policies for task ti; inputs already resolved. */
static void check_task_sites (struct fctx *f, size_t ti, const bool *inputs_ok,
                              struct job_dataset_info **dis)
{
    struct pstate *ps = f->ps;
    struct job_spec *s = ps->spec;
    struct job_task *t = &s->tasks[ti];
    size_t ns = f->nsites;
    struct job_mark rmark = t->ranks_mark.line ? t->ranks_mark : t->mark;
    bool complete = true;
    long pin = -1;

    free (t->allowed);
    t->allowed = NULL;
    t->nallowed = 0;

    if (ns == 0) {
        perr_at (ps, t->mark, "task '%s': the federation has no sites to run it", t->name);
        return;
    }
    if (t->site[0]) {
        pin = (long) strmap_get (f->sitemap, t->site);
        if (pin < 0) {
            char names[600];
            site_list (f, NULL, false, names, sizeof (names));
            perr_at (ps, t->site_mark, "task '%s': site: '%s' is not a site of the federation "
                     "(sites: %s)", t->name, t->site, names);
            complete = false;
        }
    }
    if (t->ranks > f->maxcores) {
        perr_at (ps, rmark, "task '%s': ranks: %d ranks, but the largest site has %d cores "
                 "(%s): no site can ever run it", t->name, t->ranks, f->maxcores,
                 f->sites[f->maxsite].name);
        complete = false;
    }
    bool *allowed = malloc (ns * sizeof (bool)), *set = malloc (ns * sizeof (bool));
    char why[2048] = "";
    size_t wo = 0;
    fs_policy_t inherit = *policy_moves (NULL, false);
    if (!allowed || !set) {
        ps->oom = true;
        goto fail;
    }
    for (size_t k = 0; k < ns; k++)
        allowed[k] = true;
    for (size_t i = 0; i < t->ninputs; i++) {
        const struct job_input *in = &t->inputs[i];
        fs_policy_t moves;
        if (!inputs_ok[i]) {
            complete = false;
            continue;
        }
        input_sites (f, in, dis[i], set, &moves);
        policy_meet (&inherit, &moves, &inherit);   /* what the outputs inherit */
        bool restricts = false;
        for (size_t k = 0; k < ns; k++)
            if (!set[k]) {
                restricts = true;
                allowed[k] = false;
            }
        if (restricts && wo + 100 < sizeof (why)) {
            char sites[300], pw[900];
            site_list (f, set, false, sites, sizeof (sites));
            if (in->kind == JOB_IN_DATASET)
                wo += (size_t) snprintf (why + wo, sizeof (why) - wo, "%sinput '%s' (%s, %s) "
                                         "only at %s", wo ? "; " : "", in->name, in->slice.name,
                                         policy_why (in, pw, sizeof (pw)), sites);
            else
                wo += (size_t) snprintf (why + wo, sizeof (why) - wo, "%sinput '%s' (output of "
                                         "task '%s', which inherits its inputs' policies) only "
                                         "at %s", wo ? "; " : "", in->name, in->from_task, sites);
        }
    }
    if (pin >= 0) {
        for (size_t k = 0; k < ns; k++)
            if ((long) k != pin)
                allowed[k] = false;
    }
    if (!complete)
        goto fail;
    bool any = false, cores = false;
    for (size_t k = 0; k < ns; k++)
        if (allowed[k]) {
            any = true;
            if (f->sites[k].cores >= t->ranks)
                cores = true;
        }
    if (!any) {
        if (pin >= 0 && wo)
            perr_at (ps, t->mark, "task '%s': no site may run it: pinned to site '%s', but %s",
                     t->name, t->site, why);
        else
            perr_at (ps, t->mark, "task '%s': no site may run it under its inputs' data "
                     "policies: %s", t->name, why);
        goto fail;
    }
    if (!cores) {
        char sites[700];
        site_list (f, allowed, true, sites, sizeof (sites));
        if (pin >= 0)
            perr_at (ps, rmark, "task '%s': ranks: %d ranks, but the pinned site %s has "
                     "fewer cores", t->name, t->ranks, sites);
        else
            perr_at (ps, rmark, "task '%s': ranks: %d ranks, but the sites its inputs' data "
                     "policies allow have fewer cores: %s", t->name, t->ranks, sites);
        goto fail;
    }
    size_t na = 0;
    for (size_t k = 0; k < ns; k++) {
        if (allowed[k] && f->sites[k].cores < t->ranks)
            allowed[k] = false;
        na += allowed[k];
    }
    free (t->allowed);
    t->nallowed = 0;
    if (!(t->allowed = calloc (na, sizeof (*t->allowed)))) {
        ps->oom = true;
        goto fail;
    }
    for (size_t k = 0; k < ns; k++)
        if (allowed[k])
            memcpy (t->allowed[t->nallowed++], f->sites[k].name, JOB_IDENT_MAX);
    f->allowed[ti] = allowed;
    f->inh[ti] = inherit;
    free (set);
    return;
fail:
    free (allowed);
    free (set);
}

/* A task's app: published, command[0] one of its entry points, ranks > 1 only
 * for an MPI app.  true when it is published (its sites can be checked). */
static bool check_app (struct pstate *ps, const struct job_fedview *v, const struct job_task *t)
{
    struct job_app_info info;
    fs_error_t e = { 0, "" };
    memset (&info, 0, sizeof (info));
    int r = v->app_lookup (v->ctx, t->app_name, t->app_version, &info, &e);
    if (r < 0) {
        errlist_add (ps->errs, FS_EFAIL, ps->file, t->app_mark.line, t->app_mark.col,
                  "task '%s': cannot look app %s up: %s", t->name, t->app, e.text);
        return false;
    }
    if (r == 0) {
        perr_at (ps, t->app_mark, "task '%s': unknown app '%s' (not published: see 'fedsched "
                 "apps', and 'fedsched app publish SITE DIR')", t->name, t->app);
        return false;
    }
    bool found = false;
    char list[600] = "";
    size_t o = 0;
    for (int i = 0; i < info.nentry && i < APP_ENTRY_MAX; i++) {
        found = found || (t->argc > 0 && !strcmp (info.entry[i], t->argv[0]));
        if (o < sizeof (list))
            o += (size_t)snprintf (list + o, sizeof (list) - o, "%s%s", i ? ", " : "",
                                   info.entry[i]);
    }
    if (!found && t->argc > 0)
        perr_at (ps, t->argv_marks[0], "task '%s': command[0] '%s' is not an entry point of app "
                 "%s (entry points: %s)", t->name, t->argv[0], t->app, list);
    if (!info.mpi && t->ranks > 1)
        perr_at (ps, t->ranks_mark, "task '%s': app %s is not an MPI app (mpi: false in its "
                 "app.yaml): ranks must be 1", t->name, t->app);
    return true;
}

/* The sites the inputs and the pin allow (t->allowed) must include one that can
 * run the app: trusts its publisher, allows it, provides what it requires. */
static void check_app_sites (struct pstate *ps, const struct job_fedview *v,
                             const struct job_task *t)
{
    char why[2048];
    size_t o = 0;
    for (size_t i = 0; i < t->nallowed; i++) {
        char w[400] = "";
        if (v->app_site (v->ctx, t->app_name, t->app_version, t->allowed[i], w, sizeof (w)))
            return;
        if (o < sizeof (why))
            o += (size_t)snprintf (why + o, sizeof (why) - o, "%ssite %s %s", i ? "; " : "",
                                   t->allowed[i], w);
    }
    if (t->nallowed > 0)
        perr_at (ps, t->app_mark, "task '%s': no site can run app %s: %s", t->name, t->app, why);
}

int fed_check (struct pstate *ps, const struct job_fedview *v)
{
    struct job_spec *s = ps->spec;
    struct fctx f = { .ps = ps, .v = v };
    fs_error_t e = { 0, "" };
    size_t before = ps->errs->count + ps->errs->omitted;
    int rc = -1;

    f.nsites = v->site_count ? v->site_count (v->ctx) : 0;
    if (f.nsites > 1000000)
        f.nsites = 1000000;
    f.sites = calloc (f.nsites ? f.nsites : 1, sizeof (*f.sites));
    f.allowed = calloc (s->ntasks ? s->ntasks : 1, sizeof (*f.allowed));
    f.inh = calloc (s->ntasks ? s->ntasks : 1, sizeof (*f.inh));
    if (!f.sites || !f.allowed || !f.inh
        || !(f.sitemap = strmap_create (f.nsites))) {
        ps->oom = true;
        goto done;
    }
    for (size_t i = 0; i < f.nsites; i++) {
        if (v->site_get (v->ctx, i, &f.sites[i], &e) < 0) {
            errlist_add (ps->errs, FS_EFAIL, ps->file, 0, 0, "cannot list the federation's sites: %s",
                      e.text);
            goto done;
        }
        f.sites[i].name[JOB_IDENT_MAX - 1] = '\0';
        f.sites[i].region[JOB_IDENT_MAX - 1] = '\0';
        if (strmap_get (f.sitemap, f.sites[i].name) < 0
            && strmap_put (f.sitemap, f.sites[i].name, (int64_t) i) < 0) {
            ps->oom = true;
            goto done;
        }
        /* the largest site, the first by name among equals (messages name it) */
        if (i == 0 || f.sites[i].cores > f.maxcores
            || (f.sites[i].cores == f.maxcores
                && strcmp (f.sites[i].name, f.sites[f.maxsite].name) < 0)) {
            f.maxcores = f.sites[i].cores;
            f.maxsite = i;
        }
    }
    /* In dependency order when there is one, so producers come first. */
    for (size_t oi = 0; oi < s->ntasks; oi++) {
        size_t ti = s->order ? s->order[oi] : oi;
        struct job_task *t = &s->tasks[ti];
        if (ps->task_bad[ti])
            continue;
        bool app_ok = t->app[0] && v->app_lookup && check_app (ps, v, t);
        bool *ok = calloc (t->ninputs ? t->ninputs : 1, sizeof (bool));
        struct job_dataset_info **dis = calloc (t->ninputs ? t->ninputs : 1, sizeof (*dis));
        if (!ok || !dis) {
            free (ok);
            free (dis);
            ps->oom = true;
            goto done;
        }
        for (size_t i = 0; i < t->ninputs; i++) {
            struct job_input *in = &t->inputs[i];
            in->resolved = false;
            if (ps->input_bad[ti] && ps->input_bad[ti][i])
                continue;
            if (in->kind == JOB_IN_OUTPUT) {
                ok[i] = true;
                continue;
            }
            if (!(dis[i] = calloc (1, sizeof (**dis)))) {
                ps->oom = true;
                continue;
            }
            if (check_dataset_input (&f, t, in, dis[i]) == 0)
                ok[i] = true;
        }
        if (s->order)           /* without an order, a producer's sites may be unknown */
            check_task_sites (&f, ti, ok, dis);
        else {
            bool all = true;
            for (size_t i = 0; i < t->ninputs; i++)
                if (t->inputs[i].kind == JOB_IN_OUTPUT)
                    ok[i] = false, all = false;
            if (all)
                check_task_sites (&f, ti, ok, dis);
        }
        if (app_ok && v->app_site)
            check_app_sites (ps, v, t);
        for (size_t i = 0; i < t->ninputs; i++)
            free (dis[i]);
        free (dis);
        free (ok);
    }
    rc = ps->errs->count + ps->errs->omitted > before ? -1 : 0;
done:
    for (size_t i = 0; f.allowed && i < s->ntasks; i++)
        free (f.allowed[i]);
    free (f.allowed);
    free (f.inh);
    free (f.sites);
    strmap_destroy (f.sitemap);
    return rc;
}

