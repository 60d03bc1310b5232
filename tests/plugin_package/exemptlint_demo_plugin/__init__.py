"""Demo plugin rules, written against the same API as the built-in rules."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from exemptlint.model import Exemption, Level
from exemptlint.rules.api import Rule, RuleContext, Violation, no_check


@dataclass(frozen=True)
class PrefixOptions:
    prefix: str = "APP-"


def check_prefix(exemption: Exemption, context: RuleContext, options: PrefixOptions) -> Iterator[Violation]:
    name = exemption.display_name
    if isinstance(name, str) and not name.startswith(options.prefix):
        yield Violation(
            f"displayName '{name}' does not start with '{options.prefix}'", property="displayName"
        )


def check_unique_names(
    exemptions: Sequence[Exemption], context: RuleContext, options: None
) -> Iterator[tuple[Exemption, Violation]]:
    seen: dict[str, Exemption] = {}
    for exemption in exemptions:
        name = exemption.display_name
        if not isinstance(name, str):
            continue
        if name in seen:
            yield (
                exemption,
                Violation(
                    f"displayName '{name}' is also used by exemption '{seen[name].label}'",
                    property="displayName",
                ),
            )
        else:
            seen[name] = exemption


RULES = [
    Rule(
        id="DEMO001",
        name="display-name-prefix",
        level=Level.WARNING,
        summary="displayName starts with the team prefix",
        check=check_prefix,
        options=PrefixOptions,
        tags=("policy",),
    ),
    Rule(
        id="DEMO002",
        name="unique-display-name",
        level=Level.ERROR,
        summary="no two exemptions share a displayName",
        check=no_check,
        check_all=check_unique_names,
        tags=("policy",),
    ),
]
