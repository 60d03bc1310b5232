"""Terraform: HCL resources (variables, tfvars, locals, templates, count, for_each, jsonencode,
assignments) and plan JSON, with exact rule ids and positions."""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from exemptlint.cli import main
from exemptlint.engine import LintSettings, lint
from exemptlint.loaders.jsontext import JsonPositions
from exemptlint.loaders.terraform import is_terraform_plan, load_terraform_plan, load_terraform_text
from exemptlint.loaders.terraform_modules import is_local, remote_origin
from exemptlint.loaders.terraform_syntax import parse_hcl
from exemptlint.model import LoadError, LoadResult, Position, ScopeLevel, Unresolved
from exemptlint.rules import BUILTIN_RULES

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "terraform"
TODAY = datetime.date(2026, 11, 24)
SUB = "/subscriptions/00000000-0000-0000-0000-000000000001"


def load(directory: str) -> LoadResult:
    path = FIXTURES / directory / "main.tf"
    return load_terraform_text(path.read_text(encoding="utf-8"), "main.tf", None, path)


def located(result: LoadResult) -> list[tuple[str, str, int, int]]:
    assert result.errors == []
    found = lint(result.exemptions, result.assignments, LintSettings(today=TODAY), BUILTIN_RULES)
    return [(f.rule_id, f.level.value, f.line, f.column) for f in found]


def test_basic_findings() -> None:
    # EL001 via the computed id of an assignment in the same file; EL005 on one for_each
    # instance; EL007 (whole initiative) at the resource block.
    assert located(load("basic")) == [
        ("EL007", "warning", 38, 1),
        ("EL001", "error", 41, 3),
        ("EL005", "error", 56, 3),
    ]


def test_basic_values() -> None:
    result = load("basic")
    legacy, tagging, per_legacy, per_sandbox = result.exemptions
    # Template with a variable default, and tfvars overriding a default.
    assert legacy.name == "corp-legacy-waiver"
    assert legacy.scope == f"{SUB}/resourceGroups/rg-legacy"
    assert legacy.scope_level is ScopeLevel.RESOURCE_GROUP
    assert legacy.exemption_category == "Mitigated"
    # A reference to an assignment resource resolves to its computed id.
    assert (
        legacy.policy_assignment_id == f"{SUB}/providers/Microsoft.Authorization/policyAssignments/corp-mcsb"
    )
    # jsonencode of a literal object, with a local inside.
    assert legacy.metadata == {"requestedBy": "platform-team", "ticket": "CHG-4411"}
    assert legacy.policy_definition_reference_ids == ["gcLinuxDiskEncryptionMonitoring"]
    assert tagging.scope_level is ScopeLevel.SUBSCRIPTION
    # for_each over a map variable: one exemption per key, locals in templates.
    assert per_legacy.name == "legacy-mcsb-waiver"
    assert per_sandbox.scope == f"{SUB}/resourceGroups/rg-sandbox"
    assert per_sandbox.expires_on == "2026-11-01T00:00:00Z"
    assert (
        per_sandbox.source.context == 'azurerm_resource_group_policy_exemption.per_rg; for_each key "sandbox"'
    )
    assert per_legacy.policy_assignment_id.endswith("/policyAssignments/SecurityCenterBuiltIn")
    assert [a.name for a in result.assignments] == ["corp-mcsb", "corp-tagging"]


def test_misc_findings() -> None:
    # EL007 on a management group, EL002 on each count instance, EL009 for a data source.
    assert located(load("misc")) == [
        ("EL007", "error", 13, 3),
        ("EL002", "error", 28, 3),
        ("EL002", "error", 28, 3),
        ("EL009", "note", 39, 3),
    ]


def test_count_and_resource_scope() -> None:
    result = load("misc")
    mg, first, second, from_data = result.exemptions
    assert mg.scope_level is ScopeLevel.MANAGEMENT_GROUP
    assert (first.name, second.name) == ("storage-0", "storage-1")
    assert first.scope_level is ScopeLevel.RESOURCE
    assert str(second.scope).endswith("/storageAccounts/stlogs002")
    assert second.source.context == "azurerm_resource_policy_exemption.storage; count.index = 1"
    assert isinstance(from_data.policy_assignment_id, Unresolved)
    assert from_data.policy_assignment_id.expression == "data.azurerm_policy_assignment.mcsb.id"


def test_parse_error() -> None:
    result = load("broken")
    assert result.exemptions == []
    assert len(result.errors) == 1
    error = result.errors[0]
    assert (error.file, error.line, error.column) == ("main.tf", 2, 10)
    assert isinstance(error, LoadError) and error.message.startswith("invalid HCL")


