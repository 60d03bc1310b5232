"""The exemptlint benchmark (standard library only); ``bench/run`` is its command line.

What it measures, each in fresh processes so that interpreter start-up is always included:

* corpora of N raw-exemption files and N ARM templates (see ``generate.py``), and N unrelated
  JSON files at the largest size: ``python -m exemptlint check DIR --format json`` twice, as users
  run it (the default ``--jobs``: worker processes on every core from
  ``exemptlint.parallel.MIN_FILES`` files on) and with ``--jobs 1`` (one process), against the
  floor, one ``python -c`` process that reads every file and ``json.loads`` it. The three
  commands run in rounds (one warm-up run of each, then ``--repeat`` rounds of one run each, so
  that a change in the machine's load touches them alike); the best time of each is kept. The
  two reports must agree;
* the one-file cold start: ``exemptlint check one-file.json``, best and median of 20, and the
  15 imports with the largest cumulative time (``-X importtime``), beside ``python -c pass``;
* the peak RSS of exemptlint (both ways) and of the floor on the raw and ARM corpora of every
  size: ``ru_maxrss`` of ``RUSAGE_CHILDREN``, which is the largest single process of the tree
  (with workers, the largest of the parent and its workers, not their sum);
* the issue's targets: one file under 150 ms; 10,000 raw files within 3x of the floor on all
  cores; time and memory linear in the number of files (per-file figures at the two largest
  sizes, see ``linear_lines``);
* with ``--checkov``, exemptlint (both ways) against checkov on the same ARM and Bicep corpora
  (``compare_checkov.py``; checkov in its own virtual environment, with no network access).

The record of the run keeps the machine (``nproc``, CPU), Python, exemptlint's commit, the load
average at the start and at the end, and the share of the CPU time other processes used while
it ran (from ``/proc/stat``, less the benchmark's own CPU time): a busy machine shows.

Subprocesses run in an empty temporary directory (so that no ``.exemptlint.yaml`` or
``pyproject.toml`` of the repository is picked up) and with
``PYTHONPYCACHEPREFIX`` pointing into the work directory: byte code is cached as in a normal
installation, and nothing is written into the source tree.

``--output /dev/null`` is deliberately not used: exemptlint writes its report through a
temporary file that it renames over the target, which would replace the device node.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import compare_checkov
import generate
import scenarios

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "performance.md"
START_MARKER = "<!-- bench:start -->"
END_MARKER = "<!-- bench:end -->"
CHECKOV_START = "<!-- checkov:start -->"
CHECKOV_END = "<!-- checkov:end -->"
CHECKOV_VENV = REPO / "bench" / "out" / "checkov-venv"
ALLOWED_SIZES = (1, 10, 100, 1000, 10000)
DEFAULT_SIZES = "1,100,1000"
DEFAULT_REPEAT = 5
DEFAULT_CHECKOV_REPEAT = 3
ONE_FILE_TARGET_MS = 150.0
FLOOR_TARGET_RATIO = 3.0
# The throughput target: this many raw files within FLOOR_TARGET_RATIO of the floor,
# using every core.
FLOOR_TARGET_SIZE = 10000
# Linear time and memory: the per-file figure at the larger of the two largest sizes within this
# share of the one at the smaller counts as linear...
LINEAR_TOLERANCE = 0.25
# ... judged only when the smaller of the two has at least this many files (below, fixed costs
# such as start-up and lazy imports are most of the figure).
LINEAR_MIN_SIZE = 1000
# The corpora whose time and memory are judged for linearity.
LINEAR_KINDS = ("raw", "arm")

# The floor: what any JSON linter has to do at least. Same traversal order as exemptlint.
FLOOR_CODE = """\
import json, os, sys
count = 0
for directory, subdirs, files in os.walk(sys.argv[1]):
    subdirs.sort()
    for name in sorted(files):
        if name.endswith(".json"):
            with open(os.path.join(directory, name), encoding="utf-8") as stream:
                json.loads(stream.read())
            count += 1
print(count)
"""

# A small config for the cold start with a config file.
CONFIG_TEXT = """\
fail-on: error
rules:
  EL004:
    max-days: 365
"""

# Runs a command and prints the peak RSS (KiB) of the largest single process of its tree:
# ru_maxrss of RUSAGE_CHILDREN is the maximum over the waited-for descendants, not their sum.
PEAK_CODE = """\
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""

# How many worker processes the default --jobs uses for each number of files (0: none, the run
# stays in one process), asked of the measured installation itself.
WORKERS_CODE = """\
import json, sys
from exemptlint.parallel import MIN_FILES, available_cores, worker_count
sizes = [int(size) for size in sys.argv[1:]]
print(json.dumps({"cores": available_cores(), "min_files": MIN_FILES,
                  "workers": {size: worker_count(0, size) for size in sizes}}))
"""


# --------------------------------------------------------------------------- running things


