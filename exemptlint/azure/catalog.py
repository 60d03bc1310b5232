"""``exemptlint catalog update --output FILE``: a catalog file from Azure's built-in initiatives.

``GET {arm}/providers/Microsoft.Authorization/policySetDefinitions`` lists the built-in policy set
definitions (all pages, by ``nextLink``). The file has the shape of the packaged
``exemptlint/data/initiatives.json`` (``header`` and ``initiatives``) plus ``referenceIds`` (name ->
policyDefinitionReferenceIds), for ``--catalog``. It is written only when every page was read.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from exemptlint.azure.client import ArmClient
from exemptlint.azure.convert import row_value
from exemptlint.azure.errors import AzureError
from exemptlint.azure.token import CLOUD_ENDPOINTS
from exemptlint.catalog import honoured_by_defender

SET_LIST_PATH = "/providers/Microsoft.Authorization/policySetDefinitions"
SET_LIST_API = "2023-04-01"


def cloud_of(endpoint: str) -> str:
    for cloud, known in CLOUD_ENDPOINTS.items():
        if known == endpoint:
            return "AzureGovernment" if cloud == "AzureUSGovernment" else cloud
    return "AzureCloud"


def build_catalog(rows: Iterable[dict[str, Any]], endpoint: str, retrieved: datetime.date) -> dict[str, Any]:
    cloud = cloud_of(endpoint)
    initiatives: dict[str, dict[str, Any]] = {}
    references: dict[str, list[str]] = {}
    for row in rows:
        name = row_value(row, "name")
        policy_type = row_value(row, "properties", "policyType")
        if not isinstance(name, str) or (isinstance(policy_type, str) and policy_type.lower() != "builtin"):
            continue
        display = row_value(row, "properties", "displayName")
        display = display if isinstance(display, str) else name
        category = row_value(row, "properties", "metadata", "category")
        version = row_value(row, "properties", "version") or row_value(
            row, "properties", "metadata", "version"
        )
        deprecated = row_value(
            row, "properties", "metadata", "deprecated"
        ) is True or display.lower().startswith("[deprecated]")
        category = category if isinstance(category, str) else ""
        initiatives[name.lower()] = {
            "category": category,
            "clouds": [cloud],
            "deprecated": deprecated,
            "displayName": display,
            "honoured": honoured_by_defender(category, display),
            "name": name,
            "version": version if isinstance(version, str) else "",
        }
        members = row_value(row, "properties", "policyDefinitions")
        if isinstance(members, list):
            ids = {
                m["policyDefinitionReferenceId"]
                for m in members
                if isinstance(m, dict) and isinstance(m.get("policyDefinitionReferenceId"), str)
            }
            references[name] = sorted(ids)
    ordered = [initiatives[key] for key in sorted(initiatives)]
    return {
        "header": {
            "count": len(ordered),
            "generatedBy": "exemptlint catalog update",
            "source": f"{endpoint}{SET_LIST_PATH}?api-version={SET_LIST_API}",
            "retrieved": retrieved.isoformat(),
            "notes": ["clouds: the cloud of the endpoint the catalog was read from."],
        },
        "initiatives": ordered,
        "referenceIds": dict(sorted(references.items())),
    }


def read_builtin_sets(client: ArmClient) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for page in client.get_pages(SET_LIST_PATH, SET_LIST_API, "the built-in policy set definitions"):
        rows.extend(page)
    return rows


def run_catalog(args: argparse.Namespace) -> int:
    if args.catalog_command != "update":
        print("exemptlint: error: catalog needs an action: update", file=sys.stderr)
        return 2
    from exemptlint.audit.run import endpoint_and_timeout, make_client
    from exemptlint.catalog import Catalog
    from exemptlint.cli import _rules_and_config, write_atomically

    args.rules_dir = []
    resolved = _rules_and_config(args)
    if resolved is None:
        return 2
    config, _ = resolved
    try:
        endpoint, timeout = endpoint_and_timeout(args, config)
        client = make_client(endpoint, timeout)
        try:
            rows = read_builtin_sets(client)
        finally:
            client.close()
    except AzureError as error:
        print(f"exemptlint: error: {error}; {args.output} was not written", file=sys.stderr)
        return 2
    document = build_catalog(rows, endpoint, datetime.date.today())
    if not document["initiatives"]:
        print(
            f"exemptlint: error: Azure listed no built-in initiative; {args.output} was not written",
            file=sys.stderr,
        )
        return 2
    Catalog.from_document(document)  # the file must load as a catalog
    write_atomically(Path(args.output), json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    print(f"Wrote {len(document['initiatives'])} built-in initiatives to {args.output}.", file=sys.stderr)
    return 0
