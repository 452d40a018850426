r"""Reports: one check's :class:`~derivcheck.decide.verdict.Result` as a LaTeX document.

The verdict in words, the candidate as typed (escaped) and as read, the correct gradient
beside it, the counterexample and kink point as tables of exact values, the diagnosis,
how it was decided, and where the derivation departs from the correct chain rule.
Everything the user typed is escaped; everything derivcheck computed is printed by
:mod:`derivcheck.write.latex`.

>>> from fractions import Fraction
>>> from sympy import symbols
>>> from derivcheck.decide.verdict import Result, Witness
>>> x, w1 = symbols("x w1")
>>> r = Result(verdict="not_equivalent", wrt="w1", candidate="x", gradient="-x",
...            method="symbolic", kink_convention="any", candidate_expr=x,
...            gradient_expr=-x, counterexample=Witness({"x": Fraction(1)}, 1, -1))
>>> src = report_source(r)
>>> r"\dcverdict{not\_equivalent}" in src, "Counterexample" in src
(True, True)
"""
from __future__ import annotations

from pathlib import Path

from sympy import Symbol

from ..core.gradients import adjoint_symbol
from .latex import (MAX_NESTING, WIDTH, align_row, latex, latex_name, latex_value, nesting,
                    tex_width)
from .pdf import write_tex_or_pdf
from .render import render
from .sheet import layer_steps, network_facts
from ..decide.verdict import Verdict

__all__ = ["report_source", "write_report", "VERDICT_WORDS", "METHOD_WORDS"]

#: verdict -> what it means, in words.
VERDICT_WORDS = {
    Verdict.EQUIVALENT: "The formula is the gradient: equal to it at every point, kinks "
                        "included, for every allowed value of Step(0).",
    Verdict.EQUIVALENT_ALMOST_EVERYWHERE: "The formula equals the gradient everywhere except "
                                          "on the kinks, where it takes a different value "
                                          "for some allowed Step(0).",
    Verdict.NOT_EQUIVALENT: "The formula is not the gradient: the two differ on a set of "
                            "positive measure.",
    Verdict.UNKNOWN: "derivcheck could not decide within its limits, and does not guess.",
}

#: method -> how strong the answer is.
METHOD_WORDS = {
    "symbolic": "proved symbolically, region by region of the activations",
    "identity_test": "randomized identity testing of polynomials and rational functions, "
                     "region by region",
    "numeric": "floating-point comparison, used only for transcendental parts",
}


def report_source(result) -> str:
    """The LaTeX source of the report on ``result``.

    >>> from derivcheck.decide.verdict import Result
    >>> src = report_source(Result(verdict="equivalent", wrt="w1", candidate="x",
    ...                            gradient="x", method="symbolic", kink_convention="any"))
    >>> "equal to it at every point, kinks included" in src
    True
    """
    net = result.network
    wrt = _wrt_tex(result)
    candidate = result.candidate_expr
    gradient = result.gradient_expr
    rows = {"yours": _formula(wrt, candidate), "correct": _formula(wrt, gradient)}
    narrow = all(r is not None and tex_width(r) < WIDTH * 0.48 for r in rows.values())
    return render(
        "report.tex", title=f"derivcheck report: the gradient of {result.wrt}",
        result=result, words=VERDICT_WORDS[result.verdict],
        method_words=METHOD_WORDS.get(result.method, ""), wrt=wrt,
        typed=result.source or result.candidate, rows=rows, side_by_side=narrow,
        definitions=_definitions(net, result.definitions),
        facts=network_facts(net, result.kink_convention) if net is not None else [],
        counterexample=_witness(result.counterexample),
        kink_point=_witness(result.kink_point),
        departures=_departures(result))


def write_report(result, path) -> Path:
    """Write the report on ``result`` to ``path`` (``.tex``, or ``.pdf`` via pdflatex).

    >>> import tempfile, pathlib
    >>> from derivcheck.decide.verdict import Result
    >>> r = Result(verdict="unknown", wrt="w1", candidate="x", gradient="x",
    ...            method="numeric", kink_convention="any", reason="too deep")
    >>> with tempfile.TemporaryDirectory() as d:
    ...     "too deep" in write_report(r, pathlib.Path(d) / "r.tex").read_text()
    True
    """
    return write_tex_or_pdf(report_source(result), path)


def _wrt_tex(result) -> str:
    net = result.network
    symbol = net.parameter(result.wrt) if net is not None else Symbol(result.wrt)
    return latex(adjoint_symbol(symbol))


def _formula(wrt: str, expr):
    """An align row ``dC/dw &= expr``; None when the expression is unknown or nests too
    deeply to print (the report then shows its plain text)."""
    if expr is None or nesting(expr) > MAX_NESTING:
        return None
    return align_row(wrt, expr)


def _definitions(net, definitions: dict) -> list:
    """The forward quantities an inline gradient uses, as align rows."""
    if net is None or not definitions:
        return []
    exprs = {str(s): e for s, e in net.graph.definitions.items()}
    return [align_row(latex_name(name), exprs[name]) for name in definitions if name in exprs]


def _witness(witness):
    """A point with both values as table rows of LaTeX, or None."""
    if witness is None:
        return None
    rows = [(rf"${latex_name(name)}$", f"${latex_value(v)}$")
            for name, v in witness.point.items()]
    if witness.step0 is not None:
        rows.append((r"$\operatorname{Step}(0)$", f"${latex_value(witness.step0)}$"))
    values = [("your formula", f"${latex_value(witness.candidate)}$"),
              ("the gradient", f"${latex_value(witness.expected)}$")]
    return {"point": rows, "both": values}


def _departures(result) -> list:
    """For each diagnosis that names a layer: the correct chain-rule steps there."""
    net = result.network
    if net is None:
        return []
    out, seen = [], set()
    for d in result.diagnosis:
        if d.layer is not None and d.layer not in seen and 1 <= d.layer <= net.graph.depth:
            seen.add(d.layer)
            out.append({"layer": d.layer, "kind": d.kind,
                        "rows": layer_steps(net, d.layer, result.kink_convention)})
    return out
