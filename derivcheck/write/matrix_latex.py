r"""Matrix expressions as LaTeX in a style's notation (CONTRACT section 5).

Names are written as each community writes them: deeplearning.ai's ``W^{[1]}``, cs231n's
``W_1``, Nielsen's ``w^{2}`` and the seed's ``W^{(0)}``; ``dJ/dZ2`` becomes a partial
derivative; ``@`` is juxtaposition, ``*`` between matrices is ``\odot``, ``.T`` is
``^{\top}``, a comparison is an Iverson bracket, a derivative ``g'(Z)``.

>>> from derivcheck.core.matrix.network import MatrixNetwork
>>> net = MatrixNetwork(["n0", "n1", 1], "tanh,sigmoid", "bce", batch="m")
>>> print(mlatex(net.gradients()["W1"], net.style))
\frac{\partial J}{\partial Z^{[1]}} X^{\top}
>>> print(name_tex("dC/da2", "nielsen"), name_tex("W0", "seed"), name_tex("W1", "cs231n"))
\frac{\partial C}{\partial a^{2}} W^{(0)} W_{1}
"""
from __future__ import annotations

import re

import sympy

from ..core.matrix import expr as mx

__all__ = ["mlatex", "name_tex", "shape_tex"]

_LAYER = {"ng": "^{{[{l}]}}", "nielsen": "^{{{l}}}", "seed": "^{{({l})}}", "cs231n": "_{{{l}}}"}
_FUNCS = {"sigmoid": r"\sigma", "tanh": r"\tanh", "relu": r"\operatorname{ReLU}",
          "identity": r"\operatorname{id}", "softmax": r"\operatorname{softmax}",
          "exp": r"\exp", "log": r"\log", "abs": r"\operatorname{abs}"}
_SPECIAL = {"Yhat": r"\hat{Y}", "yhat": r"\hat{y}", "aL": "a^{L}", "zL": "z^{L}",
            "AL": "A^{[L]}", "ZL": "Z^{[L]}", "scores": r"\mathit{scores}",
            "dscores": r"\mathit{dscores}", "dhidden": r"\mathit{dhidden}",
            "hidden": r"\mathit{hidden}"}


def name_tex(name: str, style: str) -> str:
    """A quantity or gradient name in the style's notation."""
    style = getattr(style, "name", style)
    if name.startswith("(") and name.endswith(").T"):
        return rf"\left({name_tex(name[1:-3], style)}\right)^{{\top}}"
    grad = re.fullmatch(r"d([A-Za-z])/d(.+)", name)
    if grad:
        return rf"\frac{{\partial {grad[1]}}}{{\partial {name_tex(grad[2], style)}}}"
    if name in _SPECIAL:
        return _SPECIAL[name]
    delta = re.fullmatch(r"delta(\d+|L)", name)
    if delta:
        return rf"\delta^{{{delta[1]}}}"
    m = re.fullmatch(r"(d?)([A-Za-z]+?)(\d+)", name)
    if m:
        return m[1] + m[2] + _LAYER.get(style, "_{{{l}}}").format(l=m[3])
    m = re.fullmatch(r"([A-Za-z]+)_(\w+)", name)
    if m:
        return rf"{m[1]}_{{{m[2]}}}"
    return name if len(name) == 1 else rf"\mathit{{{name}}}"


def shape_tex(shape) -> str:
    r"""``(n1, m)`` as ``n_{1} \times m``; a vector as its length; () as a scalar.

    >>> shape_tex(("n1", "m")), shape_tex((3,)), shape_tex(())
    ('n_{1} \\times m', '3', '1 \\times 1')
    """
    if not shape:
        return r"1 \times 1"
    return r" \times ".join(_size(d) for d in shape)


def _size(d) -> str:
    r"""A size: ``n1`` as ``n_{1}``, ``H_`` as ``H\_`` (a size name may hold ``_``).

    >>> _size("n1"), _size("H_"), _size(3)
    ('n_{1}', 'H\\_', '3')
    """
    m = re.fullmatch(r"([A-Za-z]+)(\d+)", str(d))
    return rf"{m[1]}_{{{m[2]}}}" if m else str(d).replace("_", r"\_")


