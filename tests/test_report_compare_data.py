"""Tests for bench/report/compare_data.py: per-machine comparison data, the page's arithmetic in
Python and in its script, and agreement with ``nox -s compare``."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench import stats
from bench.readers import comparison
from bench.report import compare_data, tables
from bench.results import fleet, model

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "docs" / "_static" / "compare.js"
TEMPLATES = [
    ROOT / "tests" / "data" / "validate" / "valid" / "amd-epyc-2c" / "20261128T200525Z.json",
    *sorted((ROOT / "tests" / "data" / "results" / "fixture-laptop-a").glob("*.json")),
]


@given(
    st.lists(st.floats(0.001, 1e6, allow_nan=False), min_size=1, max_size=300),
    st.integers(1, 3000),
    st.randoms(use_true_random=False),
)
@settings(max_examples=60, deadline=None)
def test_resamples_survive_the_compact_encoding_exactly(
    values: list[float], count: int, rng: random.Random
) -> None:
    """Any resample array decodes to exactly the values it was made of, in order."""
    resamples = np.array([rng.choice(values) for _ in range(count)])
    encoded = compare_data.encode(resamples)
    assert encoded["bits"] in (0, 1, 2, 4, 8, 16)
    assert np.array_equal(compare_data.decode(json.loads(json.dumps(encoded))), resamples)


@pytest.fixture(scope="module")
def fleet_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str]]:
    """A 12-machine fleet, and the Compare page's data written from it."""
    root = tmp_path_factory.mktemp("fleet")
    folder = root / "results"
    fleet.write_fleet(folder, 12, TEMPLATES)
    loaded = tables.load_results(folder)
    out = compare_data.write(loaded, root / "site")
    return folder, out, loaded.machines


def _sampled_pairs(machines: list[str], count: int) -> list[tuple[str, str]]:
    rng = random.Random(7)
    return [tuple(rng.sample(machines, 2)) for _ in range(count)]  # type: ignore[misc]


def _cli_verdicts(folder: Path, a: str, b: str) -> dict[tuple[str, str], str]:
    """``nox -s compare``'s verdict per (configuration, workload) for two machine folders."""
    side_a = comparison.load_side("A", folder / a)
    side_b = comparison.load_side("B", folder / b)
    # force: a workload with no common setting would refuse the whole command; such forced
    # pairings are left out here, as the page leaves them out.
    pairings, _ = comparison.pair(side_a, side_b, force=True)
    found = {}
    for p in pairings:
        if p.differs:
            continue
        last = comparison.render_pairing(p)[-1].strip()
        config = compare_data.configuration_id(model.as_dict(p.setting_a))
        found[(config, p.workload)] = last.removeprefix("B vs A: ")
    return found


def test_the_pages_rows_are_the_verdicts_compare_prints(
    fleet_site: tuple[Path, Path, list[str]],
) -> None:
    """For sampled pairs, each workload's verdict equals the CLI's for the same folders."""
    folder, out, machines = fleet_site
    index = json.loads((out / compare_data.INDEX).read_text(encoding="utf-8"))
    titles = dict(index["workloads"])
    checked = 0
    for a, b in _sampled_pairs(machines, 8):
        head_a = json.loads((out / "m" / f"{a}.json").read_text(encoding="utf-8"))
        head_b = json.loads((out / "m" / f"{b}.json").read_text(encoding="utf-8"))
        shared = sorted(set(head_a["configs"]) & set(head_b["configs"]))
        cli = _cli_verdicts(folder, a, b)
        for config in shared:
            rows = compare_data.pair_rows(
                compare_data.read(out, a, config), compare_data.read(out, b, config), config, index
            )
            for (at, workload), verdict in cli.items():
                if at != config:
                    continue
                row = next(r for r in rows if r[0] == titles[workload])
                assert row[3] == verdict, (a, b, workload)
                checked += 1
    assert checked >= 8


def test_score_rows_follow_the_scores_verdict() -> None:
    """A single file on a side gives the ratio without an interval; two give the interval."""
    one = {**compare_data._entry([[100.0]], ""), "files": 1}
    two = {**compare_data._entry([[200.0], [210.0]], ""), "files": 2}
    assert compare_data.score_verdict(one, two).endswith("(a single file on one side: no interval)")
    assert compare_data.score_verdict(one, two).startswith("2.05x faster")
    other = {**compare_data._entry([[100.0], [101.0]], ""), "files": 2}
    assert compare_data.score_verdict(other, two) == stats.verdict(
        stats.ratio_interval([[200.0], [210.0]], [[100.0], [101.0]])
    )


