"""Bicep: each construct the loader recognizes, with exact rule ids, lines and columns in the
.bicep files (fixtures in tests/fixtures/bicep; "today" is pinned)."""

from __future__ import annotations

import datetime
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from exemptlint.cli import main
from exemptlint.engine import LintSettings, lint
from exemptlint.loaders import LoadOptions, discover, load_file
from exemptlint.loaders.bicep_syntax import BicepSyntaxError, parse_document
from exemptlint.model import Finding, LoadResult, Position, ScopeLevel, Unresolved
from exemptlint.rules import BUILTIN_RULES

FIXTURES = Path(__file__).parent / "fixtures" / "bicep"
TODAY = datetime.date(2026, 11, 24)
SUB = "{subscription().subscriptionId}"
RG = "{resourceGroup().name}"


def load(name: str, **options: object) -> LoadResult:
    result = load_file(FIXTURES / name, LoadOptions(today=TODAY, **options), display=name)  # type: ignore[arg-type]
    assert result.errors == []
    return result


def run(result: LoadResult) -> list[Finding]:
    return lint(
        result.exemptions, result.assignments, LintSettings(today=TODAY), BUILTIN_RULES, notes=result.notes
    )


def located(findings: list[Finding]) -> list[tuple[str, str, int, int]]:
    return [(f.rule_id, f.level.value, f.line, f.column) for f in findings]


def test_plain_exemption_positions_and_values() -> None:
    result = load("plain.bicep")
    (exemption,) = result.exemptions
    assert exemption.name == "app-tls"
    assert exemption.source.format == "bicep"
    assert exemption.source.file == "plain.bicep"
    assert exemption.api_version == "2022-07-01-preview"
    # The exemption is where its `resource` keyword is; properties at their keys.
    locator = exemption.source.locator
    assert locator.exemption() == Position(2, 1, 8)
    assert locator.property("name") == Position(3, 3, 4)
    assert locator.property("properties") == Position(4, 3, 10)
    assert locator.property("policyDefinitionReferenceIds") == Position(6, 5, 28)
    assert locator.property("scope") is None
    # No scope property: the resource group the template deploys to.
    assert exemption.scope_level == ScopeLevel.RESOURCE_GROUP
    assert isinstance(exemption.scope, Unresolved)
    assert exemption.scope.partial == f"/subscriptions/{SUB}/resourceGroups/{RG}"
    assert located(run(result)) == [
        ("EL002", "warning", 9, 5),
        ("EL005", "error", 10, 5),
        ("EL006", "error", 12, 5),
    ]


def test_conditions() -> None:
    result = load("condition.bicep")
    # if (false) and a variable that is false are never deployed; a parameter may be overridden.
    assert [e.name for e in result.exemptions] == ["legacy-storage"]
    assert result.exemptions[0].source.context == "deployed only if its condition holds"
    findings = run(result)
    assert located(findings) == [("EL005", "warning", 12, 5)]
    assert findings[0].message.endswith("[deployed only if its condition holds]")


def test_loops_item_index_range_and_filter() -> None:
    result = load("loops.bicep")
    assert [(e.name, e.source.context) for e in result.exemptions] == [
        ("stlegacy01-secure-transfer", "for index 0"),
        ("stlegacy02-secure-transfer", "for index 1"),
        ("stlegacy03-secure-transfer", "for index 2"),
        ("batch-1", "for index 0"),
        ("batch-2", "for index 1"),
        # [for ...: if (account != 'stlegacy02') {...}] leaves the second out.
        ("stlegacy01-private-link", "for index 0"),
        ("stlegacy03-private-link", "for index 2"),
    ]
    first = result.exemptions[0]
    assert first.scope_level == ScopeLevel.RESOURCE
    assert isinstance(first.scope, Unresolved)
    assert first.scope.partial == (
        f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Storage/storageAccounts/stlegacy01"
    )
    # range(1, 2) and 'P${n * 200}D'
    assert [e.expires_on for e in result.exemptions[3:5]] == ["2027-06-12T00:00:00Z", "2027-12-29T00:00:00Z"]
    assert [(f.rule_id, f.line, f.column, f.message.rsplit("[", 1)[-1]) for f in run(result)] == [
        ("EL005", 24, 5, "for index 2]"),
        ("EL004", 36, 5, "for index 1]"),
        ("EL006", 50, 5, "for index 0]"),
        ("EL006", 50, 5, "for index 2]"),
    ]


