"""JUnit XML for the test tabs of Azure DevOps (PublishTestResults) and GitLab (artifacts:reports:junit).

One ``<testsuite>`` per file that holds an exemption or could not be parsed, one ``<testcase>``
per exemption; each finding at level error or warning that counts is a ``<failure>`` of its
exemption's test case. Notes and suppressed findings are listed in the test case's
``<system-out>``; a file that could not be read or parsed is a suite with one ``parse`` test case
holding an ``<error>``. No timestamps or durations, so the same input always gives the same bytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from exemptlint.model import Exemption, Finding, Level, LoadError
from exemptlint.report import Report

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

# Characters XML 1.0 cannot hold, even escaped (control characters a file may contain).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _line(finding: Finding) -> str:
    return (
        f"{finding.file}:{finding.line}:{finding.column}: {finding.rule_id} "
        f"[{finding.level.value}] {finding.message}"
    )


class _Case:
    """A test case being collected: an exemption, or a file's findings outside any exemption."""

    def __init__(self, name: str, exemption: Exemption | None = None) -> None:
        self.name = name
        self.exemption = exemption
        self.findings: list[Finding] = []


class _Suite:
    def __init__(self, file: str) -> None:
        self.file = file
        self.cases: list[_Case] = []
        self.errors: list[LoadError] = []
        self.out: list[str] = []
        self._loose: _Case | None = None

    def add_case(self, name: str, exemption: Exemption | None = None) -> _Case:
        taken = {case.name for case in self.cases}
        unique, n = name, 2
        while unique in taken:
            unique, n = f"{name} #{n}", n + 1
        case = _Case(unique, exemption)
        self.cases.append(case)
        return case

    def loose(self) -> _Case:
        """The test case for findings that belong to no exemption in this file."""
        if self._loose is None:
            self._loose = self.add_case(self.file)
        return self._loose


def _collect(report: Report) -> list[_Suite]:
    suites: dict[str, _Suite] = {}

    def suite(file: str) -> _Suite:
        if file not in suites:
            suites[file] = _Suite(file)
        return suites[file]

    for file in report.files:
        suite(file)
    for error in report.errors:
        suite(error.file).errors.append(error)
    by_name: dict[tuple[str, str], list[_Case]] = {}
    for exemption in report.exemptions:
        file = exemption.source.file
        line = exemption.source.locator.exemption().line
        case = suite(file).add_case(f"{exemption.label} ({file}:{line})", exemption)
        by_name.setdefault((file, exemption.label), []).append(case)
    for finding in report.findings:
        candidates = by_name.get((finding.file, finding.exemption_name or ""), [])
        if finding.exemption_name is None or not candidates:
            suite(finding.file).loose().findings.append(finding)
        else:
            _pick(candidates, finding).findings.append(finding)
    for entry in report.stale_baseline:
        suite(str(entry.get("file"))).out.append(
            f"stale baseline entry: {entry.get('ruleId')} for exemption '{entry.get('exemption')}' "
            "no longer occurs; rewrite the baseline with --write-baseline"
        )
    return list(suites.values())


def _pick(candidates: Sequence[_Case], finding: Finding) -> _Case:
    """Several exemptions of one file can share a name (a copy loop whose names are unknown):
    the engine ends their findings' messages with the exemption's ``[context]``."""
    if len(candidates) > 1:
        for case in candidates:
            context = case.exemption.source.context if case.exemption is not None else None
            if context and finding.message.endswith(f" [{context}]"):
                return case
    return candidates[0]


def _sub(parent: Element, tag: str, attributes: dict[str, str], text: str | None = None) -> Element:
    from xml.etree.ElementTree import SubElement

    element = SubElement(parent, tag, {key: _clean(value) for key, value in attributes.items()})
    if text is not None:
        element.text = _clean(text)
    return element


def _system_out(parent: Element, lines: Iterable[str]) -> None:
    text = "\n".join(lines)
    if text:
        _sub(parent, "system-out", {}, text)


def render(report: Report, color: bool) -> str:
    import xml.etree.ElementTree as ET

    root = ET.Element("testsuites", {"name": "exemptlint"})
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for collected in _collect(report):
        if not (collected.errors or collected.cases or collected.out):
            continue  # a JSON file that holds no exemption (package.json) tests nothing
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        suite = _sub(root, "testsuite", {"name": collected.file})
        if collected.errors:
            case = _sub(suite, "testcase", {"classname": collected.file, "name": "parse"})
            counts["tests"] += 1
            for error in collected.errors:
                _sub(case, "error", {"type": "parse", "message": error.message}, str(error))
                counts["errors"] += 1
        for item in collected.cases:
            case = _sub(suite, "testcase", {"classname": collected.file, "name": item.name})
            counts["tests"] += 1
            out: list[str] = []
            for finding in item.findings:
                if finding.suppression is not None:
                    out.append(f"suppressed: {_line(finding)} ({finding.suppression.justification})")
                elif finding.level == Level.NOTE:
                    out.append(_line(finding))
                else:
                    _sub(
                        case,
                        "failure",
                        {"type": finding.rule_id, "message": f"{finding.rule_id} {finding.message}"},
                        _line(finding),
                    )
                    counts["failures"] += 1
            _system_out(case, out)
        _system_out(suite, collected.out)
        for key, value in counts.items():
            suite.set(key, str(value))
            if key in totals:
                totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
