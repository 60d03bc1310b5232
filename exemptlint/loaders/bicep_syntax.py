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

import bisect
import functools
import re
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from exemptlint.loaders.bicep_lex import Token, grammar_gaps, lex, postfix_bangs, unclosed_bracket
from exemptlint.loaders.nesting import MAX_NESTING, NESTING_MESSAGE
from exemptlint.model import Position

if TYPE_CHECKING:
    from tree_sitter import Node, Parser


# --------------------------------------------------------------------------- nodes

Point = tuple[int, int]  # 0-based row and byte column, as tree-sitter's


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
    # A .bicepparam file's `extends 'base.bicepparam'`: its parameters come first.
    extends: tuple[str, Span] | None = None


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


@functools.lru_cache(maxsize=1)
def _range_parser() -> Parser:
    """A second parser, whose included ranges change with every use."""
    import tree_sitter_bicep
    from tree_sitter import Language, Parser

    return Parser(Language(tree_sitter_bicep.language()))


_REPARSE_PREFIX = b"var _="


def _reparse(
    source: bytes,
    start: int,
    end: int,
    prefix: tuple[int, int],
    point: tuple[int, int],
    end_point: tuple[int, int],
) -> Any:
    """``source[start:end]`` parsed as ``var _=`` and that expression, nodes at their offsets
    and points in ``source``: the prefix takes the place of the six bytes before ``start``, and
    no byte outside the two ranges is read or copied."""
    from tree_sitter import Point, Range

    base = start - len(_REPARSE_PREFIX)

    def read(offset: int, _: Any) -> bytes:
        if offset < start:
            return _REPARSE_PREFIX[offset - base :]
        return source[offset:end]

    parser = _range_parser()
    parser.included_ranges = [
        Range(Point(*prefix), Point(prefix[0], prefix[1] + len(_REPARSE_PREFIX)), base, start),
        Range(Point(*point), Point(*end_point), start, end),
    ]
    return parser.parse(read)


def parse_tree(source: bytes) -> Any:
    """The raw tree-sitter tree (used by the benchmark)."""
    return _parser().parse(source)


_MAX_REWRITES = 64


class _Rewrites(NamedTuple):
    """Where the text was rewritten before parsing (byte offsets; lengths never change)."""

    param_keywords: frozenset[int] = frozenset()  # `param` -> `var  ` (.bicepparam)
    object_spreads: frozenset[int] = frozenset()  # `...` -> `_: ` in an object
    array_spreads: frozenset[int] = frozenset()  # `...` -> `   ` in an array (offset of the value)
    # Anything else blanked (postfix '!', the grammar gaps of bicep_lex.grammar_gaps).
    blanked: bool = False
    # $''' strings by the offset of their quotes (the '$' are blanked), with their interpolations.
    templates: tuple[tuple[int, int, tuple[tuple[int, int], ...]], ...] = ()
    extends: tuple[int, int] | None = None  # the path string of `extends` (.bicepparam)


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
    rewrites = _Rewrites()
    if b"!" in source and _MAYBE_POSTFIX_BANG.search(source) is not None:
        # Postfix non-null assertions (`value!`) do not change the value; the grammar rejects
        # most of them and misreads some (`[`, `a!`, `b`, `]` on four lines as `a` and `!b`).
        bangs = postfix_bangs(source, lex(source).tokens)
        if bangs:
            source = _edited(source, [(b, b + 1, b" ") for b in bangs])
            rewrites = rewrites._replace(blanked=True)
    tree = _parser().parse(source)
    if tree.root_node.has_error:
        gaps = grammar_gaps(source, lex(source))
        if gaps.edits:
            source = _edited(source, gaps.edits)
            rewrites = rewrites._replace(
                blanked=True,
                templates=tuple((t.start + t.dollars, t.dollars, t.holes) for t in gaps.templates),
                extends=(gaps.extends.start, gaps.extends.end) if gaps.extends is not None else None,
            )
            tree = _parser().parse(source)
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


# A '!' right after what may end an operand, not part of '!=' or '!~': only then is the source
# lexed to find the postfix ones (most files have none, many have `!=` or a prefix `!`).
_MAYBE_POSTFIX_BANG = re.compile(rb"[\w)\]}'][ \t]*!(?![=~])")


def _edited(source: bytes, edits: Iterable[tuple[int, int, bytes]]) -> bytes:
    """``source`` with same-length replacements."""
    data = bytearray(source)
    for start, end, replacement in edits:
        data[start:end] = replacement
    return bytes(data)


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


