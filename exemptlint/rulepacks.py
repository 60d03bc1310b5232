"""Rule packs: declarative rules written as YAML (see docs/custom-rules.md and ``rules/``).

A rule pack is a YAML file, or a folder of ``.yaml``/``.yml`` files. Each file holds one rule (a
mapping with ``id``) or several (``rules: [...]``). Each rule becomes a :class:`Rule` whose check
evaluates ``when`` and ``require`` (JSON Schemas) against :func:`exemption_view`.

Problems are :class:`RulePackError` with ``file:line:1: error: KEY: problem``.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from exemptlint.model import Exemption, Level
from exemptlint.rules.api import Rule, RuleContext, Violation
from exemptlint.rules.view import exemption_view, view_property

RULE_KEYS = ("id", "name", "level", "message", "when", "require", "help", "helpUri", "tags")
REQUIRED_KEYS = ("id", "name", "message", "require")
ID_PATTERN = re.compile(r"^[A-Z][A-Z0-9_-]*[0-9]+$")
# Placeholders a message may use besides the view's keys.
EXTRA_FIELDS = ("error", "value")
VIEW_FIELDS = (
    "name",
    "scope",
    "scopeLevel",
    "displayName",
    "description",
    "exemptionCategory",
    "category",
    "expiresOn",
    "expiresInDays",
    "metadata",
    "policyAssignmentId",
    "policyDefinitionReferenceIds",
    "initiative",
    "properties",
    "source",
    "partialUpdate",
)


class RulePackError(Exception):
    """A bad rule file; ``str()`` is ``file:line:1: error: key: problem``."""


def pack_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix.lower() in (".yaml", ".yml") and p.is_file())
    return [path]


def load_rule_packs(paths: Sequence[Path], taken: Sequence[str] = ()) -> list[Rule]:
    """Every rule of the packs at ``paths`` (files or folders), in order; ids must be unique,
    also among ``taken`` (the rules already known)."""
    seen: dict[str, str] = {rule_id.upper(): "another rule" for rule_id in taken}
    rules: list[Rule] = []
    for path in paths:
        if not path.exists():
            raise RulePackError(f"{_shown(path)}:1:1: error: rule pack not found")
        for file in pack_files(path):
            for rule, line in _load_file(file):
                where = f"{_shown(file)}:{line}:1"
                if rule.id.upper() in seen:
                    other = seen[rule.id.upper()]
                    raise RulePackError(
                        f"{where}: error: id: duplicate rule id {rule.id} (already defined by {other})"
                    )
                seen[rule.id.upper()] = f"{_shown(file)}:{line}"
                rules.append(rule)
    return rules


def _shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def _line(node: Any, key: Any, default: int) -> int:
    try:
        return int(node.lc.key(key)[0]) + 1
    except (AttributeError, KeyError, TypeError):
        return default


def _node_line(node: Any, default: int) -> int:
    try:
        return int(node.lc.line) + 1
    except (AttributeError, TypeError):
        return default


def _plain(value: Any) -> Any:
    """ruamel's round-trip values as plain JSON values (dates as ISO strings)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _load_file(file: Path) -> list[tuple[Rule, int]]:
    shown = _shown(file)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RulePackError(f"{shown}:1:1: error: cannot read rule file: {error}") from None
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        data = YAML(typ="rt").load(text)
    except YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        column = mark.column + 1 if mark is not None else 1
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise RulePackError(f"{shown}:{line}:{column}: error: invalid YAML: {problem}") from None
    if data is None:
        return []
    if isinstance(data, dict) and "rules" in data:
        extra = [k for k in data if k != "rules"]
        if extra:
            line = _line(data, extra[0], 1)
            raise RulePackError(f"{shown}:{line}:1: error: {extra[0]}: unknown key (a rule file has 'rules')")
        entries = data["rules"]
        if not isinstance(entries, list):
            line = _line(data, "rules", 1)
            raise RulePackError(f"{shown}:{line}:1: error: rules: must be a list of rules")
        located = [
            (entry, f"rules[{i}].", _node_line(entry, _line(data, "rules", 1)))
            for i, entry in enumerate(entries)
        ]
    elif isinstance(data, dict):
        located = [(data, "", 1)]
    else:
        raise RulePackError(
            f"{shown}:1:1: error: a rule file must be a mapping (one rule, or 'rules: [...]')"
        )
    return [(_rule(entry, prefix, line, file), line) for entry, prefix, line in located]


