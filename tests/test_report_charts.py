"""Tests for bench/report/charts.py: the figures, their titles, alt text and captions."""

from __future__ import annotations

import base64
import io
import re
import shutil
from pathlib import Path

import matplotlib.image
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from bench.report import article, attribution, attribution_charts, charts, scores, tables, training

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "data" / "results"


@pytest.fixture(scope="module")
def colours(loaded: tables.Results) -> dict[str, str]:
    """The report's palette for the fixture machines."""
    return charts.machine_colours(loaded.machines)


def bar_colours(chart: charts.Chart, axis: int = 0) -> list[str]:
    """The face colours of the bars of one axis, top to bottom as drawn."""
    ax = chart.figure.axes[axis]
    return [to_hex(p.get_facecolor()) for p in ax.patches]


def texts(chart: charts.Chart) -> list[str]:
    """Every text drawn on the figure's axes."""
    return [t.get_text() for ax in chart.figure.axes for t in ax.texts]


def test_machine_colours_are_distinct_and_order_free() -> None:
    """Each machine gets its own colour, whatever order the slugs come in."""
    slugs = [f"machine-{i}" for i in range(len(charts.COLOURS))]
    forward = charts.machine_colours(slugs)
    assert len(set(forward.values())) == len(slugs)
    assert charts.machine_colours(reversed(slugs)) == forward


def test_machine_colours_keep_a_machine_colour_without_collisions() -> None:
    """A machine keeps its colour when another machine with a free colour is added."""
    before = charts.machine_colours(["fixture-laptop-a", "fixture-laptop-b"])
    after = charts.machine_colours(["fixture-laptop-a", "fixture-laptop-b", "fixture-desktop-c"])
    assert {k: after[k] for k in before} == before


def test_many_machines_still_get_distinct_colours() -> None:
    """More machines than palette colours still get one colour each."""
    slugs = [f"m-{i}" for i in range(20)]
    assert len(set(charts.machine_colours(slugs).values())) == 20


def test_training_chart_states_the_finding(loaded: tables.Results, colours: dict[str, str]) -> None:
    """The title says who is faster by how much; bars use each machine's colour, fastest first."""
    chart = charts.training_chart(training.main_comparisons(loaded)["cnn"], colours)
    assert chart.title == (
        "fixture-laptop-b vs fixture-desktop-c: 3.00x faster, 95 % CI 2.90 to 3.11"
    )
    assert "fixture-laptop-b vs fixture-desktop-c: 3.00x faster" in chart.figure.get_suptitle()
    assert "95\u00a0%\u00a0CI 2.90 to 3.11" in chart.figure.get_suptitle()
    order = ["fixture-laptop-b", "fixture-laptop-a", "fixture-desktop-c"]
    assert bar_colours(chart) == [colours[m] for m in order]
    assert texts(chart) == ["20.0 s", "30.0 s", "60.0 s"]
    assert chart.alt == (
        "Horizontal bar chart of median seconds per epoch, Custom CNN: "
        "fixture-laptop-b 20.0 s, fixture-laptop-a 30.0 s, fixture-desktop-c 60.0 s."
    )
    assert "warm-up epochs left out" in chart.caption


def test_training_chart_with_one_machine_says_so(
    loaded: tables.Results, colours: dict[str, str]
) -> None:
    """A group of one machine is charted, and the title does not invent a comparison."""
    smoke = [c for c in training.comparisons(loaded.epochs) if c.setting["profile"] == "smoke"]
    chart = charts.training_chart(smoke[0], colours)
    assert chart.title == "fixture-desktop-c takes 1.5 s per epoch (the only machine so far)"


def test_throughput_chart_has_a_panel_per_workload(
    loaded: tables.Results, colours: dict[str, str]
) -> None:
    """Images per second, one panel per charted workload, each bar labelled."""
    chart = charts.throughput_chart(loaded, colours)
    assert len(chart.figure.axes) == 4
    assert chart.title == "fixture-laptop-b trains the most images per second in 3 of 4 workloads"
    assert "1,250 img/s" in texts(chart)


def test_scores_chart_never_draws_unavailable_as_zero(
    loaded: tables.Results, colours: dict[str, str]
) -> None:
    """The GPU panel has bars only for machines with a GPU score and names the others."""
    chart = charts.scores_chart(scores.probe_scores(loaded), colours, "benchbook probes")
    gpu_axis = next(ax for ax in chart.figure.axes if ax.get_title(loc="left") == "GPU")
    assert len(gpu_axis.patches) == 2
    assert [t.get_text() for t in gpu_axis.texts].count("unavailable") == 1
    assert "fixture-desktop-c unavailable" in chart.alt
    assert (
        chart.title
        == "benchbook probes: fixture-laptop-b scores 2.13x fixture-desktop-c on multi-core"
    )


def test_geekbench_scores_chart_uses_the_same_layout(
    loaded: tables.Results, colours: dict[str, str]
) -> None:
    """Reported Geekbench scores draw like the probes, missing ones as "not reported"."""
    table_of_scores = charts.geekbench_long(scores.geekbench_scores(loaded))
    assert set(table_of_scores["status"]) == {"ok"}
    chart = charts.scores_chart(table_of_scores, colours, "Reported Geekbench scores")
    assert "1.60x" in chart.title


