"""The Azure client against the fake ARM on 127.0.0.1: paging, quota, retries, errors, token."""

from __future__ import annotations

import gc
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from exemptlint.azure.client import ArmClient, ClientSettings, parse_duration, retry_after
from exemptlint.azure.errors import AzureError, AzureForbidden, AzureNotFound
from exemptlint.azure.graph import EXEMPTIONS_QUERY, Scopes, run_query
from exemptlint.azure.token import get_token, normalize_endpoint, portal_for
from tests.azure_fake import Answer, FakeAzure, Request, error_body

TOKEN = "secret-token-7f3a"
SUB_A = "11111111-1111-1111-1111-111111111111"
SUB_B = "22222222-2222-2222-2222-222222222222"


def exemption_row(subscription: str, name: str) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{subscription}/providers/Microsoft.Authorization/policyExemptions/{name}",
        "name": name,
        "type": "microsoft.authorization/policyexemptions",
        "subscriptionId": subscription,
        "properties": {"policyAssignmentId": "/x", "exemptionCategory": "Waiver"},
    }


@pytest.fixture
def fake() -> Iterator[FakeAzure]:
    server = FakeAzure()
    server.start()
    yield server
    server.stop()
    # Sessions and sockets of the run are collected here, not in a later test's timed section.
    gc.collect()


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


_CLIENTS: list[ArmClient] = []


@pytest.fixture(autouse=True)
def close_clients() -> Iterator[None]:
    yield
    while _CLIENTS:
        _CLIENTS.pop().close()


def client_for(fake: FakeAzure, sleeps: Sleeps | None = None, **settings: Any) -> ArmClient:
    client = ArmClient(
        ClientSettings(endpoint=fake.url, **settings), TOKEN, sleep=sleeps if sleeps is not None else Sleeps()
    )
    _CLIENTS.append(client)
    return client


def test_graph_pages_follow_skip_token_and_send_the_documented_body(fake: FakeAzure) -> None:
    fake.tables["policyexemptions"] = [exemption_row(SUB_A, f"e{i:04d}") for i in range(2500)]
    result = run_query(client_for(fake), EXEMPTIONS_QUERY, Scopes(subscriptions=(SUB_A,)), "exemptions")
    assert len(result.rows) == 2500
    assert result.pages == 3
    bodies = [r.body for r in fake.graph_requests()]
    assert bodies[0] == {
        "subscriptions": [SUB_A],
        "query": EXEMPTIONS_QUERY,
        "options": {"$top": 1000, "resultFormat": "objectArray"},
    }
    assert (
        "$skipToken" in bodies[1]["options"]
        and bodies[1]["options"]["$skipToken"] != bodies[2]["options"]["$skipToken"]
    )
    request = fake.graph_requests()[0]
    assert request.query == {"api-version": "2024-04-01"}
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_management_groups_are_read_one_request_each(fake: FakeAzure) -> None:
    fake.groups = {"corp": {SUB_A}, "lab": {SUB_B}}
    fake.tables["policyexemptions"] = [exemption_row(SUB_A, "a"), exemption_row(SUB_B, "b")]
    result = run_query(client_for(fake), EXEMPTIONS_QUERY, Scopes(management_groups=("corp", "lab")), "x")
    assert [r["name"] for r in result.rows] == ["a", "b"]
    assert [r.body.get("managementGroups") for r in fake.graph_requests()] == [["corp"], ["lab"]]


def test_quota_headers_make_the_client_wait_before_the_quota_runs_out(fake: FakeAzure) -> None:
    fake.tables["policyexemptions"] = [exemption_row(SUB_A, f"e{i}") for i in range(5)]
    fake.quota_start = 2  # answers say 2, 1, 0 remaining
    sleeps = Sleeps()
    client = client_for(fake, sleeps)
    from exemptlint.azure import graph

    old = graph.PAGE_SIZE
    graph.PAGE_SIZE = 2
    try:
        run_query(client, EXEMPTIONS_QUERY, Scopes(), "x")
    finally:
        graph.PAGE_SIZE = old
    # After the answer saying 1 remaining and the one saying 0: wait the reset time (3 s).
    assert sleeps == [3.0, 3.0]


def test_429_and_503_honour_retry_after_then_succeed(fake: FakeAzure) -> None:
    fake.tables["policyexemptions"] = [exemption_row(SUB_A, "a")]
    answers = [
        Answer(429, error_body("RateLimiting", "slow down"), {"Retry-After": "7"}),
        Answer(503, "", {}),
    ]

    def override(request: Request) -> Answer | None:
        return answers.pop(0) if answers else None

    fake.override = override
    sleeps = Sleeps()
    result = run_query(client_for(fake, sleeps), EXEMPTIONS_QUERY, Scopes(), "x")
    assert len(result.rows) == 1
    assert sleeps == [7.0, 4.0]  # Retry-After, then backoff 2 s doubled for the second try


