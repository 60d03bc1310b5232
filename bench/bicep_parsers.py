#!/usr/bin/env python3

"""Bicep parsers compared on a corpus of a few hundred realistic files, and exemptlint's own
cost per Bicep file.

    .venv/bin/python bench/bicep_parsers.py                 # 300 generated files + the test fixtures
    .venv/bin/python bench/bicep_parsers.py --count 1000 --repeat 5 --json out.json

Candidates (both from PyPI): tree-sitter + tree-sitter-bicep, and pycep-parser (a Lark grammar).
For each: import time (fresh interpreter, best of 5), parser construction, parse time per file
(median, mean, p95, best of --repeat passes), how many files parse without error, whether
positions come with lines and columns, and what happens on a syntax error.

Needs only the standard library and the two parsers; a parser that is not installed is
reported as such. The corpus is generated from a fixed seed (templates modelled on AVM,
ALZ-Bicep and EPAC usage: decorators, multi-line strings, loops with an index, range(),
conditions, existing parents, nested resources, modules, .bicepparam files) plus every
.bicep/.bicepparam file under tests/fixtures/bicep.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "bicep"
ASSIGNMENT = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Authorization/"
    "policyAssignments/SecurityCenterBuiltIn"
)
REFERENCE_IDS = (
    "secureTransferToStorageAccountMonitoring",
    "StorageDisallowPublicAccess",
    "webAppEnforceHttpsMonitoring",
    "AzureFirewallEffect",
    "networkSecurityGroupsOnSubnetsMonitoring",
    "keyVaultsShouldHavePurgeProtectionEnabledMonitoringEffect",
)


# --------------------------------------------------------------------------- corpus


def _date(rng: random.Random) -> str:
    return f"20{rng.choice((26, 27, 27, 27, 28))}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T23:59:59Z"


def _exemption_object(rng: random.Random, n: int, indent: str) -> str:
    ref = rng.choice(REFERENCE_IDS)
    return (
        f"{indent}{{\n"
        f"{indent}  name: 'exemption-{n:03d}'\n"
        f"{indent}  resourceGroup: 'rg-app-{n % 7}'\n"
        f"{indent}  category: '{rng.choice(('Waiver', 'Mitigated', 'mitigated'))}'\n"
        f"{indent}  expiresOn: '{_date(rng)}'\n"
        f"{indent}  referenceIds: [\n{indent}    '{ref}'\n{indent}  ]\n"
        f"{indent}  description: 'Reviewed in CHG-{rng.randint(1000, 9999)}: {ref} is covered elsewhere.'\n"
        f"{indent}}}\n"
    )


def _plain(rng: random.Random, i: int) -> str:
    blocks = []
    for n in range(rng.randint(1, 6)):
        blocks.append(
            f"""@description('Exemption {n} of file {i}.')
resource exemption{n} 'Microsoft.Authorization/policyExemptions@2022-07-01-preview' = {{ // exemption {n}
  name: '${{prefix}}-{n}'
  properties: {{
    policyAssignmentId: '{ASSIGNMENT}'
    policyDefinitionReferenceIds: [
      '{rng.choice(REFERENCE_IDS)}'
    ]
    exemptionCategory: '{rng.choice(("Waiver", "Mitigated"))}'
    /* the expiry */ expiresOn: '{_date(rng)}'
    displayName: 'Exemption {n} of ${{prefix}}'
    description: '''
Approved by the security office (RISK-{rng.randint(100, 999)}).
The compensating control is documented in the risk register.'''
  }}
}}
"""
        )
    return f"@description('Name prefix.')\nparam prefix string = 'app{i:04d}'\n\n" + "\n".join(blocks)


def _loop(rng: random.Random, i: int) -> str:
    items = "".join(_exemption_object(rng, n, "  ") for n in range(rng.randint(2, 8)))
    return f"""targetScope = 'subscription'

@description('Exemptions, one per resource group.')
param exemptions array = [
{items}]

var assignmentId = subscriptionResourceId('Microsoft.Authorization/policyAssignments', 'SecurityCenterBuiltIn')

module perResourceGroup 'modules/exemption.bicep' = [for (e, index) in exemptions: {{
  name: 'exemption-{i}-${{index}}'
  scope: resourceGroup(e.resourceGroup)
  params: {{
    name: e.name
    category: e.category
    expiresOn: e.expiresOn
    referenceIds: e.referenceIds
    description: index == 0 ? e.description : '${{e.description}} (#${{index}})'
    assignmentId: assignmentId
  }}
}}]
"""


def _module() -> str:
    return """param name string
param category string
param expiresOn string
param referenceIds array
param description string
param assignmentId string

