"""Bicep files: every policy exemption a Bicep deployment would create, as normalized exemptions
with positions in the .bicep file.

Parsing is tree-sitter's (``bicep_syntax``); values are evaluated statically by ``bicep_eval``,
which reuses the ARM expression evaluator for Bicep's functions. Recognized:

- ``resource NAME 'Microsoft.Authorization/policyExemptions@API' = {...}``, plain, with
  ``if (...)``, in ``[for ...]`` loops (item, index and ``range()`` loops), nested in another
  resource, with decorators and comments anywhere; ``existing`` resources only give ids;
- ``targetScope`` and ``scope:`` (scope functions, symbolic references, ids) for the scope;
- local modules (``module m './x.bicep' = {params: {...}, scope: ...}``), followed with their
  parameters and scope, findings pointing into the module file; registry modules and cycles
  are EL009 notes;
- ``Microsoft.Authorization/policyAssignments`` for EL001;
- parameters from defaults, a sibling ``.bicepparam`` (``using './main.bicep'``) or
  ``NAME.parameters.json``, and ``--parameters`` files, in increasing precedence;
- ``// exemptlint-disable-next-line`` comments and Bicep's ``#disable-next-line EL###``.
"""

from __future__ import annotations

import os
import posixpath
import re
import stat
from pathlib import Path
from typing import Any, NamedTuple

from exemptlint.loaders import SourceDecodeError, decode_text, mentions_any, read_text
from exemptlint.loaders.arm_expressions import Deployment
from exemptlint.loaders.bicep_eval import (
    MAX_LOOP,
    FileContext,
    Instance,
    ModuleHost,
    Workspace,
    resource_scope_level,
    scope_target,
    split_type,
)
from exemptlint.loaders.bicep_syntax import (
    BicepSyntaxError,
    Call,
    Document,
    Expr,
    Literal,
    ModuleDecl,
    ObjectLit,
    Property,
    ResourceDecl,
    Spread,
    parse_document,
    parse_document_uncached,
)
from exemptlint.loaders.values import (
    canonical_properties,
    join_context,
    mark_placeholders,
    resource_placement,
)
from exemptlint.model import (
    ASSIGNMENT_TYPE,
    EXEMPTION_TYPE,
    MANAGEMENT_GROUP_SUBSCRIPTION_TYPE,
    MANAGEMENT_GROUP_TYPE,
    SET_DEFINITION_TYPE,
    Directive,
    DuplicateKey,
    Exemption,
    FixedLocator,
    LoadError,
    LoadNote,
    LoadResult,
    PolicyAssignment,
    Position,
    ScopeLevel,
    Skipped,
    Source,
    Unresolved,
)
from exemptlint.scope import scope_level
from exemptlint.suppressions import parse_directives

__all__ = ["BICEP_SUFFIXES", "load_bicep_text"]

BICEP_SUFFIXES = frozenset({".bicep", ".bicepparam"})
# How deep modules are followed (a.bicep -> b.bicep -> ...); cycles are caught before this.
MAX_MODULE_DEPTH = 16
# A file that mentions neither resource type nor the word "module" deploys no exemption or
# assignment, directly or through a module: it is not parsed.
_RESOURCE_TYPES = (
    "policyExemptions",
    "policyAssignments",
    "policySetDefinitions",
    # Where management groups and subscriptions sit (EL014).
    MANAGEMENT_GROUP_TYPE,
)
_PLACEMENT_TYPES = (MANAGEMENT_GROUP_TYPE.lower(), MANAGEMENT_GROUP_SUBSCRIPTION_TYPE.lower())
_MODULE_WORD = re.compile(r"\bmodule\b", re.IGNORECASE)
_REGISTRY = ("br:", "br/", "ts:", "ts/")
_TARGET_SCOPES = {
    "resourcegroup": ScopeLevel.RESOURCE_GROUP,
    "subscription": ScopeLevel.SUBSCRIPTION,
    "managementgroup": ScopeLevel.MANAGEMENT_GROUP,
    "tenant": ScopeLevel.TENANT,
}
_SCOPE_FUNCTIONS = frozenset({"tenant", "managementgroup", "subscription", "resourcegroup"})
# Any EL followed by digits is meant for exemptlint (Bicep linter codes are words or BCP###): a
# misspelt id (EL4) becomes an EL011 finding rather than a comment nobody reads.
_RULE_ID = re.compile(r"EL\d+", re.IGNORECASE)
_DISABLE_NEXT_LINE = "#disable-next-line"
# Properties set to one unknown value when the whole properties object is unknown (as arm.py).
_UNKNOWN_PROPERTIES = ("policyAssignmentId", "exemptionCategory", "expiresOn", "description", "displayName")


