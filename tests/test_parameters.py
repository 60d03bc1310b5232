"""--parameters takes ARM parameters files (JSON, JSONC, YAML) and .bicepparam files; the values
apply to every ARM template and Bicep file of the run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from exemptlint.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "parameters"
TODAY = ["--today", "2026-11-24"]
# expiresOn is the parameter `expiry` in both files: at 15:9 in the template, at 8:5 in Bicep.
UNRESOLVED = [("expiry.bicep", "EL009", 8, 5), ("expiry.template.json", "EL009", 15, 9)]
EXPIRED = [("expiry.bicep", "EL005", 8, 5), ("expiry.template.json", "EL005", 15, 9)]

PARAMETER_FILES = {
    "p.json": '{"parameters": {"expiry": {"value": "2026-01-01T00:00:00Z"}}}',
    "p.jsonc": '// for the test\n{"parameters": {"expiry": {"value": "2026-01-01T00:00:00Z"},}}',
    "p.yaml": "# as the JSON form\nparameters:\n  expiry:\n    value: '2026-01-01T00:00:00Z'\n",
    "p.yml": "$schema: https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#\n"
    "contentVersion: 1.0.0.0\nparameters: {expiry: {value: '2026-01-01T00:00:00Z'}}\n",
    "p.bicepparam": "using 'elsewhere.bicep'\nvar year = '2026'\nparam expiry = '${year}-01-01T00:00:00Z'\n",
}


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "src").mkdir()
    for name in ("expiry.template.json", "expiry.bicep"):
        shutil.copyfile(FIXTURES / name, tmp_path / "src" / name)
    return tmp_path


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = main(["check", "src", *TODAY, "--format", "json", *args])
    return code, json.loads(capsys.readouterr().out)


def _findings(report: dict) -> list[tuple[str, str, int, int]]:  # type: ignore[type-arg]
    return [(Path(f["file"]).name, f["ruleId"], f["line"], f["column"]) for f in report["findings"]]


def test_without_parameters_the_value_is_unresolved(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = _run(capsys)
    assert code == 0 and _findings(report) == UNRESOLVED


@pytest.mark.parametrize("name", sorted(PARAMETER_FILES))
def test_every_parameters_format_applies_to_arm_and_bicep(
    workdir: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    (workdir / name).write_text(PARAMETER_FILES[name], encoding="utf-8")
    code, report = _run(capsys, "--parameters", name)
    assert report["errors"] == []
    assert code == 1 and _findings(report) == EXPIRED


def test_later_parameters_files_win(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "p.bicepparam").write_text(PARAMETER_FILES["p.bicepparam"], encoding="utf-8")
    (workdir / "later.yaml").write_text("parameters: {expiry: {value: '2027-03-01T00:00:00Z'}}\n", encoding="utf-8")
    code, report = _run(capsys, "--parameters", "p.bicepparam", "--parameters", "later.yaml")
    assert code == 0 and report["findings"] == []


@pytest.mark.parametrize(
    ("name", "text", "error"),
    [
        ("bad.yaml", "parameters:\n  expiry: [unclosed\n", ("bad.yaml", 3, 1)),
        ("bad.bicepparam", "using 'x.bicep'\nparam expiry = = 'x'\n", ("bad.bicepparam", 2, 16)),
        ("bad.json", '{"parameters": {', ("bad.json", 1)),
    ],
)
def test_a_broken_parameters_file_is_a_one_line_error(
    workdir: Path, capsys: pytest.CaptureFixture[str], name: str, text: str, error: tuple[object, ...]
) -> None:
    (workdir / name).write_text(text, encoding="utf-8")
    code, report = _run(capsys, "--parameters", name)
    assert code == 2
    (problem,) = report["errors"]
    assert (problem["file"], problem["line"], problem["column"])[: len(error)] == error
    assert "\n" not in problem["message"]
    # The templates are still linted, without the values.
    assert _findings(report) == UNRESOLVED
