"""Formatters: each module renders a finished ``Report``; the registry maps names to them."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from exemptlint.model import Exemption, Finding, Level, LoadError, Skipped

if TYPE_CHECKING:
    from exemptlint.audit.model import AuditData
    from exemptlint.rules.api import Rule

FORMATS: dict[str, str] = {
    "text": "exemptlint.report.text",
    "concise": "exemptlint.report.concise",
    "json": "exemptlint.report.json_report",
    "sarif": "exemptlint.report.sarif",
    "github": "exemptlint.report.github",
    "junit": "exemptlint.report.junit",
    "markdown": "exemptlint.report.markdown",
    "html": "exemptlint.report.html",
    "csv": "exemptlint.report.csv_report",
}


@dataclass(frozen=True)
class Report:
    version: str
    today: str
    files: Sequence[str]
    exemptions: Sequence[Exemption]
    findings: Sequence[Finding]
    errors: Sequence[LoadError]
    rules: Sequence[Rule]
    # The directory file paths are relative to (the working directory): SARIF's %SRCROOT%.
    root: str = "."
    # Baseline entries (``BaselineEntry.to_json()``) that matched no finding: remove them.
    stale_baseline: Sequence[Mapping[str, object]] = ()
    # Levels the config sets per rule (SARIF shows them as each rule's configured level).
    levels: Mapping[str, Level] = field(default_factory=dict)
    # When the exemptions were linted in worker processes, ``exemptions`` holds only what the
    # requested formats need: their number is here, and, when a JSON report was asked for, each
    # one's ``Exemption.to_json()`` as compact JSON text (written by the workers) in
    # ``exemption_json``.
    exemption_count: int | None = None
    exemption_json: Sequence[str] | None = None
    # Resources, nested deployments and modules not deployed with the values known: not linted.
    skipped: Sequence[Skipped] = ()
    # Set by ``exemptlint audit``: the deployed state, its comparison with the code, Defender's view.
    audit: AuditData | None = None

    @property
    def checked(self) -> int:
        """How many exemptions were checked."""
        return self.exemption_count if self.exemption_count is not None else len(self.exemptions)

    def count(self, level: Level) -> int:
        """Findings at ``level`` that count (suppressed ones do not)."""
        return sum(1 for f in self.findings if f.level == level and f.suppression is None)

    @property
    def suppressed(self) -> int:
        return sum(1 for f in self.findings if f.suppression is not None)


Renderer = Callable[[Report, bool], str]


def renderer(name: str) -> Renderer:
    """The ``render(report, color)`` function of format ``name`` (imported on demand)."""
    module = importlib.import_module(FORMATS[name])
    render: Renderer = module.render
    return render
