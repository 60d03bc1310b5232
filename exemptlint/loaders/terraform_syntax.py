"""HCL parsing for the Terraform loader: python-hcl2's document, where each block and argument is
written (from the parse tree), and syntax errors that point at the construct that failed.

python-hcl2 (Lark, LALR) reports an error where parsing could not go on, which is often after the
real mistake: an unclosed string swallows the next lines, an unclosed bracket is noticed at the
next argument or at the end of the file. So an error is first looked for by a small scanner of
HCL's strings, heredocs, comments and brackets (reported at the string or bracket that is not
closed); otherwise Lark's parser stack says which construct was being read, and the error is
reported where that construct started when Lark stopped on a later line.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from exemptlint.loaders.nesting import MAX_NESTING, NESTING_MESSAGE, tree_too_deep
from exemptlint.model import Directive, DuplicateKey, Position
from exemptlint.suppressions import parse_directives

# A path of keys inside a block: ("name",), ("body", "properties", "expiresOn").
KeyPath = tuple[str, ...]


class HclSyntaxError(Exception):
    def __init__(
        self, line: int, column: int, message: str, stray: bool = False, nesting: bool = False
    ) -> None:
        super().__init__(message)
        self.line = line
        self.column = column
        self.message = message
        # A closing bracket with nothing open (the scanner's weakest finding).
        self.stray = stray
        # Valid HCL nested deeper than every loader reads (not a syntax error).
        self.nesting = nesting

    @property
    def described(self) -> str:
        """The message as a load error says it."""
        return self.message if self.nesting else f"invalid HCL: {self.message}"


@dataclass(frozen=True)
class Block:
    """A top-level block: its keyword's position, last line and where its keys are written."""

    keyword: str
    labels: tuple[str, ...]
    start: Position
    end_line: int
    keys: dict[KeyPath, Position] = field(default_factory=dict)


@dataclass(frozen=True)
class ParsedFile:
    doc: dict[str, Any]
    blocks: dict[tuple[str, ...], Block]
    directives: tuple[Directive, ...]
    # (keyword, label, ...) -> the top-level arguments the block sets more than once.
    repeated: dict[tuple[str, ...], tuple[DuplicateKey, ...]] = field(default_factory=dict)

    def block(self, keyword: str, *labels: str) -> Block | None:
        return self.blocks.get((keyword, *labels))


def parse_hcl(text: str) -> ParsedFile:
    """The parsed file; HclSyntaxError (line, column, message) when it is not valid HCL."""
    import hcl2

    text = text.removeprefix("\ufeff")
    try:
        tree = hcl2.parses_to_tree(text)
    except RecursionError:
        raise
    except Exception as error:  # lark and python-hcl2 raise several exception types
        raise syntax_error(error, text) from None
    _check_nesting(tree, text)
    try:
        doc: dict[str, Any] = hcl2.serialize(hcl2.transform(tree))
    except RecursionError:
        raise
    except Exception as error:
        raise syntax_error(error, text) from None
    return ParsedFile(doc, _blocks(tree), parse_directives(text), _repeated_arguments(tree))


# HCL's containers: the nesting limit of every loader counts these (lark's parser does not
# recurse; python-hcl2's transformer recurses per tree level).
_CONTAINERS = frozenset({"block", "object", "tuple"})


def _check_nesting(tree: Any, text: str) -> None:
    if text.count("{") + text.count("[") <= MAX_NESTING:
        return  # every container needs a bracket: most files need no walk
    node = tree_too_deep(tree, _CONTAINERS)
    if node is not None:
        meta = getattr(node, "meta", None)
        line, column = getattr(meta, "line", 1), getattr(meta, "column", 1)
        raise HclSyntaxError(line, column, NESTING_MESSAGE, nesting=True)


