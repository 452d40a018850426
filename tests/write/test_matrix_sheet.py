"""Sheets and reports for matrix networks: the style's equations with shapes, compiled."""
from __future__ import annotations

import shutil

import pytest

import derivcheck
from derivcheck.core.matrix.network import MatrixNetwork
from derivcheck.write.matrix_sheet import matrix_report_source, matrix_sheet_source, \
    write_matrix_sheet

NG = dict(widths=["n0", "n1", 1], activations="tanh,sigmoid", loss="bce", batch="m", bias=True)
CS = dict(widths=["D", "H", 3], activations="relu,identity", loss="cross_entropy", batch="N",
          bias=True)
pdf = pytest.mark.skipif(shutil.which("pdflatex") is None, reason="needs pdflatex")


@pytest.mark.parametrize("style,equations", [
    ("ng", [r"dZ^{[L]} &= A^{[L]} - Y", r"dW^{[l]} &= \frac{1}{m} dZ^{[l]} A^{[l-1]\top}",
            r"dA^{[l-1]} &= W^{[l]\top} dZ^{[l]}", r"Z^{[1]} &= W^{[1]} X + b^{[1]}"]),
    ("nielsen", [r"\tag{BP1}", r"\tag{BP4}", r"\delta^{l} &= \left(\left(w^{l+1}\right)^{\top}",
                 r"z^{2} &= w^{2} x + b^{2}"]),
    ("seed", [r"\frac{\partial C}{\partial W^{(k)}_{ij}} &= \frac{\partial C}{\partial "
              r"z^{(k+1)}_{j}} r^{(k)}_{i}", r"z^{(1)} &= W^{(0)\top} x + b^{(0)}"]),
])
def test_sheet_has_the_style_s_equations_with_shapes(style, equations):
    src = matrix_sheet_source(MatrixNetwork(**NG, style=style))
    for eq in equations:
        assert eq in src, eq
    assert r"n_{1} \times m" in src or r"n_{1} \times 1" in src


def test_cs231n_sheet_names_rows_and_dscores():
    src = matrix_sheet_source(MatrixNetwork(**CS, style="cs231n"))
    assert r"Z_{1} &= X W_{1} + b_{1} && N \times H" in src
    assert r"\mathit{dscores} &= \frac{1}{N}\left(P - Y\right)" in src
    assert r"\frac{\partial L}{\partial W_{1}} &= X^{\top}" in src     # examples are rows


def test_backward_pass_rows_carry_shapes():
    src = matrix_sheet_source(MatrixNetwork(**NG, style="ng"))
    assert (r"\frac{\partial J}{\partial W^{[1]}} &= \frac{\partial J}{\partial Z^{[1]}} "
            r"X^{\top} && n_{1} \times n_{0}") in src


@pdf
@pytest.mark.parametrize("style", ["ng", "cs231n", "nielsen", "seed"])
def test_sheet_compiles(tmp_path, style):
    spec = CS if style == "cs231n" else NG
    out = write_matrix_sheet(MatrixNetwork(**spec, style=style), tmp_path / "s.pdf")
    assert out.read_bytes()[:5] == b"%PDF-"


def test_report_of_a_wrong_formula_shows_the_counterexample_matrices():
    net = MatrixNetwork(**NG)
    r = derivcheck.check(net, "dW1 = dZ1 @ X.T")
    assert r.verdict == "not_equivalent"
    src = matrix_report_source(r)
    assert r"\section*{Counterexample}" in src and r"\begin{bmatrix}" in src
    assert r"W^{[1]} &= \begin{bmatrix}" in src and r"X &= \begin{bmatrix}" in src
    assert "missing\\_batch\\_mean" in src
    assert r"dW^{[1]} = \frac{\partial J}{\partial Z^{[1]}} X^{\top}" in src


@pdf
def test_report_compiles_from_the_command_line(tmp_path):
    from derivcheck.app.cli import main
    out = tmp_path / "r.pdf"
    code = main(["check", "--widths", "D,H,3", "--act", "relu,identity", "--loss",
                 "cross_entropy", "--batch", "N", "--bias", "--style", "cs231n",
                 "dW2 = dscores @ H", "--report", str(out)])
    assert code == 1 and out.read_bytes()[:5] == b"%PDF-"


def test_power_of_a_layered_name_is_grouped():
    """(A^{[1]})^2, not the double superscript A^{[1]}^{2} pdflatex refuses."""
    r = derivcheck.check(MatrixNetwork(**NG, style="ng"),
                         r"dZ^{[1]} = W^{[2]T} dZ^{[2]} * (1 - (A^{[1]})^2)")
    src = matrix_report_source(r)
    assert r"\left(A^{[1]}\right)^{2}" in src and "A^{[1]}^" not in src


