"""Tests for bench/harness/machine/: parsers on recorded output, capture end to end, slugs, git,
and bench/worker/introspect.py."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jsonschema
import pytest

from bench import results
from bench.errors import UserError
from bench.harness.machine import capture as env
from bench.harness.machine import commands, darwin, git, identity, linux, nvidia, power, software
from bench.worker import introspect

DATA = Path(__file__).parent / "data" / "environment"

MAC_UNAME = {
    "system": "Darwin",
    "release": "23.5.0",
    "version": "Darwin Kernel Version 23.5.0: Wed May  1 20:12:58 PDT 2024; "
    "root:xnu-10063.121.3~5/RELEASE_ARM64_T6000",
    "machine": "arm64",
    "node": "MacBook-Pro.local",
}
LINUX_UNAME = {
    "system": "Linux",
    "release": "6.1.0-21-amd64",
    "version": "#1 SMP PREEMPT_DYNAMIC Debian 6.1.90-1 (2024-05-03)",
    "machine": "x86_64",
    "node": "workstation",
}
LINUX_FLAGS = [
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
]
TF_REPORT = {
    "tensorflow": "2.18.1",
    "keras": "3.15.1",
    "keras_major": 3,
    "tf_devices": ["CPU:/physical_device:CPU:0", "GPU:/physical_device:GPU:0"],
}


def fixture(name: str) -> str:
    """The text of a recorded fixture."""
    return (DATA / name).read_text(encoding="utf-8")


def validate(block: str, data: Any) -> None:
    """Validate ``data`` against ``$defs/<block>`` of the results schema."""
    schema = {"$ref": f"#/$defs/{block}", "$defs": results.schema()["$defs"]}
    jsonschema.Draft202012Validator(schema).validate(data)


def fake_run(outputs: Mapping[tuple[str, ...], str]) -> Callable[[list[str]], str | None]:
    """A command runner that answers from recorded output and fails every other command."""

    def run(args: list[str]) -> str | None:
        return outputs.get(tuple(args))

    return run


def fake_read(files: Mapping[str, str]) -> Callable[[str], str | None]:
    """A file reader that answers from recorded files and fails on every other path."""
    return files.get


def mac_outputs(prefix: str) -> dict[tuple[str, ...], str]:
    """Recorded command output of one of the Macs (``m1pro`` or ``m1``)."""
    return {
        ("sysctl", *darwin.DARWIN_SYSCTL_KEYS): fixture(f"{prefix}-sysctl.txt"),
        tuple(darwin.SYSTEM_PROFILER_DISPLAYS): fixture(f"{prefix}-system-profiler-displays.json"),
        ("sw_vers",): fixture(f"{prefix}-sw-vers.txt"),
        ("pmset", "-g", "batt"): fixture("pmset-batt-ac.txt"),
    }


LINUX_FILES = {
    "/proc/cpuinfo": fixture("linux-cpuinfo.txt"),
    "/proc/meminfo": fixture("linux-meminfo.txt"),
    "/etc/os-release": fixture("linux-os-release.txt"),
}


# --- parsers ----------------------------------------------------------------------------------------


def test_parse_cpuinfo_real_file() -> None:
    """The recorded /proc/cpuinfo gives the model, both cores and the vector extensions."""
    assert linux.parse_cpuinfo(fixture("linux-cpuinfo.txt")) == {
        "model": "AMD EPYC",
        "physical_cores": 2,
        "logical_cores": 2,
        "flags": LINUX_FLAGS,
    }


def test_cpu_identity_from_the_recorded_cpuinfo() -> None:
    """A VM's "AMD EPYC": family 25, model 17, stepping 1 is Zen 4; the whole flag set's digest
    and the clock are kept; ARM cpuinfo has no x86 identity."""
    found = identity.cpu_identity(fixture("linux-cpuinfo.txt"))
    assert found is not None
    assert (found["vendor"], found["family"], found["model"], found["stepping"]) == (
        "AuthenticAMD", 25, 17, 1
    )  # fmt: skip
    assert found["microarchitecture"] == "zen4"
    assert found["cache_kb"] == 1024
    assert found["mhz"] == pytest.approx(2596.142)
    assert re.fullmatch(r"[0-9a-f]{16}", found["flags_sha256"])
    more = fixture("linux-cpuinfo.txt").replace("fsrm", "fsrm avx512_vp2intersect")
    assert identity.cpu_identity(more)["flags_sha256"] != found["flags_sha256"]
    assert identity.cpu_identity("processor\t: 0\nFeatures\t: fp asimd\n") is None


@pytest.mark.parametrize(
    ("vendor", "family", "model", "expected"),
    [
        ("AuthenticAMD", 25, 1, "zen3"),
        ("AuthenticAMD", 25, 17, "zen4"),
        ("AuthenticAMD", 26, 2, "zen5"),
        ("AuthenticAMD", 23, 49, "zen2"),
        ("GenuineIntel", 6, 143, "sapphire-rapids"),
        ("GenuineIntel", 6, 85, "skylake-sp"),
        ("GenuineIntel", 6, 1, None),
        ("HygonGenuine", 24, 0, None),
    ],
)
def test_microarchitecture(vendor: str, family: int, model: int, expected: str | None) -> None:
    """Family and model name the core generation where the table knows it."""
    assert identity.microarchitecture(vendor, family, model) == expected


def test_a_generic_cpu_name_gains_its_generation_in_the_slug() -> None:
    """Two VMs both called "AMD EPYC" with 2 cores get different folders when their generations
    differ; a CPU name with a model number is left as it was."""
    zen4 = cpu_machine("AMD EPYC", 2, 2)
    zen4["cpu"]["identity"] = identity.cpu_identity(fixture("linux-cpuinfo.txt"))
    assert identity.machine_slug(zen4) == "amd-epyc-zen4-2c"
    unknown = cpu_machine("AMD EPYC", 2, 2)
    unknown["cpu"]["identity"] = {"family": 25, "model": 200}
    assert identity.machine_slug(unknown) == "amd-epyc-f25m200-2c"
    named = cpu_machine("AMD EPYC 9B14", 2, 2)
    named["cpu"]["identity"] = {"family": 25, "model": 17, "microarchitecture": "zen4"}
    assert identity.machine_slug(named) == "amd-epyc-9b14-2c"
    assert identity.is_generic_cpu_name("Intel(R) Xeon(R) CPU @ 2.20GHz")
    assert identity.is_generic_cpu_name("Common KVM processor")
    assert not identity.is_generic_cpu_name("Intel(R) Core(TM) i5-7200U CPU @ 2.50GHz")


# `pmset -g` in the format macOS 12 to 15 print (its "Currently in use" list), written for this
# test: no Mac was at hand to record one.
PMSET_SETTINGS = """System-wide power settings:
Currently in use:
 standby              1
 Sleep On Power Button 1
 hibernatefile        /var/vm/sleepimage
 powernap             1
 disksleep            10
 sleep                1 (sleep prevented by powerd)
 hibernatemode        3
 displaysleep         10
 tcpkeepalive         1
 lowpowermode         1
 womp                 0
