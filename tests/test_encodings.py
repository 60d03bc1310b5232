"""Text encodings (issue 17.8) and columns (issue 12.8).

Files in UTF-16 or UTF-32 with a byte-order mark (Windows PowerShell 5.1's ``Out-File`` writes
UTF-16 LE with one by default) are decoded by their mark in every loader, siblings and parameter
files included, and give exactly the findings and positions of the same file in UTF-8. Other
encodings are still refused with one line naming the place. A byte-order mark is not a column in
any format: a column is what an editor shows."""

from __future__ import annotations

import codecs
import datetime
import io
import json
import os
import shutil
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from exemptlint.cli import main
from exemptlint.engine import LintSettings, lint
from exemptlint.loaders import LoadOptions, SourceDecodeError, decode_text, load_file
from exemptlint.rules import BUILTIN_RULES

TODAY = datetime.date(2026, 11, 24)
ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"

ENCODINGS = {
    "utf-8-bom": (codecs.BOM_UTF8, "utf-8"),
    "utf-16-le": (codecs.BOM_UTF16_LE, "utf-16-le"),
    "utf-16-be": (codecs.BOM_UTF16_BE, "utf-16-be"),
    "utf-32-le": (codecs.BOM_UTF32_LE, "utf-32-le"),
    "utf-32-be": (codecs.BOM_UTF32_BE, "utf-32-be"),
}

# What `Get-AzPolicyExemption | ConvertTo-Json | Out-File exemption.json` writes (in UTF-16 LE with
# a BOM and CRLF line ends from Windows PowerShell 5.1): written for this project.
POWERSHELL_EXPORT = """{
    "Name":  "legacy-tls",
    "ResourceId":  "/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Authorization/policyExemptions/legacy-tls",
    "ResourceName":  "legacy-tls",
    "ResourceType":  "Microsoft.Authorization/policyExemptions",
    "SubscriptionId":  "00000000-0000-0000-0000-000000000001",
    "Properties":  {
                       "PolicyAssignmentId":  "/providers/Microsoft.Management/managementGroups/contoso/providers/Microsoft.Authorization/policyAssignments/SecurityCenterBuiltIn",
                       "PolicyDefinitionReferenceIds":  [
                                                            "webAppEnforceHttpsMonitoring"
                                                        ],
                       "ExemptionCategory":  "waiver",
                       "ExpiresOn":  "2027-01-31T00:00:00Z",
                       "DisplayName":  "Légacy TLS — waiver 😀", "Description":  "TODO"
                   }
}
"""

# An ARM template whose expiry comes from the parameters file beside it.
TEMPLATE = """{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "parameters": {"expiry": {"type": "string"}},
  "resources": [
    {
      "type": "Microsoft.Authorization/policyExemptions",
      "apiVersion": "2022-07-01-preview",
      "name": "legacy-tls",
      "properties": {
        "policyAssignmentId": "[subscriptionResourceId('Microsoft.Authorization/policyAssignments', 'SecurityCenterBuiltIn')]",
        "policyDefinitionReferenceIds": ["webAppEnforceHttpsMonitoring"],
        "exemptionCategory": "Waiver",
        "expiresOn": "[parameters('expiry')]",
        "displayName": "Legacy TLS waiver",
        "description": "The vendor ships TLS 1.2 support in the next release (CHG-2001)."
      }
    }
  ]
}
"""
TEMPLATE_PARAMETERS = '{"parameters": {"expiry": {"value": "2026-01-31T00:00:00Z"}}}\n'