def test_configuration_ids_name_every_field_that_differs() -> None:
    """Two TensorFlow releases are two configurations, and their descriptions say which."""
    base = dict.fromkeys(compare_data.CONFIGURATION, "x")
    base.update(backend="tensorflow", backend_version="2.18.1", intra_op_threads=0,
                image_size=224, dataset_fingerprint="abcdef0123")  # fmt: skip
    newer = {**base, "backend_version": "2.19.0"}
    assert compare_data.configuration_id(base) != compare_data.configuration_id(newer)
    assert "TensorFlow 2.18.1" in compare_data.configuration_text({**base, "workload": "cnn",
                                                                "weights": "none"})  # fmt: skip
    assert "TensorFlow 2.19.0" in compare_data.configuration_text({**newer, "workload": "cnn",
                                                                 "weights": "none"})  # fmt: skip
    # The weights are not part of it: one run's CNN and VGG-16 are one configuration.
    assert compare_data.configuration_id(
        {**base, "weights": "none"}
    ) == compare_data.configuration_id({**base, "weights": "random"})


NODE = shutil.which("node") or shutil.which("nodejs")


@pytest.mark.skipif(NODE is None, reason="needs Node.js (.ci/run installs Debian's nodejs)")
def test_the_pages_script_computes_what_python_computes(
    fleet_site: tuple[Path, Path, list[str]], tmp_path: Path
) -> None:
    """compare.js, run by Node on the same files, gives Python's rows for sampled pairs, and
    formats ties as Python does (half to even)."""
    _, out, machines = fleet_site
    index = json.loads((out / compare_data.INDEX).read_text(encoding="utf-8"))
    cases = []
    for a, b in _sampled_pairs(machines, 10):
        head_a = json.loads((out / "m" / f"{a}.json").read_text(encoding="utf-8"))
        head_b = json.loads((out / "m" / f"{b}.json").read_text(encoding="utf-8"))
        shared = sorted(set(head_a["configs"]) & set(head_b["configs"])) or [
            compare_data.SCORES_ONLY
        ]
        for config in shared:
            x, y = compare_data.read(out, a, config), compare_data.read(out, b, config)
            cases.append({"a": x, "b": y, "config": config,
                          "rows": compare_data.pair_rows(x, y, config, index)})  # fmt: skip
    ties = [0.125, 0.375, 1.125, 2.625, 0.005, 1.005, 2.675, 1 / 3, 1234.5678, 0.0, 7.0]
    program = (
        f"const page = require({json.dumps(str(SCRIPT))});\n"
        "const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));\n"
        "const rows = input.cases.map((c) => page.pairRows(c.a, c.b, c.config, input.index));\n"
        "const fixed = input.ties.map((x) => page.fixed(x, 2));\n"
        "process.stdout.write(JSON.stringify({ rows, fixed }));\n"
    )
    script = tmp_path / "check.js"
    script.write_text(program, encoding="utf-8")
    assert NODE is not None
    proc = subprocess.run(
        [NODE, str(script)],
        input=json.dumps({"cases": cases, "index": index, "ties": ties}),
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    answer = json.loads(proc.stdout)
    assert answer["rows"] == [c["rows"] for c in cases]
    assert answer["fixed"] == [f"{x:.2f}" for x in ties]
    assert len(cases) >= 10


def test_the_compare_pages_texts_show_hidden_characters_as_escapes() -> None:
    """A label or a version with a bidi override reaches the Compare page's data escaped."""
    assert compare_data._label("MacBook\u202e Air") == "MacBook\\u202e Air"
    setting = dict.fromkeys(compare_data.CONFIGURATION, "x")
    setting.update(workload="cnn", weights="none", backend="tensorflow", intra_op_threads=0,
                   image_size=224, dataset_fingerprint="ab", keras="3.15\u200b.1")  # fmt: skip
    assert "3.15\\u200b.1" in compare_data.configuration_text(setting)
