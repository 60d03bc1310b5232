"""Exemptions written in YAML, in the shapes of the raw JSON forms (a ``{properties: ...}``
resource, the flattened ``az`` form, a list of either, a ``value:`` list).

The document is read with ruamel's round-trip loader (for positions), turned into plain Python
and handed to ``raw.load_raw`` with a positions index taken from ruamel's line/column data, so
that shape detection is exactly that of the JSON forms. Tags never construct objects: a tagged
node is read as its plain value, and timestamps stay the text that was written; a value that a
standard tag cannot read (``!!int abc``) is an error at that value. Inputs that would make ruamel
slow or a value huge are refused before parsing or while converting: flow collections nested more
than ``MAX_FLOW_DEPTH`` deep (ruamel's scanner is quadratic in the depth) and aliases that expand
to more than ``MAX_ALIAS_EXPANSION`` values ("billion laughs").
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from exemptlint.loaders import mentions_any
from exemptlint.loaders.jsontext import JsonPositions, Path
from exemptlint.model import LoadError, LoadResult, Position
from exemptlint.suppressions import parse_directives

# A YAML file that mentions none of these holds no exemption or assignment (CI configs,
# Kubernetes manifests...): it is skipped before parsing.
_KEYWORDS = (
    "exemptionCategory",
    "policyExemption",
    "policyAssignments",
    "policyAssignmentId",
    "policyDefinitionId",
)


class YamlPositions(JsonPositions):
    """The ``JsonPositions`` interface over a ruamel round-trip document."""

    def __init__(self, root: Any) -> None:
        # The JSON text index of the base class is not used.
        self._root = root

    def _node(self, path: Path) -> Any:
        node = self._root
        for step in path:
            try:
                node = node[step]
            except (KeyError, IndexError, TypeError):
                return None
        return node

    def key(self, path: Path) -> Position | None:
        if not path:
            return None
        parent = self._node(path[:-1])
        lc = getattr(parent, "lc", None)
        if lc is None:
            return None
        step = path[-1]
        try:
            if isinstance(step, int):
                line, column = lc.item(step)
                return Position(line + 1, column + 1)
            line, column = lc.key(step)
        except (KeyError, IndexError, TypeError, AttributeError):
            return None
        return Position(line + 1, column + 1, len(str(step)))

    def value(self, path: Path) -> Position | None:
        node = self._node(path)
        lc = getattr(node, "lc", None)
        if lc is not None and getattr(lc, "line", None) is not None:
            return Position(lc.line + 1, lc.col + 1)
        if not path:
            return Position(1, 1)
        parent = self._node(path[:-1])
        plc = getattr(parent, "lc", None)
        if plc is None:
            return None
        try:
            if isinstance(path[-1], int):
                line, column = plc.item(path[-1])
            else:
                line, column = plc.value(path[-1])
        except (KeyError, IndexError, TypeError, AttributeError):
            return None
        return Position(line + 1, column + 1)

    def key_or_value(self, path: Path) -> Position | None:
        return self.key(path) or self.value(path)


# Deeper values are refused: the constructor and ``_plain`` recurse once per level.
MAX_DEPTH = 200
# ruamel's scanner spends time proportional to the flow depth on every token: 2,000 nested "["
# take seconds. Values this deep cannot be read anyway (MAX_DEPTH), so they are refused early.
MAX_FLOW_DEPTH = MAX_DEPTH
# Values produced by expanding aliases beyond the first use of each anchor.
MAX_ALIAS_EXPANSION = 100_000


# Python refuses to convert longer digit strings to int (sys.get_int_max_str_digits()).
_MAX_DIGITS = 4300


def _short_tag(tag: Any) -> str:
    text = str(getattr(tag, "value", None) or tag)
    return "!!" + text[len("tag:yaml.org,2002:") :] if text.startswith("tag:yaml.org,2002:") else text


def _construction_error(node: Any, error: Exception) -> Exception:
    """A failure of ruamel's constructor for a standard tag (``!!int abc`` raises ValueError,
    ``!!bool maybe`` KeyError, ``!!omap 5`` AttributeError, a 5,000-digit integer ValueError) as a
    YAML error at the value."""
    from ruamel.yaml.constructor import ConstructorError

    message = f"the value cannot be read as {_short_tag(node.tag)}"
    if isinstance(error, ValueError) and "digits" in str(error):
        message += f" (more than {_MAX_DIGITS:,} digits)"
    return ConstructorError(problem=message, problem_mark=node.start_mark)


def _guarded(generator: Iterator[Any], node: Any) -> Iterator[Any]:
    from ruamel.yaml.error import YAMLError

    try:
        yield from generator
    except (YAMLError, RecursionError):
        raise
    except Exception as error:  # see _construction_error
        raise _construction_error(node, error) from None


def _yaml() -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.constructor import RoundTripConstructor
    from ruamel.yaml.error import YAMLError

    class _SafeConstructor(RoundTripConstructor):
        """Round-trip construction where timestamps stay text and unknown tags are ignored."""

        def construct_non_recursive_object(self, node: Any, tag: Any = None) -> Any:
            waiting = len(self.state_generators)
            try:
                data = super().construct_non_recursive_object(node, tag)
            except (YAMLError, RecursionError):
                raise
            except Exception as error:  # see _construction_error
                raise _construction_error(node, error) from None
            # Mappings and sequences are filled in later, by generators: guard those too.
            for index in range(waiting, len(self.state_generators)):
                self.state_generators[index] = _guarded(self.state_generators[index], node)
            return data

    def _text(constructor: Any, node: Any) -> str:
        return str(node.value)

    def _untagged(constructor: Any, node: Any) -> Any:
        from ruamel.yaml.nodes import MappingNode, SequenceNode

        if isinstance(node, MappingNode):
            return constructor.construct_yaml_map(node)
        if isinstance(node, SequenceNode):
            return constructor.construct_yaml_seq(node)
        return str(node.value)

    _SafeConstructor.add_constructor("tag:yaml.org,2002:timestamp", _text)
    _SafeConstructor.add_constructor(None, _untagged)
    yaml = YAML(typ="rt")
    yaml.Constructor = _SafeConstructor
    yaml.allow_duplicate_keys = True
    return yaml


class _AliasBomb(Exception):
    def __init__(self, value: Any) -> None:
        super().__init__("aliases expand too far")
        self.value = value


class _Plain:
    """ruamel's round-trip objects as plain dicts, lists, strings and numbers.

    An alias is the anchored object itself, so every container seen a second time is an alias
    being expanded; what those expansions produce is counted and capped."""

    def __init__(self) -> None:
        self._seen: set[int] = set()
        self._expanded = 0

    def convert(self, value: Any, depth: int = 0, expanding: bool = False) -> Any:
        if depth > MAX_DEPTH:
            raise RecursionError
        if isinstance(value, (dict, list)):
            if id(value) in self._seen:
                expanding = True
            else:
                self._seen.add(id(value))
            if expanding:
                # The container and its items; the error points at this container.
                self._expanded += 1 + len(value)
                if self._expanded > MAX_ALIAS_EXPANSION:
                    raise _AliasBomb(value)
        if isinstance(value, dict):
            return {str(k): self.convert(v, depth + 1, expanding) for k, v in value.items()}
        if isinstance(value, list):
            return [self.convert(v, depth + 1, expanding) for v in value]
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, str):
            return str(value)
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float):
            return float(value)
        # A generator (a construction that yields) or anything else: its text.
        return str(value)


def _plain(value: Any) -> Any:
    return _Plain().convert(value)


def _line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset (CRLF, LF and a lone CR end a line, as
    for ruamel's marks)."""
    before = text[:offset]
    line_start = max(before.rfind("\n"), before.rfind("\r")) + 1
    line = before.count("\n") + before.count("\r") - before.count("\r\n") + 1
    return line, offset - line_start + 1


