"""Prepare the Kaggle Dogs vs Cats images: check every file, split them, record where they came from.

Two public variants are accepted, zipped or extracted, and the layout is named in the manifest:

- ``petimages``: the Microsoft archive, ``PetImages/Cat/<n>.jpg`` and ``PetImages/Dog/<n>.jpg``
  (with ``Thumbs.db`` files, a licence and a readme next to them);
- ``kaggle-train``: the competition's ``train.zip``, ``train/cat.<n>.jpg`` and ``train/dog.<n>.jpg``.

Every image is decoded in full by both decoders the pipelines use: Pillow (``Image.open``, ``load``,
``convert("RGB")``: what ImageDataGenerator's ``load_img`` does) and TensorFlow
(``tf.io.decode_image(channels=3, expand_animations=False)``: what
``image_dataset_from_directory`` does; for JPEG data it runs the same kernel as
``tf.io.decode_jpeg``). A file is excluded, with its reason, when it is empty, is not JPEG data
whatever its name says, ends early, or either decoder refuses it. Files that decode with a warning
(corrupt EXIF, extraneous bytes) are kept and counted. CMYK JPEGs are kept: both decoders read them
and agree on the colours (mean difference under one level in 255). Non-image entries (``Thumbs.db``,
``__MACOSX``, readmes) are skipped and counted.

The kept files are copied byte for byte, renamed ``<class>.<n>.jpg`` so both layouts end up alike,
into ``<output>/{train,validation,test}/{cat,dog}/``. The split is per class and deterministic: a
class's files are ordered by the SHA-256 of ``<seed>/<name>`` and cut by the ratios, so a file's
split does not depend on the order of the archive. The output is built in a temporary folder next
to it and renamed into place when complete; ``<output>/manifest.json`` records the source, the
options, every exclusion and the fingerprint the harness computes (`bench.data.describe`).

Manifest format history
-----------------------
1 (benchbook 0.1): first version.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from bench import data, files
from bench.errors import UserError
from bench.harness.dataset.checking import ProgressFn, Verdict, check_all
from bench.harness.dataset.detect import CLASSES, Exclusion, Layout, Plan, detect
from bench.harness.dataset.source import Source, open_source, shown, source_digest
from bench.harness.dataset.splitting import (
    DEFAULT_SEED,
    DEFAULT_SPLIT,
    OUTPUT_SPLITS,
    assign,
    fingerprint,
    parse_split,
)

FORMAT_VERSION = 1
DEFAULT_OUTPUT = Path("data")


# --- the source ---------------------------------------------------------------------------------


# --- which entries are images of which class ----------------------------------------------------


# --- checking one image -------------------------------------------------------------------------


# --- the split ----------------------------------------------------------------------------------


# --- fingerprints and the manifest --------------------------------------------------------------


def _request(
    source: Source,
    digest: str,
    size: int,
    layout: Layout,
    ratios: tuple[Fraction, Fraction, Fraction],
    seed: int,
    limit_per_class: int | None,
) -> dict[str, Any]:
    """The part of the manifest that says what was asked: same request, same dataset."""
    return {
        "format_version": FORMAT_VERSION,
        "name": "Kaggle Dogs vs Cats",
        "layout": layout,
        "source": {
            "name": source.path.name,
            "kind": source.kind,
            "sha256": digest,
            "sha256_of": "the file"
            if source.kind == "zip"
            else "path, size and SHA-256 of every file",
            "bytes": size,
            "entries": len(source.entries),
        },
        "split": {
            "ratios": dict(zip(OUTPUT_SPLITS, (float(r) for r in ratios), strict=True)),
            "seed": seed,
            "limit_per_class": limit_per_class,
            "method": "per class: files ordered by SHA-256 of '<seed>/<name>', then cut by the ratios",
        },
    }


def _difference(manifest: dict[str, Any], request: dict[str, Any]) -> str | None:
    """How an existing manifest's request differs from this one, or ``None`` when it does not."""
    if all(manifest.get(key) == value for key, value in request.items()):
        return None
    source = manifest.get("source")
    if not isinstance(source, dict) or source.get("sha256") != request["source"]["sha256"]:
        name = source.get("name") if isinstance(source, dict) else None
        return f"it holds a dataset prepared from another source ({shown(str(name))})"
    split = manifest.get("split")
    if split != request["split"]:
        return f"it holds a dataset prepared with other split options ({_split_text(split)})"
    return "it holds a dataset prepared by another version of this tool"


