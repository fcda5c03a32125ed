#!/usr/bin/env bash
# Tasks see the site's data roots read-only (SPEC section 8; issue 14 item 3), so a task
# that read data under a strict policy cannot drop a copy where a later publish would
# find it.  A 2-site federation (mpirun launcher): a 1-rank task and a 2-rank task that
# try to create a file in their site's data root fail with "Read-only file system" and
# leave nothing there; a task writing its own task directory and its declared output
# succeeds; the data root stays writable outside tasks.  slurm_readonly.sh runs the same
# with every site on `launcher: slurm` (FED_LAUNCHER=slurm: the ranks are Slurm's).
set -u
# shellcheck source=tests/integration/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=tests/integration/lib/jobs.sh
. "$(dirname "$0")/lib/jobs.sh"

jobs_env
fed_up 2
D=$FED_DIR
ROOT=$(cd "$(data_root site1)" && pwd -P)
cat >"$D/w.yaml" <<EOF
version: 1
name: write-root
tasks:
  - name: w
    command: [sh, -c, "touch $ROOT/copy.h5 && echo wrote"]
    site: site1
EOF
cat >"$D/m.yaml" <<EOF
version: 1
name: write-root-mpi
tasks:
  - name: m
    command: [sh, -c, "touch $ROOT/copy-\${{OMPI_COMM_WORLD_RANK:-\$SLURM_PROCID}}.h5 && echo wrote"]
    ranks: 2
    site: site1
EOF
for f in w m; do
    job_submit "$D/$f.yaml"
    job_wait "$JOB" 1
    expect_code 0 fedsched logs "$JOB" "$f" --stderr
    case $OUT in *"Read-only file system"*) ;; *) fail "task $f's stderr does not say read-only: $OUT" ;; esac
done
if ls "$ROOT"/copy* >/dev/null 2>&1; then
    fail "a task created a file in the data root: $(ls "$ROOT")"
fi

cat >"$D/ok.yaml" <<'EOF'
version: 1
name: write-own
tasks:
  - name: w
    command: [sh, -c, "echo x > mine.txt && /usr/bin/python3 -c \"import h5py, sys; h5py.File(sys.argv[1], 'w')['o'] = [1, 2]\" {out.o.file}"]
    site: site1
    outputs:
      o: {}
EOF
job_submit "$D/ok.yaml"
job_wait "$JOB" 0
[ -s "$(task_dir site1 "$JOB" w)/mine.txt" ] || fail "the task could not write its own directory"
touch "$ROOT/by-operator" || fail "the data root is not writable outside tasks"
log "OK"
