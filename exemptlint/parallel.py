"""Linting on several processes, for runs over many files.

EL001 needs every policy assignment of the run before it can judge any exemption, so a run is
two passes over the files, each shared among worker processes in chunks:

1. **Assignments.** A worker reads each file and loads it only if its text can define a policy
   assignment (it names the assignment *type*, not just an assignment id, or it is Bicep that
   deploys modules), a policy set definition (EL012 checks reference ids against it) or a
   management group (EL014 places scopes below it). Most files are only read.
2. **Lint.** With every assignment known, a worker loads each file, runs every rule on its
   exemptions and locates the findings. It sends back findings, errors and what the reports need
   of the exemptions (their number; their JSON for a JSON report), never the file's text.

The parent only merges. Memory stays bounded: a worker holds one chunk's texts at a time, the
parent no text at all. The result is the same as in one process; if the second pass meets an
assignment the first one did not load (a file that builds the type from parts, say),
``ParallelRun.complete`` is False and the caller lints in one process instead.

Workers are forked, so they inherit the rules (plugins and rule packs too) and the settings
instead of re-creating them; where ``fork`` is not available the run stays in one process.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple, TypeVar

from exemptlint.budget import BudgetTimer
from exemptlint.engine import LintSettings, RulePlan, lint
from exemptlint.epac_layout import may_be_assignment_text
from exemptlint.loaders import LoadOptions, certainly_irrelevant, decode, load_file, read_bytes
from exemptlint.model import (
    Exemption,
    Finding,
    FixedLocator,
    LoadError,
    Placement,
    PolicyAssignment,
    SetDefinition,
    Skipped,
    Source,
)
from exemptlint.report.json_report import dump
from exemptlint.rules.api import Rule, RuleContext

# multiprocessing and concurrent.futures are imported only by a run that starts workers: they
# cost a one-file run (a pre-commit hook) about 14 ms.

# Below this many files that can hold exemptions (the others are dropped before linting), or
# below MIN_BYTES of them, a run stays in one process: starting workers costs more than it saves
# (measured with bench/run; see docs/performance.md). 200 ARM templates pay off, 200 one-exemption
# files (about 220 KB) do not, 500 of them do.
MIN_FILES = 200
MIN_BYTES = 512 * 1024
# Files per task: small enough to share the work evenly, large enough that sending tasks and
# results costs little next to linting them.
MAX_CHUNK = 64

# Text that can define a policy assignment: the assignment type as the value of a type property
# (JSON, YAML) or of a Bicep resource, any type written as an ARM expression, or a Terraform
# assignment resource. An assignment *id* (".../policyAssignments/NAME") does not count. The
# searches run on the lower-cased text (case-insensitive patterns scan several times slower) and
# are linear in it (bounded look-behind, no nested repetition): they run on every file, outside
# the per-file time budget.
_ASSIGNMENT_TYPE = "policyassignments"
_TYPE_KEY_BEFORE = re.compile(r"""type['"]?[ \t]*:[ \t]*['"]?[^'"\n]*\Z""")
_EXPRESSION_TYPE = re.compile(r"""type['"]?[ \t]{0,20}:[ \t]{0,20}['"]\[""")
_TERRAFORM_ASSIGNMENT = re.compile(r"_policy_assignment\b")
_LOOK_BEHIND = 120
# Bicep and Terraform modules may define assignments that the calling file evaluates with its
# own values.
_BICEP_MODULE = re.compile(r"^[ \t]*module\s", re.MULTILINE)
# Text that can define a policy set definition: its type as a type (JSON, Bicep; not in an id),
# a member's reference id key (EPAC files have no type; "policyDefinitionReferenceIds" of
# exemptions does not count) or a Terraform set definition resource.
_SET_DEFINITION_TYPE = "policysetdefinitions"
_MEMBER_KEY = re.compile(r"policydefinitionreferenceid(?!s)")
_TERRAFORM_SET_DEFINITION = "_policy_set_definition"
# Text that can place a management group or subscription: the management-group type as a type,
# or a Terraform management group resource (``azurerm_management_group``,
# ``azurerm_management_group_subscription_association``).
_MANAGEMENT_GROUP_TYPE = "managementgroups"
_TERRAFORM_MANAGEMENT_GROUP = re.compile(r"azurerm_management_group(?:_subscription_association)?\b")


