"""A page per machine: its hardware and software, its runs, its training times and scores.

The pages are written at build time (`write_pages`, called from ``docs/conf.py`` before Sphinx
reads its sources) as plain MyST Markdown in ``docs/machines/``, one per machine folder, at the
stable address ``machines/<slug>.html``; no kernel runs for them. Everything a results file says
reaches them through `bench.report.markup` (escaped tables and text) or a chart's escaped
caption. The other pages link machine names here (`markup.link_machines`).
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pandas as pd

from bench import stats
from bench.escaping import escape_markdown
from bench.report import charts, hardware, markup, pairs, scores, training
from bench.report.tables import WORKLOAD_TITLES, Results

FOLDER = "machines"
"""The pages' folder under docs/ (generated, not committed)."""
MARKER = ".generated"
"""A file in `FOLDER` that says its pages are written by the build and may be replaced."""


def _raw(html_text: str) -> str:
    return f"```{{raw}} html\n{html_text}\n```\n"


def _runs(results: Results, slug: str) -> pd.DataFrame:
    files = results.files[results.files["machine"] == slug].sort_values("started_at")
    runs = results.runs[results.runs["machine"] == slug]
    counts = runs.groupby("path")["status"].agg(
        runs="size", failed=lambda s: int((s != "ok").sum())
    )
    table = files.join(counts, on="path")
    return pd.DataFrame(
        {
            "File": table["path"].map(lambda p: Path(str(p)).name),
            "Started (UTC)": table["started_at"].astype(str),
            "Profile": table["profile"],
            "Status": table["status"],
            "Label": table["label"],
            "Workload runs": table["runs"].fillna(0).astype(int),
            "Failed": table["failed"].fillna(0).astype(int),
            "TensorFlow": table["tensorflow"],
            "Keras": table["keras"],
        }
    )


def _training(
    comparisons: Sequence[training.Comparison], slug: str
) -> tuple[pd.DataFrame, list[training.Comparison]]:
    """One row per configuration and workload of the machine; the first configuration of each
    workload (the one charted) restricted to this machine."""
    rows = []
    charted: dict[str, training.Comparison] = {}
    for comparison in comparisons:
        if slug not in comparison.machines:
            continue
        own = training.Comparison(
            comparison.setting, comparison.epochs[comparison.epochs["machine"] == slug]
        )
        charted.setdefault(comparison.workload, own)
        summary = training.summarise(own).iloc[0]
        median = stats.median_interval(own.groups(slug))
        rows.append(
            {
                "Workload": WORKLOAD_TITLES.get(own.workload, own.workload),
                "Configuration": own.describe(),
                "Median s/epoch (95 % CI)": (
                    f"{median.value:.3g} s ({median.low:.3g} to {median.high:.3g})"
                ),
                "Images/s": f"{summary['median_images_per_s']:,.1f}",
                "Runs": int(summary["repeats"]),
                "Measured epochs": int(summary["measured_epochs"]),
                "Noisy runs": int(summary["noisy_runs"]),
                "Device": summary["device"],
                "Other machines": len(comparison.machines) - 1,
            }
        )
    return pd.DataFrame(rows), list(charted.values())


def _scores(probe_scores: pd.DataFrame, slug: str) -> pd.DataFrame:
    mine = probe_scores[probe_scores["machine"] == slug]
    return pd.DataFrame(
        {
            "Probe section": mine["section"],
            "Score": mine["score"].map(lambda v: f"{v:,.0f}" if math.isfinite(v) else None),
            "Files": mine["files"],
            "Status": mine["status"],
            "Reason": mine["reason"],
        }
    )


def _compare_links(found: pairs.Pairs, slug: str) -> list[str]:
    """Links to the Compare page with this machine as A and each other machine as B (HTML: a
    Markdown link with a query string reads as a missing cross-reference)."""
    others: dict[str, str] = {}
    for a, b, config in sorted(found.rows):
        if a == slug:
            others.setdefault(b, config)
    return [
        markup.machine_html(
            b, "../compare.html?" + urlencode({"a": slug, "b": b, "config": c}), found.labels.get(b)
        )
        for b, c in others.items()
    ]