def test_scope_property_functions_and_levels() -> None:
    result = load("scope-functions.bicep")
    scopes = {
        e.name: (e.scope if isinstance(e.scope, str) else e.scope.partial, e.scope_level)
        for e in result.exemptions
    }
    assert scopes == {
        "at-deployment": (f"/subscriptions/{SUB}", ScopeLevel.SUBSCRIPTION),
        "at-subscription": (f"/subscriptions/{SUB}", ScopeLevel.SUBSCRIPTION),
        "at-other-subscription": (
            "/subscriptions/00000000-0000-0000-0000-000000000002",
            ScopeLevel.SUBSCRIPTION,
        ),
        "at-resource-group": (f"/subscriptions/{SUB}/resourceGroups/rg-app", ScopeLevel.RESOURCE_GROUP),
        "at-other-resource-group": (
            "/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg-data",
            ScopeLevel.RESOURCE_GROUP,
        ),
        "at-management-group": (
            "/providers/Microsoft.Management/managementGroups/contoso-platform",
            ScopeLevel.MANAGEMENT_GROUP,
        ),
        "at-tenant": ("/", ScopeLevel.TENANT),
        "at-extension-resource": (
            f"/subscriptions/{SUB}/providers/Microsoft.Security/pricings/VirtualMachines",
            ScopeLevel.RESOURCE,
        ),
    }
    assert located(run(result)) == [
        # No policyDefinitionReferenceIds property: at the properties key.
        ("EL007", "warning", 17, 3),
        ("EL007", "warning", 31, 5),
        ("EL007", "error", 53, 3),
        ("EL007", "error", 59, 3),
        # The tenant is not below the management group the exempted assignment is at.
        ("EL014", "error", 59, 3),
    ]


@pytest.mark.parametrize(
    ("name", "level", "expected"),
    [
        (
            "target-management-group.bicep",
            ScopeLevel.MANAGEMENT_GROUP,
            [("EL007", "error", 4, 3), ("EL010", "warning", 6, 5)],
        ),
        # The tenant is not below the exempted assignment's management group (EL014 points at
        # the assignment: the exemption has no scope property).
        ("target-tenant.bicep", ScopeLevel.TENANT, [("EL007", "error", 4, 3), ("EL014", "error", 6, 5)]),
    ],
)
def test_target_scope(name: str, level: ScopeLevel, expected: list[tuple[str, str, int, int]]) -> None:
    result = load(name)
    (exemption,) = result.exemptions
    assert exemption.scope_level == level
    # Without a scope property, EL007 points at the name.
    assert located(run(result)) == expected


def test_existing_parents_nested_resources_and_accessors() -> None:
    result = load("existing.bicep")
    partials = {e.name: e.scope.partial for e in result.exemptions if isinstance(e.scope, Unresolved)}
    base = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers"
    assert partials == {
        "snet-legacy-nsg": f"{base}/Microsoft.Network/virtualNetworks/vnet-hub/subnets/snet-legacy",
        # Declared inside the existing storage account.
        "stdata01-public-access": f"{base}/Microsoft.Storage/storageAccounts/stdata01",
        # scope: storage::blobs
        "stdata01-blobs": f"{base}/Microsoft.Storage/storageAccounts/stdata01/blobServices/default",
    }
    assert all(e.scope_level == ScopeLevel.RESOURCE for e in result.exemptions)
    # The bare date '2027-03-31' (line 51) is read as UTC, as Azure reads it: no EL004.
    assert located(run(result)) == [
        ("EL006", "error", 21, 5),
        ("EL005", "error", 38, 7),
    ]


