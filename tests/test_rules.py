"""Every rule: fixtures that must fail (exact rule id, level, line and column) and fixtures that
must pass. Fixtures are in tests/fixtures/rules; "today" is pinned."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from exemptlint.engine import LintSettings, lint
from exemptlint.loaders import LoadOptions, load_file
from exemptlint.model import Finding
from exemptlint.rules import BUILTIN_RULES
from exemptlint.rules.el003_expiry_required import Options as ExpiryRequiredOptions
from exemptlint.rules.el004_expiry_bounded import Options as ExpiryBoundedOptions
from exemptlint.rules.el005_expired import Options as ExpiredOptions
from exemptlint.rules.el007_scope_too_broad import Options as ScopeOptions

FIXTURES = Path(__file__).parent / "fixtures" / "rules"
TODAY = datetime.date(2026, 11, 24)


def run(name: str, **settings: object) -> list[Finding]:
    result = load_file(FIXTURES / name, LoadOptions(today=TODAY), display=name)
    assert result.errors == []
    assert result.exemptions, f"{name} holds no exemption"
    return lint(result.exemptions, result.assignments, LintSettings(today=TODAY, **settings), BUILTIN_RULES)  # type: ignore[arg-type]


def located(findings: list[Finding], rule_id: str) -> list[tuple[str, str, int, int]]:
    return [(f.rule_id, f.level.value, f.line, f.column) for f in findings if f.rule_id == rule_id]


FAILING = [
    ("EL001-fail-custom-initiative.json", "EL001", [("EL001", "error", 15, 7)]),
    ("EL001-fail-single-policy.json", "EL001", [("EL001", "error", 15, 7)]),
    ("EL001-fail-builtin-not-regulatory.json", "EL001", [("EL001", "error", 15, 7)]),
    ("EL010-fail-unknown-assignment.json", "EL010", [("EL010", "warning", 6, 5)]),
    ("EL002-fail-unknown-category.json", "EL002", [("EL002", "error", 10, 5)]),
    ("EL002-warn-lower-case.json", "EL002", [("EL002", "warning", 10, 5)]),
    # A missing property is reported at the "properties" key.
    ("EL003-fail-missing.json", "EL003", [("EL003", "error", 5, 3)]),
    ("EL003-fail-empty.json", "EL003", [("EL003", "error", 11, 5)]),
    ("EL004-fail-too-far.json", "EL004", [("EL004", "error", 11, 5)]),
    ("EL004-fail-not-iso.json", "EL004", [("EL004", "error", 11, 5)]),
    ("EL005-fail-expired.json", "EL005", [("EL005", "error", 11, 5)]),
    ("EL005-warn-expires-soon.json", "EL005", [("EL005", "warning", 11, 5)]),
    ("EL006-fail-missing.json", "EL006", [("EL006", "error", 5, 3)]),
    ("EL006-fail-placeholder.json", "EL006", [("EL006", "error", 13, 5)]),
    ("EL006-fail-copy-of-display-name.json", "EL006", [("EL006", "error", 13, 5)]),
    ("EL006-fail-too-short.json", "EL006", [("EL006", "error", 13, 5)]),
    ("EL006-fail-no-display-name.json", "EL006", [("EL006", "error", 5, 3)]),
    # The scope comes from the exemption's id, so that is where the finding points.
    ("EL007-fail-management-group.json", "EL007", [("EL007", "error", 2, 3)]),
    ("EL007-fail-tenant.json", "EL007", [("EL007", "error", 2, 3)]),
    ("EL007-warn-whole-initiative.json", "EL007", [("EL007", "warning", 5, 3)]),
    ("EL008-fail-singular-reference-id.json", "EL008", [("EL008", "error", 11, 5)]),
    ("EL008-fail-missing-assignment.json", "EL008", [("EL008", "error", 5, 3)]),
    ("EL008-fail-long-display-name.json", "EL008", [("EL008", "error", 12, 5)]),
    ("EL008-fail-bad-name.json", "EL008", [("EL008", "error", 3, 3)]),
    ("EL008-fail-scope-validation.json", "EL008", [("EL008", "error", 14, 5)]),
    ("EL008-fail-malformed-scope.json", "EL008", [("EL008", "error", 2, 3)]),
    # More formats, messages and the recommendations: tests/test_reference_rules.py.
    ("EL012-fail-unknown-reference-id.json", "EL012", [("EL012", "error", 7, 5)]),
    ("EL013-warn-deprecated-initiative.json", "EL013", [("EL013", "warning", 15, 7)]),
    # A resource group of another subscription than the assignment's: at the scope (the id).
    ("EL014-fail-other-subscription.json", "EL014", [("EL014", "error", 2, 3)]),
    # The second of two exemptions of one assignment, scope and reference ids (ids in other case).
    ("EL015-warn-duplicate.json", "EL015", [("EL015", "warning", 16, 5)]),
    # A key written twice: at the second key (tests/test_duplicate_keys.py has every format).
    ("EL008-fail-duplicate-key.json", "EL008", [("EL008", "error", 12, 5)]),
    ("EL008-fail-case-duplicate.json", "EL008", [("EL008", "error", 9, 5)]),
]


@pytest.mark.parametrize(("fixture", "rule_id", "expected"), FAILING, ids=[c[0] for c in FAILING])
def test_failing_fixture(fixture: str, rule_id: str, expected: list[tuple[str, str, int, int]]) -> None:
    assert located(run(fixture), rule_id) == expected


PASSING = [
    ("pass-baseline.json", None),
    ("EL001-pass-mcsb-other-name.json", None),
    ("EL001-pass-regulatory.json", None),
    ("EL012-pass-reference-id-any-case.json", None),
    ("EL007-pass-subscription-with-references.json", None),
    # Azure reads a value without a zone as UTC; only require-time-zone asks for one.
    ("EL004-warn-no-time-zone.json", None),
]


@pytest.mark.parametrize(("fixture", "rule_id"), PASSING, ids=[c[0] for c in PASSING])
def test_passing_fixture_has_no_finding(fixture: str, rule_id: str | None) -> None:
    assert run(fixture) == []


def test_el007_whole_initiative_needs_a_known_initiative() -> None:
    # Whether an assignment that no scanned file defines assigns an initiative is not known (EL010
    # says so): it may assign one policy, which has no reference ids to list.
    findings = run("EL007-pass-unknown-assignment.json")
    assert located(findings, "EL007") == []
    assert located(findings, "EL010") == [("EL010", "warning", 6, 5)]


def test_every_rule_has_a_failing_fixture() -> None:
    # EL009: tests/test_arm_loader.py; EL011: tests/test_suppressions.py
    covered = {rule_id for _, rule_id, _ in FAILING} | {"EL009", "EL011"}
    assert covered == {rule.id for rule in BUILTIN_RULES}


def test_messages_say_what_is_wrong() -> None:
    (finding,) = [f for f in run("EL001-fail-custom-initiative.json") if f.rule_id == "EL001"]
    assert "custom initiative" in finding.message and "contoso-cis" in finding.message
    (finding,) = run("EL004-fail-too-far.json")
    assert finding.message.startswith("expiresOn 2028-06-30 is 584 days after today (2026-11-24)")
    (finding,) = run("EL005-fail-expired.json")
    assert "expired on 2026-10-31 (24 days ago)" in finding.message
    (finding,) = run("EL005-warn-expires-soon.json")
    assert "expires in 16 days" in finding.message
    (finding,) = [f for f in run("EL008-fail-singular-reference-id.json") if f.rule_id == "EL008"]
    assert "policyDefinitionReferenceId" in finding.message and "did you mean" in finding.message


def test_el003_waiver_only_lets_mitigated_pass() -> None:
    options = {"EL003": ExpiryRequiredOptions(waiver_only=True)}
    assert located(run("EL003-pass-mitigated-without-expiry.json", options=options), "EL003") == []
    assert located(run("EL003-pass-mitigated-without-expiry.json"), "EL003") == [("EL003", "error", 5, 3)]


def test_el004_require_time_zone() -> None:
    zone = {"EL004": ExpiryBoundedOptions(require_time_zone=True)}
    assert located(run("EL004-warn-no-time-zone.json", options=zone), "EL004") == [("EL004", "warning", 11, 5)]


def test_el004_limit_per_category() -> None:
    lenient = {"EL004": ExpiryBoundedOptions(max_days_by_category={"Mitigated": 730})}
    assert located(run("EL004-fail-too-far.json", options=lenient), "EL004") == []
    strict = {"EL004": ExpiryBoundedOptions(max_days=90)}
    assert located(run("pass-baseline.json", options=strict), "EL004") == [("EL004", "error", 11, 5)]


def test_el005_warn_days_option() -> None:
    assert (
        located(run("EL005-warn-expires-soon.json", options={"EL005": ExpiredOptions(warn_days=7)}), "EL005")
        == []
    )


def test_el007_allowed_levels_option() -> None:
    options = {"EL007": ScopeOptions(allowed_levels={"Mitigated": ["managementGroup", "subscription"]})}
    assert located(run("EL007-fail-management-group.json", options=options), "EL007") == []


def test_select_ignore_and_level_override() -> None:
    from exemptlint.model import Level

    assert run("EL005-fail-expired.json", ignore=("EL005",)) == []
    assert run("EL005-fail-expired.json", select=("EL00",), ignore=("EL005",)) == []
    assert located(run("EL005-fail-expired.json", select=("EL005",)), "EL005") == [("EL005", "error", 11, 5)]
    overridden = run("EL005-fail-expired.json", levels={"EL005": Level.NOTE})
    assert [(f.rule_id, f.level) for f in overridden] == [("EL005", Level.NOTE)]


def _exemption(properties: dict[str, object], exemption_id: str | None = None) -> list[Finding]:
    from exemptlint.loaders import load_json_text

    doc = {
        "id": exemption_id
        or "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Authorization/policyExemptions/x",
        "properties": properties,
    }
    result = load_json_text(json.dumps(doc, indent=2), "x.json", LoadOptions(today=TODAY))
    return lint(result.exemptions, result.assignments, LintSettings(today=TODAY), BUILTIN_RULES)


def test_el008_reports_every_missing_and_unknown_property() -> None:
    findings = _exemption({"displayName": "x" * 10, "policyDefinitionReferenceId": None, "foo": 1})
    messages = sorted(f.message for f in findings if f.rule_id == "EL008")
    assert messages == [
        "required property 'exemptionCategory' is missing",
        "required property 'policyAssignmentId' is missing",
        "unknown property 'foo'",
        "unknown property 'policyDefinitionReferenceId' (did you mean 'policyDefinitionReferenceIds', a list?)",
    ]


def test_el002_surrounding_spaces_are_an_error_not_a_spelling_warning() -> None:
    base = json.loads((FIXTURES / "pass-baseline.json").read_text())["properties"]
    (finding,) = [f for f in _exemption({**base, "exemptionCategory": " Waiver"}) if f.rule_id == "EL002"]
    assert finding.level.value == "error"


def test_el005_warn_days_zero_never_warns() -> None:
    base = json.loads((FIXTURES / "pass-baseline.json").read_text())["properties"]
    props = {**base, "expiresOn": "2026-11-24T12:00:00Z"}
    assert located(_exemption(props), "EL005") == [("EL005", "warning", 9, 5)]
    result = run("EL005-warn-expires-soon.json", options={"EL005": ExpiredOptions(warn_days=0)})
    assert located(result, "EL005") == []


def test_configured_level_caps_but_never_raises_softer_findings() -> None:
    from exemptlint.model import Level

    raised = run("EL007-warn-whole-initiative.json", levels={"EL007": Level.ERROR})
    assert located(raised, "EL007") == [("EL007", "warning", 5, 3)]
    lowered = run("EL005-warn-expires-soon.json", levels={"EL005": Level.NOTE})
    assert located(lowered, "EL005") == [("EL005", "note", 11, 5)]


def test_el001_extra_eligible_initiatives() -> None:
    from exemptlint.rules.el001_eligible_initiative import Options as EligibleOptions

    options = {"EL001": EligibleOptions(extra_eligible_initiatives=("12794019-7a00-42cf-95c2-882eed337cc8",))}
    assert located(run("EL001-fail-builtin-not-regulatory.json", options=options), "EL001") == []


def test_el001_bare_initiative_name_in_the_assignment_map() -> None:
    findings = run("EL010-fail-unknown-assignment.json", assignment_map={"team-baseline": "12794019-7a00-42cf-95c2-882eed337cc8"})
    assert located(findings, "EL001") == [("EL001", "error", 6, 5)]
    assert located(findings, "EL010") == []
