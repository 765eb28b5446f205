"""The Input pipelines page's charts: where each configuration's step time goes (compute, input and
other), and how throughput scales with intra-op threads. Built on `bench.report.charts`."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from bench.readers import bottleneck
from bench.report import attribution, training
from bench.report.charts import (
    COLOURS,
    INK,
    MUTED,
    TOP,
    Chart,
    chart_style,
    chosen_few,
    figure_title,
    new_figure,
    no_data,
    shown_note,
    value_labels,
    xlabel,
)
from bench.results import model

INPUT_WAIT = "#b8b8b8"
"""Input is drawn in grey, beside each machine's own colour for compute."""
OTHER = "#e4e4e4"
"""Other (neither the pipeline alone nor the model alone) is drawn in a paler grey, dotted."""


def attribution_chart(rows: pd.DataFrame, colours: Mapping[str, str]) -> Chart:
    """One workload: milliseconds per training image, split into compute, input and other.

    ``rows`` are one workload's rows of `attribution.attribution_table` (as
    `attribution.attribution_groups` gives them), one bar per machine, pipeline and thread count.
    A configuration without the measurement is written as "not measured", never drawn as zero.
    """
    workload = str(rows["workload"].iloc[0])
    name = model.WORKLOAD_TITLES.get(workload, workload)
    measured = rows[rows["attribution"] == "measured"]
    if measured.empty:
        title = f"{name}: input wait and compute not measured yet"
    else:
        counts = measured["verdict"].value_counts()
        verdict = str(counts.index[0])
        worst = measured.sort_values("input_wait_share", ascending=False).iloc[0]
        title = (
            f"{name}: {verdict} in {int(counts.iloc[0])} of {len(measured)} measured "
            f"configurations; {attribution.configuration_label(worst)} spends "
            f"{worst['input_wait_share']:.0%} of each step beyond computing"
        )
    everyone = len(rows)
    if everyone > TOP + 2:
        rows = chosen_few(rows.sort_values("end_to_end_ms", na_position="last"))
    labels = [attribution.configuration_label(r) for r in rows.to_dict("records")]
    with chart_style():
        figure = new_figure(1.9 + 0.5 * len(rows))
        ax = figure.add_subplot()
        ys = np.arange(len(rows), dtype=float)
        finite = measured["end_to_end_ms"].to_numpy(dtype=float)
        right = float(finite.max()) * 1.6 if len(finite) else 1.0
        ax.set_xlim(0, right)
        for y, row in zip(ys, rows.to_dict("records"), strict=True):
            if row["attribution"] != "measured":
                ax.text(right * 0.01, y, str(row["attribution"]), va="center", ha="left",
                        color=MUTED, style="italic", fontsize=9)  # fmt: skip
                continue
            compute, source = float(row["compute_ms"]), float(row["input_ms"])
            other = float(row["other_ms"])
            ax.barh(y, compute, height=0.6, color=colours.get(str(row["machine"]), COLOURS[0]),
                    zorder=2)  # fmt: skip
            ax.barh(y, source, left=compute, height=0.6, color=INPUT_WAIT, hatch="//",
                    edgecolor="white", zorder=2)  # fmt: skip
            ax.barh(y, other, left=compute + source, height=0.6, color=OTHER, hatch="..",
                    edgecolor="white", zorder=2)  # fmt: skip
            # Short enough to stay inside the axes; the verdict is named only when it is not
            # compute-bound (the title and the table give it for every configuration).
            total = compute + source + other
            label = f"{total:.1f} ms, {(source + other) / total:.0%} beyond compute"
            if row["verdict"] != bottleneck.COMPUTE_BOUND:
                label += f", {row['verdict']}"
            value_labels(ax, [y], [total], [label])
        ax.set_yticks(ys, labels)
        ax.invert_yaxis()
        ax.grid(axis="y", visible=False)
        xlabel(ax, "Milliseconds per training image (solid: compute; grey: input; pale: other)")
        figure_title(figure, title)
    parts = []
    for label, r in zip(labels, rows.itertuples(), strict=True):
        if r.attribution != "measured":
            parts.append(f"{label}: {r.attribution}")
        else:
            parts.append(
                f"{label}: {r.end_to_end_ms:.1f} ms per image, {r.compute_ms:.1f} compute, "
                f"{r.input_ms:.1f} input and {r.other_ms:.1f} other, {r.verdict}"
            )
    alt = f"Stacked bar chart of milliseconds per training image, {name}. " + "; ".join(parts)
    caption = (
        f"{name}: time per training image in the normal epochs, split into the model's own "
        "computation (from the compute-only measurement), the input pipeline's own time (from "
        "the input-only measurement, as much as the rest of the step holds) and other: what "
        "neither explains (the two sharing cores, per-step overhead, the handoff to fit). The "
        "verdict names the largest part: input-bound means a faster processor for the model "
        "cannot help, overhead-bound that neither a faster model nor a faster pipeline alone "
        "would."
    )
    caption += shown_note(len(rows), everyone, "configurations")
    return Chart(figure, title, alt + ".", caption)


