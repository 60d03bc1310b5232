"""EL002: ``exemptionCategory`` is ``Waiver`` or ``Mitigated``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from exemptlint.model import Exemption, Level, Unresolved
from exemptlint.rules.api import Rule, RuleContext, Violation, not_known

CATEGORIES = ("Waiver", "Mitigated")


def check(exemption: Exemption, context: RuleContext, options: Any) -> Iterator[Violation]:
    value = exemption.exemption_category
    if isinstance(value, Unresolved):
        yield not_known("exemptionCategory", value)
        return
    if not isinstance(value, str):
        return  # absent or not a string: EL008 reports it
    if value in CATEGORIES:
        return
    canonical = next((c for c in CATEGORIES if c.lower() == value.lower()), None)
    if canonical is not None:
        yield Violation(
            f"exemptionCategory '{value}' should be spelled '{canonical}' (the API accepts any case; "
            "reports and queries compare the canonical spelling)",
            property="exemptionCategory",
            level=Level.WARNING,
        )
        return
    yield Violation(
        f"exemptionCategory '{value}' is not a category: use 'Waiver' (risk accepted) or 'Mitigated' "
        "(resolved by other means)",
        property="exemptionCategory",
    )


RULE = Rule(
    id="EL002",
    name="valid-category",
    level=Level.ERROR,
    summary="exemptionCategory is Waiver or Mitigated",
    check=check,
    security_severity=4.0,
)
