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

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import signal
import stat
import sys
import tempfile
import warnings
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

from bench import data, files, processes
from bench.errors import UserError

FORMAT_VERSION = 1
CLASSES = ("cat", "dog")
OUTPUT_SPLITS = ("train", "validation", "test")
DEFAULT_OUTPUT = Path("data")
DEFAULT_SPLIT = "80/10/10"
DEFAULT_SEED = 42
EXPECTED = (
    "the Microsoft PetImages archive (PetImages/Cat/*.jpg and PetImages/Dog/*.jpg) or the "
    "Kaggle competition train.zip (train/cat.N.jpg and train/dog.N.jpg), zipped or extracted"
)

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
Layout = Literal["petimages", "kaggle-train"]
ProgressFn = Callable[[int, int], None]

_SYSTEM_FILES = frozenset({"thumbs.db", "desktop.ini", ".ds_store"})
_IMAGE_NAMES = frozenset(
    {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff", ".ppm"}
)
_PET_FOLDERS = {"Cat": "cat", "Dog": "dog"}
_KAGGLE_NAME = re.compile(r"(cat|dog)\.(.+)(\.[A-Za-z]+)", re.IGNORECASE)
_JPEG_MAGIC = b"\xff\xd8\xff"
# The largest photo in either variant is under 1 MB; 64 MiB only stops a decompression bomb.
_MAX_BYTES = 64 * 2**20
# Few enough files that starting workers (each imports TensorFlow: about 9 s here) costs more
# than it saves.
_SERIAL_BELOW = 500
_CHUNK = 64
_CHUNK_READ = 2**20


# --- the source ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """A downloaded archive or the folder it was extracted to, with its file entries."""

    path: Path
    kind: Literal["zip", "folder"]
    entries: tuple[str, ...]
    sizes: tuple[int, ...]


def _escapes(name: str) -> bool:
    """Whether an archive entry name would land outside the folder it is extracted to."""
    parts = name.replace("\\", "/").split("/")
    return name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name) is not None or ".." in parts


def shown(text: str) -> str:
    """``text`` safe to print: control characters escaped (names come from untrusted archives)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def open_source(path: Path) -> Source:
    """List the files of a zip archive or a folder, refusing archives that are broken or unsafe.

    Raises
    ------
    UserError
        For a missing path, a file that is not a zip archive, a corrupt archive, or an entry
        whose path would escape the folder it is extracted to.
    """
    if path.is_dir():
        entries: list[tuple[str, int]] = []
        for folder, dirs, files in os.walk(path):
            dirs.sort()
            for name in files:
                full = Path(folder) / name
                with contextlib.suppress(OSError):
                    if stat.S_ISREG(full.stat().st_mode):
                        entries.append((full.relative_to(path).as_posix(), full.stat().st_size))
        entries.sort()
        return Source(path, "folder", tuple(e for e, _ in entries), tuple(s for _, s in entries))
    if not path.exists():
        msg = f"{path} does not exist; give the downloaded archive (.zip) or the folder it was extracted to"
        raise UserError(msg)
    if not zipfile.is_zipfile(path):
        msg = f"{path} is not a zip archive (or the download is incomplete); expected {EXPECTED}"
        raise UserError(msg)
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        msg = f"{path} is a corrupt zip archive ({exc}); download it again"
        raise UserError(msg) from None
    seen: set[str] = set()
    listed: list[tuple[str, int]] = []
    for info in infos:
        if _escapes(info.filename):
            msg = (
                f"{path} holds the entry {shown(info.filename)!r}, whose path leaves the folder "
                "it would be extracted to; refusing this archive (nothing was written)"
            )
            raise UserError(msg)
        if info.is_dir():
            continue
        if info.filename in seen:
            msg = f"{path} holds two entries named {shown(info.filename)!r}; download it again"
            raise UserError(msg)
        seen.add(info.filename)
        listed.append((info.filename, info.file_size))
    listed.sort()
    return Source(path, "zip", tuple(e for e, _ in listed), tuple(s for _, s in listed))


def source_digest(source: Source) -> tuple[str, int]:
    """SHA-256 and size in bytes of the source.

    For an archive, of the file itself; for a folder, of the sorted lines
    ``path<TAB>size<TAB>sha256`` of every file in it (the same content zipped differently gives
    another source digest but the same dataset fingerprint).
    """
    if source.kind == "zip":
        digest = hashlib.sha256()
        with source.path.open("rb") as f:
            while chunk := f.read(_CHUNK_READ):
                digest.update(chunk)
        return digest.hexdigest(), source.path.stat().st_size
    lines = []
    total = 0
    for name in source.entries:
        content = (source.path / name).read_bytes()
        total += len(content)
        lines.append(f"{name}\t{len(content)}\t{hashlib.sha256(content).hexdigest()}")
    return hashlib.sha256("\n".join(lines).encode()).hexdigest(), total


# --- which entries are images of which class ----------------------------------------------------


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


# --- checking one image -------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking one candidate."""

    entry: str
    label: str
    target: str
    reason: str | None = None
    detail: str = ""
    warnings: tuple[str, ...] = ()
    mode: str | None = None


