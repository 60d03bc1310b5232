"""Raw exemption JSON: the REST/ARM resource shape, the flattened ``az`` shape, arrays of
either, REST list responses ``{"value": [...]}``, Az PowerShell exports (``Properties``,
``ResourceType``) and the examples of the REST specification (request and responses)."""

from __future__ import annotations

from typing import Any

from exemptlint.loaders.jsontext import JsonLocator, JsonPositions, Path, repeated_keys
from exemptlint.loaders.values import (
    canonical_properties,
    concat,
    get_ci,
    key_index,
    management_group_parent,
    mark_placeholders,
)
from exemptlint.model import (
    ASSIGNMENT_TYPE,
    EXEMPTION_TYPE,
    MANAGEMENT_GROUP_PREFIX,
    MANAGEMENT_GROUP_TYPE,
    SET_DEFINITION_TYPE,
    DuplicateKey,
    Exemption,
    LoadResult,
    Placement,
    PolicyAssignment,
    Source,
)
from exemptlint.scope import name_of_exemption_id, scope_level, scope_of_exemption_id

# Keys of the flattened ``az policy exemption show`` output that are not exemption properties.
_ENVELOPE = frozenset(
    {
        "id",
        "name",
        "type",
        "systemdata",
        "resourcegroup",
        "scope",
        "etag",
        "apiversion",
        "resourceid",
        "resourcename",
        "resourcetype",
        "subscriptionid",
        "resourcegroupname",
        "policyexemptionid",
        "extensionresourcename",
        "extensionresourcetype",
    }
)
_EXEMPTION_MARKERS = frozenset({"policyassignmentid", "exemptioncategory"})
_EXEMPTION_TYPE = EXEMPTION_TYPE.lower()
_ASSIGNMENT_TYPE = ASSIGNMENT_TYPE.lower()
_SET_DEFINITION_TYPE = SET_DEFINITION_TYPE.lower()
_MANAGEMENT_GROUP_TYPE = MANAGEMENT_GROUP_TYPE.lower()


def is_rest_example(doc: Any) -> bool:
    return isinstance(doc, dict) and isinstance(doc.get("responses"), dict) and "parameters" in doc


def load_raw(doc: Any, file: str, positions: JsonPositions, fmt: str = "raw") -> LoadResult:
    result = LoadResult()
    for obj, path in _candidate_objects(doc, ()):
        _load_object(obj, path, file, positions, fmt, result, partial_update=False)
    return result


def load_rest_example(doc: dict[str, Any], file: str, positions: JsonPositions) -> LoadResult:
    """A REST spec example: the responses describe the exemptions; the request body is used only
    when no response does (a PATCH body is partial, so its missing properties are not errors)."""
    result = LoadResult()
    seen: set[str] = set()
    for code, response in doc["responses"].items():
        if not isinstance(response, dict) or "body" not in response:
            continue
        for obj, path in _candidate_objects(response["body"], ("responses", code, "body")):
            before = len(result.exemptions)
            _load_object(obj, path, file, positions, "rest-example", result, partial_update=False)
            for exemption in result.exemptions[before:]:
                key = f"{exemption.scope}|{exemption.name}".lower()
                if key in seen:
                    result.exemptions.remove(exemption)
                seen.add(key)
    if result.exemptions:
        return result
    parameters = doc.get("parameters")
    if isinstance(parameters, dict):
        _, body = get_ci(parameters, "parameters")
        if isinstance(body, dict):
            scope = parameters.get("scope")
            name = parameters.get("policyExemptionName")
            if isinstance(scope, str) and not scope.startswith("/"):
                scope = "/" + scope
            props_key, props = get_ci(body, "properties")
            if isinstance(props, dict) and props_key is not None:
                required = {"policyAssignmentId", "exemptionCategory"}
                canonical, spelled = canonical_properties(props)
                props_path = ("parameters", "parameters", props_key)
                locator = JsonLocator(positions, ("parameters", "parameters"), props_path, spelled)
                duplicates = repeated_keys(
                    positions, (("parameters", "parameters"), body, ""), (props_path, props, "properties")
                )
                result.exemptions.append(
                    Exemption(
                        name=name,
                        scope=mark_placeholders(scope),
                        scope_level=scope_level(mark_placeholders(scope)),
                        properties=canonical,
                        source=Source(
                            file, "rest-example", locator, context="request body", duplicates=duplicates
                        ),
                        partial_update=not required <= canonical.keys(),
                        api_version=parameters.get("api-version"),
                    )
                )
    return result