def _flow_too_deep(text: str) -> tuple[int, int] | None:
    """Where flow collections first nest deeper than ``MAX_FLOW_DEPTH``, by a scan that skips
    comments, quoted scalars and block scalars and counts a bracket only where a value starts (so
    it may miss nesting, but never counts a bracket inside a plain scalar)."""
    if text.count("[") + text.count("{") <= MAX_FLOW_DEPTH:
        return None
    depth = 0
    i = 0
    n = len(text)
    previous = "\n"  # the last significant character: line start, an indicator or text
    block_indent: int | None = None  # inside a block scalar: the indentation of its parent line
    line_indent = 0
    while i < n:
        ch = text[i]
        if ch in "\r\n":
            i += 1
            previous = "\n"
            # The next line's indentation decides whether a block scalar goes on.
            j = i
            while j < n and text[j] == " ":
                j += 1
            line_indent = j - i
            if block_indent is not None:
                if j < n and text[j] not in "\r\n" and line_indent <= block_indent:
                    block_indent = None
                else:
                    i = j
                    while i < n and text[i] not in "\r\n":
                        i += 1
            continue
        if ch in " \t":
            i += 1
            continue
        at_token_start = previous in "\n[{,:-?"
        if ch == "#" and (i == 0 or text[i - 1] in " \t\r\n"):
            while i < n and text[i] not in "\r\n":
                i += 1
            continue
        if ch in "'\"" and at_token_start:
            i += 1
            while i < n:
                if ch == '"' and text[i] == "\\":
                    i += 2
                    continue
                if text[i] == ch:
                    if ch == "'" and i + 1 < n and text[i + 1] == "'":
                        i += 2
                        continue
                    break
                i += 1
            i += 1
            previous = "x"
            continue
        if ch in "|>" and at_token_start and depth == 0:
            rest = text[i + 1 : i + 8].split("\n", 1)[0].split("#", 1)[0].strip()
            if all(c in "+-0123456789" for c in rest):
                block_indent = line_indent
            previous = "x"
            i += 1
            continue
        if ch in "[{" and (at_token_start or depth > 0):
            depth += 1
            if depth > MAX_FLOW_DEPTH:
                return _line_column(text, i)
            previous = "["
        elif ch in "]}" and depth > 0:
            depth -= 1
            previous = "x"
        elif ch == "," and depth > 0:
            previous = ","
        elif ch in ":-?" and (i + 1 >= n or text[i + 1] in " \t\r\n" or depth > 0):
            previous = ch if at_token_start or ch == ":" else "x"
        else:
            previous = "x"
        i += 1
    return None


