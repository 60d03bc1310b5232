"""docs/audit.md shows the queries the code sends, word for word, and the screenshot it names exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from exemptlint.azure import graph

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "audit.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "query",
    [
        graph.EXEMPTIONS_QUERY,
        graph.ASSIGNMENTS_QUERY,
        graph.SET_DEFINITIONS_QUERY,
        graph.CONTAINERS_QUERY,
        graph.DEFENDER_QUERY,
    ],
)
def test_each_query_is_documented_exactly(query: str) -> None:
    assert f"```kusto\n{query}\n```" in DOC


def test_the_documented_request_matches_the_code() -> None:
    assert f"{graph.GRAPH_PATH}?api-version={graph.GRAPH_API_VERSION}" in DOC
    assert f'"$top": {graph.PAGE_SIZE}' in DOC


def test_the_screenshot_exists_and_is_small() -> None:
    image = ROOT / "docs" / "images" / "audit-report.png"
    assert "(images/audit-report.png)" in DOC
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert image.stat().st_size < 200_000
