"""Python rule plugins: the ``exemptlint.rules`` entry-point group and ``--rules-dir`` folders.

An entry point loads a :class:`Rule` or a list of rules. A rules folder holds ``.py`` files, each
with a module-level ``RULE`` or ``RULES``. Problems are :class:`PluginError` (``file:line:1: error: ...``).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from exemptlint.rules.api import Rule

ENTRY_POINT_GROUP = "exemptlint.rules"


class PluginError(Exception):
    """A plugin that cannot be loaded; ``str()`` is the one-line message."""


def _as_rules(value: Any, where: str) -> list[Rule]:
    if isinstance(value, Rule):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(item, Rule) for item in value):
        return list(value)
    raise PluginError(f"{where}: error: expected a Rule or a list of rules, got {type(value).__name__}")


def _any_declared() -> bool:
    """Whether any distribution on ``sys.path`` may declare the entry-point group: a quick scan of
    ``*.dist-info/entry_points.txt`` files, so runs without plugins skip importlib.metadata (which
    costs about 25 ms, a third of a one-file run)."""
    import os

    marker = f"[{ENTRY_POINT_GROUP}]"
    for entry in sys.path:
        try:
            with os.scandir(entry or ".") as listing:
                names = [e.name for e in listing if e.name.endswith((".dist-info", ".egg-info"))]
        except OSError:
            continue  # a zip file, or a path that does not exist: let importlib.metadata decide
        for name in names:
            try:
                with open(os.path.join(entry or ".", name, "entry_points.txt"), encoding="utf-8") as stream:
                    if marker in stream.read():
                        return True
            except (OSError, UnicodeDecodeError):
                continue
    return any(entry.endswith((".zip", ".egg", ".whl")) and os.path.isfile(entry) for entry in sys.path)


def entry_point_rules() -> list[Rule]:
    """The rules of every installed package that declares the ``exemptlint.rules`` entry point."""
    if not _any_declared():
        return []
    from importlib.metadata import entry_points

    rules: list[Rule] = []
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        where = f"entry point {entry.name} = {entry.value}:1:1"
        try:
            loaded = entry.load()
        except Exception as error:
            raise PluginError(f"{where}: error: cannot load: {error!r}") from None
        origin = f"entry point {entry.name} ({entry.value})"
        rules.extend(dataclasses.replace(rule, origin=origin) for rule in _as_rules(loaded, where))
    return rules


def rules_dir_rules(directories: Sequence[Path]) -> list[Rule]:
    """The ``RULE``/``RULES`` of every ``.py`` file in the folders (not recursive, sorted by name)."""
    rules: list[Rule] = []
    for directory in directories:
        if not directory.is_dir():
            raise PluginError(f"{directory}:1:1: error: rules directory not found")
        for file in sorted(directory.glob("*.py")):
            if file.name.startswith("_"):
                continue
            rules.extend(_load_file(file))
    return rules


def _load_file(file: Path) -> list[Rule]:
    module_name = f"exemptlint_rules_dir.{file.stem}_{abs(hash(str(file.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, file)
    if spec is None or spec.loader is None:
        raise PluginError(f"{file}:1:1: error: cannot import rule file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        sys.modules.pop(module_name, None)
        line = _error_line(error, file)
        raise PluginError(f"{file}:{line}:1: error: cannot import rule file: {error!r}") from None
    found: list[Rule] = []
    for attribute in ("RULE", "RULES"):
        if hasattr(module, attribute):
            found.extend(_as_rules(getattr(module, attribute), f"{file}:1:1"))
    if not found:
        raise PluginError(f"{file}:1:1: error: defines neither RULE nor RULES")
    return [dataclasses.replace(rule, origin=f"rules-dir {file}") for rule in found]


def _error_line(error: BaseException, file: Path) -> int:
    if isinstance(error, SyntaxError) and error.lineno:
        return error.lineno
    trace = error.__traceback__
    line = 1
    while trace is not None:
        if Path(trace.tb_frame.f_code.co_filename) == file:
            line = trace.tb_lineno
        trace = trace.tb_next
    return line


def check_custom_ids(rules: Sequence[Rule], builtin: Sequence[Rule]) -> None:
    """Custom rule ids must not collide with the built-in ``EL`` ids or with each other."""
    seen = {rule.id.upper(): rule.origin for rule in builtin}
    for rule in rules:
        key = rule.id.upper()
        if key.startswith("EL") or key in seen:
            other = seen.get(key, "the built-in EL rules")
            raise PluginError(f"{rule.origin}:1:1: error: id: rule id {rule.id} collides with {other}")
        seen[key] = rule.origin
