# shellcheck shell=bash
# shellcheck disable=SC2034  # APP_REF, APP_DIGEST are read by the tests
# Helpers for the app tests (tests/integration/apps*.sh).  Source after common.sh
# and jobs.sh:
#
#   make_app DIR NAME VERSION [MPI]   # an app directory: app.yaml, bin/probe
#   app_publish SITE DIR              # APP_REF=NAME@VERSION, APP_DIGEST=sha256:HEX
#   app_digest_of FILE                # sha256:HEX of a file, by sha256sum
#   worker_log_count SITE REGEX       # matching lines in the site's worker log
#
# The probe entry point (bin/probe [OUT.h5:/DSET [ROOT]]) records what its sandbox
# lets it do in probe.<rank> in its working directory (the task's directory):
#   own=yes|no      it could write its working directory
#   app=yes|no      it could write the directory of its own bundle
#   root=yes|no     it could write ROOT (the site's data root)
#   etc=yes|no      it could write /etc
#   nnp=N cap=HEX   NoNewPrivs and CapEff from /proc/self/status
# then writes [1, 2, 3] as OUT's dataset (rank 0) with h5py.

APP_REF=""
APP_DIGEST=""

# make_app DIR NAME VERSION [MPI]: the app in DIR (created); MPI: true/false.
make_app() {
    local dir=$1 name=$2 version=$3 mpi=${4:-false}
    mkdir -p "$dir/bin" || fail "cannot create $dir"
    cat >"$dir/app.yaml" <<EOF
name: $name
version: $version
description: records what its sandbox allows, writes one output
entry:
  probe: bin/probe
mpi: $mpi
requires: [python3, sh]
EOF
    cat >"$dir/bin/probe" <<'EOF'
#!/bin/sh
r=${OMPI_COMM_WORLD_RANK:-0}
here=$(cd "$(dirname "$0")/.." && pwd)
own=no; touch "probe.own.$r" 2>/dev/null && own=yes
app=no; touch "$here/probe-was-here.$r" 2>/dev/null && app=yes
root=no; [ -n "$2" ] && touch "$2/probe-was-here.$r" 2>/dev/null && root=yes
etc=no; touch "/etc/fedsched-probe.$r" 2>/dev/null && etc=yes
nnp=$(awk '/^NoNewPrivs/ {print $2}' /proc/self/status)
cap=$(awk '/^CapEff/ {print $2}' /proc/self/status)
echo "own=$own app=$app root=$root etc=$etc nnp=$nnp cap=$cap" >"probe.$r"
if [ -n "$1" ] && [ "$r" = 0 ]; then
    /usr/bin/python3 -c 'import h5py, sys; f, d = sys.argv[1].split(":"); h5py.File(f, "w")[d] = [1, 2, 3]' "$1" || exit 3
fi
echo "probe ran in $(pwd) from $here"
EOF
    chmod 0755 "$dir/bin/probe"
}

# app_publish SITE DIR: publish; APP_REF and APP_DIGEST from its output line.
app_publish() {
    expect_code 0 fedsched app publish "$1" "$2"
    [[ $OUT =~ ^([A-Za-z0-9._-]+@[A-Za-z0-9._+-]+)\ (sha256:[0-9a-f]{64})$ ]] ||
        fail "app publish must print 'NAME@VERSION sha256:HEX', got '$OUT'"
    APP_REF=${BASH_REMATCH[1]}
    APP_DIGEST=${BASH_REMATCH[2]}
}

app_digest_of() { echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"; }

worker_log_count() { grep -cE "$2" "$FED_DIR/sites/$1/worker.log" || true; }

# held_bundle SITE DIGEST: the path of the bundle SITE keeps.
held_bundle() { echo "$FED_DIR/sites/$1/state/apps/store/${2#sha256:}.fsb"; }
# unpacked SITE DIGEST: where SITE unpacked it.
unpacked() { echo "$FED_DIR/sites/$1/state/apps/cache/${2#sha256:}"; }
