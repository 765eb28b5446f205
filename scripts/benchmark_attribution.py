"""Print the figures of the attribution work (issue 6) from results files made by the harness.

Targets: the input-only and compute-only measurements add less than a third to the wall time of
a workload run; on the augmented workloads the tf.data pipeline trains at least 1.4x as many
images per second end to end as the legacy pipeline. These are printed, not asserted: timings
on shared machines vary too much to gate a test on.

    python scripts/benchmark_attribution.py results          # every machine under results/

Make the files first, for example (each a fresh results file):

    python -m bench -w cnn -w cnn-aug --skip-probes                       # legacy, default threads
    python -m bench -w cnn -w cnn-aug --skip-probes --pipeline tfdata-affine
    python -m bench -w cnn -w cnn-aug --skip-probes --threads 1
    python -m bench -w cnn -w cnn-aug --skip-probes --pipeline tfdata-affine --threads 1
    python -m bench -w cnn-aug --skip-probes --pipeline tfdata-layers     # the Keras layers

The overhead of a run is the measurement's wall time over the rest of the worker's wall time
(import, build, compile and the epochs), so "+25 %" means the run took a quarter longer.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import attribution, tables, training
from bench.results import model


def main(argv: list[str] | None = None) -> int:
    """Print overheads, the three throughputs with verdicts, and each tf.data over legacy."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a results folder (machine folders inside)")
    args = parser.parse_args(argv)
    results = tables.load_results(args.folder)
    runs = results.attribution[results.attribution["attribution"] == "measured"]
    if runs.empty:
        print("no workload run with the attribution measurement in", args.folder)
        return 1
    pd.set_option("display.width", 200)
    print("Overhead of the measurement per workload run (target: under +33 %)")
    rest = runs["wall_s"] - runs["elapsed_s"]
    overhead = pd.DataFrame(
        {
            "file": runs["path"].map(lambda p: Path(p).name),
            "workload": runs["workload"],
            "pipeline": runs["pipeline"],
            "threads": runs["intra_op_threads"],
            "run wall s": runs["wall_s"].round(1),
            "measurement s": runs["elapsed_s"].round(1),
            "overhead": (runs["elapsed_s"] / rest).map(
                lambda v: f"+{v:.0%}" if math.isfinite(v) else "n/a"
            ),
        }
    )
    print(overhead.to_string(index=False))
    share = float((runs["elapsed_s"] / rest).median())
    total = float(runs["elapsed_s"].sum() / rest.sum())
    print(f"median overhead +{share:.0%}; all runs together +{total:.0%}\n")

    print("Input only, compute only, end to end (images/s), input wait and verdict")
    whole = attribution.attribution_table(results)
    table = whole[whole["attribution"] == "measured"]
    shown = table[["machine", "profile", "workload", "pipeline", "threads", "input_images_per_s",
                   "compute_images_per_s", "end_to_end_images_per_s", "input_wait_share",
                   "verdict", "runs"]].copy()  # fmt: skip
    for column in ("input_images_per_s", "compute_images_per_s", "end_to_end_images_per_s"):
        shown[column] = shown[column].round(1)
    shown["input_wait_share"] = shown["input_wait_share"].map(lambda v: f"{v:.0%}")
    print(shown.to_string(index=False), "\n")

    print("tf.data over legacy, end-to-end images/s (target on augmented workloads: >= 1.40x)")
    key = ["machine", "workload", "intra_op_threads", "profile", "image_size", "batch_size",
           "dataset_fingerprint"]  # fmt: skip
    rates = {
        name: whole[whole["pipeline"] == name].set_index(key)["end_to_end_images_per_s"]
        for name in model.PIPELINES
    }
    table = pd.concat(rates, axis=1)
    table = table[table["legacy"].notna() & table.drop(columns="legacy").notna().any(axis=1)]
    if table.empty:
        print("no configuration ran with the legacy pipeline and a tf.data one")
        return 0
    ratios = []
    for name in model.PIPELINES[1:]:
        column = f"{name} / legacy"
        table[column] = (table[name] / table["legacy"]).map(
            lambda v: training.format_ratio(v) if math.isfinite(v) else ""
        )
        ratios.append(column)
    shown_rates = list(model.PIPELINES)
    table[shown_rates] = (
        table[shown_rates].round(1).astype(object).where(table[shown_rates].notna(), "")
    )
    print(table.reset_index()[["machine", "profile", "workload", "intra_op_threads", *shown_rates, *ratios]]
          .to_string(index=False))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
