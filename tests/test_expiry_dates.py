"""Expiry dates as the deploying tool reads them (issue 12, classes 1 and 2).

Date-only and zone-less values are read as UTC by the Azure API and EPAC (no finding unless EL004's
``require-time-zone``), but make a Terraform apply fail (EL004 error). EPAC also reads the culture
dates of its exports; an ambiguous one is a warning and the earlier reading is checked. Fixtures are
in tests/fixtures/dates; "today" is pinned. Findings are asserted through the engine and the JSON
report, never the text output.
"""

from __future__ import annotations

import datetime
import json
from collections import Counter
from pathlib import Path

import pytest

from exemptlint.cli import main
from exemptlint.dates import DAY_FIRST, MONTH_FIRST, read_expiry, reader_of
from exemptlint.engine import LintSettings, lint
from exemptlint.loaders import LoadOptions, load_file
from exemptlint.loaders.epac import CSV_FORMAT, JSON_FORMAT
from exemptlint.model import Finding
from exemptlint.rules import BUILTIN_RULES
from exemptlint.rules.api import RuleContext
from exemptlint.rules.el004_expiry_bounded import Options as ExpiryBoundedOptions
from exemptlint.rules.view import exemption_view

FIXTURES = Path(__file__).parent / "fixtures" / "dates"
TODAY = datetime.date(2026, 11, 24)
STRICT = {"EL004": ExpiryBoundedOptions(require_time_zone=True)}

Located = list[tuple[str, str, int, int]]


def run(name: str, **settings: object) -> list[Finding]:
    result = load_file(FIXTURES / name, LoadOptions(today=TODAY), display=name)
    assert result.errors == []
    assert result.exemptions, f"{name} holds no exemption"
    # Each fixture repeats one exemption with different dates: EL015 (duplicates) is not the subject.
    ignore = {"ignore": ("EL015",)}
    return lint(result.exemptions, result.assignments, LintSettings(today=TODAY, **ignore, **settings), BUILTIN_RULES)  # type: ignore[arg-type]


def dates(findings: list[Finding]) -> Located:
    """EL004 and EL005 findings: the fixtures are clean for every other rule."""
    return [(f.rule_id, f.level.value, f.line, f.column) for f in findings if f.rule_id in ("EL004", "EL005")]


def test_fixtures_hold_no_other_finding() -> None:
    names = ("raw.json", "template.json", "exemption.bicep", "exemptions.yaml", "epac-exemptions.jsonc")
    for name in (*names, "epac-exemptions.csv", "terraform/main.tf", "terraform/plan.json"):
        assert [f for f in run(name) if f.rule_id not in ("EL004", "EL005")] == [], name


# --- class 1: date-only and zone-less values ------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "strict"),
    [
        # date-only, then zone-less (a parameter default in ARM and Bicep)
        ("raw.json", [("EL004", "warning", 8, 7), ("EL004", "warning", 19, 7)]),
        ("template.json", [("EL004", "warning", 19, 9), ("EL004", "warning", 32, 9)]),
        ("exemption.bicep", [("EL004", "warning", 11, 5), ("EL004", "warning", 23, 5)]),
        ("exemptions.yaml", [("EL004", "warning", 7, 5), ("EL004", "warning", 15, 5)]),
        # EPAC: the culture dates (lines 29 to 59; rows 4 to 7) have no zone either.
        ("epac-exemptions.jsonc", [("EL004", "warning", line, 7) for line in (9, 19, 29, 39, 49, 59)]),
        (
            "epac-exemptions.csv",
            [
                ("EL004", "warning", *at)
                for at in ((2, 116), (3, 114), (4, 118), (5, 116), (6, 124), (7, 120))
            ],
        ),
    ],
)
def test_date_only_and_zoneless_are_read_as_utc(fixture: str, strict: Located) -> None:
    default = dates(run(fixture))
    # The date-only and zone-less values (the first two) have no finding by default.
    assert [f for f in default if f[2] in {line for _, _, line, _ in strict[:2]}] == []
    with_option = Counter(dates(run(fixture, options=STRICT)))
    # The option adds one warning per value without a zone and changes nothing else.
    assert sorted((with_option - Counter(default)).elements()) == sorted(strict)
    assert Counter(default) - with_option == Counter()


