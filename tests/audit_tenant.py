"""A small fixture tenant for the audit tests (written for this project), and a large one.

contoso (tenant root group)
└── corp (management group): MCSB assigned here (pr-mcsb), so Resource Graph scoped to the
    subscriptions does not list it; the audit reads it by id
    ├── SUB_A: a custom initiative assigned (custom-cis); exemptions of every status
    └── SUB_B: one exemption on a deleted assignment
Today is 2026-11-24 in every test.
"""

from __future__ import annotations

from typing import Any

from tests.azure_fake import FakeAzure

SUB_A = "aaaaaaaa-0000-4000-8000-000000000001"
SUB_B = "bbbbbbbb-0000-4000-8000-000000000002"
TENANT = "cccccccc-0000-4000-8000-000000000003"
MCSB = "/providers/Microsoft.Authorization/policySetDefinitions/1f3afdf9-d0c9-4c3d-847f-89da613e70a8"
CORP = "/providers/Microsoft.Management/managementGroups/corp"
MCSB_ASSIGNMENT = f"{CORP}/providers/Microsoft.Authorization/policyAssignments/pr-mcsb"
CUSTOM_SET = f"/subscriptions/{SUB_A}/providers/Microsoft.Authorization/policySetDefinitions/custom-cis"
CUSTOM_ASSIGNMENT = f"/subscriptions/{SUB_A}/providers/Microsoft.Authorization/policyAssignments/custom-cis"
DELETED_ASSIGNMENT = f"/subscriptions/{SUB_B}/providers/Microsoft.Authorization/policyAssignments/gone"
STORAGE_POLICY = "/providers/Microsoft.Authorization/policyDefinitions/34c877ad-507e-4c82-993e-3452a6e0ad3c"
TLS_POLICY = "/providers/Microsoft.Authorization/policyDefinitions/f0e6e85b-9b9f-4a4b-b67b-f730d42f1b0b"
RG_APP = f"/subscriptions/{SUB_A}/resourceGroups/rg-app"
STORAGE = f"{RG_APP}/providers/Microsoft.Storage/storageAccounts/stapp01"
WEB = f"{RG_APP}/providers/Microsoft.Web/sites/app01"
PROVIDER = "/providers/Microsoft.Authorization/policyExemptions/"

SYSTEM_DATA = {
    "createdBy": "alice@contoso.com",
    "createdByType": "User",
    "createdAt": "2026-01-10T09:00:00.0000000Z",
    "lastModifiedBy": "pipeline-spn",
    "lastModifiedByType": "Application",
    "lastModifiedAt": "2026-06-01T10:00:00.0000000Z",
}


def exemption_id(scope: str, name: str) -> str:
    return f"{scope}{PROVIDER}{name}"


def graph_row(scope: str, name: str, properties: dict[str, Any], subscription: str | None) -> dict[str, Any]:
    """A Resource Graph policyresources row (lower-case type; null assignmentScopeValidation)."""
    return {
        "id": exemption_id(scope, name),
        "name": name,
        "type": "microsoft.authorization/policyexemptions",
        "tenantId": TENANT,
        "kind": "",
        "location": "",
        "resourceGroup": scope.split("/")[4].lower() if "/resourceGroups/" in scope else "",
        "subscriptionId": subscription or "",
        "managedBy": "",
        "sku": None,
        "plan": None,
        "properties": {"assignmentScopeValidation": None, "resourceSelectors": None, **properties},
        "tags": None,
        "identity": None,
        "zones": None,
        "extendedLocation": None,
    }


def rest_body(scope: str, name: str, properties: dict[str, Any]) -> dict[str, Any]:
    """The policyExemptions GET answer (the REST specification's example shape)."""
    return {
        "properties": {"assignmentScopeValidation": "Default", **properties},
        "systemData": SYSTEM_DATA,
        "id": exemption_id(scope, name),
        "type": "Microsoft.Authorization/policyExemptions",
        "name": name,
    }


