"""Configuration: ``.exemptlint.yaml`` (found from the working directory upwards) or
``[tool.exemptlint]`` in ``pyproject.toml``, validated by pydantic.

pydantic and ruamel.yaml are imported only when a configuration file exists.
"""

from __future__ import annotations

import datetime
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

from exemptlint.engine import PathOverride
from exemptlint.model import Level
from exemptlint.rules.api import Rule

CONFIG_NAMES = (".exemptlint.yaml", ".exemptlint.yml")


class ConfigError(Exception):
    """A configuration problem; ``str()`` is the one-line message (file, line, what is wrong)."""


@dataclass(frozen=True)
class AzureSettings:
    """``azure:``: settings of the commands that read Azure (audit, check --online, catalog update)."""

    arm_endpoint: str | None = None
    timeout: float | None = None
    expiring_within: int | None = None
    # The metadata key that names an exemption's owner (the audit reports it).
    owner_key: str | None = None
    # How long assignments read by ``check --online`` stay in the on-disk cache.
    cache_hours: float = 24.0


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    today: datetime.date | None = None
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    fail_on: Level | None = None
    exclude: tuple[str, ...] = ()
    assignments: dict[str, str] = field(default_factory=dict)
    levels: dict[str, Level] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    # Custom rules: rule packs and rule folders, resolved relative to the config file.
    rule_packs: tuple[Path, ...] = ()
    rule_dirs: tuple[Path, ...] = ()
    # The rules the packs and folders define (loaded while validating the config).
    custom_rules: tuple[Rule, ...] = ()
    overrides: tuple[PathOverride, ...] = ()
    # ``epac: {date-order: ...}``: how EPAC culture dates are read ("month-first", "day-first";
    # None: both orders, see exemptlint/dates.py).
    epac_date_order: str | None = None
    # ``epac: {definitions: ...}``: EPAC definitions folders (resolved against the config file).
    epac_definitions: tuple[Path, ...] = ()
    # ``management-groups``: management group or subscription -> parent management group (None: a root).
    management_groups: dict[str, str | None] = field(default_factory=dict)
    azure: AzureSettings = field(default_factory=AzureSettings)
    # ``catalog: FILE``: a catalog file used instead of the packaged catalog (relative to the
    # config file).
    catalog: Path | None = None

    @property
    def uncacheable(self) -> bool:
        """Configs with custom rules or overrides depend on more than their own bytes."""
        return bool(self.rule_packs or self.rule_dirs or self.custom_rules or self.overrides)


def load_catalog_setting(path: Path) -> str | None:
    """Only the config's ``catalog`` (for ``exemptlint catalog``, which needs no rule settings):
    the file it names, relative to the config file; None when it names none."""
    raw, lines = _load_raw(path)
    value = raw.get("catalog")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        line = _line_of(lines, ["catalog"]) if lines is not None else 1
        raise ConfigError(f"{_shown(path)}:{line}:1: error: catalog: expected the path of a catalog file")
    return str(path.parent / value)


def find_config(start: Path) -> Path | None:
    """The nearest config file at or above ``start``."""
    for directory in (start, *start.parents):
        for name in CONFIG_NAMES:
            candidate = directory / name
            if candidate.is_file():
                return candidate
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file() and "[tool.exemptlint" in _read(pyproject):
            return pyproject
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def load_config(path: Path, rules: Sequence[Rule]) -> Config:
    raw, lines = _load_raw(path)
    return _validate(path, raw, lines, rules)


