# shellcheck shell=bash
# Helpers for the tests of transfers over the emulated WAN (tests/integration/wan*.sh,
# docs/wan.md).  Source after lib/common.sh:
#
#   . "$(dirname "$0")/lib/wan.sh"
#   wan_need                       # exit 77 (skipped) where namespaces cannot be made; fed_dir
#   wan_up FED.yaml                # fedsched-local up --wan in FED_DIR
#   wan_sent a b                   # bytes the link a->b has sent (its tbf qdisc)
#   fetch_done SITE JOB            # the fetch.done lines of JOB's inputs at SITE, as JSON

# wan_need: skip the test (exit 77, ctest's SKIP_RETURN_CODE) unless this machine can
# make network namespaces (root, iproute2, CAP_SYS_ADMIN); then require what every WAN
# test uses (fedsched, h5py, yaml, mpirun) and make FED_DIR (fed_dir).
wan_need() {
    local probe="fs-probe-$$"
    [ "$(id -u)" = 0 ] || skip "not root (--wan creates network namespaces)"
    command -v ip >/dev/null 2>&1 && command -v tc >/dev/null 2>&1 || skip "no ip/tc tools (iproute2)"
    ip netns add "$probe" 2>/dev/null || skip "'ip netns add' is not possible here"
    ip netns del "$probe"
    need fedsched
    need h5py
    need yaml
    need mpirun
    fed_dir
}

# wan_up FED.yaml: start the federation of FED.yaml in FED_DIR with --wan, source
# its env; WAN_PREFIX is its namespaces' prefix (fs-<H>).
wan_up() {
    if ! "$FEDSCHED_LOCAL" up --dir "$FED_DIR" --config "$1" --wan >"$FED_DIR/up.log" 2>&1; then
        cat "$FED_DIR/up.log" >&2
        fail "fedsched-local up --wan failed"
    fi
    # shellcheck disable=SC1091
    . "$FED_DIR/env"
    export FEDSCHED_SCHEDULER FEDSCHED_KEYS
    WAN_PREFIX=$(awk '$1 == "prefix" { print $2 }' "$FED_DIR/wan.state")
    [ -n "$WAN_PREFIX" ] || fail "no prefix in $FED_DIR/wan.state"
}

# wan_sent FROM TO: bytes sent so far on the link FROM -> TO, as its tbf qdisc
# (in FROM's namespace, device to-TO) counts them, headers included.
wan_sent() {
    tc -s -n "$WAN_PREFIX-$1" qdisc show dev "to-$2" | awk '$1 == "Sent" { print $2; exit }'
}

# fetch_done SITE JOB: a JSON array of the fetch.done lines the site logged for JOB's
# inputs (workers/fetch.c), each {t_end (s, from the log's timestamp), name, from, bytes,
# seconds, streams, stalls, ...}, matched to JOB by the stage.fetched line of the same transfer (name, bytes, seconds).
fetch_done() {
    "$PY" - "$FED_DIR/sites/$1/worker.log" "$2" <<'PY'
import json, re, sys, datetime
lines = open(sys.argv[1]).read().splitlines()
job = sys.argv[2]
out = []
pending = []
for ln in lines:
    m = re.match(r"(\S+)Z \S+ site=\S+ level=\w+ event=fetch\.done (.*)", ln)
    if m:
        t = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f")
        d = dict(kv.split("=", 1) for kv in m.group(2).split())
        d["t_end"] = t.replace(tzinfo=datetime.timezone.utc).timestamp()
        for k in ("bytes", "pieces", "streams", "stalls", "window", "sharing"):
            d[k] = int(d[k])
        d["seconds"] = float(d["seconds"])
        pending.append(d)
        continue
    m = re.search(r"event=stage\.fetched job=(\d+) task=(\S+) input=(\S+) dataset=(\S+) "
                  r"from=\S+ bytes=(\d+) seconds=(\S+)", ln)
    if m:
        for i, d in enumerate(pending):
            if (d["name"], d["bytes"], "%.3f" % d["seconds"]) == (m.group(4), int(m.group(5)), m.group(6)):
                d.update(job=m.group(1), task=m.group(2), input=m.group(3))
                pending.pop(i)
                if d["job"] == job:
                    out.append(d)
                break
print(json.dumps(out))
PY
}
