"""Terraform: ``azurerm_*_policy_exemption`` resources in ``.tf`` files and in plan JSON.

HCL is parsed by python-hcl2. Values are evaluated only as far as they are known statically:
literals, ``var.x`` (defaults from any ``.tf`` of the directory, overridden by
``terraform.tfvars`` and ``*.auto.tfvars``), ``local.x``, ``each.key``/``each.value``,
``count.index``, string templates, ``jsonencode`` of a literal and the ``id`` of a policy
assignment defined in the same directory. Anything else (data sources, other resource
attributes, functions) becomes ``Unresolved``: EL009 reports it, nothing is guessed.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from exemptlint.loaders.jsontext import JsonLocator, JsonPositions
from exemptlint.loaders.nesting import MAX_NESTING, NestingError, tree_too_deep
from exemptlint.loaders.values import PLACEHOLDER_PROPERTIES, concat, join_id, mark_placeholders
from exemptlint.model import (
    DuplicateKey,
    Exemption,
    FixedLocator,
    LoadError,
    LoadResult,
    PolicyAssignment,
    Position,
    Source,
    Unresolved,
)
from exemptlint.scope import scope_level
from exemptlint.suppressions import parse_directives

EXEMPTION_TYPES = {
    "azurerm_management_group_policy_exemption": "management_group_id",
    "azurerm_subscription_policy_exemption": "subscription_id",
    "azurerm_resource_group_policy_exemption": "resource_group_id",
    "azurerm_resource_policy_exemption": "resource_id",
}
ASSIGNMENT_TYPES = {
    "azurerm_management_group_policy_assignment": "management_group_id",
    "azurerm_subscription_policy_assignment": "subscription_id",
    "azurerm_resource_group_policy_assignment": "resource_group_id",
    "azurerm_resource_policy_assignment": "resource_id",
}
# Terraform argument -> canonical exemption property.
ARGUMENTS = {
    "policy_assignment_id": "policyAssignmentId",
    "exemption_category": "exemptionCategory",
    "expires_on": "expiresOn",
    "display_name": "displayName",
    "description": "description",
    "metadata": "metadata",
    "policy_definition_reference_ids": "policyDefinitionReferenceIds",
}
ASSIGNMENT_SUFFIX = "/providers/Microsoft.Authorization/policyAssignments/"

_TRAVERSAL = re.compile(
    r"[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*|\[\s*(?:\d+|\"[^\"]*\"|[A-Za-z_][\w.-]*)\s*\])*"
)
# A step: .attr, [0], ["key"] or [reference] (count.index, each.key, var.x).
_STEP = re.compile(r"\.([A-Za-z_][\w-]*)|\[\s*(\d+)\s*\]|\[\s*\"([^\"]*)\"\s*\]|\[\s*([A-Za-z_][\w.-]*)\s*\]")
_JSONENCODE = re.compile(r"jsonencode\s*\((.*)\)", re.DOTALL)
# A .tf file that mentions none of these defines no exemption or assignment: not parsed.
_RELEVANT = re.compile(r"_policy_exemption|_policy_assignment")
_LABEL = re.compile(r'"((?:[^"\\]|\\.)*)"')


# More instances than this are not expanded (count = 1000000000 would never finish): the
# resource is linted once, with count.index / each unknown.
MAX_INSTANCES = 1000


def is_terraform_plan(doc: Any) -> bool:
    return isinstance(doc, dict) and "format_version" in doc and "planned_values" in doc


# ----------------------------------------------------------------------------- HCL values


def _parse(text: str) -> dict[str, Any]:
    import hcl2

    tree = hcl2.parses_to_tree(text)
    _check_nesting(tree, text)
    result: dict[str, Any] = hcl2.serialize(hcl2.transform(tree))
    return result


# HCL's containers: the nesting limit of every loader counts these (lark's parser does not
# recurse; python-hcl2's transformer recurses per tree level).
_CONTAINERS = frozenset({"block", "object", "tuple"})


def _check_nesting(tree: Any, text: str) -> None:
    if text.count("{") + text.count("[") <= MAX_NESTING:
        return  # every container needs a bracket: most files need no walk
    node = tree_too_deep(tree, _CONTAINERS)
    if node is not None:
        meta = getattr(node, "meta", None)
        raise NestingError(getattr(meta, "line", 1), getattr(meta, "column", 1))


def _unquote_key(key: str) -> str:
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


class _Scope:
    """What ``each``/``count`` mean for one resource instance."""

    def __init__(self, each: tuple[Any, Any] | None = None, count_index: int | None = None) -> None:
        self.each = each
        self.count_index = count_index
        self.each_unknown: Unresolved | None = None
        self.count_unknown: str | None = None


class _Module:
    """Variables, locals and assignments of one Terraform directory."""

    def __init__(self, variables: dict[str, Any], locals_: dict[str, Any]) -> None:
        self.variables = variables
        self.locals = locals_
        self._local_values: dict[str, Any] = {}
        self._evaluating: set[str] = set()
        # "type.name" -> raw resource body, for policy assignments.
        self.assignments: dict[str, dict[str, Any]] = {}
        self._assignment_ids: dict[str, Any] = {}

    # --- references

    def reference(self, expression: str, scope: _Scope) -> Any:
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
                return Unresolved(expression, f"variable '{steps[0]}' has no default and no tfvars value")
            return self._index(self.variables[steps[0]], steps[1:], expression)
        if root == "local" and steps:
            return self._index(self.local(steps[0]), steps[1:], expression)
        if root == "each" and steps and steps[0] in ("key", "value"):
            if scope.each_unknown is not None:
                return Unresolved(expression, scope.each_unknown.reason)
            if scope.each is None:
                return Unresolved(expression, "each is used outside for_each")
            value = scope.each[0] if steps[0] == "key" else scope.each[1]
            return self._index(value, steps[1:], expression)
        if root == "count" and steps == ["index"]:
            if scope.count_index is None:
                reason = scope.count_unknown or "count.index is used without a literal count"
                return Unresolved(expression, reason)
            return scope.count_index
        if root == "data":
            return Unresolved(expression, "a data source is read only when Terraform runs")
        if root in ASSIGNMENT_TYPES and steps:
            key = f"{root}.{steps[0]}"
            rest = steps[1:]
            if len(rest) == 2:
                rest = rest[1:]  # an instance of a count/for_each assignment: same id pattern
            if key in self.assignments and rest == ["id"]:
                return self.assignment_id(key)
            if key in self.assignments and rest == ["name"]:
                body = self.assignments[key]
                return self.value(body.get("name"), _Scope())
        if root in ("module", "path", "terraform", "self"):
            return Unresolved(expression, f"'{root}' values are known only when Terraform runs")
        return Unresolved(expression, "a resource attribute is known only after apply")

    def _index(self, value: Any, steps: list[str], expression: str) -> Any:
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
            value = self.value(self.locals[name], _Scope())
        finally:
            self._evaluating.discard(name)
        self._local_values[name] = value
        return value

    def assignment_id(self, key: str) -> Any:
        if key in self._assignment_ids:
            return self._assignment_ids[key]
        self._assignment_ids[key] = Unresolved(key + ".id", "the assignment id refers to itself")
        body = self.assignments[key]
        scope_arg = ASSIGNMENT_TYPES[key.split(".")[0]]
        scope = self.value(body.get(scope_arg), _Scope())
        name = self.value(body.get("name"), _Scope())
        value = join_id(scope, ASSIGNMENT_SUFFIX, name)
        self._assignment_ids[key] = value
        return value

    # --- values

    def value(self, raw: Any, scope: _Scope) -> Any:
        if isinstance(raw, str):
            return self._string(raw, scope)
        if isinstance(raw, list):
            return [self.value(item, scope) for item in raw]
        if isinstance(raw, dict):
            return {_unquote_key(k): self.value(v, scope) for k, v in raw.items() if not k.startswith("__")}
        return raw

    def _string(self, raw: str, scope: _Scope) -> Any:
        if len(raw) >= 2 and raw.startswith('"') and raw.endswith('"'):
            pieces = _split_template(raw[1:-1])
            if not pieces:
                return ""
            values = [self.expression(text, scope) if is_expr else text for is_expr, text in pieces]
            if len(values) == 1:
                return values[0]
            return concat(*[v if isinstance(v, (str, Unresolved)) else _to_text(v) for v in values])
        if raw.startswith("${") and raw.endswith("}"):
            return self.expression(raw[2:-1].strip(), scope)
        if raw.startswith("<<"):
            return Unresolved(raw.splitlines()[0], "heredoc strings are not evaluated")
        return self.expression(raw, scope)

    def expression(self, text: str, scope: _Scope) -> Any:
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
        encoded = _JSONENCODE.fullmatch(text)
        if encoded is not None:
            try:
                parsed = _parse(f"__value = {encoded.group(1)}\n")
            except Exception:
                return Unresolved(text, "jsonencode of a value that is not a literal")
            value = self.value(parsed.get("__value"), scope)
            return _to_text(value) if _is_scalar(value) else value
        if len(text) >= 2 and text.startswith('"') and text.endswith('"') and '"' not in text[1:-1]:
            return self._string(text, scope)
        call = re.match(r"([A-Za-z_][\w]*)\s*\(", text)
        if call is not None:
            return Unresolved(text, f"the function {call.group(1)}() is not evaluated")
        return Unresolved(text, "the expression is not evaluated")


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool)) or value is None


def _to_text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if value is None:
        return ""
    if isinstance(value, (str, Unresolved)):
        return value
    return Unresolved(json.dumps(value, default=str), "a collection is interpolated into a string")


def _plain_literal(raw: Any) -> Any:
    """A tfvars or default value: evaluated without variables (Terraform forbids them there)."""
    return _Module({}, {}).value(raw, _Scope())


# ----------------------------------------------------------------------------- directory


def _blocks(doc: dict[str, Any], keyword: str) -> list[Any]:
    blocks = doc.get(keyword, [])
    return blocks if isinstance(blocks, list) else [blocks]


def _collect(docs: list[dict[str, Any]], tfvars: list[dict[str, Any]]) -> _Module:
    variables: dict[str, Any] = {}
    locals_: dict[str, Any] = {}
    for doc in docs:
        for block in _blocks(doc, "variable"):
            for name, body in block.items():
                if isinstance(body, dict) and "default" in body:
                    variables[_unquote_key(name)] = _plain_literal(body["default"])
        for block in _blocks(doc, "locals"):
            for name, value in block.items():
                if not name.startswith("__"):
                    locals_[name] = value
    for values in tfvars:
        for name, value in values.items():
            if not name.startswith("__"):
                variables[_unquote_key(name)] = _plain_literal(value)
    module = _Module(variables, locals_)
    for doc in docs:
        for block in _blocks(doc, "resource"):
            for rtype, named in block.items():
                rtype = _unquote_key(rtype)
                if rtype in ASSIGNMENT_TYPES and isinstance(named, dict):
                    for name, body in named.items():
                        if isinstance(body, dict):
                            module.assignments[f"{rtype}.{_unquote_key(name)}"] = body
    return module


def _directory_inputs(path: Path | None, text: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The parsed other ``.tf`` files of the directory, and its tfvars in precedence order."""
    others: list[dict[str, Any]] = []
    tfvars: list[dict[str, Any]] = []
    if path is None:
        return others, tfvars
    directory = path.parent
    try:
        siblings = sorted(directory.iterdir())
    except OSError:
        return others, tfvars
    for sibling in siblings:
        if sibling.suffix == ".tf" and sibling.name != path.name and sibling.is_file():
            parsed = _parse_sibling(sibling)
            if parsed is not None:
                others.append(parsed)
    from exemptlint.loaders import decode_text

    auto = sorted(s.name for s in siblings if s.name.endswith((".auto.tfvars", ".auto.tfvars.json")))
    names = ["terraform.tfvars", "terraform.tfvars.json", *auto]
    for name in names:
        candidate = directory / name
        if not candidate.is_file():
            continue
        try:
            content = decode_text(candidate.read_bytes())
            if name.endswith(".json"):
                loaded = json.loads(content)
                if isinstance(loaded, dict):
                    # JSON strings are plain values, not templates: quote them for the evaluator.
                    tfvars.append({k: _quote_json(v) for k, v in loaded.items()})
            else:
                tfvars.append(_parse(content))
        except Exception:
            continue
    return others, tfvars