"""


def test_parse_pmset_settings_reads_low_power_mode() -> None:
    """``lowpowermode 1`` is Low Power Mode on; 0 is off; a list without it says nothing."""
    assert darwin.parse_pmset_settings(PMSET_SETTINGS) == {"low_power_mode": True}
    off = PMSET_SETTINGS.replace("lowpowermode         1", "lowpowermode         0")
    assert darwin.parse_pmset_settings(off) == {"low_power_mode": False}
    assert darwin.parse_pmset_settings("Currently in use:\n sleep 1\n") == {"low_power_mode": None}


def test_parse_cpuinfo_counts_cores_apart_from_threads() -> None:
    """Hyper-threads share a (physical id, core id) pair, so 4 threads on 2 cores count as 2."""
    blocks = [
        f"processor\t: {n}\nmodel name\t: Intel(R) Core(TM) i5-7200U CPU @ 2.50GHz\n"
        f"physical id\t: 0\ncore id\t\t: {n % 2}\nflags\t\t: fpu sse avx avx2 fma ht\n"
        for n in range(4)
    ]
    parsed = linux.parse_cpuinfo("\n".join(blocks))
    assert parsed == {
        "model": "Intel(R) Core(TM) i5-7200U CPU @ 2.50GHz",
        "physical_cores": 2,
        "logical_cores": 4,
        "flags": ["avx", "avx2", "fma"],
    }


def test_parse_cpuinfo_arm_without_topology() -> None:
    """ARM cpuinfo has no model name or topology: the board model is used, cores are unknown."""
    text = "".join(
        f"processor\t: {n}\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm crc32 cpuid\n"
        f"CPU implementer\t: 0x41\nCPU part\t: 0xd08\n\n"
        for n in range(4)
    )
    text += "Hardware\t: BCM2835\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n"
    assert linux.parse_cpuinfo(text) == {
        "model": "Raspberry Pi 4 Model B Rev 1.4",
        "physical_cores": None,
        "logical_cores": 4,
        "flags": ["asimd"],
    }


def test_parse_meminfo() -> None:
    """MemTotal in kB becomes bytes."""
    assert linux.parse_meminfo(fixture("linux-meminfo.txt")) == 24684084 * 1024


def test_parse_os_release() -> None:
    """os-release values lose their quotes."""
    parsed = linux.parse_os_release(fixture("linux-os-release.txt"))
    assert parsed["PRETTY_NAME"] == "Debian GNU/Linux 12 (bookworm)"
    assert parsed["VERSION_ID"] == "12"
    assert parsed["ID"] == "debian"


def test_parse_nvidia_smi_one_gpu() -> None:
    """One CSV line is one GPU, its memory converted from MiB to bytes."""
    assert nvidia.parse_nvidia_smi(fixture("nvidia-smi-1gpu.csv")) == [
        {
            "name": "NVIDIA GeForce RTX 4090",
            "vendor": "NVIDIA",
            "driver": "550.54.14",
            "memory_bytes": 24564 * 1024**2,
            "cores": None,
            "metal_support": None,
        }
    ]


def test_parse_nvidia_smi_two_gpus() -> None:
    """Two CSV lines are two GPUs."""
    gpus = nvidia.parse_nvidia_smi(fixture("nvidia-smi-2gpu.csv"))
    assert [(g["name"], g["driver"], g["memory_bytes"]) for g in gpus] == [
        ("NVIDIA A100-SXM4-80GB", "535.129.03", 81920 * 1024**2)
    ] * 2


def test_parse_nvidia_smi_not_available_fields() -> None:
    """Fields nvidia-smi reports as [N/A] are None."""
    gpus = nvidia.parse_nvidia_smi("NVIDIA Tesla T4, [N/A], [N/A]\n")
    assert (gpus[0]["name"], gpus[0]["driver"], gpus[0]["memory_bytes"]) == (
        "NVIDIA Tesla T4",
        None,
        None,
    )


def test_parse_sysctl() -> None:
    """Every "key: value" line of sysctl is read, the chip name with its spaces."""
    assert darwin.parse_sysctl(fixture("m1pro-sysctl.txt")) == {
        "machdep.cpu.brand_string": "Apple M1 Pro",
        "hw.model": "MacBookPro18,3",
        "hw.memsize": "17179869184",
        "hw.physicalcpu": "10",
        "hw.logicalcpu": "10",
        "hw.perflevel0.physicalcpu": "8",
        "hw.perflevel1.physicalcpu": "2",
        "sysctl.proc_translated": "0",
        "hw.optional.neon": "1",
        "hw.optional.arm.FEAT_BF16": "0",
        "hw.optional.arm.FEAT_I8MM": "0",
    }


@pytest.mark.parametrize(
    ("prefix", "name", "cores"),
    [("m1pro", "Apple M1 Pro", 16), ("m1", "Apple M1", 8)],
)
def test_parse_system_profiler_displays(prefix: str, name: str, cores: int) -> None:
    """The Apple GPU is read with its core count and Metal support; displays are not GPUs."""
    assert darwin.parse_system_profiler_displays(
        fixture(f"{prefix}-system-profiler-displays.json")
    ) == [
        {
            "name": name,
            "vendor": "Apple",
            "driver": None,
            "memory_bytes": None,
            "cores": cores,
            "metal_support": "Metal 3",
        }
    ]


def test_parse_system_profiler_displays_intel_mac() -> None:
    """A discrete GPU of an Intel Mac keeps its vendor and video memory."""
    text = (
        '{"SPDisplaysDataType": [{"_name": "AMD Radeon Pro 5500M", "sppci_model": '
        '"AMD Radeon Pro 5500M", "spdisplays_vendor": "sppci_vendor_amd", '
        '"spdisplays_vram": "4 GB", "spdisplays_mtlgpufamilysupport": "spdisplays_metal3"}]}'
    )
    assert darwin.parse_system_profiler_displays(text) == [
        {
            "name": "AMD Radeon Pro 5500M",
            "vendor": "AMD",
            "driver": None,
            "memory_bytes": 4 * 1024**3,
            "cores": None,
            "metal_support": "Metal 3",
        }
    ]


def test_parse_sw_vers() -> None:
    """sw_vers gives the product name, version and build."""
    assert darwin.parse_sw_vers(fixture("m1pro-sw-vers.txt")) == {
        "ProductName": "macOS",
        "ProductVersion": "14.5",
        "BuildVersion": "23F79",
    }


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("pmset-batt-ac.txt", ("AC Power", 100, "charged")),
        ("pmset-batt-battery.txt", ("Battery Power", 87, "discharging")),
        ("pmset-batt-desktop.txt", ("AC Power", None, None)),
    ],
)
def test_parse_pmset_batt(name: str, expected: tuple[Any, ...]) -> None:
    """The power source is read on laptops and desktops, the battery where there is one."""
    parsed = darwin.parse_pmset_batt(fixture(name))
    assert (parsed["power_source"], parsed["battery_percent"], parsed["battery_state"]) == expected


def test_parse_pmset_therm_nothing_recorded() -> None:
    """The usual Apple silicon output (nothing recorded) gives no levels and no limits."""
    assert darwin.parse_pmset_therm(fixture("pmset-therm.txt")) == {
        "thermal_warning_level": None,
        "performance_warning_level": None,
        "cpu_scheduler_limit": None,
        "cpu_available_cpus": None,
        "cpu_speed_limit": None,
    }


def test_parse_pmset_therm_speed_limited() -> None:
    """A CPU power notification gives the scheduler limit, the CPUs and the speed limit."""
    assert darwin.parse_pmset_therm(fixture("pmset-therm-limited.txt")) == {
        "thermal_warning_level": None,
        "performance_warning_level": None,
        "cpu_scheduler_limit": 100,
        "cpu_available_cpus": 10,
        "cpu_speed_limit": 70,
    }


def test_parse_pmset_therm_warning_level() -> None:
    """A recorded thermal warning level is read."""
    parsed = darwin.parse_pmset_therm("2024-06-12 14:03:27 +0200 Thermal Warning Level = 1\n")
    assert parsed["thermal_warning_level"] == 1


@pytest.mark.parametrize("garbage", ["", "\x00\x01 not what was expected ::: = ;", "{[}", "[1, 2]"])
def test_parsers_survive_unexpected_text(garbage: str) -> None:
    """Every parser returns empty values, never raises, on text it does not recognise."""
    assert linux.parse_cpuinfo(garbage)["model"] is None
    assert linux.parse_meminfo(garbage) is None
    assert nvidia.parse_nvidia_smi(garbage) == []
    assert darwin.parse_system_profiler_displays(garbage) == []
    assert darwin.parse_pmset_batt(garbage)["power_source"] is None
    assert set(darwin.parse_pmset_therm(garbage).values()) == {None}
    assert "hw.memsize" not in darwin.parse_sysctl(garbage)
    assert "PRETTY_NAME" not in linux.parse_os_release(garbage)


# --- capture_machine ------------------------------------------------------------------------------


def test_capture_machine_m1_pro() -> None:
    """The M1 Pro fixtures give the whole machine block, slug apple-m1-pro-16gpu."""
    machine = env.capture_machine(run=fake_run(mac_outputs("m1pro")), uname=MAC_UNAME)
    assert machine == {
        "slug": "apple-m1-pro-16gpu",
        "label": None,
        "hostname_hash": hashlib.sha256(b"MacBook-Pro.local").hexdigest()[:8],
        "os": {
            "system": "Darwin",
            "release": "23.5.0",
            "version": MAC_UNAME["version"],
            "name": "macOS 14.5 (23F79)",
        },
        "cpu": {
            "model": "Apple M1 Pro",
            "architecture": "arm64",
            "physical_cores": 10,
            "logical_cores": 10,
            "performance_cores": 8,
            "efficiency_cores": 2,
            "flags": ["neon"],
        },
        "memory_bytes": 16 * 1024**3,
        "gpus": [
            {
                "name": "Apple M1 Pro",
                "vendor": "Apple",
                "driver": None,
                "memory_bytes": None,
                "cores": 16,
                "metal_support": "Metal 3",
            }
        ],
        "apple": {
            "chip": "Apple M1 Pro",
            "model_identifier": "MacBookPro18,3",
            "macos_version": "14.5",
            "rosetta": False,
            "gpu_cores": 16,
            "power_source": "AC Power",
        },
    }
    validate("machine", machine)


def test_capture_machine_m1() -> None:
    """The base M1 fixtures give 4+4 cores, 8 GPU cores, 8 GB and slug apple-m1-8gpu."""
    outputs = mac_outputs("m1")
    outputs["pmset", "-g", "batt"] = fixture("pmset-batt-battery.txt")
    uname = dict(MAC_UNAME, release="22.6.0", node="MacBook-Air.local")
    machine = env.capture_machine(run=fake_run(outputs), uname=uname)
    assert machine["slug"] == "apple-m1-8gpu"
    assert machine["memory_bytes"] == 8 * 1024**3
    assert (machine["cpu"]["performance_cores"], machine["cpu"]["efficiency_cores"]) == (4, 4)
    assert machine["os"]["name"] == "macOS 13.6.7 (22G720)"
    assert machine["apple"] == {
        "chip": "Apple M1",
        "model_identifier": "MacBookAir10,1",
        "macos_version": "13.6.7",
        "rosetta": False,
        "gpu_cores": 8,
        "power_source": "Battery Power",
    }
    validate("machine", machine)


def test_capture_machine_under_rosetta() -> None:
    """Translated by Rosetta, the chip is named after the GPU and rosetta is true."""
    outputs = mac_outputs("m1pro")
    key = ("sysctl", *darwin.DARWIN_SYSCTL_KEYS)
    outputs[key] = (
        outputs[key]
        .replace("Apple M1 Pro", "VirtualApple @ 2.50GHz processor")
        .replace("sysctl.proc_translated: 0", "sysctl.proc_translated: 1")
    )
    uname = dict(MAC_UNAME, machine="x86_64")
    machine = env.capture_machine(run=fake_run(outputs), uname=uname)
    assert machine["apple"]["rosetta"] is True
    assert machine["apple"]["chip"] == "Apple M1 Pro"
    assert machine["cpu"]["architecture"] == "x86_64"
    assert machine["slug"] == "apple-m1-pro-16gpu"


def test_capture_machine_asks_sysctl_key_by_key_when_one_key_fails() -> None:
    """When the one sysctl call fails (an unknown key), each key is asked alone."""
    outputs = mac_outputs("m1pro")
    whole = outputs.pop(("sysctl", *darwin.DARWIN_SYSCTL_KEYS))
    for line in whole.splitlines():
        if not line.startswith("hw.perflevel1"):  # as if this macOS did not know the key
            outputs["sysctl", line.split(":")[0]] = line + "\n"
    machine = env.capture_machine(run=fake_run(outputs), uname=MAC_UNAME)
    assert machine["cpu"]["performance_cores"] == 8
    assert machine["cpu"]["efficiency_cores"] is None
    assert machine["memory_bytes"] == 16 * 1024**3
    assert machine["slug"] == "apple-m1-pro-16gpu"


def test_capture_machine_linux_without_gpu() -> None:
    """The recorded Linux files give CPU, memory and OS name; no nvidia-smi means no GPU."""
    machine = env.capture_machine(run=fake_run({}), read=fake_read(LINUX_FILES), uname=LINUX_UNAME)
    assert machine == {
        "slug": "amd-epyc-zen4-2c",
        "label": None,
        "hostname_hash": hashlib.sha256(b"workstation").hexdigest()[:8],
        "os": {
            "system": "Linux",
            "release": LINUX_UNAME["release"],
            "version": LINUX_UNAME["version"],
            "name": "Debian GNU/Linux 12 (bookworm)",
        },
        "cpu": {
            "model": "AMD EPYC",
            "architecture": "x86_64",
            "physical_cores": 2,
            "logical_cores": 2,
            "performance_cores": None,
            "efficiency_cores": None,
            "flags": LINUX_FLAGS,
            "identity": identity.cpu_identity(fixture("linux-cpuinfo.txt")),
        },
        "memory_bytes": 24684084 * 1024,
        "gpus": [],
        "apple": None,
    }
    validate("machine", machine)


@pytest.mark.parametrize(
    ("name", "slug", "count"),
    [
        ("nvidia-smi-1gpu.csv", "amd-epyc-zen4-2c-rtx-4090", 1),
        ("nvidia-smi-2gpu.csv", "amd-epyc-zen4-2c-2x-a100-sxm4-80gb", 2),
    ],
)
def test_capture_machine_linux_with_nvidia(name: str, slug: str, count: int) -> None:
    """NVIDIA GPUs are listed and named in the slug."""
    run = fake_run({tuple(nvidia.NVIDIA_SMI): fixture(name)})
    machine = env.capture_machine(run=run, read=fake_read(LINUX_FILES), uname=LINUX_UNAME)
    assert machine["slug"] == slug
    assert len(machine["gpus"]) == count
    assert machine["gpus"][0]["vendor"] == "NVIDIA"
    validate("machine", machine)


@pytest.mark.parametrize("uname", [MAC_UNAME, LINUX_UNAME], ids=["macos", "linux"])
def test_capture_machine_when_every_command_fails(uname: dict[str, str]) -> None:
    """Failing commands and unreadable files leave fields None; the block still validates."""
    machine = env.capture_machine(run=fake_run({}), read=fake_read({}), uname=uname)
    validate("machine", machine)
    assert machine["memory_bytes"] is None
    assert machine["cpu"]["model"] is None
    assert machine["gpus"] == []
    if uname["system"] == "Darwin":
        assert machine["apple"] == dict.fromkeys(
            ["chip", "model_identifier", "macos_version", "rosetta", "gpu_cores", "power_source"]
        )
        assert machine["slug"] == "darwin-arm64"
    else:
        # Without /proc/cpuinfo the CPU count comes from Python.
        assert machine["cpu"]["logical_cores"] == os.cpu_count()
        assert machine["slug"] == f"linux-x86-64-{os.cpu_count()}c"


@pytest.mark.parametrize(
    "garbage", ["", "Error: something went wrong", "{not json", "\x00" * 10], ids=repr
)
def test_capture_machine_on_unexpected_output(garbage: str) -> None:
    """Commands that print something unexpected leave fields None instead of raising."""
    for uname in (MAC_UNAME, LINUX_UNAME):
        machine = env.capture_machine(
            run=lambda args: garbage, read=lambda path: garbage, uname=uname
        )
        validate("machine", machine)


def test_capture_machine_with_missing_commands(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With none of the macOS commands on the PATH, the real runner gives None, not errors."""
    monkeypatch.setenv("PATH", str(tmp_path))
    machine = env.capture_machine(uname=MAC_UNAME)
    validate("machine", machine)
    assert machine["apple"]["chip"] is None
    assert machine["memory_bytes"] is None