def test_retries_are_bounded(fake: FakeAzure) -> None:
    fake.override = lambda request: Answer(429, error_body("RateLimiting", "no"), {"Retry-After": "1"})
    sleeps = Sleeps()
    with pytest.raises(AzureError, match=r"still answered 429 .* after 5 tries"):
        run_query(client_for(fake, sleeps), EXEMPTIONS_QUERY, Scopes(), "x")
    assert sleeps == [1.0] * 4


def test_a_retry_after_longer_than_the_limit_is_an_error_not_a_wait(fake: FakeAzure) -> None:
    fake.override = lambda request: Answer(429, "", {"Retry-After": "3600"})
    sleeps = Sleeps()
    with pytest.raises(AzureError, match="asks to wait 3600 s"):
        run_query(client_for(fake, sleeps), EXEMPTIONS_QUERY, Scopes(), "x")
    assert sleeps == []


@pytest.mark.parametrize(
    ("status", "kind", "pattern"),
    [
        (401, AzureError, r"401 Unauthorized .*ExpiredAuthenticationToken.*az account get-access-token"),
        (403, AzureForbidden, r"403 Forbidden .*needs Reader"),
        (404, AzureNotFound, r"404 Not Found"),
        (500, AzureError, r"answered 500 .*InternalServerError"),
    ],
)
def test_error_statuses_become_one_line_errors(
    fake: FakeAzure, status: int, kind: type[AzureError], pattern: str
) -> None:
    codes = {
        401: "ExpiredAuthenticationToken",
        403: "AuthorizationFailed",
        404: "NotFound",
        500: "InternalServerError",
    }
    fake.override = lambda request: Answer(status, error_body(codes[status], "line one\nline two"))
    with pytest.raises(kind, match=pattern) as caught:
        client_for(fake).get(
            "/subscriptions/x/providers/Microsoft.Authorization/policyExemptions/e", "2022-07-01-preview"
        )
    assert "\n" not in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_a_slow_answer_times_out(fake: FakeAzure) -> None:
    fake.override = lambda request: Answer(200, {"value": []}, delay=1.5)
    with pytest.raises(AzureError, match=r"no answer from http://127\.0\.0\.1:\d+ within 0\.3 s"):
        client_for(fake, timeout=0.3).get("/subscriptions", "2022-12-01")


@pytest.mark.parametrize(
    ("body", "pattern"),
    [
        ("<html>gateway</html>", "malformed body .*not JSON"),
        ("[1, 2]", "not a JSON object"),
        (
            {"totalRecords": 1, "count": 1, "data": {"columns": [], "rows": []}},
            "'data' is not an array of objects",
        ),
        ({"totalRecords": 3, "count": 3, "data": [{"id": "/a"}]}, "count 3 but 1 rows"),
        ({"totalRecords": 1, "count": 1, "data": [{"id": "/a"}], "$skipToken": 5}, "malformed \\$skipToken"),
        ({"totalRecords": 9, "count": 1, "data": [{"id": "/a"}], "resultTruncated": "true"}, "truncated"),
    ],
)
def test_malformed_graph_answers_are_errors(fake: FakeAzure, body: Any, pattern: str) -> None:
    fake.override = lambda request: Answer(200, body)
    with pytest.raises(AzureError, match=pattern):
        run_query(client_for(fake), EXEMPTIONS_QUERY, Scopes(), "x")


def test_the_same_skip_token_twice_is_a_page_loop(fake: FakeAzure) -> None:
    fake.override = lambda request: Answer(
        200, {"totalRecords": 5000, "count": 1, "data": [{"id": "/a"}], "$skipToken": "same"}
    )
    with pytest.raises(AzureError, match=r"same \$skipToken twice \(a page loop\)"):
        run_query(client_for(fake), EXEMPTIONS_QUERY, Scopes(), "x")
    assert len(fake.graph_requests()) == 2


def test_fewer_rows_than_announced_is_a_warning(fake: FakeAzure) -> None:
    fake.override = lambda request: Answer(200, {"totalRecords": 4, "count": 1, "data": [{"id": "/a"}]})
    result = run_query(client_for(fake), EXEMPTIONS_QUERY, Scopes(), "x")
    assert len(result.rows) == 1
    assert "announced 4 rows and returned 1" in result.warnings[0]


