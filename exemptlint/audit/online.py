"""``check --online``: the assignments the exemptions name and the files do not define are read
from Azure, so EL001 judges them instead of EL010 saying "not known".

The files are read once here to find those assignments (a run that needs the network is not a
pre-commit hot path); the assignments found are added to the run's assignment map, which every
worker process receives with the settings.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from typing import TYPE_CHECKING

from exemptlint.model import Unresolved

if TYPE_CHECKING:
    from exemptlint.config import Config
    from exemptlint.engine import LintSettings

_ASSIGNMENT_MARKER = "/providers/microsoft.authorization/policyassignments/"


def unknown_assignment_ids(args: argparse.Namespace, config: Config, settings: LintSettings) -> list[str]:
    """Full assignment ids that exemptions in the inputs name and that resolve to nothing offline."""
    from exemptlint.audit.run import load_code
    from exemptlint.engine import new_context
    from exemptlint.rules import initiative

    loaded = load_code(args.paths, args.parameters, settings, config.exclude)
    context = new_context(loaded.assignments, settings)
    found: list[str] = []
    for exemption in loaded.exemptions:
        value = exemption.policy_assignment_id
        if not isinstance(value, str) or isinstance(value, Unresolved):
            continue
        text = value.strip()
        if not text.startswith("/") or _ASSIGNMENT_MARKER not in text.lower():
            continue
        if initiative.resolve(exemption, context).kind == "unknown":
            found.append(text)
    return list(dict.fromkeys(found))


def with_online_assignments(
    args: argparse.Namespace, config: Config, settings: LintSettings
) -> LintSettings | None:
    """The settings with the assignments read from Azure in their map; None after an error line."""
    from exemptlint.audit.run import endpoint_and_timeout, make_client
    from exemptlint.azure.errors import AzureError
    from exemptlint.azure.online import lookup_assignments

    try:
        endpoint, timeout = endpoint_and_timeout(args, config)
        ids = unknown_assignment_ids(args, config, settings)
        lookup = lookup_assignments(
            ids, endpoint, lambda: make_client(endpoint, timeout), config.azure.cache_hours
        )
    except AzureError as error:
        print(f"exemptlint: error: --online: {error}", file=sys.stderr)
        return None
    for missing in lookup.missing:
        print(
            f"exemptlint: warning: --online: assignment '{missing}' does not exist in Azure (404)",
            file=sys.stderr,
        )
    if not lookup.definitions:
        return settings
    merged = dict(settings.assignment_map)
    for key, definition in lookup.definitions.items():
        merged.setdefault(key, definition)
    return replace(settings, assignment_map=merged)
