"""Current Bicep as real repositories write it (issue 13 items 1, 6 and 10; issue 17 item 7):
postfix non-null assertions, multi-line arrays of indexed items, exemptions scoped to
`existing` resources, syntax the grammar lacks, files that cannot be followed, and syntax
errors reported where the construct that failed starts. Fixtures in
tests/fixtures/bicep/current, written for these tests; "today" is pinned to 2026-11-24."""

from __future__ import annotations

import datetime
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from exemptlint.cli import main
from exemptlint.engine import LintSettings, lint
from exemptlint.loaders import LoadOptions, load_file
from exemptlint.loaders.arm_expressions import Deployment
from exemptlint.loaders.bicep_eval import FileContext, Workspace
from exemptlint.loaders.bicep_lex import lex, postfix_bangs, unclosed_bracket
from exemptlint.loaders.bicep_syntax import ArrayLit, BicepSyntaxError, parse_document
from exemptlint.model import Finding, LoadResult, ScopeLevel, Unresolved
from exemptlint.rules import BUILTIN_RULES

ROOT = Path(__file__).resolve().parents[1]
BICEP = ROOT / "tests" / "fixtures" / "bicep"
CURRENT = BICEP / "current"
TODAY = datetime.date(2026, 11, 24)
SUB = "{subscription().subscriptionId}"
RG = "{resourceGroup().name}"


def load(name: str, errors: bool = False) -> LoadResult:
    result = load_file(CURRENT / name, LoadOptions(today=TODAY), display=name)
    if not errors:
        assert result.errors == []
    return result


def run(result: LoadResult) -> list[Finding]:
    return lint(
        result.exemptions, result.assignments, LintSettings(today=TODAY), BUILTIN_RULES, notes=result.notes
    )


def located(findings: list[Finding]) -> list[tuple[str, str, str, int, int]]:
    return [(f.rule_id, f.level.value, f.file, f.line, f.column) for f in findings]


def values(source: str) -> dict[str, Any]:
    """Every variable and parameter of a snippet, evaluated."""
    document = parse_document(source)
    file = FileContext(Workspace(TODAY), document, Deployment(level=ScopeLevel.RESOURCE_GROUP), {}, None)
    found = {v.name: file.variable_value(v.name) for v in document.variables}
    found.update({p.name: file.param_value(p.name) for p in document.params})
    return found


# --------------------------------------------------------------------------- 13.1: value!


def test_non_null_assertions_parse_and_do_not_change_values() -> None:
    result = load("non-null.bicep")
    (exemption,) = result.exemptions
    # Values from the sibling non-null.bicepparam, which uses `!` too.
    assert exemption.name == "kv-payments-purge-protection"
    assert exemption.scope == (
        "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-sec/providers/"
        "Microsoft.KeyVault/vaults/kv-payments"
    )
    assert exemption.scope_level == ScopeLevel.RESOURCE
    assert exemption.policy_definition_reference_ids == [
        "keyVaultsShouldHavePurgeProtectionEnabledMonitoringEffect",
        "firewallshouldbeenabledonkeyvaultmonitoringeffect",
    ]
    assert exemption.display_name == "Key vault kv-payments without purge protection"
    assert exemption.description == "Purge protection is replaced by the backup vault policy (4411)."
    assert exemption.metadata == {"vault": "kv-payments"}
    # expiresOn: exemption.?expiresOn! is the bicepparam's 2026-11-20: expired.
    assert located(run(result)) == [("EL005", "error", "non-null.bicep", 30, 5)]


def test_a_caller_of_a_module_that_uses_non_null_assertions_follows_it() -> None:
    result = load("non-null-caller.bicep")
    (exemption,) = result.exemptions
    assert exemption.source.context == "module vault"
    assert exemption.exemption_category == "Waiver"
    # 2026-12-01 is 7 days away: a warning, in the module file. The caller's vault is in another
    # subscription than the module's assignment: EL014, at the exemption's scope.
    assert located(run(result)) == [
        ("EL014", "error", "non-null.bicep", 25, 3),
        ("EL005", "warning", "non-null.bicep", 30, 5),
    ]


