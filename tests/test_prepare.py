"""Tests for bench/harness/dataset/: layouts, exclusions with reasons, the split, the manifest,
safety."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import psutil
import pytest
from conftest import run_bench
from PIL import Image

from bench import data, results
from bench.errors import UserError
from bench.harness.dataset import prepare, splitting

# The slow tier: preparing decodes every image with TensorFlow, as training will.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "prepare_data.py"
GOOD_PER_CLASS = 10


def jpeg(
    seed: int, mode: str = "RGB", size: tuple[int, int] = (24, 16), **options: object
) -> bytes:
    """A tiny JPEG whose bytes depend on ``seed``."""
    pixels = np.random.default_rng(seed).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).convert(mode).save(buffer, "JPEG", **options)
    return buffer.getvalue()


def other_format(fmt: str) -> bytes:
    """A tiny image in another format (PNG, GIF)."""
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, fmt)
    return buffer.getvalue()


def corrupt_exif(seed: int) -> bytes:
    """A JPEG with an APP1 EXIF block whose directory runs past its end."""
    good = jpeg(seed)
    exif = b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x05\x00" + b"\x01" * 10
    app1 = b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif
    return good[:2] + app1 + good[2:]


def extraneous(seed: int) -> bytes:
    """A JPEG with garbage before its end marker (libjpeg: 'extraneous bytes before marker')."""
    good = jpeg(seed)
    return good[:-2] + b"\x00" * 40 + good[-2:]


# The planted files, as (name in the class folder, bytes); the same set in both layouts.
def planted(label: str) -> dict[str, bytes]:
    """Good images plus every kind of problem, for one class."""
    offset = 0 if label == "cat" else 1000
    files = {f"{i}.jpg": jpeg(offset + i) for i in range(GOOD_PER_CLASS)}
    files[f"{GOOD_PER_CLASS}.jpg"] = corrupt_exif(offset + 50)
    files[f"{GOOD_PER_CLASS + 1}.jpg"] = extraneous(offset + 51)
    files[f"{GOOD_PER_CLASS + 2}.jpg"] = jpeg(offset + 52, "CMYK")
    files[f"{GOOD_PER_CLASS + 3}.jpg"] = jpeg(offset + 53, "L")
    if label == "cat":
        files["666.jpg"] = b""
        files["700.jpg"] = jpeg(700, size=(64, 48))[:1300]
        files["701.jpg"] = other_format("PNG")
        files["702.jpg"] = b"this is not an image\n"
        files["703.gif"] = other_format("GIF")
    else:
        files["11702.jpg"] = b""
    return files


CMYK_AND_WARNINGS = 4  # corrupt EXIF, extraneous bytes, CMYK, greyscale: all kept
KEPT_PER_CLASS = GOOD_PER_CLASS + CMYK_AND_WARNINGS


def expected_exclusions(entry: dict[str, str]) -> list[tuple[str, str]]:
    """(entry, reason) pairs the planted files must give, with ``entry`` mapping names to paths."""
    return sorted(
        [
            (entry["cat/666.jpg"], "empty"),
            (entry["cat/700.jpg"], "truncated"),
            (entry["cat/701.jpg"], "not-jpeg"),
            (entry["cat/702.jpg"], "not-jpeg"),
            (entry["cat/703.gif"], "not-jpeg"),
            (entry["dog/11702.jpg"], "empty"),
        ]
    )


def petimages_entries() -> dict[str, bytes]:
    """The PetImages layout: PetImages/Cat/N.jpg with Thumbs.db, a readme and __MACOSX."""
    entries = {}
    for label, folder in (("cat", "Cat"), ("dog", "Dog")):
        for name, content in planted(label).items():
            entries[f"PetImages/{folder}/{name}"] = content
        entries[f"PetImages/{folder}/Thumbs.db"] = b"\xd0\xcf\x11\xe0 thumbnail cache"
    entries["readme[1].txt"] = b"Microsoft Kaggle Cats and Dogs\n"
    entries["__MACOSX/PetImages/Cat/._0.jpg"] = b"\x00\x05\x16\x07 resource fork"
    return entries


def kaggle_entries() -> dict[str, bytes]:
    """The competition layout: train/cat.N.jpg, with the same planted files."""
    entries = {}
    for label in ("cat", "dog"):
        for name, content in planted(label).items():
            entries[f"train/{label}.{name}"] = content
    entries["train/Thumbs.db"] = b"\xd0\xcf\x11\xe0 thumbnail cache"
    entries["__MACOSX/train/._cat.0.jpg"] = b"\x00\x05\x16\x07 resource fork"
    return entries


def write_zip(path: Path, entries: dict[str, bytes]) -> Path:
    """A zip archive of ``entries``."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return path


