"""Energy counters, read over the same intervals the epoch clock times, without root.

Three sources, each read where the machine exposes it and said to be missing where not:

- ``zeus-apple-silicon`` (Apple silicon): Apple's IOReport "Energy Model" counters, cumulative
  millijoules for the CPU, GPU, Neural Engine and DRAM. Model-based estimates at 1 mJ resolution
  (the library's README), not sensor readings: ``kind`` ``estimate``.
- ``nvml`` (NVIDIA, Volta or newer): ``nvmlDeviceGetTotalEnergyConsumption``, millijoules since
  the driver loaded, per GPU, through ``nvidia-ml-py``. The board's own power sensor integrated
  by the driver: ``kind`` ``measurement``.
- ``rapl`` (Linux CPUs): ``energy_uj`` of each zone under ``/sys/class/powercap``, microjoules
  that wrap at ``max_energy_range_uj``. Readable only by root since the PLATYPUS fix
  (CVE-2020-8694): where it is not readable, the reason is recorded. RAPL is a model
  calibrated against measurements on recent CPUs: ``kind`` ``estimate``.

A counter gives cumulative joules per domain (`Counter.read`); `EnergyMeter.between` turns two
readings into the joules of the interval, adding the counter's range back once where it wrapped
(a reading lower than the one before, on a counter that wraps) and recording None with a note
where a counter that does not wrap went backwards (a driver reload resets NVML's). Nothing here
ever writes zero for "not measured".
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

POWERCAP = Path("/sys/class/powercap")
MAX_GPUS = 8
"""NVIDIA GPUs measured at most (``gpu0`` to ``gpu7``: the domains the results format lists)."""
MAX_SOCKETS = 4
"""CPU sockets measured at most (``package-0`` to ``package-3``, ``dram-0`` to ``dram-3``)."""
IDLE_SAMPLE_S = 1.0
"""How long the idle power is sampled before a run's first epoch, where a counter exists."""


APPLE_FIELDS = {"cpu": "cpu_total_mj", "gpu": "gpu_mj", "ane": "ane_mj", "dram": "dram_mj"}
"""Each Apple domain's field of ``AppleEnergyMetrics`` (millijoules; None where the chip has none)."""


class Counter(Protocol):
    """One source of cumulative energy counters."""

    source: str
    """``zeus-apple-silicon``, ``nvml`` or ``rapl``."""
    kind: str
    """``estimate`` (a model) or ``measurement`` (a sensor)."""
    domains: dict[str, float | None]
    """Each domain's wrap range in joules, or None where it does not wrap."""

    def read(self) -> dict[str, float | None]:
        """Cumulative joules of each domain now (None where this read failed)."""
        ...