def test_a_bicepparam_file_with_non_null_assertions_loads_without_a_word() -> None:
    result = load("non-null.bicepparam")
    assert (result.errors, result.notes, result.exemptions) == ([], [], [])


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("var a = last(split('a/b/c', '/'))!\n", {"a": "c"}),
        ("var a = concat(last(split('a/b', '/'))!, 'x')\n", {"a": "bx"}),
        ("var a = concat('x'!, 'y')\n", {"a": "xy"}),
        ("var o = { k: 'v' }\nvar a = [\n  o.?k!\n  o.k\n]\n", {"o": {"k": "v"}, "a": ["v", "v"]}),
        (
            "var o = { k: 'v' }\nvar a = {\n  x: o.?k!\n  y: 1\n}\n",
            {"o": {"k": "v"}, "a": {"x": "v", "y": 1}},
        ),
        ("var o = { k: ['v'] }\nvar a = o!.k![0]!\n", {"o": {"k": ["v"]}, "a": "v"}),
        ("var o = { k: 'v' }\nvar a = true ? o.k! : 'w'\n", {"o": {"k": "v"}, "a": "v"}),
        ("var o = { k: 'v' }\nvar a = '${o.k!}-${o!.k}'\n", {"o": {"k": "v"}, "a": "v-v"}),
        ("var o = {}\nvar a = o.?k! ?? 'default'\n", {"o": {}, "a": "default"}),
        ("param p string = last(split('a/b', '/'))!\noutput o string = p!\n", {"p": "b"}),
        # Prefix '!' (logical not), '!=', and '!' in strings and comments are left alone.
        ("var a = !false && 'x' != 'y' // no!\nvar b = 'wow!'\n", {"a": True, "b": "wow!"}),
        ("var a = [\n  true\n  !true\n]\n", {"a": [True, False]}),
        ("var a = [\n  'x'!\n  !false\n]\n", {"a": ["x", True]}),
    ],
)
def test_non_null_assertions_in_every_position(source: str, expected: dict[str, Any]) -> None:
    assert values(source) == expected


def test_postfix_bangs_are_found_outside_strings_and_comments() -> None:
    source = b"var a = f(x!, 'y!') /* z! */ != !w && v!\n// u!\nvar b = '${c!}'!\n"
    found = postfix_bangs(source, lex(source).tokens)
    assert [source[max(0, i - 1) : i + 1] for i in found] == [b"x!", b"v!", b"c!", b"'!"]


# --------------------------------------------------------------------------- 13.6: arrays


def test_multi_line_arrays_of_indexed_items_are_one_item_per_line() -> None:
    result = load("array-items.bicep")
    indexed, single_line, nested = result.exemptions
    assert nested.policy_definition_reference_ids == [
        [
            "disableUnrestrictedNetworkToStorageAccountMonitoring",
            "secureTransferToStorageAccountMonitoring",
        ]
    ]
    assert indexed.policy_definition_reference_ids == [
        "disableUnrestrictedNetworkToStorageAccountMonitoring",
        "secureTransferToStorageAccountMonitoring",
        "webAppEnforceHttpsMonitoring",
        "securetransfertostorageaccountmonitoring",
    ]
    assert single_line.policy_definition_reference_ids == [
        "secureTransferToStorageAccountMonitoring",
        "disableUnrestrictedNetworkToStorageAccountMonitoring",
    ]
    # An array inside the array is still an error, once.
    findings = run(result)
    assert located(findings) == [("EL008", "error", "array-items.bicep", 44, 5)]
    assert findings[0].message == "policyDefinitionReferenceIds.0 must be of type string, not array"


