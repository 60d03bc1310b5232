"""Runs rules over exemptions and turns violations into located findings.

The engine knows nothing about output formats or files on disk.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from exemptlint.hierarchy import Hierarchy
from exemptlint.model import (
    Exemption,
    Finding,
    Level,
    LoadError,
    LoadNote,
    PolicyAssignment,
    Position,
    SetDefinition,
    Suppression,
    Unresolved,
)
from exemptlint.rules.api import Rule, RuleContext, Violation
from exemptlint.suppressions import metadata_ignores

_NUMBERS = re.compile(r"\d+")


@dataclass(frozen=True)
class PathOverride:
    """Per-path settings (config ``overrides``): the rule selection, levels and options for
    exemptions whose source file matches one of ``files`` (shell-style globs; ``**`` and ``*``
    also match ``/``). ``select``/``ignore``, when set, replace the ones in effect."""

    files: tuple[str, ...]
    levels: Mapping[str, Level] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] | None = None

    def matches(self, file: str) -> bool:
        from fnmatch import fnmatchcase

        normalized = file.replace("\\", "/").removeprefix("./")
        return any(
            fnmatchcase(normalized, pattern) or fnmatchcase(normalized, pattern.replace("/**/", "/"))
            for pattern in self.files
        )


@dataclass(frozen=True)
class LintSettings:
    today: datetime.date
    select: tuple[str, ...] | None = None  # rule ids or id prefixes; None: every rule
    ignore: tuple[str, ...] = ()
    levels: Mapping[str, Level] = field(default_factory=dict)
    # Rule id -> options object (an instance of the rule's options dataclass).
    options: Mapping[str, Any] = field(default_factory=dict)
    assignment_map: Mapping[str, str] = field(default_factory=dict)
    overrides: tuple[PathOverride, ...] = ()
    # Config ``epac.date-order``: "month-first", "day-first" or None (both, see dates.py).
    epac_date_order: str | None = None
    # EPAC definitions folders named by --epac-definitions and config ``epac.definitions``.
    epac_definitions: tuple[str, ...] = ()
    # Where management groups and subscriptions sit (config ``management-groups``, EPAC settings).
    hierarchy: Hierarchy = field(default_factory=Hierarchy.empty)
    # ``--catalog`` / config ``catalog``: a catalog file to use instead of the packaged one.
    catalog_file: str | None = None

    def for_file(self, file: str) -> LintSettings:
        """These settings with the overrides that match ``file`` applied, in order."""
        matching = [o for o in self.overrides if o.matches(file)]
        if not matching:
            return self
        levels = dict(self.levels)
        options = dict(self.options)
        select, ignore = self.select, self.ignore
        for override in matching:
            levels.update(override.levels)
            options.update(override.options)
            if override.select is not None:
                select = override.select
            if override.ignore is not None:
                ignore = override.ignore
        return replace(self, levels=levels, options=options, select=select, ignore=ignore, overrides=())


def rule_enabled(rule_id: str, settings: LintSettings) -> bool:
    def matches(patterns: Iterable[str]) -> bool:
        return any(rule_id.upper().startswith(p.strip().upper()) for p in patterns if p.strip())

    if settings.select is not None and not matches(settings.select):
        return False
    return not matches(settings.ignore)


def rule_may_run(rule_id: str, settings: LintSettings) -> bool:
    """Whether the rule runs on some file: by the settings, or by an override's selection."""
    if rule_enabled(rule_id, settings):
        return True
    for override in settings.overrides:
        variant = replace(
            settings,
            select=override.select if override.select is not None else settings.select,
            ignore=override.ignore if override.ignore is not None else settings.ignore,
            overrides=(),
        )
        if rule_enabled(rule_id, variant):
            return True
    return False


