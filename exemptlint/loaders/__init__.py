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
from typing import TYPE_CHECKING, Any

from exemptlint import discover as _discover
from exemptlint.budget import BudgetTimer, TimeBudgetExceeded, time_budget
from exemptlint.loaders import nesting
from exemptlint.loaders.jsontext import (
    JsonLocator,
    JsonNestingError,
    JsonPositions,
    JsonSyntaxError,
    parse_json_text,
)
from exemptlint.loaders.nesting import MAX_NESTING, NESTING_MESSAGE
from exemptlint.model import Exemption, LoadError, LoadResult
from exemptlint.suppressions import parse_directives

if TYPE_CHECKING:
    from exemptlint.loaders.epac_definitions import ContextCache

JSON_SUFFIXES = frozenset({".json", ".jsonc"})
BICEP_SUFFIXES = frozenset({".bicep", ".bicepparam"})
CSV_SUFFIXES = frozenset({".csv"})
TERRAFORM_SUFFIXES = frozenset({".tf"})
# Terraform variable files: picked up so that one no configuration applies is reported.
TFVARS_SUFFIXES = frozenset({".tfvars"})
YAML_SUFFIXES = frozenset({".yaml", ".yml"})
# Every suffix a directory walk picks up (exemptlint.discover has the same set; a test checks it).
SOURCE_SUFFIXES = (
    JSON_SUFFIXES | BICEP_SUFFIXES | CSV_SUFFIXES | TERRAFORM_SUFFIXES | TFVARS_SUFFIXES | YAML_SUFFIXES
)
SKIPPED_DIRECTORIES = _discover.SKIPPED_DIRECTORIES

# A file that mentions none of these cannot define an exemption, an assignment or a policy set
# definition; skipping it before parsing keeps large repositories fast.
KEYWORDS = (
    "exemptionCategory",
    "policyExemption",
    "policyAssignments",
    "policyAssignmentId",
    "policyDefinitionId",
    "policyDefinitionReferenceId",
    "_policy_exemption",
    "_policy_assignment",
    # EPAC assignment files (definitionEntry, definitionEntryList).
    "definitionEntry",
    "_policy_set_definition",
    # Management groups and subscriptions placed in them (EL014 needs where they sit): the type as
    # a JSON value, not in an id ("/managementGroups/NAME"), and Terraform's in a plan.
    'managementGroups"',
    'managementGroups/subscriptions"',
    "azurerm_management_group",
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
    # --parameters .tfvars files, in order: (absolute path, variables), applied to every
    # Terraform configuration linted as a root module.
    tfvars: tuple[tuple[str, dict[str, Any]], ...] = ()
    exclude: tuple[str, ...] = ()
    # Seconds one file may take to load before it is reported as an error (0: no limit).
    time_budget: float = 20.0
    # An armed run-wide timer with the same budget (cheaper per file); else one timer per file.
    timer: BudgetTimer | None = None
    # What EPAC assignment files need from their definitions folder, read once per run.
    epac_contexts: ContextCache | None = field(default=None, compare=False)


def discover(paths: Sequence[str], exclude: Sequence[str] = ()) -> tuple[list[Path], list[LoadError]]:
    """The files to lint under ``paths`` as paths (see ``exemptlint.discover.discover``)."""
    found, errors = _discover.discover(paths, exclude)
    return [Path(file.path) for file in found], errors


display_path = _discover.display_path


# Larger inputs are not exemption files; reading them would only cost memory.
MAX_FILE_BYTES = 64 * 1024 * 1024
_TOO_LARGE = f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB"


# Byte-order marks and the encodings they declare (UTF-32 first: its little-endian mark starts
# with UTF-16's). Windows PowerShell 5.1's Out-File writes UTF-16 LE with a mark by default.
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le", "UTF-32"),
    (b"\x00\x00\xfe\xff", "utf-32-be", "UTF-32"),
    (b"\xef\xbb\xbf", "utf-8", "UTF-8"),
    (b"\xff\xfe", "utf-16-le", "UTF-16"),
    (b"\xfe\xff", "utf-16-be", "UTF-16"),
)


_MARK_STARTS = frozenset(mark[:1] for mark, _, _ in _BOMS)


