"""A static evaluator for ARM template expressions (``"[concat('a', parameters('x'))]"``).

The pipeline is: a compiled-regex tokenizer, a recursive-descent parser whose ASTs are cached
by expression text, and an evaluator with a table of ARM functions.

What cannot be known before deployment (``reference()``, ``guid()``, a parameter without a
value, the deployment's subscription...) becomes an ``Unresolved`` value, never a guessed
string. Unknowns propagate: a function that receives one returns one, except where ARM's own
semantics make the answer independent of it (``if()`` with a known condition, ``and``/``or``
short-circuits, ``coalesce`` skipping known nulls). String-building functions also compute a
``partial`` rendering in which only the unknown parts are ``{placeholders}``, so that rules can
still see structure such as ``/subscriptions/{...}/resourceGroups/rg``.

Nothing here raises for bad input: malformed expressions, wrong argument types and runaway
nesting all come back as ``Unresolved`` with a reason.
"""

from __future__ import annotations

import calendar
import datetime
import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from exemptlint.model import ScopeLevel, Unresolved

__all__ = ["Deployment", "Evaluator", "is_expression", "unescape_literal"]

# ARM rejects deeper expressions long before this; the limit keeps the recursive-descent parser
# and evaluator far from Python's recursion limit whatever the input.
_MAX_CALL_NESTING = 64
# Budget for one evaluation: nested calls + JSON nesting + variable-to-variable hops. Each unit
# costs a few Python frames, so this stays well below the default recursion limit of 1000.
_MAX_DEPTH = 160
# ARM ints are 64-bit.
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1
# Guards against templates whose values double on every variable (concat(v, v) chains): results
# larger than this are reported as unresolved instead of being built.
_MAX_STRING = 1_000_000
_MAX_NODES = 200_000
# A variable reference costs more of that budget than a call: it takes more Python frames.
_VARIABLE_HOP_COST = 4
# ARM allows at most 800 copies in a copy loop.
_MAX_COPIES = 800


# --------------------------------------------------------------------------- literals vs expressions


def is_expression(text: str) -> bool:
    """``[...]`` is an expression; ``[[...]`` is an escaped literal; anything else is plain text."""
    return len(text) >= 2 and text[0] == "[" and text[-1] == "]" and text[1] != "["


def unescape_literal(text: str) -> str:
    """``'[[x]'`` -> ``'[x]'``; other text unchanged.

    Only a string that would otherwise be an expression (it also ends with ``]``) is an escape:
    ARM's docs say not to double the bracket when the text does not end with one.
    """
    if text.startswith("[[") and text.endswith("]"):
        return text[1:]
    return text


# --------------------------------------------------------------------------- deployment


_UNKNOWN_SUBSCRIPTION = Unresolved(
    "subscription().subscriptionId",
    "the deployment's subscription is only known at deployment time",
    "{subscription().subscriptionId}",
)
_UNKNOWN_RESOURCE_GROUP = Unresolved(
    "resourceGroup().name",
    "the deployment's resource group is only known at deployment time",
    "{resourceGroup().name}",
)
_UNKNOWN_MANAGEMENT_GROUP = Unresolved(
    "managementGroup().name",
    "the deployment's management group is only known at deployment time",
    "{managementGroup().name}",
)
_UNKNOWN_TENANT = Unresolved(
    "tenant().tenantId",
    "the deployment's tenant is only known at deployment time",
    "{tenant().tenantId}",
)


@dataclass(frozen=True)
class Deployment:
    """What subscription(), resourceGroup(), managementGroup(), tenant() describe."""

    # The deployment's scope level (from the template $schema).
    level: ScopeLevel
    subscription_id: Any = _UNKNOWN_SUBSCRIPTION
    resource_group: Any = _UNKNOWN_RESOURCE_GROUP
    management_group: Any = _UNKNOWN_MANAGEMENT_GROUP
    tenant_id: Any = _UNKNOWN_TENANT


# --------------------------------------------------------------------------- tokenizer

# One alternative per token kind. The string pattern is the "unrolled loop" form, which matches
# in linear time (no nested quantifiers that could backtrack exponentially).
_TOKEN = re.compile(
    r"""
      (?P<ws>\s+)
    | (?P<string>'[^']*(?:''[^']*)*')
    | (?P<int>-?[0-9]+)
    | (?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
    | (?P<punct>[()\[\],.])
    """,
    re.VERBOSE,
)


class _Token(NamedTuple):
    kind: str  # "string", "int", "name", "punct" or "end"
    text: str
    start: int  # offset in the whole template string (its leading '[' is offset 0)
    end: int


class _ParseError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _where(offset: int) -> str:
    # 1-based, counted over the whole string as written in the template.
    return f"at character {offset + 1}"


def _tokenize(source: str, start: int, end: int) -> list[_Token]:
    tokens: list[_Token] = []
    pos = start
    while pos < end:
        match = _TOKEN.match(source, pos, end)
        if match is None:
            char = source[pos]
            if char == "'":
                raise _ParseError(f"unterminated string literal starting {_where(pos)}")
            raise _ParseError(f"unexpected character {char!r} {_where(pos)}")
        kind = match.lastgroup or ""
        if kind != "ws":
            tokens.append(_Token(kind, match.group(), pos, match.end()))
        pos = match.end()
    tokens.append(_Token("end", "", end, end))
    return tokens


# --------------------------------------------------------------------------- AST and parser


class _Literal(NamedTuple):
    value: str | int
    text: str


class _Call(NamedTuple):
    name: str  # lower-cased, for the function table
    display: str  # as written, for messages
    namespace: str | None  # user-defined functions: ns.fn(...)
    args: tuple[_Node, ...]
    text: str


class _Access(NamedTuple):
    """``target.prop`` / ``target[expr]`` chains, flattened so long chains need no recursion."""

    target: _Node
    steps: tuple[str | _Node, ...]  # a str is a property name, a node an index expression
    text: str


_Node = _Literal | _Call | _Access


class _Invalid(NamedTuple):
    message: str


class _Parser:
    def __init__(self, source: str, tokens: list[_Token]) -> None:
        self.source = source
        self.tokens = tokens
        self.index = 0

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def expect(self, punct: str) -> _Token:
        token = self.advance()
        if token.kind != "punct" or token.text != punct:
            raise _ParseError(f"expected '{punct}' {self.describe(token)}")
        return token

    def describe(self, token: _Token) -> str:
        if token.kind == "end":
            return "at the end of the expression"
        return f"but found {token.text!r} {_where(token.start)}"

    def parse(self) -> _Node:
        if self.peek().kind == "end":
            raise _ParseError("the expression is empty")
        node = self.expression(0)
        token = self.peek()
        if token.kind != "end":
            raise _ParseError(f"unexpected {token.text!r} {_where(token.start)} after a complete expression")
        return node

    def expression(self, depth: int) -> _Node:
        token = self.advance()
        if depth > _MAX_CALL_NESTING:
            raise _ParseError(
                f"functions are nested more than {_MAX_CALL_NESTING} levels deep {_where(token.start)}"
            )
        node: _Node
        if token.kind == "string":
            node = _Literal(token.text[1:-1].replace("''", "'"), token.text)
        elif token.kind == "int":
            value = int(token.text) if len(token.text) <= 20 else _INT_MAX + 1
            if not _INT_MIN <= value <= _INT_MAX:
                raise _ParseError(f"integer {token.text[:24]!r} is out of range {_where(token.start)}")
            node = _Literal(value, token.text)
        elif token.kind == "name":
            node = self.call(token, depth)
        elif token.kind == "end":
            raise _ParseError("unexpected end of the expression")
        else:
            raise _ParseError(f"unexpected {token.text!r} {_where(token.start)}")
        return self.postfix(node, token.start, depth)

    def call(self, name: _Token, depth: int) -> _Call:
        namespace: str | None = None
        function = name
        after = self.peek()
        if after.kind == "punct" and after.text == ".":
            # Only `ns.fn(` can follow a bare name: plain property access needs a call before it.
            self.advance()
            function = self.advance()
            if function.kind != "name":
                raise _ParseError(f"expected a function name after '{name.text}.' {self.describe(function)}")
            namespace = name.text
        opening = self.peek()
        if opening.kind != "punct" or opening.text != "(":
            raise _ParseError(f"expected '(' after {function.text!r} {self.describe(opening)}")
        self.advance()
        args: list[_Node] = []
        if not (self.peek().kind == "punct" and self.peek().text == ")"):
            while True:
                args.append(self.expression(depth + 1))
                separator = self.advance()
                if separator.kind == "punct" and separator.text == ")":
                    break
                if separator.kind != "punct" or separator.text != ",":
                    raise _ParseError(f"expected ',' or ')' {self.describe(separator)}")
        else:
            self.advance()
        end = self.tokens[self.index - 1].end
        display = function.text if namespace is None else f"{namespace}.{function.text}"
        return _Call(function.text.lower(), display, namespace, tuple(args), self.source[name.start : end])

    def postfix(self, node: _Node, start: int, depth: int) -> _Node:
        steps: list[str | _Node] = []
        while True:
            token = self.peek()
            if token.kind != "punct" or token.text not in ".[":
                break
            self.advance()
            if len(steps) >= _MAX_CALL_NESTING:
                raise _ParseError(f"more than {_MAX_CALL_NESTING} property accesses {_where(token.start)}")
            if token.text == ".":
                name = self.advance()
                if name.kind != "name":
                    raise _ParseError(f"expected a property name after '.' {self.describe(name)}")
                steps.append(name.text)
            else:
                steps.append(self.expression(depth + 1))
                self.expect("]")
        if not steps:
            return node
        end = self.tokens[self.index - 1].end
        return _Access(node, tuple(steps), self.source[start:end])


