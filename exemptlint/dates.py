"""ISO 8601 dates as Azure writes them (up to 7 fractional digits, ``Z`` or an offset)."""

from __future__ import annotations

import datetime
import functools
import re
from dataclasses import dataclass

_ISO = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?P<time>\d{2}:\d{2}(?::\d{2}(?:\.(?P<fraction>\d{1,7}))?)?)"
    r"(?P<zone>Z|z|[+-]\d{2}:?\d{2})?)?"
)


@dataclass(frozen=True)
class ParsedDate:
    moment: datetime.datetime  # in UTC; a value without a zone is read as UTC
    has_zone: bool
    has_time: bool

    @property
    def utc_date(self) -> datetime.date:
        return self.moment.date()


@functools.lru_cache(maxsize=4096)
def parse_iso8601(text: str) -> ParsedDate | None:
    """The moment ``text`` names, or None when it is not an ISO 8601 date (and time).

    Cached (the result is immutable): EL004 and EL005 both read each expiresOn, and exemptions
    of one repository share dates."""
    match = _ISO.fullmatch(text.strip())
    if match is None:
        return None
    try:
        date = datetime.date.fromisoformat(match.group("date"))
    except ValueError:
        return None
    time_text = match.group("time")
    zone_text = match.group("zone")
    hour = minute = second = micro = 0
    if time_text is not None:
        pieces = time_text.split(".")[0].split(":")
        hour, minute = int(pieces[0]), int(pieces[1])
        second = int(pieces[2]) if len(pieces) > 2 else 0
        fraction = match.group("fraction")
        if fraction:
            micro = int(fraction[:6].ljust(6, "0"))
        if hour > 23 or minute > 59 or second > 59:
            return None
    offset = datetime.timedelta(0)
    if zone_text and zone_text not in ("Z", "z"):
        sign = -1 if zone_text[0] == "-" else 1
        digits = zone_text[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:])
        if hours > 14 or minutes > 59:
            return None
        offset = sign * datetime.timedelta(hours=hours, minutes=minutes)
    moment = datetime.datetime(
        date.year, date.month, date.day, hour, minute, second, micro, tzinfo=datetime.timezone(offset)
    )
    return ParsedDate(
        moment=moment.astimezone(datetime.timezone.utc),
        has_zone=zone_text is not None,
        has_time=time_text is not None,
    )


def utc_today() -> datetime.date:
    return datetime.datetime.now(datetime.timezone.utc).date()
