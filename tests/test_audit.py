"""``exemptlint audit`` end to end against the fake ARM on 127.0.0.1 (tests/audit_tenant.py)."""

from __future__ import annotations

import csv
import gc
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from exemptlint.audit import run as audit_run
from exemptlint.cli import main
from tests.audit_tenant import (
    CORP,
    CUSTOM_ASSIGNMENT,
    DELETED_ASSIGNMENT,
    MCSB_ASSIGNMENT,
    RG_APP,
    STORAGE,
    SUB_A,
    SUB_B,
    WEB,
    exemption_id,
    graph_row,
    large_tenant,
    small_tenant,
)
from tests.azure_fake import Answer, FakeAzure, Request, error_body

CODE = Path(__file__).parent / "fixtures" / "audit" / "code"
TOKEN = "tok-0123456789-audit-secret"
TODAY = ["--today", "2026-11-24"]
# An exemption of the custom initiative the fake tenant assigns, valid but for what a test changes.
GOOD_CUSTOM = {
    "policyAssignmentId": CUSTOM_ASSIGNMENT,
    "exemptionCategory": "Mitigated",
    "expiresOn": "2027-03-31T00:00:00Z",
    "displayName": "Storage handled by the platform",
    "description": "Network access is restricted by the platform firewall; reviewed in SEC-102.",
}


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeAzure]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AZURE_ACCESS_TOKEN", TOKEN)
    sleeps: list[float] = []
    monkeypatch.setattr(audit_run, "_SLEEP", [sleeps.append])
    server = FakeAzure()
    server.start()
    small_tenant(server)
    yield server
    server.stop()
    # Sessions and sockets of the run are collected here, not in a later test's timed section.
    gc.collect()


def audit(fake: FakeAzure, *args: str) -> list[str]:
    return ["audit", "--arm-endpoint", fake.url, *TODAY, *args]


def run_json(
    fake: FakeAzure, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, dict[str, Any], str]:
    code = main(audit(fake, "--format", "json", *args))
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def by_name(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in document["audit"]["exemptions"]}


def test_deployed_exemptions_get_the_findings_check_gives(
    fake: FakeAzure, capsys: pytest.CaptureFixture[str]
) -> None:
    code, document, _ = run_json(fake, capsys, "--subscription", SUB_A, SUB_B)
    assert code == 1
    found = {(f["file"], f["ruleId"], f["line"], f["column"]) for f in document["findings"]}
    tls = exemption_id(WEB, "tls-legacy")
    assert (tls, "EL005", 1, 1) in found  # expired on 2026-10-31
    no_expiry = exemption_id(f"/subscriptions/{SUB_A}", "sub-no-expiry")
    assert {(no_expiry, rule, 1, 1) for rule in ("EL001", "EL003", "EL006")} <= found
    soon = exemption_id(RG_APP, "rg-app-soon")
    # EL015 pairs it with 'deleted-yesterday', a stale row Resource Graph still lists (--verify
    # marks such rows); that is the whole-run rule seeing what Resource Graph returned.
    duplicate, warning = sorted(
        (f for f in document["findings"] if f["file"] == soon), key=lambda f: f["ruleId"], reverse=True
    )
    assert (warning["ruleId"], warning["level"]) == ("EL005", "warning")
    assert duplicate["ruleId"] == "EL015" and "'deleted-yesterday'" in duplicate["message"]
    # The MCSB assignment at the management group was read by id, so EL001 has no finding on the
    # exemptions of it and EL010 speaks only of the deleted assignment.
    assert [f["file"] for f in document["findings"] if f["ruleId"] == "EL010"] == [
        exemption_id(f"/subscriptions/{SUB_B}/resourceGroups/rg-old", "orphan")
    ]
    assert not [f for f in document["findings"] if f["file"] == exemption_id(STORAGE, "storage-nva")]
    # Resource Graph's null assignmentScopeValidation is not an EL008 error.
    assert not [f for f in document["findings"] if f["ruleId"] == "EL008"]
    el001 = next(f for f in document["findings"] if f["ruleId"] == "EL001")
    assert "custom initiative" in el001["message"]


