"""Runs rules over exemptions and turns violations into located findings.

The engine knows nothing about output formats or files on disk.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from exemptlint.model import Exemption, Finding, Level, PolicyAssignment, Position, Unresolved
from exemptlint.rules.api import Rule, RuleContext, Violation


@dataclass(frozen=True)
class LintSettings:
    today: datetime.date
    select: tuple[str, ...] | None = None  # rule ids or id prefixes; None: every rule
    ignore: tuple[str, ...] = ()
    levels: Mapping[str, Level] = field(default_factory=dict)
    # Rule id -> options object (an instance of the rule's options dataclass).
    options: Mapping[str, Any] = field(default_factory=dict)
    assignment_map: Mapping[str, str] = field(default_factory=dict)


def rule_enabled(rule_id: str, settings: LintSettings) -> bool:
    def matches(patterns: Iterable[str]) -> bool:
        return any(rule_id.upper().startswith(p.strip().upper()) for p in patterns if p.strip())

    if settings.select is not None and not matches(settings.select):
        return False
    return not matches(settings.ignore)


def lint(
    exemptions: Sequence[Exemption],
    assignments: Sequence[PolicyAssignment],
    settings: LintSettings,
    rules: Sequence[Rule],
    unresolved_rule_id: str = "EL009",
) -> list[Finding]:
    context = RuleContext(
        today=settings.today, assignments=list(assignments), assignment_map=settings.assignment_map
    )
    by_id = {rule.id: rule for rule in rules}
    active = [rule for rule in rules if rule_enabled(rule.id, settings)]
    report_unresolved = unresolved_rule_id in by_id and rule_enabled(unresolved_rule_id, settings)
    findings: list[Finding] = []
    for exemption in exemptions:
        # property -> (value, ids of the rules that needed it), one EL009 note per property.
        needed: dict[str, tuple[Unresolved, list[str]]] = {}
        for rule in active:
            options = settings.options.get(rule.id) or rule.default_options()
            for violation in rule.check(exemption, context, options):
                if violation.unresolved is not None:
                    prop = violation.property or "value"
                    entry = needed.setdefault(prop, (violation.unresolved, []))
                    if rule.id not in entry[1]:
                        entry[1].append(rule.id)
                    continue
                findings.append(_finding(rule, violation, exemption, settings))
        if report_unresolved:
            rule = by_id[unresolved_rule_id]
            for prop, (value, rule_ids) in needed.items():
                message = (
                    f"{prop} is not known statically: {value.expression} ({value.reason}); "
                    f"not checked by {', '.join(rule_ids)}"
                )
                findings.append(_finding(rule, Violation(message, property=prop), exemption, settings))
    findings.sort(key=Finding.sort_key)
    return findings


def _finding(rule: Rule, violation: Violation, exemption: Exemption, settings: LintSettings) -> Finding:
    configured = settings.levels.get(rule.id)
    level = violation.level or rule.level
    if configured is not None:
        # The configured level replaces the rule's level; a finding the rule already made
        # softer (EL005 "expires soon") is never made harsher than it.
        level = (
            configured
            if violation.level is None or configured.rank < violation.level.rank
            else violation.level
        )
    position = locate(exemption, violation.property)
    message = violation.message
    if exemption.source.context:
        message = f"{message} [{exemption.source.context}]"
    return Finding(
        rule_id=rule.id,
        rule_name=rule.name,
        level=level,
        message=message,
        file=exemption.source.file,
        line=position.line,
        column=position.column,
        exemption_name=exemption.label,
        property=violation.property,
    )


def locate(exemption: Exemption, prop: str | None) -> Position:
    """The property's position, else the properties object's, else the exemption's."""
    locator = exemption.source.locator
    if prop is not None:
        found = locator.property(prop)
        if found is not None:
            return found
    found = locator.property("properties")
    return found if found is not None else locator.exemption()