def test_require_time_zone_message_and_level() -> None:
    date_only, zoneless = [f for f in run("raw.json", options=STRICT) if f.level.value == "warning"]
    assert date_only.message.startswith("expiresOn '2027-02-15' has no time or time zone (it is read as UTC)")
    assert zoneless.message.startswith("expiresOn '2027-02-15T10:00:00' has no time zone")
    assert "require-time-zone" in zoneless.message


def test_raw_json_never_reads_culture_dates() -> None:
    (finding,) = [f for f in run("raw.json") if f.rule_id == "EL004"]
    assert (finding.rule_id, finding.level.value, finding.line, finding.column) == ("EL004", "error", 30, 7)
    assert "is not an ISO 8601 date-time" in finding.message


def test_terraform_needs_rfc3339() -> None:
    findings = run("terraform/main.tf")
    assert dates(findings) == [
        ("EL004", "error", 7, 3),  # 2027-02-15
        ("EL004", "error", 18, 3),  # 2027-02-15T10:00:00
        # 29: 2027-02-15T10:00:00Z passes
        ("EL004", "error", 40, 3),  # 2027-02-15T10:00Z: no seconds
        ("EL004", "error", 51, 3),  # 2028-02-15: not RFC 3339 ...
        ("EL004", "error", 51, 3),  # ... and too far ahead, as read (UTC)
        ("EL004", "error", 62, 3),  # 2026-01-01: not RFC 3339 ...
        ("EL005", "error", 62, 3),  # ... and expired, as read
        ("EL004", "error", 73, 3),  # a culture date: no reading at all
    ]
    by_line = {f.line: f.message for f in findings if f.rule_id == "EL004"}
    assert by_line[7].startswith("expiresOn '2027-02-15' has no time or time zone: the azurerm provider")
    assert "terraform apply would fail" in by_line[7]
    assert by_line[18].startswith("expiresOn '2027-02-15T10:00:00' has no time zone:")
    assert "is not RFC 3339" in by_line[40]
    assert "is not an RFC 3339 date-time" in by_line[73]
    bound = [f for f in findings if f.line == 51 and "days after today" in f.message]
    assert bound and bound[0].message.startswith("expiresOn 2028-02-15 is 448 days after today")


def test_terraform_stays_an_error_with_require_time_zone() -> None:
    assert dates(run("terraform/main.tf", options=STRICT)) == dates(run("terraform/main.tf"))


def test_terraform_plan_needs_rfc3339() -> None:
    findings = run("terraform/plan.json")
    # 2027-02-15 fails; 2027-02-15t10:00:00.5+01:00 is RFC 3339 once upper-cased, as the provider does.
    assert dates(findings) == [("EL004", "error", 17, 13)]
    assert "terraform apply would fail" in findings[0].message


# --- class 2: EPAC culture dates ------------------------------------------------------------------

# Lines and columns of the expiresOn of each entry, per EPAC form.
EPAC_AT = {
    "epac-exemptions.jsonc": {
        "month-first": (29, 7),
        "day-first": (39, 7),
        "ambiguous-expired": (49, 7),
        "ambiguous-far": (59, 7),
        "no-reading": (69, 7),
    },
    "epac-exemptions.csv": {
        "month-first": (4, 118),
        "day-first": (5, 116),
        "ambiguous-expired": (6, 124),
        "ambiguous-far": (7, 120),
        "no-reading": (8, 117),
    },
}
EPAC_FIXTURES = sorted(EPAC_AT)


@pytest.mark.parametrize("fixture", EPAC_FIXTURES)
def test_epac_culture_dates_without_date_order(fixture: str) -> None:
    at = EPAC_AT[fixture]
    assert dates(run(fixture)) == [
        # 12/1/2026 10:00: Jan 12 (day first) or Dec 1 (month first); the earlier has expired.
        ("EL004", "warning", *at["ambiguous-expired"]),
        ("EL005", "error", *at["ambiguous-expired"]),
        # 1/12/2027 5:00: Jan 12 or Dec 1 2027; the earlier is within the 365 days.
        ("EL004", "warning", *at["ambiguous-far"]),
        # 13/13/2026: no reading at all.
        ("EL004", "error", *at["no-reading"]),
    ]