@dataclass(frozen=True)
class RulePlan:
    """Which rules a run uses, worked out once (a worker process lints file by file)."""

    by_id: Mapping[str, Rule]
    active: tuple[Rule, ...]
    report_unresolved: bool
    suppression_rule: Rule | None
    unresolved_rule_id: str = "EL009"

    @property
    def whole_run(self) -> bool:
        """Whether a rule over all exemptions at once runs."""
        return any(rule.check_all is not None for rule in self.active)

    @classmethod
    def of(
        cls, rules: Sequence[Rule], settings: LintSettings, unresolved_rule_id: str, suppression_rule_id: str
    ) -> RulePlan:
        by_id = {rule.id: rule for rule in rules}
        return cls(
            by_id=by_id,
            active=tuple(rule for rule in rules if rule_may_run(rule.id, settings)),
            report_unresolved=unresolved_rule_id in by_id and rule_may_run(unresolved_rule_id, settings),
            suppression_rule=by_id.get(suppression_rule_id)
            if rule_may_run(suppression_rule_id, settings)
            else None,
            unresolved_rule_id=unresolved_rule_id,
        )


def lint(
    exemptions: Sequence[Exemption],
    assignments: Sequence[PolicyAssignment],
    settings: LintSettings,
    rules: Sequence[Rule],
    unresolved_rule_id: str = "EL009",
    suppression_rule_id: str = "EL011",
    notes: Sequence[LoadNote] = (),
    errors: list[LoadError] | None = None,
    context: RuleContext | None = None,
    plan: RulePlan | None = None,
    whole_run: bool = True,
    set_definitions: Sequence[SetDefinition] = (),
) -> list[Finding]:
    """The findings of ``rules`` on ``exemptions``. A rule that raises is reported in ``errors``
    (naming the rule and the exemption) and the other rules still run.

    ``context`` and ``plan``, when given, replace the ones made from the other arguments (a
    worker process lints file by file with one assignment index and one plan). With
    ``whole_run`` False the rules over all exemptions at once are left out: a worker process sees
    one file, and the parent runs them over every exemption (``lint_whole_run``).
    """
    if errors is None:
        errors = []
    if context is None:
        context = new_context(assignments, settings, set_definitions)
    if plan is None:
        plan = RulePlan.of(rules, settings, unresolved_rule_id, suppression_rule_id)
    by_id, active = plan.by_id, plan.active
    report_unresolved, suppression_rule = plan.report_unresolved, plan.suppression_rule
    findings: list[Finding] = lint_whole_run(exemptions, context, settings, plan, errors) if whole_run else []
    seen_directives: set[tuple[str, int]] = set()
    # With overrides, which rules run depends on the file: (settings, enabled rule ids) per file.
    per_file: dict[str, tuple[LintSettings, frozenset[str]]] = {}

    def local_settings(file: str) -> tuple[LintSettings, frozenset[str] | None]:
        if not settings.overrides:
            return settings, None
        if file not in per_file:
            local = settings.for_file(file)
            enabled = frozenset(rule_id for rule_id in by_id if rule_enabled(rule_id, local))
            per_file[file] = (local, enabled)
        return per_file[file]

    for exemption in exemptions:
        own: list[Finding] = []
        # property -> (value, ids of the rules that needed it), one EL009 note per property.
        needed: dict[str, tuple[Unresolved, list[str]]] = {}
        local, enabled = local_settings(exemption.source.file)
        produced: list[tuple[Rule, Violation]] = []
        for rule in active:
            if enabled is None or rule.id in enabled:
                _check(rule, exemption, context, local, produced, errors)
        _located(produced, exemption, local, plan, needed, own, enabled)
        _apply_suppressions(own, exemption)
        findings.extend(own)
        if suppression_rule is not None and (enabled is None or suppression_rule.id in enabled):
            findings.extend(
                _suppression_problems(exemption, suppression_rule, by_id, settings, seen_directives)
            )
    for note in notes:
        # A loader's note is EL009's unless it names another rule (a template problem that rule
        # reports, such as a copy count ARM rejects): reported only when that rule runs.
        if note.rule_id == unresolved_rule_id:
            if not report_unresolved:
                continue
        elif note.rule_id not in by_id or not rule_enabled(note.rule_id, settings):
            continue
        _, enabled = local_settings(note.file)
        if enabled is not None and note.rule_id not in enabled:
            continue  # an override turns the rule off for this file
        rule = by_id[note.rule_id]
        message = one_line(note.message)
        shown = shorten(message, MESSAGE_LIMIT)
        findings.append(
            Finding(
                rule_id=rule.id,
                rule_name=rule.name,
                level=settings.levels.get(rule.id) or rule.level,
                message=shown,
                file=note.file,
                line=note.line,
                column=note.column,
                end_column=note.column + 1,
                fingerprint=_digest(rule.id, note.file, _NUMBERS.sub("#", note.message)),
                full_message=message if shown != message else None,
            )
        )
    findings.sort(key=Finding.sort_key)
    return findings