def load_bicep_text(text: str, display: str, options: Any, path: Path | None = None) -> LoadResult:
    """Load a .bicep (or .bicepparam) file; ``options`` is the loaders' ``LoadOptions``."""
    is_params = path is not None and path.suffix.lower() == ".bicepparam"
    if not is_params and not _relevant(text):
        return LoadResult()
    try:
        # A .bicepparam is read again by the .bicep file it names, a .bicep file (unless used as a
        # module, which the workspace parses through the cache) only here.
        document = parse_document(text, True) if is_params else parse_document_uncached(text)
    except BicepSyntaxError as error:
        return LoadResult(errors=[LoadError(display, error.line, error.column, error.message)])
    if is_params:
        # Its values are used when the .bicep file it names is linted; here only whether that
        # file (and the file it extends) can be read, else what it deploys would be lost unseen.
        assert path is not None
        return _parameters_file_result(document, display, path)
    workspace = Workspace(options.today)
    stack: tuple[Path, ...] = ()
    if path is not None and document.modules:
        # Only module following looks files up by their resolved path (cycles, a module that
        # uses this file): resolving costs a system call per directory, so only then.
        resolved = path.resolve()
        workspace.add(resolved, text, document)
        stack = (resolved,)
    supplied: dict[str, Any] = {}
    context: str | None = None
    parameters_file = False
    if path is not None:
        supplied, context, parameters_file = _sidecar_parameters(path, workspace)
    supplied.update(options.parameters)
    deployment = Deployment(level=target_level(document))
    result = LoadResult()
    loader = _Loader(workspace, result)
    # Without a parameters file made for it, the file is linted as its callers would deploy it:
    # its empty optional parameters are theirs to give (FileContext.param_value).
    file = FileContext(
        workspace, document, deployment, supplied, path, loader, entry=True, standalone=not parameters_file
    )
    loader.file(file, text, display, context, stack)
    return result


def bicepparam_values(
    text: str, display: str, today: Any, path: Path | None = None
) -> tuple[dict[str, Any], LoadError | None]:
    """The values a ``.bicepparam`` file assigns (``param x = value``, evaluated; a value not
    known statically is ``Unresolved``), for ``--parameters``: they apply to every template,
    whatever its ``using`` names."""
    try:
        document = parse_document(text, True)
    except BicepSyntaxError as error:
        return {}, LoadError(display, error.line, error.column, error.message)
    workspace = Workspace(today)
    file = FileContext(workspace, document, Deployment(level=target_level(document)), {}, path)
    return {p.name: file.param_value(p.name) for p in document.params}, None


def _relevant(text: str) -> bool:
    if mentions_any(text, _RESOURCE_TYPES):
        return True
    # The whole-word pattern only where the word is there at all: the substring search is cheap.
    return mentions_any(text, ("module",)) and _MODULE_WORD.search(text) is not None


def target_level(document: Document) -> ScopeLevel:
    value = document.target_scope
    if isinstance(value, Literal) and isinstance(value.value, str):
        return _TARGET_SCOPES.get(value.value.lower(), ScopeLevel.RESOURCE_GROUP)
    return ScopeLevel.RESOURCE_GROUP


# --------------------------------------------------------------------------- parameters


