"""Connections, datasets and jobs (see the package's docstring)."""
import ctypes
import operator
import threading
import warnings

import numpy as np

from . import _lib, errors


def _options(scheduler, keys, timeout, local_reads):
    opts = {}
    if scheduler is not None:
        opts["scheduler"] = str(scheduler)
    if keys is not None:
        opts["keys"] = str(keys)
    if timeout is not None:
        opts["timeout"] = repr(float(timeout))
    if local_reads is not None:
        opts["local_reads"] = "1" if local_reads else "0"
    return tuple(sorted(opts.items()))


def _open(options):
    """A new library connection with options ((name, value), ...)."""
    lib = _lib.load()
    o = lib.fs_options_new()
    if not o:
        raise errors.Error("out of memory")
    try:
        for k, v in options:
            e = _lib.Err()
            if lib.fs_options_set(o, _lib.enc(k), _lib.enc(v), e.ref) < 0:
                e.raise_()
        e = _lib.Err()
        h = lib.fs_connect(o, e.ref)
        if not h:
            e.raise_("connect")
        return h
    finally:
        lib.fs_options_free(o)


# Connections per (options, thread): a library connection serves one thread at
# a time, and dask reads blocks from several.
_local = threading.local()


def _handle(options):
    cache = getattr(_local, "handles", None)
    if cache is None:
        cache = _local.handles = {}
    h = cache.get(options)
    if h is None:
        h = cache[options] = _Handle(_open(options))
    return h.ptr


class _Handle:
    """A library connection, closed when the last reference goes."""

    def __init__(self, ptr):
        self.ptr = ptr

    def __del__(self):
        lib = _lib._lib
        if lib is not None and self.ptr:
            lib.fs_close(self.ptr)
            self.ptr = None


def connect(scheduler=None, keys=None, timeout=None, local_reads=None):
    """A connection to the federation's scheduler.

    scheduler, keys: as the command's --scheduler and --keys (default:
    $FEDSCHED_SCHEDULER, else tcp://127.0.0.1:7700; $FEDSCHED_KEYS);
    timeout: seconds of silence before a peer counts as unreachable (default
    $FEDSCHED_TIMEOUT, else 10); local_reads: copy slices of a site on this
    host from its file (default on, $FEDSCHED_LOCAL_READS=0 turns it off).
    Raises Unreachable when the scheduler does not answer."""
    return Client(_options(scheduler, keys, timeout, local_reads))