def write_folder(path: Path, entries: dict[str, bytes]) -> Path:
    """An extracted folder of ``entries``."""
    for name, content in entries.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_bytes(content)
    return path


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` by relative path, with its bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def petimages_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small PetImages archive with planted bad files."""
    return write_zip(tmp_path_factory.mktemp("src") / "kagglecatsanddogs.zip", petimages_entries())


@pytest.fixture(scope="module")
def kaggle_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small competition train.zip with planted bad files."""
    return write_zip(tmp_path_factory.mktemp("src") / "train.zip", kaggle_entries())


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory, petimages_zip: Path) -> prepare.Outcome:
    """The PetImages archive prepared once for the module."""
    return prepare.prepare(petimages_zip, tmp_path_factory.mktemp("work") / "data")


def test_petimages_exclusions_are_exact_with_reasons(prepared: prepare.Outcome) -> None:
    """Zero-byte, truncated, PNG, GIF and text files are excluded, each with its reason."""
    manifest = prepared.manifest
    entry = {
        f"{label}/{name}": f"PetImages/{label.title()}/{name}"
        for label in ("cat", "dog")
        for name in planted(label)
    }
    got = [(e["entry"], e["reason"]) for e in manifest["excluded"]["entries"]]
    assert got == expected_exclusions(entry)
    assert manifest["excluded"]["by_reason"] == {"empty": 2, "not-jpeg": 3, "truncated": 1}
    details = {e["entry"]: e["detail"] for e in manifest["excluded"]["entries"]}
    assert details["PetImages/Cat/701.jpg"] == "PNG image data"
    assert details["PetImages/Cat/702.jpg"] == "text"
    assert details["PetImages/Cat/703.gif"] == "GIF image data"
    assert "truncated" in details["PetImages/Cat/700.jpg"]


def test_warnings_are_kept_and_counted(prepared: prepare.Outcome) -> None:
    """Corrupt EXIF and extraneous bytes are kept and counted; CMYK and greyscale are kept."""
    manifest = prepared.manifest
    assert manifest["kept_with_warnings"] == {
        "count": 4,
        "by_kind": {"corrupt-exif": 2, "extraneous-bytes": 2},
    }
    assert manifest["images"]["colour_modes"] == {
        "CMYK": 2,
        "L": 2,
        "RGB": 2 * (GOOD_PER_CLASS + 2),
    }
    assert manifest["images"]["usable"] == {"cat": KEPT_PER_CLASS, "dog": KEPT_PER_CLASS}
    assert manifest["skipped"] == {
        "count": 4,
        "by_kind": {"macos-metadata": 1, "other": 1, "system-file": 2},
    }


def test_split_counts_and_tree(prepared: prepare.Outcome) -> None:
    """14 usable images per class split 80/10/10 give 12/1/1 per class, on disk as counted."""
    out = prepared.output
    manifest = prepared.manifest
    assert manifest["counts"] == {
        "train": {"cat": 12, "dog": 12},
        "validation": {"cat": 1, "dog": 1},
        "test": {"cat": 1, "dog": 1},
    }
    for split, classes in manifest["counts"].items():
        for label, count in classes.items():
            names = sorted(p.name for p in (out / split / label).iterdir())
            assert len(names) == count
            assert all(n.startswith(f"{label}.") and n.endswith(".jpg") for n in names)
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "test", "train", "validation"]
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]


def test_files_are_copied_byte_for_byte(prepared: prepare.Outcome) -> None:
    """A kept file's bytes are the source's, under the name <class>.<n>.jpg."""
    files = {p.name: p.read_bytes() for p in prepared.output.rglob("*.jpg")}
    assert files["cat.0.jpg"] == jpeg(0)
    assert files["dog.11.jpg"] == extraneous(1051)
    assert len(files) == 2 * KEPT_PER_CLASS


def test_manifest_fingerprint_is_the_harness_fingerprint(prepared: prepare.Outcome) -> None:
    """The manifest's fingerprint equals bench.data.describe's, and describe embeds the manifest."""
    # The kept corrupt-EXIF files make Pillow warn on open; describe keeps that quiet (the
    # suite turns warnings into errors).
    described = data.describe(prepared.output, "real")
    assert described["name"] == f"Kaggle Dogs vs Cats ({prepared.manifest['layout']})"
    assert described["fingerprint"] == prepared.manifest["fingerprint"]
    assert described["manifest"] == prepared.manifest
    assert splitting.fingerprint(prepared.output, data.SPLITS) == described["fingerprint"]
    assert prepared.manifest["test_fingerprint"] == splitting.fingerprint(
        prepared.output, ("test",)
    )


def test_manifest_records_source_layout_and_options(
    prepared: prepare.Outcome, petimages_zip: Path
) -> None:
    """The manifest names the source and its SHA-256, the layout, the ratios, seed and decoders."""
    import hashlib

    manifest = prepared.manifest
    assert manifest["format_version"] == 1
    assert manifest["layout"] == "petimages"
    assert manifest["source"]["name"] == "kagglecatsanddogs.zip"
    assert manifest["source"]["sha256"] == hashlib.sha256(petimages_zip.read_bytes()).hexdigest()
    assert manifest["split"]["ratios"] == {"train": 0.8, "validation": 0.1, "test": 0.1}
    assert manifest["split"]["seed"] == 42
    assert set(manifest["checked_with"]) >= {"pillow", "tensorflow"}
    on_disk = json.loads((prepared.output / "manifest.json").read_text())
    assert on_disk == manifest


def test_second_run_is_already_prepared_and_identical(
    prepared: prepare.Outcome, petimages_zip: Path
) -> None:
    """Running again on the same input changes nothing and says it is already prepared."""
    before = tree(prepared.output)
    lines: list[str] = []
    again = prepare.prepare(petimages_zip, prepared.output, say=lines.append)
    assert again.already_prepared
    assert any("already prepared" in line for line in lines)
    assert tree(prepared.output) == before


def test_rebuild_is_byte_identical(
    tmp_path: Path, petimages_zip: Path, prepared: prepare.Outcome
) -> None:
    """A fresh preparation elsewhere, and a forced one in place, give the same tree and manifest."""
    elsewhere = prepare.prepare(petimages_zip, tmp_path / "data")
    assert not elsewhere.already_prepared
    assert tree(elsewhere.output) == tree(prepared.output)
    forced = prepare.prepare(petimages_zip, tmp_path / "data", force=True)
    assert not forced.already_prepared
    assert tree(forced.output) == tree(prepared.output)


def test_kaggle_layout_zip_and_folder_give_the_same_files(tmp_path: Path, kaggle_zip: Path) -> None:
    """The competition layout is detected, zipped or extracted; both give one fingerprint."""
    zipped = prepare.prepare(kaggle_zip, tmp_path / "from-zip")
    folder = write_folder(tmp_path / "train-extracted", kaggle_entries())
    extracted = prepare.prepare(folder, tmp_path / "from-folder")
    for outcome in (zipped, extracted):
        assert outcome.manifest["layout"] == "kaggle-train"
        entry = {
            f"{label}/{name}": f"train/{label}.{name}"
            for label in ("cat", "dog")
            for name in planted(label)
        }
        got = [(e["entry"], e["reason"]) for e in outcome.manifest["excluded"]["entries"]]
        assert got == expected_exclusions(entry)
    assert zipped.manifest["source"]["kind"] == "zip"
    assert extracted.manifest["source"]["kind"] == "folder"
    assert zipped.manifest["fingerprint"] == extracted.manifest["fingerprint"]
    assert tree(zipped.output).keys() == tree(extracted.output).keys()


def test_both_layouts_end_up_alike(
    tmp_path: Path, kaggle_zip: Path, prepared: prepare.Outcome
) -> None:
    """The same images in either layout give the same file names and the same fingerprint."""
    kaggle = prepare.prepare(kaggle_zip, tmp_path / "data")
    assert kaggle.manifest["fingerprint"] == prepared.manifest["fingerprint"]
    assert kaggle.manifest["counts"] == prepared.manifest["counts"]


def test_extracted_petimages_folder_itself_is_accepted(
    tmp_path: Path, prepared: prepare.Outcome
) -> None:
    """Giving the PetImages folder itself (Cat/ and Dog/ inside) works like its parent."""
    write_folder(tmp_path / "extracted", petimages_entries())
    outcome = prepare.prepare(tmp_path / "extracted" / "PetImages", tmp_path / "data")
    assert outcome.manifest["layout"] == "petimages"
    assert outcome.manifest["fingerprint"] == prepared.manifest["fingerprint"]


def test_split_options_and_balanced_subset(tmp_path: Path, kaggle_zip: Path) -> None:
    """--split and --limit-per-class give a smaller balanced dataset with the asked ratios."""
    outcome = prepare.prepare(
        kaggle_zip, tmp_path / "data", split="60/40/0", limit_per_class=10, seed=7
    )
    assert outcome.manifest["counts"] == {
        "train": {"cat": 6, "dog": 6},
        "validation": {"cat": 4, "dog": 4},
        "test": {"cat": 0, "dog": 0},
    }
    assert outcome.manifest["split"] == {
        "ratios": {"train": 0.6, "validation": 0.4, "test": 0.0},
        "seed": 7,
        "limit_per_class": 10,
        "method": outcome.manifest["split"]["method"],
    }
    assert outcome.manifest["test_fingerprint"] is None
    described = data.describe(outcome.output, "real", check_images=False)
    assert described["fingerprint"] == outcome.manifest["fingerprint"]


def test_split_is_seeded(tmp_path: Path, kaggle_zip: Path) -> None:
    """Another seed gives another split of the same images."""
    one = prepare.prepare(kaggle_zip, tmp_path / "a", seed=1)
    two = prepare.prepare(kaggle_zip, tmp_path / "b", seed=2)
    assert one.manifest["counts"] == two.manifest["counts"]
    assert one.manifest["fingerprint"] != two.manifest["fingerprint"]


def test_assign_keeps_a_files_split_when_others_change() -> None:
    """Per class, the first files in the seeded hash order train; validation and test round half up."""
    ratios = splitting.parse_split("50/50/0")
    names = [f"cat.{i}.jpg" for i in range(40)]
    full = splitting.assign({"cat": names, "dog": names}, ratios, 42, None)
    order = sorted(names, key=lambda n: splitting._order_key(42, n))
    assert full["train"]["cat"] == sorted(order[:20])
    assert splitting.split_counts(12_499, splitting.parse_split("80/10/10")) == (
        9_999,
        1_250,
        1_250,
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("80/20", "three numbers"),
        ("a/b/c", "three numbers"),
        ("80/0/20", "positive"),
        ("0/50/50", "positive"),
    ],
)
def test_bad_split_is_refused(text: str, problem: str) -> None:
    """A split that is not three numbers with positive train and validation is refused."""
    with pytest.raises(UserError, match=problem):
        splitting.parse_split(text)


def test_limit_above_usable_is_refused(tmp_path: Path, kaggle_zip: Path) -> None:
    """Asking for more images per class than exist, or than are usable, names the maximum."""
    with pytest.raises(UserError, match="holds only 19 cat images; choose at most 19"):
        prepare.prepare(kaggle_zip, tmp_path / "data", limit_per_class=100)
    with pytest.raises(UserError, match=f"only {KEPT_PER_CLASS} cat images are usable"):
        prepare.prepare(kaggle_zip, tmp_path / "data", limit_per_class=KEPT_PER_CLASS + 1)
    assert list(tmp_path.iterdir()) == []


def test_different_dataset_is_not_overwritten(tmp_path: Path, kaggle_zip: Path) -> None:
    """An output holding another dataset is refused without --force and replaced with it."""
    out = prepare.prepare(kaggle_zip, tmp_path / "data", limit_per_class=5).output
    before = tree(out)
    with pytest.raises(UserError, match="--force"):
        prepare.prepare(kaggle_zip, out)
    assert tree(out) == before
    replaced = prepare.prepare(kaggle_zip, out, force=True)
    assert replaced.manifest["split"]["limit_per_class"] is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_folder_without_manifest_is_not_overwritten(tmp_path: Path, kaggle_zip: Path) -> None:
    """A non-empty output folder that is not a prepared dataset is left alone, even with --force."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "notes.txt").write_text("mine")
    for force in (False, True):
        with pytest.raises(UserError, match="no dataset manifest; it is never replaced"):
            prepare.prepare(kaggle_zip, tmp_path / "data", force=force)
    assert tree(tmp_path / "data") == {"notes.txt": b"mine"}


def test_current_folder_is_never_the_output(
    tmp_path: Path, kaggle_zip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The current folder, a folder holding it, or a root is refused as output, even with --force."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    for output in (Path(), Path(".."), Path("/")):
        with pytest.raises(UserError, match="is the current folder"):
            prepare.prepare(kaggle_zip, output, force=True)
    assert list(work.iterdir()) == []


def test_changed_files_are_noticed(tmp_path: Path, kaggle_zip: Path) -> None:
    """A prepared folder whose files changed is not 'already prepared'."""
    out = prepare.prepare(kaggle_zip, tmp_path / "data").output
    next((out / "train" / "cat").iterdir()).unlink()
    with pytest.raises(UserError, match="fingerprint differs"):
        prepare.prepare(kaggle_zip, out)


def assert_refused(source: Path, tmp_path: Path, match: str) -> None:
    """``source`` is refused with ``match`` and nothing is written next to the output."""
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(UserError, match=match):
        prepare.prepare(source, work / "data")
    assert list(work.iterdir()) == []


def test_escaping_entries_are_refused(tmp_path: Path) -> None:
    """Entries with ../ or an absolute path refuse the whole archive; nothing is written anywhere."""
    for bad in ("PetImages/Cat/../../../evil.jpg", "/etc/evil.jpg", "C:/evil.jpg", "..\\evil.jpg"):
        entries = petimages_entries()
        entries[bad] = jpeg(1)
        source = write_zip(tmp_path / "bad.zip", entries)
        assert_refused(source, tmp_path, "leaves the folder")
        shutil.rmtree(tmp_path / "work")
    assert not (tmp_path.parent / "evil.jpg").exists()


def test_not_a_zip_and_truncated_zip_are_refused(tmp_path: Path, kaggle_zip: Path) -> None:
    """A file that is not a zip, or a download cut short, gets a clear one-line refusal."""
    text = tmp_path / "archive.tar.gz"
    text.write_bytes(b"\x1f\x8b not a zip")
    assert_refused(text, tmp_path, "is not a zip archive")
    shutil.rmtree(tmp_path / "work")
    cut = tmp_path / "cut.zip"
    cut.write_bytes(kaggle_zip.read_bytes()[: kaggle_zip.stat().st_size // 2])
    assert_refused(cut, tmp_path, "incomplete")


def test_corrupt_member_stops_and_leaves_nothing(tmp_path: Path) -> None:
    """A zip member whose data fails its CRC stops the preparation; no temporary folder remains."""
    entries = kaggle_entries()
    source = tmp_path / "damaged.zip"
    with zipfile.ZipFile(source, "w", zipfile.ZIP_STORED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    raw = bytearray(source.read_bytes())
    target = jpeg(5)  # train/cat.5.jpg, stored as is
    at = bytes(raw).index(target) + len(target) // 2
    raw[at] ^= 0xFF
    source.write_bytes(bytes(raw))
    assert_refused(source, tmp_path, "damaged")


def test_unknown_layouts_are_refused(tmp_path: Path) -> None:
    """A zip of something else names both expected layouts; the competition bundle says what to do."""
    other = write_zip(tmp_path / "photos.zip", {"holiday/1.jpg": jpeg(1)})
    assert_refused(other, tmp_path, "PetImages/Cat/.*train/cat.N.jpg")
    shutil.rmtree(tmp_path / "work")
    bundle = write_zip(tmp_path / "dogs-vs-cats.zip", {"train.zip": b"PK", "test1.zip": b"PK"})
    assert_refused(bundle, tmp_path, "extract train.zip")
    shutil.rmtree(tmp_path / "work")
    assert_refused(tmp_path / "missing.zip", tmp_path, "does not exist")


def test_prepared_output_is_not_taken_as_a_source(tmp_path: Path, kaggle_zip: Path) -> None:
    """Giving a prepared folder (train/cat/..., validation/cat/...) as the source is refused."""
    out = prepare.prepare(kaggle_zip, tmp_path / "data").output
    with pytest.raises(UserError, match="already a prepared dataset"):
        prepare.prepare(out, tmp_path / "again")


def test_output_inside_source_is_refused(tmp_path: Path) -> None:
    """The output may not be inside the source folder, nor the source inside the output."""
    source = write_folder(tmp_path / "extracted", kaggle_entries())
    with pytest.raises(UserError, match="inside the source"):
        prepare.prepare(source, source / "data")
    with pytest.raises(UserError, match="inside the output"):
        prepare.prepare(source / "train", source, force=True)
    assert tree(source) == kaggle_entries()


def test_duplicate_and_classless_names_are_excluded(tmp_path: Path) -> None:
    """Two files mapping to one output name, and a name without a class, are excluded."""
    entries = {
        f"train/{label}.{i}.jpg": jpeg(seed + i)
        for label, seed in (("cat", 0), ("dog", 100))
        for i in range(4)
    }
    entries["train/cat.1.JPG"] = jpeg(999)
    entries["train/horse.1.jpg"] = jpeg(998)
    outcome = prepare.prepare(
        write_zip(tmp_path / "train.zip", entries), tmp_path / "data", split="50/50/0"
    )
    got = [(e["entry"], e["reason"]) for e in outcome.manifest["excluded"]["entries"]]
    # "cat.1.JPG" sorts first, so "cat.1.jpg" is the duplicate.
    assert got == [("train/cat.1.jpg", "duplicate-name"), ("train/horse.1.jpg", "no-class")]
    assert [p.read_bytes() for p in outcome.output.rglob("cat.1.jpg")] == [jpeg(999)]


def test_worker_pool_gives_the_same_result(tmp_path: Path, kaggle_zip: Path) -> None:
    """Checking in two worker processes gives the same manifest as checking in this process."""
    serial = prepare.prepare(kaggle_zip, tmp_path / "serial", workers=1)
    pooled = prepare.prepare(kaggle_zip, tmp_path / "pooled", workers=2)
    assert prepare.dumps(pooled.manifest) == prepare.dumps(serial.manifest)
    assert tree(pooled.output) == tree(serial.output)


def run_script(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run scripts/prepare_data.py as a user would."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_script_prepares_into_data_and_prints_summary(tmp_path: Path, kaggle_zip: Path) -> None:
    """The command writes data/ by default, prints counts and exclusions, then says already prepared."""
    proc = run_script(str(kaggle_zip), "--workers", "1", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "kaggle-train layout" in proc.stdout
    assert "Excluded 6 of" in proc.stdout
    assert "train/cat.666.jpg: empty" in proc.stdout
    assert (tmp_path / "data" / "manifest.json").is_file()
    again = run_script(str(kaggle_zip), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "already prepared" in again.stdout


def test_script_user_error_is_one_line(tmp_path: Path) -> None:
    """A user mistake exits 2 with one line on stderr and no traceback."""
    proc = run_script(str(tmp_path / "nothing.zip"), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert proc.stderr.startswith("prepare_data: error: ")
    assert "Traceback" not in proc.stderr
    help_proc = run_script("--help", cwd=tmp_path)
    assert help_proc.returncode == 0
    assert "--limit-per-class" in help_proc.stdout


def test_the_harness_trains_on_a_prepared_dataset(
    prepared: prepare.Outcome, tmp_path: Path
) -> None:
    """`nox -s bench -- --data` on the prepared folder trains, and the file names the data."""
    out = tmp_path / "results"
    proc = run_bench(
        "--profile", "smoke", "-w", "cnn", "--skip-probes", "--data", str(prepared.output),
        "--output", str(out), cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    (path,) = out.rglob("*.json")
    document = results.load(path)
    dataset = document["dataset"]
    assert dataset["kind"] == "real"
    assert dataset["name"] == "Kaggle Dogs vs Cats (petimages)"
    assert dataset["fingerprint"] == prepared.manifest["fingerprint"]
    assert dataset["manifest"] == prepared.manifest
    assert dataset["splits"]["train"]["images"] == sum(
        prepared.manifest["counts"]["train"].values()
    )
    (run,) = document["workloads"]
    assert run["status"] == "ok"
    assert len(run["epochs"]) == 2


def test_ctrl_c_during_checking_is_one_clean_line(tmp_path: Path, kaggle_zip: Path) -> None:
    """Ctrl-C to the whole process group while two decode workers start: no worker traceback,
    one line, exit 130, and no half-made folder left."""
    import signal
    import time

    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    with subprocess.Popen(
        [sys.executable, str(SCRIPT), str(kaggle_zip), "--workers", "2", "--quiet"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    ) as proc:  # fmt: skip
        # Once a decode worker exists (they import TensorFlow for about 9 s); a Ctrl-C before
        # or while they start is kept pending and handled the same way, so no timing matters.
        parent = psutil.Process(proc.pid)
        deadline = time.monotonic() + 120
        while not parent.children() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "Exception in initializer" not in err
    assert err.strip().splitlines()[-1] == "prepare_data: interrupted; data was left as it was"
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_leftovers_of_a_killed_preparation_are_removed(tmp_path: Path, kaggle_zip: Path) -> None:
    """A `.data.preparing-*` folder whose maker is gone is removed by the next preparation."""
    child = subprocess.Popen(["true"])
    child.wait()
    leftover = tmp_path / f".data.preparing-{child.pid}-0123abcd"
    (leftover / ".staging").mkdir(parents=True)
    prepare.prepare(kaggle_zip, tmp_path / "data", workers=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_a_full_disk_while_preparing_is_one_line(
    tmp_path: Path, kaggle_zip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC while copying the kept images gives one line and leaves nothing behind."""
    import errno

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(prepare, "_finish", full)
    with pytest.raises(UserError, match=r"is full .*free some space or choose another --output"):
        prepare.prepare(kaggle_zip, tmp_path / "data", workers=1)
    assert list(tmp_path.iterdir()) == []


def test_the_test_split_fingerprint_is_the_harness_formula(tmp_path: Path) -> None:
    """One listing, one formula: the test split's fingerprint is `bench.data`'s, and a file
    Keras would not read (no image suffix) changes it no more than it changes the harness's."""
    root = tmp_path / "data"
    for split in ("train", "validation", "test"):
        for name in ("cat", "dog"):
            folder = root / split / name
            folder.mkdir(parents=True)
            (folder / f"{name}.1.jpg").write_bytes(f"{split}-{name}".encode())
    before = splitting.fingerprint(root, ("test",))
    (root / "test" / "cat" / "notes.txt").write_text("not an image")
    assert splitting.fingerprint(root, ("test",)) == before
    found = data.list_images(root, ("test",))
    assert before == data.fingerprint_of(root, found)[0]
    assert (
        splitting.fingerprint(root, data.SPLITS)
        == data.fingerprint_of(root, data.list_images(root))[0]
    )
