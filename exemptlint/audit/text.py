"""The audit's text output for people: findings by resource id, then the summary by status,
category and scope level, and the lists that need a person (expired, orphaned, drift, Defender)."""

from __future__ import annotations

from collections.abc import Sequence

from exemptlint.audit.model import DIFFERENT, EXPIRED, EXPIRING, NOT_IN_CODE, AuditData
from exemptlint.model import Level
from exemptlint.report import Report

MAX_LISTED = 20


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{key} {value:,}" for key, value in counts.items() if value) or "none"


def _listed(title: str, items: Sequence[str]) -> list[str]:
    if not items:
        return []
    lines = [f"{title} ({len(items):,}):"]
    lines += [f"  {item}" for item in items[:MAX_LISTED]]
    if len(items) > MAX_LISTED:
        lines.append(f"  ... and {len(items) - MAX_LISTED:,} more (see --format json, csv or html)")
    return lines


def summary_lines(audit: AuditData) -> list[str]:
    live = audit.live()
    status = audit.counts("status")
    lines = [
        f"Audit of {_plural(len(live), 'deployed exemption')} in {', '.join(audit.scopes)} "
        f"as of {audit.today}:",
        f"  by status: {status.get('expired', 0):,} expired, {status.get('expiring', 0):,} expiring within "
        f"{audit.expiring_within} days, {status.get('no-expiry', 0):,} without expiry, "
        f"{status.get('active', 0):,} active"
        + (
            f", {status['unreadable-expiry']:,} with an unreadable expiry"
            if status.get("unreadable-expiry")
            else ""
        ),
        f"  by category: {_counts(audit.counts('category'))}",
        f"  by scope level: {_counts(audit.counts('scope_level'))}",
    ]
    summary = audit.summary()
    lines.append(
        f"  assignment missing: {summary['assignmentMissing']:,}; "
        f"stale Resource Graph rows: {summary['stale']:,}"
    )
    if audit.code_compared:
        lines.append(
            f"  code: {summary['notInCode']:,} not in code, {summary['different']:,} different, "
            f"{summary['notDeployed']:,} not deployed"
            + (f", {len(audit.not_comparable):,} not comparable" if audit.not_comparable else "")
            + (f", {audit.outside_scopes:,} outside the audited scopes" if audit.outside_scopes else "")
        )
    if audit.defender_read:
        lines.append(
            f"  Defender for Cloud: {audit.defender_exempt:,} exempt assessments, "
            f"{len(audit.defender_unmatched):,} without an exemption the audit can see"
        )
    lines += _listed(
        "Expired and still present",
        [
            f"{e.id} (expired {e.expiry_date}, {-(e.days_left or 0)} days ago)"
            for e in live
            if e.status == EXPIRED
        ],
    )
    lines += _listed(
        f"Expiring within {audit.expiring_within} days",
        [f"{e.id} ({e.expiry_date}, in {e.days_left} days)" for e in live if e.status == EXPIRING],
    )
    lines += _listed(
        "Assignment no longer exists",
        [f"{e.id} -> {e.assignment_id}" for e in live if e.assignment_state == "missing"],
    )
    if audit.code_compared:
        lines += _listed(
            "Deployed but not in the code",
            [
                f"{e.id} (created by {e.created_by or 'unknown'})"
                for e in live
                if e.code_status == NOT_IN_CODE
            ],
        )
        lines += _listed(
            "Deployed with differences from the code",
            [
                f"{e.id}: {', '.join(d.field for d in e.differences)} ({e.code.file}:{e.code.line})"
                for e in live
                if e.code_status == DIFFERENT and e.code is not None
            ],
        )
        lines += _listed(
            "In the code but not deployed",
            [f"{c.file}:{c.line}:{c.column}: {c.resource_id}" for c in audit.not_deployed],
        )
    if audit.defender_read:
        lines += _listed(
            "Defender 'Exempt' assessments with no exemption the audit can see",
            [f"{a.recommendation} on {a.resource_id}" for a in audit.defender_unmatched],
        )
    if not audit.complete:
        lines.append(
            f"INCOMPLETE: {_plural(len(audit.problems), 'scope or resource')} could not be read: "
            + "; ".join(audit.problems)
        )
    return lines


def render_text(report: Report, color: bool, quiet: bool = False) -> str:
    lines = [str(error) for error in report.errors]
    for finding in report.findings:
        if finding.suppression is None:
            lines.append(f"{finding.file}: {finding.rule_id} [{finding.level.value}] {finding.message}")
    if report.audit is not None and not quiet:
        lines += summary_lines(report.audit)
    if not quiet:
        counts = ", ".join(_plural(report.count(level), level.value) for level in Level)
        suppressed = f" ({report.suppressed} suppressed)" if report.suppressed else ""
        lines.append(f"Findings: {counts}{suppressed}.")
    # Plain text: the findings' layout is check's concern; colour would add nothing to these lines.
    return "\n".join(lines) + "\n" if lines else ""
