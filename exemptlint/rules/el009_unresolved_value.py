"""EL009: a property a rule needed could not be evaluated statically.

The check itself yields nothing: other rules report what they could not check (see
``not_known``) and the engine gathers those into one EL009 note per property.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from exemptlint.model import Exemption, Level
from exemptlint.rules.api import Rule, RuleContext, Violation


def check(exemption: Exemption, context: RuleContext, options: Any) -> Iterator[Violation]:
    return iter(())


RULE = Rule(
    id="EL009",
    name="unresolved-value",
    level=Level.NOTE,
    summary="A property a rule needed could not be evaluated statically, so it was not checked",
    check=check,
    tags=("maintainability",),
    security_severity=1.0,
)
