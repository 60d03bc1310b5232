"""SARIF 2.1.0 for code-scanning dashboards (GitHub code scanning, Azure DevOps, SARIF viewers).

One log with one run. ``tool.driver.rules`` describes every rule; each finding is one result
(suppressed findings included, with their ``suppressions``) pointing at its file relative to
``%SRCROOT%`` (the report's root). Files that could not be read or parsed are
``toolExecutionNotifications`` of the run's invocation; stale baseline entries are
``toolConfigurationNotifications``.

GitHub's ingestion rules shape some choices:

- ``security-severity`` is set only for rules tagged ``security``: GitHub treats every result of
  a rule that has one as a security alert. Every rule has ``problem.severity``.
- ``partialFingerprints.primaryLocationLineHash`` (the only entry GitHub reads) is the finding's
  own fingerprint, which does not change when unrelated lines move; ``exemptlint/v1`` holds it
  too, unsuffixed.
- GitHub rejects uploads with more than ``MAX_RESULTS`` results or ``MAX_RULES`` rules per run and
  reads at most ``MAX_TAGS`` tags per rule; names, descriptions and messages are clipped to their
  limits. What was cut is recorded in ``run.properties.truncated`` and in a warning notification.

The output depends only on the report: no timestamps, no machine names.
"""

from __future__ import annotations

import dataclasses
import json
import os
import posixpath
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from exemptlint.model import Finding, Level, LoadError
from exemptlint.report import Report
from exemptlint.rules.api import Rule
from exemptlint.rules.docs import plain_text, rule_page

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
TOOL_NAME = "exemptlint"
INFORMATION_URI = "https://github.com/exemptlint/exemptlint"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "exemptlint/v1"
EXTRA_TAG = "azure-policy"

# GitHub code scanning limits (docs.github.com, "SARIF support for code scanning").
MAX_RESULTS = 25_000  # results per run; larger uploads are rejected
MAX_RULES = 25_000  # rules per run; larger uploads are rejected
MAX_TAGS = 10  # tags per rule (the table says 20, the troubleshooting page "fewer than 10")
MAX_NAME = 255  # reportingDescriptor.name
MAX_DESCRIPTION = 1024  # shortDescription.text, fullDescription.text
# Not a documented GitHub limit: keeps one pathological value (an exemption name of a megabyte)
# from making the file too big to upload (10 MB gzip-compressed).
MAX_MESSAGE = 1024

ELLIPSIS = "…"
PROBLEM_SEVERITY = {Level.ERROR: "error", Level.WARNING: "warning", Level.NOTE: "recommendation"}
# SemVer 2.0 (semver.org's regular expression): otherwise only ``version`` is written.
_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
_DOUBLE_BACKTICKS = re.compile(r"``(.+?)``", re.DOTALL)


class _Clipper:
    """Clips texts to their limits and counts what it clipped, per kind."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        # Rules whose tags were cut to ``MAX_TAGS``.
        self.tagged: list[str] = []

    def __call__(self, text: str, limit: int, kind: str) -> str:
        if len(text) <= limit:
            return text
        self.counts[kind] = self.counts.get(kind, 0) + 1
        return text[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS


# Texts ----------------------------------------------------------------------------------------


def _paragraphs(doc: str | None) -> list[str]:
    """The docstring's paragraphs, each on one line with single spaces."""
    if not doc:
        return []
    return [" ".join(block.split()) for block in re.split(r"\n\s*\n", doc.strip()) if block.strip()]


def _plain(text: str) -> str:
    """reStructuredText literals (````x````) as plain text."""
    return _DOUBLE_BACKTICKS.sub(r"\1", text)


def _markdown(text: str) -> str:
    """reStructuredText literals as Markdown code spans."""
    return _DOUBLE_BACKTICKS.sub(r"`\1`", text)


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in ".!?" else f"{text}."


def _module_doc(rule: Rule) -> str | None:
    module = sys.modules.get(getattr(rule.check, "__module__", "") or "")
    return module.__doc__ if module is not None else None


def _options(rule: Rule) -> list[tuple[str, str | None]]:
    """The rule's options as written in the config (kebab-case), with simple defaults."""
    if rule.options is None or not dataclasses.is_dataclass(rule.options):
        return []
    options: list[tuple[str, str | None]] = []
    for field in dataclasses.fields(rule.options):
        default = field.default
        shown = json.dumps(default) if isinstance(default, (bool, int, float, str)) else None
        options.append((field.name.replace("_", "-"), shown))
    return options


# Locations ------------------------------------------------------------------------------------


def _root_path(root: str) -> str:
    return os.path.normpath(os.path.abspath(root or "."))


