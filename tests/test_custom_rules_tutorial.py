"""docs/custom-rules.md's tutorial is true: its files, run with its command, print its output."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from exemptlint.cli import main

DOC = (Path(__file__).resolve().parents[1] / "docs" / "custom-rules.md").read_text(encoding="utf-8")


def test_tutorial_runs_as_documented(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    files = re.findall(r"<!-- file: (\S+) -->\n```\w*\n(.*?)```\n", DOC, re.DOTALL)
    assert {name for name, _ in files} == {
        "exemptions/app.json",
        "team-rules/ticket.yaml",
        "team-plugins/requester_domain.py",
        ".exemptlint.yaml",
    }
    for name, text in files:
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    command = DOC.split("<!-- tutorial-command -->\n```sh\n", 1)[1].split("\n```", 1)[0]
    output = DOC.split("<!-- tutorial-output -->\n```text\n", 1)[1].split("```", 1)[0]
    assert command.startswith("exemptlint ")
    monkeypatch.chdir(tmp_path)
    assert main(command.split()[1:]) == 1
    assert capsys.readouterr().out == output
    assert main(["rules", "TEAM002"]) == 0
    assert '  domain: str = "example.com"' in capsys.readouterr().out
