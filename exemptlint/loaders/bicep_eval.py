"""Static evaluation of Bicep expressions, on top of the ARM expression evaluator.

Bicep compiles to ARM: ``'${a}-${b}'`` is ``format('{0}-{1}', a, b)``, ``a ?? b`` is
``coalesce(a, b)``, a parameter is ``parameters('x')``. This module evaluates Bicep's own
syntax (identifiers, interpolation, literals, operators, member access, for-expressions,
lambdas, symbolic resource references) and hands every function call to the ARM evaluator in
``arm_expressions``, whose function library, ``Unresolved`` propagation and partial renderings
are reused as they are: the already evaluated arguments are passed to it as parameters.

Only what ARM does not have, or what differs in Bicep, is implemented here: ``range``, the
lambda functions (``filter``, ``map``, ``reduce``, ``toObject``), ``items``, ``objectKeys``,
``flatten``, ``join``, ``any``, ``loadTextContent``/``loadJsonContent``, user-defined
functions, and the scope functions with arguments (``subscription(id)``,
``resourceGroup(name)``, ``managementGroup(name)``).

Values that cannot be known before deployment become ``Unresolved`` whose ``expression`` is the
Bicep text as written, never a guess.
"""

from __future__ import annotations

import datetime
import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from exemptlint.loaders.arm_expressions import Deployment, Evaluator, type_name
from exemptlint.loaders.bicep_syntax import (
    ArrayLit,
    BicepSyntaxError,
    Binary,
    Call,
    Document,
    Expr,
    ForExpr,
    Identifier,
    IfExpr,
    Index,
    Interpolated,
    Lambda,
    Literal,
    Member,
    ModuleDecl,
    NestedRef,
    ObjectLit,
    Property,
    ResourceDecl,
    Spread,
    Ternary,
    Unary,
    Unsupported,
    parse_document,
)
from exemptlint.loaders.values import concat, join_context, join_id
from exemptlint.model import Position, ScopeLevel, Unresolved

# ARM's limit for copy loops; Bicep loops compile to copy loops.
MAX_LOOP = 800
# Evaluation depth (nested expressions, variable hops, user functions): far below Python's
# recursion limit whatever the input.
_MAX_DEPTH = 120
_MG_PREFIX = "/providers/Microsoft.Management/managementGroups/"
_SCOPE_FUNCTIONS = frozenset({"subscription", "resourcegroup", "managementgroup", "tenant"})
_LOAD_LIMIT = 4 * 1024 * 1024
# utcNow()'s default format (yyyyMMddTHHmmssZ), which dateTimeAdd accepts in Azure.
_BASIC_DATETIME = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z")
CONDITION_CONTEXT = "deployed only if its condition holds"
# Interpolations of strings and ints shorter than this are joined without ARM's format(): far
# below the ARM evaluator's string limit, so both give the same string.
_PLAIN_STRING = 65_536
_PLAIN_INT = 10**15


def walk(expr: Expr | Spread | Property) -> Iterator[Expr]:
    """Every expression inside ``expr``, itself included."""
    stack: list[Any] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, Property):
            stack.append(node.value)
            if not isinstance(node.key, str):
                stack.append(node.key)
            continue
        if isinstance(node, Spread):
            stack.append(node.value)
            continue
        yield node
        if isinstance(node, Interpolated):
            stack.extend(p for p in node.parts if not isinstance(p, str))
        elif isinstance(node, ObjectLit):
            stack.extend(node.properties)
        elif isinstance(node, ArrayLit):
            stack.extend(node.items)
        elif isinstance(node, ForExpr):
            stack.extend((node.iterable, node.body))
        elif isinstance(node, IfExpr):
            stack.extend((node.condition, node.body))
        elif isinstance(node, NestedRef):
            stack.append(node.target)
        elif isinstance(node, (Member, Index)):
            stack.append(node.target)
            if isinstance(node, Index):
                stack.append(node.key)
        elif isinstance(node, Call):
            stack.extend(node.args)
            if node.target is not None:
                stack.append(node.target)
        elif isinstance(node, Unary):
            stack.append(node.operand)
        elif isinstance(node, Binary):
            stack.extend((node.left, node.right))
        elif isinstance(node, Ternary):
            stack.extend((node.condition, node.then, node.otherwise))
        elif isinstance(node, Lambda):
            stack.append(node.body)


# --------------------------------------------------------------------------- ARM calls


@functools.lru_cache(maxsize=256)
def _arm_expression(name: str, count: int) -> str:
    args = ", ".join(f"parameters('a{i}')" for i in range(count))
    return f"[{name}({args})]"


