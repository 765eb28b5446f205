"""The archive or folder the images come from, read safely.

A zip entry whose name would escape the output folder (an absolute path, ``..``: zip slip) is
refused (`escapes`), and no entry is read beyond `MAX_ENTRY_BYTES`. The source's digest goes into
the manifest.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bench.errors import UserError

EXPECTED = (
    "the Microsoft PetImages archive (PetImages/Cat/*.jpg and PetImages/Dog/*.jpg) or the "
    "Kaggle competition train.zip (train/cat.N.jpg and train/dog.N.jpg), zipped or extracted"
)


# The largest photo in either variant is under 1 MB; 64 MiB only stops a decompression bomb.
MAX_ENTRY_BYTES = 64 * 2**20


_CHUNK_READ = 2**20


@dataclass(frozen=True)
class Source:
    """A downloaded archive or the folder it was extracted to, with its file entries."""

    path: Path
    kind: Literal["zip", "folder"]
    entries: tuple[str, ...]
    sizes: tuple[int, ...]


def escapes(name: str) -> bool:
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
        if escapes(info.filename):
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
