"""Test-wide settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Tests never read or write the user's cache (~/.cache/exemptlint)."""
    directory = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("EXEMPTLINT_CACHE_DIR", str(directory))
    yield directory
