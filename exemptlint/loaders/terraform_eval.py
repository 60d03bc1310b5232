"""Static evaluation of Terraform (HCL) values, as python-hcl2 serializes them.

Evaluated: literals, ``var.x``, ``local.x``, ``each.key``/``each.value``, ``count.index``, string
templates, ``jsonencode``/``toset``/``tolist``/``tomap`` of such values, and the ``id``/``name`` of
the policy resources of the same module (assignments, definitions and set definitions, azurerm or
AzAPI), whose ids follow from their arguments. Anything else (data sources, other resource
attributes, other functions, expressions) is ``Unresolved``: rules report it as EL009, nothing
is guessed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from exemptlint.loaders.terraform_plan import ASSIGNMENT_SUFFIX, ASSIGNMENT_TYPES
from exemptlint.loaders.values import concat, join_id
from exemptlint.model import MANAGEMENT_GROUP_PREFIX, Unresolved

SET_DEFINITION_SUFFIX = "/providers/Microsoft.Authorization/policySetDefinitions/"
DEFINITION_SUFFIX = "/providers/Microsoft.Authorization/policyDefinitions/"
# Definitions and set definitions: scoped to a management group when the argument is set, else
# to the subscription the azurerm provider is configured for (known only when Terraform runs).
DEFINITION_TYPES = {
    "azurerm_policy_set_definition": SET_DEFINITION_SUFFIX,
    "azurerm_management_group_policy_set_definition": SET_DEFINITION_SUFFIX,
    "azurerm_policy_definition": DEFINITION_SUFFIX,
    "azurerm_management_group_policy_definition": DEFINITION_SUFFIX,
}
AZAPI_TYPES = ("azapi_resource",)
MANAGEMENT_GROUP = "azurerm_management_group"
SUBSCRIPTION_ASSOCIATION = "azurerm_management_group_subscription_association"
# AzAPI resource types whose id (parent_id/providers/TYPE/name) a reference may resolve.
AZAPI_ID_TYPES = frozenset(
    {
        "microsoft.authorization/policyassignments",
        "microsoft.authorization/policysetdefinitions",
        "microsoft.authorization/policydefinitions",
        "microsoft.authorization/policyexemptions",
        "microsoft.management/managementgroups",
    }
)

_TRAVERSAL = re.compile(
    r"[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*|\[\s*(?:\d+|\"[^\"]*\"|[A-Za-z_][\w.-]*)\s*\])*"
)
# A step: .attr, [0], ["key"] or [reference] (count.index, each.key, var.x).
_STEP = re.compile(r"\.([A-Za-z_][\w-]*)|\[\s*(\d+)\s*\]|\[\s*\"([^\"]*)\"\s*\]|\[\s*([A-Za-z_][\w.-]*)\s*\]")
_CALL = re.compile(r"([A-Za-z_]\w*)\s*\((.*)\)", re.DOTALL)
# Functions evaluated: they only convert a value's type (for_each = toset(var.names)).
_CONVERSIONS = frozenset({"jsonencode", "toset", "tolist", "tomap"})


def unquote_key(key: str) -> str:
    if len(key) >= 2 and key.startswith('"') and key.endswith('"'):
        return key[1:-1]
    return key


def _unescape(text: str) -> str:
    out: list[str] = []
    i = 0
    escapes = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in escapes:
            out.append(escapes[text[i + 1]])
            i += 2
            continue
        if text.startswith("$${", i):
            out.append("${")
            i += 3
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _split_template(inner: str) -> list[tuple[bool, str]]:
    """A template's pieces: (False, literal) or (True, interpolated expression)."""
    pieces: list[tuple[bool, str]] = []
    literal: list[str] = []
    i = 0
    while i < len(inner):
        if inner.startswith("$${", i):
            literal.append("$${")
            i += 3
            continue
        if inner.startswith("${", i) or inner.startswith("%{", i):
            depth, j, quoted = 0, i + 1, False
            while j < len(inner):
                ch = inner[j]
                if quoted:
                    if ch == "\\":
                        j += 1
                    elif ch == '"':
                        quoted = False
                elif ch == '"':
                    quoted = True
                elif ch == "{":
                    depth += 1
                elif ch == "}":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            if literal:
                pieces.append((False, _unescape("".join(literal))))
                literal = []
            marker = inner[i]
            expression = inner[i + 2 : j].strip().strip("~").strip()
            pieces.append((True, expression if marker == "$" else "%{" + expression + "}"))
            i = j + 1
            continue
        literal.append(inner[i])
        i += 1
    if literal:
        pieces.append((False, _unescape("".join(literal))))
    return pieces


