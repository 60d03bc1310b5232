"""The real corpus is a regression record: a run over ../shared/corpus/real gives exactly the findings
in tests/corpus/expected-findings.tsv, each reviewed with a one-line verdict.

A finding added or removed by a change fails here until the record is rewritten
(`python scripts/corpus_record.py --write`) and the new rows get their verdicts, so precision and
recall on real files both show up in review."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "real"

pytestmark = pytest.mark.skipif(
    not (CORPUS / "MANIFEST.tsv").is_file(), reason="../shared/corpus/real is absent"
)


def _record_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("corpus_record", ROOT / "scripts" / "corpus_record.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


record_tool = _record_module()


@pytest.fixture(scope="module")
def fresh_rows() -> list[dict[str, str]]:
    return list(record_tool.run_corpus(CORPUS))


def _lines(rows: list[dict[str, str]]) -> list[str]:
    return [f"{r['file']}:{r['line']}:{r['column']}: {r['rule']} [{r['level']}] {r['message']}" for r in rows]


def test_corpus_findings_match_the_record(fresh_rows: list[dict[str, str]]) -> None:
    record = record_tool.read_record()
    added, removed = record_tool.differences(record, fresh_rows)
    assert (_lines(added), _lines(removed)) == ([], []), (
        "the corpus findings changed: review them and run `python scripts/corpus_record.py --write`"
    )


def test_every_recorded_finding_has_a_verdict() -> None:
    record = record_tool.read_record()
    assert record, "tests/corpus/expected-findings.tsv is missing or empty"
    assert [row for row in record if not row["verdict"].strip()] == []


def test_the_record_is_sorted_and_well_formed() -> None:
    record = record_tool.read_record()
    assert record == sorted(record, key=record_tool.sort_key)
    for row in record:
        assert row["rule"].startswith("EL") and row["level"] in {"error", "warning", "note"}
        assert int(row["line"]) >= 1 and int(row["column"]) >= 1


def test_differences_count_repeated_findings() -> None:
    # The comparison itself must be able to fail: one copy of a repeated finding missing is a difference.
    row = {"file": "f.json", "line": "3", "column": "5", "rule": "EL004", "level": "error",
           "message": "m", "verdict": "v"}
    added, removed = record_tool.differences([row, row], [row])
    assert (added, removed) == ([], [row])
    added, removed = record_tool.differences([row], [row, {**row, "line": "4"}])
    assert added == [{**row, "line": "4"}] and removed == []
