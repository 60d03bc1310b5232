"""EL015: no two exemptions of the run exempt the same thing.

Two exemptions are duplicates when they exempt the same policy assignment at the same scope and
one covers the other's ``policyDefinitionReferenceIds`` (an exemption without reference ids covers
every policy of the assignment) and ``resourceSelectors`` (none covers every resource). Ids are
compared case-insensitively, as Azure compares them, whatever file and format each comes from: a
Bicep exemption and an EPAC entry for the same assignment and scope are duplicates. A value that is
not known statically never makes a duplicate.

Only exemptions that deploy are compared. An EPAC file deploys when it lies below
``policyExemptions/<pacSelector>/`` and not in an export: EPAC reads no file directly in
``policyExemptions`` and none of the copies its export scripts write (``Output/...``,
``.../export/Definitions/...``), so an exported CSV beside the JSON it was exported from is not a
duplicate. An EPAC-format file outside such a layout is not deployed by EPAC either.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from exemptlint.dates import read_expiry
from exemptlint.hierarchy import contains
from exemptlint.model import Exemption, Level, ScopeLevel, Unresolved, contains_unresolved
from exemptlint.rules import initiative
from exemptlint.rules.api import Rule, RuleContext, Violation


@dataclass(frozen=True)
class _Key:
    # Lower-cased assignment id (or, for an EPAC entry that names a definition, its environment
    # and definition), and lower-cased scope: exemptions are compared only within one key.
    assignment: str
    scope: str


@dataclass(frozen=True)
class _Exempts:
    """What an exemption exempts at its key: reference ids (None: every policy) and resource
    selectors as canonical JSON (None: every resource)."""

    references: frozenset[str] | None
    selectors: str | None

    def covers(self, other: _Exempts) -> bool:
        references = self.references is None or (
            other.references is not None and other.references <= self.references
        )
        return references and (self.selectors is None or self.selectors == other.selectors)


def check(exemption: Exemption, context: RuleContext, options: Any) -> Iterator[Violation]:
    """Nothing to check on one exemption alone (the rule's documentation is this module's)."""
    return iter(())


def check_all(
    exemptions: Sequence[Exemption], context: RuleContext, options: Any
) -> Iterator[tuple[Exemption, Violation]]:
    groups: dict[_Key, list[tuple[Exemption, _Exempts]]] = {}
    for exemption in exemptions:
        found = _what(exemption, context)
        if found is not None:
            groups.setdefault(found[0], []).append((exemption, found[1]))
    for members in groups.values():
        if len(members) < 2:
            continue
        members.sort(key=lambda member: _order(member[0]))
        for index, (exemption, exempts) in enumerate(members):
            for earlier, earlier_exempts in members[:index]:
                if _same_deployment(exemption, earlier):
                    continue
                if earlier_exempts.covers(exempts) or exempts.covers(earlier_exempts):
                    yield exemption, _violation(exemption, exempts, earlier, earlier_exempts, context)
                    break


# A Terraform plan is its configuration evaluated: the same resources, not a second deployment.
_SAME_DEPLOYMENT = frozenset({"terraform", "terraform-plan"})


def _same_deployment(a: Exemption, b: Exemption) -> bool:
    formats = {a.source.format, b.source.format}
    return len(formats) == 2 and formats <= _SAME_DEPLOYMENT


def _order(exemption: Exemption) -> tuple[str, int, int, str]:
    position = _position(exemption)
    return (exemption.source.file, position[0], position[1], exemption.source.context or "")


def _position(exemption: Exemption) -> tuple[int, int]:
    locator = exemption.source.locator
    found = locator.property("name") or locator.exemption()
    return found.line, found.column


def _what(exemption: Exemption, context: RuleContext) -> tuple[_Key, _Exempts] | None:
    """The key and extent of an exemption that deploys and is fully known, else None."""
    if exemption.partial_update or exemption.source.format == "rest-example":
        return None  # a PATCH body; an API reference's recorded request, not something deployed
    if exemption.maybe_not_deployed:
        return None  # a condition, count or for_each not known statically decides
    place = exemption.source.epac
    if exemption.source.format.startswith("epac") and (place is None or not place.deployed):
        return None  # not a file EPAC deploys (an export, or outside policyExemptions/<pacSelector>/)
    scope = exemption.scope
    if not isinstance(scope, str) or exemption.scope_level == ScopeLevel.UNKNOWN:
        return None
    assignment = _assignment(exemption, scope, context)
    if assignment is None:
        return None
    references = exemption.policy_definition_reference_ids
    selectors = exemption.get("resourceSelectors")
    if contains_unresolved(references) or contains_unresolved(selectors):
        return None
    if references is None or references == []:
        referenced: frozenset[str] | None = None
    elif isinstance(references, list) and all(isinstance(r, str) for r in references):
        referenced = frozenset(r.strip().lower() for r in references)
    else:
        return None  # malformed (EL008)
    selected = None if selectors is None or selectors == [] else _canonical(selectors)
    return _Key(assignment, "/" + scope.strip().strip("/").lower()), _Exempts(referenced, selected)


def _canonical(value: Any) -> str:
    import json

    return json.dumps(value, sort_keys=True)


def _assignment(exemption: Exemption, scope: str, context: RuleContext) -> str | None:
    value = exemption.policy_assignment_id
    if isinstance(value, str) and value.strip():
        text = value.strip().rstrip("/").lower()
        if text.startswith(initiative.EPAC_SYNTHETIC_PREFIX):
            # EPAC exempts the definition in every assignment of the environment that applies at
            # the scope: the same definition named twice in one environment is a duplicate.
            place = exemption.source.epac
            environment = f"{place.root}|{(place.pac_selector or '').lower()}" if place else ""
            return f"{environment}|{text}"
        return text
    if isinstance(value, Unresolved):
        # An EPAC assignmentName: the one assignment of that name in the exemption's environment
        # whose scope holds the exemption's.
        ids = {
            assignment.id.rstrip("/").lower()
            for assignment in initiative.epac_assignments(exemption, context)
            if isinstance(assignment.id, str) and _applies(assignment.id, scope, context)
        }
        return next(iter(ids)) if len(ids) == 1 else None
    return None


def _applies(assignment_id: str, scope: str, context: RuleContext) -> bool:
    from exemptlint.scope import scope_of_assignment_id

    assignment_scope = scope_of_assignment_id(assignment_id)
    return assignment_scope is not None and contains(assignment_scope, scope, context.hierarchy) is True


def _violation(
    exemption: Exemption,
    exempts: _Exempts,
    earlier: Exemption,
    earlier_exempts: _Exempts,
    context: RuleContext,
) -> Violation:
    line, column = _position(earlier)
    where = f"{earlier.source.file}:{line}:{column}"
    if earlier.source.context:
        where += f" [{earlier.source.context}]"
    this, other = f"'{exemption.label}'", f"exemption '{earlier.label}' ({where})"
    same_name = (
        isinstance(exemption.name, str)
        and isinstance(earlier.name, str)
        and exemption.name.strip().lower() == earlier.name.strip().lower()
    )
    if exempts == earlier_exempts:
        what = (
            "the same assignment, scope and reference ids"
            if exempts.references
            else "the same assignment and scope"
        )
        message = f"exemption {this} exempts {what} as {other}"
        if same_name:
            message += ", under the same name: the one deployed last replaces the other"
    elif earlier_exempts.covers(exempts):
        message = (
            f"exemption {this} is covered by {other}, which exempts the same assignment at the same scope"
            f"{_wider(earlier_exempts, exempts)}"
        )
    else:
        message = (
            f"exemption {this} covers {other}: the same assignment at the same scope"
            f"{_wider(exempts, earlier_exempts)}"
        )
    return Violation(message + _later(exemption, earlier, context), property="name")


def _wider(wide: _Exempts, narrow: _Exempts) -> str:
    """How ``wide`` covers more than ``narrow``."""
    parts = []
    if wide.references is None and narrow.references is not None:
        parts.append("every policy")
    elif wide.references != narrow.references:
        parts.append("more reference ids")
    if wide.selectors is None and narrow.selectors is not None:
        parts.append("every resource (no resourceSelectors)")
    return f", for {' and '.join(parts)}" if parts else ""


def _later(exemption: Exemption, earlier: Exemption, context: RuleContext) -> str:
    """Which of the two expires later, when they differ and both are known."""
    mine, theirs = _expiry(exemption, context), _expiry(earlier, context)
    if mine is _UNKNOWN or theirs is _UNKNOWN or mine == theirs:
        return ""
    if mine is None:
        return f"; '{exemption.label}' never expires ('{earlier.label}' expires on {theirs})"
    if theirs is None:
        return f"; '{earlier.label}' never expires ('{exemption.label}' expires on {mine})"
    later, date, sooner, other_date = (
        (exemption, mine, earlier, theirs) if str(mine) > str(theirs) else (earlier, theirs, exemption, mine)
    )
    return f"; '{later.label}' expires later ({date}, '{sooner.label}' on {other_date})"


_UNKNOWN = object()


def _expiry(exemption: Exemption, context: RuleContext) -> Any:
    """The expiry date (ISO text), None for an exemption that never expires, _UNKNOWN otherwise."""
    value = exemption.expires_on
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        return _UNKNOWN
    date = read_expiry(value, exemption.source.format, context.epac_date_order).utc_date
    return _UNKNOWN if date is None else date.isoformat()


RULE = Rule(
    id="EL015",
    name="duplicate-exemption",
    level=Level.WARNING,
    summary="No two exemptions of the run exempt the same assignment, scope and reference ids",
    check=check,
    check_all=check_all,
    security_severity=3.0,
)