def _parse_tree(text: str) -> _Node | _Invalid:
    """The AST of an expression string (with its brackets), or why it is not one."""
    try:
        return _Parser(text, _tokenize(text, 1, len(text) - 1)).parse()
    except _ParseError as error:
        return _Invalid(error.message)


# --------------------------------------------------------------------------- value helpers


class _Fail(Exception):
    """Raised by function implementations; the call becomes ``Unresolved(reason)``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, Unresolved):
        return "unresolved value"
    return type(value).__name__


def _short(expression: str) -> str:
    return expression[1:-1].strip() if is_expression(expression) else expression


def _placeholder(value: Unresolved, text: str | None) -> str:
    """How an unknown part shows in a partial: its own partial, else ``{its expression}``."""
    if value.partial is not None:
        return value.partial
    return "{" + (text if text is not None else _short(value.expression)) + "}"


def _find_unresolved(value: Any) -> Unresolved | None:
    """The first ``Unresolved`` in a value, searched without recursion."""
    stack = [value]
    seen: set[int] = set()  # shared (or, from Python callers, cyclic) containers are visited once
    while stack:
        item = stack.pop()
        if isinstance(item, Unresolved):
            return item
        if isinstance(item, (dict, list)):
            if id(item) in seen:
                continue
            seen.add(id(item))
            stack.extend(reversed(list(item.values() if isinstance(item, dict) else item)))
    return None


def _require_known(*values: Any) -> None:
    for value in values:
        found = _find_unresolved(value)
        if found is not None:
            raise _Fail(found.reason)


def _check_size(value: Any) -> Any:
    """Fail for values whose logical size (counting shared parts each time) is too large."""
    budget = _MAX_NODES
    chars = 0
    stack = [value]
    while stack:
        item = stack.pop()
        budget -= 1
        if budget < 0:
            raise _Fail(f"the value has more than {_MAX_NODES} elements, too many to evaluate statically")
        if isinstance(item, str):
            chars += len(item)
            if chars > _MAX_STRING:
                raise _Fail(f"the value holds more than {_MAX_STRING} characters, too many to evaluate")
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return value


def _check_string(text: str) -> str:
    if len(text) > _MAX_STRING:
        raise _Fail(f"the result is longer than {_MAX_STRING} characters, too long to evaluate statically")
    return text


def _json_equal(a: Any, b: Any) -> bool:
    """ARM (JSON) equality: bools are not numbers, strings compare case-sensitively."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and bool(a == b)


def _dedupe_key(value: Any) -> Any:
    """A hashable key such that equal keys mean ``_json_equal`` values (for union of arrays)."""
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, (int, float)):
        return ("n", value)
    if isinstance(value, str):
        return ("s", value)
    if value is None:
        return ("z",)
    if isinstance(value, list):
        return ("l", tuple(_dedupe_key(v) for v in value))
    if isinstance(value, dict):
        return ("d", tuple(sorted((str(k), _dedupe_key(v)) for k, v in value.items())))
    # An unknown equals nothing we can prove: it is kept as it is.
    return ("u", id(value))


def _to_string(value: Any) -> str:
    """ARM's string(): booleans as 'True'/'False', containers as compact JSON, null as ''."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "True" if value else "False"
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (dict, list)):
        _require_known(value)
        _check_size(value)
        try:
            return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        except (TypeError, ValueError) as error:  # only for values that did not come from JSON
            raise _Fail(f"cannot convert the value to JSON text ({error})") from None
    raise _Fail(f"cannot convert a {type_name(value)} to a string")


def _get_property(value: Any, name: str) -> Any:
    """Object property access, case-insensitive as in ARM."""
    if not isinstance(value, dict):
        raise _Fail(f"cannot read property '{name}' of a {type_name(value)}")
    if name in value:
        return value[name]
    lowered = name.lower()
    for key, item in value.items():
        if isinstance(key, str) and key.lower() == lowered:
            return item
    raise _Fail(f"property '{name}' does not exist")


def _index(value: Any, index: Any) -> Any:
    if isinstance(value, list):
        if not isinstance(index, int) or isinstance(index, bool):
            raise _Fail(f"an array index must be an int, not a {type_name(index)}")
        if not 0 <= index < len(value):
            raise _Fail(f"index {index} is out of range for an array of length {len(value)}")
        return value[index]
    if isinstance(value, dict):
        if not isinstance(index, str):
            raise _Fail(f"an object index must be a string, not a {type_name(index)}")
        return _get_property(value, index)
    raise _Fail(f"cannot index a {type_name(value)}")


_OUTSIDE_BRACES = re.compile(r"(\{[^{}]*\})")


def _map_known_text(partial: str, transform: Callable[[str], str]) -> str:
    """Apply ``transform`` to the known text of a partial, leaving ``{placeholders}`` intact."""
    parts = _OUTSIDE_BRACES.split(partial)
    return "".join(part if i % 2 else transform(part) for i, part in enumerate(parts))


# --------------------------------------------------------------------------- dates


# A .NET custom format is read as runs of one repeated character ("yyyy", "MM", "-"): a run is
# either a supported specifier or a literal separator, so "dddd" (day name) is rejected rather
# than read as "dd" twice.
_DATE_RUN = re.compile(r"(.)\1*", re.DOTALL)
_DATE_SPECIFIERS = frozenset({"yyyy", "MM", "dd", "HH", "mm", "ss", "K", *("f" * n for n in range(1, 8))})
_DATE_LITERALS = frozenset("TZ-: /.,")
_STANDARD_DATE_FORMATS = {
    "u": "yyyy-MM-dd HH:mm:ssZ",
    "s": "yyyy-MM-ddTHH:mm:ss",
    "o": "yyyy-MM-ddTHH:mm:ss.fffffffK",
    "O": "yyyy-MM-ddTHH:mm:ss.fffffffK",
}
_ISO_DATETIME = re.compile(
    # Extended (2026-11-24T00:00:00Z) and basic (20261124T000000Z, utcNow()'s default) forms.
    r"\s*(\d{4})-?(\d{2})-?(\d{2})"
    r"(?:[Tt ](\d{2}):?(\d{2})(?::?(\d{2})(?:[.,](\d{1,7}))?)?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?\s*"
)
_ISO_DURATION = re.compile(
    r"\s*(-)?P(?:(\d{1,9})Y)?(?:(\d{1,9})M)?(?:(\d{1,9})W)?(?:(\d{1,9})D)?"
    r"(?:T(?:(\d{1,9})H)?(?:(\d{1,9})M)?(?:(\d{1,9})(?:[.,](\d{1,7}))?S)?)?\s*"
)


def _format_datetime(moment: datetime.datetime, fmt: str) -> str:
    """A small subset of .NET custom date formats; anything else is reported, not guessed."""
    fmt = _STANDARD_DATE_FORMATS.get(fmt, fmt)
    fields = {
        "yyyy": f"{moment.year:04d}",
        "MM": f"{moment.month:02d}",
        "dd": f"{moment.day:02d}",
        "HH": f"{moment.hour:02d}",
        "mm": f"{moment.minute:02d}",
        "ss": f"{moment.second:02d}",
        "K": "Z",
    }
    out: list[str] = []
    for match in _DATE_RUN.finditer(fmt):
        run = match.group()
        if run[0] in _DATE_LITERALS:
            out.append(run)
        elif run not in _DATE_SPECIFIERS:
            raise _Fail(f"date format {fmt!r} is not supported (at {run!r})")
        elif run[0] == "f":
            out.append(f"{moment.microsecond:06d}0"[: len(run)])
        else:
            out.append(fields[run])
    return "".join(out)


def _parse_datetime(text: str) -> datetime.datetime:
    match = _ISO_DATETIME.fullmatch(text)
    if match is None:
        raise _Fail(f"{text!r} is not an ISO 8601 date and time")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        moment = datetime.datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "")[:6].ljust(6, "0")),
            tzinfo=datetime.timezone.utc,
        )
        if offset and offset.upper() != "Z":
            sign = -1 if offset[0] == "-" else 1
            digits = offset[1:].replace(":", "")
            delta = datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
            moment -= sign * delta
    except (ValueError, OverflowError) as error:
        raise _Fail(f"{text!r} is not a valid date and time ({error})") from None
    return moment


def _add_months(moment: datetime.datetime, months: int) -> datetime.datetime:
    """Calendar arithmetic as .NET's AddMonths: the day is clamped to the end of the month."""
    years, month0 = divmod(moment.month - 1 + months, 12)
    year = moment.year + years
    if not datetime.MINYEAR <= year <= datetime.MAXYEAR:
        raise _Fail("the resulting date is out of range")
    day = min(moment.day, calendar.monthrange(year, month0 + 1)[1])
    return moment.replace(year=year, month=month0 + 1, day=day)