resource exemption 'Microsoft.Authorization/policyExemptions@2022-07-01-preview' = {
  name: name
  properties: {
    policyAssignmentId: assignmentId
    policyDefinitionReferenceIds: referenceIds
    exemptionCategory: category
    expiresOn: expiresOn
    displayName: 'Exemption ${name} in ${resourceGroup().name}'
    description: description
  }
}

output id string = exemption.id
"""


def _existing(rng: random.Random, i: int) -> str:
    names = ", ".join(f"'st{i:04d}{n}'" for n in range(rng.randint(1, 5)))
    return f"""param accounts array = [{names}]
param deploy bool = true

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = [for name in accounts: {{
  name: name
}}]

resource vnet 'Microsoft.Network/virtualNetworks@2023-11-01' existing = {{
  name: 'vnet-{i}'

  resource subnet 'subnets' existing = {{
    name: 'snet-app'
  }}
}}

resource perAccount 'Microsoft.Authorization/policyExemptions@2022-07-01-preview' = [for (name, n) in accounts: if (deploy) {{
  name: '${{name}}-private-link'
  scope: storage[n]
  properties: {{
    policyAssignmentId: subscriptionResourceId('Microsoft.Authorization/policyAssignments', 'SecurityCenterBuiltIn')
    exemptionCategory: n % 2 == 0 ? 'Mitigated' : 'Waiver'
    expiresOn: dateTimeAdd('2026-11-24T00:00:00Z', 'P${{30 * (n + 1)}}D')
    displayName: toUpper(name)
    description: 'Account ${{name}} is reached through the private endpoint only.'
  }}
}}]

resource subnetExemption 'Microsoft.Authorization/policyExemptions@2022-07-01-preview' = {{
  name: 'snet-app-nsg-{i}'
  scope: vnet::subnet
  properties: {{
    policyAssignmentId: subscriptionResourceId('Microsoft.Authorization/policyAssignments', 'SecurityCenterBuiltIn')
    exemptionCategory: 'Mitigated'
    expiresOn: '{_date(rng)}'
    displayName: 'Subnet without NSG'
    description: 'The subnet hosts a managed appliance that brings its own filtering.'
  }}
}}
"""


def _ranged(rng: random.Random, i: int) -> str:
    return f"""targetScope = 'managementGroup'

param count int = {rng.randint(1, 10)}
param prefix string = 'alz{i}'

resource exemptions 'Microsoft.Authorization/policyExemptions@2022-07-01-preview' = [for n in range(1, count): {{
  name: '${{prefix}}-batch-${{n}}'
  scope: managementGroup('${{prefix}}-landingzones')
  properties: {{
    policyAssignmentId: managementGroupResourceId('Microsoft.Authorization/policyAssignments', 'Deploy-MDFC-Config')
    exemptionCategory: 'Waiver'
    expiresOn: '{_date(rng)}'
    displayName: format('Batch {{0}} of {{1}}', n, prefix)
    description: 'Batch ${{n}}: the landing zone is being migrated to the new hierarchy.'
  }}
}}]
"""


def _bicepparam(rng: random.Random, i: int) -> str:
    return f"""using './file-{i - 1:04d}.bicep'

param prefix = 'app{i:04d}'
param exemptions = [
{_exemption_object(rng, i, "  ")}]
"""


TEMPLATES: tuple[Callable[[random.Random, int], str], ...] = (_plain, _loop, _existing, _ranged)


def write_corpus(directory: Path, count: int, seed: int = 1) -> list[Path]:
    """``count`` generated files (about one in eight a .bicepparam) and the test fixtures."""
    rng = random.Random(seed)
    (directory / "modules").mkdir(parents=True, exist_ok=True)
    (directory / "modules" / "exemption.bicep").write_text(_module(), encoding="utf-8")
    files: list[Path] = []
    for i in range(count):
        if i % 8 == 7:
            path = directory / f"file-{i:04d}.bicepparam"
            path.write_text(_bicepparam(rng, i), encoding="utf-8")
        else:
            path = directory / f"file-{i:04d}.bicep"
            path.write_text(TEMPLATES[i % len(TEMPLATES)](rng, i), encoding="utf-8")
        files.append(path)
    for fixture in sorted(FIXTURES.rglob("*")):
        if fixture.suffix in (".bicep", ".bicepparam"):
            files.append(fixture)
    return files


# --------------------------------------------------------------------------- measurements


def import_time(statement: str, runs: int = 5) -> float | None:
    """Seconds to run ``statement`` in a fresh interpreter (best of ``runs``), None if it fails."""
    code = f"import time\nstart = time.perf_counter()\n{statement}\nprint(time.perf_counter() - start)"
    best: float | None = None
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            return None
        seconds = float(done.stdout.strip().splitlines()[-1])
        best = seconds if best is None else min(best, seconds)
    return best


def _summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "median_ms": statistics.median(ordered) * 1000,
        "mean_ms": statistics.fmean(ordered) * 1000,
        "p95_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000,
        "max_ms": ordered[-1] * 1000,
        "total_s": sum(ordered),
    }


def _by_suffix(files: list[Path]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for path in files:
        counts[path.suffix] = counts.get(path.suffix, 0) + 1
    return counts


def bench_exemptlint_parser(files: list[Path]) -> dict[str, Any]:
    """What exemptlint's converter accepts (grammar gaps bridged, .bicepparam rewritten)."""
    sys.path.insert(0, str(REPO))
    from exemptlint.loaders.bicep_syntax import BicepSyntaxError, parse_document

    clean: dict[str, int] = {}
    rejected: list[str] = []
    for path in files:
        try:
            parse_document(path.read_text(encoding="utf-8"), path.suffix == ".bicepparam")
            clean[path.suffix] = clean.get(path.suffix, 0) + 1
        except BicepSyntaxError as error:
            rejected.append(f"{path.name}:{error.line}:{error.column}: {error.message}")
    return {"parsed_without_error": clean, "files": _by_suffix(files), "rejected": rejected}


