"""The Hardware page: the machines side by side, from each one's newest results file."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from bench.report.tables import Results
from bench.results import model

_IDENTITY = ("cpu vendor", "cpu family", "cpu model number", "cpu stepping", "cpu flag set")


def same_hardware(results: Results) -> list[list[str]]:
    """Groups of machine folders whose newest files describe the same hardware, as far as they
    record it (`bench.results.model.hardware_differences` finds nothing between them).

    Typically one folder written before CPU identities were recorded (a VM's ``amd-epyc-2c``)
    and one after (``amd-epyc-zen4-2c``): the report must not present them as two machines
    without saying so. Linear in the machines: folders are keyed by their signature, and a
    folder without a CPU identity joins every identity of its key; comparing every pair would
    grow with the square (and list every pair of a thousand M1 MacBook Airs).
    """
    by_key: dict[str, dict[str | None, list[str]]] = {}
    for slug in results.machines:
        signature = model.hardware_signature(results.newest(slug)["machine"])
        base = repr(sorted((k, repr(v)) for k, v in signature.items() if k not in _IDENTITY))
        identity = [repr(signature[k]) for k in _IDENTITY if k in signature]
        by_key.setdefault(base, {}).setdefault(repr(identity) if identity else None, []).append(
            slug
        )
    groups = []
    for identities in by_key.values():
        unknown = identities.pop(None, [])
        if not identities:
            groups.append(sorted(unknown))
        for found in identities.values():
            groups.append(sorted([*unknown, *found]))
    return sorted(g for g in groups if len(g) > 1)


SHOWN_GROUPS = 20
"""The most groups of same-hardware folders the Hardware page names."""


def same_hardware_text(groups: list[list[str]]) -> str:
    """The groups in words, bounded: at most `SHOWN_GROUPS` groups of at most five names."""

    def names(group: list[str]) -> str:
        shown = ", ".join(group[:5])
        return shown + (f" and {len(group) - 5} more" if len(group) > 5 else "")

    text = "; ".join(names(g) for g in groups[:SHOWN_GROUPS])
    if len(groups) > SHOWN_GROUPS:
        text += f"; and {len(groups) - SHOWN_GROUPS} more groups"
    return text


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
