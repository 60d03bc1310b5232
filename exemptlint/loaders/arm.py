"""ARM templates: every policy exemption a template would deploy, with its expressions evaluated.

Handles resources at every level (array form and the ``languageVersion: 2.0`` symbolic-name
object form), child resources, nested ``Microsoft.Resources/deployments`` with inline templates
(and their ``subscriptionId``/``resourceGroup``/``scope`` targeting, inner or outer expression
evaluation), ``copy`` loops and ``condition``.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from exemptlint.loaders.arm_expressions import Deployment, Evaluator, is_expression
from exemptlint.loaders.jsontext import JsonLocator, JsonPositions, Path, repeated_keys
from exemptlint.loaders.values import (
    canonical_properties,
    concat,
    get_ci,
    join_context,
    join_id,
    mark_placeholders,
    resource_placement,
)
from exemptlint.model import (
    ASSIGNMENT_TYPE,
    EXEMPTION_TYPE,
    MANAGEMENT_GROUP_SUBSCRIPTION_TYPE,
    MANAGEMENT_GROUP_TYPE,
    SET_DEFINITION_TYPE,
    Exemption,
    LoadNote,
    LoadResult,
    PolicyAssignment,
    Position,
    ScopeLevel,
    Skipped,
    Source,
    Unresolved,
    display_value,
)
from exemptlint.scope import scope_level

_DEPLOYMENTS_TYPE = "microsoft.resources/deployments"
_EXEMPTION_TYPE = EXEMPTION_TYPE.lower()
_ASSIGNMENT_TYPE = ASSIGNMENT_TYPE.lower()
_SET_DEFINITION_TYPE = SET_DEFINITION_TYPE.lower()
_MANAGEMENT_GROUP_TYPE = MANAGEMENT_GROUP_TYPE.lower()
_MANAGEMENT_GROUP_SUBSCRIPTION_TYPE = MANAGEMENT_GROUP_SUBSCRIPTION_TYPE.lower()
# ARM allows at most 800 copies and rejects a template that asks for more (EL008).
_MAX_COPIES = 800
_MAX_NESTING = 20
# Text in a resource (its type, a nested template's types) that shows it may deploy an
# exemption or an assignment: only such resources are listed when they are skipped.
_POLICY_TYPES = ("policyexemptions", "policyassignments")

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
    # Decides conditions and copy counts: as ``evaluator``, except that a parameter left at an
    # empty default is its default here, and unknown there (see ``_evaluators``).
    conditions: Evaluator

    def but(
        self, *, context: str | None, evaluator: Evaluator | None = None, conditions: Evaluator | None = None
    ) -> _Frame:
        """This frame with another context (and evaluators): ``dataclasses.replace``, cheaper."""
        if evaluator is None:
            evaluator = self.evaluator
        if conditions is None:
            conditions = self.conditions
        return _Frame(evaluator, self.deployment, self.scope, self.path, self.depth, context, conditions)


def load_arm(
    doc: dict[str, Any],
    file: str,
    positions: JsonPositions,
    today: datetime.date,
    parameter_file_values: Mapping[str, Any] | None = None,
    standalone: bool = True,
) -> LoadResult:
    """The exemptions and assignments of a template.

    ``standalone``: the template is linted on its own, not deployed through a parameters file
    made for it; then a parameter that gets no value and defaults to ``''`` or ``null`` is an
    input its caller must give, unknown in values (see ``_evaluators``).
    """
    result = LoadResult()
    level = template_level(doc) or ScopeLevel.RESOURCE_GROUP
    deployment = Deployment(level=level)
    evaluator, conditions = _evaluators(
        doc, deployment, today, parameter_file_values or {}, standalone=standalone
    )
    scope = _deployment_scope(deployment, evaluator)
    frame = _Frame(evaluator, deployment, scope, (), 0, None, conditions)
    loader = _TemplateLoader(file, positions, today, result)
    loader.template(doc, frame)
    return result


def _evaluators(
    template: Mapping[str, Any],
    deployment: Deployment,
    today: datetime.date,
    supplied: Mapping[str, Any],
    supplied_for_conditions: Mapping[str, Any] | None = None,
    standalone: bool = False,
) -> tuple[Evaluator, Evaluator]:
    """Evaluators for the template's values and for its conditions.

    Conditions (``condition``, copy counts) are decided with every value known: supplied values,
    else defaults. In values, a parameter of a ``standalone`` template that gets no value and
    defaults to ``''`` or ``null`` is unknown: a reusable template's optional input is for its
    caller to give, and the empty default is not what is deployed (reporting "no description"
    for it would be a false alarm). The two are one evaluator when they cannot differ.
    ``supplied_for_conditions``: the caller's values as its conditions see them, when they differ.
    """
    for_conditions = _parameter_values(
        template, deployment, today, supplied if supplied_for_conditions is None else supplied_for_conditions
    )
    values = (
        for_conditions
        if supplied_for_conditions is None
        else _parameter_values(template, deployment, today, supplied)
    )
    inputs: dict[str, Any] = {}
    if standalone:
        given = {name.lower() for name in supplied}
        for name, value in values.items():
            if name.lower() not in given and (value is None or value == ""):
                shown = "null" if value is None else "''"
                inputs[name] = Unresolved(
                    f"[parameters('{name}')]",
                    f"parameter '{name}' defaults to {shown} and no value was supplied: "
                    "an input the caller of the template must give",
                    None,
                )
    declared = template.get("variables")
    variables = declared if isinstance(declared, dict) else {}
    evaluator = Evaluator(
        parameters={**values, **inputs}, variables=variables, deployment=deployment, today=today
    )
    if not inputs and supplied_for_conditions is None:
        return evaluator, evaluator
    conditions = Evaluator(parameters=for_conditions, variables=variables, deployment=deployment, today=today)
    return evaluator, conditions


def _parameter_values(
    template: Mapping[str, Any],
    deployment: Deployment,
    today: datetime.date,
    supplied: Mapping[str, Any],
) -> dict[str, Any]:
    """The template's parameters: supplied values, else defaults, else unknown."""
    supplied_ci = {k.lower(): v for k, v in supplied.items()} if supplied else {}
    declared = template.get("parameters")
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
    return values


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
        # Template problems already reported (a copy count inside a copied deployment is met
        # once per outer copy).
        self.reported: set[tuple[int, int]] = set()

    def template(self, template: Mapping[str, Any], frame: _Frame) -> None:
        resources = template.get("resources")
        for resource, key in _iter_resources(resources):
            self.resource(resource, (*frame.path, "resources", key), frame, parent_type=None)

    def resource(
        self,
        resource: dict[str, Any],
        path: Path,
        frame: _Frame,
        parent_type: str | None,
        parent_name: Any = None,
    ) -> None:
        copy_key, copy = get_ci(resource, "copy")
        if not isinstance(copy, dict) or copy_key is None:
            self.one_resource(resource, path, frame, parent_type, parent_name)
            return
        count_key, raw_count = get_ci(copy, "count")
        count = frame.conditions.evaluate(raw_count)
        name = copy.get("name") if isinstance(copy.get("name"), str) else None
        where = self.positions.key((*path, copy_key, count_key or "count")) or self.positions.key(
            (*path, copy_key)
        )
        if isinstance(count, int) and not isinstance(count, bool):
            if count == 0:
                self.skip(resource, path, frame, where, raw_count, "the copy count is 0")
                return
            if 0 < count <= _MAX_COPIES:
                for index in range(count):
                    context = join_context(frame.context, f"copyIndex({name or ''}) = {index}")
                    copy_frame = frame.but(
                        evaluator=frame.evaluator.with_copy_index(name, index),
                        conditions=frame.conditions.with_copy_index(name, index),
                        context=context,
                    )
                    self.one_resource(resource, path, copy_frame, parent_type, parent_name)
                return
            # ARM rejects the template: say so, and lint the resource once with copyIndex() unknown
            # rather than drop copies without a word.
            if _deploys_policy(resource):
                self.problem(
                    where,
                    f"copy count {count} is not allowed: ARM deploys 0 to {_MAX_COPIES} copies of a "
                    "resource and rejects this template",
                )
            reason = f"copy count {count} is outside 0 to {_MAX_COPIES}: the copies are not expanded"
        else:
            reason = f"the copy count is not known: {display_value(count)}"
            if isinstance(count, Unresolved):
                reason = f"the copy count is not known ({count.reason})"
        unknown = Unresolved(f"copyIndex({name or ''})", reason)
        context = join_context(frame.context, f"copy count {display_value(count)} not known")
        if isinstance(count, int) and not isinstance(count, bool):
            context = join_context(frame.context, f"copy count {count} not expanded")
        copy_frame = frame.but(
            evaluator=frame.evaluator.with_copy_index(name, unknown),
            conditions=frame.conditions.with_copy_index(name, unknown),
            context=context,
        )
        self.one_resource(resource, path, copy_frame, parent_type, parent_name)

    def one_resource(
        self,
        resource: dict[str, Any],
        path: Path,
        frame: _Frame,
        parent_type: str | None,
        parent_name: Any = None,
    ) -> None:
        evaluator = frame.evaluator
        if "condition" in resource:
            condition = resource["condition"]
            decided = _as_bool(frame.conditions.evaluate(condition))
            if decided is False:
                # Not deployed with the values known (supplied, else defaults): not linted, listed.
                where = self.positions.key((*path, "condition"))
                self.skip(resource, path, frame, where, condition, "the condition is false")
                return
            # True with defaults that may be overridden, or not known: linted, and the context says
            # that it is deployed only if the condition holds.
            if decided is not True or _mentions_parameters(condition):
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
        elif lowered == _SET_DEFINITION_TYPE:
            self.set_definition(resource, path, frame)
        elif lowered == _DEPLOYMENTS_TYPE:
            self.nested_deployment(resource, path, frame)
        elif lowered in (_MANAGEMENT_GROUP_TYPE, _MANAGEMENT_GROUP_SUBSCRIPTION_TYPE):
            self.placement(resource, path, frame, lowered, parent_name)
        children = resource.get("resources")
        if isinstance(children, (list, dict)) and lowered != _DEPLOYMENTS_TYPE:
            name = evaluator.evaluate(resource.get("name"))
            if parent_name is not None:
                name = concat(parent_name, "/", name)
            for child, key in _iter_resources(children):
                self.resource(child, (*path, "resources", key), frame, parent_type=rtype, parent_name=name)

    def skip(
        self,
        resource: dict[str, Any],
        path: Path,
        frame: _Frame,
        where: Position | None,
        decided_by: Any,
        reason: str,
    ) -> None:
        """Record a resource that is not deployed, if it could deploy an exemption or assignment."""
        if not _deploys_policy(resource):
            return
        position = where or self.positions.value(path) or Position(1, 1)
        rtype = resource.get("type")
        name = display_value(frame.evaluator.evaluate(resource.get("name")))
        described = f"{rtype if isinstance(rtype, str) else 'resource'} '{name}'"
        condition = decided_by if isinstance(decided_by, str) else json.dumps(decided_by)
        self.result.skipped.append(
            Skipped(self.file, position.line, position.column, described, condition, reason, frame.context)
        )

    def problem(self, where: Position | None, message: str, rule_id: str = "EL008") -> None:
        """A problem of the template itself, reported by ``rule_id`` at ``where``."""
        position = where or Position(1, 1)
        if (position.line, position.column) not in self.reported:
            self.reported.add((position.line, position.column))
            self.result.notes.append(LoadNote(self.file, position.line, position.column, message, rule_id))

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
        # Pipelines fill tokens such as <<namePrefix>> before deploying: such a value is not known.
        name = mark_placeholders(_as_written(resource.get("name"), evaluator.evaluate(resource.get("name"))))
        scope = mark_placeholders(_as_written(resource.get("scope"), self._scope_of(resource, frame)))
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

    def placement(
        self, resource: dict[str, Any], path: Path, frame: _Frame, rtype: str, parent_name: Any
    ) -> None:
        """A management group (its parent: ``properties.details.parent.id``, none for the tenant
        root group) or a subscription placed in one (named "GROUP/SUBSCRIPTION-ID")."""
        name = frame.evaluator.evaluate(resource.get("name"))
        if parent_name is not None:
            name = concat(parent_name, "/", name)
        source = Source(self.file, "arm", JsonLocator(self.positions, path, path, {}), frame.context)
        properties = None
        if rtype != _MANAGEMENT_GROUP_SUBSCRIPTION_TYPE:
            properties = frame.evaluator.evaluate(get_ci(resource, "properties")[1])
        self.result.placements.append(resource_placement(rtype, name, properties, source))

    def set_definition(self, resource: dict[str, Any], path: Path, frame: _Frame) -> None:
        from exemptlint.loaders.set_definitions import set_definition

        evaluator = frame.evaluator
        _, props = get_ci(resource, "properties")
        source = Source(self.file, "arm", JsonLocator(self.positions, path, path, {}), frame.context)
        name = evaluator.evaluate(resource.get("name"))
        self.result.set_definitions.append(set_definition(None, name, evaluator.evaluate(props), source))

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
            # The template's parameters are what the parent passes (its own defaults otherwise,
            # deployed as they are: the parent is the caller).
            passed = get_ci(props, "parameters")[1] or {}
            supplied = parameter_values({"parameters": outer.evaluate(passed)})
            for_conditions = None
            if frame.conditions is not outer:
                for_conditions = parameter_values({"parameters": frame.conditions.evaluate(passed)})
            evaluator, conditions = _evaluators(template, deployment, self.today, supplied, for_conditions)
        else:
            # Outer evaluation (the default): the nested template's expressions are evaluated in
            # the parent's context; only the place it deploys to changes.
            evaluator, conditions = outer, frame.conditions
        name = display_value(outer.evaluate(resource.get("name")))
        context = join_context(frame.context, f"nested deployment {name}")
        nested_scope_evaluator = _evaluators({}, deployment, self.today, {})[0]
        self.template(
            template,
            _Frame(
                evaluator,
                deployment,
                _deployment_scope(deployment, nested_scope_evaluator),
                (*path, get_ci(resource, "properties")[0] or "properties", template_key),
                frame.depth + 1,
                context,
                conditions,
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


def _as_bool(value: Any) -> bool | None:
    """A condition's value as ARM reads it; None when it is not known."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _deploys_policy(resource: dict[str, Any]) -> bool:
    """Whether the resource mentions an exemption or assignment type anywhere (its own type, or
    the resources of a nested template or its children): what it skips is worth listing."""
    stack: list[Any] = [resource]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            lowered = value.lower()
            if any(kind in lowered for kind in _POLICY_TYPES):
                return True
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


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