class _Fail(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --------------------------------------------------------------------------- files and instances


class Workspace:
    """What one top-level load shares: the date, parsed files, the modules being followed and
    the evaluation depth."""

    def __init__(self, today: datetime.date) -> None:
        self.today = today
        self.documents: dict[Path, Document | BicepSyntaxError | str] = {}
        self.texts: dict[Path, str] = {}
        self.following: list[Path] = []
        self.depth = 0

    def document(self, path: Path) -> Document | BicepSyntaxError | str:
        """The parsed file, a syntax error, or why it could not be read."""
        key = path.resolve()
        if key not in self.documents:
            from exemptlint.loaders import read_text

            text, error = read_text(key, str(path))
            if error is not None or text is None:
                self.documents[key] = error.message if error is not None else "cannot read file"
            else:
                self.texts[key] = text
                try:
                    self.documents[key] = parse_document(text, key.suffix.lower() == ".bicepparam")
                except BicepSyntaxError as syntax:
                    self.documents[key] = syntax
        return self.documents[key]

    def add(self, key: Path, text: str, document: Document) -> None:
        """A file already parsed; ``key`` is its resolved path."""
        self.texts[key] = text
        self.documents[key] = document


class Instance(NamedTuple):
    """One deployed copy of a resource or module: its body object and the loop variables in
    scope there (``condition_local``: as conditions see them, when that differs)."""

    decl: ResourceDecl | ModuleDecl
    body: ObjectLit
    local: dict[str, Any]
    context: str | None
    parent: Instance | None = None
    condition_local: dict[str, Any] | None = None

    @property
    def locals_for_conditions(self) -> dict[str, Any]:
        return self.local if self.condition_local is None else self.condition_local


class NotDeployed(NamedTuple):
    """Why some copies of a resource or module are not deployed: ``where`` is the condition
    (``if``) or loop (``for``) that decided, ``text`` that condition or loop's items as written."""

    where: Position
    text: str
    reason: str
    context: str | None


class LoopProblem(NamedTuple):
    """A loop Bicep cannot deploy (more items than ARM's copy limit): reported by EL008."""

    where: Position
    message: str


# A loop's pieces as expand() passes them on: the body with its locals (for values, and for
# conditions when they differ) and its context.
_Expanded = tuple[ObjectLit, dict[str, Any], str | None, "dict[str, Any] | None"]


class FileContext:
    """One Bicep file as deployed once: its declarations, parameter values and deployment."""

    def __init__(
        self,
        workspace: Workspace,
        document: Document,
        deployment: Deployment,
        supplied: Mapping[str, Any],
        path: Path | None,
        modules: ModuleHost | None = None,
        entry: bool = False,
        standalone: bool = False,
        supplied_for_conditions: Mapping[str, Any] | None = None,
    ) -> None:
        self.workspace = workspace
        # The file being deployed (not a module): its parameters' defaults may be overridden.
        self.entry = entry
        # Linted on its own, with no caller and no parameters file: a parameter that gets no value
        # and is nullable or defaults to '' or null is an input the caller must give, unknown in
        # values; conditions still read the default (see ``param_value``).
        self.standalone = standalone
        self.document = document
        self.deployment = deployment
        self.supplied = {k.lower(): v for k, v in supplied.items()}
        # The caller's values as its conditions saw them, when they differ from ``supplied``.
        self.supplied_for_conditions = (
            self.supplied
            if supplied_for_conditions is None
            else {k.lower(): v for k, v in supplied_for_conditions.items()}
        )
        # Whether conditions can see other values than the rest of the file (else one memo serves).
        self.two_modes = standalone or supplied_for_conditions is not None
        self.path = path
        self.modules_host = modules
        self.params = {p.name: p for p in document.params}
        self.variables = {v.name: v for v in document.variables}
        self.functions = {f.name: f for f in document.functions}
        self.imports = frozenset(document.imports)
        self.resources: dict[str, ResourceDecl] = {}
        self.parents: dict[int, ResourceDecl] = {}
        self.all_resources: list[ResourceDecl] = []
        for resource in document.resources:
            self._register(resource, None)
        self.module_decls = {m.symbol: m for m in document.modules}
        self._memo: dict[str, Any] = {}
        self._active: list[str] = []
        self._instances: dict[int, list[Instance]] = {}
        # By declaration: what expanding it left out, and loops it could not expand.
        self._not_deployed: dict[int, list[NotDeployed]] = {}
        self._loop_problems: dict[int, list[LoopProblem]] = {}

    def _register(self, resource: ResourceDecl, parent: ResourceDecl | None) -> None:
        self.all_resources.append(resource)
        if parent is None:
            self.resources.setdefault(resource.symbol, resource)
        else:
            self.parents[id(resource)] = parent
        for body in _bodies(resource.body):
            for child in body.resources:
                self._register(child, resource)

    def evaluator(
        self,
        local: Mapping[str, Any] | None = None,
        in_parameter_default: bool = False,
        condition: bool = False,
    ) -> BicepEvaluator:
        """An evaluator of this file's expressions; ``condition``: one that decides a resource's
        or module's condition or loop (parameters left at an empty default read as that default)."""
        return BicepEvaluator(self, dict(local or {}), in_parameter_default, condition and self.two_modes)

    # -- lazily evaluated declarations

    def _lazy(self, key: str, name: str, compute: Callable[[], Any]) -> Any:
        if key in self._memo:
            return self._memo[key]
        if key in self._active:
            chain = [k.rsplit(":", 1)[-1] for k in self._active[self._active.index(key) :]] + [name]
            return Unresolved(name, f"'{name}' refers to itself ({' -> '.join(chain)})")
        self._active.append(key)
        try:
            value = compute()
        finally:
            self._active.pop()
        self._memo[key] = value
        return value

    def param_value(self, name: str, condition: bool = False) -> Any:
        """The parameter's value: the one supplied, else its default. In values (not
        ``condition``) of a ``standalone`` file, a parameter that gets no value and is nullable or
        defaults to '' or null is unknown: an optional input of a reusable file is for its caller
        to give, and reporting its empty default ("no description") would be a false alarm.
        Conditions read the default: it decides what the file deploys when linted on its own."""
        if condition and self.two_modes:
            return self._lazy(f"cparam:{name}", name, lambda: self._parameter(name, True))
        key = f"param:{name}"
        if key in self._memo:  # the usual case, without making a closure
            return self._memo[key]
        return self._lazy(key, name, lambda: self._parameter(name, False))

    def _parameter(self, name: str, condition: bool) -> Any:
        decl = self.params[name]
        supplied = self.supplied_for_conditions if condition else self.supplied
        if name.lower() in supplied:
            return supplied[name.lower()]
        an_input = self.standalone and not condition
        if decl.default is not None:
            ev = self.evaluator(in_parameter_default=True, condition=condition)
            value = _as_written(decl.default, ev.evaluate(decl.default))
            if an_input and (value is None or value == ""):
                return _caller_input(name, f"defaults to {'null' if value is None else repr('')}")
            return value
        if decl.nullable:
            return _caller_input(name, "is nullable") if an_input else None
        return Unresolved(name, f"parameter '{name}' has no default value and no value was supplied")

    def variable_value(self, name: str, condition: bool = False) -> Any:
        if condition and self.two_modes:
            decl = self.variables[name]
            ev = self.evaluator(condition=True)
            return self._lazy(f"cvar:{name}", name, lambda: _as_written(decl.value, ev.evaluate(decl.value)))
        key = f"var:{name}"
        if key in self._memo:
            return self._memo[key]
        decl = self.variables[name]
        return self._lazy(key, name, lambda: _as_written(decl.value, self.evaluator().evaluate(decl.value)))

    def resource_value(self, decl: ResourceDecl) -> Any:
        name = decl.symbol

        def compute() -> Any:
            instances = self.instances(decl)
            values = [self.identity(instance) for instance in instances]
            if _is_collection(decl) or (len(values) > 1):
                return values
            if not values:
                return Unresolved(name, f"resource '{name}' is not deployed (its condition is false)")
            return values[0]

        return self._lazy(f"res:{id(decl)}:{name}", name, compute)

    def nested_decl(self, expr: Expr) -> ResourceDecl | None:
        """The resource ``a::b::c`` names."""
        if isinstance(expr, Identifier):
            return self.resources.get(expr.name)
        if isinstance(expr, NestedRef):
            parent = self.nested_decl(expr.target)
            if parent is None:
                return None
            for body in _bodies(parent.body):
                for child in body.resources:
                    if child.symbol == expr.name:
                        return child
        return None

    def module_value(self, name: str) -> Any:
        decl = self.module_decls[name]

        def compute() -> Any:
            values = [self.module_outputs(instance) for instance in self.instances(decl)]
            if isinstance(decl.body, ForExpr):
                return values
            if not values:
                return Unresolved(name, f"module '{name}' is not deployed (its condition is false)")
            return values[0]

        return self._lazy(f"mod:{name}", name, compute)

    def module_outputs(self, instance: Instance) -> Any:
        decl = instance.decl
        ev = self.evaluator(instance.local)
        name = _property_value(ev, instance.body, "name")
        if self.modules_host is None:
            outputs: Any = Unresolved(f"{decl.symbol}.outputs", "module outputs are not evaluated here")
        else:
            outputs = self.modules_host.outputs(self, instance)
        return {"name": name, "outputs": outputs}

    # -- instances

    def instances(self, decl: ResourceDecl | ModuleDecl) -> list[Instance]:
        key = id(decl)
        if key not in self._instances:
            self._instances[key] = []  # a resource whose loop refers to itself sees no instance
            found: list[Instance] = []
            left_out = self._not_deployed.setdefault(key, [])
            problems = self._loop_problems.setdefault(key, [])
            parent = self.parents.get(key) if isinstance(decl, ResourceDecl) else None
            if parent is None:
                expanded = self.expand(decl.body, {}, None, None, left_out, problems)
                for body, local, context, for_conditions in expanded:
                    found.append(Instance(decl, body, local, context, None, for_conditions))
            else:
                outers = self.instances(parent)
                if not outers:
                    # Not deployed because its parent is not.
                    left_out.extend(
                        entry._replace(reason=f"{entry.reason} (for its parent resource '{parent.symbol}')")
                        for entry in self._not_deployed.get(id(parent), ())
                    )
                for outer in outers:
                    expanded = self.expand(
                        decl.body, dict(outer.local), outer.context, outer.condition_local, left_out, problems
                    )
                    for body, local, context, for_conditions in expanded:
                        found.append(Instance(decl, body, local, context, outer, for_conditions))
            self._instances[key] = found
        return self._instances[key]

    def not_deployed(self, decl: ResourceDecl | ModuleDecl) -> list[NotDeployed]:
        """What expanding ``decl`` left out: conditions that are false, loops with no items."""
        self.instances(decl)
        return self._not_deployed.get(id(decl), [])

    def loop_problems(self, decl: ResourceDecl | ModuleDecl) -> list[LoopProblem]:
        self.instances(decl)
        return self._loop_problems.get(id(decl), [])

    def expand(
        self,
        body: Expr,
        local: dict[str, Any],
        context: str | None,
        condition_local: dict[str, Any] | None,
        left_out: list[NotDeployed],
        problems: list[LoopProblem],
    ) -> list[_Expanded]:
        """The deployed copies of a body: (object, locals, context, locals for conditions).

        A condition or loop is decided with the values known (supplied, else defaults, which
        conditions read even where values treat an empty default as unknown): false, or no
        items, leaves the body out and says so in ``left_out``. One that cannot be decided keeps
        it, linted once, with what it depends on unknown."""
        for_conditions = local if condition_local is None else condition_local
        if isinstance(body, ObjectLit):
            return [(body, local, context, condition_local)]
        if isinstance(body, IfExpr):
            value = self.evaluator(for_conditions, condition=True).evaluate(body.condition)
            if value is False:
                where = Position(body.span.line, body.span.column, 2)
                text = body.condition.span.text
                left_out.append(NotDeployed(where, text, "the condition is false", context))
                return []
            used = self.parameters_used(body.condition, local)
            # Decided with a default that a deployment may override, or not decided: the context
            # says that the body is deployed only if its condition holds.
            overridable = {name for name in used if self.entry and name.lower() not in self.supplied}
            if value is not True or overridable:
                context = join_context(context, CONDITION_CONTEXT)
            return self.expand(body.body, local, context, condition_local, left_out, problems)
        if isinstance(body, ForExpr):
            return self._expand_loop(body, local, context, condition_local, left_out, problems)
        return []

    def _expand_loop(
        self,
        body: ForExpr,
        local: dict[str, Any],
        context: str | None,
        condition_local: dict[str, Any] | None,
        left_out: list[NotDeployed],
        problems: list[LoopProblem],
    ) -> list[_Expanded]:
        for_conditions = local if condition_local is None else condition_local
        decided = self.evaluator(for_conditions, condition=True).evaluate(body.iterable)
        shown = body.iterable.span.text
        not_known = f"loop over {shown} not known"
        if isinstance(decided, list) and len(decided) > MAX_LOOP:
            message = (
                f"the loop has {len(decided)} items: ARM deploys at most {MAX_LOOP} copies of a "
                "resource or module and rejects the template"
            )
            problems.append(LoopProblem(body.span.position, message))
            reason = f"the loop has {len(decided)} items, more than ARM deploys, and is not expanded"
            decided = Unresolved(shown, reason)
            not_known = f"loop over {shown} not expanded"
        if isinstance(decided, list):
            if not decided:
                where = body.span.position
                left_out.append(NotDeployed(where, shown, "the loop has no items", context))
                return []
            items = decided
            two = condition_local is not None or (
                self.two_modes and bool(self.parameters_used(body.iterable, local))
            )
            if two:
                # Conditions saw these items; values may see some of them as unknown.
                items = self._loop_values(body, local, len(decided))
            found: list[_Expanded] = []
            for index, (item, condition_item) in enumerate(zip(items, decided, strict=True)):
                inner = dict(local)
                inner_conditions = dict(for_conditions) if two else None
                if body.item is not None:
                    inner[body.item] = item
                    if inner_conditions is not None:
                        inner_conditions[body.item] = condition_item
                if body.counter is not None:
                    inner[body.counter] = index
                    if inner_conditions is not None:
                        inner_conditions[body.counter] = index
                found.extend(
                    self.expand(
                        body.body,
                        inner,
                        join_context(context, f"for index {index}"),
                        inner_conditions,
                        left_out,
                        problems,
                    )
                )
            return found
        reason = (
            decided.reason
            if isinstance(decided, Unresolved)
            else f"a loop needs an array, not a {type_name(decided)}"
        )
        inner = dict(local)
        what = f"the items of {shown}"
        if body.item is not None:
            inner[body.item] = Unresolved(body.item, f"{what} are not known: {reason}")
        if body.counter is not None:
            inner[body.counter] = Unresolved(body.counter, f"{what} are not known: {reason}")
        unknown_conditions = None if condition_local is None else {**condition_local, **inner}
        return self.expand(
            body.body,
            inner,
            join_context(context, not_known),
            unknown_conditions,
            left_out,
            problems,
        )

    def _loop_values(self, body: ForExpr, local: dict[str, Any], count: int) -> list[Any]:
        """A loop's items as values see them (``count`` of them, as its condition decided)."""
        values = self.evaluator(local).evaluate(body.iterable)
        if isinstance(values, list) and len(values) == count:
            return values
        reason = values.reason if isinstance(values, Unresolved) else "the items are not known"
        return [Unresolved(f"{body.iterable.span.text}[{index}]", reason) for index in range(count)]

    def parameters_used(self, expr: Expr, local: Mapping[str, Any]) -> set[str]:
        """The parameters an expression depends on, directly or through variables."""
        found: set[str] = set()
        seen: set[str] = set()
        stack = [expr]
        while stack:
            for node in walk(stack.pop()):
                if not isinstance(node, Identifier) or node.name in local:
                    continue
                if node.name in self.params:
                    found.add(node.name)
                elif node.name in self.variables and node.name not in seen:
                    seen.add(node.name)
                    stack.append(self.variables[node.name].value)
        return found

    # -- resource ids

    def deployment_scope(self) -> Any:
        """The resource id of the scope this file deploys to."""
        return deployment_scope(self.deployment)

    def identity(self, instance: Instance) -> dict[str, Any]:
        """What a symbolic reference to one resource instance evaluates to."""
        decl = instance.decl
        assert isinstance(decl, ResourceDecl)
        resource_type, api_version = split_type(decl.type_text)
        ev = self.evaluator(instance.local)
        name = _property_value(ev, instance.body, "name")
        parent: Any = None
        if instance.parent is not None:
            parent = self.identity(instance.parent)
        elif instance.body.get("parent") is not None:
            parent = _property_value(ev, instance.body, "parent")
        if isinstance(parent, dict):
            parent_type = parent.get("type")
            if "/" not in resource_type and isinstance(parent_type, str):
                resource_type = f"{parent_type}/{resource_type}"
            last = resource_type.rsplit("/", 1)[-1]
            resource_id: Any = join_id(parent.get("id"), f"/{last}/", name)
            full_name = concat(parent.get("name"), "/", name)
        else:
            if isinstance(parent, Unresolved):
                resource_id = Unresolved(parent.expression, parent.reason)
            else:
                scope = self.scope_of(instance)
                resource_id = resource_id_at(scope, resource_type, name)
            full_name = name
        shown = decl.symbol
        deployed = "only known after deployment"
        return {
            "id": resource_id,
            "name": full_name,
            "type": resource_type,
            "apiVersion": api_version,
            "properties": Unresolved(f"{shown}.properties", f"the properties of '{shown}' are {deployed}"),
            "location": Unresolved(f"{shown}.location", f"the location of '{shown}' is {deployed}"),
            "tags": Unresolved(f"{shown}.tags", f"the tags of '{shown}' are {deployed}"),
        }

    def scope_of(self, instance: Instance) -> Any:
        """The scope (resource id) of a resource or module instance: its ``scope:``, else the
        deployment's, else, for a resource nested in another, that resource."""
        prop = instance.body.get("scope")
        if prop is not None:
            return scope_target(self.evaluator(instance.local), prop.value)[0]
        return self.deployment_scope()


def _caller_input(name: str, how: str) -> Unresolved:
    return Unresolved(
        name,
        f"parameter '{name}' {how} and no value was supplied: an input the caller of the file must give",
    )


def _bodies(body: Expr) -> Iterator[ObjectLit]:
    while isinstance(body, (IfExpr, ForExpr)):
        body = body.body
    if isinstance(body, ObjectLit):
        yield body


def _is_collection(decl: ResourceDecl | ModuleDecl) -> bool:
    return isinstance(decl.body, ForExpr)


def split_type(type_text: str) -> tuple[str, str | None]:
    resource_type, _, api_version = type_text.partition("@")
    return resource_type, api_version or None


def _property_value(ev: BicepEvaluator, body: ObjectLit, name: str) -> Any:
    prop = body.get(name)
    if prop is None:
        return None
    return _as_written(prop.value, ev.evaluate(prop.value))


def _as_written(expr: Expr, value: Any) -> Any:
    """An unresolved value shows the expression written where it is used, with the reason and
    partial that came from deeper inside (a parameter, a variable)."""
    if isinstance(value, Unresolved) and value.expression != expr.span.text:
        return Unresolved(expr.span.text, value.reason, value.partial)
    return value


# Resource types that are scopes of their own; any other resource is at resource level.
_SCOPE_TYPES = {
    "microsoft.resources/resourcegroups": ScopeLevel.RESOURCE_GROUP,
    "microsoft.resources/subscriptions": ScopeLevel.SUBSCRIPTION,
    "microsoft.management/managementgroups": ScopeLevel.MANAGEMENT_GROUP,
}


def resource_scope_level(value: Any) -> ScopeLevel | None:
    """The level of a scope given as a symbolic reference to a resource (``scope: keyVault``,
    an ``existing`` one included), from its type: its id may be known only in part (a name
    from ``last(split(id, '/'))``), its level is not. None for any other value."""
    if not isinstance(value, dict) or "id" not in value or "apiVersion" not in value:
        return None
    resource_type = value.get("type")
    if not isinstance(resource_type, str):
        return None
    return _SCOPE_TYPES.get(resource_type.lower(), ScopeLevel.RESOURCE)


def deployment_scope(deployment: Deployment) -> Any:
    level = deployment.level
    if level == ScopeLevel.TENANT:
        return "/"
    if level == ScopeLevel.MANAGEMENT_GROUP:
        return concat(_MG_PREFIX, deployment.management_group)
    if level == ScopeLevel.SUBSCRIPTION:
        return concat("/subscriptions/", deployment.subscription_id)
    if level == ScopeLevel.RESOURCE_GROUP:
        return concat(
            "/subscriptions/", deployment.subscription_id, "/resourceGroups/", deployment.resource_group
        )
    return Unresolved("deployment scope", "the deployment scope is not known", None)


def resource_id_at(scope: Any, resource_type: str, name: Any) -> Any:
    """The id of a resource of ``resource_type`` named ``name`` deployed at ``scope``."""
    lowered = resource_type.lower()
    if lowered == "microsoft.resources/resourcegroups":
        return join_id(_subscription_part(scope), "/resourceGroups/", name)
    if lowered == "microsoft.management/managementgroups":
        return concat(_MG_PREFIX, name)
    if lowered == "microsoft.resources/subscriptions":
        return concat("/subscriptions/", name)
    segments = resource_type.split("/")
    if len(segments) > 2 and isinstance(name, str) and len(name.split("/")) == len(segments) - 1:
        # A child type with its names joined by '/': interleave them.
        path = segments[0]
        for rtype, part in zip(segments[1:], name.split("/"), strict=True):
            path += f"/{rtype}/{part}"
        return join_id(scope, "/providers/", path)
    return join_id(scope, f"/providers/{resource_type}/", name)


def _subscription_part(scope: Any) -> Any:
    """``/subscriptions/x`` from a scope at or below a subscription."""
    text = scope if isinstance(scope, str) else scope.partial if isinstance(scope, Unresolved) else None
    if text is None:
        return scope
    parts = text.strip("/").split("/")
    if len(parts) >= 2 and parts[0].lower() == "subscriptions":
        prefix = f"/subscriptions/{parts[1]}"
        return prefix if isinstance(scope, str) else Unresolved(scope.expression, scope.reason, prefix)
    return scope


def scope_target(ev: BicepEvaluator, expr: Expr) -> tuple[Any, Deployment]:
    """The scope an expression names (``scope:`` of a resource or module): its resource id, and
    the deployment a module deployed there would have."""
    parent = ev.file.deployment
    if isinstance(expr, Call) and expr.target is None and expr.name.lower() in _SCOPE_FUNCTIONS:
        name = expr.name.lower()
        args = [ev.evaluate(a) for a in expr.args]
        if name == "tenant":
            return "/", Deployment(level=ScopeLevel.TENANT, tenant_id=parent.tenant_id)
        if name == "managementgroup":
            mg = args[0] if args else parent.management_group
            if not args and parent.level != ScopeLevel.MANAGEMENT_GROUP:
                mg = _unknown_outside(expr, "management group", parent.level)
            return concat(_MG_PREFIX, mg), Deployment(
                level=ScopeLevel.MANAGEMENT_GROUP, management_group=mg, tenant_id=parent.tenant_id
            )
        if name == "subscription":
            sub = args[0] if args else parent.subscription_id
            if not args and parent.level not in (ScopeLevel.SUBSCRIPTION, ScopeLevel.RESOURCE_GROUP):
                sub = _unknown_outside(expr, "subscription", parent.level)
            return concat("/subscriptions/", sub), Deployment(
                level=ScopeLevel.SUBSCRIPTION, subscription_id=sub, tenant_id=parent.tenant_id
            )
        # resourceGroup(), resourceGroup(name), resourceGroup(subscriptionId, name)
        if len(args) >= 2:
            sub, rg = args[0], args[1]
        elif len(args) == 1:
            sub, rg = parent.subscription_id, args[0]
            if parent.level not in (ScopeLevel.SUBSCRIPTION, ScopeLevel.RESOURCE_GROUP):
                sub = _unknown_outside(expr, "subscription", parent.level)
        else:
            sub, rg = parent.subscription_id, parent.resource_group
            if parent.level != ScopeLevel.RESOURCE_GROUP:
                rg = _unknown_outside(expr, "resource group", parent.level)
        return concat("/subscriptions/", sub, "/resourceGroups/", rg), Deployment(
            level=ScopeLevel.RESOURCE_GROUP,
            subscription_id=sub,
            resource_group=rg,
            tenant_id=parent.tenant_id,
        )
    value = ev.evaluate(expr)
    if isinstance(value, dict) and "id" in value:
        value = value["id"]
    elif isinstance(value, str) and not value.startswith("/"):
        # A relative id names a resource in the deployment's scope.
        value = join_id(deployment_scope(parent), "/providers/", value)
    elif isinstance(value, Unresolved):
        value = _as_written(expr, value)
    elif not isinstance(value, str):
        value = Unresolved(
            expr.span.text, f"a scope must be a resource or a scope function, not a {type_name(value)}"
        )
    return value, deployment_at(value, parent)


def _unknown_outside(expr: Expr, what: str, level: ScopeLevel) -> Unresolved:
    return Unresolved(
        expr.span.text,
        f"{expr.span.text} needs the deployment's {what}, and a {level.value}-level deployment has none",
    )


def deployment_at(scope: Any, parent: Deployment) -> Deployment:
    """The deployment of a module deployed at the scope with this resource id."""
    text = scope if isinstance(scope, str) else scope.partial if isinstance(scope, Unresolved) else None
    if text is None:
        return Deployment(level=ScopeLevel.UNKNOWN, tenant_id=parent.tenant_id)
    parts = text.strip("/").split("/")
    lowered = [p.lower() for p in parts]

    def part(index: int, what: str) -> Any:
        value = parts[index]
        if isinstance(scope, Unresolved) and value.startswith("{") and value.endswith("}"):
            return Unresolved(scope.expression, scope.reason, value)
        return value

    if text.strip() == "/":
        return Deployment(level=ScopeLevel.TENANT, tenant_id=parent.tenant_id)
    if len(parts) == 4 and lowered[:3] == ["providers", "microsoft.management", "managementgroups"]:
        return Deployment(
            level=ScopeLevel.MANAGEMENT_GROUP,
            management_group=part(3, "management group"),
            tenant_id=parent.tenant_id,
        )
    if len(parts) == 2 and lowered[0] == "subscriptions":
        return Deployment(
            level=ScopeLevel.SUBSCRIPTION, subscription_id=part(1, "subscription"), tenant_id=parent.tenant_id
        )
    if len(parts) == 4 and lowered[0] == "subscriptions" and lowered[2] == "resourcegroups":
        return Deployment(
            level=ScopeLevel.RESOURCE_GROUP,
            subscription_id=part(1, "subscription"),
            resource_group=part(3, "resource group"),
            tenant_id=parent.tenant_id,
        )
    return Deployment(level=ScopeLevel.UNKNOWN, tenant_id=parent.tenant_id)


class ModuleHost:
    """Follows modules for ``module.outputs`` (implemented by the loader)."""

    def outputs(self, file: FileContext, instance: Instance) -> Any:  # pragma: no cover - interface
        raise NotImplementedError


# --------------------------------------------------------------------------- the evaluator


class BicepEvaluator:
    """Evaluates Bicep expressions of one file, with loop and lambda variables in ``local``."""

    def __init__(
        self, file: FileContext, local: dict[str, Any], in_parameter_default: bool, condition: bool = False
    ) -> None:
        self.file = file
        self.local = local
        self.in_parameter_default = in_parameter_default
        # Decides a condition or loop: parameters left at an empty default read as that default.
        self.condition = condition

    def evaluate(self, expr: Expr) -> Any:
        workspace = self.file.workspace
        if workspace.depth >= _MAX_DEPTH:
            return Unresolved(expr.span.text, "the value is nested too deeply to evaluate")
        if isinstance(expr, Literal):  # nothing nested, nothing that can fail
            return expr.value
        workspace.depth += 1
        try:
            return _EVALUATORS[type(expr)](self, expr)
        except _Fail as failure:
            return Unresolved(expr.span.text, failure.reason)
        finally:
            workspace.depth -= 1

    def with_local(self, extra: Mapping[str, Any]) -> BicepEvaluator:
        return BicepEvaluator(self.file, {**self.local, **extra}, self.in_parameter_default, self.condition)

    # -- by kind of expression (dispatched on the exact type by _EVALUATORS)

    def _literal(self, expr: Literal) -> Any:
        return expr.value

    def _nested_ref(self, expr: NestedRef) -> Any:
        decl = self.file.nested_decl(expr)
        if decl is None:
            return Unresolved(expr.span.text, f"'{expr.span.text}' is not a declared nested resource")
        return self.file.resource_value(decl)

    def _lambda_value(self, expr: Lambda) -> Any:
        return Unresolved(expr.span.text, "a lambda is only a value as a function argument")

    def _if_value(self, expr: IfExpr) -> Any:
        return Unresolved(expr.span.text, "a condition is only allowed on a resource or module")

    def _unsupported(self, expr: Unsupported) -> Any:
        return Unresolved(expr.span.text, f"{_describe(expr.kind)} is not evaluated statically")

    def _identifier(self, expr: Identifier) -> Any:
        name = expr.name
        file = self.file
        if name in self.local:
            return self.local[name]
        if name in file.params:
            return file.param_value(name, self.condition)
        if name in file.variables:
            return file.variable_value(name, self.condition)
        if name in file.resources:
            return file.resource_value(file.resources[name])
        if name in file.module_decls:
            return file.module_value(name)
        if name in file.imports:
            return Unresolved(name, f"'{name}' is imported from another file and is not evaluated")
        return Unresolved(name, f"'{name}' is not declared")

    def _interpolated(self, expr: Interpolated) -> Any:
        values = [part if isinstance(part, str) else self.evaluate(part) for part in expr.parts]
        # With only strings and ints, format() would just concatenate them: done here, without
        # building an ARM evaluator for each interpolation (the common case by far). Anything
        # else (unknowns, bools, objects, very long results) goes through format() below.
        pieces: list[str] = []
        for value in values:
            if type(value) is str:
                pieces.append(value)
            elif type(value) is int and -_PLAIN_INT < value < _PLAIN_INT:
                pieces.append(str(value))
            else:
                break
        else:
            joined = "".join(pieces)
            if len(joined) <= _PLAIN_STRING:
                return joined
        template: list[str] = []
        args: list[Any] = []
        texts: list[str] = []
        for part, value in zip(expr.parts, values, strict=True):
            if isinstance(part, str):
                template.append(part.replace("{", "{{").replace("}", "}}"))
            else:
                template.append("{" + str(len(args)) + "}")
                args.append(value)
                texts.append(part.span.text)
        return self._arm("format", ["".join(template), *args], expr, ["", *texts])

    def _object(self, expr: ObjectLit) -> Any:
        result: dict[str, Any] = {}
        for prop in expr.properties:
            if isinstance(prop, Spread):
                value = self.evaluate(prop.value)
                if isinstance(value, Unresolved):
                    return Unresolved(expr.span.text, value.reason)
                if isinstance(value, dict):
                    result.update(value)
                elif value is not None:
                    raise _Fail(f"only an object can be spread into an object, not a {type_name(value)}")
                continue
            key: Any = prop.key if isinstance(prop.key, str) else self.evaluate(prop.key)
            if isinstance(key, Unresolved):
                return Unresolved(expr.span.text, key.reason)
            if not isinstance(key, str):
                raise _Fail(f"an object key must be a string, not a {type_name(key)}")
            result[key] = self.evaluate(prop.value)
        return result

    def _array(self, expr: ArrayLit) -> Any:
        result: list[Any] = []
        for item in expr.items:
            if isinstance(item, Spread):
                value = self.evaluate(item.value)
                if isinstance(value, Unresolved):
                    return Unresolved(expr.span.text, value.reason)
                if not isinstance(value, list):
                    raise _Fail(f"only an array can be spread into an array, not a {type_name(value)}")
                result.extend(value)
            else:
                result.append(self.evaluate(item))
        return result

    def _for(self, expr: ForExpr) -> Any:
        items = self.evaluate(expr.iterable)
        if isinstance(items, Unresolved):
            return Unresolved(expr.span.text, items.reason)
        if not isinstance(items, list):
            raise _Fail(f"a loop needs an array, not a {type_name(items)}")
        if len(items) > MAX_LOOP:
            raise _Fail(f"the loop has {len(items)} items; Bicep allows at most {MAX_LOOP}")
        result: list[Any] = []
        for index, item in enumerate(items):
            bound: dict[str, Any] = {}
            if expr.item is not None:
                bound[expr.item] = item
            if expr.counter is not None:
                bound[expr.counter] = index
            inner = self.with_local(bound)
            body = expr.body
            if isinstance(body, IfExpr):
                condition = inner.evaluate(body.condition)
                if isinstance(condition, Unresolved):
                    return Unresolved(expr.span.text, condition.reason)
                if condition is not True:
                    continue
                body = body.body
            result.append(inner.evaluate(body))
        return result

    def _member(self, expr: Member) -> Any:
        target = self.evaluate(expr.target)
        if isinstance(target, Unresolved):
            return Unresolved(expr.span.text, target.reason)
        if target is None and expr.safe:
            return None
        if isinstance(target, dict):
            found, value = _lookup(target, expr.name)
            if found:
                return value
            if expr.safe:
                return None
            raise _Fail(f"property '{expr.name}' does not exist")
        if isinstance(target, list) and expr.safe:
            return None
        raise _Fail(f"cannot read property '{expr.name}' of a {type_name(target)}")

    def _index(self, expr: Index) -> Any:
        target = self.evaluate(expr.target)
        if isinstance(target, Unresolved):
            return Unresolved(expr.span.text, target.reason)
        index = self.evaluate(expr.key)
        if isinstance(index, Unresolved):
            return Unresolved(expr.span.text, index.reason)
        if target is None and expr.safe:
            return None
        if isinstance(target, list) and isinstance(index, int) and not isinstance(index, bool):
            if 0 <= index < len(target):
                return target[index]
            if expr.safe:
                return None
            raise _Fail(f"index {index} is out of range for an array of length {len(target)}")
        if isinstance(target, dict) and isinstance(index, str):
            found, value = _lookup(target, index)
            if found:
                return value
            if expr.safe:
                return None
            raise _Fail(f"property '{index}' does not exist")
        raise _Fail(f"cannot index a {type_name(target)} with a {type_name(index)}")

    def _unary(self, expr: Unary) -> Any:
        value = self.evaluate(expr.operand)
        if isinstance(value, Unresolved):
            return Unresolved(expr.span.text, value.reason)
        if expr.operator == "!":
            if not isinstance(value, bool):
                raise _Fail(f"'!' needs a bool, not a {type_name(value)}")
            return not value
        if expr.operator == "-":
            if not isinstance(value, int) or isinstance(value, bool):
                raise _Fail(f"'-' needs an int, not a {type_name(value)}")
            return -value
        raise _Fail(f"operator '{expr.operator}' is not evaluated statically")

    def _binary(self, expr: Binary) -> Any:
        op = expr.operator
        if op in ("&&", "||"):
            stop = op == "||"
            unknown: Unresolved | None = None
            for side in (expr.left, expr.right):
                value = self.evaluate(side)
                if isinstance(value, Unresolved):
                    unknown = unknown or value
                elif not isinstance(value, bool):
                    raise _Fail(f"'{op}' needs bools, not a {type_name(value)}")
                elif value is stop:
                    return stop
            return Unresolved(expr.span.text, unknown.reason) if unknown is not None else not stop
        if op == "??":
            left = self.evaluate(expr.left)
            if left is None:
                return self.evaluate(expr.right)
            if isinstance(left, Unresolved):
                return Unresolved(expr.span.text, left.reason)
            return left
        left = self.evaluate(expr.left)
        right = self.evaluate(expr.right)
        for value in (left, right):
            if isinstance(value, Unresolved):
                return Unresolved(expr.span.text, value.reason)
        if op in ("==", "!="):
            equal = self._arm("equals", [left, right], expr, [expr.left.span.text, expr.right.span.text])
            if isinstance(equal, Unresolved):
                return equal
            return equal if op == "==" else not equal
        if op in ("=~", "!~"):
            if not isinstance(left, str) or not isinstance(right, str):
                raise _Fail(f"'{op}' needs strings")
            return (left.lower() == right.lower()) == (op == "=~")
        if op in ("<", "<=", ">", ">="):
            comparable = (isinstance(left, int) and isinstance(right, int)) or (
                isinstance(left, str) and isinstance(right, str)
            )
            if not comparable or isinstance(left, bool) or isinstance(right, bool):
                raise _Fail(f"'{op}' needs two ints or two strings")
            return {
                "<": left < right,
                "<=": left <= right,
                ">": left > right,
                ">=": left >= right,
            }[op]
        if op in ("+", "-", "*", "/", "%"):
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in (left, right)):
                raise _Fail(f"'{op}' needs two ints")
            assert isinstance(left, int) and isinstance(right, int)
            if op in ("/", "%") and right == 0:
                raise _Fail("division by zero")
            if op == "+":
                return left + right
            if op == "-":
                return left - right
            if op == "*":
                return left * right
            quotient = abs(left) // abs(right) * (1 if (left >= 0) == (right >= 0) else -1)
            return quotient if op == "/" else left - quotient * right
        raise _Fail(f"operator '{op}' is not evaluated statically")

    def _ternary(self, expr: Ternary) -> Any:
        condition = self.evaluate(expr.condition)
        if isinstance(condition, Unresolved):
            return Unresolved(expr.span.text, condition.reason)
        if not isinstance(condition, bool):
            raise _Fail(f"a condition must be a bool, not a {type_name(condition)}")
        return self.evaluate(expr.then if condition else expr.otherwise)

    # -- calls

    def _call(self, expr: Call) -> Any:
        if expr.target is not None:
            return Unresolved(expr.span.text, f"{expr.name}() is only known at deployment time")
        name = expr.name
        lowered = name.lower()
        if expr.namespace is None and name in self.file.functions:
            return self._user_function(expr)
        native = _NATIVE.get(lowered)
        if native is not None and (lowered not in _SCOPE_FUNCTIONS or expr.args):
            return native(self, expr)
        if any(isinstance(a, Lambda) for a in expr.args):
            return Unresolved(expr.span.text, f"function '{name}' with a lambda is not evaluated statically")
        args = [self.evaluate(a) for a in expr.args]
        if lowered == "datetimeadd" and args and isinstance(args[0], str):
            match = _BASIC_DATETIME.fullmatch(args[0])
            if match is not None:
                y, mo, d, h, mi, s = match.groups()
                args[0] = f"{y}-{mo}-{d}T{h}:{mi}:{s}Z"
        return self._arm(name, args, expr, [a.span.text for a in expr.args])

    def _arm(self, name: str, args: list[Any], expr: Expr, texts: list[str]) -> Any:
        """Call ARM function ``name`` on evaluated arguments, through the ARM evaluator."""
        parameters: dict[str, Any] = {}
        for i, value in enumerate(args):
            if isinstance(value, Unresolved) and value.partial is None:
                # Shown as {text} inside the partials of string-building functions.
                value = Unresolved(value.expression, value.reason, "{" + (texts[i] or value.expression) + "}")
            parameters[f"a{i}"] = value
        file = self.file
        evaluator = Evaluator(
            parameters=parameters,
            variables={},
            deployment=file.deployment,
            today=file.workspace.today,
            in_parameter_default=self.in_parameter_default,
        )
        result = evaluator.evaluate(_arm_expression(name, len(args)))
        if isinstance(result, Unresolved):
            return Unresolved(expr.span.text, result.reason, result.partial)
        return result

    def _user_function(self, expr: Call) -> Any:
        function = self.file.functions[expr.name]
        if len(expr.args) != len(function.parameters):
            raise _Fail(
                f"{expr.name}() takes {len(function.parameters)} argument(s), but {len(expr.args)} were given"
            )
        bound = {p: self.evaluate(a) for p, a in zip(function.parameters, expr.args, strict=True)}
        # A function sees only its own parameters (and other functions).
        evaluator = BicepEvaluator(self.file, bound, self.in_parameter_default, self.condition)
        return evaluator.evaluate(function.body)

    def _lambda(self, expr: Expr, count: int) -> Callable[..., Any]:
        if not isinstance(expr, Lambda):
            raise _Fail("a lambda (x => ...) is expected")
        if not 1 <= len(expr.parameters) <= count:
            raise _Fail(f"the lambda takes {len(expr.parameters)} parameter(s), at most {count} are passed")

        def call(*values: Any) -> Any:
            bound = dict(zip(expr.parameters, values, strict=False))
            result = self.with_local(bound).evaluate(expr.body)
            if isinstance(result, Unresolved):
                raise _Fail(result.reason)
            return result

        return call

    def _array_arg(self, expr: Call, index: int) -> list[Any]:
        value = self.evaluate(expr.args[index])
        if isinstance(value, Unresolved):
            raise _Fail(value.reason)
        if not isinstance(value, list):
            raise _Fail(f"{expr.name}() expects an array, not a {type_name(value)}")
        return value

    def _arity(self, expr: Call, low: int, high: int) -> None:
        if not low <= len(expr.args) <= high:
            expected = str(low) if low == high else f"{low} to {high}"
            raise _Fail(f"{expr.name}() takes {expected} argument(s), but {len(expr.args)} were given")

    def _known(self, expr: Expr) -> Any:
        value = self.evaluate(expr)
        if isinstance(value, Unresolved):
            raise _Fail(value.reason)
        return value


