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
    singles = {"initiatives.json", "definition-membership.json", "exemption-schema.json"}
    assert singles <= set(generated)
    # One file of members per initiative, named by the initiative (lower case); display names in
    # one file per first character of the definitions' names.
    per_initiative = {name for name in generated if name.startswith("initiatives/")}
    shards = {name for name in generated if name.startswith("policy-definitions/")}
    assert per_initiative | shards | singles == set(generated)
    assert len(per_initiative) == 183
    assert f"initiatives/{MCSB_INITIATIVE}.json" in per_initiative
    assert shards == {f"policy-definitions/{c}.json" for c in "0123456789abcdef"}
    for name, text in generated.items():
        packaged = (DATA / name).read_text(encoding="utf-8")
        assert packaged == text, f"{name} is out of date: run python scripts/generate_data.py"
    # And nothing else is packaged in the generated folders.
    assert {f"initiatives/{p.name}" for p in (DATA / "initiatives").iterdir()} == per_initiative
    assert {f"policy-definitions/{p.name}" for p in (DATA / "policy-definitions").iterdir()} == shards


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
    (tmp_path / "initiatives" / "gone.json").write_text("{}", encoding="utf-8")
    capsys.readouterr()
    assert script.main(["--check", "--shared", str(SHARED)]) == 1
    err = capsys.readouterr().err
    assert "exemption-schema.json: differs (2 changed lines)" in err
    assert "initiatives.json: missing" in err
    assert "initiatives/gone.json: not generated any more" in err
    # Writing brings the folder back to what the reference gives.
    assert script.main(["--shared", str(SHARED)]) == 0
    assert not (tmp_path / "initiatives" / "gone.json").exists()
    assert script.main(["--check", "--shared", str(SHARED)]) == 0


@needs_shared
def test_a_date_column_in_sources_reaches_the_catalog_header(tmp_path: Path) -> None:
    """SOURCES.tsv records commits; a "date" column, when it gives the commit's date, is carried into
    the packaged catalog (``catalog list`` and ``--version`` show it: test_catalog_cli)."""
    reference = tmp_path / "shared" / "reference"
    reference.mkdir(parents=True)
    for entry in (SHARED / "reference").iterdir():
        if entry.name != "SOURCES.tsv":
            (reference / entry.name).symlink_to(entry)
    lines = (SHARED / "reference" / "SOURCES.tsv").read_text(encoding="utf-8").splitlines()
    rows = [line.split("\t") for line in lines]
    if "date" not in rows[0]:
        rows = [[*rows[0], "date"]] + [[*row, ""] for row in rows[1:]]
    at = rows[0].index("date")
    for row in rows[1:]:
        if row[1] == "Azure/azure-policy":
            row[at] = "2026-10-30"
    (reference / "SOURCES.tsv").write_text("\n".join("\t".join(row) for row in rows) + "\n", encoding="utf-8")
    generated = _load_script().generate(tmp_path / "shared")
    header = json.loads(generated["initiatives.json"])["header"]
    (commit,) = [row[3] for row in rows[1:] if row[0] == "azure-policy/initiatives.json"]
    assert header["sourceCommit"] == commit
    assert header["sourceDate"] == "2026-10-30"


def test_missing_shared_directory_is_an_error(tmp_path: Path) -> None:
    assert _load_script().main(["--check", "--shared", str(tmp_path / "nope")]) == 2


def test_generated_files_are_deterministic_json() -> None:
    names = ["initiatives.json", "definition-membership.json", "exemption-schema.json"]
    for folder in ("initiatives", "policy-definitions"):
        names += [f"{folder}/{p.name}" for p in sorted((DATA / folder).iterdir())]
    for name in names:
        text = (DATA / name).read_text(encoding="utf-8")
        document = json.loads(text)
        assert text == json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def test_initiatives_file_has_header_and_no_reference_ids() -> None:
    document = json.loads((DATA / "initiatives.json").read_text(encoding="utf-8"))
    header = document["header"]
    assert header["source"].startswith("Azure/azure-policy@")
    assert header["generatedBy"] == "scripts/generate_data.py"
    # The source commit from SOURCES.tsv, and its date when SOURCES.tsv has a date column (it has
    # none so far: none is claimed).
    assert header["sourceRepository"] == "Azure/azure-policy"
    assert header["sourceCommit"] == "f4a50bacae07ddb096943c597669bcae494a6e29"
    if (SHARED / "reference" / "SOURCES.tsv").is_file():
        columns = (SHARED / "reference" / "SOURCES.tsv").read_text(encoding="utf-8").split("\n", 1)[0].split("\t")
        if "date" not in columns:
            assert header["sourceDate"] is None
    assert len(document["initiatives"]) == header["count"] == 183
    for entry in document["initiatives"]:
        assert set(entry) == {
            "name",
            "displayName",
            "category",
            "version",
            "deprecated",
            "clouds",
            "honoured",
            "supersededBy",
        }
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


