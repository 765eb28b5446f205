"""Tests for bench/worker/energy.py: each counter driven through begin, end, wrap, reset and
missing-permission cases by fakes (a powercap tree, a zeus_apple_silicon module, an NVML), and
the epoch clock reading them at its own readings."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bench import results
from bench.worker import clock, energy

# ---------------------------------------------------------------------------------------------
# Fakes.


def powercap(root: Path, zones: dict[str, tuple[str, int, int]]) -> Path:
    """A powercap tree: ``{folder: (name, energy_uj, max_energy_range_uj)}``."""
    for folder, (name, value, span) in zones.items():
        zone = root / folder
        zone.mkdir(parents=True)
        (zone / "name").write_text(name + "\n")
        (zone / "energy_uj").write_text(f"{value}\n")
        (zone / "max_energy_range_uj").write_text(f"{span}\n")
    return root


def set_uj(root: Path, folder: str, value: int) -> None:
    (root / folder / "energy_uj").write_text(f"{value}\n")


class FakeAppleMonitor:
    """zeus_apple_silicon.AppleEnergyMonitor: cumulative millijoules, the ANE absent."""

    def __init__(self) -> None:
        self.mj = {"cpu_total_mj": 1_000, "gpu_mj": 5_000, "dram_mj": 300}

    def get_cumulative_energy(self) -> Any:
        return SimpleNamespace(**self.mj, ane_mj=None)


class FakeNvml:
    """pynvml: two GPUs whose total-energy counters the test sets."""

    class NVMLError(Exception):
        pass

    def __init__(self, supported: bool = True) -> None:
        self.mj = [10_000, 20_000]
        self.supported = supported

    def nvmlInit(self) -> None:
        pass

    def nvmlDeviceGetCount(self) -> int:
        return len(self.mj)

    def nvmlDeviceGetHandleByIndex(self, i: int) -> int:
        return i

    def nvmlDeviceGetTotalEnergyConsumption(self, handle: int) -> int:
        if not self.supported:
            msg = "Not Supported"
            raise self.NVMLError(msg)
        return self.mj[handle]


def importer_of(modules: dict[str, Any]) -> Any:
    def load(name: str) -> Any:
        if name not in modules:
            raise ImportError(name)
        return modules[name]

    return load


# ---------------------------------------------------------------------------------------------
# RAPL.


def test_rapl_reads_package_and_dram_zones_and_adds_a_wrap_back(tmp_path: Path) -> None:
    """Package and DRAM zones are read (core and uncore are inside the package: skipped); a
    counter lower than before wrapped once, and its range is added back, with a note."""
    root = powercap(
        tmp_path,
        {
            "intel-rapl:0": ("package-0", 900_000_000, 1_000_000_000),
            "intel-rapl:0:0": ("core", 5, 1_000_000_000),
            "intel-rapl:0:2": ("dram", 1_000_000, 65_000_000),
        },
    )
    meter = energy.EnergyMeter([energy.open_rapl(root)], {})
    assert meter.counters[0].domains == {"package-0": 1000.0, "dram-0": 65.0}
    start = meter.read()
    set_uj(root, "intel-rapl:0", 100_000_000)  # wrapped: 900 J -> 1000 J -> 100 J
    set_uj(root, "intel-rapl:0:2", 3_500_000)
    joules = meter.between(start, meter.read())
    assert joules == {"package-0": pytest.approx(200.0), "dram-0": pytest.approx(2.5)}
    assert meter.notes == ["package-0: the counter wrapped once; its range was added"]


def test_rapl_readable_by_root_only_is_unavailable_with_the_reason(tmp_path: Path) -> None:
    """Where energy_uj is root's alone (CVE-2020-8694), RAPL is not available, and says why;
    nothing is recorded as zero."""
    root = powercap(tmp_path, {"intel-rapl:0": ("package-0", 1, 1_000_000)})

    def read(path: Path) -> str:
        if path.name == "energy_uj":
            raise PermissionError(13, "Permission denied", str(path))
        return path.read_text()

    with pytest.raises(energy.Unavailable, match=r"readable by root only \(CVE-2020-8694\)"):
        energy.open_rapl(root, read=read)
    with pytest.raises(energy.Unavailable, match="no RAPL package zone"):
        energy.open_rapl(tmp_path / "missing")


# ---------------------------------------------------------------------------------------------
# Apple silicon.


def test_apple_counters_in_joules_without_the_missing_domains() -> None:
    """IOReport's cumulative millijoules become joules; a domain the chip lacks (None) is not
    a domain at all, so it is never shown as zero."""
    monitor = FakeAppleMonitor()
    counter = energy.open_apple(
        importer_of({"zeus_apple_silicon": SimpleNamespace(AppleEnergyMonitor=lambda: monitor)})
    )
    assert (counter.source, counter.kind) == ("zeus-apple-silicon", "estimate")
    meter = energy.EnergyMeter([counter], {})
    start = meter.read()
    monitor.mj = {"cpu_total_mj": 4_500, "gpu_mj": 25_000, "dram_mj": 300}
    assert meter.between(start, meter.read()) == {"cpu": 3.5, "gpu": 20.0, "dram": 0.0}
    assert "ane" not in counter.domains


def test_apple_without_the_library_is_one_reason() -> None:
    with pytest.raises(energy.Unavailable, match="zeus-apple-silicon is not installed"):
        energy.open_apple(importer_of({}))


# ---------------------------------------------------------------------------------------------
# NVML.


def test_nvml_per_gpu_and_a_reset_is_not_measured() -> None:
    """Each GPU is a domain; a counter that went backwards (a driver reload) does not wrap, so
    that interval is None with a note, and the other GPU is still measured."""
    nvml = FakeNvml()
    counter = energy.open_nvml(importer_of({"pynvml": nvml}))
    assert (counter.source, counter.kind) == ("nvml", "measurement")
    meter = energy.EnergyMeter([counter], {})
    start = meter.read()
    nvml.mj = [70_000, 5]
    assert meter.between(start, meter.read()) == {"gpu0": 60.0, "gpu1": None}
    assert meter.notes == ["gpu1: the counter went backwards (reset); not measured"]


def test_every_domain_a_counter_can_name_is_one_the_format_lists(tmp_path: Path) -> None:
    """Ten GPUs and six sockets give the first 8 and 4: a big machine's file stays valid."""
    nvml = FakeNvml()
    nvml.mj = list(range(10))
    named = set(energy.open_nvml(importer_of({"pynvml": nvml})).domains)
    assert named == {f"gpu{i}" for i in range(8)}
    zones = {f"intel-rapl:{i}": ("package-x", 1, 10) for i in range(6)}
    zones |= {f"intel-rapl:{i}:2": ("dram", 1, 10) for i in range(6)}
    named |= set(energy.open_rapl(powercap(tmp_path, zones)).domains)
    named |= set(energy.APPLE_FIELDS)
    listed = set(results.schema()["$defs"]["joules_by_domain"]["properties"])
    assert named <= listed
    assert {f"package-{i}" for i in range(4)} | {f"dram-{i}" for i in range(4)} <= named


