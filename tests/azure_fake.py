"""A fake Azure Resource Manager on 127.0.0.1 for the tests (started by them, on port 0).

It answers with the shapes of the REST specifications' examples: Resource Graph ``resources``
POSTs (totalRecords, count, resultTruncated, $skipToken, data as an object array), policyExemptions,
policyAssignments and policySetDefinitions GETs, the built-in policySetDefinitions list with
nextLink, and ARM error bodies ``{"error": {"code", "message"}}``. ``override`` lets a test
answer one request differently (429, 503, 500, a slow or malformed answer, a page loop).
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

GRAPH_PATH = "/providers/Microsoft.ResourceGraph/resources"
SET_LIST_PATH = "/providers/microsoft.authorization/policysetdefinitions"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class Answer:
    status: int
    body: Any = None  # dict/list (sent as JSON) or str/bytes (sent as is)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def _token(offset: int) -> str:
    return base64.b64encode(json.dumps({"offset": offset}).encode()).decode()


def _offset(token: str) -> int:
    return int(json.loads(base64.b64decode(token))["offset"])


def table_of(query: str) -> str:
    text = query.lower()
    if text.startswith("securityresources"):
        return "assessments"
    if text.startswith("resourcecontainers"):
        return "containers"
    for table in ("policyexemptions", "policyassignments", "policysetdefinitions"):
        if table in text:
            return table
    raise ValueError(f"unknown query {query!r}")


class FakeAzure:
    """Tables of Resource Graph rows and resources by id; every request is recorded."""

    def __init__(self) -> None:
        self.tables: dict[str, list[dict[str, Any]]] = {
            "policyexemptions": [],
            "policyassignments": [],
            "policysetdefinitions": [],
            "containers": [],
            "assessments": [],
        }
        # Resources answered by GET {id}: lower-cased id -> body.
        self.resources: dict[str, dict[str, Any]] = {}
        self.builtin_sets: list[dict[str, Any]] = []
        self.set_page_size = 2
        self.requests: list[Request] = []
        self.override: Callable[[Request], Answer | None] | None = None
        # Subscriptions a Resource Graph request may not name (403 for a batch holding one).
        self.forbidden_subscriptions: set[str] = set()
        # Quota headers on Resource Graph answers: remaining counts down from this, or None.
        self.quota_start: int | None = None
        self.quota_resets_after = "00:00:03"
        self._quota = 0
        # management group -> subscriptions below it (for managementGroups requests).
        self.groups: dict[str, set[str]] = {}
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    # -- running ----------------------------------------------------------------------------

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self.url

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def graph_requests(self) -> list[Request]:
        return [r for r in self.requests if r.path == GRAPH_PATH]

    # -- answering --------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        request = Request(
            method,
            parts.path,
            {k: v[0] for k, v in parse_qs(parts.query).items()},
            dict(handler.headers.items()),
            body,
        )
        with self._lock:
            self.requests.append(request)
        answer = self.override(request) if self.override else None
        if answer is None:
            answer = self._answer(request)
        if answer.delay:
            import time

            time.sleep(answer.delay)
        payload = answer.body
        if isinstance(payload, (dict, list)):
            data = json.dumps(payload).encode()
        elif isinstance(payload, str):
            data = payload.encode()
        else:
            data = payload or b""
        try:
            handler.send_response(answer.status)
            handler.send_header("Content-Type", "application/json; charset=utf-8")
            handler.send_header("Content-Length", str(len(data)))
            for key, value in answer.headers.items():
                handler.send_header(key, value)
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _answer(self, request: Request) -> Answer:
        if request.method == "POST" and request.path == GRAPH_PATH:
            return self._graph(request)
        if request.method == "GET":
            path = request.path.lower().rstrip("/")
            if path == SET_LIST_PATH:
                return self._set_list(request)
            found = self.resources.get(path)
            if found is not None:
                return Answer(200, found)
            return Answer(
                404, error_body("ResourceNotFound", f"The resource '{request.path}' was not found.")
            )
        return Answer(405, error_body("MethodNotAllowed", "no"))

    def _graph(self, request: Request) -> Answer:
        body = request.body
        assert isinstance(body, dict), body
        rows = self.tables[table_of(body["query"])]
        subscriptions = body.get("subscriptions")
        groups = body.get("managementGroups")
        if subscriptions:
            blocked = [s for s in subscriptions if s in self.forbidden_subscriptions]
            if blocked:
                return Answer(
                    403,
                    error_body(
                        "AuthorizationFailed",
                        f"The client does not have authorization to perform action "
                        f"'Microsoft.ResourceGraph/resources/read' over scope '/subscriptions/{blocked[0]}'",
                    ),
                )
            wanted = {s.lower() for s in subscriptions}
            rows = [r for r in rows if _subscription_of(r) in wanted]
        elif groups:
            below = {s.lower() for g in groups for s in self.groups.get(g, set())}
            names = {g.lower() for g in groups}
            rows = [r for r in rows if _subscription_of(r) in below or _group_of(r) in names]
        options = body.get("options") or {}
        top = int(options.get("$top", 1000))
        offset = _offset(options["$skipToken"]) if options.get("$skipToken") else 0
        page = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows[offset : offset + top]]
        document: dict[str, Any] = {
            "totalRecords": len(rows),
            "count": len(page),
            "resultTruncated": "false",
            "facets": [],
            "data": page,
        }
        if offset + top < len(rows):
            document["$skipToken"] = _token(offset + top)
        headers: dict[str, str] = {}
        if self.quota_start is not None:
            with self._lock:
                remaining = max(self.quota_start - self._quota, 0)
                self._quota += 1
            headers = {
                "x-ms-user-quota-remaining": str(remaining),
                "x-ms-user-quota-resets-after": self.quota_resets_after,
            }
        return Answer(200, document, headers)

    def _set_list(self, request: Request) -> Answer:
        offset = int(request.query.get("$skiptoken", "0"))
        page = self.builtin_sets[offset : offset + self.set_page_size]
        document: dict[str, Any] = {"value": page}
        if offset + self.set_page_size < len(self.builtin_sets):
            document["nextLink"] = (
                f"{self.url}/providers/Microsoft.Authorization/policySetDefinitions?"
                f"api-version=2023-04-01&$skiptoken={offset + self.set_page_size}"
            )
        return Answer(200, document)


def _subscription_of(row: dict[str, Any]) -> str:
    value = row.get("subscriptionId")
    if isinstance(value, str) and value:
        return value.lower()
    parts = str(row.get("id", "")).split("/")
    return parts[2].lower() if len(parts) > 2 and parts[1].lower() == "subscriptions" else ""


def _group_of(row: dict[str, Any]) -> str:
    parts = str(row.get("id", "")).lower().split("/")
    if len(parts) > 4 and parts[1:4] == ["providers", "microsoft.management", "managementgroups"]:
        return parts[4]
    return ""
