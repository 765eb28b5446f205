"""Tests for bench/report.py: escaping, tables and the generated schema reference."""

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

from bench import analysis, report, results

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "data" / "results"
HOSTILE = "<script>alert(1)</script> *desk* `c` {glue:md}`x` [a](javascript:x) | pipe"


@pytest.fixture(scope="module")
def loaded() -> analysis.Results:
    """Every fixture results file, loaded once."""
    return analysis.load_results(FIXTURES)


def render(markdown: str) -> str:
    """Markdown to HTML as CommonMark (the syntax MyST builds on) renders it, raw HTML on."""
    return MarkdownIt("commonmark", {"html": True}).render(markdown)


def test_escaped_markdown_renders_as_the_literal_text() -> None:
    """Tags, roles, code spans and links in untrusted text come out as plain characters."""
    out = render(report.escape_markdown(HOSTILE))
    assert "<script>" not in out
    for tag in ("<code>", "<em>", "<a "):
        assert tag not in out
    assert html.unescape(re.sub(r"</?p>", "", out)).strip() == HOSTILE


@given(st.text(max_size=200))
def test_any_text_survives_escaping_unchanged(text: str) -> None:
    """Whatever a contributor types renders as exactly that text, on one line."""
    out = render(report.escape_markdown(text))
    assert html.unescape(re.sub(r"</?p>\n?", "", out)) == report.one_line(text)


def test_one_line_removes_line_breaks_and_control_characters() -> None:
    """A label cannot start a new Markdown block or directive option."""
    assert report.one_line("a\n:alt: b\r\n\x00c\u2028d") == "a :alt: b c d"


def test_bullet_list_escapes_each_line() -> None:
    """Each untrusted line becomes one escaped bullet."""
    assert report.bullet_list(["<b>x</b>", "y"]) == "- \\<b\\>x\\<\\/b\\>\n- y"


def test_table_html_escapes_cells_headers_and_caption() -> None:
    """A results file cannot inject HTML through a table."""
    frame = pd.DataFrame({"<th>": ["<script>alert(1)</script>"], "n": [math.nan]})
    out = report.table_html(frame, caption="<i>cap</i>")
    assert "<script>" not in out
    assert "<th>&lt;th&gt;</th>" in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "&lt;i&gt;cap&lt;/i&gt;" in out
    assert "\u2014" in out  # NaN is shown as a dash


def test_training_table_formats_like_the_article(loaded: analysis.Results) -> None:
    """The numbers behind a training chart, with ratios against the baseline as `compare` words
    them."""
    table = report.training_table(analysis.main_comparisons(loaded)["cnn"], "fixture-laptop-a")
    row = table.set_index("Machine").loc["fixture-laptop-b"]
    assert row["Median s/epoch"] == "20.0 s"
    assert row["vs fixture-laptop-a"] == "1.50x faster, 95 % CI 1.48 to 1.52"
    assert table.set_index("Machine").at["fixture-laptop-a", "vs fixture-laptop-a"] == "baseline"
    assert row["Runs"] == 2


def test_speedup_display_names_fallback_baselines(loaded: analysis.Results) -> None:
    """A column compared with another machine than the baseline says so in its header."""
    table, used = analysis.speedup_table(loaded, "fixture-desktop-c")
    shown = report.speedup_display(table, used, "fixture-desktop-c")
    assert "Custom CNN" in shown.columns
    assert "VGG-16 transfer learning (vs fixture-laptop-a)" in shown.columns
    by_machine = shown.set_index("Machine")
    assert by_machine.at["fixture-laptop-b", "Custom CNN"] == "3.00x faster, 95 % CI 2.95 to 3.05"
    assert by_machine.at["fixture-desktop-c", "Custom CNN"] == "baseline"
    assert by_machine.at["fixture-desktop-c", "VGG-16 transfer learning (vs fixture-laptop-a)"] == (
        "\u2014"
    )


