"""Loaders: find the files that can hold exemptions and turn them into the normalized model.

The format is detected from the content: a JSON file may be an ARM template, a REST spec
example, or raw exemption JSON, whatever its name says.
"""

from __future__ import annotations

import datetime
import errno
import functools
import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exemptlint import discover as _discover
from exemptlint.budget import BudgetTimer, TimeBudgetExceeded, time_budget
from exemptlint.loaders.jsontext import JsonPositions, JsonSyntaxError, parse_json_text
from exemptlint.model import LoadError, LoadResult
from exemptlint.suppressions import parse_directives

JSON_SUFFIXES = frozenset({".json", ".jsonc"})
BICEP_SUFFIXES = frozenset({".bicep", ".bicepparam"})
CSV_SUFFIXES = frozenset({".csv"})
TERRAFORM_SUFFIXES = frozenset({".tf"})
YAML_SUFFIXES = frozenset({".yaml", ".yml"})
# Every suffix a directory walk picks up (exemptlint.discover has the same set; a test checks it).
SOURCE_SUFFIXES = JSON_SUFFIXES | BICEP_SUFFIXES | CSV_SUFFIXES | TERRAFORM_SUFFIXES | YAML_SUFFIXES
SKIPPED_DIRECTORIES = _discover.SKIPPED_DIRECTORIES

# A file that mentions none of these cannot define an exemption or an assignment; skipping it
# before parsing keeps large repositories fast.
KEYWORDS = (
    "exemptionCategory",
    "policyExemption",
    "policyAssignments",
    "policyAssignmentId",
    "policyDefinitionId",
    "_policy_exemption",
    "_policy_assignment",
)


def mentions_any(text: str, keywords: Sequence[str]) -> bool:
    """Whether ``text`` mentions one of ``keywords``, in any case.

    Substring searches in the lower-cased text: a case-insensitive regular expression takes
    about 190 µs to find nothing in 4 KB, these about 11 µs. They are exact for ASCII text; other
    text goes to the regular expression (a non-ASCII letter such as U+212A KELVIN SIGN matches an
    ASCII one case-insensitively)."""
    if text.isascii():
        lowered = text.lower()
        return any(keyword in lowered for keyword in _lowered(tuple(keywords)))
    return _keyword_pattern(tuple(keywords)).search(text) is not None


@functools.lru_cache(maxsize=8)
def _lowered(keywords: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(keyword.lower() for keyword in keywords)


@functools.lru_cache(maxsize=8)
def _keyword_pattern(keywords: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(keyword) for keyword in keywords), re.IGNORECASE)


@dataclass(frozen=True)
class LoadOptions:
    today: datetime.date
    # Values from --parameters files, applied to every ARM template.
    parameters: dict[str, Any] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()
    # Seconds one file may take to load before it is reported as an error (0: no limit).
    time_budget: float = 20.0
    # An armed run-wide timer with the same budget (cheaper per file); else one timer per file.
    timer: BudgetTimer | None = None


def discover(paths: Sequence[str], exclude: Sequence[str] = ()) -> tuple[list[Path], list[LoadError]]:
    """The files to lint under ``paths`` as paths (see ``exemptlint.discover.discover``)."""
    found, errors = _discover.discover(paths, exclude)
    return [Path(file.path) for file in found], errors


display_path = _discover.display_path


# Larger inputs are not exemption files; reading them would only cost memory.
MAX_FILE_BYTES = 64 * 1024 * 1024
_TOO_LARGE = f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB"


# O_NONBLOCK: opening a FIFO named on the command line must not wait for a writer; O_BINARY: on
# Windows, the bytes as they are (no CRLF translation, no stop at Ctrl-Z).
_READ_FLAGS = (
    os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
)


