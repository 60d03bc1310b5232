"""ARM templates: every policy exemption a template would deploy, with its expressions evaluated.

Handles resources at every level (array form and the ``languageVersion: 2.0`` symbolic-name
object form), child resources, nested ``Microsoft.Resources/deployments`` with inline templates
(and their ``subscriptionId``/``resourceGroup``/``scope`` targeting, inner or outer expression
evaluation), ``copy`` loops and ``condition``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from exemptlint.loaders.arm_expressions import Deployment, Evaluator, is_expression
from exemptlint.loaders.jsontext import JsonLocator, JsonPositions, Path, repeated_keys
from exemptlint.loaders.values import canonical_properties, get_ci, join_context, join_id
from exemptlint.model import (
    ASSIGNMENT_TYPE,
    EXEMPTION_TYPE,
    Exemption,
    LoadResult,
    PolicyAssignment,
    ScopeLevel,
    Source,
    Unresolved,
    display_value,
)
from exemptlint.scope import scope_level

_DEPLOYMENTS_TYPE = "microsoft.resources/deployments"
_EXEMPTION_TYPE = EXEMPTION_TYPE.lower()
_ASSIGNMENT_TYPE = ASSIGNMENT_TYPE.lower()
# ARM allows at most 800 copies; a larger count is a mistake we should not loop over.
_MAX_COPIES = 800
_MAX_NESTING = 20
_FALSE = frozenset({"false", "[false()]", "[bool(false())]", "[bool('false')]"})

_SCHEMA_LEVELS = (
    ("subscriptiondeploymenttemplate", ScopeLevel.SUBSCRIPTION),
    ("managementgroupdeploymenttemplate", ScopeLevel.MANAGEMENT_GROUP),
    ("tenantdeploymenttemplate", ScopeLevel.TENANT),
    ("deploymenttemplate", ScopeLevel.RESOURCE_GROUP),
)


def is_arm_template(doc: Any) -> bool:
    if not isinstance(doc, dict):
        return False
    schema = doc.get("$schema")
    if isinstance(schema, str):
        lowered = schema.lower()
        if "deploymenttemplate" in lowered:
            return True
        if "deploymentparameters" in lowered:
            return False
    return "resources" in doc and ("contentVersion" in doc or "$schema" in doc)


def is_parameters_file(doc: Any) -> bool:
    if not isinstance(doc, dict):
        return False
    schema = doc.get("$schema")
    return isinstance(schema, str) and "deploymentparameters" in schema.lower()


def template_level(template: Mapping[str, Any]) -> ScopeLevel | None:
    schema = template.get("$schema")
    if not isinstance(schema, str):
        return None
    lowered = schema.lower()
    for marker, level in _SCHEMA_LEVELS:
        if marker in lowered:
            return level
    return None


def parameter_values(doc: Any) -> dict[str, Any]:
    """The values of a deploymentParameters file (``{"parameters": {"x": {"value": ...}}}``)."""
    if not isinstance(doc, dict):
        return {}
    params = doc.get("parameters", doc)
    values: dict[str, Any] = {}
    if isinstance(params, dict):
        for name, entry in params.items():
            if isinstance(entry, dict) and "value" in entry:
                values[name] = entry["value"]
            elif isinstance(entry, dict) and "reference" in entry:
                values[name] = Unresolved(
                    f"parameters('{name}')", f"parameter '{name}' is a Key Vault reference", None
                )
    return values


@dataclass(frozen=True)
class _Frame:
    """Where resources of one template are being read."""

    evaluator: Evaluator
    deployment: Deployment
    # The scope the template deploys to, as a resource id (may be unresolved).
    scope: Any
    path: Path
    depth: int
    context: str | None

    def but(self, *, context: str | None, evaluator: Evaluator | None = None) -> _Frame:
        """This frame with another context (and evaluator): ``dataclasses.replace``, cheaper."""
        if evaluator is None:
            evaluator = self.evaluator
        return _Frame(evaluator, self.deployment, self.scope, self.path, self.depth, context)


def load_arm(
    doc: dict[str, Any],
    file: str,
    positions: JsonPositions,
    today: datetime.date,
    parameter_file_values: Mapping[str, Any] | None = None,
) -> LoadResult:
    result = LoadResult()
    level = template_level(doc) or ScopeLevel.RESOURCE_GROUP
    deployment = Deployment(level=level)
    evaluator = _template_evaluator(doc, deployment, today, parameter_file_values or {})
    frame = _Frame(evaluator, deployment, _deployment_scope(deployment, evaluator), (), 0, None)
    loader = _TemplateLoader(file, positions, today, result)
    loader.template(doc, frame)
    return result


def _template_evaluator(
    template: Mapping[str, Any],
    deployment: Deployment,
    today: datetime.date,
    supplied: Mapping[str, Any],
) -> Evaluator:
    """An evaluator with the template's parameters (supplied values, else defaults) and variables."""
    supplied_ci = {k.lower(): v for k, v in supplied.items()} if supplied else {}
    declared = template.get("parameters")
    variables = template.get("variables")
    values: dict[str, Any] = {}
    if isinstance(declared, dict):
        # Defaults may refer to parameters declared before them: one evaluator, made when the
        # first default needs it, is told each parameter's value as it becomes known.
        defaults: Evaluator | None = None
        for name, spec in declared.items():
            lowered = name.lower()
            if lowered in supplied_ci:
                values[name] = supplied_ci[lowered]
            elif isinstance(spec, dict) and "defaultValue" in spec:
                if defaults is None:
                    defaults = Evaluator(
                        parameters=values,
                        variables={},
                        deployment=deployment,
                        today=today,
                        in_parameter_default=True,
                    )
                values[name] = defaults.evaluate(spec["defaultValue"])
            else:
                values[name] = Unresolved(
                    f"[parameters('{name}')]",
                    f"parameter '{name}' has no default value and no value was supplied",
                    None,
                )
            if defaults is not None:
                defaults.declare_parameter(name, values[name])
    return Evaluator(
        parameters=values,
        variables=variables if isinstance(variables, dict) else {},
        deployment=deployment,
        today=today,
    )


