"""Reports on index-notation formulas: entries and sums in LaTeX, and the reason a shape
mismatch has no value, which quotes the formula, escaped."""
import derivcheck
from derivcheck.core.matrix.network import MatrixNetwork
from derivcheck.write.matrix_sheet import matrix_report_source

NET = MatrixNetwork(["n1", "n2", "n3"], "sigmoid", style="nielsen")


def test_an_index_form_is_shown_as_the_matrix_of_its_entries():
    r = derivcheck.check(NET, r"\delta^2_j = \sum_k w^{3}_{kj} \delta^{3}_k \sigma'(z^2_j)")
    src = matrix_report_source(r)
    assert (r"\delta^{2} = \left[\sum_{k} w^{3}_{kj} \delta^{3}_{k} "
            r"\operatorname{sigmoid'}\left(z^{2}_{j}\right)\right]_{j}") in src


def test_the_reason_a_formula_has_no_value_is_escaped():
    r = derivcheck.check(NET, r"\frac{\partial C}{\partial w^3_{jk}} = a^{2}_j \delta^3_k")
    src = matrix_report_source(r)
    assert r"at a\textasciicircum{}\{2\}\_j" in src
    assert "at a^{2}_j" not in src
