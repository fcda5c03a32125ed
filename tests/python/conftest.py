"""A real local federation for the Python package's tests (issue 12, item 6).

One 2-site federation per test session, started with cluster/fedsched-local in
a temporary directory (honouring TMPDIR), stopped by its pid files when the
session ends, also when tests fail.  Before it starts, the data roots get:

  site1/cf/...      the CF-style corpus of tests/integration/lib/cf_corpus.py
  site1/types.h5    one dataset per element type (big-endian ones too), a 0-d
                    and an empty dataset, chunked and compressed ones
  site2/closed/     a file published with policy none, and one with an aggregate
                    policy (published from the session fixture)

Run by ctest (tests/CMakeLists.txt) with the build's fedsched first on PATH,
PYTHONPATH=python and FEDSCHED_LIBRARY set; any sanitizer report in a daemon's
log fails the session.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
LOCAL = os.path.join(REPO, "cluster", "fedsched-local")
CORPUS = os.path.join(REPO, "tests", "integration", "lib", "cf_corpus.py")
SANITIZER = re.compile(r"ERROR: (Address|Leak)Sanitizer|runtime error:")

TYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32",
         "float64", ">i4", ">f8", ">u2"]


def write_types(path):
    rng = np.random.default_rng(7)
    with h5py.File(path, "w") as f:
        for t in TYPES:
            dt = np.dtype(t)
            name = "t_" + dt.str.replace("<", "le_").replace(">", "be_").replace("|", "")
            if dt.kind == "f":
                a = rng.standard_normal((13, 17, 5)).astype(dt)
            else:
                info = np.iinfo(dt)
                a = rng.integers(info.min, info.max, (13, 17, 5), dtype=dt.newbyteorder("="),
                                 endpoint=True).astype(dt)
            f.create_dataset(name, data=a)
        f.create_dataset("chunked", data=rng.standard_normal((40, 30, 20)).astype("float32"),
                         chunks=(7, 11, 20), compression="gzip", shuffle=True)
        f.create_dataset("scalar", data=np.float64(3.25))
        f.create_dataset("empty", data=np.zeros((0, 4), dtype="int16"))
        f.create_dataset("big", data=np.arange(600 * 1024, dtype="float64").reshape(600, 1024))


def types_names(prefix):
    names = {}
    for t in TYPES:
        dt = np.dtype(t)
        names[t] = prefix + "/types/t_" + dt.str.replace("<", "le_").replace(">", "be_").replace("|", "")
    return names


def daemon_env():
    """The environment of the daemons and commands the tests start: this
    process's, without what only the interpreter needs under the sanitizers
    (LD_PRELOAD of their runtimes, leak checks off), and with the daemons' own
    options ($FEDSCHED_DAEMON_ENV: NAME=VALUE;...)."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    extra = env.pop("FEDSCHED_DAEMON_ENV", "")
    if extra:
        env.pop("ASAN_OPTIONS", None)
        for kv in extra.split(";"):
            if "=" in kv:
                k, v = kv.split("=", 1)
                env[k] = v
    return env


class Federation:
    def __init__(self, d):
        self.dir = d
        self.env = {}
        with open(os.path.join(d, "env")) as f:
            for line in f:
                m = re.match(r"(?:export\s+)?(\w+)=['\"]?([^'\"\n]*)", line)
                if m:
                    self.env[m.group(1)] = m.group(2)
        self.scheduler = self.env["FEDSCHED_SCHEDULER"]

    def root(self, site):
        return os.path.join(self.dir, "sites", site, "data")

    def cli(self, *args, check=True):
        p = subprocess.run(["fedsched"] + list(args), capture_output=True, text=True, env=daemon_env())
        if check and p.returncode != 0:
            raise AssertionError("fedsched %s exited %d: %s" % (" ".join(args), p.returncode, p.stderr))
        return p


