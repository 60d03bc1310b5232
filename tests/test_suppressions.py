"""Inline suppressions (metadata and comments), EL011, and stable fingerprints."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from exemptlint.cli import main
from exemptlint.engine import LintSettings, lint
from exemptlint.loaders import LoadOptions, load_file, load_json_text
from exemptlint.model import Finding
from exemptlint.rules import BUILTIN_RULES
from exemptlint.suppressions import parse_directives

FIXTURES = Path(__file__).parent / "fixtures" / "suppressions"
TODAY = datetime.date(2026, 11, 24)


def run(name: str, today: datetime.date = TODAY) -> list[Finding]:
    result = load_file(FIXTURES / name, LoadOptions(today=today), display=name)
    assert result.errors == []
    return lint(result.exemptions, result.assignments, LintSettings(today=today), BUILTIN_RULES)


def summary(findings: list[Finding]) -> list[tuple[str, str, int, int, str | None]]:
    return [
        (f.rule_id, f.level.value, f.line, f.column, f.suppression.justification if f.suppression else None)
        for f in findings
    ]


def test_metadata_ignore_with_reason() -> None:
    assert summary(run("metadata-with-reason.json")) == [
        ("EL007", "error", 2, 3, "approved by the CISO for the sandbox rebuild (SEC-88)"),
    ]


def test_metadata_ignore_without_reason_or_with_unknown_rule_is_el011() -> None:
    findings = run("metadata-without-reason.json")
    assert summary(findings) == [
        ("EL007", "error", 2, 3, "no reason given"),
        ("EL011", "warning", 10, 5, None),
        ("EL011", "warning", 10, 5, None),
    ]
    messages = sorted(f.message for f in findings if f.rule_id == "EL011")
    assert messages[0].startswith("metadata.exemptlint.ignore suppresses EL007 without a reason")
    assert messages[1] == (
        "metadata.exemptlint.ignore suppresses nothing: EL042 is not a rule; did you mean EL002, EL004 or EL012?"
    )


def test_comment_directives_apply_to_the_next_code_line() -> None:
    assert summary(run("comments.jsonc")) == [
        ("EL007", "error", 3, 5, None),
        ("EL005", "error", 9, 7, "renewal SEC-90 is in review"),
        ("EL011", "warning", 19, 7, None),
        ("EL005", "error", 20, 7, "no reason given"),
    ]


def test_suppressed_findings_do_not_fail_the_run_but_are_counted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(FIXTURES)
    assert main(["check", "metadata-with-reason.json", "--today", "2026-11-24"]) == 0
    assert capsys.readouterr().out == "Checked 1 exemption in 1 file: 0 errors, 0 warnings, 0 notes (1 suppressed).\n"
    assert main(["check", "metadata-without-reason.json", "--today", "2026-11-24", "--fail-on", "warning"]) == 1


def test_parse_directives() -> None:
    text = "{\n  // exemptlint-disable-next-line EL001, el007 -- see SEC-1\n  # note\n\n  \"a\": 1\n}\n"
    (directive,) = parse_directives(text)
    assert (directive.line, directive.column, directive.target_line) == (2, 3, 5)
    assert directive.rules == ("EL001", "EL007")
    assert directive.reason == "see SEC-1"
    assert parse_directives('{"a": "exemptlint-disable-next-line is only text here"}') == ()


def fingerprints(text: str, today: datetime.date = TODAY) -> list[str]:
    result = load_json_text(text, "x.json", LoadOptions(today=today))
    return [f.fingerprint for f in lint(result.exemptions, result.assignments, LintSettings(today=today), BUILTIN_RULES)]


def test_fingerprints_survive_moved_lines_and_passing_days() -> None:
    original = (Path(__file__).parent / "fixtures" / "rules" / "EL005-fail-expired.json").read_text(encoding="utf-8")
    (first,) = fingerprints(original)
    assert fingerprints("\n\n\n" + original) == [first]
    # A day later the message says "25 days ago" instead of "24": same finding, same fingerprint.
    assert fingerprints(original, TODAY + datetime.timedelta(days=1)) == [first]
    # Another exemption is another finding.
    assert fingerprints(original.replace('"app-tls"', '"app-tls-2"')) != [first]


# Unknown rule ids in every suppression form -----------------------------------------------------
# Each file holds one exemption that expired on 2026-10-31 (EL005) and a suppression of EL005
# misspelt. The misspelt suppression must suppress nothing, and EL011 must say so where it is written.

_ASSIGNMENT = "/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Authorization/policyAssignments/SecurityCenterBuiltIn"
_JSON_HEAD = (
    '{\n  "id": "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-app/providers/Microsoft.Authorization/policyExemptions/app",\n'
    '  "properties": {\n'
    f'    "policyAssignmentId": "{_ASSIGNMENT}",\n'
    '    "exemptionCategory": "Mitigated",\n'
    '    "displayName": "App: HTTPS by the gateway",\n'
    '    "description": "The gateway redirects all HTTP traffic to HTTPS (CHG-1042).",\n'
)
UNKNOWN_ID_FORMS = {
    "metadata mapping": (
        "a.json",
        _JSON_HEAD + '    "expiresOn": "2026-10-31T00:00:00Z",\n'
        '    "metadata": {"exemptlint": {"ignore": {"EL4": "renewal in review (CHG-7)"}}}\n  }\n}\n',
        (8, 5),
        (9, 5),
        "metadata.exemptlint.ignore suppresses nothing: EL4 is not a rule; did you mean EL004?",
    ),
    "metadata list": (
        "a.json",
        _JSON_HEAD + '    "expiresOn": "2026-10-31T00:00:00Z",\n'
        '    "metadata": {"exemptlint": {"ignore": ["ELL005"]}}\n  }\n}\n',
        (8, 5),
        (9, 5),
        "metadata.exemptlint.ignore suppresses nothing: ELL005 is not a rule; did you mean EL005?",
    ),
    "prefix in metadata": (
        "a.json",
        _JSON_HEAD + '    "expiresOn": "2026-10-31T00:00:00Z",\n'
        '    "metadata": {"exemptlint": {"ignore": {"EL00": "all of them, for now"}}}\n  }\n}\n',
        (8, 5),
        (9, 5),
        "metadata.exemptlint.ignore suppresses nothing: EL00 is not a rule; did you mean EL001, EL002 or EL003?",
    ),
    "JSONC comment": (
        "a.jsonc",
        _JSON_HEAD + "    // exemptlint-disable-next-line EL0005 -- renewal in review (CHG-7)\n"
        '    "expiresOn": "2026-10-31T00:00:00Z"\n  }\n}\n',
        (9, 5),
        (8, 5),
        "exemptlint-disable-next-line suppresses nothing: EL0005 is not a rule; did you mean EL005?",
    ),
    "YAML comment": (
        "a.yaml",
        "id: /subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-app/providers/Microsoft.Authorization/policyExemptions/app\n"
        "properties:\n"
        f"  policyAssignmentId: {_ASSIGNMENT}\n"
        "  exemptionCategory: Mitigated\n"
        "  displayName: 'App: HTTPS by the gateway'\n"
        "  description: The gateway redirects all HTTP traffic to HTTPS (CHG-1042).\n"
        "  # exemptlint-disable-next-line EL5 -- renewal in review (CHG-7)\n"
        "  expiresOn: 2026-10-31T00:00:00Z\n",
        (8, 3),
        (7, 3),
        "exemptlint-disable-next-line suppresses nothing: EL5 is not a rule; did you mean EL005?",
    ),
    "Bicep comment": (
        "a.bicep",
        "resource app 'Microsoft.Authorization/policyExemptions@2022-07-01-preview' = {\n"
        "  name: 'app'\n"
        "  properties: {\n"
        f"    policyAssignmentId: '{_ASSIGNMENT}'\n"
        "    exemptionCategory: 'Mitigated'\n"
        "    displayName: 'App: HTTPS by the gateway'\n"
        "    description: 'The gateway redirects all HTTP traffic to HTTPS (CHG-1042).'\n"
        "    // exemptlint-disable-next-line EL4 -- renewal in review (CHG-7)\n"
        "    expiresOn: '2026-10-31T00:00:00Z'\n"
        "  }\n}\n",
        (9, 5),
        (8, 5),
        "exemptlint-disable-next-line suppresses nothing: EL4 is not a rule; did you mean EL004?",
    ),
    "Bicep #disable-next-line": (
        "a.bicep",
        "resource app 'Microsoft.Authorization/policyExemptions@2022-07-01-preview' = {\n"
        "  name: 'app'\n"
        "  properties: {\n"
        f"    policyAssignmentId: '{_ASSIGNMENT}'\n"
        "    exemptionCategory: 'Mitigated'\n"
        "    displayName: 'App: HTTPS by the gateway'\n"
        "    description: 'The gateway redirects all HTTP traffic to HTTPS (CHG-1042).'\n"
        "    #disable-next-line EL05 -- renewal in review (CHG-7)\n"
        "    expiresOn: '2026-10-31T00:00:00Z'\n"
        "  }\n}\n",
        (9, 5),
        (8, 5),
        "exemptlint-disable-next-line suppresses nothing: EL05 is not a rule; did you mean EL005?",
    ),
    "Terraform comment": (
        "main.tf",
        'resource "azurerm_resource_group_policy_exemption" "app" {\n'
        '  name                 = "app"\n'
        '  resource_group_id    = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-app"\n'
        f'  policy_assignment_id = "{_ASSIGNMENT}"\n'
        '  exemption_category   = "Mitigated"\n'
        '  display_name         = "App: HTTPS by the gateway"\n'
        '  description          = "The gateway redirects all HTTP traffic to HTTPS (CHG-1042)."\n'
        "  # exemptlint-disable-next-line EL-005 -- renewal in review (CHG-7)\n"
        '  expires_on           = "2026-10-31T00:00:00Z"\n'
        "}\n",
        (9, 3),
        (8, 3),
        "exemptlint-disable-next-line suppresses nothing: EL-005 is not a rule; did you mean EL005? "
        "[azurerm_resource_group_policy_exemption.app]",
    ),
}


@pytest.mark.parametrize("form", sorted(UNKNOWN_ID_FORMS))
def test_unknown_rule_id_in_a_suppression_suppresses_nothing_and_is_el011(form: str, tmp_path: Path) -> None:
    name, text, expired_at, el011_at, message = UNKNOWN_ID_FORMS[form]
    (tmp_path / name).write_text(text, encoding="utf-8")
    result = load_file(tmp_path / name, LoadOptions(today=TODAY), display=name)
    assert result.errors == []
    findings = lint(result.exemptions, result.assignments, LintSettings(today=TODAY), BUILTIN_RULES)
    assert [(f.rule_id, (f.line, f.column), f.suppression) for f in findings if f.rule_id == "EL005"] == [
        ("EL005", expired_at, None)
    ]
    assert [(f.rule_id, (f.line, f.column), f.message) for f in findings if f.rule_id == "EL011"] == [
        ("EL011", el011_at, message)
    ]
    # The same text with the id spelt right suppresses the finding (the fixture is not broken).
    fixed = text.replace(message.split(": ", 1)[1].split(" ", 1)[0], "EL005", 1)
    (tmp_path / name).write_text(fixed, encoding="utf-8")
    result = load_file(tmp_path / name, LoadOptions(today=TODAY), display=name)
    findings = lint(result.exemptions, result.assignments, LintSettings(today=TODAY), BUILTIN_RULES)
    assert [f.rule_id for f in findings if f.suppression is None] == (["EL011"] if "list" in form else [])
    assert [f.rule_id for f in findings if f.suppression is not None] == ["EL005"]


def test_a_comment_naming_a_known_and_an_unknown_id_suppresses_only_the_known(tmp_path: Path) -> None:
    text = _JSON_HEAD + (
        "    // exemptlint-disable-next-line EL005, EL4, ELL006\n"
        '    "expiresOn": "2026-10-31T00:00:00Z"\n  }\n}\n'
    )
    (tmp_path / "a.jsonc").write_text(text, encoding="utf-8")
    result = load_file(tmp_path / "a.jsonc", LoadOptions(today=TODAY), display="a.jsonc")
    findings = lint(result.exemptions, result.assignments, LintSettings(today=TODAY), BUILTIN_RULES)
    assert [(f.rule_id, f.line, f.column, f.message, f.suppression is not None) for f in findings] == [
        (
            "EL011",
            8,
            5,
            "exemptlint-disable-next-line suppresses nothing: EL4 is not a rule; did you mean EL004?",
            False,
        ),
        (
            "EL011",
            8,
            5,
            "exemptlint-disable-next-line suppresses nothing: ELL006 is not a rule; did you mean EL006?",
            False,
        ),
        (
            "EL011",
            8,
            5,
            "exemptlint-disable-next-line suppresses EL005 without a reason: say why (-- reason, or the value in metadata)",
            False,
        ),
        ("EL005", 9, 5, "exemption 'app' expired on 2026-10-31 (24 days ago); renew it with a new review or delete it", True),
    ]