# Parsed sibling files by the hash of their bytes: a file rewritten within the file system's
# timestamp granularity (with the same size) is never served stale.
_SIBLINGS: dict[bytes, dict[str, Any] | None] = {}


def _parse_sibling(sibling: Path) -> dict[str, Any] | None:
    """A sibling ``.tf`` parsed once per run (each file of a directory reads all the others)."""
    from exemptlint.loaders import MAX_FILE_BYTES, decode_text

    try:
        if sibling.stat().st_size > MAX_FILE_BYTES:
            return None
        data = sibling.read_bytes()
    except OSError:
        return None
    key = hashlib.sha256(data).digest()
    if key not in _SIBLINGS:
        if len(_SIBLINGS) > 4096:
            _SIBLINGS.clear()
        try:
            _SIBLINGS[key] = _parse(decode_text(data))
        except Exception:  # a broken sibling is reported when it is linted itself
            _SIBLINGS[key] = None
    return _SIBLINGS[key]


def _quote_json(value: Any) -> Any:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("${", "$${") + '"'
    if isinstance(value, list):
        return [_quote_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _quote_json(v) for k, v in value.items()}
    return value


# ----------------------------------------------------------------------------- positions


def _parse_with_ranges(
    text: str, repeated: dict[tuple[str, ...], tuple[DuplicateKey, ...]] | None = None
) -> tuple[dict[str, Any], dict[tuple[str, ...], tuple[int, int]]]:
    """The document and its block ranges, from one parse (Lark parsing is the cost of a file);
    ``repeated``, when given, receives the arguments each block sets twice."""
    import hcl2

    tree = hcl2.parses_to_tree(text)
    _check_nesting(tree, text)
    if repeated is not None:
        repeated.update(_repeated_arguments(tree))
    ranges = _block_ranges(text, tree)
    doc: dict[str, Any] = hcl2.serialize(hcl2.transform(tree))
    return doc, ranges


