"""Terraform: policy exemptions and assignments in ``.tf`` files (plan JSON: ``terraform_plan``).

Recognized in HCL (parsed by python-hcl2, evaluated by ``terraform_eval``):

- the four ``azurerm_*_policy_exemption`` resources; the resource type fixes the scope level
  (a ``management_group_id`` that is a variable is still a management group), and an id of
  another level in the scope argument is an EL008 error;
- ``azapi_resource`` of type ``Microsoft.Authorization/policyExemptions@API``: ``parent_id`` is
  the scope, ``body.properties`` (an HCL object or ``jsonencode(...)``) the properties;
- policy assignments (azurerm and AzAPI) for EL001, and the ids of policy (set) definitions;
- ``count`` and ``for_each``, variables (defaults, ``terraform.tfvars``, ``*.auto.tfvars``,
  ``--parameters x.tfvars``), locals;
- local modules (``source = "./..."``), followed with the caller's arguments, ``count`` and
  ``for_each``, nested, with a depth and cycle guard; findings are located in the module file and
  named by the caller (``module.x.azurerm_...``). Registry, Git and other remote modules are EL009
  notes naming the module;
- a ``.tfvars`` file that no linted configuration applies gets an EL009 note saying so.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exemptlint.loaders.terraform_eval import (
    AZAPI_TYPES,
    DEFINITION_TYPES,
    MANAGEMENT_GROUP,
    NO_INSTANCE,
    SUBSCRIPTION_ASSOCIATION,
    Context,
    Instance,
    Resource,
    azapi_type,
    instances,
    management_group_id,
    plain_literal,
    unquote_key,
)
from exemptlint.loaders.terraform_modules import (
    MAX_MODULE_DEPTH,
    ModuleDirectory,
    is_local,
    read_directory,
    relevant_text,
    remote_origin,
)
from exemptlint.loaders.terraform_plan import (
    ARGUMENTS,
    ASSIGNMENT_TYPES,
    EXEMPTION_TYPES,
    SET_DEFINITION_TYPES,
    decoded,
    exemption_level,
    is_terraform_plan,
    load_terraform_plan,
)
from exemptlint.loaders.terraform_syntax import Block, HclSyntaxError, ParsedFile, parse_cached, parse_hcl
from exemptlint.loaders.values import (
    PLACEHOLDER_PROPERTIES,
    canonical_properties,
    concat,
    get_ci,
    management_group_parent,
    mark_placeholders,
)
from exemptlint.model import (
    ASSIGNMENT_TYPE,
    EXEMPTION_TYPE,
    MANAGEMENT_GROUP_PREFIX,
    MANAGEMENT_GROUP_SUBSCRIPTION_TYPE,
    MANAGEMENT_GROUP_TYPE,
    Exemption,
    FixedLocator,
    LoadError,
    LoadNote,
    LoadResult,
    Placement,
    PolicyAssignment,
    Position,
    SetDefinition,
    Skipped,
    Source,
    Unresolved,
)
from exemptlint.scope import scope_level

__all__ = [
    "ARGUMENTS",
    "ASSIGNMENT_TYPES",
    "EXEMPTION_TYPES",
    "is_terraform_plan",
    "is_tfvars",
    "load_terraform_plan",
    "load_terraform_text",
    "load_tfvars_file",
    "tf_json_note",
    "tfvars_note",
]

# Arguments of a module block that are not input variables.
_MODULE_META = frozenset({"source", "version", "count", "for_each", "providers", "depends_on"})
# Properties set to one unknown value when a whole AzAPI body is unknown (as the Bicep loader).
_UNKNOWN_PROPERTIES = (
    "policyAssignmentId",
    "exemptionCategory",
    "expiresOn",
    "description",
    "displayName",
    "policyDefinitionReferenceIds",
)
_AUTO_TFVARS = ("terraform.tfvars", "terraform.tfvars.json")


def is_tfvars(name: str) -> bool:
    lowered = name.lower()
    return lowered.endswith((".tfvars", ".tfvars.json"))


def _auto_loaded(name: str) -> bool:
    """Whether Terraform reads this tfvars file of its working directory by itself."""
    return name in _AUTO_TFVARS or name.endswith((".auto.tfvars", ".auto.tfvars.json"))


def _blocks(doc: dict[str, Any], keyword: str) -> list[Any]:
    blocks = doc.get(keyword, [])
    return blocks if isinstance(blocks, list) else [blocks]


def _labelled(doc: dict[str, Any], keyword: str) -> list[tuple[str, dict[str, Any]]]:
    """(label, body) of each ``keyword "label" {...}`` block (module, output, variable)."""
    found: list[tuple[str, dict[str, Any]]] = []
    for block in _blocks(doc, keyword):
        if isinstance(block, dict):
            for name, body in block.items():
                if isinstance(body, dict):
                    found.append((unquote_key(name), body))
    return found


def _resources(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(type, name, body) of each resource block."""
    found: list[tuple[str, str, dict[str, Any]]] = []
    for block in _blocks(doc, "resource"):
        if not isinstance(block, dict):
            continue
        for rtype, named in block.items():
            if isinstance(named, dict):
                for name, body in named.items():
                    if isinstance(body, dict):
                        found.append((unquote_key(rtype), unquote_key(name), body))
    return found


