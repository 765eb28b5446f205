"""The Scores page: probe scores, their individual probes, and reported Geekbench scores."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from bench.report.tables import Results, newest_row, on_tensorflow
from bench.results.model import SECTION_TITLES, SECTIONS, WORKLOAD_TITLES


def probe_scores(results: Results) -> pd.DataFrame:
    """One row per machine and section: median score over the files where it ran on TensorFlow
    (`tables.on_tensorflow`).

    ``status`` is ``ok`` when any file has a score, else the newest file's status (e.g.
    ``unavailable``, with its ``reason``), or ``not run`` when no file of the machine has the
    section. A score that is not ``ok`` is NaN, never zero.
    """
    rows = []
    sections = on_tensorflow(results.probe_sections)
    everything = results.probe_sections
    elsewhere = set(everything[everything["backend"] != "tensorflow"]["machine"])
    for machine in results.machines:
        for section in SECTIONS:
            mine = sections[(sections["machine"] == machine) & (sections["section"] == section)]
            ok = mine[mine["status"] == "ok"].dropna(subset=["score"])
            if not ok.empty:
                newest = newest_row(ok)
                rows.append(
                    [machine, section, "ok", float(ok["score"].median()), len(ok),
                     newest["threads"], newest["device"], None]
                )  # fmt: skip
            elif not mine.empty:
                newest = newest_row(mine)
                rows.append(
                    [machine, section, newest["status"], math.nan, 0, None, None, newest["reason"]]
                )
            elif machine in elsewhere:
                reason = "probes measured on another backend only (see Which framework?)"
                rows.append([machine, section, "not run", math.nan, 0, None, None, reason])
            else:
                reason = "no probes in this machine's results (skipped, or recorded before them)"
                rows.append([machine, section, "not run", math.nan, 0, None, None, reason])
    columns = ["machine", "section", "status", "score", "files", "threads", "device", "reason"]
    return pd.DataFrame(rows, columns=columns)


def probe_details(results: Results) -> pd.DataFrame:
    """One row per machine, section and probe: medians of value, spread and score across files.

    Only probes that were measured count; ``files`` says how many files measured each.
    """
    columns = ["machine", "section", "probe", "unit", "value", "spread", "score", "files"]
    values = on_tensorflow(results.probe_values)
    values = values[(values["status"] == "ok") & values["value"].notna()]
    if values.empty:
        return pd.DataFrame(columns=columns)
    grouped = values.groupby(["machine", "section", "probe"], sort=True, dropna=False)
    table = grouped.agg(
        unit=("unit", "last"), value=("value", "median"), spread=("spread", "median"),
        score=("score", "median"), files=("path", "nunique"),
    ).reset_index()  # fmt: skip
    order = {s: i for i, s in enumerate(SECTIONS)}
    return table.sort_values(
        ["machine", "section", "probe"], key=lambda c: c.map(order) if c.name == "section" else c,
        ignore_index=True,
    )[columns]  # fmt: skip


def geekbench_scores(results: Results) -> pd.DataFrame:
    """Per machine, the Geekbench scores its user reported: medians, newest version and API."""
    gb = results.geekbench
    columns = ["machine", "version", "single_core", "multi_core", "gpu", "gpu_api", "files"]
    rows = []
    for machine, frame in gb.groupby("machine", sort=True):
        newest = newest_row(frame)
        rows.append(
            [machine, newest["version"], frame["single_core"].median(),
             frame["multi_core"].median(), frame["gpu"].median(), newest["gpu_api"], len(frame)]
        )  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def scores_table(scores: pd.DataFrame, geekbench: pd.DataFrame) -> pd.DataFrame:
    """Probe scores beside reported Geekbench scores, machine by machine.

    A section that did not run shows its status and reason, never a zero.
    """
    gb = geekbench.set_index("machine")
    rows = []
    for machine, frame in scores.groupby("machine", sort=True):
        row: dict[str, Any] = {"Machine": machine}
        for r in frame.itertuples():
            title = SECTION_TITLES[str(r.section)]
            if r.status == "ok":
                row[f"{title} (probes)"] = f"{r.score:,.0f}"
            else:
                reason = f": {r.reason}" if isinstance(r.reason, str) and r.reason else ""
                row[f"{title} (probes)"] = f"{r.status}{reason}"
            reported: Any = gb.at[machine, r.section] if machine in gb.index else float("nan")
            row[f"{title} (Geekbench)"] = (
                f"{reported:,.0f}" if pd.notna(reported) else "not reported"
            )
        rows.append(row)
    return pd.DataFrame(rows)


def utilisation_display(use: pd.DataFrame) -> pd.DataFrame:
    """`bench.report.utilisation.utilisation` formatted, one row per machine and configuration."""
    return pd.DataFrame(
        {
            "Machine": use["machine"],
            "Workload": use["workload"].map(lambda w: WORKLOAD_TITLES.get(w, w)),
            "Setting": use["setting"],
            "Device": use["device"],
            "Runs": use["runs"],
            "GFLOP per image": use["gflop_per_image"].map(lambda v: f"{v:,.2f}"),
            "Images/s": use["images_per_s"].map(lambda v: f"{v:,.1f}"),
            "Achieved GFLOP/s": use["achieved_gflops"].map(lambda v: f"{v:,.0f}"),
            "Peak (matmul probe)": [
                f"{p:,.0f} GFLOP/s ({kind})" if pd.notna(p) else "not measured"
                for p, kind in zip(use["peak_gflops"], use["peak"], strict=True)
            ],
            "Share of peak": use["share"].map(lambda v: f"{v:.0%}" if pd.notna(v) else "\u2014"),
        }
    )


def without_gpu_score(probe_table: pd.DataFrame) -> int:
    """How many machines have no GPU score (`probe_scores` rows of the GPU section not ``ok``)."""
    gpu = probe_table[probe_table["section"] == "gpu"]
    return int((gpu["status"] != "ok").sum())
