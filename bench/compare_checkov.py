"""exemptlint against checkov on the same ARM and Bicep files (``bench/run --checkov``).

checkov is installed once into its own virtual environment, ``bench/out/checkov-venv``
(git-ignored), with ``python -m venv`` and ``pip install checkov==CHECKOV_VERSION``; that pip
install is the only network access. checkov then runs with every network feature off:

* ``--skip-download`` and ``BC_SKIP_MAPPING=TRUE``: nothing is fetched from the Prisma Cloud /
  Bridgecrew platform (guidelines, policy metadata, suppressions);
* ``CKV_SKIP_PACKAGE_UPDATE_CHECK=true``: no query to pypi.org for a newer checkov (otherwise
  made on every start, with a 1 s time-out);
* no API key: ``BC_API_KEY``, ``PRISMA_API_URL`` and the other platform variables are removed
  from its environment, so nothing is uploaded.

When ``strace`` is available, one untimed run per framework is traced (``connect``, ``sendto``,
``sendmsg`` of the whole process tree) and the benchmark stops if any of them uses an internet
socket (``AF_INET``/``AF_INET6``).

Timed, per corpus and in fresh processes as the rest of the benchmark, in rounds (one warm-up
run of each command, then ``repeat`` rounds of one run each; the best of each is kept):

* ``python -m exemptlint check DIR --today ... --format json --output FILE`` as users run it
  (the default ``--jobs``: worker processes on every core from ``exemptlint.parallel.MIN_FILES``
  files on), and the same with ``--jobs 1`` (one process); the two reports must agree;
* ``checkov -d DIR --framework arm|bicep --quiet --compact --output json --skip-download``
  (its JSON report goes to a pipe that is discarded, which if anything favours checkov), with
  checkov's own defaults otherwise.

The 20x target is judged on the default run, since that is how users run exemptlint; the
``--jobs 1`` ratio is shown beside it. Peak RSS is that of the largest single process of each
tool's tree (``ru_maxrss`` of ``RUSAGE_CHILDREN``), not the sum over its processes.

Both tools read, parse and evaluate the same files; what each then checks is reported beside
the times (checkov's summary: resources, passed and failed checks and which checks failed).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import generate

# The version measured; pinned so that figures stay comparable. Change it deliberately.
CHECKOV_VERSION = "3.3.30"
TARGET_RATIO = 20.0
FRAMEWORKS = ("arm", "bicep")
CHECKOV_FLAGS = ("--quiet", "--compact", "--output", "json", "--skip-download")
CHECKOV_ENV = {"CKV_SKIP_PACKAGE_UPDATE_CHECK": "true", "BC_SKIP_MAPPING": "TRUE"}
# Removed from checkov's environment: with any of them it would talk to the platform.
PLATFORM_VARIABLES = (
    "BC_API_KEY",
    "BC_API_URL",
    "PRISMA_API_URL",
    "BC_REPO_ID",
    "BC_FROM_BRANCH",
    "BC_SOURCE",
    "CKV_API_KEY",
    "PYTHONPYCACHEPREFIX",  # checkov uses the byte code pip compiled into its venv
)
# checkov reads a config file from the working directory (an empty one here) and the home
# directory: one there would change what runs.
HOME_CONFIGS = (".checkov.yaml", ".checkov.yml")


@dataclass
class Checkov:
    """A checkov installation in its own virtual environment."""

    venv: Path
    version: str
    python_version: str
    env: dict[str, str]

    @property
    def executable(self) -> Path:
        return self.venv / "bin" / "checkov"

    def command(self, directory: Path, framework: str) -> list[str]:
        return [str(self.executable), "-d", str(directory), "--framework", framework, *CHECKOV_FLAGS]


@dataclass
class Summary:
    """What checkov reported for one corpus."""

    resources: int = 0
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    parsing_errors: int = 0
    failed_by_check: Counter[str] = field(default_factory=Counter)


@dataclass
class Comparison:
    framework: str
    corpus: generate.Corpus
    exemptlint: list[float] | None  # the default --jobs; None: exemptlint cannot load these files
    reported_exemptions: int
    findings: int
    checkov: list[float]
    summary: Summary
    skipped_checkov: bool = False
    single: list[float] | None = None  # --jobs 1
    same_report: bool = True  # the default and the --jobs 1 run wrote the same report

    @property
    def exemptlint_best(self) -> float | None:
        return min(self.exemptlint) if self.exemptlint else None

    @property
    def single_best(self) -> float | None:
        return min(self.single) if self.single else None

    @property
    def checkov_best(self) -> float:
        return min(self.checkov)

    @property
    def ratio(self) -> float | None:
        """checkov's time over exemptlint's, with the default --jobs: the target's ratio."""
        best = self.exemptlint_best
        return None if best is None or not self.checkov else self.checkov_best / best

    @property
    def single_ratio(self) -> float | None:
        best = self.single_best
        return None if best is None or not self.checkov else self.checkov_best / best


