"""Terraform plan JSON (``terraform show -json plan.out``), and the azurerm resource tables the
HCL loader (``terraform``) shares.

A plan holds the values Terraform evaluated, for every module; values known only after apply
(``resource_changes[].change.after_unknown``) are ``Unresolved``. Kept apart from the HCL loader
so that a run over JSON files, which asks every document whether it is a plan, does not import
the HCL machinery.
"""

from __future__ import annotations

import json
from typing import Any

from exemptlint.loaders.jsontext import JsonLocator, JsonPositions
from exemptlint.loaders.values import PLACEHOLDER_PROPERTIES, concat, join_id, mark_placeholders
from exemptlint.model import (
    MANAGEMENT_GROUP_PREFIX,
    Exemption,
    LoadResult,
    Placement,
    PolicyAssignment,
    ScopeLevel,
    SetDefinition,
    Source,
    Unresolved,
)
from exemptlint.scope import scope_level

ASSIGNMENT_SUFFIX = "/providers/Microsoft.Authorization/policyAssignments/"
ASSIGNMENT_TYPES = {
    "azurerm_management_group_policy_assignment": "management_group_id",
    "azurerm_subscription_policy_assignment": "subscription_id",
    "azurerm_resource_group_policy_assignment": "resource_group_id",
    "azurerm_resource_policy_assignment": "resource_id",
}
# Management groups and subscription placements (where scopes sit, EL014).
PLACEMENT_TYPES = frozenset({"azurerm_management_group", "azurerm_management_group_subscription_association"})
# Initiatives a configuration defines: EL012 checks reference ids against their members.
SET_DEFINITION_TYPES = frozenset(
    {"azurerm_policy_set_definition", "azurerm_management_group_policy_set_definition"}
)
EXEMPTION_TYPES = {
    "azurerm_management_group_policy_exemption": "management_group_id",
    "azurerm_subscription_policy_exemption": "subscription_id",
    "azurerm_resource_group_policy_exemption": "resource_group_id",
    "azurerm_resource_policy_exemption": "resource_id",
}
# The level each resource type deploys at, whatever its scope argument evaluates to.
EXEMPTION_LEVELS = {
    "azurerm_management_group_policy_exemption": ScopeLevel.MANAGEMENT_GROUP,
    "azurerm_subscription_policy_exemption": ScopeLevel.SUBSCRIPTION,
    "azurerm_resource_group_policy_exemption": ScopeLevel.RESOURCE_GROUP,
    "azurerm_resource_policy_exemption": ScopeLevel.RESOURCE,
}
# Terraform argument -> canonical exemption property.
ARGUMENTS = {
    "policy_assignment_id": "policyAssignmentId",
    "exemption_category": "exemptionCategory",
    "expires_on": "expiresOn",
    "display_name": "displayName",
    "description": "description",
    "metadata": "metadata",
    "policy_definition_reference_ids": "policyDefinitionReferenceIds",
}

def is_terraform_plan(doc: Any) -> bool:
    return isinstance(doc, dict) and "format_version" in doc and "planned_values" in doc


def exemption_level(rtype: str, scope: Any) -> ScopeLevel:
    """The level an azurerm exemption deploys at: its resource type's. A scope written as a
    string that is no Azure id at all keeps the unknown level (EL008 reports the id)."""
    if isinstance(scope, str) and scope_level(scope) == ScopeLevel.UNKNOWN:
        return ScopeLevel.UNKNOWN
    return EXEMPTION_LEVELS[rtype]


def decoded(value: Any) -> Any:
    """A JSON text (``metadata``, an AzAPI 1.x ``body`` string) as its object."""
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            return value
        return decoded if isinstance(decoded, dict) else value
    return value


# ----------------------------------------------------------------------------- plan JSON


