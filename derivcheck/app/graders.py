"""Grader back ends: one student's batch results as Gradescope or PrairieLearn files.

``derivcheck batch IN.jsonl -o results.json --format gradescope|prairielearn [--score P]``
grades every answer (one JSONL line each, CONTRACT section 2) and writes one test per
non-blank input line, in input order, named by the answer's id (``line N`` for a line
that could not be read; a name two lines share gets its line, ``q1 (line 4)``), with the
verdict, the counterexample and the diagnosis in its output:

* Gradescope's autograder ``results.json``: ``score`` (points), ``tests`` of
  ``{name, score, max_score, status, output, visibility, tags}``; an answer that cannot
  be read shows the reading error with the caret under the formula.
* PrairieLearn's external grader results: ``score`` in [0, 1] and ``tests`` of
  ``{name, points, max_points, message, output}``; when an answer cannot be read the
  submission is ``"gradable": false`` with the reading errors in ``format_errors``, so a
  typo costs the student nothing.

The score policy says what each verdict earns, as a fraction of the answer's point:
``equivalent=1,equivalent_almost_everywhere=1,not_equivalent=0,unknown=flag,error=flag``
(the default). ``flag`` means not graded automatically: the answer earns nothing until a
person looks, its test is tagged ``needs_review`` and the summary names it.

>>> policy = parse_policy("not_equivalent=0.25")
>>> policy["not_equivalent"], policy["unknown"]
(0.25, 'flag')
>>> out = gradescope([{"id": "q1", "verdict": "equivalent", "wrt": "w1", "candidate": "x",
...                    "gradient": "x", "diagnosis": [], "counterexample": None}], {})
>>> out["score"], out["tests"][0]["status"]
(1.0, 'passed')
"""
from __future__ import annotations

import json
import tempfile
from collections import Counter
from pathlib import Path

from ..errors import DerivcheckError, ParseError

__all__ = ["parse_policy", "gradescope", "prairielearn", "grade_to_file", "DEFAULT_POLICY",
           "FORMATS", "READING_ERRORS"]

#: What each verdict earns by default (a fraction of the answer's point, or "flag").
DEFAULT_POLICY = {"equivalent": 1.0, "equivalent_almost_everywhere": 1.0,
                  "not_equivalent": 0.0, "unknown": "flag", "error": "flag"}

#: Error kinds that mean "the answer could not be read" (the student's typo, not ours).
READING_ERRORS = ("parse_error", "unknown_name", "limit_exceeded", "assumption_error")

FORMATS = ("gradescope", "prairielearn")


class PolicyError(DerivcheckError):
    """A --score policy that cannot be read."""

    kind = "invalid_policy"


def parse_policy(text: str | None) -> dict:
    """The policy ``verdict=value,...`` over the defaults; a value is a number in [0, 1]
    or ``flag``.

    >>> parse_policy("unknown=0, error=flag")["unknown"]
    0.0
    >>> parse_policy("wrong=1")
    Traceback (most recent call last):
    ...
    derivcheck.app.graders.PolicyError: error: unknown verdict 'wrong' in the score policy at column 1
      wrong=1
      ^
    hint: verdicts: equivalent, equivalent_almost_everywhere, not_equivalent, unknown, error
    """
    policy = dict(DEFAULT_POLICY)
    if not text:
        return policy
    at = 0
    for part in text.split(","):
        start = at + len(part) - len(part.lstrip())
        at += len(part) + 1
        key, sep, value = (s.strip() for s in part.partition("="))
        if key not in policy:
            raise PolicyError(f"unknown verdict {key!r} in the score policy", text=text,
                              position=start, hint="verdicts: " + ", ".join(policy))
        if not sep:
            raise PolicyError(f"{key} needs a value: {key}=1, {key}=0.5 or {key}=flag",
                              text=text, position=start)
        if value == "flag":
            policy[key] = "flag"
            continue
        try:
            number = float(value)
        except ValueError:
            number = -1.0
        if not 0.0 <= number <= 1.0:
            raise PolicyError(f"the score of {key} must be a number from 0 to 1 or 'flag'",
                              text=text, position=start)
        policy[key] = number
    return policy


# -- one answer in words ---------------------------------------------------------------------

def _reading_error(record: dict, source: str | None) -> str:
    """The error as the CLI prints it, with the caret under the formula."""
    err = record["error"]
    text = source if err.get("kind") in ("parse_error", "unknown_name") else None
    return ParseError(err.get("message", ""), text=text, position=err.get("position"),
                      hint=err.get("hint"), suggestion=err.get("suggestion")).render()


