"""Print how long preparing a full-size (25,000-image) Dogs vs Cats archive takes.

Target (issue 5): under 5 minutes on the 2-vCPU development machine. The figure is printed, not
asserted: timings on shared machines vary too much to gate a test on.

    python scripts/benchmark_prepare.py                        # kaggle-train layout, 25,000 images
    python scripts/benchmark_prepare.py --layout petimages --images 5000

The archive is generated into a temporary folder (about 550 MB, removed afterwards): photo-like
JPEGs of 400-500 x 300-500 px, about 22 KB on average (the real train.zip holds 25,000 photos in
543 MB), deflated like the real download. Drawing 25,000 distinct images would take longer than
preparing them, so 300 are drawn and each file gets a unique comment segment: every entry has
different bytes, and decoding costs what the drawn image costs. A few broken files are planted
(empty, truncated, PNG data, extraneous bytes) so the exclusion paths run too.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tempfile
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np
from PIL import Image, ImageFilter

from bench.harness.dataset import prepare

DRAWN = 300


def draw(rng: np.random.Generator) -> bytes:
    """One photo-like JPEG: gradient, soft waves, sensor-like noise, a slight blur."""
    width, height = int(rng.integers(400, 501)), int(rng.integers(300, 501))
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    pixels = (
        rng.uniform(60, 190, 3)[None, None, :]
        + (rng.uniform(-0.2, 0.2) * xx + rng.uniform(-0.2, 0.2) * yy)[..., None]
    )
    for _ in range(6):
        fx, fy = rng.uniform(0.005, 0.06, 2)
        wave = rng.uniform(5, 25) * np.sin(fx * xx + fy * yy + rng.uniform(0, 6.3))
        pixels += wave[..., None] * rng.uniform(0.5, 1.5, 3)
    pixels += rng.normal(0, 1, (height, width, 3)).astype(np.float32) * rng.uniform(5, 9)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 0.7)))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=int(rng.integers(75, 92)))
    return buffer.getvalue()


def unique(jpeg: bytes, index: int) -> bytes:
    """``jpeg`` with a comment segment naming ``index`` after its start marker."""
    text = f"benchmark image {index}".encode()
    return jpeg[:2] + b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text + jpeg[2:]


def make_archive(path: Path, images: int, layout: str, seed: int = 0) -> dict[str, int]:
    """Write the archive; return counts of what was planted."""
    rng = np.random.default_rng(seed)
    pool = [draw(rng) for _ in range(DRAWN)]
    planted = {"empty": 0, "truncated": 0, "not-jpeg": 0, "extraneous-bytes": 0}
    total = 0
    # Level 1: the photos barely compress anyway, and generating stays quick.
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for i in range(images):
            label = ("cat", "dog")[i % 2]
            n = i // 2
            content = unique(pool[i % DRAWN], i)
            if i in (666, 11702):
                content, kind = b"", "empty"
            elif i % 2500 == 7:
                content, kind = content[: len(content) // 2], "truncated"
            elif i % 5000 == 9:
                buffer = io.BytesIO()
                Image.new("RGB", (300, 200), (90, 120, 30)).save(buffer, "PNG")
                content, kind = buffer.getvalue(), "not-jpeg"
            elif i % 1000 == 11:
                content, kind = content[:-2] + b"\x00" * 64 + content[-2:], "extraneous-bytes"
            else:
                kind = ""
            if kind:
                planted[kind] += 1
            total += len(content)
            if layout == "petimages":
                name = f"PetImages/{label.title()}/{n}.jpg"
            else:
                name = f"train/{label}.{n}.jpg"
            archive.writestr(name, content)
        if layout == "petimages":
            archive.writestr("PetImages/Cat/Thumbs.db", b"\xd0\xcf\x11\xe0" * 100)
            archive.writestr("readme[1].txt", b"benchmark archive\n")
    return {**planted, "mean_bytes": total // images}


def main() -> int:
    """Generate, prepare, prepare again; print the times."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", type=int, default=25_000, help="images in the archive")
    p.add_argument("--layout", choices=["kaggle-train", "petimages"], default="kaggle-train")
    p.add_argument("--workers", type=int, help="decoding processes (default: one per CPU)")
    args = p.parse_args()

    work = Path(tempfile.mkdtemp(prefix="benchmark-prepare-"))
    try:
        source = work / ("train.zip" if args.layout == "kaggle-train" else "PetImages.zip")
        started = time.perf_counter()
        planted = make_archive(source, args.images, args.layout)
        size_mb = source.stat().st_size / 1e6
        print(
            f"Generated {args.images:,} images ({args.layout}, mean {planted['mean_bytes']:,} "
            f"bytes, archive {size_mb:,.0f} MB) in {time.perf_counter() - started:.0f} s; "
            f"planted {planted}"
        )
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        print(
            f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {cpus} usable CPUs, load {os.getloadavg()}"
        )

        started = time.perf_counter()
        outcome = prepare.prepare(source, work / "data", workers=args.workers)
        seconds = time.perf_counter() - started
        for line in prepare.summary(outcome, limit=5):
            print(line)
        print(
            f"Preparation: {seconds:.1f} s for {args.images:,} images "
            f"({args.images / seconds:.0f} images/s); target under 300 s"
        )
        started = time.perf_counter()
        again = prepare.prepare(source, work / "data")
        assert again.already_prepared
        print(f"Second run ('already prepared'): {time.perf_counter() - started:.1f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
