from __future__ import annotations

import pytest

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
