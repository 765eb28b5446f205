"""Linux: ``/proc/cpuinfo``, ``/proc/meminfo`` and ``/etc/os-release``, parsed from their text."""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping
from typing import Any

from bench.harness.machine.commands import Reader, Runner
from bench.harness.machine.identity import RELEVANT_CPU_FLAGS, cpu_identity
from bench.harness.machine.nvidia import NVIDIA_SMI, parse_nvidia_smi
from bench.results.model import clip


def parse_cpuinfo(text: str) -> dict[str, Any]:
    """Read the CPU model, core counts and relevant flags from Linux ``/proc/cpuinfo``.

    Parameters
    ----------
    text
        The content of ``/proc/cpuinfo``.

    Returns
    -------
    dict
        ``model`` (None when absent), ``physical_cores`` (unique ``(physical id, core id)``
        pairs; None when the file has no topology, as on most ARM systems), ``logical_cores``
        (``processor`` entries; None when there are none) and ``flags`` (the members of
        `RELEVANT_CPU_FLAGS` present, in that order).
    """
    processors = 0
    cores: set[tuple[str, str]] = set()
    models: dict[str, str] = {}
    flags: set[str] = set()
    for block in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            key, sep, value = line.partition(":")
            if sep:
                fields[key.strip()] = value.strip()
        if fields.get("processor", "").isdigit():
            processors += 1
        if "physical id" in fields and "core id" in fields:
            cores.add((fields["physical id"], fields["core id"]))
        # x86 names the model "model name"; ARM boards put "Model" or "Hardware" in a last block.
        for key in ("model name", "Model", "Hardware", "cpu model"):
            if fields.get(key):
                models.setdefault(key, fields[key])
        flags.update((fields.get("flags") or fields.get("Features") or "").split())
    model = next(
        (models[k] for k in ("model name", "Model", "Hardware", "cpu model") if k in models), None
    )
    return {
        "model": clip(model),
        "physical_cores": len(cores) or None,
        "logical_cores": processors or None,
        "flags": [flag for flag in RELEVANT_CPU_FLAGS if flag in flags],
    }


def parse_meminfo(text: str) -> int | None:
    """Total memory in bytes from Linux ``/proc/meminfo`` (``MemTotal`` is in KiB), or None."""
    match = re.search(r"^MemTotal:\s*(\d+)\s*kB", text, re.MULTILINE)
    return int(match.group(1)) * 1024 if match else None


def parse_os_release(text: str) -> dict[str, str]:
    """The ``KEY=value`` pairs of ``/etc/os-release``, quotes removed."""
    pairs: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if not sep or not re.fullmatch(r"[A-Z0-9_]+", key):
            continue
        try:
            words = shlex.split(value)
        except ValueError:  # unbalanced quotes: keep the text as it is
            words = [value.strip("\"'")]
        pairs[key] = " ".join(words)
    return pairs


def linux_machine(run: Runner, read: Reader, uname: Mapping[str, str]) -> dict[str, Any]:
    cpuinfo = parse_cpuinfo(read("/proc/cpuinfo") or "")
    logical = cpuinfo["logical_cores"] or os.cpu_count()
    # Without topology lines (ARM, some VMs) every logical CPU is taken for a core.
    physical = cpuinfo["physical_cores"] or logical
    release = parse_os_release(read("/etc/os-release") or read("/usr/lib/os-release") or "")
    name = release.get("PRETTY_NAME") or " ".join(
        v for v in (release.get("NAME"), release.get("VERSION")) if v
    )
    return {
        "os_name": clip(name),
        "cpu": {
            "model": cpuinfo["model"],
            "architecture": uname.get("machine") or "unknown",
            "physical_cores": physical,
            "logical_cores": logical,
            "performance_cores": None,
            "efficiency_cores": None,
            "flags": cpuinfo["flags"],
            "identity": cpu_identity(read("/proc/cpuinfo") or ""),
        },
        "memory_bytes": parse_meminfo(read("/proc/meminfo") or ""),
        "gpus": parse_nvidia_smi(run(NVIDIA_SMI) or ""),
        "apple": None,
    }
