"""SARIF 2.1.0 output (``--format sarif``): schema-valid, within GitHub code scanning's rules.

The log is validated against the SARIF 2.1.0 schema in ``tests/data`` (copied from
``../shared/reference/sarif`` by ``scripts/generate_test_data.py``; a test checks the copy when
``../shared`` is present). The golden file ``tests/golden/sarif/examples.sarif`` is the log for
``exemptlint check examples --today 2026-11-24 --format sarif`` run from the repository root,
with the tool version written as 0.0.0 and the root URI as ``file:///ROOT/``. After an intended
change of output, regenerate it with

    EXEMPTLINT_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_sarif.py

and review the diff.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from exemptlint import __version__
from exemptlint.cli import main
from exemptlint.model import Finding, Level, LoadError
from exemptlint.model import Suppression as Suppressed
from exemptlint.report import Report, renderer, sarif
from exemptlint.rules import BUILTIN_RULES
from exemptlint.rules.api import Rule
from tests.test_ci_formats import EXPIRED_SUPPRESSED

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SCHEMA = REPO / "tests" / "data" / "sarif-schema-2.1.0.json"
TEST_DATA_SCRIPT = REPO / "scripts" / "generate_test_data.py"
CORPUS = SHARED / "corpus" / "real"
FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = Path(__file__).parent / "golden" / "sarif"
TODAY = ["--today", "2026-11-24"]
UPDATE = os.environ.get("EXEMPTLINT_UPDATE_GOLDEN") == "1"

EXPIRED = json.loads(json.dumps(EXPIRED_SUPPRESSED))
del EXPIRED["properties"]["metadata"]

PRECISIONS = {"very-high", "high", "medium", "low"}
LEVELS = {"error", "warning", "note"}


# Helpers ------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _validator() -> Any:
    from jsonschema.validators import validator_for

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    cls = validator_for(schema)  # draft-04, as the schema's $schema says
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def validate(log: dict[str, Any]) -> None:
    """Schema-valid and within GitHub's rules."""
    check_github_rules(log)
    errors = sorted(_validator().iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


def check_github_rules(log: dict[str, Any]) -> None:
    """What GitHub code scanning requires of an upload (see the notes in ../shared)."""
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    [run] = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "exemptlint"
    rules = driver["rules"]
    assert len(rules) <= sarif.MAX_RULES
    assert len({rule["id"] for rule in rules}) == len(rules)
    for rule in rules:
        assert rule["id"]
        assert 0 < len(rule["name"]) <= 255
        assert 0 < len(rule["shortDescription"]["text"]) <= 1024
        assert 0 < len(rule["fullDescription"]["text"]) <= 1024
        assert rule["help"]["text"]
        properties = rule["properties"]
        assert 0 < len(properties["tags"]) <= 10
        assert properties["precision"] in PRECISIONS
        if "security-severity" in properties:
            assert isinstance(properties["security-severity"], str)
            assert 0.0 < float(properties["security-severity"]) <= 10.0
            assert "security" in properties["tags"]
        if "defaultConfiguration" in rule:
            assert rule["defaultConfiguration"]["level"] in LEVELS
    bases = run.get("originalUriBaseIds", {})
    assert len(run["results"]) <= sarif.MAX_RESULTS
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in LEVELS
        assert result["message"]["text"]
        [location] = result["locations"]
        physical = location["physicalLocation"]
        check_uri(physical["artifactLocation"], bases)
        region = physical["region"]
        assert region["startLine"] >= 1
        assert region["endLine"] == region["startLine"]
        assert region["endColumn"] > region["startColumn"] >= 1
        assert result["partialFingerprints"]["primaryLocationLineHash"]
    for invocation in run["invocations"]:
        for key in ("toolExecutionNotifications", "toolConfigurationNotifications"):
            for notification in invocation.get(key, []):
                assert notification["message"]["text"]
                for location in notification.get("locations", []):
                    check_uri(location["physicalLocation"]["artifactLocation"], bases)
    if "workingDirectory" in run["invocations"][0]:
        assert run["invocations"][0]["workingDirectory"]["uri"] == bases["%SRCROOT%"]["uri"]


def check_uri(location: dict[str, Any], bases: dict[str, Any]) -> None:
    uri = location["uri"]
    assert "\\" not in uri and " " not in uri, uri
    if "uriBaseId" in location:
        assert location["uriBaseId"] in bases
        assert not uri.startswith(("/", "file:", "../")), uri
    else:
        assert uri.startswith("file:///"), uri


def run_cli(tmp_path: Path, *paths: str, extra: tuple[str, ...] = ()) -> tuple[int, dict[str, Any], str]:
    out = tmp_path / "out.sarif"
    code = main(["check", *paths, *TODAY, *extra, "--format", "sarif", "--output", str(out)])
    text = out.read_text(encoding="utf-8")
    return code, json.loads(text), text


def results_of(log: dict[str, Any]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = log["runs"][0]["results"]
    return results


def rules_of(log: dict[str, Any]) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = log["runs"][0]["tool"]["driver"]["rules"]
    return rules


def finding(
    message: str = "something is wrong",
    *,
    rule: str = "EL006",
    level: Level = Level.ERROR,
    file: str = "a.json",
    line: int = 3,
    exemption: str | None = "ex",
    suppression: Suppressed | None = None,
    fingerprint: str = "f" * 32,
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
        property="description",
        fingerprint=fingerprint,
        suppression=suppression,
    )


def report(
    findings: list[Finding],
    *,
    errors: list[LoadError] | None = None,
    rules: tuple[Rule, ...] = BUILTIN_RULES,
    root: str = "/repo",
    version: str = "9.9.9",
    stale: tuple[dict[str, object], ...] = (),
) -> Report:
    return Report(
        version=version,
        today="2026-11-24",
        files=sorted({f.file for f in findings}),
        exemptions=[],
        findings=findings,
        errors=errors or [],
        rules=rules,
        root=root,
        stale_baseline=stale,
    )


def render(rep: Report) -> dict[str, Any]:
    text = renderer("sarif")(rep, False)
    assert text.endswith("}\n")
    log: dict[str, Any] = json.loads(text)
    return log


@pytest.fixture
def in_repo(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(REPO)
    return REPO


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "work"
    directory.mkdir()
    monkeypatch.chdir(directory)
    return directory


# Schema validation --------------------------------------------------------------------------


FIXTURE_FILES = sorted(p.relative_to(REPO).as_posix() for p in FIXTURES.rglob("*") if p.is_file())


def test_fixture_list_is_not_empty() -> None:
    assert len(FIXTURE_FILES) > 30


@pytest.mark.parametrize("path", FIXTURE_FILES)
def test_fixture_is_valid_sarif(path: str, in_repo: Path, tmp_path: Path) -> None:
    code, log, _ = run_cli(tmp_path, path)
    assert code in (0, 1, 2)
    validate(log)
    [run] = log["runs"]
    assert run["invocations"][0]["executionSuccessful"] is (code != 2)
    for result in run["results"]:
        location = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert location["uriBaseId"] == "%SRCROOT%"
        # A Bicep module's findings point into the module file, another fixture.
        assert location["uri"] == path or location["uri"] in FIXTURE_FILES


def test_whole_fixture_tree_and_examples_are_valid(in_repo: Path, tmp_path: Path) -> None:
    _, log, _ = run_cli(tmp_path, "tests/fixtures", "examples")
    validate(log)
    assert len(results_of(log)) > 30


def test_parse_error_is_a_tool_execution_notification(work: Path, tmp_path: Path) -> None:
    (work / "expired.json").write_text(json.dumps(EXPIRED_SUPPRESSED, indent=2), encoding="utf-8")
    (work / "broken.json").write_text('{\n  "properties": {\n    "exemptionCategory": ', "utf-8")
    code, log, _ = run_cli(tmp_path, ".")
    assert code == 2
    validate(log)
    [invocation] = log["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    [notification] = invocation["toolExecutionNotifications"]
    assert notification["level"] == "error"
    assert notification["message"]["text"].startswith("invalid JSON")
    physical = notification["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": "broken.json", "uriBaseId": "%SRCROOT%"}
    assert physical["region"]["startLine"] >= 3
    assert physical["region"]["startColumn"] >= 1
    # The file that did parse still has its (suppressed) result.
    assert [r["ruleId"] for r in results_of(log)] == ["EL005"]


def test_suppressed_finding_stays_with_its_suppression(work: Path, tmp_path: Path) -> None:
    (work / "expired.json").write_text(json.dumps(EXPIRED_SUPPRESSED, indent=2), encoding="utf-8")
    code, log, _ = run_cli(tmp_path, ".")
    assert code == 0
    validate(log)
    [result] = results_of(log)
    assert result["ruleId"] == "EL005"
    assert result["level"] == "error"
    assert result["message"]["text"].startswith("exemption 'app-tls' expired on 2026-10-31")
    assert result["suppressions"] == [
        {"kind": "inSource", "status": "accepted", "justification": "renewal in progress"}
    ]
    assert log["runs"][0]["invocations"][0]["executionSuccessful"] is True


def test_baseline_suppression_is_external_and_stale_entries_are_notes(work: Path, tmp_path: Path) -> None:
    (work / "expired.json").write_text(json.dumps(EXPIRED, indent=2), encoding="utf-8")
    baseline = tmp_path / "baseline.json"
    written = main(
        ["check", ".", *TODAY, "--format", "json", "--output", str(tmp_path / "x.json"),
         "--write-baseline", str(baseline)]
    )  # fmt: skip
    assert written == 0
    document = json.loads(baseline.read_text(encoding="utf-8"))
    document["findings"].append({**document["findings"][0], "fingerprint": "0" * 32, "ruleId": "EL003"})
    baseline.write_text(json.dumps(document), encoding="utf-8")
    code, log, _ = run_cli(tmp_path, ".", extra=("--baseline", str(baseline)))
    assert code == 0
    validate(log)
    [result] = results_of(log)
    assert result["suppressions"][0]["kind"] == "external"
    [note] = log["runs"][0]["invocations"][0]["toolConfigurationNotifications"]
    assert note["level"] == "note"
    assert note["message"]["text"].startswith("baseline entry EL003 for exemption 'app-tls' no longer occurs")
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "expired.json"


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the real corpus (../shared/corpus/real) is absent")
def test_real_corpus_is_valid_sarif(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CORPUS)
    code, log, _ = run_cli(tmp_path, ".")
    assert code in (0, 1, 2)
    validate(log)
    results = results_of(log)
    assert len(results) > 100
    for result in results:
        assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] == "%SRCROOT%"


# The schema copy in tests/data ---------------------------------------------------------------


def _test_data_script() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("generate_test_data", TEST_DATA_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_schema_copy_is_the_sarif_2_1_0_schema() -> None:
    """Always run (no ../shared needed): the copy is there and is the schema it claims to be."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert (
        schema["id"]
        == "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    )
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    # It rejects what SARIF forbids, so validate() can fail.
    errors = list(_validator().iter_errors({"version": "2.0.0", "runs": []}))
    assert [(list(e.absolute_path), e.validator) for e in errors] == [(["version"], "enum")]


@pytest.mark.skipif(
    not (SHARED / "reference").is_dir(),
    reason="../shared/reference is absent: the copy in tests/data cannot be compared with its source",
)
def test_schema_copy_matches_shared_reference() -> None:
    result = subprocess.run(
        [sys.executable, str(TEST_DATA_SCRIPT), "--check", "--shared", str(SHARED)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert SCHEMA.read_bytes() == (SHARED / "reference" / "sarif" / "sarif-schema-2.1.0.json").read_bytes()


def test_test_data_script_writes_checks_and_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The script against a reference folder made here (from the copy), so it runs without ../shared."""
    script = _test_data_script()
    shared = tmp_path / "shared"
    (shared / "reference" / "sarif").mkdir(parents=True)
    (shared / "reference" / "sarif" / "sarif-schema-2.1.0.json").write_bytes(SCHEMA.read_bytes())
    monkeypatch.setattr(script, "DATA_DIR", tmp_path / "data")
    assert script.main(["--check", "--shared", str(shared)]) == 1
    assert "sarif-schema-2.1.0.json: missing" in capsys.readouterr().err
    assert script.main(["--shared", str(shared)]) == 0
    assert (tmp_path / "data" / "sarif-schema-2.1.0.json").read_bytes() == SCHEMA.read_bytes()
    assert script.main(["--check", "--shared", str(shared)]) == 0
    (tmp_path / "data" / "sarif-schema-2.1.0.json").write_bytes(
        SCHEMA.read_bytes().replace(b"2.1.0", b"2.1.1", 1)
    )
    capsys.readouterr()
    assert script.main(["--check", "--shared", str(shared)]) == 1
    assert "sarif-schema-2.1.0.json: differs from its source" in capsys.readouterr().err
    # Absent reference data, or another file under the schema's name, is an error (exit 2).
    assert script.main(["--check", "--shared", str(tmp_path / "nope")]) == 2
    (shared / "reference" / "sarif" / "sarif-schema-2.1.0.json").write_text(
        '{"id": "other"}', encoding="utf-8"
    )
    assert script.main(["--check", "--shared", str(shared)]) == 2
    assert "is not the schema" in capsys.readouterr().err


# Golden file --------------------------------------------------------------------------------


def normalise(log: dict[str, Any], root_uri: str) -> str:
    """The log with the tool version as 0.0.0 and the root URI as file:///ROOT/."""
    driver = log["runs"][0]["tool"]["driver"]
    for key in ("semanticVersion", "version"):
        if key in driver:
            assert driver[key] == __version__
            driver[key] = "0.0.0"
    text = json.dumps(log, indent=2, ensure_ascii=False) + "\n"
    assert "file:///ROOT/" not in text
    return text.replace(json.dumps(root_uri)[1:-1], "file:///ROOT/")


def test_examples_golden(in_repo: Path, tmp_path: Path) -> None:
    code, log, text = run_cli(tmp_path, "examples")
    assert code == 1
    assert text == json.dumps(log, indent=2, ensure_ascii=False) + "\n"
    validate(log)
    root_uri = REPO.resolve().as_uri() + "/"
    assert log["runs"][0]["originalUriBaseIds"] == {"%SRCROOT%": {"uri": root_uri}}
    assert log["runs"][0]["invocations"][0]["workingDirectory"] == {"uri": root_uri}
    normalised = normalise(log, root_uri)
    path = GOLDEN / "examples.sarif"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(normalised, encoding="utf-8", newline="\n")
    assert path.is_file(), f"{path} is missing: run with EXEMPTLINT_UPDATE_GOLDEN=1"
    assert normalised == path.read_text(encoding="utf-8"), (
        "examples.sarif differs: run with EXEMPTLINT_UPDATE_GOLDEN=1 and review the diff"
    )


def test_output_is_deterministic(in_repo: Path, tmp_path: Path) -> None:
    first = run_cli(tmp_path, "examples", "tests/fixtures")[2]
    second = run_cli(tmp_path, "tests/fixtures", "examples")[2]
    assert first == second


# Content ------------------------------------------------------------------------------------


def test_rules_describe_every_rule(in_repo: Path, tmp_path: Path) -> None:
    _, log, _ = run_cli(tmp_path, "examples")
    rules = rules_of(log)
    assert [r["id"] for r in rules] == [r.id for r in BUILTIN_RULES]
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["semanticVersion"] == __version__
    assert driver["informationUri"] == "https://github.com/exemptlint/exemptlint"
    for descriptor, rule in zip(rules, BUILTIN_RULES, strict=True):
        assert descriptor["name"] == rule.name
        assert descriptor["shortDescription"]["text"].rstrip(".") == rule.summary.rstrip(".")
        assert descriptor["fullDescription"]["text"].startswith(f"{rule.id}: ")
        assert "\n" not in descriptor["fullDescription"]["text"]
        assert "  " not in descriptor["fullDescription"]["text"]
        assert "``" not in descriptor["fullDescription"]["text"]
        assert descriptor["defaultConfiguration"]["level"] == rule.level.value
        assert descriptor["helpUri"] == rule.help_uri
        assert rule.help_uri in descriptor["help"]["text"]
        assert f"]({rule.help_uri})" in descriptor["help"]["markdown"]
        properties = descriptor["properties"]
        assert properties["tags"] == sorted({*rule.tags, "azure-policy"})
        assert properties["precision"] == "high"
        assert properties["problem.severity"] in {"error", "warning", "recommendation"}
    el009 = rules[[r.id for r in BUILTIN_RULES].index("EL009")]
    assert "engine gathers those into one EL009 note per property" not in el009["fullDescription"]["text"]
    # help carries the rule's documentation page (tests/test_rule_help.py checks every rule).
    assert "# EL009: unresolved-value" in el009["help"]["markdown"]
    el005 = rules[[r.id for r in BUILTIN_RULES].index("EL005")]
    assert "`warn-days` (default `30`)" in el005["help"]["markdown"]


def test_security_severity_on_every_security_rule(in_repo: Path, tmp_path: Path) -> None:
    """GitHub treats every result of a rule with a security-severity as a security alert, so
    only rules tagged "security" carry one; the others rank by problem.severity."""
    _, log, _ = run_cli(tmp_path, "examples")
    security = [rule for rule in BUILTIN_RULES if "security" in rule.tags]
    assert len(security) >= 9
    for descriptor, rule in zip(rules_of(log), BUILTIN_RULES, strict=True):
        properties = descriptor["properties"]
        if rule in security:
            assert properties["security-severity"] == f"{rule.security_severity:.1f}"
            assert isinstance(properties["security-severity"], str)
        else:
            assert "security-severity" not in properties
    by_id = {d["id"]: d for d in rules_of(log)}
    assert by_id["EL007"]["properties"]["security-severity"] == "7.5"
    assert by_id["EL001"]["properties"]["security-severity"] == "7.0"
    assert by_id["EL009"]["properties"]["problem.severity"] == "recommendation"


def test_rule_index_and_region_of_known_finding(in_repo: Path, tmp_path: Path) -> None:
    code, log, _ = run_cli(tmp_path, "tests/fixtures/rules/EL005-fail-expired.json")
    assert code == 1
    validate(log)
    [result] = [r for r in results_of(log) if r["ruleId"] == "EL005"]
    assert result["ruleIndex"] == [r.id for r in BUILTIN_RULES].index("EL005")
    assert rules_of(log)[result["ruleIndex"]]["id"] == "EL005"
    assert result["level"] == "error"
    location = result["locations"][0]
    assert location["physicalLocation"] == {
        "artifactLocation": {"uri": "tests/fixtures/rules/EL005-fail-expired.json", "uriBaseId": "%SRCROOT%"},
        # `"expiresOn"` is 11 characters: endColumn is the column after it.
        "region": {"startLine": 11, "startColumn": 5, "endLine": 11, "endColumn": 16},
    }
    assert location["logicalLocations"] == [
        {
            "name": "app-tls",
            "kind": "resource",
            "fullyQualifiedName": "tests/fixtures/rules/EL005-fail-expired.json#app-tls",
        }
    ]
    assert result["properties"] == {"exemption": "app-tls", "property": "expiresOn"}
    fingerprints = result["partialFingerprints"]
    assert len(fingerprints["exemptlint/v1"]) == 32
    assert fingerprints["primaryLocationLineHash"] == fingerprints["exemptlint/v1"] + ":1"


def test_fingerprints_survive_lines_added_above(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = json.dumps(EXPIRED, indent=2)
    logs = []
    for name, prefix in (("plain", ""), ("shifted", "\n" * 7)):
        directory = tmp_path / name
        directory.mkdir()
        (directory / "exemption.json").write_text(prefix + text, encoding="utf-8")
        monkeypatch.chdir(directory)
        code, log, _ = run_cli(tmp_path, ".")
        assert code == 1
        validate(log)
        logs.append(results_of(log))
    plain, shifted = logs
    assert len(plain) == len(shifted) >= 1
    for a, b in zip(plain, shifted, strict=True):
        assert a["ruleId"] == b["ruleId"]
        region_a = a["locations"][0]["physicalLocation"]["region"]
        region_b = b["locations"][0]["physicalLocation"]["region"]
        assert region_b["startLine"] == region_a["startLine"] + 7
        assert a["partialFingerprints"] == b["partialFingerprints"]


def test_identical_fingerprints_are_told_apart() -> None:
    log = render(report([finding(line=3), finding(line=5), finding(line=7, fingerprint="e" * 32)]))
    hashes = [r["partialFingerprints"]["primaryLocationLineHash"] for r in results_of(log)]
    assert hashes == ["f" * 32 + ":1", "f" * 32 + ":2", "e" * 32 + ":1"]


def test_file_name_with_space_is_percent_encoded(work: Path, tmp_path: Path) -> None:
    sub = work / "my exemptions"
    sub.mkdir()
    (sub / "app tls#1.json").write_text(json.dumps(EXPIRED, indent=2), encoding="utf-8")
    _, log, _ = run_cli(tmp_path, ".")
    validate(log)
    for result in results_of(log):
        assert result["locations"][0]["physicalLocation"]["artifactLocation"] == {
            "uri": "my%20exemptions/app%20tls%231.json",
            "uriBaseId": "%SRCROOT%",
        }
        name = result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
        assert name == "my exemptions/app tls#1.json#app-tls"


@pytest.mark.skipif(os.sep != "/", reason="POSIX paths")
def test_artifact_locations() -> None:
    root = "/repo"
    assert sarif.artifact_location("a b/c%d:e.json", root) == {
        "uri": "a%20b/c%25d%3Ae.json",
        "uriBaseId": "%SRCROOT%",
    }
    assert sarif.artifact_location("./x/../y/é.json", root) == {
        "uri": "y/%C3%A9.json",
        "uriBaseId": "%SRCROOT%",
    }
    assert sarif.artifact_location("/elsewhere/x y.json", root) == {"uri": "file:///elsewhere/x%20y.json"}
    assert sarif.artifact_location("../outside/z.json", root) == {"uri": "file:///outside/z.json"}


def test_absolute_paths_have_no_uri_base(tmp_path: Path) -> None:
    outside = (tmp_path / "out side" / "x.json").as_posix()
    log = render(report([finding(file=outside)], root=str(tmp_path / "repo")))
    validate(log)
    location = results_of(log)[0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": Path(outside).as_uri()}
    assert "%20" in location["uri"]
    assert log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == (tmp_path / "repo").as_uri() + "/"


def test_end_column_defaults_to_one_character() -> None:
    plain = finding()
    plain.end_column = None
    log = render(report([plain]))
    region = results_of(log)[0]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 3, "startColumn": 5, "endLine": 3, "endColumn": 6}


def test_finding_without_exemption_has_no_logical_location() -> None:
    log = render(report([finding(exemption=None)]))
    validate(log)
    [location] = results_of(log)[0]["locations"]
    assert "logicalLocations" not in location


def test_unknown_rule_gets_a_descriptor() -> None:
    log = render(report([finding(rule="ZZ001"), finding(rule="EL003")]))
    validate(log)
    rules = rules_of(log)
    assert len(rules) == len(BUILTIN_RULES) + 1
    assert rules[-1]["id"] == "ZZ001"
    first, second = results_of(log)
    assert first["ruleIndex"] == len(BUILTIN_RULES)
    assert rules[second["ruleIndex"]]["id"] == "EL003"


def test_non_semver_version_writes_only_version() -> None:
    driver = render(report([], version="0.2.0.dev3"))["runs"][0]["tool"]["driver"]
    assert "semanticVersion" not in driver
    assert driver["version"] == "0.2.0.dev3"


def test_load_errors_are_sorted_and_fail_the_execution() -> None:
    errors = [LoadError("b.json", 4, 2, "invalid JSON: b"), LoadError("a.json", 0, 0, "cannot read file")]
    log = render(report([], errors=errors))
    validate(log)
    [invocation] = log["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    notes = invocation["toolExecutionNotifications"]
    assert [n["message"]["text"] for n in notes] == ["cannot read file", "invalid JSON: b"]
    assert notes[0]["locations"][0]["physicalLocation"]["region"] == {"startLine": 1, "startColumn": 1}
    assert "properties" not in log["runs"][0]


def test_module_imports_nothing_heavy() -> None:
    code = (
        "import sys; import exemptlint.report.sarif; "
        "heavy = {'jsonschema', 'pydantic', 'rich', 'ruamel'} & {m.split('.')[0] for m in sys.modules}; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


# GitHub limits ------------------------------------------------------------------------------


def test_results_are_cut_to_githubs_limit() -> None:
    """25,000 results per run at most: the most severe are kept, in report order."""
    over = 7
    findings = [
        finding(f"note {i}", level=Level.NOTE, line=i + 1, fingerprint=f"{i:032x}")
        for i in range(sarif.MAX_RESULTS + over)
    ]
    findings.append(finding("the error", line=10**6, fingerprint="e" * 32))
    log = render(report(findings))
    check_github_rules(log)
    results = results_of(log)
    assert len(results) == sarif.MAX_RESULTS == 25_000
    assert results[-1]["message"]["text"] == "the error"
    # The notes that go are the last ones in report order (ties keep report order).
    assert results[-2]["message"]["text"] == f"note {sarif.MAX_RESULTS - 2}"
    run = log["runs"][0]
    assert run["properties"]["truncated"]["results"] == {
        "limit": 25_000,
        "total": 25_000 + over + 1,
        "omitted": over + 1,
    }
    warning = run["invocations"][0]["toolExecutionNotifications"][-1]
    assert warning["level"] == "warning"
    assert "8 of 25008 results left out" in warning["message"]["text"]


def test_truncation_ranks_counted_then_level_then_security_severity(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sarif, "MAX_RESULTS", 3)
    findings = [
        finding("suppressed error", suppression=Suppressed("inSource", "why"), line=1),
        finding("note", level=Level.NOTE, line=2),
        finding("warning EL011", rule="EL011", level=Level.WARNING, line=3),
        finding("warning EL007", rule="EL007", level=Level.WARNING, line=4),
        finding("error EL006", rule="EL006", line=5),
        finding("error EL007", rule="EL007", line=6),
    ]
    log = render(report(findings))
    validate(log)
    # Both errors, then the warning of the rule with the higher security severity.
    assert [r["message"]["text"] for r in results_of(log)] == ["warning EL007", "error EL006", "error EL007"]
    assert log["runs"][0]["properties"]["truncated"]["results"]["omitted"] == 3


def test_rules_tags_and_texts_are_cut_to_githubs_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sarif, "MAX_RULES", 2)
    base = BUILTIN_RULES[0]
    many_tags = Rule(
        id="XX001",
        name="n" * 300,
        level=Level.WARNING,
        summary="s" * 2000,
        check=base.check,
        tags=tuple(f"tag{i:02}" for i in range(15)),
        security_severity=0.0,
    )
    rules = (*BUILTIN_RULES[:3], many_tags)
    findings = [
        finding("x" * 5000, rule="XX001", exemption="e" * 3000),
        finding("kept", rule=BUILTIN_RULES[1].id),
        finding("gone", rule="ZZ999"),
    ]
    log = render(report(findings, rules=rules))
    validate(log)
    descriptors = rules_of(log)
    # Rules that results use come first (in report order); a result whose rule had to go goes too.
    assert [d["id"] for d in descriptors] == [BUILTIN_RULES[1].id, "XX001"]
    assert [r["ruleIndex"] for r in results_of(log)] == [1, 0]
    assert results_of(log)[1]["message"]["text"] == "kept"
    xx = descriptors[1]
    assert len(xx["name"]) == 255 and xx["name"].endswith("…")
    assert len(xx["shortDescription"]["text"]) == 1024
    assert len(xx["properties"]["tags"]) == 10
    assert "azure-policy" in xx["properties"]["tags"]
    assert "tag08" in xx["properties"]["tags"] and "tag09" not in xx["properties"]["tags"]
    assert "security-severity" not in xx["properties"]
    message = results_of(log)[0]["message"]["text"]
    assert len(message) == sarif.MAX_MESSAGE and message.endswith("…")
    truncated = log["runs"][0]["properties"]["truncated"]
    assert truncated["rules"] == {"limit": 2, "total": 5, "omitted": 3}
    assert truncated["results"] == {"limit": sarif.MAX_RESULTS, "total": 3, "omitted": 1}
    assert truncated["tags"] == {"limit": 10, "rules": ["XX001"]}
    assert truncated["clipped"] == {"descriptions": 1, "exemptionNames": 2, "messages": 1, "ruleNames": 1}