@dataclass
class CheckovPeak:
    """Peak RSS (KiB) of the largest single process of each run, on one corpus."""

    label: str
    exemptlint: int  # default --jobs: the largest of the parent and its workers
    single: int  # --jobs 1
    checkov: int


@dataclass
class CheckovResults:
    checkov: Checkov
    repeat: int
    comparisons: list[Comparison]
    network: str
    dropped: list[int]
    peaks: list[CheckovPeak]


# --------------------------------------------------------------------------- installation


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _installed_version(python: Path) -> str | None:
    if not python.exists():
        return None
    result = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('checkov'))"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() if result.returncode == 0 else None


def ensure_checkov(directory: Path, python: str, version: str = CHECKOV_VERSION) -> Checkov:
    """checkov ``version`` in the virtual environment ``directory``, created with ``python -m venv``
    (the interpreter exemptlint is measured with, so both run on the same Python) and installed
    with pip on first use; later runs reuse it."""
    venv_python = directory / "bin" / "python"
    installed = _installed_version(venv_python)
    if installed != version:
        if not venv_python.exists():
            _say(f"creating {directory} (python -m venv) ...")
            subprocess.run([python, "-m", "venv", str(directory)], check=True)
        _say(f"pip install checkov=={version} into {directory} (the only network access) ...")
        pip = [str(venv_python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        result = subprocess.run(
            [*pip, f"checkov=={version}"],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise SystemExit(f"pip install checkov=={version} failed:\n{result.stderr[-3000:]}")
        installed = _installed_version(venv_python)
        if installed != version:
            raise SystemExit(f"{directory}: expected checkov {version}, found {installed}")
    env = {k: v for k, v in os.environ.items() if k not in PLATFORM_VARIABLES}
    env.update(CHECKOV_ENV)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    python_version = subprocess.run(
        [str(venv_python), "-c", "import sys; print(sys.version.split()[0])"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return Checkov(directory, installed, python_version, env)


# --------------------------------------------------------------------------- network guard

_INET = re.compile(r"\b(connect|sendto|sendmsg)\(.*sa_family=AF_INET6?\b")


def network_guard(runner: Any, checkov: Checkov, corpora: dict[str, Path]) -> str:
    """Trace one run per framework with strace; stop if checkov opens an internet socket."""
    strace = subprocess.run(["which", "strace"], capture_output=True, text=True, check=False).stdout.strip()
    if not strace:
        return "not verified (no strace on this machine)"
    calls = 0
    for framework, directory in corpora.items():
        with tempfile.NamedTemporaryFile(prefix="checkov-strace-", suffix=".txt", delete=False) as handle:
            trace = Path(handle.name)
        try:
            command = [strace, "-f", "-qq", "-e", "trace=connect,sendto,sendmsg", "-o", str(trace)]
            runner.run(command + checkov.command(directory, framework), env=checkov.env)
            lines = trace.read_text(encoding="utf-8", errors="replace").splitlines()
        finally:
            trace.unlink(missing_ok=True)
        calls += sum(1 for line in lines if re.search(r"\b(connect|sendto|sendmsg)\(", line))
        internet = [line for line in lines if _INET.search(line)]
        if internet:
            shown = "\n".join(internet[:10])
            raise SystemExit(f"checkov --framework {framework} used the network:\n{shown}")
    return (
        f"verified with strace: no `connect`/`sendto`/`sendmsg` on an AF_INET/AF_INET6 socket in a "
        f"traced run per framework ({calls} such calls in all, on local sockets only)"
    )


# --------------------------------------------------------------------------- measuring


def parse_summary(stdout: str) -> Summary:
    """checkov's JSON report: one object per framework (a list when several ran); an object
    with only the summary keys when nothing was found to check."""
    try:
        document = json.loads(stdout)
    except json.JSONDecodeError:
        return Summary()
    reports = document if isinstance(document, list) else [document]
    total = Summary()
    for report in reports:
        if not isinstance(report, dict):
            continue
        summary = report.get("summary", report)
        total.resources += int(summary.get("resource_count", 0))
        total.passed += int(summary.get("passed", 0))
        total.failed += int(summary.get("failed", 0))
        total.skipped += int(summary.get("skipped", 0))
        total.parsing_errors += int(summary.get("parsing_errors", 0))
        results = report.get("results", {})
        for check in results.get("failed_checks", []) if isinstance(results, dict) else []:
            resource_type = str(check.get("resource", "")).rsplit(".", 1)[0]
            total.failed_by_check[f"{check.get('check_id')} on {resource_type}"] += 1
    return total


def _exemptlint_report(runner: Any, command: list[str], report: Path) -> dict[str, Any]:
    """The JSON report of one exemptlint run."""
    report.unlink(missing_ok=True)
    check = runner.run(command, capture=True)
    if check.returncode not in (0, 1) or not report.is_file():
        raise SystemExit(f"exemptlint failed (exit {check.returncode}):\n{check.stderr[-2000:]}")
    document = json.loads(report.read_text(encoding="utf-8"))
    return document if isinstance(document, dict) else {}


def compare(
    runner: Any,
    exemptlint_command: Any,
    peak_rss_kib: Any,
    work: Path,
    sizes: list[int],
    checkov_sizes: list[int],
    repeat: int,
    seed: int,
    venv_directory: Path,
) -> CheckovResults:
    checkov = ensure_checkov(venv_directory, runner.python)
    for name in HOME_CONFIGS:
        if (Path.home() / name).exists():
            _say(f"warning: {Path.home() / name} exists and changes what checkov runs")
    corpora_root = work / "corpora"
    smallest: dict[str, Path] = {}
    comparisons: list[Comparison] = []
    for framework in FRAMEWORKS:
        for size in sizes:
            _say(f"generating {framework}-{size} ...")
            corpus = generate.write_corpus(corpora_root, framework, size, seed)
            smallest.setdefault(framework, corpus.directory)
    _say("checking that checkov stays off the network ...")
    network = network_guard(runner, checkov, smallest)
    largest: dict[str, generate.Corpus] = {}
    for framework in FRAMEWORKS:
        for size in sizes:
            corpus = generate.write_corpus(corpora_root, framework, size, seed)
            name = f"{framework}-{size}"
            report = work / f"report-checkov-{name}.json"
            single_report = work / f"report-checkov-{name}-jobs1.json"
            command = exemptlint_command(runner.python, corpus.directory, report)
            single_command = exemptlint_command(runner.python, corpus.directory, single_report, jobs=1)
            document = _exemptlint_report(runner, command, report)
            single_document = _exemptlint_report(runner, single_command, single_report)
            differ = sorted(
                key
                for key in document.keys() | single_document.keys()
                if document.get(key) != single_document.get(key)
            )
            if differ:
                _say(f"warning: {name}: the reports with the default --jobs and --jobs 1 differ in {differ}")
            exemptions = len(document.get("exemptions", []))
            findings = len(document.get("findings", []))
            supported = exemptions > 0
            if exemptions not in (0, corpus.exemptions):
                _say(
                    f"warning: {name}: generated {corpus.exemptions} exemptions, exemptlint reported {exemptions}"
                )
            commands: list[list[str]] = [command, single_command] if supported else []
            envs: list[dict[str, str] | None] = [None, None] if supported else []
            summary = Summary()
            if size in checkov_sizes:
                checkov_command = checkov.command(corpus.directory, framework)
                check = runner.run(checkov_command, capture=True, env=checkov.env)
                if check.returncode not in (0, 1):
                    raise SystemExit(
                        f"checkov failed on {corpus.directory} (exit {check.returncode}):\n"
                        f"{check.stderr[-2000:]}"
                    )
                summary = parse_summary(check.stdout)
                commands.append(checkov_command)
                envs.append(checkov.env)
                largest[framework] = corpus
            _say(
                f"measuring {'exemptlint and checkov' if size in checkov_sizes else 'exemptlint'} on {name} ..."
            )
            times = runner.rounds(commands, repeat, envs) if commands else []
            comparisons.append(
                Comparison(
                    framework=framework,
                    corpus=corpus,
                    exemptlint=times[0] if supported else None,
                    reported_exemptions=exemptions,
                    findings=findings,
                    checkov=times[-1] if size in checkov_sizes else [],
                    summary=summary,
                    skipped_checkov=size not in checkov_sizes,
                    single=times[1] if supported else None,
                    same_report=not differ,
                )
            )
    _say("measuring peak memory against checkov ...")
    peaks: list[CheckovPeak] = []
    for framework, corpus in largest.items():
        report = work / f"report-checkov-peak-{framework}.json"
        ours = peak_rss_kib(runner, exemptlint_command(runner.python, corpus.directory, report))
        single = peak_rss_kib(runner, exemptlint_command(runner.python, corpus.directory, report, jobs=1))
        theirs = peak_rss_kib(runner, checkov.command(corpus.directory, framework), env=checkov.env)
        peaks.append(CheckovPeak(f"{framework}-{corpus.files}", ours, single, theirs))
    dropped = [size for size in sizes if size not in checkov_sizes]
    return CheckovResults(checkov, repeat, comparisons, network, dropped, peaks)


# --------------------------------------------------------------------------- output


def _table(headers: list[str], rows: list[list[str]], right: list[bool]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |"]
    lines.append("|" + "|".join("---:" if r else "---" for r in right) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _verdict(c: Comparison) -> str:
    if c.exemptlint is None:
        return "pending (exemptlint cannot load Bicep here)"
    if c.ratio is None:
        return "not measured (checkov skipped)"
    return "**met**" if c.ratio >= TARGET_RATIO else "**NOT met**"


def _marginal(comparisons: list[Comparison]) -> list[str]:
    """Cost per additional file, from the smallest to the largest corpus both tools ran on:
    start-up left out."""
    lines: list[str] = []
    for framework in FRAMEWORKS:
        both = [c for c in comparisons if c.framework == framework and c.ratio is not None]
        if len(both) < 2:
            continue
        small, large = both[0], both[-1]
        assert small.exemptlint_best is not None and large.exemptlint_best is not None
        files = large.corpus.files - small.corpus.files
        ours = 1000 * (large.exemptlint_best - small.exemptlint_best) / files
        theirs = 1000 * (large.checkov_best - small.checkov_best) / files
        line = f"- {framework}: exemptlint {ours:.2f} ms"
        if small.single_best is not None and large.single_best is not None:
            single = 1000 * (large.single_best - small.single_best) / files
            line += f" ({single:.2f} ms with `--jobs 1`)"
        line += f", checkov {theirs:.2f} ms per additional file"
        if ours > 0:
            line += f" ({theirs / ours:.1f}x)"
        line += (
            f"; one file takes {small.exemptlint_best:.2f} s against {small.checkov_best:.2f} s, "
            "mostly start-up."
        )
        lines.append(line)
    if lines:
        lines = [
            "",
            "Start-up left out (the difference between the smallest and the largest corpus, divided "
            "by the difference in files):",
            "",
            *lines,
        ]
    return lines


def _seconds(best: float | None, supported: bool) -> str:
    return f"{best:.3f}" if best is not None else ("pending" if not supported else "")


def markdown(results: CheckovResults, facts: dict[str, str], machine: list[str] | None = None) -> str:
    """The section for docs/performance.md; ``machine`` is the record of the machine as list
    items (by default: CPUs and the load average at the start)."""
    checkov = results.checkov
    flags = " ".join(CHECKOV_FLAGS)
    env = " ".join(f"{k}={v}" for k, v in CHECKOV_ENV.items())
    if machine is None:
        machine = [
            f"- Machine: {facts['nproc']} CPUs (`nproc`), {facts['cpu']}; load average at start {facts['load']}"
        ]
    out = [
        "### Against checkov",
        "",
        f"Measured {facts['date']} by `bench/run --checkov` (best of {results.repeat} "
        f"round{'s' if results.repeat != 1 else ''} after one warm-up run of each command, a round "
        "running each command once; wall time of the whole process, start-up included).",
        "",
        *machine,
        f"- exemptlint {facts['exemptlint']} at commit {facts['commit']}, Python {facts['python']}: "
        f"`python -m exemptlint check DIR --today {generate.TODAY} --format json --output FILE`, as "
        "users run it (the default `--jobs`: worker processes on every core from "
        "`exemptlint.parallel.MIN_FILES` files on, fewer files in one process) and with `--jobs 1` "
        f"(one process); the {TARGET_RATIO:.0f}x target is judged on the default run",
        f"- checkov {checkov.version} (pinned in `bench/compare_checkov.py`), Python "
        f"{checkov.python_version}, in its own venv (`bench/out/checkov-venv`): "
        f"`{env} checkov -d DIR --framework arm|bicep {flags}`, "
        "no API key, otherwise its defaults; its JSON report is piped and discarded",
        f"- Network: {results.network}",
        "",
    ]
    rows: list[list[str]] = []
    for c in results.comparisons:
        supported = c.exemptlint is not None
        rows.append(
            [
                c.framework,
                f"{c.corpus.files:,}",
                f"{c.corpus.exemptions:,}",
                _seconds(c.exemptlint_best, supported),
                _seconds(c.single_best, supported),
                f"{c.checkov_best:.3f}" if c.checkov else "not run",
                f"{c.ratio:.1f}x" if c.ratio is not None else "n/a",
                _verdict(c),
                f"{c.single_ratio:.1f}x" if c.single_ratio is not None else "n/a",
                f"{c.findings:,}" if supported else "",
                f"{c.summary.resources:,} / {c.summary.passed:,} / {c.summary.failed:,}" if c.checkov else "",
            ]
        )
    out += _table(
        [
            "corpus",
            "files",
            "exemptions",
            "exemptlint s (all cores)",
            "exemptlint s (`--jobs 1`)",
            "checkov s",
            "checkov / exemptlint (all cores)",
            f"{TARGET_RATIO:.0f}x target",
            "checkov / exemptlint (`--jobs 1`)",
            "exemptlint findings",
            "checkov resources / passed / failed",
        ],
        rows,
        [False, True, True, True, True, True, True, False, True, True, True],
    )
    differ = [f"{c.framework}-{c.corpus.files}" for c in results.comparisons if not c.same_report]
    if differ:
        out += [
            "",
            f"**exemptlint's reports with the default `--jobs` and `--jobs 1` differ** on {', '.join(differ)}.",
        ]
    out += _marginal(results.comparisons)
    if results.dropped:
        dropped = ", ".join(f"{size:,}" for size in results.dropped)
        out += ["", f"checkov was not run on the {dropped}-file corpora (`--checkov-sizes`)."]
    out += ["", "What each tool checks on these files:", ""]
    out.append(
        "- exemptlint evaluates every exemption (ARM expressions; Bicep parameters, variables, "
        "interpolation, loops and symbolic references), runs its rules (EL001 to EL011) on each and "
        "locates every finding in the file (the findings column)."
    )
    out.append(
        "- checkov parses the same files, renders their parameters and variables and builds its "
        "resource graph, but has no check for `Microsoft.Authorization/policyExemptions` or "
        "`policyAssignments` (none in `checkov -l --framework arm` or `bicep`), so it evaluates "
        "nothing about the exemptions themselves. On the largest corpus of each kind it reported:"
    )
    for framework in FRAMEWORKS:
        measured = [c for c in results.comparisons if c.framework == framework and c.checkov]
        if not measured:
            continue
        c = max(measured, key=lambda x: x.corpus.files)
        summary = c.summary
        line = (
            f"  - {framework}-{c.corpus.files}: {summary.resources:,} resources, {summary.passed:,} "
            f"checks passed, {summary.failed:,} failed, {summary.skipped:,} skipped, "
            f"{summary.parsing_errors:,} parsing errors"
        )
        if summary.failed_by_check:
            line += "; failed: " + ", ".join(
                f"{name} {count:,}x" for name, count in sorted(summary.failed_by_check.items())
            )
        out.append(line + ".")
    if any(c.framework == "bicep" and c.summary.failed for c in results.comparisons):
        out.append(
            "  - The Bicep resources it counts are the exemptions, the assignments and the "
            "`existing` resources the exemptions are scoped to (ARM templates write the scope as "
            "`resourceId(...)` instead); its failures are resource checks on those `existing` "
            "declarations, which configure nothing."
        )
    if any(c.framework == "arm" and c.checkov and not c.summary.resources for c in results.comparisons):
        out.append(
            "  - On the ARM templates, which deploy only exemptions and assignments, it counts no "
            "resource and runs no check: its time there is loading, parsing and rendering alone."
        )
    if results.peaks:
        out += [
            "",
            "Peak RSS of the largest single process of each run (`ru_maxrss` of `RUSAGE_CHILDREN`: "
            "the maximum over the process tree, not its sum) on the largest corpora checkov ran on:",
            "",
        ]
        out += _table(
            ["corpus", "exemptlint MiB (all cores)", "exemptlint MiB (`--jobs 1`)", "checkov MiB"],
            [
                [p.label, f"{p.exemptlint / 1024:.0f}", f"{p.single / 1024:.0f}", f"{p.checkov / 1024:.0f}"]
                for p in results.peaks
            ],
            [False, True, True, True],
        )
    return "\n".join(out) + "\n"