def bench_tree_sitter(files: list[Path], repeat: int) -> dict[str, Any]:
    try:
        import tree_sitter_bicep
        from tree_sitter import Language, Parser
    except ImportError as error:
        return {"available": False, "reason": str(error)}
    start = time.perf_counter()
    parser = Parser(Language(tree_sitter_bicep.language()))
    construct = time.perf_counter() - start
    sources = [f.read_bytes() for f in files]
    best = [float("inf")] * len(sources)
    clean: dict[str, int] = {}
    for attempt in range(repeat):
        for index, source in enumerate(sources):
            start = time.perf_counter()
            tree = parser.parse(source)
            best[index] = min(best[index], time.perf_counter() - start)
            if attempt == 0 and not tree.root_node.has_error:
                clean[files[index].suffix] = clean.get(files[index].suffix, 0) + 1
    broken = parser.parse(
        b"resource e 'Microsoft.Authorization/policyExemptions@2022-07-01-preview' = {\n  name: \n}\n"
    )
    return {
        "available": True,
        "construct_ms": construct * 1000,
        "parse": _summary(best),
        "parsed_without_error": clean,
        "files": _by_suffix(files),
        "positions": "line and column (bytes) of every node",
        "error_recovery": (
            f"tree with ERROR/MISSING nodes (has_error={broken.root_node.has_error}); parsing goes on"
        ),
    }


def bench_pycep(files: list[Path], repeat: int) -> dict[str, Any]:
    try:
        from pycep import BicepParser
    except ImportError as error:
        return {"available": False, "reason": str(error)}
    start = time.perf_counter()
    parser = BicepParser(add_line_numbers=True)
    construct = time.perf_counter() - start
    texts = [f.read_text(encoding="utf-8") for f in files]
    best = [float("inf")] * len(texts)
    clean: dict[str, int] = {}
    failures: dict[str, int] = {}
    for attempt in range(repeat):
        for index, text in enumerate(texts):
            start = time.perf_counter()
            try:
                parser.parse(text=text)
                ok = True
            except Exception as error:  # Lark raises several exception types
                ok = False
                if attempt == 0:
                    kind = type(error).__name__
                    failures[kind] = failures.get(kind, 0) + 1
            best[index] = min(best[index], time.perf_counter() - start)
            if attempt == 0 and ok:
                clean[files[index].suffix] = clean.get(files[index].suffix, 0) + 1
    return {
        "available": True,
        "construct_ms": construct * 1000,
        "parse": _summary(best),
        "parsed_without_error": clean,
        "files": _by_suffix(files),
        "failures": failures,
        "positions": "start and end line of declarations only (no columns, no property positions)",
        "error_recovery": "none: the first syntax error raises",
    }


def bench_exemptlint(files: list[Path], repeat: int) -> dict[str, Any]:
    """exemptlint's whole cost per file: read, parse, evaluate, build exemptions (modules followed)."""
    import datetime

    sys.path.insert(0, str(REPO))
    from exemptlint.loaders import LoadOptions, load_file

    options = LoadOptions(today=datetime.date(2026, 11, 24), time_budget=0)
    bicep = [f for f in files if f.suffix == ".bicep"]
    load_file(bicep[0], options)  # first use imports the grammar
    best = [float("inf")] * len(bicep)
    exemptions = 0
    for attempt in range(repeat):
        for index, path in enumerate(bicep):
            start = time.perf_counter()
            result = load_file(path, options)
            best[index] = min(best[index], time.perf_counter() - start)
            if attempt == 0:
                exemptions += len(result.exemptions)
    return {"files": len(bicep), "exemptions": exemptions, "load": _summary(best)}