def load_yaml_text(text: str, file: str) -> LoadResult:
    if not mentions_any(text, _KEYWORDS):
        return LoadResult()
    from exemptlint.loaders import raw

    documents, error = parse_yaml(text, file)
    if error is not None:
        return LoadResult(errors=[error])
    result = LoadResult()
    for document, plain in documents:
        result.extend(raw.load_raw(plain, file, YamlPositions(document), fmt="yaml"))
    directives = parse_directives(text)
    if directives:
        for exemption in result.exemptions:
            exemption.source.directives = directives
    return result


def parse_yaml(text: str, file: str) -> tuple[list[tuple[Any, Any]], LoadError | None]:
    """Each mapping or sequence document of ``text``, as (ruamel node, plain value), or the
    first problem (a one-line error at its position)."""
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.reader import ReaderError

    too_deep = _flow_too_deep(text)
    if too_deep is not None:
        message = f"invalid YAML: collections nested more than {MAX_FLOW_DEPTH} deep"
        return [], LoadError(file, *too_deep, message)
    yaml = _yaml()
    try:
        documents = list(yaml.load_all(text))
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        message = _one_line(error.problem or error.context or "syntax error")
        return [], LoadError(file, line, column, f"invalid YAML: {message}")
    except ReaderError as error:
        # A character YAML does not allow (NUL, most control characters): its offset in the text.
        line, column = _line_column(text, error.position) if isinstance(error.position, int) else (1, 1)
        # str(error) is "unacceptable character #x0000: ...", then a line with the offset.
        message = _one_line(str(error).splitlines()[0] if str(error).strip() else "unreadable character")
        return [], LoadError(file, line, column, f"invalid YAML: {message}")
    except YAMLError as error:
        return [], LoadError(file, 1, 1, f"invalid YAML: {_one_line(str(error))}")
    parsed: list[tuple[Any, Any]] = []
    for document in documents:
        if not isinstance(document, (dict, list)):
            continue
        try:
            parsed.append((document, _plain(document)))
        except _AliasBomb as bomb:
            lc = getattr(bomb.value, "lc", None)
            line = lc.line + 1 if lc is not None and isinstance(lc.line, int) else 1
            column = lc.col + 1 if lc is not None and isinstance(lc.col, int) else 1
            message = f"invalid YAML: aliases expand to more than {MAX_ALIAS_EXPANSION:,} values"
            return [], LoadError(file, line, column, message)
    return parsed, None


def _one_line(message: str) -> str:
    return " ".join(str(message).split())
