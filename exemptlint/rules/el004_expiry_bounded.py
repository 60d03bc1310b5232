"""EL004: ``expiresOn`` is a date the deploying tool can read, and not too far ahead.

How a value is read depends on the tool that deploys the exemption: the Azure API (raw JSON, ARM,
Bicep, YAML) reads ISO 8601, and a value without a time zone as UTC; EPAC also reads the culture
dates its exports write (``12/31/2026 11:59:00 PM``), with the day or the month first; Terraform's
azurerm provider needs RFC 3339 (``2027-01-31T12:00:00Z``) when it applies.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from exemptlint.dates import EPAC, TERRAFORM, Expiry, read_expiry
from exemptlint.model import Exemption, Level, Unresolved
from exemptlint.rules.api import Rule, RuleContext, Violation, not_known


@dataclass(frozen=True)
class Options:
    max_days: int = 365
    # Per-category limits, e.g. {"Mitigated": 730}; a category not listed uses max_days.
    max_days_by_category: dict[str, int] = field(default_factory=dict)
    # Warn on a value without a time zone (Azure and EPAC read it as UTC; Terraform always errs).
    require_time_zone: bool = False


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
    expiry = read_expiry(value, exemption.source.format, context.epac_date_order)
    if expiry.utc_date is None:
        yield Violation(_unreadable(expiry, context.epac_date_order), property="expiresOn")
        return
    if expiry.reader == TERRAFORM and not expiry.rfc3339:
        yield Violation(
            f"expiresOn '{value}' {_not_rfc3339(expiry)}: the azurerm provider parses expires_on as "
            "RFC 3339 when it applies, so terraform apply would fail; write it as YYYY-MM-DDThh:mm:ssZ "
            "or with an offset (+02:00)",
            property="expiresOn",
        )
    elif not expiry.has_zone and options.require_time_zone:
        missing = "time zone" if expiry.has_time else "time or time zone"
        yield Violation(
            f"expiresOn '{value}' has no {missing} (it is read as UTC); require-time-zone asks for "
            "YYYY-MM-DDThh:mm:ssZ or an offset",
            property="expiresOn",
            level=Level.WARNING,
        )
    if expiry.ambiguous:
        yield Violation(_ambiguity(expiry), property="expiresOn", level=Level.WARNING)
    category = exemption.exemption_category
    limit = options.max_days
    if isinstance(category, str):
        for name, days in options.max_days_by_category.items():
            if name.lower() == category.strip().lower():
                limit = days
    days_ahead = (expiry.utc_date - context.today).days
    if days_ahead > limit:
        which = f"the limit for {category}" if limit != options.max_days else "the limit"
        yield Violation(
            f"expiresOn {expiry.utc_date.isoformat()} is {days_ahead} days after today "
            f"({context.today.isoformat()}); {which} is {limit} days",
            property="expiresOn",
        )


def _unreadable(expiry: Expiry, date_order: str | None) -> str:
    value = expiry.text
    if expiry.reader == TERRAFORM:
        return (
            f"expiresOn '{value}' is not an RFC 3339 date-time: the azurerm provider parses expires_on as "
            "RFC 3339 when it applies, so terraform apply would fail; write it as YYYY-MM-DDThh:mm:ssZ"
        )
    if expiry.reader == EPAC:
        if expiry.culture_shaped and date_order:
            return (
                f"expiresOn '{value}' is not a valid {date_order} date or time (config epac.date-order), "
                "so EPAC cannot read it; write it as YYYY-MM-DDThh:mm:ssZ"
            )
        if expiry.culture_shaped:
            return (
                f"expiresOn '{value}' is not a valid date or time with the day or the month first, so EPAC "
                "cannot read it; write it as YYYY-MM-DDThh:mm:ssZ"
            )
        return (
            f"expiresOn '{value}' is not a date EPAC can read (ISO 8601, or its exports' "
            "M/d/yyyy h:mm:ss AM/PM form); write it as YYYY-MM-DDThh:mm:ssZ"
        )
    return f"expiresOn '{value}' is not an ISO 8601 date-time; write it as YYYY-MM-DDThh:mm:ssZ"


def _not_rfc3339(expiry: Expiry) -> str:
    if not expiry.has_time:
        return "has no time or time zone"
    if not expiry.has_zone:
        return "has no time zone"
    return "is not RFC 3339 (seconds, 'T' and a zone such as Z or +02:00 are required)"


def _ambiguity(expiry: Expiry) -> str:
    shown = " or ".join(
        f"{moment.strftime('%Y-%m-%dT%H:%M:%SZ')} ({order})" for moment, order in expiry.readings
    )
    earliest = expiry.readings[0][0].date().isoformat()
    return (
        f"expiresOn '{expiry.text}' reads as {shown}, depending on the culture of the machine that runs "
        f"EPAC; the expiry checks use the earlier, {earliest}; write it as YYYY-MM-DDThh:mm:ssZ, or set "
        "epac.date-order in the config"
    )


RULE = Rule(
    id="EL004",
    name="expiry-bounded",
    level=Level.ERROR,
    summary="expiresOn is a date the deploying tool reads, at most max-days after today",
    check=check,
    options=Options,
    security_severity=5.0,
)
