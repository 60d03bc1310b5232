"""The exemption as custom rules see it: a plain JSON object (documented in docs/custom-rules.md).

Declarative rules (rule packs) evaluate their ``when`` and ``require`` JSON Schemas against this
object; Python rules may use it too. Keys whose property is absent from the exemption are absent
from the view; a value not known statically (an ARM expression, a Bicep parameter) is an object
``{"unresolved": EXPRESSION, "reason": ..., "partial": ...}``.
"""

from __future__ import annotations

from typing import Any

from exemptlint.dates import read_expiry
from exemptlint.model import Exemption, to_plain_json
from exemptlint.rules.api import RuleContext

# View key -> the exemption property a finding about it points at.
VIEW_PROPERTIES = {
    "category": "exemptionCategory",
    "expiresInDays": "expiresOn",
    "initiative": "policyAssignmentId",
}

# Properties copied into the view under their own name, when present.
_COPIED = (
    "displayName",
    "description",
    "exemptionCategory",
    "expiresOn",
    "metadata",
    "policyAssignmentId",
    "policyDefinitionReferenceIds",
    "assignmentScopeValidation",
    "resourceSelectors",
)


def exemption_view(exemption: Exemption, context: RuleContext) -> dict[str, Any]:
    """The documented JSON view of one exemption (memoized per run)."""
    key = ("view", id(exemption))
    cached = context.memo.get(key)
    if cached is not None:
        result: dict[str, Any] = cached
        return result
    view: dict[str, Any] = {
        "name": to_plain_json(exemption.name),
        "scope": to_plain_json(exemption.scope),
        "scopeLevel": exemption.scope_level.value,
    }
    for prop in _COPIED:
        if exemption.has(prop):
            view[prop] = to_plain_json(exemption.get(prop))
    if "exemptionCategory" in view:
        view["category"] = view["exemptionCategory"]
    expires = exemption.expires_on
    if isinstance(expires, str):
        # Read as EL004 and EL005 read it (an EPAC culture date by its earlier reading).
        expiry = read_expiry(expires, exemption.source.format, context.epac_date_order).utc_date
        if expiry is not None:
            view["expiresOn"] = expires.strip()
            view["expiresInDays"] = (expiry - context.today).days
    from exemptlint.rules.initiative import resolve

    definition = resolve(exemption, context).definition
    if definition is not None:
        view["initiative"] = definition
    view["properties"] = to_plain_json(exemption.properties)
    view["partialUpdate"] = exemption.partial_update
    view["source"] = {"file": exemption.source.file, "format": exemption.source.format}
    context.memo[key] = view
    return view


def view_property(path: list[Any] | tuple[Any, ...]) -> str | None:
    """The exemption property a JSON path into the view names, or None (the whole exemption)."""
    if not path or not isinstance(path[0], str):
        return None
    first: str = path[0]
    if first == "properties" and len(path) > 1 and isinstance(path[1], str):
        return str(path[1])
    if first in ("source", "partialUpdate", "scopeLevel"):
        return None
    return VIEW_PROPERTIES.get(first, first)
