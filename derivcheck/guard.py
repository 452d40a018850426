"""A wall-clock budget for work that may not come back (SymPy on hostile input).

:func:`time_limit` raises :class:`Timeout` in the main thread when the budget runs out,
through ``SIGALRM``; elsewhere (another thread, or a platform without ``setitimer``) it is
a no-op and callers rely on their own deadlines or on a separate process
(:mod:`derivcheck.app.batch`). The alarm re-fires every :data:`REPEAT` seconds until the
block is left, so a ``Timeout`` swallowed by a broad ``except`` inside a library is raised
again. :func:`timeout_reason` says, from a ``Timeout``'s traceback, what was running
and what had been tried.

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

__all__ = ["Timeout", "time_limit", "interrupted_stage", "timeout_reason", "unknown_result",
           "REPEAT"]

#: Seconds between repeated alarms once the budget has run out.
REPEAT = 0.1

#: Module prefix -> what derivcheck was doing there; the innermost match wins, except
#: that a diagnosis (which runs the decision procedure again) is reported as such.
_STAGES = (
    ("derivcheck.parsing", "reading the formula"),
    ("derivcheck.core.spec", "building the network"),
    ("derivcheck.core.network", "building the network"),
    ("derivcheck.core.graph", "building the network"),
    ("derivcheck.core.gradients", "computing the exact gradient"),
    ("derivcheck.decide.equivalence", "deciding equivalence"),
    ("derivcheck.decide.formal", "identity testing of both sides per sign region"),
    ("derivcheck.decide.search", "searching for a counterexample point"),
    ("derivcheck.decide.evaluate", "evaluating both sides exactly at a point"),
    ("derivcheck.decide.diagnosis", "diagnosing the mistake"),
)

#: What had been tried before each stage, for the reason a timeout gives.
_TRIED = {
    "starting up": "nothing yet",
    "reading the formula": "nothing yet",
    "building the network": "nothing yet",
    "computing the exact gradient": "the formula was read",
    "deciding equivalence": "the formula was read and the exact gradient computed; the "
                            "decision procedure (identity test, random points, sign regions, "
                            "kinks) did not finish",
    "diagnosing the mistake": "the verdict was reached, but naming the mistake did not finish",
}


class Timeout(BaseException):
    """The time budget ran out. A ``BaseException``, like ``KeyboardInterrupt``, so a
    library's ``except Exception`` does not swallow it."""

    def __init__(self, seconds: float):
        super().__init__(f"time budget of {seconds:g} s ran out")
        self.seconds = seconds


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
        if state["armed"]:
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


def interrupted_stage(exc: BaseException) -> str:
    """What was running when ``exc`` was raised, from its traceback.

    >>> interrupted_stage(Timeout(1))
    'starting up'
    """
    found = []
    tb = exc.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        found += [label for prefix, label in _STAGES if module.startswith(prefix)][:1]
        tb = tb.tb_next
    if "diagnosing the mistake" in found:
        return "diagnosing the mistake"
    return found[-1] if found else "starting up"


def timeout_reason(exc: Timeout) -> str:
    """The ``reason`` of an ``unknown`` verdict for a budget that ran out.

    >>> timeout_reason(Timeout(2))
    'the time budget of 2 s ran out while starting up (tried: nothing yet)'
    """
    stage = interrupted_stage(exc)
    tried = _TRIED.get(stage, _TRIED["deciding equivalence"])
    return f"the time budget of {exc.seconds:g} s ran out while {stage} (tried: {tried})"


def unknown_result(exc: Timeout, *, wrt, candidate: str, convention: str, assumptions=()):
    """The ``unknown`` :class:`~derivcheck.decide.verdict.Result` a command answers with when
    its budget ran out.

    >>> r = unknown_result(Timeout(1), wrt="w1", candidate="x", convention="any")
    >>> r.verdict, r.exit_code, r.method
    ('unknown', 3, 'none')
    """
    from .decide.verdict import Result
    return Result(verdict="unknown", wrt=wrt or "?", candidate=candidate, gradient="",
                  method="none", kink_convention=convention, assumptions=list(assumptions),
                  reason=timeout_reason(exc), source=candidate, elapsed=exc.seconds)
