"""Bicep source to a small syntax tree, through the tree-sitter Bicep grammar.

tree-sitter (``tree-sitter`` + ``tree-sitter-bicep`` from PyPI) does the parsing; this module
only converts its concrete tree into the immutable nodes below, with 1-based line and column
positions counted in characters (tree-sitter counts bytes). The grammar is imported on first
use, so that runs without Bicep files never load it.

Two gaps of the published grammar (1.1.0) are bridged here rather than reported as syntax
errors, because current Bicep accepts them: ``extension`` statements and the ``...`` spread
operator in object and array literals. ``.bicepparam`` files (``param x = value``) are parsed
after turning each ``param`` keyword into ``var`` padded to the same length, so positions stay
those of the file.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from exemptlint.loaders.nesting import MAX_NESTING, NESTING_MESSAGE
from exemptlint.model import Position

if TYPE_CHECKING:
    from tree_sitter import Node, Parser


# --------------------------------------------------------------------------- nodes


class Span(NamedTuple):
    """Where a node is: 1-based line and column (characters) of its start, its length on that
    line, and its source text."""

    line: int
    column: int
    length: int
    text: str

    @property
    def position(self) -> Position:
        return Position(self.line, self.column, self.length)


class Literal(NamedTuple):
    span: Span
    value: str | int | bool | None


class Interpolated(NamedTuple):
    """``'a${x}b'``: literal text and expressions, in order."""

    span: Span
    parts: tuple[str | Expr, ...]


class Identifier(NamedTuple):
    span: Span
    name: str


class Property(NamedTuple):
    key: str | Expr  # an expression for interpolated keys ('${prefix}-x': ...)
    key_span: Span
    value: Expr


class Spread(NamedTuple):
    span: Span
    value: Expr


class ObjectLit(NamedTuple):
    span: Span
    properties: tuple[Property | Spread, ...]
    # Nested (child) resource declarations written inside the object.
    resources: tuple[ResourceDecl, ...] = ()

    def get(self, name: str) -> Property | None:
        """The property named ``name`` (case-insensitive, as ARM matches names)."""
        lowered = name.lower()
        for prop in self.properties:
            if isinstance(prop, Property) and isinstance(prop.key, str) and prop.key.lower() == lowered:
                return prop
        return None


class ArrayLit(NamedTuple):
    span: Span
    items: tuple[Expr | Spread, ...]


class ForExpr(NamedTuple):
    """``[for item in items: body]``, ``[for (item, i) in items: body]``, ``[for i in range(0, 3): ...]``."""

    span: Span
    item: str | None
    counter: str | None  # the index variable of [for (item, i) in ...]
    iterable: Expr
    body: Expr


class IfExpr(NamedTuple):
    """``if (condition) {...}``: the body of a conditional resource or module."""

    span: Span
    condition: Expr
    body: Expr


class Member(NamedTuple):
    span: Span
    target: Expr
    name: str
    safe: bool  # a.?b


class Index(NamedTuple):
    span: Span
    target: Expr
    key: Expr
    safe: bool  # a[?0]


class NestedRef(NamedTuple):
    """``parent::child``: a resource declared inside another one."""

    span: Span
    target: Expr
    name: str


class Call(NamedTuple):
    span: Span
    name: str
    namespace: str | None  # az.resourceGroup(), sys.concat()
    # A method call on a value (storage.listKeys()): never evaluated statically.
    target: Expr | None
    args: tuple[Expr, ...]


class Unary(NamedTuple):
    span: Span
    operator: str
    operand: Expr


class Binary(NamedTuple):
    span: Span
    operator: str
    left: Expr
    right: Expr


class Ternary(NamedTuple):
    span: Span
    condition: Expr
    then: Expr
    otherwise: Expr


class Lambda(NamedTuple):
    span: Span
    parameters: tuple[str, ...]
    body: Expr


class Unsupported(NamedTuple):
    """A construct that is valid Bicep but that static evaluation does not handle."""

    span: Span
    kind: str


Expr = (
    Literal
    | Interpolated
    | Identifier
    | ObjectLit
    | ArrayLit
    | ForExpr
    | IfExpr
    | Member
    | Index
    | NestedRef
    | Call
    | Unary
    | Binary
    | Ternary
    | Lambda
    | Unsupported
)


class ParamDecl(NamedTuple):
    name: str
    span: Span  # the 'param' keyword
    default: Expr | None
    nullable: bool = False  # `param x string?`: null when no value is given


class VarDecl(NamedTuple):
    name: str
    span: Span
    value: Expr


class OutputDecl(NamedTuple):
    name: str
    value: Expr


class FuncDecl(NamedTuple):
    name: str
    parameters: tuple[str, ...]
    body: Expr


class ResourceDecl(NamedTuple):
    symbol: str
    span: Span  # the 'resource' keyword
    type_text: str  # 'Microsoft.Authorization/policyExemptions@2022-07-01-preview'
    existing: bool
    body: Expr  # ObjectLit, IfExpr or ForExpr


class ModuleDecl(NamedTuple):
    symbol: str
    span: Span  # the 'module' keyword
    path: str
    path_span: Span
    body: Expr


class DiagnosticComment(NamedTuple):
    """``#disable-next-line code code`` (Bicep's own suppression comment)."""

    line: int
    column: int
    text: str


