"""Grade many submissions: JSON lines in, JSON lines out (``derivcheck batch``).

Each input line is ``{"id": ..., "network": {...}, "wrt": ..., "candidate": ...,
"assume": [...], "kink_convention": ...}``; each output line is ``{"id": ..., "line": N,
<the check JSON>}`` or ``{"id": ..., "line": N, "error": {...}}`` (CONTRACT section 2).
Submissions are graded in worker processes: one that runs past its time budget, or kills
its process, gets an error record (kind ``timeout`` or ``crash``) and its worker is
replaced; no other submission is lost. Records are written and flushed as they finish, so
a killed run keeps everything done so far, and a re-run grades only the lines still
missing (:mod:`derivcheck.app.batch_files`): after any sequence of kills and resumes the
output holds exactly one record per non-blank input line.

Error kinds of the batch itself: ``invalid_json`` (a line that is no JSON object; its id
is null), ``invalid_item`` (missing or mistyped fields; a line without a usable id has id
null), ``duplicate_id`` (the later of two lines with one id, on every run),
``limit_exceeded`` (a line past the size limit), ``timeout``, ``crash``,
``internal_error``; the other kinds are the ``check`` command's (``parse_error``,
``network_error``, ...). Blank lines are skipped.

>>> import json, tempfile, pathlib
>>> tmp = pathlib.Path(tempfile.mkdtemp())
>>> net = {"weights": ["w1"], "activations": "relu"}
>>> lines = [{"id": "a", "network": net, "wrt": "w1", "candidate": "x*(relu(w1*x)-y)*step(w1*x)"},
...          {"id": "b", "network": net, "wrt": "w1", "candidate": "x*(y-relu(w1*x))"}]
>>> _ = (tmp / "in.jsonl").write_text("\\n".join(map(json.dumps, lines)) + "\\n{oops\\n")
>>> summary = run_batch(tmp / "in.jsonl", tmp / "out.jsonl", progress=False)
>>> sorted(summary.verdicts.items()), dict(summary.errors)
([('equivalent', 1), ('not_equivalent', 1)], {'invalid_json': 1})
>>> run_batch(tmp / "in.jsonl", tmp / "out.jsonl", progress=False).skipped
3
"""
from __future__ import annotations

import heapq
import json
import multiprocessing
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from multiprocessing.connection import wait
from pathlib import Path

from .. import limits
from ..errors import DerivcheckError
from ..guard import budget
from ..workers import serve
from .batch_files import BatchError, Output, count_lines, error_record, read_lines
from .fields import INTEGER, TABLE, TEXT, TEXTS, Field, validate

__all__ = ["run_batch", "grade_item", "Summary", "BatchError", "FIELDS", "INPUT_FORMAT"]

#: The fields of an input line (the id is checked when the line is read).
ITEM = (
    Field("id", (TEXT, INTEGER), about="the submission's id, checked when its line is read"),
    Field("network", TABLE, required=True, about="the fields of a network file"),
    Field("wrt", TEXT, about="the parameter, e.g. \"w1\""),
    Field("candidate", TEXT, required=True, about="the formula"),
    Field("assume", TEXTS, about='conditions such as "x > 0"'),
    Field("kink_convention", TEXT, about='"any", "torch", "0", ...'),
)
FIELDS = tuple(f.name for f in ITEM)

#: What ``derivcheck batch --help`` and the README say about the input.
INPUT_FORMAT = """\
input: one JSON object per line (blank lines are skipped):
  {"id": "s17", "network": {"weights": ["w1", "w2"], "activations": "relu"},
   "wrt": "w1", "candidate": "(relu(w2*relu(w1*x)) - y)*...", "assume": ["x > 0"],
   "kink_convention": "any"}
  id          a string or an integer, unique in the file (required)
  network     the fields of a network file: weights, activations, biases, widths, forward,
              shape, input, target, loss, upstream, define, batch, style, reduce, labels
              (required; matrix equations: {"forward": ["Z1 = W1 @ X + b1", ...],
              "shape": {"X": "n0,m", "W1": "n1,n0"}})
  candidate   the formula, plain or LaTeX (required)
  wrt         the parameter (optional when the formula starts with dC/dw1 =)
  assume      a list of conditions, or one condition as a string (optional)
  kink_convention  any (default), 0, 1, 1/2, torch, jax, tensorflow (optional)

output: one JSON object per non-blank input line, in the order they finish:
  {"id": ..., "line": N, <the check JSON>} or {"id": ..., "line": N, "error": {...}}
  A line that cannot be read has "id": null; a repeated id is an error for the later line.
  Running the same command again grades only the lines not yet in the output."""


