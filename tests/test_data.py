"""Tests for bench/data.py: the synthetic stand-in, layout checks and the fingerprint."""

from __future__ import annotations

import json
import shutil
import subprocess
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


def _copy(synthetic_root: Path, where: Path) -> Path:
    """A copy of the stand-in without its spec, as a user's own --data folder would be."""
    root = Path(shutil.copytree(synthetic_root, where))
    (root / "spec.json").unlink()
    (root / data.FINGERPRINT_NAME).unlink()
    return root


def _jpeg_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose header (SOF0) claims ``width`` x ``height`` pixels."""
    import io

    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 100, 50)).save(buffer, "JPEG")
    raw = bytearray(buffer.getvalue())
    sof = raw.index(b"\xff\xc0")
    raw[sof + 5 : sof + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return bytes(raw)


def test_a_header_bomb_is_refused_in_one_line(synthetic_root: Path, tmp_path: Path) -> None:
    """A JPEG whose header claims 20000x20000 pixels stops the run before training, no traceback."""
    root = _copy(synthetic_root, tmp_path / "d")
    (root / "train" / "cat" / "bomb.jpg").write_bytes(_jpeg_claiming(20000, 20000))
    with pytest.raises(UserError, match=r"bomb\.jpg claims more pixels than an image can safely"):
        data.describe(root, "real")


def test_a_truncated_jpeg_is_found_before_training(synthetic_root: Path, tmp_path: Path) -> None:
    """A JPEG cut short passes a header check but not the decode before training, which names it."""
    root = _copy(synthetic_root, tmp_path / "d")
    whole = (root / "train" / "dog" / "dog.0.jpg").read_bytes()
    (root / "train" / "dog" / "dog.0.jpg").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(
        UserError, match=r"dog\.0\.jpg is not a readable image \(image file is trunc"
    ):
        data.describe(root, "real")
    assert data.describe(root, "real", check_images=False)["splits"]["train"]["images"] == 8


def test_images_proven_by_their_fingerprint_are_not_decoded_again(
    synthetic_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stand-in whose files match the fingerprint recorded when it was made, or a prepared folder
    whose manifest records its fingerprint, gets a header check only; other folders a full decode."""
    decoded: list[bool] = []
    check = data._check_image

    def spy(path: Path, decode: bool) -> tuple[int, int]:
        decoded.append(decode)
        return check(path, decode)

    monkeypatch.setattr(data, "_check_image", spy)
    data.describe(synthetic_root, "synthetic")
    assert decoded
    assert not any(decoded)
    root = _copy(synthetic_root, tmp_path / "d")
    decoded.clear()
    fingerprint = data.describe(root, "real")["fingerprint"]
    assert decoded
    assert all(decoded)
    (root / data.MANIFEST_NAME).write_text(json.dumps({"fingerprint": fingerprint}))
    decoded.clear()
    data.describe(root, "real")
    assert decoded
    assert not any(decoded)


def test_a_dangling_symlink_is_refused_not_left_for_keras(
    synthetic_root: Path, tmp_path: Path
) -> None:
    """Keras lists a broken link as an image and crashes on it; the check refuses it first."""
    root = _copy(synthetic_root, tmp_path / "d")
    (root / "validation" / "cat" / "gone.jpg").symlink_to(tmp_path / "nowhere.jpg")
    with pytest.raises(UserError, match=r"gone\.jpg is a broken symbolic link"):
        data.describe(root, "real")


@pytest.mark.slow
def test_the_listing_is_what_keras_lists(synthetic_root: Path, tmp_path: Path) -> None:
    """Images in a subfolder of a class, upper-case suffixes and linked files count, as Keras counts
    them, so the check and the fingerprint cover every file training reads."""
    from keras.src.legacy.preprocessing.image import ImageDataGenerator

    root = _copy(synthetic_root, tmp_path / "d")
    nested = root / "train" / "cat" / "more"
    nested.mkdir()
    shutil.copy(root / "train" / "cat" / "cat.0.jpg", nested / "CAT.X.JPG")
    (root / "train" / "dog" / "link.jpg").symlink_to(root / "train" / "dog" / "dog.1.jpg")
    listed = data.list_images(root)
    assert len(listed["train"]["cat"]) == 5
    assert len(listed["train"]["dog"]) == 5
    keras = ImageDataGenerator().flow_from_directory(str(root / "train"), target_size=(8, 8))
    assert keras.samples == sum(len(v) for v in listed["train"].values())
    lines, _ = data.fingerprint_lines(root, listed)
    assert any(line.startswith("train/cat/more/CAT.X.JPG\t") for line in lines)


