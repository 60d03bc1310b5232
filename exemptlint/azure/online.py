"""Policy assignments read from Azure by id, with an on-disk cache (``check --online``).

``GET {scope}/providers/Microsoft.Authorization/policyAssignments/{name}`` per assignment. Found
assignments are kept in ``$EXEMPTLINT_CACHE_DIR/azure-assignments.json`` (per endpoint) for
``azure.cache-hours`` (0: no cache); an assignment Azure does not have (404) is not cached, so
it is looked up again once it is deployed. The client is made only when something is not cached:
a run whose assignments are all cached needs no token and opens no socket.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exemptlint.azure.client import ArmClient
from exemptlint.azure.convert import row_value
from exemptlint.azure.errors import AzureError, AzureNotFound
from exemptlint.azure.inventory import ASSIGNMENTS_API

CACHE_FILE = "azure-assignments.json"


@dataclass
class Lookup:
    # assignment id (lower-cased) -> the policy (set) definition id it assigns
    definitions: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)  # ids Azure answered 404 for
    from_cache: int = 0
    fetched: int = 0


def _cache_path() -> Path | None:
    from exemptlint.config_cache import cache_directory

    directory = cache_directory()
    return directory / CACHE_FILE if directory is not None else None


def _read_cache(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return document if isinstance(document, dict) else {}


def _write_cache(path: Path | None, document: dict[str, Any]) -> None:
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".azure-", dir=path.parent)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(document, stream)
        os.replace(temporary, path)
    except OSError:
        return  # the cache is never required


def lookup_assignments(
    ids: Iterable[str],
    endpoint: str,
    client_factory: Callable[[], ArmClient],
    cache_hours: float,
    now: Callable[[], float] = time.time,
) -> Lookup:
    """The definitions of the assignments ``ids``; AzureError for anything but a 404."""
    lookup = Lookup()
    path = _cache_path() if cache_hours > 0 else None
    cache = _read_cache(path)
    entries = cache.get(endpoint)
    if not isinstance(entries, dict):
        entries = {}
    fresh_after = now() - cache_hours * 3600
    client: ArmClient | None = None
    try:
        for assignment_id in dict.fromkeys(ids):
            key = assignment_id.lower().rstrip("/")
            entry = entries.get(key)
            if (
                isinstance(entry, dict)
                and isinstance(entry.get("definition"), str)
                and isinstance(entry.get("at"), (int, float))
                and entry["at"] >= fresh_after
            ):
                lookup.definitions[key] = entry["definition"]
                lookup.from_cache += 1
                continue
            if client is None:
                client = client_factory()
            try:
                document = client.get(assignment_id, ASSIGNMENTS_API, f"assignment {assignment_id}")
            except AzureNotFound:
                lookup.missing.append(assignment_id)
                continue
            lookup.fetched += 1
            definition = row_value(document, "properties", "policyDefinitionId")
            if not isinstance(definition, str) or not definition:
                raise AzureError(f"Azure returned assignment {assignment_id} without a policyDefinitionId")
            lookup.definitions[key] = definition
            entries[key] = {"definition": definition, "at": now()}
    finally:
        if client is not None:
            client.close()
    if lookup.fetched and path is not None:
        cache[endpoint] = entries
        _write_cache(path, cache)
    return lookup