def test_plan_json() -> None:
    text = (FIXTURES / "plan" / "plan.json").read_text(encoding="utf-8")
    doc = json.loads(text)
    assert is_terraform_plan(doc)
    assert not is_terraform_plan({"resources": []})
    result = load_terraform_plan(doc, "plan.json", JsonPositions(text))
    new_assignment, exemption = result.exemptions
    # Known only after apply (resource_changes.after_unknown): unresolved, never guessed.
    assert isinstance(new_assignment.policy_assignment_id, Unresolved)
    assert "metadata" not in new_assignment.properties  # null in the plan: not set
    assert exemption.name == "legacy-waiver"
    assert exemption.scope_level is ScopeLevel.RESOURCE_GROUP
    assert exemption.metadata == {"requestedBy": "platform-team"}
    assert exemption.source.context == "module.exemptions.azurerm_resource_group_policy_exemption.legacy"
    assert located(result) == [("EL005", "error", 20, 17), ("EL009", "note", 38, 11)]


def test_tfvars_precedence_functions_and_directives() -> None:
    result = load("autovars")
    (exemption,) = result.exemptions
    # terraform.tfvars overrides the default; *.auto.tfvars overrides terraform.tfvars.
    assert exemption.exemption_category == "Mitigated"
    assert exemption.expires_on == "2026-11-20T00:00:00Z"
    # A function that is not implemented is unresolved (EL009), never guessed.
    assert isinstance(exemption.description, Unresolved)
    found = lint(result.exemptions, result.assignments, LintSettings(today=TODAY), BUILTIN_RULES)
    assert [(f.rule_id, f.level.value, f.line, f.column, f.suppression is not None) for f in found] == [
        ("EL005", "error", 15, 3, True),
        ("EL009", "note", 17, 3, False),
    ]


def test_irrelevant_tf_is_not_parsed() -> None:
    text = 'resource "azurerm_storage_account" "x" {\n  name = = "broken but irrelevant"\n}\n'
    assert load_terraform_text(text, "storage.tf", None) == LoadResult()


# --- AzAPI (issue 13.2) ---------------------------------------------------------------------------


def test_azapi_findings() -> None:
    # EL001 and EL005 inside a jsonencode body, EL007 at parent_id for each count instance, one
    # EL009 note per property the rules needed from a body that is a variable without a value.
    found = located(load("azapi"))
    assert found[:4] == [
        ("EL001", "error", 65, 7),
        ("EL005", "error", 67, 7),
        ("EL007", "error", 79, 3),
        ("EL007", "error", 79, 3),
    ]
    # (policyDefinitionReferenceIds is not needed: EL007 judges it only for a known initiative.)
    assert sorted(found[4:]) == [("EL009", "note", 97, 3)] * 5


def test_azapi_values() -> None:
    result = load("azapi")
    legacy, tagging, group0, group1, unknown = result.exemptions
    # An HCL object body: properties in canonical spelling, the metadata an object.
    assert legacy.name == "legacy-waiver"
    assert legacy.scope == f"{SUB}/resourceGroups/rg-legacy"
    assert legacy.scope_level is ScopeLevel.RESOURCE_GROUP
    assert legacy.api_version == "2022-07-01-preview"
    assert legacy.policy_assignment_id == f"{SUB}/providers/Microsoft.Authorization/policyAssignments/corp-mcsb"
    assert legacy.metadata == {"ticket": "CHG-4411"}
    assert legacy.policy_definition_reference_ids == ["gcLinuxDiskEncryptionMonitoring"]
    # Each property is located at its key inside body.properties.
    assert legacy.source.locator.property("expiresOn") == Position(50, 7)
    assert legacy.source.locator.property("scope") == Position(44, 3)
    assert tagging.exemption_category == "Mitigated"
    assert (group0.name, group1.scope) == ("group-waiver-0", "/providers/Microsoft.Management/managementGroups/corp-1")
    assert group1.source.context == "azapi_resource.per_group; count.index = 1"
    assert isinstance(unknown.expires_on, Unresolved)
    # Assignments (AzAPI) for EL001; the storage account is no policy resource.
    assert [(a.name, a.policy_definition_id) for a in result.assignments] == [
        ("corp-mcsb", "/providers/Microsoft.Authorization/policySetDefinitions/1f3afdf9-d0c9-4c3d-847f-89da613e70a8"),
        (
            "corp-tagging",
            "/providers/Microsoft.Management/managementGroups/corp/providers/Microsoft.Authorization/policySetDefinitions/corp-tagging",
        ),
    ]


