"""The grading pipeline under attack, through the real command line: what students type
and what disks do must lose no submission, crash nothing and say nothing false.

Each test here failed before its fix: grader files matched formulas and order by test
name (a BOM, a lone CR, ids ``7`` and ``"7"``, unreadable lines all named ``null``); a
batch output written for another input passed for this one's results; an output that
is a device was read forever, or replaced by a file; a matrix question with a batch of
10**400 was an internal error; shape mismatches carried their shapes only as text.
"""
import json
import os
import stat
import subprocess
import sys
import threading

import pytest

from derivcheck import schemas
from derivcheck.app.graders import _matrix_counterexample
from derivcheck.core.network import from_dict
from derivcheck.decide.check import check

from .test_limits import ROOT, cli

NET = {"weights": ["w1"], "activations": "relu"}
RIGHT = "x*(relu(w1*x)-y)*step(w1*x)"
WRONG = "x*(y-relu(w1*x))"
NG = {"widths": [3, 4, 1], "bias": True, "activations": ["tanh", "sigmoid"], "loss": "bce",
      "style": "ng"}


def line(ident, candidate, network=NET):
    return json.dumps({"id": ident, "network": network, "wrt": "w1", "candidate": candidate})


def grade(tmp_path, data: bytes, fmt="gradescope"):
    src, out = tmp_path / "in.jsonl", tmp_path / f"{fmt}.json"
    src.write_bytes(data)
    code, stdout, stderr, _ = cli("batch", str(src), "-o", str(out), "--format", fmt,
                                  "--no-progress", timeout=300)
    assert code == 0, stderr
    return json.loads(out.read_text())


# -- grader files: one test per line, in order, each with its own formula ---------------------

def test_a_bom_and_a_lone_cr_keep_each_answer_in_its_place(tmp_path):
    """The grader read the input again by itself: a BOM made line 1 unreadable to it (sent
    last, without its formula under the caret) and a lone CR split a line in two."""
    data = ("\ufeff" + line("first", "x*(") + "\n"
            + line("second", RIGHT).replace(", ", ",\r ", 1) + "\n"
            + line("third", "w1*(x") + "\n").encode()
    tests = grade(tmp_path, data)["tests"]
    assert [t["name"] for t in tests] == ["first", "second", "third"]
    assert "  x*(\n" in tests[0]["output"] and "  w1*(x\n" in tests[2]["output"]
    assert tests[1]["status"] == "passed"


def test_ids_that_print_alike_keep_their_own_formula(tmp_path):
    """Ids 7 and "7" were both the test "7", and the second one's caret stood under the
    first one's formula."""
    data = (line(7, RIGHT) + "\n" + line("7", "x*(w1") + "\n").encode()
    tests = grade(tmp_path, data)["tests"]
    assert [t["name"] for t in tests] == ["7 (line 1)", "7 (line 2)"]
    assert tests[0]["status"] == "passed"
    assert "  x*(w1\n" in tests[1]["output"] and RIGHT not in tests[1]["output"]


def test_unreadable_and_repeated_lines_are_named_by_their_line(tmp_path):
    """Every unreadable line was "null", and a repeated id hid the first answer."""
    data = (line("a", RIGHT) + "\n{oops\n[1, 2]\n" + line("a", WRONG) + "\n"
            + line("", RIGHT) + "\n").encode()
    result = grade(tmp_path, data)
    names = [t["name"] for t in result["tests"]]
    assert names == ["a (line 1)", "line 2", "line 3", "a (line 4)", '""']
    assert "line 2, line 3, a (line 4)" in result["output"]
    assert result["extra_data"]["needs_review"] == ["line 2", "line 3", "a (line 4)"]
    assert result["score"] == 2.0
    pl = grade(tmp_path, data, "prairielearn")
    assert [t["name"] for t in pl["tests"]] == names and pl["score"] == pytest.approx(0.4)


