/* fuzz_slice.c - libFuzzer harness for common/slice.h.
 *
 * Input layout:
 *   byte 0            rank of the dataset: b % (FS_MAXDIMS + 2), so 0..33
 *                     (33 checks that too many dimensions are refused)
 *   bytes 1..rank     one shape code per dimension (see shape_of())
 *   the rest          text, split at '\n' into up to five parts:
 *     [0] a slice for slice_parse() + slice_resolve() against the shape
 *     [1] a reduction for reduce_parse() (checked against the resolved slice)
 *     [2] JSON for sel_from_json() against the shape
 *     [3] JSON for reduce_from_json()
 *     [4] bytes choosing a sub-box of the result for sel_sub() / reduce_sub()
 *
 * Invariants checked:
 *   - every failure is FS_EINVAL with a message;
 *   - a parsed slice, formatted back to text, parses to the same slice;
 *     the same for a parsed reduction;
 *   - slice_resolve() agrees with an independent reference implementation of
 *     NumPy basic slicing (Python's slice.indices(), in 128-bit arithmetic):
 *     same success or failure, same start/step/count/drop per dimension;
 *   - every resolved, decoded or sub-boxed selection lies inside the shape;
 *   - sel_out_shape() / sel_nelems() agree with the counts;
 *   - sel and reduce wire forms round-trip (for datasets whose element count
 *     fits in 63 bits, as every real one does);
 *   - reduce_out_shape() gives floor(count / block), and reduce_sub() of any
 *     box of the reduced result reads inside the dataset.
 * Everything allocated is freed (LeakSanitizer runs after each input).
 */
#include <jansson.h>
#include <stdio.h>

#include "fuzz_util.h"
#include "common/slice.h"

#define MAXRANK (FS_MAXDIMS + 1)

static uint64_t shape_of (uint8_t b)
{
    static const uint64_t big[16] = {
        256, 1000, 4096, 65535, 65536, 1ULL << 20, 1ULL << 31, 1ULL << 32, (1ULL << 32) + 1,
        1ULL << 40, 1ULL << 53, 1ULL << 62, (uint64_t)INT64_MAX - 1, (uint64_t)INT64_MAX,
        (uint64_t)INT64_MAX / 3, 12345678901ULL,
    };
    return b < 0xF0 ? b : big[b - 0xF0];
}

static void check_err (int rc, const fs_error_t *e, const char *what)
{
    FUZZ_CHECK (rc == -1, "%s returned %d", what, rc);
    FUZZ_CHECK (e->code == FS_EINVAL, "%s: code %d (%s)", what, e->code, e->text);
    FUZZ_CHECK (e->text[0] != '\0', "%s: empty error text", what);
}

/* ---- slices ---- */

static bool selector_equal (const fs_selector_t *a, const fs_selector_t *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case SEL_ELLIPSIS:
        return true;
    case SEL_INDEX:
        return a->index == b->index;
    case SEL_RANGE:
        return a->has_start == b->has_start && a->has_stop == b->has_stop
               && a->has_step == b->has_step && (!a->has_start || a->start == b->start)
               && (!a->has_stop || a->stop == b->stop) && (!a->has_step || a->step == b->step);
    }
    return false;
}

static bool slice_equal (const fs_slice_t *a, const fs_slice_t *b)
{
    if (strcmp (a->name, b->name) != 0 || a->bracketed != b->bracketed || a->nsel != b->nsel)
        return false;
    for (int i = 0; i < a->nsel; i++)
        if (!selector_equal (&a->sel[i], &b->sel[i]))
            return false;
    return true;
}

static void slice_format (const fs_slice_t *sl, char *buf, size_t n)
{
    size_t len = 0;
#define APPEND(...) \
    do { \
        int w_ = snprintf (buf + len, n - len, __VA_ARGS__); \
        FUZZ_CHECK (w_ >= 0 && (size_t)w_ < n - len, "format buffer too small"); \
        len += (size_t)w_; \
    } while (0)
    APPEND ("%s", sl->name);
    if (!sl->bracketed)
        return;
    APPEND ("[");
    for (int i = 0; i < sl->nsel; i++) {
        const fs_selector_t *s = &sl->sel[i];
        if (i)
            APPEND (",");
        switch (s->type) {
        case SEL_ELLIPSIS:
            APPEND ("...");
            break;
        case SEL_INDEX:
            APPEND ("%lld", (long long)s->index);
            break;
        case SEL_RANGE:
            if (s->has_start)
                APPEND ("%lld", (long long)s->start);
            APPEND (":");
            if (s->has_stop)
                APPEND ("%lld", (long long)s->stop);
            if (s->has_step)
                APPEND (":%lld", (long long)s->step);
            break;
        }
    }
    APPEND ("]");
#undef APPEND
}