@dataclass
class Runner:
    python: str
    cwd: Path
    env: dict[str, str]

    def run(
        self,
        command: Sequence[str],
        *,
        capture: bool = False,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        output = subprocess.PIPE if capture else subprocess.DEVNULL
        return subprocess.run(
            list(command),
            cwd=cwd if cwd is not None else self.cwd,
            env=env if env is not None else self.env,
            stdout=output,
            stderr=output,
            text=True,
            check=False,
        )

    def times(
        self,
        command: Sequence[str],
        repeat: int,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> list[float]:
        """Wall times of ``repeat`` runs (after one untimed warm-up run)."""
        self.run(command, env=env, cwd=cwd)
        results: list[float] = []
        for _ in range(repeat):
            start = time.perf_counter()
            self.run(command, env=env, cwd=cwd)
            results.append(time.perf_counter() - start)
        return results

    def rounds(
        self,
        commands: Sequence[Sequence[str]],
        repeat: int,
        envs: Sequence[dict[str, str] | None] | None = None,
    ) -> list[list[float]]:
        """Wall times of each command over ``repeat`` rounds, after one untimed warm-up run of
        each; a round runs every command once, so that a change in load touches them alike."""
        environments = list(envs) if envs is not None else [None] * len(commands)
        for command, env in zip(commands, environments, strict=True):
            self.run(command, env=env)
        results: list[list[float]] = [[] for _ in commands]
        for _ in range(repeat):
            for command, env, times in zip(commands, environments, results, strict=True):
                start = time.perf_counter()
                self.run(command, env=env)
                times.append(time.perf_counter() - start)
        return results


@dataclass
class CorpusResult:
    corpus: generate.Corpus
    label: str
    findings: int
    reported_exemptions: int
    exemptlint: list[float]  # as users run it: the default --jobs (every core)
    floor: list[float]
    single: list[float] = field(default_factory=list)  # --jobs 1
    workers: int | None = None  # worker processes of the default run; 0: it stays in one process
    same_report: bool = True  # the default and the --jobs 1 run wrote the same report

    @property
    def best(self) -> float:
        return min(self.exemptlint)

    @property
    def single_best(self) -> float:
        return min(self.single)

    @property
    def floor_best(self) -> float:
        return min(self.floor)

    @property
    def ratio(self) -> float:
        return self.best / self.floor_best

    @property
    def single_ratio(self) -> float:
        return self.single_best / self.floor_best

    @property
    def ms_per_file(self) -> float:
        return 1000 * self.best / self.corpus.files

    @property
    def single_ms_per_file(self) -> float:
        return 1000 * self.single_best / self.corpus.files


@dataclass
class Peak:
    """Peak RSS (KiB) of the largest single process, on one corpus."""

    kind: str
    files: int
    exemptlint: int  # default --jobs (every core): the largest of the parent and its workers
    single: int  # --jobs 1
    floor: int


@dataclass
class ColdStart:
    label: str
    command: str
    times: list[float]

    @property
    def best_ms(self) -> float:
        return 1000 * min(self.times)

    @property
    def median_ms(self) -> float:
        return 1000 * statistics.median(self.times)


@dataclass
class ImportTimes:
    label: str
    total_ms: float
    modules: int
    top: list[tuple[str, int, int, int]] = field(default_factory=list)  # name, depth, self, cumulative


def exemptlint_command(
    python: str, directory: Path, report: Path, fmt: str = "json", jobs: int | None = None
) -> list[str]:
    """``python -m exemptlint check DIR ...``; ``jobs`` None leaves ``--jobs`` at its default."""
    command = [
        python,
        "-m",
        "exemptlint",
        "check",
        str(directory),
        "--today",
        generate.TODAY,
        "--format",
        fmt,
        "--output",
        str(report),
    ]
    if jobs is not None:
        command += ["--jobs", str(jobs)]
    return command


def read_report(runner: Runner, command: Sequence[str], report: Path, what: str) -> dict[str, object]:
    """Run exemptlint once and return its JSON report."""
    report.unlink(missing_ok=True)
    check = runner.run(command, capture=True)
    if check.returncode not in (0, 1):
        raise SystemExit(f"exemptlint failed on {what} (exit {check.returncode}):\n{check.stderr[-2000:]}")
    if not report.is_file():
        raise SystemExit(f"exemptlint wrote no report for {what}:\n{check.stderr[-2000:]}")
    document = json.loads(report.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise SystemExit(f"exemptlint wrote a report that is not an object for {what}")
    return document


def same_reports(first: dict[str, object], second: dict[str, object]) -> list[str]:
    """The top-level keys in which two reports differ."""
    return sorted(key for key in first.keys() | second.keys() if first.get(key) != second.get(key))


def measure_corpus(
    runner: Runner, corpus: generate.Corpus, repeat: int, work: Path, workers: int | None = None
) -> CorpusResult:
    name = f"{corpus.kind}-{corpus.files}"
    report = work / f"report-{name}.json"
    single_report = work / f"report-{name}-jobs1.json"
    command = exemptlint_command(runner.python, corpus.directory, report)
    single_command = exemptlint_command(runner.python, corpus.directory, single_report, jobs=1)
    document = read_report(runner, command, report, name)
    single_document = read_report(runner, single_command, single_report, f"{name} with --jobs 1")
    differ = same_reports(document, single_document)
    if differ:
        _say(f"warning: {name}: the reports with the default --jobs and --jobs 1 differ in {differ}")
    exemptions = document.get("exemptions", [])
    reported = len(exemptions) if isinstance(exemptions, list) else 0
    if reported != corpus.exemptions:
        _say(f"warning: {name}: generated {corpus.exemptions} exemptions, exemptlint reported {reported}")
    floor_command = [runner.python, "-c", FLOOR_CODE, str(corpus.directory)]
    floor_check = runner.run(floor_command, capture=True)
    if floor_check.returncode != 0 or floor_check.stdout.strip() != str(corpus.files):
        raise SystemExit(f"the floor failed on {corpus.directory}:\n{floor_check.stderr[-2000:]}")
    findings = document.get("findings", [])
    default_times, single_times, floor_times = runner.rounds([command, single_command, floor_command], repeat)
    return CorpusResult(
        corpus=corpus,
        label=corpus.kind,
        findings=len(findings) if isinstance(findings, list) else 0,
        reported_exemptions=reported,
        exemptlint=default_times,
        floor=floor_times,
        single=single_times,
        workers=workers,
        same_report=not differ,
    )


def worker_counts(runner: Runner, sizes: Sequence[int]) -> dict[str, object]:
    """``exemptlint.parallel``'s cores, MIN_FILES and worker count per size, from the measured
    installation; empty when it cannot tell (an exemptlint without --jobs)."""
    result = runner.run([runner.python, "-c", WORKERS_CODE, *map(str, sizes)], capture=True)
    try:
        answer = json.loads(result.stdout)
    except json.JSONDecodeError:
        return {}
    if not isinstance(answer, dict):
        return {}
    answer["workers"] = {int(size): int(count) for size, count in answer.get("workers", {}).items()}
    return answer


def parse_importtime(stderr: str) -> tuple[list[tuple[str, int, int, int]], float]:
    """(name, depth, self us, cumulative us) per import, and the total (sum of self) in ms."""
    rows: list[tuple[str, int, int, int]] = []
    for line in stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S.*)$", line)
        if match is None:
            continue  # the header, or anything else on stderr
        own, cumulative, indent, name = match.groups()
        rows.append((name.strip(), (len(indent) - 1) // 2, int(own), int(cumulative)))
    return rows, sum(row[2] for row in rows) / 1000


def import_times(runner: Runner, label: str, command: Sequence[str], runs: int = 5) -> ImportTimes:
    """The run (of ``runs``) with the smallest total import time; its 15 largest cumulative."""
    best: tuple[list[tuple[str, int, int, int]], float] | None = None
    for _ in range(runs):
        result = runner.run(command, capture=True)
        rows, total = parse_importtime(result.stderr)
        if best is None or total < best[1]:
            best = (rows, total)
    assert best is not None
    rows, total = best
    top = sorted(rows, key=lambda row: row[3], reverse=True)[:15]
    return ImportTimes(label, total, len(rows), top)


def peak_rss_kib(runner: Runner, command: Sequence[str], env: dict[str, str] | None = None) -> int:
    result = runner.run([sys.executable, "-c", PEAK_CODE, *command], capture=True, env=env)
    return int(result.stdout.strip())


# Prints a saved profile: by cumulative time (what ``python -m cProfile -s cumulative`` prints),
# then by own time. Run by the measured interpreter, which wrote the file.
PSTATS_CODE = """\
import pstats, sys
stats = pstats.Stats(sys.argv[1]).strip_dirs()
stats.sort_stats("cumulative").print_stats(int(sys.argv[2]))
stats.sort_stats("tottime").print_stats(int(sys.argv[3]))
"""


def profile(runner: Runner, corpus: generate.Corpus, work: Path, lines: int = 25, own: int = 15) -> str:
    """``python -m cProfile -m exemptlint check DIR ... --jobs 1``: the top ``lines`` functions by
    cumulative time and the top ``own`` by own time. In one process: cProfile would see only the
    parent of a run with workers, which merges."""
    report = work / "report-profile.json"
    saved = work / "exemptlint.prof"
    command = [runner.python, "-m", "cProfile", "-o", str(saved), "-m", "exemptlint", "check"]
    command += exemptlint_command(runner.python, corpus.directory, report, jobs=1)[4:]
    run = runner.run(command, capture=True)
    if not saved.is_file():
        return f"(no profile: exit {run.returncode})\n{run.stderr[-2000:]}"
    result = runner.run([runner.python, "-c", PSTATS_CODE, str(saved), str(lines), str(own)], capture=True)
    kept = [line for line in result.stdout.splitlines() if line.strip() and "List reduced" not in line]
    return "\n".join(kept)


# --------------------------------------------------------------------------- machine facts


def machine(python: str, runner: Runner) -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        nproc = subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        nproc = str(len(os.sched_getaffinity(0)))
    version = runner.run([python, "-c", "import sys; print(sys.version.split()[0])"], capture=True)
    exemptlint = runner.run([python, "-m", "exemptlint", "--version"], capture=True)
    commit = _git("rev-parse", "--short", "HEAD")
    dirty = _git("--no-optional-locks", "status", "--porcelain", "--", "exemptlint")
    if commit and dirty:
        commit += " (exemptlint/ has uncommitted changes)"
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": nproc,
        "cpu": cpu,
        "python": version.stdout.strip() or "unknown",
        "exemptlint": exemptlint.stdout.strip().removeprefix("exemptlint ") or "unknown",
        "commit": commit or "unknown",
        "load": _load(),
    }


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _busy_ticks() -> tuple[int, int] | None:
    """(busy clock ticks summed over every CPU since boot, number of CPUs) from /proc/stat;
    None where there is none. Busy is everything but idle and iowait (steal included: time the
    host gave to others)."""
    try:
        lines = Path("/proc/stat").read_text(encoding="utf-8").splitlines()
        fields = lines[0].split()
        if fields[0] != "cpu":
            return None
        values = [int(value) for value in fields[1:9]]
    except (OSError, IndexError, ValueError):
        return None
    cpus = sum(1 for line in lines if re.match(r"cpu\d", line))
    return sum(values) - values[3] - values[4], max(1, cpus)


def _own_cpu_seconds() -> float:
    """CPU time of this process and of every child it has waited for (their children too)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


class Activity:
    """What else ran on the machine between ``__init__`` and ``finish``: the load average at the
    end (its 1-minute figure includes the benchmark's own runs) and the share of all CPUs' time
    that other processes used (busy time from /proc/stat less the benchmark's CPU time)."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.ticks = _busy_ticks()
        self.own = _own_cpu_seconds()

    def finish(self, facts: dict[str, str]) -> None:
        facts["load_end"] = _load()
        ticks = _busy_ticks()
        elapsed = time.monotonic() - self.started
        if self.ticks is None or ticks is None or elapsed <= 0:
            facts["others"] = "not known (no /proc/stat)"
            return
        busy = (ticks[0] - self.ticks[0]) / os.sysconf("SC_CLK_TCK")
        others = max(0.0, busy - (_own_cpu_seconds() - self.own))
        share = 100 * others / (elapsed * ticks[1])
        facts["others"] = f"{share:.0f}% of the {ticks[1]} CPUs' time ({others:.0f} CPU s in {elapsed:.0f} s)"


def machine_lines(facts: dict[str, str]) -> list[str]:
    """The record of the machine, as markdown list items (the end figures once known)."""
    load = f"load average at start {facts['load']}"
    if "load_end" in facts:
        load += f", at end {facts['load_end']} (the 1-minute figure includes the benchmark's own runs)"
    lines = [f"- Machine: {facts['nproc']} CPUs (`nproc`), {facts['cpu']}; {load}"]
    if "others" in facts:
        lines.append(f"- Other processes used {facts['others']} while this ran (from `/proc/stat`)")
    return lines


def _git(*args: str) -> str:
    try:
        result = subprocess.run(
            ["git", "-C", str(REPO), *args], capture_output=True, text=True, check=False, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return result.stdout.strip() if result.returncode == 0 else ""


# --------------------------------------------------------------------------- output


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |"]
    lines.append("|" + "|".join("---:" if r else "---" for r in right) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def per_file(points: dict[int, float], size: int, base: int | None) -> float:
    """The figure per file at ``size``: less the figure at ``base`` (fixed costs such as start-up)
    when given, else the plain figure divided by the files."""
    if base is None:
        return points[size] / size
    return (points[size] - points[base]) / (size - base)


def _figure(value: float) -> str:
    """Three significant figures, never in exponent notation."""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def linear_verdict(before: float, after: float) -> tuple[str, bool]:
    """Linear when the per-file figure at the larger size is within LINEAR_TOLERANCE of the one
    at the smaller; lower is better than linear (fixed costs, bounded memory); higher is not."""
    if before <= 0:
        return ("flat", True) if after <= 0 else ("NOT linear (grows only at the larger size)", False)
    ratio = after / before
    if ratio > 1 + LINEAR_TOLERANCE:
        return f"NOT linear ({ratio:.2f}x)", False
    if ratio < 1 - LINEAR_TOLERANCE:
        return f"better than linear ({ratio:.2f}x)", True
    return f"linear ({ratio:.2f}x)", True


@dataclass
class Results:
    facts: dict[str, str]
    repeat: int
    corpora: list[CorpusResult]
    text_format: CorpusResult | None
    cold: list[ColdStart]
    imports: list[ImportTimes]
    peaks: list[Peak]
    cold_runs: int = 20
    elapsed: float = 0.0
    # exemptlint.parallel of the measured installation: cores, min_files, workers per size.
    parallel: dict[str, object] = field(default_factory=dict)

    def processes(self, result: CorpusResult) -> str:
        if result.workers is None:
            return "?"
        return "1" if result.workers == 0 else f"1 + {result.workers} workers"

    def processes_phrase(self, result: CorpusResult) -> str:
        if result.workers is None:
            return "processes unknown"
        return "one process" if result.workers == 0 else f"a parent and {result.workers} worker processes"

    def target_lines(self) -> list[str]:
        lines: list[str] = []
        cached = next((c for c in self.cold if c.label == "console script"), None)
        if cached is not None:
            met = cached.median_ms < ONE_FILE_TARGET_MS
            lines.append(
                f"- One file under {ONE_FILE_TARGET_MS:.0f} ms: **{'met' if met else 'NOT met'}** "
                f"(median {cached.median_ms:.0f} ms, best {cached.best_ms:.0f} ms)."
            )
        lines += self.floor_target_lines()
        lines += self.linear_lines()
        return lines

    def floor_target_lines(self) -> list[str]:
        raw = [r for r in self.corpora if r.label == "raw"]
        if not raw:
            return []
        head = (
            f"- {FLOOR_TARGET_SIZE:,} raw files within {FLOOR_TARGET_RATIO:.0f}x of the floor using all "
            "cores: "
        )
        target = next((r for r in raw if r.corpus.files == FLOOR_TARGET_SIZE), None)
        largest = max(raw, key=lambda r: r.corpus.files)
        if target is not None:
            met = target.ratio <= FLOOR_TARGET_RATIO
            head += (
                f"**{'met' if met else 'NOT met'}** ({target.best:.2f} s against {target.floor_best:.2f} s, "
                f"{target.ratio:.1f}x, {self.processes_phrase(target)}; {target.single_ratio:.1f}x "
                f"with `--jobs 1`, {target.single_best:.2f} s)."
            )
        else:
            head += (
                f"not measured in this run (`bench/run --sizes {FLOOR_TARGET_SIZE}`). At the largest raw "
                f"size measured, {largest.corpus.files:,} files: {largest.ratio:.1f}x the floor with the "
                f"default `--jobs` ({self.processes_phrase(largest)}), {largest.single_ratio:.1f}x with "
                "`--jobs 1`."
            )
        lines = [head]
        if self.facts.get("nproc") != "2":
            lines.append(f"  The target is set for 2 cores; this machine has {self.facts.get('nproc')}.")
        return lines

    def linear_lines(self) -> list[str]:
        """Time and peak memory per file at the two largest sizes, for each corpus of
        LINEAR_KINDS and each way of running, less the figures at the smallest size when a
        third size was measured."""
        sizes = sorted({r.corpus.files for r in self.corpora if r.label in LINEAR_KINDS})
        head = "- Time and memory linear in the number of files: "
        if len(sizes) < 2:
            return [head + "not measured (needs two sizes)."]
        small, large = sizes[-2], sizes[-1]
        base = sizes[0] if len(sizes) >= 3 else None
        judged = small >= LINEAR_MIN_SIZE
        items: list[str] = []
        verdicts: list[bool] = []
        for kind in LINEAR_KINDS:
            runs = {r.corpus.files: r for r in self.corpora if r.label == kind}
            peaks = {p.files: p for p in self.peaks if p.kind == kind}
            if not {small, large} <= runs.keys():
                continue
            for mode in ("all cores", "`--jobs 1`"):
                single = mode != "all cores"
                times = {n: 1000 * (r.single_best if single else r.best) for n, r in runs.items()}
                before, after = per_file(times, small, base), per_file(times, large, base)
                verdict, ok = linear_verdict(before, after)
                verdicts.append(ok)
                text = (
                    f"  - {kind}, {mode}: time {_figure(before)} ms/file at {small:,}, {_figure(after)} at "
                    f"{large:,}: {verdict}"
                )
                if {small, large} <= peaks.keys() and (base is None or base in peaks):
                    memory = {n: float(p.single if single else p.exemptlint) for n, p in peaks.items()}
                    before, after = per_file(memory, small, base), per_file(memory, large, base)
                    verdict, ok = linear_verdict(before, after)
                    verdicts.append(ok)
                    text += (
                        f"; peak memory (largest process) {_figure(before)} KiB/file at {small:,}, "
                        f"{_figure(after)} at {large:,}: {verdict}"
                    )
                else:
                    text += "; peak memory not measured at these sizes"
                items.append(text + ".")
        if not items:
            return [head + "not measured."]
        if judged:
            head += f"**{'met' if all(verdicts) else 'NOT met'}**."
        else:
            head += (
                f"not judged in this run: the two largest sizes must have at least {LINEAR_MIN_SIZE:,} "
                f"files each, below that fixed costs are most of the figure "
                f"(`bench/run --sizes 1,100,{LINEAR_MIN_SIZE},{FLOOR_TARGET_SIZE}`)."
            )
        less = (
            f"less the {base:,}-file run (start-up and other fixed costs)"
            if base is not None
            else "start-up included (no third, smaller size to take it out)"
        )
        rule = (
            f"  Per file at the two largest sizes, {less}; the figure at the larger size within "
            f"{100 * LINEAR_TOLERANCE:.0f}% of the one at the smaller counts as linear, more than "
            f"{100 * LINEAR_TOLERANCE:.0f}% lower as better than linear (the target is met), more than "
            f"{100 * LINEAR_TOLERANCE:.0f}% higher as NOT linear. Memory is the peak RSS of the largest "
            "single process: with workers each holds at most one chunk of file texts, and what still "
            "grows with the files is the report the parent builds (every exemption's JSON here)."
        )
        return [head, rule, *items]

    def markdown(self) -> str:
        f = self.facts
        rounds = f"{self.repeat} round{'s' if self.repeat != 1 else ''}"
        out = [
            f"Measured {f['date']} by `bench/run` (best of {rounds} after a warm-up run).",
            "",
            *machine_lines(f),
            f"- Python {f['python']}; exemptlint {f['exemptlint']} at commit {f['commit']}",
        ]
        if self.parallel:
            out.append(
                f"- exemptlint's default `--jobs` here: {self.parallel.get('cores')} worker processes "
                f"(`available_cores()`) from {self.parallel.get('min_files')} files on "
                "(`exemptlint.parallel.MIN_FILES`); fewer files stay in one process"
            )
        out += [
            "",
            "### Targets",
            "",
            *self.target_lines(),
            "",
            "### Corpora",
            "",
            f"`exemptlint check DIR --today {generate.TODAY} --format json --output FILE` as users run "
            "it (the default `--jobs`, every core) and with `--jobs 1` (one process), against the floor "
            "(one process that reads every file and `json.loads` it). Wall time of the whole process, "
            "start-up included; the three run in rounds, one of each per round.",
            "",
        ]
        rows = [
            [
                r.label,
                f"{r.corpus.files:,}",
                f"{r.reported_exemptions:,}",
                f"{r.findings:,}",
                f"{r.best:.3f}",
                f"{r.ratio:.1f}x",
                f"{r.single_best:.3f}",
                f"{r.single_ratio:.1f}x",
                f"{r.ms_per_file:.2f}",
                f"{r.floor_best:.3f}",
                self.processes(r),
            ]
            for r in self.corpora
        ]
        out += _table(
            [
                "corpus",
                "files",
                "exemptions",
                "findings",
                "all cores s",
                "ratio",
                "`--jobs 1` s",
                "ratio",
                "ms/file (all cores)",
                "floor s",
                "processes (all cores)",
            ],
            rows,
            [False, True, True, True, True, True, True, True, True, True, True],
        )
        differ = [f"{r.label}-{r.corpus.files}" for r in self.corpora if not r.same_report]
        if differ:
            out += [
                "",
                f"**The reports with the default `--jobs` and `--jobs 1` differ** on {', '.join(differ)}.",
            ]
        if self.text_format is not None:
            t = self.text_format
            json_run = next(r for r in self.corpora if r.label == "arm" and r.corpus.files == t.corpus.files)
            out += [
                "",
                f"Same {t.corpus.files:,} ARM files with `--format text` (default `--jobs`): {t.best:.3f} s "
                f"({t.ratio:.1f}x the floor) against {json_run.best:.3f} s with `--format json`.",
            ]
        out += ["", "### One-file cold start", ""]
        out += [
            f"A single valid raw exemption (`one-file.json`); {self.cold_runs} runs after a warm-up, "
            "wall time.",
            "",
        ]
        out += _table(
            ["command", "best ms", "median ms"],
            [[f"`{c.command}`", f"{c.best_ms:.0f}", f"{c.median_ms:.0f}"] for c in self.cold],
            [False, True, True],
        )
        for imports in self.imports:
            out += [
                "",
                f"`{imports.label}`: {imports.modules} imports, {imports.total_ms:.1f} ms in total "
                "(sum of self times); the 15 largest cumulative:",
                "",
            ]
            out += _table(
                ["module", "depth", "self ms", "cumulative ms"],
                [
                    [f"`{name}`", str(depth), f"{own / 1000:.1f}", f"{cum / 1000:.1f}"]
                    for name, depth, own, cum in imports.top
                ],
                [False, True, True, True],
            )
        if self.peaks:
            out += [
                "",
                "### Peak memory",
                "",
                "Peak RSS of the largest single process, one run each: `ru_maxrss` of "
                "`RUSAGE_CHILDREN` in a wrapper process, the maximum over the process tree, not its "
                "sum (with workers: the largest of the parent and its workers).",
                "",
            ]
            out += _table(
                ["corpus", "files", "all cores MiB (largest process)", "`--jobs 1` MiB", "floor MiB"],
                [
                    [
                        p.kind,
                        f"{p.files:,}",
                        f"{p.exemptlint / 1024:.0f}",
                        f"{p.single / 1024:.0f}",
                        f"{p.floor / 1024:.0f}",
                    ]
                    for p in self.peaks
                ],
                [False, True, True, True, True],
            )
        return "\n".join(out) + "\n"


def write_doc(
    path: Path, section: str, start_marker: str = START_MARKER, end_marker: str = END_MARKER
) -> None:
    """Replace what lies between the two markers; nothing else in the file changes."""
    text = path.read_text(encoding="utf-8")
    start = text.find(start_marker)
    end = text.find(end_marker)
    if start < 0 or end < start:
        raise SystemExit(f"{path}: the markers {start_marker} and {end_marker} were not found")
    head = text[: start + len(start_marker)]
    path.write_text(head + "\n" + section + text[end:], encoding="utf-8")


def write_checkov_doc(path: Path, section: str) -> None:
    """The checkov section, between its own markers; they are added after the bench section's
    end marker the first time."""
    text = path.read_text(encoding="utf-8")
    if CHECKOV_START not in text:
        end = text.find(END_MARKER)
        if end < 0:
            raise SystemExit(f"{path}: the marker {END_MARKER} was not found")
        at = end + len(END_MARKER)
        text = text[:at] + f"\n\n{CHECKOV_START}\n{CHECKOV_END}" + text[at:]
        path.write_text(text, encoding="utf-8")
    write_doc(path, section, CHECKOV_START, CHECKOV_END)


# --------------------------------------------------------------------------- main


def _sizes(text: str) -> list[int]:
    try:
        sizes = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a list of sizes") from None
    bad = [s for s in sizes if s not in ALLOWED_SIZES]
    if bad or not sizes:
        allowed = ", ".join(str(s) for s in ALLOWED_SIZES)
        raise argparse.ArgumentTypeError(f"sizes must be among {allowed}")
    return sizes


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=_sizes(DEFAULT_SIZES),
        help=f"corpus sizes, among {', '.join(map(str, ALLOWED_SIZES))} (default {DEFAULT_SIZES}); "
        f"the {FLOOR_TARGET_SIZE:,}-raw-file target needs {FLOOR_TARGET_SIZE}, the linearity target "
        f"two sizes of at least {LINEAR_MIN_SIZE:,} (e.g. 1,100,{LINEAR_MIN_SIZE},{FLOOR_TARGET_SIZE})",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        help=f"timed rounds per corpus, best taken; each round runs exemptlint with the default "
        f"--jobs, with --jobs 1 and the floor (or checkov) once (default {DEFAULT_REPEAT}; "
        f"{DEFAULT_CHECKOV_REPEAT} for the comparison with checkov)",
    )
    parser.add_argument(
        "--cold-runs", type=int, default=20, help="runs of the one-file cold start (default 20)"
    )
    parser.add_argument(
        "--python", default=sys.executable, help="interpreter with exemptlint installed (default: this one)"
    )
    parser.add_argument("--seed", type=int, default=generate.DEFAULT_SEED, help="corpus seed")
    parser.add_argument("--out", type=Path, help="keep corpora and reports here (e.g. bench/out)")
    parser.add_argument(
        "--write-doc", action="store_true", help=f"rewrite the figures in {DOC.relative_to(REPO)}"
    )
    parser.add_argument("--doc", type=Path, default=DOC, help=argparse.SUPPRESS)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also print cProfile's top 25 by cumulative and top 15 by own time for the largest ARM "
        "corpus (with --jobs 1: cProfile sees one process only)",
    )
    parser.add_argument(
        "--checkov",
        action="store_true",
        help=f"also time checkov {compare_checkov.CHECKOV_VERSION} (installed once into "
        f"{CHECKOV_VENV.relative_to(REPO)}) on the same ARM and Bicep corpora as exemptlint "
        "(exemptlint with the default --jobs and with --jobs 1)",
    )
    parser.add_argument(
        "--checkov-only",
        action="store_true",
        help="only the comparison with checkov (implies --checkov; --write-doc then rewrites only "
        "its section)",
    )
    parser.add_argument(
        "--checkov-sizes",
        type=_sizes,
        help="sizes to run checkov on (default: --sizes); exemptlint still runs on every size",
    )
    parser.add_argument("--checkov-venv", type=Path, default=CHECKOV_VENV, help=argparse.SUPPRESS)
    parser.add_argument(
        "--scenarios",
        action="store_true",
        help="only issue 16's scenarios (see bench/scenarios.py): pre-commit on one file against "
        "check-json, and a monorepo against the read floor; --write-doc then rewrites only their section",
    )
    parser.add_argument(
        "--scenario-files", type=int, default=20000, help="files in the monorepo scenario (default 20000)"
    )
    parser.add_argument(
        "--scenario-runs", type=int, default=31, help="rounds of the one-file scenario (default 31)"
    )
    parser.add_argument(
        "--scenario-repeat", type=int, default=9, help="rounds of the monorepo scenario (default 9)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.checkov = args.checkov or args.checkov_only
    if (args.repeat is not None and args.repeat < 1) or args.cold_runs < 1:
        raise SystemExit("--repeat and --cold-runs must be at least 1")
    started = time.perf_counter()
    python = _interpreter(args.python, explicit=args.python != sys.executable)
    temporary = args.out is None
    work = Path(tempfile.mkdtemp(prefix="exemptlint-bench-")) if temporary else args.out.resolve()
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    # Run from an empty directory outside the repository: no config file is found upwards.
    cwd = Path(tempfile.mkdtemp(prefix="exemptlint-bench-cwd-"))
    runner = Runner(python, cwd, env)
    results: Results | None = None
    checkov: compare_checkov.CheckovResults | None = None
    checkov_facts: dict[str, str] = {}
    if args.scenarios:
        try:
            text = _run_scenarios(args, runner, work)
        finally:
            shutil.rmtree(cwd, ignore_errors=True)
            if temporary:
                shutil.rmtree(work, ignore_errors=True)
        print()
        print(text)
        print(f"(benchmark took {time.perf_counter() - started:.0f} s)")
        if args.write_doc:
            write_doc(args.doc, text, scenarios.START_MARKER, scenarios.END_MARKER)
            print(f"wrote the figures into {args.doc}")
        return 0
    try:
        if not args.checkov_only:
            results = _run(args, runner, work)
        if args.checkov:
            checkov_facts = machine(python, runner)  # load average before checkov runs
            activity = Activity()
            checkov = _run_checkov(args, runner, work)
            activity.finish(checkov_facts)
    finally:
        shutil.rmtree(cwd, ignore_errors=True)
        if temporary:
            shutil.rmtree(work, ignore_errors=True)
    elapsed = time.perf_counter() - started
    checkov_text = (
        compare_checkov.markdown(checkov, checkov_facts, machine_lines(checkov_facts)) if checkov else ""
    )
    if results is not None:
        results.elapsed = elapsed
        print()
        print(results.markdown())
    if checkov is not None:
        print()
        print(checkov_text)
    print(f"(benchmark took {elapsed:.0f} s)")
    if args.write_doc:
        if results is not None:
            write_doc(args.doc, results.markdown())
        if checkov is not None:
            write_checkov_doc(args.doc, checkov_text)
        print(f"wrote the figures into {args.doc}")
    return 0


def _run_scenarios(args: argparse.Namespace, runner: Runner, work: Path) -> str:
    facts = machine(runner.python, runner)
    activity = Activity()

    def import_lines() -> str:
        one = work / "scenario-one-file" / "one-file.json"
        imports = import_times(runner, "one file", [runner.python, "-X", "importtime", "-m", "exemptlint", "check", str(one)])
        lines = [f"python -X importtime -m exemptlint check one-file.json: {imports.modules} imports, "
                 f"{imports.total_ms:.1f} ms in all (sum of self times); the largest cumulative:"]
        lines += [f"{'  ' * depth}{name:<48} self {own / 1000:5.1f} ms  cumulative {cumulative / 1000:5.1f} ms"
                  for name, depth, own, cumulative in imports.top]
        return "\n".join(lines)

    def monorepo_profile(directory: Path) -> str:
        report = work / "report-phases.json"
        best = ""
        for _ in range(3):  # the run with the smallest total is kept: the least disturbed
            result = runner.run([runner.python, "-c", scenarios.PHASES_CODE, str(directory), str(report)], capture=True)
            text = result.stdout.strip() or result.stderr[-2000:]
            total = re.search(r"(\d+) ms after", text)
            if not best or (total and int(total.group(1)) < int(re.search(r"(\d+) ms after", best).group(1))):
                best = text
        return best

    results = [
        scenarios.pre_commit_scenario(runner, work, args.scenario_runs, _say, import_lines),
        scenarios.monorepo_scenario(
            runner, work, args.scenario_files, args.scenario_repeat, _say, monorepo_profile
        ),
    ]
    activity.finish(facts)
    header = (
        f"Measured {facts['date']} by `bench/run --scenarios` (medians of rounds; exemptlint {facts['exemptlint']} "
        f"at commit {facts['commit']}, Python {facts['python']})."
    )
    return scenarios.section(machine_lines(facts), header, results)


def _run_checkov(args: argparse.Namespace, runner: Runner, work: Path) -> compare_checkov.CheckovResults:
    return compare_checkov.compare(
        runner,
        exemptlint_command,
        peak_rss_kib,
        work,
        sizes=args.sizes,
        checkov_sizes=args.checkov_sizes or args.sizes,
        repeat=args.repeat or DEFAULT_CHECKOV_REPEAT,
        seed=args.seed,
        venv_directory=args.checkov_venv.resolve(),
    )


def _has_exemptlint(python: str) -> bool:
    try:
        result = subprocess.run(
            [python, "-c", "import exemptlint"],
            capture_output=True,
            check=False,
            timeout=60,
            cwd=tempfile.gettempdir(),  # not here: the source tree would be importable from "."
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},  # write nothing into the source tree
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def _interpreter(requested: str, explicit: bool) -> str:
    """The interpreter to benchmark: ``--python``, else this one, else the repository's .venv."""
    python = requested if os.sep in requested else shutil.which(requested) or requested
    if _has_exemptlint(python):
        return python
    venv = REPO / ".venv" / "bin" / "python"
    if not explicit and _has_exemptlint(str(venv)):
        _say(f"{python} cannot import exemptlint; using {venv}")
        return str(venv)
    raise SystemExit(f"{python} cannot import exemptlint: install it there or pass --python")


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _run(args: argparse.Namespace, runner: Runner, work: Path) -> Results:
    args = argparse.Namespace(**{**vars(args), "repeat": args.repeat or DEFAULT_REPEAT})
    python = runner.python
    facts = machine(python, runner)
    activity = Activity()
    parallel = worker_counts(runner, args.sizes)
    workers = parallel.get("workers", {})
    assert isinstance(workers, dict)
    if not parallel:
        _say("warning: cannot ask exemptlint.parallel how many workers it uses")
    corpora_root = work / "corpora"
    corpora: list[CorpusResult] = []
    generated: dict[str, list[generate.Corpus]] = {}
    for kind in ("raw", "arm"):
        for size in args.sizes:
            _say(f"generating {kind}-{size} ...")
            corpus = generate.write_corpus(corpora_root, kind, size, args.seed)
            generated.setdefault(kind, []).append(corpus)
            _say(f"measuring {kind}-{size} ({corpus.exemptions} exemptions) ...")
            corpora.append(measure_corpus(runner, corpus, args.repeat, work, workers.get(size)))
    largest = {kind: corpora_of[-1] for kind, corpora_of in generated.items()}
    # Files that name no exemption or assignment: skipped before parsing (largest size only).
    size = max(args.sizes)
    _say(f"generating and measuring unrelated-{size} ...")
    unrelated = generate.write_corpus(corpora_root, "unrelated", size, args.seed)
    corpora.append(measure_corpus(runner, unrelated, args.repeat, work, workers.get(size)))

    arm = largest["arm"]
    _say(f"measuring arm-{arm.files} with --format text ...")
    text_command = exemptlint_command(python, arm.directory, work / "report-text.txt", fmt="text")
    json_run = next(r for r in corpora if r.corpus is arm)
    text_format = CorpusResult(
        corpus=arm,
        label="arm (text)",
        findings=json_run.findings,
        reported_exemptions=json_run.reported_exemptions,
        exemptlint=runner.times(text_command, args.repeat),
        floor=json_run.floor,
    )

    _say("measuring the one-file cold start ...")
    one = generate.write_one_file(work / "one", args.seed)
    check_args = ["check", str(one), "--today", generate.TODAY]
    cold: list[ColdStart] = []
    script = Path(python).parent / "exemptlint"
    if script.exists():
        cold.append(
            ColdStart(
                "console script",
                "exemptlint check one-file.json",
                runner.times([str(script), *check_args], args.cold_runs),
            )
        )
    cold.append(
        ColdStart(
            "python -m",
            "python -m exemptlint check one-file.json",
            runner.times([python, "-m", "exemptlint", *check_args], args.cold_runs),
        )
    )
    # With a config file, which imports ruamel.yaml and pydantic.
    configured = work / "with-config"
    configured.mkdir(exist_ok=True)
    (configured / ".exemptlint.yaml").write_text(CONFIG_TEXT, encoding="utf-8")
    config_check = runner.run([python, "-m", "exemptlint", *check_args], capture=True, cwd=configured)
    if config_check.returncode not in (0, 1):
        _say(f"warning: the run with a config file failed: {config_check.stderr.strip()[-300:]}")
    elif script.exists():
        cold.append(
            ColdStart(
                "with config",
                "exemptlint check one-file.json (with a .exemptlint.yaml)",
                runner.times([str(script), *check_args], args.cold_runs, cwd=configured),
            )
        )
    cold.append(ColdStart("baseline", "python -c pass", runner.times([python, "-c", "pass"], args.cold_runs)))
    # The same without any byte-code cache for exemptlint's own modules (a source checkout with
    # PYTHONDONTWRITEBYTECODE=1, as in some dev containers): nothing is written either way.
    no_cache = dict(os.environ)
    no_cache.pop("PYTHONPYCACHEPREFIX", None)
    no_cache["PYTHONDONTWRITEBYTECODE"] = "1"
    package = runner.run(
        [python, "-c", "import exemptlint, os; print(os.path.dirname(exemptlint.__file__))"], capture=True
    ).stdout.strip()
    if package and not Path(package, "__pycache__").exists() and script.exists():
        cold.append(
            ColdStart(
                "no byte code",
                "exemptlint check one-file.json (PYTHONDONTWRITEBYTECODE=1, no .pyc for exemptlint)",
                runner.times([str(script), *check_args], args.cold_runs, env=no_cache),
            )
        )

    _say("measuring imports (-X importtime) ...")
    imports = [
        import_times(
            runner,
            "python -X importtime -m exemptlint check one-file.json",
            [python, "-X", "importtime", "-m", "exemptlint", *check_args],
        ),
        import_times(runner, "python -X importtime -c pass", [python, "-X", "importtime", "-c", "pass"]),
    ]

    # Every size, the largest included: the linearity target compares the two largest.
    peaks: list[Peak] = []
    for kind in ("raw", "arm"):
        for corpus in generated[kind]:
            _say(f"measuring peak memory on {kind}-{corpus.files} ...")
            report = work / f"report-peak-{kind}-{corpus.files}.json"
            command = exemptlint_command(python, corpus.directory, report)
            single = exemptlint_command(python, corpus.directory, report, jobs=1)
            floor = [python, "-c", FLOOR_CODE, str(corpus.directory)]
            peaks.append(
                Peak(
                    kind,
                    corpus.files,
                    peak_rss_kib(runner, command),
                    peak_rss_kib(runner, single),
                    peak_rss_kib(runner, floor),
                )
            )

    if args.profile:
        _say(f"profiling arm-{arm.files} ...")
        print(f"\ncProfile of exemptlint on arm-{arm.files}:\n")
        print(profile(runner, arm, work))

    activity.finish(facts)
    return Results(
        facts, args.repeat, corpora, text_format, cold, imports, peaks, args.cold_runs, parallel=parallel
    )
