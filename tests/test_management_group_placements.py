"""Where management groups and subscriptions sit, from the management groups the scanned files
deploy (issue 14): ARM, Bicep, Terraform (azurerm and AzAPI), Terraform plans and REST objects
place them, and EL014 judges exemptions by it (failing and passing fixtures, by line and column).

Every hierarchy fixture builds the same tree:

    tenant root group (its name, the tenant id, is in no file)
    └── contoso (deployed without a parent)
        ├── contoso-platform        subscription 1111...
        │   └── contoso-connectivity   subscription 4444...
        ├── contoso-sandbox         subscription 2222...
        │   (a second resource would move it below the platform, but is not deployed)
    contoso-landing-zones (parent from a parameter without a value: not known)  subscription 5555...
"""

from __future__ import annotations

import datetime
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from exemptlint.cli import main
from exemptlint.hierarchy import TENANT_ROOT, Hierarchy, Node, contains
from exemptlint.loaders import LoadOptions, certainly_irrelevant, load_file
from exemptlint.model import FixedLocator, Placement, Position, Source, Unresolved
from exemptlint.parallel import may_place_management_group
from tests.json_report import check_json, located, messages

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path("tests") / "fixtures" / "management_groups"
EXEMPTIONS = FIXTURES / "exemptions.json"
MG = "/providers/Microsoft.Management/managementGroups/"
SUB = "/subscriptions/"
TENANT = "70000000-0000-4000-8000-0000000000aa"
# exemptions.json: the sandbox subscription and the sandbox group are beside the platform group
# whose assignment they name; the hub subscription is below the platform, not the sandbox.
OUTSIDE = [
    ("exemptions.json", "EL014", "error", 5, 5),
    ("exemptions.json", "EL014", "error", 65, 5),
    ("exemptions.json", "EL014", "error", 125, 5),
]
HIERARCHIES = {
    "arm": FIXTURES / "arm" / "hierarchy.json",
    "bicep": FIXTURES / "bicep" / "hierarchy.bicep",
    "terraform": FIXTURES / "terraform",
    "plan": FIXTURES / "plan" / "tfplan.json",
}


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


def report(tmp_path: Path, *paths: Path | str, config: str | None = None, jobs: str = "1") -> dict[str, Any]:
    return check_json(tmp_path, *paths, config=config, jobs=jobs)


def parents_of(path: Path) -> dict[Node, Node | None]:
    """The hierarchy that the placements of ``path`` (a file, or a Terraform directory) give."""
    options = LoadOptions(today=datetime.date(2026, 11, 24))
    files = sorted(path.glob("*.tf")) if path.is_dir() else [path]
    placements = [p for file in files for p in load_file(file, options).placements]
    return dict(Hierarchy.empty().with_placements(placements).parents)


# The tree every fixture describes (the plan leaves the top group's parent to the provider; the
# landing zones' parent is a parameter without a value, so they are not placed).
TREE: dict[Node, Node | None] = {
    ("mg", "contoso"): TENANT_ROOT,
    ("mg", "contoso-platform"): ("mg", "contoso"),
    ("mg", "contoso-connectivity"): ("mg", "contoso-platform"),
    ("mg", "contoso-sandbox"): ("mg", "contoso"),
    ("sub", "11111111-0000-4000-8000-000000000001"): ("mg", "contoso-platform"),
    ("sub", "44444444-0000-4000-8000-000000000004"): ("mg", "contoso-connectivity"),
    ("sub", "22222222-0000-4000-8000-000000000002"): ("mg", "contoso-sandbox"),
    ("sub", "55555555-0000-4000-8000-000000000005"): ("mg", "contoso-landing-zones"),
}


@pytest.mark.parametrize("kind", ["arm", "bicep", "terraform"])
def test_templates_place_the_tree(kind: str) -> None:
    assert parents_of(HIERARCHIES[kind]) == TREE


def test_a_plan_places_what_it_knows() -> None:
    expected = {node: parent for node, parent in TREE.items() if node != ("mg", "contoso")}
    del expected[("sub", "55555555-0000-4000-8000-000000000005")]
    assert parents_of(HIERARCHIES["plan"]) == expected


