"""What an exemption exempts: which initiative (or policy definition) its policy assignment
assigns, shared by EL001, EL007 and EL010; and whether Defender for Cloud honours it (EL001).

The assignment is resolved by its assigned definition, never by its name: real repositories
assign the benchmark under names such as ``pr-mcsb`` or ``clx-asb``. Sources, in order: the
config ``assignments`` map, assignments defined in the scanned files, and the well-known default
assignment ``SecurityCenterBuiltIn``.

A definition id that is not fully known (an ARM or Bicep expression that depends on the
deployment) is still judged when its known parts decide: an id under a subscription or a
management group is a custom definition whatever its unknown parts are. Only a tenant-level
(built-in) id needs its name, to look it up in the catalog.

An EPAC exemption that names a policy definition (``policyDefinitionId`` / ``policyDefinitionName``)
exempts that definition in every assignment of the EPAC environment that contains it: it is judged
by the initiatives that contain the definition.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from exemptlint.model import Exemption, PolicyAssignment, Unresolved, display_value
from exemptlint.rules.api import RuleContext

if TYPE_CHECKING:
    from exemptlint.catalog import Catalog, Initiative

MCSB_DEFINITION_ID = (
    "/providers/Microsoft.Authorization/policySetDefinitions/1f3afdf9-d0c9-4c3d-847f-89da613e70a8"
)
DEFAULT_ASSIGNMENT_NAME = "securitycenterbuiltin"
# The EPAC loader's synthetic policyAssignmentId for an exemption that names a definition
# ("epac:<definition id>"); see exemptlint/loaders/epac.py.
EPAC_SYNTHETIC_PREFIX = "epac:"
_ASSIGNMENT_NAME = re.compile(r"/policyassignments/([^/{}]+)/*$", re.IGNORECASE)
_HONOURED = (
    "Defender for Cloud honours exemptions only on the Microsoft cloud security benchmark and built-in "
    "regulatory compliance initiatives"
)


@dataclass(frozen=True)
class Target:
    """What an exemption exempts, as far as it is known statically."""

    # "builtin-set" (``initiative`` is its catalog entry), "custom-set", "policy" (an assignment
    # of a single policy definition), "definition" (an EPAC exemption naming a policy definition:
    # that definition in every assignment that contains it).
    kind: str
    # The definition id as written (the partial rendering when it is not fully known).
    definition: str
    # Whether ``definition`` is a partial rendering (its known parts decided the kind).
    partial: bool = False
    initiative: Initiative | None = None
    # "policy" and "definition": whether the definition is custom (not built-in).
    custom: bool = False
    # "definition" of a built-in: the catalog's initiatives that contain it.
    containing: tuple[Initiative, ...] = ()


@dataclass(frozen=True)
class Resolution:
    # "target" (``target`` says what), "unknown" (EL010; ``target`` may still say what kind of
    # target it is), "unresolved" (EL009), "absent"
    kind: str
    message: str = ""
    unresolved: Unresolved | None = None
    target: Target | None = None
    # The assignment as shown in messages.
    shown: str = ""

    @property
    def definition(self) -> str | None:
        """The policy (set) definition id the assignment assigns, when it is fully known."""
        target = self.target
        known = self.kind == "target" and target is not None and not target.partial
        return target.definition if known and target is not None else None


@dataclass(frozen=True)
class Verdict:
    """Whether Defender for Cloud honours the exemption, with the options of EL001 applied."""

    eligible: bool
    # Eligible: the display names (or ids) of the honoured initiatives it exempts policies of.
    honoured: tuple[str, ...] = ()
    # Not eligible: why (EL001's message).
    message: str = ""


def assignment_name(assignment_id: str) -> str | None:
    match = _ASSIGNMENT_NAME.search(assignment_id)
    return match.group(1) if match else None


def resolve(exemption: Exemption, context: RuleContext) -> Resolution:
    key = ("initiative", id(exemption))
    if key not in context.memo:
        context.memo[key] = _resolve(exemption, context)
    result: Resolution = context.memo[key]
    return result


def exempts_initiative(exemption: Exemption, context: RuleContext) -> bool:
    """Whether the exemption's assignment is known to assign an initiative (built-in or custom):
    only then does an exemption without policyDefinitionReferenceIds exempt several policies."""
    resolution = resolve(exemption, context)
    return resolution.target is not None and resolution.target.kind in ("builtin-set", "custom-set")


def _resolve(exemption: Exemption, context: RuleContext) -> Resolution:
    value = exemption.policy_assignment_id
    if value is None or (isinstance(value, str) and not value.strip()):
        return Resolution("absent")
    if isinstance(value, Unresolved):
        name = assignment_name(value.partial) if value.partial else None
        if name is None:
            return Resolution("unresolved", unresolved=value)
        assignment_id: str | None = None
    elif isinstance(value, str):
        assignment_id = value.strip()
        name = assignment_name(assignment_id)
    else:
        return Resolution("absent")
    shown = assignment_id or display_value(value)
    if assignment_id is None:
        # An EPAC assignmentName that names one assignment of the environment: show its id.
        ids = {a.id for a in epac_assignments(exemption, context) if isinstance(a.id, str)}
        if len(ids) == 1:
            shown = ids.pop()

    definition, via = _definition_of(exemption, value, assignment_id, name, context)
    if via == "ambiguous":
        return Resolution(
            "unknown",
            f"several assignments named '{name}' in the scanned files assign different definitions; "
            "map the full assignment id in the config 'assignments' section",
        )
    if definition is None and via:
        return Resolution("unknown", f"assignment '{shown}' ({via}) has no policyDefinitionId")
    if definition is None:
        return Resolution(
            "unknown",
            f"the initiative of assignment '{shown}' is not known: define the assignment in a scanned "
            "file or map it in the config 'assignments' section",
        )
    epac = (
        assignment_id is not None
        and assignment_id.lower().startswith(EPAC_SYNTHETIC_PREFIX)
        and exemption.source.format.startswith("epac")
    )
    if isinstance(definition, Unresolved):
        from exemptlint.catalog import classify_partial_definition_id

        # The known parts may be enough: an id under a subscription or a management group is
        # custom whatever its unknown parts are.
        kind = classify_partial_definition_id(definition.partial) if definition.partial else "unknown"
        if kind == "unknown":
            return Resolution(
                "unknown",
                f"the policyDefinitionId of assignment '{shown}' ({via}) is not known statically: "
                f"{definition.expression} ({definition.reason})",
            )
        return _target(kind, display_value(definition), shown, epac, context, partial=True)
    if not isinstance(definition, str):
        return Resolution("unknown", f"assignment '{shown}' ({via}) has no policyDefinitionId")
    definition = definition.strip()
    from exemptlint.catalog import classify_definition_id

    # A bare name (as the config map may give) is a built-in initiative's name.
    kind = "builtin-set" if "/" not in definition else classify_definition_id(definition)
    return _target(kind, definition, shown, epac, context)


def _target(
    kind: str, definition: str, shown: str, epac: bool, context: RuleContext, partial: bool = False
) -> Resolution:
    if kind == "builtin-set":
        initiative = context.catalog.lookup(definition)
        if initiative is None:
            return Resolution(
                "unknown",
                f"assignment '{shown}' assigns '{definition}', which is not in the catalog of built-in "
                "initiatives shipped with exemptlint",
            )
        return Resolution("target", target=Target(kind, definition, initiative=initiative), shown=shown)
    if kind == "custom-set":
        return Resolution("target", target=Target(kind, definition, partial), shown=shown)
    if kind not in ("builtin-policy", "custom-policy"):
        return Resolution(
            "unknown", f"assignment '{shown}' assigns '{definition}', which is not a policy set id"
        )
    custom = kind == "custom-policy"
    if not epac:
        target = Target("policy", definition, partial, custom=custom)
        return Resolution("target", target=target, shown=shown)
    containing: tuple[Initiative, ...] = ()
    if not custom:
        found = context.catalog.containing(definition)
        if found is None:
            # Still one definition (EL007), but which initiatives hold it is not known (EL010).
            return Resolution(
                "unknown",
                f"EPAC exempts the policy definition '{definition}' in every assignment that contains "
                "it, and it is not in the catalog of built-in policy definitions shipped with "
                "exemptlint, so the initiatives that contain it are not known",
                target=Target("definition", definition, partial),
                shown=shown,
            )
        containing = found
    target = Target("definition", definition, partial, custom=custom, containing=containing)
    return Resolution("target", target=target, shown=shown)


def judge(
    resolution: Resolution,
    catalog: Catalog,
    extra: Collection[str] = (),
    removed: Collection[str] = (),
) -> Verdict | None:
    """Whether Defender for Cloud honours the exemption (None when nothing is known to judge).

    ``extra`` and ``removed`` are initiatives (ids or names) the config adds to or removes from
    those the catalog marks as honoured; an initiative in both is not honoured.
    """
    target = resolution.target
    if target is None or resolution.kind != "target":
        return None
    added = {_name(d) for d in extra} - {_name(d) for d in removed}
    taken_away = {_name(d) for d in removed}

    def honoured(initiative: Initiative) -> bool:
        key = initiative.name.lower()
        return key in added or (initiative.honoured and key not in taken_away)

    shown = resolution.shown
    if target.kind == "builtin-set":
        initiative = target.initiative
        assert initiative is not None
        if honoured(initiative):
            return Verdict(True, honoured=(initiative.display_name,))
        why = (
            "which the config removes from the initiatives Defender for Cloud honours"
            if initiative.honoured
            else "which is neither the Microsoft cloud security benchmark nor a regulatory compliance "
            "initiative; Defender for Cloud ignores this exemption"
        )
        return Verdict(
            False,
            message=f"assignment '{shown}' assigns the built-in initiative '{initiative.display_name}' "
            f"(category {initiative.category}), {why}",
        )
    if target.kind in ("custom-set", "policy"):
        # The config may accept any definition by name, custom ones included.
        if _name(target.definition) in added:
            return Verdict(True, honoured=(target.definition,))
        if target.kind == "custom-set":
            what = f"the custom initiative '{target.definition}'"
        else:
            what = f"the single policy definition '{target.definition}'"
        return Verdict(False, message=f"assignment '{shown}' assigns {what}; {_HONOURED}")
    # An EPAC exemption that names a policy definition.
    if target.custom:
        return Verdict(
            False,
            message=f"EPAC exempts the custom policy definition '{target.definition}' in every assignment "
            "that contains it; no initiative Defender for Cloud honours contains a custom definition",
        )
    found = tuple(i for i in target.containing if honoured(i))
    if found:
        return Verdict(True, honoured=tuple(i.display_name for i in found))
    # The config may accept initiatives whose members exemptlint does not know: say so.
    unknown = sorted(
        name if i is None else i.display_name
        for name in added
        if (i := catalog.lookup(name)) is None or not catalog.members_known(i)
    )
    note = f" (the members of {', '.join(unknown)}, accepted by the config, are not known)" if unknown else ""
    display_name = catalog.display_name(target.definition)
    named = f" ({display_name})" if display_name else ""
    return Verdict(
        False,
        message=f"EPAC exempts the built-in policy definition '{target.definition}'{named} in every "
        f"assignment that contains it, and no initiative Defender for Cloud honours contains it{note}; "
        f"{_HONOURED}",
    )


def _name(definition_id: str) -> str:
    return definition_id.strip().rstrip("/").rsplit("/", 1)[-1].lower()


@dataclass
class _AssignmentIndex:
    """The run's assignments and config map by lower-cased id and name, built once per run."""

    config: dict[str, str]
    by_id: dict[str, PolicyAssignment]
    by_name: dict[str, list[PolicyAssignment]]
    # Assignments whose id is not fully known, by file and lower-cased partial id: an exemption
    # that names the assignment of its own file through the same expression finds it here.
    by_partial: dict[tuple[str, str], list[PolicyAssignment]]
    # Assignments from EPAC assignment files, by definitions folder.
    by_epac_root: dict[str, list[PolicyAssignment]]


