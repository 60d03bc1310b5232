"""The Bicep loader's shortcuts give what the general paths give: the relevance check, plain
strings, and interpolations joined without ARM's format()."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest

from exemptlint.loaders.arm_expressions import Deployment
from exemptlint.loaders.bicep import _relevant
from exemptlint.loaders.bicep_eval import BicepEvaluator, FileContext, Workspace
from exemptlint.loaders.bicep_syntax import (
    Interpolated,
    Literal,
    parse_document,
    parse_document_uncached,
)
from exemptlint.model import ScopeLevel, Unresolved

TODAY = datetime.date(2026, 11, 24)


@pytest.mark.parametrize(
    "text",
    [
        "resource e 'Microsoft.Authorization/policyExemptions@2022-07-01-preview' = {}",
        "resource a 'microsoft.authorization/POLICYASSIGNMENTS@2024-04-01' = {}",
        "module m './m.bicep' = {}",
        "var modules = 1\nvar amodule = 2\n",  # 'module' only inside words
        "var x = 'MODULE'\n",
        "var x = 1\n",
        "",
        "var x = 'policyExemptionſ'\n",  # LATIN SMALL LETTER LONG S matches 's' case-insensitively
        "var x = 'policy\u212axemptions'\n",
        "var x = 'ünïcode module'\n",
        "var x = 'ünïcode'\n",
    ],
)
def test_relevance_check_agrees_with_the_pattern(text: str) -> None:
    assert _relevant(text) == (_RELEVANT.search(text) is not None)


# What the relevance check stands for: one case-insensitive pattern, slow on files that do not match.
_RELEVANT = re.compile(r"policyExemptions|policyAssignments|\bmodule\b", re.IGNORECASE)


def _evaluator(source: str) -> tuple[BicepEvaluator, Any]:
    document = parse_document_uncached(source)
    file = FileContext(Workspace(TODAY), document, Deployment(level=ScopeLevel.SUBSCRIPTION), {}, None)
    return file.evaluator(), document


def _through_format(ev: BicepEvaluator, expr: Interpolated) -> Any:
    """The interpolation as ARM's format() evaluates it (the path taken before the shortcut)."""
    template: list[str] = []
    args: list[Any] = []
    texts: list[str] = []
    for part in expr.parts:
        if isinstance(part, str):
            template.append(part.replace("{", "{{").replace("}", "}}"))
        else:
            template.append("{" + str(len(args)) + "}")
            args.append(ev.evaluate(part))
            texts.append(part.span.text)
    return ev._arm("format", ["".join(template), *args], expr, ["", *texts])


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Unresolved) or isinstance(b, Unresolved):
        return (
            isinstance(a, Unresolved)
            and isinstance(b, Unresolved)
            and (a.expression, a.reason, a.partial) == (b.expression, b.reason, b.partial)
        )
    return type(a) is type(b) and bool(a == b)


INTERPOLATIONS = [
    "'${s}'",
    "'a{b}${s}}{c{{0}}'",
    "'{${s}}'",
    "'${s}{0}${s}'",
    "'n=${n}, big=${big}, neg=${neg}'",
    "'${flag}-${nothing}'",
    "'${obj}'",
    "'${arr}'",
    "'${unknown}-x'",
    "'${long}${long}'",
    "'ü${s}ß'",
    "'${s}${n}'",
]


@pytest.mark.parametrize("written", INTERPOLATIONS)
def test_interpolation_shortcut_matches_format(written: str) -> None:
    ev, document = _evaluator(
        "param unknown string\n"
        "var s = 'x{y}'\n"
        "var n = 42\n"
        "var big = 12345678901234567890\n"
        "var neg = -7\n"
        "var flag = true\n"
        "var nothing = null\n"
        "var obj = {a: 1}\n"
        "var arr = [1]\n"
        f"var long = '{'a' * 40_000}'\n"
        f"var value = {written}\n"
    )
    (value,) = [v.value for v in document.variables if v.name == "value"]
    assert isinstance(value, Interpolated)
    assert _same(ev.evaluate(value), _through_format(ev, value))


@pytest.mark.parametrize(
    "written",
    [
        "''",
        "'plain'",
        "'{0} }}{'",
        "'a$b'",
        "'$ {x}'",
        "'ünï'",
        "'it\\'s'",
        "'\\${x}'",
        "'a\\nb'",
        "'''\nx${y}\n'''",
    ],
)
def test_string_values(written: str) -> None:
    document = parse_document_uncached(f"var value = {written}\n")
    (variable,) = document.variables
    expected = {
        "''": "",
        "'plain'": "plain",
        "'{0} }}{'": "{0} }}{",
        "'a$b'": "a$b",
        "'$ {x}'": "$ {x}",
        "'ünï'": "ünï",
        "'it\\'s'": "it's",
        "'\\${x}'": "${x}",
        "'a\\nb'": "a\nb",
        "'''\nx${y}\n'''": "x${y}\n",
    }[written]
    assert variable.value == Literal(variable.value.span, expected)
    assert variable.value.span.text == written


def test_cached_and_uncached_parses_are_equal() -> None:
    source = "param p string = 'ü'\nvar v = '${p}-x'\nresource r 'A/b@1' = {\n  name: v\n}\n"
    assert parse_document(source) == parse_document_uncached(source)
