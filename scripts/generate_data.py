#!/usr/bin/env python3
"""Generate exemptlint's packaged data (``exemptlint/data/*.json``) from the reference data.

Usage::

    python scripts/generate_data.py [--shared PATH] [--check]

``--shared`` is the directory holding ``reference/`` (default: ``<repo>/../shared``). Without
``--check`` the files are (re)written; with ``--check`` they are regenerated in memory and the
script exits 1 with a diff summary when the packaged files differ (for tests and CI).

Outputs (deterministic: sorted keys, indent=1, trailing newline, no timestamps):

* ``initiatives.json``: the built-in initiatives (policy set definitions) with name,
  displayName, category, version, deprecated, clouds, honoured (whether Defender for Cloud
  honours exemptions on it: the default benchmark in every version and every regulatory
  compliance initiative) and supersededBy (the newer initiative of the same benchmark or standard,
  see ``build_families``); ``families`` (the versions of each benchmark or standard, oldest
  first); and a ``header`` with the source repository, commit and date.
* ``initiatives/<name>.json``: one small file per initiative: its policyDefinitionReferenceIds
  and, where the reference holds the initiative's definition file, the built-in policy definition
  each one names. One file each because a run needs the members of only the few initiatives its
  exemptions name (EL012; startup cost).
* ``policy-definitions/<c>.json``: every built-in policy definition name -> its display name, so
  that messages and reports name a recommendation instead of showing a GUID; sharded by the first
  character of the name (``definition_shard``), so that naming a few recommendations reads a few
  small files rather than all 3,600 names.
* ``definition-membership.json``: every built-in policy definition name -> the initiatives
  (indexes into a list) whose member list in the reference contains it; loaded only to judge an
  EPAC exemption that names a policy definition.
* ``exemption-schema.json``: a JSON Schema (draft 2020-12) for an exemption envelope
  ``{"name": ..., "properties": {...}}`` derived from the REST specification and the ARM
  template schemas (union of all collected api-versions).
"""

from __future__ import annotations

import argparse
import csv
import difflib
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DATA_DIR = REPO / "exemptlint" / "data"
DEFAULT_SHARED = REPO.parent / "shared"
GENERATED_BY = "scripts/generate_data.py"

INITIATIVES_FILE = "initiatives.json"
MEMBERS_FOLDER = "initiatives"
DEFINITIONS_FOLDER = "policy-definitions"
MEMBERSHIP_FILE = "definition-membership.json"
SCHEMA_FILE = "exemption-schema.json"
# Generated files that may hold other files (one per initiative): ``check`` also reports files
# there that the reference no longer gives, and writing removes them.
GENERATED_FOLDERS = (MEMBERS_FOLDER, DEFINITIONS_FOLDER)

PUBLIC_INITIATIVES = "azure-policy/initiatives.json"
GOVERNMENT_INITIATIVES = "azure-policy/initiatives-azure-government.json"
POLICY_SET_FOLDER = "azure-policy/policySetDefinitions"
POLICY_DEFINITIONS = "azure-policy/policy-definitions.tsv"
EPAC_SCHEMA = "epac/policy-exemption-schema.json"

SET_PREFIX = "/providers/Microsoft.Authorization/policySetDefinitions/"
DEFINITION_PREFIX = "/providers/Microsoft.Authorization/policyDefinitions/"
PUBLIC_CLOUD = "AzureCloud"
GOVERNMENT_CLOUD = "AzureGovernment"

# Which built-in initiatives Defender for Cloud honours exemptions on (its regulatory compliance
# dashboard and secure score): every initiative of the regulatory compliance category, and the
# default benchmark in every version, the "Microsoft cloud security benchmark" initiatives of the
# Security Center category (v1 is the default assignment SecurityCenterBuiltIn; v2 was a preview
# when the reference was collected). The other Security Center initiatives deploy Defender plans
# and agents: they have no recommendations to exempt.
REGULATORY_COMPLIANCE = "Regulatory Compliance"
SECURITY_CENTER = "Security Center"
# The default assignment's initiative: it must be among the benchmarks found, or the rule above
# no longer describes the reference data.
MCSB_INITIATIVE = "1f3afdf9-d0c9-4c3d-847f-89da613e70a8"

EXPRESSION_REF = "https://schema.management.azure.com/schemas/common/definitions.json#/definitions/expression"

# The documented naming rules for Microsoft.Authorization/policyExemptions (ARM template
# reference, "Character limit"/"Valid characters"): 1-64 characters; may not use <>*%&:\?.+/ or
# control characters; may not end with a period or space.
NAME_MAX_LENGTH = 64
NAME_FORBIDDEN = "<>*%&:\\?.+/"
NAME_PATTERN = "^[^<>*%&:\\\\?.+/]*[^<>*%&:\\\\?.+/ ]$"

# Length limits that no collected REST or ARM schema states (see _limit_comment).
LENGTH_LIMITS: dict[str, tuple[int, str]] = {
    "displayName": (
        128,
        "Limit 128: the ARM template reference for Microsoft.Authorization/policyExemptions "
        "(character limit: display name 1-128) and the Azure/ResourceModules policy-exemption "
        "module (displayName maxLength 128).",
    ),
    "description": (
        512,
        "Limit 512: the Azure Policy documentation's exemption structure limits ('DisplayName has a "
        "maximum length of 128 characters and description a maximum length of 512 characters', as "
        "quoted by policy-exemption modules that cite the Microsoft Learn page); the same 512 limit "
        "applies to policy definition and assignment descriptions.",
    ),
}