@dataclass
class AppleCounter:
    """Apple silicon's IOReport energy counters through ``zeus_apple_silicon``."""

    monitor: Any
    source: str = "zeus-apple-silicon"
    kind: str = "estimate"
    domains: dict[str, float | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        first = self.monitor.get_cumulative_energy()
        self.domains = {
            name: None for name, attr in APPLE_FIELDS.items() if getattr(first, attr) is not None
        }

    def read(self) -> dict[str, float | None]:
        metrics = self.monitor.get_cumulative_energy()
        out: dict[str, float | None] = {}
        for name in self.domains:
            value = getattr(metrics, APPLE_FIELDS[name])
            out[name] = value / 1000 if value is not None else None
        return out


@dataclass
class NvmlCounter:
    """Each NVIDIA GPU's total energy since the driver loaded, through NVML."""

    nvml: Any
    handles: list[Any]
    source: str = "nvml"
    kind: str = "measurement"
    domains: dict[str, float | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.domains = {f"gpu{i}": None for i in range(len(self.handles))}

    def read(self) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        for i, handle in enumerate(self.handles):
            try:
                out[f"gpu{i}"] = self.nvml.nvmlDeviceGetTotalEnergyConsumption(handle) / 1000
            except self.nvml.NVMLError:
                out[f"gpu{i}"] = None
        return out


@dataclass
class RaplCounter:
    """The powercap zones' ``energy_uj`` (package, DRAM), each wrapping at its own range."""

    zones: dict[str, Path]
    source: str = "rapl"
    kind: str = "estimate"
    domains: dict[str, float | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.domains = {
            name: int((folder / "max_energy_range_uj").read_text()) / 1e6
            for name, folder in self.zones.items()
        }

    def read(self) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        for name, folder in self.zones.items():
            try:
                out[name] = int((folder / "energy_uj").read_text()) / 1e6
            except (OSError, ValueError):
                out[name] = None
        return out


Opener = Callable[[], Counter]


def _library(importer: Callable[[str], Any], module: str, missing: str) -> Any:
    """The optional library ``module``; `Unavailable` saying ``missing`` where it is not installed."""
    try:
        return importer(module)
    except ImportError:
        raise Unavailable(missing) from None


def open_apple(importer: Callable[[str], Any] = importlib.import_module) -> Counter:
    """The Apple silicon counter; raises `Unavailable` saying why not."""
    module = _library(
        importer, "zeus_apple_silicon", "zeus-apple-silicon is not installed (Apple silicon only)"
    )
    try:
        counter = AppleCounter(module.AppleEnergyMonitor())
    except Exception as exc:  # noqa: BLE001 (IOReport refused: say so)
        msg = f"IOReport gave no energy counters ({type(exc).__name__}: {str(exc)[:120]})"
        raise Unavailable(msg) from None
    if not counter.domains:
        msg = "IOReport lists no energy channel this library knows"
        raise Unavailable(msg)
    return counter


def open_nvml(importer: Callable[[str], Any] = importlib.import_module) -> Counter:
    """The NVIDIA counter; raises `Unavailable` saying why not."""
    nvml = _library(importer, "pynvml", "nvidia-ml-py is not installed")
    try:
        nvml.nvmlInit()
        count = min(nvml.nvmlDeviceGetCount(), MAX_GPUS)
        handles = [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
        if not handles:
            msg = "NVML lists no GPU"
            raise Unavailable(msg)
        for handle in handles:
            nvml.nvmlDeviceGetTotalEnergyConsumption(handle)  # NotSupported before Volta
    except nvml.NVMLError as exc:
        msg = str(exc)[:120] or f"NVML failed ({type(exc).__name__})"
        raise Unavailable(msg) from None
    return NvmlCounter(nvml, handles)


def _read_text(path: Path) -> str:
    return path.read_text()


def open_rapl(root: Path = POWERCAP, read: Callable[[Path], str] = _read_text) -> Counter:
    """The RAPL counter over the package and DRAM zones; raises `Unavailable` saying why not.
    ``read`` reads a file (tests refuse one as a non-root user would be refused)."""
    zones: dict[str, Path] = {}
    for folder in sorted(root.glob("*-rapl:*")) if root.is_dir() else []:
        try:
            name = (folder / "name").read_text().strip()
        except OSError:
            continue
        socket = folder.name.split(":")[1]
        if not socket.isdigit() or int(socket) >= MAX_SOCKETS:
            continue
        # Named by socket (the zone folder's number), as the results format lists them.
        if name.startswith("package"):
            zones[f"package-{socket}"] = folder
        elif name == "dram":
            zones[f"dram-{socket}"] = folder
    if not zones:
        msg = f"no RAPL package zone under {root}"
        raise Unavailable(msg)
    try:
        for folder in zones.values():
            int(read(folder / "energy_uj"))
            int(read(folder / "max_energy_range_uj"))
        counter = RaplCounter(zones)
    except PermissionError:
        msg = (
            "RAPL's energy_uj is readable by root only (CVE-2020-8694); "
            "not measured rather than run as root"
        )
        raise Unavailable(msg) from None
    except (OSError, ValueError) as exc:
        msg = f"RAPL cannot be read ({type(exc).__name__})"
        raise Unavailable(msg) from None
    return counter


class Unavailable(Exception):
    """A counter this machine does not offer, with the reason as its message."""


SOURCES: dict[str, Opener] = {
    "zeus-apple-silicon": open_apple,
    "nvml": open_nvml,
    "rapl": open_rapl,
}
"""Every source, in the order they are tried."""


@dataclass
class EnergyMeter:
    """The counters this machine offers, read together."""

    counters: list[Counter]
    unavailable: dict[str, str]
    """Each source this machine does not offer, and why."""
    notes: list[str] = field(default_factory=list)
    """What went wrong while reading (a wrap, a reset), one line each."""

    @classmethod
    def open(cls, sources: Mapping[str, Opener] = SOURCES) -> EnergyMeter:
        counters: list[Counter] = []
        unavailable: dict[str, str] = {}
        for name, opener in sources.items():
            try:
                counters.append(opener())
            except Unavailable as exc:
                unavailable[name] = str(exc)
        return cls(counters, unavailable)

    @property
    def available(self) -> bool:
        return any(c.domains for c in self.counters)

    def read(self) -> dict[str, float | None]:
        """Every domain's cumulative joules now."""
        out: dict[str, float | None] = {}
        for counter in self.counters:
            out.update(counter.read())
        return out

    def between(
        self, start: Mapping[str, float | None], end: Mapping[str, float | None]
    ) -> dict[str, float | None]:
        """The joules of each domain from reading ``start`` to reading ``end``."""
        out: dict[str, float | None] = {}
        for counter in self.counters:
            for domain, span in counter.domains.items():
                a, b = start.get(domain), end.get(domain)
                if a is None or b is None:
                    out[domain] = None
                elif b >= a:
                    out[domain] = b - a
                elif span is not None:
                    out[domain] = b + span - a
                    self.notes.append(f"{domain}: the counter wrapped once; its range was added")
                else:
                    out[domain] = None
                    self.notes.append(f"{domain}: the counter went backwards (reset); not measured")
        return out

    def idle_watts(
        self, seconds: float = IDLE_SAMPLE_S, sleep: Callable[[float], None] = time.sleep
    ) -> dict[str, float | None]:
        """Each domain's mean power over ``seconds`` of doing nothing."""
        start = self.read()
        sleep(seconds)
        joules = self.between(start, self.read())
        return {d: (j / seconds if j is not None else None) for d, j in joules.items()}

    def block(self, idle: Mapping[str, float | None] | None, idle_s: float) -> dict[str, Any]:
        """The run's ``energy`` block: where each domain's figures come from, the idle power,
        what was not available and why, and what went wrong while reading."""
        if not self.available:
            return {
                "status": "not-available",
                "domains": {},
                "idle_s": None,
                "idle_w": None,
                "unavailable": dict(self.unavailable),
                "notes": list(self.notes),
            }
        return {
            "status": "ok",
            "domains": {
                domain: {
                    "source": counter.source,
                    "kind": counter.kind,
                    "wraps_at_j": span,
                }
                for counter in self.counters
                for domain, span in counter.domains.items()
            },
            "idle_s": idle_s,
            "idle_w": dict(idle) if idle is not None else None,
            "unavailable": dict(self.unavailable),
            "notes": list(self.notes),
        }