def _explain(record: dict, source: str | None) -> str:
    """What the student sees about one answer."""
    if "error" in record:
        return _reading_error(record, source)
    lines = [f"verdict: {record['verdict']}", f"your formula (read as): {record['candidate']}"]
    cx = record.get("counterexample")
    if cx and cx.get("matrices"):
        lines += _matrix_counterexample(cx)
    elif cx:
        point = ", ".join(f"{k} = {v}" for k, v in cx["point"].items())
        lines += [f"counterexample: at {point}",
                  f"  your formula gives {cx['candidate']}, the gradient is {cx['expected']}"]
    for d in record.get("diagnosis") or []:
        lines.append(f"diagnosis ({d['kind']}): {d['message']}")
    if record.get("reason"):
        lines.append(f"why: {record['reason']}")
    if record["verdict"] == "equivalent_almost_everywhere" and record.get("kink_point"):
        kp = record["kink_point"]
        point = ", ".join(f"{k} = {v}" for k, v in kp["point"].items())
        lines.append(f"differs only at kinks, e.g. at {point}")
    return "\n".join(lines)


def _matrix_counterexample(cx: dict) -> list[str]:
    """The sizes, each matrix on a line, and the entry that differs; a formula whose
    shapes do not fit is shown by its shape against the gradient's, not by values.

    >>> print("\\n".join(_matrix_counterexample({"sizes": {"m": 2}, "entry": "dW1[1,1]",
    ...     "matrices": {"X": [["0", "1"], ["1/2", "0"]]}, "candidate": "1/4",
    ...     "expected": "1/8"})))
    counterexample: at sizes m = 2, with
      X = [0 1; 1/2 0]
      dW1[1,1]: your formula gives 1/4, the gradient is 1/8
    >>> _matrix_counterexample({"sizes": {"m": 2}, "entry": "dW1 (shape)", "matrices": {},
    ...     "candidate": "[1 2 3]", "expected": "[1; 2; 3]",
    ...     "shape": {"candidate": [1, 3], "expected": [3, 1]}})[-1]
    '  dW1 (shape): your formula gives a 1 x 3 matrix, the gradient is a 3 x 1 matrix'
    """
    sizes = ", ".join(f"{k} = {v}" for k, v in cx.get("sizes", {}).items())
    lines = [f"counterexample: at sizes {sizes or 'as given'}, with"]
    lines += [f"  {name} = [" + "; ".join(" ".join(row) for row in rows) + "]"
              for name, rows in cx["matrices"].items()]
    candidate, expected = cx["candidate"], cx["expected"]
    shape = cx.get("shape")
    if isinstance(shape, dict):
        if shape.get("candidate") is not None:
            candidate = _shape_words(shape["candidate"])
        expected = _shape_words(shape["expected"])
    elif cx.get("entry", "").endswith("(shape)") and expected.startswith("["):
        rows = expected.strip("[]").split("; ")   # a record written before "shape" was
        expected = f"a {len(rows)} x {len(rows[0].split())} matrix"
    return lines + [f"  {cx.get('entry', 'the entry')}: your formula gives {candidate}, "
                    f"the gradient is {expected}"]


def _shape_words(dims: list) -> str:
    """``[4, 3]`` as words.

    >>> _shape_words([4, 3]), _shape_words([5]), _shape_words([])
    ('a 4 x 3 matrix', 'a vector of 5 entries', 'a number')
    """
    if len(dims) == 2:
        return f"a {dims[0]} x {dims[1]} matrix"
    return f"a vector of {dims[0]} entries" if dims else "a number"


def _earned(record: dict, policy: dict):
    """A fraction of the point, or "flag"."""
    return policy["error" if "error" in record else record["verdict"]]


def _names(records: list) -> list[str]:
    """Each record's test name: its id (a string as it is, a number or a blank string as
    JSON), or ``line N`` for a line that could not be read; a name two records share
    (``7`` and ``"7"``, a repeated id) gets its line, ``dup (line 4)``, so none hides
    another.

    >>> _names([{"id": "a", "line": 1}, {"id": None, "line": 2}, {"id": 7, "line": 3},
    ...         {"id": "7", "line": 4}])
    ['a', 'line 2', '7 (line 3)', '7 (line 4)']
    """
    def plain(record):
        ident = record.get("id")
        if ident is None and isinstance(record.get("line"), int):
            return f"line {record['line']}"
        return ident if isinstance(ident, str) and ident.strip() else json.dumps(ident)

    names = [plain(r) for r in records]
    count = Counter(names)
    return [f"{name} (line {r['line']})" if count[name] > 1 and isinstance(r.get("line"), int)
            else name for name, r in zip(names, records)]


