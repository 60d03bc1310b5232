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
    assert messages[0] == "metadata.exemptlint.ignore names EL042, which is not a rule"
    assert messages[1].startswith("metadata.exemptlint.ignore suppresses EL007 without a reason")


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