_UNCLOSED_STRING = "this string is not closed on its line: expected a closing '"


def _first_line_break_dropped(body: str) -> str:
    """A multi-line string's text: a line break right after the opening quotes is not part of it."""
    if body.startswith("\r\n"):
        return body[2:]
    if body.startswith("\n"):
        return body[1:]
    return body


def _unescape(raw: str) -> str:
    def replace(match: re.Match[str]) -> str:
        code = match.group(1)
        if code.startswith("u{"):
            return chr(min(int(code[2:-1], 16), 0x10FFFF))
        return _ESCAPES.get(code, code)

    return _ESCAPE.sub(replace, raw) if "\\" in raw else raw


class _Converter:
    def __init__(self, source: bytes, text: str, rewrites: _Rewrites) -> None:
        # What tree-sitter parsed, and the text as written (rewrites keep every length).
        self.parsed = source
        self.source = text.encode("utf-8") if rewrites != _Rewrites() else source
        self.param_keywords = rewrites.param_keywords
        self.object_spreads = rewrites.object_spreads
        self.array_spreads = rewrites.array_spreads
        self.templates = {start: (dollars, holes) for start, dollars, holes in rewrites.templates}
        self.extends = rewrites.extends
        # In ASCII text (the usual case) byte offsets are character offsets: node texts are
        # slices of the text and columns need no per-line decoding. Otherwise bytes are decoded.
        self.text: str | None = text if text.isascii() else None
        self.lines = text.split("\n") if self.text is None else []
        self.diagnostics: list[DiagnosticComment] = []
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

    def point(self, offset: int) -> tuple[int, int]:
        """The 0-based row and byte column of a byte offset."""
        row = self.parsed.count(b"\n", 0, offset)
        return row, offset - (self.parsed.rfind(b"\n", 0, offset) + 1)

    def span(self, node: Node) -> Span:
        return self.span_of(node.start_byte, node.end_byte, node.start_point)

    def span_of(self, start: int, end: int, point: tuple[int, int]) -> Span:
        row, byte_column = point
        if self.text is not None:
            text = self.text[start:end]
            newline = text.find("\n")
            return Span(row + 1, byte_column + 1, len(text) if newline < 0 else newline, text)
        text = self.source[start:end].decode("utf-8", "replace")
        first_line = text.split("\n", 1)[0]
        return Span(row + 1, self.column(row, byte_column), len(first_line), text)

    # -- errors

    def fail(self, offset: int, message: str) -> BicepSyntaxError:
        row, byte_column = self.point(offset)
        return BicepSyntaxError(f"invalid Bicep: {message}", row + 1, self.column(row, byte_column))

    def check(self, root: Node) -> None:
        if not root.has_error:
            return
        found = _first_error(root)
        if found is None:
            return
        # The grammar reads a string up to the next quote whatever lines it crosses, and meets
        # a bracket that is never closed only at the end of the file: the lexer finds where such
        # a construct starts. The earliest problem is reported.
        lexed = lex(self.parsed)
        lexical: tuple[int, str] | None = None
        if lexed.error is not None:
            lexical = lexed.error.offset, lexed.error.message
        else:
            bracket = unclosed_bracket(lexed.tokens)
            if bracket is not None:
                lexical = bracket[0].start, bracket[1]
        # A string or bracket opened before the grammar's error ends caused it (error recovery
        # often wraps the whole declaration around it); an error wholly before is its own.
        if lexical is not None and lexical[0] < max(found.end_byte, found.start_byte + 1):
            raise self.fail(*lexical)
        raise self.fail(*self.tree_problem(found, lexed.tokens))

    def tree_problem(self, found: Node, tokens: tuple[Token, ...]) -> tuple[int, str]:
        """Where the first ERROR or MISSING node of the tree is, and what was expected there."""
        if found.is_missing:
            what = _EXPECTED.get(found.type, found.type if found.is_named else repr(found.type))
            return found.start_byte, f"expected {what}"
        leaf = _first_leaf(found)
        if leaf is None:
            return found.start_byte, "syntax error"
        index = bisect.bisect_left([t.start for t in tokens], leaf.start_byte)
        previous = tokens[index - 1] if index > 0 else None
        if (
            previous is not None
            and previous.kind in _NEEDS_OPERAND
            and b"\n" in self.parsed[previous.end : leaf.start_byte]
        ):
            # `name: ` with the value missing: the grammar stumbles on the next line's first token.
            return previous.start, f"expected a value after '{previous.kind}'"
        header = _declaration_problem(self.parsed, tokens, index)
        if header is not None:
            return header
        parent = leaf.parent
        shown_node = parent if parent is not None and parent.type == "string" else leaf  # a quote
        shown = self.node_text(shown_node).split("\n", 1)[0][:40]
        return leaf.start_byte, f"unexpected {shown!r}" if shown else "syntax error"

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
            self.extended(),
        )

    def extended(self) -> tuple[str, Span] | None:
        if self.extends is None:
            return None
        start, end = self.extends
        span = self.span_of(start, end, self.point(start))
        return span.text[1:-1], span

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
            if "\n" in text:
                raise self.fail(node.start_byte, _UNCLOSED_STRING)
            return Literal(span, text[1:-1])
        children = node.children
        if children and children[0].type == "'''":
            if self.templates and node.start_byte in self.templates:
                return self.template(node, span)
            # Multi-line strings are verbatim: no escapes, no interpolation.
            return Literal(span, _first_line_break_dropped(span.text[3:-3]))
        # Literal text and interpolated expressions in order, adjacent texts joined.
        parts: list[str | Expr] = []
        pending: list[str] = []  # literal text since the last interpolation
        cursor = node.start_byte + 1  # after the opening quote
        end = node.end_byte - 1
        for child in children[1:-1] if len(children) >= 2 else ():
            start = child.start_byte
            if start > cursor:
                # Escapes the grammar does not name (\$) are in the gaps between its nodes.
                pending.append(self.string_text(node, cursor, start))
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
                pending.append(self.string_text(node, start, child.end_byte))
            cursor = child.end_byte
        if end > cursor:
            pending.append(self.string_text(node, cursor, end))
        if not parts:
            return Literal(span, "".join(pending))
        if pending:
            parts.append("".join(pending))
        return Interpolated(span, tuple(parts))

    def string_text(self, node: Node, start: int, end: int) -> str:
        """Literal text of a single-quoted string, escapes replaced; a line break ends the string
        in Bicep, so one inside it means the string was not closed on its line."""
        raw = self.slice(start, end)
        if "\n" in raw:
            raise self.fail(node.start_byte, _UNCLOSED_STRING)
        return _unescape(raw)

    def template(self, node: Node, span: Span) -> Expr:
        """A multi-line string with interpolations (``$'''...${x}...'''``, its '$' blanked before
        parsing): verbatim text and the expressions, each parsed on its own."""
        dollars, holes = self.templates[node.start_byte]
        parts: list[str | Expr] = []
        cursor = node.start_byte + 3
        for start, end in holes:
            text = self.slice(cursor, start - dollars - 1)
            parts.append(_first_line_break_dropped(text) if not parts else text)
            value = self.reparse(start, end, self.point(start), self.point(end))
            if value is None:
                value = Unsupported(self.span_of(start, end, self.point(start)), "interpolation")
            parts.append(value)
            cursor = end + 1
        parts.append(self.slice(cursor, node.end_byte - 3))
        kept = tuple(part for part in parts if part != "")
        if not holes:
            return Literal(span, _first_line_break_dropped(span.text[3:-3]))
        return Interpolated(span, kept)

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

    def array(self, node: Node) -> Expr:
        items: list[Expr | Spread] = []
        for start, end, point, end_point, single in self.array_items(node):
            value = self.expr(single) if single is not None else self.reparse(start, end, point, end_point)
            if value is None:
                value = Unsupported(self.span_of(start, end, point), "array item")
            # `...value`, rewritten as `   value` before parsing.
            items.append(Spread(value.span, value) if start in self.array_spreads else value)
        return ArrayLit(self.span(node), tuple(items))

    def array_items(self, node: Node) -> Iterator[tuple[int, int, Point, Point, Node | None]]:
        """The items of an array as Bicep reads them, separated by commas or line breaks (see
        ``_item``).

        Grammar 1.1.0 ignores line breaks: it reads ``refs[0]`` as the two items ``refs`` and
        ``[0]``, ``f(x)`` as ``f`` and ``(x)``, but a name and a parenthesized item on the next
        line as one call. Nodes on one line with no comma between are one item, and a call broken
        across lines before its arguments is two."""
        current: list[Node] = []
        separated = False
        for child in node.children:
            kind = child.type
            if not child.is_named:
                separated = separated or kind == ","
                continue
            if kind in _COMMENTS or kind == "decorators":
                continue
            if current and (separated or b"\n" in self.parsed[current[-1].end_byte : child.start_byte]):
                yield _item(current)
                current = []
            separated = False
            if kind == "call_expression":
                function = child.child_by_field_name("function")
                arguments = child.child_by_field_name("arguments")
                if (
                    function is not None
                    and arguments is not None
                    and b"\n" in self.parsed[function.end_byte : arguments.start_byte]
                ):
                    yield _item([function])
                    yield _item([arguments], again=True)  # `(x)`: a parenthesized item
                    continue
            current.append(child)
        if current:
            yield _item(current)

    def reparse(self, start: int, end: int, point: Point, end_point: Point) -> Expr | None:
        """The expression between two byte offsets, parsed on its own with the positions it has
        in the file (tree-sitter reads only that range, after a ``var _=`` of its own); None
        when it is not one expression."""
        row, column = point
        if column >= 6:
            prefix = (row, column - 6)
        elif row > 0:
            prefix = (row - 1, 0)
        else:
            return None
        if start < 6:
            return None
        tree = _reparse(self.parsed, start, end, prefix, point, end_point)
        root = tree.root_node
        declarations = [c for c in root.named_children if c.type not in _COMMENTS]
        if root.has_error or len(declarations) != 1 or declarations[0].type != "variable_declaration":
            return None
        return self.value_after(declarations[0], "=")

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


