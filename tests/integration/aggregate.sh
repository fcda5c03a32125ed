#!/usr/bin/env bash
# aggregate that anonymises (issue 9 item 6, SPEC section 6), in a real federation.
#
# A 12 x 12 grid of counts under aggregate=4x4: the four reads of the issue that
# gave single records or differencing windows (min, max, a window off the grid,
# a block of scattered cells) are refused with exit 1 and the nearest aligned
# read; aligned sums and means (whole cells and unions of cells, an integer index
# where the cell is 1 wide) are exact against NumPy.  A second data root with the
# YAML form {aggregate: {min_block: [4, 4], min: 10}}: blocks whose sum is below
# 10 come out as NaN, `get` counts them on stderr and in --json, and a task at
# another site staging the same read gets the same NaNs (its site logs the count).
set -euo pipefail
TEST_NAME=aggregate
. "$(dirname "$0")/lib/common.sh"
need h5py
fed_up 2 --launcher local
R1=$(data_root site1)
D=$FED_DIR
mkdir -p "$R1/g" "$D/sites/site1/counts"
py - "$R1/g" "$D/sites/site1/counts" "$D" <<'PY'
import sys, numpy as np, h5py
rng = np.random.default_rng(9)
c = rng.integers(0, 50, size=(12, 12)).astype("int32")
with h5py.File(sys.argv[1] + "/grid.h5", "w") as h:
    h.create_dataset("c", data=c)
with h5py.File(sys.argv[1] + "/strip.h5", "w") as h:
    h.create_dataset("c", data=c)
# small counts: some 4 x 4 blocks sum below 10
s = np.zeros((12, 12), dtype="int32")
s[0:4, 0:4] = 1          # 16
s[0:4, 4:8] = 0; s[1, 5] = 3; s[2, 6] = 4      # 7: suppressed
s[4:8, :] = 2            # 32 each
s[8:12, 0:4] = 0         # 0: suppressed
s[8, 1] = 9              # 9: suppressed
s[8:12, 4:8] = 5         # 80
s[8:12, 8:12] = 0; s[9, 9] = 10    # 10: exactly the threshold, kept
with h5py.File(sys.argv[2] + "/small.h5", "w") as h:
    h.create_dataset("c", data=s)
np.save(sys.argv[3] + "/c.npy", c)
np.save(sys.argv[3] + "/s.npy", s)
PY
expect_code 0 fedsched publish site1 g/grid.h5 --policy aggregate=4x4
expect_code 0 fedsched publish site1 g/strip.h5 --policy aggregate=1x4
G=site1/g/grid/c

log "the four leaks of issue 9 are refused"
expect_error 1 fedsched get "$G[0:4, 0:4]" --reduce min:4,4 -o "$D/x.h5"
case $ERR in *"min discloses single values"*"nearest aligned read: $G[0:4, 0:4] --reduce sum:4,4"*) ;;
    *) fail "min: $ERR" ;; esac
expect_error 1 fedsched get "$G[0:4, 0:4]" --reduce max:4,4 -o "$D/x.h5"
expect_error 1 fedsched get "$G[1:5, 3:7]" --reduce sum:4,4 -o "$D/x.h5"
case $ERR in *"starts at 1, off the grid"*"nearest aligned read: $G[0:4, 0:8] --reduce sum:4,4"*) ;;
    *) fail "window: $ERR" ;; esac
expect_error 1 fedsched get "$G[0:8:2, 0:8:2]" --reduce sum:4,4 -o "$D/x.h5"
case $ERR in *"step 2"*) ;; *) fail "strided: $ERR" ;; esac
# and the other ways around the grid
expect_error 1 fedsched get "$G" -o "$D/x.h5"
expect_error 1 fedsched get "$G[3, 0:8]" --reduce sum:4 -o "$D/x.h5"
expect_error 1 fedsched get "$G[0:12, 0:12]" --reduce sum:2,4 -o "$D/x.h5"
expect_error 1 fedsched get "$G[0:12, 0:12]" --reduce mean:4,6 -o "$D/x.h5"
[ -e "$D/x.h5" ] && fail "a refused read left a file behind"
refused=$(grep -c "event=refused op=data.open reader=client dataset=$G" "$D/sites/site1/worker.log" || true)
[ "$refused" -ge 8 ] || fail "site1 logged $refused refusals of $G, expected 8"

log "aligned reads are exact"
expect_code 0 fedsched get "$G" --reduce sum:4,4 -o "$D/a1.h5"
expect_code 0 fedsched get "$G" --reduce mean:4,4 -o "$D/a2.h5"
expect_code 0 fedsched get "$G[4:12, 0:8]" --reduce sum:8,4 -o "$D/a3.h5"
expect_code 0 fedsched get "$G[0:12, 4:]" --reduce mean:12,4 -o "$D/a4.h5"
expect_code 0 fedsched get "$G[4:11, 0:12]" --reduce sum:4,8 -o "$D/a5.h5"     # edges trimmed
expect_code 0 fedsched get "site1/g/strip/c[3, 0:8]" --reduce sum:4 -o "$D/a6.h5"
expect_code 0 fedsched get "site1/g/strip/c[5:8, 4:12]" --reduce mean:1,8 -o "$D/a7.h5"
py - "$D" <<'PY' || fail "aligned aggregates differ from NumPy"
import sys, numpy as np, h5py
d = sys.argv[1]
c = np.load(d + "/c.npy").astype("float64")
def rd(n): return h5py.File("%s/%s.h5" % (d, n), "r")["c"][()]
def blocks(a, b0, b1, f):
    n0, n1 = a.shape[0] // b0, a.shape[1] // b1
    return f(a[:n0 * b0, :n1 * b1].reshape(n0, b0, n1, b1), axis=(1, 3))
