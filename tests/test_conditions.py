"""Conditions mean one thing in every loader: a resource, nested deployment or module whose
condition is false (or whose loop or count has no items) with the values known is not linted and
is listed under ``skipped``; one whose condition cannot be decided is linted, with what it
depends on unknown. A file linted on its own treats its empty optional parameters as inputs its
caller gives. Copy loops ARM rejects are EL008 errors; a module reached only through undeployed
instances is linted on its own."""

from __future__ import annotations

import datetime
import json
import shutil
from pathlib import Path

import pytest

from exemptlint.cli import main
from exemptlint.engine import LintSettings, lint
from exemptlint.loaders import LoadOptions, load_file
from exemptlint.model import LoadResult, ScopeLevel, Skipped, Unresolved, standalone_loads
from exemptlint.rules import BUILTIN_RULES

FIXTURES = Path(__file__).parent / "fixtures" / "conditions"
REALISTIC = Path(__file__).parent / "fixtures" / "bicep" / "realistic"
TODAY = datetime.date(2026, 11, 24)
SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000001"

# (rule, level, file, line, column)
Located = tuple[str, str, str, int, int]


def load(relative: str, **options: object) -> LoadResult:
    result = load_file(FIXTURES / relative, LoadOptions(today=TODAY, **options), display=relative)  # type: ignore[arg-type]
    assert result.errors == []
    return result


def findings(result: LoadResult, **settings: object) -> list[Located]:
    found = lint(
        result.exemptions,
        result.assignments,
        LintSettings(today=TODAY, **settings),  # type: ignore[arg-type]
        BUILTIN_RULES,
        notes=result.notes,
    )
    return [(f.rule_id, f.level.value, f.file, f.line, f.column) for f in found]


def messages(result: LoadResult) -> list[str]:
    found = lint(result.exemptions, result.assignments, LintSettings(today=TODAY), BUILTIN_RULES, notes=result.notes)
    return [f.message for f in found]


def skipped(result: LoadResult) -> list[tuple[int, int, str, str, str | None]]:
    return [(s.line, s.column, s.condition, s.reason, s.context) for s in result.skipped]


# --------------------------------------------------------------------------- ARM

GENERIC = "arm/generic-module.json"
MG_BRANCH = "[and(empty(parameters('subscriptionId')), empty(parameters('resourceGroupName')))]"
SUB_BRANCH = "[and(not(empty(parameters('subscriptionId'))), empty(parameters('resourceGroupName')))]"
RG_BRANCH = (
    "[and(not(empty(parameters('subscriptionId'))), not(empty(parameters('resourceGroupName'))))]"
)


def test_arm_branches_off_with_the_defaults_are_skipped_and_listed() -> None:
    result = load(GENERIC)
    # Only the management-group exemption is deployed with the defaults: EL007 at its name; its
    # description defaults to '' and nothing supplies one, an input the caller gives (EL009).
    assert findings(result) == [("EL007", "error", GENERIC, 20, 7), ("EL009", "note", GENERIC, 27, 9)]
    assert "defaults to '' and no value was supplied" in messages(result)[1]
    # Not "scope '/subscriptions/'" (EL008) for the branches the empty ids turn off: skipped,
    # each at its condition key.
    assert skipped(result) == [
        (31, 7, SUB_BRANCH, "the condition is false", None),
        (72, 7, RG_BRANCH, "the condition is false", None),
    ]
    assert [s.resource for s in result.skipped] == [
        "Microsoft.Resources/deployments 'exemption-subscription'",
        "Microsoft.Authorization/policyExemptions 'storage-https'",
    ]