@dataclass
class Instance:
    """What ``each``/``count`` mean for one instance of a resource or module."""

    each: tuple[Any, Any] | None = None
    count_index: int | None = None
    each_unknown: Unresolved | None = None
    count_unknown: str | None = None

    @property
    def key(self) -> str:
        """The instance's key in a Terraform address: ``["k"]``, ``[0]``, ``[*]`` (not known), or
        nothing for a single instance."""
        if self.each is not None:
            return f"[{json.dumps(self.each[0], ensure_ascii=False, default=str)}]"
        if self.count_index is not None:
            return f"[{self.count_index}]"
        if self.each_unknown is not None or self.count_unknown is not None:
            return "[*]"
        return ""


NO_INSTANCE = Instance()


@dataclass(frozen=True)
class Resource:
    """A resource whose ``id``/``name`` references resolve: its type, body and id shape."""

    rtype: str
    body: dict[str, Any]


# Resolves module.NAME... references: (name, steps after it, the instance referring) -> value.
ModuleOutputs = Callable[[str, list[str], Instance], Any]


class Context:
    """Variables, locals and policy resources of one Terraform module instance."""

    def __init__(
        self,
        variables: dict[str, Any],
        locals_: dict[str, Any],
        missing_variable: str = "has no default and no tfvars value",
    ) -> None:
        self.variables = variables
        self.locals = locals_
        self.missing_variable = missing_variable
        self._local_values: dict[str, Any] = {}
        self._evaluating: set[str] = set()
        # "type.name" -> resource, for references to ids of policy resources.
        self.resources: dict[str, Resource] = {}
        self._ids: dict[str, Any] = {}
        self.module_outputs: ModuleOutputs | None = None

    # --- references

    def reference(self, expression: str, scope: Instance) -> Any:
        steps: list[str] = []
        for match in _STEP.finditer(expression):
            if match.group(4) is not None:
                index = self.reference(match.group(4), scope)
                if isinstance(index, (Unresolved, dict, list)):
                    return Unresolved(expression, f"the index {match.group(4)} is not known statically")
                steps.append(str(index))
            else:
                steps.append(match.group(1) or match.group(2) or match.group(3) or "")
        head = re.match(r"[A-Za-z_][\w-]*", expression)
        root = head.group(0) if head else expression
        if root == "var" and steps:
            if steps[0] not in self.variables:
                return Unresolved(expression, f"variable '{steps[0]}' {self.missing_variable}")
            return self.index(self.variables[steps[0]], steps[1:], expression)
        if root == "local" and steps:
            return self.index(self.local(steps[0]), steps[1:], expression)
        if root == "each" and steps and steps[0] in ("key", "value"):
            if scope.each_unknown is not None:
                return Unresolved(expression, scope.each_unknown.reason)
            if scope.each is None:
                return Unresolved(expression, "each is used outside for_each")
            value = scope.each[0] if steps[0] == "key" else scope.each[1]
            return self.index(value, steps[1:], expression)
        if root == "count" and steps == ["index"]:
            if scope.count_index is None:
                reason = scope.count_unknown or "count.index is used without a literal count"
                return Unresolved(expression, reason)
            return scope.count_index
        if root == "data":
            return Unresolved(expression, "a data source is read only when Terraform runs")
        if root == "module" and steps and self.module_outputs is not None:
            found = self.module_outputs(steps[0], steps[1:], scope)
            return Unresolved(expression, found.reason) if isinstance(found, Unresolved) else found
        if steps:
            key = f"{root}.{steps[0]}"
            rest = steps[1:]
            if len(rest) == 2:
                rest = rest[1:]  # an instance of a count/for_each resource: same id pattern
            if key in self.resources and rest == ["id"]:
                return self.resource_id(key)
            if key in self.resources and rest == ["name"]:
                return self.value(self.resources[key].body.get("name"), NO_INSTANCE)
        if root in ("module", "path", "terraform", "self"):
            return Unresolved(expression, f"'{root}' values are known only when Terraform runs")
        return Unresolved(expression, "a resource attribute is known only after apply")

    def index(self, value: Any, steps: list[str], expression: str) -> Any:
        for step in steps:
            if isinstance(value, Unresolved):
                return Unresolved(expression, value.reason)
            if isinstance(value, dict) and step in value:
                value = value[step]
            elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
                value = value[int(step)]
            else:
                return Unresolved(expression, f"'{step}' is not in the value")
        return value

    def local(self, name: str) -> Any:
        if name in self._local_values:
            return self._local_values[name]
        if name not in self.locals:
            return Unresolved(f"local.{name}", f"local '{name}' is not defined in this directory")
        if name in self._evaluating:
            return Unresolved(f"local.{name}", "the local refers to itself")
        self._evaluating.add(name)
        try:
            value = self.value(self.locals[name], NO_INSTANCE)
        finally:
            self._evaluating.discard(name)
        self._local_values[name] = value
        return value

    def resource_id(self, key: str) -> Any:
        if key in self._ids:
            return self._ids[key]
        self._ids[key] = Unresolved(key + ".id", "the id refers to itself")
        resource = self.resources[key]
        body = resource.body
        name = self.value(body.get("name"), NO_INSTANCE)
        value: Any
        if resource.rtype in ASSIGNMENT_TYPES:
            scope = self.value(body.get(ASSIGNMENT_TYPES[resource.rtype]), NO_INSTANCE)
            value = join_id(scope, ASSIGNMENT_SUFFIX, name)
        elif resource.rtype == MANAGEMENT_GROUP:
            value = management_group_id(self, body, NO_INSTANCE)
        elif resource.rtype in DEFINITION_TYPES:
            scope = self.value(body.get("management_group_id"), NO_INSTANCE)
            if scope is None:
                scope = Unresolved(
                    f"{key}.id",
                    "the subscription of the azurerm provider is known only when Terraform runs",
                    "/subscriptions/{subscription}",
                )
            value = join_id(scope, DEFINITION_TYPES[resource.rtype], name)
        else:
            rtype = azapi_type(self.value(body.get("type"), NO_INSTANCE))[0]
            if rtype.lower() not in AZAPI_ID_TYPES:
                value = Unresolved(key + ".id", "a resource attribute is known only after apply")
            else:
                parent = self.value(body.get("parent_id"), NO_INSTANCE)
                value = join_id(parent, f"/providers/{rtype}/", name)
        self._ids[key] = value
        return value

    # --- values

    def value(self, raw: Any, scope: Instance) -> Any:
        if isinstance(raw, str):
            return self._string(raw, scope)
        if isinstance(raw, list):
            return [self.value(item, scope) for item in raw]
        if isinstance(raw, dict):
            return {unquote_key(k): self.value(v, scope) for k, v in raw.items() if not k.startswith("__")}
        return raw

    def _string(self, raw: str, scope: Instance) -> Any:
        if len(raw) >= 2 and raw.startswith('"') and raw.endswith('"'):
            pieces = _split_template(raw[1:-1])
            if not pieces:
                return ""
            values = [self.expression(text, scope) if is_expr else text for is_expr, text in pieces]
            if len(values) == 1:
                return values[0]
            return concat(*[v if isinstance(v, (str, Unresolved)) else to_text(v) for v in values])
        if raw.startswith("${") and raw.endswith("}"):
            return self.expression(raw[2:-1].strip(), scope)
        if raw.startswith("<<"):
            return Unresolved(raw.splitlines()[0], "heredoc strings are not evaluated")
        return self.expression(raw, scope)

    def expression(self, text: str, scope: Instance) -> Any:
        text = text.strip()
        if text.startswith("%{"):
            return Unresolved(text, "template directives are not evaluated")
        if _TRAVERSAL.fullmatch(text):
            if text in ("true", "false"):
                return text == "true"
            if text == "null":
                return None
            return self.reference(text, scope)
        if re.fullmatch(r"-?\d+", text):
            return int(text)
        call = _CALL.fullmatch(text)
        if call is not None and call.group(1) in _CONVERSIONS:
            return self._conversion(call.group(1), call.group(2), text, scope)
        if len(text) >= 2 and text.startswith('"') and text.endswith('"') and '"' not in text[1:-1]:
            return self._string(text, scope)
        call = re.match(r"([A-Za-z_][\w]*)\s*\(", text)
        if call is not None:
            return Unresolved(text, f"the function {call.group(1)}() is not evaluated")
        return Unresolved(text, "the expression is not evaluated")

    def _conversion(self, function: str, argument: str, text: str, scope: Instance) -> Any:
        from exemptlint.loaders.terraform_syntax import parse_value

        try:
            parsed = parse_value(f"__value = {argument}\n")
        except RecursionError:
            raise
        except Exception:
            # Not one argument: "f(a) == g(b)" matches the pattern, but is not a call of f.
            if function == "jsonencode":
                return Unresolved(text, "jsonencode of a value that is not a literal")
            return Unresolved(text, f"the argument of {function}() is not evaluated")
        value = self.value(parsed.get("__value"), scope)
        if function == "jsonencode":
            return to_text(value) if is_scalar(value) else value
        if isinstance(value, Unresolved):
            return Unresolved(text, value.reason)
        if function == "toset" and isinstance(value, list) and all(is_scalar(v) for v in value):
            return list(dict.fromkeys(to_text(v) for v in value))
        if function == "tolist" and isinstance(value, list):
            return value
        if function == "tomap" and isinstance(value, dict):
            return value
        return Unresolved(text, f"{function}() of this value is not evaluated")