def mlatex(e, style, prec: int = 0) -> str:
    """LaTeX of a matrix expression; ``prec`` the binding strength around it."""
    style = getattr(style, "name", style)
    out, own = _tex(e, style)
    return rf"\left({out}\right)" if own < prec else out


def _transposed(tex: str) -> str:
    r"""``tex`` with ``^{\top}``: inside a trailing layer superscript (``A^{[1]\top}``,
    ``W^{(0)\top}``), else around a group (Nielsen's ``(w^{3})^{\top}``, a fraction).

    >>> _transposed("A^{[1]}"), _transposed("X"), _transposed("w^{3}")
    ('A^{[1]\\top}', 'X^{\\top}', '\\left(w^{3}\\right)^{\\top}')
    """
    head, sep, last = tex.rpartition("^{")
    if sep and tex.endswith("}") and "}" not in last[:-1] and last[:1] in "[(":
        return tex[:-1] + r"\top}"
    if tex.startswith("\\frac") or sep:     # Nielsen's w^{3} is layer 3, not a power
        return rf"\left({tex}\right)^{{\top}}"
    return rf"{{{tex}}}^{{\top}}" if not tex.isalnum() else rf"{tex}^{{\top}}"


def _tex(e, style):
    """(LaTeX, precedence): 1 sum, 2 product, 3 unary minus, 4 power, 5 atom."""
    sub = lambda x, p: mlatex(x, style, p)  # noqa: E731
    if isinstance(e, mx.Leaf):
        return name_tex(e.name, style), 5
    if isinstance(e, mx.Scalar):
        v = e.value
        return sympy.latex(v), (5 if v.is_Atom else 2)
    if isinstance(e, mx.Transpose):
        inner = e.arg
        if isinstance(inner, mx.Leaf) and inner.name.startswith("(") and \
                inner.name.endswith(").T"):      # (dL/dZ2).T transposed: the style's own
            return name_tex(inner.name[1:-3], style), 5
        return _transposed(sub(inner, 5)), 5
    if isinstance(e, mx.MatMul):
        return rf"{sub(e.left, 2)} {sub(e.right, 3)}", 2
    if isinstance(e, mx.Sum):
        where = {None: "", 0: r"_{\text{rows}}", 1: r"_{\text{columns}}"}[e.axis]
        return rf"\sum{where} {sub(e.arg, 3)}", 2
    if isinstance(e, mx.Reshape):
        return _tex(e.arg, style)
    if isinstance(e, mx.Elementwise):
        a = e.args
        if e.op in ("+", "-"):
            return rf"{sub(a[0], 1)} {e.op} {sub(a[1], 2)}", 1
        if e.op == "*":
            scalar = any(isinstance(x, mx.Scalar) or not x.shape for x in a)
            op = " " if scalar else r" \odot "
            return f"{sub(a[0], 2)}{op}{sub(a[1], 3)}", 2
        if e.op == "/":
            return rf"\frac{{{sub(a[0], 0)}}}{{{sub(a[1], 0)}}}", 5
        if e.op == "neg":
            return f"-{sub(a[0], 3)}", 3
        if e.op == "**":
            base = sub(a[0], 5)
            if "^" in base:                     # A^{[1]} squared: (A^{[1]})^{2}
                base = rf"\left({base}\right)"
            return rf"{base}^{{{sub(a[1], 0)}}}", 4
        if e.op in (">", ">=", "<", "<="):
            op = {">": ">", ">=": r"\geq", "<": "<", "<=": r"\leq"}[e.op]
            return rf"\left[{sub(a[0], 0)} {op} {sub(a[1], 0)}\right]", 5
        label = e.label
        prime = label.endswith("_prime")
        base = label[:-6] if prime else label
        base = base[3:] if base.startswith("np.") else base
        f = _FUNCS.get(base, rf"\operatorname{{{base}}}")
        args = ", ".join(sub(x, 0) for x in a)
        return rf"{f}{chr(39) if prime else ''}\left({args}\right)", 5
    return _index_tex(e, style)


