"""One self-contained HTML page: summary cards, an expiry timeline chart (inline SVG), and
sortable tables of findings and exemptions; for an audit, also the code comparison and Defender's
view, with links to each exemption in the Azure portal.

Everything is inline (CSS, a small script, SVG) and a Content-Security-Policy forbids loading
anything, so the page opens without a network. Every value from the inputs is escaped.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING

from exemptlint.model import Exemption, Finding, Level
from exemptlint.report import Report

if TYPE_CHECKING:
    from exemptlint.audit.model import AuditData, AuditedExemption

CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
# Bars of the timeline and their colours.
_COLOURS = {"expired": "#c62828", "no expiry": "#6a1b9a", "unreadable": "#6d4c41", "later": "#78909c"}
_SOON = "#ef6c00"
_MONTH = "#1565c0"
_LEVEL_ORDER = {Level.ERROR: 0, Level.WARNING: 1, Level.NOTE: 2}

_STYLE = """
:root{--fg:#1b1f23;--muted:#57606a;--line:#d0d7de;--bg:#fff;--head:#f6f8fa;--bad:#c62828;--warn:#b26a00}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);
margin:0 auto;max-width:1400px;padding:16px 24px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
.meta{color:var(--muted);margin:0 0 12px}
.banner{background:#ffebee;border:1px solid var(--bad);color:var(--bad);padding:8px 12px;border-radius:6px;
margin:8px 0}
.counts{display:inline-block;vertical-align:top;margin-right:24px;min-width:260px}
.cards{display:flex;flex-wrap:wrap;gap:8px}
.card{border:1px solid var(--line);border-radius:6px;padding:8px 12px;min-width:120px;background:var(--head)}
.card .n{font-size:22px;font-weight:600;display:block}.card .k{color:var(--muted);font-size:12px}
.card.bad .n{color:var(--bad)}.card.warn .n{color:var(--warn)}
svg text{font-size:11px;fill:var(--fg)}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border:1px solid var(--line);padding:4px 6px;text-align:left;vertical-align:top}
th{background:var(--head);cursor:pointer;user-select:none;white-space:nowrap;position:sticky;top:0}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.s-expired,.l-error{color:var(--bad);font-weight:600}.s-expiring,.l-warning{color:var(--warn);font-weight:600}
.wrap{max-height:70vh;overflow:auto;border:1px solid var(--line)}
input[type=search]{margin:0 0 6px;padding:4px 6px;width:320px;max-width:100%}
code{font-size:12px;word-break:break-all}
footer{color:var(--muted);margin:24px 0 8px;font-size:12px}
"""

_SCRIPT = """
(function () {
  function key(cell) {
    var v = cell.getAttribute('data-sort');
    if (v === null) { v = cell.textContent.trim(); }
    var n = Number(v);
    return (v !== '' && !isNaN(n)) ? {n: n} : {s: v.toLowerCase()};
  }
  function compare(a, b) {
    if ('n' in a && 'n' in b) { return a.n - b.n; }
    var x = 's' in a ? a.s : String(a.n), y = 's' in b ? b.s : String(b.n);
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  function sortBy(table, th, index) {
    var ascending = th.getAttribute('aria-sort') !== 'ascending';
    var heads = table.tHead.rows[0].cells;
    for (var i = 0; i < heads.length; i++) { heads[i].removeAttribute('aria-sort'); }
    th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (r1, r2) {
      var c = compare(key(r1.cells[index]), key(r2.cells[index]));
      return ascending ? c : -c;
    });
    var fragment = document.createDocumentFragment();
    rows.forEach(function (row) { fragment.appendChild(row); });
    body.appendChild(fragment);
  }
  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      th.tabIndex = 0;
      th.addEventListener('click', function () { sortBy(table, th, index); });
      th.addEventListener('keydown', function (event) {
        if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); sortBy(table, th, index); }
      });
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll('input[data-filter]'), function (input) {
    var table = document.getElementById(input.getAttribute('data-filter'));
    input.addEventListener('input', function () {
      var needle = input.value.toLowerCase();
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        row.hidden = needle !== '' && row.textContent.toLowerCase().indexOf(needle) < 0;
      });
    });
  });
})();
"""


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _card(key: str, label: str, count: int | None, tone: str = "") -> str:
    if count is None:
        return ""
    css = f"card {tone}" if tone and count else "card"
    return (
        f'<div class="{css}" data-key="{_e(key)}" data-count="{count}">'
        f'<span class="n">{count:,}</span><span class="k">{_e(label)}</span></div>'
    )


def timeline_svg(bars: Sequence[tuple[str, int]], soon_until: str | None = None) -> str:
    """A bar chart: one bar per (label, count); labels YYYY-MM before ``soon_until`` are orange."""
    width, height, top, bottom, left = 760, 230, 20, 48, 36
    plot = height - top - bottom
    highest = max((count for _, count in bars), default=0) or 1
    step = (width - left - 10) / max(len(bars), 1)
    parts = [
        f'<svg id="timeline-chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="Exemptions by expiry month">',
        f'<line x1="{left}" y1="{top + plot}" x2="{width - 5}" y2="{top + plot}" stroke="#8c959f"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end">{highest:,}</text>',
        f'<text x="{left - 6}" y="{top + plot}" text-anchor="end">0</text>',
    ]
    for index, (label, count) in enumerate(bars):
        colour = _COLOURS.get(label)
        if colour is None:
            colour = _SOON if soon_until is not None and label <= soon_until else _MONTH
        bar_height = round(plot * count / highest, 1)
        x = left + index * step + step * 0.15
        bar_width = step * 0.7
        y = top + plot - bar_height
        middle = x + bar_width / 2
        parts.append(
            f'<g class="bar" data-label="{_e(label)}" data-count="{count}">'
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_width:.1f}" height="{bar_height}" fill="{colour}">'
            f"<title>{_e(label)}: {count:,}</title></rect>"
            f'<text x="{middle:.1f}" y="{y - 3:.1f}" text-anchor="middle">{count:,}</text>'
            f'<text x="{middle:.1f}" y="{top + plot + 14}" text-anchor="middle">{_e(label)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _table(table_id: str, headers: Sequence[str], rows: Sequence[str], filter_box: bool = False) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    search = (
        f'<input type="search" data-filter="{table_id}" placeholder="Filter rows" aria-label="Filter rows">'
        if filter_box
        else ""
    )
    return (
        f'{search}<div class="wrap"><table id="{table_id}" class="sortable"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _td(value: object, sort: object = None, css: str = "") -> str:
    attributes = f' data-sort="{_e(sort)}"' if sort is not None else ""
    if css:
        attributes += f' class="{css}"'
    return f"<td{attributes}>{_e(value)}</td>"


def _finding_rows(findings: Sequence[Finding], help_uris: dict[str, str]) -> list[str]:
    rows = []
    for finding in sorted(findings, key=lambda f: (_LEVEL_ORDER[f.level], *f.sort_key())):
        if finding.suppression is not None:
            continue
        uri = help_uris.get(finding.rule_id)
        rule = f'<td><a href="{_e(uri)}">{_e(finding.rule_id)}</a></td>' if uri else _td(finding.rule_id)
        rows.append(
            "<tr>"
            + _td(finding.level.value, _LEVEL_ORDER[finding.level], f"l-{finding.level.value}")
            + rule
            + _td(finding.file)
            + _td(finding.line, finding.line, "num")
            + _td(finding.exemption_name or "")
            + _td(finding.message)
            + "</tr>"
        )
    return rows


def render(report: Report, color: bool) -> str:
    help_uris = {rule.id: rule.help_uri for rule in report.rules if rule.help_uri}
    audit = report.audit
    title = "exemptlint audit" if audit is not None else "exemptlint report"
    body: list[str] = [f"<header><h1>{title}</h1>"]
    if audit is not None:
        body.append(
            f'<p class="meta">{_e(", ".join(audit.scopes))} · as of {_e(report.today)} · '
            f"{_e(audit.arm_endpoint)} · exemptlint {_e(report.version)}</p></header>"
        )
        if not audit.complete:
            body.append(
                '<div class="banner" id="incomplete"><strong>Incomplete:</strong> '
                + "; ".join(_e(p) for p in audit.problems)
                + "</div>"
            )
    else:
        body.append(
            f'<p class="meta">{len(report.files):,} files · as of {_e(report.today)} · '
            f"exemptlint {_e(report.version)}</p></header>"
        )
    if report.errors:
        items = "".join(f"<li><code>{_e(error)}</code></li>" for error in report.errors)
        body.append(
            f'<div class="banner" id="errors"><strong>Could not be read:</strong><ul>{items}</ul></div>'
        )
    body += _audit_body(report, audit) if audit is not None else _check_body(report)
    body.append(
        '<h2 id="findings">Findings</h2>'
        + _table(
            "findings-table",
            [
                "Level",
                "Rule",
                "Exemption id" if audit is not None else "File",
                "Line",
                "Exemption",
                "Message",
            ],
            _finding_rows(report.findings, help_uris),
            filter_box=True,
        )
    )
    body.append(
        f"<footer>exemptlint {_e(report.version)}; this page loads nothing from the network.</footer>"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title} {_e(report.today)}</title><style>{_STYLE}</style></head><body>"
        + "\n".join(body)
        + f"<script>{_SCRIPT}</script></body></html>\n"
    )


# A lint of files -----------------------------------------------------------------------------


def _check_body(report: Report) -> list[str]:
    cards = [
        _card("exemptions", "exemptions", report.checked),
        _card("error", "errors", report.count(Level.ERROR), "bad"),
        _card("warning", "warnings", report.count(Level.WARNING), "warn"),
        _card("note", "notes", report.count(Level.NOTE)),
        _card("suppressed", "suppressed", report.suppressed),
    ]
    parts = [f'<section class="cards" id="summary">{"".join(cards)}</section>']
    if report.exemptions:
        today = datetime.date.fromisoformat(report.today)
        parts.append(
            '<h2 id="timeline">Expiry timeline</h2>' + timeline_svg(_code_timeline(report.exemptions, today))
        )
        rows = []
        for exemption in report.exemptions:
            position = exemption.source.locator.exemption()
            expires = exemption.expires_on
            rows.append(
                "<tr>"
                + _td(exemption.label)
                + _td(
                    f"{exemption.source.file}:{position.line}", f"{exemption.source.file}:{position.line:08d}"
                )
                + _td(exemption.scope_level.value)
                + _td(exemption.exemption_category if isinstance(exemption.exemption_category, str) else "")
                + _td(expires if isinstance(expires, str) else "")
                + "</tr>"
            )
        parts.append(
            '<h2 id="exemptions">Exemptions</h2>'
            + _table("exemptions-table", ["Name", "File", "Scope level", "Category", "Expires"], rows, True)
        )
    return parts


def _code_timeline(exemptions: Sequence[Exemption], today: datetime.date) -> list[tuple[str, int]]:
    from exemptlint.dates import read_expiry

    keys: list[str] = []
    year, month = today.year, today.month
    for _ in range(12):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    bars = {"expired": 0, **dict.fromkeys(keys, 0), "later": 0, "no expiry": 0}
    for exemption in exemptions:
        value = exemption.expires_on
        if value is None:
            bars["no expiry"] += 1
            continue
        date = read_expiry(value, exemption.source.format).utc_date if isinstance(value, str) else None
        if date is None:
            bars["unreadable"] = bars.get("unreadable", 0) + 1
        elif date < today:
            bars["expired"] += 1
        else:
            bars[date.isoformat()[:7] if date.isoformat()[:7] in bars else "later"] += 1
    return list(bars.items())


# An audit ----------------------------------------------------------------------------------


def _audit_body(report: Report, audit: AuditData) -> list[str]:
    summary = audit.summary()
    status = summary["byStatus"]
    cards = [
        _card("deployed", "deployed", summary["deployed"]),
        _card("expired", "expired", status.get("expired", 0), "bad"),
        _card("expiring", f"expiring within {audit.expiring_within} days", status.get("expiring", 0), "warn"),
        _card("no-expiry", "without expiry", status.get("no-expiry", 0), "warn"),
        _card("active", "active", status.get("active", 0)),
        _card("assignment-missing", "assignment missing", summary["assignmentMissing"], "bad"),
        _card("stale", "stale Resource Graph rows", summary["stale"]),
        _card("not-in-code", "not in code", summary["notInCode"], "warn"),
        _card("different", "different from code", summary["different"], "warn"),
        _card("not-deployed", "in code, not deployed", summary["notDeployed"], "warn"),
        _card("defender-exempt", "Defender exempt assessments", summary["defenderExempt"]),
        _card(
            "defender-unmatched", "exempt in Defender, no exemption seen", summary["defenderUnmatched"], "bad"
        ),
        _card("error", "errors", report.count(Level.ERROR), "bad"),
        _card("warning", "warnings", report.count(Level.WARNING), "warn"),
    ]
    soon = datetime.date.fromisoformat(audit.today) + datetime.timedelta(days=audit.expiring_within)
    parts = [
        f'<section class="cards" id="summary">{"".join(cards)}</section>',
        '<h2 id="timeline">Expiry timeline</h2>'
        + timeline_svg(audit.expiry_timeline(), soon.isoformat()[:7]),
        '<h2 id="by-category">By category and scope level</h2>'
        + _counts_table("category-table", "Category", summary["byCategory"])
        + _counts_table("scope-table", "Scope level", summary["byScopeLevel"]),
        '<h2 id="exemptions">Deployed exemptions</h2>'
        + _table(
            "exemptions-table",
            [
                "Name",
                "Scope level",
                "Category",
                "Expires",
                "Days left",
                "Status",
                "Assignment",
                "Created by",
                "Last changed by",
                "Owner",
                "Code",
                "Hidden in Defender",
                "Findings",
            ],
            [_exemption_row(e) for e in audit.exemptions],
            filter_box=True,
        ),
    ]
    if audit.code_compared:
        drift = [
            "<tr>"
            + _td(e.name)
            + _td(d.field)
            + _td(_short(d.deployed))
            + _td(_short(d.code))
            + _td(f"{e.code.file}:{e.code.line}" if e.code else "")
            + "</tr>"
            for e in audit.exemptions
            for d in e.differences
        ]
        parts.append(
            '<h2 id="differences">Deployed with differences from the code</h2>'
            + _table("differences-table", ["Exemption", "Field", "Deployed", "Code", "Code location"], drift)
        )
        missing = [
            "<tr>" + _td(c.name) + _td(f"{c.file}:{c.line}") + _td(c.resource_id or "") + "</tr>"
            for c in audit.not_deployed
        ]
        parts.append(
            '<h2 id="not-deployed">In the code, not deployed</h2>'
            + _table("not-deployed-table", ["Name", "Code location", "Resource id"], missing)
        )
    if audit.defender_read:
        unmatched = [
            "<tr>" + _td(a.recommendation) + _td(a.resource_id) + _td(a.policy_definition_id) + "</tr>"
            for a in audit.defender_unmatched
        ]
        parts.append(
            '<h2 id="defender">Exempt in Defender for Cloud with no exemption the audit can see</h2>'
            + _table("defender-table", ["Recommendation", "Resource", "Policy definition"], unmatched)
        )
    return parts


def _short(value: object) -> str:
    import json

    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= 300 else text[:299] + "…"


def _counts_table(table_id: str, title: str, counts: dict[str, int]) -> str:
    rows = [f"<tr>{_td(key)}{_td(value, value, 'num')}</tr>" for key, value in counts.items()]
    return f'<div class="counts">{_table(table_id, [title, "Exemptions"], rows)}</div>'


def _exemption_row(e: AuditedExemption) -> str:
    link = f'<a href="{_e(e.portal_url)}" title="{_e(e.id)}">{_e(e.name)}</a>'
    name = f'<td data-sort="{_e(e.name.lower())}">{link}</td>'
    days_sort = e.days_left if e.days_left is not None else 10**6
    hidden = "; ".join(f"{h.recommendation} ({h.resources})" for h in e.hidden)
    return (
        f'<tr data-id="{_e(e.id)}">'
        + name
        + _td(e.scope_level)
        + _td(e.category or "")
        + _td(e.expiry_date or "", e.expiry_date or "9999-12-31")
        + _td("" if e.days_left is None else e.days_left, days_sort, "num")
        + _td(e.status, None, f"s-{e.status}")
        + _td(e.assignment_state)
        + _td(e.created_by or "")
        + _td(e.modified_by or "")
        + _td(e.owner or "")
        + _td(e.code_status)
        + _td(hidden, sum(h.resources for h in e.hidden))
        + _td(e.findings, e.findings, "num")
        + "</tr>"
    )