# Exact types: every Expr is a NamedTuple class of bicep_syntax, none is subclassed.
_EVALUATORS: dict[type, Callable[[BicepEvaluator, Any], Any]] = {
    Literal: BicepEvaluator._literal,
    Identifier: BicepEvaluator._identifier,
    Interpolated: BicepEvaluator._interpolated,
    ObjectLit: BicepEvaluator._object,
    ArrayLit: BicepEvaluator._array,
    Member: BicepEvaluator._member,
    NestedRef: BicepEvaluator._nested_ref,
    Index: BicepEvaluator._index,
    Call: BicepEvaluator._call,
    Unary: BicepEvaluator._unary,
    Binary: BicepEvaluator._binary,
    Ternary: BicepEvaluator._ternary,
    ForExpr: BicepEvaluator._for,
    Lambda: BicepEvaluator._lambda_value,
    IfExpr: BicepEvaluator._if_value,
    Unsupported: BicepEvaluator._unsupported,
}


def _lookup(obj: dict[str, Any], name: str) -> tuple[bool, Any]:
    if name in obj:
        return True, obj[name]
    lowered = name.lower()
    for key, value in obj.items():
        if isinstance(key, str) and key.lower() == lowered:
            return True, value
    return False, None


def _describe(kind: str) -> str:
    return {
        "spread": "this spread (...)",
        "for": "this for-expression",
        "if": "this condition",
    }.get(kind, f"a {kind.replace('_', ' ')}")