@pytest.mark.parametrize("damage", ["no-spec", "missing-image", "changed-image", "other-spec"])
def test_a_damaged_stand_in_cache_is_made_again(tmp_path: Path, damage: str) -> None:
    """A cache folder without spec.json, with an image missing or changed, or with another spec is
    generated again (and says so); the result is the same stand-in as a fresh one."""
    root = data.synthetic(SPEC, tmp_path)
    fresh = data.describe(root, "synthetic")["fingerprint"]
    if damage == "no-spec":
        (root / "spec.json").unlink()
    elif damage == "missing-image":
        (root / "train" / "cat" / "cat.1.jpg").unlink()
    elif damage == "changed-image":
        (root / "train" / "cat" / "cat.1.jpg").write_bytes(
            (root / "train" / "dog" / "dog.1.jpg").read_bytes()
        )
    else:
        (root / "spec.json").write_text(json.dumps({"seed": 7}))
    said: list[str] = []
    again = data.synthetic(SPEC, tmp_path, said.append)
    assert again == root
    assert len(said) == 1
    assert "is damaged" in said[0]
    assert data.describe(again, "synthetic")["fingerprint"] == fresh
    assert [p.name for p in tmp_path.iterdir()] == [root.name]


def test_a_cache_made_before_fingerprints_were_recorded_is_kept(tmp_path: Path) -> None:
    """A complete cache folder without a recorded fingerprint is used as it is, and recorded."""
    root = data.synthetic(SPEC, tmp_path)
    (root / data.FINGERPRINT_NAME).unlink()
    stamp = (root / "spec.json").stat().st_mtime_ns
    said: list[str] = []
    assert data.synthetic(SPEC, tmp_path, said.append) == root
    assert said == []
    assert (root / "spec.json").stat().st_mtime_ns == stamp
    assert (root / data.FINGERPRINT_NAME).is_file()


def test_leftovers_of_a_killed_generation_are_removed(tmp_path: Path) -> None:
    """Temporary folders whose maker is gone (or, from older versions, a day old) are removed by the
    next run; one whose maker still runs is left alone."""
    import os
    import time

    child = subprocess.Popen(["true"])
    child.wait()
    gone = tmp_path / f".synthetic-abc.generating-{child.pid}-0123abcd"
    mine = tmp_path / f".synthetic-abc.generating-{os.getpid()}-0123abcd"
    legacy = tmp_path / ".synthetic-q8x_k2"
    for folder in (gone, mine, legacy):
        (folder / "train").mkdir(parents=True)
    old = time.time() - 2 * 24 * 3600
    os.utime(legacy, (old, old))
    data.synthetic(SPEC, tmp_path)
    assert not gone.exists()
    assert not legacy.exists()
    assert mine.exists()


def test_a_full_disk_during_generation_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC while writing the stand-in gives one line with the space needed; nothing is left."""
    import errno

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", full)
    with pytest.raises(UserError, match=r"the disk is full\); it needs about 1 MB"):
        data.synthetic(SPEC, tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


def test_corrupt_exif_is_quiet_in_every_checking_thread(tmp_path: Path) -> None:
    """Photos with a damaged EXIF block are checked on many threads at once without Pillow's
    warning escaping (the suite turns warnings into errors): the filter covers the whole pool."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, "JPEG")
    jpeg = buffer.getvalue()
    # An APP1 EXIF block whose directory claims a tag it does not hold.
    exif = b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x01\x00"
    broken = jpeg[:2] + b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif + jpeg[2:]
    paths = []
    for i in range(256):
        path = tmp_path / f"cat.{i}.jpg"
        path.write_bytes(broken)
        paths.append(path)
    for _ in range(4):
        assert data._check_images(paths, decode=False) == [(8, 8)] * len(paths)
