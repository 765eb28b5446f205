"""Charts for the report: one colour per machine, value labels, titles that state the finding.

Every chart function returns a `Chart`: the matplotlib figure with its alt text and caption.
In a page, a cell that ends with a `Chart` shows it as a MyST figure (the PNG embedded, the alt
text and caption escaped). Figures are made without pyplot, so nothing is shown twice and no
global state leaks between charts.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import math
import textwrap
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import matplotlib as mpl
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from PIL import Image

from bench.report import tables, training
from bench.report.markup import escape_markdown, one_line
from bench.results import model

DPI = 200
"""PNG resolution: crisp on a laptop's high-density screen."""
WIDTH_IN = 8.0
# Mostly seaborn's colour-blind palette, chosen so any two stay apart: without its grey (reads as
# "missing"), pale yellow (too faint on white) and light pink (next to its pink), plus a brown and
# a dark purple.
COLOURS = ("#0173b2", "#de8f05", "#029e73", "#cc78bc", "#8c564b", "#56b4e9", "#d55e00", "#5e3c99")
INK = "#222222"
MUTED = "#6b6b6b"


def machine_colours(slugs: Iterable[str]) -> dict[str, str]:
    """A colour per machine, the same on every chart of a build.

    Each slug hashes to a preferred colour, so a machine usually keeps its colour as others are
    added; a collision takes the next free colour, in slug order. More machines than colours get
    an evenly spaced palette instead.
    """
    ordered = sorted(set(slugs))
    if len(ordered) > len(COLOURS):
        return dict(zip(ordered, sns.color_palette("husl", len(ordered)).as_hex(), strict=True))
    taken: set[int] = set()
    colours = {}
    for slug in ordered:
        index = int.from_bytes(hashlib.sha256(slug.encode()).digest()[:4], "big") % len(COLOURS)
        while index in taken:
            index = (index + 1) % len(COLOURS)
        taken.add(index)
        colours[slug] = COLOURS[index]
    return colours


@contextlib.contextmanager
def chart_style() -> Iterator[None]:
    """The report's look, applied to one figure at a time."""
    rc: Any = {
        "text.parse_math": False,  # "$" in a label is a dollar sign, not mathtext
        "axes.titlelocation": "left",
        "axes.titleweight": "bold",
        "axes.titlesize": 12,
        "figure.titlesize": 13,
        "figure.titleweight": "bold",
        "svg.fonttype": "path",
    }
    with (
        sns.axes_style("whitegrid"),
        sns.plotting_context("notebook", font_scale=0.9),
        mpl.rc_context(rc),
    ):
        yield


@dataclass(frozen=True)
class Chart:
    """A figure with what a reader without the image needs: alt text and a caption."""

    figure: Figure
    title: str
    """The finding the chart shows (also drawn as its title)."""
    alt: str
    """What the image shows, values included, for screen readers."""
    caption: str
    """What to look at, shown under the figure."""

    def png(self, dpi: int = DPI) -> bytes:
        """The figure as PNG bytes, in 256 colours: a chart has a few flat colours and their
        anti-aliased edges, and the palette makes it about 2.7x smaller than full colour (the
        Training page at 100 machines: 1.96 MB -> under 1 MB), pages being inlined images."""
        buffer = io.BytesIO()
        with chart_style():
            self.figure.savefig(buffer, format="png", dpi=dpi, facecolor="white")
        image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
        small = io.BytesIO()
        image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(
            small, format="PNG", optimize=True
        )
        return small.getvalue()

    def markdown(self) -> str:
        """A MyST figure directive with the PNG inlined, alt text and escaped caption."""
        uri = "data:image/png;base64," + base64.b64encode(self.png()).decode("ascii")
        return (
            f"```{{figure}} {uri}\n:alt: {one_line(self.alt)}\n:class: benchbook-chart\n\n"
            f"{escape_markdown(self.caption)}\n```\n"
        )

    def _repr_markdown_(self) -> str:
        return self.markdown()


