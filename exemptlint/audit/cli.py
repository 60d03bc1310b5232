"""Command-line arguments of ``exemptlint audit``, ``exemptlint catalog`` and ``check --online``.

Only argparse here (this module is imported for every command line); the commands themselves are
in ``exemptlint.audit.run`` and ``exemptlint.azure.catalog``, imported when they run.
"""

from __future__ import annotations

import argparse
import re
from typing import Any

AUDIT_FORMATS = ("text", "json", "sarif", "markdown", "html", "csv")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# Management group ids: letters, digits, '-', '_', '.', '(' and ')', up to 90 characters.
_GROUP = re.compile(r"^[\w.()-]{1,90}$")


def _subscription(text: str) -> str:
    value = text.strip().removeprefix("/subscriptions/").strip("/")
    if not _GUID.match(value):
        raise argparse.ArgumentTypeError(f"'{text}' is not a subscription id (a GUID)")
    return value.lower()


def _group(text: str) -> str:
    value = text.strip().rstrip("/").rsplit("/", 1)[-1]
    if not _GROUP.match(value):
        raise argparse.ArgumentTypeError(f"'{text}' is not a management group id")
    return value


def _days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of days")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds")
    return value


def _endpoint_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--arm-endpoint",
        metavar="URL",
        help="Azure Resource Manager endpoint (default: https://management.azure.com, or config "
        "azure.arm-endpoint; Azure Government: https://management.usgovcloudapi.net, Azure China: "
        "https://management.chinacloudapi.cn)",
    )
    parser.add_argument(
        "--timeout", type=_seconds, metavar="SECONDS", help="time-out of each request (default: 60)"
    )


def add_online_arguments(check: argparse.ArgumentParser) -> None:
    """``check --online``: assignments not known offline are read from Azure."""
    check.add_argument(
        "--online",
        action="store_true",
        help="read from Azure the assignments that exemptions name and the files do not define "
        "(cached for azure.cache-hours)",
    )
    _endpoint_arguments(check)


def add_commands(commands: Any) -> None:
    """Register ``audit`` on the ``add_subparsers`` object of the main parser."""
    from exemptlint.model import Level

    audit = commands.add_parser(
        "audit", help="check the exemptions deployed in Azure and compare them with the code"
    )
    audit.set_defaults(run="audit")
    audit.add_argument(
        "--subscription",
        action="extend",
        nargs="+",
        type=_subscription,
        default=[],
        metavar="ID",
        help="subscriptions to read (repeatable); with no --subscription or --management-group, every "
        "subscription the identity can read",
    )
    audit.add_argument(
        "--management-group",
        action="extend",
        nargs="+",
        type=_group,
        default=[],
        metavar="NAME",
        help="management groups to read, with everything below them (repeatable)",
    )
    audit.add_argument(
        "--code",
        action="extend",
        nargs="+",
        default=[],
        metavar="PATH",
        help="files or directories with the exemptions as code (what 'check' takes), to compare",
    )
    audit.add_argument(
        "--format", choices=AUDIT_FORMATS, default="text", help="output format (default: text)"
    )
    audit.add_argument(
        "--output",
        action="append",
        default=[],
        metavar="[FORMAT=]FILE",
        help="write the --format report to FILE, or FORMAT's report to FILE as well (repeatable)",
    )
    audit.add_argument(
        "--expiring-within",
        type=_days,
        metavar="DAYS",
        help="'expiring' means within this many days (default: 30, or config azure.expiring-within)",
    )
    audit.add_argument("--today", type=_today, metavar="YYYY-MM-DD", help="the date rules compare against")
    audit.add_argument(
        "--verify",
        action="store_true",
        help="re-read each exemption with the policyExemptions API (finds stale Resource Graph rows)",
    )
    audit.add_argument(
        "--no-defender", action="store_true", help="do not read Defender for Cloud's exempt assessments"
    )
    _endpoint_arguments(audit)
    audit.add_argument(
        "--config", metavar="FILE", help="config file (default: .exemptlint.yaml found upwards)"
    )
    audit.add_argument("--select", type=_rule_list, metavar="RULES", help="only these rules")
    audit.add_argument("--ignore", type=_rule_list, metavar="RULES", help="skip these rules")
    audit.add_argument(
        "--fail-on",
        choices=[level.value for level in Level],
        help="lowest level that fails the run (default: error)",
    )
    audit.add_argument(
        "--rules-dir", action="append", default=[], metavar="DIR", help="load Python rules from DIR"
    )
    audit.add_argument(
        "--parameters", action="append", default=[], metavar="FILE", help="ARM parameters for --code"
    )
    audit.add_argument("--quiet", action="store_true", help="no summary in the text output")
    audit.add_argument("--no-color", action="store_true", help="never colour the text output")


def add_catalog_update(actions: Any) -> None:
    """Add ``update`` to the sub-commands of ``catalog`` (``catalog_cli.register`` returns them)."""
    update = actions.add_parser(
        "update", help="write a catalog file from Azure's built-in policy set definitions"
    )
    update.set_defaults(run="catalog", handler=run)
    update.add_argument("--output", required=True, metavar="FILE", help="the catalog file to write")
    update.add_argument(
        "--config", metavar="FILE", help="config file (default: .exemptlint.yaml found upwards)"
    )
    _endpoint_arguments(update)


def _today(text: str) -> Any:
    import datetime

    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date (YYYY-MM-DD)") from None


def _rule_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def run(args: argparse.Namespace) -> int:
    """Run the ``audit`` or ``catalog`` command that ``args`` names."""
    if args.run == "audit":
        from exemptlint.audit.run import run_audit

        return run_audit(args)
    from exemptlint.azure.catalog import run_catalog

    return run_catalog(args)
