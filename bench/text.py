"""Text, one home for it: untrusted text made inert, and failures as one line.

Result files come from contributors: a label, a version string, an error message or a file name
may hold ANSI escape sequences (which recolour, move the cursor or retitle the window), bidi
overrides that reorder what is shown, or lone surrogates that make ``print`` raise.

- On a terminal, everything a command shows from a file goes through `printable` first.
- On a page or in a pull request description, `escape_markdown` makes the text inert Markdown and
  `one_line` keeps it on one line with its hidden characters shown (`visible`), so one rule
  decides what a label can and cannot do.
- `error_line` is how an exception is stored in a results file and shown in a summary.
"""

from __future__ import annotations

import re
import string
import unicodedata

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), other two-byte ESC sequences, and the 8-bit CSI.
_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[@-Z\\-_]"
    r"|\x9b[0-?]*[ -/]*[@-~]"
)

LIMIT = 200
"""Characters shown of one piece of untrusted text; the rest becomes ``...``."""

_PUNCTUATION = frozenset(string.punctuation)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
"""Control, format (bidi overrides, zero-width, soft hyphen, word joiners, tag characters),
surrogate, private-use and unassigned characters, and line and paragraph separators."""
FILLERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
"""Letters that draw nothing (Hangul fillers, the blank Braille pattern): they pass as text but
hide as well as a zero-width space does."""


def hidden(char: str) -> bool:
    """Whether ``char`` draws nothing or reorders what is drawn (`visible` escapes it)."""
    return char in FILLERS or unicodedata.category(char) in _HIDDEN_CATEGORIES


def visible(text: object) -> str:
    """``text`` with every `hidden` character written as its escape (``\\u202e``), so a reader
    sees that something is there instead of text that hides, reorders or pings."""
    return "".join(
        (f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}") if hidden(c) else c
        for c in str(text)
    )


def one_line(text: object) -> str:
    """``text`` as a single line: control characters and line breaks become single spaces, and
    the other hidden characters are shown as escapes (`visible`)."""
    return visible(" ".join(_CONTROL.sub(" ", str(text)).split()))


def escape_markdown(text: object) -> str:
    """Untrusted text as inert Markdown: one line, every ASCII punctuation mark escaped.

    CommonMark (and MyST, and GitHub's Markdown) let a backslash escape any ASCII punctuation,
    which turns HTML tags, roles, links and emphasis into the literal characters.
    """
    return "".join("\\" + c if c in _PUNCTUATION else c for c in one_line(text))


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


def error_line(exc: BaseException, limit: int = 2000) -> str:
    """An exception as one line, ``ValueError: the first line of its message``, at most ``limit``
    characters: how a failure is stored in a results file and shown in a summary."""
    first = (str(exc).strip().splitlines() or [""])[0]
    return (f"{type(exc).__name__}: {first}" if first else type(exc).__name__)[:limit]
