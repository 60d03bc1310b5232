"""Terraform modules: where a ``module`` block's ``source`` points, and the files of a local
module directory (parsed once per run).

Terraform reads a module from a local directory only when its source starts with ``./`` or
``../``; anything else (the registry, Git, an archive, an absolute path) is downloaded by
``terraform init`` and is not followed here: the caller gets an EL009 note naming the module.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

from exemptlint.loaders.terraform_syntax import HclSyntaxError, ParsedFile, parse_cached

# How deep modules are followed (root -> a -> b ...); cycles are caught before this.
MAX_MODULE_DEPTH = 16
# Module directories with more .tf files than this are not read (not a hand-written module).
MAX_MODULE_FILES = 500

_REGISTRY = re.compile(r"^(?:[A-Za-z0-9.-]+\.[A-Za-z]{2,}(?::\d+)?/)?[\w-]+/[\w-]+/[\w-]+(?://.*)?$")
_GIT = ("git::", "git@", "github.com/", "bitbucket.org/", "ssh://")
_OTHER_GETTERS = ("hg::", "s3::", "gcs::", "http::", "https::", "http://", "https://", "file::", "oci::")
# Words that make a module directory worth reading: it may deploy an exemption or assignment.
RELEVANT_WORDS = ("_policy_exemption", "_policy_assignment", "policyexemptions", "policyassignments")
# Management groups and the subscriptions placed in them: where scopes sit (EL014).
PLACEMENT_WORDS = ("azurerm_management_group", "microsoft.management/managementgroups")
_MODULE_BLOCK = re.compile(r"^[ \t]*module[ \t]+(?:\"[^\"\n]*\"|[A-Za-z_][\w-]*)[ \t]*\{", re.MULTILINE)


def is_local(source: str) -> bool:
    return source.startswith(("./", "../", ".\\", "..\\")) or source in (".", "..")


def remote_origin(source: str) -> str:
    """Where a module that is not local comes from, for the note."""
    lowered = source.lower()
    if lowered.startswith(_GIT) or ".git" in lowered.split("?")[0][-8:]:
        return "a Git repository"
    if lowered.startswith(_OTHER_GETTERS):
        return "a remote location"
    if source.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:[\\/]", source):
        return "an absolute path (Terraform installs it like a remote module)"
    if _REGISTRY.match(source):
        return "a module registry"
    return "a location that is not a local path (local paths start with ./ or ../)"


def relevant_text(text: str, placements: bool = True) -> bool:
    """Whether a .tf text may deploy an exemption or an assignment (or, with ``placements``, a
    management group), itself or through a module."""
    lowered = text.lower()
    if any(word in lowered for word in RELEVANT_WORDS):
        return True
    if placements and any(word in lowered for word in PLACEMENT_WORDS):
        return True
    return "module" in lowered and _MODULE_BLOCK.search(text) is not None


@dataclass(frozen=True)
class ModuleFile:
    path: Path
    display: str
    # The text, or why it could not be read.
    text: str | None
    problem: str | None = None

    def parse(self) -> ParsedFile | HclSyntaxError:
        if self.text is None:
            return HclSyntaxError(1, 1, self.problem or "cannot read file")
        return parse_cached(self.text)


@dataclass(frozen=True)
class ModuleDirectory:
    path: Path
    files: tuple[ModuleFile, ...]

    @property
    def relevant(self) -> bool:
        """Whether a file may deploy an exemption or assignment (else following finds nothing)."""
        return any(f.text is not None and relevant_text(f.text) for f in self.files)


def module_display(caller_display: str, source: str, name: str) -> str:
    """A module file's path as findings show it: beside the caller's displayed path (so that it
    is the same text a directory scan gives the file)."""
    joined = posixpath.join(posixpath.dirname(caller_display), source.replace("\\", "/"), name)
    return posixpath.normpath(joined)


def read_directory(directory: Path, caller_display: str, source: str) -> ModuleDirectory | str:
    """The .tf files of a module directory; a reason when it cannot be read."""
    from exemptlint.loaders import MAX_FILE_BYTES, decode_text

    try:
        names = sorted(
            entry.name for entry in os.scandir(directory) if entry.name.endswith(".tf") and entry.is_file()
        )
    except FileNotFoundError:
        return f"the directory {source} does not exist"
    except NotADirectoryError:
        return f"{source} is not a directory"
    except OSError as error:
        return f"the directory {source} cannot be read ({error.strerror or error})"
    if not names:
        return f"the directory {source} holds no .tf file"
    if len(names) > MAX_MODULE_FILES:
        return f"the directory {source} holds more than {MAX_MODULE_FILES} .tf files"
    files: list[ModuleFile] = []
    for name in names:
        path = directory / name
        display = module_display(caller_display, source, name)
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                files.append(ModuleFile(path, display, None, "file is too large to read"))
                continue
            text = decode_text(path.read_bytes())
        except ValueError as error:  # SourceDecodeError: not UTF-8, UTF-16 or UTF-32 text
            files.append(ModuleFile(path, display, None, str(error)))
            continue
        except OSError as error:
            files.append(ModuleFile(path, display, None, f"cannot read file: {error.strerror or error}"))
            continue
        files.append(ModuleFile(path, display, text))
    return ModuleDirectory(directory, tuple(files))