/* NumPy basic slicing, written independently of slice.c: Python's
 * slice.indices() for positive steps, in 128-bit arithmetic. */
static int ref_resolve (const fs_slice_t *sl, int ndims, const uint64_t *shape, fs_sel_t *o)
{
    if (ndims < 0 || ndims > FS_MAXDIMS)
        return -1;
    int nidx = 0;
    for (int i = 0; i < sl->nsel; i++)
        nidx += sl->sel[i].type != SEL_ELLIPSIS;
    if (nidx > ndims)
        return -1;
    memset (o, 0, sizeof (*o));
    o->ndims = ndims;
    /* expand into one selector per dimension */
    fs_selector_t per[FS_MAXDIMS];
    int d = 0;
    for (int i = 0; i < sl->nsel; i++) {
        if (sl->sel[i].type == SEL_ELLIPSIS) {
            for (int k = 0; k < ndims - nidx; k++) {
                memset (&per[d], 0, sizeof (per[d]));
                per[d++].type = SEL_RANGE;
            }
        }
        else
            per[d++] = sl->sel[i];
    }
    for (; d < ndims; d++) {
        memset (&per[d], 0, sizeof (per[d]));
        per[d].type = SEL_RANGE;
    }
    for (d = 0; d < ndims; d++) {
        __int128 len = (__int128)shape[d];
        const fs_selector_t *s = &per[d];
        if (s->type == SEL_INDEX) {
            __int128 i = s->index;
            if (i < 0)
                i += len;
            if (i < 0 || i >= len)
                return -1;
            o->start[d] = (uint64_t)i;
            o->step[d] = 1;
            o->count[d] = 1;
            o->dropped[d] = true;
            continue;
        }
        __int128 step = s->has_step ? s->step : 1;
        __int128 start = 0, stop = len;
        if (s->has_start) {
            start = s->start;
            if (start < 0) {
                start += len;
                if (start < 0)
                    start = 0;
            }
            else if (start > len)
                start = len;
        }
        if (s->has_stop) {
            stop = s->stop;
            if (stop < 0) {
                stop += len;
                if (stop < 0)
                    stop = 0;
            }
            else if (stop > len)
                stop = len;
        }
        o->start[d] = (uint64_t)start;
        o->step[d] = (uint64_t)step;
        o->count[d] = stop > start ? (uint64_t)((stop - start - 1) / step + 1) : 0;
        o->dropped[d] = false;
    }
    return 0;
}

/* Every element of sel lies inside shape; dropped dimensions select one. */
static void check_inside (const fs_sel_t *sel, int ndims, const uint64_t *shape, const char *what)
{
    FUZZ_CHECK (sel->ndims == ndims, "%s: rank %d, dataset %d", what, sel->ndims, ndims);
    for (int d = 0; d < ndims; d++) {
        uint64_t len = shape[d], st = sel->start[d], step = sel->step[d], c = sel->count[d];
        FUZZ_CHECK (step >= 1, "%s: dim %d step 0", what, d);
        FUZZ_CHECK (!sel->dropped[d] || c == 1, "%s: dim %d dropped with count %llu", what, d,
                    (unsigned long long)c);
        if (c == 0) {
            FUZZ_CHECK (st <= len, "%s: dim %d empty at start %llu > size %llu", what, d,
                        (unsigned long long)st, (unsigned long long)len);
            continue;
        }
        unsigned __int128 last = (unsigned __int128)st + (unsigned __int128)(c - 1) * step;
        FUZZ_CHECK (last < len, "%s: dim %d last element %llu (start %llu step %llu count %llu) "
                    "outside size %llu", what, d, (unsigned long long)last,
                    (unsigned long long)st, (unsigned long long)step, (unsigned long long)c,
                    (unsigned long long)len);
    }
}

