"""JSON and JSONC text: fast parsing, and source positions found only when asked for.

Parsing uses the C ``json`` module. Positions are not tracked while parsing (that would
need a slow parser on every file); a ``JsonPositions`` index is built from the text on the
first request, which happens only for files that have something to report.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import json
import re
from collections.abc import Callable
from typing import Any

from exemptlint.loaders import nesting
from exemptlint.loaders.nesting import NESTING_MESSAGE
from exemptlint.model import DuplicateKey, Position

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


class Repeated(dict):  # type: ignore[type-arg]
    """An object whose text repeats a key (``json`` keeps the last value): ``parse_json_text``
    returns these instead of plain dicts, so that loaders can tell at no cost that an object has
    a duplicate key and look for it in the text only then."""

    __slots__ = ()


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Called by the C scanner for every object: as cheap as it can be.
    made = dict(pairs)
    return made if len(made) == len(pairs) else Repeated(made)


# The one decoder (making one per call costs more than the hook): json.loads with the hook.
_DECODE = json.JSONDecoder(object_pairs_hook=_object).decode


class JsonNestingError(JsonSyntaxError):
    """Objects and arrays nested more than ``MAX_NESTING`` deep (valid JSON, but not read)."""


def parse_json_text(text: str) -> Any:
    """Parse JSON, falling back to JSONC. Raises ``JsonSyntaxError`` with a line and column, and
    ``JsonNestingError`` for text nested too deep for the parser (about 1,000 levels), at the
    first container past ``MAX_NESTING``.

    A parsed document is not walked for its depth (that would cost as much as parsing): what is
    read of it, the exemptions' values, is checked in ``exemptlint.loaders.load_file``."""
    if text.startswith("\ufeff"):
        text = " " + text[1:]
    try:
        return _DECODE(text)
    except json.JSONDecodeError as strict_error:
        if _COMMENT_OR_COMMA.search(text) is None:
            raise JsonSyntaxError(strict_error.msg, strict_error.lineno, strict_error.colno) from None
    except RecursionError:
        raise _too_deep(text) from None
    except ValueError:
        raise _number_too_long(text) from None
    try:
        return _DECODE(strip_jsonc(text))
    except json.JSONDecodeError as error:
        raise JsonSyntaxError(error.msg, error.lineno, error.colno) from None
    except RecursionError:
        raise _too_deep(text) from None
    except ValueError:
        raise _number_too_long(text) from None


def _too_deep(text: str) -> JsonNestingError:
    offset = nesting.json_too_deep(text)
    line, column = nesting.line_column(text, offset) if offset is not None else (1, 1)
    return JsonNestingError(NESTING_MESSAGE, line, column)


_LONG_INTEGER = re.compile(r"\d{4301,}")


def _number_too_long(text: str) -> JsonSyntaxError:
    # Python reads at most 4,300 digits into an int (sys.set_int_max_str_digits); json.loads
    # raises a plain ValueError for a longer integer.
    found = _LONG_INTEGER.search(text)
    offset = found.start() if found is not None else 0
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return JsonSyntaxError("a number with more than 4300 digits", line, column)


# White space and comments between tokens (a BOM can only come first, but is harmless anywhere),
# and the same with the commas between members. One character per repetition, never ``[...]+``
# inside ``*``: a nested repetition backtracks exponentially when the next token does not match.
# A block comment ends at its first ``*/`` however the match goes on (``/\*.*?\*/`` could stretch
# over ``*/`` and the text after it when what follows did not match).
_BLOCK_COMMENT = r"/\*(?:[^*]|\*+[^*/])*\*+/"
_SPACE_TEXT = r"(?:[ \t\n\r\ufeff]|//[^\n]*|" + _BLOCK_COMMENT + ")*"
_SPACE = re.compile(_SPACE_TEXT, re.DOTALL)
_GAP = re.compile(r"(?:[ \t\n\r\ufeff,]|//[^\n]*|" + _BLOCK_COMMENT + ")*")
# One object member up to its value: the gap before it, the key (group 1, as written), the colon.
_KEY = re.compile(_GAP.pattern + r'"([^"\\]*(?:\\.[^"\\]*)*)"' + _SPACE_TEXT + ":" + _SPACE_TEXT, re.DOTALL)


