"""The benchmark run, parent side: data, machine, weights, one fresh worker process per workload
run, and the results file. This process never imports TensorFlow.

What an interrupted run keeps: Ctrl-C, SIGTERM or SIGHUP stops the running workload (its partial
epochs are dropped); the workload runs that had finished are written, atomically, to a results
file marked ``"status": "interrupted"``. When none had finished, no file is written. When the file
cannot be written at the end (a full disk), it is kept elsewhere (`bench.results.rescue`) and one
line says where. A killed harness writes nothing, and its worker ends with it
(`bench.protocol.processes`); a crash of one workload (an out-of-memory kill, an unsupported operation) is
recorded as that run's failure and the others still run.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench import __version__, data, results, stats
from bench.errors import UserError
from bench.harness import probing, weights
from bench.harness.machine import capture, identity, power, software
from bench.harness.summary import (
    check_lines,
    format_attribution,
    format_probe_scores,
    format_summary,
    imprecise_lines,
    summarise,
)
from bench.protocol import jobs, processes
from bench.protocol.config import OPTIONS, PROFILES, TFDATA_PIPELINES, Config
from bench.protocol.jobs import TrainingJob
from bench.readers import energy, standings, verdicts
from bench.results import model

WORKER = jobs.WORKER
"""The worker's command line before its job and output files (tests give a stand-in)."""

SAMPLED_ON = frozenset({"Darwin"})
"""Systems whose power and thermal state is sampled while a worker runs."""

SAMPLE_S = 15.0
"""Seconds between power and thermal samples while a worker runs (macOS; one pmset pair each)."""

MAX_SAMPLES = 10_000

LAPTOP_COOLDOWN_S = 60.0
"""--cooldown's default on a machine with a battery: a laptop's thermal pressure builds over
minutes of sustained load (a fanless MacBook Air throttles soonest), and a minute idle lets the
next workload start from a cooler machine. A judgement, not measured here (no laptop); the
throttling record of every run says whether it was enough."""


def prepare_dataset(config: Config, say: Callable[[str], None]) -> tuple[Path, dict[str, Any]]:
    """The dataset folder and its description; generates the synthetic stand-in when needed."""
    profile = PROFILES[config.profile]
    prepared = Path("data")
    if config.data not in (None, "synthetic"):
        root = Path(str(config.data))
        say(f"Dataset: {root} (given with --data)")
        if (root / "spec.json").is_file():  # a synthetic stand-in folder, made by bench.data
            return root, data.synthetic_description(root)
        return root, data.describe(root, "real")
    if config.data is None and (prepared / "train").is_dir() and (prepared / "validation").is_dir():
        say(f"Dataset: the prepared images in {prepared}/ (found data/train and data/validation)")
        description = data.describe(prepared, "real")
        return prepared, description
    if profile.train_per_class is None or profile.validation_per_class is None:
        msg = (
            f"the {profile.name} profile trains on the prepared Kaggle Dogs vs Cats images and "
            "data/train is missing; run `nox -s data -- ARCHIVE` first, or use --profile quick"
        )
        raise UserError(msg)
    spec = data.SyntheticSpec(
        train_per_class=profile.train_per_class,
        validation_per_class=profile.validation_per_class,
        seed=config.seed,
    )
    target = config.cache / f"synthetic-{spec.key()}"
    if not target.is_dir():
        say(f"Generating the synthetic stand-in dataset in {target} (once) ...")
    root = data.synthetic(spec, config.cache, say)
    say(f"Dataset: synthetic stand-in in {root}")
    return root, data.synthetic_description(root)