# --------------------------------------------------------------------------- native functions


def _fn_range(ev: BicepEvaluator, expr: Call) -> Any:
    ev._arity(expr, 2, 2)
    start, count = ev._known(expr.args[0]), ev._known(expr.args[1])
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, count)):
        raise _Fail("range() expects two ints")
    if not 0 <= count <= 10_000:
        raise _Fail(f"range() count {count} is out of bounds")
    return list(range(start, start + count))


def _fn_items(ev: BicepEvaluator, expr: Call) -> Any:
    ev._arity(expr, 1, 1)
    value = ev._known(expr.args[0])
    if not isinstance(value, dict):
        raise _Fail(f"items() expects an object, not a {type_name(value)}")
    return [{"key": k, "value": value[k]} for k in sorted(value, key=str.lower)]


def _fn_object_keys(ev: BicepEvaluator, expr: Call) -> Any:
    ev._arity(expr, 1, 1)
    value = ev._known(expr.args[0])
    if not isinstance(value, dict):
        raise _Fail(f"objectKeys() expects an object, not a {type_name(value)}")
    return list(value)


def _fn_flatten(ev: BicepEvaluator, expr: Call) -> Any:
    ev._arity(expr, 1, 1)
    result: list[Any] = []
    for item in ev._array_arg(expr, 0):
        if isinstance(item, Unresolved):
            raise _Fail(item.reason)
        if not isinstance(item, list):
            raise _Fail("flatten() expects an array of arrays")
        result.extend(item)
    return result


