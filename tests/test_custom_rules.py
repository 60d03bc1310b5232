"""Custom rules: the shipped rule packs, bad rule files, --rules-dir, entry points, plugins that
raise, per-rule options and per-path overrides, and `exemptlint rules ID`."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from exemptlint.cli import main
from exemptlint.engine import LintSettings, lint
from exemptlint.loaders import LoadOptions, load_file
from exemptlint.model import Finding
from exemptlint.rulepacks import RulePackError, load_rule_packs
from exemptlint.rules import BUILTIN_RULES

ROOT = Path(__file__).resolve().parents[1]
PACKS = ROOT / "rules"
RULES_DIR = Path(__file__).parent / "fixtures" / "rules_dir"
PLUGIN_PACKAGE = Path(__file__).parent / "plugin_package"
TODAY = datetime.date(2026, 11, 24)

SUBSCRIPTION = "/subscriptions/00000000-0000-0000-0000-000000000001"
ASSIGNMENT = f"{SUBSCRIPTION}/providers/Microsoft.Authorization/policyAssignments/SecurityCenterBuiltIn"
GOOD_METADATA = {"requestedBy": "alice@example.com", "approvedBy": "bob@example.com", "ticketRef": "CHG12345"}


def exemption_json(
    name: str = "app-tls",
    scope: str = f"{SUBSCRIPTION}/resourceGroups/rg-app",
    **properties: Any,
) -> dict[str, Any]:
    props: dict[str, Any] = {
        "policyAssignmentId": ASSIGNMENT,
        "exemptionCategory": "Waiver",
        "expiresOn": "2027-01-31T23:59:59Z",
        "displayName": "App: TLS exemption",
        "description": "Accepted until the migration (CHG-1042).",
        "metadata": dict(GOOD_METADATA),
    }
    for key, value in properties.items():
        if value is None:
            props.pop(key, None)
        else:
            props[key] = value
    return {
        "id": f"{scope}/providers/Microsoft.Authorization/policyExemptions/{name}",
        "name": name,
        "type": "Microsoft.Authorization/policyExemptions",
        "properties": props,
    }


def run_pack(tmp_path: Path, document: dict[str, Any], rule_id: str) -> list[Finding]:
    file = tmp_path / "exemption.json"
    file.write_text(json.dumps(document, indent=2), encoding="utf-8")
    loaded = load_file(file, LoadOptions(today=TODAY), "exemption.json")
    rules = load_rule_packs([PACKS])
    settings = LintSettings(today=TODAY, select=(rule_id,))
    return lint(loaded.exemptions, loaded.assignments, settings, [*BUILTIN_RULES, *rules])


# The shipped rule packs ---------------------------------------------------------------------------


def test_shipped_packs_load() -> None:
    rules = load_rule_packs([PACKS])
    assert sorted(rule.id for rule in rules) == ["ORG001", "ORG002", "ORG003"]
    assert all(rule.help_uri.startswith("https://") and rule.help for rule in rules)


def test_org001_passes_with_owners_and_ticket(tmp_path: Path) -> None:
    assert run_pack(tmp_path, exemption_json(), "ORG001") == []


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        (None, "'metadata' is a required property"),
        ({"requestedBy": "a", "ticketRef": "CHG1234"}, "'approvedBy' is a required property"),
        ({"requestedBy": "a", "approvedBy": "b"}, "'ticketRef' is a required property"),
        ({**GOOD_METADATA, "ticketRef": "see mail"}, "'see mail' does not match"),
    ],
    ids=["no-metadata", "no-approver", "no-ticket", "bad-ticket"],
)
def test_org001_fails(tmp_path: Path, metadata: Any, expected: str) -> None:
    findings = run_pack(tmp_path, exemption_json(metadata=metadata), "ORG001")
    assert len(findings) == 1
    finding = findings[0]
    assert finding.rule_id == "ORG001"
    assert expected in finding.message
    assert "exemption 'app-tls'" in finding.message
    if metadata is None:
        # The failing path names no property: the finding points at the exemption's properties.
        assert finding.property is None
    else:
        assert finding.property == "metadata"
        text = (tmp_path / "exemption.json").read_text().splitlines()
        assert '"metadata"' in text[finding.line - 1]


def test_org002_mitigated_needs_evidence(tmp_path: Path) -> None:
    failing = run_pack(tmp_path, exemption_json(exemptionCategory="Mitigated"), "ORG002")
    assert [f.rule_id for f in failing] == ["ORG002"]
    assert failing[0].property == "metadata"
    with_evidence = exemption_json(
        exemptionCategory="Mitigated", metadata={**GOOD_METADATA, "evidence": "https://wiki/ev/1"}
    )
    assert run_pack(tmp_path, with_evidence, "ORG002") == []
    # A waiver needs no evidence: `when` does not match.
    assert run_pack(tmp_path, exemption_json(), "ORG002") == []


def test_org003_subscription_waiver_at_most_90_days(tmp_path: Path) -> None:
    long = exemption_json(scope=SUBSCRIPTION, expiresOn="2027-06-30T00:00:00Z")
    findings = run_pack(tmp_path, long, "ORG003")
    assert [f.rule_id for f in findings] == ["ORG003"]
    assert findings[0].message.startswith("waiver 'app-tls' at subscription scope runs 218 days")
    assert findings[0].property == "expiresOn"
    short = exemption_json(scope=SUBSCRIPTION, expiresOn="2027-01-31T00:00:00Z")
    assert run_pack(tmp_path, short, "ORG003") == []
    # Resource-group scope, or a Mitigated exemption: the rule does not apply.
    assert run_pack(tmp_path, exemption_json(expiresOn="2027-06-30T00:00:00Z"), "ORG003") == []
    mitigated = exemption_json(
        scope=SUBSCRIPTION, exemptionCategory="Mitigated", expiresOn="2027-06-30T00:00:00Z"
    )
    assert run_pack(tmp_path, mitigated, "ORG003") == []


# Bad rule files --------------------------------------------------------------------------------

GOOD_RULE = """\
id: ORG100
name: has-metadata
message: "exemption '{name}' has no metadata"
require: {required: [metadata]}
"""


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"a.yaml": "id: ORG100\nname: [unclosed\n"}, "a.yaml:3:1: error: invalid YAML"),
        ({"a.yaml": GOOD_RULE + "severity: high\n"}, "a.yaml:5:1: error: severity: unknown key"),
        (
            {"a.yaml": GOOD_RULE.replace("require: {required: [metadata]}", "require:\n  type: objekt")},
            "a.yaml:4:1: error: require: invalid JSON Schema",
        ),
        (
            {"a.yaml": GOOD_RULE + "when:\n  properties: {category: {minLength: -1}}\n"},
            "a.yaml:5:1: error: when: invalid JSON Schema",
        ),
        ({"a.yaml": GOOD_RULE, "b.yaml": GOOD_RULE}, "b.yaml:1:1: error: id: duplicate rule id ORG100"),
        (
            {
                "a.yaml": "rules:\n  - "
                + GOOD_RULE.replace("\n", "\n    ").rstrip()
                + "\n  - "
                + GOOD_RULE.replace("\n", "\n    ").rstrip()
                + "\n"
            },
            "a.yaml:6:1: error: id: duplicate rule id ORG100",
        ),
        (
            {"a.yaml": GOOD_RULE.replace("ORG100", "EL100")},
            "a.yaml:1:1: error: id: 'EL100' collides with the built-in EL rules",
        ),
        (
            {"a.yaml": GOOD_RULE.replace("ORG100", "org rule")},
            "a.yaml:1:1: error: id: 'org rule' is not a rule id",
        ),
        ({"a.yaml": GOOD_RULE + "level: fatal\n"}, "a.yaml:5:1: error: level: 'fatal' is not one of"),
        (
            {"a.yaml": GOOD_RULE.replace("{name}", "{owner}")},
            "a.yaml:3:1: error: message: unknown placeholder {owner}",
        ),
        (
            {"a.yaml": GOOD_RULE.replace("require: {required: [metadata]}\n", "")},
            "a.yaml:1:1: error: require: missing",
        ),
        ({"a.yaml": "- just\n- a list\n"}, "a.yaml:1:1: error: a rule file must be a mapping"),
        ({"a.yaml": GOOD_RULE + "require2: {}\n"}, "a.yaml:5:1: error: require2: unknown key"),
    ],
    ids=[
        "invalid-yaml",
        "unknown-key",
        "invalid-require-schema",
        "invalid-when-schema",
        "duplicate-id-across-files",
        "duplicate-id-in-file",
        "el-id",
        "bad-id",
        "bad-level",
        "unknown-placeholder",
        "missing-require",
        "not-a-mapping",
        "misspelt-key",
    ],
)
def test_bad_rule_file_is_an_error_before_linting(
    files: dict[str, str],
    expected: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    pack = tmp_path / "pack"
    pack.mkdir()
    for name, text in files.items():
        (pack / name).write_text(text, encoding="utf-8")
    (tmp_path / ".exemptlint.yaml").write_text("rule-packs: [pack]\n", encoding="utf-8")
    (tmp_path / "exemption.json").write_text(json.dumps(exemption_json(exemptionCategory="Nope")))
    assert main(["check", ".", "--today", "2026-11-24"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing was linted
    assert f"pack/{expected}" in captured.err
    with pytest.raises(RulePackError):
        load_rule_packs([pack])


def test_missing_rule_pack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".exemptlint.yaml").write_text("rule-packs: [nowhere]\n", encoding="utf-8")
    assert main(["check", "."]) == 2
    assert "nowhere:1:1: error: rule pack not found" in capsys.readouterr().err


# Configuration ---------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "prod").mkdir()
    (tmp_path / "dev").mkdir()
    document = exemption_json(expiresOn="2027-06-30T00:00:00Z", description="No ticket here.")
    (tmp_path / "prod" / "app.json").write_text(json.dumps(document, indent=2), encoding="utf-8")
    (tmp_path / "dev" / "app.json").write_text(json.dumps(document, indent=2), encoding="utf-8")
    return tmp_path


def test_rule_packs_from_config_with_level_and_select(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / ".exemptlint.yaml").write_text(
        f"rule-packs: [{PACKS.as_posix()}]\nselect: [ORG]\nrules:\n  ORG001: {{level: warning}}\n",
        encoding="utf-8",
    )
    no_metadata = exemption_json(metadata={"requestedBy": "a"})
    (project / "dev" / "app.json").write_text(json.dumps(no_metadata, indent=2), encoding="utf-8")
    assert main(["check", "dev", "--today", "2026-11-24", "--format", "concise"]) == 0
    out = capsys.readouterr().out
    assert "ORG001 [warning]" in out


def test_rules_dir_and_options(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "check",
                "dev",
                "--today",
                "2026-11-24",
                "--rules-dir",
                str(RULES_DIR),
                "--select",
                "ORG201",
                "--format",
                "concise",
            ]
        )
        == 1
    )
    out = capsys.readouterr().out
    assert "ORG201 [error] description of 'app-tls' names no change ticket" in out
    assert "dev/app.json:10:" in out  # at the description
    (project / ".exemptlint.yaml").write_text(
        f"rule-dirs: [{RULES_DIR.as_posix()}]\nrules:\n  ORG201: {{pattern: 'JIRA'}}\n", encoding="utf-8"
    )
    assert main(["check", "dev", "--today", "2026-11-24", "--select", "ORG201"]) == 1
    assert "names no change ticket (JIRA)" in capsys.readouterr().out


def test_plugin_option_typo_is_caught(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / ".exemptlint.yaml").write_text(
        f"rule-dirs: [{RULES_DIR.as_posix()}]\nrules:\n  ORG201:\n    patern: x\n", encoding="utf-8"
    )
    assert main(["check", "dev"]) == 2
    assert (
        ".exemptlint.yaml:4:1: error: rules.ORG201.patern: unknown option (known: pattern)"
        in capsys.readouterr().err
    )


def test_per_path_overrides(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / ".exemptlint.yaml").write_text(
        "select: [EL004]\noverrides:\n  - files: ['prod/**']\n    rules:\n      EL004: {max-days: 90}\n",
        encoding="utf-8",
    )
    assert main(["check", ".", "--today", "2026-11-24"]) == 1
    out = capsys.readouterr().out
    assert "prod/app.json" in out and "the limit is 90 days" in out
    assert "dev/app.json" not in out


def test_override_typo_is_caught(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / ".exemptlint.yaml").write_text(
        "overrides:\n  - files: ['prod/**']\n    rules:\n      EL004: {max-dayz: 90}\n", encoding="utf-8"
    )
    assert main(["check", "."]) == 2
    assert "error: overrides.0.rules.EL004.max-dayz: unknown option" in capsys.readouterr().err


def test_config_cache_sees_rule_pack_changes(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pack = project / "pack"
    pack.mkdir()
    (pack / "a.yaml").write_text(GOOD_RULE, encoding="utf-8")
    (project / ".exemptlint.yaml").write_text("rule-packs: [pack]\nselect: [ORG]\n", encoding="utf-8")
    (project / "dev" / "app.json").write_text(json.dumps(exemption_json(metadata=None)), encoding="utf-8")
    assert main(["check", "dev", "--today", "2026-11-24"]) == 1
    assert "ORG100" in capsys.readouterr().out
    (pack / "a.yaml").write_text(GOOD_RULE.replace("ORG100", "ORG777"), encoding="utf-8")
    assert main(["check", "dev", "--today", "2026-11-24"]) == 1
    out = capsys.readouterr().out
    assert "ORG777" in out and "ORG100" not in out


# Plugins ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/plugin_package, installed by pip (without its dependencies) into a folder of its own."""
    site = tmp_path_factory.mktemp("site")
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(site),
            str(PLUGIN_PACKAGE),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr
    assert list(site.glob("exemptlint_demo_plugin-1.0.0.dist-info/entry_points.txt"))
    return site


