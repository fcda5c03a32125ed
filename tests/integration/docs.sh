#!/usr/bin/env bash
# Docs that cannot drift: the runnable examples of README.md, docs/user-guide.md and
# jobs/examples/README.md are run as written, in a clean environment, against the local
# federations they start themselves, and what they show is checked (issue 15).
#
# Marking an example (an HTML comment on the line before a fenced block):
#
#   <!-- docs.sh: run -->          the block is run.  A line "$ COMMAND" is a command
#   ```sh                          (a trailing "\" continues it), and the lines after
#   $ fedsched validate j.yaml     it, up to the next "$ ", are what it prints: each
#   j.yaml: valid (1 task)         must be found in its output (stdout and stderr), in
#   ```                            that order, other lines may come between; "..."
#                                  lines are skipped; in a shown line any number
#                                  matches any number (a duration or a size any
#                                  other: "1.0 s" matches "318 ms"), "…" matches
#                                  anything, and runs of spaces match any spaces.  A command must exit 0,
#                                  unless what it shows holds "fedsched: error:" (then
#                                  it must not; `$ echo $?` shows the code).  A block
#                                  without "$ " lines is a plain script: every line a
#                                  command that must exit 0, its output unchecked.
#   <!-- docs.sh: file NAME -->    the block is written to the file NAME (a job file
#   ```yaml                        the text goes on to use).
#
# Each document runs in one bash session of its own (variables and `. DIR/env` carry
# from block to block, in the order of the document), started with `env -i` (PATH,
# HOME and LANG only: a newcomer's clean shell), in a directory of the test's own that
# holds the repository's files (so `cluster/...`, `jobs/...` and `$PWD/build` work and
# the files the examples write stay there); the build under test is its `build/`.
# Paths under /tmp/ in commands are moved into the test's own directory, so the test
# runs beside others.  Every federation a document leaves up is taken down.
set -u
# shellcheck source=tests/integration/lib/common.sh
. "$(dirname "$0")/lib/common.sh"

need fedsched
need h5py
need mpirun
BUILD=$(cd "$(dirname "$(command -v fedsched)")" && pwd)
[ -x "$BUILD/models/regrid" ] || skip "the example models are not built ($BUILD/models/regrid)"

T=$(mktemp -d "${TMPDIR:-/tmp}/fedsched-docs.XXXXXX")
cleanup() {
    local rc=$? f
    trap - EXIT
    for f in "$T"/*/*/scheduler.pid "$T"/*/*/*/scheduler.pid; do
        [ -f "$f" ] && "$FEDSCHED_LOCAL" down --dir "$(dirname "$f")" >/dev/null 2>&1
    done
    # Daemons built with sanitizers report into their logs: any report fails the test.
    while IFS= read -r f; do
        if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$f"; then
            echo "----- [$TEST_NAME] sanitizer report in $f" >&2
            grep -A25 -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$f" | head -60 >&2
            rc=1
        fi
    done < <(find "$T" -name '*.log' \( -name scheduler.log -o -name worker.log \) 2>/dev/null)
    if [ "$rc" = 0 ] && [ -z "${FED_KEEP:-}" ]; then
        rm -rf "$T"
    else
        echo "[$TEST_NAME] kept $T" >&2
    fi
    [ "$rc" = 0 ] && echo "[$TEST_NAME] PASS" || echo "[$TEST_NAME] FAILED (exit $rc)"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ndocs=0
for doc in README.md docs/user-guide.md jobs/examples/README.md; do
    name=$(echo "$doc" | tr '/.' '__')
    W="$T/$name"
    mkdir -p "$W/repo" "$W/home"
    # The repository's files, and the build under test as build/.
    for f in "$REPO_ROOT"/* "$REPO_ROOT"/.[!.]*; do
        [ -e "$f" ] || continue
        case ${f##*/} in build | build-* | .git) continue ;; esac
        ln -s "$f" "$W/repo/${f##*/}"
    done
    ln -s "$BUILD" "$W/repo/build"
    log "$doc"
    "$PY" - "$REPO_ROOT/$doc" "$W" <<'PY' || fail "$doc: an example does not run as written (above)"
import os, re, subprocess, sys

doc, work = sys.argv[1], sys.argv[2]
repo = os.path.join(work, "repo")
lines = open(doc).read().split("\n")

