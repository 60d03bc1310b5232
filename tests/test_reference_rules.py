"""EL012 (unknown-reference-id), EL013 (deprecated-initiative) and the recommendations the reports
name, on fixtures in tests/fixtures/reference for every source format; asserted through the JSON
report (rule id, level, line, column). "Today" is pinned."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from exemptlint import parallel
from exemptlint.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "reference"
TODAY = ["--today", "2026-11-24"]
MCSB = "1f3afdf9-d0c9-4c3d-847f-89da613e70a8"
SET = "/providers/Microsoft.Authorization/policySetDefinitions/"


def report(tmp_path: Path, *args: str) -> dict[str, Any]:
    out = tmp_path / "report.json"
    main(["check", *args, *TODAY, "--format", "json", "--output", str(out)])
    document: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return document


def located(document: dict[str, Any], *rule_ids: str) -> list[tuple[str, str, int, int]]:
    return [
        (f["ruleId"], f["level"], f["line"], f["column"]) for f in document["findings"] if f["ruleId"] in rule_ids
    ]


def messages(document: dict[str, Any], rule_id: str) -> list[str]:
    return [f["message"] for f in document["findings"] if f["ruleId"] == rule_id]


def recommendations(document: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e["recommendations"] for e in document["exemptions"]}


# --- EL012 ---------------------------------------------------------------------------------------


def test_el012_raw_json_fails(tmp_path: Path) -> None:
    document = report(tmp_path, str(FIXTURES / "raw" / "el012-fail.json"))
    # One finding per entry the initiative lacks; "WEBAPPENFORCEHTTPSMONITORING" differs only in
    # case from a member and passes (Azure ignores case).
    assert located(document, "EL012") == [
        ("EL012", "error", 15, 7),
        ("EL012", "error", 27, 7),
        ("EL012", "error", 41, 7),
        ("EL012", "error", 53, 7),
    ]
    spelled, other_version, definition, unlike = messages(document, "EL012")
    assert spelled == (
        "policyDefinitionReferenceId 'webAppEnforceHttpsMonitorEffect' is not a member of 'Microsoft cloud "
        "security benchmark' (by the catalog), which assignment '/subscriptions/00000000-0000-0000-0000-"
        "000000000001/providers/Microsoft.Authorization/policyAssignments/SecurityCenterBuiltIn' assigns; "
        "did you mean 'webAppEnforceHttpsMonitoring' (App Service apps should only be accessible over HTTPS) "
        "or 'functionAppEnforceHttpsMonitoring' (Function apps should only be accessible over HTTPS)?"
    )
    # A member of another version of the same standard: said so, with the reference id the same
    # policy definition has in the assigned version.
    assert other_version.endswith(
        "assigns; it is a member of 'ISO 27001:2013', an older version of the same benchmark or standard; the "
        "policy definition it names there (Only secure connections to your Azure Cache for Redis should be "
        "enabled) is '22bee202-a82f-4305-9a2a-6d7f44d4dedb' in this one"
    )
    assert definition.endswith(
        "it is the policy definition '/providers/Microsoft.Authorization/policyDefinitions/a4af4a39-4135-47fb-"
        "b175-47fbdf85311d' (App Service apps should only be accessible over HTTPS), which this initiative "
        "names 'webAppEnforceHttpsMonitoring': list that reference id"
    )
    assert unlike.endswith(
        f"no reference id of it is spelled like this one (`exemptlint catalog show {MCSB}` lists them)"
    )


def test_el012_raw_json_passes(tmp_path: Path) -> None:
    document = report(tmp_path, str(FIXTURES / "raw" / "el012-pass.json"))
    assert located(document, "EL012") == []
    # The initiative of team-baseline is not known: EL010 says so, EL012 cannot judge.
    assert located(document, "EL010") == [("EL010", "warning", 18, 7)]


def test_el012_arm_custom_set_defined_in_the_template(tmp_path: Path) -> None:
    document = report(tmp_path, str(FIXTURES / "arm" / "custom-set.json"))
    # storage-https-pass lists "STORAGEHTTPSONLY" (case differs): a member.
    assert located(document, "EL012") == [("EL012", "error", 58, 9)]
    (message,) = messages(document, "EL012")
    assert message.startswith(
        "policyDefinitionReferenceId 'storageHttpOnly' is not a member of 'Contoso storage baseline' (defined in "
        "tests/fixtures/reference/arm/custom-set.json)"
    )
    assert message.endswith(
        "did you mean 'storageHttpsOnly' (Secure transfer to storage accounts should be enabled)?"
    )


def test_el012_members_not_known_statically_are_not_judged(tmp_path: Path) -> None:
    # Members from a parameter without a value, and a member without a reference id (Azure
    # generates one): the initiative's reference ids are not known.
    document = report(tmp_path, str(FIXTURES / "arm" / "members-not-known.json"))
    assert located(document, "EL012") == []
    assert recommendations(document) == {"on-generated": None, "on-generated-ids": None}


def test_el012_bicep(tmp_path: Path) -> None:
    document = report(tmp_path, str(FIXTURES / "bicep" / "custom-set.bicep"))
    assert located(document, "EL012") == [("EL012", "error", 52, 5), ("EL012", "error", 80, 5)]
    custom, benchmark = messages(document, "EL012")
    assert custom.endswith("did you mean 'storageNetworkRules' (Storage accounts should restrict network access)?")
    # A reference id of the deprecated Azure Security Benchmark v2 on the current benchmark.
    assert benchmark.endswith(
        "it is a member of '[Deprecated]: Azure Security Benchmark v2', an older version of the same benchmark "
        "or standard; the policy definition it names there (Key vaults should have deletion protection "
        "enabled) is 'keyVaultsShouldHavePurgeProtectionEnabledMonitoringEffect' in this one"
    )


def test_el012_epac_set_definition_file_and_builtin(tmp_path: Path) -> None:
    document = report(tmp_path, str(FIXTURES / "epac"))
    found = [(f["ruleId"], f["level"], Path(f["file"]).name, f["line"], f["column"]) for f in document["findings"]]
    assert [f for f in found if f[0] == "EL012"] == [
        ("EL012", "error", "exemptions.jsonc", 21, 7),
        ("EL012", "error", "exemptions.jsonc", 31, 7),
    ]
    custom, builtin = messages(document, "EL012")
    assert "(defined in tests/fixtures/reference/epac/Definitions/policySetDefinitions/contoso-storage.jsonc)" in custom
    assert custom.endswith("did you mean 'storageRequireCostCentre'?")  # a custom definition: no display name
    assert "did you mean 'webAppEnforceHttpsMonitoring' (App Service apps should only be accessible over HTTPS)" in builtin


def test_el012_terraform(tmp_path: Path) -> None:
    document = report(tmp_path, str(FIXTURES / "terraform"))
    assert located(document, "EL012") == [("EL012", "error", 38, 3)]
    (message,) = messages(document, "EL012")
    assert "(defined in tests/fixtures/reference/terraform/main.tf)" in message
    assert message.endswith(
        "did you mean 'storageHttpsOnly' (Secure transfer to storage accounts should be enabled)? "
        "[azurerm_resource_group_policy_exemption.fail]"
    )


def _raw_set(name: str, members: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/s/providers/Microsoft.Authorization/policySetDefinitions/{name}",
        "name": name,
        "type": "Microsoft.Authorization/policySetDefinitions",
        "properties": {"displayName": name, "policyDefinitions": members},
    }


def _raw_exemption(name: str, set_name: str, references: list[str]) -> list[dict[str, Any]]:
    assignment = f"/subscriptions/s/providers/Microsoft.Authorization/policyAssignments/pr-{name}"
    return [
        {
            "id": assignment,
            "name": f"pr-{name}",
            "type": "Microsoft.Authorization/policyAssignments",
            "properties": {"policyDefinitionId": f"/subscriptions/s/providers/Microsoft.Authorization/policySetDefinitions/{set_name}"},
        },
        {
            "id": f"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Authorization/policyExemptions/{name}",
            "type": "Microsoft.Authorization/policyExemptions",
            "properties": {
                "policyAssignmentId": assignment,
                "policyDefinitionReferenceIds": references,
                "exemptionCategory": "Waiver",
                "expiresOn": "2027-01-31T00:00:00Z",
                "displayName": name,
                "description": "A reason long enough for EL006 to accept it.",
            },
        },
    ]


def test_el012_set_definitions_in_other_files_and_what_is_not_judged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    member = {"policyDefinitionReferenceId": "one", "policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/x"}
    other = {"policyDefinitionReferenceId": "two", "policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/y"}
    sets = [
        _raw_set("known", [member]),
        _raw_set("stub", []),  # Azure rejects a set without members: a stub, not judged
        _raw_set("twice", [member]),
    ]
    (tmp_path / "a-sets.json").write_text(json.dumps(sets), encoding="utf-8")
    # The same name defined again with other members: which one is assigned is not known.
    (tmp_path / "b-more-sets.json").write_text(json.dumps([_raw_set("twice", [other])]), encoding="utf-8")
    exemptions = [
        *_raw_exemption("on-known", "known", ["one", "three"]),
        *_raw_exemption("on-stub", "stub", ["three"]),
        *_raw_exemption("on-twice", "twice", ["three"]),
    ]
    (tmp_path / "c-exemptions.json").write_text(json.dumps(exemptions, indent=2), encoding="utf-8")
    document = report(tmp_path, ".", "--jobs", "1")
    assert [(Path(f["file"]).name, f["exemption"]) for f in document["findings"] if f["ruleId"] == "EL012"] == [
        ("c-exemptions.json", "on-known")
    ]
    # In worker processes the set definitions of other files are known as well.
    assert report(tmp_path, ".", "--jobs", "2")["findings"] == document["findings"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"type": "Microsoft.Authorization/policySetDefinitions", "name": "x"}', True),
        ("resource s 'Microsoft.Authorization/policySetDefinitions@2023-04-01' = {", True),
        ('{"properties": {"policyDefinitions": [{"policyDefinitionReferenceId": "a"}]}}', True),
        ('resource "azurerm_policy_set_definition" "x" {', True),
        # An exemption's reference ids and an id that names a set definition do not define one.
        ('{"policyDefinitionReferenceIds": ["a"]}', False),
        ('{"policyDefinitionId": "/providers/Microsoft.Authorization/policySetDefinitions/x"}', False),
    ],
)
def test_which_files_may_define_a_set_definition(text: str, expected: bool) -> None:
    assert parallel.may_define_set_definition(text) is expected


# --- EL013 ---------------------------------------------------------------------------------------


def test_el013_raw_json(tmp_path: Path) -> None:
    document = report(tmp_path, str(FIXTURES / "raw" / "el013-fail.json"))
    assert located(document, "EL013") == [
        ("EL013", "warning", 30, 7),
        ("EL013", "warning", 44, 7),
        ("EL013", "warning", 58, 7),
    ]
    deprecated, no_successor, superseded = messages(document, "EL013")
    assert deprecated.endswith(
        "assigns '[Deprecated]: Azure Security Benchmark v2', which is deprecated; its successor is 'Microsoft "
        f"cloud security benchmark' ({SET}{MCSB}): exempt the recommendations in an assignment of the successor"
    )
    assert no_successor.endswith(
        "assigns '[Deprecated]: DoD Impact Level 4', which is deprecated (the catalog names no successor)"
    )
    assert superseded.endswith(
        f"assigns 'ISO 27001:2013', which 'ISO/IEC 27001 2022' ({SET}5e4ff661-23bf-42fa-8e3a-309a55091cc7) "
        "supersedes, a newer version of the same benchmark or standard: exempt the recommendations in an "
        "assignment of it"
    )
    # The reference ids are right for each version: only EL013 speaks.
    assert located(document, "EL012") == []


def test_el013_raw_json_passes(tmp_path: Path) -> None:
    # The benchmark (a preview v2 exists, but a preview replaces nothing), ISO/IEC 27001 2022, and
    # the preview itself.
    document = report(tmp_path, str(FIXTURES / "raw" / "el013-pass.json"))
    assert located(document, "EL012", "EL013") == []


def test_el013_arm_bicep_epac(tmp_path: Path) -> None:
    assert located(report(tmp_path, str(FIXTURES / "arm" / "custom-set.json")), "EL013") == [
        ("EL013", "warning", 70, 9)
    ]
    assert located(report(tmp_path, str(FIXTURES / "bicep" / "custom-set.bicep")), "EL013") == [
        ("EL013", "warning", 65, 5)
    ]
    assert located(report(tmp_path, str(FIXTURES / "epac")), "EL013") == [("EL013", "warning", 40, 7)]
    # Nothing in the Terraform fixture assigns a built-in initiative.
    assert located(report(tmp_path, str(FIXTURES / "terraform")), "EL013") == []


def test_el013_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.json").write_text((FIXTURES / "raw" / "el013-fail.json").read_text(encoding="utf-8"))
    (tmp_path / ".exemptlint.yaml").write_text(
        "rules:\n  EL013:\n    superseded: false\n    allowed-initiatives: [bb522ac1-bc39-4957-b194-429bcd3bcb0b]\n",
        encoding="utf-8",
    )
    # Only the deprecated DoD Impact Level 4 is left: ASB v2 is allowed, ISO 27001:2013 only superseded.
    assert located(report(tmp_path, "x.json"), "EL013") == [("EL013", "warning", 44, 7)]


# --- recommendations -----------------------------------------------------------------------------


def test_json_report_names_the_recommendations(tmp_path: Path) -> None:
    document = report(tmp_path, str(FIXTURES / "epac"))
    found = recommendations(document)
    https = {
        "referenceId": "storageHttpsOnly",
        "policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/404c3081-a854-4457-ae30-26a93ef643f9",
        "displayName": "Secure transfer to storage accounts should be enabled",
        "inInitiative": True,
    }
    assert found["storage-https-pass"] == [https]
    assert found["storage-cost-centre-fail"] == [
        {"referenceId": "storageRequireCostCenter", "policyDefinitionId": None, "displayName": None, "inInitiative": False}
    ]
    # An EPAC exemption that names a definition exempts that one definition.
    assert found["one-definition"] == [{**https, "referenceId": None}]


def test_recommendations_need_el012(tmp_path: Path) -> None:
    document = report(tmp_path, str(FIXTURES / "epac"), "--ignore", "EL012")
    assert set(recommendations(document).values()) == {None}


def test_markdown_report_lists_the_recommendations(tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    main(["check", str(FIXTURES / "bicep" / "custom-set.bicep"), *TODAY, "--format", "markdown", "--output", str(out)])
    text = out.read_text(encoding="utf-8")
    assert "<details><summary>4 exempted recommendations</summary>" in text
    assert (
        "| tests/fixtures/reference/bicep/custom-set.bicep | storage-network-pass | storageNetworkRules | "
        "Storage accounts should restrict network access |"
    ) in text
    assert "| storage-network-fail | storageNetworkRule | not a member of the initiative (EL012) |" in text


def test_el007_names_the_whole_initiative(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    exemption = {
        "id": "/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Authorization/policyExemptions/all",
        "properties": {
            "policyAssignmentId": "/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Authorization/policyAssignments/SecurityCenterBuiltIn",
            "exemptionCategory": "Waiver",
            "expiresOn": "2027-01-31T00:00:00Z",
            "displayName": "Everything",
            "description": "A reason long enough for EL006 to accept it.",
        },
    }
    (tmp_path / "x.json").write_text(json.dumps(exemption, indent=2), encoding="utf-8")
    document = report(tmp_path, "x.json")
    assert located(document, "EL007") == [("EL007", "warning", 3, 3)]
    assert messages(document, "EL007") == [
        "exemption 'all' exempts every policy of 'Microsoft cloud security benchmark' for a whole subscription; "
        "list the policyDefinitionReferenceIds it is about"
    ]
