"""Print how fast each input pipeline decodes and augments, with no model: images per second.

The augmented workloads' input pipelines, alone, on the quick profile's synthetic stand-in (or on
``--data``, a prepared dataset): ``legacy`` (ImageDataGenerator in the calling thread),
``tfdata`` (one affine resampling per image) and ``tfdata-layers`` (Keras preprocessing layers,
four resamplings). Rounds are interleaved so a slow spell of a shared machine hits every pipeline;
each round starts a fresh pipeline and times ``--batches`` batches after ``--warmup`` untimed
ones. Figures are printed, not asserted.

    python scripts/benchmark_augmentation.py                 # 3 rounds, 12 batches of 64
    python scripts/benchmark_augmentation.py --threads 1     # TensorFlow on one thread
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import data
from bench.protocol import config
from bench.results import model
from bench.worker import pipelines, throughputs


def main(argv: list[str] | None = None) -> int:
    """Time every pipeline's augmented training input, interleaved, and print medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="a prepared dataset (default: the stand-in)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batches", type=int, default=12)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0, help="TensorFlow threads, 0: all")
    parser.add_argument("--pipeline", action="append", choices=model.PIPELINES)
    args = parser.parse_args(argv)
    if min(args.rounds, args.batches) < 1 or args.warmup < 0 or args.threads < 0:
        parser.error("--rounds and --batches must be at least 1, --warmup and --threads >= 0")
    import tensorflow as tf

    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    quick = config.PROFILES["quick"]
    root = args.data or data.synthetic(
        data.SyntheticSpec(quick.train_per_class or 0, quick.validation_per_class or 0),
        ROOT / ".cache",
    )
    names = args.pipeline or list(model.PIPELINES)
    rates: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(1, args.rounds + 1):
        for name in names:
            pipeline = pipelines.make(name, root, augment=True)
            sample = throughputs.measure_input(
                pipelines.batches(pipeline), args.batches, warmup=args.warmup
            )
            rates[name].append(sample["images_per_s"])
            print(f"round {round_} {name:>13}: {sample['images_per_s']:7.1f} images/s", flush=True)
    print(f"\nmedian of {args.rounds} rounds, {args.batches} batches of {config.BATCH_SIZE} "
          f"after {args.warmup} untimed, threads {args.threads or 'default'}:")  # fmt: skip
    base = statistics.median(rates[names[0]])
    for name in names:
        median = statistics.median(rates[name])
        print(f"  {name:>13}: {median:7.1f} images/s ({median / base:.2f}x {names[0]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
