"""The audit's judgements: expiry status, orphans and owners, code against deployed state, and
Defender's "Exempt" assessments joined to the exemptions.

Nothing here reads Azure: it works on the ``Inventory`` that exemptlint.azure read and on the
exemptions the loaders read from ``--code``.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from exemptlint.audit.model import (
    ACTIVE,
    DIFFERENT,
    EXPIRED,
    EXPIRING,
    IN_CODE,
    NO_EXPIRY,
    NOT_IN_CODE,
    POSSIBLY_IN_CODE,
    STALE,
    UNREADABLE,
    AuditData,
    AuditedExemption,
    CodeLocation,
    Difference,
    HiddenRecommendation,
    UnmatchedAssessment,
)
from exemptlint.azure.graph import Scopes
from exemptlint.azure.inventory import Assessment, DeployedRow, Inventory
from exemptlint.dates import read_expiry
from exemptlint.model import EXEMPTION_TYPE, Exemption, Finding, Unresolved

_PROVIDER = f"/providers/{EXEMPTION_TYPE}/"


@dataclass(frozen=True)
class AuditOptions:
    today: datetime.date
    expiring_within: int = 30
    owner_key: str | None = None
    epac_date_order: str | None = None


def exemption_id(scope: Any, name: Any) -> str | None:
    """The resource id of an exemption at ``scope`` named ``name``; None when either is unknown."""
    if not isinstance(scope, str) or not isinstance(name, str) or not name.strip():
        return None
    text: str = scope.strip()
    if not text.startswith("/"):
        text = "/" + text
    return text.rstrip("/") + _PROVIDER + name.strip()


def _key(resource_id: str) -> str:
    # Azure compares scopes and names case-insensitively.
    return resource_id.strip().lower().rstrip("/")


def build_audit(
    inventory: Inventory,
    options: AuditOptions,
    *,
    endpoint: str,
    portal: str,
    scopes: Scopes,
    findings: Sequence[Finding],
    code: Sequence[Exemption] | None,
) -> AuditData:
    data = AuditData(
        arm_endpoint=endpoint,
        portal=portal,
        scopes=scopes.describe(),
        today=options.today.isoformat(),
        expiring_within=options.expiring_within,
        problems=list(inventory.problems),
        warnings=list(inventory.warnings),
        defender_read=inventory.defender_read,
        defender_exempt=len(inventory.assessments),
        assignments_read=len(inventory.assignments),
        graph_pages=inventory.graph_pages,
    )
    counted: dict[str, int] = {}
    for finding in findings:
        if finding.suppression is None:
            counted[finding.file] = counted.get(finding.file, 0) + 1
    definitions = {
        a.id.lower().rstrip("/"): a.policy_definition_id
        for a in inventory.assignments
        if isinstance(a.id, str)
    }
    for row in inventory.deployed:
        audited = _audited(row, inventory, definitions, options, portal)
        audited.findings = counted.get(row.id, 0)
        data.exemptions.append(audited)
    if code is not None:
        _compare(data, inventory, scopes, code, options)
    if inventory.defender_read:
        _join_defender(data, inventory, definitions)
    return data


# Status, orphans, owners -------------------------------------------------------------------


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _audited(
    row: DeployedRow,
    inventory: Inventory,
    definitions: dict[str, Any],
    options: AuditOptions,
    portal: str,
) -> AuditedExemption:
    exemption = row.exemption
    status, expiry, days = _status(exemption, options)
    if row.stale:
        status = STALE
    assignment = _text(exemption.policy_assignment_id)
    key = assignment.strip().lower().rstrip("/") if assignment else None
    if key is None or key in inventory.unknown_assignments:
        state = "unknown"
    elif key in inventory.missing_assignments:
        state = "missing"
    elif key in definitions:
        state = "exists"
    else:
        state = "unknown"
    initiative = None
    definition = definitions.get(key) if key else None
    if isinstance(definition, str):
        initiative = inventory.set_names.get(definition.lower().rstrip("/")) or _catalog_name(definition)
    references = exemption.policy_definition_reference_ids
    return AuditedExemption(
        id=row.id,
        name=str(exemption.name),
        scope=str(exemption.scope),
        scope_level=exemption.scope_level.value,
        category=_text(exemption.exemption_category),
        expires_on=_text(exemption.expires_on),
        expiry_date=expiry.isoformat() if expiry else None,
        status=status,
        days_left=days,
        assignment_id=assignment,
        assignment_state=state,
        initiative=initiative,
        display_name=_text(exemption.display_name),
        description=_text(exemption.description),
        reference_ids=[r for r in references if isinstance(r, str)] if isinstance(references, list) else [],
        created_by=row.system_data.get("createdBy"),
        created_at=row.system_data.get("createdAt"),
        modified_by=row.system_data.get("lastModifiedBy"),
        modified_at=row.system_data.get("lastModifiedAt"),
        owner=_owner(exemption, options.owner_key),
        verified=row.verified,
        portal_url=f"{portal}/#resource{row.id}",
    )


def _catalog_name(definition: str) -> str:
    from exemptlint.catalog import load_catalog

    initiative = load_catalog().lookup(definition)
    return initiative.display_name if initiative is not None else definition


def _status(exemption: Exemption, options: AuditOptions) -> tuple[str, datetime.date | None, int | None]:
    value = exemption.expires_on
    if value is None:
        return NO_EXPIRY, None, None
    if not isinstance(value, str):
        return UNREADABLE, None, None
    read = read_expiry(value, exemption.source.format, options.epac_date_order)
    expiry = read.utc_date
    if expiry is None:
        return UNREADABLE, None, None
    days = (expiry - options.today).days
    if days < 0:
        return EXPIRED, expiry, days
    if days <= options.expiring_within:
        return EXPIRING, expiry, days
    return ACTIVE, expiry, days


def _owner(exemption: Exemption, key: str | None) -> str | None:
    metadata = exemption.metadata
    if key is None or not isinstance(metadata, dict):
        return None
    for name, value in metadata.items():
        if isinstance(name, str) and name.lower() == key.lower() and value is not None:
            return value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return None


# Code against deployed state ---------------------------------------------------------------


def _location(exemption: Exemption, resource_id: str | None) -> CodeLocation:
    position = exemption.source.locator.exemption()
    name = exemption.label
    return CodeLocation(
        exemption.source.file, position.line, position.column, exemption.source.format, name, resource_id
    )


def _subscription(scope: str) -> str | None:
    parts = scope.strip("/").split("/")
    return parts[1] if len(parts) >= 2 and parts[0] == "subscriptions" else None


def _group(scope: str) -> str | None:
    parts = scope.strip("/").split("/")
    if len(parts) == 4 and parts[:3] == ["providers", "microsoft.management", "managementgroups"]:
        return parts[3]
    return None


def _covered(scope_key: str, scopes: Scopes, inventory: Inventory) -> bool:
    """Whether an exemption at this (lower-cased) scope would have been read by the audit."""
    wanted_groups = {g.lower() for g in scopes.management_groups}
    subscription = _subscription(scope_key)
    if subscription is not None:
        if scopes.tenant:
            return subscription in inventory.visible_subscriptions
        if subscription in {s.lower() for s in scopes.subscriptions}:
            return subscription in inventory.visible_subscriptions
        return bool(wanted_groups & set(inventory.ancestors.get(subscription, ())))
    group = _group(scope_key)
    if group is not None:
        if scopes.tenant:
            return "mg:" + group in inventory.ancestors
        return group in wanted_groups or bool(wanted_groups & set(inventory.ancestors.get("mg:" + group, ())))
    return False  # the tenant root ("/") or an unknown form


def _compare(
    data: AuditData,
    inventory: Inventory,
    scopes: Scopes,
    code: Sequence[Exemption],
    options: AuditOptions,
) -> None:
    data.code_compared = True
    by_id: dict[str, Exemption] = {}
    unknown_names: set[str] = set()
    for exemption in code:
        if exemption.partial_update:
            continue
        resource_id = exemption_id(exemption.scope, exemption.name)
        if resource_id is None:
            data.not_comparable.append(_location(exemption, None))
            if isinstance(exemption.name, str):
                unknown_names.add(exemption.name.lower())
            continue
        by_id.setdefault(_key(resource_id), exemption)
    deployed_rows = {_key(row.id): row for row in inventory.deployed if not row.stale}
    for audited in data.exemptions:
        if audited.status == STALE:
            continue
        match = by_id.get(_key(audited.id))
        if match is None:
            audited.code_status = POSSIBLY_IN_CODE if audited.name.lower() in unknown_names else NOT_IN_CODE
            continue
        audited.code = _location(match, exemption_id(match.scope, match.name))
        audited.differences = _differences(deployed_rows[_key(audited.id)], match, options)
        audited.code_status = DIFFERENT if audited.differences else IN_CODE
    for key, exemption in by_id.items():
        if key in deployed_rows:
            continue
        scope_key = key[: key.index(_PROVIDER.lower())] or "/"
        if _covered(scope_key, scopes, inventory):
            data.not_deployed.append(_location(exemption, exemption_id(exemption.scope, exemption.name)))
        else:
            data.outside_scopes += 1


_COMPARED = (
    "policyAssignmentId",
    "exemptionCategory",
    "expiresOn",
    "policyDefinitionReferenceIds",
    "displayName",
    "description",
    "assignmentScopeValidation",
    "metadata",
)


def _differences(row: DeployedRow, code: Exemption, options: AuditOptions) -> list[Difference]:
    deployed = row.exemption
    found: list[Difference] = []
    for name in _COMPARED:
        ours = code.properties.get(name)
        theirs = deployed.properties.get(name)
        if _holds_unresolved(ours):
            continue  # not known statically: neither equal nor different
        if name == "assignmentScopeValidation" and not row.verified and theirs is None:
            continue  # Resource Graph returns it as null whatever it is
        if not _same(name, theirs, ours, code, options):
            found.append(Difference(name, theirs, ours))
    return found


def _holds_unresolved(value: Any) -> bool:
    from exemptlint.model import contains_unresolved

    return isinstance(value, Unresolved) or contains_unresolved(value)


def _same(name: str, deployed: Any, code: Any, exemption: Exemption, options: AuditOptions) -> bool:
    if name == "policyAssignmentId":
        return bool(_lower(deployed) == _lower(code))
    if name == "policyDefinitionReferenceIds":
        return bool(_id_set(deployed) == _id_set(code))
    if name == "expiresOn":
        if deployed is None or code is None:
            return deployed is None and code is None
        if isinstance(deployed, str) and isinstance(code, str):
            ours = read_expiry(code, exemption.source.format, options.epac_date_order).moment
            theirs = read_expiry(deployed, "azure").moment
            if ours is not None and theirs is not None:
                return ours == theirs
        return bool(deployed == code)
    if name == "assignmentScopeValidation":
        return str(deployed or "Default").lower() == str(code or "Default").lower()
    if name == "metadata":
        # Deployment tools add their own keys (EPAC's pacOwnerId, deployedBy): compare only the
        # keys the code sets.
        if not isinstance(code, dict):
            return code is None or code == deployed
        if not isinstance(deployed, dict):
            return not code
        return all(deployed.get(key) == value for key, value in code.items())
    return bool(deployed == code)


def _lower(value: Any) -> Any:
    return value.strip().lower().rstrip("/") if isinstance(value, str) else value


def _id_set(value: Any) -> Any:
    if value is None:
        return frozenset()
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return frozenset(v.lower() for v in value)
    return json.dumps(value, sort_keys=True)


# Defender for Cloud ------------------------------------------------------------------------


class _ScopeIndex:
    """The live exemptions by scope, so that each assessment looks up only the scopes above its
    resource (the resource id's prefixes, and the management groups above its subscription)."""

    def __init__(self, exemptions: Sequence[AuditedExemption], inventory: Inventory) -> None:
        self._inventory = inventory
        self._by_scope: dict[str, list[AuditedExemption]] = {}
        self._by_group: dict[str, list[AuditedExemption]] = {}
        for exemption in exemptions:
            key = exemption.scope.lower().rstrip("/")
            group = _group(key)
            if group is not None:
                self._by_group.setdefault(group, []).append(exemption)
            else:
                self._by_scope.setdefault(key, []).append(exemption)

    def covering(self, assessment: Assessment) -> list[AuditedExemption]:
        resource = assessment.resource_id.lower().rstrip("/")
        parts = resource.split("/")
        found: list[AuditedExemption] = []
        for end in range(2, len(parts) + 1):
            found += self._by_scope.get("/".join(parts[:end]), ())
        subscription = _subscription(resource) or assessment.subscription_id.lower()
        for group in self._inventory.ancestors.get(subscription, ()):
            found += self._by_group.get(group, ())
        return found


def _honoured(definition: str) -> bool:
    """Whether Defender for Cloud honours exemptions on assignments of this definition (EL001)."""
    from exemptlint.catalog import classify_definition_id, load_catalog

    if classify_definition_id(definition) != "builtin-set":
        return False
    initiative = load_catalog().lookup(definition)
    # A built-in initiative newer than the packaged catalog: not known to be ineligible.
    return initiative is None or initiative.is_eligible


def _exempted_policies(
    audited: AuditedExemption, inventory: Inventory, definitions: dict[str, Any]
) -> set[str] | None:
    """The policy definition ids (lower-cased) the exemption exempts in Defender's eyes; None when
    not known, empty when Defender ignores the exemption (not on an initiative it honours)."""
    if audited.assignment_id is None:
        return None
    definition = definitions.get(audited.assignment_id.lower().rstrip("/"))
    if not isinstance(definition, str):
        return None
    if not _honoured(definition):
        return set()
    key = definition.lower().rstrip("/")
    if "/policysetdefinitions/" not in key:
        return {key}
    members = inventory.set_members.get(key)
    if not members:
        return None
    if audited.reference_ids:
        return {members[r.lower()] for r in audited.reference_ids if r.lower() in members}
    return set(members.values())


def _join_defender(data: AuditData, inventory: Inventory, definitions: dict[str, Any]) -> None:
    live = [e for e in data.exemptions if e.status != STALE]
    policies = {e.id: _exempted_policies(e, inventory, definitions) for e in live}
    index = _ScopeIndex(live, inventory)
    # exemption id -> (recommendation, policy) -> (resources, exact)
    hidden: dict[str, dict[tuple[str, str], tuple[set[str], bool]]] = {}
    for assessment in inventory.assessments:
        policy = assessment.policy_definition_id.lower().rstrip("/")
        exact: list[AuditedExemption] = []
        possible: list[AuditedExemption] = []
        for exemption in index.covering(assessment):
            exempted = policies[exemption.id]
            if exempted is None or not policy:
                possible.append(exemption)
            elif policy in exempted:
                exact.append(exemption)
        matched, is_exact = (exact, True) if exact else (possible, False)
        if not matched:
            data.defender_unmatched.append(
                UnmatchedAssessment(
                    assessment.display_name,
                    assessment.resource_id,
                    assessment.policy_definition_id,
                    assessment.id,
                )
            )
            continue
        for exemption in matched:
            entry = hidden.setdefault(exemption.id, {})
            resources, _ = entry.get((assessment.display_name, policy), (set(), is_exact))
            resources.add(assessment.resource_id.lower())
            entry[(assessment.display_name, policy)] = (resources, is_exact)
    for exemption in live:
        for (recommendation, policy), (resources, is_exact) in sorted(hidden.get(exemption.id, {}).items()):
            exemption.hidden.append(HiddenRecommendation(recommendation, policy, len(resources), is_exact))
