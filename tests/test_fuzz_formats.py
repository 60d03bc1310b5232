"""Fuzzing the EPAC (JSON/JSONC and CSV), YAML and Terraform (HCL and plan JSON) loaders, and JSONC.

Every input, random (hypothesis) or a mutated fixture, must load without an exception in less than
``MAX_SECONDS``; every error must render as one line ``file:line:col: error: message`` with a line
inside the file; ``exemptlint check FILE`` must exit 0, 1 or 2, and 2 exactly when the file has an
error. Well-formed inputs must also give the right result, checked against an independent reading:
Python's ``csv`` module for CSV, the same document written as JSON for JSONC and YAML, a walk of the
document for plan JSON, and the unchanged fixture for a BOM or CRLF copy of it.

Seeded (``derandomize=True``, ``random.Random(name)``): a failure reproduces. For a longer campaign
during development, ``EXEMPTLINT_FUZZ_SCALE=15`` runs fifteen times as many inputs (8 minutes).
"""

from __future__ import annotations

import bisect
import codecs
import csv
import datetime
import io
import json
import os
import random
import re
import shutil
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exemptlint.cli import main
from exemptlint.engine import LintSettings, lint, one_line
from exemptlint.loaders import LoadOptions, load_file
from exemptlint.loaders.epac import is_epac_json, parse_csv
from exemptlint.loaders.terraform import ARGUMENTS, ASSIGNMENT_TYPES, EXEMPTION_TYPES
from exemptlint.model import Finding, LoadResult, Unresolved
from exemptlint.rules import BUILTIN_RULES
from tests import strategies

TODAY = datetime.date(2026, 11, 24)
OPTIONS = LoadOptions(today=TODAY)
ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
EXAMPLES = ROOT / "examples"
# No input may take longer than this to load (or to run through the CLI).
MAX_SECONDS = 2.0
SCALE = max(1, int(os.environ.get("EXEMPTLINT_FUZZ_SCALE", "1")))

FUZZ_SETTINGS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        # Each example overwrites the same files in the test's directory.
        HealthCheck.function_scoped_fixture,
    ],
)


def fuzz(count: int) -> settings:
    """Seeded settings for ``count`` examples (times EXEMPTLINT_FUZZ_SCALE)."""
    return settings(FUZZ_SETTINGS, max_examples=count * SCALE)


# --- the oracle ------------------------------------------------------------------------------

ERROR_LINE = re.compile(r"(?P<file>[^\n]+?):(?P<line>[0-9]+):(?P<column>[0-9]+): error: (?P<message>\S.*)")


def line_count(data: bytes) -> int:
    """Lines as an editor counts them (CRLF, LF and a lone CR end a line); the last may be empty."""
    return len(re.findall(rb"\r\n|\r|\n", data)) + 1