def test_statuses_owners_and_orphans(fake: FakeAzure, capsys: pytest.CaptureFixture[str]) -> None:
    _, document, _ = run_json(fake, capsys, "--subscription", SUB_A, SUB_B, "--expiring-within", "14")
    exemptions = by_name(document)
    assert {name: e["status"] for name, e in exemptions.items()} == {
        "deleted-yesterday": "active",  # without --verify the stale row is not known to be stale
        "orphan": "active",
        "rg-app-soon": "expiring",
        "storage-nva": "active",
        "sub-no-expiry": "no-expiry",
        "tls-legacy": "expired",
    }
    assert exemptions["tls-legacy"]["daysLeft"] == -24
    assert exemptions["rg-app-soon"]["daysLeft"] == 10
    assert exemptions["orphan"]["assignment"] == "missing"
    assert exemptions["orphan"]["policyAssignmentId"] == DELETED_ASSIGNMENT
    assert exemptions["storage-nva"]["assignment"] == "exists"
    assert exemptions["storage-nva"]["initiative"] == "Microsoft cloud security benchmark"
    assert exemptions["sub-no-expiry"]["initiative"] == "Contoso CIS (custom)"
    assert exemptions["storage-nva"]["owner"] is None  # no owner-key configured
    assert exemptions["storage-nva"]["createdBy"] is None  # Resource Graph rows carry no systemData
    summary = document["audit"]["summary"]
    assert summary["byStatus"] == {
        "expired": 1,
        "expiring": 1,
        "no-expiry": 1,
        "active": 3,
        "unreadable-expiry": 0,
    }
    assert summary["byCategory"] == {"Mitigated": 4, "Waiver": 2}
    assert summary["byScopeLevel"] == {"resource": 2, "resourceGroup": 3, "subscription": 1}
    assert summary["assignmentMissing"] == 1
    assert summary["expiredStillPresent"] == 1
    assert document["audit"]["complete"] is True
    assert (
        exemptions["storage-nva"]["portalUrl"]
        == f"https://portal.azure.com/#resource{exemption_id(STORAGE, 'storage-nva')}"
    )


def test_verify_marks_stale_rows_and_reads_system_data(
    fake: FakeAzure, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / ".exemptlint.yaml").write_text("azure:\n  owner-key: owner\n")
    _, document, _ = run_json(fake, capsys, "--subscription", SUB_A, SUB_B, "--verify")
    exemptions = by_name(document)
    assert exemptions["deleted-yesterday"]["status"] == "stale"
    assert document["audit"]["summary"]["stale"] == 1
    assert document["audit"]["summary"]["deployed"] == 5
    # A stale row is not linted: it does not exist.
    assert not [f for f in document["findings"] if "deleted-yesterday" in f["file"]]
    storage = exemptions["storage-nva"]
    assert (storage["createdBy"], storage["lastModifiedBy"]) == ("alice@contoso.com", "pipeline-spn")
    assert storage["verified"] is True
    assert storage["owner"] == "team-storage"
    gets = [r.path for r in fake.requests if r.method == "GET" and "policyExemptions" in r.path]
    assert len(gets) == 6
    assert all(
        r.query == {"api-version": "2022-07-01-preview"}
        for r in fake.requests
        if "policyExemptions" in r.path
    )


def test_compare_with_the_code(fake: FakeAzure, capsys: pytest.CaptureFixture[str]) -> None:
    _, document, _ = run_json(fake, capsys, "--subscription", SUB_A, SUB_B, "--code", str(CODE))
    exemptions = by_name(document)
    assert exemptions["storage-nva"]["code"]["status"] == "in-code"
    assert exemptions["storage-nva"]["code"]["location"]["file"].endswith("storage-nva.json")
    # Matched case-insensitively (TLS-Legacy, RG-APP, AAAAAAAA...); the expiry differs.
    tls = exemptions["tls-legacy"]["code"]
    assert tls["status"] == "different"
    # The code sets no metadata: the deployed metadata is not a difference.
    assert tls["differences"] == [
        {"field": "expiresOn", "deployed": "2026-10-31T00:00:00Z", "code": "2027-01-31T00:00:00Z"}
    ]
    assert exemptions["sub-no-expiry"]["code"]["status"] == "not-in-code"
    assert exemptions["orphan"]["code"]["status"] == "not-in-code"
    # The code's rg-app-soon has a placeholder in its scope: possibly this one, never "not in code".
    assert exemptions["rg-app-soon"]["code"]["status"] == "possibly-in-code"
    audit_doc = document["audit"]
    assert [c["name"] for c in audit_doc["notDeployed"]] == ["planned"]
    assert [(c["name"], c["id"]) for c in audit_doc["notComparable"]] == [("rg-app-soon", None)]
    assert audit_doc["outsideAuditedScopes"] == 1  # 'elsewhere' is in a subscription not read
    assert audit_doc["summary"]["notInCode"] == 3  # sub-no-expiry, orphan, deleted-yesterday
    assert audit_doc["summary"]["different"] == 1
    assert audit_doc["summary"]["notDeployed"] == 1