@pytest.fixture(scope="session")
def fed():
    if not shutil.which("fedsched"):
        pytest.fail("fedsched is not on PATH (build first; ctest sets it)")
    os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
    os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    d = tempfile.mkdtemp(prefix="fedsched-pytest.", dir=os.environ.get("TMPDIR") or None)
    started = False
    try:
        r1 = os.path.join(d, "sites", "site1", "data")
        r2 = os.path.join(d, "sites", "site2", "data")
        os.makedirs(os.path.join(r1, "cf"))
        os.makedirs(os.path.join(r2, "closed"))
        corpus = subprocess.run(["/usr/bin/python3", CORPUS, os.path.join(r1, "cf")], check=True,
                                capture_output=True, text=True).stdout
        write_types(os.path.join(r1, "types.h5"))
        with h5py.File(os.path.join(r2, "closed", "secret.h5"), "w") as f:
            f.attrs["title"] = "Confidential glacier survey"
            v = f.create_dataset("thickness", data=np.arange(20, dtype="float32").reshape(4, 5))
            v.attrs["long_name"] = "glacier ice thickness"
        with h5py.File(os.path.join(r2, "closed", "counts.h5"), "w") as f:
            f.create_dataset("n", data=np.arange(64, dtype="int32").reshape(8, 8))
        with h5py.File(os.path.join(r2, "closed", "sparse.h5"), "w") as f:
            f.create_dataset("n", data=np.arange(64, dtype="int32").reshape(8, 8))
        up = subprocess.run([LOCAL, "up", "--dir", d, "--sites", "2", "--data", "none"],
                            capture_output=True, text=True, env=daemon_env())
        started = True
        if up.returncode != 0:
            pytest.fail("fedsched-local up failed: %s %s" % (up.stdout, up.stderr))
        f = Federation(d)
        f.corpus = json.loads(corpus)
        for k in ("FEDSCHED_SCHEDULER", "FEDSCHED_KEYS"):
            if f.env.get(k):
                os.environ[k] = f.env[k]
            else:
                os.environ.pop(k, None)
        f.cli("publish", "site2", "closed/secret.h5", "--policy", "none")
        f.cli("publish", "site2", "closed/counts.h5", "--policy", "aggregate=4x4")
        f.cli("publish", "site2", "closed/sparse.h5", "--policy", "aggregate=4x4,min=300")
        yield f
    finally:
        if started:
            subprocess.run([LOCAL, "down", "--dir", d], capture_output=True, env=daemon_env())
        reports = []
        for root, _, files in os.walk(d):
            for n in files:
                if n.endswith(".log") and n in ("scheduler.log", "worker.log"):
                    with open(os.path.join(root, n), errors="replace") as lf:
                        text = lf.read()
                    if SANITIZER.search(text):
                        reports.append(os.path.join(root, n) + ":\n" + text[-4000:])
        if os.environ.get("FED_KEEP"):
            sys.stderr.write("FED_KEEP set: kept %s\n" % d)
        else:
            shutil.rmtree(d, ignore_errors=True)
        if reports:
            pytest.fail("sanitizer report in a daemon's log:\n" + "\n".join(reports))


WRITE = """import sys, h5py, numpy as np
f, d = sys.argv[1].rsplit(':', 1)
src, sd = sys.argv[2].rsplit(':', 1)
with h5py.File(src, 'r') as i, h5py.File(f, 'w') as o:
    o.create_dataset(d, data=i[sd][()] * 2)
"""


@pytest.fixture(scope="session")
def job_files(tmp_path_factory, fed):
    d = tmp_path_factory.mktemp("jobs")
    files = {}
    files["double"] = d / "double.yaml"
    files["double"].write_text(
        "version: 1\nname: double\ntasks:\n"
        "  - name: twice\n"
        "    command: [/usr/bin/python3, -c, %r, \"{out.y}\", \"{in.x}\"]\n"
        "    inputs:\n      x: site1/types/t_le_i4[0:4, 0, :]\n"
        "    outputs:\n      y: {publish: results/pytest/doubled}\n" % WRITE)
    files["sleep"] = d / "sleep.yaml"
    files["sleep"].write_text(
        "version: 1\nname: sleepy\ntasks:\n  - name: nap\n    command: [sleep, \"120\"]\n")
    files["bad"] = d / "bad.yaml"
    files["bad"].write_text("version: 1\ntasks:\n  - name: a\n    comand: [x]\n    bogus: 3\n")
    return {k: str(v) for k, v in files.items()}


@pytest.fixture(scope="session")
def fs(fed):
    import fedsched
    return fedsched.connect()
