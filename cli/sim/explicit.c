/* explicit.c - explicit scenario files (sites, links, datasets, tasks; see
 * docs/sim.md): read into the model of scenario.h, the links by common/
 * config.c's parser, as in federation.yaml. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/names.h"
#include "common/policy.h"
#include "common/strmap.h"
#include "common/ydoc.h"
#include "scenario.h"

static int get_site_ref (struct lctx *c, const struct ynode *n, const char *what, int *out)
{
    char name[PLACEMENT_NAME_MAX];
    if (ynode_string (c->file, n, what, name, sizeof (name), c->err) < 0)
        return -1;
    if ((*out = scn_find_site (c->s, name)) < 0)
        return ynode_error (c->file, n, c->err, "%s: unknown site '%s'", what, name);
    return 0;
}

static const char *const site_keys[] = { "name", "region", "cores", NULL };
static const char *const data_keys[] = { "name", "site", "sites", "bytes", "policy", NULL };
static const char *const task_keys[] = { "name", "ranks", "runtime", "command", "walltime",
                                         "inputs", "outputs", "after", "site", NULL };
static const char *const input_keys[] = { "data", "fraction", "reduce", NULL };

static int parse_sites (struct lctx *c, const struct ynode *n)
{
    if (scn_want_seq (c, n, "sites") < 0)
        return -1;
    if (n->n == 0)
        return ynode_error (c->file, n, c->err, "sites: the federation needs at least one site");
    if (n->n > SIM_MAX_SITES)
        return ynode_error (c->file, n, c->err, "sites: at most %d sites", SIM_MAX_SITES);
    for (size_t i = 0; i < n->n; i++) {
        const struct ynode *m = n->items[i], *v;
        char w[48], name[PLACEMENT_NAME_MAX], region[PLACEMENT_NAME_MAX] = "";
        int64_t cores;
        snprintf (w, sizeof (w), "sites[%zu]", i);
        if (scn_want_map (c, m, w, site_keys) < 0)
            return -1;
        if (!(v = ynode_get (m, "name")))
            return scn_missing (c, m, w, "name");
        if (scn_get_ident (c, v, w, "site", name, sizeof (name)) < 0)
            return -1;
        if (scn_find_site (c->s, name) >= 0)
            return ynode_error (c->file, v, c->err, "%s: site '%s' is listed twice", w, name);
        if ((v = ynode_get (m, "region")) && scn_get_ident (c, v, w, "region", region,
                                                       sizeof (region)) < 0)
            return -1;
        if (!(v = ynode_get (m, "cores")))
            return scn_missing (c, m, w, "cores");
        if (ynode_int (c->file, v, w, 1, 1 << 24, &cores, c->err) < 0)
            return -1;
        if (scn_add_site (c, name, region, (int)cores) < 0)
            return -1;
    }
    return 0;
}

/* A site of the scenario (for config_links_parse). */
static bool site_known (void *arg, const char *name)
{
    return scn_find_site (arg, name) >= 0;
}

/* links: as in federation.yaml, read by the same parser (common/config.c). */
static int parse_links (struct lctx *c, const struct ynode *n)
{
    struct link_cfg def = { .bandwidth = DEF_BW, .latency = DEF_LAT }, *pairs = NULL;
    int np = 0;
    if (n && config_links_parse (c->file, n, site_known, c->s, &def, &pairs, &np, c->err) < 0)
        return -1;
    if (scn_links_alloc (c, def.bandwidth, def.latency) < 0) {
        free (pairs);
        return -1;
    }
    for (int i = 0; i < np; i++)
        scn_link_put (c->s, scn_find_site (c->s, pairs[i].from), scn_find_site (c->s, pairs[i].to),
                      pairs[i].bandwidth, pairs[i].latency);
    free (pairs);
    return 0;
}