def _shown(path: Path) -> str:
    """The path for messages: relative to the working directory when below it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def _load_raw(file: Path) -> tuple[dict[str, Any], Any]:
    """The config mapping, and something that can tell the line of a key (YAML) or None."""
    path = _shown(file)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}:1:1: error: cannot read config: {error}") from None
    if file.suffix.lower() == ".toml":
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - Python 3.10
            import tomli as tomllib  # type: ignore[import-not-found]
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{path}:1:1: error: invalid TOML: {error}") from None
        # pyproject.toml keeps it under [tool.exemptlint]; a dedicated .toml file at top level.
        section = data.get("tool", {}).get("exemptlint", {}) if file.name == "pyproject.toml" else data
        if not isinstance(section, dict):
            raise ConfigError(f"{path}:1:1: error: [tool.exemptlint] must be a table")
        return section, None
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    yaml = YAML(typ="rt")  # round-trip loader: safe (no tags construct objects) and keeps line numbers
    try:
        data = yaml.load(text)
    except YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        column = mark.column + 1 if mark is not None else 1
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError(f"{path}:{line}:{column}: error: invalid YAML: {problem}") from None
    _reject_tags(data, path)
    if data is None:
        return {}, data
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1:1: error: the config must be a mapping of settings")
    return data, data


_STANDARD_TAGS = (
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:timestamp",
)


def _reject_tags(node: Any, path: str, line: int = 1) -> None:
    """Explicit tags (``!!python/object``, ``!custom``) have no meaning in a config: refuse them
    rather than keep a value the user did not mean (nothing is ever constructed from them)."""
    tag = getattr(getattr(node, "tag", None), "value", None)
    if tag is not None and tag not in _STANDARD_TAGS:
        raise ConfigError(f"{path}:{line}:1: error: YAML tag {tag!r} is not allowed in a config")
    if isinstance(node, dict):
        for key, value in node.items():
            try:
                key_line = node.lc.key(key)[0] + 1  # type: ignore[attr-defined]
            except (AttributeError, KeyError, TypeError):
                key_line = line
            _reject_tags(value, path, key_line)
    elif isinstance(node, list):
        for value in node:
            _reject_tags(value, path, line)


def _line_of(node: Any, loc: Sequence[Any]) -> int:
    """The 1-based line of the key at ``loc`` in a ruamel mapping, or 1."""
    line = 1
    for key in loc:
        lc = getattr(node, "lc", None)
        if lc is None:
            break
        try:
            if isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
                line = lc.item(key)[0] + 1  # an item of a list (an entry of overrides)
            elif isinstance(node, dict) and key in node:
                line = lc.key(key)[0] + 1
            else:
                break
        except (KeyError, TypeError, IndexError):
            break
        node = node[key]
    return line


def _item_line(node: Any, key: str, index: int) -> int:
    """The 1-based line of item ``index`` of the list under ``key`` in a ruamel mapping, or the
    key's line, or 1."""
    line = _line_of(node, [key]) if node is not None else 1
    items = node.get(key) if isinstance(node, dict) else None
    lc = getattr(items, "lc", None)
    if lc is not None and isinstance(items, list):
        try:
            return int(lc.item(index)[0]) + 1
        except (KeyError, TypeError, IndexError):
            pass
    return line


def _check_patterns(
    path: str, lines: Any, key: str, patterns: Sequence[str] | None, rules: Sequence[Rule], label: str = ""
) -> None:
    """``select``/``ignore`` entries must each match a rule (built-in or custom): a misspelt one
    would quietly run fewer rules than meant, and ``select: []`` none at all."""
    from exemptlint.rule_ids import matches_prefix, unknown_prefix_message

    if patterns is None:
        return
    if key == "select" and not patterns:
        line = _line_of(lines, [key]) if lines is not None else 1
        raise ConfigError(
            f"{path}:{line}:1: error: {label}select: no rule id given (an empty selection would run no rule)"
        )
    for index, pattern in enumerate(patterns):
        if not matches_prefix(pattern, rules):
            line = _item_line(lines, key, index)
            message = unknown_prefix_message(pattern, rules)
            raise ConfigError(f"{path}:{line}:1: error: {label}{key}[{index}]: {message}")


def _kebab_to_snake(mapping: dict[str, Any]) -> dict[str, Any]:
    return {str(k).replace("-", "_"): v for k, v in mapping.items()}