def run_worker(job: TrainingJob, workdir: Path) -> dict[str, Any]:
    """Run one workload in a fresh process and return its record (a failure record on a crash).

    The worker holds a `bench.protocol.processes.Lifeline`, so it ends with this process whatever
    ends it. On an interruption (Ctrl-C, SIGTERM, SIGHUP) the worker is stopped and the
    interruption propagates: its partial epochs are dropped.
    """
    sampling = platform.system() in SAMPLED_ON
    samples: list[dict[str, Any]] = []
    started = time.monotonic()

    def sample() -> None:
        # Thermal pressure builds during a run; before and after alone miss it.
        snapshot = power.power_and_thermal()
        if snapshot and len(samples) < MAX_SAMPLES:
            samples.append({**snapshot, "t_s": time.monotonic() - started})

    code, _, out_file = jobs.run(
        job,
        workdir,
        f"{job.workload}-{job.repeat}",
        worker=WORKER,
        tick_s=SAMPLE_S if sampling else None,
        on_tick=sample if sampling else None,
    )
    if code in {130, -signal.SIGINT}:
        raise KeyboardInterrupt
    if out_file.is_file():
        record: dict[str, Any] = json.loads(out_file.read_text())
        if samples:
            record["conditions"] = {"during": samples, "sample_s": SAMPLE_S}
        return record
    if code < 0:
        name = signal.Signals(-code).name
        hint = "; out of memory?" if -code == signal.SIGKILL else ""
        reason = f"worker killed by signal {-code} ({name}{hint})"
    else:
        reason = f"worker exited with status {code} without a record"
    return jobs.failure(job, reason)


def check_config(config: Config) -> None:
    """Refuse, before any work, a configuration that the results file could not hold.

    The bounds are the schema's own (`bench.results.field_problem`): a run that would be refused
    when its file is written is refused here, in one line, instead.
    """
    if config.epochs < 2:
        msg = f"--epochs {config.epochs}: at least 2 are needed (the first is warm-up and not measured)"
        raise UserError(msg)
    for name, option in OPTIONS.items():
        value = getattr(config, name)
        if value is None:  # a default decided later
            continue
        problem = results.field_problem(f"config.{name}", value)
        if problem is not None:
            msg = f"{option} {value}: {problem}"
            raise UserError(msg)
    if config.budget_s > 0:
        problem = results.field_problem("stopping_rule.budget_s", config.budget_s)
        if problem is not None:
            msg = f"--budget {config.budget_s:g}: {problem}"
            raise UserError(msg)
    identity.check_label(config.label)


def run(config: Config, say: Callable[[str], None] = print) -> tuple[Path | None, int]:
    """Run the benchmark; return the results file written (None if none) and the exit status.

    Every check that can refuse the run happens before any work. SIGTERM and SIGHUP stop it as
    Ctrl-C does (`bench.protocol.processes.stop_signals`): the workload runs that finished are kept.
    """
    check_config(config)
    with processes.stop_signals():
        return _run(config, say)