def test_a_forbidden_subscription_is_reported_and_the_others_are_read(fake: FakeAzure) -> None:
    fake.tables["policyexemptions"] = [exemption_row(SUB_A, "a"), exemption_row(SUB_B, "b")]
    fake.forbidden_subscriptions = {SUB_B}
    result = run_query(client_for(fake), EXEMPTIONS_QUERY, Scopes(subscriptions=(SUB_A, SUB_B)), "x")
    assert [r["name"] for r in result.rows] == ["a"]
    assert len(result.problems) == 1
    assert result.problems[0].startswith(f"subscription {SUB_B}: Azure answered 403 Forbidden")
    assert [r.body["subscriptions"] for r in fake.graph_requests()] == [[SUB_A, SUB_B], [SUB_A], [SUB_B]]


def test_list_pages_follow_next_link_on_the_same_host(fake: FakeAzure) -> None:
    fake.builtin_sets = [
        {"id": f"/providers/Microsoft.Authorization/policySetDefinitions/s{i}", "name": f"s{i}"}
        for i in range(5)
    ]
    pages = list(
        client_for(fake).get_pages("/providers/Microsoft.Authorization/policySetDefinitions", "2023-04-01")
    )
    assert [len(p) for p in pages] == [2, 2, 1]
    assert all(r.headers["Authorization"] == f"Bearer {TOKEN}" for r in fake.requests)


def test_a_next_link_to_another_host_gets_no_token(fake: FakeAzure) -> None:
    other = FakeAzure()
    other.start()
    try:
        fake.override = lambda request: Answer(200, {"value": [], "nextLink": f"{other.url}/steal?x=1"})
        with pytest.raises(AzureError, match=r"points at another host .* the token is sent only to"):
            list(
                client_for(fake).get_pages(
                    "/providers/Microsoft.Authorization/policySetDefinitions", "2023-04-01"
                )
            )
        assert other.requests == []
    finally:
        other.stop()


def test_a_next_link_loop_is_an_error(fake: FakeAzure) -> None:
    fake.override = lambda request: Answer(200, {"value": [], "nextLink": f"{fake.url}/again?api-version=1"})
    with pytest.raises(AzureError, match="same nextLink twice"):
        list(client_for(fake).get_pages("/x", "1"))


def test_redirects_are_not_followed(fake: FakeAzure) -> None:
    other = FakeAzure()
    other.start()
    try:
        fake.override = lambda request: Answer(302, "", {"Location": f"{other.url}/x"})
        with pytest.raises(AzureError, match=r"redirected .* redirects are not followed"):
            client_for(fake).get("/subscriptions", "2022-12-01")
        assert other.requests == []
    finally:
        other.stop()


def test_client_repr_does_not_show_the_token(fake: FakeAzure) -> None:
    assert TOKEN not in repr(client_for(fake))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://management.azure.com", "https://management.azure.com"),
        ("https://management.usgovcloudapi.net/", "https://management.usgovcloudapi.net"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://localhost:9", "http://localhost:9"),
    ],
)
def test_endpoints_accepted(text: str, expected: str) -> None:
    assert normalize_endpoint(text) == expected


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("http://management.azure.com", "plain http"),
        ("ftp://management.azure.com", "not an https"),
        ("https://management.azure.com/subscriptions", "only scheme and host"),
        ("https://user:pw@management.azure.com", "only scheme and host"),
        ("management.azure.com", "not an https"),
    ],
)
def test_endpoints_refused(text: str, pattern: str) -> None:
    with pytest.raises(AzureError, match=pattern):
        normalize_endpoint(text)


def test_portals_per_cloud() -> None:
    assert portal_for("https://management.azure.com") == "https://portal.azure.com"
    assert portal_for("https://management.usgovcloudapi.net") == "https://portal.azure.us"
    assert portal_for("https://management.chinacloudapi.cn") == "https://portal.azure.cn"


def test_token_from_the_environment_first() -> None:
    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("az must not run")

    assert (
        get_token("https://management.azure.com", {"AZURE_ACCESS_TOKEN": " abc "}, lambda n: "/bin/az", never)
        == "abc"
    )


def test_token_from_the_azure_cli(tmp_path: Path) -> None:
    calls: list[list[str]] = []

    def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        return subprocess.CompletedProcess(
            command, 0, json.dumps({"accessToken": "from-az", "expiresOn": "x"}), ""
        )

    assert get_token("https://management.usgovcloudapi.net", {}, lambda n: "/usr/bin/az", run) == "from-az"
    assert calls == [
        [
            "/usr/bin/az",
            "account",
            "get-access-token",
            "--resource",
            "https://management.usgovcloudapi.net",
            "--output",
            "json",
        ]
    ]