class Document(NamedTuple):
    target_scope: Expr | None
    using: tuple[str, Span] | None
    params: tuple[ParamDecl, ...]
    variables: tuple[VarDecl, ...]
    functions: tuple[FuncDecl, ...]
    resources: tuple[ResourceDecl, ...]
    modules: tuple[ModuleDecl, ...]
    outputs: tuple[OutputDecl, ...]
    imports: tuple[str, ...]
    diagnostics: tuple[DiagnosticComment, ...]


class BicepSyntaxError(Exception):
    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


# --------------------------------------------------------------------------- the parser


@functools.lru_cache(maxsize=1)
def _parser() -> Parser:
    # Imported here: only runs that lint Bicep pay for loading the grammar.
    import tree_sitter_bicep
    from tree_sitter import Language, Parser

    return Parser(Language(tree_sitter_bicep.language()))


def parse_tree(source: bytes) -> Any:
    """The raw tree-sitter tree (used by the benchmark)."""
    return _parser().parse(source)


_MAX_REWRITES = 64


class _Rewrites(NamedTuple):
    """Where the text was rewritten before parsing (byte offsets; lengths never change)."""

    param_keywords: frozenset[int] = frozenset()  # `param` -> `var  ` (.bicepparam)
    object_spreads: frozenset[int] = frozenset()  # `...` -> `_: ` in an object
    array_spreads: frozenset[int] = frozenset()  # `...` -> `   ` in an array (offset of the value)


@functools.lru_cache(maxsize=256)
def parse_document(text: str, params_file: bool = False) -> Document:
    """Parse Bicep (or, with ``params_file``, .bicepparam) text; raises ``BicepSyntaxError``.

    Cached by text: a module used by several files, or in a loop, is parsed once.
    """
    return parse_document_uncached(text, params_file)


def parse_document_uncached(text: str, params_file: bool = False) -> Document:
    """``parse_document`` without the cache, for text that is parsed once: cached documents
    stay alive, and the garbage collector scans every one of their nodes on each full
    collection (named tuples are never untracked), which costs more than parsing again in the
    rare case of an entry file that another file also uses as a module."""
    # A byte order mark is not a column (read_text removes it; direct callers may not).
    text = text.removeprefix("\ufeff")
    source = text.encode("utf-8")
    tree = _parser().parse(source)
    rewrites = _Rewrites()
    # Error recovery may hide a second spread behind the first: rewrite until none is left.
    for _ in range(_MAX_REWRITES):
        if not tree.root_node.has_error:
            break
        spreads = _spreads_rewritten(source, tree.root_node)
        if spreads is None:
            break
        source, objects, arrays = spreads
        rewrites = rewrites._replace(
            object_spreads=rewrites.object_spreads | objects, array_spreads=rewrites.array_spreads | arrays
        )
        tree = _parser().parse(source)
    if params_file:
        keywords = _params_as_variables(source, tree.root_node)
        if keywords is not None:
            source, starts = keywords
            rewrites = rewrites._replace(param_keywords=starts)
            tree = _parser().parse(source)
    return _Converter(source, text, rewrites).document(tree.root_node)


