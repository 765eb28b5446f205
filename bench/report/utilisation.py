"""How much of a machine's measured compute peak each training workload achieves.

The probes measure a matrix-multiply peak (GFLOP/s) on all CPU cores and on the GPU; training
records images per second. Multiplying images per second by the floating-point work of one
training image gives the GFLOP/s a workload achieves, and its share of the peak of the device
that ran it says whether the workload is limited by arithmetic (a share near 1) or by something
else: feeding images, Python, memory, small kernels (a low share).

FLOPs are counted from the model's architecture at the run's image size, without TensorFlow:
convolutions and dense layers only (biases, activations, pooling and the optimizer update are
small beside them), one multiply-add counted as 2 FLOPs, as the matmul probe counts them. One
training image costs, per layer of ``f`` forward FLOPs:

- ``f`` for the forward pass (every layer);
- ``f`` more for the gradient of the layer's weights, when they are trainable;
- ``f`` more for the gradient of the layer's input, when a trainable layer lies before it (the
  gradient has to travel back to it).

So the custom CNN (all trainable) costs about 3x its forward pass, and VGG-16 with its frozen
base about 1x the base plus 2x to 3x the small head. `tests/test_utilisation.py` checks the
layer shapes and parameter counts against the Keras models.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from bench.report import scores, tables, training
from bench.results import model

VGG16_BLOCKS = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))
"""VGG-16's convolutional base: (filters, 3x3 convolutions) per block, each block then pooled."""


@dataclass(frozen=True)
class Layer:
    """One convolution or dense layer: its forward FLOPs per image and whether it trains."""

    name: str
    forward_flops: int
    params: int
    trainable: bool


def _conv(name: str, out_side: int, c_in: int, c_out: int, *, trainable: bool) -> Layer:
    return Layer(
        name, 2 * out_side * out_side * 9 * c_in * c_out, 9 * c_in * c_out + c_out, trainable
    )


def _dense(name: str, n_in: int, n_out: int) -> Layer:
    return Layer(name, 2 * n_in * n_out, n_in * n_out + n_out, trainable=True)


def layers(model: str, image_size: int) -> list[Layer]:
    """The convolution and dense layers of ``model`` ("cnn" or "vgg16") at ``image_size``."""
    if model == "cnn":
        side1 = image_size - 2  # 3x3 "valid" convolution
        pooled1 = math.ceil(side1 / 2)  # 2x2 pooling, padding "same"
        side2 = pooled1 - 2
        pooled2 = math.ceil(side2 / 2)
        return [
            _conv("conv2d", side1, 3, 32, trainable=True),
            _conv("conv2d_1", side2, 32, 32, trainable=True),
            _dense("dense", pooled2 * pooled2 * 32, 128),
            _dense("dense_1", 128, 2),
        ]
    if model == "vgg16":
        result = []
        side, c_in = image_size, 3
        for block, (filters, convs) in enumerate(VGG16_BLOCKS, start=1):
            for i in range(1, convs + 1):
                # 3x3 "same" convolutions keep the side; the frozen base does not train.
                result.append(_conv(f"block{block}_conv{i}", side, c_in, filters, trainable=False))
                c_in = filters
            side //= 2  # 2x2 pooling, stride 2, padding "valid"
        return [*result, _dense("dense", side * side * 512, 128), _dense("dense_1", 128, 2)]
    msg = f"unknown model {model!r}"
    raise ValueError(msg)


def training_flops(model: str, image_size: int) -> int:
    """Floating-point operations of one training image (forward and backward; see module)."""
    total = 0
    trainable_before = False
    for layer in layers(model, image_size):
        total += layer.forward_flops
        if layer.trainable:
            total += layer.forward_flops
        if trainable_before:
            total += layer.forward_flops
        trainable_before = trainable_before or layer.trainable
    return total


def _all_threads(epochs: pd.DataFrame) -> pd.DataFrame:
    """Epochs of runs at TensorFlow's default thread setting (all cores), as the peak is."""
    return epochs[epochs["intra_op_threads"] == 0]


def _model(workload: str) -> str:
    return workload.partition("-")[0]


COLUMNS = [
    "machine", *model.FIELDS, "setting", "device", "runs", "gflop_per_image", "images_per_s",
    "achieved_gflops", "peak_gflops", "peak", "share",
]  # fmt: skip