def run_cli(directory: Path, name: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    previous = Path.cwd()
    os.chdir(directory)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            code = main(["check", name, "--today", TODAY.isoformat(), "--format", "concise"])
    finally:
        os.chdir(previous)
    return code, out.getvalue() + err.getvalue()


def check_input(directory: Path, name: str, data: bytes | str, *, cli: bool = True) -> LoadResult:
    """Write ``data`` to ``directory/name``, load, lint and check it with the CLI; assert the oracle."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    (directory / name).write_bytes(raw)
    return check_file(directory, name, line_count(raw), cli=cli)


def check_file(directory: Path, name: str, lines: int, *, cli: bool = True) -> LoadResult:
    started = time.perf_counter()
    result = load_file(directory / name, OPTIONS, name)
    elapsed = time.perf_counter() - started
    assert elapsed < MAX_SECONDS, f"{name} took {elapsed:.2f} s to load"
    for error in result.errors:
        rendered = str(error)
        assert len(rendered.splitlines()) == 1, f"error is not one line: {rendered!r}"
        match = ERROR_LINE.fullmatch(rendered)
        assert match is not None, rendered
        limit = lines
        if match["file"] != name:
            # A .tf file reports a broken terraform.tfvars beside it at the tfvars file.
            assert name.endswith(".tf") and match["file"].endswith((".tfvars", ".tfvars.json")), rendered
            limit = line_count((directory / match["file"]).read_bytes())
        assert 1 <= error.line <= limit and error.column >= 1, f"{rendered!r} (the file has {limit} lines)"
    for exemption in result.exemptions:
        shape = exemption.to_json()
        json.dumps(shape)  # the JSON report can write it
        places = [shape["source"], *shape["source"]["properties"].values()]
        for place in places:
            assert 1 <= place["line"] <= lines and place["column"] >= 1, (name, shape)
    findings = lint(result.exemptions, result.assignments, LintSettings(today=TODAY), BUILTIN_RULES)
    for finding in findings:
        assert 1 <= finding.line <= lines and finding.column >= 1, (name, finding)
    if cli:
        started = time.perf_counter()
        code, output = run_cli(directory, name)
        elapsed = time.perf_counter() - started
        assert elapsed < MAX_SECONDS, f"exemptlint check {name} took {elapsed:.2f} s"
        assert code in (0, 1, 2), output
        assert (code == 2) == bool(result.errors), output
        printed = output.splitlines()
        for error in result.errors:
            # Control characters reach the terminal escaped, as the CLI prints them.
            assert one_line(str(error)) in printed, output
        assert "Traceback" not in output
    return result


def summary(result: LoadResult) -> list[str]:
    """What a load found, without positions or format (which differ between renderings)."""
    shapes = []
    for exemption in result.exemptions:
        shape = exemption.to_json()
        shape["source"] = {"context": shape["source"]["context"]}
        shapes.append(json.dumps(shape, sort_keys=True, default=str))
    for assignment in result.assignments:
        shapes.append(repr((assignment.id, assignment.name, assignment.policy_definition_id)))
    return shapes


def located(findings: list[Finding]) -> list[tuple[str, int, int]]:
    return [(f.rule_id, f.line, f.column) for f in findings]


def lint_result(result: LoadResult) -> list[Finding]:
    return lint(result.exemptions, result.assignments, LintSettings(today=TODAY), BUILTIN_RULES)


@pytest.fixture(scope="module", autouse=True)
def warm_parsers(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Build the HCL and YAML parsers once, so that their start-up is not timed as an input."""
    directory = tmp_path_factory.mktemp("warm")
    check_input(directory, "w.tf", 'resource "azurerm_subscription_policy_exemption" "w" {}\n', cli=False)
    check_input(directory, "w.yaml", "exemptionCategory: Waiver\n", cli=False)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path


# --- shared value strategies -------------------------------------------------------------------

json_scalars = strategies.json_scalars(max_text=20)
json_values = strategies.json_values(max_text=20, max_items=3, max_leaves=10)
ASSIGNMENT = (
    "/providers/Microsoft.Management/managementGroups/contoso/providers/Microsoft.Authorization"
    "/policyAssignments/pr-mcsb"
)
AZURE_STRINGS = [
    "",
    " ",
    "Waiver",
    "Mitigated",
    "waiver",
    "Exception",
    "2027-01-01T00:00:00Z",
    "2025-06-01",
    "12/31/2026 11:59:00 PM",
    "not a date",
    "/subscriptions/00000000-0000-0000-0000-000000000001",
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg",
    "subscriptions/00000000-0000-0000-0000-000000000001/",
    "/providers/Microsoft.Management/managementGroups/corp",
    "/providers/Microsoft.Management/managementGroups/{{MANAGEMENT_GROUP_ID}}",
    "/",
    "//",
    ASSIGNMENT,
    "1f3afdf9-d0c9-4c3d-847f-89da613e70a8",
    "Deploy-MDFC-Config",
    "policySetDefinitions/ALZ/x/Name.json",
    "C:\\repo\\definitions\\Name.jsonc",
    "{{placeholder}}",
    "${var.x}",
    "<subscription-id>",
    "__token__",
    "#{token}#",
    "[concat('a', 'b')]",
    "Default",
    "DoNotValidate",
    "A description long enough to satisfy the rules, ticket SEC-1.",
]
azure_strings = st.sampled_from(AZURE_STRINGS) | st.text(max_size=30)


# --- EPAC JSON and JSONC -----------------------------------------------------------------------

EPAC_SCHEMA = (
    "https://raw.githubusercontent.com/Azure/enterprise-azure-policy-as-code/main/Schemas/"
    "policy-exemption-schema.json"
)
EPAC_FIELDS = [
    "name",
    "scope",
    "scopes",
    "displayName",
    "description",
    "exemptionCategory",
    "expiresOn",
    "metadata",
    "policyDefinitionReferenceIds",
    "assignmentScopeValidation",
    "resourceSelectors",
    "policyAssignmentId",
    "policySetDefinitionId",
    "policySetDefinitionName",
    "policyDefinitionId",
    "policyDefinitionName",
    "assignmentName",
    "policyAssignmentName",
    "status",
    "expiresInDays",
    "nodeName",
    "pacSelector",
    "$comment",
    "expiresOnn",
    "",
]
epac_keys = st.sampled_from(EPAC_FIELDS).flatmap(lambda f: st.sampled_from([f, f, f.upper(), f.lower()])) | st.text(
    max_size=8
)
epac_values = st.one_of(
    azure_strings,
    json_values,
    st.lists(azure_strings, max_size=3),
    st.dictionaries(
        st.sampled_from(["tenant", "epac-dev", ""]), azure_strings | st.lists(azure_strings, max_size=2), max_size=3
    ),
)
epac_entries = st.dictionaries(epac_keys, epac_values, max_size=10) | json_values
epac_docs = st.fixed_dictionaries(
    {"exemptions": st.lists(epac_entries, max_size=4) | json_values},
    optional={"$schema": st.sampled_from([EPAC_SCHEMA, "x", 5]), "scope": epac_values},
)

# White space and comments between JSON tokens; a line comment always ends its line.
JSONC_GAPS = [
    "",
    " ",
    "\n",
    "\r\n",
    "\t",
    '// a comment with "quotes", commas, ] and } /* not a block\n',
    '/* a, ] } " // */',
    "/* two\n lines */",
    "//\n",
    "/**/",
]


def to_jsonc(value: Any, rng: random.Random) -> str:
    """``value`` as JSONC: comments and white space between tokens, trailing commas, raw or
    escaped non-ASCII, a BOM now and then."""

    def gap() -> str:
        return "".join(rng.choice(JSONC_GAPS) for _ in range(rng.randint(0, 2)))

    def trailing(items: list[str]) -> str:
        return "," + gap() if items and rng.random() < 0.5 else ""

    def emit(item: Any) -> str:
        if isinstance(item, dict):
            members = [
                gap() + json.dumps(k, ensure_ascii=rng.random() < 0.5) + gap() + ":" + gap() + emit(v) + gap()
                for k, v in item.items()
            ]
            return "{" + ",".join(members) + trailing(members) + gap() + "}"
        if isinstance(item, list):
            elements = [gap() + emit(v) + gap() for v in item]
            return "[" + ",".join(elements) + trailing(elements) + gap() + "]"
        return json.dumps(item, ensure_ascii=rng.random() < 0.5)

    return ("\ufeff" if rng.random() < 0.1 else "") + gap() + emit(value) + gap()


# Words that make a file worth parsing (the loaders skip files that mention none of them).
MARKERS = re.compile("exemptionCategory|policyAssignmentId|policyDefinitionId", re.IGNORECASE)
_STRING_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"')


def text_at(text: str, line: int, column: int) -> str:
    # Columns are those an editor shows: a byte order mark is not one.
    lines = text.removeprefix("\ufeff").split("\n")
    return lines[line - 1][column - 1 :] if line <= len(lines) else ""


def assert_json_positions(text: str, result: LoadResult) -> None:
    """Each exemption points at its object's "{", each property at its key's opening quote."""
    for exemption in result.exemptions:
        start = exemption.source.locator.exemption()
        assert text_at(text, start.line, start.column).startswith("{"), (start, text)
        for name, place in exemption.to_json()["source"]["properties"].items():
            token = _STRING_TOKEN.match(text_at(text, place["line"], place["column"]))
            assert token is not None, (name, place, text)
            key = json.loads(token.group(0))
            if name in ("name", "scope"):
                # Taken from the exemption's resource id when not written on their own.
                assert key.lower() in (name, "scopes", "id", "resourceid"), (name, key)
            elif name == "policyAssignmentId" and key.lower() != name.lower():
                # EPAC's synthetic id points at the field it came from.
                assert key.lower() in {
                    f.lower() for f in EPAC_FIELDS if "Definition" in f or f.endswith("ssignmentName")
                }, (name, key)
            else:
                assert key.lower() == name.lower(), (name, key)


@fuzz(120)
@given(doc=epac_docs, rng=st.randoms(use_true_random=False))
def test_random_epac_json_and_jsonc(workdir: Path, doc: dict[str, Any], rng: random.Random) -> None:
    plain = json.dumps(doc)
    as_json = check_input(workdir, "exemptions.json", plain)
    jsonc = to_jsonc(doc, rng)
    as_jsonc = check_input(workdir, "exemptions.jsonc", jsonc)
    # Comments, trailing commas, CRLF and a BOM change nothing but positions.
    assert as_json.errors == [] and as_jsonc.errors == []
    assert summary(as_jsonc) == summary(as_json)
    assert_json_positions(plain, as_json)
    assert_json_positions(jsonc, as_jsonc)
    if is_epac_json(doc) and MARKERS.search(plain):
        # One entry per object in "exemptions", told apart by position (see loaders/epac.py).
        entries = [e for e in doc["exemptions"] if isinstance(e, dict)]
        positions = {e.source.locator.exemption() for e in as_jsonc.exemptions}
        assert len(positions) == len(entries)
        assert {e.source.format for e in as_jsonc.exemptions} <= {"epac-json"}


# --- EPAC CSV --------------------------------------------------------------------------------

CSV_HEADERS = [*EPAC_FIELDS, "Name", " exemptionCategory ", "EXPIRESON", "unknown", "name"]
csv_cells = st.one_of(
    azure_strings,
    st.sampled_from(
        [
            '"',
            '""',
            'a""b',
            "a,b",
            "a;b",
            "line\nbreak",
            "crlf\r\nbreak",
            "cr\rbreak",
            '{"owner": "team"}',
            "{not json",
            '["refA", "refB"]',
            "refA, refB;refC",
            "[",
            "  ",
            '"quoted" tail',
            "9" * 5000,
            '{"n": ' + "9" * 5000 + "}",
        ]
    ),
    json_values.map(json.dumps),
)


@st.composite
def csv_files(draw: st.DrawFn) -> dict[str, Any]:
    header = draw(st.lists(st.sampled_from(CSV_HEADERS), min_size=1, max_size=12))
    rows = draw(st.lists(st.lists(csv_cells, max_size=len(header) + 2), max_size=5))
    return {
        "header": header,
        "rows": rows,
        "delimiter": draw(st.sampled_from([",", ";"])),
        "ending": draw(st.sampled_from(["\n", "\r\n", "\r", "mixed"])),
        # quoted: every cell quoted; minimal: as Python's csv writes; raw: no quoting (may be broken)
        "style": draw(st.sampled_from(["quoted", "minimal", "raw"])),
        "bom": draw(st.booleans()),
        "final_ending": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**16)),
    }


