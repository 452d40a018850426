"""A wall-clock budget for work that may not come back (SymPy on hostile input).

:func:`time_limit` raises :class:`Timeout` in the main thread when the budget runs out,
through ``SIGALRM``; elsewhere (another thread, or a platform without ``setitimer``) it is
a no-op and callers rely on their own deadlines or on a separate process
(:mod:`derivcheck.app.batch`). The alarm re-fires every :data:`REPEAT` seconds until the
block is left, so a ``Timeout`` swallowed by a broad ``except`` inside a library is raised
again. A ``Timeout`` has a ``stage`` slot that the code it interrupted may fill in (what
it was doing); the timer itself knows nothing of what runs inside it.
:func:`budget` checks a budget a user gave.

>>> with time_limit(5):
...     sum(range(10))
45
>>> import time
>>> try:
...     with time_limit(0.05):
...         time.sleep(2)
... except Timeout as exc:
...     print(exc)
time budget of 0.05 s ran out
"""
from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager

__all__ = ["Timeout", "time_limit", "budget", "REPEAT"]

#: Seconds between repeated alarms once the budget has run out.
REPEAT = 0.1
#: Seconds before the alarm tries again when it went off inside a finalizer.
FINALIZER_RETRY = 0.01


def budget(seconds) -> float:
    """``seconds`` as a time budget: a positive finite number up to
    :data:`~derivcheck.limits.MAX_TIMEOUT`; ValueError (saying why) otherwise.

    >>> budget("2.5"), budget(60)
    (2.5, 60.0)
    >>> budget("nan")
    Traceback (most recent call last):
    ValueError: must be a positive number of seconds, not 'nan'
    """
    from .limits import MAX_TIMEOUT
    try:
        value = float(seconds)
    except (TypeError, ValueError):
        value = float("nan")
    if isinstance(seconds, bool) or not (0 < value < float("inf")):
        raise ValueError(f"must be a positive number of seconds, not {str(seconds)!r}")
    if value > MAX_TIMEOUT:
        raise ValueError(f"must be at most {MAX_TIMEOUT:g} seconds (one day), not "
                         f"{str(seconds)!r}")
    return value


class Timeout(BaseException):
    """The time budget ran out. A ``BaseException``, like ``KeyboardInterrupt``, so a
    library's ``except Exception`` does not swallow it."""

    def __init__(self, seconds: float):
        super().__init__(f"time budget of {seconds:g} s ran out")
        self.seconds = seconds
        #: What the interrupted code was doing, when it said so (None: not known).
        self.stage: str | None = None


def _in_finalizer(frame, depth: int = 4) -> bool:
    """True when the interrupted code (or one of its few callers) is a finalizer
    (``__del__``), a weak reference's callback or a garbage-collection callback, which
    the collector may run anywhere: an exception cannot leave them (Python prints
    "Exception ignored in ..." and drops it), so the alarm waits for its next repeat.

    >>> import sys
    >>> _in_finalizer(sys._getframe())
    False
    """
    while frame is not None and depth:
        code = frame.f_code
        if code.co_name == "__del__" or code.co_name.endswith("gc_callback") or (
                code.co_filename.endswith(("weakref.py", "_weakrefset.py"))
                and code.co_name in ("remove", "_remove")):
            return True
        frame, depth = frame.f_back, depth - 1
    return False


def _alarm_available() -> bool:
    return (hasattr(signal, "setitimer")
            and threading.current_thread() is threading.main_thread())


@contextmanager
def time_limit(seconds: float | None):
    """Raise :class:`Timeout` inside the block once ``seconds`` have passed.

    ``None`` or a non-positive value means no limit. Nested limits work: the inner one
    never extends the outer one, and the outer alarm is re-armed on the way out.
    """
    if seconds is None or seconds <= 0 or not _alarm_available():
        yield
        return
    state = {"armed": True}

    def on_alarm(signum, frame):
        if not state["armed"]:
            return
        if _in_finalizer(frame):  # raised there, it would be dropped: soon again
            signal.setitimer(signal.ITIMER_REAL, FINALIZER_RETRY, REPEAT)
            return
        raise Timeout(seconds)

    old_handler = signal.getsignal(signal.SIGALRM)
    old_delay, _ = signal.getitimer(signal.ITIMER_REAL)
    started = time.monotonic()
    delay = min(seconds, old_delay) if old_delay > 0 else seconds
    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, delay, REPEAT)
    try:
        yield
    finally:
        state["armed"] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        if old_delay > 0:
            left = old_delay - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3), REPEAT)
