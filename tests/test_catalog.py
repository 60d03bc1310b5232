"""Tests for exemptlint.catalog and the generated data in exemptlint/data."""

from __future__ import annotations

import copy
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from exemptlint.catalog import (
    MCSB_INITIATIVE,
    REGULATORY_COMPLIANCE,
    Catalog,
    Initiative,
    classify_definition_id,
    classify_partial_definition_id,
    load_catalog,
    load_exemption_schema,
)

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SCRIPT = REPO / "scripts" / "generate_data.py"
DATA = REPO / "exemptlint" / "data"

SET_PREFIX = "/providers/Microsoft.Authorization/policySetDefinitions/"
NIST_800_53_R5 = "179d1daa-458f-4e47-8086-2a68d0d6c38f"
DOD_IL5 = "f9a961fa-3241-4b20-adc4-bbf8ad9d7197"
MCSB_V2_PREVIEW = "e3ec7e09-768c-4b64-882c-fcada3772047"
ASB_V2_DEPRECATED = "bb522ac1-bc39-4957-b194-429bcd3bcb0b"
GUEST_CONFIG_PREREQUISITES = "12794019-7a00-42cf-95c2-882eed337cc8"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_data", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


needs_shared = pytest.mark.skipif(
    not (SHARED / "reference").is_dir(),
    reason="../shared/reference is absent: the packaged data cannot be compared with its source",
)


# --- generated files ---------------------------------------------------------------------------


@needs_shared
def test_packaged_files_are_what_the_script_generates() -> None:
    generated: dict[str, str] = _load_script().generate(SHARED)
    assert sorted(generated) == sorted(
        [
            "initiatives.json",
            "initiative-reference-ids.json",
            "definition-membership.json",
            "exemption-schema.json",
        ]
    )
    for name, text in generated.items():
        packaged = (DATA / name).read_text(encoding="utf-8")
        assert packaged == text, f"{name} is out of date: run python scripts/generate_data.py"