def test_nvml_before_volta_or_missing_is_unavailable() -> None:
    with pytest.raises(energy.Unavailable, match=r"^Not Supported$"):
        energy.open_nvml(importer_of({"pynvml": FakeNvml(supported=False)}))
    with pytest.raises(energy.Unavailable, match="nvidia-ml-py is not installed"):
        energy.open_nvml(importer_of({}))


# ---------------------------------------------------------------------------------------------
# The meter, the clock and the file.


def _unavailable(reason: str) -> Any:
    def opener() -> Any:
        raise energy.Unavailable(reason)

    return opener


def test_a_machine_without_counters_says_so_for_each_source() -> None:
    """This VM's case: every source unavailable, each with its reason; the block says
    not-available and holds no figure."""
    meter = energy.EnergyMeter.open(
        {name: _unavailable(f"{name} missing") for name in energy.SOURCES}
    )
    assert not meter.available
    block = meter.block(None, energy.IDLE_SAMPLE_S)
    assert block["status"] == "not-available"
    assert block["domains"] == {}
    assert block["idle_w"] is None
    assert block["unavailable"] == {name: f"{name} missing" for name in energy.SOURCES}


def test_idle_power_is_the_mean_over_the_sample(tmp_path: Path) -> None:
    """The idle sample reads, waits, reads: watts are joules over the seconds waited."""
    root = powercap(tmp_path, {"intel-rapl:0": ("package-0", 0, 1_000_000_000)})
    meter = energy.EnergyMeter([energy.open_rapl(root)], {})

    def wait(seconds: float) -> None:
        set_uj(root, "intel-rapl:0", int(seconds * 7_000_000))  # 7 W

    assert meter.idle_watts(2.0, sleep=wait) == {"package-0": pytest.approx(7.0)}


