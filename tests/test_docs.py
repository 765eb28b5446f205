"""Tests for docs/: the report builds from fixture results, escapes them, and shows its charts.

The site is built once from tests/data/results (about half a minute) and shared by the tests;
the browser check opens it in Debian's headless chromium.
"""

from __future__ import annotations

import functools
import html
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from documents import FIXTURES, on_jax, read, write

from bench import results
from bench.readers import bottleneck
from bench.report import article, attribution, tables, training

# The slow tier: every test here builds the site with Sphinx (the browser tests open it too).
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
PAGES = [
    "index", "hardware", "scores", "training", "rankings", "compare", "frameworks", "attribution",
    "article", "methodology", "reproduce", "results-format", "machines/all_machines",
]  # fmt: skip
NOTEBOOK_PAGES = [
    "index", "hardware", "scores", "training", "frameworks", "attribution", "article",
    "results-format",
]  # fmt: skip
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


def build(results_dir: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """Build the report as `nox -s docs` does, reading ``results_dir``."""
    env = dict(os.environ, **{tables.RESULTS_ENV: str(results_dir)})
    env.pop(training.BASELINE_ENV, None)
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-q", "-b", "html",
         str(ROOT / "docs"), str(out / "html")],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report built from the fixture results (warnings are errors)."""
    out = tmp_path_factory.mktemp("site")
    proc = build(FIXTURES, out)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out / "html"


def page(site: Path, name: str) -> str:
    """The HTML of one built page."""
    return (site / f"{name}.html").read_text(encoding="utf-8")


def text_of(markup: str) -> str:
    """The visible text of a page, whitespace collapsed."""
    main = markup.split('<article role="main"', 1)[-1]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", main)).split())


class _Figures(HTMLParser):
    """Collects every <img> and whether it sits in a <figure> with a <figcaption>."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []
        self.figures: list[dict[str, Any]] = []
        self._open: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "figure":
            self._open.append({"images": 0, "caption": False})
        elif tag == "img":
            self.images.append(dict(attrs))
            if self._open:
                self._open[-1]["images"] += 1
        elif tag == "figcaption" and self._open:
            self._open[-1]["caption"] = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "figure" and self._open:
            self.figures.append(self._open.pop())


def figures(markup: str) -> _Figures:
    """The images and figures of a page."""
    parser = _Figures()
    parser.feed(markup)
    return parser


def test_every_page_is_built(site: Path) -> None:
    """Each page of the report exists in the built site."""
    for name in PAGES:
        assert (site / f"{name}.html").is_file(), name


def test_untrusted_text_is_escaped_everywhere(site: Path) -> None:
    """A machine label or error message with HTML in it never reaches a page as markup."""
    for path in site.rglob("*.html"):
        markup = path.read_text(encoding="utf-8")
        assert "<script>alert" not in markup, path
        assert "onerror=alert" not in markup.replace("onerror=alert(2)&gt;", ""), path
        assert "<b>Fixture</b>" not in markup, path
    hardware = page(site, "hardware")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hardware
    assert "&lt;b&gt;Fixture&lt;/b&gt; x86 CPU" in hardware


def test_prose_numbers_match_the_analysis(site: Path) -> None:
    """The numbers in the overview's prose are the analysis' numbers for the same files."""
    facts = tables.overview(tables.load_results(FIXTURES))
    text = text_of(page(site, "index"))
    assert (
        f"Machines: {facts.machines}. Results files: {facts.files}, holding "
        f"{facts.workload_runs} workload runs ({facts.failed_runs} failed). "
        f"Newest result: {facts.newest_date}."
    ) in text
    for line in training.headlines(tables.load_results(FIXTURES)):
        assert line in text


def test_article_page_sets_the_ratios_side_by_side(site: Path) -> None:
    """The article's stated figures appear beside the ratios measured from the fixtures."""
    text = text_of(page(site, "article"))
    assert "Ratios measured here: 7 of 7." in text
    for claim in article.ARTICLE_CLAIMS:
        assert claim.stated in text