def test_scores_table_shows_status_not_zero(loaded: analysis.Results) -> None:
    """A section that did not run shows why, and missing Geekbench scores say so."""
    table = report.scores_table(analysis.probe_scores(loaded), analysis.geekbench_scores(loaded))
    row = table.set_index("Machine").loc["fixture-desktop-c"]
    assert row["GPU (probes)"] == "unavailable: no GPU visible to TensorFlow"
    assert row["Multi-core (Geekbench)"] == "not reported"
    assert table.set_index("Machine").at["fixture-laptop-b", "Multi-core (Geekbench)"] == "12,320"


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
    text = report.schema_markdown(results.schema())
    for name in _all_fields(results.schema(), set()):
        assert f"| `{name}` |" in text, name


def test_schema_reference_links_resolve() -> None:
    """Every link in the reference points at a target the reference defines."""
    text = report.schema_markdown(results.schema())
    targets = set(re.findall(r"^\((schema-[a-z-]+)\)=$", text, flags=re.MULTILINE))
    links = set(re.findall(r"\]\(#(schema-[a-z-]+)\)", text))
    assert links <= targets
    assert "schema-machine-os" in targets


def test_format_history_comes_from_the_results_package() -> None:
    """The format history is rendered from bench.results.FORMAT_HISTORY, never copied by hand:
    one item per version, its changes nested."""
    history = report.format_history(results.FORMAT_HISTORY)
    lines = history.splitlines()
    assert lines[0].startswith("- **Version 1** (benchbook 0.1): First version")
    versions = [line for line in lines if line.startswith("- ")]
    assert len(versions) == len(results.FORMAT_HISTORY)
    assert any("`tfdata-affine`" in line for line in lines if line.startswith("  - "))


def test_bottleneck_display_names_configurations_and_never_shows_zero(
    loaded: analysis.Results,
) -> None:
    """Measured rows show throughputs, wait and verdict; the others say not measured."""
    table = report.bottleneck_display(analysis.bottleneck_groups(loaded)["cnn-aug"])
    first = table.iloc[0].to_dict()
    assert first == {
        "Configuration": "fixture-desktop-c, legacy, default (8 cores)",
        "Input only (img/s)": "300.0",
        "Compute only (img/s)": "600.0",
        "End to end (img/s)": "250.0",
        "Input wait": "58%",
        "Verdict": "input-bound",
        "Runs (measured)": "1 (1)",
    }
    vgg = report.bottleneck_display(analysis.bottleneck_groups(loaded)["vgg16"])
    assert set(vgg["Verdict"]) == {"not measured"}
    assert set(vgg["Input only (img/s)"]) == {"\u2014"}
    markup = report.table_html(vgg)
    assert "nan" not in markup.lower()


def test_scaling_display_names_each_rows_setting(tmp_path: Path) -> None:
    """The core-scaling table says which profile and dataset each thread count was run on."""
    import shutil

    folder = Path(shutil.copytree(FIXTURES, tmp_path / "results"))
    shutil.copytree(ROOT / "tests" / "data" / "bottlenecks", folder, dirs_exist_ok=True)
    table = report.scaling_display(analysis.thread_scaling(analysis.load_results(folder)))
    assert list(table.columns) == [
        "Workload", "Machine", "Pipeline", "Setting", "Threads", "Images/s (median)",
        "Measured epochs",
    ]  # fmt: skip
    assert set(table["Setting"].str.split(",").str[0]) == {"full"}
    assert all(re.search(r", 224 px, batch 64, (real|synthetic) data [0-9a-f]{8}$", s)
               for s in table["Setting"])  # fmt: skip


def test_utilisation_display_names_each_configuration(loaded: analysis.Results) -> None:
    """Every utilisation row says which configuration it is and never shows a zero share."""
    from bench import utilisation

    use = utilisation.utilisation(loaded)
    shown = report.utilisation_display(use)
    assert len(shown) == len(use)
    assert shown["Setting"].str.contains(" pipeline, ").all()
    assert not (shown["Share of peak"] == "0%").any()
