"""Jobs from Python: submit, status, wait, cancel; a job's output read back."""
import numpy as np
import pytest

import fedsched

def test_submit_wait_and_read_the_output(fs, job_files):
    assert fs.validate(job_files["double"])["tasks"] == 1
    job = fs.submit(job_files["double"])
    assert isinstance(job, fedsched.Job) and job.id > 0
    st = job.status()
    assert st["id"] == job.id and st["name"] == "double"
    final = job.wait(timeout=120)
    assert final["state"] == "COMPLETED", final
    assert job.state == "COMPLETED"
    got = fs["results/pytest/doubled"][...]
    want = fs["site1/types/t_le_i4"][0:4, 0, :] * 2
    np.testing.assert_array_equal(got, want)
    assert got.dtype == np.int32


def test_same_token_same_job(fs, job_files):
    a = fs.submit(job_files["sleep"], token="pytest-token-1")
    b = fs.submit(job_files["sleep"], token="pytest-token-1")
    assert a.id == b.id
    assert a.cancel() == "CANCELLED"
    assert b.wait(30)["state"] == "CANCELLED"


def test_bad_job_file(fs, job_files, tmp_path):
    with pytest.raises(fedsched.InvalidInput) as e:
        fs.submit(job_files["bad"])
    lines = str(e.value).splitlines()
    assert len(lines) >= 2 and all(job_files["bad"] + ":" in x for x in lines), lines
    with pytest.raises(fedsched.InvalidInput):
        fs.validate(job_files["bad"])
    with pytest.raises(fedsched.InvalidInput):
        fs.submit(str(tmp_path / "missing.yaml"))
    with pytest.raises(fedsched.InvalidInput):
        fs.submit(job_files["sleep"], token="bad token!")
