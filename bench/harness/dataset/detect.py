"""Which entries of the source are images of which class, and which layout the source has.

``petimages`` (the Microsoft archive, ``PetImages/Cat/<n>.jpg``) or ``kaggle-train`` (the
competition's ``train.zip``, ``train/cat.<n>.jpg``); non-image entries (``Thumbs.db``,
``__MACOSX``, readmes) are skipped and counted.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from bench.errors import UserError
from bench.harness.dataset.source import EXPECTED, Source, shown

_SYSTEM_FILES = frozenset({"thumbs.db", "desktop.ini", ".ds_store"})

_IMAGE_NAMES = frozenset(
    {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff", ".ppm"}
)

_PET_FOLDERS = {"Cat": "cat", "Dog": "dog"}

_KAGGLE_NAME = re.compile(r"(cat|dog)\.(.+)(\.[A-Za-z]+)", re.IGNORECASE)

Layout = Literal["petimages", "kaggle-train"]

CLASSES = ("cat", "dog")


# Why a file is left out of the prepared dataset.
REASONS = {
    "empty": "the file has zero bytes",
    "not-jpeg": "the data is not JPEG, whatever the name says",
    "truncated": "the JPEG data ends before the image does",
    "pillow-refused": "Pillow cannot decode it (ImageDataGenerator would crash on it)",
    "tensorflow-refused": "TensorFlow's decoder refuses it (the tf.data pipeline would fail)",
    "too-large": "the file is larger than any photo of the dataset",
    "no-class": "the name does not start with cat. or dog.",
    "duplicate-name": "another file gets the same output name",
    "bad-name": "the name holds control characters",
}


@dataclass(frozen=True)
class Candidate:
    """A file that should be an image of ``label``, and the name it gets in the output."""

    entry: str
    label: str
    target: str
    size: int


@dataclass(frozen=True)
class Exclusion:
    """A file left out, and why."""

    entry: str
    reason: str
    detail: str

    def as_json(self) -> dict[str, str]:
        """The manifest's form."""
        return {"entry": self.entry, "reason": self.reason, "detail": self.detail}


@dataclass
class Plan:
    """What a source holds: its layout, the files to check, and what is left out before checking."""

    layout: Layout
    image_root: str
    candidates: list[Candidate]
    excluded: list[Exclusion] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    found: Counter[str] = field(default_factory=Counter)


def _skip_kind(name: str) -> str | None:
    parts = name.split("/")
    if "__MACOSX" in parts or parts[-1].startswith("._"):
        return "macos-metadata"
    if parts[-1].lower() in _SYSTEM_FILES:
        return "system-file"
    return None


def _parent(name: str) -> tuple[str, str]:
    folder, _, base = name.rpartition("/")
    return folder, base


def _suffix(base: str) -> str:
    return Path(base).suffix.lower()


def detect(source: Source) -> Plan:
    """Find the layout and the images of each class.

    Raises
    ------
    UserError
        When neither layout is found, or more than one set of images is.
    """
    skipped: Counter[str] = Counter()
    rest: list[tuple[str, int]] = []
    for name, size in zip(source.entries, source.sizes, strict=True):
        kind = _skip_kind(name)
        if kind:
            skipped[kind] += 1
        else:
            rest.append((name, size))

    pet_roots: dict[str, set[str]] = {}
    kaggle_dirs: dict[str, set[str]] = {}
    for name, _ in rest:
        folder, base = _parent(name)
        root, cls = _parent(folder) if folder else ("", "")
        if cls in _PET_FOLDERS and _suffix(base) in _IMAGE_NAMES:
            pet_roots.setdefault(root, set()).add(_PET_FOLDERS[cls])
        match = _KAGGLE_NAME.fullmatch(base)
        if match and match[3].lower() in _IMAGE_NAMES:
            kaggle_dirs.setdefault(folder, set()).add(match[1].lower())
    found: list[tuple[Layout, str]] = [
        ("petimages", r) for r, c in sorted(pet_roots.items()) if c == set(CLASSES)
    ]
    found += [("kaggle-train", d) for d, c in sorted(kaggle_dirs.items()) if c == set(CLASSES)]

    if not found:
        if any(_parent(n)[1].lower() == "train.zip" for n, _ in rest):
            msg = (
                f"{source.path} holds train.zip: it is the Kaggle competition download; "
                "extract train.zip from it and give that instead"
            )
            raise UserError(msg)
        msg = f"{source.path}: no Kaggle Dogs vs Cats images found; expected {EXPECTED}"
        raise UserError(msg)
    if len(found) > 1:
        where = ", ".join(
            f"{layout} in {shown(root) + '/' if root else 'the top level'}"
            for layout, root in found
        )
        msg = (
            f"{source.path} holds more than one set of images ({where}); "
            "give an archive or folder that holds one of them"
        )
        raise UserError(msg)

    layout, image_root = found[0]
    plan = Plan(layout, image_root, [], skipped=skipped)
    for name, size in rest:
        folder, base = _parent(name)
        if layout == "petimages":
            root, cls = _parent(folder) if folder else ("", "")
            if root != image_root or cls not in _PET_FOLDERS or _suffix(base) not in _IMAGE_NAMES:
                plan.skipped["other"] += 1
                continue
            label = _PET_FOLDERS[cls]
            stem = base[: -len(Path(base).suffix)]
        else:
            if folder != image_root or _suffix(base) not in _IMAGE_NAMES:
                plan.skipped["other"] += 1
                continue
            match = _KAGGLE_NAME.fullmatch(base)
            if not match:
                plan.excluded.append(Exclusion(name, "no-class", REASONS["no-class"]))
                continue
            label, stem = match[1].lower(), match[2]
        plan.found[label] += 1
        if not stem or not stem.isprintable():
            plan.excluded.append(Exclusion(name, "bad-name", REASONS["bad-name"]))
            continue
        plan.candidates.append(Candidate(name, label, f"{label}.{stem}.jpg", size))

    # Two entries may map to one name (1.jpg and 1.JPG); case-insensitive file systems
    # (macOS, Windows) would merge them, so the later one in name order is left out.
    first: dict[str, str] = {}
    unique = []
    for candidate in plan.candidates:
        key = candidate.target.lower()
        if key in first:
            detail = f"same output name {candidate.target} as {first[key]}"
            plan.excluded.append(Exclusion(candidate.entry, "duplicate-name", detail))
        else:
            first[key] = candidate.entry
            unique.append(candidate)
    plan.candidates = unique
    return plan