# The marked blocks, in order: ("file", name, text) or ("run", commands).
items, i = [], 0
marker = re.compile(r"^<!-- docs\.sh: (run|file (\S+)) -->$")
while i < len(lines):
    m = marker.match(lines[i].strip())
    if not m:
        i += 1
        continue
    j = i + 1
    if j >= len(lines) or not lines[j].lstrip().startswith("```"):
        sys.exit("%s:%d: a docs.sh marker must be followed by a fenced block" % (doc, i + 1))
    indent = len(lines[j]) - len(lines[j].lstrip())
    k = j + 1
    while k < len(lines) and not lines[k].strip().startswith("```"):
        k += 1
    body = [l[indent:] for l in lines[j + 1:k]]
    if m.group(2):
        items.append(("file", m.group(2), "\n".join(body) + "\n", j + 2))
    else:
        cmds, cur = [], None          # [line, command, shown lines]
        plain = not any(l.startswith("$ ") for l in body)
        n = j + 1
        for l in body:
            n += 1
            if plain:
                if l.strip() and not l.lstrip().startswith("#"):
                    if cmds and cmds[-1][1].endswith("\\"):
                        cmds[-1][1] = cmds[-1][1][:-1] + "\n" + l
                    else:
                        cmds.append([n, l, []])
                continue
            if l.startswith("$ "):
                cmds.append([n, l[2:], []])
            elif cmds and cmds[-1][1].endswith("\\") and not cmds[-1][2]:
                cmds[-1][1] = cmds[-1][1][:-1] + "\n" + l
            elif cmds:
                cmds[-1][2].append(l)
        items.append(("run", cmds, plain))
    i = k + 1

if not any(it[0] == "run" for it in items):
    sys.exit("%s: no example is marked runnable (<!-- docs.sh: run -->)" % doc)

# One script for the whole document: each command's output and exit code to files.
tmp = os.path.join(work, "tmp")
os.makedirs(tmp, exist_ok=True)
script = ["cd %s || exit 99" % repo]
checks = []
for it in items:
    if it[0] == "file":
        path = os.path.join(repo, it[1])
        script.append("cat > %s <<'DOCS_SH_EOF'\n%sDOCS_SH_EOF" % (it[1], it[2]))
        continue
    for line, cmd, shown in it[1]:
        idx = len(checks)
        cmd = re.sub(r"/tmp/", tmp + "/", cmd)
        script.append("{ %s\n} >%s/out.%d 2>&1 </dev/null; __rc=$?; echo $__rc >%s/rc.%d; (exit $__rc)"
                      % (cmd, work, idx, work, idx))
        checks.append((line, cmd, shown))
open(os.path.join(work, "doc.sh"), "w").write("\n".join(script) + "\n")

env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
       "HOME": os.path.join(work, "home"), "LANG": "C.UTF-8", "TERM": "dumb"}
for k in ("TMPDIR", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
    if k in os.environ:
        env[k] = os.environ[k]
subprocess.run(["env", "-i"] + ["%s=%s" % kv for kv in env.items()] + ["bash", "--norc", "--noprofile",
               os.path.join(work, "doc.sh")], cwd=repo, timeout=900)

# A shown line as a pattern: numbers match numbers (a duration or a size any other,
# whatever its unit), "…" anything, runs of spaces any spaces.
NUM = r"[-+]?[0-9]+(?:\.[0-9]+)?"
UNITS = {"time": r"(?:us|ms|s)", "size": r"(?:B|kB|MB|GB|TB|KiB|MiB|GiB|TiB)"}
def pattern(shown):
    out, pos = "", 0
    tok = r"…|%s (?:us|ms|s|B|kB|MB|GB|TB|KiB|MiB|GiB|TiB)\b|%s| +" % (NUM, NUM)
    for m in re.finditer(tok, shown):
        out += re.escape(shown[pos:m.start()])
        t = m.group(0)
        if t == "…":
            out += ".*"
        elif t.startswith(" "):
            out += r"\s+"
        elif " " in t:
            unit = t.split(" ")[1]
            out += NUM + " " + (UNITS["time"] if unit in ("us", "ms", "s") else UNITS["size"])
        else:
            out += NUM
        pos = m.end()
    return re.compile(out + re.escape(shown[pos:]))

bad = 0
for idx, (line, cmd, shown) in enumerate(checks):
    where = "%s:%d: $ %s" % (os.path.relpath(doc), line, cmd.replace("\n", " "))
    try:
        rc = int(open(os.path.join(work, "rc.%d" % idx)).read())
        out = open(os.path.join(work, "out.%d" % idx), errors="replace").read().split("\n")
    except (OSError, ValueError):
        print("%s\n  did not run (an earlier command stopped the document)" % where)
        bad += 1
        break
    want = [s for s in shown if s.strip() and s.strip() not in ("...", "…")]
    error_shown = any("fedsched: error:" in s for s in want)
    problems = []
    if error_shown and rc == 0:
        problems.append("exit code 0, but the docs show an error")
    if not error_shown and rc != 0:
        problems.append("exit code %d" % rc)
    k = 0
    for s in want:
        p = pattern(s.strip())
        while k < len(out) and not p.search(out[k]):
            k += 1
        if k == len(out):
            problems.append("the docs show a line it did not print: %s" % s.strip())
            break
        k += 1
    if problems:
        bad += 1
        print(where)
        for p in problems:
            print("  " + p)
        print("  its output:\n    " + "\n    ".join(out[-25:]))
print("%s: %d command(s), %d failed" % (os.path.relpath(doc), len(checks), bad))
sys.exit(1 if bad else 0)
PY
    ndocs=$((ndocs + 1))
done
log "the runnable examples of $ndocs documents run as written"