# (what to encode, the file to lint): every loader, and the files loaders read beside the linted one.
CASES = {
    "powershell-json": ["export.json"],
    "raw-json": ["examples/bad-exemption.json"],
    "jsonc": ["tests/fixtures/duplicates/commented.jsonc"],
    "arm-with-sidecar": ["template.json", "template.parameters.json"],
    "epac-jsonc": ["tests/fixtures/epac/duplicate-keys.jsonc"],
    "epac-csv": ["tests/fixtures/epac/duplicate-columns.csv"],
    "yaml": ["tests/fixtures/yaml/duplicate-keys.yaml"],
    "bicep": ["tests/fixtures/bicep/plain.bicep"],
    "terraform-with-siblings": [
        "tests/fixtures/terraform/basic/main.tf",
        "tests/fixtures/terraform/basic/variables.tf",
        "tests/fixtures/terraform/basic/terraform.tfvars",
    ],
}


INLINE = {
    "export.json": POWERSHELL_EXPORT,
    "template.json": TEMPLATE,
    "template.parameters.json": TEMPLATE_PARAMETERS,
}


def stage(tmp_path: Path, case: str) -> list[Path]:
    """The case's files copied (as UTF-8) into ``tmp_path``; the first is the one linted."""
    copied = []
    for name in CASES[case]:
        target = tmp_path / Path(name).name
        if name in INLINE:
            target.write_text(INLINE[name], encoding="utf-8")
        else:
            shutil.copyfile(ROOT / name, target)
        copied.append(target)
    return copied


def located(path: Path) -> tuple[list[str], list[tuple[str, int, int, str]]]:
    result = load_file(path, LoadOptions(today=TODAY), display=path.name)
    found = lint(result.exemptions, result.assignments, LintSettings(today=TODAY), BUILTIN_RULES)
    return [str(e) for e in result.errors], [(f.rule_id, f.line, f.column, f.message) for f in found]


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("case", CASES)
def test_files_with_a_byte_order_mark_read_as_utf8(tmp_path: Path, case: str, encoding: str) -> None:
    files = stage(tmp_path, case)
    errors, expected = located(files[0])
    assert errors == [] and expected  # the UTF-8 file has findings to compare
    mark, codec = ENCODINGS[encoding]
    for path in files:
        text = path.read_text(encoding="utf-8")
        if codec == "utf-16-le":
            text = text.replace("\r\n", "\n").replace("\n", "\r\n")  # as Out-File writes it
        path.write_bytes(mark + text.encode(codec))
    found_errors, found = located(files[0])
    assert found_errors == []
    assert found == expected


def test_powershell_export_through_the_cli(tmp_path: Path) -> None:
    (tmp_path / "export.json").write_bytes(
        codecs.BOM_UTF16_LE + POWERSHELL_EXPORT.replace("\n", "\r\n").encode("utf-16-le")
    )
    out, err = io.StringIO(), io.StringIO()
    previous = Path.cwd()
    os.chdir(tmp_path)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            code = main(["check", "export.json", "--today", TODAY.isoformat(), "--format", "json"])
    finally:
        os.chdir(previous)
    report = json.loads(out.getvalue())
    assert code == 1 and report["errors"] == []
    places = [(f["ruleId"], f["line"], f["column"]) for f in report["findings"]]
    # Was: "export.json:1:1: error: file is not valid UTF-8 text". Columns count characters, the
    # emoji (two UTF-16 code units) is one.
    assert places == [("EL002", 12, 24), ("EL006", 14, 65)]


# --- what is still refused ---------------------------------------------------------------------


def test_utf16_without_a_byte_order_mark_is_named(tmp_path: Path) -> None:
    (tmp_path / "export.json").write_bytes(POWERSHELL_EXPORT.encode("utf-16-le"))
    (tmp_path / "big-endian.yaml").write_bytes("exemptionCategory: Waiver\n".encode("utf-16-be"))
    # Text that mentions no exemption is skipped as before, whatever its encoding.
    (tmp_path / "notes.json").write_bytes('{"unrelated": true}'.encode("utf-16-le"))
    errors = {}
    for name in ("export.json", "big-endian.yaml", "notes.json"):
        result = load_file(tmp_path / name, LoadOptions(today=TODAY), display=name)
        errors[name] = [str(e) for e in result.errors]
    assert errors == {
        "export.json": [
            "export.json:1:1: error: file looks like UTF-16 (little-endian) text without a byte-order "
            "mark; save it as UTF-8, or as UTF-16 with a byte-order mark"
        ],
        "big-endian.yaml": [
            "big-endian.yaml:1:1: error: file looks like UTF-16 (big-endian) text without a byte-order "
            "mark; save it as UTF-8, or as UTF-16 with a byte-order mark"
        ],
        "notes.json": [],
    }


