"""A per-file time budget, so that no input can hang a run (a pre-commit hook must return)."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any


class TimeBudgetExceeded(BaseException):
    """Derives from BaseException, like KeyboardInterrupt, so that no ``except Exception`` in
    the code being timed can swallow it."""


@contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Raise ``TimeBudgetExceeded`` in the block after ``seconds`` (main thread on POSIX only;
    elsewhere, and with ``seconds <= 0``, the block runs without a budget)."""
    usable = (
        seconds > 0 and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise TimeBudgetExceeded()

    previous = signal.signal(signal.SIGALRM, expire)
    # The timer repeats: an exception raised while a gc callback runs is lost ("Exception
    # ignored in ..."), so keep raising until one reaches the timed code.
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.05)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class BudgetTimer:
    """The same per-file budget for a run of many files, without a system call per file.

    ``time_budget`` installs a handler and arms a timer for each file, which costs more than
    reading a small file. This arms one repeating timer for the whole run (``with BudgetTimer(s)``
    or ``arm()``); each file only records its deadline (``start_file``/``end_file``), and the
    handler raises when the file in progress is past it. A file is stopped at most one tick (a
    quarter of the budget, at most 1 s) after its deadline.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._deadline: float | None = None
        self._previous: Any = None
        self.armed = False

    def arm(self) -> None:
        usable = (
            self.seconds > 0
            and hasattr(signal, "setitimer")
            and threading.current_thread() is threading.main_thread()
        )
        if not usable or self.armed:
            return
        tick = min(1.0, max(self.seconds / 4, 0.005))
        self._previous = signal.signal(signal.SIGALRM, self._expire)
        signal.setitimer(signal.ITIMER_REAL, tick, tick)
        self.armed = True

    def disarm(self) -> None:
        if not self.armed:
            return
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self._previous)
        self.armed = False

    def __enter__(self) -> BudgetTimer:
        self.arm()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.disarm()

    def start_file(self) -> None:
        self._deadline = time.monotonic() + self.seconds

    def end_file(self) -> None:
        # A tick may land here, before the deadline is cleared, and raise; ticks are at least 5 ms
        # apart, so clearing again right away succeeds.
        while True:
            try:
                self._deadline = None
                return
            except TimeBudgetExceeded:
                continue

    def _expire(self, signum: int, frame: FrameType | None) -> None:
        # The timer keeps ticking, so an exception lost in a gc callback is raised again.
        if self._deadline is not None and time.monotonic() >= self._deadline:
            raise TimeBudgetExceeded()
