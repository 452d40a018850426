"""Issue 14 and the batch/run parts of issue 17: what a grading pipeline can throw at the
command line is answered with a message and exit 2 (never a traceback or exit 4), nothing
is written outside the folder given, and no input is overwritten by its own output."""
import ast
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from derivcheck import limits
from derivcheck.app.batch import BatchError, grade_item, run_batch, worker_count
from derivcheck.app.cli import main
from derivcheck.errors import LimitError, ParseError
from derivcheck.parsing import parse_formula
from derivcheck.write.pdf import clean_stale

from .test_limits import ROOT

NET = {"weights": ["w1"], "activations": "relu"}
RIGHT = "x*(relu(w1*x)-y)*step(w1*x)"
CHAIN = ["--weights", "w1", "--act", "relu"]


def item(ident, candidate=RIGHT):
    return json.dumps({"id": ident, "network": NET, "wrt": "w1", "candidate": candidate})


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "internal error" not in out + err
    return code, out, err


# -- output equal to input ----------------------------------------------------------------

@pytest.mark.parametrize("how", ["same", "dot", "symlink", "hardlink"])
def test_batch_refuses_its_own_input_as_output(tmp_path, capsys, how, monkeypatch):
    src = tmp_path / "u.jsonl"
    src.write_text(item("a") + "\n" + item("b"))  # the last line has no newline
    before = src.read_bytes()
    monkeypatch.chdir(tmp_path)
    out = {"same": "u.jsonl", "dot": "./sub/../u.jsonl", "symlink": "link.jsonl",
           "hardlink": "hard.jsonl"}[how]
    (tmp_path / "sub").mkdir()
    if how == "symlink":
        os.symlink(src, tmp_path / out)
    if how == "hardlink":
        os.link(src, tmp_path / out)
    code, _, err = run(capsys, "batch", "u.jsonl", "-o", out)
    assert code == 2 and "is the input file itself" in err
    assert src.read_bytes() == before


def test_sheet_and_vectors_refuse_their_network_file_as_output(tmp_path, capsys):
    net = tmp_path / "net.toml"
    net.write_text('weights = ["w1"]\n')
    code, _, err = run(capsys, "vectors", "--net", str(net), "-o", str(tmp_path / "." / "net.toml"))
    assert code == 2 and "is the input file" in err and net.read_text() == 'weights = ["w1"]\n'


# -- ids, lines, strict JSON --------------------------------------------------------------

def strict(text: str):
    def refuse(name):
        raise AssertionError(f"{name} in the output")
    return json.loads(text, parse_constant=refuse)


def test_a_bad_line_never_takes_a_real_id(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "s1999", oops\n' + item("s1999") + "\n" + "{broken\n" + item(3)
                   + "\n" + '{"id": 1e400, "network": {}}\n' + item(3) + "\n")
    summary = run_batch(src, tmp_path / "out.jsonl", progress=False)
    out = {r["line"]: r for r in map(strict, (tmp_path / "out.jsonl").read_text().splitlines())}
    assert out[1]["id"] is None and out[1]["error"]["kind"] == "invalid_json"
    assert out[2]["id"] == "s1999" and out[2]["verdict"] == "equivalent"
    assert out[3]["id"] is None  # never its line number, which is another line's id
    assert out[4]["id"] == 3 and out[4]["verdict"] == "equivalent"
    assert out[5]["id"] is None and "too large" in out[5]["error"]["message"]
    assert out[6]["error"]["kind"] == "duplicate_id" and "line 4" in out[6]["error"]["message"]
    assert summary.graded == 6


def test_a_duplicate_is_found_again_on_a_resumed_run(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text(item("a") + "\n" + item("a") + "\n")
    out.write_text(json.dumps({"id": "a", "line": 1, "verdict": "equivalent"}) + "\n")
    summary = run_batch(src, out, progress=False)
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [(r["line"], r.get("error", {}).get("kind")) for r in lines] == \
        [(1, None), (2, "duplicate_id")]
    assert summary.skipped == 1 and summary.errors == {"duplicate_id": 1}


def test_records_without_a_line_are_resumed_by_id(tmp_path):
    """Outputs written before records carried "line" resume too."""
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text(item("a") + "\n" + item("b") + "\n")
    out.write_text(json.dumps({"id": "a", "verdict": "equivalent"}) + "\n")
    summary = run_batch(src, out, progress=False)
    assert summary.skipped == 1 and summary.graded == 1


# -- numbers a user can type --------------------------------------------------------------

@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf", "1e308", "abc"])
def test_timeout_must_be_a_sane_positive_number(tmp_path, capsys, value):
    src = tmp_path / "in.jsonl"
    src.write_text(item("a") + "\n")
    for argv in (["check", *CHAIN, "--wrt", "w1", RIGHT], ["sheet", *CHAIN],
                 ["batch", str(src), "-o", str(tmp_path / "o.jsonl")], ["gradient", *CHAIN]):
        with pytest.raises(SystemExit) as info:
            main([*argv, "--timeout", value])
        assert info.value.code == 2
        assert "--timeout" in capsys.readouterr().err
    assert not (tmp_path / "o.jsonl").exists()
    with pytest.raises(BatchError):
        run_batch(src, tmp_path / "o.jsonl", timeout=float(value) if value != "abc" else value)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1, 0, 1e308])