def test_azapi_body_forms(tmp_path: Path) -> None:
    # A JSON string body (AzAPI 1.x without jsonencode), a type whose version is a variable, and
    # a body without properties (EL008: the API requires them).
    text = (
        'variable "api" {\n  type = string\n}\n'
        'resource "azapi_resource" "s" {\n'
        '  type      = "Microsoft.Authorization/policyExemptions@${var.api}"\n'
        '  name      = "s"\n'
        f'  parent_id = "{SUB}"\n'
        '  body      = "{\\"properties\\": {\\"exemptionCategory\\": \\"Waiver\\"}}"\n'
        "}\n"
        'resource "azapi_resource" "empty" {\n'
        '  type      = "Microsoft.Authorization/policyExemptions@2022-07-01-preview"\n'
        '  name      = "empty"\n'
        f'  parent_id = "{SUB}/resourceGroups/rg"\n'
        "  body      = {}\n"
        "}\n"
    )
    path = tmp_path / "main.tf"
    path.write_text(text, encoding="utf-8")
    result = load_terraform_text(text, "main.tf", None, path)
    string_body, empty = result.exemptions
    assert string_body.exemption_category == "Waiver"
    assert string_body.api_version is None  # the version is not known statically
    assert empty.properties == {}
    # What the body lacks is reported at the body: a JSON string has no places of its own.
    assert located(result) == [
        ("EL003", "error", 8, 3),
        ("EL006", "error", 8, 3),
        ("EL006", "error", 8, 3),
        ("EL008", "error", 8, 3),
        ("EL003", "error", 14, 3),
        ("EL006", "error", 14, 3),
        ("EL006", "error", 14, 3),
        ("EL008", "error", 14, 3),
        ("EL008", "error", 14, 3),
    ]


# --- the resource type fixes the scope level (issue 13.7) ----------------------------------------


def test_scope_level_from_resource_type() -> None:
    # EL007 on a management group and a whole-initiative warning for a subscription, both held
    # by variables without values; EL008 where the id names another level than the type's.
    assert located(load("levels")) == [
        ("EL007", "error", 21, 3),
        ("EL007", "warning", 31, 1),
        ("EL008", "error", 67, 3),
        ("EL008", "error", 78, 3),
    ]
    levels = [e.scope_level for e in load("levels").exemptions]
    assert levels == [
        ScopeLevel.MANAGEMENT_GROUP,
        ScopeLevel.SUBSCRIPTION,
        ScopeLevel.SUBSCRIPTION,
        ScopeLevel.RESOURCE_GROUP,
        ScopeLevel.RESOURCE_GROUP,
        ScopeLevel.RESOURCE,
    ]


def test_scope_level_mismatch_message() -> None:
    found = lint(load("levels").exemptions, [], LintSettings(today=TODAY), BUILTIN_RULES)
    messages = [f.message for f in found if f.rule_id == "EL008"]
    assert messages[0].startswith(
        "scope '/providers/Microsoft.Management/managementGroups/corp' is a managementGroup id, but this "
        "exemption's resource type deploys at resourceGroup scope"
    )


def test_malformed_scope_keeps_unknown_level() -> None:
    # A string that is no Azure id at all: EL008 says so, EL007 does not guess a level.
    text = (
        'resource "azurerm_subscription_policy_exemption" "x" {\n'
        '  name                 = "x"\n'
        '  subscription_id      = "00000000-0000-0000-0000-000000000001"\n'
        f'  policy_assignment_id = "{SUB}/providers/Microsoft.Authorization/policyAssignments/SecurityCenterBuiltIn"\n'
        '  exemption_category   = "Waiver"\n'
        '  expires_on           = "2027-01-01T00:00:00Z"\n'
        '  display_name         = "X"\n'
        '  description          = "Approved by the security board on 2026-10-01, ticket SEC-77."\n'
        "}\n"
    )
    result = load_terraform_text(text, "main.tf", None)
    assert result.exemptions[0].scope_level is ScopeLevel.UNKNOWN
    assert located(result) == [("EL008", "error", 3, 3)]


def test_plan_scope_level_from_resource_type() -> None:
    # A plan whose management group id is known only after apply: still a management group.
    doc = {
        "format_version": "1.2",
        "planned_values": {
            "root_module": {
                "resources": [
                    {
                        "address": "azurerm_management_group_policy_exemption.mg",
                        "mode": "managed",
                        "type": "azurerm_management_group_policy_exemption",
                        "name": "mg",
                        "values": {
                            "name": "mg-waiver",
                            "policy_assignment_id": f"{SUB}/providers/Microsoft.Authorization/policyAssignments/SecurityCenterBuiltIn",
                            "exemption_category": "Waiver",
                            "expires_on": "2027-01-01T00:00:00Z",
                            "display_name": "MG waiver",
                            "description": "Approved by the security board on 2026-10-01, ticket SEC-77.",
                            "policy_definition_reference_ids": ["gcLinuxDiskEncryptionMonitoring"],
                        },
                    }
                ]
            }
        },
        "resource_changes": [
            {
                "address": "azurerm_management_group_policy_exemption.mg",
                "change": {"after_unknown": {"management_group_id": True}},
            }
        ],
    }
    text = json.dumps(doc, indent=2)
    result = load_terraform_plan(doc, "plan.json", JsonPositions(text))
    (exemption,) = result.exemptions
    assert exemption.scope_level is ScopeLevel.MANAGEMENT_GROUP
    assert [f[0] for f in located(result)] == ["EL007"]