def _split_text(split: Any) -> str:
    """``80/10/10, seed 42, all images`` from a manifest's split block, whatever it holds."""
    try:
        ratios = "/".join(f"{100 * float(split['ratios'][s]):g}" for s in OUTPUT_SPLITS)
        limit = split["limit_per_class"]
        subset = "all images" if limit is None else f"{int(limit)} per class"
        return f"{ratios}, seed {int(split['seed'])}, {subset}"
    except (KeyError, TypeError, ValueError):
        return "unreadable"


def dumps(manifest: dict[str, Any]) -> str:
    """The manifest as written: indented JSON, keys in a fixed order, ASCII, newline-terminated."""
    return json.dumps(manifest, indent=2, ensure_ascii=True) + "\n"


# --- the whole preparation ----------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What `prepare` did."""

    output: Path
    manifest: dict[str, Any]
    already_prepared: bool


def _state(output: Path, request: dict[str, Any]) -> tuple[str, str]:
    """``("absent" | "same" | "different" | "foreign", why)`` for the folder at ``output``.

    ``foreign`` is anything but a dataset this module prepared: it is never replaced.
    """
    if not output.exists():
        return "absent", ""
    if not output.is_dir():
        return "foreign", "it is not a folder"
    if not any(output.iterdir()):
        return "absent", ""
    try:
        manifest = data.read_manifest(output)
    except UserError:
        manifest = None
    if manifest is None or "format_version" not in manifest or "layout" not in manifest:
        return "foreign", "it holds files but no dataset manifest"
    difference = _difference(manifest, request)
    if difference:
        return "different", difference
    try:
        found = data.describe(output, "real", check_images=False)["fingerprint"]
        test = fingerprint(output, ("test",)) if (output / "test").is_dir() else None
    except (UserError, OSError):
        found, test = None, None
    if found != manifest.get("fingerprint") or test != manifest.get("test_fingerprint"):
        return "different", "its files changed since it was prepared (the fingerprint differs)"
    return "same", ""


def _check_paths(source: Path, output: Path) -> None:
    src, out = source.resolve(), output.resolve()
    here = Path.cwd().resolve()
    if out == here or out in here.parents or out == Path(out.anchor):
        msg = f"--output {output} is the current folder, holds it, or is a root; choose a new folder such as data"
        raise UserError(msg)
    if src == out or out in src.parents:
        msg = f"the source {source} is inside the output folder {output}; choose another --output"
        raise UserError(msg)
    if src in out.parents:
        msg = f"the output folder {output} is inside the source {source}; choose another --output"
        raise UserError(msg)


def _install(built: Path, output: Path, *, force: bool) -> None:
    """Rename the finished folder into place, replacing ``output`` only when ``force``."""
    if output.is_dir() and not any(output.iterdir()):
        output.rmdir()
    if not output.exists():
        built.rename(output)
        return
    if not force or not (output / data.MANIFEST_NAME).is_file():
        msg = f"{output} appeared while preparing; remove it or choose another --output"
        raise UserError(msg)
    old = files.sibling(output, "replaced")
    # Between these two renames the old dataset sits next to the output under .NAME.replaced-*.
    output.rename(old)
    built.rename(output)
    if old.is_dir():
        shutil.rmtree(old)
    else:
        old.unlink()


