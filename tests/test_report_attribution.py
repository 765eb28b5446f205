"""Tests for bench/report/attribution.py: where the step time goes, by configuration, on frozen fixtures."""

from __future__ import annotations

import math
import re
import shutil
from pathlib import Path

import pytest
from documents import ATTRIBUTION_FIXTURES, FIXTURES, ROOT, read, write

from bench.report import attribution, markup, tables
from bench.worker import pipelines


def test_attribution_table_derives_wait_and_verdict(loaded: tables.Results) -> None:
    """Each configuration gets medians of the three throughputs, its input wait and verdict."""
    table = attribution.attribution_table(loaded).set_index(["workload", "machine", "profile"])
    row = table.loc[("cnn-aug", "fixture-laptop-a", "full")]
    assert row["attribution"] == "measured"
    assert row["input_images_per_s"] == pytest.approx(540, rel=1e-4)
    assert row["compute_images_per_s"] == pytest.approx(1000, rel=1e-4)
    assert row["end_to_end_images_per_s"] == pytest.approx(500)
    assert row["input_wait_share"] == pytest.approx(0.5, abs=1e-4)
    assert row["verdict"] == "input-bound"
    assert row["threads"] == "default (8 cores)"
    assert 0 < row["overhead_share"] < 0.05
    # Two repeats: medians over both.
    b = table.loc[("cnn-aug", "fixture-laptop-b", "full")]
    assert (b["runs"], b["measured_runs"]) == (2, 2)
    assert b["input_images_per_s"] == pytest.approx(525, rel=1e-4)
    assert table.loc[("cnn", "fixture-laptop-b", "full"), "verdict"] == "compute-bound"


def test_runs_without_the_block_are_not_measured(loaded: tables.Results) -> None:
    """Files from before the measurement still load and say "not measured", never zero."""
    table = attribution.attribution_table(loaded)
    vgg = table[table["workload"] == "vgg16"]
    assert set(vgg["attribution"]) == {"not measured"}
    assert set(vgg["verdict"]) == {"not measured"}
    assert vgg["input_images_per_s"].isna().all()
    assert vgg["end_to_end_images_per_s"].notna().all()
    # A failed training run has nothing to attribute: desktop-c's vgg16-aug has no row.
    desktop = table[table["machine"] == "fixture-desktop-c"]
    assert "vgg16-aug" not in set(desktop["workload"])


def test_a_failed_measurement_is_reported_as_failed(folder: Path) -> None:
    """An attribution block with an error shows as failed, with no throughputs."""
    path = folder / "fixture-laptop-a" / "20260102T100000Z.json"
    data = read(path)
    data["workloads"][0]["attribution"] = {"error": "ResourceExhaustedError: OOM"}
    write(path, data)
    loaded = tables.load_results(folder)
    rows = loaded.attribution[loaded.attribution["path"] == str(path)]
    assert rows["attribution"].tolist() == ["failed"]
    assert rows["error"].tolist() == ["ResourceExhaustedError: OOM"]
    table = attribution.attribution_table(loaded)
    # The machine's other file measured the same configuration: the group stays measured.
    row = table[(table["workload"] == "cnn") & (table["machine"] == "fixture-laptop-a")
                & (table["profile"] == "full")].iloc[0]  # fmt: skip
    assert (row["attribution"], row["runs"], row["measured_runs"]) == ("measured", 2, 1)