def azapi_type(value: Any) -> tuple[str, str | None]:
    """``Namespace/type`` and the API version of an AzAPI ``type`` argument ("" when unknown)."""
    if not isinstance(value, str):
        return "", None
    rtype, _, version = value.partition("@")
    return rtype.strip(), (version.strip() or None)


def is_scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool)) or value is None


def to_text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if value is None:
        return ""
    if isinstance(value, (str, Unresolved)):
        return value
    return Unresolved(json.dumps(value, default=str), "a collection is interpolated into a string")


def plain_literal(raw: Any) -> Any:
    """A tfvars or default value: evaluated without variables (Terraform forbids them there)."""
    return Context({}, {}).value(raw, NO_INSTANCE)


MAX_INSTANCES = 1000


def management_group_id(context: Context, body: dict[str, Any], instance: Instance) -> Any:
    """The id of an ``azurerm_management_group``: from ``name`` (``group_id`` before azurerm 3),
    generated by Azure when neither is set."""
    for argument in ("name", "group_id"):
        if argument in body:
            return concat(MANAGEMENT_GROUP_PREFIX, context.value(body[argument], instance))
    return Unresolved(f"{MANAGEMENT_GROUP}.id", "the management group's name is generated when it is created")


def instances(body: dict[str, Any], context: Context) -> list[tuple[Instance, str | None]]:
    """The instances of a resource or module block (``count``/``for_each``), each with the
    context shown in findings. More than ``MAX_INSTANCES`` are not expanded (count = 1000000000
    would never finish): the block is linted once, with count.index / each unknown."""
    if "for_each" in body:
        each = context.value(body["for_each"], NO_INSTANCE)
        too_many = isinstance(each, (dict, list)) and len(each) > MAX_INSTANCES
        if isinstance(each, dict) and not too_many:
            return [(Instance(each=(k, v)), f'for_each key "{k}"') for k, v in each.items()]
        if isinstance(each, list) and not too_many and all(isinstance(v, str) for v in each):
            return [(Instance(each=(v, v)), f'for_each key "{v}"') for v in dict.fromkeys(each)]
        if isinstance(each, Unresolved):
            reason = each.reason
        elif too_many:
            reason = f"more than {MAX_INSTANCES} instances are not expanded"
        else:
            reason = "for_each is not a map or a set of strings"
        unknown = Unresolved(str(body["for_each"]), f"for_each is not known statically: {reason}")
        return [(Instance(each_unknown=unknown), "for_each (not known statically)")]
    if "count" in body:
        count = count_value(body["count"], context)
        if isinstance(count, int) and not isinstance(count, bool):
            if count <= MAX_INSTANCES:
                return [(Instance(count_index=i), f"count.index = {i}") for i in range(count)]
            reason = f"count is {count}: more than {MAX_INSTANCES} instances are not expanded"
            return [(Instance(count_unknown=reason), f"count = {count} (not expanded)")]
        unknown_count = Instance(count_unknown="count.index is used without a literal count")
        return [(unknown_count, "count (not known statically)")]
    return [(NO_INSTANCE, None)]


