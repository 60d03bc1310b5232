"""The normalized model: one ``Exemption`` per exemption found, whatever the source format.

Loaders build these objects; rules read them; reporters print findings. Nothing here knows
about a file format or an output format.
"""

from __future__ import annotations

from collections.abc import Sequence, Set
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, NamedTuple, Protocol

EXEMPTION_TYPE = "Microsoft.Authorization/policyExemptions"
ASSIGNMENT_TYPE = "Microsoft.Authorization/policyAssignments"
SET_DEFINITION_TYPE = "Microsoft.Authorization/policySetDefinitions"
MANAGEMENT_GROUP_TYPE = "Microsoft.Management/managementGroups"
# A subscription placed in a management group (name "GROUP/SUBSCRIPTION-ID").
MANAGEMENT_GROUP_SUBSCRIPTION_TYPE = "Microsoft.Management/managementGroups/subscriptions"
MANAGEMENT_GROUP_PREFIX = "/providers/Microsoft.Management/managementGroups/"

# The properties of a policy exemption, in their canonical spelling (ARM matches names
# case-insensitively, so loaders map ``ExemptionCategory`` to ``exemptionCategory``).
PROPERTY_NAMES: tuple[str, ...] = (
    "policyAssignmentId",
    "policyDefinitionReferenceIds",
    "exemptionCategory",
    "expiresOn",
    "displayName",
    "description",
    "metadata",
    "assignmentScopeValidation",
    "resourceSelectors",
    "exemptionManagementMode",
)
CANONICAL_PROPERTY = {name.lower(): name for name in PROPERTY_NAMES}


class Unresolved:
    """A value that could not be evaluated statically.

    ``expression`` is the text as written (an ARM expression, a placeholder such as
    ``{subId}``); ``reason`` says why it could not be evaluated; ``partial`` is a best-effort
    rendering in which only the unknown parts are replaced by ``{...}``. The partial form keeps
    structure that rules may still rely on (``/subscriptions/{...}/resourceGroups/rg`` is still a
    resource-group scope) but is never treated as the value itself.
    """

    __slots__ = ("expression", "partial", "reason")

    def __init__(self, expression: str, reason: str, partial: str | None = None) -> None:
        self.expression = expression
        self.reason = reason
        self.partial = partial

    def __repr__(self) -> str:
        return f"Unresolved({self.expression!r}, {self.reason!r}, partial={self.partial!r})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Unresolved)
            and other.expression == self.expression
            and other.reason == self.reason
            and other.partial == self.partial
        )

    def __hash__(self) -> int:
        return hash((self.expression, self.reason, self.partial))

    def to_json(self) -> dict[str, Any]:
        return {"unresolved": self.expression, "reason": self.reason, "partial": self.partial}


