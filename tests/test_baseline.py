"""Baselines and several outputs in one run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from exemptlint.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "rules"
TODAY = ["--today", "2026-11-24"]


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    shutil.copyfile(FIXTURES / "EL005-fail-expired.json", tmp_path / "old.json")
    shutil.copyfile(FIXTURES / "EL002-fail-unknown-category.json", tmp_path / "older.json")
    # Both files hold variants of one exemption: EL015 (duplicates) is not what these tests are about.
    (tmp_path / ".exemptlint.yaml").write_text("ignore: [EL015]\n", encoding="utf-8")
    return tmp_path


def test_write_baseline_then_only_new_findings_fail(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", *TODAY, "--write-baseline", "baseline.json"]) == 0
    baseline = json.loads((repo / "baseline.json").read_text(encoding="utf-8"))
    assert baseline["version"] == 1
    assert sorted(e["ruleId"] for e in baseline["findings"]) == ["EL002", "EL005"]
    capsys.readouterr()

    # Adopted: the recorded findings no longer fail the run, but are counted.
    assert main(["check", *TODAY, "--baseline", "baseline.json"]) == 0
    assert capsys.readouterr().out.endswith("0 errors, 0 warnings, 0 notes (2 suppressed).\n")

    # A new bad exemption fails; the old ones stay quiet.
    shutil.copyfile(FIXTURES / "EL004-fail-too-far.json", repo / "new.json")
    assert main(["check", *TODAY, "--baseline", "baseline.json", "--format", "concise"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("new.json:11:5: EL004 [error]")
    assert "old.json" not in out


def test_stale_baseline_entries_are_listed(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["check", *TODAY, "--write-baseline", "baseline.json"])
    (repo / "older.json").unlink()
    capsys.readouterr()
    assert main(["check", *TODAY, "--baseline", "baseline.json", "--format", "concise"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        "older.json: baseline entry EL002 for exemption 'app-tls' no longer occurs; "
        "rewrite the baseline with --write-baseline"
    )
    assert main(["check", *TODAY, "--baseline", "baseline.json"]) == 0
    assert capsys.readouterr().out == (
        "Baseline entries that no longer occur (rewrite the baseline with --write-baseline):\n"
        "  older.json  EL002  exemption 'app-tls'\n"
        "\n"
        "Checked 1 exemption in 3 files: 0 errors, 0 warnings, 0 notes (1 suppressed).\n"
    )
    assert main(["check", *TODAY, "--baseline", "baseline.json", "--format", "json", "--output", "r.json"]) == 0
    report = json.loads((repo / "r.json").read_text(encoding="utf-8"))
    assert [e["ruleId"] for e in report["staleBaseline"]] == ["EL002"]
    (finding,) = report["findings"]
    assert finding["suppression"] == {"kind": "external", "justification": "recorded in the baseline baseline.json"}


def test_bad_baseline_is_an_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "baseline.json").write_text("{not json", encoding="utf-8")
    assert main(["check", *TODAY, "--baseline", "baseline.json", "--format", "concise"]) == 2
    assert "baseline.json:1:2: error: invalid baseline JSON" in capsys.readouterr().out
    assert main(["check", *TODAY, "--baseline", "missing.json"]) == 2


def test_several_outputs_in_one_run(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", *TODAY, "--output", "json=r.json", "--sarif-file", "r.sarif", "--format", "concise"])
    assert code == 1
    out = capsys.readouterr().out
    assert out.startswith("old.json:11:5: EL005 [error]")  # text for people on standard output
    assert json.loads((repo / "r.json").read_text(encoding="utf-8"))["summary"]["findings"]["error"] == 2
    assert json.loads((repo / "r.sarif").read_text(encoding="utf-8"))["version"] == "2.1.0"


def test_output_file_replaces_standard_output(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", *TODAY, "--output", "report.txt", "--output", "json=r.json"]) == 1
    assert capsys.readouterr().out == ""
    assert (repo / "report.txt").read_text(encoding="utf-8").startswith("old.json\n  11:5  error  EL005  exemption")
    assert main(["check", *TODAY, "--output", "json="]) == 2
