/* jobfile_int.h - what the parts of the job-file module share; not a public API
 * (jobs/jobfile.h is).
 *
 * jobfile.c parses a job file (pass 1) and drives the passes; jobfile_graph.c is
 * pass 2 (references, dependencies, cycles, order); jobfile_fed.c is pass 3 (the
 * checks against the federation: datasets, slices, reductions, sites, cores,
 * policies); jobfile_argv.c holds the command placeholders: their tokenizer,
 * which the parser uses to check them, and jobfile_expand_argv().
 */
#ifndef FS_JOBFILE_INT_H
#define FS_JOBFILE_INT_H

#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>

#include "jobfile.h"

/* Names are looked up through common/strmap.h (the string map). */
struct strmap;

/* ------------------------------------------------------------------ */
/* Errors and the state of one load or check */

struct pstate {
    const char *file;
    struct errlist *errs;
    struct job_spec *spec;
    bool *task_bad;             /* [ntasks]: name or structure broken: skip in later passes */
    bool **input_bad;           /* [ntasks][ninputs]: value broken */
    bool oom;
};

/* An invalid-input error of the job file at m. */
__attribute__ ((format (printf, 3, 4)))
void perr_at (struct pstate *ps, struct job_mark m, const char *fmt, ...);

/* Names of a task's inputs or outputs, for messages. */
void list_names (const struct job_task *t, bool outputs, char *buf, size_t n);

/* ------------------------------------------------------------------ */
/* Placeholders (jobfile_argv.c) */

typedef enum { PH_TEXT, PH_JOB, PH_TASK, PH_SITE, PH_RANKS, PH_IN, PH_OUT } ph_kind_t;
typedef enum { PH_WHOLE, PH_FILE, PH_DSET } ph_part_t;

struct ph {
    ph_kind_t kind;
    ph_part_t part;             /* PH_IN, PH_OUT */
    const char *s;              /* PH_TEXT: the text; PH_IN/OUT: the name */
    size_t len;
    const char *at;             /* where the token starts in the argument */
    size_t toklen;              /* its length there */
};

static inline bool ident_char (char c)
{
    return isalnum ((unsigned char) c) || c == '_' || c == '-';
}

/* Next token of arg at *p: 1 (token in *t), 0 at the end, -1 with why. */
int ph_next (const char *arg, const char **p, struct ph *t, char *why, size_t whysz);
/* A map of a task's input or output names to their indexes (the first of a
 * name given twice); NULL when memory runs out.  Caller frees with
 * strmap_destroy(). */
struct strmap *names_map (const struct job_task *t, bool outputs);

/* ------------------------------------------------------------------ */
/* The passes after parsing */

/* Pass 2: names, references, dependency edges, cycles, spec->order. */
void graph (struct pstate *ps);
/* Pass 3: everything against the federation; 0, or -1 when errors were found. */
int fed_check (struct pstate *ps, const struct job_fedview *v);

#endif
