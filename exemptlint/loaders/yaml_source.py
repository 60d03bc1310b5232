"""Exemptions written in YAML, in the shapes of the raw JSON forms (a ``{properties: ...}``
resource, the flattened ``az`` form, a list of either, a ``value:`` list).

The document is read with ruamel's round-trip loader (for positions), turned into plain Python
and handed to ``raw.load_raw`` with a positions index taken from ruamel's line/column data, so
that shape detection is exactly that of the JSON forms. Tags never construct objects: a tagged
node is read as its plain value, and timestamps stay the text that was written; a value that a
standard tag cannot read (``!!int abc``) is an error at that value. Inputs that would make ruamel
slow or a value huge are refused before parsing or while converting: flow collections nested more
than ``MAX_FLOW_DEPTH`` deep (ruamel's scanner is quadratic in the depth) and aliases that expand
to more than ``MAX_ALIAS_EXPANSION`` values ("billion laughs"); mappings and sequences nested more
than ``MAX_NESTING`` deep (the limit of every loader) are refused while converting. Keys written
twice in a mapping (ruamel keeps the first value) are recorded for EL008.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from exemptlint.loaders import mentions_any
from exemptlint.loaders.jsontext import JsonPositions, Path, Repeated
from exemptlint.loaders.nesting import MAX_NESTING, NESTING_MESSAGE
from exemptlint.model import DuplicateKey, LoadError, LoadResult, Position
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

    def __init__(self, root: Any, repeated: dict[int, list[tuple[str, Position]]] | None = None) -> None:
        # The JSON text index of the base class is not used.
        self._root = root
        # Keys that repeat an earlier key of their mapping, by id() of the mapping (see _yaml).
        self._repeated = repeated or {}

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

    def repeated_keys(self, path: Path, obj: dict[str, Any], container: str = "") -> list[DuplicateKey]:
        """Keys of the mapping at ``path`` written twice (ruamel keeps the first, and the
        constructor records the others) or differing only in case."""
        node = self._node(path)
        lc = getattr(node, "lc", None)
        if not isinstance(node, dict) or lc is None:
            return []
        written: list[tuple[str, Position]] = []
        for key in node:
            try:
                line, column = lc.key(key)
            except (KeyError, TypeError, AttributeError):
                continue  # a key merged in from an alias (<<: *base) is not written here
            written.append((str(key), Position(line + 1, column + 1, len(str(key)))))
        written.extend(self._repeated.get(id(node), ()))
        written.sort(key=lambda item: (item[1].line, item[1].column))
        found: list[DuplicateKey] = []
        seen: dict[str, tuple[str, Position]] = {}
        for key, where in written:
            first = seen.setdefault(key.lower(), (key, where))
            if first[1] != where:
                found.append(DuplicateKey(first[0], first[1], key, where, container))
        return found


# Deeper values are refused (the limit of every loader): the constructor and ``_plain`` recurse
# once or twice per level.
MAX_DEPTH = MAX_NESTING
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


def _yaml() -> tuple[Any, dict[int, list[tuple[str, Position]]]]:
    from ruamel.yaml import YAML
    from ruamel.yaml.constructor import RoundTripConstructor
    from ruamel.yaml.error import YAMLError

    # Keys that repeat an earlier key of their mapping, by id() of the mapping.
    repeated: dict[int, list[tuple[str, Position]]] = {}

    class _SafeConstructor(RoundTripConstructor):
        """Round-trip construction where timestamps stay text and unknown tags are ignored."""

        def check_mapping_key(self, node: Any, key_node: Any, mapping: Any, key: Any, value: Any) -> bool:
            unique: bool = super().check_mapping_key(node, key_node, mapping, key, value)
            if not unique:
                # ruamel keeps the first value; the repeated key is recorded for EL008.
                mark = key_node.start_mark
                where = Position(mark.line + 1, mark.column + 1, len(str(key)))
                repeated.setdefault(id(mapping), []).append((str(key), where))
            return unique

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
    return yaml, repeated


class _AliasBomb(Exception):
    def __init__(self, value: Any) -> None:
        super().__init__("aliases expand too far")
        self.value = value


class _TooDeep(Exception):
    def __init__(self, value: Any) -> None:
        super().__init__(NESTING_MESSAGE)
        self.value = value


class _Plain:
    """ruamel's round-trip objects as plain dicts, lists, strings and numbers.

    An alias is the anchored object itself, so every container seen a second time is an alias
    being expanded; what those expansions produce is counted and capped."""

    def __init__(self, repeated: dict[int, list[tuple[str, Position]]] | None = None) -> None:
        self._seen: set[int] = set()
        self._expanded = 0
        # Mappings with a repeated key (see _yaml): converted to ``Repeated``, which tells
        # ``repeated_keys`` to look at them.
        self._repeated = repeated or {}

    def convert(self, value: Any, depth: int = 0, expanding: bool = False) -> Any:
        if isinstance(value, (dict, list)):
            if depth >= MAX_DEPTH:  # the document itself is level 1
                raise _TooDeep(value)
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
            made = {str(k): self.convert(v, depth + 1, expanding) for k, v in value.items()}
            return Repeated(made) if id(value) in self._repeated else made
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


def _plain(value: Any, repeated: dict[int, list[tuple[str, Position]]] | None = None) -> Any:
    return _Plain(repeated).convert(value)


def _line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset (CRLF, LF and a lone CR end a line, as
    for ruamel's marks)."""
    before = text[:offset]
    line_start = max(before.rfind("\n"), before.rfind("\r")) + 1
    line = before.count("\n") + before.count("\r") - before.count("\r\n") + 1
    return line, offset - line_start + 1


