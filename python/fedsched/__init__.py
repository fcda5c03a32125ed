"""fedsched: find data of a federation of data centres by what it is, and read
any slice of it into NumPy, dask or xarray.

    import fedsched
    fs = fedsched.connect()                    # $FEDSCHED_SCHEDULER, $FEDSCHED_KEYS
    for hit in fs.search("sea surface temperature"):
        print(hit["score"], hit["name"])
    sst = fs["site1/ocean/sst/monthly/sst"]    # .shape .dtype .attrs .dims
    a = sst[0:12, ::2, 100]                    # numpy.ndarray, read at the source
    m = sst.reduce("mean", (12, 4, 4))         # block means computed at the source
    lazy = sst.to_dask()                       # chunks read on compute
    da = fedsched.open_dataarray("site1/ocean/sst/monthly/sst")   # xarray
    job = fs.submit("job.yaml"); job.wait(600)

It is pure Python on libfedsched (ctypes), found through $FEDSCHED_LIBRARY,
else beside the `fedsched` command on PATH, else on the system's path.
Errors are exceptions: Error > InvalidInput, NotFound, Refused, Unreachable,
Timeout, with the fedsched command's messages.
"""
from .errors import Error, InvalidInput, NotFound, Refused, Unreachable, Timeout
from .client import connect, Client, Dataset, Job
from ._dask import open_dataarray

__all__ = ["connect", "Client", "Dataset", "Job", "open_dataarray", "Error", "InvalidInput",
           "NotFound", "Refused", "Unreachable", "Timeout"]
__version__ = "0.1.0"
