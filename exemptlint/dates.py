"""Expiry dates as the tool that deploys an exemption reads them.

One value, three readers, chosen by the exemption's source format (``Source.format``):

* Azure (the policyExemptions API, so raw JSON, ARM, Bicep and YAML sources): ISO 8601 as Azure
  writes it (up to 7 fractional digits, ``Z`` or an offset). A date without a time, or a time
  without a zone, is read as UTC.
* EPAC (``epac-json``, ``epac-csv``): EPAC reads ``expiresOn`` with .NET's
  ``DateTime.Parse(value, <the machine's culture>, AssumeUniversal)``. That takes the ISO forms
  above (read as UTC when they have no zone) and the culture forms its own exports write
  (``12/31/2026 11:59:00 PM``, ``19/06/2025 2:00:00 PM``, ``6/1/2024 5:00``). Which of day and
  month comes first depends on the culture, so a culture date may have two readings; where only
  one order gives a date (a day above 12), that is the reading. Config ``epac.date-order`` keeps
  one order only, as a machine of that culture would.
* Terraform (``terraform``, ``terraform-plan``): the azurerm provider validates ``expires_on`` as
  ISO 8601 when it plans, but parses it as RFC 3339 (``time.RFC3339``, after upper-casing) when it
  applies, so anything else makes ``terraform apply`` fail. The value is still read as above, so
  that its bound and expiry are checked too.
"""

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
# Go's time.Parse(time.RFC3339, strings.ToUpper(value)): seconds required, any fraction, Z or ±hh:mm.
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})")
# The culture forms of .NET's DateTime.Parse that EPAC's exports write: day and month in either
# order (the same separator twice), the year last; then optionally an hour with minutes, seconds
# and a fraction, an AM/PM designator, and a zone. With the year first (2027/2/15), .NET reads
# year, month, day in every common culture.
_TIME_TAIL = (
    r"(?:\s+(?P<hour>\d{1,2})(?::(?P<minute>\d{2})(?::(?P<seconds>\d{2})(?:\.(?P<fraction>\d{1,7}))?)?)?"
    r"(?:\s*(?P<designator>[AaPp]\.?[Mm]\.?))?"
    r"(?:\s*(?P<zone>Z|z|[+-]\d{2}:?\d{2}))?)?"
)
_CULTURE = re.compile(
    r"(?P<first>\d{1,2})(?P<sep>[/.-])(?P<second>\d{1,2})(?P=sep)(?P<year>\d{4}|\d{2})" + _TIME_TAIL
)
_YEAR_FIRST = re.compile(
    r"(?P<year>\d{4})(?P<sep>[/.-])(?P<first>\d{1,2})(?P=sep)(?P<second>\d{1,2})" + _TIME_TAIL
)

AZURE = "azure"
EPAC = "epac"
TERRAFORM = "terraform"
# Source formats (as loaders name them in Source.format) read by a tool other than the Azure API.
_READERS = {
    "epac-json": EPAC,
    "epac-csv": EPAC,
    "terraform": TERRAFORM,
    "terraform-plan": TERRAFORM,
}

MONTH_FIRST = "month-first"
DAY_FIRST = "day-first"
DATE_ORDERS = (MONTH_FIRST, DAY_FIRST)


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
        micro = _micro(match.group("fraction"))
        if hour > 23 or minute > 59 or second > 59:
            return None
    offset = _offset(zone_text)
    if offset is None:
        return None
    moment = datetime.datetime(date.year, date.month, date.day, hour, minute, second, micro, tzinfo=offset)
    return ParsedDate(
        moment=moment.astimezone(datetime.timezone.utc),
        has_zone=zone_text is not None,
        has_time=time_text is not None,
    )


def _micro(fraction: str | None) -> int:
    return int(fraction[:6].ljust(6, "0")) if fraction else 0


def _offset(zone_text: str | None) -> datetime.timezone | None:
    """The zone ``Z``, ``+02:00`` or ``-0530`` names (UTC when there is none); None when invalid."""
    if not zone_text or zone_text in ("Z", "z"):
        return datetime.timezone.utc
    sign = -1 if zone_text[0] == "-" else 1
    digits = zone_text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 14 or minutes > 59:
        return None
    return datetime.timezone(sign * datetime.timedelta(hours=hours, minutes=minutes))