def count_value(raw: Any, context: Context) -> Any:
    """A ``count``'s value. ``COND ? A : B`` (the usual way to make a resource or module
    conditional) is decided when COND is made of known values: references and literals, ``!``,
    ``==``, ``!=``, ``&&`` and ``||``. Anything else stays unknown, and the block is linted once."""
    value = context.value(raw, NO_INSTANCE)
    if not isinstance(value, Unresolved) or not isinstance(raw, str):
        return value
    text = raw.strip()
    if text.startswith("${") and text.endswith("}"):
        text = text[2:-1]
    parts = _split_outside_quotes(text, "?")
    if len(parts) != 2:
        return value
    branches = _split_outside_quotes(parts[1], ":")
    if len(branches) != 2:
        return value
    decided = _condition(parts[0], context)
    if decided is None:
        return value
    return context.expression(branches[0] if decided else branches[1], NO_INSTANCE)


def _split_outside_quotes(text: str, separator: str) -> list[str]:
    """``text`` split at ``separator`` where it is outside strings; one piece when there are
    brackets or nested templates (not decided here)."""
    pieces: list[str] = []
    current: list[str] = []
    quoted = False
    i = 0
    while i < len(text):
        ch = text[i]
        if quoted:
            if ch == "\\":
                current.append(text[i : i + 2])
                i += 2
                continue
            quoted = ch != '"'
        elif ch == '"':
            quoted = True
        elif ch in "([{":
            return [text]
        elif text.startswith(separator, i):
            pieces.append("".join(current))
            current = []
            i += len(separator)
            continue
        current.append(ch)
        i += 1
    pieces.append("".join(current))
    return pieces


def _condition(text: str, context: Context) -> bool | None:
    """A condition of known values, or None when it is not decided."""
    alternatives = [_all_of(part, context) for part in _split_outside_quotes(text, "||")]
    if any(value is True for value in alternatives):
        return True
    return False if all(value is False for value in alternatives) else None


def _all_of(text: str, context: Context) -> bool | None:
    terms = [_term(part, context) for part in _split_outside_quotes(text, "&&")]
    if any(value is False for value in terms):
        return False
    return True if all(value is True for value in terms) else None


def _term(text: str, context: Context) -> bool | None:
    text = text.strip()
    for operator in ("==", "!="):
        sides = _split_outside_quotes(text, operator)
        if len(sides) == 2:
            left, right = (context.expression(side.strip(), NO_INSTANCE) for side in sides)
            if isinstance(left, Unresolved) or isinstance(right, Unresolved):
                return None
            equal = type(left) is type(right) and left == right
            return equal if operator == "==" else not equal
    negated = text.startswith("!")
    value = context.expression(text[1:] if negated else text, NO_INSTANCE)
    if not isinstance(value, bool):
        return None
    return not value if negated else value
