#!/usr/bin/env bash
# libfedsched installed and used (issue 12, items 3-4): `cmake --install` of the build
# into a temporary prefix gives bin/fedsched, bin/fedsched-monitor, the library (its
# exported symbols fs_* alone), include/fedsched.h, the pkg-config file and the Python
# package; a C program compiled with `pkg-config --cflags --libs fedsched` connects,
# searches, reads a slice into its buffer (checked against h5py) and into a new HDF5
# file, and gets the library's error codes (invalid slice 2, unknown dataset 3, policy
# 1, unreachable 75, bad options 2); the installed package imports from the prefix with
# the library found beside the installed fedsched (no PYTHONPATH to the source tree, no
# FEDSCHED_LIBRARY).
set -u
# shellcheck source=tests/integration/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
need h5py
need cc
need pkg-config

BUILD=$(dirname "$(command -v fedsched)")
[ -f "$BUILD/cmake_install.cmake" ] || { echo "[$TEST_NAME] SKIP: $BUILD is not a build tree"; exit 77; }
fed_dir
R1="$FED_DIR/sites/site1/data"
mkdir -p "$R1/cf" "$FED_DIR/sites/site2/data/closed"
py "$(dirname "$0")/lib/cf_corpus.py" "$R1/cf" >/dev/null || fail "cf_corpus.py failed"
py - "$FED_DIR/sites/site2/data/closed/x.h5" <<'PY'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "w") as f:
    f.create_dataset("v", data=np.ones((3, 3), dtype="int8"))
PY
fed_up 2
expect_code 0 fedsched publish site2 closed --policy none

PREFIX="$FED_DIR/prefix"
log "cmake --install into $PREFIX"
cmake --install "$BUILD" --prefix "$PREFIX" >"$FED_DIR/install.log" 2>&1 || { cat "$FED_DIR/install.log" >&2; fail "cmake --install failed"; }
for f in bin/fedsched bin/fedsched-monitor include/fedsched.h; do
    [ -e "$PREFIX/$f" ] || fail "cmake --install did not install $f"
done
LIBSO=$(find "$PREFIX" -name 'libfedsched.so' | head -1)
[ -n "$LIBSO" ] || fail "no libfedsched.so under $PREFIX"
PC=$(find "$PREFIX" -name fedsched.pc | head -1)
[ -n "$PC" ] || fail "no fedsched.pc under $PREFIX"
PYDIR=$(find "$PREFIX" -type d -path '*dist-packages/fedsched' | head -1)
[ -n "$PYDIR" ] || fail "the Python package was not installed"
bad=$(nm -D --defined-only "$LIBSO" | awk '$2 ~ /^[TDBRW]$/ && $3 !~ /^fs_/ {print $3}')
[ -z "$bad" ] || fail "libfedsched exports symbols outside fs_*: $bad"

# A library built with the sanitizers (build-asan) needs them in its programs too,
# and their runtimes preloaded into python3 (without leak checks: the interpreter's).
SAN_CFLAGS=()
SAN_PY=()
if ldd "$LIBSO" | grep -q libasan; then
    SAN_CFLAGS=(-fsanitize=address,undefined)
    SAN_PY=(LD_PRELOAD="$(cc -print-file-name=libasan.so):$(cc -print-file-name=libubsan.so)"
        ASAN_OPTIONS=detect_leaks=0)
fi

log "a C program built with pkg-config fedsched"
cat >"$FED_DIR/client.c" <<'C'
#include <fedsched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int expect_code (struct fs_error *e, int want, const char *what)
{
    int got = fs_error_code (e);
    printf ("%s: code %d: %s\n", what, got, fs_error_message (e));
    fs_error_free (e);
    return got == want ? 0 : 1;
}

