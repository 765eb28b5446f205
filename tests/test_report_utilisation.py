"""Tests for bench/report/utilisation.py: FLOPs from the architecture, share of the matmul peak."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from bench.report import scores, tables, utilisation
from bench.worker import workloads

FIXTURES = Path(__file__).parent / "data" / "results"


def keras_layers(model: Any) -> list[utilisation.Layer]:
    """The convolution and dense layers of a built Keras model, counted from their real shapes."""
    import tensorflow as tf

    found = []
    for layer in model.layers:
        if isinstance(layer, tf.keras.layers.Conv2D):
            kh, kw, c_in, c_out = layer.kernel.shape
            _, oh, ow, _ = layer.output.shape
            flops = 2 * oh * ow * kh * kw * c_in * c_out
        elif isinstance(layer, tf.keras.layers.Dense):
            n_in, n_out = layer.kernel.shape
            flops = 2 * n_in * n_out
        else:
            continue
        found.append(
            utilisation.Layer(layer.name, int(flops), int(layer.count_params()), layer.trainable)
        )
    return found


@pytest.mark.slow
@pytest.mark.parametrize(
    ("model", "size"), [("cnn", 224), ("cnn", 65), ("vgg16", 224), ("vgg16", 64)]
)
def test_layers_match_the_keras_models(model: str, size: int) -> None:
    """Forward FLOPs, parameters and trainability of each layer agree with the built model."""
    built = workloads.build(workloads.get(model), image_size=size)
    expected = keras_layers(built)
    counted = utilisation.layers(model, size)
    assert [(c.forward_flops, c.params, c.trainable) for c in counted] == [
        (e.forward_flops, e.params, e.trainable) for e in expected
    ]
    if model == "vgg16":  # the base's names are fixed; Keras numbers the head's per session
        assert [c.name for c in counted[:-2]] == [e.name for e in expected[:-2]]


def test_article_parameter_counts_follow_from_the_layers() -> None:
    """The counted layers hold the article's 12,400,930 and 17,926,338 (3,211,650 trainable)."""
    assert sum(layer.params for layer in utilisation.layers("cnn", 224)) == 12_400_930
    vgg = utilisation.layers("vgg16", 224)
    assert sum(layer.params for layer in vgg) == 17_926_338
    assert sum(layer.params for layer in vgg if layer.trainable) == 3_211_650


def test_training_flops_rules() -> None:
    """All-trainable CNN: 3x forward except the first layer's input gradient; frozen base: 1x."""
    cnn = utilisation.layers("cnn", 224)
    forward = [layer.forward_flops for layer in cnn]
    assert utilisation.training_flops("cnn", 224) == 2 * forward[0] + 3 * sum(forward[1:])
    vgg = utilisation.layers("vgg16", 224)
    base = sum(layer.forward_flops for layer in vgg if not layer.trainable)
    head = [layer.forward_flops for layer in vgg if layer.trainable]
    assert utilisation.training_flops("vgg16", 224) == base + 2 * head[0] + 3 * head[1]
    # VGG-16's base is the well-known ~15.4 G multiply-adds per 224x224 image.
    assert base / 2 == pytest.approx(15.35e9, rel=0.01)


def test_unknown_model_is_refused() -> None:
    """Only the article's two architectures are known."""
    with pytest.raises(ValueError, match="unknown model 'resnet'"):
        utilisation.layers("resnet", 224)


