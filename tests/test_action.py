"""The GitHub Action (action.yml): its script steps run with bash as a runner would run them, on a
fixture repository, with the runner's files (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_PATH,
RUNNER_TEMP) set. GitHub itself is not involved: ``uses:`` steps are not run, only checked
(their condition and inputs). The Azure DevOps template's script steps are run the same way."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "rules"
BASH = shutil.which("bash")
# The install step runs once, for real, in the module fixture `installed`; the other tests skip it.
INSTALLED = frozenset({"Install exemptlint"})
PINNED = "--today 2026-11-24"
pytestmark = pytest.mark.skipif(BASH is None, reason="bash is not installed")


def _load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


# --- a small evaluator for the expressions the action uses -------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<op>==|!=|&&|\|\||!|\(|\))|(?P<name>[A-Za-z_][\w.-]*(?:\(\))?))"
)


def evaluate(expression: str, lookup: Callable[[str], Any]) -> Any:
    """A GitHub expression (without ``${{ }}``) of the forms action.yml uses: names, 'strings',
    ``==``, ``!=``, ``!``, ``&&``, ``||``, parentheses and ``cancelled()``."""
    python: list[str] = []
    values: list[Any] = []
    position = 0
    expression = expression.strip()
    while position < len(expression):
        match = _TOKEN.match(expression, position)
        assert match, f"cannot read {expression[position:]!r}"
        position = match.end()
        if match.group("string") is not None:
            values.append(match.group("string")[1:-1].replace("''", "'"))
            python.append(f"values[{len(values) - 1}]")
        elif match.group("op") is not None:
            python.append({"&&": " and ", "||": " or ", "!": " not "}.get(match.group("op"), match.group("op")))
        else:
            name = match.group("name")
            values.append(False if name == "cancelled()" else lookup(name))
            python.append(f"values[{len(values) - 1}]")
    return eval("".join(python), {"__builtins__": {}}, {"values": values})


def substitute(text: str, lookup: Callable[[str], Any]) -> str:
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: str(evaluate(m.group(1), lookup)), text)


# --- running the action ------------------------------------------------------------------------


@dataclass
class Run:
    """What the steps left: outputs, the step summary, annotations, the steps that ran."""

    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    ran: list[str] = field(default_factory=list)
    failed: str | None = None
    uses: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    stdout: str = ""
    summary: str = ""


def _read_outputs(path: Path) -> dict[str, str]:
    outputs = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if "=" in line:
            name, _, value = line.partition("=")
            outputs[name] = value
    return outputs


def run_action(repo: Path, runner: Path, inputs: Mapping[str, str], skip: frozenset[str] = frozenset()) -> Run:
    action = _load(ROOT / "action.yml")
    given = {name: spec.get("default", "") for name, spec in action["inputs"].items()}
    assert set(inputs) <= set(given), set(inputs) - set(given)
    given["args"] = PINNED  # tests pin "today"; a test's own args come after
    given.update({k: f"{PINNED} {v}" if k == "args" else v for k, v in inputs.items()})
    run = Run()
    path_file = runner / "path"
    summary = runner / "summary.md"
    for file in (path_file, summary):
        file.write_text("", encoding="utf-8")

    def lookup(name: str) -> Any:
        parts = name.split(".")
        if parts[0] == "inputs":
            return given[parts[1]]
        if name == "github.action_path":
            return str(ROOT)
        if parts[0] == "steps" and parts[2] == "outputs":
            return run.outputs.get(parts[1], {}).get(parts[3], "")
        raise AssertionError(f"unknown name {name}")

    for step in action["runs"]["steps"]:
        name = step["name"]
        condition = step.get("if")
        if condition is not None:
            inner = condition.strip()
            inner = inner[3:-2] if inner.startswith("${{") else inner
            if not evaluate(inner, lookup):
                continue
        elif run.failed:
            continue  # a failed step skips the following steps without an if: success()
        if "uses" in step:
            run.uses.append((step["uses"], {k: substitute(str(v), lookup) for k, v in step["with"].items()}))
            run.ran.append(name)
            continue
        if name in skip:
            continue
        assert step["shell"] == "bash"
        assert "${{" not in step["run"], "inputs reach scripts through env:, never inside the script"
        output = runner / f"output-{len(run.ran)}"
        output.write_text("", encoding="utf-8")
        env = {
            "PATH": os.pathsep.join(
                [*path_file.read_text(encoding="utf-8").split(), os.environ.get("PATH", "")]
            ),
            "HOME": str(runner),
            "RUNNER_TEMP": str(runner),
            "GITHUB_WORKSPACE": str(repo),
            "GITHUB_OUTPUT": str(output),
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_PATH": str(path_file),
            "GITHUB_ACTIONS": "true",
            "CI": "true",
            "EXEMPTLINT_CACHE_DIR": "",
            **{k: substitute(str(v), lookup) for k, v in step.get("env", {}).items()},
        }
        done = subprocess.run(
            [BASH, "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", step["run"]],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        run.ran.append(name)
        run.stdout += done.stdout
        if step.get("id"):
            run.outputs[step["id"]] = _read_outputs(output)
        if done.returncode != 0:
            run.failed = name
            run.stdout += done.stderr
    run.summary = summary.read_text(encoding="utf-8")
    return run


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The install step, run once for real: a virtual environment with exemptlint installed from
    this checkout (the action's own copy), its bin folder written to GITHUB_PATH."""
    runner = tmp_path_factory.mktemp("runner")
    repo = tmp_path_factory.mktemp("empty-repo")
    action = _load(ROOT / "action.yml")
    install = action["runs"]["steps"][0]
    assert install["name"] == "Install exemptlint"
    (runner / "path").write_text("", encoding="utf-8")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(runner),
        "RUNNER_TEMP": str(runner),
        "GITHUB_PATH": str(runner / "path"),
        "EXEMPTLINT_REQUIREMENT": "",
        "EXEMPTLINT_PYTHON": sys.executable,
        "ACTION_PATH": str(ROOT),
        **{k: v for k, v in os.environ.items() if k.startswith("PIP_")},
    }
    done = subprocess.run(
        [BASH, "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", install["run"]],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # --version names the package and the catalog it ships with.
    assert "exemptlint 0.1.0\ncatalog: Azure/azure-policy@" in done.stdout
    (bin_dir,) = (runner / "path").read_text(encoding="utf-8").split()
    assert Path(bin_dir, "exemptlint").is_file()
    return Path(bin_dir)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "policy" / "prod").mkdir(parents=True)
    shutil.copyfile(FIXTURES / "EL005-fail-expired.json", root / "policy" / "prod" / "expired.json")
    # Another resource group than the expired one's: two exemptions of one scope would be EL015.
    good = (FIXTURES / "pass-baseline.json").read_text(encoding="utf-8").replace("/rg-app/", "/rg-web/")
    (root / "policy" / "good.json").write_text(good, encoding="utf-8")
    (root / "README.md").write_text("not linted\n", encoding="utf-8")
    return root


