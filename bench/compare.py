#!/usr/bin/env python3
"""Per-file cost of two exemptlint installs on the same corpora, measured in one run.

    bench/compare.py --before /path/to/old/.venv/bin/python [--after PYTHON] [--size 1000] [--rounds 7]

Each round runs both installs on each corpus (raw, arm, bicep from bench/generate.py) with
``--jobs 1``, alternating which goes first, and records the CPU time the child used (user + system,
from getrusage), which other load on the machine disturbs far less than wall time. Start-up is taken
out by subtracting a one-file run of the same install. Prints the median CPU microseconds per file of
each install, per corpus, and the ratio after/before (the figure a "no more than 5 % slower" target
is judged on). Standard library only.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate

KINDS = ("raw", "arm", "bicep")


def child_cpu(command: list[str]) -> float:
    """CPU seconds (user + system) that ``command`` used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    completed = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} exited {completed.returncode}: {completed.stderr.decode()[-500:]}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def lint(python: str, target: Path) -> list[str]:
    return [python, "-m", "exemptlint", "check", str(target), "--today", generate.TODAY, "--jobs", "1",
            "--format", "json", "--output", os.devnull]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, help="interpreter with the old exemptlint installed")
    parser.add_argument("--after", default=sys.executable, help="interpreter with the new one (default: this one)")
    parser.add_argument("--size", type=int, default=1000, help="files per corpus (default 1000)")
    parser.add_argument("--rounds", type=int, default=7, help="rounds, median taken (default 7)")
    args = parser.parse_args(argv)
    installs = {"before": args.before, "after": args.after}
    with tempfile.TemporaryDirectory() as work:
        root = Path(work)
        one = generate.write_one_file(root / "one")
        corpora = {kind: root / kind for kind in KINDS}
        for kind, path in corpora.items():
            generate.write_corpus(path, kind, args.size)
        samples: dict[tuple[str, str], list[float]] = {(k, i): [] for k in KINDS for i in installs}
        for round_index in range(args.rounds):
            order = list(installs) if round_index % 2 == 0 else list(reversed(installs))
            for label in order:
                python = installs[label]
                start_up = child_cpu(lint(python, one))
                for kind, path in corpora.items():
                    samples[(kind, label)].append((child_cpu(lint(python, path)) - start_up) / args.size)
    print(f"CPU per file, median of {args.rounds} rounds, {args.size} files per corpus, start-up taken out")
    print("| corpus | before (µs) | after (µs) | after / before |")
    print("|---|---|---|---|")
    for kind in KINDS:
        before = statistics.median(samples[(kind, "before")]) * 1e6
        after = statistics.median(samples[(kind, "after")]) * 1e6
        print(f"| {kind} | {before:.0f} | {after:.0f} | {after / before:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
