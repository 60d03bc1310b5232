"""EL014: the exemption's scope is at or below the scope of its policy assignment.

An exemption works only where its assignment applies: the API rejects one whose scope is not at or
below the assignment's scope (unless ``assignmentScopeValidation`` is ``DoNotValidate``), and EPAC
leaves such an entry out when it deploys. The assignment's scope is the part of its id before
``/providers/Microsoft.Authorization/policyAssignments/``; an EPAC exemption that names an
assignment by name is judged against the assignments of that name in its environment (found in the
repository's EPAC assignment files). Subscriptions, resource groups and resources nest by their ids;
where subscriptions and management groups sit among management groups is known only from the
config ``management-groups``, EPAC's global settings and the management groups the scanned files
deploy (``exemptlint.hierarchy``): without it, no finding.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from exemptlint.hierarchy import Hierarchy, contains, node_of
from exemptlint.model import Exemption, Level, ScopeLevel, Unresolved, display_value
from exemptlint.rules import initiative
from exemptlint.rules.api import Rule, RuleContext, Violation, not_known
from exemptlint.scope import scope_level, scope_of_assignment_id


def check(exemption: Exemption, context: RuleContext, options: Any) -> Iterator[Violation]:
    scope = exemption.scope
    if exemption.partial_update or not isinstance(scope, str) or exemption.scope_level == ScopeLevel.UNKNOWN:
        return  # not known (EL007 and EL009 say so) or malformed (EL008)
    assignments = _assignment_scopes(exemption, context)
    if not assignments:
        return
    verdicts = [contains(assignment_scope, scope, context.hierarchy) for _, assignment_scope in assignments]
    if any(verdict is not False for verdict in verdicts):
        return  # at or below one of them, or not known
    validation = exemption.get("assignmentScopeValidation")
    if isinstance(validation, Unresolved):
        yield not_known("assignmentScopeValidation", validation)
        return
    assignment_id, assignment_scope = assignments[0]
    names = "" if len(assignments) == 1 else f" (and {len(assignments) - 1} more of that name)"
    how = _how(assignment_scope, scope, context.hierarchy)
    problem = (
        f"exemption scope '{scope.strip()}' is not at or below the scope '{assignment_scope}' of its "
        f"assignment '{assignment_id}'{names}{how}"
    )
    where = "scope" if exemption.source.locator.property("scope") is not None else "policyAssignmentId"
    if isinstance(validation, str) and validation.strip().lower() == "donotvalidate":
        yield Violation(
            f"{problem}; deployed only because assignmentScopeValidation is DoNotValidate (meant for a "
            "subscription moving between management groups): the exemption has no effect while the "
            "scope is outside the assignment",
            property=where,
            level=Level.NOTE,
        )
        return
    consequence = (
        "EPAC leaves the exemption out when it deploys"
        if exemption.source.format.startswith("epac")
        else "Azure rejects the exemption"
    )
    yield Violation(
        f"{problem}; {consequence}: exempt a scope the assignment applies to, or name the assignment "
        "that applies at this scope",
        property=where,
    )


def _assignment_scopes(exemption: Exemption, context: RuleContext) -> list[tuple[str, str]]:
    """(assignment id, its scope) of each assignment the exemption may name, all fully known;
    empty when one is not known."""
    value = exemption.policy_assignment_id
    if isinstance(value, str):
        if value.strip().lower().startswith(initiative.EPAC_SYNTHETIC_PREFIX):
            return []  # EPAC exempts a definition in the assignments that apply at the scope
        scope = scope_of_assignment_id(value)
        return [(value.strip(), scope)] if scope is not None and _known_level(scope) else []
    if isinstance(value, Unresolved):
        # An EPAC assignmentName: the assignments of that name in the exemption's environment.
        found: list[tuple[str, str]] = []
        for assignment in initiative.epac_assignments(exemption, context):
            scope = scope_of_assignment_id(assignment.id) if isinstance(assignment.id, str) else None
            if scope is None or not _known_level(scope):
                return []
            found.append((display_value(assignment.id), scope))
        return found
    return []


def _known_level(scope: str) -> bool:
    return scope_level(scope) != ScopeLevel.UNKNOWN


def _how(assignment_scope: str, scope: str, hierarchy: Hierarchy) -> str:
    """Why it is outside, when ids alone do not say: where the scope sits, and who says so."""
    if scope_level(assignment_scope) != ScopeLevel.MANAGEMENT_GROUP:
        return ""
    inner, outer = node_of(scope), node_of(assignment_scope)
    steps = [hierarchy.described(inner)] if inner is not None else []
    if outer is not None:
        # The assignment's group up to where it meets the scope's line: the rest is said already.
        steps.append(hierarchy.described(outer, hierarchy.ancestors(inner) if inner is not None else ()))
    described = "; ".join(step for step in steps if step)
    return f" ({described})" if described else ""


RULE = Rule(
    id="EL014",
    name="scope-outside-assignment",
    level=Level.ERROR,
    summary="The exemption's scope is at or below the scope of its policy assignment",
    check=check,
    security_severity=6.0,
)