class ItemError(DerivcheckError):
    """An input line whose fields are missing or of the wrong type."""

    kind = "invalid_item"


# -- one submission (runs in a worker) -------------------------------------------------------

def _fields(item: dict):
    """(wrt, candidate, assumptions, convention) of an input line, type-checked."""
    given = {k: v for k, v in item.items() if v is not None or k in ("network", "candidate")}
    values = validate(given, ITEM, "the submission", ItemError)
    return (values.get("wrt"), values["candidate"], values.get("assume", []),
            values.get("kink_convention") or "any")


@lru_cache(maxsize=16)
def _network(fields_json: str):
    """Networks are shared by many submissions: build each once per worker."""
    from ..core.network import from_dict
    return from_dict(json.loads(fields_json))


def grade_item(item: dict, timeout: float = limits.DEFAULT_TIMEOUT) -> dict:
    """The output record of one input line, without its id: the check JSON or an error.

    >>> net = {"weights": ["w1"], "activations": "relu"}
    >>> item = {"id": 1, "network": net, "wrt": "w1", "candidate": "x*(relu(w1*x)-y)*step(w1*x)"}
    >>> grade_item(item)["verdict"]
    'equivalent'
    >>> grade_item({"id": 1, "network": {"weights": ["os.system"]}, "candidate": "1"})["error"]["kind"]
    'network_error'
    >>> grade_item({"id": 1, "network": net, "candidate": 3})["error"]["kind"]
    'invalid_item'
    """
    from ..decide.check import check, timed_out
    from ..guard import Timeout, time_limit
    stage = "reading the submission"
    try:
        with time_limit(timeout + limits.TIMEOUT_SLACK):
            wrt, candidate, assume, convention = _fields(item)
            stage = "building the network"
            net = _network(json.dumps(item["network"], sort_keys=True))
            stage = "starting the check"
            return check(net, candidate, wrt, assume=assume, convention=convention,
                         timeout=timeout).to_json()
    except Timeout as exc:  # as check answers when its own budget runs out: unknown
        exc.stage = exc.stage or stage
        wrt, text, conv = (item.get(k) for k in ("wrt", "candidate", "kink_convention"))
        return timed_out(exc, timeout, wrt=wrt if isinstance(wrt, str) else None,
                         candidate=text if isinstance(text, str) else "",
                         convention=conv if isinstance(conv, str) else "any").to_json()
    except DerivcheckError as err:
        return err.to_json()
    except RecursionError:
        return error_record("limit_exceeded", "the input is nested too deeply to process")
    except MemoryError:
        return error_record("limit_exceeded", "the submission needs more memory than allowed")
    except Exception as exc:  # a bug of ours: recorded, never fatal to the batch
        return error_record("internal_error", f"{type(exc).__name__}: {exc}")


class _Timed:
    """``grade`` that also says how many seconds it took (a picklable callable)."""

    def __init__(self, grade):
        self.grade = grade

    def __call__(self, item, timeout: float):
        start = time.monotonic()
        record = self.grade(item, timeout)
        return record, time.monotonic() - start


def _worker(conn, grade, timeout: float) -> None:
    """A worker process: grade the items it is sent until the pipe closes."""
    serve(conn, _Timed(grade), timeout)


def _key(ident) -> str:
    return json.dumps(ident, sort_keys=True)


# -- the run ------------------------------------------------------------------------------