def _deployment_scope(deployment: Deployment, evaluator: Evaluator) -> Any:
    """The resource id of the scope a template deploys to."""
    expression = {
        ScopeLevel.TENANT: None,
        ScopeLevel.MANAGEMENT_GROUP: "[managementGroup().id]",
        ScopeLevel.SUBSCRIPTION: "[subscription().id]",
        ScopeLevel.RESOURCE_GROUP: "[resourceGroup().id]",
    }.get(deployment.level)
    if deployment.level == ScopeLevel.TENANT:
        return "/"
    if expression is None:
        return Unresolved("deployment scope", "the deployment scope is not known", None)
    return evaluator.evaluate(expression)


class _TemplateLoader:
    def __init__(self, file: str, positions: JsonPositions, today: datetime.date, result: LoadResult) -> None:
        self.file = file
        self.positions = positions
        self.today = today
        self.result = result

    def template(self, template: Mapping[str, Any], frame: _Frame) -> None:
        resources = template.get("resources")
        for resource, key in _iter_resources(resources):
            self.resource(resource, (*frame.path, "resources", key), frame, parent_type=None)

    def resource(self, resource: dict[str, Any], path: Path, frame: _Frame, parent_type: str | None) -> None:
        copy = resource.get("copy")
        if isinstance(copy, dict):
            count = frame.evaluator.evaluate(copy.get("count"))
            name = copy.get("name") if isinstance(copy.get("name"), str) else None
            if isinstance(count, int) and not isinstance(count, bool):
                for index in range(min(max(count, 0), _MAX_COPIES)):
                    child = frame.evaluator.with_copy_index(name, index)
                    context = join_context(frame.context, f"copyIndex({name or ''}) = {index}")
                    copy_frame = frame.but(evaluator=child, context=context)
                    self.one_resource(resource, path, copy_frame, parent_type)
                return
            context = join_context(frame.context, f"copy count {display_value(count)} not known")
            self.one_resource(resource, path, frame.but(context=context), parent_type)
            return
        self.one_resource(resource, path, frame, parent_type)

    def one_resource(
        self, resource: dict[str, Any], path: Path, frame: _Frame, parent_type: str | None
    ) -> None:
        evaluator = frame.evaluator
        if "condition" in resource:
            condition = resource["condition"]
            # Only a literally false condition is skipped: one that depends on parameters is
            # decided at deployment time, whatever the defaults say.
            if condition is False or (isinstance(condition, str) and condition.strip().lower() in _FALSE):
                return
            if evaluator.evaluate(condition) is not True or _mentions_parameters(condition):
                frame = frame.but(context=join_context(frame.context, "deployed only if its condition holds"))
        raw_type = evaluator.evaluate(resource.get("type"))
        if not isinstance(raw_type, str):
            return
        rtype = raw_type if parent_type is None or "/" in raw_type else f"{parent_type}/{raw_type}"
        lowered = rtype.lower()
        if lowered == _EXEMPTION_TYPE:
            self.exemption(resource, path, frame)
        elif lowered == _ASSIGNMENT_TYPE:
            self.assignment(resource, path, frame)
        elif lowered == _DEPLOYMENTS_TYPE:
            self.nested_deployment(resource, path, frame)
        children = resource.get("resources")
        if isinstance(children, (list, dict)) and lowered != _DEPLOYMENTS_TYPE:
            for child, key in _iter_resources(children):
                self.resource(child, (*path, "resources", key), frame, parent_type=rtype)

    def _scope_of(self, resource: dict[str, Any], frame: _Frame) -> Any:
        if "scope" not in resource:
            return frame.scope
        scope = frame.evaluator.evaluate(resource["scope"])
        if isinstance(scope, str) and not scope.startswith("/"):
            # A relative id ("Microsoft.Storage/storageAccounts/sa") names a resource in the
            # deployment's resource group (or subscription).
            return join_id(frame.scope, f"/providers/{scope}", "")
        return scope

    def exemption(self, resource: dict[str, Any], path: Path, frame: _Frame) -> None:
        evaluator = frame.evaluator
        props_key, raw_props = get_ci(resource, "properties")
        evaluated = evaluator.evaluate(raw_props) if raw_props is not None else {}
        key_path: Path = (*path, props_key or "properties")
        if isinstance(evaluated, dict):
            properties, spelled = canonical_properties(evaluated)
            if isinstance(raw_props, dict):
                for canonical, key in spelled.items():
                    value = properties[canonical]
                    if isinstance(value, Unresolved):
                        properties[canonical] = _as_written(raw_props.get(key), value)
        else:
            properties, spelled = {}, {}
            if isinstance(evaluated, Unresolved):
                for name in (
                    "policyAssignmentId",
                    "exemptionCategory",
                    "expiresOn",
                    "description",
                    "displayName",
                ):
                    properties[name] = Unresolved(evaluated.expression, evaluated.reason, None)
        name = _as_written(resource.get("name"), evaluator.evaluate(resource.get("name")))
        scope = _as_written(resource.get("scope"), self._scope_of(resource, frame))
        spelled["name"] = "name"
        if "scope" in resource:
            spelled["scope"] = "scope"
        if props_key is not None:
            spelled["properties"] = props_key
        api_version = resource.get("apiVersion")
        self.result.exemptions.append(
            Exemption(
                name=name,
                scope=scope,
                scope_level=scope_level(scope),
                properties=properties,
                source=Source(
                    self.file,
                    "arm",
                    JsonLocator(self.positions, path, key_path, spelled),
                    frame.context,
                    duplicates=repeated_keys(
                        self.positions, (path, resource, ""), (key_path, raw_props, "properties")
                    ),
                ),
                api_version=api_version if isinstance(api_version, str) else None,
            )
        )

    def assignment(self, resource: dict[str, Any], path: Path, frame: _Frame) -> None:
        evaluator = frame.evaluator
        name = evaluator.evaluate(resource.get("name"))
        _, props = get_ci(resource, "properties")
        definition: Any = None
        if isinstance(props, dict):
            _, raw_definition = get_ci(props, "policyDefinitionId")
            definition = evaluator.evaluate(raw_definition)
        scope = self._scope_of(resource, frame)
        assignment_id = join_id(scope, "/providers/Microsoft.Authorization/policyAssignments/", name)
        self.result.assignments.append(
            PolicyAssignment(
                id=assignment_id,
                name=name,
                policy_definition_id=definition,
                source=Source(self.file, "arm", JsonLocator(self.positions, path, path, {}), frame.context),
            )
        )

    def nested_deployment(self, resource: dict[str, Any], path: Path, frame: _Frame) -> None:
        if frame.depth >= _MAX_NESTING:
            return
        _, props = get_ci(resource, "properties")
        if not isinstance(props, dict):
            return
        template_key, template = get_ci(props, "template")
        if not isinstance(template, dict) or template_key is None:
            return  # templateLink: the linked template is linted where it lives, if at all
        outer = frame.evaluator
        deployment = self._target(resource, template, frame)
        options = get_ci(props, "expressionEvaluationOptions")[1]
        inner = isinstance(options, dict) and str(get_ci(options, "scope")[1]).lower() == "inner"
        if inner:
            supplied = parameter_values({"parameters": outer.evaluate(get_ci(props, "parameters")[1] or {})})
            evaluator = _template_evaluator(template, deployment, self.today, supplied)
        else:
            # Outer evaluation (the default): the nested template's expressions are evaluated in
            # the parent's context; only the place it deploys to changes.
            evaluator = outer
        name = display_value(outer.evaluate(resource.get("name")))
        context = join_context(frame.context, f"nested deployment {name}")
        nested_scope_evaluator = _template_evaluator({}, deployment, self.today, {})
        self.template(
            template,
            _Frame(
                evaluator,
                deployment,
                _deployment_scope(deployment, nested_scope_evaluator),
                (*path, get_ci(resource, "properties")[0] or "properties", template_key),
                frame.depth + 1,
                context,
            ),
        )

    def _target(self, resource: dict[str, Any], template: Mapping[str, Any], frame: _Frame) -> Deployment:
        """Where a nested deployment deploys: its targeting properties, else its parent's scope."""
        evaluate = frame.evaluator.evaluate
        parent = frame.deployment
        has_sub = "subscriptionId" in resource
        has_rg = "resourceGroup" in resource
        if has_rg:
            return Deployment(
                level=ScopeLevel.RESOURCE_GROUP,
                subscription_id=evaluate(resource["subscriptionId"]) if has_sub else parent.subscription_id,
                resource_group=evaluate(resource["resourceGroup"]),
                tenant_id=parent.tenant_id,
            )
        if has_sub:
            return Deployment(
                level=ScopeLevel.SUBSCRIPTION,
                subscription_id=evaluate(resource["subscriptionId"]),
                tenant_id=parent.tenant_id,
            )
        if "scope" in resource:
            scope = evaluate(resource["scope"])
            text = display_value(scope).strip("/")
            parts = text.split("/")
            lowered = [p.lower() for p in parts]
            if text == "":
                return Deployment(level=ScopeLevel.TENANT, tenant_id=parent.tenant_id)
            if len(parts) >= 3 and lowered[-3:-1] == ["microsoft.management", "managementgroups"]:
                mg: Any = parts[-1] if isinstance(scope, str) else _unresolved_part(scope, "management group")
                return Deployment(
                    level=ScopeLevel.MANAGEMENT_GROUP, management_group=mg, tenant_id=parent.tenant_id
                )
            if len(parts) == 2 and lowered[0] == "subscriptions":
                sub: Any = parts[1] if isinstance(scope, str) else _unresolved_part(scope, "subscription")
                return Deployment(
                    level=ScopeLevel.SUBSCRIPTION, subscription_id=sub, tenant_id=parent.tenant_id
                )
        # No targeting: the nested deployment deploys where its parent does. Its $schema, if it
        # says otherwise, is a template error that ARM reports; we keep the parent's scope.
        return parent