def _wrap(text: str, width: int = 68) -> str:
    # "95 % CI" reads as one unit: no line break inside it (textwrap never breaks at U+00A0).
    text = text.replace(" % CI", "\u00a0%\u00a0CI")
    return "\n".join(textwrap.wrap(text, width, break_on_hyphens=False)) or text


def xlabel(ax: Axes, text: str) -> None:
    """An axis label wrapped to two lines when long: long machine labels push the axes right,
    and a one-line label centred under them ran past the figure's right edge."""
    ax.set_xlabel(_wrap(text, 52))


def figure_title(figure: Figure, text: str) -> None:
    """The finding, bold, left-aligned with the figure (long machine names wrap)."""
    figure.suptitle(_wrap(text), x=0.01, ha="left")


def new_figure(height_in: float) -> Figure:
    return Figure(figsize=(WIDTH_IN, height_in), layout="constrained")


def value_labels(ax: Axes, ys: Iterable[float], xs: Iterable[float], texts: Iterable[str]) -> None:
    """Text just right of each bar end (or whisker end)."""
    right = ax.get_xlim()[1]
    for y, x, text in zip(ys, xs, texts, strict=True):
        ax.text(x + right * 0.01, y, text, va="center", ha="left", color=INK, fontsize=9)


def no_data(title: str, message: str) -> Chart:
    with chart_style():
        figure = new_figure(1.6)
        ax = figure.add_subplot()
        ax.set_axis_off()
        ax.text(0.5, 0.5, _wrap(message, 70), ha="center", va="center", color=MUTED)
        figure_title(figure, title)
    return Chart(figure, title, f"No chart: {message}", message)


# --- Training ---------------------------------------------------------------------------------


def training_chart(
    comparison: training.Comparison, colours: Mapping[str, str], *, finding: str | None = None
) -> Chart:
    """Median seconds per epoch per machine, fastest on top, every measured epoch as a dot.

    The title states ``finding``; by default the fastest machine against the slowest.
    """
    full = training.summarise(comparison)
    summary = chosen_few(full)
    workload = model.WORKLOAD_TITLES.get(comparison.workload, comparison.workload)
    machines = summary["machine"].tolist()
    medians = summary["median_epoch_s"].to_numpy(dtype=float)
    title = finding or training.fastest_against_slowest(comparison)
    if len(summary) < len(full):
        title = finding or (
            f"{len(full)} machines; fastest {machines[0]} ({medians[0]:.3g} s per epoch)"
        )
    with chart_style():
        figure = new_figure(1.7 + 0.55 * len(machines))
        ax = figure.add_subplot()
        ys = np.arange(len(machines), dtype=float)
        ax.barh(ys, medians, height=0.6, color=[colours[m] for m in machines], zorder=2)
        ends = []
        for y, machine in zip(ys, machines, strict=True):
            values = np.sort(comparison.values(machine))
            offsets = np.linspace(-0.17, 0.17, len(values)) if len(values) > 1 else np.zeros(1)
            ax.scatter(values, y + offsets, s=22, color=INK, alpha=0.8, edgecolors="white",
                       linewidths=0.6, zorder=3)  # fmt: skip
            ends.append(float(values.max()))
        if max(ends) / float(medians.min()) > WIDE_SPREAD:
            # One slow machine would squeeze every other bar flat on a linear axis.
            _log_axis(ax)
            ax.set_xlim(float(medians.min()) / 2, max(ends) * 2)
        else:
            ax.set_xlim(0, max(ends) * 1.2)
        value_labels(ax, ys, ends, [f"{m:.1f} s" for m in medians])
        ax.set_yticks(ys, machines)
        ax.invert_yaxis()
        ax.grid(axis="y", visible=False)
        xlabel(ax, "Seconds per epoch (bar: median, dots: each measured epoch; shorter is faster)")
        figure_title(figure, f"{workload}: {title}")
    listed = ", ".join(f"{m} {s:.1f} s" for m, s in zip(machines, medians, strict=True))
    alt = f"Horizontal bar chart of median seconds per epoch, {workload}: {listed}."
    caption = (
        f"{workload}, median seconds per training epoch, warm-up epochs left out "
        f"({comparison.describe()}). Dots are the individual measured epochs of every run; "
        "a wide cloud means a noisy measurement. Shorter bars are faster."
    )
    caption += shown_note(len(summary), len(full))
    return Chart(figure, title, alt, caption)


