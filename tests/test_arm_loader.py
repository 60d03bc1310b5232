"""ARM templates: every shape the core loads, with expressions evaluated and positions kept."""

from __future__ import annotations

import datetime
from pathlib import Path

from exemptlint.engine import LintSettings, lint
from exemptlint.loaders import LoadOptions, load_file
from exemptlint.model import LoadResult, ScopeLevel, Unresolved
from exemptlint.rules import BUILTIN_RULES

FIXTURES = Path(__file__).parent / "fixtures" / "arm"
TODAY = datetime.date(2026, 11, 24)
SUB = "/subscriptions/11111111-1111-1111-1111-111111111111"


def load(name: str, **options: object) -> LoadResult:
    result = load_file(FIXTURES / name, LoadOptions(today=TODAY, **options), display=name)  # type: ignore[arg-type]
    assert result.errors == []
    return result


def test_resource_group_template_with_sidecar_parameters_and_relative_scope() -> None:
    (exemption,) = load("rg-scoped.json").exemptions
    assert exemption.name == "stlegacy01-https"
    assert exemption.scope_level == ScopeLevel.RESOURCE
    assert isinstance(exemption.scope, Unresolved)
    assert exemption.scope.partial == (
        "/subscriptions/{subscription().subscriptionId}/resourceGroups/{resourceGroup().name}"
        "/providers/Microsoft.Storage/storageAccounts/stlegacy01"
    )
    # The value comes from rg-scoped.parameters.json beside the template.
    assert exemption.expires_on == "2027-01-31T00:00:00Z"
    # "[[" escapes a literal that starts with "[" and ends with "]".
    assert exemption.display_name == "[Legacy storage account]"
    assignment = exemption.policy_assignment_id
    assert isinstance(assignment, Unresolved)
    assert assignment.partial == (
        "/subscriptions/{subscription().subscriptionId}/providers/Microsoft.Authorization/policyAssignments/"
        "SecurityCenterBuiltIn"
    )
    assert exemption.source.format == "arm"
    assert exemption.api_version == "2022-07-01-preview"


def test_findings_point_into_the_template() -> None:
    result = load("rg-scoped.json")
    findings = lint(result.exemptions, result.assignments, LintSettings(today=TODAY), BUILTIN_RULES)
    # SecurityCenterBuiltIn is resolved from the partial id, so EL001 passes without EL009/EL010.
    assert [(f.rule_id, f.level.value, f.line, f.column) for f in findings] == []


def test_explicit_parameters_file_overrides_defaults(tmp_path: Path) -> None:
    result = load(
        "rg-scoped.json", parameters={"expiresOn": "2030-01-01T00:00:00Z", "storageAccountName": "st2"}
    )
    (exemption,) = result.exemptions
    assert exemption.expires_on == "2030-01-01T00:00:00Z"
    assert exemption.name == "st2-https"


def test_parameter_without_value_is_unresolved_and_reported_as_el009() -> None:
    result = load("no-parameter-value.json")
    (exemption,) = result.exemptions
    assert exemption.scope_level == ScopeLevel.SUBSCRIPTION
    assert isinstance(exemption.expires_on, Unresolved)
    assert exemption.expires_on.expression == "[parameters('expiry')]"
    findings = lint(result.exemptions, result.assignments, LintSettings(today=TODAY), BUILTIN_RULES)
    assert [(f.rule_id, f.level.value, f.line, f.column) for f in findings] == [("EL009", "note", 16, 9)]
    (note,) = findings
    assert note.message.startswith("expiresOn is not known statically: [parameters('expiry')]")
    assert "EL003, EL004, EL005" in note.message


def test_copy_loops_conditions_and_nested_deployments() -> None:
    result = load("copy-and-conditions.jsonc")
    names = [e.name for e in result.exemptions]
    # Three copies of the nested deployment; "legacy" has a literally false condition;
    # "optional" has one that depends on a parameter and is linted.
    assert names == ["sandbox-0", "sandbox-1", "sandbox-2", "optional"]
    first = result.exemptions[0]
    assert first.scope_level == ScopeLevel.RESOURCE_GROUP
    assert isinstance(first.scope, Unresolved)
    assert first.scope.partial == "/subscriptions/{subscription().subscriptionId}/resourceGroups/rg-a"
    # utcNow() in a parameter default is "today" at midnight UTC.
    assert first.expires_on == "2026-12-24T00:00:00Z"
    assert first.source.context == "copyIndex(perGroup) = 0; nested deployment ex-rg-a"
    assert result.exemptions[3].source.context == "deployed only if its condition holds"


def test_copy_loop_findings_share_the_template_position() -> None:
    result = load("copy-and-conditions.jsonc")
    findings = lint(result.exemptions[:3], result.assignments, LintSettings(today=TODAY), BUILTIN_RULES)
    warnings = [(f.rule_id, f.line, f.column) for f in findings]
    # Expires in 30 days: EL005 warns at the expiresOn key of the nested template, once per copy.
    assert warnings == [("EL005", 31, 17)] * 3
    assert [
        f.message.endswith(f"[copyIndex(perGroup) = {i}; nested deployment ex-rg-{c}]")
        for i, c in enumerate("abc")
        for f in findings[i : i + 1]
    ] == [True] * 3


def test_management_group_template_symbolic_resources_and_inner_nested_deployments() -> None:
    result = load("mg-nested-inner.json")
    by_name = {e.name: e for e in result.exemptions}
    assert set(by_name) == {"mg-wide", "sub-11111111-1111-1111-1111-111111111111", "child-mg"}
    assert by_name["mg-wide"].scope_level == ScopeLevel.MANAGEMENT_GROUP
    sub = by_name["sub-11111111-1111-1111-1111-111111111111"]
    assert sub.scope == SUB
    assert sub.scope_level == ScopeLevel.SUBSCRIPTION
    child = by_name["child-mg"]
    assert child.scope == "/providers/Microsoft.Management/managementGroups/contoso-landing-zones"
    (assignment,) = result.assignments
    assert assignment.name == "pr-mcsb"
    assert assignment.policy_definition_id.endswith("1f3afdf9-d0c9-4c3d-847f-89da613e70a8")


def test_assignment_in_the_template_makes_el001_pass_and_el007_fire() -> None:
    result = load("mg-nested-inner.json")
    findings = lint(result.exemptions, result.assignments, LintSettings(today=TODAY), BUILTIN_RULES)
    summary = sorted((f.rule_id, f.level.value, f.line, f.column) for f in findings)
    assert ("EL001", "error") not in {(r, lvl) for r, lvl, _, _ in summary}
    assert ("EL010", "warning") not in {(r, lvl) for r, lvl, _, _ in summary}
    # The two management-group exemptions are too broad (reported at their "name" keys, as
    # they have no scope property); the child one also lacks an expiry and a description.
    assert ("EL007", "error", 19, 7) in summary
    assert ("EL007", "error", 75, 15) in summary
    assert ("EL003", "error", 76, 15) in summary