def _as_written(raw: Any, value: Any) -> Any:
    """An unresolved value shows the expression written at the property, not one from deeper
    inside (a parameter's default, a variable); the reason still says what was not known."""
    if (
        isinstance(value, Unresolved)
        and isinstance(raw, str)
        and is_expression(raw)
        and raw != value.expression
    ):
        return Unresolved(raw, value.reason, value.partial)
    return value


def _mentions_parameters(value: Any) -> bool:
    return isinstance(value, str) and "parameters(" in value.replace(" ", "").lower()


def _unresolved_part(scope: Any, what: str) -> Unresolved:
    if isinstance(scope, Unresolved):
        return Unresolved(scope.expression, scope.reason, f"{{{what}}}")
    return Unresolved(str(scope), f"the {what} is not known", None)


def _iter_resources(resources: Any) -> Iterator[tuple[dict[str, Any], str | int]]:
    if isinstance(resources, list):
        for index, resource in enumerate(resources):
            if isinstance(resource, dict):
                yield resource, index
    elif isinstance(resources, dict):
        for key, resource in resources.items():
            if isinstance(resource, dict) and not resource.get("existing"):
                yield resource, key


__all__ = [
    "is_arm_template",
    "is_expression",
    "is_parameters_file",
    "load_arm",
    "parameter_values",
    "template_level",
]
