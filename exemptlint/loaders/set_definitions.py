"""Policy set definitions (initiatives) defined in scanned files, whatever the format: the REST and
ARM shape (``properties.policyDefinitions``, each member with ``policyDefinitionReferenceId`` and
``policyDefinitionId``), EPAC's ``policySetDefinitions`` files (members may name their definition
with ``policyDefinitionName``), Bicep, and Terraform's ``policy_definition_reference`` blocks.

A set definition says which reference ids an exemption of its assignments may list (EL012). Its
member list counts only when it is known statically, member by member; the rules decide what a
member whose reference id is not known means.
"""

from __future__ import annotations

import re
from typing import Any

from exemptlint.loaders.values import get_ci, mark_placeholders
from exemptlint.model import SET_DEFINITION_TYPE, SetDefinition, Source

__all__ = ["SET_DEFINITION_TYPE", "is_set_definition_document", "members_of", "set_definition"]

_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
_BUILTIN_DEFINITIONS = "/providers/Microsoft.Authorization/policyDefinitions/"
# Where EPAC deploys the custom definitions it names (as exemptlint/loaders/epac.py writes it).
_EPAC_CUSTOM_DEFINITIONS = (
    "/providers/Microsoft.Management/managementGroups/(EPAC deployment root)"
    "/providers/Microsoft.Authorization/policyDefinitions/"
)


def is_set_definition_document(doc: Any) -> bool:
    """Whether a parsed JSON object without a resource type is a set definition: EPAC's files
    (``$schema`` .../policy-set-definition-schema.json) and the REST body of one (``properties``
    with a ``policyDefinitions`` array)."""
    if not isinstance(doc, dict):
        return False
    schema = doc.get("$schema")
    if isinstance(schema, str) and "policy-set-definition-schema" in schema.lower():
        return True
    _, properties = get_ci(doc, "properties")
    if not isinstance(properties, dict):
        return False
    _, members = get_ci(properties, "policyDefinitions")
    return isinstance(members, list) and all(
        isinstance(m, dict) and get_ci(m, "policyDefinitionReferenceId")[0] is not None for m in members
    )


def members_of(value: Any) -> list[tuple[Any, Any]] | None:
    """``(reference id, definition id)`` of each member of a ``policyDefinitions`` array; None when
    the array is not known (not an array, or an item that is not an object)."""
    if not isinstance(value, list):
        return None
    members: list[tuple[Any, Any]] = []
    for item in value:
        if not isinstance(item, dict):
            return None
        _, reference_id = get_ci(item, "policyDefinitionReferenceId")
        members.append((mark_placeholders(reference_id), _definition(item)))
    return members


def _definition(member: dict[str, Any]) -> Any:
    _, definition = get_ci(member, "policyDefinitionId")
    if definition is not None:
        return mark_placeholders(definition)
    _, name = get_ci(member, "policyDefinitionName")
    if isinstance(name, str) and name.strip():
        # EPAC: a GUID is a built-in definition, any other name one of the repository's own.
        name = name.strip()
        return (_BUILTIN_DEFINITIONS if _GUID.match(name) else _EPAC_CUSTOM_DEFINITIONS) + name
    return None


def set_definition(set_id: Any, name: Any, properties: Any, source: Source) -> SetDefinition:
    """A set definition from its id (None when not given), name and evaluated properties."""
    display_name: Any = None
    members: list[tuple[Any, Any]] | None = None
    if isinstance(properties, dict):
        display_name = get_ci(properties, "displayName")[1]
        members = members_of(get_ci(properties, "policyDefinitions")[1])
    return SetDefinition(
        id=mark_placeholders(set_id),
        name=mark_placeholders(name),
        display_name=display_name,
        members=members,
        source=source,
    )
