"""Runs on several processes (--jobs): the same result as one process, whatever happens to a worker."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from exemptlint import parallel
from exemptlint.cli import main
from exemptlint.loaders.jsontext import JsonPositions

ROOT = Path(__file__).resolve().parent.parent
TODAY = "2026-11-24"

pytestmark = pytest.mark.skipif(
    "fork" not in __import__("multiprocessing").get_all_start_methods(), reason="workers need fork"
)


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["check", *args, "--today", TODAY])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("fmt", ["json", "sarif", "junit", "text", "markdown", "github", "html", "csv"])
def test_workers_give_the_same_report_as_one_process(
    fmt: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every fixture and example (Bicep modules, EPAC, Terraform, YAML, broken files, suppressions,
    assignments in other files): byte for byte the same report, and the same exit code."""
    monkeypatch.chdir(ROOT)
    one = _run(capsys, "tests/fixtures", "examples", "--format", fmt, "--jobs", "1")
    two = _run(capsys, "tests/fixtures", "examples", "--format", fmt, "--jobs", "2")
    assert one == two
    assert one[0] == 2  # the fixtures hold broken files: errors are reported, not lost


def _corpus(root: Path, copies: int) -> None:
    """``copies`` directories, each with a copy of the rule fixtures and an assignment file."""
    for index in range(copies):
        target = root / f"team-{index:02d}"
        shutil.copytree(ROOT / "tests" / "fixtures" / "rules", target)


