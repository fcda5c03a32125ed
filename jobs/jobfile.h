/* jobfile.h - job files (SPEC section 4): parse, validate, DAG, argv expansion.
 *
 * A job file is YAML (read with ydoc: at most 1 MiB, nesting at most 32):
 *
 *     version: 1                          required, must be 1
 *     name: flood-risk                    optional, [A-Za-z0-9_-]+;
 *                                         default: file name without extension
 *     tasks:                              required, a non-empty sequence of
 *       - name: downscale                 required, [A-Za-z0-9_-]+, unique
 *         command: [prog, "{in.x}", ...]  required, non-empty argv of scalars
 *         ranks: 4                        default 1, 1..1048576
 *         walltime: 10m                   default 1h; s/m/h/d or HH:MM:SS, > 0
 *         retries: 1                      default 0, 0..100
 *         inputs:                         NAME -> short or long form
 *           x: DATASET[sel, ...]          a slice of a catalog dataset
 *           y: TASK.OUTPUT                another task's output (a dependency)
 *           z: {slice: DATASET[..], reduce: {mean: [4, 4]}}
 *         outputs:                        NAME -> {} (or empty) | {publish: NAME}
 *         after: [TASK, ...]              explicit dependencies
 *         site: SITE                      pin
 *         app: NAME@VERSION               a published app (SPEC section 10):
 *                                         command[0] is one of its entry points
 *
 * Input values: a string of the form IDENT.IDENT (no '/', no '[') is a task
 * output reference; anything else is a slice (common/slice.h).  A dataset
 * whose whole name has that form is written with brackets: "foo.bar[...]".
 * A reduction applies to a catalog dataset only (a task output's shape is not
 * known before the task runs).  `reduce` takes exactly one of mean, sum, min,
 * max with one block size (>= 1) per dimension of the selected slice.
 *
 * Command placeholders: {in.NAME} and {out.NAME} -> "FILE:DSET";
 * {in.NAME.file}, {in.NAME.dset} (and the same for out.NAME); {job}, {task},
 * {site}, {ranks}.  "{{" and "}}" stand for literal braces.  Any other use of
 * a brace is an error.
 *
 * Validation reports every error it finds, each as "FILE:LINE:COL: message",
 * sorted by position, in a struct errlist.  Structural checks need nothing
 * but the file; the checks against the federation (datasets, slice bounds,
 * reductions, sites, cores, policies) go through a struct job_fedview, a set
 * of function pointers the scheduler implements over its catalog and registry
 * (and unit tests mock).
 *
 * No global state; every function is reentrant.
 */
#ifndef FS_JOBFILE_H
#define FS_JOBFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/dtype.h"
#include "common/error.h"
#include "common/manifest.h"
#include "common/errlist.h"
#include "common/policy.h"
#include "common/slice.h"

#define JOB_IDENT_MAX 64            /* task, input, output, site names: 63 bytes + NUL */
#define JOB_MAX_BYTES (1024 * 1024) /* job file size limit */
#define JOB_MAX_DEPTH 32            /* YAML nesting limit */
#define JOB_MAX_RANKS (1 << 20)
#define JOB_MAX_RETRIES 100
#define JOB_DEFAULT_WALLTIME 3600.0
#define JOB_MAX_REPLICAS 64

/* ------------------------------------------------------------------ */
/* Errors: a struct errlist (common/errlist.h), sorted by position after a
 * load or check. */

/* ------------------------------------------------------------------ */
/* The job model */

struct job_mark {
    int line, col;                  /* 1-based; 0:0 for a default value */
};

typedef enum { JOB_IN_DATASET, JOB_IN_OUTPUT } job_input_kind_t;

