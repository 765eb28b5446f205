"""Presentation helpers for the report pages: escaped text, HTML tables, the schema reference.

Text from results files (machine labels, error messages, anything a contributor typed) is
untrusted: it reaches a page only through `escape_markdown` or `table`, so a file cannot inject
HTML, script or MyST markup into the site.
"""

from __future__ import annotations

import html
import re
import string
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from bench import analysis, results, stats

_PUNCTUATION = frozenset(string.punctuation)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def _display(kind: str, data: str) -> Any:
    """An IPython display object (``Markdown`` or ``HTML``); IPython ships no type hints."""
    import IPython.display

    return getattr(IPython.display, kind)(data)


def one_line(text: object) -> str:
    """``text`` as a single line: control characters and line breaks become single spaces."""
    return " ".join(_CONTROL.sub(" ", str(text)).split())


def escape_markdown(text: object) -> str:
    """Untrusted text as inert Markdown: one line, every ASCII punctuation mark escaped.

    CommonMark (and MyST) let a backslash escape any ASCII punctuation, which turns HTML tags,
    roles, links and emphasis into the literal characters; Sphinx then HTML-escapes them.
    """
    return "".join("\\" + c if c in _PUNCTUATION else c for c in one_line(text))


def glue_text(name: str, text: object) -> None:
    """Glue untrusted text for ``{glue:md}`name``` in the page, escaped."""
    from myst_nb import glue

    glue(name, _display("Markdown", escape_markdown(text)), display=False)


def glue_markdown(name: str, markdown: str) -> None:
    """Glue Markdown written by the page itself (its untrusted parts already escaped)."""
    from myst_nb import glue

    glue(name, _display("Markdown", markdown), display=False)


def bullet_list(lines: Sequence[object]) -> str:
    """Untrusted lines as an escaped Markdown bullet list."""
    return "\n".join(f"- {escape_markdown(line)}" for line in lines)


def table_html(frame: pd.DataFrame, *, index: bool = False, caption: str | None = None) -> str:
    """An HTML table with every cell, header and the caption escaped; NaN shows as an em dash."""
    body = frame.to_html(
        escape=True, index=index, na_rep="\u2014", border=0, classes=["benchbook-table"]
    )
    head = (
        f"<p class='benchbook-table-caption'>{html.escape(one_line(caption))}</p>"
        if caption
        else ""
    )
    return f"<div class='benchbook-table-wrap'>{head}{body}</div>"


def table(frame: pd.DataFrame, *, index: bool = False, caption: str | None = None) -> Any:
    """`table_html` as an IPython display object, for the last line of a page cell."""
    return _display("HTML", table_html(frame, index=index, caption=caption))


NO_RESULTS = (
    "There are no results yet. Run `nox -s bench` on a machine to produce a file in "
    "`results/<machine>/`, then `nox -s docs` to rebuild this report "
    "(see [Reproduce and contribute](reproduce.md))."
)


def markdown(text: str) -> Any:
    """Markdown written by the page (untrusted parts already escaped) as a display object."""
    return _display("Markdown", text)


def note(markdown: str, kind: str = "note") -> Any:
    """A MyST admonition (``note``, ``important``...) as a display object; trusted Markdown."""
    return _display("Markdown", f"```{{{kind}}}\n{markdown}\n```\n")


def _seconds(value: float) -> str:
    return f"{value:.1f} s"


def training_table(comparison: analysis.Comparison, baseline: str) -> pd.DataFrame:
    """The numbers behind a training chart, formatted, one row per machine, fastest first."""
    summary = analysis.summarise(comparison)
    ratios = analysis.speedups(comparison, baseline)
    return pd.DataFrame(
        {
            "Machine": summary["machine"],
            "Median s/epoch": summary["median_epoch_s"].map(_seconds),
            "Middle half (IQR)": [
                f"{lo:.1f} to {hi:.1f} s"
                for lo, hi in zip(summary["low_epoch_s"], summary["high_epoch_s"], strict=True)
            ],
            "Fastest to slowest": [
                f"{lo:.1f} to {hi:.1f} s"
                for lo, hi in zip(summary["min_epoch_s"], summary["max_epoch_s"], strict=True)
            ],
            "Images/s": summary["median_images_per_s"].map(lambda v: f"{v:,.1f}"),
            f"vs {baseline}": [analysis.speedup_verdict(ratios.get(m)) for m in summary["machine"]],
            "Measured epochs": summary["measured_epochs"],
            "Runs": summary["repeats"],
            "Noisy runs": summary["noisy_runs"],
            "Device": summary["device"],
        }
    )