def utilisation(results: tables.Results) -> pd.DataFrame:
    """One row per machine and comparable configuration (every field of the comparability key,
    `bench.results.model.KEY`): achieved GFLOP/s against the device's peak.

    Only runs at the default thread setting count, since the peak is measured on all cores.
    ``images_per_s`` is the median over the configuration's runs of each run's end-to-end
    images/s (`bench.results.model.images_per_s`), ``setting`` the configuration in words. The
    peak is the machine's median matmul probe on the GPU when a GPU ran the workload, on all
    CPU cores otherwise; ``share`` is NaN when that probe was not measured.
    """
    epochs = _all_threads(tables.measured_epochs(results.epochs))
    if epochs.empty:
        return pd.DataFrame(columns=COLUMNS)
    details = scores.probe_details(results)
    matmul = details[details["probe"] == "matmul"].set_index(["machine", "section"])["value"]
    rows = []
    keys = ["machine", *model.FIELDS]
    for key, frame in epochs.groupby(keys, sort=False, dropna=False):
        values = dict(zip(keys, key, strict=True))
        machine, workload = str(values["machine"]), str(values["workload"])
        devices = sorted(frame["device"].dropna().unique())
        on_gpu = model.on_gpu(devices)
        section = "gpu" if on_gpu else "multi_core"
        peak = float(matmul.get((machine, section), math.nan))
        gflop = training_flops(_model(workload), int(str(values["image_size"]))) / 1e9
        rates = tables.run_rates(frame)
        rate = model.median_over_runs(rates)
        achieved = gflop * rate
        rows.append(
            [*values.values(), model.describe(values), ", ".join(devices), len(rates), gflop,
             rate, achieved, peak, "GPU matmul" if on_gpu else "all-core matmul",
             achieved / peak if peak > 0 else math.nan]
        )  # fmt: skip
    order = {w: i for i, w in enumerate(model.WORKLOADS)}
    table = pd.DataFrame(rows, columns=COLUMNS)
    return table.sort_values(
        ["machine", "workload", "setting"],
        key=lambda c: c.map(order) if c.name == "workload" else c,
        ignore_index=True,
    )


def score_tracking(results: tables.Results) -> pd.DataFrame:
    """Per machine: single- and multi-core probe scores beside the training rate of each workload.

    The article found the M1 Pro no faster than the M1 once augmentation was on, as if the
    augmented workloads followed the single-core score (the same on both chips) rather than the
    core count. This table puts the numbers side by side; `rank_agreement` says how well a score
    orders the machines the way a workload does. A workload's rates come from its charted group
    of comparable runs (`bench.training.main_comparisons`), so every machine's figure is of the
    same configuration: the median over runs of each run's images/s.
    """
    table_of_scores = scores.probe_scores(results)
    table_of_scores = table_of_scores[table_of_scores["status"] == "ok"].pivot_table(
        index="machine", columns="section", values="score", aggfunc="first"
    )
    table = pd.DataFrame(index=pd.Index(results.machines, name="machine"))
    for section in ("single_core", "multi_core"):
        table[section] = table_of_scores.get(section, math.nan)
    charted = training.main_comparisons(results)
    for workload in model.WORKLOADS:
        rates: dict[str, float] = {}
        comparison = charted.get(workload)
        if comparison is not None:
            for machine, frame in comparison.epochs.groupby("machine", sort=True):
                rates[str(machine)] = tables.run_rate(frame)
        table[workload] = pd.Series(rates, dtype=float)
    return table.reset_index()


def rank_agreement(table: pd.DataFrame, score: str, workload: str) -> float:
    """Spearman rank correlation between a probe score and a workload's images per second
    across machines that have both; NaN with fewer than three such machines."""
    both = table[[score, workload]].dropna()
    if len(both) < 3:
        return math.nan
    return float(both[score].rank().corr(both[workload].rank()))


def best_share(use: pd.DataFrame) -> str:
    """The configuration closest to its device's peak, in one line (for the page's prose)."""
    best = use.dropna(subset=["share"]).sort_values("share", ascending=False)
    if best.empty:
        return "not available yet (no run with probes)"
    top = best.iloc[0]
    return (
        f"{model.WORKLOAD_TITLES.get(top['workload'], top['workload'])} on {top['machine']} "
        f"({top['setting']}): {top['achieved_gflops']:,.0f} GFLOP/s, {top['share']:.0%} of its "
        f"{top['peak']} ({top['peak_gflops']:,.0f} GFLOP/s)"
    )


def tracking_display(tracking: pd.DataFrame) -> pd.DataFrame:
    """`score_tracking` with the headings readers see, rounded to one decimal."""
    return tracking.rename(
        columns={
            "machine": "Machine",
            **{s: f"{model.SECTION_TITLES[s]} score" for s in ("single_core", "multi_core")},
            **{w: f"{model.WORKLOAD_TITLES.get(w, w)} (img/s)" for w in model.WORKLOADS},
        }
    ).round(1)


def rank_findings(tracking: pd.DataFrame) -> list[str]:
    """One line per workload: how well each score orders the machines (`rank_agreement`)."""
    lines = []
    for workload in model.WORKLOADS:
        title = model.WORKLOAD_TITLES.get(workload, workload)
        rho = {s: rank_agreement(tracking, s, workload) for s in ("single_core", "multi_core")}
        if all(math.isnan(v) for v in rho.values()):
            lines.append(f"{title}: needs three machines with probes and this workload.")
        else:
            lines.append(
                f"{title}: rank correlation with the single-core score "
                f"{rho['single_core']:+.2f}, with the multi-core score {rho['multi_core']:+.2f}."
            )
    return lines