checks = {
    "a1": blocks(c, 4, 4, np.sum), "a2": blocks(c, 4, 4, np.mean),
    "a3": blocks(c[4:12, 0:8], 8, 4, np.sum), "a4": blocks(c[:, 4:], 12, 4, np.mean),
    "a5": blocks(c[4:11, :], 4, 8, np.sum),
    "a6": c[3, 0:8].reshape(2, 4).sum(axis=1), "a7": blocks(c[5:8, 4:12], 1, 8, np.mean),
}
for n, want in checks.items():
    got = rd(n)
    assert got.dtype == np.float64, (n, got.dtype)
    assert got.shape == want.shape, (n, got.shape, want.shape)
    assert np.array_equal(got, want), (n, got, want)
PY

log "a threshold in site.yaml's YAML form: small blocks come out as NaN, counted"
sy="$D/sites/site1/site.yaml"
cat >>"$sy" <<Y
  - path: counts
    prefix: site1c
    policy: {aggregate: {min_block: [4, 4], min: 10}}
Y
fed_kill_worker site1 TERM
fed_start_worker site1
wait_state site1 up 30
S=site1c/small/c
for _ in $(seq 1 50); do
    fedsched catalog "$S" --json 2>/dev/null | grep -q 'aggregate=4x4,min=10' && break
    sleep 0.2
done
fedsched catalog "$S" --json | grep -q '"aggregate=4x4,min=10"' || fail "the root's policy is not in the catalog"
expect_code 0 fedsched get "$S" --reduce sum:4,4 -o "$D/s1.h5"
case $ERR in *"3 of 9 blocks suppressed"*"below 10"*) ;; *) fail "get's stderr: $ERR" ;; esac
expect_code 0 fedsched get "$S" --reduce mean:4,4 -o "$D/s2.h5" --json
echo "$OUT" | py -c 'import json,sys; j=json.load(sys.stdin); assert j["suppressed"] == 3 and j["suppress_below"] == 10, j' ||
    fail "get --json: $OUT"
expect_error 1 fedsched get "$S" --reduce max:4,4 -o "$D/x.h5"
expect_code 0 fedsched get "$G" --reduce sum:4,4 -o "$D/x.h5" --json      # no threshold: none counted
echo "$OUT" | py -c 'import json,sys; j=json.load(sys.stdin); assert j["suppressed"] == 0 and j["suppress_below"] is None, j' ||
    fail "get --json without a threshold: $OUT"

log "staging at another site gets the same NaNs, and its site logs them"
cat >"$D/j.yaml" <<Y
version: 1
tasks:
  - name: copy
    command: [h5copy, -i, "{in.x.file}", -s, "{in.x.dset}", -o, "{out.y.file}", -d, "{out.y.dset}"]
    site: site2
    inputs:
      x: {slice: '$S', reduce: {sum: [4, 4]}}
    outputs:
      y: {publish: derived/small_sums}
Y
expect_code 0 fedsched submit "$D/j.yaml"
expect_code 0 fedsched wait "$OUT" --timeout 60
grep -q "event=stage.fetched .*dataset=$S from=site1 .*suppressed=3" "$D/sites/site2/worker.log" ||
    fail "site2's staging did not log suppressed=3: $(grep stage.fetched "$D/sites/site2/worker.log" | tail -n 2)"
# an aggregate the reduction satisfies counts as raw: the output may leave
fedsched catalog derived/small_sums --json | grep -q '"raw"' || fail "the output did not inherit raw"
expect_code 0 fedsched get derived/small_sums -o "$D/s3.h5"
py - "$D" <<'PY' || fail "suppressed blocks differ from NumPy"
import sys, numpy as np, h5py
d = sys.argv[1]
s = np.load(d + "/s.npy").astype("float64")
sums = s.reshape(3, 4, 3, 4).sum(axis=(1, 3))
small = sums < 10
assert small.sum() == 3 and not small[2, 2], sums      # 10 itself stays
for n, want in (("s1", sums), ("s2", sums / 16), ("s3", sums)):
    got = h5py.File("%s/%s.h5" % (d, n), "r")[n == "s3" and "small_sums" or "c"][()]
    assert np.array_equal(np.isnan(got), small), (n, got)
    assert np.array_equal(got[~small], want[~small]), (n, got, want)
PY

log "a tightened threshold is never served from a read cached under the looser one"
expect_code 0 fedsched policy site1 "$S" 'aggregate=4x4,min=1000000000'
sed 's|derived/small_sums|derived/small_sums2|' "$D/j.yaml" >"$D/j2.yaml"
expect_code 0 fedsched submit "$D/j2.yaml"
expect_code 0 fedsched wait "$OUT" --timeout 60
grep -q "event=stage.cached .*dataset=$S" "$D/sites/site2/worker.log" &&
    fail "site2 reused the read it cached under the looser policy"
expect_code 0 fedsched get derived/small_sums2 -o "$D/s4.h5"
py -c "import h5py, numpy; v = h5py.File('$D/s4.h5', 'r')['small_sums2'][()]; assert numpy.isnan(v).all(), v" ||
    fail "after the tightening some block passed the new threshold"
log "OK"
