"""Tests for bench/data.py: the synthetic stand-in, layout checks and the fingerprint."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench import data
from bench.errors import UserError

SPEC = data.SyntheticSpec(train_per_class=4, validation_per_class=2)


@pytest.fixture(scope="module")
def synthetic_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic dataset, generated once for the module."""
    return data.synthetic(SPEC, tmp_path_factory.mktemp("cache"))


def test_synthetic_layout_counts_and_sizes(synthetic_root: Path) -> None:
    """The stand-in is real JPEGs in train/ and validation/, one folder per class, 200-500 px a side."""
    found = data.check_layout(synthetic_root)
    assert {split: {c: len(v) for c, v in classes.items()} for split, classes in found.items()} == {
        "train": {"cat": 4, "dog": 4},
        "validation": {"cat": 2, "dog": 2},
    }
    for path in synthetic_root.rglob("*.jpg"):
        with Image.open(path) as image:
            assert image.format == "JPEG"
            assert all(200 <= side <= 500 for side in image.size)


def test_synthetic_is_deterministic_and_cached(tmp_path: Path, synthetic_root: Path) -> None:
    """The same spec gives byte-identical files elsewhere, and a second call reuses the cache."""
    again = data.synthetic(SPEC, tmp_path)
    assert (
        data.describe(again, "synthetic")["fingerprint"]
        == data.describe(synthetic_root, "synthetic")["fingerprint"]
    )
    stamp = (again / "spec.json").stat().st_mtime_ns
    assert data.synthetic(SPEC, tmp_path) == again
    assert (again / "spec.json").stat().st_mtime_ns == stamp


def test_changed_parameters_give_a_new_dataset(tmp_path: Path) -> None:
    """A different seed or size lands in a different cache folder with a different fingerprint."""
    a = data.synthetic(data.SyntheticSpec(2, 1, seed=1), tmp_path)
    b = data.synthetic(data.SyntheticSpec(2, 1, seed=2), tmp_path)
    assert a != b
    assert (
        data.describe(a, "synthetic")["fingerprint"] != data.describe(b, "synthetic")["fingerprint"]
    )


def test_classes_are_visually_separable(synthetic_root: Path) -> None:
    """Cats are warm and dogs cool on average: a model can learn them, so accuracy can beat chance."""

    def warmth(path: Path) -> float:
        pixels = np.asarray(Image.open(path), dtype=np.float32)
        return float(pixels[..., 0].mean() - pixels[..., 2].mean())

    cats = [warmth(p) for p in (synthetic_root / "train" / "cat").glob("*.jpg")]
    dogs = [warmth(p) for p in (synthetic_root / "train" / "dog").glob("*.jpg")]
    assert np.mean(cats) > np.mean(dogs) + 10


def test_fingerprint_changes_with_any_file(tmp_path: Path, synthetic_root: Path) -> None:
    """Renaming, altering or moving one file changes the fingerprint."""
    copy = tmp_path / "copy"
    shutil.copytree(synthetic_root, copy)
    base = data.describe(copy, "real")["fingerprint"]
    first = next((copy / "train" / "cat").glob("*.jpg"))
    first.rename(first.with_name("renamed.jpg"))
    renamed = data.describe(copy, "real")["fingerprint"]
    assert renamed != base
    shutil.move(first.with_name("renamed.jpg"), copy / "validation" / "cat" / "renamed.jpg")
    assert data.describe(copy, "real")["fingerprint"] not in {base, renamed}


def test_description_validates_against_the_schema(synthetic_root: Path) -> None:
    """The dataset block matches the results schema's `dataset` definition."""
    import jsonschema

    from bench.results import schema

    description = data.synthetic_description(synthetic_root)
    subschema = {"$defs": schema()["$defs"], "$ref": "#/$defs/dataset"}
    jsonschema.validate(description, subschema)
    assert description["splits"]["train"]["images"] == 8
    assert description["generator"]["train_per_class"] == 4


def _make(root: Path, layout: dict[str, dict[str, int]]) -> Path:
    for split, classes in layout.items():
        for name, n in classes.items():
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(n):
                Image.new("RGB", (8, 8), (i, 0, 0)).save(folder / f"{i}.jpg")
    return root


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ({"train": {"cat": 1, "dog": 1}}, "has no validation/ folder"),
        ({"train": {}, "validation": {"cat": 1, "dog": 1}}, "has no class folders"),
        ({"train": {"cat": 1}, "validation": {"cat": 1}}, "one class only"),
        (
            {"train": {"cat": 1, "dog": 1}, "validation": {"cat": 1, "cow": 1}},
            "differ from validation classes",
        ),
        ({"train": {"cat": 1, "dog": 0}, "validation": {"cat": 1, "dog": 1}}, "has no images"),
        (
            {"train": {"a": 1, "b": 1, "c": 1}, "validation": {"a": 1, "b": 1, "c": 1}},
            "exactly 2 are needed",
        ),
    ],
)
def test_bad_layouts_are_refused(
    tmp_path: Path, layout: dict[str, dict[str, int]], message: str
) -> None:
    """Each malformed dataset folder gets one clear line."""
    root = _make(tmp_path / "d", layout)
    (root / "train").mkdir(parents=True, exist_ok=True)
    with pytest.raises(UserError, match=message):
        data.describe(root, "real")


def test_missing_folder_and_unreadable_image_are_refused(tmp_path: Path) -> None:
    """A missing data folder and a file that is not an image stop the run before training."""
    with pytest.raises(UserError, match="does not exist"):
        data.describe(tmp_path / "nowhere", "real")
    root = _make(
        tmp_path / "d", {"train": {"cat": 1, "dog": 1}, "validation": {"cat": 1, "dog": 1}}
    )
    (root / "train" / "dog" / "broken.jpg").write_bytes(b"this is not a JPEG")
    with pytest.raises(UserError, match=r"broken\.jpg is not a readable image"):
        data.describe(root, "real")


def test_interrupted_generation_leaves_no_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A generation that fails part way leaves neither a half-made cache nor temporary folders."""

    def explode(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(data, "_draw", explode)
    with pytest.raises(KeyboardInterrupt):
        data.synthetic(SPEC, tmp_path)
    assert list(tmp_path.iterdir()) == []