def _params_as_variables(source: bytes, root: Node) -> tuple[bytes, frozenset[int]] | None:
    """``param x = v`` (bicepparam) rewritten as ``var   x = v``, and where the keywords were."""
    starts: list[int] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "param" and not node.is_named:
            starts.append(node.start_byte)
        elif node.type in ("infrastructure", "parameter_declaration", "ERROR"):
            stack.extend(node.children)
    if not starts:
        return None
    data = bytearray(source)
    for start in starts:
        data[start : start + 5] = b"var  "
    return bytes(data), frozenset(starts)


def _spreads_rewritten(source: bytes, root: Node) -> tuple[bytes, frozenset[int], frozenset[int]] | None:
    """The spread operator (``...value``, Bicep 0.27), which grammar 1.1.0 does not know, as a
    property ``_: value`` in an object and as the plain item in an array; and where they are.
    A spread is three adjacent '.' tokens (which only a spread can be)."""
    objects: list[int] = []
    arrays: list[int] = []
    dots: list[Node] = []  # the '.' tokens just seen, adjacent to each other
    stack = [root]
    while stack:
        node = stack.pop()
        if node.child_count:
            stack.extend(reversed(node.children))
            continue
        if node.type != "." or node.is_named or (dots and dots[-1].end_byte != node.start_byte):
            dots = []
        if node.type == "." and not node.is_named:
            dots.append(node)
            if len(dots) == 3:
                kind = _enclosing_literal(dots[0])
                if kind == "object":
                    objects.append(dots[0].start_byte)
                elif kind == "array":
                    arrays.append(dots[0].start_byte)
                dots = []
    if not objects and not arrays:
        return None
    data = bytearray(source)
    for start in objects:
        data[start : start + 3] = b"_: "
    for start in arrays:
        data[start : start + 3] = b"   "
    return bytes(data), frozenset(objects), frozenset(start + 3 for start in arrays)


def _enclosing_literal(node: Node) -> str | None:
    """Whether ``node`` is inside an object or an array literal (recovered or not)."""
    current: Node | None = node.parent
    while current is not None:
        if current.type in ("object", "array"):
            return current.type
        if current.type == "ERROR" and current.children:
            opening = current.children[0].type
            if opening == "{":
                return "object"
            if opening == "[":
                return "array"
        current = current.parent
    return None


# --------------------------------------------------------------------------- conversion

_COMMENTS = frozenset({"comment", "diagnostic_comment"})
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", "'": "'", "$": "$"}
_ESCAPE = re.compile(r"\\(u\{[0-9A-Fa-f]{1,6}\}|.)", re.DOTALL)
_BICEP_NAMESPACES = frozenset({"az", "sys"})
_TOLERATED_STATEMENTS = frozenset({"extension", "provider"})
_DECLARATION_KEYWORDS = frozenset(
    {"resource", "module", "param", "var", "output", "targetScope", "type", "func", "metadata", "using"}
)


def _unescape(raw: str) -> str:
    def replace(match: re.Match[str]) -> str:
        code = match.group(1)
        if code.startswith("u{"):
            return chr(min(int(code[2:-1], 16), 0x10FFFF))
        return _ESCAPES.get(code, code)

    return _ESCAPE.sub(replace, raw) if "\\" in raw else raw


