"""The CI formats: GitHub workflow commands, JUnit XML and Markdown.

Golden files live in ``tests/golden/<format>/``; the version is written as 0.0.0 there. After an
intended change of output, regenerate them with

    EXEMPTLINT_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_ci_formats.py

and review the diff.
"""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from exemptlint import __version__
from exemptlint.cli import main
from exemptlint.model import Exemption, Finding, FixedLocator, Level, LoadError, Position, ScopeLevel, Source
from exemptlint.model import Suppression as Suppressed
from exemptlint.report import Report, renderer
from exemptlint.report.github import escape_data, escape_property
from exemptlint.report.markdown import MAX_CHARS, MAX_ROWS
from exemptlint.rules import BUILTIN_RULES

REPO = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "golden"
EXTENSIONS = {"github": "txt", "junit": "xml", "markdown": "md"}
FORMATS = tuple(EXTENSIONS)
TODAY = ["--today", "2026-11-24"]
UPDATE = os.environ.get("EXEMPTLINT_UPDATE_GOLDEN") == "1"

COMMAND = re.compile(r"^::(error|warning|notice) file=[^,]*,line=\d+,col=\d+,endColumn=\d+,title=[^:]*::.*$")
SUMMARY = re.compile(r"^Checked \d+ exemptions? in \d+ files?: .*\.$")

EXPIRED_SUPPRESSED = {
    "id": "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-app"
    "/providers/Microsoft.Authorization/policyExemptions/app-tls",
    "properties": {
        "policyAssignmentId": "/subscriptions/00000000-0000-0000-0000-000000000001"
        "/providers/Microsoft.Authorization/policyAssignments/SecurityCenterBuiltIn",
        "policyDefinitionReferenceIds": ["webAppEnforceHttpsMonitoring"],
        "exemptionCategory": "Mitigated",
        "expiresOn": "2026-10-31T23:59:59Z",
        "displayName": "App: HTTPS enforced by the gateway",
        "description": "The application gateway redirects all HTTP traffic to HTTPS (CHG-1042).",
        "metadata": {"exemptlint": {"ignore": {"EL005": "renewal in progress"}}},
    },
}


def normalise(text: str) -> str:
    return text.replace(__version__, "0.0.0")