def _fn_join(ev: BicepEvaluator, expr: Call) -> Any:
    ev._arity(expr, 2, 2)
    items = ev._array_arg(expr, 0)
    delimiter = ev._known(expr.args[1])
    if not isinstance(delimiter, str) or not all(isinstance(i, str) for i in items):
        raise _Fail("join() expects an array of strings and a string")
    return delimiter.join(items)


def _fn_any(ev: BicepEvaluator, expr: Call) -> Any:
    ev._arity(expr, 1, 1)
    return ev.evaluate(expr.args[0])


def _fn_filter(ev: BicepEvaluator, expr: Call) -> Any:
    ev._arity(expr, 2, 2)
    items = ev._array_arg(expr, 0)
    keep = ev._lambda(expr.args[1], 2)
    result = []
    for index, item in enumerate(items):
        verdict = keep(item, index)
        if not isinstance(verdict, bool):
            raise _Fail("the filter() lambda must return a bool")
        if verdict:
            result.append(item)
    return result


def _fn_map(ev: BicepEvaluator, expr: Call) -> Any:
    ev._arity(expr, 2, 2)
    items = ev._array_arg(expr, 0)
    transform = ev._lambda(expr.args[1], 2)
    return [transform(item, index) for index, item in enumerate(items)]


def _fn_reduce(ev: BicepEvaluator, expr: Call) -> Any:
    ev._arity(expr, 3, 3)
    items = ev._array_arg(expr, 0)
    accumulator = ev._known(expr.args[1])
    combine = ev._lambda(expr.args[2], 3)
    for index, item in enumerate(items):
        accumulator = combine(accumulator, item, index)
    return accumulator