def test_expressions_are_evaluated_statically() -> None:
    result = load("expressions.bicep")
    exemption, now = result.exemptions
    assert exemption.name == "payments-prod-tls"
    assert exemption.exemption_category == "Mitigated"
    # dateTimeAdd(utcNow(), 'P90D') in a parameter default, against the pinned today.
    assert exemption.expires_on == "2027-02-22T00:00:00Z"
    assert exemption.display_name == "Payments: HTTPS enforced by the gateway"
    # Multi-line strings are verbatim: no interpolation, first newline dropped.
    assert exemption.description == "The application gateway terminates TLS for every ${team} endpoint.\n"
    assert exemption.policy_definition_reference_ids == ["webAppEnforceHttpsMonitoring"]
    assignment = exemption.policy_assignment_id
    assert isinstance(assignment, Unresolved)
    assert assignment.expression == (
        "subscriptionResourceId('Microsoft.Authorization/policyAssignments', 'SecurityCenterBuiltIn')"
    )
    assert (
        assignment.partial
        == f"/subscriptions/{SUB}/providers/Microsoft.Authorization/policyAssignments/SecurityCenterBuiltIn"
    )
    metadata = dict(exemption.metadata)
    resource_group_id = metadata.pop("resourceGroupId")
    storage = metadata.pop("storage")
    # A nullable parameter that nothing supplies is an input the caller gives: unknown, not
    # its fallback (the file is linted on its own; see test_conditions_and_inputs.py).
    optional = metadata.pop("optional")
    assert isinstance(optional, Unresolved)
    assert optional.reason == (
        "parameter 'optionalTicket' is nullable and no value was supplied: an input the caller of the file must give"
    )
    assert metadata == {
        "ticket": "CHG-1042",
        "owner": "alice@contoso.com",
        "lastOwner": "bob@contoso.com",
        "reviewed": "2026-11-24",
        "approver": "unassigned",
        "noOwners": False,
        "merged": {"a": 1, "b": 2},
        "snake": "payments_prod",
        "joined": "abc",
        "upper": "PROD",
        "count": 5,
        "flags": [True, True],
        "escaped": "it's 100% ${literal}",
        "tenantRoot": "/providers/Microsoft.Management/managementGroups/contoso",
        "initiative": "/providers/Microsoft.Management/managementGroups/contoso/providers/"
        "Microsoft.Authorization/policySetDefinitions/Deploy-Diag",
        "lock": "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-payments/providers/"
        "Microsoft.Authorization/locks/no-delete",
        "month": "2026-12-24",
    }
    assert isinstance(resource_group_id, Unresolved)
    assert resource_group_id.partial == f"/subscriptions/{SUB}/resourceGroups/{RG}"
    assert isinstance(storage, Unresolved)
    assert (
        storage.partial
        == f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Storage/storageAccounts/stpayments01"
    )
    # utcNow() outside a parameter default is not known: reported by EL009, never guessed.
    assert isinstance(now.expires_on, Unresolved)
    findings = run(result)
    assert located(findings) == [("EL009", "note", 66, 5)]
    assert findings[0].message.startswith(
        "expiresOn is not known statically: utcNow() (utcNow() is only allowed in parameter default values)"
    )


def test_decorators_and_comments_anywhere() -> None:
    result = load("decorators-comments.bicep")
    (exemption,) = result.exemptions
    assert exemption.source.locator.exemption() == Position(15, 1, 8)
    assert exemption.source.locator.property("policyAssignmentId") == Position(19, 18, 18)
    # A quoted key: the position is its opening quote.
    assert exemption.source.locator.property("description") == Position(25, 5, 13)
    assert located(run(result)) == [("EL002", "warning", 20, 5), ("EL006", "error", 25, 5)]


def test_modules_are_followed_with_parameters_and_scope() -> None:
    result = load("modules/main.bicep")
    assert [(e.name, e.source.file, e.source.context) for e in result.exemptions] == [
        ("app-tls", "modules/exemption-rg.bicep", "module perResourceGroup (for index 0)"),
        ("data-tls", "modules/exemption-rg.bicep", "module perResourceGroup (for index 1)"),
        ("sub-wide", "modules/nested/exemption-sub.bicep", "module atSubscription"),
    ]
    app, _, sub = result.exemptions
    # scope: resourceGroup(e.resourceGroup) gives the module its resource group.
    assert isinstance(app.scope, Unresolved)
    assert app.scope.partial == f"/subscriptions/{SUB}/resourceGroups/rg-app"
    assert app.description == "TLS terminates at the application gateway of rg-app."
    assert sub.scope_level == ScopeLevel.SUBSCRIPTION
    assert [(f.rule_id, f.file, f.line, f.column) for f in run(result)] == [
        ("EL005", "modules/exemption-rg.bicep", 11, 5),
        ("EL007", "modules/nested/exemption-sub.bicep", 7, 3),
        ("EL009", "modules/nested/exemption-sub.bicep", 12, 5),
    ]