static int parse_datasets (struct lctx *c, const struct ynode *n, struct strmap *names)
{
    if (scn_want_seq (c, n, "datasets") < 0)
        return -1;
    for (size_t i = 0; i < n->n; i++) {
        const struct ynode *m = n->items[i], *v, *one, *many;
        char w[48], name[FS_NAME_MAX + 1], pol[512] = "raw";
        uint64_t bytes;
        fs_policy_t p;
        fs_error_t e;
        snprintf (w, sizeof (w), "datasets[%zu]", i);
        if (scn_want_map (c, m, w, data_keys) < 0)
            return -1;
        if (!(v = ynode_get (m, "name")))
            return scn_missing (c, m, w, "name");
        if (ynode_string (c->file, v, w, name, sizeof (name), c->err) < 0)
            return -1;
        if (name_valid (name, &e) < 0)
            return ynode_error (c->file, v, c->err, "%s: %s", w, e.text);
        if (strmap_get (names, name) >= 0)
            return ynode_error (c->file, v, c->err, "%s: dataset '%s' is listed twice", w, name);
        if (!(v = ynode_get (m, "bytes")))
            return scn_missing (c, m, w, "bytes");
        if (ynode_size (c->file, v, w, &bytes, c->err) < 0)
            return -1;
        if ((v = ynode_get (m, "policy"))) {
            if (ynode_string (c->file, v, w, pol, sizeof (pol), c->err) < 0)
                return -1;
        }
        if (policy_parse (pol, &p, &e) < 0)
            return ynode_error (c->file, v, c->err, "%s: %s", w, e.text);
        int pi = scn_policy_intern (c->s, &p);
        if (pi < 0)
            return scn_oom (c);
        one = ynode_get (m, "site");
        many = ynode_get (m, "sites");
        if (!one && !many)
            return scn_missing (c, m, w, "site");
        if (one && many)
            return ynode_error (c->file, many, c->err, "%s: give 'site' or 'sites', not both", w);
        char *dup = strdup (name);
        int64_t d = dup ? scn_add_data (c, dup, bytes, pi, -1) : (scn_oom (c), -1);
        if (d < 0)
            return -1;
        c->s->data[d].line = m->line;
        c->s->data[d].col = m->col;
        if (strmap_put (names, c->s->data[d].name, d) < 0)
            return scn_oom (c);
        if (one) {
            int s;
            if (get_site_ref (c, one, w, &s) < 0 || scn_add_replica (c, d, s) < 0)
                return -1;
        } else {
            if (scn_want_seq (c, many, w) < 0)
                return -1;
            if (many->n == 0)
                return ynode_error (c->file, many, c->err, "%s: 'sites' needs at least one site", w);
            for (size_t k = 0; k < many->n; k++) {
                int s;
                if (get_site_ref (c, many->items[k], w, &s) < 0)
                    return -1;
                for (int r = 0; r < c->s->data[d].nrep; r++)
                    if (c->s->reps[c->s->data[d].rep_off + r] == s)
                        return ynode_error (c->file, many->items[k], c->err,
                                            "%s: site '%s' is listed twice", w,
                                            c->s->sites[s].name);
                if (scn_add_replica (c, d, s) < 0)
                    return -1;
            }
        }
    }
    return 0;
}

/* First pass over the tasks: names, sizes, pins, outputs (so inputs may
 * name the outputs of tasks further down the file). */
