"""A progress bar on standard error for long runs at a terminal.

Shown only when standard error is a terminal, the run is not in CI or in a pre-commit hook, and
it has taken more than ``DELAY`` seconds: a quick run (a pre-commit hook, a small repository)
never imports rich for it, and logs never get one. The bar is transient: it is erased when the
run ends, before the report is printed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import IO, Any

# Seconds a run goes before the bar appears.
DELAY = 1.0
# Set by CI services (GitHub Actions, GitLab, Azure DevOps, Jenkins, ...) and by pre-commit.
_NOT_INTERACTIVE = ("CI", "TF_BUILD", "BUILD_ID", "JENKINS_URL", "PRE_COMMIT")


def wanted(stream: IO[str], environ: Mapping[str, str]) -> bool:
    """Whether a bar may be drawn on ``stream``."""
    if any(environ.get(name) for name in _NOT_INTERACTIVE):
        return False
    if environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Progress:
    """Counts files done out of a total; draws a bar once the run is slow enough to want one."""

    def __init__(self, enabled: bool, total: int = 0, stream: IO[str] | None = None) -> None:
        self.enabled = enabled
        self.total = total
        self.done = 0
        self.stream = stream
        self.started = time.monotonic()
        self.description = "Reading"
        self._bar: Any = None
        self._task: Any = None

    @classmethod
    def for_terminal(cls, stream: IO[str], total: int = 0, quiet: bool = False) -> Progress:
        return cls(not quiet and wanted(stream, os.environ), total, stream)

    def add_total(self, files: int) -> None:
        self.total += files
        self._refresh()

    def advance(self, files: int = 1) -> None:
        self.done += files
        self._refresh()

    def phase(self, description: str) -> None:
        self.description = description
        self._refresh()

    def _refresh(self) -> None:
        if not self.enabled:
            return
        if self._bar is None:
            if time.monotonic() - self.started < DELAY:
                return
            self._start()
        self._bar.update(self._task, completed=self.done, total=self.total, description=self.description)

    def _start(self) -> None:
        # Imported only now: rich costs tens of milliseconds, which a quick run never pays.
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as Bar

        console = Console(file=self.stream, stderr=self.stream is None)
        self._bar = Bar(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("files"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._bar.start()
        self._task = self._bar.add_task(self.description, total=self.total, completed=self.done)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
