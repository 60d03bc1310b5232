"""Helpers shared by loaders: case-insensitive keys and placeholders in literal values."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from exemptlint.model import (
    CANONICAL_PROPERTY,
    MANAGEMENT_GROUP_PREFIX,
    MANAGEMENT_GROUP_SUBSCRIPTION_TYPE,
    Placement,
    Source,
    Unresolved,
)

# Template tokens that real repositories leave in ids: {subId}, {{MANAGEMENT_GROUP_ID}},
# <<namePrefix>>, <subscription-id>, ${var}, #{token}#, __token__.
_PLACEHOLDER = re.compile(
    r"\{\{[^{}]+\}\}"
    r"|\{[A-Za-z_][\w.\-]*\}"
    r"|<<[^<>]+>>"
    r"|<[A-Za-z][\w .\-]*>"
    r"|\$\{[^}]+\}"
    r"|#\{[^}]+\}#"
    r"|__[A-Za-z][A-Za-z0-9_]*__"
)

# Properties whose literal values are identifiers or dates, where a placeholder means "not known".
PLACEHOLDER_PROPERTIES = frozenset(
    {
        "policyAssignmentId",
        "policyDefinitionReferenceIds",
        "exemptionCategory",
        "expiresOn",
        "assignmentScopeValidation",
    }
)


def find_placeholder(text: str) -> str | None:
    # Every placeholder holds '{', '<' or '__': most strings are ruled out without the regex.
    if "{" not in text and "<" not in text and "__" not in text:
        return None
    match = _PLACEHOLDER.search(text)
    return None if match is None else match.group(0)


def mark_placeholders(value: Any) -> Any:
    """A string holding a placeholder becomes ``Unresolved`` (lists are handled item by item)."""
    if isinstance(value, str):
        # find_placeholder's quick test, repeated here to spare a call for most strings.
        if "{" not in value and "<" not in value and "__" not in value:
            return value
        token = find_placeholder(value)
        if token is not None:
            return Unresolved(value, f"it holds the placeholder {token}", partial=value)
        return value
    if isinstance(value, list):
        return [mark_placeholders(item) for item in value]
    return value


def get_ci(obj: dict[str, Any], name: str, keys: Mapping[str, str] | None = None) -> tuple[str | None, Any]:
    """The key as spelled and the value of ``name``, matched case-insensitively as ARM does.

    ``keys`` is ``key_index(obj)``, for callers that look up several names in one object.
    """
    if name in obj:
        return name, obj[name]
    lowered = name.lower()
    if keys is not None:
        key = keys.get(lowered)
        return (None, None) if key is None else (key, obj[key])
    for key, value in obj.items():
        if key.lower() == lowered:
            return key, value
    return None, None


def key_index(obj: dict[str, Any]) -> dict[str, str]:
    """Each lower-cased key of ``obj`` and its first spelling (the one ``get_ci`` finds)."""
    keys: dict[str, str] = {}
    for key in obj:
        keys.setdefault(key.lower(), key)
    return keys


# Each canonical spelling with its lower-cased form and canonical name: most files spell the
# properties canonically, and these need no lower() and no second look-up.
_CANONICAL_SPELLING = {name: (lowered, name) for lowered, name in CANONICAL_PROPERTY.items()}


def canonical_properties(
    container: dict[str, Any], skip: frozenset[str] = frozenset()
) -> tuple[dict[str, Any], dict[str, str]]:
    """Exemption properties with canonical names, and the spelling of each key in the file.

    ``skip`` lists lower-cased keys that are not properties (the envelope of the flattened form).
    """
    properties: dict[str, Any] = {}
    spelled: dict[str, str] = {}
    for key, value in container.items():
        known = _CANONICAL_SPELLING.get(key)
        if known is None:
            lowered = key.lower()
            name = CANONICAL_PROPERTY.get(lowered, key)
        else:
            lowered, name = known
        if lowered in skip:
            continue
        if name in PLACEHOLDER_PROPERTIES:
            value = mark_placeholders(value)
        properties[name] = value
        spelled[name] = key
    return properties, spelled


def join_context(outer: str | None, inner: str) -> str:
    return inner if outer is None else f"{outer}; {inner}"


def concat(*pieces: Any) -> Any:
    """Join strings where some pieces may be unresolved (then so is the result, with a partial
    that shows the known parts and ``{...}`` for the others: ARM and Bicep ids alike)."""
    unknown = next((p for p in pieces if isinstance(p, Unresolved)), None)
    if unknown is None:
        if all(isinstance(p, str) for p in pieces):
            return "".join(pieces)
        return Unresolved(
            "".join(str(p) for p in pieces), "the id is built from a value that is not a string"
        )
    text: list[str] = []
    for piece in pieces:
        if isinstance(piece, Unresolved):
            text.append(piece.partial if piece.partial is not None else "{" + piece.expression + "}")
        else:
            text.append(str(piece))
    return Unresolved(unknown.expression, unknown.reason, "".join(text))


def join_id(scope: Any, suffix: str, name: Any) -> Any:
    """``scope`` (a resource id, '/' for the tenant) + ``suffix`` + ``name``."""
    if isinstance(scope, str):
        scope = scope.rstrip("/")
    elif isinstance(scope, Unresolved) and scope.partial is not None:
        scope = Unresolved(scope.expression, scope.reason, scope.partial.rstrip("/"))
    return concat(scope, suffix, name)


def management_group_parent(properties: Any) -> Any:
    """The parent a management group resource's (evaluated) ``properties`` give it:
    ``details.parent.id``; None when they give none (Azure puts it under the tenant root group);
    ``Unresolved`` when not known statically."""
    value = properties
    for key in ("details", "parent", "id"):
        if isinstance(value, Unresolved):
            return value
        if not isinstance(value, dict):
            return None
        value = get_ci(value, key)[1]
    if isinstance(value, str):
        return mark_placeholders(value)
    return (
        value
        if isinstance(value, Unresolved) or value is None
        else Unresolved(str(value), "the parent id is not a string")
    )


def split_child_name(name: Any) -> tuple[Any, Any]:
    """(group, subscription) of a ``managementGroups/subscriptions`` resource named
    "GROUP/SUBSCRIPTION-ID"; each ``Unresolved`` when not known."""
    name = mark_placeholders(name)
    if isinstance(name, str) and name.count("/") == 1 and all(name.split("/")):
        group, subscription = name.split("/")
        return group, subscription
    if isinstance(name, Unresolved):
        return name, name
    unknown = Unresolved(str(name), "not named GROUP/SUBSCRIPTION-ID")
    return unknown, unknown


def resource_placement(resource_type: str, name: Any, properties: Any, source: Source) -> Placement:
    """What an ARM or Bicep resource of ``resource_type`` (lower case: a management group or a
    ``managementGroups/subscriptions`` resource) places, from its full ``name`` and evaluated
    ``properties``."""
    name = mark_placeholders(name)
    if resource_type == MANAGEMENT_GROUP_SUBSCRIPTION_TYPE.lower():
        group, subscription = split_child_name(name)
        return Placement(concat("/subscriptions/", subscription), group, source)
    return Placement(concat(MANAGEMENT_GROUP_PREFIX, name), management_group_parent(properties), source)
