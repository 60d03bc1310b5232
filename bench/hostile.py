#!/usr/bin/env python3
"""Measure exemptlint on hostile inputs: exit code, first line printed, wall time, peak memory.

Usage: python bench/hostile.py EXEMPTLINT WORKDIR

EXEMPTLINT is the command to run (``.venv/bin/exemptlint``); WORKDIR (new or empty) receives
the inputs. Prints one JSON object per input; docs/reliability.md ("Hostile inputs, measured") is made
from them. Each run is a process of its own, started from a wrapper process, so the wrapper's
RUSAGE_CHILDREN is that run's peak memory. Standard library only.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

EXE = str(Path(sys.argv[1]).absolute()) if "/" in sys.argv[1] else (shutil.which(sys.argv[1]) or sys.argv[1])
ROOT = Path(sys.argv[2])
FIX = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "rules"
if ROOT.exists() and any(ROOT.iterdir()):
    sys.exit(f"{ROOT} is not empty: give a new or empty folder")
ROOT.mkdir(parents=True, exist_ok=True)
GOOD = json.loads((FIX / "pass-baseline.json").read_text())
TODAY = ["--today", "2026-11-24"]


def measure(
    name: str,
    args: list[str],
    cwd: Path = ROOT,
    interrupt_after: float | None = None,
    stdin_close: bool = False,
) -> None:
    # One wrapper process per case, so RUSAGE_CHILDREN is the peak of this run alone.
    if "--format" not in args:
        args = [*args, "--format", "concise"]
    code = f"""
import resource, subprocess, sys, time, signal, json
start = time.perf_counter()
p = subprocess.Popen({[EXE, "check", *args]!r}, cwd={str(cwd)!r}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
if {interrupt_after!r} is not None:
    time.sleep({interrupt_after!r}); p.send_signal(signal.SIGINT)
if {stdin_close!r}:
    p.stdout.close(); out = b''; err = p.stderr.read()
else:
    out, err = p.communicate()
rc = p.wait()
elapsed = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps([rc, elapsed, rss, out.decode('utf-8', 'replace'), err.decode('utf-8', 'replace')]))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    rc, elapsed, rss, out, err = json.loads(result.stdout)
    lines = [line for line in (err + out).splitlines() if line.strip() and not line.startswith("Checked ")]
    message = lines[0] if lines else (out.splitlines() or [""])[-1]
    if len(message) > 160:
        message = message[:157] + "..."
    print(
        json.dumps(
            {
                "case": name,
                "exit": rc,
                "seconds": round(elapsed, 2),
                "MiB": round(rss / 1024),
                "message": message,
            }
        )
    )


def write(name: str, data: bytes | str) -> str:
    path = ROOT / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return name


def exemption(**props: object) -> dict:
    doc = json.loads(json.dumps(GOOD))
    doc["properties"].update(props)
    return doc