def test_rest_objects_place_groups_with_a_parent_only() -> None:
    # As Azure returns them: the group without a parent is the tenant root group itself (or, in a
    # request body, one created under it), so it is not placed; REST objects place no subscription.
    assert parents_of(FIXTURES / "raw" / "management-groups.json") == {
        ("mg", "contoso-platform"): ("mg", "contoso"),
        ("mg", "contoso-connectivity"): ("mg", "contoso-platform"),
        ("mg", "contoso-sandbox"): ("mg", "contoso"),
    }


@pytest.mark.parametrize("kind", sorted(HIERARCHIES))
def test_el014_by_the_tree_the_files_deploy(tmp_path: Path, kind: str) -> None:
    assert located(report(tmp_path, EXEMPTIONS, HIERARCHIES[kind]), "EL014") == OUTSIDE


def test_el014_by_rest_objects(tmp_path: Path) -> None:
    # The subscriptions are not placed: only the sandbox group is known to be beside the platform.
    document = report(tmp_path, EXEMPTIONS, FIXTURES / "raw")
    assert located(document, "EL014") == [("exemptions.json", "EL014", "error", 65, 5)]


def test_el014_without_the_tree_no_finding(tmp_path: Path) -> None:
    assert located(report(tmp_path, EXEMPTIONS), "EL014") == []


def test_el014_message_names_each_step_and_its_file(tmp_path: Path) -> None:
    document = report(tmp_path, EXEMPTIONS, HIERARCHIES["arm"])
    first = messages(document, "EL014")[0]
    where = "tests/fixtures/management_groups/arm/hierarchy.json"
    assert (
        f"(subscription '22222222-0000-4000-8000-000000000002' is in 'contoso-sandbox' ({where}:68), "
        f"'contoso-sandbox' in 'contoso' ({where}:49), 'contoso' in the tenant root group ({where}:13); "
        f"management group 'contoso-platform' is in 'contoso' ({where}:19))"
    ) in first
    assert first.endswith("Azure rejects the exemption: exempt a scope the assignment applies to, "
                          "or name the assignment that applies at this scope")


def test_el014_files_that_disagree_decide_nothing(tmp_path: Path) -> None:
    """A second template places the sandbox below the platform: which one deploys is not known."""
    other = tmp_path / "other" / "sandbox.json"
    other.parent.mkdir()
    template = json.loads(HIERARCHIES["arm"].read_text(encoding="utf-8"))
    moved = template["resources"][5]
    assert moved["condition"] == "[parameters('moveSandbox')]"
    del moved["condition"]
    template["resources"] = [moved]
    other.write_text(json.dumps(template), encoding="utf-8")
    assert located(report(tmp_path, EXEMPTIONS, HIERARCHIES["arm"], other), "EL014") == []


def test_el014_config_wins_over_the_files(tmp_path: Path) -> None:
    # The config puts the sandbox below the platform: the sandbox subscription and group are then
    # inside the platform's assignment, and the hub is still outside the sandbox's.
    config = "management-groups:\n  contoso-sandbox: contoso-platform\n"
    document = report(tmp_path, EXEMPTIONS, HIERARCHIES["arm"], config=config)
    assert located(document, "EL014") == [("exemptions.json", "EL014", "error", 125, 5)]
    # Where the exemption's scope sits, and where the assignment's group sits.
    # (The sandbox's line meets the hub's at the platform group: the rest is said once.)
    assert messages(document, "EL014")[0].endswith(
        "'contoso' in the tenant root group (tests/fixtures/management_groups/arm/hierarchy.json:13); "
        "management group 'contoso-sandbox' is in 'contoso-platform' (config 'management-groups')); "
        "Azure rejects the exemption: exempt a scope the assignment applies to, or name the assignment "
        "that applies at this scope"
    )


@pytest.mark.parametrize("kind", ["arm", "terraform"])
def test_el014_the_same_in_worker_processes(tmp_path: Path, kind: str) -> None:
    # The hierarchy file holds no exemption: the first pass must load it for its placements.
    tree = tmp_path / "tree"
    shutil.copytree(FIXTURES, tree)
    path = tree / HIERARCHIES[kind].relative_to(FIXTURES)
    two = report(tmp_path, tree / "exemptions.json", path, jobs="2")
    assert located(two, "EL014") == OUTSIDE


# --- the hierarchy --------------------------------------------------------------------------------


def placement(child: Any, parent: Any, line: int = 1) -> Placement:
    return Placement(child, parent, Source("mgs.json", "arm", FixedLocator(Position(line, 1))))


