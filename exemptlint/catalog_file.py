"""A catalog file that a team keeps (``--catalog FILE``, config ``catalog:``), used instead of the
catalog shipped with exemptlint.

The file is one JSON document with the schema of the packaged ``initiatives.json`` (docs/catalog.md):
``{"header": {...}, "initiatives": [...], "families": {...}, "policyDefinitions": {...}}``, where an
initiative may also list its members (``policyDefinitions``: ``policyDefinitionReferenceId`` and
``policyDefinitionId`` of each, as the REST API returns them) or only its
``policyDefinitionReferenceIds``. It is validated as a whole before any file is linted; a problem is
one line naming the file, the line and what is wrong.

What the file does not say is taken from the packaged catalog for the initiatives both know: the
versions of a benchmark or standard (``families``, ``supersededBy``) and the display names of
built-in policy definitions.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from exemptlint.catalog import Catalog, Initiative, default_honoured, load_catalog

_ENTRY_KEYS = (
    "name",
    "displayName",
    "category",
    "version",
    "deprecated",
    "clouds",
    "honoured",
    "supersededBy",
    "policyDefinitions",
    "policyDefinitionReferenceIds",
)
_TOP_KEYS = ("header", "initiatives", "families", "policyDefinitions")
_HEADER_STRINGS = ("source", "sourceRepository", "sourceCommit", "sourceDate")


class CatalogFileError(Exception):
    """A catalog file that cannot be used; ``str()`` is the one-line message."""


class _Problem(Exception):
    def __init__(self, where: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.where = where
        self.message = message


def _shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


@functools.lru_cache(maxsize=4)
def load_catalog_file(path: str) -> Catalog:
    """The catalog in the file ``path``; raises ``CatalogFileError``. Read once per path."""
    from exemptlint.loaders.jsontext import JsonPositions, JsonSyntaxError, parse_json_text

    file = Path(path)
    shown = _shown(file)
    try:
        if not file.is_file():
            raise CatalogFileError(f"{shown}:1:1: error: catalog file not found")
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CatalogFileError(f"{shown}:1:1: error: catalog file is not valid UTF-8 text") from None
    except OSError as error:
        raise CatalogFileError(f"{shown}:1:1: error: cannot read catalog file: {error.strerror}") from None
    try:
        document = parse_json_text(text)
    except JsonSyntaxError as error:
        raise CatalogFileError(
            f"{shown}:{error.line}:{error.column}: error: invalid JSON: {error.message}"
        ) from None
    try:
        catalog = _build(document)
    except _Problem as problem:
        positions = JsonPositions(text)
        found = None
        where = problem.where
        while found is None and where:
            found = positions.key(where) or positions.value(where)
            where = where[:-1]
        line, column = (found.line, found.column) if found is not None else (1, 1)
        shown_path = _path_text(problem.where)
        raise CatalogFileError(f"{shown}:{line}:{column}: error: {shown_path}{problem.message}") from None
    catalog.header["file"] = shown
    return catalog


def _path_text(where: tuple[str | int, ...]) -> str:
    if not where:
        return ""
    text = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in where).lstrip(".")
    return f"{text}: "


def _expect(value: Any, kind: type | tuple[type, ...], what: str, where: tuple[str | int, ...]) -> Any:
    if not isinstance(value, kind):
        raise _Problem(where, f"expected {what}, found {_json_type(value)}")
    return value


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _check_keys(entry: dict[str, Any], known: tuple[str, ...], where: tuple[str | int, ...]) -> None:
    # Other keys are allowed (a copy of the REST shape carries id, metadata, ...), but a known key
    # spelled in another case is a typo that would silently drop the value.
    lowered = {key.lower(): key for key in known}
    for key in entry:
        canonical = lowered.get(str(key).lower())
        if canonical is not None and canonical != key:
            raise _Problem((*where, key), f"unknown key '{key}'; did you mean '{canonical}'?")


def _build(document: Any) -> Catalog:
    _expect(document, dict, "an object with an 'initiatives' array", ())
    _check_keys(document, _TOP_KEYS, ())
    header = document.get("header", {})
    _expect(header, dict, "an object", ("header",))
    for key in _HEADER_STRINGS:
        if header.get(key) is not None:
            _expect(header[key], str, "a string or null", ("header", key))
    if "initiatives" not in document:
        raise _Problem((), "the catalog has no 'initiatives' array")
    entries = _expect(document["initiatives"], list, "an array of initiatives", ("initiatives",))
    if not entries:
        raise _Problem(("initiatives",), "the catalog holds no initiative")

    initiatives: list[Initiative] = []
    members: dict[str, dict[str, str | None]] = {}
    seen: dict[str, int] = {}
    superseded: list[tuple[int, str]] = []
    for index, entry in enumerate(entries):
        where: tuple[str | int, ...] = ("initiatives", index)
        _expect(entry, dict, "an initiative object", where)
        _check_keys(entry, _ENTRY_KEYS, where)
        for key in ("name", "displayName", "category", "version"):
            if key not in entry:
                raise _Problem(where, f"the initiative has no '{key}'")
            _expect(entry[key], str, "a string", (*where, key))
        name = entry["name"].strip()
        if not name or "/" in name or "\\" in name:
            raise _Problem(
                (*where, "name"), f"'{entry['name']}' is not an initiative name (the last segment of its id)"
            )
        if name.lower() in seen:
            raise _Problem(
                (*where, "name"),
                f"'{name}' is also initiatives[{seen[name.lower()]}] (names are compared ignoring case)",
            )
        seen[name.lower()] = index
        if "deprecated" not in entry:
            raise _Problem(where, "the initiative has no 'deprecated'")
        _expect(entry["deprecated"], bool, "true or false", (*where, "deprecated"))
        clouds = entry.get("clouds", [])
        _expect(clouds, list, "an array of cloud names", (*where, "clouds"))
        for position, cloud in enumerate(clouds):
            _expect(cloud, str, "a string", (*where, "clouds", position))
        honoured = entry.get("honoured")
        if honoured is None:
            honoured = default_honoured(entry["category"], entry["displayName"])
        _expect(honoured, bool, "true or false", (*where, "honoured"))
        successor = entry.get("supersededBy")
        if successor is not None:
            _expect(successor, str, "an initiative name or null", (*where, "supersededBy"))
            superseded.append((index, successor))
        members[name.lower()] = _members(entry, where)
        initiatives.append(
            Initiative(
                name=name,
                display_name=entry["displayName"],
                category=entry["category"],
                version=entry["version"],
                deprecated=entry["deprecated"],
                clouds=tuple(clouds),
                honoured=honoured,
                superseded_by=successor,
            )
        )
    for index, successor in superseded:
        if successor.lower() not in seen:
            raise _Problem(
                ("initiatives", index, "supersededBy"), f"'{successor}' is not an initiative of the catalog"
            )

    families = document.get("families")
    if families is not None:
        _expect(families, dict, "an object of arrays of initiative names", ("families",))
        for key, names in families.items():
            _expect(names, list, "an array of initiative names", ("families", key))
            for position, name in enumerate(names):
                _expect(name, str, "an initiative name", ("families", key, position))
                if name.lower() not in seen:
                    raise _Problem(
                        ("families", key, position), f"'{name}' is not an initiative of the catalog"
                    )
    names = document.get("policyDefinitions", {})
    _expect(names, dict, "an object of policy definition display names", ("policyDefinitions",))
    for key, value in names.items():
        _expect(value, str, "a display name", ("policyDefinitions", key))

    if families is None:
        families, initiatives = _packaged_versions(initiatives)
    return Catalog.in_memory(initiatives, header, members, names, families)


def _members(entry: dict[str, Any], where: tuple[str | int, ...]) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    # Lower-cased reference id -> as first written (Azure compares them ignoring case).
    spelled: dict[str, str] = {}

    def add(reference_id: str, definition: str | None, at: tuple[str | int, ...]) -> None:
        key = reference_id.strip().lower()
        if not key:
            raise _Problem(at, "a reference id is empty")
        if key not in spelled:
            spelled[key] = reference_id.strip()
            found[spelled[key]] = definition
            return
        known = found[spelled[key]]
        if definition is not None and known is not None and known.lower() != definition.lower():
            raise _Problem(at, f"reference id '{reference_id}' names two policy definitions")
        if definition is not None:
            found[spelled[key]] = definition

    if "policyDefinitions" in entry:
        listed = _expect(
            entry["policyDefinitions"], list, "an array of members", (*where, "policyDefinitions")
        )
        for position, member in enumerate(listed):
            at = (*where, "policyDefinitions", position)
            _expect(member, dict, "a member object", at)
            for key in ("policyDefinitionReferenceId", "policyDefinitionId"):
                if key not in member:
                    raise _Problem(at, f"the member has no '{key}'")
                _expect(member[key], str, "a string", (*at, key))
            definition = member["policyDefinitionId"].strip()
            if "/" not in definition:
                raise _Problem((*at, "policyDefinitionId"), f"'{definition}' is not a policy definition id")
            add(member["policyDefinitionReferenceId"], definition, at)
    if "policyDefinitionReferenceIds" in entry:
        listed = _expect(
            entry["policyDefinitionReferenceIds"],
            list,
            "an array of reference ids",
            (*where, "policyDefinitionReferenceIds"),
        )
        for position, reference_id in enumerate(listed):
            at = (*where, "policyDefinitionReferenceIds", position)
            add(_expect(reference_id, str, "a string", at), None, at)
    return found


def _packaged_versions(initiatives: list[Initiative]) -> tuple[dict[str, list[str]], list[Initiative]]:
    """For a file without families: the packaged catalog's families, restricted to the
    initiatives the file holds, and its successors for the entries that name none."""
    packaged = load_catalog()
    names = {initiative.name.lower() for initiative in initiatives}
    families: dict[str, list[str]] = {}
    updated: list[Initiative] = []
    for initiative in initiatives:
        known = packaged.lookup(initiative.name)
        if known is not None:
            family = [i.name for i in packaged.family(known) if i.name.lower() in names]
            if len(family) > 1:
                families[family[0]] = family
        successor = known.superseded_by if known is not None else None
        if initiative.superseded_by is None and successor is not None and successor.lower() in names:
            initiative = replace(initiative, superseded_by=successor)
        updated.append(initiative)
    return families, updated


def catalog_document(
    catalog: Catalog, initiatives: Iterable[Initiative] | None = None, *, with_members: bool = False
) -> dict[str, Any]:
    """The catalog (or some of its initiatives) as a catalog file, a document that ``--catalog``
    reads back (``exemptlint catalog list --json``)."""
    chosen = list(catalog if initiatives is None else initiatives)
    header = {key: value for key, value in catalog.header.items() if key != "file"}
    names = {initiative.name for initiative in chosen}
    families: dict[str, list[str]] = {}
    for initiative in chosen:
        family = [i.name for i in catalog.family(initiative) if i.name in names]
        if len(family) > 1 and family[0] == initiative.name:
            families[initiative.name] = family
    document: dict[str, Any] = {
        "header": header,
        "initiatives": [initiative_entry(catalog, i, with_members=with_members) for i in chosen],
    }
    if families:
        document["families"] = families
    return document


def initiative_entry(
    catalog: Catalog, initiative: Initiative, *, with_members: bool = True
) -> dict[str, Any]:
    """One initiative as an entry of a catalog file, with its members when asked and known."""
    entry: dict[str, Any] = {
        "name": initiative.name,
        "displayName": initiative.display_name,
        "category": initiative.category,
        "version": initiative.version,
        "deprecated": initiative.deprecated,
        "clouds": list(initiative.clouds),
        "honoured": initiative.honoured,
        "supersededBy": initiative.superseded_by,
    }
    members = catalog.members(initiative) if with_members else None
    if members is not None:
        if members.definitions_known:
            entry["policyDefinitions"] = [
                {"policyDefinitionReferenceId": m.reference_id, "policyDefinitionId": m.definition_id}
                for m in members
                if m.definition_id is not None
            ]
            rest = [m.reference_id for m in members if m.definition_id is None]
            if rest:
                entry["policyDefinitionReferenceIds"] = rest
        else:
            entry["policyDefinitionReferenceIds"] = [m.reference_id for m in members]
    return entry


__all__ = ["CatalogFileError", "catalog_document", "initiative_entry", "load_catalog_file"]