def _repeated_arguments(tree: Any) -> dict[tuple[str, ...], tuple[DuplicateKey, ...]]:
    """(keyword, label, ...) -> the top-level arguments of the block set more than once (Terraform
    rejects that; python-hcl2 keeps the last value), each with its first setting."""
    found: dict[tuple[str, ...], tuple[DuplicateKey, ...]] = {}
    for body in tree.children:
        for block in getattr(body, "children", []):
            if getattr(block, "data", None) != "block":
                continue
            head: list[str] = []
            inner = None
            for child in block.children:
                kind = getattr(child, "data", None)
                if kind in ("identifier", "string"):
                    head.append("".join(str(token) for token in child.scan_values(lambda v: True)).strip('"'))
                elif kind == "body":
                    inner = child
            seen: dict[str, Position] = {}
            repeats: list[DuplicateKey] = []
            for attribute in getattr(inner, "children", []):
                if getattr(attribute, "data", None) != "attribute" or not attribute.children:
                    continue
                name = "".join(str(token) for token in attribute.children[0].scan_values(lambda v: True))
                where = Position(attribute.meta.line, attribute.meta.column, len(name))
                first = seen.setdefault(name, where)
                if first != where:
                    repeats.append(DuplicateKey(name, first, name, where, "", "argument"))
            if repeats:
                found.setdefault(tuple(head), tuple(repeats))
    return found


def parse_value(text: str) -> dict[str, Any]:
    """A fragment (``__value = ...``) as python-hcl2's document, for ``jsonencode`` arguments."""
    import hcl2

    result: dict[str, Any] = hcl2.loads(text)
    return result


# Parsed files by the hash of their bytes: every file of a directory reads the others, and a
# module is read by each caller (a file rewritten in place is never served stale).
_CACHE: dict[bytes, ParsedFile | HclSyntaxError] = {}
_CACHE_LIMIT = 4096


def parse_cached(text: str) -> ParsedFile | HclSyntaxError:
    key = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
    cached = _CACHE.get(key)
    if cached is None:
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        try:
            cached = parse_hcl(text)
        except HclSyntaxError as error:
            error.__traceback__ = None  # kept for the run: not with the parser's frames
            cached = error
        _CACHE[key] = cached
    return cached


# --------------------------------------------------------------------------- positions


def _data(node: Any) -> str | None:
    data = getattr(node, "data", None)
    return None if data is None else str(data)


def _first_token(node: Any) -> Any:
    while hasattr(node, "children"):
        children = [c for c in node.children if c is not None]
        if not children:
            return None
        node = children[0]
    return node


def _position(node: Any, text: str | None = None) -> Position | None:
    token = _first_token(node)
    if token is None or getattr(token, "line", None) is None:
        return None
    shown = str(text if text is not None else token)
    return Position(token.line, token.column, max(len(shown), 1))


def _label(node: Any) -> str:
    """An identifier's (or keyword's: ``for_each``, ``in``) name, or a string label's text
    (labels hold no interpolation)."""
    if _data(node) in ("identifier", "keyword"):
        return str(_first_token(node))
    parts: list[str] = []
    for child in getattr(node, "children", []):
        if _data(child) == "string_part":
            parts.extend(str(t) for t in child.children if not hasattr(t, "children"))
    return "".join(parts)


def _blocks(tree: Any) -> dict[tuple[str, ...], Block]:
    found: dict[tuple[str, ...], Block] = {}
    for body in getattr(tree, "children", []):
        for child in getattr(body, "children", []):
            if _data(child) != "block":
                continue
            parts = [c for c in child.children if hasattr(c, "children")]
            if not parts:
                continue
            keyword = _label(parts[0])
            labels = tuple(_label(p) for p in parts[1:] if _data(p) in ("identifier", "string"))
            start = _position(parts[0], keyword)
            if start is None:
                continue
            keys: dict[KeyPath, Position] = {}
            inner = next((p for p in parts if _data(p) == "body"), None)
            if inner is not None:
                _body_keys(inner, (), keys)
            end = child.meta.end_line if not child.meta.empty else start.line
            found.setdefault((keyword, *labels), Block(keyword, labels, start, end, keys))
    return found


def _body_keys(body: Any, prefix: KeyPath, keys: dict[KeyPath, Position]) -> None:
    for child in body.children:
        if _data(child) != "attribute":
            continue
        parts = [c for c in child.children if hasattr(c, "children")]
        if len(parts) < 2:
            continue
        name = _label(parts[0])
        position = _position(parts[0], name)
        if position is not None:
            keys.setdefault((*prefix, name), position)
        _object_keys(parts[-1], (*prefix, name), keys, 0)


# Deeper objects are not looked into (a value's keys matter down to body.properties.metadata).
_MAX_KEY_DEPTH = 8