def test_registry_modules_are_notes_not_crashes() -> None:
    result = load("registry.bicep")
    assert result.exemptions == []
    findings = run(result)
    assert located(findings) == [
        ("EL009", "note", 3, 12),
        ("EL009", "note", 10, 13),
        ("EL009", "note", 14, 12),
    ]
    assert findings[0].message == (
        "module 'br/public:avm/ptn/authorization/policy-exemption:0.1.0' comes from a registry and is not "
        "followed: the exemptions it deploys are not linted"
    )
    assert "template spec" in findings[1].message


def test_module_cycles_stop_with_a_note() -> None:
    result = load("cycle/a.bicep")
    assert [(e.name, e.source.context) for e in result.exemptions] == [
        ("from-a", None),
        ("from-b", "module b"),
    ]
    assert [(f.rule_id, f.file, f.line, f.column) for f in run(result)] == [
        ("EL005", "cycle/b.bicep", 6, 5),
        ("EL009", "cycle/b.bicep", 12, 10),
    ]
    assert "module cycle" in run(result)[1].message


def test_sibling_bicepparam_values() -> None:
    result = load("bicepparam/main.bicep")
    (exemption,) = result.exemptions
    # From main.bicepparam (other.bicepparam uses another template and is ignored).
    assert exemption.expires_on == "2026-12-01T00:00:00Z"
    assert exemption.exemption_category == "Mitigated"
    assert exemption.policy_definition_reference_ids == [
        "AzureDefenderForResourceManagerShouldBeEnabledMonitoringEffect"
    ]
    assert exemption.source.context is None
    assert located(run(result)) == [("EL005", "warning", 14, 5)]


def test_parameters_option_overrides_bicepparam_values() -> None:
    result = load("bicepparam/main.bicep", parameters={"expiresOn": "2027-04-30T23:59:59Z"})
    (exemption,) = result.exemptions
    assert exemption.expires_on == "2027-04-30T23:59:59Z"
    assert exemption.exemption_category == "Mitigated"
    assert located(run(result)) == []


def test_bicepparam_file_on_its_own_holds_no_exemption(tmp_path: Path) -> None:
    assert load("bicepparam/main.bicepparam").exemptions == []
    broken = tmp_path / "broken.bicepparam"
    broken.write_text("using './main.bicep'\n\nparam expiresOn = {\n", encoding="utf-8")
    result = load_file(broken, LoadOptions(today=TODAY), display="broken.bicepparam")
    assert [(e.file, e.line, e.column, e.message) for e in result.errors] == [
        # Where the object that is never closed starts (issue 17.7), not at the end of the file.
        ("broken.bicepparam", 3, 19, "invalid Bicep: '{' is not closed: expected '}'")
    ]


def test_arm_parameters_file_beside_the_bicep_file() -> None:
    result = load("parameters-json/main.bicep")
    (exemption,) = result.exemptions
    assert exemption.name == "stlegacy01-https"
    assert exemption.expires_on == "2026-12-01T00:00:00Z"
    assert located(run(result)) == [("EL005", "warning", 14, 5)]
    overridden = load("parameters-json/main.bicep", parameters={"storageAccountName": "st2"})
    assert overridden.exemptions[0].name == "st2-https"


def test_load_json_content() -> None:
    result = load("load-json/main.bicep")
    assert [e.name for e in result.exemptions] == ["kv-purge-protection", "kv-firewall"]
    assert located(run(result)) == [("EL003", "error", 9, 5)]


def test_assignments_defined_in_bicep_feed_el001() -> None:
    result = load("assignments/main.bicep")
    assert [(a.name, a.policy_definition_id) for a in result.assignments] == [
        (
            "pr-mcsb",
            "/providers/Microsoft.Authorization/policySetDefinitions/1f3afdf9-d0c9-4c3d-847f-89da613e70a8",
        ),
        (
            "deploy-diag",
            "/providers/Microsoft.Management/managementGroups/contoso/providers/Microsoft.Authorization/"
            "policySetDefinitions/Deploy-Diagnostics",
        ),
    ]
    assignment_id = result.assignments[0].id
    assert isinstance(assignment_id, Unresolved)
    assert assignment_id.partial == (
        "/providers/Microsoft.Management/managementGroups/{managementGroup().name}/providers/"
        "Microsoft.Authorization/policyAssignments/pr-mcsb"
    )
    # The benchmark exemption passes; the custom initiative's fails EL001, in the module file.
    assert [(f.rule_id, f.file, f.line, f.column) for f in run(result)] == [
        ("EL001", "assignments/exemptions.bicep", 29, 5)
    ]


