"""Tests for bench/text.py and bench/commands/arguments.py: untrusted text made safe to print, one-line parser errors."""

from __future__ import annotations

import pytest

from bench.text import printable


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain label, café", "plain label, café"),
        ("\x1b[31mred\x1b[0m", "red"),
        ("\x1b[2J\x1b[Hcleared", "cleared"),
        ("\x1b]0;new title\x07after", "after"),
        ("\x1b]8;;http://x.invalid\x1b\\link\x1b]8;;\x1b\\", "link"),
        ("\x9b31mred", "red"),
        ("bell\x07", "bell\\x07"),
        ("two\nlines\r\n", "two\\nlines\\r\\n"),
        ("tab\there", "tab\\there"),
        ("\u202eevil", "\\u202eevil"),
        ("zero\u200bwidth", "zero\\u200bwidth"),
        ("\ud800", "\\ud800"),
        ("<script>{{ $(id) }}</script>", "<script>{{ $(id) }}</script>"),
        (42, "42"),
    ],
)
def test_printable(text: object, expected: str) -> None:
    """Escape sequences are removed and other non-printable characters shown as escapes."""
    assert printable(text) == expected


def test_long_text_is_cut() -> None:
    """Text longer than the limit is cut and ends with an ellipsis."""
    assert printable("x" * 500) == "x" * 200 + "..."
    assert printable("abcdef", 3) == "abc..."


def test_result_encodes_as_utf8() -> None:
    """The output never holds a lone surrogate, so printing it cannot raise."""
    assert printable("a\udcffb").encode("utf-8") == b"a\\udcffb"


def test_command_line_mistakes_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """A bad option gives one line naming the command and exit status 2; numbers are checked."""
    import argparse

    from bench.commands.arguments import OneLineParser, whole_number

    parser = OneLineParser(name="tool", prog="python -m tool")
    parser.add_argument("--n", type=whole_number(1))
    with pytest.raises(SystemExit) as info:
        parser.parse_args(["--n", "0"])
    assert info.value.code == 2
    assert capsys.readouterr().err == (
        "tool: error: argument --n: 0 must be at least 1 (see --help)\n"
    )
    assert parser.parse_args(["--n", "3"]).n == 3
    with pytest.raises(argparse.ArgumentTypeError, match="'x' is not a whole number"):
        whole_number(0)("x")
