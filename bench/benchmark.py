"""The exemptlint benchmark (standard library only); ``bench/run`` is its command line.

What it measures, each in fresh processes so that interpreter start-up is always included:

* corpora of N raw-exemption files and N ARM templates (see ``generate.py``): the best of
  ``--repeat`` wall times of ``python -m exemptlint check DIR --format json``, against the floor,
  one ``python -c`` process that reads every file and ``json.loads`` it;
* the one-file cold start: ``exemptlint check one-file.json``, best and median of 20, and the
  15 imports with the largest cumulative time (``-X importtime``), beside ``python -c pass``;
* the peak RSS (``ru_maxrss``) of exemptlint and of the floor on the largest corpora;
* with ``--checkov``, exemptlint against checkov on the same ARM and Bicep corpora
  (``compare_checkov.py``; checkov in its own virtual environment, with no network access).

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
TARGET_SIZE = 1000

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

# Runs a command and prints the peak RSS (KiB) of its process tree: RUSAGE_CHILDREN of a
# process whose only child is the command.
PEAK_CODE = """\
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
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


@dataclass
class CorpusResult:
    corpus: generate.Corpus
    label: str
    findings: int
    reported_exemptions: int
    exemptlint: list[float]
    floor: list[float]

    @property
    def best(self) -> float:
        return min(self.exemptlint)

    @property
    def floor_best(self) -> float:
        return min(self.floor)

    @property
    def ratio(self) -> float:
        return self.best / self.floor_best

    @property
    def ms_per_file(self) -> float:
        return 1000 * self.best / self.corpus.files


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