# --- the command line, as a user runs it --------------------------------------------------------


def run_json(workdir: Path, *args: str) -> tuple[int, dict[str, Any]]:
    """``exemptlint check ARGS --format json`` in ``workdir``: the exit code and the report."""
    previous = Path.cwd()
    os.chdir(workdir)
    try:
        code = main(["check", *args, "--today", TODAY.isoformat(), "--format", "json", "--output", "r.json"])
        report: dict[str, Any] = json.loads((workdir / "r.json").read_text(encoding="utf-8"))
    finally:
        os.chdir(previous)
    return code, report


def findings_of(report: dict[str, Any]) -> list[tuple[str, str, int, int]]:
    return [(f["file"], f["ruleId"], f["line"], f["column"]) for f in report["findings"]]


@pytest.fixture
def fixtures(tmp_path: Path) -> Path:
    """A copy of the Terraform fixtures (the JSON report is written beside them)."""
    shutil.copytree(FIXTURES, tmp_path / "terraform")
    return tmp_path


# --- modules (issue 13.3) ------------------------------------------------------------------------

MODULE_FINDINGS = [
    # The module calls itself: noted where it does, not followed again.
    ("terraform/modules/cycle/main.tf", "EL009", 14, 3),
    # Findings of followed modules are in the module file, once per instance.
    ("terraform/modules/exemption/main.tf", "EL004", 7, 3),
    ("terraform/modules/exemption/main.tf", "EL004", 7, 3),
    ("terraform/modules/exemption/main.tf", "EL005", 7, 3),
    ("terraform/modules/exemption/main.tf", "EL005", 7, 3),
    ("terraform/modules/exemption/main.tf", "EL006", 9, 3),
    # The assignment a module makes, reached through its output, assigns a custom initiative.
    ("terraform/modules/root/main.tf", "EL001", 46, 3),
    # Registry, Git, a directory that does not exist: noted at their source.
    ("terraform/modules/root/main.tf", "EL009", 61, 3),
    ("terraform/modules/root/main.tf", "EL009", 66, 3),
    ("terraform/modules/root/main.tf", "EL009", 70, 3),
    # Called only with count = 0: linted on its own; it exempts the same assignment at the same
    # subscription as the cycle module's exemption (EL015).
    ("terraform/modules/unused/main.tf", "EL015", 3, 3),
    ("terraform/modules/unused/main.tf", "EL005", 8, 3),
]


def test_local_modules_are_followed_with_the_callers_values(fixtures: Path) -> None:
    code, report = run_json(fixtures, "terraform/modules")
    assert code == 1
    assert report["errors"] == []
    assert findings_of(report) == MODULE_FINDINGS
    contexts = {f["message"].rsplit(" [", 1)[-1].rstrip("]") for f in report["findings"]}
    assert {
        "module.legacy.azurerm_resource_group_policy_exemption.this",
        'module.per_group["sandbox"].azurerm_resource_group_policy_exemption.this',
        "module.numbered[0].azurerm_resource_group_policy_exemption.this",
        "module.numbered[1].azurerm_resource_group_policy_exemption.this",
        "module.wrapped.module.inner.azurerm_resource_group_policy_exemption.this",
        "azurerm_subscription_policy_exemption.unused",
    } <= contexts
    # The caller's values: the expired date and the placeholder come from root/main.tf.
    by_name = {e["name"]: e for e in report["exemptions"]}
    assert by_name["legacy-waiver"]["properties"]["expiresOn"] == "2026-10-01T00:00:00Z"
    assert by_name["sandbox-waiver"]["properties"]["description"] == "TODO"
    assert by_name["data-waiver"]["scope"].endswith("/resourceGroups/rg-data")
    assert by_name["wrapped-inner"]["properties"]["expiresOn"] == "2026-12-10T00:00:00Z"
    # The module defaults where the caller gives nothing.
    assert by_name["numbered-1"]["properties"]["description"].startswith("Legacy workload")
    # Each module file is linted through its callers only: no exemption without a caller's name.
    assert sorted(by_name) == [
        "cycle-waiver",
        "data-waiver",
        "legacy-waiver",
        "numbered-0",
        "numbered-1",
        "sandbox-waiver",
        "tagging-waiver",
        "unused-waiver",
        "wrapped-inner",
    ]


