"""One nesting limit for every loader (issue 17.6): objects and arrays nested up to MAX_NESTING (100)
levels deep load and lint without an error in every format; one level more is a one-line error at the
first container past the limit (file, line, column), exit code 2, whatever the depth (the parsers
themselves give up between a few hundred and a few thousand levels). No rule sees anything deeper,
so none can raise RecursionError. Inputs are generated; the document itself is level 1."""

from __future__ import annotations

import datetime
import io
import json
import os
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from exemptlint.cli import main
from exemptlint.engine import LintSettings, lint
from exemptlint.loaders import LoadOptions, load_file, load_parameters_file
from exemptlint.loaders.nesting import MAX_NESTING, NESTING_MESSAGE
from exemptlint.model import LoadError
from exemptlint.rules import BUILTIN_RULES

TODAY = datetime.date(2026, 11, 24)
ASSIGNMENT = "/providers/Microsoft.Management/managementGroups/mg/providers/Microsoft.Authorization/policyAssignments/a"
DEPTHS = [MAX_NESTING + 1, 400, 999, 5000]

# Each generator writes a file whose deepest container is at level ``depth`` and returns its text
# and where level MAX_NESTING + 1 starts (line, column), when the file has one.


def _chain(head: list[str], first_level: int, depth: int, link: str, tail: str) -> tuple[str, int]:
    """``head`` ends with the container at ``first_level``; each further level is one ``link``
    line. Returns the text and the line of level MAX_NESTING + 1."""
    levels = depth - first_level
    lines = [*head, *([link] * levels), tail]
    return "\n".join(lines) + "\n", len(head) + MAX_NESTING + 1 - first_level


def raw_json(depth: int) -> tuple[str, int, int]:
    head = [
        "{",
        '  "name": "deep",',
        '  "properties": {',
        f'    "policyAssignmentId": "{ASSIGNMENT}",',
        '    "exemptionCategory": "Waiver",',
        '    "metadata": {',
    ]
    text, line = _chain(head, 3, depth, '      "a": {', '      "x": 1' + "}" * depth)
    return text, line, 12


def jsonc(depth: int) -> tuple[str, int, int]:
    text, line, column = raw_json(depth)
    # Comments with brackets in them change nothing.
    return text.replace('"name": "deep",', '"name": "deep", // [[[ {{{ /* ]]'), line, column


def epac_json(depth: int) -> tuple[str, int, int]:
    head = [
        "{",
        '  "exemptions": [',
        "    {",
        '      "name": "deep",',
        '      "exemptionCategory": "Waiver",',
        f'      "policyAssignmentId": "{ASSIGNMENT}",',
        '      "metadata": {',
    ]
    text, line = _chain(head, 4, depth, '        "a": {', '        "x": 1' + "}" * (depth - 2) + "]}")
    return text, line, 14


def arm_template(depth: int) -> tuple[str, int, int]:
    head = [
        "{",
        '  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",',
        '  "resources": [',
        "    {",
        '      "type": "Microsoft.Authorization/policyExemptions",',
        '      "apiVersion": "2022-07-01-preview",',
        '      "name": "deep",',
        '      "properties": {',
        f'        "policyAssignmentId": "{ASSIGNMENT}",',
        '        "exemptionCategory": "Waiver",',
        '        "metadata": {',
    ]
    text, line = _chain(head, 5, depth, '          "a": {', '          "x": 1' + "}" * (depth - 3) + "}]}")
    return text, line, 16


def yaml_block(depth: int) -> tuple[str, int, int]:
    # A block mapping starts at its first key: level k (from 3) is on line k + 3, column k + 2.
    lines = [
        "name: deep",
        "properties:",
        f"  policyAssignmentId: {ASSIGNMENT}",
        "  exemptionCategory: Waiver",
        "  metadata:",
    ]
    lines += [" " * (level + 1) + "a:" for level in range(3, depth)] + [" " * (depth + 1) + "a: x"]
    return "\n".join(lines) + "\n", MAX_NESTING + 4, MAX_NESTING + 3


def yaml_flow(depth: int) -> tuple[str, int, int]:
    text = f"properties:\n  policyAssignmentId: {ASSIGNMENT}\n  metadata: " + "[" * (depth - 2) + "]" * (depth - 2)
    return text + "\n", 3, 13 + MAX_NESTING + 1 - 3


def bicep(depth: int) -> tuple[str, int, int]:
    head = [
        "resource ex 'Microsoft.Authorization/policyExemptions@2022-07-01-preview' = {",
        "  name: 'deep'",
        "  properties: {",
        f"    policyAssignmentId: '{ASSIGNMENT}'",
        "    exemptionCategory: 'Waiver'",
        "    metadata: {",
    ]
    text, line = _chain(head, 3, depth, "      a: {", "      x: 1\n" + "}\n" * depth)
    return text, line, 10


