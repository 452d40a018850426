"""The loop of a worker process, shared by batch grading (:mod:`derivcheck.app.batch`)
and the server's pool (:mod:`derivcheck.serve.pool`).

A worker ignores Ctrl-C (its parent handles it), caps its address space at
:data:`~derivcheck.limits.WORKER_MEMORY` (a runaway item fails alone), says ``"ready"``,
then answers each job it receives with ``handler(job, timeout)`` until the pipe closes.
Its main thread does the work, so ``SIGALRM`` budgets (:mod:`derivcheck.guard`) apply.

>>> import multiprocessing
>>> parent, child = multiprocessing.Pipe()
>>> p = multiprocessing.get_context("forkserver").Process(target=serve, args=(child, divmod, 7))
>>> p.start(); parent.recv()
'ready'
>>> parent.send(100); parent.recv()
(14, 2)
>>> p.kill(); p.join()
"""
from __future__ import annotations

import signal

from . import limits

__all__ = ["serve"]


def _limit_memory() -> None:
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY or soft > limits.WORKER_MEMORY:
        resource.setrlimit(resource.RLIMIT_AS, (limits.WORKER_MEMORY, hard))


def serve(conn, handler, timeout: float) -> None:
    """Run as a worker process on the pipe end ``conn``: answer every job with
    ``handler(job, timeout)`` until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _limit_memory()
    conn.send("ready")
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        conn.send(handler(job, timeout))