@pytest.mark.parametrize("fixture", EPAC_FIXTURES)
def test_ambiguous_warning_names_both_readings(fixture: str) -> None:
    findings = run(fixture)
    line = EPAC_AT[fixture]["ambiguous-expired"][0]
    warning, expired = [f for f in findings if f.line == line]
    assert warning.message.startswith(
        "expiresOn '12/1/2026 10:00' reads as 2026-01-12T10:00:00Z (day-first) or "
        "2026-12-01T10:00:00Z (month-first)"
    )
    assert "the expiry checks use the earlier, 2026-01-12" in warning.message
    assert expired.message.startswith(
        "exemption 'epac-ambiguous-expired' expired on 2026-01-12 (316 days ago; "
        "the earlier reading of '12/1/2026 10:00')"
    )
    (unreadable,) = [f for f in findings if f.line == EPAC_AT[fixture]["no-reading"][0]]
    assert "EPAC cannot read it" in unreadable.message


@pytest.mark.parametrize("fixture", EPAC_FIXTURES)
def test_epac_date_order_month_first(fixture: str) -> None:
    at = EPAC_AT[fixture]
    assert dates(run(fixture, epac_date_order=MONTH_FIRST)) == [
        # 19/06/2027 has no month-first reading: a month-first machine cannot read it.
        ("EL004", "error", *at["day-first"]),
        # 12/1/2026 is Dec 1: seven days left.
        ("EL005", "warning", *at["ambiguous-expired"]),
        ("EL004", "error", *at["no-reading"]),
    ]


@pytest.mark.parametrize("fixture", EPAC_FIXTURES)
def test_epac_date_order_day_first(fixture: str) -> None:
    at = EPAC_AT[fixture]
    findings = run(fixture, epac_date_order=DAY_FIRST)
    assert dates(findings) == [
        # 12/31/2026 has no day-first reading: a day-first machine cannot read it.
        ("EL004", "error", *at["month-first"]),
        ("EL005", "error", *at["ambiguous-expired"]),  # Jan 12 2026
        ("EL004", "error", *at["ambiguous-far"]),  # Dec 1 2027: 372 days ahead
        ("EL004", "error", *at["no-reading"]),
    ]
    bound = [f for f in findings if f.line == at["ambiguous-far"][0]]
    assert bound[0].message.startswith("expiresOn 2027-12-01 is 372 days after today")
    unreadable = next(f for f in findings if f.line == at["no-reading"][0])
    assert "(config epac.date-order)" in unreadable.message


def test_month_first_error_names_the_configured_order() -> None:
    findings = run("epac-exemptions.csv", epac_date_order=MONTH_FIRST)
    (finding,) = [f for f in findings if f.line == 5]
    assert finding.message.startswith(
        "expiresOn '19/06/2027 2:00:00 PM' is not a valid month-first date or time (config epac.date-order)"
    )


@pytest.mark.parametrize(
    ("text", "order", "readings"),
    [
        ("12/31/2026 11:59:00 PM", None, [("2026-12-31T23:59:00", "month-first")]),
        ("19/06/2025 2:00:00 PM", None, [("2025-06-19T14:00:00", "day-first")]),
        (
            "6/1/2024 5:00",
            None,
            [("2024-01-06T05:00:00", "day-first"), ("2024-06-01T05:00:00", "month-first")],
        ),
        ("6/1/2024 5:00", "month-first", [("2024-06-01T05:00:00", "month-first")]),
        ("6/1/2024 5:00", "day-first", [("2024-01-06T05:00:00", "day-first")]),
        ("6/6/2024", None, [("2024-06-06T00:00:00", "month-first")]),  # one reading both ways
        ("12/31/2026 12:00:00 AM", None, [("2026-12-31T00:00:00", "month-first")]),
        ("12/31/2026 12:30 pm", None, [("2026-12-31T12:30:00", "month-first")]),
        ("31.12.2026 23:59:00", None, [("2026-12-31T23:59:00", "day-first")]),
        ("12/31/2026 11:59:00 PM +02:00", None, [("2026-12-31T21:59:00", "month-first")]),
        ("12/31/26", None, [("2026-12-31T00:00:00", "month-first")]),  # .NET: 00-49 is 20xx
        ("  12/31/2026 23:59  ", None, [("2026-12-31T23:59:00", "month-first")]),
        ("2027-02-15", None, [("2027-02-15T00:00:00", None)]),
        # The year first: year, month, day whatever the order of the culture.
        ("2027/2/15 10:00 PM", None, [("2027-02-15T22:00:00", "month-first")]),
        ("2027-2-5", "day-first", [("2027-02-05T00:00:00", "month-first")]),
        ("2027/13/01", None, []),
        ("13/13/2026", None, []),
        ("12/31/2026 13:00 PM", None, []),  # a 12-hour clock stops at 12
        ("12/31/2026 24:00", None, []),
        ("12/31/2026 23", None, []),  # an hour alone needs AM/PM
        ("12/31-2026", None, []),  # one separator throughout
        ("2/30/2026", None, []),
        ("Dec 31 2026", None, []),
    ],
)
def test_epac_readings(text: str, order: str | None, readings: list[tuple[str, str | None]]) -> None:
    expiry = read_expiry(text, "epac-csv", order)
    shown = [(moment.strftime("%Y-%m-%dT%H:%M:%S"), how) for moment, how in expiry.readings]
    assert shown == readings
    assert all(moment.tzinfo == datetime.timezone.utc for moment, _ in expiry.readings)


