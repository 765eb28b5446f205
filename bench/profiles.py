"""Run profiles: how big a run is.

- ``smoke``: all four workloads in well under a minute on a 2-core CPU; tiny images. The tests
  use it. Its timings say nothing about a machine.
- ``quick`` (default): the article's 224x224 images and batch 64, 3 epochs (the first is warm-up,
  so 2 are measured), on a 512-image synthetic stand-in: about 10 minutes on a 2-core CPU,
  minutes on a laptop.
- ``medium``: as ``quick``, on a 2,048-image stand-in (32 batches per epoch instead of 6), so that
  an epoch is long enough for an input pipeline to reach its steady rate: the profile for
  comparing pipelines (``--pipeline``) without the real images. About 2 minutes per CNN workload
  and 16 per VGG-16 workload on a 2-core CPU.
- ``full``: the article's setting, 5 epochs on the prepared Kaggle Dogs vs Cats images.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.workloads import BATCH_SIZE, IMAGE_SIZE


@dataclass(frozen=True)
class Profile:
    """Sizes of a run."""

    name: str
    image_size: int
    batch_size: int
    epochs: int
    # Synthetic stand-in images per class; None: the profile needs the prepared real dataset.
    train_per_class: int | None
    validation_per_class: int | None


PROFILES = {
    "smoke": Profile(
        "smoke", image_size=64, batch_size=16, epochs=2, train_per_class=16, validation_per_class=8
    ),
    "quick": Profile(
        "quick",
        image_size=IMAGE_SIZE,
        batch_size=BATCH_SIZE,
        epochs=3,
        train_per_class=192,
        validation_per_class=64,
    ),
    "medium": Profile(
        "medium",
        image_size=IMAGE_SIZE,
        batch_size=BATCH_SIZE,
        epochs=3,
        train_per_class=1024,
        validation_per_class=64,
    ),
    "full": Profile(
        "full",
        image_size=IMAGE_SIZE,
        batch_size=BATCH_SIZE,
        epochs=5,
        train_per_class=None,
        validation_per_class=None,
    ),
}
DEFAULT_PROFILE = "quick"