def test_reference_ids_are_loaded_lazily_one_initiative_at_a_time() -> None:
    catalog = Catalog.from_document(json.loads((DATA / "initiatives.json").read_text(encoding="utf-8")))
    assert catalog._members == {} and catalog._display_names == {}
    ids = catalog.reference_ids(MCSB_INITIATIVE)
    assert list(catalog._members) == [MCSB_INITIATIVE]
    assert catalog._display_names == {}
    # A display name reads the one small file that holds it.
    assert catalog.display_name("a4af4a39-4135-47fb-b175-47fbdf85311d") is not None
    assert list(catalog._display_names) == ["a"]
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
        "policyDefinitionReferenceIds": ["disableUnrestrictedNetworkToStorageAccountMonitoring"],
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
        ("properties", "policyDefinitionReferenceId"), "disableUnrestrictedNetworkToStorageAccountMonitoring"
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


# --- versions of a benchmark or standard (EL012's other versions, EL013's successors) --------------

MCSB_V1 = MCSB_INITIATIVE
ASB_V1 = "42a694ed-f65e-42b2-aa9e-8052e9740a92"
ISO_27001_2013 = "89c6cddc-1c73-4ac1-b19c-54d1a15a42f2"
ISO_27001_2022 = "5e4ff661-23bf-42fa-8e3a-309a55091cc7"
NIST_800_53_R4 = "cf25b9c1-bd23-4eb6-bd2c-f4f3ac644a5f"
NIST_800_53_R511 = "60205a79-6280-4e20-a147-e2011e09dc78"
NIST_800_171_R2 = "03055927-78bd-4236-86c0-f36125a10dc9"
NIST_800_171_R3 = "38916c43-6876-4971-a4b1-806aa7e55ccc"
PCI_321 = "496eeda9-8f2f-4d5e-8dfd-204f0a92ed41"
PCI_4 = "c676748e-3af9-4e22-bc28-50feed564afb"
PCI_401 = "a06d5deb-24aa-4991-9d58-fa7563154e31"
SWIFT_2020 = "3e0c67fc-8c7c-406c-89bd-6b6bdc986a22"
SWIFT_2021 = "abf84fac-f817-a70c-14b5-47eec767458a"
SWIFT_2022 = "7bc7cd6c-4114-ff31-3cac-59be3157596d"
SWIFT_2024 = "7499005e-df5a-45d9-810f-041cf346678c"
CIS_110 = "1a5bb27d-173f-493e-9568-eb56638dde4d"
CIS_130 = "612b5213-9160-4969-8578-1518bd2a000c"
CIS_140 = "c3f5c4d9-9a1d-4a99-85c0-7f93e384d5c5"
CIS_200 = "06f19060-9e68-4070-92ca-f15cc126059e"
CIS_210 = "fe7782e4-6ff3-4e39-8d8a-64b6f7b82c85"
CIS_300 = "470a962c-86a0-433b-803a-3c176b5ce79c"
NZ_ISM_RESTRICTED = "d1a462af-7e6d-4901-98ac-61570b4ed22a"
NZ_ISM_RESTRICTED_35 = "93d2179e-3068-c82f-2428-d614ae836a04"
NZISM_37 = "4476df0a-18ab-4bfe-b6ad-cccae1cf320f"
NZ_ISM_38 = "4f5b1359-4f8e-4d7c-9733-ea47fcde891e"
NL_BIO = "6ce73208-883e-490f-a2ac-44aac3b3687f"
NL_BIO_V2 = "d8b2ffbe-c6a8-4622-965d-4ade11d1d2ee"
CANADA_PBMM = "4c4a5f27-de81-430b-b4e5-9cbd50595a87"
CANADA_PBMM_2020 = "f8f5293d-df94-484a-a3e7-6b422a999d91"
DOD_IL4 = "8d792a84-723c-4d92-a3c3-e4ed16a2d133"

