"""Temporary folders that name their owner, so a later run can clean up after a killed one.

Generating the stand-in and preparing the Kaggle images both build into a hidden sibling folder
and rename it into place, so a stopped run never leaves a half-made dataset. Ctrl-C and SIGTERM
remove the sibling (`bench.processes.stop_signals`); SIGKILL, a power cut or a crash cannot. The
sibling's name carries the process id of its maker, and the next run removes every sibling whose
maker is gone.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import shutil
import time
from pathlib import Path

_OWNED = re.compile(r"\.[a-z]+-(?P<pid>[0-9]+)-[0-9a-f]{8}$")
"""The end of a name made by `sibling`: ``.<what>-<pid>-<random>``."""

LEGACY_AGE_S = 24 * 3600
"""Siblings named before the maker's pid was part of the name are removed after a day."""


def sibling(target: Path, what: str) -> Path:
    """A new hidden name next to ``target``: ``.<name>.<what>-<pid>-<random>``.

    Not created: the caller makes it with ``mkdir``, which gives the usual permissions (umask),
    unlike ``tempfile.mkdtemp``'s 0700.
    """
    return target.parent / f".{target.name}.{what}-{os.getpid()}-{secrets.token_hex(4)}"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_leftovers(folder: Path, prefix: str) -> list[Path]:
    """Remove the siblings in ``folder`` whose names start with ``prefix`` and whose maker is gone.

    Returns what was removed. A sibling of a run still going (its pid alive) is left alone.
    """
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    for path in folder.iterdir():
        if not path.name.startswith(prefix) or not path.is_dir() or path.is_symlink():
            continue
        owned = _OWNED.search(path.name)
        stale = False
        if owned is not None:
            stale = not _alive(int(owned["pid"]))
        else:
            with contextlib.suppress(OSError):
                stale = time.time() - path.stat().st_mtime > LEGACY_AGE_S
        if stale:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def is_out_of_space(exc: OSError) -> bool:
    """Whether ``exc`` means the disk (or the user's quota) is full."""
    return exc.errno in {errno.ENOSPC, errno.EDQUOT}