TOP = 12
"""The fastest machines a training chart always shows."""
WIDE_SPREAD = 10.0
"""Above this slowest-to-fastest ratio a training chart's axis is logarithmic."""


def shown_note(shown: int, everyone: int, what: str = "machines") -> str:
    """The caption's note when a chart shows a chosen few."""
    if shown >= everyone:
        return ""
    return (
        f" Shown: {shown} of {everyone} {what} (the {TOP} first in the ranking, the median one and "
        "the last); the tables and each machine's page have them all."
    )


def chosen_few(summary: pd.DataFrame) -> pd.DataFrame:
    """The rows of a `training.summarise` table (fastest first) a chart can show legibly: all of
    them up to ``TOP + 2``, else the ``TOP`` fastest, the median machine and the slowest."""
    if len(summary) <= TOP + 2:
        return summary
    keep = sorted({*range(TOP), len(summary) // 2, len(summary) - 1})
    return summary.iloc[keep].reset_index(drop=True)


def _log_axis(ax: Axes) -> None:
    """A logarithmic x axis labelled in plain numbers (1, 2, 5, 10 ...): mathtext is off so
    that a "$" in a label stays a dollar sign, and matplotlib's default log labels are mathtext."""
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(mticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(mticker.NullFormatter())


def _workload_panel(ax: Axes, ys: Iterable[float], labels: list[str], workload: str) -> None:
    """One workload's panel of a horizontal chart: its rows named top-down, titled."""
    ax.set_yticks(list(ys), labels)
    ax.invert_yaxis()
    ax.grid(axis="y", visible=False)
    ax.set_title(model.WORKLOAD_TITLES.get(workload, workload), fontsize=10)


def throughput_chart(results: tables.Results, colours: Mapping[str, str]) -> Chart:
    """Median training images per second, one panel per workload (each with its own scale)."""
    main = training.main_comparisons(results)
    if not main:
        return no_data("No training results yet", "No training results yet.")
    summaries = {w: training.summarise(c) for w, c in main.items()}
    wins: dict[str, int] = {}
    for summary in summaries.values():
        best = summary.sort_values("median_images_per_s", ascending=False).iloc[0]["machine"]
        wins[best] = wins.get(best, 0) + 1
    leader = max(sorted(wins), key=lambda m: wins[m])
    title = f"{leader} trains the most images per second in {wins[leader]} of {len(main)} workloads"
    everyone = {w: len(s) for w, s in summaries.items()}
    summaries = {w: chosen_few(s) for w, s in summaries.items()}
    heights = [0.6 + 0.42 * len(s) for s in summaries.values()]
    with chart_style():
        figure = new_figure(1.0 + sum(heights))
        axes = figure.subplots(len(main), 1, squeeze=False, height_ratios=heights)[:, 0]
        for ax, (workload, summary) in zip(axes, summaries.items(), strict=True):
            machines = summary["machine"].tolist()
            rates = summary["median_images_per_s"].to_numpy(dtype=float)
            ys = np.arange(len(machines), dtype=float)
            ax.barh(ys, rates, height=0.65, color=[colours[m] for m in machines], zorder=2)
            ax.set_xlim(0, rates.max() * 1.18)
            value_labels(ax, ys, rates, [f"{r:,.0f} img/s" for r in rates])
            _workload_panel(ax, ys, machines, workload)
        xlabel(axes[-1], "Training images per second (median of measured epochs; longer is faster)")
        figure_title(figure, title)
    parts = []
    for workload, summary in summaries.items():
        values = ", ".join(
            f"{m} {r:,.0f}"
            for m, r in zip(summary["machine"], summary["median_images_per_s"], strict=True)
        )
        parts.append(f"{model.WORKLOAD_TITLES.get(workload, workload)}: {values}")
    alt = "Bar charts of training images per second. " + "; ".join(parts) + "."
    caption = (
        "Median training images per second of the measured epochs (training phase only, "
        "validation left out), one panel per workload, each with its own scale. "
        "Longer bars are faster."
    ) + shown_note(max(len(x) for x in summaries.values()), max(everyone.values()))
    return Chart(figure, title, alt, caption)


FAMILY_COLOURS = dict(zip(model.FAMILIES, COLOURS, strict=False))
"""A colour per hardware family, for charts of every machine (one colour per machine would
run out long before a thousand)."""


def efficiency_chart(results: tables.Results) -> Chart:
    """Energy against speed: per workload (the configuration with the most machines with energy
    counters), each machine's median training images per joule against its images per second,
    one dot per machine coloured by hardware family, both axes logarithmic. Up and right is
    better: more images for each joule and each second."""
    chosen = training.energy_comparisons(results)
    if not chosen:
        return no_data("No energy figures yet", training.energy_note(results))
    family = {m: model.hardware_family(results.newest(m)["machine"]) for m in results.machines}
    panels = {}
    for workload, comparison in chosen.items():
        summary = training.summarise(comparison)
        summary = summary.dropna(subset=["median_images_per_j"])
        panels[workload] = (comparison, summary[summary["median_images_per_s"] > 0])
    panels = {w: p for w, p in panels.items() if len(p[1])}
    if not panels:
        return no_data("No energy figures yet", training.energy_note(results))
    best = {
        w: s.sort_values(["median_images_per_j", "machine"], ascending=[False, True]).iloc[0]
        for w, (_, s) in panels.items()
    }
    counted = len({m for _, s in panels.values() for m in s["machine"]})
    first = next(iter(panels))
    title = (
        f"{counted} machine{'s' if counted != 1 else ''} with energy counters; most efficient in "
        f"{model.WORKLOAD_TITLES.get(first, first)}: {best[first]['machine']} "
        f"({best[first]['median_images_per_j']:.3g} images per joule)"
    )
    columns = 2 if len(panels) > 1 else 1
    rows = -(-len(panels) // columns)
    with chart_style():
        figure = new_figure(0.6 + 3.2 * rows)
        # A margin on the right: constrained layout puts the right panel's frame on the edge.
        figure.get_layout_engine().set(rect=(0.0, 0.0, 0.98, 1.0))  # type: ignore[union-attr, call-arg]
        axes = figure.subplots(rows, columns, squeeze=False).ravel()
        for ax in axes[len(panels) :]:
            ax.set_axis_off()
        shown_families: set[str] = set()
        for ax, (workload, (_, summary)) in zip(axes, panels.items(), strict=False):
            for name in model.FAMILIES:
                mine = summary[[family[str(m)] == name for m in summary["machine"]]]
                if mine.empty:
                    continue
                shown_families.add(name)
                ax.scatter(mine["median_images_per_s"], mine["median_images_per_j"], s=26,
                           color=FAMILY_COLOURS[name], alpha=0.8, edgecolors="white",
                           linewidths=0.5, zorder=3, label=name)  # fmt: skip
            top = best[workload]
            ax.scatter([top["median_images_per_s"]], [top["median_images_per_j"]], s=90,
                       facecolors="none", edgecolors=INK, linewidths=1.0, zorder=4)  # fmt: skip
            named = (
                f"circled, most efficient: {top['machine']} ({top['median_images_per_j']:.3g}/J)"
            )
            ax.text(0.02, 0.02, _wrap(named, 46), transform=ax.transAxes, fontsize=7.5,
                    color=MUTED, va="bottom", ha="left", clip_on=True)  # fmt: skip
            for axis, scale in ((ax.xaxis, ax.set_xscale), (ax.yaxis, ax.set_yscale)):
                scale("log")
                axis.set_major_locator(mticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
                axis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:g}"))
                axis.set_minor_formatter(mticker.NullFormatter())
            ax.margins(0.25)
            ax.set_title(_wrap(model.WORKLOAD_TITLES.get(workload, workload), 36), fontsize=10)
            ax.set_xlabel("Images per second", fontsize=9)
            ax.set_ylabel("Images per joule", fontsize=9)
        handles = [
            Line2D([], [], marker="o", linestyle="", color=FAMILY_COLOURS[f], label=f)
            for f in model.FAMILIES
            if f in shown_families
        ]
        figure.legend(
            handles=handles, loc="outside lower center", ncols=len(handles), frameon=False
        )
        figure_title(figure, title)
    parts = []
    for workload, (comparison, summary) in panels.items():
        top = best[workload]
        fastest = summary.iloc[int(np.argmax(summary["median_images_per_s"].to_numpy()))]
        parts.append(
            f"{model.WORKLOAD_TITLES.get(workload, workload)} ({comparison.describe()}): "
            f"{len(summary)} machine{'s' if len(summary) != 1 else ''}; most efficient "
            f"{top['machine']} {top['median_images_per_j']:.3g} images/J at "
            f"{top['median_images_per_s']:,.0f} images/s; fastest {fastest['machine']} "
            f"{fastest['median_images_per_s']:,.0f} images/s at "
            f"{fastest['median_images_per_j']:.3g} images/J"
        )
    alt = (
        "Scatter plots of training images per joule against images per second. "
        + "; ".join(parts)
        + "."
    )
    caption = (
        "Each dot is one machine: its median training images per second (across) and per joule "
        "of the training phase, all counter domains (up), over its measured epochs, in the "
        "configuration of each workload with the most machines with energy counters. Up and "
        "right is better; both axes are logarithmic. The most efficient machine is circled and "
        "named. "
        "Machines without energy counters are not shown."
    )
    return Chart(figure, title, alt, caption)


def family_chart(results: tables.Results) -> Chart:
    """Where every machine stands: per workload (the charted configuration), each machine's
    median seconds per epoch as a dot, grouped by hardware family with a box of the middle half,
    on a log axis. Its size does not grow with the machines."""
    main = training.main_comparisons(results)
    if not main:
        return no_data("No training results yet", "No training results yet.")
    family = {m: model.hardware_family(results.newest(m)["machine"]) for m in results.machines}
    panels: dict[str, list[tuple[str, list[float]]]] = {}
    for workload, comparison in main.items():
        summary = training.summarise(comparison)
        by_family: dict[str, list[float]] = {}
        for machine, seconds in zip(summary["machine"], summary["median_epoch_s"], strict=True):
            by_family.setdefault(family[str(machine)], []).append(float(seconds))
        panels[workload] = [(f, by_family[f]) for f in model.FAMILIES if f in by_family]
    count = len(results.machines)
    title = f"Where {count} machine{'s' if count != 1 else ''} stand, by hardware family"
    rng = np.random.default_rng(0)  # jitter only: the same picture on every build
    heights = [0.7 + 0.5 * len(p) for p in panels.values()]
    with chart_style():
        figure = new_figure(1.0 + sum(heights))
        axes = figure.subplots(len(panels), 1, squeeze=False, height_ratios=heights)[:, 0]
        for ax, (workload, groups) in zip(axes, panels.items(), strict=True):
            values = [np.asarray(v) for _, v in groups]
            ys = np.arange(len(groups), dtype=float)
            ax.boxplot(values, positions=ys, orientation="horizontal", widths=0.5, showfliers=False,
                       medianprops={"color": INK}, zorder=2)  # fmt: skip
            for y, v in zip(ys, values, strict=True):
                ax.scatter(v, y + rng.uniform(-0.18, 0.18, len(v)), s=16, color=INK,
                           alpha=0.7, linewidths=0, zorder=3)  # fmt: skip
            _log_axis(ax)
            _workload_panel(ax, ys, [f"{f} ({len(v)})" for f, v in groups], workload)
        xlabel(
            axes[-1], "Median seconds per epoch, one dot per machine (log scale; left is faster)"
        )
        figure_title(figure, title)
    parts = []
    for workload, groups in panels.items():
        described = ", ".join(
            f"{f}: {len(v)} machine{'s' if len(v) != 1 else ''}, median {np.median(v):.3g} s, "
            f"{min(v):.3g} to {max(v):.3g} s"
            for f, v in groups
        )
        parts.append(f"{model.WORKLOAD_TITLES.get(workload, workload)}: {described}")
    alt = "Dot and box plots of seconds per epoch by hardware family. " + "; ".join(parts) + "."
    caption = (
        "Each dot is one machine's median seconds per measured epoch in the configuration the "
        "charts above show; the box spans the middle half of its family and the line in it is "
        "the family's median. The axis is logarithmic, so equal distances are equal ratios. "
        "Families: Apple M-series chips, machines with an NVIDIA GPU, and other x86 or Arm CPUs."
    )
    return Chart(figure, title, alt, caption)


# --- Scores --------------------------------------------------------------------------------------


def _score_finding(scores: pd.DataFrame, source: str) -> str:
    ok = scores[scores["status"] == "ok"]
    for section in ("multi_core", "gpu", "single_core"):
        rows = ok[ok["section"] == section].sort_values("score", ascending=False)
        if len(rows) >= 2:
            top, low = rows.iloc[0], rows.iloc[-1]
            ratio = training.format_ratio(top["score"] / low["score"])
            name = model.SECTION_TITLES[section].lower()
            return f"{source}: {top['machine']} scores {ratio} {low['machine']} on {name}"
    return f"{source}: not enough machines with scores to compare yet"


def _score(rows: pd.DataFrame, machine: str) -> float:
    """A machine's score in one section's rows (indexed by machine), NaN unless ``ok``."""
    if machine not in rows.index or rows.at[machine, "status"] != "ok":
        return math.nan
    score: Any = rows.at[machine, "score"]
    return float(score)


def scores_chart(scores: pd.DataFrame, colours: Mapping[str, str], source: str) -> Chart:
    """Scores per machine in three panels (single-core, multi-core, GPU); higher is better.

    ``scores`` has columns ``machine``, ``section``, ``status``, ``score`` and ``reason``
    (as `scores.probe_scores`). A section that is not ``ok`` is written as its status, never
    drawn as a zero bar.
    """
    if scores.empty:
        return no_data(f"{source}: no scores yet", f"No {source.lower()} in the results yet.")
    machines = sorted(scores["machine"].unique())
    title = _score_finding(scores, source)
    everyone = len(machines)
    if everyone > TOP + 2:
        # The highest multi-core scores (then any section), the median machine and the lowest.
        best = {m: max((_score(scores[scores["section"] == s].set_index("machine"), m)
                        for s in model.SECTIONS), default=math.nan) for m in machines}  # fmt: skip
        ranked = sorted(machines, key=lambda m: -best[m] if math.isfinite(best[m]) else math.inf)
        machines = chosen_few(pd.DataFrame({"machine": ranked}))["machine"].tolist()
    with chart_style():
        figure = new_figure(1.5 + 0.5 * len(machines))
        axes = figure.subplots(1, len(model.SECTIONS), sharey=True)
        ys = np.arange(len(machines), dtype=float)
        for ax, section in zip(axes, model.SECTIONS, strict=True):
            rows = scores[scores["section"] == section].set_index("machine")
            values = [_score(rows, m) for m in machines]
            finite = [v for v in values if math.isfinite(v)]
            ax.set_xlim(0, (max(finite) if finite else 1.0) * 1.45)
            for y, machine, value in zip(ys, machines, values, strict=True):
                if math.isfinite(value):
                    ax.barh(y, value, height=0.6, color=colours[machine], zorder=2)
                    value_labels(ax, [y], [value], [f"{value:,.0f}"])
                else:
                    status = str(rows.at[machine, "status"]) if machine in rows.index else "not run"
                    ax.text(ax.get_xlim()[1] * 0.02, y, status, va="center", ha="left",
                            color=MUTED, style="italic", fontsize=9)  # fmt: skip
            ax.set_yticks(ys, machines)
            ax.grid(axis="y", visible=False)
            ax.set_title(model.SECTION_TITLES[section], fontsize=10)
            ax.set_xticks([])
        axes[0].invert_yaxis()
        figure_title(figure, title)
    parts = []
    for section in model.SECTIONS:
        rows = scores[(scores["section"] == section) & scores["machine"].isin(machines)]
        listed = ", ".join(
            f"{r.machine} {r.score:,.0f}" if r.status == "ok" else f"{r.machine} {r.status}"
            for r in rows.itertuples()
        )
        parts.append(f"{model.SECTION_TITLES[section]}: {listed or 'none'}")
    alt = f"Bar charts of {source}. " + "; ".join(parts) + "."
    caption = (
        f"{source}, higher is better; each panel has its own scale. A section a machine could "
        "not run (no GPU visible, or probes skipped) is written in grey, not drawn as zero."
    ) + shown_note(len(machines), everyone)
    return Chart(figure, title, alt, caption)


def geekbench_long(geekbench: pd.DataFrame) -> pd.DataFrame:
    """`scores.geekbench_scores` in the long form `scores_chart` takes."""
    rows = []
    for r in geekbench.itertuples():
        for section in model.SECTIONS:
            score = float(getattr(r, section))
            status = "ok" if math.isfinite(score) else "not reported"
            rows.append([r.machine, section, status, score, None])
    return pd.DataFrame(rows, columns=["machine", "section", "status", "score", "reason"])


# --- The article ------------------------------------------------------------------------------


def article_chart(comparison: pd.DataFrame) -> Chart:
    """The article's ratios (hollow diamonds) beside the ratios measured here (dots)."""
    measured = comparison[np.isfinite(comparison["here_ratio"].to_numpy(dtype=float))]
    total = len(comparison)
    if measured.empty:
        title = f"None of the article's {total} ratios can be checked here yet"
    else:
        close = np.abs(measured["here_ratio"] / measured["article_ratio"] - 1) <= 0.10
        title = (
            f"{len(measured)} of the article's {total} ratios measured here; "
            f"{int(close.sum())} within 10 % of the article"
        )
    titles = comparison["title"].tolist()
    with chart_style():
        figure = new_figure(1.6 + 0.45 * total)
        ax = figure.add_subplot()
        ys = np.arange(total, dtype=float)
        ax.axvline(1.0, color=MUTED, lw=1, ls="--", zorder=1)
        # The dot is drawn under a hollow diamond so both show when they coincide.
        ax.scatter(measured["here_ratio"], ys[measured.index], marker="o", s=40,
                   color=COLOURS[0], zorder=3, label="measured here")  # fmt: skip
        ax.scatter(comparison["article_ratio"], ys, marker="D", s=90, facecolors="none",
                   edgecolors=INK, linewidths=1.4, zorder=4, label="the article")  # fmt: skip
        high = float(np.nanmax([comparison["article_ratio"].max(), measured["here_ratio"].max()]))
        ax.set_xlim(0, high * 1.12)
        ax.set_yticks(ys, titles)
        ax.invert_yaxis()
        values = ax.secondary_yaxis("right")
        values.set_yticks(
            ys, [f"article {r.article_ratio:.2f}x, here {r.here}" for r in comparison.itertuples()]
        )
        values.tick_params(length=0)
        ax.grid(axis="y", visible=False)
        xlabel(ax, "M1 Pro over M1 (times faster or times higher; 1.0 = equal)")
        figure.legend(loc="outside lower center", ncols=2, frameon=False, fontsize=9)
        figure_title(figure, title)
    alt = "Dot chart of M1 Pro over M1 ratios. " + "; ".join(
        f"{row.title}: article {row.article_ratio:.2f}x, here {row.here}"
        for row in comparison.itertuples()
    ) + "."  # fmt: skip
    caption = (
        "Hollow diamonds: the ratios the article states (M1 Pro over M1); dots: the same ratio "
        "from comparable results here, where both chips have them. The dashed line marks equal."
    )
    return Chart(figure, title, alt, caption)


# --- Attribution ---------------------------------------------------------------------------------