class Client:
    """A connection to a federation: its catalog, its datasets, its jobs.
    Usable from several threads (each gets a connection of its own)."""

    def __init__(self, options=()):
        self._options = options
        self._h = _handle(options)
        # Is anyone there?  ping says which federation (Unreachable otherwise).
        self.federation = self.call("ping").get("federation", "")

    def __repr__(self):
        return "<fedsched.Client federation=%r>" % self.federation

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    @property
    def _ptr(self):
        return _handle(self._options)

    def _call(self, fn, *args, what=None):
        e = _lib.Err()
        return _lib.text(fn(self._ptr, *args, e.ref), e, what)

    # --- the catalog ---------------------------------------------------

    def search(self, text, limit=20):
        """Datasets ranked by how well they match the words of text: a list of
        {name, score, shape, dtype, policy, matched}, best first."""
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise errors.InvalidInput("limit must be a positive integer, not %r" % (limit,))
        return self._call(_lib.load().fs_search, _lib.enc(text), limit)

    def catalog(self, glob=None, where=None):
        """The catalog's datasets (dicts: name, shape, dtype, chunks, bytes,
        replicas, policy) whose names match glob and that meet where: a
        "KEY=VALUE" or "KEY~TEXT" string, a list of them (all must hold), or a
        dict {KEY: VALUE} of equalities (see `fedsched catalog --help`)."""
        conds = []
        if isinstance(where, str):
            conds = [where]
        elif isinstance(where, dict):
            for k, v in where.items():
                if isinstance(v, bool):
                    v = "true" if v else "false"
                conds.append("%s=%s" % (k, v))
        elif where is not None:
            conds = [str(c) for c in where]
        arr = None
        if conds:
            arr = (ctypes.c_char_p * (len(conds) + 1))(*[_lib.enc(c) for c in conds], None)
        return self._call(_lib.load().fs_catalog, _lib.enc(glob), arr)

    def info(self, name):
        """Everything the catalog knows of one dataset (the `info --json` object)."""
        return self._call(_lib.load().fs_info, _lib.enc(name))

    def __getitem__(self, name):
        """The dataset called name (NotFound when there is none)."""
        return Dataset(self, name, self.info(name))

    # --- reading -------------------------------------------------------

    def read(self, slice_text, reduce=None, out=None):
        """Read a slice given as text ("NAME[0:12, ::2, 100]") into a new
        numpy.ndarray (or into out, a C-contiguous array of the result's shape
        and type), with an optional reduction "OP:B1,B2,..".  The array is
        allocated once and the bytes land in it directly."""
        lib = _lib.load()
        e = _lib.Err()
        r = lib.fs_read_open(self._ptr, _lib.enc(slice_text), _lib.enc(reduce), e.ref)
        if not r:
            e.raise_("read")
        try:
            n = lib.fs_read_ndims(r)
            sp = lib.fs_read_shape(r)
            shape = tuple(int(sp[i]) for i in range(n))
            dtype = np.dtype(lib.fs_read_dtype(r).decode())
            if out is None:
                out = np.empty(shape, dtype=dtype)
            elif (out.shape != shape or out.dtype != dtype or not out.flags.c_contiguous
                  or not out.flags.writeable):
                raise errors.InvalidInput("out must be a writeable C-contiguous %s array of shape %s"
                                          % (dtype, shape))
            e = _lib.Err()
            ptr = out.ctypes.data if out.nbytes else None
            if lib.fs_read_into(r, ptr, out.nbytes, e.ref) < 0:
                e.raise_("read")
            rep = _lib.text(lib.fs_read_report(r), _lib.Err(), "read")
            if rep.get("suppress_below"):
                # An aggregate policy's threshold: blocks whose sums fell below it are NaN.
                warnings.warn("%d of %d blocks suppressed (NaN): their sums are below %d, the "
                              "threshold of the dataset's policy" % (rep.get("suppressed", 0),
                              max(out.size, 1), rep["suppress_below"]), RuntimeWarning, stacklevel=3)
            return out
        finally:
            lib.fs_read_close(r)

    # --- jobs ----------------------------------------------------------

    def validate(self, file):
        """Check a job file against the catalog: {name, tasks}; InvalidInput
        with every FILE:LINE:COL problem otherwise."""
        return self._call(_lib.load().fs_validate, _lib.enc(file))

    def submit(self, file, token=None):
        """Submit a job file; the Job it made."""
        e = _lib.Err()
        jid = _lib.load().fs_submit(self._ptr, _lib.enc(file), _lib.enc(token), e.ref)
        if jid < 0:
            e.raise_("submit")
        return Job(self, jid)

    def job(self, jid):
        """The job with id jid (its status is asked when used)."""
        return Job(self, operator.index(jid))

    def call(self, op, body=None, timeout=None):
        """Any request of docs/protocol.md: the reply's body as a dict."""
        import json
        return self._call(_lib.load().fs_call, _lib.enc(op),
                          _lib.enc(json.dumps(body)) if body is not None else None,
                          -1.0 if timeout is None else float(timeout))


def _index_text(key):
    """NumPy basic indexing as the slice syntax of SPEC section 2."""
    if not isinstance(key, tuple):
        key = (key,)
    parts = []
    for k in key:
        if k is Ellipsis:
            parts.append("...")
        elif isinstance(k, slice):
            f = []
            for v in (k.start, k.stop, k.step):
                if v is None:
                    f.append("")
                elif isinstance(v, (bool, np.bool_)):
                    raise errors.InvalidInput("slice bounds must be integers, not %r" % (v,))
                else:
                    try:
                        f.append(str(operator.index(v)))
                    except TypeError:
                        raise errors.InvalidInput("slice bounds must be integers, not %r" % (v,)) from None
            if k.step is not None and operator.index(k.step) <= 0:
                raise errors.InvalidInput("step %d: steps must be positive" % operator.index(k.step))
            parts.append(":".join(f) if f[2] else "%s:%s" % (f[0], f[1]))
        elif k is None:
            raise errors.InvalidInput("numpy.newaxis (None) is not supported: add the axis to the "
                                      "result afterwards")
        elif isinstance(k, (bool, np.bool_)):
            raise errors.InvalidInput("boolean indexing is not supported (basic slicing only)")
        else:
            try:
                parts.append(str(operator.index(k)))
            except TypeError:
                raise errors.InvalidInput("%r: fancy indexing (lists, arrays) is not supported; "
                                          "use integers, slices and ..." % (k,)) from None
    return parts