class JsonPositions:
    """Offsets of keys, and of objects and arrays, by path, found on demand.

    Nothing is computed up front: a lookup walks from the root along its path, and each object or
    array on the way is scanned once, recording where its members' keys and values start. Values
    off the path are skipped with the C scanner of the ``json`` module, so the Python work is per
    member on the path, not per token of the file (a full tokenizer was the largest cost of a run
    that reports positions for every exemption).
    """

    def __init__(self, text: str) -> None:
        self._text = text
        # The same text with comments and trailing commas blanked, made only if a skipped value
        # holds one (JSONC): the C scanner reads strict JSON.
        self._strict: str | None = None
        self._keys: dict[Path, tuple[int, int]] = {}
        self._containers: dict[Path, int] = {}
        self._scanned: set[Path] = set()
        self._line_starts: list[int] | None = None

    def key(self, path: Path) -> Position | None:
        """Where the key that ends ``path`` is written."""
        if not path:
            return None
        self._scan(path[:-1])
        found = self._keys.get(path)
        return None if found is None else self._position(found[0], found[1])

    def value(self, path: Path) -> Position | None:
        """Where the object or array at ``path`` starts (None for other values)."""
        if path:
            self._scan(path[:-1])
        else:
            self._root_offset()
        offset = self._containers.get(path)
        return None if offset is None else self._position(offset)

    def repeated_keys(self, path: Path, obj: dict[str, Any], container: str = "") -> list[DuplicateKey]:
        """The keys of the object at ``path`` (``obj``, as parsed) that repeat an earlier key of
        it, exactly or in another case, each with the first. Only an object that ``json`` built
        from a repeated key, or whose keys collide in lower case, is looked for in the text."""
        if type(obj) is not Repeated and len(set(map(str.lower, obj))) == len(obj):
            return []
        if path:
            self._scan(path[:-1])
            start = self._containers.get(path)
        else:
            start = self._root_offset()
        text = self._text
        found: list[DuplicateKey] = []
        if start is None or text[start] != "{":
            return found
        seen: dict[str, tuple[str, int, int]] = {}
        at = start + 1
        with contextlib.suppress(ValueError, IndexError, StopIteration, RecursionError):
            while (match := _KEY.match(text, at)) is not None:
                spelled = match.group(1)
                key = spelled if "\\" not in spelled else _unescape(spelled)
                offset, length = match.start(1) - 1, len(spelled) + 2
                first = seen.setdefault(key.lower(), (key, offset, length))
                if first[1] != offset:
                    before, where = self._position(first[1], first[2]), self._position(offset, length)
                    found.append(DuplicateKey(first[0], before, key, where, container))
                at = self._skip(match.end())
        return found

    def _root_offset(self) -> int | None:
        offset = self._containers.get(())
        if offset is None and () not in self._scanned:
            offset = _SPACE.match(self._text).end()  # type: ignore[union-attr]
            if self._text[offset : offset + 1] in ("{", "["):
                self._containers[()] = offset
            else:
                self._scanned.add(())  # a scalar document has no members
        return offset

    def _scan(self, path: Path) -> None:
        """Record the members of the container at ``path`` (and of its parents on the way)."""
        if path in self._scanned:
            return
        if path:
            self._scan(path[:-1])
            start = self._containers.get(path)
        else:
            start = self._root_offset()
        self._scanned.add(path)
        if start is None:
            return
        # Not raised for text json.loads accepted; the members found before the problem stay.
        with contextlib.suppress(ValueError, IndexError, StopIteration, RecursionError):
            self._members(path, start)

    def _members(self, path: Path, start: int) -> None:
        text = self._text
        keys = self._keys
        containers = self._containers
        at = start + 1
        if text[start] == "{":
            key = _KEY.match
            while (found := key(text, at)) is not None:
                spelled = found.group(1)
                member: Path = (*path, spelled if "\\" not in spelled else _unescape(spelled))
                keys[member] = (found.start(1) - 1, len(spelled) + 2)
                at = found.end()
                if text[at] in "{[":
                    containers[member] = at
                at = self._skip(at)
            return
        gap = _GAP.match
        index = 0
        while text[at := gap(text, at).end()] != "]":  # type: ignore[union-attr]
            if text[at] in "{[":
                item: Path = (*path, index)
                containers[item] = at
            index += 1
            at = self._skip(at)

    def _skip(self, at: int) -> int:
        """The offset just after the value that starts at ``at``."""
        if self._strict is None:
            try:
                return _SCAN(self._text, at)[1]
            except StopIteration:
                pass
            except json.JSONDecodeError:
                pass
            self._strict = strip_jsonc(self._text)  # same length: offsets stay valid
        return _SCAN(self._strict, at)[1]

    def _position(self, offset: int, length: int = 1) -> Position:
        starts = self._line_starts
        if starts is None:
            # Built with C-level calls only (no Python step per line): cumulative line lengths.
            lengths = map(len, self._text.split("\n"))
            starts = self._line_starts = [0, *itertools.accumulate(map(_PLUS_ONE, lengths))]
        line_index = bisect.bisect_right(starts, offset) - 1
        return Position(line_index + 1, offset - starts[line_index] + 1, length)


_PLUS_ONE = (1).__add__


def _unescape(spelled: str) -> str:
    try:
        value = json.loads(f'"{spelled}"')
    except json.JSONDecodeError:
        return spelled
    return value if isinstance(value, str) else spelled


# The C scanner behind json.loads: (value, end offset) of the value at an offset. Neither is in
# the typeshed stubs, hence the annotations.
_SCAN: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
scanstring: Callable[[str, int], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]


def repeated_keys(positions: JsonPositions, *objects: tuple[Path, Any, str]) -> tuple[DuplicateKey, ...]:
    """The duplicate keys of an exemption's objects, each given as (path, parsed object, name of
    the object in messages: "" for the exemption's own, "properties"); not dicts are skipped.

    Called for every exemption: an object is looked for in the text only when it was parsed from
    a repeated key (``Repeated``) or its keys collide in lower case."""
    for _, obj, _ in objects:
        if type(obj) is Repeated or (type(obj) is dict and len(set(map(str.lower, obj))) != len(obj)):
            break
    else:
        return ()
    found: list[DuplicateKey] = []
    for path, obj, container in objects:
        if isinstance(obj, dict):
            found.extend(positions.repeated_keys(path, obj, container))
    return tuple(found)


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

    @property
    def properties_level(self) -> int:
        """How deep the properties object is in its document (the document is level 1)."""
        return len(self._properties_path) + 1

    def container(self, name: str, inside: Path) -> Position | None:
        """Where the object or array at ``inside`` within property ``name`` starts, if the text
        has one there (an evaluated value may not come from the text)."""
        spelled = self._key_names.get(name)
        if spelled is None or name in ("name", "scope", "id", "type", "properties"):
            return None
        return self._positions.value((*self._properties_path, spelled, *inside))

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