def _add_duration(moment: datetime.datetime, duration: str) -> datetime.datetime:
    match = _ISO_DURATION.fullmatch(duration)
    time_part = "T" in duration.upper()
    if match is None or not any(match.groups()[1:]) or (time_part and not any(match.groups()[5:])):
        raise _Fail(f"{duration!r} is not an ISO 8601 duration such as 'P1Y2M10DT2H30M'")
    negative, years, months, weeks, days, hours, minutes, seconds, fraction = match.groups()
    sign = -1 if negative else 1
    try:
        delta = datetime.timedelta(
            weeks=int(weeks or 0),
            days=int(days or 0),
            hours=int(hours or 0),
            minutes=int(minutes or 0),
            seconds=int(seconds or 0),
            microseconds=int((fraction or "")[:6].ljust(6, "0")),
        )
        result = _add_months(moment, sign * (int(years or 0) * 12 + int(months or 0)))
        return result + sign * delta
    except OverflowError:
        raise _Fail("the resulting date is out of range") from None


# --------------------------------------------------------------------------- function support


# A compiled expression (or sub-expression): its value for an evaluator at a nesting depth.
_Code = Callable[["Evaluator", int], Any]


class _Ctx(NamedTuple):
    """What a function implementation gets besides its arguments."""

    ev: Evaluator
    call: _Call
    depth: int
    # The compiled arguments, in the order of ``call.args``.
    codes: tuple[_Code, ...]

    @property
    def name(self) -> str:
        return self.call.display

    def arg(self, index: int) -> Any:
        """Evaluate argument ``index`` (for functions that evaluate their arguments lazily)."""
        return self.codes[index](self.ev, self.depth + 1)

    def text(self, index: int) -> str:
        return self.call.args[index].text

    def unresolved(self, cause: Unresolved, partial: str | None = None) -> Unresolved:
        return Unresolved(self.call.text, cause.reason, partial)


# An argument as a piece of a string being built: the value (str or Unresolved) and the source
# text to show as ``{text}`` when it is unknown and has no partial of its own.
_Piece = tuple[Any, str | None]


def _join(expression: str, pieces: Iterable[_Piece]) -> Any:
    """Concatenate pieces; if any is unknown, an Unresolved whose partial shows the known parts."""
    parts: list[str] = []
    first: Unresolved | None = None
    for value, text in pieces:
        if isinstance(value, Unresolved):
            first = first or value
            parts.append(_placeholder(value, text))
        else:
            parts.append(value)
    joined = "".join(parts)
    if first is None:
        return _check_string(joined)
    return Unresolved(expression, first.reason, joined if len(joined) <= _MAX_STRING else None)


def _string_arg(ctx: _Ctx, args: list[Any], index: int) -> str:
    value = args[index]
    if not isinstance(value, str):
        raise _Fail(f"{ctx.name}() expects argument {index + 1} to be a string, not a {type_name(value)}")
    return value


def _int_arg(ctx: _Ctx, args: list[Any], index: int) -> int:
    value = args[index]
    if not isinstance(value, int) or isinstance(value, bool):
        raise _Fail(f"{ctx.name}() expects argument {index + 1} to be an int, not a {type_name(value)}")
    return value


def _bool_value(ctx: _Ctx, value: Any, index: int) -> bool:
    if not isinstance(value, bool):
        raise _Fail(f"{ctx.name}() expects argument {index + 1} to be a bool, not a {type_name(value)}")
    return value


def _text_piece(value: Any, what: str) -> Any:
    """A deployment fact or argument used inside an id: a string, an int, or an unknown."""
    if isinstance(value, (str, Unresolved)):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise _Fail(f"{what} must be a string, not a {type_name(value)}")


# --------------------------------------------------------------------------- functions: template


def _fn_parameters(ctx: _Ctx, args: list[Any]) -> Any:
    name = _string_arg(ctx, args, 0)
    key = name.lower()
    if key not in ctx.ev._parameters:
        raise _Fail(f"parameter '{name}' is not declared")
    # An Unresolved parameter value passes through as it is, with its own reason.
    return ctx.ev._parameters[key]


def _fn_variables(ctx: _Ctx, args: list[Any]) -> Any:
    return ctx.ev._store.get(_string_arg(ctx, args, 0), ctx.depth)


def _fn_copy_index(ctx: _Ctx, args: list[Any]) -> Any:
    loop: str | None = None
    offset = 0
    if len(args) == 2:
        loop = _string_arg(ctx, args, 0)
        offset = _int_arg(ctx, args, 1)
    elif len(args) == 1:
        if isinstance(args[0], str):
            loop = args[0]
        else:
            offset = _int_arg(ctx, args, 0)
    indexes = ctx.ev._copy_indexes
    if not indexes:
        raise _Fail("copyIndex() is used outside a copy loop")
    if loop is None:
        if None not in indexes:
            raise _Fail("copyIndex() is used outside a copy loop")
        return _plus(ctx, indexes[None], offset)
    for key, value in indexes.items():
        if key is not None and key.lower() == loop.lower():
            return _plus(ctx, value, offset)
    raise _Fail(f"copyIndex('{loop}') is not inside a copy loop named '{loop}'")


def _plus(ctx: _Ctx, index: int | Unresolved, offset: int) -> Any:
    # A loop whose instances are not expanded (its count is not known) has an unknown index.
    return ctx.unresolved(index) if isinstance(index, Unresolved) else index + offset


# --------------------------------------------------------------------------- functions: deployment


_LEVELS_WITH = {
    "subscription": (ScopeLevel.SUBSCRIPTION, ScopeLevel.RESOURCE_GROUP, ScopeLevel.RESOURCE),
    "resource group": (ScopeLevel.RESOURCE_GROUP, ScopeLevel.RESOURCE),
    "management group": (ScopeLevel.MANAGEMENT_GROUP,),
}


def _require_level(ctx: _Ctx, what: str, user: str) -> None:
    """Fail unless the deployment has a ``what`` (subscription, resource group, management group)."""
    level = ctx.ev.deployment.level
    if level in _LEVELS_WITH[what]:
        return
    if level == ScopeLevel.UNKNOWN:
        raise _Fail(f"{user} needs the deployment's {what}, and the deployment's scope level is not known")
    raise _Fail(f"{user} needs the deployment's {what}, and a {level.value}-level deployment has none")


