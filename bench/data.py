"""Datasets the workloads read: the synthetic stand-in and prepared folders, checked and described.

Both kinds use the ``flow_from_directory`` layout: ``<root>/train/<class>/*.jpg`` and
``<root>/validation/<class>/*.jpg``. The description that goes into every results file includes a
fingerprint of the exact file list, so two machines can prove they trained on the same images.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench import files
from bench.errors import UserError
from bench.text import printable

# image_dataset_from_directory reads these (keras.src.utils.image_dataset_utils.ALLOWLIST_FORMATS).
TFDATA_SUFFIXES = frozenset({".bmp", ".gif", ".jpeg", ".jpg", ".png"})

SPLITS = ("train", "validation")
# What ImageDataGenerator.flow_from_directory accepts (keras.src.legacy.preprocessing.image).
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".tif", ".tiff"})
_SUFFIX_TUPLE = tuple(sorted(IMAGE_SUFFIXES))
MANIFEST_NAME = "manifest.json"
FINGERPRINT_NAME = "fingerprint"
"""In a stand-in folder: the fingerprint its files had when generated."""


@dataclass(frozen=True)
class SyntheticSpec:
    """Parameters of the synthetic stand-in; any change gives a new cache folder."""

    train_per_class: int
    validation_per_class: int
    seed: int = 42
    min_side_px: int = 200
    max_side_px: int = 500
    jpeg_quality: int = 90
    classes: tuple[str, str] = ("cat", "dog")
    # Bump when the drawing code changes, so caches made by older code are not reused.
    generator_version: int = 1

    def key(self) -> str:
        """A short hash naming the cache folder."""
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def list_images(root: Path, splits: Sequence[str] = SPLITS) -> dict[str, dict[str, list[Path]]]:
    """``{split: {class: [image paths]}}`` for ``splits`` (train and validation), sorted.

    The one listing of a dataset: the layout check, the fingerprint, the image check and the
    pipelines' count check all use it. It lists what Keras lists (``flow_from_directory`` and
    ``image_dataset_from_directory``): every folder of a split is a class, and every file in a
    class folder or below it whose name ends in an image suffix, symbolic links included, so that
    a file Keras would train on cannot escape the checks.
    """
    found: dict[str, dict[str, list[Path]]] = {}
    for split in splits:
        folder = root / split
        classes = sorted(p for p in folder.iterdir() if p.is_dir())
        found[split] = {c.name: _class_images(c) for c in classes}
    return found


def _class_images(folder: Path) -> list[Path]:
    # os.walk, not followlinks: Keras's default (follow_links=False) lists linked files but does
    # not descend into linked folders. Dangling links are listed as files, as Keras lists them.
    images: list[Path] = []
    for top, _, names in os.walk(folder):
        images.extend(Path(top) / n for n in names if n.lower().endswith(_SUFFIX_TUPLE))
    return sorted(images)


def _check_file(path: Path) -> None:
    """Refuse a listed image that is not a regular file Keras could open."""
    if path.is_symlink() and not path.exists():
        msg = f"{path} is a broken symbolic link; remove it or point it at an image"
        raise UserError(msg)
    if not path.is_file():
        msg = f"{path} is not a regular file; remove it from the dataset folder"
        raise UserError(msg)


def check_layout(root: Path) -> dict[str, dict[str, list[Path]]]:
    """Check that ``root`` holds a usable train/validation dataset; return its images.

    Raises
    ------
    UserError
        For a missing folder, no class folders, one class only, different classes in train
        and validation, or a class folder with no images.
    """
    if not root.is_dir():
        msg = (
            f"data folder {root} does not exist; omit --data to use the synthetic stand-in, "
            "or prepare the Kaggle images with `nox -s data -- ARCHIVE`"
        )
        raise UserError(msg)
    for split in SPLITS:
        if not (root / split).is_dir():
            msg = f"data folder {root} has no {split}/ folder; it needs train/<class>/ and validation/<class>/"
            raise UserError(msg)
    found = list_images(root)
    for split, classes in found.items():
        if not classes:
            msg = f"{root / split} has no class folders; put each class's images in {root / split}/<class>/"
            raise UserError(msg)
        if len(classes) < 2:
            msg = f"{root / split} has one class only ({next(iter(classes))}); the workloads classify two"
            raise UserError(msg)
        for name, images in classes.items():
            for path in images:
                _check_file(path)
            if not images:
                msg = f"{root / split / name} has no images (.jpg, .jpeg, .png, ...); add some or remove the folder"
                raise UserError(msg)
    if set(found["train"]) != set(found["validation"]):
        msg = (
            f"{root}: train classes {sorted(found['train'])} differ from validation classes "
            f"{sorted(found['validation'])}; both splits need the same class folders"
        )
        raise UserError(msg)
    if len(found["train"]) != 2:
        msg = f"{root}: {len(found['train'])} classes found; the article's workloads end in Dense(2), so exactly 2 are needed"
        raise UserError(msg)
    return found


def _check_image(path: Path, decode: bool) -> tuple[int, int]:
    """Width and height; with ``decode``, also decode every pixel, as training will.

    Raises
    ------
    UserError
        When Pillow cannot identify or (with ``decode``) fully decode the file, or when its header
        claims more pixels than Pillow opens safely (a decompression bomb).
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            if decode:
                image.load()
            return image.size
    except Image.DecompressionBombError as exc:
        msg = (
            f"{path} claims more pixels than an image can safely have ({exc}); remove it, or "
            "prepare the dataset with `nox -s data` which excludes such files"
        )
        raise UserError(msg) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        reason = printable(str(exc).replace(repr(str(path)), "").strip() or type(exc).__name__, 80)
        msg = (
            f"{path} is not a readable image ({reason}); remove it, or prepare the dataset with "
            "`nox -s data` which excludes broken files"
        )
        raise UserError(msg) from None


