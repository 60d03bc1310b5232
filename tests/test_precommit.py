"""The pre-commit hook, end to end: the README's snippet, copied as written (only the repository URL
replaced by a local copy of this checkout's HEAD), run by real pre-commit, then after the documented
``pre-commit autoupdate``.

pre-commit installs the hook from the commit ``rev`` names (HEAD of this checkout), so the hook lints
with the code committed at HEAD, not with uncommitted edits: CI runs on a clean clone of a commit.
Each run with a new ``rev`` builds the hook environment (``pip install`` of exemptlint and its
dependencies) in a temporary ``PRE_COMMIT_HOME``, which takes most of the test's time.
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


def _run(pre_commit: str, repo: Path, env: dict[str, str], timeout: int, *args: str) -> tuple[int, str]:
    try:
        result = subprocess.run(
            [pre_commit, *args],
            cwd=repo,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"pre-commit {' '.join(args)} took more than {timeout}s:\n{error.stdout!s}")
    return result.returncode, result.stdout


def _readme_snippet() -> str:
    """The README's .pre-commit-config.yaml, exactly as a user copies it."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split("<!-- pre-commit-snippet", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]


def _published(tmp_path: Path, env: dict[str, str]) -> tuple[Path, str]:
    """A stand-in for https://github.com/exemptlint/exemptlint as it is published: branch ``main`` at
    the commit under test and nothing else (no tags: only main and its commits are published)."""
    head = _git(REPO_ROOT, env, "rev-parse", "HEAD")
    upstream = tmp_path / "exemptlint.git"
    _git(tmp_path, env, "init", "--quiet", "--bare", str(upstream))
    _git(upstream, env, "fetch", "--quiet", "--no-tags", str(REPO_ROOT), head)
    _git(upstream, env, "update-ref", "refs/heads/main", head)
    _git(upstream, env, "symbolic-ref", "HEAD", "refs/heads/main")
    assert _git(upstream, env, "tag", "--list") == ""
    return upstream, head


def test_readme_snippet_works_as_written_then_after_autoupdate(tmp_path: Path) -> None:
    pre_commit = _pre_commit()
    if shutil.which("git") is None:
        pytest.fail("git is not installed")
    env = _environment(tmp_path)
    upstream, head = _published(tmp_path, env)

    repo = tmp_path / "policies"
    repo.mkdir()
    _git(repo, env, "init", "--quiet")
    _git(repo, env, "config", "user.name", "exemptlint tests")
    _git(repo, env, "config", "user.email", "tests@exemptlint.invalid")
    # A user's global commit signing must not break the commits below (--no-verify skips their hooks).
    _git(repo, env, "config", "commit.gpgsign", "false")
    snippet = _readme_snippet()
    url = "https://github.com/exemptlint/exemptlint"
    assert snippet.count(url) == 1 and "rev: main\n" in snippet
    config = repo / ".pre-commit-config.yaml"
    config.write_text(snippet.replace(url, upstream.as_posix()), encoding="utf-8")
    # The snippet takes no arguments: the date is pinned in the config, which also stops the upward
    # config search (no .exemptlint.yaml above tmp_path applies).
    (repo / ".exemptlint.yaml").write_text("today: 2026-11-24\n", encoding="utf-8")
    exemption = repo / "exemptions" / "app-tls.json"
    exemption.parent.mkdir()
    shutil.copyfile(FIXTURES / "EL005-fail-expired.json", exemption)
    _git(repo, env, "add", "-A")
    _git(repo, env, "commit", "--quiet", "--no-verify", "-m", "expired exemption")

    # As written: rev main works (pre-commit warns that a branch moves).
    code, output = _run(pre_commit, repo, env, INSTALL_TIMEOUT, "run", "--all-files")
    assert code == 1, output
    assert "exemptlint (Azure Policy exemptions)" in output and "Failed" in output, output
    # What the hook prints: the text report, the path once and the finding beneath it.
    assert (
        "exemptions/app-tls.json\n"
        "  11:5  error  EL005  exemption 'app-tls' expired on 2026-10-31 (24 days ago);\n"
        "                      renew it with a new review or delete it\n"
        "\n"
        # The two YAML configs are passed too (the hook takes YAML) and hold no exemption.
        "Checked 1 exemption in 3 files: 1 error, 0 warnings, 0 notes.\n"
    ) in output, output

    # In a terminal, pre-commit runs hooks in a pseudo-terminal without a size: the report is
    # coloured (bold path, red level) and still wrapped to 80 columns.
    coloured = {key: value for key, value in env.items() if key != "NO_COLOR"}
    code, output = _run(pre_commit, repo, coloured, RUN_TIMEOUT, "run", "--all-files", "--color", "always")
    assert code == 1, output
    assert "\x1b[1mexemptions/app-tls.json\x1b[0m" in output, output
    assert "\x1b[1;31merror\x1b[0m" in output, output
    assert "(24 days ago);\r\n" in output or "(24 days ago);\n" in output, output

    # The documented step: autoupdate pins rev to the newest commit of main (there is no tag).
    code, output = _run(pre_commit, repo, env, RUN_TIMEOUT, "autoupdate")
    assert code == 0, output
    assert config.read_text(encoding="utf-8") == snippet.replace(url, upstream.as_posix()).replace(
        "rev: main\n", f"rev: {head}\n"
    )

    shutil.copyfile(FIXTURES / "pass-baseline.json", exemption)
    _git(repo, env, "add", "-A")
    _git(repo, env, "commit", "--quiet", "--no-verify", "-m", "renewed exemption")
    code, output = _run(pre_commit, repo, env, INSTALL_TIMEOUT, "run", "--all-files")
    assert code == 0, output
    assert "exemptlint (Azure Policy exemptions)" in output and "Passed" in output, output
    assert "EL005" not in output and "mutable reference" not in output, output