def _item(nodes: list[Node], again: bool = False) -> tuple[int, int, Point, Point, Node | None]:
    """An array item's byte range, start and end points, and its node (None: to be read again
    on its own, when it is several nodes or not an expression node)."""
    first, last = nodes[0], nodes[-1]
    single = first if len(nodes) == 1 and not again else None
    return first.start_byte, last.end_byte, first.start_point, last.end_point, single


# What a MISSING node of these types stands for, in messages.
_EXPECTED = {"identifier": "a name", "string": "a string", "number": "a number", "type": "a type"}
# Tokens after which a value must follow: an ERROR on the next line means the value is missing.
_NEEDS_OPERAND = frozenset(
    {"=", ":", ",", "(", "?", "=>", "&&", "||", "==", "!=", "=~", "!~", "<", "<=", ">", ">=", "+", "-", "*"}
    | {"/", "%", "??", "!"}
)
# The parts of a resource or module declaration's header after its keyword.
_HEADERS = {
    "resource": (
        ("id", "a symbolic name", "the symbolic name"),
        ("str", "the resource type ('Namespace/type@version')", "the resource type"),
    ),
    "module": (("id", "a symbolic name", "the symbolic name"), ("str", "the module path", "the module path")),
}
_BODY_STARTS = frozenset({"{", "["})