def _directory_uri(path: str) -> str:
    uri = Path(path).as_uri()
    return uri if uri.endswith("/") else uri + "/"


def artifact_location(file: str, root: str) -> dict[str, str]:
    """``{uri, uriBaseId}`` for a path relative to the root, else an absolute ``file:`` URI.

    ``root`` is an absolute, normalised directory. Relative URIs are percent-encoded URI
    references with forward slashes (a space is ``%20``, a ``:`` ``%3A`` so that no segment reads
    as a scheme).
    """
    native = Path(file)
    if native.is_absolute():
        return {"uri": Path(os.path.normpath(file)).as_uri()}
    relative = posixpath.normpath(file.replace(os.sep, "/"))
    if relative == ".." or relative.startswith("../"):
        return {"uri": Path(os.path.normpath(os.path.join(root, file))).as_uri()}
    return {"uri": quote(relative, safe="/"), "uriBaseId": SRCROOT}


def _region(line: int, column: int, end_column: int | None) -> dict[str, int]:
    start_line = max(line, 1)
    start_column = max(column, 1)
    end = end_column if end_column is not None and end_column > start_column else start_column + 1
    return {"startLine": start_line, "startColumn": start_column, "endLine": start_line, "endColumn": end}


# Rules ----------------------------------------------------------------------------------------


def _security_severity(rule: Rule) -> str | None:
    """GitHub's score as a string ("7.0"), for security rules with a score in (0, 10]."""
    if "security" not in rule.tags:
        return None
    score = float(rule.security_severity)
    if not 0.0 < score <= 10.0:
        return None
    return f"{score:.1f}"


def _tags(rule: Rule, clip: _Clipper) -> list[str]:
    """The rule's tags plus ``azure-policy``, sorted; when there are more than ``MAX_TAGS``, the
    first ones the rule declares are kept."""
    unique = [tag for tag in dict.fromkeys(rule.tags) if tag and tag != EXTRA_TAG]
    if len(unique) > MAX_TAGS - 1:
        clip.tagged.append(rule.id)
    return sorted([*unique[: MAX_TAGS - 1], EXTRA_TAG])


def _rule_descriptor(rule: Rule, clip: _Clipper, configured: Level | None = None) -> dict[str, Any]:
    summary = _sentence(rule.summary) or f"{rule.id} {rule.name}."
    paragraphs = _paragraphs(rule.help if rule.help is not None else _module_doc(rule))
    first = paragraphs[0] if paragraphs else summary
    options = _options(rule)
    level = (configured or rule.level).value

    page = rule_page(rule)
    if page is not None:
        # The rule's documentation page: code scanning shows it beside the alert.
        text = [plain_text(page), f"Default level: {level}."]
        markdown = [page, f"Default level: `{level}`."]
    else:
        text = [summary, *(_plain(p) for p in paragraphs), f"Default level: {level}."]
        markdown = [f"**{rule.id} {rule.name}**: {summary}", *(_markdown(p) for p in paragraphs)]
        markdown.append(f"Default level: `{level}`.")
    if options:
        text.append(
            f"Options (rules.{rule.id} in .exemptlint.yaml): "
            + ", ".join(
                name if default is None else f"{name} (default {default})" for name, default in options
            )
            + "."
        )
        markdown.append(
            f"Options (`rules.{rule.id}` in `.exemptlint.yaml`): "
            + ", ".join(
                f"`{name}`" if default is None else f"`{name}` (default `{default}`)"
                for name, default in options
            )
            + "."
        )
    if rule.help_uri:
        text.append(f"Documentation: {rule.help_uri}")
        markdown.append(f"[{rule.id} documentation]({rule.help_uri})")

    properties: dict[str, Any] = {
        "tags": _tags(rule, clip),
        "precision": "high",
        "problem.severity": PROBLEM_SEVERITY[rule.level],
    }
    severity = _security_severity(rule)
    if severity is not None:
        properties["security-severity"] = severity
    descriptor: dict[str, Any] = {
        "id": rule.id,
        "name": clip(rule.name or rule.id, MAX_NAME, "ruleNames"),
        "shortDescription": {"text": clip(summary, MAX_DESCRIPTION, "descriptions")},
        "fullDescription": {
            "text": clip(_plain(first), MAX_DESCRIPTION, "descriptions"),
            "markdown": clip(_markdown(first), MAX_DESCRIPTION, "descriptions"),
        },
        "defaultConfiguration": {"level": level},
        "help": {"text": "\n\n".join(text), "markdown": "\n\n".join(markdown)},
        "helpUri": rule.help_uri,
        "properties": properties,
    }
    if not rule.help_uri:
        del descriptor["helpUri"]
    return descriptor


