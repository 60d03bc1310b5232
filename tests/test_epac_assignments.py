"""EPAC assignment files read as policy assignments (issue 14): the tree forms, environments and
custom initiatives of tests/fixtures/epac_repo, EPAC exemptions resolved in their own environment
(EL001 gives a verdict instead of EL010), found from the exemption file's location or named with
--epac-definitions / config epac.definitions, and malformed assignment files reported one line each.
Judged through the JSON report."""

from __future__ import annotations

import datetime
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from exemptlint.cli import main
from exemptlint.epac_layout import epac_place
from exemptlint.loaders import LoadOptions, load_file
from exemptlint.loaders.epac_definitions import ContextCache, definitions_of_run
from tests.json_report import located

REPO = Path(__file__).resolve().parents[1]
EPAC = Path("tests") / "fixtures" / "epac_repo"
DEFINITIONS = EPAC / "Definitions"
DEV = DEFINITIONS / "policyExemptions" / "epac-dev" / "dev-exemptions.jsonc"
PROD = DEFINITIONS / "policyExemptions" / "tenant" / "prod-exemptions.jsonc"
TODAY = ["--today", "2026-11-24"]
AUTH = "/providers/Microsoft.Authorization"
MG = "/providers/Microsoft.Management/managementGroups/"
MCSB = f"{AUTH}/policySetDefinitions/1f3afdf9-d0c9-4c3d-847f-89da613e70a8"
NIST = f"{AUTH}/policySetDefinitions/179d1daa-458f-4e47-8086-2a68d0d6c38f"
GUEST = f"{AUTH}/policySetDefinitions/12794019-7a00-42cf-95c2-882eed337cc8"
TENANT_ROOT = MG + "70000000-0000-4000-8000-0000000000aa"
SUB1 = "/subscriptions/11111111-0000-4000-8000-000000000001"
SUB2 = "/subscriptions/22222222-0000-4000-8000-000000000002"


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


def report(tmp_path: Path, *args: str, errors: bool = False) -> dict[str, Any]:
    out = tmp_path / "report.json"
    code = main(["check", *args, *TODAY, "--format", "json", "--output", str(out), "--jobs", "1"])
    document: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    assert code == (2 if errors else code) and code in ((2,) if errors else (0, 1))
    if not errors:
        assert document["errors"] == []
    return document


def honoured(document: dict[str, Any]) -> dict[str, list[str] | None]:
    return {
        e["name"]: e["honouredInitiatives"]
        for e in document["exemptions"]
        if "Output" not in e["source"]["file"]
    }


# --- the tree forms ---------------------------------------------------------------------------


def test_assignment_trees_give_one_assignment_per_entry_environment_and_scope() -> None:
    loaded, roots = definitions_of_run([], [str(DEFINITIONS)], ContextCache())
    assert loaded.errors == []
    found = {
        (a.epac.pac_selector if a.epac else None, a.id, a.policy_definition_id) for a in loaded.assignments
    }
    assignment = f"{AUTH}/policyAssignments/"
    assert found == {
        # Nested children: "sec-" + "mcsb"; one pac selector with one scope, another with two.
        ("epac-dev", f"{MG}contoso-dev{assignment}sec-mcsb", MCSB),
        ("tenant", f"{MG}contoso-platform{assignment}sec-mcsb", MCSB),
        ("tenant", f"{MG}contoso-landing-zones{assignment}sec-mcsb", MCSB),
        # policySetName of a custom initiative: at each environment's deployment root.
        (
            "epac-dev",
            f"{SUB1}{assignment}sec-baseline",
            f"{MG}contoso-dev{AUTH}/policySetDefinitions/contoso-baseline",
        ),
        (
            "tenant",
            f"{SUB2}{assignment}sec-baseline",
            f"{TENANT_ROOT}{AUTH}/policySetDefinitions/contoso-baseline",
        ),
        # definitionEntryList: one assignment per entry, its name before ("nist-") or after
        # (append: "-guest") the branch's; "*" scopes in every environment.
        ("tenant", f"{MG}contoso-landing-zones{assignment}nist-cmp", NIST),
        ("tenant", f"{MG}contoso-sandbox{assignment}nist-cmp", NIST),
        ("epac-dev", f"{MG}contoso-sandbox{assignment}nist-cmp", NIST),
        ("tenant", f"{MG}contoso-landing-zones{assignment}cmp-guest", GUEST),
        ("tenant", f"{MG}contoso-sandbox{assignment}cmp-guest", GUEST),
        ("epac-dev", f"{MG}contoso-sandbox{assignment}cmp-guest", GUEST),
        # The same name in two environments, a different initiative in each.
        ("epac-dev", f"{SUB1}{assignment}team-std", GUEST),
        ("tenant", f"{SUB2}{assignment}team-std", NIST),
    }
    # ignoreBranch: the "legacy" branch deploys nothing.
    assert not any("legacy" in str(a.id) for a in loaded.assignments)
    # The tenant environment is deployed at the management group named after the tenant.
    assert roots == frozenset({"70000000-0000-4000-8000-0000000000aa"})