struct job_input {
    char name[JOB_IDENT_MAX];
    struct job_mark mark;           /* the key */
    job_input_kind_t kind;
    char *text;                     /* the slice or TASK.OUTPUT as written (owned) */
    struct job_mark text_mark;
    /* JOB_IN_DATASET */
    fs_slice_t slice;               /* parsed (slice.name is the dataset) */
    fs_reduce_t reduce;             /* op RED_NONE when absent */
    struct job_mark reduce_mark;
    /* JOB_IN_OUTPUT */
    char from_task[JOB_IDENT_MAX], from_output[JOB_IDENT_MAX];
    size_t from_task_index, from_output_index;
    /* Filled by jobfile_check() for JOB_IN_DATASET when resolved is true. */
    bool resolved;
    int ndims;                      /* the dataset's rank and shape */
    uint64_t shape[FS_MAXDIMS];
    fs_dtype_t dtype;
    fs_policy_t policy;
    fs_sel_t sel;                   /* the selection, resolved against shape */
    int out_ndims;                  /* shape of what the task receives */
    uint64_t out_shape[FS_MAXDIMS]; /* (after the reduction, if any) */
};

struct job_output {
    char name[JOB_IDENT_MAX];
    struct job_mark mark;
    char *publish;                  /* NULL, or a logical name (owned) */
    struct job_mark publish_mark;
};

/* A dependency edge: this task runs after tasks[task]. */
struct job_dep {
    size_t task;
    bool via_after;                 /* listed in after (else: reads an output) */
    struct job_mark mark;           /* the first place that asks for it */
};

struct job_task {
    char name[JOB_IDENT_MAX];
    struct job_mark mark;           /* the task's mapping */
    struct job_mark name_mark;
    int argc;
    char **argv;                    /* argc strings + NULL, placeholders as text (owned) */
    struct job_mark *argv_marks;    /* argc marks (owned) */
    struct job_mark command_mark;
    int ranks;
    struct job_mark ranks_mark;
    double walltime;                /* seconds */
    struct job_mark walltime_mark;
    int retries;
    struct job_mark retries_mark;
    size_t ninputs;
    struct job_input *inputs;       /* in file order (owned) */
    size_t noutputs;
    struct job_output *outputs;     /* in file order (owned) */
    size_t nafter;
    char (*after)[JOB_IDENT_MAX];   /* names as written (owned) */
    struct job_mark *after_marks;   /* (owned) */
    char site[JOB_IDENT_MAX];       /* pin, "" when none */
    struct job_mark site_mark;
    char app[APP_REF_MAX];          /* a published app, "NAME@VERSION"; "" when none:
                                     * command[0] is then one of its entry points */
    char app_name[APP_NAME_MAX], app_version[APP_NAME_MAX];
    struct job_mark app_mark;
    size_t ndeps;
    struct job_dep *deps;           /* unique, ascending task index (owned) */
    /* Filled by jobfile_check(): the sites where the task may run as far as
     * policies, the pin and core counts go (NULL/0 before). */
    size_t nallowed;
    char (*allowed)[JOB_IDENT_MAX]; /* (owned) */
};

struct job_spec {
    char *file;                     /* name used in messages (owned) */
    int version;
    char name[JOB_IDENT_MAX];
    struct job_mark name_mark;      /* 0:0 when defaulted from the file name */
    size_t ntasks;
    struct job_task *tasks;         /* in file order (owned) */
    size_t *order;                  /* ntasks indices, dependencies first (owned) */
};

/* ------------------------------------------------------------------ */
/* The federation as the validator sees it */

struct job_dataset_info {
    int ndims;
    uint64_t shape[FS_MAXDIMS];
    fs_dtype_t dtype;
    fs_policy_t policy;
    int nreplicas;
    char replicas[JOB_MAX_REPLICAS][JOB_IDENT_MAX];   /* sites holding it */
};

/* A published app as the validator sees it (the scheduler's app table). */
struct job_app_info {
    bool mpi;
    int nentry;
    char entry[APP_ENTRY_MAX][APP_NAME_MAX];    /* its entry-point names */
};

struct job_site_info {
    char name[JOB_IDENT_MAX];
    char region[JOB_IDENT_MAX];
    int cores;
};

/* All callbacks get ctx.  Sites are read once per check: site_count() then
 * site_get(i) for each i. */
