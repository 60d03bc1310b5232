"""The README's quick start is true: its output block is what the command prints, and CI runs
its test command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from exemptlint.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_quick_start_output_is_what_the_command_prints(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    command = re.search(r"&& \.venv/bin/exemptlint (check [^\n]+)\n", README)
    assert command is not None
    block = README.split("<!-- quick-start-output", 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(ROOT)
    assert main(command.group(1).split()) == 1
    assert capsys.readouterr().out == block


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    setup = "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]'"
    assert f"{setup} && .venv/bin/python -m pytest -q" in README
    assert setup in ci
    assert ".venv/bin/python -m pytest -q" in ci