def test_utilisation_uses_the_device_peak() -> None:
    """A GPU run is set against the GPU matmul, a CPU run against the all-core matmul."""
    results = tables.load_results(FIXTURES)
    table = utilisation.utilisation(results).set_index(["machine", "workload", "image_size"])
    details = scores.probe_details(results).set_index(["machine", "section", "probe"])
    row = table.loc[("fixture-laptop-b", "vgg16", 224)]
    assert row["peak"] == "GPU matmul"
    assert row["peak_gflops"] == details.at[("fixture-laptop-b", "gpu", "matmul"), "value"]
    epochs = tables.measured_epochs(results.epochs)
    mine = epochs[(epochs["machine"] == "fixture-laptop-b") & (epochs["workload"] == "vgg16")]
    rate = mine["images_per_s"].median()
    gflop = utilisation.training_flops("vgg16", int(mine["image_size"].iloc[0])) / 1e9
    assert row["achieved_gflops"] == pytest.approx(gflop * rate)
    assert row["share"] == pytest.approx(gflop * rate / row["peak_gflops"])
    cpu = table.loc[("fixture-desktop-c", "cnn", 64)]
    assert cpu["peak"] == "all-core matmul"
    assert cpu["peak_gflops"] == details.at[("fixture-desktop-c", "multi_core", "matmul"), "value"]


def test_utilisation_without_probes_has_no_share(tmp_path: Path) -> None:
    """A machine whose files have no probes gets its achieved GFLOP/s but no share, not a zero."""
    import json
    import shutil

    shutil.copytree(FIXTURES / "fixture-desktop-c", tmp_path / "fixture-desktop-c")
    for path in (tmp_path / "fixture-desktop-c").glob("*.json"):
        data = json.loads(path.read_text())
        data["probes"] = None
        path.write_text(json.dumps(data))
    table = utilisation.utilisation(tables.load_results(tmp_path))
    assert not table.empty
    assert table["achieved_gflops"].gt(0).all()
    assert table["share"].isna().all()


def test_score_tracking_and_rank_agreement() -> None:
    """Scores and rates line up per machine; agreement needs three machines."""
    results = tables.load_results(FIXTURES)
    table = utilisation.score_tracking(results)
    assert list(table["machine"]) == results.machines
    table_of_scores = scores.probe_scores(results).set_index(["machine", "section"])
    b = table.set_index("machine").loc["fixture-laptop-b"]
    assert b["single_core"] == table_of_scores.at[("fixture-laptop-b", "single_core"), "score"]
    rho = utilisation.rank_agreement(table, "multi_core", "cnn")
    assert math.isnan(rho) or -1.0 <= rho <= 1.0
    assert math.isnan(utilisation.rank_agreement(table.head(2), "multi_core", "cnn"))
    ordered = table.assign(x=[1.0, 2.0, 3.0], y=[10.0, 20.0, 30.0])
    assert utilisation.rank_agreement(ordered, "x", "y") == pytest.approx(1.0)
    assert utilisation.rank_agreement(ordered.assign(y=[30.0, 20.0, 10.0]), "x", "y") == -1.0


def test_one_row_per_comparable_configuration(tmp_path: Path) -> None:
    """Two files of one machine that differ only by pipeline are two rows, each with its own
    rate: the table never pools configurations."""
    import json
    import shutil

    folder = tmp_path / "fixture-laptop-a"
    shutil.copytree(FIXTURES / "fixture-laptop-a", folder)
    path = folder / "20260102T100000Z.json"
    data = json.loads(path.read_text())
    data["config"]["pipeline"] = "tfdata-layers"
    data["finished_at"] = "2026-01-02T23:00:00.000Z"
    for run in data["workloads"]:
        for epoch in run["epochs"]:  # half the speed, so a pooled median would show
            for phase in ("epoch_s", "train_s", "validation_s"):
                epoch[phase] *= 2
            epoch["images_per_s"] /= 2
    path.write_text(json.dumps(data))
    table = utilisation.utilisation(tables.load_results(tmp_path))
    cnn = table[table["workload"] == "cnn"]
    assert sorted(cnn["pipeline"]) == ["legacy", "tfdata-layers"]
    rates = cnn.set_index("pipeline")["images_per_s"]
    assert rates["legacy"] == pytest.approx(2 * rates["tfdata-layers"])
    assert "tf.data layers pipeline" in cnn.set_index("pipeline").at["tfdata-layers", "setting"]
