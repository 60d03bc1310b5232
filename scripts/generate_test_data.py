#!/usr/bin/env python3
"""Copy the reference files the tests need from ``../shared/reference`` into ``tests/data``.

Usage::

    python scripts/generate_test_data.py [--shared PATH] [--check]

The test suite must run on a fresh clone, where ``../shared`` is absent: what the tests read is kept
in the repository, and this script derives it (as ``scripts/generate_data.py`` does for the packaged
catalog). ``--shared`` is the directory holding ``reference/`` (default: ``<repo>/../shared``).
Without ``--check`` the files are (re)written; with ``--check`` nothing is written and the script
exits 1 when a copy differs from its source or is missing (2 when the reference data is absent).

Files (byte-identical copies; ``reference/SOURCES.tsv`` records where each comes from):

* ``sarif-schema-2.1.0.json``: the OASIS SARIF 2.1.0 JSON schema (errata 01), against which
  ``tests/test_sarif.py`` validates every log exemptlint writes.

The real corpus (``../shared/corpus/real``) is not copied: the tests that read it are skipped
without it, and say so.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA_DIR = REPO / "tests" / "data"
DEFAULT_SHARED = REPO.parent / "shared"
GENERATED_BY = "scripts/generate_test_data.py"

# File in tests/data -> its source under shared/reference, and what its top-level "id" must be
# (a check that the source is the file meant, not only a file of that name).
FILES = {
    "sarif-schema-2.1.0.json": (
        "sarif/sarif-schema-2.1.0.json",
        "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
    ),
}


class GenerationError(Exception):
    """The reference data is absent or not what is expected."""


def generate(shared: Path) -> dict[str, bytes]:
    """The files of ``tests/data`` (name -> bytes), read from ``shared/reference``."""
    reference = shared / "reference"
    if not reference.is_dir():
        raise GenerationError(f"no reference directory under {shared}")
    outputs: dict[str, bytes] = {}
    for name, (source, expected_id) in FILES.items():
        path = reference / source
        try:
            data = path.read_bytes()
        except OSError as error:
            raise GenerationError(f"cannot read {path}: {error.strerror or error}") from None
        try:
            document = json.loads(data)
        except ValueError as error:
            raise GenerationError(f"{path} is not JSON: {error}") from None
        if not isinstance(document, dict) or document.get("id") != expected_id:
            raise GenerationError(f"{path} is not the schema {expected_id}")
        outputs[name] = data
    return outputs


def check(outputs: dict[str, bytes]) -> list[str]:
    """What differs between ``outputs`` and ``tests/data`` (empty when up to date)."""
    report: list[str] = []
    for name, data in outputs.items():
        target = DATA_DIR / name
        if not target.is_file():
            report.append(f"{name}: missing")
        elif target.read_bytes() != data:
            report.append(f"{name}: differs from its source")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--shared",
        type=Path,
        default=DEFAULT_SHARED,
        help="directory holding reference/ (default: %(default)s)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="do not write; exit 1 if a copy in tests/data differs from its source",
    )
    args = parser.parse_args(argv)
    try:
        outputs = generate(args.shared)
    except GenerationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.check:
        report = check(outputs)
        if report:
            print("test data is out of date:", file=sys.stderr)
            for line in report:
                print(f"  {line}", file=sys.stderr)
            print(f"regenerate with: python {GENERATED_BY}", file=sys.stderr)
            return 1
        print(f"test data is up to date ({', '.join(outputs)})")
        return 0
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    for name, data in outputs.items():
        target = DATA_DIR / name
        if target.is_file() and target.read_bytes() == data:
            print(f"unchanged {name}")
            continue
        target.write_bytes(data)
        print(f"wrote {name} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
