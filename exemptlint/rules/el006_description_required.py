"""EL006: a meaningful ``description`` (and a ``displayName``) says why the exemption exists."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from exemptlint.model import Exemption, Level, Unresolved
from exemptlint.rules.api import Rule, RuleContext, Violation, not_known

PLACEHOLDERS = (
    "todo",
    "tbd",
    "tbc",
    "n/a",
    "na",
    "none",
    "null",
    "-",
    "...",
    "test",
    "testing",
    "xxx",
    "description",
    "more details",
    "placeholder",
    "lorem ipsum",
    "to be defined",
    "to be determined",
    "fill in",
    "fill me in",
    "my description",
    "approved",
)
_TRIM = re.compile(r"^[\s.,;:!?*_\-]+|[\s.,;:!?*_\-]+$")


@dataclass(frozen=True)
class Options:
    min_length: int = 20
    placeholders: tuple[str, ...] = PLACEHOLDERS


@functools.lru_cache(maxsize=16)
def _normalized_set(placeholders: tuple[str, ...]) -> frozenset[str]:
    return frozenset(_normalized(p) for p in placeholders)


def _normalized(text: str) -> str:
    return " ".join(_TRIM.sub("", text).lower().split())


def check(exemption: Exemption, context: RuleContext, options: Options) -> Iterator[Violation]:
    if exemption.partial_update:
        return
    display_name = exemption.display_name
    if isinstance(display_name, Unresolved):
        yield not_known("displayName", display_name)
    elif not (isinstance(display_name, str) and display_name.strip()):
        yield Violation(
            f"exemption '{exemption.label}' has no displayName; the portal and reports show it",
            property="displayName" if exemption.has("displayName") else None,
        )
    description = exemption.description
    if isinstance(description, Unresolved):
        yield not_known("description", description)
        return
    where = "description" if exemption.has("description") else None
    if not (isinstance(description, str) and description.strip()):
        yield Violation(
            f"exemption '{exemption.label}' has no description: "
            "say why the risk is accepted or how it is mitigated",
            property=where,
        )
        return
    text = description.strip()
    normalized = _normalized(text)
    placeholders = _normalized_set(tuple(options.placeholders))
    if normalized in placeholders or normalized == "":
        yield Violation(f"description '{text}' is a placeholder, not a reason", property=where)
        return
    if isinstance(display_name, str) and normalized == _normalized(display_name):
        yield Violation(
            "description only repeats the displayName; say why the exemption is needed", property=where
        )
        return
    if len(text) < options.min_length:
        yield Violation(
            f"description is {len(text)} characters; at least {options.min_length} are needed to explain "
            "the exemption",
            property=where,
        )


RULE = Rule(
    id="EL006",
    name="description-required",
    level=Level.ERROR,
    summary="description is present, meaningful and at least min-length characters; displayName is present",
    check=check,
    options=Options,
    security_severity=3.0,
)
