"""Index notation from the command line: verdicts, exit codes, readings, and bad indices as
errors with their position (exit 2, never a traceback)."""
import json

import pytest

from derivcheck.app.cli import main

NIELSEN = ["--widths", "n1,n2,n3", "--act", "sigmoid", "--style", "nielsen"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("formula,verdict,code", [
    (r"\frac{\partial C}{\partial w^l_{jk}} = a^{l-1}_k \delta^l_j", "equivalent", 0),
    (r"\frac{\partial C}{\partial w^l_{jk}} = a^{l}_k \delta^l_j", "not_equivalent", 1),
    ("delta2[j] = sum(k, w3[k,j]*delta3[k]) * sigmoid'(z2[j])", "equivalent", 0),
])
def test_index_form_verdicts_and_readings(capsys, formula, verdict, code):
    got, out, _ = run(capsys, "check", *NIELSEN, "--format", "json", formula)
    data = json.loads(out)
    assert (got, data["verdict"]) == (code, verdict)
    assert any("(free indices)" in r for r in data["readings"])


@pytest.mark.parametrize("formula,position", [
    (r"\delta^3_j = a^2_i", 13),
    (r"\delta^3_j = \sum_k 1", 13),
    ("dC/dw3[j,j] = 1", 0),
])
def test_bad_indices_are_errors_with_a_position(capsys, formula, position):
    code, out, err = run(capsys, "check", *NIELSEN, "--format", "json", formula)
    data = json.loads(out)
    assert code == 2 and "Traceback" not in out + err
    assert data["verdict"] == "error" and data["error"]["position"] == position


def test_parse_reads_a_layer_letter_at_every_layer(capsys):
    code, out, _ = run(capsys, "parse", *NIELSEN,
                       r"\delta^l_j = \sum_k w^{l+1}_{kj} \delta^{l+1}_k")
    assert code == 0
    assert "read as LaTeX (l = 2):" in out and "left side names: delta2" in out
    assert "[j] sum_k w3[k,j] * delta3[k]   (n2 x 1)" in out
