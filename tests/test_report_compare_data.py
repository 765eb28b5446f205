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
from documents import with_energy, write
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


def _cli_verdicts(
    folder: Path, a: str, b: str, prefix: str = "B vs A: "
) -> dict[tuple[str, str], str]:
    """``nox -s compare``'s verdict per (configuration, workload) for two machine folders: the
    one line of each workload's block that starts with ``prefix`` (time, or with
    ``B vs A energy: `` joules), without it."""
    side_a = comparison.load_side("A", folder / a)
    side_b = comparison.load_side("B", folder / b)
    # force: a workload with no common setting would refuse the whole command; such forced
    # pairings are left out here, as the page leaves them out.
    pairings, _ = comparison.pair(side_a, side_b, force=True)
    found = {}
    for p in pairings:
        if p.differs:
            continue
        lines = [line.strip() for line in comparison.render_pairing(p)]
        (verdict,) = [line for line in lines if line.startswith(prefix)]
        config = compare_data.configuration_id(model.as_dict(p.setting_a))
        found[(config, p.workload)] = verdict.removeprefix(prefix)
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


@pytest.fixture(scope="module")
def energy_fleet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str]]:
    """An 8-machine fleet whose every run has NVML energy figures, and its Compare data."""
    root = tmp_path_factory.mktemp("energy")
    templates = [
        write(root / "templates" / f"{i}.json", with_energy(path, watts))
        for i, (path, watts) in enumerate(zip(ENERGY_TEMPLATES, (150.0, 90.0), strict=True))
    ]
    folder = root / "results"
    fleet.write_fleet(folder, 8, templates)
    loaded = tables.load_results(folder)
    return folder, compare_data.write(loaded, root / "site"), loaded.machines


ENERGY_TEMPLATES = sorted((ROOT / "tests" / "data" / "results" / "fixture-laptop-a").glob("*.json"))


def test_energy_rows_are_the_energy_verdicts_compare_prints(
    energy_fleet: tuple[Path, Path, list[str]],
) -> None:
    """Where both machines have counters, each workload gains an energy row with its interval,
    whose verdict equals the CLI's for the same folders."""
    folder, out, machines = energy_fleet
    index = json.loads((out / compare_data.INDEX).read_text(encoding="utf-8"))
    titles = dict(index["workloads"])
    checked = 0
    for a, b in _sampled_pairs(machines, 6):
        for (config, workload), verdict in _cli_verdicts(folder, a, b, "B vs A energy: ").items():
            rows = compare_data.pair_rows(
                compare_data.read(out, a, config), compare_data.read(out, b, config), config, index
            )
            (row,) = [r for r in rows if r[0] == f"{titles[workload]}, energy per epoch"]
            assert " J (95 % CI " in row[1]
            assert row[3] == verdict
            assert verdict.startswith("no clear difference") or "energy" in verdict
            checked += 1
    assert checked >= 6


def test_the_rankings_rank_energy_among_the_machines_with_counters(
    energy_fleet: tuple[Path, Path, list[str]], fleet_site: tuple[Path, Path, list[str]]
) -> None:
    """Most efficient first: rank 1 has the fewest joules per epoch of its configuration; a
    machine without counters has no energy figures (null), never zero."""
    _, out, _ = energy_fleet
    data = json.loads((out / compare_data.RANKINGS).read_text(encoding="utf-8"))
    rows = [dict(zip(data["columns"], r, strict=True)) for r in data["rows"]]
    groups: dict[tuple[str, str, str], list[dict[str, object]]] = {}
    for row in rows:
        groups.setdefault((row["config"], row["workload"], row["weights"]), []).append(row)
    for group in groups.values():
        assert all(r["of_j"] == len(group) for r in group)
        best = min(group, key=lambda r: r["median_j"])  # type: ignore[return-value]
        assert best["rank_j"] == 1
        assert all(r["low_j"] <= r["median_j"] <= r["high_j"] for r in group)
    _, plain, _ = fleet_site
    data = json.loads((plain / compare_data.RANKINGS).read_text(encoding="utf-8"))
    columns = data["columns"]
    assert all(r[columns.index("median_j")] is None for r in data["rows"])
    assert all(r[columns.index("rank_j")] is None for r in data["rows"])


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


def _script_agrees(out: Path, machines: list[str], tmp_path: Path) -> int:
    """Run compare.js under Node on sampled pairs of the site at ``out``; assert its rows are
    Python's and its ties are formatted as Python's; the number of cases."""
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
    return len(cases)


@pytest.mark.skipif(NODE is None, reason="needs Node.js (.ci/run installs Debian's nodejs)")
def test_the_pages_script_computes_what_python_computes(
    fleet_site: tuple[Path, Path, list[str]], tmp_path: Path
) -> None:
    """compare.js, run by Node on the same files, gives Python's rows for sampled pairs, and
    formats ties as Python does (half to even)."""
    _, out, machines = fleet_site
    assert _script_agrees(out, machines, tmp_path) >= 10


@pytest.mark.skipif(NODE is None, reason="needs Node.js (.ci/run installs Debian's nodejs)")
def test_the_pages_script_words_energy_as_python_does(
    energy_fleet: tuple[Path, Path, list[str]], tmp_path: Path
) -> None:
    """The energy rows too: compare.js gives Python's rows for machines with counters."""
    _, out, machines = energy_fleet
    assert _script_agrees(out, machines, tmp_path) >= 10
    index = json.loads((out / compare_data.INDEX).read_text(encoding="utf-8"))
    a, b = machines[:2]
    config = json.loads((out / "m" / f"{a}.json").read_text(encoding="utf-8"))["configs"][0]
    rows = compare_data.pair_rows(
        compare_data.read(out, a, config), compare_data.read(out, b, config), config, index
    )
    assert any(r[0].endswith(", energy per epoch") for r in rows)


def test_the_compare_pages_texts_show_hidden_characters_as_escapes() -> None:
    """A label or a version with a bidi override reaches the Compare page's data escaped."""
    assert compare_data._label("MacBook\u202e Air") == "MacBook\\u202e Air"
    setting = dict.fromkeys(compare_data.CONFIGURATION, "x")
    setting.update(workload="cnn", weights="none", backend="tensorflow", intra_op_threads=0,
                   image_size=224, dataset_fingerprint="ab", keras="3.15\u200b.1")  # fmt: skip
    assert "3.15\\u200b.1" in compare_data.configuration_text(setting)