def _validate(file: Path, raw: dict[str, Any], lines: Any, rules: Sequence[Rule]) -> Config:
    path = _shown(file)
    from typing import Literal

    from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

    class EpacModel(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=False)
        date_order: Literal["month-first", "day-first"] | None = None
        definitions: str | list[str] = []

    class AzureModel(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=False)
        arm_endpoint: str | None = None
        timeout: float | None = Field(default=None, gt=0)
        expiring_within: int | None = Field(default=None, ge=0)
        owner_key: str | None = None
        cache_hours: float = Field(default=24.0, ge=0)

    class OverrideModel(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=False)
        files: list[str]
        select: list[str] | None = None
        ignore: list[str] | None = None
        rules: dict[str, dict[str, Any]] = {}

    class RootModel(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=False)
        today: datetime.date | None = None
        select: list[str] | None = None
        ignore: list[str] = []
        fail_on: Level | None = None
        exclude: list[str] = []
        assignments: dict[str, str] = {}
        rules: dict[str, dict[str, Any]] = {}
        rule_packs: list[str] = []
        rule_dirs: list[str] = []
        overrides: list[OverrideModel] = []
        epac: EpacModel = EpacModel()
        management_groups: dict[str, str | None] = {}
        azure: AzureModel = AzureModel()
        catalog: str | None = None

    def fail(error: ValidationError, prefix: tuple[Any, ...], kebab: bool = True) -> ConfigError:
        first = error.errors()[0]
        loc = [*prefix, *first["loc"]]
        shown = [str(p).replace("_", "-") if kebab and isinstance(p, str) else str(p) for p in loc]
        raw_loc = [str(p).replace("_", "-") if isinstance(p, str) else p for p in loc]
        line = _line_of(lines, raw_loc) if lines is not None else 1
        message = first["msg"]
        if first["type"] == "extra_forbidden":
            message = "unknown setting"
        return ConfigError(f"{path}:{line}:1: error: {'.'.join(shown) or 'config'}: {message}")

    settings = _kebab_to_snake(dict(raw))
    for section in ("epac", "azure"):
        if isinstance(settings.get(section), dict):
            settings[section] = _kebab_to_snake(settings[section])
    try:
        root = RootModel.model_validate(settings)
    except ValidationError as error:
        raise fail(error, ()) from None

    base = file.parent
    written = root.epac.definitions
    epac_definitions = tuple(base / p for p in ([written] if isinstance(written, str) else written))
    for index, folder in enumerate(epac_definitions):
        if not folder.is_dir():
            loc = ["epac", "definitions"] if isinstance(written, str) else ["epac", "definitions", index]
            line = _line_of(lines, loc[:2]) if lines is not None else 1
            where = ".".join(str(p) for p in loc)
            raise ConfigError(f"{path}:{line}:1: error: {where}: no such folder: {folder}")
    rule_packs = tuple(base / p for p in root.rule_packs)
    rule_dirs = tuple(base / p for p in root.rule_dirs)
    custom: list[Rule] = []
    if rule_dirs:
        from exemptlint.plugins import PluginError, rules_dir_rules

        try:
            custom.extend(rules_dir_rules(rule_dirs))
        except PluginError as error:
            raise ConfigError(str(error)) from None
    if rule_packs:
        from exemptlint.rulepacks import RulePackError, load_rule_packs

        try:
            custom.extend(load_rule_packs(rule_packs, taken=[r.id for r in (*rules, *custom)]))
        except RulePackError as error:
            raise ConfigError(str(error)) from None
    if custom:
        from exemptlint.plugins import PluginError, check_custom_ids

        try:
            check_custom_ids(custom, rules)
        except PluginError as error:
            raise ConfigError(str(error)) from None
    every_rule = (*rules, *custom)
    by_id = {rule.id.upper(): rule for rule in every_rule}
    _check_patterns(path, lines, "select", root.select, every_rule)
    _check_patterns(path, lines, "ignore", root.ignore, every_rule)

    def rule_settings(
        table: dict[str, dict[str, Any]], prefix: tuple[Any, ...], defaults: dict[str, dict[str, Any]]
    ) -> tuple[dict[str, Level], dict[str, Any]]:
        levels: dict[str, Level] = {}
        options: dict[str, Any] = {}
        for rule_id, settings in table.items():
            rule = by_id.get(rule_id.upper())
            if rule is None:
                from exemptlint.rule_ids import unknown_id_message

                line = _line_of(lines, [*prefix, rule_id]) if lines is not None else 1
                where = ".".join(str(p) for p in (*prefix, rule_id))
                message = unknown_id_message(rule_id, every_rule)
                raise ConfigError(f"{path}:{line}:1: error: {where}: {message}")
            settings = dict(settings)
            if "level" in settings:
                try:
                    levels[rule.id] = TypeAdapter(Level).validate_python(settings.pop("level"))
                except ValidationError as error:
                    raise fail(error, (*prefix, rule_id, "level")) from None
            if not settings:
                continue
            where = ".".join(str(p) for p in (*prefix, rule_id))
            if rule.options is None or not is_dataclass(rule.options):
                line = _line_of(lines, [*prefix, rule_id, next(iter(settings))]) if lines is not None else 1
                raise ConfigError(f"{path}:{line}:1: error: {where}: {rule.id} takes no options")
            known = {f.name for f in fields(rule.options)}
            snake = _kebab_to_snake(settings)
            for key in snake:
                if key not in known:
                    line = (
                        _line_of(lines, [*prefix, rule_id, key.replace("_", "-")]) if lines is not None else 1
                    )
                    allowed = ", ".join(sorted(k.replace("_", "-") for k in known))
                    option = key.replace("_", "-")
                    raise ConfigError(
                        f"{path}:{line}:1: error: {where}.{option}: unknown option (known: {allowed})"
                    )
            inherited = {
                k: v for k, v in _kebab_to_snake(dict(defaults.get(rule.id, {}))).items() if k != "level"
            }
            try:
                options[rule.id] = TypeAdapter(rule.options).validate_python({**inherited, **snake})
            except ValidationError as error:
                raise fail(error, (*prefix, rule_id)) from None
        return levels, options

    levels, options = rule_settings(root.rules, ("rules",), {})
    top = {}
    for rule_id, settings in root.rules.items():
        found = by_id.get(rule_id.upper())
        if found is not None:
            top[found.id] = settings
    overrides: list[PathOverride] = []
    for index, override in enumerate(root.overrides):
        # An override's select/ignore are checked as the top-level ones: a misspelt id fails open.
        node = lines.get("overrides") if isinstance(lines, dict) else None
        entry = node[index] if isinstance(node, list) and index < len(node) else None
        for key, patterns in (("select", override.select), ("ignore", override.ignore)):
            _check_patterns(path, entry, key, patterns, every_rule, f"overrides.{index}.")
        o_levels, o_options = rule_settings(override.rules, ("overrides", index, "rules"), top)
        overrides.append(
            PathOverride(
                files=tuple(override.files),
                levels=o_levels,
                options=o_options,
                select=tuple(override.select) if override.select is not None else None,
                ignore=tuple(override.ignore) if override.ignore is not None else None,
            )
        )
    return Config(
        path=file,
        today=root.today,
        select=tuple(root.select) if root.select is not None else None,
        ignore=tuple(root.ignore),
        fail_on=root.fail_on,
        exclude=tuple(root.exclude),
        assignments=dict(root.assignments),
        levels=levels,
        options=options,
        rule_packs=rule_packs,
        rule_dirs=rule_dirs,
        custom_rules=tuple(custom),
        overrides=tuple(overrides),
        epac_date_order=root.epac.date_order,
        epac_definitions=epac_definitions,
        management_groups=dict(root.management_groups),
        azure=AzureSettings(**root.azure.model_dump()),
        catalog=base / root.catalog if root.catalog else None,
    )