def test_culture_dates_are_epac_only() -> None:
    for fmt in ("raw", "arm", "bicep", "yaml", "rest-example", "terraform", "terraform-plan"):
        assert read_expiry("12/31/2026 11:59:00 PM", fmt).readings == (), fmt
    for fmt in (JSON_FORMAT, CSV_FORMAT):
        assert read_expiry("12/31/2026 11:59:00 PM", fmt).readings != (), fmt
    # The date order applies to EPAC sources only.
    assert read_expiry("2027-02-15", "raw", "day-first").readings == read_expiry("2027-02-15", "raw").readings


def test_readers_by_source_format() -> None:
    assert [reader_of(f) for f in ("raw", "arm", "bicep", "yaml", "rest-example")] == ["azure"] * 5
    assert [reader_of(f) for f in (JSON_FORMAT, CSV_FORMAT)] == ["epac", "epac"]
    assert [reader_of(f) for f in ("terraform", "terraform-plan")] == ["terraform", "terraform"]


@pytest.mark.parametrize(
    ("text", "rfc3339"),
    [
        ("2027-02-15T10:00:00Z", True),
        ("2027-02-15T10:00:00.1234567+02:00", True),
        ("2027-02-15t10:00:00z", True),
        ("2027-02-15", False),
        ("2027-02-15T10:00:00", False),
        ("2027-02-15T10:00Z", False),
        ("2027-02-15 10:00:00Z", False),
        ("2027-02-15T10:00:00+0200", False),
        (" 2027-02-15T10:00:00Z", False),
    ],
)
def test_rfc3339_as_the_azurerm_provider_parses_it(text: str, rfc3339: bool) -> None:
    expiry = read_expiry(text, "terraform")
    assert expiry.rfc3339 is rfc3339
    assert expiry.moment is not None


@pytest.mark.parametrize(
    ("order", "days"),
    # Rows 4 to 7: 12/31/2026 11:59 PM, 19/06/2027 2:00 PM, 12/1/2026 10:00, 1/12/2027 5:00.
    [(None, [37, 207, -316, 49]), (MONTH_FIRST, [37, None, 7, 49]), (DAY_FIRST, [None, 207, -316, 372])],
)
def test_rule_pack_view_reads_dates_as_el004(order: str | None, days: list[int | None]) -> None:
    result = load_file(FIXTURES / "epac-exemptions.csv", LoadOptions(today=TODAY))
    context = RuleContext(today=TODAY, epac_date_order=order)
    views = [exemption_view(exemption, context) for exemption in result.exemptions[2:6]]
    assert [view.get("expiresInDays") for view in views] == days


# --- config, end to end through the JSON report ---------------------------------------------------


