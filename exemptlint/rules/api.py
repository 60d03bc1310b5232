"""The rule API: what a rule declares and what its check function receives and yields.

A rule is a module-level ``RULE = Rule(...)`` whose ``check(exemption, context, options)``
yields ``Violation`` objects. The built-in rules use exactly this API.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from exemptlint.hierarchy import Hierarchy
from exemptlint.model import (
    Exemption,
    Level,
    PolicyAssignment,
    Position,
    SetDefinition,
    Unresolved,
    contains_unresolved,
)

if TYPE_CHECKING:
    from exemptlint.catalog import Catalog

DOCS_BASE = "https://github.com/exemptlint/exemptlint/blob/main/docs/rules"


@dataclass(frozen=True)
class Violation:
    """One problem a rule found in one exemption.

    ``property`` names the property the problem is about (for its position); ``level``
    overrides the rule's level for this violation. A violation with ``unresolved`` set says the
    rule could not check ``property`` because its value is not known statically: the engine
    reports it under EL009. ``position``, when set, is where the finding points instead of
    ``property``'s position.
    """

    message: str
    property: str | None = None
    level: Level | None = None
    unresolved: Unresolved | None = None
    position: Position | None = None


def not_known(prop: str, value: Unresolved) -> Violation:
    return Violation(message="", property=prop, unresolved=value)


def first_unresolved(value: Any) -> Unresolved | None:
    if isinstance(value, Unresolved):
        return value
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        for item in value:
            found = first_unresolved(item)
            if found is not None:
                return found
    return None


@dataclass
class RuleContext:
    """What rules may know besides the exemption itself; shared by all rules in a run."""

    today: datetime.date
    assignments: list[PolicyAssignment] = field(default_factory=list)
    # Config ``assignments``: assignment id or name -> policy (set) definition id.
    assignment_map: Mapping[str, str] = field(default_factory=dict)
    # Results that several rules share (EL001 and EL010 resolve the same assignment).
    memo: dict[Any, Any] = field(default_factory=dict)
    # Results about ``assignments`` as a whole (the index EL001 looks them up in): contexts with
    # the same assignments may share it.
    assignment_memo: dict[Any, Any] = field(default_factory=dict)
    # Config ``epac.date-order``: how EPAC culture dates are read (None: both orders, see dates.py).
    epac_date_order: str | None = None
    # Where management groups and subscriptions sit, as far as the config and the files tell.
    hierarchy: Hierarchy = field(default_factory=Hierarchy.empty)
    # Policy set definitions defined in the scanned files (EL012 checks reference ids against them).
    set_definitions: list[SetDefinition] = field(default_factory=list)
    # ``--catalog`` / config ``catalog``: a catalog file used instead of the packaged catalog.
    catalog_file: str | None = None

    @property
    def catalog(self) -> Catalog:
        if self.catalog_file is not None:
            from exemptlint.catalog_file import load_catalog_file

            return load_catalog_file(self.catalog_file)
        from exemptlint.catalog import load_catalog

        return load_catalog()


CheckFunction = Callable[[Exemption, RuleContext, Any], Iterable[Violation]]
# A cross-exemption check: called once with every exemption of the run; yields (exemption, violation).
CheckAllFunction = Callable[[Sequence[Exemption], RuleContext, Any], Iterable[tuple[Exemption, Violation]]]


def no_check(exemption: Exemption, context: RuleContext, options: Any) -> Iterable[Violation]:
    """The per-exemption check of a rule that only has ``check_all``."""
    return ()


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    level: Level
    summary: str
    check: CheckFunction
    # A dataclass whose fields are the rule's options, with their defaults.
    options: type | None = None
    tags: tuple[str, ...] = ("security",)
    # How code-scanning dashboards rank it (0.0-10.0, GitHub's "security-severity").
    security_severity: float = 5.0
    # Longer documentation (Markdown); built-in rules are documented by their module docstring.
    help: str | None = None
    # Where the rule is documented; built-in rules: docs/rules/ID.md.
    help_url: str | None = None
    # Cross-exemption rules: called once per run, after (or instead of) ``check``.
    check_all: CheckAllFunction | None = None
    # Where the rule comes from: "built-in", "rule pack FILE", "rules-dir FILE", "entry point NAME".
    origin: str = "built-in"

    @property
    def help_uri(self) -> str:
        if self.help_url is not None:
            return self.help_url
        return f"{DOCS_BASE}/{self.id}.md" if self.origin == "built-in" else ""

    def default_options(self) -> Any:
        return self.options() if self.options is not None else None


__all__ = [
    "CheckAllFunction",
    "CheckFunction",
    "Rule",
    "RuleContext",
    "Violation",
    "contains_unresolved",
    "first_unresolved",
    "no_check",
    "not_known",
]