def test_capture_machine_on_this_machine() -> None:
    """The real capture here validates against the schema and finds the CPU and memory."""
    machine = env.capture_machine()
    validate("machine", machine)
    assert machine["cpu"]["logical_cores"] >= 1
    assert machine["memory_bytes"] > 0
    assert machine["slug"] == identity.machine_slug(machine)


def test_capture_machine_takes_the_slug_and_label_given() -> None:
    """A slug given by the user is normalised and replaces the automatic one; the label is kept."""
    machine = env.capture_machine(
        slug="My M1 Pro",
        label="  office laptop  ",
        run=fake_run({}),
        read=fake_read({}),
        uname=LINUX_UNAME,
    )
    assert (machine["slug"], machine["label"]) == ("my-m1-pro", "office laptop")


def test_capture_machine_refuses_a_label_too_long() -> None:
    """A label longer than the schema allows is a user error, before anything runs."""
    with pytest.raises(UserError, match="at most 200"):
        env.capture_machine(label="x" * 201, run=fake_run({}), uname=LINUX_UNAME)


# --- run_command ----------------------------------------------------------------------------------


def test_run_command_returns_output() -> None:
    """A command that succeeds gives its standard output."""
    assert commands.run_command([sys.executable, "-c", "print('hello')"]) == "hello\n"