def _json_findings(tmp_path: Path, config: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, Located]:
    (tmp_path / ".exemptlint.yaml").write_text(config, encoding="utf-8")
    target = tmp_path / "active-exemptions.csv"
    target.write_bytes((FIXTURES / "epac-exemptions.csv").read_bytes())
    code = main(["check", str(target), "--config", str(tmp_path / ".exemptlint.yaml"), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    found = [(f["ruleId"], f["level"], f["line"], f["column"]) for f in report["findings"]]
    return code, [f for f in found if f[0] in ("EL004", "EL005")]


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            "today: 2026-11-24\n",
            [
                ("EL004", "warning", 6, 124),
                ("EL005", "error", 6, 124),
                ("EL004", "warning", 7, 120),
                ("EL004", "error", 8, 117),
            ],
        ),
        (
            "today: 2026-11-24\nepac:\n  date-order: month-first\n",
            [("EL004", "error", 5, 116), ("EL005", "warning", 6, 124), ("EL004", "error", 8, 117)],
        ),
        (
            "today: 2026-11-24\nepac: {date-order: day-first}\n",
            [
                ("EL004", "error", 4, 118),
                ("EL005", "error", 6, 124),
                ("EL004", "error", 7, 120),
                ("EL004", "error", 8, 117),
            ],
        ),
        (
            "today: 2026-11-24\nrules:\n  EL004: {require-time-zone: true}\nepac: {date-order: day-first}\n",
            [
                ("EL004", "warning", 2, 116),
                ("EL004", "warning", 3, 114),
                ("EL004", "error", 4, 118),
                ("EL004", "warning", 5, 116),
                ("EL005", "error", 6, 124),
                ("EL004", "warning", 6, 124),
                ("EL004", "warning", 7, 120),
                ("EL004", "error", 7, 120),
                ("EL004", "error", 8, 117),
            ],
        ),
    ],
    ids=["no-order", "month-first", "day-first", "require-time-zone"],
)
def test_config_end_to_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], config: str, expected: Located
) -> None:
    code, found = _json_findings(tmp_path, config, capsys)
    assert code == 1
    assert sorted(found) == sorted(expected)


def test_date_order_from_pyproject(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.exemptlint]\ntoday = 2026-11-24\n\n[tool.exemptlint.epac]\ndate-order = "month-first"\n',
        encoding="utf-8",
    )
    target = tmp_path / "active-exemptions.csv"
    target.write_bytes((FIXTURES / "epac-exemptions.csv").read_bytes())
    main(["check", str(target), "--config", str(tmp_path / "pyproject.toml"), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert ("EL004", "error", 5) in [(f["ruleId"], f["level"], f["line"]) for f in report["findings"]]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            "epac:\n  date-order: middle-first\n",
            ".exemptlint.yaml:2:1: error: epac.date-order: Input should be 'month-first' or 'day-first'",
        ),
        ("epac:\n  order: day-first\n", ".exemptlint.yaml:2:1: error: epac.order: unknown setting"),
        ("epac: day-first\n", ".exemptlint.yaml:1:1: error: epac: Input should be"),
        (
            "rules:\n  EL004: {require-time-zone: maybe}\n",
            ".exemptlint.yaml:2:1: error: rules.EL004.require-time-zone: Input should be a valid boolean",
        ),
    ],
)
def test_config_errors(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    config: str,
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".exemptlint.yaml").write_text(config, encoding="utf-8")
    assert main(["check", "."]) == 2
    assert capsys.readouterr().err.startswith(message)


def test_config_cache_keeps_the_date_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = "today: 2026-11-24\nepac: {date-order: month-first}\n"
    first = _json_findings(tmp_path, config, capsys)
    second = _json_findings(tmp_path, config, capsys)  # from the validated-config cache
    assert first == second
    assert ("EL004", "error", 5, 116) in second[1]


@pytest.mark.skipif(
    "fork" not in __import__("multiprocessing").get_all_start_methods(), reason="workers need fork"
)
def test_date_order_reaches_worker_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("epac-exemptions.csv", "epac-exemptions.jsonc"):
        (tmp_path / name).write_bytes((FIXTURES / name).read_bytes())
    (tmp_path / ".exemptlint.yaml").write_text(
        "today: 2026-11-24\nepac: {date-order: day-first}\n", encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    reports = []
    for jobs in ("1", "2"):
        assert main(["check", ".", "--format", "json", "--jobs", jobs]) == 1
        reports.append(capsys.readouterr().out)
    assert reports[0] == reports[1]
    found = [(f["file"], f["ruleId"], f["line"]) for f in json.loads(reports[1])["findings"]]
    # Read day first: 1/12/2027 is 1 December 2027, past the 365 days.
    assert ("epac-exemptions.csv", "EL004", 7) in found
    assert ("epac-exemptions.jsonc", "EL004", 59) in found
