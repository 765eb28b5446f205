"""Decode every candidate image in full with both decoders the pipelines use, in a process pool.

Pillow (``Image.open``, ``load``, ``convert("RGB")``: what ImageDataGenerator's ``load_img`` does)
and TensorFlow (``tf.io.decode_image(channels=3, expand_animations=False)``: what
``image_dataset_from_directory`` does). A file is excluded, with its reason, when it is empty, is
not JPEG data whatever its name says, ends early, or either decoder refuses it. Files that decode
with a warning (corrupt EXIF, extraneous bytes) are kept and counted. This is the one place outside
the worker that imports TensorFlow (the import rule names it).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import signal
import sys
import tempfile
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.errors import UserError
from bench.harness.dataset.detect import REASONS, Candidate
from bench.harness.dataset.source import MAX_ENTRY_BYTES, Source, shown
from bench.protocol import processes

# Worker-process state: one checker per process, made by the pool's initializer.
_WORKER: Checker | None = None

ProgressFn = Callable[[int, int], None]

_JPEG_MAGIC = b"\xff\xd8\xff"


# Few enough files that starting workers (each imports TensorFlow: about 9 s here) costs more
# than it saves.
_SERIAL_BELOW = 500


_CHUNK = 64


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
        if candidate.size > MAX_ENTRY_BYTES:
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