def test_the_epoch_clock_reads_the_counters_at_its_own_readings(tmp_path: Path) -> None:
    """Energy over the training phase and over the whole epoch, at the clock's readings; a run
    without counters has no energy_j at all."""
    root = powercap(tmp_path, {"intel-rapl:0": ("package-0", 0, 1_000_000_000)})
    meter = energy.EnergyMeter([energy.open_rapl(root)], {})
    ticks = iter([0.0, 2.0, 2.5, 3.0])
    timer = clock.EpochClock(10, now=lambda: next(ticks), meter=meter)
    timer.begin_epoch()
    set_uj(root, "intel-rapl:0", 40_000_000)
    timer.begin_validation()
    set_uj(root, "intel-rapl:0", 50_000_000)
    timer.end_validation()
    record = timer.end_epoch(0, {})
    assert record["energy_j"] == {"train": {"package-0": 40.0}, "epoch": {"package-0": 50.0}}
    plain = clock.EpochClock(10, now=iter([0.0, 1.0, 1.5, 2.0]).__next__)
    plain.begin_epoch()
    plain.begin_validation()
    plain.end_validation()
    assert "energy_j" not in plain.end_epoch(0, {})


def _document_with_energy() -> dict[str, Any]:
    from test_results import minimal

    document = minimal()
    run = document["workloads"][0]
    run["energy"] = {
        "status": "ok",
        "domains": {"package-0": {"source": "rapl", "kind": "estimate", "wraps_at_j": 262143.3}},
        "idle_s": 1.0,
        "idle_w": {"package-0": 6.5},
        "unavailable": {"nvml": "nvidia-ml-py is not installed"},
        "notes": [],
    }
    for epoch in run["epochs"]:
        epoch["energy_j"] = {"train": {"package-0": 40.0}, "epoch": {"package-0": 50.0}}
    return document


def test_the_energy_fields_validate_and_unknown_domains_are_refused() -> None:
    """The schema takes the energy block and per-epoch joules; a domain no counter names, or a
    negative figure, is refused by field."""
    document = _document_with_energy()
    assert results.loads(json.dumps(document), "energy.json")["workloads"][0]["energy"]
    bad = copy.deepcopy(document)
    bad["workloads"][0]["epochs"][0]["energy_j"]["epoch"]["\x1b[31mred"] = 1.0
    with pytest.raises(results.ResultsError, match="energy_j/epoch"):
        results.loads(json.dumps(bad), "bad.json")
    bad = copy.deepcopy(document)
    bad["workloads"][0]["epochs"][0]["energy_j"]["train"]["package-0"] = -1.0
    with pytest.raises(results.ResultsError, match="energy_j/train/package-0"):
        results.loads(json.dumps(bad), "bad.json")


# ---------------------------------------------------------------------------------------------
# What readers and the report make of it.


