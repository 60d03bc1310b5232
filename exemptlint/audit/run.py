"""``exemptlint audit``: read the deployed exemptions, lint them with the rules ``check`` uses,
compare them with the code, join Defender's view, and write the reports.

Every report is written only once everything was read: an Azure error stops the run with one line
on standard error and exit code 2, and no report is written. A scope that could not be read (a
403) is named in the reports, which say they are incomplete, and the exit code is 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from exemptlint import __version__
from exemptlint.model import Exemption, Finding, Level, LoadError, LoadResult, SetDefinition

if TYPE_CHECKING:
    from exemptlint.audit.model import AuditData
    from exemptlint.azure.client import ArmClient
    from exemptlint.config import Config
    from exemptlint.engine import LintSettings
    from exemptlint.report import Report

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2
DEFAULT_EXPIRING_WITHIN = 30


def _error(message: str) -> int:
    print(f"exemptlint: error: {message}", file=sys.stderr)
    return EXIT_ERROR


def endpoint_and_timeout(args: argparse.Namespace, config: Config) -> tuple[str, float]:
    """The normalized ARM endpoint and request time-out (AzureError when the endpoint is bad)."""
    from exemptlint.azure.token import PUBLIC_ENDPOINT, normalize_endpoint

    endpoint = normalize_endpoint(args.arm_endpoint or config.azure.arm_endpoint or PUBLIC_ENDPOINT)
    timeout = args.timeout or config.azure.timeout or 60.0
    return endpoint, timeout


def make_client(endpoint: str, timeout: float) -> ArmClient:
    """A client with a token for ``endpoint`` (AzureError when there is none)."""
    from exemptlint.azure.client import ArmClient, ClientSettings
    from exemptlint.azure.token import get_token

    token = get_token(endpoint)
    return ArmClient(ClientSettings(endpoint=endpoint, timeout=timeout), token, sleep=_SLEEP[0])


# Tests replace the sleep (retries and quota waits must not make them slow).
_SLEEP: list[Callable[[float], None]] = [time.sleep]


def lint_settings(args: argparse.Namespace, config: Config) -> LintSettings:
    from exemptlint.dates import utc_today
    from exemptlint.engine import LintSettings

    return LintSettings(
        today=args.today or config.today or utc_today(),
        select=tuple(args.select) if args.select is not None else config.select,
        ignore=tuple(args.ignore) if args.ignore is not None else config.ignore,
        levels=config.levels,
        options=config.options,
        assignment_map=config.assignments,
        overrides=config.overrides,
        epac_date_order=config.epac_date_order,
    )


def load_code(
    paths: Sequence[str], parameters: Sequence[str], settings: LintSettings, exclude: tuple[str, ...]
) -> LoadResult:
    """The exemptions and assignments of ``paths``, read as ``check`` reads them."""
    from exemptlint.loaders import LoadOptions, discover, display_path, load_file, load_parameters_file

    loaded = LoadResult()
    values: dict[str, object] = {}
    for file in parameters:
        found, problem = load_parameters_file(Path(file))
        if problem is not None:
            loaded.errors.append(problem)
        values.update(found)
    files, missing = discover(paths, exclude)
    loaded.errors.extend(missing)
    options = LoadOptions(today=settings.today, parameters=values, exclude=exclude)
    per_file = [(display_path(path), load_file(path, options)) for path in files]
    followed = set().union(*(result.followed for _, result in per_file)) if per_file else set()
    for shown, result in per_file:
        if shown in followed:
            result = LoadResult(errors=result.errors, assignments=result.assignments)
        loaded.extend(result)
    loaded.errors = list(dict.fromkeys(loaded.errors))
    return loaded


def run_audit(args: argparse.Namespace) -> int:
    from exemptlint.audit.analyze import AuditOptions, build_audit
    from exemptlint.azure.errors import AzureError
    from exemptlint.azure.graph import Scopes
    from exemptlint.azure.inventory import read_inventory
    from exemptlint.azure.progress import progress_for
    from exemptlint.azure.token import portal_for
    from exemptlint.cli import _rules_and_config
    from exemptlint.engine import lint, rule_enabled
    from exemptlint.rules import SUPPRESSION_RULE_ID, UNRESOLVED_RULE_ID

    started = time.perf_counter()
    resolved = _rules_and_config(args)
    if resolved is None:
        return EXIT_ERROR
    config, all_rules = resolved
    try:
        targets = output_targets(args)
        endpoint, timeout = endpoint_and_timeout(args, config)
    except (ValueError, AzureError) as error:
        return _error(str(error))
    settings = lint_settings(args, config)
    expiring = args.expiring_within
    if expiring is None:
        expiring = (
            config.azure.expiring_within
            if config.azure.expiring_within is not None
            else DEFAULT_EXPIRING_WITHIN
        )

    code: LoadResult | None = None
    if args.code:
        code = load_code(args.code, args.parameters, settings, config.exclude)
    scopes = Scopes(tuple(dict.fromkeys(args.subscription)), tuple(dict.fromkeys(args.management_group)))
    try:
        client = make_client(endpoint, timeout)
        try:
            inventory = read_inventory(
                client, scopes, verify=args.verify, defender=not args.no_defender, progress=progress_for()
            )
        finally:
            client.close()
    except AzureError as error:
        return _error(f"{error}; no report was written")

    live = [row.exemption for row in inventory.deployed if not row.stale]
    errors: list[LoadError] = list(code.errors) if code is not None else []
    findings = lint(
        live,
        inventory.assignments,
        settings,
        all_rules,
        UNRESOLVED_RULE_ID,
        SUPPRESSION_RULE_ID,
        errors=errors,
        set_definitions=custom_set_definitions(inventory.set_members, inventory.set_names),
    )
    audit = build_audit(
        inventory,
        AuditOptions(
            today=settings.today,
            expiring_within=expiring,
            owner_key=config.azure.owner_key,
            epac_date_order=config.epac_date_order,
        ),
        endpoint=endpoint,
        portal=portal_for(endpoint),
        scopes=scopes,
        findings=findings,
        code=code.exemptions if code is not None else None,
    )
    audit.seconds = time.perf_counter() - started
    from exemptlint.report import Report

    report = Report(
        version=__version__,
        today=settings.today.isoformat(),
        files=[],
        exemptions=live,
        findings=findings,
        errors=errors,
        rules=[rule for rule in all_rules if rule_enabled(rule.id, settings)],
        root=str(Path.cwd()),
        levels=config.levels,
        audit=audit,
    )
    write_reports(report, targets, args, code.exemptions if code is not None else [])
    for problem in audit.problems:
        print(f"exemptlint: error: {problem}", file=sys.stderr)
    for warning in audit.warnings:
        print(f"exemptlint: warning: {warning}", file=sys.stderr)
    fail_on = Level(args.fail_on) if args.fail_on else (config.fail_on or Level.ERROR)
    if audit.problems or errors:
        return EXIT_ERROR
    if any(f.level.rank >= fail_on.rank and f.suppression is None for f in findings):
        return EXIT_FINDINGS
    return EXIT_OK


def output_targets(args: argparse.Namespace) -> list[tuple[str, str | None]]:
    """(format, file) pairs; file None is standard output."""
    from exemptlint.audit.cli import AUDIT_FORMATS

    targets: list[tuple[str, str | None]] = []
    to_stdout = True
    for value in args.output:
        name, sep, path = value.partition("=")
        if sep and name in AUDIT_FORMATS:
            if not path:
                raise ValueError(f"--output {value}: no file after '='")
            targets.append((name, path))
        else:
            targets.append((args.format, value))
            to_stdout = False
    if to_stdout:
        targets.insert(0, (args.format, None))
    return targets


def write_reports(
    report: Report, targets: list[tuple[str, str | None]], args: argparse.Namespace, code: Sequence[Exemption]
) -> None:
    from exemptlint.audit.text import render_text
    from exemptlint.cli import write_atomically
    from exemptlint.report import renderer

    for name, path in targets:
        color = (
            name == "text"
            and path is None
            and sys.stdout.isatty()
            and not args.no_color
            and "NO_COLOR" not in os.environ
        )
        if name == "text":
            text = render_text(report, color, quiet=args.quiet)
        elif name == "sarif":
            text = renderer(name)(in_code(report, code), color)
        else:
            text = renderer(name)(report, color)
        if path is None:
            sys.stdout.write(text)
        else:
            write_atomically(Path(path), text)
    if report.errors:
        for error in report.errors:
            print(str(error), file=sys.stderr)


def in_code(report: Report, code: Sequence[Exemption]) -> Report:
    """The report with each finding on a deployed exemption that is also in the code moved to the
    code's file and line (code scanning shows only findings in repository files); the others keep
    the resource id."""
    audit: AuditData | None = report.audit
    if audit is None:
        return report
    places = {e.id: e.code for e in audit.exemptions if e.code is not None}
    moved: list[Finding] = []
    for finding in report.findings:
        place = places.get(finding.file)
        if place is None:
            moved.append(finding)
            continue
        moved.append(
            dataclasses.replace(
                finding,
                file=place.file,
                line=place.line,
                column=place.column,
                end_column=place.column + 1,
                message=f"{finding.message} [deployed: {finding.file}]",
            )
        )
    moved.sort(key=Finding.sort_key)
    return dataclasses.replace(report, findings=moved)


def custom_set_definitions(members: dict[str, dict[str, str]], names: dict[str, str]) -> list[SetDefinition]:
    """The custom policy set definitions read from Azure, as the loaders give those of scanned files,
    so that EL012 checks reference ids against their members (built-in ones come from the catalog)."""
    from exemptlint.azure.convert import azure_source

    found: list[SetDefinition] = []
    for set_id, by_reference in members.items():
        if set_id.startswith("/providers/microsoft.authorization/"):
            continue  # a built-in initiative: the catalog knows it
        found.append(
            SetDefinition(
                id=set_id,
                name=set_id.rsplit("/", 1)[-1],
                display_name=names.get(set_id),
                members=list(by_reference.items()),
                source=azure_source(set_id),
            )
        )
    return found
