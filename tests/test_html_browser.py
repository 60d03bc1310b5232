"""The HTML report opened in real headless Chromium (Debian's chromium and chromium-driver, driven by
Selenium with /usr/bin/chromedriver, so Selenium Manager downloads nothing).

The page must open without console errors and without any request to the network, and the
chart, the cards and the tables must show the fixture tenant's numbers; sorting must work.
Skipped only outside CI when Chromium is not installed (.ci/run installs it).
"""

from __future__ import annotations

import gc
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from exemptlint.audit import run as audit_run
from exemptlint.cli import main
from tests.audit_tenant import SUB_A, SUB_B, small_tenant
from tests.azure_fake import FakeAzure

CODE = Path(__file__).parent / "fixtures" / "audit" / "code"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",  # containers often have a small /dev/shm
    "--window-size=1400,1000",
)


def _have_browser() -> bool:
    return (
        os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER) and shutil.which("chromedriver") is not None
    )


if not _have_browser() and not os.environ.get("CI"):
    pytest.skip("chromium and chromium-driver are not installed (CI installs them)", allow_module_level=True)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
    gc.collect()


@pytest.fixture(scope="module")
def audit_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    directory = tmp_path_factory.mktemp("audit-page")
    fake = FakeAzure()
    fake.start()
    small_tenant(fake)
    saved = audit_run._SLEEP[:]
    audit_run._SLEEP[:] = [lambda seconds: None]
    previous = os.getcwd()
    os.environ["AZURE_ACCESS_TOKEN"] = "browser-test-token"
    try:
        os.chdir(directory)
        main(
            [
                "audit",
                "--arm-endpoint",
                fake.url,
                "--today",
                "2026-11-24",
                "--subscription",
                SUB_A,
                SUB_B,
                "--verify",
                "--code",
                str(CODE),
                "--format",
                "html",
                "--output",
                "audit.html",
                "--output",
                "json=audit.json",
            ]
        )
    finally:
        os.chdir(previous)
        os.environ.pop("AZURE_ACCESS_TOKEN", None)
        audit_run._SLEEP[:] = saved
        fake.stop()
    yield directory / "audit.html", json.loads((directory / "audit.json").read_text())


def _network_requests(driver: Any) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def test_audit_page_renders_the_fixture_numbers(
    browser: Any, audit_page: tuple[Path, dict[str, Any]]
) -> None:
    from selenium.webdriver.common.by import By

    page, document = audit_page
    browser.get_log("browser")
    browser.get_log("performance")
    browser.get(page.as_uri())
    errors = [entry for entry in browser.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]
    assert errors == []
    # Nothing but the page itself was requested.
    assert [
        url for url in _network_requests(browser) if url.split(":")[0] in ("http", "https", "ws", "wss")
    ] == []

    summary = document["audit"]["summary"]
    cards = {
        card.get_attribute("data-key"): int(card.get_attribute("data-count"))
        for card in browser.find_elements(By.CSS_SELECTOR, "#summary .card")
    }
    assert cards["deployed"] == summary["deployed"] == 5
    assert cards["expired"] == summary["byStatus"]["expired"] == 1
    assert cards["stale"] == 1
    assert cards["not-deployed"] == 1
    assert cards["defender-unmatched"] == 1
    # The chart: one bar per timeline entry, with the fixture's counts, drawn with a height.
    bars = browser.find_elements(By.CSS_SELECTOR, "#timeline-chart g.bar")
    drawn = {bar.get_attribute("data-label"): int(bar.get_attribute("data-count")) for bar in bars}
    assert drawn == {entry["label"]: entry["count"] for entry in document["audit"]["timeline"]}
    assert (
        drawn["expired"] == 1 and drawn["2026-12"] == 1 and drawn["2027-03"] == 2 and drawn["no expiry"] == 1
    )
    expired_bar = next(bar for bar in bars if bar.get_attribute("data-label") == "expired")
    assert expired_bar.find_element(By.TAG_NAME, "rect").size["height"] > 10
    chart = browser.find_element(By.ID, "timeline-chart")
    assert chart.is_displayed() and chart.size["width"] >= 700

    rows = browser.find_elements(By.CSS_SELECTOR, "#exemptions-table tbody tr")
    assert len(rows) == len(document["audit"]["exemptions"]) == 6
    findings = browser.find_elements(By.CSS_SELECTOR, "#findings-table tbody tr")
    assert len(findings) == len([f for f in document["findings"] if f["suppression"] is None])
    link = browser.find_element(By.CSS_SELECTOR, "#exemptions-table tbody tr a")
    assert link.get_attribute("href").startswith("https://portal.azure.com/#resource/subscriptions/")
    drift = browser.find_elements(By.CSS_SELECTOR, "#differences-table tbody tr")
    assert [[c.text for c in r.find_elements(By.TAG_NAME, "td")][:2] for r in drift] == [
        ["tls-legacy", "expiresOn"]
    ]