def read_bytes(path: Path | str, display: str) -> tuple[bytes | None, LoadError | None]:
    """The file's bytes, or why they cannot be had: one open, one ``fstat`` and a read."""
    try:
        handle = os.open(path, _READ_FLAGS)
    except OSError as error:
        if error.errno == errno.ELOOP:
            return None, LoadError(display, 1, 1, _discover.LOOP_MESSAGE)
        return None, LoadError(display, 1, 1, f"cannot read file: {error.strerror or error}")
    try:
        status = os.fstat(handle)
        if not stat.S_ISREG(status.st_mode):
            # A FIFO or device named on the command line would block or never end.
            return None, LoadError(display, 1, 1, "not a regular file")
        if status.st_size > MAX_FILE_BYTES:
            return None, LoadError(display, 1, 1, _TOO_LARGE)
        data = os.read(handle, status.st_size + 1)
        if len(data) > status.st_size:
            # It grew since the fstat: read on to the end, within the limit.
            parts = [data]
            size = len(data)
            while size <= MAX_FILE_BYTES:
                part = os.read(handle, 1 << 20)
                if not part:
                    break
                parts.append(part)
                size += len(part)
            if size > MAX_FILE_BYTES:
                return None, LoadError(display, 1, 1, _TOO_LARGE)
            data = b"".join(parts)
        return data, None
    except OSError as error:
        return None, LoadError(display, 1, 1, f"cannot read file: {error.strerror or error}")
    finally:
        os.close(handle)


def decode(data: bytes, display: str) -> tuple[str | None, LoadError | None]:
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        return None, LoadError(display, line, column, "file is not valid UTF-8 text")


def read_text(path: Path, display: str) -> tuple[str | None, LoadError | None]:
    data, error = read_bytes(path, display)
    if data is None:
        return None, error
    return decode(data, display)


_KEYWORD_BYTES = tuple(keyword.lower().encode("ascii") for keyword in KEYWORDS)
# Every keyword contains one of these (a test checks it): a file with neither is dropped after two
# substring searches instead of seven.
_ANCHORS = (b"polic", b"exemptioncategory")


def certainly_irrelevant(data: bytes, suffix: str) -> bool:
    """True only when loading the file would certainly give nothing at all (no exemption, no
    assignment, no error): a JSON file in ASCII that mentions none of ``KEYWORDS`` in any case.
    Checked on the bytes, before decoding (``load_json_text`` checks the same on the text)."""
    if suffix not in JSON_SUFFIXES or not data.isascii():
        return False  # other formats have their own checks; non-ASCII text is checked decoded
    lowered = data.lower()
    if _ANCHORS[0] not in lowered and _ANCHORS[1] not in lowered:
        return True
    return not any(keyword in lowered for keyword in _KEYWORD_BYTES)


def load_file(
    path: Path, options: LoadOptions, display: str | None = None, data: bytes | None = None
) -> LoadResult:
    """What ``path`` holds; ``data``, when given, is its content, already read."""
    display = display if display is not None else display_path(path)
    if data is None:
        data, error = read_bytes(path, display)
        if data is None:
            return LoadResult(errors=[error] if error else [])
    if certainly_irrelevant(data, path.suffix.lower()):
        return LoadResult()
    text, error = decode(data, display)
    if error is not None or text is None:
        return LoadResult(errors=[error] if error else [])
    timer = options.timer
    try:
        if timer is not None and timer.armed:
            timer.start_file()
            try:
                return _load_text(text, path, display, options)
            finally:
                timer.end_file()
        with time_budget(options.time_budget):
            return _load_text(text, path, display, options)
    except TimeBudgetExceeded:
        if timer is not None:
            timer.end_file()  # again: the tick may have landed in the finally clause above
        message = f"gave up after {options.time_budget:g} seconds (the file is too large or too complex)"
        return LoadResult(errors=[LoadError(display, 1, 1, message)])
    except RecursionError:
        return LoadResult(errors=[LoadError(display, 1, 1, "nesting too deep to evaluate")])


def _load_text(text: str, path: Path, display: str, options: LoadOptions) -> LoadResult:
    suffix = path.suffix.lower()
    if suffix in BICEP_SUFFIXES:
        # Imported here: runs without Bicep files never load the Bicep parser.
        from exemptlint.loaders.bicep import load_bicep_text

        return load_bicep_text(text, display, options, path)
    if suffix in TERRAFORM_SUFFIXES:
        from exemptlint.loaders.terraform import load_terraform_text

        return load_terraform_text(text, display, options, path)
    if suffix == ".tfvars" or path.name.lower().endswith(".tfvars.json"):
        # Inputs of the .tf files beside them (read by the Terraform loader), not sources.
        return LoadResult()
    if suffix in YAML_SUFFIXES:
        from exemptlint.loaders.yaml_source import load_yaml_text

        return load_yaml_text(text, display)
    if suffix in CSV_SUFFIXES:
        # EPAC's CSV form; a CSV without EPAC's columns holds no exemption.
        from exemptlint.loaders.epac import load_epac_csv

        return load_epac_csv(text, display)
    if suffix not in JSON_SUFFIXES and text.lstrip("\ufeff \t\r\n")[:1] not in ("{", "["):
        # Named explicitly (a pre-commit hook passes every matching file) but neither JSON
        # by its name nor by its content: a format exemptlint does not read.
        return LoadResult()
    return load_json_text(text, display, options, path)