def speedup_display(table: pd.DataFrame, baselines: dict[str, str], baseline: str) -> pd.DataFrame:
    """`analysis.speedup_table` in `bench.compare`'s words (``1.52x faster, 95 % CI 1.47 to
    1.58``, ``no clear difference (...)``), baselines in the headers."""
    shown = pd.DataFrame(index=table.index)
    for workload in table.columns:
        ran = {m for m, v in table[workload].items() if v is None or isinstance(v, stats.Interval)}
        header = analysis.WORKLOAD_TITLES.get(workload, workload)
        if baselines[workload] != baseline:
            header += f" (vs {baselines[workload]})"
        shown[header] = [
            analysis.speedup_verdict(value) if machine in ran else "\u2014"
            for machine, value in table[workload].items()
        ]
    return shown.reset_index().rename(columns={"machine": "Machine"})


def scores_table(scores: pd.DataFrame, geekbench: pd.DataFrame) -> pd.DataFrame:
    """Probe scores beside reported Geekbench scores, machine by machine.

    A section that did not run shows its status and reason, never a zero.
    """
    gb = geekbench.set_index("machine")
    rows = []
    for machine, frame in scores.groupby("machine", sort=True):
        row: dict[str, Any] = {"Machine": machine}
        for r in frame.itertuples():
            title = analysis.SECTION_TITLES[str(r.section)]
            if r.status == "ok":
                row[f"{title} (probes)"] = f"{r.score:,.0f}"
            else:
                reason = f": {r.reason}" if isinstance(r.reason, str) and r.reason else ""
                row[f"{title} (probes)"] = f"{r.status}{reason}"
            reported: Any = gb.at[machine, r.section] if machine in gb.index else float("nan")
            row[f"{title} (Geekbench)"] = (
                f"{reported:,.0f}" if pd.notna(reported) else "not reported"
            )
        rows.append(row)
    return pd.DataFrame(rows)


def _rate(value: float) -> str:
    return f"{value:,.1f}" if pd.notna(value) else "\u2014"


def bottleneck_display(rows: pd.DataFrame) -> pd.DataFrame:
    """`analysis.bottleneck_table` rows as the report shows them, one per configuration.

    Configurations without the measurement say ``not measured`` (or ``failed``), never zero.
    """
    return pd.DataFrame(
        {
            "Configuration": [analysis.configuration_label(r) for r in rows.to_dict("records")],
            "Input only (img/s)": rows["input_images_per_s"].map(_rate),
            "Compute only (img/s)": rows["compute_images_per_s"].map(_rate),
            "End to end (img/s)": rows["end_to_end_images_per_s"].map(_rate),
            "Input wait": rows["input_wait_share"].map(
                lambda v: f"{v:.0%}" if pd.notna(v) else "\u2014"
            ),
            "Verdict": [
                r["verdict"] if r["attribution"] == "measured" else r["attribution"]
                for r in rows.to_dict("records")
            ],
            "Runs (measured)": [
                f"{r['runs']} ({r['measured_runs']})" for r in rows.to_dict("records")
            ],
        }
    )


def scaling_display(table: pd.DataFrame) -> pd.DataFrame:
    """`analysis.thread_scaling` as a table: images/s per thread count."""
    return pd.DataFrame(
        {
            "Workload": table["workload"].map(lambda w: analysis.WORKLOAD_TITLES.get(w, w)),
            "Machine": table["machine"],
            "Pipeline": table["pipeline"].map(analysis.PIPELINE_TITLES).fillna(table["pipeline"]),
            "Setting": table["setting"],
            "Threads": table["threads"],
            "Images/s (median)": table["images_per_s"].map(_rate),
            "Measured epochs": table["epochs"],
        }
    )


def format_history(history: Sequence[results.FormatVersion]) -> str:
    """The format history (`bench.results.FORMAT_HISTORY`) as Markdown: one item per version,
    its changes nested under it."""
    lines = []
    for version in history:
        lines.append(
            f"- **Version {version.number}** (benchbook {version.benchbook}): {version.summary}"
        )
        lines.extend(f"  - {change}" for change in version.changes)
    return "\n".join(lines) + "\n"


# --- The schema reference (Results format page) -----------------------------------------------


def _cell(text: str) -> str:
    """Project-written Markdown (from the schema file) made safe for one table cell."""
    return one_line(text).replace("|", "\\|")


def _anchor(name: str) -> str:
    return "schema-" + name.replace("_", "-")