def test_module_notes_name_the_module(fixtures: Path) -> None:
    _, report = run_json(fixtures, "terraform/modules")
    notes = {f["line"]: f["message"] for f in report["findings"] if f["ruleId"] == "EL009"}
    assert notes[61] == (
        "module 'registry' (source 'Azure/avm-ptn-policyassignment/azurerm') comes from a module registry "
        "and is not followed: the exemptions it deploys are not linted"
    )
    assert notes[66].startswith(
        "module 'git' (source 'git::https://github.com/contoso/terraform-policy-exemptions.git?ref=v1.2.0') "
        "comes from a Git repository and is not followed"
    )
    assert notes[70] == (
        "module 'missing' (source '../does-not-exist') is not followed: the directory ../does-not-exist "
        "does not exist"
    )
    assert notes[14] == "module 'again' (source '../cycle') is not followed: it includes itself (a module cycle)"


def test_workers_give_the_same_module_findings(fixtures: Path) -> None:
    _, one = run_json(fixtures, "terraform/modules", "--jobs", "1")
    _, two = run_json(fixtures, "terraform/modules", "--jobs", "2")
    assert findings_of(two) == findings_of(one) == MODULE_FINDINGS


def test_module_directory_scanned_alone_is_linted_alone(fixtures: Path) -> None:
    # No caller in the scan: the module's own defaults, and notes for what only a caller gives.
    _, report = run_json(fixtures, "terraform/modules/exemption")
    (exemption,) = report["exemptions"]
    assert exemption["source"]["context"] == "azurerm_resource_group_policy_exemption.this"
    assert exemption["properties"]["expiresOn"] == "2027-01-31T00:00:00Z"
    assert findings_of(report) == [("terraform/modules/exemption/main.tf", "EL009", 8, 3)]
    assert "var.resource_group" in report["findings"][0]["message"]


def test_caller_outside_the_scan_still_follows(fixtures: Path) -> None:
    # Only the caller is named: the module's findings are still reported, in the module file.
    _, report = run_json(fixtures, "terraform/modules/root/main.tf")
    assert ("terraform/modules/exemption/main.tf", "EL006", 9, 3) in findings_of(report)


def test_module_depth_guard(tmp_path: Path) -> None:
    # m0 -> m1 -> ... -> m20: modules followed 16 deep (m1..m16), a note where the chain is cut.
    for level in range(21):
        directory = tmp_path / f"m{level}"
        directory.mkdir()
        text = f'module "next" {{\n  source = "../m{level + 1}"\n}}\n' if level < 20 else ""
        if level == 20:
            text = 'resource "azurerm_subscription_policy_exemption" "deep" {\n  name = "deep"\n}\n'
        (directory / "main.tf").write_text(text, encoding="utf-8")
    _, report = run_json(tmp_path, "m0/main.tf")
    notes = [(f["file"], f["line"], f["column"], f["message"]) for f in report["findings"]]
    assert notes == [
        (
            "m16/main.tf",
            2,
            3,
            "module 'next' (source '../m17') is not followed: modules are nested more than 16 deep",
        )
    ]