def _subscription_piece(ctx: _Ctx, user: str) -> _Piece:
    _require_level(ctx, "subscription", user)
    return (_text_piece(ctx.ev.deployment.subscription_id, "the deployment's subscription id"), None)


def _resource_group_piece(ctx: _Ctx, user: str) -> _Piece:
    _require_level(ctx, "resource group", user)
    return (_text_piece(ctx.ev.deployment.resource_group, "the deployment's resource group name"), None)


def _management_group_piece(ctx: _Ctx, user: str) -> _Piece:
    _require_level(ctx, "management group", user)
    return (_text_piece(ctx.ev.deployment.management_group, "the deployment's management group name"), None)


def _tenant_piece(ctx: _Ctx) -> _Piece:
    return (_text_piece(ctx.ev.deployment.tenant_id, "the deployment's tenant id"), None)


def _at_deployment(what: str) -> Unresolved:
    return Unresolved(what, f"{what} is only known at deployment time")


def _fn_subscription(ctx: _Ctx, args: list[Any]) -> Any:
    sub = _subscription_piece(ctx, "subscription()")
    tenant = _tenant_piece(ctx)
    return {
        "id": _join("subscription().id", [("/subscriptions/", None), sub]),
        "subscriptionId": sub[0],
        "tenantId": tenant[0],
        "displayName": _at_deployment("subscription().displayName"),
    }


def _fn_resource_group(ctx: _Ctx, args: list[Any]) -> Any:
    sub = _subscription_piece(ctx, "resourceGroup()")
    rg = _resource_group_piece(ctx, "resourceGroup()")
    return {
        "id": _join("resourceGroup().id", [("/subscriptions/", None), sub, ("/resourceGroups/", None), rg]),
        "name": rg[0],
        "type": "Microsoft.Resources/resourceGroups",
        "location": _at_deployment("resourceGroup().location"),
        "managedBy": _at_deployment("resourceGroup().managedBy"),
        "tags": _at_deployment("resourceGroup().tags"),
        "properties": {"provisioningState": "Succeeded"},
    }


def _fn_management_group(ctx: _Ctx, args: list[Any]) -> Any:
    mg = _management_group_piece(ctx, "managementGroup()")
    return {
        "id": _join("managementGroup().id", [(_MG_PREFIX, None), mg]),
        "name": mg[0],
        "type": "Microsoft.Management/managementGroups",
        "properties": {
            "tenantId": _tenant_piece(ctx)[0],
            "displayName": _at_deployment("managementGroup().properties.displayName"),
            "details": _at_deployment("managementGroup().properties.details"),
        },
    }


def _fn_tenant(ctx: _Ctx, args: list[Any]) -> Any:
    tenant = _tenant_piece(ctx)
    return {
        "id": _join("tenant().id", [("/tenants/", None), tenant]),
        "tenantId": tenant[0],
        "countryCode": _at_deployment("tenant().countryCode"),
        "displayName": _at_deployment("tenant().displayName"),
    }


# --------------------------------------------------------------------------- functions: resource ids


def _split_resource_args(
    ctx: _Ctx, args: list[Any], max_leading: int
) -> tuple[list[_Piece], str, list[_Piece]]:
    """Leading scope arguments, the resource type and the names.

    The optional leading arguments are recognised the way ARM does: the type is the first
    argument that contains a '/'. An unknown argument where the type could be hides the shape.
    """
    type_index: int | None = None
    for i, value in enumerate(args[: max_leading + 1]):
        if isinstance(value, str) and "/" in value:
            type_index = i
            break
    if type_index is None:
        unknown = next((a for a in args[: max_leading + 1] if isinstance(a, Unresolved)), None)
        if unknown is not None:
            raise _Fail(unknown.reason)
        raise _Fail(f"{ctx.name}() needs a resource type such as 'Microsoft.Storage/storageAccounts'")
    if type_index == len(args) - 1:
        raise _Fail(f"{ctx.name}() needs at least one resource name after the type")
    leading = _arg_pieces(ctx, args, 0, type_index)
    names = _arg_pieces(ctx, args, type_index + 1, len(args))
    return leading, args[type_index], names


def _arg_pieces(ctx: _Ctx, args: list[Any], start: int, stop: int) -> list[_Piece]:
    return [(_text_piece(args[i], f"{ctx.name}() argument {i + 1}"), ctx.text(i)) for i in range(start, stop)]


def _provider_pieces(ctx: _Ctx, resource_type: str, names: list[_Piece]) -> list[_Piece]:
    """``/providers/NS/type1/name1/type2/name2...`` (child types interleaved with their names)."""
    segments = resource_type.strip("/").split("/")
    namespace, types = segments[0], segments[1:]
    if not types or not all(segments):
        raise _Fail(f"{resource_type!r} is not a resource type")
    if len(names) != len(types):
        # One name per type level is the rule; names already joined with '/' are accepted too.
        joined = [n for n, _ in names]
        if all(isinstance(n, str) for n in joined) and len("/".join(joined).split("/")) == len(types):
            names = [(n, None) for n in "/".join(joined).split("/")]
        else:
            raise _Fail(
                f"resource type {resource_type!r} needs {len(types)} name(s), "
                f"but {ctx.name}() was given {len(names)}"
            )
    pieces: list[_Piece] = [(f"/providers/{namespace}", None)]
    for rtype, name in zip(types, names, strict=True):
        pieces.append((f"/{rtype}/", None))
        pieces.append(name)
    return pieces


_MG_PREFIX = "/providers/Microsoft.Management/managementGroups/"


def _rg_prefix(sub: _Piece, rg: _Piece) -> list[_Piece]:
    return [("/subscriptions/", None), sub, ("/resourceGroups/", None), rg]


def _fn_resource_id(ctx: _Ctx, args: list[Any]) -> Any:
    leading, rtype, names = _split_resource_args(ctx, args, 2)
    level = ctx.ev.deployment.level
    prefix: list[_Piece]
    if len(leading) == 2:
        prefix = _rg_prefix(leading[0], leading[1])
    elif len(leading) == 1:
        prefix = _rg_prefix(_subscription_piece(ctx, "resourceId() with a resource group name"), leading[0])
    elif level in (ScopeLevel.RESOURCE_GROUP, ScopeLevel.RESOURCE):
        sub = _subscription_piece(ctx, "resourceId()")
        prefix = _rg_prefix(sub, _resource_group_piece(ctx, "resourceId()"))
    elif level == ScopeLevel.SUBSCRIPTION:
        prefix = [("/subscriptions/", None), _subscription_piece(ctx, "resourceId()")]
    elif level == ScopeLevel.MANAGEMENT_GROUP:
        prefix = [(_MG_PREFIX, None), _management_group_piece(ctx, "resourceId()")]
    elif level == ScopeLevel.TENANT:
        prefix = []
    else:
        raise _Fail("resourceId() depends on the deployment's scope level, which is not known")
    return _join(ctx.call.text, prefix + _provider_pieces(ctx, rtype, names))


def _fn_subscription_resource_id(ctx: _Ctx, args: list[Any]) -> Any:
    leading, rtype, names = _split_resource_args(ctx, args, 1)
    sub = (
        leading[0] if leading else _subscription_piece(ctx, "subscriptionResourceId() without a subscription")
    )
    return _join(ctx.call.text, [("/subscriptions/", None), sub, *_provider_pieces(ctx, rtype, names)])


def _fn_tenant_resource_id(ctx: _Ctx, args: list[Any]) -> Any:
    _, rtype, names = _split_resource_args(ctx, args, 0)
    return _join(ctx.call.text, _provider_pieces(ctx, rtype, names))


def _fn_management_group_resource_id(ctx: _Ctx, args: list[Any]) -> Any:
    leading, rtype, names = _split_resource_args(ctx, args, 1)
    mg = (
        leading[0]
        if leading
        else _management_group_piece(ctx, "managementGroupResourceId() without a management group name")
    )
    return _join(ctx.call.text, [(_MG_PREFIX, None), mg, *_provider_pieces(ctx, rtype, names)])