struct job_fedview {
    void *ctx;
    /* 1 found (*out filled), 0 unknown, -1 lookup failed (err filled). */
    int (*dataset_lookup) (void *ctx, const char *name, struct job_dataset_info *out,
                           fs_error_t *err);
    size_t (*site_count) (void *ctx);
    /* 0, or -1 (err filled). */
    int (*site_get) (void *ctx, size_t i, struct job_site_info *out, fs_error_t *err);
    /* May be NULL (apps are then not checked): the app name@version, 1 found
     * (*out filled), 0 unknown, -1 lookup failed (err filled). */
    int (*app_lookup) (void *ctx, const char *name, const char *version,
                       struct job_app_info *out, fs_error_t *err);
    /* May be NULL: can site ever run the app (trust, allow, requirements)?  1
     * yes or maybe, 0 no with why.  A task whose allowed sites all say no is
     * refused ("no site can run app ..."). */
    int (*app_site) (void *ctx, const char *name, const char *version, const char *site,
                     char *why, size_t whysz);
};

/* ------------------------------------------------------------------ */
/* Loading */

/* Read FILE and check it: structure, names, placeholders, references, the
 * DAG, and (when view is not NULL) everything against the federation.
 * Returns the job (caller frees with job_spec_destroy()) when there is no
 * error; otherwise NULL with every error in *errs (which is cleared first;
 * errs may be NULL when only success matters). */
struct job_spec *jobfile_load (const char *file, const struct job_fedview *view,
                               struct errlist *errs);
/* The same from memory: name is used in messages and for the default job
 * name (its base name without extension). */
struct job_spec *jobfile_load_string (const char *name, const char *text, size_t len,
                                      const struct job_fedview *view, struct errlist *errs);

/* The checks against the federation alone, on a loaded job (e.g. again at
 * submit or after a restart): fills each input's resolved fields and each
 * task's allowed sites.  Errors are appended to *errs (not cleared first) and
 * sorted.  Returns 0, or -1 when at least one error was found. */
int jobfile_check (struct job_spec *spec, const struct job_fedview *view, struct errlist *errs);

void job_spec_destroy (struct job_spec *spec);  /* accepts NULL */

/* ------------------------------------------------------------------ */
/* Queries */

/* Index of the task called name, or -1. */
long jobfile_task_index (const struct job_spec *spec, const char *name);

/* The logical name of an output dataset: "jobs/<id>/<task>/<output>".
 * 0, or -1 with FS_EINVAL (bad id or names, buffer too small). */
int jobfile_output_name (int64_t job_id, const char *task, const char *output, char *buf,
                         size_t bufsz, fs_error_t *err);

/* Where input or output NAME of task lives at the site running it: an
 * absolute file path and the HDF5 path of the dataset inside it ("/fine").
 * Return 0, or -1 with err filled. */
typedef int (*job_resolve_f) (void *arg, const struct job_task *task, bool is_output,
                              const char *name, char *file, size_t filesz, char *dset,
                              size_t dsetsz, fs_error_t *err);

/* The argv of spec->tasks[task] with its placeholders expanded for a run at
 * SITE with RANKS ranks in job JOB_ID.  resolve is called for each {in.X} /
 * {out.X} (and .file / .dset) placeholder.  Returns a NULL-terminated array
 * (caller frees with jobfile_argv_free()), *argc (may be NULL) set; NULL with
 * err on failure. */
char **jobfile_expand_argv (const struct job_spec *spec, size_t task, const char *site,
                            int ranks, int64_t job_id, job_resolve_f resolve, void *arg,
                            int *argc, fs_error_t *err);
/* The same from the command alone (as written, placeholders as text: what
 * task.start carries), for a site that has no job file: resolve is called for
 * every {in.X} / {out.X} placeholder and refuses names the task lacks. */
typedef int (*job_command_resolve_f) (void *arg, bool is_output, const char *name, char *file,
                                      size_t filesz, char *dset, size_t dsetsz, fs_error_t *err);
char **jobfile_expand_command (const char *const *cmd, const char *task, const char *site,
                               int ranks, int64_t job_id, job_command_resolve_f resolve,
                               void *arg, int *argc, fs_error_t *err);
void jobfile_argv_free (char **argv);           /* accepts NULL */

#endif
