"""The Keras 3 backends: one model definition on TensorFlow, JAX and (where installed) PyTorch.

The suite installs JAX (its CPU wheels are small) and runs the smoke profile on it. PyTorch's
Linux x86_64 wheel on PyPI is the CUDA build (about 3 GB with NVIDIA's libraries): the suite
installs PyTorch only from a CPU wheel on disk (``BENCHBOOK_TORCH_WHEEL``, which `.ci/run` sets
where one is present) and otherwise skips the PyTorch tests, saying so.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import HAS_MLX, NO_MLX, ROOT, run_bench, run_compare

from bench import results
from bench.commands.benchmark import config_from_args
from bench.errors import UserError
from bench.harness.machine import software
from bench.protocol import config, jobs
from bench.protocol.jobs import ProbeJob, ProbeSettings
from bench.readers import reference
from bench.results import model
from bench.worker import backends, probes

# The slow tier: every test here trains or measures on a framework.
pytestmark = pytest.mark.slow

HAS_TORCH = importlib.util.find_spec("torch") is not None
NO_TORCH = "PyTorch is not installed (the suite installs it from BENCHBOOK_TORCH_WHEEL only)"

# The article's parameter counts at the smoke profile's 64 px (the article's 224 px counts are
# checked in test_workloads.py on TensorFlow).
SMOKE_PARAMETERS = {
    "cnn": (932_130, 932_130),
    "vgg16": (14_977_218, 262_530),
}


def installed_backends() -> list[Any]:
    return [
        "tensorflow",
        "jax",
        pytest.param("torch", marks=pytest.mark.skipif(not HAS_TORCH, reason=NO_TORCH)),
    ]


def in_worker(backend: str, code: str, tmp_path: Path) -> Any:
    """Run ``code`` in a fresh Python on ``backend`` (Keras picks its backend once per process);
    it prints one JSON value, which is returned."""
    env = dict(
        os.environ, PYTHONPATH=str(ROOT), KERAS_BACKEND=backend, KERAS_HOME=str(tmp_path / "k")
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


COUNTS = """
import json
from bench.worker import backends, workloads
out = {}
for name in ("cnn", "vgg16"):
    model = workloads.build(workloads.get(name), 64)
    workloads.compile_model(model)
    out[name] = [int(model.count_params()), sum(backends.count(w) for w in model.trainable_weights)]
out["optimizer"] = type(model.optimizer).__name__
out["loss"] = model.loss.__name__
out["metric"] = [type(m).__name__ for m in model.metrics][-1]
print(json.dumps(out))
"""


@pytest.mark.parametrize("backend", installed_backends())
def test_the_same_models_on_every_backend(backend: str, tmp_path: Path) -> None:
    """The four workloads' two models have the article's parameter counts, optimizer, loss and
    metric on each installed backend."""
    found = in_worker(backend, COUNTS, tmp_path)
    for name, counts in SMOKE_PARAMETERS.items():
        assert tuple(found[name]) == counts, (backend, name)
    assert found["optimizer"] == "Adam"
    assert found["loss"] == "categorical_crossentropy"


GENERATOR = """
import json
from bench.worker import backends
cls = backends.image_data_generator()
print(json.dumps(f"{cls.__module__}.{cls.__qualname__}"))
"""


@pytest.mark.parametrize("backend", ["jax", "tensorflow"])
def test_image_data_generator_is_the_class_tensorflow_gives(backend: str, tmp_path: Path) -> None:
    """Keras 3.15 dropped keras.preprocessing.image.ImageDataGenerator; the private legacy class
    that `backends.image_data_generator` uses is the very one tf.keras gives."""
    import tensorflow as tf

    expected = tf.keras.preprocessing.image.ImageDataGenerator
    name = f"{expected.__module__}.{expected.__qualname__}"
    assert in_worker(backend, GENERATOR, tmp_path) == name


def test_device_names_of_every_backend_read_as_cpu_or_gpu() -> None:
    """TensorFlow's, PyTorch's and JAX's device names come to one kind."""
    assert model.device_kind("/job:localhost/replica:0/task:0/device:GPU:0") == "GPU"
    assert model.device_kind("cuda:0") == "GPU"
    assert model.device_kind("mps:0") == "GPU"
    assert model.device_kind("gpu:0") == "GPU"
    assert model.device_kind("cpu") == "CPU"
    assert model.device_kind("cpu:0") == "CPU"
    assert model.device_kind(None) is None