def contains_unresolved(value: Any) -> bool:
    """True when the value is, or holds anywhere inside it, an ``Unresolved``."""
    if isinstance(value, Unresolved):
        return True
    if isinstance(value, dict):
        return any(contains_unresolved(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_unresolved(v) for v in value)
    return False


def display_value(value: Any) -> str:
    """A short human rendering of a value that may be unresolved."""
    if isinstance(value, Unresolved):
        return value.partial if value.partial is not None else value.expression
    return str(value)


def to_plain_json(value: Any) -> Any:
    """The value with every ``Unresolved`` replaced by its JSON description."""
    if isinstance(value, Unresolved):
        return value.to_json()
    if isinstance(value, dict):
        return {k: to_plain_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain_json(v) for v in value]
    return value


class ScopeLevel(str, Enum):
    TENANT = "tenant"
    MANAGEMENT_GROUP = "managementGroup"
    SUBSCRIPTION = "subscription"
    RESOURCE_GROUP = "resourceGroup"
    RESOURCE = "resource"
    UNKNOWN = "unknown"


class Level(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "note": 1}[self.value]


@dataclass(frozen=True, slots=True)
class Position:
    """A 1-based line and column (columns count characters), and how many characters the
    token that starts there spans on that line (for SARIF regions)."""

    line: int
    column: int
    length: int = field(default=1, compare=False)

    @property
    def end_column(self) -> int:
        """The column just after the token (SARIF's exclusive endColumn)."""
        return self.column + max(self.length, 1)


class Locator(Protocol):
    """Finds where things are in the source file; called only for what findings point at."""

    def exemption(self) -> Position: ...

    def property(self, name: str) -> Position | None:
        """Where property ``name`` (canonical spelling, or ``name``/``scope``) is written."""
        ...


class FixedLocator:
    """A locator for sources whose positions are known up front.

    Positions are kept as plain tuples: worker processes send many of these locators to the
    parent, and tuples pickle far faster than dataclass instances.
    """

    def __init__(self, exemption: Position, properties: dict[str, Position] | None = None) -> None:
        self._exemption = (exemption.line, exemption.column, exemption.length)
        self._properties = {
            name: (found.line, found.column, found.length) for name, found in (properties or {}).items()
        }

    def exemption(self) -> Position:
        return Position(*self._exemption)

    def property(self, name: str) -> Position | None:
        found = self._properties.get(name)
        return None if found is None else Position(*found)


@dataclass(frozen=True, slots=True)
class Directive:
    """A comment ``// exemptlint-disable-next-line EL007 -- reason`` on ``line``: it suppresses
    the named rules on ``target_line`` (the next line that is not blank or only a comment)."""

    line: int
    column: int
    target_line: int
    rules: tuple[str, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class EpacPlace:
    """An exemption or assignment file's place in an EPAC repository.

    ``root`` is the definitions folder (an absolute POSIX path, so that files named from different
    working directories agree); ``pac_selector`` the environment folder below ``policyExemptions``
    (None for a file directly in it, and for assignment files, whose environments are the keys of
    their ``scope``); ``deployed`` whether EPAC deploys the exemptions of the file.
    """

    root: str
    pac_selector: str | None
    deployed: bool


@dataclass(frozen=True, slots=True)
class DuplicateKey:
    """A key written twice in one object of an exemption (its resource object, its properties, an
    EPAC entry, a CSV header, a Terraform block): exactly, or differing only in case (ARM matches
    property names case-insensitively). Loaders find these; EL008 reports them."""

    first: str
    first_at: Position
    second: str
    second_at: Position
    # The object the keys are in ("properties"; "" for the exemption's own object).
    container: str = ""
    # What the file calls a key: "key", "property", "column", "argument".
    kind: str = "key"


@dataclass(slots=True)
class Source:
    """Where an exemption came from."""

    file: str
    format: str
    locator: Locator
    # Free text that tells several exemptions from one place apart ("copyIndex() = 2").
    context: str | None = None
    # Suppression comments in the file (shared by every exemption of the file).
    directives: tuple[Directive, ...] = ()
    # Keys written twice in the exemption's objects (almost always none).
    duplicates: tuple[DuplicateKey, ...] = ()
    # An EPAC exemption file's place in its repository (environment, whether EPAC deploys it).
    epac: EpacPlace | None = None


# What loaders add to the context of an exemption that is deployed only if something not known
# statically holds: an ARM or Bicep condition, a Terraform count or for_each.
CONDITIONAL_CONTEXTS = ("deployed only if its condition holds", "(not known statically)")


class Recommendation(NamedTuple):
    """A policy definition an exemption exempts (a recommendation in Defender for Cloud): the
    reference id that names it in the initiative (None when the exemption names the definition
    itself), and what the catalog knows of it (None when it does not know). A NamedTuple, not a
    dataclass: defining one costs a tenth as much on the start-up path."""

    reference_id: str | None
    policy_definition_id: str | None
    display_name: str | None
    # False for a reference id the initiative does not have (EL012 reports it).
    in_initiative: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "referenceId": self.reference_id,
            "policyDefinitionId": self.policy_definition_id,
            "displayName": self.display_name,
            "inInitiative": self.in_initiative,
        }


@dataclass(slots=True)
class Exemption:
    """One policy exemption, normalized.

    ``properties`` holds the exemption's properties as written, known names in canonical
    spelling and unknown ones as they were spelled; values may be (or hold) ``Unresolved``.
    A property that is absent is not a key; a property written as ``null`` maps to ``None``.
    ``scope_level`` is the level of ``scope``, unless the resource type fixes the level (Terraform's
    ``azurerm_*_policy_exemption``): then a ``scope`` of another level is an EL008 error.
    """

    name: Any
    scope: Any
    scope_level: ScopeLevel
    properties: dict[str, Any]
    source: Source
    # A PATCH body or other partial update: required properties are not expected.
    partial_update: bool = False
    api_version: str | None = None
    # Set by EL001 when Defender for Cloud honours the exemption: the initiatives (display names)
    # whose policies it exempts. The JSON report shows it; None when EL001 did not find it eligible.
    honoured_initiatives: tuple[str, ...] | None = None
    # Set by EL012: the policy definitions the exemption names (its reference ids, or the one
    # definition an EPAC exemption names), with what the catalog knows of each. None when EL012
    # did not run or the exempted initiative's members are not known.
    recommendations: tuple[Recommendation, ...] | None = None

    def get(self, name: str) -> Any:
        return self.properties.get(name)

    def has(self, name: str) -> bool:
        return name in self.properties

    @property
    def policy_assignment_id(self) -> Any:
        return self.properties.get("policyAssignmentId")

    @property
    def policy_definition_reference_ids(self) -> Any:
        return self.properties.get("policyDefinitionReferenceIds")

    @property
    def exemption_category(self) -> Any:
        return self.properties.get("exemptionCategory")

    @property
    def expires_on(self) -> Any:
        return self.properties.get("expiresOn")

    @property
    def display_name(self) -> Any:
        return self.properties.get("displayName")

    @property
    def description(self) -> Any:
        return self.properties.get("description")

    @property
    def metadata(self) -> Any:
        return self.properties.get("metadata")

    @property
    def maybe_not_deployed(self) -> bool:
        """Whether the exemption is deployed only if a condition not known statically holds."""
        context = self.source.context
        return context is not None and any(marker in context for marker in CONDITIONAL_CONTEXTS)

    @property
    def label(self) -> str:
        """The name for messages, even when it is unresolved."""
        if self.name is None:
            return "(unnamed)"
        return display_value(self.name)

    def to_json(self) -> dict[str, Any]:
        """The documented JSON shape of an exemption (see docs/json-output.md)."""
        position = self.source.locator.exemption()
        locations: dict[str, dict[str, int]] = {}
        for key in ("name", "scope", *self.properties):
            found = self.source.locator.property(key)
            if found is not None:
                locations[key] = {"line": found.line, "column": found.column}
        return {
            "name": to_plain_json(self.name),
            "scope": to_plain_json(self.scope),
            "scopeLevel": self.scope_level.value,
            "properties": to_plain_json(self.properties),
            "partialUpdate": self.partial_update,
            "apiVersion": self.api_version,
            "honouredInitiatives": None
            if self.honoured_initiatives is None
            else list(self.honoured_initiatives),
            "recommendations": None
            if self.recommendations is None
            else [recommendation.to_json() for recommendation in self.recommendations],
            "source": {
                "file": self.source.file,
                "format": self.source.format,
                "line": position.line,
                "column": position.column,
                "context": self.source.context,
                "properties": locations,
            },
        }


@dataclass(slots=True)
class PolicyAssignment:
    """A policy assignment defined in a scanned file; it tells EL001 what an exemption exempts."""

    id: Any
    name: Any
    policy_definition_id: Any
    source: Source
    # An assignment from an EPAC assignment file: its definitions folder and environment.
    epac: EpacPlace | None = None


class SetDefinition(NamedTuple):
    """A policy set definition (an initiative) defined in a scanned file: EL012 checks the
    reference ids of an exemption whose assignment assigns it against its members.

    ``members`` holds the ``(policyDefinitionReferenceId, policyDefinitionId)`` of each member as
    evaluated (either may be None when absent, or ``Unresolved``); None when the member list is
    not known statically (an expression, a loop). ``id`` is None when the file does not give it
    (it depends on where the definition is deployed). A NamedTuple, as ``Recommendation``."""

    id: Any
    name: Any
    display_name: Any
    members: list[tuple[Any, Any]] | None
    source: Source


class Placement(NamedTuple):
    """Where a management group or a subscription sits among management groups, as a scanned file
    deploys it (a management-group resource, or a subscription placed in one): EL014 needs it to
    tell whether a scope is below a management group.

    ``child`` is the id of the management group (``/providers/Microsoft.Management/
    managementGroups/NAME``) or subscription (``/subscriptions/ID``) placed; ``parent`` the id or
    name of its parent management group, None when the resource names none (Azure then puts a
    management group under the tenant root group), either ``Unresolved`` when not known
    statically. A NamedTuple, as ``SetDefinition``."""

    child: Any
    parent: Any
    source: Source


@dataclass(frozen=True, slots=True)
class LoadError:
    """A file that could not be read or parsed; reported with exit code 2."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: error: {self.message}"


@dataclass(frozen=True, slots=True)
class LoadNote:
    """Something a loader found at a place, not tied to one exemption: by default what it could
    not follow (a Bicep module from a registry, say), reported as an EL009 note; with another
    ``rule_id``, a problem of the template itself that the rule reports at its own level (a copy
    count ARM rejects is an EL008 error)."""

    file: str
    line: int
    column: int
    message: str
    rule_id: str = "EL009"


@dataclass(frozen=True, slots=True)
class Skipped:
    """A resource, nested deployment or module that is not deployed with the values known (its
    condition is false, its loop has no items), so nothing in it is linted. Kept so that the
    report can say so: leaving it out without a word would be silent loss.

    ``line``/``column`` point at the condition (or count, or loop) as written; ``resource`` says
    what is skipped (its type and name, or the module); ``condition`` is the text that decided;
    ``reason`` why it counts as not deployed; ``context`` as for exemptions (copy index, module).
    """

    file: str
    line: int
    column: int
    resource: str
    condition: str
    reason: str
    context: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "resource": self.resource,
            "condition": self.condition,
            "reason": self.reason,
            "context": self.context,
        }


@dataclass(slots=True)
class LoadResult:
    exemptions: list[Exemption] = field(default_factory=list)
    assignments: list[PolicyAssignment] = field(default_factory=list)
    # Policy set definitions defined in the file (EL012 checks reference ids against them).
    set_definitions: list[SetDefinition] = field(default_factory=list)
    # Management groups and subscriptions the file places among management groups (EL014).
    placements: list[Placement] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)
    notes: list[LoadNote] = field(default_factory=list)
    # Files (display paths) that at least one deployed module instance of this load followed:
    # linted through it, not on their own. A module whose every instance is skipped is not here.
    followed: set[str] = field(default_factory=set)
    # What is not deployed with the values known, and so not linted.
    skipped: list[Skipped] = field(default_factory=list)

    def extend(self, other: LoadResult) -> None:
        self.exemptions.extend(other.exemptions)
        self.assignments.extend(other.assignments)
        self.set_definitions.extend(other.set_definitions)
        self.placements.extend(other.placements)
        self.errors.extend(other.errors)
        self.notes.extend(other.notes)
        self.followed |= other.followed
        self.skipped.extend(other.skipped)


def standalone_loads(loads: Sequence[tuple[str, Set[str]]]) -> set[str]:
    """Which of the files loaded on their own (``(file, files its load followed)``, in order)
    are linted as loaded; the others are linted through a file that follows them.

    A file is linted through another only when a load that is itself linted follows it. Files
    that nothing left follows are kept first, and what they follow is covered; this repeats on
    what is left (a file followed only by loads that are not linted, because they are linted
    through a caller in whose context this file is not deployed). A cycle with no such file
    keeps its first file in order. So a module reached only through instances that are not
    deployed is linted on its own, and nothing is linted twice through nested callers.
    """
    kept: set[str] = set()
    covered: set[str] = set()
    remaining = list(loads)
    while True:
        done = covered | kept
        remaining = [(file, followed) for file, followed in remaining if file not in done]
        if not remaining:
            return kept
        reached = {other for file, followed in remaining for other in followed if other != file}
        roots = [(file, followed) for file, followed in remaining if file not in reached] or remaining[:1]
        for file, followed in roots:
            kept.add(file)
            covered |= followed


@dataclass(frozen=True, slots=True)
class Suppression:
    """Why a finding does not count: ``inSource`` (metadata or a comment in the file) or
    ``external`` (a baseline file), with the justification given."""

    kind: str
    justification: str


@dataclass(slots=True)
class Finding:
    rule_id: str
    rule_name: str
    level: Level
    message: str
    file: str
    line: int
    column: int
    exemption_name: str | None = None
    property: str | None = None
    end_column: int | None = None
    # Stable across unrelated edits: rule, file, exemption, property and message without numbers.
    fingerprint: str = ""
    suppression: Suppression | None = None
    # The message before values echoed in it were shortened (None: nothing was cut); JSON and
    # SARIF keep it as "fullMessage".
    full_message: str | None = None

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.file, self.line, self.column, self.rule_id)

    def to_json(self) -> dict[str, Any]:
        document = {
            "ruleId": self.rule_id,
            "ruleName": self.rule_name,
            "level": self.level.value,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "exemption": self.exemption_name,
            "property": self.property,
            "fingerprint": self.fingerprint,
            "suppression": None
            if self.suppression is None
            else {"kind": self.suppression.kind, "justification": self.suppression.justification},
        }
        if self.full_message is not None:
            document["fullMessage"] = self.full_message
        return document
