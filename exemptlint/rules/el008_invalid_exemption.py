"""EL008: the exemption fits the API (checked with jsonschema against a schema derived from the
REST specification; see scripts/generate_data.py), and no key of it is written twice, exactly or
differing only in case."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from exemptlint.catalog import load_exemption_schema
from exemptlint.model import (
    CANONICAL_PROPERTY,
    DuplicateKey,
    Exemption,
    Level,
    ScopeLevel,
    contains_unresolved,
)
from exemptlint.rules.api import Rule, RuleContext, Violation
from exemptlint.schema_precheck import certainly_valid
from exemptlint.scope import scope_level

_SINGULAR_REFERENCE = "policyDefinitionReferenceId"


@functools.lru_cache(maxsize=1)
def _validator() -> Any:
    # jsonschema is imported only when a run has an exemption to check.
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_exemption_schema())


def check(exemption: Exemption, context: RuleContext, options: Any) -> Iterator[Violation]:
    properties: dict[str, Any] = {}
    unknown_values: set[str] = set()
    for key, value in exemption.properties.items():
        if contains_unresolved(value):
            unknown_values.add(key)  # present, but its value cannot be checked
        elif value is not None or key not in CANONICAL_PROPERTY.values():
            # null is how exports write "not set"; an unknown property is wrong even when null.
            properties[key] = value
    instance: dict[str, Any] = {"properties": properties}
    if isinstance(exemption.name, str):
        instance["name"] = exemption.name
    if not certainly_valid(
        instance, load_exemption_schema(), present=(properties, frozenset(unknown_values))
    ):
        errors = sorted(_validator().iter_errors(instance), key=lambda e: (list(e.path), e.validator))
        for error in errors:
            yield from _violations(error, exemption, unknown_values)
    scope = exemption.scope
    if isinstance(scope, str):
        written = scope_level(scope)
        if written == ScopeLevel.UNKNOWN:
            yield Violation(f"scope '{scope}' is not a valid Azure resource id", property="scope")
        elif exemption.scope_level not in (written, ScopeLevel.UNKNOWN):
            # The loader fixed the level from the resource type (a Terraform resource group
            # exemption), and the id names another level: the provider rejects it.
            yield Violation(
                f"scope '{scope}' is a {written.value} id, but this exemption's resource type "
                f"deploys at {exemption.scope_level.value} scope",
                property="scope",
            )
    for duplicate in exemption.source.duplicates:
        yield _duplicate_violation(duplicate)


_PLURAL = {"property": "properties"}
# Why a key written twice is wrong, by what the file calls it (see DuplicateKey.kind).
_EXACT = {
    "": "only one of them takes effect, and a reviewer may read the other",
    "argument": "Terraform rejects a block that sets an argument twice",
    "property": "Bicep rejects an object that declares a property twice (BCP025)",
}


def _duplicate_violation(duplicate: DuplicateKey) -> Violation:
    """A key written twice: the finding points at the second, the message names both places."""
    first, second = duplicate.first_at, duplicate.second_at
    if first.line != second.line:
        places = f"at line {first.line} and line {second.line}"
    else:
        places = f"at line {first.line}, columns {first.column} and {second.column}"
    within = f" in {duplicate.container}" if duplicate.container else ""
    kind = duplicate.kind
    if duplicate.first == duplicate.second:
        why = _EXACT.get(kind, _EXACT[""])
        message = f"duplicate {kind} '{duplicate.second}'{within} {places}: {why}; keep one"
    else:
        kinds = _PLURAL.get(kind, kind + "s")
        message = (
            f"duplicate {kinds} '{duplicate.first}' and '{duplicate.second}'{within} {places}: they differ "
            "only in case, and Azure matches property names case-insensitively, so they set the same "
            "property and only one takes effect; keep one"
        )
    name = CANONICAL_PROPERTY.get(duplicate.second.lower(), duplicate.second)
    return Violation(message, property=name, position=second)


def _violations(error: Any, exemption: Exemption, unknown_values: set[str]) -> Iterator[Violation]:
    path = list(error.path)
    keyword = error.validator
    if path[:1] == ["name"]:
        yield Violation(_name_message(exemption, keyword), property="name")
        return
    prop = str(path[1]) if len(path) > 1 else None
    if keyword == "required":
        if exemption.partial_update:
            return
        # jsonschema reports each missing property as its own error: "'x' is a required property".
        missing = error.message.split("'")[1] if error.message.count("'") >= 2 else str(error.validator_value)
        if missing not in unknown_values:
            yield Violation(f"required property '{missing}' is missing", property=None)
        return
    if keyword == "additionalProperties":
        for name in sorted(set(error.instance) - set(error.schema.get("properties", {}))):
            hint = ""
            if name == _SINGULAR_REFERENCE:
                hint = " (did you mean 'policyDefinitionReferenceIds', a list?)"
            yield Violation(f"unknown property '{name}'{hint}", property=name)
        return
    if keyword == "enum" and prop == "exemptionCategory":
        return  # EL002 reports categories
    where = ".".join(str(p) for p in path[1:]) or "properties"
    if keyword == "maxLength":
        limit = error.validator_value
        message = f"{where} is {len(error.instance)} characters; the API allows at most {limit}"
    elif keyword == "type":
        message = f"{where} must be of type {error.validator_value}, not {_json_type(error.instance)}"
    elif keyword == "enum":
        allowed = ", ".join(str(v) for v in error.validator_value)
        message = f"{where} is '{error.instance}'; allowed values: {allowed}"
    else:
        message = f"{where}: {error.message}"
    yield Violation(message, property=prop)


def _name_message(exemption: Exemption, keyword: str) -> str:
    name = exemption.name
    if keyword == "maxLength":
        return f"name '{name}' is {len(str(name))} characters; the API allows at most 64"
    return (
        f"name '{name}' is not a valid exemption name: it may not contain any of <>*%&:\\?.+/ "
        "and may not end with a space"
    )


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


RULE = Rule(
    id="EL008",
    name="invalid-exemption",
    level=Level.ERROR,
    summary="The exemption fits the policyExemptions API "
    "(required and known properties, types, lengths, name, no key written twice)",
    check=check,
    tags=("security", "correctness"),
    security_severity=4.0,
)