def _check_images(paths: list[Path], decode: bool) -> list[tuple[int, int]]:
    """`_check_image` for every path, on a thread per core (Pillow decodes without the GIL)."""
    import warnings
    from concurrent.futures import ThreadPoolExecutor

    workers = min(8, os.cpu_count() or 1)
    # Pillow parses EXIF on open; photos with a damaged EXIF block ("Corrupt EXIF data") decode
    # fine, and dataset preparation has already counted them. The filter is set here, once,
    # around the whole pool: warnings filters are global, and a catch_warnings block in each
    # thread restored them while other threads were still opening images (a race that let the
    # warning through now and then).
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=r"(Possibly )?[Cc]orrupt EXIF", category=UserWarning
        )
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(lambda p: _check_image(p, decode), paths, chunksize=64))


def fingerprint_lines(
    root: Path, found: Mapping[str, Mapping[str, list[Path]]]
) -> tuple[list[str], int]:
    """The sorted fingerprint lines ``split/class/file<TAB>size<TAB>sha256`` and the total bytes."""
    lines = []
    total = 0
    for split, by_class in found.items():
        for class_name, images in by_class.items():
            for path in images:
                data = path.read_bytes()
                total += len(data)
                digest = hashlib.sha256(data).hexdigest()
                name = path.relative_to(root / split / class_name).as_posix()
                lines.append(f"{split}/{class_name}/{name}\t{len(data)}\t{digest}")
    lines.sort()
    return lines, total


def fingerprint_of(root: Path, found: Mapping[str, Mapping[str, list[Path]]]) -> tuple[str, int]:
    """The fingerprint of the images ``found`` under ``root`` (see `describe`) and their bytes."""
    lines, total = fingerprint_lines(root, found)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest(), total


def describe(root: Path, kind: str, *, check_images: bool = True) -> dict[str, Any]:
    """The ``dataset`` block of a results file: counts, image sizes and fingerprint.

    The fingerprint is the SHA-256 of the sorted lines ``split/class/file<TAB>size<TAB>sha256``:
    it changes when any file is added, removed, renamed, moved between splits or altered.
    ``check_images`` also checks every image before training, so that a broken file stops the run
    in one line instead of crashing it mid-epoch: a header check when the fingerprint proves the
    files are those already decoded (by `nox -s data`, whose manifest records it, or by the
    stand-in's generator), a full decode otherwise.
    """
    found = check_layout(root)
    fingerprint, total = fingerprint_of(root, found)
    names = sorted(found["train"])
    manifest = read_manifest(root)
    sizes: list[tuple[int, int]] = []
    if check_images:
        proven = fingerprint in {
            (manifest or {}).get("fingerprint"),
            _recorded_fingerprint(root),
        }
        every = [p for by_class in found.values() for images in by_class.values() for p in images]
        sizes = _check_images(every, decode=not proven)
    widths = [w for w, _ in sizes]
    heights = [h for _, h in sizes]
    name = None
    if manifest is not None and isinstance(manifest.get("name"), str):
        layout = manifest.get("layout")
        name = manifest["name"] if not isinstance(layout, str) else f"{manifest['name']} ({layout})"
    return {
        "kind": kind,
        "name": name,
        "fingerprint": fingerprint,
        "classes": names,
        "splits": {
            split: {
                "images": sum(len(v) for v in found[split].values()),
                "per_class": {c: len(found[split][c]) for c in names},
            }
            for split in SPLITS
        },
        "image_width_px": [min(widths), max(widths)] if widths else None,
        "image_height_px": [min(heights), max(heights)] if heights else None,
        "total_bytes": total,
        "generator": None,
        "manifest": manifest,
    }


