"""NVIDIA GPUs as ``nvidia-smi`` lists them."""

from __future__ import annotations

import csv
from typing import Any

from bench.harness.machine.commands import whole_count
from bench.results.model import clip

NVIDIA_SMI = [
    "nvidia-smi",
    "--query-gpu=name,driver_version,memory.total",
    "--format=csv,noheader,nounits",
]


def parse_nvidia_smi(text: str) -> list[dict[str, Any]]:
    """GPUs from ``nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader,nounits``.

    Returns
    -------
    list of dict
        One ``$defs/gpu`` object per line; ``memory.total`` is in MiB, recorded in bytes.
        Fields nvidia-smi reports as ``[N/A]`` are None.
    """
    gpus: list[dict[str, Any]] = []
    for row in csv.reader(text.splitlines(), skipinitialspace=True):
        if len(row) < 3 or not row[0].strip():
            continue
        name, driver, memory = (None if v.strip() in {"[N/A]", "N/A", ""} else v for v in row[:3])
        if name is None:
            continue
        memory_mib = whole_count(memory)
        gpus.append(
            {
                "name": clip(name) or "unknown",
                "vendor": "NVIDIA",
                "driver": clip(driver),
                "memory_bytes": memory_mib * 1024 * 1024 if memory_mib is not None else None,
                "cores": None,
                "metal_support": None,
            }
        )
    return gpus