def test_a_real_az_script_on_the_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = tmp_path / "az"
    script.write_text('#!/bin/sh\necho \'{"accessToken": "script-token"}\'\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("AZURE_ACCESS_TOKEN", raising=False)
    assert get_token("https://management.azure.com") == "script-token"


def test_az_failure_is_one_line_without_output() -> None:
    def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(
            command, 1, "", "ERROR: Please run 'az login' to setup account.\nmore\n"
        )

    with pytest.raises(AzureError, match=r"failed: ERROR: Please run 'az login' to setup account\.$"):
        get_token("https://management.azure.com", {}, lambda n: "/usr/bin/az", run)


def test_no_token_and_no_cli_says_how_to_get_one() -> None:
    with pytest.raises(AzureError, match=r"no Azure access token: set AZURE_ACCESS_TOKEN .* 'az login'"):
        get_token("https://management.azure.com", {}, lambda n: None)


def test_durations() -> None:
    assert parse_duration("00:00:05") == 5.0
    assert parse_duration("00:01:02") == 62.0
    assert parse_duration("3") == 3.0
    assert parse_duration("soon") is None
    assert retry_after({"Retry-After": "12"}) == 12.0
    assert retry_after({"Retry-After": "Wed, 21 Oct 2015 07:28:10 GMT"}, now=lambda: 1445412480.0) == 10.0
    assert retry_after({}) is None


def test_a_netrc_entry_for_the_host_does_not_replace_the_token(
    fake: FakeAzure, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login someone password from-netrc\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    fake.override = lambda request: Answer(200, {"value": []})
    client_for(fake).get("/subscriptions", "2022-12-01")
    assert fake.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"


def test_verify_threads_each_get_their_own_session(fake: FakeAzure) -> None:
    from concurrent.futures import ThreadPoolExecutor

    fake.override = lambda request: Answer(200, {"value": []})
    client = client_for(fake)
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda i: client.get(f"/subscriptions/{i}", "1"), range(20)))
    assert client.requests_sent == 20
    assert 1 <= len(client._sessions) <= 4


def test_rows_become_the_loaders_model_objects() -> None:
    from exemptlint.azure.convert import assignment_from_row, exemption_from_row, set_members, system_data
    from exemptlint.model import ScopeLevel

    row = {
        "id": f"/subscriptions/{SUB_A}/resourceGroups/rg/providers/Microsoft.Authorization/policyExemptions/e1",
        "name": "e1",
        "type": "microsoft.authorization/policyexemptions",
        "properties": {
            "PolicyAssignmentId": "/providers/Microsoft.Management/managementGroups/mg/providers/Microsoft.Authorization/policyAssignments/a",
            "exemptionCategory": "Waiver",
            "assignmentScopeValidation": None,
            "someFutureReadOnlyProperty": "x",
            "description": "{not a placeholder, a literal deployed value}",
        },
        "systemData": {"createdBy": "bob", "createdAt": None},
    }
    exemption = exemption_from_row(row)
    assert exemption is not None
    assert (exemption.name, exemption.scope, exemption.scope_level) == (
        "e1",
        f"/subscriptions/{SUB_A}/resourceGroups/rg",
        ScopeLevel.RESOURCE_GROUP,
    )
    assert exemption.properties == {
        "policyAssignmentId": "/providers/Microsoft.Management/managementGroups/mg/providers/Microsoft.Authorization/policyAssignments/a",
        "exemptionCategory": "Waiver",
        "description": "{not a placeholder, a literal deployed value}",
    }
    assert (exemption.source.file, exemption.source.format) == (row["id"], "azure")
    position = exemption.source.locator.exemption()
    assert (position.line, position.column) == (1, 1)
    assert system_data(row) == {"createdBy": "bob"}
    assert exemption_from_row({"id": "/subscriptions/x/resourceGroups/rg"}) is None
    assignment = assignment_from_row(
        {
            "id": "/subscriptions/x/providers/Microsoft.Authorization/policyAssignments/a",
            "properties": {"policyDefinitionId": "/p"},
        }
    )
    assert assignment is not None and (assignment.name, assignment.policy_definition_id) == ("a", "/p")
    members = set_members(
        {
            "properties": {
                "policyDefinitions": [
                    {"policyDefinitionId": "/P/X", "policyDefinitionReferenceId": "Ref1"},
                    "junk",
                ]
            }
        }
    )
    assert members == {"ref1": "/p/x"}