def test_a_group_without_a_parent_is_below_the_unnamed_tenant_root_group() -> None:
    hierarchy = Hierarchy.empty().with_placements([placement(MG + "x", None), placement(MG + "y", MG + "x")])
    # A group whose own parent is known is not the tenant root group: not above x.
    placed = hierarchy.with_placements([placement(MG + "p", MG + "q")])
    assert contains(MG + "p", MG + "y", placed) is False
    # A group with no known parent may be the tenant root group itself (named after the tenant).
    assert contains(MG + TENANT, MG + "y", hierarchy) is None
    assert contains(MG + "x", MG + "y", hierarchy) is True


def test_a_parent_not_known_statically_places_nothing() -> None:
    unknown = Unresolved("parameters('parent')", "no value")
    hierarchy = Hierarchy.empty().with_placements(
        [placement(MG + "x", unknown), placement(SUB + "1", "x"), placement(Unresolved("n", "r"), MG + "z")]
    )
    assert dict(hierarchy.parents) == {("sub", "1"): ("mg", "x")}
    assert contains(MG + "a", SUB + "1", hierarchy) is None


def test_placements_that_agree_are_kept_and_that_disagree_are_dropped() -> None:
    hierarchy = Hierarchy.empty().with_placements(
        [
            placement(MG + "x", MG + "a"),
            placement(MG + "x", "/providers/microsoft.management/managementgroups/A/", 7),
            placement(MG + "y", MG + "a"),
            placement(MG + "y", MG + "b"),
        ]
    )
    assert dict(hierarchy.parents) == {("mg", "x"): ("mg", "a")}
    assert hierarchy.origins[("mg", "x")] == "mgs.json:1"


def test_config_and_epac_roots_win_over_placements() -> None:
    hierarchy = Hierarchy.of({"x": "c"}).with_roots(frozenset({TENANT}))
    placed = hierarchy.with_placements([placement(MG + "x", MG + "a"), placement(MG + TENANT, MG + "a")])
    assert placed.parents[("any", "x")] == ("mg", "c")
    assert ("mg", "x") not in placed.parents
    assert placed.parents[("mg", TENANT)] is None


def test_described() -> None:
    hierarchy = Hierarchy.of({"c": None}).with_placements(
        [placement(SUB + "1", MG + "b", 3), placement(MG + "b", MG + "c", 9)]
    )
    assert hierarchy.described(("sub", "1")) == (
        "subscription '1' is in 'b' (mgs.json:3), 'b' in 'c' (mgs.json:9), 'c' a root "
        "(config 'management-groups')"
    )
    assert hierarchy.described(("mg", "c")) == "management group 'c' is a root (config 'management-groups')"
    assert hierarchy.described(("mg", "unknown")) == ""


# --- reading only what may place a group ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"type": "Microsoft.Management/managementGroups", "name": "x"}', True),
        ('{"type": "Microsoft.Management/managementGroups/subscriptions", "name": "x/1"}', True),
        ("resource mg 'Microsoft.Management/managementGroups@2021-04-01' = {", True),
        ('resource "azurerm_management_group" "x" {', True),
        ('resource "azurerm_management_group_subscription_association" "x" {', True),
        # Ids of management groups do not place them.
        ('{"scope": "/providers/Microsoft.Management/managementGroups/x"}', False),
        ('resource "azurerm_management_group_policy_exemption" "x" {', False),
    ],
)
def test_may_place_management_group(text: str, expected: bool) -> None:
    assert may_place_management_group(text) is expected


def test_byte_prefilter_keeps_management_group_files() -> None:
    for path in (HIERARCHIES["arm"], HIERARCHIES["plan"], FIXTURES / "raw" / "management-groups.json"):
        assert not certainly_irrelevant(path.read_bytes(), ".json", path.name)
    assert certainly_irrelevant(b'{"scope": "/providers/Microsoft.Management/managementGroups/x"}', ".json")


def test_the_docs_example_is_what_the_run_prints(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO / FIXTURES / "docs")
    assert main(["check", "exemptions.json", "mgs.bicep", "--today", "2026-11-24", "--format", "concise"]) == 1
    (line, summary) = capsys.readouterr().out.splitlines()
    page = (REPO / "docs" / "rules" / "EL014.md").read_text(encoding="utf-8")
    assert f"\n{line}\n" in page
    assert (REPO / FIXTURES / "docs" / "mgs.bicep").read_text(encoding="utf-8") in page
    assert summary.startswith("Checked 1 exemption in 2 files: 1 error")
