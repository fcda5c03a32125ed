#!/usr/bin/env bash
# Apps: bad input and tampering (SPEC section 10; issue 11 item 8).  A 3-site federation.
#   - manifests with a missing name, an unknown key, an absolute entry point, one that
#     leads out ('..', a symlink out) or is not executable: app publish exits 2 with
#     FILE:LINE:COL; no signing key, or a malformed one: exit 2;
#   - a bundle signed by a key no site trusts: site1 refuses to keep it (exit 1), nothing
#     is listed;
#   - raw messages: app.publish unsigned (code 2) or with a signature that does not verify
#     (code 1), app.put with a damaged piece or a malformed digest (code 2), data.open of a
#     bundle the site does not hold (code 1): the daemons answer and keep running;
#   - one byte changed in the only held copy: the task at site2 FAILS with the digest
#     named in its error, nothing of the bundle was unpacked there and its entry point
#     never ran; with a second, intact holder the fetch refuses the damaged copy and the
#     task runs from the other;
#   - revocation: site2's operator removes the publisher's key (no restart): a task the
#     scheduler still places there fails "does not trust", and never runs, also with the
#     bundle already unpacked there;
#   - apps.max_bytes: a bundle over it is refused by the site (exit 1) and site2 is not a
#     candidate for it (explain); apps.allow: an app not allowed at site3 is never placed
#     there (submit pinned: exit 2; unpinned: placed elsewhere, explain says why);
#   - a site.yaml with a bad apps block: the worker exits 2 with FILE:LINE:COL.
set -u
# shellcheck source=tests/integration/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=tests/integration/lib/jobs.sh
. "$(dirname "$0")/lib/jobs.sh"
# shellcheck source=tests/integration/lib/apps.sh
. "$(dirname "$0")/lib/apps.sh"
need zmq
need yaml

jobs_env
fed_up 3
D=$FED_DIR

# --- manifests: exit 2, FILE:LINE:COL ---------------------------------------------------
bad_manifest() {    # NAME LINE WHAT: app.yaml of $D/bad-NAME is refused at LINE
    local dir="$D/bad-$1"
    expect_error 2 fedsched app publish site1 "$dir"
    echo "$ERR" | grep -Eq "^fedsched: error: $dir/app.yaml:$2:[0-9]+: " ||
        fail "$3: not refused with $dir/app.yaml:$2:COL: $ERR"
    log "refused ($3): ${ERR#fedsched: error: }"
}
for n in noname unknown absolute dotdot symlink noexec; do make_app "$D/bad-$n" "b$n" 1; done
sed -i '/^name:/d' "$D/bad-noname/app.yaml"
echo "colour: red" >>"$D/bad-unknown/app.yaml"
sed -i 's|probe: bin/probe|probe: /bin/sh|' "$D/bad-absolute/app.yaml"
sed -i 's|probe: bin/probe|probe: bin/../../../bin/sh|' "$D/bad-dotdot/app.yaml"
ln -s /bin/sh "$D/bad-symlink/bin/sh"
sed -i 's|probe: bin/probe|probe: bin/sh|' "$D/bad-symlink/app.yaml"
chmod 0644 "$D/bad-noexec/bin/probe"
bad_manifest noname 1 "no name"
bad_manifest unknown 8 "an unknown key"
bad_manifest absolute 5 "an absolute entry point"
bad_manifest dotdot 5 "an entry point with .."
bad_manifest symlink 5 "an entry point through a symlink out"
bad_manifest noexec 5 "an entry point that is not executable"
make_app "$D/app" probe 1.0.0
expect_error 2 env -u FEDSCHED_APP_KEY fedsched app publish site1 "$D/app"
echo "ed25519-secret:00 nonsense" >"$D/bad.key"
expect_error 2 fedsched app publish site1 "$D/app" --key "$D/bad.key"

# --- a publisher nobody trusts ------------------------------------------------------------
expect_code 0 fedsched keygen "$D/stranger" --sign --name stranger
expect_error 1 fedsched app publish site1 "$D/app" --key "$D/stranger/stranger.key"
case $ERR in *"does not trust the publisher"*) ;; *) fail "site1 kept a bundle signed by a stranger: $ERR" ;; esac
expect_code 0 fedsched apps --json
[ "$(py -c 'import json,sys; print(len(json.loads(sys.argv[1])))' "$OUT")" = 0 ] ||
    fail "a refused app is listed: $OUT"