@dataclass(frozen=True)
class Checked:
    """Pillow's and TensorFlow's view of one file's bytes."""

    reason: str | None
    detail: str = ""
    warnings: tuple[str, ...] = ()
    mode: str | None = None


def _clean(message: str) -> str:
    """A decoder's message without memory addresses, op names or log prefixes, on one line."""
    message = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", message)
    message = re.sub(r"\s*\[Op:\w+\].*", "", message, flags=re.DOTALL)
    message = re.sub(r"^\S+ \S+: [EWIF] \S+\] ", "", message, flags=re.MULTILINE)
    message = re.sub(r" at 0x[0-9a-fA-F]+", "", message)
    line = " ".join(message.split())
    return line[:200]


def _what_is(content: bytes) -> str:
    """A few words on what non-JPEG data is."""
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # Any failure only means Pillow cannot name the format.
        with contextlib.suppress(Exception), Image.open(io.BytesIO(content)) as image:
            return f"{image.format} image data"
    try:
        text = content[:512].decode("utf-8")
    except UnicodeDecodeError:
        return "unrecognised data"
    return "text" if all(c.isprintable() or c.isspace() for c in text) else "unrecognised data"


def _pillow(content: bytes) -> Checked:
    """Decode fully with Pillow as ``load_img`` does, then read the EXIF block."""
    from PIL import Image

    kinds: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with Image.open(io.BytesIO(content)) as image:
                image.load()
                mode = image.mode
                image.convert("RGB")
                # EXIF is not read by the pipelines; it is parsed only to count the
                # "Corrupt EXIF data" warnings PetImages is known for.
                try:
                    exif = image.getexif()
                    for ifd in (0x8769, 0x8825):  # Exif and GPS sub-blocks
                        exif.get_ifd(ifd)
                except Exception:  # noqa: BLE001 - a bad EXIF block is a warning, not an exclusion
                    kinds.append("corrupt-exif")
        except Exception as exc:  # noqa: BLE001 - whatever Pillow raises, load_img would too
            message = _clean(str(exc)) or type(exc).__name__
            truncated = "truncated" in message or "broken data stream" in message
            return Checked("truncated" if truncated else "pillow-refused", f"Pillow: {message}")
    for warning in caught:
        text = str(warning.message)
        kinds.append("corrupt-exif" if "exif" in text.lower() else "decoder-warning")
    return Checked(None, warnings=tuple(kinds), mode=mode)


