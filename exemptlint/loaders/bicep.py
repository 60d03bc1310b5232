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

from exemptlint.loaders import mentions_any
from exemptlint.loaders.arm_expressions import Deployment
from exemptlint.loaders.bicep_eval import (
    MAX_LOOP,
    FileContext,
    Instance,
    ModuleHost,
    Workspace,
    scope_target,
    split_type,
)
from exemptlint.loaders.bicep_syntax import (
    BicepSyntaxError,
    Document,
    Literal,
    ModuleDecl,
    ObjectLit,
    Property,
    ResourceDecl,
    Spread,
    parse_document,
    parse_document_uncached,
)
from exemptlint.loaders.values import canonical_properties, join_context
from exemptlint.model import (
    ASSIGNMENT_TYPE,
    EXEMPTION_TYPE,
    Directive,
    Exemption,
    FixedLocator,
    LoadError,
    LoadNote,
    LoadResult,
    PolicyAssignment,
    Position,
    ScopeLevel,
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
_RESOURCE_TYPES = ("policyExemptions", "policyAssignments")
_MODULE_WORD = re.compile(r"\bmodule\b", re.IGNORECASE)
_REGISTRY = ("br:", "br/", "ts:", "ts/")
_TARGET_SCOPES = {
    "resourcegroup": ScopeLevel.RESOURCE_GROUP,
    "subscription": ScopeLevel.SUBSCRIPTION,
    "managementgroup": ScopeLevel.MANAGEMENT_GROUP,
    "tenant": ScopeLevel.TENANT,
}
_RULE_ID = re.compile(r"EL\d{3}", re.IGNORECASE)
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
        # Its values are used when the .bicep file it names is linted.
        return LoadResult()
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
    if path is not None:
        supplied, context = _sidecar_parameters(path, workspace)
    supplied.update(options.parameters)
    deployment = Deployment(level=target_level(document))
    result = LoadResult()
    loader = _Loader(workspace, result)
    file = FileContext(workspace, document, deployment, supplied, path, loader, entry=True)
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


def _sidecar_parameters(path: Path, workspace: Workspace) -> tuple[dict[str, Any], str | None]:
    """Values from a .bicepparam beside the file whose ``using`` names it (``NAME.bicepparam``
    first), else from ``NAME.parameters.json``; and a context when one of several was chosen."""
    target = os.path.normpath(os.path.abspath(path))
    candidates = [p for p in _bicepparam_files(path.parent) if _using_target(p) == target]
    if candidates:
        candidates.sort(key=lambda p: (p.stem != path.stem, p.name))
        chosen = candidates[0]
        document = workspace.document(chosen)
        if isinstance(document, Document):
            file = FileContext(workspace, document, Deployment(level=target_level(document)), {}, chosen)
            values = {p.name: file.param_value(p.name) for p in document.params}
            context = f"parameters from {chosen.name}" if len(candidates) > 1 else None
            return values, context
    from exemptlint.loaders.arm import parameter_values
    from exemptlint.loaders.jsontext import JsonSyntaxError, parse_json_text

    for suffix in (".parameters.json", ".parameters.jsonc"):
        candidate = path.with_name(path.stem + suffix)
        if candidate.is_file():
            try:
                return parameter_values(parse_json_text(candidate.read_text(encoding="utf-8"))), None
            except (OSError, UnicodeDecodeError, JsonSyntaxError):
                return {}, None
    return {}, None


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
        document = parse_document(path.read_text(encoding="utf-8"), True)
        if document.using is not None:
            target = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(path)), document.using[0]))
    except (OSError, UnicodeDecodeError, BicepSyntaxError):
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
        for module in file.document.modules:
            self.module(file, module, where)

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
            name = _written(name_prop, ev.evaluate(name_prop.value))
            positions["name"] = name_prop.key_span.position
        scope_prop = body.get("scope")
        if scope_prop is not None:
            scope = _written(scope_prop, scope_target(ev, scope_prop.value)[0])
            positions["scope"] = scope_prop.key_span.position
        elif instance.parent is not None:
            scope = file.identity(instance.parent)["id"]
        else:
            scope = file.deployment_scope()
        properties: dict[str, Any] = {}
        props = body.get("properties")
        if props is not None:
            positions["properties"] = props.key_span.position
            properties = self.properties(ev, props, positions)
        _, api_version = split_type(decl.type_text)
        self.result.exemptions.append(
            Exemption(
                name=name,
                scope=scope,
                scope_level=scope_level(scope),
                properties=properties,
                source=Source(
                    where.display,
                    "bicep",
                    FixedLocator(decl.span.position, positions),
                    _context(where.context, instance.context),
                    where.directives,
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

    # -- modules

    def module(self, file: FileContext, decl: ModuleDecl, where: _Where) -> None:
        target = self.module_target(file, decl, where)
        if target is None:
            return
        path, document, display = target
        text = self.workspace.texts.get(path, "")
        for instance in file.instances(decl):
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
                if where is not None:
                    self.result.followed.add(display)
                return path, document, display
            if isinstance(document, BicepSyntaxError):
                if where is not None:
                    key = (display, document.line, document.column)
                    if key not in self.reported:
                        self.reported.add(key)
                        self.result.errors.append(
                            LoadError(display, document.line, document.column, document.message)
                        )
                return None
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
        params = instance.body.get("params")
        if params is not None:
            values = ev.evaluate(params.value)
            if isinstance(values, dict):
                supplied = values
            elif isinstance(values, Unresolved):
                unknown = Unresolved(values.expression, values.reason)
                supplied = {p.name: unknown for p in document.params}
        scope = instance.body.get("scope")
        deployment = scope_target(ev, scope.value)[1] if scope is not None else file.deployment
        return FileContext(self.workspace, document, deployment, supplied, path, self)

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
