"""Slices and reductions read through fedsched equal h5py's reads of the source
files: random basic-slicing keys over every element type (both byte orders),
chunked and compressed data, 0-d and empty results, streamed and local reads,
reading into a given array, and reductions against NumPy's own."""
import os
import zlib

import h5py
import numpy as np
import pytest

import fedsched
from conftest import TYPES, types_names


def random_key(rng, shape):
    """A NumPy basic-slicing key for shape: slices with steps and negative or
    out-of-range bounds, integers (negative too), fewer keys than dimensions
    sometimes, and sometimes an Ellipsis with keys for the last dimensions
    after it."""
    nd = len(shape)

    def one(n):
        if rng.random() < 0.3 and n > 0:
            return int(rng.integers(-n, n))

        def bound():
            return None if rng.random() < 0.3 else int(rng.integers(-n - 3, n + 4))
        step = None if rng.random() < 0.4 else int(rng.integers(1, 5))
        return slice(bound(), bound(), step)

    front = int(rng.integers(0, nd + 1))
    key = [one(shape[d]) for d in range(front)]
    if front < nd and rng.random() < 0.4:
        back = int(rng.integers(0, nd - front + 1))
        key += [Ellipsis] + [one(shape[d]) for d in range(nd - back, nd)]
    return tuple(key)


@pytest.fixture(scope="module")
def files(fed):
    return {"types": os.path.join(fed.root("site1"), "types.h5"),
            "sst": os.path.join(fed.root("site1"), "cf", "sst", "monthly.nc")}


@pytest.mark.parametrize("t", TYPES)
def test_random_slices_every_type(fs, files, t):
    name = types_names("site1")[t]
    ds = fs[name]
    rng = np.random.default_rng(zlib.crc32(t.encode()))
    with h5py.File(files["types"], "r") as f:
        src = f[name.rsplit("/", 1)[1]]
        whole = src[()]
        assert ds.shape == src.shape
        assert ds.dtype == src.dtype.newbyteorder("=")
        for _ in range(12):
            key = random_key(rng, src.shape)
            want = whole[key]           # NumPy's own semantics on h5py's read
            got = ds[key]
            assert isinstance(got, np.ndarray), (key, type(got))
            assert got.shape == np.shape(want), (key, got.shape, np.shape(want))
            assert got.dtype == np.dtype(t).newbyteorder("="), (key, got.dtype)
            np.testing.assert_array_equal(got, want, err_msg=str(key))


def test_random_slices_chunked_streamed_and_local(fed, files):
    """The same slices through local reads (a site on this host) and streamed."""
    local = fedsched.connect(local_reads=True)
    streamed = fedsched.connect(local_reads=False)
    rng = np.random.default_rng(3)
    with h5py.File(files["types"], "r") as f:
        for name in ("chunked", "big"):
            src = f[name][()]
            for _ in range(10):
                key = random_key(rng, src.shape)
                want = src[key]
                for c in (local, streamed):
                    got = c["site1/types/" + name][key]
                    np.testing.assert_array_equal(got, want, err_msg="%s %s" % (name, key))


def test_whole_dataset_and_numpy_protocol(fs, files):
    ds = fs["site1/cf/sst/monthly/sst"]
    with h5py.File(files["sst"], "r") as f:
        want = f["sst"][()]
    np.testing.assert_array_equal(ds[...], want)
    np.testing.assert_array_equal(ds[()], want)
    np.testing.assert_array_equal(np.asarray(ds), want)
    assert len(ds) == 120 and ds.ndim == 3 and ds.size == want.size and ds.nbytes == want.nbytes


def test_zero_d_results(fs, files):
    scalar = fs["site1/types/scalar"]
    assert scalar.shape == ()
    a = scalar[()]
    assert isinstance(a, np.ndarray) and a.shape == () and a.dtype == np.float64 and a == 3.25
    a = scalar[...]
    assert a.shape == () and a == 3.25
    ds = fs["site1/cf/sst/monthly/sst"]
    with h5py.File(files["sst"], "r") as f:
        want = f["sst"][5, -1, 7]
    a = ds[5, -1, 7]
    assert isinstance(a, np.ndarray) and a.shape == () and a.dtype == np.float32
    assert a == want