def test_an_assignment_file_met_in_a_walk_is_read_as_assignments() -> None:
    file = DEFINITIONS / "policyAssignments" / "team.json"
    result = load_file(file, LoadOptions(today=__import__("datetime").date(2026, 11, 24)))
    assert result.errors == [] and result.exemptions == []
    assert sorted(str(a.id).rsplit("/", 1)[-1] for a in result.assignments) == ["team-std", "team-std"]
    assert {a.source.format for a in result.assignments} == {"epac-assignment"}


def test_epac_place_of_exemption_and_assignment_files() -> None:
    dev = epac_place("repo/Definitions/policyExemptions/epac-dev/sub/x.jsonc")
    assert dev is not None and dev.pac_selector == "epac-dev" and dev.deployed
    assert dev.root.endswith("/repo/Definitions")
    loose = epac_place("repo/Definitions/policyExemptions/x.jsonc")
    assert loose is not None and loose.pac_selector is None and not loose.deployed
    for exported in (
        "repo/Output/policyExemptions/tenant/all-exemptions.csv",
        "repo/outputdev/export/Definitions/policyExemptions/epac-dev/active-exemptions.csv",
    ):
        place = epac_place(exported)
        assert place is not None and not place.deployed, exported
    assert epac_place("repo/exemptions/x.jsonc") is None


# --- exemptions resolved in their environment ---------------------------------------------------


def test_epac_exemptions_resolve_to_what_their_assignment_assigns(tmp_path: Path) -> None:
    document = report(tmp_path, str(EPAC))
    # Custom initiative (by a full id), then a built-in one that is not regulatory (by
    # assignmentName, in the development environment): EL001, and no EL010 at all.
    assert located(document, "EL001", "EL010") == [
        ("dev-exemptions.jsonc", "EL001", "error", 21, 7),
        ("dev-exemptions.jsonc", "EL001", "error", 31, 7),
        ("dev-exemptions.jsonc", "EL001", "error", 40, 7),
        ("dev-exemptions.jsonc", "EL001", "error", 50, 7),
    ]
    custom, guest, *_ = [f["message"] for f in document["findings"] if f["ruleId"] == "EL001"]
    assert custom == (
        f"assignment '{SUB1}{AUTH}/policyAssignments/sec-baseline' assigns the custom initiative "
        f"'{MG}contoso-dev{AUTH}/policySetDefinitions/contoso-baseline'; Defender for Cloud honours exemptions "
        "only on the Microsoft cloud security benchmark and built-in regulatory compliance initiatives"
    )
    # An assignmentName shows the assignment it names in the exemption's environment.
    assert guest.startswith(
        f"assignment '{SUB1}{AUTH}/policyAssignments/team-std' assigns the built-in initiative"
    )
    assert honoured(document) == {
        "dev-mcsb-app": ["Microsoft cloud security benchmark"],
        "dev-baseline-app": None,
        "dev-team-app": None,
        "dev-baseline-other": None,
        "dev-baseline-moving": None,
        # The same assignmentName in the tenant environment is NIST.
        "prod-team-web": ["NIST SP 800-53 Rev. 5"],
        "prod-nist-web": ["NIST SP 800-53 Rev. 5"],
        "prod-mcsb-sandbox": ["Microsoft cloud security benchmark"],
        "prod-nist-web-csv": ["NIST SP 800-53 Rev. 5"],
        "web-nist": ["NIST SP 800-53 Rev. 5"],
    }


