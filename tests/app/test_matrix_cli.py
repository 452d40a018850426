"""The command line with matrix networks: --widths names, --batch, --style, JSON shapes."""
import json

import pytest

from derivcheck import schemas
from derivcheck.app.cli import main

NG = ["--widths", "n0,n1,1", "--act", "tanh,sigmoid", "--loss", "bce", "--batch", "m", "--bias"]
KEYS = ("verdict", "wrt", "candidate", "gradient", "counterexample", "kink_point", "diagnosis",
        "method", "kink_convention", "assumptions")


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("formula,verdict,code", [
    (r"dW^{[1]} = \frac{1}{m} dZ^{[1]} X^T", "equivalent", 0),
    ("dW1 = dZ1 @ X.T", "not_equivalent", 1),
    ("dW1 = X @ dZ1", "not_equivalent", 1),
])
def test_check_json_keeps_one_shape(capsys, formula, verdict, code):
    c, out, _ = run(capsys, "check", *NG, "--format", "json", formula)
    data = json.loads(out)
    assert c == code and data["verdict"] == verdict
    assert all(k in data for k in KEYS)
    schemas.validate(data, "check")
    if verdict == "not_equivalent":
        assert data["counterexample"]["point"] and data["diagnosis"]


def test_style_flag_and_text_output(capsys):
    code, out, _ = run(capsys, "check", "--widths", "D,H,3", "--act", "relu,identity", "--loss",
                       "cross_entropy", "--batch", "N", "--bias", "--style", "cs231n",
                       "dscores = P - Y")
    assert code == 1 and out.startswith("not_equivalent")
    assert "sizes" in out and "entry       dscores[" in out and "missing_batch_mean" in out


def test_gradient_prints_the_backward_pass(capsys):
    code, out, _ = run(capsys, "gradient", *NG, "--format", "json")
    data = json.loads(out)
    schemas.validate(data, "gradient")
    assert code == 0 and set(data["gradients"]) == {"W1", "b1", "W2", "b2"}
    assert data["definitions"]["dJ/dZ1"] == "dJ/dA1 * tanh_prime(Z1)"


def test_latex_gradients_not_written_for_matrices_is_a_clear_error(capsys):
    code, _, err = run(capsys, "gradient", *NG, "--format", "latex")
    assert code == 2 and "not written for matrix networks" in err


def test_vectors_of_a_matrix_network_need_numeric_widths(capsys):
    """vectors gives named arrays for matrix networks now (CONTRACT section 5); sizes
    given as names cannot be drawn."""
    code, _, err = run(capsys, "vectors", *NG)
    assert code == 2 and "widths as numbers" in err


def test_parse_shows_the_shape(capsys):
    code, out, _ = run(capsys, "parse", *NG, "np.sum(dZ1, axis=1, keepdims=True)")
    assert code == 0 and "(n1 x 1)" in out


def test_the_matrix_question_file_fits_its_schemas():
    import tomllib
    from pathlib import Path
    data = tomllib.loads((Path(__file__).resolve().parents[2] / "examples" /
                          "matrices.toml").read_text())
    schemas.validate(data, "question")
    for net in data["networks"].values():
        schemas.validate(net, "network")


def test_a_shape_mismatch_prints_the_gradient_as_a_matrix_under_its_shape(capsys):
    code, out, _ = run(capsys, "check", "--widths", "3,4,1", "--act", "tanh,sigmoid", "--loss",
                       "bce", "--batch", "m", "--bias", "--style", "ng", "dW1 = 1/m * dZ1 @ X")
    assert code == 1
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("  true value"))
    assert lines[at] == "  true value  a 4 x 3 matrix:"
    rows = lines[at + 1:at + 5]
    assert all(r.startswith(" " * 14 + "[") and r.endswith("]")
               and len(r.strip(" []").split()) == 3 for r in rows)
    assert max(len(r) for r in rows) < 60   # 6 digits an entry, not 20
