"""CSV for scripts and spreadsheets.

A lint of files: one row per finding. An audit: one row per exemption, deployed (with its status,
owner, code comparison, Defender counts and findings) or only in the code (``code`` is
``not-deployed``). A text cell that a spreadsheet would run as a formula (``=``, ``+``, ``-``,
``@`` first) is written with a leading ``'``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from exemptlint.report import Report

FINDING_COLUMNS = (
    "ruleId",
    "level",
    "file",
    "line",
    "column",
    "exemption",
    "property",
    "message",
    "suppressed",
    "justification",
)
AUDIT_COLUMNS = (
    "id",
    "name",
    "scope",
    "scopeLevel",
    "category",
    "expiresOn",
    "expiryDate",
    "status",
    "daysLeft",
    "policyAssignmentId",
    "assignment",
    "initiative",
    "createdBy",
    "createdAt",
    "lastModifiedBy",
    "lastModifiedAt",
    "owner",
    "code",
    "codeFile",
    "codeLine",
    "differences",
    "defenderRecommendations",
    "defenderResources",
    "findings",
    "portalUrl",
)
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return "" if value is None else value


def _write(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return stream.getvalue()


def render(report: Report, color: bool) -> str:
    audit = report.audit
    if audit is None:
        return _write(
            FINDING_COLUMNS,
            [
                (
                    f.rule_id,
                    f.level.value,
                    f.file,
                    f.line,
                    f.column,
                    f.exemption_name,
                    f.property,
                    f.message,
                    "yes" if f.suppression else "no",
                    f.suppression.justification if f.suppression else "",
                )
                for f in report.findings
            ],
        )
    rows: list[Sequence[object]] = []
    for e in audit.exemptions:
        rows.append(
            (
                e.id,
                e.name,
                e.scope,
                e.scope_level,
                e.category,
                e.expires_on,
                e.expiry_date,
                e.status,
                e.days_left,
                e.assignment_id,
                e.assignment_state,
                e.initiative,
                e.created_by,
                e.created_at,
                e.modified_by,
                e.modified_at,
                e.owner,
                e.code_status,
                e.code.file if e.code else "",
                e.code.line if e.code else "",
                ";".join(d.field for d in e.differences),
                ";".join(h.recommendation for h in e.hidden),
                sum(h.resources for h in e.hidden),
                e.findings,
                e.portal_url,
            )
        )
    for c in audit.not_deployed:
        rows.append(
            (
                c.resource_id,
                c.name,
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "not-deployed",
                c.file,
                c.line,
                "",
                "",
                "",
                "",
                "",
            )
        )
    return _write(AUDIT_COLUMNS, rows)
