"""EPAC (Enterprise Policy as Code) exemption files: JSON/JSONC and CSV, with exact positions."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from exemptlint.engine import LintSettings, lint
from exemptlint.loaders.epac import is_epac_json, load_epac_csv, load_epac_json
from exemptlint.loaders.jsontext import JsonPositions, parse_json_text
from exemptlint.model import Finding, LoadResult, Position, ScopeLevel, Unresolved
from exemptlint.rules import BUILTIN_RULES

FIXTURES = Path(__file__).parent / "fixtures" / "epac"
CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "real"
TODAY = datetime.date(2026, 11, 24)
MCSB = "/providers/Microsoft.Authorization/policySetDefinitions/1f3afdf9-d0c9-4c3d-847f-89da613e70a8"
ASSIGNMENT = (
    "/providers/Microsoft.Management/managementGroups/contoso/providers/Microsoft.Authorization"
    "/policyAssignments/pr-mcsb"
)
HEADER = (
    "name,displayName,description,exemptionCategory,expiresOn,scope,policyAssignmentId,"
    "policyDefinitionReferenceIds,resourceSelectors,metadata,assignmentScopeValidation"
)


def read(name: str) -> str:
    # newline="": CRLF must reach the loader as written.
    with open(FIXTURES / name, encoding="utf-8", newline="") as handle:
        return handle.read()


def load_json(text: str, file: str = "f.jsonc") -> LoadResult:
    doc = parse_json_text(text)
    assert is_epac_json(doc)
    return load_epac_json(doc, file, JsonPositions(text))


def findings(result: LoadResult) -> list[Finding]:
    assert result.errors == []
    return lint(result.exemptions, result.assignments, LintSettings(today=TODAY), BUILTIN_RULES)


def located(found: list[Finding], rule_id: str) -> list[tuple[str, str, int, int]]:
    return [(f.rule_id, f.level.value, f.line, f.column) for f in found if f.rule_id == rule_id]


# --- CSV ---------------------------------------------------------------------------------------


def test_csv_rows_quoted_cells_crlf_and_last_row_without_newline() -> None:
    text = read("rows.csv")
    assert "\r\n" in text and not text.endswith("\n")
    result = load_epac_csv(text, "rows.csv")
    assert [e.name for e in result.exemptions] == ["old-one", "locale", "extra"]
    first = result.exemptions[0]
    assert first.properties == {
        "displayName": "Old, expired exemption",
        "description": 'Risk accepted by the security team, ticket "SEC-1"',
        "exemptionCategory": "Waiver",
        "expiresOn": "2025-06-01T00:00:00Z",
        "metadata": {"owner": "team"},
        "policyDefinitionReferenceIds": ["refA", "refB"],
        "assignmentScopeValidation": "Default",
        "policyAssignmentId": ASSIGNMENT,
    }
    assert first.scope == "/subscriptions/11111111-2222-3333-4444-555555555555"
    assert first.scope_level == ScopeLevel.SUBSCRIPTION
    assert first.source.format == "epac-csv"
    assert first.source.locator.exemption() == Position(2, 1)
    # Row 3 is short (fewer cells than the header): the missing cells are absent.
    assert "metadata" not in result.exemptions[1].properties
    # Empty cells are absent; the surplus cell of row 4 is ignored.
    assert "expiresOn" not in result.exemptions[2].properties
    assert result.exemptions[2].properties["exemptionCategory"] == "Bogus"


def test_csv_findings_point_at_row_and_cell() -> None:
    found = findings(load_epac_csv(read("rows.csv"), "rows.csv"))
    lines = read("rows.csv").split("\r\n")
    assert lines[1].index("2025-06-01") + 1 == 96
    assert located(found, "EL005") == [("EL005", "error", 2, 96)]
    # A culture date of EPAC's exports (12/31/2026 11:59:00 PM) is read as EPAC reads it: no finding
    # (tests/test_expiry_dates.py checks the culture forms at their cells).
    assert located(found, "EL004") == []
    assert located(found, "EL002") == [("EL002", "error", 4, 66)]
    # A missing property is reported at the row.
    assert located(found, "EL003") == [("EL003", "error", 4, 1)]
    assert located(found, "EL008") == []


def test_csv_definition_columns_bom_and_multiline_cell() -> None:
    text = read("definitions.csv")
    result = load_epac_csv(text, "definitions.csv")
    nist, single = result.exemptions
    assert nist.source.locator.exemption() == Position(2, 1)
    assert nist.properties["description"] == "Multi-line\njustification, approved by the CISO"
    # The cell after the multi-line cell is on line 3, at its own column.
    line3 = text.split("\n")[2]
    assert nist.source.locator.property("expiresOn") == Position(3, line3.index("2027") + 1)
    assert nist.policy_assignment_id == (
        "epac:/providers/Microsoft.Authorization/policySetDefinitions/179d1daa-458f-4e47-8086-2a68d0d6c38f"
    )
    assert {a.id: a.policy_definition_id for a in result.assignments} == {
        nist.policy_assignment_id: nist.policy_assignment_id[len("epac:") :],
        single.policy_assignment_id: "/providers/Microsoft.Authorization/policyDefinitions/"
        "e71308d3-144b-4262-b144-efdc3cc90517",
    }
    found = findings(result)
    # NIST SP 800-53 R5 (a built-in regulatory initiative named by name) resolves EL001 alone; the
    # single definition (NSG on subnets) is a member of the benchmark: EPAC exempts it there.
    assert [(f.rule_id, f.exemption_name) for f in found if f.rule_id in ("EL001", "EL010")] == []
    assert single.honoured_initiatives is not None
    assert "Microsoft cloud security benchmark" in single.honoured_initiatives
    assert nist.honoured_initiatives == ("NIST SP 800-53 Rev. 5",)


@pytest.mark.parametrize(
    ("text", "count"),
    [
        (HEADER + "\n", 0),
        (HEADER, 0),
        ("", 0),
        (HEADER + "\r\n\r\n", 0),
        (HEADER + "\rn1,d,x,Waiver,,/subscriptions/s,/a\r", 1),  # lone CR line ends
        ("Name;ExemptionCategory;PolicyAssignmentId\nn1;Waiver;/a\n", 1),  # ; delimiter, any case
    ],
)
def test_csv_edge_cases(text: str, count: int) -> None:
    result = load_epac_csv(text, "f.csv")
    assert result.errors == []
    assert len(result.exemptions) == count


def test_csv_lone_cr_positions() -> None:
    result = load_epac_csv(HEADER + "\rn1,d,x,Bogus,,/subscriptions/s,/a\r", "f.csv")
    assert result.exemptions[0].source.locator.property("exemptionCategory") == Position(2, 8)


def test_csv_that_is_not_epac_yields_nothing() -> None:
    assert load_epac_csv("a,b,c\n1,2,3\n", "data.csv") == LoadResult()


def test_csv_unterminated_quote_is_one_load_error() -> None:
    result = load_epac_csv(HEADER + '\nn1,"never closed,Waiver\n', "bad.csv")
    assert result.exemptions == []
    assert [(e.line, e.column) for e in result.errors] == [(2, 4)]
    assert "unterminated" in result.errors[0].message


def test_csv_bad_json_cell_is_kept_for_el008() -> None:
    text = (
        HEADER
        + "\nn1,Display,Some description here,Waiver,2027-01-01T00:00:00Z,/subscriptions/s,"
        + (ASSIGNMENT + ",ref,,{not json},Default\n")
    )
    result = load_epac_csv(text, "f.csv")
    assert result.exemptions[0].properties["metadata"] == "{not json}"
    column = text.split("\n")[1].index("{not") + 1
    assert located(findings(result), "EL008") == [("EL008", "error", 2, column)]


def test_csv_placeholders_are_unresolved() -> None:
    text = HEADER + "\nn1,D,Desc,Waiver,,/providers/Microsoft.Management/managementGroups/{{MG}},/x/{{MG}}\n"
    (exemption,) = load_epac_csv(text, "f.csv").exemptions
    assert isinstance(exemption.scope, Unresolved)
    assert exemption.scope_level == ScopeLevel.MANAGEMENT_GROUP
    assert isinstance(exemption.policy_assignment_id, Unresolved)


# --- JSON --------------------------------------------------------------------------------------


def test_json_definitions_scopes_and_unknown_fields() -> None:
    result = load_json(read("definitions.jsonc"), "definitions.jsonc")
    names = [e.name for e in result.exemptions]
    assert names == ["mcsb-by-definition", "mcsb-by-definition", "custom-set-by-path", "placeholder-scope"]
    one, two, custom, placeholder = result.exemptions
    assert one.scope.endswith("rg-one") and two.scope.endswith("rg-two")
    assert one.source.context == "scope 1 of 2"
    # status and expiresInDays are EPAC computed fields, not exemption properties.
    assert "status" not in one.properties and "expiresInDays" not in one.properties
    assert one.policy_assignment_id == "epac:" + MCSB
    assert custom.policy_assignment_id.endswith("/policySetDefinitions/Deploy-Private-DNS-Zones")
    assert "/managementGroups/(EPAC deployment root)/" in custom.policy_assignment_id
    assert isinstance(placeholder.scope, Unresolved)
    assert isinstance(placeholder.policy_assignment_id, Unresolved)
    assert len(result.assignments) == 2

    found = findings(result)
    # Both deployed copies of the expired entry, at its expiresOn key.
    assert located(found, "EL005") == [("EL005", "error", 10, 7), ("EL005", "error", 10, 7)]
    # MCSB named directly passes EL001; the custom initiative fails at its policySetDefinitionName key.
    assert located(found, "EL001") == [("EL001", "error", 27, 7)]
    assert "custom initiative" in next(f.message for f in found if f.rule_id == "EL001")
    assert located(found, "EL008") == []
    assert located(found, "EL007") == [("EL007", "error", 36, 7)]


def test_json_definition_names_and_assignment_name() -> None:
    text = """{"exemptions": [
      {"name": "a", "exemptionCategory": "Waiver", "scope": "/subscriptions/s",
       "policyDefinitionName": "audit-resourcegroup-tags"},
      {"name": "b", "exemptionCategory": "Waiver", "scope": "/subscriptions/s",
       "policySetDefinitionName": "1f3afdf9-d0c9-4c3d-847f-89da613e70a8"},
      {"name": "c", "exemptionCategory": "Waiver", "scope": "/subscriptions/s",
       "assignmentName": "pr-mcsb"},
      {"name": "d", "exemptionCategory": "Waiver",
       "policyAssignmentId": "/providers/x/policyAssignments/y", "policySetDefinitionId": "/ignored"}
    ]}"""
    a, b, c, d = load_json(text).exemptions
    assert a.policy_assignment_id == (
        "epac:/providers/Microsoft.Management/managementGroups/(EPAC deployment root)"
        "/providers/Microsoft.Authorization/policyDefinitions/audit-resourcegroup-tags"
    )
    assert b.policy_assignment_id == "epac:" + MCSB
    assert isinstance(c.policy_assignment_id, Unresolved)
    assert (c.policy_assignment_id.partial or "").endswith("/policyAssignments/pr-mcsb")
    assert d.policy_assignment_id == "/providers/x/policyAssignments/y"
    assert d.scope is None


def test_json_top_level_scope_map_is_inherited_once() -> None:
    text = """{"scope": {"epac-dev": ["/subscriptions/s1"], "tenant": ["/subscriptions/S1", "/subscriptions/s2"]},
      "exemptions": [{"name": "a", "exemptionCategory": "Waiver", "policyAssignmentId": "/x"}]}"""
    assert [e.scope for e in load_json(text).exemptions] == ["/subscriptions/s1", "/subscriptions/s2"]


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"$schema": "https://x/Schemas/policy-exemption-schema.json", "exemptions": []}, True),
        ({"exemptions": [{"name": "a", "exemptionCategory": "Waiver"}]}, True),
        ({"exemptions": []}, False),
        ({"exemptions": [{"name": "a"}]}, False),
        ({"exemptions": {}}, False),
        ([{"exemptions": []}], False),
        ("text", False),
    ],
)
def test_is_epac_json(doc: object, expected: bool) -> None:
    assert is_epac_json(doc) is expected


# --- the real-world corpus ---------------------------------------------------------------------


def _corpus_rows() -> list[tuple[str, str, int]]:
    manifest = CORPUS / "MANIFEST.tsv"
    if not manifest.is_file():
        return []
    rows = []
    for line in manifest.read_text(encoding="utf-8").splitlines()[1:]:
        cells = line.split("\t")
        if len(cells) > 5 and cells[4] in ("epac-json", "epac-csv"):
            rows.append((cells[0], cells[4], int(cells[5])))
    return rows


CORPUS_ROWS = _corpus_rows()
# Deployed exemptions (one per scope) where they differ from the entries the manifest counts.
DEPLOYED = {
    "Azure__enterprise-azure-policy-as-code/StarterKit__Definitions-Common__policyExemptions__"
    "active-exemptions.jsonc": 2,
    "atea__EPAC-Demo-Setup/Definitions__policyExemptions__tenant__active-exemptions.jsonc": 2,
    "picccard__epac-picccard/Definitions__policyExemptions__eul-alz__allow-subnet-without-nsg.jsonc": 6,
}


@pytest.mark.skipif(not CORPUS_ROWS, reason="the real corpus (../shared/corpus/real) is absent")
@pytest.mark.parametrize(("local", "fmt", "entries"), CORPUS_ROWS, ids=[r[0] for r in CORPUS_ROWS])
def test_corpus_file(local: str, fmt: str, entries: int) -> None:
    text = (CORPUS / local).read_bytes().decode("utf-8")
    result = load_epac_csv(text, local) if fmt == "epac-csv" else load_json(text, local)
    assert result.errors == []
    # The manifest counts entries (a JSON object or a CSV row); an entry with several scopes
    # deploys one exemption per scope, and those share the entry's position.
    positions = {e.source.locator.exemption() for e in result.exemptions}
    assert len(positions) == entries
    assert len(result.exemptions) == DEPLOYED.get(local, entries)
    lint(result.exemptions, result.assignments, LintSettings(today=TODAY), BUILTIN_RULES)


def test_unknown_epac_field_is_reported_by_el008() -> None:
    import datetime as _dt
    import json as _json

    from exemptlint.engine import LintSettings as _Settings
    from exemptlint.engine import lint as _lint
    from exemptlint.loaders import LoadOptions as _Options
    from exemptlint.loaders import load_json_text as _load
    from exemptlint.rules import BUILTIN_RULES as _RULES

    doc = {
        "$schema": "https://raw.githubusercontent.com/Azure/enterprise-azure-policy-as-code/main/Schemas/policy-exemption-schema.json",
        "exemptions": [
            {
                "name": "typo",
                "displayName": "Typo in a field name",
                "description": "The expiry is misspelt, so EPAC would reject the file.",
                "exemptionCategory": "Waiver",
                "expiresOnn": "2027-01-01T00:00:00Z",
                "status": "active",
                "policyAssignmentId": "/subscriptions/1/providers/Microsoft.Authorization/policyAssignments/SecurityCenterBuiltIn",
                "scope": "/subscriptions/1/resourceGroups/rg",
            }
        ],
    }
    text = _json.dumps(doc, indent=2)
    today = _dt.date(2026, 11, 24)
    result = _load(text, "typo.json", _Options(today=today))
    findings = _lint(result.exemptions, result.assignments, _Settings(today=today), _RULES)
    el008 = [(f.message, f.line, f.column) for f in findings if f.rule_id == "EL008"]
    assert el008 == [("unknown property 'expiresOnn'", 9, 7)]
    # The missing expiry is EL003's finding; "status" (an export field) is not reported.
    assert [f.rule_id for f in findings if f.rule_id == "EL003"] == ["EL003"]
