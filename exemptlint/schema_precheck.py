"""A fast, conservative "is this certainly valid?" check for the packaged exemption schema.

jsonschema costs about 40 ms to import, most of a one-file run's budget, and nearly every
exemption is valid. This check understands only the keywords the packaged schema uses; it answers
True only when the instance satisfies every constraint it saw, and False whenever something fails
or it meets a keyword it does not know. A False answer means "ask jsonschema", which then gives the
authoritative errors, so the check can never hide one (tests compare it with jsonschema).

Each schema is compiled once into nested closures (as fastjsonschema does): walking the schema
dictionaries for every exemption cost more than the rest of the rules together.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# Keys of one object (by identity) that count as present for ``required``: properties whose values
# are unknown, which the caller left out of the instance.
Present = tuple[dict[str, Any], frozenset[str]] | None
Check = Callable[[Any, Present], bool]

# Keywords that never constrain an instance.
_ANNOTATIONS = frozenset(
    {"$comment", "$schema", "$id", "title", "description", "format", "$defs", "examples"}
)
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "object": (dict,),
    "array": (list,),
    "boolean": (bool,),
    "number": (int, float),
    "integer": (int,),
    "null": (type(None),),
}

# Compiled checks by the identity of their root schema, then of each schema compiled under it. The
# schemas are kept alive with their checks, so that an id cannot be reused while it is a key.
_COMPILED: dict[int, tuple[dict[str, Any], dict[int, Check], list[Any]]] = {}
_MAX_ROOTS = 16


def certainly_valid(
    instance: Any,
    schema: dict[str, Any],
    root: dict[str, Any] | None = None,
    present: Present = None,
) -> bool:
    """True only when ``instance`` certainly satisfies ``schema`` (``root`` holds its ``$defs``)."""
    return compiled(schema, root if root is not None else schema)(instance, present)


def compiled(schema: dict[str, Any], root: dict[str, Any]) -> Check:
    entry = _COMPILED.get(id(root))
    if entry is None:
        if len(_COMPILED) >= _MAX_ROOTS:
            _COMPILED.clear()
        entry = (root, {}, [])
        _COMPILED[id(root)] = entry
    if id(schema) not in entry[1]:
        entry[2].append(schema)
    return _compile(schema, root, entry[1])


def _never(instance: Any, present: Present) -> bool:
    return False


def _always(instance: Any, present: Present) -> bool:
    return True


def _compile(schema: Any, root: dict[str, Any], cache: dict[int, Check]) -> Check:
    known = cache.get(id(schema))
    if known is not None:
        return known
    if not isinstance(schema, dict):
        return _never
    checks: list[Check] = []

    def check_all(instance: Any, present: Present) -> bool:
        # A loop, not all() over a generator: this runs for every node of every exemption.
        for one in checks:  # noqa: SIM110
            if not one(instance, present):
                return False
        return True

    # Registered before compiling the parts, so that a recursive $ref finds it.
    cache[id(schema)] = check_all
    for keyword, value in schema.items():
        if keyword in _ANNOTATIONS:
            continue
        part = _keyword(keyword, value, schema, root, cache)
        if part is _never:
            checks[:] = [_never]
            break
        checks.append(part)
    return check_all


def _keyword(
    keyword: str, value: Any, schema: dict[str, Any], root: dict[str, Any], cache: dict[int, Check]
) -> Check:
    if keyword == "$ref":
        if not (isinstance(value, str) and value.startswith("#/$defs/")):
            return _never
        target = root.get("$defs", {}).get(value[len("#/$defs/") :])
        if not isinstance(target, dict):
            return _never
        # Looked up when first used: the target may be the schema being compiled.
        def ref(instance: Any, present: Present) -> bool:
            return _compile(target, root, cache)(instance, present)

        return ref
    if keyword == "type":
        names = value if isinstance(value, list) else [value]
        return _type_check(names)
    if keyword == "enum":
        options = list(value)

        def enum(instance: Any, present: Present) -> bool:
            kind = type(instance)
            return any(kind is type(option) and instance == option for option in options)

        return enum
    if keyword == "maxLength":
        limit = value

        def max_length(instance: Any, present: Present) -> bool:
            return not isinstance(instance, str) or len(instance) <= limit

        return max_length
    if keyword == "pattern":
        search = re.compile(value).search

        def pattern(instance: Any, present: Present) -> bool:
            return not isinstance(instance, str) or search(instance) is not None

        return pattern
    if keyword == "required":
        required_names = tuple(value)

        def required(instance: Any, present: Present) -> bool:
            if not isinstance(instance, dict):
                return True
            assumed = present[1] if present is not None and present[0] is instance else frozenset()
            return all(name in instance or name in assumed for name in required_names)

        return required
    if keyword == "properties":
        children = [(name, _compile(sub, root, cache)) for name, sub in value.items()]

        def properties(instance: Any, present: Present) -> bool:
            if isinstance(instance, dict):
                for name, child in children:
                    if name in instance and not child(instance[name], present):
                        return False
            return True

        return properties
    if keyword == "additionalProperties":
        declared = frozenset(schema.get("properties", {}))
        if value is True:
            return _always
        if value is False:

            def closed(instance: Any, present: Present) -> bool:
                return not isinstance(instance, dict) or declared.issuperset(instance)

            return closed
        if isinstance(value, dict):
            extra = _compile(value, root, cache)

            def additional(instance: Any, present: Present) -> bool:
                if not isinstance(instance, dict):
                    return True
                return all(extra(instance[n], present) for n in instance if n not in declared)

            return additional
        return _never
    if keyword == "items":
        if not isinstance(value, dict):

            def items_unknown(instance: Any, present: Present) -> bool:
                return not isinstance(instance, list)

            return items_unknown
        item = _compile(value, root, cache)

        def items(instance: Any, present: Present) -> bool:
            return not isinstance(instance, list) or all(item(one, present) for one in instance)

        return items
    return _never  # a keyword this check does not know: let jsonschema decide


def _type_check(names: list[Any]) -> Check:
    def typed(instance: Any, present: Present) -> bool:
        return any(_is_type(instance, name) for name in names)

    if len(names) == 1 and names[0] in ("string", "object", "array", "null"):
        only = _TYPES[names[0]][0]

        def single(instance: Any, present: Present) -> bool:
            return isinstance(instance, only)

        return single
    return typed


def _is_type(instance: Any, name: str) -> bool:
    if name in ("number", "integer") and isinstance(instance, bool):
        return False
    if name == "integer" and isinstance(instance, float):
        return instance.is_integer()
    return isinstance(instance, _TYPES.get(name, ()))
