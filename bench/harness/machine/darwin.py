"""macOS: ``sysctl``, ``sw_vers``, ``system_profiler`` and ``pmset``, parsed from their text."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from bench.harness.machine.commands import Runner, whole_count
from bench.results.model import clip

_VENDOR_NAMES = {"apple": "Apple", "amd": "AMD", "ati": "AMD", "intel": "Intel", "nvidia": "NVIDIA"}

# One sysctl call answers all of these; `hw.perflevel*` and `hw.optional.arm.*` need macOS 12.
DARWIN_SYSCTL_KEYS = (
    "machdep.cpu.brand_string",
    "hw.model",
    "hw.memsize",
    "hw.physicalcpu",
    "hw.logicalcpu",
    "hw.perflevel0.physicalcpu",
    "hw.perflevel1.physicalcpu",
    "sysctl.proc_translated",
    "hw.optional.neon",
    "hw.optional.arm.FEAT_BF16",
    "hw.optional.arm.FEAT_I8MM",
)


DARWIN_FLAG_KEYS = {
    "hw.optional.neon": "neon",
    "hw.optional.arm.FEAT_BF16": "bf16",
    "hw.optional.arm.FEAT_I8MM": "i8mm",
}


SYSTEM_PROFILER_DISPLAYS = ["system_profiler", "SPDisplaysDataType", "-json"]


def parse_sysctl(text: str) -> dict[str, str]:
    """The ``key: value`` lines that macOS ``sysctl key1 key2 ...`` prints."""
    pairs: dict[str, str] = {}
    for line in text.splitlines():
        match = re.match(r"^([A-Za-z0-9_.]+):\s?(.*)$", line)
        if match:
            pairs[match.group(1)] = match.group(2).strip()
    return pairs


def parse_sw_vers(text: str) -> dict[str, str]:
    """``ProductName``, ``ProductVersion`` and ``BuildVersion`` from macOS ``sw_vers``."""
    pairs: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() and value.strip():
            pairs[key.strip()] = value.strip()
    return pairs


def _display_vendor(raw: Any) -> str | None:
    if not isinstance(raw, str):
        return None
    name = re.sub(r"^sppci_vendor_", "", raw.strip())
    name = re.sub(r"\s*\(0x[0-9a-fA-F]+\)$", "", name)  # "Apple (0x106b)" in some versions
    return _VENDOR_NAMES.get(name.lower(), clip(name))


def _metal_support(raw: Any) -> str | None:
    if not isinstance(raw, str):
        return None
    value = re.sub(r"^spdisplays_", "", raw.strip())
    match = re.fullmatch(r"metal(\d+)", value, re.IGNORECASE)
    return f"Metal {match.group(1)}" if match else clip(value)


def _vram_bytes(raw: Any) -> int | None:
    if not isinstance(raw, str):
        return None
    match = re.fullmatch(r"\s*(\d+)\s*(MB|GB)\s*", raw)
    if match is None:
        return None
    return int(match.group(1)) * (1024**2 if match.group(2) == "MB" else 1024**3)


def parse_system_profiler_displays(json_text: str) -> list[dict[str, Any]]:
    """GPUs from ``system_profiler SPDisplaysDataType -json`` on macOS.

    Returns
    -------
    list of dict
        One ``$defs/gpu`` object per graphics processor: name (``sppci_model``), vendor,
        GPU cores (``sppci_cores``, Apple silicon), Metal support
        (``spdisplays_mtlgpufamilysupport``: ``spdisplays_metal3`` becomes ``Metal 3``) and
        dedicated memory where there is any (Intel Macs). Empty when the text is not that JSON.
    """
    try:
        data = json.loads(json_text)
    except (ValueError, RecursionError):
        return []
    items = data.get("SPDisplaysDataType") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return []
    gpus: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        name = item.get("sppci_model") or item.get("_name")
        if not isinstance(name, str) or not name.strip():
            continue
        cores = item.get("sppci_cores")
        vram = item.get("spdisplays_vram") or item.get("_spdisplays_vram")
        gpus.append(
            {
                "name": clip(name) or "unknown",
                "vendor": _display_vendor(item.get("spdisplays_vendor")),
                "driver": None,
                "memory_bytes": _vram_bytes(vram),
                "cores": whole_count(cores) if isinstance(cores, str) else None,
                "metal_support": _metal_support(
                    item.get("spdisplays_mtlgpufamilysupport") or item.get("spdisplays_metal")
                ),
            }
        )
    return gpus


def parse_pmset_batt(text: str) -> dict[str, Any]:
    """Power source and battery state from macOS ``pmset -g batt``.

    Returns
    -------
    dict
        ``power_source`` (``AC Power``, ``Battery Power`` or ``UPS Power``),
        ``battery_percent`` and ``battery_state`` (``charged``, ``charging``, ``discharging``,
        ...); None where the text does not say (a desktop Mac has no battery line).
    """
    source = re.search(r"Now drawing from '([^']+)'", text)
    battery = re.search(r"(\d+)%;\s*([^;]+?)\s*;", text)
    return {
        "power_source": clip(source.group(1)) if source else None,
        "battery_percent": int(battery.group(1)) if battery else None,
        "battery_state": clip(battery.group(2)) if battery else None,
    }


def parse_pmset_therm(text: str) -> dict[str, int | None]:
    """Thermal and CPU power limits from macOS ``pmset -g therm``.

    Returns
    -------
    dict
        ``thermal_warning_level`` and ``performance_warning_level`` (None when pmset says none
        has been recorded, the usual case on Apple silicon), and ``cpu_scheduler_limit``,
        ``cpu_available_cpus`` and ``cpu_speed_limit`` (percentages and a count; a speed limit
        under 100 means the CPU is being throttled; None when not reported).
    """

    def number(pattern: str) -> int | None:
        match = re.search(pattern, text, re.IGNORECASE)
        return int(match.group(1)) if match else None

    return {
        "thermal_warning_level": number(r"thermal[ _]warning[ _]level\s*[=:]\s*(\d+)"),
        "performance_warning_level": number(r"performance[ _]warning[ _]level\s*[=:]\s*(\d+)"),
        "cpu_scheduler_limit": number(r"CPU_Scheduler_Limit\s*=\s*(\d+)"),
        "cpu_available_cpus": number(r"CPU_Available_CPUs\s*=\s*(\d+)"),
        "cpu_speed_limit": number(r"CPU_Speed_Limit\s*=\s*(\d+)"),
    }


def parse_pmset_settings(text: str) -> dict[str, bool | None]:
    """Low Power Mode from macOS ``pmset -g`` (the active settings, ``lowpowermode 1``).

    Returns ``low_power_mode``: True or False, None when pmset does not list the setting (macOS
    before 12, desktops without it).
    """
    match = re.search(r"^\s*lowpowermode\s+(\d+)", text, re.MULTILINE | re.IGNORECASE)
    return {"low_power_mode": None if match is None else match.group(1) != "0"}


def _sysctl(run: Runner, keys: Iterable[str]) -> dict[str, str]:
    keys = list(keys)
    text = run(["sysctl", *keys])
    if text is not None:
        return parse_sysctl(text)
    # One unknown key (an older macOS, an Intel Mac) fails the whole call: ask key by key.
    values: dict[str, str] = {}
    for key in keys:
        values.update(parse_sysctl(run(["sysctl", key]) or ""))
    return values


def darwin_machine(run: Runner, uname: Mapping[str, str]) -> dict[str, Any]:
    raw = _sysctl(run, DARWIN_SYSCTL_KEYS)
    gpus = parse_system_profiler_displays(run(SYSTEM_PROFILER_DISPLAYS) or "")
    sw_vers = parse_sw_vers(run(["sw_vers"]) or "")
    battery = parse_pmset_batt(run(["pmset", "-g", "batt"]) or "")
    brand = clip(raw.get("machdep.cpu.brand_string"))
    chip = brand if brand and brand.startswith("Apple") else None
    if chip is None:
        # Under Rosetta the brand string can read "VirtualApple @ 2.50GHz"; the GPU has the name.
        chip = next((g["name"] for g in gpus if g["name"].startswith("Apple M")), None)
    gpu_cores = next((g["cores"] for g in gpus if g["cores"] is not None), None)
    product, version = sw_vers.get("ProductName"), sw_vers.get("ProductVersion")
    build = sw_vers.get("BuildVersion")
    os_name = (
        f"{product or 'macOS'} {version}" + (f" ({build})" if build else "") if version else None
    )
    translated = raw.get("sysctl.proc_translated")
    return {
        "os_name": clip(os_name),
        "cpu": {
            "model": chip or brand,
            "architecture": uname.get("machine") or "unknown",
            "physical_cores": whole_count(raw.get("hw.physicalcpu")),
            "logical_cores": whole_count(raw.get("hw.logicalcpu")),
            "performance_cores": whole_count(raw.get("hw.perflevel0.physicalcpu")),
            "efficiency_cores": whole_count(raw.get("hw.perflevel1.physicalcpu")),
            "flags": [flag for key, flag in DARWIN_FLAG_KEYS.items() if raw.get(key) == "1"],
        },
        "memory_bytes": whole_count(raw.get("hw.memsize")),
        "gpus": gpus,
        "apple": {
            "chip": chip,
            "model_identifier": clip(raw.get("hw.model")),
            "macos_version": clip(version),
            "rosetta": {"1": True, "0": False}.get(translated or ""),
            "gpu_cores": gpu_cores,
            "power_source": battery["power_source"],
        },
    }