def test_arm_supplied_values_decide_the_branches_and_are_judged() -> None:
    values = {"subscriptionId": SUBSCRIPTION_ID, "description": "TODO"}
    result = load(GENERIC, parameters=values)
    # The subscription branch (an inner-scope nested deployment) is deployed; 'TODO' is judged.
    assert findings(result) == [("EL006", "error", GENERIC, 64, 17)]
    assert skipped(result) == [
        (17, 7, MG_BRANCH, "the condition is false", None),
        (72, 7, RG_BRANCH, "the condition is false", None),
    ]
    # Without a description, the nested template sees the outer input as unknown, not ''.
    result = load(GENERIC, parameters={"subscriptionId": SUBSCRIPTION_ID})
    assert findings(result) == [("EL009", "note", GENERIC, 64, 17)]


def test_arm_parameters_file_deploys_the_template_with_its_defaults() -> None:
    # sidecar.parameters.json turns the exemption on and gives no description: the file is
    # deployed as it stands, so the default '' is what is deployed.
    result = load("arm/sidecar.json")
    assert findings(result) == [("EL006", "error", "arm/sidecar.json", 20, 9)]
    assert "has no description" in messages(result)[0]
    good = "The storage team backs these VMs up with its own tool (CHG-3311)."
    assert findings(load("arm/sidecar.json", parameters={"description": good})) == []


def test_arm_condition_not_decided_is_linted_with_unknown_values() -> None:
    result = load("arm/unknown-condition.json")
    # 'mode' has no value: linted. The empty defaults stay unknown: no EL008 for a scope
    # '/subscriptions/', no EL002 for a category ''.
    assert findings(result) == [("EL009", "note", "arm/unknown-condition.json", 19, 9)]
    assert result.skipped == []
    (exemption,) = result.exemptions
    assert isinstance(exemption.scope, Unresolved)
    assert exemption.scope.partial == "/subscriptions/{parameters('subscriptionId')}"
    assert exemption.scope_level == ScopeLevel.SUBSCRIPTION
    assert exemption.source.context == "deployed only if its condition holds"


def test_arm_copy_count_zero_is_skipped_and_above_800_is_an_el008_error() -> None:
    result = load("arm/copy-limits.json")
    assert findings(result) == [("EL008", "error", "arm/copy-limits.json", 23, 32)]
    assert messages(result) == [
        "copy count 801 is not allowed: ARM deploys 0 to 800 copies of a resource and rejects this template"
    ]
    assert skipped(result) == [(13, 36, "[length(parameters('groups'))]", "the copy count is 0", None)]
    # 801 copies are linted once, with copyIndex() unknown; 800 copies are all linted.
    bulk, *limit = result.exemptions
    assert isinstance(bulk.name, Unresolved)
    assert bulk.name.partial == "bulk-{copyIndex()}"
    assert bulk.source.context == "copy count 801 not expanded"
    assert len(limit) == 800
    assert limit[-1].source.context == "copyIndex(limit) = 799"


def test_arm_negative_copy_count_is_reported_not_dropped(tmp_path: Path) -> None:
    template = json.loads((FIXTURES / "arm" / "copy-limits.json").read_text(encoding="utf-8"))
    template["parameters"]["many"]["defaultValue"] = -1
    path = tmp_path / "negative.json"
    path.write_text(json.dumps(template, indent=2), encoding="utf-8")
    result = load_file(path, LoadOptions(today=TODAY), display="negative.json")
    assert findings(result)[0][:2] == ("EL008", "error")
    assert messages(result)[0].startswith("copy count -1 is not allowed")
    assert len(result.exemptions) == 801


def test_el008_template_problems_follow_select_ignore_and_levels() -> None:
    from exemptlint.model import Level

    result = load("arm/copy-limits.json")
    assert findings(result, ignore=("EL008",)) == []
    assert findings(result, select=("EL009",)) == []
    assert findings(result, levels={"EL008": Level.WARNING}) == [
        ("EL008", "warning", "arm/copy-limits.json", 23, 32)
    ]


# --------------------------------------------------------------------------- Bicep