def prepare(
    source_path: Path,
    output: Path = DEFAULT_OUTPUT,
    *,
    split: str = DEFAULT_SPLIT,
    seed: int = DEFAULT_SEED,
    limit_per_class: int | None = None,
    force: bool = False,
    workers: int | None = None,
    say: Callable[[str], None] = lambda _: None,
    progress: ProgressFn | None = None,
) -> Outcome:
    """Check, split and copy the images of ``source_path`` into ``output``; write the manifest.

    Parameters
    ----------
    source_path
        The downloaded zip archive, or the folder it was extracted to.
    output
        The dataset folder to create (``data`` by default, where the harness looks).
    split
        Train/validation/test ratios, such as ``"80/10/10"``; applied to each class.
    seed
        Seed of the split order.
    limit_per_class
        Take this many usable images of each class (a smaller balanced dataset for quicker runs).
    force
        Replace a different dataset already at ``output``.
    workers
        Processes that decode; by default one per usable CPU (one for fewer than 500 files).
    say
        Receives one line per step, for the user.
    progress
        Called with (files checked, files to check) as checking advances.

    Returns
    -------
    Outcome
        The output folder, its manifest, and whether it was already prepared.

    Raises
    ------
    UserError
        For a source that is missing, unsafe, damaged or not one of the two layouts; bad
        options; or a different dataset at ``output`` without ``force``.
    """
    ratios = parse_split(split)
    if limit_per_class is not None and limit_per_class < 1:
        msg = f"--limit-per-class {limit_per_class} must be at least 1"
        raise UserError(msg)
    if (source_path / data.MANIFEST_NAME).is_file() and (source_path / "train").is_dir():
        msg = (
            f"{source_path} is already a prepared dataset; give the downloaded archive "
            "or the folder it was extracted to"
        )
        raise UserError(msg)
    source = open_source(source_path)
    plan = detect(source)
    for label in CLASSES:
        # Fail before minutes of decoding when the limit cannot be met anyway.
        if limit_per_class is not None and plan.found[label] < limit_per_class:
            msg = (
                f"--limit-per-class {limit_per_class}: {source_path} holds only "
                f"{plan.found[label]} {label} images; choose at most {plan.found[label]}"
            )
            raise UserError(msg)
    _check_paths(source_path, output)
    # Resolved, so "data/.." or a symlink still gives a real sibling for the temporary folder.
    target = output.resolve()
    say(
        f"Source: {source_path} ({plan.layout} layout, {sum(plan.found.values())} images, "
        f"{sum(plan.skipped.values())} other entries)"
    )
    digest, size = source_digest(source)
    request = _request(source, digest, size, plan.layout, ratios, seed, limit_per_class)
    state, why = _state(target, request)
    if state == "same" and not force:
        manifest = data.read_manifest(output)
        assert manifest is not None
        say(f"{output} is already prepared from this source with these options; nothing to do")
        return Outcome(output, manifest, already_prepared=True)
    if state == "foreign":
        msg = (
            f"{output} already exists and {why}; it is never replaced, not even with --force: "
            "remove it yourself or choose another --output"
        )
        raise UserError(msg)
    if state == "different" and not force:
        msg = f"{output} already exists and {why}; pass --force to replace it, or choose another --output"
        raise UserError(msg)

    files.remove_leftovers(target.parent, f".{target.name}.")  # of a killed earlier run
    built = files.sibling(target, "preparing")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        built.mkdir()
        staging = built / ".staging"
        staging.mkdir()
        verdicts, versions = check_all(
            source, plan.candidates, staging, workers=workers, progress=progress
        )
        manifest = _finish(
            built, staging, plan, verdicts, versions, request, ratios, seed, limit_per_class
        )
        _install(built, target, force=force)
    except OSError as exc:
        if not files.is_out_of_space(exc):
            raise
        msg = (
            f"the disk holding {target.parent} is full (it needs room for a copy of the kept "
            "images); free some space or choose another --output"
        )
        raise UserError(msg) from None
    finally:
        if built.exists():
            shutil.rmtree(built, ignore_errors=True)
    return Outcome(output, manifest, already_prepared=False)


