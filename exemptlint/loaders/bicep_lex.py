"""A small lexer for Bicep source, for what the tree-sitter grammar cannot tell by itself.

tree-sitter-bicep 1.1.0 treats newlines as plain whitespace, reads a string up to the next
quote whatever lines it crosses, and lacks some current syntax. ``bicep_syntax`` uses the
tokens found here, which are always outside strings and comments, to:

- find postfix non-null assertions (``value!``), which the grammar rejects or misreads;
- report a string or bracket that is never closed where it was opened, not where the grammar
  finally gave up;
- find current statements and types the grammar does not know (typed variables,
  ``resourceInput<...>`` types, ``extends``, ``using none``, ``$'''`` strings).

Offsets are byte offsets into the UTF-8 source, as tree-sitter's are.
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = [
    "Gaps",
    "LexError",
    "Lexed",
    "StringPiece",
    "Token",
    "blank",
    "grammar_gaps",
    "lex",
    "postfix_bangs",
    "unclosed_bracket",
]


class Token(NamedTuple):
    """A code token: ``kind`` is ``id``, ``num``, a string piece (``str`` for a whole string,
    ``str_start``/``str_mid``/``str_end`` around interpolations) or the punctuation itself."""

    kind: str
    start: int
    end: int


class LexError(NamedTuple):
    offset: int  # where the construct that is not closed starts
    message: str


class StringPiece(NamedTuple):
    """An interpolated multi-line string (``$'''...${x}...'''``): where its quotes and each
    interpolated expression are."""

    dollars: int  # the number of '$' before the quotes; holes are opened by as many '$' and '{'
    start: int  # the first '$'
    end: int  # after the closing quotes
    holes: tuple[tuple[int, int], ...]  # the expression inside each ${...}


class Lexed(NamedTuple):
    tokens: tuple[Token, ...]
    # The first string or comment that is not closed: lexing stops there.
    error: LexError | None
    multiline_templates: tuple[StringPiece, ...]


_CODE = re.compile(
    rb"(?P<ws>[ \t\r\n\f\v]+)"
    rb"|(?P<comment>//[^\n]*|\#[^\n]*)"
    rb"|(?P<block>/\*)"
    rb"|(?P<multi>\$*''')"
    rb"|(?P<single>')"
    rb"|(?P<id>[A-Za-z_][A-Za-z0-9_]*)"
    rb"|(?P<num>[0-9]+)"
    rb"|(?P<op>\.\.\.|\.\?|\?\?|::|=>|==|!=|=~|!~|<=|>=|&&|\|\|)"
    rb"|(?P<other>[\x00-\x7f])"
    rb"|(?P<byte>[\x80-\xff]+)",
    re.DOTALL,
)
# The body of a single-quoted string up to its end, an interpolation or a line break: escapes
# are a backslash and one character (not a line break).
_SINGLE_BODY = re.compile(rb"(?:[^'\\$\n]|\\[^\n]|\$(?!\{))*")


class _Hole:
    """An interpolation being lexed: the string it belongs to and the braces opened inside."""

    __slots__ = ("depth", "dollars", "expression_start", "holes", "string_start")

    def __init__(
        self, string_start: int, dollars: int, holes: list[tuple[int, int]] | None, expression_start: int = 0
    ) -> None:
        self.string_start = string_start
        self.dollars = dollars  # 0 for a single-quoted string
        self.depth = 0
        self.holes = holes  # the holes of a multi-line template, else None
        self.expression_start = expression_start  # after the ${


def lex(source: bytes) -> Lexed:
    """The code tokens of ``source``, the first unterminated string or comment, and the
    interpolated multi-line strings."""
    tokens: list[Token] = []
    templates: list[StringPiece] = []
    stack: list[_Hole] = []
    position = 0
    size = len(source)

    def resume(string_start: int, piece_start: int, at: int, hole: _Hole | None) -> int | LexError:
        """Lex a string's text from ``at`` (just after its opening quotes or an interpolation's
        closing brace); returns where code resumes, or the error."""
        dollars = hole.dollars if hole is not None else 0
        first = piece_start == string_start
        if hole is None or hole.holes is None:
            # Single-quoted.
            body = _SINGLE_BODY.match(source, at)
            assert body is not None  # the pattern matches the empty string
            stop = body.end()
            char = source[stop : stop + 1]
            if char == b"'":
                tokens.append(Token("str" if first else "str_end", piece_start, stop + 1))
                return stop + 1
            if char == b"$":  # an interpolation: ${
                tokens.append(Token("str_start" if first else "str_mid", piece_start, stop + 2))
                stack.append(_Hole(string_start, 0, None, stop + 2))
                return stop + 2
            return LexError(string_start, "this string is not closed on its line: expected a closing '")
        # A multi-line template ($'''): ends at ''', interpolations open with $...${.
        marker = b"$" * dollars + b"{"
        close = source.find(b"'''", at)
        opening = source.find(marker, at)
        if close < 0 and opening < 0:
            return LexError(string_start, "this multi-line string is not closed: expected '''")
        if opening >= 0 and (close < 0 or opening < close):
            tokens.append(Token("str_start" if first else "str_mid", piece_start, opening + len(marker)))
            stack.append(_Hole(string_start, dollars, hole.holes, opening + len(marker)))
            return opening + len(marker)
        end = close + 3
        while source[end : end + 1] == b"'":  # ''''' : the last three quotes close it
            end += 1
        tokens.append(Token("str" if first else "str_end", piece_start, end))
        templates.append(StringPiece(dollars, string_start, end, tuple(hole.holes)))
        return end

    while position < size:
        match = _CODE.match(source, position)
        assert match is not None  # every byte matches one alternative
        kind = match.lastgroup or ""
        end = match.end()
        if kind in ("ws", "comment", "byte"):
            position = end
            continue
        if kind == "block":
            close = source.find(b"*/", end)
            if close < 0:
                return Lexed(tuple(tokens), LexError(position, "this comment is not closed: expected */"), ())
            position = close + 2
            continue
        if kind == "multi":
            dollars = end - position - 3
            if dollars == 0:
                close = source.find(b"'''", end)
                if close < 0:
                    error = LexError(position, "this multi-line string is not closed: expected '''")
                    return Lexed(tuple(tokens), error, tuple(templates))
                stop = close + 3
                while source[stop : stop + 1] == b"'":
                    stop += 1
                tokens.append(Token("str", position, stop))
                position = stop
                continue
            result = resume(position, position, end, _Hole(position, dollars, []))
        elif kind == "single":
            result = resume(position, position, end, None)
        elif kind == "other" and source[position : position + 1] in (b"{", b"}") and stack:
            hole = stack[-1]
            if source[position : position + 1] == b"{":
                hole.depth += 1
                tokens.append(Token("{", position, end))
                position = end
                continue
            if hole.depth:
                hole.depth -= 1
                tokens.append(Token("}", position, end))
                position = end
                continue
            # The brace that closes the interpolation: the string goes on.
            stack.pop()
            if hole.holes is not None:
                hole.holes.append((hole.expression_start, position))
            result = resume(hole.string_start, position, end, hole if hole.holes is not None else None)
        else:
            text = match.group().decode("ascii") if kind in ("op", "other") else kind
            tokens.append(Token(text, position, end))
            position = end
            continue
        if isinstance(result, LexError):
            return Lexed(tuple(tokens), result, tuple(templates))
        position = result
    if stack:
        error = LexError(stack[-1].string_start, "this string is not closed: expected a closing quote")
        return Lexed(tuple(tokens), error, tuple(templates))
    return Lexed(tuple(tokens), None, tuple(templates))


_CLOSING = {"(": ")", "[": "]", "{": "}"}


def unclosed_bracket(tokens: tuple[Token, ...]) -> tuple[Token, str] | None:
    """The first bracket that is never closed (or closed by the wrong bracket), and what was
    expected: the construct that failed starts there."""
    stack: list[Token] = []
    for token in tokens:
        kind = token.kind
        if kind in _CLOSING:
            stack.append(token)
        elif kind in (")", "]", "}"):
            if not stack:
                return token, f"'{kind}' closes nothing"
            opening = stack.pop()
            if _CLOSING[opening.kind] != kind:
                expected = _CLOSING[opening.kind]
                return opening, f"'{opening.kind}' is not closed: expected '{expected}' before '{kind}'"
    if stack:
        opening = stack[-1]
        return opening, f"'{opening.kind}' is not closed: expected '{_CLOSING[opening.kind]}'"
    return None


# --------------------------------------------------------------------------- postfix '!'

# Tokens that end an operand: a '!' right after one of them, on the same line, is postfix.
_OPERAND_END = frozenset({"id", "num", "str", "str_end", ")", "]", "}"})
# Keywords after which a '!' can only start an operand.
_BEFORE_OPERAND = frozenset({b"if", b"for", b"in", b"assert", b"return"})


def postfix_bangs(source: bytes, tokens: tuple[Token, ...]) -> list[int]:
    """Where the non-null assertions are (``value!``, Bicep 0.30): a ``!`` token right after
    an operand on the same line. A prefix ``!`` (logical not) always follows an operator, an
    opening bracket, a separator or a line break; ``!=`` and ``!~`` are tokens of their own."""
    found: list[int] = []
    previous: Token | None = None
    for token in tokens:
        if (
            token.kind == "!"
            and previous is not None
            and previous.kind in _OPERAND_END
            and b"\n" not in source[previous.end : token.start]
            and not (previous.kind == "id" and source[previous.start : previous.end] in _BEFORE_OPERAND)
        ):
            found.append(token.start)
        previous = token
    return found


# --------------------------------------------------------------------------- grammar gaps


class Gaps(NamedTuple):
    """Same-length edits that turn current Bicep the grammar does not know into text it
    parses with the same meaning, and what the edits removed."""

    edits: tuple[tuple[int, int, bytes], ...]
    extends: Token | None  # the path string of a .bicepparam ``extends`` statement
    templates: tuple[StringPiece, ...]  # $''' strings, read with their interpolations


_TYPE_REFERENCES = frozenset({b"resourceInput", b"resourceOutput"})
_OPENING = {"(": 1, "[": 1, "{": 1, "str_start": 1, ")": -1, "]": -1, "}": -1, "str_end": -1}


def blank(source: bytes, start: int, end: int, keep: bytes = b"") -> tuple[int, int, bytes]:
    """An edit that replaces ``source[start:end]`` by spaces, line breaks kept, with ``keep``
    written over the first run of bytes on one line long enough to hold it."""
    data = bytearray(re.sub(rb"[^\n]", b" ", source[start:end]))
    if keep:
        at = 0
        for line in bytes(data).split(b"\n"):
            if len(line) >= len(keep):
                data[at : at + len(keep)] = keep
                break
            at += len(line) + 1
        else:
            return start, start, b""  # no room: no edit (the grammar reports what it cannot read)
    return start, end, bytes(data)


def grammar_gaps(source: bytes, lexed: Lexed) -> Gaps:
    """Edits for the current syntax tree-sitter-bicep 1.1.0 rejects:

    - types are never evaluated, and the grammar misreads some (a nullable user-defined type
      `lockType?` or object type `{...}?` before the next statement as the start of a ternary;
      ``resourceInput<'type@version'>.path``; the experimental ``param x resource 'type'``): the
      type of a ``param``, ``output`` or ``type`` declaration is read as ``int``, keeping the
      ``?`` that makes a parameter nullable, and a typed variable's type (``var x string = ...``)
      is blanked;
    - ``resourceInput<...>`` / ``resourceOutput<...>`` anywhere else (function types): ``object``;
    - ``extends 'base.bicepparam'`` (blanked and returned), ``using none`` and the ``with {...}``
      of a ``using`` statement;
    - ``$'''...${x}...'''`` strings: the ``$`` are blanked; the interpolations are returned.
    """
    tokens = lexed.tokens
    count = len(tokens)
    edits: list[tuple[int, int, bytes]] = []
    extends: Token | None = None
    depth = 0
    consumed = 0  # tokens before this offset are inside an edit already
    for index, token in enumerate(tokens):
        word = source[token.start : token.end] if token.kind == "id" and token.start >= consumed else b""
        following = tokens[index + 1] if index + 1 < count else None
        if depth == 0 and word == b"var" and index + 2 < count and following is not None:
            if following.kind == "id" and tokens[index + 2].kind != "=":
                end = _type_end(source, tokens, index + 2)
                if end is not None:
                    edits.append(blank(source, tokens[index + 2].start, tokens[end - 1].end))
                    consumed = tokens[end - 1].end
        elif depth == 0 and word in (b"param", b"output", b"type") and following is not None:
            start = index + 2 + (word == b"type")  # after `type NAME =`
            if (
                following.kind == "id"
                and start < count
                and (word != b"type" or tokens[start - 1].kind == "=")
            ):
                end = _declared_type_end(source, tokens, start)
                if end > start and tokens[end - 1].kind == "?":
                    end -= 1  # nullable: the '?' stays
                if end > start and (end - start > 1 or _word(source, tokens[start]) not in _PRIMITIVE_TYPES):
                    edits.append(blank(source, tokens[start].start, tokens[end - 1].end, b"int"))
                    consumed = tokens[end - 1].end
        elif depth == 0 and word == b"extends" and following is not None and following.kind == "str":
            extends = following
            edits.append(blank(source, token.start, following.end))
        elif depth == 0 and word == b"using" and following is not None:
            if following.kind == "id" and source[following.start : following.end] == b"none":
                edits.append(blank(source, token.start, following.end))
            elif following.kind == "str" and index + 2 < count and tokens[index + 2].kind == "id":
                keyword = tokens[index + 2]
                if source[keyword.start : keyword.end] == b"with":
                    end = _balanced_end(tokens, index + 3)
                    if end is not None:
                        edits.append(blank(source, keyword.start, tokens[end - 1].end))
        elif word in _TYPE_REFERENCES:
            end = _type_reference_end(tokens, index)
            if end is not None:
                edits.append(blank(source, token.start, tokens[end - 1].end, b"object"))
        depth += _OPENING.get(token.kind, 0)
    for template in lexed.multiline_templates:
        edits.append(blank(source, template.start, template.start + template.dollars))
    return Gaps(tuple(edits), extends, lexed.multiline_templates)


def _type_end(source: bytes, tokens: tuple[Token, ...], start: int) -> int | None:
    """The index of the '=' after the type of a typed variable that starts at ``start``."""
    depth = 0
    for index in range(start, len(tokens)):
        token = tokens[index]
        if depth == 0 and token.kind == "=":
            return index if index > start else None
        if depth == 0 and index > start and b"\n" in source[tokens[index - 1].end : token.start]:
            return None  # the next statement: this was not a typed variable
        depth += _OPENING.get(token.kind, 0)
        if depth < 0:
            return None
    return None


_PRIMITIVE_TYPES = frozenset(
    {b"array", b"bool", b"int", b"object", b"string", b"secureString", b"secureObject"}
)


def _declared_type_end(source: bytes, tokens: tuple[Token, ...], start: int) -> int:
    """The index after the type of a declaration that starts at ``start``: before its ``=``
    (a default value) or the next statement, whichever comes first."""
    depth = 0
    index = start
    while index < len(tokens):
        token = tokens[index]
        if depth == 0 and (token.kind == "=" or token.kind == "=>"):
            break
        if depth == 0 and index > start and b"\n" in source[tokens[index - 1].end : token.start]:
            break
        depth += _OPENING.get(token.kind, 0)
        if depth < 0:
            break
        index += 1
    return index


def _word(source: bytes, token: Token) -> bytes:
    return source[token.start : token.end]


def _balanced_end(tokens: tuple[Token, ...], start: int) -> int | None:
    """The index after the bracket that closes the one at ``start``."""
    if start >= len(tokens) or tokens[start].kind != "{":
        return None
    depth = 0
    for index in range(start, len(tokens)):
        depth += _OPENING.get(tokens[index].kind, 0)
        if depth == 0:
            return index + 1
    return None


def _type_reference_end(tokens: tuple[Token, ...], start: int) -> int | None:
    """The index after ``resourceInput<'type@version'>`` and its ``.property`` / ``[*]`` path."""
    kinds = [t.kind for t in tokens[start + 1 : start + 4]]
    if kinds != ["<", "str", ">"]:
        return None
    index = start + 4
    while index < len(tokens):
        if tokens[index].kind == "." and index + 1 < len(tokens) and tokens[index + 1].kind == "id":
            index += 2
        elif [t.kind for t in tokens[index : index + 3]] == ["[", "*", "]"]:
            index += 3
        else:
            break
    return index