def test_suppression_comments() -> None:
    result = load("suppressions.bicep")
    findings = run(result)
    assert [(f.rule_id, f.line, f.column, f.suppression is not None) for f in findings] == [
        ("EL005", 9, 5, True),
        ("EL006", 11, 5, True),
        # #disable-next-line naming only Bicep linter rules is not an exemptlint directive; one that
        # names EL002 without a reason suppresses it and is reported by EL011 at the comment.
        ("EL011", 21, 5, False),
        ("EL002", 22, 5, True),
    ]
    assert findings[1].suppression is not None
    assert findings[1].suppression.justification == "the ticket id is the description in this team"
    assert findings[0].suppression is not None
    assert findings[0].suppression.justification == "renewal approved in CHG-9000, deployment pending"


def test_parse_error_reports_file_line_and_column_and_no_exemption() -> None:
    result = load_file(FIXTURES / "invalid.bicep", LoadOptions(today=TODAY), display="invalid.bicep")
    assert result.exemptions == []
    assert [(e.file, e.line, e.column, e.message) for e in result.errors] == [
        ("invalid.bicep", 5, 16, "invalid Bicep: unexpected '='")
    ]


def test_unknown_values_are_el009_notes() -> None:
    result = load("unresolved.bicep")
    findings = run(result)
    assert located(findings) == [("EL009", "note", 8, 5), ("EL009", "note", 10, 5)]
    assert findings[1].message == (
        "expiresOn is not known statically: expiresOn (parameter 'expiresOn' has no default value and no "
        "value was supplied); not checked by EL003, EL004, EL005"
    )


def test_grammar_gaps_extension_and_spread_are_bridged() -> None:
    result = load("grammar-gaps.bicep")
    (exemption,) = result.exemptions
    assert exemption.exemption_category == "Mitigated"
    assert exemption.policy_definition_reference_ids == [
        "secureTransferToStorageAccountMonitoring",
        "StorageDisallowPublicAccess",
        "secureTransferToStorageAccountMonitoring",
        "webAppEnforceHttpsMonitoring",
    ]
    assert exemption.metadata == {"ticket": "CHG-8100"}
    # A property from a spread has no key of its own: findings point at the properties key.
    assert exemption.source.locator.property("expiresOn") is None
    assert located(run(result)) == [("EL005", "error", 16, 3)]


def test_spreads_keep_their_text_and_positions() -> None:
    document = parse_document("var a = [\n  ...b.c\n  1\n  ...concat(x, y)\n]\n")
    (variable,) = document.variables
    items = variable.value.items  # type: ignore[union-attr]
    assert [type(item).__name__ for item in items] == ["Spread", "Literal", "Spread"]
    assert [(item.span.line, item.span.column, item.span.text) for item in items] == [
        (2, 6, "b.c"),
        (3, 3, "1"),
        (4, 6, "concat(x, y)"),
    ]


def test_module_with_syntax_error_is_an_error_in_the_module_file(tmp_path: Path) -> None:
    (tmp_path / "main.bicep").write_text(
        "module broken './broken.bicep' = {\n  name: 'broken'\n}\n", encoding="utf-8"
    )
    (tmp_path / "broken.bicep").write_text(
        "resource e 'Microsoft.Authorization/policyExemptions@2022-07-01-preview' = {\n  name: \n}\n",
        encoding="utf-8",
    )
    result = load_file(tmp_path / "main.bicep", LoadOptions(today=TODAY), display="main.bicep")
    assert [(e.file, e.line) for e in result.errors] == [("broken.bicep", 2)]


def test_columns_count_characters_not_bytes(tmp_path: Path) -> None:
    path = tmp_path / "unicode.bicep"
    path.write_text(
        "resource e 'Microsoft.Authorization/policyExemptions@2022-07-01-preview' = {\n"
        "  name: 'café'\n"
        "  properties: {\n"
        "    /* é */ exemptionCategory: 'Wäiver'\n"
        "  }\n"
        "}\n",
        encoding="utf-8",
    )
    result = load_file(path, LoadOptions(today=TODAY), display="unicode.bicep")
    (exemption,) = result.exemptions
    assert exemption.name == "café"
    assert exemption.source.locator.property("exemptionCategory") == Position(4, 13, 17)


def test_string_escapes() -> None:
    document = parse_document("var s = 'it\\'s \\${x} \\n \\u{1F600} \\\\'\n")
    (variable,) = document.variables
    assert getattr(variable.value, "value", None) == "it's ${x} \n \U0001f600 \\"