def test_auto_uses_workers_from_min_files_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _corpus(tmp_path, 1)
    files = len(list(tmp_path.rglob("*.json")))
    monkeypatch.chdir(tmp_path)
    calls: list[int] = []
    real = parallel.lint_in_parallel

    def spy(*args: object, **kwargs: object) -> parallel.ParallelRun:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(parallel, "lint_in_parallel", spy)
    monkeypatch.setattr(parallel, "available_cores", lambda: 2)
    monkeypatch.setattr(parallel, "MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "MIN_FILES", files + 1)
    _run(capsys, ".", "--format", "json")
    assert calls == []  # too few files: one process
    monkeypatch.setattr(parallel, "MIN_FILES", files)
    _run(capsys, ".", "--format", "json")
    assert calls == [1]
    _run(capsys, ".", "--format", "json", "--jobs", "1")
    assert calls == [1]  # --jobs 1 always stays in one process
    size = sum(path.stat().st_size for path in tmp_path.rglob("*.json"))
    monkeypatch.setattr(parallel, "MIN_BYTES", size + 1)
    _run(capsys, ".", "--format", "json")
    assert calls == [1]  # enough files, but too little in them: one process


def test_worker_count() -> None:
    assert parallel.worker_count(1, 10_000) == 0
    assert parallel.worker_count(4, 3) == 3
    assert parallel.worker_count(2, 1) == 0
    assert parallel.worker_count(0, parallel.MIN_FILES - 1) == 0
    assert parallel.worker_count(0, 10_000, parallel.MIN_BYTES - 1) == 0
    assert parallel.worker_count(2, 10_000, 10) == 2  # --jobs N: whatever the files
    assert parallel.worker_count(0, 10_000) == (parallel.available_cores() if parallel.available_cores() > 1 else 0)


def test_jobs_must_be_a_count(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", ".", "--jobs", "-1"]) == 2
    assert "is not a number of processes" in capsys.readouterr().err


def _assignment_case(root: Path, escaped: bool) -> None:
    """An assignment of a custom initiative in one file, an exemption of it in another."""
    kind = "Microsoft.Authorization/policy\\u0041ssignments" if escaped else "Microsoft.Authorization/policyAssignments"
    (root / "a-assignment.json").write_text(
        '{"id": "/subscriptions/00000000-0000-0000-0000-000000000001/providers/'
        'Microsoft.Authorization/policyAssignments/pa-custom", "name": "pa-custom", '
        f'"type": "{kind}", "properties": {{"policyDefinitionId": '
        '"/providers/Microsoft.Management/managementGroups/contoso/providers/'
        'Microsoft.Authorization/policySetDefinitions/contoso-baseline"}}\n',
        encoding="utf-8",
    )
    exemption = json.loads((ROOT / "tests" / "fixtures" / "rules" / "pass-baseline.json").read_text())
    exemption["properties"]["policyAssignmentId"] = (
        "/subscriptions/00000000-0000-0000-0000-000000000001/providers/"
        "Microsoft.Authorization/policyAssignments/pa-custom"
    )
    for index in range(3):
        (root / f"b-exemption-{index}.json").write_text(json.dumps(exemption, indent=2), encoding="utf-8")


@pytest.mark.parametrize("escaped", [False, True])
def test_assignments_in_other_files_are_seen_by_every_worker(
    escaped: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """EL001 needs the assignment another file defines. Written with a JSON escape, the type does
    not look like an assignment to the first pass: the run notices and lints in one process."""
    _assignment_case(tmp_path, escaped)
    monkeypatch.chdir(tmp_path)
    one = _run(capsys, ".", "--format", "json", "--jobs", "1")
    two = _run(capsys, ".", "--format", "json", "--jobs", "2")
    assert one == two
    findings = json.loads(one[1])["findings"]
    assert [(f["ruleId"], f["file"]) for f in findings if f["ruleId"] == "EL001"] == [
        ("EL001", f"b-exemption-{index}.json") for index in range(3)
    ]
    assert "custom initiative" in findings[0]["message"]


def test_escaped_assignment_type_is_a_missed_assignment(tmp_path: Path) -> None:
    from exemptlint.engine import LintSettings
    from exemptlint.loaders import LoadOptions
    from exemptlint.rules import BUILTIN_RULES

    _assignment_case(tmp_path, escaped=True)
    files = [(path, path.name) for path in sorted(tmp_path.iterdir())]
    settings = LintSettings(today=__import__("datetime").date(2026, 11, 24))
    run = parallel.lint_in_parallel(
        files,
        LoadOptions(today=settings.today),
        settings,
        BUILTIN_RULES,
        2,
        unresolved_rule_id="EL009",
        suppression_rule_id="EL011",
        want_json=False,
        want_exemptions=False,
    )
    assert not run.complete
    assert [report.missed_assignment for report in run.files] == [True, False, False, False]


def test_a_worker_that_dies_costs_only_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A crash that kills the process (here a rule calling os._exit; in life a native parser or
    the kernel's OOM killer) is reported on the file being linted; every other file is linted."""
    _corpus(tmp_path, 1)
    victim = tmp_path / "team-00" / "boom.json"
    exemption = json.loads((ROOT / "tests" / "fixtures" / "rules" / "pass-baseline.json").read_text())
    exemption["name"] = "boom"
    victim.write_text(json.dumps(exemption, indent=2), encoding="utf-8")
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "crash.py").write_text(
        "import os\n"
        "from exemptlint.model import Level\n"
        "from exemptlint.rules.api import Rule\n"
        "def check(exemption, context, options):\n"
        "    if exemption.name == 'boom':\n"
        "        os._exit(3)\n"
        "    return ()\n"
        "RULE = Rule(id='ORG900', name='crash', level=Level.ERROR, summary='dies', check=check)\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(capsys, "team-00", "--rules-dir", "plugins", "--format", "json", "--jobs", "2")
    assert code == 2
    report = json.loads(out)
    assert report["errors"] == [
        {
            "file": "team-00/boom.json",
            "line": 1,
            "column": 1,
            "message": "the process linting this file stopped unexpectedly",
        }
    ]
    assert "team-00/boom.json:1:1: error: the process linting this file stopped unexpectedly" in err
    victim.unlink()
    _, expected, _ = _run(capsys, "team-00", "--rules-dir", "plugins", "--format", "json", "--jobs", "1")
    assert report["findings"] == json.loads(expected)["findings"]
    assert report["summary"]["exemptions"] == json.loads(expected)["summary"]["exemptions"]


def test_rules_over_all_exemptions_run_over_every_file_of_a_worker_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A rule over all exemptions at once (a plugin's check_all, EL015) sees the exemptions of
    every file, not one worker's: the parent runs it over them, with the same report."""
    _corpus(tmp_path, 2)
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "names.py").write_text(
        "from exemptlint.model import Level\n"
        "from exemptlint.rules.api import Rule, Violation, no_check\n"
        "def check_all(exemptions, context, options):\n"
        "    yield exemptions[0], Violation(f'{len(exemptions)} exemptions in the run')\n"
        "RULE = Rule(id='ORG901', name='count', level=Level.NOTE, summary='counts', check=no_check,\n"
        "            check_all=check_all)\n",
        encoding="utf-8",
    )
    calls: list[int] = []
    real = parallel.lint_in_parallel

    def spy(*args: object, **kwargs: object) -> parallel.ParallelRun:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(parallel, "lint_in_parallel", spy)
    monkeypatch.chdir(tmp_path)
    args = ("team-00", "team-01", "--rules-dir", "plugins", "--format", "json")
    code, out, _ = _run(capsys, *args, "--jobs", "2")
    assert calls == [1]
    _, expected, _ = _run(capsys, *args, "--jobs", "1")
    assert out == expected
    report = json.loads(out)
    counted = [f["message"] for f in report["findings"] if f["ruleId"] == "ORG901"]
    assert counted == [f"{report['summary']['exemptions']} exemptions in the run"]
    assert code in (0, 1)


@pytest.mark.parametrize(
    ("text", "name", "expected"),
    [
        ('{"type": "Microsoft.Authorization/policyAssignments"}', "a.json", True),
        ('"ResourceType": "Microsoft.Authorization/policyAssignments",', "a.json", True),
        ("type: Microsoft.Authorization/policyAssignments\n", "a.yaml", True),
        ("resource a 'Microsoft.Authorization/policyAssignments@2022-06-01' = {", "a.bicep", True),
        ('resource "azurerm_subscription_policy_assignment" "a" {', "a.tf", True),
        ('{"type": "[variables(\'kind\')]"}', "a.json", True),
        ("module m './m.bicep' = {", "a.bicep", True),
        ("module m './m.bicep' = {", "a.json", False),
        ('module "m" {\n  source = "./m"\n}\n', "a.tf", True),
        ('  type = "Microsoft.Authorization/policyAssignments@2022-06-01"', "a.tf", True),
        ('{"policyAssignmentId": "/x/providers/Microsoft.Authorization/policyAssignments/pa"}', "a.json", False),
        ("[subscriptionResourceId('Microsoft.Authorization/policyAssignments', 'pa')]", "a.json", False),
        ('{"type": "Microsoft.Authorization/policyExemptions"}', "a.json", False),
        # An EPAC assignment file (a tree of nodes).
        ('{"nodeName": "/a/", "definitionEntry": {"policySetName": "x"}}', "a.jsonc", True),
        ('{"nodeName": "/a/"}', "a.jsonc", False),
    ],
)
def test_which_files_may_define_an_assignment(text: str, name: str, expected: bool) -> None:
    assert parallel.may_define_assignment(text, Path(name)) is expected


@pytest.mark.parametrize(
    "text",
    [
        '"type": ' + " " * 1_000_000,
        "type:" * 1_000_000,
        "\n" * 1_000_000,
        "policyAssignments'" * 200_000,
        ('"type": "' + " " * 99) * 20_000,
    ],
)
def test_assignment_search_is_linear(text: str) -> None:
    """It runs on every file before the time budget applies: no input may make it slow."""
    started = time.perf_counter()
    parallel.may_define_assignment(text, Path("a.bicep"))
    assert time.perf_counter() - started < 2.0


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1' + " " * 200_000 + "}",
        '{"a": [1' + " \n" * 100_000 + "]}",
        '{"a": 1,' + " /* c */ " * 50_000 + '"z": 2}',
        "[" + "1, " * 200_000 + "{}]",
    ],
)
def test_positions_are_linear_in_white_space_and_members(text: str) -> None:
    """White space runs once made the member pattern backtrack exponentially (found by the
    real corpus in a parallel run)."""
    started = time.perf_counter()
    positions = JsonPositions(text)
    positions.key(("a",))
    positions.key(("z",))
    positions.value((200_000,))
    assert time.perf_counter() - started < 2.0


def _slow_run(tmp_path: Path) -> list[str]:
    """A run of 400 files whose plugin rule sleeps 20 ms per exemption: several seconds on 2 workers."""
    exemption = (ROOT / "tests" / "fixtures" / "rules" / "pass-baseline.json").read_text(encoding="utf-8")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for index in range(400):
        (corpus / f"e{index:03d}.json").write_text(exemption, encoding="utf-8")
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "slow.py").write_text(
        "import time\n"
        "from exemptlint.model import Level\n"
        "from exemptlint.rules.api import Rule\n"
        "def check(exemption, context, options):\n"
        "    time.sleep(0.02)\n"
        "    return ()\n"
        "RULE = Rule(id='ORG902', name='slow', level=Level.NOTE, summary='sleeps', check=check)\n",
        encoding="utf-8",
    )
    return [
        sys.executable, "-m", "exemptlint", "check", str(corpus), "--rules-dir", str(plugins),
        "--today", TODAY, "--jobs", "2", "--format", "json", "--output", str(tmp_path / "report.json"),
    ]  # fmt: skip


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    return [int(line) for line in found.stdout.split()]


def _wait_for_workers(pid: int) -> list[int]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        workers = _children(pid)
        if len(workers) >= 2:
            return workers
        time.sleep(0.05)
    raise AssertionError("no worker processes started")


def _gone(pids: list[int], within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not any(Path(f"/proc/{pid}").exists() and _alive(pid) for pid in pids):
            return True
        time.sleep(0.1)
    return False


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir() or shutil.which("pgrep") is None, reason="needs /proc and pgrep")
@pytest.mark.parametrize("delay", [0.0, 0.02, 0.3])
def test_ctrl_c_stops_every_process_at_once(tmp_path: Path, delay: float) -> None:
    """Ctrl-C (SIGINT to the process group) stops the run within a second, with one line and
    exit code 130, and leaves no worker behind; the queued files are not linted first. Early
    delays land between the two passes, while the second pool's workers start (a worker that got
    it before ignoring it printed a traceback)."""
    process = subprocess.Popen(
        _slow_run(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    workers = _wait_for_workers(process.pid)
    time.sleep(delay)
    started = time.monotonic()
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=20)
    assert time.monotonic() - started < 2
    assert process.returncode == 130
    assert err == "exemptlint: interrupted\n"
    assert _gone(workers, within=2)
    assert not (tmp_path / "report.json").exists()


@pytest.mark.skipif(not Path("/proc").is_dir() or shutil.which("pgrep") is None, reason="needs /proc and pgrep")
def test_workers_do_not_outlive_a_killed_parent(tmp_path: Path) -> None:
    """SIGKILL (a cancelled CI job) gives the parent no chance to stop its workers: they notice
    within about a second and exit."""
    process = subprocess.Popen(_slow_run(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers = _wait_for_workers(process.pid)
    process.kill()
    process.wait()
    assert _gone(workers, within=5)