GOOD = {
    "policyAssignmentId": MCSB_ASSIGNMENT,
    "policyDefinitionReferenceIds": ["disableUnrestrictedNetworkToStorageAccountMonitoring"],
    "exemptionCategory": "Mitigated",
    "expiresOn": "2027-03-31T00:00:00Z",
    "displayName": "Storage behind the firewall appliance",
    "description": "Network access is restricted by the NVA firewall; reviewed in SEC-101.",
    "metadata": {"owner": "team-storage", "ticket": "SEC-101"},
}

# name -> (scope, properties, subscription)
EXEMPTIONS: dict[str, tuple[str, dict[str, Any], str | None]] = {
    "storage-nva": (STORAGE, GOOD, SUB_A),
    "tls-legacy": (
        WEB,
        {
            **GOOD,
            "policyDefinitionReferenceIds": ["latestTLSVersionShouldBeUsedInYourWebAppMonitoringEffect"],
            "exemptionCategory": "Waiver",
            "expiresOn": "2026-10-31T00:00:00Z",
            "displayName": "Legacy TLS for the partner API",
            "description": "Partner cannot move to TLS 1.2 before the contract renewal; SEC-88.",
            "metadata": {"owner": "team-web"},
        },
        SUB_A,
    ),
    "rg-app-soon": (
        RG_APP,
        {
            **GOOD,
            "expiresOn": "2026-12-04T00:00:00Z",
            "displayName": "App resource group, pending migration",
            "description": "Storage in this group moves to private endpoints in December.",
        },
        SUB_A,
    ),
    "sub-no-expiry": (
        f"/subscriptions/{SUB_A}",
        {
            "policyAssignmentId": CUSTOM_ASSIGNMENT,
            "exemptionCategory": "Waiver",
            "displayName": "Custom CIS is advisory",
            "description": "TODO",
        },
        SUB_A,
    ),
    "orphan": (
        f"/subscriptions/{SUB_B}/resourceGroups/rg-old",
        {
            **GOOD,
            "policyAssignmentId": DELETED_ASSIGNMENT,
            "policyDefinitionReferenceIds": [],
            "displayName": "Points at a deleted assignment",
        },
        SUB_B,
    ),
}


def mcsb_set() -> dict[str, Any]:
    return {
        "properties": {
            "displayName": "Microsoft cloud security benchmark",
            "policyType": "BuiltIn",
            "description": "The Microsoft cloud security benchmark initiative.",
            "metadata": {"version": "57.0.0", "category": "Security Center"},
            "version": "57.0.0",
            "parameters": {},
            "policyDefinitions": [
                {
                    "policyDefinitionId": STORAGE_POLICY,
                    "policyDefinitionReferenceId": "disableUnrestrictedNetworkToStorageAccountMonitoring",
                },
                {
                    "policyDefinitionId": TLS_POLICY,
                    "policyDefinitionReferenceId": "latestTLSVersionShouldBeUsedInYourWebAppMonitoringEffect",
                },
            ],
        },
        "id": MCSB,
        "type": "Microsoft.Authorization/policySetDefinitions",
        "name": MCSB.rsplit("/", 1)[-1],
    }


def assignment_body(assignment_id: str, definition: str, scope: str) -> dict[str, Any]:
    return {
        "properties": {
            "displayName": assignment_id.rsplit("/", 1)[-1],
            "policyDefinitionId": definition,
            "notScopes": [],
            "parameters": {},
            "enforcementMode": "Default",
            "scope": scope,
        },
        "id": assignment_id,
        "type": "Microsoft.Authorization/policyAssignments",
        "name": assignment_id.rsplit("/", 1)[-1],
    }


def assessment(resource: str, key: str, name: str, policy: str) -> dict[str, Any]:
    return {
        "id": f"{resource}/providers/Microsoft.Security/assessments/{key}",
        "name": key,
        "subscriptionId": resource.split("/")[2],
        "displayName": name,
        "resourceId": resource,
        "statusCode": "NotApplicable",
        "statusDescription": "Exempt",
        "policyDefinitionId": policy,
        "severity": "Medium",
    }