def _index_tex(e, style):
    r"""Index notation: an entry ``w^{3}_{kj}``, a sum ``\sum_{k}``, and the matrix of
    entries over its free indices ``\left[\ldots\right]_{jk}``.

    >>> from derivcheck.core.matrix.indexed import Entry, IndexForm, IndexSum
    >>> w = mx.Leaf("w3", ("n3", "n2")); d = mx.Leaf("dC/dz3", ("n3", 1))
    >>> body = IndexSum("k", "n3", mx.mul(Entry(w, ("k", "j")), Entry(d, ("k", None))))
    >>> print(mlatex(IndexForm(body, ("j", None), ("n2", 1)), "nielsen"))
    \left[\sum_{k} w^{3}_{kj} \frac{\partial C}{\partial z^{3}_{k}}\right]_{j}
    """
    from ..core.matrix.indexed import Entry, IndexForm, IndexSum
    from ..core.matrix.slices import Slice, Stacked
    if isinstance(e, Slice):
        return _slice_tex(e, style), 5
    if isinstance(e, Stacked):
        where = f":,{e.letter}" if e.axis == 1 else f"{e.letter},:"
        return rf"\left[{mlatex(e.body, style, 0)}\right]_{{{where}}}", 5
    if isinstance(e, Entry):
        where = "".join(str(i) for i in e.indices if i is not None)
        grad = re.fullmatch(r"d([A-Za-z])/d(.+)", e.matrix.name)
        if grad:
            inner = _subscripted(name_tex(grad[2], style), where)
            return rf"\frac{{\partial {grad[1]}}}{{\partial {inner}}}", 5
        return _subscripted(name_tex(e.matrix.name, style), where), 5
    if isinstance(e, IndexSum):
        return rf"\sum_{{{e.letter}}} {mlatex(e.body, style, 2)}", 2
    if isinstance(e, IndexForm):
        free = "".join(a for a in e.axes if a is not None)
        return rf"\left[{mlatex(e.body, style, 0)}\right]_{{{free}}}", 5
    return str(e), 5


def _slice_tex(e, style) -> str:
    r"""One example's column as deeplearning.ai writes it (``dz^{[1](i)}``, ``x^{(i)}``,
    lowercase: one example's vector); other columns and rows as ``M_{:,k}``.

    >>> from derivcheck.core.matrix.slices import Slice
    >>> dZ = mx.Leaf("dZ1", ("n1", "m"), key=("grad", ("Z", 1), "", 1))
    >>> X = mx.Leaf("X", ("n0", "m"), key=(("X",), ""))
    >>> _slice_tex(Slice(dZ, "i", 1), "ng"), _slice_tex(Slice(X, 2, 1), "ng")
    ('dz^{[1](i)}', 'x^{(2)}')
    >>> _slice_tex(Slice(X, "i", 0), "cs231n")
    'X_{i,:}'
    """
    from ..core.matrix.slices import example_axis
    tex = name_tex(e.matrix.name, style)
    if style == "ng" and e.axis == 1 and example_axis(e.matrix) == 1:
        tex = re.sub(r"^(d?(?:\\hat\{)?)([A-Z])", lambda m: m[1] + m[2].lower(), tex)
        if tex.endswith("]}"):
            return f"{tex[:-1]}({e.index})}}"
        return f"{tex}^{{({e.index})}}"
    where = f":,{e.index}" if e.axis == 1 else f"{e.index},:"
    return _subscripted(tex, where)


def _subscripted(tex: str, where: str) -> str:
    """``tex`` with the subscript ``where`` (grouped when it has one already)."""
    if not where:
        return tex
    return rf"{{{tex}}}_{{{where}}}" if "_" in tex else rf"{tex}_{{{where}}}"