def lint_whole_run(
    exemptions: Sequence[Exemption],
    context: RuleContext,
    settings: LintSettings,
    plan: RulePlan,
    errors: list[LoadError],
) -> list[Finding]:
    """The findings of the rules over all exemptions at once (``Rule.check_all``), run once over
    every exemption of the run, wherever it was linted. A value such a rule needed and could not
    know gets an EL009 note of its own."""
    produced: dict[int, list[tuple[Rule, Violation]]] = {}
    for rule in plan.active:
        if rule.check_all is None:
            continue
        options = settings.options.get(rule.id) or rule.default_options()
        try:
            for exemption, violation in rule.check_all(exemptions, context, options):
                produced.setdefault(id(exemption), []).append((rule, violation))
        except Exception as error:
            errors.append(LoadError("exemptlint", 1, 1, f"rule {rule.id} raised {error!r} on the whole set"))
    findings: list[Finding] = []
    if not produced:
        return findings
    for exemption in exemptions:
        violations = produced.pop(id(exemption), None)
        if violations is None:
            continue
        enabled: frozenset[str] | None = None
        local = settings
        if settings.overrides:
            # Per-path select/ignore apply to these rules too: by the file each finding is in.
            local = settings.for_file(exemption.source.file)
            enabled = frozenset(rule_id for rule_id in plan.by_id if rule_enabled(rule_id, local))
            violations = [(rule, violation) for rule, violation in violations if rule.id in enabled]
        own: list[Finding] = []
        _located(violations, exemption, local, plan, {}, own, enabled)
        _apply_suppressions(own, exemption)
        findings.extend(own)
    return findings


def _located(
    produced: list[tuple[Rule, Violation]],
    exemption: Exemption,
    settings: LintSettings,
    plan: RulePlan,
    needed: dict[str, tuple[Unresolved, list[str]]],
    own: list[Finding],
    enabled: frozenset[str] | None = None,
) -> None:
    """The findings of ``produced`` on ``exemption``, added to ``own``; values the rules could not
    know are gathered in ``needed`` into one EL009 note per property."""
    for rule, violation in produced:
        if violation.unresolved is not None:
            prop = violation.property or "value"
            entry = needed.setdefault(prop, (violation.unresolved, []))
            if rule.id not in entry[1]:
                entry[1].append(rule.id)
            continue
        own.append(_finding(rule, violation, exemption, settings))
    # ``enabled``: the rules an override leaves on for this file (None: no override applies).
    if (
        plan.report_unresolved
        and plan.unresolved_rule_id in plan.by_id
        and (enabled is None or plan.unresolved_rule_id in enabled)
    ):
        rule = plan.by_id[plan.unresolved_rule_id]
        for prop, (value, rule_ids) in needed.items():
            tail = f" ({value.reason}); not checked by {', '.join(rule_ids)}"
            shown = shorten(value.expression, VALUE_LIMIT)
            message = f"{prop} is not known statically: {shown}{tail}"
            full = (
                f"{prop} is not known statically: {value.expression}{tail}"
                if shown != value.expression
                else None
            )
            own.append(_finding(rule, Violation(message, property=prop), exemption, settings, full))