static bool sel_equal (const fs_sel_t *a, const fs_sel_t *b)
{
    if (a->ndims != b->ndims)
        return false;
    for (int d = 0; d < a->ndims; d++)
        if (a->start[d] != b->start[d] || a->step[d] != b->step[d] || a->count[d] != b->count[d]
            || a->dropped[d] != b->dropped[d])
            return false;
    return true;
}

/* Counts and shapes agree. */
static void check_counts (const fs_sel_t *sel)
{
    uint64_t oshape[FS_MAXDIMS];
    int n = sel_out_shape (sel, oshape);
    int j = 0;
    unsigned __int128 prod = 1;
    bool zero = false;
    for (int d = 0; d < sel->ndims; d++) {
        if (sel->count[d] == 0)
            zero = true;
        if (prod <= UINT64_MAX)
            prod *= sel->count[d];
        if (!sel->dropped[d]) {
            FUZZ_CHECK (j < n && oshape[j] == sel->count[d], "out shape dim %d", j);
            j++;
        }
    }
    FUZZ_CHECK (j == n, "out rank %d, expected %d", n, j);
    uint64_t ne = sel_nelems (sel);
    uint64_t want = zero ? 0 : prod > UINT64_MAX ? UINT64_MAX : (uint64_t)prod;
    FUZZ_CHECK (ne == want, "sel_nelems %llu, expected %llu", (unsigned long long)ne,
                (unsigned long long)want);
}

static void sel_roundtrip (const fs_sel_t *sel, int ndims, const uint64_t *shape, const char *what)
{
    json_t *j = sel_to_json (sel);
    FUZZ_CHECK (j != NULL, "%s: sel_to_json failed", what);
    fs_sel_t back;
    fs_error_t e = { 0, "" };
    int rc = sel_from_json (j, ndims, shape, &back, &e);
    FUZZ_CHECK (rc == 0, "%s: sel_from_json refused sel_to_json's output: %s", what, e.text);
    FUZZ_CHECK (sel_equal (sel, &back), "%s: selection changed through JSON", what);
    json_decref (j);
}

/* A box inside a result space of rank n and extent ext, chosen by bytes b. */
static void pick_box (const uint64_t *ext, int n, const uint8_t *b, size_t blen, uint64_t *off,
                      uint64_t *cnt)
{
    for (int j = 0; j < n; j++) {
        uint64_t x = blen > (size_t)(2 * j) ? b[2 * j] : 0;
        uint64_t y = blen > (size_t)(2 * j + 1) ? b[2 * j + 1] : 255;
        /* Non-empty boxes only, as the callers cut them (an empty box at the
         * end of a strided range may start past the dataset's end); 255 means
         * "to the end" so whole-result boxes are common. */
        if (!ext[j]) {
            off[j] = cnt[j] = 0;
            continue;
        }
        off[j] = (x * 2654435761ULL) % ext[j];
        uint64_t room = ext[j] - off[j];
        cnt[j] = y == 255 ? room : 1 + (y * 40503ULL) % room;
    }
}

/* ---- reductions ---- */

static bool reduce_equal (const fs_reduce_t *a, const fs_reduce_t *b)
{
    if (a->op != b->op || a->nblock != b->nblock)
        return false;
    for (int i = 0; i < a->nblock; i++)
        if (a->block[i] != b->block[i])
            return false;
    return true;
}

static void reduce_roundtrip (const fs_reduce_t *r, const char *what)
{
    json_t *j = reduce_to_json (r);
    FUZZ_CHECK (j != NULL, "%s: reduce_to_json failed", what);
    fs_reduce_t back;
    fs_error_t e = { 0, "" };
    int rc = reduce_from_json (j, &back, &e);
    FUZZ_CHECK (rc == 0, "%s: reduce_from_json refused reduce_to_json's output: %s", what, e.text);
    FUZZ_CHECK (reduce_equal (r, &back), "%s: reduction changed through JSON", what);
    json_decref (j);
}

static void check_reduce_valid (const fs_reduce_t *r, const char *what)
{
    FUZZ_CHECK (r->op >= RED_MEAN && r->op <= RED_MAX, "%s: op %d", what, (int)r->op);
    FUZZ_CHECK (r->nblock >= 1 && r->nblock <= FS_MAXDIMS, "%s: nblock %d", what, r->nblock);
    for (int i = 0; i < r->nblock; i++)
        FUZZ_CHECK (r->block[i] >= 1 && r->block[i] <= (uint64_t)INT64_MAX, "%s: block %d", what,
                    i);
}

