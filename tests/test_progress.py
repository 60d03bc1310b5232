"""The progress bar: on a terminal for runs over a second, never in CI, pre-commit or output that
is not a terminal."""

from __future__ import annotations

import io
import os
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from exemptlint.progress import Progress, wanted

FIXTURES = Path(__file__).parent / "fixtures" / "rules"
pytestmark = pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")


def _terminal() -> tuple[int, int]:
    master, slave = os.openpty()
    return master, slave


def test_wanted_only_on_an_interactive_terminal() -> None:
    master, slave = _terminal()
    try:
        with os.fdopen(os.dup(slave), "w") as tty:
            assert wanted(tty, {})
            assert wanted(tty, {"TERM": "xterm-256color"})
            for name in ("CI", "TF_BUILD", "PRE_COMMIT", "BUILD_ID", "JENKINS_URL"):
                assert not wanted(tty, {name: "1"}), name
            assert wanted(tty, {"CI": ""})  # set but empty: not CI
            assert not wanted(tty, {"TERM": "dumb"})
    finally:
        os.close(master)
        os.close(slave)
    assert not wanted(io.StringIO(), {})
    with open(os.devnull, "w") as null:
        assert not wanted(null, {})


def test_no_bar_before_the_delay_and_none_when_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    quick = Progress(True, 10, stream)
    for _ in range(10):
        quick.advance()
    quick.close()
    assert stream.getvalue() == "" and quick._bar is None
    monkeypatch.setattr("exemptlint.progress.DELAY", 0.0)
    off = Progress(False, 10, stream)
    off.advance()
    off.close()
    assert stream.getvalue() == ""


def _run_on_terminal(
    tmp_path: Path, env: dict[str, str], delay: float, *, stderr_tty: bool = True, jobs: str = "1"
) -> bytes:
    """What ``exemptlint check`` writes to standard error when that is a terminal (or a pipe)."""
    code = (
        "import sys, exemptlint.progress as p\n"
        f"p.DELAY = {delay}\n"
        "from exemptlint.cli import main\n"
        f"code = main(['check', '.', '--today', '2026-11-24', '--jobs', '{jobs}'])\n"
        "print('rich' in sys.modules, file=sys.stdout)\n"
        "sys.exit(code)\n"
    )
    master, slave = _terminal()
    environment = {k: v for k, v in os.environ.items() if k not in ("CI", "TF_BUILD", "PRE_COMMIT")}
    environment.update({"TERM": "xterm", "COLUMNS": "100", "EXEMPTLINT_CACHE_DIR": "", **env})
    try:
        process = subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=slave if stderr_tty else subprocess.PIPE,
            env=environment,
        )
        os.close(slave)
        written = b""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the other side is closed
                    break
                if not chunk:
                    break
                written += chunk
            elif process.poll() is not None:
                break
        out, err = process.communicate(timeout=60)
    finally:
        os.close(master)
    assert process.returncode == 1
    imported = out.decode().strip().splitlines()[-1]
    return written + (err or b"") + f"\n[rich imported: {imported}]".encode()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    for index in range(30):
        shutil.copyfile(FIXTURES / "EL005-fail-expired.json", tmp_path / f"e{index}.json")
    return tmp_path


@pytest.mark.parametrize(("jobs", "total"), [("1", b"30/30"), ("2", b"90/90")])
def test_bar_on_a_terminal_for_a_long_run(repo: Path, jobs: str, total: bytes) -> None:
    # With workers: the files read here, then the two passes over the 30 relevant ones.
    written = _run_on_terminal(repo, {}, 0.0, jobs=jobs)
    assert total in written and b"files" in written
    assert b"[rich imported: True]" in written


@pytest.mark.parametrize("env", [{"CI": "true"}, {"PRE_COMMIT": "1"}, {"TF_BUILD": "True"}, {"TERM": "dumb"}])
def test_never_in_ci_or_pre_commit(repo: Path, env: dict[str, str]) -> None:
    written = _run_on_terminal(repo, env, 0.0)
    assert written == b"\n[rich imported: False]"


def test_never_when_standard_error_is_not_a_terminal(repo: Path) -> None:
    written = _run_on_terminal(repo, {}, 0.0, stderr_tty=False)
    assert written == b"\n[rich imported: False]"


def test_never_for_a_quick_run(repo: Path) -> None:
    written = _run_on_terminal(repo, {}, 30.0)
    assert written == b"\n[rich imported: False]"
