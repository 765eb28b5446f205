"""Untrusted text (anything a contributor typed into a results file) made inert as Markdown.

Used by the report's pages (`bench.report.markup`) and by the pull request description that
`benchbook share` writes, so one rule decides what a label can and cannot do on a page.
"""

from __future__ import annotations

import re
import string
import unicodedata

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