# --- raw messages -------------------------------------------------------------------------
app_publish site1 "$D/app"
SCHED_URI=$(config_listen "$D/federation.yaml")
DATA_URI=$(config_listen "$D/sites/site1/site.yaml")
py - "$SCHED_URI" "$DATA_URI" "$APP_DIGEST" "$(cut -d' ' -f1 "$D/keys/publisher/publisher.pub")" <<'PY' || fail "raw app messages were not answered as docs/protocol.md says"
import json, sys, zmq
sched, data, digest, pub = sys.argv[1:5]
ctx = zmq.Context()
def ask(uri, frames):
    s = ctx.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.connect(uri)
    s.send_multipart(frames)
    r = s.recv_multipart() if s.poll(5000) else None
    s.close()
    return json.loads(r[0]) if r else None
def err(uri, op, body, code, text, data=None):
    frames = [json.dumps({"op": op, "id": 3, "body": body}).encode()] + ([data] if data else [])
    j = ask(uri, frames)
    assert j and j.get("ok") is False and j["error"]["code"] == code and text in j["error"]["text"], (op, body, j)
    print("ok   %s -> %d: %s" % (op, code, j["error"]["text"][:120]))
claim = {"site": "site1", "name": "probe", "version": "2.0", "digest": digest, "bytes": 100,
         "publisher": pub, "manifest": {"name": "probe", "version": "2.0", "entry": {"probe": "bin/probe"}}}
err(sched, "app.publish", claim, 2, "not signed")
err(sched, "app.publish", dict(claim, signature=""), 2, "not signed")
err(sched, "app.publish", dict(claim, signature="0" * 128), 1, "does not verify")
err(sched, "app.publish", dict(claim, signature="zz"), 2, "not signed")
err(sched, "app.publish", dict(claim, name="../x", signature="0" * 128), 2, "app name")
err(sched, "app.check", {"site": "site1", "name": "probe", "version": "1.0.0", "digest": "sha256:" + "0" * 64, "bytes": 10}, 1, "other content")
err(sched, "app.check", {"site": "nowhere", "name": "p", "version": "1", "digest": digest, "bytes": 1}, 1, "unknown site")
err(sched, "app.list", {"glob": 7}, 2, "glob")
piece = b"x" * 100
err(data, "app.put", {"digest": "sha256:" + "1" * 64, "bytes": 100, "offset": 0, "xxh3": "0000000000000000"}, 2, "damaged", piece)
err(data, "app.put", {"digest": "md5:1", "bytes": 100, "offset": 0, "xxh3": "0"}, 2, "digest", piece)
err(data, "app.put", {"digest": "sha256:" + "1" * 64, "bytes": 10, "offset": 0, "xxh3": "0"}, 2, "does not fit", piece)
err(data, "app.put", {"digest": "sha256:" + "1" * 64, "bytes": 10 ** 15, "offset": 0, "xxh3": "0"}, 1, "max_bytes", piece)
err(data, "data.open", {"bundle": "sha256:" + "2" * 64, "piece_bytes": 65536}, 1, "holds no bundle")
err(data, "data.open", {"bundle": 5}, 2, "bundle")
PY
kill -0 "$(scheduler_pid)" || fail "the scheduler died"
kill -0 "$(worker_pid site1)" || fail "site1's worker died"

# --- tampering: one byte of the only held copy ---------------------------------------------
flip() {    # FILE: change the byte in its middle
    py - "$1" <<'PY'
import os, sys
p = sys.argv[1]
os.chmod(p, 0o644)
with open(p, "r+b") as f:
    f.seek(os.path.getsize(p) // 2)
    b = f.read(1)
    f.seek(-1, 1)
    f.write(bytes([b[0] ^ 0x01]))
PY
}
make_app "$D/t1" tamper 1
app_publish site1 "$D/t1"
T1=$APP_DIGEST
flip "$(held_bundle site1 "$T1")"
cat >"$D/t1.yaml" <<EOF
version: 1
tasks:
  - name: t
    app: tamper@1
    command: [probe]
    site: site2
EOF
job_submit "$D/t1.yaml"
job_wait "$JOB" 1
job_status "$JOB"
py - "$STATUS" "$T1" <<'PY' || fail "the tampered bundle's task did not fail for its digest: $STATUS"
import json, sys
t = json.loads(sys.argv[1])["tasks"][0]
assert t["state"] == "FAILED", t
assert "damaged or was tampered with" in t["error"] and sys.argv[2] in t["error"], t["error"]
PY
[ ! -e "$(unpacked site2 "$T1")" ] || fail "site2 unpacked a bundle whose digest was wrong"
[ ! -e "$(task_dir site2 "$JOB" t)/probe.0" ] || fail "the tampered app ran"
[ -z "$(ls "$D/sites/site2/state/apps/incoming/" 2>/dev/null)" ] || fail "the refused bundle was left in incoming/"
log "a byte changed at the holding site: refused by digest, never unpacked, never ran"

# With a second holder: the damaged copy is refused, the intact one used.
make_app "$D/t2" tamper2 1
app_publish site1 "$D/t2"
T2=$APP_DIGEST
app_publish site3 "$D/t2"
flip "$(held_bundle site1 "$T2")"
sed 's/tamper@1/tamper2@1/' "$D/t1.yaml" >"$D/t2.yaml"
job_submit "$D/t2.yaml"
job_wait "$JOB" 0
[ "$(worker_log_count site2 "event=app.fetch_refused app=tamper2@1 from=site1 .*tampered")" = 1 ] ||
    fail "site2 did not refuse site1's damaged copy"
[ "$(worker_log_count site2 "event=app.fetched app=tamper2@1 .* from=site3")" = 1 ] ||
    fail "site2 did not take the bundle from site3"
[ -s "$(task_dir site2 "$JOB" t)/probe.0" ] || fail "the task did not run from the intact copy"

# --- revocation without a restart ----------------------------------------------------------
mv "$D/sites/site2/trust/publisher.pub" "$D/revoked.pub"
job_submit "$D/t2.yaml"            # the bundle is unpacked at site2 already
job_wait "$JOB" 1
job_status "$JOB"
case $STATUS in *"site2 does not trust the publisher of tamper2@1"*) ;; *) fail "a revoked publisher's app ran: $STATUS" ;; esac
[ ! -e "$(task_dir site2 "$JOB" t)/probe.0" ] || fail "the revoked publisher's app ran"
mv "$D/revoked.pub" "$D/sites/site2/trust/publisher.pub"

