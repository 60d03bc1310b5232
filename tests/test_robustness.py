"""Bad input never crashes, hangs or changes a file: it gives a one-line error or a correct result."""

from __future__ import annotations

import datetime
import json
import os
import random
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exemptlint.cli import main
from exemptlint.engine import LintSettings, lint
from exemptlint.loaders import LoadOptions, load_file, load_json_text
from exemptlint.model import LoadResult
from exemptlint.rules import BUILTIN_RULES
from tests import strategies

TODAY = datetime.date(2026, 11, 24)
OPTIONS = LoadOptions(today=TODAY)
FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = sorted(FIXTURES.rglob("*.json")) + sorted(FIXTURES.rglob("*.jsonc"))


def load_and_lint(text: str, name: str = "fuzz.json") -> LoadResult:
    result = load_json_text(text, name, OPTIONS)
    findings = lint(result.exemptions, result.assignments, LintSettings(today=TODAY), BUILTIN_RULES)
    for finding in findings:
        assert finding.line >= 1 and finding.column >= 1
    for error in result.errors:
        assert error.line >= 1 and error.column >= 1
        assert "\n" not in error.message
    return result


json_scalars = strategies.json_scalars(max_text=30)
json_values = strategies.json_values(max_text=30, max_items=4, max_leaves=20)
property_names = st.sampled_from(strategies.PROPERTY_NAMES)
arm_expression = st.text(alphabet="[]()',.abcdefgpsrmtuviwxyzAB0123456789 {}-", max_size=60).map(
    lambda t: f"[{t}]"
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(property_names, json_values | arm_expression, max_size=8), json_values)
def test_random_exemption_shapes_never_crash(properties: dict[str, Any], extra: Any) -> None:
    for doc in (
        {"properties": properties},
        {"id": "/subscriptions/x/providers/Microsoft.Authorization/policyExemptions/e", **properties},
        [{"properties": properties}, extra],
        {"value": [{"properties": properties}, extra]},
    ):
        load_and_lint(json.dumps(doc))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(property_names, arm_expression | json_values, max_size=8),
    st.dictionaries(st.text(max_size=5), arm_expression, max_size=4),
)
def test_random_arm_templates_never_crash(properties: dict[str, Any], variables: dict[str, str]) -> None:
    template = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "variables": variables,
        "resources": [
            {
                "type": "Microsoft.Authorization/policyExemptions",
                "name": "[variables('a')]",
                "scope": "[concat('x', variables('b'))]",
                "copy": {"name": "c", "count": "[length(variables('c'))]"},
                "properties": properties,
            }
        ],
    }
    load_and_lint(json.dumps(template))


@pytest.mark.parametrize("seed", SEEDS, ids=[s.name for s in SEEDS])
def test_mutated_fixtures_never_crash(seed: Path) -> None:
    text = seed.read_text(encoding="utf-8")
    rng = random.Random(seed.name)
    for _ in range(60):
        chars = list(text)
        for _ in range(rng.randint(1, 6)):
            position = rng.randrange(len(chars))
            operation = rng.random()
            if operation < 0.4:
                del chars[position]
            elif operation < 0.8:
                chars.insert(position, rng.choice('{}[]",:\\/*\n\x00\ufeffé'))
            else:
                chars[position] = rng.choice("[]'()")
        load_and_lint("".join(chars), seed.name)


def test_deep_nesting_is_a_one_line_error() -> None:
    result = load_and_lint('{"exemptionCategory": ' + "[" * 10_000 + "]" * 10_000 + "}")
    (error,) = result.errors
    # Too deep for the parser too: the place is found in the text, at the 100th "[" (level 101).
    assert (error.line, error.column) == (1, 23 + 99)
    assert error.message == "objects and arrays are nested more than 100 levels deep (the most exemptlint reads)"


def test_deeply_nested_arm_expression_and_self_referencing_variables() -> None:
    template = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "variables": {"loop": "[variables('loop')]", "a": "[variables('b')]", "b": "[variables('a')]"},
        "resources": [
            {
                "type": "Microsoft.Authorization/policyExemptions",
                "name": "[variables('loop')]",
                "properties": {
                    "policyAssignmentId": "[variables('a')]",
                    "exemptionCategory": "Waiver",
                    "description": "[" + "concat(" * 5000 + "'x'" + ")" * 5000 + "]",
                },
            }
        ],
    }
    started = time.perf_counter()
    result = load_and_lint(json.dumps(template))
    assert time.perf_counter() - started < 5
    (exemption,) = result.exemptions
    assert "cycle" in exemption.name.reason or "refers to itself" in exemption.name.reason


def test_bom_crlf_and_empty_files(tmp_path: Path) -> None:
    source = (FIXTURES / "rules" / "EL005-fail-expired.json").read_text(encoding="utf-8")
    (tmp_path / "crlf.json").write_bytes(("\ufeff" + source.replace("\n", "\r\n")).encode("utf-8"))
    (tmp_path / "empty.json").write_bytes(b"")
    (tmp_path / "binary.json").write_bytes(b"\x00\x01exemptionCategory\xff\xfe")
    result = load_file(tmp_path / "crlf.json", OPTIONS, "crlf.json")
    findings = lint(result.exemptions, result.assignments, LintSettings(today=TODAY), BUILTIN_RULES)
    assert [(f.rule_id, f.line, f.column) for f in findings] == [("EL005", 11, 5)]
    assert load_file(tmp_path / "empty.json", OPTIONS) == LoadResult()
    (error,) = load_file(tmp_path / "binary.json", OPTIONS, "binary.json").errors
    assert error.message == "file is not valid UTF-8 text"


