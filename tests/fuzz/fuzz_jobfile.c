/* fuzz_jobfile.c - libFuzzer harness for jobs/jobfile.h, structural checks only
 * (jobfile_load_string with a NULL view: no catalog, no sites).
 *
 * Input: a job file (YAML).
 *
 * Invariants checked:
 *   - a refused file gives at most ERRLIST_KEPT messages, sorted by
 *     position, each "NAME:..." , with code FS_EINVAL or FS_EFAIL;
 *     errlist_join() / errlist_to_error() work on them;
 *   - a loaded job: at least one task, unique valid task names, inputs that
 *     are valid slices or references to an existing task's existing output,
 *     dependency lists ascending and in range, and an order that is a
 *     permutation with every dependency first;
 *   - loading the same text again (errs NULL) gives a job too;
 *   - every task's argv expands (the loader checked its placeholders).
 * Everything is freed (LeakSanitizer runs after each input).
 */
#include "fuzz_util.h"
#include "common/names.h"
#include "jobs/jobfile.h"

#define NAME "fuzz-job.yaml"

static int resolve (void *arg, const struct job_task *task, bool is_output, const char *name,
                    char *file, size_t filesz, char *dset, size_t dsetsz, fs_error_t *err)
{
    (void)arg;
    snprintf (file, filesz, "/data/%s/%s.h5", task->name, is_output ? "out" : "in");
    snprintf (dset, dsetsz, "/%s", name);
    return 0;
}

static void check_errors (const struct errlist *errs)
{
    FUZZ_CHECK (errs->count + errs->omitted > 0, "NULL job without errors");
    FUZZ_CHECK (errs->count <= ERRLIST_KEPT, "%zu errors kept", errs->count);
    FUZZ_CHECK (errs->code == FS_EINVAL || errs->code == FS_EFAIL, "code %d", errs->code);
    for (size_t i = 0; i < errs->count; i++) {
        const struct errlist_item *x = &errs->list[i];
        FUZZ_CHECK (x->msg && strncmp (x->msg, NAME, strlen (NAME)) == 0, "message %zu: %s", i,
                    x->msg ? x->msg : "(null)");
        if (i)
            FUZZ_CHECK (errs->list[i - 1].line < x->line
                        || (errs->list[i - 1].line == x->line && errs->list[i - 1].col <= x->col),
                        "errors not sorted at %zu", i);
    }
    char *all = errlist_join (errs, "\n");
    FUZZ_CHECK (all != NULL, "errlist_join");
    if (errs->count)
        FUZZ_CHECK (strstr (all, errs->list[0].msg) == all, "join does not start with the first");
    free (all);
    fs_error_t e = { 0, "" };
    FUZZ_CHECK (errlist_to_error (errs, &e) == -1 && e.code == errs->code && e.text[0],
                "errlist_to_error");
}

