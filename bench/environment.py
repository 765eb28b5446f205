"""The machine and the software a benchmark ran on, captured automatically.

`capture_machine` and `capture_software` fill the ``machine`` and ``software`` blocks of a results
file (``$defs/machine`` and ``$defs/software`` in the schema). Capture is best effort: every
external command runs with a short timeout, and a command or file that fails leaves its field
``None``; nothing here raises because of the machine, only because of a slug or label the user
gave. The parsers are pure functions of the text a command printed, so tests feed them recorded
output; the capture functions take the command runner and the file reader as arguments for the
same reason.

Nothing here imports TensorFlow except `tensorflow_info`, which the training worker calls.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
import platform
import re
import shlex
import subprocess
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import results
from bench.errors import UserError
from bench.text import error_line, printable

Runner = Callable[[list[str]], str | None]
"""Runs a command and returns its standard output, or None when it failed."""
Reader = Callable[[str], str | None]
"""Returns the text of a file, or None when it cannot be read."""
VersionLookup = Callable[[str], str | None]
"""Returns the installed version of a distribution, or None when it is not installed."""

COMMAND_TIMEOUT_S = 5.0
# system_profiler takes 1 to 2 s when warm and longer on its first call after boot.
SLOW_COMMAND_TIMEOUT_S = {"system_profiler": 15.0}

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
SLUG_MAX_LENGTH = 63
SHORT_TEXT_MAX = 200  # `short_text` in the schema
TEXT_MAX = 4000  # `text` in the schema

# CPU features that decide which kernels TensorFlow (oneDNN, XNNPACK) can use, in the order they
# are recorded. Linux spells them as /proc/cpuinfo does; macOS reports neon, bf16 and i8mm.
RELEVANT_CPU_FLAGS = (
    "avx",
    "avx2",
    "fma",
    "f16c",
    "avx512f",
    "avx512dq",
    "avx512bw",
    "avx512vl",
    "avx512_vnni",
    "avx512_bf16",
    "avx512_fp16",
    "avx_vnni",
    "amx_tile",
    "amx_bf16",
    "amx_int8",
    "neon",
    "asimd",
    "asimddp",
    "bf16",
    "i8mm",
    "sve",
    "sve2",
)

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

NVIDIA_SMI = [
    "nvidia-smi",
    "--query-gpu=name,driver_version,memory.total",
    "--format=csv,noheader,nounits",
]
SYSTEM_PROFILER_DISPLAYS = ["system_profiler", "SPDisplaysDataType", "-json"]

# The first one installed names the TensorFlow build; all are recorded as `tensorflow`.
TENSORFLOW_DISTRIBUTIONS = ("tensorflow", "tensorflow-cpu", "tensorflow-macos")
# Other packages whose version can move a result.
OTHER_PACKAGES = (
    "numpy",
    "scipy",
    "Pillow",
    "jsonschema",
    "tf-keras",
)
# Recorded where installed, beside the backend's own version: JAX's compiled half (jaxlib) and
# its CUDA plugin.
BACKEND_PACKAGES = ("jaxlib", "jax-cuda12-plugin", "jax-cuda12-pjrt")
# The CUDA and cuDNN that tensorflow[and-cuda] loads come as these wheels (the driver is in the
# machine block, from nvidia-smi); recorded where installed.
CUDA_PACKAGES = ("nvidia-cuda-runtime-cu12", "nvidia-cudnn-cu12")
# Device-selection variables that decide whether TensorFlow sees a GPU, recorded with TF_*.
DEVICE_VARIABLES = frozenset({"CUDA_VISIBLE_DEVICES", "CUDA_CACHE_PATH", "CUDA_CACHE_MAXSIZE"})
# TensorFlow reads TF_USE_LEGACY_KERAS with exactly these values (tensorflow/python/util/lazy_loader).
LEGACY_KERAS_VALUES = frozenset({"1", "true", "True"})
# Terraform's environment variables (developer.hashicorp.com/terraform/cli/config/environment-
# variables) also start with TF_, and some hold credentials: never record them.
TERRAFORM_PREFIXES = (
    "TF_VAR_",
    "TF_TOKEN_",
    "TF_CLI_",
    "TF_LOG",
    "TF_CLOUD_",
    "TF_HTTP_",
    "TF_REGISTRY_",
    "TF_PLUGIN_CACHE_",
    "TF_DATA_DIR",
    "TF_WORKSPACE",
    "TF_IN_AUTOMATION",
    "TF_INPUT",
    "TF_IGNORE",
    "TF_STATE_PERSIST_INTERVAL",
    "TF_APPEND_USER_AGENT",
    "TF_REATTACH_PROVIDERS",
    "TF_ACC",
)


# --- running commands and reading files ---------------------------------------------------------


def run_command(args: list[str], timeout_s: float | None = None) -> str | None:
    """Run ``args`` and return its standard output; None when it fails in any way.

    Parameters
    ----------
    args
        The command and its arguments (no shell).
    timeout_s
        Seconds before the command is killed; by default `COMMAND_TIMEOUT_S`, longer for the
        commands in `SLOW_COMMAND_TIMEOUT_S`.

    Returns
    -------
    str or None
        The output, or None when the command is missing, times out or exits with an error.
    """
    if timeout_s is None:
        timeout_s = SLOW_COMMAND_TIMEOUT_S.get(Path(args[0]).name, COMMAND_TIMEOUT_S)
    # The C locale keeps command output in the English the parsers expect.
    env = {**os.environ, "LC_ALL": "C"}
    try:
        completed = subprocess.run(
            args,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            stdin=subprocess.DEVNULL,
            timeout=timeout_s,
            check=False,
            env=env,
        )
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    if completed.returncode != 0:
        return None
    return completed.stdout


def read_text(path: str) -> str | None:
    """Return the text of the file at ``path``, or None when it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def package_version(name: str) -> str | None:
    """Return the installed version of distribution ``name``, or None when it is not installed."""
    try:
        found = metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
    # A distribution with broken metadata can report no version at all.
    return _clip(found) if isinstance(found, str) else None