# A property the newest REST examples use but no collected schema defines.
EXEMPTION_MANAGEMENT_MODE = "exemptionManagementMode"
EXEMPTION_MANAGEMENT_MODE_EXAMPLE = (
    "Azure/azure-rest-api-specs specification/resources/resource-manager/Microsoft.Authorization/policy/"
    "preview/2025-12-01-preview/examples/createOrUpdatePolicyExemptionWithExemptionManagementMode.json"
)

TITLES = {
    "policyAssignmentId": "Policy assignment id",
    "policyDefinitionReferenceIds": "Policy definition reference ids",
    "exemptionCategory": "Exemption category",
    "expiresOn": "Expiry",
    "displayName": "Display name",
    "description": "Description",
    "metadata": "Metadata",
    "resourceSelectors": "Resource selectors",
    "assignmentScopeValidation": "Assignment scope validation",
    EXEMPTION_MANAGEMENT_MODE: "Exemption management mode",
}


class GenerationError(Exception):
    """The reference data is not what this script expects."""


# ---------------------------------------------------------------------------------------------
# Reading the reference data


def _load_json(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError as error:
        raise GenerationError(f"missing reference file: {path}") from error


def _read_sources(reference: Path) -> dict[str, dict[str, str]]:
    path = reference / "SOURCES.tsv"
    if not path.exists():
        raise GenerationError(f"missing {path}")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    return {row["local_path"]: row for row in rows}


def _source(sources: dict[str, dict[str, str]], local_path: str) -> str:
    row = sources.get(local_path)
    if row is None:
        raise GenerationError(f"{local_path} is not listed in SOURCES.tsv")
    return f"{row['repo']}@{row['commit']}"


def _api_version_dirs(folder: Path) -> list[Path]:
    # api-version directories sort chronologically by name (yyyy-mm-dd[-preview]).
    return sorted(p for p in folder.iterdir() if p.is_dir() and p.name[:1].isdigit())


# ---------------------------------------------------------------------------------------------
# Initiatives


def _check_initiative(entry: dict[str, Any], origin: str) -> None:
    for key, kind in (("name", str), ("displayName", str), ("category", str), ("version", str)):
        if not isinstance(entry.get(key), kind):
            raise GenerationError(f"{origin}: initiative {entry.get('name')!r} has no string {key}")
    if not isinstance(entry.get("deprecated"), bool):
        raise GenerationError(f"{origin}: initiative {entry['name']} has no boolean deprecated")
    if entry.get("id") != SET_PREFIX + entry["name"]:
        raise GenerationError(f"{origin}: initiative id {entry.get('id')!r} does not end in its name")
    references = entry.get("policyDefinitionReferenceIds")
    if not isinstance(references, list) or not all(isinstance(r, str) for r in references):
        raise GenerationError(
            f"{origin}: initiative {entry['name']} has no policyDefinitionReferenceIds list"
        )


def _public_policy_set_files(reference: Path) -> tuple[set[str], dict[str, str]]:
    """The categories whose public-cloud folder was collected, and name -> category of its files."""
    folder = reference / POLICY_SET_FOLDER
    if not folder.is_dir():
        return set(), {}
    categories = {p.name for p in folder.iterdir() if p.is_dir()}
    names: dict[str, str] = {}
    for path in sorted(folder.glob("*/*.json")):
        document = _load_json(path)
        names[str(document["name"]).lower()] = path.parent.name
    return categories, names


def build_initiatives(
    reference: Path, sources: dict[str, dict[str, str]]
) -> tuple[Any, dict[str, list[str]]]:
    public: list[dict[str, Any]] = _load_json(reference / PUBLIC_INITIATIVES)
    government: list[dict[str, Any]] = _load_json(reference / GOVERNMENT_INITIATIVES)
    for entry in public:
        _check_initiative(entry, PUBLIC_INITIATIVES)
    for entry in government:
        _check_initiative(entry, GOVERNMENT_INITIATIVES)
    source = _source(sources, PUBLIC_INITIATIVES)
    if _source(sources, GOVERNMENT_INITIATIVES) != source:
        raise GenerationError("the two initiative lists come from different commits")

    by_name: dict[str, dict[str, Any]] = {}
    for entry in public:
        key = entry["name"].lower()
        if key in by_name:
            raise GenerationError(f"duplicate initiative name (ignoring case): {entry['name']}")
        by_name[key] = entry
    government_by_name = {entry["name"].lower(): entry for entry in government}

    # initiatives.json holds the public-cloud initiatives plus those that exist only under
    # "Azure Government/" (SOURCES.tsv); nothing in it says which. For the categories whose
    # public folder was collected byte-identical (policySetDefinitions/<category>/), an entry
    # with no public file that is in the Azure Government list exists only there.
    covered_categories, public_files = _public_policy_set_files(reference)
    for key, category in public_files.items():
        listed = by_name.get(key)
        if listed is None or listed["category"] != category:
            raise GenerationError(f"policySetDefinitions/{category}: {key} does not match initiatives.json")

    initiatives: list[dict[str, Any]] = []
    reference_ids: dict[str, list[str]] = {}
    government_only: list[str] = []
    benchmarks: list[str] = []
    for key in sorted(set(by_name) | set(government_by_name)):
        in_government = key in government_by_name
        entry = by_name[key] if key in by_name else government_by_name[key]
        if key not in by_name:
            clouds = [GOVERNMENT_CLOUD]
        elif entry["category"] in covered_categories and key not in public_files:
            if not in_government:
                raise GenerationError(
                    f"{entry['name']} ({entry['category']}) has no public file and is not in the "
                    "Azure Government list"
                )
            clouds = [GOVERNMENT_CLOUD]
        else:
            clouds = [PUBLIC_CLOUD, GOVERNMENT_CLOUD] if in_government else [PUBLIC_CLOUD]
        if clouds == [GOVERNMENT_CLOUD]:
            government_only.append(entry["name"])
        honoured = _honoured(entry)
        if honoured and entry["category"] == SECURITY_CENTER:
            benchmarks.append(entry["displayName"])
        initiatives.append(
            {
                "name": entry["name"],
                "displayName": entry["displayName"],
                "category": entry["category"],
                "version": entry["version"],
                "deprecated": entry["deprecated"],
                "clouds": clouds,
                "honoured": honoured,
                "supersededBy": None,
            }
        )
        # Azure compares reference ids ignoring case: an id the Azure Government copy spells in
        # another case is the same id (the public spelling is kept).
        ids = {i.lower(): i for i in reversed(entry["policyDefinitionReferenceIds"])}
        if in_government:
            for other in government_by_name[key]["policyDefinitionReferenceIds"]:
                ids.setdefault(other.lower(), other)
        reference_ids[entry["name"]] = sorted(ids.values())

    if not any(e["name"] == MCSB_INITIATIVE and e["honoured"] for e in initiatives):
        raise GenerationError(f"the Microsoft cloud security benchmark ({MCSB_INITIATIVE}) is not honoured")
    families = build_families(initiatives)
    inputs = [PUBLIC_INITIATIVES, GOVERNMENT_INITIATIVES]
    if covered_categories:
        inputs.extend(f"{POLICY_SET_FOLDER}/{c}/*.json" for c in sorted(covered_categories))
    row = sources[PUBLIC_INITIATIVES]
    header = {
        "source": source,
        "sourceRepository": row["repo"],
        "sourceCommit": row["commit"],
        # SOURCES.tsv may give the commit's date in a "date" column; without one it is not known.
        "sourceDate": row.get("date") or None,
        "license": row["license"],
        "inputs": inputs,
        "generatedBy": GENERATED_BY,
        "count": len(initiatives),
        "notes": [
            "name is the last segment of the built-in id "
            "/providers/Microsoft.Authorization/policySetDefinitions/<name>.",
            "displayName, category, version and deprecated come from the public-cloud copy when an "
            "initiative exists in both clouds (the Azure Government copy may differ).",
            "clouds: AzureCloud for every public-cloud initiative, plus AzureGovernment when it is "
            "also in the Azure Government list. An initiative is AzureGovernment-only when it is "
            "in the Azure Government list and its category's public folder ("
            + ", ".join(sorted(covered_categories))
            + ") has no file for it: "
            + (", ".join(government_only) or "none")
            + ". Government-only initiatives of other categories cannot be told apart in the "
            "reference data and are listed as in both clouds.",
            f"policyDefinitionReferenceIds, and the policy definition each names where the reference "
            f"holds the initiative's definition file, are in {MEMBERS_FOLDER}/<name>.json (loaded on "
            "demand, one initiative at a time).",
            "families: the versions of one benchmark or standard, oldest first (deprecated before "
            "current, then by the version in the display name); supersededBy: the newest current, "
            "non-preview version of the family that shares a cloud with the initiative, when it is "
            "newer (see build_families in " + GENERATED_BY + "). The reference holds one version of "
            "each built-in initiative, so the other versions of an initiative are the other "
            "members of its family.",
            "sourceDate is null when SOURCES.tsv does not record the date of the source commit.",
            f"The display names of the built-in policy definitions ({POLICY_DEFINITIONS}, "
            f"{_source(sources, POLICY_DEFINITIONS)}) are in {DEFINITIONS_FOLDER}/<c>.json, by the first "
            "character of the definition's name (lower case).",
            "policyDefinitionReferenceIds (in the files per initiative) are the union of the "
            "public-cloud and Azure Government copies where both exist (their lists differ for some "
            "initiatives).",
            "honoured: Defender for Cloud honours exemptions on the initiative: every initiative of "
            f"the category {REGULATORY_COMPLIANCE}, and the default benchmark in every version (the "
            f"{SECURITY_CENTER} initiatives named 'Microsoft cloud security benchmark', optionally "
            "'[Preview]: ' and a version: " + "; ".join(benchmarks) + "). The config can add or "
            "remove initiatives (EL001 options).",
        ],
    }
    return {"header": header, "initiatives": initiatives, "families": families}, reference_ids


def _honoured(entry: dict[str, Any]) -> bool:
    from exemptlint.catalog import honoured_by_defender  # one rule for this and `catalog update`

    return honoured_by_defender(entry["category"], entry["displayName"])


# ---------------------------------------------------------------------------------------------
# Versions of one benchmark or standard (EL012's "other versions", EL013's successors)
#
# The reference holds one version of each built-in initiative; a newer version of a benchmark or
# standard is another initiative (ISO 27001:2013 and ISO/IEC 27001 2022). The heuristic: the
# display name without "[Deprecated]: " / "[Preview]: " and without its version token (v1.4.0,
# V2, R5.1.1, Rev. 4, a year such as 2013 or :2013, a date such as 3-1-2020), lower-cased with
# punctuation as spaces, is the family key, within the category; the first version token is the
# version (no token: older than any versioned member). FAMILY_ALIASES joins families whose name
# changed between versions; VERSION_OVERRIDES gives the version of a display name that has none.
# Within a family, deprecated members come before current ones, then by version. The successor
# of an initiative is the newest member that is current (not deprecated, not a preview) and
# shares a cloud with it, when that member comes after it; two such members at the same place
# make it ambiguous, and then there is none.

_STATUS_PREFIX = re.compile(r"^(?:\[(?:deprecated|preview)\]:\s*)+", re.IGNORECASE)
_VERSION_TOKEN = re.compile(
    r"(?<![\w.])(?:v|r|rev\.?\s*)(\d+(?:\.\d+)*)(?![\w.])"  # v1.4.0, V2, R5.1.1, Rev. 4
    r"|(?<![\w/.-])(?:\d{1,2}-\d{1,2}-)?((?:19|20)\d{2})(?![\w/.-])"  # 2022, 3-1-2020
    r"|:((?:19|20)\d{2})\b",  # ISO 27001:2013
    re.IGNORECASE,
)
FAMILY_ALIASES: dict[tuple[str, str], tuple[str, str]] = {
    # The Azure Security Benchmark was renamed the Microsoft cloud security benchmark (2022).
    (REGULATORY_COMPLIANCE, "azure security benchmark"): (
        SECURITY_CENTER,
        "microsoft cloud security benchmark",
    ),
    (REGULATORY_COMPLIANCE, "cis microsoft azure foundations benchmark"): (
        REGULATORY_COMPLIANCE,
        "cis azure foundations",
    ),
    (REGULATORY_COMPLIANCE, "nist sp 800 171"): (REGULATORY_COMPLIANCE, "nist 800 171"),
    (REGULATORY_COMPLIANCE, "iso 27001"): (REGULATORY_COMPLIANCE, "iso iec 27001"),
    (REGULATORY_COMPLIANCE, "pci"): (REGULATORY_COMPLIANCE, "pci dss"),
    (REGULATORY_COMPLIANCE, "swift csp cscf"): (
        REGULATORY_COMPLIANCE,
        "swift customer security controls framework",
    ),
    (REGULATORY_COMPLIANCE, "nzism"): (REGULATORY_COMPLIANCE, "new zealand ism"),
    (REGULATORY_COMPLIANCE, "new zealand ism restricted"): (REGULATORY_COMPLIANCE, "new zealand ism"),
}
VERSION_OVERRIDES: dict[str, tuple[int, ...]] = {
    # "New Zealand ISM": its description begins "NZISM v3.8." (newer than "NZISM v3.7").
    "4f5b1359-4f8e-4d7c-9733-ea47fcde891e": (3, 8),
}


def family_key(category: str, display_name: str) -> tuple[tuple[str, str], tuple[int, ...]]:
    """The family (category, key) and the version of an initiative, before aliases."""
    text = _STATUS_PREFIX.sub("", display_name)
    version: tuple[int, ...] = ()
    first = _VERSION_TOKEN.search(text)
    if first is not None:
        token = next(group for group in first.groups() if group)
        version = tuple(int(part) for part in token.split("."))
    text = _VERSION_TOKEN.sub(" ", text)
    key = " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())
    return (category, key), version


def _is_preview(entry: dict[str, Any]) -> bool:
    return entry["version"].lower().endswith("-preview") or entry["displayName"].lower().startswith(
        "[preview]"
    )


def build_families(initiatives: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Set ``supersededBy`` on each entry; the families of more than one member, oldest first,
    keyed by "category: key"."""
    grouped: dict[tuple[str, str], list[tuple[tuple[int, tuple[int, ...]], dict[str, Any]]]] = {}
    keys = set()
    for entry in initiatives:
        family, version = family_key(entry["category"], entry["displayName"])
        keys.add(family)
        family = FAMILY_ALIASES.get(family, family)
        version = VERSION_OVERRIDES.get(entry["name"], version)
        rank = (0 if entry["deprecated"] else 1, version)
        grouped.setdefault(family, []).append((rank, entry))
    stale = sorted({k for pair in FAMILY_ALIASES.items() for k in pair} - keys)
    stale += sorted(name for name in VERSION_OVERRIDES if not any(e["name"] == name for e in initiatives))
    if stale:
        raise GenerationError(f"FAMILY_ALIASES / VERSION_OVERRIDES name what the reference lacks: {stale}")
    families: dict[str, list[str]] = {}
    for (category, key), members in sorted(grouped.items()):
        if len(members) < 2:
            continue
        members.sort(key=lambda item: (item[0], item[1]["name"].lower()))
        families[f"{category}: {key}"] = [entry["name"] for _, entry in members]
        for rank, entry in members:
            candidates = [
                (other_rank, other)
                for other_rank, other in members
                if other is not entry
                and not other["deprecated"]
                and not _is_preview(other)
                and set(other["clouds"]) & set(entry["clouds"])
            ]
            if not candidates:
                continue
            best = max(other_rank for other_rank, _ in candidates)
            newest = [other for other_rank, other in candidates if other_rank == best]
            if best > rank and len(newest) == 1:
                entry["supersededBy"] = newest[0]["name"]
    return families


def _read_definition_names(reference: Path) -> list[str]:
    path = reference / POLICY_DEFINITIONS
    if not path.exists():
        raise GenerationError(f"missing reference file: {path}")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    names: list[str] = []
    for row in rows:
        name = row.get("name") or ""
        if row.get("id", "").lower() != (DEFINITION_PREFIX + name).lower() or not name:
            raise GenerationError(f"{POLICY_DEFINITIONS}: row {row.get('id')!r} does not end in its name")
        names.append(name.lower())
    return names


_FILE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


def build_members(reference: Path, reference_ids: dict[str, list[str]]) -> dict[str, Any]:
    """``initiatives/<name>.json`` for each initiative: its reference ids, each -> the built-in
    policy definition (lower-cased name) it names where the initiative's definition file is in
    the reference, else null."""
    named: dict[str, dict[str, str]] = {}
    for path in sorted((reference / POLICY_SET_FOLDER).glob("*/*.json")):
        document = _load_json(path)
        members: dict[str, str] = {}
        for member in document["properties"]["policyDefinitions"]:
            definition = str(member["policyDefinitionId"])
            reference_id = member.get("policyDefinitionReferenceId")
            if not isinstance(reference_id, str) or not definition.lower().startswith(
                DEFINITION_PREFIX.lower()
            ):
                raise GenerationError(f"{path.name}: member without a reference id or built-in definition")
            members[reference_id] = definition[len(DEFINITION_PREFIX) :].lower()
        named[str(document["name"]).lower()] = members
    outputs: dict[str, Any] = {}
    for name, ids in reference_ids.items():
        if not _FILE_NAME.match(name):
            raise GenerationError(f"initiative name {name!r} cannot be a file name")
        known = named.get(name.lower(), {})
        missing = sorted(set(known) - set(ids))
        if missing:
            raise GenerationError(
                f"{name}: members {missing[:3]} are not in its policyDefinitionReferenceIds"
            )
        lowered = [i.lower() for i in ids]
        if len(set(lowered)) != len(lowered):
            raise GenerationError(f"{name}: two policyDefinitionReferenceIds differ only in case")
        outputs[f"{MEMBERS_FOLDER}/{name.lower()}.json"] = {
            "name": name,
            "policyDefinitions": {i: known.get(i) for i in ids},
        }
    return outputs


def definition_shard(name: str) -> str:
    """The file of ``policy-definitions/`` that holds a definition's display name (as
    exemptlint/catalog.py finds it): the first character of its lower-cased name, or "_"."""
    first = name[:1].lower()
    return first if first.isascii() and first.isalnum() else "_"


def build_definition_names(reference: Path) -> dict[str, Any]:
    """``policy-definitions/<c>.json``: built-in policy definition name (lower case) -> display name."""
    path = reference / POLICY_DEFINITIONS
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    shards: dict[str, dict[str, str]] = {}
    for row in rows:
        if not row.get("displayName"):
            raise GenerationError(f"{POLICY_DEFINITIONS}: {row.get('name')!r} has no displayName")
        name = row["name"].lower()
        shards.setdefault(definition_shard(name), {})[name] = row["displayName"]
    return {f"{DEFINITIONS_FOLDER}/{shard}.json": {"displayNames": names} for shard, names in shards.items()}


def build_membership(reference: Path, sources: dict[str, dict[str, str]]) -> Any:
    """Built-in policy definition -> the initiatives that contain it (those whose definition file
    is in the reference: the regulatory compliance and Security Center categories)."""
    folder = reference / POLICY_SET_FOLDER
    members: dict[str, set[str]] = {}
    initiative_names: list[str] = []
    inputs: list[str] = []
    for path in sorted(folder.glob("*/*.json")):
        local = f"{POLICY_SET_FOLDER}/{path.parent.name}/{path.name}"
        document = _load_json(path)
        name = str(document["name"])
        initiative_names.append(name)
        for member in document["properties"]["policyDefinitions"]:
            definition = str(member["policyDefinitionId"])
            if not definition.lower().startswith(DEFINITION_PREFIX.lower()):
                raise GenerationError(f"{local}: member {definition!r} is not a built-in policy definition")
            members.setdefault(definition[len(DEFINITION_PREFIX) :].lower(), set()).add(name)
        inputs.append(local)
    if not initiative_names:
        raise GenerationError(f"no initiative files under {folder}")
    if len({n.lower() for n in initiative_names}) != len(initiative_names):
        raise GenerationError("duplicate initiative name (ignoring case) among the policy set files")
    initiative_names.sort(key=str.lower)
    index = {name: i for i, name in enumerate(initiative_names)}
    definitions = {name: "" for name in _read_definition_names(reference)}
    unknown = sorted(set(members) - set(definitions))
    if unknown:
        raise GenerationError(f"initiative members not in {POLICY_DEFINITIONS}: {', '.join(unknown[:5])}")
    for name, containing in members.items():
        definitions[name] = " ".join(str(i) for i in sorted(index[n] for n in containing))
    header = {
        "source": _source(sources, POLICY_DEFINITIONS),
        "license": sources[POLICY_DEFINITIONS]["license"],
        "inputs": [POLICY_DEFINITIONS, f"{POLICY_SET_FOLDER}/*/*.json"],
        "generatedBy": GENERATED_BY,
        "count": len(definitions),
        "notes": [
            "definitions: every built-in policy definition name (lower case) -> the indexes, in "
            "initiatives, of the initiatives whose member list contains it, separated by spaces "
            "(empty: in none of them).",
            "initiatives: the built-in initiatives whose definition file is in the reference (the "
            "categories " + ", ".join(sorted(p.name for p in folder.iterdir() if p.is_dir())) + "): "
            "every initiative Defender for Cloud honours except those that exist only in Azure "
            "Government, whose member lists were not collected.",
        ],
    }
    return {"header": header, "initiatives": initiative_names, "definitions": definitions}


# ---------------------------------------------------------------------------------------------
# Exemption schema


def _is_expression(schema: Any) -> bool:
    return isinstance(schema, dict) and schema.get("$ref") == EXPRESSION_REF


def _without_expression(schema: dict[str, Any]) -> dict[str, Any]:
    """Drop the ARM ``expression`` alternative (exemptlint evaluates expressions first)."""
    if "oneOf" not in schema:
        return schema
    alternatives = [alt for alt in schema["oneOf"] if not _is_expression(alt)]
    if len(alternatives) != 1:
        raise GenerationError(f"unexpected oneOf: {schema['oneOf']!r}")
    merged = {k: v for k, v in schema.items() if k != "oneOf"}
    merged.update(alternatives[0])
    return merged


class _Facets:
    """What the sources say about one property, accumulated over sources and api-versions."""

    def __init__(self) -> None:
        self.types: set[str] = set()
        self.enum: list[str] = []
        self.formats: set[str] = set()
        self.item_types: set[str] = set()
        self.item_refs: set[str] = set()
        self.description: str | None = None
        self.enum_descriptions: dict[str, str] = {}
        self.rest_versions: list[str] = []
        self.arm_versions: list[str] = []

    def add(self, schema: dict[str, Any]) -> None:
        schema = _without_expression(schema)
        if "type" in schema:
            self.types.add(schema["type"])
        for value in schema.get("enum", []):
            if value not in self.enum:
                self.enum.append(value)
        if "format" in schema:
            self.formats.add(schema["format"])
        items = schema.get("items")
        if isinstance(items, dict):
            if "$ref" in items:
                self.item_refs.add(items["$ref"].rsplit("/", 1)[-1])
            if "type" in items:
                self.item_types.add(items["type"])
        for value in schema.get("x-ms-enum", {}).get("values", []):
            self.enum_descriptions.setdefault(value["value"], value["description"])
        if isinstance(schema.get("description"), str):
            self.description = schema["description"]  # the newest source wins

    def single_type(self, name: str) -> str:
        if len(self.types) != 1:
            raise GenerationError(f"{name}: the sources disagree on its type: {sorted(self.types)}")
        return next(iter(self.types))


def _versions(versions: Iterable[str]) -> str:
    return ", ".join(versions) or "none"


def _collect_schema_sources(reference: Path, sources: dict[str, dict[str, str]]) -> dict[str, Any]:
    facets: dict[str, _Facets] = {}
    required_sets: list[set[str]] = []
    rest_files: list[str] = []
    arm_files: list[str] = []
    selector_kinds: list[str] = []
    selector_kind_versions: list[str] = []
    selector_shapes: dict[str, set[str]] = {"ResourceSelector": set(), "Selector": set()}
    arm_name_patterns: dict[str, list[str]] = {}

    # ARM first, then REST: descriptions of the newest REST api-version win.
    for folder in _api_version_dirs(reference / "arm-schemas"):
        local = f"arm-schemas/{folder.name}/Microsoft.Authorization.json"
        document = _load_json(reference / local)
        resource = document.get("resourceDefinitions", {}).get("policyExemptions")
        if resource is None:
            continue
        arm_files.append(f"{local} ({_source(sources, local)})")
        name_schema = _without_expression(resource["properties"]["name"])
        if "pattern" in name_schema:
            arm_name_patterns.setdefault(name_schema["pattern"], []).append(folder.name)
        properties_ref = _without_expression(resource["properties"]["properties"])
        if properties_ref.get("$ref") != "#/definitions/PolicyExemptionProperties":
            raise GenerationError(f"{local}: policyExemptions.properties is not PolicyExemptionProperties")
        definitions = document["definitions"]
        properties = definitions["PolicyExemptionProperties"]
        required_sets.append(set(properties.get("required", [])))
        for name, schema in properties["properties"].items():
            facet = facets.setdefault(name, _Facets())
            facet.add(schema)
            facet.arm_versions.append(folder.name)
        if "Selector" in definitions:
            selector_kind_versions.append(folder.name)
            for name in ("ResourceSelector", "Selector"):
                selector_shapes[name].update(definitions[name]["properties"])
            kind = _without_expression(definitions["Selector"]["properties"]["kind"])
            for value in kind["enum"]:
                if value not in selector_kinds:
                    selector_kinds.append(value)

    rest_required_order: list[str] = []
    for folder in _api_version_dirs(reference / "rest-specs"):
        local = f"rest-specs/{folder.name}/policyExemptions.json"
        document = _load_json(reference / local)
        rest_files.append(f"{local} ({_source(sources, local)})")
        properties = document["definitions"]["PolicyExemptionProperties"]
        rest_required_order = list(properties.get("required", []))
        required_sets.append(set(rest_required_order))
        for name, schema in properties["properties"].items():
            facet = facets.setdefault(name, _Facets())
            facet.add(schema)
            facet.rest_versions.append(folder.name)

    if not rest_files or not arm_files:
        raise GenerationError("no REST or ARM schema for policyExemptions found")
    required = set.intersection(*required_sets)
    if required != set.union(*required_sets):
        raise GenerationError("the api-versions disagree on the required properties")
    if selector_shapes["ResourceSelector"] != {"name", "selectors"} or selector_shapes["Selector"] != {
        "kind",
        "in",
        "notIn",
    }:
        raise GenerationError(f"unexpected ResourceSelector/Selector shape: {selector_shapes!r}")
    if EXEMPTION_MANAGEMENT_MODE in facets:
        raise GenerationError(
            f"{EXEMPTION_MANAGEMENT_MODE} is now in a collected schema: drop the explicit definition"
        )
    return {
        "facets": facets,
        "required": [name for name in rest_required_order if name in required],
        "rest_files": rest_files,
        "arm_files": arm_files,
        "selector_kinds": selector_kinds,
        "selector_kind_versions": selector_kind_versions,
        "arm_name_patterns": arm_name_patterns,
    }


def _epac_max_length(reference: Path, prop: str) -> int | None:
    path = reference / EPAC_SCHEMA
    if not path.exists():
        return None
    document = _load_json(path)
    item = document["properties"]["exemptions"]["items"]["properties"].get(prop, {})
    value = item.get("maxLength")
    return value if isinstance(value, int) else None


def _limit_comment(reference: Path, sources: dict[str, dict[str, str]], prop: str) -> str:
    _limit, where = LENGTH_LIMITS[prop]
    epac = _epac_max_length(reference, prop)
    epac_source = _source(sources, EPAC_SCHEMA) if (reference / EPAC_SCHEMA).exists() else "not collected"
    if epac is None:
        epac_text = (
            f"EPAC's Schemas/policy-exemption-schema.json ({epac_source}) sets no maxLength for {prop}."
        )
    else:
        epac_text = f"EPAC's Schemas/policy-exemption-schema.json ({epac_source}) sets maxLength {epac}."
    return f"{where} No collected REST or ARM schema states a length limit. {epac_text}"


def _property_comment(facet: _Facets) -> str:
    return (
        f"REST api-versions: {_versions(facet.rest_versions)}; "
        f"ARM schema api-versions: {_versions(facet.arm_versions)}."
    )


def build_schema(reference: Path, sources: dict[str, dict[str, str]]) -> dict[str, Any]:
    collected = _collect_schema_sources(reference, sources)
    facets: dict[str, _Facets] = collected["facets"]
    expected = {
        "policyAssignmentId",
        "policyDefinitionReferenceIds",
        "exemptionCategory",
        "expiresOn",
        "displayName",
        "description",
        "metadata",
        "resourceSelectors",
        "assignmentScopeValidation",
    }
    if set(facets) != expected:
        raise GenerationError(f"unexpected PolicyExemptionProperties: {sorted(set(facets) ^ expected)}")

    properties: dict[str, Any] = {}
    for name, facet in facets.items():
        kind = facet.single_type(name)
        schema: dict[str, Any] = {
            "title": TITLES[name],
            "type": kind,
            "$comment": _property_comment(facet),
        }
        description = facet.description or ""
        if facet.enum:
            schema["enum"] = facet.enum
            explained = [
                f"{value} ({facet.enum_descriptions[value].rstrip('.')})"
                if value in facet.enum_descriptions
                else value
                for value in facet.enum
            ]
            description = f"{description.rstrip('.')}. One of: {'; '.join(explained)}."
        if facet.formats:
            if facet.formats != {"date-time"}:
                raise GenerationError(f"{name}: unexpected format {sorted(facet.formats)}")
            schema["format"] = "date-time"
            description += " An ISO 8601 date-time string (format date-time)."
        if kind == "array":
            if facet.item_refs:
                if facet.item_refs != {"ResourceSelector"}:
                    raise GenerationError(f"{name}: unexpected item $ref {sorted(facet.item_refs)}")
                schema["items"] = {"$ref": "#/$defs/ResourceSelector"}
                description += " Each item is a resource selector (see $defs/ResourceSelector)."
            else:
                if facet.item_types != {"string"}:
                    raise GenerationError(f"{name}: unexpected item types {sorted(facet.item_types)}")
                schema["items"] = {"type": "string", "description": f"One entry of {name}: a string."}
                description += " A list of strings."
        if name in LENGTH_LIMITS:
            limit = LENGTH_LIMITS[name][0]
            schema["maxLength"] = limit
            schema["$comment"] += " " + _limit_comment(reference, sources, name)
            description += f" At most {limit} characters."
        if name == "metadata":
            schema["$comment"] += (
                " REST: type object; ARM: any value (the expression alternative dropped). Kept as an object."
            )
            description += " Must be a JSON object."
        if name == "policyDefinitionReferenceIds":
            schema["$comment"] += (
                " The singular 'policyDefinitionReferenceId' (seen in a Microsoft docs example) is not"
                " a property: additionalProperties false rejects it."
            )
        schema["description"] = description.strip()
        properties[name] = schema

    properties[EXEMPTION_MANAGEMENT_MODE] = {
        "title": TITLES[EXEMPTION_MANAGEMENT_MODE],
        "type": "string",
        "description": "How the exemption is managed (for example UserSelfServe); a string.",
        "$comment": (
            "Not in any collected REST or ARM schema (the REST ./types.json and the newest "
            "policyExemptions.json were not collected). Added explicitly because the official "
            f"2025-12-01-preview REST example {EXEMPTION_MANAGEMENT_MODE_EXAMPLE} sends "
            f"'{EXEMPTION_MANAGEMENT_MODE}': 'UserSelfServe', so additionalProperties false must "
            "not reject it. No enum: the set of values is not known."
        ),
    }

    kinds: list[str] = collected["selector_kinds"]
    patterns = "; ".join(
        f"{pattern!r} ({', '.join(versions)})" for pattern, versions in collected["arm_name_patterns"].items()
    )
    defs = {
        "ResourceSelector": {
            "title": "Resource selector",
            "type": "object",
            "description": "A resource selector: an optional name and a list of selector expressions "
            "(name, selectors); no other properties.",
            "$comment": "Written by hand from the ARM schemas' ResourceSelector definition (the REST "
            "./types.json#/definitions/ResourceSelector was not collected); the expression "
            "alternatives are dropped.",
            "properties": {
                "name": {"type": "string", "description": "The name of the resource selector; a string."},
                "selectors": {
                    "type": "array",
                    "description": "The list of the selector expressions.",
                    "items": {"$ref": "#/$defs/Selector"},
                },
            },
            "additionalProperties": False,
        },
        "Selector": {
            "title": "Selector expression",
            "type": "object",
            "description": "A selector expression: kind, and the values to filter in (in) or out "
            "(notIn); no other properties.",
            "$comment": "Written by hand from the ARM schemas' Selector definition. kind is the union "
            "of the enums of ARM schema api-versions "
            + _versions(collected["selector_kind_versions"])
            + " (2024-12-01-preview spells UserPrincipalId/GroupPrincipalId, 2025-12-01-preview "
            "userPrincipalId/groupPrincipalId; both spellings are kept).",
            "properties": {
                "kind": {
                    "type": "string",
                    "enum": kinds,
                    "description": "The selector kind; one of: " + ", ".join(kinds) + ".",
                },
                "in": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "The list of values to filter in; a list of strings.",
                },
                "notIn": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "The list of values to filter out; a list of strings.",
                },
            },
            "additionalProperties": False,
        },
    }

    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Azure Policy exemption (Microsoft.Authorization/policyExemptions)",
        "description": "An exemption envelope {name, properties} as exemptlint validates it, after "
        "template expressions are evaluated.",
        "$comment": (
            f"Generated by {GENERATED_BY}; do not edit. Derived from definitions.PolicyExemptionProperties "
            "of the REST specification files "
            + "; ".join(collected["rest_files"])
            + " and from resourceDefinitions.policyExemptions and definitions.PolicyExemptionProperties/"
            "ResourceSelector/Selector of the ARM template schemas "
            + "; ".join(collected["arm_files"])
            + ". Properties are the union over these api-versions; the ARM '$ref' to the common "
            "'expression' definition is ignored because exemptlint evaluates expressions before "
            "validating. Length limits and the name rules come from the documentation (see the "
            "$comment of each)."
        ),
        "type": "object",
        "required": ["properties"],
        "properties": {
            "name": {
                "title": "Exemption name",
                "type": "string",
                "maxLength": NAME_MAX_LENGTH,
                "pattern": NAME_PATTERN,
                "description": (
                    f"The exemption's resource name: 1 to {NAME_MAX_LENGTH} characters; it may not "
                    f"contain any of {NAME_FORBIDDEN} and may not end with a space (or a period, "
                    "which is not allowed anywhere)."
                ),
                "$comment": (
                    "Rules from the ARM template reference for Microsoft.Authorization/policyExemptions "
                    "(resource name 1-64 characters; can't use <>*%&:\\?.+/ or control characters; "
                    "can't end with period or space). The ARM schemas' own name pattern is looser: "
                    + (patterns or "none")
                    + ". REST and older ARM schemas only say 'string'."
                ),
            },
            "properties": {
                "title": "Exemption properties",
                "type": "object",
                "description": "The exemption's properties: policyAssignmentId and exemptionCategory "
                "are required; no properties other than those listed are allowed.",
                "required": collected["required"],
                "additionalProperties": False,
                "properties": properties,
            },
        },
        "$defs": defs,
    }


# ---------------------------------------------------------------------------------------------
# Output


def render(document: Any) -> str:
    return json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def generate(shared: Path) -> dict[str, str]:
    """The packaged data files (file name -> text) generated from ``shared/reference``."""
    reference = shared / "reference"
    if not reference.is_dir():
        raise GenerationError(f"no reference directory under {shared}")
    sources = _read_sources(reference)
    initiatives, reference_ids = build_initiatives(reference, sources)
    outputs = {
        INITIATIVES_FILE: render(initiatives),
        MEMBERSHIP_FILE: render(build_membership(reference, sources)),
        SCHEMA_FILE: render(build_schema(reference, sources)),
    }
    for name, document in sorted(build_members(reference, reference_ids).items()):
        outputs[name] = render(document)
    for name, document in sorted(build_definition_names(reference).items()):
        outputs[name] = render(document)
    return outputs


def _read_packaged(name: str) -> str | None:
    path = DATA_DIR / name
    return path.read_text(encoding="utf-8") if path.exists() else None


def _extra_files(outputs: dict[str, str]) -> list[str]:
    """Files in the generated folders that ``outputs`` does not hold (an initiative gone)."""
    extra: list[str] = []
    for folder in GENERATED_FOLDERS:
        if (DATA_DIR / folder).is_dir():
            extra += [
                f"{folder}/{path.name}"
                for path in sorted((DATA_DIR / folder).iterdir())
                if f"{folder}/{path.name}" not in outputs
            ]
    return extra


def check(outputs: dict[str, str], max_diff_lines: int = 40) -> list[str]:
    """Differences between ``outputs`` and the packaged files, as printable lines."""
    report: list[str] = [
        f"{name}: not generated any more (run python {GENERATED_BY})" for name in _extra_files(outputs)
    ]
    for name, text in outputs.items():
        current = _read_packaged(name)
        if current == text:
            continue
        if current is None:
            report.append(f"{name}: missing (run python {GENERATED_BY})")
            continue
        diff = list(
            difflib.unified_diff(
                current.splitlines(),
                text.splitlines(),
                fromfile=f"packaged/{name}",
                tofile=f"generated/{name}",
                lineterm="",
                n=1,
            )
        )
        changed = sum(1 for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---"))
        report.append(f"{name}: differs ({changed} changed lines)")
        report.extend("  " + line for line in diff[:max_diff_lines])
        if len(diff) > max_diff_lines:
            report.append(f"  ... {len(diff) - max_diff_lines} more diff lines")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--shared",
        type=Path,
        default=DEFAULT_SHARED,
        help="directory holding reference/ (default: %(default)s)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="do not write; exit 1 if the packaged files differ from what would be generated",
    )
    args = parser.parse_args(argv)
    try:
        outputs = generate(args.shared)
    except GenerationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.check:
        report = check(outputs)
        if report:
            print("packaged data is out of date:", file=sys.stderr)
            for line in report:
                print(line, file=sys.stderr)
            print(f"regenerate with: python {GENERATED_BY}", file=sys.stderr)
            return 1
        print(f"packaged data is up to date ({len(outputs)} files)")
        return 0
    unchanged = 0
    for name in _extra_files(outputs):
        (DATA_DIR / name).unlink()
        print(f"removed {name}")
    for name, text in outputs.items():
        if _read_packaged(name) == text:
            unchanged += 1
            continue
        (DATA_DIR / name).parent.mkdir(parents=True, exist_ok=True)
        with (DATA_DIR / name).open("w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        print(f"wrote {name} ({len(text.encode('utf-8'))} bytes)")
    print(f"{unchanged} files unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