def test_invalid_bytes_are_placed_in_characters(tmp_path: Path) -> None:
    # Line 2: "é" is one column (two bytes); the bad byte is the 10th character.
    (tmp_path / "latin.json").write_bytes(b'{"exemptionCategory":\n "caf\xc3\xa9 ol\xe9", "x": 1}')
    (error,) = load_file(tmp_path / "latin.json", LoadOptions(today=TODAY), display="latin.json").errors
    assert str(error) == "latin.json:2:10: error: file is not valid UTF-8 text"


def test_a_byte_order_mark_that_does_not_fit_the_bytes(tmp_path: Path) -> None:
    text = '{\n  "exemptionCategory": "Waiver"\n}\n'
    # An odd number of bytes after a UTF-16 mark: the last character is cut.
    (tmp_path / "cut.json").write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le")[:-1])
    (error,) = load_file(tmp_path / "cut.json", LoadOptions(today=TODAY), display="cut.json").errors
    assert str(error) == (
        "cut.json:3:2: error: file is not valid UTF-16 text (its byte-order mark says it is UTF-16)"
    )
    # A lone surrogate in UTF-16 BE.
    data = codecs.BOM_UTF16_BE + '{"exemptionCategory": "'.encode("utf-16-be") + b"\xd8\x00" + b'\x00"\x00}'
    (tmp_path / "surrogate.json").write_bytes(data)
    (error,) = load_file(tmp_path / "surrogate.json", LoadOptions(today=TODAY), display="surrogate.json").errors
    assert (error.line, error.column) == (1, 24)


def test_decode_text_strips_the_mark_and_keeps_utf8_as_it_is() -> None:
    assert decode_text(b"\xef\xbb\xbf{}") == "{}"
    assert decode_text(codecs.BOM_UTF32_LE + "x".encode("utf-32-le")) == "x"
    assert decode_text("é\r\n".encode()) == "é\r\n"
    with pytest.raises(SourceDecodeError):
        decode_text(b"\xff\xfe\x00")


# --- columns: a byte-order mark is not one -------------------------------------------------------

LINE_ONE = {
    # A finding on line 1 in each format, at a column after some text.
    "one.json": '{"name": "x", "properties": {"exemptionCategory": "Waiver", "exemptionCategory": "Mitigated"}}\n',
    "one.jsonc": '{"name": "x", /* c */ "properties": {"exemptionCategory": "waiver"}}\n',
    "one.yaml": "  {name: x, properties: {exemptionCategory: waiver, policyAssignmentId: /x}}\n",
    "one.csv": "name,exemptionCategory,description,policyAssignmentId,Description\nx,Waiver,TODO,/x,\n",
    "one.tf": '  resource "azurerm_subscription_policy_exemption" "x" {\n  exemption_category = "Waiver"\n}\n',
    "one.bicep": "  resource ex 'Microsoft.Authorization/policyExemptions@2022-07-01-preview' = {\n"
    "  name: 'x'\n}\n",
}


@pytest.mark.parametrize("name", LINE_ONE)
def test_a_byte_order_mark_is_not_a_column(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text(LINE_ONE[name], encoding="utf-8")
    errors, expected = located(tmp_path / name)
    assert errors == [] and [f for f in expected if f[1] == 1 and f[2] > 1]  # something to compare
    (tmp_path / name).write_bytes(codecs.BOM_UTF8 + LINE_ONE[name].encode("utf-8"))
    assert located(tmp_path / name) == ([], expected)
