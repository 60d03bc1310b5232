"""A cache of validated configurations, so that a pre-commit run with an unchanged config does
not import pydantic and ruamel.yaml (about 80 ms, half of a one-file run's budget).

The cache key is the config file's bytes, its path and the exemptlint version: any change means a
full validation. A config that names rule packs or rule folders (or has per-path overrides)
depends on other files' contents and is never cached; nor is any run with plugin rules (entry
points or ``--rules-dir``), whose option models the cache cannot know.

The cache lives in ``$EXEMPTLINT_CACHE_DIR``, else ``$XDG_CACHE_HOME/exemptlint``,
else ``~/.cache/exemptlint``; ``EXEMPTLINT_CACHE_DIR=""`` turns it off. It is never required: an
unreadable, corrupt or unwritable cache only means the slow path.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from exemptlint import __version__
from exemptlint.config import AzureSettings, Config
from exemptlint.model import Level
from exemptlint.rules.api import Rule

# 2: EPAC date order and EL004's require-time-zone are part of the settings.
# 3: select/ignore entries are checked against the rules; configs cached before are validated again.
# 4: EPAC definitions folders and the management-group hierarchy are part of the settings.
# 5: the azure section (audit, check --online, catalog update) is part of the settings.
# 6: the catalog file (--catalog, config catalog) is part of the settings.
CACHE_FORMAT = 6


def cache_directory() -> Path | None:
    explicit = os.environ.get("EXEMPTLINT_CACHE_DIR")
    if explicit is not None:
        return Path(explicit) if explicit else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "exemptlint"


def _key(path: Path, data: bytes) -> str:
    digest = hashlib.sha256()
    for part in (str(CACHE_FORMAT), __version__, str(path.resolve())):
        digest.update(part.encode("utf-8") + b"\0")
    digest.update(data)
    return digest.hexdigest()[:40]


def cached_config(path: Path, rules: Sequence[Rule]) -> Config | None:
    """The validated config from the cache, or None (not cached, or the cache is unusable)."""
    directory = cache_directory()
    if directory is None:
        return None
    try:
        entry = directory / f"config-{_key(path, path.read_bytes())}.json"
        document = json.loads(entry.read_text(encoding="utf-8"))
        return _from_json(document, path, rules)
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def store_config(path: Path, config: Config) -> None:
    directory = cache_directory()
    if directory is None or config.uncacheable:
        # Rule packs, rule folders and overrides depend on other files: always validated afresh.
        return
    try:
        entry = directory / f"config-{_key(path, path.read_bytes())}.json"
        directory.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".config-", dir=directory)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(_to_json(config), stream)
        os.replace(temporary, entry)
    except OSError:
        return


def _to_json(config: Config) -> dict[str, Any]:
    return {
        "today": config.today.isoformat() if config.today else None,
        "select": list(config.select) if config.select is not None else None,
        "ignore": list(config.ignore),
        "fail_on": config.fail_on.value if config.fail_on else None,
        "exclude": list(config.exclude),
        "assignments": dict(config.assignments),
        "levels": {rule_id: level.value for rule_id, level in config.levels.items()},
        "options": {rule_id: dataclasses.asdict(options) for rule_id, options in config.options.items()},
        "epac_date_order": config.epac_date_order,
        "epac_definitions": [str(folder) for folder in config.epac_definitions],
        "management_groups": dict(config.management_groups),
        "azure": dataclasses.asdict(config.azure),
        "catalog": str(config.catalog) if config.catalog is not None else None,
    }


def _from_json(document: dict[str, Any], path: Path, rules: Sequence[Rule]) -> Config:
    by_id = {rule.id: rule for rule in rules}
    options: dict[str, Any] = {}
    for rule_id, values in document["options"].items():
        options_type = by_id[rule_id].options
        if options_type is None:
            raise KeyError(rule_id)
        fields = {f.name: f for f in dataclasses.fields(options_type)}
        converted = {name: _like_default(fields[name], value) for name, value in values.items()}
        options[rule_id] = options_type(**converted)
    today = document["today"]
    return Config(
        path=path,
        today=datetime.date.fromisoformat(today) if today else None,
        select=tuple(document["select"]) if document["select"] is not None else None,
        ignore=tuple(document["ignore"]),
        fail_on=Level(document["fail_on"]) if document["fail_on"] else None,
        exclude=tuple(document["exclude"]),
        assignments=dict(document["assignments"]),
        levels={rule_id: Level(level) for rule_id, level in document["levels"].items()},
        options=options,
        epac_date_order=document["epac_date_order"],
        epac_definitions=tuple(Path(folder) for folder in document["epac_definitions"]),
        management_groups=dict(document["management_groups"]),
        azure=AzureSettings(**document["azure"]),
        catalog=Path(document["catalog"]) if document["catalog"] else None,
    )


def _like_default(field: dataclasses.Field[Any], value: Any) -> Any:
    """JSON has no tuples: give a tuple-valued option its tuple back."""
    default = field.default
    if default is dataclasses.MISSING and field.default_factory is not dataclasses.MISSING:
        default = field.default_factory()
    return tuple(value) if isinstance(default, tuple) and isinstance(value, list) else value
