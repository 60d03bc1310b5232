"""Tokens that pipelines fill before deploying (<<namePrefix>>, {{TOKEN}}, __token__) make a template's
exemption name or scope unknown, never invalid: EL008 judges only names it can read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from exemptlint.cli import main

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "placeholders"


def report(tmp_path: Path, name: str) -> dict[str, Any]:
    out = tmp_path / "report.json"
    code = main(["check", str(FIXTURES / name), "--today", "2026-11-24", "--format", "json", "--output", str(out)])
    assert code in (0, 1)
    document: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    assert document["errors"] == []
    return document


@pytest.mark.parametrize(
    ("name", "token_name", "bad_name", "bad_at"),
    [
        ("template-tokens.json", "<<namePrefix>>-exemption", "bad/name", (24, 7)),
        ("tokens.bicep", "<<namePrefix>>-exemption", "bad*name", (16, 3)),
    ],
)
def test_a_token_in_a_name_is_unknown_but_a_bad_name_is_invalid(
    tmp_path: Path, name: str, token_name: str, bad_name: str, bad_at: tuple[int, int]
) -> None:
    document = report(tmp_path, name)
    el008 = [(f["exemption"], f["line"], f["column"]) for f in document["findings"] if f["ruleId"] == "EL008"]
    assert el008 == [(bad_name, *bad_at)]
    names = {json.dumps(e["name"]) for e in document["exemptions"]}
    token = [e["name"] for e in document["exemptions"] if isinstance(e["name"], dict)]
    assert len(names) == 2 and [t["partial"] for t in token] == [token_name]