@pytest.mark.parametrize(
    "args",
    [
        ["benchbook-no-such-command-here"],
        [sys.executable, "-c", "import sys; print('partial'); sys.exit(3)"],
    ],
    ids=["missing", "failing"],
)
def test_run_command_failure_is_none(args: list[str]) -> None:
    """A missing command or one that exits with an error gives None."""
    assert commands.run_command(args) is None


def test_run_command_timeout_is_none() -> None:
    """A command that outlives its timeout is killed and gives None."""
    assert commands.run_command([sys.executable, "-c", "import time; time.sleep(30)"], 0.5) is None


# --- slugs ------------------------------------------------------------------------------------------


def cpu_machine(model: str | None, physical: int | None, logical: int | None) -> dict[str, Any]:
    """A minimal machine block with a CPU and no GPU."""
    return {
        "os": {"system": "Linux"},
        "cpu": {
            "model": model,
            "architecture": "x86_64",
            "physical_cores": physical,
            "logical_cores": logical,
        },
        "gpus": [],
        "apple": None,
    }


@pytest.mark.parametrize(
    ("model", "physical", "logical", "slug"),
    [
        ("12th Gen Intel(R) Core(TM) i7-12700H", 14, 20, "intel-core-i7-12700h-20t"),
        ("AMD EPYC 9B14", 2, 2, "amd-epyc-9b14-2c"),
        ("AMD Ryzen 9 5950X 16-Core Processor", 16, 32, "amd-ryzen-9-5950x-32t"),
        ("Intel(R) Xeon(R) CPU @ 2.20GHz", 4, 8, "intel-xeon-8t"),
        ("AMD Ryzen 7 5800H with Radeon Graphics", 8, 16, "amd-ryzen-7-5800h-16t"),
        ("Intel® Core™ Ultra 7 155H", None, 22, "intel-core-ultra-7-155h-22c"),
        (None, None, None, "linux-x86-64"),
    ],
)
def test_machine_slug_for_cpus(
    model: str | None, physical: int | None, logical: int | None, slug: str
) -> None:
    """CPU names lose trademark noise and gain their thread or core count."""
    assert identity.machine_slug(cpu_machine(model, physical, logical)) == slug