/* The reduction against a valid selection: shapes and sub-reads. */
static void check_reduce_on_sel (const fs_sel_t *sel, int ndims, const uint64_t *shape,
                                 const fs_reduce_t *r, const uint8_t *box, size_t boxlen)
{
    uint64_t rshape[FS_MAXDIMS], oshape[FS_MAXDIMS];
    fs_error_t e = { 0, "" };
    int on = sel_out_shape (sel, oshape);
    int n = reduce_out_shape (sel, r, rshape, &e);
    if (n < 0) {
        check_err (n, &e, "reduce_out_shape");
        FUZZ_CHECK (r->nblock != on, "reduce_out_shape refused matching ranks: %s", e.text);
        return;
    }
    FUZZ_CHECK (n == on && r->nblock == on, "reduce rank %d, slice rank %d, blocks %d", n, on,
                r->nblock);
    for (int j = 0; j < n; j++)
        FUZZ_CHECK (rshape[j] == oshape[j] / r->block[j], "reduced dim %d", j);
    uint64_t off[FS_MAXDIMS], cnt[FS_MAXDIMS];
    pick_box (rshape, n, box, boxlen, off, cnt);
    fs_sel_t sub;
    reduce_sub (sel, r, off, cnt, &sub);
    check_inside (&sub, ndims, shape, "reduce_sub");
    /* each output element's block lies inside the sub read */
    int j = 0;
    for (int d = 0; d < ndims; d++) {
        if (sel->dropped[d])
            continue;
        FUZZ_CHECK (sub.count[d] == cnt[j] * r->block[j], "reduce_sub count dim %d", d);
        j++;
    }
}

