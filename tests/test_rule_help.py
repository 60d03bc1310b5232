"""Rule help where people look: SARIF rules[].help carries each rule's documentation page, and
``exemptlint rule ID`` prints it (the same as ``exemptlint rules ID``)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from exemptlint.cli import main
from exemptlint.packaged import package_text
from exemptlint.rules import BUILTIN_RULES
from exemptlint.rules.api import DOCS_BASE
from exemptlint.rules.docs import absolute_links, plain_text, rule_page

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "rules"


def test_packaged_pages_are_the_docs_pages() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "sync_rule_docs.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr + "\nrun: python scripts/sync_rule_docs.py"
    for rule in BUILTIN_RULES:
        assert package_text("data", "rules", f"{rule.id}.md") == (DOCS / f"{rule.id}.md").read_text(
            encoding="utf-8"
        )


def test_pyproject_packages_the_pages() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"data/rules/*.md"' in pyproject


def test_links_are_made_absolute() -> None:
    base = DOCS_BASE + "/"
    text = "See [EL003](EL003.md), [config](../configuration.md#today), [web](https://x.y/z) and [top](#why)."
    assert absolute_links(text, base) == (
        f"See [EL003]({DOCS_BASE}/EL003.md), "
        "[config](https://github.com/exemptlint/exemptlint/blob/main/docs/configuration.md#today), "
        "[web](https://x.y/z) and [top](#why)."
    )
    assert plain_text("**bold** and [EL003](https://a/b)") == "bold and EL003 (https://a/b)"


def _sarif(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> dict:  # type: ignore[type-arg]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.json").write_text("{}", encoding="utf-8")
    assert main(["check", "x.json", "--today", "2026-11-24", "--format", "sarif"]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_sarif_help_is_the_documentation_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    log = _sarif(tmp_path, monkeypatch, capsys)
    descriptors = log["runs"][0]["tool"]["driver"]["rules"]
    assert [d["id"] for d in descriptors] == [rule.id for rule in BUILTIN_RULES]
    for descriptor, rule in zip(descriptors, BUILTIN_RULES, strict=True):
        page = (DOCS / f"{rule.id}.md").read_text(encoding="utf-8").strip()
        markdown = descriptor["help"]["markdown"]
        text = descriptor["help"]["text"]
        # Every section of the page, with links that work outside the docs folder.
        assert markdown.startswith(f"# {rule.id}: {rule.name}\n")
        for heading in re.findall(r"^## .+$", page, re.MULTILINE):
            assert heading in markdown and heading in text
        assert not re.search(r"\]\((?!https?://|#)", markdown), rule.id
        assert "**" not in text and f"{rule.id}: {rule.name}" in text
        assert markdown.endswith(f"[{rule.id} documentation]({rule.help_uri})")
        assert rule_page(rule) is not None and rule_page(rule) in markdown


def test_rule_prints_the_page_like_rules_id(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rule", "EL004"]) == 0
    page = capsys.readouterr().out
    assert main(["rules", "el004"]) == 0
    assert capsys.readouterr().out == page
    assert page.startswith("EL004 expiry-bounded\n")
    assert "# EL004: expiry-bounded\n" in page and "## Failing example" in page
    assert "  max-days: int = 365" in page
    assert main(["rule", "EL004", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["id"] == "EL004"
    assert document["documentation"].startswith("# EL004: expiry-bounded\n")
    assert main(["rule", "EL4"]) == 2
    assert "EL4 is not a rule; did you mean EL004?" in capsys.readouterr().err
    assert main(["rule"]) == 2  # the id is required
