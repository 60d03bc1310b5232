"""``check`` opens no socket; ``check --online`` reads unknown assignments from Azure (cached);
``catalog update`` writes a catalog file; the progress bar; the ``azure:`` config section."""

from __future__ import annotations

import gc
import io
import json
import shutil
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from exemptlint.audit import run as audit_run
from exemptlint.cli import main
from tests.audit_tenant import MCSB, mcsb_set
from tests.azure_fake import Answer, FakeAzure, error_body

ROOT = Path(__file__).resolve().parents[1]
TODAY = ["--today", "2026-11-24"]
SUB = "aaaaaaaa-0000-4000-8000-000000000001"
CUSTOM_SET = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/policySetDefinitions/custom"
ONLINE = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/policyAssignments/only-in-azure"
ONLINE_MCSB = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/policyAssignments/mcsb-in-azure"


def exemption(name: str, assignment: str) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Authorization/policyExemptions/{name}",
        "name": name,
        "type": "Microsoft.Authorization/policyExemptions",
        "properties": {
            "policyAssignmentId": assignment,
            "exemptionCategory": "Waiver",
            "expiresOn": "2027-01-31",
            "displayName": name,
            "description": "Reviewed and approved by the security team in SEC-77.",
        },
    }


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeAzure]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AZURE_ACCESS_TOKEN", "online-token")
    monkeypatch.setattr(audit_run, "_SLEEP", [lambda seconds: None])
    server = FakeAzure()
    server.start()
    for assignment, definition in ((ONLINE, CUSTOM_SET), (ONLINE_MCSB, MCSB)):
        server.resources[assignment.lower()] = {
            "properties": {"policyDefinitionId": definition, "scope": f"/subscriptions/{SUB}"},
            "id": assignment,
            "type": "Microsoft.Authorization/policyAssignments",
            "name": assignment.rsplit("/", 1)[-1],
        }
    (tmp_path / "exemptions.json").write_text(
        json.dumps([exemption("a", ONLINE), exemption("b", ONLINE_MCSB), exemption("c", ONLINE + "-gone")])
    )
    yield server
    server.stop()
    # Sessions and sockets of the run are collected here, not in a later test's timed section.
    gc.collect()


def check_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    code = main(["check", "exemptions.json", *TODAY, "--format", "json", *args])
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def rules_of(document: dict[str, Any]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for finding in document["findings"]:
        found.setdefault(finding["exemption"], []).append(finding["ruleId"])
    return found


class _NoNetwork:
    def __init__(self) -> None:
        self.attempts: list[Any] = []

    def __call__(self, sock: socket.socket, address: Any) -> None:
        self.attempts.append(address)
        raise AssertionError(f"check opened a socket to {address}")


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> _NoNetwork:
    guard = _NoNetwork()
    monkeypatch.setattr(socket.socket, "connect", guard)
    monkeypatch.setattr(socket.socket, "connect_ex", guard)
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: guard(None, a))  # type: ignore[arg-type]
    return guard


