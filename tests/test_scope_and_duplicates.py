"""EL014 (scope outside the assignment) and EL015 (duplicate exemptions), issue 14: failing and
passing fixtures in raw JSON, ARM, Bicep and EPAC, judged through the JSON report (rule, level,
line, column); management-group ancestry; what EL015 leaves out (exports, plans, unknown values)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from exemptlint.cli import main
from exemptlint.hierarchy import Hierarchy, contains
from tests.json_report import check_json, located, messages

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path("tests") / "fixtures" / "scope_and_duplicates"
EPAC = Path("tests") / "fixtures" / "epac_repo"
DEFINITIONS = EPAC / "Definitions"
TODAY = ["--today", "2026-11-24"]
MG = "/providers/Microsoft.Management/managementGroups/"
TENANT = "70000000-0000-4000-8000-0000000000aa"
# Where the fixture repository's subscriptions sit (the tenant root group is known from EPAC's
# global settings: the tenant environment is deployed at the management group named after it).
MANAGEMENT_GROUPS = f"""management-groups:
  contoso-platform: {TENANT}
  contoso-landing-zones: {MG}{TENANT}
  {MG}contoso-sandbox: {TENANT}
  33333333-0000-4000-8000-000000000003: contoso-sandbox
  /subscriptions/22222222-0000-4000-8000-000000000002: contoso-landing-zones