def load_terraform_plan(doc: dict[str, Any], file: str, positions: JsonPositions) -> LoadResult:
    result = LoadResult()
    planned = doc.get("planned_values")
    root = planned.get("root_module") if isinstance(planned, dict) else None
    if not isinstance(root, dict):
        return result
    # Values known only after apply are absent from planned_values; resource_changes says which.
    unknown: dict[str, dict[str, Any]] = {}
    changes = doc.get("resource_changes")
    for change in changes if isinstance(changes, list) else []:
        if isinstance(change, dict) and isinstance(change.get("change"), dict):
            after_unknown = change["change"].get("after_unknown")
            if isinstance(after_unknown, dict) and isinstance(change.get("address"), str):
                unknown[change["address"]] = after_unknown
    stack: list[tuple[dict[str, Any], tuple[str | int, ...]]] = [(root, ("planned_values", "root_module"))]
    while stack:
        module, path = stack.pop(0)
        resources = module.get("resources")
        for i, resource in enumerate(resources if isinstance(resources, list) else []):
            if not isinstance(resource, dict) or resource.get("mode", "managed") != "managed":
                continue
            rtype = resource.get("type")
            values = resource.get("values")
            if not isinstance(values, dict) or not isinstance(rtype, str):
                continue
            values_path = (*path, "resources", i, "values")
            address = resource.get("address")
            context = address if isinstance(address, str) else None
            pending = unknown.get(context or "", {})
            values = dict(values)
            for argument, is_unknown in pending.items():
                if is_unknown is True:
                    values[argument] = Unresolved(
                        f"{context}.{argument}", "the value is known only after apply"
                    )
            if rtype in EXEMPTION_TYPES:
                scope_arg = EXEMPTION_TYPES[rtype]
                properties: dict[str, Any] = {}
                spelled: dict[str, str] = {}
                for argument, canonical in ARGUMENTS.items():
                    if argument not in values:
                        continue
                    value = values[argument]
                    if canonical == "metadata":
                        value = decoded(value)
                    if value is None:
                        continue  # the provider writes null for an argument that is not set
                    if canonical in PLACEHOLDER_PROPERTIES:
                        value = mark_placeholders(value)
                    properties[canonical] = value
                    spelled[canonical] = argument
                spelled["name"] = "name"
                spelled["scope"] = scope_arg
                scope = mark_placeholders(values.get(scope_arg))
                result.exemptions.append(
                    Exemption(
                        name=mark_placeholders(values.get("name")),
                        scope=scope,
                        scope_level=exemption_level(rtype, scope),
                        properties=properties,
                        source=Source(
                            file,
                            "terraform-plan",
                            JsonLocator(positions, values_path, values_path, spelled),
                            context=context,
                        ),
                    )
                )
            elif rtype in SET_DEFINITION_TYPES:
                source = Source(file, "terraform-plan", JsonLocator(positions, values_path, values_path, {}))
                result.set_definitions.append(plan_set_definition(values, source))
            elif rtype in PLACEMENT_TYPES:
                source = Source(file, "terraform-plan", JsonLocator(positions, values_path, values_path, {}))
                result.placements.extend(plan_placements(rtype, values, source))
            elif rtype in ASSIGNMENT_TYPES:
                scope = values.get(ASSIGNMENT_TYPES[rtype])
                assignment_id = values.get("id")
                if not isinstance(assignment_id, str):
                    assignment_id = join_id(scope, ASSIGNMENT_SUFFIX, values.get("name"))
                result.assignments.append(
                    PolicyAssignment(
                        id=mark_placeholders(assignment_id),
                        name=values.get("name"),
                        policy_definition_id=mark_placeholders(values.get("policy_definition_id")),
                        source=Source(
                            file, "terraform-plan", JsonLocator(positions, values_path, values_path, {})
                        ),
                    )
                )
        children = module.get("child_modules")
        for j, child in enumerate(children if isinstance(children, list) else []):
            if isinstance(child, dict):
                stack.append((child, (*path, "child_modules", j)))
    return result


def plan_placements(rtype: str, values: dict[str, Any], source: Source) -> list[Placement]:
    """Where a planned management group sits and the subscriptions it holds, or where a planned
    association places a subscription. A parent the plan leaves out is computed by the provider
    (the tenant root group, or the group's current parent): not known."""
    if rtype == "azurerm_management_group_subscription_association":
        return [Placement(values.get("subscription_id"), values.get("management_group_id"), source)]
    name = values.get("name", values.get("group_id"))
    child = concat(MANAGEMENT_GROUP_PREFIX, name) if isinstance(name, (str, Unresolved)) else None
    parent = values.get("parent_management_group_id")
    if parent is None:
        parent = Unresolved("parent_management_group_id", "the plan leaves it to the provider")
    placements = [Placement(child, parent, source)]
    subscriptions = values.get("subscription_ids")
    for subscription in subscriptions if isinstance(subscriptions, list) else []:
        placements.append(Placement(concat("/subscriptions/", subscription), child, source))
    return placements


def plan_set_definition(values: dict[str, Any], source: Source) -> SetDefinition:
    """A policy set definition as the plan holds it (members with their reference ids)."""
    blocks = values.get("policy_definition_reference")
    members: list[tuple[Any, Any]] | None = None
    if isinstance(blocks, list) and blocks:
        members = [
            (block.get("reference_id"), block.get("policy_definition_id"))
            for block in blocks
            if isinstance(block, dict)
        ]
    return SetDefinition(
        id=values.get("id") if isinstance(values.get("id"), str) else None,
        name=values.get("name"),
        display_name=values.get("display_name"),
        members=members,
        source=source,
    )