@pytest.mark.parametrize(
    ("source", "items"),
    [
        ("var r = ['x', 'y']\nvar a = [\n  r[0]\n]\n", ["x"]),
        ("var r = ['x', 'y']\nvar a = [\n  r\n  [0]\n]\n", [["x", "y"], [0]]),
        ("var r = ['x', 'y']\nvar a = [r[1], r[0]]\n", ["y", "x"]),
        ("var r = { s: ['x'] }\nvar a = [\n  r.s[0]\n  {\n    k: 1\n  }.k\n]\n", ["x", 1]),
        ("var a = [\n  toUpper('x')\n  ('y')\n]\n", ["X", "y"]),
        ("var a = [\n  1\n  -1\n]\n", [1, -1]),
        ("var r = ['x']\nvar a = [\n  ...r\n  r[0]\n]\n", ["x", "x"]),
    ],
)
def test_array_items_are_separated_by_commas_and_line_breaks(source: str, items: list[Any]) -> None:
    assert values(source)["a"] == items


def test_an_item_read_again_keeps_its_position() -> None:
    document = parse_document("var r = ['é']\nvar a = [ /* é */ r[0], 'x'\n  split('a b', ' ')[1]\n]\n")
    array = document.variables[1].value
    assert isinstance(array, ArrayLit)
    assert [(i.span.line, i.span.column, i.span.text) for i in array.items] == [
        (2, 19, "r[0]"),
        (2, 25, "'x'"),
        (3, 3, "split('a b', ' ')[1]"),
    ]


# --------------------------------------------------------------------------- 13.10: existing scopes


def test_exemptions_scoped_to_existing_resources_are_at_resource_level() -> None:
    result = load("existing-scopes.bicep")
    scopes = {e.name: e.scope for e in result.exemptions}
    assert {e.name: e.scope_level for e in result.exemptions} == {
        "kv-firewall": ScopeLevel.RESOURCE,
        "audit-logs-immutability": ScopeLevel.RESOURCE,
        "storage-network": ScopeLevel.RESOURCE,
    }
    # The ids are built from the existing resources' types, names and parents; what is not
    # known shows as {...}.
    assert all(isinstance(s, Unresolved) for s in scopes.values())
    assert {name: s.partial for name, s in scopes.items() if isinstance(s, Unresolved)} == {
        "kv-firewall": "/subscriptions/{split(keyVaultResourceId, '/')[2]}/resourceGroups/"
        "{split(keyVaultResourceId, '/')[4]}/providers/Microsoft.KeyVault/vaults/"
        "{last(split(keyVaultResourceId, '/'))}",
        "audit-logs-immutability": f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/"
        "Microsoft.Storage/storageAccounts/{storageAccountName}/blobServices/default/containers/audit-logs",
        "storage-network": f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/"
        "Microsoft.Storage/storageAccounts/{storageAccountName}",
    }
    # No "scope is not known" note: the level is decided; the other rules still apply.
    assert located(run(result)) == [
        ("EL005", "error", "existing-scopes.bicep", 51, 5),
        ("EL006", "error", "existing-scopes.bicep", 65, 5),
    ]


def test_a_resource_group_or_management_group_given_as_scope_keeps_its_level(tmp_path: Path) -> None:
    path = tmp_path / "scopes.bicep"
    path.write_text(
        "targetScope = 'tenant'\n"
        "param mgName string\n"
        "resource mg 'Microsoft.Management/managementGroups@2023-04-01' existing = {\n"
        "  name: mgName\n"
        "}\n"
        "resource e 'Microsoft.Authorization/policyExemptions@2022-07-01-preview' = {\n"
        "  name: 'platform'\n"
        "  scope: mg\n"
        "  properties: {\n"
        "    exemptionCategory: 'Waiver'\n"
        "  }\n"
        "}\n",
        encoding="utf-8",
    )
    result = load_file(path, LoadOptions(today=TODAY), display="scopes.bicep")
    (exemption,) = result.exemptions
    assert exemption.scope_level == ScopeLevel.MANAGEMENT_GROUP
    assert ("EL007", "error", "scopes.bicep", 8, 3) in located(run(result))


# --------------------------------------------------------------------------- grammar gaps


