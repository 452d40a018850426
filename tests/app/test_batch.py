"""``derivcheck batch``: one record per line, isolation of hangs and crashes, resuming."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from derivcheck import limits
from derivcheck.app.batch import BatchError, Summary, run_batch

from . import faulty
from .test_limits import ROOT, cli

CHAIN = {"weights": ["w1", "w2"], "activations": "relu"}
RIGHT = "(relu(w2*relu(w1*x)) - y)*step(w2*relu(w1*x))*w2*step(w1*x)*x"
WRONG = "(y - relu(w2*relu(w1*x)))*w2*x"


def item(ident, candidate=RIGHT, network=CHAIN, **extra):
    return {"id": ident, "network": network, "wrt": "w1", "candidate": candidate, **extra}


def write_lines(path: Path, lines) -> Path:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n"
                            for x in lines))
    return path


def records(path: Path) -> dict:
    """id (as JSON) -> record, for records with an id that are not duplicate errors;
    fails on a line written twice or an id graded twice."""
    out, lines = {}, set()
    for line in path.read_text().splitlines():
        record = json.loads(line)
        assert record["line"] not in lines, f"line {record['line']} written twice"
        lines.add(record["line"])
        if record["id"] is None or record.get("error", {}).get("kind") == "duplicate_id":
            continue
        key = json.dumps(record["id"])
        assert key not in out, f"id {key} graded twice"
        out[key] = record
    return out


MIXED = [
    item("right"), item("wrong", WRONG),
    item("latex", r"\frac{\partial C}{\partial w_1} = (ReLU(w_2 ReLU(w_1 x)) - y)"
                  r"\,Step(w_2 ReLU(w_1 x))\, w_2\, Step(w_1 x)\, x"),
    item("unknown-name", "q*x"), item("unclosed", "(x"),
    item("bad-network", network={"weights": ["os.system"]}),
    item("bad-field", kink_convention=3), item("typo", **{"kink-convention": "torch"}),
    item("limit", "9^9^9^9"), item(7, "x", assume=["x > 0"]),
    "{not json", '{"id": "torn", "network": {', "[1, 2]", "", "   ",
    item("right"),  # a duplicate id
]
EXPECTED = {
    '"right"': "equivalent", '"wrong"': "not_equivalent", '"latex"': "equivalent",
    '"unknown-name"': "error:unknown_name", '"unclosed"': "error:parse_error",
    '"bad-network"': "error:network_error", '"bad-field"': "error:invalid_item",
    '"typo"': "error:invalid_item", '"limit"': "error:limit_exceeded", "7": "not_equivalent",
}
#: Lines that cannot be read: id null (CONTRACT section 2), never a real id.
UNREADABLE = {11, 12, 13}


def outcome(record: dict) -> str:
    return f"error:{record['error']['kind']}" if "error" in record else record["verdict"]


@pytest.mark.parametrize("jobs", [1, 2])
def test_mixed_batch(tmp_path, jobs):
    src = write_lines(tmp_path / "in.jsonl", MIXED)
    summary = run_batch(src, tmp_path / "out.jsonl", jobs=jobs, timeout=30, progress=False)
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    assert len(lines) == len(MIXED) - 2  # blank lines are skipped
    found, by_line = {}, {}
    for line in lines:
        record = json.loads(line)
        assert list(record)[:2] == ["id", "line"]
        by_line[record["line"]] = record
        if record["id"] is not None:
            found.setdefault(json.dumps(record["id"]), []).append(outcome(record))
    assert sorted(by_line) == [n for n, x in enumerate(MIXED, 1) if x not in ("", "   ")]
    # the duplicate is the later line, whatever order the workers finish in
    assert outcome(by_line[1]) == "equivalent"
    assert outcome(by_line[len(MIXED)]) == "error:duplicate_id"
    assert sorted(found.pop('"right"')) == ["equivalent", "error:duplicate_id"]
    assert {k: v[0] for k, v in found.items()} == {k: v for k, v in EXPECTED.items()
                                                   if k != '"right"'}
    assert all(by_line[n]["id"] is None and outcome(by_line[n]) == "error:invalid_json"
               for n in UNREADABLE)
    assert summary.verdicts == {"equivalent": 2, "not_equivalent": 2}
    assert summary.errors["invalid_json"] == 3 and summary.errors["duplicate_id"] == 1
    assert summary.graded == len(lines) and summary.skipped == 0
    assert len(summary.slowest) == 5


def test_records_carry_the_check_json(tmp_path):
    src = write_lines(tmp_path / "in.jsonl", [item("wrong", WRONG), item("bad", "(x")])
    run_batch(src, tmp_path / "out.jsonl", progress=False)
    out = records(tmp_path / "out.jsonl")
    wrong = out['"wrong"']
    assert wrong["counterexample"]["point"] and wrong["diagnosis"]
    assert wrong["kink_convention"] == "any" and wrong["wrt"] == "w1"
    bad = out['"bad"']["error"]
    assert bad["kind"] == "parse_error" and bad["position"] == 0 and bad["message"]


def test_rerun_skips_what_is_done(tmp_path):
    src = write_lines(tmp_path / "in.jsonl", MIXED)
    out = tmp_path / "out.jsonl"
    run_batch(src, out, progress=False)
    before = out.read_text()
    again = run_batch(src, out, progress=False)
    assert out.read_text() == before
    assert again.graded == 0 and again.skipped == len(MIXED) - 2  # all but the blank lines


def test_new_lines_are_graded_on_a_rerun(tmp_path):
    out = tmp_path / "out.jsonl"
    run_batch(write_lines(tmp_path / "in.jsonl", [item("a")]), out, progress=False)
    summary = run_batch(write_lines(tmp_path / "in.jsonl", [item("a"), item("b", WRONG)]), out,
                        progress=False)
    assert summary.skipped == 1 and summary.verdicts == {"not_equivalent": 1}
    assert set(records(out)) == {'"a"', '"b"'}


def test_a_torn_last_line_is_repaired(tmp_path):
    src = write_lines(tmp_path / "in.jsonl", [item("a"), item("b"), item("c")])
    out = tmp_path / "out.jsonl"
    out.write_text(json.dumps({"id": "a", "line": 1, "verdict": "equivalent"}) + "\n"
                   + '{"id": "b", "line": 2, "verdict": "equiv')
    summary = run_batch(src, out, progress=False)
    assert summary.skipped == 1 and summary.graded == 2
    assert set(records(out)) == {'"a"', '"b"', '"c"'}


def test_hostile_lines(tmp_path):
    long_line = json.dumps(item("long", "x" + "+x" * (limits.MAX_BATCH_LINE // 2)))
    lines = [long_line, "[" * 100_000 + "]" * 100_000, '{"id": NaN}', '{"id": "n", "x": Infinity}',
             '"just a string"', "null", '{"id": {"nested": [1]}}']
    src = write_lines(tmp_path / "in.jsonl", lines)
    with open(src, "ab") as fh:
        fh.write(b'{"id": "\xff\xfe"}\n')
    lines.append("not UTF-8")
    start = time.monotonic()
    summary = run_batch(src, tmp_path / "out.jsonl", progress=False)
    assert time.monotonic() - start < 30
    out = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert len(out) == len(lines)
    # the long line is read for its id only
    assert out[0]["id"] == "long" and out[0]["error"]["kind"] == "limit_exceeded"
    assert [r["id"] for r in out[1:]] == [None] * (len(lines) - 1)
    assert all("error" in r for r in out)
    assert summary.errors["limit_exceeded"] == 1


def test_summary_text():
    s = Summary()
    for i, seconds in enumerate([0.1, 5.0, 0.2, 3.0, 0.3, 4.0, 0.4]):
        s.add(f"s{i}", {"verdict": "equivalent"}, seconds)
    s.add("t", {"error": {"kind": "timeout"}}, 9.0)
    text = s.text()
    assert "8 submissions" in text and "error: timeout" in text
    assert [ident for ident, _ in s.slowest] == ['"t"', '"s1"', '"s5"', '"s3"', '"s6"']


def test_missing_input_file(tmp_path):
    with pytest.raises(BatchError):
        run_batch(tmp_path / "nope.jsonl", tmp_path / "out.jsonl", progress=False)


def test_progress_bar_on_stderr(tmp_path, capsys):
    src = write_lines(tmp_path / "in.jsonl", [item("a"), "{bad"])
    run_batch(src, tmp_path / "out.jsonl", progress=True)
    assert "2/2" in capsys.readouterr().err


# -- hangs, crashes, timeouts ------------------------------------------------------------

@pytest.mark.parametrize("jobs", [1, 2])
def test_hangs_and_crashes_lose_nothing_else(tmp_path, jobs, monkeypatch):
    monkeypatch.setattr(limits, "BATCH_GRACE", 1.0)
    lines = [item("h", "HANG"), item("a"), item("c", "CRASH"), item("b", WRONG),
             item("h2", "HANG"), item("d")]
    src = write_lines(tmp_path / "in.jsonl", lines)
    start = time.monotonic()
    summary = run_batch(src, tmp_path / "out.jsonl", jobs=jobs, timeout=1.0, progress=False,
                        grade=faulty.grade)
    assert time.monotonic() - start < 40
    out = {k: outcome(r) for k, r in records(tmp_path / "out.jsonl").items()}
    assert out == {'"h"': "error:timeout", '"a"': "equivalent", '"c"': "error:crash",
                   '"b"': "not_equivalent", '"h2"': "error:timeout", '"d"': "equivalent"}
    assert summary.errors == {"timeout": 2, "crash": 1}


def test_slow_submission_times_out_in_its_worker(tmp_path):
    """A submission past the budget (a 1-99-99-1 MLP, near the parameter limit: seconds
    of work) is stopped by the worker's own alarm: a timeout record that says what was
    running, and the worker lives on for the next items."""
    wide = {"widths": [1, 99, 99, 1], "activations": "relu"}
    lines = [item("slow", "x", network=wide, wrt="W0_1_1"), item("a"), item("b", WRONG)]
    src = write_lines(tmp_path / "in.jsonl", lines)
    start = time.monotonic()
    run_batch(src, tmp_path / "out.jsonl", timeout=0.05, progress=False)
    assert time.monotonic() - start < 30
    out = records(tmp_path / "out.jsonl")
    assert out['"slow"']["verdict"] == "unknown"
    message = out['"slow"']["reason"]
    assert message.startswith("the time budget of") and " ran out while " in message, message
    assert outcome(out['"a"']) == "equivalent" and outcome(out['"b"']) == "not_equivalent"


# -- killed and resumed ------------------------------------------------------------------

RUNNER = ("import sys; from derivcheck.app.batch import run_batch; "
          "run_batch(sys.argv[1], sys.argv[2], jobs=int(sys.argv[3]), progress=False)")


@pytest.mark.parametrize("jobs", [1, 2])
def test_killed_run_resumes_without_loss_or_duplicates(tmp_path, jobs):
    networks = [{"weights": ["w1", "w2", "w3"], "activations": act}
                for act in ("relu", "sigmoid", "leaky_relu(0.1)")]
    lines = [item(f"s{i}", [RIGHT, WRONG, "x*w2", "step(w1*x)*x"][i % 4],
                  network=networks[i % 3]) for i in range(24)]
    src = write_lines(tmp_path / "in.jsonl", lines)
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen([sys.executable, "-c", RUNNER, str(src), str(out), str(jobs)],
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while (not out.exists() or len(out.read_text().splitlines()) < 4) \
                and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    done_before = out.read_text().count("\n")
    assert 4 <= done_before < len(lines), "the run was not killed midway"
    with open(out, "a") as fh:  # a torn write, as a kill during write() leaves it
        fh.write('{"id": "s23", "verdict": "equiv')
    summary = run_batch(src, out, jobs=jobs, progress=False)
    ids = [json.loads(x)["id"] for x in out.read_text().splitlines()]
    assert sorted(ids) == sorted(x["id"] for x in lines)
    assert summary.skipped == done_before and summary.graded == len(lines) - done_before


def test_cli_batch(tmp_path):
    src = write_lines(tmp_path / "in.jsonl", [item("a"), item("b", WRONG), "{x"])
    code, stdout, _, _ = cli("batch", str(src), "-o", str(tmp_path / "out.jsonl"), "-j", "2",
                             "--timeout", "20")
    assert code == 0
    assert "3 submissions graded" in stdout and "error: invalid_json" in stdout
    assert len(records(tmp_path / "out.jsonl")) == 2
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 3
    code, stdout, _, _ = cli("batch", str(src), "-o", str(tmp_path / "out.jsonl"))
    assert code == 0 and "3 already in the output" in stdout


def test_cli_batch_missing_input(tmp_path):
    code, _, stderr, _ = cli("batch", str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "o"))
    assert code == 2 and "cannot read batch input" in stderr