def check_golden(text: str, name: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
    assert path.is_file(), f"{path} is missing: run with EXEMPTLINT_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs: run with EXEMPTLINT_UPDATE_GOLDEN=1"


def run(fmt: str, tmp_path: Path, *paths: str) -> tuple[int, str]:
    out = tmp_path / f"report.{EXTENSIONS[fmt]}"
    code = main(["check", *paths, *TODAY, "--format", fmt, "--output", str(out)])
    return code, out.read_text(encoding="utf-8")


@pytest.fixture
def in_repo(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(REPO)
    return REPO


@pytest.fixture
def suppressed_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    (work / "expired.json").write_text(json.dumps(EXPIRED_SUPPRESSED, indent=2), encoding="utf-8")
    monkeypatch.chdir(work)
    return work


@pytest.fixture
def broken_dir(suppressed_dir: Path) -> Path:
    (suppressed_dir / "broken.json").write_text('{\n  "properties": {\n    "exemptionCategory": ', "utf-8")
    return suppressed_dir


# Golden files -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_examples_golden(fmt: str, in_repo: Path, tmp_path: Path) -> None:
    code, text = run(fmt, tmp_path, "examples")
    assert code == 1
    check_golden(normalise(text), f"{fmt}/examples.{EXTENSIONS[fmt]}")


@pytest.mark.parametrize("fmt", FORMATS)
def test_suppressed_golden(fmt: str, suppressed_dir: Path, tmp_path: Path) -> None:
    code, text = run(fmt, tmp_path, ".")
    assert code == 0
    check_golden(normalise(text), f"{fmt}/suppressed.{EXTENSIONS[fmt]}")


# Synthetic reports --------------------------------------------------------------------------


def finding(
    message: str = "something is wrong",
    *,
    rule: str = "EL006",
    level: Level = Level.ERROR,
    file: str = "a.json",
    line: int = 3,
    exemption: str | None = "ex",
    suppression: Suppressed | None = None,
) -> Finding:
    return Finding(
        rule_id=rule,
        rule_name="description-required",
        level=level,
        message=message,
        file=file,
        line=line,
        column=5,
        end_column=9,
        exemption_name=exemption,
        suppression=suppression,
    )


def exemption(name: str = "ex", file: str = "a.json", line: int = 1) -> Exemption:
    return Exemption(
        name=name,
        scope="/subscriptions/00000000-0000-0000-0000-000000000001",
        scope_level=ScopeLevel.SUBSCRIPTION,
        properties={},
        source=Source(file=file, format="raw", locator=FixedLocator(Position(line, 1))),
    )


def report(
    findings: list[Finding],
    exemptions: list[Exemption] | None = None,
    errors: list[LoadError] | None = None,
) -> Report:
    return Report(
        version="9.9.9",
        today="2026-11-24",
        files=sorted({f.file for f in findings} | {e.source.file for e in exemptions or []}),
        exemptions=exemptions if exemptions is not None else [exemption()],
        findings=findings,
        errors=errors or [],
        rules=BUILTIN_RULES,
    )


# GitHub -------------------------------------------------------------------------------------


def assert_github(text: str) -> list[str]:
    assert text.endswith("\n")
    lines = text.splitlines()
    assert lines, "no summary"
    for line in lines[:-1]:
        assert COMMAND.match(line), line
    assert not lines[-1].startswith("::")
    assert SUMMARY.match(lines[-1]), lines[-1]
    return lines[:-1]


def examples_facts(tmp_path: Path) -> dict[str, int]:
    """What the JSON report says about the examples run: the other formats must agree with it."""
    out = tmp_path / "facts.json"
    main(["check", "examples", *TODAY, "--format", "json", "--output", str(out)])
    report = json.loads(out.read_text(encoding="utf-8"))
    counted = [f for f in report["findings"] if f["suppression"] is None]
    flagged = {(f["file"], f["exemption"]) for f in counted if f["level"] != "note"}
    return {
        "error": sum(f["level"] == "error" for f in counted),
        "warning": sum(f["level"] == "warning" for f in counted),
        "note": sum(f["level"] == "note" for f in counted),
        "exemptions": len(report["exemptions"]),
        "flagged": len(flagged),
        "files": len(report["files"]),
    }


def test_github_lines_are_commands_then_summary(in_repo: Path, tmp_path: Path) -> None:
    _, text = run("github", tmp_path, "examples")
    commands = assert_github(text)
    facts = examples_facts(tmp_path)
    assert facts["error"] >= 9  # the examples are meant to show many findings
    assert len(commands) == facts["error"] + facts["warning"] + facts["note"]
    assert sum(line.startswith("::error ") for line in commands) == facts["error"]
    assert sum(line.startswith("::warning ") for line in commands) == facts["warning"]
    assert sum(line.startswith("::notice ") for line in commands) == facts["note"]


def test_github_escaping() -> None:
    odd = finding(
        "100% sure\nsecond line: a,b\r",
        file="dir,x/a:b%.json",
        level=Level.WARNING,
    )
    text = renderer("github")(report([odd]), False)
    [line] = assert_github(text)
    assert line == (
        "::warning file=dir%2Cx/a%3Ab%25.json,line=3,col=5,endColumn=9,"
        "title=EL006 description-required::100%25 sure%0Asecond line: a,b%0D"
    )
    assert escape_data("a:b,c%\r\n") == "a:b,c%25%0D%0A"
    assert escape_property("a:b,c%\r\n") == "a%3Ab%2Cc%25%0D%0A"


def test_github_levels_and_suppressed() -> None:
    findings = [
        finding("e"),
        finding("w", level=Level.WARNING),
        finding("n", level=Level.NOTE),
        finding("s", suppression=Suppressed("inSource", "why")),
    ]
    commands = assert_github(renderer("github")(report(findings), False))
    assert [line.split(" ", 1)[0] for line in commands] == ["::error", "::warning", "::notice"]
    assert [line.rsplit("::", 1)[1] for line in commands] == ["e", "w", "n"]


def test_github_parse_error_and_suppressed(broken_dir: Path, tmp_path: Path) -> None:
    code, text = run("github", tmp_path, ".")
    assert code == 2
    [command] = assert_github(text)
    assert command.startswith("::error file=broken.json,line=")
    assert ",title=exemptlint::" in command
    assert text.splitlines()[-1].endswith("(1 suppressed); 1 file could not be read.")


def test_github_suppressed_only_prints_summary(suppressed_dir: Path, tmp_path: Path) -> None:
    code, text = run("github", tmp_path, ".")
    assert code == 0
    assert assert_github(text) == []
    assert "(1 suppressed)" in text


# JUnit --------------------------------------------------------------------------------------


def assert_junit(text: str) -> ET.Element:
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "testsuites"
    assert root.get("name") == "exemptlint"
    suites = root.findall("testsuite")
    for key, tag in (("failures", "failure"), ("errors", "error")):
        assert int(root.get(key, "-1")) == len(root.findall(f".//{tag}"))
        assert int(root.get(key, "-1")) == sum(int(s.get(key, "-1")) for s in suites)
    assert int(root.get("tests", "-1")) == len(root.findall(".//testcase"))
    for suite in suites:
        assert suite.get("timestamp") is None
        assert int(suite.get("tests", "-1")) == len(suite.findall("testcase"))
        assert int(suite.get("failures", "-1")) == len(suite.findall("testcase/failure"))
        assert int(suite.get("errors", "-1")) == len(suite.findall("testcase/error"))
        assert int(suite.get("skipped", "-1")) == len(suite.findall("testcase/skipped"))
        for case in suite.findall("testcase"):
            assert case.get("classname") == suite.get("name")
    return root


def test_junit_counts_add_up(in_repo: Path, tmp_path: Path) -> None:
    _, text = run("junit", tmp_path, "examples")
    root = assert_junit(text)
    facts = examples_facts(tmp_path)
    assert root.get("tests") == str(facts["exemptions"])
    assert root.get("failures") == str(facts["error"] + facts["warning"])
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert {
        "examples/bad-exemption.json",
        "examples/bicep/modules/exemption.bicep",
        "examples/exemptions.template.json",
        "examples/good-exemption.json",
    } <= set(suites)
    [bad] = suites["examples/bad-exemption.json"].findall("testcase")
    assert bad.get("name") == "skip-all (examples/bad-exemption.json:1)"
    assert [f.get("type") for f in bad.findall("failure")] == ["EL007", "EL010", "EL002", "EL005", "EL006"]
    failure = bad.findall("failure")[3]
    assert failure.get("message", "").startswith("EL005 exemption 'skip-all' expired")
    assert (failure.text or "").startswith("examples/bad-exemption.json:8:5: EL005 [error] exemption")
    # The copy loop's two exemptions get their own findings.
    template = suites["examples/exemptions.template.json"].findall("testcase")
    assert [len(case.findall("failure")) for case in template] == [2, 2]
    assert all("= 1;" in (f.text or "") for f in template[1].findall("failure"))


def test_junit_parse_error_and_suppressed(broken_dir: Path, tmp_path: Path) -> None:
    code, text = run("junit", tmp_path, ".")
    assert code == 2
    root = assert_junit(text)
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    [parse] = suites["broken.json"].findall("testcase")
    assert parse.get("name") == "parse"
    error = parse.find("error")
    assert error is not None
    assert error.get("message", "").startswith("invalid JSON")
    assert (error.text or "").startswith("broken.json:")
    assert root.get("errors") == "1"
    assert root.get("failures") == "0"
    [case] = suites["expired.json"].findall("testcase")
    assert case.find("failure") is None
    out = case.findtext("system-out") or ""
    assert out.startswith("suppressed: expired.json:9:5: EL005 [error] exemption 'app-tls' expired")
    assert out.endswith("(renewal in progress)")


def test_junit_notes_loose_findings_and_unsafe_characters() -> None:
    findings = [
        finding('bad\x00control & <tags> "quoted"\nnext'),
        finding("a note", level=Level.NOTE),
        finding("outside any exemption", exemption=None, level=Level.WARNING, line=9),
        finding("other file", file="b.json", exemption="gone"),
    ]
    root = assert_junit(renderer("junit")(report(findings), False))
    assert root.get("tests") == "3"
    assert root.get("failures") == "3"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    ex, loose = suites["a.json"].findall("testcase")
    assert ex.get("name") == "ex (a.json:1)"
    assert ex.findtext("system-out") == "a.json:3:5: EL006 [note] a note"
    failure = ex.find("failure")
    assert failure is not None
    assert failure.get("message") == 'EL006 bad\ufffdcontrol & <tags> "quoted"\nnext'
    assert loose.get("name") == "a.json"
    assert [f.get("type") for f in loose.findall("failure")] == ["EL006"]
    [other] = suites["b.json"].findall("testcase")
    assert other.get("name") == "b.json"


def test_junit_same_name_exemptions_are_told_apart_by_context() -> None:
    first, second = exemption("{name}"), exemption("{name}")
    first.source.context = "copyIndex() = 0"
    second.source.context = "copyIndex() = 1"
    findings = [finding("x [copyIndex() = 1]", exemption="{name}")]
    root = assert_junit(renderer("junit")(report(findings, [first, second]), False))
    one, two = root.findall(".//testcase")
    assert one.get("name") == "{name} (a.json:1)"
    assert two.get("name") == "{name} (a.json:1) #2"
    assert one.find("failure") is None
    assert two.find("failure") is not None


# Markdown -----------------------------------------------------------------------------------


def table_rows(text: str) -> list[str]:
    """The rows of the first table, without its header and separator."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| Level |"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


def cells(row: str) -> list[str]:
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", row)[1:-1]]


def test_markdown_examples_summary(in_repo: Path, tmp_path: Path) -> None:
    _, text = run("markdown", tmp_path, "examples")
    facts = examples_facts(tmp_path)
    assert text.startswith(
        f"## exemptlint\n\n❌ {facts['error']} errors, {facts['warning']} warnings in "
        f"{facts['flagged']} of {facts['exemptions']} exemptions ({facts['files']} files"
    )
    rows = table_rows(text)
    assert len(rows) == facts["error"] + facts["warning"]
    levels = [cells(row)[0] for row in rows]
    assert levels == ["❌ error"] * facts["error"] + ["⚠️ warning"] * facts["warning"]
    assert (
        cells(rows[0])[1] == "[EL007](https://github.com/exemptlint/exemptlint/blob/main/docs/rules/EL007.md)"
    )


def test_markdown_no_findings() -> None:
    text = renderer("markdown")(report([]), False)
    assert "✅ No findings in 1 exemption (0 files)" in text
    assert "| Level |" not in text


def test_markdown_escapes_cells() -> None:
    findings = [
        finding("pipe | in *message*\nnext line", exemption="a|b"),
        finding("a note", level=Level.NOTE),
        finding("quiet", suppression=Suppressed("inSource", "renewal | pending")),
    ]
    text = renderer("markdown")(report(findings), False)
    [row] = table_rows(text)
    assert cells(row) == [
        "❌ error",
        "[EL006](https://github.com/exemptlint/exemptlint/blob/main/docs/rules/EL006.md)",
        "a.json",
        "3",
        "a\\|b",
        "pipe \\| in \\*message\\*<br>next line",
    ]
    assert "<details><summary>1 note</summary>" in text
    assert "<details><summary>1 suppressed finding</summary>" in text
    assert "| renewal \\| pending |" in text
    assert "1 error in 1 of 1 exemption (1 file; 1 note; 1 suppressed)" in text


def test_markdown_row_cap() -> None:
    findings = [finding(f"problem {i}", line=i + 1) for i in range(500)]
    text = renderer("markdown")(report(findings), False)
    assert len(table_rows(text)) == MAX_ROWS
    assert "\n... and 300 more\n" in text
    assert "500 errors in 1 of 1 exemption" in text


def test_markdown_size_cap() -> None:
    findings = [finding("x" * 400 + f" {i}", line=i + 1, level=Level.WARNING) for i in range(500)]
    findings += [finding("n" * 400, level=Level.NOTE, line=i + 1) for i in range(500)]
    text = renderer("markdown")(report(findings), False)
    assert len(text) <= MAX_CHARS
    rows = len(table_rows(text))
    assert 0 < rows < MAX_ROWS
    assert f"\n... and {500 - rows} more\n" in text
    assert text.endswith("<sub>exemptlint 9.9.9 · as of 2026-11-24</sub>\n")


def test_markdown_parse_error_and_suppressed(broken_dir: Path, tmp_path: Path) -> None:
    code, text = run("markdown", tmp_path, ".")
    assert code == 2
    assert "❌ 1 file could not be read; no findings in 1 exemption (2 files; 1 suppressed)" in text
    assert "### Files that could not be read\n\n- broken.json:" in text
    assert "| Level | Rule |" in text  # the suppressed table
    assert "| expired.json | 9 | app-tls |" in text
    assert text.rstrip().endswith(f"<sub>exemptlint {__version__} · as of 2026-11-24</sub>")
    assert "renewal in progress |" in text


def test_junit_skips_files_without_exemptions(suppressed_dir: Path, tmp_path: Path) -> None:
    (suppressed_dir / "package.json").write_text('{"name": "app"}', encoding="utf-8")
    code, text = run("junit", tmp_path, ".")
    assert code == 0
    root = assert_junit(text)
    assert [s.get("name") for s in root.findall("testsuite")] == ["expired.json"]