# --- max_bytes and allow ---------------------------------------------------------------------
set_apps() {    # SITE YAML-LINES: replace the apps block and restart the worker
    py - "$D/sites/$1/site.yaml" "$2" <<'PY'
import sys
p, block = sys.argv[1:3]
lines = open(p).read().split("\n")
i = lines.index("apps:")
open(p, "w").write("\n".join(lines[:i] + ["apps:"] + block.split("|")) + "\n")
PY
    fed_kill_worker "$1" TERM
    fed_start_worker "$1"
    wait_state "$1" up 30
}
set_apps site2 "  trust: trust|  max_bytes: 2KiB"
make_app "$D/big" big 1
head -c 20000 /dev/urandom >"$D/big/weights.bin"
expect_error 1 fedsched app publish site2 "$D/big"
case $ERR in *"larger than site site2's apps.max_bytes"*) ;; *) fail "site2 took a bundle over max_bytes: $ERR" ;; esac
app_publish site1 "$D/big"
printf 'version: 1\ntasks:\n  - name: t\n    app: big@1\n    command: [probe]\n' >"$D/big.yaml"
job_submit "$D/big.yaml"
job_wait "$JOB" 0
expect_code 0 fedsched explain "$JOB" t
case $OUT in *site2*"takes bundles of up to 2048 bytes"*) ;; *) fail "explain does not exclude site2 for max_bytes: $OUT" ;; esac

set_apps site3 "  trust: trust|  allow: [other*, 'tamper?']"
sed 's/site: site2/site: site3/' "$D/t1.yaml" | sed 's/tamper@1/probe@1.0.0/' >"$D/a3.yaml"
expect_error 2 fedsched submit "$D/a3.yaml"
case $ERR in *"site site3 does not allow app probe"*) ;; *) fail "a job pinned to a site not allowing the app was not refused: $ERR" ;; esac
printf 'version: 1\ntasks:\n  - name: t\n    app: probe@1.0.0\n    command: [probe]\n' >"$D/a.yaml"
job_submit "$D/a.yaml"
job_wait "$JOB" 0
job_status "$JOB"
py - "$STATUS" <<'PY' || fail "the app was placed where it is not allowed: $STATUS"
import json, sys
t = json.loads(sys.argv[1])["tasks"][0]
assert t["site"] != "site3", t
excl = {c["site"]: c["excluded"] for c in t["placement"]["candidates"]}
assert "does not allow app probe" in (excl["site3"] or ""), excl
PY

# --- a bad apps block: the worker refuses to start, FILE:LINE:COL ---------------------------
for block in "  sandbox: docker" "  allow: []" "  max_bytes: 10" "  trust: no-such-dir" "  colour: red"; do
    sed '/^apps:/,$d' "$D/sites/site1/site.yaml" >"$D/sites/site1/bad.yaml"
    printf 'apps:\n%s\n' "$block" >>"$D/sites/site1/bad.yaml"
    expect_error 2 fedsched worker -c "$D/sites/site1/bad.yaml"
    echo "$ERR" | grep -Eq "^fedsched: error: $D/sites/site1/bad.yaml:[0-9]+:[0-9]+: apps" ||
        fail "a bad apps block ($block) was not refused with FILE:LINE:COL: $ERR"
done
log "OK"