def test_audit_tables_sort_and_filter(browser: Any, audit_page: tuple[Path, dict[str, Any]]) -> None:
    from selenium.webdriver.common.by import By

    page, _ = audit_page
    browser.get(page.as_uri())
    headers = browser.find_elements(By.CSS_SELECTOR, "#exemptions-table thead th")
    days = next(h for h in headers if h.text.startswith("Days left"))
    index = headers.index(days)

    def column() -> list[str]:
        return [
            row.find_elements(By.TAG_NAME, "td")[index].get_attribute("data-sort")
            for row in browser.find_elements(By.CSS_SELECTOR, "#exemptions-table tbody tr")
        ]

    days.click()
    ascending = [float(v) for v in column()]
    assert ascending == sorted(ascending) and ascending[0] == -24
    assert days.get_attribute("aria-sort") == "ascending"
    days.click()
    assert [float(v) for v in column()] == sorted(ascending, reverse=True)
    names = [
        row.find_element(By.TAG_NAME, "a").text
        for row in browser.find_elements(By.CSS_SELECTOR, "#exemptions-table tbody tr")
    ]
    headers[0].click()
    assert [
        row.find_element(By.TAG_NAME, "a").text
        for row in browser.find_elements(By.CSS_SELECTOR, "#exemptions-table tbody tr")
    ] == sorted(names, key=str.lower)
    search = browser.find_element(By.CSS_SELECTOR, "input[data-filter=exemptions-table]")
    search.send_keys("orphan")
    visible = [
        r for r in browser.find_elements(By.CSS_SELECTOR, "#exemptions-table tbody tr") if r.is_displayed()
    ]
    assert [r.find_element(By.TAG_NAME, "a").text for r in visible] == ["orphan"]
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []


def test_check_page_renders(browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from selenium.webdriver.common.by import By

    monkeypatch.chdir(tmp_path)
    examples = Path(__file__).resolve().parents[1] / "examples"
    main(
        [
            "check",
            str(examples),
            "--today",
            "2026-11-24",
            "--format",
            "html",
            "--output",
            "check.html",
            "--output",
            "json=check.json",
        ]
    )
    document = json.loads((tmp_path / "check.json").read_text())
    browser.get((tmp_path / "check.html").as_uri())
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    cards = {
        card.get_attribute("data-key"): int(card.get_attribute("data-count"))
        for card in browser.find_elements(By.CSS_SELECTOR, "#summary .card")
    }
    assert cards["error"] == document["summary"]["findings"]["error"]
    assert cards["exemptions"] == document["summary"]["exemptions"]
    bars = browser.find_elements(By.CSS_SELECTOR, "#timeline-chart g.bar")
    assert sum(int(b.get_attribute("data-count")) for b in bars) == document["summary"]["exemptions"]
    rows = browser.find_elements(By.CSS_SELECTOR, "#findings-table tbody tr")
    assert len(rows) == sum(document["summary"]["findings"].values())
