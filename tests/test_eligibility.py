"""EL001/EL010 precision (issue 12, classes 3, 5 and 6; issue 13, item 9), judged through the JSON report.

* A definition id under a subscription or a management group is a custom initiative whatever its
  unknown parts (ARM and Bicep resource-id functions, symbolic references, placeholders): EL001,
  not EL010. Only a tenant-level id needs the catalog.
* An EPAC exemption naming a policy definition is judged by the initiatives that contain it.
* Which initiatives Defender for Cloud honours is data (the benchmark in every version, every
  regulatory compliance initiative); the config adds and removes initiatives.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from exemptlint.cli import main
from tests.json_report import check_json, located, messages

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path("tests") / "fixtures" / "eligibility"
TODAY = ["--today", "2026-11-24"]
MCSB = "Microsoft cloud security benchmark"
MCSB_V2 = "[Preview]: Microsoft cloud security benchmark v2"
MCSB_V2_ID = "e3ec7e09-768c-4b64-882c-fcada3772047"


def report(tmp_path: Path, *paths: str, config: str | None = None) -> dict[str, Any]:
    """The JSON report of ``exemptlint check`` on fixture paths (relative to FIXTURES)."""
    return check_json(tmp_path, *(FIXTURES / p for p in paths), config=config, today=TODAY[1])


def honoured(document: dict[str, Any]) -> dict[str, list[str] | None]:
    return {e["name"]: e["honouredInitiatives"] for e in document["exemptions"]}


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


# --- 12.3 / 13.9: custom initiatives by construction ----------------------------------------------


def test_arm_resource_id_functions_and_declared_set_are_custom(tmp_path: Path) -> None:
    document = report(tmp_path, "arm/mg-custom-sets.json")
    # extensionResourceId(managementGroup().id, ...) with an unknown name, managementGroupResourceId
    # (named like the benchmark's copy), and resourceId() of a set the template declares.
    assert located(document, "EL001", "EL010") == [
        ("mg-custom-sets.json", "EL001", "error", 48, 9),
        ("mg-custom-sets.json", "EL001", "error", 62, 9),
        ("mg-custom-sets.json", "EL001", "error", 76, 9),
    ]
    first, second, third = messages(document, "EL001")
    assert "assigns the custom initiative '/providers/Microsoft.Management/managementGroups/" in first
    assert "/policySetDefinitions/{parameters('setName')}'" in first
    assert second.endswith("/policySetDefinitions/mcsb-copy'; Defender for Cloud honours exemptions only on the "
                           "Microsoft cloud security benchmark and built-in regulatory compliance initiatives")
    assert "/policySetDefinitions/contoso-declared'" in third


def test_arm_subscription_id_is_custom_tenant_id_needs_the_catalog(tmp_path: Path) -> None:
    document = report(tmp_path, "arm/sub-sets.json")
    assert located(document, "EL001", "EL010") == [
        ("sub-sets.json", "EL001", "error", 41, 9),
        # concat('/providers/Microsoft.Authorization/policySetDefinitions/', parameters('setName')):
        # a tenant-level id whose name is not known stays unverifiable.
        ("sub-sets.json", "EL010", "warning", 67, 9),
    ]
    assert "the custom initiative '/subscriptions/{subscription().subscriptionId}/providers/" in messages(
        document, "EL001"
    )[0]
    assert honoured(document) == {
        "ex-custom": None,
        "ex-benchmark": [MCSB],  # tenantResourceId() of the benchmark
        "ex-tenant-level-unknown": None,
    }


def test_bicep_symbolic_id_and_functions_are_custom(tmp_path: Path) -> None:
    document = report(tmp_path, "bicep")
    assert located(document, "EL001", "EL010") == [
        # customSet.id of a set deployed at the management group
        ("mg-custom-set.bicep", "EL001", "error", 30, 5),
        # managementGroupResourceId('Microsoft.Authorization/policySetDefinitions', 'mcsb-copy')
        ("mg-custom-set.bicep", "EL001", "error", 42, 5),
        # '${subscription().id}/providers/Microsoft.Authorization/policySetDefinitions/${setName}'; the
        # assignment 'baseline' of the other file (another definition) does not make it ambiguous.
        ("sub-sets.bicep", "EL001", "error", 29, 5),
    ]
    first = messages(document, "EL001")[0]
    assert "'/providers/Microsoft.Management/managementGroups/{managementGroup().name}/providers/" in first
    assert "/policySetDefinitions/contoso-baseline'" in first
    # An existing set at tenant() scope named like the benchmark is the benchmark.
    assert honoured(document)["mcsb-keyvault"] == [MCSB]


def test_raw_json_placeholders_in_a_custom_scope(tmp_path: Path) -> None:
    document = report(tmp_path, "raw/custom-sets-with-placeholders.json")
    assert located(document, "EL001", "EL010", "EL009") == [
        ("custom-sets-with-placeholders.json", "EL001", "error", 23, 7),
        # A management-group set named like the benchmark is still a custom copy of it.
        ("custom-sets-with-placeholders.json", "EL001", "error", 36, 7),
    ]


def test_raw_json_tenant_level_placeholder_and_benchmark_v2(tmp_path: Path) -> None:
    document = report(tmp_path, "raw/builtin-sets.json")
    assert located(document, "EL001", "EL010") == [("builtin-sets.json", "EL010", "warning", 36, 7)]
    assert "{initiativeId}" in messages(document, "EL010")[0]
    assert honoured(document) == {"app-mcsb-v2": [MCSB_V2], "app-team": None}


def test_partial_ids_were_unverifiable_before(tmp_path: Path) -> None:
    # The same custom ids written out in full were always EL001 errors: the partial forms agree.
    document = report(tmp_path, "raw/custom-sets-with-placeholders.json", "arm/mg-custom-sets.json")
    assert messages(document, "EL010") == []
    assert len(messages(document, "EL001")) == 5


# --- 12.5: EPAC exemptions that name a policy definition --------------------------------------------


def test_epac_definition_failures(tmp_path: Path) -> None:
    document = report(tmp_path, "epac/definitions-fail.jsonc")
    assert located(document, "EL001", "EL010", "EL007") == [
        # built-in, in no honoured initiative
        ("definitions-fail.jsonc", "EL001", "error", 13, 7),
        # custom, by policyDefinitionName
        ("definitions-fail.jsonc", "EL001", "error", 22, 7),
        # custom, by an id under a management group
        ("definitions-fail.jsonc", "EL001", "error", 31, 7),
        # a custom set under a placeholder management group
        ("definitions-fail.jsonc", "EL001", "error", 41, 7),
        # a GUID the catalog does not know
        ("definitions-fail.jsonc", "EL010", "warning", 51, 7),
    ]
    builtin, by_name, by_id, custom_set = messages(document, "EL001")
    assert builtin.startswith(
        "EPAC exempts the built-in policy definition '/providers/Microsoft.Authorization/policyDefinitions/"
        "13502221-8df0-4414-9937-de9c5c4e396b' (Configure your Storage account public access to be "
        "disallowed) in every assignment that contains it, and no initiative Defender for Cloud honours "
        "contains it"
    )
    assert "custom policy definition '/providers/Microsoft.Management/managementGroups/(EPAC deployment root)/" in by_name
    assert "custom policy definition '/providers/Microsoft.Management/managementGroups/contoso/" in by_id
    assert "the custom initiative '/providers/Microsoft.Management/managementGroups/{{MANAGEMENT_GROUP_ID}}/" in custom_set
    (unknown,) = messages(document, "EL010")
    assert "not in the catalog of built-in policy definitions" in unknown


def test_epac_definitions_in_honoured_initiatives_pass(tmp_path: Path) -> None:
    document = report(tmp_path, "epac/definitions-pass.jsonc")
    # No EL001/EL010, and no "exempts every policy of the initiative" warning for the
    # subscription-wide exemption without policyDefinitionReferenceIds: it exempts one definition.
    assert located(document, "EL001", "EL010", "EL007") == []
    names = honoured(document)
    nsg = names["hub-subnets"]
    assert nsg is not None and nsg[:2] == [MCSB, MCSB_V2]
    assert "NIST SP 800-53 Rev. 5" in nsg
    assert names["hub-subnets-by-name"] == nsg
    assert names["eventhub-public"] == [MCSB_V2]


def test_epac_csv_definition_rows(tmp_path: Path) -> None:
    document = report(tmp_path, "epac/definitions.csv")
    assert located(document, "EL001", "EL010", "EL007") == [("definitions.csv", "EL001", "error", 3, 191)]
    assert honoured(document)["hub-subnets"] is not None
    assert honoured(document)["storage-public"] is None


def test_single_policy_assignment_is_not_a_whole_initiative(tmp_path: Path) -> None:
    document = report(tmp_path, "raw/single-policy-subscription.json")
    # Defender ignores it (EL001), but it does not exempt "every policy of an initiative" (EL007).
    assert located(document, "EL001", "EL007") == [("single-policy-subscription.json", "EL001", "error", 15, 7)]


# --- 12.6: honoured initiatives are data; the config adds and removes -------------------------------


def test_config_removes_an_honoured_initiative(tmp_path: Path) -> None:
    config = f"rules:\n  EL001:\n    ineligible-initiatives: [{MCSB_V2_ID}]\n"
    document = report(tmp_path, "raw/builtin-sets.json", "epac/definitions-pass.jsonc", config=config)
    assert located(document, "EL001") == [
        # only in the benchmark v2
        ("definitions-pass.jsonc", "EL001", "error", 32, 7),
        ("builtin-sets.json", "EL001", "error", 23, 7),
    ]
    in_v2_only, assigned = messages(document, "EL001")
    assert "no initiative Defender for Cloud honours contains it" in in_v2_only
    assert assigned.endswith(
        f"assigns the built-in initiative '{MCSB_V2}' (category Security Center), which the config removes "
        "from the initiatives Defender for Cloud honours"
    )
    names = honoured(document)
    nsg = names["hub-subnets"]
    assert nsg is not None and MCSB in nsg and MCSB_V2 not in nsg


def test_config_adds_an_initiative(tmp_path: Path) -> None:
    # Guest Configuration prerequisites: not honoured, and its members are not in the catalog.
    guest = "12794019-7a00-42cf-95c2-882eed337cc8"
    config = (
        "rules:\n  EL001:\n"
        f"    extra-eligible-initiatives: [/providers/Microsoft.Authorization/policySetDefinitions/{guest}]\n"
    )
    document = report(tmp_path, "epac/definitions-fail.jsonc", config=config)
    builtin = messages(document, "EL001")[0]
    assert "(the members of " in builtin and ", accepted by the config, are not known)" in builtin


def test_config_removal_wins_over_addition(tmp_path: Path) -> None:
    config = (
        f"rules:\n  EL001:\n    extra-eligible-initiatives: [{MCSB_V2_ID}]\n"
        f"    ineligible-initiatives: [{MCSB_V2_ID.upper()}]\n"
    )
    document = report(tmp_path, "raw/builtin-sets.json", config=config)
    assert located(document, "EL001") == [("builtin-sets.json", "EL001", "error", 23, 7)]


def test_unknown_option_is_a_config_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config_file = tmp_path / "exemptlint.yaml"
    config_file.write_text("rules:\n  EL001:\n    not-eligible-initiatives: [x]\n", encoding="utf-8")
    code = main(["check", str(FIXTURES / "raw"), *TODAY, "--config", str(config_file)])
    assert code == 2
    assert "known: extra-eligible-initiatives, ineligible-initiatives" in capsys.readouterr().err