static int parse_tasks_1 (struct lctx *c, const struct ynode *n, struct strmap *dnames,
                          struct strmap *tnames)
{
    if (scn_want_seq (c, n, "tasks") < 0)
        return -1;
    int maxcores = 0;
    for (int i = 0; i < c->s->nsites; i++)
        if (c->s->sites[i].cores > maxcores)
            maxcores = c->s->sites[i].cores;
    for (size_t i = 0; i < n->n; i++) {
        const struct ynode *m = n->items[i], *v;
        char w[96], name[PLACEMENT_NAME_MAX];
        int64_t ranks = 1;
        double runtime;
        int pin = -1;
        snprintf (w, sizeof (w), "tasks[%zu]", i);
        if (scn_want_map (c, m, w, task_keys) < 0)
            return -1;
        if (!(v = ynode_get (m, "name")))
            return scn_missing (c, m, w, "name");
        if (scn_get_ident (c, v, w, "task", name, sizeof (name)) < 0)
            return -1;
        if (strmap_get (tnames, name) >= 0)
            return ynode_error (c->file, v, c->err, "%s: task '%s' is listed twice", w, name);
        snprintf (w, sizeof (w), "task %s", name);
        if ((v = ynode_get (m, "ranks")) && ynode_int (c->file, v, w, 1, 1 << 24, &ranks,
                                                      c->err) < 0)
            return -1;
        if (ranks > maxcores)
            return ynode_error (c->file, v, c->err, "%s: %lld ranks, but the largest site has %d "
                                "cores", w, (long long)ranks, maxcores);
        if (!(v = ynode_get (m, "runtime")))
            return scn_missing (c, m, w, "runtime");
        if (ynode_duration (c->file, v, w, &runtime, c->err) < 0)
            return -1;
        if ((v = ynode_get (m, "site"))) {
            if (get_site_ref (c, v, w, &pin) < 0)
                return -1;
            if (c->s->sites[pin].cores < ranks)
                return ynode_error (c->file, v, c->err, "%s: pinned to %s, which has %d cores "
                                    "(fewer than its %lld ranks)", w, c->s->sites[pin].name,
                                    c->s->sites[pin].cores, (long long)ranks);
        }
        char *tn = strdup (name);
        if (!tn || scn_add_task (c, tn, (int)ranks, runtime, pin) < 0)
            return tn ? -1 : scn_oom (c);
        int64_t t = c->s->ntasks - 1;
        c->s->tasks[t].line = m->line;
        c->s->tasks[t].col = m->col;
        if ((v = ynode_get (m, "command"))) {
            char cmd[1024];
            int k;
            if (ynode_string (c->file, v, w, cmd, sizeof (cmd), c->err) < 0)
                return -1;
            if (!cmd[0])
                return ynode_error (c->file, v, c->err, "%s: command: must not be empty", w);
            if ((k = scn_command (c, cmd)) < 0)
                return -1;
            c->s->tasks[t].cmd = k;
        }
        if ((v = ynode_get (m, "walltime"))) {
            double wt;
            if (ynode_duration (c->file, v, w, &wt, c->err) < 0)
                return -1;
            if (!(wt > 0))
                return ynode_error (c->file, v, c->err, "%s: walltime: must be longer than zero",
                                    w);
            c->s->tasks[t].walltime = wt;
        }
        if (strmap_put (tnames, c->s->tasks[t].name, t) < 0)
            return scn_oom (c);
        if (!(v = ynode_get (m, "outputs")))
            continue;
        if (v->type != YNODE_MAP)
            return ynode_error (c->file, v, c->err, "%s: outputs: expected a mapping of output "
                                "names to sizes, e.g. {fine: 40GB}", w);
        for (size_t k = 0; k < v->n; k++) {
            char oname[PLACEMENT_NAME_MAX], full[2 * PLACEMENT_NAME_MAX + 2], wo[200];
            uint64_t bytes;
            snprintf (wo, sizeof (wo), "%s: outputs", w);
            if (scn_get_ident (c, v->keys[k], wo, "output", oname, sizeof (oname)) < 0
                || ynode_size (c->file, v->items[k], wo, &bytes, c->err) < 0)
                return -1;
            snprintf (full, sizeof (full), "%s.%s", name, oname);
            if (strmap_get (dnames, full) >= 0)
                return ynode_error (c->file, v->keys[k], c->err, "%s: output '%s' has the name of "
                                    "a dataset", wo, full);
            char *dup = strdup (full);
            int64_t d = dup ? scn_add_data (c, dup, bytes, 0, (int)t) : (scn_oom (c), -1);
            if (d < 0)
                return -1;
            c->s->data[d].line = v->keys[k]->line;
            c->s->data[d].col = v->keys[k]->col;
            if (strmap_put (dnames, c->s->data[d].name, d) < 0)
                return scn_oom (c);
            if (GROW (c->s->outs, c->s->capouts, c->s->nouts + 1) < 0)
                return scn_oom (c);
            c->s->outs[c->s->nouts++] = d;
            c->s->tasks[t].nout++;
        }
    }
    return 0;
}

/* Second pass: inputs and 'after', in file order (inputs of task t land in
 * ins[] contiguously, since the first pass added no inputs). */