def _object_keys(expression: Any, prefix: KeyPath, keys: dict[KeyPath, Position], depth: int) -> None:
    """The keys of an object value (also inside ``jsonencode(...)``), recursively."""
    if depth > _MAX_KEY_DEPTH:
        return
    node = expression
    while _data(node) == "expr_term" and len([c for c in node.children if hasattr(c, "children")]) == 1:
        node = next(c for c in node.children if hasattr(c, "children"))
    kind = _data(node)
    if kind == "function_call":
        parts = [c for c in node.children if hasattr(c, "children")]
        if parts and _label(parts[0]) == "jsonencode":
            arguments = next((p for p in parts if _data(p) == "arguments"), None)
            first = next((a for a in getattr(arguments, "children", []) if hasattr(a, "children")), None)
            if first is not None:
                _object_keys(first, prefix, keys, depth + 1)
        return
    if kind != "object":
        return
    for element in node.children:
        if _data(element) != "object_elem":
            continue
        parts = [c for c in element.children if hasattr(c, "children")]
        if len(parts) < 2:
            continue
        key_node = parts[0]
        inner = key_node
        while _data(inner) in ("object_elem_key", "expr_term") and len(
            [c for c in inner.children if hasattr(c, "children")]
        ) == 1:
            inner = next(c for c in inner.children if hasattr(c, "children"))
        if _data(inner) not in ("identifier", "keyword", "string"):
            continue  # a computed key: (local.k) = ...
        name = _label(inner)
        position = _position(key_node, f'"{name}"' if _data(inner) == "string" else name)
        if position is not None:
            keys.setdefault((*prefix, name), position)
        _object_keys(parts[-1], (*prefix, name), keys, depth + 1)


# --------------------------------------------------------------------------- syntax errors


def syntax_error(error: Exception, text: str) -> HclSyntaxError:
    """A parse error as a position and a message, at the construct that failed."""
    long_number = re.search(r"[0-9]{4300,}", text) if isinstance(error, ValueError) else None
    if long_number is not None and "digits" in str(error):
        # Python converts at most 4,300 digits to an int; python-hcl2 raises while parsing.
        line, column = _line_column(text, long_number.start())
        return HclSyntaxError(line, column, "a number of more than 4,300 digits cannot be read")
    scanned = scan_structure(text)
    parsed = _from_parser(error, text)
    if scanned is None or (scanned.stray and (parsed.line, parsed.column) < (scanned.line, scanned.column)):
        # A stray '}' may only be the end of a block whose header lacks its '{' (the parser
        # stops earlier, at the header); anything else the scanner finds comes first.
        return parsed
    return scanned


