"""Deterministic benchmark corpora for exemptlint (standard library only).

Corpora of ``n`` files each:

* ``raw``: one exemption per file in the REST/ARM resource shape (``id``, ``name``, ``type``,
  ``properties``, ``systemData``), as ``az rest`` or an export writes it.
* ``arm``: ARM templates with five ``Microsoft.Authorization/policyExemptions`` each, written with
  expressions: parameters with defaults (``dateTimeAdd(utcNow('u'), 'P90D')`` among them),
  variables, ``concat``/``format``, ``subscriptionResourceId``/``resourceId``/
  ``managementGroupResourceId``, a ``copy`` loop in some templates, a policy assignment in some.
* ``bicep``: the same content as ``.bicep`` files: five exemptions each, parameters with defaults,
  string interpolation (``'${prefix}-ex0'``), symbolic references, a ``for`` loop in some files.

A third kind, ``unrelated``, is JSON that names no exemption or assignment (package manifests,
app settings): exemptlint should skip it before parsing.

``raw``, ``arm`` and ``bicep`` mix valid exemptions with ones that break rules (expired, placeholder
description, wrong category case, no expiry, expiry too far, management-group scope, an unknown
property, an unresolvable parameter), so that rules fire and findings are located, as in a real
repository.

The same seed, kind and size always give byte-identical files.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_SEED = 20261124
# The date the benchmark passes as --today; the fixed dates below are relative to it.
TODAY = "2026-11-24"

MCSB = "/providers/Microsoft.Authorization/policySetDefinitions/1f3afdf9-d0c9-4c3d-847f-89da613e70a8"
CUSTOM_SET = (
    "/providers/Microsoft.Management/managementGroups/contoso/providers/"
    "Microsoft.Authorization/policySetDefinitions/contoso-baseline"
)
EXEMPTION_TYPE = "Microsoft.Authorization/policyExemptions"
ASSIGNMENT_TYPE = "Microsoft.Authorization/policyAssignments"
API_VERSION = "2022-07-01-preview"
RG_SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
SUB_SCHEMA = "https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#"
MG_SCHEMA = "https://schema.management.azure.com/schemas/2019-08-01/managementGroupDeploymentTemplate.json#"

# Real policyDefinitionReferenceIds of the Microsoft cloud security benchmark.
REFERENCE_IDS = (
    "webAppEnforceHttpsMonitoring",
    "secureTransferToStorageAccountMonitoring",
    "AzureFirewallEffect",
    "ASCDependencyAgentAuditLinuxEffect",
    "FunctionAppsShouldHaveClientCertificatesEnabledMonitoring",
    "AllowedCapabilitiesInKubernetesCluster",
)
REASONS = (
    "Traffic is terminated at the application gateway, which enforces TLS 1.2 (CHG-{n}).",
    "The workload is being migrated to a compliant platform; tracked in change {n}.",
    "A compensating control (network isolation and private endpoints) is in place, see RISK-{n}.",
    "Vendor appliance cannot run the agent; monitored by the SOC instead (ticket {n}).",
    "Legacy clients need this setting until the decommission date agreed in CAB {n}.",
)
RESOURCE_TYPES = (
    ("Microsoft.Storage/storageAccounts", "st"),
    ("Microsoft.Web/sites", "app"),
    ("Microsoft.KeyVault/vaults", "kv"),
    ("Microsoft.Sql/servers", "sql"),
)


@dataclass(frozen=True)
class Corpus:
    kind: str
    directory: Path
    files: int
    exemptions: int
    bytes: int


def _subscription(rng: random.Random) -> str:
    return f"00000000-0000-0000-0000-{rng.randrange(1, 40):012d}"


def _dump(doc: Any) -> str:
    return json.dumps(doc, indent=2) + "\n"


# --------------------------------------------------------------------------- raw exemptions

# Variants of a raw exemption: weight, and what it breaks (None: valid).
_RAW_VARIANTS: tuple[tuple[str, int], ...] = (
    ("valid", 55),
    ("expired", 6),  # EL005
    ("expires-soon", 4),  # EL005 warning
    ("placeholder", 6),  # EL006
    ("category-case", 5),  # EL002 warning
    ("no-expiry", 5),  # EL003
    ("too-far", 5),  # EL004
    ("no-zone", 3),  # EL004
    ("management-group", 4),  # EL007
    ("singular-reference", 3),  # EL008
    ("custom-initiative", 4),  # EL001 (custom initiative)
)


def _pick(rng: random.Random, variants: tuple[tuple[str, int], ...]) -> str:
    names = [name for name, _ in variants]
    weights = [weight for _, weight in variants]
    return rng.choices(names, weights)[0]


def raw_exemption(rng: random.Random, index: int, variant: str | None = None) -> dict[str, Any]:
    if variant is None:
        variant = _pick(rng, _RAW_VARIANTS)
    sub = _subscription(rng)
    rtype, prefix = rng.choice(RESOURCE_TYPES)
    rg = f"rg-{prefix}-{index % 97:02d}"
    name = f"ex-{prefix}-{index:05d}"
    scope = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{rtype}/{prefix}{index:05d}"
    if variant == "management-group":
        scope = "/providers/Microsoft.Management/managementGroups/contoso"
    assignment = f"/subscriptions/{sub}/providers/{ASSIGNMENT_TYPE}/SecurityCenterBuiltIn"
    if variant == "custom-initiative":
        assignment = (
            "/providers/Microsoft.Management/managementGroups/contoso/providers/"
            "Microsoft.Authorization/policyAssignments/contoso-baseline"
        )
    month = rng.randrange(1, 12)
    expires: str | None = f"2027-{month:02d}-{rng.randrange(1, 28):02d}T23:59:59Z"
    if variant == "expired":
        expires = f"2026-{min(month, 10):02d}-{rng.randrange(1, 28):02d}T00:00:00Z"
    elif variant == "expires-soon":
        expires = "2026-12-10T00:00:00Z"
    elif variant == "too-far":
        expires = f"2029-{month:02d}-01T00:00:00Z"
    elif variant == "no-zone":
        expires = f"2027-{month:02d}-01T00:00:00"
    elif variant == "no-expiry":
        expires = None
    reference = rng.choice(REFERENCE_IDS)
    properties: dict[str, Any] = {
        "policyAssignmentId": assignment,
        "policyDefinitionReferenceIds": [reference],
        "exemptionCategory": rng.choice(("Waiver", "Mitigated")),
        "expiresOn": expires,
        "displayName": f"{prefix.upper()} {index}: {reference}",
        "description": rng.choice(REASONS).format(n=1000 + index),
        "metadata": {
            "requestedBy": f"team-{index % 13}",
            "approvedBy": "security-team",
            "ticketRef": f"CHG-{index}",
        },
        "assignmentScopeValidation": "Default",
    }
    if variant == "placeholder":
        properties["description"] = rng.choice(("TODO", "tbd", "n/a"))
    elif variant == "category-case":
        properties["exemptionCategory"] = properties["exemptionCategory"].lower()
    elif variant == "singular-reference":
        properties["policyDefinitionReferenceId"] = properties.pop("policyDefinitionReferenceIds")[0]
    return {
        "id": f"{scope}/providers/{EXEMPTION_TYPE}/{name}",
        "name": name,
        "type": EXEMPTION_TYPE,
        "properties": properties,
        "systemData": {
            "createdBy": "pipeline@contoso.com",
            "createdByType": "User",
            "createdAt": "2026-01-15T09:30:00.0000000Z",
            "lastModifiedBy": "pipeline@contoso.com",
            "lastModifiedByType": "User",
            "lastModifiedAt": "2026-02-01T10:00:00.0000000Z",
        },
    }


# --------------------------------------------------------------------------- ARM templates


def _exemption_resource(name: str, props: dict[str, Any], scope: str | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {"type": EXEMPTION_TYPE, "apiVersion": API_VERSION, "name": name}
    if scope is not None:
        resource["scope"] = scope
    resource["properties"] = props
    return resource


def _arm_properties(rng: random.Random, assignment: str) -> dict[str, Any]:
    props: dict[str, Any] = {
        "policyAssignmentId": assignment,
        "policyDefinitionReferenceIds": [rng.choice(REFERENCE_IDS)],
        "exemptionCategory": rng.choice(("Waiver", "Mitigated")),
        "expiresOn": "[parameters('expiresOn')]",
    }
    props["displayName"] = "[format('{0}: {1}', parameters('prefix'), variables('purpose'))]"
    props["description"] = "[concat(variables('reason'), ' Owner: ', parameters('owner'), '.')]"
    props["metadata"] = {"owner": "[parameters('owner')]", "ticketRef": "[variables('ticket')]"}
    return props


# Template-wide variants (what the whole template looks like) and per-exemption breakages.
_ARM_LAYOUTS: tuple[tuple[str, int], ...] = (
    ("resource-group", 5),
    ("subscription", 3),
    ("management-group", 1),
)
_ARM_BREAKAGES: tuple[tuple[str, int], ...] = (
    ("valid", 60),
    ("placeholder", 6),  # EL006
    ("category-case", 6),  # EL002 warning
    ("no-expiry", 6),  # EL003
    ("too-far", 6),  # EL004
    ("expired", 6),  # EL005
    ("unknown-property", 4),  # EL008
    ("no-default", 6),  # EL009 (a parameter without a default)
)


def arm_template(rng: random.Random, index: int) -> tuple[dict[str, Any], int]:
    """A template and the number of exemptions it deploys (always 5)."""
    layout = _pick(rng, _ARM_LAYOUTS)
    rtype, prefix = rng.choice(RESOURCE_TYPES)
    with_copy = index % 3 == 0
    with_assignment = index % 5 == 0
    apps = [f"{prefix}{index:05d}{c}" for c in "abc"]
    parameters: dict[str, Any] = {
        "prefix": {"type": "string", "defaultValue": f"{prefix}-{index:05d}"},
        "owner": {"type": "string", "defaultValue": f"team-{index % 13}"},
        "expiresOn": {"type": "string", "defaultValue": "[dateTimeAdd(utcNow('u'), 'P90D')]"},
        "longExpiry": {"type": "string", "defaultValue": "[dateTimeAdd(utcNow('u'), 'P800D')]"},
        "resourceNames": {"type": "array", "defaultValue": apps},
        "ticketNumber": {"type": "int", "defaultValue": 1000 + index},
        "reviewNote": {"type": "string"},  # no default: whatever uses it is not known statically
    }
    variables: dict[str, Any] = {
        "purpose": f"exempt {rng.choice(REFERENCE_IDS)}",
        "reason": rng.choice(REASONS).format(n=1000 + index),
        "ticket": "[format('CHG-{0}', parameters('ticketNumber'))]",
    }
    # Assignment ids: at a management group where the template deploys there, else the subscription.
    id_function = "managementGroupResourceId" if layout == "management-group" else "subscriptionResourceId"
    schema = {"management-group": MG_SCHEMA, "subscription": SUB_SCHEMA}.get(layout, RG_SCHEMA)
    variables["assignmentId"] = f"[{id_function}('{ASSIGNMENT_TYPE}', 'SecurityCenterBuiltIn')]"
    resources: list[dict[str, Any]] = []
    if with_assignment:
        resources.append(
            {
                "type": ASSIGNMENT_TYPE,
                "apiVersion": "2024-04-01",
                "name": "[format('pa-{0}', parameters('prefix'))]",
                "properties": {
                    "displayName": "[format('Baseline for {0}', parameters('prefix'))]",
                    "policyDefinitionId": rng.choice((MCSB, CUSTOM_SET)),
                },
            }
        )

    def scoped(name_expr: str) -> str | None:
        # Resource-group templates exempt one resource; others exempt the deployment scope.
        if layout != "resource-group":
            return None
        return f"[resourceId('{rtype}', {name_expr})]"

    count = 0
    if with_copy:
        props = _arm_properties(rng, "[variables('assignmentId')]")
        props["displayName"] = (
            "[format('{0}: {1}', parameters('resourceNames')[copyIndex()], variables('purpose'))]"
        )
        resource = _exemption_resource(
            "[format('{0}-{1}', parameters('prefix'), parameters('resourceNames')[copyIndex()])]",
            props,
            scoped("parameters('resourceNames')[copyIndex()]"),
        )
        resource["copy"] = {"name": "perResource", "count": "[length(parameters('resourceNames'))]"}
        resources.append(resource)
        count += len(apps)
    slot = 0
    while count < 5:
        breakage = _pick(rng, _ARM_BREAKAGES)
        assignment = "[variables('assignmentId')]"
        if with_assignment and slot == 0:
            assignment = f"[{id_function}('{ASSIGNMENT_TYPE}', format('pa-{{0}}', parameters('prefix')))]"
        props = _arm_properties(rng, assignment)
        if breakage == "placeholder":
            props["description"] = "TODO"
        elif breakage == "category-case":
            props["exemptionCategory"] = props["exemptionCategory"].lower()
        elif breakage == "no-expiry":
            del props["expiresOn"]
        elif breakage == "too-far":
            props["expiresOn"] = "[parameters('longExpiry')]"
        elif breakage == "expired":
            props["expiresOn"] = "2026-06-30T00:00:00Z"
        elif breakage == "unknown-property":
            props["policyDefinitionReferenceId"] = props.pop("policyDefinitionReferenceIds")[0]
        elif breakage == "no-default":
            props["description"] = "[concat(variables('reason'), ' ', parameters('reviewNote'))]"
        name = f"[concat(parameters('prefix'), '-ex{slot}')]"
        scope = scoped(f"concat(parameters('prefix'), '{slot}')")
        resources.append(_exemption_resource(name, props, scope))
        slot += 1
        count += 1
    template = {
        "$schema": schema,
        "contentVersion": "1.0.0.0",
        "parameters": parameters,
        "variables": variables,
        "resources": resources,
    }
    return template, count


# --------------------------------------------------------------------------- Bicep files


def _bicep_string(text: str) -> str:
    """A Bicep string literal (single quotes; ``\\``, ``\\'`` and ``\\${`` escaped)."""
    escaped = text.replace("\\", "\\\\").replace("'", "\\'").replace("${", "\\${")
    return f"'{escaped}'"


def bicep_file(rng: random.Random, index: int) -> tuple[str, int]:
    """A .bicep file and the number of exemptions it deploys (always 5): the ARM corpus's
    content written the Bicep way. Parameters with defaults (``dateTimeAdd(utcNow('u'), 'P90D')``
    among them), variables, string interpolation (``'${prefix}-ex0'``), symbolic references
    (``scope: target0``, ``assignment.id``), a ``for`` loop over an array parameter in every third
    file and a policy assignment in every fifth; resource-group, subscription and
    management-group files. The same breakages as the ARM corpus."""
    layout = _pick(rng, _ARM_LAYOUTS)
    rtype, prefix = rng.choice(RESOURCE_TYPES)
    with_loop = index % 3 == 0
    with_assignment = index % 5 == 0
    apps = [f"{prefix}{index:05d}{c}" for c in "abc"]
    lines: list[str] = []
    if layout == "subscription":
        lines += ["targetScope = 'subscription'", ""]
    elif layout == "management-group":
        lines += ["targetScope = 'managementGroup'", ""]
    lines += [
        "@description('Prefix of every name in this file.')",
        f"param prefix string = '{prefix}-{index:05d}'",
        f"param owner string = 'team-{index % 13}'",
        "param expiresOn string = dateTimeAdd(utcNow('u'), 'P90D')",
        "param longExpiry string = dateTimeAdd(utcNow('u'), 'P800D')",
        "param resourceNames array = [",
        *(f"  '{app}'" for app in apps),
        "]",
        f"param ticketNumber int = {1000 + index}",
        "@description('Not known statically: no default.')",
        "param reviewNote string",
        "",
        f"var purpose = 'exempt {rng.choice(REFERENCE_IDS)}'",
        f"var reason = {_bicep_string(rng.choice(REASONS).format(n=1000 + index))}",
        "var ticket = 'CHG-${ticketNumber}'",
    ]
    id_function = "managementGroupResourceId" if layout == "management-group" else "subscriptionResourceId"
    lines += [f"var assignmentId = {id_function}('{ASSIGNMENT_TYPE}', 'SecurityCenterBuiltIn')", ""]
    if with_assignment:
        lines += [
            f"resource assignment '{ASSIGNMENT_TYPE}@2024-04-01' = {{",
            "  name: 'pa-${prefix}'",
            "  properties: {",
            "    displayName: 'Baseline for ${prefix}'",
            f"    policyDefinitionId: '{rng.choice((MCSB, CUSTOM_SET))}'",
            "  }",
            "}",
            "",
        ]

    def exemption(
        symbol: str, name: str, props: dict[str, str], scope: str | None, loop: str | None = None
    ) -> list[str]:
        head = f"resource {symbol} '{EXEMPTION_TYPE}@{API_VERSION}' = "
        out = [head + (f"[for {loop}: {{" if loop else "{"), f"  name: {name}"]
        if scope is not None:
            out.append(f"  scope: {scope}")
        out.append("  properties: {")
        for key, value in props.items():
            if key == "metadata":
                out += ["    metadata: {", "      owner: owner", "      ticketRef: ticket", "    }"]
            elif key == "policyDefinitionReferenceIds":
                out += [f"    {key}: [", f"      {value}", "    ]"]
            else:
                out.append(f"    {key}: {value}")
        out += ["  }", "}]" if loop else "}", ""]
        return out

    def properties(assignment: str) -> dict[str, str]:
        return {
            "policyAssignmentId": assignment,
            "policyDefinitionReferenceIds": f"'{rng.choice(REFERENCE_IDS)}'",
            "exemptionCategory": f"'{rng.choice(('Waiver', 'Mitigated'))}'",
            "expiresOn": "expiresOn",
            "displayName": "'${prefix}: ${purpose}'",
            "description": "'${reason} Owner: ${owner}.'",
            "metadata": "",
        }

    resource_version = f"{rtype}@2023-01-01"
    count = 0
    if with_loop:
        scope = None
        if layout == "resource-group":
            lines += [
                f"resource targets '{resource_version}' existing = [for name in resourceNames: {{",
                "  name: name",
                "}]",
                "",
            ]
            scope = "targets[i]"
        props = properties("assignmentId")
        props["displayName"] = "'${name}: ${purpose}'"
        lines += exemption("perResource", "'${prefix}-${name}'", props, scope, "(name, i) in resourceNames")
        count += len(apps)
    slot = 0
    while count < 5:
        breakage = _pick(rng, _ARM_BREAKAGES)
        assignment = "assignmentId"
        if with_assignment and slot == 0:
            assignment = "assignment.id"
        props = properties(assignment)
        if breakage == "placeholder":
            props["description"] = "'TODO'"
        elif breakage == "category-case":
            props["exemptionCategory"] = props["exemptionCategory"].lower()
        elif breakage == "no-expiry":
            del props["expiresOn"]
        elif breakage == "too-far":
            props["expiresOn"] = "longExpiry"
        elif breakage == "expired":
            props["expiresOn"] = "'2026-06-30T00:00:00Z'"
        elif breakage == "unknown-property":
            reference = props.pop("policyDefinitionReferenceIds")
            props = {"policyDefinitionReferenceId": reference, **props}
        elif breakage == "no-default":
            props["description"] = "'${reason} ${reviewNote}'"
        scope = None
        if layout == "resource-group":
            lines += [
                f"resource target{slot} '{resource_version}' existing = {{",
                f"  name: '${{prefix}}{slot}'",
                "}",
                "",
            ]
            scope = f"target{slot}"
        lines += exemption(f"exemption{slot}", f"'${{prefix}}-ex{slot}'", props, scope)
        slot += 1
        count += 1
    return "\n".join(lines).rstrip("\n") + "\n", count


# --------------------------------------------------------------------------- unrelated JSON


def unrelated_document(rng: random.Random, index: int) -> dict[str, Any]:
    """JSON that a repository holds besides exemptions (a package manifest, app settings): it
    names no exemption or assignment, so exemptlint should skip it before parsing."""
    if index % 2 == 0:
        return {
            "name": f"@contoso/service-{index}",
            "version": f"1.{index % 50}.{rng.randrange(10)}",
            "scripts": {"build": "tsc -p .", "test": "jest --coverage", "lint": "eslint src"},
            "dependencies": {
                f"package-{rng.randrange(500)}": f"^{rng.randrange(1, 9)}.0.0" for _ in range(30)
            },
            "devDependencies": {f"tool-{rng.randrange(200)}": "~2.1.0" for _ in range(15)},
        }
    return {
        "Logging": {"LogLevel": {"Default": "Information", "Microsoft.AspNetCore": "Warning"}},
        "AllowedHosts": "*",
        "ConnectionStrings": {f"Db{i}": f"Server=tcp:sql-{index}-{i}.database.windows.net" for i in range(5)},
        "Features": [
            {"name": f"feature-{rng.randrange(1000)}", "enabled": rng.random() < 0.5} for _ in range(40)
        ],
    }


# --------------------------------------------------------------------------- corpora


def write_corpus(root: Path, kind: str, n: int, seed: int = DEFAULT_SEED) -> Corpus:
    """Write ``n`` files of corpus ``kind`` (``raw``, ``arm``, ``bicep`` or ``unrelated``) into
    ``root/<kind>-<n>``."""
    directory = root / f"{kind}-{n}"
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.iterdir():
        if stale.is_file():
            stale.unlink()
    # One generator per corpus and size: a corpus does not depend on which others were made.
    rng = random.Random(f"{seed}:{kind}:{n}")
    exemptions = 0
    size = 0
    width = max(5, len(str(n)))
    for index in range(n):
        if kind == "raw":
            doc: Any = raw_exemption(rng, index)
            exemptions += 1
            path = directory / f"exemption-{index:0{width}d}.json"
        elif kind == "arm":
            doc, count = arm_template(rng, index)
            exemptions += count
            path = directory / f"exemptions-{index:0{width}d}.template.json"
        elif kind == "bicep":
            text, count = bicep_file(rng, index)
            exemptions += count
            path = directory / f"exemptions-{index:0{width}d}.bicep"
            path.write_text(text, encoding="utf-8")
            size += len(text.encode("utf-8"))
            continue
        elif kind == "unrelated":
            doc = unrelated_document(rng, index)
            path = directory / f"settings-{index:0{width}d}.json"
        else:
            raise ValueError(f"unknown corpus kind {kind!r}")
        text = _dump(doc)
        path.write_text(text, encoding="utf-8")
        size += len(text.encode("utf-8"))
    return Corpus(kind, directory, n, exemptions, size)


MONOREPO_FOLDERS = 200
# One file in this many is an exemption file (1 %); the others are unrelated JSON.
MONOREPO_EXEMPTION_EVERY = 100


def write_monorepo(root: Path, n: int, seed: int = DEFAULT_SEED) -> Corpus:
    """A monorepo: ``n`` JSON files spread over ``MONOREPO_FOLDERS`` nested folders
    (``team-NN/service-NNN``), one in ``MONOREPO_EXEMPTION_EVERY`` a raw exemption, the others
    unrelated JSON (package manifests, app settings), written to ``root/monorepo-<n>``."""
    import shutil

    directory = root / f"monorepo-{n}"
    if directory.exists():
        shutil.rmtree(directory)
    rng = random.Random(f"{seed}:monorepo:{n}")
    folders = min(MONOREPO_FOLDERS, max(1, n))
    exemptions = 0
    size = 0
    width = max(5, len(str(n)))
    per_folder = -(-n // folders)
    for index in range(n):
        folder = index // per_folder
        parent = directory / f"team-{folder % 10:02d}" / f"service-{folder:03d}"
        parent.mkdir(parents=True, exist_ok=True)
        # Spread over the tree: about one in each folder of 100 files, in the middle of its names.
        if index % MONOREPO_EXEMPTION_EVERY == MONOREPO_EXEMPTION_EVERY // 2:
            doc: Any = raw_exemption(rng, index)
            exemptions += 1
            path = parent / f"exemption-{index:0{width}d}.json"
        else:
            doc = unrelated_document(rng, index)
            path = parent / f"settings-{index:0{width}d}.json"
        text = _dump(doc)
        path.write_text(text, encoding="utf-8")
        size += len(text.encode("utf-8"))
    return Corpus("monorepo", directory, n, exemptions, size)


def write_one_file(root: Path, seed: int = DEFAULT_SEED) -> Path:
    """A single valid raw exemption, for the cold-start measurement."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / "one-file.json"
    rng = random.Random(f"{seed}:one")
    doc = raw_exemption(rng, 0, variant="valid")
    path.write_text(_dump(doc), encoding="utf-8")
    return path