class _Converter:
    def __init__(self, source: bytes, text: str, rewrites: _Rewrites) -> None:
        # The text as written (the parsed source may have rewrites of the same length).
        self.source = text.encode("utf-8") if rewrites != _Rewrites() else source
        self.param_keywords = rewrites.param_keywords
        self.object_spreads = rewrites.object_spreads
        self.array_spreads = rewrites.array_spreads
        # In ASCII text (the usual case) byte offsets are character offsets: node texts are
        # slices of the text and columns need no per-line decoding. Otherwise bytes are decoded.
        self.text: str | None = text if text.isascii() else None
        self.lines = text.split("\n") if self.text is None else []
        self.diagnostics: list[DiagnosticComment] = []
        # Nodes to read as another expression (calls the grammar split in two); both maps are
        # almost always empty, which saves reading node ids.
        self.replacements: dict[int, Expr] = {}
        self.starts: dict[int, Node] = {}
        self.depth = 0  # objects and arrays being converted

    # -- positions

    def node_text(self, node: Node) -> str:
        return self.slice(node.start_byte, node.end_byte)

    def slice(self, start: int, end: int) -> str:
        """The text between two byte offsets."""
        if self.text is not None:
            return self.text[start:end]
        return self.source[start:end].decode("utf-8", "replace")

    def column(self, row: int, byte_column: int) -> int:
        if self.text is not None:
            return byte_column + 1
        line = self.lines[row] if row < len(self.lines) else ""
        if line.isascii():
            return byte_column + 1
        return len(line.encode("utf-8")[:byte_column].decode("utf-8", "replace")) + 1

    def span(self, node: Node) -> Span:
        start = self.starts.get(node.id, node) if self.starts else node
        row, byte_column = start.start_point
        if self.text is not None:
            text = self.text[start.start_byte : node.end_byte]
            newline = text.find("\n")
            return Span(row + 1, byte_column + 1, len(text) if newline < 0 else newline, text)
        text = self.source[start.start_byte : node.end_byte].decode("utf-8", "replace")
        first_line = text.split("\n", 1)[0]
        return Span(row + 1, self.column(row, byte_column), len(first_line), text)

    # -- errors

    def check(self, root: Node) -> None:
        if not root.has_error:
            return
        found = _first_error(root)
        if found is None:
            return
        row, byte_column = found.start_point
        column = self.column(row, byte_column)
        if found.is_missing:
            what = found.type if found.is_named else repr(found.type)
            message = f"invalid Bicep: missing {what}"
        else:
            token = _first_leaf(found)
            shown = self.node_text(token).split("\n", 1)[0][:40] if token is not None else ""
            message = f"invalid Bicep: unexpected {shown!r}" if shown else "invalid Bicep: syntax error"
        raise BicepSyntaxError(message, row + 1, column)

    # -- statements

    def document(self, root: Node) -> Document:
        self.check(root)
        target_scope: Expr | None = None
        using: tuple[str, Span] | None = None
        params: list[ParamDecl] = []
        variables: list[VarDecl] = []
        functions: list[FuncDecl] = []
        resources: list[ResourceDecl] = []
        modules: list[ModuleDecl] = []
        outputs: list[OutputDecl] = []
        imports: list[str] = []
        self.collect_diagnostics(root)
        for node in root.named_children:
            kind = node.type
            if kind == "target_scope_assignment":
                target_scope = self.value_after(node, "=")
            elif kind == "using_statement":
                path = next((c for c in node.named_children if c.type == "string"), None)
                if path is not None:
                    value = self.expr(path)
                    if isinstance(value, Literal) and isinstance(value.value, str):
                        using = (value.value, value.span)
            elif kind == "parameter_declaration":
                name = self.declared_name(node)
                if name is not None:
                    nullable = any(
                        c.type == "type" and any(t.type == "nullable_type" for t in c.named_children)
                        for c in node.named_children
                    )
                    params.append(
                        ParamDecl(name, self.span(node.children[0]), self.value_after(node, "="), nullable)
                    )
            elif kind == "variable_declaration":
                name = self.declared_name(node)
                var_value = self.value_after(node, "=")
                if name is None or var_value is None:
                    continue
                keyword = node.children[0]
                if keyword.start_byte in self.param_keywords:
                    params.append(ParamDecl(name, self.span(keyword), var_value))
                else:
                    variables.append(VarDecl(name, self.span(keyword), var_value))
            elif kind == "output_declaration":
                name = self.declared_name(node)
                output_value = self.value_after(node, "=")
                if name is not None and output_value is not None:
                    outputs.append(OutputDecl(name, output_value))
            elif kind == "user_defined_function":
                function = self.function(node)
                if function is not None:
                    functions.append(function)
            elif kind == "resource_declaration":
                resource = self.resource(node)
                if resource is not None:
                    resources.append(resource)
            elif kind == "module_declaration":
                module = self.module(node)
                if module is not None:
                    modules.append(module)
            elif kind in ("import_functionality", "import_statement", "import_with_statement"):
                imports.extend(self.imported_names(node))
        return Document(
            target_scope,
            using,
            tuple(params),
            tuple(variables),
            tuple(functions),
            tuple(resources),
            tuple(modules),
            tuple(outputs),
            tuple(imports),
            tuple(self.diagnostics),
        )

    def collect_diagnostics(self, root: Node) -> None:
        if b"#" not in self.source:
            return  # a diagnostic comment starts with '#': no need to walk the whole tree
        stack = [root]
        while stack:
            node = stack.pop()
            if node.type == "diagnostic_comment":
                row, byte_column = node.start_point
                self.diagnostics.append(
                    DiagnosticComment(row + 1, self.column(row, byte_column), self.node_text(node))
                )
            elif node.named_child_count:
                stack.extend(node.named_children)
        self.diagnostics.sort(key=lambda d: (d.line, d.column))

    def declared_name(self, node: Node) -> str | None:
        for child in node.children[1:]:
            if child.type in ("identifier", "compatible_identifier"):
                return self.node_text(child)
        return None

    def value_after(self, node: Node, token: str) -> Expr | None:
        children = node.children
        for index, child in enumerate(children):
            if child.type == token and not child.is_named:
                return self.first_value(children, index + 1)
        return None

    def first_value(self, children: list[Node], start: int) -> Expr | None:
        """The first expression among ``children[start:]`` (comments skipped)."""
        for index in range(start, len(children)):
            child = children[index]
            if child.is_named and child.type not in _COMMENTS:
                return self.expr(child)
        return None

    def function(self, node: Node) -> FuncDecl | None:
        name_node = node.child_by_field_name("name")
        parameters = next((c for c in node.named_children if c.type == "parameters"), None)
        body = self.value_after(node, "=>")
        if name_node is None or body is None:
            return None
        names: list[str] = []
        if parameters is not None:
            for parameter in parameters.named_children:
                ident = next((c for c in parameter.named_children if c.type == "identifier"), None)
                if ident is not None:
                    names.append(self.node_text(ident))
        return FuncDecl(self.node_text(name_node), tuple(names), body)

    def imported_names(self, node: Node) -> Iterator[str]:
        stack = list(node.named_children)
        while stack:
            child = stack.pop()
            if child.type in ("identifier", "compatible_identifier"):
                yield self.node_text(child)
            else:
                stack.extend(child.named_children)

    def resource(self, node: Node) -> ResourceDecl | None:
        symbol = self.declared_name(node)
        type_node = next((c for c in node.named_children if c.type == "string"), None)
        body = self.value_after(node, "=")
        if symbol is None or type_node is None or body is None:
            return None
        type_value = self.expr(type_node)
        type_text = type_value.value if isinstance(type_value, Literal) else None
        if not isinstance(type_text, str):
            return None
        existing = any(not c.is_named and c.type == "existing" for c in node.children)
        return ResourceDecl(symbol, self.span(node.children[0]), type_text, existing, body)

    def module(self, node: Node) -> ModuleDecl | None:
        symbol = self.declared_name(node)
        path_node = next((c for c in node.named_children if c.type == "string"), None)
        body = self.value_after(node, "=")
        if symbol is None or path_node is None or body is None:
            return None
        path = self.expr(path_node)
        if not isinstance(path, Literal) or not isinstance(path.value, str):
            return None
        return ModuleDecl(symbol, self.span(node.children[0]), path.value, path.span, body)

    # -- expressions

    def expr(self, node: Node) -> Expr:
        if self.replacements:
            replaced = self.replacements.get(node.id)
            if replaced is not None:
                return replaced
        kind = node.type
        handler = _HANDLERS.get(kind)
        if handler is None:
            return Unsupported(self.span(node), kind)
        if kind == "object" or kind == "array":
            return self.container(node, handler)
        result: Expr = handler(self, node)
        return result

    def container(self, node: Node, handler: Any) -> Expr:
        # The nesting limit of every loader: conversion and evaluation recurse per level.
        self.depth += 1
        try:
            if self.depth > MAX_NESTING:
                position = self.span(node).position
                raise BicepSyntaxError(NESTING_MESSAGE, position.line, position.column)
            result: Expr = handler(self, node)
            return result
        finally:
            self.depth -= 1

    def string(self, node: Node) -> Expr:
        span = self.span(node)
        text = span.text
        if "\\" not in text and "${" not in text and not text.startswith("'''"):
            # Neither escapes nor interpolations (most strings): the text between the quotes.
            return Literal(span, text[1:-1])
        children = node.children
        if children and children[0].type == "'''":
            # Multi-line strings are verbatim: no escapes, no interpolation.
            body = span.text[3:-3]
            if body.startswith("\r\n"):
                body = body[2:]
            elif body.startswith("\n"):
                body = body[1:]
            return Literal(span, body)
        # Literal text and interpolated expressions in order, adjacent texts joined.
        parts: list[str | Expr] = []
        pending: list[str] = []  # literal text since the last interpolation
        cursor = node.start_byte + 1  # after the opening quote
        end = node.end_byte - 1
        for child in children[1:-1] if len(children) >= 2 else ():
            start = child.start_byte
            if start > cursor:
                # Escapes the grammar does not name (\$) are in the gaps between its nodes.
                pending.append(_unescape(self.slice(cursor, start)))
            if child.type == "interpolation":
                if pending:
                    parts.append("".join(pending))
                    pending = []
                inner = None
                for candidate in child.named_children:
                    if candidate.type not in _COMMENTS:
                        inner = candidate
                        break
                parts.append(
                    self.expr(inner) if inner is not None else Unsupported(self.span(child), "empty")
                )
            else:
                pending.append(_unescape(self.slice(start, child.end_byte)))
            cursor = child.end_byte
        if end > cursor:
            pending.append(_unescape(self.slice(cursor, end)))
        if not parts:
            return Literal(span, "".join(pending))
        if pending:
            parts.append("".join(pending))
        return Interpolated(span, tuple(parts))

    def number(self, node: Node) -> Expr:
        text = self.node_text(node)
        try:
            return Literal(self.span(node), int(text))
        except ValueError:
            return Unsupported(self.span(node), "number")

    def boolean(self, node: Node) -> Expr:
        return Literal(self.span(node), self.node_text(node) == "true")

    def null(self, node: Node) -> Expr:
        return Literal(self.span(node), None)

    def identifier(self, node: Node) -> Expr:
        # An identifier is never in ``starts`` (it has no children): its span text is its name.
        span = self.span(node)
        return Identifier(span, span.text)

    def object(self, node: Node) -> Expr:
        properties: list[Property | Spread] = []
        resources: list[ResourceDecl] = []
        for child in node.named_children:
            if child.type == "object_property":
                children = child.children
                first = children[0] if children else None
                if first is not None and first.type == "resource_declaration":
                    resource = self.resource(first)
                    if resource is not None:
                        resources.append(resource)
                    continue
                prop = self.object_property(children)
                if prop is None:
                    continue
                if first is not None and self.object_spreads and first.start_byte in self.object_spreads:
                    # `...value`, rewritten as `_: value` before parsing.
                    properties.append(Spread(self.span(child), prop.value))
                else:
                    properties.append(prop)
        return ObjectLit(self.span(node), tuple(properties), tuple(resources))

    def object_property(self, children: list[Node]) -> Property | None:
        colon = None
        for index, child in enumerate(children):
            if child.type == ":" and not child.is_named:
                colon = index
                break
        if not colon:  # no colon, or no key before it
            return None
        key_node = children[0]
        value = self.first_value(children, colon + 1)
        if value is None:
            return None
        key: str | Expr
        if key_node.type == "string":
            converted = self.expr(key_node)
            key = (
                converted.value
                if isinstance(converted, Literal) and isinstance(converted.value, str)
                else converted
            )
            key_span = converted.span  # the string's own span (strings are never replaced)
        else:
            key_span = self.span(key_node)
            key = key_span.text
        return Property(key, key_span, value)

    def split_call(self, head: Node, rest: Node) -> bool:
        """Whether ``head`` (a name) and ``rest`` (starting right after it with a parenthesized
        expression) are one call split in two; if so, the call replaces that parenthesized node
        when ``rest`` is converted."""
        if head.type not in ("identifier", "compatible_identifier") or rest.start_byte != head.end_byte:
            return False
        node = rest
        chain: list[Node] = []
        while node.type != "parenthesized_expression":
            if not node.children or node.children[0].start_byte != rest.start_byte:
                return False
            chain.append(node)
            node = node.children[0]
        for outer in chain:
            # The expressions around the call start where the call does.
            self.starts[outer.id] = head
        args = tuple(
            self.expr(c) for c in node.named_children if c.type not in ("comment", "diagnostic_comment")
        )
        text = self.source[head.start_byte : node.end_byte].decode("utf-8", "replace")
        row, byte_column = head.start_point
        span = Span(row + 1, self.column(row, byte_column), len(text.split("\n", 1)[0]), text)
        self.replacements[node.id] = Call(span, self.node_text(head), None, None, args)
        return True

    def array(self, node: Node) -> Expr:
        items: list[Expr | Spread] = []
        children = [c for c in node.named_children if c.type not in ("comment", "diagnostic_comment")]
        skip: set[int] = set()
        for position, child in enumerate(children):
            if position in skip:
                continue
            # `...value`, rewritten as `   value` before parsing.
            spread = child.start_byte in self.array_spreads
            if position + 1 < len(children) and self.split_call(child, children[position + 1]):
                # Grammar 1.1.0 reads `[ f(x) ...]` as the two items `f` and `(x)`: rejoined.
                child = children[position + 1]
                skip.add(position + 1)
            value = self.expr(child)
            items.append(Spread(value.span, value) if spread else value)
        return ArrayLit(self.span(node), tuple(items))

    def for_statement(self, node: Node) -> Expr:
        item: str | None = None
        index: str | None = None
        iterable: Expr | None = None
        after_in = False
        for child in node.children:
            if not child.is_named:
                if child.type == "in":
                    after_in = True
                continue
            if child.type in ("comment", "diagnostic_comment"):
                continue
            if child.type == "for_loop_parameters":
                for part in child.named_children:
                    if part.type == "loop_variable":
                        item = self.node_text(part)
                    elif part.type == "loop_enumerator":
                        index = self.node_text(part)
            elif not after_in and child.type == "identifier":
                item = self.node_text(child)
            elif after_in and iterable is None:
                iterable = self.expr(child)
        body_node = node.child_by_field_name("body")
        span = self.span(node)
        if iterable is None or body_node is None:
            return Unsupported(span, "for")
        return ForExpr(span, item, index, iterable, self.expr(body_node))

    def if_statement(self, node: Node) -> Expr:
        named = [c for c in node.named_children if c.type not in ("comment", "diagnostic_comment")]
        span = self.span(node)
        if len(named) < 2:
            return Unsupported(span, "if")
        return IfExpr(span, self.expr(named[0]), self.expr(named[-1]))

    def parenthesized(self, node: Node) -> Expr:
        named = [c for c in node.named_children if c.type not in ("comment", "diagnostic_comment")]
        if len(named) != 1:
            return Unsupported(self.span(node), "parenthesized")
        return self.expr(named[0])

    def member(self, node: Node) -> Expr:
        target = node.child_by_field_name("object")
        prop = node.child_by_field_name("property")
        span = self.span(node)
        if target is None or prop is None:
            return Unsupported(span, "member")
        safe = any(not c.is_named and c.type == ".?" for c in node.children)
        return Member(span, self.expr(target), self.node_text(prop), safe)

    def subscript(self, node: Node) -> Expr:
        target = node.child_by_field_name("object")
        index = node.child_by_field_name("index")
        span = self.span(node)
        if target is None or index is None:
            return Unsupported(span, "index")
        safe = any(not c.is_named and c.type == "?" for c in node.children)
        return Index(span, self.expr(target), self.expr(index), safe)

    def nested_ref(self, node: Node) -> Expr:
        target = node.child_by_field_name("object")
        child = node.child_by_field_name("resource")
        span = self.span(node)
        if target is None or child is None:
            return Unsupported(span, "resource_expression")
        return NestedRef(span, self.expr(target), self.node_text(child))

    def call(self, node: Node) -> Expr:
        function = node.child_by_field_name("function")
        arguments = node.child_by_field_name("arguments")
        span = self.span(node)
        if function is None:
            return Unsupported(span, "call")
        args = tuple(
            self.expr(c)
            for c in (arguments.named_children if arguments is not None else [])
            if c.type not in ("comment", "diagnostic_comment")
        )
        if function.type in ("identifier", "compatible_identifier"):
            return Call(span, self.node_text(function), None, None, args)
        if function.type == "member_expression":
            target = function.child_by_field_name("object")
            prop = function.child_by_field_name("property")
            if target is not None and prop is not None:
                name = self.node_text(prop)
                target_text = self.node_text(target)
                if target.type == "identifier" and target_text in _BICEP_NAMESPACES:
                    return Call(span, name, target_text, None, args)
                return Call(span, name, None, self.expr(target), args)
        return Unsupported(span, "call")

    def unary(self, node: Node) -> Expr:
        operator = node.child_by_field_name("operator")
        operand = node.child_by_field_name("argument")
        span = self.span(node)
        if operator is None or operand is None:
            return Unsupported(span, "unary")
        return Unary(span, self.node_text(operator), self.expr(operand))

    def binary(self, node: Node) -> Expr:
        left = node.child_by_field_name("left")
        operator = node.child_by_field_name("operator")
        right = node.child_by_field_name("right")
        span = self.span(node)
        if left is None or operator is None or right is None:
            return Unsupported(span, "binary")
        return Binary(span, self.node_text(operator), self.expr(left), self.expr(right))

    def ternary(self, node: Node) -> Expr:
        condition = node.child_by_field_name("condition")
        then = node.child_by_field_name("consequence")
        otherwise = node.child_by_field_name("alternative")
        span = self.span(node)
        if condition is None or then is None or otherwise is None:
            return Unsupported(span, "ternary")
        return Ternary(span, self.expr(condition), self.expr(then), self.expr(otherwise))

    def lambda_(self, node: Node) -> Expr:
        named = [c for c in node.named_children if c.type not in ("comment", "diagnostic_comment")]
        span = self.span(node)
        if len(named) < 2:
            return Unsupported(span, "lambda")
        head = named[0]
        if head.type in ("identifier", "compatible_identifier"):
            parameters: tuple[str, ...] = (self.node_text(head),)
        else:
            parameters = tuple(
                self.node_text(c)
                for c in head.named_children
                if c.type in ("identifier", "compatible_identifier")
            )
        return Lambda(span, parameters, self.expr(named[-1]))