class SourceDecodeError(ValueError):
    """Bytes that are not text: where (1-based line and column of the text before them) and why."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


def decode_text(data: bytes) -> str:
    """The text of a source file: UTF-8, or UTF-8, UTF-16 or UTF-32 declared by a byte-order
    mark. The mark is not part of the text, so no loader counts it as a column. Any other
    encoding is an error; UTF-16 written without a mark gets a message that says so."""
    body, codec, name = data, "utf-8", "UTF-8"
    if data[:1] in _MARK_STARTS:
        for mark, mark_codec, mark_name in _BOMS:
            if data.startswith(mark):
                body, codec, name = data[len(mark) :], mark_codec, mark_name
                break
    try:
        text = body.decode(codec)
    except UnicodeDecodeError as error:
        # The valid text before the bad bytes says where they are, in characters.
        before = body[: error.start].decode(codec, "replace")
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1) + 1
        if codec == "utf-8":
            undeclared = _undeclared_utf16(data) if body is data else None
            if undeclared is not None:
                raise SourceDecodeError(undeclared, 1, 1) from None  # the whole file, not one byte
            message = "file is not valid UTF-8 text"
        else:
            message = f"file is not valid {name} text (its byte-order mark says it is {name})"
        raise SourceDecodeError(message, line, column) from None
    if body is data and "\x00" in text:
        # ASCII written as UTF-16 without a mark decodes as UTF-8 with a NUL after (or before)
        # every character, and no keyword would match: say what the file is instead.
        problem = _undeclared_utf16(data)
        if problem is not None:
            raise SourceDecodeError(problem, 1, 1)
    return text


def _undeclared_utf16(data: bytes) -> str | None:
    """A message for UTF-16 text without a byte-order mark that mentions an exemption keyword."""
    sample = data[:4096]
    for codec, order, zeros in (("utf-16-le", "little", sample[1::2]), ("utf-16-be", "big", sample[0::2])):
        if len(zeros) < 2 or zeros.count(0) < len(zeros) * 3 // 4:
            continue
        even = len(data) - len(data) % 2
        text = data[:even].decode(codec, "replace")
        if mentions_any(text, KEYWORDS):
            return (
                f"file looks like UTF-16 ({order}-endian) text without a byte-order mark; "
                "save it as UTF-8, or as UTF-16 with a byte-order mark"
            )
    return None


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
        return decode_text(data), None
    except SourceDecodeError as error:
        return None, LoadError(display, error.line, error.column, error.message)


def read_text(path: Path, display: str) -> tuple[str | None, LoadError | None]:
    data, error = read_bytes(path, display)
    if data is None:
        return None, error
    return decode(data, display)


_KEYWORD_BYTES = tuple(keyword.lower().encode("ascii") for keyword in KEYWORDS)
# Every keyword contains one of these (a test checks it): a file with none is dropped after four
# substring searches instead of thirteen.
_ANCHORS = (b"polic", b"exemptioncategory", b"definitionentry", b"management")


def certainly_irrelevant(data: bytes, suffix: str, name: str = "") -> bool:
    """True only when loading the file would certainly give nothing at all (no exemption, no
    assignment, no error): a JSON file in ASCII that mentions none of ``KEYWORDS`` in any case.
    Checked on the bytes, before decoding (``load_json_text`` checks the same on the text)."""
    if suffix not in JSON_SUFFIXES or not data.isascii() or b"\x00" in data:
        # Other formats have their own checks; non-ASCII text is checked decoded, and NUL bytes
        # may be UTF-16 without a byte-order mark (decoding says so).
        return False
    if name.lower().endswith(".tfvars.json"):
        return False  # Terraform variables in JSON: the run says when no configuration applies them
    lowered = data.lower()
    # Spelled out, not any(...): this runs for every JSON file of a large repository.
    if (
        _ANCHORS[0] not in lowered
        and _ANCHORS[1] not in lowered
        and _ANCHORS[2] not in lowered
        and _ANCHORS[3] not in lowered
    ):
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
    if certainly_irrelevant(data, path.suffix.lower(), path.name):
        return LoadResult()
    text, error = decode(data, display)
    if error is not None or text is None:
        return LoadResult(errors=[error] if error else [])
    timer = options.timer
    try:
        if timer is not None and timer.armed:
            timer.start_file()
            try:
                return _bounded(_load_text(text, path, display, options), text)
            finally:
                timer.end_file()
        with time_budget(options.time_budget):
            return _bounded(_load_text(text, path, display, options), text)
    except TimeBudgetExceeded:
        if timer is not None:
            timer.end_file()  # again: the tick may have landed in the finally clause above
        message = f"gave up after {options.time_budget:g} seconds (the file is too large or too complex)"
        return LoadResult(errors=[LoadError(display, 1, 1, message)])
    except RecursionError:
        # A last resort (every loader has depth limits): JSON text says where it nests too deep.
        offset = nesting.json_too_deep(text) if text.lstrip()[:1] in ("{", "[") else None
        if offset is not None:
            line, column = nesting.line_column(text, offset)
            return LoadResult(errors=[LoadError(display, line, column, NESTING_MESSAGE)])
        return LoadResult(errors=[LoadError(display, 1, 1, "nesting too deep to evaluate")])


# Formats whose values are evaluated (variables, parameters, json(), metadata strings of a plan):
# a value can nest deeper than the text it came from.
_EVALUATED = frozenset({"arm", "bicep", "terraform", "terraform-plan"})


def _bounded(result: LoadResult, text: str) -> LoadResult:
    """The nesting limit on what is read: an exemption with a value nested too deep is an error
    and is not linted, so that no rule recurses past the limit. A value written in a JSON or YAML
    document counts from the document's root, at the first container past the limit; a value
    computed from other text counts from the exemption's properties object (level 1), at the
    property. YAML, Bicep and HCL documents are checked whole when parsed; a JSON document only
    here, where it is read (walking all of it would cost as much as parsing it)."""
    if not result.exemptions:
        return result
    # Values taken from a small text cannot nest deeper than its brackets (counting them in a
    # large text costs more than looking at its exemptions' values).
    from_text_may_be_deep = len(text) > 4096 or text.count("{") + text.count("[") > MAX_NESTING
    kept: list[Exemption] = []
    for exemption in result.exemptions:
        error = None
        if from_text_may_be_deep or exemption.source.format in _EVALUATED:
            error = _too_deep_value(exemption)
        if error is None:
            kept.append(exemption)
        elif error not in result.errors:
            result.errors.append(error)
    if len(kept) != len(result.exemptions):
        result.exemptions = kept
    return result


def _too_deep_value(exemption: Exemption) -> LoadError | None:
    locator = exemption.source.locator
    file = exemption.source.file
    # How much deeper than the properties object a value in the document may go.
    in_text = MAX_NESTING - locator.properties_level if isinstance(locator, JsonLocator) else None
    for name, value in (("name", exemption.name), ("scope", exemption.scope), *exemption.properties.items()):
        if not isinstance(value, (dict, list)):
            continue
        deep = nesting.depth(value, MAX_NESTING)
        if isinstance(locator, JsonLocator) and in_text is not None and deep > in_text:
            inside = nesting.first_too_deep(value, in_text)
            found = locator.container(name, inside) if inside is not None else None
            if found is not None:
                return LoadError(file, found.line, found.column, NESTING_MESSAGE)
        if deep > MAX_NESTING - 1:
            where = locator.property(name) or locator.exemption()
            return LoadError(file, where.line, where.column, f"{name}: {NESTING_MESSAGE}")
    return None


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
        # Inputs of .tf files (read by the Terraform loader), not sources: noted when not applied.
        from exemptlint.loaders.terraform import tfvars_note

        return tfvars_note(path, display, options)
    if path.name.lower().endswith(".tf.json"):
        # Terraform's JSON syntax is not read: said, not skipped.
        from exemptlint.loaders.terraform import tf_json_note

        return tf_json_note(text, display)
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
    # A byte order mark is not a column (read_text removes it; direct callers may not).
    text = text.removeprefix("\ufeff")
    try:
        doc = parse_json_text(text)
    except JsonSyntaxError as error:
        return LoadResult(errors=[LoadError(display, error.line, error.column, _json_problem(error))])
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
    from exemptlint.loaders import arm, terraform_plan

    if terraform_plan.is_terraform_plan(doc):
        return terraform_plan.load_terraform_plan(doc, display, positions)
    if arm.is_arm_template(doc):
        sidecar = _sidecar_parameters(path) if path is not None else None
        supplied = dict(sidecar or {})
        supplied.update(options.parameters)
        # A parameters file made for the template deploys it: its defaults are then deployed values.
        return arm.load_arm(doc, display, positions, options.today, supplied, standalone=sidecar is None)
    if arm.is_parameters_file(doc):
        return LoadResult()
    from exemptlint.epac_layout import may_be_assignment_document
    from exemptlint.loaders import epac

    if may_be_assignment_document(doc):
        from exemptlint.loaders import epac_definitions

        if epac_definitions.is_epac_assignment(doc):
            contexts = options.epac_contexts
            return epac_definitions.load_assignment_document(doc, display, positions, path, contexts)
    if epac.is_epac_json(doc):
        return epac.load_epac_json(doc, display, positions)
    if raw.is_rest_example(doc):
        return raw.load_rest_example(doc, display, positions)
    return raw.load_raw(doc, display, positions)


# Top-level keys without which no detector in _load_document accepts a document: Terraform plans
# need "format_version", ARM templates "resources" or "$schema", parameter files "$schema", EPAC
# files "exemptions", REST examples "parameters" and "responses" (EPAC assignment files: see below).
_OTHER_FORMAT_KEYS = (
    "format_version",
    "resources",
    "$schema",
    "exemptions",
    "parameters",
    "responses",
)


def _may_be_other_format(doc: Any) -> bool:
    """False only when ``doc`` is certainly raw exemption JSON (a list, or an object without any
    key another format needs). EPAC assignment files are detected by keys in any case
    (``NodeName``), so their own quick test decides for them."""
    if not isinstance(doc, dict):
        return False
    if any(key in doc for key in _OTHER_FORMAT_KEYS):
        return True
    from exemptlint.epac_layout import may_be_assignment_document

    return may_be_assignment_document(doc)


def _sidecar_parameters(template: Path) -> dict[str, Any] | None:
    """Values from ``NAME.parameters.json`` beside ``NAME.json``, as ARM tooling names them;
    None when there is no such file."""
    from exemptlint.loaders.arm import parameter_values

    for suffix in (".parameters.json", ".parameters.jsonc"):
        candidate = template.with_name(template.name[: -len(template.suffix)] + suffix)
        if candidate.is_file():
            text, _ = read_text(candidate, str(candidate))
            try:
                return parameter_values(parse_json_text(text)) if text is not None else {}
            except JsonSyntaxError:
                return {}
    return None


def is_tfvars_file(name: str) -> bool:
    """Whether a --parameters file is Terraform's (its values go to LoadOptions.tfvars)."""
    return name.lower().endswith((".tfvars", ".tfvars.json"))


def load_parameters_file(
    path: Path, today: datetime.date | None = None
) -> tuple[dict[str, Any], LoadError | None]:
    """Values of a --parameters file: an ARM parameters file (JSON or JSONC), the same document
    in YAML, or a ``.bicepparam`` file (``today`` is the date its expressions see). Errors name
    the file and line."""
    from exemptlint.loaders.arm import parameter_values

    display = display_path(path)
    if is_tfvars_file(path.name):
        from exemptlint.loaders.terraform import load_tfvars_file

        return load_tfvars_file(path, display)
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

        documents, _, problem = parse_yaml(text, display)
        values: dict[str, Any] = {}
        for _, plain in documents:
            values.update(parameter_values(plain))
        return values, problem
    try:
        return parameter_values(parse_json_text(text)), None
    except JsonSyntaxError as syntax:
        return {}, LoadError(display, syntax.line, syntax.column, _json_problem(syntax))


def _json_problem(error: JsonSyntaxError) -> str:
    # Too deep is valid JSON that exemptlint does not read: its message says so on its own.
    return error.message if isinstance(error, JsonNestingError) else f"invalid JSON: {error.message}"
