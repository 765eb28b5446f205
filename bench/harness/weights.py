"""VGG-16 ImageNet weights: found in the Keras cache, given by path, or fetched with a bounded attempt.

Timing does not depend on the weights, accuracy does; every result records which were used.
Without network access Keras' own download fails after about 3 s ("URL fetch failure"), and some
networks hang instead: the attempt here has a connect/read timeout and an overall deadline, and
falls back to random initialisation when the user asked for ``auto``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench.errors import UserError
from bench.protocol.config import WEIGHT_MODES

FILE_NAME = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
URL = "https://storage.googleapis.com/tensorflow/keras-applications/vgg16/" + FILE_NAME
MD5 = "6d6bbae143d832006294945121d1f1fc"
SIZE_BYTES = 58_889_256


@dataclass(frozen=True)
class Weights:
    """What VGG-16 will be built with."""

    kind: str  # "imagenet" or "random"
    path: Path | None
    note: str


def keras_home() -> Path:
    """Keras' cache root: ``$KERAS_HOME`` or ``~/.keras``."""
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")


def cache_path() -> Path:
    """Where Keras keeps the no-top VGG-16 weights once downloaded."""
    return keras_home() / "models" / FILE_NAME


def md5sum(path: Path) -> str:
    """MD5 of a file, read in 1 MiB blocks."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_valid(path: Path) -> bool:
    """True when ``path`` is the genuine no-top weights file (size, then MD5)."""
    try:
        return path.stat().st_size == SIZE_BYTES and md5sum(path) == MD5
    except OSError:
        return False


def download(
    url: str = URL,
    target: Path | None = None,
    *,
    timeout_s: float = 10.0,
    deadline_s: float = 600.0,
) -> Path:
    """Fetch the weights into ``target`` (default: the Keras cache), atomically, checking the MD5.

    ``timeout_s`` bounds each connect and read; ``deadline_s`` the whole transfer.

    Raises
    ------
    OSError
        On any network failure, timeout, or a file that is not the expected one.
    """
    target = target or cache_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout_s) as response:
            while block := response.read(1 << 20):
                out.write(block)
                if time.monotonic() - start > deadline_s:
                    msg = f"download took longer than {deadline_s:.0f} s"
                    raise TimeoutError(msg)
        if not is_valid(tmp):
            msg = "downloaded file does not have the expected size and MD5"
            raise OSError(msg)
        tmp.replace(target)
    except (urllib.error.URLError, ValueError) as exc:
        raise OSError(str(getattr(exc, "reason", exc))) from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return target


def resolve(
    mode: str, weights_file: Path | None = None, *, url: str = URL, timeout_s: float = 10.0
) -> Weights:
    """Decide what VGG-16 is built with.

    ``mode`` is ``auto`` (ImageNet when cached or fetched quickly, else random), ``imagenet``
    (ImageNet or an error) or ``random``. A ``weights_file`` given by the user must be the
    genuine file.
    """
    if mode not in WEIGHT_MODES:
        msg = f"unknown weights mode {mode!r}; choose one of {', '.join(WEIGHT_MODES)}"
        raise UserError(msg)
    if weights_file is not None:
        if weights_file.is_dir():
            msg = f"--weights-file {weights_file} is a folder; give the .h5 file inside it"
            raise UserError(msg)
        if not weights_file.is_file():
            msg = f"--weights-file {weights_file} does not exist"
            raise UserError(msg)
        if not is_valid(weights_file):
            msg = (
                f"--weights-file {weights_file} is not the VGG-16 no-top ImageNet weights file "
                f"(expected {SIZE_BYTES:,} bytes with MD5 {MD5})"
            )
            raise UserError(msg)
        return Weights("imagenet", weights_file, f"ImageNet weights from {weights_file.name}")
    if mode == "random":
        return Weights("random", None, "random initialisation, as asked (--weights random)")
    cached = cache_path()
    if is_valid(cached):
        return Weights("imagenet", cached, "ImageNet weights from the Keras cache")
    try:
        path = download(url, cached, timeout_s=timeout_s)
    except OSError as exc:
        reason = str(exc) or type(exc).__name__
        if mode == "imagenet":
            msg = (
                f"cannot get the VGG-16 ImageNet weights ({reason}); download {URL} "
                f"and pass it with --weights-file, or use --weights auto"
            )
            raise UserError(msg) from None
        return Weights(
            "random",
            None,
            f"random initialisation: ImageNet weights not cached and the download failed ({reason[:200]})",
        )
    return Weights("imagenet", path, "ImageNet weights, downloaded into the Keras cache")