def terraform(depth: int) -> tuple[str, int, int]:
    head = [
        'resource "azurerm_subscription_policy_exemption" "deep" {',
        '  name                 = "deep"',
        '  subscription_id      = "/subscriptions/00000000-0000-0000-0000-000000000001"',
        f'  policy_assignment_id = "{ASSIGNMENT}"',
        '  exemption_category   = "Waiver"',
        "  metadata = jsonencode({",
    ]
    text, line = _chain(head, 2, depth, "    a = {", "    x = 1\n" + "}\n" * (depth - 2) + "})\n}")
    return text, line, 9


def plan_json(depth: int) -> tuple[str, int, int]:
    head = [
        "{",
        '  "format_version": "1.2",',
        '  "planned_values": {',
        '    "root_module": {',
        '      "resources": [',
        "        {",
        '          "address": "azurerm_subscription_policy_exemption.deep",',
        '          "type": "azurerm_subscription_policy_exemption",',
        '          "values": {',
        '            "name": "deep",',
        '            "exemption_category": "Waiver",',
        '            "metadata": {',
    ]
    text, line = _chain(head, 7, depth, '              "a": {', '              "x": 1' + "}" * (depth - 5) + "}]}}}")
    return text, line, 20


GENERATORS: dict[str, tuple[str, Callable[[int], tuple[str, int, int]]]] = {
    "json": ("deep.json", raw_json),
    "jsonc": ("deep.jsonc", jsonc),
    "epac-json": ("deep.jsonc", epac_json),
    "arm": ("deep.json", arm_template),
    "yaml-block": ("deep.yaml", yaml_block),
    "yaml-flow": ("deep.yaml", yaml_flow),
    "bicep": ("deep.bicep", bicep),
    "terraform": ("main.tf", terraform),
    "plan-json": ("plan.json", plan_json),
}


def load(tmp_path: Path, name: str, text: str) -> tuple[list[LoadError], int, list[LoadError]]:
    """Load and lint: (load errors, number of exemptions, rule errors)."""
    (tmp_path / name).write_text(text, encoding="utf-8")
    result = load_file(tmp_path / name, LoadOptions(today=TODAY), display=name)
    rule_errors: list[LoadError] = []
    lint(result.exemptions, result.assignments, LintSettings(today=TODAY), BUILTIN_RULES, errors=rule_errors)
    return result.errors, len(result.exemptions), rule_errors


@pytest.mark.parametrize("kind", GENERATORS)
def test_the_limit_itself_loads_and_lints(tmp_path: Path, kind: str) -> None:
    name, generate = GENERATORS[kind]
    text, _, _ = generate(MAX_NESTING)
    errors, exemptions, rule_errors = load(tmp_path, name, text)
    assert errors == [] and rule_errors == []
    assert exemptions == 1


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("kind", GENERATORS)
def test_one_level_more_is_an_error_at_that_level(tmp_path: Path, kind: str, depth: int) -> None:
    name, generate = GENERATORS[kind]
    text, line, column = generate(depth)
    errors, exemptions, rule_errors = load(tmp_path, name, text)
    assert [(e.line, e.column, e.message) for e in errors] == [(line, column, NESTING_MESSAGE)]
    assert exemptions == 0 and rule_errors == []


def test_epac_csv_json_cell(tmp_path: Path) -> None:
    def csv(levels: int) -> str:
        cell = '"' + '{""a"": ' * levels + "1" + "}" * levels + '"'
        return f"name,exemptionCategory,policyAssignmentId,metadata\ndeep,Waiver,{ASSIGNMENT},{cell}\n"

    column = len(f"deep,Waiver,{ASSIGNMENT},") + 1
    assert load(tmp_path, "ok.csv", csv(MAX_NESTING)) == ([], 1, [])
    for levels in (MAX_NESTING + 1, 5000):
        errors, exemptions, _ = load(tmp_path, "deep.csv", csv(levels))
        assert [(e.line, e.column, e.message) for e in errors] == [(2, column, f"the metadata cell: {NESTING_MESSAGE}")]
        assert exemptions == 0


def test_parameters_file(tmp_path: Path) -> None:
    # The document, parameters and p are levels 1 to 3: the value's arrays are 4 and on.
    value = "[" * (MAX_NESTING - 3) + "]" * (MAX_NESTING - 3)
    (tmp_path / "ok.json").write_text('{"parameters": {"p": {"value": ' + value + "}}}", encoding="utf-8")
    assert load_parameters_file(tmp_path / "ok.json")[1] is None
    value = "[" * 2000 + "]" * 2000
    (tmp_path / "deep.json").write_text('{"parameters": {"p": {"value": ' + value + "}}}", encoding="utf-8")
    _, error = load_parameters_file(tmp_path / "deep.json")
    assert error is not None and (error.line, error.column, error.message) == (1, 31 + 98, NESTING_MESSAGE)


