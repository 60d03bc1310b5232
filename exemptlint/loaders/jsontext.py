"""JSON and JSONC text: fast parsing, and source positions found only when asked for.

Parsing uses the C ``json`` module. Positions are not tracked while parsing (that would
need a slow parser on every file); a ``JsonPositions`` index is built from the text on the
first request, which happens only for files that have something to report.
"""

from __future__ import annotations

import bisect
import json
import re
from typing import Any

from exemptlint.model import Position

Path = tuple[str | int, ...]


class JsonSyntaxError(Exception):
    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


# Strings, comments and trailing commas; everything else is left to json.loads.
_JSONC_TOKEN = re.compile(
    r'"(?:[^"\\\n]|\\.)*"'  # a string (kept)
    r"|//[^\n]*"  # a line comment
    r"|/\*.*?\*/"  # a block comment
    r"|,(?=\s*[}\]])",  # a trailing comma (lookahead skips whitespace only: comments are blanked first)
    re.DOTALL,
)
_COMMENT_OR_COMMA = re.compile(r"//|/\*|,\s*[}\]]")


def _blank(match: re.Match[str]) -> str:
    text = match.group(0)
    if text.startswith('"'):
        return text
    # Keep newlines so that line and column numbers stay those of the original text.
    return re.sub(r"[^\n]", " ", text)


def strip_jsonc(text: str) -> str:
    """JSONC (comments, trailing commas) to JSON of the same length and line structure."""
    # Two passes: the first blanks comments, so that a comma followed by a comment and then a
    # closing bracket is seen as trailing by the second.
    once = _JSONC_TOKEN.sub(_blank, text)
    return _JSONC_TOKEN.sub(_blank, once)


def parse_json_text(text: str) -> Any:
    """Parse JSON, falling back to JSONC. Raises ``JsonSyntaxError`` with a line and column."""
    if text.startswith("\ufeff"):
        text = " " + text[1:]
    try:
        return json.loads(text)
    except json.JSONDecodeError as strict_error:
        if _COMMENT_OR_COMMA.search(text) is None:
            raise JsonSyntaxError(strict_error.msg, strict_error.lineno, strict_error.colno) from None
    except RecursionError:
        raise JsonSyntaxError("nesting too deep", 1, 1) from None
    try:
        return json.loads(strip_jsonc(text))
    except json.JSONDecodeError as error:
        raise JsonSyntaxError(error.msg, error.lineno, error.colno) from None
    except RecursionError:
        raise JsonSyntaxError("nesting too deep", 1, 1) from None


# One match per token, with the white space and comments before it: a string, a punctuation
# mark, or a scalar (number, true, false, null).
_TOKEN = re.compile(
    r"(?:\s|\ufeff|//[^\n]*|/\*.*?\*/)*"
    r'(?:("[^"\\]*(?:\\.[^"\\]*)*")|([{}\[\]:,])|([^\s{}\[\]:,"/]+))',
    re.DOTALL,
)


class JsonPositions:
    """Offsets of every key, and of every object and array, by path, built on first use."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._keys: dict[Path, int] | None = None
        self._key_lengths: dict[int, int] = {}
        self._values: dict[Path, int] = {}
        self._line_starts: list[int] = []

    def _build(self) -> dict[Path, int]:
        # This loop is the cost of positions, so it keeps the top of the stack in locals.
        keys: dict[Path, int] = {}
        key_lengths = self._key_lengths
        values = self._values
        stack: list[tuple[Path, bool, int]] = []
        path: Path = ()
        in_object = False
        index = 0
        key = ""
        expect_key = False
        started = False
        for match in _TOKEN.finditer(self._text):
            string, punct, _scalar = match.groups()
            if punct is not None:
                if punct == ",":
                    expect_key = in_object
                    continue
                if punct == ":":
                    continue
                if punct == "]" or punct == "}":
                    if stack:
                        path, in_object, index = stack.pop()
                    expect_key = False
                    continue
            elif string is not None and expect_key:
                key = _decode_string(string)
                offset = match.start(1)
                key_path = (*path, key)
                keys[key_path] = offset
                key_lengths[offset] = len(string)
                expect_key = False
                continue
            # A value starts here: its path inside the enclosing container.
            if not started:
                value_path: Path = ()
                started = True
            elif in_object:
                value_path = (*path, key)
            else:
                value_path = (*path, index)
                index += 1
            if punct is not None:  # "{" or "["
                values.setdefault(value_path, match.start(2))
                stack.append((path, in_object, index))
                path, in_object, index = value_path, punct == "{", 0
                expect_key = in_object
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", self._text)]
        return keys

    def _position(self, offset: int, length: int = 1) -> Position:
        line_index = bisect.bisect_right(self._line_starts, offset) - 1
        return Position(line_index + 1, offset - self._line_starts[line_index] + 1, length)

    def key(self, path: Path) -> Position | None:
        """Where the key that ends ``path`` is written."""
        if self._keys is None:
            self._keys = self._build()
        offset = self._keys.get(path)
        return None if offset is None else self._position(offset, self._key_lengths.get(offset, 1))

    def value(self, path: Path) -> Position | None:
        """Where the value at ``path`` starts."""
        if self._keys is None:
            self._keys = self._build()
        offset = self._values.get(path)
        return None if offset is None else self._position(offset)


def _decode_string(token: str) -> str:
    if "\\" not in token:
        return token[1:-1]
    try:
        value = json.loads(token)
    except json.JSONDecodeError:
        return token[1:-1]
    return value if isinstance(value, str) else token[1:-1]


class JsonLocator:
    """Locates an exemption written as a JSON object.

    ``object_path`` is the exemption's object (resource); ``properties_path`` the object that
    holds its properties (the same object for the flattened ``az`` form). ``key_names`` maps a
    canonical property name to the key as spelled in the file.
    """

    __slots__ = ("_key_names", "_object_path", "_positions", "_properties_path")

    def __init__(
        self,
        positions: JsonPositions,
        object_path: Path,
        properties_path: Path,
        key_names: dict[str, str],
    ) -> None:
        self._positions = positions
        self._object_path = object_path
        self._properties_path = properties_path
        self._key_names = key_names

    def exemption(self) -> Position:
        return self._positions.value(self._object_path) or Position(1, 1)

    def property(self, name: str) -> Position | None:
        if name == "properties":
            if self._properties_path == self._object_path:
                return None
            return self._positions.key(self._properties_path)
        spelled = self._key_names.get(name)
        if spelled is None:
            return None
        if name in ("name", "scope", "id", "type"):
            return self._positions.key((*self._object_path, spelled))
        found = self._positions.key((*self._properties_path, spelled))
        if found is None:
            # The properties came from one expression: point at the properties key.
            found = self._positions.key(self._properties_path)
        return found
