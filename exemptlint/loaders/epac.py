"""Enterprise Policy as Code (EPAC) exemption files: ``{"$schema": ...policy-exemption-schema...,
"exemptions": [...]}`` in JSON/JSONC, and the CSV form (a header row, one row per exemption).

Mapping to the model:

* The exemption properties are only the REST ones, in canonical spelling: ``displayName``,
  ``description``, ``exemptionCategory``, ``expiresOn``, ``metadata``,
  ``policyDefinitionReferenceIds``, ``assignmentScopeValidation``, ``resourceSelectors`` and
  ``policyAssignmentId``. ``name`` is the exemption's name. EPAC-only fields (``status``,
  ``expiresInDays``, ``nodeName``, unknown columns...) are ignored, so EL008 does not flag them.
* ``scope`` / ``scopes``: one ``Exemption`` per scope (EPAC deploys one exemption per scope). An
  entry without either takes the file's top-level ``scope`` (a string, a list, or a map keyed by
  pacSelector), de-duplicated. All the exemptions of one entry share its position, so the number of
  entries of a file is the number of distinct ``source.locator.exemption()`` positions.
* The target: ``policyAssignmentId`` is kept as written. When it is absent, EPAC resolves the
  target itself from ``policySetDefinitionId``, ``policySetDefinitionName``,
  ``policyDefinitionId`` or ``policyDefinitionName`` (in that order). Then the exemption gets a
  synthetic ``policyAssignmentId`` ``epac:<definition id>`` and ``LoadResult.assignments`` holds a
  ``PolicyAssignment`` with that id and ``policy_definition_id`` = the definition id, so that EL001
  resolves it with no lookup. Definition names become ids: a built-in initiative name (in the
  catalog, or a GUID) becomes ``/providers/Microsoft.Authorization/policySetDefinitions/<name>``
  (``policyDefinitions/<GUID>`` for policies); any other name is custom and becomes an id under
  the management group ``(EPAC deployment root)`` (unknown statically, but custom all the same).
  A name written as a repository file path (``policySetDefinitions/ALZ/x/Name.json``) is read as
  the custom definition ``Name``. ``assignmentName`` / ``policyAssignmentName`` (an assignment
  named but not located) gives an unresolved ``policyAssignmentId`` whose partial form ends in
  ``/policyAssignments/<name>``, which EL001 resolves by name. Findings about the synthetic id
  point at the field it came from.
* Placeholders (``{{MANAGEMENT_GROUP_ID}}``) make values ``Unresolved``.
* Dates (JSON and CSV alike) are kept as written: EPAC reads ``expiresOn`` with .NET's culture
  date parser, so ``12/31/2026 11:59:00 PM`` is a date to it. The rules read them as EPAC does,
  by the source format (``exemptlint/dates.py``), not the loader.
* CSV: every property points at its cell (row line, column of the cell's first character, which
  is the opening quote of a quoted cell). Empty cells are absent. ``metadata`` and
  ``resourceSelectors`` cells are parsed as JSON (kept as text when they are not JSON, so that
  EL008 reports them); ``policyDefinitionReferenceIds`` is split on commas. Dates are kept as
  written. A CSV whose header names neither ``exemptionCategory`` nor ``policyAssignmentId`` is
  not an EPAC file and yields nothing; a CSV that cannot be parsed yields one ``LoadError``.
* Duplicates: a JSON entry with a key written twice (exactly, or in another case), or a CSV header
  that names a column twice, is recorded in ``Source.duplicates`` (EL008 reports it; a header's
  with the first row only). Of two CSV columns with one name, the first is read.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from exemptlint.epac_layout import epac_place
from exemptlint.loaders import nesting
from exemptlint.loaders.jsontext import JsonLocator, JsonPositions, repeated_keys
from exemptlint.loaders.nesting import MAX_NESTING, NESTING_MESSAGE
from exemptlint.loaders.values import canonical_properties, mark_placeholders
from exemptlint.model import (
    DuplicateKey,
    EpacPlace,
    Exemption,
    FixedLocator,
    LoadError,
    LoadResult,
    Locator,
    PolicyAssignment,
    Position,
    Source,
    Unresolved,
)
from exemptlint.scope import scope_level

JSON_FORMAT = "epac-json"
CSV_FORMAT = "epac-csv"

# REST exemption properties that EPAC entries carry (canonical spelling).
_PROPERTY_FIELDS = (
    "displayName",
    "description",
    "exemptionCategory",
    "expiresOn",
    "metadata",
    "policyDefinitionReferenceIds",
    "assignmentScopeValidation",
    "resourceSelectors",
    "policyAssignmentId",
)
# Ways EPAC names the target without an assignment id, in the order they are honoured.
_DEFINITION_FIELDS = (
    "policySetDefinitionId",
    "policySetDefinitionName",
    "policyDefinitionId",
    "policyDefinitionName",
)
_ASSIGNMENT_NAME_FIELDS = ("assignmentName", "policyAssignmentName")
_KNOWN_FIELDS = ("name", "scope", "scopes", *_PROPERTY_FIELDS, *_DEFINITION_FIELDS, *_ASSIGNMENT_NAME_FIELDS)
_CANONICAL_FIELD = {f.lower(): f for f in _KNOWN_FIELDS}
# Fields that EPAC's export scripts (Get-AzExemptions) add to the files they write.
_EXPORT_FIELDS = frozenset({"status", "expiresindays", "nodename", "pacselector", "$comment"})
_MARKERS = frozenset(
    f.lower() for f in ("exemptionCategory", "policyAssignmentId", "scopes", *_DEFINITION_FIELDS)
)
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
_BUILTIN_ROOT = "/providers/Microsoft.Authorization"
_DEPLOYMENT_ROOT = "/providers/Microsoft.Management/managementGroups/(EPAC deployment root)"
_CUSTOM_ROOT = _DEPLOYMENT_ROOT + _BUILTIN_ROOT
SYNTHETIC_PREFIX = "epac:"


def is_epac_json(doc: Any) -> bool:
    """Whether a parsed JSON document is an EPAC exemptions file."""
    if not isinstance(doc, dict):
        return False
    exemptions = doc.get("exemptions")
    if not isinstance(exemptions, list):
        return False
    schema = doc.get("$schema")
    if isinstance(schema, str) and "policy-exemption-schema" in schema.lower():
        return True
    items = [item for item in exemptions if isinstance(item, dict)]
    return bool(items) and all(_MARKERS & {str(k).lower() for k in item} for item in items)


# ---------------------------------------------------------------------------------------------
# What one entry (a JSON object or a CSV row) means, whatever its form.


@dataclass
class _Entry:
    name: Any = None
    scopes: list[Any] = field(default_factory=list)
    # Canonical REST properties; ``origin`` maps each to the EPAC field it came from.
    properties: dict[str, Any] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)
    definition_id: Any = None
    note: str | None = None


def _interpret(fields: dict[str, Any], inherited_scopes: list[Any]) -> _Entry:
    """``fields`` maps canonical EPAC field names to their values (absent fields are not keys)."""
    entry = _Entry(name=mark_placeholders(fields.get("name")))
    raw_props = {name: fields[name] for name in _PROPERTY_FIELDS if name in fields}
    entry.properties, _ = canonical_properties(raw_props)
    entry.origin = {name: name for name in entry.properties}
    assignment = entry.properties.get("policyAssignmentId")
    if assignment is None or (isinstance(assignment, str) and not assignment.strip()):
        _resolve_target(fields, entry)
    entry.scopes = _scopes(fields, inherited_scopes)
    return entry


def _resolve_target(fields: dict[str, Any], entry: _Entry) -> None:
    for source_field in _DEFINITION_FIELDS:
        value = fields.get(source_field)
        if not isinstance(value, str) or not value.strip():
            continue
        value = value.strip()
        if source_field.endswith("Id"):
            definition: Any = value
        else:
            definition = _definition_id_of_name(value, is_set=source_field.startswith("policySet"))
            if "/" in value:
                entry.note = f"{source_field} '{value}' is a file path: read as '{definition}'"
        marked = mark_placeholders(definition)
        entry.definition_id = marked
        entry.properties["policyAssignmentId"] = SYNTHETIC_PREFIX + definition
        entry.origin["policyAssignmentId"] = source_field
        return
    for source_field in _ASSIGNMENT_NAME_FIELDS:
        value = fields.get(source_field)
        if isinstance(value, str) and value.strip():
            name = value.strip()
            entry.properties["policyAssignmentId"] = Unresolved(
                name,
                f"EPAC resolves the assignment named in {source_field} when it deploys",
                partial=f"{{...}}/providers/Microsoft.Authorization/policyAssignments/{name}",
            )
            entry.origin["policyAssignmentId"] = source_field
            return


def _definition_id_of_name(name: str, *, is_set: bool) -> str:
    kind = "policySetDefinitions" if is_set else "policyDefinitions"
    if "/" in name:  # a repository file path: the definition is the file's stem (custom)
        stem = name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
        stem = re.sub(r"\.jsonc?$", "", stem, flags=re.IGNORECASE)
        return f"{_CUSTOM_ROOT}/{kind}/{stem}"
    if _GUID.match(name) or (is_set and _is_builtin_initiative(name)):
        return f"{_BUILTIN_ROOT}/{kind}/{name}"
    return f"{_CUSTOM_ROOT}/{kind}/{name}"


def _is_builtin_initiative(name: str) -> bool:
    from exemptlint.catalog import load_catalog

    try:
        return name in load_catalog()
    except Exception:  # the catalog is data shipped with the package; never fail a load on it
        return False


def _scopes(fields: dict[str, Any], inherited: list[Any]) -> list[Any]:
    found: list[Any] = []
    for key in ("scope", "scopes"):
        if key in fields:
            found.extend(_flatten_scopes(fields[key]))
    if not found and "scope" not in fields and "scopes" not in fields:
        found = list(inherited)
    result: list[Any] = []
    seen: set[str] = set()
    for scope in found:
        if isinstance(scope, str):
            scope = scope.strip()
            if not scope:
                continue
            if not scope.startswith("/"):
                scope = "/" + scope
            key = scope.lower().rstrip("/")
            if key in seen:
                continue
            seen.add(key)
            if "*" in scope or "subscriptionspattern" in key:
                # A pattern EPAC matches against its scope tree when it deploys: the scopes it names
                # are not known here (the level of its known part still is).
                result.append(Unresolved(scope, _PATTERN_REASON, partial=scope))
                continue
        result.append(mark_placeholders(scope))
    return result


_PATTERN_REASON = "EPAC expands the pattern to the matching scopes of its scope tree when it deploys"


def _flatten_scopes(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [item for v in value for item in _flatten_scopes(v)]
    if isinstance(value, dict):  # keyed by pacSelector
        return [item for v in value.values() for item in _flatten_scopes(v)]
    if value is None:
        return []
    return [value]


def _emit(
    entry: _Entry,
    file: str,
    fmt: str,
    locator: Locator,
    context: str | None,
    result: LoadResult,
    assignments: dict[str, PolicyAssignment],
    place: EpacPlace | None = None,
    duplicates: tuple[DuplicateKey, ...] = (),
) -> None:
    notes = [n for n in (context, entry.note) if n]
    scopes: list[Any] = entry.scopes or [None]
    for index, scope in enumerate(scopes):
        where = list(notes)
        if len(scopes) > 1:
            where.append(f"scope {index + 1} of {len(scopes)}")
        result.exemptions.append(
            Exemption(
                name=entry.name,
                scope=scope,
                scope_level=scope_level(scope),
                properties=dict(entry.properties),
                source=Source(
                    file, fmt, locator, context="; ".join(where) or None, epac=place, duplicates=duplicates
                ),
            )
        )
    synthetic = entry.properties.get("policyAssignmentId")
    if entry.definition_id is not None and isinstance(synthetic, str):
        key = synthetic.lower()
        if key not in assignments:
            assignment = PolicyAssignment(
                id=synthetic,
                name=None,
                policy_definition_id=entry.definition_id,
                source=Source(file, fmt, locator, context="the definition an EPAC exemption names"),
            )
            assignments[key] = assignment
            result.assignments.append(assignment)


# ---------------------------------------------------------------------------------------------
# JSON / JSONC


def load_epac_json(doc: dict[str, Any], file: str, positions: JsonPositions) -> LoadResult:
    result = LoadResult()
    assignments: dict[str, PolicyAssignment] = {}
    exemptions = doc.get("exemptions")
    if not isinstance(exemptions, list):
        return result
    inherited = _flatten_scopes(doc.get("scope")) if not isinstance(doc.get("scope"), str) else [doc["scope"]]
    place = epac_place(file)
    for index, item in enumerate(exemptions):
        if not isinstance(item, dict):
            continue
        fields: dict[str, Any] = {}
        spelled: dict[str, str] = {}
        unknown: dict[str, Any] = {}
        for key, value in item.items():
            canonical = _CANONICAL_FIELD.get(str(key).lower())
            if canonical is not None and canonical not in fields:
                fields[canonical] = value
                spelled[canonical] = key
            elif canonical is None and str(key).lower() not in _EXPORT_FIELDS:
                unknown[str(key)] = value
        entry = _interpret(fields, inherited)
        # The EPAC schema allows no other field: EPAC rejects a typo such as "expiresOnn", so it
        # goes to the properties, where EL008 reports it as unknown, instead of being dropped.
        for key, value in unknown.items():
            entry.properties.setdefault(key, value)
            entry.origin.setdefault(key, key)
            spelled[key] = key
        key_names = {name: spelled[origin] for name, origin in entry.origin.items() if origin in spelled}
        if "name" in spelled:
            key_names["name"] = spelled["name"]
        for scope_key in ("scope", "scopes"):
            if scope_key in spelled and "scope" not in key_names:
                key_names["scope"] = spelled[scope_key]
        path = ("exemptions", index)
        locator = JsonLocator(positions, path, path, key_names)
        duplicates = repeated_keys(positions, (path, item, ""))
        _emit(entry, file, JSON_FORMAT, locator, None, result, assignments, place, duplicates)
    return result


# ---------------------------------------------------------------------------------------------
# CSV


class CsvSyntaxError(Exception):
    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


@dataclass
class _Cell:
    text: str
    line: int
    column: int
    # Characters the cell spans on its first line (for SARIF regions).
    length: int


def parse_csv(text: str, delimiter: str = ",") -> list[list[_Cell]]:
    """Rows of cells with the line and column where each cell starts (RFC 4180, leniently:
    quotes inside an unquoted cell are literal; text after a closing quote is kept)."""
    rows: list[list[_Cell]] = []
    row: list[_Cell] = []
    i = 0
    n = len(text)
    line = 1
    line_start = 0
    if text.startswith("\ufeff"):
        i = line_start = 1
    at_row_start = True
    while True:
        # At the start of a cell.
        start_line, start_column, start_offset = line, i - line_start + 1, i
        pieces: list[str] = []
        first_line_end: int | None = None
        if i < n and text[i] == '"':
            i += 1
            while True:
                if i >= n:
                    raise CsvSyntaxError("unterminated quoted cell", start_line, start_column)
                ch = text[i]
                if ch == '"':
                    if i + 1 < n and text[i + 1] == '"':
                        pieces.append('"')
                        i += 2
                        continue
                    i += 1
                    break
                if ch == "\n" or (ch == "\r" and not (i + 1 < n and text[i + 1] == "\n")):
                    if first_line_end is None:
                        first_line_end = i
                    line += 1
                    line_start = i + 1
                elif ch == "\r":  # CRLF inside a quoted cell: one line break
                    pieces.append(ch)
                    i += 1
                    continue
                pieces.append(ch)
                i += 1
        while i < n and text[i] not in (delimiter, "\n", "\r"):
            pieces.append(text[i])
            i += 1
        end = first_line_end if first_line_end is not None else i
        cell = _Cell("".join(pieces), start_line, start_column, max(end - start_offset, 1))
        row.append(cell)
        at_row_start = False
        if i >= n:
            break
        ch = text[i]
        if ch == delimiter:
            i += 1
            continue
        # End of the row: CRLF, LF or a lone CR.
        i += 2 if ch == "\r" and i + 1 < n and text[i + 1] == "\n" else 1
        line += 1
        line_start = i
        rows.append(row)
        row = []
        at_row_start = True
        if i >= n:
            break
    if not at_row_start:
        rows.append(row)
    # A blank line is not a row.
    return [r for r in rows if not (len(r) == 1 and r[0].text.strip() == "")]


_JSON_COLUMNS = frozenset({"metadata", "resourceSelectors"})
_LIST_COLUMNS = frozenset({"policyDefinitionReferenceIds", "scopes"})


def _cell_value(column: str, text: str) -> Any:
    # ValueError covers JSONDecodeError and a number of more than 4,300 digits (Python's limit on
    # converting text to int).
    if column in _JSON_COLUMNS:
        try:
            return _json_cell(text)
        except ValueError:
            return text
    if column in _LIST_COLUMNS:
        stripped = text.strip()
        if stripped.startswith("["):
            try:
                parsed = _json_cell(stripped)
            except ValueError:
                parsed = None
            if isinstance(parsed, list):
                return parsed
        return [part.strip() for part in re.split(r"[,;\r\n]", text) if part.strip()]
    return text


class _TooDeep(Exception):
    """JSON in a cell nested more than ``MAX_NESTING`` deep (the limit of every loader)."""


def _json_cell(text: str) -> Any:
    try:
        value = json.loads(text)
    except RecursionError:
        raise _TooDeep from None
    if text.count("{") + text.count("[") > MAX_NESTING and nesting.exceeds(value):
        raise _TooDeep
    return value


def load_epac_csv(text: str, file: str) -> LoadResult:
    result = LoadResult()
    body = text[1:] if text.startswith("\ufeff") else text
    # The header row decides: ";" when it has no "," (CR alone ends a line in old Mac exports).
    first_line = re.split(r"\r\n|\r|\n", body, maxsplit=1)[0]
    delimiter = ";" if "," not in first_line and ";" in first_line else ","
    try:
        rows = parse_csv(text, delimiter)
    except CsvSyntaxError as error:
        return LoadResult(errors=[LoadError(file, error.line, error.column, f"invalid CSV: {error.message}")])
    except RecursionError:  # pragma: no cover - the parser does not recurse
        return LoadResult(errors=[LoadError(file, 1, 1, "invalid CSV")])
    if not rows:
        return result
    header = rows[0]
    columns: list[str | None] = []
    seen: dict[str, _Cell] = {}
    duplicates: list[DuplicateKey] = []
    for cell in header:
        canonical = _CANONICAL_FIELD.get(cell.text.strip().lower())
        if canonical is None or canonical in seen:
            # The first column of a name is read; a second one is reported (EL008).
            if canonical is not None:
                first = seen[canonical]
                before, after = (first.text.strip(), _position(first)), (cell.text.strip(), _position(cell))
                duplicates.append(DuplicateKey(*before, *after, "the header", "column"))
            columns.append(None)
        else:
            seen[canonical] = cell
            columns.append(canonical)
    if not ({"exemptionCategory", "policyAssignmentId"} & seen.keys()):
        return result  # not an EPAC exemptions file
    assignments: dict[str, PolicyAssignment] = {}
    place = epac_place(file)
    for row in rows[1:]:
        fields: dict[str, Any] = {}
        cells: dict[str, _Cell] = {}
        for column, cell in zip(columns, row, strict=False):
            if column is None or cell.text.strip() == "":
                continue
            try:
                fields[column] = _cell_value(column, cell.text)
            except _TooDeep:
                message = f"the {column} cell: {NESTING_MESSAGE}"
                return LoadResult(errors=[LoadError(file, cell.line, cell.column, message)])
            cells[column] = cell
        entry = _interpret(fields, [])
        positions: dict[str, Position] = {}
        for name, origin in entry.origin.items():
            if origin in cells:
                positions[name] = _position(cells[origin])
        if "name" in cells:
            positions["name"] = _position(cells["name"])
        for scope_column in ("scope", "scopes"):
            if scope_column in cells and "scope" not in positions:
                positions["scope"] = _position(cells[scope_column])
        first = row[0]
        locator = FixedLocator(Position(first.line, first.column, first.length), positions)
        context = f"row at line {first.line}"
        # A header problem is reported once, with the first row.
        _emit(entry, file, CSV_FORMAT, locator, context, result, assignments, place, tuple(duplicates))
        duplicates = []
    return result


def _position(cell: _Cell) -> Position:
    return Position(cell.line, cell.column, cell.length)


__all__ = ["is_epac_json", "load_epac_csv", "load_epac_json"]
