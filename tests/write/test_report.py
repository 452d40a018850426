"""Reports on check results: hand-built results, a real check, hostile user text."""
import subprocess
from fractions import Fraction

import pytest
from sympy import symbols

from derivcheck.decide.check import check
from derivcheck.core.functions import IsPos, ReLU
from derivcheck.core.network import chain
from derivcheck.write.report import report_source, write_report
from derivcheck.decide.verdict import Diagnosis, Result, Witness

x, y, w1, w2 = symbols("x y w1 w2")
HOSTILE = (r"\input{/etc/passwd} \write18{rm -rf /} \catcode`\^=12 $x$ 100% } { # & _ ^ ~"
           r" \openout1=pwn \end{document}")


def pdftotext(path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def two_layer_result(**changes) -> Result:
    """A not_equivalent result for dC/dw1 of a 2-layer ReLU chain, built by hand: the
    candidate drops layer 2's gate and flips the sign."""
    net = chain(["w1", "w2"], "relu")
    fields = dict(
        verdict="not_equivalent", wrt="w1", candidate="x*w2*(y - relu(w2*relu(w1*x)))",
        gradient="...", method="symbolic", kink_convention="any",
        counterexample=Witness({"x": Fraction(1), "w1": Fraction(1, 2), "w2": Fraction(3),
                                "y": Fraction(0)}, Fraction(-9, 2), Fraction(9, 2)),
        diagnosis=[Diagnosis("sign_flip", "The sign is flipped: (yhat - y), not (y - yhat)."),
                   Diagnosis("missing_gate", "The ReLU gate Step(z2) of layer 2 is missing.",
                             layer=2)],
        assumptions=["x > 0"], method_detail="proved on 4 sign regions",
        readings=["read w_1 as w1"], warnings=["took W_2 as w2"],
        source=r"x w_2 (y - ReLU(W_2 ReLU(w_1 x)))",
        candidate_expr=x * w2 * (y - ReLU(w2 * ReLU(w1 * x))),
        gradient_expr=net.gradient("w1"), network=net, elapsed=0.25)
    fields.update(changes)
    return Result(**fields)


def test_report_source_sections():
    src = report_source(two_layer_result())
    assert r"\section*{Verdict: \dcverdict{not\_equivalent}}" in src
    assert "differ on a set of positive" in src
    assert r"\texttt{x w\_2 (y -\allowbreak{} ReLU(W\_2 ReLU(w\_1 x)))}" in src
    # as read and correct, in derivcheck's LaTeX
    assert (r"\frac{\partial C}{\partial w_{1}} &= w_{2} x \, (y - \operatorname{ReLU}"
            r"(w_{2} \, \operatorname{ReLU}(w_{1} x)))") in src
    assert r"\operatorname{Step}(w_{2} \, \operatorname{ReLU}(w_{1} x))" in src
    # the counterexample table, exact values
    assert "$w_{1}$ & $\\frac{1}{2}$ \\\\" in src
    assert "your formula & $- \\frac{9}{2}$ \\\\" in src
    assert "the gradient & $\\frac{9}{2}$ \\\\" in src
    # diagnosis and where the derivation departs: layer 2's correct steps
    assert r"\item \texttt{missing\_gate} (layer 2): The ReLU gate Step(z2)" in src
    assert r"\section*{Where the derivation departs}" in src
    assert (r"\frac{\partial C}{\partial z^{(2)}} &= \frac{\partial C}{\partial a^{(2)}}"
            r"\frac{\partial a^{(2)}}{\partial z^{(2)}}") in src
    assert r"\item[Method] \texttt{symbolic}: proved symbolically" in src
    assert r"\item \textbf{warning:} took W\_2 as w2" in src


@pytest.mark.pdf
def test_report_pdf_shows_verdict_and_counterexample(tmp_path):
    text = pdftotext(write_report(two_layer_result(), tmp_path / "report.pdf"))
    for words in ("Verdict: not_equivalent", "Counterexample", "your formula", "the gradient",
                  "Diagnosis", "sign_flip", "missing_gate (layer 2)",
                  "Where the derivation departs", "How it was decided", "x > 0",
                  "read w_1 as w1", "Step"):
        assert words in text, words


@pytest.mark.pdf
def test_hostile_text_compiles_and_appears_literally(tmp_path):
    result = two_layer_result(source=HOSTILE, readings=[HOSTILE], warnings=[HOSTILE],
                              assumptions=[HOSTILE], method_detail=HOSTILE,
                              diagnosis=[Diagnosis("sign_flip", HOSTILE)])
    src = report_source(result)
    for command in (r"\input{", r"\write18", r"\catcode", r"\openout"):
        assert command not in src
    text = pdftotext(write_report(result, tmp_path / "hostile.pdf"))
    flat = " ".join(text.split())
    for literal in (r"\input{/etc/passwd}", r"\write18{rm -rf /}", r"\catcode", "$x$",
                    "100%", "} { # & _ ^ ~", r"\openout1=pwn", r"\end{document}"):
        assert literal in flat, literal
    assert "root:" not in text


def test_equivalent_result_without_witnesses():
    net = chain(["w1"], "relu")
    grad = net.gradient("w1")
    src = report_source(Result(verdict="equivalent", wrt="w1", candidate="...",
                               gradient="...", method="identity_test",
                               kink_convention="torch", candidate_expr=grad,
                               gradient_expr=grad, network=net))
    assert "equal to it at every point, kinks included" in src
    assert "Counterexample" not in src and "Kink point" not in src
    assert "Diagnosis" not in src and "departs" not in src
    # short formulas are set side by side
    assert r"\begin{minipage}[t]{0.48\textwidth}" in src


def test_kink_point_names_step0():
    net = chain(["w1"], "relu")
    kink = Witness({"x": Fraction(1), "w1": Fraction(0), "y": Fraction(1)}, Fraction(0),
                   Fraction(-1), step0=Fraction(1))
    src = report_source(Result(
        verdict="equivalent_almost_everywhere", wrt="w1", candidate="...", gradient="...",
        method="symbolic", kink_convention="any", kink_point=kink,
        diagnosis=[Diagnosis("convention_only", "Equal except on the kinks.")],
        candidate_expr=x * (ReLU(w1 * x) - y) * IsPos(w1 * x),
        gradient_expr=net.gradient("w1"), network=net))
    assert r"\section*{Kink point}" in src
    assert r"$\operatorname{Step}(0)$ & $1$ \\" in src
    assert r"[w_{1} x > 0]" in src
    assert "Where the derivation departs" not in src  # no layer named


def test_unknown_result_without_a_network():
    src = report_source(Result(verdict="unknown", wrt="w7", candidate="a*b", gradient="c",
                               method="numeric", kink_convention="any",
                               reason="the formula has 10^6 terms; limit 10^5"))
    assert r"\textbf{Why:} the formula has 10\textasciicircum{}6 terms" in src
    assert r"\texttt{a*\allowbreak{}b}" in src and r"\texttt{c}" in src
    assert "The question" not in src


@pytest.mark.pdf
def test_real_check_of_the_seed_formula(tmp_path):
    """The asker's 1-layer formula (y - ReLU(w_1 x))(x): sign flipped, gate missing."""
    net = chain(["w1"], "relu")
    result = check(net, "(y-ReLU(w_1x))(x)", wrt="w1", assume=["x > 0"])
    assert result.verdict == "not_equivalent"
    src = report_source(result)
    assert r"\texttt{(y-\allowbreak{}ReLU(w\_1x))\allowbreak{}(x)}" in src
    assert r"x \, (y - \operatorname{ReLU}(w_{1} x))" in src
    assert r"x \, (\operatorname{ReLU}(w_{1} x) - y) \, \operatorname{Step}(w_{1} x)" in src
    text = pdftotext(write_report(result, tmp_path / "seed.pdf"))
    flat = " ".join(text.split())
    assert "Verdict: not_equivalent" in flat and "(y-ReLU(w_1x))(x)" in flat
    cx = result.counterexample
    for value in (cx.candidate, cx.expected):
        frac = Fraction(value)
        assert (str(abs(frac.numerator)) in flat and str(frac.denominator) in flat)
    assert "sign_flip" in flat and "missing_gate" in flat


def test_a_formula_too_deep_to_typeset_is_shown_as_text():
    net = chain([f"w{i}" for i in range(1, 151)], "relu")
    deep = net.backward().expand(net.backward().gradients[net.parameter("w150")])
    src = report_source(Result(
        verdict="equivalent", wrt="w150", candidate="relu(w150*relu(w149*...))",
        gradient="...", method="symbolic", kink_convention="any", candidate_expr=deep,
        gradient_expr=net.gradient("w150", form="inline"), network=net))
    assert r"\texttt{relu(w150*\allowbreak{}relu(w149*\allowbreak{}...))}" in src
    assert r"\frac{\partial C}{\partial w_{150}} &= a^{(149)}" in src