def _sidecar_parameters(path: Path, workspace: Workspace) -> tuple[dict[str, Any], str | None, bool]:
    """Values from a .bicepparam beside the file whose ``using`` names it (``NAME.bicepparam``
    first), else from ``NAME.parameters.json``; a context when one of several was chosen; and
    whether there was such a file."""
    target = os.path.normpath(os.path.abspath(path))
    candidates = [p for p in _bicepparam_files(path.parent) if _using_target(p) == target]
    if candidates:
        candidates.sort(key=lambda p: (p.stem != path.stem, p.name))
        chosen = candidates[0]
        document = workspace.document(chosen)
        if isinstance(document, Document):
            values = _bicepparam_values(workspace, chosen, document, 0)
            context = f"parameters from {chosen.name}" if len(candidates) > 1 else None
            return values, context, True
    from exemptlint.loaders.arm import parameter_values
    from exemptlint.loaders.jsontext import JsonSyntaxError, parse_json_text

    for suffix in (".parameters.json", ".parameters.jsonc"):
        candidate = path.with_name(path.stem + suffix)
        if candidate.is_file():
            text, _ = read_text(candidate, str(candidate))
            try:
                return (parameter_values(parse_json_text(text)) if text is not None else {}), None, True
            except JsonSyntaxError:
                return {}, None, True
    return {}, None, False


def _bicepparam_values(workspace: Workspace, path: Path, document: Document, depth: int) -> dict[str, Any]:
    """The values a .bicepparam file gives: those of the file it ``extends`` first, its own
    over them."""
    values: dict[str, Any] = {}
    if document.extends is not None and depth < MAX_MODULE_DEPTH:
        base_path = path.parent / document.extends[0]
        base = workspace.document(base_path)
        if isinstance(base, Document):
            values.update(_bicepparam_values(workspace, base_path, base, depth + 1))
    file = FileContext(workspace, document, Deployment(level=target_level(document)), {}, path)
    values.update({p.name: file.param_value(p.name) for p in document.params})
    return values


def _parameters_file_result(document: Document, display: str, path: Path) -> LoadResult:
    """A note (and the file's own error) when the template a .bicepparam file uses, or the
    .bicepparam file it extends, is a local file that cannot be read or parsed."""
    from exemptlint.loaders import read_text

    result = LoadResult()
    references = []
    if document.using is not None:
        references.append((document.using, "the template", "uses", False))
    if document.extends is not None:
        references.append((document.extends, "the parameters file", "extends", True))
    for (reference, span), what, verb, params_file in references:
        if reference.lower().startswith(_REGISTRY):
            continue  # from a registry: nothing to read here (as for modules, not followed)
        target = path.parent / reference
        shown = _module_display(display, reference, target)
        text, error = read_text(target, shown)
        problem: str | None = None
        if error is not None or text is None:
            reason = error.message if error is not None else "cannot read file"
            problem = f"{what} '{reference}' that this file {verb} cannot be read ({reason})"
        elif params_file or _relevant(text):
            try:
                parse_document(text, params_file)
            except BicepSyntaxError as syntax:
                result.errors.append(LoadError(shown, syntax.line, syntax.column, syntax.message))
                problem = f"{what} '{reference}' that this file {verb} {_syntax_error(syntax)}"
        if problem is not None:
            message = f"{problem}: the exemptions deployed with these values are not linted"
            result.notes.append(LoadNote(display, span.line, span.column, message))
    return result


# .bicepparam files by directory, and the file each one's `using` names, cached for the run:
# every .bicep file of a directory looks at the same siblings.
_MAX_PARAMS_BYTES = 4 * 1024 * 1024
_DIRECTORY_CACHE: dict[str, tuple[int, tuple[Path, ...]]] = {}
_USING_CACHE: dict[str, tuple[tuple[int, int], str | None]] = {}


def _bicepparam_files(directory: Path) -> tuple[Path, ...]:
    key = os.path.abspath(directory)
    try:
        stamp = os.stat(key).st_mtime_ns
        cached = _DIRECTORY_CACHE.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        found = tuple(
            sorted(Path(key, e.name) for e in os.scandir(key) if e.name.lower().endswith(".bicepparam"))
        )
    except OSError:
        return ()
    _DIRECTORY_CACHE[key] = (stamp, found)
    return found


def _using_target(path: Path) -> str | None:
    """The normalized absolute path that a .bicepparam file's ``using`` names."""
    key = str(path)
    try:
        status = path.stat()
    except OSError:
        return None
    if not stat.S_ISREG(status.st_mode) or status.st_size > _MAX_PARAMS_BYTES:
        return None
    stamp = (status.st_mtime_ns, status.st_size)
    cached = _USING_CACHE.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    target: str | None = None
    try:
        document = parse_document(decode_text(path.read_bytes()), True)
        if document.using is not None:
            target = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(path)), document.using[0]))
    except (OSError, SourceDecodeError, BicepSyntaxError):
        target = None
    _USING_CACHE[key] = (stamp, target)
    return target


