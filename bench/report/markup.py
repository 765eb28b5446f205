"""Presentation helpers for the report pages: escaped text, HTML tables, the schema reference.

Text from results files (machine labels, error messages, anything a contributor typed) is
untrusted: it reaches a page only through `escape_markdown` or `table`, so a file cannot inject
HTML, script or MyST markup into the site.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from bench import results as results_io
from bench.text import escape_markdown, one_line, visible

__all__ = [
    "NO_RESULTS",
    "bullet_list",
    "escape_markdown",
    "format_history",
    "glue_markdown",
    "glue_text",
    "link_machines",
    "links",
    "machine_html",
    "markdown",
    "note",
    "one_line",
    "schema_markdown",
    "table",
    "table_html",
]


def _display(kind: str, data: str) -> Any:
    """An IPython display object (``Markdown`` or ``HTML``); IPython ships no type hints."""
    import IPython.display

    return getattr(IPython.display, kind)(data)


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


_MACHINES: dict[str, tuple[str, str | None]] = {}
"""Slug to (page address, label) of the machines `link_machines` registered for this page."""
_SLUG = re.compile(r"<(td|th)>([a-z0-9][a-z0-9-]*)</\1>")


def link_machines(labels: Mapping[str, str | None], prefix: str = "machines/") -> None:
    """From now on, a table cell that is exactly a machine's slug links to the machine's page
    (``{prefix}{slug}.html``) and shows its label beside the slug.

    A page cell calls it once with the report's machines (`Results.labels`); each page runs in
    a kernel of its own.
    """
    _MACHINES.clear()
    _MACHINES.update({slug: (f"{prefix}{slug}.html", label) for slug, label in labels.items()})


def machine_html(slug: str, href: str, label: str | None) -> str:
    """A machine as HTML: its slug linking to its page, and its label (escaped) beside it."""
    shown = f" <span class='benchbook-label'>{html.escape(one_line(label))}</span>" if label else ""
    return f"<a class='benchbook-machine' href='{html.escape(href)}'>{html.escape(slug)}</a>{shown}"


def _linked(body: str) -> str:
    """``<td>slug</td>`` cells of registered machines as links (slugs are ``[a-z0-9-]``, so an
    escaped cell that matches is the slug itself)."""

    def replace(found: re.Match[str]) -> str:
        tag, slug = found.groups()
        if slug not in _MACHINES:
            return found.group(0)
        href, label = _MACHINES[slug]
        return f"<{tag}>{machine_html(slug, href, label)}</{tag}>"

    return _SLUG.sub(replace, body) if _MACHINES else body


def table_html(frame: pd.DataFrame, *, index: bool = False, caption: str | None = None) -> str:
    """An HTML table with every cell, header and the caption escaped; NaN shows as an em dash.

    A cell that names a machine `link_machines` registered links to the machine's page.
    """
    # Hidden characters (bidi overrides, zero-width, fillers) in any cell shown as escapes.
    shown = frame.map(lambda v: visible(v) if isinstance(v, str) else v)
    shown.index = [visible(i) if isinstance(i, str) else i for i in frame.index]
    shown.columns = [visible(c) if isinstance(c, str) else c for c in frame.columns]
    body = _linked(
        shown.to_html(
            escape=True, index=index, na_rep="\u2014", border=0, classes=["benchbook-table"]
        )
    )
    head = (
        f"<p class='benchbook-table-caption'>{html.escape(one_line(caption))}</p>"
        if caption
        else ""
    )
    return f"<div class='benchbook-table-wrap'>{head}{body}</div>"


ROWS_SHOWN = 60
"""The most rows a page's table shows: with 1,000 machines a table per workload would hold
1,000 rows (and a page tens of megabytes). The rest are in the data downloads (data/) and on
each machine's page."""


def table(
    frame: pd.DataFrame,
    *,
    index: bool = False,
    caption: str | None = None,
    limit: int | None = ROWS_SHOWN,
) -> Any:
    """`table_html` as an IPython display object, for the last line of a page cell; at most
    ``limit`` rows (None: all), the first ones in the frame's order, saying how many are left."""
    if limit is None or len(frame) <= limit:
        return _display("HTML", table_html(frame, index=index, caption=caption))
    shown = f"The first {limit} of {len(frame):,} rows"
    caption = f"{caption} {shown}." if caption else f"{shown}."
    more = (
        f"<p class='benchbook-more'>{len(frame) - limit:,} more rows are in the "
        "<a href='results-format.html#download-the-data'>data downloads</a>; each machine's page has its "
        "own.</p>"
    )
    return _display("HTML", table_html(frame.head(limit), index=index, caption=caption) + more)


NO_RESULTS = (
    "There are no results yet. Run `nox -s bench` on a machine to produce a file in "
    "`results/<machine>/`, then `nox -s docs` to rebuild this report "
    "(see [Reproduce and contribute](reproduce.md))."
)


def links(targets: Mapping[str, str]) -> Any:
    """``{text: relative address}`` as an HTML list of links, both escaped, for a page cell."""
    items = "".join(
        f"<li><a href='{html.escape(href, quote=True)}'>{html.escape(one_line(text))}</a></li>"
        for text, href in targets.items()
    )
    return _display("HTML", f"<ul class='benchbook-downloads'>{items}</ul>")


def markdown(text: str) -> Any:
    """Markdown written by the page (untrusted parts already escaped) as a display object."""
    return _display("Markdown", text)


def note(markdown: str, kind: str = "note") -> Any:
    """A MyST admonition (``note``, ``important``...) as a display object; trusted Markdown."""
    return _display("Markdown", f"```{{{kind}}}\n{markdown}\n```\n")


def format_history(history: Sequence[results_io.FormatVersion]) -> str:
    """The format history (`bench.results.FORMAT_HISTORY`) as Markdown: one item per version,
    its changes nested under it."""
    lines = []
    for version in history:
        lines.append(
            f"- **Version {version.number}** (benchbook {version.benchbook}): {version.summary}"
        )
        lines.extend(f"  - {change}" for change in version.changes)
    return "\n".join(lines) + "\n"


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


def _alternative(schema: Mapping[str, Any]) -> str:
    """One branch of an object's ``anyOf`` in words: its fixed values, then its required fields."""
    said = [
        f"`{field}` is " + " or ".join(f"`{v}`" for v in sub["enum"])
        for field, sub in schema.get("properties", {}).items()
        if "enum" in sub
    ]
    if schema.get("required"):
        said.append(", ".join(f"`{f}`" for f in schema["required"]) + " are present")
    return " and ".join(said)


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
    alternatives = [a for a in node.get("anyOf", []) if "required" in a or "properties" in a]
    conditional = {f for a in alternatives for f in a.get("required", [])} - required
    lines += ["| Field | Type | Required | Limits | Description |", "|---|---|---|---|---|"]
    nested = []
    for field, sub in node.get("properties", {}).items():
        path = f"{name}.{field}" if name else field
        if "properties" in sub:
            nested.append((path, sub))
        kind = _type_of(sub, defs, inline=path)
        needed = "yes" if field in required else "see below" if field in conditional else "no"
        lines.append(
            f"| `{field}` | {_cell(kind)} | {needed} "
            f"| {_cell(_limits(sub))} | {_cell(sub.get('description', ''))} |"
        )
    if alternatives:
        said = "; or ".join(_alternative(a) for a in alternatives)
        lines += ["", f"At least one of these holds: {said}."]
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