# 1. binary junk
rng = random.Random(17)
measure("binary junk (1 MiB random bytes, .json)", [write("junk.json", rng.randbytes(1 << 20)), *TODAY])
# 2. billion laughs
lines = ["exemptionCategory: Waiver", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
measure(
    "billion-laughs YAML (9 levels of aliases, 400 bytes)",
    [write("lol.yaml", "\n".join(lines) + "\n"), *TODAY],
)
# 3. 50 MB array
big = exemption(metadata={"numbers": list(range(7_000_000))})
measure("50 MB array (7 million numbers in metadata)", [write("big.json", json.dumps(big)), *TODAY])
# 3b. file over the limit
measure(
    "65 MiB file (over the 64 MiB limit)",
    [write("huge.json", b" " * (65 << 20) + json.dumps(GOOD).encode()), *TODAY],
)
# 4. 100,000-deep nesting
measure(
    "100,000-deep nesting (JSON arrays in metadata)",
    [
        write(
            "deep.json",
            '{"properties": {"exemptionCategory": "Waiver", "metadata": '
            + "[" * 100_000
            + "]" * 100_000
            + "}}",
        ),
        *TODAY,
    ],
)
deep_meta = json.dumps(exemption(metadata="X")).replace('"X"', '{"a":' * 600 + "1" + "}" * 600)
measure("metadata nested 600 deep (JSON)", [write("deep-meta.json", deep_meta), *TODAY])
measure(
    "100,000-deep flow nesting (YAML)",
    [
        write(
            "deep.yaml",
            "properties:\n  exemptionCategory: Waiver\n  metadata: " + "[" * 100_000 + "]" * 100_000 + "\n",
        ),
        *TODAY,
    ],
)
# 5. Ctrl-C in a long run
many = ROOT / "many"
many.mkdir()
text = json.dumps(GOOD, indent=2)
for i in range(3000):
    (many / f"e{i}.json").write_text(text)
measure("Ctrl-C 1 s into a 3,000-file run", ["many", *TODAY], interrupt_after=1.0)
# 6. symlink loops
loop = ROOT / "loops"
(loop / "sub").mkdir(parents=True)
(loop / "sub" / "up").symlink_to(loop)
(loop / "self.json").symlink_to(loop / "self.json")
(loop / "ok.json").write_text(text)
measure("symlink loops in a directory (a link to its parent, a link to itself)", ["loops", *TODAY])
measure("a looping symlink named explicitly", ["loops/self.json", *TODAY])
# 7. escape sequences
esc = exemption(exemptionCategory="\x1b]0;owned\x07\x1b[2J\x1b[31mWaiver")
write("esc/a\x1b[31mred.json", json.dumps(esc))
measure("escape sequences in a value and a file name", ["esc", *TODAY])
measure("escape sequences (text format)", ["esc", *TODAY, "--format", "text"])
# 8. unknown rule ids
write("ok.json", text)
measure("unknown rule id: --select EL4", ["ok.json", *TODAY, "--select", "EL4"])
measure("unknown rule id: --ignore ELL007", ["ok.json", *TODAY, "--ignore", "ELL007"])
write("cfg/.exemptlint.yaml", "ignore: [EL005, ELL007]\n")
write("cfg/ok.json", text)
measure("unknown rule id in the config (ignore: [ELL007])", ["ok.json", *TODAY], cwd=ROOT / "cfg")
sup = exemption(metadata={"exemptlint": {"ignore": {"EL4": "approved"}}}, expiresOn="2026-10-01T00:00:00Z")
measure(
    "unknown rule id in a suppression (metadata ignore EL4)", [write("sup.json", json.dumps(sup)), *TODAY]
)
# 9. unwritable outputs
measure(
    "report into a missing folder (--sarif-file reports/x.sarif)",
    ["ok.json", *TODAY, "--sarif-file", "reports/x.sarif"],
)
(ROOT / "folder").mkdir()
measure("--output naming a folder", ["ok.json", *TODAY, "--output", "folder"])
measure("--output in a read-only folder (/sys)", ["ok.json", *TODAY, "--output", "/sys/x.json"])
measure("standard output closed (| head -0)", ["ok.json", *TODAY], stdin_close=True)
# 10. BOMs
measure("UTF-16 LE with BOM", [write("utf16.json", ("\ufeff" + text).encode("utf-16-le")), *TODAY])
measure("UTF-32 LE with BOM", [write("utf32.json", ("\ufeff" + text).encode("utf-32-le")), *TODAY])
measure("UTF-8 with BOM", [write("utf8bom.json", ("\ufeff" + text).encode("utf-8")), *TODAY])
measure(
    "Latin-1 without BOM",
    [
        write(
            "latin1.json",
            json.dumps(exemption(description="Déjà approuvé par le RSSI (SEC-1)"), ensure_ascii=False).encode(
                "latin-1"
            ),
        ),
        *TODAY,
    ],
)
# 11. duplicate keys
dup = text.replace('"expiresOn"', '"expiresOn": "2026-01-01T00:00:00Z",\n    "expiresOn"', 1)
measure("duplicate keys (an expired expiresOn, then a valid one)", [write("dup.json", dup), *TODAY])
# 12. ARM copy count
arm = {
    "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
    "contentVersion": "1.0.0.0",
    "resources": [
        {
            "type": "Microsoft.Authorization/policyExemptions",
            "apiVersion": "2022-07-01-preview",
            "name": "[concat('e', copyIndex())]",
            "copy": {"name": "c", "count": 5000},
            "properties": GOOD["properties"],
        }
    ],
}
measure("ARM copy count 5,000 (ARM allows 800)", [write("copy.json", json.dumps(arm)), *TODAY])
# 13. long echoed values
expression = "[concat(" + ",".join(f"parameters('p{i}')" for i in range(3000)) + ")]"
tmpl = {
    "$schema": arm["$schema"],
    "contentVersion": "1.0.0.0",
    "parameters": {f"p{i}": {"type": "string"} for i in range(3000)},
    "resources": [
        {
            "type": "Microsoft.Authorization/policyExemptions",
            "apiVersion": "2022-07-01-preview",
            "name": "x",
            "properties": {**GOOD["properties"], "policyAssignmentId": expression},
        }
    ],
}
measure(
    "a 59 KB ARM expression (EL009 note)",
    [write("wide.json", json.dumps(tmpl)), *TODAY, "--format", "concise"],
)
# 14. NUL and invalid UTF-8
measure(
    "a NUL byte in a JSON string", [write("nul.json", text.replace("Mitigated", "Miti\x00gated")), *TODAY]
)
measure(
    "invalid UTF-8 (a lone 0xff)",
    [write("bad8.json", text.encode().replace(b"Mitigated", b"Miti\xffgated")), *TODAY],
)
measure("an integer of 5,000 digits", [write("num.json", text.replace('"Mitigated"', "9" * 5000)), *TODAY])
if hasattr(os, "mkfifo"):
    os.mkfifo(ROOT / "pipe.json")
    measure("a FIFO named explicitly", ["pipe.json", *TODAY])