# --------------------------------------------------------------------------- directives


def bicep_directives(text: str, document: Document) -> tuple[Directive, ...]:
    """``// exemptlint-disable-next-line`` comments, and Bicep's ``#disable-next-line`` naming
    exemptlint rules (``#disable-next-line EL005 -- reason``); Bicep linter codes are ignored."""
    found = list(parse_directives(text))
    lines = text.splitlines()
    for comment in document.diagnostics:
        body = comment.text.strip()
        if not body.startswith(_DISABLE_NEXT_LINE) or "exemptlint-disable-next-line" in body:
            continue
        codes, _, reason = body[len(_DISABLE_NEXT_LINE) :].partition("--")
        rules = tuple(code.upper() for code in codes.split() if _RULE_ID.fullmatch(code))
        if not rules:
            continue
        target = comment.line  # 0-based index of the line after the comment
        while target < len(lines) and _skippable(lines[target]):
            target += 1
        found.append(Directive(comment.line, comment.column, target + 1, rules, reason.strip()))
    found.sort(key=lambda d: (d.line, d.column))
    return tuple(found)


def _repeated(obj: ObjectLit, container: str) -> tuple[DuplicateKey, ...]:
    """Properties of an object literal declared twice: exactly (Bicep's error BCP025) or in
    another case (Bicep compiles both, and ARM matches the names case-insensitively)."""
    found: list[DuplicateKey] = []
    seen: dict[str, Property] = {}
    for prop in obj.properties:
        if isinstance(prop, Property) and isinstance(prop.key, str):
            first = seen.setdefault(prop.key.lower(), prop)
            if first is not prop:
                first_at, where = first.key_span.position, prop.key_span.position
                found.append(DuplicateKey(str(first.key), first_at, prop.key, where, container, "property"))
    return tuple(found)


def _skippable(line: str) -> bool:
    stripped = line.strip()
    return (
        not stripped
        or stripped.startswith(("//", "#"))
        or (stripped.startswith("/*") and stripped.endswith("*/"))
    )


# --------------------------------------------------------------------------- the loader


class _Where(NamedTuple):
    """The file being walked: its display path, suppression comments and context."""

    display: str
    directives: tuple[Directive, ...]
    context: str | None
    stack: tuple[Path, ...]