@dataclass(frozen=True)
class Shared:
    """What every machine page reads from the whole report, computed once per build."""

    hardware: pd.DataFrame
    """`hardware.hardware`: one column per machine."""
    comparisons: list[training.Comparison]
    probe_scores: pd.DataFrame
    """`scores.probe_scores`."""
    colours: dict[str, str]

    @classmethod
    def of(cls, results: Results, comparisons: Sequence[training.Comparison]) -> Shared:
        return cls(
            hardware.hardware(results),
            list(comparisons),
            scores.probe_scores(results),
            charts.machine_colours(results.machines),
        )


def page_markdown(results: Results, slug: str, found: pairs.Pairs, shared: Shared) -> str:
    """The page of one machine, as MyST Markdown."""
    label = results.labels[slug]
    files = int((results.files["machine"] == slug).sum())
    own = shared.hardware[[slug]].rename(columns={slug: "This machine"})
    trained, charted = _training(shared.comparisons, slug)
    probe = _scores(shared.probe_scores, slug)
    links = _compare_links(found, slug)
    lines = [
        f"# {escape_markdown(slug)}",
        "",
        (
            f"{'Label: ' + escape_markdown(label) if label else 'No label given'}. Machine folder "
            f"`results/{slug}/`, {files} results file{'s' if files != 1 else ''}; the hardware "
            "and software are those of its newest file."
        ),
        "",
        "## Hardware and software",
        "",
        _raw(markup.table_html(own, index=True)),
        "## Runs",
        "",
        _raw(markup.table_html(_runs(results, slug))),
        "## Training time",
        "",
    ]
    if trained.empty:
        lines += ["No finished training run with measured epochs yet.", ""]
    else:
        lines += [
            (
                "Median seconds per measured epoch (warm-up left out) over every run of each "
                "configuration, with its 95 % bootstrap interval."
            ),
            "",
            _raw(markup.table_html(trained)),
        ]
        # Each chart holds this machine's runs only: "the only machine so far", the Training
        # page's title for a group of one, would be untrue here.
        lines += [
            charts.training_chart(
                c,
                shared.colours,
                finding=f"{training.summarise(c).iloc[0]['median_epoch_s']:.1f} s per epoch on this machine",
            ).markdown()
            for c in charted
        ]
    lines += ["## Scores", "", _raw(markup.table_html(probe)), "## Compare", ""]
    if links:
        lines += [_raw("<p>Side by side with: " + ", ".join(links) + ".</p>")]
    else:
        lines += ["No other machine has comparable runs or scores yet.", ""]
    return "\n".join(lines)


def index_markdown(results: Results) -> str:
    """The list of machine pages, with the toctree that puts them in the site."""
    found = results.labels
    listed = [
        f"- [{escape_markdown(slug)}]({slug}.md)" + (f": {escape_markdown(label)}" if label else "")
        for slug, label in found.items()
    ]
    toctree = "\n".join(found)
    return (
        "# Machines\n\nOne page per machine folder of `results/`: its hardware and software, its "
        "runs, training times and scores.\n\n"
        + ("\n".join(listed) if listed else "No results yet.")
        + f"\n\n```{{toctree}}\n:hidden:\n\n{toctree}\n```\n"
    )


def fresh_folder(folder: Path) -> Path:
    """``folder`` emptied for generated files (made when missing); refuses to empty a folder
    the build did not make (no `MARKER` in it)."""
    if folder.exists():
        if not (folder / MARKER).exists():
            msg = f"{folder} exists and was not written by the build; move it away"
            raise FileExistsError(msg)
        shutil.rmtree(folder)
    folder.mkdir()
    (folder / MARKER).write_text("written by docs/conf.py on every build\n", encoding="utf-8")
    return folder


def write_pages(
    results: Results,
    docs: Path,
    found: pairs.Pairs,
    comparisons: Sequence[training.Comparison] | None = None,
) -> Path:
    """Write ``docs/machines/`` anew (index and one page per machine); its path.

    ``comparisons`` are `training.comparisons` of the results, when the caller has them.
    """
    folder = fresh_folder(docs / FOLDER)
    markup.link_machines(results.labels, prefix="")
    if comparisons is None:
        comparisons = training.comparisons(results.epochs)
    shared = Shared.of(results, comparisons)
    for slug in results.machines:
        text = page_markdown(results, slug, found, shared)
        (folder / f"{slug}.md").write_text(text, encoding="utf-8")
    (folder / "index.md").write_text(index_markdown(results), encoding="utf-8")
    return folder