def test_the_api_refuses_a_senseless_timeout(value):
    from derivcheck.core.network import chain
    from derivcheck.decide.check import check
    from derivcheck.errors import UsageError
    with pytest.raises(UsageError):
        check(chain(["w1"], "relu"), "x", "w1", timeout=value)


@pytest.mark.parametrize("points", ["-5", "1000000", "x"])
def test_vectors_points_are_bounded(capsys, points):
    with pytest.raises(SystemExit) as info:
        main(["vectors", *CHAIN, "--points", points])
    assert info.value.code == 2 and "--points" in capsys.readouterr().err


def test_batch_workers_are_capped_by_cores_and_lines(tmp_path, capsys):
    cores = len(os.sched_getaffinity(0))
    assert worker_count(64, 1000) == cores and worker_count(64, 1) == 1
    assert worker_count(0, 1000) == cores and worker_count(2, 0) == 1
    with pytest.raises(SystemExit):
        main(["batch", "in", "-o", "out", "-j", "-1"])
    assert "--jobs" in capsys.readouterr().err


# -- unreadable and unwritable files ------------------------------------------------------

def test_invalid_utf8_in_a_formula_file(tmp_path, capsys):
    f = tmp_path / "f.txt"
    f.write_bytes(b"x*(relu(w1*x)-y)\xff")
    code, _, err = run(capsys, "check", *CHAIN, "--wrt", "w1", f"@{f}")
    assert code == 2 and "not UTF-8" in err


@pytest.mark.parametrize("argv", [["sheet", *CHAIN, "-o"], ["vectors", *CHAIN, "-o"],
                                  ["check", *CHAIN, "--wrt", "w1", RIGHT, "--report"]])
def test_a_folder_as_the_output_path(tmp_path, capsys, argv):
    code, _, err = run(capsys, *argv, str(tmp_path))
    assert code == 2 and "it is a folder" in err