def test_current_syntax_the_grammar_lacks_is_read() -> None:
    result = load("modern-syntax.bicep")
    backup, encryption = result.exemptions
    # $''' strings with interpolations, typed variables, a user-defined function.
    assert backup.display_name == "Virtual machine VM-BACKUP"
    assert backup.description == "vm-backup: covered by the platform backup policy (CHG-7781)."
    # A nullable parameter nobody supplies is an input of the caller (issue 13.8): the `??` expression
    # is read whole, its value left to the caller.
    owner = backup.metadata["owner"]
    assert isinstance(owner, Unresolved) and owner.expression == "owner.?name ?? 'platform-team'"
    assert isinstance(backup.policy_assignment_id, Unresolved)
    assert backup.policy_assignment_id.partial == (
        f"/subscriptions/{SUB}/providers/Microsoft.Authorization/policyAssignments/SecurityCenterBuiltIn"
    )
    # The second item of the typed parameter has no expiresOn.
    assert encryption.expires_on is None
    assert located(run(result)) == [("EL003", "error", "modern-syntax.bicep", 49, 7)]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("var a string = 'x'\nvar b {\n  c: string\n} = { c: 'y' }\n", {"a": "x", "b": {"c": "y"}}),
        (
            "param p resourceInput<'Microsoft.Authorization/policyExemptions@2022-07-01-preview'>.properties = "
            "{\n  exemptionCategory: 'Waiver'\n}\noutput o resourceOutput<'x/y@1'> = p\n",
            {"p": {"exemptionCategory": "Waiver"}},
        ),
        ("param lock lockType?\nvar a = lock.?kind ?? 'none'\n", {"lock": None, "a": "none"}),
        ("param s types.settings?\nresource r 'a/b@1' = {\n  name: 'r'\n}\n", {"s": None}),
        ("param r resource 'Microsoft.Storage/storageAccounts@2023-01-01'\nvar a = 1\n", {"a": 1}),
        ("var n = 'x'\nvar a = $$'''\n${n} and $${n}\n'''\n", {"n": "x", "a": "${n} and x\n"}),
        ("var a = $'''\nverbatim\\n ${'x'}'''\n", {"a": "verbatim\\n x"}),
        ("@export()\nfunc f(a string) string => '${a}!'\nvar a = f('x')\n", {"a": "x!"}),
    ],
)
def test_grammar_gaps_are_bridged(source: str, expected: dict[str, Any]) -> None:
    assert {k: v for k, v in values(source).items() if k in expected} == expected


def test_bicepparam_extends_gives_the_base_values_first() -> None:
    result = load_file(CURRENT / "extends" / "main.bicep", LoadOptions(today=TODAY), display="main.bicep")
    (exemption,) = result.exemptions
    # expiresOn and ticket from shared.bicepparam, category from main.bicepparam.
    assert exemption.expires_on == "2026-12-01T00:00:00Z"
    assert exemption.exemption_category == "Mitigated"
    assert exemption.description == "Vulnerability assessment comes from the corporate scanner (CHG-9120)."
    assert located(run(result)) == [("EL005", "warning", "main.bicep", 15, 5)]
    for name in ("main.bicepparam", "shared.bicepparam"):
        alone = load_file(CURRENT / "extends" / name, LoadOptions(today=TODAY), display=name)
        assert (alone.errors, alone.notes) == ([], [])


# --------------------------------------------------------------------------- files not followed


def test_a_caller_notes_each_module_it_cannot_follow() -> None:
    result = load("load-failures/caller.bicep", errors=True)
    assert [(e.file, e.line, e.column) for e in result.errors] == [("load-failures/broken.bicep", 4, 18)]
    findings = run(result)
    assert located(findings) == [
        ("EL009", "note", "load-failures/caller.bicep", 2, 15),
        ("EL009", "note", "load-failures/caller.bicep", 6, 16),
    ]
    assert findings[0].message == (
        "module './broken.bicep' is not followed: it is not valid Bicep (line 4, column 18: this string is "
        "not closed on its line: expected a closing '); the exemptions it deploys are not linted"
    )
    assert findings[1].message.startswith("module './missing.bicep' is not followed: cannot read file")