# ----------------------------------------------------------------------------- tfvars


def _tfvars_values(text: str, name: str) -> dict[str, Any]:
    """The raw values a tfvars text sets; HclSyntaxError or ValueError when it is not valid."""
    if name.lower().endswith(".json"):
        loaded = json.loads(text)
        if not isinstance(loaded, dict):
            raise ValueError("a .tfvars.json file holds one JSON object")
        # JSON strings are plain values, not templates: quote them for the evaluator.
        return {k: _quote_json(v) for k, v in loaded.items()}
    return {k: v for k, v in parse_hcl(text).doc.items() if not k.startswith("__")}


def _quote_json(value: Any) -> Any:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("${", "$${") + '"'
    if isinstance(value, list):
        return [_quote_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _quote_json(v) for k, v in value.items()}
    return value


def _tfvars_error(display: str, error: Exception) -> LoadError:
    if isinstance(error, HclSyntaxError):
        return LoadError(display, error.line, error.column, error.described)
    if isinstance(error, json.JSONDecodeError):
        return LoadError(display, error.lineno, error.colno, f"invalid JSON: {error.msg}")
    return LoadError(display, 1, 1, str(error))


def load_tfvars_file(path: Path, display: str) -> tuple[dict[str, Any], LoadError | None]:
    """The variables a ``--parameters x.tfvars`` file sets, evaluated (literals only, as
    Terraform allows there); an error naming the file and line when it is not valid."""
    from exemptlint.loaders import read_text

    text, problem = read_text(path, display)
    if problem is not None or text is None:
        return {}, problem
    try:
        raw = _tfvars_values(text.removeprefix("\ufeff"), path.name)
    except RecursionError:
        return {}, LoadError(display, 1, 1, "nesting too deep to evaluate")
    except (HclSyntaxError, ValueError) as error:
        return {}, _tfvars_error(display, error)
    return {unquote_key(k): plain_literal(v) for k, v in raw.items()}, None


def tfvars_note(path: Path, display: str, options: Any) -> LoadResult:
    """A ``.tfvars`` file found by a scan: say so when no configuration applies it (Terraform
    reads only terraform.tfvars and *.auto.tfvars beside the .tf files by itself, others only
    with -var-file). Its values are not guessed onto any configuration."""
    given = {os.path.realpath(p) for p, _ in getattr(options, "tfvars", ())}
    if os.path.realpath(path) in given:
        return LoadResult()  # applied to every configuration, by --parameters
    try:
        beside = any(entry.name.endswith(".tf") and entry.is_file() for entry in os.scandir(path.parent))
    except OSError:
        beside = False
    if beside and _auto_loaded(path.name):
        return LoadResult()  # applied to the .tf files beside it
    if beside:
        why = "Terraform reads it only when it is named with -var-file"
    else:
        why = "no .tf file is beside it, so which configuration it feeds is not known"
    message = (
        f"{path.name} is not applied ({why}): the .tf files are linted without its values; "
        f"to apply it, pass --parameters {display}"
    )
    return LoadResult(notes=[LoadNote(display, 1, 1, message)])


