"""Realistic Bicep, modelled on how Azure Verified Modules, ALZ-Bicep and EPAC users write
exemptions: parameter objects, loops over arrays of exemptions, modules per scope, .bicepparam
files, assignments defined next to their exemptions.

Every expected finding below was worked out from the fixture text (the comment says why), not
copied from a run. "Today" is pinned to 2026-11-24. Files are shown relative to
tests/fixtures/bicep/realistic; a module's findings are in the module's file.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from exemptlint.engine import LintSettings, lint
from exemptlint.loaders import LoadOptions, load_file
from exemptlint.rules import BUILTIN_RULES

REALISTIC = Path(__file__).parent / "fixtures" / "bicep" / "realistic"
TODAY = datetime.date(2026, 11, 24)

AVM_MG = "avm/modules/management-group.bicep"
AVM_SUB = "avm/modules/subscription.bicep"
AVM_RG = "avm/modules/resource-group.bicep"
ALZ_SUB = "alz/modules/subscription-exemption.bicep"
ALZ_RG = "alz/modules/resource-group-exemption.bicep"
EPAC_SUB = "epac/subscription-exemption.bicep"
EPAC_RG = "epac/resource-group-exemption.bicep"

# (rule, level, file (None: the entry file itself), line, column, suppressed)
Expected = tuple[str, str, str | None, int, int, bool]

CASES: list[tuple[str, list[Expected]]] = [
    # AVM's policy-exemption pattern module called for a subscription: only the subscription
    # module is deployed (the other two conditions are false for the values passed); the
    # expiry 2026-12-15 is 21 days away (EL005 warns 30 days ahead) at expiresOn, line 53.
    ("avm-caller-subscription.bicep", [("EL005", "warning", AVM_SUB, 53, 5, False)]),
    # One module per resource group; rg-web-test's expiry 2026-09-30 has passed.
    ("avm-caller-resource-group.bicep", [("EL005", "error", AVM_RG, 53, 5, False)]),
    # Management-group scope (no scope property: EL007 at the name, line 45); description equals
    # displayName ('Sandbox'); no expiresOn passed, so the module writes null (EL003 at line 53).
    (
        "avm-caller-management-group.bicep",
        [
            ("EL007", "error", AVM_MG, 45, 3, False),
            ("EL006", "error", AVM_MG, 48, 5, False),
            ("EL003", "error", AVM_MG, 53, 5, False),
        ],
    ),
    # The AVM module linted on its own: only the management-group branch is deployed with the
    # defaults (the other branches depend on subscriptionId, whose default '' makes them false:
    # they are listed as skipped); name and policyAssignmentId have no value; displayName,
    # description and expiresOn default to '' with no caller to give them: inputs, not known
    # (EL009 notes, not "no description" errors).
    (
        "avm/main.bicep",
        [
            ("EL007", "error", AVM_MG, 45, 3, False),
            ("EL009", "note", AVM_MG, 47, 5, False),
            ("EL009", "note", AVM_MG, 48, 5, False),
            ("EL009", "note", AVM_MG, 51, 5, False),
            ("EL009", "note", AVM_MG, 53, 5, False),
        ],
    ),
    # The sibling .bicepparam gives two exemptions; the second ('shared-key') has a date without
    # time or zone (line 56, read as UTC as Azure reads it: no finding) and no description
    # (exemption.?description is null, line 58).
    ("avm-res-storage-exemptions.bicep", [("EL006", "error", None, 58, 7, False)]),
    # The second item of the typed array has no expiresOn: e.?expiresOn is null (line 41).
    ("avm-types-loop.bicep", [("EL003", "error", None, 41, 5, False)]),
    # ALZ management-group exemptions: no scope, so management-group level (name at line 27);
    # the assignment Enable-DDoS-VNET is not defined anywhere scanned (EL010, line 29).
    (
        "alz-mg-exemptions.bicep",
        [("EL007", "error", None, 27, 3, False), ("EL010", "warning", None, 29, 5, False)],
    ),
    # The assignment of the custom initiative Enforce-ACSB is defined in the file: EL001 at the
    # module's policyAssignmentId (line 21); no reference ids at subscription scope (line 22).
    (
        "alz-assignment-and-exemption.bicep",
        [("EL001", "error", ALZ_SUB, 21, 5, False), ("EL007", "warning", ALZ_SUB, 22, 5, False)],
    ),
    # Three subscriptions through one module: #1 'mitigated' (EL002 line 23) expiring
    # 2026-12-01 (EL005 warning line 24); #2 expiring 2028-12-31, 768 days ahead (EL004 line 24).
    (
        "alz-sub-placement.bicep",
        [
            ("EL002", "warning", ALZ_SUB, 23, 5, False),
            ("EL004", "error", ALZ_SUB, 24, 5, False),
            ("EL005", "warning", ALZ_SUB, 24, 5, False),
        ],
    ),
    # Module scoped to a resource group resource declared in the file; description 'To do' is
    # 5 characters (it is not one of the placeholders, which spell 'todo').
    ("alz-landing-zone-rg.bicep", [("EL006", "error", ALZ_RG, 11, 5, False)]),
    # EPAC exemptions.json, split by scope with filter(): rg-app-waf has no expiresOn (line 12),
    # rg-data-tags has assignmentScopeValidation 'DontValidate' (line 16); sub-nist-everything
    # names an assignment not defined here (EL010 line 9); it lists no reference ids, but whether that
    # assignment assigns an initiative is not known, so EL007 does not warn.
    (
        "epac-exemptions-json.bicep",
        [
            ("EL003", "error", EPAC_RG, 12, 5, False),
            ("EL008", "error", EPAC_RG, 16, 5, False),
            ("EL010", "warning", EPAC_SUB, 9, 5, False),
        ],
    ),
    # items() sorts the keys: 'vm-ssh-keys' is index 1; its description repeats its displayName.
    ("epac-object-map.bicep", [("EL006", "error", None, 33, 5, False)]),
    # 2028-06-30 is beyond 365 days, suppressed by metadata.exemptlint.ignore with a reason.
    ("epac-metadata-ignore.bicep", [("EL004", "error", None, 15, 5, True)]),
    # 'resourceTypes' is not a selector kind (resourceSelectors at line 15).
    ("epac-resource-selectors.bicep", [("EL008", "error", None, 15, 5, False)]),
    # Values from pipeline-params.bicepparam: environment 'test' deploys it; 2026-12-20 is 26 days away.
    ("pipeline-params.bicep", [("EL005", "warning", None, 18, 5, False)]),
    # Two .bicepparam files use multi-env.bicep; the first by name (dev) is used: 2026-11-30.
    ("multi-env.bicep", [("EL005", "warning", None, 14, 5, False)]),
    # environment defaults to 'dev', so the prod-only exemption is not deployed with the values
    # known: not linted, listed as skipped (test_conditions.py asserts the entry).
    ("conditional-env.bicep", []),
    # utcNow('u') in a parameter default is the pinned today; plus P400D is 2027-12-29.
    ("expiry-computed.bicep", [("EL004", "error", None, 10, 5, False)]),
    # Category 'waiver' from the parameter default (EL002 line 12); no time zone (line 13) is read
    # as UTC, as Azure reads it: no EL004.
    ("expiry-local-time.bicep", [("EL002", "warning", None, 12, 5, False)]),
    # map()/flatten() give 4 pairs; the two kv-app-test pairs (indexes 2 and 3) expired 2026-11-20.
    (
        "keyvault-lambdas.bicep",
        [("EL005", "error", None, 30, 5, False), ("EL005", "error", None, 30, 5, False)],
    ),
    # The assignment id comes from a module output; the module assigns the Kubernetes pod
    # security baseline, a built-in initiative that is not regulatory compliance.
    ("aks-module-outputs.bicep", [("EL001", "error", None, 11, 5, False)]),
    # The benchmark under the custom name pr-mcsb, defined in the file: eligible, nothing to report.
    ("sub-mcsb-assignment.bicep", []),
    # NIST SP 800-53 Rev. 5 is regulatory (eligible); the exemption has no description, so the
    # finding is at the properties key (line 16). NIST SP 800-53 R5.1.1 supersedes Rev. 5 (EL013
    # at the assignment id, line 17).
    (
        "regulatory-nist.bicep",
        [("EL006", "error", None, 16, 3, False), ("EL013", "warning", None, 17, 5, False)],
    ),
    # Built-in but not regulatory compliance (Guest Configuration prerequisites).
    ("builtin-not-regulatory.bicep", [("EL001", "error", None, 14, 5, False)]),
    # An assignment of a single policy definition.
    ("single-policy.bicep", [("EL001", "error", None, 20, 5, False)]),
    # corp-baseline is defined in another repository.
    ("unknown-assignment.bicep", [("EL010", "warning", None, 9, 5, False)]),
    # The registry module is a note at its path (line 4, column 21); the local module is clean.
    ("registry-avm-consumer.bicep", [("EL009", "note", None, 4, 21, False)]),
    # ':' and '/' in the name (line 4); a 141-character displayName (line 20); the singular
    # policyDefinitionReferenceId is not a property (line 22).
    (
        "invalid-name-and-lengths.bicep",
        [
            ("EL008", "error", None, 4, 3, False),
            ("EL008", "error", None, 20, 5, False),
            ("EL008", "error", None, 22, 5, False),
        ],
    ),
    # scope: managementGroup('alz'), the intermediate root (scope key at line 8).
    ("alz-intermediate-root.bicep", [("EL007", "error", None, 8, 3, False)]),
    # #disable-next-line EL007 with a reason suppresses the scope finding; the
    # exemptlint-disable-next-line comment for EL006 has no reason (EL011 at the comment).
    (
        "suppressed-scope.bicep",
        [
            ("EL007", "error", None, 6, 3, True),
            ("EL011", "warning", None, 12, 5, False),
            ("EL006", "error", None, 13, 5, True),
        ],
    ),
    # Three subnets with an existing parent; 2027-11-30 is 371 days away.
    (
        "vnet-subnets-nsg.bicep",
        [
            ("EL004", "error", None, 30, 5, False),
            ("EL004", "error", None, 30, 5, False),
            ("EL004", "error", None, 30, 5, False),
        ],
    ),
    # A module outside the repository and an ARM template module: notes at their paths.
    (
        "missing-module.bicep",
        [("EL009", "note", None, 4, 25, False), ("EL009", "note", None, 11, 20, False)],
    ),
    # Whole properties objects: findings point at the properties key; vm-updates expired.
    ("properties-object.bicep", [("EL005", "error", None, 30, 3, False)]),
    # No values for expiresOn and approvalToken (used in the description): EL009 notes.
    (
        "pipeline-unresolved.bicep",
        [("EL009", "note", None, 20, 5, False), ("EL009", "note", None, 22, 5, False)],
    ),
    # readEnvironmentVariable() in the .bicepparam is not known statically.
    ("env-variables.bicep", [("EL009", "note", None, 9, 5, False)]),
    # dependsOn and metadata with tags, scoped to a slot of an existing app: clean.
    ("tags-dependson.bicep", []),
]


def findings_of(entry: str) -> list[Expected]:
    result = load_file(REALISTIC / entry, LoadOptions(today=TODAY), display=entry)
    assert result.errors == []
    findings = lint(
        result.exemptions, result.assignments, LintSettings(today=TODAY), BUILTIN_RULES, notes=result.notes
    )
    return [
        (
            f.rule_id,
            f.level.value,
            None if f.file == entry else f.file,
            f.line,
            f.column,
            f.suppression is not None,
        )
        for f in findings
    ]


@pytest.mark.parametrize(("entry", "expected"), CASES, ids=[c[0] for c in CASES])
def test_realistic_fixture(entry: str, expected: list[Expected]) -> None:
    assert findings_of(entry) == expected


def test_at_least_thirty_realistic_fixtures() -> None:
    assert len(CASES) >= 30
    entries = {entry for entry, _ in CASES}
    bicep_files = {p.relative_to(REALISTIC).as_posix() for p in REALISTIC.rglob("*.bicep")}
    # Every entry exists; the other .bicep files are modules used by the entries.
    assert entries <= bicep_files
    assert len(bicep_files) >= 40


def test_every_realistic_file_parses_and_loads_on_its_own() -> None:
    """Modules linted standalone (as a directory run does) load without errors."""
    for path in sorted(REALISTIC.rglob("*.bicep*")):
        result = load_file(path, LoadOptions(today=TODAY), display=path.name)
        assert result.errors == [], path


def test_contexts_name_the_loop_iteration_and_the_module() -> None:
    result = load_file(
        REALISTIC / "alz-sub-placement.bicep", LoadOptions(today=TODAY), display="alz-sub-placement.bicep"
    )
    assert [e.source.context for e in result.exemptions] == [
        f"module modSubscriptionExemptions (for index {i})" for i in range(3)
    ]
    assert [e.scope for e in result.exemptions] == [
        f"/subscriptions/00000000-0000-0000-0000-00000000002{i}" for i in (1, 2, 3)
    ]