@pytest.fixture
def installed_plugin(plugin_site: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The installed package on sys.path: discovered through importlib.metadata like any other."""
    monkeypatch.syspath_prepend(str(plugin_site))
    yield plugin_site
    sys.modules.pop("exemptlint_demo_plugin", None)


def test_pyproject_declares_the_same_entry_point() -> None:
    text = (PLUGIN_PACKAGE / "pyproject.toml").read_text(encoding="utf-8")
    assert '[project.entry-points."exemptlint.rules"]\ndemo = "exemptlint_demo_plugin:RULES"' in text


def test_entry_point_discovery(
    installed_plugin: Path, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rules"]) == 0
    listing = capsys.readouterr().out
    assert "DEMO001  display-name-prefix" in listing
    assert "[entry point demo (exemptlint_demo_plugin:RULES)]" in listing
    # DEMO001 (options) and DEMO002 (a cross-exemption rule) both run.
    (project / ".exemptlint.yaml").write_text("rules:\n  DEMO001: {prefix: 'Web'}\n", encoding="utf-8")
    assert main(["check", ".", "--today", "2026-11-24", "--select", "DEMO", "--format", "concise"]) == 1
    out = capsys.readouterr().out
    assert out.count("DEMO001 [warning] displayName 'App: TLS exemption' does not start with 'Web'") == 2
    assert (
        out.count("DEMO002 [error] displayName 'App: TLS exemption' is also used by exemption 'app-tls'") == 1
    )


def test_plugin_that_raises_is_a_tool_error(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules_dir = tmp_path / "plugins"
    rules_dir.mkdir()
    (rules_dir / "broken.py").write_text(
        "from exemptlint.model import Level\n"
        "from exemptlint.rules.api import Rule\n"
        "def check(exemption, context, options):\n"
        "    raise ValueError('boom')\n"
        "RULE = Rule(id='ORG009', name='broken', level=Level.ERROR, summary='raises', check=check)\n",
        encoding="utf-8",
    )
    code = main(
        [
            "check",
            "dev",
            "--today",
            "2026-11-24",
            "--rules-dir",
            str(rules_dir),
            "--rules-dir",
            str(RULES_DIR),
            "--format",
            "concise",
        ]
    )
    assert code == 2
    out = capsys.readouterr().out
    assert "dev/app.json:1:1: error: rule ORG009 raised ValueError('boom') on exemption 'app-tls'" in out
    assert "ORG201 [error]" in out  # the other rules still ran


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("x = 1\n", "defines neither RULE nor RULES"),
        ("RULE = 3\n", "expected a Rule or a list of rules"),
        ("import nowhere_such_module\n", "cannot import rule file: ModuleNotFoundError"),
        ("def f(:\n", "bad.py:1:1: error: cannot import rule file: SyntaxError"),
        (
            "from exemptlint.model import Level\nfrom exemptlint.rules.api import Rule\n"
            "RULE = Rule(id='EL004', name='x', level=Level.ERROR, summary='x', check=lambda e, c, o: ())\n",
            "rule id EL004 collides",
        ),
    ],
    ids=["no-rule", "not-a-rule", "import-error", "syntax-error", "builtin-id"],
)
def test_bad_rules_dir_file(
    source: str, expected: str, project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules_dir = tmp_path / "plugins"
    rules_dir.mkdir()
    (rules_dir / "bad.py").write_text(source, encoding="utf-8")
    assert main(["check", "dev", "--rules-dir", str(rules_dir)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert expected in captured.err


# exemptlint rules ------------------------------------------------------------------------------


def test_rules_lists_origin_and_documents_one(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / ".exemptlint.yaml").write_text(f"rule-packs: [{PACKS.as_posix()}]\n", encoding="utf-8")
    assert main(["rules", "--rules-dir", str(RULES_DIR)]) == 0
    listing = capsys.readouterr().out
    assert "EL004  expiry-bounded" in listing
    assert "ORG001  metadata-ownership" in listing and "[rule pack " in listing
    assert "ORG201  description-ticket" in listing and "[rules-dir " in listing
    assert main(["rules", "EL004"]) == 0
    doc = capsys.readouterr().out
    assert doc.startswith("EL004 expiry-bounded\n")
    assert "Origin: built-in" in doc
    assert "  max-days: int = 365" in doc
    assert main(["rules", "org003", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["id"] == "ORG003" and document["origin"].startswith("rule pack ")
    assert "90 days" in document["documentation"]
    assert main(["rules", "NOPE1"]) == 2


def test_sarif_describes_pack_rules(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / ".exemptlint.yaml").write_text(
        f"rule-packs: [{PACKS.as_posix()}]\nselect: [ORG]\n", encoding="utf-8"
    )
    (project / "dev" / "app.json").write_text(json.dumps(exemption_json(metadata=None)), encoding="utf-8")
    assert main(["check", "dev", "--format", "sarif", "--today", "2026-11-24"]) == 1
    sarif = json.loads(capsys.readouterr().out)
    rules = {rule["id"]: rule for rule in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["ORG001"]["helpUri"].endswith("#org001-metadata-ownership")
    assert "ticketRef" in rules["ORG001"]["help"]["text"]
