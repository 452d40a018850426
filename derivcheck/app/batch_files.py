"""The files of ``derivcheck batch``: input lines read safely, the output written so that
no run, killed or resumed, loses or doubles a line (CONTRACT section 2).

Input: one JSON object per line. :func:`read_lines` gives every non-blank line as a
:class:`Line`: its number, its id, and either the item to grade or the error record it
gets. A line that cannot be read (not UTF-8, not JSON, not an object, no usable ``"id"``)
gets ``"id": null``: it never takes another submission's id. Numbers JSON cannot hold
(``NaN``, ``Infinity``, ``1e400``) make a line unreadable.

Output: :class:`Output` appends one record per line, each carrying ``"line"``, flushed as
it is written. Opening it cuts off a torn last line (a kill during a write), locks the file
against a second run, and lists the lines already done, so a resumed run writes exactly
the lines still missing; records that do not belong to the input (another file, or lines
moved since) stop the run rather than pass for its results. A write that fails (a full
disk) is undone to the last whole line before the error is raised.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "in.jsonl").write_text('{"id": "a"}\\n\\n{"id": "s1", oops\\n{"id": 1e400}\\n')
>>> for line in read_lines(d / "in.jsonl"):
...     print(line.number, line.ident, line.error and line.error["error"]["kind"])
1 a None
3 None invalid_json
4 None invalid_json
"""
from __future__ import annotations

import fcntl
import json
import math
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .. import limits
from ..errors import DerivcheckError, OutputError
from ..write.files import check_writable, output_error, same_file

__all__ = ["Line", "read_lines", "count_lines", "Output", "BatchError", "error_record"]


class BatchError(DerivcheckError):
    """A batch that cannot run at all (unreadable input, an output that is the input or
    cannot be written, workers that cannot start)."""

    kind = "batch_error"


def error_record(kind: str, message: str, position: int | None = None) -> dict:
    """``{"error": {...}}`` as the check command writes errors."""
    return {"error": {"kind": kind, "message": message, "position": position}}


@dataclass
class Line:
    """One non-blank input line: ``item`` to grade, or the ``error`` record it gets."""

    number: int
    ident: object = None
    item: dict | None = None
    error: dict | None = None


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is too large for JSON")
    return value


def _constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def valid_id(ident) -> bool:
    """Ids are strings (up to :data:`~derivcheck.limits.MAX_ID_LENGTH` characters) or
    integers (up to :data:`~derivcheck.limits.MAX_DIGITS` digits).

    >>> valid_id("s1"), valid_id(7), valid_id(1.5), valid_id(True), valid_id(None)
    (True, True, False, False, False)
    """
    if isinstance(ident, str):
        return len(ident) <= limits.MAX_ID_LENGTH
    return (isinstance(ident, int) and not isinstance(ident, bool)
            and len(str(abs(ident))) <= limits.MAX_DIGITS)


def _parse(number: int, raw: bytes, too_long: bool) -> Line | None:
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        return Line(number, error=error_record("invalid_json", f"line {number} is not UTF-8: "
                                               f"{exc.reason}", exc.start))
    if not text.strip():
        return None
    try:
        obj = json.loads(text, parse_constant=_constant, parse_float=_finite)
    except json.JSONDecodeError as exc:
        return Line(number, error=error_record(
            "invalid_json", f"line {number}, column {exc.colno}: "
            f"{exc.msg.removesuffix(' at')}", exc.pos))
    except (ValueError, RecursionError) as exc:
        msg = str(exc) if isinstance(exc, ValueError) else "nested too deeply"
        if "digits" in msg:
            msg = f"an integer with more than {limits.MAX_DIGITS} digits"
        return Line(number, error=error_record("invalid_json", f"line {number}: {msg}"))
    if not isinstance(obj, dict):
        return Line(number, error=error_record(
            "invalid_json", f'line {number}: expected a JSON object {{"id": ..., "network": '
            '..., "candidate": ...}', 0))
    ident = obj.get("id")
    if not valid_id(ident):
        what = "has no \"id\"" if "id" not in obj else "has an \"id\" that is neither a " \
            f"string (up to {limits.MAX_ID_LENGTH} characters) nor an integer (up to " \
            f"{limits.MAX_DIGITS} digits)"
        return Line(number, error=error_record("invalid_item", f"line {number} {what}"))
    if too_long:
        return Line(number, ident, error=error_record(
            "limit_exceeded", f"line {number} is longer than {limits.MAX_BATCH_LINE} bytes",
            limits.MAX_BATCH_LINE))
    return Line(number, ident, item=obj)


def read_lines(path):
    """Every non-blank line of ``path`` as a :class:`Line`, in order. A line longer than
    :data:`~derivcheck.limits.MAX_BATCH_LINE` is read only to find its id (up to
    :data:`~derivcheck.limits.MAX_BATCH_SCAN` bytes) and gets a ``limit_exceeded``
    record."""
    with open(path, "rb") as fh:
        number = 0
        while raw := fh.readline(limits.MAX_BATCH_LINE + 1):
            number += 1
            too_long = len(raw) > limits.MAX_BATCH_LINE and not raw.endswith(b"\n")
            if too_long:
                parts, size = [raw], len(raw)
                while parts[-1] and not parts[-1].endswith(b"\n"):
                    parts.append(fh.readline(1 << 20))
                    size += len(parts[-1])
                    if size > limits.MAX_BATCH_SCAN:
                        while raw and not raw.endswith(b"\n"):
                            raw = fh.readline(1 << 20)
                        parts = None
                        break
                if parts is None:
                    yield Line(number, error=error_record(
                        "limit_exceeded", f"line {number} is longer than "
                        f"{limits.MAX_BATCH_SCAN} bytes", limits.MAX_BATCH_LINE))
                    continue
                raw = b"".join(parts)
            line = _parse(number, raw, too_long)
            if line is not None:
                yield line