def _flow_too_deep(text: str) -> int | None:
    """The offset where flow collections first nest deeper than ``MAX_FLOW_DEPTH``, by a scan that skips
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
                return i
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

    documents, repeated, error = parse_yaml(text, file)
    if error is not None:
        return LoadResult(errors=[error])
    result = LoadResult()
    for document, plain in documents:
        result.extend(raw.load_raw(plain, file, YamlPositions(document, repeated), fmt="yaml"))
    directives = parse_directives(text)
    if directives:
        for exemption in result.exemptions:
            exemption.source.directives = directives
    return result


def parse_yaml(
    text: str, file: str
) -> tuple[list[tuple[Any, Any]], dict[int, list[tuple[str, Position]]], LoadError | None]:
    """Each mapping or sequence document of ``text``, as (ruamel node, plain value), the keys that
    repeat an earlier key of their mapping (by id() of the mapping), or the first problem (a
    one-line error at its position). Used for YAML sources and YAML parameters files alike."""
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.reader import ReaderError

    # A byte order mark is not a column (the loaders get text without one; callers may not).
    text = text.removeprefix("\ufeff")
    too_deep = _flow_too_deep(text)
    if too_deep is not None:
        # The scan counts flow brackets only: the first level past the limit (block levels
        # count too) is at or before this bracket, and the parser's events say where. They are
        # read from the text up to it only: ruamel's scanner is slow on deep flow text.
        where = _events_too_deep(text[: too_deep + 1], default=_line_column(text, too_deep))
        return [], {}, LoadError(file, *where, NESTING_MESSAGE)
    yaml, repeated = _yaml()
    try:
        documents = list(yaml.load_all(text))
    except RecursionError:
        # ruamel's composer recurses per level (block nesting some hundreds deep): the first
        # mapping or sequence past the limit, found from the parser's events (no recursion).
        return [], {}, LoadError(file, *_events_too_deep(text), NESTING_MESSAGE)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        message = _one_line(error.problem or error.context or "syntax error")
        return [], {}, LoadError(file, line, column, f"invalid YAML: {message}")
    except ReaderError as error:
        # A character YAML does not allow (NUL, most control characters): its offset in the text.
        line, column = _line_column(text, error.position) if isinstance(error.position, int) else (1, 1)
        # str(error) is "unacceptable character #x0000: ...", then a line with the offset.
        message = _one_line(str(error).splitlines()[0] if str(error).strip() else "unreadable character")
        return [], {}, LoadError(file, line, column, f"invalid YAML: {message}")
    except YAMLError as error:
        return [], {}, LoadError(file, 1, 1, f"invalid YAML: {_one_line(str(error))}")
    parsed: list[tuple[Any, Any]] = []
    for document in documents:
        if not isinstance(document, (dict, list)):
            continue
        try:
            parsed.append((document, _plain(document, repeated)))
        except (_AliasBomb, _TooDeep) as problem:
            lc = getattr(problem.value, "lc", None)
            line = lc.line + 1 if lc is not None and isinstance(lc.line, int) else 1
            column = lc.col + 1 if lc is not None and isinstance(lc.col, int) else 1
            message = f"invalid YAML: aliases expand to more than {MAX_ALIAS_EXPANSION:,} values"
            if isinstance(problem, _TooDeep):
                message = NESTING_MESSAGE
            return [], {}, LoadError(file, line, column, message)
    return parsed, repeated, None


def _events_too_deep(text: str, default: tuple[int, int] = (1, 1)) -> tuple[int, int]:
    """Where the first mapping or sequence nested more than ``MAX_NESTING`` deep starts."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent

    depth = 0
    try:
        for event in YAML(typ="rt").parse(text):
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > MAX_NESTING:
                    return event.start_mark.line + 1, event.start_mark.column + 1
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
    except (YAMLError, RecursionError):
        pass
    return default


def _one_line(message: str) -> str:
    return " ".join(str(message).split())