def test_the_summary_gives_joules_images_per_joule_and_watts() -> None:
    """Medians over the measured epochs (warm-up left out), as for time."""
    from bench.readers import energy as readers

    run = _document_with_energy()["workloads"][0]
    found = readers.of_run(run)
    assert found is not None
    measured = [e for e in run["epochs"] if not e["warmup"]]
    assert found.joules_per_epoch == 50.0
    images = measured[0]["images_per_s"] * measured[0]["train_s"]
    assert found.images_per_joule == pytest.approx(images / 40.0)
    assert found.watts == pytest.approx(50.0 / measured[0]["epoch_s"])
    assert found.idle_watts == 6.5
    lines = readers.summary_lines([run])
    assert lines[0] == "Energy per epoch (RAPL estimate):"
    assert lines[1].startswith("  cnn #1: 50.0 J/epoch, ")


def test_a_machine_without_counters_gets_one_line_saying_why() -> None:
    from bench.readers import energy as readers

    run = _document_with_energy()["workloads"][0]
    run["energy"] = energy.EnergyMeter([], {"rapl": "no RAPL package zone under /x"}).block(
        None, 1.0
    )
    for epoch in run["epochs"]:
        del epoch["energy_j"]
    assert readers.of_run(run) is None
    assert readers.summary_lines([run]) == [
        "Energy: not available on this machine (RAPL: no RAPL package zone under /x)"
    ]
    del run["energy"]  # a file from before energy was recorded says nothing
    assert readers.summary_lines([run]) == []


def test_an_epoch_missing_one_domain_has_no_total() -> None:
    """A part is never passed off as the whole."""
    from bench.readers import energy as readers

    assert readers.total({"cpu": 3.0, "gpu": 4.0}) == 7.0
    assert readers.total({"cpu": 3.0, "gpu": None}) is None
    assert readers.total({}) is None


def test_the_report_shows_energy_columns_only_where_a_machine_has_them(tmp_path: Path) -> None:
    """Training tables gain J/epoch and images/J where any machine measured energy, and have
    no energy column at all where none did; the page's note says which."""
    from bench.report import tables, training

    with_energy = tables.tidy([(tmp_path / "a.json", _document_with_energy())])
    (comparison,) = training.comparisons(with_energy.epochs)
    table = training.training_table(comparison, comparison.machines[0])
    assert table["J/epoch"].tolist() == ["50.0 J"]
    assert "have energy counters" in training.energy_note(with_energy)
    plain_document = _document_with_energy()
    for run in plain_document["workloads"]:
        del run["energy"]
        for epoch in run["epochs"]:
            del epoch["energy_j"]
    plain = tables.tidy([(tmp_path / "b.json", plain_document)])
    (comparison,) = training.comparisons(plain.epochs)
    table = training.training_table(comparison, comparison.machines[0])
    assert "J/epoch" not in table
    assert "Images/J" not in table
    assert training.energy_note(plain).startswith("Energy per epoch: not available on any")


def test_the_efficiency_chart_names_the_most_efficient_machine(tmp_path: Path) -> None:
    """One dot per machine with counters: at the same power the faster machine does more per
    joule, and is named; with no counters anywhere the chart says what a machine needs."""
    from documents import FIXTURES, with_energy

    from bench.report import charts, tables, training

    paths = [
        min((FIXTURES / name).glob("*.json")) for name in ("fixture-laptop-a", "fixture-laptop-b")
    ]
    documents = [(tmp_path / f"{i}.json", with_energy(p, 100.0)) for i, p in enumerate(paths)]
    found = tables.tidy(documents)
    chosen = training.energy_comparisons(found)
    assert chosen
    comparison = chosen["cnn"]
    summary = training.summarise(comparison)
    fastest = summary.sort_values("median_images_per_s", ascending=False)["machine"].iloc[0]
    chart = charts.efficiency_chart(found)
    assert chart.title.startswith(f"{len(summary)} machines with energy counters; most efficient")
    assert f"Custom CNN: {fastest} (" in chart.title
    assert "most efficient" in chart.alt
    plain = tables.tidy([(tmp_path / "p.json", results.load(paths[0]))])
    assert training.energy_comparisons(plain) == {}
    empty = charts.efficiency_chart(plain)
    assert empty.title == "No energy figures yet"
    assert "not available on any" in empty.caption
