"""Hostile and malformed results files: refused with one clear line, or accepted and shown safely.

Property-based (hypothesis): broken JSON, wrong types, huge numbers, NaN and Infinity, very long
strings, and markup or terminal escapes in every text field of a valid document go through
`bench.results.loads`, `bench.commands.validate` and `bench.readers.comparison`. Each input must be refused with a
`ResultsError` of one line, or accepted; an accepted one must then pass through the validator and
the comparison without a crash and without a raw control character reaching the terminal.
"""

from __future__ import annotations

import copy
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, currently_in_test_context, event, given, settings
from hypothesis import strategies as st

from bench import results
from bench.commands import compare, validate
from bench.errors import UserError
from bench.readers import comparison
from bench.text import printable

ROOT = Path(__file__).resolve().parents[1]
BASE_FILE = ROOT / "tests" / "data" / "validate" / "valid" / "amd-epyc-2c" / "20261128T200525Z.json"
BASE: dict[str, Any] = json.loads(BASE_FILE.read_text(encoding="utf-8"))
BASE["workloads"][1]["weights_note"] = "random weights: no ImageNet file"
BASE["workloads"][0]["optimizer"] = "keras.src.optimizers.adam.Adam"

Path_ = tuple[str | int, ...]

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def leaves(node: Any, path: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    """Every ``(path, value)`` below ``node``, containers included."""
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from leaves(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from leaves(value, (*path, index))


ALL_PATHS = [p for p, _ in leaves(BASE) if p]
TEXT_PATHS = [p for p, v in leaves(BASE) if isinstance(v, str)]
KEY_HOLDERS = [
    ("software", "packages"),
    ("software", "env"),
    ("dataset", "splits", "train", "per_class"),
    ("dataset", "generator"),
]
"""Objects whose keys are free text."""


def put(document: dict[str, Any], path: Path_, value: Any) -> dict[str, Any]:
    """A deep copy of ``document`` with the value at ``path`` replaced."""
    changed = copy.deepcopy(document)
    node: Any = changed
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return changed


def get(document: dict[str, Any], path: Path_) -> Any:
    """The value at ``path``."""
    node: Any = document
    for step in path:
        node = node[step]
    return node


MARKUP = [
    "<script>alert(1)</script>",
    "{{ 7 * 7 }}",
    "{% raw %}",
    "$(rm -rf ~)",
    "`id`",
    "\x1b[31mred\x1b[0m",
    "\x1b[2J\x1b[H",
    "\x1b]0;pwned\x07",
    "\x1b]8;;http://example.invalid\x1b\\link\x1b]8;;\x1b\\",
    "\x9b31m",
    "\u202eevil\u202c",
    "zero\u200bwidth",
    "\ud800",
    "\x00nul",
    "line\nbreak\r\n",
    "tab\there",
    "\x7f\x08\x08",
    "](javascript:alert(1))",
    "a" * 5000,
]

hostile_text = st.one_of(
    st.sampled_from(MARKUP),
    st.text(max_size=50),
    st.builds(lambda a, b: a + b, st.sampled_from(MARKUP), st.text(max_size=20)),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=190, max_size=4100),
)

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**400), max_value=10**400),
        st.floats(allow_nan=True, allow_infinity=True),
        hostile_text,
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)

RAW_NUMBERS = ["1e999", "-1e999", "1" + "0" * 5000, "1E400", "-0", "0." + "0" * 400 + "1", "5e-324"]


def shown_safely(text: str) -> bool:
    """True when ``text`` has no character a terminal would act on (lines apart)."""
    return all(c.isprintable() for line in text.split("\n") for c in line)


def refused_in_one_line(text: str) -> dict[str, Any] | None:
    """Load ``text``; None when refused (after checking the message is one line)."""
    try:
        loaded = results.loads(text, "hostile.json")
    except results.ResultsError as exc:
        if currently_in_test_context():
            event("refused")  # shown by --hypothesis-show-statistics
        message = str(exc)
        assert message.startswith("hostile.json: ")
        # What the commands print: one line of printable text (and the raw message itself: see
        # test_refusal_message_is_one_line_whatever_the_keys).
        assert shown_safely(printable(message, 10_000))
        assert "\n" not in printable(message, 10_000)
        return None
    if currently_in_test_context():
        event("accepted")
    return loaded