class _Loader(ModuleHost):
    def __init__(self, workspace: Workspace, result: LoadResult) -> None:
        self.workspace = workspace
        self.result = result
        self.reported: set[tuple[str, int, int]] = set()

    def file(
        self, file: FileContext, text: str, display: str, context: str | None, stack: tuple[Path, ...]
    ) -> None:
        where = _Where(display, bicep_directives(text, file.document), context, stack)
        for decl in file.all_resources:
            if decl.existing:
                continue
            resource_type = _full_type(file, decl).lower()
            if resource_type == EXEMPTION_TYPE.lower():
                for instance in file.instances(decl):
                    self.exemption(file, instance, where)
            elif resource_type == ASSIGNMENT_TYPE.lower():
                for instance in file.instances(decl):
                    self.assignment(file, instance, where)
            elif resource_type == SET_DEFINITION_TYPE.lower():
                for instance in file.instances(decl):
                    self.set_definition(file, instance, where)
                continue
            elif resource_type in _PLACEMENT_TYPES:
                for instance in file.instances(decl):
                    self.placement(file, instance, where, resource_type)
                continue
            else:
                continue
            self.left_out(file, decl, f"resource {decl.symbol} '{decl.type_text}'", where)
        for module in file.document.modules:
            self.module(file, module, where)

    def left_out(self, file: FileContext, decl: ResourceDecl | ModuleDecl, what: str, where: _Where) -> None:
        """Record the copies of ``decl`` that are not deployed, and the loops it cannot deploy."""
        for entry in file.not_deployed(decl):
            at = entry.where
            self.result.skipped.append(
                Skipped(
                    where.display,
                    at.line,
                    at.column,
                    what,
                    entry.text,
                    entry.reason,
                    _context(where.context, entry.context),
                )
            )
        for problem in file.loop_problems(decl):
            key = (where.display, problem.where.line, problem.where.column)
            if key not in self.reported:
                self.reported.add(key)
                at, message = problem.where, problem.message
                self.result.notes.append(LoadNote(where.display, at.line, at.column, message, "EL008"))

    # -- exemptions and assignments

    def exemption(self, file: FileContext, instance: Instance, where: _Where) -> None:
        decl = instance.decl
        assert isinstance(decl, ResourceDecl)
        ev = file.evaluator(instance.local)
        body = instance.body
        positions: dict[str, Position] = {}
        name_prop = body.get("name")
        name: Any = None
        if name_prop is not None:
            # Pipelines fill tokens such as <<namePrefix>> before deploying: such a value is not known.
            name = mark_placeholders(_written(name_prop, ev.evaluate(name_prop.value)))
            positions["name"] = name_prop.key_span.position
        scope_prop = body.get("scope")
        level: ScopeLevel | None = None  # from the type of a resource given as the scope
        if scope_prop is not None:
            scope = mark_placeholders(_written(scope_prop, scope_target(ev, scope_prop.value)[0]))
            positions["scope"] = scope_prop.key_span.position
            if not _is_scope_function(scope_prop.value):
                level = resource_scope_level(ev.evaluate(scope_prop.value))
        elif instance.parent is not None:
            parent = file.identity(instance.parent)
            scope, level = parent["id"], resource_scope_level(parent)
        else:
            scope = file.deployment_scope()
        properties: dict[str, Any] = {}
        props = body.get("properties")
        if props is not None:
            positions["properties"] = props.key_span.position
            properties = self.properties(ev, props, positions)
        _, api_version = split_type(decl.type_text)
        duplicates = _repeated(body, "")
        if props is not None and isinstance(props.value, ObjectLit):
            duplicates += _repeated(props.value, "properties")
        self.result.exemptions.append(
            Exemption(
                name=name,
                scope=scope,
                scope_level=level if level is not None else scope_level(scope),
                properties=properties,
                source=Source(
                    where.display,
                    "bicep",
                    FixedLocator(decl.span.position, positions),
                    _context(where.context, instance.context),
                    where.directives,
                    duplicates,
                ),
                api_version=api_version,
            )
        )

    def properties(self, ev: Any, props: Property, positions: dict[str, Position]) -> dict[str, Any]:
        value = props.value
        if not isinstance(value, ObjectLit):
            evaluated = _written(props, ev.evaluate(value))
            if isinstance(evaluated, dict):
                return canonical_properties(evaluated)[0]
            if isinstance(evaluated, Unresolved):
                return {n: Unresolved(evaluated.expression, evaluated.reason) for n in _UNKNOWN_PROPERTIES}
            return {}
        written: dict[str, Any] = {}
        key_positions: dict[str, Position] = {}
        for prop in value.properties:
            if isinstance(prop, Spread):
                spread = ev.evaluate(prop.value)
                if isinstance(spread, dict):
                    written.update(spread)
                continue
            key = prop.key if isinstance(prop.key, str) else ev.evaluate(prop.key)
            if not isinstance(key, str):
                continue
            written[key] = _written(prop, ev.evaluate(prop.value))
            key_positions[key] = prop.key_span.position
        properties, spelled = canonical_properties(written)
        for canonical, key in spelled.items():
            if key in key_positions:
                positions[canonical] = key_positions[key]
        return properties

    def assignment(self, file: FileContext, instance: Instance, where: _Where) -> None:
        decl = instance.decl
        assert isinstance(decl, ResourceDecl)
        identity = file.identity(instance)
        ev = file.evaluator(instance.local)
        definition: Any = None
        props = instance.body.get("properties")
        if props is not None:
            if isinstance(props.value, ObjectLit):
                found = props.value.get("policyDefinitionId")
                if found is not None:
                    definition = _written(found, ev.evaluate(found.value))
            else:
                evaluated = ev.evaluate(props.value)
                if isinstance(evaluated, dict):
                    definition = next(
                        (v for k, v in evaluated.items() if k.lower() == "policydefinitionid"), None
                    )
                elif isinstance(evaluated, Unresolved):
                    definition = evaluated
        self.result.assignments.append(
            PolicyAssignment(
                id=identity["id"],
                name=identity["name"],
                policy_definition_id=definition,
                source=Source(
                    where.display,
                    "bicep",
                    FixedLocator(decl.span.position),
                    _context(where.context, instance.context),
                    where.directives,
                ),
            )
        )

    def set_definition(self, file: FileContext, instance: Instance, where: _Where) -> None:
        from exemptlint.loaders.set_definitions import set_definition

        identity = file.identity(instance)
        ev = file.evaluator(instance.local)
        props = instance.body.get("properties")
        evaluated = ev.evaluate(props.value) if props is not None else None
        source = Source(
            where.display,
            "bicep",
            FixedLocator(instance.decl.span.position),
            _context(where.context, instance.context),
        )
        self.result.set_definitions.append(set_definition(None, identity["name"], evaluated, source))

    def placement(self, file: FileContext, instance: Instance, where: _Where, resource_type: str) -> None:
        """A management group (its parent: ``properties.details.parent.id``, none for the tenant
        root group) or a subscription placed in one (``parent: group`` or "GROUP/ID")."""
        source = Source(
            where.display,
            "bicep",
            FixedLocator(instance.decl.span.position),
            _context(where.context, instance.context),
        )
        props = instance.body.get("properties")
        evaluated = None
        if props is not None and resource_type != MANAGEMENT_GROUP_SUBSCRIPTION_TYPE.lower():
            evaluated = file.evaluator(instance.local).evaluate(props.value)
        name = file.identity(instance)["name"]
        self.result.placements.append(resource_placement(resource_type, name, evaluated, source))

    # -- modules

    def module(self, file: FileContext, decl: ModuleDecl, where: _Where) -> None:
        instances = file.instances(decl)
        if not instances:
            # Not deployed with the values known: nothing in it is linted through this file (it
            # is not "followed", so a directory scan lints it on its own). Listed when it could
            # deploy an exemption or assignment.
            quiet = self.module_target(file, decl, None)
            if quiet is not None and _relevant(self.workspace.texts.get(quiet[0], "")):
                self.left_out(file, decl, f"module {decl.symbol} '{decl.path}'", where)
            return
        target = self.module_target(file, decl, where)
        if target is None:
            return
        path, document, display = target
        self.result.followed.add(display)
        self.left_out(file, decl, f"module {decl.symbol} '{decl.path}'", where)
        text = self.workspace.texts.get(path, "")
        for instance in instances:
            child = self.module_file(file, instance, path, document)
            label = f"module {decl.symbol}"
            if instance.context is not None:
                label = f"{label} ({instance.context})"
            self.file(child, text, display, join_context(where.context, label), (*where.stack, path))

    def module_target(
        self, file: FileContext, decl: ModuleDecl, where: _Where | None
    ) -> tuple[Path, Document, str] | None:
        """The module's file, parsed, and its display path; None (with a note or an error when
        ``where`` is given) when it is not followed."""
        reference = decl.path
        problem: str | None = None
        path: Path | None = None
        if reference.lower().startswith(_REGISTRY):
            where_from = "a template spec" if reference.lower().startswith("ts") else "a registry"
            problem = (
                f"module '{reference}' comes from {where_from} and is not followed: "
                "the exemptions it deploys are not linted"
            )
        elif not reference.lower().endswith(".bicep"):
            problem = (
                f"module '{reference}' is not a Bicep file and is not followed: lint it as a file of its own"
            )
        elif file.path is None:
            problem = f"module '{reference}' is not followed: the location of this file is not known"
        else:
            path = (file.path.parent / reference).resolve()
            stack = where.stack if where is not None else ()
            if path in stack or path in self.workspace.following:
                problem = f"module '{reference}' is not followed: it includes itself (a module cycle)"
            elif len(stack) > MAX_MODULE_DEPTH:
                problem = (
                    f"module '{reference}' is not followed: "
                    f"modules are nested more than {MAX_MODULE_DEPTH} deep"
                )
        if problem is None and path is not None:
            document = self.workspace.document(path)
            display = _module_display(where.display if where is not None else "", reference, path)
            if isinstance(document, Document):
                return path, document, display
            if isinstance(document, BicepSyntaxError):
                if where is not None:
                    key = (display, document.line, document.column)
                    if key not in self.reported:
                        self.reported.add(key)
                        self.result.errors.append(
                            LoadError(display, document.line, document.column, document.message)
                        )
                # The caller says so too: its exemptions in that module are lost, not absent.
                problem = (
                    f"module '{reference}' is not followed: it {_syntax_error(document)}; "
                    "the exemptions it deploys are not linted"
                )
            else:
                problem = f"module '{reference}' is not followed: {document}"
        if problem is not None and where is not None:
            span = decl.path_span
            key = (where.display, span.line, span.column)
            if key not in self.reported:
                self.reported.add(key)
                self.result.notes.append(LoadNote(where.display, span.line, span.column, problem))
        return None

    def module_file(
        self, file: FileContext, instance: Instance, path: Path, document: Document
    ) -> FileContext:
        ev = file.evaluator(instance.local)
        supplied: dict[str, Any] = {}
        for_conditions: dict[str, Any] | None = None
        params = instance.body.get("params")
        if params is not None:
            supplied = _passed(ev.evaluate(params.value), document)
            if file.two_modes:
                # The module's conditions see what the caller's conditions see.
                condition_ev = file.evaluator(instance.locals_for_conditions, condition=True)
                for_conditions = _passed(condition_ev.evaluate(params.value), document)
        scope = instance.body.get("scope")
        deployment = scope_target(ev, scope.value)[1] if scope is not None else file.deployment
        return FileContext(
            self.workspace, document, deployment, supplied, path, self, supplied_for_conditions=for_conditions
        )

    def outputs(self, file: FileContext, instance: Instance) -> Any:
        """``module.outputs`` for a reference in the parent file."""
        decl = instance.decl
        assert isinstance(decl, ModuleDecl)
        target = self.module_target(file, decl, None)
        reason = f"the outputs of module '{decl.symbol}' are not known"
        if target is None:
            return Unresolved(f"{decl.symbol}.outputs", f"{reason}: the module is not followed")
        path, document, _ = target
        self.workspace.following.append(path)
        try:
            child = self.module_file(file, instance, path, document)
            ev = child.evaluator()
            return {output.name: ev.evaluate(output.value) for output in document.outputs}
        finally:
            self.workspace.following.pop()


