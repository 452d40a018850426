"""How a case's formula is written: numpy-like text (matrix_cases.text) or LaTeX as the
courses typeset it, chosen at random; both spellings of the same tree are true rewrites
of each other.

LaTeX: the style's typeset names (``W^{[1]}``, ``dZ^{[1]}`` for ng; ``W_1``, ``dscores``
for cs231n; ``w^{3}``, ``\\delta^{3}`` for Nielsen; ``W^{(0)}``, ``z^{(1)}`` for the seed),
juxtaposition or ``\\cdot`` for the matrix product, ``\\odot``, ``\\circ`` or ``*`` for the
elementwise one, ``^T``, ``^\\top``, ``^{\\intercal}`` (and ng's ``W^{[2]T}``),
``\\frac{1}{m}`` in front or ``\\frac{...}{m}`` around, ``(Z > 0)`` or
``\\mathbb{1}[Z > 0]`` for a ReLU mask. A formula with a sum over an axis stays numpy-like:
derivcheck reads ``np.sum(..., axis=1, keepdims=True)`` in plain text only (a LaTeX
batch sum ``\\sum_{i=1}^{m} dZ^{[1](i)}`` is not read yet).
"""
from __future__ import annotations

import random
import re

import sympy

import matrix_cases as mc

LATEX_SHARE = 0.4


def candidate(net: mc.Net, key, node, rng: random.Random) -> str:
    """The whole candidate ``name = formula``, numpy-like or LaTeX."""
    return spell(net, key, node, rng)[0]


def spell(net: mc.Net, key, node, rng: random.Random) -> tuple:
    """(candidate text, the tree as it reads): in LaTeX a matrix product is written by
    juxtaposition or ``\\cdot``, which the contract reads as the matrix product where its
    shapes fit and as the elementwise one where only those fit (op "jx")."""
    name = net.grad_name(key)[0]
    has_sum = any(n[0] == "sum" for _, n in mc._paths(node))
    if has_sum or rng.random() >= LATEX_SHARE:
        return f"{name} = {mc.text(net, node, rng)}", node
    return f"{latex_name(net, name)} = {latex(net, node, rng)}", read(net, juxtaposed(node))


def juxtaposed(node):
    """The tree with every matrix product read as a LaTeX juxtaposition (op "jx")."""
    if node[0] in ("sq", "sg"):
        return node
    op = "jx" if node[0] == "mm" else node[0]
    return (op,) + tuple(juxtaposed(a) if isinstance(a, tuple) else a for a in node[1:])


def read(net: mc.Net, node):
    """Each juxtaposition read once and for all, as the contract reads it from the
    shapes' names: the matrix product when its shapes fit, else the elementwise one. The
    shapes are taken at generic sizes (every size name a distinct value unlike any
    numeric width), so a reading that only fits when two sizes happen to be equal is not
    taken (x dz^T written dz^T x is elementwise at every size, n0 = n1 included); where
    neither fits, the matrix product (a shape mismatch)."""
    import numpy as np
    numbers = {d for d in list(net.widths) + [net.batch] if isinstance(d, int)}
    generic = iter(v for v in range(11, 100) if v not in numbers)
    sizes = {s: next(generic) for s in net.size_names}
    w, m = net.dims(sizes)
    dims = {"X": (w[0], m), "Y": (w[-1], m), "P": (w[-1], m)}

    def shape(key):
        if key[0] in dims:
            return dims[key[0]]
        return (w[key[1]], w[key[1] - 1]) if key[0] == "W" else \
            (w[key[1]], 1) if key[0] == "b" else (w[key[1]], m)

    def arr(key):
        a = np.zeros(shape(key))
        v = net.view(key)
        return a.T if v == "T" else a.reshape(-1) if v == "vec" else a

    def walk(n):
        op = n[0]
        if op in ("sq", "sg"):
            return n, arr(n[1])
        if op in ("coef", "rsub"):
            inner, value = walk(n[2])
            return (op, n[1], inner), value
        if op == "sum":
            inner, value = walk(n[1])
            return (op, inner, n[2], n[3]), value.sum(axis=n[2], keepdims=n[3])
        kids = [walk(k) for k in n[1:]]
        trees, values = [k[0] for k in kids], [k[1] for k in kids]
        if op == "jx":     # elementwise only where the matrix product does not fit and it does
            a, b = values
            fits = a.ndim and b.ndim and a.shape[-1] == b.shape[0]
            try:
                np.broadcast_shapes(a.shape, b.shape)
                op = "mm" if fits else "had"
            except ValueError:
                op = "mm"
        out = (op,) + tuple(trees)
        try:
            value = mc.evaluate(out[:1] + tuple(("const", v) for v in values), None, None,
                                {}, exact=False)
        except mc.ShapeError:
            value = values[0]       # does not fit at all: the verifier will say so
        return out, value

    return walk(node)[0]


