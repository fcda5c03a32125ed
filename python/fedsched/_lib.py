"""libfedsched through ctypes: finding the library, its functions' types, and
turning its errors into exceptions.

The library is found through $FEDSCHED_LIBRARY (a path to libfedsched.so),
else beside the `fedsched` command on PATH (the build tree keeps them side by
side; an installation has bin/fedsched and lib/libfedsched.so), else on the
system's library path.
"""
import ctypes
import ctypes.util
import json
import os
import shutil
import threading

from . import errors

API_VERSION = 1

_lock = threading.Lock()
_lib = None


def _candidates():
    env = os.environ.get("FEDSCHED_LIBRARY")
    if env:
        return [env], True
    found = []
    exe = shutil.which("fedsched")
    if exe:
        d = os.path.dirname(os.path.realpath(exe))
        for rel in (".", "../lib", "../lib64", "../lib/x86_64-linux-gnu"):
            found.append(os.path.normpath(os.path.join(d, rel, "libfedsched.so")))
    system = ctypes.util.find_library("fedsched")
    found.append(system or "libfedsched.so.1")
    return found, False


def load():
    """The library, loaded once; Error when it can't be found or is too old."""
    global _lib
    with _lock:
        if _lib is not None:
            return _lib
        paths, explicit = _candidates()
        tried = []
        lib = None
        for p in paths:
            if os.path.isabs(p) and not os.path.exists(p):
                tried.append(p + " (no such file)")
                continue
            try:
                lib = ctypes.CDLL(p)
                break
            except OSError as e:
                tried.append("%s (%s)" % (p, e))
        if lib is None:
            how = "$FEDSCHED_LIBRARY" if explicit else "beside fedsched on PATH, or the system's path"
            raise errors.Error("cannot load libfedsched (looked at %s): %s" % (how, "; ".join(tried)))
        _declare(lib)
        api = ctypes.c_int(0)
        lib.fs_version(ctypes.byref(api))
        if api.value < API_VERSION:
            raise errors.Error("libfedsched at %s has API %d; this package needs %d"
                               % (lib._name, api.value, API_VERSION))
        _lib = lib
        return lib


def _declare(lib):
    c_char_p, c_void_p, c_int, c_double = ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_double
    errp = ctypes.POINTER(c_void_p)
    sig = {
        "fs_version": (c_char_p, [ctypes.POINTER(c_int)]),
        "fs_error_code": (c_int, [c_void_p]),
        "fs_error_message": (c_char_p, [c_void_p]),
        "fs_error_free": (None, [c_void_p]),
        "fs_free": (None, [c_void_p]),
        "fs_options_new": (c_void_p, []),
        "fs_options_set": (c_int, [c_void_p, c_char_p, c_char_p, errp]),
        "fs_options_free": (None, [c_void_p]),
        "fs_connect": (c_void_p, [c_void_p, errp]),
        "fs_close": (None, [c_void_p]),
        "fs_catalog": (c_void_p, [c_void_p, c_char_p, ctypes.POINTER(c_char_p), errp]),
        "fs_search": (c_void_p, [c_void_p, c_char_p, c_int, errp]),
        "fs_info": (c_void_p, [c_void_p, c_char_p, errp]),
        "fs_read_open": (c_void_p, [c_void_p, c_char_p, c_char_p, errp]),
        "fs_read_close": (None, [c_void_p]),
        "fs_read_ndims": (c_int, [c_void_p]),
        "fs_read_shape": (ctypes.POINTER(ctypes.c_uint64), [c_void_p]),
        "fs_read_dtype": (c_char_p, [c_void_p]),
        "fs_read_bytes": (ctypes.c_uint64, [c_void_p]),
        "fs_read_into": (c_int, [c_void_p, c_void_p, ctypes.c_size_t, errp]),
        "fs_read_to_file": (c_int, [c_void_p, c_char_p, c_char_p, errp]),
        "fs_read_report": (c_void_p, [c_void_p]),
        "fs_validate": (c_void_p, [c_void_p, c_char_p, errp]),
        "fs_submit": (ctypes.c_int64, [c_void_p, c_char_p, c_char_p, errp]),
        "fs_job_status": (c_void_p, [c_void_p, ctypes.c_int64, errp]),
        "fs_job_wait": (c_void_p, [c_void_p, ctypes.c_int64, c_double, c_void_p, c_void_p, errp]),
        "fs_job_cancel": (c_void_p, [c_void_p, ctypes.c_int64, c_char_p, errp]),
        "fs_call": (c_void_p, [c_void_p, c_char_p, c_char_p, c_double, errp]),
    }
    for name, (res, args) in sig.items():
        f = getattr(lib, name)
        f.restype = res
        f.argtypes = args


def enc(s):
    """Text for the library (UTF-8 bytes), or None."""
    if s is None:
        return None
    if isinstance(s, bytes):
        return s
    return str(s).encode("utf-8", "surrogateescape")


class Err:
    """An out-parameter for the library's errors: `e = Err(); f(..., e.ref)`,
    then `e.raise_()` when f failed."""

    def __init__(self):
        self.ptr = ctypes.c_void_p()
        self.ref = ctypes.byref(self.ptr)

    def raise_(self, what=None):
        lib = load()
        if not self.ptr.value:
            raise errors.Error("%s failed (out of memory?)" % (what or "the request"))
        code = lib.fs_error_code(self.ptr)
        msg = lib.fs_error_message(self.ptr).decode("utf-8", "replace")
        lib.fs_error_free(self.ptr)
        self.ptr = ctypes.c_void_p()
        raise errors.from_code(code, msg)


def text(ptr, err, what=None):
    """The library's JSON text at ptr (freed here) parsed; raise err's error
    when ptr is NULL."""
    if not ptr:
        err.raise_(what)
    lib = load()
    try:
        return json.loads(ctypes.string_at(ptr).decode("utf-8"))
    finally:
        lib.fs_free(ptr)