int main (int argc, char **argv)
{
    struct fs_error *e = NULL;
    int api = 0, bad = 0;
    const char *version = fs_version (&api);
    printf ("libfedsched %s api %d\n", version, api);
    struct fs_options *o = fs_options_new ();
    if (fs_options_set (o, "timeout", "soon", &e) == 0)
        return 10;
    bad += expect_code (e, FS_EINVAL, "option timeout=soon");
    if (fs_options_set (o, "colour", "red", &e) == 0)
        return 11;
    bad += expect_code (e, FS_EINVAL, "option colour");
    struct fs_client *c = fs_connect (o, &e);
    fs_options_free (o);
    if (!c) {
        fprintf (stderr, "connect: %s\n", fs_error_message (e));
        return 12;
    }
    char *pong = fs_call (c, "ping", NULL, -1, &e);
    if (!pong || !strstr (pong, "\"federation\""))
        return 21;
    fs_free (pong);
    char *hits = fs_search (c, "sea surface temperature", 1, &e);
    if (!hits)
        return 13;
    printf ("search: %s\n", hits);
    fs_free (hits);
    struct fs_read *r = fs_read_open (c, "site1/cf/sst/monthly/sst[0:12, ::2, 5]", NULL, &e);
    if (!r)
        return 14;
    printf ("shape:");
    for (int i = 0; i < fs_read_ndims (r); i++)
        printf (" %llu", (unsigned long long)fs_read_shape (r)[i]);
    printf (" dtype: %s bytes: %llu\n", fs_read_dtype (r), (unsigned long long)fs_read_bytes (r));
    size_t n = fs_read_bytes (r);
    float *buf = malloc (n);
    if (fs_read_into (r, buf, n, &e) < 0)
        return 15;
    FILE *f = fopen (argv[1], "wb");
    fwrite (buf, 1, n, f);
    fclose (f);
    free (buf);
    if (fs_read_to_file (r, argv[2], "/sst", &e) < 0)
        return 16;
    fs_read_close (r);
    if (fs_read_open (c, "site1/cf/sst/monthly/sst[::0]", NULL, &e))
        return 17;
    bad += expect_code (e, FS_EINVAL, "step 0");
    if (fs_read_open (c, "site1/no/such", NULL, &e))
        return 18;
    bad += expect_code (e, FS_ENOTFOUND, "unknown dataset");
    r = fs_read_open (c, "site2/closed/x/v", NULL, &e);
    char small[9];
    if (!r || fs_read_into (r, small, sizeof (small), &e) == 0)
        return 19;
    bad += expect_code (e, FS_EFAIL, "policy none");
    fs_read_close (r);
    fs_close (c);
    o = fs_options_new ();
    fs_options_set (o, "scheduler", "tcp://127.0.0.1:9", NULL);
    fs_options_set (o, "timeout", "1", NULL);
    c = fs_connect (o, &e);             /* nothing is sent yet */
    fs_options_free (o);
    if (!c || fs_call (c, "ping", NULL, -1, &e))
        return 20;
    bad += expect_code (e, FS_EUNREACH, "unreachable");
    fs_close (c);
    return bad;
}
C
# shellcheck disable=SC2046  # pkg-config's words are separate arguments
cc -std=c11 -Wall -Werror "${SAN_CFLAGS[@]}" -o "$FED_DIR/client" "$FED_DIR/client.c" \
    $(PKG_CONFIG_PATH="$(dirname "$PC")" pkg-config --cflags --libs fedsched) -Wl,-rpath,"$(dirname "$LIBSO")" ||
    fail "the C client does not build with pkg-config fedsched"
expect_code 0 "$FED_DIR/client" "$FED_DIR/buf.bin" "$FED_DIR/out.h5"
echo "$OUT"
case $OUT in *"shape: 12 9 dtype: float32 bytes: 432"*) ;; *) fail "C client: unexpected result shape: $OUT" ;; esac
py - "$R1/cf/sst/monthly.nc" "$FED_DIR/buf.bin" "$FED_DIR/out.h5" <<'PY' || fail "the C client's slice differs from h5py's read (above)"
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    want = f["sst"][0:12, ::2, 5]
got = np.fromfile(sys.argv[2], dtype="float32").reshape(12, 9)
assert (got == want).all(), "buffer differs"
with h5py.File(sys.argv[3], "r") as f:
    assert (f["sst"][()] == want).all() and f["sst"].dtype == want.dtype, "file differs"
PY

log "the installed Python package, the library found beside the installed fedsched"
expect_code 0 env -u FEDSCHED_LIBRARY "${SAN_PY[@]}" PYTHONPATH="$(dirname "$PYDIR")" PATH="$PREFIX/bin:$PATH" \
    /usr/bin/python3 -c '
import fedsched, sys
assert fedsched.__file__.startswith(sys.argv[1]), fedsched.__file__
from fedsched import _lib
lib = _lib.load()
assert lib._name.startswith(sys.argv[2]), lib._name
fs = fedsched.connect()
print(fs.search("salinity", limit=1)[0]["name"], fs["site1/cf/ocean/salinity/so"][0, :3].shape)
' "$PYDIR" "$PREFIX"
case $OUT in *"site1/cf/ocean/salinity/so (3,)"*) ;; *) fail "installed package: $OUT" ;; esac
expect_code 0 env -u FEDSCHED_LIBRARY "${SAN_PY[@]}" PYTHONPATH="$(dirname "$PYDIR")" PATH=/usr/bin:/bin \
    FEDSCHED_LIBRARY="$FED_DIR/none.so" /usr/bin/python3 -c '
import fedsched
try:
    fedsched.connect()
except fedsched.Error as e:
    print("error:", e)
'
case $OUT in *"cannot load libfedsched"*"none.so"*) ;; *) fail "a missing library is not reported clearly: $OUT" ;; esac
exit 0