def test_article_chart_counts_what_is_measured(loaded: tables.Results) -> None:
    """The title says how many of the article's ratios are measured and how close they are."""
    chart = charts.article_chart(article.article_comparison(loaded))
    assert chart.title == "7 of the article's 7 ratios measured here; 7 within 10 % of the article"


def test_charts_without_data_say_so(tmp_path: Path) -> None:
    """With no results the charts become plain notes, never an empty axis."""
    empty = tables.load_results(tmp_path)
    article_chart = charts.article_chart(article.article_comparison(empty))
    assert article_chart.title == "None of the article's 7 ratios can be checked here yet"
    assert "not measured here yet" in article_chart.alt
    assert charts.throughput_chart(empty, {}).title == "No training results yet"
    table_of_scores = charts.scores_chart(scores.probe_scores(empty), {}, "benchbook probes")
    assert table_of_scores.alt.startswith("No chart:")


def test_png_is_crisp(loaded: tables.Results, colours: dict[str, str]) -> None:
    """Charts render at 200 dpi: an 8-inch figure is 1,600 pixels wide."""
    chart = charts.training_chart(training.main_comparisons(loaded)["vgg16"], colours)
    image = matplotlib.image.imread(io.BytesIO(chart.png()), format="png")
    assert image.shape[1] == 1600


def test_markdown_is_a_figure_with_alt_text_and_escaped_caption(
    loaded: tables.Results, colours: dict[str, str]
) -> None:
    """The MyST figure carries the PNG, a one-line alt text and an escaped caption."""
    chart = charts.training_chart(training.main_comparisons(loaded)["cnn"], colours)
    hostile = charts.Chart(chart.figure, "t", "line one\n:class: x", "<b>caption</b>\n```")
    text = hostile.markdown()
    lines = text.splitlines()
    assert lines[0].startswith("```{figure} data:image/png;base64,")
    assert lines[1] == ":alt: line one :class: x"
    assert lines[2] == ":class: benchbook-chart"
    assert lines[4] == r"\<b\>caption\<\/b\> \`\`\`"
    assert lines[5] == "```"
    png = base64.b64decode(re.sub(r"^```\{figure\} data:image/png;base64,", "", lines[0]))
    assert png.startswith(b"\x89PNG")
    assert hostile._repr_markdown_() == text


def test_a_dollar_sign_is_not_mathtext(colours: dict[str, str], tmp_path: Path) -> None:
    """Text with dollar signs renders literally instead of failing as mathtext."""
    shutil.copytree(FIXTURES / "fixture-laptop-a", tmp_path / "fixture-laptop-a")
    loaded = tables.load_results(tmp_path)
    frame = pd.DataFrame(
        [["fixture-laptop-a", "gpu", "unavailable: $5 $x^{2", float("nan"), None]],
        columns=["machine", "section", "status", "score", "reason"],
    )
    chart = charts.scores_chart(frame, charts.machine_colours(loaded.machines), "Costs $ and $")
    assert chart.png().startswith(b"\x89PNG")


# --- Attribution ------------------------------------------------------------------------------


def test_attribution_chart_stacks_compute_input_and_other(
    with_variants: tables.Results, colours: dict[str, str]
) -> None:
    """Three segments per measured configuration: the machine's colour for compute, grey for
    input, pale for what neither explains."""
    rows = attribution.attribution_groups(with_variants)["cnn-aug"]
    chart = attribution_charts.attribution_chart(rows, colours)
    assert chart.title == (
        "Custom CNN with augmentation: input-bound in 4 of 6 measured configurations; "
        "fixture-laptop-b, legacy, default (10 cores) spends 69% of each step beyond computing"
    )
    drawn = bar_colours(chart)
    assert len(drawn) == 18
    assert drawn[0::3] == [colours[m] for m in rows["machine"]]
    assert set(drawn[1::3]) == {attribution_charts.INPUT_WAIT}
    assert set(drawn[2::3]) == {attribution_charts.OTHER}
    widths = [p.get_width() for p in chart.figure.axes[0].patches]  # type: ignore[attr-defined]
    assert sum(widths[3:6]) == pytest.approx(2.0)  # laptop-a legacy: 500 img/s end to end
    assert widths[3] == pytest.approx(1.0)  # 1,000 img/s compute only
    assert "2.0 ms, 50% beyond compute, input-bound" in texts(chart)
    assert not any(t.endswith("compute-bound") for t in texts(chart))
    assert "fixture-laptop-a, tf.data affine, default (8 cores): 1.1 ms per image" in chart.alt
    assert "overhead-bound" in chart.caption
    assert "input-bound" in chart.caption.lower()


def test_attribution_chart_writes_not_measured_instead_of_a_bar(
    loaded: tables.Results, colours: dict[str, str]
) -> None:
    """Configurations without the measurement are named, never drawn as zero."""
    rows = attribution.attribution_groups(loaded)["vgg16"]
    chart = attribution_charts.attribution_chart(rows, colours)
    assert len(chart.figure.axes[0].patches) == 0
    assert texts(chart).count("not measured") == len(rows)
    assert chart.title == "VGG-16 transfer learning: input wait and compute not measured yet"