def test_broken_module_file_is_an_error_in_that_file(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    (tmp_path / "mod").mkdir()
    (tmp_path / "root" / "main.tf").write_text('module "m" {\n  source = "../mod"\n}\n', encoding="utf-8")
    (tmp_path / "mod" / "main.tf").write_text(
        'resource "azurerm_subscription_policy_exemption" "x" {\n  name = "x\n}\n', encoding="utf-8"
    )
    code, report = run_json(tmp_path, "root")
    assert code == 2
    assert report["errors"] == [
        {
            "file": "mod/main.tf",
            "line": 2,
            "column": 10,
            "message": "invalid HCL: string is not closed on its line: expected '\"'",
        }
    ]


def test_module_of_a_file_without_location_is_noted() -> None:
    text = 'module "m" {\n  source = "./exemptions"\n}\n'
    result = load_terraform_text(text, "main.tf", None)
    assert [(n.line, n.column, n.message) for n in result.notes] == [
        (2, 3, "module 'm' (source './exemptions') is not followed: the location of this file is not known")
    ]


def test_module_source_kinds() -> None:
    assert is_local("./x") and is_local("../x") and not is_local("x")
    assert remote_origin("hashicorp/consul/aws") == "a module registry"
    assert remote_origin("app.terraform.io/corp/policy/azurerm") == "a module registry"
    assert remote_origin("github.com/corp/tf-policy") == "a Git repository"
    assert remote_origin("git@github.com:corp/tf-policy.git") == "a Git repository"
    assert remote_origin("https://example.com/policy.zip") == "a remote location"
    assert remote_origin("/opt/modules/policy").startswith("an absolute path")


# --- .tfvars files (issue 13.5) ------------------------------------------------------------------


def test_tfvars_not_applied_are_noted(fixtures: Path) -> None:
    code, report = run_json(fixtures, "terraform/tfvars")
    assert code == 0
    assert findings_of(report) == [
        ("terraform/tfvars/config/dev.tfvars", "EL009", 1, 1),
        ("terraform/tfvars/env/categories.tfvars.json", "EL009", 1, 1),
        ("terraform/tfvars/env/prod.tfvars", "EL009", 1, 1),
    ]
    assert report["findings"][0]["message"] == (
        "dev.tfvars is not applied (Terraform reads it only when it is named with -var-file): the .tf files "
        "are linted without its values; to apply it, pass --parameters terraform/tfvars/config/dev.tfvars"
    )
    assert report["findings"][2]["message"].startswith(
        "prod.tfvars is not applied (no .tf file is beside it, so which configuration it feeds is not known)"
    )
    # The configuration is linted with its defaults.
    (exemption,) = report["exemptions"]
    assert exemption["properties"]["expiresOn"] == "2027-01-31T00:00:00Z"


def test_tfvars_given_with_parameters_apply(fixtures: Path) -> None:
    code, report = run_json(
        fixtures,
        "terraform/tfvars",
        "--parameters",
        "terraform/tfvars/env/prod.tfvars",
        "--parameters",
        "terraform/tfvars/env/categories.tfvars.json",
    )
    assert code == 1
    # Both files' values (HCL and JSON): EL002 and EL005; they are no longer noted, dev.tfvars is.
    assert findings_of(report) == [
        ("terraform/tfvars/config/dev.tfvars", "EL009", 1, 1),
        ("terraform/tfvars/config/main.tf", "EL002", 16, 3),
        ("terraform/tfvars/config/main.tf", "EL005", 17, 3),
    ]


def test_parameters_tfvars_win_over_automatic_ones(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'variable "category" {\n  default = "Waiver"\n}\n'
        'resource "azurerm_subscription_policy_exemption" "x" {\n'
        '  name               = "x"\n'
        f'  subscription_id    = "{SUB}"\n'
        "  exemption_category = var.category\n"
        "}\n",
        encoding="utf-8",
    )
    (tmp_path / "terraform.tfvars").write_text('category = "Mitigated"\n', encoding="utf-8")
    (tmp_path / "x.auto.tfvars").write_text('category = "Exception"\n', encoding="utf-8")
    (tmp_path / "given.tfvars").write_text('category = "waiver"\n', encoding="utf-8")
    _, automatic = run_json(tmp_path, "main.tf")
    assert automatic["exemptions"][0]["properties"]["exemptionCategory"] == "Exception"
    _, given = run_json(tmp_path, "main.tf", "--parameters", "given.tfvars")
    assert given["exemptions"][0]["properties"]["exemptionCategory"] == "waiver"
    # ARM parameters files do not feed Terraform variables, nor tfvars ARM parameters.
    (tmp_path / "p.json").write_text('{"parameters": {"category": {"value": "Other"}}}', encoding="utf-8")
    _, arm = run_json(tmp_path, "main.tf", "--parameters", "p.json")
    assert arm["exemptions"][0]["properties"]["exemptionCategory"] == "Exception"


def test_broken_tfvars_given_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "main.tf").write_text('resource "azurerm_subscription_policy_exemption" "x" {\n}\n', encoding="utf-8")
    (tmp_path / "bad.tfvars").write_text('a = 1\nb = "open\n', encoding="utf-8")
    code, report = run_json(tmp_path, "main.tf", "--parameters", "bad.tfvars")
    assert code == 2
    assert report["errors"] == [
        {
            "file": "bad.tfvars",
            "line": 2,
            "column": 5,
            "message": "invalid HCL: string is not closed on its line: expected '\"'",
        }
    ]
    assert "bad.tfvars:2:5: error: invalid HCL" in capsys.readouterr().err


def test_broken_automatic_tfvars_is_reported_not_ignored(tmp_path: Path) -> None:
    # Was: skipped without a word, so the defaults were linted as if they were the values.
    (tmp_path / "main.tf").write_text('resource "azurerm_subscription_policy_exemption" "x" {\n}\n', encoding="utf-8")
    (tmp_path / "terraform.tfvars.json").write_text('{"a": 1,}', encoding="utf-8")
    code, report = run_json(tmp_path, ".")
    assert code == 2
    assert [(e["file"], e["line"], e["column"]) for e in report["errors"]] == [("terraform.tfvars.json", 1, 9)]
    assert report["errors"][0]["message"].startswith("invalid JSON")


# --- syntax errors at the construct that failed (issue 17.7) --------------------------------------