def _fn_extension_resource_id(ctx: _Ctx, args: list[Any]) -> Any:
    base = _text_piece(args[0], "extensionResourceId() argument 1")
    rtype = args[1]
    if isinstance(rtype, Unresolved):
        raise _Fail(rtype.reason)
    if not isinstance(rtype, str):
        raise _Fail(f"extensionResourceId() expects a resource type, not a {type_name(rtype)}")
    names = _arg_pieces(ctx, args, 2, len(args))
    if isinstance(base, str):
        base = base.rstrip("/")
    return _join(ctx.call.text, [(base, ctx.text(0)), *_provider_pieces(ctx, rtype, names)])


# --------------------------------------------------------------------------- functions: strings


def _fn_concat(ctx: _Ctx, args: list[Any]) -> Any:
    try:
        # The common case, all strings, as the general path below would join them (join()
        # raises TypeError for anything else).
        return _check_string("".join(args))
    except TypeError:
        pass
    known = [a for a in args if a is not None and not isinstance(a, Unresolved)]
    if any(isinstance(a, list) for a in known):
        if not all(isinstance(a, list) for a in known):
            raise _Fail("concat() cannot mix arrays with other values")
        unknown = next((a for a in args if isinstance(a, Unresolved)), None)
        if unknown is not None:
            return ctx.unresolved(unknown)
        result: list[Any] = []
        for item in known:
            result.extend(item)
        return _check_size(result)
    pieces: list[_Piece] = []
    for i, value in enumerate(args):
        if isinstance(value, Unresolved):
            pieces.append((value, ctx.text(i)))
        elif isinstance(value, (dict, float)):
            raise _Fail(f"concat() cannot concatenate a {type_name(value)}")
        else:
            # ARM converts ints (copyIndex()) and bools; null adds nothing.
            pieces.append((_to_string(value), None))
    return _join(ctx.call.text, pieces)


# {index[,alignment][:formatString]} with {{ and }} as escapes; a lone brace is an error.
_FORMAT_ITEM = re.compile(r"\{\{|\}\}|\{\s*(\d{1,9})\s*(?:,\s*(-?\d{1,4})\s*)?(?::([^{}]*))?\}|[{}]")


class _FormatItem(NamedTuple):
    argument: int  # {0} is argument 0 after the format string
    width: int | None  # the alignment, if any


class _FormatError(NamedTuple):
    message: str


@functools.lru_cache(maxsize=1024)
def _format_parts(template: str) -> tuple[str | _FormatItem | _FormatError, ...]:
    """A format string read once (templates reuse a few): literal text, items, and the first
    error, which ``format()`` raises only when it gets there (after the arguments before it)."""
    parts: list[str | _FormatItem | _FormatError] = []
    pos = 0
    for match in _FORMAT_ITEM.finditer(template):
        parts.append(template[pos : match.start()])
        pos = match.end()
        token = match.group()
        if token in ("{{", "}}"):
            parts.append(token[0])
            continue
        if match.group(1) is None:
            message = f"format string {template!r} has an unmatched {token!r} at offset {match.start()}"
            parts.append(_FormatError(message))
            return tuple(parts)
        width = match.group(2)
        parts.append(_FormatItem(int(match.group(1)), None if width is None else int(width)))
    parts.append(template[pos:])
    return tuple(parts)


def _fn_format(ctx: _Ctx, args: list[Any]) -> Any:
    template = args[0]
    if isinstance(template, Unresolved):
        return ctx.unresolved(template)
    template = _string_arg(ctx, args, 0)
    texts: list[str] = []
    # Unknown arguments, rare: where they go in ``texts`` and how to show them.
    unknown: list[tuple[int, _Piece]] = []
    for part in _format_parts(template):
        if isinstance(part, str):
            texts.append(part)
            continue
        if isinstance(part, _FormatError):
            raise _Fail(part.message)
        index, width = part
        if index + 1 >= len(args):
            raise _Fail(f"format string {template!r} refers to argument {{{index}}}, which is not given")
        value = args[index + 1]
        if isinstance(value, Unresolved):
            unknown.append((len(texts), (value, ctx.text(index + 1))))
            texts.append("")
            continue
        if isinstance(value, (dict, list)):
            raise _Fail(f"format() cannot format a {type_name(value)}")
        text = value if isinstance(value, str) else _to_string(value)
        # The format specifier (':D', ':N2'...) is ignored; alignment is cheap to honour.
        if width is not None:
            text = text.rjust(width) if width >= 0 else text.ljust(-width)
        texts.append(text)
    if not unknown:
        return _check_string("".join(texts))  # what _join does when all is known
    pieces: list[_Piece] = [(text, None) for text in texts]
    for position, piece in unknown:
        pieces[position] = piece
    return _join(ctx.call.text, pieces)


def _case_function(transform: Callable[[str], str]) -> Callable[[_Ctx, list[Any]], Any]:
    def implementation(ctx: _Ctx, args: list[Any]) -> Any:
        value = args[0]
        if isinstance(value, Unresolved):
            if value.partial is None:
                return ctx.unresolved(value, _placeholder(value, ctx.text(0)))
            return ctx.unresolved(value, _map_known_text(value.partial, transform))
        return transform(_string_arg(ctx, args, 0))

    return implementation


def _fn_string(ctx: _Ctx, args: list[Any]) -> Any:
    return _check_string(_to_string(args[0]))


def _fn_replace(ctx: _Ctx, args: list[Any]) -> Any:
    text, old, new = (_string_arg(ctx, args, i) for i in range(3))
    if old == "":
        raise _Fail("replace() cannot replace an empty string")
    # Check the size before building the result, so that a huge result is never built.
    if len(text) + text.count(old) * (len(new) - len(old)) > _MAX_STRING:
        raise _Fail(f"the result is longer than {_MAX_STRING} characters, too long to evaluate statically")
    return text.replace(old, new)


def _fn_split(ctx: _Ctx, args: list[Any]) -> Any:
    text = _string_arg(ctx, args, 0)
    delimiter = args[1]
    delimiters = delimiter if isinstance(delimiter, list) else [delimiter]
    if not delimiters or not all(isinstance(d, str) and d for d in delimiters):
        raise _Fail("split() expects a non-empty string or an array of non-empty strings as its delimiter")
    if len(delimiters) == 1:
        return text.split(delimiters[0])
    # .NET tries the separators in the order given at each position; so does an alternation.
    return re.split("|".join(re.escape(d) for d in delimiters), text)


def _fn_trim(ctx: _Ctx, args: list[Any]) -> Any:
    return _string_arg(ctx, args, 0).strip()


# startsWith, endsWith and indexOf compare case-insensitively in ARM.
def _fn_starts_with(ctx: _Ctx, args: list[Any]) -> Any:
    return _string_arg(ctx, args, 0).lower().startswith(_string_arg(ctx, args, 1).lower())


def _fn_ends_with(ctx: _Ctx, args: list[Any]) -> Any:
    return _string_arg(ctx, args, 0).lower().endswith(_string_arg(ctx, args, 1).lower())


def _fn_index_of(ctx: _Ctx, args: list[Any]) -> Any:
    container, item = args
    if isinstance(container, list):
        _require_known(item)
        for i, element in enumerate(container):
            # An unknown element before the match makes the position unknown.
            _require_known(element)
            if _json_equal(element, item):
                return i
        return -1
    return _string_arg(ctx, args, 0).lower().find(_string_arg(ctx, args, 1).lower())


def _fn_substring(ctx: _Ctx, args: list[Any]) -> Any:
    text = _string_arg(ctx, args, 0)
    start = _int_arg(ctx, args, 1)
    if not 0 <= start <= len(text):
        raise _Fail(f"substring() start index {start} is outside the string of length {len(text)}")
    length = _int_arg(ctx, args, 2) if len(args) == 3 else len(text) - start
    if length < 0 or start + length > len(text):
        raise _Fail(f"substring() length {length} from index {start} runs past the end of {text!r}")
    return text[start : start + length]


# --------------------------------------------------------------------------- functions: collections


def _sequence_arg(ctx: _Ctx, args: list[Any], index: int) -> str | list[Any]:
    value = args[index]
    if not isinstance(value, (str, list)):
        raise _Fail(f"{ctx.name}() expects a string or an array, not a {type_name(value)}")
    return value


