"""EL010: EL001 could not tell which initiative the exempted assignment assigns."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from exemptlint.model import Exemption, Level
from exemptlint.rules import initiative
from exemptlint.rules.api import Rule, RuleContext, Violation


def check(exemption: Exemption, context: RuleContext, options: Any) -> Iterator[Violation]:
    resolution = initiative.resolve(exemption, context)
    if resolution.kind == "unknown":
        yield Violation(resolution.message, property="policyAssignmentId")


RULE = Rule(
    id="EL010",
    name="unverifiable-initiative",
    level=Level.WARNING,
    summary="EL001 could not resolve the exempted assignment to an initiative",
    check=check,
    security_severity=3.0,
)
