"""Tests for bench/commands/benchmark.py: options, and bad input that gets one clear line and exit
status 2. Every command runs in this process: each is refused before any work."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bench.commands import benchmark
from bench.protocol import config

Bench = Callable[..., tuple[int, str]]


@pytest.fixture(autouse=True)
def _frameworks_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every backend's framework, and TensorFlow for tf.data, counts as installed: what these tests
    check is the command line, whatever is installed here (`bench.protocol.config.installed`)."""
    monkeypatch.setattr(config, "installed", lambda backend: True)
    monkeypatch.setattr(config, "tensorflow_installed", lambda: True)


@pytest.fixture
def bench(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Bench:
    """``benchbook ARGS`` in this process, in ``tmp_path``: its exit status and standard error.

    These runs are refused before any work.
    """
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> tuple[int, str]:
        try:
            status = benchmark.main(list(args))
        except SystemExit as exit_info:  # argparse's own errors
            status = int(exit_info.code or 0)
        return status, capsys.readouterr().err

    return run


def test_help_lists_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    """--help names the profiles, workloads and the main options."""
    with pytest.raises(SystemExit) as exit_info:
        benchmark.parser().parse_args(["--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for option in (
        "--profile",
        "--workload",
        "--epochs",
        "--data",
        "--output",
        "--threads",
        "--repeats",
        "--machine-slug",
        "--label",
        "--weights",
        "--pipeline",
        "--skip-attribution",
        "smoke",
        "quick",
        "medium (3 epochs, 224px, 2048 stand-in images)",
        "full (5 epochs, 224px, prepared data)",
        "tfdata-layers",
    ):
        assert option in text


def test_defaults_follow_the_profile() -> None:
    """Without options: the quick profile, all four workloads, the article's sizes."""
    chosen = benchmark.config_from_args([])
    assert (chosen.profile, chosen.epochs, chosen.image_size, chosen.batch_size) == (
        "quick",
        2,
        224,
        64,
    )
    assert chosen.workloads == ["cnn", "cnn-aug", "vgg16", "vgg16-aug"]
    assert chosen.profile_name() == "quick"
    smoke = benchmark.config_from_args(
        ["--profile", "smoke", "-w", "vgg16", "-w", "cnn", "-w", "vgg16"]
    )
    assert smoke.workloads == ["vgg16", "cnn"]
    assert benchmark.config_from_args(["--image-size", "128"]).profile_name() == "custom"
    assert (chosen.pipeline, chosen.attribution, chosen.intra_op_threads) == ("legacy", True, 0)


def test_pipeline_threads_and_attribution_options() -> None:
    """--pipeline, --threads and --skip-attribution reach the run configuration."""
    chosen = benchmark.config_from_args(
        ["--pipeline", "tfdata-affine", "--threads", "2", "--skip-attribution"]
    )
    assert (chosen.pipeline, chosen.intra_op_threads, chosen.attribution) == (
        "tfdata-affine",
        2,
        False,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workload", "resnet"], "invalid choice: 'resnet'"),
        (["--profile", "huge"], "invalid choice: 'huge'"),
        (["--epochs", "1"], "at least 2 are needed"),
        (["--epochs", "two"], "'two' is not a whole number"),
        (["--threads", "-1"], "must be at least 0"),
        (["--threads", "two"], "'two' is not a whole number"),
        (["--pipeline", "grain"], "invalid choice: 'grain'"),
        (["--data", "no/such/folder"], "does not exist"),
        (["--machine-slug", "!!!"], "slug"),
        (["--geekbench", "single=lots"], "geekbench"),
        (["--weights-file", "missing.h5", "-w", "vgg16"], "does not exist"),
        (["--weights-file", ".", "-w", "vgg16"], "is a folder; give the .h5 file inside it"),
        (["--geekbench", "single=0,version=6.3"], "single=0 must be at least 1"),
        # The schema's own upper bounds, checked before any work instead of after it.
        (["--image-size", "1"], "--image-size 1: must be at least 32"),
        (["--image-size", "5000"], "--image-size 5000: must be at most 4096"),
        (["--batch-size", "100000"], "--batch-size 100000: must be at most 65536"),
        (["--threads", "4097"], "--threads 4097: must be at most 4096"),
        (["--inter-op-threads", "4097"], "--inter-op-threads 4097: must be at most 4096"),
        (["--epochs", "1001"], "--epochs 1001: must be at most 1000"),
        (["--repeats", "101"], "--repeats 101: must be at most 100"),
        (["--generator-workers", "1025"], "--generator-workers 1025: must be at most 1024"),
        (["--label", "x" * 201], "is 201 characters long; at most 200 are stored"),
        (["--cooldown", "-1"], "must be 0 or more seconds"),
        (["--cooldown", "4000"], "--cooldown 4000.0: must be at most 3600"),
        (["--label", "\x1b[31mred\x1b[0m"], "control or direction characters"),
        (["--label", "desk\rtop"], "control or direction characters"),
        (["--label", "bell\x07"], "control or direction characters"),
        (["--label", "evil\u202eltr"], "control or direction characters"),
        (["--backend", "mlx", "--threads", "2"], "the mlx backend has no thread settings"),
        (["--backend", "mlx", "--generator-workers", "2"], "leave --generator-workers at 1"),
        (["--backend", "mlx", "--keras2"], "--keras2 trains on TensorFlow only"),
    ],
)
def test_bad_input_gets_one_line_and_exit_2(
    bench: Bench, tmp_path: Path, args: list[str], message: str
) -> None:
    """Each mistake prints one line to stderr, no traceback, exits 2, writes no results and
    creates no results folder: it is refused before any work (no stand-in generated)."""
    status, stderr = bench("--skip-probes", "--output", str(tmp_path / "results"), *args)
    assert status == 2, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("benchbook: error")]
    assert len(lines) == 1, stderr
    assert message.lower() in lines[0].lower()
    assert "Traceback" not in stderr
    assert all(c.isprintable() for c in lines[0])
    assert not list(tmp_path.rglob("*.json"))
    assert not (tmp_path / "results").exists()
    assert not (tmp_path / ".cache").exists(), "refused after generating the stand-in"