def _block_ranges(text: str, tree: Any) -> dict[tuple[str, ...], tuple[int, int]]:
    """(keyword, label, ...) -> the block's first and last line, from the parser's tree."""
    ranges: dict[tuple[str, ...], tuple[int, int]] = {}
    lines = text.splitlines()
    for body in tree.children:
        for child in getattr(body, "children", []):
            if getattr(child, "data", None) != "block":
                continue
            start, end = child.meta.line, child.meta.end_line
            header = lines[start - 1] if start - 1 < len(lines) else ""
            keyword = header.split()[0] if header.split() else ""
            labels = tuple(m.group(1) for m in _LABEL.finditer(header.split("{")[0]))
            ranges.setdefault((keyword, *labels), (start, end))
    return ranges


def _repeated_arguments(tree: Any) -> dict[tuple[str, ...], tuple[DuplicateKey, ...]]:
    """(keyword, label, ...) -> the top-level arguments of the block set more than once (Terraform
    rejects that; python-hcl2 keeps the last value), each with its first setting."""
    found: dict[tuple[str, ...], tuple[DuplicateKey, ...]] = {}
    for body in tree.children:
        for block in getattr(body, "children", []):
            if getattr(block, "data", None) != "block":
                continue
            head: list[str] = []
            inner = None
            for child in block.children:
                kind = getattr(child, "data", None)
                if kind in ("identifier", "string"):
                    head.append("".join(str(token) for token in child.scan_values(lambda v: True)).strip('"'))
                elif kind == "body":
                    inner = child
            seen: dict[str, Position] = {}
            repeats: list[DuplicateKey] = []
            for attribute in getattr(inner, "children", []):
                if getattr(attribute, "data", None) != "attribute" or not attribute.children:
                    continue
                name = "".join(str(token) for token in attribute.children[0].scan_values(lambda v: True))
                where = Position(attribute.meta.line, attribute.meta.column, len(name))
                first = seen.setdefault(name, where)
                if first != where:
                    repeats.append(DuplicateKey(name, first, name, where, "", "argument"))
            if repeats:
                found.setdefault(tuple(head), tuple(repeats))
    return found


