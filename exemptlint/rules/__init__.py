"""The built-in rules: one module per rule, each with a ``RULE``; the registry is just this list.

The rule modules are imported when ``BUILTIN_RULES`` is first read, not with this package:
``exemptlint.rules.api`` (which reports and configs import) must not pull in every rule.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from exemptlint.rules.api import Rule

    BUILTIN_RULES: tuple[Rule, ...]

# The modules of the built-in rules, in the registry's order.
RULE_MODULES = (
    "el001_eligible_initiative",
    "el002_valid_category",
    "el003_expiry_required",
    "el004_expiry_bounded",
    "el005_expired",
    "el006_description_required",
    "el007_scope_too_broad",
    "el008_invalid_exemption",
    "el009_unresolved_value",
    "el010_unverifiable_initiative",
    "el011_unjustified_suppression",
    "el012_unknown_reference_id",
    "el013_deprecated_initiative",
    "el014_scope_outside_assignment",
    "el015_duplicate_exemption",
)
# The engine treats these two specially (tests check that they name the rules of those modules).
UNRESOLVED_RULE_ID = "EL009"
SUPPRESSION_RULE_ID = "EL011"


def __getattr__(name: str) -> object:
    if name == "BUILTIN_RULES":
        rules = tuple(importlib.import_module(f"{__name__}.{module}").RULE for module in RULE_MODULES)
        globals()["BUILTIN_RULES"] = rules
        return rules
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
