"""JSON for scripts: a versioned object (documented in docs/json-output.md)."""

from __future__ import annotations

import json
from typing import Any

from exemptlint.model import Level
from exemptlint.report import Report

SCHEMA_VERSION = 1


def render(report: Report, color: bool) -> str:
    document: dict[str, Any] = {
        "schemaVersion": SCHEMA_VERSION,
        "tool": {"name": "exemptlint", "version": report.version},
        "today": report.today,
        "files": list(report.files),
        "summary": {
            "files": len(report.files),
            "exemptions": report.checked,
            # Findings by level; "loadErrors" counts inputs that could not be read or parsed.
            "findings": {level.value: report.count(level) for level in Level},
            "suppressed": report.suppressed,
            "loadErrors": len(report.errors),
        },
        "exemptions": _EXEMPTIONS,
        "findings": [finding.to_json() for finding in report.findings],
        "staleBaseline": [dict(entry) for entry in report.stale_baseline],
        "errors": [
            {"file": e.file, "line": e.line, "column": e.column, "message": e.message} for e in report.errors
        ],
        "skipped": [entry.to_json() for entry in report.skipped],
    }
    if report.audit is not None:
        document["audit"] = report.audit.to_json()
    if report.exemption_json is not None:
        # Already JSON text (worker processes wrote it): joined, not parsed and written again.
        exemptions = "[" + ",".join(report.exemption_json) + "]"
    else:
        exemptions = dump([exemption.to_json() for exemption in report.exemptions])
    # The same text json.dumps gives for the whole document (compact separators), with the
    # exemptions' text put in place.
    members = (
        f"{dump(key)}:{exemptions if value is _EXEMPTIONS else dump(value)}"
        for key, value in document.items()
    )
    return "{" + ",".join(members) + "}\n"


def dump(value: Any) -> str:
    """Compact JSON: with indent=, json falls back to its pure-Python encoder (several times slower)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# Where the exemptions go in the document.
_EXEMPTIONS = object()
