"""What a one-file run imports: only what the file's format and the chosen output need."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from exemptlint.loaders import _OTHER_FORMAT_KEYS, _may_be_other_format
from exemptlint.loaders.arm import is_arm_template, is_parameters_file
from exemptlint.loaders.epac import is_epac_json
from exemptlint.loaders.raw import is_rest_example
from exemptlint.loaders.terraform import is_terraform_plan

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _modules_after(args: list[str], cwd: Path) -> set[str]:
    """The modules a fresh interpreter holds after ``exemptlint ARGS`` (run through main())."""
    code = (
        "import sys, json\n"
        "from exemptlint.cli import main\n"
        f"code = main({args!r})\n"
        "sys.stdout.flush()\n"
        "print('\\n' + json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"PATH": "", "EXEMPTLINT_CACHE_DIR": "", "HOME": str(cwd)},
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    return set(json.loads(done.stdout.splitlines()[-1]))


# Never needed to lint one raw exemption file and print text.
HEAVY = {
    "exemptlint.loaders.arm",
    "exemptlint.loaders.arm_expressions",
    "exemptlint.loaders.terraform",
    "exemptlint.loaders.epac",
    "exemptlint.loaders.bicep",
    "exemptlint.loaders.yaml_source",
    "exemptlint.parallel",
    "exemptlint.report.sarif",
    "exemptlint.report.json_report",
    "jsonschema",
    "pydantic",
    "ruamel",
    "rich",
    "multiprocessing",
    "concurrent.futures",
    "importlib.metadata",
    "importlib.resources",
    "tempfile",
    "hashlib",
}


def test_one_raw_file_imports_only_what_it_needs(tmp_path: Path) -> None:
    (tmp_path / "one.json").write_bytes((FIXTURES / "rules" / "pass-baseline.json").read_bytes())
    loaded = _modules_after(["check", "one.json", "--today", "2026-11-24"], tmp_path)
    assert "exemptlint.loaders.raw" in loaded and "exemptlint.report.text" in loaded
    assert not {name for name in loaded if name in HEAVY or name.split(".")[0] in HEAVY}


def test_the_chosen_output_and_format_decide_the_imports(tmp_path: Path) -> None:
    (tmp_path / "t.json").write_bytes((EXAMPLES / "exemptions.template.json").read_bytes())
    loaded = _modules_after(["check", "t.json", "--today", "2026-11-24", "--format", "sarif"], tmp_path)
    assert {"exemptlint.loaders.arm", "exemptlint.report.sarif", "hashlib"} <= loaded
    assert not {"exemptlint.report.text", "exemptlint.loaders.epac", "rich", "pydantic"} & loaded


def test_the_rule_api_does_not_import_every_rule() -> None:
    code = (
        "import sys\nimport exemptlint.rules.api, exemptlint.report\n"
        "print(sorted(m for m in sys.modules if m.startswith('exemptlint.rules.el')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_special_rule_ids_name_their_modules() -> None:
    from exemptlint.rules import (
        BUILTIN_RULES,
        RULE_MODULES,
        SUPPRESSION_RULE_ID,
        UNRESOLVED_RULE_ID,
        el009_unresolved_value,
        el011_unjustified_suppression,
    )

    assert el009_unresolved_value.RULE.id == UNRESOLVED_RULE_ID
    assert el011_unjustified_suppression.RULE.id == SUPPRESSION_RULE_ID
    assert [rule.id for rule in BUILTIN_RULES] == [f"EL{i:03d}" for i in range(1, len(RULE_MODULES) + 1)]


def _json_documents() -> list[Path]:
    roots = [FIXTURES, EXAMPLES]
    return sorted(p for root in roots for p in root.rglob("*.json"))


@pytest.mark.parametrize("path", _json_documents(), ids=lambda p: p.name)
def test_raw_shortcut_never_hides_another_format(path: Path) -> None:
    from exemptlint.loaders.jsontext import JsonSyntaxError, parse_json_text

    try:
        doc = parse_json_text(path.read_text(encoding="utf-8"))
    except (JsonSyntaxError, UnicodeDecodeError, RecursionError):
        return
    detected = (
        is_terraform_plan(doc)
        or is_arm_template(doc)
        or is_parameters_file(doc)
        or is_epac_json(doc)
        or is_rest_example(doc)
    )
    if detected:
        assert _may_be_other_format(doc)


def test_raw_shortcut_keys_are_each_needed() -> None:
    # Each key alone makes the document a candidate; without any, every detector says no.
    for key in _OTHER_FORMAT_KEYS:
        assert _may_be_other_format({key: None})
    bare = {"properties": {"exemptionCategory": "Waiver"}, "name": "x", "type": "t", "Resources": []}
    assert not _may_be_other_format(bare) and not _may_be_other_format([bare])
    assert not (is_arm_template(bare) or is_terraform_plan(bare) or is_epac_json(bare))
