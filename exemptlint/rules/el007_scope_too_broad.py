"""EL007: the exemption's scope is not broader than it needs to be."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from exemptlint.model import Exemption, Level, ScopeLevel, Unresolved
from exemptlint.rules import initiative
from exemptlint.rules.api import Rule, RuleContext, Violation, not_known

ScopeName = Literal["tenant", "managementGroup", "subscription", "resourceGroup", "resource"]
NARROW_LEVELS: tuple[ScopeName, ...] = ("subscription", "resourceGroup", "resource")
_WHY = {
    ScopeLevel.TENANT: "the whole tenant",
    ScopeLevel.MANAGEMENT_GROUP: "every subscription below the management group",
    ScopeLevel.SUBSCRIPTION: "every resource in the subscription",
    ScopeLevel.RESOURCE_GROUP: "every resource in the resource group",
    ScopeLevel.RESOURCE: "the resource",
}


@dataclass(frozen=True)
class Options:
    # Scope levels allowed per category; "*" applies to categories not listed.
    allowed_levels: dict[str, list[ScopeName]] = field(default_factory=lambda: {"*": list(NARROW_LEVELS)})
    # Warn when a subscription-wide exemption exempts the whole initiative.
    warn_whole_initiative_at_subscription: bool = True


def check(exemption: Exemption, context: RuleContext, options: Options) -> Iterator[Violation]:
    level = exemption.scope_level
    if level == ScopeLevel.UNKNOWN:
        if isinstance(exemption.scope, Unresolved):
            yield not_known("scope", exemption.scope)
        return  # no scope, or a malformed one (EL008)
    category = exemption.exemption_category
    allowed: list[ScopeName] = options.allowed_levels.get("*", list(NARROW_LEVELS))
    if isinstance(category, str):
        for name, levels in options.allowed_levels.items():
            if name.lower() == category.strip().lower():
                allowed = levels
    if level.value not in allowed:
        yield Violation(
            f"exemption '{exemption.label}' is at {level.value} scope and hides the finding for "
            f"{_WHY[level]}; exempt the affected subscriptions, resource groups or resources instead "
            f"(allowed here: {', '.join(allowed) or 'none'})",
            # Without a scope property, the exemption deploys where its template does: point at its name.
            property="scope" if exemption.source.locator.property("scope") else "name",
        )
        return
    if level == ScopeLevel.SUBSCRIPTION and options.warn_whole_initiative_at_subscription:
        # Only an assignment known to assign an initiative has reference ids to list: one of a
        # single policy (or an EPAC exemption naming a definition) exempts one policy, and one whose
        # definition is not known (EL010, EL009) may be either.
        if not initiative.exempts_initiative(exemption, context):
            return
        ids = exemption.policy_definition_reference_ids
        if isinstance(ids, Unresolved):
            yield not_known("policyDefinitionReferenceIds", ids)
            return
        if not ids:
            # Name the initiative when it is known (a reviewer sees what "every policy" means).
            from exemptlint.rules import members

            known = members.known_set(exemption, context)
            what = f"'{known.shown}'" if known is not None else "the initiative"
            yield Violation(
                f"exemption '{exemption.label}' exempts every policy of {what} for a whole "
                "subscription; list the policyDefinitionReferenceIds it is about",
                property="policyDefinitionReferenceIds"
                if exemption.has("policyDefinitionReferenceIds")
                else None,
                level=Level.WARNING,
            )


RULE = Rule(
    id="EL007",
    name="scope-too-broad",
    level=Level.ERROR,
    summary="Not at tenant or management-group scope; warns on whole-initiative subscription exemptions",
    check=check,
    options=Options,
    security_severity=7.5,
)