# Every successor the generator derives from the reference, checked by hand: a change in the
# reference or the heuristic that adds, drops or moves one fails here and is reviewed.
KNOWN_SUCCESSORS = {
    # The Azure Security Benchmark was renamed the Microsoft cloud security benchmark.
    ASB_V1: MCSB_V1,
    ASB_V2_DEPRECATED: MCSB_V1,
    ISO_27001_2013: ISO_27001_2022,
    NIST_800_53_R4: NIST_800_53_R511,
    NIST_800_53_R5: NIST_800_53_R511,
    NIST_800_171_R2: NIST_800_171_R3,
    PCI_321: PCI_401,
    PCI_4: PCI_401,
    SWIFT_2020: SWIFT_2024,
    SWIFT_2021: SWIFT_2024,
    SWIFT_2022: SWIFT_2024,
    CIS_110: CIS_300,
    CIS_130: CIS_300,
    CIS_140: CIS_300,
    CIS_200: CIS_300,
    CIS_210: CIS_300,
    # "New Zealand ISM" is NZISM v3.8 (its description says so; VERSION_OVERRIDES).
    NZ_ISM_RESTRICTED: NZ_ISM_38,
    NZ_ISM_RESTRICTED_35: NZ_ISM_38,
    NZISM_37: NZ_ISM_38,
    NL_BIO: NL_BIO_V2,
    CANADA_PBMM: CANADA_PBMM_2020,
    # Monitoring: the deprecated copy of an initiative and the current one of the same name.
    "59e9c3eb-d8df-473b-8059-23fd38ddd0f0": "2b00397d-c309-49c4-aa5a-f0b2c5bc6321",
    "9dffaf29-5905-4145-883c-957eb442c226": "924bfe3a-762f-40e7-86dd-5c8b95eb09e6",
    "1f9b0c83-b4fa-4585-a686-72b74aeabcfd": "f5bf694c-cca7-4033-b883-3a23327d5485",
}


def test_successors_derived_from_the_reference() -> None:
    catalog = load_catalog()
    derived = {i.name: i.superseded_by for i in catalog if i.superseded_by}
    assert derived == KNOWN_SUCCESSORS
    asb_v2 = catalog.lookup(ASB_V2_DEPRECATED)
    assert asb_v2 is not None
    successor = catalog.successor(asb_v2)
    assert successor is not None and successor.display_name == "Microsoft cloud security benchmark"


@pytest.mark.parametrize(
    "name",
    [
        MCSB_V1,  # a preview v2 exists; a preview replaces nothing
        MCSB_V2_PREVIEW,
        DOD_IL4,  # deprecated, and nothing of its family is current
        ISO_27001_2022,
        CIS_300,
        "4054785f-702b-4a98-9215-009cbd58b141",  # SOC 2 Type 2 and SOC 2023: not one family by name
        "4e50fd13-098b-3206-61d6-d1d78205cb45",  # CMMC 2.0 Level 2 and CMMC Level 2 v1.9.0: neither
    ],
)
def test_initiatives_with_no_successor(name: str) -> None:
    initiative = load_catalog().lookup(name)
    assert initiative is not None and initiative.superseded_by is None


def test_families_oldest_first() -> None:
    catalog = load_catalog()
    mcsb = catalog.lookup(MCSB_V1)
    assert mcsb is not None
    assert [i.name for i in catalog.family(mcsb)] == [ASB_V1, ASB_V2_DEPRECATED, MCSB_V1, MCSB_V2_PREVIEW]
    nist = catalog.lookup(NIST_800_53_R5)
    assert nist is not None
    assert [i.name for i in catalog.family(nist)] == [NIST_800_53_R4, NIST_800_53_R5, NIST_800_53_R511]
    # An initiative with no other version has no family.
    guest = catalog.lookup(GUEST_CONFIG_PREREQUISITES)
    assert guest is not None and catalog.family(guest) == ()


