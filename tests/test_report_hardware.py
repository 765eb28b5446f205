"""Tests for bench/report/hardware.py: the machines side by side, on frozen fixtures."""

from __future__ import annotations

import shutil
from pathlib import Path

from documents import ROOT, read, write

from bench.report import hardware, tables


def test_hardware_puts_machines_side_by_side(loaded: tables.Results) -> None:
    """One column per machine, from its newest file, with chip, cores, GPU and versions."""
    table = hardware.hardware(loaded)
    assert list(table.columns) == loaded.machines
    pro = table["fixture-laptop-b"]
    assert pro["Chip or CPU"] == "Apple M1 Pro"
    assert pro["CPU cores"] == "10 (8 performance + 2 efficiency)"
    assert pro["GPU"] == "Apple M1 Pro, 16 cores"
    assert pro["Memory"] == "16 GiB"
    assert pro["tensorflow-metal"] == "1.2.0"
    assert pro["Device used"] == "GPU:0"
    assert table.at["Results files", "fixture-laptop-a"] == "2"
    assert table.at["CPU cores", "fixture-desktop-c"] == "4 (8 threads)"
    newest = loaded.newest("fixture-laptop-b")["dataset"]
    assert table.at["Dataset (newest file)", "fixture-laptop-b"] == (hardware.dataset_label(newest))


def test_dataset_label_names_the_data_and_its_fingerprint() -> None:
    """Real data by its manifest name, the stand-in as such, both with the fingerprint's start."""
    real = {"kind": "real", "name": "Kaggle Dogs vs Cats (petimages)", "fingerprint": "ab" * 32}
    assert hardware.dataset_label(real) == "Kaggle Dogs vs Cats (petimages), abababab"
    assert hardware.dataset_label(
        {"kind": "synthetic", "name": "synthetic", "fingerprint": "0" * 64}
    ) == ("synthetic stand-in, 00000000")
    assert hardware.dataset_label({"kind": "real", "name": None, "fingerprint": "c" * 64}) == (
        "unnamed dataset, cccccccc"
    )


def test_folders_of_the_same_hardware_are_paired(tmp_path: Path) -> None:
    """A folder without a CPU identity and one with it, same CPU name, cores and flags, are
    named as the same hardware; a different CPU is not."""
    folder = Path(shutil.copytree(ROOT / "tests" / "data" / "results", tmp_path / "results"))
    source = folder / "fixture-laptop-b" / "20260103T120000Z.json"
    data = read(source)
    data["machine"]["slug"] = "fixture-laptop-b-zen4"
    data["machine"]["cpu"]["identity"] = {"vendor": "AuthenticAMD", "family": 25, "model": 17}
    data["run_id"] = "9" * 32
    target = folder / "fixture-laptop-b-zen4" / source.name
    target.parent.mkdir()
    write(target, data)
    groups = hardware.same_hardware(tables.load_results(folder))
    assert groups == [["fixture-laptop-b", "fixture-laptop-b-zen4"]]


def test_same_hardware_is_grouped_and_its_text_bounded() -> None:
    """Thousands of machines of one kind are one group, named by its first five."""
    groups = [[f"m{i:04d}" for i in range(1000)], ["a", "b"]]
    text = hardware.same_hardware_text(groups)
    assert text == "m0000, m0001, m0002, m0003, m0004 and 995 more; a, b"
    many = hardware.same_hardware_text([["a", "b"]] * 30)
    assert many.endswith("; and 10 more groups")
