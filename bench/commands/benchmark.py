"""Command line of the benchmark: ``nox -s bench -- [options]`` or ``python -m bench [options]``."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from bench import __version__, stats
from bench.commands.arguments import OneLineParser, real_number, refuse, whole_number
from bench.errors import UserError
from bench.harness import runner
from bench.harness.geekbench import parse_geekbench
from bench.harness.machine.identity import normalize_slug
from bench.protocol import config, processes
from bench.protocol.config import (
    DEFAULT_BACKEND,
    DEFAULT_PIPELINE,
    DEFAULT_PROFILE,
    PROFILES,
    THROUGHPUT_MAX_STEPS,
    WEIGHT_MODES,
)
from bench.results.model import BACKENDS, PIPELINES, WORKLOADS

DEFAULTS = {f.name: f.default for f in dataclasses.fields(config.Config)}
"""Each option's default: the run configuration's own (`bench.protocol.config.Config`)."""

_positive = whole_number(1)
_non_negative = whole_number(0)


_seconds = real_number("a number of seconds", lambda v: v >= 0, "0 or more seconds")
_percent = real_number("a percentage", lambda v: 0 < v < 100, "a percentage above 0 and below 100")


def parser() -> argparse.ArgumentParser:
    """The argument parser (also used to document the options)."""
    profiles = ", ".join(
        f"{p.name} ({p.epochs} epochs, {p.image_size}px, "
        + (f"{2 * p.train_per_class} stand-in images)" if p.train_per_class else "prepared data)")
        for p in PROFILES.values()
    )
    p = OneLineParser(
        name="benchbook",
        prog="benchbook",
        description=(
            "Time the four TensorFlow workloads of 'MacBook M1 vs M1 Pro for Data Science' "
            "(custom CNN and VGG-16 transfer learning, with and without augmentation) and the "
            "Geekbench-style probes on this machine; write results/<machine>/<UTC stamp>.json."
        ),
        epilog=(
            "other commands, each with its own --help: "
            + "; ".join(f"benchbook {name} ({what})" for name, what in SUBCOMMANDS.items())
        ),
    )
    p.add_argument("--version", action="version", version=f"benchbook {__version__}")
    p.add_argument(
        "--profile",
        choices=list(PROFILES),
        default=DEFAULT_PROFILE,
        help=f"run size: {profiles} (default: {DEFAULT_PROFILE})",
    )
    p.add_argument(
        "-w",
        "--workload",
        action="append",
        choices=WORKLOADS,
        dest="workloads",
        help="workload to run; repeat the option for several (default: all four)",
    )
    p.add_argument(
        "--epochs",
        type=_positive,
        help="epochs per workload, the first is warm-up (default: the profile's)",
    )
    p.add_argument(
        "--image-size", type=_positive, help="image side in pixels (default: the profile's)"
    )
    p.add_argument("--batch-size", type=_positive, help="batch size (default: the profile's)")
    p.add_argument(
        "--data",
        metavar="DIR|synthetic",
        help="dataset folder with train/ and validation/ class folders, or 'synthetic' "
        "(default: data/ when prepared, else the synthetic stand-in)",
    )
    p.add_argument(
        "--output",
        type=Path,
        default=DEFAULTS["output"],
        metavar="DIR",
        help="results folder (default: results)",
    )
    p.add_argument(
        "--cache",
        type=Path,
        default=DEFAULTS["cache"],
        metavar="DIR",
        help="where the synthetic stand-in is generated (default: .cache)",
    )
    p.add_argument(
        "--repeats",
        type=_positive,
        default=DEFAULTS["repeats"],
        help="run each workload N times, each in a fresh process (default: 1)",
    )
    p.add_argument(
        "--threads",
        type=_non_negative,
        default=DEFAULTS["intra_op_threads"],
        dest="intra_op_threads",
        help="intra-op threads of TensorFlow or PyTorch, 0 for the framework's default: all "
        "cores (default: 0; JAX has no such setting)",
    )
    p.add_argument(
        "--inter-op-threads",
        type=_non_negative,
        default=DEFAULTS["inter_op_threads"],
        help="inter-op threads of TensorFlow or PyTorch, 0 for the framework's default "
        "(default: 0)",
    )
    p.add_argument(
        "--weights",
        choices=WEIGHT_MODES,
        default=DEFAULTS["weights"],
        help="VGG-16 weights: auto (ImageNet when cached or quickly fetched, else "
        "random), imagenet (or fail), random (default: auto)",
    )
    p.add_argument(
        "--weights-file",
        type=Path,
        metavar="H5",
        help="the VGG-16 no-top ImageNet weights file, if you have it",
    )
    p.add_argument(
        "--machine-slug",
        dest="slug",
        metavar="SLUG",
        help="name of this machine's results folder (default: derived from the hardware)",
    )
    p.add_argument(
        "--label", help="free text stored with the results, e.g. 'MacBook Pro 14, on battery'"
    )
    p.add_argument(
        "--skip-probes",
        action="store_false",
        dest="probes",
        help="do not run the Geekbench-style probes",
    )
    p.add_argument(
        "--geekbench",
        metavar="SCORES",
        help="scores from the real Geekbench to store alongside, e.g. "
        "'single=2374,multi=12360,gpu=41012,version=6.3,api=Metal'",
    )
    p.add_argument(
        "--backend",
        choices=BACKENDS,
        default=DEFAULTS["backend"],
        help="the Keras 3 backend that trains the same four models: tensorflow (the article's), "
        "torch (PyTorch; a Mac's GPU through MPS) or jax (CPU only on a Mac); nox -s bench-torch "
        f"and nox -s bench-jax install them (default: {DEFAULT_BACKEND})",
    )
    p.add_argument(
        "--keras2",
        action="store_true",
        help="train with Keras 2 (tf-keras, TF_USE_LEGACY_KERAS=1); use nox -s bench-keras2",
    )
    p.add_argument(
        "--pipeline",
        choices=PIPELINES,
        default=DEFAULTS["pipeline"],
        help="input pipeline: legacy (ImageDataGenerator, the article's), tfdata-affine "
        "(image_dataset_from_directory, the article's augmentation as one affine resampling, "
        "parallel map, prefetch) or tfdata-layers (the same with Keras preprocessing layers) "
        f"(default: {DEFAULT_PIPELINE})",
    )
    p.add_argument(
        "--skip-attribution",
        action="store_false",
        dest="attribution",
        help="do not time input only and compute only after each workload run "
        f"(a sixth of the run's batches, at most {THROUGHPUT_MAX_STEPS}, each)",
    )
    p.add_argument(
        "--cooldown",
        type=_seconds,
        dest="cooldown_s",
        metavar="SECONDS",
        help="idle seconds before each workload run after the first, so a laptop starts each "
        "one cool (default: 60 on a machine with a battery, else 0)",
    )
    p.add_argument(
        "--budget",
        type=_seconds,
        dest="budget_s",
        metavar="SECONDS",
        help="seconds of measured epochs each workload run may spend beyond --epochs until the "
        "median's 95 %% interval is within --target; 0 runs exactly --epochs (default: the "
        "profile's: smoke 0, quick 45, medium 120, full 300)",
    )
    p.add_argument(
        "--target",
        type=_percent,
        metavar="PERCENT",
        default=stats.PRECISION_TARGET * 100,
        help="half-width of the median's 95 %% interval as printed, in %% of the median, that "
        "ends a workload run early (default: 3, which resolves a 5 %% difference between "
        "machines; the interval allows +-2.4 %% for other processes, so below about 2.5 the "
        "budget always runs out)",
    )
    p.add_argument(
        "--generator-workers",
        type=_positive,
        default=DEFAULTS["generator_workers"],
        help="threads feeding ImageDataGenerator batches (default: 1, the article's setting)",
    )
    return p


def config_from_args(argv: list[str]) -> config.Config:
    """Parse ``argv`` into a run configuration."""
    args = parser().parse_args(argv)
    profile = PROFILES[args.profile]
    geekbench = None
    if args.geekbench is not None:
        geekbench = parse_geekbench(args.geekbench)
    slug = None
    if args.slug is not None:
        slug = normalize_slug(args.slug)
    if args.keras2:
        import importlib.util

        if args.backend != "tensorflow":
            msg = f"--keras2 trains on TensorFlow only; leave out --backend {args.backend}"
            raise UserError(msg)
        if importlib.util.find_spec("tf_keras") is None:
            msg = "--keras2 needs the tf-keras package; run `nox -s bench-keras2` instead"
            raise UserError(msg)
    for problem in (
        config.refusal(args.backend),
        config.thread_refusal(args.backend, args.intra_op_threads, args.inter_op_threads),
    ):
        if problem is not None:
            raise UserError(problem)
    if args.backend == "mlx" and args.generator_workers > 1:
        msg = (
            "the mlx backend draws each batch in its training loop's own thread; "
            "leave --generator-workers at 1"
        )
        raise UserError(msg)
    if args.pipeline != "legacy" and not config.tensorflow_installed():
        msg = (
            f"--pipeline {args.pipeline} is built on tf.data and needs TensorFlow, which is not "
            "installed here; use --pipeline legacy (the article's), which runs on every backend"
        )
        raise UserError(msg)
    return config.Config(
        profile=args.profile,
        workloads=list(dict.fromkeys(args.workloads or WORKLOADS)),
        epochs=args.epochs or profile.epochs,
        image_size=args.image_size or profile.image_size,
        batch_size=args.batch_size or profile.batch_size,
        data=args.data,
        output=args.output,
        cache=args.cache,
        repeats=args.repeats,
        intra_op_threads=args.intra_op_threads,
        inter_op_threads=args.inter_op_threads,
        weights=args.weights,
        weights_file=args.weights_file,
        slug=slug,
        label=args.label,
        probes=args.probes,
        geekbench=geekbench,
        keras2=args.keras2,
        backend=args.backend,
        generator_workers=args.generator_workers,
        pipeline=args.pipeline,
        attribution=args.attribution,
        cooldown_s=args.cooldown_s,
        budget_s=profile.budget_s if args.budget_s is None else args.budget_s,
        target=args.target / 100,
        command=list(argv),
    )


SUBCOMMANDS = {
    "share": "send a result to the report as a pull request",
    "compare": "two machines or setups side by side",
    "validate": "check every results file",
    "report": "check that the report can be built from a folder",
}
"""``benchbook share|compare|validate|report ...``: the other commands, by the same name as their
nox sessions (each is `bench.commands.<name>`), and what each does."""


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (or a subcommand); a user mistake prints one line and returns 2."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in SUBCOMMANDS:
        import importlib

        module = importlib.import_module(f"bench.commands.{argv[0]}")
        status: int = module.main(argv[1:])
        return status
    try:
        chosen = config_from_args(argv)
        _, status = runner.run(chosen)
    except UserError as exc:
        return refuse("benchbook", exc)
    except KeyboardInterrupt as exc:
        print(
            "benchbook: interrupted before any workload finished; nothing was written",
            file=sys.stderr,
        )
        return processes.exit_status(exc)
    return status