def _line_column(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    line = before.count("\n") + 1
    return line, offset - (before.rfind("\n") + 1) + 1


_CLOSERS = {"{": "}", "[": "]", "(": ")"}
_OPENERS = {v: k for k, v in _CLOSERS.items()}
_WHAT = {"{": "'{'", "[": "the list '['", "(": "'('"}
_IDENTIFIER_BEFORE = re.compile(r"[A-Za-z_][\w-]*(?:::[A-Za-z_][\w-]*)*\s*\Z")
_HEREDOC = re.compile(r"<<-?([A-Za-z_][\w-]*)[ \t]*\r?\n")


@dataclass
class _Frame:
    kind: str  # "bracket", "string", "interpolation"
    char: str
    offset: int


def scan_structure(text: str) -> HclSyntaxError | None:
    """The first string, heredoc, comment or bracket that is not closed (or closed by the wrong
    bracket), reported where it was opened; None when they all are."""
    stack: list[_Frame] = []
    i, n = 0, len(text)
    while i < n:
        top = stack[-1] if stack else None
        ch = text[i]
        if top is not None and top.kind == "string":
            if ch == "\\":
                i += 2
                continue
            if ch == '"':
                stack.pop()
            elif ch == "\n":
                return _unclosed_string(text, stack)
            elif text.startswith(("$${", "%%{"), i):
                i += 3
                continue
            elif text.startswith(("${", "%{"), i):
                stack.append(_Frame("interpolation", text[i : i + 2], i))
                i += 2
                continue
            i += 1
            continue
        # Code: outside strings, or inside an interpolation.
        if ch == "#" or text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                line, column = _line_column(text, i)
                return HclSyntaxError(line, column, "comment '/*' is not closed: expected '*/'")
            i = end + 2
            continue
        if ch == '"':
            stack.append(_Frame("string", ch, i))
        elif text.startswith("<<", i) and (heredoc := _HEREDOC.match(text, i)) is not None:
            marker = heredoc.group(1)
            closing = re.compile(rf"^[ \t]*{re.escape(marker)}[ \t]*\r?$", re.MULTILINE)
            found = closing.search(text, heredoc.end())
            if found is None:
                line, column = _line_column(text, i)
                return HclSyntaxError(
                    line, column, f"heredoc '<<{marker}' is not closed: expected a line '{marker}'"
                )
            i = found.end()
            continue
        elif ch in _CLOSERS:
            stack.append(_Frame("bracket", ch, i))
        elif ch in _OPENERS:
            if top is not None and top.kind == "interpolation" and ch == "}":
                stack.pop()
            elif top is None:
                line, column = _line_column(text, i)
                return HclSyntaxError(
                    line, column, f"'{ch}' closes nothing: no '{_OPENERS[ch]}' is open", stray=True
                )
            elif top.kind == "bracket" and top.char == _OPENERS[ch]:
                stack.pop()
            else:
                return _unclosed(text, top, f"found '{ch}' at {_where(text, i)}")
        i += 1
    if not stack:
        return None
    top = stack[-1]
    if top.kind == "string":
        return _unclosed_string(text, stack)
    # Every frame left is open; the innermost is where a closer is first missing (a block after
    # an unclosed object closes itself, so the object's '{' is the one left on top).
    return _unclosed(text, top, "reached the end of the file")


def _where(text: str, offset: int) -> str:
    line, column = _line_column(text, offset)
    return f"line {line}, column {column}"


def _unclosed_string(text: str, stack: list[_Frame]) -> HclSyntaxError:
    string = stack[-1]
    outer = stack[-2] if len(stack) > 1 else None
    line, column = _line_column(text, string.offset)
    if outer is not None and outer.kind == "interpolation" and _line_column(text, outer.offset)[0] == line:
        # '"a${var.x"': the interpolation lacks its '}', the quote is the string's end.
        line, column = _line_column(text, outer.offset)
        return HclSyntaxError(line, column, f"interpolation '{outer.char}' is not closed: expected '}}'")
    return HclSyntaxError(line, column, "string is not closed on its line: expected '\"'")


def _unclosed(text: str, frame: _Frame, found: str) -> HclSyntaxError:
    if frame.kind == "interpolation":
        line, column = _line_column(text, frame.offset)
        message = f"interpolation '{frame.char}' is not closed: expected '}}' ({found})"
        return HclSyntaxError(line, column, message)
    closer = _CLOSERS[frame.char]
    line_start = text.rfind("\n", 0, frame.offset) + 1
    before = text[line_start : frame.offset]
    if frame.char == "{" and before.strip() and "=" not in before and ":" not in before:
        # A block: point at its keyword ("resource ...").
        header = " ".join(before.split())
        offset = line_start + len(before) - len(before.lstrip())
        line, column = _line_column(text, offset)
        return HclSyntaxError(line, column, f"block '{header}' is not closed: expected '{closer}' ({found})")
    name = _IDENTIFIER_BEFORE.search(before) if frame.char == "(" else None
    if name is not None:
        line, column = _line_column(text, line_start + name.start())
        call = name.group(0).strip()
        return HclSyntaxError(line, column, f"call '{call}(' is not closed: expected ')' ({found})")
    line, column = _line_column(text, frame.offset)
    return HclSyntaxError(line, column, f"{_WHAT[frame.char]} is not closed: expected '{closer}' ({found})")


# Terminals that start a value, and how the others are named in "expected ...".
_VALUE_STARTS = frozenset(
    {"DBLQUOTE", "INT_LITERAL", "FLOAT_LITERAL", "LSQB", "LPAR", "HEREDOC_TEMPLATE", "NAME", "MINUS", "NOT"}
)
_NAMED = (
    ("EQ", "'='"),
    ("RBRACE", "'}'"),
    ("RSQB", "']'"),
    ("RPAR", "')'"),
    ("COMMA", "','"),
    ("COLON", "':'"),
    ("LBRACE", "'{'"),
    ("NL_OR_COMMENT", "a new line"),
)
_OPENING_TOKENS = {"LBRACE": "'{'", "LSQB": "the list '['", "LPAR": "'('", "DBLQUOTE": "the string"}


def _expected(error: Exception) -> str:
    expected = set(getattr(error, "expected", None) or ())
    words = [word for name, word in _NAMED if name in expected]
    if len(expected & _VALUE_STARTS) >= 4:
        words = [word for word in words if word != "'{'"]  # an object is a value
        words.append("a value")
    if len(words) > 3:
        # After a complete value almost anything may follow: the end of the line is what is meant.
        words = ["a new line"] if "a new line" in words else []
    if not words:
        return ""
    shown = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
    return f"; expected {shown}"


def _found(token: Any, text: str) -> tuple[str, int, int]:
    """What Lark stopped at, and where it starts (its tokens may begin with white space)."""
    value = str(token)
    line, column = getattr(token, "line", None), getattr(token, "column", None)
    if not isinstance(line, int) or not isinstance(column, int) or line < 1:
        return "the end of the file", 0, 0
    stripped = value.lstrip()
    skipped = value[: len(value) - len(stripped)]
    if "\n" in skipped:
        line += skipped.count("\n")
        column = len(skipped) - skipped.rfind("\n")
    else:
        column += len(skipped)
    shown = stripped.split()[0][:40] if stripped else ""
    return (f"'{shown}'" if shown else "the end of the line"), line, column


def _construct(stack: list[Any]) -> tuple[str, Position] | None:
    """The innermost construct Lark was reading: where it started and what it is."""
    pending: Any = None
    for index in range(len(stack) - 1, -1, -1):
        item = stack[index]
        kind = _data(item)
        if kind == "_attribute_name" or kind == "identifier":
            pending = (index, item)
            continue
        token_type = getattr(item, "type", None)
        if token_type == "EQ" and index > 0:
            name = stack[index - 1]
            position = _position(name)
            if position is not None:
                return f"argument '{_first_token(name)}'", position
        if token_type in _OPENING_TOKENS:
            if pending is not None and token_type == "LBRACE":
                position = _position(pending[1])
                header = pending[0] + 1 < len(stack) and _data(stack[pending[0] + 1]) == "__block_star_1"
                if position is not None and header:
                    # 'name "x"' then a new line: an argument without '=' or a block without '{'.
                    return f"header:{_first_token(pending[1])}", position
                if position is not None:
                    return f"argument '{_first_token(pending[1])}'", position
            if token_type == "LPAR" and index > 0 and _data(stack[index - 1]) == "identifier":
                position = _position(stack[index - 1])
                if position is not None:
                    return f"call '{_first_token(stack[index - 1])}('", position
            if token_type == "LBRACE" and index > 0 and _data(stack[index - 1]) == "__block_star_1":
                header = stack[index - 2] if index > 1 else None
                position = _position(header) if header is not None else None
                if position is not None:
                    return f"block '{_first_token(header)}'", position
            return _OPENING_TOKENS[token_type], Position(item.line, item.column)
    if pending is not None:
        position = _position(pending[1])
        if position is not None:
            return f"'{_first_token(pending[1])}'", position
    return None


def _from_parser(error: Exception, text: str) -> HclSyntaxError:
    lines = text.count("\n") + 1
    token = getattr(error, "token", None)
    character = getattr(error, "char", None)
    expected = _expected(error)
    if token is None:
        line = getattr(error, "line", None)
        column = getattr(error, "column", None)
        line = min(line, lines) if isinstance(line, int) and line > 0 else 1
        column = column if isinstance(column, int) and column > 0 else 1
        if isinstance(character, str):
            return HclSyntaxError(line, column, f"unexpected character {character!r}")
        return HclSyntaxError(line, column, " ".join(str(error).split()) or type(error).__name__)
    at_end = getattr(token, "type", None) == "$END"
    found, line, column = ("the end of the file", 0, 0) if at_end else _found(token, text)
    state = getattr(error, "state", None)
    construct = _construct(list(getattr(state, "value_stack", None) or []))
    if construct is not None:
        what, start = construct
        if what.startswith("header:"):
            name = what.removeprefix("header:")
            where = "the end of the file" if at_end else f"{found} at line {line}, column {column}"
            return HclSyntaxError(
                start.line,
                start.column,
                f"'{name}' is neither an argument nor a block: expected '=' after '{name}' or '{{' "
                f"after its labels (found {where})",
            )
        if at_end or start.line < line:
            where = "" if at_end else f" at line {line}, column {column}"
            return HclSyntaxError(
                start.line, start.column, f"{what} is not complete: found {found}{where}{expected}"
            )
    if at_end:
        return HclSyntaxError(lines, 1, f"unexpected end of file{expected}")
    line = min(line, lines)
    return HclSyntaxError(line, column, f"unexpected {found}{expected}")
