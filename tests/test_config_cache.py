"""The validated-config cache: a hit skips pydantic and ruamel.yaml and gives the same config."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from exemptlint.config import load_config
from exemptlint.config_cache import cached_config, store_config
from exemptlint.rules import BUILTIN_RULES

CONFIG = """\
today: 2026-11-24
select: [EL00]
ignore: [EL009]
fail-on: warning
exclude: ["legacy/*"]
assignments:
  pr-mcsb: 1f3afdf9-d0c9-4c3d-847f-89da613e70a8
rules:
  EL004: {level: warning, max-days: 90, max-days-by-category: {Mitigated: 180}}
  EL006: {placeholders: [todo, tbd]}
  EL007: {allowed-levels: {"*": [resourceGroup]}}
"""


def test_round_trip_gives_the_same_config(tmp_path: Path) -> None:
    path = tmp_path / ".exemptlint.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    assert cached_config(path, BUILTIN_RULES) is None
    config = load_config(path, BUILTIN_RULES)
    store_config(path, config)
    assert cached_config(path, BUILTIN_RULES) == config


def test_a_changed_or_corrupt_entry_is_not_used(tmp_path: Path, private_cache: Path) -> None:
    path = tmp_path / ".exemptlint.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    store_config(path, load_config(path, BUILTIN_RULES))
    path.write_text(CONFIG.replace("90", "30"), encoding="utf-8")
    assert cached_config(path, BUILTIN_RULES) is None
    store_config(path, load_config(path, BUILTIN_RULES))
    assert cached_config(path, BUILTIN_RULES) is not None
    for item in private_cache.iterdir():
        item.write_text("{not json", encoding="utf-8")
    assert cached_config(path, BUILTIN_RULES) is None


def test_disabled_with_an_empty_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXEMPTLINT_CACHE_DIR", "")
    path = tmp_path / ".exemptlint.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    store_config(path, load_config(path, BUILTIN_RULES))
    assert cached_config(path, BUILTIN_RULES) is None


def test_a_cached_run_imports_neither_pydantic_nor_ruamel(tmp_path: Path, private_cache: Path) -> None:
    (tmp_path / ".exemptlint.yaml").write_text(CONFIG, encoding="utf-8")
    probe = (
        "import sys; from exemptlint.cli import main; code = main(['check', '.']); "
        "print(code, 'pydantic' in sys.modules, 'ruamel.yaml' in sys.modules)"
    )
    env = {**os.environ, "EXEMPTLINT_CACHE_DIR": str(private_cache)}
    first = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    second = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert first.stdout.split()[-3:] == ["0", "True", "True"], first.stderr
    assert second.stdout.split()[-3:] == ["0", "False", "False"], second.stderr
