"""One line per finding, ``path:line:col: EL004 [error] message``, and a summary: for editors,
``grep`` and problem matchers (``--format concise``; the text format groups findings by file)."""

from __future__ import annotations

from exemptlint.engine import one_line
from exemptlint.model import Level
from exemptlint.report import Report
from exemptlint.report.text import summary

_STYLES = {Level.ERROR: "bold red", Level.WARNING: "yellow", Level.NOTE: "cyan"}


def render(report: Report, color: bool, quiet: bool = False) -> str:
    """Today's text form, exactly; ``quiet`` leaves out the summary."""
    lines: list[str] = []
    for error in report.errors:
        lines.append(one_line(str(error)))
    for finding in report.findings:
        if finding.suppression is not None:
            continue  # counted in the summary; kept in JSON and SARIF
        lines.append(
            # A file name may hold anything, an escape sequence too: control characters are escaped.
            f"{one_line(finding.file)}:{finding.line}:{finding.column}: {finding.rule_id} "
            f"[{finding.level.value}] {finding.message}"
        )
    for entry in report.stale_baseline:
        lines.append(
            one_line(
                f"{entry.get('file')}: baseline entry {entry.get('ruleId')} for exemption "
                f"'{entry.get('exemption')}' no longer occurs; rewrite the baseline with --write-baseline"
            )
        )
    if not quiet:
        lines.append(summary(report))
    text = "".join(line + "\n" for line in lines)
    return _colorize(report, text) if color else text


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
