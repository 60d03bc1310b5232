"""A per-file time budget, so that no input can hang a run (a pre-commit hook must return)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


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