def _rule(node: Any, prefix: str, line: int, file: Path) -> Rule:
    shown = _shown(file)

    def fail(key: str, problem: str) -> RulePackError:
        at = _line(node, key, line) if isinstance(node, dict) else line
        return RulePackError(f"{shown}:{at}:1: error: {prefix}{key}: {problem}")

    if not isinstance(node, dict):
        return _raise(
            RulePackError(f"{shown}:{line}:1: error: {prefix.rstrip('.')}: a rule must be a mapping")
        )
    for key in node:
        if key not in RULE_KEYS:
            raise fail(str(key), f"unknown key (known: {', '.join(RULE_KEYS)})")
    for key in REQUIRED_KEYS:
        if key not in node:
            raise RulePackError(
                f"{shown}:{line}:1: error: {prefix}{key}: missing (required: {', '.join(REQUIRED_KEYS)})"
            )
    raw = {str(k): _plain(v) for k, v in node.items()}
    for key in ("id", "name", "message", "help", "helpUri"):
        if key in raw and not (isinstance(raw[key], str) and raw[key].strip()):
            raise fail(key, "must be a non-empty string")
    rule_id = raw["id"].strip()
    if not ID_PATTERN.match(rule_id):
        raise fail("id", f"'{rule_id}' is not a rule id: write a team prefix and a number, such as ORG001")
    if rule_id.upper().startswith("EL"):
        raise fail("id", f"'{rule_id}' collides with the built-in EL rules: use your own prefix")
    try:
        level = Level(raw.get("level", "error"))
    except ValueError:
        raise fail("level", f"{raw.get('level')!r} is not one of error, warning, note") from None
    tags = raw.get("tags", ["policy"])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise fail("tags", "must be a list of strings")
    message: str = raw["message"]
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(message) if f is not None]
    except ValueError as error:
        raise fail("message", f"bad placeholder: {error}") from None
    for field_name in fields:
        root = re.split(r"[.\[]", field_name, maxsplit=1)[0]
        if root not in VIEW_FIELDS and root not in EXTRA_FIELDS:
            raise fail(
                "message", f"unknown placeholder {{{field_name}}} (use the exemption's fields, or {{error}})"
            )
    schemas: dict[str, Any] = {}
    for key in ("when", "require"):
        if key not in raw:
            continue
        schema = raw[key]
        if not isinstance(schema, (dict, bool)):
            raise fail(key, "must be a JSON Schema (a mapping)")
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import SchemaError

        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as error:
            where = "/".join(str(p) for p in error.absolute_path)
            raise fail(
                key, f"invalid JSON Schema{' at ' + where if where else ''}: {error.message}"
            ) from None
        schemas[key] = schema
    return _make_rule(
        rule_id=rule_id,
        name=raw["name"].strip(),
        level=level,
        message=message,
        when=schemas.get("when"),
        require=schemas["require"],
        help_text=raw.get("help"),
        help_uri=raw.get("helpUri"),
        tags=tuple(tags),
        origin=f"rule pack {shown}",
    )


def _raise(error: Exception) -> Rule:
    raise error


class _Fields(dict[str, Any]):
    """The message's placeholder values; a field the exemption lacks renders as ''."""

    def __missing__(self, key: str) -> Any:
        return ""


def _make_rule(
    *,
    rule_id: str,
    name: str,
    level: Level,
    message: str,
    when: Any,
    require: Any,
    help_text: str | None,
    help_uri: str | None,
    tags: tuple[str, ...],
    origin: str,
) -> Rule:
    validators: dict[str, Any] = {}

    def validator(key: str, schema: Any) -> Any:
        if key not in validators:
            from jsonschema import Draft202012Validator

            validators[key] = Draft202012Validator(schema)
        return validators[key]

    def check(exemption: Exemption, context: RuleContext, options: Any) -> Iterator[Violation]:
        view = exemption_view(exemption, context)
        if when is not None and not validator("when", when).is_valid(view):
            return
        errors = sorted(validator("require", require).iter_errors(view), key=lambda e: list(e.absolute_path))
        if not errors:
            return
        error = errors[0]
        path = list(error.absolute_path)
        values = _Fields(view)
        values["error"] = error.message
        values["value"] = error.instance if not isinstance(error.instance, (dict, list)) else ""
        try:
            text = message.format_map(values)
        except (KeyError, IndexError, AttributeError, TypeError, ValueError):
            text = message
        yield Violation(text, property=view_property(path))

    return Rule(
        id=rule_id,
        name=name,
        level=level,
        summary=name if help_text is None else " ".join(help_text.strip().split("\n\n")[0].split()),
        check=check,
        tags=tags,
        help=help_text,
        help_url=help_uri,
        origin=origin,
    )
