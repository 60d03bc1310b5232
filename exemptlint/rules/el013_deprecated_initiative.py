"""EL013: the exempted initiative is not deprecated or superseded.

An exemption on an assignment of a deprecated initiative (``[Deprecated]`` in its display name, or
``metadata.deprecated``) or of one that a newer version of the same benchmark or standard replaces
(ISO 27001:2013 by ISO/IEC 27001 2022, the Azure Security Benchmark by the Microsoft cloud
security benchmark) keeps a finding hidden in a compliance view that is going away: the
recommendation needs an exemption on the successor's assignment as well. The message names the
successor from the catalog; which initiatives are versions of one benchmark or standard is derived
by ``scripts/generate_data.py`` (see docs/rules/EL013.md for the heuristic and the list).

Only built-in initiatives are judged (the catalog knows them). An EPAC exemption that names a
policy definition exempts it in every assignment that contains it: it is not about one initiative.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from exemptlint.model import Exemption, Level
from exemptlint.rules import initiative
from exemptlint.rules.api import Rule, RuleContext, Violation


@dataclass(frozen=True)
class Options:
    # Also warn when the initiative is current but a newer version of the same benchmark or
    # standard exists (False: only deprecated initiatives).
    superseded: bool = True
    # Initiatives (ids or names) not to warn about, for example a standard an audit still asks for.
    allowed_initiatives: tuple[str, ...] = ()


def check(exemption: Exemption, context: RuleContext, options: Options) -> Iterator[Violation]:
    resolution = initiative.resolve(exemption, context)
    target = resolution.target
    if resolution.kind != "target" or target is None or target.kind != "builtin-set":
        return
    found = target.initiative
    if found is None:
        return
    if found.name.lower() in {_name(allowed) for allowed in options.allowed_initiatives}:
        return
    catalog = context.catalog
    successor = catalog.successor(found)
    deprecated = found.deprecated or found.display_name.lower().startswith("[deprecated]")
    assigns = f"assignment '{resolution.shown}' assigns '{found.display_name}'"
    if deprecated and successor is not None:
        message = (
            f"{assigns}, which is deprecated; its successor is '{successor.display_name}' ({successor.id}): "
            "exempt the recommendations in an assignment of the successor"
        )
    elif deprecated:
        message = f"{assigns}, which is deprecated (the catalog names no successor)"
    elif successor is not None and options.superseded:
        message = (
            f"{assigns}, which '{successor.display_name}' ({successor.id}) supersedes, a newer version of "
            "the same benchmark or standard: exempt the recommendations in an assignment of it"
        )
    else:
        return
    yield Violation(message, property="policyAssignmentId")


def _name(definition_id: str) -> str:
    return definition_id.strip().rstrip("/").rsplit("/", 1)[-1].lower()


RULE = Rule(
    id="EL013",
    name="deprecated-initiative",
    level=Level.WARNING,
    summary="The exempted initiative is not deprecated or superseded by a newer version",
    check=check,
    options=Options,
    security_severity=3.0,
)