def render_csv(spec: dict[str, Any]) -> tuple[str, list[list[tuple[int, int]]]]:
    """The CSV text and, for each row, where each cell starts (line, column)."""
    rng = random.Random(spec["seed"])
    delimiter = spec["delimiter"]
    out = "\ufeff" if spec["bom"] else ""
    offsets: list[list[int]] = []

    def cell(text: str) -> str:
        needs = any(c in text for c in (delimiter, '"', "\r", "\n"))
        if spec["style"] == "quoted" or (spec["style"] == "minimal" and needs):
            return '"' + text.replace('"', '""') + '"'
        return text

    all_rows = [spec["header"], *spec["rows"]]
    for index, row in enumerate(all_rows):
        row_offsets = []
        for position, text in enumerate(row):
            if position:
                out += delimiter
            row_offsets.append(len(out))
            out += cell(text)
        offsets.append(row_offsets)
        if index < len(all_rows) - 1 or spec["final_ending"]:
            ending = spec["ending"]
            out += rng.choice(["\n", "\r\n", "\r"]) if ending == "mixed" else ending
    # Line breaks as a reader sees them in the whole text (a "\r" then a "\n" is one CRLF).
    breaks = [m.end() for m in re.finditer(r"\r\n|\r|\n", out)]

    def place(offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(breaks, offset)
        line_start = breaks[line - 1] if line else (1 if spec["bom"] else 0)  # an editor shows no BOM
        return line + 1, offset - line_start + 1

    return out, [[place(o) for o in row] for row in offsets]


def detected_delimiter(header_line: str) -> str:
    return ";" if "," not in header_line and ";" in header_line else ","


def blank(row: list[str]) -> bool:
    return len(row) <= 1 and (not row or row[0].strip() == "")


@fuzz(200)
@given(spec=csv_files())
def test_random_epac_csv(workdir: Path, spec: dict[str, Any]) -> None:
    text, starts = render_csv(spec)
    result = check_input(workdir, "exemptions.csv", text)
    if spec["style"] == "raw":
        return  # no independent reading of a CSV that may be broken: not crashing is the test
    assert result.errors == []
    header_line = re.split(r"\r\n|\r|\n", text.removeprefix("\ufeff"), maxsplit=1)[0]
    delimiter = detected_delimiter(header_line)
    if delimiter != spec["delimiter"]:
        return  # a one-column header gives no hint of ";": that file is read as another CSV
    # The cells are those Python's csv module reads, and each starts where it was written.
    expected = [r for r in csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), delimiter=delimiter)]
    expected = [r for r in expected if not blank(r)]
    cells = parse_csv(text, delimiter)
    assert [[c.text for c in row] for row in cells] == expected
    written = [s for s, row in zip(starts, [spec["header"], *spec["rows"]], strict=True) if not blank(row)]
    assert [[(c.line, c.column) for c in row] for row in cells] == written
    # One entry per data row when the header is EPAC's; each property is its cell's text.
    columns = [h.strip().lower() for h in spec["header"]]
    if not {"exemptioncategory", "policyassignmentid"} & set(columns):
        assert result.exemptions == []
        return
    data_rows = expected[1:]
    rows_by_line = {e.source.locator.exemption().line: e for e in result.exemptions}
    assert len(rows_by_line) == len(data_rows)
    for row, cells_row in zip(data_rows, cells[1:], strict=True):
        exemption = rows_by_line[cells_row[0].line]
        for field in ("displayName", "description"):
            if field.lower() in columns:
                index = columns.index(field.lower())
                value = row[index] if index < len(row) else ""
                assert exemption.properties.get(field) == (value if value.strip() else None)


# --- YAML ------------------------------------------------------------------------------------

PROPERTY_NAMES = list(strategies.PROPERTY_NAMES)
property_values = azure_strings | json_values | st.lists(azure_strings, max_size=3)
exemption_properties = st.dictionaries(st.sampled_from(PROPERTY_NAMES), property_values, max_size=8)
resource_shapes = st.fixed_dictionaries(
    {"properties": exemption_properties},
    optional={
        "name": azure_strings,
        "type": st.sampled_from(["Microsoft.Authorization/policyExemptions", "Microsoft.Authorization/policyAssignments", "x"]),
        "id": st.sampled_from(
            [
                "/subscriptions/0/providers/Microsoft.Authorization/policyExemptions/e",
                "/subscriptions/{subId}/providers/Microsoft.Authorization/policyExemptions/e",
                "x",
            ]
        ),
    },
)
flat_shapes = exemption_properties.flatmap(
    lambda props: st.fixed_dictionaries({}, optional={"name": azure_strings, "scope": azure_strings}).map(
        lambda envelope: {**envelope, **props}
    )
)
one_exemption = resource_shapes | flat_shapes
exemption_documents = st.one_of(
    one_exemption,
    st.lists(one_exemption | json_values, max_size=3),
    st.lists(one_exemption, max_size=3).map(lambda items: {"value": items}),
)


def shared(doc: Any, rng: random.Random) -> Any:
    """The document with some lists and mappings reused, to be written once with an anchor and
    then as aliases."""
    pool: list[Any] = []

    def walk(value: Any) -> Any:
        if isinstance(value, (dict, list)):
            if pool and rng.random() < 0.2:
                return rng.choice(pool)
            value = {k: walk(v) for k, v in value.items()} if isinstance(value, dict) else [walk(v) for v in value]
            pool.append(value)
        return value

    return walk(doc)


_PLAIN_SAFE = re.compile(r"[A-Za-z_/][A-Za-z0-9 _./-]*[A-Za-z0-9_./-]|[A-Za-z_/]")
_NOT_PLAIN = {"true", "false", "null", "yes", "no", "on", "off", "y", "n"}


