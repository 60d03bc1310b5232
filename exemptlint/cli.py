"""Command line: ``exemptlint check [PATH ...]`` and ``exemptlint rules``."""

from __future__ import annotations

import argparse
import datetime
import gc
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from exemptlint import __version__, catalog_cli
from exemptlint.catalog_cli import VersionAction
from exemptlint.model import (
    Exemption,
    Finding,
    Level,
    LoadError,
    LoadResult,
    PolicyAssignment,
    Skipped,
    standalone_loads,
)
from exemptlint.report import FORMATS, Report

if TYPE_CHECKING:
    from exemptlint.config import Config
    from exemptlint.discover import SourceFile
    from exemptlint.engine import LintSettings, PathOverride
    from exemptlint.loaders import LoadOptions
    from exemptlint.progress import Progress
    from exemptlint.rules.api import Rule

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130  # as shells report a process stopped by Ctrl-C (128 + SIGINT)


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date (YYYY-MM-DD)") from None


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of processes (0 for every core)")
    return value


def _rule_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="exemptlint",
        description="Lint Azure Policy exemptions (Microsoft.Authorization/policyExemptions).",
    )
    parser.add_argument("--version", action=VersionAction, version=__version__)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = commands.add_parser("check", help="lint files and directories")
    check.add_argument(
        "paths", nargs="*", default=["."], metavar="PATH", help="files or directories (default: .)"
    )
    check.add_argument(
        "--format", choices=tuple(FORMATS), default="text", help="output format (default: text)"
    )
    check.add_argument(
        "--output",
        action="append",
        default=[],
        metavar="[FORMAT=]FILE",
        help="write the --format report to FILE instead of standard output, or FORMAT's report to FILE "
        "as well (repeatable: --output sarif=out.sarif --output junit=junit.xml)",
    )
    check.add_argument(
        "--sarif-file", metavar="FILE", help="also write SARIF to FILE (same as --output sarif=FILE)"
    )
    check.add_argument(
        "--baseline", metavar="FILE", help="report only findings not recorded in this baseline"
    )
    check.add_argument("--write-baseline", metavar="FILE", help="record today's findings in a baseline FILE")
    check.add_argument(
        "--config", metavar="FILE", help="config file (default: .exemptlint.yaml found upwards)"
    )
    check.add_argument(
        "--select", type=_rule_list, metavar="RULES", help="only these rules (ids or prefixes)"
    )
    check.add_argument(
        "--ignore", type=_rule_list, metavar="RULES", help="skip these rules (ids or prefixes)"
    )
    check.add_argument(
        "--fail-on",
        choices=[level.value for level in Level],
        help="lowest level that fails the run (default: error)",
    )
    check.add_argument("--today", type=_date, metavar="YYYY-MM-DD", help="the date rules compare against")
    check.add_argument(
        "--parameters",
        action="append",
        default=[],
        metavar="FILE",
        help="parameters whose values apply: an ARM parameters file (JSON or YAML) or a .bicepparam "
        "file for the ARM templates and Bicep files, a Terraform .tfvars file for the .tf configurations "
        "(repeatable)",
    )
    check.add_argument(
        "--rules-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="load Python rules (RULE/RULES in each .py file) from DIR (repeatable)",
    )
    check.add_argument(
        "--epac-definitions",
        action="append",
        default=[],
        metavar="DIR",
        help="an EPAC definitions folder whose policy assignments EPAC exemptions name "
        "(repeatable; found from the exemption files' location without it)",
    )
    check.add_argument(
        "-j",
        "--jobs",
        type=_jobs,
        default=0,
        metavar="N",
        help="processes to use: 0 (default) uses every core for runs over many files, 1 only this one",
    )
    check.add_argument(
        "--catalog", metavar="FILE", help="a catalog file to use instead of the one shipped with exemptlint"
    )
    check.add_argument("--quiet", action="store_true", help="print findings and errors only, no summary")
    check.add_argument("--no-color", action="store_true", help="never colour the text output")
    from exemptlint.audit.cli import add_catalog_update, add_commands, add_online_arguments

    add_online_arguments(check)

    rules = commands.add_parser("rules", help="list the rules, or document one")
    rules.add_argument("rule_id", nargs="?", metavar="ID", help="print this rule's documentation and options")
    _rule_options_arguments(rules)
    # As `ruff rule`: the same as `rules ID`, for the rule named.
    rule = commands.add_parser("rule", help="print a rule's documentation page and options")
    rule.add_argument("rule_id", metavar="ID", help="the rule (EL004, or a custom rule's id)")
    _rule_options_arguments(rule)
    add_commands(commands)
    add_catalog_update(catalog_cli.register(commands))
    return parser


