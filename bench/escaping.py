"""Untrusted text (anything a contributor typed into a results file) made inert as Markdown.

Used by the report's pages (`bench.report.markup`) and by the pull request description that
`benchbook share` writes, so one rule decides what a label can and cannot do on a page.
"""

from __future__ import annotations

import re
import string

_PUNCTUATION = frozenset(string.punctuation)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def one_line(text: object) -> str:
    """``text`` as a single line: control characters and line breaks become single spaces."""
    return " ".join(_CONTROL.sub(" ", str(text)).split())


def escape_markdown(text: object) -> str:
    """Untrusted text as inert Markdown: one line, every ASCII punctuation mark escaped.

    CommonMark (and MyST, and GitHub's Markdown) let a backslash escape any ASCII punctuation,
    which turns HTML tags, roles, links and emphasis into the literal characters.
    """
    return "".join("\\" + c if c in _PUNCTUATION else c for c in one_line(text))
