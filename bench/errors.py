"""Errors as one line: the exception type for mistakes a user can fix, and `one_line`."""


def one_line(exc: BaseException, limit: int = 2000) -> str:
    """An exception as one line, ``ValueError: the first line of its message``, at most ``limit``
    characters: how a failure is stored in a results file and shown in a summary."""
    first = (str(exc).strip().splitlines() or [""])[0]
    return (f"{type(exc).__name__}: {first}" if first else type(exc).__name__)[:limit]


class UserError(Exception):
    """A problem with the user's input: printed as one line, exit status 2, no traceback.

    The message says what is wrong, where, and what to do.
    """
