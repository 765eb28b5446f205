"""The Article page: the blog study's ratios beside the same ratios measured here."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from bench import stats
from bench.report.scores import geekbench_scores, probe_scores
from bench.report.tables import Results, as_text
from bench.report.training import comparisons, format_ratio
from bench.results.model import SECTIONS, WORKLOAD_TITLES, as_float, differences


@dataclass(frozen=True)
class ArticleClaim:
    """One figure the article states, as the M1 Pro over the M1."""

    measure: str
    """A workload name or a probe section (``single_core``, ``multi_core``, ``gpu``)."""
    title: str
    ratio: float
    """M1 Pro over M1: times faster (training) or times higher (scores)."""
    stated: str
    """The article's own words, shortened."""


# The only numbers in the project that do not come from a results file: what the blog study
# "MacBook M1 vs M1 Pro for Data Science" (2021) states in its text, comparing a base M1 (8 GPU
# cores) with an M1 Pro (16 GPU cores). Geekbench rows are its Geekbench scores; training rows
# are its average seconds per epoch on the Dogs vs Cats images.
ARTICLE_BASELINE_CHIP = "Apple M1"


ARTICLE_CONTENDER_CHIP = "Apple M1 Pro"


ARTICLE_CLAIMS = (
    ArticleClaim(
        "single_core", "Single-core score", 1.0, "about equal; the M1 scored 13 points higher"
    ),
    ArticleClaim("multi_core", "Multi-core score", 1.60, "about 60 % higher on the M1 Pro"),
    ArticleClaim("gpu", "GPU (Metal) score", 1.95, "about 95 % higher on the M1 Pro"),
    ArticleClaim("cnn", WORKLOAD_TITLES["cnn"], 1.5, "1.5x faster on the M1 Pro"),
    ArticleClaim("cnn-aug", WORKLOAD_TITLES["cnn-aug"], 1.0, "almost identical"),
    ArticleClaim("vgg16", WORKLOAD_TITLES["vgg16"], 2.45, "2.45x faster on the M1 Pro"),
    ArticleClaim("vgg16-aug", WORKLOAD_TITLES["vgg16-aug"], 2.72, "2.72x faster on the M1 Pro"),
)


NOT_MEASURED = "not measured here yet"


def machines_with_chip(results: Results, chip: str) -> list[str]:
    """Slugs whose newest file names this Apple chip exactly (case and spaces ignored)."""
    wanted = " ".join(chip.lower().split())
    found = []
    for slug in results.machines:
        apple = results.newest(slug)["machine"].get("apple") or {}
        name = apple.get("chip")
        if isinstance(name, str) and " ".join(name.lower().split()) == wanted:
            found.append(slug)
    return found


def _article_scores(
    results: Results, claim: ArticleClaim, base: str, contender: str
) -> tuple[float, str] | None:
    """The ratio of reported Geekbench scores, else of probe scores; None when missing."""
    gb = geekbench_scores(results).set_index("machine")
    if base in gb.index and contender in gb.index:
        low, high = as_float(gb.at[base, claim.measure]), as_float(gb.at[contender, claim.measure])
        if math.isfinite(low) and math.isfinite(high) and low > 0:
            api = as_text(gb.at[contender, "gpu_api"]) if claim.measure == "gpu" else None
            points = f"; {high - low:+.0f} points" if claim.measure == "single_core" else ""
            version = as_text(gb.at[contender, "version"])
            source = f"Geekbench {version} scores reported with the results"
            return high / low, source + (f" ({api})" if api else "") + points
    scores = probe_scores(results).set_index(["machine", "section"])
    low = as_float(scores.at[(base, claim.measure), "score"])
    high = as_float(scores.at[(contender, claim.measure), "score"])
    if math.isfinite(low) and math.isfinite(high) and low > 0:
        return high / low, "benchbook's probe scores"
    return None


def _article_training(
    results: Results, claim: ArticleClaim, bases: Sequence[str], contenders: Sequence[str]
) -> tuple[stats.Interval, str] | str:
    """The training ratio, with its interval, from a comparable group with both chips, or why
    there is none."""
    candidates = [c for c in comparisons(results.epochs) if c.workload == claim.measure]
    for comparison in candidates:
        base = next((m for m in bases if m in comparison.machines), None)
        contender = next((m for m in contenders if m in comparison.machines), None)
        if base and contender:
            interval = comparison.ratio(base, contender)
            return interval, f"{contender} vs {base}, {comparison.describe()}"
    base_runs = [c for c in candidates if set(bases) & set(c.machines)]
    contender_runs = [c for c in candidates if set(contenders) & set(c.machines)]
    if base_runs and contender_runs:
        why = "; ".join(differences(base_runs[0].setting, contender_runs[0].setting))
        return f"the M1 and M1 Pro runs are not comparable ({why})"
    missing = ARTICLE_BASELINE_CHIP if not base_runs else ARTICLE_CONTENDER_CHIP
    return f"no {missing} run of this workload"


def article_comparison(results: Results) -> pd.DataFrame:
    """The article's ratios (M1 Pro over M1) beside the same ratios from the results here.

    Columns: ``measure``, ``title``, ``article`` (its words), ``article_ratio``,
    ``here_ratio``, ``here_low`` and ``here_high`` (the ratio and its 95 % bootstrap interval;
    NaN when not measured, the interval NaN for scores, which are single figures), ``here``
    (the verdict in `bench.readers.comparison`'s words, the score ratio, or `NOT_MEASURED`), ``source``
    (what the ratio here is made of, or why it is missing). With several machines of one chip,
    the first slug is used.
    """
    bases = machines_with_chip(results, ARTICLE_BASELINE_CHIP)
    contenders = machines_with_chip(results, ARTICLE_CONTENDER_CHIP)
    rows = []
    for claim in ARTICLE_CLAIMS:
        ratio, source, interval = math.nan, "", None
        if not bases or not contenders:
            missing = [c for c, m in ((ARTICLE_BASELINE_CHIP, bases),
                                      (ARTICLE_CONTENDER_CHIP, contenders)) if not m]  # fmt: skip
            source = f"no {' or '.join(missing)} results"
        elif claim.measure in SECTIONS:
            found = _article_scores(results, claim, bases[0], contenders[0])
            if found is None:
                source = "no scores for both chips"
            else:
                ratio, source = found
                source = f"{contenders[0]} vs {bases[0]}, {source}"
        else:
            outcome = _article_training(results, claim, bases, contenders)
            if isinstance(outcome, str):
                source = outcome
            else:
                interval, source = outcome
                ratio = interval.value
        if interval is not None:
            here, low, high = stats.verdict(interval), interval.low, interval.high
        else:
            here = format_ratio(ratio) if math.isfinite(ratio) else NOT_MEASURED
            low = high = math.nan
        rows.append(
            [claim.measure, claim.title, claim.stated, claim.ratio, ratio, low, high, here, source]
        )
    columns = ["measure", "title", "article", "article_ratio", "here_ratio", "here_low",
               "here_high", "here", "source"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)
