"""The Compare page: any two machines side by side, every comparable pair computed at build time.

For each ordered pair of machines (A, B) and each configuration both ran (every field of the
comparability key but the workload), each workload gets both medians with their 95 % intervals
and B's speed against A: `training.Comparison.ratio`, the figure and interval ``nox -s compare
A B`` prints, worded by `bench.stats.verdict`. Each probe score (single-core, multi-core, GPU)
both machines have gets the same: medians over files, the ratio of B's score to A's with its
bootstrap interval (a higher score is faster).

The page only chooses among these rows (`docs/_static/compare.js`, a static site with no server);
the choice is kept in the URL (``compare.html?a=SLUG&b=SLUG&config=ID``). The rows reach the
page as JSON inside a ``<script type="application/json">`` element, with ``<``, ``>`` and ``&``
written as ``\\u`` escapes so no text from a results file can close the element; the script sets
them as text, never as markup. With JavaScript off the page shows every pair in one table.
"""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from bench import stats
from bench.report import markup, training
from bench.report.tables import SECTION_TITLES, SECTIONS, WORKLOAD_TITLES, Results, on_tensorflow
from bench.results import model

SCORES_ONLY = "scores"
"""The configuration of a pair whose machines share no comparable training runs, only scores."""


def configuration_id(setting: Mapping[str, Any]) -> str:
    """A short, stable id of a configuration (the key without the workload), for the URL."""
    return hashlib.sha256(model.describe(setting).encode("utf-8")).hexdigest()[:8]


@dataclass(frozen=True)
class Row:
    """One line of a pair's table: a workload or a probe score."""

    name: str
    a: str
    """A's median with its interval, in words."""
    b: str
    verdict: str
    """B against A (`bench.stats.verdict`)."""

    def cells(self) -> list[str]:
        return [self.name, self.a, self.b, self.verdict]


@dataclass
class Pairs:
    """Every comparable pair of machines: what the Compare page chooses among."""

    labels: dict[str, str | None]
    """Machine slug to its label (the newest file's), for every machine of the report."""
    configs: dict[str, str] = field(default_factory=dict)
    """Configuration id to the configuration in words."""
    rows: dict[tuple[str, str, str], list[Row]] = field(default_factory=dict)
    """``(A, B, configuration id)`` to the rows of that table, workloads first."""

    def machines(self) -> list[str]:
        """Machines that appear in any pair, sorted."""
        return sorted({a for a, _, _ in self.rows} | {b for _, b, _ in self.rows})

    def data(self) -> dict[str, Any]:
        """The page's JSON: labels, configurations and ``pairs[a][b][config]`` rows."""
        pairs: dict[str, dict[str, dict[str, list[list[str]]]]] = {}
        for (a, b, config), rows in sorted(self.rows.items()):
            pairs.setdefault(a, {}).setdefault(b, {})[config] = [r.cells() for r in rows]
        return {
            "labels": {m: self.labels.get(m) for m in self.machines()},
            "configs": self.configs,
            "pairs": pairs,
        }


def _seconds(interval: stats.Interval) -> str:
    return f"{interval.value:.3g} s (95 % CI {interval.low:.3g} to {interval.high:.3g})"


def _score(interval: stats.Interval, files: int) -> str:
    if files < 2:
        return f"{interval.value:,.0f} (1 file: no interval)"
    return f"{interval.value:,.0f} (95 % CI {interval.low:,.0f} to {interval.high:,.0f})"


def score_verdict(a: list[list[float]], b: list[list[float]]) -> str:
    """B's score against A's in `bench.stats.verdict`'s words; with a single file on either
    side there is no spread to resample, so the ratio is given without an interval."""
    ratio = stats.ratio_interval(b, a)  # a score is a rate: B's over A's is B's speed-up
    if min(len(a), len(b)) < 2:
        way = "faster" if ratio.value >= 1 else "slower"
        factor = ratio.value if ratio.value >= 1 else 1 / ratio.value
        return f"{factor:.2f}x {way} (a single file on one side: no interval)"
    return stats.verdict(ratio)


def _score_groups(results: Results) -> dict[tuple[str, str], list[list[float]]]:
    """Per (machine, section), each file's score as a one-value group, in file order."""
    sections = on_tensorflow(results.probe_sections)
    ok = sections[(sections["status"] == "ok") & sections["score"].notna()]
    groups: dict[tuple[str, str], list[list[float]]] = {}
    ordered = ok.sort_values(["machine", "path"])
    for machine, section, score in zip(
        ordered["machine"], ordered["section"], ordered["score"].astype(float), strict=True
    ):
        groups.setdefault((str(machine), str(section)), []).append([float(score)])
    return groups