def _recorded_fingerprint(root: Path) -> str | None:
    try:
        return (root / FINGERPRINT_NAME).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


def read_manifest(root: Path) -> dict[str, Any] | None:
    """Provenance written by dataset preparation (``<root>/manifest.json``), if any."""
    path = root / MANIFEST_NAME
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        msg = f"{path} cannot be read ({exc}); prepare the dataset again with `nox -s data`"
        raise UserError(msg) from None
    if not isinstance(data, dict):
        msg = f"{path} is not a dataset manifest; prepare the dataset again with `nox -s data`"
        raise UserError(msg)
    return data


# --- the synthetic stand-in -------------------------------------------------------------------


def _draw(rng: Any, label: int, width: int, height: int) -> Any:
    """One photo-like image: a textured background and a foreground shape that depends on the class.

    Class 0 ("cat") gets warm, round blobs; class 1 ("dog") cool, elongated stripes. A small CNN
    separates them within an epoch or two, which shows that training really happens; the noise
    and gradients keep JPEG sizes and decode cost near those of real photos.
    """
    import numpy as np

    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = rng.uniform(60, 190, size=3).astype(np.float32)
    gx, gy = rng.uniform(-0.25, 0.25, size=2)
    image = base[None, None, :] + (gx * xx + gy * yy)[..., None]
    image += rng.normal(0, 7, size=(height, width, 3)).astype(np.float32)
    for _ in range(int(rng.integers(2, 5))):
        cx, cy = rng.uniform(0.2, 0.8) * width, rng.uniform(0.2, 0.8) * height
        if label == 0:
            r = rng.uniform(0.12, 0.3) * min(width, height)
            mask = (xx - cx) ** 2 + (yy - cy) ** 2 < r**2
            color = np.array([rng.uniform(180, 255), rng.uniform(80, 150), rng.uniform(20, 80)])
        else:
            angle = rng.uniform(0, np.pi)
            d = np.abs((xx - cx) * np.sin(angle) - (yy - cy) * np.cos(angle))
            mask = d < rng.uniform(0.03, 0.08) * min(width, height)
            color = np.array([rng.uniform(20, 80), rng.uniform(90, 160), rng.uniform(180, 255)])
        image[mask] = 0.35 * image[mask] + 0.65 * color
    return np.clip(image, 0, 255).astype(np.uint8)


def _generate(spec: SyntheticSpec, target: Path) -> None:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(spec.seed)
    counts = {"train": spec.train_per_class, "validation": spec.validation_per_class}
    for split, per_class in counts.items():
        for label, name in enumerate(spec.classes):
            folder = target / split / name
            folder.mkdir(parents=True)
            for i in range(per_class):
                w, h = (int(v) for v in rng.integers(spec.min_side_px, spec.max_side_px + 1, 2))
                pixels = _draw(rng, label, w, h)
                Image.fromarray(pixels).save(folder / f"{name}.{i}.jpg", quality=spec.jpeg_quality)


