"""Text for people: ``path:line:col: EL004 [error] message`` lines and a summary."""

from __future__ import annotations

from exemptlint.model import Level
from exemptlint.report import Report

_STYLES = {Level.ERROR: "bold red", Level.WARNING: "yellow", Level.NOTE: "cyan"}


def render(report: Report, color: bool) -> str:
    lines: list[str] = []
    for error in report.errors:
        lines.append(str(error))
    for finding in report.findings:
        if finding.suppression is not None:
            continue  # counted in the summary; kept in JSON and SARIF
        lines.append(
            f"{finding.file}:{finding.line}:{finding.column}: {finding.rule_id} "
            f"[{finding.level.value}] {finding.message}"
        )
    for entry in report.stale_baseline:
        lines.append(
            f"{entry.get('file')}: baseline entry {entry.get('ruleId')} for exemption "
            f"'{entry.get('exemption')}' no longer occurs; rewrite the baseline with --write-baseline"
        )
    lines.append(summary(report))
    text = "\n".join(lines) + "\n"
    return _colorize(report, text) if color else text


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


def _colorize(report: Report, plain: str) -> str:
    # rich is imported only for a terminal: plain text needs none of it.
    from rich.console import Console
    from rich.text import Text

    console = Console(force_terminal=True, color_system="standard", width=10_000, soft_wrap=True)
    styled = Text()
    for line in plain.splitlines():
        for level, style in _STYLES.items():
            marker = f" [{level.value}] "
            if marker in line:
                head, _, tail = line.partition(marker)
                styled.append(head, style="bold")
                styled.append(marker, style=style)
                styled.append(tail + "\n")
                break
        else:
            styled.append(line + "\n", style="red" if ": error: " in line else "")
    with console.capture() as capture:
        console.print(styled, end="")
    return capture.get()