def exercise(document: dict[str, Any], text: str | None = None) -> None:
    """Put an accepted document through the validator and the comparison, checking the output."""
    slug = document["machine"]["slug"]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "results"
        path = root / slug / "20261128T200525Z.json"
        path.parent.mkdir(parents=True)
        text = text if text is not None else results.dumps(document)
        # A lone surrogate cannot be UTF-8; "surrogatepass" writes the bytes a broken tool would.
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        report = results.check_tree(root)
        for problem in report.problems:
            assert shown_safely(str(problem))
            assert "\n" not in str(problem)
        try:
            output = comparison.report(
                comparison.load_side("A", path), comparison.load_side("B", path)
            )
        except UserError as exc:
            output = printable(exc, 10_000)  # what compare.main prints
        assert shown_safely(output)


def test_base_document_is_valid() -> None:
    """The document every mutation starts from is accepted and compares with itself."""
    results.validate(BASE)
    exercise(BASE)


@SETTINGS
@given(path=st.sampled_from(TEXT_PATHS), value=hostile_text)
def test_markup_in_every_text_field(path: Path_, value: str) -> None:
    """Markup, escapes and long text in any text field: refused in one line, or shown safely."""
    document = put(BASE, path, value)
    text = json.dumps(document)
    loaded = refused_in_one_line(text)
    if loaded is not None:
        exercise(loaded, text)


@SETTINGS
@given(holder=st.sampled_from(KEY_HOLDERS), key=hostile_text, value=st.sampled_from(["1.0", 3]))
def test_markup_in_free_keys(holder: Path_, key: str, value: Any) -> None:
    """Hostile text as a key of a free-form object (package names, environment variables)."""
    document = copy.deepcopy(BASE)
    get(document, holder)[key] = value
    text = json.dumps(document)
    loaded = refused_in_one_line(text)
    if loaded is not None:
        exercise(loaded, text)


@SETTINGS
@given(path=st.sampled_from(ALL_PATHS), value=json_values)
def test_wrong_types_and_extreme_values_anywhere(path: Path_, value: Any) -> None:
    """Any JSON value (NaN and Infinity included) in any place: refused in one line, or safe."""
    try:
        text = json.dumps(put(BASE, path, value))
    except ValueError:
        assume(False)  # an integer Python itself will not print (over 4300 digits)
    loaded = refused_in_one_line(text)
    if loaded is not None:
        exercise(loaded, text)


@SETTINGS
@given(path=st.sampled_from(ALL_PATHS), raw=st.sampled_from(RAW_NUMBERS))
def test_huge_and_tiny_number_literals(path: Path_, raw: str) -> None:
    """Number literals past float range, 5000 digits, or denormal: refused in one line, or safe."""
    marker = "__number_goes_here__"
    text = json.dumps(put(BASE, path, marker)).replace(f'"{marker}"', raw)
    loaded = refused_in_one_line(text)
    if loaded is not None:
        exercise(loaded, text)


@SETTINGS
@given(
    run=st.integers(0, len(BASE["workloads"]) - 1),
    field=st.sampled_from(["epoch_s", "train_s", "validation_s", "images_per_s"]),
    value=st.floats(min_value=5e-324, max_value=1e7),
)
def test_extreme_but_schema_valid_timings(run: int, field: str, value: float) -> None:
    """Timings at the edges the schema allows never crash the statistics or the comparison."""
    document = copy.deepcopy(BASE)
    for epoch in document["workloads"][run]["epochs"]:
        epoch[field] = value
    loaded = refused_in_one_line(results.dumps(document))
    if loaded is not None:
        exercise(loaded)


@SETTINGS
@given(
    cut=st.integers(0, len(json.dumps(BASE))),
    insert=st.sampled_from(["", "{", "}", "[", "]", ",", '"', ":", "\\", "\x00", "NaN", "\ud800"]),
    drop=st.integers(0, 3),
)
def test_broken_json(cut: int, insert: str, drop: int) -> None:
    """Valid text with characters inserted or dropped anywhere: refused in one line, or safe."""
    text = json.dumps(BASE)
    broken = text[:cut] + insert + text[cut + drop :]
    loaded = refused_in_one_line(broken)
    if loaded is not None:
        exercise(loaded, broken)


