"""The real corpus (../shared/corpus/real): no crash on any file, and every exemption that
MANIFEST.tsv lists is found for the formats the core loads."""

from __future__ import annotations

import csv
import datetime
import json
from pathlib import Path

import pytest

from exemptlint.cli import main
from exemptlint.loaders import LoadOptions, load_file

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "real"
TODAY = datetime.date(2026, 11, 24)

pytestmark = pytest.mark.skipif(
    not (CORPUS / "MANIFEST.tsv").is_file(), reason="the real corpus (../shared/corpus/real) is absent"
)

# Formats that later work covers; until then these files must load without error or crash,
# and the exemptions found are not counted.
DEFERRED_FORMATS: dict[str, str] = {}
# MANIFEST counts EPAC entries (a JSON object or a CSV row); an entry with several scopes deploys
# one exemption per scope, all at the entry's position.
ENTRY_FORMATS = frozenset({"epac-json", "epac-csv"})
# Files of format "other" that are not exemption sources by themselves.
NOT_SOURCES = {
    # Parameters for a Bicep or ARM module that is not in the corpus: the values become an
    # exemption only together with the module (issue 3 follows modules and their parameters).
    "Azure__ALZ-Bicep/infra-as-code__bicep__modules__policy__exemptions__parameters__policyExemptions.parameters.all.json",
    "Azure__ALZ-Bicep/infra-as-code__bicep__modules__policy__exemptions__parameters__policyExemptions.parameters.min.json",
    "Jaa9__Azure-Policy/Compliance__params-prod.json",
    "Azure__ResourceModules/arm__Microsoft.Authorization__policyExemptions__.parameters__parameters.json",
    "Azure__ResourceModules/arm__Microsoft.Authorization__policyExemptions__parameters__subLevelParameters.json",
    "Azure__ResourceModules/modules__Microsoft.Authorization__policyExemptions__.parameters__mg.parameters.json",
    "Azure__ResourceModules/modules__Microsoft.Authorization__policyExemptions__.parameters__sub.parameters.json",
    "Azure__ResourceModules/modules__Microsoft.Authorization__policyExemptions__.test__rg.parameters.json",
    # A Logic App whose workflow sends an exemption body at run time (Logic App @{...}
    # expressions, one per tagged resource): not a template that deploys an exemption.
    "Azure__Microsoft-Defender-for-Cloud/Workflow automation__Create-ExemptionsByResourceTag__Azuredeploy.json",
}


def manifest() -> list[dict[str, str]]:
    if not (CORPUS / "MANIFEST.tsv").is_file():
        return []
    with (CORPUS / "MANIFEST.tsv").open(encoding="utf-8") as stream:
        return list(csv.DictReader(stream, delimiter="\t"))


ROWS = manifest()
COUNTED = [r for r in ROWS if r["format"] not in DEFERRED_FORMATS and r["local_file"] not in NOT_SOURCES]


@pytest.mark.parametrize("row", COUNTED, ids=[r["local_file"] for r in COUNTED])
def test_every_listed_exemption_is_found(row: dict[str, str]) -> None:
    """Found, or listed as skipped: a resource or nested deployment whose condition is false with
    the file's values is not deployed (in this corpus each skipped one holds one exemption)."""
    result = load_file(CORPUS / row["local_file"], LoadOptions(today=TODAY), display=row["local_file"])
    assert result.errors == []
    if row["format"] in ENTRY_FORMATS:
        entries = {e.source.locator.exemption() for e in result.exemptions}
        assert len(entries) == int(row["exemptions"]), [e.label for e in result.exemptions]
    else:
        found = len(result.exemptions) + len(result.skipped)
        assert found == int(row["exemptions"]), [e.label for e in result.exemptions]


def test_counted_files_cover_the_core_formats() -> None:
    formats = {r["format"] for r in COUNTED}
    assert {"arm-template", "rest-example", "raw-exemption", "other", "epac-json", "epac-csv"} <= formats
    assert sum(int(r["exemptions"]) for r in COUNTED) >= 60


JSON_ROWS = ROWS  # every file, JSON, JSONC or CSV, must load without error


@pytest.mark.parametrize("row", JSON_ROWS, ids=[r["local_file"] for r in JSON_ROWS])
def test_no_file_crashes_or_fails_to_parse(row: dict[str, str]) -> None:
    path = CORPUS / row["local_file"]
    result = load_file(path, LoadOptions(today=TODAY), display=row["local_file"])
    assert result.errors == []


def test_whole_corpus_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.json"
    code = main(
        ["check", str(CORPUS), "--today", TODAY.isoformat(), "--format", "json", "--output", str(out)]
    )
    assert code == 1  # the corpus is full of findings, and every file parses
    report = json.loads(out.read_text(encoding="utf-8"))
    counted = {r["local_file"] for r in COUNTED}
    # One per entry: exemptions at the same place in the same file are one entry (EPAC scopes).
    entries = {
        (e["source"]["file"], e["source"]["line"], e["source"]["column"])
        for e in report["exemptions"]
        if any(e["source"]["file"].endswith(f) for f in counted)
    }
    skipped = [s for s in report["skipped"] if any(s["file"].endswith(f) for f in counted)]
    assert len(entries) + len(skipped) == sum(int(r["exemptions"]) for r in COUNTED)
    assert report["errors"] == []
    assert "Traceback" not in capsys.readouterr().err