def yaml_string(text: str, rng: random.Random, *, plain: bool = True) -> str:
    """Plain, single-quoted or double-quoted, as a person might write it."""
    if plain and _PLAIN_SAFE.fullmatch(text) and text.lower() not in _NOT_PLAIN and rng.random() < 0.7:
        return text
    if rng.random() < 0.3 and all(c.isprintable() and c not in "\u2028\u2029\ufeff" for c in text):
        return "'" + text.replace("'", "''") + "'"
    out = []
    for c in text:
        code = ord(c)
        if c in '"\\':
            out.append("\\" + c)
        elif code < 0x20 or 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xDFFF or c in "\u2028\u2029\ufeff\ufffe\uffff":
            out.append(f"\\u{code:04x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def to_yaml(doc: Any, rng: random.Random, flow: bool) -> str:
    """``doc`` as YAML, in block or flow style, with an anchor on the first use of a reused list or
    mapping and aliases after it."""
    anchors: dict[int, str] = {}
    reused = set()
    seen: set[int] = set()

    def count(value: Any) -> None:
        if isinstance(value, (dict, list)):
            if id(value) in seen:
                reused.add(id(value))
                return
            seen.add(id(value))
            for item in value.values() if isinstance(value, dict) else value:
                count(item)

    count(doc)

    def scalar(value: Any) -> str:
        return yaml_string(value, rng) if isinstance(value, str) else json.dumps(value)

    def prefix(value: Any) -> tuple[str, bool]:
        """("&aN " or "*aN", whether the value is an alias)."""
        if id(value) not in reused:
            return "", False
        if id(value) in anchors:
            return "*" + anchors[id(value)], True
        anchors[id(value)] = f"a{len(anchors)}"
        return "&" + anchors[id(value)] + " ", False

    def flow_text(value: Any) -> str:
        if isinstance(value, (dict, list)):
            mark, alias = prefix(value)
            if alias:
                return mark
            if isinstance(value, dict):
                items = ", ".join(f"{yaml_string(k, rng, plain=False)}: {flow_text(v)}" for k, v in value.items())
                return mark + "{" + items + "}"
            return mark + "[" + ", ".join(flow_text(v) for v in value) + "]"
        if isinstance(value, str):
            return yaml_string(value, rng, plain=_PLAIN_SAFE.fullmatch(value) is not None)
        return scalar(value)

    def block(value: Any, indent: int) -> list[str]:
        pad = " " * indent
        lines: list[str] = []
        pairs = value.items() if isinstance(value, dict) else [(None, v) for v in value]
        for key, item in pairs:
            head = pad + (f"{yaml_string(key, rng)}:" if key is not None else "-")
            if isinstance(item, (dict, list)) and item:
                mark, alias = prefix(item)
                if alias:
                    lines.append(f"{head} {mark}")
                else:
                    lines.append(f"{head} {mark}".rstrip())
                    lines.extend(block(item, indent + 2))
            else:
                lines.append(f"{head} {flow_text(item)}")
        return lines

    if flow or not isinstance(doc, (dict, list)) or not doc:
        return flow_text(doc) + "\n"
    return "\n".join(block(doc, 0)) + "\n"


@fuzz(120)
@given(doc=exemption_documents, flow=st.booleans(), rng=st.randoms(use_true_random=False))
def test_random_yaml_and_jsonc_read_as_the_same_json(
    workdir: Path, doc: Any, flow: bool, rng: random.Random
) -> None:
    """A document in the raw shapes written as YAML (plain, quoted, anchors and aliases) or as
    JSONC gives what it gives as JSON."""
    doc = shared(doc, rng)
    plain = json.dumps(doc)
    as_json = check_input(workdir, "exemptions.json", plain)
    jsonc = to_jsonc(doc, rng)
    as_jsonc = check_input(workdir, "exemptions.jsonc", jsonc)
    as_yaml = check_input(workdir, "exemptions.yaml", to_yaml(doc, rng, flow))
    assert as_yaml.errors == [] and as_json.errors == [] and as_jsonc.errors == []
    assert summary(as_yaml) == summary(as_json)
    assert summary(as_jsonc) == summary(as_json)
    assert_json_positions(plain, as_json)
    assert_json_positions(jsonc, as_jsonc)


# Fragments of YAML syntax in exemption shapes: keys, values with tags, anchors, aliases, block
# scalars, flow collections, directives and document markers.
YAML_KEYS = [*PROPERTY_NAMES, "name", "id", "type", "properties", "value", "scope", "<<", "? a", "- name", "-", "'q'"]
YAML_VALUES = [
    "Waiver",
    "2027-01-01T00:00:00Z",
    "2027-01-01",
    "/subscriptions/{subId}/providers/Microsoft.Authorization/policyAssignments/x",
    '"double \\" quoted \\x41 \\u00e9"',
    "'single '' quoted'",
    "&a Waiver",
    "*a",
    "*missing",
    "&b {a: 1, b: [1, 2]}",
    "*b",
    "!!python/object:os.system x",
    "!!python/object/apply:os.system ['ls']",
    "!custom Waiver",
    "!!int abc",
    "!!int 0x",
    "!!float x",
    "!!bool maybe",
    "!!null x",
    "!!binary '!!!'",
    "!!timestamp junk",
    "!!omap 5",
    "!!set [1]",
    "!!str [1, 2]",
    "!!map [1]",
    "!<tag:yaml.org,2002:int> q",
    "|",
    "|-",
    ">+2",
    "[gcLinuxDiskEncryptionMonitoring, x]",
    "[unclosed",
    "{a: 1",
    "{ ? a : b }",
    "- item",
    "null",
    "~",
    "0o17",
    "1e400",
    ".nan",
    "yes",
    "# a comment",
    "\tTab",
    "",
    "*a, *b",
    "{<<: *b}",
    "9" * 5000,
    "!!int " + "1" * 5000,
]
YAML_LINES = ["---", "...", "%YAML 1.1", "%TAG ! tag:example.com,2000:", "--- |", "- - - x", "? [a, b]", ": c"]


@st.composite
def yaml_soups(draw: st.DrawFn) -> str:
    """An exemption shape with random YAML fragments as keys and values; now and then a stray
    line, a line out of indentation, other line ends or a BOM."""
    entries = draw(
        st.lists(
            st.tuples(
                st.sampled_from(PROPERTY_NAMES) | st.sampled_from(YAML_KEYS),
                st.sampled_from(YAML_VALUES) | st.text(max_size=12),
            ),
            min_size=1,
            max_size=10,
        )
    )
    shape = draw(st.sampled_from(["resource", "flat", "list", "value"]))
    body = [f"{key}: {value}".rstrip() for key, value in entries]
    if shape == "resource":
        lines = ["name: fuzz", "properties:", *("  " + line for line in body)]
    elif shape == "flat":
        lines = body
    else:
        items = ["- " + body[0], *("  " + line for line in body[1:])]
        lines = items if shape == "list" else ["value:", *items]
    if draw(st.integers(0, 3)) == 0:
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(YAML_LINES)))
    if draw(st.integers(0, 7)) == 0:
        index = draw(st.integers(0, len(lines) - 1))
        lines[index] = " " * draw(st.integers(1, 3)) + lines[index]
    ending = draw(st.sampled_from(["\n", "\n", "\r\n", "\r"]))
    bom = "\ufeff" if draw(st.integers(0, 9)) == 0 else ""
    return bom + ending.join(lines) + draw(st.sampled_from(["", ending]))


@fuzz(250)
@given(text=yaml_soups())
def test_random_yaml_syntax(workdir: Path, text: str) -> None:
    check_input(workdir, "exemptions.yaml", text)