def count_lines(path) -> int:
    """Lines in ``path`` (a last line without a newline counts)."""
    count, last = 0, b"\n"
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


class Output:
    """The output file, opened for a run: locked, repaired, and what it already holds.

    ``done``: input line number -> the id (as JSON) of its record; ``legacy``: ids (as
    JSON) of records written before records carried ``"line"``. An output that is not a
    regular file (``/dev/null``, a pipe) is written on, never read, cut or locked: it
    holds nothing to resume.
    """

    def __init__(self, path, in_path):
        self.path = Path(path)
        if same_file(self.path, in_path):
            raise BatchError(f"the output {str(path)!r} is the input file itself",
                             hint="write the results to another file, e.g. -o results.jsonl")
        try:
            check_writable(self.path)
        except OutputError as err:
            raise BatchError(err.message, hint=err.hint) from None
        try:
            self.fh = open(self.path, "ab", buffering=0)
            self.regular = stat.S_ISREG(os.fstat(self.fh.fileno()).st_mode)
        except OSError as exc:
            raise BatchError(output_error(path, exc).message) from None
        try:
            if self.regular:
                fcntl.flock(self.fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.fh.close()
            raise BatchError(f"another batch run is writing {str(path)!r}",
                             hint="wait for it to finish, or write to another file") from None
        self.done: dict[int, str] = {}
        self.legacy: set[str] = set()
        self.errors = 0  # error records already in the file
        self.size = self._scan() if self.regular else 0

    def _scan(self) -> int:
        """Read the records already written; cut off a torn last line. Returns the size."""
        whole = 0
        with open(self.path, "rb") as reader:
            for raw in reader:
                if not raw.endswith(b"\n"):
                    break
                whole += len(raw)
                try:
                    record = json.loads(raw)
                except ValueError:
                    continue
                if not isinstance(record, dict):
                    continue
                self.errors += "error" in record
                key = json.dumps(record.get("id"), sort_keys=True)
                if isinstance(record.get("line"), int):
                    self.done[record["line"]] = key
                elif "id" in record:
                    self.legacy.add(key)
            end = reader.seek(0, os.SEEK_END)
        if end != whole:
            try:
                self.fh.truncate(whole)
            except OSError as exc:
                raise BatchError(output_error(self.path, exc).message) from None
        return whole

    def check_input(self, in_path) -> None:
        """Raise :class:`BatchError` unless every record already written belongs to the
        line of ``in_path`` it names (same number, same id): an output written for another
        input, or for lines since moved or changed, would otherwise be taken as done and
        those submissions never graded. Lines added at the end are fine (they are graded
        on the run)."""
        if not self.done:
            return
        seen = set()
        for line in read_lines(in_path):
            if line.number in self.done:
                seen.add(line.number)
                now = json.dumps(line.ident, sort_keys=True)
                if self.done[line.number] != now:
                    self._foreign(line.number, f"id {self.done[line.number]}",
                                  f"id {now}")
        for number in sorted(set(self.done) - seen)[:1]:
            self._foreign(number, f"id {self.done[number]}", "no submission")

    def _foreign(self, number: int, there: str, here: str) -> None:
        raise BatchError(
            f"{str(self.path)!r} holds results of another input: its record for line "
            f"{number} has {there}, but line {number} of the input has {here} (lines were "
            "moved, changed or removed since it was written)",
            hint="write to a new output file, or remove it to grade every line again")

    def write(self, ident, number: int, record: dict) -> None:
        """Append ``{"id", "line", **record}`` as one line, flushed; on failure the file is
        cut back to its last whole line and an :class:`OutputError` raised."""
        try:
            text = json.dumps({"id": ident, "line": number, **record}, allow_nan=False)
        except (ValueError, TypeError) as exc:
            text = json.dumps({"id": ident, "line": number, **error_record(
                "internal_error", f"the result could not be written as JSON: {exc}")})
        data = (text + "\n").encode("utf-8")
        try:
            view = memoryview(data)
            while view:
                view = view[self.fh.write(view):]
        except BrokenPipeError:   # a pipe closed by its reader (-o /dev/stdout | head)
            raise
        except OSError as exc:
            self._undo()
            kept = (f"; the {len(self.done)} records written before are kept whole, and "
                    "running the same command again resumes") if self.regular else ""
            raise output_error(self.path, exc, kept=kept) from None
        self.size += len(data)
        self.done[number] = json.dumps(ident, sort_keys=True)

    def _undo(self) -> None:
        if not self.regular:
            return
        try:
            self.fh.truncate(self.size)
        except OSError:
            pass

    def close(self) -> None:
        self.fh.close()
