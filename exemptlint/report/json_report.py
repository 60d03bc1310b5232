"""JSON for scripts: a versioned object (documented in docs/json-output.md)."""

from __future__ import annotations

import json

from exemptlint.model import Level
from exemptlint.report import Report

SCHEMA_VERSION = 1


def render(report: Report, color: bool) -> str:
    document = {
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
        "exemptions": list(report.exemption_json)
        if report.exemption_json is not None
        else [exemption.to_json() for exemption in report.exemptions],
        "findings": [finding.to_json() for finding in report.findings],
        "staleBaseline": [dict(entry) for entry in report.stale_baseline],
        "errors": [
            {"file": e.file, "line": e.line, "column": e.column, "message": e.message} for e in report.errors
        ],
    }
    # Compact: with indent=, json falls back to its pure-Python encoder (several times slower).
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n"