def test_defender_view(fake: FakeAzure, capsys: pytest.CaptureFixture[str]) -> None:
    _, document, _ = run_json(fake, capsys, "--subscription", SUB_A, SUB_B)
    exemptions = by_name(document)
    assert exemptions["storage-nva"]["defender"] == [
        {
            "recommendation": "Storage accounts should restrict network access",
            "policyDefinitionId": "/providers/microsoft.authorization/policydefinitions/34c877ad-507e-4c82-993e-3452a6e0ad3c",
            "resources": 1,
            "matchedByPolicy": True,
        }
    ]
    # rg-app-soon exempts the storage policy too (same reference id) and covers the account.
    assert [h["recommendation"] for h in exemptions["rg-app-soon"]["defender"]] == [
        "Storage accounts should restrict network access"
    ]
    # tls-legacy exempts the TLS policy only: the storage assessment is not its.
    assert [h["recommendation"] for h in exemptions["tls-legacy"]["defender"]] == [
        "App Service apps should use the latest TLS version"
    ]
    # An exemption on a custom initiative does not hide anything from Defender (EL001's point),
    # although the custom initiative holds the storage policy and the scope covers the account.
    assert exemptions["sub-no-expiry"]["defender"] == []
    unmatched = document["audit"]["defenderUnmatched"]
    assert [u["recommendation"] for u in unmatched] == ["Key vaults should have deletion protection enabled"]
    assert document["audit"]["summary"]["defenderExempt"] == 3
    queries = [r.body["query"] for r in fake.graph_requests()]
    assert any(
        q.startswith("securityresources") and "properties.status.cause == 'Exempt'" in q for q in queries
    )


def test_no_defender_skips_the_query(fake: FakeAzure, capsys: pytest.CaptureFixture[str]) -> None:
    _, document, _ = run_json(fake, capsys, "--subscription", SUB_A, "--no-defender")
    assert document["audit"]["summary"]["defenderExempt"] is None
    assert not [r for r in fake.graph_requests() if r.body["query"].startswith("securityresources")]


def test_management_group_scope_reads_below_it(fake: FakeAzure, capsys: pytest.CaptureFixture[str]) -> None:
    _, document, _ = run_json(fake, capsys, "--management-group", "corp")
    assert len(document["audit"]["exemptions"]) == 6
    assert document["audit"]["scopes"] == [CORP]
    assert all(r.body.get("managementGroups") == ["corp"] for r in fake.graph_requests())