def _check(
    rule: Rule,
    exemption: Exemption,
    context: RuleContext,
    settings: LintSettings,
    produced: list[tuple[Rule, Violation]],
    errors: list[LoadError],
) -> None:
    options = settings.options.get(rule.id) or _default_options(rule)
    try:
        produced.extend((rule, violation) for violation in rule.check(exemption, context, options))
    except Exception as error:
        position = exemption.source.locator.exemption()
        errors.append(
            LoadError(
                exemption.source.file,
                position.line,
                position.column,
                f"rule {rule.id} raised {error!r} on exemption '{exemption.label}'",
            )
        )


def _default_options(rule: Rule) -> Any:
    # One options object per rule and run instead of one per exemption: options are read-only.
    if rule.options is None:
        return None
    return _defaults_of(rule.options)


@functools.cache
def _defaults_of(options: type) -> Any:
    return options()


def new_context(
    assignments: Sequence[PolicyAssignment],
    settings: LintSettings,
    set_definitions: Sequence[SetDefinition] = (),
) -> RuleContext:
    return RuleContext(
        today=settings.today,
        assignments=list(assignments),
        assignment_map=settings.assignment_map,
        epac_date_order=settings.epac_date_order,
        hierarchy=settings.hierarchy,
        set_definitions=list(set_definitions),
        catalog_file=settings.catalog_file,
    )


def _apply_suppressions(findings: list[Finding], exemption: Exemption) -> None:
    # Suppressions name whole ids (upper-cased when read), compared exactly: an id that names no
    # rule (EL4, or the prefix EL00) matches no finding, so it suppresses nothing (EL011 says so).
    ignores = {ignore.rule_id: ignore.reason for ignore in metadata_ignores(exemption)}
    for finding in findings:
        rule_id = finding.rule_id.upper()
        if rule_id in ignores:
            reason = ignores[rule_id] or "no reason given"
            finding.suppression = Suppression("inSource", reason)
            continue
        for directive in exemption.source.directives:
            # A directive without rule ids suppresses every rule on its line.
            if directive.target_line == finding.line and (not directive.rules or rule_id in directive.rules):
                finding.suppression = Suppression("inSource", directive.reason or "no reason given")
                break


def _suppression_problems(
    exemption: Exemption,
    rule: Rule,
    known: Mapping[str, Rule],
    settings: LintSettings,
    seen_directives: set[tuple[str, int]],
) -> Iterator[Finding]:
    """EL011: suppressions naming no known rule (each such id), or without a reason."""
    rules = list(known.values())
    upper = {rule_id.upper() for rule_id in known}
    for ignore in metadata_ignores(exemption):
        if ignore.rule_id not in upper:
            problem = _names_no_rule(ignore.rule_id, rules)
        elif not ignore.reason:
            problem = _without_reason(ignore.rule_id)
        else:
            continue
        violation = Violation(f"metadata.exemptlint.ignore {problem}", property="metadata")
        yield _finding(rule, violation, exemption, settings)
    for directive in exemption.source.directives:
        key = (exemption.source.file, directive.line)
        if key in seen_directives:
            continue
        seen_directives.add(key)
        position = Position(directive.line, directive.column, len("// exemptlint-disable-next-line"))
        problems = [_names_no_rule(rule_id, rules) for rule_id in directive.rules if rule_id not in upper]
        named = [rule_id for rule_id in directive.rules if rule_id in upper]
        if not directive.reason and (named or not directive.rules):
            # Without rule ids, the comment suppresses every rule on the next line.
            problems.append(_without_reason(", ".join(named) or "every rule"))
        for problem in problems:
            yield _finding_at(rule, f"exemptlint-disable-next-line {problem}", exemption, position, settings)


def _names_no_rule(rule_id: str, rules: Sequence[Rule]) -> str:
    from exemptlint.rule_ids import unknown_id_message

    return f"suppresses nothing: {unknown_id_message(rule_id, rules)}"