def test_attribution_groups_keep_one_setting_per_workload(
    with_variants: tables.Results,
) -> None:
    """A chart holds every machine, pipeline and thread count of one profile and dataset."""
    groups = attribution.attribution_groups(with_variants)
    assert list(groups) == ["cnn", "cnn-aug", "vgg16", "vgg16-aug"]
    aug = groups["cnn-aug"]
    assert set(aug["profile"]) == {"full"}
    labels = [attribution.configuration_label(r) for r in aug.to_dict("records")]
    assert labels == [
        "fixture-desktop-c, legacy, default (8 cores)",
        "fixture-laptop-a, legacy, default (8 cores)",
        "fixture-laptop-a, legacy, 4 threads",
        "fixture-laptop-a, tf.data affine, default (8 cores)",
        "fixture-laptop-a, tf.data affine, 4 threads",
        "fixture-laptop-b, legacy, default (10 cores)",
    ]
    assert aug.loc[3, "verdict"] == "compute-bound"
    # The smoke-profile cnn run of fixture-desktop-c is a different setting: not in the chart.
    assert set(groups["cnn"]["profile"]) == {"full"}


def test_thread_scaling_keeps_machines_with_two_thread_counts(
    loaded: tables.Results, with_variants: tables.Results
) -> None:
    """Series need two or more thread counts; the default is placed at the machine's cores."""
    assert attribution.thread_scaling(loaded).empty
    table = attribution.thread_scaling(with_variants)
    assert set(table["machine"]) == {"fixture-laptop-a"}
    legacy = table[(table["workload"] == "cnn-aug") & (table["pipeline"] == "legacy")]
    assert legacy["cores"].tolist() == [4, 8]
    assert legacy["threads"].tolist() == ["4 threads", "default (8 cores)"]
    assert legacy["images_per_s"].tolist() == pytest.approx([280, 500], rel=1e-3)


def test_augmentation_story_prefers_a_machine_with_both_pipelines(
    loaded: tables.Results, with_variants: tables.Results
) -> None:
    """The explanation uses default threads and a machine that measured tf.data too."""
    story = attribution.augmentation_story(with_variants)
    assert story is not None
    assert (story.machine, story.threads) == ("fixture-laptop-a", "default (8 cores)")
    assert story.legacy["verdict"] == "input-bound"
    assert story.tfdata is not None
    assert story.tfdata_speedup == pytest.approx(950 / 500, rel=1e-3)
    assert story.augmentation_cost == pytest.approx(2400 / 540, rel=1e-3)
    # Without tf.data results, the first machine with the legacy measurement, no speed-up.
    plain = attribution.augmentation_story(loaded)
    assert plain is not None
    assert plain.tfdata is None
    assert math.isnan(plain.tfdata_speedup)


def test_no_story_without_measurements(folder: Path) -> None:
    """Results without any attribution give no story and an all-"not measured" table."""
    for path in folder.rglob("*.json"):
        data = read(path)
        for run in data["workloads"]:
            run.pop("attribution", None)
        write(path, data)
    loaded = tables.load_results(folder)
    assert attribution.augmentation_story(loaded) is None
    assert set(attribution.attribution_table(loaded)["attribution"]) == {"not measured"}


def test_default_and_an_explicit_count_of_every_core_are_one_point(folder: Path) -> None:
    """Runs at the default and at --threads equal to the logical cores make no scaling series."""
    shutil.copytree(ATTRIBUTION_FIXTURES, folder, dirs_exist_ok=True)
    path = folder / "fixture-laptop-a" / "20260107T100000Z.json"  # legacy, 4 threads
    data = read(path)
    data["config"]["intra_op_threads"] = 8  # fixture-laptop-a has 8 logical cores
    write(path, data)
    table = attribution.thread_scaling(tables.load_results(folder))
    assert set(table["pipeline"]) == {"tfdata-affine"}
    assert table[table["workload"] == "cnn"]["cores"].tolist() == [4, 8]