def _run(config: Config, say: Callable[[str], None]) -> tuple[Path | None, int]:
    if config.keras2:
        # Set here, not only in the workers, so the software block records it.
        os.environ["TF_USE_LEGACY_KERAS"] = "1"
    started_at = results.utc_iso()
    machine = capture.capture_machine(slug=config.slug, label=config.label)
    differs = results.folder_holds_other_hardware(config.output, machine["slug"], machine)
    if differs is not None:
        if config.slug is not None:
            msg = (
                f"{config.output}/{machine['slug']}/ holds another kind of machine ({differs}), "
                "so validate would refuse this result there; choose another --machine-slug"
            )
            raise UserError(msg)
        found = results.slug_for(config.output, machine["slug"], machine)
        say(
            f"{config.output}/{machine['slug']}/ holds another kind of machine ({differs}): "
            f"this one's results go to {found}/"
        )
        machine["slug"] = found
    results.check_destination(config.output, machine["slug"])
    say(f"Machine: {machine['slug']}" + (f" ({machine['label']})" if machine.get("label") else ""))
    chosen = None
    if any(w.startswith("vgg16") for w in config.workloads):
        chosen = weights.resolve(config.weights, config.weights_file)
        say(f"VGG-16 weights: {chosen.note}")
    data_root, dataset = prepare_dataset(config, say)
    if config.pipeline in TFDATA_PIPELINES:
        data.check_formats(data_root)

    cooldown = default_cooldown() if config.cooldown_s is None else config.cooldown_s
    probes_block = None
    if config.probes:
        on = model.backend_title(config.backend)
        say(f"Running the probes (single-core, multi-core, GPU) on {on} ...")
        probes_block = probing.run_probes(log=say, backend=config.backend)

    document: dict[str, Any] = {
        "schema_version": results.SCHEMA_VERSION,
        "benchbook_version": __version__,
        "run_id": uuid.uuid4().hex,
        "status": "complete",
        "started_at": started_at,
        "finished_at": started_at,
        "command": config.command,
        "machine": machine,
        "software": None,
        "config": config.stored(cooldown),
        "dataset": dataset,
        "probes": probes_block,
        "geekbench": config.geekbench,
        "workloads": [],
    }
    framework: dict[str, Any] | None = None
    runs: list[dict[str, Any]] = []
    interrupted: KeyboardInterrupt | None = None
    with tempfile.TemporaryDirectory(prefix="benchbook-") as tmp:
        try:
            # Repeats outermost: A B A B interleaves the workloads, so a slow spell of a shared
            # machine does not land on one workload's repeats only.
            for repeat in range(1, config.repeats + 1):
                for name in config.workloads:
                    say(f"Running {name} (repeat {repeat}/{config.repeats}) in a fresh process ...")
                    job = _job(config, name, repeat, data_root, dataset, chosen)
                    if runs or repeat > 1:
                        _cool_down(cooldown, name, say)
                    before = power.power_and_thermal()
                    record = run_worker(job, Path(tmp))
                    after = power.power_and_thermal()
                    if before or after:  # macOS only; best effort, never an error
                        record["conditions"] = {
                            **record.get("conditions", {}),
                            "before": before or None,
                            "after": after or None,
                        }
                    framework = framework or record.pop("framework", None)
                    record.pop("framework", None)
                    if record["status"] != "ok":
                        say(f"  {name} FAILED: {record['error']}")
                    runs.append(record)
        except KeyboardInterrupt as exc:
            interrupted = exc
    # From here on a second Ctrl-C, or nox's SIGTERM after the first, must not stop the write.
    with processes.shielded():
        if interrupted is not None:
            say("Interrupted: the running workload is dropped.")
        if not runs:
            say("Nothing finished, so no results file was written.")
            return None, processes.exit_status(interrupted) if interrupted else 1
        document["workloads"] = runs
        document["status"] = file_status(runs, interrupted is not None)
        document["finished_at"] = results.utc_iso()
        document["software"] = software.capture_software(framework, backend=config.backend)
        path, problem = _keep(document, config.output)
        _report(runs, probes_block, chosen, say, config.target)
        for line in _standing(document, config.output):
            say(line)
        for line in check_lines(document):
            say(line)
        if problem is None:
            say(f"\nResults written to {path}")
        else:
            say(problem)
    if interrupted is not None:
        return path, processes.exit_status(interrupted)
    if problem is not None:
        return path, 1
    return path, 0 if all(r["status"] == "ok" for r in runs) else 1


def default_cooldown() -> float:
    """`LAPTOP_COOLDOWN_S` when the machine runs on a battery or has one (macOS), else 0."""
    return LAPTOP_COOLDOWN_S if verdicts.has_battery(power.power_and_thermal()) else 0.0


def idle(seconds: float) -> None:
    """Wait ``seconds`` between workload runs (--cooldown). A name of this module's own, so a
    test replaces this wait, never `time.sleep` that every thread of the process shares."""
    time.sleep(seconds)


def _cool_down(seconds: float, name: str, say: Callable[[str], None]) -> None:
    if seconds > 0:
        say(f"Cooling down for {seconds:g} s before {name} (--cooldown) ...")
        idle(seconds)


