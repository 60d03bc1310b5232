"""The built-in rules: one module per rule, each with a ``RULE``; the registry is just this list."""

from __future__ import annotations

from exemptlint.rules import (
    el001_eligible_initiative,
    el002_valid_category,
    el003_expiry_required,
    el004_expiry_bounded,
    el005_expired,
    el006_description_required,
    el007_scope_too_broad,
    el008_invalid_exemption,
    el009_unresolved_value,
    el010_unverifiable_initiative,
    el011_unjustified_suppression,
    el012_unknown_reference_id,
    el013_deprecated_initiative,
    el014_scope_outside_assignment,
    el015_duplicate_exemption,
)
from exemptlint.rules.api import Rule

BUILTIN_RULES: tuple[Rule, ...] = (
    el001_eligible_initiative.RULE,
    el002_valid_category.RULE,
    el003_expiry_required.RULE,
    el004_expiry_bounded.RULE,
    el005_expired.RULE,
    el006_description_required.RULE,
    el007_scope_too_broad.RULE,
    el008_invalid_exemption.RULE,
    el009_unresolved_value.RULE,
    el010_unverifiable_initiative.RULE,
    el011_unjustified_suppression.RULE,
    el012_unknown_reference_id.RULE,
    el013_deprecated_initiative.RULE,
    el014_scope_outside_assignment.RULE,
    el015_duplicate_exemption.RULE,
)
UNRESOLVED_RULE_ID = el009_unresolved_value.RULE.id
SUPPRESSION_RULE_ID = el011_unjustified_suppression.RULE.id