def _fn_first(ctx: _Ctx, args: list[Any]) -> Any:
    value = _sequence_arg(ctx, args, 0)
    if isinstance(value, str):
        return value[:1]
    return value[0] if value else None


def _fn_last(ctx: _Ctx, args: list[Any]) -> Any:
    value = _sequence_arg(ctx, args, 0)
    if isinstance(value, str):
        return value[-1:]
    return value[-1] if value else None


def _fn_take(ctx: _Ctx, args: list[Any]) -> Any:
    value = _sequence_arg(ctx, args, 0)
    return value[: max(_int_arg(ctx, args, 1), 0)]


def _fn_skip(ctx: _Ctx, args: list[Any]) -> Any:
    value = _sequence_arg(ctx, args, 0)
    return value[max(_int_arg(ctx, args, 1), 0) :]


def _fn_length(ctx: _Ctx, args: list[Any]) -> Any:
    value = args[0]
    if not isinstance(value, (str, list, dict)):
        raise _Fail(f"length() expects a string, an array or an object, not a {type_name(value)}")
    return len(value)


def _fn_empty(ctx: _Ctx, args: list[Any]) -> Any:
    value = args[0]
    if value is None:
        return True
    if not isinstance(value, (str, list, dict)):
        raise _Fail(f"empty() expects a string, an array or an object, not a {type_name(value)}")
    return len(value) == 0


def _fn_contains(ctx: _Ctx, args: list[Any]) -> Any:
    container, item = args
    _require_known(item)
    if isinstance(container, str):
        return _to_string(item) in container  # case-sensitive, as in ARM
    if isinstance(container, dict):
        if not isinstance(item, str):
            raise _Fail(f"contains() looks up object keys by string, not by a {type_name(item)}")
        lowered = item.lower()  # object keys match case-insensitively
        return any(isinstance(k, str) and k.lower() == lowered for k in container)
    if isinstance(container, list):
        unknown: Unresolved | None = None
        for element in container:
            found = _find_unresolved(element)
            if found is not None:
                unknown = unknown or found
            elif _json_equal(element, item):
                return True
        if unknown is not None:
            raise _Fail(unknown.reason)
        return False
    raise _Fail(f"contains() expects a string, an array or an object, not a {type_name(container)}")


def _fn_union(ctx: _Ctx, args: list[Any]) -> Any:
    if all(isinstance(a, dict) for a in args):
        # A shallow merge: later values win; keys match case-insensitively and keep their
        # first spelling and position.
        merged: dict[str, Any] = {}
        spelling: dict[str, str] = {}
        for obj in args:
            for key, value in obj.items():
                key_text = str(key)
                merged[spelling.setdefault(key_text.lower(), key_text)] = value
        return _check_size(merged)
    if all(isinstance(a, list) for a in args):
        result: list[Any] = []
        seen: set[Any] = set()
        for array in args:
            for element in array:
                key = _dedupe_key(_check_size(element))
                if key not in seen:
                    seen.add(key)
                    result.append(element)
        return _check_size(result)
    raise _Fail("union() expects only objects or only arrays, got " + ", ".join(type_name(a) for a in args))


def _fn_create_array(ctx: _Ctx, args: list[Any]) -> Any:
    return _check_size(list(args))


def _fn_create_object(ctx: _Ctx, args: list[Any]) -> Any:
    if len(args) % 2:
        raise _Fail("createObject() expects key and value pairs (an even number of arguments)")
    result: dict[str, Any] = {}
    for i in range(0, len(args), 2):
        key = args[i]
        if isinstance(key, Unresolved):
            return ctx.unresolved(key)
        result[_string_arg(ctx, args, i)] = args[i + 1]
    return _check_size(result)


# --------------------------------------------------------------------------- functions: logic, conversion


def _fn_if(ctx: _Ctx, args: list[Any]) -> Any:
    # Only the chosen branch is evaluated: the other may hold reference() or fail in ARM too.
    condition = ctx.arg(0)
    if isinstance(condition, Unresolved):
        return ctx.unresolved(condition)
    return ctx.arg(1 if _bool_value(ctx, condition, 0) else 2)


def _logic_function(stop: bool) -> Callable[[_Ctx, list[Any]], Any]:
    """and (stop at False) / or (stop at True): a known deciding value wins over unknowns."""

    def implementation(ctx: _Ctx, args: list[Any]) -> Any:
        unknown: Unresolved | None = None
        for i in range(len(ctx.call.args)):
            value = ctx.arg(i)
            if isinstance(value, Unresolved):
                unknown = unknown or value
            elif _bool_value(ctx, value, i) is stop:
                return stop
        return ctx.unresolved(unknown) if unknown is not None else not stop

    return implementation


def _fn_not(ctx: _Ctx, args: list[Any]) -> Any:
    return not _bool_value(ctx, args[0], 0)


def _fn_equals(ctx: _Ctx, args: list[Any]) -> Any:
    _require_known(*args)
    return _json_equal(args[0], args[1])


def _fn_coalesce(ctx: _Ctx, args: list[Any]) -> Any:
    count = len(ctx.call.args)
    for i in range(count):
        value = ctx.arg(i)
        if value is None:
            continue
        if isinstance(value, Unresolved) and i < count - 1:
            # Unknown whether it is null, so unknown which argument wins.
            return ctx.unresolved(value)
        return value
    return None


_INT_TEXT = re.compile(r"\s*[+-]?[0-9]{1,19}\s*")


def _fn_int(ctx: _Ctx, args: list[Any]) -> Any:
    value = args[0]
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INT_TEXT.fullmatch(value):
        number = int(value)
        if _INT_MIN <= number <= _INT_MAX:
            return number
    raise _Fail(f"int() cannot convert {value!r} to an int")


def _fn_bool(ctx: _Ctx, args: list[Any]) -> Any:
    value = args[0]
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise _Fail(f"bool() cannot convert {value!r} to a bool")


def _constant(value: Any) -> Callable[[_Ctx, list[Any]], Any]:
    return lambda ctx, args: value


# --------------------------------------------------------------------------- functions: dates


# utcNow() and dateTimeAdd() are pure functions of their arguments (and of ``today``): their
# results are cached, as templates repeat the same defaults (dateTimeAdd(utcNow('u'), 'P90D')).
# Only results are cached: a _Fail is raised again each time.


def _fn_utc_now(ctx: _Ctx, args: list[Any]) -> Any:
    if not ctx.ev._in_parameter_default:
        raise _Fail("utcNow() is only allowed in parameter default values")
    fmt = _string_arg(ctx, args, 0) if args else "yyyyMMddTHHmmssZ"
    return _utc_now(ctx.ev.today, fmt)


@functools.lru_cache(maxsize=256)
def _utc_now(today: datetime.date, fmt: str) -> str:
    midnight = datetime.datetime(today.year, today.month, today.day, tzinfo=datetime.timezone.utc)
    return _format_datetime(midnight, fmt)


def _fn_date_time_add(ctx: _Ctx, args: list[Any]) -> Any:
    if isinstance(args[0], str) and isinstance(args[1], str) and (len(args) == 2 or isinstance(args[2], str)):
        return _date_time_add(*args)
    # Type errors are reported in argument order, after errors in the arguments before them.
    base = _parse_datetime(_string_arg(ctx, args, 0))
    result = _add_duration(base, _string_arg(ctx, args, 1))
    fmt = _string_arg(ctx, args, 2) if len(args) == 3 else "yyyy-MM-ddTHH:mm:ssZ"
    return _format_datetime(result, fmt)


@functools.lru_cache(maxsize=1024)
def _date_time_add(base: str, duration: str, fmt: str = "yyyy-MM-ddTHH:mm:ssZ") -> str:
    return _format_datetime(_add_duration(_parse_datetime(base), duration), fmt)


# --------------------------------------------------------------------------- the function table

# strict: any unknown argument makes the result unknown (the implementation never sees one).
# partial: the implementation receives unknown arguments (string builders compute partials).
# lazy: the implementation evaluates its own arguments, in order, only as far as it needs.
_STRICT, _PARTIAL, _LAZY = "strict", "partial", "lazy"