def file_status(runs: Sequence[dict[str, Any]], interrupted: bool) -> str:
    """``interrupted``, ``failed`` (every run failed: nothing was measured) or ``complete``."""
    if interrupted:
        return "interrupted"
    if all(r["status"] != "ok" for r in runs):
        return "failed"
    return "complete"


def _job(
    config: Config,
    name: str,
    repeat: int,
    data_root: Path,
    dataset: dict[str, Any],
    chosen: weights.Weights | None,
) -> TrainingJob:
    """What one worker is told to do: the run's settings, and this run's own."""
    return TrainingJob.of(
        config,
        workload=name,
        repeat=repeat,
        data_root=str(data_root.resolve()),
        weights_kind=chosen.kind if chosen else "random",
        weights_path=str(chosen.path) if chosen and chosen.path else None,
        weights_note=chosen.note if chosen else None,
        # TensorFlow 2.18 ships Hopper (sm_90) kernels as PTX only: the driver compiles them on
        # first use and caches the result; CUDA's default 256 MiB cache cannot hold them, so
        # every fresh worker compiled them again. One persistent cache, up to its 4 GiB maximum.
        cuda_cache=str((config.cache / "cuda").resolve()),
        # What bench.data listed and checked; the worker refuses to train on anything else.
        expected_images={s: dataset["splits"][s]["images"] for s in data.SPLITS},
    )


def _keep(document: dict[str, Any], output: Path) -> tuple[Path | None, str | None]:
    """Write ``document`` into ``output``; failing that, keep it elsewhere and say where.

    Returns the file and, when it is not in ``output``, the one line that says why and what to do.
    """
    folder = output / str(document["machine"]["slug"])
    try:
        return results.write(document, output), None
    except (OSError, results.ResultsError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        kept = results.rescue(document)
    if kept is not None:
        return kept, (
            f"benchbook: error: the results could not be written to {folder}/ ({why}); "
            f"the measurements are kept in {kept}: move it into {folder}/ once that is fixed"
        )
    places = ", ".join(str(p) for p in results.rescue_places())
    print(results.dumps(document), file=sys.stderr)
    return None, (
        f"benchbook: error: the results could not be written to {folder}/ ({why}) nor to any of "
        f"{places}; the document was printed above on stderr: save it as a .json file"
    )


def _standing(document: dict[str, Any], output: Path) -> list[str]:
    """Where the new result ranks among the valid files in ``output`` (offline; files that do
    not validate are left out, as the report leaves them out)."""
    try:
        found = results.check_tree(output).documents
    except (OSError, UserError):
        return []
    lines = standings.where_it_stands(found, document, str(output))
    return ["", *lines] if lines else []


def _report(
    runs: list[dict[str, Any]],
    probes_block: dict[str, Any] | None,
    chosen: weights.Weights | None,
    say: Callable[[str], None],
    target: float = stats.PRECISION_TARGET,
) -> None:
    """The summary printed at the end of a run."""
    say("")
    say(format_summary(runs))
    if any(summarise(r)["noisy"] for r in runs):
        say(
            f"noisy: the measured epochs of a run vary by more than {stats.NOISY_CV:.0%} "
            "(coefficient of variation); close other programs and run again, or use --repeats 3."
        )
    for line in imprecise_lines(runs, target):
        say(line)
    if any(run.get("attribution") for run in runs):
        say("")
        say(format_attribution(runs))
    for line in energy.summary_lines(runs):
        say(line)
    if probes_block is not None:
        say(format_probe_scores(probes_block))
    if chosen is not None and chosen.kind == "random":
        say(
            "Note: VGG-16 ran with random weights: its timings are valid, its accuracy is not the article's."
        )
    if all(r["status"] != "ok" for r in runs):
        say("Every workload run failed: nothing was measured (the errors are above).")