def _unknown_rule_descriptor(finding: Finding, clip: _Clipper) -> dict[str, Any]:
    """A rule a finding names but the report does not describe (never so for the built-in rules)."""
    name = finding.rule_name or finding.rule_id
    return {
        "id": finding.rule_id,
        "name": clip(name, MAX_NAME, "ruleNames"),
        "shortDescription": {"text": clip(f"{finding.rule_id} {name}.", MAX_DESCRIPTION, "descriptions")},
        "fullDescription": {"text": clip(f"{finding.rule_id} {name}.", MAX_DESCRIPTION, "descriptions")},
        "help": {"text": f"{finding.rule_id} {name}: no description is available."},
        "properties": {"tags": [EXTRA_TAG], "precision": "high"},
    }


# Limits ---------------------------------------------------------------------------------------


def _keep_results(findings: Sequence[Finding], severity: Mapping[str, float]) -> list[int]:
    """Indexes of the findings to write, in report order: the ``MAX_RESULTS`` that matter most
    (counted before suppressed, then by level, then by security severity, then report order)."""
    if len(findings) <= MAX_RESULTS:
        return list(range(len(findings)))
    ranked = sorted(
        range(len(findings)),
        key=lambda i: (
            findings[i].suppression is not None,
            -findings[i].level.rank,
            -severity.get(findings[i].rule_id, 0.0),
            i,
        ),
    )
    return sorted(ranked[:MAX_RESULTS])


def _keep_rules(descriptors: list[dict[str, Any]], used: Sequence[str]) -> list[dict[str, Any]]:
    """At most ``MAX_RULES`` descriptors, in their order: first those results use."""
    if len(descriptors) <= MAX_RULES:
        return descriptors
    used_set = set(used)
    ranked = sorted(range(len(descriptors)), key=lambda i: (descriptors[i]["id"] not in used_set, i))
    return [descriptors[i] for i in sorted(ranked[:MAX_RULES])]


# The log --------------------------------------------------------------------------------------


def _notification(
    level: str, message: str, file: str | None, line: int | None, column: int | None, root: str
) -> dict[str, Any]:
    notification: dict[str, Any] = {"level": level, "message": {"text": message}}
    if file:
        physical: dict[str, Any] = {"artifactLocation": artifact_location(file, root)}
        if line is not None and column is not None:
            physical["region"] = {"startLine": max(line, 1), "startColumn": max(column, 1)}
        notification["locations"] = [{"physicalLocation": physical}]
    return notification


def _result(
    finding: Finding, rule_index: int | None, root: str, line_hash: str, clip: _Clipper
) -> dict[str, Any]:
    result: dict[str, Any] = {"ruleId": finding.rule_id}
    if rule_index is not None:
        result["ruleIndex"] = rule_index
    result["level"] = finding.level.value
    result["message"] = {"text": clip(finding.message or finding.rule_id, MAX_MESSAGE, "messages")}
    location: dict[str, Any] = {
        "physicalLocation": {
            "artifactLocation": artifact_location(finding.file, root),
            "region": _region(finding.line, finding.column, finding.end_column),
        }
    }
    if finding.exemption_name is not None:
        name = clip(finding.exemption_name, MAX_MESSAGE, "exemptionNames")
        location["logicalLocations"] = [
            {"name": name, "kind": "resource", "fullyQualifiedName": f"{finding.file}#{name}"}
        ]
    result["locations"] = [location]
    if finding.fingerprint:
        result["partialFingerprints"] = {
            FINGERPRINT_KEY: finding.fingerprint,
            "primaryLocationLineHash": line_hash,
        }
    if finding.suppression is not None:
        result["suppressions"] = [
            {
                "kind": finding.suppression.kind,
                "status": "accepted",
                "justification": clip(finding.suppression.justification, MAX_MESSAGE, "justifications"),
            }
        ]
    properties: dict[str, str] = {}
    if finding.exemption_name is not None:
        properties["exemption"] = clip(finding.exemption_name, MAX_MESSAGE, "exemptionNames")
    if finding.property is not None:
        properties["property"] = finding.property
    if finding.full_message is not None:
        # The message shortened a long value it echoed; the whole text stays here.
        properties["fullMessage"] = finding.full_message
    if properties:
        result["properties"] = properties
    return result


def _load_error_key(error: LoadError) -> tuple[str, int, int, str]:
    return (error.file, error.line, error.column, error.message)