class Dataset:
    """A dataset of the federation: .name, .shape, .dtype, .chunks, .attrs,
    .file_attrs, .dims (names), .dim_info (the dimensions as info has them),
    .policy, .info (everything), and NumPy basic slicing:

        ds[0:12, ::2, 100]     -> numpy.ndarray of NumPy's result shape
        ds.reduce("mean", (1, 4, 4))   -> block means computed at the source
    """

    def __init__(self, client, name, info):
        self._client = client
        self.name = info["name"]
        self.info = info
        self.shape = tuple(info["shape"])
        self.dtype = np.dtype(info["dtype"])
        self.chunks = tuple(info["chunks"]) if info.get("chunks") else None
        self.attrs = info.get("attrs", {})
        self.file_attrs = info.get("file_attrs", {})
        self.dim_info = info.get("dims", [])
        self.policy = info.get("policy")
        names = []
        for i in range(len(self.shape)):
            d = self.dim_info[i] if i < len(self.dim_info) else {}
            names.append(d.get("name") or "dim_%d" % i)
        self.dims = tuple(names)

    def __repr__(self):
        return "<fedsched.Dataset %s %s %s>" % (self.name, self.shape, self.dtype)

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self):
        return self.size * self.dtype.itemsize

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d dataset")
        return self.shape[0]

    def _text(self, key):
        if isinstance(key, tuple) and not key:
            return self.name
        return "%s[%s]" % (self.name, ", ".join(_index_text(key)))

    def __getitem__(self, key):
        return self._client.read(self._text(key))

    def __array__(self, dtype=None):
        a = self._client.read(self.name)
        return a if dtype is None else a.astype(dtype)

    def read(self, key=(), out=None):
        """ds.read(key) is ds[key]; out: an array to read into."""
        return self._client.read(self._text(key), out=out)

    def reduce(self, op, blocks, key=()):
        """The block reduction op (mean, sum, min, max) over blocks of the
        given sizes (one per dimension of the selected slice, key), computed
        at the source site: mean and sum give float64, min and max keep the
        type; partial blocks at the high edges are dropped."""
        if isinstance(blocks, int):
            blocks = (blocks,)
        spec = "%s:%s" % (op, ",".join(str(operator.index(b)) for b in blocks))
        return self._client.read(self._text(key), reduce=spec)

    def to_dask(self, chunks=None):
        """A lazy dask array of the dataset whose chunks are read when computed
        (chunks: as dask takes them; default the dataset's HDF5 chunks, else
        dask's "auto")."""
        from ._dask import to_dask
        return to_dask(self, chunks)

    def to_xarray(self, chunks=None, decode_times=True):
        """An xarray.DataArray (lazy through dask) with coordinates from the
        dimension scales; see fedsched.open_dataarray."""
        from ._dask import dataarray
        return dataarray(self, chunks, decode_times)


class Job:
    """A submitted job: .id, .status(), .state, .wait(timeout), .cancel()."""

    def __init__(self, client, jid):
        self._client = client
        self.id = jid

    def __repr__(self):
        return "<fedsched.Job %d>" % self.id

    def status(self):
        """The job's status: {id, name, state, submitted, ended, tasks: [...]}."""
        return self._client._call(_lib.load().fs_job_status, self.id)

    @property
    def state(self):
        return self.status()["state"]

    def wait(self, timeout=None):
        """Wait until the job ends (COMPLETED, FAILED or CANCELLED): its final
        status.  Timeout when timeout seconds pass first."""
        t = -1.0 if timeout is None else float(timeout)
        if t < 0 and timeout is not None:
            raise errors.InvalidInput("timeout must be >= 0 seconds")
        return self._client._call(_lib.load().fs_job_wait, self.id, t, None, None)

    def cancel(self, token=None):
        """Cancel the job and kill its running tasks: its state afterwards."""
        return self._client._call(_lib.load().fs_job_cancel, self.id, _lib.enc(token))["state"]