def _type_of(node: Mapping[str, Any], defs: Mapping[str, Any], inline: str = "") -> str:
    """The type of a schema node in words, linking to the definition it refers to.

    ``inline`` names an object defined in place (``machine.os``), which gets its own table.
    """
    if "$ref" in node:
        name = str(node["$ref"]).rsplit("/", 1)[-1]
        target = name if "properties" in defs.get(name, {}) else "value-types"
        return f"[{name}](#{_anchor(target)})"
    if "const" in node:
        return f"`{node['const']!r}`"
    if "enum" in node:
        return "one of " + ", ".join(f"`{v}`" for v in node["enum"])
    kinds = node.get("type", "any")
    words = " or ".join(kinds) if isinstance(kinds, list) else str(kinds)
    if inline and "properties" in node:
        words += f" ([{inline}](#{_anchor(inline.replace('.', '-'))}))"
    elif "items" in node and isinstance(node["items"], Mapping):
        words += " of " + _type_of(node["items"], defs)
    elif isinstance(node.get("additionalProperties"), Mapping):
        words += " of " + _type_of(node["additionalProperties"], defs)
    return words


def _limits(node: Mapping[str, Any]) -> str:
    parts = []
    for key, word in (
        ("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="),
        ("exclusiveMaximum", "<"), ("maxLength", "length <="), ("minItems", "items >="),
        ("maxItems", "items <="), ("pattern", "matches"),
    ):  # fmt: skip
        if key in node:
            value = node[key]
            parts.append(f"{word} `{value}`" if key == "pattern" else f"{word} {value:g}")
    return ", ".join(parts)


def _object_section(
    name: str | None, node: Mapping[str, Any], defs: Mapping[str, Any]
) -> list[str]:
    """A rubric, the description and the field table of one object, then its inline objects."""
    title = name or "Top level"
    lines = [""]
    if name:
        lines.append(f"({_anchor(name.replace('.', '-'))})=")
    lines += [f"```{{rubric}} {title}", "```", ""]
    if node.get("description"):
        lines += [_cell(node["description"]), ""]
    required = set(node.get("required", []))
    lines += ["| Field | Type | Required | Limits | Description |", "|---|---|---|---|---|"]
    nested = []
    for field, sub in node.get("properties", {}).items():
        path = f"{name}.{field}" if name else field
        if "properties" in sub:
            nested.append((path, sub))
        kind = _type_of(sub, defs, inline=path)
        lines.append(
            f"| `{field}` | {_cell(kind)} | {'yes' if field in required else 'no'} "
            f"| {_cell(_limits(sub))} | {_cell(sub.get('description', ''))} |"
        )
    if node.get("additionalProperties", True) is False:
        lines += ["", "No other fields are allowed."]
    for path, sub in nested:
        lines += _object_section(path, {**sub, "description": ""}, defs)
    return lines


def schema_markdown(schema: Mapping[str, Any]) -> str:
    """A Markdown reference of a JSON Schema: the top level, each object, then value types.

    Sections are rubrics (headings outside the table of contents) with link targets, so the
    text can be pasted into a page under a heading of its own. The schema is project-written
    (not contributor data), so its descriptions keep their Markdown (code spans); only table
    pipes are escaped.
    """
    defs: Mapping[str, Any] = schema.get("$defs", {})
    out = _object_section(None, schema, defs)
    for name, node in defs.items():
        if "properties" in node:
            out += _object_section(name, node, defs)
    out += ["", f"({_anchor('value-types')})=", "```{rubric} Value types", "```", ""]
    out += ["| Name | Type | Limits | Description |", "|---|---|---|---|"]
    for name, node in defs.items():
        if "properties" not in node:
            out.append(
                f"| `{name}` | {_cell(_type_of(node, defs))} | {_cell(_limits(node))} "
                f"| {_cell(node.get('description', ''))} |"
            )
    return "\n".join(out) + "\n"


def utilisation_display(use: pd.DataFrame) -> pd.DataFrame:
    """`bench.utilisation.utilisation` formatted, one row per machine and configuration."""
    return pd.DataFrame(
        {
            "Machine": use["machine"],
            "Workload": use["workload"].map(lambda w: analysis.WORKLOAD_TITLES.get(w, w)),
            "Setting": use["setting"],
            "Device": use["device"],
            "Runs": use["runs"],
            "GFLOP per image": use["gflop_per_image"].map(lambda v: f"{v:,.2f}"),
            "Images/s": use["images_per_s"].map(lambda v: f"{v:,.1f}"),
            "Achieved GFLOP/s": use["achieved_gflops"].map(lambda v: f"{v:,.0f}"),
            "Peak (matmul probe)": [
                f"{p:,.0f} GFLOP/s ({kind})" if pd.notna(p) else "not measured"
                for p, kind in zip(use["peak_gflops"], use["peak"], strict=True)
            ],
            "Share of peak": use["share"].map(lambda v: f"{v:.0%}" if pd.notna(v) else "\u2014"),
        }
    )
