"""The Attribution page: where each configuration's training step time goes.

Attribution is benchbook's word for the input-versus-compute measurement (`bench.worker.throughputs`):
the training pipeline alone, the model alone on an in-memory batch, and end to end. This module
groups the measurements by configuration, picks what each chart shows, and tells the story of
the article's augmentation result.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from bench.readers import bottleneck
from bench.report.tables import Results, measured_epochs, run_rate
from bench.results import model
from bench.results.model import PIPELINE_TITLES, WORKLOAD_TITLES, WORKLOADS, pipeline_name

SETTING_KEY = tuple(k for k in model.FIELDS if k not in ("pipeline", "intra_op_threads"))
"""What must agree for configurations to share an attribution chart: everything in
`bench.results.model.FIELDS` except the input pipeline and the thread count, which the chart compares."""


_TABLE_COLUMNS = [
    "workload", "machine", "pipeline", "intra_op_threads", "threads", *SETTING_KEY[1:],
    "runs", "measured_runs", "attribution", "input_images_per_s", "compute_images_per_s",
    "end_to_end_images_per_s", "input_wait_share", "end_to_end_ms", "compute_ms",
    "input_wait_ms", "input_ms", "other_ms", "verdict", "overhead_share",
]  # fmt: skip


def threads_label(intra_op_threads: int, logical_cores: Any = None) -> str:
    """``0`` -> ``default (8 cores)`` (or ``default``); ``2`` -> ``2 threads``."""
    if intra_op_threads == 0:
        return f"default ({logical_cores} cores)" if isinstance(logical_cores, int) else "default"
    return f"{intra_op_threads} thread" + ("s" if intra_op_threads != 1 else "")


def attribution_table(results: Results) -> pd.DataFrame:
    """Where each configuration's training step time goes: one row per machine and setting.

    A configuration is a machine with one value of every `bench.results.model.FIELDS` field (so the
    pipeline and thread count are part of it). Throughputs are medians over its finished runs
    (end to end: each run's median of measured epochs); input wait share, milliseconds per image
    and the verdict follow `bench.readers.bottleneck.derive`. ``attribution`` is ``measured`` when at
    least one run has the measurement, else ``failed`` or ``not measured`` (files from before
    it, or runs with --skip-attribution): their throughputs are NaN and their verdict
    ``not measured``. ``overhead_share`` is the measurement's time over the rest of the run's
    wall time (median; NaN where the run's wall time was not recorded).
    """
    frame = results.attribution
    if frame.empty:
        return pd.DataFrame(columns=_TABLE_COLUMNS)
    rows = []
    keys = ["machine", *model.FIELDS]
    for key, group in frame.groupby(keys, sort=False, dropna=False):
        values = dict(zip(keys, key, strict=True))
        measured = group[group["attribution"] == "measured"]
        status = (
            "measured" if not measured.empty
            else "failed" if (group["attribution"] == "failed").any() else "not measured"
        )  # fmt: skip
        source = float(measured["input_images_per_s"].median()) if len(measured) else math.nan
        compute = float(measured["compute_images_per_s"].median()) if len(measured) else math.nan
        end = float(group["end_to_end_images_per_s"].median())
        derived = bottleneck.derive(source, compute, end)
        overhead = measured["elapsed_s"] / (measured["wall_s"] - measured["elapsed_s"])
        cores = group["logical_cores"].dropna()
        threads = int(group["intra_op_threads"].iloc[0])
        rows.append(
            [values["workload"], values["machine"], values["pipeline"], threads,
             threads_label(threads, int(cores.iloc[-1]) if len(cores) else None),
             *(values[k] for k in SETTING_KEY[1:]), len(group), len(measured), status, source,
             compute, end, derived["input_wait_share"], derived["end_to_end_ms"],
             derived["compute_ms"], derived["input_wait_ms"], derived["input_ms"],
             derived["other_ms"], derived["verdict"],
             float(overhead.median()) if overhead.notna().any() else math.nan]
        )  # fmt: skip
    table = pd.DataFrame(rows, columns=_TABLE_COLUMNS)
    order = {w: i for i, w in enumerate(WORKLOADS)}
    return table.sort_values(
        ["workload", "machine", "pipeline", "intra_op_threads"],
        key=lambda c: c.map(order) if c.name == "workload" else c,
        ignore_index=True,
    )


def _setting_rank(rows: pd.DataFrame) -> tuple[Any, ...]:
    first = rows.iloc[0]
    profile, real, size, *_, fingerprint = model.preference(first)
    return (
        -rows["machine"].nunique(),
        profile,
        real,
        -int((rows["attribution"] == "measured").sum()),
        size,
        fingerprint,
    )


def attribution_groups(results: Results) -> dict[str, pd.DataFrame]:
    """Per workload, the `attribution_table` rows the report charts together.

    They share every `SETTING_KEY` field (profile, sizes, dataset, weights) and differ in
    machine, pipeline and thread count. Where a workload ran in several settings, the one with
    the most machines is charted, then the largest profile (full, medium, quick), real data, and
    the most measured configurations: as on the training pages (`comparisons`).
    """
    table = attribution_table(results)
    chosen: dict[str, pd.DataFrame] = {}
    for workload in WORKLOADS:
        mine = table[table["workload"] == workload]
        if mine.empty:
            continue
        groups = [g for _, g in mine.groupby(list(SETTING_KEY[1:]), sort=False, dropna=False)]
        chosen[workload] = min(groups, key=_setting_rank).reset_index(drop=True)
    return chosen


def configuration_label(row: Any, *, threads: bool = True) -> str:
    """``laptop-a, tf.data, 2 threads``: how an attribution row is named on charts and tables."""
    pipeline = pipeline_name(row["pipeline"])
    return f"{row['machine']}, {pipeline}" + (f", {row['threads']}" if threads else "")


def thread_scaling(results: Results) -> pd.DataFrame:
    """End-to-end images/s against intra-op threads, where a machine ran several thread counts.

    One row per machine, workload, pipeline, setting (`SETTING_KEY`, named in ``setting``:
    ``quick, 224 px, batch 64, synthetic data 3f2a9c1e``) and thread count, with the
    end-to-end images/s (`run_rate`); only series with two or more thread
    counts in effect are kept (the default and an explicit count of every core are one).
    ``cores`` is the thread count as a number: the machine's logical cores for the default
    (0), when known.
    """
    columns = ["workload", "machine", "pipeline", "intra_op_threads", "threads", "cores",
               "images_per_s", "epochs", "setting"]  # fmt: skip
    epochs = measured_epochs(results.epochs)
    if epochs.empty:
        return pd.DataFrame(columns=columns)
    cores_of = results.attribution.set_index("path")["logical_cores"].to_dict()
    rows = []
    series_key = ["machine", "workload", "pipeline", *SETTING_KEY[1:]]
    for key, series in epochs.groupby(series_key, sort=False, dropna=False):
        if series["intra_op_threads"].nunique() < 2:
            continue
        values = dict(zip(series_key, key, strict=True))
        setting = (
            f"{values['profile']}, {values['image_size']} px, batch {values['batch_size']}, "
            f"{values['dataset_kind']} data {str(values['dataset_fingerprint'])[:8]}"
        )
        points: list[list[Any]] = []
        for _, frame in series.groupby("intra_op_threads", sort=True):
            logical = cores_of.get(frame["path"].iloc[-1])
            count = int(frame["intra_op_threads"].iloc[0])
            cores = count if count else (logical if isinstance(logical, int) else math.nan)
            points.append(
                [values["workload"], values["machine"], values["pipeline"], count,
                 threads_label(count, logical), cores, run_rate(frame),
                 len(frame), setting]
            )  # fmt: skip
        # The default and an explicit count of every core are one point on the axis: a series
        # needs two different thread counts in effect.
        if len({float(p[5]) for p in points if not math.isnan(float(p[5]))}) >= 2:
            rows.extend(points)
    order = {w: i for i, w in enumerate(WORKLOADS)}
    table = pd.DataFrame(rows, columns=columns)
    if table.empty:
        return table
    return table.sort_values(
        ["workload", "machine", "pipeline", "setting", "cores"],
        key=lambda c: c.map(order) if c.name == "workload" else c,
        ignore_index=True,
    )


@dataclass(frozen=True)
class AugmentationStory:
    """The figures behind the explanation of the article's augmentation result, one machine."""

    machine: str
    threads: str
    legacy: Mapping[str, Any]
    """The ``cnn-aug`` legacy row of `attribution_table`."""
    plain: Mapping[str, Any] | None
    """The ``cnn`` legacy row (no augmentation), when measured."""
    tfdata: Mapping[str, Any] | None
    """The ``cnn-aug`` tf.data row, when measured."""
    layers: Mapping[str, Any] | None = None
    """The ``cnn-aug`` row of tf.data with the Keras preprocessing layers, when measured."""

    @property
    def augmentation_cost(self) -> float:
        """How many times fewer images/s the legacy pipeline delivers once it augments."""
        if self.plain is None:
            return math.nan
        return float(self.plain["input_images_per_s"]) / float(self.legacy["input_images_per_s"])

    def _over_legacy(self, row: Mapping[str, Any] | None) -> float:
        """``row``'s end-to-end images/s over the legacy row's; NaN when ``row`` is missing."""
        if row is None:
            return math.nan
        end = float(self.legacy["end_to_end_images_per_s"])
        return float(row["end_to_end_images_per_s"]) / end

    @property
    def tfdata_speedup(self) -> float:
        """tf.data over legacy, end-to-end images/s on ``cnn-aug``."""
        return self._over_legacy(self.tfdata)

    @property
    def layers_speedup(self) -> float:
        """tf.data with the Keras layers over legacy, end-to-end images/s on ``cnn-aug``."""
        return self._over_legacy(self.layers)


def augmentation_story(results: Results) -> AugmentationStory | None:
    """The machine and figures that explain the augmentation result, or None when not measured.

    Uses the charted ``cnn-aug`` setting (`attribution_groups`); prefers a configuration at the
    default thread count (else the most threads), and a machine that also measured ``cnn`` and
    the tf.data pipeline.
    """
    groups = attribution_groups(results)
    aug = groups.get("cnn-aug")
    if aug is None:
        return None
    measured = aug[aug["attribution"] == "measured"]
    legacy_rows = measured[measured["pipeline"] == "legacy"]
    if legacy_rows.empty:
        return None
    plain_rows = groups.get("cnn", pd.DataFrame(columns=_TABLE_COLUMNS))
    plain_rows = plain_rows[
        (plain_rows["attribution"] == "measured") & (plain_rows["pipeline"] == "legacy")
    ]

    def find(rows: pd.DataFrame, machine: str, threads: int) -> Mapping[str, Any] | None:
        hit = rows[(rows["machine"] == machine) & (rows["intra_op_threads"] == threads)]
        return None if hit.empty else {str(k): v for k, v in hit.iloc[0].items()}

    def rank(row: Any) -> tuple[Any, ...]:
        m, t = row.machine, int(row.intra_op_threads)
        tf_rows = measured[measured["pipeline"] != "legacy"]
        return (t != 0, find(tf_rows, m, t) is None, find(plain_rows, m, t) is None, m, -t)

    best = min(legacy_rows.itertuples(), key=rank)
    machine, threads = str(best.machine), int(str(best.intra_op_threads))
    return AugmentationStory(
        machine=machine,
        threads=str(best.threads),
        legacy=find(legacy_rows, machine, threads) or {},
        plain=find(plain_rows, machine, threads),
        tfdata=find(measured[measured["pipeline"] == "tfdata-affine"], machine, threads),
        layers=find(measured[measured["pipeline"] == "tfdata-layers"], machine, threads),
    )


def _rate(value: float) -> str:
    return f"{value:,.1f}" if pd.notna(value) else "\u2014"


def attribution_display(rows: pd.DataFrame) -> pd.DataFrame:
    """`attribution_table` rows as the report shows them, one per configuration.

    Configurations without the measurement say ``not measured`` (or ``failed``), never zero.
    """
    return pd.DataFrame(
        {
            "Configuration": [configuration_label(r) for r in rows.to_dict("records")],
            "Input only (img/s)": rows["input_images_per_s"].map(_rate),
            "Compute only (img/s)": rows["compute_images_per_s"].map(_rate),
            "End to end (img/s)": rows["end_to_end_images_per_s"].map(_rate),
            "Step time": [
                bottleneck.split_text(r, missing="\u2014") for r in rows.to_dict("records")
            ],
            "Verdict": [
                r["verdict"] if r["attribution"] == "measured" else r["attribution"]
                for r in rows.to_dict("records")
            ],
            "Runs (measured)": [
                f"{r['runs']} ({r['measured_runs']})" for r in rows.to_dict("records")
            ],
        }
    )


def scaling_display(table: pd.DataFrame) -> pd.DataFrame:
    """`thread_scaling` as a table: images/s per thread count."""
    return pd.DataFrame(
        {
            "Workload": table["workload"].map(lambda w: WORKLOAD_TITLES.get(w, w)),
            "Machine": table["machine"],
            "Pipeline": table["pipeline"].map(PIPELINE_TITLES).fillna(table["pipeline"]),
            "Setting": table["setting"],
            "Threads": table["threads"],
            "Images/s (median)": table["images_per_s"].map(_rate),
            "Measured epochs": table["epochs"],
        }
    )


STORY_NAMES = (
    "aug-machine", "aug-threads", "aug-input", "aug-compute", "aug-e2e", "aug-wait",
    "aug-verdict", "aug-slower", "aug-split", "aug-x2", "aug-xinf", "plain-input", "plain-wait",
    "plain-x2",
    "aug-cost", "tfdata-finding", "layers-finding",
)  # fmt: skip
"""The glue names of the augmentation story on the Attribution page."""
MISSING = "not measured"


def _whole_rate(value: float) -> str:
    return f"{value:,.0f}" if math.isfinite(value) else MISSING


def _share(value: float) -> str:
    return f"{value:.0%}" if math.isfinite(value) else MISSING


def _times(value: float) -> str:
    if value == math.inf:
        return "no limit (no input wait was measured)"
    return f"{value:.2f}x" if math.isfinite(value) else MISSING


def _bound(row: Mapping[str, Any] | None, factor: float) -> str:
    if not row:
        return MISSING
    return _times(bottleneck.speedup_bound(float(row["input_wait_share"]), factor))


def story_texts(story: AugmentationStory | None) -> dict[str, str]:
    """Every figure of the augmentation story as the text the page glues (`STORY_NAMES`)."""
    if story is None:
        texts = dict.fromkeys(STORY_NAMES, MISSING)
        texts["tfdata-finding"] = "No tf.data run of this workload has been measured yet."
        texts["layers-finding"] = ""
        return texts
    legacy, plain, tfdata, layers = story.legacy, story.plain, story.tfdata, story.layers
    slower = legacy["input_images_per_s"] < legacy["compute_images_per_s"]
    if tfdata is None:
        tfdata_finding = (
            f"No tf.data affine run of this workload on {story.machine} at this thread count "
            "has been measured yet."
        )
    else:
        tfdata_finding = (
            f"On the same machine it trains {_whole_rate(tfdata['end_to_end_images_per_s'])} images "
            f"per second end to end, {_times(story.tfdata_speedup)} the legacy pipeline's rate, "
            f"waits {_share(tfdata['input_wait_share'])} of each step for input, and is "
            f"{tfdata['verdict']}."
        )
    layers_finding = ""
    if layers is not None:
        one_pass = _whole_rate(tfdata["input_images_per_s"]) if tfdata else MISSING
        layers_finding = (
            "With the Keras preprocessing layers instead (the tfdata-layers pipeline), the "
            f"pipeline alone delivers {_whole_rate(layers['input_images_per_s'])} images per second "
            f"(the one-pass transform: {one_pass}) and training runs at "
            f"{_whole_rate(layers['end_to_end_images_per_s'])}, {_times(story.layers_speedup)} the "
            "legacy rate."
        )
    return {
        "aug-machine": story.machine,
        "aug-threads": "default threads" if legacy["intra_op_threads"] == 0 else story.threads,
        "aug-input": _whole_rate(legacy["input_images_per_s"]),
        "aug-compute": _whole_rate(legacy["compute_images_per_s"]),
        "aug-e2e": _whole_rate(legacy["end_to_end_images_per_s"]),
        "aug-wait": _share(legacy["input_wait_share"]),
        "aug-verdict": str(legacy["verdict"]),
        "aug-slower": "slower" if slower else "faster",
        "aug-split": bottleneck.split_text(legacy, missing="\u2014"),
        "aug-x2": _bound(legacy, 2.0),
        "aug-xinf": _bound(legacy, math.inf),
        "plain-input": _whole_rate(plain["input_images_per_s"]) if plain else MISSING,
        "plain-wait": _share(plain["input_wait_share"]) if plain else MISSING,
        "plain-x2": _bound(plain, 2.0),
        "aug-cost": _times(story.augmentation_cost),
        "tfdata-finding": tfdata_finding,
        "layers-finding": layers_finding,
    }
