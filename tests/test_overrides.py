"""Per-path configuration: ``overrides`` entries change ``select`` and ``ignore`` (as well as
levels and options) for the files they match; the command line wins over them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from exemptlint import parallel
from exemptlint.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "rules"
TODAY = ["--today", "2026-11-24"]
# expired.json: EL005 at 11:5; far.json: EL004 at 11:5 (with every rule on, nothing else).
FILES = {"expired.json": "EL005-fail-expired.json", "far.json": "EL004-fail-too-far.json"}


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for folder in ("dev", "prod", "legacy"):
        (tmp_path / folder).mkdir()
        for name, fixture in FILES.items():
            shutil.copyfile(FIXTURES / fixture, tmp_path / folder / name)
    return tmp_path


def _findings(capsys: pytest.CaptureFixture[str], *args: str) -> list[tuple[str, str, int, int]]:
    code = main(["check", ".", *TODAY, "--format", "json", *args])
    report = json.loads(capsys.readouterr().out)
    assert code == (1 if report["findings"] else 0), report["errors"]
    # Every folder holds copies of the same exemptions: EL015 (duplicates) is not what these are about.
    return [(f["file"], f["ruleId"], f["line"], f["column"]) for f in report["findings"] if f["ruleId"] != "EL015"]


CONFIG = """\
select: [EL004]
overrides:
  - files: ["prod/**"]
    select: [EL004, EL005]
  - files: ["legacy/**"]
    select: [EL00]
    ignore: [EL004]
"""


def test_override_select_and_ignore_change_the_rules_per_path(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / ".exemptlint.yaml").write_text(CONFIG, encoding="utf-8")
    assert sorted(_findings(capsys)) == [
        ("dev/far.json", "EL004", 11, 5),  # top-level select: EL004 only
        ("legacy/expired.json", "EL005", 11, 5),  # EL00x, but EL004 ignored
        ("prod/expired.json", "EL005", 11, 5),  # EL004 and EL005
        ("prod/far.json", "EL004", 11, 5),
    ]


def test_without_config_every_file_has_its_finding(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert sorted(_findings(capsys)) == sorted(
        (f"{folder}/{name}", rule, 11, 5)
        for folder in ("dev", "prod", "legacy")
        for name, rule in (("expired.json", "EL005"), ("far.json", "EL004"))
    )


def test_later_overrides_replace_earlier_ones_and_ignore_alone(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / ".exemptlint.yaml").write_text(
        "ignore: [EL004]\n"
        "overrides:\n"
        "  - files: ['legacy/**', 'prod/**']\n    ignore: [EL005]\n"
        "  - files: ['prod/*.json']\n    ignore: []\n",
        encoding="utf-8",
    )
    assert sorted(_findings(capsys)) == [
        ("dev/expired.json", "EL005", 11, 5),
        ("legacy/far.json", "EL004", 11, 5),  # its ignore replaced the top-level one
        ("prod/expired.json", "EL005", 11, 5),  # the last matching override: nothing ignored
        ("prod/far.json", "EL004", 11, 5),
    ]


def test_command_line_wins_over_overrides(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".exemptlint.yaml").write_text(CONFIG, encoding="utf-8")
    assert sorted(_findings(capsys, "--select", "EL005")) == [
        (f"{folder}/expired.json", "EL005", 11, 5) for folder in ("dev", "legacy", "prod")
    ]
    # --ignore replaces every ignore (the legacy override's too); the selections stay.
    assert sorted(_findings(capsys, "--ignore", "EL005")) == [
        ("dev/far.json", "EL004", 11, 5),
        ("legacy/far.json", "EL004", 11, 5),
        ("prod/far.json", "EL004", 11, 5),
    ]


def test_sarif_lists_rules_only_an_override_selects(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".exemptlint.yaml").write_text(CONFIG, encoding="utf-8")
    assert main(["check", "dev", "prod", *TODAY, "--format", "sarif"]) == 1
    driver = json.loads(capsys.readouterr().out)["runs"][0]["tool"]["driver"]
    assert [rule["id"] for rule in driver["rules"]] == [f"EL{n:03d}" for n in range(1, 10)]


def test_overrides_in_worker_processes(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / ".exemptlint.yaml").write_text(CONFIG, encoding="utf-8")
    here = _findings(capsys, "--jobs", "1")
    monkeypatch.setattr(parallel, "MIN_FILES", 2)
    monkeypatch.setattr(parallel, "MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "available_cores", lambda: 2)
    started: list[int] = []
    original = parallel.lint_in_parallel
    monkeypatch.setattr(
        parallel, "lint_in_parallel", lambda files, *a, **k: started.append(len(files)) or original(files, *a, **k)
    )
    assert _findings(capsys) == here
    assert started == [7]  # the six exemption files and .exemptlint.yaml (YAML is checked by its loader)


def test_unresolved_notes_follow_the_override(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    template = Path(__file__).resolve().parents[1] / "examples" / "terraform" / "plan.json"
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        shutil.copyfile(template, tmp_path / folder / "plan.json")
    (tmp_path / ".exemptlint.yaml").write_text(
        "overrides:\n  - files: ['b/**']\n    ignore: [EL009]\n", encoding="utf-8"
    )
    found = _findings(capsys)
    assert ("a/plan.json", "EL009", 38, 11) in found
    assert [f for f in found if f[0] == "b/plan.json" and f[1] == "EL009"] == []
    assert {f[1] for f in found if f[0] == "b/plan.json"} == {f[1] for f in found if f[0] == "a/plan.json"} - {
        "EL009"
    }


def test_override_select_must_be_a_list(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".exemptlint.yaml").write_text(
        "overrides:\n  - files: ['prod/**']\n    select: 7\n", encoding="utf-8"
    )
    assert main(["check", ".", *TODAY]) == 2
    assert "error: overrides.0.select: Input should be a valid list" in capsys.readouterr().err


def test_unknown_ids_in_an_override_are_config_errors(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # As at the top level (issue 17, item 1): a misspelt id would quietly run fewer rules.
    (repo / ".exemptlint.yaml").write_text(
        'overrides:\n  - files: ["dev/*"]\n    select: [EL005]\n  - files: ["prod/*"]\n    ignore: [EL04]\n',
        encoding="utf-8",
    )
    assert main(["check", ".", *TODAY]) == 2
    assert capsys.readouterr().err == (
        ".exemptlint.yaml:5:1: error: overrides.1.ignore[0]: EL04 is not a rule id or prefix; "
        "did you mean EL004?\n"
    )
