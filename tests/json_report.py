"""Reading findings out of a JSON report (``exemptlint check --format json``), shared by tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def located(document: dict[str, Any], *rules: str) -> list[tuple[str, str, str, int, int]]:
    """(file name, rule, level, line, column) of each finding of ``rules``, in report order."""
    return [
        (Path(f["file"]).name, f["ruleId"], f["level"], f["line"], f["column"])
        for f in document["findings"]
        if f["ruleId"] in rules
    ]


def messages(document: dict[str, Any], rule: str) -> list[str]:
    return [f["message"] for f in document["findings"] if f["ruleId"] == rule]