def exemptlint_command(python: str, directory: Path, report: Path, fmt: str = "json") -> list[str]:
    return [
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


def measure_corpus(runner: Runner, corpus: generate.Corpus, repeat: int, work: Path) -> CorpusResult:
    report = work / f"report-{corpus.kind}-{corpus.files}.json"
    command = exemptlint_command(runner.python, corpus.directory, report)
    check = runner.run(command, capture=True)
    if check.returncode not in (0, 1):
        raise SystemExit(
            f"exemptlint failed on {corpus.directory} (exit {check.returncode}):\n{check.stderr[-2000:]}"
        )
    if not report.is_file():
        raise SystemExit(f"exemptlint wrote no report for {corpus.directory}:\n{check.stderr[-2000:]}")
    document = json.loads(report.read_text(encoding="utf-8"))
    reported = len(document.get("exemptions", []))
    if reported != corpus.exemptions:
        print(
            f"warning: {corpus.kind}-{corpus.files}: generated {corpus.exemptions} exemptions, "
            f"exemptlint reported {reported}",
            file=sys.stderr,
        )
    floor_command = [runner.python, "-c", FLOOR_CODE, str(corpus.directory)]
    floor_check = runner.run(floor_command, capture=True)
    if floor_check.returncode != 0 or floor_check.stdout.strip() != str(corpus.files):
        raise SystemExit(f"the floor failed on {corpus.directory}:\n{floor_check.stderr[-2000:]}")
    return CorpusResult(
        corpus=corpus,
        label=corpus.kind,
        findings=len(document.get("findings", [])),
        reported_exemptions=reported,
        exemptlint=runner.times(command, repeat),
        floor=runner.times(floor_command, repeat),
    )


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
    """``python -m cProfile -m exemptlint check DIR ...``: the top ``lines`` functions by cumulative
    time and the top ``own`` by own time."""
    report = work / "report-profile.json"
    saved = work / "exemptlint.prof"
    command = [runner.python, "-m", "cProfile", "-o", str(saved), "-m", "exemptlint", "check"]
    command += exemptlint_command(runner.python, corpus.directory, report)[4:]
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
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


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


@dataclass
class Results:
    facts: dict[str, str]
    repeat: int
    corpora: list[CorpusResult]
    text_format: CorpusResult | None
    cold: list[ColdStart]
    imports: list[ImportTimes]
    peaks: list[tuple[str, int, int]]  # corpus label, exemptlint KiB, floor KiB
    cold_runs: int = 20
    elapsed: float = 0.0

    def target_lines(self) -> list[str]:
        lines: list[str] = []
        cached = next((c for c in self.cold if c.label == "console script"), None)
        if cached is not None:
            met = cached.median_ms < ONE_FILE_TARGET_MS
            lines.append(
                f"- One file under {ONE_FILE_TARGET_MS:.0f} ms: **{'met' if met else 'NOT met'}** "
                f"(median {cached.median_ms:.0f} ms, best {cached.best_ms:.0f} ms)."
            )
        arm = next((r for r in self.corpora if r.label == "arm" and r.corpus.files == TARGET_SIZE), None)
        if arm is None:
            lines.append(
                f"- {TARGET_SIZE:,} ARM files within {FLOOR_TARGET_RATIO:.0f}x of the floor: not measured."
            )
        else:
            met = arm.ratio <= FLOOR_TARGET_RATIO
            lines.append(
                f"- {TARGET_SIZE:,} ARM files within {FLOOR_TARGET_RATIO:.0f}x of the floor: "
                f"**{'met' if met else 'NOT met'}** ({arm.best:.2f} s against {arm.floor_best:.2f} s, "
                f"{arm.ratio:.1f}x)."
            )
        return lines

    def markdown(self) -> str:
        f = self.facts
        out = [
            f"Measured {f['date']} by `bench/run` ({self.repeat} runs per figure, best taken).",
            "",
            f"- Machine: {f['nproc']} CPUs (`nproc`), {f['cpu']}; load average at start {f['load']}",
            f"- Python {f['python']}; exemptlint {f['exemptlint']} at commit {f['commit']}",
            "",
            "### Targets",
            "",
            *self.target_lines(),
            "",
            "### Corpora",
            "",
            "`exemptlint check DIR --today 2026-11-24 --format json --output FILE` against the floor "
            "(one process that reads every file and `json.loads` it). Wall time of the whole process, "
            "start-up included.",
            "",
        ]
        rows = [
            [
                r.label,
                f"{r.corpus.files:,}",
                f"{r.reported_exemptions:,}",
                f"{r.findings:,}",
                f"{r.best:.3f}",
                f"{r.floor_best:.3f}",
                f"{r.ratio:.1f}x",
                f"{r.ms_per_file:.2f}",
            ]
            for r in self.corpora
        ]
        out += _table(
            ["corpus", "files", "exemptions", "findings", "exemptlint s", "floor s", "ratio", "ms/file"],
            rows,
            [False, True, True, True, True, True, True, True],
        )
        if self.text_format is not None:
            t = self.text_format
            json_run = next(r for r in self.corpora if r.label == "arm" and r.corpus.files == t.corpus.files)
            out += [
                "",
                f"Same {t.corpus.files:,} ARM files with `--format text`: {t.best:.3f} s "
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
                "Peak RSS (`ru_maxrss` of the child process) on the largest corpora.",
                "",
            ]
            out += _table(
                ["corpus", "exemptlint MiB", "floor MiB"],
                [[label, f"{ex / 1024:.0f}", f"{fl / 1024:.0f}"] for label, ex, fl in self.peaks],
                [False, True, True],
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
        "--sizes", type=_sizes, default=_sizes(DEFAULT_SIZES), help=f"corpus sizes (default {DEFAULT_SIZES})"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        help=f"timed runs per figure, best taken (default {DEFAULT_REPEAT}; "
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
        help="also print cProfile's top 25 by cumulative and top 15 by own time for the largest ARM corpus",
    )
    parser.add_argument(
        "--checkov",
        action="store_true",
        help=f"also time checkov {compare_checkov.CHECKOV_VERSION} (installed once into "
        f"{CHECKOV_VENV.relative_to(REPO)}) on the same ARM and Bicep corpora as exemptlint",
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
    try:
        if not args.checkov_only:
            results = _run(args, runner, work)
        if args.checkov:
            checkov_facts = machine(python, runner)  # load average before checkov runs
            checkov = _run_checkov(args, runner, work)
    finally:
        shutil.rmtree(cwd, ignore_errors=True)
        if temporary:
            shutil.rmtree(work, ignore_errors=True)
    elapsed = time.perf_counter() - started
    checkov_text = compare_checkov.markdown(checkov, checkov_facts) if checkov else ""
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
    corpora_root = work / "corpora"
    corpora: list[CorpusResult] = []
    largest: dict[str, generate.Corpus] = {}
    for kind in ("raw", "arm"):
        for size in args.sizes:
            _say(f"generating {kind}-{size} ...")
            corpus = generate.write_corpus(corpora_root, kind, size, args.seed)
            largest[kind] = corpus
            _say(f"measuring {kind}-{size} ({corpus.exemptions} exemptions) ...")
            corpora.append(measure_corpus(runner, corpus, args.repeat, work))
    # Files that name no exemption or assignment: skipped before parsing (largest size only).
    size = max(args.sizes)
    _say(f"generating and measuring unrelated-{size} ...")
    unrelated = generate.write_corpus(corpora_root, "unrelated", size, args.seed)
    corpora.append(measure_corpus(runner, unrelated, args.repeat, work))

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

    _say("measuring peak memory ...")
    peaks: list[tuple[str, int, int]] = []
    for kind in ("raw", "arm"):
        corpus = largest[kind]
        command = exemptlint_command(python, corpus.directory, work / f"report-peak-{kind}.json")
        floor = [python, "-c", FLOOR_CODE, str(corpus.directory)]
        peaks.append((f"{kind}-{corpus.files}", peak_rss_kib(runner, command), peak_rss_kib(runner, floor)))

    if args.profile:
        _say(f"profiling arm-{arm.files} ...")
        print(f"\ncProfile of exemptlint on arm-{arm.files}:\n")
        print(profile(runner, arm, work))

    return Results(facts, args.repeat, corpora, text_format, cold, imports, peaks, args.cold_runs)
