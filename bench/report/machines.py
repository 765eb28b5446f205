"""A page per machine: its hardware and software, its runs, its training times and scores.

The pages are written at build time (`write_pages`, called from ``docs/conf.py`` before Sphinx
reads its sources) as plain MyST Markdown in ``docs/machines/``, one per machine folder, at the
stable address ``machines/<slug>.html``; no kernel runs for them. Everything a results file says
reaches them through `bench.report.markup` (escaped tables and text) or a chart's escaped
caption. The other pages link machine names here (`markup.link_machines`).
"""

from __future__ import annotations

import html
import math
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pandas as pd

from bench import stats
from bench.readers import standings
from bench.report import compare_data, hardware, markup, scores, training
from bench.report.tables import Results
from bench.results import model
from bench.results.model import WORKLOAD_TITLES
from bench.text import escape_markdown, one_line

FOLDER = "machines"
"""The pages' folder under docs/ (generated, not committed)."""
MARKER = ".generated"
"""A file in `FOLDER` that says its pages are written by the build and may be replaced."""


def _raw(html_text: str) -> str:
    return f"```{{raw}} html\n{html_text}\n```\n"


def _runs(files: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """One machine's files (``files``) with its workload runs (``runs``) counted."""
    files = files.sort_values("started_at")
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


def _training(own_groups: Sequence[tuple[training.Comparison, int]], slug: str) -> pd.DataFrame:
    """One row per configuration and workload of the machine: ``own_groups`` holds each group
    restricted to this machine and how many machines the whole group has."""
    rows = []
    for own, machines in own_groups:
        summary = training.summarise(own).iloc[0]
        energy = training.energy_columns(summary.to_frame().T)
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
                **{name: values[0] for name, values in energy.items()},
                "Other machines": machines - 1,
            }
        )
    frame = pd.DataFrame(rows)
    for column in ("J/epoch", "Images/J"):
        if column in frame:
            frame[column] = frame[column].fillna("not measured")
    return frame


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


def _compare_href(a: str, b: str, setting: model.Setting) -> str:
    query = {"a": a, "b": b, "config": compare_data.configuration_id(model.as_dict(setting))}
    return "../compare.html?" + urlencode(query)


