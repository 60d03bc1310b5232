from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exemptlint.loaders.jsontext import JsonPositions, JsonSyntaxError, parse_json_text, strip_jsonc
from exemptlint.model import Position

DOC = """{
  // a comment with "quotes" and a , before }
  "a": {"b": [1, {"c": "x // not a comment"}],},
  /* block
     comment */ "d": null,
}
"""


def test_strip_jsonc_keeps_length_and_lines() -> None:
    stripped = strip_jsonc(DOC)
    assert len(stripped) == len(DOC)
    assert stripped.count("\n") == DOC.count("\n")
    assert parse_json_text(DOC) == {"a": {"b": [1, {"c": "x // not a comment"}]}, "d": None}


def test_positions_of_keys_and_values() -> None:
    positions = JsonPositions(DOC)
    assert positions.key(("a",)) == Position(3, 3)
    assert positions.value(("a", "b", 1)) == Position(3, 18)
    assert positions.value(("a", "b")) == Position(3, 14)
    assert positions.key(("a", "b", 1, "c")) == Position(3, 19)
    assert positions.key(("d",)) == Position(5, 17)
    assert positions.value(()) == Position(1, 1)
    assert positions.key(("missing",)) is None


def test_syntax_error_has_line_and_column() -> None:
    with pytest.raises(JsonSyntaxError) as caught:
        parse_json_text('{\n  "a": 1\n  "b": 2\n}')
    assert (caught.value.line, caught.value.column) == (3, 3)


def test_syntax_error_in_jsonc_keeps_original_position() -> None:
    with pytest.raises(JsonSyntaxError) as caught:
        parse_json_text('{\n  // note\n  "a": [1,,2]\n}')
    assert (caught.value.line, caught.value.column) == (3, 11)


def test_bom_is_accepted() -> None:
    assert parse_json_text('\ufeff{"a": 1}') == {"a": 1}


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    with pytest.raises(JsonSyntaxError) as caught:
        parse_json_text("[" * 100_000 + "]" * 100_000)
    assert "deep" in caught.value.message


def test_positions_with_escaped_quotes_and_unicode() -> None:
    text = '{"k\\"ey": "v\\"al", "é": {"x": 1}}'
    positions = JsonPositions(text)
    assert positions.key(('k"ey',)) == Position(1, 2)
    assert positions.key(("é", "x")) == Position(1, 26)


def _paths(value: object, path: tuple[str | int, ...] = ()) -> list[tuple[tuple[str | int, ...], object]]:
    found: list[tuple[tuple[str | int, ...], object]] = [(path, value)]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


def _offset(text: str, position: Position) -> int:
    lines = text.split("\n")
    return sum(len(line) + 1 for line in lines[: position.line - 1]) + position.column - 1


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=20,
)


@settings(derandomize=True, deadline=None, max_examples=300)
@given(doc=_json_values, indent=st.sampled_from([None, 0, 2]), jsonc=st.booleans())
def test_positions_point_at_every_key_and_container(doc: object, indent: int | None, jsonc: bool) -> None:
    """Every key path finds its key token and every object or array its opening bracket, in
    plain JSON and in JSONC with comments and trailing commas after every value."""
    text = json.dumps(doc, indent=indent, ensure_ascii=False)
    if jsonc and indent is not None:
        # A comment after each line and a trailing comma before each closing bracket.
        text = "// head\n" + "\n".join(
            line + (" /* c */," if line.rstrip().endswith(("]", "}")) and i else "")
            for i, line in enumerate(text.split("\n"))
        ).rstrip(",")
        if not text.endswith(("]", "}")):
            text = text.rsplit(" /* c */", 1)[0]
    try:
        assert parse_json_text(text) == doc
    except (JsonSyntaxError, AssertionError):
        return  # the comment insertion made something that is not the same document: not a case
    positions = JsonPositions(text)
    for path, value in _paths(doc):
        if path:
            key = positions.key(path)
            if isinstance(path[-1], str):
                assert key is not None, path
                at = _offset(text, key)
                assert text[at : at + key.length] == json.dumps(path[-1], ensure_ascii=False), path
            else:
                assert key is None
        where = positions.value(path)
        if isinstance(value, (dict, list)):
            assert where is not None, path
            assert text[_offset(text, where)] == ("{" if isinstance(value, dict) else "["), path
        else:
            assert where is None, path


def test_a_block_comment_ends_at_its_first_close() -> None:
    """``/\\*.*?\\*/`` once stretched over ``*/`` when the member after it did not match, so a
    key in the next object was found for this one (found by the EPAC/JSONC fuzz campaign)."""
    text = '[{"p":{"e":""}/**/},{"x":"",/**/"p":{}}]'
    positions = JsonPositions(text)
    assert positions.key((0, "p", "e")) == Position(1, 8)
    assert positions.key((0, "p")) == Position(1, 3)
    assert positions.key((1, "p")) == Position(1, 33)


def test_numbers_too_long_for_python_are_a_syntax_error() -> None:
    """Python refuses to read an integer of more than 4,300 digits (a ValueError, not a
    JSONDecodeError): it is a one-line error at the number, not a traceback."""
    with pytest.raises(JsonSyntaxError) as caught:
        parse_json_text('{\n  "exemptionCategory": ' + "7" * 5000 + "\n}")
    assert (caught.value.line, caught.value.column) == (2, 24)
    assert "4300 digits" in caught.value.message
