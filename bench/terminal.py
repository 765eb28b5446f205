"""Text made safe to print on a terminal, and command lines whose mistakes are one line.

Result files come from contributors: a label, a version string, an error message or a file name
may hold ANSI escape sequences (which recolour, move the cursor or retitle the window), bidi
overrides that reorder what is shown, or lone surrogates that make ``print`` raise. Everything a
command shows from a file goes through `printable` first.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from typing import Any, NoReturn

from bench.escaping import FILLERS

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), other two-byte ESC sequences, and the 8-bit CSI.
_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[@-Z\\-_]"
    r"|\x9b[0-?]*[ -/]*[@-~]"
)

LIMIT = 200
"""Characters shown of one piece of untrusted text; the rest becomes ``...``."""


def printable(text: object, limit: int = LIMIT) -> str:
    """``text`` as one line of plain characters, at most ``limit`` long (plus ``...``).

    ANSI escape sequences are removed; any other character that is not printable (control
    characters, line breaks, tabs, bidi and zero-width format characters, lone surrogates) is
    shown as its Python escape, e.g. ``\\x07`` or ``\\u202e``, so nothing is hidden.
    """
    plain = _ANSI.sub("", str(text))
    shown = "".join(
        f"\\u{ord(c):04x}" if c in FILLERS else c if c.isprintable() else repr(c)[1:-1]
        for c in plain
    )
    return shown if len(shown) <= limit else shown[:limit] + "..."


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose every mistake is one line, ``NAME: error: ... (see --help)``,
    exit status 2, instead of argparse's usage block. ``name`` is what the line starts with."""

    def __init__(self, *args: Any, name: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.name = name

    def error(self, message: str) -> NoReturn:
        """One line: what is wrong and where to look."""
        self.exit(2, f"{self.name}: error: {message} (see --help)\n")


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
