#!/usr/bin/env bash
# A trusted data space (issue 14), with security: curve, a plain user key and an
# operator key (the client fedsched-local makes operates every site):
#
#  - the issue's sequence: the operator publishes a file as 'none'; a user's
#    re-publish of it under a new name as 'raw' is refused (exit 1, naming the
#    operator role) and the new name cannot be read;
#  - a federation admin is not a site operator; a site checks its own list even
#    when the scheduler's copy of it is stale;
#  - the same file through a symbolic link, a hard link and a second data root
#    never comes out looser; without a policy it gets the standing one;
#  - only an operator loosens, only with --loosen, every name at once, and the
#    audit line says who and what;
#  - a user still publishes a job's output, which inherits its input's policy.
set -euo pipefail
TEST_NAME=policy_roles
. "$(dirname "$0")/lib/common.sh"
need h5py
fed_up 2 --security curve --launcher local
[ -n "${FEDSCHED_USER_KEYS:-}" ] || fail "fedsched-local wrote no FEDSCHED_USER_KEYS"
D=$FED_DIR
R1=$(data_root site1)
OP=$FEDSCHED_KEYS
USR=$FEDSCHED_USER_KEYS
W1="$D/sites/site1/worker.log"
keyof() { sed -n 's/^public *= *"\(.*\)"/\1/p' "$1"; }
OPKEY=$(keyof "$OP/client.pub")
USERKEY=$(keyof "$USR/client.pub")
[ -n "$OPKEY" ] && [ -n "$USERKEY" ] || fail "cannot read the test's public keys"
as_user() { FEDSCHED_KEYS=$USR "$@"; }

mkdir -p "$R1/s" "$R1/p"
py - "$R1" <<'PY'
import sys, numpy as np, h5py
with h5py.File(sys.argv[1] + "/s/secret.h5", "w") as h:
    h.create_dataset("cases", data=np.arange(144, dtype="int32").reshape(12, 12))
with h5py.File(sys.argv[1] + "/p/public.h5", "w") as h:
    h.create_dataset("v", data=np.arange(8, dtype="float64"))
PY

log "the issue's sequence"
expect_code 0 fedsched publish site1 s/secret.h5 --policy none
expect_error 1 fedsched get site1/s/secret/cases -o "$D/a.h5"
expect_error 1 as_user fedsched publish site1 s/secret.h5 --name leak/cases --policy raw
case $ERR in *"permission denied: publishing at site site1 is an action of that site's operators"*"keys/admin"*) ;;
    *) fail "the user's publish was not refused for the operator role: $ERR" ;; esac
expect_error 1 as_user fedsched get leak/cases -o "$D/b.h5"
expect_error 1 fedsched get leak/cases -o "$D/b.h5"
[ -e "$D/b.h5" ] && fail "the leak name wrote a file"
# audit lines: keys are z85 (regex characters), so they are matched as fixed strings
audit() {       # FILE FIXED-STRING...: one line holds them all
    local f=$1 l
    shift
    while IFS= read -r l; do
        local ok=1 w
        for w in "$@"; do case $l in *"$w"*) ;; *) ok=0 ;; esac; done
        [ $ok = 1 ] && return 0
    done < <(grep 'event=audit' "$f")
    return 1
}
audit "$D/scheduler.log" "op=publish by=$USERKEY site=site1 file=\"s/secret.h5\" name=leak/cases after=raw result=refused" ||
    fail "no audit line for the refused publish at the scheduler"
audit "$W1" "op=publish by=$OPKEY file=\"$(cd "$R1" && pwd -P)/s/secret.h5\" dataset=/cases name=site1/s/secret/cases before=raw after=none result=ok" ||
    fail "no audit line for the operator's publish at site1"
# the operator may not loosen through a publish either: another name, or the same
expect_error 1 fedsched publish site1 s/secret.h5 --name leak/cases --policy raw
case $ERR in *"stands under policy 'none'"*"never loosens"*) ;; *) fail "looser re-publish: $ERR" ;; esac
expect_error 1 fedsched publish site1 s/secret.h5 --policy regions=site2
audit "$W1" "op=publish by=$OPKEY" "name=leak/cases before=none after=raw result=refused" ||
    fail "no audit line for the refused re-publish"

log "a federation admin is not a site operator"
FA="$D/keys/fedadmin"
fedsched keygen "$FA" --name client >/dev/null
cp "$D/keys/scheduler/scheduler.pub" "$FA/scheduler.pub"
cp "$FA/client.pub" "$D/keys/scheduler/admin/fedadmin.pub"
cp "$FA/client.pub" "$D/keys/scheduler/authorized/fedadmin.pub"
for s in site1 site2; do cp "$FA/client.pub" "$D/keys/sites/$s/authorized/fedadmin.pub"; done
expect_code 0 env FEDSCHED_KEYS="$FA" fedsched drain site2 --reason test
expect_code 0 env FEDSCHED_KEYS="$FA" fedsched resume site2
expect_error 1 env FEDSCHED_KEYS="$FA" fedsched publish site1 p/public.h5 --name fa/v
case $ERR in *"operators"*) ;; *) fail "a federation admin published: $ERR" ;; esac
expect_error 1 as_user fedsched drain site2