def test_machine_slug_stays_within_the_pattern() -> None:
    """A very long CPU and GPU name still gives a slug the schema accepts, cut at a word."""
    machine = cpu_machine("Vendor " + "Extraordinarily Long Model Name " * 5, 8, 8)
    machine["gpus"] = [{"name": "NVIDIA RTX 6000 Ada Generation", "vendor": "NVIDIA"}]
    slug = identity.machine_slug(machine)
    assert identity.SLUG_PATTERN.fullmatch(slug)
    assert not slug.endswith("-")
    assert slug.startswith("vendor-extraordinarily-long-model-name")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("apple-m1-pro-16gpu", "apple-m1-pro-16gpu"),
        ("My MacBook Pro (2021)", "my-macbook-pro-2021"),
        ("  Büro_PC #2 ", "buro-pc-2"),
        ("-leading-and-trailing-", "leading-and-trailing"),
    ],
)
def test_normalize_slug(given: str, expected: str) -> None:
    """A user slug is lowercased, accents dropped, anything else made hyphens."""
    assert identity.normalize_slug(given) == expected


@pytest.mark.parametrize(
    ("given", "message"),
    [("", "no letters or digits"), ("!!! ???", "no letters or digits"), ("a" * 64, "at most 63")],
)
def test_normalize_slug_refuses(given: str, message: str) -> None:
    """A slug with nothing usable, or too long, is a user error saying what to do."""
    with pytest.raises(UserError, match=message):
        identity.normalize_slug(given)