@needs_shared
def test_check_mode_exits_zero_when_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--check", "--shared", str(SHARED)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@needs_shared
def test_check_mode_reports_differences(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    script = _load_script()
    monkeypatch.setattr(script, "DATA_DIR", tmp_path)
    assert script.main(["--shared", str(SHARED)]) == 0  # writes into tmp_path
    assert script.main(["--check", "--shared", str(SHARED)]) == 0
    schema = tmp_path / "exemption-schema.json"
    schema.write_text(schema.read_text(encoding="utf-8").replace('"maxLength": 128', '"maxLength": 256'))
    (tmp_path / "initiatives.json").unlink()
    capsys.readouterr()
    assert script.main(["--check", "--shared", str(SHARED)]) == 1
    err = capsys.readouterr().err
    assert "exemption-schema.json: differs (2 changed lines)" in err
    assert "initiatives.json: missing" in err


def test_missing_shared_directory_is_an_error(tmp_path: Path) -> None:
    assert _load_script().main(["--check", "--shared", str(tmp_path / "nope")]) == 2


def test_generated_files_are_deterministic_json() -> None:
    for name in (
        "initiatives.json",
        "initiative-reference-ids.json",
        "definition-membership.json",
        "exemption-schema.json",
    ):
        text = (DATA / name).read_text(encoding="utf-8")
        document = json.loads(text)
        assert text == json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def test_initiatives_file_has_header_and_no_reference_ids() -> None:
    document = json.loads((DATA / "initiatives.json").read_text(encoding="utf-8"))
    header = document["header"]
    assert header["source"].startswith("Azure/azure-policy@")
    assert header["generatedBy"] == "scripts/generate_data.py"
    assert len(document["initiatives"]) == header["count"] == 183
    for entry in document["initiatives"]:
        assert set(entry) == {"name", "displayName", "category", "version", "deprecated", "clouds", "honoured"}
    names = [entry["name"] for entry in document["initiatives"]]
    assert names == sorted(names)


# --- catalog -----------------------------------------------------------------------------------


def test_catalog_is_cached_and_has_a_source() -> None:
    catalog = load_catalog()
    assert catalog is load_catalog()
    assert len(catalog) == 183
    assert catalog.source == "Azure/azure-policy@f4a50bacae07ddb096943c597669bcae494a6e29"


@pytest.mark.parametrize(
    "definition_id",
    [
        SET_PREFIX + MCSB_INITIATIVE,
        (SET_PREFIX + MCSB_INITIATIVE).lower(),
        (SET_PREFIX + MCSB_INITIATIVE).upper(),
        (SET_PREFIX + MCSB_INITIATIVE).lstrip("/"),
        SET_PREFIX + MCSB_INITIATIVE + "/",
        MCSB_INITIATIVE,
        MCSB_INITIATIVE.upper(),
        f"  {SET_PREFIX}{MCSB_INITIATIVE}  ",
    ],
)
def test_lookup_by_full_id_bare_name_any_case(definition_id: str) -> None:
    initiative = load_catalog().lookup(definition_id)
    assert initiative is not None
    assert initiative.name == MCSB_INITIATIVE
    assert initiative.display_name == "Microsoft cloud security benchmark"
    assert initiative.id == SET_PREFIX + MCSB_INITIATIVE


@pytest.mark.parametrize(
    "definition_id",
    [
        "",
        "/",
        "00000000-0000-0000-0000-000000000000",
        f"/providers/Microsoft.Authorization/policyDefinitions/{MCSB_INITIATIVE}",
        f"/subscriptions/x/providers/Microsoft.Authorization/policySetDefinitions/{MCSB_INITIATIVE}",
        f"/providers/Microsoft.Management/managementGroups/mg/providers/Microsoft.Authorization/"
        f"policySetDefinitions/{MCSB_INITIATIVE}",
        f"{SET_PREFIX}{MCSB_INITIATIVE}/extra",
    ],
)
def test_lookup_returns_none_for_non_builtin(definition_id: str) -> None:
    assert load_catalog().lookup(definition_id) is None


def test_mcsb_is_eligible() -> None:
    mcsb = load_catalog().lookup(MCSB_INITIATIVE)
    assert mcsb is not None
    assert mcsb.category == "Security Center"
    assert mcsb.is_eligible
    assert not mcsb.deprecated


def test_regulatory_compliance_initiative_is_eligible() -> None:
    nist = load_catalog().lookup(SET_PREFIX + NIST_800_53_R5)
    assert nist is not None
    assert nist.display_name == "NIST SP 800-53 Rev. 5"
    assert nist.category == REGULATORY_COMPLIANCE
    assert nist.is_eligible
    assert nist.clouds == ("AzureCloud", "AzureGovernment")


def test_other_category_is_not_eligible() -> None:
    guest = load_catalog().lookup(GUEST_CONFIG_PREREQUISITES)
    assert guest is not None
    assert guest.category == "Guest Configuration"
    assert not guest.is_eligible


def test_mcsb_v2_preview_is_honoured_although_security_center() -> None:
    # The default benchmark in every version is honoured: the data says so, not the category.
    preview = load_catalog().lookup(MCSB_V2_PREVIEW)
    assert preview is not None
    assert preview.category == "Security Center"
    assert preview.display_name == "[Preview]: Microsoft cloud security benchmark v2"
    assert preview.is_eligible and preview.honoured


def test_honoured_initiatives_are_the_benchmarks_and_regulatory_compliance() -> None:
    catalog = load_catalog()
    honoured = [i for i in catalog if i.honoured]
    assert {i.name for i in honoured if i.category != REGULATORY_COMPLIANCE} == {
        MCSB_INITIATIVE,
        MCSB_V2_PREVIEW,
    }
    assert {i.name for i in catalog if i.category == REGULATORY_COMPLIANCE} <= {i.name for i in honoured}
    assert len(honoured) == 73
    # The other Security Center initiatives deploy Defender plans: not honoured.
    plans = catalog.lookup("f08c57cd-dbd6-49a4-a85e-9ae77ac959b0")
    assert plans is not None and plans.category == "Security Center" and not plans.honoured


def test_deprecated_flag() -> None:
    catalog = load_catalog()
    asb_v2 = catalog.lookup(ASB_V2_DEPRECATED)
    assert asb_v2 is not None
    assert asb_v2.deprecated
    assert asb_v2.is_eligible  # still a regulatory compliance initiative
    nist = catalog.lookup(NIST_800_53_R5)
    assert nist is not None and not nist.deprecated
    assert sum(1 for i in catalog if i.deprecated) == 37


def test_government_only_initiative() -> None:
    il5 = load_catalog().lookup(DOD_IL5)
    assert il5 is not None
    assert il5.clouds == ("AzureGovernment",)
    assert il5.is_eligible
    mcsb = load_catalog().lookup(MCSB_INITIATIVE)
    assert mcsb is not None and mcsb.clouds == ("AzureCloud", "AzureGovernment")


def test_catalog_iteration_and_membership() -> None:
    catalog = load_catalog()
    assert all(isinstance(i, Initiative) for i in catalog)
    assert MCSB_INITIATIVE in catalog
    assert "nope" not in catalog


def test_reference_ids_are_loaded_lazily() -> None:
    catalog = Catalog.from_document(json.loads((DATA / "initiatives.json").read_text(encoding="utf-8")))
    assert catalog._reference_ids is None
    ids = catalog.reference_ids(MCSB_INITIATIVE)
    assert catalog._reference_ids is not None
    assert isinstance(ids, frozenset)
    assert "certificatesValidityPeriodMonitoring" in ids
    assert catalog.reference_ids(SET_PREFIX.upper() + MCSB_INITIATIVE) == ids
    assert catalog.reference_ids("00000000-0000-0000-0000-000000000000") is None


def test_reference_ids_for_every_initiative() -> None:
    catalog = load_catalog()
    for initiative in catalog:
        ids = catalog.reference_ids(initiative.name)
        assert ids is not None and len(ids) > 0, initiative.name


def test_membership_of_builtin_policy_definitions() -> None:
    catalog = load_catalog()
    nsg_on_subnets = "/providers/Microsoft.Authorization/policyDefinitions/e71308d3-144b-4262-b144-efdc3cc90517"
    containing = catalog.containing(nsg_on_subnets)
    assert containing is not None
    names = {i.name for i in containing}
    assert {MCSB_INITIATIVE, MCSB_V2_PREVIEW, NIST_800_53_R5} <= names
    assert catalog.containing(nsg_on_subnets.upper()) == containing
    assert catalog.containing("e71308d3-144b-4262-b144-efdc3cc90517") == containing
    # A built-in definition in no initiative with a known member list.
    # "Configure your Storage account public access to be disallowed" (a modify policy).
    assert catalog.containing("13502221-8df0-4414-9937-de9c5c4e396b") == ()
    # Not a built-in definition the catalog knows, or not a built-in definition id at all.
    assert catalog.containing("00000000-0000-0000-0000-000000000000") is None
    assert catalog.containing("/subscriptions/s/providers/Microsoft.Authorization/policyDefinitions/x") is None
    assert catalog.containing("") is None
    mcsb = catalog.lookup(MCSB_INITIATIVE)
    il5 = catalog.lookup(DOD_IL5)
    assert mcsb is not None and catalog.members_known(mcsb)
    assert il5 is not None and not catalog.members_known(il5)  # Azure Government only: not collected


def test_membership_is_loaded_lazily() -> None:
    catalog = Catalog.from_document(json.loads((DATA / "initiatives.json").read_text(encoding="utf-8")))
    assert catalog._membership is None
    assert catalog.containing("e71308d3-144b-4262-b144-efdc3cc90517")
    assert catalog._membership is not None


# --- classify_definition_id --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("definition_id", "expected"),
    [
        (SET_PREFIX + MCSB_INITIATIVE, "builtin-set"),
        ("providers/microsoft.authorization/policysetdefinitions/x", "builtin-set"),
        ("/PROVIDERS/MICROSOFT.AUTHORIZATION/POLICYSETDEFINITIONS/X/", "builtin-set"),
        (
            "/providers/Microsoft.Authorization/policyDefinitions/e56962a6-4747-49cd-b67b-bf8b01975c4c",
            "builtin-policy",
        ),
        ("/subscriptions/sub/providers/Microsoft.Authorization/policySetDefinitions/mine", "custom-set"),
        (
            "/providers/Microsoft.Management/managementGroups/mg/providers/Microsoft.Authorization/"
            "policySetDefinitions/mine",
            "custom-set",
        ),
        ("subscriptions/sub/providers/microsoft.authorization/policydefinitions/mine", "custom-policy"),
        (
            "/providers/microsoft.management/managementgroups/{{MANAGEMENT_GROUP_ID}}/providers/"
            "Microsoft.Authorization/policyDefinitions/mine",
            "custom-policy",
        ),
        (
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Authorization/policySetDefinitions/x",
            "unknown",
        ),
        ("/providers/Microsoft.Authorization/policyAssignments/x", "unknown"),
        ("/providers/Microsoft.Authorization/policySetDefinitions/", "unknown"),
        (MCSB_INITIATIVE, "unknown"),
        ("", "unknown"),
    ],
)
def test_classify_definition_id(definition_id: str, expected: str) -> None:
    assert classify_definition_id(definition_id) == expected