def _argument_positions(lines: list[str], start: int, end: int, arguments: list[str]) -> dict[str, Position]:
    """Where each top-level argument of a block is written (its first line ``name =``)."""
    found: dict[str, Position] = {}
    depth = 0
    for number in range(start + 1, min(end, len(lines) + 1)):
        line = lines[number - 1]
        stripped = line.lstrip()
        if depth == 0:
            for argument in arguments:
                if argument not in found and re.match(rf"{re.escape(argument)}\s*=(?!=)", stripped):
                    column = len(line) - len(stripped) + 1
                    found[argument] = Position(number, column, len(argument))
        # Nested blocks and multi-line values: only depth-0 lines name arguments.
        code = re.sub(r'"(?:[^"\\]|\\.)*"', '""', stripped.split("#")[0].split("//")[0])
        depth += code.count("{") + code.count("[") + code.count("(")
        depth -= code.count("}") + code.count("]") + code.count(")")
        depth = max(depth, 0)
    return found


# ----------------------------------------------------------------------------- loading


def load_terraform_text(text: str, file: str, options: Any, path: Path | None = None) -> LoadResult:
    """Exemptions and assignments of one ``.tf`` file (``options`` is unused for now: Terraform
    inputs come from the directory's variable defaults and tfvars files)."""
    if _RELEVANT.search(text) is None:
        return LoadResult()
    # Terraform ignores a UTF-8 byte order mark (Windows editors write one); so does this loader.
    text = text.removeprefix("\ufeff")
    try:
        repeated: dict[tuple[str, ...], tuple[DuplicateKey, ...]] = {}
        doc, ranges = _parse_with_ranges(text, repeated)
    except NestingError as error:
        return LoadResult(errors=[LoadError(file, error.line, error.column, error.message)])
    except Exception as error:  # lark and python-hcl2 raise several exception types
        return LoadResult(errors=[_syntax_error(error, text, file)])
    others, tfvars = _directory_inputs(path, text)
    module = _collect([doc, *others], tfvars)
    lines = text.splitlines()
    result = LoadResult()
    for block in _blocks(doc, "resource"):
        for rtype_quoted, named in block.items():
            rtype = _unquote_key(rtype_quoted)
            if rtype not in EXEMPTION_TYPES and rtype not in ASSIGNMENT_TYPES:
                continue
            if not isinstance(named, dict):
                continue
            for name_quoted, body in named.items():
                if not isinstance(body, dict):
                    continue
                name = _unquote_key(name_quoted)
                start, end = ranges.get(("resource", rtype, name), (1, len(lines)))
                if rtype in EXEMPTION_TYPES:
                    before = len(result.exemptions)
                    _load_exemption(rtype, name, body, module, lines, start, end, file, result)
                    for exemption in result.exemptions[before:]:
                        exemption.source.duplicates = repeated.get(("resource", rtype, name), ())
                else:
                    _load_assignment(rtype, name, body, module, lines, start, end, file, result)
    directives = parse_directives(text)
    if directives:
        for exemption in result.exemptions:
            exemption.source.directives = directives
    return result


