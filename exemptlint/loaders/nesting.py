"""The one nesting limit of every loader: objects and arrays (YAML mappings and sequences, HCL
objects, tuples and blocks, Bicep objects and arrays) nested more than ``MAX_NESTING`` deep are
refused when the file is loaded, with an error at the first container that is too deep.

Loaders, the evaluators and the rules recurse once or a few times per level; with this limit none
of them can reach Python's recursion limit (exemption files nest a few dozen levels at most).
Where it is checked: YAML, Bicep and HCL documents whole, when they are converted (their converters
recurse); JSON documents where they are read, the exemptions' values, in
``exemptlint.loaders.load_file`` (walking a whole parsed document would cost as much as parsing
it), and in the text when they are too deep for the parser; values that evaluation makes deeper
than their text (ARM, Bicep, Terraform) there too, counted from the exemption's properties.
"""

from __future__ import annotations

import re
from typing import Any

MAX_NESTING = 100
NESTING_MESSAGE = (
    f"objects and arrays are nested more than {MAX_NESTING} levels deep (the most exemptlint reads)"
)


class NestingError(Exception):
    """A container nested more than ``MAX_NESTING`` deep, at a 1-based line and column."""

    def __init__(self, line: int, column: int) -> None:
        super().__init__(NESTING_MESSAGE)
        self.message = NESTING_MESSAGE
        self.line = line
        self.column = column


_CONTAINERS = (dict, list)


def depth(value: Any, limit: int = MAX_NESTING) -> int:
    """How deep dicts and lists nest in ``value`` (``value`` itself, if a container, is level 1),
    counted up to ``limit + 1``. Iterative: it must work on values too deep to recurse into."""
    level: list[Any] = [value] if isinstance(value, _CONTAINERS) else []
    found = 0
    while level and found <= limit:
        found += 1
        below: list[Any] = []
        for container in level:
            items = container.values() if isinstance(container, dict) else container
            below.extend(item for item in items if isinstance(item, _CONTAINERS))
        level = below
    return found


def exceeds(value: Any, limit: int = MAX_NESTING) -> bool:
    """Whether dicts and lists in ``value`` nest more than ``limit`` deep."""
    return depth(value, limit) > limit


def first_too_deep(value: Any, limit: int = MAX_NESTING) -> tuple[str | int, ...] | None:
    """The path to the first container (in document order) nested more than ``limit`` deep."""
    if not isinstance(value, _CONTAINERS):
        return None
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        container, path = stack.pop()
        if len(path) >= limit:
            return path
        items = list(container.items()) if isinstance(container, dict) else list(enumerate(container))
        # Pushed in reverse, so that the first item is looked at first.
        for key, item in reversed(items):
            if isinstance(item, _CONTAINERS):
                stack.append((item, (*path, key)))
    return None


def tree_too_deep(root: Any, kinds: frozenset[str], limit: int = MAX_NESTING) -> Any:
    """The first node of a parse tree (lark: ``data``, ``children``) whose kind is in ``kinds``
    and that is nested more than ``limit`` deep in nodes of those kinds; None when none is."""
    stack: list[tuple[Any, int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if getattr(node, "data", None) in kinds:
            depth += 1
            if depth > limit:
                return node
        children = getattr(node, "children", None)
        if children:
            stack.extend((child, depth) for child in reversed(children))
    return None


# JSON and JSONC tokens that matter for nesting: strings and comments (skipped) and brackets.
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|//[^\n]*|/\*(?:[^*]|\*+[^*/])*\*+/|[\[\]{}]', re.DOTALL)


def json_too_deep(text: str, limit: int = MAX_NESTING) -> int | None:
    """The offset of the first bracket of JSON(C) text that opens level ``limit + 1`` (for text
    too deep to parse at all)."""
    depth = 0
    for token in _JSON_TOKEN.finditer(text):
        bracket = token.group(0)
        if bracket in ("{", "["):
            depth += 1
            if depth > limit:
                return token.start()
        elif bracket in ("}", "]"):
            depth -= 1
    return None


def line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset (lines end at LF)."""
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1
