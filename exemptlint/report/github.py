"""GitHub Actions workflow commands: one ``::error``/``::warning``/``::notice`` line per finding.

The runner turns each line into an annotation on the pull request's diff. Values are escaped as
the runner's own toolkit does (``escapeData``/``escapeProperty`` in ``@actions/core``): ``%``,
CR and LF in the message; additionally ``:`` and ``,`` in property values, which delimit the
command. Nothing a file contains can therefore end a command early or start another one. The
last line is the plain-text summary, not a command.
"""

from __future__ import annotations

from exemptlint.model import Level
from exemptlint.report import Report
from exemptlint.report.text import summary

COMMANDS = {Level.ERROR: "error", Level.WARNING: "warning", Level.NOTE: "notice"}


def escape_data(text: str) -> str:
    """A message (the part after ``::``)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property value (``file=``, ``title=``...)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(
    name: str, file: str, line: int, column: int, end_column: int | None, title: str, message: str
) -> str:
    end = end_column if end_column is not None and end_column > column else column + 1
    return (
        f"::{name} file={escape_property(file)},line={line},col={column},endColumn={end},"
        f"title={escape_property(title)}::{escape_data(message)}"
    )


def render(report: Report, color: bool) -> str:
    lines: list[str] = []
    for error in report.errors:
        lines.append(
            command("error", error.file, error.line, error.column, None, "exemptlint", error.message)
        )
    for finding in report.findings:
        if finding.suppression is not None:
            continue  # counted in the summary
        lines.append(
            command(
                COMMANDS[finding.level],
                finding.file,
                finding.line,
                finding.column,
                finding.end_column,
                f"{finding.rule_id} {finding.rule_name}",
                finding.message,
            )
        )
    for entry in report.stale_baseline:
        lines.append(
            command(
                "notice",
                str(entry.get("file")),
                1,
                1,
                None,
                "exemptlint baseline",
                f"baseline entry {entry.get('ruleId')} for exemption '{entry.get('exemption')}' "
                "no longer occurs; rewrite the baseline with --write-baseline",
            )
        )
    lines.append(summary(report))
    return "\n".join(lines) + "\n"