@SETTINGS
@given(text=st.text(max_size=200))
def test_arbitrary_text(text: str) -> None:
    """Any text at all is refused in one line (no document is that short)."""
    assert refused_in_one_line(text) is None


def test_deep_nesting_is_refused_in_one_line() -> None:
    """Nesting deep enough to exhaust the parser's recursion is a one-line refusal."""
    assert refused_in_one_line("[" * 100_000) is None
    deep = json.dumps(put(BASE, ("dataset", "generator"), {})).replace(
        '"generator": {}', '"generator": ' + "[" * 100_000 + "]" * 100_000
    )
    loaded = refused_in_one_line(deep)
    assert loaded is None or isinstance(loaded["dataset"]["generator"], list)


def test_refusal_message_is_one_line_whatever_the_keys() -> None:
    """A bad value under a key holding a line break or an escape still gives a one-line message."""
    document = copy.deepcopy(BASE)
    document["software"]["packages"]["evil\n\x1b[2J"] = 3
    with pytest.raises(results.ResultsError) as exc:
        results.loads(json.dumps(document), "hostile.json")
    assert shown_safely(str(exc.value))


def test_accepted_documents_hold_only_finite_numbers() -> None:
    """A number literal beyond float range is refused like Infinity, not read as inf."""
    text = json.dumps(put(BASE, ("workloads", 0, "epochs", 0, "loss"), "__n__"))
    assert refused_in_one_line(text.replace('"__n__"', "1e999")) is None
    assert refused_in_one_line(text.replace('"__n__"', "-1e999")) is None


# --- One validation: docs, validate and compare refuse the same files -------------------------

GOOD_SLUG = "amd-epyc-2c"
GOOD_NAME = "20261128T200525Z.json"


def _hostile(kind: str, folder: Path) -> None:
    """Spoil the results tree ``folder`` (holding the valid fixture) in one way."""
    path = folder / GOOD_SLUG / GOOD_NAME
    text = path.read_text(encoding="utf-8")
    if kind == "infinity":
        path.write_text(text.replace('"epoch_s": ', '"epoch_s": 1e999, "x": ', 1))
    elif kind == "bom":
        path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    elif kind == "utf-16":
        path.write_bytes(text.encode("utf-16"))
    elif kind == "misplaced":
        (folder / "someone-else").mkdir()
        path.rename(folder / "someone-else" / GOOD_NAME)
    elif kind == "duplicate":
        data = json.loads(text)
        data["started_at"] = data["started_at"].replace("T20:05:25", "T21:05:25")
        data["finished_at"] = data["finished_at"].replace("T20:", "T21:", 1)
        (folder / GOOD_SLUG / "20261128T210525Z.json").write_text(results.dumps(data))
    elif kind == "impossible":
        data = json.loads(text)
        data["workloads"][0]["epochs"][1]["train_s"] = 1e6
        path.write_text(results.dumps(data))
    else:  # valid: untouched
        assert kind == "valid"


HOSTILE = ["infinity", "bom", "utf-16", "misplaced", "duplicate", "impossible"]


@pytest.mark.parametrize("kind", ["valid", *HOSTILE])
def test_docs_validate_and_compare_refuse_the_same_files(
    tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Infinity, a byte-order mark, UTF-16, a misplaced file, a duplicate run and impossible
    timings are refused by all three readers alike, each in one line; the valid tree by none."""
    from bench.report import tables

    folder = tmp_path / "results"
    shutil.copytree(BASE_FILE.parent.parent, folder)
    _hostile(kind, folder)
    machine = next(p.parent for p in sorted(folder.rglob("*.json")))

    by_validate = validate.main([str(folder)])
    first_problem = capsys.readouterr().out.splitlines()[0]
    try:
        tables.load_results(folder)
        by_docs = ""
    except results.ResultsError as exc:
        by_docs = str(exc)
    by_compare = compare.main([str(machine), str(machine)])
    err = capsys.readouterr().err

    if kind == "valid":
        assert (by_validate, by_docs, by_compare, err) == (0, "", 0, "")
        return
    # The same first problem, word for word, from all three; one line each.
    assert (by_validate, by_compare) == (1, 2)
    assert by_docs.startswith(first_problem)
    assert err.startswith(f"compare: error: {first_problem}")
    assert "\n" not in by_docs
    assert err.count("\n") == 1