def synthetic(
    spec: SyntheticSpec, cache_dir: Path, say: Callable[[str], None] | None = None
) -> Path:
    """The synthetic dataset for ``spec``, generated once into ``cache_dir`` and reused.

    Generation writes into a temporary sibling folder and renames it into place, so an
    interrupted generation never leaves a half-made cache behind; siblings left by a killed run
    are removed (`bench.files.remove_leftovers`). A cache folder is used only when it matches its
    spec and the fingerprint recorded when it was made; otherwise it is made again.

    Raises
    ------
    UserError
        When the cache folder cannot be written (a full disk, no permission).
    """
    target = cache_dir / f"synthetic-{spec.key()}"
    # `.synthetic-*`: also the mkdtemp folders of older versions, which named no owner.
    files.remove_leftovers(cache_dir, ".synthetic-")
    problem = _cache_problem(target, spec) if target.exists() else None
    if target.exists() and problem is None:
        return target
    if problem is not None and say is not None:
        say(f"The stand-in in {target} is damaged ({problem}); generating it again ...")
    tmp = files.sibling(target, "generating")
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp.mkdir()
        _generate(spec, tmp)
        (tmp / "spec.json").write_text(json.dumps(asdict(spec), indent=2) + "\n")
        _record_fingerprint(tmp)
        if target.exists():  # damaged: move it aside first, so the rename below can happen
            stale = files.sibling(target, "stale")
            target.rename(stale)
            shutil.rmtree(stale, ignore_errors=True)
        try:
            tmp.rename(target)
        except OSError:
            if _cache_problem(target, spec) is not None:  # lost a race to a concurrent run: fine
                raise
    except OSError as exc:
        why = "the disk is full" if files.is_out_of_space(exc) else printable(exc, 120)
        msg = (
            f"cannot generate the stand-in dataset in {cache_dir} ({why}); it needs about "
            f"{max(1, round(_estimated_bytes(spec) / 1e6)):,} MB: free some space or choose another --cache"
        )
        raise UserError(msg) from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _estimated_bytes(spec: SyntheticSpec) -> int:
    # About 30 KB per image at the default 200 to 500 px and quality 90 (measured here).
    return 30_000 * 2 * (spec.train_per_class + spec.validation_per_class)


def _record_fingerprint(root: Path) -> None:
    digest, _ = fingerprint_of(root, list_images(root))
    (root / FINGERPRINT_NAME).write_text(digest + "\n", encoding="ascii")


def _cache_problem(target: Path, spec: SyntheticSpec) -> str | None:
    """Why the stand-in folder ``target`` cannot be used for ``spec``; None when it can."""
    try:
        stored = json.loads((target / "spec.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "spec.json is missing"
    except (OSError, ValueError) as exc:
        return f"spec.json is unreadable: {printable(exc, 60)}"
    if stored != json.loads(json.dumps(asdict(spec))):
        return "spec.json does not match the stand-in asked for"
    try:
        found = list_images(target)
    except OSError as exc:
        return f"cannot be listed: {printable(exc, 60)}"
    expected = {"train": spec.train_per_class, "validation": spec.validation_per_class}
    for split, per_class in expected.items():
        counts = {c: len(found.get(split, {}).get(c, [])) for c in spec.classes}
        if set(found.get(split, {})) != set(spec.classes) or set(counts.values()) != {per_class}:
            return f"{split} should hold {per_class} images per class, it holds {counts}"
    recorded = _recorded_fingerprint(target)
    digest, _ = fingerprint_of(target, found)
    if recorded is None:
        # Made before fingerprints were recorded: complete, so record what it holds now.
        with contextlib.suppress(OSError):
            (target / FINGERPRINT_NAME).write_text(digest + "\n", encoding="ascii")
        return None
    if recorded != digest:
        return "its images changed since they were generated"
    return None


def synthetic_description(root: Path) -> dict[str, Any]:
    """`describe` for a synthetic cache folder, with the generator's parameters."""
    description = describe(root, "synthetic")
    description["name"] = "synthetic"
    description["generator"] = json.loads((root / "spec.json").read_text())
    return description


def count(images: Mapping[str, Iterable[Path]]) -> int:
    """Number of images across classes."""
    return sum(len(list(v)) for v in images.values())


def check_formats(root: Path) -> None:
    """Refuse a dataset with files image_dataset_from_directory would silently skip."""
    for split, classes in list_images(root).items():
        for images in classes.values():
            for path in images:
                if path.suffix.lower() not in TFDATA_SUFFIXES:
                    msg = (
                        f"{path}: the tf.data pipelines read {', '.join(sorted(TFDATA_SUFFIXES))} "
                        f"files only; convert the {split} images or use --pipeline legacy"
                    )
                    raise UserError(msg)