def _standing_table(found: Sequence[standings.Standing], labels: dict[str, str | None]) -> str:
    """Per workload and setting: the machine's rank, percentile and neighbours, as HTML (the
    neighbours link to their pages and to the Compare page with this machine as A)."""
    head = "".join(
        f"<th>{html.escape(c)}</th>"
        for c in (
            "Workload",
            "Setting",
            "Median s/epoch",
            "Rank",
            "Faster than",
            "Next faster",
            "Next slower",
        )
    )
    rows = []
    for s in found:
        near = []
        for other in (s.faster, s.slower):
            if other is None:
                near.append("-")
                continue
            page = markup.machine_html(
                other.machine, f"{other.machine}.html", labels.get(other.machine)
            )
            link = f"<a href='{html.escape(_compare_href(s.machine, other.machine, s.setting))}'>compare</a>"
            near.append(f"{page} ({other.median_s:.3g} s, {link})")
        percent = "-" if s.percentile is None else f"{s.percentile:.0f} % of the others"
        cells = [
            html.escape(WORKLOAD_TITLES.get(s.workload, s.workload)),
            html.escape(one_line(model.describe(s.setting))),
            f"{s.median_s:.3g}",
            f"{standings.ordinal(s.rank)} of {s.machines}",
            percent,
            *near,
        ]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return (
        "<div class='benchbook-table-wrap'><table class='benchbook-table'>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


@dataclass(frozen=True)
class Shared:
    """What every machine page reads from the whole report, computed once per build."""

    hardware: pd.DataFrame
    """`hardware.hardware`: one column per machine."""
    comparisons: list[training.Comparison]
    probe_scores: pd.DataFrame
    """`scores.probe_scores`."""
    standings: dict[model.Setting, dict[str, standings.Standing]]
    """Every machine's rank in every setting (`bench.readers.standings`)."""
    own: dict[str, list[tuple[training.Comparison, int]]]
    """Per machine, each comparable group restricted to it, with the group's machine count."""
    files: dict[str, pd.DataFrame]
    runs: dict[str, pd.DataFrame]

    @classmethod
    def of(cls, results: Results, comparisons: Sequence[training.Comparison]) -> Shared:
        """Everything split by machine once: filtering the whole tables for each of n machines
        made the pages' build grow with the square of the machines (13.7 s of 33 at 300)."""
        paths = [str(p) for p in results.files["path"]]
        own: dict[str, list[tuple[training.Comparison, int]]] = {}
        for comparison in comparisons:
            count = len(comparison.machines)
            for slug, frame in comparison.epochs.groupby("machine", sort=False):
                own.setdefault(str(slug), []).append(
                    (training.Comparison(comparison.setting, frame), count)
                )
        return cls(
            hardware.hardware(results),
            list(comparisons),
            scores.probe_scores(results),
            standings.standings(zip(paths, results.documents, strict=True)),
            own,
            {str(m): f for m, f in results.files.groupby("machine", sort=False)},
            {str(m): f for m, f in results.runs.groupby("machine", sort=False)},
        )


def page_markdown(results: Results, slug: str, shared: Shared) -> str:
    """The page of one machine, as MyST Markdown."""
    label = results.labels[slug]
    files = int((results.files["machine"] == slug).sum())
    own = shared.hardware[[slug]].rename(columns={slug: "This machine"})
    trained = _training(shared.own.get(slug, []), slug)
    probe = _scores(shared.probe_scores, slug)
    found = standings.of_machine(shared.standings, slug)
    lines = [
        # In no toctree: a sidebar listing every machine on every page would make the site
        # grow with the square of the machines. The list of machines links to each page.
        "---",
        "orphan: true",
        "---",
        "",
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
        _raw(
            markup.table_html(
                _runs(shared.files[slug], shared.runs.get(slug, results.runs.iloc[:0]))
            )
        ),
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
    lines += ["## Where it stands", ""]
    if found:
        lines += [
            (
                "Per workload and setting, this machine's rank among every machine with runs of "
                "the same setting, by median seconds per epoch (1st is the fastest), the share of "
                "the other machines it is faster than, and its neighbours in the ranking, each "
                "with a link to the two machines side by side."
            ),
            "",
            _raw(_standing_table(found, results.labels)),
        ]
    else:
        lines += ["No finished training run with measured epochs yet.", ""]
    lines += [
        "## Scores",
        "",
        _raw(markup.table_html(probe)),
        "## Compare",
        "",
        _raw(
            f"<p><a href='../compare.html?{html.escape(urlencode({'a': slug}))}'>Compare this "
            "machine with any other</a> (type the other machine's name on the Compare page).</p>"
        ),
    ]
    return "\n".join(lines)


def index_markdown(results: Results) -> str:
    """The list of machine pages (the pages themselves are orphans: in no sidebar)."""
    found = results.labels
    listed = [
        f"- [{escape_markdown(slug)}]({slug}.md)" + (f": {escape_markdown(label)}" if label else "")
        for slug, label in found.items()
    ]
    return (
        "# Machines\n\nOne page per machine folder of `results/`: its hardware and software, its "
        "runs, training times, where it ranks per workload, and its scores.\n\n"
        + ("\n".join(listed) if listed else "No results yet.")
        + "\n"
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


INDEX = "all_machines"
"""The list of machine pages (``machines/all_machines.html``): an underscore cannot be in a
slug, so no machine's page can overwrite it (a machine named ``index`` once did)."""


def write_pages(
    results: Results,
    docs: Path,
    comparisons: Sequence[training.Comparison] | None = None,
) -> Path:
    """Write ``docs/machines/`` anew (the list and one page per machine); its path.

    ``comparisons`` are `training.comparisons` of the results, when the caller has them.
    """
    folder = fresh_folder(docs / FOLDER)
    markup.link_machines(results.labels, prefix="")
    if comparisons is None:
        comparisons = training.comparisons(results.epochs)
    shared = Shared.of(results, comparisons)
    for slug in results.machines:
        text = page_markdown(results, slug, shared)
        (folder / f"{slug}.md").write_text(text, encoding="utf-8")
    (folder / f"{INDEX}.md").write_text(index_markdown(results), encoding="utf-8")
    return folder