def test_hostname_hash() -> None:
    """The host name is kept only as 8 hex digits of its SHA-256."""
    assert identity.hostname_hash("example") == hashlib.sha256(b"example").hexdigest()[:8]
    assert identity.hostname_hash("") is None


# --- power and thermal ------------------------------------------------------------------------------


def test_power_and_thermal_on_macos() -> None:
    """On macOS pmset gives the power source, battery and thermal limits together."""
    run = fake_run(
        {
            ("pmset", "-g", "batt"): fixture("pmset-batt-battery.txt"),
            ("pmset", "-g", "therm"): fixture("pmset-therm-limited.txt"),
        }
    )
    state = power.power_and_thermal(run=run, system="Darwin")
    assert state["power_source"] == "Battery Power"
    assert state["battery_percent"] == 87
    assert state["cpu_speed_limit"] == 70


def test_power_and_thermal_elsewhere() -> None:
    """Other systems report nothing."""
    assert power.power_and_thermal(run=fake_run({}), system="Linux") == {}


# --- git ----------------------------------------------------------------------------------------------


needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def run_git(repo: Path, *args: str) -> None:
    """Run a git command in ``repo`` with a throwaway identity."""
    subprocess.run(
        [
            "git",
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@example.invalid",
            "-c",
            "commit.gpgsign=false",
            "-C",
            str(repo),
            *args,
        ],
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with one committed file."""
    (tmp_path / "tracked.txt").write_text("one\n")
    run_git(tmp_path, "init", "-q")
    run_git(tmp_path, "add", "tracked.txt")
    run_git(tmp_path, "commit", "-q", "-m", "first")
    return tmp_path


@needs_git
def test_git_info_clean(repo: Path) -> None:
    """A clean checkout gives its full commit hash and dirty false; untracked files do not count."""
    (repo / "untracked.json").write_text("{}\n")
    info = git.git_info(repo)
    head = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert info == {"commit": head, "dirty": False}


@needs_git
def test_git_info_dirty(repo: Path) -> None:
    """A changed tracked file makes the checkout dirty."""
    (repo / "tracked.txt").write_text("two\n")
    assert git.git_info(repo)["dirty"] is True


@needs_git
def test_git_info_outside_a_checkout(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """A folder that is not the top of a checkout (or is in none) gives None for both."""
    (repo / "sub").mkdir()
    assert git.git_info(repo / "sub") == {"commit": None, "dirty": None}
    assert git.git_info(tmp_path_factory.mktemp("plain")) == {"commit": None, "dirty": None}


def test_git_info_without_git() -> None:
    """When git cannot run, commit and dirty are None."""
    assert git.git_info(Path.cwd(), run=fake_run({})) == {"commit": None, "dirty": None}


# --- capture_software ----------------------------------------------------------------------------


def versions(**installed: str) -> Callable[[str], str | None]:
    """A package-version lookup answering from ``installed`` (underscores for hyphens)."""
    return lambda name: installed.get(name.replace("-", "_"))


def test_capture_software_with_worker_report() -> None:
    """What the worker reports from TensorFlow replaces the metadata; the block validates."""
    captured = software.capture_software(TF_REPORT, version=versions(keras="3.0.0"), environ={})
    assert captured["tensorflow"] == "2.18.1"
    assert captured["keras"] == "3.15.1"
    assert captured["keras_major"] == 3
    assert captured["tf_devices"] == TF_REPORT["tf_devices"]
    validate("software", captured)


def test_capture_software_from_metadata() -> None:
    """Without a worker report, versions come from the installed distributions."""
    lookup = versions(
        tensorflow_macos="2.16.2", keras="3.15.1", tensorflow_metal="1.2.0", numpy="1.26.4"
    )
    captured = software.capture_software(version=lookup, environ={}, run=fake_run({}))
    assert captured["tensorflow"] == "2.16.2"
    assert captured["tensorflow_metal"] == "1.2.0"
    assert (captured["keras"], captured["keras_major"]) == ("3.15.1", 3)
    assert captured["packages"] == {
        "numpy": "1.26.4",
        "scipy": None,
        "Pillow": None,
        "jsonschema": None,
        "tf-keras": None,
        "tensorflow-macos": "2.16.2",
    }
    assert captured["tf_devices"] == []
    assert captured["git"] == {"commit": None, "dirty": None}
    validate("software", captured)


def test_capture_software_records_the_cuda_libraries_where_installed() -> None:
    """tensorflow[and-cuda]'s CUDA runtime and cuDNN wheels are recorded; absent, not listed."""
    lookup = versions(
        tensorflow="2.18.1", nvidia_cuda_runtime_cu12="12.5.82", nvidia_cudnn_cu12="9.3.0.75"
    )
    packages = software.capture_software(version=lookup, environ={}, run=fake_run({}))["packages"]
    assert packages["nvidia-cuda-runtime-cu12"] == "12.5.82"
    assert packages["nvidia-cudnn-cu12"] == "9.3.0.75"


def test_capture_software_legacy_keras() -> None:
    """With TF_USE_LEGACY_KERAS=1 and tf-keras installed, Keras 2 is what is recorded."""
    lookup = versions(tensorflow="2.18.1", keras="3.15.1", tf_keras="2.18.0")
    captured = software.capture_software(version=lookup, environ={"TF_USE_LEGACY_KERAS": "1"})
    assert (captured["keras"], captured["keras_major"]) == ("2.18.0", 2)
    assert captured["env"] == {"TF_USE_LEGACY_KERAS": "1"}


def test_capture_software_environment_variables() -> None:
    """TF_* and KERAS_* variables are kept; Terraform's and secret-looking ones are not shown."""
    environ = {
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "TF_ENABLE_ONEDNN_OPTS": "0",
        "KERAS_HOME": str(Path.home() / "keras-cache"),
        "KERAS_API_KEY": "hunter2",
        "TF_VAR_db_password": "hunter2",
        "TF_TOKEN_app_terraform_io": "hunter2",
        "PATH": "/usr/bin",
        "HOME": str(Path.home()),
    }
    captured = software.capture_software(version=versions(), environ=environ, run=fake_run({}))
    assert captured["env"] == {
        "KERAS_API_KEY": "(redacted)",
        "KERAS_HOME": "~/keras-cache",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "TF_ENABLE_ONEDNN_OPTS": "0",
    }
    validate("software", captured)


@pytest.mark.slow
def test_capture_software_on_this_machine() -> None:
    """The real capture here finds TensorFlow and Keras and validates against the schema."""
    captured = software.capture_software()
    assert captured["tensorflow"] is not None
    assert captured["keras_major"] in {2, 3}
    assert captured["packages"]["numpy"] is not None
    validate("software", captured)


def test_keras_version_follows_legacy_switch() -> None:
    """The version behind tf.keras is used; without one, TF_USE_LEGACY_KERAS picks the package."""
    with_version = SimpleNamespace(keras=SimpleNamespace(__version__="3.15.1"))
    assert introspect._keras_version_in_use(with_version, {}) == "3.15.1"
    without = SimpleNamespace(keras=SimpleNamespace())
    legacy = introspect._keras_version_in_use(without, {"TF_USE_LEGACY_KERAS": "1"})
    has_tf_keras = software.package_version("tf-keras") is not None
    assert (legacy is not None) == has_tf_keras


@pytest.mark.slow
def test_tensorflow_info() -> None:
    """Inside TensorFlow the versions and the CPU device are reported, and fit the schema."""
    import tensorflow as tf

    info = introspect.tensorflow_info()
    assert info["tensorflow"] == tf.__version__
    assert info["keras_major"] == int(info["keras"].split(".")[0])
    assert "CPU:/physical_device:CPU:0" in info["tf_devices"]
    validate("software", software.capture_software(info))


def test_plugin_error_gives_tensorflow_metals_loading_message(tmp_path: Path) -> None:
    """On a Mac with tensorflow-metal installed and no GPU listed, loading the plugin again gives
    the message TensorFlow only logged; with a GPU listed, or off macOS, there is none."""
    package = tmp_path / "site-packages" / "tensorflow"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    plugins = tmp_path / "site-packages" / "tensorflow-plugins"
    plugins.mkdir()
    (plugins / "libmetal_plugin.dylib").write_bytes(b"\xcf\xfa\xed\xfe")

    class FakeTensorFlow:
        __file__ = str(package / "__init__.py")

        @staticmethod
        def load_pluggable_device_library(path: str) -> None:
            msg = f"dlopen({path}, 0x0006): Symbol not found: _TF_GetInputPropertiesList\nmore"
            raise RuntimeError(msg)

    error = introspect.plugin_error(FakeTensorFlow, ["CPU"], system="Darwin")
    assert error is not None
    assert error.startswith("libmetal_plugin.dylib: RuntimeError: dlopen(")
    assert "Symbol not found: _TF_GetInputPropertiesList" in error
    assert "\n" not in error
    assert introspect.plugin_error(FakeTensorFlow, ["CPU", "GPU"], system="Darwin") is None
    assert introspect.plugin_error(FakeTensorFlow, ["CPU"], system="Linux") is None
    captured = software.capture_software(
        {**TF_REPORT, "plugin_error": error}, version=versions(tensorflow_metal="1.2.0"), environ={}
    )
    assert captured["plugin_error"] == error
    validate("software", captured)