@pytest.mark.parametrize(
    ("name", "line", "column", "start", "errors"),
    [
        (
            "broken.bicepparam",
            1,
            7,
            "the template './broken.bicep' that this file uses is not valid Bicep (line 4, column 18",
            [("load-failures/broken.bicep", 4, 18)],
        ),
        ("missing.bicepparam", 1, 7, "the template './missing.bicep' that this file uses cannot be read", []),
        (
            "extends-missing.bicepparam",
            2,
            9,
            "the parameters file './missing-base.bicepparam' that this file extends cannot be read",
            [],
        ),
    ],
)
def test_a_bicepparam_file_notes_a_template_it_cannot_read(
    name: str, line: int, column: int, start: str, errors: list[tuple[str, int, int]]
) -> None:
    result = load(f"load-failures/{name}", errors=True)
    assert [(e.file, e.line, e.column) for e in result.errors] == errors
    (finding,) = run(result)
    assert (finding.rule_id, finding.file, finding.line, finding.column) == (
        "EL009",
        f"load-failures/{name}",
        line,
        column,
    )
    assert finding.message.startswith(start)
    assert finding.message.endswith("the exemptions deployed with these values are not linted")


# --------------------------------------------------------------------------- 17.7: error positions


@pytest.mark.parametrize(
    ("name", "line", "column", "message"),
    [
        # The grammar reads the string on to the quote on line 5 and fails there.
        ("unterminated-string.bicep", 3, 15, "this string is not closed on its line: expected a closing '"),
        # ...and fails on line 6 where the array was never closed.
        ("unclosed-bracket.bicep", 4, 35, "'[' is not closed: expected ']' before '}'"),
        # ...and on the `resource` keyword two lines below the '=' with no value.
        ("missing-value.bicep", 1, 24, "expected a value after '='"),
        # ...and on the `resource` keyword, the start of the declaration.
        ("missing-equals.bicep", 1, 82, "expected '=' after the resource type"),
    ],
)
def test_syntax_errors_point_where_the_failed_construct_starts(
    name: str, line: int, column: int, message: str
) -> None:
    result = load(f"syntax-errors/{name}", errors=True)
    assert result.exemptions == []
    assert [(e.file, e.line, e.column, e.message) for e in result.errors] == [
        (f"syntax-errors/{name}", line, column, f"invalid Bicep: {message}")
    ]


@pytest.mark.parametrize(
    ("source", "line", "column", "message"),
    [
        # Parsed by the grammar, rejected by Bicep: a line break ends a single-quoted string.
        ("var a = 'one\ntwo'\n", 1, 9, "this string is not closed on its line: expected a closing '"),
        ("var a = 'x${1}\n'\n", 1, 9, "this string is not closed on its line: expected a closing '"),
        ("var a = '''\nnever closed\n", 1, 9, "this multi-line string is not closed: expected '''"),
        ("var a = 1 /* never closed\n", 1, 11, "this comment is not closed: expected */"),
        ("var a = concat('a'\nvar b = 2\n", 1, 15, "'(' is not closed: expected ')'"),
        ("var a = 1\n]\n", 2, 1, "']' closes nothing"),
        ("module m = {}\n", 1, 10, "expected the module path after the symbolic name"),
        # An error before a string that is never closed is reported first.
        ("var a = = 1\nvar b = 'x\n", 1, 9, "unexpected '='"),
    ],
)
def test_syntax_error_positions(source: str, line: int, column: int, message: str) -> None:
    with pytest.raises(BicepSyntaxError) as raised:
        parse_document(source)
    assert (raised.value.line, raised.value.column, raised.value.message) == (
        line,
        column,
        f"invalid Bicep: {message}",
    )


def test_escaped_line_breaks_are_not_errors() -> None:
    assert values("var a = 'one\\ntwo'\n") == {"a": "one\ntwo"}


def test_unclosed_brackets_name_the_opening_one() -> None:
    source = b"var a = {\n  b: [1, (2)\n}\n"
    bracket = unclosed_bracket(lex(source).tokens)
    assert bracket is not None
    token, message = bracket
    assert (token.kind, token.start, message) == ("[", 15, "'[' is not closed: expected ']' before '}'")


