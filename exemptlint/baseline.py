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


def parse_baseline(text: str, name: str) -> list[BaselineEntry]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise BaselineError(
            f"{name}:{error.lineno}:{error.colno}: error: invalid baseline JSON: {error.msg}"
        ) from None
    if not isinstance(document, dict) or document.get("version") != BASELINE_VERSION:
        raise BaselineError(f"{name}:1:1: error: not an exemptlint baseline (version {BASELINE_VERSION})")
    entries: list[BaselineEntry] = []
    for item in document.get("findings", []):
        if not isinstance(item, dict) or not isinstance(item.get("fingerprint"), str):
            raise BaselineError(f"{name}:1:1: error: baseline entry without a fingerprint: {item!r:.80}")
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