def test_training_page_shows_every_workload_and_the_baseline(site: Path) -> None:
    """Each workload has a chart and a table; the speed-up section names the baseline."""
    markup = page(site, "training")
    text = text_of(markup)
    assert "The baseline is fixture-desktop-c" in text
    assert "VGG-16 weights random vs imagenet" in text
    assert "ResourceExhaustedError" in text
    # A chart per workload, where every machine stands by family, images per second, and the
    # efficiency chart, which says what a machine needs where none has energy counters.
    assert len(figures(markup).images) == 7
    assert "Where every machine stands" in text
    assert "No chart: Energy per epoch: not available on any" in str(markup)


def test_every_chart_has_alt_text_and_a_caption(site: Path) -> None:
    """Every image in the content is a figure with a caption and a meaningful alt text."""
    total = 0
    for name in NOTEBOOK_PAGES:
        found = figures(page(site, name))
        for image in found.images:
            assert len(str(image.get("alt") or "")) > 20, (name, image.get("alt"))
            assert str(image.get("src", "")).startswith("data:image/png;base64,")
        assert all(f["caption"] for f in found.figures if f["images"]), name
        total += len(found.images)
    assert total == 16  # the family chart on the front page and on Training included


def test_attribution_page_explains_the_augmentation_result_from_the_data(site: Path) -> None:
    """The page charts every workload and its prose numbers are the analysis' numbers."""
    loaded = tables.load_results(FIXTURES)
    story = attribution.augmentation_story(loaded)
    assert story is not None
    markup = page(site, "attribution")
    text = text_of(markup).replace("\u2019", "'")  # Sphinx's smart quotes
    assert len(figures(markup).images) == 5  # four workloads and the core-scaling chart
    legacy, plain = story.legacy, story.plain
    assert plain is not None
    assert (
        f"On {story.machine} (default threads), with the article's legacy pipeline, "
        f"{plain['input_wait_share']:.0%} of each training step of the custom CNN is spent "
        f"waiting for input; with augmentation, {legacy['input_wait_share']:.0%}."
    ) in text
    bound = bottleneck.speedup_bound(legacy["input_wait_share"], 2.0)
    assert f"and the augmented one at most {training.format_ratio(bound)}" in text
    assert (
        f"each step's time splits into {attribution.story_texts(story)['aug-split']}, so this "
        f"configuration is {legacy['verdict']}"
    ) in text
    assert (
        f"No tf.data affine run of this workload on {story.machine} at this thread count has been "
        "measured yet."
    ) in text
    table = attribution.attribution_table(loaded)
    measured = int((table["attribution"] == "measured").sum())
    assert f"Measured configurations: {measured} of {len(table)}" in text


def test_results_format_page_is_generated_from_the_schema(site: Path) -> None:
    """Every top-level field and definition of the schema file is on the page."""
    text = text_of(page(site, "results-format"))
    schema = results.schema()
    for field in schema["properties"]:
        assert field in text
    for name, node in schema["$defs"].items():
        assert name in text
        for field in node.get("properties", {}):
            assert field in text


def test_invalid_results_file_fails_the_build_with_its_path(tmp_path: Path) -> None:
    """A results file that does not validate stops the build, naming the file and the reason."""
    folder = Path(shutil.copytree(FIXTURES, tmp_path / "results"))
    bad = folder / "fixture-laptop-b" / "20260103T120000Z.json"
    data = json.loads(bad.read_text(encoding="utf-8"))
    data["workloads"][0]["epochs"][2]["images_per_s"] = "fast"
    bad.write_text(json.dumps(data), encoding="utf-8")
    proc = build(folder, tmp_path / "out")
    assert proc.returncode != 0
    assert f"{bad}: invalid at workloads/0/epochs/2/images_per_s: 'fast' is not of type" in (
        proc.stdout + proc.stderr
    )


