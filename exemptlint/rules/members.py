"""What the initiative of an exempted assignment contains, shared by EL007, EL012 and the reports:
its members (reference ids and the policy definitions they name), from the catalog for a built-in
initiative, or from a policy set definition in the scanned files for a custom one; and the
recommendations (policy definitions, by display name) an exemption names.

A custom initiative is matched to a scanned set definition by name (the last segment of its id),
and by id too when both are known. It counts only when every match has the same, fully known,
reference ids: a member whose reference id is not known statically (an expression, or none at
all, which Azure then generates), or an empty member list (which Azure rejects: a stub), leaves
the initiative not known rather than guessed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from exemptlint.model import Exemption, Recommendation, SetDefinition
from exemptlint.rules import initiative
from exemptlint.rules.api import RuleContext

if TYPE_CHECKING:
    from exemptlint.catalog import Initiative
    from exemptlint.catalog_members import Members


class KnownSet:
    """An initiative whose members are known: its name for messages (display name, or name), its
    members, the catalog's entry for a built-in initiative, and where a custom one is defined."""

    __slots__ = ("initiative", "members", "shown", "where")

    def __init__(
        self,
        shown: str,
        members: Members,
        initiative: Initiative | None = None,
        where: str = "by the catalog",
    ) -> None:
        self.shown = shown
        self.members = members
        self.initiative = initiative
        self.where = where


def known_set(exemption: Exemption, context: RuleContext) -> KnownSet | None:
    """The initiative the exemption's assignment assigns, when its members are known."""
    key = ("members", id(exemption))
    if key not in context.memo:
        context.memo[key] = _known_set(exemption, context)
    found: KnownSet | None = context.memo[key]
    return found


def _known_set(exemption: Exemption, context: RuleContext) -> KnownSet | None:
    resolution = initiative.resolve(exemption, context)
    target = resolution.target
    if resolution.kind != "target" or target is None:
        return None
    if target.kind == "builtin-set" and target.initiative is not None:
        members = context.catalog.members(target.initiative)
        if members is None:
            return None
        return KnownSet(target.initiative.display_name, members, target.initiative)
    if target.kind == "custom-set":
        return _scanned(target.definition, target.partial, context)
    return None


def _scanned(definition: str, partial: bool, context: RuleContext) -> KnownSet | None:
    name = definition.strip().rstrip("/").rsplit("/", 1)[-1]
    if not name or "{" in name:
        return None
    full_id = None if partial else _normal(definition)
    matches = [
        candidate
        for candidate in context.set_definitions
        if isinstance(candidate.name, str)
        and candidate.name.strip().lower() == name.lower()
        and not (full_id and isinstance(candidate.id, str) and _normal(candidate.id) != full_id)
    ]
    if not matches:
        return None
    from exemptlint.catalog_members import Member, Members

    found: list[Members] = []
    for candidate in matches:
        members = _members_of(candidate)
        if members is None:
            return None
        found.append(Members(Member(ref, definition) for ref, definition in members))
    if len({members.reference_keys for members in found}) != 1:
        return None  # same name, different members: which one is assigned is not known
    first = matches[0]
    shown = first.display_name if isinstance(first.display_name, str) and first.display_name else name
    return KnownSet(shown, found[0], where=f"defined in {first.source.file}")


def _normal(definition_id: str) -> str:
    return definition_id.strip().rstrip("/").lower()


def _members_of(definition: SetDefinition) -> list[tuple[str, str | None]] | None:
    # Azure rejects a set definition without members: an empty list is a stub, not the truth.
    if not definition.members:
        return None
    members: list[tuple[str, str | None]] = []
    for reference_id, definition_id in definition.members:
        if not isinstance(reference_id, str) or not reference_id.strip():
            return None
        members.append((reference_id.strip(), definition_id if isinstance(definition_id, str) else None))
    return members


def recommendations(exemption: Exemption, context: RuleContext) -> tuple[Recommendation, ...] | None:
    """The policy definitions the exemption names, with what the catalog knows of each: one per
    entry of its policyDefinitionReferenceIds (as written; its definition and display name None
    when the initiative does not have it), or the one definition of an assignment of a single
    policy or of an EPAC exemption that names a definition. None when it names none (a whole
    initiative) or what it names is not known."""
    resolution = initiative.resolve(exemption, context)
    target = resolution.target
    if resolution.kind != "target" or target is None:
        return None
    catalog = context.catalog
    if target.kind in ("policy", "definition"):
        if target.partial:
            return None
        return (Recommendation(None, target.definition, catalog.display_name(target.definition)),)
    ids = exemption.policy_definition_reference_ids
    if not isinstance(ids, list) or not ids:
        return None
    known = known_set(exemption, context)
    if known is None:
        return None
    found: list[Recommendation] = []
    for item in ids:
        if not isinstance(item, str):
            continue  # not known statically (EL009), or not a string (EL008)
        member = known.members.get(item)
        definition = member.definition_id if member is not None else None
        display_name = catalog.display_name(definition) if definition else None
        found.append(Recommendation(item, definition, display_name, in_initiative=member is not None))
    return tuple(found)


__all__ = ["KnownSet", "known_set", "recommendations"]
