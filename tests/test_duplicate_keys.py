"""Duplicate keys in an exemption's objects (issues 12.7 and 17.2): a key written twice, exactly or
differing only in case, is an EL008 error at the second key that names both places, in every format
whose parser can see it. Objects that only reuse a name elsewhere (metadata, another exemption)
are not reported. Fixtures: tests/fixtures/duplicates and the duplicate-* fixtures of each format."""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path

import pytest

from exemptlint.cli import main
from exemptlint.engine import LintSettings, lint
from exemptlint.loaders import LoadOptions, load_file, load_json_text
from exemptlint.model import Finding
from exemptlint.rules import BUILTIN_RULES

TODAY = datetime.date(2026, 11, 24)
FIXTURES = Path(__file__).parent / "fixtures"


def findings(relative: str) -> list[Finding]:
    result = load_file(FIXTURES / relative, LoadOptions(today=TODAY), display=relative)
    assert result.errors == []
    assert result.exemptions
    return lint(result.exemptions, result.assignments, LintSettings(today=TODAY), BUILTIN_RULES)


def duplicates(found: list[Finding]) -> list[tuple[str, int, int, str | None]]:
    """EL008 duplicate-key findings: (exemption, line, column, property)."""
    return [
        (str(f.exemption_name), f.line, f.column, f.property)
        for f in found
        if f.rule_id == "EL008" and f.message.startswith("duplicate ")
    ]


def message(found: list[Finding], line: int) -> str:
    (finding,) = [f for f in found if f.rule_id == "EL008" and f.line == line]
    assert finding.level.value == "error"
    return finding.message


# --- JSON, JSONC, ARM ---------------------------------------------------------------------------


def test_exact_duplicate_in_properties_is_reported_at_the_second_key() -> None:
    found = findings("rules/EL008-fail-duplicate-key.json")
    assert duplicates(found) == [("app-tls", 12, 5, "description")]
    assert message(found, 12) == (
        "duplicate key 'description' in properties at line 6 and line 12: only one of them takes "
        "effect, and a reviewer may read the other; keep one"
    )
    # json keeps the last value: EL006 sees the good description, only EL008 fails the file.
    assert [f.rule_id for f in found] == ["EL008"]


def test_keys_that_differ_only_in_case_are_reported_on_one_line() -> None:
    found = findings("rules/EL008-fail-case-duplicate.json")
    assert duplicates(found) == [("app-tls", 9, 5, "exemptionCategory")]
    assert message(found, 9).startswith(
        "duplicate keys 'exemptionCategory' and 'ExemptionCategory' in properties at line 8 and line 9: "
        "they differ only in case"
    )


def test_keys_on_one_line_are_told_apart_by_column(tmp_path: Path) -> None:
    text = (
        '{"name": "x", "properties": {"policyAssignmentId": "/providers/Microsoft.Authorization/'
        'policyAssignments/a", "exemptionCategory": "Waiver", "exemptionCategory": "Mitigated"}}'
    )
    result = load_json_text(text, "one-line.json", LoadOptions(today=TODAY))
    found = lint(result.exemptions, result.assignments, LintSettings(today=TODAY), BUILTIN_RULES)
    first, second = text.index('"exemptionCategory"') + 1, text.rindex('"exemptionCategory"') + 1
    assert duplicates(found) == [("x", 1, second, "exemptionCategory")]
    assert f"at line 1, columns {first} and {second}:" in message(found, 1)


def test_jsonc_expired_expiry_followed_by_a_valid_one() -> None:
    found = findings("duplicates/commented.jsonc")
    assert duplicates(found) == [("app-tls", 12, 3, "expiresOn")]
    assert "'expiresOn' at line 8 and line 12" in message(found, 12)


def test_arm_template_resource_and_properties() -> None:
    found = findings("duplicates/template.json")
    assert duplicates(found) == [("app-tls", 16, 9, "expiresOn"), ("app-tls", 18, 7, "Name")]
    assert "duplicate key 'expiresOn' in properties at line 13 and line 16" in message(found, 16)
    assert "duplicate keys 'name' and 'Name' at line 8 and line 18" in message(found, 18)
    # The second resource repeats no key of its own.
    assert not [f for f in found if f.exemption_name == "app-tls-other" and f.rule_id == "EL008"]


def test_arm_copy_loop_reports_each_instance() -> None:
    text = """{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "resources": [
    {
      "type": "Microsoft.Authorization/policyExemptions",
      "apiVersion": "2022-07-01-preview",
      "name": "[concat('ex-', copyIndex())]",
      "copy": {"name": "loop", "count": 2},
      "properties": {
        "exemptionCategory": "Waiver",
        "description": "one",
        "Description": "two"
      }
    }
  ]
}
"""
    result = load_json_text(text, "copy.json", LoadOptions(today=TODAY))
    found = lint(result.exemptions, result.assignments, LintSettings(today=TODAY), BUILTIN_RULES)
    assert duplicates(found) == [("ex-0", 12, 9, "description"), ("ex-1", 12, 9, "description")]


def test_same_names_in_other_objects_are_not_duplicates() -> None:
    found = findings("duplicates/same-key-in-other-objects.json")
    assert duplicates(found) == []
    assert [f for f in found if f.rule_id == "EL008"] == []


def test_escaped_spelling_of_a_key_is_the_same_key() -> None:
    text = (
        '{"name": "x", "properties": {"exemptionCategory": "Waiver",\n'
        ' "policyAssignmentId": "/providers/Microsoft.Authorization/policyAssignments/a",\n'
        ' "exemption\\u0043ategory": "Mitigated"}}'
    )
    result = load_json_text(text, "escaped.json", LoadOptions(today=TODAY))
    found = lint(result.exemptions, result.assignments, LintSettings(today=TODAY), BUILTIN_RULES)
    assert duplicates(found) == [("x", 3, 2, "exemptionCategory")]