log "a site decides with its own list: added, and removed behind the scheduler's back"
cp "$USR/client.pub" "$D/keys/sites/site1/admin/user.pub"
for _ in $(seq 1 40); do      # a heartbeat tells the scheduler
    as_user fedsched publish site1 p/public.h5 --name user/v >/dev/null 2>&1 && break
    sleep 0.25
done
as_user fedsched catalog user/v --json | grep -q '"user/v"' || fail "an added site operator could not publish"
WP=$(worker_pid site1)
kill -STOP "$WP"
rm "$D/keys/sites/site1/admin/user.pub"
# the scheduler still lists the key: it forwards, and the site refuses
as_user fedsched publish site1 p/public.h5 --name user/w >"$D/pub.out" 2>"$D/pub.err" &
PUB=$!
fed_track $PUB
sleep 1
kill -CONT "$WP"
rc=0
wait $PUB || rc=$?
[ $rc = 1 ] || fail "the site accepted a key no longer in its admin/: exit $rc $(cat "$D/pub.err")"
grep -q "permission denied" "$D/pub.err" || fail "site refusal: $(cat "$D/pub.err")"
audit "$W1" "op=publish by=$USERKEY file=\"p/public.h5\" dataset=- name=user/w before=- after=- result=refused reason=\"not an operator of this site\"" ||
    fail "site1 wrote no audit line for its own refusal"

log "the same file by a symlink, a hard link and a second data root"
ln -s secret.h5 "$R1/s/alias.h5"
ln "$R1/s/secret.h5" "$R1/hard.h5"
mkdir -p "$D/sites/site1/data2"
ln "$R1/s/secret.h5" "$D/sites/site1/data2/copy.h5"
cat >>"$D/sites/site1/site.yaml" <<Y
  - path: data2
    prefix: site1b
Y
fed_kill_worker site1 TERM
fed_start_worker site1
wait_state site1 up 30
names="site1/s/secret/cases site1/s/alias/cases site1/hard/cases site1b/copy/cases"
pol_of() { fedsched catalog "$1" --json | py -c 'import json,sys; d=json.load(sys.stdin); print(d[0]["policy"] if d else "")'; }
for _ in $(seq 1 50); do [ -n "$(pol_of site1b/copy/cases)" ] && break; sleep 0.2; done
for n in $names; do
    [ "$(pol_of "$n")" = none ] || fail "$n came out as '$(pol_of "$n")' after a restart, not none"
done
for p in s/alias.h5 hard.h5 "$D/sites/site1/data2/copy.h5"; do
    expect_error 1 fedsched publish site1 "$p" --name leak/x --policy raw
    case $ERR in *"stands under policy 'none'"*) ;; *) fail "$p: $ERR" ;; esac
done
expect_code 0 fedsched publish site1 hard.h5 --name again/cases
[ "$(pol_of again/cases)" = none ] || fail "a publish without a policy did not take the standing one"
expect_error 1 as_user fedsched get again/cases -o "$D/c.h5"

log "only an operator loosens, with --loosen, every name at once"
expect_error 1 fedsched policy site1 site1/hard/cases raw
case $ERR in *"looser than the policy in force, 'none'"*"--loosen"*) ;; *) fail "loosen without --loosen: $ERR" ;; esac
expect_error 1 as_user fedsched policy site1 site1/hard/cases raw --loosen
case $ERR in *"operators"*) ;; *) fail "a user changed a policy: $ERR" ;; esac
expect_code 0 fedsched policy site1 site1/hard/cases regions=site2 --loosen
for n in $names again/cases; do
    [ "$(pol_of "$n")" = regions=site2 ] || fail "$n is '$(pol_of "$n")' after the change, not regions=site2"
done
audit "$W1" "op=policy.loosen by=$OPKEY file=" "dataset=/cases name=site1/hard/cases before=none after=regions=site2 result=ok" ||
    fail "no audit line for the loosening"
audit "$W1" "op=policy by=$OPKEY" "name=site1/hard/cases before=none after=raw result=refused" ||
    fail "no audit line for the refused loosening"
# tightening needs no flag, and holds across a restart
expect_code 0 fedsched policy site1 site1b/copy/cases none
fed_kill_worker site1 TERM
fed_start_worker site1
wait_state site1 up 30
for _ in $(seq 1 50); do [ -n "$(pol_of site1b/copy/cases)" ] && break; sleep 0.2; done
for n in $names; do
    [ "$(pol_of "$n")" = none ] || fail "$n is '$(pol_of "$n")' after tightening and a restart"
done
expect_code 0 fedsched policy site1 site1/s/secret/cases regions=site1,site2 --loosen

log "a user publishes a job's output, which inherits its input's policy"
cat >"$D/j.yaml" <<Y
version: 1
tasks:
  - name: copy
    command: [h5copy, -i, "{in.x.file}", -s, "{in.x.dset}", -o, "{out.y.file}", -d, "{out.y.dset}"]
    inputs:
      x: site1/s/secret/cases[0:4]
    outputs:
      y: {publish: results/user_out}
Y
expect_code 0 as_user fedsched submit "$D/j.yaml"
expect_code 0 as_user fedsched wait "$OUT" --timeout 60
[ "$(pol_of results/user_out)" = regions=site1,site2 ] ||
    fail "the output's policy is '$(pol_of results/user_out)', not its input's"
log "OK"
