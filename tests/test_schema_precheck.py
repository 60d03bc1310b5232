"""The fast pre-check never calls an invalid exemption valid (jsonschema is the judge)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from exemptlint.catalog import load_exemption_schema
from exemptlint.schema_precheck import certainly_valid

SCHEMA = load_exemption_schema()
VALIDATOR = Draft202012Validator(SCHEMA)

json_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=140)
)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
selector = st.fixed_dictionaries(
    {"kind": st.sampled_from(["resourceLocation", "resourceType", "policyDefinitionReferenceId", "bogus"])},
    optional={"in": st.lists(st.text(max_size=5), max_size=2), "notIn": json_value},
)
property_values: dict[str, Any] = {
    "policyAssignmentId": st.one_of(st.text(max_size=20), json_value),
    "policyDefinitionReferenceIds": st.one_of(st.lists(st.text(max_size=10), max_size=3), json_value),
    "exemptionCategory": st.sampled_from(["Waiver", "Mitigated", "waiver", "", 3]),
    "expiresOn": st.one_of(st.text(max_size=25), json_value),
    "displayName": st.text(min_size=120, max_size=135) | st.text(max_size=10) | json_value,
    "description": st.text(min_size=505, max_size=520) | st.text(max_size=10),
    "metadata": json_value,
    "assignmentScopeValidation": st.sampled_from(["Default", "DoNotValidate", "default", None]),
    "resourceSelectors": st.lists(
        st.fixed_dictionaries(
            {"name": st.text(max_size=5)}, optional={"selectors": st.lists(selector, max_size=2)}
        ),
        max_size=2,
    )
    | json_value,
    "exemptionManagementMode": json_value,
    "policyDefinitionReferenceId": st.text(max_size=5),
}
properties = st.fixed_dictionaries({}, optional=property_values)
instances = st.fixed_dictionaries(
    {"properties": properties},
    optional={"name": st.text(max_size=70) | st.sampled_from(["ok-name", "bad/name", "trailing ", "a.b"])},
)


@settings(max_examples=1500, deadline=None)
@given(instances)
def test_precheck_agrees_with_jsonschema(instance: dict[str, Any]) -> None:
    if certainly_valid(instance, SCHEMA):
        assert VALIDATOR.is_valid(instance), list(VALIDATOR.iter_errors(instance))


def test_precheck_accepts_a_valid_exemption_and_rejects_an_unknown_keyword() -> None:
    valid = {
        "name": "app-tls",
        "properties": {
            "policyAssignmentId": "/x",
            "exemptionCategory": "Waiver",
            "resourceSelectors": [
                {"name": "r", "selectors": [{"kind": "resourceLocation", "in": ["westeurope"]}]}
            ],
        },
    }
    assert certainly_valid(valid, SCHEMA) and VALIDATOR.is_valid(valid)
    assert not certainly_valid("x", {"minLength": 3})
