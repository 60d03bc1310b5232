"""Enterprise Policy as Code (EPAC) policy assignment files, read as policy assignments.

EPAC keeps the assignments its exemptions name in the same repository:
``Definitions/policyAssignments/**/*.json(c)``. Each file is a tree of nodes (schema:
``Schemas/policy-assignment-schema.json`` in Azure/enterprise-azure-policy-as-code). Along each
branch, from the root to a leaf, EPAC

* joins the ``assignment.name`` of the nodes (string concatenation, root first);
* takes the one ``definitionEntry`` (or ``definitionEntryList``) of the branch: each entry names
  exactly one of ``policySetName``, ``policySetId``, ``policyName``, ``policyId`` (or the legacy
  ``initiativeName``/``initiativeId``), and becomes one assignment; an entry's own
  ``assignment.name`` is put before the branch's name, or after it with ``append: true``;
* takes the one ``scope`` of the branch, an object keyed by pac selector (the environment) whose
  values are lists of scopes; ``"*"`` adds its scopes to every environment;
* skips the branch when a node sets ``ignoreBranch``.

The assignment deployed for environment ``S`` at scope ``X`` is
``X/providers/Microsoft.Authorization/policyAssignments/NAME`` with the entry's definition. A
``policySetName`` names the custom initiative of that name when ``Definitions/policySetDefinitions``
defines one (EPAC looks in the environment's deployment root first), else the built-in one; the
environments' deployment roots come from ``Definitions/global-settings.jsonc``.

Trees EPAC rejects (an entry that names no definition, or two; two scopes or two definition
entries on one branch; a leaf without either; a value of the wrong type) are load errors, one per
problem, naming the file, line and column.

The definitions folder of a run is found from the files it lints (``exemptlint.epac_layout``) or
named with ``--epac-definitions`` / config ``epac.definitions``; assignment files that the run
does not lint are read from there (``load_definitions``), so that a pre-commit run over one
exemption file still knows the assignments it names.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exemptlint.epac_layout import ASSIGNMENTS_FOLDER, SET_DEFINITIONS_FOLDER, epac_place
from exemptlint.loaders.jsontext import JsonPositions, JsonSyntaxError, parse_json_text
from exemptlint.loaders.values import get_ci, mark_placeholders
from exemptlint.model import (
    EpacPlace,
    FixedLocator,
    LoadError,
    LoadResult,
    PolicyAssignment,
    Position,
    Source,
    Unresolved,
)

ASSIGNMENT_FORMAT = "epac-assignment"
GLOBAL_SETTINGS_NAMES = ("global-settings.jsonc", "global-settings.json")
_ASSIGNMENT_SUFFIX = "/providers/Microsoft.Authorization/policyAssignments/"
_BUILTIN_ROOT = "/providers/Microsoft.Authorization"
# As the EPAC exemption loader names a custom definition whose environment is not known.
_UNKNOWN_ROOT = "/providers/Microsoft.Management/managementGroups/(EPAC deployment root)"
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
# The fields that name an entry's definition, and whether each names a policy set.
_DEFINITION_FIELDS = {
    "policySetName": True,
    "policySetId": True,
    "initiativeName": True,
    "initiativeId": True,
    "policyName": False,
    "policyId": False,
}
_JSON_SUFFIXES = (".json", ".jsonc")


def is_epac_assignment(doc: Any) -> bool:
    """Whether a parsed JSON document is an EPAC policy assignment file (a tree of nodes)."""
    if not isinstance(doc, dict):
        return False
    schema = doc.get("$schema")
    if isinstance(schema, str) and "policy-assignment-schema" in schema.lower():
        return True
    keys = {str(key).lower() for key in doc}
    # A tree of nodes that some node of gives a definition entry (other tools keep trees of nodes too).
    return "nodename" in keys and _defines_entry(doc, 0)


def _defines_entry(node: Any, depth: int) -> bool:
    if not isinstance(node, dict) or depth > 100:
        return False
    children: Any = None
    for key, value in node.items():
        lowered = str(key).lower()
        if lowered in ("definitionentry", "definitionentrylist"):
            return True
        if lowered == "children":
            children = value
    return isinstance(children, list) and any(_defines_entry(child, depth + 1) for child in children)


# ---------------------------------------------------------------------------------------------
# The definitions folder: environments and custom initiatives


@dataclass(frozen=True)
class Environment:
    pac_selector: str
    # The management group EPAC deploys custom definitions to (None when not a literal string).
    deployment_root: str | None
    tenant_id: str | None


@dataclass
class EpacContext:
    """What assignment files need from their definitions folder."""

    root: str | None = None
    # Lower-cased pac selector -> environment, from global-settings.jsonc.
    environments: dict[str, Environment] = field(default_factory=dict)
    # Lower-cased names of the custom initiatives in policySetDefinitions.
    custom_sets: set[str] = field(default_factory=set)
    errors: list[LoadError] = field(default_factory=list)


class ContextCache:
    """The context of each definitions folder, read once per run (and once per worker process)."""

    def __init__(self) -> None:
        self._contexts: dict[str, EpacContext] = {}

    def context(self, root: str) -> EpacContext:
        found = self._contexts.get(root)
        if found is None:
            found = self._contexts[root] = read_context(Path(root))
        return found


def read_context(root: Path) -> EpacContext:
    from exemptlint.loaders import display_path

    context = EpacContext(root=root.as_posix())
    for name in GLOBAL_SETTINGS_NAMES:
        settings = root / name
        if settings.is_file():
            doc, _, error = _read_json(settings, display_path(settings))
            if error is not None:
                context.errors.append(error)
            else:
                context.environments = _environments(doc)
            break
    folder = _child_folder(root, SET_DEFINITIONS_FOLDER)
    if folder is not None:
        for file in _json_files(folder):
            # Only the names matter here; a broken set definition is EPAC's to report when it
            # deploys definitions, and it names nothing an exemption could resolve to.
            doc, _, error = _read_json(file, display_path(file))
            if error is None and isinstance(doc, dict):
                _, name = get_ci(doc, "name")
                if isinstance(name, str) and name.strip():
                    context.custom_sets.add(name.strip().lower())
    return context


def _environments(doc: Any) -> dict[str, Environment]:
    found: dict[str, Environment] = {}
    if not isinstance(doc, dict):
        return found
    _, environments = get_ci(doc, "pacEnvironments")
    if not isinstance(environments, list):
        return found
    for item in environments:
        if not isinstance(item, dict):
            continue
        _, selector = get_ci(item, "pacSelector")
        if not isinstance(selector, str) or not selector.strip():
            continue
        _, root = get_ci(item, "deploymentRootScope")
        _, tenant = get_ci(item, "tenantId")
        literal_root = root.strip().rstrip("/") if isinstance(root, str) else None
        if literal_root is not None and not isinstance(mark_placeholders(literal_root), str):
            literal_root = None
        found[selector.strip().lower()] = Environment(
            selector.strip(), literal_root or None, tenant.strip() if isinstance(tenant, str) else None
        )
    return found


def definitions_roots(files: Iterable[Path]) -> list[Path]:
    """The EPAC definitions folders of ``files`` (those that hold a ``policyAssignments`` folder),
    in the order first met."""
    roots: list[Path] = []
    checked: dict[str, bool] = {}
    for file in files:
        absolute = os.path.abspath(file)
        lowered = absolute.lower()
        if "policyexemptions" not in lowered and "policyassignments" not in lowered:
            continue
        place = epac_place(absolute)
        if place is None:
            continue
        if place.root not in checked:
            checked[place.root] = _child_folder(Path(place.root), ASSIGNMENTS_FOLDER) is not None
            if checked[place.root]:
                roots.append(Path(place.root))
    return roots


def definitions_of_run(
    files: Sequence[Path], configured: Sequence[str], cache: ContextCache
) -> tuple[LoadResult, frozenset[str]]:
    """The assignments of the EPAC definitions folders of a run (found from its files, and
    ``configured``) from the assignment files the run does not lint itself, every problem met, and
    the management groups known to be tenant root groups."""
    result = LoadResult()
    roots = definitions_roots(files)
    for folder in configured:
        path = Path(folder)
        if not path.is_dir():
            result.errors.append(LoadError(folder, 1, 1, "EPAC definitions folder not found"))
        elif _child_folder(path, ASSIGNMENTS_FOLDER) is None:
            message = "not an EPAC definitions folder: it holds no policyAssignments folder"
            result.errors.append(LoadError(folder, 1, 1, message))
        else:
            roots.append(Path(os.path.abspath(path)))
    if not roots:
        return result, frozenset()
    scanned = {os.path.abspath(file) for file in files}
    contexts: list[EpacContext] = []
    seen: set[str] = set()
    for root in roots:
        if root.as_posix() in seen:
            continue
        seen.add(root.as_posix())
        result.extend(load_definitions(root, scanned, cache))
        contexts.append(cache.context(root.as_posix()))
    return result, frozenset(tenant_roots(contexts))


def tenant_roots(contexts: Iterable[EpacContext]) -> set[str]:
    """Management groups known to be tenant root groups: an environment whose deployment root is
    the management group named after its tenant (the tenant root group's id is the tenant id)."""
    found: set[str] = set()
    for context in contexts:
        for environment in context.environments.values():
            root, tenant = environment.deployment_root, environment.tenant_id
            if root and tenant and root.lower().endswith("/managementgroups/" + tenant.lower()):
                found.add(tenant.lower())
    return found


def load_definitions(root: Path, skip: set[str], cache: ContextCache) -> LoadResult:
    """The assignments of every assignment file under ``root`` that is not in ``skip`` (absolute
    paths of files the run loads itself), with the problems of the folder's files."""
    from exemptlint.loaders import display_path

    context = cache.context(root.as_posix())
    result = LoadResult(errors=list(context.errors))
    folder = _child_folder(root, ASSIGNMENTS_FOLDER)
    if folder is None:
        return result
    for file in _json_files(folder):
        if os.path.abspath(file) in skip:
            continue
        display = display_path(file)
        doc, text, error = _read_json(file, display)
        if error is not None:
            result.errors.append(error)
        elif is_epac_assignment(doc):  # not a parameter file or anything else kept beside the trees
            result.extend(load_assignment_file(doc, display, JsonPositions(text), context))
    return result


def _child_folder(root: Path, lowered_name: str) -> Path | None:
    """The folder of ``root`` with this name in any case (EPAC repositories spell them as EPAC
    does, but a checkout on a case-insensitive file system may not)."""
    exact = {ASSIGNMENTS_FOLDER: "policyAssignments", SET_DEFINITIONS_FOLDER: "policySetDefinitions"}
    preferred = root / exact.get(lowered_name, lowered_name)
    if preferred.is_dir():
        return preferred
    try:
        for entry in os.scandir(root):
            if entry.name.lower() == lowered_name and entry.is_dir():
                return Path(entry.path)
    except OSError:
        return None
    return None


def _json_files(folder: Path) -> Iterator[Path]:
    for directory, subdirs, files in os.walk(folder):
        subdirs.sort()
        for name in sorted(files):
            if name.lower().endswith(_JSON_SUFFIXES):
                yield Path(directory, name)


def _read_json(path: Path, display: str) -> tuple[Any, str, LoadError | None]:
    """The parsed document and its text, or the one-line problem."""
    from exemptlint.loaders import read_text

    text, error = read_text(path, display)
    if error is not None or text is None:
        return None, "", error or LoadError(display, 1, 1, "cannot read file")
    try:
        return parse_json_text(text), text, None
    except JsonSyntaxError as syntax:
        return None, text, LoadError(display, syntax.line, syntax.column, f"invalid JSON: {syntax.message}")
    except RecursionError:
        return None, text, LoadError(display, 1, 1, "nesting too deep to evaluate")


# ---------------------------------------------------------------------------------------------
# One assignment file


JsonPath = tuple[str | int, ...]


@dataclass(frozen=True)
class _Entry:
    field: str
    value: str
    is_set: bool
    name_part: str
    append: bool
    path: JsonPath


@dataclass(frozen=True)
class _Branch:
    """What a branch has collected from the root to the current node."""

    node_name: str = ""
    name: str = ""
    name_path: JsonPath | None = None
    entries: tuple[_Entry, ...] | None = None
    # Pac selector (as written; "*" for every environment) -> scopes with their paths.
    scope: tuple[tuple[str, tuple[tuple[str, JsonPath], ...]], ...] | None = None
    ignored: bool = False


class _Reader:
    def __init__(self, file: str, positions: JsonPositions, context: EpacContext) -> None:
        self.file = file
        self.positions = positions
        self.context = context
        self.result = LoadResult()
        self.place = epac_place(file)
        # (id, definition, environment) already emitted: a scope listed twice is one assignment.
        self.seen: set[tuple[str, str, str | None]] = set()

    def at(self, path: JsonPath) -> Position:
        found = self.positions.key(path) if path else None
        if found is None:
            found = self.positions.value(path)
        return found or Position(1, 1)

    def error(self, path: JsonPath, node: str, message: str) -> None:
        position = self.at(path)
        where = f"EPAC assignment node '{node}'" if node else "EPAC assignment file"
        self.result.errors.append(LoadError(self.file, position.line, position.column, f"{where}: {message}"))

    def node(self, node: Any, path: JsonPath, branch: _Branch) -> None:
        if not isinstance(node, dict):
            self.error(path, branch.node_name, "a node must be an object")
            return
        keys = {str(key).lower(): key for key in node}

        def value(name: str) -> tuple[Any, JsonPath]:
            key = keys.get(name.lower())
            return (node[key], (*path, key)) if key is not None else (None, (*path, name))

        node_name, _ = value("nodeName")
        if isinstance(node_name, str):
            branch = _replace(branch, node_name=branch.node_name + node_name)
        shown = branch.node_name
        ignore, _ = value("ignoreBranch")
        if ignore is True:
            branch = _replace(branch, ignored=True)
        assignment, assignment_path = value("assignment")
        if assignment is not None:
            name = self.assignment_name(assignment, assignment_path, shown)
            if name is not None:
                branch = _replace(
                    branch, name=branch.name + name, name_path=branch.name_path or (*assignment_path, "name")
                )
        entry, entry_path = value("definitionEntry")
        entries, entries_path = value("definitionEntryList")
        if entry is not None or entries is not None:
            if branch.entries is not None or (entry is not None and entries is not None):
                self.error(
                    entry_path if entry is not None else entries_path,
                    shown,
                    "only one definitionEntry or definitionEntryList may appear on a branch",
                )
                return
            found = self.definition_entries(entry, entry_path, entries, entries_path, shown)
            if found is None:
                return
            branch = _replace(branch, entries=found)
        scope, scope_path = value("scope")
        if scope is not None:
            if branch.scope is not None:
                self.error(scope_path, shown, "a branch may define its scope only once")
                return
            scopes = self.scopes(scope, scope_path, shown)
            if scopes is None:
                return
            branch = _replace(branch, scope=scopes)
        children, children_path = value("children")
        if children is not None:
            if not isinstance(children, list):
                self.error(children_path, shown, "children must be a list of nodes")
                return
            if children:
                for index, child in enumerate(children):
                    self.node(child, (*children_path, index), branch)
                return
        self.leaf(branch, path)

    def assignment_name(self, assignment: Any, path: JsonPath, node: str) -> str | None:
        if not isinstance(assignment, dict):
            self.error(path, node, "assignment must be an object with a name and a displayName")
            return None
        key, name = get_ci(assignment, "name")
        if name is None:
            return None
        if not isinstance(name, str):
            self.error((*path, key or "name"), node, "assignment.name must be a string")
            return None
        return name

    def definition_entries(
        self, entry: Any, entry_path: JsonPath, entries: Any, entries_path: JsonPath, node: str
    ) -> tuple[_Entry, ...] | None:
        if entry is not None:
            items: list[tuple[Any, JsonPath]] = [(entry, entry_path)]
        elif isinstance(entries, list):
            items = [(item, (*entries_path, index)) for index, item in enumerate(entries)]
        else:
            self.error(entries_path, node, "definitionEntryList must be a list of definition entries")
            return None
        found: list[_Entry] = []
        for item, path in items:
            if not isinstance(item, dict):
                self.error(path, node, "a definition entry must be an object")
                return None
            named = [(key, value) for key, value in item.items() if _canonical_field(key) is not None]
            if len(named) != 1:
                which = ", ".join(_DEFINITION_FIELDS)
                problem = "names no definition" if not named else "names more than one definition"
                self.error(path, node, f"a definition entry {problem}: give exactly one of {which}")
                return None
            key, value = named[0]
            canonical = _canonical_field(key)
            assert canonical is not None
            if not isinstance(value, str) or not value.strip():
                self.error((*path, key), node, f"{canonical} must be a non-empty string")
                return None
            name_part, append = "", False
            assignment_key, assignment = get_ci(item, "assignment")
            if assignment is not None:
                part = self.assignment_name(assignment, (*path, assignment_key or "assignment"), node)
                if part is None:
                    return None
                name_part = part
                append = get_ci(assignment, "append")[1] is True
            elif len(items) > 1:
                message = "each entry of a definitionEntryList with several entries must have an assignment"
                self.error(path, node, message)
                return None
            is_set = _DEFINITION_FIELDS[canonical]
            found.append(_Entry(canonical, value.strip(), is_set, name_part, append, (*path, key)))
        return tuple(found)

    def scopes(
        self, scope: Any, path: JsonPath, node: str
    ) -> tuple[tuple[str, tuple[tuple[str, JsonPath], ...]], ...] | None:
        if not isinstance(scope, dict):
            self.error(path, node, "scope must be an object of pac selectors and their lists of scopes")
            return None
        found: list[tuple[str, tuple[tuple[str, JsonPath], ...]]] = []
        for selector, value in scope.items():
            items = value if isinstance(value, list) else [value]
            scopes: list[tuple[str, JsonPath]] = []
            for index, item in enumerate(items):
                item_path = (*path, selector, index) if isinstance(value, list) else (*path, selector)
                if not isinstance(item, str):
                    self.error(item_path, node, f"scope.{selector} must be a list of scope ids (strings)")
                    return None
                if item.strip():
                    scopes.append((item.strip(), item_path))
            found.append((str(selector), tuple(scopes)))
        return tuple(found)

    def leaf(self, branch: _Branch, path: JsonPath) -> None:
        if branch.ignored:
            return  # ignoreBranch: EPAC deploys nothing from this branch
        node = branch.node_name
        if branch.scope is None:
            self.error(path, node, "the branch ends without a scope (every branch needs exactly one)")
            return
        by_selector = self.selected(branch.scope)
        if not any(scopes for scopes in by_selector.values()):
            return  # no environment has scopes on this branch: EPAC ignores it
        if not branch.entries:
            self.error(path, node, "the branch ends without a definitionEntry or definitionEntryList")
            return
        for entry in branch.entries:
            name = branch.name + entry.name_part if entry.append else entry.name_part + branch.name
            if not name:
                self.error(branch.name_path or entry.path, node, "the branch defines no assignment name")
                continue
            for selector, scopes in by_selector.items():
                environment = self.context.environments.get(selector.lower()) if selector else None
                definition = self.definition(entry, environment)
                for scope, _ in scopes:
                    self.emit(name, definition, scope, selector, entry)

    def selected(
        self, scope: tuple[tuple[str, tuple[tuple[str, JsonPath], ...]], ...]
    ) -> dict[str | None, list[tuple[str, JsonPath]]]:
        """Scopes per environment: each named environment gets its own scopes and those of "*";
        with no environment named anywhere, "*" stands for every environment (None)."""
        every = [item for selector, scopes in scope if selector == "*" for item in scopes]
        named: dict[str, str] = {}
        for selector, _ in scope:
            if selector != "*":
                named.setdefault(selector.lower(), selector)
        for environment in self.context.environments.values():
            named.setdefault(environment.pac_selector.lower(), environment.pac_selector)
        if not named:
            return {None: every}
        result: dict[str | None, list[tuple[str, JsonPath]]] = {}
        for lowered, selector in named.items():
            own = [item for written, scopes in scope if written.lower() == lowered for item in scopes]
            result[selector] = own + every
        return result

    def definition(self, entry: _Entry, environment: Environment | None) -> Any:
        if entry.field.endswith("Id"):
            return mark_placeholders(entry.value)
        kind = "policySetDefinitions" if entry.is_set else "policyDefinitions"
        root = (environment.deployment_root if environment else None) or _UNKNOWN_ROOT
        custom = f"{root}{_BUILTIN_ROOT}/{kind}/{entry.value}"
        if entry.is_set and entry.value.lower() in self.context.custom_sets:
            return mark_placeholders(custom)
        if _GUID.match(entry.value) or (entry.is_set and _is_builtin_initiative(entry.value)):
            return f"{_BUILTIN_ROOT}/{kind}/{entry.value}"
        return mark_placeholders(custom)

    def emit(self, name: str, definition: Any, scope: str, selector: str | None, entry: _Entry) -> None:
        marked = mark_placeholders(scope.rstrip("/"))
        assignment_id: Any
        if isinstance(marked, Unresolved):
            partial = f"{marked.partial}{_ASSIGNMENT_SUFFIX}{name}"
            assignment_id = Unresolved(marked.expression, marked.reason, partial)
        else:
            assignment_id = f"{marked}{_ASSIGNMENT_SUFFIX}{name}"
        shown = assignment_id.lower() if isinstance(assignment_id, str) else repr(assignment_id)
        key = (shown, repr(definition), selector.lower() if selector else None)
        if key in self.seen:
            return
        self.seen.add(key)
        root = self.place.root if self.place is not None else (self.context.root or "")
        position = self.at(entry.path)
        context = f"EPAC environment {selector}" if selector else "every EPAC environment"
        self.result.assignments.append(
            PolicyAssignment(
                id=assignment_id,
                name=name,
                policy_definition_id=definition,
                source=Source(self.file, ASSIGNMENT_FORMAT, FixedLocator(position), context=context),
                epac=EpacPlace(root, selector, True),
            )
        )


_CANONICAL_FIELDS = {name.lower(): name for name in _DEFINITION_FIELDS}


def _canonical_field(key: Any) -> str | None:
    return _CANONICAL_FIELDS.get(str(key).lower())


def _replace(branch: _Branch, **changes: Any) -> _Branch:
    from dataclasses import replace

    return replace(branch, **changes)


def _is_builtin_initiative(name: str) -> bool:
    from exemptlint.catalog import load_catalog

    try:
        return name in load_catalog()
    except Exception:  # the catalog is data shipped with the package; never fail a load on it
        return False


def load_assignment_file(doc: Any, file: str, positions: JsonPositions, context: EpacContext) -> LoadResult:
    """The assignments an EPAC assignment file deploys, for every environment it names."""
    reader = _Reader(file, positions, context)
    try:
        reader.node(doc, (), _Branch())
    except RecursionError:
        return LoadResult(errors=[LoadError(file, 1, 1, "nesting too deep to evaluate")])
    return reader.result


def load_assignment_document(
    doc: Any, file: str, positions: JsonPositions, path: Path | None, cache: ContextCache | None
) -> LoadResult:
    """An assignment file met while linting: read with the context of its definitions folder."""
    place = epac_place(file if path is None else str(path))
    if place is not None and cache is not None:
        context = cache.context(place.root)
    elif place is not None:
        context = read_context(Path(place.root))
    else:
        context = EpacContext()
    # The folder's own problems (a broken global-settings.jsonc) are reported by the run's
    # definitions step (cli), once.
    return load_assignment_file(doc, file, positions, context)


__all__: Sequence[str] = (
    "ASSIGNMENT_FORMAT",
    "ContextCache",
    "EpacContext",
    "definitions_of_run",
    "definitions_roots",
    "is_epac_assignment",
    "load_assignment_document",
    "load_assignment_file",
    "load_definitions",
    "read_context",
    "tenant_roots",
)