@dataclass
class FileReport:
    """What a worker sends back for one file."""

    shown: str
    errors: list[LoadError]
    # Rules that raised (reported after every load error, as in one process).
    rule_errors: list[LoadError] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    exemption_count: int = 0
    # Exemption.to_json() of each exemption as compact JSON text, when a JSON report is written.
    exemption_json: list[str] = field(default_factory=list)
    # The exemptions themselves (positions kept, text dropped), when a JUnit report is written.
    exemptions: list[Exemption] = field(default_factory=list)
    followed: set[str] = field(default_factory=set)
    skipped: list[Skipped] = field(default_factory=list)
    # The file defines an assignment (or a set definition, or places a management group) that the
    # first pass did not load.
    missed_assignment: bool = False


@dataclass
class ParallelRun:
    files: list[FileReport]
    # False when the second pass met an assignment the first did not load: lint in one process.
    complete: bool
    # Every assignment the workers linted with: the parent runs the rules over all exemptions at
    # once (``engine.lint_whole_run``) with them.
    assignments: list[PolicyAssignment] = field(default_factory=list)
    # The settings the workers linted with (the hierarchy includes the files' placements).
    settings: LintSettings | None = None


@dataclass(frozen=True)
class _Job:
    options: LoadOptions
    settings: LintSettings
    rules: tuple[Rule, ...]
    unresolved_rule_id: str
    suppression_rule_id: str
    want_json: bool
    want_exemptions: bool
    assignments: tuple[PolicyAssignment, ...] = ()
    set_definitions: tuple[SetDefinition, ...] = ()


