"""Worker processes for the server: hard time limits, crashes kept to one request.

The server's event loop never grades anything itself. Each request's job goes to one of
``size`` worker processes (forked from a forkserver that has imported derivcheck, so a
replacement starts in a few milliseconds). A worker grades in its main thread, where
``SIGALRM`` budgets work; if it still has not answered ``hard_timeout`` seconds later it is
killed and replaced, and that request alone gets :data:`TIMED_OUT`; a worker that dies
(a segfault, the memory limit) answers :data:`CRASHED` for its request only. Requests
beyond ``size`` wait in line for an idle worker.

>>> import asyncio
>>> async def demo():
...     async with Pool(1, timeout=5) as pool:
...         return await pool.run(("gradient", {"network": {"weights": ["w1"]}}, {}))
>>> status, (code, body) = asyncio.run(demo())
>>> status, code, body["gradients"]
('ok', 200, {'w1': 'dC/dz1*x'})
"""
from __future__ import annotations

import asyncio
import multiprocessing
import time
from concurrent.futures import ThreadPoolExecutor

from .. import limits
from ..workers import serve

__all__ = ["Pool", "TIMED_OUT", "CRASHED"]

#: What :meth:`Pool.run` answers for a job whose worker was killed at the hard limit...
TIMED_OUT = "timed_out"
#: ...and for a job whose worker died.
CRASHED = "crashed"


def _context():
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if ctx.get_start_method() == "forkserver":
        ctx.set_forkserver_preload(["derivcheck.serve.grading", "derivcheck.decide.check",
                                    "derivcheck.parsing", "derivcheck.write.latex"])
    return ctx


class _Worker:
    def __init__(self, ctx, handler, timeout: float):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=serve, args=(child, handler, timeout), daemon=True)
        self.proc.start()
        child.close()

    def wait_ready(self, seconds: float) -> bool:
        try:
            return self.conn.poll(seconds) and self.conn.recv() == "ready"
        except (EOFError, OSError):
            return False

    def ask(self, job, seconds: float):
        """(status, answer) of ``job``, or (TIMED_OUT | CRASHED, None); blocking."""
        try:
            self.conn.send(job)
            deadline = time.monotonic() + seconds
            while not self.conn.poll(min(0.5, max(0.0, deadline - time.monotonic()))):
                if not self.proc.is_alive():
                    return CRASHED, None
                if time.monotonic() >= deadline:
                    return TIMED_OUT, None
            return "ok", self.conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            return CRASHED, None

    def stop(self) -> None:
        self.proc.kill()
        self.proc.join()
        self.conn.close()


class Pool:
    """``size`` worker processes grading jobs with a budget of ``timeout`` seconds each;
    a worker silent ``grace`` seconds past the budget (and its slack) is killed.
    ``handler(job, timeout)`` answers one job in a worker: a module-level function, so
    workers can import it (default :func:`derivcheck.serve.grading.run_job`).

    Use it as ``async with Pool(...) as pool`` (or :meth:`start` and :meth:`close`);
    :meth:`run` answers ``("ok", (http_status, payload))``, ``(TIMED_OUT, None)`` or
    ``(CRASHED, None)``.
    """

    def __init__(self, size: int, timeout: float = limits.DEFAULT_TIMEOUT, *,
                 grace: float = limits.BATCH_GRACE, handler=None):
        from .grading import run_job
        self.size = max(1, size)
        self.timeout = timeout
        self.hard_timeout = timeout + 2 * limits.TIMEOUT_SLACK + grace
        self.handler = handler or run_job
        self._ctx = _context()
        self._idle: asyncio.Queue | None = None
        self._threads = ThreadPoolExecutor(max_workers=self.size + 1,
                                           thread_name_prefix="derivcheck-pool")
        self._workers: set[_Worker] = set()
        self.replaced = 0

    async def start(self) -> "Pool":
        self._idle = asyncio.Queue()
        started = await asyncio.gather(*(self._spawn() for _ in range(self.size)))
        if not all(started):
            await self.close()
            raise RuntimeError("the worker processes could not start")
        return self

    async def _spawn(self) -> bool:
        loop = asyncio.get_running_loop()
        worker = await loop.run_in_executor(self._threads, _Worker, self._ctx, self.handler,
                                            self.timeout)
        if await loop.run_in_executor(self._threads, worker.wait_ready, 60.0):
            self._workers.add(worker)
            self._idle.put_nowait(worker)
            return True
        worker.stop()
        return False

    async def run(self, job):
        """The answer to ``job``; waits for an idle worker first."""
        loop = asyncio.get_running_loop()
        worker = await self._idle.get()
        try:
            status, answer = await loop.run_in_executor(self._threads, worker.ask, job,
                                                        self.hard_timeout)
        except BaseException:  # cancelled while it worked: its answer would be stale
            self._replace(worker)
            raise
        if status == "ok":
            self._idle.put_nowait(worker)
        else:
            self._replace(worker)
        return status, answer

    def _replace(self, worker: _Worker) -> None:
        self._workers.discard(worker)
        worker.stop()
        self.replaced += 1
        asyncio.get_running_loop().create_task(self._spawn())

    @property
    def idle(self) -> int:
        """Workers waiting for a job."""
        return self._idle.qsize() if self._idle is not None else 0

    async def close(self) -> None:
        for worker in list(self._workers):
            worker.stop()
        self._workers.clear()
        self._threads.shutdown(wait=False, cancel_futures=True)

    async def __aenter__(self) -> "Pool":
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.close()