def test_bicep_reusable_module_on_its_own() -> None:
    main_file = "bicep/generic/main.bicep"
    result = load(main_file)
    # The management-group exemption is deployed with the defaults (EL007 at its name);
    # displayName is nullable and description defaults to '': inputs, so EL009, not EL006.
    assert findings(result) == [
        ("EL007", "error", main_file, 14, 3),
        ("EL009", "note", main_file, 20, 5),
        ("EL009", "note", main_file, 21, 5),
    ]
    assert "'displayName' is nullable and no value was supplied" in messages(result)[1]
    assert skipped(result) == [
        (25, 46, "!empty(subscriptionId) && empty(resourceGroupName)", "the condition is false", None)
    ]
    assert result.skipped[0].resource == "module atSubscription 'subscription.bicep'"
    # The module it does not deploy is not "followed": a directory scan lints it on its own.
    assert result.followed == set()


def test_bicep_caller_values_decide_and_are_judged() -> None:
    result = load("bicep/generic/caller.bicep")
    # The caller passes a subscription: the subscription module is deployed, 'TODO' is judged.
    assert findings(result) == [("EL006", "error", "bicep/generic/subscription.bicep", 15, 5)]
    assert skipped(result) == [
        (13, 92, "empty(subscriptionId) && empty(resourceGroupName)", "the condition is false", "module exemption")
    ]
    assert result.skipped[0].file == "bicep/generic/main.bicep"
    assert result.followed == {"bicep/generic/main.bicep", "bicep/generic/subscription.bicep"}


def test_bicep_parameters_file_deploys_the_defaults() -> None:
    # main.bicepparam turns the exemption on and leaves description at ''.
    result = load("bicep/with-params/main.bicep")
    assert findings(result) == [("EL006", "error", "bicep/with-params/main.bicep", 14, 5)]
    good = "The storage team backs these VMs up with its own tool (CHG-3311)."
    assert findings(load("bicep/with-params/main.bicep", parameters={"description": good})) == []


def test_bicep_loops_empty_filtered_and_too_many() -> None:
    loops = "bicep/loops.bicep"
    result = load(loops)
    assert findings(result) == [("EL008", "error", loops, 35, 82), ("EL009", "note", loops, 42, 5)]
    assert messages(result)[0] == (
        "the loop has 801 items: ARM deploys at most 800 copies of a resource or module and rejects the template"
    )
    assert skipped(result) == [
        (13, 83, "groups", "the loop has no items", None),
        (22, 111, "account != skipAccount", "the condition is false", "for index 1"),
    ]
    names = [e.name if isinstance(e.name, str) else e.name.partial for e in result.exemptions]
    assert names == ["stlegacy01-https", "bulk-{i}"]
    assert result.exemptions[1].source.context == "loop over range(0, 801) not expanded"


def test_bicep_child_of_a_resource_not_deployed_is_skipped() -> None:
    result = load("bicep/child.bicep")
    assert result.exemptions == []
    assert skipped(result) == [
        (3, 67, "deployStorage", "the condition is false (for its parent resource 'storage')", None)
    ]


def test_bicep_false_condition_with_an_overridable_default_is_skipped() -> None:
    result = load_file(REALISTIC / "conditional-env.bicep", LoadOptions(today=TODAY), display="env.bicep")
    assert result.exemptions == []
    assert [(s.line, s.column, s.condition, s.reason) for s in result.skipped] == [
        (7, 83, "environment == 'prod'", "the condition is false")
    ]
    # Supplied, the value decides the other way and the exemption is linted.
    result = load_file(
        REALISTIC / "conditional-env.bicep",
        LoadOptions(today=TODAY, parameters={"environment": "prod"}),
        display="env.bicep",
    )
    assert findings(result) == [("EL005", "warning", "env.bicep", 12, 5)]
    assert result.skipped == []


# --------------------------------------------------------------------------- Terraform