class _Function(NamedTuple):
    implementation: Callable[[_Ctx, list[Any]], Any]
    min_args: int
    max_args: int | None
    mode: str = _STRICT


_FUNCTIONS: dict[str, _Function] = {
    "parameters": _Function(_fn_parameters, 1, 1),
    "variables": _Function(_fn_variables, 1, 1),
    "copyindex": _Function(_fn_copy_index, 0, 2),
    "concat": _Function(_fn_concat, 1, None, _PARTIAL),
    "format": _Function(_fn_format, 1, None, _PARTIAL),
    "resourceid": _Function(_fn_resource_id, 2, None, _PARTIAL),
    "subscriptionresourceid": _Function(_fn_subscription_resource_id, 2, None, _PARTIAL),
    "tenantresourceid": _Function(_fn_tenant_resource_id, 2, None, _PARTIAL),
    "extensionresourceid": _Function(_fn_extension_resource_id, 3, None, _PARTIAL),
    "managementgroupresourceid": _Function(_fn_management_group_resource_id, 2, None, _PARTIAL),
    "subscription": _Function(_fn_subscription, 0, 0),
    "resourcegroup": _Function(_fn_resource_group, 0, 0),
    "managementgroup": _Function(_fn_management_group, 0, 0),
    "tenant": _Function(_fn_tenant, 0, 0),
    "string": _Function(_fn_string, 1, 1),
    "tolower": _Function(_case_function(str.lower), 1, 1, _PARTIAL),
    "toupper": _Function(_case_function(str.upper), 1, 1, _PARTIAL),
    "replace": _Function(_fn_replace, 3, 3),
    "split": _Function(_fn_split, 2, 2),
    "trim": _Function(_fn_trim, 1, 1),
    "startswith": _Function(_fn_starts_with, 2, 2),
    "endswith": _Function(_fn_ends_with, 2, 2),
    "indexof": _Function(_fn_index_of, 2, 2),
    "substring": _Function(_fn_substring, 2, 3),
    "first": _Function(_fn_first, 1, 1),
    "last": _Function(_fn_last, 1, 1),
    "take": _Function(_fn_take, 2, 2),
    "skip": _Function(_fn_skip, 2, 2),
    "length": _Function(_fn_length, 1, 1),
    "empty": _Function(_fn_empty, 1, 1),
    "contains": _Function(_fn_contains, 2, 2),
    "union": _Function(_fn_union, 2, None),
    # Array and object builders keep unknown elements as elements: the structure is known.
    "createarray": _Function(_fn_create_array, 0, None, _PARTIAL),
    "createobject": _Function(_fn_create_object, 0, None, _PARTIAL),
    "null": _Function(_constant(None), 0, 0),
    "true": _Function(_constant(True), 0, 0),
    "false": _Function(_constant(False), 0, 0),
    "if": _Function(_fn_if, 3, 3, _LAZY),
    "and": _Function(_logic_function(False), 2, None, _LAZY),
    "or": _Function(_logic_function(True), 2, None, _LAZY),
    "not": _Function(_fn_not, 1, 1),
    "equals": _Function(_fn_equals, 2, 2),
    "coalesce": _Function(_fn_coalesce, 1, None, _LAZY),
    "int": _Function(_fn_int, 1, 1),
    "bool": _Function(_fn_bool, 1, 1),
    "utcnow": _Function(_fn_utc_now, 0, 1),
    "datetimeadd": _Function(_fn_date_time_add, 2, 3),
}


def _arity_error(call: _Call, function: _Function) -> str | None:
    count = len(call.args)
    low, high = function.min_args, function.max_args
    if low <= count and (high is None or count <= high):
        return None
    if high is None:
        expected = f"at least {low}"
    elif low == high:
        expected = str(low)
    else:
        expected = f"{low} to {high}"
    return f"{call.display}() takes {expected} argument(s), but {count} were given"


# --------------------------------------------------------------------------- compiler

# Each AST node becomes a closure ``code(evaluator, depth)`` once, when its expression text is
# first seen, so that evaluating it again (in the next resource, the next copy-loop iteration,
# the next template) is a chain of direct calls: no isinstance dispatch, function-table lookup
# or arity check per evaluation. Every closure does what the tree walk did, in the same order:
# the depth check first, arguments left to right, stopping at the first unknown for strict
# functions (later arguments are not evaluated: their variables are not memoised, their depth
# hits not counted).


@functools.lru_cache(maxsize=4096)
def _parse(text: str) -> _Code:
    """The compiled form of an expression string (with its brackets). Cached by text: the same
    expression is typically evaluated once per resource and per copy-loop iteration."""
    tree = _parse_tree(text)
    if isinstance(tree, _Invalid):
        reason = f"invalid expression: {tree.message}"

        def invalid(ev: Evaluator, depth: int) -> Any:
            return Unresolved(text, reason)

        return invalid
    return _compile(tree)


# _Ctx(ev, call, depth, codes) without the Python-level __new__ of a NamedTuple: one call to
# tuple.__new__ (in C) per function call evaluated.
_new_ctx: Callable[[tuple[Evaluator, _Call, int, tuple[_Code, ...]]], _Ctx] = functools.partial(
    tuple.__new__, _Ctx
)


def _compile(node: _Node) -> _Code:
    if isinstance(node, _Literal):
        return _compile_literal(node)
    if isinstance(node, _Call):
        return _compile_call(node)
    return _compile_access(node)