"""


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


def report(tmp_path: Path, *paths: Path | str, config: str | None = None, jobs: str = "1") -> dict[str, Any]:
    return check_json(tmp_path, *paths, config=config, jobs=jobs, today=TODAY[1])


# --- EL014: raw JSON, ARM, Bicep, EPAC ----------------------------------------------------------


def test_el014_raw_json(tmp_path: Path) -> None:
    document = report(tmp_path, FIXTURES / "raw" / "scopes.json")
    # Another subscription; another resource group (the assignment's written in other case);
    # DoNotValidate: a note. In the assignment's subscription, and below a management group whose
    # place is not known: nothing.
    assert located(document, "EL014") == [
        ("scopes.json", "EL014", "error", 16, 7),
        ("scopes.json", "EL014", "error", 28, 7),
        ("scopes.json", "EL014", "note", 52, 7),
    ]
    other, group, moving = messages(document, "EL014")
    assert other == (
        "exemption scope '/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg-app' is not at or "
        "below the scope '/subscriptions/00000000-0000-0000-0000-000000000001' of its assignment "
        "'/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Authorization/policyAssignments/"
        "SecurityCenterBuiltIn'; Azure rejects the exemption: exempt a scope the assignment applies to, or name "
        "the assignment that applies at this scope"
    )
    assert (
        "below the scope '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/RG-APP'" in group
    )
    assert "deployed only because assignmentScopeValidation is DoNotValidate" in moving


def test_el014_arm_nested_deployment(tmp_path: Path) -> None:
    document = report(tmp_path, FIXTURES / "arm" / "nested.json")
    # The nested deployment targets a resource group of subscription 2; the exemption has no
    # scope property: the finding points at its assignment.
    assert located(document, "EL014") == [("nested.json", "EL014", "error", 79, 17)]


def test_el014_bicep_module_scope(tmp_path: Path) -> None:
    document = report(tmp_path, FIXTURES / "bicep" / "scopes.bicep")
    # Reported in the module, for the instance deployed to subscription 2 only.
    assert located(document, "EL014") == [("exemption.bicep", "EL014", "error", 8, 5)]
    (message,) = messages(document, "EL014")
    assert message.endswith("[module otherSubscription]")


def test_el014_epac(tmp_path: Path) -> None:
    # The assignment is at subscription 1 (read from the EPAC assignment files for an
    # assignmentName): subscription 3 is outside it; with DoNotValidate, a note.
    document = report(tmp_path, DEFINITIONS / "policyExemptions" / "epac-dev")
    assert located(document, "EL014") == [
        ("dev-exemptions.jsonc", "EL014", "error", 39, 7),
        ("dev-exemptions.jsonc", "EL014", "note", 49, 7),
    ]
    assert (
        messages(document, "EL014")[0]
        .split("; ")[1]
        .startswith("EPAC leaves the exemption out when it deploys")
    )


def test_el014_management_groups_only_when_their_place_is_known(tmp_path: Path) -> None:
    prod = DEFINITIONS / "policyExemptions" / "tenant" / "prod-exemptions.jsonc"
    assert located(report(tmp_path, prod), "EL014") == []
    document = report(tmp_path, prod, config=MANAGEMENT_GROUPS)
    # Subscription 3 is in the sandbox, below the tenant root group, beside the platform whose
    # benchmark assignment it names; subscription 2 is below the landing zones (no finding).
    assert located(document, "EL014") == [("prod-exemptions.jsonc", "EL014", "error", 28, 7)]
    (message,) = messages(document, "EL014")
    # Where the subscription sits, and who says so.
    assert (
        f"(subscription '33333333-0000-4000-8000-000000000003' is in 'contoso-sandbox' (config "
        f"'management-groups'), 'contoso-sandbox' in '{TENANT}' (config 'management-groups'), "
        f"'{TENANT}' a root (EPAC global settings); management group 'contoso-platform' is in "
        f"'{TENANT}' (config 'management-groups'))"
    ) in message


def test_el014_assignment_name_in_several_scopes(tmp_path: Path) -> None:
    """An assignmentName names every assignment of that name in the environment: inside one of
    them is enough."""
    exemptions = tmp_path / "Definitions" / "policyExemptions" / "tenant" / "x.jsonc"
    shutil.copytree(DEFINITIONS / "policyAssignments", tmp_path / "Definitions" / "policyAssignments")
    shutil.copy(DEFINITIONS / "global-settings.jsonc", tmp_path / "Definitions")
    exemptions.parent.mkdir(parents=True)
    entry = {
        "displayName": "Benchmark",
        "description": "The gateway redirects all HTTP traffic to HTTPS (CHG-1042).",
        "exemptionCategory": "Mitigated",
        "expiresOn": "2027-03-31T23:59:59Z",
        "assignmentName": "sec-mcsb",
    }
    scopes = {
        "landing-zone": "/subscriptions/22222222-0000-4000-8000-000000000002",
        "sandbox": "/subscriptions/33333333-0000-4000-8000-000000000003",
        "dev-root": MG + "contoso-dev",
    }
    items = [{"name": name, "scope": scope, **entry} for name, scope in scopes.items()]
    exemptions.write_text(json.dumps({"exemptions": items}, indent=2), encoding="utf-8")
    document = report(tmp_path, exemptions, config=MANAGEMENT_GROUPS)
    # sec-mcsb of the tenant environment is at the platform and the landing zones: the landing
    # zone's subscription is inside one of them; the sandbox's is in neither; a management group
    # beside them (its place is not known) is not judged.
    assert [(n, rule, level) for n, rule, level, *_ in located(document, "EL014")] == [
        ("x.jsonc", "EL014", "error")
    ]
    (message,) = messages(document, "EL014")
    assert "33333333" in message and "(and 1 more of that name)" in message


# --- management-group ancestry -----------------------------------------------------------------

SUB = "/subscriptions/00000000-0000-0000-0000-00000000000"


@pytest.mark.parametrize(
    ("outer", "inner", "parents", "expected"),
    [
        ("/", SUB + "1", {}, True),
        (SUB + "1", SUB + "1/resourceGroups/rg", {}, True),
        (SUB + "1", SUB + "2/resourceGroups/rg", {}, False),
        (SUB + "1", MG + "a", {}, False),
        (SUB + "1/resourceGroups/rg", SUB + "1/resourceGroups/rg2", {}, False),
        (SUB + "1/resourceGroups/RG", SUB + "1/resourcegroups/rg/providers/Microsoft.Web/sites/x", {}, True),
        (MG + "a", "/", {}, False),
        (MG + "a", MG + "A", {}, True),
        # Not known without the hierarchy.
        (MG + "a", MG + "b", {}, None),
        (MG + "a", SUB + "1", {}, None),
        # A chain to a declared root that does not meet the outer management group.
        (MG + "a", SUB + "1", {SUB + "1": "b", "b": None}, False),
        (MG + "a", SUB + "1", {SUB + "1": "b", "b": "a"}, True),
        # Below an ancestor of the inner scope, beside its line: not above it.
        (MG + "a", SUB + "1", {"00000000-0000-0000-0000-000000000001": "b", "b": "root", "a": "root"}, False),
        # The chain stops at an unknown parent: not known.
        (MG + "a", SUB + "1", {SUB + "1": "b"}, None),
        # A cycle in the config decides nothing.
        (MG + "a", MG + "b", {"b": "c", "c": "b"}, None),
    ],
)
def test_contains(outer: str, inner: str, parents: dict[str, str | None], expected: bool | None) -> None:
    assert contains(outer, inner, Hierarchy.of(parents)) is expected


def test_tenant_roots_end_a_chain() -> None:
    hierarchy = Hierarchy.of({SUB + "1": "b", "b": TENANT}).with_roots(frozenset({TENANT}))
    assert contains(MG + "a", SUB + "1", hierarchy) is False
    assert contains(MG + "b", SUB + "1", hierarchy) is True


def test_management_groups_config_is_validated(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "exemptlint.yaml"
    config.write_text("management-groups:\n  a: [b]\n", encoding="utf-8")
    assert main(["check", str(FIXTURES / "raw"), *TODAY, "--config", str(config)]) == 2
    assert "management-groups.a: Input should be a valid string" in capsys.readouterr().err


# --- EL015: raw JSON, ARM, Bicep, EPAC and across formats -----------------------------------------


def test_el015_arm(tmp_path: Path) -> None:
    document = report(tmp_path, FIXTURES / "arm" / "nested.json")
    # app-everything (no reference ids) covers app-https; app-https-legacy is deployed only if
    # its condition holds (a parameter): not known, so no duplicate.
    assert located(document, "EL015") == [("nested.json", "EL015", "warning", 41, 15)]
    (message,) = messages(document, "EL015")
    assert message == (
        "exemption 'app-everything' covers exemption 'app-https' "
        "(tests/fixtures/scope_and_duplicates/arm/nested.json:35:15 [nested deployment app-in-subscription-1]): "
        "the same assignment at the same scope, for every policy; 'app-everything' expires later (2027-06-30, "
        "'app-https' on 2027-03-31) [nested deployment app-in-subscription-1]"
    )


def test_el015_bicep_modules(tmp_path: Path) -> None:
    document = report(tmp_path, FIXTURES / "bicep" / "scopes.bicep")
    # Two instances of one module at one resource group (ids in other case): the second.
    assert located(document, "EL015") == [("exemption.bicep", "EL015", "warning", 6, 3)]
    (message,) = messages(document, "EL015")
    assert message.startswith(
        "exemption 'app-https-renewed' exempts the same assignment, scope and reference ids"
    )
    assert (
        "'app-https-renewed' expires later (2027-09-30, 'app-https' on 2027-03-31) [module renewed]"
        in message
    )


def test_el015_raw_json_across_files(tmp_path: Path) -> None:
    one = FIXTURES / "raw" / "scopes.json"
    other = tmp_path / "copy.json"
    shutil.copyfile(REPO / "tests" / "fixtures" / "rules" / "EL015-warn-duplicate.json", other)
    document = report(tmp_path, one, other)
    # scopes.json's first exemption duplicates both of copy.json's (the first met is named).
    assert located(document, "EL015") == [
        ("copy.json", "EL015", "warning", 16, 5),
        ("scopes.json", "EL015", "warning", 5, 7),
    ]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_el015_follows_per_path_overrides(tmp_path: Path, jobs: str) -> None:
    """A rule over the whole run honours per-path select/ignore like the others: by the file each
    finding is in (the other file's finding stays)."""
    one = FIXTURES / "raw" / "scopes.json"
    other = tmp_path / "copy.json"
    shutil.copyfile(REPO / "tests" / "fixtures" / "rules" / "EL015-warn-duplicate.json", other)
    ignored = "overrides:\n  - files: ['**/copy.json']\n    ignore: [EL015]\n"
    document = report(tmp_path, one, other, config=ignored, jobs=jobs)
    assert located(document, "EL015") == [("scopes.json", "EL015", "warning", 5, 7)]
    # Selected for one path only, when the top level ignores it.
    selected = "ignore: [EL015]\noverrides:\n  - files: ['**/copy.json']\n    ignore: []\n"
    document = report(tmp_path, one, other, config=selected, jobs=jobs)
    assert located(document, "EL015") == [("copy.json", "EL015", "warning", 16, 5)]


def test_el015_epac_csv_json_and_bicep(tmp_path: Path) -> None:
    document = report(tmp_path, EPAC)
    # In one environment folder, the CSV row and the JSON entry both deploy; the Bicep exemption
    # exempts the same assignment and scope for one reference id (the CSV row: for every policy).
    # The copy that EPAC's export wrote under Output/ is not deployed: no finding, no partner.
    assert located(document, "EL015") == [
        ("prod-exemptions.jsonc", "EL015", "warning", 14, 7),
        ("prod-nist.bicep", "EL015", "warning", 5, 3),
    ]
    json_entry, bicep = messages(document, "EL015")
    csv = (
        "tests/fixtures/epac_repo/Definitions/policyExemptions/tenant/prod-exemptions.csv:2:1 [row at line 2]"
    )
    assert json_entry == (
        f"exemption 'prod-nist-web' exempts the same assignment and scope as exemption 'prod-nist-web-csv' ({csv}); "
        "'prod-nist-web-csv' expires later (2027-06-30, 'prod-nist-web' on 2027-03-31)"
    )
    assert bicep.startswith(f"exemption 'web-nist' is covered by exemption 'prod-nist-web-csv' ({csv})")
    assert all("Output" not in f["file"] for f in document["findings"] if f["ruleId"] == "EL015")


def test_el015_epac_files_that_do_not_deploy(tmp_path: Path) -> None:
    """Outside policyExemptions/<pacSelector>/ (directly in policyExemptions, in an export) EPAC
    deploys nothing: the same entries there are no duplicates."""
    definitions = tmp_path / "Definitions" / "policyExemptions"
    prod = DEFINITIONS / "policyExemptions" / "tenant" / "prod-exemptions.jsonc"
    (definitions / "tenant").mkdir(parents=True)
    shutil.copyfile(prod, definitions / "tenant" / "a.jsonc")
    shutil.copyfile(prod, definitions / "b.jsonc")
    (tmp_path / "Output" / "export" / "Definitions" / "policyExemptions" / "tenant").mkdir(parents=True)
    shutil.copyfile(
        prod, tmp_path / "Output" / "export" / "Definitions" / "policyExemptions" / "tenant" / "c.jsonc"
    )
    assert located(report(tmp_path, tmp_path), "EL015") == []
    # Two environment folders both deploy it.
    (definitions / "epac-dev").mkdir()
    shutil.copyfile(prod, definitions / "epac-dev" / "d.jsonc")
    # (The entry naming an assignmentName is not resolved here: no assignment files, no duplicate.)
    assert [name for name, *_ in located(report(tmp_path, tmp_path), "EL015")] == ["a.jsonc"] * 2


def test_el015_never_from_unknown_values(tmp_path: Path) -> None:
    base = json.loads(
        (REPO / "tests" / "fixtures" / "rules" / "pass-baseline.json").read_text(encoding="utf-8")
    )
    first = {**base, "name": "first"}
    unknown_ids = {
        **base,
        "name": "second",
        "properties": {**base["properties"], "policyDefinitionReferenceIds": ["{{REFERENCE_ID}}"]},
    }
    other_ids = {
        **base,
        "name": "third",
        "properties": {**base["properties"], "policyDefinitionReferenceIds": ["another"]},
    }
    selectors = {
        **base,
        "name": "fourth",
        "properties": {
            **base["properties"],
            "resourceSelectors": [
                {"name": "eu", "selectors": [{"kind": "resourceLocation", "in": ["westeurope"]}]}
            ],
        },
    }
    file = tmp_path / "x.json"
    file.write_text(json.dumps([first, unknown_ids, other_ids, selectors], indent=2), encoding="utf-8")
    # A placeholder reference id, other reference ids: no duplicate. The same reference ids for
    # the resources of one location only: covered by the first, which has no selector.
    assert [(rule, line) for _, rule, _, line, _ in located(report(tmp_path, file), "EL015")] == [
        ("EL015", 49)
    ]


def test_el015_terraform_plan_is_its_configuration(tmp_path: Path) -> None:
    """A plan beside the configuration it was made from shows the same resources, not others."""
    terraform = REPO / "tests" / "fixtures" / "dates" / "terraform"
    document = report(tmp_path, terraform / "main.tf", terraform / "plan.json")
    found = [f for f in document["findings"] if f["ruleId"] == "EL015"]
    # The fixtures repeat one exemption: duplicates within each file, none between the two.
    assert {Path(f["file"]).name for f in found} == {"main.tf", "plan.json"}
    for finding in found:
        partner = "plan.json" if "terraform/plan.json:" in finding["message"] else "main.tf"
        assert Path(finding["file"]).name == partner, finding["message"]


def test_el015_the_same_in_worker_processes(tmp_path: Path) -> None:
    paths = (FIXTURES, EPAC)
    one = report(tmp_path, *paths, jobs="1")
    two = report(tmp_path, *paths, jobs="2")
    assert located(two, "EL014", "EL015") == located(one, "EL014", "EL015")
    assert [f["message"] for f in two["findings"]] == [f["message"] for f in one["findings"]]
    assert len(located(one, "EL015")) >= 5


def test_epac_scope_patterns_are_not_known_scopes(tmp_path: Path) -> None:
    """EPAC expands "/subscriptions/*" (and subscriptionsPattern) against its scope tree when it
    deploys: neither EL014 nor EL015 judges such a scope."""
    folder = tmp_path / "Definitions" / "policyExemptions" / "tenant"
    folder.mkdir(parents=True)
    entry = {
        "displayName": "Every sandbox subscription",
        "description": "Sandbox subscriptions hold no production data (CHG-4001).",
        "exemptionCategory": "Waiver",
        "expiresOn": "2027-03-31T23:59:59Z",
        "scopes": ["/subscriptions/*"],
        "policyAssignmentId": "/subscriptions/00000000-0000-0000-0000-000000000001/providers/"
        "Microsoft.Authorization/policyAssignments/SecurityCenterBuiltIn",
        "policyDefinitionReferenceIds": ["webAppEnforceHttpsMonitoring"],
    }
    items = [{"name": "sandbox-a", **entry}, {"name": "sandbox-b", **entry}]
    (folder / "x.jsonc").write_text(json.dumps({"exemptions": items}, indent=2), encoding="utf-8")
    assert located(report(tmp_path, tmp_path), "EL014", "EL015") == []
