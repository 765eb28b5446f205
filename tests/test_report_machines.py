"""Tests for bench/report/machines.py: a page per machine, written at build time."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.report import machines, markup, pairs, tables


def test_a_page_per_machine_and_an_index(loaded: tables.Results, tmp_path: Path) -> None:
    folder = machines.write_pages(loaded, tmp_path, pairs.all_pairs(loaded))
    pages = sorted(p.stem for p in folder.glob("*.md"))
    assert pages == sorted([*loaded.machines, "index"])
    index = (folder / "index.md").read_text(encoding="utf-8")
    for slug in loaded.machines:
        assert f"]({slug}.md)" in index
    page = (folder / "fixture-laptop-a.md").read_text(encoding="utf-8")
    assert page.startswith("# fixture\\-laptop\\-a\n")
    for heading in ("Hardware and software", "Runs", "Training time", "Scores", "Compare"):
        assert f"\n## {heading}\n" in page
    assert "20260101T100000Z.json" in page
    assert "20260102T100000Z.json" in page
    assert page.count("```{figure} data:image/png;base64,") >= 1
    assert "the only machine so far" not in page  # each chart holds this machine alone
    assert "../compare.html?a=fixture-laptop-a&amp;b=fixture-desktop-c&amp;config=" in page


def test_what_a_file_says_is_escaped_on_its_page(loaded: tables.Results, tmp_path: Path) -> None:
    """fixture-desktop-c's label is hostile markup: it must arrive as text."""
    folder = machines.write_pages(loaded, tmp_path, pairs.all_pairs(loaded))
    page = (folder / "fixture-desktop-c.md").read_text(encoding="utf-8")
    assert "<script>" not in page
    assert "&lt;script&gt;" in page  # in the HTML tables
    assert "\\<script\\>" in page  # in the Markdown text


def test_only_its_own_folder_is_replaced(loaded: tables.Results, tmp_path: Path) -> None:
    (tmp_path / machines.FOLDER).mkdir()
    (tmp_path / machines.FOLDER / "notes.md").write_text("mine", encoding="utf-8")
    with pytest.raises(FileExistsError, match="was not written by the build"):
        machines.write_pages(loaded, tmp_path, pairs.all_pairs(loaded))
    assert (tmp_path / machines.FOLDER / "notes.md").read_text(encoding="utf-8") == "mine"


def test_machine_cells_link_to_their_pages_with_the_label() -> None:
    import pandas as pd

    markup.link_machines({"fixture-a": "Laptop <b>A</b>"})
    try:
        out = markup.table_html(pd.DataFrame({"Machine": ["fixture-a", "fixture-b"]}))
    finally:
        markup.link_machines({})
    assert (
        "<td><a class='benchbook-machine' href='machines/fixture-a.html'>fixture-a</a> "
        "<span class='benchbook-label'>Laptop &lt;b&gt;A&lt;/b&gt;</span></td>"
    ) in out
    assert "<td>fixture-b</td>" in out