def test_calls_the_grammar_splits_in_arrays_are_rejoined() -> None:
    document = parse_document("var a = [\n  concat('a', 'b')\n  last(x).y\n  'c'\n]\n")
    (variable,) = document.variables
    assert [item.span.text for item in variable.value.items] == ["concat('a', 'b')", "last(x).y", "'c'"]  # type: ignore[union-attr]


def test_syntax_error_exception_has_a_position() -> None:
    with pytest.raises(BicepSyntaxError) as raised:
        parse_document("param x string = \n")
    assert (raised.value.line, raised.value.column) >= (1, 1)


def test_irrelevant_bicep_files_are_not_parsed(tmp_path: Path) -> None:
    path = tmp_path / "storage.bicep"
    path.write_text(
        "resource sa 'Microsoft.Storage/storageAccounts@2023-01-01' = {\n  name: \n", encoding="utf-8"
    )
    assert load_file(path, LoadOptions(today=TODAY)) == LoadResult()


def test_discovery_includes_bicep_and_bicepparam(tmp_path: Path) -> None:
    for name in ("main.bicep", "main.bicepparam", "template.json", "notes.md"):
        (tmp_path / name).write_text("", encoding="utf-8")
    files, errors = discover([str(tmp_path)])
    assert errors == []
    assert sorted(p.name for p in files) == ["main.bicep", "main.bicepparam", "template.json"]


def test_cli_parse_error_exits_2_and_other_files_are_still_linted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copyfile(FIXTURES / "invalid.bicep", tmp_path / "invalid.bicep")
    shutil.copyfile(FIXTURES / "plain.bicep", tmp_path / "plain.bicep")
    assert main(["check", ".", "--today", "2026-11-24", "--format", "concise"]) == 2
    out = capsys.readouterr().out
    assert "invalid.bicep:5:16: error: invalid Bicep: unexpected '='" in out
    assert "plain.bicep:10:5: EL005 [error] exemption 'app-tls' expired on 2026-10-31" in out


def test_cli_registry_module_note_does_not_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copyfile(FIXTURES / "registry.bicep", tmp_path / "registry.bicep")
    assert main(["check", "registry.bicep", "--today", "2026-11-24", "--format", "concise"]) == 0
    assert "registry.bicep:3:12: EL009 [note]" in capsys.readouterr().out


def test_the_bicep_parser_is_imported_only_when_a_bicep_file_is_linted() -> None:
    code = (
        "import sys, datetime, pathlib\n"
        "from exemptlint.loaders import LoadOptions, load_file\n"
        "from exemptlint.cli import build_parser\n"
        "assert 'tree_sitter' not in sys.modules\n"
        f"load_file(pathlib.Path({str(FIXTURES / 'plain.bicep')!r}), LoadOptions(today=datetime.date(2026, 11, 24)))\n"
        "assert 'tree_sitter' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_extension_and_provider_statements_are_not_syntax_errors() -> None:
    document = parse_document(
        "provider microsoftGraph\nextension kubernetes with {\n  namespace: 'default'\n} as k8s\nvar x = 1\n"
    )
    assert [v.name for v in document.variables] == ["x"]


def test_mutated_fixtures_never_crash_the_loader() -> None:
    """Random edits of the fixtures give exemptions, notes or a LoadError, never an exception."""
    import random

    from exemptlint.loaders.bicep import load_bicep_text

    rng = random.Random(20261124)
    sources = [(p, p.read_text(encoding="utf-8")) for p in sorted(FIXTURES.rglob("*.bicep"))]
    pieces = [
        "'",
        "{",
        "}",
        "[",
        "]",
        "(",
        ")",
        "...",
        "${",
        "?",
        ":",
        "??",
        ".?",
        "!",
        " for ",
        " if ",
        "\n",
    ]
    pieces += ["resource ", "module ", "'''", "#disable-next-line EL005\n", "\\", "é", "\x00"]
    options = LoadOptions(today=TODAY, time_budget=0)
    for _ in range(300):
        path, text = rng.choice(sources)
        chars = list(text)
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(chars) + 1)
            if rng.random() < 0.5:
                chars.insert(at, rng.choice(pieces))
            else:
                del chars[at : at + rng.randint(1, 20)]
        result = load_bicep_text("".join(chars), "mutated.bicep", options, path)
        run(result)
        for exemption in result.exemptions:
            exemption.to_json()
