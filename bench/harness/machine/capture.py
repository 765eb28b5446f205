"""The ``machine`` block of a results file, captured automatically.

`capture_machine` fills the ``machine`` block of a results file (``$defs/machine`` in the
schema; `bench.harness.machine.software` fills ``software``). Capture is best effort: every
external command runs with a short timeout, and a command or file that fails leaves its field
``None``; nothing here raises because of the machine, only because of a slug or label the user
gave. The parsers are pure functions of the text a command printed, so tests feed them recorded
output; the capture functions take the command runner and the file reader as arguments for the
same reason.
"""

from __future__ import annotations

import contextlib
import os
import platform
from collections.abc import Mapping
from typing import Any

from bench.harness.machine.commands import Reader, Runner, read_text, run_command
from bench.harness.machine.darwin import darwin_machine
from bench.harness.machine.identity import check_label, hostname_hash, machine_slug, normalize_slug
from bench.harness.machine.linux import linux_machine
from bench.harness.machine.nvidia import NVIDIA_SMI, parse_nvidia_smi
from bench.results.model import clip

# --- running commands and reading files ---------------------------------------------------------


# --- small helpers --------------------------------------------------------------------------------


# --- parsers: pure functions of recorded command output ---------------------------------------


# --- machine slugs --------------------------------------------------------------------------------


# --- the machine block -----------------------------------------------------------------------------


def _uname() -> dict[str, str]:
    u = platform.uname()
    return {
        "system": u.system,
        "release": u.release,
        "version": u.version,
        "machine": u.machine,
        "node": u.node,
    }


def _other(run: Runner, uname: Mapping[str, str]) -> dict[str, Any]:
    """Windows and anything else: what the standard library and psutil can tell."""
    physical: int | None = None
    memory: int | None = None
    # Best effort: psutil raises on systems it does not know.
    with contextlib.suppress(Exception):
        import psutil

        physical = psutil.cpu_count(logical=False)
        memory = int(psutil.virtual_memory().total)
    system, release = uname.get("system") or "", uname.get("release") or ""
    return {
        "os_name": clip(f"{system} {release}"),
        "cpu": {
            "model": clip(platform.processor()),
            "architecture": uname.get("machine") or "unknown",
            "physical_cores": physical,
            "logical_cores": os.cpu_count(),
            "performance_cores": None,
            "efficiency_cores": None,
            "flags": [],
        },
        "memory_bytes": memory,
        "gpus": parse_nvidia_smi(run(NVIDIA_SMI) or ""),
        "apple": None,
    }


def capture_machine(
    slug: str | None = None,
    label: str | None = None,
    *,
    run: Runner = run_command,
    read: Reader = read_text,
    uname: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Describe this machine: the ``machine`` block of a results file.

    Parameters
    ----------
    slug
        A slug given by the user, normalised with `normalize_slug`; by default `machine_slug`
        makes one from what was captured.
    label
        Free text given by the user (at most 200 characters).
    run, read
        How commands are run and files read (tests pass recorded output).
    uname
        ``system``, ``release``, ``version``, ``machine`` and ``node`` as `platform.uname`
        gives them; by default this machine's.

    Returns
    -------
    dict
        Valid against ``$defs/machine``. Anything that could not be found is None.

    Raises
    ------
    UserError
        When ``slug`` or ``label`` cannot be used. The machine itself never makes this raise.
    """
    chosen_slug = normalize_slug(slug) if slug is not None else None
    checked_label = check_label(label)
    info = dict(uname) if uname is not None else _uname()
    system = info.get("system") or "unknown"
    if system == "Darwin":
        found = darwin_machine(run, info)
    elif system == "Linux":
        found = linux_machine(run, read, info)
    else:
        found = _other(run, info)
    machine: dict[str, Any] = {
        "slug": "",
        "label": checked_label,
        "hostname_hash": hostname_hash(info.get("node")),
        "os": {
            "system": clip(system) or "unknown",
            "release": clip(info.get("release")) or "unknown",
            "version": clip(info.get("version")),
            "name": found["os_name"],
        },
        "cpu": found["cpu"],
        "memory_bytes": found["memory_bytes"],
        "gpus": found["gpus"][:64],
        "apple": found["apple"],
    }
    machine["slug"] = chosen_slug or machine_slug(machine)
    return machine


# --- the software block ---------------------------------------------------------------------------
