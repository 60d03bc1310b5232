"""EL003: ``expiresOn`` is present, so that no exemption hides a finding forever."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from exemptlint.model import Exemption, Level, Unresolved
from exemptlint.rules.api import Rule, RuleContext, Violation, not_known


@dataclass(frozen=True)
class Options:
    # Require an expiry only on Waiver exemptions (a Mitigated one may last as long as its control).
    waiver_only: bool = False


def check(exemption: Exemption, context: RuleContext, options: Options) -> Iterator[Violation]:
    if exemption.partial_update:
        return
    if options.waiver_only:
        category = exemption.exemption_category
        if isinstance(category, Unresolved):
            yield not_known("exemptionCategory", category)
            return
        if not (isinstance(category, str) and category.strip().lower() == "waiver"):
            return
    value = exemption.expires_on
    if isinstance(value, Unresolved):
        yield not_known("expiresOn", value)
        return
    if value is None or (isinstance(value, str) and not value.strip()):
        written = "is empty" if exemption.has("expiresOn") else "is missing"
        yield Violation(
            f"expiresOn {written}: exemption '{exemption.label}' would hide its findings from the secure "
            "score forever; set an expiry date",
            property="expiresOn" if exemption.has("expiresOn") else None,
        )


RULE = Rule(
    id="EL003",
    name="expiry-required",
    level=Level.ERROR,
    summary="expiresOn is present",
    check=check,
    options=Options,
    security_severity=6.0,
)
