"""Where a file sits in an Enterprise Policy as Code (EPAC) repository, from its path alone.

EPAC keeps everything under a definitions folder (``Definitions`` by default): the environments in
``global-settings.jsonc``, custom initiatives in ``policySetDefinitions``, assignments in
``policyAssignments`` and exemptions in ``policyExemptions/<pacSelector>/``. EPAC deploys, for the
environment ``pacSelector``, exactly the exemption files below ``policyExemptions/<pacSelector>/``:
a file directly in ``policyExemptions`` is read by no environment, and the copies EPAC's export
scripts write (``Output/...``, ``.../export/Definitions/...``) are not deployed at all.

Only names are compared here (case-insensitively); nothing touches the file system.
"""

from __future__ import annotations

import os

from exemptlint.model import EpacPlace

EXEMPTIONS_FOLDER = "policyexemptions"
ASSIGNMENTS_FOLDER = "policyassignments"
SET_DEFINITIONS_FOLDER = "policysetdefinitions"


def epac_place(file: str) -> EpacPlace | None:
    """The EPAC place of ``file`` (a path as the user named it), or None when the path has no
    ``policyExemptions`` or ``policyAssignments`` folder."""
    parts = os.path.abspath(file).replace("\\", "/").split("/")
    folders = parts[:-1]
    for index in range(len(folders) - 1, 0, -1):
        name = folders[index].lower()
        if name not in (EXEMPTIONS_FOLDER, ASSIGNMENTS_FOLDER):
            continue
        root = "/".join(folders[:index]) or "/"
        exported = any(_is_export_folder(folder) for folder in folders[:index])
        if name == ASSIGNMENTS_FOLDER:
            return EpacPlace(root, None, not exported)
        selector = folders[index + 1] if index + 1 < len(folders) else None
        return EpacPlace(root, selector, selector is not None and not exported)
    return None


def _is_export_folder(name: str) -> bool:
    """EPAC's output folder (``Output`` by default; repositories also keep ``Outputs``,
    ``outputdev``) and the ``export`` folder its export scripts write definitions into."""
    lowered = name.lower()
    return lowered.startswith("output") or lowered == "export"


def same_selector(a: str | None, b: str | None) -> bool:
    """Whether two pac selectors name the same environment (EPAC matches them case-insensitively)."""
    return a is not None and b is not None and a.lower() == b.lower()


def may_be_assignment_text(lowered: str) -> bool:
    """False only when a file's lower-cased text certainly is no EPAC assignment file."""
    return '"nodename"' in lowered and "definitionentry" in lowered


_ASSIGNMENT_KEYS = ("nodename", "$schema")


def may_be_assignment_document(doc: object) -> bool:
    """A quick test before the full one (``epac_definitions.is_epac_assignment``): a JSON object
    with a ``nodeName`` (any case) or a ``$schema``."""
    return isinstance(doc, dict) and any(isinstance(k, str) and k.lower() in _ASSIGNMENT_KEYS for k in doc)


def names_epac_folder(path: str) -> bool:
    """Whether a path (made absolute) may lie in an EPAC definitions folder: a quick test before
    ``epac_definitions.definitions_roots``."""
    lowered = os.path.abspath(path).lower()
    return EXEMPTIONS_FOLDER in lowered or ASSIGNMENTS_FOLDER in lowered
