"""`exemptlint catalog list|show`, `--version`, and a catalog file a team keeps (`--catalog FILE`,
config `catalog:`): validated as a whole, a one-line error and exit code 2 when it cannot be used."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from exemptlint.catalog import MCSB_INITIATIVE, load_catalog
from exemptlint.catalog_file import catalog_document
from exemptlint.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "reference"
TODAY = ["--today", "2026-11-24"]
ISO_27001_2013 = "89c6cddc-1c73-4ac1-b19c-54d1a15a42f2"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _out(capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    captured = capsys.readouterr()
    return captured.out, captured.err


# --- catalog list --------------------------------------------------------------------------------


def test_list_names_the_source_and_filters(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "list", "--category", "security center", "--honoured"]) == 0
    lines = _out(capsys)[0].splitlines()
    assert lines[0] == (
        "catalog: Azure/azure-policy@f4a50bacae07ddb096943c597669bcae494a6e29 (date not recorded); "
        "2 of 183 initiatives"
    )
    assert lines[1].split() == ["NAME", "HONOURED", "STATUS", "VERSION", "CATEGORY", "DISPLAY", "NAME"]
    assert [line.split()[:3] for line in lines[2:]] == [
        [MCSB_INITIATIVE, "yes", "current"],
        ["e3ec7e09-768c-4b64-882c-fcada3772047", "yes", "preview"],
    ]
    assert main(["catalog", "list", "--honoured"]) == 0
    rows = _out(capsys)[0].splitlines()[2:]
    assert len(rows) == 73
    statuses = {row.split()[0]: row.split()[2] for row in rows}
    assert statuses[ISO_27001_2013] == "superseded"
    assert statuses["bb522ac1-bc39-4957-b194-429bcd3bcb0b"] == "deprecated"


def test_list_json_is_a_catalog_file(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "list", "--json", "--members"]) == 0
    document = json.loads(_out(capsys)[0])
    assert document["header"]["sourceCommit"] == "f4a50bacae07ddb096943c597669bcae494a6e29"
    assert len(document["initiatives"]) == 183
    mcsb = next(e for e in document["initiatives"] if e["name"] == MCSB_INITIATIVE)
    assert {"policyDefinitionReferenceId": "webAppEnforceHttpsMonitoring",
            "policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/a4af4a39-4135-47fb-b175-47fbdf85311d"} in mcsb["policyDefinitions"]
    # It is what --catalog reads: the same findings as with the packaged catalog.
    (workdir / "team-catalog.json").write_text(json.dumps(document), encoding="utf-8")
    for fixture in ("raw/el012-fail.json", "raw/el013-fail.json", "epac"):
        packaged = _findings(workdir, str(FIXTURES / fixture))
        assert packaged and _findings(workdir, str(FIXTURES / fixture), "--catalog", "team-catalog.json") == packaged


def _findings(workdir: Path, *args: str) -> list[tuple[str, int, str]]:
    out = workdir / "report.json"
    main(["check", *args, *TODAY, "--format", "json", "--output", str(out)])
    return [(f["ruleId"], f["line"], f["message"]) for f in json.loads(out.read_text(encoding="utf-8"))["findings"]]


# --- catalog show --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "wanted",
    [
        ISO_27001_2013,
        ISO_27001_2013.upper(),
        f"/providers/Microsoft.Authorization/policySetDefinitions/{ISO_27001_2013}",
        "iso 27001:2013",  # the display name, any case
    ],
)
def test_show_by_name_id_or_display_name(wanted: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "show", wanted]) == 0
    out = _out(capsys)[0]
    lines = out.splitlines()
    assert lines[0] == "ISO 27001:2013"
    assert "  deprecated:  no" in lines
    assert "  superseded:  by ISO/IEC 27001 2022 (5e4ff661-23bf-42fa-8e3a-309a55091cc7)" in lines
    assert "  honoured:    yes: Defender for Cloud honours exemptions on it" in lines
    assert "Members (450):" in lines
    row = next(line for line in lines if line.strip().startswith("AuditSQLServerLevelAuditingSettings"))
    assert row.split(maxsplit=2)[1:] == [
        "a6fb4358-5bf4-4ad7-ba82-2cd2f41ce5e9",
        "Auditing on SQL server should be enabled",
    ]


def test_show_json_lists_members_with_display_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "show", "Microsoft cloud security benchmark", "--json"]) == 0
    entry: dict[str, Any] = json.loads(_out(capsys)[0])
    assert entry["name"] == MCSB_INITIATIVE and entry["honoured"] is True and entry["deprecated"] is False
    assert entry["family"] == [
        "42a694ed-f65e-42b2-aa9e-8052e9740a92",
        "bb522ac1-bc39-4957-b194-429bcd3bcb0b",
        MCSB_INITIATIVE,
        "e3ec7e09-768c-4b64-882c-fcada3772047",
    ]
    member = next(m for m in entry["policyDefinitions"] if m["policyDefinitionReferenceId"] == "webAppEnforceHttpsMonitoring")
    assert member["displayName"] == "App Service apps should only be accessible over HTTPS"


def test_show_not_found_or_ambiguous_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "show", "no such thing"]) == 2
    assert _out(capsys)[1] == "exemptlint: error: no initiative 'no such thing' in the catalog\n"
    assert main(["catalog", "show", "nist sp 800-53"]) == 2
    err = _out(capsys)[1]
    # Words that start as written: "nist" does not match inside "Administrators".
    assert err.startswith("exemptlint: error: 'nist sp 800-53' names 3 initiatives: NIST SP 800-53 R5.1.1 (")
    assert main(["catalog"]) == 2  # the group without a command prints its usage


def test_version_names_the_catalog_source(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert _out(capsys)[0].splitlines()[1] == (
        "catalog: Azure/azure-policy@f4a50bacae07ddb096943c597669bcae494a6e29 (date not recorded)"
    )


# --- --catalog FILE and config catalog: ----------------------------------------------------------


def _team_catalog() -> dict[str, Any]:
    """A catalog a team keeps: the benchmark, and an initiative the packaged catalog lacks."""
    catalog = load_catalog()
    mcsb = catalog.lookup(MCSB_INITIATIVE)
    assert mcsb is not None
    document = catalog_document(catalog, [mcsb], with_members=True)
    document["header"] = {"source": "contoso/policy-catalog@v7", "sourceDate": "2026-10-01"}
    document["initiatives"].append(
        {
            "name": "11111111-2222-3333-4444-555555555555",
            "displayName": "Contoso Regulator 2026",
            "category": "Regulatory Compliance",
            "version": "1.0.0",
            "deprecated": False,
            "policyDefinitions": [
                {
                    "policyDefinitionReferenceId": "storageNetwork",
                    "policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/34c877ad-507e-4c82-993e-3452a6e0ad3c",
                }
            ],
        }
    )
    return document


def _exemption_on(set_name: str, references: list[str]) -> list[dict[str, Any]]:
    sub = "/subscriptions/00000000-0000-0000-0000-000000000001"
    return [
        {
            "id": f"{sub}/providers/Microsoft.Authorization/policyAssignments/pr-regulator",
            "name": "pr-regulator",
            "type": "Microsoft.Authorization/policyAssignments",
            "properties": {"policyDefinitionId": f"/providers/Microsoft.Authorization/policySetDefinitions/{set_name}"},
        },
        {
            "id": f"{sub}/resourceGroups/rg/providers/Microsoft.Authorization/policyExemptions/storage",
            "type": "Microsoft.Authorization/policyExemptions",
            "properties": {
                "policyAssignmentId": f"{sub}/providers/Microsoft.Authorization/policyAssignments/pr-regulator",
                "policyDefinitionReferenceIds": references,
                "exemptionCategory": "Mitigated",
                "expiresOn": "2027-01-31T00:00:00Z",
                "displayName": "Storage behind the firewall",
                "description": "The storage account is reached only through the central firewall (SEC-9).",
            },
        },
    ]


def test_team_catalog_replaces_the_packaged_one(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "catalog.json").write_text(json.dumps(_team_catalog()), encoding="utf-8")
    exemption = _exemption_on("11111111-2222-3333-4444-555555555555", ["storageNetwrk"])
    (workdir / "x.json").write_text(json.dumps(exemption, indent=2), encoding="utf-8")
    # With the packaged catalog the initiative is not known (EL010).
    assert [f[0] for f in _findings(workdir, "x.json")] == ["EL010"]
    # With the team's: honoured (a regulatory compliance initiative), and its members are checked.
    found = _findings(workdir, "x.json", "--catalog", "catalog.json")
    assert [(rule, line) for rule, line, _ in found] == [("EL012", 15)]
    assert found[0][2].endswith("did you mean 'storageNetwork' (Storage accounts should restrict network access)?")
    # The config names it the same way, relative to the config file.
    (workdir / ".exemptlint.yaml").write_text("catalog: catalog.json\n", encoding="utf-8")
    assert _findings(workdir, "x.json") == found
    assert main(["catalog", "list"]) == 0
    assert _out(capsys)[0].splitlines()[0] == (
        "catalog: contoso/policy-catalog@v7 (2026-10-01), from catalog.json; 2 of 2 initiatives"
    )


BAD_CATALOGS = [
    ("[]", "1:1: error: expected an object with an 'initiatives' array, found an array"),
    ('{"initiatives": []}', "1:2: error: initiatives: the catalog holds no initiative"),
    ('{\n "initiatives": [\n  {"name": "a", "displayName": "A", "category": "C", "version": "1"}\n ]\n}',
     "3:3: error: initiatives[0]: the initiative has no 'deprecated'"),
    ('{\n "initiatives": [\n  {"name": "a", "displayName": "A", "category": "C", "version": "1",\n   "deprecated": "no"}\n ]\n}',
     "4:4: error: initiatives[0].deprecated: expected true or false, found a string"),
    ('{"initiatives": [{"name": "a/b", "displayName": "A", "category": "C", "version": "1", "deprecated": false}]}',
     "1:19: error: initiatives[0].name: 'a/b' is not an initiative name (the last segment of its id)"),
    ('{"initiatives": [{"name": "a", "displayname": "A", "category": "C", "version": "1", "deprecated": false}]}',
     "1:32: error: initiatives[0].displayname: unknown key 'displayname'; did you mean 'displayName'?"),
    ('{"initiatives": [{"name": "a", "displayName": "A", "category": "C", "version": "1", "deprecated": false},'
     ' {"name": "A", "displayName": "A", "category": "C", "version": "1", "deprecated": false}]}',
     "1:108: error: initiatives[1].name: 'A' is also initiatives[0] (names are compared ignoring case)"),
    ('{"initiatives": [{"name": "a", "displayName": "A", "category": "C", "version": "1", "deprecated": false,'
     ' "supersededBy": "b"}]}',
     "1:106: error: initiatives[0].supersededBy: 'b' is not an initiative of the catalog"),
    ('{"initiatives": [{"name": "a", "displayName": "A", "category": "C", "version": "1", "deprecated": false,'
     ' "policyDefinitions": [{"policyDefinitionReferenceId": "x"}]}]}',
     "1:128: error: initiatives[0].policyDefinitions[0]: the member has no 'policyDefinitionId'"),
    ('{"initiatives": [', "1:18: error: invalid JSON: "),
]


@pytest.mark.parametrize(("text", "message"), BAD_CATALOGS)
def test_catalog_file_errors_are_one_line_and_exit_2(
    text: str, message: str, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "bad.json").write_text(text, encoding="utf-8")
    (workdir / "x.json").write_text((FIXTURES / "raw" / "el012-pass.json").read_text(encoding="utf-8"))
    assert main(["check", "x.json", *TODAY, "--catalog", "bad.json"]) == 2
    out, err = _out(capsys)
    assert out == ""  # nothing is linted with a catalog that cannot be used
    assert err.startswith(f"bad.json:{message}") and err.count("\n") == 1, err
    assert main(["catalog", "list", "--catalog", "bad.json"]) == 2
    assert _out(capsys)[1] == err


def test_missing_catalog_file(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / ".exemptlint.yaml").write_text("catalog: nowhere.json\n", encoding="utf-8")
    assert main(["check", ".", *TODAY]) == 2
    assert _out(capsys)[1] == "nowhere.json:1:1: error: catalog file not found\n"
