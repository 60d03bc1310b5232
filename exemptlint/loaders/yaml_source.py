"""Exemptions written in YAML, in the shapes of the raw JSON forms (a ``{properties: ...}``
resource, the flattened ``az`` form, a list of either, a ``value:`` list).

The document is read with ruamel's round-trip loader (for positions), turned into plain Python
and handed to ``raw.load_raw`` with a positions index taken from ruamel's line/column data, so
that shape detection is exactly that of the JSON forms. Tags never construct objects: a tagged
node is read as its plain value, and timestamps stay the text that was written.
"""

from __future__ import annotations

import re
from typing import Any

from exemptlint.loaders.jsontext import JsonPositions, Path
from exemptlint.model import LoadError, LoadResult, Position
from exemptlint.suppressions import parse_directives

# A YAML file that mentions none of these holds no exemption or assignment (CI configs,
# Kubernetes manifests...): it is skipped before parsing.
_RELEVANT = re.compile(
    r"exemptionCategory|policyExemption|policyAssignments|policyAssignmentId|policyDefinitionId",
    re.IGNORECASE,
)


class YamlPositions(JsonPositions):
    """The ``JsonPositions`` interface over a ruamel round-trip document."""

    def __init__(self, root: Any) -> None:
        # The JSON text index of the base class is not used.
        self._root = root

    def _node(self, path: Path) -> Any:
        node = self._root
        for step in path:
            try:
                node = node[step]
            except (KeyError, IndexError, TypeError):
                return None
        return node

    def key(self, path: Path) -> Position | None:
        if not path:
            return None
        parent = self._node(path[:-1])
        lc = getattr(parent, "lc", None)
        if lc is None:
            return None
        step = path[-1]
        try:
            if isinstance(step, int):
                line, column = lc.item(step)
                return Position(line + 1, column + 1)
            line, column = lc.key(step)
        except (KeyError, IndexError, TypeError, AttributeError):
            return None
        return Position(line + 1, column + 1, len(str(step)))

    def value(self, path: Path) -> Position | None:
        node = self._node(path)
        lc = getattr(node, "lc", None)
        if lc is not None and getattr(lc, "line", None) is not None:
            return Position(lc.line + 1, lc.col + 1)
        if not path:
            return Position(1, 1)
        parent = self._node(path[:-1])
        plc = getattr(parent, "lc", None)
        if plc is None:
            return None
        try:
            if isinstance(path[-1], int):
                line, column = plc.item(path[-1])
            else:
                line, column = plc.value(path[-1])
        except (KeyError, IndexError, TypeError, AttributeError):
            return None
        return Position(line + 1, column + 1)

    def key_or_value(self, path: Path) -> Position | None:
        return self.key(path) or self.value(path)


def _yaml() -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.constructor import RoundTripConstructor

    class _SafeConstructor(RoundTripConstructor):
        """Round-trip construction where timestamps stay text and unknown tags are ignored."""

    def _text(constructor: Any, node: Any) -> str:
        return str(node.value)

    def _untagged(constructor: Any, node: Any) -> Any:
        from ruamel.yaml.nodes import MappingNode, SequenceNode

        if isinstance(node, MappingNode):
            return constructor.construct_yaml_map(node)
        if isinstance(node, SequenceNode):
            return constructor.construct_yaml_seq(node)
        return str(node.value)

    _SafeConstructor.add_constructor("tag:yaml.org,2002:timestamp", _text)
    _SafeConstructor.add_constructor(None, _untagged)
    yaml = YAML(typ="rt")
    yaml.Constructor = _SafeConstructor
    yaml.allow_duplicate_keys = True
    return yaml


def _plain(value: Any, depth: int = 0) -> Any:
    """ruamel's round-trip objects as plain dicts, lists, strings and numbers."""
    if depth > 200:
        raise RecursionError
    if isinstance(value, dict):
        return {str(k): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, depth + 1) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    # A generator (a construction that yields) or anything else: its text.
    return str(value)


def load_yaml_text(text: str, file: str) -> LoadResult:
    if _RELEVANT.search(text) is None:
        return LoadResult()
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    from exemptlint.loaders import raw

    yaml = _yaml()
    try:
        documents = list(yaml.load_all(text))
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        message = error.problem or error.context or "syntax error"
        return LoadResult(errors=[LoadError(file, line, column, f"invalid YAML: {message}")])
    except YAMLError as error:
        return LoadResult(errors=[LoadError(file, 1, 1, f"invalid YAML: {error}")])
    result = LoadResult()
    for document in documents:
        if not isinstance(document, (dict, list)):
            continue
        result.extend(raw.load_raw(_plain(document), file, YamlPositions(document), fmt="yaml"))
    directives = parse_directives(text)
    if directives:
        for exemption in result.exemptions:
            exemption.source.directives = directives
    return result
