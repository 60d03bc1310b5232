"""EL001: the exemption must be on an initiative that Defender for Cloud honours."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from exemptlint.model import Exemption, Level
from exemptlint.rules import initiative
from exemptlint.rules.api import Rule, RuleContext, Violation, not_known


@dataclass(frozen=True)
class Options:
    # More initiatives (ids or names) to accept, e.g. the preview Microsoft cloud security
    # benchmark v2 (e3ec7e09-768c-4b64-882c-fcada3772047), whose category is "Security Center".
    extra_eligible_initiatives: tuple[str, ...] = ()


def _name(definition_id: str) -> str:
    return definition_id.rstrip("/").rsplit("/", 1)[-1].lower()


def check(exemption: Exemption, context: RuleContext, options: Options) -> Iterator[Violation]:
    resolution = initiative.resolve(exemption, context)
    if resolution.kind == "ineligible":
        accepted = {_name(d) for d in options.extra_eligible_initiatives}
        if resolution.definition is not None and _name(resolution.definition) in accepted:
            return
        yield Violation(resolution.message, property="policyAssignmentId")
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
