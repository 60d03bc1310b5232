"""YAML exemptions: every raw shape, placeholders, tags and parse errors, with exact positions."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from exemptlint.engine import LintSettings, lint
from exemptlint.loaders.yaml_source import load_yaml_text
from exemptlint.model import LoadError, LoadResult
from exemptlint.rules import BUILTIN_RULES

FIXTURES = Path(__file__).parent / "fixtures" / "yaml"
TODAY = datetime.date(2026, 11, 24)


def load(name: str) -> LoadResult:
    return load_yaml_text((FIXTURES / name).read_text(encoding="utf-8"), name)


def findings(name: str) -> list[tuple[str, str, int, int]]:
    result = load(name)
    assert result.errors == []
    assert result.exemptions, f"{name} holds no exemption"
    found = lint(result.exemptions, result.assignments, LintSettings(today=TODAY), BUILTIN_RULES)
    return [(f.rule_id, f.level.value, f.line, f.column) for f in found]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("resource.yaml", [("EL005", "error", 10, 3)]),
        ("flat-list.yaml", [("EL002", "warning", 6, 3), ("EL009", "note", 12, 3)]),
        ("value-list.yml", [("EL007", "error", 2, 5)]),
        ("tagged.yaml", [("EL005", "error", 4, 3)]),
    ],
)
def test_shapes(name: str, expected: list[tuple[str, str, int, int]]) -> None:
    assert findings(name) == expected


def test_flat_list_values() -> None:
    result = load("flat-list.yaml")
    first, second = result.exemptions
    assert first.name == "sandbox-waiver"
    assert first.scope == "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-sandbox"
    assert first.expires_on == "2027-01-01T00:00:00Z"
    assert first.source.format == "yaml"
    # A placeholder is never taken for a value.
    assert type(second.policy_assignment_id).__name__ == "Unresolved"


def test_unquoted_timestamp_stays_text() -> None:
    (exemption,) = load("value-list.yml").exemptions
    assert exemption.expires_on == "2027-01-01T00:00:00Z"


def test_tags_construct_nothing() -> None:
    (exemption,) = load("tagged.yaml").exemptions
    assert exemption.exemption_category == "Waiver"
    assert isinstance(exemption.properties, dict)


def test_parse_error() -> None:
    result = load("broken.yaml")
    assert result.exemptions == []
    assert result.errors == [
        LoadError("broken.yaml", 4, 1, "invalid YAML: expected ',' or ']', but got '<stream end>'")
    ]


def test_unrelated_yaml_is_skipped() -> None:
    assert load("github-workflow.yml") == LoadResult()