def _rule_options_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--config", metavar="FILE", help="config file (default: .exemptlint.yaml found upwards)"
    )
    parser.add_argument(
        "--rules-dir", action="append", default=[], metavar="DIR", help="also list rules from DIR"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code) if isinstance(exit_.code, int) else EXIT_ERROR
    if args.command == "check":
        try:
            return run_check(args)
        except KeyboardInterrupt:
            print("exemptlint: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
    if args.command in ("rules", "rule"):
        return run_rules(args)
    if args.command == "audit":
        from exemptlint.audit.cli import run

        try:
            return run(args)
        except KeyboardInterrupt:
            print("exemptlint: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
    if args.command == "catalog":
        return catalog_cli.run(args)
    parser.print_help(sys.stderr)
    return EXIT_ERROR


def _rules_and_config(args: argparse.Namespace) -> tuple[Config, tuple[Rule, ...]] | None:
    """The config and every rule (built-in, plugins, rule packs); None after printing an error."""
    from exemptlint.config import Config, ConfigError, find_config, load_config
    from exemptlint.plugins import PluginError, check_custom_ids, entry_point_rules, rules_dir_rules
    from exemptlint.rules import BUILTIN_RULES

    try:
        plugin_rules = [*entry_point_rules(), *rules_dir_rules([Path(d) for d in args.rules_dir])]
        check_custom_ids(plugin_rules, BUILTIN_RULES)
    except PluginError as error:
        print(error, file=sys.stderr)
        return None
    base: tuple[Rule, ...] = (*BUILTIN_RULES, *plugin_rules)
    config_path = Path(args.config) if args.config else find_config(Path.cwd())
    config = Config()
    if config_path is not None:
        if not config_path.is_file():
            print(f"{args.config}:1:1: error: config file not found", file=sys.stderr)
            return None
        from exemptlint.config_cache import cached_config, store_config

        # Plugin rules' option models are not in the cache: validate afresh when there are any.
        cached = cached_config(config_path, base) if not plugin_rules else None
        if cached is not None:
            config = cached
        else:
            try:
                config = load_config(config_path, base)
            except ConfigError as error:
                print(error, file=sys.stderr)
                return None
            if not plugin_rules:
                store_config(config_path, config)
    return config, (*base, *config.custom_rules)


def run_rules(args: argparse.Namespace) -> int:
    resolved = _rules_and_config(args)
    if resolved is None:
        return EXIT_ERROR
    config, all_rules = resolved
    if args.rule_id:
        wanted = [r for r in all_rules if r.id.upper() == args.rule_id.strip().upper()]
        if not wanted:
            from exemptlint.rule_ids import unknown_id_message

            print(f"exemptlint: error: {unknown_id_message(args.rule_id, all_rules)}", file=sys.stderr)
            return EXIT_ERROR
        rule = wanted[0]
        if args.format == "json":
            import json

            print(json.dumps(_rule_json(rule, config), indent=2))
        else:
            sys.stdout.write(_rule_text(rule, config))
        return EXIT_OK
    if args.format == "json":
        import json

        print(json.dumps([_rule_json(r, config, brief=True) for r in all_rules], indent=2))
        return EXIT_OK
    for rule in all_rules:
        origin = "" if rule.origin == "built-in" else f"  [{rule.origin}]"
        print(f"{rule.id}  {rule.name:<24} {rule.level.value:<8} {rule.summary}{origin}")
    return EXIT_OK


def _rule_options(rule: Rule) -> list[tuple[str, str, str]]:
    """(kebab-case name, type, default) of each option."""
    import dataclasses
    import json

    if rule.options is None or not dataclasses.is_dataclass(rule.options):
        return []
    defaults = rule.default_options()
    shown: list[tuple[str, str, str]] = []
    for option in dataclasses.fields(rule.options):
        value = getattr(defaults, option.name)
        kind = (
            option.type
            if isinstance(option.type, str)
            else getattr(option.type, "__name__", str(option.type))
        )
        try:
            default = json.dumps(value)
        except TypeError:
            default = repr(value)
        shown.append((option.name.replace("_", "-"), kind, default))
    return shown


def _rule_doc(rule: Rule) -> str:
    """The rule's documentation: its page (built-in rules), else its help, else its docstring."""
    from exemptlint.rules.docs import rule_page

    page = rule_page(rule)
    if page is not None:
        return page
    if rule.help is not None:
        return rule.help.strip()
    module = sys.modules.get(getattr(rule.check, "__module__", "") or "")
    return (module.__doc__ or "").strip() if module is not None else ""


def _rule_json(rule: Rule, config: Config, brief: bool = False) -> dict[str, object]:
    document: dict[str, object] = {
        "id": rule.id,
        "name": rule.name,
        "level": rule.level.value,
        "summary": rule.summary,
        "helpUri": rule.help_uri,
        "origin": rule.origin,
    }
    if not brief:
        document["configuredLevel"] = config.levels[rule.id].value if rule.id in config.levels else None
        document["documentation"] = _rule_doc(rule)
        document["options"] = [
            {"name": name, "type": kind, "default": default} for name, kind, default in _rule_options(rule)
        ]
        document["crossExemption"] = rule.check_all is not None
    return document


def _rule_text(rule: Rule, config: Config) -> str:
    lines = [f"{rule.id} {rule.name}", "", f"Level: {rule.level.value}"]
    if rule.id in config.levels:
        lines[-1] += f" (configured: {config.levels[rule.id].value})"
    lines.append(f"Origin: {rule.origin}")
    if rule.help_uri:
        lines.append(f"Documentation: {rule.help_uri}")
    lines += ["", rule.summary]
    doc = _rule_doc(rule)
    if doc and doc != rule.summary:
        lines += ["", doc]
    options = _rule_options(rule)
    lines.append("")
    if options:
        lines.append(f"Options (rules.{rule.id} in .exemptlint.yaml):")
        lines += [f"  {name}: {kind} = {default}" for name, kind, default in options]
    else:
        lines.append("Options: none")
    return "\n".join(lines) + "\n"


def run_check(args: argparse.Namespace) -> int:
    from exemptlint.dates import utc_today
    from exemptlint.engine import LintSettings, rule_may_run
    from exemptlint.hierarchy import Hierarchy

    resolved = _rules_and_config(args)
    if resolved is None:
        return EXIT_ERROR
    config, all_rules = resolved
    problem = _check_rule_patterns(args, all_rules)
    if problem is not None:
        print(f"exemptlint: error: {problem}", file=sys.stderr)
        return EXIT_ERROR
    try:
        targets = _output_targets(args)
        # Before any linting: a report that cannot be written is found now, not after the run.
        _prepare_output_files(targets, args)
    except ValueError as error:
        print(f"exemptlint: error: {error}", file=sys.stderr)
        return EXIT_ERROR

    catalog_file, usable = _catalog_file(args, config)
    if not usable:
        return EXIT_ERROR
    today = args.today or config.today or utc_today()
    settings = LintSettings(
        today=today,
        select=tuple(args.select) if args.select is not None else config.select,
        ignore=tuple(args.ignore) if args.ignore is not None else config.ignore,
        levels=config.levels,
        options=config.options,
        assignment_map=config.assignments,
        overrides=_overrides(config, args),
        epac_date_order=config.epac_date_order,
        epac_definitions=(*(str(d) for d in config.epac_definitions), *args.epac_definitions),
        hierarchy=Hierarchy.of(config.management_groups),
        catalog_file=catalog_file,
    )
    if args.online:
        from exemptlint.audit.online import with_online_assignments

        online = with_online_assignments(args, config, settings)
        if online is None:
            return EXIT_ERROR
        settings = online
    with _fewer_collections():
        linted = _lint_inputs(args, config.exclude, settings, all_rules, {t.format for t in targets})
    findings, errors = linted.findings, linted.errors
    stale: list[dict[str, object]] = []
    if args.baseline:
        unusable = _apply_baseline(args.baseline, findings, stale, all_rules)
        if unusable is not None:
            errors.append(unusable)
    report = Report(
        version=__version__,
        today=today.isoformat(),
        files=linted.files,
        exemptions=linted.exemptions,
        exemption_count=linted.exemption_count,
        exemption_json=linted.exemption_json,
        findings=findings,
        errors=errors,
        # The rules that ran (SARIF lists them): --select/--ignore and the config decide.
        rules=[rule for rule in all_rules if rule_may_run(rule.id, settings)],
        root=str(Path.cwd()),
        stale_baseline=stale,
        levels=config.levels,
        skipped=linted.skipped,
    )
    written = _write_outputs(report, targets, args)
    if args.write_baseline:
        from exemptlint.baseline import render_baseline

        written = (
            _write_file("--write-baseline", Path(args.write_baseline), render_baseline(findings, __version__))
            and written
        )
        return EXIT_ERROR if errors or not written else EXIT_OK
    if not written:
        return EXIT_ERROR

    fail_on = Level(args.fail_on) if args.fail_on else (config.fail_on or Level.ERROR)
    if errors:
        return EXIT_ERROR
    if any(f.level.rank >= fail_on.rank and f.suppression is None for f in findings):
        return EXIT_FINDINGS
    return EXIT_OK


def _catalog_file(args: argparse.Namespace, config: Config) -> tuple[str | None, bool]:
    """The catalog file to use (``--catalog``, else the config's; None: the packaged catalog),
    checked as a whole before any file is linted, and whether it is usable (its error printed)."""
    path = args.catalog or (str(config.catalog) if config.catalog is not None else None)
    if path is None:
        return None, True
    from exemptlint.catalog_file import CatalogFileError, load_catalog_file

    try:
        load_catalog_file(path)
    except CatalogFileError as error:
        print(error, file=sys.stderr)
        return None, False
    return str(path), True


def _check_rule_patterns(args: argparse.Namespace, rules: Sequence[Rule]) -> str | None:
    """What is wrong with ``--select``/``--ignore``, or None. An entry that matches no rule (after
    the custom rules are loaded) would quietly run fewer rules than the user asked for, and an
    empty ``--select`` none at all: both are usage errors."""
    from exemptlint.rule_ids import matches_prefix, unknown_prefix_message

    for option, patterns in (("--select", args.select), ("--ignore", args.ignore)):
        if patterns is None:
            continue
        if option == "--select" and not patterns:
            return "--select: no rule id given (an empty selection would run no rule)"
        for pattern in patterns:
            if not matches_prefix(pattern, rules):
                return f"{option}: {unknown_prefix_message(pattern, rules)}"
    return None


@dataclass(frozen=True)
class _Target:
    """A report to write: its format, its file (None: standard output) and the option that asked
    for it (for messages)."""

    format: str
    path: str | None
    option: str = ""


def _overrides(config: Config, args: argparse.Namespace) -> tuple[PathOverride, ...]:
    """The config's per-path overrides; --select and --ignore win over theirs, as over the
    top-level ones."""
    if args.select is None and args.ignore is None:
        return config.overrides
    return tuple(
        replace(
            override,
            select=None if args.select is not None else override.select,
            ignore=None if args.ignore is not None else override.ignore,
        )
        for override in config.overrides
    )


def _output_targets(args: argparse.Namespace) -> list[_Target]:
    """The reports to write, standard output first."""
    targets: list[_Target] = []
    to_stdout = True
    for value in args.output:
        name, sep, path = value.partition("=")
        if sep and name in FORMATS:
            if not path:
                raise ValueError(f"--output {value}: no file after '='")
            targets.append(_Target(name, path, "--output"))
        elif sep and name.isalpha():
            # --output xml=r.xml would otherwise write the --format report to a file named "xml=r.xml".
            raise ValueError(f"--output {value}: no format '{name}' (formats: {', '.join(FORMATS)})")
        else:
            targets.append(_Target(args.format, value, "--output"))
            to_stdout = False
    if args.sarif_file:
        targets.append(_Target("sarif", args.sarif_file, "--sarif-file"))
    if to_stdout:
        targets.insert(0, _Target(args.format, None))
    return targets


def _prepare_output_files(targets: list[_Target], args: argparse.Namespace) -> None:
    """Make sure every report file can be written, before linting: its folder is created when
    missing; a folder given as the file, a folder that cannot be created or written to, a file
    named twice or a file that is also an input raises ValueError with a one-line message."""
    files = [(t.option, Path(t.path)) for t in targets if t.path is not None]
    if args.write_baseline:
        files.append(("--write-baseline", Path(args.write_baseline)))
    inputs = [Path(p) for p in args.paths]
    seen: dict[str, str] = {}
    for option, path in files:
        where = f"{option} {path}"
        if str(path) in ("", "."):
            raise ValueError(f"{where}: not a file name")
        key = os.path.normcase(os.path.abspath(path))
        if key in seen:
            raise ValueError(f"{where}: also written by {seen[key]}; give each report its own file")
        seen[key] = where
        if path.is_dir():
            raise ValueError(f"{where}: is a folder; name a file in it")
        if path.exists() and not path.is_file():
            continue  # a device or FIFO (/dev/null): written in place
        if path.exists() and any(_same_file(path, given) for given in inputs):
            raise ValueError(f"{where}: is one of the files to lint; exemptlint never writes to its inputs")
        folder = path.parent if str(path.parent) else Path(".")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise ValueError(f"{where}: {folder} is not a folder") from None
        except OSError as error:
            problem = error.strerror or str(error)
            raise ValueError(f"{where}: cannot create the folder {folder}: {problem}") from None
        import tempfile

        try:
            handle, probe = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
        except OSError as error:
            raise ValueError(f"{where}: cannot write in {folder}: {error.strerror or error}") from None
        os.close(handle)
        os.unlink(probe)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Fewer garbage collections while linting (as mypy does): a run builds many small objects
    that live until the report, and with the default thresholds the collector walks them again
    and again (15-25% of a 10,000-file run). Cycles are still collected, less often; the objects
    of the start-up are frozen, so that collections and forked workers leave them alone."""
    previous = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()


@dataclass
class _Linted:
    files: list[str]
    exemptions: list[Exemption]
    findings: list[Finding]
    errors: list[LoadError]
    # Set when the exemptions were linted in worker processes (see Report).
    exemption_count: int | None = None
    exemption_json: list[str] | None = None
    # Resources and modules not deployed with the values known (not linted).
    skipped: list[Skipped] = field(default_factory=list)


def _lint_inputs(
    args: argparse.Namespace,
    exclude: tuple[str, ...],
    settings: LintSettings,
    rules: Sequence[Rule],
    formats: set[str],
) -> _Linted:
    """Load and lint every input, in worker processes when many files can hold exemptions."""
    from exemptlint.discover import discover
    from exemptlint.epac_layout import names_epac_folder
    from exemptlint.loaders import LoadOptions

    errors: list[LoadError] = []
    parameters: dict[str, object] = {}
    tfvars: list[tuple[str, dict[str, object]]] = []
    if args.parameters:
        from exemptlint.loaders import is_tfvars_file, load_parameters_file

        for file in args.parameters:
            values, problem = load_parameters_file(Path(file), settings.today)
            if problem is not None:
                errors.append(problem)
            if is_tfvars_file(file):
                tfvars.append((os.path.abspath(file), values))
            else:
                parameters.update(values)
    sources, missing = discover(args.paths, exclude)
    errors.extend(missing)
    # EPAC assignment files beside the exemptions (or in the folders named) that the run does not lint.
    known: list[PolicyAssignment] = []
    contexts = None
    if settings.epac_definitions or any(names_epac_folder(source.path) for source in sources):
        from exemptlint.loaders.epac_definitions import ContextCache, definitions_of_run

        contexts = ContextCache()
        paths = [Path(source.path) for source in sources]
        epac, tenant_roots = definitions_of_run(paths, settings.epac_definitions, contexts)
        errors.extend(epac.errors)
        known = epac.assignments
        settings = replace(settings, hierarchy=settings.hierarchy.with_roots(tenant_roots))
    options = LoadOptions(
        today=settings.today,
        parameters=parameters,
        tfvars=tuple(tfvars),
        exclude=exclude,
        epac_contexts=contexts,
    )
    shown = [source.shown for source in sources]
    from exemptlint.progress import Progress

    with Progress.for_terminal(sys.stderr, len(sources), quiet=args.quiet) as progress:
        if len(sources) < 2 or args.jobs == 1:
            loaded = _read_relevant(sources, progress)
            return _lint_here(shown, loaded, options, settings, rules, errors, progress, known)
        # Imported only here: a one-file run (a pre-commit hook) does not pay for it.
        from exemptlint.parallel import MIN_FILES, worker_count

        # Workers pay off only for the files that can hold something: every file is read here
        # once and the others are dropped; workers start only for enough relevant files, and get
        # only those.
        relevant, size = _scan(sources, MIN_FILES if args.jobs == 0 else 2, progress)
        workers = worker_count(args.jobs, len(relevant), size) if len(relevant) > 1 else 0
        if workers:
            files = [(Path(source.path), source.shown) for source, _ in relevant]
            del relevant
            linted = _lint_in_workers(
                shown, files, options, settings, rules, workers, formats, errors, progress, known
            )
            if linted is not None:
                return linted
            progress.add_total(len(files))
            again = ((path, name, None) for path, name in _counted(files, progress))
            return _lint_here(shown, again, options, settings, rules, errors, progress, known)
        loaded = ((Path(source.path), source.shown, data) for source, data in relevant)
        return _lint_here(shown, loaded, options, settings, rules, errors, progress, known)


_T = TypeVar("_T")


def _counted(items: Iterable[_T], progress: Progress) -> Iterator[_T]:
    for item in items:
        yield item
        progress.advance()


def _read_relevant(
    sources: Sequence[SourceFile], progress: Progress
) -> Iterator[tuple[Path, str, bytes | None]]:
    """Each file that may hold something, with its content (None: the loader reports why it
    could not be read), read once; the others are dropped."""
    from exemptlint.loaders import certainly_irrelevant, read_bytes

    counting = progress.enabled
    for source in sources:
        data, _ = read_bytes(source.path, source.shown)
        if data is None or not certainly_irrelevant(data, source.suffix, source.path):
            yield Path(source.path), source.shown, data
        if counting:
            progress.advance()


def _scan(
    sources: Sequence[SourceFile], keep: int, progress: Progress
) -> tuple[list[tuple[SourceFile, bytes | None]], int]:
    """The files that may hold something, and their size in all; the content of the first ``keep``
    of them too (when there are more, workers may read them instead: memory stays bounded)."""
    from exemptlint.loaders import certainly_irrelevant, read_bytes

    relevant: list[tuple[SourceFile, bytes | None]] = []
    size = 0
    counting = progress.enabled
    for source in sources:
        if counting:
            progress.advance()
        data, _ = read_bytes(source.path, source.shown)
        if data is None or not certainly_irrelevant(data, source.suffix, source.path):
            size += len(data) if data is not None else 0
            relevant.append((source, data if len(relevant) < keep else None))
    return relevant, size


def _lint_here(
    shown: list[str],
    files: Iterable[tuple[Path, str, bytes | None]],
    options: LoadOptions,
    settings: LintSettings,
    rules: Sequence[Rule],
    errors: list[LoadError],
    progress: Progress,
    known: Sequence[PolicyAssignment] = (),
) -> _Linted:
    from exemptlint.budget import BudgetTimer
    from exemptlint.engine import lint
    from exemptlint.loaders import load_file
    from exemptlint.rules import SUPPRESSION_RULE_ID, UNRESOLVED_RULE_ID

    with BudgetTimer(options.time_budget) as timer:
        timed = replace(options, timer=timer)
        per_file = [(name, load_file(path, timed, name, data)) for path, name, data in files]
    # A module another linted file deploys is linted with the values that file passes it, not on
    # its own; one that no deployed module instance reaches is linted on its own (standalone_loads).
    kept = standalone_loads([(name, result.followed) for name, result in per_file])
    loaded = LoadResult()
    for name, result in per_file:
        if name not in kept:
            result = LoadResult(
                errors=result.errors,
                assignments=result.assignments,
                set_definitions=result.set_definitions,
                placements=result.placements,
            )
        loaded.extend(result)
    loaded.assignments.extend(known)
    # Management groups the files deploy place scopes below them (EL014, EL015).
    settings = replace(settings, hierarchy=settings.hierarchy.with_placements(loaded.placements))
    # A broken module is reported by its own load and by every file that follows it: once is enough.
    errors = list(dict.fromkeys([*errors, *loaded.errors]))
    progress.phase("Checking")
    findings = lint(
        loaded.exemptions,
        loaded.assignments,
        settings,
        rules,
        UNRESOLVED_RULE_ID,
        SUPPRESSION_RULE_ID,
        notes=loaded.notes,
        errors=errors,
        set_definitions=loaded.set_definitions,
    )
    return _Linted(shown, loaded.exemptions, findings, errors, skipped=list(dict.fromkeys(loaded.skipped)))


def _lint_in_workers(
    shown: list[str],
    files: list[tuple[Path, str]],
    options: LoadOptions,
    settings: LintSettings,
    rules: Sequence[Rule],
    workers: int,
    formats: set[str],
    errors: list[LoadError],
    progress: Progress,
    known: Sequence[PolicyAssignment] = (),
) -> _Linted | None:
    """The same as ``_lint_here``, on ``workers`` processes; None when the run must be redone in
    one process (see ``exemptlint.parallel``)."""
    from exemptlint.engine import RulePlan, lint_whole_run, new_context
    from exemptlint.parallel import lint_in_parallel, merge_findings
    from exemptlint.rules import SUPPRESSION_RULE_ID, UNRESOLVED_RULE_ID

    # Two passes over the files (see exemptlint.parallel).
    progress.add_total(2 * len(files))
    progress.phase("Linting")
    run = lint_in_parallel(
        files,
        options,
        settings,
        rules,
        workers,
        unresolved_rule_id=UNRESOLVED_RULE_ID,
        suppression_rule_id=SUPPRESSION_RULE_ID,
        want_json="json" in formats,
        # JUnit lists every exemption, HTML shows them, Markdown the recommendations each names.
        want_exemptions="junit" in formats or "html" in formats or "markdown" in formats,
        assignments=known,
        on_done=progress.advance,
    )
    if not run.complete:
        return None
    # Modules another linted file deploys are linted through that file only (as in _lint_here).
    kept = standalone_loads([(report.shown, report.followed) for report in run.files])
    linted = [report for report in run.files if report.shown in kept]
    load_errors = dict.fromkeys(error for report in run.files for error in report.errors)
    rule_errors = [error for report in linted for error in report.rule_errors]
    exemptions = [exemption for report in linted for exemption in report.exemptions]
    findings = merge_findings(linted, SUPPRESSION_RULE_ID)
    plan = RulePlan.of(rules, settings, UNRESOLVED_RULE_ID, SUPPRESSION_RULE_ID)
    if plan.whole_run:
        # The rules over all exemptions at once, over every file's exemptions (workers saw one file).
        context = new_context(run.assignments, run.settings or settings)
        findings.extend(lint_whole_run(exemptions, context, settings, plan, rule_errors))
        findings.sort(key=Finding.sort_key)
    return _Linted(
        files=shown,
        exemptions=exemptions,
        findings=findings,
        errors=list(dict.fromkeys([*errors, *load_errors, *rule_errors])),
        exemption_count=sum(report.exemption_count for report in linted),
        exemption_json=[document for report in linted for document in report.exemption_json],
        skipped=list(dict.fromkeys(entry for report in linted for entry in report.skipped)),
    )


def _apply_baseline(
    name: str, findings: list[Finding], stale: list[dict[str, object]], rules: Sequence[Rule]
) -> LoadError | None:
    from exemptlint.baseline import BaselineError, apply_baseline, parse_baseline

    try:
        text = Path(name).read_text(encoding="utf-8")
        entries = parse_baseline(text, name, rules)
    except OSError as error:
        return LoadError(name, 1, 1, f"cannot read baseline: {error.strerror or error}")
    except UnicodeDecodeError:
        return LoadError(name, 1, 1, "baseline is not valid UTF-8 text")
    except BaselineError as error:
        return LoadError(name, error.line, error.column, error.message)
    stale.extend(entry.to_json() for entry in apply_baseline(findings, entries, name))
    return None


def _write_outputs(report: Report, targets: list[_Target], args: argparse.Namespace) -> bool:
    """Write every report; False (after a one-line error) when one could not be written. The
    others are still written: each is complete on its own."""
    written = True
    for target in targets:
        text = _render(report, target, args)
        if target.path is None:
            written = _write_stdout(text) and written
        else:
            written = _write_file(target.option, Path(target.path), text) and written
    # Parse errors always reach a person: on standard error unless a text report printed them.
    if report.errors and (args.format not in _TEXT_FORMATS or not any(t.path is None for t in targets)):
        from exemptlint.engine import one_line

        for load_error in report.errors:
            print(one_line(str(load_error)), file=sys.stderr)  # no escape sequence reaches a terminal
    return written


# The formats for people: coloured on a terminal, and --quiet leaves out their summary.
_TEXT_FORMATS = ("text", "concise")


def _render(report: Report, target: _Target, args: argparse.Namespace) -> str:
    from exemptlint.report import renderer

    if target.format not in _TEXT_FORMATS:
        return renderer(target.format)(report, False)
    terminal = target.path is None and sys.stdout.isatty()
    color = terminal and not args.no_color and "NO_COLOR" not in os.environ
    if target.format == "concise":
        from exemptlint.report import concise

        return concise.render(report, color, quiet=args.quiet)
    from exemptlint.report import text

    return text.render(report, color, width=_text_width(terminal), quiet=args.quiet)


def _text_width(terminal: bool) -> int:
    """Columns to wrap the text report to: the terminal's (or $COLUMNS) on a terminal, kept
    between 40 and 120 (longer lines are hard to read); 80 in files, pipes and logs."""
    from exemptlint.report.text import DEFAULT_WIDTH

    if not terminal:
        return DEFAULT_WIDTH
    columns = 0
    with suppress(ValueError):
        columns = int(os.environ.get("COLUMNS", ""))
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.stdout.fileno()).columns
        except (OSError, ValueError):
            columns = 0
    # A pseudo-terminal without a size (pre-commit runs hooks in one) reports 0 columns.
    return min(max(columns, 40), 120) if columns > 0 else DEFAULT_WIDTH


def _write_stdout(text: str) -> bool:
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`| head`): say so once, and keep Python from a traceback when it
        # flushes standard output at exit.
        with suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        print("exemptlint: error: standard output was closed before the report was written", file=sys.stderr)
        return False
    return True


def _write_file(option: str, path: Path, text: str) -> bool:
    try:
        write_atomically(path, text)
    except OSError as error:
        # Checked before linting, so this is rare (a full disk, a folder removed meanwhile); the
        # temporary file is gone and no report is left looking complete.
        print(f"exemptlint: error: {option} {path}: cannot write: {error.strerror or error}", file=sys.stderr)
        return False
    return True


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file, so a killed run leaves no half file."""
    if path.exists() and not path.is_file():
        # /dev/null, a FIFO or a terminal: write to it; renaming over it would replace it.
        with path.open("w", encoding="utf-8") as stream:
            stream.write(text)
        return
    import tempfile

    directory = path.parent if str(path.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


if __name__ == "__main__":
    sys.exit(main())
