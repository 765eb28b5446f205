"""The Geekbench scores a user types in (``--geekbench "single=...,multi=...,gpu=..."``), checked."""

from __future__ import annotations

import re
from typing import Any, NoReturn

from bench import results
from bench.errors import UserError

_GEEKBENCH_KEYS = {
    "single": "single_core",
    "single_core": "single_core",
    "multi": "multi_core",
    "multi_core": "multi_core",
    "gpu": "gpu",
    "version": "version",
    "api": "gpu_api",
    "gpu_api": "gpu_api",
}


_GEEKBENCH_APIS = {"metal": "Metal", "opencl": "OpenCL", "vulkan": "Vulkan", "cuda": "CUDA"}


_GEEKBENCH_EXAMPLE = '--geekbench "single=2374,multi=12360,gpu=41012,version=6.3,api=Metal"'


def _refuse_geekbench(problem: str) -> NoReturn:
    msg = f"--geekbench: {problem}; expected e.g. {_GEEKBENCH_EXAMPLE}"
    raise UserError(msg)


def parse_geekbench(arg: str) -> dict[str, Any]:
    """Parse the scores a user got from the real Geekbench, e.g. ``single=2374,version=6.3``.

    Keys: ``single``, ``multi``, ``gpu`` (whole-number scores), ``version`` (required, e.g.
    ``6.3`` or ``6.3.0``) and ``api`` (the GPU benchmark's API: Metal, OpenCL, Vulkan or CUDA;
    only with ``gpu``). At least one score is required.

    Returns
    -------
    dict
        The results file's ``geekbench`` block: ``version``, ``single_core``, ``multi_core``,
        ``gpu``, ``gpu_api`` (``None`` where not given).

    Raises
    ------
    UserError
        One line naming the bad part and showing a valid example.
    """
    out: dict[str, Any] = {
        "version": None,
        "single_core": None,
        "multi_core": None,
        "gpu": None,
        "gpu_api": None,
    }
    given: set[str] = set()
    for part in arg.split(","):
        key, sep, value = (s.strip() for s in part.partition("="))
        if not part.strip():
            _refuse_geekbench("empty item" if arg.strip() else "nothing given")
        field = _GEEKBENCH_KEYS.get(key.lower())
        if not sep or field is None:
            _refuse_geekbench(
                f"{part.strip()[:40]!r} is not one of single=, multi=, gpu=, version=, api="
            )
        if field in given:
            _refuse_geekbench(f"{key} given twice")
        given.add(field)
        if field in ("single_core", "multi_core", "gpu"):
            if not re.fullmatch(r"[0-9]{1,9}", value):
                _refuse_geekbench(f"{key}={value[:40]!r} is not a whole-number score")
            out[field] = int(value)
            problem = results.field_problem(f"geekbench.{field}", out[field])
            if problem is not None:
                _refuse_geekbench(f"{key}={value} {problem}")
        elif field == "version":
            if not re.fullmatch(r"[0-9]{1,3}(\.[0-9]{1,4}){0,3}", value):
                _refuse_geekbench(f"version={value[:40]!r} is not a Geekbench version such as 6.3")
            out[field] = value
        else:
            api = _GEEKBENCH_APIS.get(value.lower())
            if api is None:
                _refuse_geekbench(f"api={value[:40]!r} is not one of Metal, OpenCL, Vulkan, CUDA")
            out[field] = api
    if out["version"] is None:
        _refuse_geekbench("version= is missing (Geekbench 5 and 6 scores are not comparable)")
    if out["single_core"] is None and out["multi_core"] is None and out["gpu"] is None:
        _refuse_geekbench("no score given")
    if out["gpu_api"] is not None and out["gpu"] is None:
        _refuse_geekbench("api= given without gpu=")
    return out
