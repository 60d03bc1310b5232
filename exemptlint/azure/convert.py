"""Azure rows (Resource Graph or REST) to the model objects the loaders make.

An exemption read from Azure is an ``Exemption`` whose ``Source.file`` is its resource id (line
and column 1): rules see it exactly as one read from a file. Values are literal, never
placeholders; properties Azure reports as ``null`` are left out, as the REST API leaves out unset
properties (Resource Graph returns ``assignmentScopeValidation: null`` where it is not set), and so
are properties the policyExemptions API does not define (a read-only property of a newer API
version): Azure accepted the exemption, so an unknown name there is not the author's mistake.
"""

from __future__ import annotations

from typing import Any

from exemptlint.model import (
    CANONICAL_PROPERTY,
    Exemption,
    FixedLocator,
    PolicyAssignment,
    Position,
    Source,
)
from exemptlint.scope import name_of_exemption_id, scope_level, scope_of_exemption_id

AZURE_FORMAT = "azure"
_START = Position(1, 1)


def azure_source(resource_id: str) -> Source:
    return Source(resource_id, AZURE_FORMAT, FixedLocator(_START))


def _get(row: dict[str, Any], name: str) -> Any:
    """A key of a row, matched case-insensitively (Resource Graph lower-cases some columns)."""
    if name in row:
        return row[name]
    lowered = name.lower()
    for key, value in row.items():
        if isinstance(key, str) and key.lower() == lowered:
            return value
    return None


def exemption_from_row(row: dict[str, Any]) -> Exemption | None:
    """The exemption a row describes, or None when the row has no usable id."""
    resource_id = _get(row, "id")
    if not isinstance(resource_id, str):
        return None
    scope = scope_of_exemption_id(resource_id)
    name = name_of_exemption_id(resource_id)
    if scope is None or name is None:
        return None
    container = _get(row, "properties")
    properties: dict[str, Any] = {}
    if isinstance(container, dict):
        for key, value in container.items():
            canonical = CANONICAL_PROPERTY.get(str(key).lower())
            if value is not None and canonical is not None:
                properties[canonical] = value
    return Exemption(
        name=name,
        scope=scope,
        scope_level=scope_level(scope),
        properties=properties,
        source=azure_source(resource_id),
    )


def assignment_from_row(row: dict[str, Any]) -> PolicyAssignment | None:
    resource_id = _get(row, "id")
    if not isinstance(resource_id, str):
        return None
    container = _get(row, "properties")
    definition = _get(container, "policyDefinitionId") if isinstance(container, dict) else None
    name = _get(row, "name")
    return PolicyAssignment(
        id=resource_id,
        name=name if isinstance(name, str) else resource_id.rstrip("/").rsplit("/", 1)[-1],
        policy_definition_id=definition if isinstance(definition, str) else None,
        source=azure_source(resource_id),
    )


def system_data(row: dict[str, Any]) -> dict[str, str]:
    """``systemData`` (createdBy, createdAt, lastModifiedBy, ...) as strings, or empty."""
    data = _get(row, "systemData")
    if not isinstance(data, dict):
        return {}
    return {str(key): str(value) for key, value in data.items() if value is not None}


def set_members(row: dict[str, Any]) -> dict[str, str] | None:
    """reference id (lower-cased) -> policy definition id (lower-cased) of a set definition row."""
    container = _get(row, "properties")
    members = _get(container, "policyDefinitions") if isinstance(container, dict) else None
    if not isinstance(members, list):
        return None
    found: dict[str, str] = {}
    for member in members:
        if not isinstance(member, dict):
            continue
        reference = _get(member, "policyDefinitionReferenceId")
        definition = _get(member, "policyDefinitionId")
        if isinstance(definition, str):
            key = reference if isinstance(reference, str) else definition
            found[key.lower()] = definition.lower().rstrip("/")
    return found


def row_value(row: Any, *path: str) -> Any:
    """``row[path[0]][path[1]]...`` with case-insensitive keys; None when a step is missing."""
    value = row
    for step in path:
        if not isinstance(value, dict):
            return None
        value = _get(value, step)
    return value
