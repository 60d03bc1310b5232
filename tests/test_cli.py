"""The command line, called through ``main(argv)``: output formats, exit codes, config, bad input."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from exemptlint import __version__
from exemptlint.cli import main
from exemptlint.rules import BUILTIN_RULES

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


def test_text_output_groups_findings_by_file(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy("EL005-fail-expired.json", workdir, "expired.json")
    copy("EL002-warn-lower-case.json", workdir, "lower.json")
    copy("pass-baseline.json", workdir, "good.json")
    (workdir / "broken.json").write_text(
        '{\n  "properties": {"exemptionCategory": "Waiver"\n', encoding="utf-8"
    )
    # The three fixtures are variants of one exemption: EL015 (duplicates) is not what this is about.
    assert main(["check", ".", *TODAY, "--ignore", "EL015"]) == 2
    assert capsys.readouterr().out == (
        "broken.json\n"
        "   3:1  error           invalid JSON: Expecting ',' delimiter\n"
        "\n"
        "expired.json\n"
        "  11:5  error    EL005  exemption 'app-tls' expired on 2026-10-31 (24 days ago);\n"
        "                        renew it with a new review or delete it\n"
        "\n"
        "lower.json\n"
        "  10:5  warning  EL002  exemptionCategory 'waiver' should be spelled 'Waiver'\n"
        "                        (the API accepts any case; reports and queries compare\n"
        "                        the canonical spelling)\n"
        "\n"
        "Checked 3 exemptions in 4 files: 1 error, 1 warning, 0 notes; 1 file could not be read.\n"
    )
    # Every line fits 80 columns (a word longer than a line, such as a resource id, would be kept whole).
    assert main(["check", ".", *TODAY, "--quiet", "--ignore", "EL015"]) == 2
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 80
    assert out.endswith("                        the canonical spelling)\n")


def test_concise_output_is_one_line_per_finding(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy("EL005-fail-expired.json", workdir, "expired.json")
    copy("pass-baseline.json", workdir, "good.json")
    assert main(["check", ".", *TODAY, "--format", "concise"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "expired.json:11:5: EL005 [error] exemption 'app-tls' expired on 2026-10-31 (24 days ago); "
        "renew it with a new review or delete it",
        # The two files define the same exemption.
        "good.json:3:3: EL015 [warning] exemption 'app-tls' exempts the same assignment, scope and reference "
        "ids as exemption 'app-tls' (expired.json:3:3), under the same name: the one deployed last replaces "
        "the other; 'app-tls' expires later (2027-03-31, 'app-tls' on 2026-10-31)",
        "Checked 2 exemptions in 2 files: 1 error, 1 warning, 0 notes.",
    ]
    assert main(["check", ".", *TODAY, "--format", "concise", "--quiet"]) == 1
    assert capsys.readouterr().out.splitlines() == out[:2]


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
    assert main(["check", *TODAY, "--format", "concise"]) == 2
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "broken.json:3:1: error: invalid JSON: Expecting ',' delimiter"
    assert out[1].startswith("expired.json:11:5: EL005 [error]")
    assert out[2].endswith("; 1 file could not be read.")


def test_missing_path_and_bad_arguments(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "nope.json", *TODAY, "--format", "concise"]) == 2
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
    assert [line.split()[0] for line in lines] == [f"EL{n:03d}" for n in range(1, 16)]
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
        ("pass-baseline.json", "EL015", "warning"),  # both files define exemption 'app-tls'
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
        (
            "rules:\n  EL099: {}\n",
            ".exemptlint.yaml:2:1: error: rules.EL099: EL099 is not a rule; did you mean EL009?",
        ),
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
    assert main(["check", "examples/bicep", *TODAY, "--format", "concise"]) == 1
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
    assert main(["check", "odd.json", *TODAY, "--quiet", "--format", "concise"]) == 1
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("odd.json:1:") and " EL002 [error] " in line
    assert "'Wai\\nver\\u2028'" in line


# Unknown rule ids are usage errors wherever they are accepted (issue 17, item 1) ----------------


def _no_report_written(workdir: Path) -> None:
    assert not (workdir / "r.json").exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["--select", "EL4"],
            "exemptlint: error: --select: EL4 is not a rule id or prefix; did you mean EL004?",
        ),
        (
            ["--ignore", "ELL007"],
            "exemptlint: error: --ignore: ELL007 is not a rule id or prefix; did you mean EL007?",
        ),
        (
            ["--ignore", "EL005,EL0006"],
            "exemptlint: error: --ignore: EL0006 is not a rule id or prefix; did you mean EL006?",
        ),
        (
            ["--select", "expired"],
            "exemptlint: error: --select: expired is not a rule id or prefix; did you mean EL005?",
        ),
        (
            ["--select", ","],
            "exemptlint: error: --select: no rule id given (an empty selection would run no rule)",
        ),
        (
            ["--select", "XYZ"],
            "exemptlint: error: --select: XYZ is not a rule id or prefix; the rules are "
            + ", ".join(rule.id for rule in BUILTIN_RULES),
        ),
    ],
)
def test_unknown_rule_ids_on_the_command_line_are_usage_errors(
    workdir: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    copy("EL005-fail-expired.json", workdir)
    assert main(["check", *TODAY, *arguments, "--format", "json", "--output", "r.json"]) == 2
    captured = capsys.readouterr()
    assert captured.err == message + "\n"
    assert captured.out == ""
    _no_report_written(workdir)


def test_rule_id_prefixes_that_match_keep_working(workdir: Path) -> None:
    copy("EL005-fail-expired.json", workdir)
    assert main(["check", *TODAY, "--select", "el00"]) == 1
    assert main(["check", *TODAY, "--select", "EL0", "--ignore", "EL00"]) == 0
    assert main(["check", *TODAY, "--ignore", "EL"]) == 0


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            "select:\n  - EL005\n  - EL4\n",
            ".exemptlint.yaml:3:1: error: select[1]: EL4 is not a rule id or prefix; did you mean EL004?",
        ),
        (
            "select: []\n",
            ".exemptlint.yaml:1:1: error: select: no rule id given (an empty selection would run no rule)",
        ),
        (
            "today: 2026-11-24\nignore: [EL009, ELL007]\n",
            ".exemptlint.yaml:2:1: error: ignore[1]: ELL007 is not a rule id or prefix; did you mean EL007?",
        ),
        ("ignore: ['']\n", ".exemptlint.yaml:1:1: error: ignore[0]: an empty rule id"),
        (
            "rules:\n  EL04: {level: note}\n",
            ".exemptlint.yaml:2:1: error: rules.EL04: EL04 is not a rule; did you mean EL004?",
        ),
        (
            "overrides:\n  - files: ['*']\n    rules:\n      EL0005: {level: note}\n",
            ".exemptlint.yaml:4:1: error: overrides.0.rules.EL0005: EL0005 is not a rule; did you mean EL005?",
        ),
    ],
)
def test_unknown_rule_ids_in_the_config_are_errors(
    workdir: Path, capsys: pytest.CaptureFixture[str], config: str, message: str
) -> None:
    (workdir / ".exemptlint.yaml").write_text(config, encoding="utf-8")
    copy("EL005-fail-expired.json", workdir)
    assert main(["check", *TODAY, "--format", "json", "--output", "r.json"]) == 2
    assert capsys.readouterr().err == message + "\n"
    _no_report_written(workdir)


def test_unknown_rule_ids_in_pyproject_are_errors(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "pyproject.toml").write_text('[tool.exemptlint]\nselect = ["EL4"]\n', encoding="utf-8")
    copy("EL005-fail-expired.json", workdir)
    assert main(["check", *TODAY]) == 2
    assert capsys.readouterr().err == (
        "pyproject.toml:1:1: error: select[0]: EL4 is not a rule id or prefix; did you mean EL004?\n"
    )


def test_custom_rule_ids_are_known_once_their_rules_are_loaded(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules_dir = (Path(__file__).parent / "fixtures" / "rules_dir").as_posix()
    # ORG201 (the folder's rule) wants CHG-nnn in the description: this one has none.
    copy("EL005-fail-expired.json", workdir)
    exemption = workdir / "EL005-fail-expired.json"
    exemption.write_text(
        exemption.read_text(encoding="utf-8").replace("CHG-1042", "ticket"), encoding="utf-8"
    )
    # Without the folder, its ids are unknown; with it, they select and ignore.
    assert main(["check", *TODAY, "--select", "ORG2"]) == 2
    assert capsys.readouterr().err.startswith("exemptlint: error: --select: ORG2 is not a rule id or prefix")
    assert main(["check", *TODAY, "--rules-dir", rules_dir, "--select", "ORG2", "--format", "concise"]) == 1
    assert [line.split(" ")[1] for line in capsys.readouterr().out.splitlines()[:-1]] == ["ORG201"]
    (workdir / ".exemptlint.yaml").write_text(
        f"rule-dirs: [{rules_dir}]\nignore: [ORG201, EL005]\n", encoding="utf-8"
    )
    assert main(["check", *TODAY]) == 0
    (workdir / ".exemptlint.yaml").write_text(
        f"rule-dirs: [{rules_dir}]\nignore: [ORG2001]\n", encoding="utf-8"
    )
    assert main(["check", *TODAY]) == 2
    assert capsys.readouterr().err.endswith(
        "ignore[0]: ORG2001 is not a rule id or prefix; did you mean ORG201?\n"
    )


def test_cached_config_is_checked_for_unknown_ids_too(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("EXEMPTLINT_CACHE_DIR", str(workdir / "cache"))
    copy("EL005-fail-expired.json", workdir)
    (workdir / ".exemptlint.yaml").write_text("select: [EL4]\n", encoding="utf-8")
    for _ in range(2):  # the second run would use the cache if the first had stored the config
        assert main(["check", *TODAY]) == 2
        assert "select[0]: EL4 is not a rule id or prefix" in capsys.readouterr().err


def test_unknown_rule_in_a_baseline_is_an_error(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy("EL005-fail-expired.json", workdir, "old.json")
    assert main(["check", *TODAY, "--write-baseline", "baseline.json"]) == 0
    baseline = (workdir / "baseline.json").read_text(encoding="utf-8")
    assert main(["check", *TODAY, "--baseline", "baseline.json"]) == 0
    capsys.readouterr()
    (workdir / "baseline.json").write_text(baseline.replace('"EL005"', '"EL05"'), encoding="utf-8")
    assert main(["check", *TODAY, "--baseline", "baseline.json", "--format", "concise"]) == 2
    out = capsys.readouterr().out.splitlines()
    line = next(n for n, text in enumerate(baseline.splitlines(), 1) if '"ruleId"' in text)
    column = baseline.splitlines()[line - 1].index('"ruleId"') + 1
    assert (
        out[0]
        == f"baseline.json:{line}:{column}: error: baseline entry 1: EL05 is not a rule; did you mean EL005?"
    )
    # The baseline is not applied: the finding it recorded is reported.
    assert out[1].startswith("old.json:11:5: EL005 [error]")


def test_rules_command_names_the_closest_ids(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "EL4"]) == 2
    assert capsys.readouterr().err == "exemptlint: error: EL4 is not a rule; did you mean EL004?\n"


# Report files: checked before linting, folders created, no half report (issue 17, item 5) -------


@pytest.fixture
def no_linting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if linting starts (the file walk is its first step)."""

    def walk(*args: object, **kwargs: object) -> None:
        raise AssertionError("linting started before the report files were checked")

    monkeypatch.setattr("exemptlint.loaders.discover", walk)


