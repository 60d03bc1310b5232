#!/usr/bin/env python3
"""Copy the rule documentation pages (docs/rules/ELnnn.md) into the package
(exemptlint/data/rules/), so that an installed exemptlint has them for SARIF's rules[].help and
``exemptlint rule ID``.

Usage: python scripts/sync_rule_docs.py [--check]

With --check nothing is written: exit 1 and name the pages that differ (tests run this).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "docs" / "rules"
TARGET = REPO / "exemptlint" / "data" / "rules"
PAGE = re.compile(r"EL\d{3}\.md")


def differences() -> list[str]:
    """Pages that are missing, stale or extra in the package."""
    wanted = {p.name: p.read_bytes() for p in SOURCE.iterdir() if PAGE.fullmatch(p.name)}
    present = {p.name: p.read_bytes() for p in TARGET.glob("*.md")} if TARGET.is_dir() else {}
    names = sorted(set(wanted) | set(present))
    return [name for name in names if wanted.get(name) != present.get(name)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report pages that differ")
    args = parser.parse_args(argv)
    changed = differences()
    if args.check:
        for name in changed:
            print(f"exemptlint/data/rules/{name} differs from docs/rules/{name}", file=sys.stderr)
        return 1 if changed else 0
    TARGET.mkdir(parents=True, exist_ok=True)
    for name in changed:
        source = SOURCE / name
        if source.is_file():
            (TARGET / name).write_bytes(source.read_bytes())
        else:
            (TARGET / name).unlink()
        print(f"updated exemptlint/data/rules/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