def test_cli_reports_the_syntax_error_line_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copyfile(CURRENT / "syntax-errors" / "unterminated-string.bicep", tmp_path / "broken.bicep")
    shutil.copyfile(CURRENT / "non-null.bicep", tmp_path / "non-null.bicep")
    code = main(["check", ".", "--today", "2026-11-24", "--format", "json", "--output", "report.json"])
    assert code == 2
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["errors"] == [
        {
            "file": "broken.bicep",
            "line": 3,
            "column": 15,
            "message": "invalid Bicep: this string is not closed on its line: expected a closing '",
        }
    ]
    # The other file is linted (its default parameter values: expires 2026-10-31).
    assert [(f["ruleId"], f["file"], f["line"], f["column"]) for f in report["findings"]] == [
        ("EL005", "non-null.bicep", 30, 5)
    ]
    capsys.readouterr()


# --------------------------------------------------------------------------- no silent loss

# policyExemptions declarations (not `existing`) at the start of a line.
_DECLARATION = re.compile(
    r"^[ \t]*resource\s+\w+\s+'Microsoft\.Authorization/policyExemptions@[^']*'\s*(existing\b)?",
    re.MULTILINE | re.IGNORECASE,
)
# Declarations whose condition is false whatever the parameters: never deployed, so never
# linted; the condition each must have is checked below.
@pytest.mark.parametrize("root", [BICEP, ROOT / "examples" / "bicep"], ids=["fixtures", "examples"])
def test_every_exemption_is_linted_or_reported(root: Path) -> None:
    """Every policyExemptions declaration in every Bicep fixture and example is linted (through
    the file itself or a caller), listed as skipped (its condition is false with the values known),
    or its file is reported as not read; every .bicepparam file whose template or base cannot be
    read says so."""
    linted: set[tuple[str, int]] = set()
    skipped: set[tuple[str, int]] = set()
    unreadable: set[str] = set()
    declarations: list[tuple[str, int]] = []
    for path in sorted(root.rglob("*.bicep*")):
        shown = path.relative_to(root).as_posix()
        text = path.read_text(encoding="utf-8")
        result = load_file(path, LoadOptions(today=TODAY, time_budget=0), display=shown)
        linted.update((e.source.file, e.source.locator.exemption().line) for e in result.exemptions)
        skipped.update((s.file, s.line) for s in result.skipped)
        unreadable.update(error.file for error in result.errors)
        if path.suffix == ".bicep":
            for match in _DECLARATION.finditer(text):
                if match.group(1) is None:
                    declarations.append((shown, text.count("\n", 0, match.start()) + 1))
        else:
            _check_bicepparam(path, shown, text, result)
    assert declarations, "no declaration found: the pattern is wrong"
    lost = []
    for declaration in declarations:
        file = declaration[0]
        # A skipped resource is reported at its condition, on the declaration's line.
        if declaration in linted or declaration in skipped or file in unreadable:
            continue
        lost.append(declaration)
    assert lost == []


def _check_bicepparam(path: Path, shown: str, text: str, result: LoadResult) -> None:
    using = re.search(r"^using\s+'([^']+)'", text, re.MULTILINE)
    if using is None or using.group(1).startswith(("br:", "br/", "ts:", "ts/")):
        return
    target = path.parent / using.group(1)
    readable = target.is_file()
    if readable and "policyExemptions" in target.read_text(encoding="utf-8"):
        try:
            parse_document(target.read_text(encoding="utf-8"))
        except BicepSyntaxError:
            readable = False
    noted = any(
        note.file == shown and note.line == text.count("\n", 0, using.start()) + 1 for note in result.notes
    )
    assert noted == (not readable), shown