def _syntax_error(error: Exception, text: str, file: str) -> LoadError:
    """A parse error as one line at its place: lark's messages ("Unexpected token Token('$END',
    '') at line 3, column 1.") are reworded, and its end of input (after the newline the parser
    appends) is the end of the file."""
    lines = len(re.findall(r"\r\n|\r|\n", text)) + 1
    line = getattr(error, "line", None)
    column = getattr(error, "column", None)
    line = min(line, lines) if isinstance(line, int) and line > 0 else 1
    column = column if isinstance(column, int) and column > 0 else 1
    token = getattr(error, "token", None)
    character = getattr(error, "char", None)
    long_number = re.search(r"[0-9]{4300,}", text) if isinstance(error, ValueError) else None
    if long_number is not None and "digits" in str(error):
        # Python converts at most 4,300 digits to an int; python-hcl2 raises while parsing.
        before = text[: long_number.start()]
        line = len(re.findall(r"\r\n|\r|\n", before)) + 1
        column = long_number.start() - max(before.rfind("\n"), before.rfind("\r"))
        message = "a number of more than 4,300 digits cannot be read"
    elif token is not None and getattr(token, "type", None) == "$END":
        message = "unexpected end of file (a block, string or bracket is not closed)"
    elif token is not None:
        shown = str(getattr(token, "value", token)).strip().splitlines()
        message = f"unexpected {shown[0][:40]!r}" if shown else "unexpected white space"
    elif isinstance(character, str):
        message = f"unexpected character {character!r}"
    else:
        message = " ".join(str(error).split()) or type(error).__name__
    return LoadError(file, line, column, f"invalid HCL: {message}")


