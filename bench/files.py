"""Files that appear whole or not at all, and temporary folders that name their owner.

`write_atomic` and `write_new` write to a hidden temporary file in the target's folder, then
rename or link it into place: a reader never sees half a file, whatever stops the writer.

Generating the stand-in and preparing the Kaggle images both build into a hidden sibling folder
and rename it into place, so a stopped run never leaves a half-made dataset. Ctrl-C and SIGTERM
remove the sibling (`bench.protocol.processes.stop_signals`); SIGKILL, a power cut or a crash cannot. The
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
import tempfile
import time
from collections.abc import Iterable
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


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _temporary(folder: Path, text: str) -> Path:
    """``text`` in a new hidden file of ``folder``, synced, with the usual permissions (0644
    under the common umask, not mkstemp's 0600: results folders are meant to be shared)."""
    fd, name = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            Path(name).unlink()
        raise
    return Path(name)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, replacing it, so that readers see the old or the new file."""
    tmp = _temporary(path.parent, text)
    try:
        tmp.replace(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_new(folder: Path, names: Iterable[str], text: str) -> Path | None:
    """Write ``text`` to the first of ``names`` that does not exist in ``folder``; never replace.

    A temporary file, then a hard link, which fails rather than replace an existing file.
    Returns the path written, or None when every name was taken.
    """
    folder.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(folder, text)
    try:
        for name in names:
            target = folder / name
            try:
                os.link(tmp, target)
            except FileExistsError:
                continue
            return target
        return None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