def _compile_literal(node: _Literal) -> _Code:
    value, text = node.value, node.text

    def literal(ev: Evaluator, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            return ev._too_deep(text)
        return value

    return literal


def _compile_failure(text: str, reason: str) -> _Code:
    """A call that fails whatever its arguments (unknown function, wrong number of arguments)."""

    def failure(ev: Evaluator, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            return ev._too_deep(text)
        return Unresolved(text, reason)

    return failure


def _compile_call(call: _Call) -> _Code:
    text = call.text
    function = _FUNCTIONS.get(call.name) if call.namespace is None else None
    if function is None:
        return _compile_failure(text, f"function '{call.display}' is not evaluated statically")
    problem = _arity_error(call, function)
    if problem is not None:
        return _compile_failure(text, problem)
    codes = tuple([_compile(arg) for arg in call.args])
    implementation = function.implementation

    if function.mode == _LAZY:

        def lazy(ev: Evaluator, depth: int) -> Any:
            if depth > _MAX_DEPTH:
                return ev._too_deep(text)
            try:
                return implementation(_new_ctx((ev, call, depth, codes)), [])
            except _Fail as failure:
                return Unresolved(text, failure.reason)

        return lazy

    if function.mode == _PARTIAL:

        def partial(ev: Evaluator, depth: int) -> Any:
            if depth > _MAX_DEPTH:
                return ev._too_deep(text)
            try:
                inner = depth + 1
                args: list[Any] = []
                for code in codes:
                    args.append(code(ev, inner))
                return implementation(_new_ctx((ev, call, depth, codes)), args)
            except _Fail as failure:
                return Unresolved(text, failure.reason)

        return partial

    def strict(ev: Evaluator, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            return ev._too_deep(text)
        try:
            inner = depth + 1
            args: list[Any] = []
            for code in codes:
                value = code(ev, inner)
                if isinstance(value, Unresolved):
                    return Unresolved(text, value.reason)
                args.append(value)
            return implementation(_new_ctx((ev, call, depth, codes)), args)
        except _Fail as failure:
            return Unresolved(text, failure.reason)

    if len(call.args) == 1 and isinstance(call.args[0], _Literal) and isinstance(call.args[0].value, str):
        # parameters('name') and variables('name') are most of the calls in real templates.
        if call.name == "parameters":
            return _compile_parameter(call.args[0].value, text, strict)
        if call.name == "variables":
            return _compile_variable(call.args[0].value, text, strict)
    return strict


def _compile_parameter(name: str, text: str, general: _Code) -> _Code:
    """``parameters('name')``: what ``general`` computes, without building the argument list."""
    key = name.lower()
    missing = f"parameter '{name}' is not declared"

    def parameter(ev: Evaluator, depth: int) -> Any:
        if depth >= _MAX_DEPTH:  # the argument itself would be too deep: the general path says so
            return general(ev, depth)
        parameters = ev._parameters
        if key in parameters:
            return parameters[key]
        return Unresolved(text, missing)

    return parameter


def _compile_variable(name: str, text: str, general: _Code) -> _Code:
    """``variables('name')``: what ``general`` computes, reading the memo directly."""
    key = name.lower()

    def variable(ev: Evaluator, depth: int) -> Any:
        if depth >= _MAX_DEPTH:
            return general(ev, depth)
        store = ev._store
        memo = store.memo
        if key in memo:
            return memo[key]
        try:
            return store.get(name, depth)
        except _Fail as failure:
            return Unresolved(text, failure.reason)

    return variable


def _compile_access(node: _Access) -> _Code:
    text = node.text
    target = _compile(node.target)
    # A str step is a property name; a compiled step is an index expression.
    steps = tuple([step if isinstance(step, str) else _compile(step) for step in node.steps])

    def access(ev: Evaluator, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            return ev._too_deep(text)
        inner = depth + 1
        value = target(ev, inner)
        for step in steps:
            if isinstance(value, Unresolved):
                return Unresolved(text, value.reason)
            try:
                if isinstance(step, str):
                    value = _get_property(value, step)
                else:
                    index = step(ev, inner)
                    if isinstance(index, Unresolved):
                        return Unresolved(text, index.reason)
                    value = _index(value, index)
            except _Fail as failure:
                return Unresolved(text, failure.reason)
        return value

    return access


# --------------------------------------------------------------------------- variables


class _Variables:
    """Template variables: evaluated on first use, memoised, with cycle detection."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw: dict[str, tuple[str, Any]] = {}
        self.loops: dict[str, tuple[str, Mapping[str, Any]]] = {}
        for raw_name, value in raw.items():
            name = str(raw_name)
            if name.lower() == "copy" and isinstance(value, list):
                # Variable copy loops: each entry defines a variable holding an array.
                for entry in value:
                    if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                        self.loops[entry["name"].lower()] = (entry["name"], entry)
            else:
                self.raw[name.lower()] = (name, value)
        self.memo: dict[str, Any] = {}
        # A value cut short by the depth limit depends on the depth at which the variable was
        # first used: it is kept with that depth and reused only at that depth or deeper (where
        # it could be no better), so each variable is evaluated at most once per depth.
        self.cut_short: dict[str, tuple[int, Any]] = {}
        self.active: list[str] = []
        self.depth_hits = 0
        self.evaluator: Evaluator | None = None

    def get(self, name: str, depth: int) -> Any:
        key = name.lower()
        if key in self.memo:
            return self.memo[key]
        if key in self.cut_short and depth >= self.cut_short[key][0]:
            return self.cut_short[key][1]
        if key in self.active:
            chain = [*self.active[self.active.index(key) :], key]
            spelled = " -> ".join(self.spelling(k) for k in chain)
            return Unresolved(f"variables('{name}')", f"variable '{name}' refers to itself ({spelled})")
        if key not in self.raw and key not in self.loops:
            raise _Fail(f"variable '{name}' is not declared")
        assert self.evaluator is not None
        hits = self.depth_hits
        self.active.append(key)
        try:
            if key in self.raw:
                value = self.evaluator._value(self.raw[key][1], depth + _VARIABLE_HOP_COST)
            else:
                value = self.copy_loop(*self.loops[key], depth + _VARIABLE_HOP_COST)
        finally:
            self.active.pop()
        if self.depth_hits == hits:
            self.memo[key] = value
        else:
            self.cut_short[key] = (depth, value)
        return value

    def spelling(self, key: str) -> str:
        entry = self.raw.get(key) or self.loops.get(key)
        return entry[0] if entry else key

    def copy_loop(self, name: str, entry: Mapping[str, Any], depth: int) -> Any:
        assert self.evaluator is not None
        where = f"variables('{name}')"
        count = self.evaluator._value(entry.get("count"), depth)
        if isinstance(count, Unresolved):
            return Unresolved(where, count.reason)
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= _MAX_COPIES:
            reason = f"the copy count of variable '{name}' must be an int from 0 to {_MAX_COPIES}"
            return Unresolved(where, reason)
        items = [
            self.evaluator.with_copy_index(name, i)._value(entry.get("input"), depth) for i in range(count)
        ]
        try:
            return _check_size(items)
        except _Fail as failure:
            return Unresolved(where, failure.reason)


# --------------------------------------------------------------------------- the evaluator


class Evaluator:
    """Evaluates template values in one deployment context (parameters, variables, scope)."""

    def __init__(
        self,
        *,
        parameters: Mapping[str, Any],
        variables: Mapping[str, Any],
        deployment: Deployment,
        today: datetime.date,
        copy_indexes: Mapping[str | None, int | Unresolved] | None = None,
        in_parameter_default: bool = False,
    ) -> None:
        self.deployment = deployment
        self.today = today
        # ARM matches parameter names case-insensitively.
        self._parameters: dict[str, Any] = {str(k).lower(): v for k, v in parameters.items()}
        self._copy_indexes: dict[str | None, int | Unresolved] = dict(copy_indexes or {})
        self._in_parameter_default = in_parameter_default
        self._store = _Variables(variables)
        # Variables are evaluated outside any copy loop or parameter default, whoever uses them
        # first, so that their memoised value does not depend on where that was.
        plain = self
        if self._copy_indexes or in_parameter_default:
            plain = self._clone()
            plain._copy_indexes = {}
            plain._in_parameter_default = False
        self._store.evaluator = plain

    def evaluate(self, value: Any) -> Any:
        """Evaluate a JSON value: expressions in strings, recursively through objects and arrays."""
        try:
            return self._value(value, 0)
        except RecursionError:  # a last resort: the depth limits should make this unreachable
            text = value if isinstance(value, str) else "(value)"
            return Unresolved(text, "the value is nested too deeply to evaluate")

    def with_copy_index(self, loop_name: str | None, index: int | Unresolved) -> Evaluator:
        """A child evaluator inside a copy loop (``loop_name`` may be None for an unnamed loop;
        ``index`` is Unresolved when the loop's instances are not expanded)."""
        child = self._clone()
        child._copy_indexes = {**self._copy_indexes, None: index}
        if loop_name is not None:
            child._copy_indexes[loop_name] = index
        return child

    def declare_parameter(self, name: str, value: Any) -> None:
        """Give parameter ``name`` a value (or a new one), as if it had been passed in."""
        self._parameters[str(name).lower()] = value

    def with_parameters(self, parameters: Mapping[str, Any]) -> Evaluator:
        """Same deployment and date, new parameters and no variables (an inner-scope template)."""
        return Evaluator(parameters=parameters, variables={}, deployment=self.deployment, today=self.today)

    # -- internals

    def _clone(self) -> Evaluator:
        """A shallow copy (what ``copy.copy`` makes, without its generic protocol's cost)."""
        twin = type(self).__new__(type(self))
        twin.__dict__.update(self.__dict__)
        return twin

    def _too_deep(self, text: str) -> Unresolved:
        self._store.depth_hits += 1
        return Unresolved(text, "the value is nested too deeply to evaluate")

    def _value(self, value: Any, depth: int) -> Any:
        if isinstance(value, str):
            # Most strings are plain text: only one starting with '[' can be an expression or
            # an escaped literal.
            if value[:1] != "[":
                return value
            if value[-1] == "]" and value[1:2] != "[":  # is_expression(), inlined: it is hot
                result = _parse(value)(self, depth)
                if isinstance(result, Unresolved):
                    # Users see the expression they wrote; reason and partial come from inside.
                    return Unresolved(value, result.reason, result.partial)
                return result
            return unescape_literal(value)
        if isinstance(value, dict):
            if depth > _MAX_DEPTH:
                return self._too_deep("(value)")
            inner = depth + 1
            # Loops rather than comprehensions: in Python 3.11 a comprehension is one more call.
            members: dict[Any, Any] = {}
            for key, item in value.items():
                members[key] = self._value(item, inner)
            return members
        if isinstance(value, list):
            if depth > _MAX_DEPTH:
                return self._too_deep("(value)")
            inner = depth + 1
            items: list[Any] = []
            for item in value:
                items.append(self._value(item, inner))
            return items
        return value