_NAME = re.compile(r"^(d?)([A-Za-z]+?)(\d+)$")


def latex_name(net: mc.Net, name: str) -> str:
    """The style's typeset spelling of a plain name (``dW1`` -> ``dW^{[1]}``)."""
    if name == "dscores" or name in ("X", "Y", "P", "x", "y", "p"):
        return name
    if name.startswith("delta") and name[5:].isdigit():
        return f"\\delta^{{{name[5:]}}}"
    m = _NAME.match(name)
    if not m:
        return name
    d, stem, layer = m.groups()
    if net.style == "ng":
        return f"{d}{stem}^{{[{layer}]}}"
    if net.style == "cs231n":
        return f"{d}{stem}_{{{layer}}}" if len(layer) > 1 else f"{d}{stem}_{layer}"
    if net.style == "nielsen":
        return f"{d}{stem}^{{{layer}}}"
    return f"{d}{stem}^{{({layer})}}"


def _superscripted(s: str) -> bool:
    return "^" in s


def latex(net: mc.Net, node, rng: random.Random, top: bool = True) -> str:
    """LaTeX for a formula tree (see the module text)."""
    op = node[0]
    sub = lambda n: latex(net, n, rng, False)  # noqa: E731
    if op == "sq":
        return latex_name(net, net.name(node[1]))
    if op == "sg":
        return latex_name(net, net.grad_name(node[1])[0])
    if op == "T":
        inner = node[1]
        mark = rng.choice(["^T", "^T", "^{T}", "^\\top", "^{\\intercal}"])
        if inner[0] in ("sq", "sg"):
            s = sub(inner)
            if not _superscripted(s):
                return s + mark
            if net.style == "ng" and s.endswith("]}") and rng.random() < 0.5:
                return s[:-1] + "T}"                     # W^{[2]T}
            return f"({s}){mark}"
        return f"\\left({latex(net, inner, rng)}\\right){mark}" if rng.random() < 0.3 \
            else f"({latex(net, inner, rng)}){mark}"
    if op == "mm":
        dot = rng.choice([" ", " ", " \\cdot "])
        out = f"{sub(node[1])}{dot}{sub(node[2])}"
    elif op == "had":
        star = rng.choice(["\\odot", "\\odot", "\\circ", "*"])
        out = f"{sub(node[1])} {star} {sub(node[2])}"
    elif op in mc.SHARED:
        return mc.shared(node, sub, top)
    elif op == "pow2":
        inner = sub(node[1])
        if node[1][0] in ("sq", "sg") and not _superscripted(inner):
            return f"{inner}^2"
        return f"({inner})^2" if node[1][0] in ("sq", "sg") else f"{inner}^2"
    elif op == "gt":
        return f"({sub(node[1])} > 0)" if rng.random() < 0.6 \
            else f"\\mathbb{{1}}[{sub(node[1])} > 0]"
    elif op == "where":
        return f"\\mathbb{{1}}[{sub(node[1])} > 0]"
    elif op == "leakyd":
        return f"(\\frac{{1}}{{10}} + \\frac{{9}}{{10}} ({sub(node[1])} > 0))"
    elif op == "coef":
        num, den = sympy.fraction(sympy.factor(node[1]))
        inner = latex(net, node[2], rng)
        if num == -1 and den == 1:
            out = f"-({inner})"
        elif den != 1 and num == 1 and rng.random() < 0.4:
            out = f"\\frac{{{inner}}}{{{_tex(den)}}}"
        elif den == 1:
            out = f"{_tex(num)} ({inner})"
        else:
            sign = "-" if num.could_extract_minus_sign() else ""
            out = f"{sign}\\frac{{{_tex(-num if sign else num)}}}{{{_tex(den)}}} ({inner})"
    else:
        raise ValueError(op)
    return out if top else f"({out})"


def _tex(e) -> str:
    """A factor of sizes as LaTeX: a product of names and numbers by juxtaposition."""
    e = sympy.sympify(e)
    if e.is_Mul:
        return " ".join(_tex(a) for a in sorted(e.args, key=sympy.default_sort_key))
    if e.is_Pow and e.exp.is_Integer and e.exp > 0:
        return f"{_tex(e.base)}^{{{e.exp}}}"
    if e.is_Atom:
        return str(e)
    return f"({sympy.sstr(e)})"
