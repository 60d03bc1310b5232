"""Terraform: HCL resources (variables, tfvars, locals, templates, count, for_each, jsonencode,
assignments) and plan JSON, with exact rule ids and positions."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

from exemptlint.engine import LintSettings, lint
from exemptlint.loaders.jsontext import JsonPositions
from exemptlint.loaders.terraform import is_terraform_plan, load_terraform_plan, load_terraform_text
from exemptlint.model import LoadError, LoadResult, ScopeLevel, Unresolved
from exemptlint.rules import BUILTIN_RULES

FIXTURES = Path(__file__).parent / "fixtures" / "terraform"
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
