"""The directory walk (exemptlint.discover), the keyword prefilter on bytes and the worker
threshold that counts only the files that can hold something."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from exemptlint import parallel
from exemptlint.cli import main
from exemptlint.discover import (
    LOOP_MESSAGE,
    SKIPPED_DIRECTORIES,
    SOURCE_SUFFIXES,
    discover,
    display_path,
    suffix_of,
)
from exemptlint.loaders import KEYWORDS, certainly_irrelevant, load_json_text, mentions_any

FIXTURES = Path(__file__).parent / "fixtures" / "rules"
TODAY = ["--today", "2026-11-24"]
EXPIRED = (FIXTURES / "EL005-fail-expired.json").read_text(encoding="utf-8")
GOOD = (FIXTURES / "pass-baseline.json").read_text(encoding="utf-8")


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _os_walk_reference(root: str, exclude: tuple[str, ...] = ()) -> list[str]:
    """The walk as it was written with os.walk and pathlib (the oracle for order and paths)."""
    from fnmatch import fnmatch

    def excluded(path: Path) -> bool:
        text = display_path(path)
        return any(fnmatch(text, p) or fnmatch(path.name, p) for p in exclude)

    found = []
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(
            d for d in subdirs if d not in SKIPPED_DIRECTORIES and not excluded(Path(directory, d))
        )
        for name in sorted(files):
            file = Path(directory, name)
            if file.suffix.lower() in SOURCE_SUFFIXES and not excluded(file) and file.is_file():
                # A link is shown by its own path, not its target's (the old walk resolved
                # each file of a root with ".." in it, links included).
                parent = display_path(Path(directory))
                found.append(name if parent == "." else f"{parent}/{name}")
    return found


def _tree(root: Path) -> None:
    for relative in (
        "b.json",
        "A.JSON",
        "a.yaml",
        "notes.md",
        ".json",
        "x.",
        "z/deep/er/t.tf",
        "z/deep/p.bicepparam",
        "m/n.jsonc",
        "m/o.csv",
        "m/skip-me.json",
        "node_modules/pkg/package.json",
        ".git/config.json",
        "Z/upper.yml",
        "excluded-dir/e.json",
    ):
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}", encoding="utf-8")
    (root / "link.json").symlink_to(root / "b.json")
    (root / "dirlink").symlink_to(root / "m")  # links to directories are not followed
    (root / "dangling.json").symlink_to(root / "nowhere.json")


@pytest.mark.parametrize("root", [".", "tree", "./tree/", "tree/../tree"])
def test_walk_matches_the_os_walk_reference(workdir: Path, root: str) -> None:
    _tree(workdir / "tree") if root != "." else _tree(workdir)
    exclude = ("skip-*", "excluded-dir")
    found, errors = discover([root], exclude)
    # The dangling link is said, not passed over without a word (issue 17, item 4).
    assert [(e.file.rsplit("/", 1)[-1], e.message.split(" '")[0]) for e in errors] == [
        ("dangling.json", "symbolic link to")
    ]
    assert [f.shown for f in found] == _os_walk_reference(root, exclude)
    assert all(os.path.isfile(f.path) for f in found)
    shown = [f.shown for f in found]
    assert "b.json" in {Path(s).name for s in shown} and "link.json" in {Path(s).name for s in shown}
    assert not any(Path(s).name == ".json" or "dirlink" in s or "node_modules" in s for s in shown)


def test_absolute_root_below_the_working_directory_is_shown_relative(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tree(workdir / "tree")
    resolved: list[Path] = []
    original = Path.resolve

    def counting(self: Path, strict: bool = False) -> Path:
        resolved.append(self)
        return original(self, strict)

    monkeypatch.setattr(Path, "resolve", counting)
    found, _ = discover([str(workdir / "tree")])
    # The root is resolved once (and the working directory), never each file.
    assert len(resolved) <= 2
    assert [f.shown for f in found] == _os_walk_reference("tree")


def test_the_walk_picks_up_every_format_the_loaders_read() -> None:
    from exemptlint import loaders

    assert SOURCE_SUFFIXES == loaders.SOURCE_SUFFIXES


def test_suffix_of_is_pathlibs_suffix() -> None:
    for name in ("a.json", "A.JSON", ".json", "x.", "a.b.Bicep", "noext", "..json", "a..json"):
        assert suffix_of(name) == Path(name).suffix.lower(), name


def test_looping_link_in_a_directory_is_reported_and_the_run_goes_on(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "tree").mkdir()
    (workdir / "tree" / "expired.json").write_text(EXPIRED, encoding="utf-8")
    (workdir / "tree" / "self.json").symlink_to("self.json")
    (workdir / "tree" / "a.yaml").symlink_to("b.yaml")
    (workdir / "tree" / "b.yaml").symlink_to("a.yaml")
    # Not named like a source: it would not be read whatever it pointed at.
    (workdir / "tree" / "other").symlink_to("other")
    code = main(["check", "tree", *TODAY, "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 2
    assert report["errors"] == [
        {"file": "tree/a.yaml", "line": 1, "column": 1, "message": LOOP_MESSAGE},
        {"file": "tree/b.yaml", "line": 1, "column": 1, "message": LOOP_MESSAGE},
        {"file": "tree/self.json", "line": 1, "column": 1, "message": LOOP_MESSAGE},
    ]
    # The other file was still linted.
    assert [f["ruleId"] for f in report["findings"]] == ["EL005"]
    assert report["files"] == ["tree/expired.json"]


def test_looping_link_named_directly_says_so(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "loop.json").symlink_to("loop.json")
    (workdir / "good.json").write_text(GOOD, encoding="utf-8")
    assert main(["check", "loop.json", "good.json", *TODAY, "--format", "json"]) == 2
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["errors"] == [{"file": "loop.json", "line": 1, "column": 1, "message": LOOP_MESSAGE}]
    assert report["summary"]["exemptions"] == 1
    # One line on standard error, naming the file and what it is.
    assert captured.err.splitlines() == [f"loop.json:1:1: error: {LOOP_MESSAGE}"]
    assert "no such file" not in captured.err
    # A path that does not exist still says so.
    assert main(["check", "missing.json", *TODAY, "--format", "json"]) == 2
    assert "missing.json:1:1: error: no such file or directory" in capsys.readouterr().err


def test_prefilter_on_bytes_agrees_with_the_text_check() -> None:
    samples = [
        b"{}",
        b'{"name": "x"}',
        b'{"ExemptionCategory": "Waiver"}',
        b'{"x": "POLICYEXEMPTIONS"}',
        b'{"type": "Microsoft.Authorization/policyAssignments"}',
        '{"exemption\u212acategory": 1}'.encode(),  # non-ASCII: decided on the text
        b"\xef\xbb\xbf{}",
        b"\xff\xfe",
        *(keyword.upper().encode() for keyword in KEYWORDS),
        *(("  " + keyword + "  ").encode() for keyword in KEYWORDS),
    ]
    for data in samples:
        if certainly_irrelevant(data, ".json"):
            text = data.decode("utf-8")
            assert not mentions_any(text, KEYWORDS)
            assert load_json_text(text, "x.json", _options()).exemptions == []
        else:
            assert not data.isascii() or mentions_any(data.decode("ascii"), KEYWORDS), data
    # Other formats have their own checks: never dropped here.
    assert not certainly_irrelevant(b"{}", ".yaml")
    assert not certainly_irrelevant(b"{}", ".bicep")
    assert certainly_irrelevant(b"{}", ".jsonc")


def test_every_keyword_contains_an_anchor() -> None:
    from exemptlint.loaders import _ANCHORS

    for keyword in KEYWORDS:
        assert any(anchor.decode() in keyword.lower() for anchor in _ANCHORS), keyword


def _options():  # type: ignore[no-untyped-def]
    import datetime

    from exemptlint.loaders import LoadOptions

    return LoadOptions(today=datetime.date(2026, 11, 24))


def test_invalid_utf8_without_keywords_is_still_an_error(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "bad.json").write_bytes(b'{"a": "\xff"}')
    assert main(["check", ".", *TODAY, "--format", "json"]) == 2
    (error,) = json.loads(capsys.readouterr().out)["errors"]
    assert error["message"] == "file is not valid UTF-8 text"


@pytest.fixture
def spy_workers(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    started: list[int] = []
    original = parallel.lint_in_parallel

    def spy(files, *args, **kwargs):  # type: ignore[no-untyped-def]
        started.append(len(files))
        return original(files, *args, **kwargs)

    monkeypatch.setattr(parallel, "lint_in_parallel", spy)
    monkeypatch.setattr(parallel, "MIN_FILES", 5)
    monkeypatch.setattr(parallel, "MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "available_cores", lambda: 2)
    yield started


def _monorepo(root: Path, exemptions: int, others: int) -> None:
    for index in range(others):
        folder = root / f"service-{index % 7}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"settings-{index}.json").write_text(json.dumps({"name": f"app-{index}"}), encoding="utf-8")
    for index in range(exemptions):
        folder = root / f"service-{index % 7}"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(FIXTURES / "EL005-fail-expired.json", folder / f"exemption-{index}.json")


def test_worker_threshold_counts_only_files_that_can_hold_exemptions(
    workdir: Path, spy_workers: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    _monorepo(workdir / "repo", exemptions=4, others=60)
    assert main(["check", "repo", *TODAY, "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert spy_workers == []  # 64 files, but only 4 can hold an exemption: one process
    assert report["summary"]["files"] == 64 and report["summary"]["exemptions"] == 4

    _monorepo(workdir / "repo", exemptions=6, others=60)
    assert main(["check", "repo", *TODAY, "--format", "json"]) == 1
    parallel_report = json.loads(capsys.readouterr().out)
    assert spy_workers == [6]  # the workers get only the 6 relevant files
    assert main(["check", "repo", *TODAY, "--format", "json", "--jobs", "1"]) == 1
    assert json.loads(capsys.readouterr().out) == parallel_report
    assert parallel_report["summary"]["files"] == 66 and parallel_report["summary"]["exemptions"] == 6