def _index(context: RuleContext) -> _AssignmentIndex:
    index = context.assignment_memo.get("index")
    if isinstance(index, _AssignmentIndex):
        return index
    by_id: dict[str, PolicyAssignment] = {}
    by_name: dict[str, list[PolicyAssignment]] = {}
    by_partial: dict[tuple[str, str], list[PolicyAssignment]] = {}
    by_epac_root: dict[str, list[PolicyAssignment]] = {}
    for assignment in context.assignments:
        if assignment.epac is not None:
            by_epac_root.setdefault(assignment.epac.root, []).append(assignment)
        if isinstance(assignment.id, str):
            by_id.setdefault(assignment.id.lower().rstrip("/"), assignment)
        elif isinstance(assignment.id, Unresolved) and assignment.id.partial:
            key = (assignment.source.file, assignment.id.partial.lower().rstrip("/"))
            by_partial.setdefault(key, []).append(assignment)
        candidate = assignment.name if isinstance(assignment.name, str) else None
        if candidate is None and isinstance(assignment.id, Unresolved) and assignment.id.partial:
            candidate = assignment_name(assignment.id.partial)
        if candidate is not None:
            by_name.setdefault(candidate.lower(), []).append(assignment)
    config = {key.lower().rstrip("/"): value for key, value in context.assignment_map.items()}
    index = _AssignmentIndex(config, by_id, by_name, by_partial, by_epac_root)
    context.assignment_memo["index"] = index
    return index


