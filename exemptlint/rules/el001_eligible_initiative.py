"""EL001: the exemption must be on an initiative that Defender for Cloud honours."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from exemptlint.model import Exemption, Level
from exemptlint.rules import initiative
from exemptlint.rules.api import Rule, RuleContext, Violation, not_known


@dataclass(frozen=True)
class Options:
    # Initiatives (ids or names) to accept besides those the catalog marks as honoured (the
    # default benchmark in every version, every built-in regulatory compliance initiative).
    extra_eligible_initiatives: tuple[str, ...] = ()
    # Initiatives (ids or names) not to accept although the catalog marks them as honoured (for
    # example a preview benchmark the team does not use). Wins over extra-eligible-initiatives.
    ineligible_initiatives: tuple[str, ...] = ()


def check(exemption: Exemption, context: RuleContext, options: Options) -> Iterator[Violation]:
    resolution = initiative.resolve(exemption, context)
    verdict = initiative.judge(
        resolution, context.catalog, options.extra_eligible_initiatives, options.ineligible_initiatives
    )
    # The JSON report says which honoured initiatives an eligible exemption is about.
    exemption.honoured_initiatives = verdict.honoured if verdict is not None and verdict.eligible else None
    if verdict is not None and not verdict.eligible:
        yield Violation(verdict.message, property="policyAssignmentId")
    elif resolution.kind == "unresolved" and resolution.unresolved is not None:
        yield not_known("policyAssignmentId", resolution.unresolved)


RULE = Rule(
    id="EL001",
    name="eligible-initiative",
    level=Level.ERROR,
    summary="The exempted assignment is of the Microsoft cloud security benchmark or a built-in "
    "regulatory compliance initiative",
    check=check,
    options=Options,
    security_severity=7.0,
)