/* ---- the harness ---- */

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int ndims = data[0] % (FS_MAXDIMS + 2);
    uint64_t shape[MAXRANK];
    size_t pos = 1;
    unsigned __int128 total = 1;
    for (int d = 0; d < ndims; d++) {
        shape[d] = pos < size ? shape_of (data[pos]) : 10;
        pos++;
        if (total <= (unsigned __int128)INT64_MAX)
            total *= shape[d];
    }
    /* Real datasets count their elements in 63 bits (HDF5's hsize_t limits). */
    bool realistic = total <= (unsigned __int128)INT64_MAX;
    if (pos > size)
        pos = size;

    char *text = fuzz_strndup (data + pos, size - pos);
    char *part[5] = { NULL };
    int nparts = fuzz_split (text, '\n', part, 5);
    fs_error_t e = { 0, "" };

    /* [0] slice */
    fs_slice_t sl;
    fs_sel_t sel;
    bool have_sel = false;
    int rc = slice_parse (part[0], &sl, &e);
    if (rc < 0)
        check_err (rc, &e, "slice_parse");
    else {
        FUZZ_CHECK (rc == 0, "slice_parse returned %d", rc);
        FUZZ_CHECK (sl.nsel >= 0 && sl.nsel <= FS_MAXDIMS, "nsel %d", sl.nsel);
        FUZZ_CHECK (sl.bracketed || sl.nsel == 0, "unbracketed with %d selectors", sl.nsel);
        int nell = 0;
        for (int i = 0; i < sl.nsel; i++) {
            nell += sl.sel[i].type == SEL_ELLIPSIS;
            if (sl.sel[i].type == SEL_RANGE && sl.sel[i].has_step)
                FUZZ_CHECK (sl.sel[i].step > 0, "step %lld", (long long)sl.sel[i].step);
        }
        FUZZ_CHECK (nell <= 1, "%d ellipses", nell);

        char buf[4096];
        slice_format (&sl, buf, sizeof (buf));
        fs_slice_t again;
        fs_error_t e2 = { 0, "" };
        FUZZ_CHECK (slice_parse (buf, &again, &e2) == 0, "formatted slice '%s' refused: %s", buf,
                    e2.text);
        FUZZ_CHECK (slice_equal (&sl, &again), "slice changed through its text form '%s'", buf);

        fs_sel_t ref;
        int rrc = ref_resolve (&sl, ndims, shape, &ref);
        memset (&e, 0, sizeof (e));
        rc = slice_resolve (&sl, ndims, shape, &sel, &e);
        if (rc < 0) {
            check_err (rc, &e, "slice_resolve");
            FUZZ_CHECK (rrc < 0, "slice_resolve refused what NumPy accepts: %s", e.text);
        }
        else {
            FUZZ_CHECK (rc == 0, "slice_resolve returned %d", rc);
            FUZZ_CHECK (rrc == 0, "slice_resolve accepted what NumPy refuses (rank %d)", ndims);
            FUZZ_CHECK (sel_equal (&sel, &ref), "slice_resolve differs from NumPy");
            check_inside (&sel, ndims, shape, "slice_resolve");
            check_counts (&sel);
            if (realistic)
                sel_roundtrip (&sel, ndims, shape, "resolved");
            have_sel = true;

            /* a sub-box of the result */
            uint64_t oshape[FS_MAXDIMS], off[FS_MAXDIMS], cnt[FS_MAXDIMS];
            int on = sel_out_shape (&sel, oshape);
            const char *box = nparts > 4 ? part[4] : "";
            pick_box (oshape, on, (const uint8_t *)box, strlen (box), off, cnt);
            fs_sel_t sub;
            sel_sub (&sel, off, cnt, &sub);
            check_inside (&sub, ndims, shape, "sel_sub");
            check_counts (&sub);
        }
    }

    /* [1] reduction text */
    if (nparts > 1) {
        fs_reduce_t r;
        memset (&e, 0, sizeof (e));
        rc = reduce_parse (part[1], &r, &e);
        if (rc < 0)
            check_err (rc, &e, "reduce_parse");
        else {
            check_reduce_valid (&r, "reduce_parse");
            char buf[1024];
            size_t len = (size_t)snprintf (buf, sizeof (buf), "%s:", reduce_op_name (r.op));
            for (int i = 0; i < r.nblock; i++)
                len += (size_t)snprintf (buf + len, sizeof (buf) - len, "%s%llu", i ? "," : "",
                                         (unsigned long long)r.block[i]);
            fs_reduce_t again;
            fs_error_t e2 = { 0, "" };
            FUZZ_CHECK (reduce_parse (buf, &again, &e2) == 0, "formatted reduction '%s' refused: "
                        "%s", buf, e2.text);
            FUZZ_CHECK (reduce_equal (&r, &again), "reduction changed through '%s'", buf);
            reduce_roundtrip (&r, "parsed");
            if (have_sel) {
                const char *box = nparts > 4 ? part[4] : "";
                check_reduce_on_sel (&sel, ndims, shape, &r, (const uint8_t *)box, strlen (box));
            }
        }
    }

    /* [2] a selection off the wire */
    if (nparts > 2) {
        json_error_t jerr;
        json_t *j = json_loads (part[2], JSON_DECODE_ANY, &jerr);
        if (j) {
            fs_sel_t w;
            memset (&e, 0, sizeof (e));
            rc = sel_from_json (j, ndims, shape, &w, &e);
            if (rc < 0)
                check_err (rc, &e, "sel_from_json");
            else {
                check_inside (&w, ndims, shape, "sel_from_json");
                check_counts (&w);
                FUZZ_CHECK (sel_nelems (&w) != UINT64_MAX, "accepted a saturated element count");
                sel_roundtrip (&w, ndims, shape, "decoded");
            }
            json_decref (j);
        }
    }

    /* [3] a reduction off the wire */
    if (nparts > 3) {
        json_error_t jerr;
        json_t *j = json_loads (part[3], JSON_DECODE_ANY, &jerr);
        if (j) {
            fs_reduce_t r;
            memset (&e, 0, sizeof (e));
            rc = reduce_from_json (j, &r, &e);
            if (rc < 0)
                check_err (rc, &e, "reduce_from_json");
            else if (r.op == RED_NONE)
                FUZZ_CHECK (json_is_null (j), "RED_NONE from a non-null reduce");
            else {
                check_reduce_valid (&r, "reduce_from_json");
                reduce_roundtrip (&r, "decoded");
                if (have_sel) {
                    const char *box = nparts > 4 ? part[4] : "";
                    check_reduce_on_sel (&sel, ndims, shape, &r, (const uint8_t *)box,
                                         strlen (box));
                }
            }
            json_decref (j);
        }
    }

    free (text);
    return 0;
}