@pytest.mark.parametrize(
    ("partial", "expected"),
    [
        (
            "/providers/Microsoft.Management/managementGroups/{managementGroup().name}/providers/"
            "Microsoft.Authorization/policySetDefinitions/{parameters('setName')}",
            "custom-set",
        ),
        ("/subscriptions/{subscription().subscriptionId}/providers/Microsoft.Authorization/policySetDefinitions/x", "custom-set"),
        ("/subscriptions/{concat('a', '/b')}/providers/microsoft.authorization/policydefinitions/x", "custom-policy"),
        ("subscriptions/{subId}/providers/Microsoft.Authorization/policySetDefinitions/x", "custom-set"),
        # A tenant-level id: the catalog decides, by name.
        ("/providers/Microsoft.Authorization/policySetDefinitions/{parameters('setName')}", "unknown"),
        # The scope is unknown: it may be the tenant.
        ("{parameters('scope')}/providers/Microsoft.Authorization/policySetDefinitions/x", "unknown"),
        ("/subscriptions/{sub}{x}/providers/Microsoft.Authorization/policySetDefinitions/{a}-{b}", "custom-set"),
        ("/subscriptions/{sub}/providers/Microsoft.Authorization/policyAssignments/x", "unknown"),
        ("/subscriptions/{sub}/providers/Microsoft.Authorization/policySetDefinitions/x/versions/1", "unknown"),
        ("/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Authorization/policySetDefinitions/x", "unknown"),
        ("/subscriptions/{format('{0}', x)}/providers/Microsoft.Authorization/policySetDefinitions/x", "unknown"),
        ("", "unknown"),
    ],
)
def test_classify_partial_definition_id(partial: str, expected: str) -> None:
    assert classify_partial_definition_id(partial) == expected