def test_assignments_are_found_from_the_exemption_files_location(tmp_path: Path) -> None:
    """A pre-commit run names only the changed exemption file: its Definitions folder is found
    upwards and its assignment files are read, although the run does not lint them."""
    alone = report(tmp_path, str(DEV))
    whole = report(tmp_path, str(EPAC))
    assert located(alone, "EL001", "EL010") == located(whole, "EL001", "EL010")
    assert located(report(tmp_path, str(PROD)), "EL001", "EL010") == []


def test_outside_an_epac_layout_the_assignments_are_unknown(tmp_path: Path) -> None:
    loose = tmp_path / "review" / "dev-exemptions.jsonc"
    loose.parent.mkdir()
    shutil.copyfile(DEV, loose)
    document = report(tmp_path, str(loose))
    assert [rule for _, rule, *_ in located(document, "EL001", "EL010")] == ["EL010"] * 5


def test_epac_definitions_option_and_config(tmp_path: Path) -> None:
    loose = tmp_path / "review" / "dev-exemptions.jsonc"
    loose.parent.mkdir()
    shutil.copyfile(DEV, loose)
    expected = [
        ("dev-exemptions.jsonc", "EL001", "error", 21, 7),
        # Outside an environment folder, team-std names one assignment in each environment, and
        # the two assign different initiatives.
        ("dev-exemptions.jsonc", "EL010", "warning", 31, 7),
        ("dev-exemptions.jsonc", "EL001", "error", 40, 7),
        ("dev-exemptions.jsonc", "EL001", "error", 50, 7),
    ]
    named = report(tmp_path, str(loose), "--epac-definitions", str(DEFINITIONS))
    assert located(named, "EL001", "EL010") == expected
    config = tmp_path / "exemptlint.yaml"
    config.write_text(f"epac:\n  definitions: {REPO / DEFINITIONS}\n", encoding="utf-8")
    configured = report(tmp_path, str(loose), "--config", str(config))
    assert located(configured, "EL001", "EL010") == expected


def test_a_missing_definitions_folder_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = report(tmp_path, str(PROD), "--epac-definitions", "no/such/Definitions", errors=True)
    assert document["errors"] == [
        {
            "file": "no/such/Definitions",
            "line": 1,
            "column": 1,
            "message": "EPAC definitions folder not found",
        }
    ]
    config = tmp_path / "exemptlint.yaml"
    config.write_text("epac:\n  definitions: [nowhere]\n", encoding="utf-8")
    assert main(["check", str(PROD), *TODAY, "--config", str(config)]) == 2
    assert (
        f"{config}:2:1: error: epac.definitions.0: no such folder: {tmp_path / 'nowhere'}"
        in capsys.readouterr().err
    )


# --- malformed assignment files ------------------------------------------------------------------

BROKEN = {
    "invalid.jsonc": '{\n  "nodeName": "x",\n  "definitionEntry": {"policySetName": "a"}\n  "scope": {}\n}\n',
    "two-definitions.jsonc": (
        "{\n"
        '  "nodeName": "/two/",\n'
        '  "assignment": {"name": "two", "displayName": "Two"},\n'
        '  "definitionEntry": {"policySetName": "a", "policySetId": "/providers/x"},\n'
        '  "scope": {"epac-dev": ["/subscriptions/11111111-0000-4000-8000-000000000001"]}\n'
        "}\n"
    ),
    "scope-not-object.jsonc": (
        "{\n"
        '  "nodeName": "/scope/",\n'
        '  "assignment": {"name": "scope", "displayName": "Scope"},\n'
        '  "definitionEntry": {"policySetName": "a"},\n'
        '  "scope": ["/subscriptions/11111111-0000-4000-8000-000000000001"]\n'
        "}\n"
    ),
    "no-scope.jsonc": (
        "{\n"
        '  "nodeName": "/none/",\n'
        '  "children": [\n'
        '    {"nodeName": "leaf", "assignment": {"name": "leaf", "displayName": "Leaf"},\n'
        '     "definitionEntry": {"policySetName": "a"}}\n'
        "  ]\n"
        "}\n"
    ),
    "children-not-list.jsonc": '{\n  "nodeName": "/c/",\n  "definitionEntry": {"policySetName": "a"},\n  "children": {}\n}\n',
}