HEAD = 'resource "azurerm_subscription_policy_exemption" "x" {\n'


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        # Was reported on line 7: Lark reads "var.x +" on into the next line.
        (
            'locals {\n  a = 1\n}\n\n' + HEAD + "  name = var.x +\n  description = \"a\"\n}\n",
            6,
            3,
            "argument 'name' is not complete: found '=' at line 7, column 15; expected '}' or a new line",
        ),
        # Was reported at the end of the file (line 3): the string swallowed the next lines.
        (HEAD + '  name = "abc\n  description = "d"\n}\n', 2, 10, "string is not closed on its line: expected '\"'"),
        (
            HEAD + '  name = "a"\n\n',
            1,
            1,
            "block 'resource \"azurerm_subscription_policy_exemption\" \"x\"' is not closed: expected '}' "
            "(reached the end of the file)",
        ),
        (
            HEAD + '  ids = ["a",\n  b = 1\n}\n',
            2,
            9,
            "the list '[' is not closed: expected ']' (found '}' at line 4, column 1)",
        ),
        (
            HEAD + "  metadata = jsonencode({a = 1}\n  b = 1\n}\n",
            2,
            14,
            "call 'jsonencode(' is not closed: expected ')' (found '}' at line 4, column 1)",
        ),
        (
            HEAD + '  name "a"\n  b = 1\n}\n',
            2,
            3,
            "'name' is neither an argument nor a block: expected '=' after 'name' or '{' after its labels "
            "(found 'b' at line 3, column 3)",
        ),
        (HEAD + "  name =\n}\n", 2, 3, "argument 'name' is not complete: found '}' at line 3, column 1; expected a value"),
        (HEAD + "  name = = 1\n}\n", 2, 10, "unexpected '='; expected a value"),
        (HEAD + '  name = "a" @\n}\n', 2, 14, "unexpected '@'; expected a new line"),
        (HEAD + '  name = "a${var.x"\n}\n', 2, 12, "interpolation '${' is not closed: expected '}'"),
        (HEAD + "  d = <<EOT\nabc\n}\n", 2, 7, "heredoc '<<EOT' is not closed: expected a line 'EOT'"),
        (HEAD + "  /* note\n  name = 1\n}\n", 2, 3, "comment '/*' is not closed: expected '*/'"),
        (HEAD + "  name = 1\n}\n}\n", 4, 1, "'}' closes nothing: no '{' is open"),
        (
            'resource "azurerm_subscription_policy_exemption" "x"\n  name = 1\n}\n',
            1,
            1,
            "'resource' is not complete: found 'name' at line 2, column 3; expected '{'",
        ),
    ],
)
def test_syntax_error_positions(text: str, line: int, column: int, message: str) -> None:
    result = load_terraform_text(text, "main.tf", None)
    assert [(e.line, e.column, e.message) for e in result.errors] == [(line, column, f"invalid HCL: {message}")]


def test_valid_hcl_with_brackets_in_strings_comments_and_heredocs_parses() -> None:
    # What the scanner skips: none of these brackets or quotes is code.
    text = (
        HEAD + '  name = "}${"{"}]"  # "open\n'
        '  description = <<-EOT\n    { [ ( "\n    EOT\n'
        "  /* } */ display_name = \"a\" // {\n}\n"
    )
    result = load_terraform_text(text, "main.tf", None)
    assert result.errors == []
    assert result.exemptions[0].name == "}{]"


# --- no silent loss ------------------------------------------------------------------------------

_EXEMPTION_BLOCK = re.compile(r'^resource\s+"(azurerm_\w+_policy_exemption|azapi_resource)"\s+"([\w-]+)"', re.M)
_MODULE_BLOCK = re.compile(r'^module\s+"([\w-]+)"\s*\{', re.M)


def _planned_exemptions(module: dict[str, Any]) -> int:
    resources = [r for r in module.get("resources", []) if r.get("type", "").endswith("_policy_exemption")]
    return len(resources) + sum(_planned_exemptions(child) for child in module.get("child_modules", []))


