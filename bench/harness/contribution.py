"""What a shared result says about itself: the files checked as CI checks them, one line per
workload, the comparison with the closest machine, where the machine stands, and the pull request
description built from all of it (every contributor text escaped as Markdown)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from bench import results, stats
from bench.harness.repository import RESULTS
from bench.readers import comparison, standings
from bench.results import model
from bench.text import escape_markdown, printable


@dataclass(frozen=True)
class Summary:
    """What is shared, in words: for the terminal and for the pull request."""

    slug: str
    label: str | None
    files: list[PurePosixPath]
    workloads: list[str]
    """One line per workload of the shared runs."""
    runs: list[str]
    """One line per shared file."""
    closest: str | None
    """The closest committed machine's folder name, when one has comparable runs."""
    comparison: str
    """`bench.readers.comparison.report` of the closest machine (A) against the shared runs (B), or why
    there is none."""
    standing: list[str] = field(default_factory=list)
    """Where the machine ranks per workload among the machines in results/
    (`bench.readers.standings.where_it_stands`)."""

    @property
    def machine(self) -> str:
        """``slug ("label")``."""
        label = f' ("{printable(self.label, 80)}")' if self.label else ""
        return f"{printable(self.slug, 80)}{label}"

    def title(self) -> str:
        """The commit's first line and the pull request's title."""
        label = f" ({printable(self.label, 80)})" if self.label else ""
        count = len(self.files)
        return f"Results: {printable(self.slug, 80)}{label}, {count} file{'s' if count > 1 else ''}"


def _workload_lines(side: comparison.Side, workload: str) -> list[str]:
    """One line per setting ``workload`` ran at (a backend, a profile), failures on the first."""
    runs = [r for r in side.runs if r.setting[0] == workload]
    usable = [r for r in runs if r.usable]
    failed = len(runs) - len(usable)
    if not usable:
        return [f"{workload}: no finished run ({failed} failed)"]
    settings = list(dict.fromkeys(r.setting for r in usable))
    return [
        _setting_line(side, workload, setting, failed if i == 0 else 0)
        for i, setting in enumerate(settings)
    ]


def _setting_line(side: comparison.Side, workload: str, setting: model.Setting, failed: int) -> str:
    chosen = side.usable(setting)
    interval = stats.median_interval(comparison.groups(chosen))
    epochs = sum(r.measured.size for r in chosen)
    # The throughput of the same runs as the median: one setting, finished runs only.
    rates = [
        model.images_per_s(run)
        for _, document in side.documents
        for run in document["workloads"]
        if run["status"] == "ok" and model.setting_of(document, run) == setting
    ]
    rate = model.median_over_runs(rates)
    more = f", {failed} failed" if failed else ""
    rate_text = f", {rate:,.0f} img/s" if math.isfinite(rate) else ""
    spread = (
        "1 measured epoch: no interval"
        if epochs == 1
        else f"95 % CI {interval.low:.3g} to {interval.high:.3g}"
    )
    return (
        f"{workload}: {len(chosen)} run(s){more}, median {interval.value:.3g} s/epoch "
        f"({spread}){rate_text}; "
        f"{comparison.describe(setting)}"
    )


def _settings(documents: Sequence[tuple[Path, results.Result]]) -> set[model.Setting]:
    return {
        model.setting_of(d, run)
        for _, d in documents
        for run in d["workloads"]
        if run["status"] == "ok" and model.epoch_seconds(run)
    }


def _only(
    documents: Sequence[tuple[Path, results.Result]], settings: set[model.Setting]
) -> list[tuple[Path, results.Result]]:
    """The documents with only the runs of ``settings`` (so `comparison.pair` refuses nothing)."""
    kept = []
    for path, d in documents:
        runs = [r for r in d["workloads"] if model.setting_of(d, r) in settings]
        if runs:
            kept.append((path, {**d, "workloads": runs}))
    return kept


