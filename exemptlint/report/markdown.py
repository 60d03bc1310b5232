"""Markdown for a pull-request comment or ``$GITHUB_STEP_SUMMARY``.

A heading, a one-line result, a table of the errors and warnings that count, and collapsed
sections for notes, suppressed findings and stale baseline entries. A comment may hold 65,536
characters: each table stops at ``MAX_ROWS`` rows, and rows stop before the whole would pass
``MAX_CHARS``; a "... and N more" line says what was left out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from exemptlint.model import Finding, Level
from exemptlint.report import Report

MAX_ROWS = 200
MAX_CHARS = 60_000
# The longest a cell's text may be before it is cut (one huge message must not use the budget).
MAX_CELL = 500
# Room kept for the lines that close the document after the last row.
_RESERVE = 400

_ICONS = {Level.ERROR: "❌", Level.WARNING: "⚠️", Level.NOTE: "ℹ️"}
# Markdown punctuation that could start formatting, a link, HTML, a table cell or math.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&$])")


def escape(text: str, limit: int = MAX_CELL) -> str:
    """Text for a table cell or list item: shown as written, on one line."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = _SPECIAL.sub(r"\\\1", text)
    return text.replace("\r\n", "<br>").replace("\r", "<br>").replace("\n", "<br>")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def result_line(report: Report) -> str:
    errors, warnings = report.count(Level.ERROR), report.count(Level.WARNING)
    total = report.checked
    failing = {
        (f.file, f.exemption_name)
        for f in report.findings
        if f.suppression is None and f.level != Level.NOTE and f.exemption_name is not None
    }
    counted = [_plural(n, word) for n, word in ((errors, "error"), (warnings, "warning")) if n]
    icon = "❌" if errors or report.errors else "⚠️" if warnings else "✅"
    if counted:
        text = f"{', '.join(counted)} in {len(failing)} of {_plural(total, 'exemption')}"
    elif report.count(Level.NOTE):
        text = f"no errors or warnings in {_plural(total, 'exemption')}"
    else:
        text = f"no findings in {_plural(total, 'exemption')}"
    if report.errors:
        unread = len({e.file for e in report.errors})
        text = f"{_plural(unread, 'file')} could not be read; {text}"
    extras = [_plural(len(report.files), "file")] if report.audit is None else ["deployed in Azure"]
    if report.count(Level.NOTE):
        extras.append(_plural(report.count(Level.NOTE), "note"))
    if report.suppressed:
        extras.append(f"{report.suppressed} suppressed")
    return f"{icon} {text[0].upper()}{text[1:]} ({'; '.join(extras)})"


class _Budget:
    """Characters left before ``MAX_CHARS``: structure is always written, rows only while they fit."""

    def __init__(self) -> None:
        self.left = MAX_CHARS - _RESERVE

    def spend(self, lines: Sequence[str]) -> list[str]:
        self.left -= sum(len(line) + 1 for line in lines)
        return list(lines)

    def take(self, text: str) -> bool:
        if len(text) + 1 > self.left:
            return False
        self.left -= len(text) + 1
        return True


def _capped(items: Sequence[str], budget: _Budget, more: str) -> list[str]:
    """As many of ``items`` as ``MAX_ROWS`` and the budget allow, then a "... and N more" line."""
    lines: list[str] = []
    for shown, item in enumerate(items):
        if shown >= MAX_ROWS or not budget.take(item):
            lines.append(more.format(len(items) - shown))
            break
        lines.append(item)
    return lines


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], budget: _Budget) -> list[str]:
    lines = budget.spend(["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"])
    return lines + _capped(["| " + " | ".join(row) + " |" for row in rows], budget, "\n... and {} more")


def _details(summary: str, body: list[str]) -> list[str]:
    return ["", f"<details><summary>{summary}</summary>", "", *body, "", "</details>"]


def _recommendation_rows(report: Report) -> list[list[str]]:
    """One row per policy definition an exemption names (EL012 records them), so that a reviewer
    reads "Storage accounts should restrict network access" rather than a reference id."""
    rows: list[list[str]] = []
    seen: set[tuple[str, str, str | None, str | None]] = set()
    for exemption in report.exemptions:
        for recommendation in exemption.recommendations or ():
            key = (
                exemption.source.file,
                exemption.label,
                recommendation.reference_id,
                recommendation.policy_definition_id,
            )
            if key in seen:
                continue  # copies of one exemption (a loop) name the same recommendations
            seen.add(key)
            if not recommendation.in_initiative:
                name = "not a member of the initiative (EL012)"
            else:
                name = recommendation.display_name or recommendation.policy_definition_id or "not known"
            rows.append(
                [
                    escape(exemption.source.file),
                    escape(exemption.label),
                    escape(recommendation.reference_id or ""),
                    escape(name),
                ]
            )
    return rows