# --- small helpers --------------------------------------------------------------------------------


def _clip(text: str | None, limit: int = SHORT_TEXT_MAX) -> str | None:
    """``text`` stripped and cut to ``limit`` characters; None when empty."""
    if text is None:
        return None
    text = text.strip()
    return text[:limit] or None


def _count(text: str | None) -> int | None:
    """A non-negative integer read from ``text``, or None."""
    if text is None:
        return None
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() else None


def _major(version: str | None) -> int | None:
    """The major version of a Keras version string, or None when it is not one (Keras 2 or later)."""
    if version is None:
        return None
    match = re.match(r"\s*(\d+)", version)
    if match is None:
        return None
    major = int(match.group(1))
    return major if 2 <= major <= 99 else None


def hostname_hash(name: str | None) -> str | None:
    """The first 8 hex digits of the SHA-256 of a host name: tells machines apart, reveals nothing."""
    if not name:
        return None
    return hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]


# --- parsers: pure functions of recorded command output ---------------------------------------


def parse_cpuinfo(text: str) -> dict[str, Any]:
    """Read the CPU model, core counts and relevant flags from Linux ``/proc/cpuinfo``.

    Parameters
    ----------
    text
        The content of ``/proc/cpuinfo``.

    Returns
    -------
    dict
        ``model`` (None when absent), ``physical_cores`` (unique ``(physical id, core id)``
        pairs; None when the file has no topology, as on most ARM systems), ``logical_cores``
        (``processor`` entries; None when there are none) and ``flags`` (the members of
        `RELEVANT_CPU_FLAGS` present, in that order).
    """
    processors = 0
    cores: set[tuple[str, str]] = set()
    models: dict[str, str] = {}
    flags: set[str] = set()
    for block in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            key, sep, value = line.partition(":")
            if sep:
                fields[key.strip()] = value.strip()
        if fields.get("processor", "").isdigit():
            processors += 1
        if "physical id" in fields and "core id" in fields:
            cores.add((fields["physical id"], fields["core id"]))
        # x86 names the model "model name"; ARM boards put "Model" or "Hardware" in a last block.
        for key in ("model name", "Model", "Hardware", "cpu model"):
            if fields.get(key):
                models.setdefault(key, fields[key])
        flags.update((fields.get("flags") or fields.get("Features") or "").split())
    model = next(
        (models[k] for k in ("model name", "Model", "Hardware", "cpu model") if k in models), None
    )
    return {
        "model": _clip(model),
        "physical_cores": len(cores) or None,
        "logical_cores": processors or None,
        "flags": [flag for flag in RELEVANT_CPU_FLAGS if flag in flags],
    }


