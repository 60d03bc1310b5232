"""Scope strings (Azure resource ids) and the level they name."""

from __future__ import annotations

import re
from typing import Any

from exemptlint.model import ScopeLevel, Unresolved

_EXEMPTION_MARKER = re.compile(r"/providers/microsoft\.authorization/policyexemptions/", re.IGNORECASE)
_ASSIGNMENT_ID = re.compile(r"/providers/microsoft\.authorization/policyassignments/[^/]+/*$", re.IGNORECASE)


def scope_of_exemption_id(exemption_id: str) -> str | None:
    """The scope part of an exemption resource id (what precedes the exemption provider)."""
    match = _EXEMPTION_MARKER.search(exemption_id)
    if match is None:
        return None
    return exemption_id[: match.start()] or "/"


def scope_of_assignment_id(assignment_id: str) -> str | None:
    """The scope of a policy assignment from its id (what precedes the assignment provider; "/"
    for a tenant-level assignment); None when the text is not an assignment id."""
    text = assignment_id.strip()
    match = _ASSIGNMENT_ID.search(text)
    if match is None:
        return None
    return text[: match.start()] or "/"


def name_of_exemption_id(exemption_id: str) -> str | None:
    match = _EXEMPTION_MARKER.search(exemption_id)
    if match is None:
        return None
    return exemption_id[match.end() :] or None


def scope_level(scope: Any) -> ScopeLevel:
    """The level of a scope; an unresolved scope is judged by its partial text when it has one."""
    if isinstance(scope, Unresolved):
        if scope.partial is None:
            return ScopeLevel.UNKNOWN
        scope = scope.partial
    if not isinstance(scope, str):
        return ScopeLevel.UNKNOWN
    return _level_of_text(scope)


def _level_of_text(scope: str) -> ScopeLevel:
    text = scope.strip()
    if text == "/":
        return ScopeLevel.TENANT
    parts = [p for p in text.strip("/").split("/")]
    if not parts or any(p == "" for p in parts):
        return ScopeLevel.UNKNOWN
    lowered = [p.lower() for p in parts]
    if lowered[0] == "providers":
        if len(parts) == 3 and lowered[1] == "microsoft.management" and lowered[2] == "managementgroups":
            return ScopeLevel.UNKNOWN
        if len(parts) == 4 and lowered[1] == "microsoft.management" and lowered[2] == "managementgroups":
            return ScopeLevel.MANAGEMENT_GROUP
        # Tenant-level resources (/providers/Namespace/type/name) are resources.
        if len(parts) >= 4 and len(parts) % 2 == 0 and lowered[1] != "microsoft.management":
            return ScopeLevel.RESOURCE
        if len(parts) >= 6 and lowered[1] == "microsoft.management" and lowered[4] == "providers":
            return ScopeLevel.RESOURCE if _is_resource_tail(parts[4:]) else ScopeLevel.UNKNOWN
        return ScopeLevel.UNKNOWN
    if lowered[0] != "subscriptions" or len(parts) < 2:
        return ScopeLevel.UNKNOWN
    if len(parts) == 2:
        return ScopeLevel.SUBSCRIPTION
    if lowered[2] == "resourcegroups":
        if len(parts) == 4:
            return ScopeLevel.RESOURCE_GROUP
        return ScopeLevel.RESOURCE if _is_resource_tail(parts[4:]) else ScopeLevel.UNKNOWN
    return ScopeLevel.RESOURCE if _is_resource_tail(parts[2:]) else ScopeLevel.UNKNOWN


def _is_resource_tail(parts: list[str]) -> bool:
    """``providers/Namespace/type/name[/type/name...]``."""
    return len(parts) >= 4 and parts[0].lower() == "providers" and len(parts) % 2 == 0
