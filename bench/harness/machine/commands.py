"""Running a system command and reading a system file, best effort: a short timeout, and None
(never an exception) when anything fails, so capture never stops a run."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

Runner = Callable[[list[str]], str | None]
"""Runs a command and returns its standard output, or None when it failed."""


Reader = Callable[[str], str | None]
"""Returns the text of a file, or None when it cannot be read."""


COMMAND_TIMEOUT_S = 5.0


# system_profiler takes 1 to 2 s when warm and longer on its first call after boot.
SLOW_COMMAND_TIMEOUT_S = {"system_profiler": 15.0}


def run_command(args: list[str], timeout_s: float | None = None) -> str | None:
    """Run ``args`` and return its standard output; None when it fails in any way.

    Parameters
    ----------
    args
        The command and its arguments (no shell).
    timeout_s
        Seconds before the command is killed; by default `COMMAND_TIMEOUT_S`, longer for the
        commands in `SLOW_COMMAND_TIMEOUT_S`.

    Returns
    -------
    str or None
        The output, or None when the command is missing, times out or exits with an error.
    """
    if timeout_s is None:
        timeout_s = SLOW_COMMAND_TIMEOUT_S.get(Path(args[0]).name, COMMAND_TIMEOUT_S)
    # The C locale keeps command output in the English the parsers expect.
    env = {**os.environ, "LC_ALL": "C"}
    try:
        completed = subprocess.run(
            args,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            stdin=subprocess.DEVNULL,
            timeout=timeout_s,
            check=False,
            env=env,
        )
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    if completed.returncode != 0:
        return None
    return completed.stdout


def read_text(path: str) -> str | None:
    """Return the text of the file at ``path``, or None when it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def whole_count(text: str | None) -> int | None:
    """A non-negative integer read from ``text``, or None."""
    if text is None:
        return None
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() else None