@pytest.mark.parametrize("depth", [400, 999])
def test_cli_reports_metadata_nested_400_to_999_deep_as_a_file_error(
    tmp_path: Path, depth: int, capsys: pytest.CaptureFixture[str]
) -> None:
    # Was: "rule EL008 raised RecursionError" (and exit code 2 only by accident).
    text, line, column = raw_json(depth)
    (tmp_path / "deep.json").write_text(text, encoding="utf-8")
    (tmp_path / "good.json").write_text(raw_json(MAX_NESTING)[0].replace('"deep"', '"good"'), encoding="utf-8")
    previous = Path.cwd()
    os.chdir(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    try:
        with redirect_stdout(out), redirect_stderr(err):
            code = main(["check", ".", "--today", TODAY.isoformat(), "--format", "json"])
    finally:
        os.chdir(previous)
    report = json.loads(out.getvalue())
    assert code == 2
    assert report["errors"] == [{"file": "deep.json", "line": line, "column": column, "message": NESTING_MESSAGE}]
    # The other file is still linted.
    assert {f["file"] for f in report["findings"]} == {"good.json"}
    assert "RecursionError" not in out.getvalue() + err.getvalue()


# --- values nested deeper than the text they come from ------------------------------------------

DEEP_JSON = '{"a": ' * 500 + "1" + "}" * 500


def evaluated_bicep(json_text: str) -> str:
    return (
        "resource ex 'Microsoft.Authorization/policyExemptions@2022-07-01-preview' = {\n"
        "  name: 'deep'\n"
        "  properties: {\n"
        f"    policyAssignmentId: '{ASSIGNMENT}'\n"
        "    exemptionCategory: 'Waiver'\n"
        f"    metadata: json('{json_text}')\n"
        "  }\n"
        "}\n"
    )


def evaluated_plan(json_text: str) -> str:
    values = {"name": "deep", "exemption_category": "Waiver", "metadata": json_text}
    resource = {"address": "a.deep", "type": "azurerm_subscription_policy_exemption", "values": values}
    plan = {"format_version": "1.2", "planned_values": {"root_module": {"resources": [resource]}}}
    return json.dumps(plan, indent=1)


def evaluated_terraform(chain: int) -> str:
    # Each local nests the one before: the value is deeper than any bracket in the text.
    links = "\n".join(f"  l{i} = {{ a = local.l{i - 1} }}" for i in range(1, chain))
    return (
        f"locals {{\n  l0 = {{ a = 1 }}\n{links}\n}}\n"
        'resource "azurerm_subscription_policy_exemption" "deep" {\n'
        '  name                 = "deep"\n'
        '  subscription_id      = "/subscriptions/00000000-0000-0000-0000-000000000001"\n'
        f'  policy_assignment_id = "{ASSIGNMENT}"\n'
        '  exemption_category   = "Waiver"\n'
        f"  metadata             = local.l{chain - 1}\n"
        "}\n"
    )


@pytest.mark.parametrize(
    ("name", "text", "line", "column"),
    [
        # Was: "rule EL008 raised RecursionError" for both.
        ("deep.bicep", evaluated_bicep(DEEP_JSON), 6, 5),
        ("plan.json", evaluated_plan(DEEP_JSON), 12, 7),
        ("main.tf", evaluated_terraform(120), 128, 3),
    ],
)
def test_evaluated_values_past_the_limit_are_an_error_at_the_property(
    tmp_path: Path, name: str, text: str, line: int, column: int
) -> None:
    errors, exemptions, rule_errors = load(tmp_path, name, text)
    assert [(e.line, e.column, e.message) for e in errors] == [(line, column, f"metadata: {NESTING_MESSAGE}")]
    assert exemptions == 0 and rule_errors == []


@pytest.mark.parametrize(
    ("name", "text"),
    [
        # The properties object is level 1: metadata may nest 99 levels.
        ("deep.bicep", evaluated_bicep('{"a": ' * 99 + "1" + "}" * 99)),
        ("plan.json", evaluated_plan('{"a": ' * 99 + "1" + "}" * 99)),
        ("main.tf", evaluated_terraform(99)),
    ],
)
def test_evaluated_values_at_the_limit_are_linted(tmp_path: Path, name: str, text: str) -> None:
    assert load(tmp_path, name, text) == ([], 1, [])
