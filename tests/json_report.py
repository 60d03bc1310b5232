"""Reading findings out of a JSON report (``exemptlint check --format json``), shared by tests."""

from __future__ import annotations

import json
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


def check_json(
    tmp_path: Path, *paths: Path | str, config: str | None = None, jobs: str = "1", today: str = "2026-11-24"
) -> dict[str, Any]:
    """The JSON report of ``exemptlint check`` on ``paths`` (with ``config`` as the config file's
    text), which must have no load error."""
    from exemptlint.cli import main

    out = tmp_path / "report.json"
    args = ["check", *(str(p) for p in paths), "--today", today, "--format", "json"]
    args += ["--output", str(out), "--jobs", jobs]
    if config is not None:
        file = tmp_path / "exemptlint.yaml"
        file.write_text(config, encoding="utf-8")
        args += ["--config", str(file)]
    assert main(args) in (0, 1)
    document: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    assert document["errors"] == []
    return document
