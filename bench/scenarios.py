"""Issue 16's two scenarios, each against a reference measured in the same run (standard library only).

* **pre-commit on one raw exemption file**: the console script ``exemptlint check FILE`` as
  pre-commit runs it, against ``check-json`` from pre-commit-hooks on the same file (installed
  into the benchmarked environment when missing), ``python -c pass`` and, when installed,
  ``yamllint``. Target: exemptlint's median within 1.5x of check-json's.
* **a monorepo**: ``monorepo`` corpus of ``generate.py`` (N JSON files in 200 folders, 1 % of them
  raw exemptions, the rest unrelated JSON), ``python -m exemptlint check DIR`` with the default
  ``--jobs`` and with ``--jobs 1``, against the read floor (one Python process that walks the
  tree and reads every ``.json`` file) and the read + ``json.loads`` floor. Target: exemptlint's
  median within 1.5x of the read floor.

Every command of a scenario runs once per round, rounds after a warm-up run of each, so that a
change in the machine's load touches them alike; medians are compared (the machine is shared).
The load average and the CPU share of other processes are recorded. Where a target is not met,
the section shows what is left: ``-X importtime`` for the one file, a cProfile of the monorepo run.
"""

from __future__ import annotations

import statistics
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import generate

START_MARKER = "<!-- scenarios:start -->"
END_MARKER = "<!-- scenarios:end -->"
TARGET_RATIO = 1.5
HOOKS_REQUIREMENT = "pre-commit-hooks==6.0.0"

# The read floor: walk the tree and read every .json file, in one process.
READ_FLOOR = """\
import os, sys
count = 0
for directory, subdirs, files in os.walk(sys.argv[1]):
    subdirs.sort()
    for name in sorted(files):
        if name.endswith(".json"):
            with open(os.path.join(directory, name), "rb") as stream:
                stream.read()
            count += 1
print(count)
"""
LOADS_FLOOR = READ_FLOOR.replace(
    'with open(os.path.join(directory, name), "rb") as stream:\n                stream.read()',
    'with open(os.path.join(directory, name), encoding="utf-8") as stream:\n'
    "                json.loads(stream.read())",
).replace("import os, sys", "import json, os, sys")


# Where one process's time goes (no profiler: it would slow the per-file Python code down more than
# the system calls, and skew the shares). Each phase is timed on its own in one process, the run
# last (the files are then in the page cache, as they are for the floor). Run by the measured
# interpreter: python -c PHASES_CODE DIR REPORT.
PHASES_CODE = """\
import sys, time
started = time.perf_counter()
import exemptlint.cli
from exemptlint.discover import discover
from exemptlint.loaders import certainly_irrelevant, read_bytes
imported = time.perf_counter()
sources, _ = discover([sys.argv[1]])
walked = time.perf_counter()
relevant = 0
for source in sources:
    data, _ = read_bytes(source.path, source.shown)
    if data is None or not certainly_irrelevant(data, source.suffix):
        relevant += 1
read = time.perf_counter()
import jsonschema  # timed apart: EL008 imports it for an exemption its pre-check cannot clear
schema = time.perf_counter()
from exemptlint.cli import main
from exemptlint.rules import el008_invalid_exemption
main(["check", sys.argv[1], "--today", "2026-11-24", "--format", "json", "--output", sys.argv[2], "--jobs", "1"])
ran = time.perf_counter()
used = el008_invalid_exemption._validator.cache_info().currsize > 0
run = ran - schema + (schema - read if used else 0.0)
walk, scan = walked - imported, read - walked
rows = [
    ("start-up: interpreter not counted; importing exemptlint.cli, discover, loaders", imported - started),
    (f"walk: {len(sources):,} files found (exemptlint.discover)", walk),
    (f"read + keyword prefilter of every file: {relevant:,} pass", scan),
    ("importing jsonschema (EL008, for exemptions its pre-check cannot clear)", schema - read if used else 0.0),
    ("the rest: loading the files that pass, rules, report, other lazy imports", ran - schema - walk - scan),
]
total = (imported - started) + run
print(f"one process, --jobs 1: {total * 1000:.0f} ms after interpreter start-up")
for label, value in rows:
    print(f"  {label:<84} {value * 1000:6.0f} ms {value / total:5.0%}")
"""


@dataclass
class Timing:
    label: str
    times: list[float]
    # CPU time (user + system) of each run, its children included: less sensitive than wall time to
    # other processes on a shared machine.
    cpu: list[float] = field(default_factory=list)

    @property
    def median_cpu(self) -> float:
        return statistics.median(self.cpu) if self.cpu else 0.0

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def spread(self) -> float:
        """The interquartile range relative to the median."""
        quartiles = statistics.quantiles(self.times, n=4) if len(self.times) >= 4 else [self.median] * 3
        return (quartiles[2] - quartiles[0]) / self.median if self.median else 0.0