def _instances(body: dict[str, Any], module: _Module) -> list[tuple[_Scope, str | None]]:
    if "for_each" in body:
        each = module.value(body["for_each"], _Scope())
        too_many = isinstance(each, (dict, list)) and len(each) > MAX_INSTANCES
        if isinstance(each, dict) and not too_many:
            return [(_Scope(each=(k, v)), f'for_each key "{k}"') for k, v in each.items()]
        if isinstance(each, list) and not too_many and all(isinstance(v, str) for v in each):
            return [(_Scope(each=(v, v)), f'for_each key "{v}"') for v in dict.fromkeys(each)]
        scope = _Scope()
        if isinstance(each, Unresolved):
            reason = each.reason
        elif too_many:
            reason = f"more than {MAX_INSTANCES} instances are not expanded"
        else:
            reason = "for_each is not a map or a set of strings"
        scope.each_unknown = Unresolved(str(body["for_each"]), f"for_each is not known statically: {reason}")
        return [(scope, "for_each (not known statically)")]
    if "count" in body:
        count = module.value(body["count"], _Scope())
        if isinstance(count, int) and not isinstance(count, bool):
            if count <= MAX_INSTANCES:
                return [(_Scope(count_index=i), f"count.index = {i}") for i in range(count)]
            scope = _Scope()
            scope.count_unknown = f"count is {count}: more than {MAX_INSTANCES} instances are not expanded"
            return [(scope, f"count = {count} (not expanded)")]
        return [(_Scope(), "count (not known statically)")]
    return [(_Scope(), None)]


def _block_position(lines: list[str], start: int) -> Position:
    """Where the ``resource`` keyword of a block starting on line ``start`` is."""
    header = lines[start - 1] if 0 < start <= len(lines) else ""
    return Position(start, len(header) - len(header.lstrip()) + 1, len("resource"))


def _load_exemption(
    rtype: str,
    name: str,
    body: dict[str, Any],
    module: _Module,
    lines: list[str],
    start: int,
    end: int,
    file: str,
    result: LoadResult,
) -> None:
    scope_arg = EXEMPTION_TYPES[rtype]
    positions = _argument_positions(lines, start, end, ["name", scope_arg, *ARGUMENTS])
    block_position = _block_position(lines, start)
    located = {ARGUMENTS.get(arg, arg): pos for arg, pos in positions.items()}
    if scope_arg in positions:
        located["scope"] = positions[scope_arg]
    for scope, context in _instances(body, module):
        properties: dict[str, Any] = {}
        for argument, canonical in ARGUMENTS.items():
            if argument not in body:
                continue
            value = module.value(body[argument], scope)
            if canonical == "metadata" and isinstance(value, str):
                try:
                    decoded = json.loads(value)
                    value = decoded if isinstance(decoded, dict) else value
                except ValueError:
                    pass
            if canonical in PLACEHOLDER_PROPERTIES:
                value = mark_placeholders(value)
            properties[canonical] = value
        exemption_name = mark_placeholders(module.value(body.get("name"), scope))
        exemption_scope = mark_placeholders(module.value(body.get(scope_arg), scope))
        result.exemptions.append(
            Exemption(
                name=exemption_name,
                scope=exemption_scope,
                scope_level=scope_level(exemption_scope),
                properties=properties,
                source=Source(
                    file,
                    "terraform",
                    FixedLocator(block_position, located),
                    context=f"{rtype}.{name}" + (f"; {context}" if context else ""),
                ),
            )
        )