@fuzz(25)
@given(
    depth=st.integers(1, 2500),
    shape=st.sampled_from(["flow-list", "flow-map", "block-map", "block-list", "mixed"]),
    closed=st.booleans(),
)
def test_deep_yaml_nesting(workdir: Path, depth: int, shape: str, closed: bool) -> None:
    head = "properties:\n  exemptionCategory: Waiver\n  metadata: "
    if shape == "flow-list":
        body = "[" * depth + ("]" * depth if closed else "")
    elif shape == "flow-map":
        body = "{a: " * depth + ("}" * depth if closed else "")
    elif shape == "mixed":
        body = "[{a: " * (depth // 2) + ("}]" * (depth // 2) if closed else "")
    elif shape == "block-map":
        body = "\n" + "".join(" " * (4 + i) + "a:\n" for i in range(min(depth, 800))) + " " * 900 + "x"
    else:
        body = "\n" + "".join(" " * (4 + i) + "-\n" for i in range(min(depth, 800)))
    check_input(workdir, "deep.yaml", head + body + "\n")


# --- Terraform HCL ---------------------------------------------------------------------------

TF_RESOURCE_TYPES = [*EXEMPTION_TYPES, *ASSIGNMENT_TYPES, "azurerm_resource_group", "azurerm_policy_exemption"]
HCL_ATOMS = [
    '"literal"',
    '""',
    '"Waiver"',
    '"2027-01-01T00:00:00Z"',
    '"/subscriptions/00000000-0000-0000-0000-000000000001"',
    '"${var.x}"',
    '"${local.y}/rg"',
    '"${each.key}"',
    '"${each.value.id}"',
    '"n-${count.index}"',
    '"${azurerm_subscription_policy_assignment.a.id}"',
    "azurerm_subscription_policy_assignment.a.id",
    "azurerm_subscription_policy_assignment.a[0].id",
    "azurerm_subscription_policy_assignment.a.name",
    "data.azurerm_policy_assignment.x.id",
    "var.x",
    'var.m["k"]',
    "var.l[0]",
    "var.l[count.index]",
    "var.l[each.key]",
    "var.missing",
    "local.y",
    "local.loop",
    "each.key",
    "each.value",
    "count.index",
    "module.m.id",
    "path.module",
    "self.id",
    'jsonencode({ a = "b", c = [1, 2] })',
    "jsonencode(var.x)",
    "jsonencode(local.y)",
    "merge(var.m, {})",
    'toset(["a"])',
    "length(var.l)",
    "true",
    "false",
    "null",
    "0",
    "-1",
    "1.5",
    "1e9",
    "[for x in var.l : x]",
    "{ for k, v in var.m : k => v }",
    "var.l[*].id",
    'var.x == "a" ? "b" : "c"',
    '"%{ if var.x != "" }yes%{ endif }"',
    '"$${literal}"',
    '"\\"escaped\\" \\\\ \\n \\u00e9"',
    '"é ☃ \U0001f600"',
]
# Only as a whole argument value: python-hcl2 reads no heredoc inside brackets.
HCL_HEREDOCS = ["<<EOT\nheredoc ${var.x}\nEOT", "<<-EOT\n  indented ${local.y}\n  EOT"]
# Syntax errors: in one file in four, so that most files parse and reach the evaluator.
HCL_BROKEN = [
    '"unterminated',
    "${",
    "}",
    "{",
    "[",
    '"${"',
    '"${var.x"',
    '"%{"',
    '"${ {"',
]
COUNTS = [
    "0",
    "-1",
    "1.5",
    '"3"',
    "true",
    "null",
    "[]",
    "{}",
    "3",
    "1000000000",
    "99999999999999999999999",
    "9" * 5000,
    "var.n",
    "length(var.l)",
    "var.l",
    "local.loop",
]
FOR_EACHES = [
    "{}",
    "[]",
    '{ a = 1, "b" = 2 }',
    '["a", "a", "b"]',
    '["a", 1]',
    "[1, 2]",
    "var.l",
    "var.m",
    "toset(var.l)",
    '"a"',
    "5",
    "null",
    "{ a = { id = 1 } }",
    "local.loop",
]
identifiers = st.sampled_from(["a", "b", "k", "id", "name", "x_1", "each", "count"])


def hcl_string(text: str) -> str:
    """``text`` as an HCL string literal (no template in it)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return '"' + escaped.replace("${", "$${").replace("%{", "%%{") + '"'


hcl_scalars = st.one_of(
    st.sampled_from(HCL_ATOMS),
    st.text(st.characters(exclude_categories=["Cs", "Cc", "Co", "Cn"]), max_size=15).map(hcl_string),
    st.integers().map(str),
)
hcl_values = st.recursive(
    hcl_scalars,
    lambda inner: st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]")
    | st.dictionaries(identifiers, inner, max_size=3).map(
        lambda d: "{\n" + "".join(f"    {k} = {v}\n" for k, v in d.items()) + "  }"
    ),
    max_leaves=6,
)
hcl_arguments = st.sampled_from(
    ["name", *EXEMPTION_TYPES.values(), *ARGUMENTS, "policy_definition_id", "location", "name"]
)


@st.composite
def terraform_files(draw: st.DrawFn) -> tuple[str, str]:
    """A .tf file and a terraform.tfvars for the same directory."""
    number = draw(st.sampled_from(["2", "-3", "1000000000", "null", '"x"']))
    blocks = [
        f"variable \"x\" {{\n  default = {draw(hcl_values)}\n}}\n",
        f'variable "l" {{\n  default = [{", ".join(draw(st.lists(hcl_values, max_size=3)))}]\n}}\n',
        f'variable "m" {{\n  default = {{ k = {draw(hcl_values)} }}\n}}\n',
        f'variable "n" {{\n  default = {number}\n}}\n',
        f"locals {{\n  y = {draw(hcl_values)}\n  loop = local.loop\n}}\n",
    ]
    for _ in range(draw(st.integers(1, 3))):
        rtype = draw(st.sampled_from([*EXEMPTION_TYPES, *TF_RESOURCE_TYPES]))
        name = draw(st.sampled_from(["a", "b", "x", "a"]))
        lines = [f'resource "{rtype}" "{name}" {{']
        if draw(st.integers(0, 2)) == 0:
            lines.append(f"  count = {draw(st.sampled_from(COUNTS))}")
        elif draw(st.integers(0, 1)) == 0:
            lines.append(f"  for_each = {draw(st.sampled_from(FOR_EACHES))}")
        values = hcl_values | st.sampled_from(HCL_HEREDOCS)
        for argument, value in draw(st.lists(st.tuples(hcl_arguments, values), max_size=8)):
            lines.append(f"  {argument} = {value}")
        lines.append("}")
        blocks.append("\n".join(lines) + "\n")
    breakage = draw(st.integers(0, 7))
    if breakage == 0:
        blocks.append(f"locals {{\n  broken = {draw(st.sampled_from(HCL_BROKEN))}\n}}\n")
    elif breakage == 1:
        blocks.append(draw(st.sampled_from(["}\n", "resource {\n", 'resource "x" {\n', "= 1\n", "# end\n", "/* open\n"])))
    order = draw(st.permutations(blocks))
    tfvars = "".join(f"{k} = {v}\n" for k, v in draw(st.dictionaries(st.sampled_from(["x", "l", "m", "n"]), hcl_values, max_size=3)).items())
    return "".join(order), tfvars


@fuzz(120)
@given(files=terraform_files(), crlf=st.booleans())
def test_random_terraform_hcl(workdir: Path, files: tuple[str, str], crlf: bool) -> None:
    main_tf, tfvars = files
    if crlf:
        main_tf = main_tf.replace("\n", "\r\n")
    (workdir / "terraform.tfvars").write_text(tfvars, encoding="utf-8")
    result = check_input(workdir, "main.tf", main_tf)
    # However large the count or for_each, a block gives at most MAX_INSTANCES exemptions.
    assert len(result.exemptions) <= 3 * 1000


# --- Terraform plan JSON -------------------------------------------------------------------------

PLAN_ADDRESSES = ["azurerm_subscription_policy_exemption.a", 'module.m.azurerm_resource_policy_exemption.b["k"]', "x[0]"]
plan_argument_names = st.sampled_from(
    [*ARGUMENTS, *EXEMPTION_TYPES.values(), "id", "name", "policy_definition_id", "other"]
)
plan_resources = st.fixed_dictionaries(
    {
        "type": st.sampled_from(TF_RESOURCE_TYPES) | json_scalars,
        "values": st.dictionaries(plan_argument_names, azure_strings | json_values, max_size=8) | json_values,
    },
    optional={
        "address": st.sampled_from(PLAN_ADDRESSES) | json_scalars,
        "mode": st.sampled_from(["managed", "managed", "data", 5]),
    },
)
plan_modules = st.recursive(
    st.fixed_dictionaries({"resources": st.lists(plan_resources, max_size=3)}),
    lambda inner: st.fixed_dictionaries(
        {"resources": st.lists(plan_resources, max_size=2), "child_modules": st.lists(inner, max_size=2) | json_values}
    ),
    max_leaves=4,
)
plan_changes = st.lists(
    st.fixed_dictionaries(
        {
            "address": st.sampled_from(PLAN_ADDRESSES) | json_scalars,
            "change": st.fixed_dictionaries(
                {"after_unknown": st.dictionaries(plan_argument_names, st.booleans() | json_values, max_size=4)}
            )
            | json_values,
        }
    ),
    max_size=3,
)
plans = st.fixed_dictionaries(
    {
        "format_version": st.just("1.2"),
        "planned_values": st.fixed_dictionaries({"root_module": plan_modules}) | json_values,
    },
    optional={"resource_changes": plan_changes | json_values},
)


def planned_exemptions(plan: dict[str, Any]) -> int:
    """How many exemption resources a plan holds, walked independently of the loader."""
    planned = plan.get("planned_values")
    root = planned.get("root_module") if isinstance(planned, dict) else None
    count = 0
    stack = [root] if isinstance(root, dict) else []
    while stack:
        module = stack.pop()
        resources = module.get("resources")
        for resource in resources if isinstance(resources, list) else []:
            if (
                isinstance(resource, dict)
                and resource.get("mode", "managed") == "managed"
                and resource.get("type") in EXEMPTION_TYPES
                and isinstance(resource.get("values"), dict)
            ):
                count += 1
        children = module.get("child_modules")
        stack.extend(c for c in (children if isinstance(children, list) else []) if isinstance(c, dict))
    return count


@fuzz(150)
@given(plan=plans, indent=st.sampled_from([None, 2]))
def test_random_terraform_plans(workdir: Path, plan: dict[str, Any], indent: int | None) -> None:
    text = json.dumps(plan, indent=indent)
    result = check_input(workdir, "plan.json", text)
    assert result.errors == []
    # (A plan with an exemption names its type, so the loader does not skip the file.)
    assert len(result.exemptions) == planned_exemptions(plan)
    assert {e.source.format for e in result.exemptions} <= {"terraform-plan"}


# --- duplicate keys --------------------------------------------------------------------------
#
# An exemption written as ordered (key, value) pairs, where keys may repeat exactly or in another
# case, rendered as JSON, JSONC, YAML, EPAC JSON, Bicep and Terraform while recording where each
# key is written. The oracle: EL008 reports exactly the keys that repeat an earlier key of their
# object (Terraform: exactly, its names are case-sensitive), at the repeat, naming both places.

DUPLICABLE = [
    "policyAssignmentId",
    "exemptionCategory",
    "expiresOn",
    "displayName",
    "description",
    "metadata",
    "policyDefinitionReferenceIds",
    "unknownProperty",
]
# Plain values every one of the six syntaxes writes the same way.
SAFE_VALUES = ["Waiver", "Mitigated", "2027-01-31T00:00:00Z", "TODO", ASSIGNMENT, "a reason long enough, SEC-1", ""]


@st.composite
def repeated_pairs(draw: st.DrawFn, names: list[str], *, case: bool = True) -> list[tuple[str, str]]:
    """Pairs whose keys come from ``names``, some repeated, some in another case."""
    keys = draw(st.lists(st.sampled_from(names), min_size=1, max_size=7))
    if case:
        keys = [draw(st.sampled_from([k, k, k.upper(), k[:1].upper() + k[1:]])) for k in keys]
    return [(key, draw(st.sampled_from(SAFE_VALUES))) for key in keys]


def expected_repeats(
    pairs: list[tuple[str, str]], places: list[tuple[int, int]], *, case: bool = True
) -> set[tuple[int, int, str]]:
    """(line, column, "at ...") of each key that repeats an earlier key of ``pairs``."""
    first: dict[str, tuple[int, int]] = {}
    found = set()
    for (key, _), place in zip(pairs, places, strict=True):
        folded = key.lower() if case else key
        if folded in first:
            before = first[folded]
            at = (
                f"at line {before[0]} and line {place[0]}"
                if before[0] != place[0]
                else f"at line {place[0]}, columns {before[1]} and {place[1]}"
            )
            found.add((*place, at))
        else:
            first[folded] = place
    return found


class Writer:
    """Text written piece by piece, with the (line, column) where each piece starts."""

    def __init__(self) -> None:
        self.text = ""

    def place(self) -> tuple[int, int]:
        return self.text.count("\n") + 1, len(self.text) - (self.text.rfind("\n") + 1) + 1

    def write(self, piece: str) -> tuple[int, int]:
        where = self.place()
        self.text += piece
        return where


def reported_repeats(result: LoadResult) -> set[tuple[int, int, str]]:
    found = set()
    for finding in lint_result(result):
        if finding.rule_id == "EL008" and finding.message.startswith("duplicate "):
            at = re.search(r"at line \d+(?: and line \d+|, columns \d+ and \d+)", finding.message)
            assert at is not None, finding.message
            found.add((finding.line, finding.column, at.group(0)))
    return found


def render_pairs(pairs: list[tuple[str, str]], style: str, rng: random.Random) -> tuple[str, list[tuple[int, int]]]:
    """The exemption in ``style`` with ``pairs`` as its properties (EPAC: as its entry)."""
    out = Writer()
    places = []
    gap = (lambda: rng.choice(["", " ", "\n    ", " /* } ] */ ", " // ]\n    "])) if style == "jsonc" else (lambda: "")
    if style in ("json", "jsonc"):
        out.write('{"name": "dup", "type": "Microsoft.Authorization/policyExemptions",\n  "properties": {\n    ')
        for index, (key, value) in enumerate(pairs):
            if index:
                out.write("," + gap() + "\n    ")
            places.append(out.write(json.dumps(key)))
            out.write(gap() + ": " + json.dumps(value))
        out.write(("," if style == "jsonc" and rng.random() < 0.5 else "") + "\n  }\n}\n")
    elif style == "epac":
        out.write('{"$schema": "' + EPAC_SCHEMA + '",\n "exemptions": [\n  {"scope": "/subscriptions/x",\n   ')
        for index, (key, value) in enumerate(pairs):
            if index:
                out.write(",\n   ")
            places.append(out.write(json.dumps(key)))
            out.write(": " + json.dumps(value))
        out.write("\n  }\n ]\n}\n")
    elif style == "yaml":
        out.write("name: dup\ntype: Microsoft.Authorization/policyExemptions\nproperties:\n")
        for key, value in pairs:
            out.write("  ")
            places.append(out.write(key))
            out.write(": " + json.dumps(value) + "\n")
    elif style == "bicep":
        out.write("resource dup 'Microsoft.Authorization/policyExemptions@2022-07-01-preview' = {\n  name: 'dup'\n")
        out.write("  properties: {\n")
        for key, value in pairs:
            out.write("    ")
            places.append(out.write(key))
            out.write(": '" + value + "'\n")
        out.write("  }\n}\n")
    else:  # terraform: pairs are arguments
        out.write('resource "azurerm_subscription_policy_exemption" "dup" {\n  subscription_id = "/subscriptions/x"\n')
        for key, value in pairs:
            out.write("  ")
            places.append(out.write(key))
            out.write(" = " + json.dumps(value) + "\n")
        out.write("}\n")
    return out.text, places


@fuzz(150)
@given(
    pairs=repeated_pairs(DUPLICABLE),
    style=st.sampled_from(["json", "jsonc", "epac", "yaml", "bicep"]),
    rng=st.randoms(use_true_random=False),
)
def test_random_duplicate_keys(workdir: Path, pairs: list[tuple[str, str]], style: str, rng: random.Random) -> None:
    pairs = [("exemptionCategory", "Waiver"), *pairs]  # an exemption by its properties, in any shape
    text, places = render_pairs(pairs, style, rng)
    name = {"json": "dup.json", "jsonc": "dup.jsonc", "epac": "dup.jsonc", "yaml": "dup.yaml", "bicep": "dup.bicep"}
    result = check_input(workdir, name[style], text, cli=False)
    assert result.errors == [] and result.exemptions, text
    assert reported_repeats(result) == expected_repeats(pairs, places), text


@fuzz(60)
@given(pairs=repeated_pairs(list(ARGUMENTS), case=False), rng=st.randoms(use_true_random=False))
def test_random_duplicate_terraform_arguments(workdir: Path, pairs: list[tuple[str, str]], rng: random.Random) -> None:
    pairs = [("exemption_category", "Waiver"), *pairs]
    text, places = render_pairs(pairs, "terraform", rng)
    result = check_input(workdir, "main.tf", text, cli=False)
    assert result.errors == [] and result.exemptions, text
    assert reported_repeats(result) == expected_repeats(pairs, places, case=False), text


@fuzz(60)
@given(spec=csv_files())
def test_random_csv_headers_with_repeated_columns(workdir: Path, spec: dict[str, Any]) -> None:
    """A known column named twice (in any case, with spaces) is reported once, with the first row."""
    spec = {**spec, "style": "minimal"}
    text, starts = render_csv(spec)
    result = check_input(workdir, "exemptions.csv", text, cli=False)
    assert result.errors == []
    columns = [h.strip().lower() for h in spec["header"]]
    known = {f.lower() for f in EPAC_FIELDS if f and f not in ("status", "expiresInDays", "nodeName", "pacSelector")}
    known -= {"$comment", "expiresonn"}
    if not result.exemptions or detected_delimiter(text.removeprefix("\ufeff").splitlines()[0]) != spec["delimiter"]:
        return
    header = [(c, place) for c, place in zip(columns, starts[0], strict=True) if c in known]
    expected = expected_repeats([(c, "") for c, _ in header], [place for _, place in header])
    assert reported_repeats(result) == expected


# --- mutated fixtures ------------------------------------------------------------------------


def mutation_seeds() -> list[Path]:
    patterns = [
        (FIXTURES / "epac", "*"),
        (EXAMPLES / "epac", "*"),
        (FIXTURES / "yaml", "*"),
        (EXAMPLES / "yaml", "*"),
        (FIXTURES / "terraform", "*/*"),
        (EXAMPLES / "terraform", "*"),
        (FIXTURES, "**/*.jsonc"),
    ]
    seen: set[bytes] = set()
    seeds = []
    for directory, pattern in patterns:
        for path in sorted(directory.glob(pattern)):
            if path.is_file() and path.read_bytes() not in seen:
                seen.add(path.read_bytes())
                seeds.append(path)
    return seeds


SEEDS = mutation_seeds()
MUTANTS_PER_SEED = 40
CLI_EVERY = 4
INSERTS = [
    b"{",
    b"}",
    b"[",
    b"]",
    b"(",
    b")",
    b'"',
    b"'",
    b'""',
    b"\x00",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"\xfe\xff",
    b"\xff\xfe\x00\x00",
    b"\x00\x00\xfe\xff",
    b"\xff",
    b"\xc3",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"\n",
    b"\r",
    b"\r\n",
    b",",
    b";",
    b":",
    b"=",
    b"#",
    b"//",
    b"/*",
    b"*/",
    b"\\",
    b"${",
    b"%{",
    b"<<EOT\n",
    b"&a ",
    b"*a",
    b"!!int ",
    b"!!python/object:os.system ",
    b"- ",
    b"? ",
    b"|",
    b"\t",
    b"\xc2\x85",
    "\u2028".encode(),
    b"\x1b[31m",
]


def mutate(data: bytes, rng: random.Random) -> bytes:
    """1 to 4 of: delete a span, insert a token, duplicate a span, convert line ends, truncate,
    overwrite with random bytes, prepend a BOM."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        operation = rng.random()
        position = rng.randint(0, len(out))
        if operation < 0.3:
            del out[position : position + rng.randint(1, 8)]
        elif operation < 0.65:
            out[position:position] = rng.choice(INSERTS)
        elif operation < 0.75 and out:
            start = rng.randrange(len(out))
            out[position:position] = out[start : start + rng.randint(1, 64)]
        elif operation < 0.8:
            out = bytearray(bytes(out).replace(b"\n", rng.choice([b"\r\n", b"\r"])))
        elif operation < 0.85:
            del out[position:]
        elif operation < 0.95:
            size = rng.randint(1, 16)
            out[position : position + size] = rng.randbytes(size)
        else:
            out[0:0] = rng.choice([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xff\xfe\x00\x00"])
    return bytes(out)


# Fixed mutants of every seed; "bom" and "crlf" must give exactly the result of the fixture.
SPECIAL_MUTANTS: dict[str, Any] = {
    "empty": lambda d: b"",
    "bom": lambda d: d if d.startswith(b"\xef\xbb\xbf") else b"\xef\xbb\xbf" + d,
    # What Windows PowerShell's Out-File and other tools write: decoded by the mark.
    "utf-16-le": lambda d: codecs.BOM_UTF16_LE + d.decode("utf-8-sig").encode("utf-16-le"),
    "utf-16-be": lambda d: codecs.BOM_UTF16_BE + d.decode("utf-8-sig").encode("utf-16-be"),
    "utf-32-le": lambda d: codecs.BOM_UTF32_LE + d.decode("utf-8-sig").encode("utf-32-le"),
    "utf-16-no-bom": lambda d: d.decode("utf-8-sig").encode("utf-16-le"),
    "crlf": lambda d: d.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"),
    "cr": lambda d: d.replace(b"\r\n", b"\n").replace(b"\n", b"\r"),
    "half": lambda d: d[: len(d) // 2],
    "binary": lambda d: bytes(range(256)) * 4,
    "invalid-utf8-tail": lambda d: d + b"\xff\xfe",
    "nul": lambda d: d.replace(b":", b":\x00", 1).replace(b"=", b"=\x00", 1),
    "latin-1": lambda d: d.decode("utf-8", "replace").encode("latin-1", "replace"),
}


def stage(seed: Path, workdir: Path) -> tuple[str, str]:
    """Copy the seed's directory context; return (file to mutate, file to check)."""
    if seed.parent.parent == FIXTURES / "terraform":
        # A Terraform directory: a mutated variables.tf or tfvars is read through main.tf.
        for sibling in seed.parent.iterdir():
            shutil.copy(sibling, workdir / sibling.name)
        target = seed.name if seed.suffix == ".tf" and seed.name != "variables.tf" else "main.tf"
        if not (workdir / target).exists():
            target = seed.name
        return seed.name, target
    return seed.name, seed.name


@pytest.mark.parametrize("seed", SEEDS, ids=[s.relative_to(ROOT).as_posix() for s in SEEDS])
def test_mutated_fixtures(workdir: Path, seed: Path) -> None:
    mutated, checked = stage(seed, workdir)
    original = seed.read_bytes()

    def run(data: bytes, cli: bool = True) -> LoadResult:
        (workdir / mutated).write_bytes(data)
        lines = line_count((workdir / checked).read_bytes())
        return check_file(workdir, checked, lines, cli=cli)

    pristine = run(original)
    assert pristine.errors == [] or "broken" in seed.as_posix()
    for name, transform in SPECIAL_MUTANTS.items():
        result = run(transform(original))
        if name in ("bom", "crlf", "utf-16-le", "utf-16-be", "utf-32-le") and not pristine.errors:
            # Windows editors write these: the result, findings and their places do not change.
            assert result.errors == [], (name, result.errors)
            # (A multi-line CSV cell keeps the line ends it was written with.)
            crlf_free = [text.replace("\\r\\n", "\\n") for text in summary(result)]
            assert crlf_free == summary(pristine), name
            # Positions too: a BOM is not a column in any format.
            assert located(lint_result(result)) == located(lint_result(pristine)), name
    rng = random.Random(seed.name)
    for index in range(MUTANTS_PER_SEED * SCALE):
        # The CLI reads the file again: through it for every CLI_EVERY-th mutant only.
        run(mutate(original, rng), cli=index % CLI_EVERY == 0)


# --- regressions: bugs these campaigns found ---------------------------------------------------


def load_text(workdir: Path, name: str, text: str | bytes) -> LoadResult:
    started = time.perf_counter()
    result = check_input(workdir, name, text)
    assert time.perf_counter() - started < MAX_SECONDS
    return result


def only_error(result: LoadResult) -> str:
    (error,) = result.errors
    return str(error)


@pytest.mark.parametrize(
    "value",
    ["!!int abc", "!!float xyz", "!!bool maybe", "!!omap 5", "!!int 0x", "!<tag:yaml.org,2002:int> q"],
)
def test_yaml_value_a_standard_tag_cannot_read_is_an_error_at_the_value(workdir: Path, value: str) -> None:
    # Was: ValueError, KeyError, AttributeError or IndexError from ruamel's constructor (a traceback).
    text = f"properties:\n  exemptionCategory: Waiver\n  metadata: {value}\n"
    tag = value.split()[0].replace("!<tag:yaml.org,2002:int>", "!!int")
    assert only_error(load_text(workdir, "t.yaml", text)) == (
        f"t.yaml:3:13: error: invalid YAML: the value cannot be read as {tag}"
    )


def test_numbers_python_cannot_convert_are_errors_or_text(workdir: Path) -> None:
    # Was: ValueError ("Exceeds the limit (4300 digits) for integer string conversion"), a
    # traceback, from a metadata cell of an EPAC CSV; for YAML, an error at the value; for
    # Terraform, python-hcl2's message at 1:1.
    digits = "9" * 5000
    result = load_text(workdir, "big.csv", f"name,exemptionCategory,metadata\na,Waiver,{digits}\n")
    assert result.errors == [] and result.exemptions[0].metadata == digits  # EL008 reports it
    yaml_error = only_error(load_text(workdir, "big.yaml", f"exemptionCategory: Waiver\nx: {digits}\n"))
    assert yaml_error == (
        "big.yaml:2:4: error: invalid YAML: the value cannot be read as !!int (more than 4,300 digits)"
    )
    tf = f'resource "azurerm_subscription_policy_exemption" "x" {{\n  count = {digits}\n}}\n'
    assert only_error(load_text(workdir, "main.tf", tf)) == (
        "main.tf:2:11: error: invalid HCL: a number of more than 4,300 digits cannot be read"
    )


def test_yaml_control_character_is_a_one_line_error_at_its_place(workdir: Path) -> None:
    # Was: a two-line message ('... not allowed\n  in "<unicode string>", position 40') at 1:1.
    text = "properties:\r\n  exemptionCategory: Wai\x00ver\n"
    assert only_error(load_text(workdir, "nul.yaml", text)) == (
        "nul.yaml:2:25: error: invalid YAML: unacceptable character #x0000: special characters are not allowed"
    )


def test_yaml_alias_bomb_is_refused_quickly(workdir: Path) -> None:
    # Was: aliases expanded into 10**8 values: the 20 s budget, and gigabytes, per file.
    lines = ["exemptionCategory: Waiver", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    error = only_error(load_text(workdir, "lol.yaml", "\n".join(lines) + "\n"))
    assert re.fullmatch(r"lol\.yaml:\d+:\d+: error: invalid YAML: aliases expand to more than 100,000 values", error)


def test_yaml_aliases_within_the_limit_are_expanded(workdir: Path) -> None:
    text = "base: &base\n  exemptionCategory: Waiver\n  policyAssignmentId: /x\nitems:\n- *base\n- *base\n"
    assert load_text(workdir, "ok.yaml", text).errors == []


def test_yaml_deep_flow_nesting_is_refused_quickly(workdir: Path) -> None:
    # Was: ruamel's scanner is quadratic in the flow depth: 2,000 "[" took 4 s before failing.
    text = "properties:\n  exemptionCategory: Waiver\n  metadata: " + "[" * 2000 + "]" * 2000 + "\n"
    # The document (level 1) and properties (2) count: the 99th "[" is level 101.
    assert only_error(load_text(workdir, "deep.yaml", text)) == (
        "deep.yaml:3:111: error: objects and arrays are nested more than 100 levels deep "
        "(the most exemptlint reads)"
    )


def test_yaml_brackets_in_scalars_comments_and_block_scalars_are_not_nesting(workdir: Path) -> None:
    many = "[" * 300 + "{" * 300
    text = (
        f"properties:\n  exemptionCategory: Waiver  # {many}\n  displayName: text {many}\n"
        f"  description: '{many}'\n  metadata: {{note: \"{many}\"}}\n  other: |\n    {many}\n    {many}\n"
        f"  last: [[[a]]]\n"
    )
    result = load_text(workdir, "brackets.yaml", text)
    assert result.errors == []
    (exemption,) = result.exemptions
    assert exemption.properties["displayName"] == f"text {many}"
    assert exemption.properties["other"] == f"{many}\n{many}\n"


def test_terraform_huge_count_is_linted_once(workdir: Path) -> None:
    # Was: count = 1000000000 expanded a billion instances (the 20 s budget, and memory).
    text = (
        'resource "azurerm_subscription_policy_exemption" "x" {\n  count = 1000000000\n'
        '  name = "n-${count.index}"\n  subscription_id = "/subscriptions/1"\n'
        '  policy_assignment_id = "/x"\n  exemption_category = "Waiver"\n}\n'
    )
    result = load_text(workdir, "main.tf", text)
    (exemption,) = result.exemptions
    assert isinstance(exemption.name, Unresolved)
    assert "more than 1000 instances are not expanded" in exemption.name.reason
    assert exemption.source.context == (
        "azurerm_subscription_policy_exemption.x; count = 1000000000 (not expanded)"
    )


def test_terraform_large_for_each_is_linted_once(workdir: Path) -> None:
    keys = " ".join(f"k{i} = {i}" for i in range(1001))
    text = (
        f'resource "azurerm_subscription_policy_exemption" "x" {{\n  for_each = {{ {keys} }}\n'
        '  name = each.key\n  subscription_id = "/subscriptions/1"\n}\n'
    )
    (exemption,) = load_text(workdir, "main.tf", text).exemptions
    assert isinstance(exemption.name, Unresolved)
    assert "more than 1000 instances" in exemption.name.reason


def test_terraform_ignores_a_bom_as_terraform_does(workdir: Path) -> None:
    # Was: "invalid HCL: Unexpected token Token('STRING_CHARS', '\ufeffresource ')"; Terraform
    # itself ignores the BOM (hashicorp/terraform#19715). Siblings and tfvars with a BOM count too.
    (workdir / "variables.tf").write_bytes(b'\xef\xbb\xbfvariable "category" {\n  default = "Waiver"\n}\n')
    (workdir / "terraform.tfvars").write_bytes(b'\xef\xbb\xbfname = "from-tfvars"\n')
    (workdir / "names.tf").write_bytes(b'\xef\xbb\xbfvariable "name" {}\n')
    text = (
        '\ufeffresource "azurerm_subscription_policy_exemption" "x" {\n  name = var.name\n'
        '  subscription_id = "/subscriptions/1"\n  exemption_category = var.category\n}\n'
    )
    result = load_text(workdir, "main.tf", text)
    assert result.errors == []
    (exemption,) = result.exemptions
    assert exemption.name == "from-tfvars"
    assert exemption.exemption_category == "Waiver"
    assert exemption.source.locator.exemption().column == 1


def test_epac_csv_with_cr_line_ends_detects_the_delimiter_from_the_header(workdir: Path) -> None:
    # Was: with CR line ends the "first line" was the whole file, so a comma in any cell made a
    # semicolon CSV be read as a comma CSV.
    text = "name;exemptionCategory;description\rone;Waiver;first, with a comma\rtwo;Mitigated;second\r"
    result = load_text(workdir, "semi.csv", text)
    assert [(e.name, e.exemption_category, e.description) for e in result.exemptions] == [
        ("one", "Waiver", "first, with a comma"),
        ("two", "Mitigated", "second"),
    ]


def test_terraform_syntax_errors_name_what_is_wrong(workdir: Path) -> None:
    # Was: "invalid HCL: Unexpected token Token('$END', '') at line 3, column 1." (lark's words),
    # then "unexpected end of file" at the end of the file rather than at the block (issue 17).
    head = 'resource "azurerm_subscription_policy_exemption" "x" {\n'
    assert only_error(load_text(workdir, "main.tf", head + "  name = 1\n")) == (
        "main.tf:1:1: error: invalid HCL: block 'resource \"azurerm_subscription_policy_exemption\" \"x\"' "
        "is not closed: expected '}' (reached the end of the file)"
    )
    assert only_error(load_text(workdir, "main.tf", head + "  name = 1\n}\n}\n")) == (
        "main.tf:4:1: error: invalid HCL: '}' closes nothing: no '{' is open"
    )
