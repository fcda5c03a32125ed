"""Datasets as dask arrays and xarray DataArrays (when those are installed).

A dask array's graph holds one task per chunk; each reads its slice through
read_block, a plain function of (connection options, name, slices), so the
graph pickles and runs under any dask scheduler: every worker thread reads on
a connection of its own.
"""
import warnings

from . import errors
from .client import _handle, _index_text, Client


def read_block(options, name, slices):
    """The block of dataset name at slices (a tuple of slice objects)."""
    c = Client.__new__(Client)
    c._options = options
    text = name if not slices else "%s[%s]" % (name, ", ".join(_index_text(tuple(slices))))
    _handle(options)
    return c.read(text)


def to_dask(ds, chunks=None):
    try:
        import dask.array as da
        from dask.base import tokenize
    except ImportError:
        raise errors.Error("to_dask needs dask (Debian: apt-get install python3-dask)") from None
    if chunks is None:
        chunks = ds.chunks if ds.chunks and all(ds.chunks) else "auto"
    chunks = da.core.normalize_chunks(chunks, ds.shape, dtype=ds.dtype, previous_chunks=ds.chunks)
    name = "fedsched-%s" % tokenize(ds.name, ds.info.get("version"), ds._client._options, chunks)
    bounds = []
    for c in chunks:
        edges, at = [], 0
        for n in c:
            edges.append(slice(at, at + n))
            at += n
        bounds.append(edges)
    dsk = {}

    def walk(d, idx, sl):
        if d == len(chunks):
            dsk[(name,) + idx] = (read_block, ds._client._options, ds.name, tuple(sl))
            return
        for i, s in enumerate(bounds[d]):
            walk(d + 1, idx + (i,), sl + [s])

    walk(0, (), [])
    return da.Array(dsk, name, chunks, dtype=ds.dtype)


def _clean_attrs(attrs):
    """Attributes as xarray keeps them: summaries of values the catalog did
    not keep whole become their text."""
    out = {}
    for k, v in attrs.items():
        if isinstance(v, dict) and "summary" in v:
            v = v["summary"] + (": " + v["text"] if v.get("text") else "")
        out[k] = v
    return out


def dataarray(ds, chunks=None, decode_times=True):
    try:
        import xarray as xr
    except ImportError:
        raise errors.Error("open_dataarray needs xarray (Debian: apt-get install python3-xarray)") from None
    data = to_dask(ds, chunks)
    coords = {}
    for i, d in enumerate(ds.dim_info[:ds.ndim]):
        src = d.get("dataset")
        if not src or src == ds.name and ds.ndim != 1:
            continue
        try:
            values = ds._client[src][()] if src != ds.name else None
        except errors.Error as e:
            warnings.warn("coordinates of dimension %s (%s) not read: %s" % (ds.dims[i], src, e))
            continue
        if values is None:
            values = data.compute()
        if values.shape != (ds.shape[i],):
            continue
        attrs = dict(_clean_attrs(d.get("attrs", {})))
        coords[ds.dims[i]] = xr.Variable(ds.dims[i], values, attrs=attrs)
    short = ds.name.rsplit("/", 1)[-1]
    arr = xr.DataArray(data, dims=ds.dims, coords=coords, attrs=_clean_attrs(ds.attrs), name=short)
    if decode_times and any("since" in str(v.attrs.get("units", "")) for v in coords.values()):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                decoded = xr.decode_cf(arr.to_dataset(), mask_and_scale=False, decode_times=True,
                                       decode_coords=False)
            arr = decoded[short]
        except Exception as e:      # a calendar xarray can't decode without cftime
            warnings.warn("time coordinates of %s left as numbers: %s" % (ds.name, e))
    arr.attrs["fedsched_name"] = ds.name
    return arr


def open_dataarray(name, chunks=None, client=None, decode_times=True):
    """The dataset called name as an xarray.DataArray, lazy through dask, with
    coordinates read from its dimension scales (the datasets the catalog names
    for its dimensions) and times decoded as xarray decodes CF files."""
    if client is None:
        from .client import connect
        client = connect()
    return dataarray(client[name], chunks, decode_times)