def _fn_to_object(ev: BicepEvaluator, expr: Call) -> Any:
    ev._arity(expr, 2, 3)
    items = ev._array_arg(expr, 0)
    key_of = ev._lambda(expr.args[1], 1)
    value_of = ev._lambda(expr.args[2], 1) if len(expr.args) == 3 else None
    result: dict[str, Any] = {}
    for item in items:
        key = key_of(item)
        if not isinstance(key, str):
            raise _Fail("the toObject() key lambda must return a string")
        result[key] = value_of(item) if value_of is not None else item
    return result


def _load_path(ev: BicepEvaluator, expr: Call) -> Path:
    relative = ev._known(expr.args[0])
    if not isinstance(relative, str):
        raise _Fail(f"{expr.name}() expects a file path")
    base = ev.file.path
    if base is None:
        raise _Fail(f"{expr.name}() needs the file's directory, which is not known")
    return base.parent / relative


def _read(ev: BicepEvaluator, expr: Call) -> str:
    path = _load_path(ev, expr)
    try:
        if path.stat().st_size > _LOAD_LIMIT:
            raise _Fail(f"{expr.name}(): the file is larger than {_LOAD_LIMIT // (1024 * 1024)} MiB")
        from exemptlint.loaders import decode_text

        return decode_text(path.read_bytes())
    except (OSError, ValueError) as error:
        raise _Fail(f"{expr.name}() cannot read '{path.name}': {error}") from None