def test_check_opens_no_socket_and_imports_no_http_client(
    no_network: _NoNetwork,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    loaded = ("requests", "urllib3", "exemptlint.azure", "exemptlint.audit.run", "exemptlint.audit.online")
    for name in [m for m in sys.modules if m.split(".")[0] in loaded[:2] or m.startswith(loaded[2:])]:
        monkeypatch.delitem(sys.modules, name)
    for formats in (
        ["--format", "json"],
        ["--format", "html", "--output", "r.html", "--output", "csv=r.csv"],
    ):
        code = main(["check", "examples", *TODAY, "--jobs", "1", *formats])
        assert code == 1
    assert "Checked" not in capsys.readouterr().err
    assert no_network.attempts == []
    assert "requests" not in sys.modules
    assert "exemptlint.azure.client" not in sys.modules
    # The guard does catch a connection: it is not a test that cannot fail.
    with pytest.raises(AssertionError, match="opened a socket"):
        socket.create_connection(("127.0.0.1", 9))


def test_check_without_online_leaves_unknown_assignments_to_el010(
    fake: FakeAzure, capsys: pytest.CaptureFixture[str]
) -> None:
    _, document, _ = check_json(capsys)
    assert rules_of(document) == {"a": ["EL010"], "b": ["EL010"], "c": ["EL010"]}
    assert fake.requests == []


def test_online_reads_the_assignments_and_el001_judges_them(
    fake: FakeAzure, capsys: pytest.CaptureFixture[str]
) -> None:
    code, document, err = check_json(capsys, "--online", "--arm-endpoint", fake.url)
    assert code == 1
    found = rules_of(document)
    assert found["a"] == ["EL001"]  # the custom initiative: Defender ignores it
    assert "b" not in found  # MCSB: nothing to say
    assert found["c"] == ["EL010"]  # 404: still not known
    assert f"assignment '{ONLINE}-gone' does not exist in Azure (404)" in err
    gets = sorted(r.path for r in fake.requests)
    assert gets == sorted([ONLINE, ONLINE_MCSB, ONLINE + "-gone"])
    assert all(r.query == {"api-version": "2023-04-01"} for r in fake.requests)


def test_online_cache_is_used_until_it_expires(
    fake: FakeAzure, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    check_json(capsys, "--online", "--arm-endpoint", fake.url)
    assert len(fake.requests) == 3
    # Found assignments are cached; the 404 is asked again.
    _, document, _ = check_json(capsys, "--online", "--arm-endpoint", fake.url)
    assert [r.path for r in fake.requests[3:]] == [ONLINE + "-gone"]
    assert rules_of(document)["a"] == ["EL001"]
    # All cached: no token needed, no request.
    (tmp_path / "exemptions.json").write_text(
        json.dumps([exemption("a", ONLINE), exemption("b", ONLINE_MCSB)])
    )
    monkeypatch.delenv("AZURE_ACCESS_TOKEN")
    monkeypatch.setenv("PATH", "/nonexistent")
    _, document, err = check_json(capsys, "--online", "--arm-endpoint", fake.url)
    assert (len(fake.requests), rules_of(document), err) == (4, {"a": ["EL001"]}, "")
    # cache-hours: 0 turns the cache off.
    monkeypatch.setenv("AZURE_ACCESS_TOKEN", "online-token")
    (tmp_path / ".exemptlint.yaml").write_text("azure:\n  cache-hours: 0\n")
    check_json(capsys, "--online", "--arm-endpoint", fake.url)
    assert len(fake.requests) == 6


def test_online_errors_are_one_line_exit_2(fake: FakeAzure, capsys: pytest.CaptureFixture[str]) -> None:
    fake.override = lambda request: Answer(
        403, error_body("AuthorizationFailed", "no read on the subscription")
    )
    code = main(["check", "exemptions.json", *TODAY, "--online", "--arm-endpoint", fake.url])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    (line,) = captured.err.strip().splitlines()
    assert line.startswith("exemptlint: error: --online: Azure answered 403 Forbidden for assignment ")


def test_online_needs_no_token_when_nothing_is_unknown(
    fake: FakeAzure, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("AZURE_ACCESS_TOKEN")
    monkeypatch.setenv("PATH", "/nonexistent")
    (tmp_path / "exemptions.json").write_text(
        json.dumps(
            [exemption("d", "/providers/Microsoft.Authorization/policyAssignments/SecurityCenterBuiltIn")]
        )
    )
    code, _, err = check_json(capsys, "--online", "--arm-endpoint", fake.url)
    assert code == 0 and err == "" and fake.requests == []


def test_catalog_update_writes_a_catalog_from_every_page(
    fake: FakeAzure, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    regulatory = {
        "properties": {
            "displayName": "ISO 27001:2013",
            "policyType": "BuiltIn",
            "metadata": {"category": "Regulatory Compliance", "version": "4.1.0"},
            "policyDefinitions": [
                {"policyDefinitionId": "/p/1", "policyDefinitionReferenceId": "ISO27001-2013_A.6.1.2"}
            ],
        },
        "id": "/providers/Microsoft.Authorization/policySetDefinitions/89c6cddc-1c73-4ac1-b19c-54d1a15a42f2",
        "type": "Microsoft.Authorization/policySetDefinitions",
        "name": "89c6cddc-1c73-4ac1-b19c-54d1a15a42f2",
    }
    old = {
        "properties": {
            "displayName": "[Deprecated]: Old one",
            "policyType": "BuiltIn",
            "metadata": {"category": "Monitoring", "deprecated": True},
        },
        "id": "/providers/Microsoft.Authorization/policySetDefinitions/old",
        "name": "old",
    }
    fake.builtin_sets = [mcsb_set(), regulatory, old]
    assert main(["catalog", "update", "--output", "catalog.json", "--arm-endpoint", fake.url]) == 0
    document = json.loads((tmp_path / "catalog.json").read_text())
    assert [i["name"] for i in document["initiatives"]] == [
        "1f3afdf9-d0c9-4c3d-847f-89da613e70a8",
        "89c6cddc-1c73-4ac1-b19c-54d1a15a42f2",
        "old",
    ]
    assert document["initiatives"][1] == {
        "category": "Regulatory Compliance",
        "clouds": ["AzureCloud"],
        "deprecated": False,
        "displayName": "ISO 27001:2013",
        "honoured": True,  # a regulatory compliance initiative, as the packaged catalog marks it
        "name": "89c6cddc-1c73-4ac1-b19c-54d1a15a42f2",
        "version": "4.1.0",
    }
    assert document["initiatives"][2]["deprecated"] is True
    assert document["referenceIds"]["1f3afdf9-d0c9-4c3d-847f-89da613e70a8"] == [
        "disableUnrestrictedNetworkToStorageAccountMonitoring",
        "latestTLSVersionShouldBeUsedInYourWebAppMonitoringEffect",
    ]
    assert len([r for r in fake.requests if r.path.lower().endswith("policysetdefinitions")]) == 2  # 2 pages
    from exemptlint.catalog import Catalog

    catalog = Catalog.from_document(document)
    assert catalog.lookup(MCSB) is not None and catalog.lookup(MCSB).is_eligible  # type: ignore[union-attr]


def test_catalog_update_failure_writes_nothing(
    fake: FakeAzure, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fake.builtin_sets = [mcsb_set()] * 5
    pages = []

    def override(request: Any) -> Answer | None:
        pages.append(request)
        return Answer(500, error_body("InternalServerError", "boom")) if len(pages) == 2 else None

    fake.override = override
    assert main(["catalog", "update", "--output", "catalog.json", "--arm-endpoint", fake.url]) == 2
    assert not (tmp_path / "catalog.json").exists()
    assert "answered 500" in capsys.readouterr().err


def test_catalog_without_action_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog"]) == 2
    err = capsys.readouterr().err
    # The group's usage, naming every action (list and show beside update).
    assert err.startswith("usage: exemptlint catalog") and all(a in err for a in ("list", "show", "update"))


def test_progress_bar_only_on_a_terminal() -> None:
    from exemptlint.azure.progress import NoProgress, RichProgress, progress_for

    assert isinstance(progress_for(io.StringIO()), NoProgress)

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    bar = progress_for(stream)
    assert isinstance(bar, RichProgress)
    bar.start("policy exemptions")
    bar.update(1000, 5500)
    bar.finish()
    assert "policy exemptions" in stream.getvalue()


def test_config_azure_section(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from exemptlint.config import load_config
    from exemptlint.rules import BUILTIN_RULES

    monkeypatch.chdir(tmp_path)
    path = tmp_path / ".exemptlint.yaml"
    path.write_text(
        "azure:\n  arm-endpoint: https://management.usgovcloudapi.net\n  owner-key: owner\n"
        "  expiring-within: 14\n  cache-hours: 2\n  timeout: 30\n"
    )
    config = load_config(path, BUILTIN_RULES)
    assert (config.azure.arm_endpoint, config.azure.owner_key, config.azure.expiring_within) == (
        "https://management.usgovcloudapi.net",
        "owner",
        14,
    )
    assert (config.azure.cache_hours, config.azure.timeout) == (2.0, 30.0)
    path.write_text("azure:\n  tenant: x\n")
    assert main(["check", *TODAY]) == 2
    assert ".exemptlint.yaml:2:1: error: azure.tenant: unknown setting" in capsys.readouterr().err
