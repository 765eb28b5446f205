"""The Hardware page: the machines side by side, from each one's newest results file."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from bench.report.tables import Results
from bench.results import model


def same_hardware(results: Results) -> list[tuple[str, str]]:
    """Pairs of machine folders whose newest files describe the same hardware, as far as both
    record it (`bench.results.model.hardware_differences` finds nothing).

    Typically one folder written before CPU identities were recorded (a VM's ``amd-epyc-2c``)
    and one after (``amd-epyc-zen4-2c``): the report must not present them as two machines
    without saying so.
    """

    machines = {m: results.newest(m)["machine"] for m in results.machines}
    names = sorted(machines)
    return [
        (a, b)
        for i, a in enumerate(names)
        for b in names[i + 1 :]
        if not model.hardware_differences(machines[a], machines[b])
    ]


def _gib(n: Any) -> str:
    return f"{n / 2**30:.0f} GiB" if isinstance(n, int) else "\u2014"


def _cores(cpu: Mapping[str, Any]) -> str:
    p, e = cpu.get("performance_cores"), cpu.get("efficiency_cores")
    if isinstance(p, int) and isinstance(e, int):
        return f"{p + e} ({p} performance + {e} efficiency)"
    physical, logical = cpu.get("physical_cores"), cpu.get("logical_cores")
    if physical and logical and physical != logical:
        return f"{physical} ({logical} threads)"
    return str(physical or logical or "\u2014")


def _gpus(machine: Mapping[str, Any]) -> str:
    names = []
    for gpu in machine["gpus"]:
        cores = gpu.get("cores")
        names.append(gpu["name"] + (f", {cores} cores" if cores else ""))
    return "; ".join(names) or "none found"


HARDWARE_ROWS = (
    "Label", "Chip or CPU", "CPU cores", "GPU", "Memory", "OS", "Python", "TensorFlow", "Keras",
    "Keras backends", "tensorflow-metal", "Device used", "Dataset (newest file)", "Results files",
)  # fmt: skip


def dataset_label(dataset: Mapping[str, Any]) -> str:
    """What a results file trained on, e.g. "Kaggle Dogs vs Cats (petimages), 1a2b3c4d"."""
    if dataset.get("kind") == "synthetic":
        name = "synthetic stand-in"
    else:
        name = dataset.get("name") or "unnamed dataset"
    return f"{name}, {str(dataset.get('fingerprint') or '')[:8]}"


def hardware(results: Results) -> pd.DataFrame:
    """The machines side by side (one column each), from each machine's newest file.

    "Device used" lists every device that ran training for the machine, and "Keras backends"
    every backend with its version, across all files.
    """
    columns = {}
    for slug in results.machines:
        doc = results.newest(slug)
        m, sw = doc["machine"], doc["software"]
        apple = m.get("apple") or {}
        os_info = m["os"]
        runs = results.runs[results.runs["machine"] == slug]
        devices = runs["device"].dropna().unique()
        frameworks = sorted(
            {
                f"{model.backend_title(b)} {v}"
                for b, v in zip(runs["backend"], runs["backend_version"], strict=True)
            }
        )
        columns[slug] = [
            m["label"] or "\u2014",
            apple.get("chip") or m["cpu"]["model"] or m["cpu"]["architecture"],
            _cores(m["cpu"]),
            _gpus(m),
            _gib(m["memory_bytes"]),
            os_info.get("name") or f"{os_info['system']} {os_info['release']}",
            sw["python"],
            sw["tensorflow"] or "\u2014",
            sw["keras"] or "\u2014",
            ", ".join(frameworks) or "\u2014",
            sw["tensorflow_metal"] or "\u2014",
            ", ".join(sorted(devices)) or "\u2014",
            dataset_label(doc["dataset"]),
            str(int((results.files["machine"] == slug).sum())),
        ]
    return pd.DataFrame(columns, index=pd.Index(HARDWARE_ROWS, name=""))


COLUMNS_AT_MOST = 8
"""Above this many machines the hardware table turns to one row per machine."""


def by_row(table: pd.DataFrame) -> pd.DataFrame:
    """`hardware`'s table turned to one row per machine (a "Machine" column, linked on the
    pages), for any number of machines."""
    turned = table.T.reset_index(names="Machine")
    turned.columns = [str(c) for c in turned.columns]
    return turned