def _declaration_problem(source: bytes, tokens: tuple[Token, ...], index: int) -> tuple[int, str] | None:
    """For a resource or module declaration the grammar could not read at all: the first token
    of its header that is not what the declaration needs there."""
    if index >= len(tokens) or tokens[index].kind != "id":
        return None
    if index > 0 and b"\n" not in source[tokens[index - 1].end : tokens[index].start]:
        return None  # not at the start of a statement (`param x resource '...'`, a property name)
    keyword = _text(source, tokens[index])
    parts = _HEADERS.get(keyword)
    if parts is None:
        return None
    position = index + 1
    previous, after = tokens[index], f"'{keyword}'"
    for kind, what, name in parts:
        token = tokens[position] if position < len(tokens) else None
        if token is None or token.kind != kind:
            return _after(previous, token, f"expected {what} after {after}")
        previous, after = token, name
        position += 1
    token = tokens[position] if position < len(tokens) else None
    if keyword == "resource" and token is not None and _text(source, token) == "existing":
        previous, after = token, "'existing'"
        position += 1
        token = tokens[position] if position < len(tokens) else None
    if token is None or token.kind != "=":
        return _after(previous, token, f"expected '=' after {after}")
    position += 1
    body = tokens[position] if position < len(tokens) else None
    if body is None or not (body.kind in _BODY_STARTS or _text(source, body) == "if"):
        return _after(token, body, "expected '{', 'if (...) {' or '[for ...]' after '='")
    return None


def _after(previous: Token, token: Token | None, message: str) -> tuple[int, str]:
    """A problem at ``token``, or just after ``previous`` at the end of the file."""
    return (token.start if token is not None else previous.end), message


def _text(source: bytes, token: Token) -> str:
    return source[token.start : token.end].decode("utf-8", "replace")


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