def summarise(
    shared: Mapping[PurePosixPath, results.Result],
    committed: Mapping[PurePosixPath, results.Result],
) -> Summary:
    """The summary of ``shared`` against the closest other machine of ``committed``.

    The closest machine is the folder whose finished runs share the most settings (the whole
    comparability key) with the shared runs, then the one with the fewest hardware differences;
    only those common settings are compared.
    """
    files = sorted(shared)
    own = [(Path(str(p)), shared[p]) for p in files]
    latest = own[-1][1]
    slug = latest["machine"]["slug"]
    new = comparison.Side("B", Path(str(files[0].parent)), own)
    runs = [
        f"{path.name}: {d['config']['profile']} profile, {len(d['workloads'])} workload run(s), "
        f"status {d['status']}, {d['dataset']['kind']} data, {model.framework(d)}"
        for path, d in own
    ]
    folders: dict[str, list[tuple[Path, results.Result]]] = {}
    for path, document in sorted(committed.items()):
        if path not in shared and path.parent.name != slug:
            folders.setdefault(path.parent.name, []).append((Path(str(path)), document))
    mine = _settings(own)
    candidates = []
    for name, found in folders.items():
        common = mine & _settings(found)
        if common:
            differs = len(model.hardware_differences(found[0][1]["machine"], latest["machine"]))
            candidates.append(((-len(common), differs, name), common, found))
    if candidates:
        (_, _, closest), common, found = min(candidates, key=lambda c: c[0])
        against = comparison.report(
            comparison.Side("A", Path(RESULTS, closest), _only(found, common)),
            comparison.Side("B", new.given, _only(own, common)),
        )
        closest_name: str | None = closest
    else:
        closest_name = None
        against = (
            f"No other machine in {RESULTS}/ has runs comparable with these yet (the same "
            "workload, profile, image size, batch, data, weights, pipeline, threads and Keras): "
            "this is the first of its kind."
        )
    standing = standings.where_it_stands({**committed, **shared}, latest, RESULTS)
    return Summary(
        standing=standing,
        slug=slug,
        label=latest["machine"].get("label"),
        files=files,
        workloads=[line for w in new.workloads() for line in _workload_lines(new, w)],
        runs=runs,
        closest=closest_name,
        comparison=against,
    )


def summary_markdown(summary: Summary) -> str:
    """The summary as GitHub Markdown: the pull request's description and the check's summary.

    Text from the files reaches it escaped (the label) or inside a fenced block, which GitHub
    shows as plain text: printable text has no line break, and a run of four backticks, the
    fence, is replaced.
    """
    # The label in a code span: GitHub applies @mentions and #references after Markdown, so an
    # escaped "\\@user" would still ping; inside code it is text.
    label = (
        f"`{printable(summary.label, 200).replace('`', chr(39))}`"
        if summary.label
        else "(no label)"
    )
    fence = "````"
    closest = (
        f"compared with the closest machine in results/, {summary.closest} (A)"
        if summary.closest
        else "compared with the machines in results/"
    )
    block = [
        "Runs:",
        *[f"  {printable(r, 300)}" for r in summary.runs],
        "Workloads (median of the measured epochs, warm-up left out):",
        *[f"  {printable(w, 300)}" for w in summary.workloads],
        *[printable(line, 600) for line in summary.standing[:1]],
        *[f"  {printable(line.strip(), 600)}" for line in summary.standing[1:]],
        "",
        f"The new runs (B) {closest}:",
        *summary.comparison.splitlines(),
    ]
    lines = [
        f"A new result of **{escape_markdown(summary.slug)}**: {label}.",
        "",
        *[f"- `{p}`" for p in summary.files],
        "",
        fence,
        *[line.replace(fence, "'" * 4) for line in block],
        fence,
    ]
    return "\n".join(lines) + "\n"


def pull_request_body(summary: Summary) -> str:
    """The pull request's description: the summary, and how it was checked."""
    return (
        f"{summary_markdown(summary)}\n"
        "Shared with `nox -s share`: the files passed `nox -s validate` on the committed tree "
        "plus these files. The check on this pull request runs it again and builds the report.\n"
    )