class _StderrCapture:
    """Collects what C code writes to file descriptor 2 (libjpeg's warnings go there)."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the checker

    def close(self) -> None:
        """Delete the temporary file."""
        self._file.close()

    @contextlib.contextmanager
    def capture(self) -> Iterator[list[str]]:
        """Yield a list that holds the lines written while the block ran."""
        lines: list[str] = []
        self._file.seek(0)
        self._file.truncate()
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(self._file.fileno(), 2)
        try:
            yield lines
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            self._file.seek(0)
            text = self._file.read().decode("utf-8", errors="replace")
            lines.extend(line for line in text.splitlines() if line.strip())


class Checker:
    """Checks candidates of one source and writes the kept ones into ``staging``."""

    def __init__(self, source: Path, kind: str, staging: Path, *, worker: bool = False) -> None:
        self._source = source
        self._zip = zipfile.ZipFile(source) if kind == "zip" else None
        self._staging = staging
        self._worker = worker
        self._stderr = _StderrCapture()
        self._tf: Any = None

    def tensorflow(self) -> Any:
        """TensorFlow, imported on first use (only this path needs it), with its noise captured."""
        if self._tf is None:
            if self._worker:
                os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
            with self._stderr.capture():
                import tensorflow as tf

                if self._worker:
                    # One thread per worker process: the pool already uses every core.
                    tf.config.threading.set_intra_op_parallelism_threads(1)
                    tf.config.threading.set_inter_op_parallelism_threads(1)
                tf.io.decode_image(_tiny_jpeg(), channels=3, expand_animations=False)
            self._tf = tf
        return self._tf

    def versions(self) -> dict[str, str]:
        """The decoders' versions, for the manifest."""
        import PIL

        return {"pillow": PIL.__version__, "tensorflow": str(self.tensorflow().__version__)}

    def _tensorflow(self, content: bytes) -> Checked:
        tf = self.tensorflow()
        error: Exception | None = None
        with self._stderr.capture() as lines:
            try:
                tf.io.decode_image(content, channels=3, expand_animations=False)
            except Exception as exc:  # noqa: BLE001 - any refusal means the pipeline would fail
                error = exc
        if error is not None:
            premature = [line for line in lines if "Premature end of JPEG" in line]
            if premature:
                return Checked("truncated", f"TensorFlow: {_clean(premature[0])}")
            return Checked("tensorflow-refused", f"TensorFlow: {_clean(str(error))}")
        kinds = tuple(
            "extraneous-bytes" if "extraneous bytes" in line else "decoder-warning"
            for line in lines
        )
        return Checked(None, warnings=kinds)

    def read(self, candidate: Candidate) -> bytes:
        """The candidate's bytes; a damaged archive stops the preparation."""
        try:
            if self._zip is not None:
                return self._zip.read(candidate.entry)
            return (self._source / candidate.entry).read_bytes()
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError) as exc:
            msg = (
                f"{self._source}: the entry {shown(candidate.entry)!r} cannot be read "
                f"({_clean(str(exc))}); the source is damaged, download it again"
            )
            raise UserError(msg) from None

    def check_bytes(self, content: bytes) -> Checked:
        """Both decoders' verdict on ``content``."""
        if not content:
            return Checked("empty", REASONS["empty"])
        if not content.startswith(_JPEG_MAGIC):
            return Checked("not-jpeg", _what_is(content))
        pillow = _pillow(content)
        if pillow.reason:
            return pillow
        tensorflow = self._tensorflow(content)
        if tensorflow.reason:
            return tensorflow
        kinds = tuple(sorted(set(pillow.warnings + tensorflow.warnings)))
        return Checked(None, warnings=kinds, mode=pillow.mode)

    def check(self, candidate: Candidate) -> Verdict:
        """Check one candidate; a kept file is written to the staging folder under its new name."""
        if candidate.size > _MAX_BYTES:
            return Verdict(
                candidate.entry,
                candidate.label,
                candidate.target,
                "too-large",
                f"{candidate.size} bytes",
            )
        content = self.read(candidate)
        checked = self.check_bytes(content)
        if checked.reason is None:
            with (self._staging / candidate.target).open("xb") as f:
                f.write(content)
        return Verdict(
            candidate.entry,
            candidate.label,
            candidate.target,
            checked.reason,
            checked.detail,
            checked.warnings,
            checked.mode,
        )

    def close(self) -> None:
        """Release the archive and the temporary file."""
        if self._zip is not None:
            self._zip.close()
        self._stderr.close()


def _tiny_jpeg() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (120, 90, 60)).save(buffer, "JPEG")
    return buffer.getvalue()


# Worker-process state: one checker per process, made by the pool's initializer.
_WORKER: Checker | None = None