static int parse_tasks_2 (struct lctx *c, const struct ynode *n, const struct strmap *dnames,
                          const struct strmap *tnames)
{
    struct sim *s = c->s;
    struct edge *e = NULL;
    int64_t ne = 0, cap = 0;
    for (size_t i = 0; i < n->n; i++) {
        const struct ynode *m = n->items[i], *v;
        struct stask *t = &s->tasks[i];
        char w[96];
        snprintf (w, sizeof (w), "task %s", t->name);
        t->in_off = s->nins;
        if ((v = ynode_get (m, "inputs"))) {
            if (scn_want_seq (c, v, w) < 0)
                goto fail;
            for (size_t k = 0; k < v->n; k++) {
                const struct ynode *it = v->items[k], *dn = it, *x;
                char dname[FS_NAME_MAX + 1], wi[128];
                double fraction = 1, reduce = 1;
                snprintf (wi, sizeof (wi), "%s: inputs[%zu]", w, k);
                if (it->type == YNODE_MAP) {
                    if (scn_want_map (c, it, wi, input_keys) < 0)
                        goto fail;
                    if (!(dn = ynode_get (it, "data"))) {
                        scn_missing (c, it, wi, "data");
                        goto fail;
                    }
                    if ((x = ynode_get (it, "fraction"))
                        && scn_get_number (c, x, wi, 0, 1, &fraction) < 0)
                        goto fail;
                    if (x && !(fraction > 0)) {
                        ynode_error (c->file, x, c->err, "%s: fraction must be > 0", wi);
                        goto fail;
                    }
                    if ((x = ynode_get (it, "reduce")) && scn_get_number (c, x, wi, 1, 1e15,
                                                                      &reduce) < 0)
                        goto fail;
                }
                if (ynode_string (c->file, dn, wi, dname, sizeof (dname), c->err) < 0)
                    goto fail;
                int64_t d = strmap_get (dnames, dname);
                if (d < 0) {
                    const char *dot = strchr (dname, '.');
                    if (dot && strmap_get (tnames, dname) < 0) {
                        char tn[PLACEMENT_NAME_MAX];
                        snprintf (tn, sizeof (tn), "%.*s", (int)(dot - dname), dname);
                        if (strmap_get (tnames, tn) >= 0) {
                            ynode_error (c->file, dn, c->err, "%s: task '%s' has no output '%s'",
                                         wi, tn, dot + 1);
                            goto fail;
                        }
                    }
                    ynode_error (c->file, dn, c->err, "%s: unknown dataset '%s' (neither in "
                                 "'datasets' nor a TASK.OUTPUT)", wi, dname);
                    goto fail;
                }
                if (s->data[d].producer == (int)i) {
                    ynode_error (c->file, dn, c->err, "%s: a task can't read its own output", wi);
                    goto fail;
                }
                if (scn_add_input (c, d, fraction, reduce) < 0)
                    goto fail;
                t = &s->tasks[i];
                t->nin++;
                if (s->data[d].producer >= 0
                    && scn_edge_add (c, &e, &ne, &cap, s->data[d].producer, (int64_t)i) < 0)
                    goto fail;
            }
        }
        if ((v = ynode_get (m, "after"))) {
            if (scn_want_seq (c, v, w) < 0)
                goto fail;
            for (size_t k = 0; k < v->n; k++) {
                char tn[PLACEMENT_NAME_MAX];
                if (ynode_string (c->file, v->items[k], w, tn, sizeof (tn), c->err) < 0)
                    goto fail;
                int64_t p = strmap_get (tnames, tn);
                if (p < 0 || p == (int64_t)i) {
                    ynode_error (c->file, v->items[k], c->err, "%s: after: %s '%s'", w,
                                 p < 0 ? "unknown task" : "a task can't wait for itself", tn);
                    goto fail;
                }
                if (scn_edge_add (c, &e, &ne, &cap, p, (int64_t)i) < 0)
                    goto fail;
            }
        }
    }
    return scn_dag_build (c, e, ne);
fail:
    free (e);
    return -1;
}

int scn_load_explicit (struct lctx *c, const struct ynode *root)
{
    const struct ynode *sites = ynode_get (root, "sites"), *tasks = ynode_get (root, "tasks");
    const struct ynode *datasets = ynode_get (root, "datasets");
    struct strmap *dn = NULL, *tn = NULL;
    if (!sites)
        return scn_missing (c, root, "scenario", "sites");
    if (parse_sites (c, sites) < 0 || parse_links (c, ynode_get (root, "links")) < 0)
        return -1;
    size_t nd = datasets && datasets->type == YNODE_SEQ ? datasets->n : 0;
    size_t nt = tasks && tasks->type == YNODE_SEQ ? tasks->n : 0;
    size_t nouts = 0;
    for (size_t i = 0; i < nt; i++) {
        const struct ynode *o = ynode_get (tasks->items[i], "outputs");
        nouts += o && o->type == YNODE_MAP ? o->n : 0;
    }
    int rc = -1;
    if (!(dn = strmap_create (nd + nouts)) || !(tn = strmap_create (nt))) {
        scn_oom (c);
        goto out;
    }
    if (datasets && parse_datasets (c, datasets, dn) < 0)
        goto out;
    c->s->nstatic = c->s->ndata;
    if (!tasks) {
        rc = scn_missing (c, root, "scenario", "tasks");
        goto out;
    }
    if (parse_tasks_1 (c, tasks, dn, tn) < 0 || parse_tasks_2 (c, tasks, dn, tn) < 0)
        goto out;
    rc = 0;
out:
    strmap_destroy (dn);
    strmap_destroy (tn);
    return rc;
}

