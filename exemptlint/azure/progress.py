"""A progress bar on standard error while pages are read (rich), only on a terminal."""

from __future__ import annotations

import sys
from typing import IO, Any, Protocol


class Progress(Protocol):
    def start(self, label: str) -> None: ...

    def update(self, done: int, total: int | None) -> None: ...

    def finish(self) -> None: ...


class NoProgress:
    def start(self, label: str) -> None:
        return None

    def update(self, done: int, total: int | None) -> None:
        return None

    def finish(self) -> None:
        return None


class RichProgress:
    """One bar per query: rows read of the total Resource Graph announced."""

    def __init__(self, stream: IO[str], force_terminal: bool = False) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as Bar

        console = Console(file=stream, force_terminal=force_terminal or None)
        self._bar = Bar(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._task: Any = None

    def start(self, label: str) -> None:
        if self._task is None:
            self._bar.start()
        else:
            self._bar.remove_task(self._task)
        self._task = self._bar.add_task(label, total=None)

    def update(self, done: int, total: int | None) -> None:
        if self._task is not None:
            self._bar.update(self._task, completed=done, total=total)

    def finish(self) -> None:
        if self._task is not None:
            self._bar.stop()
            self._task = None


def progress_for(stream: IO[str] | None = None) -> Progress:
    """A rich bar when ``stream`` (standard error) is a terminal, else nothing."""
    stream = stream if stream is not None else sys.stderr
    isatty = getattr(stream, "isatty", None)
    if callable(isatty) and isatty():
        return RichProgress(stream)
    return NoProgress()
