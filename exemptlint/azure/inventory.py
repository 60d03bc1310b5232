"""Everything the audit reads from Azure, as model objects.

Resource Graph gives the exemptions, assignments, custom set definitions, the subscriptions and
management groups (for management-group ancestry) and Defender's "Exempt" assessments. The REST API
then fills what Resource Graph cannot: assignments outside the audited scopes that exemptions name
(an exemption on a subscription of a management-group assignment), the members of the built-in
initiatives they assign, and with ``verify`` each exemption as the policyExemptions API returns it
(Resource Graph keeps stale rows and returns ``assignmentScopeValidation`` as null).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from exemptlint.azure.client import ArmClient
from exemptlint.azure.convert import (
    assignment_from_row,
    exemption_from_row,
    row_value,
    set_members,
    system_data,
)
from exemptlint.azure.errors import AzureError, AzureForbidden, AzureNotFound
from exemptlint.azure.graph import (
    ASSIGNMENTS_QUERY,
    CONTAINERS_QUERY,
    DEFENDER_QUERY,
    EXEMPTIONS_QUERY,
    SET_DEFINITIONS_QUERY,
    QueryResult,
    Scopes,
    run_query,
)
from exemptlint.azure.progress import NoProgress, Progress
from exemptlint.model import Exemption, PolicyAssignment

EXEMPTIONS_API = "2022-07-01-preview"
ASSIGNMENTS_API = "2023-04-01"
SET_DEFINITIONS_API = "2023-04-01"
VERIFY_WORKERS = 4


@dataclass
class DeployedRow:
    """One exemption as Azure has it."""

    id: str
    exemption: Exemption
    system_data: dict[str, str]
    subscription_id: str | None
    verified: bool = False
    stale: bool = False  # Resource Graph lists it, the policyExemptions API answers 404


@dataclass
class Assessment:
    """A Defender for Cloud assessment whose status cause is "Exempt"."""

    id: str
    name: str
    display_name: str
    resource_id: str
    policy_definition_id: str
    subscription_id: str
    severity: str


@dataclass
class Inventory:
    deployed: list[DeployedRow] = field(default_factory=list)
    assignments: list[PolicyAssignment] = field(default_factory=list)
    # Assignment ids (lower-cased) that exemptions name and that do not exist (404).
    missing_assignments: set[str] = field(default_factory=set)
    # Assignment ids (lower-cased) that could not be looked up (403): existence unknown.
    unknown_assignments: set[str] = field(default_factory=set)
    # Set definition id (lower-cased) -> reference id -> policy definition id (both lower-cased).
    set_members: dict[str, dict[str, str]] = field(default_factory=dict)
    set_names: dict[str, str] = field(default_factory=dict)  # id (lower-cased) -> display name
    # Subscription id or management group name (lower-cased) -> its management groups, nearest first.
    ancestors: dict[str, list[str]] = field(default_factory=dict)
    visible_subscriptions: set[str] = field(default_factory=set)
    assessments: list[Assessment] = field(default_factory=list)
    defender_read: bool = False
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    graph_pages: int = 0


def read_inventory(
    client: ArmClient,
    scopes: Scopes,
    *,
    verify: bool = False,
    defender: bool = True,
    progress: Progress | None = None,
) -> Inventory:
    """Read the audited scopes; AzureError for anything that makes the whole read unusable."""
    progress = progress or NoProgress()
    inventory = Inventory()

    def query(text: str, label: str) -> list[dict[str, Any]]:
        result: QueryResult = run_query(client, text, scopes, label, progress)
        inventory.problems.extend(p for p in result.problems if p not in inventory.problems)
        inventory.warnings.extend(result.warnings)
        inventory.graph_pages += result.pages
        return result.rows

    for row in query(EXEMPTIONS_QUERY, "policy exemptions"):
        exemption = exemption_from_row(row)
        if exemption is None:
            inventory.warnings.append(
                f"Resource Graph returned an exemption row without an exemption id: {str(row)[:120]}"
            )
            continue
        subscription = row_value(row, "subscriptionId")
        inventory.deployed.append(
            DeployedRow(
                id=exemption.source.file,
                exemption=exemption,
                system_data=system_data(row),
                subscription_id=subscription if isinstance(subscription, str) and subscription else None,
            )
        )
    for row in query(ASSIGNMENTS_QUERY, "policy assignments"):
        assignment = assignment_from_row(row)
        if assignment is not None:
            inventory.assignments.append(assignment)
    for row in query(SET_DEFINITIONS_QUERY, "policy set definitions"):
        _add_set(inventory, row)
    _read_containers(inventory, query(CONTAINERS_QUERY, "subscriptions and management groups"), scopes)
    if verify:
        _verify(client, inventory, progress)
    _complete_assignments(client, inventory)
    _complete_sets(client, inventory)
    if defender:
        for row in query(DEFENDER_QUERY, "Defender for Cloud exempt assessments"):
            assessment = _assessment(row)
            if assessment is not None:
                inventory.assessments.append(assessment)
        inventory.defender_read = True
    return inventory


def _add_set(inventory: Inventory, row: dict[str, Any]) -> None:
    resource_id = row_value(row, "id")
    members = set_members(row)
    if not isinstance(resource_id, str) or members is None:
        return
    key = resource_id.lower().rstrip("/")
    inventory.set_members[key] = members
    display = row_value(row, "properties", "displayName")
    if isinstance(display, str):
        inventory.set_names[key] = display


def _chain(row: dict[str, Any]) -> list[str] | None:
    chain = row_value(row, "properties", "managementGroupAncestorsChain")
    if chain is None:
        chain = row_value(row, "properties", "details", "managementGroupAncestorsChain")
    if not isinstance(chain, list):
        return None
    names = [row_value(item, "name") for item in chain]
    return [name.lower() for name in names if isinstance(name, str)]


def _read_containers(inventory: Inventory, rows: list[dict[str, Any]], scopes: Scopes) -> None:
    for row in rows:
        kind = str(row_value(row, "type") or "").lower()
        chain = _chain(row)
        if kind == "microsoft.resources/subscriptions":
            subscription = row_value(row, "subscriptionId") or row_value(row, "name")
            if isinstance(subscription, str):
                inventory.visible_subscriptions.add(subscription.lower())
                if chain is not None:
                    inventory.ancestors[subscription.lower()] = chain
        elif kind == "microsoft.management/managementgroups":
            name = row_value(row, "name")
            if isinstance(name, str) and chain is not None:
                inventory.ancestors["mg:" + name.lower()] = chain
    for subscription in scopes.subscriptions:
        if subscription.lower() not in inventory.visible_subscriptions:
            # Resource Graph leaves out subscriptions the identity cannot read without an error.
            problem = (
                f"subscription {subscription}: not visible to this identity in Resource Graph "
                "(no Reader role, or no such subscription); its exemptions were not read"
            )
            if not any(p.startswith(f"subscription {subscription}:") for p in inventory.problems):
                inventory.problems.append(problem)


def _verify(client: ArmClient, inventory: Inventory, progress: Progress) -> None:
    """Re-read every exemption with the policyExemptions API (a 404 marks the row stale)."""

    def fetch(row: DeployedRow) -> tuple[DeployedRow, dict[str, Any] | None, str | None]:
        try:
            return row, client.get(row.id, EXEMPTIONS_API, f"exemption {row.id}"), None
        except AzureNotFound:
            return row, None, None
        except AzureForbidden as error:
            return row, None, str(error)

    progress.start("verifying exemptions")
    try:
        with ThreadPoolExecutor(max_workers=VERIFY_WORKERS) as pool:
            for done, (row, document, problem) in enumerate(pool.map(fetch, inventory.deployed), 1):
                progress.update(done, len(inventory.deployed))
                if problem is not None:
                    inventory.problems.append(problem)
                    continue
                if document is None:
                    row.stale = True
                    continue
                fresh = exemption_from_row(document)
                if fresh is None:
                    raise AzureError(f"Azure returned a malformed exemption for {row.id}: no id")
                row.exemption = fresh
                row.system_data = system_data(document) or row.system_data
                row.verified = True
    finally:
        progress.finish()


def _assignment_ids(inventory: Inventory) -> dict[str, str]:
    """lower-cased id -> id as written, of the assignments that live exemptions name."""
    wanted: dict[str, str] = {}
    for row in inventory.deployed:
        value = row.exemption.policy_assignment_id
        if not row.stale and isinstance(value, str) and value.strip():
            wanted.setdefault(value.strip().lower().rstrip("/"), value.strip())
    return wanted


def _complete_assignments(client: ArmClient, inventory: Inventory) -> None:
    known = {a.id.lower().rstrip("/") for a in inventory.assignments if isinstance(a.id, str)}
    for key, assignment_id in _assignment_ids(inventory).items():
        if key in known:
            continue
        # Outside the audited scopes (a management-group assignment): read it directly.
        try:
            document = client.get(assignment_id, ASSIGNMENTS_API, f"assignment {assignment_id}")
        except AzureNotFound:
            inventory.missing_assignments.add(key)
            continue
        except AzureForbidden:
            inventory.unknown_assignments.add(key)
            continue
        assignment = assignment_from_row(document)
        if assignment is None:
            raise AzureError(f"Azure returned a malformed assignment for {assignment_id}: no id")
        inventory.assignments.append(assignment)
        known.add(key)


def _complete_sets(client: ArmClient, inventory: Inventory) -> None:
    """Members of the set definitions assigned by the assignments exemptions name (built-in ones
    are not in Resource Graph's policyresources)."""
    used = set(_assignment_ids(inventory))
    for assignment in inventory.assignments:
        definition = assignment.policy_definition_id
        if not isinstance(assignment.id, str) or assignment.id.lower().rstrip("/") not in used:
            continue
        if not isinstance(definition, str) or "/policysetdefinitions/" not in definition.lower():
            continue
        key = definition.lower().rstrip("/")
        if key in inventory.set_members:
            continue
        try:
            document = client.get(definition, SET_DEFINITIONS_API, f"set definition {definition}")
        except (AzureNotFound, AzureForbidden):
            inventory.set_members[key] = {}
            inventory.warnings.append(
                f"set definition {definition} could not be read: its members are not known"
            )
            continue
        _add_set(inventory, document)
        inventory.set_members.setdefault(key, {})


def _assessment(row: dict[str, Any]) -> Assessment | None:
    def text(name: str) -> str:
        value = row_value(row, name)
        return value if isinstance(value, str) else ""

    if not text("id") or not text("resourceId"):
        return None
    return Assessment(
        id=text("id"),
        name=text("name"),
        display_name=text("displayName") or text("name"),
        resource_id=text("resourceId"),
        policy_definition_id=text("policyDefinitionId"),
        subscription_id=text("subscriptionId"),
        severity=text("severity"),
    )