@dataclass(frozen=True)
class Expiry:
    """How the deploying tool reads one ``expiresOn`` value.

    ``readings`` holds every moment (UTC) the value can name for that tool, earliest first, each
    with the day/month order it was read in (None for ISO values). It is empty when the tool
    cannot read the value at all. The expiry checks use the earliest reading: an ambiguous date
    is never allowed to hide a finding for longer than either of its readings would.
    """

    text: str
    reader: str
    readings: tuple[tuple[datetime.datetime, str | None], ...] = ()
    has_zone: bool = False
    has_time: bool = False
    # The value has the shape of a culture date (d/M/yyyy ...) but no valid reading.
    culture_shaped: bool = False
    # Whether the azurerm provider's apply-time parse (RFC 3339) accepts the value.
    rfc3339: bool = False

    @property
    def moment(self) -> datetime.datetime | None:
        return self.readings[0][0] if self.readings else None

    @property
    def utc_date(self) -> datetime.date | None:
        return self.readings[0][0].date() if self.readings else None

    @property
    def ambiguous(self) -> bool:
        return len(self.readings) > 1


def reader_of(source_format: str) -> str:
    """Which tool reads the expiry of an exemption from a source of this format."""
    return _READERS.get(source_format, AZURE)


def read_expiry(text: str, source_format: str, date_order: str | None = None) -> Expiry:
    """``text`` as the tool that deploys a ``source_format`` exemption reads it. ``date_order``
    (config ``epac.date-order``) fixes the order of day and month in EPAC culture dates."""
    reader = reader_of(source_format)
    return _read(text, reader, date_order if reader == EPAC else None)


@functools.lru_cache(maxsize=4096)
def _read(text: str, reader: str, date_order: str | None) -> Expiry:
    # Cached like parse_iso8601: EL004, EL005 and the rule-pack view all read each value.
    # The azurerm provider upper-cases the value before it parses it ("2027-01-31t10:00:00z").
    iso = parse_iso8601(text.upper() if reader == TERRAFORM else text)
    if iso is not None:
        return Expiry(
            text=text,
            reader=reader,
            readings=((iso.moment, None),),
            has_zone=iso.has_zone,
            has_time=iso.has_time,
            rfc3339=_RFC3339.fullmatch(text) is not None,
        )
    if reader != EPAC:
        return Expiry(text=text, reader=reader)
    stripped = text.strip()
    match = _CULTURE.fullmatch(stripped)
    if match is None:
        match = _YEAR_FIRST.fullmatch(stripped)
        date_order = MONTH_FIRST  # year, month, day whatever the culture's day/month order
    if match is None:
        return Expiry(text=text, reader=reader)
    return Expiry(
        text=text,
        reader=reader,
        readings=_culture_readings(match, date_order),
        has_zone=match.group("zone") is not None,
        has_time=match.group("hour") is not None,
        culture_shaped=True,
    )


def _culture_readings(
    match: re.Match[str], date_order: str | None
) -> tuple[tuple[datetime.datetime, str | None], ...]:
    time = _culture_time(match)
    offset = _offset(match.group("zone"))
    if time is None or offset is None:
        return ()
    year = int(match.group("year"))
    if len(match.group("year")) == 2:
        year += 2000 if year < 50 else 1900  # .NET's Gregorian TwoDigitYearMax, 2049
    first, second = int(match.group("first")), int(match.group("second"))
    found: dict[datetime.datetime, str] = {}
    for order in (date_order,) if date_order else DATE_ORDERS:
        month, day = (first, second) if order == MONTH_FIRST else (second, first)
        try:
            moment = datetime.datetime(year, month, day, *time, tzinfo=offset)
        except ValueError:
            continue
        # 5/5/2027 reads the same in both orders: one reading.
        found.setdefault(moment.astimezone(datetime.timezone.utc), order)
    return tuple(sorted(found.items()))


def _culture_time(match: re.Match[str]) -> tuple[int, int, int, int] | None:
    """(hour, minute, second, microsecond), or None when the time is not valid."""
    hour_text = match.group("hour")
    if hour_text is None:
        return (0, 0, 0, 0)
    designator = match.group("designator")
    minute_text = match.group("minute")
    if minute_text is None and designator is None:
        return None  # "12/31/2026 23" is not a time
    hour, minute = int(hour_text), int(minute_text or 0)
    second = int(match.group("seconds") or 0)
    if designator is not None:
        if hour > 12:
            return None
        hour = hour % 12 + (12 if designator[0] in "Pp" else 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    return (hour, minute, second, _micro(match.group("fraction")))


def utc_today() -> datetime.date:
    return datetime.datetime.now(datetime.timezone.utc).date()
