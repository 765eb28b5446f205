"""Power and thermal state now (macOS ``pmset``): on battery, Low Power Mode, CPU speed limit."""

from __future__ import annotations

import platform
from typing import Any

from bench.harness.machine.commands import Runner, run_command
from bench.harness.machine.darwin import parse_pmset_batt, parse_pmset_settings, parse_pmset_therm


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