def test_batch_into_a_folder(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text(item("a") + "\n")
    code, _, err = run(capsys, "batch", str(src), "-o", str(tmp_path))
    assert code == 2 and "it is a folder" in err


# -- batch exit codes and help ------------------------------------------------------------

def test_batch_exit_codes(tmp_path, capsys):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("{bad\n" + item("a", "(x") + "\n")
    code, stdout, _ = run(capsys, "batch", str(src), "-o", str(out), "--timeout", "20")
    assert code == 0 and "2 submissions graded" in stdout  # every line got its record
    code, stdout, _ = run(capsys, "batch", str(src), "-o", str(out), "--fail-on-error")
    assert code == 1 and "2 already in the output" in stdout
    code, _, err = run(capsys, "batch", str(tmp_path / "nope"), "-o", str(out))
    assert code == 2


def test_batch_help_documents_the_input(capsys):
    with pytest.raises(SystemExit):
        main(["batch", "--help"])
    text = capsys.readouterr().out
    for word in ('"id"', "network", "candidate", "kink_convention", '"line"', "--fail-on-error",
                 "exit codes"):
        assert word in text


def test_timed_out_items_say_what_ran_and_the_budget_set():
    wide = {"widths": [1, 99, 99, 1], "activations": "relu"}
    record = grade_item({"id": 1, "network": wide, "wrt": "W0_1_1", "candidate": "x"},
                        timeout=0.3)
    # wherever the budget runs out (inside the check or before it, as the machine's speed
    # has it), the verdict is unknown and says what ran and the budget the user set
    assert record["verdict"] == "unknown" and record["method"] == "none"
    message = record["reason"]
    assert message.startswith("the time budget of 0.3 s ran out while "), message
    assert "starting up" not in message and "1.3 s" not in message


# -- run: question files ------------------------------------------------------------------

QUESTION = '[networks.one]\nweights = ["w1"]\n'


@pytest.mark.parametrize("top,tables,field", [
    ("", '[[formulas]]\nnetwork = "one"\n', "formulas[1]: 'text' is missing"),
    ('sheets = ["nope"]\n', "", "sheets[1]: 'nope'"),
    ('formulas = "abc"\n', "", "'formulas' must be a list of objects"),
    ('formulas = ["x"]\n', "", "'formulas' must be a list of objects"),
    ('assume = 5\n', "", "'assume' must be a list of strings"),
    ('sheets = 1\n', "", "'sheets' must be a list of strings"),
    ("", '[[formulas]]\nnetwork = "one"\ntext = 3\n', "formulas[1]: 'text' must be a string"),
    ("", '[networks.two]\nweights = 3\n', "networks.two"),
    ('titel = "x"\n', "", "unknown field 'titel'"),
])
def test_malformed_question_files_name_the_field(tmp_path, capsys, top, tables, field):
    q = tmp_path / "q.toml"
    q.write_text(top + QUESTION + tables)
    code, _, err = run(capsys, "run", str(q), "--out", str(tmp_path / "out"))
    assert code == 2 and field in err, err


def test_networks_must_be_tables(tmp_path, capsys):
    q = tmp_path / "q.toml"
    q.write_text("networks = [1, 2]\n")
    code, _, err = run(capsys, "run", str(q), "--out", str(tmp_path / "out"))
    assert code == 2 and "'networks' must be an object" in err, err


def test_question_file_not_utf8_or_too_large(tmp_path, capsys):
    q = tmp_path / "q.toml"
    q.write_bytes(b'title = "\xff"\n')
    code, _, err = run(capsys, "run", str(q), "--out", str(tmp_path / "out"))
    assert code == 2 and "not UTF-8" in err
    q.write_text(QUESTION + "".join('[[formulas]]\nnetwork = "one"\ntext = "x"\n'
                                    for _ in range(limits.MAX_QUESTION_FORMULAS + 1)))
    code, _, err = run(capsys, "run", str(q), "--out", str(tmp_path / "out"))
    assert code == 2 and "the limit is" in err
    q.write_text(QUESTION + "# " + "x" * limits.MAX_QUESTION_SIZE + "\n")
    start = time.monotonic()
    code, _, err = run(capsys, "run", str(q), "--out", str(tmp_path / "out"))
    assert code == 2 and f"larger than {limits.MAX_QUESTION_SIZE} bytes" in err
    assert time.monotonic() - start < 5


def test_a_string_assumption_is_one_condition(tmp_path, capsys):
    q = tmp_path / "q.toml"
    q.write_text('assume = "x > 0"\nsheets = []\n' + QUESTION + '[[formulas]]\nnetwork = "one"'
                 '\nwrt = "w1"\ntext = "(relu(w1*x) - y)*x"\nexpect = "not_equivalent"\n')
    code, out, _ = run(capsys, "run", str(q), "--out", str(tmp_path / "out"), "--format", "json")
    data = json.loads(out)
    assert data["formulas"][0]["result"]["assumptions"] == ["x > 0"]
    assert data["met"] == data["total"] == 1


def test_network_names_never_write_outside_the_folder(tmp_path, capsys):
    name = "/../../../escaped/X"
    q = tmp_path / "q.toml"
    q.write_text(f'sheets = ["{name}"]\n[networks."{name}"]\nweights = ["w1"]\n')
    out = tmp_path / "a" / "b"
    code, stdout, _ = run(capsys, "run", str(q), "--out", str(out), "--format", "json")
    data = json.loads(stdout)
    files = data["written"] + [e["file"] for e in data["not_written"]]
    assert len(files) == 1 and Path(files[0]).parent == out
    assert not (tmp_path / "escaped").exists() and not Path("/escaped").exists()


def test_names_that_map_to_one_file_name_get_two_files(tmp_path, capsys):
    q = tmp_path / "q.toml"
    q.write_text('[networks."a/b"]\nweights = ["w1"]\n[networks.a_b]\nweights = ["w1"]\n')
    code, stdout, _ = run(capsys, "run", str(q), "--out", str(tmp_path / "out"), "--format",
                          "json")
    data = json.loads(stdout)
    files = data["written"] + [e["file"] for e in data["not_written"]]
    assert sorted(Path(f).name for f in files) == ["sheet-a_b-2.pdf", "sheet-a_b.pdf"]


def test_run_lists_what_it_wrote_and_why_not(tmp_path, capsys):
    q = tmp_path / "q.toml"
    q.write_text('sheets = []\n' + QUESTION + '[[formulas]]\nnetwork = "one"\nwrt = "w1"\n'
                 'text = "(x"\nexpect = "parse_error"\n')
    code, out, _ = run(capsys, "run", str(q), "--out", str(tmp_path / "out"))
    assert code == 0
    assert "not written: report-1.pdf: the formula could not be judged (parse_error" in out
    code, out, _ = run(capsys, "run", str(q), "--out", str(tmp_path / "out"), "--format", "json")
    data = json.loads(out)
    assert data["written"] == [] and data["not_written"][0]["file"].endswith("report-1.pdf")


# -- closed pipes -------------------------------------------------------------------------

@pytest.mark.parametrize("argv", [
    ["vectors", *CHAIN, "--points", "300"], ["check", *CHAIN, "--wrt", "w1", RIGHT],
    ["gradient", "--weights", "w1,w2,w3", "--act", "relu"], ["parse", *CHAIN, RIGHT],
    ["check", *CHAIN, "--wrt", "w1", "--format", "json", "(x"],
    ["sheet", *CHAIN, "-o", "{tmp}/s.tex"], ["batch", "{tmp}/in.jsonl", "-o", "{tmp}/o.jsonl"],
    ["run", "{tmp}/q.toml", "--out", "{tmp}/out"], ["check", "--help"]])
def test_a_closed_pipe_ends_quietly(tmp_path, argv):
    (tmp_path / "in.jsonl").write_text(item("a") + "\n")
    (tmp_path / "q.toml").write_text('sheets = []\n' + QUESTION)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from derivcheck.app.cli import main; "
         "sys.exit(main())", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    proc.stdout.close()
    err = proc.stderr.read().decode()
    code = proc.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipe" not in err and err == "", err
    assert code == (0 if "--help" in argv else 141)


# -- reading formulas ---------------------------------------------------------------------

@pytest.mark.parametrize("text", ["x*\uff11\uff12\uff13", "x*\u0661\u0662", "\uff58*2"])
def test_other_digits_are_refused_like_other_letters(text):
    with pytest.raises(ParseError) as info:
        parse_formula(text)
    assert "ASCII character" in info.value.hint


def test_limit_messages_say_what_the_limit_is_about():
    with pytest.raises(LimitError) as info:
        parse_formula("x^(1/1000000)")
    assert "root of degree 1000000" in info.value.message
    nested = "\\sqrt{" * 49 + "x" + "}" * 49
    with pytest.raises(LimitError) as info:
        parse_formula(nested)
    assert "root of degree" in info.value.message and "sqrt" in info.value.hint


def test_a_left_side_that_is_no_derivative_is_refused(capsys):
    code, _, err = run(capsys, "check", *CHAIN, "--wrt", "w1", r"\input{/etc/passwd} = x")
    assert code == 2 and "not a derivative of the loss" in err and "column 1" in err


# -- temporary folders, module structure --------------------------------------------------

def test_stale_tex_folders_are_cleaned(tmp_path):
    old, new = tmp_path / "derivcheck-tex-old", tmp_path / "derivcheck-tex-new"
    old.mkdir()
    (old / "doc.tex").write_text("x")
    new.mkdir()
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    assert clean_stale(tmp_path) == 1 and not old.exists() and new.exists()


def _imports(module: Path) -> set:
    tree = ast.parse(module.read_text())
    return {("." * n.level) + (n.module or "") for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom)}