def load_json_text(text: str, display: str, options: LoadOptions, path: Path | None = None) -> LoadResult:
    if not mentions_any(text, KEYWORDS):
        return LoadResult()
    try:
        doc = parse_json_text(text)
    except JsonSyntaxError as error:
        return LoadResult(
            errors=[LoadError(display, error.line, error.column, f"invalid JSON: {error.message}")]
        )
    positions = JsonPositions(text)
    result = _load_document(doc, text, display, positions, options, path)
    directives = parse_directives(text)
    if directives:
        for exemption in result.exemptions:
            exemption.source.directives = directives
    return result


def _load_document(
    doc: Any, text: str, display: str, positions: JsonPositions, options: LoadOptions, path: Path | None
) -> LoadResult:
    # Imported here so that the layers stay one-way and start-up stays small.
    from exemptlint.loaders import raw

    if not _may_be_other_format(doc):
        # Raw exemption JSON (the common one-file case): the ARM, Terraform and EPAC loaders
        # and the expression evaluator are not imported.
        return raw.load_raw(doc, display, positions)
    from exemptlint.loaders import arm, terraform

    if terraform.is_terraform_plan(doc):
        return terraform.load_terraform_plan(doc, display, positions)
    if arm.is_arm_template(doc):
        supplied = dict(_sidecar_parameters(path)) if path is not None else {}
        supplied.update(options.parameters)
        return arm.load_arm(doc, display, positions, options.today, supplied)
    if arm.is_parameters_file(doc):
        return LoadResult()
    from exemptlint.loaders import epac

    if epac.is_epac_json(doc):
        return epac.load_epac_json(doc, display, positions)
    if raw.is_rest_example(doc):
        return raw.load_rest_example(doc, display, positions)
    return raw.load_raw(doc, display, positions)


# Top-level keys without which no detector in _load_document accepts a document: Terraform plans
# need "format_version", ARM templates "resources" or "$schema", parameter files "$schema", EPAC
# files "exemptions", REST examples "parameters" and "responses".
_OTHER_FORMAT_KEYS = ("format_version", "resources", "$schema", "exemptions", "parameters", "responses")


def _may_be_other_format(doc: Any) -> bool:
    """False only when ``doc`` is certainly raw exemption JSON (a list, or an object without any
    key another format needs)."""
    return isinstance(doc, dict) and any(key in doc for key in _OTHER_FORMAT_KEYS)


def _sidecar_parameters(template: Path) -> dict[str, Any]:
    """Values from ``NAME.parameters.json`` beside ``NAME.json``, as ARM tooling names them."""
    from exemptlint.loaders.arm import parameter_values

    for suffix in (".parameters.json", ".parameters.jsonc"):
        candidate = template.with_name(template.name[: -len(template.suffix)] + suffix)
        if candidate.is_file():
            try:
                return parameter_values(parse_json_text(candidate.read_text(encoding="utf-8")))
            except (OSError, UnicodeDecodeError, JsonSyntaxError):
                return {}
    return {}


def load_parameters_file(
    path: Path, today: datetime.date | None = None
) -> tuple[dict[str, Any], LoadError | None]:
    """Values of a --parameters file: an ARM parameters file (JSON or JSONC), the same document
    in YAML, or a ``.bicepparam`` file (``today`` is the date its expressions see). Errors name
    the file and line."""
    from exemptlint.loaders.arm import parameter_values

    display = display_path(path)
    text, error = read_text(path, display)
    if error is not None or text is None:
        return {}, error
    suffix = path.suffix.lower()
    if suffix == ".bicepparam":
        from exemptlint.dates import utc_today
        from exemptlint.loaders.bicep import bicepparam_values

        return bicepparam_values(text, display, today or utc_today(), path)
    if suffix in YAML_SUFFIXES:
        from exemptlint.loaders.yaml_source import parse_yaml

        documents, problem = parse_yaml(text, display)
        values: dict[str, Any] = {}
        for _, plain in documents:
            values.update(parameter_values(plain))
        return values, problem
    try:
        return parameter_values(parse_json_text(text)), None
    except JsonSyntaxError as syntax:
        return {}, LoadError(display, syntax.line, syntax.column, f"invalid JSON: {syntax.message}")