_HANDLERS: dict[str, Callable[[_Converter, Node], Expr]] = {
    "string": _Converter.string,
    "number": _Converter.number,
    "boolean": _Converter.boolean,
    "null": _Converter.null,
    "identifier": _Converter.identifier,
    "compatible_identifier": _Converter.identifier,
    "object": _Converter.object,
    "array": _Converter.array,
    "for_statement": _Converter.for_statement,
    "if_statement": _Converter.if_statement,
    "parenthesized_expression": _Converter.parenthesized,
    "member_expression": _Converter.member,
    "subscript_expression": _Converter.subscript,
    "call_expression": _Converter.call,
    "resource_expression": _Converter.nested_ref,
    "unary_expression": _Converter.unary,
    "binary_expression": _Converter.binary,
    "ternary_expression": _Converter.ternary,
    "lambda_expression": _Converter.lambda_,
}


def _first_leaf(node: Node) -> Node | None:
    while node.child_count:
        node = node.children[0]
    return node


def _tolerated(node: Node) -> bool:
    """Errors inside a top-level `extension ...` or `provider ...` statement, which current
    Bicep accepts and grammar 1.1.0 does not know, unless the statement swallowed a declaration
    (then the error is reported: an exemption must never be skipped silently)."""
    top = node
    while top.parent is not None and top.parent.type != "infrastructure":
        top = top.parent
    if top.parent is None:
        return False
    leaves: list[str] = []
    stack = [top]
    while stack:
        current = stack.pop()
        if current.child_count:
            stack.extend(reversed(current.children))
        elif current.text is not None:
            leaves.append(current.text.decode("utf-8", "replace"))
    if not leaves or leaves[0] not in _TOLERATED_STATEMENTS:
        return False
    return not any(leaf in _DECLARATION_KEYWORDS for leaf in leaves[1:])


def _first_error(root: Node) -> Node | None:
    """The first ERROR or MISSING node in document order that is not a tolerated gap."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_missing:
            return node
        if node.is_error and not _tolerated(node):
            return node
        if node.has_error:
            stack.extend(reversed(node.children))
    return None
