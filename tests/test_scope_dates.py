from __future__ import annotations

import datetime

import pytest

from exemptlint.dates import parse_iso8601
from exemptlint.model import ScopeLevel, Unresolved
from exemptlint.scope import name_of_exemption_id, scope_level, scope_of_exemption_id


@pytest.mark.parametrize(
    ("scope", "level"),
    [
        ("/", ScopeLevel.TENANT),
        ("/providers/Microsoft.Management/managementGroups/contoso", ScopeLevel.MANAGEMENT_GROUP),
        ("/providers/microsoft.management/managementgroups/contoso/", ScopeLevel.MANAGEMENT_GROUP),
        ("/subscriptions/0000", ScopeLevel.SUBSCRIPTION),
        ("subscriptions/0000/resourceGroups/rg", ScopeLevel.RESOURCE_GROUP),
        ("/subscriptions/0000/resourcegroups/rg", ScopeLevel.RESOURCE_GROUP),
        (
            "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa",
            ScopeLevel.RESOURCE,
        ),
        (
            "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Sql/servers/s/databases/d",
            ScopeLevel.RESOURCE,
        ),
        ("/providers/Microsoft.Management/managementGroups/contoso/contoso-platform", ScopeLevel.UNKNOWN),
        ("/subscriptions/0/resourceGroups/rg/providers/Microsoft.Storage", ScopeLevel.UNKNOWN),
        ("not a scope", ScopeLevel.UNKNOWN),
        ("", ScopeLevel.UNKNOWN),
        (None, ScopeLevel.UNKNOWN),
        (
            Unresolved("[parameters('s')]", "no value", "/subscriptions/{s}/resourceGroups/rg"),
            ScopeLevel.RESOURCE_GROUP,
        ),
        (Unresolved("[parameters('s')]", "no value", None), ScopeLevel.UNKNOWN),
    ],
)
def test_scope_level(scope: object, level: ScopeLevel) -> None:
    assert scope_level(scope) == level


def test_scope_and_name_of_exemption_id() -> None:
    eid = "/subscriptions/1/resourceGroups/rg/providers/microsoft.authorization/policyexemptions/ex1"
    assert scope_of_exemption_id(eid) == "/subscriptions/1/resourceGroups/rg"
    assert name_of_exemption_id(eid) == "ex1"
    assert scope_of_exemption_id("/providers/Microsoft.Authorization/policyExemptions/t") == "/"
    assert scope_of_exemption_id("/subscriptions/1") is None


@pytest.mark.parametrize(
    ("text", "moment", "zone"),
    [
        ("2026-12-31T23:59:00Z", datetime.datetime(2026, 12, 31, 23, 59, tzinfo=datetime.timezone.utc), True),
        (
            "2020-12-31T23:59:00.0000000Z",
            datetime.datetime(2020, 12, 31, 23, 59, tzinfo=datetime.timezone.utc),
            True,
        ),
        (
            "2026-01-01T01:00:00+02:00",
            datetime.datetime(2025, 12, 31, 23, 0, tzinfo=datetime.timezone.utc),
            True,
        ),
        ("2025-12-31", datetime.datetime(2025, 12, 31, tzinfo=datetime.timezone.utc), False),
        (
            "2025-10-02T03:57:00.000Z",
            datetime.datetime(2025, 10, 2, 3, 57, tzinfo=datetime.timezone.utc),
            True,
        ),
    ],
)
def test_parse_iso8601(text: str, moment: datetime.datetime, zone: bool) -> None:
    parsed = parse_iso8601(text)
    assert parsed is not None
    assert parsed.moment == moment
    assert parsed.has_zone is zone


@pytest.mark.parametrize(
    "text", ["6/1/2024 5:00", "2026-13-01T00:00:00Z", "2026-02-30", "tomorrow", "", "2026-01-01T25:00Z"]
)
def test_parse_iso8601_rejects(text: str) -> None:
    assert parse_iso8601(text) is None