def available_cores() -> int:
    """The cores this process may run on (the CPU affinity mask, as containers set it)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def worker_count(requested: int, files: int, size: int | None = None) -> int:
    """How many worker processes a run over ``files`` files (of ``size`` bytes in all, when
    known) uses: 0 means "in this process".

    ``requested`` is ``--jobs``: 1 forces one process, 0 means as many as there are cores (then
    only from ``MIN_FILES`` files and ``MIN_BYTES`` on), N uses N workers whatever the files.
    """
    if requested == 1 or files < 2 or not hasattr(os, "fork"):
        return 0
    if requested == 0:
        if files < MIN_FILES or (size is not None and size < MIN_BYTES):
            return 0
        requested = available_cores()
        if requested == 1:
            return 0
    return min(requested, files)


def lint_in_parallel(
    files: Sequence[tuple[Path, str]],
    options: LoadOptions,
    settings: LintSettings,
    rules: Sequence[Rule],
    workers: int,
    *,
    unresolved_rule_id: str,
    suppression_rule_id: str,
    want_json: bool,
    want_exemptions: bool,
    assignments: Sequence[PolicyAssignment] = (),
    on_done: Callable[[int], None] | None = None,
) -> ParallelRun:
    """Each file's report, in the order of ``files``, computed by ``workers`` processes.

    ``assignments`` are known before the run (EPAC assignment files it does not lint). The rules
    over all exemptions at once are left to the caller: when one runs, every file's report holds
    its exemptions."""
    plan = RulePlan.of(rules, settings, unresolved_rule_id, suppression_rule_id)
    job = _Job(
        options,
        settings,
        tuple(rules),
        unresolved_rule_id,
        suppression_rule_id,
        want_json,
        want_exemptions or plan.whole_run,
    )
    size = max(1, min(MAX_CHUNK, len(files) // (workers * 8)))
    chunks = [list(files[start : start + size]) for start in range(0, len(files), size)]

    found = _run(_assignments_of_chunk, chunks, job, workers, _no_assignments, on_done)
    known = [assignment for file in found for assignment in file.assignments]
    known.extend(assignments)
    set_definitions = [definition for file in found for definition in file.set_definitions]
    hierarchy = settings.hierarchy.with_placements(p for file in found for p in file.placements)
    settings = replace(settings, hierarchy=hierarchy)
    loaded = iter([file.loaded for file in found])
    tasks = [[(path, shown, next(loaded)) for path, shown in chunk] for chunk in chunks]
    job = replace(job, settings=settings, assignments=tuple(known), set_definitions=tuple(set_definitions))
    reports = _run(_lint_chunk, tasks, job, workers, _stopped, on_done)
    complete = not any(report.missed_assignment for report in reports)
    return ParallelRun(reports, complete, known, settings)


Task = TypeVar("Task")
Result = TypeVar("Result")


def _run(
    work: Callable[[list[Task]], list[Result]],
    chunks: list[list[Task]],
    job: _Job,
    workers: int,
    on_crash: Callable[[Task], Result],
    on_done: Callable[[int], None] | None = None,
) -> list[Result]:
    """``work`` over every chunk in the pool, results in order. If a worker dies (killed, out of
    memory, a crash in a native parser), what is left is redone one item per task in a single
    worker, so that the item that kills it is known: it gets ``on_crash(item)``."""
    from concurrent.futures.process import BrokenProcessPool

    results: list[Result] = []
    finished = 0
    try:
        with _running(workers, job, work, chunks) as mapped:
            for chunk_results in mapped:
                results.extend(chunk_results)
                finished += 1
                if on_done is not None:
                    on_done(len(chunk_results))  # files done, for a progress bar
    except BrokenProcessPool:
        remaining = [item for chunk in chunks[finished:] for item in chunk]
        while remaining:
            done = 0
            try:
                with _running(1, job, work, [[item] for item in remaining]) as mapped:
                    for item_results in mapped:
                        results.extend(item_results)
                        done += 1
            except BrokenProcessPool:
                results.append(on_crash(remaining[done]))
                done += 1
            remaining = remaining[done:]
    return results


def _no_assignments(item: tuple[Path, str]) -> _Found:
    return _NOT_LOADED  # the second pass reports the file


def _stopped(item: tuple[Path, str, bool]) -> FileReport:
    _, shown, _ = item
    return FileReport(shown, [LoadError(shown, 1, 1, "the process linting this file stopped unexpectedly")])


@contextmanager
def _running(
    workers: int, job: _Job, work: Callable[[list[Task]], list[Result]], chunks: list[list[Task]]
) -> Iterator[Iterator[list[Result]]]:
    """``work`` over ``chunks`` in a pool of ``workers`` processes for ``job``: the results, in
    order. Interrupted (Ctrl-C) or broken, the workers are stopped at once: leaving the pool
    normally would first run every queued task."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_start_worker,
        initargs=(job,),
    )
    try:
        # Submitting forks the workers. They start with Ctrl-C blocked until they ignore it
        # (_start_worker): one that arrives while a worker starts must not print its traceback.
        with _sigint_blocked():
            # Not pool.map: on an interruption its iterator cancels the queued futures, and
            # Python 3.11's pool then fails them as well ("InvalidStateError: CANCELLED" on stderr).
            futures = [pool.submit(work, chunk) for chunk in chunks]
        yield (future.result() for future in futures)
    except BaseException:
        for child in multiprocessing.active_children():
            child.terminate()
        # The pool sees its workers gone and fails what is queued.
        pool.shutdown(wait=True)
        raise
    pool.shutdown(wait=True)


@contextmanager
def _sigint_blocked() -> Iterator[None]:
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@dataclass
class _Worker:
    job: _Job
    # The context of files that define no assignment of their own: shared, so that the
    # assignment index is built once per worker.
    shared: RuleContext
    plan: RulePlan


# This worker process's job, set once when it starts (never set in the parent).
_worker: _Worker | None = None


def _start_worker(job: _Job) -> None:
    global _worker
    # Ctrl-C reaches the whole process group: the parent stops the workers (see _running).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    # A parent killed outright (SIGKILL, a cancelled CI job) cannot stop them: they notice.
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    # Interval timers are not inherited across fork: each worker arms its own.
    timer = BudgetTimer(job.options.time_budget)
    timer.arm()
    job = replace(job, options=replace(job.options, timer=timer))
    plan = RulePlan.of(job.rules, job.settings, job.unresolved_rule_id, job.suppression_rule_id)
    _worker = _Worker(job, _context(job, list(job.assignments), list(job.set_definitions)), plan)


