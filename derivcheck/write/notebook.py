r"""Results in Jupyter: HTML with both formulas as LaTeX (``$...$`` for MathJax), the
counterexample table and the diagnosis; a one-line LaTeX form for LaTeX front ends.

>>> from derivcheck import chain, check
>>> r = check(chain(["w1"], "relu"), "(y - relu(w1*x))*x", wrt="w1", assume=["x > 0"])
>>> html = result_html(r)
>>> "not equivalent" in html and "sign_flip" in html and "<table" in html
True
>>> print(result_latex(r))
$\frac{\partial C}{\partial w_{1}} \ne x \, (y - \operatorname{ReLU}(w_{1} x)) \quad \text{(not equivalent)}$
"""
from __future__ import annotations

from html import escape

from ..core.gradients import adjoint_symbol
from ..core.printing import format_value
from .latex import latex, latex_name, nesting

__all__ = ["result_html", "result_latex"]

#: Formulas nested deeper than this are shown as plain text (MathJax slows to a crawl).
MAX_NESTING = 40

_WORDS = {"equivalent": "equivalent", "equivalent_almost_everywhere":
          "equivalent almost everywhere", "not_equivalent": "not equivalent",
          "unknown": "unknown"}
_RELATION = {"equivalent": "=", "equivalent_almost_everywhere": r"\overset{\text{a.e.}}{=}",
             "not_equivalent": r"\ne", "unknown": r"\overset{?}{=}"}
_COLOURS = {"equivalent": "#1a7f37", "equivalent_almost_everywhere": "#1a7f37",
            "not_equivalent": "#cf222e", "unknown": "#9a6700"}


def _wrt(result) -> str:
    return latex(adjoint_symbol(result.wrt or "w"))


def _math(expr, text: str) -> str:
    """``$latex$`` of ``expr``, HTML-escaped; the plain ``text`` in <code> when there is
    no expression or it nests too deeply to render."""
    if expr is None or nesting(expr) > MAX_NESTING:
        return f"<code>{escape(text or '')}</code>"
    return escape(f"${latex(expr)}$")


def _witness(witness, title: str) -> str:
    rows = [("point", ", ".join(f"${latex_name(k)} = {format_value(v)}$"
                                for k, v in witness.point.items())),
            ("candidate", escape(format_value(witness.candidate))),
            ("true value", escape(format_value(witness.expected)))]
    if witness.step0 is not None:
        rows.append(("with Step(0) =", escape(format_value(witness.step0))))
    body = "".join(f"<tr><th style='text-align:left'>{k}</th><td>{v}</td></tr>"
                   for k, v in rows)
    return f"<p>{escape(title)}</p><table>{body}</table>"


def result_html(result) -> str:
    """The HTML Jupyter shows for a :class:`~derivcheck.decide.verdict.Result`."""
    verdict = result.verdict
    parts = [f"<div class='derivcheck-result'><p><strong style='color:{_COLOURS[verdict]}'>"
             f"{_WORDS[verdict]}</strong> (${escape(_wrt(result))}$)</p>"]
    if result.reason:
        parts.append(f"<p>why: {escape(result.reason)}</p>")
    formulas = [("your formula", _math(result.candidate_expr, result.candidate)),
                ("the gradient", _math(result.gradient_expr, result.gradient))]
    parts.append("<table>" + "".join(f"<tr><th style='text-align:left'>{k}</th><td>{v}</td>"
                                     "</tr>" for k, v in formulas) + "</table>")
    if result.definitions:
        parts.append("<p>where " + ", ".join(f"<code>{escape(k)} = {escape(v)}</code>"
                                             for k, v in result.definitions.items()) + "</p>")
    if result.counterexample:
        parts.append(_witness(result.counterexample, "counterexample (exact, off the kinks)"))
    if result.kink_point:
        parts.append(_witness(result.kink_point, "kink point where they differ"))
    if result.diagnosis:
        parts.append("<p>diagnosis:</p><ul>" + "".join(
            f"<li><strong>{escape(d.kind)}</strong>"
            + (f" (layer {d.layer})" if d.layer is not None else "")
            + f": {escape(d.message)}</li>" for d in result.diagnosis) + "</ul>")
    for w in result.warnings:
        parts.append(f"<p>warning: {escape(w)}</p>")
    parts.append(f"<p><small>decided by {escape(result.method or '')}, kink convention "
                 f"{escape(result.kink_convention)}</small></p></div>")
    return "".join(parts)


def result_latex(result) -> str:
    """``$dC/dw \\ne candidate$`` with the verdict in words: the candidate related to the
    gradient by =, = almost everywhere, \\ne or =?."""
    expr = result.candidate_expr
    shown = (latex(expr) if expr is not None and nesting(expr) <= MAX_NESTING
             else r"\text{(the formula)}")
    return (f"${_wrt(result)} {_RELATION[result.verdict]} {shown} \\quad "
            f"\\text{{({_WORDS[result.verdict]})}}$")
