"""Inline suppressions: ``metadata.exemptlint.ignore`` on an exemption, and
``// exemptlint-disable-next-line RULE[,RULE] -- reason`` comments in JSONC/ARM (and Bicep) files."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from exemptlint.model import Directive, Exemption

MARKER = "exemptlint-disable-next-line"
_DIRECTIVE = re.compile(
    r"(?P<start>//|#)\s*"
    + MARKER
    + r"(?P<rules>(?:[ \t]+[A-Za-z][A-Za-z0-9_-]*,?)*)[ \t]*(?:--[ \t]*(?P<reason>.*?))?[ \t]*$"
)
_BLANK_OR_COMMENT = re.compile(r"^\s*(?://.*|/\*.*\*/\s*|#.*)?$")


def parse_directives(text: str) -> tuple[Directive, ...]:
    """Every suppression comment in ``text`` (cheap when there is none)."""
    if MARKER not in text:
        return ()
    lines = text.splitlines()
    found: list[Directive] = []
    for index, line in enumerate(lines):
        if MARKER not in line:
            continue
        match = _DIRECTIVE.search(line)
        if match is None:
            continue
        rules = tuple(
            r.strip(" ,").upper() for r in re.split(r"[\s,]+", match.group("rules")) if r.strip(" ,")
        )
        target = index + 1
        while target < len(lines) and _BLANK_OR_COMMENT.match(lines[target]):
            target += 1
        found.append(
            Directive(
                line=index + 1,
                column=match.start("start") + 1,
                target_line=target + 1,
                rules=rules,
                reason=(match.group("reason") or "").strip(),
            )
        )
    return tuple(found)


@dataclass(frozen=True)
class MetadataIgnore:
    rule_id: str
    reason: str


def metadata_ignores(exemption: Exemption) -> list[MetadataIgnore]:
    """``"metadata": {"exemptlint": {"ignore": {"EL007": "reason"}}}`` (keys any case; a list of
    rule ids is accepted too, and has no reasons)."""
    metadata = exemption.metadata
    if not isinstance(metadata, dict):
        return []
    settings: Any = next((v for k, v in metadata.items() if k.lower() == "exemptlint"), None)
    if not isinstance(settings, dict):
        return []
    ignore = next((v for k, v in settings.items() if k.lower() == "ignore"), None)
    if isinstance(ignore, dict):
        return [
            MetadataIgnore(str(k).strip().upper(), v.strip() if isinstance(v, str) else "")
            for k, v in ignore.items()
        ]
    if isinstance(ignore, list):
        return [MetadataIgnore(str(k).strip().upper(), "") for k in ignore if isinstance(k, str)]
    return []