def _exit_with_parent(parent: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(3)


def _context(
    job: _Job, assignments: list[PolicyAssignment], set_definitions: list[SetDefinition]
) -> RuleContext:
    return RuleContext(
        today=job.settings.today,
        assignments=assignments,
        assignment_map=job.settings.assignment_map,
        epac_date_order=job.settings.epac_date_order,
        hierarchy=job.settings.hierarchy,
        set_definitions=set_definitions,
        catalog_file=job.settings.catalog_file,
    )


def _current() -> _Worker:
    assert _worker is not None, "called outside a worker process"
    return _worker


class _Found(NamedTuple):
    """What the first pass learns of a file: whether it loaded it, and what it defines that
    every other file's lint needs."""

    loaded: bool
    assignments: list[PolicyAssignment]
    set_definitions: list[SetDefinition]
    placements: list[Placement]


_NOT_LOADED = _Found(False, [], [], [])


def _assignments_of_chunk(chunk: list[tuple[Path, str]]) -> list[_Found]:
    job = _current().job
    return [_assignments_of(path, shown, job.options) for path, shown in chunk]


def _assignments_of(path: Path, shown: str, options: LoadOptions) -> _Found:
    """Whether the file was loaded, and the assignments and set definitions it defines (its other
    content and any problem are left to the second pass)."""
    data, _ = read_bytes(path, shown)
    if data is None or certainly_irrelevant(data, path.suffix.lower(), path.name):
        return _NOT_LOADED
    text, _ = decode(data, shown)
    if text is None:
        return _NOT_LOADED
    lowered = text.lower()
    if not (
        _may_define_assignment(lowered, path)
        or _may_define_set_definition(lowered)
        or _may_place_management_group(lowered)
    ):
        return _NOT_LOADED
    result = load_file(path, options, shown, data)
    return _Found(
        True,
        [_detached_assignment(a) for a in result.assignments],
        [_detached_source(d) for d in result.set_definitions],
        [_detached_source(p) for p in result.placements],
    )


def may_define_assignment(text: str, path: Path) -> bool:
    """False only when the file certainly defines no policy assignment (see ``_ASSIGNMENT_TYPE``)."""
    return _may_define_assignment(text.lower(), path)


def _may_define_assignment(lowered: str, path: Path) -> bool:
    if _names_type(lowered, _ASSIGNMENT_TYPE):
        return True
    if "_policy_assignment" in lowered and _TERRAFORM_ASSIGNMENT.search(lowered):
        return True
    if may_be_assignment_text(lowered):
        return True  # an EPAC assignment file
    if _EXPRESSION_TYPE.search(lowered):
        return True
    return path.suffix.lower() in (".bicep", ".tf") and _BICEP_MODULE.search(lowered) is not None


def _names_type(lowered: str, word: str) -> bool:
    """Whether ``word`` (the last part of a resource type, lower case) is written as a type: the
    value of a type property, or a Bicep resource type; an id ("{word}/NAME") does not count."""
    at = lowered.find(word)
    while at >= 0:
        end = at + len(word)
        after = lowered[end : end + 1]
        if after == "@":
            return True  # a Bicep resource type
        if after != "/" and after != "_" and not after.isalnum():
            line_start = lowered.rfind("\n", max(0, at - _LOOK_BEHIND), at) + 1
            if _TYPE_KEY_BEFORE.search(lowered, max(line_start, at - _LOOK_BEHIND), at):
                return True
        at = lowered.find(word, end)
    return False


def may_define_set_definition(text: str) -> bool:
    """False only when the file certainly defines no policy set definition."""
    return _may_define_set_definition(text.lower())


def _may_define_set_definition(lowered: str) -> bool:
    return (
        _names_type(lowered, _SET_DEFINITION_TYPE)
        or _TERRAFORM_SET_DEFINITION in lowered
        or _MEMBER_KEY.search(lowered) is not None
    )


def may_place_management_group(text: str) -> bool:
    """False only when the file certainly places no management group or subscription."""
    return _may_place_management_group(text.lower())


def _may_place_management_group(lowered: str) -> bool:
    if _MANAGEMENT_GROUP_TYPE in lowered and (
        _names_type(lowered, _MANAGEMENT_GROUP_TYPE)
        or _names_type(lowered, _MANAGEMENT_GROUP_TYPE + "/subscriptions")
    ):
        return True
    return "azurerm_management_group" in lowered and _TERRAFORM_MANAGEMENT_GROUP.search(lowered) is not None


def _lint_chunk(chunk: list[tuple[Path, str, bool]]) -> list[FileReport]:
    worker = _current()
    return [_lint_file(path, shown, loaded, worker) for path, shown, loaded in chunk]


def _lint_file(path: Path, shown: str, loaded_before: bool, worker: _Worker) -> FileReport:
    job = worker.job
    result = load_file(path, job.options, shown)
    report = FileReport(shown, result.errors, followed=result.followed, skipped=result.skipped)
    # The first pass put this file's assignments in every context already, unless it did not load it.
    own = [] if loaded_before else result.assignments
    report.missed_assignment = any(not _synthetic(assignment) for assignment in own) or bool(
        not loaded_before and (result.set_definitions or result.placements)
    )
    context = worker.shared if not own else _context(job, [*job.assignments, *own], list(job.set_definitions))
    context.memo.clear()  # per exemption (by id), and ids are reused once a file's exemptions are gone
    report.findings = lint(
        result.exemptions,
        context.assignments,
        job.settings,
        job.rules,
        job.unresolved_rule_id,
        job.suppression_rule_id,
        notes=result.notes,
        errors=report.rule_errors,
        context=context,
        plan=worker.plan,
        whole_run=False,
    )
    report.exemption_count = len(result.exemptions)
    if job.want_json:
        # As text: the parent splices it into the report instead of unpickling and dumping it.
        report.exemption_json = [dump(exemption.to_json()) for exemption in result.exemptions]
    if job.want_exemptions:
        report.exemptions = [detached(exemption) for exemption in result.exemptions]
    return report


def _synthetic(assignment: PolicyAssignment) -> bool:
    # EPAC exemptions that name a definition directly get an assignment of their own
    # ("epac:<definition id>"): it serves only them, so the first pass need not know it.
    return isinstance(assignment.id, str) and assignment.id.startswith("epac:")


def detached(exemption: Exemption) -> Exemption:
    """The exemption with a locator that knows, without the file's text, every position the
    reports can ask for: the exemption's, and those of its name, scope, id, type, properties
    object and each of its properties."""
    locator = exemption.source.locator
    if isinstance(locator, FixedLocator):
        return exemption
    positions = {}
    for name in ("name", "scope", "id", "type", "properties", *exemption.properties):
        found = locator.property(name)
        if found is not None:
            positions[name] = found
    exemption.source = replace(exemption.source, locator=FixedLocator(locator.exemption(), positions))
    return exemption


# Set definitions and placements: what the first pass sends back, with its position only (the
# parent holds no file text).
_Sourced = TypeVar("_Sourced", SetDefinition, Placement)


def _detached_source(item: _Sourced) -> _Sourced:
    source = item.source
    if isinstance(source.locator, FixedLocator):
        return item
    detached = Source(source.file, source.format, FixedLocator(source.locator.exemption()))
    return item._replace(source=detached)


def _detached_assignment(assignment: PolicyAssignment) -> PolicyAssignment:
    source = assignment.source
    if not isinstance(source.locator, FixedLocator):
        assignment.source = Source(source.file, source.format, FixedLocator(source.locator.exemption()))
    return assignment


def merge_findings(reports: Sequence[FileReport], suppression_rule_id: str) -> list[Finding]:
    """The findings of every file, ordered as in one process. A suppression comment in a Bicep
    module that several linted files deploy is reported through each of them: in one process it
    is reported once, for the first."""
    findings: list[Finding] = []
    seen: set[tuple[str, int, int, str]] = set()
    for report in reports:
        comments: set[tuple[str, int, int, str]] = set()
        for finding in report.findings:
            if finding.rule_id == suppression_rule_id and finding.message.startswith(_COMMENT_PROBLEM):
                key = (finding.file, finding.line, finding.column, finding.message)
                if key in seen:
                    continue
                comments.add(key)
            findings.append(finding)
        seen |= comments
    findings.sort(key=Finding.sort_key)
    return findings


# How the engine's EL011 messages about suppression comments begin.
_COMMENT_PROBLEM = "exemptlint-disable-next-line "