def test_commands_do_not_import_the_cli():
    app = ROOT / "derivcheck" / "app"
    for name in ("commands.py", "question.py", "batch.py", "batch_files.py"):
        assert ".cli" not in _imports(app / name), name


def test_guard_is_only_a_timer():
    source = (ROOT / "derivcheck" / "guard.py").read_text()
    assert "Result(" not in source and "verdict" not in source
    for package in ("parsing", "core", "decide", "write", "oracle"):
        assert f"derivcheck.{package}" not in source  # no module name -> message table
    assert not hasattr(__import__("derivcheck.guard").guard, "unknown_result")


def test_a_wide_network_sheet_is_summarised_quickly():
    """A 50-100-49-1 MLP (under the parameter limit) took more than 300 s: its wide
    layers now show a few units and say how many there are."""
    from derivcheck.core.network import from_dict
    from derivcheck.write.sheet import sheet_source
    net = from_dict({"widths": [50, 100, 49, 1], "activations": "relu"})
    start = time.monotonic()
    source = sheet_source(net)
    assert time.monotonic() - start < 60
    assert "Layer 1: 100 units; rows shown for 3 of them" in source
    assert len(source) < 200_000


def test_kink_points_on_a_wide_network_are_bounded(monkeypatch):
    """vectors --kinks on a 50-100-49-1 MLP ran past 200 s: the sites it places points on
    are capped, fewer the more parameters the network has."""
    from derivcheck.core.network import from_dict
    from derivcheck.oracle.points import kink_sites, sample_points
    net = from_dict({"widths": [1, 20, 1], "activations": "relu"})
    monkeypatch.setattr(limits, "KINK_WORK", 6 * len(net.params))
    sample = sample_points(net, points=1, kinks=True, seed=1)
    assert len(kink_sites(net)) == 21
    assert 1 <= len(sample) - 1 <= 6