def _without_reason(target: str) -> str:
    return f"suppresses {target} without a reason: say why (-- reason, or the value in metadata)"


def _finding(
    rule: Rule, violation: Violation, exemption: Exemption, settings: LintSettings, full: str | None = None
) -> Finding:
    return _finding_at(
        rule,
        violation.message,
        exemption,
        violation.position or locate(exemption, violation.property),
        settings,
        violation.level,
        violation.property,
        full,
    )


def _finding_at(
    rule: Rule,
    message: str,
    exemption: Exemption,
    position: Position,
    settings: LintSettings,
    violation_level: Level | None = None,
    prop: str | None = None,
    full: str | None = None,
) -> Finding:
    """The finding; ``full`` is the message before a value echoed in it was shortened."""
    configured = settings.levels.get(rule.id)
    level = violation_level or rule.level
    if configured is not None:
        # The configured level replaces the rule's level; a finding the rule already made
        # softer (EL005 "expires soon") is never made harsher than it.
        level = (
            configured
            if violation_level is None or configured.rank < violation_level.rank
            else violation_level
        )
    if exemption.source.context:
        message = f"{message} [{exemption.source.context}]"
        full = f"{full} [{exemption.source.context}]" if full is not None else None
    message = one_line(message)
    # Any rule's message (plugins' too) stays readable: a value it quotes may be 40 KB long.
    shown = shorten(message, MESSAGE_LIMIT)
    if shown != message:
        full = one_line(full) if full is not None else message
        message = shown
    elif full is not None:
        full = one_line(full)
    return Finding(
        rule_id=rule.id,
        rule_name=rule.name,
        level=level,
        message=message,
        file=exemption.source.file,
        line=position.line,
        column=position.column,
        exemption_name=exemption.label,
        property=prop,
        end_column=position.end_column,
        # From the whole message: shortening (or a change of its limits) keeps baselines valid.
        fingerprint=fingerprint(rule.id, exemption, prop, full if full is not None else message),
        full_message=full,
    )


# Characters that would break a finding's message over several lines (or hide part of it),
# written as escapes instead: messages quote values from the files, which may hold anything.
_LINE_BREAKING = {
    code: ascii(chr(code))[1:-1]  # "\\n", "\\x00", "\\u2028"
    for code in (*range(0x20), 0x7F, 0x85, 0x2028, 0x2029)
    if code != 0x09  # a tab stays on its line
}


# An echoed value (an unresolved expression) is shown with at most this many characters, a whole
# message with at most MESSAGE_LIMIT; JSON and SARIF keep the whole text ("fullMessage"). The real
# corpus's longest message is 755 characters: nothing there is shortened.
VALUE_LIMIT = 200
MESSAGE_LIMIT = 1000


def shorten(text: str, limit: int) -> str:
    """``text``, or its beginning and end around a note of how much was left out."""
    if len(text) <= limit:
        return text
    tail = limit // 4
    head = limit - tail
    return f"{text[:head]} …({len(text) - head - tail:,} characters)… {text[-tail:]}"


def one_line(message: str) -> str:
    """The message with line breaks and other control characters written as escapes."""
    return message.translate(_LINE_BREAKING) if not message.isprintable() else message


def fingerprint(rule_id: str, exemption: Exemption, prop: str | None, message: str) -> str:
    """Stable when unrelated lines move or days pass: no positions, and numbers are masked."""
    return _digest(rule_id, exemption.source.file, exemption.label, prop or "", _NUMBERS.sub("#", message))


def _digest(*parts: str) -> str:
    import hashlib  # here: a run without findings does not need it

    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:32]


def locate(exemption: Exemption, prop: str | None) -> Position:
    """The property's position, else the properties object's, else the exemption's."""
    locator = exemption.source.locator
    if prop is not None:
        found = locator.property(prop)
        if found is not None:
            return found
    found = locator.property("properties")
    return found if found is not None else locator.exemption()