def test_scaling_chart_draws_a_line_per_machine_and_pipeline(
    loaded: tables.Results, with_variants: tables.Results, colours: dict[str, str]
) -> None:
    """One panel per workload with thread-limited runs; no such runs gives a no-data chart."""
    chart = attribution_charts.scaling_chart(attribution.thread_scaling(with_variants), colours)
    assert len(chart.figure.axes) == 2
    assert len(chart.figure.axes[0].lines) == 2
    assert chart.title == (
        "From 4 to 8 threads, training speeds up at most 1.79x "
        "(fixture-laptop-a, Custom CNN with augmentation, legacy)"
    )
    assert "4 threads: 280.0 images/s" in chart.alt
    empty = attribution_charts.scaling_chart(attribution.thread_scaling(loaded), colours)
    assert empty.alt.startswith("No chart: No machine has runs at two or more thread counts")


def test_scaling_keeps_profiles_apart(tmp_path: Path, colours: dict[str, str]) -> None:
    """The same machine and pipeline in two profiles: two lines, each named by its profile."""
    import json
    import uuid

    folder = Path(shutil.copytree(FIXTURES, tmp_path / "results"))
    shutil.copytree(ROOT / "tests" / "data" / "attribution", folder, dirs_exist_ok=True)
    for source in sorted((folder / "fixture-laptop-a").glob("*.json")):
        data = json.loads(source.read_text(encoding="utf-8"))
        data["config"]["profile"] = "medium"
        data["dataset"]["fingerprint"] = "e" * 64
        data["run_id"] = uuid.uuid4().hex
        data["started_at"] = data["started_at"].replace("2026-01", "2026-02")
        data["finished_at"] = data["finished_at"].replace("2026-01", "2026-02")
        copy = source.with_name(source.name.replace("202601", "202602"))
        copy.write_text(json.dumps(data), encoding="utf-8")
    table = attribution.thread_scaling(tables.load_results(folder))
    legacy = table[(table["workload"] == "cnn-aug") & (table["pipeline"] == "legacy")]
    assert legacy["setting"].nunique() == 2
    for _, series in legacy.groupby("setting"):
        assert series["cores"].tolist() == [4, 8]
    assert {s.split(",")[0] for s in legacy["setting"]} == {"full", "medium"}
    chart = attribution_charts.scaling_chart(table, colours)
    labels = [line.get_label() for line in chart.figure.axes[0].lines]
    assert "fixture-laptop-a, legacy (full)" in labels
    assert "fixture-laptop-a, legacy (medium)" in labels
    markers = {line.get_label(): line.get_marker() for line in chart.figure.axes[0].lines}
    assert (
        markers["fixture-laptop-a, legacy (full)"] != markers["fixture-laptop-a, legacy (medium)"]
    )


def test_axis_labels_stay_inside_the_figure(
    with_variants: tables.Results, colours: dict[str, str]
) -> None:
    """Drawn, no chart's axis label runs past the figure's edges (long configuration names push
    the axes right; a one-line label centred under them was cut off)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    drawn = [
        charts.training_chart(c, colours) for c in training.main_comparisons(with_variants).values()
    ]
    drawn += [
        attribution_charts.attribution_chart(r, colours)
        for r in attribution.attribution_groups(with_variants).values()
    ]
    drawn.append(
        attribution_charts.scaling_chart(attribution.thread_scaling(with_variants), colours)
    )
    for chart in drawn:
        figure = chart.figure
        FigureCanvasAgg(figure)
        with charts.chart_style():
            figure.canvas.draw()
        renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
        for ax in figure.axes:
            box = ax.xaxis.label.get_window_extent(renderer)
            assert box.x0 >= 0, (chart.title, box)
            assert box.x1 <= figure.bbox.width + 1, (chart.title, box)


def test_a_training_chart_shows_a_chosen_few_of_many_machines() -> None:
    """At 40 machines: the 12 fastest, the median machine and the slowest, in ranking order."""
    import pandas as pd

    summary = pd.DataFrame({"machine": [f"m{i:02d}" for i in range(40)],
                            "median_epoch_s": [1.0 + i for i in range(40)]})  # fmt: skip
    few = charts.chosen_few(summary)
    assert few["machine"].tolist() == [f"m{i:02d}" for i in range(12)] + ["m20", "m39"]
    assert charts.chosen_few(summary.head(14)).equals(summary.head(14))


def test_the_family_chart_groups_every_machine_by_family(loaded: tables.Results) -> None:
    """One panel per workload; every machine is a dot in its family; the alt text counts them."""
    chart = charts.family_chart(loaded)
    assert chart.title == f"Where {len(loaded.machines)} machines stand, by hardware family"
    assert "Custom CNN: " in chart.alt
    assert "machines, median" in chart.alt or "machine, median" in chart.alt
    assert chart.png().startswith(b"\x89PNG")