def test_site_builds_without_results_and_says_how_to_get_some(tmp_path: Path) -> None:
    """With an empty results folder the site still builds and points to `nox -s bench`."""
    empty = tmp_path / "results"
    empty.mkdir()
    proc = build(empty, tmp_path / "out")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    site = tmp_path / "out" / "html"
    for name in ["index", "hardware", "scores", "training"]:
        assert "There are no results yet. Run nox -s bench" in text_of(page(site, name)), name
    assert "not measured here yet" in text_of(page(site, "article"))


# --- Browser check ----------------------------------------------------------------------------


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output clean."""


def _serve(folder: Path) -> Iterator[str]:
    """``folder`` over HTTP on localhost, as a static host would serve it."""
    handler = functools.partial(_Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    """The built site over HTTP on localhost."""
    yield from _serve(site)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Debian's chromium, headless, driven by its own chromedriver (nothing is downloaded)."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("needs Debian's chromium and chromium-driver (apt-get install ...)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        "--disable-dev-shm-usage", "--window-size=1280,900",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):  # fmt: skip
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.mark.browser
def test_browser_loads_every_chart_without_script_errors(
    site: Path, served: str, browser: Any
) -> None:
    """Every built page opens in chromium, every image has loaded, and no script failed."""
    pages = sorted(
        p.relative_to(site).as_posix()
        for p in [*site.glob("*.html"), *site.glob("machines/*.html")]
    )
    assert len(pages) >= len(PAGES) + 3  # and a page per fixture machine
    charts_seen = 0
    for name in pages:
        browser.get(f"{served}/{name}")
        browser.execute_script("return document.readyState")
        images = browser.execute_script(
            "return Array.from(document.images).map("
            "i => [i.getAttribute('alt'), i.complete, i.naturalWidth, i.className])"
        )
        for alt, complete, width, _ in images:
            assert complete, (name, alt)
            assert width > 0, (name, alt)
        if "/" not in name:  # the report's own pages; the machine pages repeat some charts
            charts_seen += sum("benchbook-chart" in str(cls) for *_, cls in images)
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == [], (name, errors)
    assert charts_seen == 16


def test_the_site_offers_the_raw_data(site: Path) -> None:
    """The built site has every tidy table as CSV and every results file, listed in an index
    the Results format page links to, with the data licence."""
    import pandas as pd

    from bench.report import downloads

    index = json.loads((site / "data" / "index.json").read_text(encoding="utf-8"))
    assert index["licence"] == downloads.DATA_LICENCE
    for entry in index["files"]:
        assert (site / "data" / entry["path"]).stat().st_size == entry["bytes"]
    loaded = tables.load_results(FIXTURES)
    assert len(pd.read_csv(site / "data" / "epochs.csv")) == len(loaded.epochs)
    assert len([e for e in index["files"] if e["path"].startswith("results/")]) == len(loaded.files)
    markup = page(site, "results-format")
    assert "href='data/epochs.csv'" in markup
    assert downloads.DATA_LICENCE in text_of(markup)


def test_each_machine_has_its_page_and_names_link_to_it(site: Path) -> None:
    for slug in ("fixture-laptop-a", "fixture-laptop-b", "fixture-desktop-c"):
        own = page(site, f"machines/{slug}")
        assert f"results/{slug}/" in text_of(own)
        assert f"href='machines/{slug}.html'>{slug}</a>" in page(site, "training")
        assert f"href='machines/{slug}.html'>{slug}</a>" in page(site, "hardware")
    # The label is shown beside the folder name, escaped.
    assert (
        "fixture-laptop-a</a> <span class='benchbook-label'>MacBook Air (M1, 2020), fixture"
        in page(site, "training")
    )


def test_compare_page_is_linear_in_the_machines(site: Path) -> None:
    """No pair is built into the site: the page holds no rows, and says without JavaScript
    how to compare; the data are an index and one file per machine and configuration."""
    from bench.report import compare_data

    markup = page(site, "compare")
    assert "<tbody></tbody>" in markup
    assert "nox -s compare -- results/A" in markup
    assert "<script>alert" not in markup
    data = site / compare_data.FOLDER
    index = json.loads((data / compare_data.INDEX).read_text(encoding="utf-8"))
    assert [m[0] for m in index["machines"]] == tables.load_results(FIXTURES).machines
    assert sorted(p.stem for p in (data / "m").glob("*.json")) == [m[0] for m in index["machines"]]


def _type(browser: Any, name: str, value: str) -> None:
    field = browser.find_element("css selector", f"#benchbook-compare input[name='{name}']")
    field.clear()
    field.send_keys(value)
    browser.execute_script(
        "arguments[0].dispatchEvent(new Event('change', {bubbles: true}))", field
    )


def _shown_rows(browser: Any, count: int | None = None) -> list[list[str]]:
    from selenium.webdriver.support.ui import WebDriverWait

    script = (
        "return Array.from(document.querySelectorAll('#benchbook-compare-table tbody tr'))"
        ".map(tr => Array.from(tr.cells).map(td => td.textContent))"
    )
    # The rows arrive after two fetches: wait for them (no fixed sleep).
    WebDriverWait(browser, 30).until(
        lambda b: len(b.execute_script(script)) > 0 if count is None else
        len(b.execute_script(script)) == count
    )  # fmt: skip
    rows: list[list[str]] = browser.execute_script(script)
    return rows


def _expected(site: Path, a: str, b: str, config: str) -> list[list[str]]:
    from bench.report import compare_data

    data = site / compare_data.FOLDER
    index = json.loads((data / compare_data.INDEX).read_text(encoding="utf-8"))
    return compare_data.pair_rows(
        compare_data.read(data, a, config), compare_data.read(data, b, config), config, index
    )


@pytest.mark.browser
def test_browser_compare_page_picks_a_pair_keeps_it_in_the_url_and_reopens_it(
    site: Path, served: str, browser: Any
) -> None:
    from urllib.parse import parse_qs, urlparse

    browser.get(f"{served}/compare.html")
    assert (
        browser.execute_script("return document.getElementById('benchbook-compare').hidden")
        is False
    )
    _type(browser, "a", "laptop-b")  # part of a name finds the machine
    _type(browser, "b", "fixture-laptop-a")
    rows = _shown_rows(browser)
    query = parse_qs(urlparse(browser.current_url).query)
    assert query["a"] == ["fixture-laptop-b"]
    assert query["b"] == ["fixture-laptop-a"]
    config = query["config"][0]
    expected = _expected(site, "fixture-laptop-b", "fixture-laptop-a", config)
    assert rows == expected
    # A copied address opens the same pair, in a fresh page.
    copied = browser.current_url
    browser.get(f"{served}/index.html")
    browser.get(copied)
    assert _shown_rows(browser, len(expected)) == expected
    chosen = browser.execute_script(
        "return Array.from(document.querySelectorAll('#benchbook-compare input, "
        "#benchbook-compare select')).map(s => s.value)"
    )
    assert chosen == ["fixture-laptop-b", "fixture-laptop-a", config]
    # The hostile label of fixture-desktop-c is shown as text, not run.
    _type(browser, "a", "fixture-desktop-c")
    _shown_rows(browser)
    heading = browser.find_element("css selector", ".benchbook-compare-heading").text
    assert "<script>alert(1)</script>" in heading
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []


@pytest.mark.browser
def test_browser_downloads_exist_and_parse(site: Path, served: str, browser: Any) -> None:
    browser.get(f"{served}/results-format.html")
    checked = browser.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        fetch('data/index.json').then(r => r.json()).then(async index => {
          const out = [];
          for (const entry of index.files) {
            const r = await fetch('data/' + entry.path);
            const text = await r.text();
            if (entry.path.endsWith('.json')) { JSON.parse(text); }
            out.push([entry.path, r.status, text.length]);
          }
          done(out);
        }).catch(e => done(String(e)));
        """
    )
    assert isinstance(checked, list), checked
    assert any(p.endswith(".csv") for p, _, _ in checked)
    assert all(status == 200 and size > 0 for _, status, size in checked)