def render(report: Report, color: bool) -> str:
    help_uris = {rule.id: rule.help_uri for rule in report.rules}

    def cells(finding: Finding) -> list[str]:
        uri = help_uris.get(finding.rule_id)
        rule = escape(finding.rule_id)
        return [
            f"[{rule}]({uri})" if uri else rule,
            escape(finding.file),
            str(finding.line),
            escape(finding.exemption_name) if finding.exemption_name is not None else "",
            escape(finding.message),
        ]

    def leveled(finding: Finding) -> list[str]:
        return [f"{_ICONS[finding.level]} {finding.level.value}", *cells(finding)]

    def by_level(finding: Finding) -> tuple[int, str, int, int, str]:
        return (-finding.level.rank, *finding.sort_key())

    active = [f for f in report.findings if f.suppression is None]
    counted = sorted((f for f in active if f.level != Level.NOTE), key=by_level)
    notes = sorted((f for f in active if f.level == Level.NOTE), key=Finding.sort_key)
    suppressed = sorted((f for f in report.findings if f.suppression is not None), key=by_level)
    columns = ["Rule", "File", "Line", "Exemption", "Message"]

    budget = _Budget()
    footer = f"<sub>exemptlint {escape(report.version)} · as of {escape(report.today)}</sub>"
    budget.spend(["", footer])
    lines = budget.spend(["## exemptlint", "", result_line(report)])
    if report.errors:
        lines += budget.spend(["", "### Files that could not be read", ""])
        errors = [f"- {escape(str(e))}" for e in report.errors]
        lines += _capped(errors, budget, "- ... and {} more")
    if counted:
        lines += budget.spend([""])
        lines += _table(["Level", *columns], [leveled(f) for f in counted], budget)
    if notes:
        summary = _plural(len(notes), "note")
        budget.spend(_details(summary, []))
        lines += _details(summary, _table(columns, [cells(f) for f in notes], budget))
    if suppressed:
        summary = _plural(len(suppressed), "suppressed finding")
        rows = [
            [*leveled(f), escape(f.suppression.justification if f.suppression else "")] for f in suppressed
        ]
        budget.spend(_details(summary, []))
        lines += _details(summary, _table(["Level", *columns, "Justification"], rows, budget))
    recommendations = _recommendation_rows(report)
    if recommendations:
        summary = _plural(len(recommendations), "exempted recommendation")
        header = ["File", "Exemption", "Reference id", "Recommendation"]
        budget.spend(_details(summary, []))
        lines += _details(summary, _table(header, recommendations, budget))
    if report.stale_baseline:
        entries = report.stale_baseline
        summary = f"{len(entries)} stale baseline {'entry' if len(entries) == 1 else 'entries'}"
        items = [
            f"- {escape(str(e.get('file')))}: {escape(str(e.get('ruleId')))} for exemption "
            f"'{escape(str(e.get('exemption')))}' no longer occurs; rewrite the baseline with "
            "`--write-baseline`"
            for e in entries
        ]
        budget.spend(_details(summary, []))
        lines += _details(summary, _capped(items, budget, "- ... and {} more"))
    if report.audit is not None:
        lines += _audit_sections(report, budget)
    lines += ["", footer]
    return "\n".join(lines) + "\n"


def _audit_sections(report: Report, budget: _Budget) -> list[str]:
    """The deployed state: counts by status, category and scope level, and the lists that need a
    person (collapsed)."""
    from exemptlint.audit.model import DIFFERENT, EXPIRED, EXPIRING, NOT_IN_CODE

    audit = report.audit
    assert audit is not None
    summary = audit.summary()
    live = audit.live()
    lines = budget.spend(["", "### Deployed exemptions", "", f"{escape(', '.join(audit.scopes))}: "
                          f"{_plural(summary['deployed'], 'exemption')}"])
    if not audit.complete:
        lines += budget.spend(["", "**Incomplete:** " + escape("; ".join(audit.problems))])
    status = summary["byStatus"]
    lines += budget.spend(["", "| status | count |", "|---|---|"])
    lines += budget.spend([f"| {escape(key)} | {value} |" for key, value in status.items()])
    for title, counts in (("category", summary["byCategory"]), ("scope level", summary["byScopeLevel"])):
        lines += budget.spend(["", f"| {title} | count |", "|---|---|"])
        lines += budget.spend([f"| {escape(key)} | {value} |" for key, value in counts.items()])
    sections: list[tuple[str, list[str], list[list[str]]]] = [
        (
            "expired and still present",
            ["Exemption", "Expired on", "Created by"],
            [
                [escape(e.name), escape(e.expiry_date or ""), escape(e.created_by or "")]
                for e in live
                if e.status == EXPIRED
            ],
        ),
        (
            f"expiring within {audit.expiring_within} days",
            ["Exemption", "Expires on", "Days left"],
            [
                [escape(e.name), escape(e.expiry_date or ""), str(e.days_left)]
                for e in live
                if e.status == EXPIRING
            ],
        ),
        (
            "on an assignment that no longer exists",
            ["Exemption", "Assignment"],
            [
                [escape(e.name), escape(e.assignment_id or "")]
                for e in live
                if e.assignment_state == "missing"
            ],
        ),
    ]
    if audit.code_compared:
        sections += [
            (
                "deployed but not in the code",
                ["Exemption", "Scope", "Created by"],
                [
                    [escape(e.name), escape(e.scope), escape(e.created_by or "")]
                    for e in live
                    if e.code_status == NOT_IN_CODE
                ],
            ),
            (
                "deployed with differences from the code",
                ["Exemption", "Fields", "Code"],
                [
                    [escape(e.name), escape(", ".join(d.field for d in e.differences)),
                     escape(f"{e.code.file}:{e.code.line}" if e.code else "")]
                    for e in live if e.code_status == DIFFERENT
                ],
            ),
            (
                "in the code but not deployed",
                ["Exemption", "Code"],
                [[escape(c.name), escape(f"{c.file}:{c.line}")] for c in audit.not_deployed],
            ),
        ]
    if audit.defender_read:
        sections.append(
            (
                "exempt in Defender for Cloud with no exemption the audit can see",
                ["Recommendation", "Resource"],
                [[escape(a.recommendation), escape(a.resource_id)] for a in audit.defender_unmatched],
            )
        )
    for title, header, rows in sections:
        if not rows:
            continue
        summary_text = f"{len(rows)} {title}"
        budget.spend(_details(summary_text, []))
        lines += _details(summary_text, _table(header, rows, budget))
    return lines
