"""What an audit found, for the formatters: plain data, no Azure access, no rules.

The JSON shape (``to_json``) is documented in docs/audit.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Expiry status of a deployed exemption.
EXPIRED = "expired"
EXPIRING = "expiring"
NO_EXPIRY = "no-expiry"
ACTIVE = "active"
UNREADABLE = "unreadable-expiry"
STALE = "stale"
STATUSES = (EXPIRED, EXPIRING, NO_EXPIRY, ACTIVE, UNREADABLE, STALE)

# How a deployed exemption relates to the code (--code).
IN_CODE = "in-code"
DIFFERENT = "different"
NOT_IN_CODE = "not-in-code"
POSSIBLY_IN_CODE = "possibly-in-code"  # a code exemption of the same name has an id not known statically
NOT_COMPARED = "not-compared"  # no --code


@dataclass(frozen=True)
class Difference:
    field: str
    deployed: Any
    code: Any

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "deployed": self.deployed, "code": self.code}


@dataclass(frozen=True)
class CodeLocation:
    file: str
    line: int
    column: int
    format: str
    name: str
    resource_id: str | None  # None when scope or name is not known statically

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "format": self.format,
            "name": self.name,
            "id": self.resource_id,
        }


@dataclass(frozen=True)
class HiddenRecommendation:
    """A Defender recommendation an exemption makes "Exempt", and on how many resources."""

    recommendation: str
    policy_definition_id: str
    resources: int
    exact: bool  # False: the scope covers it but the exempted policies could not be read

    def to_json(self) -> dict[str, Any]:
        return {
            "recommendation": self.recommendation,
            "policyDefinitionId": self.policy_definition_id,
            "resources": self.resources,
            "matchedByPolicy": self.exact,
        }


@dataclass
class AuditedExemption:
    id: str
    name: str
    scope: str
    scope_level: str
    category: str | None
    expires_on: str | None
    expiry_date: str | None  # the UTC date Azure reads, YYYY-MM-DD
    status: str
    days_left: int | None
    assignment_id: str | None
    assignment_state: str  # "exists", "missing", "unknown"
    initiative: str | None  # display name or id of what the assignment assigns
    display_name: str | None
    description: str | None
    reference_ids: list[str]
    created_by: str | None
    created_at: str | None
    modified_by: str | None
    modified_at: str | None
    owner: str | None
    verified: bool
    portal_url: str
    code_status: str = NOT_COMPARED
    code: CodeLocation | None = None
    differences: list[Difference] = field(default_factory=list)
    hidden: list[HiddenRecommendation] = field(default_factory=list)
    findings: int = 0  # findings that count (not suppressed)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "scope": self.scope,
            "scopeLevel": self.scope_level,
            "exemptionCategory": self.category,
            "expiresOn": self.expires_on,
            "expiryDate": self.expiry_date,
            "status": self.status,
            "daysLeft": self.days_left,
            "policyAssignmentId": self.assignment_id,
            "assignment": self.assignment_state,
            "initiative": self.initiative,
            "displayName": self.display_name,
            "description": self.description,
            "policyDefinitionReferenceIds": self.reference_ids,
            "createdBy": self.created_by,
            "createdAt": self.created_at,
            "lastModifiedBy": self.modified_by,
            "lastModifiedAt": self.modified_at,
            "owner": self.owner,
            "verified": self.verified,
            "portalUrl": self.portal_url,
            "code": {
                "status": self.code_status,
                "location": self.code.to_json() if self.code is not None else None,
                "differences": [d.to_json() for d in self.differences],
            },
            "defender": [h.to_json() for h in self.hidden],
            "findings": self.findings,
        }


@dataclass(frozen=True)
class UnmatchedAssessment:
    """A Defender "Exempt" assessment that no exemption the audit could see explains."""

    recommendation: str
    resource_id: str
    policy_definition_id: str
    assessment_id: str

    def to_json(self) -> dict[str, Any]:
        return {
            "recommendation": self.recommendation,
            "resourceId": self.resource_id,
            "policyDefinitionId": self.policy_definition_id,
            "assessmentId": self.assessment_id,
        }


@dataclass
class AuditData:
    arm_endpoint: str
    portal: str
    scopes: list[str]
    today: str
    expiring_within: int
    exemptions: list[AuditedExemption] = field(default_factory=list)
    # Code exemptions in the audited scopes that are not deployed.
    not_deployed: list[CodeLocation] = field(default_factory=list)
    # Code exemptions whose id is not known statically (not compared).
    not_comparable: list[CodeLocation] = field(default_factory=list)
    # Code exemptions outside the audited scopes (not compared).
    outside_scopes: int = 0
    code_compared: bool = False
    defender_read: bool = False
    defender_exempt: int = 0  # "Exempt" assessments read
    defender_unmatched: list[UnmatchedAssessment] = field(default_factory=list)
    # Scopes or resources that could not be read: the audit is incomplete.
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    assignments_read: int = 0
    graph_pages: int = 0
    seconds: float = 0.0

    @property
    def complete(self) -> bool:
        return not self.problems

    def live(self) -> list[AuditedExemption]:
        return [e for e in self.exemptions if e.status != STALE]

    def counts(self, attribute: str, values: tuple[str, ...] = ()) -> dict[str, int]:
        """How many live exemptions have each value of ``attribute`` (``values`` first, in order)."""
        found: dict[str, int] = dict.fromkeys(values, 0)
        for exemption in self.live():
            key = getattr(exemption, attribute)
            key = "(none)" if key is None else str(key)
            found[key] = found.get(key, 0) + 1
        return found

    def summary(self) -> dict[str, Any]:
        live = self.live()
        return {
            "deployed": len(live),
            "stale": sum(1 for e in self.exemptions if e.status == STALE),
            "byStatus": self.counts("status", STATUSES[:-1]),
            "byCategory": self.counts("category"),
            "byScopeLevel": self.counts("scope_level"),
            "assignmentMissing": sum(1 for e in live if e.assignment_state == "missing"),
            "expiredStillPresent": sum(1 for e in live if e.status == EXPIRED),
            "notInCode": sum(1 for e in live if e.code_status == NOT_IN_CODE) if self.code_compared else None,
            "different": sum(1 for e in live if e.code_status == DIFFERENT) if self.code_compared else None,
            "notDeployed": len(self.not_deployed) if self.code_compared else None,
            "defenderExempt": self.defender_exempt if self.defender_read else None,
            "defenderUnmatched": len(self.defender_unmatched) if self.defender_read else None,
        }

    def expiry_timeline(self, months: int = 12) -> list[tuple[str, int]]:
        """(label, count) bars: expired, each of the next ``months`` months (YYYY-MM), later, none."""
        import datetime

        today = datetime.date.fromisoformat(self.today)
        keys = []
        year, month = today.year, today.month
        for _ in range(months):
            keys.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        bars: dict[str, int] = {"expired": 0, **dict.fromkeys(keys, 0), "later": 0, "no expiry": 0}
        for exemption in self.live():
            if exemption.status == EXPIRED:
                bars["expired"] += 1
            elif exemption.status == UNREADABLE:
                bars["unreadable"] = bars.get("unreadable", 0) + 1
            elif exemption.expiry_date is None:
                bars["no expiry"] += 1
            elif exemption.expiry_date[:7] in bars:
                bars[exemption.expiry_date[:7]] += 1
            else:
                bars["later"] += 1
        return list(bars.items())

    def to_json(self) -> dict[str, Any]:
        return {
            "armEndpoint": self.arm_endpoint,
            "scopes": self.scopes,
            "complete": self.complete,
            "problems": self.problems,
            "warnings": self.warnings,
            "expiringWithinDays": self.expiring_within,
            "summary": self.summary(),
            "timeline": [{"label": label, "count": count} for label, count in self.expiry_timeline()],
            "exemptions": [e.to_json() for e in self.exemptions],
            "notDeployed": [c.to_json() for c in self.not_deployed],
            "notComparable": [c.to_json() for c in self.not_comparable],
            "outsideAuditedScopes": self.outside_scopes,
            "defenderUnmatched": [a.to_json() for a in self.defender_unmatched],
            "read": {
                "assignments": self.assignments_read,
                "resourceGraphPages": self.graph_pages,
                "seconds": round(self.seconds, 3),
            },
        }
