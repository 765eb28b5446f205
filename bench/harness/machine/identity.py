"""Which machine this is: the CPU's identity (vendor, family, model, microarchitecture, flags),
the machine's slug (its folder under ``results/``) and the label a user gives it."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from bench import results
from bench.errors import UserError
from bench.results.model import clip
from bench.text import printable

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

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


SLUG_MAX_LENGTH = 63


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


def hostname_hash(name: str | None) -> str | None:
    """The first 8 hex digits of the SHA-256 of a host name: tells machines apart, reveals nothing."""
    if not name:
        return None
    return hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]


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
        "vendor": clip(vendor),
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


def microarchitecture(vendor: str, family: int | None, model: int | None) -> str | None:
    """The core generation of an x86 CPU (``zen4``, ``sapphire-rapids``), or None when unknown."""
    if family is None or model is None:
        return None
    if vendor == "AuthenticAMD":
        return next((n for lo, hi, n in _AMD_CORES.get(family, []) if lo <= model <= hi), None)
    if vendor == "GenuineIntel" and family == 6:
        return _INTEL_CORES.get(model)
    return None


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