def test_terraform_count_zero_and_empty_for_each_are_skipped() -> None:
    tf = "terraform/exemptions.tf"
    result = load(tf)
    # legacy's count depends on a variable without a value: linted (expired); default_scope's
    # condition is true with the defaults: linted (description too short).
    assert findings(result) == [("EL005", "error", tf, 41, 3), ("EL006", "error", tf, 56, 3)]
    assert skipped(result) == [
        (17, 3, 'count = var.scope_type == "subscription" ? 1 : 0', "count is 0", None),
        (26, 3, "for_each = var.subscriptions", "for_each is empty", None),
    ]
    assert [e.source.context for e in result.exemptions] == [
        "azurerm_subscription_policy_exemption.legacy; count (not known statically)",
        "azurerm_subscription_policy_exemption.default_scope; count.index = 0",
    ]


# --------------------------------------------------------------------------- directory runs


def _check_json(directory: Path, *extra: str) -> dict[str, object]:
    out = directory.parent / f"report{len(extra)}.json"
    main(["check", str(directory), "--today", TODAY.isoformat(), "--format", "json", "--output", str(out), *extra])
    document: dict[str, object] = json.loads(out.read_text(encoding="utf-8"))
    return document


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_module_reached_only_through_undeployed_instances_is_linted_on_its_own(
    jobs: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """legacy.bicep is deployed only by a module call that is off by default; chain-leaf.bicep
    only by chain-mid.bicep, which chain-top.bicep deploys with the leaf turned off. Both are
    linted on their own, in one process and in workers alike."""
    shutil.copytree(FIXTURES / "bicep" / "off-callers", tmp_path / "repo")
    monkeypatch.chdir(tmp_path)
    report = _check_json(Path("repo"), "--jobs", jobs)
    found = [(f["ruleId"], f["level"], f["file"], f["line"], f["column"]) for f in report["findings"]]  # type: ignore[attr-defined]
    assert found == [
        ("EL005", "error", "repo/chain-leaf.bicep", 9, 5),
        ("EL005", "error", "repo/legacy.bicep", 11, 5),
    ]
    assert report["skipped"] == [
        {
            "file": "repo/chain-mid.bicep",
            "line": 5,
            "column": 34,
            "resource": "module leaf 'chain-leaf.bicep'",
            "condition": "withLeaf",
            "reason": "the condition is false",
            "context": "module mid",
        },
        {
            "file": "repo/main.bicep",
            "line": 6,
            "column": 32,
            "resource": "module legacy 'legacy.bicep'",
            "condition": "deployLegacy",
            "reason": "the condition is false",
            "context": None,
        },
    ]


def test_workers_and_one_process_agree_on_conditions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(FIXTURES, tmp_path / "conditions")
    monkeypatch.chdir(tmp_path)
    one = _check_json(Path("conditions"), "--jobs", "1")
    two = _check_json(Path("conditions"), "--jobs", "2", "--quiet")
    assert one == two
    assert len(one["skipped"]) == 11  # type: ignore[arg-type]


def test_standalone_loads() -> None:
    # Nothing follows a: kept. b is followed by a (kept): through a. c is followed only by b's own
    # load, which is not kept, and a's load does not reach it: kept on its own.
    assert standalone_loads([("a", {"b"}), ("b", {"c"}), ("c", set())]) == {"a", "c"}
    assert standalone_loads([("a", {"b", "c"}), ("b", {"c"}), ("c", set())]) == {"a"}
    # A cycle keeps its first file.
    assert standalone_loads([("x", {"y"}), ("y", {"x"})]) == {"x"}
    # Nested callers: nothing is linted twice.
    assert standalone_loads([("leaf", set()), ("mid", {"leaf"}), ("top", {"mid", "leaf"})]) == {"top"}


def test_skipped_entry_in_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(FIXTURES / "arm" / "generic-module.json", tmp_path / "generic.json")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "report.json"
    assert main(["check", "generic.json", "--today", TODAY.isoformat(), "--format", "json", "--output", str(out)]) == 1
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["schemaVersion"] == 1
    assert report["skipped"][0] == Skipped(
        "generic.json",
        31,
        7,
        "Microsoft.Resources/deployments 'exemption-subscription'",
        SUB_BRANCH,
        "the condition is false",
    ).to_json()
    assert len(report["skipped"]) == 2