def _fn_load_text_content(ev: BicepEvaluator, expr: Call) -> Any:
    ev._arity(expr, 1, 2)
    return _read(ev, expr)


def _fn_load_json_content(ev: BicepEvaluator, expr: Call) -> Any:
    ev._arity(expr, 1, 3)
    from exemptlint.loaders.jsontext import JsonSyntaxError, parse_json_text

    try:
        value = parse_json_text(_read(ev, expr))
    except JsonSyntaxError as error:
        raise _Fail(f"loadJsonContent(): invalid JSON at line {error.line}: {error.message}") from None
    if len(expr.args) >= 2:
        path = ev._known(expr.args[1])
        if not isinstance(path, str):
            raise _Fail("loadJsonContent() expects a JSONPath string")
        value = _json_path(value, path)
    return value


def _json_path(value: Any, path: str) -> Any:
    """The simple JSONPath subset ``$.a.b[0]`` that loadJsonContent is used with."""
    text = path.strip()
    if not text.startswith("$"):
        raise _Fail(f"JSONPath '{path}' is not supported")
    for match in re.finditer(r"\.([A-Za-z_$][\w$-]*)|\[(\d+)\]|\['([^']*)'\]", text[1:]):
        key, index, quoted = match.groups()
        if index is not None:
            if not isinstance(value, list) or int(index) >= len(value):
                raise _Fail(f"JSONPath '{path}' does not match the file")
            value = value[int(index)]
        else:
            name = key if key is not None else quoted
            if not isinstance(value, dict) or name not in value:
                raise _Fail(f"JSONPath '{path}' does not match the file")
            value = value[name]
    return value


