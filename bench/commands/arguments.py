"""Command lines whose mistakes are one line: the parser every front door uses, its types, and
the one way every command (the scripts included) reports a refusal.

A refusal is ``NAME: error: WHAT AND WHAT TO DO`` on standard error and exit status 2; text that
came from a results file is made printable first (`bench.text.printable`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from bench.text import printable

ERROR_CHARS = 1000
"""Characters shown of one error message."""


def refuse(name: str, exc: BaseException | str) -> int:
    """Print the one line of a refused command, ``NAME: error: ...``; return exit status 2."""
    print(f"{name}: error: {printable(exc, ERROR_CHARS)}", file=sys.stderr)
    return 2


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose every mistake is one line, ``NAME: error: ... (see --help)``,
    exit status 2, instead of argparse's usage block. ``name`` is what the line starts with."""

    def __init__(self, *args: Any, name: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.name = name

    def error(self, message: str) -> NoReturn:
        """One line: what is wrong and where to look."""
        self.exit(2, f"{self.name}: error: {message} (see --help)\n")


def real_number(noun: str, within: Callable[[float], bool], bounds: str) -> Callable[[str], float]:
    """An argparse ``type`` for a number that ``within`` accepts: ``'x' is not {noun}`` for
    text that is no number, ``{text} must be {bounds}`` for one out of bounds (NaN included)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            msg = f"{text!r} is not {noun}"
            raise argparse.ArgumentTypeError(msg) from None
        if not within(value):
            msg = f"{text} must be {bounds}"
            raise argparse.ArgumentTypeError(msg)
        return value

    return parse


def whole_number(minimum: int) -> Callable[[str], int]:
    """An argparse ``type`` for a whole number of at least ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            msg = f"{text!r} is not a whole number"
            raise argparse.ArgumentTypeError(msg) from None
        if value < minimum:
            msg = f"{value} must be at least {minimum}"
            raise argparse.ArgumentTypeError(msg)
        return value

    return parse
