"""What reading the energy counters costs an epoch, measured with fake counters.

The epoch clock reads every counter three times an epoch (its start, validation's start, its
end) and works out two intervals. This times those three reads and two intervals against a
fake RAPL tree of two packages and two DRAM zones in a temporary folder (files read as the kernel's
would be, one open and read per zone), a fake NVML of 8 GPUs and a fake Apple monitor, all at once
(more than any one machine has), and prints the cost per epoch beside the shortest quick-profile
CNN epoch in results/ (the smallest median measured epoch of any quick CNN run: the worst case),
or ``--epoch-s``.

    python scripts/benchmark_energy.py [--rounds 20000] [--epoch-s 5.0]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import results
from bench.results import model
from bench.worker import clock, energy


class _Nvml:
    class NVMLError(Exception):
        pass

    def nvmlDeviceGetTotalEnergyConsumption(self, handle: int) -> int:
        return 1_000 + handle


class _Apple:
    def get_cumulative_energy(self) -> Any:
        return SimpleNamespace(cpu_total_mj=1, gpu_mj=2, ane_mj=3, dram_mj=4)


def _tree(root: Path) -> Path:
    zones = {
        "intel-rapl:0": "package-0",
        "intel-rapl:1": "package-1",
        "intel-rapl:0:2": "dram",
        "intel-rapl:1:2": "dram",
    }
    for folder, name in zones.items():
        zone = root / folder
        zone.mkdir(parents=True)
        (zone / "name").write_text(name + "\n")
        (zone / "energy_uj").write_text("123456789\n")
        (zone / "max_energy_range_uj").write_text("262143328850\n")
    return root


def _quick_cnn_epoch_s() -> tuple[float, str] | None:
    found: list[tuple[str, list[float], str]] = []
    for file in sorted(Path("results").glob("*/*.json")):
        document = results.load(file)
        if document["config"]["profile"] != "quick":
            continue
        for run in document["workloads"]:
            if run["workload"] == "cnn" and run["status"] == "ok":
                found.append((document["started_at"], model.epoch_seconds(run), str(file)))
    if not found:
        return None
    seconds, name = min((statistics.median(s), name) for _, s, name in found)
    return seconds, name


def _epochs(timer: clock.EpochClock, rounds: int) -> float:
    """Seconds per epoch of the clock's own work: four readings and the record."""
    start = time.perf_counter()
    for i in range(rounds):
        timer.begin_epoch()
        timer.begin_validation()
        timer.end_validation()
        timer.end_epoch(i, {})
    timer.epochs.clear()
    return (time.perf_counter() - start) / rounds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20_000)
    parser.add_argument("--epoch-s", type=float, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        counters = [
            energy.open_rapl(_tree(Path(tmp))),
            energy.NvmlCounter(_Nvml(), list(range(8))),
            energy.AppleCounter(_Apple()),
        ]
        meter = energy.EnergyMeter(counters, {})
        plain: list[float] = []
        metered: list[float] = []
        for _ in range(5):  # interleaved, A B A B: a slow spell of the host hits both
            plain.append(_epochs(clock.EpochClock(1), args.rounds))
            metered.append(_epochs(clock.EpochClock(1, meter=meter), args.rounds))
    cost = statistics.median(metered) - statistics.median(plain)
    domains = sum(len(c.domains) for c in counters)
    print(
        f"energy counters: {domains} domains read 3 times per epoch: {cost * 1e6:.1f} us per "
        f"epoch more than the clock alone ({statistics.median(plain) * 1e6:.1f} us), "
        f"medians of 5 x {args.rounds:,} epochs"
    )
    epoch = (args.epoch_s, "--epoch-s") if args.epoch_s else _quick_cnn_epoch_s()
    if epoch is None:
        print("no quick-profile CNN epoch in results/ to compare with; give --epoch-s")
        return 0
    seconds, source = epoch
    print(f"quick CNN epoch: {seconds:.2f} s ({source}): overhead {cost / seconds:.5%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
