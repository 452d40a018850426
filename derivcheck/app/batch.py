"""Grade many submissions: JSON lines in, JSON lines out (``derivcheck batch``).

Each input line is ``{"id": ..., "network": {...}, "wrt": ..., "candidate": ...,
"assume": [...], "kink_convention": ...}``; each output line is ``{"id": ..., <the check
JSON>}`` or ``{"id": ..., "error": {...}}`` (CONTRACT section 2). Submissions are graded in
worker processes: one that runs past its time budget, or kills its process, gets an
error record (kind ``timeout`` or ``crash``) and its worker is replaced; no other
submission is lost. Records are written and flushed as they finish, so a killed run
keeps everything done so far, and a re-run skips the ids already in the output (a
truncated last line is cut off first).

Error kinds of the batch itself: ``invalid_json`` (a line that is no JSON object; its id
is the line number unless an ``"id"`` can still be read), ``invalid_item`` (missing or
mistyped fields), ``duplicate_id``, ``timeout``, ``crash``, ``internal_error``; the
other kinds are the ``check`` command's (``parse_error``, ``network_error``, ...).
Blank lines are skipped.

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
import re
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from multiprocessing.connection import wait
from pathlib import Path

from .. import limits
from ..errors import DerivcheckError

__all__ = ["run_batch", "grade_item", "Summary", "BatchError"]

#: Fields an input line may have.
FIELDS = ("id", "network", "wrt", "candidate", "assume", "kink_convention")


class BatchError(DerivcheckError):
    """A batch that cannot run at all (unreadable input, workers that cannot start)."""

    kind = "batch_error"


class ItemError(DerivcheckError):
    """An input line whose fields are missing or of the wrong type."""

    kind = "invalid_item"


def _error(kind: str, message: str, position: int | None = None) -> dict:
    return {"error": {"kind": kind, "message": message, "position": position}}


# -- one submission (runs in a worker) -------------------------------------------------------

def _fields(item: dict):
    """(wrt, candidate, assumptions, convention) of an input line, type-checked."""
    unknown = sorted(set(item) - set(FIELDS))
    if unknown:
        raise ItemError(f"unknown field(s): {', '.join(map(repr, unknown))}",
                        hint="fields: " + ", ".join(FIELDS))
    if not isinstance(item.get("network"), dict):
        raise ItemError("'network' must be an object with the fields of a network file",
                        hint='e.g. "network": {"weights": ["w1", "w2"], "activations": "relu"}')
    candidate, wrt = item.get("candidate"), item.get("wrt")
    if not isinstance(candidate, str):
        raise ItemError("'candidate' must be a string (the formula)")
    if wrt is not None and not isinstance(wrt, str):
        raise ItemError("'wrt' must be a string (the parameter) or absent")
    assume = item.get("assume") or []
    assume = [assume] if isinstance(assume, str) else assume
    if not isinstance(assume, list) or not all(isinstance(a, str) for a in assume):
        raise ItemError("'assume' must be a list of strings such as \"x > 0\"")
    convention = item.get("kink_convention") or "any"
    if not isinstance(convention, str):
        raise ItemError("'kink_convention' must be a string such as \"any\" or \"torch\"")
    return wrt, candidate, assume, convention


@lru_cache(maxsize=16)
def _network(fields_json: str):
    """Networks are shared by many submissions: build each once per worker."""
    from ..core.network import from_dict
    return from_dict(json.loads(fields_json))


def grade_item(item: dict, timeout: float = limits.DEFAULT_TIMEOUT) -> dict:
    """The output record of one input line, without its id: the check JSON or an error.

    >>> net = {"weights": ["w1"], "activations": "relu"}
    >>> item = {"network": net, "wrt": "w1", "candidate": "x*(relu(w1*x)-y)*step(w1*x)"}
    >>> grade_item(item)["verdict"]
    'equivalent'
    >>> grade_item({"network": {"weights": ["os.system"]}, "candidate": "1"})["error"]["kind"]
    'network_error'
    >>> grade_item({"network": net, "candidate": 3})["error"]["kind"]
    'invalid_item'
    """
    from ..decide.check import check
    from ..guard import Timeout, time_limit, timeout_reason
    try:
        with time_limit(timeout + limits.TIMEOUT_SLACK):
            wrt, candidate, assume, convention = _fields(item)
            net = _network(json.dumps(item["network"], sort_keys=True))
            return check(net, candidate, wrt, assume=assume, convention=convention,
                         timeout=timeout).to_json()
    except Timeout as exc:
        return _error("timeout", timeout_reason(exc))
    except DerivcheckError as err:
        return err.to_json()
    except RecursionError:
        return _error("limit_exceeded", "the input is nested too deeply to process")
    except MemoryError:
        return _error("limit_exceeded", "the submission needs more memory than allowed")
    except Exception as exc:  # a bug of ours: recorded, never fatal to the batch
        return _error("internal_error", f"{type(exc).__name__}: {exc}")


def _worker(conn, grade, timeout: float) -> None:
    """A worker process: grade the items it is sent until the pipe closes."""
    import resource
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY or soft > limits.WORKER_MEMORY:
        resource.setrlimit(resource.RLIMIT_AS, (limits.WORKER_MEMORY, hard))
    conn.send("ready")
    while True:
        try:
            item = conn.recv()
        except (EOFError, OSError):
            return
        start = time.monotonic()
        record = grade(item, timeout)
        conn.send((record, time.monotonic() - start))


# -- input and output files ------------------------------------------------------------------

_ID = re.compile(r'"id"\s*:\s*("(?:[^"\\]|\\.){0,200}"|-?\d{1,30})')


def _key(ident) -> str:
    return json.dumps(ident, sort_keys=True)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def _read_line(number: int, raw: bytes):
    """(id, item, None) for a good line, (id, None, error record) for a bad one, None
    for a blank line."""
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        return number, None, _error("invalid_json", f"not UTF-8: {exc.reason}", exc.start)
    if not text.strip():
        return None
    try:
        obj = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        found = _ID.search(text)
        ident = json.loads(found.group(1)) if found else number
        return ident, None, _error("invalid_json", f"line {number}: {exc.msg}", exc.pos)
    except (ValueError, RecursionError) as exc:
        msg = str(exc) if isinstance(exc, ValueError) else "nested too deeply"
        return number, None, _error("invalid_json", f"line {number}: {msg}")
    if not isinstance(obj, dict):
        return number, None, _error("invalid_json", f"line {number}: expected a JSON object "
                                    "{\"id\": ..., \"network\": ..., \"candidate\": ...}", 0)
    return obj.get("id", number), obj, None


def _input_lines(path: Path):
    """(line number, bytes) of every line, a line past the limit as (number, None)."""
    with open(path, "rb") as fh:
        number = 0
        while raw := fh.readline(limits.MAX_BATCH_LINE + 1):
            number += 1
            if len(raw) > limits.MAX_BATCH_LINE and not raw.endswith(b"\n"):
                while raw and not raw.endswith(b"\n"):
                    raw = fh.readline(1 << 20)
                yield number, None
            else:
                yield number, raw


def _count_lines(path: Path) -> int:
    count, last = 0, b"\n"
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def _done_ids(path: Path) -> set[str]:
    """Keys of the ids already in OUT, after cutting off a truncated last line."""
    if not path.exists():
        return set()
    with open(path, "r+b") as fh:
        data = fh.read()
        cut = data.rfind(b"\n") + 1
        if cut < len(data):
            fh.truncate(cut)
    done = set()
    for line in data[:cut].splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and "id" in record:
            done.add(_key(record["id"]))
    return done


# -- the run ------------------------------------------------------------------------------

@dataclass
class Summary:
    """Counts per verdict and per error kind, the slowest items, and the wall time."""

    verdicts: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    skipped: int = 0
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
    """One worker process, and the submission it is grading (``job``)."""

    def __init__(self, ctx, grade, timeout: float):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker, args=(child, grade, timeout), daemon=True)
        self.proc.start()
        child.close()
        self.ready = False
        self.job = None
        self.deadline = 0.0

    def give(self, job, item, seconds: float) -> None:
        self.job, self.deadline = job, time.monotonic() + seconds
        self.conn.send(item)

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


def run_batch(in_path, out_path, *, jobs: int = 1, timeout: float = limits.DEFAULT_TIMEOUT,
              progress: bool | None = True, grade=grade_item) -> Summary:
    """Grade every line of ``in_path`` into ``out_path`` with ``jobs`` worker processes
    (0: one per CPU).

    ``timeout`` is each submission's budget in seconds; a worker that has not answered
    ``limits.TIMEOUT_SLACK + limits.BATCH_GRACE`` seconds later is killed.
    ``grade(item, timeout) -> record`` grades one line (a module-level function, so
    workers can import it).
    ``progress``: a tqdm bar on standard error (None: only on a terminal).
    """
    from tqdm import tqdm
    in_path, out_path = Path(in_path), Path(out_path)
    if not in_path.is_file():
        raise BatchError(f"cannot read batch input {str(in_path)!r}: no such file")
    started, summary = time.monotonic(), Summary()
    hard_timeout = timeout + limits.TIMEOUT_SLACK + limits.BATCH_GRACE
    done = _done_ids(out_path)
    bar = tqdm(total=_count_lines(in_path), unit="line", file=sys.stderr,
               disable=None if progress is None else not progress)
    workers = jobs if jobs > 0 else os.cpu_count() or 1
    slots: list[_Slot] = []
    with open(out_path, "a", encoding="utf-8") as out:
        def write(ident, record, seconds=0.0):
            out.write(json.dumps({"id": ident, **record}) + "\n")
            out.flush()
            summary.add(ident, record, seconds)
            bar.update(1)

        def finish(slot, record, seconds):
            write(slot.job, record, seconds)
            slot.job = None

        jobs_left = _jobs(in_path, done, summary, write, bar)
        pending, ctx = next(jobs_left, None), _context()
        try:
            while pending is not None or any(s.job is not None for s in slots):
                idle = [s for s in slots if s.ready and s.job is None]
                while pending is not None and idle:
                    idle.pop().give(pending[0], pending[1], hard_timeout)
                    pending = next(jobs_left, None)
                if pending is not None and len(slots) < workers:
                    slots.append(_Slot(ctx, grade, timeout))
                busy = [s.deadline for s in slots if s.job is not None]
                wait([s.conn for s in slots] + [s.proc.sentinel for s in slots],
                     timeout=max(0.0, min(busy) - time.monotonic()) if busy else None)
                for slot in list(slots):
                    if _collect(slot, finish, hard_timeout):
                        slots.remove(slot)
        finally:
            for slot in slots:
                slot.stop()
            bar.close()
    summary.elapsed = time.monotonic() - started
    return summary


def _jobs(in_path: Path, done: set, summary: Summary, write, bar):
    """Submissions still to grade, as (id, item); bad, duplicate and done lines are
    written or counted on the way."""
    seen = set()
    for number, raw in _input_lines(in_path):
        read = (_read_line(number, raw) if raw is not None else
                (number, None, _error("limit_exceeded", f"line {number} is longer than "
                                      f"{limits.MAX_BATCH_LINE} bytes", limits.MAX_BATCH_LINE)))
        if read is None:
            bar.update(1)
            continue
        ident, item, record = read
        key = _key(ident)
        if key in done:
            summary.skipped += 1
            bar.update(1)
        elif key in seen:
            write(ident, _error("duplicate_id", f"line {number}: id {key} was used by an "
                                "earlier line"))
        elif record is not None:
            seen.add(key)
            write(ident, record)
        else:
            seen.add(key)
            yield ident, item


_NOTHING = object()


def _collect(slot: _Slot, finish, timeout: float) -> bool:
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
            finish(slot, _error("crash", "the worker grading this submission died (exit "
                                f"code {slot.proc.exitcode})"), 0.0)
        return True
    if slot.job is not None and time.monotonic() > slot.deadline:
        slot.stop()
        finish(slot, _error("timeout", f"no answer within {timeout:g} s; the worker was "
                            "stopped"), timeout)
        return True
    return False
