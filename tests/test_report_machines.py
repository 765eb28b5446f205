"""Tests for bench/report/machines.py: a page per machine, written at build time."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.report import machines, markup, tables


def test_a_page_per_machine_and_an_index(loaded: tables.Results, tmp_path: Path) -> None:
    folder = machines.write_pages(loaded, tmp_path)
    pages = sorted(p.stem for p in folder.glob("*.md"))
    assert pages == sorted([*loaded.machines, machines.INDEX])
    index = (folder / "all_machines.md").read_text(encoding="utf-8")
    for slug in loaded.machines:
        assert f"]({slug}.md)" in index
    page = (folder / "fixture-laptop-a.md").read_text(encoding="utf-8")
    assert page.startswith("---\norphan: true\n---\n\n# fixture\\-laptop\\-a\n")
    for heading in ("Hardware and software", "Runs", "Training time", "Where it stands",
                    "Scores", "Compare"):  # fmt: skip
        assert f"\n## {heading}\n" in page
    assert "20260101T100000Z.json" in page
    assert "20260102T100000Z.json" in page
    assert "data:image/png" not in page  # no chart per machine: 1,000 of them took minutes
    assert "../compare.html?a=fixture-laptop-a'" in page


def test_a_page_says_where_its_machine_ranks_and_links_its_neighbours(
    loaded: tables.Results, tmp_path: Path
) -> None:
    """Per workload: rank, the share of machines it beats, and both neighbours with a Compare
    link for the pair in that configuration."""
    folder = machines.write_pages(loaded, tmp_path)
    page = (folder / "fixture-laptop-b.md").read_text(encoding="utf-8")
    section = page.split("## Where it stands", 1)[1].split("## Scores", 1)[0]
    assert "<td>Custom CNN</td>" in section
    assert "1st of 3" in section
    assert "100 % of the others" in section
    assert "href='fixture-laptop-a.html'" in section
    assert "../compare.html?a=fixture-laptop-b&amp;b=fixture-laptop-a&amp;config=" in section


def test_no_slug_can_overwrite_the_list_of_machines(loaded: tables.Results, tmp_path: Path) -> None:
    """The list's name cannot be a slug (slugs have no underscore), so a machine called
    ``index`` gets its own page and the list survives."""
    import re

    from bench.results import schema

    pattern = schema()["$defs"]["slug"]["pattern"]
    assert re.fullmatch(pattern, machines.INDEX) is None
    assert re.fullmatch(pattern, "index") is not None


def test_what_a_file_says_is_escaped_on_its_page(loaded: tables.Results, tmp_path: Path) -> None:
    """fixture-desktop-c's label is hostile markup: it must arrive as text."""
    folder = machines.write_pages(loaded, tmp_path)
    page = (folder / "fixture-desktop-c.md").read_text(encoding="utf-8")
    assert "<script>" not in page
    assert "&lt;script&gt;" in page  # in the HTML tables
    assert "\\<script\\>" in page  # in the Markdown text


def test_only_its_own_folder_is_replaced(loaded: tables.Results, tmp_path: Path) -> None:
    (tmp_path / machines.FOLDER).mkdir()
    (tmp_path / machines.FOLDER / "notes.md").write_text("mine", encoding="utf-8")
    with pytest.raises(FileExistsError, match="was not written by the build"):
        machines.write_pages(loaded, tmp_path)
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
