#!/usr/bin/env bash
# One-point deployment (SPEC section 10; issue 11): an app published once at one site is
# listed federation-wide and runs at the sites that trust its publisher.  A 3-site
# federation (fedsched-local: every site trusts the local publisher; site3 is then made to
# trust nobody).  Checks:
#   - app publish prints NAME@VERSION sha256:HEX, the digest of the bundle site1 keeps
#     (sha256sum); publishing the same content again (also from a copy with other file
#     times) is a no-op, other content under the same version is refused (exit 1);
#   - apps --json: name, version, digest, bytes, publisher (the key in publisher.pub),
#     sites [site1], trusted_by [site1, site2];
#   - a task of the app reading site2's data runs at site2, which fetched the bundle from
#     site1; explain shows site3 excluded for not trusting the publisher; status --json
#     names the app's digest; the output carries fedsched_app (h5py); in its sandbox the
#     task wrote its own directory and nothing else (not its bundle, the data root, /etc),
#     with no capabilities and no new privileges;
#   - pinned to site3 the job is refused at submit (exit 2);
#   - an MPI app with 2 ranks runs, each rank in its sandbox; a non-MPI app with 2 ranks,
#     an unknown app and a command that is no entry point are refused with FILE:LINE:COL.
set -u
# shellcheck source=tests/integration/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=tests/integration/lib/jobs.sh
. "$(dirname "$0")/lib/jobs.sh"
# shellcheck source=tests/integration/lib/apps.sh
. "$(dirname "$0")/lib/apps.sh"

if ! command -v bwrap >/dev/null 2>&1; then
    echo "[$TEST_NAME] SKIP: bubblewrap is not installed (apt-get install bubblewrap)"
    exit 77
fi
jobs_env
fed_up 3 --data demo
D=$FED_DIR

# site3 trusts nobody (its operator emptied apps.trust); its worker says so at hello.
rm -f "$D/sites/site3/trust/publisher.pub"
fed_kill_worker site3 TERM
fed_start_worker site3
wait_state site3 up 30

# --- publish ----------------------------------------------------------------------------
make_app "$D/app" probe 1.0.0
app_publish site1 "$D/app"
[ "$APP_REF" = probe@1.0.0 ] || fail "published as '$APP_REF', not probe@1.0.0"
held=$(held_bundle site1 "$APP_DIGEST")
[ -f "$held" ] || fail "site1 does not keep the bundle at $held"
[ "$(app_digest_of "$held")" = "$APP_DIGEST" ] ||
    fail "the printed digest $APP_DIGEST is not the bundle's ($(app_digest_of "$held"))"
log "published $APP_REF $APP_DIGEST ($(stat -c %s "$held") bytes at site1)"

# The same content again: a no-op with the same answer; also from a copy made anew.
first=$OUT
expect_code 0 fedsched app publish site1 "$D/app"
[ "$OUT" = "$first" ] || fail "publishing the same content again printed '$OUT', not '$first'"
cp -r "$D/app" "$D/app-copy"
touch -d '2001-02-03 04:05:06' "$D/app-copy/bin/probe" "$D/app-copy/app.yaml"
chmod 0700 "$D/app-copy/bin/probe"
expect_code 0 fedsched app publish site1 "$D/app-copy"
[ "$OUT" = "$first" ] || fail "a copy with other times and modes packed to other bytes: '$OUT'"
# Other content under the same version: refused.
echo "# changed" >>"$D/app-copy/bin/probe"
expect_error 1 fedsched app publish site1 "$D/app-copy"
case $ERR in *"already published with other content"*) ;; *) fail "a changed app was not refused for its version: $ERR" ;; esac

# --- apps -------------------------------------------------------------------------------
expect_code 0 fedsched apps --json
py - "$OUT" "$APP_DIGEST" "$(stat -c %s "$held")" "$(cut -d' ' -f1 "$D/keys/publisher/publisher.pub")" <<'PY' || fail "apps --json is wrong: $OUT"
import json, sys
apps, digest, size, pub = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
assert len(apps) == 1, apps
a = apps[0]
assert list(a)[:7] == ["name", "version", "digest", "bytes", "publisher", "sites", "trusted_by"], list(a)
assert (a["name"], a["version"], a["digest"], a["bytes"]) == ("probe", "1.0.0", digest, size), a
assert a["publisher"] == pub, (a["publisher"], pub)
assert a["sites"] == ["site1"], a["sites"]
assert sorted(a["trusted_by"]) == ["site1", "site2"], a["trusted_by"]
assert a["entry"] == ["probe"] and a["requires"] == ["python3", "sh"], a
PY
expect_code 0 fedsched apps 'pro*'
case $OUT in *probe*1.0.0*site1*) ;; *) fail "apps 'pro*' does not list the app: $OUT" ;; esac
expect_code 0 fedsched apps 'none*'
case $OUT in *probe*) fail "apps 'none*' lists probe: $OUT" ;; esac

