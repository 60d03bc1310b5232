"""EL004: ``expiresOn`` is a valid ISO 8601 date-time with a time zone, not too far ahead."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from exemptlint.dates import parse_iso8601
from exemptlint.model import Exemption, Level, Unresolved
from exemptlint.rules.api import Rule, RuleContext, Violation, not_known


@dataclass(frozen=True)
class Options:
    max_days: int = 365
    # Per-category limits, e.g. {"Mitigated": 730}; a category not listed uses max_days.
    max_days_by_category: dict[str, int] = field(default_factory=dict)


def check(exemption: Exemption, context: RuleContext, options: Options) -> Iterator[Violation]:
    value = exemption.expires_on
    if isinstance(value, Unresolved):
        yield not_known("expiresOn", value)
        return
    if value is None or (isinstance(value, str) and not value.strip()):
        return  # EL003's finding
    if not isinstance(value, str):
        yield Violation(f"expiresOn must be an ISO 8601 string, not {value!r}", property="expiresOn")
        return
    parsed = parse_iso8601(value)
    if parsed is None:
        yield Violation(
            f"expiresOn '{value}' is not an ISO 8601 date-time; write it as YYYY-MM-DDThh:mm:ssZ",
            property="expiresOn",
        )
        return
    if not parsed.has_zone:
        missing = "time zone" if parsed.has_time else "time or time zone"
        yield Violation(
            f"expiresOn '{value}' has no {missing}, so when it expires depends on who reads it; "
            "write it as YYYY-MM-DDThh:mm:ssZ (UTC) or with an offset",
            property="expiresOn",
        )
    category = exemption.exemption_category
    limit = options.max_days
    if isinstance(category, str):
        for name, days in options.max_days_by_category.items():
            if name.lower() == category.strip().lower():
                limit = days
    days_ahead = (parsed.utc_date - context.today).days
    if days_ahead > limit:
        which = f"the limit for {category}" if limit != options.max_days else "the limit"
        yield Violation(
            f"expiresOn {parsed.utc_date.isoformat()} is {days_ahead} days after today "
            f"({context.today.isoformat()}); {which} is {limit} days",
            property="expiresOn",
        )


RULE = Rule(
    id="EL004",
    name="expiry-bounded",
    level=Level.ERROR,
    summary="expiresOn is ISO 8601 with a time zone and at most max-days after today",
    check=check,
    options=Options,
    security_severity=5.0,
)