def test_a_forbidden_subscription_is_reported_the_rest_continue(
    fake: FakeAzure, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fake.forbidden_subscriptions = {SUB_B}
    code = main(audit(fake, "--subscription", SUB_A, SUB_B, "--format", "json", "--output", "report.json"))
    err = capsys.readouterr().err
    assert code == 2
    document = json.loads((tmp_path / "report.json").read_text())
    assert document["audit"]["complete"] is False
    assert document["audit"]["problems"][0].startswith(f"subscription {SUB_B}: Azure answered 403 Forbidden")
    assert {e["name"] for e in document["audit"]["exemptions"]} == {
        "storage-nva",
        "tls-legacy",
        "rg-app-soon",
        "sub-no-expiry",
        "deleted-yesterday",
    }
    assert f"exemptlint: error: subscription {SUB_B}: Azure answered 403" in err
    assert TOKEN not in err


def test_a_subscription_graph_silently_leaves_out_is_reported(
    fake: FakeAzure, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.tables["containers"] = [c for c in fake.tables["containers"] if c["subscriptionId"] != SUB_B]
    code, document, _ = run_json(fake, capsys, "--subscription", SUB_A, SUB_B)
    assert code == 2
    assert document["audit"]["complete"] is False
    assert "not visible to this identity" in document["audit"]["problems"][0]


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (Answer(401, error_body("InvalidAuthenticationToken", "expired")), "401 Unauthorized"),
        (Answer(404, error_body("NotFound", "no such provider")), "404 Not Found"),
        (Answer(500, error_body("InternalServerError", "oops")), "answered 500"),
        (Answer(200, "{not json"), "malformed body"),
        (
            Answer(200, {"totalRecords": 9, "count": 1, "data": [{"id": "/x"}], "$skipToken": "loop"}),
            "page loop",
        ),
        (Answer(429, "", {"Retry-After": "1"}), "still answered 429"),
    ],
)
def test_azure_errors_stop_the_run_without_a_report(
    fake: FakeAzure, capsys: pytest.CaptureFixture[str], tmp_path: Path, answer: Answer, message: str
) -> None:
    def override(request: Request) -> Answer | None:
        if request.path.endswith("/resources") and "policyassignments" in request.body["query"]:
            return answer
        return None

    fake.override = override
    code = main(audit(fake, "--subscription", SUB_A, "--format", "html", "--output", "report.html"))
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1, err
    assert (
        err[0].startswith("exemptlint: error: ")
        and message in err[0]
        and err[0].endswith("no report was written")
    )
    assert not (tmp_path / "report.html").exists()
    assert "Traceback" not in "".join(err)


def test_a_slow_answer_is_a_time_out(fake: FakeAzure, capsys: pytest.CaptureFixture[str]) -> None:
    fake.override = lambda request: (
        Answer(200, {"value": []}, delay=1.0) if request.method == "POST" else None
    )
    code = main(audit(fake, "--subscription", SUB_A, "--timeout", "0.2"))
    err = capsys.readouterr().err
    assert code == 2
    assert "within 0.2 s" in err


