r"""LaTeX of a matrix check for the web page (KaTeX sets it): the formula as read, the
correct gradient, the named gradients it uses, and the counterexample's matrices, in the
style's notation (``dW^{[1]}``, ``W_{1}``, ``w^{3}``).

The page receives these beside the check JSON (``POST /api/check?render=1``, key
``tex``); the JSON itself is unchanged. Exact values stay exact (fractions); values that
are not exact (a tanh) are shown to 6 significant digits, the JSON keeps them all.

>>> from derivcheck.core.matrix.network import MatrixNetwork
>>> from derivcheck.decide.check import check
>>> net = MatrixNetwork([3, 4, 1], "tanh,sigmoid", "bce", batch="m", style="ng")
>>> tex = matrix_tex(check(net, r"dW^{[1]} = dZ^{[1]} X^T"))
>>> tex["wrt"], tex["candidate"], tex["gradient"]
('dW^{[1]}', 'dZ^{[1]} X^{\\top}', '\\frac{\\partial J}{\\partial Z^{[1]}} X^{\\top}')
>>> witness = tex["counterexample"]
>>> witness["sizes"], witness["entry"], witness["candidate"], witness["expected"]
([['m', '2']], 'dW1[1,1]', '\\frac{1}{4}', '\\frac{1}{8}')
>>> witness["matrices"][0]
['X', 'X', '\\begin{bmatrix}0 & 1 \\\\ 0 & 0 \\\\ 0 & 0\\end{bmatrix}']
"""
from __future__ import annotations

from fractions import Fraction

import sympy

from ..core.matrix import expr as mx
from ..core.matrix.backward import definition_exprs
from ..core.matrix.layout import pushed
from .latex import latex_value
from .matrix_latex import mlatex, name_tex, shape_tex

__all__ = ["matrix_tex", "correct_tex", "left_side_tex", "definitions_tex", "column_read_tex"]

#: Significant digits of a value that is not exact.
DIGITS = 6


def correct_tex(result) -> str | None:
    """The correct gradient's LaTeX in the style's notation (its own top-level formula,
    not the name it stands for), or None when the check has none."""
    ref = result.gradient_expr
    if not isinstance(ref, mx.Leaf) or ref.expansion is None:
        return None
    style = result.network.style
    inner = ref.expansion
    top = inner.expansion if isinstance(inner, mx.Leaf) and inner.expansion is not None \
        else inner
    shown = pushed(mx.transpose(top) if ref.key[2] == "T" else top)
    scale = ref.key[3] if len(ref.key) > 3 else 1
    tex = mlatex(shown, style, 2 if scale != 1 else 0)
    return f"{name_tex(str(scale), style)} {tex}" if scale != 1 else tex


def left_side_tex(net, wrt: str | None) -> str:
    r"""The left side the formula is the value of: a gradient's own name (``dW^{[1]}``,
    ``\delta^{2}``), else the derivative of the loss by the quantity named.

    >>> from derivcheck.core.matrix.network import MatrixNetwork
    >>> net = MatrixNetwork([3, 4, 1], "tanh,sigmoid", "bce", batch="m", style="ng")
    >>> left_side_tex(net, "dW1"), left_side_tex(net, "W1")
    ('dW^{[1]}', '\\frac{\\partial J}{\\partial W^{[1]}}')
    """
    if not wrt or wrt == "?":
        return ""
    return name_tex(net.derivative_name(wrt), net.style)


def column_read_tex(cand, reference, style, lhs: str, read: str | None):
    r"""(left side, right side) of a formula as read: a per-example equation is shown as
    the course writes it, one column (``dz^{[1](i)} = \ldots``); others as ``lhs = read``.

    >>> from derivcheck.core.matrix.network import MatrixNetwork
    >>> from derivcheck.decide.check import check
    >>> r = check(MatrixNetwork([3, 4, 1], "tanh,sigmoid", "bce", batch="m", style="ng"),
    ...           r"dz^{[2](i)} = a^{[2](i)} - y^{(i)}")
    >>> column_read_tex(r.candidate_expr, r.gradient_expr, "ng", "dZ^{[2]}", "")
    ('dz^{[2](i)}', 'a^{[2](i)} - y^{(i)}')
    """
    from ..core.matrix.slices import Slice, Stacked
    if not isinstance(cand, Stacked) or cand.shape is None or not isinstance(
            reference, mx.Leaf) or len(reference.shape or ()) != 2:
        return lhs, read
    return (mlatex(Slice(reference, cand.letter, cand.axis), style),
            mlatex(cand.body, style))


