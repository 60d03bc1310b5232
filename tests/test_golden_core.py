"""Golden files for the text and JSON formats (the other formats: test_ci_formats.py, test_sarif.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exemptlint.cli import main
from tests.test_ci_formats import REPO, check_golden, normalise


@pytest.mark.parametrize("fmt", ["text", "concise", "json"])
def test_examples_golden(fmt: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(REPO)
    out = tmp_path / "report"
    assert main(["check", "examples", "--today", "2026-11-24", "--format", fmt, "--output", str(out)]) == 1
    text = out.read_text(encoding="utf-8")
    check_golden(normalise(text), f"{fmt}/examples.{'json' if fmt == 'json' else 'txt'}")
    if fmt == "json":
        document = json.loads(text)
        assert set(document) == {
            "schemaVersion",
            "tool",
            "today",
            "files",
            "summary",
            "exemptions",
            "findings",
            "staleBaseline",
            "errors",
            "skipped",
        }
        counted = [f["level"] for f in document["findings"] if f["suppression"] is None]
        assert document["summary"]["findings"] == {
            level: counted.count(level) for level in ("error", "warning", "note")
        }
        assert document["summary"]["findings"]["error"] >= 9
        assert all({"ruleId", "line", "column", "fingerprint"} <= set(f) for f in document["findings"])


def test_sarif_shows_configured_levels(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".exemptlint.yaml").write_text("rules:\n  EL010:\n    level: error\n", encoding="utf-8")
    (tmp_path / "x.json").write_text((REPO / "examples" / "good-exemption.json").read_text(encoding="utf-8"))
    assert main(["check", "--today", "2026-11-24", "--format", "sarif", "--output", "r.sarif"]) == 0
    rules = json.loads((tmp_path / "r.sarif").read_text(encoding="utf-8"))["runs"][0]["tool"]["driver"][
        "rules"
    ]
    levels = {r["id"]: r["defaultConfiguration"]["level"] for r in rules}
    assert levels["EL010"] == "error"
    assert levels["EL009"] == "note"


def test_sarif_lists_only_the_rules_that_ran(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(REPO)
    out = tmp_path / "r.sarif"
    main(
        [
            "check",
            "examples",
            "--today",
            "2026-11-24",
            "--select",
            "EL004,EL005",
            "--format",
            "sarif",
            "--output",
            str(out),
        ]
    )
    log = json.loads(out.read_text(encoding="utf-8"))
    assert [r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]] == ["EL004", "EL005"]
    assert {r["ruleId"] for r in log["runs"][0]["results"]} == {"EL004", "EL005"}
