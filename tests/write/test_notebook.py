"""Results in Jupyter: the HTML and LaTeX a result shows itself with."""
import re

import derivcheck

NET = derivcheck.chain(weights=["w1"], activations="relu")
RIGHT = "(relu(w1*x) - y)*step(w1*x)*x"
WRONG = "(y - relu(w1*x))*x"


def test_html_shows_verdict_formulas_table_and_diagnosis():
    r = derivcheck.check(NET, WRONG, wrt="w1", assume=["x > 0"])
    html = r._repr_html_()
    assert "not equivalent" in html
    maths = re.findall(r"\$([^$]+)\$", html)
    assert any(r"\operatorname{ReLU}" in m and "y - " in m for m in maths)     # the formula
    assert any(r"\operatorname{Step}" in m for m in maths)                     # the gradient
    assert "<table" in html and "true value" in html and "sign_flip" in html
    assert "-4/9" in html or "4/9" in html or "counterexample" in html


def test_html_escapes_user_text():
    r = derivcheck.check(NET, "x", wrt="w1")
    r.warnings.append("<script>alert(1)</script>")
    assert "<script>" not in r._repr_html_()


def test_latex_repr_relates_the_formula_to_the_gradient():
    assert r"\ne" in derivcheck.check(NET, WRONG, wrt="w1")._repr_latex_()
    right = derivcheck.check(NET, RIGHT, wrt="w1")._repr_latex_()
    assert right.startswith("$") and right.endswith("$") and " = " in right
