"""The pre-commit hook, end to end: pre-commit installs it from this checkout and runs it.

pre-commit installs the hook from the commit ``rev`` names (HEAD of this checkout), so the hook lints
with the code committed at HEAD, not with uncommitted edits: CI runs on a clean clone of a commit.
The first run builds the hook environment (``pip install`` of exemptlint and its dependencies) in a
temporary ``PRE_COMMIT_HOME``, which takes most of the test's time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "rules"

# The hook environment install runs pip; generous, so a slow index does not fail the test.
INSTALL_TIMEOUT = 900
RUN_TIMEOUT = 300

# pip options that change where or how pip installs (into the user site, a target or prefix
# directory, refuse outside a virtualenv, ...) would break the install into pre-commit's own
# virtualenv. Options that only say where packages come from are kept, so a mirror still works.
_PIP_KEPT = frozenset(
    {
        "PIP_INDEX_URL",
        "PIP_EXTRA_INDEX_URL",
        "PIP_FIND_LINKS",
        "PIP_TRUSTED_HOST",
        "PIP_CERT",
        "PIP_CLIENT_CERT",
        "PIP_PROXY",
        "PIP_DEFAULT_TIMEOUT",
        "PIP_TIMEOUT",
        "PIP_RETRIES",
        "PIP_DISABLE_PIP_VERSION_CHECK",
    }
)


def _pre_commit() -> str:
    """The pre-commit executable: beside this interpreter (the venv under test) first, then PATH."""
    scripts = Path(sys.executable).parent
    for name in ("pre-commit", "pre-commit.exe"):
        candidate = scripts / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("pre-commit")
    if found is None:
        pytest.skip("pre-commit is not installed (pip install pre-commit)")
    return found


def _environment(home: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        # GIT_DIR, GIT_INDEX_FILE, ... (set when the tests run inside a git hook) would point git
        # at another repository; PRE_COMMIT_* would change what pre-commit runs.
        if not key.startswith(("GIT_", "PRE_COMMIT"))
        and not (key.startswith("PIP_") and key not in _PIP_KEPT)
        and key not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"}
    }
    env["PRE_COMMIT_HOME"] = str(home / "pre-commit-home")
    # Hooks that exit non-zero print their output; no colour codes in what the test reads.
    env["PRE_COMMIT_COLOR"] = "never"
    env["NO_COLOR"] = "1"
    return env


def _git(cwd: Path, env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, f"git {' '.join(args)} failed:\n{result.stdout}{result.stderr}"
    return result.stdout.strip()


def _run_hooks(pre_commit: str, repo: Path, env: dict[str, str], timeout: int) -> tuple[int, str]:
    try:
        result = subprocess.run(
            [pre_commit, "run", "--all-files"],
            cwd=repo,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"pre-commit run took more than {timeout}s:\n{error.stdout!s}")
    return result.returncode, result.stdout


def test_pre_commit_hook_fails_bad_exemption_and_passes_good_one(tmp_path: Path) -> None:
    pre_commit = _pre_commit()
    if shutil.which("git") is None:
        pytest.fail("git is not installed")
    env = _environment(tmp_path)
    hook_rev = _git(REPO_ROOT, env, "rev-parse", "HEAD")

    repo = tmp_path / "policies"
    repo.mkdir()
    _git(repo, env, "init", "--quiet")
    _git(repo, env, "config", "user.name", "exemptlint tests")
    _git(repo, env, "config", "user.email", "tests@exemptlint.invalid")
    # A user's global commit signing must not break the commits below (--no-verify skips their hooks).
    _git(repo, env, "config", "commit.gpgsign", "false")
    (repo / ".pre-commit-config.yaml").write_text(
        "repos:\n"
        f"  - repo: {REPO_ROOT.as_posix()}\n"
        f"    rev: {hook_rev}\n"
        "    hooks:\n"
        "      - id: exemptlint\n"
        '        args: [--today, "2026-11-24"]\n',
        encoding="utf-8",
    )
    # Defaults, and a stop to the upward config search: no .exemptlint.yaml above tmp_path applies.
    (repo / ".exemptlint.yaml").write_text("# defaults\n", encoding="utf-8")
    exemption = repo / "exemptions" / "app-tls.json"
    exemption.parent.mkdir()
    shutil.copyfile(FIXTURES / "EL005-fail-expired.json", exemption)
    _git(repo, env, "add", "-A")
    _git(repo, env, "commit", "--quiet", "--no-verify", "-m", "expired exemption")

    code, output = _run_hooks(pre_commit, repo, env, INSTALL_TIMEOUT)
    assert code != 0, output
    assert "EL005" in output, output
    assert "exemptions/app-tls.json" in output, output

    shutil.copyfile(FIXTURES / "pass-baseline.json", exemption)
    _git(repo, env, "add", "-A")
    _git(repo, env, "commit", "--quiet", "--no-verify", "-m", "renewed exemption")

    code, output = _run_hooks(pre_commit, repo, env, RUN_TIMEOUT)
    assert code == 0, output
    assert "EL005" not in output, output
