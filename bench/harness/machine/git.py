"""The commit of benchbook's checkout a run came from, and whether it had changes."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from bench.harness.machine.commands import Runner, run_command

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def git_info(
    root: str | os.PathLike[str] | None = None, *, run: Runner = run_command
) -> dict[str, Any]:
    """The commit and dirty flag of the project's git checkout.

    Parameters
    ----------
    root
        The checkout; by default the folder above the ``bench`` package.
    run
        How commands are run.

    Returns
    -------
    dict
        ``commit`` (full hash) and ``dirty`` (tracked files changed; untracked files, such as
        new results, do not count); both None when ``root`` is not the top of a git checkout
        (an installed copy of the package) or git is missing.
    """
    folder = Path(root) if root is not None else PROJECT_ROOT
    unknown: dict[str, Any] = {"commit": None, "dirty": None}
    # --no-optional-locks: a status must not rewrite the index of the checkout it describes.
    git = ["git", "--no-optional-locks", "-C", str(folder)]
    top = run([*git, "rev-parse", "--show-toplevel"])
    if top is None or not top.strip():
        return unknown
    try:
        if Path(top.strip()).resolve() != folder.resolve():
            return unknown  # an installed copy inside some other repository
    except OSError:
        return unknown
    head = (run([*git, "rev-parse", "HEAD"]) or "").strip()
    status = run([*git, "status", "--porcelain", "--untracked-files=no"])
    return {
        "commit": head if re.fullmatch(r"[0-9a-f]{7,64}", head) else None,
        "dirty": bool(status.strip()) if status is not None else None,
    }
