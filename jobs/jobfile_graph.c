/* jobfile_graph.c - job files, pass 2: duplicate names, `after` and output
 * references, the dependency edges, cycles (Tarjan's strongly connected
 * components; one shortest cycle is reported per component, as a path) and a
 * topological order (the order in which Tarjan emits the components).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strmap.h"
#include "jobfile_int.h"

/* Add the edge t -> dep once: seen[dep] == ti + 1 when t already has it. */
static int add_dep (struct job_task *t, size_t ti, size_t *seen, size_t dep, bool via_after,
                    struct job_mark m)
{
    if (seen[dep] == ti + 1)
        return 0;
    seen[dep] = ti + 1;
    if ((t->ndeps & (t->ndeps - 1)) == 0) {     /* 0, 1, 2, 4, ...: grow */
        struct job_dep *d = realloc (t->deps, (t->ndeps ? 2 * t->ndeps : 1) * sizeof (*d));
        if (!d)
            return -1;
        t->deps = d;
    }
    struct job_dep *d = t->deps;
    d[t->ndeps].task = dep;
    d[t->ndeps].via_after = via_after;
    d[t->ndeps].mark = m;
    t->ndeps++;
    return 0;
}

static int dep_cmp (const void *a, const void *b)
{
    const struct job_dep *x = a, *y = b;
    return x->task < y->task ? -1 : x->task > y->task;
}

/* Describe why a depends on b, e.g. "b lists a in after (line 7)". */
static void edge_reason (const struct job_spec *s, size_t a, size_t b, char *buf, size_t n)
{
    const struct job_task *t = &s->tasks[a];
    for (size_t i = 0; i < t->ndeps; i++) {
        const struct job_dep *d = &t->deps[i];
        if (d->task != b)
            continue;
        if (d->via_after)
            snprintf (buf, n, "%s runs after %s (line %d)", t->name, s->tasks[b].name,
                      d->mark.line);
        else
            snprintf (buf, n, "%s reads an output of %s (line %d)", t->name, s->tasks[b].name,
                      d->mark.line);
        return;
    }
    buf[0] = '\0';
}

/* Report one shortest cycle through the first task of the component comp. */
/* parent[] is all SIZE_MAX on entry and on return; queue[] and path[] are
 * scratch, each of ntasks entries. */
static void report_cycle (struct pstate *ps, const long *comp, size_t first, size_t *parent,
                          size_t *queue, size_t *path)
{
    const struct job_spec *s = ps->spec;
    size_t qh = 0, qt = 0, last = SIZE_MAX;
    queue[qt++] = first;
    parent[first] = first;
    while (qh < qt && last == SIZE_MAX) {
        size_t v = queue[qh++];
        for (size_t i = 0; i < s->tasks[v].ndeps; i++) {
            size_t w = s->tasks[v].deps[i].task;
            if (comp[w] != comp[first])
                continue;
            if (w == first) {
                last = v;
                break;
            }
            if (parent[w] == SIZE_MAX) {
                parent[w] = v;
                queue[qt++] = w;
            }
        }
    }
    /* The cycle: first -> ... -> last -> first; parent[] walks it backwards. */
    size_t len = 0;
    if (last != SIZE_MAX)       /* always, in a strongly connected component */
        for (size_t v = last;; v = parent[v]) {
            path[len++] = v;
            if (v == first)
                break;
        }
    for (size_t i = 0; i < qt; i++)
        parent[queue[i]] = SIZE_MAX;
    if (!len)
        return;
    char text[700] = "", why[900] = "";
    size_t po = 0, wo = 0;
    for (size_t k = len; k-- > 0;) {
        size_t v = path[k], next = k ? path[k - 1] : first;
        if (po < sizeof (text))
            po += (size_t) snprintf (text + po, sizeof (text) - po, "%s -> ", s->tasks[v].name);
        char r[300];
        edge_reason (s, v, next, r, sizeof (r));
        if (wo < sizeof (why))
            wo += (size_t) snprintf (why + wo, sizeof (why) - wo, "%s%s", wo ? "; " : "", r);
    }
    if (po < sizeof (text))
        snprintf (text + po, sizeof (text) - po, "%s", s->tasks[first].name);
    perr_at (ps, s->tasks[first].mark, "dependency cycle: %s (%s)", text, why);
}

