#!/usr/bin/env bash
# CURVE end to end (SPEC section 8, docs/operator-guide.md "Security"): a 2-site
# federation started with `fedsched-local --security curve` (keys made by
# `fedsched keygen`, every link encrypted and authenticated): the sites come up,
# publish, catalog and an exact slice work, a job at site1 reading site2's data
# completes, and `drain`/`resume` work with the admin key.  A request to a site's data
# port claiming to read as another site (the data policies' reader) is refused unless
# it comes from that site's key and names its region.  A client with a key
# nobody listed gets no answer (exit 75), a client listed as a plain user (its
# key in authorized/ but not admin/) can list sites but `drain` is refused (exit
# 1), a raw ZeroMQ client without CURVE gets nothing from the scheduler or a
# site, and both kinds of daemon still serve afterwards.
set -u
# shellcheck source=tests/integration/lib/common.sh
. "$(dirname "$0")/lib/common.sh"

need h5py
need zmq
fed_up 2 --data demo --security curve --launcher local
D=$FED_DIR
K=$D/keys

grep -q '^security: curve' "$D/federation.yaml" || fail "federation.yaml is not security: curve"
grep -q '^security: curve' "$D/sites/site1/site.yaml" || fail "site.yaml is not security: curve"
[ "$FEDSCHED_KEYS" = "$K/client" ] || fail "DIR/env should export FEDSCHED_KEYS=$K/client, not $FEDSCHED_KEYS"
grep -q 'security=curve' "$D/scheduler.log" || fail "the scheduler did not start with security=curve"

# --- the admin client: everything works ------------------------------------------------
log "sites, publish, catalog and an exact slice over CURVE"
expect_code 0 fedsched sites --json
n=$(py -c 'import json,sys; print(sum(s["state"] == "up" for s in json.loads(sys.argv[1])))' "$OUT")
[ "$n" = 2 ] || fail "expected 2 sites up, got: $OUT"
mkdir -p "$(data_root site2)/extra"
py - "$(data_root site2)/extra/grid.h5" <<'PY'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "w") as h:
    h["g"] = np.arange(40 * 30, dtype=np.int32).reshape(40, 30)
PY
expect_code 0 fedsched publish site2 extra/grid.h5
expect_code 0 fedsched catalog 'site2/extra/*' --json
case $OUT in *'"site2/extra/grid/g"'*) ;; *) fail "catalog does not list site2/extra/grid/g: $OUT" ;; esac
expect_code 0 fedsched get 'site2/extra/grid/g[3:37:4, 5:]' -o "$D/slice.h5"
py - "$D/slice.h5" "$(data_root site2)/extra/grid.h5" <<'PY' || fail "the slice fetched over CURVE is not exact"
import sys, h5py, numpy as np
got = h5py.File(sys.argv[1], "r")["/g"][...]
want = h5py.File(sys.argv[2], "r")["g"][3:37:4, 5:]
assert got.dtype == want.dtype and np.array_equal(got, want), (got, want)
PY

log "a job at site1 reading site2's data completes"
cat >"$D/cross.yaml" <<Y
version: 1
name: cross
tasks:
  - name: copy
    command: [h5copy, -i, "{in.x.file}", -s, "{in.x.dset}", -o, "{out.y.file}", -d, "{out.y.dset}"]
    site: site1
    inputs:
      x: site2/extra/grid/g[0:10]
    outputs:
      y: {}
Y
expect_code 0 fedsched submit "$D/cross.yaml"
job=$OUT
expect_code 0 fedsched wait "$job" --timeout 60
expect_code 0 fedsched status "$job" --json
py - "$OUT" <<'PY' || fail "the cross-site job did not run at site1 with bytes moved: $OUT"
import json, sys
t = json.loads(sys.argv[1])["tasks"][0]
assert t["state"] == "COMPLETED" and t["site"] == "site1" and t["bytes_moved"] > 0, t
PY

log "drain and resume with the admin key"
expect_code 0 fedsched drain site1 --reason curve-test
[ "$(site_state site1)" = drained ] || fail "site1 is not drained"
expect_code 0 fedsched resume site1
[ "$(site_state site1)" = up ] || fail "site1 is not up after resume"

# --- a client claiming to read as a site -------------------------------------------------
log "a request claiming to read as site1 from the client's key is refused at site2"
site2_uri=$(config_listen "$D/sites/site2/site.yaml")
py - "$site2_uri" "$K/client/client.key" "$K/sites/site2/site.key" "$K/sites/site1/site.key" <<'PY' ||
import json, re, sys, zmq
uri, ckey, skey, s1key = sys.argv[1:5]
def keys(f):
    t = open(f).read()
    return (re.search(r'public\s*=\s*"([^"]+)"', t).group(1).encode(),
            (re.search(r'secret\s*=\s*"([^"]+)"', t) or [None, None])[1])
