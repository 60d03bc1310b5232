"""Azure Resource Graph: the queries the audit runs, and their paging.

``POST {arm}/providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01`` with
``{subscriptions | managementGroups, query, options: {$top, $skipToken, resultFormat}}``. Pages
are read while the answer carries a ``$skipToken`` (``resultTruncated`` says nothing about
paging); the same token twice is a page loop. Each query runs once for all subscriptions and
once per management group; a 403 on a batch of subscriptions is retried per subscription, so
one subscription the identity cannot read is reported and the others are still read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from exemptlint.azure.client import ArmClient
from exemptlint.azure.errors import AzureError, AzureForbidden
from exemptlint.azure.progress import NoProgress, Progress

GRAPH_PATH = "/providers/Microsoft.ResourceGraph/resources"
GRAPH_API_VERSION = "2024-04-01"
PAGE_SIZE = 1000
# Resource Graph takes at most 1,000 subscriptions in one request.
SUBSCRIPTION_BATCH = 1000

EXEMPTIONS_QUERY = (
    "policyresources\n| where type =~ 'microsoft.authorization/policyexemptions'\n| order by id asc"
)
ASSIGNMENTS_QUERY = (
    "policyresources\n"
    "| where type =~ 'microsoft.authorization/policyassignments'\n"
    "| project id, name, type, properties\n"
    "| order by id asc"
)
SET_DEFINITIONS_QUERY = (
    "policyresources\n"
    "| where type =~ 'microsoft.authorization/policysetdefinitions'\n"
    "| project id, name, type, properties\n"
    "| order by id asc"
)
CONTAINERS_QUERY = (
    "resourcecontainers\n"
    "| where type =~ 'microsoft.resources/subscriptions' or type =~ 'microsoft.management/managementgroups'\n"
    "| project id, name, type, subscriptionId, properties\n"
    "| order by id asc"
)
DEFENDER_QUERY = (
    "securityresources\n"
    "| where type == 'microsoft.security/assessments' and properties.status.cause == 'Exempt'\n"
    "| project id, name, subscriptionId,\n"
    "    displayName = tostring(properties.displayName),\n"
    "    resourceId = coalesce(tostring(properties.resourceDetails.Id),\n"
    "        tostring(properties.resourceDetails.id)),\n"
    "    statusCode = tostring(properties.status.code),\n"
    "    statusDescription = tostring(properties.status.description),\n"
    "    policyDefinitionId = tostring(properties.metadata.policyDefinitionId),\n"
    "    severity = tostring(properties.metadata.severity)\n"
    "| order by id asc"
)


@dataclass(frozen=True)
class Scopes:
    """What to read: subscriptions and management groups; neither is every subscription the
    identity can see (Resource Graph's default)."""

    subscriptions: tuple[str, ...] = ()
    management_groups: tuple[str, ...] = ()

    @property
    def tenant(self) -> bool:
        return not self.subscriptions and not self.management_groups

    def describe(self) -> list[str]:
        if self.tenant:
            return ["every subscription the identity can read"]
        return [f"/subscriptions/{s}" for s in self.subscriptions] + [
            f"/providers/Microsoft.Management/managementGroups/{m}" for m in self.management_groups
        ]


@dataclass
class QueryResult:
    rows: list[dict[str, Any]] = field(default_factory=list)
    # Scopes that could not be read, with why (a 403): reported, the rest still read.
    problems: list[str] = field(default_factory=list)
    # Worth saying but not fatal (fewer rows than announced, a row twice).
    warnings: list[str] = field(default_factory=list)
    pages: int = 0


def run_query(
    client: ArmClient, query: str, scopes: Scopes, label: str, progress: Progress | None = None
) -> QueryResult:
    """Every row of ``query`` over ``scopes``, deduplicated by id, in id order."""
    progress = progress or NoProgress()
    result = QueryResult()
    seen: dict[str, dict[str, Any]] = {}
    untagged: list[dict[str, Any]] = []
    targets: list[tuple[str, dict[str, Any]]] = []
    if scopes.tenant:
        targets.append(("the tenant", {}))
    subscriptions = list(scopes.subscriptions)
    for start in range(0, len(subscriptions), SUBSCRIPTION_BATCH):
        batch = subscriptions[start : start + SUBSCRIPTION_BATCH]
        targets.append((_describe_subscriptions(batch), {"subscriptions": batch}))
    for group in scopes.management_groups:
        targets.append((f"management group {group}", {"managementGroups": [group]}))
    progress.start(label)
    try:
        for shown, target in targets:
            for rows in _read_target(client, query, shown, target, result, progress, label):
                for row in rows:
                    key = row.get("id")
                    if isinstance(key, str):
                        if key.lower() in seen:
                            continue
                        seen[key.lower()] = row
                    else:
                        untagged.append(row)
    finally:
        progress.finish()
    result.rows = sorted(seen.values(), key=lambda row: str(row.get("id")).lower()) + untagged
    return result


def _describe_subscriptions(batch: Sequence[str]) -> str:
    return f"subscription {batch[0]}" if len(batch) == 1 else f"{len(batch)} subscriptions"


def _read_target(
    client: ArmClient,
    query: str,
    shown: str,
    target: dict[str, Any],
    result: QueryResult,
    progress: Progress,
    label: str,
) -> list[list[dict[str, Any]]]:
    try:
        return [_read_pages(client, query, shown, target, result, progress, label)]
    except AzureForbidden as error:
        batch = target.get("subscriptions")
        if isinstance(batch, list) and len(batch) > 1:
            # One subscription the identity cannot read fails the batch: read them one by one.
            found: list[list[dict[str, Any]]] = []
            for subscription in batch:
                found += _read_target(
                    client,
                    query,
                    f"subscription {subscription}",
                    {"subscriptions": [subscription]},
                    result,
                    progress,
                    label,
                )
            return found
        result.problems.append(f"{shown}: {error}")
        return []


def _read_pages(
    client: ArmClient,
    query: str,
    shown: str,
    target: dict[str, Any],
    result: QueryResult,
    progress: Progress,
    label: str,
) -> list[dict[str, Any]]:
    what = f"Resource Graph ({label}, {shown})"
    rows: list[dict[str, Any]] = []
    tokens: set[str] = set()
    token: str | None = None
    announced: int | None = None
    while True:
        options: dict[str, Any] = {"$top": PAGE_SIZE, "resultFormat": "objectArray"}
        if token is not None:
            options["$skipToken"] = token
        body = {**target, "query": query, "options": options}
        document = client.post(GRAPH_PATH, GRAPH_API_VERSION, body, what)
        data = document.get("data")
        if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
            raise AzureError(f"{what} returned a malformed page: 'data' is not an array of objects")
        count = document.get("count")
        if isinstance(count, int) and count != len(data):
            raise AzureError(f"{what} returned a malformed page: count {count} but {len(data)} rows")
        total = document.get("totalRecords")
        if announced is None and isinstance(total, int):
            announced = total
        rows.extend(data)
        result.pages += 1
        progress.update(len(rows), announced)
        next_token = document.get("$skipToken")
        if next_token in (None, ""):
            break
        if not isinstance(next_token, str):
            raise AzureError(f"{what} returned a malformed $skipToken")
        if next_token in tokens:
            raise AzureError(
                f"{what} returned the same $skipToken twice (a page loop); the read is incomplete"
            )
        tokens.add(next_token)
        token = next_token
    truncated = str(document.get("resultTruncated", "false")).lower() == "true"
    if truncated:
        raise AzureError(f"{what}: Resource Graph truncated the result; the read is incomplete")
    if announced is not None and len(rows) < announced:
        result.warnings.append(
            f"{what} announced {announced} rows and returned {len(rows)} (rows may have been deleted "
            "while the pages were read)"
        )
    return rows
