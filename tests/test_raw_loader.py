"""Raw exemption JSON in every shape the core reads, detected from content."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from exemptlint.loaders import LoadOptions, load_file, load_json_text
from exemptlint.model import LoadResult, Position, ScopeLevel, Unresolved

TODAY = datetime.date(2026, 11, 24)
SUB = "/subscriptions/00000000-0000-0000-0000-000000000001"
EXEMPTION_ID = f"{SUB}/resourceGroups/rg/providers/Microsoft.Authorization/policyExemptions/ex1"
PROPS = {
    "policyAssignmentId": f"{SUB}/providers/Microsoft.Authorization/policyAssignments/SecurityCenterBuiltIn",
    "exemptionCategory": "Waiver",
    "expiresOn": "2027-01-01T00:00:00Z",
}


def load(doc: object, name: str = "f.json") -> LoadResult:
    text = doc if isinstance(doc, str) else json.dumps(doc, indent=2)
    return load_json_text(text, name, LoadOptions(today=TODAY))


def test_resource_shape_with_id() -> None:
    (ex,) = load(
        {
            "id": EXEMPTION_ID,
            "name": "ex1",
            "type": "Microsoft.Authorization/policyExemptions",
            "properties": PROPS,
        }
    ).exemptions
    assert ex.name == "ex1"
    assert ex.scope == f"{SUB}/resourceGroups/rg"
    assert ex.scope_level == ScopeLevel.RESOURCE_GROUP
    assert ex.properties == PROPS
    assert ex.source.format == "raw"


def test_properties_only_shape_has_unknown_scope() -> None:
    (ex,) = load({"properties": PROPS}).exemptions
    assert ex.name is None
    assert ex.scope is None
    assert ex.scope_level == ScopeLevel.UNKNOWN


def test_flattened_az_cli_shape() -> None:
    doc = {
        "id": EXEMPTION_ID,
        "name": "ex1",
        "resourceGroup": "rg",
        "systemData": {},
        "type": "Microsoft.Authorization/policyExemptions",
        **PROPS,
    }
    (ex,) = load(doc).exemptions
    # Envelope keys of the az output are not exemption properties.
    assert ex.properties == PROPS
    assert ex.source.locator.property("expiresOn") == Position(9, 3)


def test_array_of_both_shapes_and_a_scope_field() -> None:
    doc = [{"properties": PROPS, "name": "a", "scope": f"{SUB}"}, {**PROPS, "name": "b"}, {"unrelated": True}]
    result = load(doc)
    assert [e.name for e in result.exemptions] == ["a", "b"]
    assert result.exemptions[0].scope_level == ScopeLevel.SUBSCRIPTION


def test_rest_list_response_with_inherited_exemptions() -> None:
    doc = {
        "value": [
            {"id": f"{SUB}/providers/Microsoft.Authorization/policyExemptions/parent", "properties": PROPS},
            {"id": EXEMPTION_ID, "properties": PROPS},
        ],
        "nextLink": None,
    }
    result = load(doc)
    assert [(e.name, e.scope_level) for e in result.exemptions] == [
        ("parent", ScopeLevel.SUBSCRIPTION),
        ("ex1", ScopeLevel.RESOURCE_GROUP),
    ]


def test_property_names_are_case_insensitive_and_ids_lower_case() -> None:
    doc = {
        "ID": EXEMPTION_ID.lower(),
        "Properties": {
            "PolicyAssignmentId": PROPS["policyAssignmentId"].lower(),
            "ExemptionCategory": "Waiver",
        },
    }
    (ex,) = load(doc).exemptions
    assert ex.exemption_category == "Waiver"
    assert ex.scope_level == ScopeLevel.RESOURCE_GROUP
    assert ex.source.locator.property("exemptionCategory") == Position(5, 5)


def test_az_powershell_export_with_definitions_and_assignments() -> None:
    doc = [
        {
            "Name": "set",
            "ResourceType": "Microsoft.Authorization/policySetDefinitions",
            "Properties": {"policyDefinitions": []},
        },
        {
            "Name": "asg",
            "ResourceId": f"{SUB}/providers/Microsoft.Authorization/policyAssignments/asg",
            "ResourceType": "Microsoft.Authorization/policyAssignments",
            "Properties": {
                "PolicyDefinitionId": f"{SUB}/providers/Microsoft.Authorization/policySetDefinitions/set"
            },
        },
        {
            "Name": "ex1",
            "ResourceId": EXEMPTION_ID,
            "ResourceType": "Microsoft.Authorization/policyExemptions",
            "Properties": PROPS,
        },
    ]
    result = load(doc)
    assert [e.name for e in result.exemptions] == ["ex1"]
    (assignment,) = result.assignments
    assert assignment.policy_definition_id.endswith("policySetDefinitions/set")


@pytest.mark.parametrize(
    ("value", "placeholder"),
    [
        (f"{SUB}/providers/Microsoft.Authorization/policyAssignments/{{assignmentName}}", "{assignmentName}"),
        (
            "/providers/Microsoft.Management/managementGroups/{{MANAGEMENT_GROUP_ID}}/providers/x/y/z",
            "{{MANAGEMENT_GROUP_ID}}",
        ),
        (
            "/subscriptions/<<subscriptionId>>/providers/Microsoft.Authorization/policyAssignments/a",
            "<<subscriptionId>>",
        ),
    ],
)
def test_placeholders_make_values_unresolved(value: str, placeholder: str) -> None:
    (ex,) = load({"properties": {**PROPS, "policyAssignmentId": value}}).exemptions
    assert isinstance(ex.policy_assignment_id, Unresolved)
    assert ex.policy_assignment_id.reason == f"it holds the placeholder {placeholder}"


def test_placeholder_scope_keeps_its_level() -> None:
    (ex,) = load(
        {
            "id": "/subscriptions/{subId}/resourceGroups/ExemptRG/providers/Microsoft.Authorization/policyExemptions/x",
            "properties": PROPS,
        }
    ).exemptions
    assert isinstance(ex.scope, Unresolved)
    assert ex.scope_level == ScopeLevel.RESOURCE_GROUP


def test_text_that_only_looks_like_an_expression_stays_text() -> None:
    (ex,) = load({"properties": {**PROPS, "displayName": "[Test] CIS 1"}}).exemptions
    assert ex.display_name == "[Test] CIS 1"


def test_rest_example_uses_responses_and_not_the_partial_patch_body() -> None:
    doc = {
        "parameters": {
            "scope": "subscriptions/1/resourceGroups/rg",
            "policyExemptionName": "ex1",
            "parameters": {"properties": {"resourceSelectors": []}},
        },
        "responses": {
            "200": {
                "body": {
                    "id": "/subscriptions/1/resourceGroups/rg/providers/Microsoft.Authorization/policyExemptions/ex1",
                    "properties": PROPS,
                }
            }
        },
    }
    (ex,) = load(doc).exemptions
    assert ex.properties == PROPS
    assert not ex.partial_update


def test_rest_example_request_only_is_a_partial_update() -> None:
    doc = {
        "parameters": {
            "scope": "subscriptions/1/resourceGroups/rg",
            "policyExemptionName": "ex1",
            "parameters": {"properties": {"resourceSelectors": []}},
        },
        "responses": {"204": {}},
    }
    (ex,) = load(doc).exemptions
    assert ex.partial_update
    assert ex.scope == "/subscriptions/1/resourceGroups/rg"
    assert ex.name == "ex1"


def test_files_without_exemptions_are_skipped_silently() -> None:
    assert load({"name": "x", "properties": {"foo": 1}}) == LoadResult()
    assert load("this is not json and mentions nothing") == LoadResult()
    # A parameters file holds no exemption by itself.
    params = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
        "parameters": {"policyAssignmentId": {"value": "x"}},
    }
    assert load(params) == LoadResult()


def test_invalid_json_is_an_error_with_line_and_column() -> None:
    result = load('{\n  "properties": {\n    "exemptionCategory": "Waiver",\n  }\n  "x": 1\n}')
    assert result.exemptions == []
    (error,) = result.errors
    assert (error.file, error.line, error.column) == ("f.json", 5, 3)
    assert error.message.startswith("invalid JSON: Expecting ',' delimiter")


def test_jsonc_comments_and_trailing_commas_are_accepted() -> None:
    text = '// exemption\n{\n  "properties": {\n    /* why */ "exemptionCategory": "Waiver",\n    "policyAssignmentId": "x",\n  },\n}\n'
    (ex,) = load(text, "f.jsonc").exemptions
    assert ex.source.locator.property("exemptionCategory") == Position(4, 15)


def test_unreadable_and_undecodable_files(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.json"
    bad.write_bytes(b'{"properties": {"exemptionCategory": "Waiver"},\n "d": "caf\xe9"}')
    (error,) = load_file(bad, LoadOptions(today=TODAY), "latin1.json").errors
    assert (error.line, error.column, error.message) == (2, 11, "file is not valid UTF-8 text")
    missing = load_file(tmp_path / "nope.json", LoadOptions(today=TODAY), "nope.json")
    assert missing.errors[0].message.startswith("cannot read file")


def test_envelope_keys_match_case_insensitively_first_spelling_first() -> None:
    # An exact spelling wins; otherwise the first key that matches whatever its case.
    doc = {
        "Id": EXEMPTION_ID,
        "NAME": "first",
        "Name": "second",
        "SCOPE": SUB,
        "ApiVersion": "2022-07-01-preview",
        "properties": PROPS,
    }
    (ex,) = load(doc).exemptions
    assert (ex.name, ex.scope, ex.api_version) == ("first", SUB, "2022-07-01-preview")
    assert ex.scope_level == ScopeLevel.SUBSCRIPTION
    (ex,) = load({**doc, "name": "exact"}).exemptions
    assert ex.name == "exact"


@pytest.mark.parametrize(
    "placeholder", ["{subId}", "{{SUB}}", "<<sub>>", "<sub-id>", "${sub}", "#{sub}#", "__SUB__"]
)
def test_every_placeholder_form_is_found_in_ids_and_lists(placeholder: str) -> None:
    value = f"/subscriptions/{placeholder}/providers/Microsoft.Authorization/policyAssignments/a"
    (ex,) = load(
        {
            "properties": {
                **PROPS,
                "policyAssignmentId": value,
                "policyDefinitionReferenceIds": ["ok", placeholder],
            }
        }
    ).exemptions
    assert ex.policy_assignment_id == Unresolved(value, f"it holds the placeholder {placeholder}", value)
    ids = ex.properties["policyDefinitionReferenceIds"]
    assert ids[0] == "ok"
    assert ids[1] == Unresolved(placeholder, f"it holds the placeholder {placeholder}", placeholder)


def test_text_with_only_placeholder_characters_is_kept() -> None:
    for text in ("a < b", "{ not a token }", "x__y", "a_b_c"):
        (ex,) = load({"properties": {**PROPS, "expiresOn": text}}).exemptions
        assert ex.properties["expiresOn"] == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"ExemptionCategory": "Waiver"}', True),
        ('{"type": "MICROSOFT.AUTHORIZATION/POLICYEXEMPTIONS"}', True),
        ('resource "azurerm_subscription_policy_assignment" "a" {}', True),
        ('{"name": "package", "version": "1.0.0"}', False),
        ('{"name": "caf\\u00e9", "note": "café"}', False),
        # Non-ASCII text goes to the case-insensitive pattern: U+017F LONG S matches "s" there.
        ('{"type": "Microsoft.Authorization/policyA\\u017f\\u017fignments", "x": "é"}', False),
        ('{"type": "Microsoft.Authorization/policyA\u017f\u017fignments"}', True),
    ],
)
def test_files_that_mention_no_keyword_are_skipped(text: str, expected: bool) -> None:
    from exemptlint.loaders import KEYWORDS, mentions_any

    assert mentions_any(text, KEYWORDS) is expected