def small_tenant(fake: FakeAzure, stale: bool = True) -> FakeAzure:
    fake.groups = {"corp": {SUB_A, SUB_B}}
    rows = [graph_row(scope, name, props, sub) for name, (scope, props, sub) in EXEMPTIONS.items()]
    if stale:
        # Deleted an hour ago: Resource Graph still lists it, the REST API answers 404.
        rows.append(graph_row(RG_APP, "deleted-yesterday", GOOD, SUB_A))
    fake.tables["policyexemptions"] = sorted(rows, key=lambda r: r["id"].lower())
    for name, (scope, props, _) in EXEMPTIONS.items():
        fake.resources[exemption_id(scope, name).lower()] = rest_body(scope, name, props)
    custom = assignment_body(CUSTOM_ASSIGNMENT, CUSTOM_SET, f"/subscriptions/{SUB_A}")
    fake.tables["policyassignments"] = [{**custom, "subscriptionId": SUB_A}]
    fake.resources[MCSB_ASSIGNMENT.lower()] = assignment_body(MCSB_ASSIGNMENT, MCSB, CORP)
    fake.resources[MCSB.lower()] = mcsb_set()
    fake.tables["policysetdefinitions"] = [
        {
            "id": CUSTOM_SET,
            "name": "custom-cis",
            "type": "microsoft.authorization/policysetdefinitions",
            "subscriptionId": SUB_A,
            "properties": {
                "displayName": "Contoso CIS (custom)",
                "policyType": "Custom",
                "policyDefinitions": [
                    {"policyDefinitionId": STORAGE_POLICY, "policyDefinitionReferenceId": "st"}
                ],
            },
        }
    ]
    chain = [{"name": "corp", "displayName": "Corp"}, {"name": TENANT, "displayName": "Tenant Root Group"}]
    fake.tables["containers"] = [
        {
            "id": f"/subscriptions/{sub}",
            "name": sub,
            "type": "microsoft.resources/subscriptions",
            "subscriptionId": sub,
            "properties": {"managementGroupAncestorsChain": chain, "state": "Enabled"},
        }
        for sub in (SUB_A, SUB_B)
    ]
    fake.tables["assessments"] = [
        assessment(
            STORAGE,
            "1d1d1d1d-0000-4000-8000-00000000a001",
            "Storage accounts should restrict network access",
            STORAGE_POLICY,
        ),
        assessment(
            WEB,
            "2e2e2e2e-0000-4000-8000-00000000a002",
            "App Service apps should use the latest TLS version",
            TLS_POLICY,
        ),
        # Covered by no exemption the audit can see (exempted at a scope outside the audit).
        assessment(
            f"/subscriptions/{SUB_B}/resourceGroups/rg-x/providers/Microsoft.KeyVault/vaults/kv1",
            "3f3f3f3f-0000-4000-8000-00000000a003",
            "Key vaults should have deletion protection enabled",
            "/providers/Microsoft.Authorization/policyDefinitions/0b60c0b2-2dc2-4e1c-b5c9-abbed971de53",
        ),
    ]
    return fake


def large_tenant(fake: FakeAzure, count: int, assessments: int = 0) -> FakeAzure:
    """``count`` exemptions over resource groups of SUB_A, every one fine but a tenth expired."""
    small_tenant(fake, stale=False)
    rows = []
    for index in range(count):
        scope = f"/subscriptions/{SUB_A}/resourceGroups/rg-{index % 50:02d}"
        expires = "2026-01-31T00:00:00Z" if index % 10 == 0 else f"2027-{index % 9 + 1:02d}-15T00:00:00Z"
        properties = {**GOOD, "expiresOn": expires}
        rows.append(graph_row(scope, f"ex-{index:05d}", properties, SUB_A))
        fake.resources[exemption_id(scope, f"ex-{index:05d}").lower()] = rest_body(
            scope, f"ex-{index:05d}", properties
        )
    fake.tables["policyexemptions"] = sorted(rows, key=lambda r: r["id"].lower())
    # Defender: the storage accounts of every resource group, exempt by the exemptions above them.
    fake.tables["assessments"] = [
        assessment(
            f"/subscriptions/{SUB_A}/resourceGroups/rg-{index % 50:02d}/providers/Microsoft.Storage/storageAccounts/st{index:04d}",
            f"5a5a5a5a-0000-4000-8000-{index:012d}",
            "Storage accounts should restrict network access",
            STORAGE_POLICY,
        )
        for index in range(assessments)
    ]
    return fake
