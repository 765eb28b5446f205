"""Per machine, once: everything any comparison of two machines needs (the Compare page's data).

A site with every pair of machines grows with the square of their number (about 4 GB at 1,000).
Instead each machine gets one small JSON file, written at build time, holding for each of its
configurations and workloads its pooled median (with the interval in words) and its seeded
bootstrap resamples (`bench.stats.resampled_medians`), and the same for each probe score; plus
one index of machines and configurations. The Compare page (`docs/_static/compare.js`) fetches
the index and the two machines a reader picks, and computes the ratio's interval as the same
percentiles of the same elementwise ratios as ``nox -s compare`` (`bench.stats.verdict` words
both). `pair_rows` is that computation in Python, tested against the CLI and against the script.

A configuration is what a reader thinks of as one run: every field of the comparability key but
the workload and the VGG-16 weights (`CONFIGURATION`), so one run's CNN (weights "none") and its
VGG-16 (weights "random") show together. A workload is compared only when both machines used
the same weights for it, as ``compare`` requires; otherwise its row says how the weights differ.

Resamples are stored compactly: the distinct values (exact JSON numbers), then each resample as
an index into them, packed into 0, 1, 2, 4, 8 or 16 bits and written in base64.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bench import stats
from bench.report import training
from bench.report.tables import Results, on_tensorflow
from bench.results import model
from bench.results.model import SECTION_TITLES, SECTIONS, WORKLOAD_TITLES
from bench.text import one_line, visible

CONFIGURATION = tuple(f for f in model.FIELDS if f not in {"workload", "weights"})
"""The fields of a configuration: the comparability key without the workload and weights."""
SCORES_ONLY = "scores"
"""The configuration of a pair whose machines share no configuration, only probe scores."""
SCORES_ONLY_TEXT = "probe scores only (no comparable training runs)"
FOLDER = "compare-data"
"""Where the site keeps the index and the machines' files."""
INDEX = "index.json"


def configuration_id(setting: Mapping[str, Any]) -> str:
    """A short, stable id of a setting's configuration, keyed on every field's value (two
    TensorFlow versions, or any other difference, are two ids)."""
    values = [str(setting[f]) for f in CONFIGURATION]
    return hashlib.sha256(json.dumps(values).encode("utf-8")).hexdigest()[:10]


def configuration_text(setting: Mapping[str, Any]) -> str:
    """A configuration in words (`model.describe` without the workload and weights); hidden
    characters a file's version strings may hold are shown as escapes."""
    return visible(model.describe(setting, leave_out=("weights",)))


def _label(label: str | None) -> str | None:
    return None if label is None else one_line(label)


def _seconds(interval: stats.Interval) -> str:
    return f"{interval.value:.3g} s (95 % CI {interval.low:.3g} to {interval.high:.3g})"


def _joules(interval: stats.Interval) -> str:
    return f"{interval.value:.3g} J (95 % CI {interval.low:.3g} to {interval.high:.3g})"


def _score(interval: stats.Interval, files: int) -> str:
    if files < 2:
        return f"{interval.value:,.0f} (1 file: no interval)"
    return f"{interval.value:,.0f} (95 % CI {interval.low:,.0f} to {interval.high:,.0f})"


# --- Compact resamples ---------------------------------------------------------------------------

_BITS = (0, 1, 2, 4, 8, 16)