def test_unknown_or_missing_backends_are_refused_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A backend that does not exist, or whose framework is missing, is refused before any work,
    naming the nox session that installs it."""
    with pytest.raises(UserError, match="unknown backend 'mxnet'; choose one of tensorflow"):
        config.check("mxnet")
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a)
    )
    with pytest.raises(UserError) as info:
        config_from_args(["--backend", "torch"])
    assert str(info.value) == (
        "the torch backend needs torch, which is not installed here; "
        "run `nox -s bench-torch`, which installs it"
    )


def test_options_a_backend_cannot_honour_are_refused() -> None:
    """JAX has no thread settings; Keras 2 is TensorFlow's only."""
    with pytest.raises(UserError, match="the jax backend has no thread settings"):
        config_from_args(["--backend", "jax", "--threads", "1"])
    with pytest.raises(UserError, match="--keras2 trains on TensorFlow only"):
        config_from_args(["--backend", "jax", "--keras2"])
    assert config_from_args(["--backend", "jax"]).backend == "jax"
    assert config_from_args([]).backend == "tensorflow"


def test_tfdata_pipelines_need_tensorflow(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without TensorFlow the tf.data pipelines are refused in one line; legacy runs anywhere."""
    monkeypatch.setattr(config, "tensorflow_installed", lambda: False)
    with pytest.raises(UserError) as info:
        config_from_args(["--backend", "jax", "--pipeline", "tfdata-affine"])
    assert "needs TensorFlow, which is not installed here; use --pipeline legacy" in str(info.value)
    assert config_from_args(["--backend", "jax"]).pipeline == "legacy"


def test_the_software_block_records_the_backend() -> None:
    """What the worker reports on JAX lands in the software block; TensorFlow's devices stay
    empty because TensorFlow did not run."""
    versions = {"tensorflow-cpu": "2.18.1", "keras": "3.15.1", "jax": "0.10.2", "jaxlib": "0.10.2"}
    captured = software.capture_software(
        {
            "keras": "3.15.1",
            "keras_major": 3,
            "backend": "jax",
            "backend_version": "0.10.2",
            "backend_devices": ["CPU:cpu:0"],
        },
        backend="jax",
        version=versions.get,
        environ={"KERAS_BACKEND": "jax"},
        run=lambda *_a, **_k: None,
    )
    assert captured["backend"] == "jax"
    assert captured["backend_version"] == "0.10.2"
    assert captured["backend_devices"] == ["CPU:cpu:0"]
    assert captured["tf_devices"] == []
    assert captured["tensorflow"] == "2.18.1"
    assert captured["packages"]["jaxlib"] == "0.10.2"
    assert captured["env"] == {"KERAS_BACKEND": "jax"}


@pytest.fixture(scope="module")
def jax_smoke(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One real smoke-profile run of the four workloads on the JAX backend, probes skipped."""
    work = tmp_path_factory.mktemp("jax-smoke")
    proc = run_bench(
        "--backend", "jax", "--profile", "smoke", "--skip-probes", "--weights", "random",
        "--output", str(work / "results"), "--cache", str(work / "cache"),
        cwd=work,
    )  # fmt: skip
    files = sorted((work / "results").glob("*/*.json"))
    return {"proc": proc, "files": files}


def test_the_smoke_profile_runs_on_jax(jax_smoke: dict[str, Any]) -> None:
    """`--backend jax` trains all four workloads on the CPU and writes a valid file that says
    so, with the article's parameter counts and a passing cross-check."""
    proc = jax_smoke["proc"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert len(jax_smoke["files"]) == 1
    document = results.load(jax_smoke["files"][0])
    software = document["software"]
    assert software["backend"] == "jax"
    assert software["backend_version"] == importlib.metadata.version("jax")
    assert "CPU:cpu:0" in software["backend_devices"]
    runs = {run["workload"]: run for run in document["workloads"]}
    assert sorted(runs) == ["cnn", "cnn-aug", "vgg16", "vgg16-aug"]
    for name, run in runs.items():
        assert run["status"] == "ok", run["error"]
        assert run["device"] == "cpu:0"
        assert model.device_kind(run["device"]) == "CPU"
        counts = SMOKE_PARAMETERS[name.partition("-")[0]]
        assert (run["parameters"], run["trainable_parameters"]) == counts
        assert run["crosscheck"]["max_relative_difference"] is not None
        assert run["crosscheck"]["max_relative_difference"] <= run["crosscheck"]["tolerance"]
        assert len(model.epoch_seconds(run)) >= 1
    setting = model.setting_of(document, runs["cnn"])
    assert model.as_dict(setting)["backend"] == "jax"
    assert "JAX" in model.describe(setting)


def test_runs_of_two_backends_are_not_compared_unless_forced(
    jax_smoke: dict[str, Any], smoke_run: dict[str, Any]
) -> None:
    """A TensorFlow and a JAX file of one machine share no setting: compare refuses them and
    names the backend; --force compares them and marks the difference."""
    assert jax_smoke["files"]
    assert smoke_run["files"]
    files = (str(smoke_run["files"][0]), str(jax_smoke["files"][0]))
    refused = run_compare(*files)
    assert refused.returncode != 0
    assert "backend TensorFlow vs JAX" in refused.stdout + refused.stderr
    forced = run_compare(*files, "--force")
    assert forced.returncode == 0, forced.stderr
    assert "backend TensorFlow vs JAX" in forced.stdout


@pytest.mark.parametrize(
    "backend",
    [
        "jax",
        pytest.param("torch", marks=pytest.mark.skipif(not HAS_TORCH, reason=NO_TORCH)),
        pytest.param("mlx", marks=pytest.mark.skipif(not HAS_MLX, reason=NO_MLX)),
    ],
)
def test_the_probes_run_on_the_backend(backend: str, tmp_path: Path) -> None:
    """A real single-core worker on the backend measures matmul and conv2d with its own
    operations on one thread, and every probe (TensorFlow, installed here, decodes the JPEGs)."""
    output = tmp_path / "single.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT), KERAS_HOME=str(tmp_path / "keras"))
    job = ProbeJob(
        "single_core", backend, ProbeSettings(scale=0.05, min_time_s=0.02, max_repeats=3)
    )
    (tmp_path / "single.job.json").write_text(jobs.dumps(job))
    command = jobs.command(tmp_path / "single.job.json", output)
    subprocess.run(
        command, env=jobs.environment(job) | env, check=True,
        capture_output=True, timeout=180,
    )  # fmt: skip
    section = json.loads(output.read_text(encoding="utf-8"))["section"]
    title = model.backend_title(backend)
    assert section["intra_op_threads"] == 1
    assert [p["name"] for p in section["probes"]] == list(probes.PROBES)
    assert all(p["status"] == "ok" and p["value"] > 0 for p in section["probes"]), section
    matmul = section["probes"][0]
    assert matmul["parallelism"] == f"1 thread ({title} intra- and inter-op threads 1)"
    scored = reference.rescore({"sections": {"single_core": section}})["sections"]["single_core"]
    assert scored["score"] > 0


@pytest.mark.skipif(not HAS_TORCH, reason=NO_TORCH)
def test_the_smoke_profile_runs_on_torch(tmp_path: Path) -> None:
    """`--backend torch` trains the CNN on PyTorch's CPU device, records it, and its cross-check
    trains on the CPU (a weight placed on "cpu:0" was a copy without gradients)."""
    proc = run_bench(
        "--backend", "torch", "--profile", "smoke", "--skip-probes", "--workload", "cnn",
        "--output", str(tmp_path / "results"), "--cache", str(tmp_path / "cache"),
        cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    (path,) = sorted((tmp_path / "results").glob("*/*.json"))
    document = results.load(path)
    assert document["software"]["backend"] == "torch"
    (run,) = document["workloads"]
    assert run["status"] == "ok", run["error"]
    assert run["device"] == "cpu"
    assert (run["parameters"], run["trainable_parameters"]) == SMOKE_PARAMETERS["cnn"]
    assert run["crosscheck"].get("error") is None, run["crosscheck"]
    assert run["crosscheck"]["reference"] == "cpu"
    assert run["crosscheck"]["max_relative_difference"] <= run["crosscheck"]["tolerance"]


def test_carried_wheels_are_the_few_a_gpu_server_lacks() -> None:
    """scripts/carry_wheels.py fetches the pinned Keras, its two small dependencies and
    benchbook's own, for the server's Python and platform, and no framework."""
    carry_wheels = _carry_wheels()
    command = carry_wheels.download_command(Path("w"), "3.12", ["manylinux_2_28_x86_64"])
    assert command[command.index("--python-version") + 1] == "3.12"
    assert "--no-deps" in command
    wanted = carry_wheels.requirements()
    assert wanted[0] == "keras==3.15.1"
    assert {"namex", "optree", "jsonschema>=4.18", "psutil>=5.9"} <= set(wanted)
    assert not any(w.startswith(("tensorflow", "torch", "jax")) for w in wanted)
    assert command[-len(wanted) - 1 :] == ["--", *wanted]
    lines = carry_wheels.server_commands("wheels", "jax")
    assert lines[-1] == "python3 -m bench --backend jax --profile quick"


def _carry_wheels() -> Any:
    spec = importlib.util.spec_from_file_location(
        "carry_wheels", ROOT / "scripts" / "carry_wheels.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_carried_wheels_go_into_a_fresh_folder_of_the_checkout_after_it() -> None:
    """No fixed /tmp folder another user could prepare: a new folder in the checkout, made by
    a mkdir that refuses an existing one, and the checkout first on PYTHONPATH."""
    lines = _carry_wheels().server_commands("wheels", "torch")
    assert "/tmp" not in "\n".join(lines)
    assert lines[0].startswith("mkdir .carried ")
    assert "--target .carried wheels/*.whl" in lines[1]
    assert lines[2] == 'export PYTHONPATH="$PWD:$PWD/.carried"'
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "/.carried/" in ignored


def test_carried_wheels_commands_quote_the_folder_and_refuse_option_like_extras(
    tmp_path: Path,
) -> None:
    """A folder named with a space or $(...) is quoted in the printed command; an --also value
    that starts with '-' is refused before pip runs."""
    carry = _carry_wheels()
    line = carry.server_commands("my wheels $(touch x)", "torch")[1]
    assert "'my wheels $(touch x)'/*.whl" in line
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "carry_wheels.py"), str(tmp_path / "w"),
         "--also=--index-url=http://evil"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "looks like an option" in proc.stderr
    assert not (tmp_path / "w").exists()


def test_the_epoch_clock_waits_for_queued_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each clock reading of the epoch timer comes after `backends.wait_for_model`: work still
    queued when validation starts (JAX, GPUs) counts as training, not as validation."""
    from bench.worker import clock

    waited: list[str] = []

    def slow_wait(model: Any) -> None:
        waited.append("wait")
        time.sleep(0.2)

    monkeypatch.setattr(backends, "wait_for_model", slow_wait)
    timer = clock.make_epoch_timer(100)
    timer.on_epoch_begin(0)
    timer.on_test_begin()
    timer.on_test_end({"loss": 0.5})
    timer.on_epoch_end(0, {"loss": 0.5, "val_loss": 0.6})
    (epoch,) = timer.epochs
    assert waited == ["wait", "wait"]
    assert epoch["train_s"] >= 0.2  # the queued steps' wait is training time
    assert epoch["validation_s"] < 0.2
    assert epoch["epoch_s"] >= 0.4
    assert (epoch["loss"], epoch["val_loss"]) == (0.5, 0.6)


def test_a_backend_version_is_a_version_not_free_text() -> None:
    """The backend's version reaches every page: the schema takes version characters only."""
    document = json.loads(
        (ROOT / "results" / "amd-epyc-zen3-2c" / "20261202T022845Z.json").read_text()
    )
    results.validate(document)
    document["software"]["backend_version"] = "0.10.2<script>"
    with pytest.raises(results.ResultsError, match="backend_version"):
        results.validate(document)


HIDE_TENSORFLOW = '''
import sys

class _NoTensorFlow:
    """As on a GPU server without TensorFlow: importing it fails."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorflow", "tf_keras"):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None

sys.meta_path.insert(0, _NoTensorFlow())
'''


def test_jax_trains_and_probes_without_tensorflow(tmp_path: Path) -> None:
    """The GPU-server route: with TensorFlow not importable, the JAX backend trains the CNN on
    the article's pipeline, the tf.data pipelines are refused in one line, and the probe worker
    measures matmul and conv2d while jpeg_decode says it needs TensorFlow."""
    hide = tmp_path / "hide"
    hide.mkdir()
    (hide / "sitecustomize.py").write_text(HIDE_TENSORFLOW, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(hide), str(ROOT)]),
               KERAS_HOME=str(tmp_path / "keras"))  # fmt: skip
    bench = [sys.executable, "-m", "bench", "--backend", "jax"]
    refused = subprocess.run(
        [*bench, "--pipeline", "tfdata-affine"], env=env, cwd=tmp_path, capture_output=True,
        text=True, check=False, timeout=120,
    )  # fmt: skip
    assert refused.returncode == 2
    assert "needs TensorFlow, which is not installed here" in refused.stderr
    proc = subprocess.run(
        [*bench, "--profile", "smoke", "--skip-probes", "--workload", "cnn", "--output",
         str(tmp_path / "results"), "--cache", str(tmp_path / "cache")],
        env=env, cwd=tmp_path, capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    (path,) = sorted((tmp_path / "results").glob("*/*.json"))
    document = results.load(path)
    assert document["software"]["backend"] == "jax"
    assert document["software"]["tf_devices"] == []
    (run,) = document["workloads"]
    assert run["status"] == "ok", run["error"]
    output = tmp_path / "single.json"
    job = ProbeJob("single_core", "jax", ProbeSettings(scale=0.05, min_time_s=0.02, max_repeats=3))
    (tmp_path / "single.job.json").write_text(jobs.dumps(job))
    command = jobs.command(tmp_path / "single.job.json", output)
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=180)
    section = json.loads(output.read_text(encoding="utf-8"))["section"]
    by_name = {p["name"]: p for p in section["probes"]}
    assert by_name["matmul"]["status"] == by_name["conv2d"]["status"] == "ok"
    assert by_name["augment"]["status"] == "ok"
    assert by_name["jpeg_decode"]["status"] == "failed"
    assert "needs TensorFlow" in by_name["jpeg_decode"]["reason"]
