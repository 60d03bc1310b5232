#!/usr/bin/env python3
"""The real corpus as a regression record: every finding it produces, with a reviewed verdict.

    python scripts/corpus_record.py            # show findings added to or removed from the record
    python scripts/corpus_record.py --write    # rewrite the record, keeping every verdict still valid

The record is ``tests/corpus/expected-findings.tsv``: one row per finding that
``exemptlint check ../shared/corpus/real --today 2026-11-24`` produces (file relative to the corpus,
line, column, rule, level, message) and a one-line verdict saying why the finding is right.
``--write`` keeps the verdict of a row whose file, line, column, rule and level are unchanged (so a
reworded message keeps its verdict) and leaves new rows without one; tests/test_corpus_record.py
fails on a row without a verdict and on any difference between the record and a fresh run.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "real"
RECORD = ROOT / "tests" / "corpus" / "expected-findings.tsv"
TODAY = "2026-11-24"
COLUMNS = ("file", "line", "column", "rule", "level", "message", "verdict")

Row = dict[str, str]


def run_corpus(corpus: Path = CORPUS) -> list[Row]:
    """Every finding of a run over the corpus, as record rows without verdicts, in report order."""
    from exemptlint.cli import main  # imported here so --help works without the package

    with tempfile.TemporaryDirectory() as work:
        report_path = Path(work) / "report.json"
        quiet = io.StringIO()
        # Run from inside the corpus so that every path, in locations and in messages that name
        # another file, is relative: the record holds no path of the machine that made it.
        here = os.getcwd()
        os.chdir(corpus)
        try:
            with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
                code = main(["check", ".", "--today", TODAY, "--format", "json", "--output",
                             str(report_path), "--jobs", "1"])
        finally:
            os.chdir(here)
        if code not in (0, 1):
            raise RuntimeError(f"exemptlint exited {code} on the corpus:\n{quiet.getvalue()}")
        report = json.loads(report_path.read_text(encoding="utf-8"))
    rows = []
    for finding in report["findings"]:
        file = finding["file"]
        rows.append(
            {
                "file": file.removeprefix("./"),
                "line": str(finding["line"]),
                "column": str(finding["column"]),
                "rule": finding["ruleId"],
                "level": finding["level"],
                "message": " ".join(finding["message"].split()),
                "verdict": "",
            }
        )
    return sorted(rows, key=sort_key)


def sort_key(row: Row) -> tuple[str, int, int, str, str]:
    return (row["file"], int(row["line"]), int(row["column"]), row["rule"], row["message"])


def read_record(path: Path = RECORD) -> list[Row]:
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as stream:
        return [dict(row) for row in csv.DictReader(stream, delimiter="\t")]


def finding_key(row: Row) -> tuple[str, str, str, str, str, str]:
    return (row["file"], row["line"], row["column"], row["rule"], row["level"], row["message"])


def place_key(row: Row) -> tuple[str, str, str, str, str]:
    return (row["file"], row["line"], row["column"], row["rule"], row["level"])


def differences(record: Sequence[Row], fresh: Sequence[Row]) -> tuple[list[Row], list[Row]]:
    """(rows only in the fresh run, rows only in the record), counting repeated findings."""
    remaining: dict[tuple[str, ...], int] = defaultdict(int)
    for row in record:
        remaining[finding_key(row)] += 1
    added = []
    for row in fresh:
        key = finding_key(row)
        if remaining[key] > 0:
            remaining[key] -= 1
        else:
            added.append(row)
    removed_counts = dict(remaining)
    removed = []
    for row in record:
        key = finding_key(row)
        if removed_counts.get(key, 0) > 0:
            removed_counts[key] -= 1
            removed.append(row)
    return added, removed


def merge_verdicts(record: Sequence[Row], fresh: Sequence[Row]) -> list[Row]:
    """The fresh rows, each with the verdict of a recorded row at the same place (same finding first)."""
    exact: dict[tuple[str, ...], list[str]] = defaultdict(list)
    by_place: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for row in record:
        exact[finding_key(row)].append(row["verdict"])
        by_place[place_key(row)].append(row["verdict"])
    merged = []
    for row in fresh:
        verdicts = exact[finding_key(row)] or by_place[place_key(row)]
        merged.append({**row, "verdict": verdicts.pop(0) if verdicts else ""})
    return merged


def write_record(rows: Iterable[Row], path: Path = RECORD) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=COLUMNS, delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _show(title: str, rows: Sequence[Row]) -> None:
    if rows:
        print(f"{title} ({len(rows)}):")
        for row in rows:
            place = f"{row['file']}:{row['line']}:{row['column']}"
            print(f"  {place}: {row['rule']} [{row['level']}] {row['message']}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="rewrite the record from a fresh run")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args(argv)
    if not (args.corpus / "MANIFEST.tsv").is_file():
        print(f"no corpus at {args.corpus}", file=sys.stderr)
        return 2
    record = read_record()
    fresh = run_corpus(args.corpus)
    added, removed = differences(record, fresh)
    _show("added", added)
    _show("removed", removed)
    if args.write:
        merged = merge_verdicts(record, fresh)
        write_record(merged)
        missing = sum(1 for row in merged if not row["verdict"].strip())
        print(f"wrote {len(merged)} findings to {RECORD.relative_to(ROOT)}; {missing} without a verdict")
        return 0
    return 1 if added or removed else 0


if __name__ == "__main__":
    sys.exit(main())