def _finish(
    built: Path,
    staging: Path,
    plan: Plan,
    verdicts: Sequence[Verdict],
    versions: dict[str, str],
    request: dict[str, Any],
    ratios: tuple[Fraction, Fraction, Fraction],
    seed: int,
    limit_per_class: int | None,
) -> dict[str, Any]:
    """Move the kept files into their splits and write the manifest; return it."""
    kept: dict[str, list[str]] = {label: [] for label in CLASSES}
    excluded = list(plan.excluded)
    warned: Counter[str] = Counter()
    warned_files = 0
    modes: Counter[str] = Counter()
    for verdict in verdicts:
        if verdict.reason:
            excluded.append(Exclusion(verdict.entry, verdict.reason, verdict.detail))
            continue
        kept[verdict.label].append(verdict.target)
        modes[verdict.mode or "unknown"] += 1
        if verdict.warnings:
            warned_files += 1
            warned.update(verdict.warnings)
    excluded.sort(key=lambda e: e.entry)

    chosen = assign(kept, ratios, seed, limit_per_class)
    for split, classes in chosen.items():
        for label, names in classes.items():
            folder = built / split / label
            folder.mkdir(parents=True)
            for name in names:
                (staging / name).replace(folder / name)
    # Files beyond --limit-per-class are usable but not used.
    shutil.rmtree(staging)

    described = data.describe(built, "real", check_images=False)
    manifest: dict[str, Any] = dict(request)
    manifest.update(
        {
            "checked_with": {
                "pillow": versions["pillow"],
                "tensorflow": versions["tensorflow"],
                "pillow_decode": "Image.open, load, convert('RGB') (ImageDataGenerator's load_img)",
                "tensorflow_decode": "tf.io.decode_image(channels=3, expand_animations=False)",
            },
            "counts": {
                split: {label: len(chosen[split][label]) for label in CLASSES}
                for split in OUTPUT_SPLITS
            },
            "images": {
                "found": {label: plan.found[label] for label in CLASSES},
                "usable": {label: len(kept[label]) for label in CLASSES},
                "colour_modes": dict(sorted(modes.items())),
            },
            "excluded": {
                "count": len(excluded),
                "by_reason": dict(sorted(Counter(e.reason for e in excluded).items())),
                "entries": [e.as_json() for e in excluded],
            },
            "kept_with_warnings": {"count": warned_files, "by_kind": dict(sorted(warned.items()))},
            "skipped": {
                "count": sum(plan.skipped.values()),
                "by_kind": dict(sorted(plan.skipped.items())),
            },
            "fingerprint": described["fingerprint"],
            "test_fingerprint": fingerprint(built, ("test",)),
        }
    )
    (built / data.MANIFEST_NAME).write_text(dumps(manifest), encoding="utf-8")
    return manifest


def summary(outcome: Outcome, *, limit: int = 20) -> list[str]:
    """Lines telling the user what is in the prepared folder and what was left out."""
    m = outcome.manifest
    lines = [
        (
            f"{outcome.output}: {m['name']}, {m['layout']} layout, from "
            f"{shown(m['source']['name'])} (SHA-256 {m['source']['sha256'][:16]}...)"
        )
    ]
    for split in OUTPUT_SPLITS:
        counts = m["counts"][split]
        per_class = ", ".join(f"{counts[c]:,} {c}" for c in CLASSES)
        lines.append(f"  {split:<11} {sum(counts.values()):>6,} images ({per_class})")
    found = sum(m["images"]["found"].values())
    excluded = m["excluded"]
    reasons = ", ".join(f"{k} {v}" for k, v in excluded["by_reason"].items())
    lines.append(
        f"Excluded {excluded['count']:,} of {found:,} images" + (f": {reasons}" if reasons else "")
    )
    for entry in excluded["entries"][:limit]:
        lines.append(f"  {shown(entry['entry'])}: {entry['reason']} ({shown(entry['detail'])})")
    if excluded["count"] > limit:
        lines.append(
            f"  ... and {excluded['count'] - limit:,} more, listed in {outcome.output / data.MANIFEST_NAME}"
        )
    warned = m["kept_with_warnings"]
    kinds = ", ".join(f"{k} {v}" for k, v in warned["by_kind"].items())
    lines.append(f"Kept with warnings: {warned['count']:,}" + (f" ({kinds})" if kinds else ""))
    skipped = m["skipped"]
    kinds = ", ".join(f"{k} {v}" for k, v in skipped["by_kind"].items())
    lines.append(
        f"Skipped entries that are not images: {skipped['count']:,}"
        + (f" ({kinds})" if kinds else "")
    )
    lines.append(f"Fingerprint (train + validation): {m['fingerprint']}")
    return lines