def _definition_of(
    exemption: Exemption, value: Any, assignment_id: str | None, name: str | None, context: RuleContext
) -> tuple[Any, str]:
    index = _index(context)
    lowered_id = assignment_id.lower().rstrip("/") if assignment_id else None
    lowered_name = name.lower() if name else None
    for key in (lowered_id, lowered_name):
        if key is not None and key in index.config:
            return index.config[key], "from the config 'assignments' map"
    in_environment = epac_assignments(exemption, context)
    if in_environment:
        distinct = {display_value(a.policy_definition_id).lower() for a in in_environment}
        if len(distinct) > 1:
            return None, "ambiguous"
        return in_environment[0].policy_definition_id, f"defined in {in_environment[0].source.file}"
    if lowered_id is not None and lowered_id in index.by_id:
        assignment = index.by_id[lowered_id]
        return assignment.policy_definition_id, f"defined in {assignment.source.file}"
    if isinstance(value, Unresolved) and value.partial:
        same = index.by_partial.get((exemption.source.file, value.partial.lower().rstrip("/")), [])
        if len({display_value(a.policy_definition_id).lower() for a in same}) == 1:
            return same[0].policy_definition_id, f"defined in {same[0].source.file}"
    by_name = index.by_name.get(lowered_name, []) if lowered_name else []
    environment = exemption.source.epac
    if environment is not None and environment.root in index.by_epac_root:
        # EPAC resolves a name in the exemption's own environment: not in another's.
        by_name = [a for a in by_name if a.epac is None]
    distinct = {display_value(a.policy_definition_id).lower() for a in by_name}
    if len(distinct) == 1:
        return by_name[0].policy_definition_id, f"defined in {by_name[0].source.file}"
    if len(distinct) > 1:
        return None, "ambiguous"
    if lowered_name == DEFAULT_ASSIGNMENT_NAME:
        return MCSB_DEFINITION_ID, "the Defender for Cloud default assignment"
    return None, ""