def cpu_identity(text: str) -> dict[str, Any] | None:
    """What identifies an x86 CPU's hardware when its name does not (``AMD EPYC`` in a VM).

    From the first processor of ``/proc/cpuinfo``: ``vendor``, ``family``, ``model``,
    ``stepping``, the ``microarchitecture`` they imply where known (`microarchitecture`), the
    ``cache_kb`` cpuinfo reports, ``mhz``, and ``flags_sha256``: the first 16 hex digits of the
    SHA-256 of the whole sorted flag set, which tells CPU generations apart even when family and
    model are masked. None when the file has no x86 identification (ARM boards).
    """
    first = re.split(r"\n\s*\n", text.strip())[0] if text.strip() else ""
    fields: dict[str, str] = {}
    for line in first.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip(), value.strip())
    if "vendor_id" not in fields or not fields.get("cpu family", "").isdigit():
        return None

    def number(key: str) -> int | None:
        value = fields.get(key, "")
        return int(value) if value.isdigit() else None

    flags = sorted(set(fields.get("flags", "").split()))
    cache = re.match(r"(\d+)\s*KB", fields.get("cache size", ""))
    try:
        mhz: float | None = float(fields.get("cpu MHz", ""))
    except ValueError:
        mhz = None
    vendor, family, model = fields["vendor_id"], number("cpu family"), number("model")
    return {
        "vendor": _clip(vendor),
        "family": family,
        "model": model,
        "stepping": number("stepping"),
        "microarchitecture": microarchitecture(vendor, family, model),
        "cache_kb": int(cache.group(1)) if cache else None,
        "mhz": mhz,
        "flags_sha256": hashlib.sha256(" ".join(flags).encode()).hexdigest()[:16]
        if flags
        else None,
    }


# (first model, last model, name) per x86 family: AMD's Zen generations by family and model
# range (AMD's revision guides); Intel's family 6 server and client cores by model number.
_AMD_CORES = {
    23: [(0x00, 0x2F, "zen"), (0x30, 0xFF, "zen2")],
    25: [(0x00, 0x0F, "zen3"), (0x10, 0x1F, "zen4"), (0x20, 0x5F, "zen3"), (0x60, 0xAF, "zen4")],
    26: [(0x00, 0xFF, "zen5")],
}
_INTEL_CORES = {
    63: "haswell", 79: "broadwell", 85: "skylake-sp", 106: "ice-lake-sp", 108: "ice-lake-d",
    142: "kaby-lake", 158: "coffee-lake", 165: "comet-lake", 140: "tiger-lake",
    151: "alder-lake", 154: "alder-lake", 183: "raptor-lake", 186: "raptor-lake",
    191: "raptor-lake", 170: "meteor-lake", 143: "sapphire-rapids", 207: "emerald-rapids",
    173: "granite-rapids", 175: "sierra-forest",
}  # fmt: skip


def microarchitecture(vendor: str, family: int | None, model: int | None) -> str | None:
    """The core generation of an x86 CPU (``zen4``, ``sapphire-rapids``), or None when unknown."""
    if family is None or model is None:
        return None
    if vendor == "AuthenticAMD":
        return next((n for lo, hi, n in _AMD_CORES.get(family, []) if lo <= model <= hi), None)
    if vendor == "GenuineIntel" and family == 6:
        return _INTEL_CORES.get(model)
    return None


def parse_meminfo(text: str) -> int | None:
    """Total memory in bytes from Linux ``/proc/meminfo`` (``MemTotal`` is in KiB), or None."""
    match = re.search(r"^MemTotal:\s*(\d+)\s*kB", text, re.MULTILINE)
    return int(match.group(1)) * 1024 if match else None


def parse_os_release(text: str) -> dict[str, str]:
    """The ``KEY=value`` pairs of ``/etc/os-release``, quotes removed."""
    pairs: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if not sep or not re.fullmatch(r"[A-Z0-9_]+", key):
            continue
        try:
            words = shlex.split(value)
        except ValueError:  # unbalanced quotes: keep the text as it is
            words = [value.strip("\"'")]
        pairs[key] = " ".join(words)
    return pairs


def parse_nvidia_smi(text: str) -> list[dict[str, Any]]:
    """GPUs from ``nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader,nounits``.

    Returns
    -------
    list of dict
        One ``$defs/gpu`` object per line; ``memory.total`` is in MiB, recorded in bytes.
        Fields nvidia-smi reports as ``[N/A]`` are None.
    """
    gpus: list[dict[str, Any]] = []
    for row in csv.reader(text.splitlines(), skipinitialspace=True):
        if len(row) < 3 or not row[0].strip():
            continue
        name, driver, memory = (None if v.strip() in {"[N/A]", "N/A", ""} else v for v in row[:3])
        if name is None:
            continue
        memory_mib = _count(memory)
        gpus.append(
            {
                "name": _clip(name) or "unknown",
                "vendor": "NVIDIA",
                "driver": _clip(driver),
                "memory_bytes": memory_mib * 1024 * 1024 if memory_mib is not None else None,
                "cores": None,
                "metal_support": None,
            }
        )
    return gpus


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