# -- the formats --------------------------------------------------------------------------------

def gradescope(records: list, sources: dict, policy: dict | None = None,
               visibility: str = "visible") -> dict:
    """Gradescope's ``results.json`` for ``records`` (batch output lines, in order);
    ``sources`` maps an input line number to the formula as typed (for the caret)."""
    policy = policy or DEFAULT_POLICY
    tests, flagged, total = [], [], 0.0
    for record, name in zip(records, _names(records)):
        earned = _earned(record, policy)
        output = _explain(record, sources.get(record.get("line")))
        test = {"name": name, "max_score": 1.0, "visibility": visibility}
        if earned == "flag":
            flagged.append(name)
            test.update(score=0.0, status="failed", tags=["needs_review"],
                        output="Not graded automatically: a person will look at this "
                               "answer.\n" + output)
        else:
            total += earned
            test.update(score=earned, status="passed" if earned >= 1.0 else "failed",
                        output=output)
        tests.append(test)
    out = {"score": total, "output": _summary(len(records), flagged),
           "visibility": visibility, "tests": tests}
    if flagged:
        out["extra_data"] = {"needs_review": flagged}
    return out


def prairielearn(records: list, sources: dict, policy: dict | None = None) -> dict:
    """PrairieLearn's external grader results for ``records`` (see :func:`gradescope`)."""
    policy = policy or DEFAULT_POLICY
    names = _names(records)
    unreadable = [(r, name) for r, name in zip(records, names)
                  if "error" in r and r["error"].get("kind") in READING_ERRORS]
    if unreadable:
        return {"gradable": False,
                "format_errors": [f"{name}: " + _reading_error(r, sources.get(r.get("line")))
                                  for r, name in unreadable]}
    tests, flagged, total = [], [], 0.0
    for record, name in zip(records, names):
        earned = _earned(record, policy)
        test = {"name": name, "max_points": 1,
                "output": _explain(record, sources.get(record.get("line")))}
        if earned == "flag":
            flagged.append(name)
            test.update(points=0, message="Not graded automatically: a person will look "
                                          "at this answer.")
        else:
            total += earned
            test.update(points=earned, message=record["verdict"].replace("_", " "))
        tests.append(test)
    return {"gradable": True, "score": total / len(records) if records else 0.0,
            "message": _summary(len(records), flagged), "tests": tests}


def _summary(count: int, flagged: list) -> str:
    text = f"{count} answer{'s' * (count != 1)} checked by derivcheck."
    if flagged:
        text += (f" Not graded automatically, for a person to look at: "
                 f"{', '.join(flagged)}.")
    return text


# -- the command ------------------------------------------------------------------------------

def _sources(in_path: Path) -> dict:
    """Input line number -> the candidate as typed, read as the batch reads the lines
    (:func:`~derivcheck.app.batch_files.read_lines`: the same numbering, BOM and all)."""
    from .batch_files import read_lines
    return {line.number: line.item["candidate"] for line in read_lines(in_path)
            if line.item is not None and isinstance(line.item.get("candidate"), str)}


def grade_to_file(in_path, out_path, fmt: str, *, policy: dict | None = None, jobs: int = 1,
                  timeout: float | None = None, progress=None):
    """Grade ``in_path`` (a batch input) and write the ``fmt`` results to ``out_path``;
    returns the batch :class:`~derivcheck.app.batch.Summary`."""
    from ..write.files import check_writable, same_file, write_atomic
    from .batch import run_batch
    from .batch_files import BatchError
    in_path, out_path = Path(in_path), Path(out_path)
    if out_path.exists() and same_file(in_path, out_path):
        raise BatchError(f"the output {str(out_path)!r} is the input file",
                         hint="write the results to another file, e.g. results.json")
    check_writable(out_path)
    options = {} if timeout is None else {"timeout": timeout}
    with tempfile.TemporaryDirectory(prefix="derivcheck-grader-") as tmp:
        lines = Path(tmp) / "records.jsonl"
        summary = run_batch(in_path, lines, jobs=jobs, progress=progress, **options)
        records = [json.loads(line) for line in lines.read_text().splitlines() if line]
    records.sort(key=lambda r: r["line"])
    sources = _sources(in_path)
    result = (gradescope(records, sources, policy) if fmt == "gradescope"
              else prairielearn(records, sources, policy))
    write_atomic(out_path, json.dumps(result, indent=1) + "\n")
    return summary
