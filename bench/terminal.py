"""Text from result files made safe to print on a terminal.

Result files come from contributors: a label, a version string, an error message or a file name
may hold ANSI escape sequences (which recolour, move the cursor or retitle the window), bidi
overrides that reorder what is shown, or lone surrogates that make ``print`` raise. Everything a
command shows from a file goes through `printable` first.
"""

from __future__ import annotations

import re

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
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in plain)
    return shown if len(shown) <= limit else shown[:limit] + "..."