@dataclass
class Summary:
    """Counts per verdict and per error kind, the slowest items, and the wall time."""

    verdicts: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    skipped: int = 0
    #: Error records among the skipped ones (written by an earlier run).
    skipped_errors: int = 0
    elapsed: float = 0.0
    _slow: list = field(default_factory=list)

    def add(self, ident, record: dict, seconds: float) -> None:
        """Count one output record that took ``seconds``."""
        if "error" in record:
            self.errors[record["error"]["kind"]] += 1
        else:
            self.verdicts[record["verdict"]] += 1
        if seconds > 0:
            heapq.heappush(self._slow, (seconds, self.graded, _key(ident)))
            if len(self._slow) > 5:
                heapq.heappop(self._slow)

    @property
    def graded(self) -> int:
        return sum(self.verdicts.values()) + sum(self.errors.values())

    @property
    def slowest(self) -> list[tuple[str, float]]:
        """The five slowest items as (id as JSON, seconds), slowest first."""
        return [(ident, s) for s, _, ident in sorted(self._slow, reverse=True)]

    def text(self) -> str:
        """What ``derivcheck batch`` prints.

        >>> s = Summary()
        >>> s.add("a", {"verdict": "equivalent"}, 0.5)
        >>> s.add(7, {"error": {"kind": "timeout"}}, 61.0)
        >>> print(s.text())
        2 submissions graded in 0.0 s (0 already in the output, skipped)
          equivalent                       1
          error: timeout                   1
        slowest: 7 (61.0 s), "a" (0.5 s)
        """
        lines = [f"{self.graded} submissions graded in {self.elapsed:.1f} s "
                 f"({self.skipped} already in the output, skipped)"]
        lines += [f"  {k:<30} {v:>3}" for k, v in sorted(self.verdicts.items())]
        lines += [f"  {'error: ' + k:<30} {v:>3}" for k, v in sorted(self.errors.items())]
        if self._slow:
            lines.append("slowest: " + ", ".join(f"{i} ({s:.1f} s)" for i, s in self.slowest))
        return "\n".join(lines)


class _Slot:
    """One worker process, and the line it is grading (``job``)."""

    def __init__(self, ctx, grade, timeout: float):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker, args=(child, grade, timeout), daemon=True)
        self.proc.start()
        child.close()
        self.ready = False
        self.job = None
        self.deadline = 0.0

    def give(self, job, seconds: float) -> None:
        self.job, self.deadline = job, time.monotonic() + seconds
        self.conn.send(job.item)

    def stop(self) -> None:
        self.proc.kill()
        self.proc.join()
        self.conn.close()


def _context():
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if ctx.get_start_method() == "forkserver":
        ctx.set_forkserver_preload(["derivcheck.app.batch", "derivcheck.decide.check",
                                    "derivcheck.parsing"])
    return ctx