def test_no_token_is_one_line(
    fake: FakeAzure, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AZURE_ACCESS_TOKEN")
    monkeypatch.setenv("PATH", "/nonexistent")
    assert main(audit(fake, "--subscription", SUB_A)) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "no Azure access token: set AZURE_ACCESS_TOKEN" in line
    assert fake.requests == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--subscription", "not-a-guid"], "is not a subscription id"),
        (["--arm-endpoint", "http://example.com"], "plain http"),
        (["--expiring-within", "-3"], "is not a number of days"),
    ],
)
def test_usage_errors(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    assert main(["audit", *args]) == 2
    assert message in capsys.readouterr().err


def test_the_token_goes_only_to_the_endpoint_and_is_never_printed(
    fake: FakeAzure, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(
        audit(
            fake,
            "--subscription",
            SUB_A,
            SUB_B,
            "--verify",
            "--code",
            str(CODE),
            "--output",
            "json=a.json",
            "--output",
            "html=a.html",
            "--output",
            "csv=a.csv",
            "--output",
            "markdown=a.md",
            "--output",
            "sarif=a.sarif",
        )
    )
    captured = capsys.readouterr()
    assert code == 1
    for text in (captured.out, captured.err, *(p.read_text() for p in tmp_path.glob("a.*"))):
        assert TOKEN not in text
    assert all(r.headers.get("Authorization") == f"Bearer {TOKEN}" for r in fake.requests)


def test_text_summary(
    fake: FakeAzure, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from exemptlint.audit import analyze
    from exemptlint.audit.text import summary_lines

    built: list[Any] = []
    real = analyze.build_audit

    def spy(*args: Any, **kwargs: Any) -> Any:
        built.append(real(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(analyze, "build_audit", spy)
    assert (
        main(audit(fake, "--subscription", SUB_A, SUB_B, "--code", str(CODE), "--verify", "--format", "json"))
        == 1
    )
    capsys.readouterr()
    lines = summary_lines(built[0])
    assert lines[1:7] == [
        "  by status: 1 expired, 1 expiring within 30 days, 1 without expiry, 2 active",
        "  by category: Waiver 2, Mitigated 3",
        "  by scope level: subscription 1, resourceGroup 2, resource 2",
        "  assignment missing: 1; stale Resource Graph rows: 1",
        "  code: 2 not in code, 1 different, 1 not deployed, 1 not comparable, 1 outside the audited scopes",
        "  Defender for Cloud: 3 exempt assessments, 1 without an exemption the audit can see",
    ]
    assert "Expired and still present (1):" in lines
    assert not any(line.startswith("INCOMPLETE") for line in lines)


def test_csv_rows_per_exemption(fake: FakeAzure, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert (
        main(
            audit(
                fake,
                "--subscription",
                SUB_A,
                SUB_B,
                "--code",
                str(CODE),
                "--format",
                "csv",
                "--output",
                "r.csv",
            )
        )
        == 1
    )
    rows = list(csv.DictReader(io.StringIO((tmp_path / "r.csv").read_text(encoding="utf-8"))))
    by = {r["name"]: r for r in rows}
    assert by["tls-legacy"]["status"] == "expired"
    assert by["tls-legacy"]["code"] == "different"
    assert by["tls-legacy"]["differences"] == "expiresOn"
    assert by["tls-legacy"]["findings"] == "1"
    assert by["planned"]["code"] == "not-deployed"
    assert by["planned"]["status"] == ""


def test_sarif_moves_findings_of_exemptions_in_code_to_the_code(
    fake: FakeAzure, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    main(
        audit(
            fake,
            "--subscription",
            SUB_A,
            SUB_B,
            "--code",
            str(CODE),
            "--format",
            "sarif",
            "--output",
            "r.sarif",
        )
    )
    log = json.loads((tmp_path / "r.sarif").read_text())
    results = log["runs"][0]["results"]
    tls = [r for r in results if "tls-legacy" in r["message"]["text"]]
    assert tls and all(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("tls-legacy.json")
        for r in tls
    )
    assert all("[deployed: /subscriptions/" in r["message"]["text"] for r in tls)


def test_markdown_has_the_audit_sections(
    fake: FakeAzure, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    main(
        audit(
            fake,
            "--subscription",
            SUB_A,
            SUB_B,
            "--code",
            str(CODE),
            "--format",
            "markdown",
            "--output",
            "r.md",
        )
    )
    text = (tmp_path / "r.md").read_text()
    assert "### Deployed exemptions" in text
    assert "| expired | 1 |" in text
    assert "| tls-legacy | expiresOn |" in text


def test_quota_and_throttling_waits_use_the_injected_sleep(
    fake: FakeAzure, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr(audit_run, "_SLEEP", [sleeps.append])
    fake.quota_start = 3
    throttled = [Answer(429, error_body("RateLimiting", "x"), {"Retry-After": "2"})]
    fake.override = lambda request: throttled.pop() if throttled and request.method == "POST" else None
    started = time.perf_counter()
    assert main(audit(fake, "--subscription", SUB_A, "--format", "json", "--output", "r.json")) == 1
    assert time.perf_counter() - started < 10
    assert sleeps[0] == 2.0
    assert sleeps.count(3.0) >= 2  # quota 1 and 0 remaining: wait 00:00:03 each time


def test_scale_tenant_of_5500_exemptions_over_six_pages(
    fake: FakeAzure, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    large_tenant(fake, 5500, assessments=2000)
    started = time.perf_counter()
    code = main(
        audit(
            fake, "--subscription", SUB_A, "--format", "json", "--output", "r.json", "--output", "html=r.html"
        )
    )
    elapsed = time.perf_counter() - started
    assert code == 1
    document = json.loads((tmp_path / "r.json").read_text())
    assert len(document["audit"]["exemptions"]) == 5500
    pages = [r for r in fake.graph_requests() if "policyexemptions" in r.body["query"]]
    assert len(pages) == 6
    assert document["audit"]["summary"]["byStatus"]["expired"] == 550
    assert len([f for f in document["findings"] if f["ruleId"] == "EL005" and f["level"] == "error"]) == 550
    # Each storage account is exempt through the 110 exemptions of its resource group.
    first = document["audit"]["exemptions"][0]
    assert first["defender"][0]["resources"] == 40  # 2,000 accounts over 50 groups
    assert document["audit"]["summary"]["defenderUnmatched"] == 0
    assert elapsed < 120, elapsed
    print(f"\nscale audit: 5500 exemptions, 6 pages, {elapsed:.2f} s")


def test_mcsb_assignment_outside_the_scopes_is_read_by_id(
    fake: FakeAzure, capsys: pytest.CaptureFixture[str]
) -> None:
    run_json(fake, capsys, "--subscription", SUB_A)
    gets = [r.path for r in fake.requests if r.method == "GET"]
    assert MCSB_ASSIGNMENT in gets
    assert CUSTOM_ASSIGNMENT not in gets  # Resource Graph listed it
    assert (
        "/providers/Microsoft.Authorization/policySetDefinitions/1f3afdf9-d0c9-4c3d-847f-89da613e70a8" in gets
    )


def test_odd_rows_never_crash_the_audit(fake: FakeAzure, capsys: pytest.CaptureFixture[str]) -> None:
    """Rows of the right envelope with values of unexpected types: each is judged or left out,
    the run ends with a report, never a traceback."""
    base = exemption_id(f"/subscriptions/{SUB_A}/resourceGroups/rg-odd", "")
    fake.tables["policyexemptions"] += [
        {"id": 42, "name": "no-string-id", "subscriptionId": SUB_A},
        {"id": base + "props-list", "subscriptionId": SUB_A, "properties": ["x"]},
        {
            "id": base + "odd-values",
            "subscriptionId": SUB_A,
            "systemData": "yesterday",
            "properties": {
                "policyAssignmentId": 7,
                "exemptionCategory": ["Waiver"],
                "expiresOn": 20270101,
                "policyDefinitionReferenceIds": "one",
                "metadata": "owner",
                "displayName": None,
            },
        },
        {"id": f"/subscriptions/{SUB_A}/resourceGroups/not-an-exemption", "subscriptionId": SUB_A},
    ]
    fake.tables["containers"].append(
        {
            "id": "/providers/Microsoft.Management/managementGroups/x",
            "type": "microsoft.management/managementgroups",
            "name": "x",
            "properties": {"details": {"managementGroupAncestorsChain": {"name": "not a list"}}},
        }
    )
    fake.tables["assessments"] += [{"id": "/a/b", "name": "no-resource"}, {"id": 5, "resourceId": None}]
    code, document, err = run_json(fake, capsys, "--subscription", SUB_A, SUB_B, "--code", str(CODE))
    assert code == 1
    assert "Traceback" not in err
    odd = by_name(document)
    assert odd["odd-values"]["status"] == "unreadable-expiry"
    assert odd["odd-values"]["assignment"] == "unknown"
    assert odd["props-list"]["status"] == "no-expiry"
    assert "no-string-id" not in odd
    assert any("without an exemption id" in w for w in document["audit"]["warnings"])
    el008 = {
        f["property"] for f in document["findings"] if f["ruleId"] == "EL008" and "odd-values" in f["file"]
    }
    assert {"policyAssignmentId", "exemptionCategory", "expiresOn"} <= el008


def test_reference_ids_of_a_custom_initiative_read_from_azure_are_checked(
    fake: FakeAzure, capsys: pytest.CaptureFixture[str]
) -> None:
    # The custom set Resource Graph returns has one member, 'st': EL012 judges reference ids
    # against it as it does against a set definition in a scanned file.
    good = {**GOOD_CUSTOM, "policyDefinitionReferenceIds": ["ST"]}  # Azure compares ids ignoring case
    bad = {**GOOD_CUSTOM, "policyDefinitionReferenceIds": ["storage"]}
    for name, props in (("custom-good", good), ("custom-bad", bad)):
        fake.tables["policyexemptions"].append(graph_row(RG_APP, name, props, SUB_A))
    _, document, _ = run_json(fake, capsys, "--subscription", SUB_A, SUB_B)
    el012 = [(f["file"], f["level"]) for f in document["findings"] if f["ruleId"] == "EL012"]
    assert el012 == [(exemption_id(RG_APP, "custom-bad"), "error")]
    (message,) = [f["message"] for f in document["findings"] if f["ruleId"] == "EL012"]
    assert "'storage'" in message and "Contoso CIS (custom)" in message