def test_json_errors_say_where(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_bytes(b'{"id": "a\x00"}\n' + b'{"id": 1' + b"0" * 300 + b"}\n")
    assert cli("batch", str(src), "-o", str(out), "--no-progress")[0] == 0
    first, second = (json.loads(x)["error"]["message"] for x in out.read_text().splitlines())
    assert first == "line 1, column 10: Invalid control character"
    assert "nor an integer (up to 200 digits)" in second


# -- a batch output is resumed only for the input it was written for ---------------------------

def test_an_output_of_another_input_is_refused(tmp_path):
    """Its line numbers passed for this input's: those submissions were never graded."""
    out = tmp_path / "out.jsonl"
    first = tmp_path / "week1.jsonl"
    first.write_text(line("ann", RIGHT) + "\n" + line("bob", WRONG) + "\n")
    assert cli("batch", str(first), "-o", str(out), "--no-progress")[0] == 0
    before = out.read_bytes()
    second = tmp_path / "week2.jsonl"
    second.write_text(line("cat", WRONG) + "\n" + line("dan", RIGHT) + "\n"
                      + line("eve", RIGHT) + "\n")
    code, _, stderr, _ = cli("batch", str(second), "-o", str(out), "--no-progress")
    assert code == 2 and "holds results of another input" in stderr
    assert 'line 1 has id "ann", but line 1 of the input has id "cat"' in stderr
    assert "Traceback" not in stderr and out.read_bytes() == before
    # a line inserted at the top moves every line: refused too
    first.write_text(line("new", RIGHT) + "\n" + first.read_text())
    assert cli("batch", str(first), "-o", str(out), "--no-progress")[0] == 2
    # a line removed at the end
    first.write_text(line("ann", RIGHT) + "\n")
    code, _, stderr, _ = cli("batch", str(first), "-o", str(out), "--no-progress")
    assert code == 2 and "line 2 of the input has no submission" in stderr
    # lines added at the end are graded, as before
    first.write_text(line("ann", RIGHT) + "\n" + line("bob", WRONG) + "\n" + line("cy", RIGHT)
                     + "\n")
    code, stdout, _, _ = cli("batch", str(first), "-o", str(out), "--no-progress")
    assert code == 0 and "2 already in the output" in stdout
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == ["ann", "bob", "cy"]


def test_an_input_that_is_no_file_is_named_truly(tmp_path):
    """A pipe (``<(jq ...)``), a device or a folder was "no such file"."""
    for src, why in (("/dev/null", "it is not a regular file (a pipe or a device)"),
                     (str(tmp_path), "it is a folder"),
                     (str(tmp_path / "none"), "no such file")):
        code, _, stderr, _ = cli("batch", src, "-o", str(tmp_path / "out.jsonl"),
                                 "--no-progress")
        assert code == 2 and f"cannot read batch input {src!r}: {why}\n" in stderr


# -- outputs that are not regular files -------------------------------------------------------

#: The command in a process that may not take more than 6 GB (the old code read a device
#: output without end); set inside the child, not by a preexec_fn (unsafe once jax runs
#: threads in this process).
LIMITED = ("import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30)); "
           "from derivcheck.app.cli import main; sys.exit(main())")


def limited_cli(*args):
    return subprocess.run([sys.executable, "-c", LIMITED, *args], capture_output=True,
                          text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          timeout=120)


def test_a_device_as_batch_output_is_written_never_read(tmp_path):
    """/dev/zero and /dev/full were read as the records of an earlier run, without end."""
    src = tmp_path / "in.jsonl"
    src.write_text(line("a", RIGHT) + "\n" + line("b", WRONG) + "\n")
    proc = limited_cli("batch", str(src), "-o", "/dev/zero", "--no-progress")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("2 submissions graded")
    proc = limited_cli("batch", str(src), "-o", "/dev/full", "--no-progress")
    assert proc.returncode == 2 and "No space left on device" in proc.stderr
    assert "kept whole" not in proc.stderr and "Traceback" not in proc.stderr
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_a_link_to_a_device_and_a_pipe_get_the_results(tmp_path):
    """The results were renamed over the path: a link to /dev/null (or /dev/stdout)
    became a plain file, and a named pipe's reader got nothing."""
    src = tmp_path / "in.jsonl"
    src.write_text(line("a", RIGHT) + "\n")
    null_link = tmp_path / "discard.json"
    null_link.symlink_to(os.devnull)
    code, _, stderr, _ = cli("batch", str(src), "-o", str(null_link), "--format", "gradescope",
                             "--no-progress")
    assert code == 0, stderr
    assert null_link.is_symlink()
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    code, _, stderr, _ = cli("batch", str(src), "-o", str(fifo), "--format", "prairielearn",
                             "--no-progress")
    reader.join(timeout=30)
    assert code == 0, stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and json.loads(got[0])["score"] == 1.0


# -- absurd sizes in matrix questions ----------------------------------------------------------

@pytest.mark.parametrize("batch", [300, 10**9, 10**400], ids=["300", "1e9", "1e400"])
def test_huge_batches_are_refused_before_any_work(tmp_path, batch):
    """A shape mismatch was shown at the network's own sizes whatever they were: 11 s at
    300, out of memory at 10**9, an internal error at 10**400."""
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    net = {**NG, "batch": batch}
    src.write_text(line("shape", "X @ dZ1.T", net).replace('"w1"', '"dW1"') + "\n"
                   + line("fits", "dZ1 @ X.T", net).replace('"w1"', '"dW1"') + "\n")
    code, _, stderr, seconds = cli("batch", str(src), "-o", str(out), "--no-progress")
    assert code == 0, stderr
    errors = [json.loads(x)["error"] for x in out.read_text().splitlines()]
    assert [e["kind"] for e in errors] == ["limit_exceeded"] * 2
    assert all("at its own sizes the network has" in e["message"] for e in errors)
    assert seconds < 60


def test_a_size_given_in_digits_is_read_as_a_number():
    """--batch 1000000 said "a size must be a whole number or a name"."""
    code, _, stderr, _ = cli("check", "--widths", "3,4,1", "--act", "tanh,sigmoid", "--loss",
                             "bce", "--batch", "1000000", "--bias", "dW1 = X @ dZ1.T")
    assert code == 2 and "4000021 scalar entries" in stderr
    code, _, stderr, _ = cli("check", "--widths", "3,4,1", "--act", "tanh,sigmoid", "--loss",
                             "bce", "--batch", "9" * 300, "dW1 = dZ1 @ X.T")
    assert code == 2 and "more than 200 digits" in stderr


# -- shape mismatches carry their shapes as data ----------------------------------------------

def _shape_result(candidate):
    net = from_dict({**NG, "batch": "m"})
    return check(net, candidate, "dW1", timeout=60).to_json()


def test_shape_witnesses_carry_both_shapes():
    out = _shape_result("X @ dZ1.T")
    cx = out["counterexample"]
    assert cx["entry"] == "dW1 (shape)"
    assert cx["shape"] == {"candidate": [3, 4], "expected": [4, 3]}
    schemas.validate(out, "check")
    text = "\n".join(_matrix_counterexample(cx))
    assert "your formula gives a 3 x 4 matrix, the gradient is a 4 x 3 matrix" in text
    # products that do not fit: no shape, and the reason stays
    cx = _shape_result("dZ1.T @ X")["counterexample"]
    assert cx["shape"] == {"candidate": None, "expected": [4, 3]}
    assert "your formula gives no value: " in _matrix_counterexample(cx)[-1]


def test_a_record_written_before_shapes_were_data_is_still_shown():
    cx = _shape_result("X @ dZ1.T")["counterexample"]
    cx.pop("shape", None)
    assert _matrix_counterexample(cx)[-1].endswith("the gradient is a 4 x 3 matrix")


def test_shape_mismatches_in_the_grader_files(tmp_path):
    net = {**NG, "batch": "m"}
    data = (line("dW1", "1/m * X @ dZ1.T", net).replace('"w1"', '"dW1"') + "\n").encode()
    test = grade(tmp_path, data)["tests"][0]
    assert test["status"] == "failed"
    assert "dW1 (shape): your formula gives a 3 x 4 matrix, the gradient is a 4 x 3 " \
           "matrix" in test["output"]
