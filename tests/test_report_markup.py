"""Tests for bench/report/markup.py: escaping, tables, glue and the generated schema reference."""

from __future__ import annotations

import html
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from bench import results
from bench.report import markup

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "data" / "results"
HOSTILE = "<script>alert(1)</script> *desk* `c` {glue:md}`x` [a](javascript:x) | pipe"


def render(markdown: str) -> str:
    """Markdown to HTML as CommonMark (the syntax MyST builds on) renders it, raw HTML on."""
    html: str = MarkdownIt("commonmark", {"html": True}).render(markdown)
    return html


def test_escaped_markdown_renders_as_the_literal_text() -> None:
    """Tags, roles, code spans and links in untrusted text come out as plain characters."""
    out = render(markup.escape_markdown(HOSTILE))
    assert "<script>" not in out
    for tag in ("<code>", "<em>", "<a "):
        assert tag not in out
    assert html.unescape(re.sub(r"</?p>", "", out)).strip() == HOSTILE


@given(st.text(max_size=200))
def test_any_text_survives_escaping_unchanged(text: str) -> None:
    """Whatever a contributor types renders as exactly that text, on one line."""
    out = render(markup.escape_markdown(text))
    assert html.unescape(re.sub(r"</?p>\n?", "", out)) == markup.one_line(text)


def test_one_line_removes_line_breaks_and_control_characters() -> None:
    """A label cannot start a new Markdown block or directive option."""
    assert markup.one_line("a\n:alt: b\r\n\x00c\u2028d") == "a :alt: b c d"


def test_bullet_list_escapes_each_line() -> None:
    """Each untrusted line becomes one escaped bullet."""
    assert markup.bullet_list(["<b>x</b>", "y"]) == "- \\<b\\>x\\<\\/b\\>\n- y"


def test_table_html_escapes_cells_headers_and_caption() -> None:
    """A results file cannot inject HTML through a table."""
    frame = pd.DataFrame({"<th>": ["<script>alert(1)</script>"], "n": [math.nan]})
    out = markup.table_html(frame, caption="<i>cap</i>")
    assert "<script>" not in out
    assert "<th>&lt;th&gt;</th>" in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "&lt;i&gt;cap&lt;/i&gt;" in out
    assert "\u2014" in out  # NaN is shown as a dash


def _all_fields(node: Any, found: set[str]) -> set[str]:
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            found.add(name)
            _all_fields(sub, found)
        for sub in node.get("$defs", {}).values():
            _all_fields(sub, found)
    return found


def test_schema_reference_lists_every_field() -> None:
    """Every property anywhere in the schema appears in the generated reference."""
    text = markup.schema_markdown(results.schema())
    for name in _all_fields(results.schema(), set()):
        assert f"| `{name}` |" in text, name


def test_schema_reference_says_when_a_field_is_required_by_an_alternative() -> None:
    """The stopping rule's fields are required only under the adaptive rule (the schema's
    ``anyOf``): the reference says so instead of calling them optional."""
    text = markup.schema_markdown(results.schema())
    section = text.split("```{rubric} stopping_rule", 1)[1].split("```{rubric}", 1)[0]
    assert "| `budget_s` | number | see below |" in section
    assert "| `rule` |" in section
    assert (
        "At least one of these holds: `rule` is `whole-epochs` or `fixed`; or `target`, "
        "`confidence`, `budget_s`, `min_for_target`, `max_epochs` are present."
    ) in section


def test_schema_reference_links_resolve() -> None:
    """Every link in the reference points at a target the reference defines."""
    text = markup.schema_markdown(results.schema())
    targets = set(re.findall(r"^\((schema-[a-z-]+)\)=$", text, flags=re.MULTILINE))
    links = set(re.findall(r"\]\(#(schema-[a-z-]+)\)", text))
    assert links <= targets
    assert "schema-machine-os" in targets


def test_format_history_comes_from_the_results_package() -> None:
    """The format history is rendered from bench.results.FORMAT_HISTORY, never copied by hand:
    one item per version, its changes nested."""
    history = markup.format_history(results.FORMAT_HISTORY)
    lines = history.splitlines()
    assert lines[0].startswith("- **Version 1** (benchbook 0.1): First version")
    versions = [line for line in lines if line.startswith("- ")]
    assert len(versions) == len(results.FORMAT_HISTORY)
    assert any("`tfdata-affine`" in line for line in lines if line.startswith("  - "))


@pytest.mark.parametrize(
    "hidden",
    ["\u202e", "\u2066", "\u200b", "\u2060", "\u00ad", "\u3164", "\U000e0041", "\ufeff"],
)
def test_hidden_characters_are_shown_as_escapes_everywhere(hidden: str) -> None:
    """Bidi overrides, zero-width and tag characters, soft hyphens and fillers in any free text
    (a label, a device, a version) reach tables, Markdown and the terminal as escapes."""
    from bench.text import escape_markdown, one_line, printable

    text = f"Keras 3{hidden}.15"
    code = f"u{ord(hidden):04x}" if ord(hidden) <= 0xFFFF else f"U{ord(hidden):08x}"
    table = markup.table_html(pd.DataFrame({"Keras": [text]}))
    for shown in (table, escape_markdown(text), one_line(text)):
        assert hidden not in shown
        assert code.lower() in shown.lower()
    assert hidden not in printable(text)  # Python's escape there: \xad, \u202e, ...
    assert "\\" in printable(text)