def _candidate_objects(doc: Any, path: Path) -> list[tuple[dict[str, Any], Path]]:
    if isinstance(doc, list):
        return [(item, (*path, i)) for i, item in enumerate(doc) if isinstance(item, dict)]
    if isinstance(doc, dict):
        value = doc.get("value")
        if isinstance(value, list) and get_ci(doc, "properties")[0] is None:
            return [(item, (*path, "value", i)) for i, item in enumerate(value) if isinstance(item, dict)]
        return [(doc, path)]
    return []


def _is_set_definition(obj: dict[str, Any]) -> bool:
    from exemptlint.loaders.set_definitions import is_set_definition_document

    return is_set_definition_document(obj)


def _resource_type(obj: dict[str, Any], keys: dict[str, str]) -> str:
    for key in ("type", "resourceType"):
        _, value = get_ci(obj, key, keys)
        if isinstance(value, str):
            return value
    return ""


def _load_object(
    obj: dict[str, Any],
    path: Path,
    file: str,
    positions: JsonPositions,
    fmt: str,
    result: LoadResult,
    *,
    partial_update: bool,
) -> None:
    keys = key_index(obj)  # several names are looked up case-insensitively: index the keys once
    rtype = _resource_type(obj, keys).lower()
    id_key, resource_id = get_ci(obj, "id", keys)
    if not isinstance(resource_id, str):
        id_key, resource_id = get_ci(obj, "resourceId", keys)
    props_key, props = get_ci(obj, "properties", keys)
    flat = not isinstance(props, dict)
    container: dict[str, Any] = obj if flat else props

    if rtype == _ASSIGNMENT_TYPE:
        _, definition = get_ci(container, "policyDefinitionId")
        _, name = get_ci(obj, "name", keys)
        result.assignments.append(
            PolicyAssignment(
                id=mark_placeholders(resource_id),
                name=name,
                policy_definition_id=mark_placeholders(definition),
                source=Source(file, fmt, JsonLocator(positions, path, path, {})),
            )
        )
        return
    if rtype == _MANAGEMENT_GROUP_TYPE:
        # As Azure returns it (or a request body): a group without a parent is the tenant root
        # group itself, or (in a request) one created under it; which is not known.
        parent = management_group_parent(props)
        if parent is not None:
            _, name = get_ci(obj, "name", keys)
            child = resource_id if isinstance(resource_id, str) else concat(MANAGEMENT_GROUP_PREFIX, name)
            source = Source(file, fmt, JsonLocator(positions, path, path, {}))
            result.placements.append(Placement(mark_placeholders(child), parent, source))
        return
    if rtype == _SET_DEFINITION_TYPE or (not rtype and _is_set_definition(obj)):
        from exemptlint.loaders.set_definitions import set_definition

        _, name = get_ci(obj, "name", keys)
        source = Source(file, fmt, JsonLocator(positions, path, path, {}))
        result.set_definitions.append(set_definition(resource_id, name, props, source))
        return
    id_scope = scope_of_exemption_id(resource_id) if isinstance(resource_id, str) else None
    is_exemption = rtype == _EXEMPTION_TYPE or id_scope is not None
    # Without a type, the properties themselves say it is an exemption.
    if not is_exemption and (rtype or not (_EXEMPTION_MARKERS & {k.lower() for k in container})):
        return

    properties, spelled = canonical_properties(container, _ENVELOPE if flat else frozenset())
    name_key, name = get_ci(obj, "name", keys)
    scope_key, scope = get_ci(obj, "scope", keys)
    if isinstance(resource_id, str) and id_key is not None:
        if name is None:
            name, name_key = name_of_exemption_id(resource_id), id_key
        if scope is None:
            scope, scope_key = id_scope, id_key
    if isinstance(scope, str) and scope and not scope.startswith("/"):
        scope = "/" + scope
    scope = mark_placeholders(scope)
    if name_key is not None:
        spelled["name"] = name_key
    if scope_key is not None:
        spelled["scope"] = scope_key
    if not flat and props_key is not None:
        spelled["properties"] = props_key
    props_path: Path = path if flat else (*path, props_key or "properties")
    locator = JsonLocator(positions, path, props_path, spelled)
    # The keys are indexed in lower case already: most objects need no further look.
    duplicates: tuple[DuplicateKey, ...] = ()
    if type(obj) is not dict or len(keys) != len(obj):
        duplicates = repeated_keys(positions, (path, obj, ""))
    if not flat:
        duplicates += repeated_keys(positions, (props_path, props, "properties"))
    result.exemptions.append(
        Exemption(
            name=mark_placeholders(name),
            scope=scope,
            scope_level=scope_level(scope),
            properties=properties,
            source=Source(file, fmt, locator, duplicates=duplicates),
            partial_update=partial_update,
            api_version=get_ci(obj, "apiVersion", keys)[1],
        )
    )