def test_malformed_assignment_files_are_one_line_errors_and_the_run_goes_on(tmp_path: Path) -> None:
    definitions = tmp_path / "Definitions"
    shutil.copytree(DEFINITIONS / "policyExemptions", definitions / "policyExemptions")
    shutil.copytree(DEFINITIONS / "policyAssignments", definitions / "policyAssignments")
    for name, text in BROKEN.items():
        (definitions / "policyAssignments" / name).write_text(text, encoding="utf-8")
    exemptions = definitions / "policyExemptions" / "epac-dev" / "dev-exemptions.jsonc"
    folder = definitions / "policyAssignments"
    for args in ([str(exemptions)], [str(definitions)]):
        document = report(tmp_path, *args, errors=True)
        errors = sorted(
            (Path(e["file"]).name, e["line"], e["column"], e["message"]) for e in document["errors"]
        )
        assert errors == [
            ("children-not-list.jsonc", 4, 3, "EPAC assignment node '/c/': children must be a list of nodes"),
            ("invalid.jsonc", 4, 3, "invalid JSON: Expecting ',' delimiter"),
            (
                "no-scope.jsonc",
                4,
                5,
                "EPAC assignment node '/none/leaf': the branch ends without a scope (every branch needs exactly one)",
            ),
            (
                "scope-not-object.jsonc",
                5,
                3,
                "EPAC assignment node '/scope/': scope must be an object of pac selectors and their lists of scopes",
            ),
            (
                "two-definitions.jsonc",
                4,
                3,
                "EPAC assignment node '/two/': a definition entry names more than one definition: give exactly "
                "one of policySetName, policySetId, initiativeName, initiativeId, policyName, policyId",
            ),
        ]
        assert all(e["file"].startswith(str(folder)) for e in document["errors"]), document["errors"]
        # The well-formed files still resolve the exemptions.
        assert [rule for _, rule, *_ in located(document, "EL001", "EL010")] == ["EL001"] * 4


# --- worker processes ----------------------------------------------------------------------------


def test_workers_resolve_epac_assignments_as_one_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("multiprocessing")
    one = main(["check", str(EPAC), *TODAY, "--format", "json", "--jobs", "1"]), capsys.readouterr().out
    two = main(["check", str(EPAC), *TODAY, "--format", "json", "--jobs", "2"]), capsys.readouterr().out
    assert one == two
    assert '"EL010"' not in one[1] and '"EL015"' in one[1]


def test_other_trees_of_nodes_are_not_epac_assignments(tmp_path: Path) -> None:
    """A tree of nodes that gives no definition entry anywhere (another tool's) is not read as one,
    even when its text mentions the keyword."""
    other = tmp_path / "menu.json"
    other.write_text(
        json.dumps({"nodeName": "root", "children": [{"nodeName": "definitionEntry help", "children": []}]}),
        encoding="utf-8",
    )
    result = load_file(other, LoadOptions(today=__import__("datetime").date(2026, 11, 24)))
    assert (result.errors, result.assignments, result.exemptions) == ([], [], [])


def test_an_assignment_file_whose_keys_differ_in_case_is_not_taken_for_raw_json(tmp_path: Path) -> None:
    # EPAC reads keys in any case; the raw-JSON fast path must not take such a file for an
    # exemption file that holds nothing, which would lose its assignment without a word.
    path = tmp_path / "team.json"
    path.write_text(
        json.dumps(
            {
                "NodeName": "/team/",
                "assignment": {"name": "team-std", "displayName": "Team standard"},
                "definitionEntry": {"policySetName": "12794019-7a00-42cf-95c2-882eed337cc8"},
                "scope": {"epac-dev": ["/subscriptions/11111111-0000-4000-8000-000000000001"]},
            }
        ),
        encoding="utf-8",
    )
    result = load_file(path, LoadOptions(today=datetime.date(2026, 11, 24)), "team.json")
    assert (result.errors, result.exemptions) == ([], [])
    assert [a.name for a in result.assignments] == ["team-std"]