def _ordered(machines: list[str]) -> Iterator[tuple[str, str]]:
    return ((a, b) for a in machines for b in machines if a != b)


def all_pairs(results: Results, comparisons: Sequence[training.Comparison] | None = None) -> Pairs:
    """Every comparable pair of the report's machines, both ways round.

    ``comparisons`` are `training.comparisons` of the results, when the caller has them.
    """
    found = Pairs(dict(results.labels))
    if comparisons is None:
        comparisons = training.comparisons(results.epochs)
    for comparison in comparisons:
        config = configuration_id(comparison.setting)
        found.configs.setdefault(config, comparison.describe())
        title = WORKLOAD_TITLES.get(comparison.workload, comparison.workload)
        for a, b in _ordered(comparison.machines):
            ratio = comparison.ratio(a, b)
            found.rows.setdefault((a, b, config), []).append(
                Row(
                    title,
                    _seconds(stats.median_interval(comparison.groups(a))),
                    _seconds(stats.median_interval(comparison.groups(b))),
                    stats.verdict(ratio),
                )
            )
    configs: dict[tuple[str, str], list[str]] = {}
    for a, b, config in found.rows:
        configs.setdefault((a, b), []).append(config)
    scores = _score_groups(results)
    for a, b in _ordered(sorted({m for m, _ in scores})):
        rows = []
        for section in SECTIONS:
            ga, gb = scores.get((a, section)), scores.get((b, section))
            if ga and gb:
                rows.append(
                    Row(
                        f"{SECTION_TITLES.get(section, section)} score",
                        _score(stats.median_interval(ga), len(ga)),
                        _score(stats.median_interval(gb), len(gb)),
                        score_verdict(ga, gb),
                    )
                )
        if not rows:
            continue
        if (a, b) not in configs:
            found.configs.setdefault(SCORES_ONLY, "probe scores only (no comparable training runs)")
            found.rows[(a, b, SCORES_ONLY)] = rows
        for config in configs.get((a, b), []):
            found.rows[(a, b, config)].extend(rows)
    return found


def full_table(pairs: Pairs) -> pd.DataFrame:
    """Every pair once (A before B in name order), for readers without JavaScript."""
    columns = ["Machine A", "Machine B", "Configuration", "Workload or score", "A: median",
               "B: median", "B vs A"]  # fmt: skip
    rows = [
        [a, b, pairs.configs[config], *row.cells()]
        for (a, b, config), found in sorted(pairs.rows.items())
        if a < b
        for row in found
    ]
    return pd.DataFrame(rows, columns=columns)


def _json_for_html(data: Any) -> str:
    """JSON that cannot end a ``<script>`` element or open a comment inside one."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"), sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def picker_html(pairs: Pairs) -> str:
    """The picker (hidden until `compare.js` fills it), its empty table and the rows as JSON."""
    head = "".join(
        f"<th>{html.escape(c)}</th>"
        for c in ("Workload or score", "A: median", "B: median", "B vs A")
    )
    return (
        "<div id='benchbook-compare' class='benchbook-compare' hidden>"
        "<form class='benchbook-compare-form'>"
        "<label>Machine A <select name='a'></select></label> "
        "<label>Machine B <select name='b'></select></label> "
        "<label>Configuration <select name='config'></select></label>"
        "</form>"
        "<p class='benchbook-compare-heading' aria-live='polite'></p>"
        "<div class='benchbook-table-wrap'><table class='benchbook-table' "
        f"id='benchbook-compare-table'><thead><tr>{head}</tr></thead><tbody></tbody></table>"
        "</div>"
        "<p><a class='benchbook-compare-link' href=''>Link to this comparison</a></p>"
        f"<script type='application/json' id='benchbook-pairs'>{_json_for_html(pairs.data())}"
        "</script></div>"
    )


PICKER = "compare-picker.html"
ALL = "compare-all.html"
"""The two fragments docs/compare.md includes (``{raw} html`` with ``:file:``)."""


def write_fragments(pairs: Pairs, folder: Path) -> None:
    """Write the Compare page's picker and full table into ``folder`` (machine names in the
    full table link to their pages: register them with `markup.link_machines` first)."""
    (folder / PICKER).write_text(picker_html(pairs), encoding="utf-8")
    table = full_table(pairs)
    text = (
        markup.table_html(table)
        if not table.empty
        else "<p>No two machines have comparable runs or scores yet.</p>"
    )
    (folder / ALL).write_text(
        "<div class='benchbook-compare-all' id='benchbook-compare-all'>"
        f"<p>Every comparable pair, A before B in name order:</p>{text}</div>",
        encoding="utf-8",
    )