def epac_assignments(exemption: Exemption, context: RuleContext) -> list[PolicyAssignment]:
    """The assignments from EPAC assignment files that an EPAC exemption's ``policyAssignmentId``
    (or ``assignmentName``) names in its own environment: the exemption file's definitions folder
    and pac selector (``policyExemptions/<pacSelector>/``). An exemption outside an EPAC layout
    looks in every definitions folder of the run, in every environment. Empty when none match."""
    if not exemption.source.format.startswith("epac"):
        return []
    index = _index(context)
    if not index.by_epac_root:
        return []
    key = ("epac-assignments", id(exemption))
    cached = context.memo.get(key)
    if cached is not None:
        found: list[PolicyAssignment] = cached
        return found
    value = exemption.policy_assignment_id
    wanted_id: str | None = None
    wanted_name: str | None = None
    if isinstance(value, str) and not value.lower().startswith(EPAC_SYNTHETIC_PREFIX):
        wanted_id = value.strip().rstrip("/").lower()
    elif isinstance(value, Unresolved) and value.partial:
        wanted_name = (assignment_name(value.partial) or "").lower() or None
    place = exemption.source.epac
    if place is not None and place.root in index.by_epac_root:
        candidates = index.by_epac_root[place.root]
    else:
        candidates = [a for assignments in index.by_epac_root.values() for a in assignments]
    selector = place.pac_selector.lower() if place is not None and place.pac_selector else None
    found = []
    for assignment in candidates:
        own = assignment.epac.pac_selector if assignment.epac is not None else None
        if selector is not None and own is not None and own.lower() != selector:
            continue
        if wanted_id is not None:
            candidate = assignment.id.rstrip("/").lower() if isinstance(assignment.id, str) else None
        else:
            candidate = assignment.name.lower() if isinstance(assignment.name, str) else None
        if candidate is not None and candidate == (wanted_id or wanted_name):
            found.append(assignment)
    context.memo[key] = found
    return found
