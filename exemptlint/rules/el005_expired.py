"""EL005: the exemption has not expired (and warns shortly before it does)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from exemptlint.dates import read_expiry
from exemptlint.model import Exemption, Level, Unresolved
from exemptlint.rules.api import Rule, RuleContext, Violation, not_known


@dataclass(frozen=True)
class Options:
    # Warn this many days before the expiry date (0: never warn).
    warn_days: int = 30


def check(exemption: Exemption, context: RuleContext, options: Options) -> Iterator[Violation]:
    value = exemption.expires_on
    if isinstance(value, Unresolved):
        yield not_known("expiresOn", value)
        return
    if not isinstance(value, str):
        return
    read = read_expiry(value, exemption.source.format, context.epac_date_order)
    expiry = read.utc_date
    if expiry is None:
        return  # EL004's finding
    # An ambiguous EPAC date is checked by its earlier reading (EL004 warns about it).
    which = f"; the earlier reading of '{value}'" if read.ambiguous else ""
    days_left = (expiry - context.today).days
    if days_left < 0:
        yield Violation(
            f"exemption '{exemption.label}' expired on {expiry.isoformat()} ({-days_left} days ago{which}); "
            "renew it with a new review or delete it",
            property="expiresOn",
        )
    elif options.warn_days > 0 and days_left <= options.warn_days:
        yield Violation(
            f"exemption '{exemption.label}' expires in {days_left} days ({expiry.isoformat()}{which})",
            property="expiresOn",
            level=Level.WARNING,
        )


RULE = Rule(
    id="EL005",
    name="expired",
    level=Level.ERROR,
    summary="expiresOn is not before today (warns warn-days ahead)",
    check=check,
    options=Options,
    security_severity=6.0,
)
