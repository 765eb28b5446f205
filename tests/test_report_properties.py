"""Property-based test: any tree of valid results files renders (every computation the report's
pages and the Compare page's data use, on documents hypothesis varies within the schema)."""

from __future__ import annotations

import copy
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from documents import read
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench import results
from bench.readers import standings
from bench.report import article, attribution, compare_data, hardware, scores, tables
from bench.report import training as training_page

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = [
    ROOT / "tests" / "data" / "validate" / "valid" / "amd-epyc-2c" / "20261128T200525Z.json",
    # With input-only and compute-only measurements, legacy and tf.data: the Attribution page.
    *sorted((ROOT / "tests" / "data" / "attribution" / "fixture-laptop-a").glob("*.json")),
]

# Seconds from 0.1 ms (images/s stays under the schema's 1e9) to a day; rates likewise.
seconds = st.one_of(
    st.floats(1e-4, 1e-3), st.floats(1e-3, 1e3), st.floats(1e3, 86_400.0), st.just(1.0)
)
rates = st.one_of(st.floats(1e-6, 1e9), st.just(100.0))


@st.composite
def machine_files(draw: st.DrawFn, slug: str) -> list[dict[str, Any]]:
    """One to three valid documents of one machine, timings and measurements drawn."""
    found = []
    machine = None
    for number in range(draw(st.integers(1, 3))):
        document = copy.deepcopy(read(draw(st.sampled_from(TEMPLATES))))
        # One kind of hardware per folder, whichever templates its files come from.
        machine = machine or copy.deepcopy(document["machine"])
        document["machine"] = copy.deepcopy(machine)
        document["machine"]["slug"] = slug
        document["run_id"] = f"{int(slug[1:]):016x}{number:016x}"
        document["started_at"] = f"2026-01-0{number + 1}T00:00:00.000Z"
        document["finished_at"] = f"2026-12-0{number + 2}T00:00:00.000Z"
        for run in document["workloads"]:
            if draw(st.booleans()):
                run["status"], run["error"] = "failed", "drawn failure"
                continue
            for epoch in run["epochs"]:
                total = draw(seconds)
                epoch.update(epoch_s=total, train_s=total * 0.8, validation_s=total * 0.2)
                images = run.get("train_images")
                if images:
                    epoch["images_per_s"] = images / epoch["train_s"]
            block = run.get("attribution")
            if isinstance(block, dict) and "input_only" in block:
                # Noise can put end-to-end above compute-only, and the reverse.
                block["input_only"]["images_per_s"] = draw(rates)
                block["compute_only"]["images_per_s"] = draw(rates)
        ok = any(run["status"] == "ok" for run in document["workloads"])
        document["status"] = "complete" if ok else "failed"
        found.append(document)
    return found


def _tree(folder: Path, machines: list[list[dict[str, Any]]]) -> None:
    for files in machines:
        for document in files:
            path = folder / document["machine"]["slug"]
            path.mkdir(parents=True, exist_ok=True)
            name = results.utc_stamp(results.checks.parse_timestamp(document["started_at"]))
            (path / f"{name}.json").write_text(results.dumps(document), encoding="utf-8")


@given(st.integers(1, 4).flatmap(lambda n: st.tuples(*[machine_files(f"m{i}") for i in range(n)])))
@settings(
    # 40 in the suite; BENCHBOOK_PROPERTY_EXAMPLES=2000 for a longer search.
    max_examples=int(os.environ.get("BENCHBOOK_PROPERTY_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
def test_every_report_computation_accepts_any_valid_tree(machines: tuple[Any, ...]) -> None:
    """Whatever valid files hold, no page computation raises; a figure that cannot be computed
    is NaN or says so, never an exception that stops the build."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "results"
        _tree(folder, list(machines))
        report = results.check_tree(folder)
        # Every draw is valid by construction: the property is about valid files.
        assert not report.problems, report.problems[:1]
        loaded = tables.load_results(folder)
        tables.overview(loaded)
        training_page.headlines(loaded)
        for comparison in training_page.comparisons(loaded.epochs):
            training_page.summarise(comparison)
            for machine in comparison.machines:
                ratio = comparison.ratio(comparison.machines[0], machine)
                assert isinstance(ratio.value, float)
        training_page.set_aside(loaded)
        hardware.hardware(loaded)
        scores.probe_scores(loaded)
        article.article_comparison(loaded)
        attribution.attribution_table(loaded)
        story = attribution.augmentation_story(loaded)
        texts = attribution.story_texts(story)
        assert all(isinstance(v, str) for v in texts.values())
        configs, found = compare_data.machine_summaries(loaded)
        index = compare_data.index(configs, found)
        slugs = sorted(found)
        for config in [*configs, compare_data.SCORES_ONLY]:
            rows = compare_data.pair_rows(found[slugs[0]], found[slugs[-1]], config, index)
            assert all(len(r) == 4 for r in rows)
        paths = [str(p) for p in loaded.files["path"]]
        for by_machine in standings.standings(zip(paths, loaded.documents, strict=True)).values():
            for standing in by_machine.values():
                assert standing.line()
                assert standing.percentile is None or 0 <= standing.percentile <= 100
                assert math.isfinite(standing.median_s)
