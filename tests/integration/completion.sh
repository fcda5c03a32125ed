#!/usr/bin/env bash
# fedsched --version and the bash completion (cli/completion.bash), and what
# `cmake --install` puts where (SPEC section 3; issue 15):
#  - --version prints the version of CMakeLists.txt's project() and the protocol
#    version of common/msg.h, read here from the sources;
#  - every verb of `fedsched --help` completes from its first letters, and for each,
#    `fedsched VERB --` offers every option of its --help "options:" line (made from
#    the verb's getopt table) and every --option its hand-written usage line names;
#  - site names, dataset names (by prefix) and job ids complete from the federation;
#  - `cmake --install BUILD --prefix P` installs P/bin/fedsched, P/bin/fedsched-monitor
#    and the completion, which works with the installed fedsched.
set -u
# shellcheck source=tests/integration/lib/common.sh
. "$(dirname "$0")/lib/common.sh"

need fedsched
FED=$(command -v fedsched)
BUILD=$(dirname "$FED")

log "--version: the version and protocol version of the sources"
expect_code 0 fedsched --version
want_v=$(sed -n 's/^project(fedsched VERSION \([0-9.]*\).*/\1/p' "$REPO_ROOT/CMakeLists.txt")
want_p=$(sed -n 's/^#define FS_PROTO_VERSION \([0-9]*\).*/\1/p' "$REPO_ROOT/common/msg.h")
if [ -z "$want_v" ] || [ -z "$want_p" ]; then fail "cannot read the version from the sources"; fi
[ "$(echo "$OUT" | sed -n 1p)" = "fedsched $want_v" ] || fail "--version's first line: $OUT"
echo "$OUT" | grep -qx "protocol $want_p" || fail "--version lacks 'protocol $want_p': $OUT"
echo "$OUT" | grep -q "^build: " || fail "--version lacks the build options: $OUT"

fed_up 2 --data demo
# shellcheck source=cli/completion.bash
. "$REPO_ROOT/cli/completion.bash"

# complete WORDS...: what completing the last word offers, one a line.
complete_words() {
    local COMP_WORDS=("$@") COMP_CWORD=$(($# - 1)) COMPREPLY=()
    _fedsched
    printf '%s\n' "${COMPREPLY[@]}"
}
has() { printf '%s\n' "$1" | grep -qxF -- "$2"; }

log "every verb completes, and offers every option it parses"
mapfile -t VERBS < <(fedsched --help | awk '/^verbs:/ { f = 1; next } f && /^  [a-z]/ { print $1 } f && /^$/ { exit }')
[ ${#VERBS[@]} -ge 20 ] || fail "fedsched --help lists only ${#VERBS[@]} verbs"
nopts=0
for v in "${VERBS[@]}"; do
    got=$(complete_words fedsched "${v:0:2}")
    has "$got" "$v" || fail "'fedsched ${v:0:2}<TAB>' does not offer '$v' (got: $got)"
    expect_code 0 fedsched "$v" --help
    line=$(echo "$OUT" | sed -n 's/^options: //p')
    [ -n "$line" ] || fail "'fedsched $v --help' has no options: line"
    # The options the usage line names (written by hand) are among those parsed.
    usage=$(echo "$OUT" | sed -n '1,/^$/p' | grep -o -- '--[a-z][a-z-]*' | sort -u)
    offered=$(complete_words fedsched "$v" --)
    for o in $line $usage; do
        o=${o%=}
        has "$offered" "$o" || fail "'fedsched $v --<TAB>' does not offer $o (got: $offered)"
        nopts=$((nopts + 1))
    done
done
log "${#VERBS[@]} verbs, $nopts options offered"
expect_error 2 fedsched get x --no-such-option -o "$FED_DIR/x.h5"

log "site names, datasets by prefix and job ids complete from the federation"
got=$(complete_words fedsched drain s)
[ "$(echo "$got" | sort | tr '\n' ' ')" = "site1 site2 " ] || fail "drain s<TAB>: $got"
got=$(complete_words fedsched --scheduler "$FEDSCHED_SCHEDULER" publish "")
has "$got" site2 || fail "publish <TAB> with --scheduler: $got"
got=$(complete_words fedsched get site2/demo/climate/t)
[ "$got" = site2/demo/climate/temp ] || fail "get site2/demo/climate/t<TAB>: $got"
got=$(complete_words fedsched policy site1 site1/demo/mask/)
[ "$got" = site1/demo/mask/land ] || fail "policy site1 site1/demo/mask/<TAB>: $got"
got=$(complete_words fedsched get x --reduce m)
[ "$(echo "$got" | sort | tr '\n' ' ')" = "max: mean: min: " ] || fail "--reduce m<TAB>: $got"
cat >"$FED_DIR/one.yaml" <<'EOF'
version: 1
tasks:
  - {name: a, command: ["true"]}
EOF
expect_code 0 fedsched submit "$FED_DIR/one.yaml"
JOB=$OUT
got=$(complete_words fedsched status "")
has "$got" "$JOB" || fail "status <TAB> does not offer job $JOB: $got"
# A federation that does not answer costs the completion its timeout, no more.
t0=$SECONDS
got=$(FEDSCHED_COMPLETION_TIMEOUT=1 complete_words fedsched --scheduler tcp://127.0.0.1:1 drain "")
if [ -n "$got" ] || [ $((SECONDS - t0)) -gt 5 ]; then
    fail "completion against no scheduler: '$got' after $((SECONDS - t0)) s"
fi

log "cmake --install puts fedsched, fedsched-monitor and the completion in place"
[ -f "$BUILD/cmake_install.cmake" ] || skip "no cmake_install.cmake beside $FED"
PREFIX="$FED_DIR/prefix"
cmake --install "$BUILD" --prefix "$PREFIX" >"$FED_DIR/install.log" 2>&1 || {
    cat "$FED_DIR/install.log" >&2
    fail "cmake --install failed"
}
for f in bin/fedsched bin/fedsched-monitor; do
    [ -x "$PREFIX/$f" ] || fail "$f not installed (see $FED_DIR/install.log)"
done
COMP="$PREFIX/share/bash-completion/completions/fedsched"
[ -f "$COMP" ] || fail "the completion is not installed at $COMP"
got=$(PATH="$PREFIX/bin:/usr/bin:/bin" bash -c '. "$1"; COMP_WORDS=(fedsched li); COMP_CWORD=1; _fedsched; echo "${COMPREPLY[*]}"' _ "$COMP")
[ "$got" = links ] || fail "the installed completion with the installed fedsched: 'fedsched li<TAB>' gave '$got'"
expect_code 0 "$PREFIX/bin/fedsched" --version
log "version, completion and installation are in step with the program"
