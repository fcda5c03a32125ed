/* slice.h - the slice syntax of SPEC section 2: NAME[sel, sel, ...] with NumPy
 * basic-slicing semantics, block reductions (--reduce OP:B1,B2,..), and the
 * resolved selection that travels between client and site.
 *
 * Two steps: slice_parse() checks the syntax alone (no shape needed);
 * slice_resolve() applies NumPy's rules against a dataset's shape.
 */
#ifndef FS_SLICE_H
#define FS_SLICE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"

#define FS_MAXDIMS 32
#define FS_NAME_MAX 255

typedef enum { SEL_INDEX, SEL_RANGE, SEL_ELLIPSIS } fs_seltype_t;

typedef struct {
    fs_seltype_t type;
    int64_t index;              /* SEL_INDEX: may be negative */
    bool has_start, has_stop, has_step;
    int64_t start, stop, step;  /* SEL_RANGE: step > 0 once parsed */
    int col;                    /* 1-based column of the selector in the slice's text */
} fs_selector_t;

#define FS_SLICE_TEXT_SHOWN 300     /* bytes of a slice's text kept for messages */

typedef struct {
    char name[FS_NAME_MAX + 1];
    char text[FS_SLICE_TEXT_SHOWN + 1]; /* the text parsed (cut), for slice_resolve's messages */
    bool bracketed;             /* false: NAME alone, the whole dataset */
    int nsel;
    fs_selector_t sel[FS_MAXDIMS];
} fs_slice_t;

/* A selection resolved against a shape: for each source dimension d,
 * elements start[d] + i*step[d] for i in [0, count[d]).  dropped[d] marks a
 * bare integer index (count 1, dimension dropped from the result). */
typedef struct {
    int ndims;
    uint64_t start[FS_MAXDIMS];
    uint64_t step[FS_MAXDIMS];
    uint64_t count[FS_MAXDIMS];
    bool dropped[FS_MAXDIMS];
} fs_sel_t;

typedef enum { RED_NONE = 0, RED_MEAN, RED_SUM, RED_MIN, RED_MAX } fs_redop_t;

/* A block reduction over the result's dimensions (after integer indices
 * dropped theirs): one block size per result dimension. */
typedef struct {
    fs_redop_t op;
    int nblock;
    uint64_t block[FS_MAXDIMS];
} fs_reduce_t;

/* Parse "NAME" or "NAME[...]".  Errors (FS_EINVAL) say what and at which
 * character, e.g. "slice 'x[::0]' at column 5: step must be positive".
 * Rejects: step <= 0, fancy indexing (lists, arrays, booleans), several '...',
 * empty selectors, trailing junk, names that name_valid() refuses. */
int slice_parse (const char *text, fs_slice_t *out, fs_error_t *err);

/* Apply NumPy basic-slicing to a shape of rank ndims.  Errors (FS_EINVAL), at
 * the column of the selector at fault like slice_parse's: too many indices,
 * integer index out of range ("slice 'x[10]' at column 3: index 10 is out of
 * bounds for axis 0 with size 10").  Ranges clamp as in NumPy; an empty result is valid. */
int slice_resolve (const fs_slice_t *sl, int ndims, const uint64_t *shape,
                   fs_sel_t *out, fs_error_t *err);

/* Result shape (dropped dimensions removed); returns the result rank (0..ndims). */
int sel_out_shape (const fs_sel_t *sel, uint64_t *shape);
/* Number of elements selected (product of counts). */
uint64_t sel_nelems (const fs_sel_t *sel);

/* The part of sel that covers the box [off, off+cnt) of its result space
 * (off/cnt have one entry per result dimension): same rank, same dropped dims. */
void sel_sub (const fs_sel_t *sel, const uint64_t *off, const uint64_t *cnt, fs_sel_t *sub);

/* Parse "OP:B1,B2,.." (OP mean|sum|min|max, each B >= 1). FS_EINVAL on error. */
int reduce_parse (const char *text, fs_reduce_t *out, fs_error_t *err);
/* Check r against sel (one block per result dimension) and give the reduced
 * shape: floor(count/block) per result dimension (partial blocks trimmed).
 * Returns the reduced rank, or -1 with FS_EINVAL. */
int reduce_out_shape (const fs_sel_t *sel, const fs_reduce_t *r, uint64_t *shape, fs_error_t *err);
/* The source selection read for the box [off, off+cnt) of the *reduced*
 * result: block-aligned, so each output element's block lies inside it. */
void reduce_sub (const fs_sel_t *sel, const fs_reduce_t *r, const uint64_t *off,
                 const uint64_t *cnt, fs_sel_t *sub);
const char *reduce_op_name (fs_redop_t op);

/* Wire forms.  *_to_json returns a new reference.  *_from_json validates
 * everything (a peer is never trusted): against shape/ndims for a selection
 * (every element inside the dataset), FS_EINVAL with text on error. */
json_t *sel_to_json (const fs_sel_t *sel);
int sel_from_json (const json_t *j, int ndims, const uint64_t *shape, fs_sel_t *out, fs_error_t *err);
json_t *reduce_to_json (const fs_reduce_t *r);      /* json null for RED_NONE */
int reduce_from_json (const json_t *j, fs_reduce_t *out, fs_error_t *err); /* null -> RED_NONE */

#endif
