"""The probes' reference machine: the throughputs that turn probe measurements into
Geekbench-style scores. (The report's *baseline* is another idea: the machine its speed-up tables
divide by. Results files keep the key ``baseline_version`` for this module's `REFERENCE_VERSION`.)

A probe's score is ``1000 x throughput / reference throughput``; a section's score (single-core,
multi-core, GPU) is the geometric mean of its probe scores. Every section is scored against the
same single-core references, so a multi-core score of 2000 means twice one core of the reference
machine, and GPU scores say how many reference cores the accelerator is worth.

What the references are
-----------------------
The median single-core throughput of each probe in `bench.worker.probes`, at scale 1 (the work sizes
named in each probe's ``work`` field), measured with this code on the development machine: a
shared Linux VM with 2 vCPUs of an AMD EPYC processor, TensorFlow 2.18.1 (tensorflow-cpu, oneDNN
on), Keras 3.15.1, Python 3.11. That machine therefore scores about 1000 on every single-core
probe, and about 2000 multi-core where a probe uses both cores fully.

The numbers are a yardstick, not a target: they only need to stay fixed. Changing a value, or
changing a probe's work so that old throughputs mean something else, requires a new
`REFERENCE_VERSION`; scores made under different versions are never compared: the report scores
every stored physical throughput again under the current references (`rescore`).

Version history
---------------
1 (benchbook 0.1): the median of three single-core worker runs (`python -m bench.worker.probes
  --section single_core`, 2026-11-28) on the development machine described above, rounded to
  three figures. The three runs: matmul 111.3, 111.8, 110.4 GFLOP/s; conv2d 112.9, 111.7,
  112.9 GFLOP/s; jpeg_decode 998, 960, 924 images/s; augment 208, 200, 210 images/s.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from bench.errors import UserError

REFERENCE_VERSION = "1"

SCORE_SCALE = 1000.0
"""The score of a probe whose throughput equals its reference."""


class ScoringError(UserError):
    """Scores that would mix reference versions, or a probe the references do not know."""


@dataclass(frozen=True)
class ReferenceRate:
    """The reference throughput of one probe, in its physical unit."""

    throughput: float
    unit: str


@dataclass(frozen=True)
class ReferenceSet:
    """One versioned set of reference throughputs, keyed by probe name."""

    version: str
    probes: Mapping[str, ReferenceRate]
    source: str


CURRENT = ReferenceSet(
    version=REFERENCE_VERSION,
    probes=MappingProxyType(
        {
            # float32 2048x2048 matrix product, one thread.
            "matmul": ReferenceRate(throughput=111.0, unit="GFLOP/s"),
            # VGG-16 block3_conv2 forward (1x56x56x256, 3x3x256x256), one thread.
            "conv2d": ReferenceRate(throughput=113.0, unit="GFLOP/s"),
            # tf.io.decode_jpeg + tf.image.resize to 224x224 of 400x350 JPEGs, one thread.
            "jpeg_decode": ReferenceRate(throughput=960.0, unit="images/s"),
            # ImageDataGenerator.random_transform with the article's augmentation, one thread.
            "augment": ReferenceRate(throughput=208.0, unit="images/s"),
        }
    ),
    source=(
        "single-core medians measured with bench.worker.probes on a 2-vCPU AMD EPYC Linux VM, "
        "TensorFlow 2.18.1, Keras 3.15.1, Python 3.11"
    ),
)
"""The references new results are scored with."""


def probe_score(throughput: float, reference: float) -> float:
    """Score one throughput against its reference: ``1000 x throughput / reference``.

    Raises
    ------
    ValueError
        When either number is not finite and positive: a missing measurement has no score,
        never a zero one.
    """
    for what, value in (("throughput", throughput), ("reference", reference)):
        if not (math.isfinite(value) and value > 0):
            msg = f"{what} must be finite and positive, not {value!r}"
            raise ValueError(msg)
    return SCORE_SCALE * throughput / reference


def geometric_mean(scores: Iterable[float]) -> float:
    """The geometric mean of positive scores (how a section score combines its probes).

    Raises
    ------
    ValueError
        When there is no score or one is not finite and positive.
    """
    values = list(scores)
    if not values:
        msg = "the geometric mean of no scores is undefined"
        raise ValueError(msg)
    if not all(math.isfinite(v) and v > 0 for v in values):
        msg = f"scores must be finite and positive, not {values!r}"
        raise ValueError(msg)
    return math.exp(math.fsum(math.log(v) for v in values) / len(values))


def _reference_for(
    probe: Mapping[str, Any], section: str, references: ReferenceSet
) -> ReferenceRate:
    name = probe.get("name")
    found = references.probes.get(str(name))
    if found is None:
        msg = (
            f"probes/{section}: probe {name!r} has no reference in version {references.version}; "
            "upgrade benchbook (git pull) to score it"
        )
        raise ScoringError(msg)
    if probe.get("unit") != found.unit:
        msg = (
            f"probes/{section}/{name}: measured in {probe.get('unit')!r} but reference version "
            f"{references.version} is in {found.unit!r}; these cannot be scored together"
        )
        raise ScoringError(msg)
    return found


def rescore(block: Mapping[str, Any], references: ReferenceSet = CURRENT) -> dict[str, Any]:
    """Score a probes block's physical throughputs against ``references``.

    Returns a copy of ``block`` whose ``baseline_version``, per-probe ``baseline`` and ``score``
    and per-section ``score`` follow ``references``; the measurements are untouched. This is how
    results made under an older reference version become comparable with new ones.

    A section gets a score only when its status is ``ok`` (every probe measured): a geometric
    mean over a different set of probes would not be comparable.

    Raises
    ------
    ScoringError
        When a measured probe has no reference, or its unit differs from the reference's.
    """
    scored: dict[str, Any] = copy.deepcopy(dict(block))
    scored["baseline_version"] = references.version
    for section_name, section in scored.get("sections", {}).items():
        scores = []
        for probe in section.get("probes", []):
            value = probe.get("value")
            if probe.get("status") == "ok" and isinstance(value, int | float) and value > 0:
                reference = _reference_for(probe, section_name, references)
                probe["baseline"] = reference.throughput
                probe["score"] = probe_score(float(value), reference.throughput)
                scores.append(probe["score"])
            else:
                probe["baseline"] = None
                probe["score"] = None
        complete = (
            section.get("status") == "ok" and scores and len(scores) == len(section["probes"])
        )
        section["score"] = geometric_mean(scores) if complete else None
    return scored
