"""A grading function that misbehaves on purpose, for the fault-injection tests: workers
import it by name, so it lives in a module of its own."""
import os
import signal
import time

from derivcheck.app.batch import grade_item


def grade(entry: dict, timeout: float) -> dict:
    """Grades like the real thing, except for candidates that hang past every alarm
    (``HANG``) or kill their own process (``CRASH``)."""
    if entry.get("candidate") == "HANG":
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(3600)
    if entry.get("candidate") == "CRASH":
        os.kill(os.getpid(), signal.SIGKILL)
    return grade_item(entry, timeout)