def encode(resamples: npt.NDArray[np.float64]) -> dict[str, Any]:
    """``{"values": distinct values, "bits": b, "picks": base64}`` of a resample array."""
    values, picks = np.unique(np.asarray(resamples, dtype=float), return_inverse=True)
    bits = next((b for b in _BITS if (1 << b) >= len(values)), None)
    if bits is None:
        msg = f"{len(values)} distinct resampled values: more than 16-bit indices hold"
        raise ValueError(msg)
    if bits == 0:
        packed = b""
    elif bits == 16:
        packed = picks.astype("<u2").tobytes()
    else:
        per = 8 // bits
        padded = np.zeros(-(-len(picks) // per) * per, dtype=np.uint8)
        padded[: len(picks)] = picks
        shifts = (np.arange(per) * bits).astype(np.uint8)
        packed = np.bitwise_or.reduce(padded.reshape(-1, per) << shifts, axis=1).tobytes()
    return {
        "values": [float(v) for v in values],
        "bits": bits,
        "count": len(picks),
        "picks": base64.b64encode(packed).decode("ascii"),
    }


def decode(encoded: Mapping[str, Any]) -> npt.NDArray[np.float64]:
    """The resample array `encode` wrote."""
    values = np.asarray(encoded["values"], dtype=float)
    count, bits = int(encoded["count"]), int(encoded["bits"])
    raw = np.frombuffer(base64.b64decode(encoded["picks"]), dtype=np.uint8)
    if bits == 0:
        picks = np.zeros(count, dtype=np.intp)
    elif bits == 16:
        picks = raw.view("<u2").astype(np.intp)[:count]
    else:
        per = 8 // bits
        shifts = (np.arange(per) * bits).astype(np.uint8)
        picks = ((raw[:, None] >> shifts) & ((1 << bits) - 1)).reshape(-1)[:count]
    return values[picks]


# --- Per machine ---------------------------------------------------------------------------------


def _entry(groups: stats.Groups, text: str) -> dict[str, Any]:
    return {
        "median": stats.pooled_median(groups),
        "text": text,
        **encode(stats.resampled_medians(groups)),
    }


def _score_groups(results: Results) -> dict[tuple[str, str], list[list[float]]]:
    """Per (machine, section), each file's score as a one-value group, in file order."""
    sections = on_tensorflow(results.probe_sections)
    ok = sections[(sections["status"] == "ok") & sections["score"].notna()]
    ok = ok[np.isfinite(ok["score"].astype(float)) & (ok["score"].astype(float) > 0)]
    groups: dict[tuple[str, str], list[list[float]]] = {}
    ordered = ok.sort_values(["machine", "path"])
    for machine, section, score in zip(
        ordered["machine"], ordered["section"], ordered["score"].astype(float), strict=True
    ):
        groups.setdefault((str(machine), str(section)), []).append([float(score)])
    return groups


def machine_summaries(
    results: Results,
    comparisons: Iterable[training.Comparison] | None = None,
    intervals: dict[tuple[str, str, str, str], stats.Interval] | None = None,
    energy: dict[tuple[str, str, str, str], stats.Interval] | None = None,
) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """Configurations in words by id, and each machine's summary (its JSON file's content).

    ``comparisons`` are `training.comparisons` of the results, when the caller has them.
    ``intervals``, when given, receives each machine's median interval by (configuration id,
    workload, weights, machine), for the rankings (`rankings`) without a second bootstrap, and
    ``energy`` the same of its joules per epoch, where it has energy counters. A workload entry
    of a machine with counters holds its joules per epoch as an ``energy`` entry of its own.
    """
    configs: dict[str, str] = {}
    machines: dict[str, dict[str, Any]] = {
        slug: {
            "slug": slug,
            "label": _label(results.labels.get(slug)),
            "configs": {},
            "scores": {},
        }
        for slug in results.machines
    }
    if comparisons is None:
        comparisons = training.comparisons(results.epochs)
    for comparison in comparisons:
        config = configuration_id(comparison.setting)
        configs.setdefault(config, configuration_text(comparison.setting))
        for slug in comparison.machines:
            groups = comparison.groups(slug)
            if not groups:
                continue
            interval = stats.median_interval(groups)
            entry = _entry(groups, _seconds(interval))
            entry["weights"] = str(comparison.setting["weights"])
            key = (config, comparison.workload, entry["weights"], slug)
            if intervals is not None:
                intervals[key] = interval
            joules = comparison.joule_groups(slug)
            if joules:
                spread = stats.median_interval(joules)
                entry["energy"] = _entry(joules, _joules(spread))
                if energy is not None:
                    energy[key] = spread
            workloads = machines[slug]["configs"].setdefault(config, {})
            workloads.setdefault(comparison.workload, []).append(entry)
    for (slug, section), scores in _score_groups(results).items():
        text = _score(stats.median_interval(scores), len(scores))
        machines[slug]["scores"][section] = {**_entry(scores, text), "files": len(scores)}
    return configs, machines


def index(configs: Mapping[str, str], machines: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The Compare page's index: configurations, titles, and per machine its slug, label,
    configuration ids and whether it has probe scores."""
    return {
        "configs": {**configs, SCORES_ONLY: SCORES_ONLY_TEXT},
        "workloads": [[w, WORKLOAD_TITLES.get(w, w)] for w in WORKLOAD_TITLES],
        "sections": [[s, f"{SECTION_TITLES.get(s, s)} score"] for s in SECTIONS],
        "machines": [
            [slug, m["label"], sorted(m["configs"]), bool(m["scores"])]
            for slug, m in sorted(machines.items())
        ],
    }


def _dump(data: Any) -> str:
    return json.dumps(data, ensure_ascii=True, separators=(",", ":"), sort_keys=True)


RANKINGS = "rankings.json"


def _short(x: float) -> float:
    """Four significant digits: what the page shows, in a quarter of the characters."""
    return float(f"{x:.4g}")


def _ranks(values: Mapping[str, float]) -> dict[str, int]:
    """Each slug's rank by ``values``, smallest first; equal values share a rank."""
    ordered = sorted(values.items(), key=lambda item: (item[1], item[0]))
    ranks: dict[str, int] = {}
    for position, (slug, value) in enumerate(ordered):
        if position == 0 or value > ordered[position - 1][1]:
            rank = position + 1
        ranks[slug] = rank
    return ranks


def rankings(
    results: Results,
    configs: Mapping[str, str],
    intervals: Mapping[tuple[str, str, str, str], stats.Interval],
    energy: Mapping[tuple[str, str, str, str], stats.Interval] | None = None,
) -> dict[str, Any]:
    """The Rankings page's data: per machine and setting its median with interval and its rank
    among the machines of that setting (1st the fastest), its joules per epoch with interval and
    its rank among the machines of that setting with energy counters (1st the most efficient:
    the same work for the fewest joules; null where it has none), with what the page filters on
    (family, operating system, accelerator), in one file that grows linearly."""
    energy = energy or {}
    newest = {m: results.newest(m)["machine"] for m in results.machines}
    runs = results.runs[results.runs["status"] == "ok"]
    accelerator = {
        m: "GPU" if model.on_gpu(frame["device"].dropna()) else "CPU"
        for m, frame in runs.groupby("machine")
    }
    groups: dict[tuple[str, str, str], dict[str, stats.Interval]] = {}
    for (config, workload, weights, slug), interval in intervals.items():
        groups.setdefault((config, workload, weights), {})[slug] = interval
    rows = []
    for (config, workload, weights), found in groups.items():
        ranks = _ranks({slug: interval.value for slug, interval in found.items()})
        joules = {
            slug: spread
            for slug in found
            if (spread := energy.get((config, workload, weights, slug))) is not None
        }
        efficient = _ranks({slug: spread.value for slug, spread in joules.items()})
        for slug, interval in found.items():
            machine = newest[slug]
            spread = joules.get(slug)
            rows.append([slug, config, workload, weights, _short(interval.value),
                         _short(interval.low), _short(interval.high), ranks[slug], len(found),
                         *((_short(spread.value), _short(spread.low), _short(spread.high),
                            efficient[slug], len(joules)) if spread else (None,) * 5),
                         model.hardware_family(machine), one_line(machine["os"]["system"]),
                         accelerator.get(slug, "CPU")])  # fmt: skip
    labels = {slug: _label(results.labels.get(slug)) for slug in results.machines}
    return {
        "columns": [
            "machine",
            "config",
            "workload",
            "weights",
            "median_s",
            "low_s",
            "high_s",
            "rank",
            "of",
            "median_j",
            "low_j",
            "high_j",
            "rank_j",
            "of_j",
            "family",
            "os",
            "accelerator",
        ],
        "configs": dict(configs),
        "workloads": [[w, WORKLOAD_TITLES.get(w, w)] for w in WORKLOAD_TITLES],
        "labels": labels,
        "rows": sorted(rows, key=lambda r: (r[1], r[2], r[3], r[7], r[0])),
    }


def write(results: Results, folder: Path, comparisons: Iterable[training.Comparison] | None = None,
          ) -> Path:  # fmt: skip
    """Write ``folder/compare-data/``; its path.

    ``index.json``, ``rankings.json`` (the Rankings page); per machine ``m/<slug>.json`` (its label, configuration ids and scores) and
    per configuration ``c/<slug>/<id>.json`` (its workloads), so a comparison fetches the index
    and four small files, however many configurations a machine has run.
    """
    intervals: dict[tuple[str, str, str, str], stats.Interval] = {}
    energy: dict[tuple[str, str, str, str], stats.Interval] = {}
    configs, machines = machine_summaries(results, comparisons, intervals, energy)
    out = folder / FOLDER
    (out / "m").mkdir(parents=True, exist_ok=True)
    (out / INDEX).write_text(_dump(index(configs, machines)), encoding="utf-8")
    rankings_data = rankings(results, configs, intervals, energy)
    (out / RANKINGS).write_text(_dump(rankings_data), encoding="utf-8")
    for slug, summary in machines.items():
        head = {**summary, "configs": sorted(summary["configs"])}
        (out / "m" / f"{slug}.json").write_text(_dump(head), encoding="utf-8")
        if summary["configs"]:
            (out / "c" / slug).mkdir(parents=True)
        for config, workloads in summary["configs"].items():
            (out / "c" / slug / f"{config}.json").write_text(_dump(workloads), encoding="utf-8")
    return out


def read(folder: Path, slug: str, config: str) -> dict[str, Any]:
    """A machine's summary as the page assembles it from ``write``'s files: the head, with
    ``configs`` holding only ``config``'s workloads (none for `SCORES_ONLY`)."""
    head = json.loads((folder / "m" / f"{slug}.json").read_text(encoding="utf-8"))
    workloads = {}
    if config != SCORES_ONLY and config in head["configs"]:
        path = folder / "c" / slug / f"{config}.json"
        workloads = {config: json.loads(path.read_text(encoding="utf-8"))}
    return {**head, "configs": workloads}


# --- A pair, as the page computes it -------------------------------------------------------------


def _ratio(base: Mapping[str, Any], other: Mapping[str, Any]) -> stats.Interval:
    return stats.ratio_from_resamples(
        float(base["median"]), decode(base), float(other["median"]), decode(other)
    )


def score_verdict(a: Mapping[str, Any], b: Mapping[str, Any]) -> str:
    """B's score against A's (a score is a rate: B's over A's is B's speed-up); with a single
    file on either side there is no spread to resample, so no interval."""
    ratio = _ratio(b, a)
    if min(int(a["files"]), int(b["files"])) < 2:
        way = "faster" if ratio.value >= 1 else "slower"
        factor = ratio.value if ratio.value >= 1 else _inverse(ratio.value)
        return f"{factor:.2f}x {way} (a single file on one side: no interval)"
    return stats.verdict(ratio)


def _inverse(x: float) -> float:
    return math.inf if x == 0 else 1 / x


def pair_rows(
    a: Mapping[str, Any], b: Mapping[str, Any], config: str, index_data: Mapping[str, Any]
) -> list[list[str]]:
    """The Compare page's table for machines ``a`` and ``b`` (their summaries) in ``config``:
    ``[name, A's median, B's median, B vs A]`` per workload, then per probe score."""
    rows: list[list[str]] = []
    if config != SCORES_ONLY:
        mine, theirs = a["configs"].get(config, {}), b["configs"].get(config, {})
        for workload, title in index_data["workloads"]:
            if workload not in mine or workload not in theirs:
                continue
            matched = False
            for x in mine[workload]:
                for y in theirs[workload]:
                    if x["weights"] == y["weights"]:
                        matched = True
                        name = title
                        if len(mine[workload]) > 1 or len(theirs[workload]) > 1:
                            name += f" (weights {x['weights']})"
                        rows.append([name, x["text"], y["text"], stats.verdict(_ratio(x, y))])
                        if "energy" in x and "energy" in y:
                            ex, ey = x["energy"], y["energy"]
                            verdict = stats.energy_verdict(_ratio(ex, ey))
                            rows.append([f"{name}, energy per epoch", ex["text"], ey["text"],
                                         verdict])  # fmt: skip
            if not matched:
                rows.append(
                    [
                        title,
                        x["text"],
                        y["text"],
                        "not compared: VGG-16 weights "
                        + "/".join(e["weights"] for e in mine[workload])
                        + " vs "
                        + "/".join(e["weights"] for e in theirs[workload]),
                    ]
                )
    for section, title in index_data["sections"]:
        sa, sb = a["scores"].get(section), b["scores"].get(section)
        if sa and sb:
            rows.append([title, sa["text"], sb["text"], score_verdict(sa, sb)])
    return rows


def score_groups_verdict(a: Sequence[Sequence[float]], b: Sequence[Sequence[float]]) -> str:
    """`score_verdict` of two sides' score groups (one value per file), as the Compare page
    words it."""
    return score_verdict({**_entry(a, ""), "files": len(a)}, {**_entry(b, ""), "files": len(b)})