@pytest.mark.browser
def test_browser_pages_read_at_a_phone_width(site: Path, served: str, browser: Any) -> None:
    """At 390 px nothing but a table's own scrolling box is wider than the page."""
    browser.set_window_size(390, 844)
    try:
        for name in ("index", "compare", "training", "machines/fixture-laptop-a"):
            browser.get(f"{served}/{name}.html")
            overflow = browser.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 1, name
    finally:
        browser.set_window_size(1280, 900)


@pytest.fixture(scope="module")
def site_two_backends(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report built from the fixtures plus laptop A's files again on JAX, twice as slow."""
    folder = tmp_path_factory.mktemp("two-backends")
    for path in sorted(FIXTURES.glob("*/*.json")):
        write(folder / path.parent.name / path.name, read(path))
        if path.parent.name == "fixture-laptop-a":
            twin = on_jax(results.load(path), 2.0)
            write(folder / path.parent.name / f"{path.stem.replace('T10', 'T22')}.json", twin)
    out = tmp_path_factory.mktemp("site-two-backends")
    proc = build(folder, out)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out / "html"


def test_which_framework_page_sets_one_machines_backends_side_by_side(
    site: Path, site_two_backends: Path
) -> None:
    """Without a machine on two backends the page says so; with laptop A on TensorFlow and JAX
    it shows each workload on both, JAX's verdict against TensorFlow, and the probe scores."""
    assert "No machine has results on two backends yet" in text_of(page(site, "frameworks"))
    text = text_of(page(site_two_backends, "frameworks"))
    assert "Machines with more than one backend: 1." in text
    assert "Backends: TensorFlow 2.18.1, JAX 0.10.2." in text
    assert "2.00x slower" in text
    assert "against TensorFlow 2.18.1" in text
    assert "Probe scores on each backend" in text
    hardware = text_of(page(site_two_backends, "hardware"))
    assert "JAX 0.10.2, TensorFlow 2.18.1" in hardware


# --- At community size: a generated fleet of 300 machines ---------------------------------------

FLEET_TEMPLATES = [
    ROOT / "tests" / "data" / "validate" / "valid" / "amd-epyc-2c" / "20261128T200525Z.json",
    *sorted((FIXTURES / "fixture-laptop-a").glob("*.json")),
    # A real PyTorch run on an NVIDIA H200 with NVML energy figures: the fleet's energy.
    ROOT / "tests" / "data" / "energy" / "nvidia-h200-torch.json",
]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """300 distinct valid machines (bench.results.fleet) and the report built from them."""
    from bench.results import fleet as generated

    root = tmp_path_factory.mktemp("fleet")
    generated.write_fleet(root / "results", 300, FLEET_TEMPLATES)
    proc = build(root / "results", root)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return root / "results", root / "html"


@pytest.fixture(scope="module")
def fleet_served(fleet: tuple[Path, Path]) -> Iterator[str]:
    """The 300-machine site over HTTP on localhost."""
    yield from _serve(fleet[1])


@pytest.mark.browser
def test_browser_at_300_machines_finds_two_and_agrees_with_compare(
    fleet: tuple[Path, Path], fleet_served: str, browser: Any
) -> None:
    """Type part of two names, get compare's verdicts for that pair; the address reopens it."""
    from urllib.parse import parse_qs, urlparse

    from bench.readers import comparison
    from bench.report import compare_data
    from bench.results import model

    folder, _ = fleet
    browser.get(f"{fleet_served}/compare.html")
    _type(browser, "a", "fleet-0007")
    _type(browser, "b", "0123")  # part of a name: only fleet-0123 has it
    rows = _shown_rows(browser)
    query = parse_qs(urlparse(browser.current_url).query)
    assert (query["a"], query["b"]) == (["fleet-0007"], ["fleet-0123"])
    config = query["config"][0]
    pairings, _ = comparison.pair(
        comparison.load_side("A", folder / "fleet-0007"),
        comparison.load_side("B", folder / "fleet-0123"),
        force=True,
    )
    titles = dict(compare_data.index({}, {})["workloads"])
    expected = {
        titles[p.workload]: comparison.render_pairing(p)[-1].strip().removeprefix("B vs A: ")
        for p in pairings
        if not p.differs and compare_data.configuration_id(model.as_dict(p.setting_a)) == config
    }
    assert expected
    shown = {r[0]: r[3] for r in rows}
    assert {k: shown[k] for k in expected} == expected
    copied = browser.current_url
    browser.get(f"{fleet_served}/index.html")
    browser.get(copied)
    assert _shown_rows(browser, len(rows)) == rows
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []


@pytest.mark.browser
def test_browser_rankings_at_300_machines_search_and_filter(
    fleet: tuple[Path, Path], fleet_served: str, browser: Any
) -> None:
    from selenium.webdriver.support.ui import Select, WebDriverWait

    browser.get(f"{fleet_served}/rankings.html")
    script = (
        "return Array.from(document.querySelectorAll('#benchbook-rankings-table tbody tr'))"
        ".map(tr => Array.from(tr.cells).map(td => td.textContent))"
    )
    WebDriverWait(browser, 30).until(lambda b: len(b.execute_script(script)) > 0)
    everyone = browser.execute_script(script)
    assert len(everyone) == 100  # the first 100 of the configuration, fastest first
    medians = [float(r[4].split(" s")[0]) for r in everyone]
    assert medians == sorted(medians)
    field = browser.find_element("css selector", "#benchbook-rankings input[name='search']")
    target = everyone[-1][1]  # a machine of the shown configuration, found by its name
    field.send_keys(target)
    WebDriverWait(browser, 30).until(lambda b: len(b.execute_script(script)) == 1)
    (row,) = browser.execute_script(script)
    assert row[1] == target
    assert " of " in row[0]
    field.clear()
    browser.execute_script("arguments[0].dispatchEvent(new Event('input', {bubbles: true}))", field)
    family = browser.find_element("css selector", "#benchbook-rankings select[name='family']")
    Select(family).select_by_value("Apple M-series")
    browser.execute_script(
        "arguments[0].dispatchEvent(new Event('input', {bubbles: true}))", family
    )
    WebDriverWait(browser, 30).until(
        lambda b: all(r[3] == "Apple M-series" for r in b.execute_script(script))
    )
    # Most efficient first, in the H200 run's configuration: joules ascending, ranked 1 up.
    Select(family).select_by_value("")
    workload = browser.find_element("css selector", "#benchbook-rankings select[name='workload']")
    Select(workload).select_by_value("cnn")
    config = Select(
        browser.find_element("css selector", "#benchbook-rankings select[name='config']")
    )
    (torch,) = [o.get_attribute("value") for o in config.options if "PyTorch" in o.text]
    config.select_by_value(torch)
    order = browser.find_element("css selector", "#benchbook-rankings select[name='order']")
    Select(order).select_by_value("efficient")
    browser.execute_script("arguments[0].dispatchEvent(new Event('input', {bubbles: true}))", order)
    WebDriverWait(browser, 30).until(
        lambda b: (rows := b.execute_script(script)) and rows[0][0].startswith("1 of ")
    )
    shown = browser.execute_script(script)
    joules = [float(r[5].split(" J")[0]) for r in shown]
    assert joules == sorted(joules)
    assert all(" J (" in r[5] for r in shown)
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []


@pytest.mark.browser
def test_browser_pages_at_300_machines_fit_a_phone_and_stay_small(
    fleet: tuple[Path, Path], fleet_served: str, browser: Any
) -> None:
    """No page over 2 MB at 300 machines, and the main pages fit 390 px."""
    _, site = fleet
    largest = max(site.rglob("*.html"), key=lambda p: p.stat().st_size)
    assert largest.stat().st_size < 2_000_000, largest.name
    browser.set_window_size(390, 844)
    try:
        for name in ("index", "compare", "training", "rankings", "machines/fleet-0042"):
            browser.get(f"{fleet_served}/{name}.html")
            overflow = browser.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 1, name
    finally:
        browser.set_window_size(1280, 900)