_VENDOR_NAMES = {"apple": "Apple", "amd": "AMD", "ati": "AMD", "intel": "Intel", "nvidia": "NVIDIA"}


def _display_vendor(raw: Any) -> str | None:
    if not isinstance(raw, str):
        return None
    name = re.sub(r"^sppci_vendor_", "", raw.strip())
    name = re.sub(r"\s*\(0x[0-9a-fA-F]+\)$", "", name)  # "Apple (0x106b)" in some versions
    return _VENDOR_NAMES.get(name.lower(), _clip(name))


def _metal_support(raw: Any) -> str | None:
    if not isinstance(raw, str):
        return None
    value = re.sub(r"^spdisplays_", "", raw.strip())
    match = re.fullmatch(r"metal(\d+)", value, re.IGNORECASE)
    return f"Metal {match.group(1)}" if match else _clip(value)


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
                "name": _clip(name) or "unknown",
                "vendor": _display_vendor(item.get("spdisplays_vendor")),
                "driver": None,
                "memory_bytes": _vram_bytes(vram),
                "cores": _count(cores) if isinstance(cores, str) else None,
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
        "power_source": _clip(source.group(1)) if source else None,
        "battery_percent": int(battery.group(1)) if battery else None,
        "battery_state": _clip(battery.group(2)) if battery else None,
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


# --- machine slugs --------------------------------------------------------------------------------

# Marketing words that add nothing to a CPU name ("Intel(R) Core(TM) i7-9750H CPU @ 2.60GHz").
_CPU_NOISE = (
    r"\((?:R|TM|C)\)",
    "®",
    "™",
    r"@\s*[\d.]+\s*[GM]Hz",
    r"\b\d+-Core\b",
    r"\bCPU\b",
    r"\bProcessor\b",
    r"\b\d+(?:st|nd|rd|th) Gen\b",
    r"\bwith Radeon(?: \w+)* Graphics\b",
)
_GPU_NOISE = (r"\bNVIDIA\b", r"\bGeForce\b", r"\((?:R|TM)\)", "®", "™")


