"""Formatters: each module renders a finished ``Report``; the registry maps names to them."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from exemptlint.model import Exemption, Finding, Level, LoadError
from exemptlint.rules.api import Rule

FORMATS: dict[str, str] = {
    "text": "exemptlint.report.text",
    "json": "exemptlint.report.json_report",
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

    def count(self, level: Level) -> int:
        return sum(1 for f in self.findings if f.level == level)


Renderer = Callable[[Report, bool], str]


def renderer(name: str) -> Renderer:
    """The ``render(report, color)`` function of format ``name`` (imported on demand)."""
    module = importlib.import_module(FORMATS[name])
    render: Renderer = module.render
    return render
