"""The command line, called through ``main(argv)``: output formats, exit codes, config, bad input."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from exemptlint import __version__
from exemptlint.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "rules"
TODAY = ["--today", "2026-11-24"]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory, so no config above the repository is found."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def copy(name: str, into: Path, as_name: str | None = None) -> Path:
    target = into / (as_name or name)
    shutil.copyfile(FIXTURES / name, target)
    return target


def test_text_output_lines_and_summary(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy("EL005-fail-expired.json", workdir, "expired.json")
    copy("pass-baseline.json", workdir, "good.json")
    assert main(["check", ".", *TODAY]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "expired.json:11:5: EL005 [error] exemption 'app-tls' expired on 2026-10-31 (24 days ago); "
        "renew it with a new review or delete it",
        "Checked 2 exemptions in 2 files: 1 error, 0 warnings, 0 notes.",
    ]


def test_no_findings_exit_zero_and_quiet(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy("pass-baseline.json", workdir)
    assert main(["check", *TODAY, "--quiet"]) == 0
    assert capsys.readouterr().out == ""


def test_fail_on_levels(workdir: Path) -> None:
    copy("EL002-warn-lower-case.json", workdir)
    assert main(["check", *TODAY]) == 0
    assert main(["check", *TODAY, "--fail-on", "warning"]) == 1
    assert main(["check", *TODAY, "--fail-on", "note"]) == 1


def test_select_and_ignore(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy("EL005-fail-expired.json", workdir)
    assert main(["check", *TODAY, "--ignore", "EL005"]) == 0
    assert main(["check", *TODAY, "--select", "EL001,EL002"]) == 0
    assert main(["check", *TODAY, "--select", "EL00"]) == 1


def test_json_output_to_file(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy("EL004-fail-too-far.json", workdir, "far.json")
    assert main(["check", ".", *TODAY, "--format", "json", "--output", "report.json"]) == 1
    assert capsys.readouterr().out == ""
    report = json.loads((workdir / "report.json").read_text(encoding="utf-8"))
    assert report["schemaVersion"] == 1
    assert report["tool"] == {"name": "exemptlint", "version": __version__}
    assert report["today"] == "2026-11-24"
    assert report["files"] == ["far.json"]
    assert report["summary"] == {
        "files": 1,
        "exemptions": 1,
        "findings": {"error": 1, "warning": 0, "note": 0},
        "suppressed": 0,
        "loadErrors": 0,
    }
    (finding,) = report["findings"]
    assert finding == {
        "ruleId": "EL004",
        "ruleName": "expiry-bounded",
        "level": "error",
        "message": "expiresOn 2028-06-30 is 584 days after today (2026-11-24); the limit is 365 days",
        "file": "far.json",
        "line": 11,
        "column": 5,
        "exemption": "app-tls",
        "property": "expiresOn",
        "fingerprint": finding["fingerprint"],
        "suppression": None,
    }
    assert len(finding["fingerprint"]) == 32
    (exemption,) = report["exemptions"]
    assert exemption["name"] == "app-tls"
    assert exemption["scopeLevel"] == "resourceGroup"
    assert exemption["source"]["line"] == 1
    assert exemption["source"]["properties"]["expiresOn"] == {"line": 11, "column": 5}
    assert exemption["properties"]["exemptionCategory"] == "Mitigated"
    # No half-written temporary file is left behind.
    assert sorted(p.name for p in workdir.iterdir()) == ["far.json", "report.json"]


def test_unresolved_values_in_json_output(workdir: Path) -> None:
    shutil.copyfile(
        Path(__file__).parent / "fixtures" / "arm" / "no-parameter-value.json", workdir / "t.json"
    )
    assert main(["check", *TODAY, "--format", "json", "--output", "r.json"]) == 0
    report = json.loads((workdir / "r.json").read_text(encoding="utf-8"))
    (exemption,) = report["exemptions"]
    assert exemption["properties"]["expiresOn"] == {
        "unresolved": "[parameters('expiry')]",
        "reason": "parameter 'expiry' has no default value and no value was supplied",
        "partial": None,
    }
    assert [f["ruleId"] for f in report["findings"]] == ["EL009"]


def test_bad_file_is_reported_and_other_files_still_linted(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "broken.json").write_text(
        '{\n  "properties": {"exemptionCategory": "Waiver"\n', encoding="utf-8"
    )
    copy("EL005-fail-expired.json", workdir, "expired.json")
    assert main(["check", *TODAY]) == 2
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "broken.json:3:1: error: invalid JSON: Expecting ',' delimiter"
    assert out[1].startswith("expired.json:11:5: EL005 [error]")
    assert out[2].endswith("; 1 file could not be read.")


def test_missing_path_and_bad_arguments(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "nope.json", *TODAY]) == 2
    assert "nope.json:1:1: error: no such file or directory" in capsys.readouterr().out
    assert main(["check", "--today", "24/11/2026"]) == 2
    assert "is not a date" in capsys.readouterr().err
    assert main(["check", "--format", "xml"]) == 2
    assert main([]) == 2


def test_input_files_are_never_changed(workdir: Path) -> None:
    target = copy("EL008-fail-missing-assignment.json", workdir)
    before = hashlib.sha256(target.read_bytes()).hexdigest()
    main(["check", *TODAY, "--format", "json", "--output", "out.json"])
    assert hashlib.sha256(target.read_bytes()).hexdigest() == before


def test_parameters_option(workdir: Path) -> None:
    shutil.copyfile(
        Path(__file__).parent / "fixtures" / "arm" / "no-parameter-value.json", workdir / "t.json"
    )
    (workdir / "p.json").write_text(
        json.dumps({"parameters": {"expiry": {"value": "2026-11-01T00:00:00Z"}}}), encoding="utf-8"
    )
    assert (
        main(["check", "t.json", *TODAY, "--parameters", "p.json", "--format", "json", "--output", "r.json"])
        == 1
    )
    report = json.loads((workdir / "r.json").read_text(encoding="utf-8"))
    assert [(f["ruleId"], f["line"], f["column"]) for f in report["findings"]] == [("EL005", 16, 9)]


def test_rules_command_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [f"EL{n:03d}" for n in range(1, 14)]
    assert lines[3].split()[1:3] == ["expiry-bounded", "error"]
    assert main(["--version"]) == 0
    # The version, then where the packaged catalog comes from (its source commit).
    assert capsys.readouterr().out.splitlines() == [
        f"exemptlint {__version__}",
        "catalog: Azure/azure-policy@f4a50bacae07ddb096943c597669bcae494a6e29 (date not recorded)",
    ]


# --- configuration -------------------------------------------------------------------------


def test_config_found_upwards_sets_today_options_and_levels(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (workdir / ".exemptlint.yaml").write_text(
        "today: 2026-11-24\nrules:\n  EL004:\n    max-days: 90\n  EL005:\n    level: warning\n",
        encoding="utf-8",
    )
    sub = workdir / "deep" / "er"
    sub.mkdir(parents=True)
    copy("pass-baseline.json", sub)
    copy("EL005-fail-expired.json", sub)
    monkeypatch.chdir(sub)
    assert main(["check", "--format", "json", "--output", "r.json"]) == 1
    report = json.loads((sub / "r.json").read_text(encoding="utf-8"))
    found = sorted((f["file"], f["ruleId"], f["level"]) for f in report["findings"])
    assert found == [
        ("EL005-fail-expired.json", "EL005", "warning"),
        ("pass-baseline.json", "EL004", "error"),
    ]


def test_config_assignments_map_resolves_el010(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy("EL010-fail-unknown-assignment.json", workdir)
    assert main(["check", *TODAY, "--fail-on", "warning"]) == 1
    (workdir / ".exemptlint.yaml").write_text(
        "assignments:\n  team-baseline: 1f3afdf9-d0c9-4c3d-847f-89da613e70a8\n", encoding="utf-8"
    )
    assert main(["check", *TODAY, "--fail-on", "warning"]) == 0


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("today: 2026-11-24\nfial-on: error\n", ".exemptlint.yaml:2:1: error: fial-on: unknown setting"),
        (
            "rules:\n  EL004:\n    max-day: 3\n",
            ".exemptlint.yaml:3:1: error: rules.EL004.max-day: unknown option",
        ),
        ("rules:\n  EL099: {}\n", ".exemptlint.yaml:2:1: error: rules.EL099: no such rule"),
        (
            "rules:\n  EL004:\n    max-days: many\n",
            ".exemptlint.yaml:3:1: error: rules.EL004.max-days: Input should be",
        ),
        (
            "rules:\n  EL007:\n    allowed-levels: {'*': [managementgroup]}\n",
            ".exemptlint.yaml:3:1: error: rules.EL007.allowed-levels",
        ),
        ("select: [EL001\n", ".exemptlint.yaml:2:1: error: invalid YAML"),
        ("- a list\n", ".exemptlint.yaml:1:1: error: the config must be a mapping"),
        (
            "!!python/object:os.system {}\n",
            ".exemptlint.yaml:1:1: error: YAML tag 'tag:yaml.org,2002:python/object",
        ),
        ("a: 1\nselect: [!!python/name:os.system ]\n", ".exemptlint.yaml:2:1: error: YAML tag"),
    ],
)
def test_config_errors_name_file_line_and_key(
    workdir: Path, capsys: pytest.CaptureFixture[str], config: str, message: str
) -> None:
    (workdir / ".exemptlint.yaml").write_text(config, encoding="utf-8")
    copy("pass-baseline.json", workdir)
    assert main(["check", *TODAY]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message), err
    assert len(err.strip().splitlines()) == 1


def test_pyproject_config(workdir: Path) -> None:
    (workdir / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.exemptlint]\ntoday = 2026-11-24\nignore = ["EL005"]\n',
        encoding="utf-8",
    )
    copy("EL005-fail-expired.json", workdir)
    assert main(["check"]) == 0


def test_explicit_config_file(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "strict.yaml").write_text("rules:\n  EL004:\n    max-days: 30\n", encoding="utf-8")
    copy("pass-baseline.json", workdir)
    assert main(["check", *TODAY, "--config", "strict.yaml"]) == 1
    assert main(["check", *TODAY, "--config", "missing.yaml"]) == 2
    assert "missing.yaml:1:1: error: config file not found" in capsys.readouterr().err


def test_exclude_patterns(workdir: Path) -> None:
    (workdir / "legacy").mkdir()
    copy("EL005-fail-expired.json", workdir / "legacy")
    (workdir / ".exemptlint.yaml").write_text("exclude: ['legacy/*']\n", encoding="utf-8")
    assert main(["check", *TODAY]) == 0
    assert main(["check", str(workdir), *TODAY]) == 0


def test_files_of_other_formats_named_explicitly_are_skipped(workdir: Path) -> None:
    (workdir / "README.md").write_text("# Exemptions\nSee policyExemptions and exemptionCategory.\n")
    (workdir / "costs.csv").write_text("subscription,cost\nx,10\n")
    copy("EL005-fail-expired.json", workdir, "az-output.txt")
    assert main(["check", "README.md", "costs.csv", *TODAY]) == 0
    # JSON content with another name is still read (detected from content).
    assert main(["check", "az-output.txt", *TODAY]) == 1


def test_bicep_modules_are_linted_through_their_parent_only(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    assert main(["check", "examples/bicep", *TODAY, "--no-color"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "examples/bicep/modules/exemption.bicep:15:5: EL004 [error] expiresOn 2028-01-01 is 403 days after "
        "today (2026-11-24); the limit is 365 days [module perGroup (for index 1)]",
        "examples/bicep/modules/exemption.bicep:17:5: EL006 [error] description is 3 characters; at least 20 "
        "are needed to explain the exemption [module perGroup (for index 1)]",
        "Checked 2 exemptions in 2 files: 2 errors, 0 warnings, 0 notes.",
    ]
    # The module on its own still gets linted (its parameters have no values: EL009 notes).
    assert main(["check", "examples/bicep/modules/exemption.bicep", *TODAY, "--fail-on", "note"]) == 1


def test_values_with_line_breaks_stay_on_the_finding_line(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Messages quote values from the file; a line break or control character in a value is
    written as an escape, so one finding is one line (found by the fuzz campaigns)."""
    exemption = json.loads((FIXTURES / "pass-baseline.json").read_text(encoding="utf-8"))
    exemption["properties"]["exemptionCategory"] = "Wai\nver\u2028"
    (workdir / "odd.json").write_text(json.dumps(exemption), encoding="utf-8")
    assert main(["check", "odd.json", *TODAY, "--quiet"]) == 1
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("odd.json:1:") and " EL002 [error] " in line
    assert "'Wai\\nver\\u2028'" in line