def test_empty_results(fs):
    ds = fs["site1/cf/sst/monthly/sst"]
    for key, shape in (((slice(5, 5),), (0, 18, 36)), ((slice(200, None), 0), (0, 36)),
                       ((slice(None), slice(10, 3), 0), (120, 0)), ((slice(-1, 0), Ellipsis), (0, 18, 36))):
        a = ds[key]
        assert isinstance(a, np.ndarray) and a.shape == shape and a.dtype == np.float32, key
        assert np.empty((120, 18, 36), dtype="float32")[key].shape == shape
    empty = fs["site1/types/empty"]
    assert empty.shape == (0, 4)
    a = empty[:, 1:3]
    assert a.shape == (0, 2) and a.dtype == np.int16


def test_read_into_given_array(fs, files):
    ds = fs["site1/types/big"]
    out = np.full((10, 1024), -1.0)
    got = ds.read(np.s_[100:110], out=out)
    assert got is out
    with h5py.File(files["types"], "r") as f:
        np.testing.assert_array_equal(out, f["big"][100:110])
    with pytest.raises(fedsched.InvalidInput):
        ds.read(np.s_[100:111], out=out)
    with pytest.raises(fedsched.InvalidInput):
        ds.read(np.s_[100:110], out=np.zeros((10, 1024), dtype="float32"))


def block_reduce(a, op, blocks):
    """NumPy's block reduction with partial blocks trimmed (xarray's coarsen,
    boundary="trim")."""
    sl = tuple(slice(0, (n // b) * b) for n, b in zip(a.shape, blocks))
    a = a[sl]
    shape = []
    for n, b in zip(a.shape, blocks):
        shape += [n // b, b]
    r = a.reshape(shape)
    axes = tuple(range(1, 2 * len(blocks), 2))
    return {"mean": np.mean, "sum": np.sum, "min": np.min, "max": np.max}[op](
        r.astype("float64") if op in ("mean", "sum") else r, axis=axes)


@pytest.mark.parametrize("op", ["mean", "sum", "min", "max"])
def test_reductions(fs, files, op):
    ds = fs["site1/cf/sst/monthly/sst"]
    with h5py.File(files["sst"], "r") as f:
        src = f["sst"][()]
    got = ds.reduce(op, (12, 4, 5))
    want = block_reduce(src, op, (12, 4, 5))
    assert got.shape == want.shape == (10, 4, 7)
    assert got.dtype == (np.float64 if op in ("mean", "sum") else np.float32)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    # a reduction of a slice: blocks over the result's dimensions
    got = ds.reduce(op, (4, 3), key=(slice(0, 24), 3))
    want = block_reduce(src[0:24, 3], op, (4, 3))
    assert got.shape == want.shape == (6, 12)
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_reduction_satisfying_aggregate(fs):
    """An aggregate dataset: a sum over whole cells leaves the site; raw reads do not."""
    ds = fs["site2/closed/counts/n"]
    got = ds.reduce("sum", (4, 4))
    want = block_reduce(np.arange(64, dtype="int32").reshape(8, 8), "sum", (4, 4))
    np.testing.assert_array_equal(got, want)
    with pytest.raises(fedsched.Refused):
        ds[0:4, 0:4]


def test_suppressed_blocks_warn(fs):
    """An aggregate policy with a threshold: blocks summing below it arrive as NaN,
    and the read says how many with a RuntimeWarning."""
    with pytest.warns(RuntimeWarning, match="2 of 4 blocks suppressed"):
        got = fs["site2/closed/sparse/n"].reduce("sum", (4, 4))
    want = block_reduce(np.arange(64, dtype="int32").reshape(8, 8), "sum", (4, 4))
    assert np.isnan(got[0]).all() and (got[1] == want[1]).all(), got
