"""A fast, conservative "is this certainly valid?" check for the packaged exemption schema.

jsonschema costs about 40 ms to import, most of a one-file run's budget, and nearly every
exemption is valid. This check understands only the keywords the packaged schema uses; it answers
True only when the instance satisfies every constraint it saw, and False whenever something fails
or it meets a keyword it does not know. A False answer means "ask jsonschema", which then gives the
authoritative errors, so the check can never hide one (tests compare it with jsonschema).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

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


@lru_cache(maxsize=64)
def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(text)


def certainly_valid(
    instance: Any,
    schema: dict[str, Any],
    root: dict[str, Any] | None = None,
    present: tuple[dict[str, Any], frozenset[str]] | None = None,
) -> bool:
    """``present`` names keys of one object (by identity) that count as present for ``required``:
    properties whose values are unknown, which the caller left out of the instance."""
    root = root if root is not None else schema
    for keyword, value in schema.items():
        if keyword in _ANNOTATIONS:
            continue
        if keyword == "$ref":
            if not (isinstance(value, str) and value.startswith("#/$defs/")):
                return False
            target = root.get("$defs", {}).get(value[len("#/$defs/") :])
            if not isinstance(target, dict) or not certainly_valid(instance, target, root, present):
                return False
        elif keyword == "type":
            names = value if isinstance(value, list) else [value]
            if not any(_is_type(instance, name) for name in names):
                return False
        elif keyword == "enum":
            if not any(type(instance) is type(option) and instance == option for option in value):
                return False
        elif keyword == "maxLength":
            if isinstance(instance, str) and len(instance) > value:
                return False
        elif keyword == "pattern":
            if isinstance(instance, str) and _pattern(value).search(instance) is None:
                return False
        elif keyword == "required":
            assumed = present[1] if present is not None and present[0] is instance else frozenset()
            if isinstance(instance, dict) and any(
                name not in instance and name not in assumed for name in value
            ):
                return False
        elif keyword == "properties":
            if isinstance(instance, dict):
                for name, subschema in value.items():
                    if name in instance and not certainly_valid(instance[name], subschema, root, present):
                        return False
        elif keyword == "additionalProperties":
            if isinstance(instance, dict):
                known = schema.get("properties", {})
                extras = [name for name in instance if name not in known]
                if value is False and extras:
                    return False
                if isinstance(value, dict) and not all(
                    certainly_valid(instance[n], value, root, present) for n in extras
                ):
                    return False
                if value is not False and not isinstance(value, dict) and value is not True:
                    return False
        elif keyword == "items":
            if not isinstance(instance, list):
                continue
            if not isinstance(value, dict) or not all(
                certainly_valid(item, value, root, present) for item in instance
            ):
                return False
        else:
            return False  # a keyword this check does not know: let jsonschema decide
    return True


def _is_type(instance: Any, name: str) -> bool:
    if name in ("number", "integer") and isinstance(instance, bool):
        return False
    if name == "integer" and isinstance(instance, float):
        return instance.is_integer()
    return isinstance(instance, _TYPES.get(name, ()))
