"""Baselines: adopt exemptlint on a repository that already holds many exemptions.

``--write-baseline FILE`` records today's findings by fingerprint; ``--baseline FILE`` then
suppresses those (kind ``external``) so only new findings fail the run, and lists the entries that
no longer occur so the baseline can only shrink.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from exemptlint.model import Finding, Suppression
from exemptlint.rule_ids import is_rule_id, unknown_id_message
from exemptlint.rules.api import Rule

BASELINE_VERSION = 1


@dataclass(frozen=True)
class BaselineEntry:
    fingerprint: str
    rule_id: str
    file: str
    exemption: str | None
    message: str

    def to_json(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "ruleId": self.rule_id,
            "file": self.file,
            "exemption": self.exemption,
            "message": self.message,
        }


class BaselineError(Exception):
    """A baseline file that cannot be used; ``str()`` is the one-line message."""

    def __init__(self, name: str, line: int, column: int, message: str) -> None:
        super().__init__(f"{name}:{line}:{column}: error: {message}")
        self.line = line
        self.column = column
        self.message = message


def render_baseline(findings: Sequence[Finding], version: str) -> str:
    """The baseline of every finding that is not already suppressed in the source."""
    entries = [
        BaselineEntry(f.fingerprint, f.rule_id, f.file, f.exemption_name, f.message).to_json()
        for f in findings
        if f.suppression is None
    ]
    entries.sort(key=lambda e: (e["file"], e["ruleId"], e["fingerprint"]))
    document = {
        "version": BASELINE_VERSION,
        "tool": {"name": "exemptlint", "version": version},
        "findings": entries,
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def parse_baseline(text: str, name: str, rules: Sequence[Rule] | None = None) -> list[BaselineEntry]:
    """The entries of a baseline. With ``rules``, every entry must name one of them: an entry of
    a rule that is not loaded (a misspelt id, a custom rule whose pack is missing) is an error
    rather than an entry that quietly matches nothing."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise BaselineError(name, error.lineno, error.colno, f"invalid baseline JSON: {error.msg}") from None
    if not isinstance(document, dict) or document.get("version") != BASELINE_VERSION:
        raise BaselineError(name, 1, 1, f"not an exemptlint baseline (version {BASELINE_VERSION})")
    entries: list[BaselineEntry] = []
    items = document.get("findings", [])
    if not isinstance(items, list):
        raise BaselineError(name, 1, 1, "baseline 'findings' is not a list")
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("fingerprint"), str):
            raise BaselineError(name, 1, 1, f"baseline entry without a fingerprint: {item!r:.80}")
        rule_id = item.get("ruleId")
        if rules is not None and (not isinstance(rule_id, str) or not is_rule_id(rule_id, rules)):
            from exemptlint.loaders.jsontext import JsonPositions

            where = JsonPositions(text).key(("findings", index, "ruleId"))
            line, column = (where.line, where.column) if where is not None else (1, 1)
            problem = (
                unknown_id_message(rule_id, rules)
                if isinstance(rule_id, str)
                else "the entry names no rule (ruleId)"
            )
            raise BaselineError(name, line, column, f"baseline entry {index + 1}: {problem}")
        entries.append(
            BaselineEntry(
                item["fingerprint"],
                str(item.get("ruleId", "")),
                str(item.get("file", "")),
                item.get("exemption"),
                str(item.get("message", "")),
            )
        )
    return entries


def apply_baseline(
    findings: Sequence[Finding], entries: Sequence[BaselineEntry], name: str
) -> list[BaselineEntry]:
    """Suppress the findings the baseline records; return the entries that matched nothing."""
    remaining = Counter(entry.fingerprint for entry in entries)
    for finding in findings:
        if finding.suppression is None and remaining[finding.fingerprint] > 0:
            remaining[finding.fingerprint] -= 1
            finding.suppression = Suppression("external", f"recorded in the baseline {name}")
    stale: list[BaselineEntry] = []
    for entry in entries:
        if remaining[entry.fingerprint] > 0:
            remaining[entry.fingerprint] -= 1
            stale.append(entry)
    return stale