# --- a task of the app, placed by its data ----------------------------------------------
ROOT2=$(cd "$(data_root site2)" && pwd -P)
cat >"$D/j.yaml" <<EOF
version: 1
name: app-job
tasks:
  - name: t
    app: probe@1.0.0
    command: [probe, "{out.o}", "$ROOT2"]
    inputs: {x: site2/demo/climate/temp}
    outputs: {o: {}}
EOF
job_submit "$D/j.yaml"
job_wait "$JOB" 0
job_status "$JOB"
py - "$STATUS" "$APP_REF $APP_DIGEST" <<'PY' || fail "status --json: $STATUS"
import json, sys
t = json.loads(sys.argv[1])["tasks"][0]
assert t["site"] == "site2", t
assert t["app"] == sys.argv[2], (t.get("app"), sys.argv[2])
assert t["bytes_moved"] > 0, t          # the bundle came from site1
excl = {c["site"]: c["excluded"] for c in t["placement"]["candidates"]}
assert excl["site3"] and "does not trust publisher" in excl["site3"], excl
PY
expect_code 0 fedsched explain "$JOB" t
case $OUT in *site3*"does not trust publisher"*) ;; *) fail "explain does not say why site3 can't run it: $OUT" ;; esac
TD=$(task_dir site2 "$JOB" t)
py - "$TD/o.h5" "$APP_REF $APP_DIGEST" <<'PY' || fail "the output does not carry fedsched_app"
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    v = f["o"].attrs["fedsched_app"]
    v = v.decode() if isinstance(v, bytes) else v
    assert v == sys.argv[2], (v, sys.argv[2])
    assert list(f["o"][()]) == [1, 2, 3]
PY
probe=$(cat "$TD/probe.0" 2>/dev/null)
[ "$probe" = "own=yes app=no root=no etc=no nnp=1 cap=0000000000000000" ] ||
    fail "the task's sandbox let it do more (or less) than it should: '$probe'"
[ ! -e "$ROOT2/probe-was-here.0" ] || fail "the task wrote the data root"
[ "$(worker_log_count site2 "event=app.fetched app=probe@1.0.0 .* from=site1")" = 1 ] ||
    fail "site2 did not fetch the bundle from site1 exactly once"
[ "$(stat -c %a "$(unpacked site2 "$APP_DIGEST")")" = 555 ] || fail "site2's unpacked bundle is not read-only"
[ "$(stat -c %a "$(unpacked site2 "$APP_DIGEST")/bin/probe")" = 555 ] || fail "the entry point is writable"
log "ran at site2 (fetched from site1), fedsched_app recorded, sandbox held"

# Pinned to the site that does not trust the publisher: never placed, refused at submit.
sed 's/^    inputs:.*/    site: site3/' "$D/j.yaml" >"$D/j3.yaml"
expect_error 2 fedsched submit "$D/j3.yaml"
case $ERR in *"site site3 does not trust publisher"*) ;; *) fail "a job pinned to site3 was not refused for trust: $ERR" ;; esac

# --- MPI --------------------------------------------------------------------------------
make_app "$D/mapp" mprobe 2.0 true
app_publish site2 "$D/mapp"
cat >"$D/m.yaml" <<EOF
version: 1
name: mpi-app
tasks:
  - name: m
    app: mprobe@2.0
    command: [probe, "{out.o}"]
    ranks: 2
    site: site1
    outputs: {o: {}}
EOF
job_submit "$D/m.yaml"
job_wait "$JOB" 0
TD=$(task_dir site1 "$JOB" m)
for r in 0 1; do
    probe=$(cat "$TD/probe.$r" 2>/dev/null)
    case $probe in "own=yes app=no root=no etc=no nnp=1 cap=0000000000000000") ;;
        *) fail "rank $r of the MPI app: '$probe' (stderr: $(fedsched logs "$JOB" m --stderr 2>&1 | tail -5))" ;;
    esac
done
expect_code 0 fedsched logs "$JOB" m --stderr
case $OUT in *"System call failed"*|*"shared memory"*) fail "the ranks could not share memory: $OUT" ;; esac

# --- refused job files ------------------------------------------------------------------
printf 'version: 1\ntasks:\n  - name: t\n    app: probe@1.0.0\n    command: [probe]\n    ranks: 2\n' >"$D/r1.yaml"
refused "$D/r1.yaml" 6 "a non-MPI app with 2 ranks"
printf 'version: 1\ntasks:\n  - name: t\n    app: probe@9.9\n    command: [probe]\n' >"$D/r2.yaml"
refused "$D/r2.yaml" 4 "an unknown app"
printf 'version: 1\ntasks:\n  - name: t\n    app: probe@1.0.0\n    command: [regrid]\n' >"$D/r3.yaml"
refused "$D/r3.yaml" 5 "a command that is not an entry point"
log "OK"
