"""Every exception class, with the fedsched command's messages and codes."""
import subprocess

import numpy as np
import pytest

import fedsched
from conftest import daemon_env
from fedsched import Error, InvalidInput, NotFound, Refused, Timeout, Unreachable

SST = "site1/cf/sst/monthly/sst"


def cli_message(*args):
    """What `fedsched ARGS` prints after "fedsched: error: ", and its exit code."""
    p = subprocess.run(["fedsched"] + list(args), capture_output=True, text=True, env=daemon_env())
    line = [x for x in p.stderr.splitlines() if x.startswith("fedsched: error: ")][0]
    return line[len("fedsched: error: "):], p.returncode


def test_hierarchy():
    for cls, base, code in ((InvalidInput, ValueError, 2), (NotFound, LookupError, 1),
                            (Refused, PermissionError, 1), (Unreachable, ConnectionError, 75),
                            (Timeout, TimeoutError, 124)):
        assert issubclass(cls, Error) and issubclass(cls, base) and cls.code == code
    assert issubclass(Error, Exception)


@pytest.mark.parametrize("key", [np.s_[::0], np.s_[::-1], np.s_[[0, 1]], np.s_[None], np.s_[True],
                                 np.s_[0, 0, 0, 0], np.s_[120], np.s_[-121], np.s_[..., ...],
                                 np.s_[1.5]])
def test_invalid_slices(fs, key):
    with pytest.raises(InvalidInput) as e:
        fs[SST][key]
    assert e.value.code == 2 and str(e.value)


def test_invalid_input_has_the_commands_message(fs, fed, tmp_path):
    with pytest.raises(InvalidInput) as e:
        fs.read(SST + "[120]")
    msg, code = cli_message("get", SST + "[120]", "-o", str(tmp_path / "x.h5"))
    assert str(e.value) == msg and code == 2
    assert "out of bounds" in msg
    with pytest.raises(InvalidInput) as e:
        fs.catalog(where="units")
    msg, code = cli_message("catalog", "--where", "units")
    assert str(e.value) == msg and code == 2
    for bad in (lambda: fs.search("!!!"), lambda: fs.search("x", limit=0),
                lambda: fs[SST].reduce("median", (2, 2, 2)),
                lambda: fs[SST].reduce("mean", (0, 1, 1)),
                lambda: fs.read("bad name!"),
                lambda: fedsched.connect(timeout=-1),
                lambda: fedsched.connect(scheduler="nowhere")):
        with pytest.raises(InvalidInput):
            bad()


def test_not_found(fs, tmp_path):
    with pytest.raises(NotFound) as e:
        fs["site1/no/such"]
    msg, code = cli_message("info", "site1/no/such")
    assert str(e.value) == msg and code == 1 and e.value.code == 1
    with pytest.raises(NotFound):
        fs.read("site1/no/such[0]")
    with pytest.raises(NotFound):
        fs.job(999999).status()
    with pytest.raises(LookupError):
        fs["site1/no/such"]


def test_refused(fs, tmp_path):
    with pytest.raises(Refused) as e:
        fs["site2/closed/secret/thickness"][...]
    msg, code = cli_message("get", "site2/closed/secret/thickness", "-o", str(tmp_path / "x.h5"))
    assert code == 1 and str(e.value) == msg
    with pytest.raises(Refused):
        fs["site2/closed/counts/n"].reduce("sum", (2, 2))      # blocks finer than the grid
    with pytest.raises(PermissionError):
        fs["site2/closed/secret/thickness"][0]


def test_unreachable():
    with pytest.raises(Unreachable) as e:
        fedsched.connect(scheduler="tcp://127.0.0.1:9", timeout=1)
    assert e.value.code == 75 and "no answer" in str(e.value)
    with pytest.raises(ConnectionError):
        fedsched.connect(scheduler="tcp://127.0.0.1:9", timeout=0.5)


def test_timeout(fs, job_files):
    job = fs.submit(job_files["sleep"])
    try:
        with pytest.raises(Timeout) as e:
            job.wait(timeout=0.5)
        assert e.value.code == 124 and str(job.id) in str(e.value)
    finally:
        job.cancel()
    assert job.wait(timeout=60)["state"] == "CANCELLED"