# --- exemption schema --------------------------------------------------------------------------


VALID_ENVELOPE: dict[str, Any] = {
    "name": "pr-mcsb-storage-waiver",
    "properties": {
        "policyAssignmentId": "/subscriptions/s/providers/Microsoft.Authorization/policyAssignments/pr-mcsb",
        "policyDefinitionReferenceIds": ["storageAccountsShouldRestrictNetworkAccess"],
        "exemptionCategory": "Waiver",
        "expiresOn": "2026-06-30T00:00:00Z",
        "displayName": "Storage waiver",
        "description": "Approved by the security team.",
        "metadata": {"ticket": "SEC-1"},
        "assignmentScopeValidation": "Default",
        "resourceSelectors": [
            {"name": "westeurope", "selectors": [{"kind": "resourceLocation", "in": ["westeurope"]}]}
        ],
        "exemptionManagementMode": "UserSelfServe",
    },
}


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    return Draft202012Validator(load_exemption_schema())


def _with(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    envelope = copy.deepcopy(VALID_ENVELOPE)
    target = envelope
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return envelope


def _errors(validator: Draft202012Validator, instance: Any) -> list[tuple[list[Any], str]]:
    return [(list(e.path), str(e.validator)) for e in validator.iter_errors(instance)]


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = load_exemption_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "rest-specs/2024-12-01-preview" in schema["$comment"]
    assert "arm-schemas/2025-12-01-preview" in schema["$comment"]
    assert load_exemption_schema() is schema


def test_schema_accepts_valid_envelopes(validator: Draft202012Validator) -> None:
    assert _errors(validator, VALID_ENVELOPE) == []
    minimal = {"properties": {"policyAssignmentId": "/x", "exemptionCategory": "Mitigated"}}
    assert _errors(validator, minimal) == []
    assert _errors(validator, _with(("name",), "a" * 64)) == []
    assert _errors(validator, _with(("properties", "displayName"), "d" * 128)) == []
    assert _errors(validator, _with(("properties", "description"), "d" * 512)) == []
    for kind in ("resourceType", "resourceWithoutLocation", "policyDefinitionReferenceId", "userPrincipalId"):
        selectors = [{"name": "s", "selectors": [{"kind": kind, "notIn": ["x"]}]}]
        assert _errors(validator, _with(("properties", "resourceSelectors"), selectors)) == []


def test_schema_rejects_missing_policy_assignment_id(validator: Draft202012Validator) -> None:
    envelope = copy.deepcopy(VALID_ENVELOPE)
    del envelope["properties"]["policyAssignmentId"]
    assert _errors(validator, envelope) == [(["properties"], "required")]


def test_schema_rejects_singular_reference_id(validator: Draft202012Validator) -> None:
    envelope = _with(
        ("properties", "policyDefinitionReferenceId"), "storageAccountsShouldRestrictNetworkAccess"
    )
    assert _errors(validator, envelope) == [(["properties"], "additionalProperties")]


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("properties", "displayName"), "d" * 129, (["properties", "displayName"], "maxLength")),
        (("properties", "description"), "d" * 513, (["properties", "description"], "maxLength")),
        (("name",), "a/b", (["name"], "pattern")),
        (("name",), "trailing-space ", (["name"], "pattern")),
        (("name",), "trailing-dot.", (["name"], "pattern")),
        (("name",), "a" * 65, (["name"], "maxLength")),
        (("name",), "", (["name"], "pattern")),
        (
            ("properties", "assignmentScopeValidation"),
            "Sometimes",
            (["properties", "assignmentScopeValidation"], "enum"),
        ),
        (("properties", "exemptionCategory"), "Exempt", (["properties", "exemptionCategory"], "enum")),
        (
            ("properties", "policyDefinitionReferenceIds"),
            "one",
            (["properties", "policyDefinitionReferenceIds"], "type"),
        ),
        (("properties", "metadata"), "text", (["properties", "metadata"], "type")),
        (
            ("properties", "resourceSelectors"),
            [{"name": "s", "selectors": [{"kind": "resourceColour", "in": ["red"]}]}],
            (["properties", "resourceSelectors", 0, "selectors", 0, "kind"], "enum"),
        ),
        (
            ("properties", "resourceSelectors"),
            [{"name": "s", "selectors": [{"kind": "resourceType", "in": ["x"], "exclude": ["y"]}]}],
            (["properties", "resourceSelectors", 0, "selectors", 0], "additionalProperties"),
        ),
    ],
)
def test_schema_rejects(
    validator: Draft202012Validator, path: tuple[str, ...], value: Any, expected: tuple[list[Any], str]
) -> None:
    assert _errors(validator, _with(path, value)) == [expected]


@pytest.mark.parametrize("character", list("<>*%&:\\?.+/"))
def test_schema_rejects_each_forbidden_name_character(
    validator: Draft202012Validator, character: str
) -> None:
    assert _errors(validator, _with(("name",), f"a{character}b")) == [(["name"], "pattern")]


def test_every_schema_constraint_is_described() -> None:
    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if any(k in node for k in ("type", "enum", "maxLength", "pattern")) and "$ref" not in node:
                assert isinstance(node.get("description"), str) or where.endswith("/items"), where
            for key, child in node.items():
                walk(child, f"{where}/{key}")
        elif isinstance(node, list):
            for index, child in enumerate(node):
                walk(child, f"{where}/{index}")

    walk(load_exemption_schema(), "#")
