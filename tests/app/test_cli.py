"""The command line: exit codes, JSON shapes, errors with positions."""
import json

import pytest

from derivcheck.app.cli import main

ONE = ["--weights", "w1", "--act", "relu"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_text_puts_the_verdict_first(capsys):
    code, out, _ = run(capsys, "check", *ONE, "--wrt", "w1", "--assume", "x > 0",
                       "(y - relu(w1*x))*x")
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("not_equivalent")
    assert any(line.startswith("counterexample") for line in lines)
    assert out.index("counterexample") < out.index("diagnosis") < out.index("decided by")


@pytest.mark.parametrize("cand, verdict, code", [
    ("x*(relu(w1*x) - y)*step(w1*x)", "equivalent", 0),
    ("x*(relu(w1*x) - y)*[w1*x > 0]", "equivalent_almost_everywhere", 0),
    ("x*(y - relu(w1*x))", "not_equivalent", 1),
])
def test_check_json_and_exit_codes(capsys, cand, verdict, code):
    c, out, _ = run(capsys, "check", *ONE, "--wrt", "w1", "--format", "json", cand)
    assert c == code
    assert json.loads(out)["verdict"] == verdict


def test_parse_error_in_json_has_position(capsys):
    code, out, _ = run(capsys, "check", *ONE, "--wrt", "w1", "--format", "json",
                       "(y - relu(w1*x)*x")
    assert code == 2
    err = json.loads(out)["error"]
    assert err["kind"] == "parse_error" and isinstance(err["position"], int)


def test_parse_error_text_has_caret(capsys):
    code, _, err = run(capsys, "check", *ONE, "--wrt", "w1", "(y - relu(w1*x)*x")
    assert code == 2 and "^" in err and "Traceback" not in err


def test_candidate_from_stdin_and_file(capsys, monkeypatch, tmp_path):
    import io
    monkeypatch.setattr("sys.stdin", io.StringIO("x*(relu(w1*x) - y)*step(w1*x)\n"))
    assert run(capsys, "check", *ONE, "--wrt", "w1", "-")[0] == 0
    f = tmp_path / "cand.tex"
    f.write_text(r"\frac{\partial C}{\partial w_1} = (ReLU(w_1 x) - y)Step(w_1 x)x")
    assert run(capsys, "check", *ONE, f"@{f}")[0] == 0


def test_gradient_json_single_and_all(capsys):
    code, out, _ = run(capsys, "gradient", "--weights", "w1,w2,w3", "--act", "relu",
                       "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert set(data["gradients"]) == {"w1", "w2", "w3"}
    assert data["definitions"]["z1"] == "w1*x"
    assert data["definitions"]["dC/dz3"] == "(a3 - y)*step(z3)"
    assert "dC/dz3" in data["definitions"]["dC/dz2"]
    code, out, _ = run(capsys, "gradient", *ONE, "--wrt", "w1", "--format", "json")
    assert json.loads(out)["gradients"] == {"w1": "(relu(w1*x) - y)*step(w1*x)*x"}


def test_no_network_is_a_clear_error(capsys):
    code, _, err = run(capsys, "check", "--wrt", "w1", "x")
    assert code == 2 and "--weights" in err


def test_unknown_name_suggests(capsys):
    code, _, err = run(capsys, "check", *ONE, "--wrt", "w1", "x*(relu(w2*x) - y)")
    assert code == 2 and "w1" in err


def test_parse_command_shows_reading(capsys):
    code, out, _ = run(capsys, "parse", "--weights", "W0", "--act", "relu",
                       r"(ReLU(W^{(0)}x) - y)Step(W^{(0)}x)x")
    assert code == 0 and "relu(W0*x)" in out and "LaTeX" in out


def test_help_lists_examples(capsys):
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    out = capsys.readouterr().out
    assert "--kink-convention" in out and "examples:" in out
