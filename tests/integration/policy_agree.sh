#!/usr/bin/env bash
# One policy engine (issue 9 item 5): `fedsched validate`, placement (`fedsched
# status`) and the serving site agree, case by case, on where each input may be
# read, and all three give what SPEC section 6 says.
#
# Three sites: site1 and site2 in region ra, site3 in rb.  site1 holds one 8 x 8
# dataset under each policy (raw, regions=ra, none, aggregate=2x2), read four
# ways (whole and raw; sum over the 2 x 2 grid; max over it; sum off the grid).
# For every (dataset, read, site):
#   validate   a job pinned to the site: exit 0, or 2 with a policy error;
#   placement  an unpinned job: the site is a candidate, or excluded by policy;
#   the site   site1 itself, asked through the data plane as that site would
#              stage the input (tests/tools/read_as): served with an audit line,
#              or refused with a refusal line in its log.
# Then `fedsched get` (a reader outside every site) against the same table.
set -euo pipefail
TEST_NAME=policy_agree
. "$(dirname "$0")/lib/common.sh"
need h5py
need yaml
[ -x "$FEDSCHED_TOOLS/read_as" ] || fail "read_as is not built ($FEDSCHED_TOOLS)"
fed_dir
D=$FED_DIR
cat >"$D/fed-in.yaml" <<'Y'
name: agree
sites:
  - {name: site1, region: ra, cores: 4}
  - {name: site2, region: ra, cores: 4}
  - {name: site3, region: rb, cores: 4}
Y
mkdir -p "$D/sites/site1/data/p"
py - "$D/sites/site1/data/p" <<'PY'
import sys, numpy as np, h5py
for p in ("raw", "reg", "none", "agg"):
    with h5py.File("%s/%s.h5" % (sys.argv[1], p), "w") as h:
        h.create_dataset("v", data=np.arange(64, dtype="float64").reshape(8, 8))
PY
"$FEDSCHED_LOCAL" up --dir "$D" --config "$D/fed-in.yaml" --launcher local >"$D/up.log" 2>&1 ||
    { cat "$D/up.log" >&2; fail "fedsched-local up failed"; }
# shellcheck disable=SC1091
. "$D/env"
export FEDSCHED_SCHEDULER FEDSCHED_KEYS
expect_code 0 fedsched publish site1 p/reg.h5 --policy regions=ra
expect_code 0 fedsched publish site1 p/none.h5 --policy none
expect_code 0 fedsched publish site1 p/agg.h5 --policy aggregate=2x2

region() { case $1 in site3) echo rb ;; *) echo ra ;; esac; }

# The reads: slice (within site1/p/NAME/v), reduction op and blocks ("" for none).
READS=("v|" "v[0:8, 0:8]|sum:2,2" "v[0:8, 0:8]|max:2,2" "v[1:7, 0:8]|sum:2,2")
# SPEC section 6, as a table: per dataset, per read, may site1 site2 site3 outside read it?
expected() {    # dataset read-index -> "s1 s2 s3 out" as 1/0
    case $1 in
        raw) echo "1 1 1 1" ;;
        reg) echo "1 1 0 0" ;;
        none) echo "1 0 0 0" ;;
        agg) [ "$2" = 1 ] && echo "1 1 1 1" || echo "1 0 0 0" ;;
    esac
}

jobfile() {     # FILE SLICE REDUCE [SITE]
    local red="" pin=""
    if [ -n "$3" ]; then
        red=", reduce: {${3%%:*}: [${3#*:}]}"
    fi
    [ -n "${4:-}" ] && pin="    site: $4"
    cat >"$1" <<Y
version: 1
tasks:
  - name: t
    command: ["true"]
    inputs:
      x: {slice: '$2'$red}
$pin
Y
}

W1="$D/sites/site1/worker.log"
cases=0
for ds in raw reg none agg; do
    for ri in 0 1 2 3; do
        sel=${READS[$ri]%%|*}
        red=${READS[$ri]#*|}
        name="site1/p/$ds/${sel}"
        read -r -a want <<<"$(expected "$ds" "$ri")"
        label="$ds $sel${red:+ --reduce $red}"

        # placement: an unpinned job, its candidates as status shows them
        jobfile "$D/j.yaml" "$name" "$red"
        expect_code 0 fedsched submit "$D/j.yaml"
        id=$OUT
        expect_code 0 fedsched wait "$id" --timeout 60
        placed=$(fedsched status "$id" --json | py -c '
import json, sys
t = json.load(sys.stdin)["tasks"][0]
c = {x["site"]: x["excluded"] for x in t["placement"]["candidates"]}
print(" ".join("0" if c.get(s) else "1" for s in ("site1", "site2", "site3")))')

        for k in 0 1 2; do
            site=site$((k + 1))
            # validate, pinned to the site
            jobfile "$D/v.yaml" "$name" "$red" "$site"
            rc=0
            fedsched validate "$D/v.yaml" >/dev/null 2>"$D/v.err" || rc=$?
            case $rc in
                0) v=1 ;;
                2) grep -q "polic" "$D/v.err" || fail "$label at $site: validate exit 2 not for a policy: $(cat "$D/v.err")"
                   v=0 ;;
                *) fail "$label at $site: validate exited $rc: $(cat "$D/v.err")" ;;
            esac
            # placement
            p=$(echo "$placed" | cut -d' ' -f$((k + 1)))
            # the serving site, asked as this site
            before=$(grep -c 'op=data.open\|event=audit op=get' "$W1" || true)
            rc=0
            read_as "$site" "$(region "$site")" "$name" ${red:+--reduce "$red"} -o "$D/r.h5" \
                >"$D/r.out" 2>"$D/r.err" || rc=$?
            case $rc in
                0) s=1 ;;
                1) s=0 ;;
                *) fail "$label as $site: read_as exited $rc: $(cat "$D/r.err")" ;;
            esac
            after=$(grep -c 'op=data.open\|event=audit op=get' "$W1" || true)
            [ "$after" -gt "$before" ] || fail "$label as $site: no audit or refusal line at site1"
            line=$(grep 'op=data.open\|event=audit op=get' "$W1" | tail -n 1)
            if [ $s = 1 ]; then
                case $line in *"event=audit op=get reader=$site dataset=site1/p/$ds/v"*) ;;
                    *) fail "$label as $site: served, but the last line at site1 is: $line" ;; esac
            else
                case $line in *"event=refused op=data.open reader=$site dataset=site1/p/$ds/v"*) ;;
                    *) fail "$label as $site: refused, but the last line at site1 is: $line" ;; esac
            fi
            if [ "$v" != "${want[$k]}" ] || [ "$p" != "${want[$k]}" ] || [ "$s" != "${want[$k]}" ]; then
                fail "$label at $site: expected ${want[$k]}, validate $v, placement $p, serving site $s"
            fi
            cases=$((cases + 1))
        done
        # a reader outside every site
        rc=0
        fedsched get "$name" ${red:+--reduce "$red"} -o "$D/g.h5" >/dev/null 2>"$D/g.err" || rc=$?
        g=$([ $rc = 0 ] && echo 1 || echo 0)
        [ $rc = 0 ] || [ $rc = 1 ] || fail "$label: get exited $rc: $(cat "$D/g.err")"
        [ "$g" = "${want[3]}" ] || fail "$label: get ${g}, expected ${want[3]}: $(cat "$D/g.err")"
    done
done
log "$cases cases (4 policies x 4 reads x 3 sites): validate, placement and site1 agree"
log "OK"