def tf_json_note(text: str, display: str) -> LoadResult:
    """A ``.tf.json`` file (Terraform's JSON syntax) is not evaluated: one that may deploy an
    exemption or assignment gets a note saying so, rather than being skipped without a word."""
    if not relevant_text(text, placements=False) and '"module"' not in text:
        return LoadResult()
    message = (
        "Terraform JSON syntax (.tf.json) is not read: the exemptions and modules it declares are not "
        "linted; write them in a .tf file, or lint the plan (terraform show -json)"
    )
    return LoadResult(notes=[LoadNote(display, 1, 1, message)])


# ----------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class _File:
    """A parsed .tf file and where findings in it are shown."""

    path: Path | None
    display: str
    parsed: ParsedFile


def load_terraform_text(text: str, file: str, options: Any, path: Path | None = None) -> LoadResult:
    """Exemptions and assignments of one ``.tf`` file, evaluated with the variables, locals and
    resources of its directory, and of the local modules it calls (``options`` is the loaders'
    ``LoadOptions``: its ``tfvars`` apply)."""
    # Terraform ignores a UTF-8 byte order mark (Windows editors write one); so does this loader.
    text = text.removeprefix("\ufeff")
    if not relevant_text(text):
        return LoadResult()
    parsed = parse_cached(text)
    if isinstance(parsed, HclSyntaxError):
        error = LoadError(file, parsed.line, parsed.column, parsed.described)
        return LoadResult(errors=[error])
    result = LoadResult()
    walker = _Walker(result)
    this = _File(path, file, parsed)
    siblings = _siblings(path, file)
    tfvars = _root_tfvars(path, file, result)
    # --parameters x.tfvars: evaluated already, and applied after the automatic ones (as -var-file).
    explicit: dict[str, Any] = {}
    for _, values in getattr(options, "tfvars", ()):
        explicit.update(values)
    context = walker.context([this, *siblings], tfvars=tfvars, values=explicit)
    stack = (path.parent.resolve(),) if path is not None else ()
    walker.bind_outputs(context, [this, *siblings], stack)
    walker.walk(this, context, "", stack)
    return result


def _siblings(path: Path | None, display: str) -> list[_File]:
    """The other .tf files of the directory (their variables, locals and resources count)."""
    from exemptlint.loaders import MAX_FILE_BYTES, decode_text

    if path is None:
        return []
    found: list[_File] = []
    try:
        entries = sorted(os.scandir(path.parent), key=lambda e: e.name)
    except OSError:
        return found
    for entry in entries:
        if not entry.name.endswith(".tf") or entry.name == path.name:
            continue
        try:
            if not entry.is_file() or entry.stat().st_size > MAX_FILE_BYTES:
                continue
            text = decode_text(Path(entry.path).read_bytes())
        except (OSError, ValueError):  # SourceDecodeError: not text
            continue  # reported when the file is linted itself
        parsed = parse_cached(text)
        if isinstance(parsed, ParsedFile):  # a broken sibling is reported when it is linted itself
            shown = os.path.join(os.path.dirname(display), entry.name).replace(os.sep, "/")
            found.append(_File(Path(entry.path), shown, parsed))
    return found


def _root_tfvars(path: Path | None, display: str, result: LoadResult) -> list[dict[str, Any]]:
    """terraform.tfvars(.json) then *.auto.tfvars(.json) of the directory, as Terraform applies
    them; one that cannot be read is an error (its values would silently be the defaults)."""
    from exemptlint.loaders import decode_text

    if path is None:
        return []
    try:
        names = sorted(entry.name for entry in os.scandir(path.parent) if is_tfvars(entry.name))
    except OSError:
        return []
    auto = sorted(n for n in names if n.endswith((".auto.tfvars", ".auto.tfvars.json")))
    ordered = [n for n in _AUTO_TFVARS if n in names] + auto
    values: list[dict[str, Any]] = []
    for name in ordered:
        shown = os.path.join(os.path.dirname(display), name).replace(os.sep, "/")
        try:
            text = decode_text((path.parent / name).read_bytes())
            values.append(_tfvars_values(text, name))
        except RecursionError:
            raise
        except (OSError, UnicodeDecodeError) as error:
            result.errors.append(LoadError(shown, 1, 1, f"cannot read file: {error}"))
        except (HclSyntaxError, ValueError) as error:
            result.errors.append(_tfvars_error(shown, error))
    return values


