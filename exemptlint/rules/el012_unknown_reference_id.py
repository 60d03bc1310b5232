"""EL012: every entry of policyDefinitionReferenceIds is a member of the exempted initiative.

An exemption lists the members of its assignment's initiative that it exempts, by their
``policyDefinitionReferenceId``. An entry the initiative does not have exempts nothing: Azure
rejects the exemption, or, after the initiative changed, it no longer covers what it was written
for. Each entry is compared with the members, ignoring case as Azure does, when they are known: a
built-in initiative's from the catalog (``--catalog`` replaces the packaged one), a custom one's
from a policy set definition in the scanned files (ARM, Bicep, Terraform, raw JSON, EPAC
``policySetDefinitions`` files).

The message says what the entry most likely is: a policy definition's id or name written instead
of the reference id that names it; a member of another version of the same benchmark or standard
(the reference holds one version of each built-in initiative, so the other versions are its
predecessors and successors, such as ISO 27001:2013 and ISO/IEC 27001 2022), with the reference id
the same policy definition has in this one; or else the reference ids spelled most like it ("did
you mean ..."), each with the recommendation (policy definition) it stands for.

EL012 also records, for the JSON and Markdown reports, the recommendations each exemption names.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from exemptlint.model import Exemption, Level, Unresolved
from exemptlint.rules import initiative
from exemptlint.rules.api import Rule, RuleContext, Violation, not_known

if TYPE_CHECKING:
    from exemptlint.catalog import Catalog, Initiative
    from exemptlint.catalog_members import Member, Members
    from exemptlint.rules.members import KnownSet

_PROPERTY = "policyDefinitionReferenceIds"
_GUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@dataclass(frozen=True)
class Options:
    # How many of the closest reference ids a message suggests ("did you mean ...").
    suggestions: int = 3


def check(exemption: Exemption, context: RuleContext, options: Options) -> Iterator[Violation]:
    from exemptlint.rules import members

    # The reports name what the exemption exempts, whether or not anything is wrong with it.
    exemption.recommendations = members.recommendations(exemption, context)
    ids = exemption.policy_definition_reference_ids
    if isinstance(ids, Unresolved):
        if members.known_set(exemption, context) is not None:
            yield not_known(_PROPERTY, ids)
        return
    if not isinstance(ids, list) or not ids:
        return  # none listed (a whole initiative: EL007), or not a list (EL008)
    known = members.known_set(exemption, context)
    if known is None:
        return  # the initiative or its members are not known (EL010 says which)
    shown = initiative.resolve(exemption, context).shown
    for item in ids:
        if isinstance(item, Unresolved):
            yield not_known(_PROPERTY, item)
            continue
        if not isinstance(item, str) or known.members.get(item) is not None:
            continue
        yield Violation(_message(item, known, shown, context.catalog, options), property=_PROPERTY)


def _message(item: str, known: KnownSet, shown: str, catalog: Catalog, options: Options) -> str:
    what = f"policyDefinitionReferenceId '{item}' is not a member of '{known.shown}'"
    where = f" ({known.where}), which assignment '{shown}' assigns"
    named = _by_definition(item, known.members, catalog)
    if named is not None:
        return what + where + "; " + named
    if known.initiative is not None:
        elsewhere = _other_version(item, known.initiative, known.members, catalog)
        if elsewhere is not None:
            return what + where + "; " + elsewhere
    closest = known.members.closest(item, options.suggestions) if options.suggestions > 0 else []
    if closest:
        return what + where + "; did you mean " + " or ".join(_shown(m, catalog) for m in closest) + "?"
    listing = (
        f"`exemptlint catalog show {known.initiative.name}` lists them"
        if known.initiative is not None
        else "its set definition lists them"
    )
    return what + where + f"; no reference id of it is spelled like this one ({listing})"


def _shown(member: Member, catalog: Catalog) -> str:
    name = catalog.display_name(member.definition_id) if member.definition_id else None
    return f"'{member.reference_id}' ({name})" if name else f"'{member.reference_id}'"


def _other_version(item: str, current: Initiative, own: Members, catalog: Catalog) -> str | None:
    """Where the entry is a member of another version of the same benchmark or standard."""
    family = catalog.family(current)
    if not family:
        return None
    place = next(i for i, version in enumerate(family) if version.name == current.name)
    # The nearest versions first: the one the exemption was most likely written for.
    order = sorted((i for i in range(len(family)) if i != place), key=lambda i: (abs(i - place), i < place))
    for index in order:
        other = family[index]
        their = catalog.members(other)
        member = their.get(item) if their is not None else None
        if member is None:
            continue
        age = "an older" if index < place else "a newer"
        text = f"it is a member of '{other.display_name}', {age} version of the same benchmark or standard"
        if member.definition_id is None:
            return text
        name = catalog.display_name(member.definition_id)
        definition = "the policy definition it names there" + (f" ({name})" if name else "")
        here = own.with_definition(member.definition_id)
        if here:
            return text + f"; {definition} is '{here[0].reference_id}' in this one"
        if own.definitions_known:
            return text + f"; {definition} is not in this one"
        return text
    return None


def _by_definition(item: str, own: Members, catalog: Catalog) -> str | None:
    """When the entry is a policy definition (its id or GUID name) rather than a reference id."""
    value = item.strip().rstrip("/")
    if "/policydefinitions/" not in value.lower() and not re.fullmatch(_GUID, value.lower()):
        return None
    name = value.rsplit("/", 1)[-1].lower()
    here = [m for m in own if m.definition_id and _last_segment(m.definition_id) == name]
    if not here:
        return None
    display = catalog.display_name(here[0].definition_id or "")
    definition = f"the policy definition '{value}'" + (f" ({display})" if display else "")
    return f"it is {definition}, which this initiative names '{here[0].reference_id}': list that reference id"


def _last_segment(definition_id: str) -> str:
    return definition_id.rstrip("/").rsplit("/", 1)[-1].lower()


RULE = Rule(
    id="EL012",
    name="unknown-reference-id",
    level=Level.ERROR,
    summary="Every policyDefinitionReferenceIds entry is a member of the exempted initiative",
    check=check,
    options=Options,
    security_severity=6.0,
)