/* Tarjan's strongly connected components, iteratively.  Reports a cycle for
 * each component that has one; when there is none, fills spec->order.
 * Returns 0, -1 (cycles or OOM). */
static int graph_order (struct pstate *ps)
{
    struct job_spec *s = ps->spec;
    size_t n = s->ntasks;
    long *index = malloc (n * sizeof (long)), *low = malloc (n * sizeof (long));
    long *comp = malloc (n * sizeof (long));
    size_t *stk = malloc (n * sizeof (size_t)), *cs = malloc (n * sizeof (size_t));
    size_t *ci = malloc (n * sizeof (size_t)), *order = malloc (n * sizeof (size_t));
    bool *on = calloc (n, sizeof (bool));
    int rc = -1;
    if (!index || !low || !comp || !stk || !cs || !ci || !order || !on) {
        ps->oom = true;
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        index[i] = comp[i] = -1;
    long idx = 0, ncomp = 0;
    size_t sp = 0, csp = 0, no = 0;
    bool cyclic = false;
    size_t *firsts = NULL, nfirst = 0;
    for (size_t r = 0; r < n; r++) {
        if (index[r] >= 0)
            continue;
        index[r] = low[r] = idx++;
        stk[sp++] = r;
        on[r] = true;
        cs[csp] = r;
        ci[csp++] = 0;
        while (csp) {
            size_t v = cs[csp - 1];
            if (ci[csp - 1] < s->tasks[v].ndeps) {
                size_t w = s->tasks[v].deps[ci[csp - 1]++].task;
                if (index[w] < 0) {
                    index[w] = low[w] = idx++;
                    stk[sp++] = w;
                    on[w] = true;
                    cs[csp] = w;
                    ci[csp++] = 0;
                }
                else if (on[w] && index[w] < low[v])
                    low[v] = index[w];
                continue;
            }
            csp--;
            if (low[v] == index[v]) {
                size_t first = SIZE_MAX, size = 0;
                size_t w;
                do {
                    w = stk[--sp];
                    on[w] = false;
                    comp[w] = ncomp;
                    order[no++] = w;
                    if (w < first)
                        first = w;
                    size++;
                } while (w != v);
                bool self = false;
                for (size_t i = 0; size == 1 && i < s->tasks[v].ndeps; i++)
                    if (s->tasks[v].deps[i].task == v)
                        self = true;
                if (size > 1 || self) {
                    size_t *f = realloc (firsts, (nfirst + 1) * sizeof (*f));
                    if (!f) {
                        ps->oom = true;
                        free (firsts);
                        goto done;
                    }
                    firsts = f;
                    firsts[nfirst++] = first;
                    cyclic = true;
                }
                ncomp++;
            }
            if (csp) {
                size_t u = cs[csp - 1];
                if (low[v] < low[u])
                    low[u] = low[v];
            }
        }
    }
    /* Components come out dependencies first: with no cycle, that is the order. */
    for (size_t i = 0; i < n; i++)
        stk[i] = SIZE_MAX;
    for (size_t i = 0; i < nfirst; i++)
        report_cycle (ps, comp, firsts[i], stk, cs, ci);
    free (firsts);
    if (!cyclic) {
        s->order = order;
        order = NULL;
        rc = 0;
    }
done:
    free (index);
    free (low);
    free (comp);
    free (stk);
    free (cs);
    free (ci);
    free (order);
    free (on);
    return rc;
}

void graph (struct pstate *ps)
{
    struct job_spec *s = ps->spec;
    struct strmap *tasks = NULL, *pubs = NULL, **omaps = NULL;
    size_t npub = 0, *seen = NULL;
    for (size_t i = 0; i < s->ntasks; i++)
        npub += s->tasks[i].noutputs;
    if (!(tasks = strmap_create (s->ntasks)) || !(pubs = strmap_create (npub))) {
        ps->oom = true;
        goto done;
    }
    for (size_t i = 0; i < s->ntasks; i++) {
        struct job_task *t = &s->tasks[i];
        if (ps->task_bad[i])
            continue;
        long prev = (long) strmap_get (tasks, t->name);
        if (prev < 0 && strmap_put (tasks, t->name, (int64_t) i) < 0) {
            ps->oom = true;
            goto done;
        }
        if (prev >= 0) {
            perr_at (ps, t->name_mark, "duplicate task name '%s' (first at line %d, column %d)",
                     t->name, s->tasks[prev].name_mark.line, s->tasks[prev].name_mark.col);
            ps->task_bad[i] = true;
        }
    }
    /* Publish names: each at most once in the job. */
    {
        /* Remember (task, output) of the first use in two parallel arrays. */
        size_t *ft = malloc ((npub + 1) * sizeof (size_t)), *fo = malloc ((npub + 1) * sizeof (size_t));
        size_t nf = 0;
        if (!ft || !fo) {
            free (ft);
            free (fo);
            ps->oom = true;
            goto done;
        }
        for (size_t i = 0; i < s->ntasks; i++)
            for (size_t k = 0; k < s->tasks[i].noutputs; k++) {
                struct job_output *o = &s->tasks[i].outputs[k];
                if (!o->publish)
                    continue;
                long prev = (long) strmap_get (pubs, o->publish);
                if (prev < 0 && strmap_put (pubs, o->publish, (int64_t) nf) < 0) {
                    free (ft);
                    free (fo);
                    ps->oom = true;
                    goto done;
                }
                if (prev < 0) {
                    ft[nf] = i;
                    fo[nf++] = k;
                    continue;
                }
                const struct job_output *po = &s->tasks[ft[prev]].outputs[fo[prev]];
                perr_at (ps, o->publish_mark, "task '%s': output '%s': '%s' is already published "
                         "by task '%s', output '%s' (line %d)", s->tasks[i].name, o->name,
                         o->publish, s->tasks[ft[prev]].name, po->name, po->publish_mark.line);
            }
        free (ft);
        free (fo);
    }
    /* References and dependency edges. */
    seen = calloc (s->ntasks, sizeof (*seen));
    omaps = calloc (s->ntasks, sizeof (*omaps));
    if (!seen || !omaps) {
        ps->oom = true;
        goto done;
    }
    for (size_t i = 0; i < s->ntasks; i++) {
        struct job_task *t = &s->tasks[i];
        if (ps->task_bad[i])
            continue;
        for (size_t k = 0; k < t->nafter; k++) {
            long d = (long) strmap_get (tasks, t->after[k]);
            if (d < 0) {
                perr_at (ps, t->after_marks[k], "task '%s': after: unknown task '%s'", t->name,
                         t->after[k]);
                continue;
            }
            if (add_dep (t, i, seen, (size_t) d, true, t->after_marks[k]) < 0)
                ps->oom = true;
        }
        for (size_t k = 0; k < t->ninputs; k++) {
            struct job_input *in = &t->inputs[k];
            if (ps->input_bad[i] && ps->input_bad[i][k])
                continue;
            if (in->kind != JOB_IN_OUTPUT)
                continue;
            long d = (long) strmap_get (tasks, in->from_task);
            if (d < 0) {
                perr_at (ps, in->text_mark, "task '%s': input '%s': '%s' names no task of the "
                         "job (to read a catalog dataset with a '.' in its name, write it with "
                         "brackets: '%s[...]')", t->name, in->name, in->text, in->text);
                ps->input_bad[i][k] = true;
                continue;
            }
            if (!omaps[d] && !(omaps[d] = names_map (&s->tasks[d], true))) {
                ps->oom = true;
                goto done;
            }
            long o = (long) strmap_get (omaps[d], in->from_output);
            if (o < 0) {
                char names[300];
                list_names (&s->tasks[d], true, names, sizeof (names));
                perr_at (ps, in->text_mark, "task '%s': input '%s': task '%s' has no output "
                         "'%s' (outputs: %s)", t->name, in->name, in->from_task, in->from_output,
                         names);
                ps->input_bad[i][k] = true;
                continue;
            }
            in->from_task_index = (size_t) d;
            in->from_output_index = (size_t) o;
            if (add_dep (t, i, seen, (size_t) d, false, in->text_mark) < 0)
                ps->oom = true;
        }
        if (t->ndeps > 1)
            qsort (t->deps, t->ndeps, sizeof (*t->deps), dep_cmp);
    }
    if (!ps->oom)
        graph_order (ps);
done:
    strmap_destroy (tasks);
    strmap_destroy (pubs);
    for (size_t i = 0; omaps && i < s->ntasks; i++)
        strmap_destroy (omaps[i]);
    free (omaps);
    free (seen);
}