@dataclass
class Scenario:
    title: str
    timings: list[Timing]
    reference: str  # the label of the timing the target is judged against
    subject: str
    notes: list[str] = field(default_factory=list)
    leftover: str = ""  # what is left (a profile), when the target is not met

    def timing(self, label: str) -> Timing:
        return next(t for t in self.timings if t.label == label)

    @property
    def ratio(self) -> float:
        return self.timing(self.subject).median / self.timing(self.reference).median

    def markdown(self) -> list[str]:
        met = self.ratio <= TARGET_RATIO
        verdict = "**met**" if met else "**NOT met**"
        subject, reference = self.timing(self.subject), self.timing(self.reference)
        cpu = subject.median_cpu / reference.median_cpu if reference.median_cpu else 0.0
        lines = [
            f"#### {self.title}",
            "",
            f"Target: {self.subject} within {TARGET_RATIO}x of {self.reference} (medians of wall time): "
            f"{verdict}, **{self.ratio:.2f}x** ({cpu:.2f}x in CPU time).",
            "",
            "| command | median ms | best ms | spread (IQR / median) | ratio (medians) "
            "| median CPU ms (user + system) | CPU ratio |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        reference = self.timing(self.reference)
        for timing in self.timings:
            cpu_ratio = timing.median_cpu / reference.median_cpu if reference.median_cpu else 0.0
            lines.append(
                f"| {timing.label} | {timing.median * 1000:.1f} | {timing.best * 1000:.1f} | "
                f"{timing.spread:.0%} | {timing.median / reference.median:.2f}x | "
                f"{timing.median_cpu * 1000:.1f} | {cpu_ratio:.2f}x |"
            )
        lines += ["", *self.notes]
        if self.leftover and not met:
            lines += ["", "What is left:", "", "```text", self.leftover.rstrip(), "```"]
        return lines


def timed_run(command: Sequence[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system, the process tree's) of one run."""
    import os
    import time

    start = time.perf_counter()
    process = subprocess.Popen(
        list(command), cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime


def rounds(runner: object, commands: Sequence[Sequence[str]], repeat: int) -> list[Timing]:
    """Each command once per round, after a warm-up run of each."""
    cwd: Path = runner.cwd  # type: ignore[attr-defined]
    env: dict[str, str] = runner.env  # type: ignore[attr-defined]
    for command in commands:
        timed_run(command, cwd, env)
    results = [Timing("", []) for _ in commands]
    for _ in range(repeat):
        for command, timing in zip(commands, results, strict=True):
            wall, cpu = timed_run(command, cwd, env)
            timing.times.append(wall)
            timing.cpu.append(cpu)
    return results


def ensure_check_json(python: str, say: Callable[[str], None]) -> Path:
    """check-json's console script beside ``python``, installing pre-commit-hooks if needed."""
    script = Path(python).parent / "check-json"
    if not script.is_file():
        say(f"installing {HOOKS_REQUIREMENT} into {Path(python).parent.parent} for check-json")
        subprocess.run(
            [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", HOOKS_REQUIREMENT],
            check=True,
        )
    return script


def pre_commit_scenario(
    runner: object, work: Path, runs: int, say: Callable[[str], None], import_lines: Callable[[], str]
) -> Scenario:
    python: str = runner.python  # type: ignore[attr-defined]
    one = generate.write_one_file(work / "scenario-one-file")
    check_json = ensure_check_json(python, say)
    exemptlint = Path(python).parent / "exemptlint"
    commands = {
        "`exemptlint check one-file.json`": [str(exemptlint), "check", str(one)],
        "`check-json one-file.json` (pre-commit-hooks)": [str(check_json), str(one)],
        "`python -c pass`": [python, "-c", "pass"],
    }
    yamllint = Path(python).parent / "yamllint"
    if yamllint.is_file():
        commands["`yamllint one-file.json`"] = [str(yamllint), str(one)]
    say(f"pre-commit scenario: {runs} rounds of {len(commands)} commands")
    timings = rounds(runner, list(commands.values()), runs)
    for label, timing in zip(commands, timings, strict=True):
        timing.label = label
    scenario = Scenario(
        "pre-commit on one raw exemption file",
        timings,
        reference="`check-json one-file.json` (pre-commit-hooks)",
        subject="`exemptlint check one-file.json`",
        notes=[
            f"{runs} rounds after a warm-up run of each; console scripts of the same virtual environment "
            "(its editable install's import hook is paid by every command alike); byte code cached.",
        ],
    )
    scenario.leftover = import_lines()
    return scenario


def monorepo_scenario(
    runner: object, work: Path, files: int, repeat: int, say: Callable[[str], None], profile: Callable[[Path], str]
) -> Scenario:
    python: str = runner.python  # type: ignore[attr-defined]
    say(f"monorepo scenario: writing {files:,} files")
    corpus = generate.write_monorepo(work, files)
    report = work / "report-monorepo.json"
    base = [python, "-m", "exemptlint", "check", str(corpus.directory), "--today", "2026-11-24"]
    base += ["--format", "json", "--output", str(report)]
    commands = {
        "exemptlint (default `--jobs`)": base,
        "exemptlint `--jobs 1`": [*base, "--jobs", "1"],
        "read floor: walk + read every `.json`": [python, "-c", READ_FLOOR, str(corpus.directory)],
        "walk + read + `json.loads`": [python, "-c", LOADS_FLOOR, str(corpus.directory)],
    }
    say(f"monorepo scenario: {repeat} rounds of {len(commands)} commands")
    timings = rounds(runner, list(commands.values()), repeat)
    for label, timing in zip(commands, timings, strict=True):
        timing.label = label
    scenario = Scenario(
        f"a monorepo: {files:,} JSON files in {generate.MONOREPO_FOLDERS} folders, "
        f"{corpus.exemptions:,} of them exemption files (1 %)",
        timings,
        reference="read floor: walk + read every `.json`",
        subject="exemptlint (default `--jobs`)",
        notes=[
            f"{repeat} rounds after a warm-up run of each; `--format json --output FILE`; "
            f"{corpus.bytes / 1e6:.0f} MB of JSON. With `--jobs 1`: "
            f"{timings[1].median / timings[2].median:.2f}x the read floor.",
        ],
    )
    scenario.leftover = profile(corpus.directory)
    return scenario


def section(facts_lines: list[str], header: str, scenarios: Sequence[Scenario]) -> str:
    lines = [header, "", *facts_lines, ""]
    for scenario in scenarios:
        lines += [*scenario.markdown(), ""]
    return "\n".join(lines).rstrip() + "\n"