cpub, csec = keys(ckey)
spub, _ = keys(skey)
s1pub, s1sec = keys(s1key)
ctx = zmq.Context()
def ask(pub, sec, reader):
    s = ctx.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.curve_publickey, s.curve_secretkey, s.curve_serverkey = pub, sec.encode(), spub
    s.connect(uri)
    s.send(json.dumps({"op": "data.open", "id": 1, "body": {
        "name": "site2/extra/grid/g", "sel": {"start": [0, 0], "step": [1, 1], "count": [2, 30],
        "drop": [False, False]}, "reader": reader}}).encode())
    assert s.poll(5000), "no answer from site2"
    r = json.loads(s.recv())
    s.close()
    return r
# the client's own key, claiming site1: refused
r = ask(cpub, csec, {"site": "site1", "region": "site1"})
assert not r["ok"] and "permission denied" in r["error"]["text"] and "another key" in r["error"]["text"], r
# site1's own key, claiming site1 in its region: served
r = ask(s1pub, s1sec, {"site": "site1", "region": "site1"})
assert r["ok"], r
# site1's key claiming another region: refused
r = ask(s1pub, s1sec, {"site": "site1", "region": "elsewhere"})
assert not r["ok"] and "not 'elsewhere'" in r["error"]["text"], r
# a site nobody knows: site2 asks the scheduler again, then answers 75 (try again)
import time
t0 = time.time()
r = ask(s1pub, s1sec, {"site": "nowhere", "region": "x"})
assert not r["ok"] and r["error"]["code"] == 75 and "not known" in r["error"]["text"], r
assert time.time() - t0 < 4.5, "the unknown site took %.1f s" % (time.time() - t0)
ctx.term()
PY
    fail "site2 did not bind the reader claim to the reader's key (see above)"
grep -q "site1 is in region\|another key" "$D/sites/site2/worker.log" ||
    grep -q "event=refused op=data.open" "$D/sites/site2/worker.log" ||
    fail "site2's log does not show the refused claim"

# --- a key nobody listed ----------------------------------------------------------------
log "a client with an unknown key gets no answer (75)"
fedsched keygen "$D/stranger" --name client >/dev/null || fail "keygen failed"
cp "$K/client/scheduler.pub" "$D/stranger/"
t0=$SECONDS
FEDSCHED_KEYS=$D/stranger FEDSCHED_TIMEOUT=3 expect_code 75 fedsched sites
[ $((SECONDS - t0)) -le 8 ] || fail "the refused client took $((SECONDS - t0)) s to give up"
grep -q 'no answer' <<<"$ERR" || fail "unexpected message for a refused key: $ERR"

# --- a plain user -------------------------------------------------------------------------
log "a user key (authorized/, not admin/) lists sites but may not drain"
fedsched keygen "$D/user" --name client >/dev/null || fail "keygen failed"
cp "$K/client/scheduler.pub" "$D/user/"
cp "$D/user/client.pub" "$K/scheduler/authorized/user.pub"
FEDSCHED_KEYS=$D/user FEDSCHED_TIMEOUT=5 expect_code 0 fedsched sites
FEDSCHED_KEYS=$D/user FEDSCHED_TIMEOUT=5 expect_code 1 fedsched drain site1
grep -q 'permission denied: operators only' <<<"$ERR" || fail "drain by a user: $ERR"
FEDSCHED_KEYS=$D/user FEDSCHED_TIMEOUT=5 expect_code 1 fedsched resume site1
[ "$(site_state site1)" = up ] || fail "site1 changed state after a refused drain"
# The user key is not listed at the sites: the data plane refuses it (75).
FEDSCHED_KEYS=$D/user FEDSCHED_TIMEOUT=3 expect_code 75 fedsched get 'site2/extra/grid/g[0]' -o "$D/u.h5"
# Removing the key from authorized/ counts from the next connection.
rm "$K/scheduler/authorized/user.pub"
FEDSCHED_KEYS=$D/user FEDSCHED_TIMEOUT=3 expect_code 75 fedsched sites

# --- no CURVE at all ----------------------------------------------------------------------
log "a raw ZeroMQ client without CURVE gets nothing"
py - "$FEDSCHED_SCHEDULER" "$site2_uri" <<'PY' || fail "a client without CURVE got an answer"
import json, sys, zmq
ctx = zmq.Context()
for uri, op in ((sys.argv[1], "ping"), (sys.argv[2], "data.open")):
    s = ctx.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.connect(uri)
    s.send(json.dumps({"op": op, "id": 1, "body": {}}).encode())
    if s.poll(2000):
        print("answer from %s: %r" % (uri, s.recv_multipart()))
        sys.exit(1)
    s.close()
ctx.term()
PY
FEDSCHED_KEYS='' FEDSCHED_TIMEOUT=2 expect_code 75 fedsched sites

log "both daemons still serve"
expect_code 0 fedsched sites --json
n=$(py -c 'import json,sys; print(sum(s["state"] == "up" for s in json.loads(sys.argv[1])))' "$OUT")
[ "$n" = 2 ] || fail "expected 2 sites up at the end, got: $OUT"
expect_code 0 fedsched get 'site2/extra/grid/g[1]' -o "$D/end.h5"
log "ok"
