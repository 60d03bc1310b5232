"""Text for people: each file's path once, its findings beneath it, then a summary.

    examples/bad-exemption.json
      7:5  warning  EL002  exemptionCategory 'waiver' should be spelled 'Waiver'
                           (the API accepts any case; reports and queries compare
                           the canonical spelling)
      8:5  error    EL005  exemption 'skip-all' expired on 2026-01-31 (297 days
                           ago); renew it with a new review or delete it

    Checked 1 exemption in 1 file: 1 error, 1 warning, 0 notes.

Columns line up across the report. Messages are wrapped to ``width`` columns (80 unless the
terminal says otherwise) beneath their first line; a word longer than the line (a resource id) is
kept whole, so it can be copied. An unreadable file's error appears under its path, without a
rule id.
``--format concise`` is the one-line-per-finding form.
"""

from __future__ import annotations

from dataclasses import dataclass

from exemptlint.engine import one_line
from exemptlint.model import Level
from exemptlint.report import Report

DEFAULT_WIDTH = 80
# The message column keeps at least this many characters, however narrow the terminal.
_MIN_MESSAGE = 30

_STYLES = {Level.ERROR: "bold red", Level.WARNING: "yellow", Level.NOTE: "cyan"}
_ERROR_STYLE = "bold red"


@dataclass(frozen=True)
class _Row:
    line: int
    column: int
    level: str
    style: str
    rule_id: str
    message: str


def render(report: Report, color: bool, width: int = DEFAULT_WIDTH, quiet: bool = False) -> str:
    """The report; ``quiet`` leaves out the summary (and the baseline section stays)."""
    groups: dict[str, list[_Row]] = {}
    for error in report.errors:
        # An unreadable file (or a rule that raised) is shown with its file, without a rule id.
        groups.setdefault(error.file, []).append(
            _Row(error.line, error.column, "error", _ERROR_STYLE, "", one_line(error.message))
        )
    for finding in report.findings:
        if finding.suppression is not None:
            continue  # counted in the summary; kept in JSON and SARIF
        level = finding.level
        groups.setdefault(finding.file, []).append(
            _Row(finding.line, finding.column, level.value, _STYLES[level], finding.rule_id, finding.message)
        )
    rows = [row for group in groups.values() for row in group]
    line_width = len(str(max((row.line for row in rows), default=1)))
    column_width = len(str(max((row.column for row in rows), default=1)))
    level_width = max((len(row.level) for row in rows), default=5)
    id_width = max((len(row.rule_id) for row in rows), default=0)
    indent = 2 + line_width + 1 + column_width + 2 + level_width + 2 + (id_width + 2 if id_width else 0)
    wrap = max(width - indent, _MIN_MESSAGE)
    pad = " " * indent

    # Each line as (text, style) pieces; plain text joins the pieces, a terminal styles them.
    lines: list[list[tuple[str, str]]] = []
    for file in sorted(groups):
        # A file name may hold anything, an escape sequence too: control characters are escaped.
        lines.append([(one_line(file), "bold")])
        for row in sorted(groups[file], key=_order):
            message = _wrap(row.message, wrap)
            lines.append(
                [
                    (f"  {row.line:>{line_width}}:{row.column:<{column_width}}  ", ""),
                    (f"{row.level:<{level_width}}", row.style),
                    (f"  {row.rule_id:<{id_width}}" if id_width else "", "dim"),
                    (f"  {message[0]}", ""),
                ]
            )
            lines.extend([(pad + more, "")] for more in message[1:])
        lines.append([])
    if report.stale_baseline:
        lines.append(
            [("Baseline entries that no longer occur (rewrite the baseline with --write-baseline):", "")]
        )
        for entry in report.stale_baseline:
            where, rule_id, name = entry.get("file"), entry.get("ruleId"), entry.get("exemption")
            shown = one_line(f"  {where}  {rule_id}  exemption '{name}'")
            lines.append([(shown, "")])
        lines.append([])
    if quiet:
        if lines and not lines[-1]:
            lines.pop()  # the blank line before the summary
    else:
        lines.append([(summary(report), "bold")])
    if not color:
        return "".join("".join(text for text, _ in line) + "\n" for line in lines)
    return _styled(lines)


def _order(row: _Row) -> tuple[int, int, bool, str]:
    # Within a file by position; an unreadable file's error before the findings at its place.
    return (row.line, row.column, row.rule_id != "", row.rule_id)


def _styled(lines: list[list[tuple[str, str]]]) -> str:
    # rich is imported only for a terminal. Text.append takes the text as it is: no markup in
    # messages or paths is interpreted.
    from rich.console import Console
    from rich.text import Text

    styled = Text()
    for line in lines:
        for text, style in line:
            styled.append(text, style=style or None)
        styled.append("\n")
    console = Console(force_terminal=True, color_system="standard", width=10_000, soft_wrap=True)
    with console.capture() as capture:
        console.print(styled, end="")
    return capture.get()


def _wrap(message: str, width: int) -> list[str]:
    """Lines of at most ``width`` characters, broken at spaces. Long words (resource ids,
    expressions) stay whole: a line may run over rather than split an id someone will copy; nor
    are hyphens break points (ids and names have many). Greedy, like textwrap, and much cheaper
    on a report of thousands of findings: the searches for spaces are the str methods'."""
    if len(message) <= width:
        return [message]
    message = message.replace("\t", " ")
    lines: list[str] = []
    start = 0
    while len(message) - start > width:
        cut = message.rfind(" ", start, start + width + 1)
        if cut <= start:  # the next word is longer than a line: it runs over
            cut = message.find(" ", start + 1)
            if cut == -1:
                break
        lines.append(message[start:cut])
        start = cut + 1
    lines.append(message[start:])
    return lines


def summary(report: Report) -> str:
    counts = ", ".join(
        f"{report.count(level)} {level.value}{'s' if report.count(level) != 1 else ''}"
        for level in (Level.ERROR, Level.WARNING, Level.NOTE)
    )
    files = len(report.files)
    exemptions = report.checked
    text = (
        f"Checked {exemptions} exemption{'s' if exemptions != 1 else ''} in {files} "
        f"file{'s' if files != 1 else ''}: {counts}"
    )
    if report.suppressed:
        text += f" ({report.suppressed} suppressed)"
    # Errors of rules that raised (plugins) are tool errors, not unreadable files.
    raised = sum(1 for e in report.errors if e.message.startswith("rule ") and " raised " in e.message)
    unread = len(report.errors) - raised
    if unread:
        text += f"; {unread} file{'s' if unread != 1 else ''} could not be read"
    if raised:
        text += f"; {raised} rule error{'s' if raised != 1 else ''}"
    return text + "."
