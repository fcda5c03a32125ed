"""jobs/examples/find_and_read.py runs against a real federation: it finds the
dataset, shows its dimensions and reads it."""
import os
import subprocess
import sys

from conftest import REPO


def test_find_and_read(fed):
    env = dict(os.environ)
    p = subprocess.run([sys.executable, os.path.join(REPO, "jobs", "examples", "find_and_read.py"),
                        "sea", "surface", "temperature"], capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert "site1/cf/sst/monthly/sst: (120, 18, 36) float32, policy raw" in out, out
    assert "dimension time" in out and "2010-01-15 .. 2019-12-15" in out, out
    assert "first 3 steps: (3, 18, 36) float32" in out, out
    assert "4x4 block means of step 0" in out, out
    p = subprocess.run([sys.executable, os.path.join(REPO, "jobs", "examples", "find_and_read.py"),
                        "zzyzx"], capture_output=True, text=True, env=env)
    assert p.returncode != 0 and "nothing in federation" in p.stderr