def _passed(values: Any, document: Document) -> dict[str, Any]:
    """The parameters a module call passes (each unknown when the whole object is)."""
    if isinstance(values, dict):
        return values
    if isinstance(values, Unresolved):
        unknown = Unresolved(values.expression, values.reason)
        return {p.name: unknown for p in document.params}
    return {}


def _syntax_error(error: BicepSyntaxError) -> str:
    what = error.message.removeprefix("invalid Bicep: ")
    return f"is not valid Bicep (line {error.line}, column {error.column}: {what})"


def _full_type(file: FileContext, decl: ResourceDecl) -> str:
    resource_type, _ = split_type(decl.type_text)
    parent = file.parents.get(id(decl))
    depth = 0
    while parent is not None and "/" not in resource_type and depth < MAX_LOOP:
        parent_type, _ = split_type(parent.type_text)
        resource_type = f"{parent_type}/{resource_type}"
        parent = file.parents.get(id(parent))
        depth += 1
    return resource_type


def _is_scope_function(expr: Expr) -> bool:
    return isinstance(expr, Call) and expr.target is None and expr.name.lower() in _SCOPE_FUNCTIONS


def _written(prop: Property, value: Any) -> Any:
    if isinstance(value, Unresolved) and value.expression != prop.value.span.text:
        return Unresolved(prop.value.span.text, value.reason, value.partial)
    return value


def _context(outer: str | None, inner: str | None) -> str | None:
    if inner is None:
        return outer
    return join_context(outer, inner)


def _module_display(parent_display: str, reference: str, path: Path) -> str:
    """The module's path as findings show it: beside the parent's displayed path."""
    if not parent_display:
        from exemptlint.loaders import display_path

        return display_path(path)
    joined = posixpath.normpath(
        posixpath.join(posixpath.dirname(parent_display), reference.replace("\\", "/"))
    )
    return joined