@pytest.fixture
def runner(tmp_path: Path, installed: Path) -> Path:
    directory = tmp_path / "runner"
    directory.mkdir()
    return directory


def test_findings_give_sarif_summary_annotations_and_a_failed_step(
    repo: Path, runner: Path, installed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", f"{installed}{os.pathsep}{os.environ.get('PATH', '')}")
    result = run_action(repo, runner, {"paths": "policy", "upload-sarif": "true"}, skip=INSTALLED)
    assert result.outputs["lint"]["exit-code"] == "1"
    sarif_path = repo / "exemptlint.sarif"
    assert result.outputs["lint"]["sarif-file"] == "exemptlint.sarif"
    log = json.loads(sarif_path.read_text(encoding="utf-8"))
    results = log["runs"][0]["results"]
    assert [
        (r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
         r["locations"][0]["physicalLocation"]["region"]["startLine"])
        for r in results
    ] == [("EL005", "policy/prod/expired.json", 11)]
    # The job summary holds the markdown report.
    assert "policy/prod/expired.json" in result.summary and "EL005" in result.summary
    # Annotations: GitHub's workflow commands on standard output.
    assert "::error file=policy/prod/expired.json,line=11" in result.stdout
    # The upload step would run, with the report written.
    assert result.uses == [
        ("github/codeql-action/upload-sarif@v3", {"sarif_file": "exemptlint.sarif", "category": "exemptlint"})
    ]
    assert result.failed == "Fail on findings or errors"
    assert "::error title=exemptlint::exemptlint exited with 1" in result.stdout


def test_clean_repository_passes_without_upload_unless_asked(
    repo: Path, runner: Path, installed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", f"{installed}{os.pathsep}{os.environ.get('PATH', '')}")
    (repo / "policy" / "prod" / "expired.json").unlink()
    result = run_action(repo, runner, {"paths": "policy\nREADME.md"}, skip=INSTALLED)
    assert result.failed is None
    assert result.outputs["lint"]["exit-code"] == "0"
    assert result.uses == []  # upload-sarif defaults to false
    log = json.loads((repo / "exemptlint.sarif").read_text(encoding="utf-8"))
    assert log["runs"][0]["results"] == []
    assert "No findings in 1 exemption (2 files)" in result.summary  # README.md named: read, skipped
    assert "as of 2026-11-24" in result.summary


def test_arguments_sarif_path_and_no_failure(
    repo: Path, runner: Path, installed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", f"{installed}{os.pathsep}{os.environ.get('PATH', '')}")
    inputs = {
        "paths": "policy",
        "args": "--select EL001,EL002 --fail-on warning",
        "sarif-file": "reports-exemptlint.sarif",
        "fail": "false",
        "annotations": "false",
        "summary": "false",
    }
    result = run_action(repo, runner, inputs, skip=INSTALLED)
    assert result.outputs["lint"]["exit-code"] == "0"  # EL005 not selected
    log = json.loads((repo / "reports-exemptlint.sarif").read_text(encoding="utf-8"))
    assert [rule["id"] for rule in log["runs"][0]["tool"]["driver"]["rules"]] == ["EL001", "EL002"]
    assert result.summary == ""
    assert "::error" not in result.stdout


def test_config_error_is_reported_in_the_summary_and_fails(
    repo: Path, runner: Path, installed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", f"{installed}{os.pathsep}{os.environ.get('PATH', '')}")
    (repo / ".exemptlint.yaml").write_text("fail-on: sometimes\n", encoding="utf-8")
    result = run_action(repo, runner, {"upload-sarif": "true"}, skip=INSTALLED)
    assert result.outputs["lint"] == {"exit-code": "2", "sarif-file": ""}
    assert result.uses == []  # no report to upload
    assert "exemptlint exited with 2 before writing a report" in result.summary
    assert result.failed == "Fail on findings or errors"


def test_a_path_cannot_inject_shell_code(
    repo: Path, runner: Path, installed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", f"{installed}{os.pathsep}{os.environ.get('PATH', '')}")
    result = run_action(repo, runner, {"paths": "policy $(touch pwned) `touch pwned2`"}, skip=INSTALLED)
    assert not (repo / "pwned").exists() and not (repo / "pwned2").exists()
    assert result.outputs["lint"]["exit-code"] == "2"  # those are paths that do not exist


# --- Azure DevOps template -----------------------------------------------------------------------


def _azure_steps(steps: list[Any], parameters: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The steps with the template's ``${{ if eq(parameters.X, true) }}:`` blocks resolved."""
    flat: list[dict[str, Any]] = []
    for step in steps:
        (key,) = step if len(step) == 1 else (None,)
        if isinstance(key, str) and key.startswith("${{ if"):
            match = re.fullmatch(r"\$\{\{ if eq\(parameters\.(\w+), true\) \}\}", key)
            assert match, key
            if parameters[match.group(1)] is True:
                flat.extend(_azure_steps(step[key], parameters))
        else:
            flat.append(step)
    return flat


def run_azure_template(repo: Path, runner: Path, overrides: Mapping[str, Any]) -> tuple[list[str], list[Any]]:
    """The template's bash steps run in order as an agent would; its tasks only collected."""
    template = _load(ROOT / "azure-pipelines" / "exemptlint.yml")
    parameters = {p["name"]: p.get("default") for p in template["parameters"]}
    assert set(overrides) <= set(parameters)
    parameters.update(overrides)
    variables = {
        "Build.ArtifactStagingDirectory": str(runner / "staging"),
        "Agent.TempDirectory": str(runner),
    }

    def expression(match: re.Match[str]) -> str:
        text = match.group(1).strip()
        joined = re.fullmatch(r"join\('(.*)', parameters\.(\w+)\)", text)
        if joined:
            return joined.group(1).join(parameters[joined.group(2)])
        assert text.startswith("parameters."), text
        return str(parameters[text.removeprefix("parameters.")])

    def expand(text: str) -> str:
        text = re.sub(r"\$\{\{(.*?)\}\}", expression, text)
        return re.sub(r"\$\(([\w.]+)\)", lambda m: variables[m.group(1)], text)

    log: list[str] = []
    tasks: list[Any] = []
    for step in _azure_steps(template["steps"], parameters):
        condition = step.get("condition", "")
        if "ne(variables['exemptlintExitCode'], '0')" in condition and variables["exemptlintExitCode"] == "0":
            continue
        if "task" in step:
            tasks.append((step["task"], {k: expand(str(v)) for k, v in step["inputs"].items()}))
            continue
        assert "${{" not in step["bash"] and "$(" not in step["bash"].replace("$(Agent.TempDirectory)", "")
        env = {"PATH": os.environ["PATH"], "HOME": str(runner), "TF_BUILD": "True", "EXEMPTLINT_CACHE_DIR": ""}
        env.update({k: expand(str(v)) for k, v in step.get("env", {}).items()})
        done = subprocess.run(
            [BASH, "--noprofile", "--norc", "-c", expand(step["bash"])],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        log.extend(done.stdout.splitlines())
        for line in done.stdout.splitlines():
            found = re.fullmatch(r"##vso\[task\.setvariable variable=(\w+)\](.*)", line)
            if found:
                variables[found.group(1)] = found.group(2)
        log.append(f"[exit {done.returncode}: {step['displayName']}]")
    return log, tasks


def test_azure_pipelines_template_publishes_junit_and_sarif(
    repo: Path, runner: Path, installed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", f"{installed}{os.pathsep}{os.environ.get('PATH', '')}")
    log, tasks = run_azure_template(repo, runner, {"paths": ["policy"], "install": False, "args": PINNED})
    assert "##vso[task.setvariable variable=exemptlintExitCode]1" in log
    assert "[exit 0: Lint exemptions]" in log
    assert log[-2].startswith("##vso[task.logissue type=error]exemptlint exited with 1")
    assert log[-1] == "[exit 1: Fail on exemptlint findings or errors]"
    junit = (repo / "exemptlint-junit.xml").read_text(encoding="utf-8")
    assert "EL005" in junit and "policy/prod/expired.json" in junit
    sarif = json.loads((runner / "staging" / "CodeAnalysisLogs" / "exemptlint.sarif").read_text(encoding="utf-8"))
    assert [r["ruleId"] for r in sarif["runs"][0]["results"]] == ["EL005"]
    published = dict(tasks)
    assert published["PublishTestResults@2"]["testResultsFiles"] == "exemptlint-junit.xml"
    assert published["PublishBuildArtifacts@1"] == {
        "PathtoPublish": str(runner / "staging" / "CodeAnalysisLogs"),
        "ArtifactName": "CodeAnalysisLogs",
        "publishLocation": "Container",
    }


def test_azure_pipelines_template_clean_run_does_not_fail(
    repo: Path, runner: Path, installed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", f"{installed}{os.pathsep}{os.environ.get('PATH', '')}")
    (repo / "policy" / "prod" / "expired.json").unlink()
    log, tasks = run_azure_template(
        repo, runner, {"paths": ["policy"], "install": False, "publishSarif": False, "args": PINNED}
    )
    assert "##vso[task.setvariable variable=exemptlintExitCode]0" in log
    assert not any("logissue" in line for line in log)
    assert [name for name, _ in tasks] == ["PublishTestResults@2"]