def _fn_json(ev: BicepEvaluator, expr: Call) -> Any:
    ev._arity(expr, 1, 1)
    text = ev._known(expr.args[0])
    if not isinstance(text, str):
        raise _Fail("json() expects a string")
    try:
        return json.loads(text)
    except ValueError as error:
        raise _Fail(f"json(): {error}") from None


def _fn_scope(ev: BicepEvaluator, expr: Call) -> Any:
    """subscription(id), resourceGroup([sub,] name), managementGroup(name) as values."""
    scope, deployment = scope_target(ev, expr)
    lowered = expr.name.lower()
    if lowered == "subscription":
        return {"id": scope, "subscriptionId": deployment.subscription_id, "tenantId": deployment.tenant_id}
    if lowered == "resourcegroup":
        return {
            "id": scope,
            "name": deployment.resource_group,
            "type": "Microsoft.Resources/resourceGroups",
        }
    return {"id": scope, "name": deployment.management_group, "type": "Microsoft.Management/managementGroups"}


_NATIVE: dict[str, Callable[[BicepEvaluator, Call], Any]] = {
    "range": _fn_range,
    "items": _fn_items,
    "objectkeys": _fn_object_keys,
    "flatten": _fn_flatten,
    "join": _fn_join,
    "any": _fn_any,
    "filter": _fn_filter,
    "map": _fn_map,
    "reduce": _fn_reduce,
    "toobject": _fn_to_object,
    "loadtextcontent": _fn_load_text_content,
    "loadjsoncontent": _fn_load_json_content,
    "json": _fn_json,
    "subscription": _fn_scope,
    "resourcegroup": _fn_scope,
    "managementgroup": _fn_scope,
}
