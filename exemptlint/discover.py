"""Which files a run lints: the paths named on the command line and a walk of each directory.

The walk is made for large repositories: ``os.scandir`` gives each entry's type without a
system call, so a regular file costs no ``stat`` here (the read that follows does one ``fstat``),
a symbolic link one ``stat``, and no path is resolved per file. Paths are kept as strings; a
``pathlib.Path`` is made only for the files that are loaded.

Links to directories are not followed (a link back up the tree would make the walk endless). A
link named like a source file that leads nowhere (it loops, or its target does not exist) is
reported, so no file is passed over without a word; a FIFO or a device inside a directory is
skipped (named on the command line, it is an error).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from fnmatch import fnmatch
from pathlib import Path
from typing import NamedTuple

from exemptlint.model import LoadError

# The suffixes of the formats exemptlint reads (see exemptlint.loaders); a walk picks up these.
SOURCE_SUFFIXES = frozenset(
    {".json", ".jsonc", ".bicep", ".bicepparam", ".csv", ".tf", ".tfvars", ".yaml", ".yml"}
)
SKIPPED_DIRECTORIES = frozenset({".git", "node_modules", ".venv", "__pycache__", ".terraform", ".tox"})

LOOP_MESSAGE = "symbolic link loop: the link leads back to itself (too many levels of symbolic links)"


class SourceFile(NamedTuple):
    """A file to lint: ``path`` as the file system is asked for it, ``shown`` as findings name
    it, and its lower-cased ``suffix``."""

    path: str
    shown: str
    suffix: str


def suffix_of(name: str) -> str:
    """The lower-cased suffix, as ``Path(name).suffix.lower()`` gives it (``.json`` has none)."""
    dot = name.rfind(".")
    if dot <= 0 or dot == len(name) - 1:
        return ""
    return name[dot:].lower()


def discover(paths: Sequence[str], exclude: Sequence[str] = ()) -> tuple[list[SourceFile], list[LoadError]]:
    """The files to lint under ``paths`` (files named explicitly are always included), and the
    paths that could not be used."""
    found: list[SourceFile] = []
    errors: list[LoadError] = []
    seen: set[str] = set()
    for raw in paths:
        path = Path(raw)
        normalized = str(path)
        try:
            status = os.stat(normalized)
        except OSError as error:
            errors.append(LoadError(raw, 1, 1, _unusable(error, normalized)))
            continue
        if stat.S_ISDIR(status.st_mode):
            walk = _Walk(exclude, errors, seen, found)
            walk.directory(normalized, display_path(path))
        elif normalized not in seen:
            # Named explicitly: whatever it is, it is read (a FIFO or device gets an error there).
            seen.add(normalized)
            found.append(SourceFile(normalized, display_path(path), suffix_of(path.name)))
    return found, errors


def _unusable(error: OSError, path: str) -> str:
    if error.errno == errno.ELOOP:
        return LOOP_MESSAGE
    if error.errno == errno.ENOENT and os.path.islink(path):
        return dangling_message(path)
    if error.errno in (errno.ENOENT, errno.ENOTDIR):
        return "no such file or directory"
    return f"cannot read: {error.strerror or error}"


class _Walk:
    """One directory tree, depth first in name order: a directory's files, then its
    subdirectories (the order ``os.walk`` with sorted names gives)."""

    def __init__(
        self, exclude: Sequence[str], errors: list[LoadError], seen: set[str], found: list[SourceFile]
    ) -> None:
        self.exclude = tuple(exclude)
        self.errors = errors
        self.seen = seen
        self.found = found

    def directory(self, path: str, shown: str) -> None:
        try:
            with os.scandir(path) as scan:
                entries = sorted(scan, key=_name)
        except OSError:
            return  # unreadable (permissions): as os.walk, nothing below it is known
        # Children of "." are named bare, of "/" without a doubled slash: as pathlib writes them.
        prefix = _prefix(shown)
        fs_prefix = _prefix(path)
        subdirectories: list[tuple[str, str]] = []
        exclude = self.exclude
        seen = self.seen
        found = self.found
        # The hot loop of a large repository: names and types only, no system call per file.
        for entry in entries:
            name = entry.name
            try:
                is_directory = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_directory = False
            if is_directory:
                if name not in SKIPPED_DIRECTORIES and not (exclude and self._excluded(prefix + name, name)):
                    subdirectories.append((fs_prefix + name, prefix + name))
                continue
            dot = name.rfind(".")
            if dot <= 0:
                continue  # no suffix (or a dot file such as ".json", which has none)
            suffix = name[dot:].lower()
            if suffix not in SOURCE_SUFFIXES:
                continue
            child = prefix + name
            if exclude and self._excluded(child, name):
                continue
            if not entry.is_file(follow_symlinks=False) and not self._linked_file(entry, child):
                continue
            fs_path = fs_prefix + name
            if fs_path not in seen:
                seen.add(fs_path)
                found.append(SourceFile(fs_path, child, suffix))
        for subdirectory, child in subdirectories:
            self.directory(subdirectory, child)

    def _linked_file(self, entry: os.DirEntry[str], shown: str) -> bool:
        """Whether the entry is a link to a regular file; a link that leads nowhere is reported."""
        try:
            return entry.is_symlink() and stat.S_ISREG(entry.stat().st_mode)
        except OSError as error:
            if error.errno == errno.ELOOP:
                self.errors.append(LoadError(shown, 1, 1, LOOP_MESSAGE))
            elif entry.is_symlink():
                self.errors.append(LoadError(shown, 1, 1, dangling_message(entry.path)))
            return False

    def _excluded(self, shown: str, name: str) -> bool:
        # Patterns match the path as findings show it (relative to the working directory),
        # however the directory was named on the command line, or the bare file or directory name.
        return bool(self.exclude) and any(fnmatch(shown, p) or fnmatch(name, p) for p in self.exclude)


def dangling_message(path: str) -> str:
    try:
        target = os.readlink(path)
    except OSError:
        target = "?"
    return f"symbolic link to '{target}', which does not exist"


def _prefix(directory: str) -> str:
    return "" if directory == "." else directory if directory.endswith("/") else directory + "/"


def _name(entry: os.DirEntry[str]) -> str:
    return entry.name


def display_path(path: Path) -> str:
    """The path as shown in findings: relative to the working directory when below it."""
    if not path.is_absolute() and ".." not in path.parts:
        return path.as_posix()  # already relative to the working directory (no system calls)
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()

