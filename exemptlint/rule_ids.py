"""Rule ids and prefixes as users write them (``--select``, config, baselines, suppressions).

An id that matches no rule must never be accepted quietly: ``--select EL4`` would run no rule
and pass every file. Each place that takes ids checks them here, after the custom rules are
loaded, and names the closest ids in its error.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence

from exemptlint.rules.api import Rule

# Shown in full when nothing is close; beyond this, `exemptlint rules` lists them.
_LISTED = 20


def matches_prefix(pattern: str, rules: Iterable[Rule]) -> bool:
    """True when ``pattern`` is a rule id or the prefix of one (case-insensitive), as
    ``--select`` and ``--ignore`` use it."""
    wanted = pattern.strip().upper()
    return bool(wanted) and any(rule.id.upper().startswith(wanted) for rule in rules)


def is_rule_id(rule_id: str, rules: Iterable[Rule]) -> bool:
    """True when ``rule_id`` is a whole rule id (case-insensitive), as suppressions and
    baselines name rules."""
    wanted = rule_id.strip().upper()
    return any(rule.id.upper() == wanted for rule in rules)


def closest(written: str, rules: Sequence[Rule]) -> list[str]:
    """The rule ids closest to ``written`` (at most three, best first); a rule name written
    instead of its id (``expired``) gives that rule's id."""
    wanted = written.strip().upper()
    by_name = [rule.id for rule in rules if rule.name.upper() == wanted]
    if by_name:
        return by_name
    ids = [rule.id.upper() for rule in rules]
    spelled = {rule.id.upper(): rule.id for rule in rules}
    # Digits written without their leading zeros (EL4, el07) name exactly one id.
    short = re.fullmatch(r"([A-Z]+)0*(\d+)", wanted)
    if short is not None:
        padded = [c for c in ids if re.fullmatch(rf"{short.group(1)}0*{short.group(2)}", c)]
        if len(padded) == 1:
            return [spelled[padded[0]]]
    scored = sorted(
        ((difflib.SequenceMatcher(None, wanted, candidate).ratio(), candidate) for candidate in ids),
        key=lambda pair: (-pair[0], pair[1]),
    )
    if not scored or scored[0][0] < 0.6:
        return []
    best = scored[0][0]
    # Only the ids about as close as the best one: ELL007 suggests EL007, not EL001 as well.
    return [spelled[candidate] for score, candidate in scored[:3] if score >= best - 0.05]


def hint(written: str, rules: Sequence[Rule]) -> str:
    """``did you mean EL004?``, or the known ids when none is close."""
    near = closest(written, rules)
    if near:
        return f"did you mean {_either(near)}?"
    ids = [rule.id for rule in rules]
    if len(ids) <= _LISTED:
        return f"the rules are {', '.join(ids)}"
    return "`exemptlint rules` lists the rules"


def unknown_prefix_message(written: str, rules: Sequence[Rule]) -> str:
    """What is wrong with a ``--select``/``--ignore`` entry that matches no rule."""
    if not written.strip():
        return "an empty rule id"
    return f"{written.strip()} is not a rule id or prefix; {hint(written, rules)}"


def unknown_id_message(written: str, rules: Sequence[Rule]) -> str:
    """What is wrong with a rule id (not a prefix) that names no rule."""
    if not written.strip():
        return "an empty rule id"
    near = closest(written, rules)
    if not near:
        # A prefix of real ids (EL00) is still not a rule: say which ids it would have meant.
        wanted = written.strip().upper()
        near = [rule.id for rule in rules if rule.id.upper().startswith(wanted)][:3]
    return f"{written.strip()} is not a rule; " + (
        f"did you mean {_either(near)}?" if near else hint(written, rules)
    )


def _either(ids: Sequence[str]) -> str:
    return ids[0] if len(ids) == 1 else f"{', '.join(ids[:-1])} or {ids[-1]}"