def markdown(report: dict[str, Any]) -> str:
    rows = [
        "| | tree-sitter + tree-sitter-bicep | pycep-parser |",
        "|---|---|---|",
    ]
    ts, pc = report["tree_sitter"], report["pycep"]

    def cell(data: dict[str, Any], render: Callable[[dict[str, Any]], str]) -> str:
        return render(data) if data.get("available") else f"not installed ({data.get('reason')})"

    imports = report["import_s"]
    rows.append(
        "| import (fresh interpreter, best of 5) | "
        + " | ".join(
            f"{imports[k] * 1000:.0f} ms" if imports[k] is not None else "n/a"
            for k in ("tree_sitter", "pycep")
        )
        + " |"
    )
    rows.append(
        "| parser construction | "
        + cell(ts, lambda d: f"{d['construct_ms']:.2f} ms")
        + " | "
        + cell(pc, lambda d: f"{d['construct_ms']:.0f} ms")
        + " |"
    )
    for key, label in (("median_ms", "median"), ("mean_ms", "mean"), ("p95_ms", "p95"), ("max_ms", "max")):
        rows.append(
            f"| parse time per file, {label} | "
            + cell(ts, lambda d, k=key: f"{d['parse'][k]:.3f} ms")
            + " | "
            + cell(pc, lambda d, k=key: f"{d['parse'][k]:.2f} ms")
            + " |"
        )
    rows.append(
        f"| whole corpus ({report['files']} files) | "
        + cell(ts, lambda d: f"{d['parse']['total_s'] * 1000:.1f} ms")
        + " | "
        + cell(pc, lambda d: f"{d['parse']['total_s']:.2f} s")
        + " |"
    )
    for suffix in (".bicep", ".bicepparam"):
        rows.append(
            f"| {suffix} files parsed without error | "
            + cell(ts, lambda d, s=suffix: f"{d['parsed_without_error'].get(s, 0)} / {d['files'].get(s, 0)}")
            + " | "
            + cell(pc, lambda d, s=suffix: f"{d['parsed_without_error'].get(s, 0)} / {d['files'].get(s, 0)}")
            + " |"
        )
    rows.append(
        "| positions | "
        + cell(ts, lambda d: d["positions"])
        + " | "
        + cell(pc, lambda d: d["positions"])
        + " |"
    )
    rows.append(
        "| on a syntax error | "
        + cell(ts, lambda d: d["error_recovery"])
        + " | "
        + cell(pc, lambda d: d["error_recovery"])
        + " |"
    )
    ex = report["exemptlint"]
    load = ex["load"]
    accepted = report["exemptlint_parser"]
    rows.append("")
    rows.append(
        "exemptlint's converter on top of tree-sitter accepts "
        + ", ".join(
            f"{accepted['parsed_without_error'].get(s, 0)} / {accepted['files'].get(s, 0)} {s}"
            for s in (".bicep", ".bicepparam")
        )
        + " files; rejected: "
        + ("; ".join(accepted["rejected"]) or "none")
        + "."
    )
    rows.append("")
    rows.append(
        f"exemptlint, whole load per .bicep file ({ex['files']} files, {ex['exemptions']} exemptions; "
        f"read + parse + evaluate, modules followed): median {load['median_ms']:.2f} ms, mean "
        f"{load['mean_ms']:.2f} ms, p95 {load['p95_ms']:.2f} ms, max {load['max_ms']:.2f} ms."
    )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=300, help="generated files (default 300)")
    parser.add_argument("--repeat", type=int, default=3, help="timing passes; the best is kept (default 3)")
    parser.add_argument("--out", type=Path, help="keep the generated corpus in this directory")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        directory = args.out or Path(scratch)
        files = write_corpus(directory, args.count)
        report: dict[str, Any] = {
            "python": sys.version.split()[0],
            "files": len(files),
            "import_s": {
                "tree_sitter": import_time("import tree_sitter, tree_sitter_bicep"),
                "pycep": import_time("import pycep"),
            },
            "tree_sitter": bench_tree_sitter(files, args.repeat),
            "pycep": bench_pycep(files, args.repeat),
            "exemptlint_parser": bench_exemptlint_parser(files),
            "exemptlint": bench_exemptlint(files, args.repeat),
        }
    print(markdown(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