def test_older_layer_runs_are_charted_as_tfdata_layers(folder: Path) -> None:
    """A file that stored the Keras layers' run as tfdata is its own configuration, labelled so."""
    shutil.copytree(ATTRIBUTION_FIXTURES, folder, dirs_exist_ok=True)
    path = folder / "fixture-laptop-a" / "20260106T100000Z.json"  # tf.data, default threads
    data = read(path)
    run = next(r for r in data["workloads"] if r["workload"] == "cnn-aug")
    run["augmentation"] = pipelines.layers_augmentation(True)
    write(path, data)
    loaded = tables.load_results(folder)
    aug = attribution.attribution_groups(loaded)["cnn-aug"]
    labels = {attribution.configuration_label(r) for r in aug.to_dict("records")}
    assert "fixture-laptop-a, tf.data layers, default (8 cores)" in labels
    assert "fixture-laptop-a, tf.data affine, default (8 cores)" not in labels
    story = attribution.augmentation_story(loaded)
    assert story is not None
    assert story.tfdata is None
    assert story.layers is not None
    assert story.layers_speedup == pytest.approx(950 / 500, rel=1e-3)
    # The file asked for the layers, so its plain CNN run is read as tfdata-layers too; the
    # other file's affine runs stay tfdata-affine.
    cnn = attribution.attribution_groups(loaded)["cnn"]
    assert {"tfdata-affine", "tfdata-layers"} <= set(cnn["pipeline"])


def test_attribution_display_names_configurations_and_never_shows_zero(
    loaded: tables.Results,
) -> None:
    """Measured rows show throughputs, the step's split and verdict; the others say not
    measured."""
    table = attribution.attribution_display(attribution.attribution_groups(loaded)["cnn-aug"])
    first = table.iloc[0].to_dict()
    assert first == {
        "Configuration": "fixture-desktop-c, legacy, default (8 cores)",
        "Input only (img/s)": "300.0",
        "Compute only (img/s)": "600.0",
        "End to end (img/s)": "250.0",
        # 4 ms per image: 1.67 compute, 2.33 of the pipeline's 3.33 ms input, nothing else.
        "Step time": "compute 42%, input 58%, other 0%",
        "Verdict": "input-bound",
        "Runs (measured)": "1 (1)",
    }
    vgg = attribution.attribution_display(attribution.attribution_groups(loaded)["vgg16"])
    assert set(vgg["Verdict"]) == {"not measured"}
    assert set(vgg["Input only (img/s)"]) == {"\u2014"}
    html = markup.table_html(vgg)
    assert "nan" not in html.lower()


def test_scaling_display_names_each_rows_setting(tmp_path: Path) -> None:
    """The core-scaling table says which profile and dataset each thread count was run on."""
    import shutil

    folder = Path(shutil.copytree(FIXTURES, tmp_path / "results"))
    shutil.copytree(ROOT / "tests" / "data" / "attribution", folder, dirs_exist_ok=True)
    table = attribution.scaling_display(attribution.thread_scaling(tables.load_results(folder)))
    assert list(table.columns) == [
        "Workload", "Machine", "Pipeline", "Setting", "Threads", "Images/s (median)",
        "Measured epochs",
    ]  # fmt: skip
    assert set(table["Setting"].str.split(",").str[0]) == {"full"}
    assert all(re.search(r", 224 px, batch 64, (real|synthetic) data [0-9a-f]{8}$", s)
               for s in table["Setting"])  # fmt: skip


def test_story_texts_give_every_glued_figure(
    loaded: tables.Results, with_variants: tables.Results
) -> None:
    """The page glues one text per story name; missing measurements read "not measured"."""
    story = attribution.augmentation_story(with_variants)
    texts = attribution.story_texts(story)
    assert tuple(texts) == attribution.STORY_NAMES
    assert story is not None
    assert texts["aug-machine"] == story.machine
    assert texts["aug-cost"] == f"{story.augmentation_cost:.2f}x"
    assert f"{story.tfdata_speedup:.2f}x the legacy pipeline's rate" in texts["tfdata-finding"]
    plain = attribution.story_texts(attribution.augmentation_story(loaded))
    assert plain["tfdata-finding"].startswith("No tf.data affine run of this workload on ")
    nothing = attribution.story_texts(None)
    assert nothing["aug-x2"] == attribution.MISSING
    assert nothing["layers-finding"] == ""