def test_every_terraform_exemption_is_found_or_reported(tmp_path: Path) -> None:
    """Every exemption block of every Terraform fixture and example is linted, or the file has an
    error, or the module that holds it is noted as not followed."""
    shutil.copytree(FIXTURES, tmp_path / "fixtures")
    shutil.copytree(ROOT / "examples" / "terraform", tmp_path / "examples")
    _, report = run_json(tmp_path, "fixtures", "examples")
    found = {(e["source"]["file"], e["source"]["line"]) for e in report["exemptions"]}
    through: dict[tuple[str, int], list[str]] = {}
    for exemption in report["exemptions"]:
        place = (exemption["source"]["file"], exemption["source"]["line"])
        through.setdefault(place, []).append(exemption["source"]["context"] or "")
    broken = {e["file"] for e in report["errors"]}
    notes = {(f["file"], f["line"]) for f in report["findings"] if f["ruleId"] == "EL009"}
    checked = 0
    for path in sorted(tmp_path.rglob("*.tf")):
        shown = path.relative_to(tmp_path).as_posix()
        text = path.read_text(encoding="utf-8")
        if shown in broken:
            continue
        for match in _EXEMPTION_BLOCK.finditer(text):
            block = text[match.start() : text.find("\n}", match.start())]
            if match.group(1) == "azapi_resource" and "policyExemptions@" not in block:
                continue
            line = text.count("\n", 0, match.start()) + 1
            assert (shown, line) in found, f"{shown}:{line}: {match.group(2)} was neither found nor reported"
            checked += 1
        for match in _MODULE_BLOCK.finditer(text):
            block = text[match.start() : text.find("\n}", match.start())]
            source = re.search(r'source\s*=\s*"([^"]*)"', block)
            assert source is not None
            line = text.count("\n", 0, match.start() + block.find("source")) + 1
            target = (path.parent / source.group(1)).resolve()
            if (shown, line) in notes:
                continue
            # Followed: a local module directory that exists, whose exemptions are linted with
            # this caller's name (unless no instance of the call exists).
            assert source.group(1).startswith(("./", "../")) and target.is_dir(), f"{shown}:{line}"
            if re.search(r"^\s*count\s*=\s*0\s*$", block, re.M):
                continue
            for module_file in sorted(target.glob("*.tf")):
                module_text = module_file.read_text(encoding="utf-8")
                module_shown = module_file.relative_to(tmp_path.resolve()).as_posix()
                for inner in _EXEMPTION_BLOCK.finditer(module_text):
                    inner_line = module_text.count("\n", 0, inner.start()) + 1
                    assert any(
                        f"module.{match.group(1)}" in context for context in through[(module_shown, inner_line)]
                    ), f"{module_shown}:{inner_line} is not linted through {shown}:{line}"
    for path in sorted(tmp_path.rglob("plan*.json")):
        shown = path.relative_to(tmp_path).as_posix()
        planned = json.loads(path.read_text(encoding="utf-8"))["planned_values"]["root_module"]
        linted = [e for e in report["exemptions"] if e["source"]["file"] == shown]
        assert len(linted) == _planned_exemptions(planned), shown
        checked += len(linted)
    assert checked >= 25  # the fixtures hold 27: the test looked at them


def test_terraform_json_syntax_is_noted_not_skipped(tmp_path: Path) -> None:
    (tmp_path / "main.tf.json").write_text(
        '{"resource": {"azurerm_subscription_policy_exemption": {"x": {"name": "x"}}}}', encoding="utf-8"
    )
    (tmp_path / "other.tf.json").write_text('{"resource": {"azurerm_storage_account": {}}}', encoding="utf-8")
    code, report = run_json(tmp_path, ".")
    assert code == 0
    assert findings_of(report) == [("main.tf.json", "EL009", 1, 1)]
    assert report["findings"][0]["message"].startswith("Terraform JSON syntax (.tf.json) is not read")


@pytest.mark.parametrize(("enabled", "context"), [("true", "module.optional[0]."), ("false", "")])
def test_conditional_module_count(tmp_path: Path, enabled: str, context: str) -> None:
    # count = COND ? 1 : 0 decided with the known values: on, the module is linted through its
    # caller; off, no instance deploys it, so it is linted on its own.
    (tmp_path / "root").mkdir()
    (tmp_path / "mod").mkdir()
    (tmp_path / "root" / "main.tf").write_text(
        f'variable "enabled" {{\n  default = {enabled}\n}}\n'
        'module "optional" {\n  source = "../mod"\n  count  = var.enabled ? 1 : 0\n}\n',
        encoding="utf-8",
    )
    (tmp_path / "mod" / "main.tf").write_text(
        'resource "azurerm_subscription_policy_exemption" "x" {\n'
        '  name               = "x"\n'
        f'  subscription_id    = "{SUB}"\n'
        '  exemption_category = "Exempted"\n'
        "}\n",
        encoding="utf-8",
    )
    _, report = run_json(tmp_path, ".")
    (exemption,) = report["exemptions"]
    assert exemption["source"]["context"] == f"{context}azurerm_subscription_policy_exemption.x"
    assert ("mod/main.tf", "EL002", 4, 3) in findings_of(report)


def test_keys_that_are_hcl_keywords_are_located() -> None:
    # for_each, in, if: python-hcl2 parses these argument names as keywords, not identifiers.
    parsed = parse_hcl('resource "a" "b" {\n  for_each = var.x\n  count    = 1\n  body = { in = 1, "if" = 2 }\n}\n')
    block = parsed.block("resource", "a", "b")
    assert block is not None
    assert block.keys[("for_each",)] == Position(2, 3)
    assert block.keys[("count",)] == Position(3, 3)
    assert block.keys[("body", "in")] == Position(4, 12)
    assert block.keys[("body", "if")] == Position(4, 20)
