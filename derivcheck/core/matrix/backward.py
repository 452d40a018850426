"""The backward pass of a :class:`~.network.MatrixNetwork` in matrix form, and how it is
shown.

:func:`backward_pass` builds dJ/dQ of every quantity Q in the canonical layout (examples as
columns), output first; each gradient is a named matrix (``dJ/dZ2``) whose expansion is its
formula, so later layers use the name and every formula stays linear in depth. It is the
reference a candidate is compared with. :func:`gradient_leaf` gives a gradient under a
course's name (``dW1``, ``dZ1`` stacked under ng, ``dscores``); :func:`parameter_gradients`
and :func:`definitions` show the pass in the style's layout (``derivcheck gradient``).

>>> from .network import MatrixNetwork
>>> net = MatrixNetwork(["n0", "n1", 1], ["tanh", "sigmoid"], "bce", batch="m", bias=True)
>>> grads = backward_pass(net)
>>> grads[("W", 2)].expansion.text(), definitions(net, grads[("W", 2)].expansion)["dJ/dZ2"]
('dJ/dZ2 @ A1.T', 'dJ/dA2 * sigmoid_prime(Z2)')
"""
from __future__ import annotations

from functools import partial

import sympy

from ...errors import SpecError
from . import expr as mx
from .expr import Leaf, MExpr, Scalar
from .layout import pushed
from .shapes import a_shape

__all__ = ["backward_pass", "gradient_leaf", "parameter_gradients", "definitions",
           "definition_exprs"]


def _named(net, key, expr: MExpr) -> Leaf:
    """dJ/dQ as a named canonical matrix whose expansion is ``expr``: later layers use
    the name, so every formula (and its entries at an instance) stays linear in depth."""
    label = f"d{net.style.loss}/d{net.name(key)}"
    if net.view(key) == "T":
        label = f"({label}).T"
    return Leaf(label, net.canonical_shape(key), key=("grad", key, "", sympy.S.One),
                description=f"{label} -> the gradient, examples as columns",
                expansion=expr)


def backward_pass(net, elementwise_softmax: bool = False) -> dict:
    """dJ/dQ (canonical layout) for every quantity of ``net``, from the output back
    (``elementwise_softmax``: softmax's derivative taken elementwise, P (1 - P), the
    mistake ``softmax_jacobian`` names)."""
    named = (lambda key, e: e) if elementwise_softmax else partial(_named, net)
    conv = net.convention
    m = net.batch
    r = Scalar(sympy.S.One if net.reduce == "sum" or m == 1 else
               1 / (sympy.Symbol(m) if isinstance(m, str) else sympy.Integer(m)))
    L = net.L
    A = {l: net.canon(("A", l)) for l in range(1, L + 1)}
    A[0] = net.canon(("X",))
    Z = {l: net.canon(("Z", l)) for l in range(1, L + 1)}
    Y = net.canon(("Y",))
    grads: dict = {}

    def act_prime(l):
        act = net.activation(l)
        if isinstance(act, str):
            raise SpecError("softmax is read as the last layer's activation only")
        label = f"{act.name}_prime"
        return mx.apply(label, lambda xs, act=act: conv.derivative(act.apply(xs[0]), 1)
                        if act.apply(xs[0]) != xs[0] else sympy.S.One, [Z[l]])

    yhat = A[L]
    one = Scalar(sympy.S.One)
    if net.loss == "cross_entropy":
        P = yhat if net.softmax_output else net.canon(("P",))
        diff = mx.mul(r, mx.sub(P, Y))
        if net.softmax_output and elementwise_softmax:
            # dJ/dP = -r Y / P, times P (1 - P): -r Y (1 - P)
            grads[("Z", L)] = mx.neg(mx.mul(r, mx.mul(Y, mx.sub(one, P))))
        elif net.softmax_output:
            grads[("Z", L)] = diff
        if net.softmax_output:
            grads[("A", L)] = named(("A", L), mx.neg(mx.mul(r, mx.div(Y, P))))
        else:
            grads[("A", L)] = diff
            grads[("Z", L)] = mx.mul(diff, act_prime(L))
    else:
        diff = mx.sub(yhat, Y)
        n_out = net.widths[-1]
        coef = {"half_squared": r.value, "squared": 2 * r.value,
                "mse": 2 * r.value / (sympy.Symbol(n_out) if isinstance(n_out, str)
                                      else sympy.Integer(n_out))}.get(net.loss, r.value)
        if net.loss == "bce":
            g = mx.mul(Scalar(coef), mx.div(diff, mx.mul(yhat, mx.sub(Scalar(sympy.S.One),
                                                                      yhat))))
        else:
            g = mx.mul(Scalar(coef), diff)
        g = grads[("A", L)] = named(("A", L), g)
        if net.softmax_output and elementwise_softmax:
            grads[("Z", L)] = mx.mul(g, mx.mul(yhat, mx.sub(one, yhat)))
        elif net.softmax_output:
            inner = mx.total(mx.mul(yhat, g), axis=0, keepdims=True)
            grads[("Z", L)] = mx.mul(yhat, mx.sub(g, inner))
        else:
            grads[("Z", L)] = mx.mul(g, act_prime(L))
    for l in range(L, 0, -1):
        dz = grads[("Z", l)] = named(("Z", l), grads[("Z", l)])
        grads[("W", l)] = named(("W", l), mx.matmul(dz, mx.transpose(A[l - 1])))
        if net.has_bias(l):
            grads[("b", l)] = named(("b", l), mx.total(dz, axis=1, keepdims=True))
        da = mx.matmul(mx.transpose(net.canon(("W", l))), dz)
        if l > 1:
            da = grads[("A", l - 1)] = named(("A", l - 1), da)
            grads[("Z", l - 1)] = mx.mul(da, act_prime(l - 1))
        else:
            grads[("X",)] = named(("X",), da)
    return grads