def test_a_suppression_comment_before_the_second_key_applies(tmp_path: Path) -> None:
    text = (FIXTURES / "duplicates" / "commented.jsonc").read_text(encoding="utf-8")
    text = text.replace(
        "  // renewed below\n", "  // exemptlint-disable-next-line EL008 -- renewal reviewed in CHG-1050\n"
    )
    result = load_json_text(text, "suppressed.jsonc", LoadOptions(today=TODAY))
    found = lint(result.exemptions, result.assignments, LintSettings(today=TODAY), BUILTIN_RULES)
    (finding,) = [f for f in found if f.rule_id == "EL008"]
    assert finding.suppression is not None and "CHG-1050" in finding.suppression.justification


# --- EPAC ------------------------------------------------------------------------------------


def test_epac_jsonc_entry() -> None:
    found = findings("epac/duplicate-keys.jsonc")
    assert duplicates(found) == [("storage-private-link", 14, 7, "description")]
    assert "'description' and 'Description' at line 7 and line 14" in message(found, 14)
    # EPAC reads the first spelling: the placeholder is still reported.
    assert ("EL006", 7, 7) in [(f.rule_id, f.line, f.column) for f in found]


def test_epac_csv_header_is_reported_once_with_the_first_row() -> None:
    found = findings("epac/duplicate-columns.csv")
    assert duplicates(found) == [("row-one", 1, 83, "description")]
    assert message(found, 1).startswith(
        "duplicate columns 'description' and 'Description' in the header at line 1, columns 18 and 83:"
    )
    # The first of the two columns is read.
    assert ("EL006", 2, 17) in [(f.rule_id, f.line, f.column) for f in found]


def test_epac_csv_without_repeated_columns_has_none() -> None:
    assert duplicates(findings("epac/rows.csv")) == []


# --- YAML, Terraform, Bicep ------------------------------------------------------------------


def test_yaml_exact_and_case_duplicates_but_not_merge_keys() -> None:
    found = findings("yaml/duplicate-keys.yaml")
    assert duplicates(found) == [
        ("legacy-vm-waiver", 11, 5, "expiresOn"),
        ("legacy-vm-waiver", 12, 5, "displayName"),
    ]
    assert "'expiresOn' in properties at line 8 and line 11" in message(found, 11)
    # ruamel keeps the first value: the expired date is what the rules see, and EL005 says so.
    assert ("EL005", 8, 5) in [(f.rule_id, f.line, f.column) for f in found]


def test_terraform_argument_set_twice_but_not_text_in_a_heredoc() -> None:
    found = findings("terraform/duplicates/main.tf")
    assert duplicates(found) == [("legacy-tls", 13, 3, "description")]
    assert message(found, 13).startswith(
        "duplicate argument 'description' at line 9 and line 13: Terraform rejects a block that sets "
        "an argument twice; keep one"
    )


def test_bicep_properties() -> None:
    found = findings("bicep/duplicate-keys.bicep")
    assert duplicates(found) == [("legacy-tls", 12, 5, "exemptionCategory")]
    assert "'exemptionCategory' and 'ExemptionCategory' in properties at line 8 and line 12" in message(found, 12)


def test_bicep_exact_duplicate_names_bicep_error(tmp_path: Path) -> None:
    text = (FIXTURES / "bicep" / "duplicate-keys.bicep").read_text(encoding="utf-8")
    (tmp_path / "exact.bicep").write_text(text.replace("ExemptionCategory", "exemptionCategory"), encoding="utf-8")
    result = load_file(tmp_path / "exact.bicep", LoadOptions(today=TODAY), display="exact.bicep")
    found = lint(result.exemptions, result.assignments, LintSettings(today=TODAY), BUILTIN_RULES)
    assert duplicates(found) == [("legacy-tls", 12, 5, "exemptionCategory")]
    assert "Bicep rejects an object that declares a property twice (BCP025)" in message(found, 12)


# --- through the CLI: the JSON report and the exit code --------------------------------------


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        ("rules/EL008-fail-duplicate-key.json", [(12, 5)]),
        ("duplicates/commented.jsonc", [(12, 3)]),
        ("yaml/duplicate-keys.yaml", [(11, 5), (12, 5)]),
        ("epac/duplicate-columns.csv", [(1, 83)]),
        ("terraform/duplicates/main.tf", [(13, 3)]),
        ("bicep/duplicate-keys.bicep", [(12, 5)]),
    ],
)
def test_json_report_and_exit_code(
    relative: str, expected: list[tuple[int, int]], capsys: pytest.CaptureFixture[str]
) -> None:
    previous = Path.cwd()
    os.chdir(FIXTURES)
    try:
        code = main(["check", relative, "--today", TODAY.isoformat(), "--format", "json"])
    finally:
        os.chdir(previous)
    report = json.loads(capsys.readouterr().out)
    assert code == 1 and report["errors"] == []
    places = [
        (f["line"], f["column"])
        for f in report["findings"]
        if f["ruleId"] == "EL008" and f["message"].startswith("duplicate ")
    ]
    assert places == expected


def test_the_documented_example(tmp_path: Path) -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "rules" / "EL008.md").read_text(encoding="utf-8")
    example = doc.split("A key written twice is reported", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "example.yaml").write_text(example, encoding="utf-8")
    result = load_file(tmp_path / "example.yaml", LoadOptions(today=TODAY), display="example.yaml")
    found = lint(result.exemptions, result.assignments, LintSettings(today=TODAY), BUILTIN_RULES)
    assert duplicates(found) == [("legacy-vm-waiver", 11, 3, "expiresOn")]
    assert "duplicate key 'expiresOn' in properties at line 8 and line 11" in message(found, 11)
