"""The deterministic split: per class, files ordered by the SHA-256 of ``<seed>/<name>`` and cut by
the ratios, so a file's split does not depend on the order of the archive."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

from bench import data
from bench.errors import UserError
from bench.harness.dataset.detect import CLASSES

OUTPUT_SPLITS = ("train", "validation", "test")


DEFAULT_SPLIT = "80/10/10"


DEFAULT_SEED = 42


def parse_split(text: str) -> tuple[Fraction, Fraction, Fraction]:
    """``"80/10/10"`` as fractions of one (train, validation, test).

    Raises
    ------
    UserError
        Unless three non-negative numbers with positive train and validation parts.
    """
    parts = text.split("/")
    try:
        if len(parts) != 3:
            raise ValueError
        numbers = [Fraction(p.strip()) for p in parts]
    except (ValueError, ZeroDivisionError):
        msg = f"split {text!r} is not three numbers TRAIN/VALIDATION/TEST, such as {DEFAULT_SPLIT}"
        raise UserError(msg) from None
    if any(n < 0 for n in numbers) or numbers[0] == 0 or numbers[1] == 0:
        msg = f"split {text!r}: train and validation must be positive and test not negative"
        raise UserError(msg)
    whole = sum(numbers)
    train, validation, test = (n / whole for n in numbers)
    return train, validation, test


def split_counts(n: int, ratios: tuple[Fraction, Fraction, Fraction]) -> tuple[int, int, int]:
    """Train, validation and test counts for ``n`` files (validation and test rounded half up)."""
    half = Fraction(1, 2)
    validation = int(n * ratios[1] + half)
    test = int(n * ratios[2] + half)
    return n - validation - test, validation, test


def _order_key(seed: int, name: str) -> tuple[str, str]:
    return hashlib.sha256(f"{seed}/{name}".encode()).hexdigest(), name


def assign(
    kept: dict[str, list[str]],
    ratios: tuple[Fraction, Fraction, Fraction],
    seed: int,
    limit_per_class: int | None,
) -> dict[str, dict[str, list[str]]]:
    """``{split: {class: [names]}}``: per class, names ordered by a seeded hash, then cut.

    Raises
    ------
    UserError
        When a class has fewer usable files than ``limit_per_class``, or too few for a train
        and a validation image.
    """
    out: dict[str, dict[str, list[str]]] = {s: {} for s in OUTPUT_SPLITS}
    usable = {label: len(kept.get(label, [])) for label in CLASSES}
    if limit_per_class is not None and min(usable.values()) < limit_per_class:
        label = min(usable, key=lambda k: usable[k])
        msg = (
            f"--limit-per-class {limit_per_class}: only {usable[label]} {label} images are "
            f"usable; choose at most {usable[label]}"
        )
        raise UserError(msg)
    for label in CLASSES:
        names = sorted(kept.get(label, []), key=lambda n: _order_key(seed, n))
        if limit_per_class is not None:
            names = names[:limit_per_class]
        train, validation, _ = split_counts(len(names), ratios)
        if train < 1 or validation < 1:
            msg = (
                f"{len(names)} usable {label} images are too few for a train and a validation "
                "image with this split; use more images or other ratios"
            )
            raise UserError(msg)
        cuts = {
            "train": names[:train],
            "validation": names[train : train + validation],
            "test": names[train + validation :],
        }
        for split, chosen in cuts.items():
            out[split][label] = sorted(chosen)
    return out


def fingerprint(root: Path, splits: Sequence[str]) -> str | None:
    """The fingerprint of ``splits`` as `bench.data.describe` computes it for train and
    validation (`bench.data.list_images`, then `bench.data.fingerprint_of`): this function serves
    the test split, which the harness never reads. ``None`` when the splits hold no image.
    """
    found = data.list_images(root, splits)
    if not any(images for by_class in found.values() for images in by_class.values()):
        return None
    return data.fingerprint_of(root, found)[0]