@pytest.mark.parametrize(
    "source",
    [
        "var a = map([1], x => x * 2)\nvar b = reduce([1, 2], 0, (acc, x, i) => acc + x)\n",
        "var a = sort(['b', 'a'], (x, y) => x < y)\nvar f = (x, y) => x\n",
        "import { a, b as c } from './types.bicep'\nimport * as t from './types.bicep'\nimport 'az@1.0.0'\n",
        "extension microsoftGraphV1\nextension 'br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:0.1.8-preview' as graph\n",
        "extension kubernetes with {\n  namespace: 'default'\n} as k8s\nprovider microsoftGraph\n",
        "@export()\ntype t = {\n  @description('x')\n  a: string\n  b: ('x' | 'y')?\n  *: int\n}\n",
        "@discriminator('kind')\ntype u = a | b\ntype p = [string, int]\ntype q = string[]\ntype r = !string\n",
        "type s = resource<'Microsoft.Storage/storageAccounts@2023-01-01'>\n",
        "@sealed()\n@secure()\nparam a object\n@sys.description('x')\nparam b {\n  c: string\n}?\n",
        "assert nonEmpty = length('x') > 0\nmetadata owner = 'platform'\ntargetScope = 'subscription'\n",
        "@onlyIfNotExists()\n@batchSize(2)\nresource a 'x/y@1' = [for i in range(0, 3): if (i > 0) {\n  name: 'a${i}'\n}]\n",
        "resource kv 'Microsoft.KeyVault/vaults@2023-07-01' existing = if (true) {\n  name: 'kv'\n}\n",
        "module m 'br/public:avm/res/key-vault/vault:0.1.0' = {\n  params: {}\n}\n",
        "#disable-next-line no-unused-vars\nvar a = 1\n#disable-diagnostics no-unused-params\nparam b string\n#restore-diagnostics no-unused-params\n",
        "var a = {\n  @description('decorated property')\n  b: 1\n  'quoted-key': 2\n  '${'interpolated'}': 3\n}\n",
        "var a = x.?y.?z[?0] ?? 'none'\nvar b = '''\nmulti ${literal}\n'''\n",
        "var a = {\n  b: 1, c: 2\n}\nvar d = [1, 2\n  3]\n",
    ],
)
def test_current_syntax_parses(source: str) -> None:
    parse_document(source)


def test_mutations_of_current_syntax_never_crash() -> None:
    """Random edits around the constructs bridged here give exemptions, notes or a syntax error
    (with a position inside the file), never an exception; the lexer takes any bytes."""
    import random

    from exemptlint.loaders.bicep import load_bicep_text
    from exemptlint.loaders.bicep_lex import grammar_gaps

    rng = random.Random(13_17)
    sources = [(p, p.read_text(encoding="utf-8")) for p in sorted(CURRENT.rglob("*.bicep*"))]
    pieces = ["!", "$'''", "$$'''", "'''", "'", "${", "}", "[0]", "?\n", "\n", "(", ")", "[", "]", ","]
    pieces += ["resourceInput<'a/b@1'>.properties", "extends './x.bicepparam'\n", "using none\n", "é"]
    pieces += ["var x string = ", "param p lockType?\n", "...", " // !\n", "/*", "*/", "#", "\\"]
    options = LoadOptions(today=TODAY, time_budget=0)
    for _ in range(300):
        path, text = rng.choice(sources)
        chars = list(text)
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(chars) + 1)
            if rng.random() < 0.6:
                chars.insert(at, rng.choice(pieces))
            else:
                del chars[at : at + rng.randint(1, 12)]
        mutated = "".join(chars)
        try:
            parse_document(mutated, path.suffix == ".bicepparam")
        except BicepSyntaxError as error:
            assert 1 <= error.line <= mutated.count("\n") + 1
            assert error.column >= 1
        run(load_bicep_text(mutated, path.name, options, path))
    for _ in range(200):
        data = bytes(rng.randrange(256) for _ in range(rng.randint(0, 200)))
        lexed = lex(data)
        postfix_bangs(data, lexed.tokens)
        unclosed_bracket(lexed.tokens)
        for start, end, replacement in grammar_gaps(data, lexed).edits:
            assert len(replacement) == end - start


@pytest.mark.parametrize(
    "source",
    [
        "@export()\ntype lockType = {\n  name: string?\n  kind: ('CanNotDelete' | 'ReadOnly')?\n}?\nvar a = 1\n",
        "param a {\n  b: string\n}?\nvar a2 = 1\n",
        "output o {\n  a: string\n}? = null\nvar x = 1\n",
    ],
)
def test_nullable_object_types_before_another_statement_parse(source: str) -> None:
    document = parse_document(source)
    assert document.variables
    assert all(p.nullable for p in document.params)