def gradient_leaf(net, key, name: str, stacked: bool = False) -> Leaf:
    """A gradient name (``dW1``, ``dZ1``, ``dscores``) as a leaf in the style's layout;
    ``stacked``: the per-example gradients stacked (m dJ/dQ under a mean)."""
    shape = net.styled_shape(key)
    m = net.batch
    scale = sympy.S.One
    if stacked and net.reduce == "mean" and m != 1:
        scale = sympy.Symbol(m) if isinstance(m, str) else sympy.Integer(m)
    loss = net.style.loss
    meaning = f"d{loss}/d{net.name(key)}"
    if scale != 1:
        meaning = f"{scale} * {meaning}, the per-example gradients stacked"
    return Leaf(name, shape, key=("grad", key, net.view(key), scale),
                description=f"{name} -> {meaning}, {a_shape(shape)}",
                expansion=net.gradient(key))


def parameter_gradients(net) -> dict:
    """Every parameter's gradient dJ/dP as a matrix expression in the style's layout
    and names (what ``derivcheck gradient`` prints)."""
    out = {}
    for key in net.keys:
        if key[0] in ("W", "b"):
            g = net.gradient(key).expansion
            view = net.view(key)
            if view == "T":
                g = pushed(mx.transpose(g))
            elif view == "vec" and isinstance(g, mx.Sum):
                g = mx.Sum(pushed(mx.transpose(g.arg)), 0, False)
            out[net.name(key)] = g
    return out


def definitions(net, expr: MExpr) -> dict:
    """The named gradients ``expr`` uses, each with its backward formula as text, inputs
    first, in the style's layout: {"dJ/dZ2": "...", "dJ/dZ1": "dJ/dA1 * tanh_prime(Z1)"}."""
    return {name: e.text() for name, e in definition_exprs(expr).items()}


def definition_exprs(expr: MExpr) -> dict:
    """The named gradients ``expr`` uses, name -> backward formula (an expression in the
    style's layout), inputs first; what :func:`definitions` prints and sheets typeset."""
    out: dict = {}

    def visit(node, seen):
        for sub in node.walk():
            if isinstance(sub, Leaf) and sub.expansion is not None and id(sub) not in seen:
                seen.add(id(sub))
                visit(sub.expansion, seen)
                if sub.key[2] == "" and sub.name not in out:
                    if sub.name.startswith("(") and sub.name.endswith(").T"):
                        out[sub.name[1:-3]] = pushed(mx.transpose(sub.expansion))
                    else:
                        out[sub.name] = pushed(sub.expansion)
            elif isinstance(sub, Leaf) and sub.key and sub.key[0] == "entry":
                visit(sub.key[1], seen)

    visit(expr, set())
    return out