def _scaling_line(series: pd.DataFrame) -> pd.DataFrame:
    """The points a scaling line joins: the explicit thread counts when there are two or more,
    else every point (the default placed at the machine's logical cores)."""
    placed = series.dropna(subset=["cores"]).sort_values("cores")
    explicit = placed[placed["intra_op_threads"] > 0]
    return explicit if len(explicit) >= 2 else placed


def scaling_chart(table: pd.DataFrame, colours: Mapping[str, str]) -> Chart:
    """End-to-end images/s against intra-op threads, one panel per workload (`attribution.thread_scaling`).

    One line per machine, pipeline and setting (solid: legacy, dashed: tf.data, dotted: tf.data
    with Keras layers; the profile named, and a marker shape per setting, where a workload has
    several) through the explicit
    thread counts; a default-thread run beside them is a hollow marker at the machine's cores.
    """
    if table.empty:
        message = "No machine has runs at two or more thread counts (--threads) yet."
        return no_data("Core scaling: not measured yet", message)
    workloads = [w for w in model.WORKLOADS if w in set(table["workload"])]
    gains = []
    for _, group in table.groupby(["workload", "machine", "pipeline", "setting"], sort=False):
        series = _scaling_line(group)
        if len(series) >= 2:
            low, high = series.iloc[0], series.iloc[-1]
            gains.append((high["images_per_s"] / low["images_per_s"], low, high))
    if gains:
        gain, low, high = max(gains, key=lambda g: g[0])
        title = (
            f"From {low['cores']:.0f} to {high['cores']:.0f} threads, training speeds up at most "
            f"{training.format_ratio(gain)} ({low['machine']}, "
            f"{model.WORKLOAD_TITLES.get(str(low['workload']), low['workload'])}, "
            f"{model.pipeline_name(low['pipeline'])})"
        )
    else:
        title = "Core scaling"
    with chart_style():
        figure = new_figure(1.4 + 2.4 * len(workloads))
        axes = figure.subplots(len(workloads), 1, squeeze=False)[:, 0]
        for ax, workload in zip(axes, workloads, strict=True):
            mine = table[table["workload"] == workload]
            settings = sorted(str(v) for v in mine["setting"].unique())
            several = len(settings) > 1
            lines = mine.groupby(["machine", "pipeline", "setting"], sort=True)
            for (machine, pipeline, setting), group in lines:
                series = _scaling_line(group)
                style = {"tfdata": "--", "tfdata-layers": ":"}.get(str(pipeline), "-")
                name = model.pipeline_name(pipeline)
                # Several settings (profiles, datasets) of one workload: name each line's.
                label = f"{machine}, {name}" + (
                    f" ({str(setting).split(',')[0]})" if several else ""
                )
                colour = colours.get(str(machine), COLOURS[0])
                marker = "os^Dv"[settings.index(str(setting)) % 5]  # one shape per setting
                ax.plot(series["cores"], series["images_per_s"], style, marker=marker,
                        color=colour, label=label)  # fmt: skip
                # A default-thread run beside explicit counts: a hollow marker off the line.
                extra = group[~group.index.isin(series.index)].dropna(subset=["cores"])
                ax.scatter(extra["cores"], extra["images_per_s"], s=40, facecolors="none",
                           edgecolors=colour, marker=marker, zorder=3)  # fmt: skip
                for r in group.dropna(subset=["cores"]).itertuples():
                    ax.annotate(f"{r.images_per_s:.0f}", (r.cores, r.images_per_s),
                                textcoords="offset points", xytext=(4, 4), fontsize=8,
                                color=INK)  # fmt: skip
            ax.set_ylim(bottom=0, top=float(mine["images_per_s"].max()) * 1.25)
            ticks = sorted(mine["cores"].dropna().unique())
            ax.set_xticks(ticks, [f"{t:.0f}" for t in ticks])
            ax.set_title(model.WORKLOAD_TITLES.get(workload, workload), fontsize=10)
            ax.set_ylabel("images/s")
            ax.legend(fontsize=8, frameon=False, loc="lower right")
        xlabel(axes[-1], "Intra-op threads (--threads; the default uses every logical core)")
        figure_title(figure, title)
    parts = [
        f"{model.WORKLOAD_TITLES.get(str(r.workload), r.workload)}, {r.machine}, "
        f"{r.pipeline}, {r.setting}, {r.threads}: {r.images_per_s:.1f} images/s"
        for r in table.itertuples()
    ]
    alt = "Line charts of training images per second against threads. " + "; ".join(parts) + "."
    caption = (
        "Median training images per second of the measured epochs at each thread count "
        "(--threads), one line per machine, pipeline and setting (dashed: tf.data, dotted: "
        "tf.data with Keras layers; the profile is named where a workload has several); a hollow "
        "marker is a "
        "run at TensorFlow's default, placed at the machine's logical cores. A line that stays "
        "flat as threads are added is limited by something the extra cores do not speed up."
    )
    return Chart(figure, title, alt, caption)