def worker_count(jobs: int, todo: int) -> int:
    """Workers for ``jobs`` requested (0: one per core) and ``todo`` lines: never more
    than the cores this process may use, nor than the lines to grade, nor fewer than 1.

    >>> worker_count(1, 100), worker_count(64, 1), worker_count(0, 0)
    (1, 1, 1)
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
        os.cpu_count() or 1
    return max(1, min(jobs if jobs > 0 else cores, cores, todo))


def run_batch(in_path, out_path, *, jobs: int = 1, timeout: float = limits.DEFAULT_TIMEOUT,
              progress: bool | None = True, grade=grade_item) -> Summary:
    """Grade every line of ``in_path`` into ``out_path`` with up to ``jobs`` worker
    processes (0: one per core; see :func:`worker_count`).

    ``timeout`` is each submission's budget in seconds (positive, finite, at most
    :data:`~derivcheck.limits.MAX_TIMEOUT`); a worker that has not answered
    ``limits.TIMEOUT_SLACK + limits.BATCH_GRACE`` seconds later is killed.
    ``grade(item, timeout) -> record`` grades one line (a module-level function, so
    workers can import it).
    ``progress``: a tqdm bar on standard error (None: only on a terminal).
    Raises :class:`BatchError` when the batch cannot run at all, and
    :class:`~derivcheck.errors.OutputError` when the output cannot be written on (the
    records written so far stay whole; running again resumes).
    """
    from tqdm import tqdm
    try:
        timeout = budget(timeout)
    except ValueError as exc:
        raise BatchError(f"the timeout {exc}") from None
    if not isinstance(jobs, int) or jobs < 0:
        raise BatchError(f"the number of workers must be 0 (one per core) or more, not {jobs!r}")
    in_path = Path(in_path)
    if not in_path.is_file():
        raise BatchError(f"cannot read batch input {str(in_path)!r}: " + _not_a_file(in_path),
                         hint="save the lines to a file first: a batch reads its input "
                              "more than once (to resume)"
                         if in_path.exists() and not in_path.is_dir() else None)
    try:
        total = count_lines(in_path)
    except OSError as exc:
        raise BatchError(f"cannot read batch input {str(in_path)!r}: {exc.strerror}") from None
    started, summary = time.monotonic(), Summary()
    hard_timeout = timeout + limits.TIMEOUT_SLACK + limits.BATCH_GRACE
    out = Output(out_path, in_path)
    try:
        out.check_input(in_path)
    except BaseException:
        out.close()
        raise
    summary.skipped_errors = out.errors
    bar = tqdm(total=total, unit="line", file=sys.stderr,
               disable=None if progress is None else not progress)
    workers = worker_count(jobs, total - len(out.done))
    slots: list[_Slot] = []

    def write(line, record, seconds=0.0):
        out.write(line.ident, line.number, record)
        summary.add(line.ident if line.ident is not None else f"line {line.number}", record,
                    seconds)
        bar.update(1)

    def finish(slot, record, seconds):
        write(slot.job, record, seconds)
        slot.job = None

    try:
        jobs_left = _jobs(in_path, out, summary, write, bar)
        pending, ctx = next(jobs_left, None), _context()
        while pending is not None or any(s.job is not None for s in slots):
            idle = [s for s in slots if s.ready and s.job is None]
            while pending is not None and idle:
                idle.pop().give(pending, hard_timeout)
                pending = next(jobs_left, None)
            if pending is not None and len(slots) < workers:
                slots.append(_Slot(ctx, grade, timeout))
            busy = [s.deadline for s in slots if s.job is not None]
            wait([s.conn for s in slots] + [s.proc.sentinel for s in slots],
                 timeout=max(0.0, min(busy) - time.monotonic()) if busy else None)
            for slot in list(slots):
                if _collect(slot, finish, timeout, hard_timeout):
                    slots.remove(slot)
    finally:
        for slot in slots:
            slot.stop()
        bar.close()
        out.close()
    summary.elapsed = time.monotonic() - started
    return summary


def _not_a_file(path: Path) -> str:
    """Why ``path``, which is not a regular file, cannot be a batch input.

    >>> _not_a_file(Path("/")), _not_a_file(Path("/dev/null")), _not_a_file(Path("/no/such"))
    ('it is a folder', 'it is not a regular file (a pipe or a device)', 'no such file')
    """
    if path.is_dir():
        return "it is a folder"
    return "it is not a regular file (a pipe or a device)" if path.exists() else "no such file"


def _jobs(in_path: Path, out: Output, summary: Summary, write, bar):
    """Lines still to grade; bad, duplicate and done lines are written or counted on the
    way. Every line's id is registered, done or not, so a duplicate is found on every
    run."""
    first: dict[str, int] = {}
    last = 0
    for line in read_lines(in_path):
        bar.update(line.number - last - 1)  # the blank lines skipped
        last = line.number
        key = _key(line.ident) if line.ident is not None else None
        repeated = key is not None and key in first
        if key is not None and not repeated:
            first[key] = line.number
        done = line.number in out.done or (
            not repeated and key in out.legacy)
        if done:
            summary.skipped += 1
            bar.update(1)
        elif repeated:
            write(line, error_record("duplicate_id", f"line {line.number}: id {key} was "
                                     f"used by line {first[key]}"))
        elif line.error is not None:
            write(line, line.error)
        else:
            yield line
    bar.update(max(0, (bar.total or 0) - last))


_NOTHING = object()


def _collect(slot: _Slot, finish, timeout: float, hard_timeout: float) -> bool:
    """Take the slot's answer, or record its crash or timeout; True when the slot's
    worker is gone (and must be replaced)."""
    dead = False
    try:
        message = slot.conn.recv() if slot.conn.poll() else _NOTHING
    except (EOFError, OSError):
        message, dead = _NOTHING, True
    if message == "ready":
        slot.ready = True
    elif message is not _NOTHING:
        finish(slot, *message)
    elif dead or not slot.proc.is_alive():
        if not slot.ready:
            raise BatchError("a worker process could not start")
        slot.stop()
        if slot.job is not None:
            finish(slot, error_record("crash", "the worker grading this submission died "
                                      f"(exit code {slot.proc.exitcode})"), 0.0)
        return True
    if slot.job is not None and time.monotonic() > slot.deadline:
        slot.stop()
        finish(slot, error_record(
            "timeout", f"the time budget of {timeout:g} s ran out and grading did not stop "
            f"within {hard_timeout - timeout:g} s more, so its worker was stopped"),
            hard_timeout)
        return True
    return False