def _load_assignment(
    rtype: str,
    name: str,
    body: dict[str, Any],
    module: _Module,
    lines: list[str],
    start: int,
    end: int,
    file: str,
    result: LoadResult,
) -> None:
    block_position = _block_position(lines, start)
    result.assignments.append(
        PolicyAssignment(
            id=mark_placeholders(module.assignment_id(f"{rtype}.{name}")),
            name=module.value(body.get("name"), _Scope()),
            policy_definition_id=mark_placeholders(module.value(body.get("policy_definition_id"), _Scope())),
            source=Source(file, "terraform", FixedLocator(block_position)),
        )
    )


# ----------------------------------------------------------------------------- plan JSON


def load_terraform_plan(doc: dict[str, Any], file: str, positions: JsonPositions) -> LoadResult:
    result = LoadResult()
    planned = doc.get("planned_values")
    root = planned.get("root_module") if isinstance(planned, dict) else None
    if not isinstance(root, dict):
        return result
    # Values known only after apply are absent from planned_values; resource_changes says which.
    unknown: dict[str, dict[str, Any]] = {}
    changes = doc.get("resource_changes")
    for change in changes if isinstance(changes, list) else []:
        if isinstance(change, dict) and isinstance(change.get("change"), dict):
            after_unknown = change["change"].get("after_unknown")
            if isinstance(after_unknown, dict) and isinstance(change.get("address"), str):
                unknown[change["address"]] = after_unknown
    stack: list[tuple[dict[str, Any], tuple[str | int, ...]]] = [(root, ("planned_values", "root_module"))]
    while stack:
        module, path = stack.pop(0)
        resources = module.get("resources")
        for i, resource in enumerate(resources if isinstance(resources, list) else []):
            if not isinstance(resource, dict) or resource.get("mode", "managed") != "managed":
                continue
            rtype = resource.get("type")
            values = resource.get("values")
            if not isinstance(values, dict) or not isinstance(rtype, str):
                continue
            values_path = (*path, "resources", i, "values")
            address = resource.get("address")
            context = address if isinstance(address, str) else None
            pending = unknown.get(context or "", {})
            values = dict(values)
            for argument, is_unknown in pending.items():
                if is_unknown is True:
                    values[argument] = Unresolved(
                        f"{context}.{argument}", "the value is known only after apply"
                    )
            if rtype in EXEMPTION_TYPES:
                scope_arg = EXEMPTION_TYPES[rtype]
                properties: dict[str, Any] = {}
                spelled: dict[str, str] = {}
                for argument, canonical in ARGUMENTS.items():
                    if argument not in values:
                        continue
                    value = values[argument]
                    if canonical == "metadata" and isinstance(value, str):
                        try:
                            decoded = json.loads(value)
                            value = decoded if isinstance(decoded, dict) else value
                        except ValueError:
                            pass
                    if value is None:
                        continue  # the provider writes null for an argument that is not set
                    if canonical in PLACEHOLDER_PROPERTIES:
                        value = mark_placeholders(value)
                    properties[canonical] = value
                    spelled[canonical] = argument
                spelled["name"] = "name"
                spelled["scope"] = scope_arg
                scope = mark_placeholders(values.get(scope_arg))
                result.exemptions.append(
                    Exemption(
                        name=mark_placeholders(values.get("name")),
                        scope=scope,
                        scope_level=scope_level(scope),
                        properties=properties,
                        source=Source(
                            file,
                            "terraform-plan",
                            JsonLocator(positions, values_path, values_path, spelled),
                            context=context,
                        ),
                    )
                )
            elif rtype in ASSIGNMENT_TYPES:
                scope = values.get(ASSIGNMENT_TYPES[rtype])
                assignment_id = values.get("id")
                if not isinstance(assignment_id, str):
                    assignment_id = join_id(scope, ASSIGNMENT_SUFFIX, values.get("name"))
                result.assignments.append(
                    PolicyAssignment(
                        id=mark_placeholders(assignment_id),
                        name=values.get("name"),
                        policy_definition_id=mark_placeholders(values.get("policy_definition_id")),
                        source=Source(
                            file, "terraform-plan", JsonLocator(positions, values_path, values_path, {})
                        ),
                    )
                )
        children = module.get("child_modules")
        for j, child in enumerate(children if isinstance(children, list) else []):
            if isinstance(child, dict):
                stack.append((child, (*path, "child_modules", j)))
    return result