def definitions_tex(result) -> dict:
    """{LaTeX of a named gradient: LaTeX of its formula} for the check's definitions."""
    ref = result.gradient_expr
    style = result.network.style
    if ref is None:
        return {}
    found = definition_exprs(ref)
    return {name_tex(k, style): (mlatex(found[k], style) if k in found else None)
            for k in result.definitions}


def _number(v) -> str:
    r"""An exact value as a fraction, another in :data:`DIGITS` digits, powers of ten as
    such.

    >>> from fractions import Fraction
    >>> import mpmath
    >>> _number(Fraction(-1, 3)), _number(mpmath.mpf("2.058761e-5"))
    ('- \\frac{1}{3}', '2.05876 \\cdot 10^{-5}')
    """
    text = latex_value(v, DIGITS)
    mantissa, e, power = text.partition("e")
    return rf"{mantissa} \cdot 10^{{{int(power)}}}" if e and power.lstrip("+-").isdigit() \
        else text


def _exact(x) -> bool:
    return isinstance(x, (int, Fraction, sympy.Rational))


def _value(v) -> str | None:
    r"""A value as LaTeX: a number, or a matrix as a bmatrix, after ``\approx`` when it
    is not exact; None for a sentence (a shape that does not fit), which the page shows
    as text."""
    if isinstance(v, str):
        return None
    import numpy as np
    arr = np.asarray(v, dtype=object)
    about = "" if all(_exact(x) for x in arr.flat) else r"\approx "
    if arr.ndim == 0:
        return about + _number(arr.item())
    rows = np.atleast_2d(arr)
    return about + _bmatrix([[_number(x) for x in row] for row in rows])


def _bmatrix(rows) -> str:
    r"""A matrix of LaTeX entries, fractions at full size (a matrix sets them small)
    with room between the rows.

    >>> _bmatrix([[r"\frac{1}{2}", "0"], ["1", "1"]])
    '\\begin{bmatrix}\\dfrac{1}{2} & 0 \\\\[6pt] 1 & 1\\end{bmatrix}'
    """
    cells = [[x.replace(r"\frac{", r"\dfrac{") for x in row] for row in rows]
    gap = r" \\[6pt] " if any(r"\dfrac" in x for row in cells for x in row) else r" \\ "
    body = gap.join(" & ".join(row) for row in cells)
    return rf"\begin{{bmatrix}}{body}\end{{bmatrix}}"


def _witness(w, style) -> dict | None:
    """Sizes, matrices (name, its LaTeX, the bmatrix), entry and both values."""
    if w is None:
        return None
    matrices = getattr(w, "matrices", None) or {}
    return {"sizes": [[shape_tex((k,)), str(v)] for k, v in getattr(w, "sizes", {}).items()],
            "matrices": [[name, name_tex(name, style),
                          _bmatrix([[latex_value(x) for x in row] for row in rows])]
                         for name, rows in matrices.items()],
            "entry": getattr(w, "entry", "") or "",
            "candidate": _value(w.candidate), "expected": _value(w.expected),
            "step0": None if w.step0 is None else latex_value(w.step0)}


def matrix_tex(result) -> dict:
    """The page's LaTeX of a matrix check: ``wrt``, ``lhs`` (the left side its formulas
    are the value of), ``candidate`` (as read),
    ``gradient``, ``definitions``, ``counterexample`` and ``kink_point``."""
    net = result.network
    style = net.style
    cand = result.candidate_expr
    read = mlatex(cand, style) if isinstance(cand, mx.MExpr) else None
    return {"wrt": name_tex(result.wrt, style) if result.wrt != "?" else None,
            "lhs": left_side_tex(net, result.wrt),
            "candidate": read, "gradient": correct_tex(result),
            "definitions": definitions_tex(result),
            "counterexample": _witness(result.counterexample, style),
            "kink_point": _witness(result.kink_point, style)}