def _init_worker(source: Path, kind: str, staging: Path) -> None:
    global _WORKER  # noqa: PLW0603 - a process pool's per-process state
    # Ctrl-C reaches the whole process group; the parent alone handles it (and stops the pool),
    # so workers print no "Exception in initializer ... KeyboardInterrupt" tracebacks.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Started with SIGINT blocked (`processes.blocked`): once ignored, a pending one is dropped.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _WORKER = Checker(source, kind, staging, worker=True)
    # Import TensorFlow now (9 s here), so every worker does it at once and none takes
    # files it cannot start on.
    _WORKER.tensorflow()


def _worker_versions() -> dict[str, str]:
    assert _WORKER is not None
    return _WORKER.versions()


def _check_chunk(chunk: Sequence[Candidate]) -> list[Verdict]:
    assert _WORKER is not None
    return [_WORKER.check(c) for c in chunk]


def _usable_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def check_all(
    source: Source,
    candidates: Sequence[Candidate],
    staging: Path,
    *,
    workers: int | None = None,
    progress: ProgressFn | None = None,
) -> tuple[list[Verdict], dict[str, str]]:
    """Check every candidate with both decoders; return the verdicts and the decoders' versions.

    Decoding is CPU-bound, so it runs in a pool of processes (one per usable CPU by default);
    fewer than 500 files are checked in this process, where starting workers would cost more.
    """
    total = len(candidates)
    chunks = [candidates[i : i + _CHUNK] for i in range(0, total, _CHUNK)]
    if workers is None:
        workers = 1 if total < _SERIAL_BELOW else _usable_cpus()
    verdicts: list[Verdict] = []
    if progress:
        progress(0, total)
    if workers <= 1:
        checker = Checker(source.path, source.kind, staging)
        try:
            versions = checker.versions()
            for chunk in chunks:
                verdicts.extend(checker.check(c) for c in chunk)
                if progress:
                    progress(len(verdicts), total)
        finally:
            checker.close()
        return sorted(verdicts, key=lambda v: v.entry), versions

    import multiprocessing

    # spawn everywhere (macOS's default): TensorFlow is not safe to use after a fork.
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        workers,
        mp_context=context,
        initializer=_init_worker,
        initargs=(source.path, source.kind, staging),
    )
    try:
        # Submit everything at once: the pool starts a worker per submission until it has
        # `workers`, and a worker started late would spend its TensorFlow import idle. The
        # workers start with Ctrl-C blocked (a blocked signal stays blocked across exec) and
        # then ignore it, so a Ctrl-C reaching the whole process group stops the parent alone,
        # with one clean line; one that arrives while they start waits, and is not lost (it
        # once was, when the parent ignored it here).
        with processes.blocked([signal.SIGINT]):
            asked = pool.submit(_worker_versions)
            futures: list[Future[list[Verdict]]] = [pool.submit(_check_chunk, c) for c in chunks]
        for future in as_completed(futures):
            verdicts.extend(future.result())
            if progress:
                progress(len(verdicts), total)
        versions = asked.result()
    except BaseException:
        # Stop at once: a worker may be seconds into its TensorFlow import. Its partial work is
        # in the staging folder, which the caller removes. (`_processes` is the pool's own
        # record; Python 3.14 adds terminate_workers() for this.)
        for process in list(getattr(pool, "_processes", {}).values()):
            process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown()
    return sorted(verdicts, key=lambda v: v.entry), versions


# --- the split ----------------------------------------------------------------------------------


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


# --- fingerprints and the manifest --------------------------------------------------------------


def fingerprint(root: Path, splits: Sequence[str]) -> str | None:
    """The fingerprint of ``splits`` as `bench.data.describe` computes it for train and
    validation (`bench.data.list_images`, then `bench.data.fingerprint_of`): this function serves
    the test split, which the harness never reads. ``None`` when the splits hold no image.
    """
    found = data.list_images(root, splits)
    if not any(images for by_class in found.values() for images in by_class.values()):
        return None
    return data.fingerprint_of(root, found)[0]


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