def test_mlx_without_a_keras_to_read_its_images_is_refused(
    bench: Bench, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MLX reads its batches through Keras's pipelines, which need TensorFlow, PyTorch or JAX:
    with none of them the run is refused in one line that names the session to use."""
    monkeypatch.setattr(config, "installed", lambda backend: backend == "mlx")
    status, stderr = bench("--backend", "mlx", "--skip-probes")
    assert status == 2
    assert stderr.strip().endswith("run `nox -s bench-mlx`, which installs TensorFlow")
    assert len(stderr.strip().splitlines()) == 1


def test_unwritable_results_folder_is_refused_before_training(bench: Bench, tmp_path: Path) -> None:
    """A results folder that cannot be created stops the run at once."""
    (tmp_path / "blocker").write_text("a file where a folder should be")
    status, stderr = bench("--profile", "smoke", "--output", str(tmp_path / "blocker" / "results"))
    assert status == 2
    assert "blocker is a file, not a folder" in stderr
    assert not list(tmp_path.rglob("*.json"))
    assert "Traceback" not in stderr
    assert not (tmp_path / ".cache").exists()


def test_full_profile_without_prepared_data_says_what_to_do(bench: Bench) -> None:
    """The full profile needs the real dataset and says how to prepare it."""
    status, stderr = bench("--profile", "full", "--skip-probes")
    assert status == 2
    assert "nox -s data" in stderr


def test_medium_profile_is_quick_on_more_images() -> None:
    """--profile medium: the article's sizes and epochs, 2,048 training images of the stand-in."""
    from bench.protocol.config import PROFILES

    chosen = benchmark.config_from_args(["--profile", "medium"])
    assert (chosen.profile_name(), chosen.epochs, chosen.image_size, chosen.batch_size) == (
        "medium", 3, 224, 64
    )  # fmt: skip
    medium, quick = PROFILES["medium"], PROFILES["quick"]
    assert (medium.train_per_class, medium.validation_per_class) == (1024, 64)
    assert 2 * (medium.train_per_class or 0) // medium.batch_size == 32
    assert (medium.image_size, medium.batch_size) == (quick.image_size, quick.batch_size)