@pdf
def test_equations_sheet_and_report_compile_with_their_own_names(tmp_path):
    from derivcheck.core.network import from_dict
    net = from_dict({"forward": ["H = np.maximum(0, X @ W1 + b1)", "scores = H @ W2 + b2"],
                     "shape": {"X": "N,D", "W1": "D,H_", "W2": "H_,C"},
                     "loss": "cross_entropy", "labels": True})
    src = matrix_sheet_source(net)
    assert r"D \times H\_" in src and r"\mathit{scores}" in src
    assert write_matrix_sheet(net, tmp_path / "s.pdf").read_bytes()[:5] == b"%PDF-"
    from derivcheck.write.pdf import compile_pdf
    report = matrix_report_source(derivcheck.check(net, "dW2 = dscores @ H.T"))
    assert compile_pdf(report, tmp_path / "r.pdf").read_bytes()[:5] == b"%PDF-"


def test_a_sheet_of_biases_on_some_layers_only():
    from derivcheck.core.network import from_dict
    net = from_dict({"forward": ["Z1 = W1 @ X + b1", "A1 = relu(Z1)", "Z2 = W2 @ A1",
                                 "Yhat = softmax(Z2)"],
                     "shape": ["X=n0,m", "W1=n1,n0", "W2=n2,n1"], "loss": "cross_entropy"})
    src = matrix_sheet_source(net)
    assert "only b1" in src
    assert r"Z^{[1]} &= W^{[1]} X + b^{[1]} &&" in src and r"Z^{[2]} &= W^{[2]} A^{[1]} &&" in src
    assert r"\partial b^{[1]}}" in src and r"\partial b^{[2]}}" not in src


@pytest.mark.parametrize("style", ["ng", "cs231n", "nielsen", "seed"])
def test_the_style_is_described_in_mathematics_not_escaped_markup(style):
    src = matrix_sheet_source(MatrixNetwork(**NG, style=style))
    facts = src[src.index("The network"):src.index("Every quantity")]
    assert r"\textasciicircum" not in facts and r"\_" not in facts.replace(r"\_{}", "")
    assert r"\times" in facts or r"\top" in facts


def test_equations_between_entries_say_which_indices_they_hold_for():
    src = matrix_sheet_source(MatrixNetwork(["n0", "n1", "n2"], "relu", style="seed"))
    general = src[src.index("The general equations"):src.index("This network")]
    assert r"\text{for each } i, j" in general and "&& 1 " not in general


def test_a_report_on_a_quantity_names_the_derivative_on_its_left_side():
    net = MatrixNetwork(["n0", "n1", "n2"], "relu", style="seed")
    result = derivcheck.check(net, r"\frac{\partial C}{\partial z^{(2)}} = r^{(2)} - y")
    src = matrix_report_source(result)
    assert result.wrt == "z2" and "derivcheck report: dC/dz2" in src
    assert r"\frac{\partial C}{\partial z^{(2)}} =" in src


def test_a_report_sets_the_named_gradients_it_uses_as_mathematics():
    net = MatrixNetwork(**NG, style="ng")
    src = matrix_report_source(derivcheck.check(net, r"dW^{[1]} = dZ^{[1]} X^T"))
    where = src[src.index("where"):src.index("Counterexample")]
    assert r"\frac{\partial J}{\partial Z^{[1]}} &= " in where
    assert r"\odot" in where and "tanh_prime" not in where


def test_ng_sheet_writes_one_example_s_column_and_derivcheck_reads_every_equation():
    """The course's per-example equation and db as a sum over examples are printed, and
    every general equation of the sheet is itself checked right, for every layer."""
    net = MatrixNetwork(["n0", "n1", "n2", 1], "tanh,relu,sigmoid", "bce", batch="m",
                        bias=True, style="ng")
    src = matrix_sheet_source(net)
    assert (r"dz^{[l](i)} &= W^{[l+1]\top} dz^{[l+1](i)} \odot g^{[l]\prime}\left("
            r"z^{[l](i)}\right)") in src
    assert r"db^{[l]} &= \frac{1}{m} \textstyle\sum_{i=1}^{m} dz^{[l](i)}" in src
    from derivcheck.write.matrix_sheet import _general
    rows = _general(net)["rows"]
    assert len(rows) == 6
    for row in rows:
        r = derivcheck.check(net, row[0].replace("&=", "="))
        assert r.verdict == "equivalent", (row[0], r.verdict, r.readings)


def test_a_per_example_formula_is_set_as_the_course_writes_it():
    from derivcheck.write.matrix_latex import mlatex
    r = derivcheck.check(MatrixNetwork(**NG, style="ng"),
                         r"dW^{[1]} = \frac{1}{m} \sum_i dz^{[1](i)} x^{(i)T}")
    assert r"\sum_{i} dz^{[1](i)} x^{(i)\top}" in mlatex(r.candidate_expr, "ng")
    src = matrix_report_source(r)
    assert r"dz^{[1](i)} x^{(i)\top}" in src


def test_a_report_on_a_per_example_equation_reads_it_as_one_column():
    r = derivcheck.check(MatrixNetwork(**NG, style="ng"),
                         r"dz^{[1](i)} = W^{[2]T} dz^{[2](i)} * a^{[1](i)} * (1 - a^{[1](i)})")
    assert r.verdict == "not_equivalent"
    src = matrix_report_source(r)
    assert (r"\[ dz^{[1](i)} = W^{[2]\top} dz^{[2](i)} \odot a^{[1](i)} \odot \left(1 - "
            r"a^{[1](i)}\right) \]") in src