@pytest.mark.parametrize(
    ("display_name", "key", "version"),
    [
        ("CIS Microsoft Azure Foundations Benchmark v1.4.0", "cis microsoft azure foundations benchmark", (1, 4, 0)),
        ("[Deprecated]: Azure Security Benchmark v2", "azure security benchmark", (2,)),
        ("[Preview]: Microsoft cloud security benchmark v2", "microsoft cloud security benchmark", (2,)),
        ("NIST SP 800-53 Rev. 4", "nist sp 800 53", (4,)),
        ("NIST SP 800-53 R5.1.1", "nist sp 800 53", (5, 1, 1)),
        ("ISO 27001:2013", "iso 27001", (2013,)),
        ("ISO/IEC 27001 2022", "iso iec 27001", (2022,)),
        ("PCI v3.2.1:2018", "pci", (3, 2, 1)),
        ("Canada Federal PBMM 3-1-2020", "canada federal pbmm", (2020,)),
        ("NL BIO Cloud Theme V2", "nl bio cloud theme", (2,)),
        # No version token: older than any versioned member of its family.
        ("NL BIO Cloud Theme", "nl bio cloud theme", ()),
        # Numbers that are part of the name are not versions.
        ("CMMC 2.0 Level 2", "cmmc 2 0 level 2", ()),
        ("EU 2022/2555 (NIS2) 2022", "eu 2022 2555 nis2", (2022,)),
        ("IRS1075 September 2016", "irs1075 september", (2016,)),
    ],
)
def test_family_key_heuristic(display_name: str, key: str, version: tuple[int, ...]) -> None:
    assert _load_script().family_key(REGULATORY_COMPLIANCE, display_name) == ((REGULATORY_COMPLIANCE, key), version)


def test_stale_family_table_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    script = _load_script()
    monkeypatch.setitem(script.FAMILY_ALIASES, (REGULATORY_COMPLIANCE, "no such family"), (REGULATORY_COMPLIANCE, "x"))
    with pytest.raises(script.GenerationError, match="no such family"):
        script.build_families([])


def test_default_honoured_is_the_rule_the_packaged_data_follows() -> None:
    # A catalog file's entry without "honoured" gets it by the same rule as the packaged data.
    from exemptlint.catalog import default_honoured

    for initiative in load_catalog():
        assert default_honoured(initiative.category, initiative.display_name) == initiative.honoured, initiative.name


@needs_shared
def test_every_builtin_definition_has_its_display_name() -> None:
    import csv

    catalog = load_catalog()
    with (SHARED / "reference" / "azure-policy" / "policy-definitions.tsv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert len(rows) == 3594
    for row in rows:
        assert catalog.display_name(row["id"]) == row["displayName"], row["name"]


def test_members_and_display_names() -> None:
    catalog = load_catalog()
    members = catalog.members(MCSB_INITIATIVE)
    assert members is not None and members.definitions_known
    member = members.get("WEBAPPENFORCEHTTPSMONITORING")
    assert member is not None and member.reference_id == "webAppEnforceHttpsMonitoring"
    definition = "/providers/Microsoft.Authorization/policyDefinitions/a4af4a39-4135-47fb-b175-47fbdf85311d"
    assert member.definition_id == definition
    assert catalog.display_name(definition) == "App Service apps should only be accessible over HTTPS"
    assert catalog.display_name(definition.upper()) == catalog.display_name("a4af4a39-4135-47fb-b175-47fbdf85311d")
    assert catalog.display_name("/subscriptions/s/providers/Microsoft.Authorization/policyDefinitions/x") is None
    assert [m.reference_id for m in members.with_definition(definition.upper())] == ["webAppEnforceHttpsMonitoring"]
    assert [m.reference_id for m in members.closest("webAppEnforceHttpsMonitorEffect", 1)] == [
        "webAppEnforceHttpsMonitoring"
    ]
    # Members of an initiative without a definition file in the reference: reference ids only.
    il5 = catalog.members(DOD_IL5)
    assert il5 is not None and len(il5) > 0 and not il5.definitions_known
    assert catalog.members("00000000-0000-0000-0000-000000000000") is None


def test_reference_ids_of_both_clouds_are_merged_ignoring_case() -> None:
    # The Azure Government copy of the benchmark spells a reference id of the public copy in
    # another case: the packaged file keeps one of them (the public spelling).
    ids = json.loads((DATA / "initiatives" / f"{MCSB_INITIATIVE}.json").read_text(encoding="utf-8"))
    keys = list(ids["policyDefinitions"])
    assert len({key.lower() for key in keys}) == len(keys) == 224
