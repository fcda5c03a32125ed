"""The exceptions of the fedsched package: one per exit code of the fedsched
command, with the command's messages.

    Error                 anything that went wrong (.code, .message)
     +- InvalidInput      the command's exit 2: a bad slice, name, option, job file
     +- NotFound          exit 1: no such dataset or job
     +- Refused           exit 1: refused (a data policy, a permission) or failed
     +- Unreachable       exit 75: the scheduler or a site does not answer
     +- Timeout           exit 124: a timeout expired

Each also derives from the Python exception closest to it (ValueError,
LookupError, PermissionError, ConnectionError, TimeoutError), so code that
knows nothing of fedsched can still catch them.
"""

# The library's codes (lib/fedsched.h).
EFAIL, EINVAL, ENOTFOUND, EUNREACH, ETIMEOUT = 1, 2, 3, 75, 124


class Error(Exception):
    """A fedsched error: .code is the fedsched command's exit code for it,
    .message what the command prints after "fedsched: error: "."""

    code = EFAIL

    def __init__(self, message, code=None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self):
        return self.message


class InvalidInput(Error, ValueError):
    """Invalid input (exit 2): a slice, name, option or job file."""
    code = EINVAL


class NotFound(Error, LookupError):
    """No such dataset or job (exit 1)."""
    code = EFAIL


class Refused(Error, PermissionError):
    """Refused by a data policy or a permission, or failed (exit 1)."""
    code = EFAIL


class Unreachable(Error, ConnectionError):
    """The scheduler or a site did not answer (exit 75)."""
    code = EUNREACH


class Timeout(Error, TimeoutError):
    """A timeout expired (exit 124)."""
    code = ETIMEOUT


_BY_CODE = {EINVAL: InvalidInput, ENOTFOUND: NotFound, EFAIL: Refused, EUNREACH: Unreachable,
            ETIMEOUT: Timeout}


def from_code(code, message):
    """The exception for a library error code."""
    cls = _BY_CODE.get(code, Error)
    return cls(message)
