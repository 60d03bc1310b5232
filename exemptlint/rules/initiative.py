"""Which initiative an exemption's policy assignment assigns (shared by EL001 and EL010).

The assignment is resolved by its assigned definition, never by its name: real repositories
assign the benchmark under names such as ``pr-mcsb`` or ``clx-asb``. Sources, in order: the
config ``assignments`` map, assignments defined in the scanned files, and the well-known default
assignment ``SecurityCenterBuiltIn``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from exemptlint.model import Exemption, PolicyAssignment, Unresolved, display_value
from exemptlint.rules.api import RuleContext

MCSB_DEFINITION_ID = (
    "/providers/Microsoft.Authorization/policySetDefinitions/1f3afdf9-d0c9-4c3d-847f-89da613e70a8"
)
DEFAULT_ASSIGNMENT_NAME = "securitycenterbuiltin"
_ASSIGNMENT_NAME = re.compile(r"/policyassignments/([^/{}]+)/*$", re.IGNORECASE)


@dataclass(frozen=True)
class Resolution:
    # "eligible", "ineligible", "unknown" (EL010), "unresolved" (EL009), "absent" (nothing to check)
    kind: str
    message: str = ""
    unresolved: Unresolved | None = None
    # The policy (set) definition id the assignment assigns, when known.
    definition: str | None = None


def assignment_name(assignment_id: str) -> str | None:
    match = _ASSIGNMENT_NAME.search(assignment_id)
    return match.group(1) if match else None


def resolve(exemption: Exemption, context: RuleContext) -> Resolution:
    key = ("initiative", id(exemption))
    if key not in context.memo:
        context.memo[key] = _resolve(exemption, context)
    result: Resolution = context.memo[key]
    return result


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

    definition, via = _definition_of(assignment_id, name, context)
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
    if isinstance(definition, Unresolved):
        return Resolution(
            "unknown",
            f"the policyDefinitionId of assignment '{shown}' ({via}) is not known statically: "
            f"{definition.expression} ({definition.reason})",
        )
    if not isinstance(definition, str):
        return Resolution("unknown", f"assignment '{shown}' ({via}) has no policyDefinitionId")
    return _judge(definition.strip(), shown, context)


@dataclass
class _AssignmentIndex:
    """The run's assignments and config map by lower-cased id and name, built once per run."""

    config: dict[str, str]
    by_id: dict[str, PolicyAssignment]
    by_name: dict[str, list[PolicyAssignment]]


def _index(context: RuleContext) -> _AssignmentIndex:
    index = context.assignment_memo.get("index")
    if isinstance(index, _AssignmentIndex):
        return index
    by_id: dict[str, PolicyAssignment] = {}
    by_name: dict[str, list[PolicyAssignment]] = {}
    for assignment in context.assignments:
        if isinstance(assignment.id, str):
            by_id.setdefault(assignment.id.lower().rstrip("/"), assignment)
        candidate = assignment.name if isinstance(assignment.name, str) else None
        if candidate is None and isinstance(assignment.id, Unresolved) and assignment.id.partial:
            candidate = assignment_name(assignment.id.partial)
        if candidate is not None:
            by_name.setdefault(candidate.lower(), []).append(assignment)
    config = {key.lower().rstrip("/"): value for key, value in context.assignment_map.items()}
    index = _AssignmentIndex(config, by_id, by_name)
    context.assignment_memo["index"] = index
    return index


def _definition_of(assignment_id: str | None, name: str | None, context: RuleContext) -> tuple[Any, str]:
    index = _index(context)
    lowered_id = assignment_id.lower().rstrip("/") if assignment_id else None
    lowered_name = name.lower() if name else None
    for key in (lowered_id, lowered_name):
        if key is not None and key in index.config:
            return index.config[key], "from the config 'assignments' map"
    if lowered_id is not None and lowered_id in index.by_id:
        assignment = index.by_id[lowered_id]
        return assignment.policy_definition_id, f"defined in {assignment.source.file}"
    by_name = index.by_name.get(lowered_name, []) if lowered_name else []
    distinct = {display_value(a.policy_definition_id).lower() for a in by_name}
    if len(distinct) == 1:
        return by_name[0].policy_definition_id, f"defined in {by_name[0].source.file}"
    if len(distinct) > 1:
        return None, "ambiguous"
    if lowered_name == DEFAULT_ASSIGNMENT_NAME:
        return MCSB_DEFINITION_ID, "the Defender for Cloud default assignment"
    return None, ""


def _judge(definition: str, shown: str, context: RuleContext) -> Resolution:
    from exemptlint.catalog import classify_definition_id

    # A bare name (as the config map may give) is a built-in initiative's name.
    kind = "builtin-set" if "/" not in definition else classify_definition_id(definition)
    if kind == "builtin-set":
        initiative = context.catalog.lookup(definition)
        if initiative is None:
            return Resolution(
                "unknown",
                f"assignment '{shown}' assigns '{definition}', which is not in the catalog of built-in "
                "initiatives shipped with exemptlint",
            )
        if initiative.is_eligible:
            return Resolution("eligible", definition=definition)
        return Resolution(
            "ineligible",
            definition=definition,
            message=f"assignment '{shown}' assigns the built-in initiative '{initiative.display_name}' "
            f"(category {initiative.category}), which is neither the Microsoft cloud security benchmark "
            "nor a regulatory compliance initiative; Defender for Cloud ignores this exemption",
        )
    if kind == "custom-set":
        what = f"the custom initiative '{definition}'"
    elif kind in ("builtin-policy", "custom-policy"):
        what = f"the single policy definition '{definition}'"
    else:
        return Resolution(
            "unknown", f"assignment '{shown}' assigns '{definition}', which is not a policy set id"
        )
    return Resolution(
        "ineligible",
        definition=definition,
        message=f"assignment '{shown}' assigns {what}; Defender for Cloud honours exemptions only on the "
        "Microsoft cloud security benchmark and built-in regulatory compliance initiatives",
    )