def _slug_words(text: str) -> str:
    """Lowercase ASCII words of ``text`` joined by hyphens (accents dropped)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _without(text: str, patterns: Iterable[str]) -> str:
    for pattern in patterns:
        text = re.sub(pattern, " ", text, flags=re.IGNORECASE)
    return text


def _truncate_slug(slug: str) -> str:
    if len(slug) <= SLUG_MAX_LENGTH:
        return slug
    cut = slug[:SLUG_MAX_LENGTH]
    # End on a whole word where one ends in the second half.
    if "-" in cut[SLUG_MAX_LENGTH // 2 :]:
        cut = cut[: cut.rindex("-")]
    return cut.strip("-")


def is_generic_cpu_name(name: str) -> bool:
    """True for a CPU name with no model number (``AMD EPYC``, ``Intel Xeon CPU @ 2.20GHz``,
    ``Common KVM processor``): it does not say which hardware the machine has."""
    words = _without(name, _CPU_NOISE).split()
    return not any(re.search(r"\d", w) for w in words)


def machine_slug(machine: Mapping[str, Any]) -> str:
    """A short name for a machine that names its results folder.

    Apple silicon: the chip and its GPU cores (``apple-m1-pro-16gpu``). Other machines: the CPU
    model without trademark noise, and its threads when there are more threads than cores
    (``intel-core-i7-12700h-20t``) or else its cores (``amd-epyc-9b14-2c``). A name with no
    model number (a VM's ``AMD EPYC``) gains the microarchitecture, or the family and model
    (``amd-epyc-zen4-2c``, ``amd-epyc-f25m200-2c``). NVIDIA GPUs are
    appended (``...-rtx-4090``, ``...-2x-a100-sxm4-80gb``).

    Parameters
    ----------
    machine
        A ``machine`` block as `capture_machine` builds it (its ``slug`` is ignored).

    Returns
    -------
    str
        Matches ``^[a-z0-9][a-z0-9-]{0,62}$``.
    """
    apple = machine.get("apple") or {}
    cpu = machine.get("cpu") or {}
    parts: list[str] = []
    if apple.get("chip"):
        parts.append(_slug_words(apple["chip"]))
        if apple.get("gpu_cores"):
            parts.append(f"{apple['gpu_cores']}gpu")
    else:
        model = cpu.get("model")
        if model:
            parts.append(_slug_words(_without(model, _CPU_NOISE)))
            identity = cpu.get("identity") or {}
            if is_generic_cpu_name(model) and identity.get("family") is not None:
                # A VM's "AMD EPYC" names no generation: two of them can differ 2x in speed.
                parts.append(
                    identity.get("microarchitecture")
                    or f"f{identity['family']}m{identity.get('model')}"
                )
        else:
            system = (machine.get("os") or {}).get("system") or ""
            parts.append(_slug_words(f"{system} {cpu.get('architecture') or ''}"))
        physical, logical = cpu.get("physical_cores"), cpu.get("logical_cores")
        if physical and logical and logical > physical:
            parts.append(f"{logical}t")
        elif physical or logical:
            parts.append(f"{physical or logical}c")
    nvidia = [g for g in machine.get("gpus") or [] if (g.get("vendor") or "").upper() == "NVIDIA"]
    if nvidia:
        name = _slug_words(_without(nvidia[0]["name"], _GPU_NOISE))
        parts.append(f"{len(nvidia)}x-{name}" if len(nvidia) > 1 else name)
    slug = _truncate_slug("-".join(p for p in parts if p))
    return slug if SLUG_PATTERN.fullmatch(slug) else "unknown-machine"


def normalize_slug(text: str) -> str:
    """Turn a user-given machine slug into a valid one: lowercase, hyphens between words.

    Raises
    ------
    UserError
        When nothing usable is left, or the result is longer than 63 characters.
    """
    slug = _slug_words(text)
    shown = repr(text[:80] + ("..." if len(text) > 80 else ""))
    if not slug:
        msg = (
            f"machine slug {shown} has no letters or digits; "
            "give a short name such as my-m1-pro (letters, digits and hyphens)"
        )
        raise UserError(msg)
    if len(slug) > SLUG_MAX_LENGTH:
        msg = (
            f"machine slug {shown} is {len(slug)} characters long; "
            f"give one of at most {SLUG_MAX_LENGTH} (letters, digits and hyphens)"
        )
        raise UserError(msg)
    return slug


def check_label(label: str | None) -> str | None:
    """The machine label as stored: stripped, None when empty.

    Raises
    ------
    UserError
        When the results format could not store it (too long, control or direction characters:
        the file is shared, and its label is shown on other people's terminals and pages).
    """
    if label is None or not label.strip():
        return None
    label = label.strip()
    problem = results.field_problem("machine.label", label)
    if problem is not None:
        msg = f"--label {printable(label, 60)}: {problem}; use plain text"
        raise UserError(msg)
    return label


# --- the machine block -----------------------------------------------------------------------------


def _uname() -> dict[str, str]:
    u = platform.uname()
    return {
        "system": u.system,
        "release": u.release,
        "version": u.version,
        "machine": u.machine,
        "node": u.node,
    }


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


def _darwin(run: Runner, uname: Mapping[str, str]) -> dict[str, Any]:
    raw = _sysctl(run, DARWIN_SYSCTL_KEYS)
    gpus = parse_system_profiler_displays(run(SYSTEM_PROFILER_DISPLAYS) or "")
    sw_vers = parse_sw_vers(run(["sw_vers"]) or "")
    battery = parse_pmset_batt(run(["pmset", "-g", "batt"]) or "")
    brand = _clip(raw.get("machdep.cpu.brand_string"))
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
        "os_name": _clip(os_name),
        "cpu": {
            "model": chip or brand,
            "architecture": uname.get("machine") or "unknown",
            "physical_cores": _count(raw.get("hw.physicalcpu")),
            "logical_cores": _count(raw.get("hw.logicalcpu")),
            "performance_cores": _count(raw.get("hw.perflevel0.physicalcpu")),
            "efficiency_cores": _count(raw.get("hw.perflevel1.physicalcpu")),
            "flags": [flag for key, flag in DARWIN_FLAG_KEYS.items() if raw.get(key) == "1"],
        },
        "memory_bytes": _count(raw.get("hw.memsize")),
        "gpus": gpus,
        "apple": {
            "chip": chip,
            "model_identifier": _clip(raw.get("hw.model")),
            "macos_version": _clip(version),
            "rosetta": {"1": True, "0": False}.get(translated or ""),
            "gpu_cores": gpu_cores,
            "power_source": battery["power_source"],
        },
    }


def _linux(run: Runner, read: Reader, uname: Mapping[str, str]) -> dict[str, Any]:
    cpuinfo = parse_cpuinfo(read("/proc/cpuinfo") or "")
    logical = cpuinfo["logical_cores"] or os.cpu_count()
    # Without topology lines (ARM, some VMs) every logical CPU is taken for a core.
    physical = cpuinfo["physical_cores"] or logical
    release = parse_os_release(read("/etc/os-release") or read("/usr/lib/os-release") or "")
    name = release.get("PRETTY_NAME") or " ".join(
        v for v in (release.get("NAME"), release.get("VERSION")) if v
    )
    return {
        "os_name": _clip(name),
        "cpu": {
            "model": cpuinfo["model"],
            "architecture": uname.get("machine") or "unknown",
            "physical_cores": physical,
            "logical_cores": logical,
            "performance_cores": None,
            "efficiency_cores": None,
            "flags": cpuinfo["flags"],
            "identity": cpu_identity(read("/proc/cpuinfo") or ""),
        },
        "memory_bytes": parse_meminfo(read("/proc/meminfo") or ""),
        "gpus": parse_nvidia_smi(run(NVIDIA_SMI) or ""),
        "apple": None,
    }


def _other(run: Runner, uname: Mapping[str, str]) -> dict[str, Any]:
    """Windows and anything else: what the standard library and psutil can tell."""
    physical: int | None = None
    memory: int | None = None
    # Best effort: psutil raises on systems it does not know.
    with contextlib.suppress(Exception):
        import psutil

        physical = psutil.cpu_count(logical=False)
        memory = int(psutil.virtual_memory().total)
    system, release = uname.get("system") or "", uname.get("release") or ""
    return {
        "os_name": _clip(f"{system} {release}"),
        "cpu": {
            "model": _clip(platform.processor()),
            "architecture": uname.get("machine") or "unknown",
            "physical_cores": physical,
            "logical_cores": os.cpu_count(),
            "performance_cores": None,
            "efficiency_cores": None,
            "flags": [],
        },
        "memory_bytes": memory,
        "gpus": parse_nvidia_smi(run(NVIDIA_SMI) or ""),
        "apple": None,
    }


def capture_machine(
    slug: str | None = None,
    label: str | None = None,
    *,
    run: Runner = run_command,
    read: Reader = read_text,
    uname: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Describe this machine: the ``machine`` block of a results file.

    Parameters
    ----------
    slug
        A slug given by the user, normalised with `normalize_slug`; by default `machine_slug`
        makes one from what was captured.
    label
        Free text given by the user (at most 200 characters).
    run, read
        How commands are run and files read (tests pass recorded output).
    uname
        ``system``, ``release``, ``version``, ``machine`` and ``node`` as `platform.uname`
        gives them; by default this machine's.

    Returns
    -------
    dict
        Valid against ``$defs/machine``. Anything that could not be found is None.

    Raises
    ------
    UserError
        When ``slug`` or ``label`` cannot be used. The machine itself never makes this raise.
    """
    chosen_slug = normalize_slug(slug) if slug is not None else None
    checked_label = check_label(label)
    info = dict(uname) if uname is not None else _uname()
    system = info.get("system") or "unknown"
    if system == "Darwin":
        found = _darwin(run, info)
    elif system == "Linux":
        found = _linux(run, read, info)
    else:
        found = _other(run, info)
    machine: dict[str, Any] = {
        "slug": "",
        "label": checked_label,
        "hostname_hash": hostname_hash(info.get("node")),
        "os": {
            "system": _clip(system) or "unknown",
            "release": _clip(info.get("release")) or "unknown",
            "version": _clip(info.get("version")),
            "name": found["os_name"],
        },
        "cpu": found["cpu"],
        "memory_bytes": found["memory_bytes"],
        "gpus": found["gpus"][:64],
        "apple": found["apple"],
    }
    machine["slug"] = chosen_slug or machine_slug(machine)
    return machine


def power_and_thermal(*, run: Runner = run_command, system: str | None = None) -> dict[str, Any]:
    """Power source, battery and thermal limits now (macOS); ``{}`` on other systems.

    Recorded before and after workloads: a laptop on battery or a throttled CPU explains a slow
    run.

    Returns
    -------
    dict
        The keys of `parse_pmset_batt`, `parse_pmset_therm` and `parse_pmset_settings`; None
        where pmset failed.
    """
    if (system or platform.system()) != "Darwin":
        return {}
    return {
        **parse_pmset_batt(run(["pmset", "-g", "batt"]) or ""),
        **parse_pmset_therm(run(["pmset", "-g", "therm"]) or ""),
        **parse_pmset_settings(run(["pmset", "-g"]) or ""),
    }


# --- the software block ---------------------------------------------------------------------------


def git_info(
    root: str | os.PathLike[str] | None = None, *, run: Runner = run_command
) -> dict[str, Any]:
    """The commit and dirty flag of the project's git checkout.

    Parameters
    ----------
    root
        The checkout; by default the folder above the ``bench`` package.
    run
        How commands are run.

    Returns
    -------
    dict
        ``commit`` (full hash) and ``dirty`` (tracked files changed; untracked files, such as
        new results, do not count); both None when ``root`` is not the top of a git checkout
        (an installed copy of the package) or git is missing.
    """
    folder = Path(root) if root is not None else PROJECT_ROOT
    unknown: dict[str, Any] = {"commit": None, "dirty": None}
    # --no-optional-locks: a status must not rewrite the index of the checkout it describes.
    git = ["git", "--no-optional-locks", "-C", str(folder)]
    top = run([*git, "rev-parse", "--show-toplevel"])
    if top is None or not top.strip():
        return unknown
    try:
        if Path(top.strip()).resolve() != folder.resolve():
            return unknown  # an installed copy inside some other repository
    except OSError:
        return unknown
    head = (run([*git, "rev-parse", "HEAD"]) or "").strip()
    status = run([*git, "status", "--porcelain", "--untracked-files=no"])
    return {
        "commit": head if re.fullmatch(r"[0-9a-f]{7,64}", head) else None,
        "dirty": bool(status.strip()) if status is not None else None,
    }


def _environment_variables(environ: Mapping[str, str]) -> dict[str, str]:
    """TensorFlow's TF_* and Keras' KERAS_* variables and `DEVICE_VARIABLES`, safe to publish.

    Terraform's variables share the TF_ prefix and carry credentials (TF_TOKEN_*, TF_VAR_*,
    TF_HTTP_PASSWORD): they are left out. A value whose name looks secret is replaced by
    ``(redacted)``, and the home folder is written ``~`` so no user name is published.
    """
    home = str(Path.home())
    found: dict[str, str] = {}
    for key in sorted(environ):
        wanted = key.startswith(("TF_", "KERAS_")) or key in DEVICE_VARIABLES
        if not wanted or key.startswith(TERRAFORM_PREFIXES):
            continue
        value = environ[key]
        if re.search(r"TOKEN|SECRET|PASSW|CREDENTIAL|API_?KEY|AUTH", key):
            value = "(redacted)"
        elif len(home) > 1:
            value = value.replace(home, "~")
        found[key] = value[:TEXT_MAX]
        if len(found) == 200:  # maxProperties of `env` in the schema
            break
    return found


def capture_software(
    tf: Mapping[str, Any] | None = None,
    *,
    backend: str = "tensorflow",
    version: VersionLookup = package_version,
    environ: Mapping[str, str] | None = None,
    run: Runner = run_command,
    root: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Describe the software: the ``software`` block of a results file. Does not import TensorFlow.

    Parameters
    ----------
    tf
        What the training worker reported: `tensorflow_info` (``tensorflow``, ``keras``,
        ``keras_major``, ``tf_devices``) or, on another backend, `keras_info`, with
        `bench.backends.info` (``backend_version``, ``backend_devices``). Its values replace
        those read from the installed packages' metadata.
    backend
        The Keras backend the run trained on.
    version, environ, run, root
        How package versions are found, the environment variables, how commands are run and
        the git checkout (tests pass their own).

    Returns
    -------
    dict
        Valid against ``$defs/software``.
    """
    environ = os.environ if environ is None else environ
    tf_versions = {name: version(name) for name in TENSORFLOW_DISTRIBUTIONS}
    tensorflow = next((v for v in tf_versions.values() if v is not None), None)
    keras = version("keras")
    keras2 = version("tf-keras")
    # TensorFlow routes tf.keras to tf-keras (Keras 2) when this variable says so.
    if environ.get("TF_USE_LEGACY_KERAS") in LEGACY_KERAS_VALUES and keras2 is not None:
        keras = keras2
    packages: dict[str, str | None] = {name: version(name) for name in OTHER_PACKAGES}
    packages.update({name: v for name in CUDA_PACKAGES if (v := version(name)) is not None})
    # Which TensorFlow build is installed (tensorflow, tensorflow-cpu, ...) matters too.
    packages.update({name: v for name, v in tf_versions.items() if v is not None})
    software: dict[str, Any] = {
        "python": platform.python_version(),
        "python_implementation": _clip(platform.python_implementation()),
        "tensorflow": tensorflow,
        "keras": keras,
        "keras_major": _major(keras),
        "tensorflow_metal": version("tensorflow-metal"),
        "packages": packages,
        "tf_devices": [],
        "env": _environment_variables(environ),
        "git": git_info(root, run=run),
    }
    software["backend"] = backend
    software["backend_version"] = tensorflow if backend == "tensorflow" else version(backend)
    software["backend_devices"] = []
    # The compiled halves of JAX and the CUDA build of PyTorch say as much as their versions.
    packages.update({name: v for name in BACKEND_PACKAGES if (v := version(name)) is not None})
    if tf is not None:
        if isinstance(tf.get("backend_version"), str):
            software["backend_version"] = _clip(tf["backend_version"])
        if "backend_devices" in tf:
            software["backend_devices"] = [
                clipped for d in list(tf["backend_devices"])[:64] if (clipped := _clip(str(d)))
            ]
        for key in ("tensorflow", "keras"):
            if key in tf:
                software[key] = _clip(tf[key]) if isinstance(tf[key], str) else None
        if "keras_major" in tf:
            major = tf["keras_major"]
            software["keras_major"] = (
                major
                if isinstance(major, int) and not isinstance(major, bool) and 2 <= major <= 99
                else None
            )
        if "tf_devices" in tf:
            software["tf_devices"] = [
                clipped for d in list(tf["tf_devices"])[:64] if (clipped := _clip(str(d)))
            ]
        if tf.get("plugin_error"):
            software["plugin_error"] = _clip(str(tf["plugin_error"]), TEXT_MAX)
    return software


def _keras_version_in_use(tf: Any, environ: Mapping[str, str]) -> str | None:
    """The version of the Keras that ``tf.keras`` resolves to."""
    try:
        found = tf.keras.__version__
    except (AttributeError, ImportError):
        found = None
    if isinstance(found, str) and found:
        return _clip(found)
    # tf.keras without a version attribute: ask the package it is routed to.
    name = "tf_keras" if environ.get("TF_USE_LEGACY_KERAS") in LEGACY_KERAS_VALUES else "keras"
    try:
        module = __import__(name)
    except ImportError:
        return None
    found = getattr(module, "__version__", None)
    return _clip(found) if isinstance(found, str) else None


def keras_info() -> dict[str, Any]:
    """The Keras in use on a backend other than TensorFlow: ``keras`` and ``keras_major``
    (call it in the worker, after `bench.backends.select`)."""
    import keras

    found = getattr(keras, "__version__", None)
    version = _clip(found) if isinstance(found, str) else None
    return {"keras": version, "keras_major": _major(version)}


def tensorflow_info() -> dict[str, Any]:
    """What TensorFlow itself reports; imports TensorFlow (call it in the training worker only).

    Returns
    -------
    dict
        ``tensorflow`` (``tf.__version__``), ``keras`` (the version behind ``tf.keras``: tf-keras,
        Keras 2, when ``TF_USE_LEGACY_KERAS=1``), ``keras_major`` and ``tf_devices`` (every
        physical device as ``TYPE:name``, e.g. ``CPU:/physical_device:CPU:0``).
    """
    import tensorflow as tf

    keras = _keras_version_in_use(tf, os.environ)
    devices = tf.config.list_physical_devices()
    return {
        "tensorflow": str(tf.__version__),
        "keras": keras,
        "keras_major": _major(keras),
        "tf_devices": [f"{d.device_type}:{d.name}" for d in devices],
        "plugin_error": plugin_error(tf, [d.device_type for d in devices]),
    }


def plugin_error(tf: Any, device_types: Iterable[str], system: str | None = None) -> str | None:
    """Why an installed tensorflow-metal gave TensorFlow no GPU: its loading error, one line.

    TensorFlow loads the plugins in ``site-packages/tensorflow-plugins`` at import and only logs
    a failure ("Symbol not found" in libmetal_plugin, tensorflow#81987 and #84167). Where a plugin
    file is there and no GPU is listed, loading it again gives the message to record. None when
    there is nothing to explain (a GPU is listed, no plugin is installed, not macOS).
    """
    if (system or platform.system()) != "Darwin" or "GPU" in set(device_types):
        return None
    folder = Path(tf.__file__).resolve().parent.parent / "tensorflow-plugins"
    plugins = sorted(folder.glob("*.dylib")) if folder.is_dir() else []
    if not plugins:
        return None
    try:
        for plugin in plugins:
            tf.load_pluggable_device_library(str(plugin))
    except Exception as exc:  # noqa: BLE001 (any failure is the message wanted)
        return _clip(f"{plugins[0].name}: {error_line(exc)}", TEXT_MAX)
    return "the plugin loads, yet TensorFlow lists no GPU"