def test_missing_report_folders_are_created(workdir: Path) -> None:
    copy("EL005-fail-expired.json", workdir, "expired.json")
    code = main(
        [
            "check",
            "expired.json",
            *TODAY,
            "--sarif-file",
            "reports/sarif/x.sarif",
            "--output",
            "json=reports/r.json",
            "--write-baseline",
            "baselines/b.json",
        ]
    )
    assert code == 0  # --write-baseline records the finding
    assert (
        json.loads((workdir / "reports" / "sarif" / "x.sarif").read_text(encoding="utf-8"))["version"]
        == "2.1.0"
    )
    assert (
        json.loads((workdir / "reports" / "r.json").read_text(encoding="utf-8"))["summary"]["exemptions"] == 1
    )
    assert json.loads((workdir / "baselines" / "b.json").read_text(encoding="utf-8"))["version"] == 1
    # No probe or temporary file is left beside the reports.
    assert sorted(p.name for p in (workdir / "reports").iterdir()) == ["r.json", "sarif"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--output", "folder"], "--output folder: is a folder; name a file in it"),
        (["--output", "sarif=folder"], "--output folder: is a folder; name a file in it"),
        (["--sarif-file", "folder"], "--sarif-file folder: is a folder; name a file in it"),
        (["--write-baseline", "folder"], "--write-baseline folder: is a folder; name a file in it"),
        (
            ["--sarif-file", "expired.json/x.sarif"],
            "--sarif-file expired.json/x.sarif: expired.json is not a folder",
        ),
        (
            ["--output", "expired.json"],
            "--output expired.json: is one of the files to lint; exemptlint never writes to its inputs",
        ),
        (
            ["--sarif-file", "r.sarif", "--output", "sarif=./r.sarif"],
            "--sarif-file r.sarif: also written by --output r.sarif; give each report its own file",
        ),
        (
            ["--output", "xml=r.xml"],
            "--output xml=r.xml: no format 'xml' (formats: text, concise, json, sarif, github, junit, markdown, html, csv)",
        ),
    ],
)
def test_unusable_report_paths_are_one_line_errors_before_linting(
    workdir: Path, capsys: pytest.CaptureFixture[str], no_linting: None, arguments: list[str], message: str
) -> None:
    copy("EL005-fail-expired.json", workdir, "expired.json")
    (workdir / "folder").mkdir()
    before = sorted(p.name for p in workdir.rglob("*"))
    assert main(["check", "expired.json", *TODAY, *arguments]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"exemptlint: error: {message}\n"
    assert captured.out == ""
    assert sorted(p.name for p in workdir.rglob("*")) == before  # nothing written, nothing changed
    assert (workdir / "expired.json").read_bytes() == (FIXTURES / "EL005-fail-expired.json").read_bytes()


def _read_only_folder(workdir: Path) -> Path:
    """A folder this process cannot write in. Permission bits do not stop root: then a folder of
    a read-only file system."""
    if os.geteuid() != 0:
        folder = workdir / "read-only"
        folder.mkdir()
        folder.chmod(0o555)
        return folder
    folder = Path("/sys")  # sysfs: not even root creates files in it
    try:
        (folder / ".exemptlint-probe").write_text("")
    except OSError:
        return folder
    (folder / ".exemptlint-probe").unlink()
    pytest.fail("no read-only folder to test with (running as root)")


def test_read_only_report_folder_is_an_error_before_linting(
    workdir: Path, capsys: pytest.CaptureFixture[str], no_linting: None
) -> None:
    copy("EL005-fail-expired.json", workdir, "expired.json")
    folder = _read_only_folder(workdir)
    assert main(["check", "expired.json", *TODAY, "--sarif-file", str(folder / "x.sarif")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        f"exemptlint: error: --sarif-file {folder / 'x.sarif'}: cannot write in {folder}: "
    ), err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (folder / "x.sarif").exists()
    assert main(["check", "expired.json", *TODAY, "--output", str(folder / "sub" / "x.txt")]) == 2
    assert f"cannot create the folder {folder / 'sub'}: " in capsys.readouterr().err


def test_a_report_that_fails_to_write_leaves_no_file_and_exits_2(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A failure after the check (a full disk): a one-line error, exit 2, no file that looks complete."""
    copy("EL005-fail-expired.json", workdir, "expired.json")

    def full_disk(source: str, target: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("exemptlint.cli.os.replace", full_disk)
    assert main(["check", "expired.json", *TODAY, "--format", "json", "--output", "r.json"]) == 2
    assert (
        capsys.readouterr().err
        == "exemptlint: error: --output r.json: cannot write: No space left on device\n"
    )
    assert sorted(p.name for p in workdir.iterdir()) == ["expired.json"]


def test_a_closed_standard_output_is_a_one_line_error(workdir: Path) -> None:
    copy("EL005-fail-expired.json", workdir, "expired.json")
    process = subprocess.Popen(
        [sys.executable, "-m", "exemptlint", "check", "expired.json", *TODAY],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before anything is written (as `| head -0`)
    err = process.stderr.read().decode("utf-8")
    assert process.wait(timeout=60) == 2
    assert err == "exemptlint: error: standard output was closed before the report was written\n"


# The text report on a terminal (issue 17, item 9) ----------------------------------------------


def _on_a_terminal(workdir: Path, env: dict[str, str]) -> str:
    """What exemptlint prints when standard output is a pseudo-terminal (as in pre-commit)."""
    import pty

    leader, follower = pty.openpty()
    try:
        process = subprocess.run(
            [sys.executable, "-m", "exemptlint", "check", "wide.json", *TODAY],
            cwd=workdir,
            stdout=follower,
            stderr=subprocess.PIPE,
            env=env,
            timeout=60,
            check=False,
        )
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
    assert process.returncode == 0, process.stderr  # a warning does not fail the run
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_on_a_terminal_text_is_coloured_and_wrapped_to_its_width(workdir: Path) -> None:
    copy("EL002-warn-lower-case.json", workdir, "wide.json")
    base = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS")}
    # A pseudo-terminal without a size (pre-commit's): 80 columns, coloured.
    out = _on_a_terminal(workdir, base)
    assert "\x1b[1mwide.json\x1b[0m\n" in out
    assert "\x1b[33mwarning\x1b[0m" in out
    assert "should be spelled 'Waiver'\n" in out
    # COLUMNS (as a shell exports it) sets the width, within 40-120 columns.
    out = _on_a_terminal(workdir, {**base, "COLUMNS": "120"})
    assert "should be spelled 'Waiver' (the API accepts any case; reports and\n" in out
    out = _on_a_terminal(workdir, {**base, "COLUMNS": "60"})
    assert "exemptionCategory 'waiver' should be\n" in out
    out = _on_a_terminal(workdir, {**base, "COLUMNS": "500"})
    assert max(len(line) for line in out.splitlines() if "\x1b" not in line) <= 120
    # NO_COLOR: the same text, plain.
    out = _on_a_terminal(workdir, {**base, "NO_COLOR": "1"})
    assert "\x1b" not in out and out.startswith("wide.json\n  10:5  warning  EL002  ")


# Long values in messages (issue 17, item 9) -------------------------------------------------------


def test_long_echoed_values_are_shortened_in_messages_and_kept_whole_in_json_and_sarif(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expression = "[concat(" + ",".join(f"parameters('p{i}')" for i in range(3000)) + ")]"
    template = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {f"p{i}": {"type": "string"} for i in range(3000)},
        "resources": [
            {
                "type": "Microsoft.Authorization/policyExemptions",
                "apiVersion": "2022-07-01-preview",
                "name": "wide",
                "properties": {
                    "policyAssignmentId": expression,
                    "exemptionCategory": "W" * 40_000,
                    "expiresOn": "2027-01-01T00:00:00Z",
                    "displayName": "Wide",
                    "description": "A template whose values are very long (CHG-1).",
                },
            }
        ],
    }
    (workdir / "wide.json").write_text(json.dumps(template), encoding="utf-8")
    assert main(["check", "wide.json", *TODAY, "--format", "concise"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" ")[1] for line in lines[:-1]] == ["EL009", "EL002"]
    el009, el002 = lines[:2]
    # The expression: its first 150 and last 50 characters, and how much is left out.
    assert el009 == (
        f"wide.json:1:{el009.split(':')[2]}: EL009 [note] policyAssignmentId is not known statically: "
        f"{expression[:150]} …({len(expression) - 200:,} characters)… {expression[-50:]} "
        "(parameter 'p0' has no default value and no value was supplied); not checked by EL001"
    )
    # Any other message is at most 1,000 characters of text (plus the note of what was cut).
    message = el002.split(" [error] ", 1)[1]
    assert len(message) < 1030 and "…(39,109 characters)…" in message
    assert message.endswith(
        "' is not a category: use 'Waiver' (risk accepted) or 'Mitigated' (resolved by other means)"
    )

    assert (
        main(
            [
                "check",
                "wide.json",
                *TODAY,
                "--format",
                "json",
                "--output",
                "r.json",
                "--sarif-file",
                "r.sarif",
            ]
        )
        == 1
    )
    findings = {
        f["ruleId"]: f for f in json.loads((workdir / "r.json").read_text(encoding="utf-8"))["findings"]
    }
    assert findings["EL009"]["fullMessage"] == (
        f"policyAssignmentId is not known statically: {expression} "
        "(parameter 'p0' has no default value and no value was supplied); not checked by EL001"
    )
    assert findings["EL002"]["fullMessage"].startswith(
        "exemptionCategory '" + "W" * 40_000 + "' is not a category"
    )
    results = json.loads((workdir / "r.sarif").read_text(encoding="utf-8"))["runs"][0]["results"]
    by_rule = {r["ruleId"]: r for r in results}
    assert by_rule["EL009"]["properties"]["fullMessage"] == findings["EL009"]["fullMessage"]
    assert by_rule["EL009"]["message"]["text"] == findings["EL009"]["message"]
    # Fingerprints come from the whole message: shortening does not change a baseline.
    from exemptlint.engine import _NUMBERS, _digest

    assert findings["EL009"]["fingerprint"] == _digest(
        "EL009",
        "wide.json",
        "wide",
        "policyAssignmentId",
        _NUMBERS.sub("#", findings["EL009"]["fullMessage"]),
    )


@pytest.mark.skipif(sys.platform == "win32", reason="control characters in file names are POSIX")
def test_control_characters_in_file_names_are_escaped_in_text_reports(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A hostile repository may name a file with an escape sequence: a terminal never receives it."""
    copy("EL005-fail-expired.json", workdir, "a\x1b[31mred\x07.json")
    assert main(["check", ".", *TODAY]) == 1
    out = capsys.readouterr().out
    assert out.startswith("a\\x1b[31mred\\x07.json\n  11:5  error  EL005  ")
    assert main(["check", ".", *TODAY, "--format", "concise"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("a\\x1b[31mred\\x07.json:11:5: EL005 [error] ")
    assert "\x1b" not in out and "\x07" not in out