def build_log(report: Report) -> dict[str, Any]:
    """The SARIF log as a JSON-ready dict."""
    clip = _Clipper()
    root = _root_path(report.root)
    root_uri = _directory_uri(root)

    # Rules: the report's, then any a finding names that the report does not describe.
    descriptors: list[dict[str, Any]] = []
    severity: dict[str, float] = {}
    for rule in report.rules:
        if rule.id not in severity:
            severity[rule.id] = float(rule.security_severity)
            descriptors.append(_rule_descriptor(rule, clip, report.levels.get(rule.id)))
    for finding in report.findings:
        if finding.rule_id not in severity:
            severity[finding.rule_id] = 0.0
            descriptors.append(_unknown_rule_descriptor(finding, clip))

    truncated: dict[str, Any] = {}
    kept = _keep_results(report.findings, severity)
    kept_rules = _keep_rules(descriptors, [report.findings[i].rule_id for i in kept])
    if len(kept_rules) < len(descriptors):
        truncated["rules"] = {
            "limit": MAX_RULES,
            "total": len(descriptors),
            "omitted": len(descriptors) - len(kept_rules),
        }
    index = {descriptor["id"]: i for i, descriptor in enumerate(kept_rules)}
    # A result whose rule had to go cannot be shown by GitHub: it goes as well.
    kept = [i for i in kept if report.findings[i].rule_id in index]
    if len(kept) < len(report.findings):
        truncated["results"] = {
            "limit": MAX_RESULTS,
            "total": len(report.findings),
            "omitted": len(report.findings) - len(kept),
        }
    if clip.tagged:
        truncated["tags"] = {"limit": MAX_TAGS, "rules": sorted(clip.tagged)}

    results: list[dict[str, Any]] = []
    occurrences: dict[str, int] = {}
    for i in kept:
        finding = report.findings[i]
        # Like GitHub's own line hashes, "hash:n" tells identical fingerprints apart.
        occurrences[finding.fingerprint] = occurrences.get(finding.fingerprint, 0) + 1
        line_hash = f"{finding.fingerprint}:{occurrences[finding.fingerprint]}"
        results.append(_result(finding, index.get(finding.rule_id), root, line_hash, clip))

    execution = [
        _notification("error", clip(e.message, MAX_MESSAGE, "messages"), e.file, e.line, e.column, root)
        for e in sorted(report.errors, key=_load_error_key)
    ]
    configuration = [
        _notification(
            "note",
            clip(
                f"baseline entry {entry.get('ruleId')} for exemption '{entry.get('exemption')}' no longer "
                "occurs; rewrite the baseline with --write-baseline",
                MAX_MESSAGE,
                "messages",
            ),
            str(entry["file"]) if entry.get("file") else None,
            None,
            None,
            root,
        )
        for entry in sorted(
            report.stale_baseline,
            key=lambda e: (str(e.get("file")), str(e.get("ruleId")), str(e.get("fingerprint"))),
        )
    ]
    if clip.counts:
        truncated["clipped"] = dict(sorted(clip.counts.items()))
    if truncated:
        parts = []
        if "results" in truncated:
            parts.append(f"{truncated['results']['omitted']} of {len(report.findings)} results left out")
        if "rules" in truncated:
            parts.append(f"{truncated['rules']['omitted']} rules left out")
        if "tags" in truncated:
            parts.append(f"tags of {len(truncated['tags']['rules'])} rules cut to {MAX_TAGS}")
        if "clipped" in truncated:
            parts.append(f"{sum(clip.counts.values())} texts shortened")
        execution.append(
            _notification(
                "warning",
                "SARIF output cut to GitHub code scanning's limits: " + "; ".join(parts) + ".",
                None,
                None,
                None,
                root,
            )
        )

    invocation: dict[str, Any] = {"executionSuccessful": not report.errors}
    if execution:
        invocation["toolExecutionNotifications"] = execution
    if configuration:
        invocation["toolConfigurationNotifications"] = configuration
    invocation["workingDirectory"] = {"uri": root_uri}
    invocation["properties"] = {"today": report.today}

    driver: dict[str, Any] = {"name": TOOL_NAME}
    if _SEMVER.match(report.version):
        driver["semanticVersion"] = report.version
    driver["version"] = report.version
    driver["informationUri"] = INFORMATION_URI
    driver["rules"] = kept_rules

    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "invocations": [invocation],
        "originalUriBaseIds": {SRCROOT: {"uri": root_uri}},
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    if truncated:
        run["properties"] = {"truncated": truncated}
    return {"$schema": SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}


def render(report: Report, color: bool) -> str:
    return json.dumps(build_log(report), indent=2, ensure_ascii=False) + "\n"