def _block(file: _File, keyword: str, *labels: str) -> Block:
    found = file.parsed.block(keyword, *labels)
    if found is None:  # not expected: every block of the document is in the tree
        return Block(keyword, labels, Position(1, 1, len(keyword)), 1, {})
    return found


def _written(raw: Any) -> str:
    """An argument's value as written (python-hcl2 wraps expressions in ${...})."""
    if isinstance(raw, str):
        return raw[2:-1].strip() if raw.startswith("${") and raw.endswith("}") else raw
    return json.dumps(raw)


class _Walker:
    """Walks the resources and module calls of .tf files, following local modules."""

    def __init__(self, result: LoadResult) -> None:
        self.result = result
        self.reported: set[tuple[str, int, int, str]] = set()
        # A module instance's context and files, by (caller context, caller file, module, key).
        self.children: dict[tuple[int, str, str, str], tuple[Context, list[_File]]] = {}
        self.resolving: set[tuple[str, str, int]] = set()

    # --- reporting

    def note(self, file: str, position: Position, message: str) -> None:
        key = (file, position.line, position.column, message)
        if key not in self.reported:
            self.reported.add(key)
            self.result.notes.append(LoadNote(file, position.line, position.column, message))

    def not_deployed(self, file: _File, block: Block, body: dict[str, Any], what: str, prefix: str) -> None:
        """A block whose ``count`` is 0 or whose ``for_each`` is empty deploys nothing: listed
        as skipped, at the argument, with its text as written."""
        argument = "for_each" if "for_each" in body else "count"
        where = block.keys.get((argument,), block.start)
        reason = "for_each is empty" if argument == "for_each" else "count is 0"
        condition = f"{argument} = {_written(body.get(argument))}"
        context = prefix.rstrip(".") or None
        skipped = Skipped(file.display, where.line, where.column, what, condition, reason, context)
        self.result.skipped.append(skipped)

    def error(self, error: LoadError) -> None:
        key = (error.file, error.line, error.column, error.message)
        if key not in self.reported:
            self.reported.add(key)
            self.result.errors.append(error)

    # --- contexts

    def context(
        self,
        files: list[_File],
        tfvars: list[dict[str, Any]] | None = None,
        values: dict[str, Any] | None = None,
        module: str | None = None,
    ) -> Context:
        """The evaluation context of a module instance: variable defaults, then tfvars (raw),
        then ``values`` (evaluated: --parameters tfvars, or the caller's arguments)."""
        variables: dict[str, Any] = {}
        locals_: dict[str, Any] = {}
        for file in files:
            for name, body in _labelled(file.parsed.doc, "variable"):
                if "default" in body:
                    variables[name] = plain_literal(body["default"])
            for block in _blocks(file.parsed.doc, "locals"):
                if isinstance(block, dict):
                    locals_.update((k, v) for k, v in block.items() if not k.startswith("__"))
        for raw in tfvars or []:
            for name, value in raw.items():
                if not name.startswith("__"):
                    variables[unquote_key(name)] = plain_literal(value)
        variables.update(values or {})
        if module is None:
            missing = "has no default and no tfvars value"
        else:
            missing = f"is not set by module '{module}' and has no default"
        context = Context(variables, locals_, missing)
        for file in files:
            for rtype, name, body in _resources(file.parsed.doc):
                if (
                    rtype in ASSIGNMENT_TYPES
                    or rtype in DEFINITION_TYPES
                    or rtype in AZAPI_TYPES
                    or rtype == MANAGEMENT_GROUP
                ):
                    context.resources[f"{rtype}.{name}"] = Resource(rtype, body)
        return context

    # --- resources

    def walk(self, file: _File, context: Context, prefix: str, stack: tuple[Path, ...]) -> None:
        for rtype, name, body in _resources(file.parsed.doc):
            if rtype in EXEMPTION_TYPES:
                self.azurerm_exemption(file, rtype, name, body, context, prefix)
            elif rtype in ASSIGNMENT_TYPES:
                self.azurerm_assignment(file, rtype, name, body, context, prefix)
            elif rtype in SET_DEFINITION_TYPES:
                self.set_definition(file, rtype, name, body, context, prefix)
            elif rtype in AZAPI_TYPES:
                self.azapi(file, name, body, context, prefix)
            elif rtype == MANAGEMENT_GROUP:
                self.management_group(file, name, body, context, prefix)
            elif rtype == SUBSCRIPTION_ASSOCIATION:
                self.subscription_association(file, name, body, context, prefix)
        for name, body in _labelled(file.parsed.doc, "module"):
            self.module(file, name, body, context, prefix, stack)

    def azurerm_exemption(
        self, file: _File, rtype: str, name: str, body: dict[str, Any], context: Context, prefix: str
    ) -> None:
        block = _block(file, "resource", rtype, name)
        scope_arg = EXEMPTION_TYPES[rtype]
        located: dict[str, Position] = {}
        for argument in ("name", scope_arg, *ARGUMENTS):
            found = block.keys.get((argument,))
            if found is not None:
                located[ARGUMENTS.get(argument, argument)] = found
        if scope_arg in located:
            located["scope"] = located[scope_arg]
        expanded = instances(body, context)
        if not expanded:
            self.not_deployed(file, block, body, f"{rtype}.{name}", prefix)
        for instance, label in expanded:
            properties: dict[str, Any] = {}
            for argument, canonical in ARGUMENTS.items():
                if argument not in body:
                    continue
                value = context.value(body[argument], instance)
                if canonical == "metadata":
                    value = decoded(value)
                if canonical in PLACEHOLDER_PROPERTIES:
                    value = mark_placeholders(value)
                properties[canonical] = value
            scope = mark_placeholders(context.value(body.get(scope_arg), instance))
            self.result.exemptions.append(
                Exemption(
                    name=mark_placeholders(context.value(body.get("name"), instance)),
                    scope=scope,
                    scope_level=exemption_level(rtype, scope),
                    properties=properties,
                    source=self.source(file, block, located, f"{prefix}{rtype}.{name}", label),
                )
            )

    def source(
        self, file: _File, block: Block, located: dict[str, Position], address: str, label: str | None
    ) -> Source:
        return Source(
            file.display,
            "terraform",
            FixedLocator(block.start, located),
            context=address + (f"; {label}" if label else ""),
            directives=file.parsed.directives,
            # Arguments the block sets twice (Terraform rejects it): EL008 reports them.
            duplicates=file.parsed.repeated.get((block.keyword, *block.labels), ()),
        )

    def azurerm_assignment(
        self, file: _File, rtype: str, name: str, body: dict[str, Any], context: Context, prefix: str
    ) -> None:
        block = _block(file, "resource", rtype, name)
        self.result.assignments.append(
            PolicyAssignment(
                id=mark_placeholders(context.resource_id(f"{rtype}.{name}")),
                name=context.value(body.get("name"), NO_INSTANCE),
                policy_definition_id=mark_placeholders(
                    context.value(body.get("policy_definition_id"), NO_INSTANCE)
                ),
                source=Source(file.display, "terraform", FixedLocator(block.start), context=prefix or None),
            )
        )

    def set_definition(
        self, file: _File, rtype: str, name: str, body: dict[str, Any], context: Context, prefix: str
    ) -> None:
        block = _block(file, "resource", rtype, name)
        blocks = body.get("policy_definition_reference")
        members: list[tuple[Any, Any]] | None = None
        # Members built by a dynamic block (or not written at all) are not known statically.
        if isinstance(blocks, list) and blocks and "dynamic" not in body:
            members = [
                (
                    mark_placeholders(context.value(member.get("reference_id"), NO_INSTANCE)),
                    mark_placeholders(context.value(member.get("policy_definition_id"), NO_INSTANCE)),
                )
                for member in blocks
                if isinstance(member, dict)
            ]
        self.result.set_definitions.append(
            SetDefinition(
                id=None,
                name=mark_placeholders(context.value(body.get("name"), NO_INSTANCE)),
                display_name=context.value(body.get("display_name"), NO_INSTANCE),
                members=members,
                source=Source(file.display, "terraform", FixedLocator(block.start), context=prefix or None),
            )
        )

    def azapi(self, file: _File, name: str, body: dict[str, Any], context: Context, prefix: str) -> None:
        written = context.value(body.get("type"), NO_INSTANCE)
        if isinstance(written, Unresolved) and written.partial is not None:
            written = written.partial  # "Microsoft.Authorization/policyExemptions@${var.api}"
        rtype, api_version = azapi_type(written)
        if api_version is not None and "{" in api_version:
            api_version = None  # a variable: not known statically
        if rtype.lower() == EXEMPTION_TYPE.lower():
            self.azapi_exemption(file, name, body, context, prefix, api_version)
        elif rtype.lower() == ASSIGNMENT_TYPE.lower():
            self.azapi_assignment(file, name, body, context, prefix)
        elif rtype.lower() in (MANAGEMENT_GROUP_TYPE.lower(), MANAGEMENT_GROUP_SUBSCRIPTION_TYPE.lower()):
            self.azapi_placement(file, name, body, context, prefix, rtype.lower())

    def management_group(
        self, file: _File, name: str, body: dict[str, Any], context: Context, prefix: str
    ) -> None:
        """Where an ``azurerm_management_group`` sits (``parent_management_group_id``, the tenant
        root group when not set), and the subscriptions it holds (``subscription_ids``)."""
        block = _block(file, "resource", MANAGEMENT_GROUP, name)
        source = self.placement_source(file, block, prefix)
        for instance, _ in instances(body, context):
            child = management_group_id(context, body, instance)
            parent: Any = None
            if "parent_management_group_id" in body:
                parent = mark_placeholders(context.value(body["parent_management_group_id"], instance))
            self.result.placements.append(Placement(mark_placeholders(child), parent, source))
            if "subscription_ids" not in body:
                continue
            subscriptions = context.value(body["subscription_ids"], instance)
            for subscription in subscriptions if isinstance(subscriptions, list) else []:
                subscription_id = mark_placeholders(concat("/subscriptions/", subscription))
                self.result.placements.append(Placement(subscription_id, mark_placeholders(child), source))

    def subscription_association(
        self, file: _File, name: str, body: dict[str, Any], context: Context, prefix: str
    ) -> None:
        source = self.placement_source(file, _block(file, "resource", SUBSCRIPTION_ASSOCIATION, name), prefix)
        for instance, _ in instances(body, context):
            subscription = mark_placeholders(context.value(body.get("subscription_id"), instance))
            group = mark_placeholders(context.value(body.get("management_group_id"), instance))
            self.result.placements.append(Placement(subscription, group, source))

    def azapi_placement(
        self, file: _File, name: str, body: dict[str, Any], context: Context, prefix: str, rtype: str
    ) -> None:
        """An AzAPI management group (its parent in ``body.properties.details.parent.id``) or
        subscription placed in one (``parent_id`` the group, ``name`` the subscription id)."""
        source = self.placement_source(file, _block(file, "resource", "azapi_resource", name), prefix)
        for instance, _ in instances(body, context):
            resource_name = mark_placeholders(context.value(body.get("name"), instance))
            if rtype == MANAGEMENT_GROUP_SUBSCRIPTION_TYPE.lower():
                group = mark_placeholders(context.value(body.get("parent_id"), instance))
                subscription_id = concat("/subscriptions/", resource_name)
                self.result.placements.append(Placement(subscription_id, group, source))
                continue
            value = decoded(context.value(body.get("body"), instance)) if "body" in body else None
            properties = get_ci(value, "properties")[1] if isinstance(value, dict) else value
            parent = management_group_parent(properties)
            child = concat(MANAGEMENT_GROUP_PREFIX, resource_name)
            self.result.placements.append(Placement(child, parent, source))

    def placement_source(self, file: _File, block: Block, prefix: str) -> Source:
        return Source(file.display, "terraform", FixedLocator(block.start), context=prefix or None)

    def azapi_exemption(
        self,
        file: _File,
        name: str,
        body: dict[str, Any],
        context: Context,
        prefix: str,
        api_version: str | None,
    ) -> None:
        block = _block(file, "resource", "azapi_resource", name)
        keys = block.keys
        located: dict[str, Position] = {}
        if ("name",) in keys:
            located["name"] = keys[("name",)]
        if ("parent_id",) in keys:
            located["scope"] = keys[("parent_id",)]
        at_body = keys.get(("body",))
        expanded = instances(body, context)
        if not expanded:
            self.not_deployed(file, block, body, f"azapi_resource.{name}", prefix)
        for instance, label in expanded:
            properties: dict[str, Any] = {}
            value = decoded(context.value(body.get("body"), instance)) if "body" in body else None
            unknown: Unresolved | None = value if isinstance(value, Unresolved) else None
            if isinstance(value, dict):
                key, props = get_ci(value, "properties")
                at_props = keys.get(("body", key or "properties"), at_body)
                if at_props is not None:
                    located["properties"] = at_props
                if isinstance(props, dict):
                    properties, spelled = canonical_properties(props)
                    for canonical, spelling in spelled.items():
                        found = keys.get(("body", key or "properties", spelling), at_props)
                        if found is not None:
                            located[canonical] = found
                    if "metadata" in properties:
                        properties["metadata"] = decoded(properties["metadata"])
                elif isinstance(props, Unresolved):
                    unknown = props
            if unknown is not None:
                properties = {n: Unresolved(unknown.expression, unknown.reason) for n in _UNKNOWN_PROPERTIES}
                where = located.get("properties", at_body)
                if where is not None:
                    located.update((n, where) for n in _UNKNOWN_PROPERTIES)
            scope = mark_placeholders(context.value(body.get("parent_id"), instance))
            self.result.exemptions.append(
                Exemption(
                    name=mark_placeholders(context.value(body.get("name"), instance)),
                    scope=scope,
                    scope_level=scope_level(scope),
                    properties=properties,
                    source=self.source(file, block, dict(located), f"{prefix}azapi_resource.{name}", label),
                    api_version=api_version,
                )
            )

    def azapi_assignment(
        self, file: _File, name: str, body: dict[str, Any], context: Context, prefix: str
    ) -> None:
        block = _block(file, "resource", "azapi_resource", name)
        definition: Any = None
        value = decoded(context.value(body.get("body"), NO_INSTANCE)) if "body" in body else None
        if isinstance(value, dict):
            _, props = get_ci(value, "properties")
            if isinstance(props, dict):
                definition = get_ci(props, "policyDefinitionId")[1]
            elif isinstance(props, Unresolved):
                definition = props
        elif isinstance(value, Unresolved):
            definition = value
        self.result.assignments.append(
            PolicyAssignment(
                id=mark_placeholders(context.resource_id(f"azapi_resource.{name}")),
                name=context.value(body.get("name"), NO_INSTANCE),
                policy_definition_id=mark_placeholders(definition),
                source=Source(file.display, "terraform", FixedLocator(block.start), context=prefix or None),
            )
        )

    # --- modules

    def module(
        self,
        file: _File,
        name: str,
        body: dict[str, Any],
        context: Context,
        prefix: str,
        stack: tuple[Path, ...],
    ) -> None:
        block = _block(file, "module", name)
        target = self.target(file, name, body, context, stack)
        if isinstance(target, str):
            self.note(file.display, block.keys.get(("source",), block.start), target)
            return
        directory, source = target
        if not directory.relevant:
            return  # no file of it can deploy an exemption or an assignment
        for module_file in directory.files:
            parsed = module_file.parse()
            if isinstance(parsed, HclSyntaxError):
                message = parsed.message if module_file.text is None else parsed.described
                self.error(LoadError(module_file.display, parsed.line, parsed.column, message))
        walked = False
        expanded = instances(body, context)
        if not expanded:
            self.not_deployed(file, block, body, f"module {name} '{source}'", prefix)
        for instance, _ in expanded:
            child, files = self.child(file, name, body, context, instance, directory, source, stack)
            inner = f"{prefix}module.{name}{instance.key}."
            for walked_file in files:
                self.walk(walked_file, child, inner, (*stack, directory.path))
            walked = True
        if walked:
            # Linted through this caller, with its values: not on their own as well.
            self.result.followed.update(f.display for f in directory.files)

    def target(
        self, file: _File, name: str, body: dict[str, Any], context: Context, stack: tuple[Path, ...]
    ) -> tuple[ModuleDirectory, str] | str:
        """The module's directory and source as written; else why it is not followed."""
        source = context.value(body.get("source"), NO_INSTANCE)
        if not isinstance(source, str):
            return f"module '{name}' is not followed: its source is not a literal string"
        if not is_local(source):
            return (
                f"module '{name}' (source '{source}') comes from {remote_origin(source)} and is not "
                "followed: the exemptions it deploys are not linted"
            )
        label = f"module '{name}' (source '{source}') is not followed"
        if file.path is None:
            return f"{label}: the location of this file is not known"
        try:
            directory = (file.path.parent / source.replace("\\", "/")).resolve()
        except (OSError, RuntimeError) as error:  # RuntimeError: a symlink loop (Python < 3.13)
            return f"{label}: {error}"
        if directory in stack:
            return f"{label}: it includes itself (a module cycle)"
        if len(stack) > MAX_MODULE_DEPTH:
            return f"{label}: modules are nested more than {MAX_MODULE_DEPTH} deep"
        read = read_directory(directory, file.display, source)
        if isinstance(read, str):
            return f"{label}: {read}"
        return read, source

    def child(
        self,
        file: _File,
        name: str,
        body: dict[str, Any],
        context: Context,
        instance: Instance,
        directory: ModuleDirectory,
        source: str,
        stack: tuple[Path, ...],
    ) -> tuple[Context, list[_File]]:
        """The context of one instance of a module: its defaults, and the caller's arguments
        evaluated in the caller's context."""
        key = (id(context), file.display, name, instance.key)
        cached = self.children.get(key)
        if cached is not None:
            return cached
        files: list[_File] = []
        for module_file in directory.files:
            parsed = module_file.parse()
            if isinstance(parsed, ParsedFile):
                files.append(_File(module_file.path, module_file.display, parsed))
        values = {
            unquote_key(argument): context.value(raw, instance)
            for argument, raw in body.items()
            if not argument.startswith("__") and argument not in _MODULE_META
        }
        child = self.context(files, values=values, module=name)
        self.bind_outputs(child, files, (*stack, directory.path))
        self.children[key] = (child, files)
        return child, files

    def bind_outputs(self, context: Context, files: list[_File], stack: tuple[Path, ...]) -> None:
        """Let ``module.NAME.OUTPUT`` in these files resolve through the local module NAME."""
        calls: dict[str, tuple[_File, dict[str, Any]]] = {}
        for file in files:
            for name, body in _labelled(file.parsed.doc, "module"):
                calls.setdefault(name, (file, body))
        if not calls:
            return

        def outputs(name: str, steps: list[str], _: Instance) -> Any:
            return self.output(calls, name, steps, context, stack)

        context.module_outputs = outputs

    def output(
        self,
        calls: dict[str, tuple[_File, dict[str, Any]]],
        name: str,
        steps: list[str],
        context: Context,
        stack: tuple[Path, ...],
    ) -> Any:
        shown = f"module.{name}"
        if name not in calls:
            return Unresolved(shown, f"module '{name}' is not declared in this configuration")
        file, body = calls[name]
        target = self.target(file, name, body, context, stack)
        if isinstance(target, str):
            return Unresolved(shown, f"the outputs of module '{name}' are not known: it is not followed")
        directory, source = target
        chosen = NO_INSTANCE
        if "count" in body or "for_each" in body:
            if not steps:
                return Unresolved(shown, "the instances of a module as one value are not evaluated")
            wanted, steps = steps[0], steps[1:]
            keys = (f"[{wanted}]", f"[{json.dumps(wanted, ensure_ascii=False)}]")
            found = [i for i, _ in instances(body, context) if i.key in keys]
            if not found:
                return Unresolved(shown, f"instance '{wanted}' of module '{name}' is not known statically")
            chosen = found[0]
        if not steps:
            return Unresolved(shown, "the outputs of a module as one value are not evaluated")
        child, files = self.child(file, name, body, context, chosen, directory, source, stack)
        for module_file in files:
            for output, output_body in _labelled(module_file.parsed.doc, "output"):
                if output != steps[0]:
                    continue
                guard = (str(directory.path), output, id(child))
                if guard in self.resolving:
                    return Unresolved(shown, f"output '{output}' refers to itself")
                self.resolving.add(guard)
                try:
                    value = child.value(output_body.get("value"), NO_INSTANCE)
                finally:
                    self.resolving.discard(guard)
                return child.index(value, steps[1:], f"{shown}.{'.'.join(steps)}")
        return Unresolved(f"{shown}.{steps[0]}", f"module '{name}' has no output '{steps[0]}'")