def test_large_file_is_read_within_the_budget(tmp_path: Path) -> None:
    exemption = json.loads((FIXTURES / "rules" / "pass-baseline.json").read_text(encoding="utf-8"))
    big = tmp_path / "big.json"
    with big.open("w", encoding="utf-8") as stream:
        stream.write("[")
        count = 0
        while stream.tell() < 50 * 1024 * 1024:
            stream.write(("," if count else "") + json.dumps(exemption))
            count += 1
        stream.write("]")
    started = time.perf_counter()
    result = load_file(big, OPTIONS, "big.json")
    assert result.errors == []
    assert len(result.exemptions) == count
    assert time.perf_counter() - started < 30


# An alarm that lands in a gc callback (hypothesis installs one) is reported as unraisable and
# retried; that report is expected here.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_time_budget_turns_a_slow_file_into_an_error(tmp_path: Path) -> None:
    exemption = json.loads((FIXTURES / "rules" / "pass-baseline.json").read_text(encoding="utf-8"))
    slow = tmp_path / "slow.json"
    slow.write_text(json.dumps([exemption] * 20_000), encoding="utf-8")
    started = time.perf_counter()
    result = load_file(slow, LoadOptions(today=TODAY, time_budget=0.01), "slow.json")
    assert time.perf_counter() - started < 5
    (error,) = result.errors
    assert error.message.startswith("gave up after 0.01 seconds")


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_run_wide_budget_timer_stops_only_the_slow_file(tmp_path: Path) -> None:
    """The CLI arms one repeating timer per run (``BudgetTimer``) instead of one per file: a slow
    file still becomes an error, the files before and after it load, and nothing fires once the
    run is over."""
    from exemptlint.budget import BudgetTimer

    exemption = json.loads((FIXTURES / "rules" / "pass-baseline.json").read_text(encoding="utf-8"))
    slow = tmp_path / "slow.json"
    slow.write_text(json.dumps([exemption] * 20_000), encoding="utf-8")
    quick = tmp_path / "quick.json"
    quick.write_text(json.dumps(exemption), encoding="utf-8")
    # Imports and caches are warmed first, and the budget leaves a quick file room on a busy
    # machine: only the 20,000-exemption file may run out of time.
    load_file(quick, LoadOptions(today=TODAY), "quick.json")
    with BudgetTimer(0.25) as timer:
        assert timer.armed
        options = LoadOptions(today=TODAY, time_budget=0.25, timer=timer)
        first = load_file(quick, options, "quick.json")
        started = time.perf_counter()
        stopped = load_file(slow, options, "slow.json")
        assert time.perf_counter() - started < 5
        time.sleep(0.1)  # ticks between files raise nothing
        last = load_file(quick, options, "quick.json")
    assert not timer.armed
    assert len(first.exemptions) == len(last.exemptions) == 1
    (error,) = stopped.errors
    assert error.message.startswith("gave up after 0.25 seconds")
    time.sleep(0.1)  # disarmed: no stray alarm reaches the tests that follow


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_symlink_loops_fifos_and_dangling_links(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tree" / "sub").mkdir(parents=True)
    (tmp_path / "tree" / "sub" / "loop").symlink_to(tmp_path / "tree")
    (tmp_path / "tree" / "dangling.json").symlink_to(tmp_path / "nowhere.json")
    os.mkfifo(tmp_path / "tree" / "pipe.json")
    (tmp_path / "tree" / "ok.json").write_text(
        (FIXTURES / "rules" / "pass-baseline.json").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (tmp_path / "tree" / "self.json").symlink_to(tmp_path / "tree" / "self.json")
    started = time.perf_counter()
    # The directory link is not followed (no loop to walk); links named like source files that lead
    # nowhere are said, and the walk goes on (ok.json is linted, the FIFO is passed over).
    assert main(["check", "tree", "--today", "2026-11-24", "--format", "concise"]) == 2
    assert time.perf_counter() - started < 10
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "tree/dangling.json:1:1: error: symbolic link to "
        f"'{tmp_path / 'nowhere.json'}', which does not exist",
        "tree/self.json:1:1: error: symbolic link loop: the link leads back to itself (too many levels of "
        "symbolic links)",
        "Checked 1 exemption in 1 file: 0 errors, 0 warnings, 0 notes; 2 files could not be read.",
    ]
    # Named explicitly, a looping link says so (not "no such file or directory").
    assert main(["check", "tree/self.json", "--today", "2026-11-24", "--format", "concise"]) == 2
    assert "tree/self.json:1:1: error: symbolic link loop" in capsys.readouterr().out
    # Named explicitly, the FIFO is an error, not a hang.
    assert main(["check", "tree/pipe.json", "--today", "2026-11-24", "--format", "concise"]) == 2
    assert "tree/pipe.json:1:1: error: not a regular file" in capsys.readouterr().out
