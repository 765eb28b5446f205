"""Datasets the workloads read: the synthetic stand-in and prepared folders, checked and described.

Both kinds use the ``flow_from_directory`` layout: ``<root>/train/<class>/*.jpg`` and
``<root>/validation/<class>/*.jpg``. The description that goes into every results file includes a
fingerprint of the exact file list, so two machines can prove they trained on the same images.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.errors import UserError

SPLITS = ("train", "validation")
# What ImageDataGenerator.flow_from_directory accepts (keras.src.legacy.preprocessing.image).
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".tif", ".tiff"})
MANIFEST_NAME = "manifest.json"


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


def list_images(root: Path) -> dict[str, dict[str, list[Path]]]:
    """``{split: {class: [image paths]}}`` for the train and validation splits, sorted."""
    found: dict[str, dict[str, list[Path]]] = {}
    for split in SPLITS:
        folder = root / split
        classes = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
        found[split] = {
            c.name: sorted(
                f for f in c.iterdir() if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES
            )
            for c in classes
        }
    return found


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


def _image_size(path: Path, data: bytes) -> tuple[int, int]:
    """Width and height from the header; a clear error when Pillow cannot identify the file."""
    import io
    import warnings

    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            # Pillow parses EXIF on open; photos with a damaged EXIF block ("Corrupt EXIF data")
            # decode fine, and dataset preparation has already counted them.
            warnings.simplefilter("ignore", UserWarning)
            with Image.open(io.BytesIO(data)) as image:
                return image.size
    except (UnidentifiedImageError, OSError, ValueError):
        msg = (
            f"{path} is not a readable image; remove it, or prepare the dataset with "
            "`nox -s data` which excludes broken files"
        )
        raise UserError(msg) from None


def describe(root: Path, kind: str, *, check_images: bool = True) -> dict[str, Any]:
    """The ``dataset`` block of a results file: counts, image sizes and fingerprint.

    The fingerprint is the SHA-256 of the sorted lines ``split/class/file<TAB>size<TAB>sha256``:
    it changes when any file is added, removed, renamed, moved between splits or altered.
    ``check_images`` also opens every header, so an unreadable file stops the run before training
    instead of crashing it mid-epoch (ImageDataGenerator: "cannot identify image file").
    """
    found = check_layout(root)
    lines = []
    widths: list[int] = []
    heights: list[int] = []
    total = 0
    for split, by_class in found.items():
        for class_name, images in by_class.items():
            for path in images:
                data = path.read_bytes()
                total += len(data)
                digest = hashlib.sha256(data).hexdigest()
                lines.append(f"{split}/{class_name}/{path.name}\t{len(data)}\t{digest}")
                if check_images:
                    w, h = _image_size(path, data)
                    widths.append(w)
                    heights.append(h)
    lines.sort()
    fingerprint = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    names = sorted(found["train"])
    manifest = read_manifest(root)
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


def synthetic(spec: SyntheticSpec, cache_dir: Path) -> Path:
    """The synthetic dataset for ``spec``, generated once into ``cache_dir`` and reused.

    Generation writes into a temporary sibling folder and renames it into place, so an
    interrupted generation never leaves a half-made cache behind.
    """
    target = cache_dir / f"synthetic-{spec.key()}"
    if (target / "spec.json").is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".synthetic-", dir=cache_dir))
    try:
        _generate(spec, tmp)
        (tmp / "spec.json").write_text(json.dumps(asdict(spec), indent=2) + "\n")
        try:
            tmp.rename(target)
        except OSError:
            if not (target / "spec.json").is_file():  # lost a race to a concurrent run: fine
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def synthetic_description(root: Path) -> dict[str, Any]:
    """`describe` for a synthetic cache folder, with the generator's parameters."""
    description = describe(root, "synthetic")
    description["name"] = "synthetic"
    description["generator"] = json.loads((root / "spec.json").read_text())
    return description


def count(images: Mapping[str, Iterable[Path]]) -> int:
    """Number of images across classes."""
    return sum(len(list(v)) for v in images.values())