static void check_spec (const struct job_spec *s)
{
    fs_error_t e = { 0, "" };
    FUZZ_CHECK (s->ntasks >= 1 && s->tasks && s->order, "no tasks");
    FUZZ_CHECK (s->version == 1, "version %d", s->version);
    FUZZ_CHECK (ident_valid ("job", s->name, &e) == 0, "job name: %s", e.text);

    bool *placed = calloc (s->ntasks, sizeof (bool));
    for (size_t k = 0; k < s->ntasks; k++) {
        size_t ti = s->order[k];
        FUZZ_CHECK (ti < s->ntasks && !placed[ti], "order[%zu] = %zu", k, ti);
        const struct job_task *t = &s->tasks[ti];
        for (size_t d = 0; d < t->ndeps; d++)
            FUZZ_CHECK (placed[t->deps[d].task], "task %zu runs before its dependency %zu", ti,
                        t->deps[d].task);
        placed[ti] = true;
    }
    free (placed);

    for (size_t ti = 0; ti < s->ntasks; ti++) {
        const struct job_task *t = &s->tasks[ti];
        FUZZ_CHECK (ident_valid ("task", t->name, &e) == 0, "task name: %s", e.text);
        FUZZ_CHECK (jobfile_task_index (s, t->name) == (long)ti, "task '%s' not unique", t->name);
        FUZZ_CHECK (t->argc >= 1 && t->argv && t->argv[t->argc] == NULL, "argv of '%s'", t->name);
        for (int a = 0; a < t->argc; a++)
            FUZZ_CHECK (t->argv[a] != NULL, "argv[%d] NULL", a);
        FUZZ_CHECK (t->ranks >= 1 && t->ranks <= JOB_MAX_RANKS, "ranks %d", t->ranks);
        FUZZ_CHECK (t->walltime > 0, "walltime %g", t->walltime);
        FUZZ_CHECK (t->retries >= 0 && t->retries <= JOB_MAX_RETRIES, "retries %d", t->retries);
        for (size_t d = 0; d < t->ndeps; d++) {
            FUZZ_CHECK (t->deps[d].task < s->ntasks && t->deps[d].task != ti, "dep %zu of %zu",
                        t->deps[d].task, ti);
            if (d)
                FUZZ_CHECK (t->deps[d - 1].task < t->deps[d].task, "deps not ascending");
        }
        for (size_t i = 0; i < t->ninputs; i++) {
            const struct job_input *in = &t->inputs[i];
            FUZZ_CHECK (in->text != NULL, "input without text");
            if (in->kind == JOB_IN_DATASET) {
                FUZZ_CHECK (name_valid (in->slice.name, &e) == 0, "input dataset: %s", e.text);
                FUZZ_CHECK (in->reduce.op >= RED_NONE && in->reduce.op <= RED_MAX, "reduce op");
                FUZZ_CHECK (in->reduce.op == RED_NONE || in->reduce.nblock >= 1, "reduce blocks");
            }
            else {
                FUZZ_CHECK (in->kind == JOB_IN_OUTPUT, "input kind %d", (int)in->kind);
                FUZZ_CHECK (in->from_task_index < s->ntasks, "from task %zu", in->from_task_index);
                const struct job_task *f = &s->tasks[in->from_task_index];
                FUZZ_CHECK (strcmp (f->name, in->from_task) == 0, "from task name");
                FUZZ_CHECK (in->from_output_index < f->noutputs, "from output %zu",
                            in->from_output_index);
                FUZZ_CHECK (strcmp (f->outputs[in->from_output_index].name, in->from_output) == 0,
                            "from output name");
                bool dep = false;
                for (size_t d = 0; d < t->ndeps; d++)
                    dep |= t->deps[d].task == in->from_task_index;
                FUZZ_CHECK (dep, "reading '%s' is not a dependency", in->text);
            }
        }
        for (size_t o = 0; o < t->noutputs; o++)
            if (t->outputs[o].publish)
                FUZZ_CHECK (name_valid (t->outputs[o].publish, &e) == 0, "publish: %s", e.text);

        int argc = -1;
        memset (&e, 0, sizeof (e));
        char **argv = jobfile_expand_argv (s, ti, "site1", t->ranks, 42, resolve, NULL, &argc, &e);
        FUZZ_CHECK (argv != NULL, "a loaded task's argv does not expand: %s", e.text);
        FUZZ_CHECK (argc == t->argc, "argc %d, expected %d", argc, t->argc);
        for (int a = 0; a < argc; a++)
            FUZZ_CHECK (argv[a] != NULL, "expanded argv[%d] NULL", a);
        FUZZ_CHECK (argv[argc] == NULL, "expanded argv not NULL-terminated");
        jobfile_argv_free (argv);
    }
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    /* Exactly size bytes, no terminator: overreads are heap overflows. */
    char *text = malloc (size ? size : 1);
    if (!text)
        abort ();
    if (size)
        memcpy (text, data, size);

    struct errlist errs = ERRLIST_INIT;
    struct job_spec *s = jobfile_load_string (NAME, text, size, NULL, &errs);
    if (!s)
        check_errors (&errs);
    else {
        FUZZ_CHECK (errs.count == 0 && errs.omitted == 0, "a job and %zu errors", errs.count);
        check_spec (s);
        struct job_spec *s2 = jobfile_load_string (NAME, text, size, NULL, NULL);
        FUZZ_CHECK (s2 != NULL, "the same text did not load a second time");
        FUZZ_CHECK (s2->ntasks == s->ntasks, "different task counts");
        job_spec_destroy (s2);
        job_spec_destroy (s);
    }
    errlist_clear (&errs);
    free (text);
    return 0;
}
